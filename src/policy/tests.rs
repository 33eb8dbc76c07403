//! Tests of the policy module with real-shaped documents (Camunda's EKS reference
//! architecture, with concrete values) and the traps seen in the field.

use super::*;
use serde_json::json;

const ACCOUNT: &str = "123456789012";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B";
const OTHER_ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/0000AAAA1111BBBB2222CCCC3333DDDD";
const ROLE: &str = "arn:aws:iam::123456789012:role/AuroraRole-Identity-camunda-prod";
const DBUSER: &str =
    "arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ/identity_irsa";

fn provider() -> String {
    format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}")
}

fn doc(value: serde_json::Value) -> PolicyDocument {
    PolicyDocument::parse(&value.to_string()).unwrap()
}

/// Percent-encode like IAM does on the wire (everything but RFC 3986's unreserved set).
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

/// Camunda's reference Aurora trust policy (db.tf), with this world's values.
fn reference_trust(sub: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {format!("{ISSUER}:sub"): sub}}
        }]
    })
}

// ---------------------------------------------------------------------------------
// Parsing

#[test]
fn parses_the_reference_access_policy_raw_and_percent_encoded() {
    let text = r#"{
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": [
            "rds-db:connect"
          ],
          "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa"
        }
      ]
    }"#;
    let raw = PolicyDocument::parse(text).unwrap();
    let encoded = PolicyDocument::parse(&encode(text)).unwrap();
    assert_eq!(raw, encoded);
    assert_eq!(raw.version.as_deref(), Some("2012-10-17"));
    let statement = &raw.statements[0];
    assert_eq!(statement.effect, Effect::Allow);
    assert_eq!(
        statement.action,
        Patterns {
            negated: false,
            patterns: vec!["rds-db:connect".into()]
        }
    );
    assert_eq!(
        statement.resource,
        Some(Patterns {
            negated: false,
            patterns: vec!["arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa".into()]
        })
    );
    assert_eq!(statement.principal, None);
    assert!(statement.conditions.is_empty());
}

#[test]
fn percent_decoding_keeps_plus_signs_and_rejects_bad_escapes() {
    // A literal `+` in a value must survive: `+` is not a space in RFC 3986.
    let text = encode(r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a+b/c d"}}"#)
        .replace("%2B", "+");
    let document = PolicyDocument::parse(&text).unwrap();
    assert_eq!(
        document.statements[0].resource.as_ref().unwrap().patterns,
        vec!["arn:aws:s3:::a+b/c d".to_owned()]
    );
    // Lower-case hex is fine too.
    assert!(PolicyDocument::parse("%7b%22Statement%22%3a%5b%5d%7d").is_ok());
    for bad in ["%7B%2", "%7B%ZZ%7D", "%7B%+1%7D", "%FF%FE"] {
        let error = PolicyDocument::parse(bad).unwrap_err();
        assert_eq!(error.location, None, "{bad}");
    }
    assert!(
        PolicyDocument::parse("%7B%ZZ%7D")
            .unwrap_err()
            .problem
            .contains("percent-encoding")
    );
}

#[test]
fn statement_may_be_one_object_and_values_strings_or_lists() {
    let document = doc(json!({
        "Statement": {
            "Sid": "One",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "NotResource": ["arn:aws:s3:::a", "arn:aws:s3:::b"],
            "NotPrincipal": {"AWS": ["arn:aws:iam::1:root", "2"], "Service": "eks.amazonaws.com"},
            "Condition": {
                "Bool": {"aws:SecureTransport": false},
                "NumericLessThan": {"s3:max-keys": 10},
                "StringEquals": {"a:b": ["x", "y"], "c:d": "z"}
            },
            "Unknown": {"ignored": [1, 2, 3]}
        }
    }));
    assert_eq!(document.version, None);
    let s = &document.statements[0];
    assert_eq!(
        (s.index, s.sid.as_deref(), s.effect),
        (0, Some("One"), Effect::Deny)
    );
    assert!(s.action.negated);
    assert!(s.resource.as_ref().unwrap().negated);
    let principal = s.principal.as_ref().unwrap();
    assert!(principal.negated);
    assert_eq!(
        principal
            .principals
            .of_type(PrincipalType::Aws)
            .collect::<Vec<_>>(),
        vec!["arn:aws:iam::1:root", "2"]
    );
    let clauses: Vec<(&str, &str, Vec<&str>)> = s
        .conditions
        .iter()
        .map(|c| {
            (
                c.operator.as_str(),
                c.key.as_str(),
                c.values.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        clauses,
        vec![
            ("Bool", "aws:SecureTransport", vec!["false"]),
            ("NumericLessThan", "s3:max-keys", vec!["10"]),
            ("StringEquals", "a:b", vec!["x", "y"]),
            ("StringEquals", "c:d", vec!["z"]),
        ]
    );
    let everyone =
        doc(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}));
    assert_eq!(
        everyone.statements[0]
            .principal
            .as_ref()
            .unwrap()
            .principals,
        Principals::Everyone
    );
}

#[test]
fn wrong_shapes_say_where() {
    let rows: &[(serde_json::Value, Option<&str>, &str)] = &[
        (
            json!([]),
            None,
            "a policy document is a JSON object, found a list",
        ),
        (
            json!({"Version": "2012-10-17"}),
            None,
            "the document has no Statement",
        ),
        (
            json!({"Statement": "x"}),
            Some("Statement"),
            "must be an object or a list of objects, found a string",
        ),
        (
            json!({"Version": 1, "Statement": []}),
            Some("Version"),
            "must be a string, found a number",
        ),
        (
            json!({"Statement": [1]}),
            Some("Statement[0]"),
            "must be an object, found a number",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b"}, {"Action": "a:b"}]}),
            Some("Statement[1].Effect"),
            "is missing",
        ),
        (
            json!({"Statement": [{"Sid": "S", "Effect": "allow", "Action": "a:b"}]}),
            Some("Statement[0] (Sid \"S\").Effect"),
            "must be \"Allow\" or \"Deny\", found \"allow\"",
        ),
        (
            json!({"Statement": [{"Effect": true, "Action": "a:b"}]}),
            Some("Statement[0].Effect"),
            "must be \"Allow\" or \"Deny\", found a boolean",
        ),
        (
            json!({"Statement": [{"Effect": "Allow"}]}),
            Some("Statement[0].Action"),
            "the statement has neither Action nor NotAction",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": {"a": 1}}]}),
            Some("Statement[0].Action"),
            "must be a string or a list of strings, found an object",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": ["a:b", 3]}]}),
            Some("Statement[0].Action"),
            "must be a string or a list of strings, found a list",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "NotAction": "c:d"}]}),
            Some("Statement[0].Action"),
            "the statement has both Action and NotAction",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Resource": null}]}),
            Some("Statement[0].Resource"),
            "must be a string or a list of strings, found null",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Principal": "arn:aws:iam::1:root"}]}),
            Some("Statement[0].Principal"),
            "must be \"*\" or an object of principal types, found \"arn:aws:iam::1:root\"",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Principal": {"Aws": "*"}}]}),
            Some("Statement[0].Principal"),
            "unknown principal type \"Aws\" (expected AWS, Federated, Service or CanonicalUser)",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Principal": {"Federated": 7}}]}),
            Some("Statement[0].Principal.Federated"),
            "must be a string or a list of strings, found a number",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Principal": "*", "NotPrincipal": "*"}]}),
            Some("Statement[0].Principal"),
            "the statement has both Principal and NotPrincipal",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Condition": []}]}),
            Some("Statement[0].Condition"),
            "must be an object, found a list",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Condition": {"StringEquals": "x"}}]}),
            Some("Statement[0].Condition.StringEquals"),
            "must be an object of condition keys, found a string",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Condition": {"StringEquals": {"k": {"x": 1}}}}]}),
            Some("Statement[0].Condition.StringEquals.k"),
            "must be a string, boolean, number or a list of them, found an object",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "a:b", "Condition": {"StringEquals": {"k": [null]}}}]}),
            Some("Statement[0].Condition.StringEquals.k"),
            "must be a string, boolean, number or a list of them, found a list",
        ),
        (
            json!({"Statement": [{"Sid": 5, "Effect": "Allow", "Action": "a:b"}]}),
            Some("Statement[0].Sid"),
            "must be a string, found a number",
        ),
    ];
    for (value, location, problem) in rows {
        let error = PolicyDocument::parse(&value.to_string()).unwrap_err();
        assert_eq!(error.location.as_deref(), *location, "{value}");
        assert_eq!(error.problem, *problem, "{value}");
    }
    let error = PolicyDocument::parse("{\"Statement\": [").unwrap_err();
    assert!(error.problem.starts_with("not valid JSON: "), "{error}");
    assert_eq!(
        PolicyDocument::parse(r#"{"Statement":[{"Sid":"S","Effect":"Maybe","Action":"a:b"}]}"#)
            .unwrap_err()
            .to_string(),
        "Statement[0] (Sid \"S\").Effect: must be \"Allow\" or \"Deny\", found \"Maybe\""
    );
}

