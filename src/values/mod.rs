//! Helm values: the user's values, the chart's default values, and the coalesced view
//! the chart's templates render with.
//!
//! Every check that reads a setting goes through [`Values`]: it answers from the
//! coalesced tree (user values over chart defaults, by Helm's rules), and can also say
//! whether a key is present in the user values or in the chart defaults, since some
//! rules depend on which keys the deployed chart defines.
//!
//! Nothing here prints a value without going through [`redact`] or [`redacted_json`].

pub mod files;
pub mod release;

use serde_json::{Map, Value};
use std::fmt;

/// The user's values, the chart's defaults, and their coalesced view.
#[derive(Clone, Debug, PartialEq)]
pub struct Values {
    user: Value,
    defaults: Value,
    coalesced: Value,
}

impl Values {
    /// Coalesce `user` over `defaults` once, like Helm's `chartutil.CoalesceValues`:
    /// - maps merge deeply, key by key;
    /// - a user scalar or list replaces the default (lists are never merged);
    /// - a user `null` deletes the key, whether or not the defaults have it (Helm 3,
    ///   which renders Camunda charts up to 8.9, deletes nested nulls this way; where
    ///   Helm keeps a stray `nil` the templates see nothing either way);
    /// - a user map over a default scalar, or a user scalar over a default map, wins
    ///   with the user value (Helm prints a warning and keeps the user's);
    /// - a `null` in the chart defaults stays (`defaults_has` reports it).
    ///
    /// A top level that is not a map (absent `config`, `null`) counts as `{}`.
    pub fn new(user: Value, defaults: Value) -> Values {
        let empty = Map::new();
        let user_map = user.as_object().unwrap_or(&empty);
        let defaults_map = defaults.as_object().unwrap_or(&empty);
        let coalesced = Value::Object(coalesce_maps(user_map, defaults_map));
        Values {
            user,
            defaults,
            coalesced,
        }
    }

    /// The values the user supplied (`helm -f`/`--set`, or the release's `config`).
    pub fn user(&self) -> &Value {
        &self.user
    }

    /// The chart's default values (the release's `chart.values`).
    pub fn defaults(&self) -> &Value {
        &self.defaults
    }

    /// The coalesced tree the templates render with.
    pub fn coalesced(&self) -> &Value {
        &self.coalesced
    }

