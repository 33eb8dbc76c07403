//! RDS: the Aurora cluster behind an endpoint host. Writer and reader endpoints name
//! the cluster; a custom endpoint, a DB instance or an RDS Proxy is looked up first to
//! find its cluster.

use super::{found, in_region, sdk_error};
use crate::checks::aurora::{AuroraEndpoint, DbClusterFacts, DbClusterLookup, EndpointKind};
use crate::facts::Fetched;
use aws_config::SdkConfig;
use aws_sdk_rds::Client;

/// An RDS Proxy in front of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyFacts {
    pub name: String,
    pub arn: Option<String>,
    /// Whether clients may (or must) authenticate to the proxy with IAM.
    pub iam_auth: bool,
    /// How the proxy's auth settings read, for the findings (`IAMAuth REQUIRED`, …).
    pub auth_text: String,
}

/// The Aurora cluster behind one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuroraLookup {
    pub endpoint: AuroraEndpoint,
    pub lookup: DbClusterLookup,
    /// The cluster's ARN (its partition and account).
    pub cluster_arn: Option<String>,
    /// The proxy, when the endpoint is an RDS Proxy's.
    pub proxy: Option<ProxyFacts>,
}

impl AuroraLookup {
    /// The resource id `rds-db:connect` names: the proxy's (`prx-…`) through a proxy,
    /// else the cluster's `DbClusterResourceId`.
    pub fn connect_resource_id(&self) -> Option<String> {
        if let Some(proxy) = &self.proxy {
            return proxy
                .arn
                .as_deref()
                .and_then(|arn| arn.rsplit(':').next())
                .filter(|id| id.starts_with("prx-"))
                .map(str::to_string);
        }
        match &self.lookup {
            DbClusterLookup::Found(facts) => facts.resource_id.clone(),
            _ => None,
        }
    }
}

/// Where to find the cluster, or why it cannot be found (a message for code 74).
type ClusterId = Fetched<Result<String, String>>;

/// Look up the Aurora cluster of `endpoint`, in the endpoint's region.
pub async fn lookup(config: &SdkConfig, endpoint: &AuroraEndpoint) -> AuroraLookup {
    let client = Client::new(&in_region(config, &endpoint.region));
    let id = endpoint.identifier.as_str();
    let region = endpoint.region.as_str();
    let mut proxy = None;
    let (cluster_id, via): (ClusterId, Option<String>) = match endpoint.kind {
        EndpointKind::Writer | EndpointKind::Reader => (Ok(Ok(id.to_string())), None),
        EndpointKind::Custom => (
            custom_endpoint_cluster(&client, id, region).await,
            Some(format!("custom endpoint {id}")),
        ),
        EndpointKind::Instance => (
            instance_cluster(&client, id, region).await,
            Some(format!("DB instance {id}")),
        ),
        EndpointKind::Proxy => match proxy_of(&client, id, region).await {
            Ok(Ok((facts, cluster))) => {
                let via = format!("RDS Proxy {}", facts.name);
                proxy = Some(facts);
                (Ok(Ok(cluster)), Some(via))
            }
            Ok(Err(missing)) => (Ok(Err(missing)), None),
            Err(err) => (Err(err), None),
        },
    };
    let (lookup, cluster_arn) = match cluster_id {
        Err(err) => (DbClusterLookup::Failed(err), None),
        Ok(Err(missing)) => (DbClusterLookup::NotFound(missing), None),
        Ok(Ok(cluster_id)) => describe_cluster(&client, &cluster_id, region, via).await,
    };
    AuroraLookup {
        endpoint: endpoint.clone(),
        lookup,
        cluster_arn,
        proxy,
    }
}

/// DescribeDBClusters of one identifier.
async fn describe_cluster(
    client: &Client,
    id: &str,
    region: &str,
    via: Option<String>,
) -> (DbClusterLookup, Option<String>) {
    crate::log::call(format!(
        "rds:DescribeDBClusters cluster={id} region={region}"
    ));
    let answer = client
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| sdk_error(format!("rds:DescribeDBClusters (cluster {id})"), e));
    let cluster = match found(answer) {
        Err(err) => return (DbClusterLookup::Failed(err), None),
        Ok(out) => out.and_then(|out| out.db_clusters.and_then(|c| c.into_iter().next())),
    };
    let Some(cluster) = cluster else {
        return (
            DbClusterLookup::NotFound(format!(
                "No matching cluster found for the specified identifier '{id}' in region {region}."
            )),
            None,
        );
    };
    let facts = DbClusterFacts {
        identifier: cluster.db_cluster_identifier().unwrap_or(id).to_string(),
        status: cluster.status().unwrap_or_default().to_string(),
        iam_auth: cluster
            .iam_database_authentication_enabled()
            .unwrap_or(false),
        resource_id: cluster.db_cluster_resource_id().map(str::to_string),
        engine: cluster.engine().map(str::to_string),
        via,
    };
    (
        DbClusterLookup::Found(facts),
        cluster.db_cluster_arn().map(str::to_string),
    )
}

