//! The `Condition` element: operators, condition keys and the request context.

use super::document::ConditionClause;
use super::wildcard;
use std::collections::BTreeMap;

/// The request context: condition keys (compared without regard to case) and their
/// values. A key may carry several values (a multivalued key, for the set operators).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
    unlisted: Unlisted,
}

/// What a key the context does not list means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unlisted {
    /// The request does not carry it.
    #[default]
    Absent,
    /// The request may carry it with a value irsa-check cannot know (`aws:SourceVpc`,
    /// `aws:PrincipalTag/…`): a clause on it is undecidable.
    Unknown,
    /// Keys of an OIDC issuer (`host/path:claim`) are absent (the context lists the
    /// token's claims); other keys are unknown.
    UnknownExceptClaims,
}

impl Context {
    /// An empty context in which unlisted keys are absent.
    pub fn new() -> Self {
        Context::default()
    }

    /// The same context, with another meaning for unlisted keys.
    pub fn unlisted(mut self, unlisted: Unlisted) -> Self {
        self.unlisted = unlisted;
        self
    }

    /// Add one value to `key`.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.keys
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    /// The values of `key`; `None` when the request does not carry it (or carries no value).
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys
            .get(&key.to_lowercase())
            .map(Vec::as_slice)
            .filter(|values| !values.is_empty())
    }

    /// Whether a key the context does not list has an unknown value.
    fn is_unknown(&self, key: &str) -> bool {
        match self.unlisted {
            Unlisted::Absent => false,
            Unlisted::Unknown => true,
            Unlisted::UnknownExceptClaims => {
                let prefix = key.rsplit_once(':').map_or("", |(prefix, _)| prefix);
                !prefix.contains(['.', '/'])
            }
        }
    }
}

/// Why a clause cannot be decided; a statement holding it is reported, never guessed.
pub type Undecidable = String;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Arn,
    Bool,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    set: Option<SetQualifier>,
    base: Base,
    negated: bool,
    if_exists: bool,
}

fn parse_operator(written: &str) -> Result<Operator, Undecidable> {
    let unsupported = || format!("condition operator {written} is not evaluated by irsa-check");
    let lower = written.to_ascii_lowercase();
    let (set, rest) = if let Some(rest) = lower.strip_prefix("foranyvalue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else if let Some(rest) = lower.strip_prefix("forallvalues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else {
        (None, lower.as_str())
    };
    let (rest, if_exists) = match rest.strip_suffix("ifexists") {
        Some(rest) => (rest, true),
        None => (rest, false),
    };
    let (base, negated) = match rest {
        "stringequals" => (Base::StringEquals, false),
        "stringnotequals" => (Base::StringEquals, true),
        "stringequalsignorecase" => (Base::StringEqualsIgnoreCase, false),
        "stringnotequalsignorecase" => (Base::StringEqualsIgnoreCase, true),
        "stringlike" => (Base::StringLike, false),
        "stringnotlike" => (Base::StringLike, true),
        // IAM documents ArnEquals and ArnLike as the same test (wildcards allowed).
        "arnequals" | "arnlike" => (Base::Arn, false),
        "arnnotequals" | "arnnotlike" => (Base::Arn, true),
        "bool" => (Base::Bool, false),
        "null" if !if_exists && set.is_none() => (Base::Null, false),
        _ => return Err(unsupported()),
    };
    Ok(Operator {
        set,
        base,
        negated,
        if_exists,
    })
}

impl ConditionClause {
    /// Whether the request context satisfies this clause. Several values = OR.
    /// `variables` says whether `${…}` is a policy variable (Version 2012-10-17).
    pub fn evaluate(&self, context: &Context, variables: bool) -> Result<bool, Undecidable> {
        let operator = parse_operator(&self.operator)?;
        if variables && self.values.iter().any(|v| v.contains("${")) {
            return Err(format!(
                "{} on {} uses a policy variable, which irsa-check does not resolve",
                self.operator, self.key
            ));
        }
        let present = context.get(&self.key);
        if present.is_none() && context.is_unknown(&self.key) {
            return Err(format!(
                "{} depends on the request's {}, which irsa-check cannot know",
                self.operator, self.key
            ));
        }
        if operator.base == Base::Null {
            return self.null(present.is_some());
        }
        let Some(request_values) = present else {
            // A missing key: IfExists and ForAllValues hold, negations hold, the rest fail.
            return Ok(operator.if_exists
                || match operator.set {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => operator.negated,
                });
        };
        let one = |value: &str| {
            self.values
                .iter()
                .any(|wanted| base_match(operator.base, value, wanted))
        };
        let mut values = request_values.iter().map(String::as_str);
        Ok(match (operator.set, operator.negated) {
            (None, false) | (Some(SetQualifier::ForAnyValue), false) => values.any(one),
            (None, true) => !values.any(one),
            (Some(SetQualifier::ForAnyValue), true) => values.any(|v| !one(v)),
            (Some(SetQualifier::ForAllValues), false) => values.all(one),
            (Some(SetQualifier::ForAllValues), true) => values.all(|v| !one(v)),
        })
    }

    fn null(&self, present: bool) -> Result<bool, Undecidable> {
        let mut result = false;
        for wanted in &self.values {
            match wanted.to_ascii_lowercase().as_str() {
                "true" => result |= !present,
                "false" => result |= present,
                other => {
                    return Err(format!(
                        "Null on {} expects true or false, found {other:?}",
                        self.key
                    ));
                }
            }
        }
        Ok(result)
    }

    /// True for the string-equality operators, under which `*` and `?` are literal
    /// characters (the classic IRSA mistake).
    pub fn is_literal_equality(&self) -> bool {
        matches!(
            parse_operator(&self.operator),
            Ok(Operator {
                base: Base::StringEquals | Base::StringEqualsIgnoreCase,
                ..
            })
        )
    }
}

fn base_match(base: Base, value: &str, wanted: &str) -> bool {
    match base {
        Base::StringEquals => value == wanted,
        Base::StringEqualsIgnoreCase => value.to_lowercase() == wanted.to_lowercase(),
        Base::StringLike => wildcard::matches(wanted, value, false),
        Base::Arn => arn_like(wanted, value),
        Base::Bool => value.eq_ignore_ascii_case(wanted),
        Base::Null => false,
    }
}

/// IAM's ARN test: each of the six `:`-separated parts is matched on its own.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let pattern: Vec<&str> = pattern.splitn(6, ':').collect();
    let arn: Vec<&str> = arn.splitn(6, ':').collect();
    pattern.len() == 6
        && arn.len() == 6
        && pattern
            .iter()
            .zip(&arn)
            .all(|(p, a)| wildcard::matches(p, a, false))
}

/// All clauses together (AND). A clause that fails decides, even when another one is
/// undecidable; otherwise the first undecidable clause makes the whole undecidable.
pub fn evaluate_all<'a>(
    clauses: impl IntoIterator<Item = &'a ConditionClause>,
    context: &Context,
    variables: bool,
) -> Result<bool, Undecidable> {
    let mut undecided = None;
    for clause in clauses {
        match clause.evaluate(context, variables) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(reason) => {
                undecided.get_or_insert(reason);
            }
        }
    }
    match undecided {
        Some(reason) => Err(reason),
        None => Ok(true),
    }
}
