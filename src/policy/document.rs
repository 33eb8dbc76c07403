//! IAM policy documents: parsing from the text IAM (or moto) hands back.

use serde_json::Value;
use std::fmt;

/// A parsed IAM policy document (identity, trust, boundary or resource policy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `Version`, when given. Only `2012-10-17` knows policy variables (`${…}`).
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

/// One entry of `Statement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// Position in the `Statement` list (0 when `Statement` is a single object).
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`; only resource policies (trust, domain) have one.
    pub principal: Option<PrincipalBlock>,
    /// `Action` / `NotAction`.
    pub action: Patterns,
    /// `Resource` / `NotResource`; absent in trust policies.
    pub resource: Option<Patterns>,
    /// Every operator → key → values entry of `Condition`, in document order.
    pub conditions: Vec<ConditionClause>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        })
    }
}

/// A list of wildcard patterns, possibly negated (`NotAction`, `NotResource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patterns {
    /// True for the `Not…` form: the statement covers everything the list does not match.
    pub negated: bool,
    pub patterns: Vec<String>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub principals: Principals,
}

/// What a `Principal` element names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"`: everyone, federated users included.
    Everyone,
    /// `{"AWS": …, "Federated": …, …}`, each type with its list of values.
    Named(Vec<(PrincipalType, Vec<String>)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    Aws,
    Federated,
    Service,
    CanonicalUser,
}

impl PrincipalType {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Federated => "Federated",
            PrincipalType::Service => "Service",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

impl Principals {
    /// The values given for one principal type (empty for `Everyone`).
    pub fn of_type(&self, wanted: PrincipalType) -> impl Iterator<Item = &str> {
        let named: &[(PrincipalType, Vec<String>)] = match self {
            Principals::Everyone => &[],
            Principals::Named(named) => named,
        };
        named
            .iter()
            .filter(move |(t, _)| *t == wanted)
            .flat_map(|(_, values)| values.iter().map(String::as_str))
    }
}

impl fmt::Display for Principals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principals::Everyone => f.write_str("\"*\""),
            Principals::Named(named) => {
                let parts: Vec<String> = named
                    .iter()
                    .map(|(t, values)| format!("{}: {}", t.name(), values.join(", ")))
                    .collect();
                f.write_str(&parts.join("; "))
            }
        }
    }
}

/// One `"Operator": {"key": values}` entry of a `Condition` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionClause {
    /// The operator as written (`StringEquals`, `ForAnyValue:StringLike`, …).
    pub operator: String,
    /// The condition key as written; compared without regard to case.
    pub key: String,
    /// The values; JSON booleans and numbers become their text, as IAM does.
    pub values: Vec<String>,
}

/// Why a text is not a policy document IAM would accept, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// `Statement[2] (Sid "X")`, `Statement[0].Action`, …; `None` for the document itself.
    pub location: Option<String>,
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{at}: {}", self.problem),
            None => f.write_str(&self.problem),
        }
    }
}

impl std::error::Error for PolicyError {}

