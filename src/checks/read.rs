//! Reading values the way the chart's templates read them. Every check goes through
//! these, so "user value, else chart default" (Helm's coalescing, done by [`Values`])
//! and the text/boolean conventions are the same everywhere.

use crate::values::Values;
use serde_json::Value;

/// `a.b.c` for messages.
pub fn dotted(path: &[&str]) -> String {
    path.join(".")
}

/// A scalar as the templates would render it: strings (non-empty after trimming),
/// numbers and booleans as text. Maps, lists, null and `""` are "not set".
pub fn text(values: &Values, path: &[&str]) -> Option<String> {
    scalar_text(values.get(path)?)
}

pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean switch: `true`/`false`, or the strings "true"/"false" (any case), which
/// Helm's templates treat the same in `{{ if eq (toString .x) "true" }}`-style tests and
/// which users write with `--set`. Anything else is "not a boolean".
pub fn flag(values: &Values, path: &[&str]) -> Flag {
    match values.get(path) {
        None => Flag::Unset,
        Some(Value::Bool(b)) => Flag::Set(*b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Flag::Set(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Flag::Set(false),
        Some(other) => Flag::Invalid(short_json(other)),
    }
}

/// What a boolean switch holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flag {
    Unset,
    Set(bool),
    /// Neither a boolean nor "true"/"false": the JSON of what is there (shortened).
    Invalid(String),
}

impl Flag {
    pub fn is_true(&self) -> bool {
        *self == Flag::Set(true)
    }
    pub fn is_false(&self) -> bool {
        *self == Flag::Set(false)
    }
    /// As the chart's `if` would see it: unset is false, a non-empty string is true.
    pub fn truthy(&self) -> bool {
        matches!(self, Flag::Set(true) | Flag::Invalid(_))
    }
}

/// A TCP port from the values: a number or a numeric string in 1..=65535.
pub fn port(values: &Values, path: &[&str]) -> Port {
    match values.get(path) {
        None => Port::Unset,
        Some(Value::String(s)) if s.trim().is_empty() => Port::Unset,
        Some(v) => match scalar_text(v).and_then(|t| t.parse::<u32>().ok()) {
            Some(p @ 1..=65535) => Port::Set(p as u16),
            _ => Port::Invalid(short_json(v)),
        },
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Port {
    Unset,
    Set(u16),
    Invalid(String),
}

/// An entry of a Kubernetes env list in the values (`- name: X` / `value: Y`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvVar {
    /// `value:` is set (possibly empty).
    Value(String),
    /// Set through `valueFrom` (a Secret or ConfigMap): cannot be judged from the values.
    ValueFrom,
    Missing,
}

/// Look up `name` in the env list at `path`. The last entry wins, as in Kubernetes.
pub fn env(values: &Values, path: &[&str], name: &str) -> EnvVar {
    let Some(Value::Array(list)) = values.get(path) else {
        return EnvVar::Missing;
    };
    let mut found = EnvVar::Missing;
    for entry in list {
        if entry.get("name").and_then(Value::as_str) != Some(name) {
            continue;
        }
        found = if entry.get("valueFrom").is_some_and(|v| !v.is_null()) {
            EnvVar::ValueFrom
        } else {
            EnvVar::Value(
                entry
                    .get("value")
                    .and_then(scalar_text_allow_empty)
                    .unwrap_or_default(),
            )
        };
    }
    found
}

fn scalar_text_allow_empty(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        other => scalar_text(other),
    }
}

/// JSON of a value, cut to a length fit for a message.
pub fn short_json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(user: Value) -> Values {
        Values::new(user, json!({"d": {"port": 5432, "on": true}}))
    }

    #[test]
    fn text_renders_scalars_and_ignores_empties() {
        let values = v(json!({"a": " x ", "n": 5432, "b": false, "e": "", "m": {}, "l": []}));
        assert_eq!(text(&values, &["a"]), Some("x".into()));
        assert_eq!(text(&values, &["n"]), Some("5432".into()));
        assert_eq!(text(&values, &["b"]), Some("false".into()));
        assert_eq!(text(&values, &["e"]), None);
        assert_eq!(text(&values, &["m"]), None);
        assert_eq!(text(&values, &["l"]), None);
        assert_eq!(text(&values, &["nope", "deeper"]), None);
    }

    #[test]
    fn flags_accept_booleans_and_their_strings_only() {
        let values = v(json!({"t": "TRUE", "f": "false", "x": "yes", "n": 1, "d": {"on": null}}));
        assert_eq!(flag(&values, &["t"]), Flag::Set(true));
        assert_eq!(flag(&values, &["f"]), Flag::Set(false));
        assert_eq!(flag(&values, &["x"]), Flag::Invalid("\"yes\"".into()));
        assert_eq!(flag(&values, &["n"]), Flag::Invalid("1".into()));
        // A user null deletes the chart default.
        assert_eq!(flag(&values, &["d", "on"]), Flag::Unset);
        assert_eq!(flag(&values, &["missing"]), Flag::Unset);
    }

    #[test]
    fn ports_are_checked() {
        let values = v(json!({"s": "5433", "z": 0, "big": 70000, "w": "abc", "e": ""}));
        assert_eq!(port(&values, &["d", "port"]), Port::Set(5432));
        assert_eq!(port(&values, &["s"]), Port::Set(5433));
        assert_eq!(port(&values, &["z"]), Port::Invalid("0".into()));
        assert_eq!(port(&values, &["big"]), Port::Invalid("70000".into()));
        assert_eq!(port(&values, &["w"]), Port::Invalid("\"abc\"".into()));
        assert_eq!(port(&values, &["e"]), Port::Unset);
    }

    #[test]
    fn env_lists_last_entry_wins_and_value_from_is_reported() {
        let values = v(json!({"env": [
            {"name": "A", "value": "1"},
            {"name": "A", "value": "2"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            {"name": "C"},
            "garbage",
            {"value": "no name"}
        ]}));
        assert_eq!(env(&values, &["env"], "A"), EnvVar::Value("2".into()));
        assert_eq!(env(&values, &["env"], "B"), EnvVar::ValueFrom);
        assert_eq!(env(&values, &["env"], "C"), EnvVar::Value(String::new()));
        assert_eq!(env(&values, &["env"], "D"), EnvVar::Missing);
        assert_eq!(env(&values, &["nolist"], "A"), EnvVar::Missing);
    }
}
