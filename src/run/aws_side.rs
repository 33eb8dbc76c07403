//! The AWS side of a run: what is gathered from AWS and how it is judged, section by
//! section. `run::online` calls these in catalogue order.
//!
//! Gathering is in two stages. Stage A ([`gather_platform`]) finds the EKS cluster, its
//! OIDC provider and node groups, and (independently, at the same time) the Aurora
//! clusters and OpenSearch domains the values name. Stage B ([`gather_roles`]) reads the
//! IAM roles the service accounts and node groups name, each once.

use super::{IrsaSubject, OpenSearchTarget, Targets};
use crate::aws::eks::NodeGroup;
use crate::aws::iam::{IamRole, RoleFacts};
use crate::aws::rds::AuroraLookup;
use crate::aws::sts::CallerIdentity;
use crate::chart::{Category, Component};
use crate::checks::aurora::{self, DbClusterLookup};
use crate::checks::eks::{self, ClusterSearch, EksCluster, EksFacts};
use crate::checks::opensearch::{self, DomainLookup, DomainRef};
use crate::checks::permissions::{
    self, AuroraTarget, DomainPrincipal, OpenSearchDomain, RoleIdentity, RolePolicies,
};
use crate::checks::trust;
use crate::code::Code;
use crate::facts::Fetched;
use crate::finding::{Finding, Level};
use crate::policy::{RoleArn, TrustQuery};
use aws_config::SdkConfig;
use std::collections::BTreeMap;

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
#[derive(Debug)]
pub struct Platform {
    pub caller: Option<CallerIdentity>,
    pub eks: EksFacts,
    /// The managed node groups of the matched cluster (`None` without a cluster).
    pub node_groups: Option<Fetched<Vec<Fetched<NodeGroup>>>>,
    /// The Aurora cluster behind each database component's endpoint.
    pub databases: Vec<(Component, AuroraLookup)>,
    /// The domain of each `Targets::opensearch` entry, in the same order.
    pub domains: Vec<(OpenSearchTarget, DomainLookup)>,
}

/// What is known of one role a service account or node group names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoleOutcome {
    /// The ARN is not an IAM role ARN.
    NotARoleArn,
    /// The role is in another account than the credentials': IAM cannot be asked.
    OtherAccount {
        role_account: String,
        caller_account: String,
    },
    Read(Box<RoleFacts>),
}

/// Facts about the IAM roles the service accounts name (each fetched once).
#[derive(Debug, Default)]
pub struct Roles {
    /// By the ARN as the annotation (or node group) gives it.
    pub by_arn: BTreeMap<String, RoleOutcome>,
}

impl Roles {
    fn get(&self, arn: &str) -> Option<&RoleOutcome> {
        self.by_arn.get(arn)
    }

    /// The role's policies when it was read, else why not.
    fn policies(&self, arn: &str) -> Result<&RolePolicies, String> {
        match self.get(arn) {
            Some(RoleOutcome::Read(facts)) => match &**facts {
                RoleFacts {
                    policies: Some(p), ..
                } => Ok(p),
                RoleFacts { role: Err(e), .. } => Err(e.to_string()),
                _ => Err(format!("role {arn} does not exist")),
            },
            Some(RoleOutcome::NotARoleArn) => Err(format!("{arn} is not an IAM role ARN")),
            Some(RoleOutcome::OtherAccount { role_account, .. }) => Err(format!(
                "role {arn} is in account {role_account}, which these credentials cannot read"
            )),
            None => Err(format!("role {arn} was not read")),
        }
    }
}

/// Stage A: the EKS cluster and its OIDC provider and node groups; the Aurora clusters
/// and OpenSearch domains of the values. Independent lookups run at once.
pub async fn gather_platform(
    sdk: &SdkConfig,
    query: &PlatformQuery,
    targets: &Targets,
) -> Platform {
    let region = query
        .region
        .clone()
        .or_else(|| sdk.region().map(|r| r.to_string()));
    let ((eks, node_groups), databases, domains) = tokio::join!(
        gather_eks(sdk, query, region.as_deref()),
        gather_databases(sdk, targets),
        gather_domains(sdk, targets, region.as_deref()),
    );
    Platform {
        caller: query.caller.clone(),
        eks,
        node_groups,
        databases,
        domains,
    }
}

type NodeGroups = Option<Fetched<Vec<Fetched<NodeGroup>>>>;

async fn gather_eks(
    sdk: &SdkConfig,
    query: &PlatformQuery,
    region: Option<&str>,
) -> (EksFacts, NodeGroups) {
    let Some(region) = region else {
        return (
            EksFacts {
                server_url: query.server_url.clone(),
                region: None,
                search: ClusterSearch::NoRegion,
                provider: None,
            },
            None,
        );
    };
    let config = crate::aws::in_region(sdk, region);
    let search =
        crate::aws::eks::find_cluster(&config, query.cluster_name.as_deref(), &query.server_url)
            .await;
    let mut facts = EksFacts {
        server_url: query.server_url.clone(),
        region: Some(region.to_string()),
        search,
        provider: None,
    };
    let Some(cluster) = facts.cluster().cloned() else {
        return (facts, None);
    };
    let provider_arn = cluster
        .issuer
        .as_deref()
        .map(|issuer| cluster_provider_arn(&cluster, issuer, query, region));
    let provider = async {
        match &provider_arn {
            Some(arn) => Some((
                arn.clone(),
                crate::aws::iam::oidc_provider(&config, arn).await,
            )),
            None => None,
        }
    };
    let (provider, node_groups) = tokio::join!(
        provider,
        crate::aws::eks::node_groups(&config, &cluster.name)
    );
    facts.provider = provider;
    (facts, Some(node_groups))
}

