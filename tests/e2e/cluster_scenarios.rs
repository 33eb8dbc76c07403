//! The cluster side end to end: the built binary against the fake Kubernetes API server
//! (a healthy Camunda world with its probe world) and moto. Each scenario changes one
//! thing and asserts the exact line, its stream and the exit status; every test ends by
//! checking that the cluster holds nothing labelled `app.kubernetes.io/managed-by=irsa-check`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_kube::{AwsCliStyle, Fault, JobBehaviour, Verb};
use crate::support::harness::{Run, Running, Scenario, healthy_probe_world};
use crate::support::spec::{
    self, ACCOUNT, AURORA_HOST, Gen, IDENTITY, NAMESPACE, NODE_INSTANCE_ID, NODE_ROLE,
    OPENSEARCH_HOST,
};
use crate::support::world::{self, ROLE_ARN_ANNOTATION};

const IDENTITY_ROLE: &str = "arn:aws:iam::123456789012:role/AuroraRole-Identity-camunda-prod";

/// The name of the identity pod of a healthy world of `generation`.
fn identity_pod_name(generation: Gen) -> String {
    world::kube_objects(generation, &world::user_values(generation))
        .iter()
        .find(|o| {
            o["kind"] == "Pod"
                && o["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("camunda-identity-"))
        })
        .and_then(|o| o["metadata"]["name"].as_str())
        .expect("the world has an identity pod")
        .to_string()
}

/// An edit of one object of the world, for `Scenario::objects`.
pub fn edit(
    kind: &'static str,
    name: &str,
    change: impl FnOnce(&mut Value) + 'static,
) -> impl FnOnce(&mut Vec<Value>) + 'static {
    let name = name.to_string();
    move |objects: &mut Vec<Value>| {
        let object = world::find_object_mut(objects, kind, &name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the world"));
        change(object);
    }
}

/// The binary in the world's namespace, not started.
pub fn command(world: &Running, args: &[&str]) -> std::process::Command {
    let mut cmd = world.command();
    cmd.args(["-n", NAMESPACE]).args(args).stdin(Stdio::null());
    cmd
}

/// Run the binary in the world's namespace.
pub fn run(world: &Running, args: &[&str]) -> Run {
    Run::from(
        command(world, args)
            .output()
            .expect("run the irsa-check binary"),
    )
}

/// Panics unless the fake holds no object labelled by the tool.
#[track_caller]
pub fn nothing_left(world: &Running) {
    let left = world.leftovers();
    assert!(
        left.is_empty(),
        "objects left behind: {:?}",
        left.iter()
            .map(|o| format!("{} {}", o["kind"], o["metadata"]["name"]))
            .collect::<Vec<_>>()
    );
}

/// Lines of both streams that contain `text`.
pub fn lines_with<'a>(run: &'a Run, text: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.contains(text))
        .collect()
}

/// Requests the fake saw, as `verb resource` with the status answered.
fn count(world: &Running, verb: Verb, resource: &str, dry_run: bool) -> usize {
    world
        .kube
        .requests()
        .iter()
        .filter(|r| r.verb == Some(verb) && r.resource == resource && r.dry_run == dry_run)
        .filter(|r| r.subresource.is_none())
        .count()
}

fn line_starting(run: &Run, stream: &str, start: &str, end: &str) {
    let text = if stream == "stderr" {
        &run.stderr
    } else {
        &run.stdout
    };
    assert!(
        text.lines()
            .any(|l| l.starts_with(start) && l.ends_with(end)),
        "{stream} has no line\n  {start}…{end}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        run.stdout,
        run.stderr
    );
}

// ---- healthy worlds ------------------------------------------------------------------

