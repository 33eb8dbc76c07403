//! Running the binary against a whole world: the fake Kubernetes API server with a
//! healthy cluster (`world::kube_objects`), its probe world (every role trusts its
//! service account, the endpoints are open, IMDS is blocked), and moto seeded with the
//! healthy AWS world. Scenarios change one thing before [`World::start`].

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::aws_world::{self, AwsWorld};
use super::fake_kube::{FakeConfig, FakeKube, ProbeWorld};
use super::moto::{INHERITED_AWS_VARS, Moto};
use super::spec::{self, AURORA_HOST, AURORA_PORT, Gen, NAMESPACE, OPENSEARCH_HOST};
use super::world;

/// The label every object the tool creates carries.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by=irsa-check";

/// What a pod of the healthy world sees: every component's role trusts its service
/// account, the database and OpenSearch ports are open, IMDS is blocked (hop limit 1).
pub fn healthy_probe_world(generation: Gen) -> ProbeWorld {
    let mut probe = ProbeWorld::default()
        .open(AURORA_HOST, AURORA_PORT)
        .open(OPENSEARCH_HOST, 443)
        .imds(false);
    let mut components = spec::postgres_components(generation);
    components.extend(spec::opensearch_components(generation));
    for c in components {
        probe = probe.trust(&spec::role_arn(c.role), NAMESPACE, c.service_account);
    }
    probe
}

/// A world before it starts: change one thing, then [`World::start`].
pub struct WorldSpec {
    pub generation: Gen,
    pub values: Value,
    pub objects: Vec<Value>,
    pub kube: FakeConfig,
}

impl WorldSpec {
    pub fn healthy(generation: Gen) -> WorldSpec {
        let values = world::user_values(generation);
        let objects = world::kube_objects(generation, &values);
        WorldSpec {
            generation,
            values,
            objects,
            kube: FakeConfig::default()
                .probe(healthy_probe_world(generation))
                // Quick jobs keep the suite fast; real ones take seconds.
                .job_delay(Duration::from_millis(30)),
        }
    }

    /// Rebuild the cluster objects from changed values (the release Secret included).
    pub fn with_values(mut self, change: impl FnOnce(&mut Value)) -> WorldSpec {
        change(&mut self.values);
        self.objects = world::kube_objects(self.generation, &self.values);
        self
    }

    /// Change one object of the cluster.
    pub fn with_object(
        mut self,
        kind: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> WorldSpec {
        let object = world::find_object_mut(&mut self.objects, kind, name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the world"));
        change(object);
        self
    }

    pub fn with_kube(mut self, change: impl FnOnce(FakeConfig) -> FakeConfig) -> WorldSpec {
        self.kube = change(self.kube);
        self
    }

    pub fn start(self) -> World {
        let kube = FakeKube::start(self.kube.objects(self.objects));
        let moto = Moto::start();
        let aws = aws_world::seed_healthy(&moto, self.generation, kube.url());
        World { kube, moto, aws }
    }
}

/// A running world.
pub struct World {
    pub kube: FakeKube,
    pub moto: Moto,
    pub aws: AwsWorld,
}

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    /// Panics (with both streams) unless `line` is a whole line of stdout.
    pub fn assert_stdout_line(&self, line: &str) {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "stdout has no line\n  {line}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// Panics (with both streams) unless `line` is a whole line of stderr.
    pub fn assert_stderr_line(&self, line: &str) {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "stderr has no line\n  {line}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
    }

    pub fn assert_status(&self, status: i32) {
        assert_eq!(
            self.status, status,
            "exit status\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
    }

    /// Lines of both streams that contain `text`.
    pub fn lines_with(&self, text: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .filter(|l| l.contains(text))
            .collect()
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_irsa-check"))
}

impl World {
    /// The binary, set up for this world (kubeconfig, moto), not started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        for var in INHERITED_AWS_VARS {
            cmd.env_remove(var);
        }
        cmd.env_remove("NAMESPACE")
            .env_remove("EXCLUDE_COMPONENTS")
            .env("KUBECONFIG", self.kube.kubeconfig_path())
            .env("NO_COLOR", "1")
            .envs(self.moto.env())
            .args(["-n", NAMESPACE])
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    /// Run the binary to its end.
    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let Output {
            status,
            stdout,
            stderr,
        } = self
            .command(args)
            .output()
            .expect("run the irsa-check binary");
        Run {
            status: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    /// Panics unless the fake holds no object labelled by the tool.
    pub fn assert_nothing_left(&self) {
        let left = self.kube.objects_labelled(MANAGED_BY);
        assert!(
            left.is_empty(),
            "objects left behind: {:?}",
            left.iter()
                .map(|o| format!("{} {}", o["kind"], o["metadata"]["name"]))
                .collect::<Vec<_>>()
        );
    }
}
