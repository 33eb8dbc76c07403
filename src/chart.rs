//! The Camunda chart model: which components each chart generation has, what they are
//! called, which of them reach PostgreSQL or OpenSearch by default, and which key paths
//! each generation reads. Every version-dependent rule of the tool lives here.

use std::fmt;

/// A Camunda chart generation (one Camunda minor version, one chart major version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Generation {
    /// Camunda 8.5, chart 10.x.
    V8_5,
    /// Camunda 8.6, chart 11.x.
    V8_6,
    /// Camunda 8.7, chart 12.x.
    V8_7,
    /// Camunda 8.8, chart 13.x: `orchestration` replaces zeebe, zeebeGateway, operate, tasklist.
    V8_8,
    /// Camunda 8.9, chart 14.x: per-component OpenSearch keys, webModeler `username`.
    V8_9,
    /// Camunda 8.10, chart 15.x: `camundaHub`, no Keycloak subchart.
    V8_10,
}

impl Generation {
    pub const ALL: &'static [Generation] = &[
        Generation::V8_5,
        Generation::V8_6,
        Generation::V8_7,
        Generation::V8_8,
        Generation::V8_9,
        Generation::V8_10,
    ];

    /// The Camunda minor version, `8.8`.
    pub fn label(self) -> &'static str {
        match self {
            Generation::V8_5 => "8.5",
            Generation::V8_6 => "8.6",
            Generation::V8_7 => "8.7",
            Generation::V8_8 => "8.8",
            Generation::V8_9 => "8.9",
            Generation::V8_10 => "8.10",
        }
    }

    /// The chart's major version for this generation.
    pub fn chart_major(self) -> u64 {
        match self {
            Generation::V8_5 => 10,
            Generation::V8_6 => 11,
            Generation::V8_7 => 12,
            Generation::V8_8 => 13,
            Generation::V8_9 => 14,
            Generation::V8_10 => 15,
        }
    }

    pub fn from_chart_major(major: u64) -> Option<Self> {
        Self::ALL.iter().copied().find(|g| g.chart_major() == major)
    }

    fn from_minor(minor: u64) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|g| g.label() == format!("8.{minor}"))
    }

    /// The generation of a chart version such as `13.12.7`, `15.0.0-alpha4` or
    /// `camunda-platform-13.1.0`.
    pub fn from_chart_version(version: &str) -> Option<Self> {
        let version = version.trim().trim_start_matches("camunda-platform-");
        let version = version.strip_prefix('v').unwrap_or(version);
        let major = version.split(['.', '-']).next()?.parse().ok()?;
        Self::from_chart_major(major)
    }

    /// The generation of a Camunda application version such as `8.8.x` or `8.8.3`.
    pub fn from_app_version(version: &str) -> Option<Self> {
        let version = version.trim();
        let version = version.strip_prefix('v').unwrap_or(version);
        let mut parts = version.split(['.', '-']);
        if parts.next()? != "8" {
            return None;
        }
        Self::from_minor(parts.next()?.parse().ok()?)
    }

    /// What a user may pass to `--chart-version`: a Camunda minor (`8.8`), or a chart
    /// version (`13`, `13.12.7`, `15.0.0-alpha4`).
    pub fn parse_user(text: &str) -> Option<Self> {
        let t = text.trim();
        if t.starts_with("8.") || t.starts_with("v8.") {
            Self::from_app_version(t)
        } else {
            Self::from_chart_version(t)
        }
    }

    /// The components this generation's chart has as top-level keys.
    pub fn components(self) -> Vec<Component> {
        Component::ALL
            .iter()
            .copied()
            .filter(|c| c.exists_in(self))
            .collect()
    }

    /// The default list of components that reach Aurora PostgreSQL with IRSA.
    pub fn default_postgres(self) -> Vec<Component> {
        vec![
            Component::IdentityKeycloak,
            Component::Identity,
            Component::WebModeler,
        ]
    }

    /// The default list of components that reach OpenSearch with IRSA.
    pub fn default_opensearch(self) -> Vec<Component> {
        if self >= Generation::V8_8 {
            vec![Component::Orchestration, Component::Optimize]
        } else {
            vec![
                Component::Zeebe,
                Component::Operate,
                Component::Tasklist,
                Component::Optimize,
            ]
        }
    }

    /// From 8.9 the chart reads OpenSearch settings per component before the globals.
    pub fn has_per_component_opensearch(self) -> bool {
        self >= Generation::V8_9
    }

    /// 8.10 adds the `camundaHub` overlay over `webModeler`.
    pub fn has_camunda_hub(self) -> bool {
        self >= Generation::V8_10
    }
}