#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = [
        "",
        " ",
        "null",
        "0",
        "\"\"",
        "[]",
        "{}",
        "%",
        "%%",
        "%7",
        "%7B",
        "+",
        "{",
        "}",
        "\u{0}",
        "{\"Statement\":null}",
        "{\"Statement\":[null]}",
        "{\"Statement\":[[]]}",
        "{\"Statement\":[{}]}",
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[]}}",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Condition\":{\"\":{\"\":[]}}}]}",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Principal\":{}}]}",
        "%EF%BB%BF%7B%7D",
        "\u{feff}{}",
        "{\"Statement\":[],\"Statement\":{}}",
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"\u{1F600}:*\"}]}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Deep nesting, both raw and encoded.
    inputs.push("[".repeat(100_000));
    inputs.push(format!(
        "{{\"Statement\":{}1{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    ));
    inputs.push(encode(&"{\"a\":".repeat(3000)));
    inputs.push(
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Condition\":".to_owned()
            + &"{\"a\":".repeat(200)
            + "1"
            + &"}".repeat(200)
            + "}]}",
    );
    // Pseudo-random bytes from a fixed seed (xorshift), as text.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..300 {
        let len = (state % 200) as usize;
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let alphabet = b"{}[]\":,%7B2aSE 0tx*?\\";
            bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        inputs.push(String::from_utf8_lossy(&bytes).into_owned());
    }
    for input in &inputs {
        if let Ok(document) = PolicyDocument::parse(input) {
            // Whatever parsed must also evaluate without panicking.
            let request = Request {
                caller: Caller::Role { arn: ROLE.into() },
                action: "rds-db:connect".into(),
                resource: Some(DBUSER.into()),
                context: Context::new(),
            };
            let named = NamedPolicy {
                name: "p",
                document: &document,
            };
            let _ = evaluate(&request, &[named], Some(named), Some(named));
            let _ = analyze_trust(
                &document,
                &TrustQuery::new("aws", ACCOUNT, ISSUER, "camunda", "sa"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// Conditions

fn clause(operator: &str, key: &str, values: &[&str]) -> ConditionClause {
    ConditionClause {
        operator: operator.into(),
        key: key.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

#[test]
fn condition_operators() {
    let sub_key = format!("{ISSUER}:sub");
    let sa = "system:serviceaccount:camunda:identity-sa";
    let ctx = Context::new()
        .with(&sub_key, sa)
        .with("aws:SecureTransport", "true")
        .with("aws:PrincipalArn", ROLE)
        .with("aws:TagKeys", "team")
        .with("aws:TagKeys", "env");
    let upper_key = sub_key.to_uppercase();
    let rows: Vec<(ConditionClause, Result<bool, ()>, &str)> = vec![
        (
            clause("StringEquals", &sub_key, &[sa]),
            Ok(true),
            "exact value",
        ),
        (
            clause("StringEquals", &upper_key, &[sa]),
            Ok(true),
            "key names ignore case",
        ),
        (
            clause(
                "StringEquals",
                &sub_key,
                &["SYSTEM:serviceaccount:camunda:identity-sa"],
            ),
            Ok(false),
            "values are case-sensitive",
        ),
        (
            clause(
                "StringEquals",
                &sub_key,
                &["system:serviceaccount:camunda:*"],
            ),
            Ok(false),
            "a wildcard under StringEquals is literal",
        ),
        (
            clause("StringEquals", &sub_key, &["x", sa]),
            Ok(true),
            "several values: OR",
        ),
        (
            clause("StringNotEquals", &sub_key, &[sa]),
            Ok(false),
            "negation of a match",
        ),
        (
            clause("StringNotEquals", &sub_key, &["x", "y"]),
            Ok(true),
            "negation of no match",
        ),
        (
            clause("StringNotEquals", "missing:key", &["x"]),
            Ok(true),
            "negated operator on a missing key matches",
        ),
        (
            clause("StringEquals", "missing:key", &["x"]),
            Ok(false),
            "positive operator on a missing key does not",
        ),
        (
            clause(
                "StringEqualsIgnoreCase",
                &sub_key,
                &["SYSTEM:ServiceAccount:CAMUNDA:identity-sa"],
            ),
            Ok(true),
            "ignore case",
        ),
        (
            clause(
                "StringNotEqualsIgnoreCase",
                &sub_key,
                &["SYSTEM:ServiceAccount:CAMUNDA:identity-sa"],
            ),
            Ok(false),
            "negated ignore case",
        ),
        (
            clause("StringLike", &sub_key, &["system:serviceaccount:camunda:*"]),
            Ok(true),
            "StringLike star",
        ),
        (
            clause(
                "StringLike",
                &sub_key,
                &["system:serviceaccount:camunda:identity-s?"],
            ),
            Ok(true),
            "StringLike question mark",
        ),
        (
            clause("StringLike", &sub_key, &["system:serviceaccount:other:*"]),
            Ok(false),
            "StringLike other namespace",
        ),
        (
            clause("StringLike", &sub_key, &["System:serviceaccount:camunda:*"]),
            Ok(false),
            "StringLike is case-sensitive",
        ),
        (
            clause(
                "StringNotLike",
                &sub_key,
                &["system:serviceaccount:kube-system:*"],
            ),
            Ok(true),
            "StringNotLike",
        ),
        (
            clause("stringequals", &sub_key, &[sa]),
            Ok(true),
            "operator names ignore case",
        ),
        (
            clause("StringEqualsIfExists", &sub_key, &["x"]),
            Ok(false),
            "IfExists with the key present judges it",
        ),
        (
            clause("StringEqualsIfExists", "missing:key", &["x"]),
            Ok(true),
            "IfExists with the key missing matches",
        ),
        (
            clause("StringNotLikeIfExists", "missing:key", &["x"]),
            Ok(true),
            "negated IfExists missing",
        ),
        (
            clause("ForAnyValue:StringEquals", "aws:TagKeys", &["env"]),
            Ok(true),
            "ForAnyValue: one of the set",
        ),
        (
            clause("ForAnyValue:StringEquals", "aws:TagKeys", &["x"]),
            Ok(false),
            "ForAnyValue: none",
        ),
        (
            clause("ForAnyValue:StringEquals", "missing:key", &["x"]),
            Ok(false),
            "ForAnyValue on a missing key does not match",
        ),
        (
            clause("ForAnyValue:StringEqualsIfExists", "missing:key", &["x"]),
            Ok(true),
            "ForAnyValue IfExists missing",
        ),
        (
            clause(
                "ForAllValues:StringEquals",
                "aws:TagKeys",
                &["env", "team", "x"],
            ),
            Ok(true),
            "ForAllValues: all in the set",
        ),
        (
            clause("ForAllValues:StringEquals", "aws:TagKeys", &["env"]),
            Ok(false),
            "ForAllValues: one outside",
        ),
        (
            clause("ForAllValues:StringEquals", "missing:key", &["x"]),
            Ok(true),
            "ForAllValues on a missing key matches",
        ),
        (
            clause("ForAnyValue:StringNotEquals", "aws:TagKeys", &["env"]),
            Ok(true),
            "ForAnyValue negated: team is not env",
        ),
        (
            clause("ForAllValues:StringNotLike", "aws:TagKeys", &["e*"]),
            Ok(false),
            "ForAllValues negated: env is like e*",
        ),
        (
            clause("ForAllValues:StringNotLike", "aws:TagKeys", &["x*"]),
            Ok(true),
            "ForAllValues negated: none like x*",
        ),
        (
            clause("Bool", "aws:SecureTransport", &["true"]),
            Ok(true),
            "Bool",
        ),
        (
            clause("Bool", "aws:SecureTransport", &["false"]),
            Ok(false),
            "Bool false",
        ),
        (
            clause("Bool", "aws:MultiFactorAuthPresent", &["true"]),
            Ok(false),
            "Bool on a missing key",
        ),
        (
            clause("BoolIfExists", "aws:MultiFactorAuthPresent", &["false"]),
            Ok(true),
            "BoolIfExists missing",
        ),
        (
            clause("Null", "aws:MultiFactorAuthPresent", &["true"]),
            Ok(true),
            "Null true: key absent",
        ),
        (
            clause("Null", &sub_key, &["true"]),
            Ok(false),
            "Null true: key present",
        ),
        (
            clause("Null", &sub_key, &["false"]),
            Ok(true),
            "Null false: key present",
        ),
        (
            clause("Null", &sub_key, &["maybe"]),
            Err(()),
            "Null with a non-boolean",
        ),
        (
            clause("ArnEquals", "aws:PrincipalArn", &[ROLE]),
            Ok(true),
            "ArnEquals",
        ),
        (
            clause(
                "ArnLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:role/AuroraRole-*"],
            ),
            Ok(true),
            "ArnLike",
        ),
        (
            clause(
                "ArnEquals",
                "aws:PrincipalArn",
                &["arn:aws:iam::123456789012:role/*"],
            ),
            Ok(true),
            "ArnEquals takes wildcards too",
        ),
        (
            clause(
                "ArnLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:role/other"],
            ),
            Ok(false),
            "ArnLike mismatch",
        ),
        (
            clause("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*"]),
            Ok(false),
            "ArnLike needs all six parts",
        ),
        (
            clause(
                "ArnNotEquals",
                "aws:PrincipalArn",
                &["arn:aws:iam::123456789012:role/x"],
            ),
            Ok(true),
            "ArnNotEquals",
        ),
        (
            clause(
                "ArnNotLike",
                "aws:PrincipalArn",
                &["arn:aws:iam::*:role/Aurora*"],
            ),
            Ok(false),
            "ArnNotLike",
        ),
        (
            clause("NumericLessThan", "s3:max-keys", &["10"]),
            Err(()),
            "numeric operators are undecidable",
        ),
        (
            clause(
                "DateGreaterThan",
                "aws:CurrentTime",
                &["2020-01-01T00:00:00Z"],
            ),
            Err(()),
            "date operators are undecidable",
        ),
        (
            clause("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
            Err(()),
            "IpAddress is undecidable",
        ),
        (
            clause("NotIpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
            Err(()),
            "NotIpAddress is undecidable",
        ),
        (
            clause("NullIfExists", "k:k", &["true"]),
            Err(()),
            "NullIfExists does not exist",
        ),
        (
            clause("ForAnyValue:Null", "k:k", &["true"]),
            Err(()),
            "set operators do not take Null",
        ),
        (
            clause("StringLikeButNot", "k:k", &["x"]),
            Err(()),
            "an unknown operator",
        ),
        (
            clause(
                "StringEquals",
                &sub_key,
                &["system:serviceaccount:${aws:username}:x"],
            ),
            Err(()),
            "policy variable",
        ),
    ];
    for (clause, expected, what) in rows {
        let got = clause.evaluate(&ctx, true);
        assert_eq!(got.is_ok(), expected.is_ok(), "{what}: {got:?}");
        if let (Ok(got), Ok(expected)) = (&got, expected) {
            assert_eq!(*got, expected, "{what}");
        }
    }
    // Without Version 2012-10-17, `${…}` is literal text.
    let literal = clause("StringEquals", "k:k", &["${x}"]);
    assert_eq!(
        literal.evaluate(&Context::new().with("k:k", "${x}"), false),
        Ok(true)
    );
    // Undecidable reasons name the operator or the variable.
    assert_eq!(
        clause("NumericLessThan", "s3:max-keys", &["10"]).evaluate(&ctx, true),
        Err("condition operator NumericLessThan is not evaluated by irsa-check".to_owned())
    );
}

#[test]
fn several_keys_and_operators_are_and_and_false_beats_undecidable() {
    let ctx = Context::new().with("a:a", "1").with("b:b", "2");
    let both = [
        clause("StringEquals", "a:a", &["1"]),
        clause("StringEquals", "b:b", &["2"]),
    ];
    assert_eq!(condition::evaluate_all(&both, &ctx, true), Ok(true));
    let one_wrong = [
        clause("StringEquals", "a:a", &["1"]),
        clause("StringLike", "b:b", &["3*"]),
    ];
    assert_eq!(condition::evaluate_all(&one_wrong, &ctx, true), Ok(false));
    let unknown_and_wrong = [
        clause("NumericEquals", "a:a", &["1"]),
        clause("StringEquals", "b:b", &["3"]),
    ];
    assert_eq!(
        condition::evaluate_all(&unknown_and_wrong, &ctx, true),
        Ok(false)
    );
    let unknown_and_right = [
        clause("NumericEquals", "a:a", &["1"]),
        clause("StringEquals", "b:b", &["2"]),
    ];
    assert!(condition::evaluate_all(&unknown_and_right, &ctx, true).is_err());
    assert_eq!(condition::evaluate_all(&[], &ctx, true), Ok(true));
}

#[test]
fn unlisted_keys_absent_unknown_or_claims_only() {
    let on = |key: &str| clause("StringEquals", key, &["x"]);
    let closed = Context::new();
    let open = Context::new()
        .unlisted(Unlisted::Unknown)
        .with("aws:PrincipalArn", ROLE);
    let token = Context::new()
        .unlisted(Unlisted::UnknownExceptClaims)
        .with(&format!("{ISSUER}:sub"), "s");
    assert_eq!(on("aws:SourceVpc").evaluate(&closed, true), Ok(false));
    assert!(on("aws:SourceVpc").evaluate(&open, true).is_err());
    assert_eq!(
        clause("StringEquals", "aws:PrincipalArn", &[ROLE]).evaluate(&open, true),
        Ok(true),
        "a listed key is judged"
    );
    assert!(on("aws:SourceIp").evaluate(&token, true).is_err());
    assert_eq!(
        on(&format!("{OTHER_ISSUER}:sub")).evaluate(&token, true),
        Ok(false)
    );
    assert_eq!(
        on(&format!("{ISSUER}:amr")).evaluate(&token, true),
        Ok(false)
    );
    assert_eq!(
        on("accounts.google.com:aud").evaluate(&token, true),
        Ok(false)
    );
}

// ---------------------------------------------------------------------------------
// The evaluator: a golden table from AWS's documented policy evaluation logic
// ("Policy evaluation logic" in the IAM User Guide). Each row says the rule it shows.

struct Row {
    rule: &'static str,
    identity: Vec<serde_json::Value>,
    boundary: Option<serde_json::Value>,
    resource: Option<serde_json::Value>,
    caller: &'static str,
    expected: Decision,
    blocked_by_boundary: bool,
}

fn allow(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
}

fn deny(action: &str, resource: &str) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": resource}]})
}

fn resource_policy(principal: serde_json::Value) -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "rds-db:connect", "Resource": "*"}]})
}

