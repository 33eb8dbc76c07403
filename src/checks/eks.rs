//! Section 2 of the catalogue: EKS and OIDC (30–36), and the account check of section 7
//! (172). The facts come from EKS ListClusters/DescribeCluster and IAM
//! GetOpenIDConnectProvider; the judges here are pure.
//!
//! The cluster is the one `--cluster-name` (or the kubeconfig's exec plugin) names, else
//! the one whose endpoint is the kube context's server URL. When none matches, every
//! check that needs the cluster is skipped with that reason: judging some other cluster
//! would report on the wrong thing (the shell tool's bug).

use crate::code::Code;
use crate::facts::{ApiError, Fetched};
use crate::finding::Finding;
use crate::policy::OidcProviderArn;
use crate::policy::trust::DEFAULT_AUDIENCE;

/// The oldest Kubernetes version whose EKS clusters support IRSA as the tool checks it.
pub const MIN_KUBERNETES: (u32, u32) = (1, 23);

/// What EKS DescribeCluster said about a cluster (the fields the checks read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EksCluster {
    pub name: String,
    pub arn: Option<String>,
    pub endpoint: Option<String>,
    /// `identity.oidc.issuer`: `https://oidc.eks.REGION.amazonaws.com/id/ID`.
    pub issuer: Option<String>,
    pub version: Option<String>,
}

/// The IAM OIDC provider of a cluster's issuer, as IAM GetOpenIDConnectProvider says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcProvider {
    pub arn: String,
    pub client_ids: Vec<String>,
}

/// How the cluster was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterSearch {
    /// No region is known: nothing was asked.
    NoRegion,
    /// A cluster name was given: DescribeCluster of that name (`None`: it does not exist).
    Named {
        name: String,
        described: Fetched<Option<EksCluster>>,
    },
    /// No name: ListClusters, then DescribeCluster of each until one matches.
    Listed {
        listed: Fetched<Vec<String>>,
        described: Vec<(String, Fetched<Option<EksCluster>>)>,
    },
}

/// Everything sections 2 learns from EKS and IAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EksFacts {
    /// The kube context's control plane URL.
    pub server_url: String,
    pub region: Option<String>,
    pub search: ClusterSearch,
    /// The matched cluster's IAM OIDC provider: its ARN, and the lookup (`Ok(None)`: IAM
    /// has no such provider). `None` when there is no matched cluster with an issuer.
    pub provider: Option<(String, Fetched<Option<OidcProvider>>)>,
}

/// The cluster the checks are about, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterMatch<'a> {
    /// The cluster, and whether its endpoint is the context's server URL.
    Matched {
        cluster: &'a EksCluster,
        endpoint_matches: bool,
    },
    /// No cluster: the reason, for the skipped checks.
    None(String),
}

impl EksFacts {
    /// The cluster the run is about.
    pub fn cluster_match(&self) -> ClusterMatch<'_> {
        let region = self.region.as_deref().unwrap_or("?");
        let wanted = normalize_endpoint(&self.server_url);
        let matches = |c: &EksCluster| {
            wanted.is_some() && c.endpoint.as_deref().and_then(normalize_endpoint) == wanted
        };
        match &self.search {
            ClusterSearch::NoRegion => ClusterMatch::None("no AWS region is known".into()),
            ClusterSearch::Named { name, described } => match described {
                Ok(Some(cluster)) => ClusterMatch::Matched {
                    cluster,
                    endpoint_matches: matches(cluster),
                },
                Ok(None) => ClusterMatch::None(format!(
                    "EKS cluster {name} does not exist in region {region}"
                )),
                Err(_) => ClusterMatch::None(format!("EKS cluster {name} could not be described")),
            },
            ClusterSearch::Listed { listed, described } => {
                match listed {
                    Err(_) => {
                        return ClusterMatch::None(format!(
                            "the EKS clusters of region {region} could not be listed"
                        ));
                    }
                    Ok(names) if names.is_empty() => {
                        return ClusterMatch::None(format!("region {region} has no EKS clusters"));
                    }
                    Ok(_) => {}
                }
                described
                    .iter()
                    .find_map(|(_, d)| match d {
                        Ok(Some(c)) if matches(c) => Some(ClusterMatch::Matched {
                            cluster: c,
                            endpoint_matches: true,
                        }),
                        _ => None,
                    })
                    .unwrap_or_else(|| {
                        ClusterMatch::None(format!(
                            "no EKS cluster of region {region} has the control plane URL {}",
                            self.server_url
                        ))
                    })
            }
        }
    }

    /// The matched cluster, if any.
    pub fn cluster(&self) -> Option<&EksCluster> {
        match self.cluster_match() {
            ClusterMatch::Matched { cluster, .. } => Some(cluster),
            ClusterMatch::None(_) => None,
        }
    }

    /// Why the checks that need the cluster cannot run (`None` when a cluster matched).
    pub fn no_cluster_reason(&self) -> Option<String> {
        match self.cluster_match() {
            ClusterMatch::Matched { .. } => None,
            ClusterMatch::None(reason) => Some(reason),
        }
    }
}

