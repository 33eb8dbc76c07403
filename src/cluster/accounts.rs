//! ServiceAccounts: the live account of a component and its `eks.amazonaws.com/*`
//! annotations.

use crate::facts::Fetched;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use std::collections::BTreeMap;

/// The annotation that binds a service account to an IAM role.
pub const ROLE_ARN: &str = "eks.amazonaws.com/role-arn";
/// The token audience the webhook requests (default `sts.amazonaws.com`).
pub const AUDIENCE: &str = "eks.amazonaws.com/audience";
pub const STS_REGIONAL_ENDPOINTS: &str = "eks.amazonaws.com/sts-regional-endpoints";
pub const TOKEN_EXPIRATION: &str = "eks.amazonaws.com/token-expiration";
/// The audience when the service account does not name one.
pub const DEFAULT_AUDIENCE: &str = "sts.amazonaws.com";

/// A live ServiceAccount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountFact {
    pub name: String,
    /// Only the `eks.amazonaws.com/*` annotations (the others are none of our business).
    pub annotations: BTreeMap<String, String>,
}

impl ServiceAccountFact {
    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// The role ARN annotation, trimmed; `None` when absent or blank.
    pub fn role_arn(&self) -> Option<&str> {
        self.annotation(ROLE_ARN)
            .map(str::trim)
            .filter(|a| !a.is_empty())
    }

    /// The token audience the webhook will request.
    pub fn audience(&self) -> &str {
        self.annotation(AUDIENCE)
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .unwrap_or(DEFAULT_AUDIENCE)
    }
}

/// Get a ServiceAccount; `Ok(None)` when it does not exist.
pub async fn gather(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Fetched<Option<ServiceAccountFact>> {
    crate::log::call(format!(
        "GET /api/v1/namespaces/{namespace}/serviceaccounts/{name} (get serviceaccount)"
    ));
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let found = api
        .get_opt(name)
        .await
        .map_err(|e| super::api_error(format!("get serviceaccount {name}"), e))?;
    Ok(found.map(|sa| ServiceAccountFact {
        name: sa.metadata.name.unwrap_or_else(|| name.to_string()),
        annotations: sa
            .metadata
            .annotations
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k.starts_with("eks.amazonaws.com/"))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_read_trimmed_with_defaults() {
        let mut sa = ServiceAccountFact {
            name: "a".into(),
            annotations: BTreeMap::new(),
        };
        assert_eq!(sa.role_arn(), None);
        assert_eq!(sa.audience(), "sts.amazonaws.com");
        sa.annotations.insert(ROLE_ARN.into(), "  ".into());
        sa.annotations.insert(AUDIENCE.into(), "".into());
        assert_eq!(sa.role_arn(), None);
        assert_eq!(sa.audience(), "sts.amazonaws.com");
        sa.annotations
            .insert(ROLE_ARN.into(), " arn:aws:iam::1:role/R ".into());
        sa.annotations.insert(AUDIENCE.into(), "custom".into());
        assert_eq!(sa.role_arn(), Some("arn:aws:iam::1:role/R"));
        assert_eq!(sa.audience(), "custom");
    }
}
