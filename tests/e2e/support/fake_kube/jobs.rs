//! The simulated job controller and kubelet: a Job gets its pod, the pod "runs" the
//! probe of PROBE.md and logs what the real script would print in the configured world.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::admission::{admit_pod, service_account_of};
use super::state::Shared;
use super::store::{JOB, ObjectKey, POD, Store, now_rfc3339, object_at, str_at};
use crate::support::spec;

/// What a probe Job does once its pod runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum JobBehaviour {
    /// The pod runs the probe, logs its result and succeeds; the Job completes.
    #[default]
    Complete,
    /// The container exits 1 with an empty log; the Job fails (`BackoffLimitExceeded`).
    Fail,
    /// The pod starts and keeps running; nothing else ever happens.
    NeverFinish,
    /// The pod succeeds but logs this text instead of the probe's output.
    LogGarbage(String),
}

/// A role whose trust policy admits a service account's web identity token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleTrust {
    pub role_arn: String,
    /// `system:serviceaccount:NAMESPACE:NAME`
    pub subject: String,
}

/// How the AWS CLI in the probe image words its errors; the image's CLI version decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AwsCliStyle {
    /// AWS CLI v2 before its error-format rework: a blank line, then the message;
    /// the credentials hint says `aws configure` (the wording PROBE.md quotes).
    #[default]
    Legacy,
    /// Recent AWS CLI v2 (`awscli/errorformat.py`): the message behind `aws: [ERROR]: `,
    /// service errors followed by "Additional error details" (`Type: Sender` for STS),
    /// and the credentials hint says `aws login`.
    Current,
}

/// The AWS side as seen from inside a probe pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeWorld {
    /// Which (role, service account) pairs AssumeRoleWithWebIdentity accepts; any
    /// other pair is AccessDenied.
    pub trusts: Vec<RoleTrust>,
    /// The node's instance role, answered through IMDS when the pod has no web identity.
    pub node_role_arn: String,
    pub node_instance_id: String,
    /// Whether pods reach IMDS (EKS blocks it with hop limit 1 and IMDSv2 required).
    pub imds_reachable: bool,
    /// `host:port` targets that accept TCP connections from pods.
    pub open_targets: BTreeSet<String>,
    pub cli: AwsCliStyle,
}

impl Default for ProbeWorld {
    fn default() -> ProbeWorld {
        ProbeWorld {
            trusts: Vec::new(),
            node_role_arn: spec::role_arn(spec::NODE_ROLE),
            node_instance_id: spec::NODE_INSTANCE_ID.to_string(),
            imds_reachable: false,
            open_targets: BTreeSet::new(),
            cli: AwsCliStyle::Legacy,
        }
    }
}

impl ProbeWorld {
    /// The role's trust admits the service account's token.
    pub fn trust(mut self, role_arn: &str, namespace: &str, service_account: &str) -> ProbeWorld {
        self.trusts.push(RoleTrust {
            role_arn: role_arn.to_string(),
            subject: format!("system:serviceaccount:{namespace}:{service_account}"),
        });
        self
    }

    pub fn imds(mut self, reachable: bool) -> ProbeWorld {
        self.imds_reachable = reachable;
        self
    }

    /// Pods can open TCP connections to `host:port`.
    pub fn open(mut self, host: &str, port: u16) -> ProbeWorld {
        self.open_targets.insert(format!("{host}:{port}"));
        self
    }

    pub fn cli(mut self, style: AwsCliStyle) -> ProbeWorld {
        self.cli = style;
        self
    }

    pub fn node(mut self, role_arn: &str, instance_id: &str) -> ProbeWorld {
        self.node_role_arn = role_arn.to_string();
        self.node_instance_id = instance_id.to_string();
        self
    }

    pub fn admits(&self, role_arn: &str, subject: &str) -> bool {
        self.trusts
            .iter()
            .any(|t| t.role_arn == role_arn && t.subject == subject)
    }
}

