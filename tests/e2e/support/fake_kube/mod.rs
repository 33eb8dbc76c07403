//! An in-process fake Kubernetes API server for the end-to-end tests: real HTTP/1.1
//! and JSON on 127.0.0.1, reached by the real `kube` client through a kubeconfig.
//!
//! It keeps objects in memory and serves get/list/watch/create/delete (with dry-run,
//! selectors, pagination and deletion propagation) for the kinds the tool touches,
//! admits pods like kube-apiserver on EKS (ServiceAccount plugin, pod identity
//! webhook), runs probe Jobs (a pod that logs what PROBE.md's script would print in
//! the configured [`ProbeWorld`]), injects faults per route, and records every
//! request with its RBAC attributes.
//!
//! ```ignore
//! let kube = FakeKube::start(FakeConfig::default().objects(world_objects));
//! Command::cargo_bin("irsa-check")?.env("KUBECONFIG", kube.kubeconfig_path())…
//! ```

#![allow(dead_code)]

mod admission;
mod faults;
mod http;
mod jobs;
mod kubeconfig;
mod requests;
mod selector;
mod server;
mod state;
mod status;
mod store;
mod watch;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

// The handle's vocabulary for the scenario tests; not every name is used by every build.
#[allow(unused_imports)]
pub use admission::{ROLE_ARN_ANNOTATION, TOKEN_FILE, TOKEN_MOUNT_PATH, TOKEN_VOLUME};
#[allow(unused_imports)]
pub use faults::{FAKE_USER, Fault, FaultAction};
#[allow(unused_imports)]
pub use jobs::{
    AwsCliStyle, JobBehaviour, ProbeWorld, RoleTrust, SESSION_NAME, caller_identity, probe_log,
};
#[allow(unused_imports)]
pub use kubeconfig::{KubeAuth, eks_token};
#[allow(unused_imports)]
pub use requests::{RecordedRequest, Verb};

use selector::LabelSelector;
use state::{Settings, Shared};
use store::{Resource, labels_of, resource_by_kind, resource_of, str_at};

/// The token of [`KubeAuth::Token`] by default.
pub const DEFAULT_TOKEN: &str = "fake-kube-token";

/// How to start a [`FakeKube`]. Every field has a default; build with the methods.
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Objects present at start (apiVersion/kind/metadata; missing uid,
    /// creationTimestamp and namespace (`default`) are filled in).
    pub objects: Vec<Value>,
    /// The simulated EKS pod identity webhook (on by default).
    pub webhook: bool,
    /// The region the webhook injects.
    pub region: String,
    pub auth: KubeAuth,
    /// The kubeconfig context's namespace.
    pub namespace: Option<String>,
    /// How long a probe pod "runs" before it finishes.
    pub job_delay: Duration,
    pub job_behaviour: JobBehaviour,
    /// Per service account name, overriding `job_behaviour`.
    pub job_behaviour_by_service_account: BTreeMap<String, JobBehaviour>,
    pub probe: ProbeWorld,
    pub faults: Vec<Fault>,
    /// Watches with allowWatchBookmarks get a BOOKMARK this often.
    pub bookmark_interval: Duration,
    /// `/version`'s gitVersion.
    pub server_version: String,
}

impl Default for FakeConfig {
    fn default() -> FakeConfig {
        FakeConfig {
            objects: Vec::new(),
            webhook: true,
            region: crate::support::spec::REGION.to_string(),
            auth: KubeAuth::Token(DEFAULT_TOKEN.to_string()),
            namespace: None,
            job_delay: Duration::from_millis(50),
            job_behaviour: JobBehaviour::Complete,
            job_behaviour_by_service_account: BTreeMap::new(),
            probe: ProbeWorld::default(),
            faults: Vec::new(),
            bookmark_interval: Duration::from_secs(1),
            server_version: "v1.30.6-eks-7f9249a".to_string(),
        }
    }
}

impl FakeConfig {
    pub fn objects(mut self, objects: impl IntoIterator<Item = Value>) -> FakeConfig {
        self.objects.extend(objects);
        self
    }

    pub fn object(mut self, object: Value) -> FakeConfig {
        self.objects.push(object);
        self
    }

