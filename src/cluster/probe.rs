//! Probe jobs (unless `-s`): one Job per component that shows what a pod under the
//! component's service account really gets (the caller identity), whether it reaches the
//! component's database or OpenSearch endpoint, and whether it can reach IMDS.
//!
//! The protocol between the Job's script and the log parser is PROBE.md's. Every Job
//! this run creates is deleted before it returns (with Background propagation, so the
//! pods go too): on success, failure, timeout, API error, and on SIGINT/SIGTERM, after
//! which the process exits 130/143.

use crate::chart::Component;
use crate::checks::probe_log::{self, ProbeLog};
use crate::cli::Args;
use crate::facts::ApiError;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams, LogParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

pub const MANAGED_BY_KEY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "irsa-check";
/// Every object of one run carries the run's id, so a sweep finds Jobs whose create
/// answer was lost.
pub const RUN_LABEL: &str = "irsa-check/run";
pub const COMPONENT_LABEL: &str = "irsa-check/component";
/// A numeric non-root user: the kubelet can only enforce `runAsNonRoot` for an image
/// whose user is a number, and the AWS CLI image runs as root by default.
pub const PROBE_USER: i64 = 10001;
/// Finished Jobs go away by themselves even if this process is killed (SIGKILL).
pub const TTL_AFTER_FINISHED_SECONDS: i64 = 600;
const CONTAINER: &str = "probe";
const LOG_LIMIT_BYTES: i64 = 64 * 1024;
/// After a signal, how long creates already sent may still answer.
const CREATE_GRACE: Duration = Duration::from_secs(10);
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on each call made after the deadline (to say why a Job did not finish).
const DIAGNOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The probe script (PROBE.md): bash, coreutils `timeout` and the AWS CLI, nothing else.
/// It always exits 0; the results are in its log.
pub const SCRIPT: &str = r#"set -f
say() { printf 'irsa-check-probe: %s\n' "$*"; }
if [ "${IRSA_CHECK_STS:-}" = 1 ]; then
  say sts begin
  timeout 60 aws sts get-caller-identity --output json 2>&1
  say "sts end rc=$?"
fi
for target in ${IRSA_CHECK_TCP:-}; do
  host=${target%:*}
  port=${target##*:}
  if timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    say tcp "$host" "$port" open
  else
    say tcp "$host" "$port" closed
  fi
done
if [ "${IRSA_CHECK_IMDS:-}" = 1 ]; then
  if timeout 2 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80 || exit 1
    printf "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" >&3
    IFS= read -r status <&3
    case "$status" in "HTTP/1."?" 200"*) exit 0 ;; esac
    exit 1' 2>/dev/null; then
    say imds token
  else
    say imds no-token
  fi
fi
say done
exit 0
"#;

/// `identityKeycloak` → `identity-keycloak`: a component in resource names.
pub fn kebab(component: Component) -> String {
    let mut out = String::new();
    for c in component.key().chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The pod security context of every pod irsa-check creates: Pod Security "restricted".
pub fn restricted_pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": PROBE_USER,
        "runAsGroup": PROBE_USER,
        // The projected token is readable by the group.
        "fsGroup": PROBE_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// The container security context of every pod irsa-check creates.
pub fn restricted_security() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": PROBE_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// How the probe Jobs are made (from the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSettings {
    pub namespace: String,
    pub image: String,
    pub timeout: Duration,
    pub image_pull_secrets: Vec<String>,
    pub node_selector: Vec<(String, String)>,
}

impl ProbeSettings {
    /// `--probe-image`, `--probe-timeout`, `--image-pull-secret`, `--node-selector`.
    pub fn from_args(args: &Args, namespace: &str) -> ProbeSettings {
        ProbeSettings {
            namespace: namespace.to_string(),
            image: args.probe_image.clone(),
            timeout: args.probe_timeout(),
            image_pull_secrets: args.image_pull_secret.clone(),
            node_selector: args.node_selector.clone(),
        }
    }
}

