//! Error answers as the API server words them: `Status` objects.

use serde_json::{Value, json};

use super::http::Response;
use super::store::Resource;

/// A failed request: code, reason, message and details of a `Status`.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
}

impl Failure {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Failure {
        self.details = Some(details);
        self
    }

    pub fn not_found(resource: &Resource, name: &str) -> Failure {
        Failure::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", resource.qualified()),
        )
        .with_details(resource.status_details(name))
    }

    /// A path the server does not serve.
    pub fn no_route() -> Failure {
        Failure::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn already_exists(resource: &Resource, name: &str) -> Failure {
        Failure::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", resource.qualified()),
        )
        .with_details(resource.status_details(name))
    }

    /// `pods "x" is forbidden: <why>`, or `pods is forbidden: <why>` without a name.
    pub fn forbidden(resource: &Resource, name: &str, why: &str) -> Failure {
        let message = if name.is_empty() {
            format!("{} is forbidden: {why}", resource.qualified())
        } else {
            format!("{} \"{name}\" is forbidden: {why}", resource.qualified())
        };
        Failure::new(403, "Forbidden", message).with_details(resource.status_details(name))
    }

    /// A validation failure: 422 Invalid, one cause per field error.
    /// `errors` are (field, cause reason, text after the field).
    pub fn invalid<F: AsRef<str>>(
        resource: &Resource,
        name: &str,
        errors: &[(F, &str, String)],
    ) -> Failure {
        let texts: Vec<String> = errors
            .iter()
            .map(|(field, _, text)| format!("{}: {text}", field.as_ref()))
            .collect();
        let joined = if texts.len() == 1 {
            texts[0].clone()
        } else {
            format!("[{}]", texts.join(", "))
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|(field, reason, text)| {
                json!({"reason": reason, "message": text, "field": field.as_ref()})
            })
            .collect();
        let mut details = resource.status_details(name);
        if let Some(map) = details.as_object_mut() {
            map.insert("kind".into(), json!(resource.kind));
            map.insert("causes".into(), Value::Array(causes));
        }
        Failure::new(
            422,
            "Invalid",
            format!(
                "{} \"{name}\" is invalid: {joined}",
                resource.qualified_kind()
            ),
        )
        .with_details(details)
    }

    pub fn bad_request(message: impl Into<String>) -> Failure {
        Failure::new(400, "BadRequest", message)
    }

    pub fn method_not_allowed() -> Failure {
        Failure::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    pub fn unauthorized() -> Failure {
        Failure::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn to_json(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(details), Some(map)) = (&self.details, status.as_object_mut()) {
            map.insert("details".into(), details.clone());
        }
        status
    }

    pub fn response(&self) -> Response {
        Response::json(self.code, &self.to_json())
    }
}
