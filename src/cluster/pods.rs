//! Pods and pod templates, as the IRSA checks see them: which service account, which
//! AWS env the webhook injected, the projected token volume, and who the containers run
//! as. The same facts come from running pods, workload templates and dry-run pods.

use crate::facts::Fetched;
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use kube::Api;
use kube::api::ListParams;

/// Env variables whose values are kept (they are paths and ARNs, not secrets). Every
/// other variable is kept by name only, so a static key can never reach a message.
const KEPT_VALUES: &[&str] = &[
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_STS_REGIONAL_ENDPOINTS",
];

/// One env entry of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFact {
    pub name: String,
    /// The literal value, only for the names of [`KEPT_VALUES`].
    pub value: Option<String>,
    /// `secretKeyRef`, `configMapKeyRef`, `fieldRef`, … when the entry uses `valueFrom`.
    pub value_from: Option<String>,
}

/// One container (or init container).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerFact {
    pub name: String,
    pub init: bool,
    pub env: Vec<EnvFact>,
    pub run_as_user: Option<i64>,
    pub run_as_non_root: Option<bool>,
    /// (volume name, mount path)
    pub mounts: Vec<(String, String)>,
}

impl ContainerFact {
    /// The last entry named `name` (the kubelet lets the last one win).
    pub fn env_entry(&self, name: &str) -> Option<&EnvFact> {
        self.env.iter().rev().find(|e| e.name == name)
    }

    /// The literal value of a kept variable.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env_entry(name).and_then(|e| e.value.as_deref())
    }
}

/// The webhook's projected service account token volume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenVolume {
    pub name: String,
    pub audience: String,
}

/// A pod spec, reduced to what the IRSA checks read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSpecFact {
    /// `serviceAccountName` (the API server's default is `default`).
    pub service_account: String,
    pub fs_group: Option<i64>,
    pub run_as_user: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub containers: Vec<ContainerFact>,
    pub init_containers: Vec<ContainerFact>,
    /// A projected `serviceAccountToken` volume with an audience (the API access token
    /// volume has none).
    pub token_volume: Option<TokenVolume>,
}

impl PodSpecFact {
    /// Read a pod spec (of a pod, a workload's template or a dry run).
    pub fn from_spec(spec: &PodSpec) -> PodSpecFact {
        let security = spec.security_context.as_ref();
        let token_volume = spec.volumes.iter().flatten().find_map(|v| {
            let sources = v.projected.as_ref()?.sources.as_ref()?;
            sources.iter().find_map(|s| {
                let token = s.service_account_token.as_ref()?;
                Some(TokenVolume {
                    name: v.name.clone(),
                    audience: token.audience.clone().filter(|a| !a.is_empty())?,
                })
            })
        });
        PodSpecFact {
            service_account: spec
                .service_account_name
                .clone()
                .or_else(|| spec.service_account.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".to_string()),
            fs_group: security.and_then(|s| s.fs_group),
            run_as_user: security.and_then(|s| s.run_as_user),
            run_as_non_root: security.and_then(|s| s.run_as_non_root),
            containers: spec
                .containers
                .iter()
                .map(|c| container_fact(c, false))
                .collect(),
            init_containers: spec
                .init_containers
                .iter()
                .flatten()
                .map(|c| container_fact(c, true))
                .collect(),
            token_volume,
        }
    }

    /// Containers and init containers.
    pub fn all_containers(&self) -> impl Iterator<Item = &ContainerFact> {
        self.init_containers.iter().chain(self.containers.iter())
    }

    /// The user a container runs as: its own `runAsUser`, else the pod's; `None` when
    /// neither is set (the image decides).
    pub fn user_of(&self, container: &ContainerFact) -> Option<i64> {
        container.run_as_user.or(self.run_as_user)
    }

    /// `runAsNonRoot` of a container: its own, else the pod's.
    pub fn non_root_of(&self, container: &ContainerFact) -> bool {
        container
            .run_as_non_root
            .or(self.run_as_non_root)
            .unwrap_or(false)
    }
}

fn container_fact(c: &Container, init: bool) -> ContainerFact {
    let security = c.security_context.as_ref();
    ContainerFact {
        name: c.name.clone(),
        init,
        env: c
            .env
            .iter()
            .flatten()
            .map(|e| {
                let value_from = e.value_from.as_ref().map(|from| {
                    let kind = if from.secret_key_ref.is_some() {
                        "secretKeyRef"
                    } else if from.config_map_key_ref.is_some() {
                        "configMapKeyRef"
                    } else if from.field_ref.is_some() {
                        "fieldRef"
                    } else if from.resource_field_ref.is_some() {
                        "resourceFieldRef"
                    } else {
                        "valueFrom"
                    };
                    kind.to_string()
                });
                let keep = value_from.is_none() && KEPT_VALUES.contains(&e.name.as_str());
                EnvFact {
                    name: e.name.clone(),
                    value: if keep {
                        Some(e.value.clone().unwrap_or_default())
                    } else {
                        None
                    },
                    value_from,
                }
            })
            .collect(),
        run_as_user: security.and_then(|s| s.run_as_user),
        run_as_non_root: security.and_then(|s| s.run_as_non_root),
        mounts: c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.name.clone(), m.mount_path.clone()))
            .collect(),
    }
}

