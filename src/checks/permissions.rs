//! Permission checks: the role's own policies for Aurora (140–144) and OpenSearch
//! (150–154), the OpenSearch domain's access policy (67, 68), and whether the node role
//! could stand in for a broken IRSA setup (node role reach).
//!
//! Permissions are judged from the role's attached managed **and** inline policies and
//! its permissions boundary, through the evaluator in [`crate::policy`]. A request's
//! context beyond the principal, account and region is unknown here, so a statement
//! whose conditions depend on other keys (`aws:SourceVpc`, …) is reported as
//! undecidable (WARN), never counted for or against.

use crate::code::Code;
use crate::facts::Fetched;
use crate::finding::{Finding, Level};
use crate::policy::{
    Caller, Context, Decision, Evaluation, NamedPolicy, PolicyDocument, PolicyKind, Request,
    Statement, StatementRef, Tri, Unlisted, evaluate, wildcard,
};

/// One policy of a role: its name and its document as IAM returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicySource {
    /// The managed policy's ARN, or the inline policy's name.
    pub name: String,
    /// The document text (raw or percent-encoded JSON); `Err` when it could not be read.
    pub document: Fetched<String>,
}

/// Everything that decides a role's permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolePolicies {
    pub role_arn: String,
    /// Attached managed policies (ListAttachedRolePolicies); `Err` when the list call failed.
    pub attached: Fetched<Vec<PolicySource>>,
    /// Inline policies (ListRolePolicies + GetRolePolicy); `Err` when the list call failed.
    pub inline: Fetched<Vec<PolicySource>>,
    /// The permissions boundary, if the role has one.
    pub boundary: Option<PolicySource>,
}

/// The database user a component connects as with IAM authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuroraTarget {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// The cluster's `DbClusterResourceId` (`cluster-…`), when known.
    pub cluster_resource_id: Option<String>,
    /// The database user, when known.
    pub db_user: Option<String>,
}

/// What stands in for an unknown part of a resource ARN: no policy names it literally,
/// so only a wildcard covers it.
const UNKNOWN: &str = "<unknown>";

impl AuroraTarget {
    /// `arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:RESOURCE_ID/DB_USER`, with `*` for
    /// the unknown parts.
    pub fn dbuser_arn(&self) -> String {
        self.arn_with(
            self.cluster_resource_id.as_deref().unwrap_or("*"),
            self.db_user.as_deref().unwrap_or("*"),
        )
    }

    fn arn_with(&self, resource_id: &str, user: &str) -> String {
        format!(
            "arn:{}:rds-db:{}:{}:dbuser:{resource_id}/{user}",
            self.partition, self.region, self.account
        )
    }

    /// The ARN to evaluate: unknown parts become a placeholder only a wildcard covers.
    fn evaluated_arn(&self) -> String {
        self.arn_with(
            self.cluster_resource_id.as_deref().unwrap_or(UNKNOWN),
            self.db_user.as_deref().unwrap_or(UNKNOWN),
        )
    }

    fn unknown_note(&self) -> Option<String> {
        match (&self.cluster_resource_id, &self.db_user) {
            (Some(_), Some(_)) => None,
            (None, Some(_)) => Some("the cluster's resource id is unknown".into()),
            (Some(_), None) => Some("the database user is unknown".into()),
            (None, None) => {
                Some("the cluster's resource id and the database user are unknown".into())
            }
        }
    }
}

/// An OpenSearch domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenSearchDomain {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl OpenSearchDomain {
    /// `arn:PARTITION:es:REGION:ACCOUNT:domain/NAME`.
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:es:{}:{}:domain/{}",
            self.partition, self.region, self.account, self.name
        )
    }

    /// `…:domain/NAME/*`: every HTTP path of the domain, what the components need.
    pub fn paths_arn(&self) -> String {
        format!("{}/*", self.arn())
    }

    /// Any path stands for all of them; only a pattern covering every path matches it.
    fn evaluated_arn(&self) -> String {
        format!("{}/{UNKNOWN}", self.arn())
    }
}

/// The OpenSearch HTTP actions; the components read with the first and write with the rest.
pub const OPENSEARCH_ACTIONS: [&str; 5] = [
    "es:ESHttpGet",
    "es:ESHttpHead",
    "es:ESHttpPost",
    "es:ESHttpPut",
    "es:ESHttpDelete",
];
/// The action IAM database authentication needs.
pub const RDS_CONNECT: &str = "rds-db:connect";

/// Findings 140–144 for a component reaching Aurora as `target` under the role of `policies`.
pub fn judge_aurora(
    component: &str,
    policies: &RolePolicies,
    target: &AuroraTarget,
) -> Vec<Finding> {
    let family = Family {
        codes: Codes {
            listed: Code::AuroraPoliciesListed,
            read: Code::AuroraPolicyRead,
            permission: Code::AuroraPermission,
            resource: Code::AuroraPermissionResource,
            not_blocked: Code::AuroraPermissionNotBlocked,
        },
        required: RDS_CONNECT,
        wanted: &[],
        resource_shown: target.dbuser_arn(),
        resource_evaluated: target.evaluated_arn(),
        region: target.region.clone(),
        unknown_note: target.unknown_note(),
        grant_hint: format!(
            "Camunda's reference grants {{\"Effect\":\"Allow\",\"Action\":[\"rds-db:connect\"],\"Resource\":\"{}\"}}; the resource id is the cluster's DbClusterResourceId (cluster-…), not its name",
            target.arn_with("*", target.db_user.as_deref().unwrap_or("DB_USER"))
        ),
    };
    family
        .judge(policies)
        .into_iter()
        .map(|f| f.component(component))
        .collect()
}

/// Findings 150–154 for a component reaching `domain` under the role of `policies`:
/// `es:ESHttpGet` is required, the other HTTP verbs are expected (WARN when missing).
pub fn judge_opensearch(
    component: &str,
    policies: &RolePolicies,
    domain: &OpenSearchDomain,
) -> Vec<Finding> {
    let family = Family {
        codes: Codes {
            listed: Code::OpenSearchPoliciesListed,
            read: Code::OpenSearchPolicyRead,
            permission: Code::OpenSearchPermission,
            resource: Code::OpenSearchPermissionResource,
            not_blocked: Code::OpenSearchPermissionNotBlocked,
        },
        required: OPENSEARCH_ACTIONS[0],
        wanted: &OPENSEARCH_ACTIONS[1..],
        resource_shown: domain.paths_arn(),
        resource_evaluated: domain.evaluated_arn(),
        region: domain.region.clone(),
        unknown_note: None,
        grant_hint: format!(
            "Camunda's reference grants es:ESHttpGet, es:ESHttpHead, es:ESHttpPost, es:ESHttpPut and es:ESHttpDelete on {}",
            domain.paths_arn()
        ),
    };
    family
        .judge(policies)
        .into_iter()
        .map(|f| f.component(component))
        .collect()
}

/// Findings 67 (the domain access policy has an Allow statement) and 68 (it allows each
/// `(component, role ARN)` es:ESHttpGet on every path of the domain), judged from the
/// domain policy alone: what it takes for a role of another account.
pub fn judge_domain_access_policy(
    access_policy: &str,
    domain: &OpenSearchDomain,
    roles: &[(&str, &str)],
) -> Vec<Finding> {
    let principals: Vec<DomainPrincipal<'_>> = roles
        .iter()
        .map(|&(component, role_arn)| DomainPrincipal {
            component,
            role_arn,
            identity: RoleIdentity::Ignored,
        })
        .collect();
    judge_domain_access(access_policy, domain, &principals)
}

/// A component's role, for the domain access policy (68).
#[derive(Clone, Copy, Debug)]
pub struct DomainPrincipal<'a> {
    pub component: &'a str,
    pub role_arn: &'a str,
    pub identity: RoleIdentity<'a>,
}

