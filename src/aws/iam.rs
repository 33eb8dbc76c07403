//! IAM: the cluster's OIDC provider, and the roles the service accounts name with
//! everything that decides their permissions. Each role is read once, and a managed
//! policy attached to several roles (or used as a boundary) is read once per run.

use super::{CONCURRENCY, bounded, found, sdk_error};
use crate::checks::eks::OidcProvider;
use crate::checks::permissions::{PolicySource, RolePolicies};
use crate::facts::Fetched;
use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use std::collections::{BTreeMap, BTreeSet};

/// What GetRole says about a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamRole {
    /// The role's ARN, with its path.
    pub arn: String,
    pub name: String,
    /// The trust policy as IAM returns it (percent-encoded JSON).
    pub trust_policy: Option<String>,
    /// The permissions boundary's policy ARN, if the role has one.
    pub boundary: Option<String>,
}

/// One role, as far as it could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleFacts {
    /// GetRole; `Ok(None)` when the role does not exist.
    pub role: Fetched<Option<IamRole>>,
    /// Its policies and boundary; `None` when the role itself was not read.
    pub policies: Option<RolePolicies>,
}

/// GetOpenIDConnectProvider; `Ok(None)` when IAM has no such provider.
pub async fn oidc_provider(config: &SdkConfig, arn: &str) -> Fetched<Option<OidcProvider>> {
    crate::log::call(format!("iam:GetOpenIDConnectProvider arn={arn}"));
    let answer = Client::new(&super::for_global_service(config))
        .get_open_id_connect_provider()
        .open_id_connect_provider_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error("iam:GetOpenIDConnectProvider", e));
    found(answer).map(|out| {
        out.map(|out| OidcProvider {
            arn: arn.to_string(),
            client_ids: out.client_id_list().to_vec(),
        })
    })
}

/// Read the roles named `names` (role names, not ARNs), each once, with their attached
/// managed policies (default version), inline policies and permissions boundary.
pub async fn roles(config: &SdkConfig, names: Vec<String>) -> BTreeMap<String, RoleFacts> {
    let client = Client::new(&super::for_global_service(config));
    let read = bounded(names, CONCURRENCY, |name| {
        let client = client.clone();
        async move { read_role(&client, name).await }
    })
    .await;

    // Every managed policy once, whichever roles share it.
    let mut managed = BTreeSet::new();
    for role in &read {
        if let Ok(arns) = &role.attached {
            managed.extend(arns.iter().cloned());
        }
        if let Ok(Some(r)) = &role.role
            && let Some(boundary) = &r.boundary
        {
            managed.insert(boundary.clone());
        }
    }
    let managed: Vec<String> = managed.into_iter().collect();
    let documents: BTreeMap<String, Fetched<String>> = bounded(managed, CONCURRENCY, |arn| {
        let client = client.clone();
        async move {
            let document = managed_policy_document(&client, &arn).await;
            (arn, document)
        }
    })
    .await
    .into_iter()
    .collect();
    let source = |arn: &String| PolicySource {
        name: arn.clone(),
        document: documents.get(arn).cloned().unwrap_or_else(|| {
            Err(crate::facts::ApiError::new(
                "iam:GetPolicy",
                None,
                format!("policy {arn} was not read"),
            ))
        }),
    };

    read.into_iter()
        .map(|r| {
            let policies = match &r.role {
                Ok(Some(role)) => Some(RolePolicies {
                    role_arn: role.arn.clone(),
                    attached: r
                        .attached
                        .as_ref()
                        .map(|arns| arns.iter().map(source).collect())
                        .map_err(Clone::clone),
                    inline: r.inline.clone(),
                    boundary: role.boundary.as_ref().map(source),
                }),
                _ => None,
            };
            (
                r.name,
                RoleFacts {
                    role: r.role,
                    policies,
                },
            )
        })
        .collect()
}