/// One pod of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFact {
    pub name: String,
    /// `Running`, `Pending`, … (`Unknown` when the status has none).
    pub phase: String,
    pub spec: PodSpecFact,
}

impl PodFact {
    /// Read a pod.
    pub fn from_pod(pod: &Pod) -> PodFact {
        PodFact {
            name: pod.metadata.name.clone().unwrap_or_default(),
            phase: pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".to_string()),
            spec: pod
                .spec
                .as_ref()
                .map(PodSpecFact::from_spec)
                .unwrap_or_default(),
        }
    }

    /// Phase `Running`.
    pub fn is_running(&self) -> bool {
        self.phase == "Running"
    }
}

/// The pods a label selector picks in the namespace.
pub async fn list(client: &kube::Client, namespace: &str, selector: &str) -> Fetched<Vec<PodFact>> {
    crate::log::call(format!(
        "GET /api/v1/namespaces/{namespace}/pods?labelSelector={selector} (list pods)"
    ));
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|e| super::api_error(format!("list pods ({selector})"), e))?;
    Ok(list.items.iter().map(PodFact::from_pod).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_webhook_injected_pod_reads_back_without_secret_values() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {
                "serviceAccountName": "identity-sa",
                "securityContext": {"fsGroup": 1001, "runAsUser": 1001, "runAsNonRoot": true},
                "initContainers": [{"name": "init", "image": "i", "securityContext": {"runAsUser": 0}}],
                "containers": [{
                    "name": "identity", "image": "camunda/identity",
                    "env": [
                        {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAEXAMPLE"},
                        {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::1:role/old"},
                        {"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::1:role/R"},
                        {"name": "AWS_WEB_IDENTITY_TOKEN_FILE"}
                    ],
                    "volumeMounts": [{"name": "aws-iam-token", "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount"}]
                }],
                "volumes": [
                    {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
                    {"name": "aws-iam-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "path": "token"}}]}}
                ]
            },
            "status": {"phase": "Running"}
        }))
        .unwrap();
        let fact = PodFact::from_pod(&pod);
        assert!(fact.is_running());
        let spec = &fact.spec;
        assert_eq!(spec.service_account, "identity-sa");
        assert_eq!(spec.fs_group, Some(1001));
        assert_eq!(
            spec.token_volume,
            Some(TokenVolume {
                name: "aws-iam-token".into(),
                audience: "sts.amazonaws.com".into()
            })
        );
        let c = &spec.containers[0];
        assert_eq!(c.env_value("AWS_ROLE_ARN"), Some("arn:aws:iam::1:role/R"));
        assert_eq!(c.env_value("AWS_WEB_IDENTITY_TOKEN_FILE"), Some(""));
        assert_eq!(c.env_entry("AWS_ACCESS_KEY_ID").unwrap().value, None);
        assert_eq!(
            c.env_entry("AWS_SECRET_ACCESS_KEY")
                .unwrap()
                .value_from
                .as_deref(),
            Some("secretKeyRef")
        );
        assert!(!format!("{fact:?}").contains("AKIAEXAMPLE"));
        let init = &spec.init_containers[0];
        assert!(init.init);
        assert_eq!(spec.user_of(init), Some(0));
        assert_eq!(spec.user_of(c), Some(1001));
        assert!(spec.non_root_of(c));
        assert_eq!(spec.all_containers().count(), 2);
    }

    #[test]
    fn an_empty_pod_defaults() {
        let fact = PodFact::from_pod(&Pod::default());
        assert_eq!(fact.phase, "Unknown");
        assert_eq!(fact.spec.service_account, "");
        let spec = PodSpecFact::from_spec(&PodSpec::default());
        assert_eq!(spec.service_account, "default");
        assert_eq!(spec.token_volume, None);
    }
}