/// One probe Job to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeRequest {
    /// The component it runs for (`None`: a reachability-only Job under `default`).
    pub component: Option<Component>,
    pub service_account: String,
    /// Run `aws sts get-caller-identity`.
    pub sts: bool,
    /// `host:port` targets to open TCP connections to.
    pub tcp: Vec<(String, u16)>,
    pub imds: bool,
}

impl ProbeRequest {
    fn slug(&self) -> String {
        self.component.map_or_else(|| "reach".to_string(), kebab)
    }
}

/// What became of one probe Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The create was refused (403, quota, admission) or never answered.
    NotCreated(ApiError),
    /// Created, but it did not complete: why (timeout, `BackoffLimitExceeded`, the
    /// pod's waiting reason, an API error while watching).
    NotFinished(String),
    /// Completed, but its log could not be read.
    LogUnreadable(ApiError),
    Finished(ProbeLog),
}

/// One probe Job and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    pub request: ProbeRequest,
    pub job: String,
    pub outcome: ProbeOutcome,
}

/// The Job for a request.
pub fn job_manifest(
    name: &str,
    run_id: &str,
    request: &ProbeRequest,
    settings: &ProbeSettings,
) -> Job {
    let mut labels = serde_json::Map::new();
    labels.insert(MANAGED_BY_KEY.into(), json!(MANAGED_BY_VALUE));
    labels.insert("app.kubernetes.io/name".into(), json!("irsa-check-probe"));
    labels.insert(RUN_LABEL.into(), json!(run_id));
    labels.insert(COMPONENT_LABEL.into(), json!(request.slug()));
    let mut env = vec![
        json!({"name": "HOME", "value": "/tmp"}),
        json!({"name": "AWS_PAGER", "value": ""}),
    ];
    if request.sts {
        env.push(json!({"name": "IRSA_CHECK_STS", "value": "1"}));
    }
    if !request.tcp.is_empty() {
        let targets: Vec<String> = request
            .tcp
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect();
        env.push(json!({"name": "IRSA_CHECK_TCP", "value": targets.join(" ")}));
    }
    if request.imds {
        env.push(json!({"name": "IRSA_CHECK_IMDS", "value": "1"}));
    }
    let timeout = i64::try_from(settings.timeout.as_secs()).unwrap_or(i64::MAX);
    let mut pod_spec = json!({
        "serviceAccountName": request.service_account,
        "restartPolicy": "Never",
        // The probe talks to AWS, not to the Kubernetes API.
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "securityContext": restricted_pod_security(),
        "containers": [{
            "name": CONTAINER,
            "image": settings.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["/bin/bash", "-c", SCRIPT],
            "env": env,
            "resources": {
                "requests": {"cpu": "50m", "memory": "64Mi"},
                "limits": {"cpu": "500m", "memory": "256Mi"},
            },
            "securityContext": restricted_security(),
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
        }],
        // HOME (the CLI's cache) on a writable volume; the root filesystem is read-only.
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}],
    });
    if !settings.image_pull_secrets.is_empty() {
        pod_spec["imagePullSecrets"] = settings
            .image_pull_secrets
            .iter()
            .map(|s| json!({"name": s}))
            .collect();
    }
    if !settings.node_selector.is_empty() {
        pod_spec["nodeSelector"] = settings
            .node_selector
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": settings.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": timeout,
            "ttlSecondsAfterFinished": TTL_AFTER_FINISHED_SECONDS,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    });
    // The JSON above is a valid Job by construction (a unit test holds it to that).
    serde_json::from_value(job).unwrap_or_default()
}

/// A short random suffix in the alphabet Kubernetes uses for generated names.
pub fn random_suffix(len: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut out = String::new();
    while out.len() < len {
        // RandomState is seeded randomly per process and per instance.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        let mut n = hasher.finish();
        for _ in 0..8 {
            if out.len() == len {
                break;
            }
            out.push(char::from(ALPHABET[(n % ALPHABET.len() as u64) as usize]));
            n /= ALPHABET.len() as u64;
        }
    }
    out
}

