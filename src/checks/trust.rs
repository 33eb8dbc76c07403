//! Trust policy checks 121–126: does the component's role trust its service account's
//! IRSA token?
//!
//! Each check looks at the statements that passed the checks before it, so one mistake
//! gives one failure: 122 looks at the statements allowing the action (121), 123 at those
//! naming an EKS OIDC provider, 124 at those that also admit the subject, 125 at those
//! that also admit the audience. When no statement passed a check, the later ones look
//! at the statements that passed the last check some statement did pass, and keep
//! judging. 126 looks at every statement allowing the action. Last, the whole policy is
//! evaluated for exactly this token; what only that reveals (a Deny statement, a
//! statement admitting the subject and another naming this cluster but none doing both,
//! conditions on further keys) is reported under 123 (a Deny) or 125 (the rest).

use crate::code::Code;
use crate::finding::Finding;
use crate::policy::trust::{ASSUME_ROLE_WITH_WEB_IDENTITY, TRUST_POLICY_NAME};
use crate::policy::{
    AnyServiceAccount, ConditionClause, Decision, PolicyDocument, TrustAnalysis, TrustQuery,
    WebIdentityStatement, analyze_trust,
};

/// The trust codes in report order.
pub const ORDER: [Code; 6] = [
    Code::TrustAction,
    Code::TrustPrincipal,
    Code::TrustSubject,
    Code::TrustAudience,
    Code::TrustOperators,
    Code::TrustCluster,
];

/// Judge the trust policy text of `role_arn` (raw or percent-encoded JSON, as IAM's
/// GetRole returns it) for `component`, whose pods run under the service account in
/// `query`. Returns findings 121, 122, 123, 124, 126, 125, in that order, one each.
pub fn judge_trust(
    component: &str,
    role_arn: &str,
    trust_text: &str,
    query: &TrustQuery,
) -> Vec<Finding> {
    match PolicyDocument::parse(trust_text) {
        Ok(document) => judge_trust_document(component, role_arn, &document, query),
        Err(error) => {
            let mut findings = vec![
                Finding::fail(
                    Code::TrustAction,
                    format!(
                        "Role {role_arn}: the trust policy is not a valid policy document: {error}"
                    ),
                )
                .component(component),
            ];
            findings.extend(ORDER[1..].iter().map(|&code| {
                Finding::skip(
                    code,
                    format!("the trust policy of role {role_arn} could not be parsed"),
                )
                .component(component)
            }));
            findings
        }
    }
}

/// [`judge_trust`] for a document already parsed.
pub fn judge_trust_document(
    component: &str,
    role_arn: &str,
    document: &PolicyDocument,
    query: &TrustQuery,
) -> Vec<Finding> {
    let analysis = analyze_trust(document, query);
    Judge {
        role: role_arn,
        query,
        analysis: &analysis,
    }
    .run()
    .into_iter()
    .map(|f| f.component(component))
    .collect()
}

struct Judge<'a> {
    role: &'a str,
    query: &'a TrustQuery,
    analysis: &'a TrustAnalysis,
}