    pub fn webhook(mut self, on: bool) -> FakeConfig {
        self.webhook = on;
        self
    }

    pub fn region(mut self, region: &str) -> FakeConfig {
        self.region = region.to_string();
        self
    }

    pub fn token(mut self, token: &str) -> FakeConfig {
        self.auth = KubeAuth::Token(token.to_string());
        self
    }

    /// Authenticate through `aws eks get-token` (the fake writes the `aws` script).
    pub fn aws_exec(mut self, cluster_name: &str, region: &str) -> FakeConfig {
        self.auth = KubeAuth::AwsExec {
            cluster_name: cluster_name.to_string(),
            region: region.to_string(),
        };
        self
    }

    pub fn namespace(mut self, namespace: &str) -> FakeConfig {
        self.namespace = Some(namespace.to_string());
        self
    }

    pub fn job_delay(mut self, delay: Duration) -> FakeConfig {
        self.job_delay = delay;
        self
    }

    pub fn job_behaviour(mut self, behaviour: JobBehaviour) -> FakeConfig {
        self.job_behaviour = behaviour;
        self
    }

    pub fn job_behaviour_for(
        mut self,
        service_account: &str,
        behaviour: JobBehaviour,
    ) -> FakeConfig {
        self.job_behaviour_by_service_account
            .insert(service_account.to_string(), behaviour);
        self
    }

    pub fn probe(mut self, world: ProbeWorld) -> FakeConfig {
        self.probe = world;
        self
    }

    pub fn fault(mut self, fault: Fault) -> FakeConfig {
        self.faults.push(fault);
        self
    }

    pub fn bookmark_interval(mut self, interval: Duration) -> FakeConfig {
        self.bookmark_interval = interval;
        self
    }

    pub fn server_version(mut self, git_version: &str) -> FakeConfig {
        self.server_version = git_version.to_string();
        self
    }
}

/// A running fake API server. Dropping it stops the server thread and removes the
/// kubeconfig directory.
pub struct FakeKube {
    shared: Arc<Shared>,
    url: String,
    kubeconfig: PathBuf,
    bin_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    // Last: removed after the thread has stopped.
    dir: tempfile::TempDir,
}