/// What is known of the role's own policies.
#[derive(Clone, Copy, Debug)]
pub enum RoleIdentity<'a> {
    /// Judge by the domain policy alone.
    Ignored,
    /// The role's policies: within one account, AWS allows a request that the role's
    /// identity policies (and boundary) allow and the domain policy does not deny.
    Read(&'a RolePolicies),
    /// The role's policies could not be read (why).
    Unreadable(&'a str),
}

/// Findings 67 and 68 for each component's role. 68 fails only when the domain policy
/// denies the role, or when neither the domain policy nor (within one account) the
/// role's identity policies with its boundary allow es:ESHttpGet on the domain.
pub fn judge_domain_access(
    access_policy: &str,
    domain: &OpenSearchDomain,
    roles: &[DomainPrincipal<'_>],
) -> Vec<Finding> {
    let name = &domain.name;
    let document = match PolicyDocument::parse(access_policy) {
        Ok(document) => document,
        Err(error) => {
            let mut findings = vec![Finding::fail(
                Code::OpenSearchAccessPolicy,
                format!(
                    "The access policy of OpenSearch domain {name} is not a valid policy document: {error}"
                ),
            )];
            findings.extend(roles.iter().map(|r| {
                Finding::skip(
                    Code::OpenSearchAccessPrincipal,
                    format!("the access policy of domain {name} could not be parsed"),
                )
                .component(r.component)
            }));
            return findings;
        }
    };
    let allows: Vec<&Statement> = document
        .statements
        .iter()
        .filter(|s| s.effect == crate::policy::Effect::Allow)
        .collect();
    let mut findings = Vec::new();
    if allows.is_empty() {
        findings.push(Finding::fail(
            Code::OpenSearchAccessPolicy,
            format!("The access policy of OpenSearch domain {name} has no Allow statement"),
        ));
        findings.extend(roles.iter().map(|r| {
            Finding::skip(
                Code::OpenSearchAccessPrincipal,
                format!("the access policy of domain {name} allows nothing"),
            )
            .component(r.component)
        }));
        return findings;
    }
    let labels: Vec<String> = allows.iter().map(|s| statement_label(s)).collect();
    findings.push(Finding::ok(
        Code::OpenSearchAccessPolicy,
        format!(
            "The access policy of OpenSearch domain {name} has an Allow statement ({})",
            labels.join(", ")
        ),
    ));
    let policy_name = format!("the access policy of domain {name}");
    let allowed_principals: Vec<String> = allows
        .iter()
        .map(|s| match &s.principal {
            Some(p) if p.negated => format!("NotPrincipal {}", p.principals),
            Some(p) => p.principals.to_string(),
            None => "no Principal".to_owned(),
        })
        .collect();
    for principal in roles {
        let role_arn = principal.role_arn;
        let request = Request {
            caller: Caller::Role {
                arn: role_arn.to_owned(),
            },
            action: OPENSEARCH_ACTIONS[0].to_owned(),
            resource: Some(domain.evaluated_arn()),
            context: role_context(role_arn, &domain.region),
        };
        let evaluation = evaluate(
            &request,
            &[],
            None,
            Some(NamedPolicy {
                name: &policy_name,
                document: &document,
            }),
        );
        let maybe_denied = evaluation
            .undecidable
            .iter()
            .any(|u| u.effect == crate::policy::Effect::Deny);
        let identity = || identity_grant(principal, domain);
        let finding = match evaluation.decision {
            Decision::Allow => Finding::ok(
                Code::OpenSearchAccessPrincipal,
                format!(
                    "The access policy of domain {name} allows role {role_arn} es:ESHttpGet on {} ({})",
                    domain.paths_arn(),
                    refs(&evaluation.allowed_by)
                ),
            ),
            Decision::ExplicitDeny => Finding::fail(
                Code::OpenSearchAccessPrincipal,
                format!(
                    "The access policy of domain {name} denies role {role_arn} es:ESHttpGet on {}: {}",
                    domain.paths_arn(),
                    refs(&evaluation.denied_by)
                ),
            ),
            Decision::Undecidable => match identity() {
                IdentityGrant::Allows(by) if !maybe_denied => {
                    identity_allows_finding(name, role_arn, domain, &by)
                }
                _ => Finding::warn(
                    Code::OpenSearchAccessPrincipal,
                    format!(
                        "Cannot tell whether the access policy of domain {name} allows role {role_arn}: {}",
                        undecided(&evaluation)
                    ),
                ),
            },
            Decision::ImplicitDeny => {
                let not_allowed = format!(
                    "The access policy of domain {name} does not allow role {role_arn} es:ESHttpGet on {} (its Allow statements name {})",
                    domain.paths_arn(),
                    allowed_principals.join("; ")
                );
                let hint = format!(
                    "add the role ARN to an Allow statement's AWS principals, or do as Camunda's reference: Principal {{\"AWS\":\"*\"}}, Action es:*, Resource {} with fine-grained access control mapping the role",
                    domain.paths_arn()
                );
                match identity() {
                    IdentityGrant::Ignored => {
                        Finding::fail(Code::OpenSearchAccessPrincipal, not_allowed).hint(hint)
                    }
                    IdentityGrant::Allows(by) => {
                        identity_allows_finding(name, role_arn, domain, &by)
                    }
                    IdentityGrant::OtherAccount(account) => Finding::fail(
                        Code::OpenSearchAccessPrincipal,
                        format!(
                            "{not_allowed}, and role {role_arn} is in account {account}, not the domain's account {}: the domain policy itself must allow it",
                            domain.account
                        ),
                    )
                    .hint(hint),
                    IdentityGrant::Unknown(why) => Finding::warn(
                        Code::OpenSearchAccessPrincipal,
                        format!(
                            "The access policy of domain {name} does not name role {role_arn}, and whether the role's own policies allow es:ESHttpGet on {} cannot be told: {why}",
                            domain.paths_arn()
                        ),
                    ),
                    IdentityGrant::No(why) => Finding::fail(
                        Code::OpenSearchAccessPrincipal,
                        format!("{not_allowed}, nor do the role's own policies ({why})"),
                    )
                    .hint(hint),
                }
            }
        };
        findings.push(finding.component(principal.component));
    }
    findings
}

fn identity_allows_finding(
    name: &str,
    role_arn: &str,
    domain: &OpenSearchDomain,
    by: &str,
) -> Finding {
    Finding::ok(
        Code::OpenSearchAccessPrincipal,
        format!(
            "The access policy of domain {name} does not name role {role_arn}, but the role's own policies allow es:ESHttpGet on {} ({by}): within one account that is enough",
            domain.paths_arn()
        ),
    )
}

/// Whether a role's identity policies (with its boundary) grant es:ESHttpGet on the
/// domain on their own.
enum IdentityGrant {
    Ignored,
    /// Allowed, by these statements.
    Allows(String),
    /// The role is in another account than the domain: its own policies are not enough.
    OtherAccount(String),
    /// Not allowed (why).
    No(String),
    Unknown(String),
}

fn identity_grant(principal: &DomainPrincipal<'_>, domain: &OpenSearchDomain) -> IdentityGrant {
    let role_arn = principal.role_arn;
    let policies = match principal.identity {
        RoleIdentity::Ignored => return IdentityGrant::Ignored,
        RoleIdentity::Unreadable(why) => {
            return IdentityGrant::Unknown(format!("its policies could not be read: {why}"));
        }
        RoleIdentity::Read(policies) => policies,
    };
    if let Some(role) = crate::policy::RoleArn::parse(role_arn)
        && role.account != domain.account
    {
        return IdentityGrant::OtherAccount(role.account);
    }
    let loaded = Loaded::from(policies);
    let evaluation = loaded.evaluate(
        role_arn,
        OPENSEARCH_ACTIONS[0],
        &domain.evaluated_arn(),
        &domain.region,
    );
    match evaluation.decision {
        Decision::Allow => IdentityGrant::Allows(refs(&evaluation.allowed_by)),
        Decision::Undecidable => IdentityGrant::Unknown(undecided(&evaluation)),
        Decision::ExplicitDeny => {
            IdentityGrant::No(format!("they deny it: {}", refs(&evaluation.denied_by)))
        }
        Decision::ImplicitDeny if evaluation.blocked_by_boundary => {
            IdentityGrant::No("their grant is outside the permissions boundary".to_owned())
        }
        Decision::ImplicitDeny if !loaded.unread.is_empty() || !loaded.list_errors.is_empty() => {
            IdentityGrant::Unknown(format!("no policy read grants it{}", loaded.caveat()))
        }
        Decision::ImplicitDeny => IdentityGrant::No("no statement grants it".to_owned()),
    }
}

/// Node role reach (warnings): whether the node role itself grants `rds-db:connect` on
/// the components' database users or `es:ESHttp*` on the domain. If it does, a pod
/// whose IRSA is broken falls back to the node role and still works, hiding the failure.
/// `aurora` pairs each database component with its target.
pub fn judge_node_role_reach(
    node_role: &RolePolicies,
    aurora: &[(&str, &AuroraTarget)],
    domain: Option<&OpenSearchDomain>,
) -> Vec<Finding> {
    let role = &node_role.role_arn;
    let loaded = Loaded::from(node_role);
    let mut findings = Vec::new();
    let problems: Vec<String> = loaded
        .list_errors
        .iter()
        .cloned()
        .chain(
            loaded
                .unread
                .iter()
                .map(|(name, why)| format!("{name}: {why}")),
        )
        .collect();
    if !problems.is_empty() {
        findings.push(Finding::warn(
            Code::NodeRoleReach,
            format!(
                "Cannot fully judge what node role {role} grants: {}",
                problems.join("; ")
            ),
        ));
    }
    let mut checks: Vec<(Option<&str>, String, String, String, &str)> = Vec::new();
    for &(component, target) in aurora {
        checks.push((
            Some(component),
            target.dbuser_arn(),
            target.evaluated_arn(),
            target.region.clone(),
            RDS_CONNECT,
        ));
    }
    if let Some(domain) = domain {
        for action in OPENSEARCH_ACTIONS {
            checks.push((
                None,
                domain.paths_arn(),
                domain.evaluated_arn(),
                domain.region.clone(),
                action,
            ));
        }
    }
    let mut reached = 0;
    let mut reached_os = false;
    for (component, shown, evaluated, region, action) in checks {
        if component.is_none() && reached_os {
            continue;
        }
        let evaluation = loaded.evaluate(role, action, &evaluated, &region);
        let finding = match evaluation.decision {
            Decision::Allow => Finding::warn(
                Code::NodeRoleReach,
                format!(
                    "Node role {role} itself allows {action} on {shown} ({}): a pod whose IRSA is broken falls back to the node role and still works, which hides the failure",
                    refs(&evaluation.allowed_by)
                ),
            )
            .hint("grant database and OpenSearch access only to the IRSA roles, not to the node role"),
            Decision::Undecidable => Finding::warn(
                Code::NodeRoleReach,
                format!(
                    "Node role {role} may allow {action} on {shown}: {}",
                    undecided(&evaluation)
                ),
            ),
            Decision::ExplicitDeny | Decision::ImplicitDeny => continue,
        };
        reached += 1;
        reached_os |= component.is_none();
        findings.push(match component {
            Some(component) => finding.component(component),
            None => finding,
        });
    }
    if reached == 0 && findings.is_empty() {
        findings.push(Finding::ok(
            Code::NodeRoleReach,
            format!("Node role {role} grants no rds-db:connect or es:ESHttp* on the components' resources"),
        ));
    }
    findings
}

struct Codes {
    listed: Code,
    read: Code,
    permission: Code,
    resource: Code,
    not_blocked: Code,
}

/// One permission to judge: a required action, further expected ones, on one resource.
struct Family<'a> {
    codes: Codes,
    required: &'a str,
    wanted: &'a [&'a str],
    resource_shown: String,
    resource_evaluated: String,
    region: String,
    unknown_note: Option<String>,
    grant_hint: String,
}