fn golden_rows() -> Vec<Row> {
    let row = |rule, identity, boundary, resource, expected| Row {
        rule,
        identity,
        boundary,
        resource,
        caller: ROLE,
        expected,
        blocked_by_boundary: false,
    };
    use Decision::*;
    vec![
        row(
            "default deny: nothing allows",
            vec![],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "an identity policy allows",
            vec![allow("rds-db:connect", DBUSER)],
            None,
            None,
            Allow,
        ),
        row(
            "action wildcards",
            vec![allow("rds-db:*", DBUSER)],
            None,
            None,
            Allow,
        ),
        row(
            "`*` covers every action",
            vec![allow("*", "*")],
            None,
            None,
            Allow,
        ),
        row(
            "actions ignore case",
            vec![allow("RDS-DB:Connect", DBUSER)],
            None,
            None,
            Allow,
        ),
        row(
            "another action does not",
            vec![allow("rds:DescribeDBClusters", "*")],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "resource wildcards, as in Camunda's reference dbuser:*/user",
            vec![allow(
                "rds-db:connect",
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/identity_irsa",
            )],
            None,
            None,
            Allow,
        ),
        row(
            "resources are case-sensitive",
            vec![allow(
                "rds-db:connect",
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/IDENTITY_IRSA",
            )],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "another region's resource does not match",
            vec![allow(
                "rds-db:connect",
                "arn:aws:rds-db:eu-central-1:123456789012:dbuser:*/identity_irsa",
            )],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "an explicit deny in any policy wins over an allow in another",
            vec![allow("rds-db:connect", DBUSER), deny("rds-db:*", "*")],
            None,
            None,
            ExplicitDeny,
        ),
        row(
            "a deny with NotAction denies every other action",
            vec![
                allow("rds-db:connect", DBUSER),
                json!({"Statement": [{"Effect": "Deny", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}]}),
            ],
            None,
            None,
            ExplicitDeny,
        ),
        row(
            "a deny with NotAction naming the action leaves it alone",
            vec![
                allow("rds-db:connect", DBUSER),
                json!({"Statement": [{"Effect": "Deny", "NotAction": "rds-db:*", "Resource": "*"}]}),
            ],
            None,
            None,
            Allow,
        ),
        row(
            "a deny with NotResource denies every other resource",
            vec![
                allow("rds-db:connect", DBUSER),
                json!({"Statement": [{"Effect": "Deny", "Action": "rds-db:connect", "NotResource": "arn:aws:rds-db:*:*:dbuser:*/other"}]}),
            ],
            None,
            None,
            ExplicitDeny,
        ),
        row(
            "an allow with NotResource excluding the resource does not allow it",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "NotResource": "arn:aws:rds-db:*:*:dbuser:*/identity_irsa"}]}),
            ],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "an allow with NotResource excluding others allows it",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "NotResource": "arn:aws:rds-db:*:*:dbuser:*/admin"}]}),
            ],
            None,
            None,
            Allow,
        ),
        row(
            "an allow with NotAction covers the actions it does not name",
            vec![
                json!({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
            ],
            None,
            None,
            Allow,
        ),
        Row {
            blocked_by_boundary: true,
            ..row(
                "a boundary must allow too: without the action it blocks",
                vec![allow("rds-db:connect", DBUSER)],
                Some(allow("s3:*", "*")),
                None,
                ImplicitDeny,
            )
        },
        row(
            "a boundary that allows the action",
            vec![allow("rds-db:connect", DBUSER)],
            Some(allow("rds-db:*", "*")),
            None,
            Allow,
        ),
        row(
            "a boundary alone grants nothing",
            vec![],
            Some(allow("*", "*")),
            None,
            ImplicitDeny,
        ),
        row(
            "a deny in the boundary is an explicit deny",
            vec![allow("rds-db:connect", DBUSER)],
            Some(
                json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "rds-db:*", "Resource": "*"}]}),
            ),
            None,
            ExplicitDeny,
        ),
        row(
            "same account: a resource policy naming the role allows alone",
            vec![],
            None,
            Some(resource_policy(json!({"AWS": ROLE}))),
            Allow,
        ),
        row(
            "a resource policy with Principal \"*\"",
            vec![],
            None,
            Some(resource_policy(json!("*"))),
            Allow,
        ),
        row(
            "a resource policy with {\"AWS\": \"*\"}",
            vec![],
            None,
            Some(resource_policy(json!({"AWS": "*"}))),
            Allow,
        ),
        row(
            "the account root admits every principal of the account",
            vec![],
            None,
            Some(resource_policy(
                json!({"AWS": "arn:aws:iam::123456789012:root"}),
            )),
            Allow,
        ),
        row(
            "so does the bare account id",
            vec![],
            None,
            Some(resource_policy(json!({"AWS": ACCOUNT}))),
            Allow,
        ),
        row(
            "another account's root does not",
            vec![],
            None,
            Some(resource_policy(
                json!({"AWS": "arn:aws:iam::999999999999:root"}),
            )),
            ImplicitDeny,
        ),
        row(
            "another role does not",
            vec![],
            None,
            Some(resource_policy(
                json!({"AWS": "arn:aws:iam::123456789012:role/Other"}),
            )),
            ImplicitDeny,
        ),
        row(
            "a session ARN of the role names it",
            vec![],
            None,
            Some(resource_policy(
                json!({"AWS": "arn:aws:sts::123456789012:assumed-role/AuroraRole-Identity-camunda-prod/botocore-session-1"}),
            )),
            Allow,
        ),
        row(
            "a Federated principal does not name a role",
            vec![],
            None,
            Some(resource_policy(json!({"Federated": provider()}))),
            ImplicitDeny,
        ),
        row(
            "a resource policy statement without Principal names nobody",
            vec![],
            None,
            Some(allow("rds-db:connect", "*")),
            ImplicitDeny,
        ),
        row(
            "a deny in the resource policy wins over the identity policy's allow",
            vec![allow("rds-db:connect", DBUSER)],
            None,
            Some(
                json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}),
            ),
            ExplicitDeny,
        ),
        row(
            "a deny with NotPrincipal spares the principals it names",
            vec![allow("rds-db:connect", DBUSER)],
            None,
            Some(
                json!({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "*", "Resource": "*"}]}),
            ),
            Allow,
        ),
        row(
            "an allow whose condition holds",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}]}),
            ],
            None,
            None,
            Allow,
        ),
        row(
            "an allow whose condition fails does not apply",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "999999999999"}}}]}),
            ],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "an allow that cannot be decided leaves the answer open",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}]}),
            ],
            None,
            None,
            Undecidable,
        ),
        row(
            "an undecidable allow next to a definite one",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
                allow("rds-db:connect", DBUSER),
            ],
            None,
            None,
            Allow,
        ),
        row(
            "an undecidable deny keeps an allow from being sure",
            vec![
                allow("rds-db:connect", DBUSER),
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
            ],
            None,
            None,
            Undecidable,
        ),
        row(
            "an undecidable deny without any allow: denied anyway",
            vec![
                json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}),
            ],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "a failing clause beats an undecidable one in the same statement",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*", "Condition": {"NumericLessThan": {"x:y": "1"}, "StringEquals": {"aws:PrincipalAccount": "1"}}}]}),
            ],
            None,
            None,
            ImplicitDeny,
        ),
        row(
            "a policy variable in a resource cannot be decided",
            vec![allow(
                "rds-db:connect",
                "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/${aws:username}",
            )],
            None,
            None,
            Undecidable,
        ),
        row(
            "without Version 2012-10-17, `${…}` is literal",
            vec![
                json!({"Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/${aws:username}"}]}),
            ],
            None,
            None,
            ImplicitDeny,
        ),
        Row {
            caller: "arn:aws:iam::123456789012:role/some/path/AuroraRole-Identity-camunda-prod",
            ..row(
                "a role with a path is named by its full ARN",
                vec![],
                None,
                Some(resource_policy(
                    json!({"AWS": "arn:aws:iam::123456789012:role/some/path/AuroraRole-Identity-camunda-prod"}),
                )),
                Allow,
            )
        },
        Row {
            caller: "arn:aws:iam::123456789012:role/some/path/AuroraRole-Identity-camunda-prod",
            ..row(
                "not by the ARN without the path",
                vec![],
                None,
                Some(resource_policy(json!({"AWS": ROLE}))),
                ImplicitDeny,
            )
        },
        Row {
            caller: "arn:aws:iam::123456789012:role/some/path/AuroraRole-Identity-camunda-prod",
            ..row(
                "its session ARN has no path",
                vec![],
                None,
                Some(resource_policy(
                    json!({"AWS": "arn:aws:sts::123456789012:assumed-role/AuroraRole-Identity-camunda-prod/s"}),
                )),
                Allow,
            )
        },
        Row {
            caller: "arn:aws:iam::999999999999:role/Foreign",
            ..row(
                "cross-account: the resource policy alone is not enough",
                vec![],
                None,
                Some(resource_policy(
                    json!({"AWS": "arn:aws:iam::999999999999:role/Foreign"}),
                )),
                ImplicitDeny,
            )
        },
        Row {
            caller: "arn:aws:iam::999999999999:role/Foreign",
            ..row(
                "cross-account: both sides allow",
                vec![allow("rds-db:connect", "*")],
                None,
                Some(resource_policy(
                    json!({"AWS": "arn:aws:iam::999999999999:role/Foreign"}),
                )),
                Allow,
            )
        },
    ]
}