fn healthy(generation: Gen, components: &[&str]) {
    let world = Scenario::healthy(generation).start();
    let run = run(&world, &[]);
    run.exits(0);
    assert_eq!(run.stderr, "", "a healthy run prints nothing on stderr");
    run.stdout_line("[OK] All checks passed.");
    run.stdout_line(&format!(
        "[OK] Port 443 of {OPENSEARCH_HOST} is reachable from namespace camunda (probe of optimize)."
    ));
    run.stdout_line(&format!(
        "[OK] (component=identity) Port 5432 of {AURORA_HOST} is reachable from namespace camunda (probe of identity)."
    ));
    run.stdout_line(&format!(
        "[OK] (component=identity) A pod under service account identity-sa runs as arn:aws:sts::{ACCOUNT}:assumed-role/AuroraRole-Identity-camunda-prod/botocore-session-1732965600: the annotated role {IDENTITY_ROLE}."
    ));
    run.stdout_line(&format!(
        "[OK] (component=identity) A pod of service account identity-sa gets AWS_ROLE_ARN={IDENTITY_ROLE}, AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token and the projected token (audience sts.amazonaws.com) from the EKS pod identity webhook (server-side dry run)."
    ));
    run.stdout_line(
        "[OK] Pods in namespace camunda cannot get an IMDSv2 token from 169.254.169.254: IRSA failures cannot hide behind the node role.",
    );
    for c in components {
        assert_eq!(
            lines_with(
                &run,
                &format!("(component={c}) A pod under service account")
            )
            .len(),
            1,
            "identity probe of {c}"
        );
    }
    // One Job per component, all created and all deleted with propagation.
    let creates = count(&world, Verb::Create, "jobs", false);
    assert_eq!(creates, components.len());
    let deletes: Vec<_> = world
        .kube
        .requests()
        .into_iter()
        .filter(|r| r.verb == Some(Verb::Delete) && r.resource == "jobs")
        .collect();
    assert_eq!(deletes.len(), components.len());
    assert!(deletes.iter().all(|r| r.status == Some(200)));
    assert!(world.kube.list("Job").is_empty());
    // Every component's dry run, and nothing else created for real.
    assert_eq!(count(&world, Verb::Create, "pods", true), components.len());
    assert_eq!(count(&world, Verb::Create, "pods", false), 0);
    nothing_left(&world);
}

#[test]
fn cluster_healthy_8_8_passes_with_probes() {
    healthy(
        Gen::V8_8,
        &[
            "identityKeycloak",
            "identity",
            "webModeler",
            "orchestration",
            "optimize",
        ],
    );
}

#[test]
fn cluster_healthy_8_7_passes_with_probes() {
    healthy(
        Gen::V8_7,
        &[
            "identityKeycloak",
            "identity",
            "webModeler",
            "zeebe",
            "operate",
            "tasklist",
            "optimize",
        ],
    );
}

fn healthy_no_spawn(generation: Gen, components: usize) {
    let world = Scenario::healthy(generation).start();
    let run = run(&world, &["-s"]);
    run.exits(0);
    assert_eq!(run.stderr, "");
    run.stdout_line("[OK] All checks passed.");
    run.stdout_line(&format!(
        "[INFO] (component=identity) Skipped: reachability of {AURORA_HOST}:5432: -s spawns no pods"
    ));
    run.stdout_line(
        "[INFO] (component=identity) Skipped: the identity probe of identity: -s spawns no pods",
    );
    run.stdout_line("[INFO] Skipped: IMDS reachability: -s spawns no pods");
    // -s still verifies the injection with a dry run, and creates nothing.
    assert_eq!(
        lines_with(
            &run,
            "from the EKS pod identity webhook (server-side dry run)."
        )
        .len(),
        components
    );
    assert_eq!(count(&world, Verb::Create, "pods", true), components);
    assert!(
        world
            .kube
            .requests()
            .iter()
            .all(|r| r.dry_run || !matches!(r.verb, Some(Verb::Create | Verb::Delete))),
        "-s made a real create or delete"
    );
    nothing_left(&world);
}

#[test]
fn cluster_healthy_8_8_passes_without_spawning() {
    healthy_no_spawn(Gen::V8_8, 5);
}

#[test]
fn cluster_healthy_8_7_passes_without_spawning() {
    healthy_no_spawn(Gen::V8_7, 7);
}

// ---- 110, 163 ---------------------------------------------------------------------------

#[test]
fn cluster_110_account_without_role_annotation() {
    let world = Scenario::healthy(Gen::V8_8)
        .objects(edit("ServiceAccount", "identity-sa", |sa| {
            sa["metadata"]["annotations"]
                .as_object_mut()
                .unwrap()
                .remove(ROLE_ARN_ANNOTATION);
        }))
        .start();
    let run = run(&world, &[]);
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The service account identity-sa has no eks.amazonaws.com/role-arn annotation: its pods get no IAM role. Hint: The values annotate it with {IDENTITY_ROLE}, the live account does not have it: upgrade the release (helm upgrade), or check what else manages the account."
    ));
    run.stdout_line(
        "[INFO] (component=identity) Skipped: the IRSA checks of identity that need its role: the service account names no role",
    );
    run.stdout_line(
        "[INFO] (component=identity) Skipped: the identity probe of identity: its service account names no role",
    );
    run.exits(110);
    nothing_left(&world);
}