impl Family<'_> {
    fn judge(&self, policies: &RolePolicies) -> Vec<Finding> {
        let role = &policies.role_arn;
        let codes = &self.codes;
        let loaded = Loaded::from(policies);
        let mut findings = Vec::new();

        match (&policies.attached, &policies.inline) {
            (Ok(attached), Ok(inline)) => findings.push(Finding::ok(
                codes.listed,
                format!(
                    "Role {role}: {} attached and {} inline policies listed",
                    attached.len(),
                    inline.len()
                ),
            )),
            _ => findings.push(Finding::fail(
                codes.listed,
                format!("Role {role}: {}", loaded.list_errors.join("; ")),
            )),
        }
        if policies.attached.is_err() && policies.inline.is_err() {
            let reason = format!("the policies of role {role} could not be listed");
            for code in [
                codes.read,
                codes.permission,
                codes.resource,
                codes.not_blocked,
            ] {
                findings.push(Finding::skip(code, reason.clone()));
            }
            return findings;
        }
        if loaded.unread.is_empty() {
            findings.push(Finding::ok(
                codes.read,
                format!("Role {role}: all {} policies read", loaded.read_count()),
            ));
        } else {
            for (name, why) in &loaded.unread {
                findings.push(Finding::fail(
                    codes.read,
                    format!("Role {role}: {name} {why}"),
                ));
            }
        }
        let caveat = loaded.caveat();

        // 142 / 152: is the action granted at all, on whatever resource?
        let grants = |action: &str| -> Vec<(String, &Statement)> {
            loaded
                .identity
                .iter()
                .flat_map(|(name, document)| {
                    document
                        .statements
                        .iter()
                        .filter(move |s| {
                            s.effect == crate::policy::Effect::Allow && s.covers_action(action)
                        })
                        .map(move |s| (name.clone(), s))
                })
                .collect()
        };
        let required_grants = grants(self.required);
        let granted = !required_grants.is_empty();
        let names = loaded
            .identity
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>();
        if !granted {
            let among = if names.is_empty() {
                "the role has no policy".to_owned()
            } else {
                format!("its policies: {}", names.join(", "))
            };
            findings.push(
                Finding::fail(
                    codes.permission,
                    format!(
                        "Role {role}: no Allow statement grants {} ({among}){caveat}",
                        self.required
                    ),
                )
                .hint(self.grant_hint.clone()),
            );
        } else {
            let missing: Vec<&str> = self
                .wanted
                .iter()
                .copied()
                .filter(|a| grants(a).is_empty())
                .collect();
            let by = required_grants
                .iter()
                .map(|(n, s)| in_policy(s, n))
                .collect::<Vec<_>>()
                .join(", ");
            if missing.is_empty() {
                findings.push(Finding::ok(
                    codes.permission,
                    format!("Role {role}: {} grants {}", by, self.actions_text()),
                ));
            } else {
                findings.push(
                    Finding::warn(
                        codes.permission,
                        format!(
                            "Role {role}: {by} grants {} but no statement grants {}, which the components also use{caveat}",
                            self.required,
                            missing.join(", ")
                        ),
                    )
                    .hint(self.grant_hint.clone()),
                );
            }
        }

        // 143 / 153: does the grant cover this resource? 144 / 154: does anything take it away?
        let required_eval =
            loaded.evaluate(role, self.required, &self.resource_evaluated, &self.region);
        if granted {
            findings.push(self.resource_finding(
                &loaded,
                &required_eval,
                &required_grants,
                &caveat,
            ));
        } else {
            findings.push(Finding::skip(
                codes.resource,
                format!("no statement of role {role} grants {}", self.required),
            ));
        }
        let mut blocked = self.blocking(&loaded, &required_eval, self.required);
        // The other verbs: anything taking them away is a warning.
        let mut wanted_problems = Vec::new();
        for action in self.wanted {
            if grants(action).is_empty() {
                continue;
            }
            let evaluation = loaded.evaluate(role, action, &self.resource_evaluated, &self.region);
            for (_, text) in self.blocking(&loaded, &evaluation, action) {
                wanted_problems.push(text);
            }
            if evaluation.identity_allows == Tri::No && required_eval.identity_allows != Tri::No {
                wanted_problems.push(format!(
                    "{action} is not granted on {}",
                    self.resource_shown
                ));
            }
        }
        let worst = blocked
            .iter()
            .map(|(level, _)| *level)
            .max_by_key(|l| severity(*l));
        if !wanted_problems.is_empty() {
            blocked.push((Level::Warn, wanted_problems.join("; ")));
        }
        let finding = if blocked.is_empty() {
            if granted {
                let boundary = match &loaded.boundary {
                    Boundary::Read(name, _) => {
                        format!("; the permissions boundary {name} allows it")
                    }
                    _ => String::new(),
                };
                Finding::ok(
                    codes.not_blocked,
                    format!(
                        "Role {role}: no Deny statement takes {} on {} away{boundary}{caveat}",
                        self.required, self.resource_shown
                    ),
                )
            } else {
                Finding::skip(
                    codes.not_blocked,
                    format!("no statement of role {role} grants {}", self.required),
                )
            }
        } else {
            let level = match worst {
                Some(Level::Fail) => Level::Fail,
                _ => Level::Warn,
            };
            let texts: Vec<String> = blocked.into_iter().map(|(_, t)| t).collect();
            Finding::new(
                codes.not_blocked,
                level,
                format!("Role {role}: {}", texts.join("; ")),
            )
        };
        findings.push(finding);
        findings
    }

    fn actions_text(&self) -> String {
        std::iter::once(self.required)
            .chain(self.wanted.iter().copied())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn resource_finding(
        &self,
        loaded: &Loaded,
        evaluation: &Evaluation,
        grants: &[(String, &Statement)],
        caveat: &str,
    ) -> Finding {
        let role = &loaded.role;
        let code = self.codes.resource;
        let action = self.required;
        let shown = &self.resource_shown;
        match evaluation.identity_allows {
            Tri::Yes => {
                let by: Vec<&StatementRef> = evaluation
                    .allowed_by
                    .iter()
                    .filter(|r| r.kind == PolicyKind::Identity)
                    .collect();
                let by = by
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let note = match &self.unknown_note {
                    Some(note) => format!(" ({note}; the grant covers any)"),
                    None => String::new(),
                };
                Finding::ok(
                    code,
                    format!("Role {role} may {action} on {shown}{note} ({by})"),
                )
            }
            Tri::Unknown => Finding::warn(
                code,
                format!(
                    "Role {role}: cannot tell whether {action} covers {shown}: {}",
                    undecided(evaluation)
                ),
            ),
            Tri::No => {
                let granted_on: Vec<String> = grants
                    .iter()
                    .map(|(name, s)| format!("{} ({})", resources_text(s), in_policy(s, name)))
                    .collect();
                let granted_on = granted_on.join("; ");
                if let Some(note) = &self.unknown_note {
                    let could = grants.iter().any(|(_, s)| match &s.resource {
                        None => true,
                        Some(block) if block.negated => true,
                        Some(block) => block
                            .patterns
                            .iter()
                            .any(|p| wildcard::overlap(p, shown, false)),
                    });
                    if could {
                        return Finding::warn(
                            code,
                            format!(
                                "Role {role}: cannot confirm that {action} covers {shown}: {note}, and the grants name {granted_on}{caveat}"
                            ),
                        );
                    }
                }
                Finding::fail(
                    code,
                    format!(
                        "Role {role} grants {action} only on {granted_on}, not on {shown}{caveat}"
                    ),
                )
                .hint(self.grant_hint.clone())
            }
        }
    }

    /// What takes `action` on the resource away: Deny statements, the boundary.
    fn blocking(
        &self,
        loaded: &Loaded,
        evaluation: &Evaluation,
        action: &str,
    ) -> Vec<(Level, String)> {
        let shown = &self.resource_shown;
        let required = action == self.required;
        let hard = if required { Level::Fail } else { Level::Warn };
        let mut out = Vec::new();
        for deny in &evaluation.denied_by {
            let how = loaded.statement(deny).map(deny_shape).unwrap_or_default();
            out.push((hard, format!("{deny} denies {action} on {shown}{how}")));
        }
        match (&loaded.boundary, evaluation.boundary_allows) {
            (Boundary::Read(name, _), Some(Tri::No)) => out.push((
                hard,
                format!("the permissions boundary {name} does not allow {action} on {shown}"),
            )),
            (Boundary::Read(name, _), Some(Tri::Unknown)) => out.push((
                Level::Warn,
                format!(
                    "cannot tell whether the permissions boundary {name} allows {action} on {shown}"
                ),
            )),
            (Boundary::Unreadable(name), _) if required => out.push((
                Level::Warn,
                format!(
                    "the permissions boundary {name} could not be read; it may take {action} away"
                ),
            )),
            _ => {}
        }
        for maybe in evaluation
            .undecidable
            .iter()
            .filter(|u| u.effect == crate::policy::Effect::Deny)
        {
            out.push((
                Level::Warn,
                format!("{} may deny {action}: {}", maybe.statement, maybe.reason),
            ));
        }
        out
    }
}

