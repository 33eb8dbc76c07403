//! The Kubernetes side of gathering: thin calls through `kube`, turned into plain facts.

pub mod accounts;
pub mod connect;
pub mod dryrun;
pub mod nodes;
pub mod pods;
pub mod probe;
pub mod release;
pub mod workloads;

use crate::facts::ApiError;

/// Turn a kube error into a fact naming the call and the API server's own words.
pub fn api_error(call: impl Into<String>, err: kube::Error) -> ApiError {
    match err {
        kube::Error::Api(status) => {
            let code = if status.reason.is_empty() {
                Some(format!("HTTP {}", status.code))
            } else {
                Some(status.reason.clone())
            };
            ApiError::new(call, code, status.message.clone())
        }
        other => ApiError::new(call, None, other.to_string()),
    }
}