/// An endpoint URL in a form that compares equal whatever its spelling: lower-case
/// scheme and host, the scheme's default port dropped, no trailing slash. A URL without
/// a scheme is taken as `https`. `None` when there is no host.
pub fn normalize_endpoint(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_owned(), url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (format!("[{host}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (authority.to_owned(), None),
        }
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty() || host == "[]" {
        return None;
    }
    let default_port = match scheme.as_str() {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            let number: u16 = p.parse().ok()?;
            (Some(number) != default_port).then_some(number)
        }
    };
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    Some(match port {
        Some(port) => format!("{scheme}://{host}:{port}{path}"),
        None => format!("{scheme}://{host}{path}"),
    })
}

/// The parts of an ARN, `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub use crate::policy::arn::{ArnParts, split_arn};

/// The partition a region belongs to: `cn-…` is `aws-cn`, `us-gov-…` is `aws-us-gov`.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN IAM gives the OIDC provider of `issuer` in the cluster's partition and
/// account: `arn:PARTITION:iam::ACCOUNT:oidc-provider/<issuer without https://>`.
pub fn provider_arn(partition: &str, account: &str, issuer: &str) -> String {
    let issuer = issuer.trim();
    let issuer = issuer.strip_prefix("https://").unwrap_or(issuer);
    OidcProviderArn::arn_for(partition, account, issuer.trim_end_matches('/'))
}