    /// The coalesced value at `path` (one key per element, so keys may contain dots:
    /// `["identity", "serviceAccount", "annotations", "eks.amazonaws.com/role-arn"]`).
    /// `Some(Value::Null)` when the chart defaults hold a `null` there.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        lookup(&self.coalesced, path)
    }

    /// [`Values::get`] with a dotted path (`"global.opensearch.url.host"`). Only for
    /// paths whose keys contain no dot; use the slice form otherwise.
    pub fn get_dotted(&self, dotted: &str) -> Option<&Value> {
        let path: Vec<&str> = dotted.split('.').collect();
        self.get(&path)
    }

    /// A non-empty string at `path`. Numbers are rendered as text, since users write
    /// both `port: "5432"` and `port: 5432`. `None` for absent, `null`, an empty or
    /// blank string, booleans, lists and maps. The string is returned untrimmed.
    pub fn str_at(&self, path: &[&str]) -> Option<String> {
        match self.get(path)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A switch the user meant as true or false:
    /// - JSON `true`/`false` → `Some(true)`/`Some(false)`;
    /// - the exact strings `"true"`/`"false"` (what `--set-string` or a quoted YAML value
    ///   produces, and what the charts' `eq (toString …) "true"` idioms compare with)
    ///   → `Some(true)`/`Some(false)`;
    /// - anything else (absent, `null`, other strings, numbers, maps) → `None`.
    ///
    /// Beware: a chart's `{{ if .Values.x.enabled }}` treats the *string* `"false"` as
    /// true (a non-empty string); [`Values::truthy_at`] answers as the template does,
    /// so a check can point out the difference.
    pub fn bool_at(&self, path: &[&str]) -> Option<bool> {
        match self.get(path)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// How a Go template's `{{ if … }}` sees the value at `path`: false for absent,
    /// `null`, `false`, `0`, `""` and empty lists or maps; true otherwise (so the string
    /// `"false"` is true).
    pub fn truthy_at(&self, path: &[&str]) -> bool {
        match self.get(path) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(m)) => !m.is_empty(),
        }
    }

    /// A TCP port at `path`: `Ok(None)` when absent, `null` or an empty string;
    /// `Ok(Some(port))` for an integer or a string of digits in 1..=65535; an error
    /// with the reason for anything else (0, too large, negative, fractional, text).
    pub fn u16_at(&self, path: &[&str]) -> Result<Option<u16>, ValueError> {
        let Some(value) = self.get(path) else {
            return Ok(None);
        };
        let invalid = |reason: String| ValueError {
            path: display_path(path),
            reason,
        };
        let number: i128 = match value {
            Value::Null => return Ok(None),
            Value::String(s) if s.trim().is_empty() => return Ok(None),
            Value::String(s) => {
                let t = s.trim();
                if !t.chars().all(|c| c.is_ascii_digit()) {
                    return Err(invalid(format!("{s:?} is not a port number")));
                }
                // All digits: only overflow can fail, and that is out of range anyway.
                t.parse::<i128>().unwrap_or(i128::MAX)
            }
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    i128::from(i)
                } else if let Some(u) = n.as_u64() {
                    i128::from(u)
                } else {
                    match n.as_f64() {
                        Some(f) if f.fract() == 0.0 && f.abs() < 1e9 => f as i128,
                        _ => return Err(invalid(format!("{n} is not a whole port number"))),
                    }
                }
            }
            Value::Bool(b) => return Err(invalid(format!("{b} is not a port number"))),
            Value::Array(_) => return Err(invalid("a list is not a port number".into())),
            Value::Object(_) => return Err(invalid("a map is not a port number".into())),
        };
        match u16::try_from(number) {
            Ok(0) => Err(invalid("port 0 is not a usable port (1-65535)".into())),
            Ok(port) => Ok(Some(port)),
            Err(_) => Err(invalid(format!(
                "{number} is out of the port range (1-65535)"
            ))),
        }
    }

    /// The list at `path`; `None` when absent or not a list.
    pub fn list_at(&self, path: &[&str]) -> Option<&[Value]> {
        self.get(path)?.as_array().map(Vec::as_slice)
    }

    /// True when the user values have the key at `path`, even with a `null` or empty value.
    pub fn user_has(&self, path: &[&str]) -> bool {
        lookup(&self.user, path).is_some()
    }

    /// True when the chart defaults have the key at `path`, even with a `null` or empty
    /// value: tells which keys the deployed chart defines.
    pub fn defaults_has(&self, path: &[&str]) -> bool {
        lookup(&self.defaults, path).is_some()
    }

    /// Look up the variable `name` in a Kubernetes env list (`- name: X` / `value: Y`)
    /// at `list_path`, such as `identity.env`. When a name repeats, the last entry wins,
    /// as in the container the kubelet starts.
    pub fn env_value(&self, list_path: &[&str], name: &str) -> EnvLookup {
        let Some(list) = self.list_at(list_path) else {
            return EnvLookup::NotFound;
        };
        let Some(entry) = list
            .iter()
            .filter_map(Value::as_object)
            .rfind(|e| e.get("name").and_then(Value::as_str) == Some(name))
        else {
            return EnvLookup::NotFound;
        };
        if let Some(from) = entry.get("valueFrom").filter(|v| !v.is_null()) {
            let source = from
                .as_object()
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_else(|| "valueFrom".to_string());
            return EnvLookup::ValueFrom { source };
        }
        let text = match entry.get("value") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        EnvLookup::Value(text)
    }
}