#[test]
fn cluster_110_service_account_missing() {
    let world = Scenario::healthy(Gen::V8_8).start();
    world
        .kube
        .remove("ServiceAccount", NAMESPACE, "identity-sa");
    let run = run(&world, &[]);
    run.stderr_line(
        "[FAIL] (component=identity) The service account identity-sa does not exist in namespace camunda. Hint: The chart creates it when identity.serviceAccount.enabled is true; otherwise create it and annotate it with eks.amazonaws.com/role-arn.",
    );
    // Its reachability is still probed, under the namespace's default account.
    run.stdout_line(&format!(
        "[OK] (component=identity) Port 5432 of {AURORA_HOST} is reachable from namespace camunda (probe of identity)."
    ));
    run.exits(110);
    nothing_left(&world);
}

#[test]
fn cluster_163_annotation_is_not_a_role_arn() {
    let world = Scenario::healthy(Gen::V8_8)
        .objects(edit("ServiceAccount", "identity-sa", |sa| {
            sa["metadata"]["annotations"][ROLE_ARN_ANNOTATION] =
                json!("AuroraRole-Identity-camunda-prod");
        }))
        .start();
    let run = run(&world, &["-s"]);
    run.stderr_line(
        "[FAIL] (component=identity) The eks.amazonaws.com/role-arn annotation of identity-sa is not an IAM role ARN: AuroraRole-Identity-camunda-prod Hint: The form is arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (the role's ARN, not its name).",
    );
    run.exits(163);
    nothing_left(&world);
}

#[test]
fn cluster_optional_annotations_are_reported() {
    let world = Scenario::healthy(Gen::V8_8)
        .objects(edit("ServiceAccount", "identity-sa", |sa| {
            let a = &mut sa["metadata"]["annotations"];
            a["eks.amazonaws.com/audience"] = json!("sts.amazonaws.com");
            a["eks.amazonaws.com/sts-regional-endpoints"] = json!("true");
            a["eks.amazonaws.com/token-expiration"] = json!("3600");
        }))
        .start();
    let run = run(&world, &["-s"]);
    run.exits(0);
    for line in [
        "[INFO] (component=identity) The service account identity-sa requests the token audience sts.amazonaws.com (eks.amazonaws.com/audience): the role's trust policy must admit it.",
        "[INFO] (component=identity) The service account identity-sa sets eks.amazonaws.com/sts-regional-endpoints: true (pods use the regional STS endpoint).",
        "[INFO] (component=identity) The service account identity-sa sets eks.amazonaws.com/token-expiration: 3600 s.",
    ] {
        run.stdout_line(line);
    }
    nothing_left(&world);
}

// ---- 111–114 ----------------------------------------------------------------------------

#[test]
fn cluster_111_webhook_does_not_inject() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.webhook(false))
        .start();
    let run = run(&world, &["-s"]);
    run.stderr_line(
        "[FAIL] (component=identity) A pod of service account identity-sa gets no web identity from the EKS pod identity webhook (no AWS_ROLE_ARN, no AWS_WEB_IDENTITY_TOKEN_FILE, no projected token; server-side dry run). Hint: The EKS pod identity webhook mutates pods at admission: check that it runs (kubectl get mutatingwebhookconfiguration pod-identity-webhook) and that no policy removes its changes.",
    );
    assert_eq!(lines_with(&run, "gets no web identity").len(), 5);
    run.exits(111);
    nothing_left(&world);
}

#[test]
fn cluster_111_dry_run_forbidden_is_info_naming_the_permission() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.fault(Fault::forbidden(Verb::Create, "pods").with_dry_run(true)))
        .start();
    let run = run(&world, &["-s"]);
    run.stdout_line(&format!(
        "[INFO] (component=identity) Cannot verify token injection for identity-sa: create pods (dryRun=All) failed: Forbidden: pods is forbidden: User \"{}\" cannot create resource \"pods\" in API group \"\" in the namespace \"camunda\". The check needs permission to create pods with dryRun=All in namespace camunda (create on pods; a server-side dry run creates nothing).",
        crate::support::fake_kube::FAKE_USER
    ));
    run.exits(0);
    nothing_left(&world);
}

