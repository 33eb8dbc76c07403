//! Nodes: is this cluster on AWS (`spec.providerID` = `aws:///ZONE/INSTANCE`)?

use crate::code::Code;
use crate::facts::Fetched;
use crate::finding::Finding;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;

/// One node's provider ID (None when the node has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFact {
    pub name: String,
    pub provider_id: Option<String>,
}

/// List the nodes (one call; only names and provider IDs are kept).
pub async fn gather(client: &kube::Client) -> Fetched<Vec<NodeFact>> {
    crate::log::call("GET /api/v1/nodes (list nodes)");
    let api: Api<Node> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| super::api_error("list nodes", e))?;
    Ok(list
        .items
        .into_iter()
        .map(|n| NodeFact {
            name: n.metadata.name.unwrap_or_default(),
            provider_id: n.spec.and_then(|s| s.provider_id),
        })
        .collect())
}

/// What the node check decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeVerdict {
    Aws,
    /// Nodes could not be listed (RBAC): a warning, and the run goes on.
    Unknown,
    /// Fatal: no node runs on AWS.
    NotAws,
}

/// Code 1 (AWS cluster): fatal when no node says `aws://`; a 403 is a warning naming
/// the missing permission.
pub fn judge(nodes: &Fetched<Vec<NodeFact>>) -> (NodeVerdict, Finding) {
    match nodes {
        Err(err) if err.is_access_denied() => (
            NodeVerdict::Unknown,
            Finding::warn(
                Code::AwsCluster,
                format!(
                    "Cannot tell whether the nodes run on AWS: {err}. The check needs permission to list nodes (cluster-scoped: get/list on nodes); the run goes on."
                ),
            ),
        ),
        Err(err) => (
            NodeVerdict::Unknown,
            Finding::warn(
                Code::AwsCluster,
                format!("Cannot tell whether the nodes run on AWS: {err}"),
            ),
        ),
        Ok(nodes) => {
            let aws: Vec<&NodeFact> = nodes
                .iter()
                .filter(|n| {
                    n.provider_id
                        .as_deref()
                        .is_some_and(|p| p.starts_with("aws://"))
                })
                .collect();
            if aws.is_empty() {
                let seen: Vec<String> = nodes
                    .iter()
                    .take(3)
                    .map(|n| {
                        format!(
                            "{} ({})",
                            n.name,
                            n.provider_id.as_deref().unwrap_or("no providerID")
                        )
                    })
                    .collect();
                (
                    NodeVerdict::NotAws,
                    Finding::fail(
                        Code::AwsCluster,
                        format!(
                            "This check is designed for AWS (EKS) clusters only. No AWS nodes detected{}.",
                            if seen.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", seen.join(", "))
                            }
                        ),
                    ),
                )
            } else {
                (
                    NodeVerdict::Aws,
                    Finding::ok(
                        Code::AwsCluster,
                        format!(
                            "AWS environment detected: {} of {} nodes run on AWS.",
                            aws.len(),
                            nodes.len()
                        ),
                    ),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ApiError;
    use crate::finding::Level;

    #[test]
    fn judge_nodes() {
        let aws = |n: &str| NodeFact {
            name: n.into(),
            provider_id: Some(format!("aws:///eu-west-1a/i-{n}")),
        };
        let (v, f) = judge(&Ok(vec![
            aws("a"),
            NodeFact {
                name: "b".into(),
                provider_id: None,
            },
        ]));
        assert_eq!((v, f.level), (NodeVerdict::Aws, Level::Ok));
        assert!(f.message.contains("1 of 2"));
        let (v, f) = judge(&Ok(vec![NodeFact {
            name: "kind".into(),
            provider_id: Some("kind://docker/kind/kind-control-plane".into()),
        }]));
        assert_eq!((v, f.level), (NodeVerdict::NotAws, Level::Fail));
        assert!(f.message.contains("kind://"));
        let (v, f) = judge(&Ok(vec![]));
        assert_eq!((v, f.level), (NodeVerdict::NotAws, Level::Fail));
        let forbidden = ApiError::new(
            "list nodes",
            Some("Forbidden".into()),
            "nodes is forbidden: User \"x\" cannot list resource \"nodes\"",
        );
        let (v, f) = judge(&Err(forbidden));
        assert_eq!((v, f.level), (NodeVerdict::Unknown, Level::Warn));
        assert!(f.message.contains("list on nodes"));
    }
}