impl Judge<'_> {
    fn run(&self) -> Vec<Finding> {
        let role = self.role;
        let s1: Vec<&WebIdentityStatement> = self.analysis.statements.iter().collect();
        if s1.is_empty() {
            let instead = if self.analysis.other_allowed_actions.is_empty() {
                "it has no Allow statement".to_owned()
            } else {
                format!(
                    "its Allow statements allow only {}",
                    self.analysis.other_allowed_actions.join(", ")
                )
            };
            let mut findings = vec![
                Finding::fail(
                    Code::TrustAction,
                    format!(
                        "Role {role}: no Allow statement of the trust policy covers {ASSUME_ROLE_WITH_WEB_IDENTITY} ({instead})"
                    ),
                )
                .hint(self.expected_statement()),
            ];
            findings.extend(ORDER[1..].iter().map(|&code| {
                Finding::skip(code, format!("no statement of role {role}'s trust policy allows {ASSUME_ROLE_WITH_WEB_IDENTITY}"))
            }));
            return findings;
        }
        let mut findings = vec![Finding::ok(
            Code::TrustAction,
            format!(
                "Role {role}: {} of the trust policy allows {ASSUME_ROLE_WITH_WEB_IDENTITY}",
                statements(&s1)
            ),
        )];

        let s2: Vec<&WebIdentityStatement> = s1
            .iter()
            .copied()
            .filter(|s| s.names_eks_provider())
            .collect();
        if s2.is_empty() {
            let found: Vec<String> = s1
                .iter()
                .map(|s| format!("{}: {}", label(s), principal_text(s)))
                .collect();
            findings.push(
                Finding::fail(
                    Code::TrustPrincipal,
                    format!(
                        "Role {role}: no statement allowing {ASSUME_ROLE_WITH_WEB_IDENTITY} names an EKS OIDC provider as its Federated principal (found {})",
                        found.join("; ")
                    ),
                )
                .hint(self.expected_statement()),
            );
            let reason =
                format!("no statement of role {role}'s trust policy names an EKS OIDC provider");
            findings.push(Finding::skip(Code::TrustSubject, reason.clone()));
            findings.push(Finding::skip(Code::TrustAudience, reason.clone()));
            findings.push(self.operators(&s1));
            findings.push(Finding::skip(Code::TrustCluster, reason));
            return findings;
        }
        let providers: Vec<&str> = unique(s2.iter().flat_map(|s| {
            s.federated
                .iter()
                .filter(|f| f.eks.is_some())
                .map(|f| f.arn.as_str())
        }));
        findings.push(Finding::ok(
            Code::TrustPrincipal,
            format!(
                "Role {role}: the trust policy names the EKS OIDC provider {}",
                providers.join(", ")
            ),
        ));

        let s3: Vec<&WebIdentityStatement> = s2
            .iter()
            .copied()
            .filter(|s| s.subject.admits == Ok(true))
            .collect();
        findings.push(self.subject(&s2, &s3));
        let base = if s3.is_empty() { &s2 } else { &s3 };
        let s4: Vec<&WebIdentityStatement> = base
            .iter()
            .copied()
            .filter(|s| s.audience.admits == Ok(true))
            .collect();
        findings.push(self.audience(base, &s4));
        findings.push(self.operators(&s1));
        // Every check found a statement: only then does a refused token need explaining here.
        let chain_complete = !s3.is_empty() && !s4.is_empty();
        let base = if s4.is_empty() { base } else { &s4 };
        findings.push(self.cluster(base, chain_complete));
        findings
    }

    fn subject(&self, s2: &[&WebIdentityStatement], s3: &[&WebIdentityStatement]) -> Finding {
        let role = self.role;
        let subject = &self.analysis.subject;
        if !s3.is_empty() {
            let evaluation = &self.analysis.evaluation;
            if let Some(deny) = evaluation.denied_by.first() {
                return Finding::fail(
                    Code::TrustSubject,
                    format!(
                        "Role {role}: {} denies {ASSUME_ROLE_WITH_WEB_IDENTITY} to {subject}",
                        local(&deny.to_string())
                    ),
                );
            }
            if let Some(maybe) = evaluation
                .undecidable
                .iter()
                .find(|u| u.effect == crate::policy::Effect::Deny)
            {
                return Finding::warn(
                    Code::TrustSubject,
                    format!(
                        "Role {role}: cannot tell whether {} denies {subject}: {}",
                        local(&maybe.statement.to_string()),
                        maybe.reason
                    ),
                );
            }
            return Finding::ok(
                Code::TrustSubject,
                format!("Role {role} admits {subject} ({})", statements(s3)),
            );
        }
        if let Some((statement, reason)) = s2
            .iter()
            .find_map(|s| s.subject.admits.as_ref().err().map(|r| (s, r)))
        {
            return Finding::warn(
                Code::TrustSubject,
                format!(
                    "Role {role}: cannot tell whether {} admits {subject}: {reason}",
                    label(statement)
                ),
            );
        }
        let mut trusted = Vec::new();
        let mut foreign_keys = Vec::new();
        for statement in s2 {
            let own: Vec<&str> = statement
                .federated
                .iter()
                .filter_map(|f| f.eks.as_ref().map(|e| e.issuer.as_str()))
                .collect();
            for clause in &statement.subject.clauses {
                trusted.push(subjects_text(clause));
                let key_issuer = clause.key.rsplit_once(':').map_or("", |(issuer, _)| issuer);
                if !own.iter().any(|o| o.eq_ignore_ascii_case(key_issuer)) {
                    foreign_keys.push(format!(
                        "{} puts its sub condition on the key {}, which tokens of its provider (issuer {}) do not carry",
                        label(statement),
                        clause.key,
                        own.join(", ")
                    ));
                }
            }
        }
        let trusts = if trusted.is_empty() {
            "no service account".to_owned()
        } else {
            trusted.join("; ")
        };
        let message = if foreign_keys.is_empty() {
            format!("Role {role} trusts {trusts} but this component runs as {subject}")
        } else {
            format!(
                "Role {role} does not admit {subject}: {} (the trust lists {trusts})",
                foreign_keys.join("; ")
            )
        };
        Finding::fail(Code::TrustSubject, message).hint(format!(
            "add {subject} to the StringEquals condition on {}:sub of the role's trust policy, or run the component under a service account the role trusts",
            self.query.issuer
        ))
    }

    fn audience(&self, base: &[&WebIdentityStatement], s4: &[&WebIdentityStatement]) -> Finding {
        let role = self.role;
        let audience = &self.query.audience;
        if !s4.is_empty() {
            let message = if s4.iter().any(|s| s.audience.clauses.is_empty()) {
                format!(
                    "Role {role}: the trust policy has no aud condition, so any audience is admitted (as in Camunda's reference setup)"
                )
            } else {
                format!("Role {role} admits the token audience {audience}")
            };
            return Finding::ok(Code::TrustAudience, message);
        }
        if let Some((statement, reason)) = base
            .iter()
            .find_map(|s| s.audience.admits.as_ref().err().map(|r| (s, r)))
        {
            return Finding::warn(
                Code::TrustAudience,
                format!(
                    "Role {role}: cannot tell whether {} admits the audience {audience}: {reason}",
                    label(statement)
                ),
            );
        }
        let admitted: Vec<String> = base
            .iter()
            .flat_map(|s| s.audience.clauses.iter().map(clause_text))
            .collect();
        Finding::fail(
            Code::TrustAudience,
            format!(
                "Role {role} admits the audience {} but the token's audience is {audience}",
                admitted.join("; ")
            ),
        )
        .hint(format!(
            "the token's audience is the service account's eks.amazonaws.com/audience annotation (default {}); make the aud condition match it or remove it",
            crate::policy::trust::DEFAULT_AUDIENCE
        ))
    }

    fn operators(&self, s1: &[&WebIdentityStatement]) -> Finding {
        let role = self.role;
        let literal: Vec<String> = s1
            .iter()
            .flat_map(|s| {
                s.literal_wildcards
                    .iter()
                    .map(move |(key, value)| format!("{key} = {value:?} in {}", label(s)))
            })
            .collect();
        if !literal.is_empty() {
            return Finding::fail(
                Code::TrustOperators,
                format!(
                    "Role {role}: a wildcard under StringEquals is a literal character and matches no token: {}",
                    literal.join("; ")
                ),
            )
            .hint("use StringLike for patterns, or better, list the exact service accounts under StringEquals");
        }
        let mut warnings = Vec::new();
        for statement in s1 {
            let scope = match statement.any_service_account {
                AnyServiceAccount::No => None,
                AnyServiceAccount::InNamespace => Some(format!(
                    "any service account of namespace {}",
                    self.query.namespace
                )),
                AnyServiceAccount::InCluster => {
                    Some("any service account of the cluster".to_owned())
                }
            };
            if let Some(scope) = scope {
                let how = if statement.subject.clauses.is_empty() {
                    "it has no condition on the sub claim".to_owned()
                } else {
                    statement
                        .subject
                        .clauses
                        .iter()
                        .map(clause_text)
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                warnings.push(format!(
                    "{} admits {scope} ({how}): every workload there can use the role",
                    label(statement)
                ));
            }
            if let Err(reason) = &statement.other_conditions {
                warnings.push(format!("{}: {reason}", label(statement)));
            }
        }
        if !warnings.is_empty() {
            return Finding::warn(
                Code::TrustOperators,
                format!("Role {role}: {}", warnings.join("; ")),
            );
        }
        Finding::ok(
            Code::TrustOperators,
            format!(
                "Role {role}: the trust policy's conditions name exact service accounts and hold no literal wildcard"
            ),
        )
    }

    fn cluster(&self, base: &[&WebIdentityStatement], chain_complete: bool) -> Finding {
        let role = self.role;
        let query = self.query;
        let this_arn = query.provider_arn();
        let s5: Vec<&WebIdentityStatement> = base
            .iter()
            .copied()
            .filter(|s| s.names_this_cluster())
            .collect();
        if s5.is_empty() {
            let mut others = Vec::new();
            for provider in base.iter().flat_map(|s| s.federated.iter()) {
                let Some(eks) = &provider.eks else { continue };
                let mut what = format!("issuer {}", eks.issuer);
                if eks.account != query.account {
                    what.push_str(&format!(" of account {}", eks.account));
                }
                if eks.partition != query.partition {
                    what.push_str(&format!(" in partition {}", eks.partition));
                }
                if !others.contains(&what) {
                    others.push(what);
                }
            }
            return Finding::fail(
                Code::TrustCluster,
                format!(
                    "Role {role} trusts the OIDC provider of {}, not this cluster's (issuer {} of account {}): a provider of another or an older cluster",
                    others.join(", "),
                    query.issuer,
                    query.account
                ),
            )
            .hint(format!(
                "set the Federated principal to {this_arn} and the condition keys to {}:sub",
                query.issuer
            ));
        }
        let evaluation = &self.analysis.evaluation;
        match evaluation.decision {
            Decision::Allow => Finding::ok(
                Code::TrustCluster,
                format!(
                    "Role {role} trusts this cluster's OIDC provider {this_arn} and admits the token of {}",
                    self.analysis.subject
                ),
            ),
            Decision::ImplicitDeny if chain_complete => {
                let mut why = Vec::new();
                for statement in &s5 {
                    match &statement.other_conditions {
                        Ok(false) => why.push(format!(
                            "{}'s conditions on other keys ({}) do not hold for an EKS service account token",
                            label(statement),
                            other_keys(statement).join(", ")
                        )),
                        _ => why.push(format!(
                            "{} does not admit it with this cluster's provider",
                            label(statement)
                        )),
                    }
                }
                Finding::fail(
                    Code::TrustCluster,
                    format!(
                        "Role {role} names this cluster's OIDC provider but no statement admits the token of {}: {}",
                        self.analysis.subject,
                        why.join("; ")
                    ),
                )
                .hint(self.expected_statement())
            }
            Decision::Undecidable => {
                let reasons: Vec<String> = evaluation
                    .undecidable
                    .iter()
                    .map(|u| format!("{}: {}", local(&u.statement.to_string()), u.reason))
                    .collect();
                Finding::warn(
                    Code::TrustCluster,
                    format!(
                        "Role {role} trusts this cluster's OIDC provider {this_arn}, but whether it admits the token cannot be decided: {}",
                        reasons.join("; ")
                    ),
                )
            }
            // Explained by 123 (a Deny) or by an earlier failing check.
            Decision::ExplicitDeny | Decision::ImplicitDeny => Finding::ok(
                Code::TrustCluster,
                format!("Role {role} trusts this cluster's OIDC provider {this_arn}"),
            ),
        }
    }

    /// The statement Camunda's reference architecture puts in the trust policy, with its
    /// fields in the order people write them.
    fn expected_statement(&self) -> String {
        let quoted = |text: &str| serde_json::Value::from(text).to_string();
        format!(
            "the trust policy needs a statement like {{\"Effect\":\"Allow\",\"Principal\":{{\"Federated\":{}}},\"Action\":\"{ASSUME_ROLE_WITH_WEB_IDENTITY}\",\"Condition\":{{\"StringEquals\":{{{}:{}}}}}}}",
            quoted(&self.query.provider_arn()),
            quoted(&format!("{}:sub", self.query.issuer)),
            quoted(&self.analysis.subject),
        )
    }
}