/// A signal that stops the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }

    /// 128 + the signal number, as shells report it.
    pub fn exit_status(self) -> i32 {
        match self {
            Interrupt::Int => 130,
            Interrupt::Term => 143,
        }
    }
}

/// SIGINT and SIGTERM, caught while probe Jobs exist.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next signal; pending forever when none can be caught.
    async fn recv(&mut self) -> Interrupt {
        #[cfg(unix)]
        {
            async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
                if let Some(s) = signal
                    && s.recv().await.is_some()
                {
                    return;
                }
                std::future::pending().await
            }
            let Signals { int, term } = self;
            tokio::select! {
                _ = next(int) => Interrupt::Int,
                _ = next(term) => Interrupt::Term,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => Interrupt::Int,
                Err(_) => std::future::pending().await,
            }
        }
    }
}

/// Run the probe Jobs: create them all, wait for all (a watch per Job, bounded by the
/// probe timeout), read their logs, and delete every Job created. On SIGINT/SIGTERM the
/// Jobs are deleted and the process exits 130/143.
pub async fn run(
    client: &kube::Client,
    settings: &ProbeSettings,
    requests: Vec<ProbeRequest>,
) -> Vec<ProbeResult> {
    if requests.is_empty() {
        return Vec::new();
    }
    let mut signals = Signals::install();
    let namespace = settings.namespace.as_str();
    let jobs: Api<Job> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let run_id = random_suffix(10);
    let deadline = Instant::now() + settings.timeout;
    let names: Vec<String> = requests
        .iter()
        .map(|r| format!("irsa-check-{}-{}", r.slug(), random_suffix(5)))
        .collect();
    let mut outcomes: Vec<Option<ProbeOutcome>> = vec![None; requests.len()];
    let mut created: Vec<usize> = Vec::new();
    let mut interrupted: Option<Interrupt> = None;

    // 1. Create every Job at once. Creates already sent are waited for even after a
    //    signal (briefly): a Job the server stored must be known to be deleted.
    let mut creating = JoinSet::new();
    for (i, request) in requests.iter().enumerate() {
        let manifest = job_manifest(&names[i], &run_id, request, settings);
        let api = jobs.clone();
        crate::log::call(format!(
            "POST /apis/batch/v1/namespaces/{namespace}/jobs (create job {})",
            names[i]
        ));
        creating.spawn(async move {
            let answer = api.create(&PostParams::default(), &manifest).await;
            (i, answer.map(|_| ()))
        });
    }
    let grace = tokio::time::sleep_until(deadline);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            joined = creating.join_next() => match joined {
                None => break,
                Some(Ok((i, Ok(())))) => created.push(i),
                Some(Ok((i, Err(e)))) => {
                    outcomes[i] = Some(ProbeOutcome::NotCreated(super::api_error("create jobs", e)));
                }
                // A create task cannot panic; if it did, its Job is found by the sweep.
                Some(Err(_)) => {}
            },
            signal = signals.recv(), if interrupted.is_none() => {
                interrupted = Some(signal);
                grace.as_mut().reset(Instant::now() + CREATE_GRACE);
            }
            _ = &mut grace => {
                creating.abort_all();
                break;
            }
        }
    }
    for (i, outcome) in outcomes.iter_mut().enumerate() {
        if outcome.is_none() && !created.contains(&i) {
            *outcome = Some(ProbeOutcome::NotCreated(ApiError::new(
                "create jobs",
                None,
                "the API server did not answer the create in time",
            )));
        }
    }

    // 2. Wait for the Jobs and read their logs.
    if interrupted.is_none() && !created.is_empty() {
        let finished = Arc::new(AtomicUsize::new(0));
        let progress = spawn_progress(created.len(), Arc::clone(&finished), settings.timeout);
        let mut waiting = JoinSet::new();
        for &i in &created {
            let (jobs, pods, name) = (jobs.clone(), pods.clone(), names[i].clone());
            let timeout = settings.timeout;
            waiting.spawn(async move { (i, watch_job(jobs, pods, name, deadline, timeout).await) });
        }
        loop {
            tokio::select! {
                joined = waiting.join_next() => match joined {
                    None => break,
                    Some(Ok((i, outcome))) => {
                        outcomes[i] = Some(outcome);
                        finished.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Err(_)) => {}
                },
                signal = signals.recv() => {
                    interrupted = Some(signal);
                    waiting.abort_all();
                    break;
                }
            }
        }
        if let Some(progress) = progress {
            progress.abort();
            eprint!("\r\x1b[2K");
        }
    }

    // 3. Delete every Job created (a second signal gives up on that, and says so).
    let created_names: Vec<String> = created.iter().map(|&i| names[i].clone()).collect();
    let (deleted, problems) = tokio::select! {
        done = cleanup(&jobs, namespace, &created_names, &run_id) => done,
        signal = signals.recv() => {
            eprintln!(
                "[WARN] Interrupted by {} again: probe jobs may be left; delete them with: kubectl delete jobs -n {namespace} -l {RUN_LABEL}={run_id} --cascade=background",
                signal.name()
            );
            std::process::exit(signal.exit_status());
        }
    };
    for problem in &problems {
        eprintln!("[WARN] {problem}");
    }
    if let Some(signal) = interrupted {
        eprintln!(
            "[FAIL] Interrupted by {}: deleted {deleted} probe job(s) irsa-check had created in namespace {namespace}; exiting with status {}.",
            signal.name(),
            signal.exit_status()
        );
        std::process::exit(signal.exit_status());
    }
    // The handlers stay installed for the rest of the process: from here on a signal
    // ends the run at once (nothing is left to clean up).
    tokio::spawn(async move {
        let signal = signals.recv().await;
        eprintln!("[FAIL] Interrupted by {}; exiting.", signal.name());
        std::process::exit(signal.exit_status());
    });

    requests
        .into_iter()
        .zip(names)
        .zip(outcomes)
        .map(|((request, job), outcome)| ProbeResult {
            request,
            job,
            outcome: outcome.unwrap_or_else(|| {
                ProbeOutcome::NotFinished("the wait for it was cut short".to_string())
            }),
        })
        .collect()
}

