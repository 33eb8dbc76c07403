//! Section 1 of the catalogue, the parts judged from the release: the chart version
//! warning and the Keycloak mode.

use crate::chart::{Component, Generation};
use crate::checks::read::{self, Flag};
use crate::code::Code;
use crate::finding::Finding;
use crate::values::Values;

/// The oldest chart major the shell tool was tested with.
const OLDEST_TESTED_CHART_MAJOR: u64 = 11;

/// WARN when the chart's major version is below 11; INFO with the generation otherwise.
pub fn judge_chart_version(chart_version: &str, generation: Generation) -> Finding {
    // `--chart-version 8.8` names the Camunda minor, not the chart.
    let text = chart_version.trim();
    let major = if text.starts_with("8.") || text.starts_with("v8.") {
        generation.chart_major()
    } else {
        text.split(['.', '-'])
            .next()
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(generation.chart_major())
    };
    if major < OLDEST_TESTED_CHART_MAJOR {
        Finding::warn(
            Code::ChartVersion,
            format!(
                "Chart version {chart_version} ({generation}) is older than 11.x; these checks are only known to hold from chart 11 (Camunda 8.6) on."
            ),
        )
    } else {
        Finding::info(
            Code::ChartVersion,
            format!("Chart version {chart_version}: rules of {generation} apply."),
        )
    }
}

/// Where Keycloak comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeycloakMode {
    /// The chart's identityKeycloak subchart is deployed: its database access is checked.
    Bundled,
    /// An external Keycloak (e.g. from the Keycloak Operator) at `global.identity.keycloak.url`.
    External,
    /// This chart deploys no Keycloak and points at none.
    None,
}

/// Decide where Keycloak comes from, from what the chart will really deploy.
///
/// The shell tool took `global.identity.keycloak.internal: false` (user value, else chart
/// default) to mean "external Keycloak". But every chart generation defaults that key to
/// `false` (it only adds an ExternalName service when true), so that rule called every
/// bundled Keycloak external. Here the subchart's own switch decides whether it is deployed;
/// Keycloak is external when the subchart is not deployed and the values point elsewhere
/// (an explicit `internal: false`, as Camunda's operator overlay sets, or a `url.host`).
pub fn keycloak_mode(values: &Values, generation: Generation) -> (KeycloakMode, Finding) {
    let subchart = Component::IdentityKeycloak;
    let internal_path = ["global", "identity", "keycloak", "internal"];
    let explicit_internal_false =
        values.user_has(&internal_path) && read::flag(values, &internal_path) == Flag::Set(false);
    let url_host = read::text(values, &["global", "identity", "keycloak", "url", "host"]);
    let deployed =
        subchart.exists_in(generation) && read::flag(values, &subchart.enabled_path()).truthy();

    if deployed {
        let mut message = "Keycloak is the bundled identityKeycloak subchart (identityKeycloak.enabled is true): its database access is checked.".to_string();
        if explicit_internal_false {
            message.push_str(" Note: global.identity.keycloak.internal is false in your values, but the subchart is still enabled and deployed.");
        }
        return (
            KeycloakMode::Bundled,
            Finding::info(Code::KeycloakMode, message),
        );
    }
    if explicit_internal_false || url_host.is_some() {
        let why = if explicit_internal_false {
            "global.identity.keycloak.internal=false"
        } else {
            "global.identity.keycloak.url.host is set"
        };
        return (
            KeycloakMode::External,
            Finding::info(
                Code::KeycloakMode,
                format!(
                    "Keycloak is external, e.g. operator-managed ({why}); the identityKeycloak subchart checks are skipped and the external Keycloak is verified instead."
                ),
            ),
        );
    }
    let why = if subchart.exists_in(generation) {
        "identityKeycloak.enabled is false".to_string()
    } else {
        format!(
            "chart {} has no identityKeycloak subchart",
            generation.label()
        )
    };
    (
        KeycloakMode::None,
        Finding::info(
            Code::KeycloakMode,
            format!("This release deploys no Keycloak ({why}) and points at no external one."),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;
    use serde_json::json;

    fn defaults(enabled: bool) -> serde_json::Value {
        json!({
            "global": {"identity": {"keycloak": {"internal": false, "url": {}}}},
            "identityKeycloak": {"enabled": enabled}
        })
    }

    #[test]
    fn chart_version_warns_below_11() {
        let f = judge_chart_version("10.11.3", Generation::V8_5);
        assert_eq!(f.level, Level::Warn);
        assert!(f.message.contains("10.11.3"));
        assert_eq!(
            judge_chart_version("11.0.1", Generation::V8_6).level,
            Level::Info
        );
        assert_eq!(
            judge_chart_version("15.0.0-alpha4", Generation::V8_10).level,
            Level::Info
        );
        // An unreadable version falls back to the generation's major.
        assert_eq!(
            judge_chart_version("garbage", Generation::V8_8).level,
            Level::Info
        );
    }

    #[test]
    fn default_internal_false_is_not_external_when_the_subchart_is_deployed() {
        // 8.7: identityKeycloak.enabled defaults to true and internal to false.
        let values = Values::new(json!({}), defaults(true));
        assert_eq!(
            keycloak_mode(&values, Generation::V8_7).0,
            KeycloakMode::Bundled
        );
    }

    #[test]
    fn operator_overlay_is_external() {
        let values = Values::new(
            json!({"global": {"identity": {"keycloak": {"internal": false, "url": {"host": "keycloak-service", "port": "18080"}}}}}),
            defaults(false),
        );
        let (mode, finding) = keycloak_mode(&values, Generation::V8_9);
        assert_eq!(mode, KeycloakMode::External);
        assert!(finding.message.contains("internal=false"));
    }

    #[test]
    fn url_host_alone_is_external_and_nothing_is_none() {
        let values = Values::new(
            json!({"global": {"identity": {"keycloak": {"url": {"host": "kc.example.com"}}}}}),
            defaults(false),
        );
        assert_eq!(
            keycloak_mode(&values, Generation::V8_8).0,
            KeycloakMode::External
        );
        let values = Values::new(json!({}), defaults(false));
        assert_eq!(
            keycloak_mode(&values, Generation::V8_8).0,
            KeycloakMode::None
        );
        let values = Values::new(json!({}), json!({}));
        let (mode, finding) = keycloak_mode(&values, Generation::V8_10);
        assert_eq!(mode, KeycloakMode::None);
        assert!(finding.message.contains("no identityKeycloak subchart"));
    }

    #[test]
    fn explicit_internal_false_with_enabled_subchart_is_bundled_with_a_note() {
        let values = Values::new(
            json!({"global": {"identity": {"keycloak": {"internal": false}}}, "identityKeycloak": {"enabled": true}}),
            defaults(false),
        );
        let (mode, finding) = keycloak_mode(&values, Generation::V8_8);
        assert_eq!(mode, KeycloakMode::Bundled);
        assert!(finding.message.contains("still enabled"));
    }
}