/// `1.30`, `v1.30.2-eks-…` → (1, 30).
pub fn parse_version(version: &str) -> Option<(u32, u32)> {
    let version = version.trim();
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Code 30: the kube context's control plane URL (a failure to connect is reported by
/// the run itself).
pub fn judge_control_plane(server_url: &str) -> Finding {
    if server_url.trim().is_empty() {
        Finding::fail(
            Code::ControlPlaneUrl,
            "Unable to retrieve the Kubernetes control plane URL: the kube context has no server.",
        )
    } else {
        Finding::ok(
            Code::ControlPlaneUrl,
            format!("Control plane URL: {server_url}"),
        )
    }
}

/// Codes 30–36, in order.
pub fn judge_eks(facts: &EksFacts) -> Vec<Finding> {
    let mut out = vec![judge_control_plane(&facts.server_url)];
    let region = facts.region.as_deref().unwrap_or_default();
    // 31: the region and its clusters.
    match &facts.search {
        ClusterSearch::NoRegion => out.push(
            Finding::fail(
                Code::EksClustersInRegion,
                "No AWS region to look for the EKS cluster in: --region is not given, the kubeconfig's exec plugin names none, the API server host is not *.REGION.eks.amazonaws.com, and the AWS configuration sets no region.",
            )
            .hint("Pass --region with the EKS cluster's region."),
        ),
        ClusterSearch::Named { name, .. } => out.push(Finding::info(
            Code::EksClustersInRegion,
            format!("Looking up EKS cluster {name} in region {region}."),
        )),
        ClusterSearch::Listed { listed, .. } => match listed {
            Err(err) => out.push(Finding::fail(
                Code::EksClustersInRegion,
                format!("Unable to list the EKS clusters of region {region}: {err}"),
            )),
            Ok(names) if names.is_empty() => out.push(
                Finding::fail(
                    Code::EksClustersInRegion,
                    format!("No EKS clusters found in region {region}."),
                )
                .hint("Check the region (--region) and that the credentials are for the cluster's account."),
            ),
            Ok(names) => out.push(Finding::ok(
                Code::EksClustersInRegion,
                format!(
                    "Found EKS clusters in region {region}: {}",
                    names.join(", ")
                ),
            )),
        },
    }
    // 32: the cluster.
    out.push(judge_match(facts));
    let cluster = facts.cluster();
    let skip_reason = facts.no_cluster_reason().unwrap_or_default();
    let Some(cluster) = cluster else {
        for code in [
            Code::OidcIssuer,
            Code::KubernetesVersion,
            Code::IamOidcProvider,
            Code::OidcProviderAudience,
        ] {
            out.push(Finding::skipped(code, &skip_reason));
        }
        return out;
    };
    let name = &cluster.name;
    // 33: the issuer.
    match &cluster.issuer {
        Some(issuer) if !issuer.trim().is_empty() => out.push(Finding::ok(
            Code::OidcIssuer,
            format!("OIDC is enabled on EKS cluster {name} with issuer: {issuer}"),
        )),
        _ => out.push(
            Finding::fail(
                Code::OidcIssuer,
                format!("OIDC is not enabled on EKS cluster {name}: it has no identity.oidc.issuer. Ensure OIDC is configured for the cluster."),
            ),
        ),
    }
    // 34: the version, compared as a version.
    out.push(judge_version(name, cluster.version.as_deref()));
    // 35, 36: the IAM OIDC provider.
    match &facts.provider {
        None => {
            let reason = format!("EKS cluster {name} has no OIDC issuer");
            out.push(Finding::skip(
                Code::IamOidcProvider,
                format!("IAM OIDC provider: {reason}."),
            ));
            out.push(Finding::skip(
                Code::OidcProviderAudience,
                format!("provider audience: {reason}."),
            ));
        }
        Some((arn, lookup)) => out.extend(judge_provider(name, arn, lookup)),
    }
    out
}

fn judge_match(facts: &EksFacts) -> Finding {
    let url = &facts.server_url;
    let region = facts.region.as_deref().unwrap_or_default();
    match (&facts.search, facts.cluster_match()) {
        (ClusterSearch::NoRegion, _) => Finding::skip(
            Code::EksClusterMatch,
            "EKS cluster match: no AWS region is known.",
        ),
        (_, ClusterMatch::Matched { cluster, endpoint_matches: true }) => Finding::ok(
            Code::EksClusterMatch,
            format!(
                "Matching EKS cluster found: {} with control plane URL: {}.",
                cluster.name,
                cluster.endpoint.as_deref().unwrap_or(url)
            ),
        ),
        (_, ClusterMatch::Matched { cluster, .. }) => Finding::warn(
            Code::EksClusterMatch,
            format!(
                "EKS cluster {} (named by --cluster-name or the kubeconfig) has the endpoint {}, not the kube context's control plane URL {url}: checking {} anyway.",
                cluster.name,
                cluster.endpoint.as_deref().unwrap_or("(none)"),
                cluster.name
            ),
        )
        .hint("Make sure the kube context and the cluster name are about the same cluster."),
        (ClusterSearch::Named { name, described: Ok(_) }, _) => Finding::fail(
            Code::EksClusterMatch,
            format!("EKS cluster {name} (named by --cluster-name or the kubeconfig) does not exist in region {region}."),
        )
        .hint("Check --cluster-name and --region."),
        (ClusterSearch::Named { described: Err(err), .. }, _) => Finding::fail(
            Code::EksClusterMatch,
            format!("Unable to describe the EKS cluster: {err}"),
        ),
        (ClusterSearch::Listed { listed: Err(_), .. }, _) => Finding::skip(
            Code::EksClusterMatch,
            format!("EKS cluster match: the EKS clusters of region {region} could not be listed."),
        ),
        (ClusterSearch::Listed { listed: Ok(names), .. }, _) if names.is_empty() => Finding::skip(
            Code::EksClusterMatch,
            format!("EKS cluster match: region {region} has no EKS clusters."),
        ),
        (ClusterSearch::Listed { described, .. }, _) => {
            let seen: Vec<String> = described
                .iter()
                .map(|(name, d)| match d {
                    Ok(Some(c)) => format!(
                        "{name} has {}",
                        c.endpoint.as_deref().unwrap_or("no endpoint")
                    ),
                    Ok(None) => format!("{name} vanished"),
                    Err(err) => err.to_string(),
                })
                .collect();
            let seen = if seen.is_empty() {
                String::new()
            } else {
                format!(" ({})", seen.join("; "))
            };
            Finding::fail(
                Code::EksClusterMatch,
                format!("No matching EKS cluster found in region {region} for control plane URL: {url}{seen}."),
            )
            .hint("Pass --cluster-name (and --region) to name the EKS cluster of this kube context.")
        }
    }
}

fn judge_version(name: &str, version: Option<&str>) -> Finding {
    let (min_major, min_minor) = MIN_KUBERNETES;
    let Some(version) = version else {
        return Finding::warn(
            Code::KubernetesVersion,
            format!("EKS cluster {name} reports no Kubernetes version."),
        );
    };
    match parse_version(version) {
        None => Finding::warn(
            Code::KubernetesVersion,
            format!("Cannot read the Kubernetes version {version:?} of EKS cluster {name}."),
        ),
        Some(v) if v >= MIN_KUBERNETES => Finding::ok(
            Code::KubernetesVersion,
            format!(
                "Kubernetes version {version} on EKS cluster {name} meets the minimum version requirement (>= {min_major}.{min_minor})."
            ),
        ),
        Some(_) => Finding::fail(
            Code::KubernetesVersion,
            format!(
                "Kubernetes version {version} on EKS cluster {name} is below the minimum required version {min_major}.{min_minor} for IAM role integration (https://docs.aws.amazon.com/eks/latest/userguide/configure-sts-endpoint.html)."
            ),
        ),
    }
}

fn judge_provider(
    cluster: &str,
    arn: &str,
    lookup: &Fetched<Option<OidcProvider>>,
) -> Vec<Finding> {
    match lookup {
        Ok(Some(provider)) => {
            let ids = &provider.client_ids;
            let audience = if ids.iter().any(|id| id == DEFAULT_AUDIENCE) {
                Finding::ok(
                    Code::OidcProviderAudience,
                    format!("IAM OIDC provider {arn} lists the audience {DEFAULT_AUDIENCE} among its client IDs."),
                )
            } else {
                Finding::fail(
                    Code::OidcProviderAudience,
                    format!(
                        "IAM OIDC provider {arn} does not list {DEFAULT_AUDIENCE} among its client IDs ({}): STS refuses the service account tokens, whose audience is {DEFAULT_AUDIENCE}.",
                        if ids.is_empty() { "it has none".to_owned() } else { format!("it has {}", ids.join(", ")) }
                    ),
                )
                .hint(format!("aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id {DEFAULT_AUDIENCE}"))
            };
            vec![
                Finding::ok(
                    Code::IamOidcProvider,
                    format!("IAM OIDC identity provider is enabled for EKS cluster {cluster}: {arn}"),
                ),
                audience,
            ]
        }
        Ok(None) => vec![
            Finding::fail(
                Code::IamOidcProvider,
                format!("IAM OIDC identity provider is not enabled for EKS cluster {cluster}: IAM has no OpenID Connect provider {arn}. Please enable it for IRSA support."),
            )
            .hint(format!("eksctl utils associate-iam-oidc-provider --cluster {cluster} --approve (or the Terraform/CloudFormation resource that creates it)")),
            Finding::skip(
                Code::OidcProviderAudience,
                "provider audience: the IAM OIDC provider does not exist.",
            ),
        ],
        Err(err) => vec![
            Finding::fail(
                Code::IamOidcProvider,
                format!("Unable to read the IAM OIDC identity provider of EKS cluster {cluster}: {err}"),
            ),
            Finding::skip(
                Code::OidcProviderAudience,
                "provider audience: the IAM OIDC provider could not be read.",
            ),
        ],
    }
}

/// Code 172: the caller's account is the cluster's. A different account usually means
/// the wrong profile: IAM then answers about another account's roles.
pub fn judge_account(caller_account: Option<&str>, cluster: Option<&EksCluster>) -> Finding {
    let cluster_account = cluster
        .and_then(|c| c.arn.as_deref())
        .and_then(split_arn)
        .map(|a| a.account.to_owned());
    match (caller_account, cluster_account, cluster) {
        (Some(caller), Some(account), Some(cluster)) if caller == account => Finding::ok(
            Code::AccountMatch,
            format!(
                "The AWS credentials are for account {caller}, the account of EKS cluster {}.",
                cluster.name
            ),
        ),
        (Some(caller), Some(account), Some(cluster)) => Finding::warn(
            Code::AccountMatch,
            format!(
                "The AWS credentials are for account {caller}, but EKS cluster {} is in account {account}: the IAM roles are read from account {caller}.",
                cluster.name
            ),
        )
        .hint("Use credentials (--profile) of the cluster's account."),
        (None, _, _) => Finding::skip(
            Code::AccountMatch,
            "account match: the caller's account is unknown.",
        ),
        (_, _, None) => Finding::skip(
            Code::AccountMatch,
            "account match: no EKS cluster was matched.",
        ),
        (_, None, Some(cluster)) => Finding::skip(
            Code::AccountMatch,
            format!("account match: EKS cluster {} has no ARN.", cluster.name),
        ),
    }
}

/// Whether an error means "this thing does not exist" for the services the tool calls.
pub fn is_not_found(err: &ApiError) -> bool {
    matches!(
        err.code.as_deref(),
        Some(
            "NoSuchEntity"
                | "ResourceNotFoundException"
                | "DBClusterNotFoundFault"
                | "DBInstanceNotFound"
                | "DBProxyNotFoundFault"
                | "DBProxyEndpointNotFoundFault"
                | "DBClusterEndpointNotFoundFault"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;

    const URL: &str = "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com";
    const ISSUER: &str =
        "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";

    fn levels(findings: &[Finding]) -> Vec<(u8, Level)> {
        findings
            .iter()
            .map(|f| (f.code.number(), f.level))
            .collect()
    }

    fn cluster(name: &str, endpoint: &str) -> EksCluster {
        EksCluster {
            name: name.into(),
            arn: Some(format!("arn:aws:eks:eu-west-1:123456789012:cluster/{name}")),
            endpoint: Some(endpoint.into()),
            issuer: Some(ISSUER.into()),
            version: Some("1.30".into()),
        }
    }

    fn provider_ok() -> Option<(String, Fetched<Option<OidcProvider>>)> {
        let arn = provider_arn("aws", "123456789012", ISSUER);
        Some((
            arn.clone(),
            Ok(Some(OidcProvider {
                arn,
                client_ids: vec!["sts.amazonaws.com".into()],
            })),
        ))
    }

    fn listed(clusters: Vec<EksCluster>) -> EksFacts {
        EksFacts {
            server_url: URL.into(),
            region: Some("eu-west-1".into()),
            search: ClusterSearch::Listed {
                listed: Ok(clusters.iter().map(|c| c.name.clone()).collect()),
                described: clusters
                    .into_iter()
                    .map(|c| (c.name.clone(), Ok(Some(c))))
                    .collect(),
            },
            provider: provider_ok(),
        }
    }

    fn denied(call: &str) -> ApiError {
        ApiError::new(
            call,
            Some("AccessDeniedException".into()),
            format!("User: arn:aws:iam::123456789012:user/x is not authorized to perform: {call}"),
        )
    }

    #[test]
    fn endpoints_compare_whatever_their_spelling() {
        let n = |u: &str| normalize_endpoint(u);
        let canonical = n(URL).unwrap();
        assert_eq!(
            canonical,
            "https://0123456789abcdef0123456789abcdef.gr7.eu-west-1.eks.amazonaws.com"
        );
        for spelling in [
            "https://0123456789abcdef0123456789abcdef.gr7.eu-west-1.eks.amazonaws.com/",
            "HTTPS://0123456789ABCDEF0123456789ABCDEF.GR7.EU-WEST-1.EKS.AMAZONAWS.COM:443",
            "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com:443/",
            "0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        ] {
            assert_eq!(
                n(spelling).as_deref(),
                Some(canonical.as_str()),
                "{spelling}"
            );
        }
        assert_eq!(
            n("http://127.0.0.1:80/").as_deref(),
            Some("http://127.0.0.1")
        );
        assert_eq!(
            n("http://127.0.0.1:6443/").as_deref(),
            Some("http://127.0.0.1:6443")
        );
        assert_ne!(n("http://127.0.0.1:6443"), n("https://127.0.0.1:6443"));
        assert_ne!(n("https://h:8443"), n("https://h"));
        assert_eq!(n("https://[::1]:443/").as_deref(), Some("https://[::1]"));
        assert_eq!(
            n("https://[::1]:6443").as_deref(),
            Some("https://[::1]:6443")
        );
        assert_eq!(n("https://h/k8s/").as_deref(), Some("https://h/k8s"));
        assert_eq!(n("https://h:99999"), None);
        assert_eq!(n("https://h:x"), None);
        assert_eq!(n("https://"), None);
        assert_eq!(n(""), None);
        assert_eq!(n("https://[::1"), None);
    }

    #[test]
    fn arns_split_and_partitions() {
        let a = split_arn("arn:aws-cn:eks:cn-north-1:123456789012:cluster/c").unwrap();
        assert_eq!(
            (a.partition, a.service, a.region, a.account, a.resource),
            ("aws-cn", "eks", "cn-north-1", "123456789012", "cluster/c")
        );
        let r = split_arn("arn:aws:rds:eu-west-1:1:db-proxy:prx-0123").unwrap();
        assert_eq!(r.resource, "db-proxy:prx-0123");
        assert_eq!(split_arn("arn:aws:iam::1"), None);
        assert_eq!(split_arn("not:an:arn:a:b:c"), None);
        assert_eq!(split_arn(""), None);
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-east-1"), "aws");
        assert_eq!(
            provider_arn(
                "aws-us-gov",
                "1",
                "https://oidc.eks.us-gov-west-1.amazonaws.com/id/AB/"
            ),
            "arn:aws-us-gov:iam::1:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/AB"
        );
        assert_eq!(
            provider_arn("aws-cn", "1", "oidc.eks.cn-north-1.amazonaws.com.cn/id/AB"),
            "arn:aws-cn:iam::1:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/AB"
        );
    }

    #[test]
    fn versions_compare_as_versions() {
        assert_eq!(parse_version("1.30"), Some((1, 30)));
        assert_eq!(parse_version("v1.9.3-eks-1"), Some((1, 9)));
        assert_eq!(parse_version("1"), None);
        assert_eq!(parse_version("one.two"), None);
        // The shell tool compared as numbers: 1.3 > 1.23 and 1.100 < 1.23.
        let judge = |v: &str| judge_version("c", Some(v)).level;
        assert_eq!(judge("1.23"), Level::Ok);
        assert_eq!(judge("1.100"), Level::Ok);
        assert_eq!(judge("1.3"), Level::Fail);
        assert_eq!(judge("1.22"), Level::Fail);
        assert_eq!(judge("2.0"), Level::Ok);
        assert_eq!(judge("latest"), Level::Warn);
        assert_eq!(judge_version("c", None).level, Level::Warn);
        assert_eq!(
            judge_version("camunda", Some("1.22")).message,
            "Kubernetes version 1.22 on EKS cluster camunda is below the minimum required version 1.23 for IAM role integration (https://docs.aws.amazon.com/eks/latest/userguide/configure-sts-endpoint.html)."
        );
    }

    #[test]
    fn healthy_cluster_passes_30_to_36() {
        let facts = listed(vec![
            cluster("other", "https://AAAA.gr7.eu-west-1.eks.amazonaws.com"),
            cluster("camunda-prod", &format!("{URL}/")),
        ]);
        let findings = judge_eks(&facts);
        assert_eq!(
            levels(&findings),
            vec![
                (30, Level::Ok),
                (31, Level::Ok),
                (32, Level::Ok),
                (33, Level::Ok),
                (34, Level::Ok),
                (35, Level::Ok),
                (36, Level::Ok)
            ]
        );
        assert_eq!(
            findings[1].message,
            "Found EKS clusters in region eu-west-1: other, camunda-prod"
        );
        assert_eq!(
            findings[2].message,
            format!("Matching EKS cluster found: camunda-prod with control plane URL: {URL}/.")
        );
        assert_eq!(
            findings[5].message,
            "IAM OIDC identity provider is enabled for EKS cluster camunda-prod: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
        );
    }

    #[test]
    fn no_region_no_clusters_and_list_errors_fail_31() {
        let mut facts = listed(vec![]);
        facts.search = ClusterSearch::NoRegion;
        facts.region = None;
        facts.provider = None;
        let f = judge_eks(&facts);
        assert_eq!(
            levels(&f),
            vec![
                (30, Level::Ok),
                (31, Level::Fail),
                (32, Level::Skip),
                (33, Level::Skip),
                (34, Level::Skip),
                (35, Level::Skip),
                (36, Level::Skip)
            ]
        );
        assert!(
            f[1].message
                .starts_with("No AWS region to look for the EKS cluster in")
        );
        assert_eq!(
            f[1].hint.as_deref(),
            Some("Pass --region with the EKS cluster's region.")
        );
        assert_eq!(
            f[3].message,
            "the EKS cluster has an OIDC issuer: no AWS region is known."
        );

        let f = judge_eks(&listed(vec![]));
        assert_eq!(
            levels(&f)[1..4],
            [(31, Level::Fail), (32, Level::Skip), (33, Level::Skip)]
        );
        assert_eq!(f[1].message, "No EKS clusters found in region eu-west-1.");
        assert_eq!(
            f[2].message,
            "EKS cluster match: region eu-west-1 has no EKS clusters."
        );
        assert_eq!(
            f[3].message,
            "the EKS cluster has an OIDC issuer: region eu-west-1 has no EKS clusters."
        );

        let mut facts = listed(vec![]);
        facts.search = ClusterSearch::Listed {
            listed: Err(denied("eks:ListClusters")),
            described: vec![],
        };
        let f = judge_eks(&facts);
        assert_eq!(levels(&f)[1..3], [(31, Level::Fail), (32, Level::Skip)]);
        assert_eq!(
            f[1].message,
            "Unable to list the EKS clusters of region eu-west-1: eks:ListClusters failed: AccessDeniedException: User: arn:aws:iam::123456789012:user/x is not authorized to perform: eks:ListClusters"
        );
    }

    #[test]
    fn no_match_fails_32_and_skips_the_rest() {
        let facts = listed(vec![
            cluster("a", "https://AAAA.gr7.eu-west-1.eks.amazonaws.com"),
            cluster(
                "b",
                "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com:8443",
            ),
        ]);
        let f = judge_eks(&facts);
        assert_eq!(
            levels(&f),
            vec![
                (30, Level::Ok),
                (31, Level::Ok),
                (32, Level::Fail),
                (33, Level::Skip),
                (34, Level::Skip),
                (35, Level::Skip),
                (36, Level::Skip)
            ]
        );
        assert_eq!(
            f[2].message,
            format!(
                "No matching EKS cluster found in region eu-west-1 for control plane URL: {URL} (a has https://AAAA.gr7.eu-west-1.eks.amazonaws.com; b has https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com:8443)."
            )
        );
        assert_eq!(
            f[3].message,
            format!(
                "the EKS cluster has an OIDC issuer: no EKS cluster of region eu-west-1 has the control plane URL {URL}."
            )
        );
        assert_eq!(facts.cluster(), None);
        // A describe error is named, and is no match.
        let mut facts = listed(vec![]);
        facts.search = ClusterSearch::Listed {
            listed: Ok(vec!["a".into()]),
            described: vec![("a".into(), Err(denied("eks:DescribeCluster")))],
        };
        let f = judge_eks(&facts);
        assert!(
            f[2].message
                .contains("(eks:DescribeCluster failed: AccessDeniedException: "),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn named_cluster_is_used_and_warns_on_another_endpoint() {
        let mut facts = listed(vec![]);
        facts.search = ClusterSearch::Named {
            name: "camunda-prod".into(),
            described: Ok(Some(cluster(
                "camunda-prod",
                "https://BBBB.gr7.eu-west-1.eks.amazonaws.com",
            ))),
        };
        let f = judge_eks(&facts);
        assert_eq!(
            levels(&f),
            vec![
                (30, Level::Ok),
                (31, Level::Info),
                (32, Level::Warn),
                (33, Level::Ok),
                (34, Level::Ok),
                (35, Level::Ok),
                (36, Level::Ok)
            ]
        );
        assert_eq!(
            f[2].message,
            format!(
                "EKS cluster camunda-prod (named by --cluster-name or the kubeconfig) has the endpoint https://BBBB.gr7.eu-west-1.eks.amazonaws.com, not the kube context's control plane URL {URL}: checking camunda-prod anyway."
            )
        );
        assert_eq!(
            facts.cluster().map(|c| c.name.as_str()),
            Some("camunda-prod")
        );

        facts.search = ClusterSearch::Named {
            name: "gone".into(),
            described: Ok(None),
        };
        let f = judge_eks(&facts);
        assert_eq!(levels(&f)[2..4], [(32, Level::Fail), (33, Level::Skip)]);
        assert_eq!(
            f[2].message,
            "EKS cluster gone (named by --cluster-name or the kubeconfig) does not exist in region eu-west-1."
        );
        assert_eq!(
            f[3].message,
            "the EKS cluster has an OIDC issuer: EKS cluster gone does not exist in region eu-west-1."
        );
    }

    #[test]
    fn issuer_and_provider_failures() {
        let mut facts = listed(vec![cluster("camunda-prod", URL)]);
        if let ClusterSearch::Listed { described, .. } = &mut facts.search {
            described[0].1.as_mut().unwrap().as_mut().unwrap().issuer = None;
        }
        facts.provider = None;
        let f = judge_eks(&facts);
        assert_eq!(
            levels(&f)[3..],
            [
                (33, Level::Fail),
                (34, Level::Ok),
                (35, Level::Skip),
                (36, Level::Skip)
            ]
        );
        assert_eq!(
            f[3].message,
            "OIDC is not enabled on EKS cluster camunda-prod: it has no identity.oidc.issuer. Ensure OIDC is configured for the cluster."
        );

        let mut facts = listed(vec![cluster("camunda-prod", URL)]);
        let arn = provider_arn("aws", "123456789012", ISSUER);
        facts.provider = Some((arn.clone(), Ok(None)));
        let f = judge_eks(&facts);
        assert_eq!(levels(&f)[5..], [(35, Level::Fail), (36, Level::Skip)]);
        assert_eq!(
            f[5].message,
            format!(
                "IAM OIDC identity provider is not enabled for EKS cluster camunda-prod: IAM has no OpenID Connect provider {arn}. Please enable it for IRSA support."
            )
        );

        facts.provider = Some((
            arn.clone(),
            Ok(Some(OidcProvider {
                arn: arn.clone(),
                client_ids: vec!["sts.amazon.com".into(), "other".into()],
            })),
        ));
        let f = judge_eks(&facts);
        assert_eq!(levels(&f)[5..], [(35, Level::Ok), (36, Level::Fail)]);
        assert_eq!(
            f[6].message,
            format!(
                "IAM OIDC provider {arn} does not list sts.amazonaws.com among its client IDs (it has sts.amazon.com, other): STS refuses the service account tokens, whose audience is sts.amazonaws.com."
            )
        );
        facts.provider = Some((
            arn.clone(),
            Ok(Some(OidcProvider {
                arn: arn.clone(),
                client_ids: vec![],
            })),
        ));
        assert!(judge_eks(&facts)[6].message.contains("(it has none)"));

        facts.provider = Some((arn, Err(denied("iam:GetOpenIDConnectProvider"))));
        let f = judge_eks(&facts);
        assert_eq!(levels(&f)[5..], [(35, Level::Fail), (36, Level::Skip)]);
        assert!(
            f[5].message
                .contains("iam:GetOpenIDConnectProvider failed: AccessDeniedException")
        );
    }

    #[test]
    fn account_match() {
        let c = cluster("camunda-prod", URL);
        assert_eq!(
            judge_account(Some("123456789012"), Some(&c)).level,
            Level::Ok
        );
        let other = judge_account(Some("210987654321"), Some(&c));
        assert_eq!(other.level, Level::Warn);
        assert_eq!(
            other.message,
            "The AWS credentials are for account 210987654321, but EKS cluster camunda-prod is in account 123456789012: the IAM roles are read from account 210987654321."
        );
        assert_eq!(judge_account(None, Some(&c)).level, Level::Skip);
        assert_eq!(judge_account(Some("1"), None).level, Level::Skip);
        let no_arn = EksCluster { arn: None, ..c };
        assert_eq!(judge_account(Some("1"), Some(&no_arn)).level, Level::Skip);
    }
}