impl FakeKube {
    /// Starts the server on 127.0.0.1 (a free port) on its own thread and runtime.
    /// Panics on setup failures (bad seed objects, no loopback port): test code.
    pub fn start(config: FakeConfig) -> FakeKube {
        let token = match &config.auth {
            KubeAuth::Token(token) => token.clone(),
            KubeAuth::AwsExec {
                cluster_name,
                region,
            } => eks_token(cluster_name, region),
        };
        let settings = Settings {
            webhook: config.webhook,
            region: config.region.clone(),
            token,
            job_delay: config.job_delay,
            job_behaviour: config.job_behaviour.clone(),
            job_behaviour_by_service_account: config.job_behaviour_by_service_account.clone(),
            probe: config.probe.clone(),
            bookmark_interval: config.bookmark_interval,
            server_version: config.server_version.clone(),
        };
        let shared = Arc::new(Shared::new(settings, config.faults.clone()));
        for object in &config.objects {
            insert_object(&shared, object.clone());
        }

        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("fake kube: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("fake kube: non-blocking listener");
        let port = listener
            .local_addr()
            .expect("fake kube: local address")
            .port();
        let url = format!("http://127.0.0.1:{port}");

        let dir = tempfile::Builder::new()
            .prefix("fake-kube-")
            .tempdir()
            .expect("fake kube: temp dir");
        let (kubeconfig, bin_dir) =
            kubeconfig::write(dir.path(), &url, &config.auth, config.namespace.as_deref())
                .expect("fake kube: write kubeconfig");

        let (shutdown, shutdown_rx) = oneshot::channel();
        let (ready, ready_rx) = std::sync::mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fake-kube-{port}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(()));
                    server::serve(listener, thread_shared, shutdown_rx).await;
                });
                // Open watches and hanging requests are not waited for.
                runtime.shutdown_background();
            })
            .expect("fake kube: spawn server thread");
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("fake kube: server failed to start: {e}"),
            Err(_) => panic!("fake kube: server thread died while starting"),
        }
        FakeKube {
            shared,
            url,
            kubeconfig,
            bin_dir,
            shutdown: Some(shutdown),
            thread: Some(thread),
            dir,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Holds the fake `aws` (exec auth only); prepend it to PATH.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The current PATH with [`bin_dir`](Self::bin_dir) in front, for child processes.
    pub fn path_with_bin_dir(&self) -> OsString {
        let mut paths = vec![self.bin_dir.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(paths).unwrap_or_else(|_| self.bin_dir.clone().into_os_string())
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.shared.settings.token
    }

    /// Stores an object as a controller would (no admission, no job runner); fills
    /// uid, creationTimestamp, resourceVersion. Returns the stored object.
    pub fn insert(&self, object: Value) -> Value {
        insert_object(&self.shared, object)
    }

    /// One object; `namespace` is ignored for cluster-scoped kinds.
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let resource = known_kind(kind);
        self.shared
            .read(|store| store.get(resource, namespace, name).cloned())
    }

    /// Every object of a kind, in all namespaces.
    pub fn list(&self, kind: &str) -> Vec<Value> {
        let resource = known_kind(kind);
        self.shared.read(|store| {
            store
                .objects(resource, None)
                .map(|(_, object)| object.clone())
                .collect()
        })
    }

    /// Removes an object (watchers see DELETED; no cascade).
    pub fn remove(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let resource = known_kind(kind);
        self.shared
            .write(|store| store.delete(resource, namespace, name))
    }

    /// Every object of any kind whose labels match, e.g.
    /// `app.kubernetes.io/managed-by=irsa-check`.
    pub fn objects_labelled(&self, selector: &str) -> Vec<Value> {
        let selector = LabelSelector::parse(selector)
            .unwrap_or_else(|e| panic!("fake kube: bad label selector {selector:?}: {e}"));
        self.shared.read(|store| {
            store
                .all()
                .filter(|object| selector.matches(&labels_of(object)))
                .cloned()
                .collect()
        })
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests()
    }

    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Adds a fault rule while running (after the configured ones).
    pub fn add_fault(&self, fault: Fault) {
        self.shared.add_fault(fault);
    }

    /// A pod's log as the log endpoint would serve it (`None`: no such pod log).
    pub fn pod_log(&self, namespace: &str, name: &str) -> Option<String> {
        self.shared.read(|store| {
            store
                .logs
                .get(&store::ObjectKey {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                })
                .cloned()
        })
    }

    /// Sets the log of a (seeded) pod.
    pub fn set_pod_log(&self, namespace: &str, name: &str, log: &str) {
        self.shared.write(|store| {
            store.logs.insert(
                store::ObjectKey {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                },
                log.to_string(),
            );
        });
    }

    /// The argument lines the fake `aws` was run with (exec auth), oldest first.
    pub fn aws_invocations(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin_dir.join("aws-invocations.log"))
            .map(|text| text.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn known_kind(kind: &str) -> &'static Resource {
    resource_by_kind(kind).unwrap_or_else(|| panic!("fake kube: kind {kind:?} is not served"))
}

fn insert_object(shared: &Shared, mut object: Value) -> Value {
    let resource = resource_of(&object).unwrap_or_else(|| {
        panic!(
            "fake kube: cannot store {} {}: apiVersion/kind not served",
            str_at(&object, "/apiVersion"),
            str_at(&object, "/kind")
        )
    });
    assert!(
        !str_at(&object, "/metadata/name").is_empty(),
        "fake kube: object without metadata.name: {object}"
    );
    let namespace = match str_at(&object, "/metadata/namespace") {
        "" => "default".to_string(),
        ns => ns.to_string(),
    };
    shared.write(|store| {
        // Replacing an object keeps its identity.
        if let Some(existing) = store.get(resource, &namespace, str_at(&object, "/metadata/name")) {
            for field in ["uid", "creationTimestamp"] {
                let kept = existing.pointer(&format!("/metadata/{field}")).cloned();
                if let Some(kept) = kept
                    && str_at(&object, &format!("/metadata/{field}")).is_empty()
                {
                    store::set_metadata(&mut object, field, kept);
                }
            }
        }
        store.stamp_new(resource, &mut object, &namespace);
        store.put(resource, object)
    })
}
