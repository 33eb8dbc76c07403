//! Section 3 of the catalogue: which components are checked, and under which service
//! account each one runs.

use crate::chart::{Category, Component, Generation, component_fullname};
use crate::checks::preflight::KeycloakMode;
use crate::checks::read::{self, Flag};
use crate::code::Code;
use crate::finding::Finding;
use crate::values::Values;

/// What the user asked for (`-p`, `-l`, `-e`); `None` means the chart's default list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub postgres: Option<Vec<Component>>,
    pub opensearch: Option<Vec<Component>>,
    pub exclude: Vec<Component>,
}

/// A component that will be checked, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedComponent {
    pub component: Component,
    pub category: Category,
    pub service_account: ServiceAccountPlan,
}

/// The service account the chart gives a component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccountPlan {
    /// The values key of the switch (`identity.serviceAccount.enabled`,
    /// `identityKeycloak.serviceAccount.create`).
    pub switch_path: String,
    /// False only when the switch is explicitly false.
    pub enabled: bool,
    pub name: ServiceAccountName,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceAccountName {
    /// The name, and where it came from (a values key, or the chart's naming rule).
    Resolved { name: String, source: String },
    /// The chart's default name needs the release name, which is unknown (values files
    /// without `--release`). `pattern` shows the rule, e.g. `<release>-zeebe`.
    NeedsRelease { pattern: String },
    /// The values hold something that cannot be a service account name.
    Invalid { value: String, reason: String },
}