/// The progress line on stderr, only when stderr is a terminal.
fn spawn_progress(
    total: usize,
    finished: Arc<AtomicUsize>,
    timeout: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let started = Instant::now();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            eprint!(
                "\r\x1b[2K[INFO] Waiting for {total} probe job(s): {} finished ({} s of {} s)",
                finished.load(Ordering::Relaxed),
                started.elapsed().as_secs(),
                timeout.as_secs()
            );
        }
    }))
}

/// How a Job ended, from its conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobEnd {
    Complete,
    Failed { reason: String, message: String },
}

/// How the Job ended, if it did (its `Complete` or `Failed` condition).
pub fn job_end(job: &Job) -> Option<JobEnd> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    conditions
        .iter()
        .filter(|c| c.status == "True")
        .find_map(|c| match c.type_.as_str() {
            "Complete" => Some(JobEnd::Complete),
            "Failed" => Some(JobEnd::Failed {
                reason: c.reason.clone().unwrap_or_default(),
                message: c.message.clone().unwrap_or_default(),
            }),
            _ => None,
        })
}

/// Wait (a watch) until the Job ends or the deadline passes; then read its log or say
/// why it did not finish.
async fn watch_job(
    jobs: Api<Job>,
    pods: Api<Pod>,
    name: String,
    deadline: Instant,
    timeout: Duration,
) -> ProbeOutcome {
    crate::log::call(format!("WATCH jobs {name} (until it completes or fails)"));
    let ended = |job: Option<&Job>| job.is_none_or(|j| job_end(j).is_some());
    let waited = tokio::time::timeout_at(deadline, await_condition(jobs, &name, ended)).await;
    match waited {
        Err(_) => {
            let state = bounded(pod_state(&pods, &name)).await.unwrap_or_default();
            ProbeOutcome::NotFinished(format!(
                "it did not finish within {} s{state}",
                timeout.as_secs()
            ))
        }
        Ok(Err(e)) => ProbeOutcome::NotFinished(format!("watching it failed: {}", watch_error(e))),
        Ok(Ok(None)) => ProbeOutcome::NotFinished("it was deleted before it finished".to_string()),
        Ok(Ok(Some(job))) => match job_end(&job) {
            Some(JobEnd::Failed { reason, message }) => {
                let state = bounded(pod_state(&pods, &name)).await.unwrap_or_default();
                let log = match bounded(read_log(&pods, &name)).await {
                    Some(Ok(log)) => match probe_log::parse(&log).first_line {
                        Some(line) => format!("; its log starts with: {line}"),
                        None => String::new(),
                    },
                    _ => String::new(),
                };
                let reason = if reason.is_empty() {
                    "Failed".to_string()
                } else {
                    reason
                };
                let message = if message.is_empty() {
                    String::new()
                } else {
                    format!(" ({message})")
                };
                ProbeOutcome::NotFinished(format!("it failed: {reason}{message}{state}{log}"))
            }
            _ => match bounded(read_log(&pods, &name)).await {
                Some(Ok(log)) => ProbeOutcome::Finished(probe_log::parse(&log)),
                Some(Err(e)) => ProbeOutcome::LogUnreadable(e),
                None => ProbeOutcome::LogUnreadable(ApiError::new(
                    "get pods/log",
                    None,
                    "the API server did not answer in time",
                )),
            },
        },
    }
}

