//! The Helm release stored in a Secret (`helm.sh/release.v1`): decoding it, and choosing
//! which release of the namespace to check.
//!
//! Helm 3 stores each revision in a Secret named `sh.helm.release.v1.NAME.vN`, labelled
//! `owner=helm`, `name=NAME`, `status=…`, `version=N`; its `data.release` is base64 of
//! gzip of the release JSON (and the API server base64-encodes `data` once more).

use super::Values;
use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;

/// The Secret type Helm 3 stores releases under.
pub const RELEASE_SECRET_TYPE: &str = "helm.sh/release.v1";

/// The chart this tool checks.
pub const CAMUNDA_CHART: &str = "camunda-platform";

/// Decoded release JSON larger than this is refused. Helm caps a release Secret at
/// 1 MiB of compressed data; a real Camunda release decompresses to a few MiB, so
/// anything this large is corrupt or a gzip bomb.
pub const MAX_RELEASE_JSON_BYTES: usize = 64 * 1024 * 1024;

/// What a caller tells the user when no release is found.
pub const NO_RELEASE_HINT: &str = "installs made with `helm template` or Argo CD have no Helm \
release in the cluster; check them with --values FILE (repeatable) and --chart-version";

/// The state of a release revision (Helm's `info.status`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ReleaseStatus {
    Deployed,
    Superseded,
    Failed,
    PendingInstall,
    PendingUpgrade,
    PendingRollback,
    Uninstalling,
    Uninstalled,
    Unknown,
    /// A status this tool does not know, kept as written.
    Other(String),
}

impl ReleaseStatus {
    /// Parse Helm's spelling (`deployed`, `pending-upgrade`, …).
    pub fn parse(text: &str) -> ReleaseStatus {
        match text {
            "deployed" => ReleaseStatus::Deployed,
            "superseded" => ReleaseStatus::Superseded,
            "failed" => ReleaseStatus::Failed,
            "pending-install" => ReleaseStatus::PendingInstall,
            "pending-upgrade" => ReleaseStatus::PendingUpgrade,
            "pending-rollback" => ReleaseStatus::PendingRollback,
            "uninstalling" => ReleaseStatus::Uninstalling,
            "uninstalled" => ReleaseStatus::Uninstalled,
            "unknown" | "" => ReleaseStatus::Unknown,
            other => ReleaseStatus::Other(other.to_string()),
        }
    }

    /// Helm's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Superseded => "superseded",
            ReleaseStatus::Failed => "failed",
            ReleaseStatus::PendingInstall => "pending-install",
            ReleaseStatus::PendingUpgrade => "pending-upgrade",
            ReleaseStatus::PendingRollback => "pending-rollback",
            ReleaseStatus::Uninstalling => "uninstalling",
            ReleaseStatus::Uninstalled => "uninstalled",
            ReleaseStatus::Unknown => "unknown",
            ReleaseStatus::Other(s) => s,
        }
    }

    fn is_pending(&self) -> bool {
        matches!(
            self,
            ReleaseStatus::PendingInstall
                | ReleaseStatus::PendingUpgrade
                | ReleaseStatus::PendingRollback
        )
    }
}