/// A role as first read: GetRole, then (when it exists) its policy lists.
struct ReadRole {
    name: String,
    role: Fetched<Option<IamRole>>,
    /// Attached managed policy ARNs.
    attached: Fetched<Vec<String>>,
    inline: Fetched<Vec<PolicySource>>,
}

async fn read_role(client: &Client, name: String) -> ReadRole {
    let role = get_role(client, &name).await;
    let (attached, inline) = match &role {
        Ok(Some(_)) => tokio::join!(
            attached_policies(client, &name),
            inline_policies(client, &name)
        ),
        // Nothing to list: the lists are not looked at without the role.
        _ => (Ok(Vec::new()), Ok(Vec::new())),
    };
    ReadRole {
        name,
        role,
        attached,
        inline,
    }
}

/// GetRole; `Ok(None)` when the role does not exist.
pub async fn get_role(client: &Client, name: &str) -> Fetched<Option<IamRole>> {
    crate::log::call(format!("iam:GetRole role={name}"));
    let answer = client
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(format!("iam:GetRole (role {name})"), e));
    found(answer).map(|out| {
        out.and_then(|out| out.role).map(|role| IamRole {
            arn: role.arn().to_string(),
            name: role.role_name().to_string(),
            trust_policy: role.assume_role_policy_document().map(str::to_string),
            boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
        })
    })
}

async fn attached_policies(client: &Client, role: &str) -> Fetched<Vec<String>> {
    let call = format!("iam:ListAttachedRolePolicies (role {role})");
    crate::log::call(format!("iam:ListAttachedRolePolicies role={role}"));
    let mut pages = client
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send();
    let mut arns = Vec::new();
    while let Some(policy) = pages.next().await {
        let policy = policy.map_err(|e| sdk_error(call.clone(), e))?;
        if let Some(arn) = policy.policy_arn() {
            arns.push(arn.to_string());
        }
    }
    Ok(arns)
}

async fn inline_policies(client: &Client, role: &str) -> Fetched<Vec<PolicySource>> {
    let call = format!("iam:ListRolePolicies (role {role})");
    crate::log::call(format!("iam:ListRolePolicies role={role}"));
    let mut pages = client
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send();
    let mut names = Vec::new();
    while let Some(name) = pages.next().await {
        names.push(name.map_err(|e| sdk_error(call.clone(), e))?);
    }
    let role = role.to_string();
    Ok(bounded(names, CONCURRENCY / 2, |name| {
        let client = client.clone();
        let role = role.clone();
        async move {
            crate::log::call(format!("iam:GetRolePolicy role={role} policy={name}"));
            let document = client
                .get_role_policy()
                .role_name(&role)
                .policy_name(&name)
                .send()
                .await
                .map(|out| out.policy_document().to_string())
                .map_err(|e| {
                    sdk_error(format!("iam:GetRolePolicy (role {role}, policy {name})"), e)
                });
            PolicySource { name, document }
        }
    })
    .await)
}

/// GetPolicy for the default version, then GetPolicyVersion for its document.
async fn managed_policy_document(client: &Client, arn: &str) -> Fetched<String> {
    crate::log::call(format!("iam:GetPolicy policy={arn}"));
    let policy = client
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error(format!("iam:GetPolicy (policy {arn})"), e))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| {
            crate::facts::ApiError::new(
                "iam:GetPolicy",
                None,
                format!("policy {arn} has no default version"),
            )
        })?
        .to_string();
    crate::log::call(format!(
        "iam:GetPolicyVersion policy={arn} version={version}"
    ));
    let out = client
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                format!("iam:GetPolicyVersion (policy {arn}, version {version})"),
                e,
            )
        })?;
    out.policy_version()
        .and_then(|v| v.document())
        .map(str::to_string)
        .ok_or_else(|| {
            crate::facts::ApiError::new(
                "iam:GetPolicyVersion",
                None,
                format!("version {version} of policy {arn} has no document"),
            )
        })
}
