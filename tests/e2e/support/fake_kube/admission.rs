//! What happens to an object between the request and storage: defaulting, the
//! ServiceAccount admission plugin, the EKS pod identity webhook, validation.

use serde_json::{Map, Value, json};

use super::status::Failure;
use super::store::{POD, Resource, SERVICE_ACCOUNT, Store, str_at};

pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
pub const AUDIENCE_ANNOTATION: &str = "eks.amazonaws.com/audience";
pub const TOKEN_EXPIRATION_ANNOTATION: &str = "eks.amazonaws.com/token-expiration";
pub const REGIONAL_STS_ANNOTATION: &str = "eks.amazonaws.com/sts-regional-endpoints";
pub const SKIP_CONTAINERS_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
pub const TOKEN_VOLUME: &str = "aws-iam-token";
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
pub const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
const KUBE_API_ACCESS_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const DEFAULT_TOKEN_EXPIRATION: i64 = 86_400;
const MIN_TOKEN_EXPIRATION: i64 = 600;

/// The service account a pod runs as (the API server defaults it to `default`).
pub fn service_account_of(pod: &Value) -> String {
    let name = str_at(pod, "/spec/serviceAccountName");
    let name = if name.is_empty() {
        str_at(pod, "/spec/serviceAccount")
    } else {
        name
    };
    if name.is_empty() {
        "default".to_string()
    } else {
        name.to_string()
    }
}

/// Admits a pod as `kube-apiserver` + EKS would: defaults, the ServiceAccount plugin
/// (existence check, API token volume), the pod identity webhook (when `webhook_region`
/// is given), then validation. `admission_name` is the name admission plugins see
/// (the generateName before a name is generated).
pub fn admit_pod(
    store: &mut Store,
    namespace: &str,
    pod: &mut Value,
    admission_name: &str,
    webhook_region: Option<&str>,
) -> Result<(), Failure> {
    default_pod(pod);
    let account = service_account_of(pod);
    let service_account = store.get(&SERVICE_ACCOUNT, namespace, &account).cloned();
    // Every real namespace has its `default` account; worlds need not seed it.
    if service_account.is_none() && account != "default" {
        return Err(Failure::forbidden(
            &POD,
            admission_name,
            &format!(
                "error looking up service account {namespace}/{account}: serviceaccount \"{account}\" not found"
            ),
        ));
    }
    let automount = pod
        .pointer("/spec/automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            service_account
                .as_ref()
                .and_then(|sa| sa.get("automountServiceAccountToken"))
                .and_then(Value::as_bool)
        })
        .unwrap_or(true);
    if automount {
        let suffix = store.rng.suffix(5);
        mount_api_token(pod, &format!("kube-api-access-{suffix}"));
    }
    if let (Some(region), Some(sa)) = (webhook_region, &service_account) {
        inject_web_identity(pod, sa, region);
    }
    validate_pod_spec(pod.get("spec"), "spec")
        .map_err(|errors| Failure::invalid(&POD, admission_name, &errors))
}

/// API server defaulting for the fields a probe reads back.
fn default_pod(pod: &mut Value) {
    let account = service_account_of(pod);
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for (field, value) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
        ("preemptionPolicy", json!("PreemptLowerPriority")),
        ("priority", json!(0)),
    ] {
        spec.entry(field).or_insert(value);
    }
    spec.insert("serviceAccountName".into(), json!(account));
    spec.insert("serviceAccount".into(), json!(account));
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let image = container
                .get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let last = image.rsplit('/').next().unwrap_or("");
            let pull = if !last.contains(':') || image.ends_with(":latest") {
                "Always"
            } else {
                "IfNotPresent"
            };
            container.entry("imagePullPolicy").or_insert(json!(pull));
            container
                .entry("terminationMessagePath")
                .or_insert(json!("/dev/termination-log"));
            container
                .entry("terminationMessagePolicy")
                .or_insert(json!("File"));
            container.entry("resources").or_insert(json!({}));
        }
    }
}