impl ServiceAccountName {
    pub fn resolved(&self) -> Option<&str> {
        match self {
            ServiceAccountName::Resolved { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The outcome of section 3.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub findings: Vec<Finding>,
    pub postgres: Vec<PlannedComponent>,
    pub opensearch: Vec<PlannedComponent>,
    /// identityKeycloak was asked for, and Keycloak is external: section 5 verifies the
    /// external Keycloak (code 86) instead of the subchart.
    pub external_keycloak: bool,
}

impl Plan {
    /// Every planned component, PostgreSQL ones first, in catalogue order.
    pub fn all(&self) -> impl Iterator<Item = &PlannedComponent> {
        self.postgres.iter().chain(self.opensearch.iter())
    }
}

fn names(list: &[Component]) -> String {
    if list.is_empty() {
        "(none)".to_string()
    } else {
        list.iter().map(|c| c.key()).collect::<Vec<_>>().join(",")
    }
}

/// Decide which components are checked (section 3 of the catalogue).
pub fn plan(
    generation: Generation,
    values: &Values,
    release: Option<&str>,
    selection: &Selection,
    keycloak: KeycloakMode,
) -> Plan {
    let mut plan = Plan::default();
    let postgres = selection
        .postgres
        .clone()
        .unwrap_or_else(|| generation.default_postgres());
    let opensearch = selection
        .opensearch
        .clone()
        .unwrap_or_else(|| generation.default_opensearch());
    plan.findings.push(Finding::info(
        Code::ComponentSelection,
        format!(
            "Components to check for IRSA (PostgreSQL): {}",
            names(&postgres)
        ),
    ));
    plan.findings.push(Finding::info(
        Code::ComponentSelection,
        format!(
            "Components to check for IRSA (OpenSearch): {}",
            names(&opensearch)
        ),
    ));
    if !selection.exclude.is_empty() {
        plan.findings.push(Finding::info(
            Code::ComponentSelection,
            format!(
                "Components to exclude from IRSA checks: {}",
                names(&selection.exclude)
            ),
        ));
    }
    // Exclusions are mapped like the lists, so `-e zeebe` also excludes orchestration on 8.8.
    let excluded: Vec<Component> = selection
        .exclude
        .iter()
        .filter_map(|c| c.successor_in(generation))
        .collect();

    let mut mapped_notes = Vec::new();
    for (category, list) in [
        (Category::Postgres, postgres),
        (Category::OpenSearch, opensearch),
    ] {
        let mut seen = Vec::new();
        for asked in list {
            // An external Keycloak replaces the subchart whatever its switch says, and
            // also on 8.10, whose chart has no subchart at all.
            if asked == Component::IdentityKeycloak && keycloak == KeycloakMode::External {
                if category == Category::Postgres {
                    plan.external_keycloak = true;
                }
                plan.findings.push(
                    Finding::info(
                        Code::ComponentSelection,
                        "Skipping the identityKeycloak service account: Keycloak is external, so the subchart's account is not used.",
                    )
                    .component(asked.key()),
                );
                continue;
            }
            let Some(component) = asked.successor_in(generation) else {
                if asked == Component::IdentityKeycloak {
                    plan.findings.push(
                        Finding::info(
                            Code::ComponentSelection,
                            format!(
                                "Skipping identityKeycloak: chart {} has no Keycloak subchart.",
                                generation.label()
                            ),
                        )
                        .component(asked.key()),
                    );
                } else {
                    plan.findings.push(
                        Finding::fail(
                            Code::ComponentSelection,
                            format!(
                                "Component {asked} does not exist in the deployed chart ({generation}); its components are: {}.",
                                names(&generation.components())
                            ),
                        )
                        .component(asked.key()),
                    );
                }
                continue;
            };
            if component != asked && !mapped_notes.contains(&asked) {
                mapped_notes.push(asked);
                plan.findings.push(
                    Finding::info(
                        Code::ComponentSelection,
                        format!(
                            "From Camunda 8.8 {asked} is part of the orchestration cluster: checking {component} instead (once)."
                        ),
                    )
                    .component(asked.key()),
                );
            }
            if seen.contains(&component) {
                continue;
            }
            seen.push(component);
            if excluded.contains(&component) {
                plan.findings.push(
                    Finding::info(
                        Code::ComponentSelection,
                        format!("Skipping excluded component: {component}"),
                    )
                    .component(component.key()),
                );
                continue;
            }
            if let Some(reason) = disabled_reason(component, generation, values) {
                plan.findings.push(
                    Finding::info(
                        Code::ComponentSelection,
                        format!(
                            "Component {component} is disabled ({reason}), skipping verification."
                        ),
                    )
                    .component(component.key()),
                );
                continue;
            }
            let planned = PlannedComponent {
                component,
                category,
                service_account: service_account(component, generation, values, release),
            };
            match category {
                Category::Postgres => plan.postgres.push(planned),
                Category::OpenSearch => plan.opensearch.push(planned),
            }
        }
    }
    plan
}

/// Why a component is off, if it is (user values, then chart defaults).
fn disabled_reason(
    component: Component,
    generation: Generation,
    values: &Values,
) -> Option<String> {
    if component == Component::WebModeler && generation.has_camunda_hub() {
        // 8.10: Web Modeler runs when camundaHub or webModeler is enabled, unless the
        // topology is orchestration-only.
        let hub = read::flag(values, &["camundaHub", "enabled"]);
        let wm = read::flag(values, &["webModeler", "enabled"]);
        if read::text(values, &["global", "topology", "mode"]).as_deref() == Some("orchestration") {
            return Some("global.topology.mode is orchestration".into());
        }
        return (!hub.truthy() && !wm.truthy())
            .then(|| "camundaHub.enabled and webModeler.enabled are not true".into());
    }
    let path = component.enabled_path();
    read::flag(values, &path)
        .is_false()
        .then(|| format!("{}: false", read::dotted(&path)))
}

/// The service account the chart gives a component (the chart's helpers
/// `camundaPlatform.serviceAccountName` and, for Keycloak, `keycloak.serviceAccountName`).
pub fn service_account(
    component: Component,
    generation: Generation,
    values: &Values,
    release: Option<&str>,
) -> ServiceAccountPlan {
    let key = component.key();
    let switch_key = if component == Component::IdentityKeycloak {
        "create"
    } else {
        "enabled"
    };
    // 8.10: camundaHub.serviceAccount.* wins over webModeler.serviceAccount.*.
    let hub = component == Component::WebModeler && generation.has_camunda_hub();
    let pick = |leaf: &str| -> (String, Option<serde_json::Value>) {
        if hub && let Some(v) = values.get(&["camundaHub", "serviceAccount", leaf]) {
            return (format!("camundaHub.serviceAccount.{leaf}"), Some(v.clone()));
        }
        (
            format!("{key}.serviceAccount.{leaf}"),
            values.get(&[key, "serviceAccount", leaf]).cloned(),
        )
    };

    let (switch_path, switch_value) = pick(switch_key);
    let enabled = !matches!(switch_value.as_ref().map(flag_of), Some(Flag::Set(false)));
    let (name_path, name_value) = pick("name");
    let name = match name_value {
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => None,
        Some(serde_json::Value::String(s)) => Some(Ok(s.trim().to_string())),
        Some(other) => Some(Err(read::short_json(&other))),
        None => None,
    };
    let name = match name {
        Some(Ok(name)) => match invalid_name_reason(&name) {
            None => ServiceAccountName::Resolved {
                name,
                source: name_path,
            },
            Some(reason) => ServiceAccountName::Invalid {
                value: name,
                reason,
            },
        },
        Some(Err(value)) => ServiceAccountName::Invalid {
            value,
            reason: format!("{name_path} is not a string"),
        },
        None if !enabled => ServiceAccountName::Resolved {
            name: "default".into(),
            source: format!(
                "{switch_path} is false, so pods run as the namespace's default account"
            ),
        },
        None => default_name(component, values, release),
    };
    ServiceAccountPlan {
        switch_path,
        enabled,
        name,
    }
}

fn flag_of(value: &serde_json::Value) -> Flag {
    match value {
        serde_json::Value::Bool(b) => Flag::Set(*b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Flag::Set(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Flag::Set(false),
        other => Flag::Invalid(read::short_json(other)),
    }
}

/// `<c>.fullnameOverride`, else the componentFullname rule with `<c>.nameOverride`.
fn default_name(
    component: Component,
    values: &Values,
    release: Option<&str>,
) -> ServiceAccountName {
    let key = component.key();
    if let Some(full) = read::text(values, &[key, "fullnameOverride"]) {
        return ServiceAccountName::Resolved {
            source: format!(
                "{key}.fullnameOverride (the chart names the account after the component)"
            ),
            name: full,
        };
    }
    let name = read::text(values, &[key, "nameOverride"])
        .unwrap_or_else(|| component.resource_name().to_string());
    match release {
        Some(release) => ServiceAccountName::Resolved {
            name: component_fullname(release, &name),
            source: format!(
                "the chart's default for {key} (no {key}.serviceAccount.name): release name and '{name}'"
            ),
        },
        None => ServiceAccountName::NeedsRelease {
            pattern: format!("<release>-{name}"),
        },
    }
}

/// Kubernetes names service accounts with DNS-1123 subdomains.
fn invalid_name_reason(name: &str) -> Option<String> {
    if name.len() > 253 {
        return Some("longer than 253 characters".into());
    }
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ok_ends = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    (!ok_chars || !ok_ends).then(|| {
        "not a valid Kubernetes name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)".into()
    })
}

/// Code 101 and 162 for one planned component (section 6, the values part).
pub fn judge_service_account(planned: &PlannedComponent) -> Vec<Finding> {
    let c = planned.component.key();
    let sa = &planned.service_account;
    let mut out = Vec::new();
    if sa.enabled {
        out.push(
            Finding::ok(
                Code::ServiceAccountEnabled,
                format!("Service account for {c} is enabled"),
            )
            .component(c),
        );
    } else {
        out.push(
            Finding::fail(
                Code::ServiceAccountEnabled,
                format!("Cannot expect IRSA to work if the service account for {c} is not enabled ({}: false).", sa.switch_path),
            )
            .component(c)
            .hint(format!("Set {} to true, or exclude {c} with -e.", sa.switch_path)),
        );
    }
    match &sa.name {
        ServiceAccountName::Resolved { name, source } => out.push(
            Finding::ok(Code::ServiceAccountName, format!("Service account of {c}: {name} (from {source})")).component(c),
        ),
        ServiceAccountName::NeedsRelease { pattern } => out.push(
            Finding::info(
                Code::ServiceAccountName,
                format!("Service account of {c} follows the chart's default {pattern}; the release name is unknown."),
            )
            .component(c)
            .hint("Pass --release NAME to resolve it."),
        ),
        ServiceAccountName::Invalid { value, reason } => out.push(
            Finding::fail(
                Code::ServiceAccountName,
                format!("Service account name of {c} cannot be resolved: {value} is {reason}."),
            )
            .component(c),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;
    use serde_json::json;

    fn defaults_88() -> serde_json::Value {
        json!({
            "orchestration": {"enabled": true, "serviceAccount": {"enabled": true, "name": ""}},
            "optimize": {"enabled": false, "serviceAccount": {"enabled": true, "name": ""}},
            "identity": {"enabled": false, "serviceAccount": {"enabled": true, "name": ""}},
            "identityKeycloak": {"enabled": false, "nameOverride": "keycloak"},
            "webModeler": {"enabled": false, "serviceAccount": {"enabled": true, "name": ""}},
            "connectors": {"enabled": true}
        })
    }

    fn keys(list: &[PlannedComponent]) -> Vec<&str> {
        list.iter().map(|p| p.component.key()).collect()
    }

    #[test]
    fn default_lists_skip_disabled_components() {
        let values = Values::new(json!({"optimize": {"enabled": true}}), defaults_88());
        let plan = plan(
            Generation::V8_8,
            &values,
            Some("camunda"),
            &Selection::default(),
            KeycloakMode::None,
        );
        assert_eq!(keys(&plan.postgres), Vec::<&str>::new());
        assert_eq!(keys(&plan.opensearch), vec!["orchestration", "optimize"]);
        assert!(plan.findings.iter().any(|f| f.message
            == "Component identity is disabled (identity.enabled: false), skipping verification."));
        assert!(!plan.findings.iter().any(|f| f.level == Level::Fail));
    }

    #[test]
    fn old_names_map_to_orchestration_once_on_8_8() {
        let values = Values::new(json!({}), defaults_88());
        let selection = Selection {
            opensearch: Some(vec![Component::Zeebe, Component::Operate]),
            postgres: Some(vec![]),
            exclude: vec![],
        };
        let plan = plan(
            Generation::V8_8,
            &values,
            Some("camunda"),
            &selection,
            KeycloakMode::None,
        );
        assert_eq!(keys(&plan.opensearch), vec!["orchestration"]);
        let notes = plan
            .findings
            .iter()
            .filter(|f| f.message.contains("part of the orchestration cluster"))
            .count();
        assert_eq!(notes, 2);
        // orchestration keeps the zeebe account name.
        assert_eq!(
            plan.opensearch[0].service_account.name.resolved(),
            Some("camunda-zeebe")
        );
    }

    #[test]
    fn orchestration_on_8_7_is_a_failure_naming_the_chart() {
        let values = Values::new(json!({}), json!({}));
        let selection = Selection {
            opensearch: Some(vec![Component::Orchestration]),
            ..Default::default()
        };
        let plan = plan(
            Generation::V8_7,
            &values,
            Some("camunda"),
            &selection,
            KeycloakMode::Bundled,
        );
        let fail = plan
            .findings
            .iter()
            .find(|f| f.level == Level::Fail)
            .unwrap();
        assert_eq!(fail.code, Code::ComponentSelection);
        assert!(fail.message.contains("Camunda 8.7"), "{}", fail.message);
        assert!(
            fail.message.contains("zeebe,zeebeGateway,operate,tasklist"),
            "{}",
            fail.message
        );
    }

    #[test]
    fn exclusions_are_mapped_too() {
        let values = Values::new(json!({}), defaults_88());
        let selection = Selection {
            exclude: vec![Component::Zeebe],
            ..Default::default()
        };
        let plan = plan(
            Generation::V8_8,
            &values,
            Some("camunda"),
            &selection,
            KeycloakMode::None,
        );
        assert!(keys(&plan.opensearch).is_empty());
    }

    #[test]
    fn keycloak_external_goes_to_section_5_only() {
        let values = Values::new(
            json!({"identityKeycloak": {"enabled": true}}),
            defaults_88(),
        );
        let plan = plan(
            Generation::V8_8,
            &values,
            Some("camunda"),
            &Selection::default(),
            KeycloakMode::External,
        );
        assert!(plan.external_keycloak);
        assert!(!keys(&plan.postgres).contains(&"identityKeycloak"));
    }

    #[test]
    fn service_account_names_follow_the_chart() {
        let d = defaults_88();
        let sa = |user: serde_json::Value, c: Component, release: Option<&str>| {
            service_account(c, Generation::V8_8, &Values::new(user, d.clone()), release)
        };
        assert_eq!(
            sa(
                json!({"identity": {"serviceAccount": {"name": "identity-sa"}}}),
                Component::Identity,
                Some("camunda")
            )
            .name,
            ServiceAccountName::Resolved {
                name: "identity-sa".into(),
                source: "identity.serviceAccount.name".into()
            }
        );
        assert_eq!(
            sa(json!({}), Component::WebModeler, Some("camunda"))
                .name
                .resolved(),
            Some("camunda-web-modeler")
        );
        assert_eq!(
            sa(json!({}), Component::IdentityKeycloak, Some("camunda"))
                .name
                .resolved(),
            Some("camunda-keycloak")
        );
        // The release name already contains the component name.
        assert_eq!(
            sa(json!({}), Component::Optimize, Some("optimize-prod"))
                .name
                .resolved(),
            Some("optimize-prod")
        );
        assert_eq!(
            sa(
                json!({"optimize": {"fullnameOverride": "opt"}}),
                Component::Optimize,
                Some("c")
            )
            .name
            .resolved(),
            Some("opt")
        );
        assert_eq!(
            sa(
                json!({"optimize": {"nameOverride": "opt"}}),
                Component::Optimize,
                Some("c")
            )
            .name
            .resolved(),
            Some("c-opt")
        );
        assert_eq!(
            sa(json!({}), Component::Identity, None).name,
            ServiceAccountName::NeedsRelease {
                pattern: "<release>-identity".into()
            }
        );
        let disabled = sa(
            json!({"identity": {"serviceAccount": {"enabled": false}}}),
            Component::Identity,
            Some("c"),
        );
        assert!(!disabled.enabled);
        assert_eq!(disabled.name.resolved(), Some("default"));
        let keycloak = sa(
            json!({"identityKeycloak": {"serviceAccount": {"create": "false"}}}),
            Component::IdentityKeycloak,
            Some("c"),
        );
        assert!(!keycloak.enabled);
        assert_eq!(
            keycloak.switch_path,
            "identityKeycloak.serviceAccount.create"
        );
        assert!(matches!(
            sa(
                json!({"identity": {"serviceAccount": {"name": "Identity_SA"}}}),
                Component::Identity,
                Some("c")
            )
            .name,
            ServiceAccountName::Invalid { .. }
        ));
        assert!(matches!(
            sa(
                json!({"identity": {"serviceAccount": {"name": {"a": 1}}}}),
                Component::Identity,
                Some("c")
            )
            .name,
            ServiceAccountName::Invalid { .. }
        ));
    }

    #[test]
    fn camunda_hub_account_wins_on_8_10() {
        let values = Values::new(
            json!({"camundaHub": {"enabled": true, "serviceAccount": {"name": "hub-sa"}}, "webModeler": {"serviceAccount": {"name": "wm-sa"}}}),
            json!({"webModeler": {"enabled": false}, "camundaHub": {"enabled": false, "serviceAccount": {}}}),
        );
        let sa = service_account(Component::WebModeler, Generation::V8_10, &values, Some("c"));
        assert_eq!(sa.name.resolved(), Some("hub-sa"));
        let p = plan(
            Generation::V8_10,
            &values,
            Some("c"),
            &Selection {
                postgres: Some(vec![Component::WebModeler]),
                opensearch: Some(vec![]),
                exclude: vec![],
            },
            KeycloakMode::None,
        );
        assert_eq!(keys(&p.postgres), vec!["webModeler"]);
        // Same on 8.9, where camundaHub means nothing.
        let sa = service_account(Component::WebModeler, Generation::V8_9, &values, Some("c"));
        assert_eq!(sa.name.resolved(), Some("wm-sa"));
    }

    #[test]
    fn judge_101_and_162() {
        let values = Values::new(
            json!({"identity": {"serviceAccount": {"enabled": false}}}),
            defaults_88(),
        );
        let planned = PlannedComponent {
            component: Component::Identity,
            category: Category::Postgres,
            service_account: service_account(
                Component::Identity,
                Generation::V8_8,
                &values,
                Some("c"),
            ),
        };
        let findings = judge_service_account(&planned);
        assert_eq!(findings[0].level, Level::Fail);
        assert_eq!(findings[0].code.number(), 101);
        assert_eq!(findings[1].level, Level::Ok);
        assert_eq!(findings[1].code.number(), 162);
    }
}