impl fmt::Display for ReleaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The chart a release was installed from (`chart.metadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartMeta {
    pub name: String,
    /// The chart's version (`12.13.3`); the chart generation is read from it.
    pub version: String,
    /// `appVersion` (`8.7.x`), optional in Chart.yaml.
    pub app_version: Option<String>,
}

/// One decoded release revision.
#[derive(Clone, Debug, PartialEq)]
pub struct HelmRelease {
    pub name: String,
    /// Empty when the release JSON has none.
    pub namespace: String,
    pub revision: u32,
    pub status: ReleaseStatus,
    pub chart: ChartMeta,
    /// The user's values (`config`); `{}` when absent.
    pub user_values: Value,
    /// The chart's values as stored (`chart.values`); `{}` when absent. After
    /// `helm upgrade --reuse-values` these are the old effective values, not the new
    /// chart's pristine defaults.
    pub chart_defaults: Value,
}

impl HelmRelease {
    /// The coalesced values of this release.
    pub fn values(&self) -> Values {
        Values::new(self.user_values.clone(), self.chart_defaults.clone())
    }
}

/// Why a release Secret could not be read. A caller prints it as `Secret NAME: {error}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseError {
    /// The Secret is not a usable Helm release Secret (wrong type, no `data.release`,
    /// garbled labels).
    NotAReleaseSecret(String),
    /// `data.release` is neither base64, gzip nor JSON.
    BadBase64(String),
    BadGzip(String),
    /// The JSON parser's message; line and column are 1-based.
    BadJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// A field the release must have is absent (dotted path: `chart.metadata.version`).
    MissingField(&'static str),
    /// A field has the wrong type.
    BadField {
        field: &'static str,
        expected: &'static str,
    },
    /// Larger than the limit, before or after decompression.
    TooLarge {
        limit: usize,
    },
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseError::NotAReleaseSecret(why) => write!(f, "not a Helm release Secret: {why}"),
            ReleaseError::BadBase64(e) => write!(f, "data.release is not valid base64: {e}"),
            ReleaseError::BadGzip(e) => write!(f, "data.release is not valid gzip: {e}"),
            ReleaseError::BadJson { message, .. } => {
                write!(f, "the release is not valid JSON: {message}")
            }
            ReleaseError::MissingField(field) => write!(f, "the release has no field {field}"),
            ReleaseError::BadField { field, expected } => {
                write!(f, "the release field {field} is not {expected}")
            }
            ReleaseError::TooLarge { limit } => write!(
                f,
                "the release is larger than {} MiB once decoded; refused (corrupt, or a gzip bomb)",
                limit / (1024 * 1024)
            ),
        }
    }
}

impl std::error::Error for ReleaseError {}

/// Decode a release from a Secret's `data.release` as the Kubernetes client hands it
/// over (after the API server's own base64): base64 text of gzip of JSON, as Helm
/// writes it. Also accepted: base64 of plain JSON, gzip without the base64, plain
/// JSON, and one more base64 layer (the raw `data` field as the API serves it).
/// Garbage never panics; it gives a [`ReleaseError`] saying what was wrong.
pub fn decode_release(data: &[u8]) -> Result<HelmRelease, ReleaseError> {
    decode_release_limited(data, MAX_RELEASE_JSON_BYTES)
}

fn decode_release_limited(data: &[u8], limit: usize) -> Result<HelmRelease, ReleaseError> {
    let json = release_json_bytes(data, limit)?;
    let value: Value = serde_json::from_slice(&json).map_err(|e| ReleaseError::BadJson {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    release_from_json(value)
}

/// Peel base64 layers until gzip or JSON shows, then decompress with a size cap.
fn release_json_bytes(data: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, ReleaseError> {
    if data.len() > limit {
        return Err(ReleaseError::TooLarge { limit });
    }
    let mut current: Cow<'_, [u8]> = Cow::Borrowed(data);
    // Helm's base64, the API server's base64, then gzip: never more layers than that.
    for _ in 0..3 {
        let trimmed = current.trim_ascii();
        if trimmed.starts_with(&[0x1f, 0x8b]) {
            return gunzip(trimmed, limit).map(Cow::Owned);
        }
        if trimmed.starts_with(b"{") || trimmed.starts_with(b"[") {
            return Ok(current);
        }
        if trimmed.is_empty() {
            return Err(ReleaseError::NotAReleaseSecret(
                "data.release is empty".into(),
            ));
        }
        let compact: Vec<u8> = trimmed
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|e| ReleaseError::BadBase64(e.to_string()))?;
        current = Cow::Owned(decoded);
    }
    Err(ReleaseError::BadBase64(
        "still base64 after three layers of decoding".into(),
    ))
}

fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, ReleaseError> {
    // Go's gzip reader (Helm's) reads concatenated members; so does MultiGzDecoder.
    let decoder = flate2::read::MultiGzDecoder::new(data);
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| ReleaseError::BadGzip(e.to_string()))?;
    if out.len() > limit {
        return Err(ReleaseError::TooLarge { limit });
    }
    Ok(out)
}

fn release_from_json(value: Value) -> Result<HelmRelease, ReleaseError> {
    let Value::Object(mut root) = value else {
        return Err(ReleaseError::BadField {
            field: "(top level)",
            expected: "a JSON object",
        });
    };
    let name = required_str(&root, "name", "name")?;
    let namespace = match root.get("namespace") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ReleaseError::BadField {
                field: "namespace",
                expected: "a string",
            });
        }
    };
    let revision = match root.get("version") {
        None | Some(Value::Null) => return Err(ReleaseError::MissingField("version")),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or(ReleaseError::BadField {
                field: "version",
                expected: "a revision number (a positive integer)",
            })?,
    };
    let info = required_object(&root, "info", "info")?;
    let status = ReleaseStatus::parse(&required_str(info, "status", "info.status")?);
    let chart = required_object(&root, "chart", "chart")?;
    let metadata = required_object(chart, "metadata", "chart.metadata")?;
    let chart_meta = ChartMeta {
        name: required_str(metadata, "name", "chart.metadata.name")?,
        version: required_str(metadata, "version", "chart.metadata.version")?,
        app_version: match metadata.get("appVersion") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            // Chart.yaml lets appVersion be a YAML number (`appVersion: 8.7`).
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    };
    let chart_defaults = values_map(chart.get("values").cloned(), "chart.values")?;
    let user_values = values_map(root.remove("config"), "config")?;
    Ok(HelmRelease {
        name,
        namespace,
        revision,
        status,
        chart: chart_meta,
        user_values,
        chart_defaults,
    })
}