/// The IAM OIDC provider ARN of the cluster's issuer, in the cluster's partition and
/// account (from its ARN; else the region's partition and the caller's account).
fn cluster_provider_arn(
    cluster: &EksCluster,
    issuer: &str,
    query: &PlatformQuery,
    region: &str,
) -> String {
    let parts = cluster.arn.as_deref().and_then(eks::split_arn);
    let partition = parts
        .as_ref()
        .map_or(eks::partition_of_region(region), |p| p.partition);
    let account = parts
        .as_ref()
        .map(|p| p.account.to_string())
        .or_else(|| query.caller.as_ref().map(|c| c.account.clone()))
        .unwrap_or_default();
    eks::provider_arn(partition, &account, issuer)
}

async fn gather_databases(sdk: &SdkConfig, targets: &Targets) -> Vec<(Component, AuroraLookup)> {
    // Components sharing an endpoint share one lookup.
    let mut endpoints = Vec::new();
    for database in &targets.databases {
        if let Some(endpoint) = &database.endpoint
            && !endpoints.contains(endpoint)
        {
            endpoints.push(endpoint.clone());
        }
    }
    let sdk = sdk.clone();
    let lookups = crate::aws::bounded(endpoints, crate::aws::CONCURRENCY, |endpoint| {
        let sdk = sdk.clone();
        async move { crate::aws::rds::lookup(&sdk, &endpoint).await }
    })
    .await;
    targets
        .databases
        .iter()
        .filter_map(|database| {
            let endpoint = database.endpoint.as_ref()?;
            let lookup = lookups.iter().find(|l| &l.endpoint == endpoint)?;
            Some((database.component, lookup.clone()))
        })
        .collect()
}

async fn gather_domains(
    sdk: &SdkConfig,
    targets: &Targets,
    region: Option<&str>,
) -> Vec<(OpenSearchTarget, DomainLookup)> {
    let sdk = sdk.clone();
    let region = region.map(str::to_string);
    crate::aws::bounded(
        targets.opensearch.clone(),
        crate::aws::CONCURRENCY,
        |target| {
            let sdk = sdk.clone();
            let region = region.clone();
            async move {
                let lookup =
                    crate::aws::opensearch::lookup(&sdk, &target.domain, region.as_deref()).await;
                (target, lookup)
            }
        },
    )
    .await
}

/// Stage B: every distinct role the service accounts and node groups name, read once
/// with its policies (a managed policy shared by several roles is read once).
pub async fn gather_roles(sdk: &SdkConfig, platform: &Platform, subjects: &[IrsaSubject]) -> Roles {
    let caller_account = platform.caller.as_ref().map(|c| c.account.clone());
    let mut arns: Vec<String> = subjects.iter().filter_map(|s| s.role_arn.clone()).collect();
    arns.extend(node_roles(platform));
    let mut by_arn = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut pending: Vec<(String, String)> = Vec::new();
    for arn in arns {
        if by_arn.contains_key(&arn) || pending.iter().any(|(a, _)| *a == arn) {
            continue;
        }
        let Some(role) = RoleArn::parse(&arn) else {
            by_arn.insert(arn, RoleOutcome::NotARoleArn);
            continue;
        };
        match &caller_account {
            Some(caller) if *caller != role.account => {
                by_arn.insert(
                    arn,
                    RoleOutcome::OtherAccount {
                        role_account: role.account,
                        caller_account: caller.clone(),
                    },
                );
            }
            _ => {
                if !names.contains(&role.name) {
                    names.push(role.name.clone());
                }
                pending.push((arn, role.name));
            }
        }
    }
    let read = crate::aws::iam::roles(sdk, names).await;
    for (arn, name) in pending {
        if let Some(facts) = read.get(&name) {
            by_arn.insert(arn, RoleOutcome::Read(Box::new(facts.clone())));
        }
    }
    Roles { by_arn }
}

/// The role names (the last path segment) of the node groups' roles, so that a probe
/// that ran as the node role is recognised as the instance-profile fallback.
pub fn node_role_names(platform: &Platform) -> Vec<String> {
    node_roles(platform)
        .iter()
        .filter_map(|arn| arn.rsplit('/').next().map(str::to_string))
        .collect()
}