#[test]
fn cluster_112_pods_predate_the_annotation() {
    let pod = identity_pod_name(Gen::V8_8);
    let world = Scenario::healthy(Gen::V8_8)
        .objects(edit("Pod", &pod, |p| {
            let c = &mut p["spec"]["containers"][0];
            let env: Vec<Value> = c["env"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| !e["name"].as_str().unwrap().starts_with("AWS_"))
                .cloned()
                .collect();
            c["env"] = json!(env);
        }))
        .start();
    let run = run(&world, &[]);
    run.stderr_line(&format!(
        "[FAIL] (component=identity) Running pods of Deployment camunda-identity have no AWS_ROLE_ARN: {pod}. They predate the eks.amazonaws.com/role-arn annotation: restart the workload (kubectl rollout restart deployment/camunda-identity -n camunda)."
    ));
    run.exits(112);
    nothing_left(&world);
}

#[test]
fn cluster_113_static_keys_shadow_the_web_identity() {
    let mut env = world::user_values(Gen::V8_8)["identity"]["env"].clone();
    env.as_array_mut().unwrap().extend([
        json!({"name": "AWS_ACCESS_KEY_ID", "value": "AKIADUMMYKEY4711"}),
        json!({"name": "AWS_SECRET_ACCESS_KEY", "value": ""}),
    ]);
    let world = Scenario::healthy(Gen::V8_8)
        .set("identity.env", env)
        .start();
    let spec_pod = world
        .kube
        .list("Pod")
        .into_iter()
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("camunda-identity-")
        })
        .unwrap();
    let pod = spec_pod["metadata"]["name"].as_str().unwrap();
    let run = run(&world, &[]);
    run.stderr_line(&format!(
        "[FAIL] (component=identity) Static AWS credentials shadow the web identity of identity: identity.env sets AWS_ACCESS_KEY_ID; identity.env sets AWS_SECRET_ACCESS_KEY (empty); pod {pod} container identity sets AWS_ACCESS_KEY_ID; pod {pod} container identity sets AWS_SECRET_ACCESS_KEY. The AWS SDKs use them before the IRSA token, even when empty. Hint: Remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the component's env (values and Secrets it loads)."
    ));
    assert!(!run.stdout.contains("AKIADUMMYKEY4711") && !run.stderr.contains("AKIADUMMYKEY4711"));
    run.exits(113);
    nothing_left(&world);
}

#[test]
fn cluster_114_token_not_readable_without_fs_group() {
    let pod = identity_pod_name(Gen::V8_8);
    let world = Scenario::healthy(Gen::V8_8)
        .objects(edit("Pod", &pod, |p| {
            p["spec"]["securityContext"] = json!({"runAsNonRoot": true});
            p["spec"]["containers"][0]["securityContext"] = json!({"runAsNonRoot": true});
        }))
        .start();
    let run = run(&world, &["-s"]);
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The projected token is not readable by the containers of pod {pod} of Deployment camunda-identity: no fsGroup and no runAsUser that all its containers share (identity as the image's non-root user). Hint: Set identity.podSecurityContext.fsGroup (for example to the containers' runAsUser) so the token file is group-readable."
    ));
    run.exits(114);
    nothing_left(&world);
}

// ---- 130–134, 41–43 ---------------------------------------------------------------------

#[test]
fn cluster_130_41_job_creation_forbidden() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.fault(Fault::forbidden(Verb::Create, "jobs")))
        .start();
    let run = run(&world, &[]);
    let denial = format!(
        "is forbidden: User \"{}\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"camunda\"",
        crate::support::fake_kube::FAKE_USER
    );
    let suffix = job_suffix(&run, "identity");
    run.stderr_line(&format!(
        "[FAIL] (component=identity) Cannot create the identity probe job irsa-check-identity-{suffix} of identity: create jobs failed: Forbidden: jobs.batch {denial} Hint: irsa-check needs create on jobs (batch) in the namespace, or run it with -s."
    ));
    run.stderr_line(&format!(
        "[FAIL] (component=identity) Cannot create the reachability probe job irsa-check-identity-{suffix} for {AURORA_HOST}:5432: create jobs failed: Forbidden: jobs.batch {denial}"
    ));
    assert_eq!(
        lines_with(&run, "Cannot create the identity probe job").len(),
        5
    );
    run.stdout_line("[INFO] Skipped: IMDS reachability: no probe job reported on it");
    run.exits(130);
    nothing_left(&world);
}