fn required_str(
    map: &Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<String, ReleaseError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(ReleaseError::MissingField(field)),
        Some(Value::String(s)) if s.is_empty() => Err(ReleaseError::MissingField(field)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(ReleaseError::BadField {
            field,
            expected: "a string",
        }),
    }
}

fn required_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a Map<String, Value>, ReleaseError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(ReleaseError::MissingField(field)),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(ReleaseError::BadField {
            field,
            expected: "an object",
        }),
    }
}

fn values_map(value: Option<Value>, field: &'static str) -> Result<Value, ReleaseError> {
    match value {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(map @ Value::Object(_)) => Ok(map),
        Some(_) => Err(ReleaseError::BadField {
            field,
            expected: "a map of values",
        }),
    }
}

/// One release Secret as listed: what its labels say, and its still-encoded
/// `data.release`, decoded only when [`select_release`] needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseSecretMeta {
    pub secret_name: String,
    /// The `name` label.
    pub release_name: String,
    /// The `version` label.
    pub revision: u32,
    /// The `status` label.
    pub status: ReleaseStatus,
    /// `data.release` after the API server's base64 (what `k8s_openapi::ByteString` holds).
    pub release_data: Vec<u8>,
}

impl ReleaseSecretMeta {
    /// Build from a Secret's name, labels and `data.release`. A missing `name` or
    /// `version` label is read from the Secret name `sh.helm.release.v1.NAME.vN`;
    /// a missing `status` label is `unknown`.
    pub fn from_parts(
        secret_name: &str,
        labels: &BTreeMap<String, String>,
        release_data: Vec<u8>,
    ) -> Result<ReleaseSecretMeta, ReleaseError> {
        let from_name = parse_secret_name(secret_name);
        let release_name = match labels.get("name").filter(|s| !s.is_empty()) {
            Some(name) => name.clone(),
            None => from_name.map(|(name, _)| name.to_string()).ok_or_else(|| {
                ReleaseError::NotAReleaseSecret(
                    "no `name` label and the Secret name is not sh.helm.release.v1.NAME.vN".into(),
                )
            })?,
        };
        let revision = match labels.get("version") {
            Some(text) => text.parse::<u32>().ok().filter(|&n| n > 0).ok_or_else(|| {
                ReleaseError::NotAReleaseSecret(format!(
                    "label version={text:?} is not a revision number"
                ))
            })?,
            None => from_name.map(|(_, rev)| rev).ok_or_else(|| {
                ReleaseError::NotAReleaseSecret(
                    "no `version` label and the Secret name is not sh.helm.release.v1.NAME.vN"
                        .into(),
                )
            })?,
        };
        let status = ReleaseStatus::parse(labels.get("status").map_or("", String::as_str));
        Ok(ReleaseSecretMeta {
            secret_name: secret_name.to_string(),
            release_name,
            revision,
            status,
            release_data,
        })
    }