#[test]
fn golden_table_of_the_evaluation_logic() {
    for row in golden_rows() {
        let identity: Vec<PolicyDocument> = row.identity.iter().map(|v| doc(v.clone())).collect();
        let boundary = row.boundary.clone().map(doc);
        let resource = row.resource.clone().map(doc);
        let names: Vec<String> = (0..identity.len()).map(|i| format!("policy-{i}")).collect();
        let named: Vec<NamedPolicy<'_>> = identity
            .iter()
            .zip(&names)
            .map(|(document, name)| NamedPolicy { name, document })
            .collect();
        let request = Request {
            caller: Caller::Role {
                arn: row.caller.into(),
            },
            action: "rds-db:connect".into(),
            resource: Some(DBUSER.into()),
            context: Context::new().with(
                "aws:PrincipalAccount",
                row.caller.split(':').nth(4).unwrap(),
            ),
        };
        let evaluation = evaluate(
            &request,
            &named,
            boundary.as_ref().map(|document| NamedPolicy {
                name: "boundary",
                document,
            }),
            resource.as_ref().map(|document| NamedPolicy {
                name: "resource",
                document,
            }),
        );
        assert_eq!(evaluation.decision, row.expected, "{}", row.rule);
        assert_eq!(
            evaluation.blocked_by_boundary, row.blocked_by_boundary,
            "{}",
            row.rule
        );
    }
}