/// The random suffix of the component's job name, as the output shows it
/// (`irsa-check-identity-` must not match `irsa-check-identity-keycloak-…`).
fn job_suffix(run: &Run, component: &str) -> String {
    let marker = format!("irsa-check-{component}-");
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        for (at, _) in line.match_indices(&marker) {
            let rest = &line[at + marker.len()..];
            let suffix: String = rest.chars().take(5).collect();
            let next = rest.chars().nth(5);
            if suffix.len() == 5 && next.is_none_or(|c| !c.is_ascii_alphanumeric()) {
                return suffix;
            }
        }
    }
    panic!("no job of {component} in\n{}\n{}", run.stdout, run.stderr)
}

#[test]
fn cluster_130_quota_exceeded_names_the_quota() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.fault(Fault::quota_exceeded("jobs", "compute-quota")))
        .start();
    let run = run(&world, &[]);
    let suffix = job_suffix(&run, "optimize");
    run.stderr_line(&format!(
        "[FAIL] (component=optimize) Cannot create the identity probe job irsa-check-optimize-{suffix} of optimize: create jobs failed: Forbidden: jobs.batch \"irsa-check-optimize-{suffix}\" is forbidden: exceeded quota: compute-quota, requested: count/jobs.batch=1, used: count/jobs.batch=10, limited: count/jobs.batch=10"
    ));
    run.exits(130);
    nothing_left(&world);
}

#[test]
fn cluster_131_42_job_never_finishes_and_image_pull_backoff() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| {
            k.job_behaviour_for(IDENTITY.service_account, JobBehaviour::NeverFinish)
                .job_behaviour_for(spec::WEB_MODELER.service_account, JobBehaviour::NeverFinish)
        })
        .start();
    let started = Instant::now();
    let child = command(&world, &["--probe-timeout", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The Web Modeler probe's image cannot be pulled: its pod waits.
    let pod = wait_for(Duration::from_secs(20), || {
        world.kube.list("Pod").into_iter().find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("irsa-check-web-modeler-"))
                && p["status"]["phase"] == "Running"
        })
    });
    let mut pod = pod;
    pod["status"] = json!({
        "phase": "Pending",
        "containerStatuses": [{
            "name": "probe", "image": "public.ecr.aws/aws-cli/aws-cli:2.22.35", "imageID": "",
            "ready": false, "restartCount": 0, "started": false,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"public.ecr.aws/aws-cli/aws-cli:2.22.35\""}}
        }]
    });
    world.kube.insert(pod.clone());
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();
    let output = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let run = Run::from(output);
    let identity = job_suffix(&run, "identity");
    let identity_pod = lines_with(&run, &format!("pod irsa-check-identity-{identity}-"))
        .first()
        .map(|l| {
            let at = l.find("pod irsa-check-identity-").unwrap() + 4;
            l[at..at + "irsa-check-identity-xxxxx-yyyyy".len()].to_string()
        })
        .expect("the identity probe's pod is named");
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The identity probe job irsa-check-identity-{identity} of identity did not finish: it did not finish within 5 s; pod {identity_pod} is Running."
    ));
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The reachability probe job irsa-check-identity-{identity} for {AURORA_HOST}:5432 did not finish: it did not finish within 5 s; pod {identity_pod} is Running."
    ));
    let wm = job_suffix(&run, "web-modeler");
    run.stderr_line(&format!(
        "[FAIL] (component=webModeler) The identity probe job irsa-check-web-modeler-{wm} of webModeler did not finish: it did not finish within 5 s; pod {pod_name} is waiting: ImagePullBackOff (Back-off pulling image \"public.ecr.aws/aws-cli/aws-cli:2.22.35\")."
    ));
    // The others finished and passed.
    run.stdout_line(
        "[OK] (component=optimize) A pod under service account optimize-sa runs as arn:aws:sts::123456789012:assumed-role/OpenSearchRole-camunda-os/botocore-session-1732965600: the annotated role arn:aws:iam::123456789012:role/OpenSearchRole-camunda-os.",
    );
    run.exits(131);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    nothing_left(&world);
    assert!(world.kube.list("Pod").iter().all(|p| {
        !p["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("irsa-check-")
    }));
}

fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "gave up waiting");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cluster_131_job_fails_with_backoff_limit() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.job_behaviour_for(IDENTITY.service_account, JobBehaviour::Fail))
        .start();
    let run = run(&world, &[]);
    let suffix = job_suffix(&run, "identity");
    line_starting(
        &run,
        "stderr",
        &format!(
            "[FAIL] (component=identity) The identity probe job irsa-check-identity-{suffix} of identity did not finish: it failed: BackoffLimitExceeded (Job has reached the specified backoff limit); its container exited with code 1 (Error) in pod irsa-check-identity-{suffix}-"
        ),
        ".",
    );
    run.exits(131);
    nothing_left(&world);
}