    /// Build from a Secret as the Kubernetes API returns it.
    pub fn from_secret(secret: &Secret) -> Result<ReleaseSecretMeta, ReleaseError> {
        match secret.type_.as_deref() {
            Some(RELEASE_SECRET_TYPE) => {}
            other => {
                return Err(ReleaseError::NotAReleaseSecret(format!(
                    "type is {}, not {RELEASE_SECRET_TYPE}",
                    other.unwrap_or("(none)")
                )));
            }
        }
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        let empty = BTreeMap::new();
        let labels = secret.metadata.labels.as_ref().unwrap_or(&empty);
        let data = secret
            .data
            .as_ref()
            .and_then(|d| d.get("release"))
            .map(|b| b.0.clone())
            .ok_or_else(|| ReleaseError::NotAReleaseSecret("no data.release".into()))?;
        ReleaseSecretMeta::from_parts(name, labels, data)
    }

    /// Decode this revision's `data.release`.
    pub fn decode(&self) -> Result<HelmRelease, ReleaseError> {
        decode_release(&self.release_data)
    }
}

/// `sh.helm.release.v1.NAME.vN` → (NAME, N).
fn parse_secret_name(secret_name: &str) -> Option<(&str, u32)> {
    let rest = secret_name.strip_prefix("sh.helm.release.v1.")?;
    let (name, revision) = rest.rsplit_once(".v")?;
    let revision = revision.parse::<u32>().ok().filter(|&n| n > 0)?;
    (!name.is_empty()).then_some((name, revision))
}

/// The release chosen for checking.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedRelease {
    pub secret_name: String,
    pub release: HelmRelease,
    /// Facts worth an INFO line: newer revisions that are pending or failed, other
    /// releases skipped because they could not be read or have no deployed revision.
    pub notes: Vec<String>,
}

/// A release that could be meant, as listed in an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseSummary {
    pub name: String,
    pub revision: u32,
    pub chart_version: String,
}

/// Why no single release was chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum SelectError {
    /// No deployed `camunda-platform` release (or none named `wanted`). `found` describes
    /// what the namespace has instead, one item per release. See [`NO_RELEASE_HINT`].
    NoCamundaRelease {
        wanted: Option<String>,
        found: Vec<String>,
    },
    /// Several deployed `camunda-platform` releases: the user must pick with `--release`.
    Several { releases: Vec<ReleaseSummary> },
    /// The revision that would be checked could not be decoded.
    Unreadable {
        failures: Vec<(String, ReleaseError)>,
    },
}

impl SelectError {
    /// What to tell the user next, if anything.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            SelectError::NoCamundaRelease { .. } => Some(NO_RELEASE_HINT),
            SelectError::Several { .. } => Some("choose one with --release NAME"),
            SelectError::Unreadable { .. } => None,
        }
    }
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectError::NoCamundaRelease { wanted, found } => {
                match wanted {
                    Some(name) => write!(
                        f,
                        "no deployed Helm release {name:?} of chart {CAMUNDA_CHART} in the namespace"
                    )?,
                    None => write!(
                        f,
                        "no deployed Helm release of chart {CAMUNDA_CHART} in the namespace"
                    )?,
                }
                if !found.is_empty() {
                    write!(f, " (found: {})", found.join("; "))?;
                }
                Ok(())
            }
            SelectError::Several { releases } => {
                let list: Vec<String> = releases
                    .iter()
                    .map(|r| {
                        format!(
                            "{} (chart {}, revision {})",
                            r.name, r.chart_version, r.revision
                        )
                    })
                    .collect();
                write!(
                    f,
                    "several releases of chart {CAMUNDA_CHART} are deployed in the namespace: {}",
                    list.join(", ")
                )
            }
            SelectError::Unreadable { failures } => {
                let list: Vec<String> = failures
                    .iter()
                    .map(|(secret, e)| format!("Secret {secret}: {e}"))
                    .collect();
                f.write_str(&list.join("; "))
            }
        }
    }
}

