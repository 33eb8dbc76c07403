//! The Helm release, read from its Secrets in the namespace (no helm binary).

use crate::chart::Generation;
use crate::cli::Args;
use crate::code::Code;
use crate::facts::Fetched;
use crate::finding::Finding;
use crate::run::ValuesSource;
use crate::values::release::{RELEASE_SECRET_TYPE, ReleaseSecretMeta, SelectError, select_release};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::ListParams;

/// The Helm release Secrets of the namespace (label `owner=helm`, type
/// `helm.sh/release.v1`), or the Secrets that could not be read as such.
pub struct ReleaseSecrets {
    pub releases: Vec<ReleaseSecretMeta>,
    /// Secrets labelled owner=helm that are not usable release Secrets, with why.
    pub unusable: Vec<(String, String)>,
}

pub async fn gather(client: &kube::Client, namespace: &str) -> Fetched<ReleaseSecrets> {
    crate::log::call(format!(
        "GET /api/v1/namespaces/{namespace}/secrets?labelSelector=owner=helm (list Helm release Secrets)"
    ));
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .map_err(|e| super::api_error("list secrets (owner=helm)", e))?;
    let mut out = ReleaseSecrets {
        releases: Vec::new(),
        unusable: Vec::new(),
    };
    for secret in &list.items {
        if secret.type_.as_deref() != Some(RELEASE_SECRET_TYPE) {
            continue;
        }
        match ReleaseSecretMeta::from_secret(secret) {
            Ok(meta) => out.releases.push(meta),
            Err(e) => out.unusable.push((
                secret.metadata.name.clone().unwrap_or_default(),
                e.to_string(),
            )),
        }
    }
    Ok(out)
}

/// Codes 4 and 5: pick the release and read its values.
pub fn judge(
    secrets: Fetched<ReleaseSecrets>,
    args: &Args,
) -> (Vec<Finding>, Option<ValuesSource>) {
    let namespace = args.namespace.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let secrets = match secrets {
        Ok(s) => s,
        Err(err) => {
            out.push(
                Finding::fail(Code::HelmRelease, format!("Cannot list the Helm release Secrets in namespace {namespace}: {err}"))
                    .hint("irsa-check needs get/list on secrets in the namespace to read the Helm release."),
            );
            return (out, None);
        }
    };
    for (name, why) in &secrets.unusable {
        out.push(Finding::fail(
            Code::ReleaseValues,
            format!("Secret {name}: {why}"),
        ));
    }
    let selected = match select_release(&secrets.releases, args.release.as_deref()) {
        Ok(s) => s,
        Err(err @ SelectError::Unreadable { .. }) => {
            out.push(Finding::fail(
                Code::ReleaseValues,
                format!("The Helm release cannot be read: {err}"),
            ));
            return (out, None);
        }
        Err(err) => {
            let mut f = Finding::fail(
                Code::HelmRelease,
                format!("Chart camunda-platform: {err} (namespace {namespace})."),
            );
            if let Some(hint) = err.hint() {
                f = f.hint(hint);
            }
            out.push(f);
            if matches!(err, SelectError::NoCamundaRelease { .. }) {
                out.push(Finding::info(
                    Code::HelmRelease,
                    "Installs made with 'helm template' or Argo CD have no Helm release: check them with --values FILE --chart-version VERSION.",
                ));
            }
            return (out, None);
        }
    };
    let release = selected.release;
    out.push(Finding::ok(
        Code::HelmRelease,
        format!(
            "Chart {} {} is deployed in namespace {namespace} as release {} (revision {}, Secret {}).",
            release.chart.name, release.chart.version, release.name, release.revision, selected.secret_name
        ),
    ));
    for note in &selected.notes {
        out.push(Finding::info(Code::HelmRelease, note.clone()));
    }
    let generation = Generation::from_chart_version(&release.chart.version)
        .or_else(|| {
            release
                .chart
                .app_version
                .as_deref()
                .and_then(Generation::from_app_version)
        })
        .or_else(|| args.chart_version.as_ref().map(|c| c.generation));
    let Some(generation) = generation else {
        out.push(
            Finding::fail(
                Code::ReleaseValues,
                format!(
                    "Chart version {} (appVersion {}) is not a supported Camunda chart generation.",
                    release.chart.version,
                    release.chart.app_version.as_deref().unwrap_or("unknown")
                ),
            )
            .hint("Pass --chart-version to choose the rules (e.g. 8.8)."),
        );
        return (out, None);
    };
    // The release's own chart values win; the chart model fills keys the stored values
    // lack (subchart defaults are not stored in the release).
    let defaults = crate::values::files::merge_values_layers([
        generation.builtin_defaults(),
        release.chart_defaults.clone(),
    ]);
    let user_keys = release.user_values.as_object().map_or(0, |m| m.len());
    out.push(Finding::ok(
        Code::ReleaseValues,
        format!("Retrieved the values of release {}: {user_keys} top-level keys of user values over the chart's defaults.", release.name),
    ));
    let source = ValuesSource {
        values: crate::values::Values::new(release.user_values.clone(), defaults),
        generation,
        release: Some(release.name.clone()),
        chart_version: release.chart.version.clone(),
    };
    (out, Some(source))
}
