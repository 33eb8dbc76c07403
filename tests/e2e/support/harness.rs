//! One scenario = one world, started fresh: the fake Kubernetes API server holding a
//! healthy Camunda release (possibly changed in one place), moto seeded with the
//! matching AWS world behind the recording proxy, and the built binary run against both
//! as a user runs it (kubeconfig with the `aws eks get-token` exec plugin, AWS
//! environment pointing at the proxy).

#![allow(dead_code)]

use super::aws_proxy::AwsProxy;
use super::aws_world::{self, AwsWorld};
use super::fake_kube::{FakeConfig, FakeKube, ProbeWorld};
use super::moto::{self, Moto};
use super::spec::{self, Gen};
use super::world;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

type ObjectEdit = Box<dyn FnOnce(&mut Vec<Value>)>;
type ConfigEdit = Box<dyn FnOnce(FakeConfig) -> FakeConfig>;
type AwsEdit = Box<dyn FnOnce(&mut AwsWorld, &Moto)>;
type ProxyEdit = Box<dyn FnOnce(&AwsProxy)>;

/// A world to build: healthy by default; each scenario changes one thing.
pub struct Scenario {
    pub generation: Gen,
    /// The release's user values (the kube objects are derived from them).
    pub values: Value,
    object_edits: Vec<ObjectEdit>,
    config_edits: Vec<ConfigEdit>,
    aws_edits: Vec<AwsEdit>,
    proxy_edits: Vec<ProxyEdit>,
    with_aws: bool,
}

impl Scenario {
    pub fn healthy(generation: Gen) -> Scenario {
        Scenario {
            generation,
            values: world::user_values(generation),
            object_edits: Vec::new(),
            config_edits: Vec::new(),
            aws_edits: Vec::new(),
            proxy_edits: Vec::new(),
            with_aws: true,
        }
    }

    /// Change the release's user values (dotted path; `Value::Null` is a user null).
    pub fn set(mut self, dotted: &str, value: Value) -> Scenario {
        world::set_dotted(&mut self.values, dotted, value);
        self
    }

    /// Remove a key from the release's user values.
    pub fn unset(mut self, dotted: &str) -> Scenario {
        world::remove_dotted(&mut self.values, dotted);
        self
    }

    /// Change the Kubernetes objects after they are derived from the values.
    pub fn objects(mut self, edit: impl FnOnce(&mut Vec<Value>) + 'static) -> Scenario {
        self.object_edits.push(Box::new(edit));
        self
    }

    /// Change the fake API server's configuration (faults, webhook, probe world …).
    pub fn kube(mut self, edit: impl FnOnce(FakeConfig) -> FakeConfig + 'static) -> Scenario {
        self.config_edits.push(Box::new(edit));
        self
    }

    /// Change the AWS world after it is seeded healthy.
    pub fn aws(mut self, edit: impl FnOnce(&mut AwsWorld, &Moto) + 'static) -> Scenario {
        self.aws_edits.push(Box::new(edit));
        self
    }

    /// Inject faults into the AWS proxy.
    pub fn proxy(mut self, edit: impl FnOnce(&AwsProxy) + 'static) -> Scenario {
        self.proxy_edits.push(Box::new(edit));
        self
    }

    /// No AWS at all (for checks that stop before AWS matters).
    pub fn without_aws(mut self) -> Scenario {
        self.with_aws = false;
        self
    }

    pub fn start(self) -> Running {
        let mut objects = world::kube_objects(self.generation, &self.values);
        for edit in self.object_edits {
            edit(&mut objects);
        }
        let mut config = FakeConfig::default()
            .objects(objects)
            .region(spec::REGION)
            .aws_exec(spec::CLUSTER_NAME, spec::REGION)
            .probe(healthy_probe_world(self.generation));
        for edit in self.config_edits {
            config = edit(config);
        }
        let kube = FakeKube::start(config);
        let (moto, proxy, aws) = if self.with_aws {
            let moto = Moto::start();
            let mut aws = aws_world::seed_healthy(&moto, self.generation, kube.url());
            for edit in self.aws_edits {
                edit(&mut aws, &moto);
            }
            let proxy = AwsProxy::start(&moto);
            for edit in self.proxy_edits {
                edit(&proxy);
            }
            (Some(moto), Some(proxy), Some(aws))
        } else {
            (None, None, None)
        };
        let home = tempfile::tempdir().expect("temp home");
        Running {
            generation: self.generation,
            kube,
            moto,
            proxy,
            aws,
            home,
        }
    }
}