fn label(statement: &WebIdentityStatement) -> String {
    match &statement.sid {
        Some(sid) => format!("Statement[{}] (Sid {sid:?})", statement.index),
        None => format!("Statement[{}]", statement.index),
    }
}

fn statements(list: &[&WebIdentityStatement]) -> String {
    list.iter().map(|s| label(s)).collect::<Vec<_>>().join(", ")
}

/// A statement reference without the trailing "of the trust policy".
fn local(reference: &str) -> String {
    reference
        .strip_suffix(&format!(" of {TRUST_POLICY_NAME}"))
        .unwrap_or(reference)
        .to_owned()
}

fn principal_text(statement: &WebIdentityStatement) -> String {
    match &statement.principal {
        None => "no Principal".to_owned(),
        Some(block) if block.negated => format!("NotPrincipal {}", block.principals),
        Some(block) => format!("Principal {}", block.principals),
    }
}

fn clause_text(clause: &ConditionClause) -> String {
    let values = match clause.values.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    format!("{} {} = {}", clause.operator, clause.key, values)
}

/// The subjects a `sub` clause admits, as a reader of the trust policy would say it:
/// plain values for StringEquals, the operator in front otherwise.
fn subjects_text(clause: &ConditionClause) -> String {
    let values = clause.values.join(", ");
    if clause.operator.eq_ignore_ascii_case("StringEquals") {
        values
    } else {
        format!("{} {values}", clause.operator)
    }
}

