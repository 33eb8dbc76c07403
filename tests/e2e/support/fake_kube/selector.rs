//! Label and field selectors with the API server's grammar and semantics.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::store::Resource;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed `labelSelector`: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses `a=b,c!=d,e,!f,g in (x,y),h notin (z),i>3`; the error is the API
    /// server's 400 message.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!(
                    "unable to parse requirement: found '', expected: identifier in {text:?}"
                ));
            }
            requirements.push(parse_requirement(part)?);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, set) => labels.get(k).is_some_and(|v| set.contains(v)),
            Requirement::NotIn(k, set) => labels.get(k).is_none_or(|v| !set.contains(v)),
            Requirement::GreaterThan(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Requirement::LessThan(k, n) => labels
                .get(k)
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        })
    }
}

/// Splits at commas that are not inside `( … )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let invalid = |why: String| Err(format!("unable to parse requirement: {why}"));
    if let Some(key) = part.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement::NotExists(key.to_string()));
    }
    if let Some(open) = part.find('(') {
        let Some(values) = part[open + 1..].strip_suffix(')') else {
            return invalid(format!("found '{part}', expected: ')'"));
        };
        let head: Vec<&str> = part[..open].split_whitespace().collect();
        let [key, operator] = head[..] else {
            return invalid(format!("found '{part}', expected: key and 'in' or 'notin'"));
        };
        check_key(key)?;
        let set: BTreeSet<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if values.trim().is_empty() {
            return invalid(format!(
                "for 'in', 'notin' operators, values set can't be empty in '{part}'"
            ));
        }
        for value in &set {
            check_value(value)?;
        }
        return match operator {
            "in" => Ok(Requirement::In(key.to_string(), set)),
            "notin" => Ok(Requirement::NotIn(key.to_string(), set)),
            other => invalid(format!(
                "found '{other}', expected: in, notin, =, ==, !=, gt, lt"
            )),
        };
    }
    for (operator, build) in [
        (
            "!=",
            Requirement::NotEquals as fn(String, String) -> Requirement,
        ),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(operator) {
            let (key, value) = (key.trim(), value.trim());
            check_key(key)?;
            check_value(value)?;
            return Ok(build(key.to_string(), value.to_string()));
        }
    }
    for (operator, greater) in [(">", true), ("<", false)] {
        if let Some((key, value)) = part.split_once(operator) {
            let (key, value) = (key.trim(), value.trim());
            check_key(key)?;
            let Ok(n) = value.parse::<i64>() else {
                return invalid(format!(
                    "for 'Gt', 'Lt' operators, the value must be an integer: '{value}'"
                ));
            };
            return Ok(if greater {
                Requirement::GreaterThan(key.to_string(), n)
            } else {
                Requirement::LessThan(key.to_string(), n)
            });
        }
    }
    check_key(part)?;
    Ok(Requirement::Exists(part.to_string()))
}

/// A label key: optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters.
fn check_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            if prefix.is_empty()
                || prefix.len() > 253
                || !prefix.split('.').all(|l| is_dns_label(l) && !l.is_empty())
            {
                return Err(format!(
                    "unable to parse requirement: invalid label key {key:?}: prefix part must be a lowercase RFC 1123 subdomain"
                ));
            }
            name
        }
        None => key,
    };
    if name.is_empty() || name.len() > 63 || !is_label_text(name) {
        return Err(format!(
            "unable to parse requirement: invalid label key {key:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_label_text(value)) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: invalid label value: {value:?}: at key: must be 63 characters or less and must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn is_label_text(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_none_or(|b| b.is_ascii_alphanumeric())
        && bytes.last().is_none_or(|b| b.is_ascii_alphanumeric())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// A parsed `fieldSelector`: `field=value`, `field==value`, `field!=value`, comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses and checks the fields against what the API server supports for the
    /// resource; the error is its 400 message.
    pub fn parse(text: &str, resource: &Resource) -> Result<FieldSelector, String> {
        let mut terms = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{text}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !supported_fields(resource).contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            terms.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    /// The single `metadata.name=` the selector pins, as `kube::runtime` watches use.
    pub fn pinned_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, equal, _)| f == "metadata.name" && *equal)
            .map(|(_, _, v)| v.as_str())
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = match object.pointer(&pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (actual == *value) == *equal
        })
    }
}

fn supported_fields(resource: &Resource) -> Vec<&'static str> {
    let mut fields = vec!["metadata.name", "metadata.namespace"];
    fields.extend(match resource.kind {
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ][..],
        "Secret" => &["type"][..],
        "Node" => &["spec.unschedulable"][..],
        "Namespace" => &["status.phase"][..],
        "Job" => &["status.successful"][..],
        _ => &[][..],
    });
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_operators() {
        let l = labels(&[("app", "zeebe"), ("tier", "db"), ("n", "5")]);
        for (selector, expected) in [
            ("", true),
            ("app=zeebe", true),
            ("app==zeebe", true),
            ("app!=zeebe", false),
            ("app!=operate", true),
            ("missing!=x", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app in (operate, zeebe)", true),
            ("app in (operate)", false),
            ("missing in (x)", false),
            ("app notin (zeebe)", false),
            ("missing notin (x)", true),
            ("app=zeebe,tier in (db,cache),!missing", true),
            ("app=zeebe,tier=web", false),
            ("n>4", true),
            ("n<5", false),
            ("app.kubernetes.io/managed-by", false),
        ] {
            let parsed = LabelSelector::parse(selector).unwrap();
            assert_eq!(parsed.matches(&l), expected, "{selector}");
        }
    }

    #[test]
    fn label_selector_rejects_nonsense() {
        for bad in ["app in ()", "a b", "app=zee be", "-app=x", "app in (x", ","] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }
}