fn trust_denied(style: AwsCliStyle) {
    let mut probe = healthy_probe_world(Gen::V8_8).cli(style);
    probe
        .trusts
        .retain(|t| !t.subject.ends_with(":identity-sa"));
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.probe(probe))
        .start();
    let run = run(&world, &[]);
    run.stderr_line(
        "[FAIL] (component=identity) aws sts get-caller-identity under service account identity-sa failed: An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity (the role's trust policy rejects this service account's token).",
    );
    run.exits(132);
    nothing_left(&world);
}

#[test]
fn cluster_132_trust_rejects_the_token_legacy_cli() {
    trust_denied(AwsCliStyle::Legacy);
}

#[test]
fn cluster_132_trust_rejects_the_token_current_cli() {
    trust_denied(AwsCliStyle::Current);
}

#[test]
fn cluster_132_42_garbage_log() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| {
            k.job_behaviour_for(
                IDENTITY.service_account,
                JobBehaviour::LogGarbage("exec /bin/bash: exec format error\n".into()),
            )
        })
        .start();
    let run = run(&world, &[]);
    let suffix = job_suffix(&run, "identity");
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The identity probe job irsa-check-identity-{suffix} of identity printed no caller identity; its log starts with: exec /bin/bash: exec format error. Hint: The probe image must have bash, timeout and the aws CLI (--probe-image)."
    ));
    run.stderr_line(&format!(
        "[FAIL] (component=identity) The reachability probe job irsa-check-identity-{suffix} reported nothing for {AURORA_HOST}:5432; its log starts with: exec /bin/bash: exec format error."
    ));
    run.exits(132);
    nothing_left(&world);
}

#[test]
fn cluster_133_identity_without_arn() {
    let log = format!(
        "irsa-check-probe: sts begin\n{{\n    \"UserId\": \"AROAEXAMPLEID123456789:s\",\n    \"Account\": \"{ACCOUNT}\"\n}}\nirsa-check-probe: sts end rc=0\nirsa-check-probe: tcp {AURORA_HOST} 5432 open\nirsa-check-probe: imds no-token\nirsa-check-probe: done\n"
    );
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.job_behaviour_for(IDENTITY.service_account, JobBehaviour::LogGarbage(log)))
        .start();
    let run = run(&world, &[]);
    run.stderr_line(
        "[FAIL] (component=identity) The caller identity of the identity probe of identity has no Arn.",
    );
    run.stdout_line(&format!(
        "[OK] (component=identity) Port 5432 of {AURORA_HOST} is reachable from namespace camunda (probe of identity)."
    ));
    run.exits(133);
    nothing_left(&world);
}

#[test]
fn cluster_134_170_node_role_fallback_through_imds() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| {
            k.webhook(false)
                .probe(healthy_probe_world(Gen::V8_8).imds(true))
        })
        .start();
    let run = run(&world, &[]);
    run.stderr_line(&format!(
        "[FAIL] (component=identity) A pod under service account identity-sa runs as the node role {NODE_ROLE} (arn:aws:sts::{ACCOUNT}:assumed-role/{NODE_ROLE}/{NODE_INSTANCE_ID}), not {IDENTITY_ROLE}: IRSA is not in effect and the pod fell back to the instance profile. Hint: Check the token injection (111) and why the web identity was not used; block pods from IMDS (170) so such failures surface."
    ));
    line_starting(
        &run,
        "stderr",
        "[WARN] Pods in namespace camunda can get an IMDSv2 token from 169.254.169.254 (probe job irsa-check-",
        "): when IRSA fails, the AWS SDKs silently fall back to the node role, which hides the failure. Hint: Require IMDSv2 with a hop limit of 1 in the nodes' launch template (HttpPutResponseHopLimit=1) so pods cannot reach IMDS.",
    );
    run.exits(134);
    nothing_left(&world);
}

#[test]
fn cluster_170_imds_reachable_is_a_warning() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.probe(healthy_probe_world(Gen::V8_8).imds(true)))
        .start();
    let run = run(&world, &[]);
    assert_eq!(
        lines_with(
            &run,
            "[WARN] Pods in namespace camunda can get an IMDSv2 token"
        )
        .len(),
        1
    );
    run.exits(0);
    nothing_left(&world);
}