/// DescribeDBClusterEndpoints: the cluster of a custom endpoint.
async fn custom_endpoint_cluster(client: &Client, name: &str, region: &str) -> ClusterId {
    crate::log::call(format!(
        "rds:DescribeDBClusterEndpoints endpoint={name} region={region}"
    ));
    let out = client
        .describe_db_cluster_endpoints()
        .db_cluster_endpoint_identifier(name)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                format!("rds:DescribeDBClusterEndpoints (endpoint {name})"),
                e,
            )
        });
    let cluster = found(out)?.and_then(|out| {
        out.db_cluster_endpoints()
            .iter()
            .find_map(|e| e.db_cluster_identifier().map(str::to_string))
    });
    Ok(cluster.ok_or_else(|| {
        format!("No custom endpoint {name} of an Aurora cluster in region {region}.")
    }))
}

/// DescribeDBInstances: the cluster a DB instance belongs to.
async fn instance_cluster(client: &Client, name: &str, region: &str) -> ClusterId {
    crate::log::call(format!(
        "rds:DescribeDBInstances instance={name} region={region}"
    ));
    let out = client
        .describe_db_instances()
        .db_instance_identifier(name)
        .send()
        .await
        .map_err(|e| sdk_error(format!("rds:DescribeDBInstances (instance {name})"), e));
    let Some(out) = found(out)? else {
        return Ok(Err(format!("No DB instance {name} in region {region}.")));
    };
    let instance = out.db_instances().first();
    Ok(match instance.and_then(|i| i.db_cluster_identifier()) {
        Some(cluster) => Ok(cluster.to_string()),
        None if instance.is_some() => Err(format!(
            "DB instance {name} is not a member of an Aurora cluster: connect through the cluster's endpoint."
        )),
        None => Err(format!("No DB instance {name} in region {region}.")),
    })
}

/// The proxy of a proxy endpoint host (`NAME.proxy-…`, or `EP.endpoint.proxy-…` for
/// one of its endpoints) and the Aurora cluster it targets.
async fn proxy_of(
    client: &Client,
    name: &str,
    region: &str,
) -> Fetched<Result<(ProxyFacts, String), String>> {
    crate::log::call(format!(
        "rds:DescribeDBProxies proxy={name} region={region}"
    ));
    let out = client
        .describe_db_proxies()
        .db_proxy_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(format!("rds:DescribeDBProxies (proxy {name})"), e));
    let proxy = match found(out)? {
        Some(out) => out.db_proxies.and_then(|p| p.into_iter().next()),
        None => None,
    };
    let proxy = match proxy {
        Some(proxy) => proxy,
        // Not a proxy's own name: maybe one of a proxy's extra endpoints.
        None => {
            crate::log::call(format!(
                "rds:DescribeDBProxyEndpoints endpoint={name} region={region}"
            ));
            let out = client
                .describe_db_proxy_endpoints()
                .db_proxy_endpoint_name(name)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(format!("rds:DescribeDBProxyEndpoints (endpoint {name})"), e)
                });
            let owner = found(out)?.and_then(|out| {
                out.db_proxy_endpoints()
                    .iter()
                    .find_map(|e| e.db_proxy_name().map(str::to_string))
            });
            let Some(owner) = owner else {
                return Ok(Err(format!(
                    "No RDS Proxy or proxy endpoint {name} in region {region}."
                )));
            };
            crate::log::call(format!(
                "rds:DescribeDBProxies proxy={owner} region={region}"
            ));
            let out = client
                .describe_db_proxies()
                .db_proxy_name(&owner)
                .send()
                .await
                .map_err(|e| sdk_error(format!("rds:DescribeDBProxies (proxy {owner})"), e))?;
            match out.db_proxies.and_then(|p| p.into_iter().next()) {
                Some(proxy) => proxy,
                None => return Ok(Err(format!("No RDS Proxy {owner} in region {region}."))),
            }
        }
    };
    let proxy_name = proxy.db_proxy_name().unwrap_or(name).to_string();
    let modes: Vec<String> = proxy
        .auth()
        .iter()
        .filter_map(|a| a.iam_auth().map(|m| m.as_str().to_string()))
        .collect();
    let end_to_end = proxy.default_auth_scheme() == Some("IAM_AUTH");
    let iam_auth = end_to_end || modes.iter().any(|m| m == "REQUIRED" || m == "ENABLED");
    let auth_text = if end_to_end {
        "DefaultAuthScheme IAM_AUTH".to_string()
    } else if modes.is_empty() {
        "no IAMAuth setting".to_string()
    } else {
        format!("IAMAuth {}", modes.join(", "))
    };
    let facts = ProxyFacts {
        name: proxy_name.clone(),
        arn: proxy.db_proxy_arn().map(str::to_string),
        iam_auth,
        auth_text,
    };
    crate::log::call(format!(
        "rds:DescribeDBProxyTargets proxy={proxy_name} region={region}"
    ));
    let targets = client
        .describe_db_proxy_targets()
        .db_proxy_name(&proxy_name)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                format!("rds:DescribeDBProxyTargets (proxy {proxy_name})"),
                e,
            )
        })?;
    let cluster = targets.targets().iter().find_map(|t| {
        t.tracked_cluster_id()
            .or(t
                .rds_resource_id()
                .filter(|_| t.r#type() == Some(&aws_sdk_rds::types::TargetType::TrackedCluster)))
            .map(str::to_string)
    });
    Ok(match cluster {
        Some(cluster) => Ok((facts, cluster)),
        None => Err(format!(
            "RDS Proxy {proxy_name} has no Aurora cluster among its targets."
        )),
    })
}