/// The distinct node roles of the matched cluster's managed node groups.
fn node_roles(platform: &Platform) -> Vec<String> {
    let mut roles = Vec::new();
    if let Some(Ok(groups)) = &platform.node_groups {
        for group in groups.iter().flatten() {
            if let Some(role) = &group.node_role
                && !roles.contains(role)
            {
                roles.push(role.clone());
            }
        }
    }
    roles
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Section 2: codes 30–36.
pub fn judge_eks(platform: &Platform) -> Vec<Finding> {
    eks::judge_eks(&platform.eks)
}

/// Section 4: codes 62–68 for `targets.opensearch[index]`.
pub fn judge_domain(
    platform: &Platform,
    index: usize,
    subjects: &[IrsaSubject],
    roles: &Roles,
) -> Vec<Finding> {
    let Some((target, lookup)) = platform.domains.get(index) else {
        return Vec::new();
    };
    let users: Vec<&IrsaSubject> = subjects
        .iter()
        .filter(|s| {
            s.category == Category::OpenSearch && target.endpoint.components.contains(&s.component)
        })
        .collect();
    let skip_68 = |out: &mut Vec<Finding>, reason: &str| {
        for subject in &users {
            out.push(
                Finding::skipped(Code::OpenSearchAccessPrincipal, reason)
                    .component(subject.component.key()),
            );
        }
    };
    // A custom endpoint that no domain answers to: the domain cannot be identified (62),
    // so nothing about "it" can be judged.
    if let (DomainRef::Custom { host }, DomainLookup::NotFound(message)) = (&target.domain, lookup)
    {
        let mut out = vec![
            Finding::fail(
                Code::OpenSearchDomainParse,
                format!("Unable to tell which OpenSearch domain {host} is: it is not a vpc-/search- endpoint of Amazon OpenSearch Service, and {}", lowercase_first(message)),
            )
            .hint("Use the domain's own endpoint (vpc-NAME-HASH.REGION.es.amazonaws.com), or set the domain's custom endpoint to this host."),
        ];
        let reason = format!("the OpenSearch domain of {host} is not known (see 62)");
        for code in [
            Code::OpenSearchDomainExists,
            Code::OpenSearchFgac,
            Code::OpenSearchHttps,
            Code::OpenSearchDomainState,
            Code::OpenSearchAccessPolicy,
        ] {
            out.push(Finding::skipped(code, &reason));
        }
        skip_68(&mut out, &reason);
        return out;
    }
    let mut out = vec![opensearch::judge_domain_parse(
        &target.endpoint,
        &target.domain,
    )];
    out.extend(opensearch::judge_domain(lookup));
    let DomainLookup::Found(facts) = lookup else {
        skip_68(&mut out, "the OpenSearch domain could not be read");
        return out;
    };
    let Some(policy) = facts
        .access_policies
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    else {
        out.push(Finding::skip(
            Code::OpenSearchAccessPolicy,
            format!("access policy: OpenSearch domain {} has none.", facts.name),
        ));
        skip_68(&mut out, "the domain has no access policy");
        return out;
    };
    let Some(domain) = domain_of(platform, target, lookup) else {
        out.push(Finding::skip(
            Code::OpenSearchAccessPolicy,
            format!(
                "access policy: the ARN of OpenSearch domain {} is unknown.",
                facts.name
            ),
        ));
        skip_68(&mut out, "the domain's ARN is unknown");
        return out;
    };
    // Why each role's own policies are unknown, if they are.
    let unreadable: Vec<Option<String>> = users
        .iter()
        .map(|s| {
            s.role_arn
                .as_deref()
                .and_then(|arn| roles.policies(arn).err())
        })
        .collect();
    let principals: Vec<DomainPrincipal<'_>> = users
        .iter()
        .zip(&unreadable)
        .filter_map(|(s, why)| {
            let role_arn = s.role_arn.as_deref()?;
            let identity = match (roles.policies(role_arn), why) {
                (Ok(policies), _) => RoleIdentity::Read(policies),
                (Err(_), Some(why)) => RoleIdentity::Unreadable(why),
                (Err(_), None) => RoleIdentity::Ignored,
            };
            Some(DomainPrincipal {
                component: s.component.key(),
                role_arn,
                identity,
            })
        })
        .collect();
    out.extend(permissions::judge_domain_access(
        policy,
        &domain,
        &principals,
    ));
    for subject in users.iter().filter(|s| s.role_arn.is_none()) {
        out.push(
            Finding::skipped(
                Code::OpenSearchAccessPrincipal,
                "the service account has no role ARN",
            )
            .component(subject.component.key()),
        );
    }
    out
}

/// The domain's identity for permission checks: from its ARN, else from the endpoint
/// name and region with the caller's account.
fn domain_of(
    platform: &Platform,
    target: &OpenSearchTarget,
    lookup: &DomainLookup,
) -> Option<OpenSearchDomain> {
    if let DomainLookup::Found(facts) = lookup
        && let Some(parts) = facts.arn.as_deref().and_then(eks::split_arn)
    {
        return Some(OpenSearchDomain {
            partition: parts.partition.to_string(),
            region: parts.region.to_string(),
            account: parts.account.to_string(),
            name: facts.name.clone(),
        });
    }
    match &target.domain {
        DomainRef::Named { name, region } => Some(OpenSearchDomain {
            partition: eks::partition_of_region(region).to_string(),
            region: region.clone(),
            account: platform.caller.as_ref()?.account.clone(),
            name: name.clone(),
        }),
        DomainRef::Custom { .. } => None,
    }
}

/// Section 5: codes 74–76 for a component's Aurora cluster.
pub fn judge_database(platform: &Platform, component: Component) -> Vec<Finding> {
    let Some((_, lookup)) = platform.databases.iter().find(|(c, _)| *c == component) else {
        return Vec::new();
    };
    let mut findings = aurora::judge_cluster(component, &lookup.lookup);
    let (Some(proxy), DbClusterLookup::Found(cluster)) = (&lookup.proxy, &lookup.lookup) else {
        return findings;
    };
    // Through a proxy, the component authenticates to the proxy: its IAM setting is what
    // counts, and the proxy reaches the cluster with its own credentials.
    let c = component.key();
    let iam = if proxy.iam_auth {
        Finding::ok(
            Code::AuroraIamAuth,
            format!(
                "RDS Proxy {} accepts IAM authentication from clients ({}); it connects to Aurora cluster {} with its own credentials.",
                proxy.name, proxy.auth_text, cluster.identifier
            ),
        )
    } else {
        Finding::fail(
            Code::AuroraIamAuth,
            format!(
                "RDS Proxy {} does not accept IAM authentication from clients ({}): the component's IAM token is refused.",
                proxy.name, proxy.auth_text
            ),
        )
        .hint("Set IAMAuth to REQUIRED in the proxy's authentication settings.")
    };
    for finding in &mut findings {
        if finding.code == Code::AuroraIamAuth && finding.level != Level::Skip {
            *finding = iam.clone().component(c);
        }
    }
    findings
}

/// Section 6: codes 120–126 and 140–144 (PostgreSQL) or 150–154 (OpenSearch).
pub fn judge_role(
    platform: &Platform,
    roles: &Roles,
    subject: &IrsaSubject,
    targets: &Targets,
    namespace: &str,
) -> Vec<Finding> {
    let c = subject.component.key();
    let sa = &subject.service_account;
    let Some(arn) = subject.role_arn.as_deref() else {
        return vec![
            Finding::skip(
                Code::RoleExists,
                "the IAM role and its policies: the service account names no role.",
            )
            .component(c),
        ];
    };
    let mut out = Vec::new();
    let role: &IamRole = match roles.get(arn) {
        None => {
            out.push(
                Finding::skip(Code::RoleExists, format!("role {arn} was not read.")).component(c),
            );
            return out;
        }
        Some(RoleOutcome::NotARoleArn) => {
            out.push(
                Finding::fail(
                    Code::RoleExists,
                    format!(
                        "The role ARN {arn} of service account {sa} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
                    ),
                )
                .component(c),
            );
            out.extend(skip_rest(subject, &format!("{arn} is not an IAM role ARN")));
            return out;
        }
        Some(RoleOutcome::OtherAccount {
            role_account,
            caller_account,
        }) => {
            out.push(
                Finding::warn(
                    Code::RoleExists,
                    format!(
                        "Role {arn} is in account {role_account}, but the AWS credentials are for account {caller_account}: the role cannot be read."
                    ),
                )
                .component(c)
                .hint(format!("Run irsa-check with credentials of account {role_account} to check the role.")),
            );
            out.extend(skip_rest(
                subject,
                &format!("role {arn} is in another account"),
            ));
            return out;
        }
        Some(RoleOutcome::Read(facts)) => match &facts.role {
            Ok(Some(role)) => role,
            Ok(None) => {
                out.push(
                    Finding::fail(
                        Code::RoleExists,
                        format!("Role ARN {arn} (serviceAccount={sa}) is invalid or does not exist."),
                    )
                    .component(c)
                    .hint("Create the role, or fix the eks.amazonaws.com/role-arn annotation of the service account."),
                );
                out.extend(skip_rest(subject, &format!("role {arn} does not exist")));
                return out;
            }
            Err(err) => {
                out.push(
                    Finding::fail(
                        Code::RoleExists,
                        format!("Unable to read role {arn} (serviceAccount={sa}): {err}"),
                    )
                    .component(c),
                );
                out.extend(skip_rest(subject, &format!("role {arn} could not be read")));
                return out;
            }
        },
    };
    out.push(
        Finding::ok(
            Code::RoleExists,
            format!("IAM role {arn} exists (serviceAccount={sa})."),
        )
        .component(c),
    );
    if role.arn != arn {
        out.push(
            Finding::warn(
                Code::RoleExists,
                format!(
                    "The service account {sa} names {arn}, but the role's ARN is {}: STS assumes the role by its exact ARN.",
                    role.arn
                ),
            )
            .component(c)
            .hint(format!("Annotate the service account with {}.", role.arn)),
        );
    }

    // 121–126: the trust policy, against this cluster, namespace and service account.
    out.extend(judge_trust(platform, role, subject, namespace));

    // 140–144 / 150–154: the role's permissions on this component's resources.
    let policies = match roles.policies(arn) {
        Ok(policies) => policies,
        Err(why) => {
            out.extend(skip_permissions(subject, &why));
            return out;
        }
    };
    match subject.category {
        Category::Postgres => match aurora_target(platform, targets, subject.component, Some(role))
        {
            Ok(target) => out.extend(permissions::judge_aurora(c, policies, &target)),
            Err(why) => out.extend(skip_permissions(subject, &why)),
        },
        Category::OpenSearch => {
            let domains: Vec<&(OpenSearchTarget, DomainLookup)> = platform
                .domains
                .iter()
                .filter(|(t, _)| t.endpoint.components.contains(&subject.component))
                .collect();
            if domains.is_empty() {
                out.extend(skip_permissions(
                    subject,
                    "the component's OpenSearch endpoint is not known (see 61)",
                ));
            }
            for (target, lookup) in domains {
                match domain_of(platform, target, lookup) {
                    Some(domain) => out.extend(permissions::judge_opensearch(c, policies, &domain)),
                    None => out.extend(skip_permissions(
                        subject,
                        &format!(
                            "the OpenSearch domain of {} is not known (see 62 and 63)",
                            target.endpoint.host
                        ),
                    )),
                }
            }
        }
    }
    out
}

/// 121–126 for one role. Without this cluster's issuer, the checks that compare the
/// trust with the cluster (123, 124, 125) are skipped: never judged against another.
fn judge_trust(
    platform: &Platform,
    role: &IamRole,
    subject: &IrsaSubject,
    namespace: &str,
) -> Vec<Finding> {
    let c = subject.component.key();
    let cluster = platform.eks.cluster();
    let issuer = cluster.and_then(|c| c.issuer.clone());
    let no_issuer = match (&issuer, cluster) {
        (Some(_), _) => None,
        (None, Some(cluster)) => Some(format!("EKS cluster {} has no OIDC issuer", cluster.name)),
        (None, None) => Some(
            platform
                .eks
                .no_cluster_reason()
                .unwrap_or_else(|| "no EKS cluster was matched".into()),
        ),
    };
    let region = platform.eks.region.as_deref().unwrap_or("REGION");
    let issuer =
        issuer.unwrap_or_else(|| format!("oidc.eks.{region}.amazonaws.com/id/CLUSTER_OIDC_ID"));
    let (partition, account) = match RoleArn::parse(&role.arn) {
        Some(r) => (r.partition, r.account),
        None => ("aws".to_string(), String::new()),
    };
    let mut query = TrustQuery::new(
        partition,
        account,
        &issuer,
        namespace,
        &subject.service_account,
    );
    query.audience = subject.audience.clone();
    let text = role.trust_policy.as_deref().unwrap_or_default();
    let mut findings = trust::judge_trust(c, &role.arn, text, &query);
    if let Some(reason) = no_issuer {
        for finding in &mut findings {
            if matches!(
                finding.code,
                Code::TrustSubject | Code::TrustAudience | Code::TrustCluster
            ) {
                *finding = Finding::skipped(finding.code, &reason).component(c);
            }
        }
    }
    findings
}

/// The database user `rds-db:connect` is checked for: this component's cluster (by its
/// resource id), region and account, and the user from the values.
fn aurora_target(
    platform: &Platform,
    targets: &Targets,
    component: Component,
    role: Option<&IamRole>,
) -> Result<AuroraTarget, String> {
    let database = targets
        .databases
        .iter()
        .find(|d| d.component == component)
        .ok_or("the component's database host is not set (see 71)")?;
    let endpoint = database
        .endpoint
        .as_ref()
        .ok_or("the component's database endpoint could not be read (see 71–73)")?;
    let lookup = platform
        .databases
        .iter()
        .find(|(c, _)| *c == component)
        .map(|(_, l)| l);
    let cluster = lookup
        .and_then(|l| l.cluster_arn.as_deref())
        .and_then(eks::split_arn);
    let role = role.and_then(|r| RoleArn::parse(&r.arn));
    let partition = cluster
        .as_ref()
        .map(|c| c.partition.to_string())
        .unwrap_or_else(|| eks::partition_of_region(&endpoint.region).to_string());
    let account = cluster
        .as_ref()
        .map(|c| c.account.to_string())
        .or_else(|| role.map(|r| r.account))
        .or_else(|| platform.caller.as_ref().map(|c| c.account.clone()))
        .ok_or("the database's account is unknown")?;
    Ok(AuroraTarget {
        partition,
        region: endpoint.region.clone(),
        account,
        cluster_resource_id: lookup.and_then(AuroraLookup::connect_resource_id),
        db_user: database.target.db_user.clone(),
    })
}

/// The trust and permission checks, skipped for `reason`.
fn skip_rest(subject: &IrsaSubject, reason: &str) -> Vec<Finding> {
    let mut out: Vec<Finding> = crate::checks::trust::ORDER
        .into_iter()
        .map(|code| Finding::skipped(code, reason).component(subject.component.key()))
        .collect();
    out.extend(skip_permissions(subject, reason));
    out
}

fn skip_permissions(subject: &IrsaSubject, reason: &str) -> Vec<Finding> {
    let codes = match subject.category {
        Category::Postgres => [
            Code::AuroraPoliciesListed,
            Code::AuroraPolicyRead,
            Code::AuroraPermission,
            Code::AuroraPermissionResource,
            Code::AuroraPermissionNotBlocked,
        ],
        Category::OpenSearch => [
            Code::OpenSearchPoliciesListed,
            Code::OpenSearchPolicyRead,
            Code::OpenSearchPermission,
            Code::OpenSearchPermissionResource,
            Code::OpenSearchPermissionNotBlocked,
        ],
    };
    codes
        .into_iter()
        .map(|code| Finding::skipped(code, reason).component(subject.component.key()))
        .collect()
}

/// Section 7: node role reach (171) and account match (172).
pub fn judge_node_fallback(platform: &Platform, roles: &Roles, targets: &Targets) -> Vec<Finding> {
    let mut out = judge_node_roles(platform, roles, targets);
    out.push(eks::judge_account(
        platform.caller.as_ref().map(|c| c.account.as_str()),
        platform.eks.cluster(),
    ));
    out
}

fn judge_node_roles(platform: &Platform, roles: &Roles, targets: &Targets) -> Vec<Finding> {
    let Some(cluster) = platform.eks.cluster() else {
        let reason = platform.eks.no_cluster_reason().unwrap_or_default();
        return vec![Finding::skipped(Code::NodeRoleReach, &reason)];
    };
    let name = &cluster.name;
    let groups = match &platform.node_groups {
        None => return Vec::new(),
        Some(Err(err)) => {
            return vec![Finding::warn(
                Code::NodeRoleReach,
                format!("Cannot list the managed node groups of EKS cluster {name}: {err}"),
            )];
        }
        Some(Ok(groups)) => groups,
    };
    if groups.is_empty() {
        return vec![Finding::info(
            Code::NodeRoleReach,
            format!(
                "EKS cluster {name} has no managed node groups (self-managed nodes or Fargate): no node role to check."
            ),
        )];
    }
    let mut out: Vec<Finding> = groups
        .iter()
        .filter_map(|g| g.as_ref().err())
        .map(|err| {
            Finding::warn(
                Code::NodeRoleReach,
                format!("Cannot read a managed node group of EKS cluster {name}: {err}"),
            )
        })
        .collect();
    let databases: Vec<(Component, AuroraTarget)> = targets
        .databases
        .iter()
        .filter_map(|d| {
            aurora_target(platform, targets, d.component, None)
                .ok()
                .map(|t| (d.component, t))
        })
        .collect();
    let aurora: Vec<(&str, &AuroraTarget)> = databases.iter().map(|(c, t)| (c.key(), t)).collect();
    let domains: Vec<OpenSearchDomain> = platform
        .domains
        .iter()
        .filter_map(|(target, lookup)| domain_of(platform, target, lookup))
        .collect();
    for role in node_roles(platform) {
        match roles.policies(&role) {
            Ok(policies) => {
                out.extend(permissions::judge_node_role_reach(
                    policies,
                    &aurora,
                    domains.first(),
                ));
                // Further domains: only their OpenSearch reach is new.
                for domain in domains.iter().skip(1) {
                    out.extend(
                        permissions::judge_node_role_reach(policies, &[], Some(domain))
                            .into_iter()
                            .filter(|f| f.level != Level::Ok),
                    );
                }
            }
            Err(why) => out.push(Finding::warn(
                Code::NodeRoleReach,
                format!("Cannot judge what node role {role} grants: {why}"),
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::iam::IamRole;
    use crate::aws::rds::ProxyFacts;
    use crate::checks::aurora::{AuroraEndpoint, DbClusterFacts, EndpointKind};
    use crate::checks::eks::OidcProvider;
    use crate::facts::ApiError;

    const ACCOUNT: &str = "123456789012";
    const ISSUER: &str =
        "https://oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B";
    const ROLE: &str = "arn:aws:iam::123456789012:role/AuroraRole-Keycloak-camunda-prod";

    fn levels(findings: &[Finding]) -> Vec<(u8, Level)> {
        findings
            .iter()
            .map(|f| (f.code.number(), f.level))
            .collect()
    }

    fn cluster() -> EksCluster {
        EksCluster {
            name: "camunda-prod".into(),
            arn: Some(format!(
                "arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/camunda-prod"
            )),
            endpoint: Some("https://ABC.gr7.eu-west-1.eks.amazonaws.com".into()),
            issuer: Some(ISSUER.into()),
            version: Some("1.30".into()),
        }
    }

    fn platform(search: ClusterSearch) -> Platform {
        Platform {
            caller: Some(CallerIdentity {
                arn: format!("arn:aws:iam::{ACCOUNT}:user/ci"),
                account: ACCOUNT.into(),
                user_id: "AIDA".into(),
            }),
            eks: EksFacts {
                server_url: "https://abc.gr7.eu-west-1.eks.amazonaws.com/".into(),
                region: Some("eu-west-1".into()),
                search,
                provider: Some((
                    eks::provider_arn("aws", ACCOUNT, ISSUER),
                    Ok(Some(OidcProvider::default())),
                )),
            },
            node_groups: Some(Ok(vec![])),
            databases: vec![],
            domains: vec![],
        }
    }

    fn named(cluster: EksCluster) -> ClusterSearch {
        ClusterSearch::Named {
            name: cluster.name.clone(),
            described: Ok(Some(cluster)),
        }
    }

    fn trust() -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": eks::provider_arn("aws", ACCOUNT, ISSUER)},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B:sub": "system:serviceaccount:camunda:keycloak-sa"}}
        }]})
        .to_string()
    }

    fn roles() -> Roles {
        let role = IamRole {
            arn: ROLE.into(),
            name: "AuroraRole-Keycloak-camunda-prod".into(),
            trust_policy: Some(trust()),
            boundary: None,
        };
        let policies = RolePolicies {
            role_arn: ROLE.into(),
            attached: Ok(vec![]),
            inline: Ok(vec![]),
            boundary: None,
        };
        Roles {
            by_arn: [(
                ROLE.to_string(),
                RoleOutcome::Read(Box::new(RoleFacts {
                    role: Ok(Some(role)),
                    policies: Some(policies),
                })),
            )]
            .into(),
        }
    }

    fn subject() -> IrsaSubject {
        IrsaSubject {
            component: Component::IdentityKeycloak,
            category: Category::Postgres,
            service_account: "keycloak-sa".into(),
            role_arn: Some(ROLE.into()),
            audience: "sts.amazonaws.com".into(),
        }
    }

    #[test]
    fn trust_checks_needing_the_cluster_are_skipped_without_it() {
        let matched = judge_role(
            &platform(named(cluster())),
            &roles(),
            &subject(),
            &Targets::default(),
            "camunda",
        );
        assert_eq!(
            levels(&matched)[..7],
            [
                (120, Level::Ok),
                (121, Level::Ok),
                (122, Level::Ok),
                (123, Level::Ok),
                (124, Level::Ok),
                (126, Level::Ok),
                (125, Level::Ok)
            ]
        );
        // No database endpoint in the values: the permission checks say why they skip.
        assert_eq!(levels(&matched)[7], (140, Level::Skip));
        assert_eq!(
            matched[7].message,
            "the role's policies can be listed: the component's database host is not set (see 71)."
        );

        let unmatched = judge_role(
            &platform(ClusterSearch::NoRegion),
            &roles(),
            &subject(),
            &Targets::default(),
            "camunda",
        );
        assert_eq!(
            levels(&unmatched)[..7],
            [
                (120, Level::Ok),
                (121, Level::Ok),
                (122, Level::Ok),
                (123, Level::Skip),
                (124, Level::Skip),
                (126, Level::Ok),
                (125, Level::Skip)
            ]
        );
        assert_eq!(
            unmatched[6].message,
            "the trust policy names this cluster's OIDC provider: no AWS region is known."
        );
        assert_eq!(unmatched[6].component.as_deref(), Some("identityKeycloak"));

        let mut no_issuer = cluster();
        no_issuer.issuer = None;
        let f = judge_role(
            &platform(named(no_issuer)),
            &roles(),
            &subject(),
            &Targets::default(),
            "camunda",
        );
        assert_eq!(
            f[3].message,
            "the trust policy admits this namespace and service account: EKS cluster camunda-prod has no OIDC issuer."
        );
    }

    #[test]
    fn role_outcomes_other_than_found() {
        let p = platform(named(cluster()));
        let mut subject = subject();
        subject.role_arn = None;
        let f = judge_role(&p, &roles(), &subject, &Targets::default(), "camunda");
        assert_eq!(levels(&f), vec![(120, Level::Skip)]);

        let subject = self::subject();
        let other = Roles {
            by_arn: [(
                ROLE.to_string(),
                RoleOutcome::OtherAccount {
                    role_account: ACCOUNT.into(),
                    caller_account: "210987654321".into(),
                },
            )]
            .into(),
        };
        let f = judge_role(&p, &other, &subject, &Targets::default(), "camunda");
        assert_eq!(levels(&f)[0], (120, Level::Warn));
        assert_eq!(
            f.len(),
            12,
            "120, six trust skips and five permission skips"
        );
        assert!(f[1..].iter().all(|f| f.level == Level::Skip));

        let failed = Roles {
            by_arn: [(
                ROLE.to_string(),
                RoleOutcome::Read(Box::new(RoleFacts {
                    role: Err(ApiError::new(
                        "iam:GetRole (role AuroraRole-Keycloak-camunda-prod)",
                        Some("AccessDenied".into()),
                        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole",
                    )),
                    policies: None,
                })),
            )]
            .into(),
        };
        let f = judge_role(&p, &failed, &subject, &Targets::default(), "camunda");
        assert_eq!(
            f[0].message,
            format!(
                "Unable to read role {ROLE} (serviceAccount=keycloak-sa): iam:GetRole (role AuroraRole-Keycloak-camunda-prod) failed: AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole"
            )
        );

        let not_arn = Roles {
            by_arn: [(ROLE.to_string(), RoleOutcome::NotARoleArn)].into(),
        };
        let f = judge_role(&p, &not_arn, &subject, &Targets::default(), "camunda");
        assert_eq!(levels(&f)[0], (120, Level::Fail));
    }

    fn proxied(iam_auth: bool) -> Platform {
        let mut p = platform(named(cluster()));
        p.databases = vec![(
            Component::Identity,
            AuroraLookup {
                endpoint: AuroraEndpoint {
                    kind: EndpointKind::Proxy,
                    identifier: "camunda-proxy".into(),
                    region: "eu-west-1".into(),
                },
                lookup: DbClusterLookup::Found(DbClusterFacts {
                    identifier: "camunda-aurora".into(),
                    status: "available".into(),
                    iam_auth: false,
                    resource_id: Some("cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ".into()),
                    engine: Some("aurora-postgresql".into()),
                    via: Some("RDS Proxy camunda-proxy".into()),
                }),
                cluster_arn: Some(format!(
                    "arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:camunda-aurora"
                )),
                proxy: Some(ProxyFacts {
                    name: "camunda-proxy".into(),
                    arn: Some(format!(
                        "arn:aws:rds:eu-west-1:{ACCOUNT}:db-proxy:prx-0123456789abcdef0"
                    )),
                    iam_auth,
                    auth_text: if iam_auth {
                        "IAMAuth REQUIRED".into()
                    } else {
                        "IAMAuth DISABLED".into()
                    },
                }),
            },
        )];
        p
    }

    #[test]
    fn through_a_proxy_the_proxy_decides_iam_auth_and_the_connect_resource() {
        let p = proxied(true);
        let f = judge_database(&p, Component::Identity);
        assert_eq!(
            levels(&f),
            vec![(74, Level::Ok), (75, Level::Ok), (76, Level::Ok)]
        );
        assert_eq!(
            f[0].message,
            "Aurora cluster camunda-aurora found (via RDS Proxy camunda-proxy)."
        );
        assert_eq!(
            f[1].message,
            "RDS Proxy camunda-proxy accepts IAM authentication from clients (IAMAuth REQUIRED); it connects to Aurora cluster camunda-aurora with its own credentials."
        );
        assert_eq!(
            p.databases[0].1.connect_resource_id().as_deref(),
            Some("prx-0123456789abcdef0")
        );
        let f = judge_database(&proxied(false), Component::Identity);
        assert_eq!(levels(&f)[1], (75, Level::Fail));
        assert_eq!(f[1].component.as_deref(), Some("identity"));
        assert!(judge_database(&p, Component::WebModeler).is_empty());
    }

    #[test]
    fn node_role_names_are_the_roles_last_path_segment() {
        let mut p = platform(named(cluster()));
        p.node_groups = Some(Ok(vec![
            Ok(NodeGroup {
                name: "a".into(),
                node_role: Some(format!("arn:aws:iam::{ACCOUNT}:role/eks/nodes/node-a")),
            }),
            Ok(NodeGroup {
                name: "b".into(),
                node_role: Some(format!("arn:aws:iam::{ACCOUNT}:role/eks/nodes/node-a")),
            }),
            Ok(NodeGroup {
                name: "c".into(),
                node_role: None,
            }),
            Ok(NodeGroup {
                name: "d".into(),
                node_role: Some(format!("arn:aws:iam::{ACCOUNT}:role/node-d")),
            }),
        ]));
        assert_eq!(
            node_role_names(&p),
            vec!["node-a".to_string(), "node-d".to_string()]
        );
        assert!(node_role_names(&platform(ClusterSearch::NoRegion)).is_empty());
    }

    #[test]
    fn node_fallback_without_node_groups_or_cluster() {
        let p = platform(named(cluster()));
        let f = judge_node_fallback(&p, &Roles::default(), &Targets::default());
        assert_eq!(levels(&f), vec![(171, Level::Info), (172, Level::Ok)]);
        assert_eq!(
            f[0].message,
            "EKS cluster camunda-prod has no managed node groups (self-managed nodes or Fargate): no node role to check."
        );

        let mut p = platform(named(cluster()));
        p.node_groups = Some(Err(ApiError::new(
            "eks:ListNodegroups (cluster camunda-prod)",
            Some("AccessDeniedException".into()),
            "not authorized",
        )));
        let f = judge_node_fallback(&p, &Roles::default(), &Targets::default());
        assert_eq!(levels(&f), vec![(171, Level::Warn), (172, Level::Ok)]);

        let mut p = platform(named(cluster()));
        p.node_groups = Some(Ok(vec![Ok(NodeGroup {
            name: "ng".into(),
            node_role: Some(format!("arn:aws:iam::{ACCOUNT}:role/node")),
        })]));
        let f = judge_node_fallback(&p, &Roles::default(), &Targets::default());
        assert_eq!(levels(&f)[0], (171, Level::Warn));
        assert_eq!(
            f[0].message,
            format!(
                "Cannot judge what node role arn:aws:iam::{ACCOUNT}:role/node grants: role arn:aws:iam::{ACCOUNT}:role/node was not read"
            )
        );

        let f = judge_node_fallback(
            &platform(ClusterSearch::NoRegion),
            &Roles::default(),
            &Targets::default(),
        );
        assert_eq!(levels(&f), vec![(171, Level::Skip), (172, Level::Skip)]);
    }
}