fn severity(level: Level) -> u8 {
    match level {
        Level::Fail => 2,
        Level::Warn => 1,
        _ => 0,
    }
}

enum Boundary {
    None,
    Read(String, PolicyDocument),
    Unreadable(String),
}

/// A role's policies, read and parsed as far as possible.
struct Loaded {
    role: String,
    identity: Vec<(String, PolicyDocument)>,
    boundary: Boundary,
    list_errors: Vec<String>,
    /// Policies not read or not parsed: (what, why).
    unread: Vec<(String, String)>,
}

impl Loaded {
    fn from(policies: &RolePolicies) -> Loaded {
        let mut loaded = Loaded {
            role: policies.role_arn.clone(),
            identity: Vec::new(),
            boundary: Boundary::None,
            list_errors: Vec::new(),
            unread: Vec::new(),
        };
        for (kind, list) in [
            ("attached", &policies.attached),
            ("inline", &policies.inline),
        ] {
            match list {
                Ok(sources) => {
                    for source in sources {
                        let what = format!("{kind} policy {}", source.name);
                        if let Some(document) = loaded.read(&what, source) {
                            loaded.identity.push((source.name.clone(), document));
                        }
                    }
                }
                Err(error) => loaded
                    .list_errors
                    .push(format!("its {kind} policies could not be listed: {error}")),
            }
        }
        if let Some(source) = &policies.boundary {
            let what = format!("permissions boundary {}", source.name);
            loaded.boundary = match loaded.read(&what, source) {
                Some(document) => Boundary::Read(source.name.clone(), document),
                None => Boundary::Unreadable(source.name.clone()),
            };
        }
        loaded
    }

    fn read(&mut self, what: &str, source: &PolicySource) -> Option<PolicyDocument> {
        match &source.document {
            Err(error) => {
                self.unread
                    .push((what.to_owned(), format!("could not be read: {error}")));
                None
            }
            Ok(text) => match PolicyDocument::parse(text) {
                Ok(document) => Some(document),
                Err(error) => {
                    self.unread.push((
                        what.to_owned(),
                        format!("is not a valid policy document: {error}"),
                    ));
                    None
                }
            },
        }
    }

    fn read_count(&self) -> usize {
        self.identity.len() + usize::from(matches!(self.boundary, Boundary::Read(..)))
    }

    /// Appended to conclusions drawn without some policies.
    fn caveat(&self) -> String {
        let mut missing: Vec<&str> = self.unread.iter().map(|(what, _)| what.as_str()).collect();
        if !self.list_errors.is_empty() {
            missing.push("the policies that could not be listed");
        }
        if missing.is_empty() {
            String::new()
        } else {
            format!(" (judged without {})", missing.join(", "))
        }
    }

    fn evaluate(&self, role: &str, action: &str, resource: &str, region: &str) -> Evaluation {
        let identity: Vec<NamedPolicy<'_>> = self
            .identity
            .iter()
            .map(|(name, document)| NamedPolicy { name, document })
            .collect();
        let boundary = match &self.boundary {
            Boundary::Read(name, document) => Some(NamedPolicy { name, document }),
            _ => None,
        };
        let request = Request {
            caller: Caller::Role {
                arn: role.to_owned(),
            },
            action: action.to_owned(),
            resource: Some(resource.to_owned()),
            context: role_context(role, region),
        };
        evaluate(&request, &identity, boundary, None)
    }

    fn statement(&self, reference: &StatementRef) -> Option<&Statement> {
        let document = match reference.kind {
            PolicyKind::Identity => self
                .identity
                .iter()
                .find(|(name, _)| *name == reference.policy)
                .map(|(_, d)| d),
            PolicyKind::Boundary => match &self.boundary {
                Boundary::Read(_, d) => Some(d),
                _ => None,
            },
            PolicyKind::Resource => None,
        }?;
        document
            .statements
            .iter()
            .find(|s| s.index == reference.index)
    }
}

/// What is known of a request made by a role's session: who and where; the rest
/// (source VPC, tags, transport …) is unknown.
fn role_context(role_arn: &str, region: &str) -> Context {
    let mut context = Context::new()
        .unlisted(Unlisted::Unknown)
        .with("aws:PrincipalArn", role_arn)
        .with("aws:PrincipalType", "AssumedRole")
        .with("aws:RequestedRegion", region);
    if let Some(role) = crate::policy::RoleArn::parse(role_arn) {
        context = context.with("aws:PrincipalAccount", role.account);
    }
    context
}

