//! moto_server, the local AWS emulator, for the end-to-end tests.
//!
//! Isolation: **one fresh moto server per test**, forked from a warm zygote.
//! `tests/e2e/support/moto_wrapper.py --fork-server` imports moto and loads the five
//! backends once per test process (about 1.5–2 s, paid by the first test that asks);
//! every `Moto::start()` then forks an empty server from it in about 10 ms. Why not the
//! other options:
//! - one `moto_server` process per test costs about 1.3 s to start plus 0.2–0.6 s per
//!   service on its first call (moto imports lazily): ~2 s of CPU per test on 2 cores;
//! - one shared server with a unique account per test (assume a role in a fresh account)
//!   would put every ARN in another account than `spec::ACCOUNT`, so the fake Kubernetes
//!   world's role annotations and every expected message would need the account threaded
//!   through; and moto's EKS issuer is shared by all accounts of a server.
//!
//! A forked server lives as long as its `Moto` holds the lease connection (closed on
//! drop, also when a test panics, and by the kernel when the test process dies); the
//! zygote exits when the test process's end of its stdin closes. No python process
//! outlives the tests.
//!
//! Accounts: the static keys map to moto's default account, which is `spec::ACCOUNT`.

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;

use super::spec;

/// The message for a machine without moto (the wrapper exits with status 3 then).
pub const NOT_INSTALLED: &str = "moto is not installed: pip install \"moto[server]\"";

const WRAPPER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/e2e/support/moto_wrapper.py"
);
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server, empty when started, gone when dropped.
pub struct Moto {
    port: u16,
    lease: Lease,
}

enum Lease {
    /// A server forked from the shared zygote; closing this connection stops it.
    Forked(TcpStream),
    /// A standalone `moto_wrapper.py -p 0` process.
    Process(Child),
}