impl std::error::Error for SelectError {}

/// Choose the release to check among a namespace's release Secrets. Per release name,
/// the newest revision whose status is `deployed` counts (Helm keeps superseded, failed
/// and pending revisions beside it); only releases of chart `camunda-platform` are
/// kept. Only those newest deployed revisions are decoded (and, with `wanted_release`,
/// only that release's). Exactly one → it; several → [`SelectError::Several`]; none →
/// [`SelectError::NoCamundaRelease`], or [`SelectError::Unreadable`] when a revision
/// that could have been it did not decode.
pub fn select_release(
    candidates: &[ReleaseSecretMeta],
    wanted_release: Option<&str>,
) -> Result<SelectedRelease, SelectError> {
    let mut by_name: BTreeMap<&str, Vec<&ReleaseSecretMeta>> = BTreeMap::new();
    for c in candidates {
        if wanted_release.is_none_or(|w| w == c.release_name) {
            by_name.entry(&c.release_name).or_default().push(c);
        }
    }

    let mut notes = Vec::new();
    let mut found = Vec::new();
    let mut camunda: Vec<(&ReleaseSecretMeta, HelmRelease)> = Vec::new();
    let mut failures = Vec::new();

    for (name, mut revisions) in by_name {
        revisions.sort_by_key(|r| r.revision);
        let Some(deployed) = revisions
            .iter()
            .rev()
            .find(|r| r.status == ReleaseStatus::Deployed)
        else {
            let newest = revisions.last().map_or_else(String::new, |r| {
                format!(", newest is revision {} ({})", r.revision, r.status)
            });
            let line = format!("release {name} has no deployed revision{newest}");
            notes.push(line.clone());
            found.push(line);
            continue;
        };
        match deployed.decode() {
            Ok(release) if release.chart.name == CAMUNDA_CHART => {
                for newer in revisions.iter().filter(|r| r.revision > deployed.revision) {
                    if newer.status.is_pending() || newer.status == ReleaseStatus::Failed {
                        notes.push(newer_revision_note(name, newer, deployed.revision));
                    }
                }
                camunda.push((deployed, release));
            }
            Ok(release) => found.push(format!(
                "release {name} is chart {} {}",
                release.chart.name, release.chart.version
            )),
            Err(e) => failures.push((deployed.secret_name.clone(), e)),
        }
    }

    if camunda.len() > 1 {
        return Err(SelectError::Several {
            releases: camunda
                .iter()
                .map(|(meta, release)| ReleaseSummary {
                    name: release.name.clone(),
                    revision: meta.revision,
                    chart_version: release.chart.version.clone(),
                })
                .collect(),
        });
    }
    let Some((meta, release)) = camunda.pop() else {
        if failures.is_empty() {
            return Err(SelectError::NoCamundaRelease {
                wanted: wanted_release.map(str::to_string),
                found,
            });
        }
        return Err(SelectError::Unreadable { failures });
    };
    for (secret, e) in failures {
        notes.push(format!("Secret {secret} skipped: {e}"));
    }
    // Notes about other releases matter less than the chosen one's; keep them after it.
    notes.sort_by_key(|n| !n.starts_with(&format!("release {}:", release.name)));
    Ok(SelectedRelease {
        secret_name: meta.secret_name.clone(),
        release,
        notes,
    })
}

fn newer_revision_note(name: &str, newer: &ReleaseSecretMeta, deployed: u32) -> String {
    let why = match newer.status {
        ReleaseStatus::Failed => "it failed".to_string(),
        ReleaseStatus::PendingUpgrade => {
            "an upgrade is running, or was interrupted and left the release locked".to_string()
        }
        ReleaseStatus::PendingRollback => {
            "a rollback is running, or was interrupted and left the release locked".to_string()
        }
        ReleaseStatus::PendingInstall => "an install is running or was interrupted".to_string(),
        ref other => format!("its status is {other}"),
    };
    format!(
        "release {name}: revision {} is {} ({why}); checking the deployed revision {deployed}",
        newer.revision, newer.status
    )
}

#[cfg(test)]
mod tests;
