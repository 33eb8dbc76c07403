//! The tests' own Helm release encoder: release JSON laid out the way Helm 3 stores it,
//! gzip, base64, and the `helm.sh/release.v1` Secret around it, as the API server
//! serves it. Also corrupt variants, for the error paths.
//!
//! Written from Helm's storage format (pkg/storage/driver/util.go: base64 of gzip of the
//! JSON of `release.Release`), independently of the product's decoder.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::Write as _;

/// One release revision to encode.
#[derive(Clone, Debug)]
pub struct ReleaseSpec {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    /// Helm's spelling: `deployed`, `superseded`, `failed`, `pending-upgrade`, …
    pub status: String,
    pub chart_name: String,
    pub chart_version: String,
    pub app_version: String,
    /// `config`: what the user passed with -f/--set. Helm omits it when empty.
    pub user_values: Value,
    /// `chart.values`: the chart's values.yaml (with enabled subcharts' defaults merged).
    pub chart_defaults: Value,
    /// `manifest`: the rendered objects, as one YAML stream.
    pub manifest: String,
}

impl ReleaseSpec {
    /// A `camunda-platform` release; the caller sets the values.
    pub fn camunda(
        name: &str,
        namespace: &str,
        revision: u32,
        status: &str,
        chart_version: &str,
        app_version: &str,
    ) -> ReleaseSpec {
        ReleaseSpec {
            name: name.into(),
            namespace: namespace.into(),
            revision,
            status: status.into(),
            chart_name: "camunda-platform".into(),
            chart_version: chart_version.into(),
            app_version: app_version.into(),
            user_values: json!({}),
            chart_defaults: json!({}),
            manifest: String::new(),
        }
    }

    /// The Secret's name: `sh.helm.release.v1.NAME.vN`.
    pub fn secret_name(&self) -> String {
        format!("sh.helm.release.v1.{}.v{}", self.name, self.revision)
    }
}

/// A deterministic timestamp per revision, in Go's RFC 3339 with nanoseconds.
fn timestamp(revision: u32, first: bool) -> String {
    let day = if first { 1 } else { revision.clamp(1, 28) };
    format!("2026-08-{day:02}T09:30:{:02}.123456789Z", revision % 60)
}

/// The release as Helm 3 serialises `release.Release` to JSON.
pub fn release_json(spec: &ReleaseSpec) -> Value {
    let description = match spec.status.as_str() {
        "deployed" if spec.revision == 1 => "Install complete".to_string(),
        "deployed" | "superseded" => "Upgrade complete".to_string(),
        "failed" => "Upgrade \"camunda\" failed: context deadline exceeded".to_string(),
        "pending-upgrade" => "Preparing upgrade".to_string(),
        "pending-install" => "Initial install underway".to_string(),
        other => other.to_string(),
    };
    let mut release = json!({
        "name": spec.name,
        "info": {
            "first_deployed": timestamp(1, true),
            "last_deployed": timestamp(spec.revision, false),
            "deleted": "0001-01-01T00:00:00Z",
            "description": description,
            "status": spec.status,
            "notes": "# Camunda Helm chart\n\nThe Camunda 8 components are being deployed.\n",
        },
        "chart": {
            "metadata": {
                "name": spec.chart_name,
                "home": "https://docs.camunda.io/docs/self-managed/overview/",
                "sources": ["https://github.com/camunda/camunda-platform-helm"],
                "version": spec.chart_version,
                "description": "Camunda 8 Self-Managed Helm charts. Camunda's process automation platform allows developers to design, automate and improve processes.",
                "keywords": ["bpm", "bpmn", "camunda-platform", "dmn", "process-engine", "workflow"],
                "maintainers": [{"name": "Camunda", "email": "distribution@camunda.com"}],
                "icon": "https://helm.camunda.io/imgs/camunda.svg",
                "apiVersion": "v2",
                "appVersion": spec.app_version,
                "annotations": {"camunda.io/helmCLIVersion": "3.20.2"},
                "dependencies": [
                    {"name": "keycloak", "version": "24.9.1", "repository": "", "condition": "identityKeycloak.enabled", "alias": "identityKeycloak"},
                    {"name": "postgresql", "version": "15.x.x", "repository": "", "condition": "identityPostgresql.enabled", "alias": "identityPostgresql"},
                    {"name": "elasticsearch", "version": "21.6.3", "repository": "", "condition": "elasticsearch.enabled"},
                ],
                "type": "application",
            },
            "lock": null,
            "templates": [],
            "values": spec.chart_defaults,
            "schema": null,
            "files": [],
        },
        "manifest": spec.manifest,
        "hooks": [],
        "version": spec.revision,
        "namespace": spec.namespace,
    });
    // `config` is `omitempty` in Helm's struct.
    if spec.user_values.as_object().is_some_and(|m| !m.is_empty()) {
        release["config"] = spec.user_values.clone();
    }
    release
}