impl Generation {
    /// The chart's default values for the keys the checks read, per generation (from
    /// the chart's values.yaml of each Camunda minor). Used under the release's own
    /// `chart.values` (which wins) and alone for `--values` files, so that a component the
    /// chart leaves disabled by default is not checked as if it ran.
    pub fn builtin_defaults(self) -> serde_json::Value {
        use Generation::*;
        use serde_json::json;
        let sa = || json!({"enabled": true, "name": ""});
        let old = self <= V8_7;
        let mut d = json!({
            "global": {
                "elasticsearch": {"enabled": self <= V8_8},
                "opensearch": {
                    "enabled": false,
                    "aws": {"enabled": false},
                    "url": {"protocol": "https", "host": "", "port": 443}
                },
                "identity": {"keycloak": {"internal": false, "url": {}}}
            },
            "optimize": {"enabled": old, "serviceAccount": sa()},
            "identity": {
                "enabled": old,
                "serviceAccount": sa(),
                "externalDatabase": {
                    "enabled": false,
                    "host": if old { serde_json::Value::Null } else { json!("") },
                    "port": if old { serde_json::Value::Null } else { json!(5432) },
                    "username": if old { serde_json::Value::Null } else { json!("") }
                },
                "env": []
            },
            "webModeler": {
                "enabled": false,
                "serviceAccount": sa(),
                "restapi": {"externalDatabase": {"url": ""}, "env": []}
            },
            "connectors": {"enabled": true, "serviceAccount": sa()}
        });
        let wm_db = &mut d["webModeler"]["restapi"]["externalDatabase"];
        if self <= V8_9 {
            wm_db["user"] = json!("");
        }
        if self >= V8_9 {
            wm_db["username"] = json!("");
        }
        if self >= V8_7 {
            wm_db["host"] = json!("");
        }
        if self <= V8_9 {
            d["identityKeycloak"] = json!({
                "enabled": old,
                "nameOverride": "keycloak",
                "image": {"repository": if self == V8_5 { "bitnamilegacy/keycloak" } else { "camunda/keycloak" }},
                "extraEnvVars": if self <= V8_6 {
                    json!([{"name": "KEYCLOAK_PROXY_ADDRESS_FORWARDING", "value": "{{ .Values.global.ingress.tls.enabled }}"}])
                } else {
                    json!([])
                }
            });
            d["console"] = json!({"enabled": false, "serviceAccount": sa()});
        }
        if old {
            for key in ["zeebe", "operate", "tasklist"] {
                d[key] = json!({"enabled": true, "serviceAccount": sa()});
            }
            d["zeebeGateway"] = json!({"serviceAccount": sa()});
        } else {
            d["orchestration"] = json!({"enabled": true, "serviceAccount": sa()});
        }
        if self >= V8_9 {
            d["optimize"]["database"] = json!({"opensearch": {"enabled": false, "aws": {"enabled": false}, "url": {"host": ""}}});
            d["orchestration"]["data"] = json!({"secondaryStorage": {"type": "", "opensearch": {"aws": {"enabled": false}, "url": ""}}});
        }
        if self >= V8_10 {
            d["camundaHub"] = json!({"enabled": false, "restapi": {"externalDatabase": {}}, "serviceAccount": {}});
            d["global"]["topology"] = json!({"mode": "combined"});
            d["global"]["identity"]["keycloak"]["url"] =
                json!({"protocol": "", "host": "", "port": ""});
        }
        d
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Camunda {}, chart {}.x",
            self.label(),
            self.chart_major()
        )
    }
}

/// A component of the Camunda chart, named by its top-level values key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    Zeebe,
    ZeebeGateway,
    Operate,
    Tasklist,
    Optimize,
    Orchestration,
    Identity,
    IdentityKeycloak,
    WebModeler,
    Connectors,
    Console,
    ExecutionIdentity,
}