#[test]
fn evaluation_names_the_statements_behind_the_decision() {
    let a = doc(json!({"Statement": [
        {"Sid": "Other", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "Connect", "Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}
    ]}));
    let b = doc(json!({"Statement": [
        {"Effect": "Deny", "Action": "rds-db:*", "Resource": "*"},
        {"Sid": "Maybe", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}
    ]}));
    let request = Request {
        caller: Caller::Role { arn: ROLE.into() },
        action: "rds-db:connect".into(),
        resource: Some(DBUSER.into()),
        context: Context::new(),
    };
    let evaluation = evaluate(
        &request,
        &[
            NamedPolicy {
                name: "a",
                document: &a,
            },
            NamedPolicy {
                name: "b",
                document: &b,
            },
        ],
        None,
        None,
    );
    assert_eq!(evaluation.decision, Decision::ExplicitDeny);
    assert_eq!(
        evaluation.allowed_by,
        vec![StatementRef {
            policy: "a".into(),
            kind: PolicyKind::Identity,
            index: 1,
            sid: Some("Connect".into())
        }]
    );
    assert_eq!(
        evaluation
            .denied_by
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        vec!["Statement[0] of policy b"]
    );
    assert_eq!(evaluation.undecidable.len(), 1);
    assert_eq!(
        evaluation.undecidable[0].statement.to_string(),
        "Statement[1] (Sid \"Maybe\") of policy b"
    );
    assert_eq!(evaluation.undecidable[0].effect, Effect::Deny);
    assert_eq!(
        evaluation.undecidable[0].reason,
        "condition operator DateLessThan is not evaluated by irsa-check"
    );
    assert_eq!(evaluation.identity_allows, Tri::Yes);
    assert_eq!(evaluation.boundary_allows, None);
    assert_eq!(evaluation.resource_allows, None);
}

// ---------------------------------------------------------------------------------
// Trust analysis

fn query(sa: &str) -> TrustQuery {
    TrustQuery::new("aws", ACCOUNT, &format!("https://{ISSUER}/"), "camunda", sa)
}

#[test]
fn trust_query_normalises_the_issuer() {
    let q = query("identity-sa");
    assert_eq!(q.issuer, ISSUER);
    assert_eq!(q.subject(), "system:serviceaccount:camunda:identity-sa");
    assert_eq!(q.provider_arn(), provider());
    assert_eq!(q.audience, "sts.amazonaws.com");
}

#[test]
fn the_reference_trust_admits_its_service_account() {
    let document = PolicyDocument::parse(&encode(
        &reference_trust("system:serviceaccount:camunda:identity-sa").to_string(),
    ))
    .unwrap();
    let analysis = analyze_trust(&document, &query("identity-sa"));
    assert!(analysis.admits_token());
    assert_eq!(analysis.statements.len(), 1);
    let s = &analysis.statements[0];
    assert!(s.names_eks_provider() && s.names_this_cluster());
    assert_eq!(s.federated[0].eks.as_ref().unwrap().issuer, ISSUER);
    assert_eq!(s.subject.admits, Ok(true));
    assert_eq!(s.subject.clauses.len(), 1);
    assert_eq!(s.audience.admits, Ok(true));
    assert!(s.audience.clauses.is_empty());
    assert_eq!(s.any_service_account, AnyServiceAccount::No);
    assert!(s.literal_wildcards.is_empty());
    assert_eq!(s.other_conditions, Ok(true));

    let other = analyze_trust(&document, &query("webmodeler-sa"));
    assert!(!other.admits_token());
    assert_eq!(other.evaluation.decision, Decision::ImplicitDeny);
    assert_eq!(other.statements[0].subject.admits, Ok(false));
}

#[test]
fn trust_traps() {
    struct Case {
        what: &'static str,
        trust: serde_json::Value,
        sa: &'static str,
        admits: bool,
        eks: bool,
        this_cluster: bool,
        subject: Result<bool, ()>,
        audience: Result<bool, ()>,
        any: AnyServiceAccount,
        literal: usize,
    }
    let stmt = |action: serde_json::Value, federated: &str, condition: serde_json::Value| {
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": federated}, "Action": action, "Condition": condition
        }]})
    };
    let sub = format!("{ISSUER}:sub");
    let aud = format!("{ISSUER}:aud");
    let other_provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{OTHER_ISSUER}");
    let ok = Case {
        what: "",
        trust: json!(null),
        sa: "zeebe-sa",
        admits: true,
        eks: true,
        this_cluster: true,
        subject: Ok(true),
        audience: Ok(true),
        any: AnyServiceAccount::No,
        literal: 0,
    };
    let cases = vec![
        Case {
            what: "the OpenSearch reference: a list of subjects",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: ["system:serviceaccount:camunda:zeebe-sa", "system:serviceaccount:camunda:optimize-sa"]}}),
            ),
            ..ok
        },
        Case {
            what: "an action list",
            trust: stmt(
                json!(["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:zeebe-sa"}}),
            ),
            ..ok
        },
        Case {
            what: "sts:*",
            trust: stmt(
                json!("sts:*"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:zeebe-sa"}}),
            ),
            ..ok
        },
        Case {
            what: "sts:AssumeRole* with aud",
            trust: stmt(
                json!("sts:AssumeRole*"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:zeebe-sa", &aud: "sts.amazonaws.com"}}),
            ),
            ..ok
        },
        Case {
            what: "a wrong audience",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:zeebe-sa", &aud: "sts.amazon.com"}}),
            ),
            admits: false,
            audience: Ok(false),
            ..ok
        },
        Case {
            what: "StringLike over the namespace",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringLike": {&sub: "system:serviceaccount:camunda:*"}}),
            ),
            any: AnyServiceAccount::InNamespace,
            ..ok
        },
        Case {
            what: "StringLike over a prefix of names is not 'any'",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringLike": {&sub: "system:serviceaccount:camunda:zeebe-*"}}),
            ),
            ..ok
        },
        Case {
            what: "StringLike over every namespace",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringLike": {&sub: "system:serviceaccount:*"}}),
            ),
            any: AnyServiceAccount::InCluster,
            ..ok
        },
        Case {
            what: "no sub condition at all",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&aud: "sts.amazonaws.com"}}),
            ),
            any: AnyServiceAccount::InCluster,
            ..ok
        },
        Case {
            what: "StringEquals with a wildcard is literal",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:*"}}),
            ),
            admits: false,
            subject: Ok(false),
            literal: 1,
            ..ok
        },
        Case {
            what: "the wrong namespace",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:default:zeebe-sa"}}),
            ),
            admits: false,
            subject: Ok(false),
            ..ok
        },
        Case {
            what: "another cluster's provider (and its key)",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &other_provider,
                json!({"StringEquals": {format!("{OTHER_ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"}}),
            ),
            admits: false,
            this_cluster: false,
            ..ok
        },
        Case {
            what: "this provider but the other cluster's condition key",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {format!("{OTHER_ISSUER}:sub"): "system:serviceaccount:camunda:zeebe-sa"}}),
            ),
            admits: false,
            subject: Ok(false),
            ..ok
        },
        Case {
            what: "a GitHub provider is not EKS",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
                json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}),
            ),
            admits: false,
            eks: false,
            this_cluster: false,
            // Its aud key is another issuer's: an EKS token does not carry it.
            audience: Ok(false),
            any: AnyServiceAccount::InCluster,
            ..ok
        },
        Case {
            what: "an undecidable extra condition",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:camunda:zeebe-sa"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            ),
            admits: false,
            ..ok
        },
        Case {
            what: "an undecidable sub condition",
            trust: stmt(
                json!("sts:AssumeRoleWithWebIdentity"),
                &provider(),
                json!({"StringEquals": {&sub: "system:serviceaccount:${aws:PrincipalTag/ns}:zeebe-sa"}}),
            ),
            admits: false,
            subject: Err(()),
            ..ok
        },
    ];
    for case in cases {
        let document = doc(case.trust);
        let analysis = analyze_trust(&document, &query(case.sa));
        let what = case.what;
        assert_eq!(analysis.admits_token(), case.admits, "{what}");
        assert_eq!(analysis.statements.len(), 1, "{what}");
        let s = &analysis.statements[0];
        assert_eq!(s.names_eks_provider(), case.eks, "{what}");
        assert_eq!(s.names_this_cluster(), case.this_cluster, "{what}");
        assert_eq!(
            s.subject.admits.clone().map_err(|_| ()),
            case.subject,
            "{what}"
        );
        assert_eq!(
            s.audience.admits.clone().map_err(|_| ()),
            case.audience,
            "{what}"
        );
        assert_eq!(s.any_service_account, case.any, "{what}");
        assert_eq!(s.literal_wildcards.len(), case.literal, "{what}");
    }
}