impl Moto {
    /// A fresh, empty moto server forked from the per-process zygote (about 10 ms once
    /// the zygote is up). Panics with a clear message when moto is not installed.
    pub fn start() -> Moto {
        let control = zygote_address();
        let lease = TcpStream::connect(control)
            .unwrap_or_else(|e| panic!("moto fork-server at {control} refused a lease: {e}"));
        lease.set_read_timeout(Some(START_TIMEOUT)).unwrap();
        let mut line = String::new();
        BufReader::new(lease.try_clone().unwrap())
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("moto fork-server did not answer with a port: {e}"));
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("moto fork-server answered {line:?}, not a port"));
        lease.set_read_timeout(None).unwrap();
        let moto = Moto {
            port,
            lease: Lease::Forked(lease),
        };
        moto.wait_until_answering();
        moto
    }

    /// A standalone server: `python3 moto_wrapper.py -H 127.0.0.1 -p 0`, the same as
    /// `moto_server` with the wrapper's patches. Costs about 1.3 s to start and more on
    /// each service's first call; for tests that need a separate process.
    pub fn start_standalone() -> Moto {
        let mut child = spawn_wrapper(&["-H", "127.0.0.1", "-p", "0"]);
        let stderr = child.stderr.take().unwrap();
        let banner = read_banner(stderr, "Running on http://127.0.0.1:");
        let port = match banner {
            Ok(rest) => rest.trim_end_matches('/').parse().unwrap_or_else(|_| {
                panic!("moto_wrapper.py printed an unexpected address: {rest:?}")
            }),
            Err(output) => {
                let status = child.wait().ok();
                panic!("{}", start_failure(status.and_then(|s| s.code()), &output))
            }
        };
        let moto = Moto {
            port,
            lease: Lease::Process(child),
        };
        moto.wait_until_answering();
        moto
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment for the binary, talking to moto directly.
    pub fn env(&self) -> Vec<(String, String)> {
        aws_env(&self.url())
    }

    /// An SDK config for seeding and assertions, talking to moto directly (not through a
    /// proxy, so seeding is not recorded as the tool's calls).
    pub fn sdk_config(&self) -> SdkConfig {
        block_on(sdk_config_for(&self.url()))
    }

    /// moto's "seed" for its random IDs; also the readiness probe.
    fn wait_until_answering(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match http_post(self.port, "/moto-api/seed?a=42") {
                Ok(200) => return,
                Ok(status) => panic!("moto answered the readiness probe with HTTP {status}"),
                Err(e) if Instant::now() > deadline => {
                    panic!("moto on port {} did not answer: {e}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        match &mut self.lease {
            Lease::Forked(lease) => {
                let _ = lease.shutdown(std::net::Shutdown::Both);
            }
            Lease::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// Variables of the developer's shell that would leak into the binary's AWS set-up
/// (profile, session token, web identity…): remove them when running it
/// (`cmd.env_remove(v)` for each), then add `aws_env`.
pub const INHERITED_AWS_VARS: &[&str] = &[
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_DEFAULT_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_MAX_ATTEMPTS",
    "AWS_RETRY_MODE",
];

/// The AWS environment for the binary with `endpoint` as its only AWS endpoint: static
/// keys (no session token) of `spec::ACCOUNT`, `spec::REGION`, no config files, no IMDS
/// probing. See `INHERITED_AWS_VARS` for what to remove.
pub fn aws_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", spec::REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// An SDK config with the static test keys, `spec::REGION` and `endpoint`.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(spec::REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Runs `future` on the tests' shared tokio runtime (the tests are sync `#[test]` fns).
/// Not to be called from inside a runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        })
        .block_on(future)
}

/// The zygote of this test process, started on first use.
fn zygote_address() -> SocketAddr {
    struct Zygote {
        control: SocketAddr,
        // Never dropped: its stdin closes when the test process exits, and so it exits.
        _stdin: Mutex<ChildStdin>,
    }
    static ZYGOTE: OnceLock<Result<Zygote, String>> = OnceLock::new();
    let zygote = ZYGOTE.get_or_init(|| {
        let mut child = spawn_wrapper(&["--fork-server", "-H", "127.0.0.1"]);
        let stdin = child.stdin.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        match read_banner(stderr, "fork-server on ") {
            Ok(address) => address
                .parse()
                .map(|control| Zygote {
                    control,
                    _stdin: Mutex::new(stdin),
                })
                .map_err(|_| format!("moto fork-server printed a bad address: {address:?}")),
            Err(output) => {
                drop(stdin);
                let status = child.wait().ok();
                Err(start_failure(status.and_then(|s| s.code()), &output))
            }
        }
    });
    match zygote {
        Ok(zygote) => zygote.control,
        Err(message) => panic!("{message}"),
    }
}

fn spawn_wrapper(args: &[&str]) -> Child {
    Command::new("python3")
        .arg(WRAPPER)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{NOT_INSTALLED} (python3 could not be started: {e})"))
}

/// Reads stderr lines until one contains `marker`, then returns the rest of that line
/// and keeps copying stderr to ours in a thread (moto's tracebacks stay visible; the
/// wrapper switches werkzeug's line per request off). On EOF: everything read.
fn read_banner(stderr: impl Read + Send + 'static, marker: &str) -> Result<String, String> {
    let mut lines = BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => return Err(seen),
            Ok(_) => {}
        }
        if let Some(at) = line.find(marker) {
            let rest = line[at + marker.len()..].trim().to_string();
            std::thread::spawn(move || {
                let mut line = String::new();
                while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
                    // Straight to fd 2: not captured into whichever test started it.
                    let _ = std::io::stderr().write_all(format!("moto: {line}").as_bytes());
                    line.clear();
                }
            });
            return Ok(rest);
        }
        seen.push_str(&line);
    }
}

fn start_failure(code: Option<i32>, output: &str) -> String {
    if code == Some(3) {
        format!("{NOT_INSTALLED}\n{output}")
    } else {
        format!("moto_wrapper.py exited ({code:?}) before serving:\n{output}")
    }
}

/// A minimal blocking HTTP/1.1 POST without a body; returns the status code.
fn http_post(port: u16, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    reply
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP reply: {reply:?}")))
}