impl Component {
    pub const ALL: &'static [Component] = &[
        Component::Zeebe,
        Component::ZeebeGateway,
        Component::Operate,
        Component::Tasklist,
        Component::Optimize,
        Component::Orchestration,
        Component::Identity,
        Component::IdentityKeycloak,
        Component::WebModeler,
        Component::Connectors,
        Component::Console,
        Component::ExecutionIdentity,
    ];

    /// The chart's top-level values key, in the chart's spelling.
    pub fn key(self) -> &'static str {
        match self {
            Component::Zeebe => "zeebe",
            Component::ZeebeGateway => "zeebeGateway",
            Component::Operate => "operate",
            Component::Tasklist => "tasklist",
            Component::Optimize => "optimize",
            Component::Orchestration => "orchestration",
            Component::Identity => "identity",
            Component::IdentityKeycloak => "identityKeycloak",
            Component::WebModeler => "webModeler",
            Component::Connectors => "connectors",
            Component::Console => "console",
            Component::ExecutionIdentity => "executionIdentity",
        }
    }

    /// The kebab-case name the chart builds resource names from (`<release>-<name>`).
    /// The orchestration cluster keeps `zeebe` "for backward compatibility between 8.7
    /// and 8.8"; the Keycloak subchart is renamed `keycloak` by `nameOverride`.
    pub fn resource_name(self) -> &'static str {
        match self {
            Component::Zeebe | Component::Orchestration => "zeebe",
            Component::ZeebeGateway => "zeebe-gateway",
            Component::Operate => "operate",
            Component::Tasklist => "tasklist",
            Component::Optimize => "optimize",
            Component::Identity => "identity",
            Component::IdentityKeycloak => "keycloak",
            Component::WebModeler => "web-modeler",
            Component::Connectors => "connectors",
            Component::Console => "console",
            Component::ExecutionIdentity => "execution-identity",
        }
    }

    /// Parse a user-given name, case-insensitively (`webmodeler` → `webModeler`).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.key().eq_ignore_ascii_case(name))
    }

    /// The chart generations that have this component as a top-level key.
    pub fn exists_in(self, generation: Generation) -> bool {
        use Generation::*;
        match self {
            Component::Zeebe
            | Component::ZeebeGateway
            | Component::Operate
            | Component::Tasklist => generation <= V8_7,
            Component::Orchestration => generation >= V8_8,
            Component::Optimize
            | Component::Identity
            | Component::WebModeler
            | Component::Connectors => true,
            Component::IdentityKeycloak => generation <= V8_9,
            Component::Console => generation <= V8_9,
            Component::ExecutionIdentity => (V8_6..=V8_7).contains(&generation),
        }
    }

    /// What this name means in a generation that does not have it: on 8.8+ zeebe,
    /// zeebeGateway, operate and tasklist all became `orchestration`.
    pub fn successor_in(self, generation: Generation) -> Option<Component> {
        if self.exists_in(generation) {
            return Some(self);
        }
        match self {
            Component::Zeebe
            | Component::ZeebeGateway
            | Component::Operate
            | Component::Tasklist
                if generation >= Generation::V8_8 =>
            {
                Some(Component::Orchestration)
            }
            _ => None,
        }
    }

    /// The switch that turns the component on or off. The Keycloak subchart is switched
    /// by `identityKeycloak.enabled` too (the parent chart's dependency condition).
    pub fn enabled_path(self) -> [&'static str; 2] {
        [self.key(), "enabled"]
    }

    /// The known component keys, for error messages.
    pub fn known_keys() -> String {
        Self::ALL
            .iter()
            .map(|c| c.key())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Why a component category is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Reaches Aurora PostgreSQL with IRSA (`-p`).
    Postgres,
    /// Reaches OpenSearch with IRSA (`-l`).
    OpenSearch,
}

impl Category {
    pub fn label(self) -> &'static str {
        match self {
            Category::Postgres => "PostgreSQL",
            Category::OpenSearch => "OpenSearch",
        }
    }
}

