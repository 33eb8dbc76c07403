//! Trust analysis for IRSA: does a role's trust policy admit the web identity token of
//! one service account of one EKS cluster, and if not, which part is wrong.

use super::arn::OidcProviderArn;
use super::condition::{Context, Undecidable, Unlisted, evaluate_all};
use super::document::{ConditionClause, Effect, PolicyDocument, PrincipalBlock, PrincipalType};
use super::evaluate::{Caller, Decision, Evaluation, NamedPolicy, Request, StatementRef, evaluate};

/// The action IRSA's SDKs call.
pub const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "sts:AssumeRoleWithWebIdentity";
/// The audience EKS projects into service account tokens by default.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// Whose token the trust policy must admit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustQuery {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The account of the cluster's OIDC provider (the role's account).
    pub account: String,
    /// The cluster's issuer without `https://`: `oidc.eks.REGION.amazonaws.com/id/ID`.
    pub issuer: String,
    pub namespace: String,
    pub service_account: String,
    /// The token's audience (the service account's `eks.amazonaws.com/audience`, or
    /// `sts.amazonaws.com`).
    pub audience: String,
}

impl TrustQuery {
    /// A query with the default audience. The issuer may be given as the EKS API shows
    /// it (`https://…`); scheme and trailing slash are dropped.
    pub fn new(
        partition: impl Into<String>,
        account: impl Into<String>,
        issuer: &str,
        namespace: impl Into<String>,
        service_account: impl Into<String>,
    ) -> TrustQuery {
        let issuer = issuer.trim();
        let issuer = issuer.strip_prefix("https://").unwrap_or(issuer);
        TrustQuery {
            partition: partition.into(),
            account: account.into(),
            issuer: issuer.trim_end_matches('/').to_owned(),
            namespace: namespace.into(),
            service_account: service_account.into(),
            audience: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    /// `system:serviceaccount:NS:SA`, the token's `sub`.
    pub fn subject(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace, self.service_account
        )
    }

    /// The ARN of this cluster's IAM OIDC provider.
    pub fn provider_arn(&self) -> String {
        OidcProviderArn::arn_for(&self.partition, &self.account, &self.issuer)
    }

    /// The request context of this cluster's token.
    pub fn context(&self) -> Context {
        token_context(&self.issuer, &self.subject(), &self.audience)
    }
}

/// An EKS token carries its issuer's `sub` and `aud` and no other issuer's claims;
/// global keys (`aws:…`) depend on the request and stay unknown.
fn token_context(issuer: &str, subject: &str, audience: &str) -> Context {
    Context::new()
        .unlisted(Unlisted::UnknownExceptClaims)
        .with(&format!("{issuer}:sub"), subject)
        .with(&format!("{issuer}:aud"), audience)
}

/// How many service accounts a statement lets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyServiceAccount {
    /// Only named service accounts.
    No,
    /// Every service account of the queried namespace (`system:serviceaccount:NS:*`):
    /// any workload there may use the role, so it is reported like the cluster-wide case.
    InNamespace,
    /// Every service account of the cluster (no `sub` condition, `system:serviceaccount:*`, …).
    InCluster,
}

/// A `Federated` principal of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedPrincipal {
    pub arn: String,
    /// Set when the ARN is an EKS OIDC provider's.
    pub eks: Option<OidcProviderArn>,
    /// Same partition, account and issuer as the query.
    pub this_cluster: bool,
}

/// The condition clauses on one token claim (`<issuer>:sub` or `<issuer>:aud`) and
/// whether they admit the token's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimCheck {
    /// The clauses whose key ends in `:sub` (or `:aud`), of whatever issuer.
    pub clauses: Vec<ConditionClause>,
    /// Whether they admit the value for a token from the statement's own provider (so
    /// that a wrong provider is told apart from a wrong subject); no clause admits all.
    pub admits: Result<bool, Undecidable>,
}

/// An Allow statement whose action covers `sts:AssumeRoleWithWebIdentity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebIdentityStatement {
    pub index: usize,
    pub sid: Option<String>,
    pub principal: Option<PrincipalBlock>,
    pub federated: Vec<FederatedPrincipal>,
    pub subject: ClaimCheck,
    pub audience: ClaimCheck,
    /// `(key, value)` pairs where a `*` or `?` sits under a string-equality operator.
    pub literal_wildcards: Vec<(String, String)>,
    pub any_service_account: AnyServiceAccount,
    /// The clauses on other keys than `sub` and `aud`.
    pub other_clauses: Vec<ConditionClause>,
    /// Whether they hold for this cluster's token.
    pub other_conditions: Result<bool, Undecidable>,
}

impl WebIdentityStatement {
    /// True when some Federated principal is an EKS OIDC provider (and no NotPrincipal).
    pub fn names_eks_provider(&self) -> bool {
        !self.principal.as_ref().is_some_and(|p| p.negated)
            && self.federated.iter().any(|f| f.eks.is_some())
    }

    /// True when some Federated principal is this cluster's provider.
    pub fn names_this_cluster(&self) -> bool {
        self.names_eks_provider() && self.federated.iter().any(|f| f.this_cluster)
    }
}

/// What a trust policy says about one service account's token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnalysis {
    pub subject: String,
    /// Allow statements covering `sts:AssumeRoleWithWebIdentity`, in document order.
    pub statements: Vec<WebIdentityStatement>,
    /// The actions the other Allow statements allow (to say what the trust does instead).
    pub other_allowed_actions: Vec<String>,
    /// The whole policy evaluated for exactly this token (action, this cluster's
    /// provider, `sub` and `aud`): the final word, Deny statements included.
    pub evaluation: Evaluation,
}