/// How a Deny statement reaches the action: spelled out for NotAction / NotResource.
fn deny_shape(statement: &Statement) -> String {
    let mut parts = Vec::new();
    if statement.action.negated {
        parts.push(format!(
            "it denies every action except {} (NotAction)",
            statement.action.patterns.join(", ")
        ));
    }
    if let Some(resource) = &statement.resource
        && resource.negated
    {
        parts.push(format!(
            "on every resource except {} (NotResource)",
            resource.patterns.join(", ")
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(" "))
    }
}

fn resources_text(statement: &Statement) -> String {
    match &statement.resource {
        None => "every resource".to_owned(),
        Some(block) if block.negated => {
            format!("every resource except {}", block.patterns.join(", "))
        }
        Some(block) => block.patterns.join(", "),
    }
}

fn statement_label(statement: &Statement) -> String {
    match &statement.sid {
        Some(sid) => format!("Statement[{}] (Sid {sid:?})", statement.index),
        None => format!("Statement[{}]", statement.index),
    }
}

fn in_policy(statement: &Statement, policy: &str) -> String {
    format!("{} of policy {policy}", statement_label(statement))
}

fn refs(references: &[StatementRef]) -> String {
    references
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn undecided(evaluation: &Evaluation) -> String {
    evaluation
        .undecidable
        .iter()
        .map(|u| format!("{}: {}", u.statement, u.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ApiError;
    use serde_json::{Value, json};

    const ROLE: &str = "arn:aws:iam::123456789012:role/AuroraRole-Identity-camunda-prod";
    const OS_ROLE: &str = "arn:aws:iam::123456789012:role/OpenSearchRole-camunda-os";
    const RESOURCE_ID: &str = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const DBUSER: &str = "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/identity_irsa";
    const ATTACHED: &str =
        "arn:aws:iam::123456789012:policy/AuroraRole-Identity-camunda-prod-access-policy";

    fn target() -> AuroraTarget {
        AuroraTarget {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            cluster_resource_id: Some(RESOURCE_ID.into()),
            db_user: Some("identity_irsa".into()),
        }
    }

    fn domain() -> OpenSearchDomain {
        OpenSearchDomain {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            name: "camunda-os".into(),
        }
    }

    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect()
    }

    fn policy(statements: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    fn source(name: &str, text: String) -> PolicySource {
        PolicySource {
            name: name.into(),
            document: Ok(text),
        }
    }

    /// Camunda's reference Aurora access policy (db.tf) with this world's values.
    fn reference_aurora() -> String {
        policy(json!([{
            "Effect": "Allow",
            "Action": ["rds-db:connect"],
            "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa"
        }]))
    }

    /// Camunda's reference OpenSearch access policy (opensearch.tf), abridged to the
    /// actions that matter plus a few of its describe actions.
    fn reference_opensearch() -> String {
        policy(json!([{
            "Effect": "Allow",
            "Action": [
                "es:DescribeElasticsearchDomains", "es:ListDomainNames", "es:ESHttpGet",
                "es:ESHttpHead", "es:ListTags", "es:ESHttpDelete", "es:ESHttpPost", "es:ESHttpPut"
            ],
            "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"
        }]))
    }

    fn role(attached: Vec<PolicySource>, inline: Vec<PolicySource>) -> RolePolicies {
        RolePolicies {
            role_arn: ROLE.into(),
            attached: Ok(attached),
            inline: Ok(inline),
            boundary: None,
        }
    }

    fn levels(findings: &[Finding]) -> Vec<(u8, Level)> {
        findings
            .iter()
            .map(|f| (f.code.number(), f.level))
            .collect()
    }

    fn message(findings: &[Finding], code: Code) -> &str {
        &findings.iter().find(|f| f.code == code).unwrap().message
    }

    fn denied(call: &str) -> ApiError {
        ApiError::new(
            call,
            Some("AccessDenied".into()),
            format!(
                "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:{call}"
            ),
        )
    }

    use Level::{Fail, Ok as Pass, Skip, Warn};

    #[test]
    fn reference_aurora_policy_passes() {
        // moto's GetPolicyVersion gives raw JSON; AWS gives it percent-encoded.
        for text in [reference_aurora(), encode(&reference_aurora())] {
            let findings = judge_aurora(
                "identity",
                &role(vec![source(ATTACHED, text)], vec![]),
                &target(),
            );
            assert_eq!(
                levels(&findings),
                vec![
                    (140, Pass),
                    (141, Pass),
                    (142, Pass),
                    (143, Pass),
                    (144, Pass)
                ]
            );
            assert!(
                findings
                    .iter()
                    .all(|f| f.component.as_deref() == Some("identity"))
            );
            assert_eq!(
                message(&findings, Code::AuroraPoliciesListed),
                format!("Role {ROLE}: 1 attached and 0 inline policies listed")
            );
            assert_eq!(
                message(&findings, Code::AuroraPolicyRead),
                format!("Role {ROLE}: all 1 policies read")
            );
            assert_eq!(
                message(&findings, Code::AuroraPermission),
                format!("Role {ROLE}: Statement[0] of policy {ATTACHED} grants rds-db:connect")
            );
            assert_eq!(
                message(&findings, Code::AuroraPermissionResource),
                format!(
                    "Role {ROLE} may rds-db:connect on {DBUSER} (Statement[0] of policy {ATTACHED})"
                )
            );
            assert_eq!(
                message(&findings, Code::AuroraPermissionNotBlocked),
                format!("Role {ROLE}: no Deny statement takes rds-db:connect on {DBUSER} away")
            );
        }
    }

    #[test]
    fn inline_only_permissions_count() {
        let findings = judge_aurora(
            "identity",
            &role(
                vec![],
                vec![source("aurora-connect", encode(&reference_aurora()))],
            ),
            &target(),
        );
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Pass),
                (142, Pass),
                (143, Pass),
                (144, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPoliciesListed),
            format!("Role {ROLE}: 0 attached and 1 inline policies listed")
        );
    }

    #[test]
    fn action_forms_that_grant_connect() {
        for action in [
            json!("rds-db:*"),
            json!("*"),
            json!(["s3:GetObject", "RDS-DB:Connect"]),
        ] {
            let text = policy(json!([{"Effect": "Allow", "Action": action, "Resource": "*"}]));
            let findings = judge_aurora(
                "identity",
                &role(vec![source(ATTACHED, text)], vec![]),
                &target(),
            );
            assert_eq!(
                levels(&findings),
                vec![
                    (140, Pass),
                    (141, Pass),
                    (142, Pass),
                    (143, Pass),
                    (144, Pass)
                ],
                "{action}"
            );
        }
        let not_action =
            policy(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]));
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, not_action)], vec![]),
            &target(),
        );
        assert_eq!(
            levels(&findings)[2..],
            [(142, Pass), (143, Pass), (144, Pass)]
        );
    }

    #[test]
    fn list_failures() {
        let mut policies = role(vec![], vec![source("aurora-connect", reference_aurora())]);
        policies.attached = Err(denied("ListAttachedRolePolicies"));
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(
            levels(&findings),
            vec![
                (140, Fail),
                (141, Pass),
                (142, Pass),
                (143, Pass),
                (144, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPoliciesListed),
            format!(
                "Role {ROLE}: its attached policies could not be listed: ListAttachedRolePolicies failed: AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:ListAttachedRolePolicies"
            )
        );
        assert!(
            message(&findings, Code::AuroraPermissionNotBlocked)
                .ends_with("(judged without the policies that could not be listed)")
        );

        policies.inline = Err(denied("ListRolePolicies"));
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(
            levels(&findings),
            vec![
                (140, Fail),
                (141, Skip),
                (142, Skip),
                (143, Skip),
                (144, Skip)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPermission),
            format!("the policies of role {ROLE} could not be listed")
        );
    }

    #[test]
    fn unread_and_unparsable_policies_fail_141_and_the_rest_goes_on() {
        let policies = role(
            vec![
                PolicySource {
                    name: "arn:aws:iam::123456789012:policy/gone".into(),
                    document: Err(denied("GetPolicyVersion")),
                },
                source(
                    "arn:aws:iam::123456789012:policy/broken",
                    "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D".into(),
                ),
                source(ATTACHED, reference_aurora()),
            ],
            vec![],
        );
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Fail),
                (141, Fail),
                (142, Pass),
                (143, Pass),
                (144, Pass)
            ]
        );
        assert_eq!(
            findings[1].message,
            format!(
                "Role {ROLE}: attached policy arn:aws:iam::123456789012:policy/gone could not be read: GetPolicyVersion failed: AccessDenied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetPolicyVersion"
            )
        );
        assert_eq!(
            findings[2].message,
            format!(
                "Role {ROLE}: attached policy arn:aws:iam::123456789012:policy/broken is not a valid policy document: Statement[0].Action: the statement has neither Action nor NotAction"
            )
        );
        assert_eq!(
            message(&findings, Code::AuroraPermissionNotBlocked),
            format!(
                "Role {ROLE}: no Deny statement takes rds-db:connect on {DBUSER} away (judged without attached policy arn:aws:iam::123456789012:policy/gone, attached policy arn:aws:iam::123456789012:policy/broken)"
            )
        );
    }

    #[test]
    fn no_grant_at_all() {
        let text = policy(
            json!([{"Effect": "Allow", "Action": ["rds:DescribeDBClusters", "rds:Connect"], "Resource": "*"}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, text)], vec![]),
            &target(),
        );
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Pass),
                (142, Fail),
                (143, Skip),
                (144, Skip)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPermission),
            format!(
                "Role {ROLE}: no Allow statement grants rds-db:connect (its policies: {ATTACHED})"
            )
        );
        assert!(
            findings[2]
                .hint
                .as_deref()
                .unwrap()
                .contains("arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa")
        );
        let none = judge_aurora("identity", &role(vec![], vec![]), &target());
        assert_eq!(
            message(&none, Code::AuroraPermission),
            format!(
                "Role {ROLE}: no Allow statement grants rds-db:connect (the role has no policy)"
            )
        );
    }

    #[test]
    fn grants_on_the_wrong_resource() {
        let rows = [
            (
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/webmodeler_irsa",
                "another user",
            ),
            (
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:camunda-aurora/identity_irsa",
                "the cluster name instead of its resource id",
            ),
            (
                "arn:aws:rds-db:eu-central-1:123456789012:dbuser:*/identity_irsa",
                "another region",
            ),
            (
                "arn:aws:rds-db:eu-west-1:210987654321:dbuser:*/identity_irsa",
                "another account",
            ),
            (
                "arn:aws:rds:eu-west-1:123456789012:cluster:camunda-aurora",
                "the cluster ARN",
            ),
        ];
        for (resource, what) in rows {
            let text = policy(
                json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": resource}]),
            );
            let findings = judge_aurora(
                "identity",
                &role(vec![source(ATTACHED, text)], vec![]),
                &target(),
            );
            assert_eq!(
                levels(&findings),
                vec![
                    (140, Pass),
                    (141, Pass),
                    (142, Pass),
                    (143, Fail),
                    (144, Pass)
                ],
                "{what}"
            );
            assert_eq!(
                message(&findings, Code::AuroraPermissionResource),
                format!(
                    "Role {ROLE} grants rds-db:connect only on {resource} (Statement[0] of policy {ATTACHED}), not on {DBUSER}"
                ),
                "{what}"
            );
        }
        let not_resource = policy(
            json!([{"Effect": "Allow", "Action": "rds-db:connect", "NotResource": "arn:aws:rds-db:*:*:dbuser:*/identity_irsa"}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, not_resource)], vec![]),
            &target(),
        );
        assert_eq!(
            message(&findings, Code::AuroraPermissionResource),
            format!(
                "Role {ROLE} grants rds-db:connect only on every resource except arn:aws:rds-db:*:*:dbuser:*/identity_irsa (Statement[0] of policy {ATTACHED}), not on {DBUSER}"
            )
        );
    }

    #[test]
    fn unknown_resource_id_or_user() {
        let mut unknown = target();
        unknown.cluster_resource_id = None;
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, reference_aurora())], vec![]),
            &unknown,
        );
        assert_eq!(levels(&findings)[3], (143, Pass));
        assert_eq!(
            message(&findings, Code::AuroraPermissionResource),
            format!(
                "Role {ROLE} may rds-db:connect on arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa (the cluster's resource id is unknown; the grant covers any) (Statement[0] of policy {ATTACHED})"
            )
        );
        let specific = policy(
            json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": format!("arn:aws:rds-db:eu-west-1:123456789012:dbuser:{RESOURCE_ID}/identity_irsa")}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, specific)], vec![]),
            &unknown,
        );
        assert_eq!(levels(&findings)[3], (143, Warn));
        assert_eq!(
            message(&findings, Code::AuroraPermissionResource),
            format!(
                "Role {ROLE}: cannot confirm that rds-db:connect covers arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa: the cluster's resource id is unknown, and the grants name {DBUSER} (Statement[0] of policy {ATTACHED})"
            )
        );
        let wrong_user = policy(
            json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": format!("arn:aws:rds-db:eu-west-1:123456789012:dbuser:{RESOURCE_ID}/other")}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, wrong_user)], vec![]),
            &unknown,
        );
        assert_eq!(levels(&findings)[3], (143, Fail));
        let mut no_user = target();
        no_user.db_user = None;
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, reference_aurora())], vec![]),
            &no_user,
        );
        assert_eq!(levels(&findings)[3], (143, Warn));
        assert!(
            message(&findings, Code::AuroraPermissionResource)
                .contains("the database user is unknown")
        );
    }

    #[test]
    fn deny_in_a_second_policy_names_it() {
        let deny = policy(
            json!([{"Sid": "NoDb", "Effect": "Deny", "Action": "rds-db:*", "Resource": "*"}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(
                vec![source(ATTACHED, reference_aurora())],
                vec![source("guard", deny)],
            ),
            &target(),
        );
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Pass),
                (142, Pass),
                (143, Pass),
                (144, Fail)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPermissionNotBlocked),
            format!(
                "Role {ROLE}: Statement[0] (Sid \"NoDb\") of policy guard denies rds-db:connect on {DBUSER}"
            )
        );
    }

    #[test]
    fn not_action_and_not_resource_denies_are_spelled_out() {
        let deny = policy(
            json!([{"Effect": "Deny", "NotAction": ["s3:*", "kms:Decrypt"], "NotResource": "arn:aws:s3:::camunda-backups/*"}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(
                vec![
                    source(ATTACHED, reference_aurora()),
                    source("arn:aws:iam::123456789012:policy/lockdown", deny),
                ],
                vec![],
            ),
            &target(),
        );
        assert_eq!(levels(&findings)[4], (144, Fail));
        assert_eq!(
            message(&findings, Code::AuroraPermissionNotBlocked),
            format!(
                "Role {ROLE}: Statement[0] of policy arn:aws:iam::123456789012:policy/lockdown denies rds-db:connect on {DBUSER}: it denies every action except s3:*, kms:Decrypt (NotAction) on every resource except arn:aws:s3:::camunda-backups/* (NotResource)"
            )
        );
    }

    #[test]
    fn boundaries() {
        let mut policies = role(vec![source(ATTACHED, reference_aurora())], vec![]);
        policies.boundary = Some(source(
            "arn:aws:iam::123456789012:policy/boundary",
            policy(json!([{"Effect": "Allow", "Action": ["s3:*", "es:*"], "Resource": "*"}])),
        ));
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Pass),
                (142, Pass),
                (143, Pass),
                (144, Fail)
            ]
        );
        assert_eq!(
            message(&findings, Code::AuroraPermissionNotBlocked),
            format!(
                "Role {ROLE}: the permissions boundary arn:aws:iam::123456789012:policy/boundary does not allow rds-db:connect on {DBUSER}"
            )
        );
        policies.boundary = Some(source(
            "arn:aws:iam::123456789012:policy/boundary",
            policy(json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}])),
        ));
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(levels(&findings)[4], (144, Pass));
        assert_eq!(
            message(&findings, Code::AuroraPermissionNotBlocked),
            format!(
                "Role {ROLE}: no Deny statement takes rds-db:connect on {DBUSER} away; the permissions boundary arn:aws:iam::123456789012:policy/boundary allows it"
            )
        );
        assert_eq!(
            message(&findings, Code::AuroraPolicyRead),
            format!("Role {ROLE}: all 2 policies read")
        );
        policies.boundary = Some(PolicySource {
            name: "arn:aws:iam::123456789012:policy/boundary".into(),
            document: Err(denied("GetPolicyVersion")),
        });
        let findings = judge_aurora("identity", &policies, &target());
        assert_eq!(
            levels(&findings),
            vec![
                (140, Pass),
                (141, Fail),
                (142, Pass),
                (143, Pass),
                (144, Warn)
            ]
        );
        assert!(message(&findings, Code::AuroraPermissionNotBlocked).contains("the permissions boundary arn:aws:iam::123456789012:policy/boundary could not be read; it may take rds-db:connect away"));
    }

    #[test]
    fn conditions_on_unknown_keys_are_undecidable_known_ones_are_judged() {
        let vpc = policy(
            json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, vpc)], vec![]),
            &target(),
        );
        assert_eq!(levels(&findings)[3], (143, Warn));
        assert_eq!(
            message(&findings, Code::AuroraPermissionResource),
            format!(
                "Role {ROLE}: cannot tell whether rds-db:connect covers {DBUSER}: Statement[0] of policy {ATTACHED}: StringEquals depends on the request's aws:SourceVpc, which irsa-check cannot know"
            )
        );
        let transport = policy(
            json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(
                vec![
                    source(ATTACHED, reference_aurora()),
                    source("tls-only", transport),
                ],
                vec![],
            ),
            &target(),
        );
        assert_eq!(levels(&findings)[4], (144, Warn));
        // A region guard is decided: the request's region is known.
        let region = policy(
            json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}}}]),
        );
        let findings = judge_aurora(
            "identity",
            &role(
                vec![
                    source(ATTACHED, reference_aurora()),
                    source("region-guard", region.clone()),
                ],
                vec![],
            ),
            &target(),
        );
        assert_eq!(levels(&findings)[4], (144, Pass));
        let mut elsewhere = target();
        elsewhere.region = "us-east-1".into();
        let findings = judge_aurora(
            "identity",
            &role(
                vec![
                    source(
                        ATTACHED,
                        policy(
                            json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}]),
                        ),
                    ),
                    source("region-guard", region),
                ],
                vec![],
            ),
            &elsewhere,
        );
        assert_eq!(levels(&findings)[4], (144, Fail));
    }

    #[test]
    fn role_paths_and_partitions() {
        let gov_target = AuroraTarget {
            partition: "aws-us-gov".into(),
            region: "us-gov-west-1".into(),
            ..target()
        };
        let text = policy(
            json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "arn:aws-us-gov:rds-db:us-gov-west-1:123456789012:dbuser:*/identity_irsa"}]),
        );
        let mut policies = role(vec![source(ATTACHED, text.clone())], vec![]);
        policies.role_arn =
            "arn:aws-us-gov:iam::123456789012:role/camunda/prod/AuroraRole-Identity".into();
        let findings = judge_aurora("identity", &policies, &gov_target);
        assert!(findings.iter().all(|f| f.level == Pass), "{findings:#?}");
        // The commercial-partition ARN does not cover a us-gov database.
        let findings = judge_aurora(
            "identity",
            &role(vec![source(ATTACHED, reference_aurora())], vec![]),
            &gov_target,
        );
        assert_eq!(levels(&findings)[3], (143, Fail));
    }

    #[test]
    fn reference_opensearch_policy_passes() {
        let mut policies = role(
            vec![source(
                "arn:aws:iam::123456789012:policy/OpenSearchRole-camunda-os-access-policy",
                reference_opensearch(),
            )],
            vec![],
        );
        policies.role_arn = OS_ROLE.into();
        let findings = judge_opensearch("optimize", &policies, &domain());
        assert_eq!(
            levels(&findings),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Pass),
                (153, Pass),
                (154, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::OpenSearchPermission),
            format!(
                "Role {OS_ROLE}: Statement[0] of policy arn:aws:iam::123456789012:policy/OpenSearchRole-camunda-os-access-policy grants es:ESHttpGet, es:ESHttpHead, es:ESHttpPost, es:ESHttpPut, es:ESHttpDelete"
            )
        );
        assert_eq!(
            message(&findings, Code::OpenSearchPermissionResource),
            format!(
                "Role {OS_ROLE} may es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* (Statement[0] of policy arn:aws:iam::123456789012:policy/OpenSearchRole-camunda-os-access-policy)"
            )
        );
    }

    #[test]
    fn opensearch_traps() {
        let judge = |statements: Value| {
            let mut policies = role(vec![], vec![source("os", policy(statements))]);
            policies.role_arn = OS_ROLE.into();
            judge_opensearch("zeebe", &policies, &domain())
        };
        let wildcard = judge(
            json!([{"Effect": "Allow", "Action": "es:ESHttp*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        assert_eq!(
            levels(&wildcard),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Pass),
                (153, Pass),
                (154, Pass)
            ]
        );

        let get_only = judge(
            json!([{"Effect": "Allow", "Action": "es:ESHttpGet", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        assert_eq!(
            levels(&get_only),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Warn),
                (153, Pass),
                (154, Pass)
            ]
        );
        assert_eq!(
            message(&get_only, Code::OpenSearchPermission),
            format!(
                "Role {OS_ROLE}: Statement[0] of policy os grants es:ESHttpGet but no statement grants es:ESHttpHead, es:ESHttpPost, es:ESHttpPut, es:ESHttpDelete, which the components also use"
            )
        );

        let domain_only = judge(
            json!([{"Effect": "Allow", "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os"}]),
        );
        assert_eq!(
            levels(&domain_only),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Pass),
                (153, Fail),
                (154, Pass)
            ]
        );
        assert_eq!(
            message(&domain_only, Code::OpenSearchPermissionResource),
            format!(
                "Role {OS_ROLE} grants es:ESHttpGet only on arn:aws:es:eu-west-1:123456789012:domain/camunda-os (Statement[0] of policy os), not on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"
            )
        );
        let one_index = judge(
            json!([{"Effect": "Allow", "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/zeebe-*"}]),
        );
        assert_eq!(levels(&one_index)[3], (153, Fail));
        let prefix = judge(
            json!([{"Effect": "Allow", "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os*"}]),
        );
        assert_eq!(levels(&prefix)[3], (153, Pass));

        let none = judge(
            json!([{"Effect": "Allow", "Action": ["es:DescribeDomain", "es:ListTags"], "Resource": "*"}]),
        );
        assert_eq!(
            levels(&none),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Fail),
                (153, Skip),
                (154, Skip)
            ]
        );

        let no_delete = judge(json!([
            {"Effect": "Allow", "Action": "es:ESHttp*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"},
            {"Effect": "Deny", "Action": "es:ESHttpDelete", "Resource": "*"}
        ]));
        assert_eq!(
            levels(&no_delete),
            vec![
                (150, Pass),
                (151, Pass),
                (152, Pass),
                (153, Pass),
                (154, Warn)
            ]
        );
        assert_eq!(
            message(&no_delete, Code::OpenSearchPermissionNotBlocked),
            format!(
                "Role {OS_ROLE}: Statement[1] of policy os denies es:ESHttpDelete on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"
            )
        );
        let deny_all = judge(json!([
            {"Effect": "Allow", "Action": "es:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "es:*", "Resource": "arn:aws:es:*:*:domain/camunda-os/*"}
        ]));
        assert_eq!(levels(&deny_all)[4], (154, Fail));
    }

    #[test]
    fn domain_access_policy() {
        let roles = [
            ("orchestration", OS_ROLE),
            (
                "optimize",
                "arn:aws:iam::123456789012:role/other/OptimizeRole",
            ),
        ];
        // Camunda's reference: {"AWS": "*"} with es:* on the domain's paths.
        let reference = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        let findings = judge_domain_access_policy(&reference, &domain(), &roles);
        assert_eq!(levels(&findings), vec![(67, Pass), (68, Pass), (68, Pass)]);
        assert_eq!(findings[0].component, None);
        assert_eq!(findings[2].component.as_deref(), Some("optimize"));
        assert_eq!(
            findings[1].message,
            format!(
                "The access policy of domain camunda-os allows role {OS_ROLE} es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* (Statement[0] of the access policy of domain camunda-os)"
            )
        );

        let named = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": [OS_ROLE]}, "Action": "es:ESHttp*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        let findings = judge_domain_access_policy(&named, &domain(), &roles);
        assert_eq!(levels(&findings), vec![(67, Pass), (68, Pass), (68, Fail)]);
        assert_eq!(
            findings[2].message,
            format!(
                "The access policy of domain camunda-os does not allow role arn:aws:iam::123456789012:role/other/OptimizeRole es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* (its Allow statements name AWS: {OS_ROLE})"
            )
        );

        let account = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        assert_eq!(
            levels(&judge_domain_access_policy(&account, &domain(), &roles)),
            vec![(67, Pass), (68, Pass), (68, Pass)]
        );

        let with_deny = policy(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"},
            {"Sid": "NoOptimize", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/other/OptimizeRole"}, "Action": "es:*", "Resource": "*"}
        ]));
        let findings = judge_domain_access_policy(&with_deny, &domain(), &roles);
        assert_eq!(levels(&findings), vec![(67, Pass), (68, Pass), (68, Fail)]);
        assert!(findings[2].message.contains(
            "denies role arn:aws:iam::123456789012:role/other/OptimizeRole es:ESHttpGet"
        ));
        assert!(
            findings[2]
                .message
                .contains("Statement[1] (Sid \"NoOptimize\")")
        );

        let ip = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
        );
        assert_eq!(
            levels(&judge_domain_access_policy(&ip, &domain(), &roles)),
            vec![(67, Pass), (68, Warn), (68, Warn)]
        );

        let deny_only = policy(
            json!([{"Effect": "Deny", "Principal": "*", "Action": "es:*", "Resource": "*"}]),
        );
        let findings = judge_domain_access_policy(&deny_only, &domain(), &roles);
        assert_eq!(levels(&findings), vec![(67, Fail), (68, Skip), (68, Skip)]);
        assert_eq!(
            findings[0].message,
            "The access policy of OpenSearch domain camunda-os has no Allow statement"
        );

        let findings = judge_domain_access_policy("not json", &domain(), &roles);
        assert_eq!(levels(&findings), vec![(67, Fail), (68, Skip), (68, Skip)]);
        assert!(findings[0].message.starts_with("The access policy of OpenSearch domain camunda-os is not a valid policy document: not valid JSON"));
    }

    #[test]
    fn domain_access_with_the_roles_own_policies() {
        // The domain policy names only the orchestration role; optimize's role grants
        // itself access: within one account AWS allows that (the lead's rule for 68).
        let named = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": OS_ROLE}, "Action": "es:ESHttp*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        const OPTIMIZE: &str = "arn:aws:iam::123456789012:role/other/OptimizeRole";
        let with = |statements: Value| {
            let mut p = role(vec![source("optimize-access", policy(statements))], vec![]);
            p.role_arn = OPTIMIZE.into();
            p
        };
        let grants = with(
            json!([{"Effect": "Allow", "Action": "es:ESHttp*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        let judge = |access: &str, identity: RoleIdentity<'_>| {
            judge_domain_access(
                access,
                &domain(),
                &[DomainPrincipal {
                    component: "optimize",
                    role_arn: OPTIMIZE,
                    identity,
                }],
            )
        };
        let f = judge(&named, RoleIdentity::Read(&grants));
        assert_eq!(levels(&f), vec![(67, Pass), (68, Pass)]);
        assert_eq!(
            f[1].message,
            format!(
                "The access policy of domain camunda-os does not name role {OPTIMIZE}, but the role's own policies allow es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* (Statement[0] of policy optimize-access): within one account that is enough"
            )
        );
        assert_eq!(f[1].component.as_deref(), Some("optimize"));

        // Neither allows: FAIL, saying both.
        let nothing =
            with(json!([{"Effect": "Allow", "Action": "es:DescribeDomain", "Resource": "*"}]));
        let f = judge(&named, RoleIdentity::Read(&nothing));
        assert_eq!(levels(&f), vec![(67, Pass), (68, Fail)]);
        assert_eq!(
            f[1].message,
            format!(
                "The access policy of domain camunda-os does not allow role {OPTIMIZE} es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* (its Allow statements name AWS: {OS_ROLE}), nor do the role's own policies (no statement grants it)"
            )
        );

        // The boundary takes the identity grant away.
        let mut bounded = grants.clone();
        bounded.boundary = Some(source(
            "boundary",
            policy(json!([{"Effect": "Allow", "Action": "rds-db:*", "Resource": "*"}])),
        ));
        let f = judge(&named, RoleIdentity::Read(&bounded));
        assert_eq!(levels(&f)[1], (68, Fail));
        assert!(
            f[1].message.ends_with(
                "nor do the role's own policies (their grant is outside the permissions boundary)"
            ),
            "{}",
            f[1].message
        );

        // An explicit Deny in the domain policy wins over the identity grant.
        let deny = policy(json!([
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"},
            {"Effect": "Deny", "Principal": {"AWS": OPTIMIZE}, "Action": "es:*", "Resource": "*"}
        ]));
        let f = judge(&deny, RoleIdentity::Read(&grants));
        assert_eq!(levels(&f)[1], (68, Fail));
        assert!(
            f[1].message
                .contains(&format!("denies role {OPTIMIZE} es:ESHttpGet"))
        );

        // Policies unreadable: no false alarm, a warning.
        let f = judge(
            &named,
            RoleIdentity::Unreadable("iam:GetRole failed: AccessDenied: no"),
        );
        assert_eq!(levels(&f)[1], (68, Warn));
        assert_eq!(
            f[1].message,
            format!(
                "The access policy of domain camunda-os does not name role {OPTIMIZE}, and whether the role's own policies allow es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/* cannot be told: its policies could not be read: iam:GetRole failed: AccessDenied: no"
            )
        );
        // A policy that could not be read leaves the identity side unknown.
        let mut partial = nothing.clone();
        partial.inline = Err(denied("ListRolePolicies"));
        assert_eq!(
            levels(&judge(&named, RoleIdentity::Read(&partial)))[1],
            (68, Warn)
        );

        // A role of another account needs the domain policy itself.
        let mut foreign = grants.clone();
        const FOREIGN: &str = "arn:aws:iam::210987654321:role/OptimizeRole";
        foreign.role_arn = FOREIGN.into();
        let f = judge_domain_access(
            &named,
            &domain(),
            &[DomainPrincipal {
                component: "optimize",
                role_arn: FOREIGN,
                identity: RoleIdentity::Read(&foreign),
            }],
        );
        assert_eq!(levels(&f)[1], (68, Fail));
        assert!(f[1].message.ends_with(&format!("and role {FOREIGN} is in account 210987654321, not the domain's account 123456789012: the domain policy itself must allow it")), "{}", f[1].message);

        // Ignored identity: the domain policy alone decides (the old behaviour).
        assert_eq!(levels(&judge(&named, RoleIdentity::Ignored))[1], (68, Fail));
        // The domain policy allowing is enough whatever the role's policies say.
        let reference = policy(
            json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"}]),
        );
        assert_eq!(
            levels(&judge(&reference, RoleIdentity::Read(&nothing)))[1],
            (68, Pass)
        );
    }

    #[test]
    fn node_role_reach() {
        let node = "arn:aws:iam::123456789012:role/camunda-prod-node-role";
        let worker = policy(
            json!([{"Effect": "Allow", "Action": ["ec2:Describe*", "eks:DescribeCluster", "ecr:GetAuthorizationToken"], "Resource": "*"}]),
        );
        let node_role = |extra: Option<String>| RolePolicies {
            role_arn: node.into(),
            attached: Ok(std::iter::once(source(
                "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
                worker.clone(),
            ))
            .chain(extra.map(|e| source("node-extra", e)))
            .collect()),
            inline: Ok(vec![]),
            boundary: None,
        };
        let identity = target();
        let web_modeler = AuroraTarget {
            db_user: Some("webmodeler_irsa".into()),
            ..target()
        };
        let aurora = [("identity", &identity), ("webModeler", &web_modeler)];
        let findings = judge_node_role_reach(&node_role(None), &aurora, Some(&domain()));
        assert_eq!(levels(&findings), vec![(171, Pass)]);
        assert_eq!(
            findings[0].message,
            format!(
                "Node role {node} grants no rds-db:connect or es:ESHttp* on the components' resources"
            )
        );

        let too_much = policy(json!([
            {"Effect": "Allow", "Action": "rds-db:connect", "Resource": "arn:aws:rds-db:*:*:dbuser:*/identity_irsa"},
            {"Effect": "Allow", "Action": "es:*", "Resource": "*"}
        ]));
        let findings = judge_node_role_reach(&node_role(Some(too_much)), &aurora, Some(&domain()));
        assert_eq!(levels(&findings), vec![(171, Warn), (171, Warn)]);
        assert_eq!(findings[0].component.as_deref(), Some("identity"));
        assert_eq!(
            findings[0].message,
            format!(
                "Node role {node} itself allows rds-db:connect on {DBUSER} (Statement[0] of policy node-extra): a pod whose IRSA is broken falls back to the node role and still works, which hides the failure"
            )
        );
        assert_eq!(findings[1].component, None);
        assert!(findings[1].message.starts_with(&format!("Node role {node} itself allows es:ESHttpGet on arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*")));

        let mut unlisted = node_role(None);
        unlisted.inline = Err(denied("ListRolePolicies"));
        let findings = judge_node_role_reach(&unlisted, &aurora, None);
        assert_eq!(levels(&findings), vec![(171, Warn)]);
        assert!(findings[0].message.starts_with(&format!("Cannot fully judge what node role {node} grants: its inline policies could not be listed: ListRolePolicies failed")));
    }
}