/// The Helm chart's resource-name rule (`camundaPlatform.componentFullname`): the release
/// name alone when it already contains the component's name, else `<release>-<name>`,
/// truncated to 63 characters without a trailing `-`.
pub fn component_fullname(release: &str, name: &str) -> String {
    let full = if release.contains(name) {
        release.to_string()
    } else {
        format!("{release}-{name}")
    };
    let mut truncated: String = full.chars().take(63).collect();
    while truncated.ends_with('-') {
        truncated.pop();
    }
    truncated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_from_versions() {
        assert_eq!(
            Generation::from_chart_version("13.12.7"),
            Some(Generation::V8_8)
        );
        assert_eq!(
            Generation::from_chart_version("15.0.0-alpha4"),
            Some(Generation::V8_10)
        );
        assert_eq!(
            Generation::from_chart_version("camunda-platform-12.13.3"),
            Some(Generation::V8_7)
        );
        assert_eq!(Generation::from_chart_version("9.7.0"), None);
        assert_eq!(Generation::from_chart_version(""), None);
        assert_eq!(Generation::from_chart_version("x.y"), None);
        assert_eq!(
            Generation::from_app_version("8.8.x"),
            Some(Generation::V8_8)
        );
        assert_eq!(
            Generation::from_app_version("8.10.0"),
            Some(Generation::V8_10)
        );
        assert_eq!(Generation::from_app_version("8.1.0"), None);
        assert_eq!(Generation::from_app_version("7.8.0"), None);
        assert_eq!(Generation::parse_user("8.9"), Some(Generation::V8_9));
        assert_eq!(Generation::parse_user("14"), Some(Generation::V8_9));
        assert_eq!(Generation::parse_user("14.8.4"), Some(Generation::V8_9));
        assert_eq!(Generation::parse_user("8.99"), None);
    }

    #[test]
    fn component_names_are_case_insensitive_and_written_back() {
        assert_eq!(Component::parse("webmodeler"), Some(Component::WebModeler));
        assert_eq!(
            Component::parse("IDENTITYKEYCLOAK"),
            Some(Component::IdentityKeycloak)
        );
        assert_eq!(Component::parse(" zeebe "), Some(Component::Zeebe));
        assert_eq!(Component::parse("web-modeler"), None);
        assert_eq!(Component::parse(""), None);
    }

    #[test]
    fn old_names_map_to_orchestration_from_8_8() {
        for old in [
            Component::Zeebe,
            Component::ZeebeGateway,
            Component::Operate,
            Component::Tasklist,
        ] {
            assert_eq!(
                old.successor_in(Generation::V8_8),
                Some(Component::Orchestration)
            );
            assert_eq!(old.successor_in(Generation::V8_7), Some(old));
        }
        assert_eq!(
            Component::Orchestration.successor_in(Generation::V8_7),
            None
        );
        assert_eq!(
            Component::IdentityKeycloak.successor_in(Generation::V8_10),
            None
        );
    }

    #[test]
    fn default_lists_follow_the_generation() {
        assert_eq!(
            Generation::V8_7.default_opensearch(),
            vec![
                Component::Zeebe,
                Component::Operate,
                Component::Tasklist,
                Component::Optimize
            ]
        );
        assert_eq!(
            Generation::V8_8.default_opensearch(),
            vec![Component::Orchestration, Component::Optimize]
        );
        for g in Generation::ALL {
            for c in g.default_opensearch() {
                assert!(c.exists_in(*g), "{c} in {g}");
            }
        }
    }

    #[test]
    fn builtin_defaults_follow_the_chart_generations() {
        let d = Generation::V8_8.builtin_defaults();
        assert_eq!(d["optimize"]["enabled"], false);
        assert_eq!(d["orchestration"]["enabled"], true);
        assert_eq!(
            d["identityKeycloak"]["image"]["repository"],
            "camunda/keycloak"
        );
        assert!(d.get("zeebe").is_none());
        let d = Generation::V8_7.builtin_defaults();
        assert_eq!(d["identity"]["enabled"], true);
        assert!(d["identity"]["externalDatabase"]["port"].is_null());
        assert!(
            d["webModeler"]["restapi"]["externalDatabase"]
                .get("username")
                .is_none()
        );
        let d = Generation::V8_9.builtin_defaults();
        assert_eq!(d["global"]["elasticsearch"]["enabled"], false);
        assert_eq!(d["webModeler"]["restapi"]["externalDatabase"]["user"], "");
        assert_eq!(
            d["webModeler"]["restapi"]["externalDatabase"]["username"],
            ""
        );
        let d = Generation::V8_10.builtin_defaults();
        assert!(d.get("identityKeycloak").is_none());
        assert!(
            d["webModeler"]["restapi"]["externalDatabase"]
                .get("user")
                .is_none()
        );
        assert!(d.get("camundaHub").is_some());
        assert_eq!(
            Generation::V8_5.builtin_defaults()["identityKeycloak"]["image"]["repository"],
            "bitnamilegacy/keycloak"
        );
    }

    #[test]
    fn fullname_follows_the_chart_rule() {
        assert_eq!(component_fullname("camunda", "zeebe"), "camunda-zeebe");
        assert_eq!(
            component_fullname("camunda", "web-modeler"),
            "camunda-web-modeler"
        );
        assert_eq!(component_fullname("my-zeebe", "zeebe"), "my-zeebe");
        let long = "r".repeat(62);
        assert_eq!(component_fullname(&long, "zeebe"), long);
        let long = "r".repeat(70);
        assert_eq!(component_fullname(&long, "zeebe").len(), 63);
    }
}