#[test]
fn trust_in_other_partitions_and_with_deny() {
    let cn_issuer = "oidc.eks.cn-north-1.amazonaws.com.cn/id/ABCDEF0123456789ABCDEF0123456789";
    let cn = doc(json!({"Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws-cn:iam::{ACCOUNT}:oidc-provider/{cn_issuer}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{cn_issuer}:sub"): "system:serviceaccount:camunda:zeebe-sa"}}
    }]}));
    let cn_query = TrustQuery::new("aws-cn", ACCOUNT, cn_issuer, "camunda", "zeebe-sa");
    let analysis = analyze_trust(&cn, &cn_query);
    assert!(analysis.admits_token());
    assert!(analysis.statements[0].names_this_cluster());
    // The same document judged for a commercial-partition query: not this cluster's.
    let commercial = TrustQuery::new("aws", ACCOUNT, cn_issuer, "camunda", "zeebe-sa");
    let analysis = analyze_trust(&cn, &commercial);
    assert!(!analysis.statements[0].names_this_cluster());
    assert!(!analysis.admits_token());

    let gov_issuer = "oidc.eks.us-gov-west-1.amazonaws.com/id/ABCDEF0123456789ABCDEF0123456789";
    let gov = doc(json!({"Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws-us-gov:iam::{ACCOUNT}:oidc-provider/{gov_issuer}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {format!("{gov_issuer}:sub"): "system:serviceaccount:camunda:zeebe-s?"}}
    }]}));
    let gov_query = TrustQuery::new("aws-us-gov", ACCOUNT, gov_issuer, "camunda", "zeebe-sa");
    assert!(analyze_trust(&gov, &gov_query).admits_token());

    let mut with_deny = reference_trust("system:serviceaccount:camunda:zeebe-sa");
    with_deny["Statement"].as_array_mut().unwrap().push(json!({
        "Sid": "NoKubeSystem", "Effect": "Deny", "Principal": "*", "Action": "sts:*",
        "Condition": {"StringNotLike": {format!("{ISSUER}:sub"): "system:serviceaccount:kube-system:*"}}
    }));
    let analysis = analyze_trust(&doc(with_deny), &query("zeebe-sa"));
    assert_eq!(analysis.evaluation.decision, Decision::ExplicitDeny);
    assert_eq!(
        analysis.evaluation.denied_by[0].sid.as_deref(),
        Some("NoKubeSystem")
    );
    // Principal {"AWS": "*"} does not cover a web identity.
    let aws_star = doc(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}),
    );
    let analysis = analyze_trust(&aws_star, &query("zeebe-sa"));
    assert!(!analysis.admits_token());
    assert!(!analysis.statements[0].names_eks_provider());
    // A service trust (EC2) allows sts:AssumeRole only.
    let ec2 = doc(
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    );
    let analysis = analyze_trust(&ec2, &query("zeebe-sa"));
    assert!(analysis.statements.is_empty());
    assert_eq!(
        analysis.other_allowed_actions,
        vec!["sts:AssumeRole".to_owned()]
    );
}