/// The ServiceAccount admission plugin's projected API token volume and mounts.
fn mount_api_token(pod: &mut Value, volume_name: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let volume = json!({
        "name": volume_name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    });
    let mount = json!({"name": volume_name, "readOnly": true, "mountPath": KUBE_API_ACCESS_MOUNT});
    let mut mounted = false;
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let mounts = container.entry("volumeMounts").or_insert_with(|| json!([]));
            if let Some(mounts) = mounts.as_array_mut() {
                let taken = mounts
                    .iter()
                    .any(|m| str_at(m, "/mountPath") == KUBE_API_ACCESS_MOUNT);
                if !taken {
                    mounts.push(mount.clone());
                    mounted = true;
                }
            }
        }
    }
    if mounted {
        let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
        if let Some(volumes) = volumes.as_array_mut() {
            volumes.push(volume);
        }
    }
}

/// The amazon-eks-pod-identity-webhook's mutation (web identity mode), following
/// its handler: env per container unless already there, the token mount, and the
/// projected `aws-iam-token` volume first in the list.
pub fn inject_web_identity(pod: &mut Value, service_account: &Value, region: &str) {
    let annotations = service_account
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let annotation = |key: &str| annotations.get(key).and_then(Value::as_str);
    let Some(role_arn) = annotation(ROLE_ARN_ANNOTATION).filter(|a| !a.is_empty()) else {
        return;
    };
    let role_arn = role_arn.to_string();
    let audience = annotation(AUDIENCE_ANNOTATION)
        .unwrap_or("sts.amazonaws.com")
        .to_string();
    let regional_sts = annotation(REGIONAL_STS_ANNOTATION)
        .and_then(parse_go_bool)
        .unwrap_or(true);
    let mut expiration = annotation(TOKEN_EXPIRATION_ANNOTATION)
        .and_then(|v| v.parse::<i64>().ok())
        .map(|v| v.max(MIN_TOKEN_EXPIRATION))
        .unwrap_or(DEFAULT_TOKEN_EXPIRATION);
    if let Some(v) = pod
        .pointer(&format!(
            "/metadata/annotations/{}",
            TOKEN_EXPIRATION_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .and_then(|v| v.parse::<i64>().ok())
    {
        expiration = v.max(MIN_TOKEN_EXPIRATION);
    }
    let skipped: Vec<String> = pod
        .pointer(&format!(
            "/metadata/annotations/{}",
            SKIP_CONTAINERS_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();

    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            if skipped.iter().any(|s| s == name) {
                continue;
            }
            add_env(container, &role_arn, region, regional_sts);
        }
    }
    let volume = json!({
        "name": TOKEN_VOLUME,
        "projected": {
            "defaultMode": 420,
            "sources": [{"serviceAccountToken": {
                "audience": audience,
                "expirationSeconds": expiration,
                "path": "token"
            }}]
        }
    });
    match spec.get_mut("volumes").and_then(Value::as_array_mut) {
        Some(volumes) => {
            if !volumes.iter().any(|v| str_at(v, "/name") == TOKEN_VOLUME) {
                volumes.insert(0, volume);
            }
        }
        None => {
            spec.insert("volumes".into(), json!([volume]));
        }
    }
}

/// The webhook's `addEnvToContainer`.
fn add_env(container: &mut Map<String, Value>, role_arn: &str, region: &str, regional_sts: bool) {
    let names: Vec<String> = container
        .get("env")
        .and_then(Value::as_array)
        .map(|env| env.iter().map(|e| str_at(e, "/name").to_string()).collect())
        .unwrap_or_default();
    let has = |n: &str| names.iter().any(|x| x == n);
    let web_identity_defined = has("AWS_ROLE_ARN") || has("AWS_WEB_IDENTITY_TOKEN_FILE");
    let region_defined = has("AWS_REGION") || has("AWS_DEFAULT_REGION");
    let sts_defined = has("AWS_STS_REGIONAL_ENDPOINTS");
    if web_identity_defined && region_defined && sts_defined {
        return;
    }
    let mut added = Vec::new();
    if !sts_defined && regional_sts {
        added.push(json!({"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}));
    }
    if !region_defined && !region.is_empty() {
        added.push(json!({"name": "AWS_DEFAULT_REGION", "value": region}));
        added.push(json!({"name": "AWS_REGION", "value": region}));
    }
    if !web_identity_defined {
        added.push(json!({"name": "AWS_ROLE_ARN", "value": role_arn}));
        added.push(json!({"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": TOKEN_FILE}));
    }
    if !added.is_empty() {
        let env = container.entry("env").or_insert_with(|| json!([]));
        if let Some(env) = env.as_array_mut() {
            env.extend(added);
        }
    }
    let mounts = container.entry("volumeMounts").or_insert_with(|| json!([]));
    if let Some(mounts) = mounts.as_array_mut()
        && !mounts.iter().any(|m| str_at(m, "/name") == TOKEN_VOLUME)
    {
        mounts.push(json!({"name": TOKEN_VOLUME, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH}));
    }
}

fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// (field path, cause reason, text after the field), as `Failure::invalid` takes them.
type FieldErrors = Vec<(String, &'static str, String)>;

/// The pod spec checks whose absence would hide a malformed probe; `path` is where
/// the pod spec sits (`spec`, or `spec.template.spec` in a Job).
fn validate_pod_spec(spec: Option<&Value>, path: &str) -> Result<(), FieldErrors> {
    let required = |field: String| (field, "FieldValueRequired", "Required value".to_string());
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty());
    let Some(containers) = containers else {
        return Err(vec![required(format!("{path}.containers"))]);
    };
    let mut errors = Vec::new();
    for (i, container) in containers.iter().enumerate() {
        for field in ["name", "image"] {
            if str_at(container, &format!("/{field}")).is_empty() {
                errors.push(required(format!("{path}.containers[{i}].{field}")));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The job controller's and job strategy's work on a new Job: validation (restart
/// policy, name usable as a label value), defaults, selector and template labels.
pub fn admit_job(job: &mut Value, resource: &Resource) -> Result<(), Failure> {
    let name = str_at(job, "/metadata/name").to_string();
    let uid = str_at(job, "/metadata/uid").to_string();
    let mut errors: FieldErrors = Vec::new();
    if name.len() > 63 {
        errors.push((
            "spec.template.labels".into(),
            "FieldValueInvalid",
            format!("Invalid value: \"{name}\": must be no more than 63 characters"),
        ));
    }
    match str_at(job, "/spec/template/spec/restartPolicy") {
        "Never" | "OnFailure" => {}
        "" => errors.push((
            "spec.template.spec.restartPolicy".into(),
            "FieldValueRequired",
            "Required value: valid values: \"OnFailure\", \"Never\"".to_string(),
        )),
        other => errors.push((
            "spec.template.spec.restartPolicy".into(),
            "FieldValueNotSupported",
            format!("Unsupported value: \"{other}\": supported values: \"OnFailure\", \"Never\""),
        )),
    }
    if let Err(more) = validate_pod_spec(job.pointer("/spec/template/spec"), "spec.template.spec") {
        errors.extend(more);
    }
    if !errors.is_empty() {
        return Err(Failure::invalid(resource, &name, &errors));
    }
    let Some(spec) = job.get_mut("spec").and_then(Value::as_object_mut) else {
        return Err(Failure::invalid(
            resource,
            &name,
            &[("spec", "FieldValueRequired", "Required value".into())],
        ));
    };
    for (field, value) in [
        ("backoffLimit", json!(6)),
        ("completions", json!(1)),
        ("parallelism", json!(1)),
        ("completionMode", json!("NonIndexed")),
        ("suspend", json!(false)),
        ("podReplacementPolicy", json!("TerminatingOrFailed")),
        ("manualSelector", json!(false)),
    ] {
        spec.entry(field).or_insert(value);
    }
    spec.insert(
        "selector".into(),
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
    let template = spec
        .entry("template")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(template) = template {
        let metadata = template.entry("metadata").or_insert_with(|| json!({}));
        if let Some(metadata) = metadata.as_object_mut() {
            let labels = metadata.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
                labels.insert("batch.kubernetes.io/job-name".into(), json!(name));
                labels.insert("controller-uid".into(), json!(uid));
                labels.insert("job-name".into(), json!(name));
            }
        }
    }
    Ok(())
}

/// RFC 1123 subdomain check for object names; the error is the validation text.
pub fn check_object_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ))
    }
}
