//! AWS's policy evaluation logic for one request, over identity policies, a permissions
//! boundary and a resource policy (trust policies are resource policies too).

use super::arn::{RoleArn, account_of};
use super::condition::{Context, Undecidable, evaluate_all};
use super::document::{Effect, PolicyDocument, PrincipalType, Principals, Statement};
use super::wildcard;
use std::fmt;

/// Who makes the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// An IAM role, by ARN (a path is allowed). Resource policies name it by its ARN,
    /// its account (root ARN or bare id), a session ARN of it, or `*`.
    Role { arn: String },
    /// A web identity token issued by an OIDC provider (IRSA's AssumeRoleWithWebIdentity).
    WebIdentity { provider_arn: String },
}

/// One request to judge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub caller: Caller,
    /// `service:Action`, e.g. `rds-db:connect`.
    pub action: String,
    /// The resource ARN; `None` when the action has no resource (trust policies), in which
    /// case `Resource` elements are not consulted.
    pub resource: Option<String>,
    pub context: Context,
}

/// A policy and the name findings use for it (managed policy ARN or inline name).
#[derive(Clone, Copy, Debug)]
pub struct NamedPolicy<'a> {
    pub name: &'a str,
    pub document: &'a PolicyDocument,
}

/// Which role a policy plays in the evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    Identity,
    Boundary,
    Resource,
}

/// A statement, by policy name, index and Sid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRef {
    pub policy: String,
    pub kind: PolicyKind,
    pub index: usize,
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Statement[{}]", self.index)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid:?})")?;
        }
        let what = match self.kind {
            PolicyKind::Identity => "policy ",
            PolicyKind::Boundary => "permissions boundary ",
            // Resource policies are named by what they belong to ("the trust policy",
            // "the access policy of domain X"), which says what they are.
            PolicyKind::Resource if self.policy.starts_with("the ") => "",
            PolicyKind::Resource => "resource policy ",
        };
        write!(f, " of {what}{}", self.policy)
    }
}

/// Three-valued answers: a statement whose conditions cannot be decided makes the answer
/// `Unknown`, never a silent yes or no.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tri {
    Yes,
    No,
    Unknown,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Yes, Tri::Yes) => Tri::Yes,
            _ => Tri::Unknown,
        }
    }

    fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::No, Tri::No) => Tri::No,
            _ => Tri::Unknown,
        }
    }
}

/// The outcome for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    /// A Deny statement applies.
    ExplicitDeny,
    /// Nothing allows it.
    ImplicitDeny,
    /// It depends on a statement irsa-check cannot decide (see `Evaluation::undecidable`).
    Undecidable,
}

/// A statement that might apply, and why that cannot be decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecided {
    pub statement: StatementRef,
    pub effect: Effect,
    pub reason: Undecidable,
}

/// The decision, and the statements behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// Allow statements that apply (of every kind of policy).
    pub allowed_by: Vec<StatementRef>,
    /// Deny statements that apply.
    pub denied_by: Vec<StatementRef>,
    pub undecidable: Vec<Undecided>,
    /// Whether the identity policies allow (`No` when there are none).
    pub identity_allows: Tri,
    /// Whether the boundary allows; `None` without a boundary.
    pub boundary_allows: Option<Tri>,
    /// Whether the resource policy allows; `None` without one.
    pub resource_allows: Option<Tri>,
    /// True when the identity policies allow and only the boundary keeps it from
    /// being allowed.
    pub blocked_by_boundary: bool,
}

