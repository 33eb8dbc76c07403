//! IAM policy documents: parse them and evaluate requests against them, the way AWS
//! documents it. Pure: no I/O, no async.
//!
//! - [`PolicyDocument::parse`] reads raw or percent-encoded JSON.
//! - [`evaluate`] judges one [`Request`] against identity policies, a permissions
//!   boundary and a resource policy, and says which statements decided.
//! - [`analyze_trust`] tells, piece by piece, whether a trust policy admits one service
//!   account's IRSA token.
//!
//! Anything irsa-check cannot evaluate (numeric, date and IP operators, policy
//! variables) makes the affected statement *undecidable*; it is reported as such.

pub mod arn;
pub mod condition;
pub mod document;
pub mod evaluate;
pub mod trust;
pub mod wildcard;

pub use arn::{OidcProviderArn, RoleArn};
pub use condition::{Context, Unlisted};
pub use document::{
    ConditionClause, Effect, Patterns, PolicyDocument, PolicyError, PrincipalBlock, PrincipalType,
    Principals, Statement,
};
pub use evaluate::{
    Caller, Decision, Evaluation, NamedPolicy, PolicyKind, Request, StatementRef, Tri, Undecided,
    evaluate,
};
pub use trust::{
    AnyServiceAccount, ClaimCheck, FederatedPrincipal, TrustAnalysis, TrustQuery,
    WebIdentityStatement, analyze_trust,
};

#[cfg(test)]
mod tests;