impl PolicyDocument {
    /// Parse a policy document given as raw JSON or as RFC 3986 percent-encoded JSON
    /// (IAM's GetRole and GetRolePolicy encode it; `+` stays a plus). Unknown fields are
    /// ignored; a wrong shape is an error that names the statement and field.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let trimmed = text.trim();
        let decoded;
        let json = if trimmed.starts_with('{') || !trimmed.contains('%') {
            trimmed
        } else {
            decoded = percent_decode(trimmed)?;
            decoded.trim()
        };
        let value: Value = serde_json::from_str(json).map_err(|e| PolicyError {
            location: None,
            problem: format!("not valid JSON: {e}"),
        })?;
        Self::from_json(&value)
    }

    /// Build a document from parsed JSON.
    pub fn from_json(value: &Value) -> Result<PolicyDocument, PolicyError> {
        let top = value.as_object().ok_or_else(|| PolicyError {
            location: None,
            problem: format!("a policy document is a JSON object, found {}", kind(value)),
        })?;
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) => Some(v.clone()),
            Some(other) => {
                return Err(PolicyError {
                    location: Some("Version".into()),
                    problem: format!("must be a string, found {}", kind(other)),
                });
            }
        };
        let raw_statements: Vec<&Value> = match top.get("Statement") {
            None => {
                return Err(PolicyError {
                    location: None,
                    problem: "the document has no Statement".into(),
                });
            }
            Some(Value::Array(list)) => list.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(other) => {
                return Err(PolicyError {
                    location: Some("Statement".into()),
                    problem: format!(
                        "must be an object or a list of objects, found {}",
                        kind(other)
                    ),
                });
            }
        };
        let statements = raw_statements
            .into_iter()
            .enumerate()
            .map(|(index, raw)| parse_statement(index, raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyDocument {
            version,
            statements,
        })
    }

    /// Whether `${…}` in values is a policy variable (only with Version 2012-10-17;
    /// otherwise IAM takes it literally).
    pub fn has_policy_variables(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

fn parse_statement(index: usize, raw: &Value) -> Result<Statement, PolicyError> {
    let Some(object) = raw.as_object() else {
        return Err(PolicyError {
            location: Some(format!("Statement[{index}]")),
            problem: format!("must be an object, found {}", kind(raw)),
        });
    };
    let sid = match object.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(PolicyError {
                location: Some(format!("Statement[{index}].Sid")),
                problem: format!("must be a string, found {}", kind(other)),
            });
        }
    };
    let at = |field: &str| -> String {
        match &sid {
            Some(sid) => format!("Statement[{index}] (Sid {sid:?}).{field}"),
            None => format!("Statement[{index}].{field}"),
        }
    };
    let err = |field: &str, problem: String| PolicyError {
        location: Some(at(field)),
        problem,
    };

    let effect = match object.get("Effect") {
        None => return Err(err("Effect", "is missing".into())),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(err(
                "Effect",
                format!("must be \"Allow\" or \"Deny\", found {}", short(other)),
            ));
        }
    };

    let action = pair(object, "Action", "NotAction", &err)?.ok_or_else(|| {
        err(
            "Action",
            "the statement has neither Action nor NotAction".into(),
        )
    })?;
    let resource = pair(object, "Resource", "NotResource", &err)?;

    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "Principal",
                "the statement has both Principal and NotPrincipal".into(),
            ));
        }
        (Some(p), None) => Some(PrincipalBlock {
            negated: false,
            principals: parse_principals(p, "Principal", &err)?,
        }),
        (None, Some(p)) => Some(PrincipalBlock {
            negated: true,
            principals: parse_principals(p, "NotPrincipal", &err)?,
        }),
        (None, None) => None,
    };

    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(Value::Object(operators)) => {
            let mut clauses = Vec::new();
            for (operator, keys) in operators {
                let Value::Object(keys) = keys else {
                    return Err(err(
                        &format!("Condition.{operator}"),
                        format!("must be an object of condition keys, found {}", kind(keys)),
                    ));
                };
                for (key, values) in keys {
                    let values = condition_values(values).ok_or_else(|| {
                        err(
                            &format!("Condition.{operator}.{key}"),
                            format!(
                                "must be a string, boolean, number or a list of them, found {}",
                                kind(values)
                            ),
                        )
                    })?;
                    clauses.push(ConditionClause {
                        operator: operator.clone(),
                        key: key.clone(),
                        values,
                    });
                }
            }
            clauses
        }
        Some(other) => {
            return Err(err(
                "Condition",
                format!("must be an object, found {}", kind(other)),
            ));
        }
    };

    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: at most one of the two.
fn pair(
    object: &serde_json::Map<String, Value>,
    positive: &str,
    negative: &str,
    err: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Option<Patterns>, PolicyError> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(err(
            positive,
            format!("the statement has both {positive} and {negative}"),
        )),
        (Some(v), None) => Ok(Some(Patterns {
            negated: false,
            patterns: strings(v).ok_or_else(|| {
                err(
                    positive,
                    format!("must be a string or a list of strings, found {}", kind(v)),
                )
            })?,
        })),
        (None, Some(v)) => Ok(Some(Patterns {
            negated: true,
            patterns: strings(v).ok_or_else(|| {
                err(
                    negative,
                    format!("must be a string or a list of strings, found {}", kind(v)),
                )
            })?,
        })),
        (None, None) => Ok(None),
    }
}

fn parse_principals(
    value: &Value,
    field: &str,
    err: &dyn Fn(&str, String) -> PolicyError,
) -> Result<Principals, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(Principals::Everyone),
        Value::Object(map) => {
            let mut named = Vec::new();
            for (name, values) in map {
                let principal_type = match name.as_str() {
                    "AWS" => PrincipalType::Aws,
                    "Federated" => PrincipalType::Federated,
                    "Service" => PrincipalType::Service,
                    "CanonicalUser" => PrincipalType::CanonicalUser,
                    other => {
                        return Err(err(
                            field,
                            format!(
                                "unknown principal type {other:?} (expected AWS, Federated, Service or CanonicalUser)"
                            ),
                        ));
                    }
                };
                let values = strings(values).ok_or_else(|| {
                    err(
                        &format!("{field}.{name}"),
                        format!(
                            "must be a string or a list of strings, found {}",
                            kind(values)
                        ),
                    )
                })?;
                named.push((principal_type, values));
            }
            Ok(Principals::Named(named))
        }
        other => Err(err(
            field,
            format!(
                "must be \"*\" or an object of principal types, found {}",
                short(other)
            ),
        )),
    }
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(list) => list.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

fn condition_values(value: &Value) -> Option<Vec<String>> {
    fn scalar(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match value {
        Value::Array(list) => list.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value for an error message: strings quoted and cut short, others by kind.
fn short(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 40 => {
            format!("{:?}…", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("{s:?}"),
        other => kind(other).to_owned(),
    }
}

/// RFC 3986 percent-decoding: `%XX` becomes that byte; `+` stays a plus.
fn percent_decode(text: &str) -> Result<String, PolicyError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // from_str_radix alone would take a sign (`%+1`), so check the digits first.
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    return Err(PolicyError {
                        location: None,
                        problem: format!(
                            "not JSON and not valid percent-encoding (bad escape at byte {i})"
                        ),
                    });
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| PolicyError {
        location: None,
        problem: "percent-decoded text is not UTF-8".into(),
    })
}
