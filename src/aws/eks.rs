//! EKS: the clusters of a region, one cluster's endpoint, issuer and version, and the
//! node roles of its managed node groups.

use super::{CONCURRENCY, bounded, found, sdk_error};
use crate::checks::eks::{ClusterSearch, EksCluster};
use crate::facts::Fetched;
use aws_config::SdkConfig;
use aws_sdk_eks::Client;

/// A managed node group and the IAM role its nodes run as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroup {
    pub name: String,
    /// `nodeRole`: the node role ARN.
    pub node_role: Option<String>,
}

/// ListClusters, every page.
pub async fn list_clusters(client: &Client) -> Fetched<Vec<String>> {
    crate::log::call("eks:ListClusters");
    let mut pages = client.list_clusters().into_paginator().items().send();
    let mut names = Vec::new();
    while let Some(name) = pages.next().await {
        names.push(name.map_err(|e| sdk_error("eks:ListClusters", e))?);
    }
    Ok(names)
}

/// DescribeCluster; `Ok(None)` when the cluster does not exist.
pub async fn describe_cluster(client: &Client, name: &str) -> Fetched<Option<EksCluster>> {
    crate::log::call(format!("eks:DescribeCluster cluster={name}"));
    let answer = client
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| sdk_error(format!("eks:DescribeCluster (cluster {name})"), e));
    found(answer).map(|answer| {
        answer.map(|out| {
            let cluster = out.cluster;
            EksCluster {
                name: cluster
                    .as_ref()
                    .and_then(|c| c.name())
                    .unwrap_or(name)
                    .to_string(),
                arn: cluster.as_ref().and_then(|c| c.arn()).map(str::to_string),
                endpoint: cluster
                    .as_ref()
                    .and_then(|c| c.endpoint())
                    .map(str::to_string),
                issuer: cluster
                    .as_ref()
                    .and_then(|c| c.identity())
                    .and_then(|i| i.oidc())
                    .and_then(|o| o.issuer())
                    .filter(|i| !i.trim().is_empty())
                    .map(str::to_string),
                version: cluster
                    .as_ref()
                    .and_then(|c| c.version())
                    .map(str::to_string),
            }
        })
    })
}

/// Find the cluster: by name when one is given, else list the region's clusters and
/// describe them (concurrently) until one's endpoint is `server_url`.
pub async fn find_cluster(
    config: &SdkConfig,
    name: Option<&str>,
    server_url: &str,
) -> ClusterSearch {
    let client = Client::new(config);
    if let Some(name) = name {
        return ClusterSearch::Named {
            name: name.to_string(),
            described: describe_cluster(&client, name).await,
        };
    }
    let listed = list_clusters(&client).await;
    let described = match &listed {
        Ok(names) => {
            let wanted = crate::checks::eks::normalize_endpoint(server_url);
            let answers = bounded(names.clone(), CONCURRENCY, |name| {
                let client = client.clone();
                async move {
                    let described = describe_cluster(&client, &name).await;
                    (name, described)
                }
            })
            .await;
            // Keep every answer up to the match: they explain a failed match.
            let mut kept = Vec::new();
            for (name, described) in answers {
                let matched = matches!(&described, Ok(Some(c))
                    if wanted.is_some()
                        && c.endpoint.as_deref().and_then(crate::checks::eks::normalize_endpoint) == wanted);
                kept.push((name, described));
                if matched {
                    break;
                }
            }
            kept
        }
        Err(_) => Vec::new(),
    };
    ClusterSearch::Listed { listed, described }
}

/// The managed node groups of a cluster and their node roles.
pub async fn node_groups(config: &SdkConfig, cluster: &str) -> Fetched<Vec<Fetched<NodeGroup>>> {
    let client = Client::new(config);
    crate::log::call(format!("eks:ListNodegroups cluster={cluster}"));
    let mut pages = client
        .list_nodegroups()
        .cluster_name(cluster)
        .into_paginator()
        .items()
        .send();
    let mut names = Vec::new();
    while let Some(name) = pages.next().await {
        names.push(
            name.map_err(|e| sdk_error(format!("eks:ListNodegroups (cluster {cluster})"), e))?,
        );
    }
    let cluster = cluster.to_string();
    Ok(bounded(names, CONCURRENCY, |name| {
        let client = client.clone();
        let cluster = cluster.clone();
        async move {
            crate::log::call(format!(
                "eks:DescribeNodegroup cluster={cluster} nodegroup={name}"
            ));
            let out = client
                .describe_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .send()
                .await
                .map_err(|e| sdk_error(format!("eks:DescribeNodegroup (node group {name})"), e))?;
            Ok(NodeGroup {
                node_role: out
                    .nodegroup()
                    .and_then(|n| n.node_role())
                    .map(str::to_string),
                name,
            })
        }
    })
    .await)
}