#[test]
fn cluster_43_database_port_closed() {
    let mut probe = healthy_probe_world(Gen::V8_8);
    probe.open_targets.retain(|t| !t.starts_with(AURORA_HOST));
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.probe(probe))
        .start();
    let run = run(&world, &[]);
    for c in ["identityKeycloak", "identity", "webModeler"] {
        run.stderr_line(&format!(
            "[FAIL] (component={c}) Port 5432 of {AURORA_HOST} is not reachable from namespace camunda (probe of {c}). Hint: Check the security groups of the endpoint and the nodes, the subnets' routes and NetworkPolicies in the namespace."
        ));
    }
    run.exits(43);
    nothing_left(&world);
}

// ---- 86: external Keycloak ----------------------------------------------------------------

/// Keycloak from outside the release (the subchart off, `global.identity.keycloak.url` set).
pub fn external_keycloak_scenario() -> Scenario {
    Scenario::healthy(Gen::V8_8)
        .set("identityKeycloak.enabled", json!(false))
        .set(
            "global.identity.keycloak.url",
            json!({"protocol": "http", "host": "keycloak-service", "port": 18080}),
        )
}

/// The external Keycloak's Service in the namespace.
pub fn keycloak_service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "keycloak-service", "namespace": NAMESPACE},
        "spec": {"ports": [{"port": 18080}]}
    })
}

fn external_keycloak(service: bool, open: bool) -> (Running, Run) {
    let mut spec = external_keycloak_scenario();
    if service {
        spec = spec.objects(|objects| objects.push(keycloak_service()));
    }
    let mut probe = healthy_probe_world(Gen::V8_8);
    if open {
        probe = probe.open("keycloak-service", 18080);
    }
    let world = spec.kube(|k| k.probe(probe)).start();
    let run = run(&world, &["-p", "identityKeycloak,identity,webModeler"]);
    (world, run)
}

#[test]
fn cluster_86_external_keycloak_found_and_reachable() {
    let (world, run) = external_keycloak(true, true);
    run.stdout_line(
        "[OK] (component=identityKeycloak) External Keycloak service 'keycloak-service' found in namespace camunda.",
    );
    run.stdout_line(
        "[OK] (component=identityKeycloak) Port 18080 of keycloak-service is reachable from namespace camunda (probe of identity).",
    );
    run.exits(0);
    nothing_left(&world);
}

#[test]
fn cluster_86_43_external_keycloak_missing_and_closed() {
    let (world, run) = external_keycloak(false, false);
    run.stderr_line(
        "[WARN] (component=identityKeycloak) External Keycloak service 'keycloak-service' not found in namespace camunda. If Keycloak runs in another namespace or behind an external URL this can be ignored.",
    );
    run.stderr_line(
        "[FAIL] (component=identityKeycloak) Port 18080 of keycloak-service is not reachable from namespace camunda (probe of identity). Hint: Check the security groups of the endpoint and the nodes, the subnets' routes and NetworkPolicies in the namespace.",
    );
    run.exits(43);
    nothing_left(&world);
}

// ---- API faults, signals ------------------------------------------------------------------

#[test]
fn cluster_api_server_500_mid_way_still_cleans_up() {
    // The Jobs are created, then every list of jobs (the watches' and the sweep's) fails.
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| {
            k.fault(Fault::internal_error(
                Verb::List,
                "jobs",
                "etcdserver: request timed out",
            ))
        })
        .start();
    let run = run(&world, &[]);
    let suffix = job_suffix(&run, "identity");
    line_starting(
        &run,
        "stderr",
        &format!(
            "[FAIL] (component=identity) The identity probe job irsa-check-identity-{suffix} of identity did not finish: watching it failed: list jobs failed: InternalError: etcdserver: request timed out."
        ),
        "",
    );
    line_starting(
        &run,
        "stderr",
        "[WARN] Could not check that no probe job is left: list jobs failed: InternalError: etcdserver: request timed out. Check with: kubectl get jobs -n camunda -l irsa-check/run=",
        "",
    );
    run.exits(131);
    assert_eq!(count(&world, Verb::Delete, "jobs", false), 5);
    nothing_left(&world);
}