/// What the probe pods would see in a healthy world: every component's role trusts its
/// account, the databases and OpenSearch are reachable, IMDS is not (hop limit 1).
pub fn healthy_probe_world(generation: Gen) -> ProbeWorld {
    let mut probe = ProbeWorld::default()
        .open(spec::AURORA_HOST, spec::AURORA_PORT)
        .open(spec::OPENSEARCH_HOST, 443)
        .imds(false);
    for c in spec::postgres_components(generation)
        .into_iter()
        .chain(spec::opensearch_components(generation))
    {
        probe = probe.trust(&spec::role_arn(c.role), spec::NAMESPACE, c.service_account);
    }
    probe
}

/// A started world.
pub struct Running {
    pub generation: Gen,
    pub kube: FakeKube,
    pub moto: Option<Moto>,
    pub proxy: Option<AwsProxy>,
    pub aws: Option<AwsWorld>,
    home: tempfile::TempDir,
}

impl Running {
    /// The binary with this world's environment and no arguments yet.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(binary());
        // A clean environment: nothing of the developer's shell (AWS profile, kube
        // context, colours) leaks into the run.
        cmd.env_clear()
            .env("PATH", self.kube.path_with_bin_dir())
            .env("HOME", self.home.path())
            .env("KUBECONFIG", self.kube.kubeconfig_path())
            .env("NO_COLOR", "1");
        match &self.proxy {
            Some(proxy) => {
                cmd.envs(proxy.env());
            }
            None => {
                // Nothing listens there: any AWS call fails fast.
                cmd.envs(moto::aws_env("http://127.0.0.1:9"));
            }
        }
        cmd
    }

    /// Run the binary with `args` and wait for it.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command().args(args).output().expect("run irsa-check");
        Run::from(output)
    }

    /// Objects the run left behind.
    pub fn leftovers(&self) -> Vec<Value> {
        self.kube
            .objects_labelled("app.kubernetes.io/managed-by=irsa-check")
    }
}

/// The built binary (Cargo builds it for integration tests).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_irsa-check"))
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    fn dump(&self) -> String {
        format!(
            "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }

    /// The exit status is `code`.
    #[track_caller]
    pub fn exits(&self, code: i32) -> &Run {
        assert_eq!(self.status, Some(code), "{}", self.dump());
        self
    }

    /// stderr has exactly this line.
    #[track_caller]
    pub fn stderr_line(&self, line: &str) -> &Run {
        assert!(
            self.stderr.lines().any(|l| l == line),
            "no stderr line {line:?}\n{}",
            self.dump()
        );
        self
    }

    /// stdout has exactly this line.
    #[track_caller]
    pub fn stdout_line(&self, line: &str) -> &Run {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "no stdout line {line:?}\n{}",
            self.dump()
        );
        self
    }

    /// Some stderr line starts with `prefix` and contains every one of `parts`.
    #[track_caller]
    pub fn stderr_has(&self, prefix: &str, parts: &[&str]) -> &Run {
        assert!(
            self.stderr
                .lines()
                .any(|l| l.starts_with(prefix) && parts.iter().all(|p| l.contains(p))),
            "no stderr line starting {prefix:?} with {parts:?}\n{}",
            self.dump()
        );
        self
    }

    /// Some stdout line starts with `prefix` and contains every one of `parts`.
    #[track_caller]
    pub fn stdout_has(&self, prefix: &str, parts: &[&str]) -> &Run {
        assert!(
            self.stdout
                .lines()
                .any(|l| l.starts_with(prefix) && parts.iter().all(|p| l.contains(p))),
            "no stdout line starting {prefix:?} with {parts:?}\n{}",
            self.dump()
        );
        self
    }

    /// No `[FAIL]` line other than the final one, and no text anywhere contains `needle`.
    #[track_caller]
    pub fn never_prints(&self, needle: &str) -> &Run {
        assert!(
            !self.stdout.contains(needle) && !self.stderr.contains(needle),
            "{needle:?} was printed\n{}",
            self.dump()
        );
        self
    }

    /// The run passed: exit 0, no `[FAIL]` line, the final `[OK]` line.
    #[track_caller]
    pub fn passes(&self) -> &Run {
        self.exits(0);
        assert!(!self.stderr.contains("[FAIL]"), "{}", self.dump());
        self.stdout_line("[OK] All checks passed.")
    }

    /// The lines (both streams) that mention a code's failure, for messages.
    pub fn fail_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("[FAIL]"))
            .collect()
    }
}