fn other_keys(statement: &WebIdentityStatement) -> Vec<String> {
    statement.other_clauses.iter().map(clause_text).collect()
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;
    use serde_json::{Value, json};

    const ACCOUNT: &str = "123456789012";
    const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B";
    const OLD_ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/0000AAAA1111BBBB2222CCCC3333DDDD";
    const ROLE: &str = "arn:aws:iam::123456789012:role/OpenSearchRole-camunda-os";

    fn provider(account: &str, issuer: &str) -> String {
        format!("arn:aws:iam::{account}:oidc-provider/{issuer}")
    }

    fn query(sa: &str) -> TrustQuery {
        TrustQuery::new("aws", ACCOUNT, &format!("https://{ISSUER}"), "camunda", sa)
    }

    fn trust(statements: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    fn irsa(federated: &str, condition: Value) -> Value {
        json!({
            "Effect": "Allow",
            "Principal": {"Federated": federated},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition
        })
    }

    fn sub_equals(subjects: Value) -> Value {
        json!({"StringEquals": {format!("{ISSUER}:sub"): subjects}})
    }

    /// Camunda's reference OpenSearch trust policy with this world's values.
    fn reference() -> String {
        trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            sub_equals(json!([
                "system:serviceaccount:camunda:zeebe-sa",
                "system:serviceaccount:camunda:optimize-sa"
            ]))
        )]))
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

    use Level::{Fail, Ok as Pass, Skip, Warn};

    #[test]
    fn the_reference_trust_passes_in_catalogue_order() {
        let findings = judge_trust("orchestration", ROLE, &reference(), &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Pass),
                (126, Pass),
                (125, Pass)
            ]
        );
        assert!(
            findings
                .iter()
                .all(|f| f.component.as_deref() == Some("orchestration"))
        );
        assert_eq!(
            message(&findings, Code::TrustAction),
            format!(
                "Role {ROLE}: Statement[0] of the trust policy allows sts:AssumeRoleWithWebIdentity"
            )
        );
        assert_eq!(
            message(&findings, Code::TrustSubject),
            format!("Role {ROLE} admits system:serviceaccount:camunda:zeebe-sa (Statement[0])")
        );
        assert_eq!(
            message(&findings, Code::TrustAudience),
            format!(
                "Role {ROLE}: the trust policy has no aud condition, so any audience is admitted (as in Camunda's reference setup)"
            )
        );
        assert_eq!(
            message(&findings, Code::TrustCluster),
            format!(
                "Role {ROLE} trusts this cluster's OIDC provider {} and admits the token of system:serviceaccount:camunda:zeebe-sa",
                provider(ACCOUNT, ISSUER)
            )
        );
    }

    #[test]
    fn percent_encoded_trust_as_get_role_returns_it() {
        let encoded: String = reference()
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect();
        let findings = judge_trust("optimize", ROLE, &encoded, &query("optimize-sa"));
        assert!(findings.iter().all(|f| f.level == Pass), "{findings:#?}");
    }

    #[test]
    fn wrong_service_account_names_both_subjects() {
        let findings = judge_trust(
            "orchestration",
            ROLE,
            &reference(),
            &query("orchestration-sa"),
        );
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Fail),
                (124, Pass),
                (126, Pass),
                (125, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustSubject),
            format!(
                "Role {ROLE} trusts system:serviceaccount:camunda:zeebe-sa, system:serviceaccount:camunda:optimize-sa but this component runs as system:serviceaccount:camunda:orchestration-sa"
            )
        );
        let subject = findings
            .iter()
            .find(|f| f.code == Code::TrustSubject)
            .unwrap();
        assert_eq!(
            subject.hint.as_deref(),
            Some(format!("add system:serviceaccount:camunda:orchestration-sa to the StringEquals condition on {ISSUER}:sub of the role's trust policy, or run the component under a service account the role trusts").as_str())
        );
        // 125 stays OK about the provider, without claiming the token is admitted.
        assert_eq!(
            message(&findings, Code::TrustCluster),
            format!(
                "Role {ROLE} trusts this cluster's OIDC provider {}",
                provider(ACCOUNT, ISSUER)
            )
        );
    }

    #[test]
    fn wrong_namespace() {
        let text = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            sub_equals(json!("system:serviceaccount:default:zeebe-sa"))
        )]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[2], (123, Fail));
        assert!(message(&findings, Code::TrustSubject).contains("trusts system:serviceaccount:default:zeebe-sa but this component runs as system:serviceaccount:camunda:zeebe-sa"));
    }

    #[test]
    fn unparsable_trust_fails_121_and_skips_the_rest() {
        let findings = judge_trust(
            "identity",
            ROLE,
            "%7B%22Statement%22",
            &query("identity-sa"),
        );
        assert_eq!(
            levels(&findings),
            vec![
                (121, Fail),
                (122, Skip),
                (123, Skip),
                (124, Skip),
                (126, Skip),
                (125, Skip)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustAction),
            format!(
                "Role {ROLE}: the trust policy is not a valid policy document: not valid JSON: EOF while parsing an object at line 1 column 12"
            )
        );
        assert_eq!(
            message(&findings, Code::TrustCluster),
            format!("the trust policy of role {ROLE} could not be parsed")
        );
        let shape = judge_trust(
            "identity",
            ROLE,
            r#"{"Statement":[{"Effect":"Allow","Action":7}]}"#,
            &query("identity-sa"),
        );
        assert_eq!(
            message(&shape, Code::TrustAction),
            format!(
                "Role {ROLE}: the trust policy is not a valid policy document: Statement[0].Action: must be a string or a list of strings, found a number"
            )
        );
    }

    #[test]
    fn no_web_identity_action() {
        let text = trust(
            json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
        );
        let findings = judge_trust("identity", ROLE, &text, &query("identity-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Fail),
                (122, Skip),
                (123, Skip),
                (124, Skip),
                (126, Skip),
                (125, Skip)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustAction),
            format!(
                "Role {ROLE}: no Allow statement of the trust policy covers sts:AssumeRoleWithWebIdentity (its Allow statements allow only sts:AssumeRole)"
            )
        );
        assert_eq!(
            message(&findings, Code::TrustSubject),
            format!(
                "no statement of role {ROLE}'s trust policy allows sts:AssumeRoleWithWebIdentity"
            )
        );
        let hint = findings[0].hint.as_deref().unwrap();
        assert_eq!(
            hint,
            format!(
                "the trust policy needs a statement like {{\"Effect\":\"Allow\",\"Principal\":{{\"Federated\":\"{}\"}},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{{\"StringEquals\":{{\"{ISSUER}:sub\":\"system:serviceaccount:camunda:identity-sa\"}}}}}}",
                provider(ACCOUNT, ISSUER)
            )
        );
        // The hint is valid JSON after its prefix.
        let json_part = hint
            .strip_prefix("the trust policy needs a statement like ")
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(json_part).unwrap()["Principal"]["Federated"],
            provider(ACCOUNT, ISSUER)
        );
        assert!(
            hint.contains(&format!("\"Federated\":\"{}\"", provider(ACCOUNT, ISSUER))),
            "{hint}"
        );
        assert!(
            hint.contains(&format!(
                "\"{ISSUER}:sub\":\"system:serviceaccount:camunda:identity-sa\""
            )),
            "{hint}"
        );
        // Only a Deny: also nothing allowed.
        let deny_only = trust(json!([{"Effect": "Deny", "Principal": "*", "Action": "sts:*"}]));
        let findings = judge_trust("identity", ROLE, &deny_only, &query("identity-sa"));
        assert!(message(&findings, Code::TrustAction).ends_with("(it has no Allow statement)"));
    }

    #[test]
    fn action_forms_that_cover_web_identity() {
        for action in [
            json!(["sts:AssumeRoleWithWebIdentity"]),
            json!(["sts:TagSession", "sts:*"]),
            json!("*"),
            json!("STS:assumerole*"),
        ] {
            let mut statement = irsa(
                &provider(ACCOUNT, ISSUER),
                sub_equals(json!("system:serviceaccount:camunda:zeebe-sa")),
            );
            statement["Action"] = action.clone();
            let findings = judge_trust(
                "zeebe",
                ROLE,
                &trust(json!([statement])),
                &query("zeebe-sa"),
            );
            assert!(
                findings.iter().all(|f| f.level == Pass),
                "{action}: {findings:#?}"
            );
        }
    }

    #[test]
    fn principal_that_is_not_an_eks_provider() {
        let github = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        let text = trust(json!([
            irsa(github, json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}})),
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:*"}
        ]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Fail),
                (123, Skip),
                (124, Skip),
                (126, Warn),
                (125, Skip)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustPrincipal),
            format!(
                "Role {ROLE}: no statement allowing sts:AssumeRoleWithWebIdentity names an EKS OIDC provider as its Federated principal (found Statement[0]: Principal Federated: {github}; Statement[1]: Principal AWS: arn:aws:iam::123456789012:root)"
            )
        );
    }

    #[test]
    fn another_clusters_provider_names_both_issuers() {
        let old = provider(ACCOUNT, OLD_ISSUER);
        let text = trust(json!([irsa(
            &old,
            json!({"StringEquals": {format!("{OLD_ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"}})
        )]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        // One mistake, one failure: the subject is right for the statement's own provider.
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Pass),
                (126, Pass),
                (125, Fail)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustCluster),
            format!(
                "Role {ROLE} trusts the OIDC provider of issuer {OLD_ISSUER}, not this cluster's (issuer {ISSUER} of account {ACCOUNT}): a provider of another or an older cluster"
            )
        );
        let hint = findings[5].hint.as_deref().unwrap();
        assert_eq!(
            hint,
            format!(
                "set the Federated principal to {} and the condition keys to {ISSUER}:sub",
                provider(ACCOUNT, ISSUER)
            )
        );
    }

    #[test]
    fn another_accounts_provider() {
        let foreign = provider("999999999999", ISSUER);
        let text = trust(json!([irsa(
            &foreign,
            sub_equals(json!("system:serviceaccount:camunda:zeebe-sa"))
        )]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[5], (125, Fail));
        assert!(message(&findings, Code::TrustCluster).starts_with(&format!(
            "Role {ROLE} trusts the OIDC provider of issuer {ISSUER} of account 999999999999, not this cluster's"
        )));
    }

    #[test]
    fn provider_updated_but_condition_key_left_behind() {
        let text = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            json!({"StringEquals": {format!("{OLD_ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"}})
        )]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[2], (123, Fail));
        assert_eq!(
            message(&findings, Code::TrustSubject),
            format!(
                "Role {ROLE} does not admit system:serviceaccount:camunda:zeebe-sa: Statement[0] puts its sub condition on the key {OLD_ISSUER}:sub, which tokens of its provider (issuer {ISSUER}) do not carry (the trust lists system:serviceaccount:camunda:zeebe-sa)"
            )
        );
    }

    #[test]
    fn split_statements_admit_nothing_together() {
        // Statement 0: this cluster, wrong subject. Statement 1: right subject, old cluster.
        let text = trust(json!([
            irsa(
                &provider(ACCOUNT, ISSUER),
                sub_equals(json!("system:serviceaccount:camunda:other-sa"))
            ),
            irsa(
                &provider(ACCOUNT, OLD_ISSUER),
                json!({"StringEquals": {format!("{OLD_ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"}})
            )
        ]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Pass),
                (126, Pass),
                (125, Fail)
            ]
        );
        assert!(
            message(&findings, Code::TrustCluster)
                .contains(&format!("issuer {OLD_ISSUER}, not this cluster's"))
        );
    }

    #[test]
    fn audience() {
        let condition = |aud: &str| {
            json!({"StringEquals": {
                format!("{ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa",
                format!("{ISSUER}:aud"): aud
            }})
        };
        let good = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            condition("sts.amazonaws.com")
        )]));
        let findings = judge_trust("zeebe", ROLE, &good, &query("zeebe-sa"));
        assert_eq!(
            message(&findings, Code::TrustAudience),
            format!("Role {ROLE} admits the token audience sts.amazonaws.com")
        );
        let bad = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            condition("sts.amazon.com")
        )]));
        let findings = judge_trust("zeebe", ROLE, &bad, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Fail),
                (126, Pass),
                (125, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustAudience),
            format!(
                "Role {ROLE} admits the audience StringEquals {ISSUER}:aud = sts.amazon.com but the token's audience is sts.amazonaws.com"
            )
        );
        // A custom audience from the service account's annotation.
        let mut custom = query("zeebe-sa");
        custom.audience = "sts.amazon.com".into();
        let findings = judge_trust("zeebe", ROLE, &bad, &custom);
        assert!(findings.iter().all(|f| f.level == Pass), "{findings:#?}");
    }

    #[test]
    fn literal_wildcard_under_string_equals_fails_126_naming_the_key() {
        let text = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            sub_equals(json!("system:serviceaccount:camunda:*"))
        )]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Fail),
                (124, Pass),
                (126, Fail),
                (125, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustOperators),
            format!(
                "Role {ROLE}: a wildcard under StringEquals is a literal character and matches no token: {ISSUER}:sub = \"system:serviceaccount:camunda:*\" in Statement[0]"
            )
        );
    }

    #[test]
    fn any_service_account_warns_126() {
        let like = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            json!({"StringLike": {format!("{ISSUER}:sub"): "system:serviceaccount:camunda:*"}})
        )]));
        let findings = judge_trust("zeebe", ROLE, &like, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Pass),
                (126, Warn),
                (125, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustOperators),
            format!(
                "Role {ROLE}: Statement[0] admits any service account of namespace camunda (StringLike {ISSUER}:sub = system:serviceaccount:camunda:*): every workload there can use the role"
            )
        );
        let none = trust(json!([{
            "Effect": "Allow",
            "Principal": {"Federated": provider(ACCOUNT, ISSUER)},
            "Action": "sts:AssumeRoleWithWebIdentity"
        }]));
        let findings = judge_trust("zeebe", ROLE, &none, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[4], (126, Warn));
        assert_eq!(
            message(&findings, Code::TrustOperators),
            format!(
                "Role {ROLE}: Statement[0] admits any service account of the cluster (it has no condition on the sub claim): every workload there can use the role"
            )
        );
    }

    #[test]
    fn deny_statement_blocks_the_subject() {
        let text = trust(json!([
            irsa(&provider(ACCOUNT, ISSUER), sub_equals(json!("system:serviceaccount:camunda:zeebe-sa"))),
            {"Sid": "NotZeebe", "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRoleWithWebIdentity",
             "Condition": {"StringLike": {format!("{ISSUER}:sub"): "*:zeebe-sa"}}}
        ]));
        let findings = judge_trust("zeebe", ROLE, &text, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Fail),
                (124, Pass),
                (126, Pass),
                (125, Pass)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustSubject),
            format!(
                "Role {ROLE}: Statement[1] (Sid \"NotZeebe\") denies sts:AssumeRoleWithWebIdentity to system:serviceaccount:camunda:zeebe-sa"
            )
        );
    }

    #[test]
    fn undecidable_conditions_warn_instead_of_guessing() {
        let extra = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            json!({
                "StringEquals": {format!("{ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
            })
        )]));
        let findings = judge_trust("zeebe", ROLE, &extra, &query("zeebe-sa"));
        assert_eq!(
            levels(&findings),
            vec![
                (121, Pass),
                (122, Pass),
                (123, Pass),
                (124, Pass),
                (126, Warn),
                (125, Warn)
            ]
        );
        assert_eq!(
            message(&findings, Code::TrustOperators),
            format!(
                "Role {ROLE}: Statement[0]: condition operator DateLessThan is not evaluated by irsa-check"
            )
        );
        let variable = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            sub_equals(json!(
                "system:serviceaccount:${aws:PrincipalTag/ns}:zeebe-sa"
            ))
        )]));
        let findings = judge_trust("zeebe", ROLE, &variable, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[2], (123, Warn));
        assert!(message(&findings, Code::TrustSubject).contains("policy variable"));
    }

    #[test]
    fn conditions_on_further_claims_fail_125() {
        let amr = trust(json!([irsa(
            &provider(ACCOUNT, ISSUER),
            json!({"StringEquals": {
                format!("{ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa",
                format!("{ISSUER}:amr"): "authenticated"
            }})
        )]));
        let findings = judge_trust("zeebe", ROLE, &amr, &query("zeebe-sa"));
        assert_eq!(levels(&findings)[5], (125, Fail));
        assert_eq!(
            message(&findings, Code::TrustCluster),
            format!(
                "Role {ROLE} names this cluster's OIDC provider but no statement admits the token of system:serviceaccount:camunda:zeebe-sa: Statement[0]'s conditions on other keys (StringEquals {ISSUER}:amr = authenticated) do not hold for an EKS service account token"
            )
        );
    }

    #[test]
    fn other_partitions_and_role_paths() {
        let cn_issuer =
            "oidc.eks.cn-northwest-1.amazonaws.com.cn/id/ABCDEF0123456789ABCDEF0123456789";
        let cn_role = "arn:aws-cn:iam::123456789012:role/camunda/AuroraRole-Identity";
        let text = trust(json!([{
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws-cn:iam::{ACCOUNT}:oidc-provider/{cn_issuer}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{cn_issuer}:sub"): "system:serviceaccount:camunda:identity-sa"}}
        }]));
        let q = TrustQuery::new("aws-cn", ACCOUNT, cn_issuer, "camunda", "identity-sa");
        let findings = judge_trust("identity", cn_role, &text, &q);
        assert!(findings.iter().all(|f| f.level == Pass), "{findings:#?}");
        assert!(message(&findings, Code::TrustAction).starts_with(&format!("Role {cn_role}:")));
        // The same trust, judged for a us-gov cluster: another partition's provider.
        let gov_issuer = "oidc.eks.us-gov-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789";
        let gov = TrustQuery::new("aws-us-gov", ACCOUNT, gov_issuer, "camunda", "identity-sa");
        let findings = judge_trust("identity", cn_role, &text, &gov);
        assert_eq!(levels(&findings)[5], (125, Fail));
        assert!(
            message(&findings, Code::TrustCluster)
                .contains(&format!("issuer {cn_issuer} in partition aws-cn"))
        );
    }
}