async fn bounded<T>(future: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(DIAGNOSE_TIMEOUT, future).await.ok()
}

/// `kube::runtime` errors wrap the API server's answer: show it like any API error.
fn watch_error(error: kube::runtime::wait::Error) -> ApiError {
    use kube::runtime::watcher::Error as W;
    let kube::runtime::wait::Error::ProbeFailed(inner) = error;
    match inner {
        W::InitialListFailed(e) => super::api_error("list jobs", e),
        W::WatchStartFailed(e) | W::WatchFailed(e) => super::api_error("watch jobs", e),
        W::WatchError(status) => ApiError::new(
            "watch jobs",
            Some(status.reason.clone()),
            status.message.clone(),
        ),
        other => ApiError::new("watch jobs", None, other.to_string()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn job_pods(pods: &Api<Pod>, job: &str) -> Result<Vec<Pod>, ApiError> {
    crate::log::call(format!("GET pods?labelSelector=job-name={job} (list pods)"));
    pods.list(&ListParams::default().labels(&format!("job-name={job}")))
        .await
        .map(|l| l.items)
        .map_err(|e| super::api_error("list pods", e))
}

/// What the Job's pod is doing, as a clause for a message (`; pod P is waiting:
/// ImagePullBackOff (…)`), or nothing when it cannot be told.
async fn pod_state(pods: &Api<Pod>, job: &str) -> String {
    match job_pods(pods, job).await {
        Ok(list) => describe_pods(&list),
        Err(_) => String::new(),
    }
}

/// The clause [`pod_state`] builds, from the Job's pods.
pub fn describe_pods(list: &[Pod]) -> String {
    let Some(pod) = list.last() else {
        return "; no pod was created for it (admission may have refused it: see the Job's events)"
            .to_string();
    };
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    for c in status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
    {
        let Some(state) = &c.state else { continue };
        if let Some(waiting) = &state.waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            let message = waiting
                .message
                .as_deref()
                .map(|m| format!(" ({})", one_line(m)))
                .unwrap_or_default();
            return format!("; pod {name} is waiting: {reason}{message}");
        }
        if let Some(t) = &state.terminated {
            let reason = t.reason.clone().unwrap_or_default();
            return format!(
                "; its container exited with code {} ({reason}) in pod {name}",
                t.exit_code
            );
        }
    }
    let unschedulable = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False");
    if let Some(c) = unschedulable {
        let message = c.message.as_deref().map(one_line).unwrap_or_default();
        return format!(
            "; pod {name} is not scheduled: {} {message}",
            c.reason.clone().unwrap_or_default()
        )
        .trim_end()
        .to_string();
    }
    if phase.is_empty() {
        format!("; pod {name} has no status yet")
    } else {
        format!("; pod {name} is {phase}")
    }
}

async fn read_log(pods: &Api<Pod>, job: &str) -> Result<String, ApiError> {
    let list = job_pods(pods, job).await?;
    // backoffLimit 0: one pod, unless the controller replaced a lost one.
    let pod = list
        .iter()
        .rev()
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
        .or_else(|| list.last())
        .and_then(|p| p.metadata.name.clone())
        .ok_or_else(|| ApiError::new("get pods/log", None, format!("job {job} has no pod")))?;
    crate::log::call(format!("GET pods/{pod}/log (read the probe's log)"));
    let params = LogParams {
        container: Some(CONTAINER.to_string()),
        limit_bytes: Some(LOG_LIMIT_BYTES),
        ..LogParams::default()
    };
    pods.logs(&pod, &params)
        .await
        .map_err(|e| super::api_error(format!("get pods/log {pod}"), e))
}

/// Delete the Jobs (Background propagation: their pods go too), then sweep the run's
/// label for Jobs whose create answer was lost. Returns how many Jobs were deleted and
/// what could not be cleaned up, as messages for the user.
async fn cleanup(
    jobs: &Api<Job>,
    namespace: &str,
    created: &[String],
    run_id: &str,
) -> (usize, Vec<String>) {
    let work = async {
        let mut deleted = 0;
        let mut problems = Vec::new();
        let mut deleting = JoinSet::new();
        for name in created {
            let (api, name) = (jobs.clone(), name.clone());
            crate::log::call(format!("DELETE jobs/{name} (propagationPolicy=Background)"));
            deleting.spawn(async move {
                let answer = api.delete(&name, &DeleteParams::background()).await;
                (name, answer.map(|_| ()))
            });
        }
        let mut done: BTreeSet<String> = BTreeSet::new();
        while let Some(joined) = deleting.join_next().await {
            let Ok((name, answer)) = joined else { continue };
            match answer {
                Ok(()) => deleted += 1,
                // Already gone.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => {
                    let e = super::api_error("delete jobs", e);
                    problems.push(format!(
                        "Could not delete probe job {namespace}/{name}: {e}. Delete it with: kubectl delete job {name} -n {namespace} --cascade=background"
                    ));
                }
            }
            done.insert(name);
        }
        let selector = format!("{RUN_LABEL}={run_id}");
        crate::log::call(format!("GET jobs?labelSelector={selector} (list jobs)"));
        match jobs.list(&ListParams::default().labels(&selector)).await {
            Ok(list) => {
                for job in list.items {
                    let Some(name) = job.metadata.name else { continue };
                    if done.contains(&name) {
                        continue;
                    }
                    crate::log::call(format!(
                        "DELETE jobs/{name} (propagationPolicy=Background)"
                    ));
                    match jobs.delete(&name, &DeleteParams::background()).await {
                        Ok(_) => deleted += 1,
                        Err(kube::Error::Api(status)) if status.code == 404 => {}
                        Err(e) => problems.push(format!(
                            "Could not delete probe job {namespace}/{name}: {}. Delete it with: kubectl delete job {name} -n {namespace} --cascade=background",
                            super::api_error("delete jobs", e)
                        )),
                    }
                }
            }
            Err(e) => problems.push(format!(
                "Could not check that no probe job is left: {}. Check with: kubectl get jobs -n {namespace} -l {selector}",
                super::api_error("list jobs", e)
            )),
        }
        (deleted, problems)
    };
    match tokio::time::timeout(CLEANUP_TIMEOUT, work).await {
        Ok(done) => done,
        Err(_) => (
            0,
            vec![format!(
                "Deleting the probe jobs took longer than {} s; check with: kubectl get jobs -n {namespace} -l {RUN_LABEL}={run_id}",
                CLEANUP_TIMEOUT.as_secs()
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::probe_log::CallerIdentity;

    fn settings() -> ProbeSettings {
        ProbeSettings {
            namespace: "camunda".into(),
            image: "public.ecr.aws/aws-cli/aws-cli:2.22.35".into(),
            timeout: Duration::from_secs(120),
            image_pull_secrets: vec!["regcred".into()],
            node_selector: vec![("kubernetes.io/os".into(), "linux".into())],
        }
    }

    #[test]
    fn names_and_suffixes() {
        assert_eq!(kebab(Component::IdentityKeycloak), "identity-keycloak");
        assert_eq!(kebab(Component::WebModeler), "web-modeler");
        assert_eq!(kebab(Component::Zeebe), "zeebe");
        let a = random_suffix(5);
        let b = random_suffix(5);
        assert_eq!(a.len(), 5);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(random_suffix(20).len(), 20);
    }

    #[test]
    fn the_job_is_restricted_bounded_and_labelled() {
        let request = ProbeRequest {
            component: Some(Component::Identity),
            service_account: "identity-sa".into(),
            sts: true,
            tcp: vec![("db.example.com".into(), 5432), ("os".into(), 443)],
            imds: true,
        };
        let job = job_manifest("irsa-check-identity-abcde", "run1", &request, &settings());
        assert_eq!(
            job.metadata.name.as_deref(),
            Some("irsa-check-identity-abcde")
        );
        let labels = job.metadata.labels.clone().unwrap();
        assert_eq!(labels["app.kubernetes.io/managed-by"], "irsa-check");
        assert_eq!(labels["irsa-check/run"], "run1");
        let spec = job.spec.unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        assert_eq!(spec.active_deadline_seconds, Some(120));
        assert_eq!(spec.ttl_seconds_after_finished, Some(600));
        let template = spec.template;
        assert_eq!(
            template.metadata.unwrap().labels.unwrap()["app.kubernetes.io/managed-by"],
            "irsa-check"
        );
        let pod = template.spec.unwrap();
        assert_eq!(pod.service_account_name.as_deref(), Some("identity-sa"));
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.image_pull_secrets.unwrap()[0].name, "regcred");
        assert_eq!(pod.node_selector.unwrap()["kubernetes.io/os"], "linux");
        let psc = pod.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(psc.run_as_user, Some(PROBE_USER));
        assert_eq!(psc.fs_group, Some(PROBE_USER));
        assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let c = &pod.containers[0];
        assert_eq!(
            c.image.as_deref(),
            Some("public.ecr.aws/aws-cli/aws-cli:2.22.35")
        );
        assert_eq!(
            c.command.as_deref(),
            Some(
                &[
                    "/bin/bash".to_string(),
                    "-c".to_string(),
                    SCRIPT.to_string()
                ][..]
            )
        );
        let sc = c.security_context.clone().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
        assert_eq!(sc.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let resources = c.resources.clone().unwrap();
        assert!(resources.requests.unwrap().contains_key("memory"));
        assert!(resources.limits.unwrap().contains_key("cpu"));
        let env: Vec<(String, String)> = c
            .env
            .clone()
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value.unwrap_or_default()))
            .collect();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("IRSA_CHECK_STS"), Some("1"));
        assert_eq!(get("IRSA_CHECK_TCP"), Some("db.example.com:5432 os:443"));
        assert_eq!(get("IRSA_CHECK_IMDS"), Some("1"));
        assert_eq!(get("HOME"), Some("/tmp"));
        assert_eq!(c.volume_mounts.clone().unwrap()[0].mount_path, "/tmp");
        assert!(pod.volumes.unwrap()[0].empty_dir.is_some());

        // A reachability-only job: no STS, no TCP list when there is none.
        let reach = ProbeRequest {
            component: None,
            service_account: "default".into(),
            sts: false,
            tcp: vec![],
            imds: false,
        };
        let mut plain = settings();
        plain.image_pull_secrets.clear();
        plain.node_selector.clear();
        let job = job_manifest("irsa-check-reach-x", "r", &reach, &plain);
        let pod = job.spec.unwrap().template.spec.unwrap();
        assert!(pod.image_pull_secrets.is_none() && pod.node_selector.is_none());
        let names: Vec<String> = pod.containers[0]
            .env
            .clone()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, vec!["HOME", "AWS_PAGER"]);
    }

    #[test]
    fn job_ends_from_conditions() {
        let job = |conditions: Value| -> Job {
            serde_json::from_value(json!({"status": {"conditions": conditions}})).unwrap()
        };
        assert_eq!(job_end(&Job::default()), None);
        assert_eq!(
            job_end(&job(
                json!([{"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}])
            )),
            Some(JobEnd::Complete)
        );
        assert_eq!(
            job_end(&job(
                json!([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}])
            )),
            Some(JobEnd::Failed {
                reason: "DeadlineExceeded".into(),
                message: "Job was active longer than specified deadline".into()
            })
        );
        assert_eq!(
            job_end(&job(json!([{"type": "Complete", "status": "False"}]))),
            None
        );
    }

    #[test]
    fn pod_states_are_described() {
        let pod = |v: Value| -> Pod { serde_json::from_value(v).unwrap() };
        assert!(describe_pods(&[]).contains("no pod was created"));
        let waiting = pod(json!({
            "metadata": {"name": "p1"},
            "status": {"phase": "Pending", "containerStatuses": [{
                "name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"i\""}}
            }]}
        }));
        assert_eq!(
            describe_pods(&[waiting]),
            "; pod p1 is waiting: ImagePullBackOff (Back-off pulling image \"i\")"
        );
        let exited = pod(json!({
            "metadata": {"name": "p2"},
            "status": {"phase": "Failed", "containerStatuses": [{
                "name": "probe", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 127, "reason": "Error"}}
            }]}
        }));
        assert_eq!(
            describe_pods(&[exited]),
            "; its container exited with code 127 (Error) in pod p2"
        );
        let unscheduled = pod(json!({
            "metadata": {"name": "p3"},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."}]}
        }));
        assert_eq!(
            describe_pods(&[unscheduled]),
            "; pod p3 is not scheduled: Unschedulable 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."
        );
        let running = pod(json!({"metadata": {"name": "p4"}, "status": {"phase": "Running"}}));
        assert_eq!(describe_pods(&[running]), "; pod p4 is Running");
        let bare = pod(json!({"metadata": {"name": "p5"}}));
        assert_eq!(describe_pods(&[bare]), "; pod p5 has no status yet");
    }

    /// The script itself, run by the local bash with a stand-in `aws` on PATH: TCP to a
    /// listening and a closed loopback port (IMDS is not tried: loopback only).
    #[test]
    fn the_script_prints_the_protocol() {
        if std::process::Command::new("bash")
            .arg("-c")
            .arg("command -v timeout")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            eprintln!("skipped: no bash with timeout");
            return;
        }
        let dir = std::env::temp_dir().join(format!("irsa-check-script-{}", random_suffix(8)));
        std::fs::create_dir_all(&dir).unwrap();
        let aws = dir.join("aws");
        std::fs::write(
            &aws,
            "#!/bin/sh\necho\necho 'An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity' >&2\nexit 254\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open_port = open.local_addr().unwrap().port();
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let path = format!(
            "{}:{}",
            dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(SCRIPT)
            .env("PATH", path)
            .env("IRSA_CHECK_STS", "1")
            .env(
                "IRSA_CHECK_TCP",
                format!("127.0.0.1:{open_port} 127.0.0.1:{closed_port}"),
            )
            .env_remove("IRSA_CHECK_IMDS")
            .output()
            .unwrap();
        drop(open);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text,
            format!(
                "irsa-check-probe: sts begin\n\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\nirsa-check-probe: sts end rc=254\nirsa-check-probe: tcp 127.0.0.1 {open_port} open\nirsa-check-probe: tcp 127.0.0.1 {closed_port} closed\nirsa-check-probe: done\n"
            )
        );
        let log = probe_log::parse(&text);
        assert_eq!(log.tcp_result("127.0.0.1", open_port), Some(true));
        assert_eq!(log.tcp_result("127.0.0.1", closed_port), Some(false));
        assert!(matches!(
            log.sts.unwrap().caller_identity(),
            CallerIdentity::NotJson { .. }
        ));
    }
}