/// gzip at Helm's level (`gzip.BestCompression`).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.flush())
        .expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// What Helm writes into the Secret's `data.release`: base64 text of gzip of the JSON.
pub fn encode_release(spec: &ReleaseSpec) -> Vec<u8> {
    B64.encode(gzip(release_json(spec).to_string().as_bytes()))
        .into_bytes()
}

/// The release Secret as the API server serves it (`data` values base64 once more).
pub fn release_secret(spec: &ReleaseSpec) -> Value {
    secret_with_payload(spec, &encode_release(spec))
}

/// A release Secret for `spec`'s labels around any `data.release` payload (given as
/// Helm would write it, before the API server's base64): for corrupt variants.
pub fn secret_with_payload(spec: &ReleaseSpec, payload: &[u8]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": spec.secret_name(),
            "namespace": spec.namespace,
            "uid": format!("5ec7e7a0-0000-4000-8000-{:012x}", 0x5ec0_0000_u64 + u64::from(spec.revision)),
            "resourceVersion": format!("{}", 41_000 + spec.revision),
            "creationTimestamp": timestamp(spec.revision, false).replace(".123456789", ""),
            "labels": {
                "modifiedAt": format!("{}", 1_787_700_000 + u64::from(spec.revision) * 3600),
                "name": spec.name,
                "owner": "helm",
                "status": spec.status,
                "version": spec.revision.to_string(),
            },
        },
        "type": "helm.sh/release.v1",
        "data": {"release": B64.encode(payload)},
    })
}

/// Ways a stored release can be broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    /// `data.release` is not base64 at all.
    BadBase64,
    /// The gzip stream is cut in half.
    TruncatedGzip,
    /// Valid gzip of text that is not JSON.
    BadJson,
    /// Valid JSON without `chart.metadata`.
    MissingChart,
    /// About 100 KiB that would decompress to 65 MiB: 65 concatenated gzip members of
    /// 1 MiB of spaces each (Go's gzip reader, like Helm's, reads every member).
    GzipBomb,
}

/// The `data.release` payload (before the API server's base64) for a corruption.
pub fn corrupt_payload(spec: &ReleaseSpec, corruption: Corruption) -> Vec<u8> {
    match corruption {
        Corruption::BadBase64 => b"H4sI%%%this is not base64%%%".to_vec(),
        Corruption::TruncatedGzip => {
            let gz = gzip(release_json(spec).to_string().as_bytes());
            B64.encode(&gz[..gz.len() / 2]).into_bytes()
        }
        Corruption::BadJson => {
            let mut text = release_json(spec).to_string();
            text.truncate(text.len() / 2);
            B64.encode(gzip(text.as_bytes())).into_bytes()
        }
        Corruption::MissingChart => {
            let mut release = release_json(spec);
            if let Some(chart) = release["chart"].as_object_mut() {
                chart.remove("metadata");
            }
            B64.encode(gzip(release.to_string().as_bytes()))
                .into_bytes()
        }
        Corruption::GzipBomb => {
            let member = gzip(&vec![b' '; 1024 * 1024]);
            let bomb: Vec<u8> = member
                .iter()
                .copied()
                .cycle()
                .take(member.len() * 65)
                .collect();
            B64.encode(bomb).into_bytes()
        }
    }
}

/// A release Secret whose payload is broken in the given way.
pub fn corrupt_release_secret(spec: &ReleaseSpec, corruption: Corruption) -> Value {
    secret_with_payload(spec, &corrupt_payload(spec, corruption))
}