#[test]
fn cluster_api_server_500_on_one_create() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| {
            k.fault(
                Fault::internal_error(Verb::Create, "jobs", "etcdserver: leader changed").times(1),
            )
        })
        .start();
    let run = run(&world, &[]);
    // One Job (whichever was first) was not created: its identity probe and its
    // reachability probes say so with the server's words; the others ran.
    let refused = lines_with(
        &run,
        "create jobs failed: InternalError: etcdserver: leader changed",
    );
    assert!(refused.len() >= 2, "{}", run.stderr);
    assert!(refused.iter().all(|l| l.starts_with("[FAIL] ")));
    assert_eq!(
        lines_with(&run, "Cannot create the identity probe job").len(),
        1
    );
    assert_eq!(lines_with(&run, "A pod under service account").len(), 4);
    run.exits(130);
    assert_eq!(count(&world, Verb::Create, "jobs", false), 5);
    assert_eq!(count(&world, Verb::Delete, "jobs", false), 4);
    nothing_left(&world);
}

fn interrupted(signal: &str, status: i32) {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.job_behaviour(JobBehaviour::NeverFinish))
        .start();
    let child = command(&world, &["--probe-timeout", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the fake has answered every Job creation.
    wait_for(Duration::from_secs(20), || {
        let created = world
            .kube
            .requests()
            .iter()
            .filter(|r| r.verb == Some(Verb::Create) && r.resource == "jobs" && r.status.is_some())
            .count();
        (created == 5).then_some(())
    });
    // The Jobs exist (and so will their pods) when the signal comes.
    assert_eq!(world.kube.list("Job").len(), 5);
    let killed = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = signal.trim_start_matches('-');
    assert!(
        stderr.lines().any(|l| l
            == format!(
                "[FAIL] Interrupted by SIG{name}: deleted 5 probe job(s) irsa-check had created in namespace camunda; exiting with status {status}."
            )),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(status), "{stderr}");
    nothing_left(&world);
}

#[test]
fn cluster_sigint_while_probes_run_deletes_every_job() {
    interrupted("-INT", 130);
}

#[test]
fn cluster_sigterm_while_probes_run_deletes_every_job() {
    interrupted("-TERM", 143);
}

#[test]
fn cluster_probe_jobs_follow_the_flags_and_pass_pod_security_restricted() {
    let world = Scenario::healthy(Gen::V8_8)
        .kube(|k| k.job_delay(Duration::from_millis(1500)))
        .start();
    let child = command(
        &world,
        &[
            "--probe-image",
            "registry.example.com/mirror/aws-cli:2.22.35",
            "--probe-timeout",
            "30",
            "--image-pull-secret",
            "regcred",
            "--node-selector",
            "kubernetes.io/os=linux",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let job = wait_for(Duration::from_secs(20), || {
        world.kube.list("Job").into_iter().find(|j| {
            j["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("irsa-check-identity-") && n.len() == 25)
        })
    });
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let labels = &job["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "irsa-check");
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 0);
    assert_eq!(spec["activeDeadlineSeconds"], 30);
    assert_eq!(spec["ttlSecondsAfterFinished"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(
        spec["template"]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "irsa-check"
    );
    assert_eq!(pod["serviceAccountName"], "identity-sa");
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["imagePullSecrets"], json!([{"name": "regcred"}]));
    assert_eq!(pod["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
    // Pod Security "restricted": non-root with a numeric user, seccomp, no escalation,
    // all capabilities dropped; fsGroup so the projected token is readable.
    let psc = &pod["securityContext"];
    assert_eq!(psc["runAsNonRoot"], true);
    assert!(psc["runAsUser"].as_i64().unwrap() > 0);
    assert!(psc["fsGroup"].as_i64().is_some());
    assert_eq!(psc["seccompProfile"]["type"], "RuntimeDefault");
    let container = &pod["containers"][0];
    assert_eq!(
        container["image"],
        "registry.example.com/mirror/aws-cli:2.22.35"
    );
    assert_eq!(container["command"][0], "/bin/bash");
    let csc = &container["securityContext"];
    assert_eq!(csc["allowPrivilegeEscalation"], false);
    assert_eq!(csc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(csc["runAsNonRoot"], true);
    assert!(container["resources"]["requests"]["memory"].is_string());
    assert!(container["resources"]["limits"]["memory"].is_string());
    let env: Vec<(String, String)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(env.contains(&("IRSA_CHECK_STS".into(), "1".into())));
    assert!(env.contains(&("IRSA_CHECK_TCP".into(), format!("{AURORA_HOST}:5432"))));
    assert!(env.contains(&("IRSA_CHECK_IMDS".into(), "1".into())));
    // HOME on a writable emptyDir: the root filesystem is read-only.
    let home = env.iter().find(|(k, _)| k == "HOME").unwrap().1.clone();
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == home.as_str())
        .expect("HOME is a mounted volume");
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    assert!(volume["emptyDir"].is_object());
    nothing_left(&world);
}