/// Evaluate `request` the way AWS documents it: an explicit Deny in any policy wins;
/// otherwise the request is allowed when an identity policy allows it and the boundary
/// (if any) allows it too, or when the resource policy allows the caller. When the
/// caller is a role of another account than the resource, a given resource policy must
/// allow *and* the identity side must allow. (AWS's finer rule, that a resource policy
/// naming the role ARN, rather than a session, is still limited by the boundary, is not
/// modelled: no check here has both a boundary and a resource policy.)
pub fn evaluate(
    request: &Request,
    identity_policies: &[NamedPolicy<'_>],
    boundary: Option<NamedPolicy<'_>>,
    resource_policy: Option<NamedPolicy<'_>>,
) -> Evaluation {
    let mut tally = Tally::default();
    let identity_allows = identity_policies
        .iter()
        .map(|p| tally.policy(request, *p, PolicyKind::Identity))
        .fold(Tri::No, Tri::or);
    let boundary_allows = boundary.map(|p| tally.policy(request, p, PolicyKind::Boundary));
    let resource_allows = resource_policy.map(|p| tally.policy(request, p, PolicyKind::Resource));

    let identity_side = identity_allows.and(boundary_allows.unwrap_or(Tri::Yes));
    let cross_account = match (&request.caller, &request.resource) {
        (Caller::Role { arn }, Some(resource)) => {
            match (RoleArn::parse(arn), account_of(resource)) {
                (Some(role), Some(account)) => role.account != account,
                _ => false,
            }
        }
        _ => false,
    };
    let allowed = match resource_allows {
        Some(resource) if cross_account => identity_side.and(resource),
        Some(resource) => identity_side.or(resource),
        None => identity_side,
    };
    let maybe_denied = tally.undecidable.iter().any(|u| u.effect == Effect::Deny);
    let decision = if !tally.denied_by.is_empty() {
        Decision::ExplicitDeny
    } else {
        match allowed {
            Tri::Yes if !maybe_denied => Decision::Allow,
            Tri::No => Decision::ImplicitDeny,
            _ => Decision::Undecidable,
        }
    };
    let blocked_by_boundary = identity_allows == Tri::Yes
        && boundary_allows == Some(Tri::No)
        && resource_allows != Some(Tri::Yes);
    Evaluation {
        decision,
        allowed_by: tally.allowed_by,
        denied_by: tally.denied_by,
        undecidable: tally.undecidable,
        identity_allows,
        boundary_allows,
        resource_allows,
        blocked_by_boundary,
    }
}

#[derive(Default)]
struct Tally {
    allowed_by: Vec<StatementRef>,
    denied_by: Vec<StatementRef>,
    undecidable: Vec<Undecided>,
}

impl Tally {
    /// Record every statement of one policy that applies; answer whether it allows.
    fn policy(&mut self, request: &Request, policy: NamedPolicy<'_>, kind: PolicyKind) -> Tri {
        let variables = policy.document.has_policy_variables();
        let mut allows = Tri::No;
        for statement in &policy.document.statements {
            let reference = || StatementRef {
                policy: policy.name.to_owned(),
                kind,
                index: statement.index,
                sid: statement.sid.clone(),
            };
            let applies = statement.applies(request, kind == PolicyKind::Resource, variables);
            match (applies, statement.effect) {
                (Ok(false), _) => {}
                (Ok(true), Effect::Allow) => {
                    allows = Tri::Yes;
                    self.allowed_by.push(reference());
                }
                (Ok(true), Effect::Deny) => self.denied_by.push(reference()),
                (Err(reason), effect) => {
                    if effect == Effect::Allow {
                        allows = allows.or(Tri::Unknown);
                    }
                    self.undecidable.push(Undecided {
                        statement: reference(),
                        effect,
                        reason,
                    });
                }
            }
        }
        allows
    }
}

impl Statement {
    /// Whether the statement's `Action`/`NotAction` covers `action` (case-insensitive).
    pub fn covers_action(&self, action: &str) -> bool {
        let matched = self
            .action
            .patterns
            .iter()
            .any(|p| wildcard::matches(p, action, true));
        matched != self.action.negated
    }

    /// Whether the statement's `Resource`/`NotResource` covers `resource` (case-sensitive;
    /// a statement without either covers everything). Undecidable with policy variables.
    pub fn covers_resource(&self, resource: &str, variables: bool) -> Result<bool, Undecidable> {
        let Some(block) = &self.resource else {
            return Ok(true);
        };
        let is_variable = |p: &&String| variables && p.contains("${");
        let matched = block
            .patterns
            .iter()
            .filter(|p| !is_variable(p))
            .any(|p| wildcard::matches(p, resource, false));
        if matched {
            return Ok(!block.negated);
        }
        if let Some(pattern) = block.patterns.iter().find(is_variable) {
            return Err(format!(
                "resource {pattern} uses a policy variable, which irsa-check does not resolve"
            ));
        }
        Ok(block.negated)
    }

    /// Whether `Principal`/`NotPrincipal` names the caller. A statement without either
    /// names nobody (in a resource policy, IAM requires one).
    pub fn names_caller(&self, caller: &Caller) -> bool {
        let Some(block) = &self.principal else {
            return false;
        };
        principals_name(&block.principals, caller) != block.negated
    }

    /// Whether the statement applies to the request. `check_principal` is true for
    /// resource policies (identity policies and boundaries have no principal).
    pub fn applies(
        &self,
        request: &Request,
        check_principal: bool,
        variables: bool,
    ) -> Result<bool, Undecidable> {
        if !self.covers_action(&request.action)
            || (check_principal && !self.names_caller(&request.caller))
        {
            return Ok(false);
        }
        let resource = match &request.resource {
            Some(resource) => self.covers_resource(resource, variables),
            None => Ok(true),
        };
        if resource == Ok(false) {
            return Ok(false);
        }
        match (
            resource,
            evaluate_all(&self.conditions, &request.context, variables),
        ) {
            (_, Ok(false)) => Ok(false),
            (Err(reason), _) => Err(reason),
            (Ok(_), conditions) => conditions,
        }
    }
}

fn principals_name(principals: &Principals, caller: &Caller) -> bool {
    if *principals == Principals::Everyone {
        return true;
    }
    match caller {
        Caller::Role { arn } => {
            let role = RoleArn::parse(arn);
            principals.of_type(PrincipalType::Aws).any(|named| {
                named == "*"
                    || named == arn
                    || role.as_ref().is_some_and(|role| {
                        named == role.account
                            || named == role.account_root()
                            // IRSA's session name is chosen by the SDK, so a session ARN of
                            // the role is taken to name the role's sessions.
                            || named.starts_with(&role.session_prefix())
                    })
            })
        }
        Caller::WebIdentity { provider_arn } => principals
            .of_type(PrincipalType::Federated)
            .any(|named| named == provider_arn),
    }
}
