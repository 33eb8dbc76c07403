//! The AWS side of a run: what is gathered from AWS and how it is judged, section by
//! section. `run::online` calls these in catalogue order.

use super::{IrsaSubject, Targets};
use crate::aws::sts::CallerIdentity;
use crate::chart::Component;
use crate::finding::Finding;
use aws_config::SdkConfig;

/// What the AWS platform lookups need to know.
#[derive(Clone, Debug)]
pub struct PlatformQuery {
    /// `--region`, else the kubeconfig's exec plugin, else the API server host.
    pub region: Option<String>,
    /// `--cluster-name`, else the kubeconfig's exec plugin.
    pub cluster_name: Option<String>,
    /// The kube context's server URL: the EKS cluster is the one with this endpoint.
    pub server_url: String,
    pub caller: Option<CallerIdentity>,
}

/// Facts about the AWS platform: EKS and OIDC, Aurora clusters, OpenSearch domains,
/// node groups.
#[derive(Debug, Default)]
pub struct Platform {}

/// Facts about the IAM roles the service accounts name (each fetched once).
#[derive(Debug, Default)]
pub struct Roles {}

pub async fn gather_platform(
    _sdk: &SdkConfig,
    _query: &PlatformQuery,
    _targets: &Targets,
) -> Platform {
    Platform {}
}

pub async fn gather_roles(
    _sdk: &SdkConfig,
    _platform: &Platform,
    _subjects: &[IrsaSubject],
) -> Roles {
    Roles {}
}

/// Section 2: codes 30–36.
pub fn judge_eks(_platform: &Platform) -> Vec<Finding> {
    Vec::new()
}

/// Section 4: codes 62–68 for `targets.opensearch[index]`.
pub fn judge_domain(
    _platform: &Platform,
    _index: usize,
    _subjects: &[IrsaSubject],
) -> Vec<Finding> {
    Vec::new()
}

/// Section 5: codes 74–76 for a component's Aurora cluster.
pub fn judge_database(_platform: &Platform, _component: Component) -> Vec<Finding> {
    Vec::new()
}

/// Section 6: codes 120–126 and 140–144 (PostgreSQL) or 150–154 (OpenSearch).
pub fn judge_role(
    _platform: &Platform,
    _roles: &Roles,
    _subject: &IrsaSubject,
    _targets: &Targets,
    _namespace: &str,
) -> Vec<Finding> {
    Vec::new()
}

/// Section 7: node role reach (171) and account match (172).
pub fn judge_node_fallback(
    _platform: &Platform,
    _roles: &Roles,
    _targets: &Targets,
) -> Vec<Finding> {
    Vec::new()
}