/// The fixed botocore session name the fake's STS answers carry.
pub const SESSION_NAME: &str = "botocore-session-1732965600";

/// What `aws sts get-caller-identity --output json` prints (stdout and stderr, in
/// order) and its exit code, for a container with this env, in the world's CLI style.
pub fn caller_identity(
    env: &BTreeMap<String, String>,
    subject: &str,
    world: &ProbeWorld,
) -> (String, i32) {
    // A service's answer, as botocore's ClientError words it (STS errors are `Sender`'s).
    let client_error = |code: &str, message: &str| {
        let text = format!(
            "An error occurred ({code}) when calling the AssumeRoleWithWebIdentity operation: {message}"
        );
        let output = match world.cli {
            AwsCliStyle::Legacy => format!("\n{text}\n"),
            AwsCliStyle::Current => {
                format!("\naws: [ERROR]: {text}\n\nAdditional error details:\nType: Sender\n")
            }
        };
        (output, 254)
    };
    let role_arn = env.get("AWS_ROLE_ARN").filter(|v| !v.is_empty());
    let token_file = env
        .get("AWS_WEB_IDENTITY_TOKEN_FILE")
        .filter(|v| !v.is_empty());
    if let (Some(role_arn), Some(_)) = (role_arn, token_file) {
        let Some((partition, account, role_name)) = parse_role_arn(role_arn) else {
            return client_error("ValidationError", "Request ARN is invalid");
        };
        if !world.admits(role_arn, subject) {
            return client_error(
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            );
        }
        return (
            identity_json(
                &format!("AROAEXAMPLEID123456789:{SESSION_NAME}"),
                account,
                &format!("arn:{partition}:sts::{account}:assumed-role/{role_name}/{SESSION_NAME}"),
            ),
            0,
        );
    }
    if world.imds_reachable
        && let Some((partition, account, role_name)) = parse_role_arn(&world.node_role_arn)
    {
        let instance = &world.node_instance_id;
        return (
            identity_json(
                &format!("AROANODEROLEID12345678:{instance}"),
                account,
                &format!("arn:{partition}:sts::{account}:assumed-role/{role_name}/{instance}"),
            ),
            0,
        );
    }
    let output = match world.cli {
        AwsCliStyle::Legacy => {
            "\nUnable to locate credentials. You can configure credentials by running \"aws configure\".\n"
        }
        AwsCliStyle::Current => {
            "\naws: [ERROR]: Unable to locate credentials. You can configure credentials by running \"aws login\".\n"
        }
    };
    (output.to_string(), 253)
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` → (partition, account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts[..] else {
        return None;
    };
    let role_path = resource.strip_prefix("role/")?;
    let name = role_path.rsplit('/').next()?;
    let valid = prefix == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty();
    valid.then_some((partition, account, name))
}

/// The CLI's JSON output: 4-space indent, keys in the service's order.
fn identity_json(user_id: &str, account: &str, arn: &str) -> String {
    format!(
        "{{\n    \"UserId\": \"{user_id}\",\n    \"Account\": \"{account}\",\n    \"Arn\": \"{arn}\"\n}}\n"
    )
}

/// The probe script's whole log for a container env (PROBE.md).
pub fn probe_log(env: &BTreeMap<String, String>, subject: &str, world: &ProbeWorld) -> String {
    let mut log = String::new();
    if env.get("IRSA_CHECK_STS").map(String::as_str) == Some("1") {
        let (output, rc) = caller_identity(env, subject, world);
        log.push_str("irsa-check-probe: sts begin\n");
        log.push_str(&output);
        log.push_str(&format!("irsa-check-probe: sts end rc={rc}\n"));
    }
    if let Some(targets) = env.get("IRSA_CHECK_TCP") {
        for target in targets.split_whitespace() {
            // Like bash's ${t%:*} and ${t##*:}.
            let (host, port) = target.rsplit_once(':').unwrap_or((target, target));
            let state = if world.open_targets.contains(target) {
                "open"
            } else {
                "closed"
            };
            log.push_str(&format!("irsa-check-probe: tcp {host} {port} {state}\n"));
        }
    }
    if env.get("IRSA_CHECK_IMDS").map(String::as_str) == Some("1") {
        let answer = if world.imds_reachable {
            "token"
        } else {
            "no-token"
        };
        log.push_str(&format!("irsa-check-probe: imds {answer}\n"));
    }
    log.push_str("irsa-check-probe: done\n");
    log
}

/// The literal env of a pod's first container (`valueFrom` entries are not resolved).
pub fn container_env(pod: &Value) -> BTreeMap<String, String> {
    pod.pointer("/spec/containers/0/env")
        .and_then(Value::as_array)
        .map(|env| {
            env.iter()
                .filter_map(|e| {
                    let name = e.get("name")?.as_str()?;
                    let value = e.get("value").and_then(Value::as_str).unwrap_or("");
                    Some((name.to_string(), value.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

const NODE_NAME: &str = "ip-10-0-1-23.eu-west-1.compute.internal";

/// Called right after a Job is stored. Like the real controllers, the work happens
/// after the create has been answered: the job controller creates the pod (through
/// admission and the webhook), the "kubelet" finishes it after the configured delay,
/// and the TTL controller deletes a finished Job after `ttlSecondsAfterFinished`.
pub fn start(shared: &Arc<Shared>, job: &Value) {
    let namespace = str_at(job, "/metadata/namespace").to_string();
    let job_name = str_at(job, "/metadata/name").to_string();
    let job = job.clone();
    let shared = Arc::clone(shared);
    tokio::spawn(async move {
        let Some(pod_name) = shared.write(|store| create_pod(store, &shared, &job)) else {
            return;
        };
        tokio::time::sleep(shared.settings.job_delay).await;
        let finished =
            shared.write(|store| finish(store, &shared, &namespace, &job_name, &pod_name));
        let ttl = job
            .pointer("/spec/ttlSecondsAfterFinished")
            .and_then(Value::as_u64);
        if let (true, Some(ttl)) = (finished, ttl) {
            tokio::time::sleep(Duration::from_secs(ttl)).await;
            shared.write(|store| {
                let uid = str_at(&job, "/metadata/uid");
                let current = store.get(&JOB, &namespace, &job_name);
                // Only the same Job, not a new one that took its name.
                if current.is_some_and(|j| str_at(j, "/metadata/uid") == uid) {
                    store.delete(&JOB, &namespace, &job_name);
                    store.delete_dependents(uid);
                }
            });
        }
    });
}

/// The job controller's pod for a new Job; `None` when admission rejects it (the
/// real controller only records an event and retries, so the Job stays podless).
fn create_pod(store: &mut Store, shared: &Shared, job: &Value) -> Option<String> {
    let namespace = str_at(job, "/metadata/namespace");
    let job_name = str_at(job, "/metadata/name");
    let job_uid = str_at(job, "/metadata/uid");
    store.get(&JOB, namespace, job_name)?;
    let settings = &shared.settings;
    let webhook_region = settings.webhook.then_some(settings.region.as_str());
    let mut pod = pod_for(store, job, namespace, job_name, job_uid);
    // The controller names pods by generateName, so admission sees `<job>-`.
    admit_pod(
        store,
        namespace,
        &mut pod,
        &format!("{job_name}-"),
        webhook_region,
    )
    .ok()?;
    store.stamp_new(&POD, &mut pod, namespace);
    if let Some(map) = pod.as_object_mut() {
        map.insert(
            "status".into(),
            json!({"phase": "Pending", "qosClass": "BestEffort"}),
        );
    }
    let pod_name = str_at(&pod, "/metadata/name").to_string();
    store.put(&POD, pod);
    update_job(store, namespace, job_name, |status| {
        status.insert("active".into(), json!(1));
        status.insert("ready".into(), json!(0));
        status.insert("terminating".into(), json!(0));
        status.insert("startTime".into(), json!(now_rfc3339()));
        status.insert("uncountedTerminatedPods".into(), json!({}));
    });
    Some(pod_name)
}

/// The pod the job controller makes from the Job's template.
fn pod_for(
    store: &mut Store,
    job: &Value,
    namespace: &str,
    job_name: &str,
    job_uid: &str,
) -> Value {
    let template = job.pointer("/spec/template").cloned().unwrap_or(json!({}));
    let suffix = store.rng.suffix(5);
    let mut metadata = serde_json::Map::new();
    metadata.insert("name".into(), json!(format!("{job_name}-{suffix}")));
    metadata.insert("generateName".into(), json!(format!("{job_name}-")));
    metadata.insert("namespace".into(), json!(namespace));
    for field in ["labels", "annotations"] {
        if let Some(v) = template.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), v.clone());
        }
    }
    metadata.insert(
        "ownerReferences".into(),
        json!([{
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": job_name,
            "uid": job_uid,
            "controller": true,
            "blockOwnerDeletion": true
        }]),
    );
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template.get("spec").cloned().unwrap_or(json!({})),
    })
}

fn update_job(
    store: &mut Store,
    namespace: &str,
    name: &str,
    change: impl FnOnce(&mut serde_json::Map<String, Value>),
) {
    let Some(mut job) = store.get(&JOB, namespace, name).cloned() else {
        return;
    };
    if let Some(status) = object_at(&mut job, "/status") {
        change(status);
        store.put(&JOB, job);
    }
}

/// Returns whether the Job reached a terminal condition.
fn finish(
    store: &mut Store,
    shared: &Shared,
    namespace: &str,
    job_name: &str,
    pod_name: &str,
) -> bool {
    let Some(mut pod) = store.get(&POD, namespace, pod_name).cloned() else {
        return false;
    };
    let settings = &shared.settings;
    let account = service_account_of(&pod);
    let behaviour = settings
        .job_behaviour_by_service_account
        .get(&account)
        .unwrap_or(&settings.job_behaviour)
        .clone();
    let subject = format!("system:serviceaccount:{namespace}:{account}");
    let started = str_at(&pod, "/metadata/creationTimestamp").to_string();
    let now = now_rfc3339();
    if let Some(spec) = object_at(&mut pod, "/spec") {
        spec.insert("nodeName".into(), json!(NODE_NAME));
    }
    let key = ObjectKey {
        namespace: namespace.to_string(),
        name: pod_name.to_string(),
    };
    let condition = |kind: &str, reason: &str, message: &str| {
        json!({
            "type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": now, "lastTransitionTime": now
        })
    };
    match behaviour {
        JobBehaviour::Complete | JobBehaviour::LogGarbage(_) => {
            let log = match &behaviour {
                JobBehaviour::LogGarbage(text) => text.clone(),
                _ => probe_log(&container_env(&pod), &subject, &settings.probe),
            };
            store.logs.insert(key, log);
            set_pod_status(
                &mut pod,
                "Succeeded",
                Some((0, "Completed")),
                &started,
                &now,
            );
            store.put(&POD, pod);
            let complete = "Reached expected number of succeeded pods";
            update_job(store, namespace, job_name, |status| {
                status.remove("active");
                status.insert(
                    "conditions".into(),
                    json!([
                        condition("SuccessCriteriaMet", "CompletionsReached", complete),
                        condition("Complete", "CompletionsReached", complete),
                    ]),
                );
                status.insert("succeeded".into(), json!(1));
                status.insert("ready".into(), json!(0));
                status.insert("completionTime".into(), json!(now));
            });
            true
        }
        JobBehaviour::Fail => {
            store.logs.insert(key, String::new());
            set_pod_status(&mut pod, "Failed", Some((1, "Error")), &started, &now);
            store.put(&POD, pod);
            let limit = "Job has reached the specified backoff limit";
            update_job(store, namespace, job_name, |status| {
                status.remove("active");
                status.insert(
                    "conditions".into(),
                    json!([
                        condition("FailureTarget", "BackoffLimitExceeded", limit),
                        condition("Failed", "BackoffLimitExceeded", limit),
                    ]),
                );
                status.insert("failed".into(), json!(1));
                status.insert("ready".into(), json!(0));
            });
            true
        }
        JobBehaviour::NeverFinish => {
            store.logs.insert(key, String::new());
            set_pod_status(&mut pod, "Running", None, &started, &now);
            store.put(&POD, pod);
            update_job(store, namespace, job_name, |status| {
                status.insert("ready".into(), json!(1));
            });
            false
        }
    }
}

/// A kubelet-shaped pod status; `terminated` is (exit code, reason) once the
/// container has exited, `None` while it runs.
fn set_pod_status(
    pod: &mut Value,
    phase: &str,
    terminated: Option<(i32, &str)>,
    started: &str,
    now: &str,
) {
    let running = terminated.is_none();
    let containers: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let container_id = format!("containerd://{:064x}", i + 1);
            let state = match terminated {
                Some((exit_code, reason)) => json!({"terminated": {
                    "exitCode": exit_code, "reason": reason, "startedAt": started,
                    "finishedAt": now, "containerID": container_id
                }}),
                None => json!({"running": {"startedAt": started}}),
            };
            json!({
                "name": str_at(c, "/name"),
                "image": str_at(c, "/image"),
                "imageID": "",
                "containerID": container_id,
                "ready": running,
                "started": running,
                "restartCount": 0,
                "lastState": {},
                "state": state
            })
        })
        .collect();
    let ready = if running { "True" } else { "False" };
    let condition = |kind: &str, status: &str| {
        let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
        if status == "False"
            && let Some(map) = c.as_object_mut()
        {
            map.insert("reason".into(), json!("PodCompleted"));
        }
        c
    };
    let conditions = json!([
        condition(
            "PodReadyToStartContainers",
            if running { "True" } else { "False" }
        ),
        condition("Initialized", "True"),
        condition("Ready", ready),
        condition("ContainersReady", ready),
        condition("PodScheduled", "True"),
    ]);
    if let Some(map) = pod.as_object_mut() {
        map.insert(
            "status".into(),
            json!({
                "phase": phase,
                "conditions": conditions,
                "hostIP": "10.0.1.23",
                "hostIPs": [{"ip": "10.0.1.23"}],
                "podIP": "10.0.1.45",
                "podIPs": [{"ip": "10.0.1.45"}],
                "startTime": started,
                "containerStatuses": containers,
                "qosClass": "BestEffort"
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn role_arns_parse_like_sts_expects() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/path/to/R"),
            Some(("aws", "123456789012", "R"))
        );
        assert_eq!(
            parse_role_arn("arn:aws-cn:iam::123456789012:role/R"),
            Some(("aws-cn", "123456789012", "R"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::12345:role/R"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:user/R"), None);
        assert_eq!(parse_role_arn("R"), None);
    }

    #[test]
    fn recent_cli_prefixes_errors_and_adds_details() {
        let world = ProbeWorld::default().cli(AwsCliStyle::Current);
        let denied = env(&[
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/R"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ]);
        assert_eq!(
            caller_identity(&denied, "system:serviceaccount:a:b", &world),
            (
                "\naws: [ERROR]: An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\nAdditional error details:\nType: Sender\n".to_string(),
                254
            )
        );
        assert_eq!(
            caller_identity(&env(&[]), "system:serviceaccount:a:b", &world),
            (
                "\naws: [ERROR]: Unable to locate credentials. You can configure credentials by running \"aws login\".\n".to_string(),
                253
            )
        );
    }

    #[test]
    fn malformed_role_arn_is_a_validation_error() {
        let e = env(&[
            ("AWS_ROLE_ARN", "my-role"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ]);
        let (out, rc) = caller_identity(&e, "system:serviceaccount:a:b", &ProbeWorld::default());
        assert_eq!(rc, 254);
        assert_eq!(
            out,
            "\nAn error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: Request ARN is invalid\n"
        );
    }
}
