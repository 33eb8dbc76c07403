//! Every request, seen the way the API server's authorizer sees it (its RequestInfo),
//! so tests can assert the tool stays inside its documented RBAC.

use std::fmt;

use serde_json::Value;

use super::http::Request;

/// An RBAC verb.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::DeleteCollection => "deletecollection",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent (still percent-encoded).
    pub query: String,
    /// `None` for a non-resource request (`/version`, discovery, unknown paths).
    pub verb: Option<Verb>,
    /// "" for the core group.
    pub api_group: String,
    pub api_version: String,
    /// The plural resource name (`pods`), "" for a non-resource request.
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    /// The name in the path (a create names its object in the body, so it has none here).
    pub name: Option<String>,
    /// `dryRun=All` (in the query, or in a delete's DeleteOptions body).
    pub dry_run: bool,
    /// The status code answered; `None` while unanswered (a hanging fault).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// What an RBAC rule must allow: `list nodes`, `get pods/log`, `create jobs.batch`.
    pub fn rbac(&self) -> String {
        let verb = self.verb.map(Verb::as_str).unwrap_or("(non-resource)");
        let mut resource = self.resource.clone();
        if let Some(sub) = &self.subresource {
            resource = format!("{resource}/{sub}");
        }
        if !self.api_group.is_empty() {
            resource = format!("{resource}.{}", self.api_group);
        }
        if self.verb.is_none() {
            return format!("{verb} {}", self.path);
        }
        format!("{verb} {resource}")
    }

    /// The request's authorization attributes, like the API server's RequestInfo.
    pub(crate) fn parse(request: &Request) -> RecordedRequest {
        let mut recorded = RecordedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.raw_query.clone(),
            verb: None,
            api_group: String::new(),
            api_version: String::new(),
            resource: String::new(),
            subresource: None,
            namespace: None,
            name: None,
            dry_run: request.param("dryRun").is_some_and(|v| !v.is_empty()),
            status: None,
        };
        let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
        let rest = match segments.as_slice() {
            ["api", version, rest @ ..] => {
                recorded.api_version = version.to_string();
                rest
            }
            ["apis", group, version, rest @ ..] => {
                recorded.api_group = group.to_string();
                recorded.api_version = version.to_string();
                rest
            }
            _ => return recorded,
        };
        let (namespace, rest) = match rest {
            ["namespaces", namespace, rest @ ..] if !rest.is_empty() => {
                (Some(namespace.to_string()), rest)
            }
            _ => (None, rest),
        };
        let (resource, name, subresource) = match rest {
            [resource] => (*resource, None, None),
            [resource, name] => (*resource, Some(*name), None),
            [resource, name, sub] => (*resource, Some(*name), Some(*sub)),
            _ => return recorded,
        };
        recorded.namespace = namespace;
        recorded.resource = resource.to_string();
        recorded.name = name.map(str::to_string);
        recorded.subresource = subresource.map(str::to_string);
        let watch = request.param("watch").is_some_and(parse_bool);
        recorded.verb = Some(match request.method.as_str() {
            "GET" | "HEAD" if watch => Verb::Watch,
            "GET" | "HEAD" if recorded.name.is_some() => Verb::Get,
            "GET" | "HEAD" => Verb::List,
            "POST" => Verb::Create,
            "PUT" => Verb::Update,
            "PATCH" => Verb::Patch,
            "DELETE" if recorded.name.is_some() => Verb::Delete,
            "DELETE" => Verb::DeleteCollection,
            _ => return recorded,
        });
        if matches!(recorded.verb, Some(Verb::Delete | Verb::DeleteCollection)) {
            let in_body = serde_json::from_slice::<Value>(&request.body)
                .ok()
                .and_then(|b| b.get("dryRun").and_then(Value::as_array).cloned())
                .is_some_and(|v| !v.is_empty());
            recorded.dry_run |= in_body;
        }
        recorded
    }
}

/// Go's strconv.ParseBool, which the API server uses for `watch`.
pub fn parse_bool(text: &str) -> bool {
    matches!(text, "1" | "t" | "T" | "true" | "TRUE" | "True")
}