/// The result of looking up one variable in an env list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvLookup {
    /// Set with `value:` (an entry without `value` is the empty string, as in Kubernetes).
    Value(String),
    /// Set with `valueFrom:` (`source` is `secretKeyRef`, `configMapKeyRef`, …): its
    /// content is in the cluster, so it cannot be judged from values.
    ValueFrom { source: String },
    /// No entry with that name (or no such list).
    NotFound,
}

/// A value that is present but unusable, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// The path, dotted (`identity.externalDatabase.port`).
    pub path: String,
    pub reason: String,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

impl std::error::Error for ValueError {}

/// A path as users write it: dotted, with a key that contains a dot in brackets
/// (`identity.serviceAccount.annotations["eks.amazonaws.com/role-arn"]`).
pub fn display_path(path: &[&str]) -> String {
    let mut out = String::new();
    for key in path {
        if key.contains('.') {
            out.push_str(&format!("[{key:?}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key);
        }
    }
    out
}

fn lookup<'a>(root: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(root, |node, key| node.as_object()?.get(*key))
}

fn coalesce_maps(user: &Map<String, Value>, defaults: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, default) in defaults {
        match user.get(key) {
            None => {
                out.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {}
            Some(Value::Object(user_map)) => {
                let merged = match default {
                    Value::Object(default_map) => coalesce_maps(user_map, default_map),
                    _ => without_nulls(user_map),
                };
                out.insert(key.clone(), Value::Object(merged));
            }
            Some(other) => {
                out.insert(key.clone(), other.clone());
            }
        }
    }
    for (key, value) in user {
        if defaults.contains_key(key) {
            continue;
        }
        match value {
            Value::Null => {}
            Value::Object(map) => {
                out.insert(key.clone(), Value::Object(without_nulls(map)));
            }
            other => {
                out.insert(key.clone(), other.clone());
            }
        }
    }
    out
}

fn without_nulls(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::Object(inner) => (k.clone(), Value::Object(without_nulls(inner))),
            other => (k.clone(), other.clone()),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------

/// What a redacted value is printed as.
pub const REDACTED: &str = "<redacted>";

/// Words that make a key sensitive, matched anywhere in the lower-cased key.
const SENSITIVE_WORDS: &[&str] = &["password", "passwd", "secret", "token", "key", "credential"];

/// Keys whose value is the *name* of a Secret's key (`existingSecretKey: password`), never
/// the secret itself: printed even though their names contain sensitive words.
const KEY_NAME_KEYS: &[&str] = &[
    "existingsecretkey",
    "existingsecretpasswordkey",
    "existingsecretusernamekey",
    "passwordsecretkey",
    "adminpasswordkey",
    "userpasswordkey",
    "secretname",
];

/// Maps that reference a Secret or ConfigMap by name (`secretKeyRef: {name, key}`,
/// `existingSecret: {name}`); their `name` and `key` are printed. `existingSecret` as a
/// *string* stays redacted: in Camunda charts it may hold the literal client secret.
const REFERENCE_MAPS: &[&str] = &[
    "secretkeyref",
    "configmapkeyref",
    "secretref",
    "configmapref",
    "existingsecret",
];

/// True when a key's name marks its value as secret: it contains password, passwd,
/// secret, token, key or credential, case-insensitively. The product name `keycloak`
/// does not count as `key` (`identityKeycloak` is not a secret).
pub fn is_sensitive_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase().replace("keycloak", "");
    SENSITIVE_WORDS.iter().any(|w| lower.contains(w))
}

/// The value of `key` as it may be printed: `<redacted>` when the key is sensitive and
/// the value could hold a secret (a non-empty string or a number; `null`, booleans and
/// `""` are shown, they reveal nothing), strings bare, maps and lists as compact JSON
/// redacted throughout (see [`redacted_json`]). Passwords inside URLs are redacted too.
pub fn redact(key: &str, value: &Value) -> String {
    let walked = redact_entry(key, value, false);
    match walked {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A copy of `value` safe to print. Rules, applied at every level:
/// - a scalar under a sensitive key, or anywhere below one, is redacted (unless it is
///   `null`, a boolean or `""`);
/// - `existingSecretKey`, `existingSecretPasswordKey`, `passwordSecretKey`, `secretName`
///   and the like, and the `name`/`key` of a `secretKeyRef`-like map or of an
///   `existingSecret` map, are printed: they name where a secret lives;
/// - an env entry `{name: X, value: Y}` redacts `Y` when `X` is sensitive
///   (`SPRING_DATASOURCE_PASSWORD`), since env lists carry secrets under `value`;
/// - any other string has passwords in URLs (`user:pass@`, `password=…`) redacted.
///
/// When in doubt it redacts: `existingSecret: "…"` may be a literal secret in Camunda
/// charts, so it is redacted even though it is usually a Secret's name.
pub fn redacted_json(value: &Value) -> Value {
    walk(value, false)
}

fn redact_entry(key: &str, value: &Value, inherited: bool) -> Value {
    let lower = key.to_ascii_lowercase();
    if KEY_NAME_KEYS.contains(&lower.as_str()) && is_printable_scalar(value) {
        return value.clone();
    }
    let sensitive = inherited || is_sensitive_key(key);
    if let (true, Value::Object(map)) = (REFERENCE_MAPS.contains(&lower.as_str()), value) {
        let out = map
            .iter()
            .map(|(k, v)| {
                let shown = (k == "name" || k == "key") && is_printable_scalar(v);
                (
                    k.clone(),
                    if shown { v.clone() } else { walk(v, sensitive) },
                )
            })
            .collect();
        return Value::Object(out);
    }
    walk(value, sensitive)
}

fn walk(value: &Value, sensitive: bool) -> Value {
    match value {
        Value::Object(map) => {
            let env_name_sensitive = map.contains_key("value")
                && map
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(is_sensitive_key);
            let mut out = Map::new();
            for (k, v) in map {
                let redacted = if k == "value" && env_name_sensitive {
                    walk(v, true)
                } else {
                    redact_entry(k, v, sensitive)
                };
                out.insert(k.clone(), redacted);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| walk(v, sensitive)).collect()),
        Value::String(s) if sensitive && !s.is_empty() => Value::String(REDACTED.into()),
        Value::Number(_) if sensitive => Value::String(REDACTED.into()),
        Value::String(s) => Value::String(redact_inline(s)),
        other => other.clone(),
    }
}

fn is_printable_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Null | Value::Bool(_))
}

/// Redact passwords inside a string: the password of a URL's `user:password@`, and the
/// value after `password=`, `passwd=`, `pwd=`, `secret=` or `token=` (query parameters,
/// `--db-password=…` flags) up to the next `&`, `;`, quote or whitespace.
pub fn redact_inline(text: &str) -> String {
    let mut out = redact_userinfo(text);
    for marker in ["password=", "passwd=", "pwd=", "secret=", "token="] {
        out = redact_after(&out, marker);
    }
    out
}

fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            out.push_str(&authority[..=colon]);
            out.push_str(REDACTED);
            out.push_str(&authority[at..]);
        } else {
            out.push_str(authority);
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

fn redact_after(text: &str, marker: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` hold in `text`.
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while let Some(found) = lower[pos..].find(marker) {
        let value_start = pos + found + marker.len();
        let value_end = text[value_start..]
            .find(|c: char| matches!(c, '&' | ';' | '"' | '\'') || c.is_whitespace())
            .map_or(text.len(), |i| value_start + i);
        out.push_str(&text[pos..value_start]);
        if value_end > value_start {
            out.push_str(REDACTED);
        }
        pos = value_end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests;