impl TrustAnalysis {
    /// The overall answer: some statement admits exactly this token and no Deny applies.
    pub fn admits_token(&self) -> bool {
        self.evaluation.decision == Decision::Allow
    }

    /// Deny statements that block this token.
    pub fn blocking_denies(&self) -> &[StatementRef] {
        &self.evaluation.denied_by
    }
}

/// The name the trust policy has in evaluations and messages.
pub const TRUST_POLICY_NAME: &str = "the trust policy";

/// Analyse a trust policy for the token `query` describes.
pub fn analyze_trust(document: &PolicyDocument, query: &TrustQuery) -> TrustAnalysis {
    let variables = document.has_policy_variables();
    let subject = query.subject();
    let mut statements = Vec::new();
    let mut other_allowed_actions = Vec::new();
    for statement in &document.statements {
        if statement.effect != Effect::Allow {
            continue;
        }
        if !statement.covers_action(ASSUME_ROLE_WITH_WEB_IDENTITY) {
            let prefix = if statement.action.negated {
                "all but "
            } else {
                ""
            };
            for action in &statement.action.patterns {
                other_allowed_actions.push(format!("{prefix}{action}"));
            }
            continue;
        }
        let federated: Vec<FederatedPrincipal> = statement
            .principal
            .iter()
            .flat_map(|p| p.principals.of_type(PrincipalType::Federated))
            .map(|arn| {
                let eks = OidcProviderArn::parse(arn);
                let this_cluster = eks.as_ref().is_some_and(|e| {
                    e.partition == query.partition
                        && e.account == query.account
                        && e.issuer == query.issuer
                });
                FederatedPrincipal {
                    arn: arn.to_owned(),
                    eks,
                    this_cluster,
                }
            })
            .collect();
        // The issuers whose tokens this statement is about: its own EKS providers, or
        // this cluster's when it names none.
        let mut own_issuers: Vec<&str> = federated
            .iter()
            .filter_map(|f| f.eks.as_ref().map(|e| e.issuer.as_str()))
            .collect();
        if own_issuers.is_empty() {
            own_issuers.push(&query.issuer);
        }
        let claim = |suffix: &str, value_for: &dyn Fn(&str) -> Context| {
            let clauses: Vec<ConditionClause> = statement
                .conditions
                .iter()
                .filter(|c| c.key.to_ascii_lowercase().ends_with(suffix))
                .cloned()
                .collect();
            let admits = best(
                own_issuers
                    .iter()
                    .map(|issuer| evaluate_all(&clauses, &value_for(issuer), variables)),
            );
            ClaimCheck { clauses, admits }
        };
        let subject_check = claim(":sub", &|issuer| {
            token_context(issuer, &subject, &query.audience)
        });
        let audience_check = claim(":aud", &|issuer| {
            token_context(issuer, &subject, &query.audience)
        });
        // Probe names no real service account can have (Kubernetes names have no `_`).
        let admits_subject = |sub: &str| {
            own_issuers.iter().any(|issuer| {
                evaluate_all(
                    &subject_check.clauses,
                    &token_context(issuer, sub, &query.audience),
                    variables,
                ) == Ok(true)
            })
        };
        let any_service_account =
            if admits_subject("system:serviceaccount:_irsa_check_ns_:_irsa_check_sa_") {
                AnyServiceAccount::InCluster
            } else if admits_subject(&format!(
                "system:serviceaccount:{}:_irsa_check_sa_",
                query.namespace
            )) {
                AnyServiceAccount::InNamespace
            } else {
                AnyServiceAccount::No
            };
        let literal_wildcards = statement
            .conditions
            .iter()
            .filter(|c| c.is_literal_equality())
            .flat_map(|c| {
                c.values
                    .iter()
                    .filter(|v| v.contains(['*', '?']))
                    .map(|v| (c.key.clone(), v.clone()))
            })
            .collect();
        let other_clauses: Vec<ConditionClause> = statement
            .conditions
            .iter()
            .filter(|c| {
                let key = c.key.to_ascii_lowercase();
                !key.ends_with(":sub") && !key.ends_with(":aud")
            })
            .cloned()
            .collect();
        let other_conditions = evaluate_all(&other_clauses, &query.context(), variables);
        statements.push(WebIdentityStatement {
            index: statement.index,
            sid: statement.sid.clone(),
            principal: statement.principal.clone(),
            federated,
            subject: subject_check,
            audience: audience_check,
            literal_wildcards,
            any_service_account,
            other_clauses,
            other_conditions,
        });
    }
    let request = Request {
        caller: Caller::WebIdentity {
            provider_arn: query.provider_arn(),
        },
        action: ASSUME_ROLE_WITH_WEB_IDENTITY.to_owned(),
        resource: None,
        context: query.context(),
    };
    let evaluation = evaluate(
        &request,
        &[],
        None,
        Some(NamedPolicy {
            name: TRUST_POLICY_NAME,
            document,
        }),
    );
    TrustAnalysis {
        subject,
        statements,
        other_allowed_actions,
        evaluation,
    }
}

/// OR over alternatives: yes if any says yes, else undecidable if any is, else no.
fn best(results: impl Iterator<Item = Result<bool, Undecidable>>) -> Result<bool, Undecidable> {
    let mut undecided = None;
    for result in results {
        match result {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(reason) => {
                undecided.get_or_insert(reason);
            }
        }
    }
    match undecided {
        Some(reason) => Err(reason),
        None => Ok(false),
    }
}
