//! Fault injection: rules matched on the request's RBAC view that answer an error
//! Status, slow the answer down, or never answer.

use std::time::Duration;

use super::requests::{RecordedRequest, Verb};
use super::store::Resource;

/// The user the fake's RBAC messages name (what EKS reports for an IAM role session).
pub const FAKE_USER: &str = "arn:aws:sts::123456789012:assumed-role/platform-engineer/cli-session";

/// What a matching rule does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer a Status with this code, reason and message. `{name}` in the message
    /// becomes the object's name (for a create: its name, else its generateName,
    /// which is what admission plugins see).
    Status {
        code: u16,
        reason: String,
        message: String,
    },
    /// The RBAC authorizer's 403, with the real message for the request.
    Forbidden,
    /// Wait, then answer normally.
    Delay(Duration),
    /// Never answer (the connection stays open until the fake stops).
    Hang,
}

/// One rule. Build with the constructors, narrow with the `with_*`/`times` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub verb: Verb,
    /// `pods`, or `pods/log` for a subresource.
    pub resource: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub dry_run: Option<bool>,
    /// Only the first N matching requests; `None` for all.
    pub times: Option<usize>,
    pub action: FaultAction,
}

impl Fault {
    pub fn new(verb: Verb, resource: &str, action: FaultAction) -> Fault {
        Fault {
            verb,
            resource: resource.to_string(),
            name: None,
            namespace: None,
            dry_run: None,
            times: None,
            action,
        }
    }

    /// Any Status: `Fault::status(Verb::List, "secrets", 500, "InternalError", "etcdserver: request timed out")`.
    pub fn status(verb: Verb, resource: &str, code: u16, reason: &str, message: &str) -> Fault {
        Fault::new(
            verb,
            resource,
            FaultAction::Status {
                code,
                reason: reason.to_string(),
                message: message.to_string(),
            },
        )
    }

    /// RBAC denies the request: 403 Forbidden with the authorizer's message.
    pub fn forbidden(verb: Verb, resource: &str) -> Fault {
        Fault::new(verb, resource, FaultAction::Forbidden)
    }

    /// A 500 InternalError with this message.
    pub fn internal_error(verb: Verb, resource: &str, message: &str) -> Fault {
        Fault::status(verb, resource, 500, "InternalError", message)
    }

    /// A ResourceQuota rejects the create: 403 `exceeded quota` as the quota admission
    /// plugin words it (`resource` is the plural, e.g. `jobs` or `pods`).
    pub fn quota_exceeded(resource: &str, quota: &str) -> Fault {
        let counted = match resource {
            "jobs" => "count/jobs.batch".to_string(),
            "pods" => "pods".to_string(),
            other => format!("count/{other}"),
        };
        let qualified = if resource == "jobs" {
            "jobs.batch"
        } else {
            resource
        };
        Fault::status(
            Verb::Create,
            resource,
            403,
            "Forbidden",
            &format!(
                "{qualified} \"{{name}}\" is forbidden: exceeded quota: {quota}, requested: {counted}=1, used: {counted}=10, limited: {counted}=10"
            ),
        )
    }

    /// Answer normally, but only after `delay`.
    pub fn delay(verb: Verb, resource: &str, delay: Duration) -> Fault {
        Fault::new(verb, resource, FaultAction::Delay(delay))
    }

    /// Never answer.
    pub fn hang(verb: Verb, resource: &str) -> Fault {
        Fault::new(verb, resource, FaultAction::Hang)
    }

    pub fn with_name(mut self, name: &str) -> Fault {
        self.name = Some(name.to_string());
        self
    }

    pub fn with_namespace(mut self, namespace: &str) -> Fault {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Only dry-run requests (`true`) or only real ones (`false`).
    pub fn with_dry_run(mut self, dry_run: bool) -> Fault {
        self.dry_run = Some(dry_run);
        self
    }

    /// Only the first `n` matching requests.
    pub fn times(mut self, n: usize) -> Fault {
        self.times = Some(n);
        self
    }

    /// `object_name`: the path's name, or for a create the body's name/generateName.
    pub(crate) fn matches(&self, request: &RecordedRequest, object_name: Option<&str>) -> bool {
        if self.times == Some(0) || request.verb != Some(self.verb) {
            return false;
        }
        let resource = match &request.subresource {
            Some(sub) => format!("{}/{sub}", request.resource),
            None => request.resource.clone(),
        };
        resource == self.resource
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| request.namespace.as_ref() == Some(ns))
            && self
                .name
                .as_ref()
                .is_none_or(|n| object_name == Some(n.as_str()))
            && self.dry_run.is_none_or(|d| d == request.dry_run)
    }
}

/// The authorizer's denial message (k8s `forbiddenMessage` wrapped by `NewForbidden`).
pub fn rbac_denial(request: &RecordedRequest, resource: Option<&Resource>) -> String {
    let verb = request.verb.map(Verb::as_str).unwrap_or("get");
    let mut full_resource = request.resource.clone();
    if let Some(sub) = &request.subresource {
        full_resource = format!("{full_resource}/{sub}");
    }
    let scope = match &request.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let reason = format!(
        "User \"{FAKE_USER}\" cannot {verb} resource \"{full_resource}\" in API group \"{}\" {scope}",
        request.api_group
    );
    let qualified = match resource {
        Some(r) => r.qualified(),
        None if request.api_group.is_empty() => request.resource.clone(),
        None => format!("{}.{}", request.resource, request.api_group),
    };
    match &request.name {
        Some(name) => format!("{qualified} \"{name}\" is forbidden: {reason}"),
        None => format!("{qualified} is forbidden: {reason}"),
    }
}
