//! Section 5 of the catalogue: Aurora PostgreSQL. Each database component's values
//! (81–98), then the Aurora cluster checks on the endpoint it uses (71–76).

use crate::chart::{Component, Generation};
use crate::checks::read::{self, EnvVar, Flag, Port};
use crate::code::Code;
use crate::facts::ApiError;
use crate::finding::Finding;
use crate::values::Values;

pub const DEFAULT_POSTGRES_PORT: u16 = 5432;
const AWS_JDBC_DRIVER: &str = "software.amazon.jdbc.Driver";
const JDBC_WRAPPER_PREFIX: &str = "jdbc:aws-wrapper:postgresql://";

/// The database a component connects to, as far as the values tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseTarget {
    pub component: Component,
    /// None when the values give no usable host (an earlier check failed).
    pub host: Option<String>,
    /// None when the port is invalid (code 72 says why).
    pub port: Option<u16>,
    pub port_problem: Option<String>,
    /// The database user the component logs in as (for `rds-db:connect`'s resource).
    pub db_user: Option<String>,
    pub database: Option<String>,
}

/// How an endpoint host names its Aurora cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointKind {
    /// `ID.cluster-HASH.REGION.rds.amazonaws.com`
    Writer,
    /// `ID.cluster-ro-HASH.…`
    Reader,
    /// `NAME.cluster-custom-HASH.…`: a custom endpoint; the cluster is looked up from it.
    Custom,
    /// `NAME.proxy-HASH.…` (or `EP.endpoint.proxy-HASH.…`): an RDS Proxy.
    Proxy,
    /// `ID.HASH.…`: one DB instance; its cluster is looked up from it.
    Instance,
}

/// An Aurora endpoint read from its host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuroraEndpoint {
    pub kind: EndpointKind,
    /// The cluster identifier (writer/reader), or the custom endpoint, proxy or instance name.
    pub identifier: String,
    pub region: String,
}

/// Read an RDS endpoint host (`rds.amazonaws.com`, or `.com.cn` in China).
pub fn parse_aurora_host(host: &str) -> Option<AuroraEndpoint> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let rest = host
        .strip_suffix(".rds.amazonaws.com")
        .or_else(|| host.strip_suffix(".rds.amazonaws.com.cn"))?;
    let labels: Vec<&str> = rest.split('.').collect();
    let (identifier, middle, region) = match labels.as_slice() {
        [id, middle, region] => (*id, *middle, *region),
        // Proxy endpoints of a proxy: EP.endpoint.proxy-HASH.REGION
        [id, "endpoint", middle, region] if middle.starts_with("proxy-") => (*id, *middle, *region),
        _ => return None,
    };
    if identifier.is_empty() || !crate::checks::opensearch::looks_like_region(region) {
        return None;
    }
    let kind = if middle.starts_with("cluster-custom-") {
        EndpointKind::Custom
    } else if middle.starts_with("cluster-ro-") {
        EndpointKind::Reader
    } else if middle.starts_with("cluster-") {
        EndpointKind::Writer
    } else if middle.starts_with("proxy-") {
        EndpointKind::Proxy
    } else if !middle.is_empty() && middle.chars().all(|c| c.is_ascii_alphanumeric()) {
        EndpointKind::Instance
    } else {
        return None;
    };
    Some(AuroraEndpoint {
        kind,
        identifier: identifier.to_string(),
        region: region.to_string(),
    })
}

/// The values checks of one PostgreSQL component (81–98, or 86 for an external
/// Keycloak), and the database it connects to.
pub fn judge_component_values(
    component: Component,
    generation: Generation,
    values: &Values,
) -> (Vec<Finding>, Option<DatabaseTarget>) {
    let (findings, target) = match component {
        Component::IdentityKeycloak => keycloak(values),
        Component::Identity => identity(values),
        Component::WebModeler => web_modeler(generation, values),
        other => {
            return (
                vec![
                    Finding::info(
                        Code::ComponentSelection,
                        format!("No database checks are defined for component {other}."),
                    )
                    .component(other.key()),
                ],
                None,
            );
        }
    };
    let c = component.key();
    (
        findings.into_iter().map(|f| f.component(c)).collect(),
        Some(target),
    )
}

fn port_of(values: &Values, path: &[&str]) -> (Option<u16>, Option<String>, Option<Finding>) {
    match read::port(values, path) {
        Port::Set(p) => (Some(p), None, None),
        Port::Unset => (
            Some(DEFAULT_POSTGRES_PORT),
            None,
            Some(Finding::info(
                Code::AuroraPort,
                format!(
                    "{} is not set: assuming the default port {DEFAULT_POSTGRES_PORT}.",
                    read::dotted(path)
                ),
            )),
        ),
        Port::Invalid(v) => (
            None,
            Some(format!("{} = {v} is not a TCP port", read::dotted(path))),
            None,
        ),
    }
}

/// A value the component cannot do without: OK with the value, or FAIL `code` naming the
/// key. `from` says where it was looked for.
fn required(values: &Values, path: &[&str], code: Code, from: &str) -> (Option<String>, Finding) {
    let key = read::dotted(path);
    match read::text(values, path) {
        None => (
            None,
            Finding::fail(code, format!("{key} is not defined in {from}.")),
        ),
        Some(v) => {
            let finding = Finding::ok(code, format!("{key} retrieved from {from}: {v}"));
            (Some(v), finding)
        }
    }
}

fn keycloak(values: &Values) -> (Vec<Finding>, DatabaseTarget) {
    let mut out = Vec::new();
    let pg = ["identityKeycloak", "postgresql", "enabled"];
    match read::flag(values, &pg) {
        Flag::Unset => out.push(
            Finding::fail(
                Code::KeycloakPostgresqlDefined,
                "identityKeycloak.postgresql.enabled is not defined in your helm values: the Keycloak subchart's own default (true) deploys an embedded PostgreSQL instead of using Aurora.",
            )
            .hint("Set identityKeycloak.postgresql.enabled: false."),
        ),
        Flag::Set(false) => out.push(Finding::ok(
            Code::KeycloakPostgresqlDisabled,
            "identityKeycloak.postgresql.enabled is correctly set to false in your helm values.",
        )),
        other => out.push(
            Finding::fail(
                Code::KeycloakPostgresqlDisabled,
                format!(
                    "identityKeycloak must have postgresql.enabled set to false in your helm values (it is {}).",
                    match other {
                        Flag::Invalid(v) => v,
                        _ => "true".into(),
                    }
                ),
            )
            .hint("Set identityKeycloak.postgresql.enabled: false so Keycloak uses the external Aurora database."),
        ),
    }

    match read::text(values, &["identityKeycloak", "image", "repository"]) {
        None => out.push(Finding::fail(
            Code::KeycloakImageDefined,
            "identityKeycloak.image.repository is not defined in your values or the chart defaults.",
        )),
        Some(image) if image.contains("camunda/keycloak") => out.push(Finding::ok(
            Code::KeycloakImageCamunda,
            format!("identityKeycloak.image.repository is set correctly: {image}"),
        )),
        Some(image) => out.push(
            Finding::fail(
                Code::KeycloakImageCamunda,
                format!("The identityKeycloak image must be camunda/keycloak to support IRSA (it bundles the AWS Advanced JDBC Wrapper); it is {image}."),
            )
            .hint("Use the chart's default camunda/keycloak image, or one built from it."),
        ),
    }

    let (host, finding) = required(
        values,
        &["identityKeycloak", "externalDatabase", "host"],
        Code::KeycloakDbHost,
        "your helm values",
    );
    out.push(finding);
    let (port, port_problem, port_note) =
        port_of(values, &["identityKeycloak", "externalDatabase", "port"]);
    out.extend(port_note);

    let (user, finding) = required(
        values,
        &["identityKeycloak", "externalDatabase", "user"],
        Code::KeycloakDbSettings,
        "your helm values or defaults",
    );
    out.push(finding);
    let env_path = ["identityKeycloak", "extraEnvVars"];
    out.push(env_check(
        values,
        &env_path,
        "KEYCLOAK_EXTRA_ARGS",
        Code::KeycloakDbSettings,
        Code::KeycloakDbSettings,
        Expect::Contains("--db-driver=software.amazon.jdbc.Driver"),
    ));
    out.push(env_check(
        values,
        &env_path,
        "KEYCLOAK_JDBC_PARAMS",
        Code::KeycloakDbSettings,
        Code::KeycloakDbSettings,
        Expect::Equals("wrapperPlugins=iam&ssl=true&sslmode=require"),
    ));
    out.push(env_check(
        values,
        &env_path,
        "KEYCLOAK_JDBC_DRIVER",
        Code::KeycloakDbSettings,
        Code::KeycloakDbSettings,
        Expect::Equals("aws-wrapper:postgresql"),
    ));
    let target = DatabaseTarget {
        component: Component::IdentityKeycloak,
        host,
        port,
        port_problem,
        db_user: user,
        database: read::text(
            values,
            &["identityKeycloak", "externalDatabase", "database"],
        ),
    };
    (out, target)
}

fn identity(values: &Values) -> (Vec<Finding>, DatabaseTarget) {
    let mut out = Vec::new();
    match read::flag(values, &["identity", "externalDatabase", "enabled"]) {
        Flag::Unset => out.push(Finding::fail(
            Code::IdentityExternalDbDefined,
            "identity.externalDatabase.enabled is not defined in your helm values or defaults.",
        )),
        Flag::Set(true) => out.push(Finding::ok(
            Code::IdentityExternalDbEnabled,
            "identity.externalDatabase.enabled is correctly set to true.",
        )),
        _ => out.push(
            Finding::fail(
                Code::IdentityExternalDbEnabled,
                "identity.externalDatabase.enabled must be set to true.",
            )
            .hint("Identity only uses Aurora (and IRSA) with an external database."),
        ),
    }
    let (host, finding) = required(
        values,
        &["identity", "externalDatabase", "host"],
        Code::IdentityDbHost,
        "your helm values or defaults",
    );
    out.push(finding);
    let (port, port_problem, port_note) =
        port_of(values, &["identity", "externalDatabase", "port"]);
    out.extend(port_note);
    let (user, finding) = required(
        values,
        &["identity", "externalDatabase", "username"],
        Code::IdentityDbUsername,
        "your helm values or defaults",
    );
    out.push(finding);
    let env_path = ["identity", "env"];
    let url_finding = match read::env(values, &env_path, "SPRING_DATASOURCE_URL") {
        EnvVar::Missing => Finding::fail(
            Code::IdentityDatasourceEnv,
            "SPRING_DATASOURCE_URL for identity is not defined in identity.env.",
        )
        .hint("Set SPRING_DATASOURCE_URL=jdbc:aws-wrapper:postgresql://HOST:5432/DB?wrapperPlugins=iam in identity.env."),
        EnvVar::ValueFrom => Finding::warn(
            Code::IdentityDatasourceEnv,
            "SPRING_DATASOURCE_URL for identity comes from a Secret or ConfigMap (valueFrom): it cannot be checked from the values.",
        ),
        EnvVar::Value(url) if url.starts_with(JDBC_WRAPPER_PREFIX) && url.contains("wrapperPlugins=iam") => {
            match (parse_jdbc_url(&url), &host) {
                (Some(jdbc), Some(h)) if !jdbc.host.eq_ignore_ascii_case(h) => Finding::warn(
                    Code::IdentityDatasourceEnv,
                    format!(
                        "SPRING_DATASOURCE_URL for identity points at {} but identity.externalDatabase.host is {h}: identity connects to the URL's host.",
                        jdbc.host
                    ),
                ),
                _ => Finding::ok(
                    Code::IdentityDatasourceEnv,
                    format!("SPRING_DATASOURCE_URL for identity is correctly set to '{url}'."),
                ),
            }
        }
        EnvVar::Value(_) => Finding::fail(
            Code::IdentityDatasourceEnv,
            "SPRING_DATASOURCE_URL for identity must start with 'jdbc:aws-wrapper:postgresql://' and contain 'wrapperPlugins=iam'.",
        ),
    };
    out.push(url_finding);
    out.push(env_check(
        values,
        &env_path,
        "SPRING_DATASOURCE_DRIVER_CLASS_NAME",
        Code::IdentityDatasourceEnv,
        Code::IdentityDatasourceEnv,
        Expect::Equals(AWS_JDBC_DRIVER),
    ));
    let target = DatabaseTarget {
        component: Component::Identity,
        host,
        port,
        port_problem,
        db_user: user,
        database: read::text(values, &["identity", "externalDatabase", "database"]),
    };
    (out, target)
}

/// A JDBC URL of the AWS wrapper: host, port, database and the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JdbcUrl {
    pub host: String,
    pub port: Option<u16>,
    pub database: String,
    pub query: String,
}

/// `jdbc:aws-wrapper:postgresql://HOST[:PORT]/DB[?QUERY]`.
pub fn parse_jdbc_url(url: &str) -> Option<JdbcUrl> {
    let rest = url.trim().strip_prefix(JDBC_WRAPPER_PREFIX)?;
    let (authority, path) = rest.split_once('/')?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|p| *p != 0)?)),
        None => (authority, None),
    };
    if host.is_empty() || host.contains(['@', ',', ' ']) {
        return None;
    }
    let (database, query) = path.split_once('?').unwrap_or((path, ""));
    if database.is_empty() || database.contains('/') {
        return None;
    }
    Some(JdbcUrl {
        host: host.to_ascii_lowercase(),
        port,
        database: database.to_string(),
        query: query.to_string(),
    })
}

fn has_iam_plugin(query: &str) -> bool {
    query.split('&').any(|kv| {
        kv.split_once('=')
            .is_some_and(|(k, v)| k == "wrapperPlugins" && v.split(',').any(|p| p.trim() == "iam"))
    })
}

fn web_modeler(generation: Generation, values: &Values) -> (Vec<Finding>, DatabaseTarget) {
    let mut out = Vec::new();
    // 8.10 reads camundaHub first (its first alphas nested it under camundaHub.webModeler);
    // only when the deployed chart defines that subtree, so a stray key is not trusted.
    let hub_base: Option<&[&str]> = if values.defaults_has(&["camundaHub", "restapi"])
        || (generation.has_camunda_hub() && values.defaults_has(&["camundaHub"]))
    {
        Some(&["camundaHub", "restapi", "externalDatabase"])
    } else if values.defaults_has(&["camundaHub", "webModeler"]) {
        Some(&["camundaHub", "webModeler", "restapi", "externalDatabase"])
    } else {
        None
    };
    let std_base: &[&str] = &["webModeler", "restapi", "externalDatabase"];
    let path = |base: &[&str], leaf: &'static str| -> Vec<String> {
        base.iter()
            .map(|s| s.to_string())
            .chain(std::iter::once(leaf.to_string()))
            .collect()
    };
    let lookup =
        |p: &[String]| read::text(values, &p.iter().map(String::as_str).collect::<Vec<_>>());

    let url = hub_base
        .and_then(|b| lookup(&path(b, "url")).map(|u| (u, path(b, "url").join("."))))
        .or_else(|| lookup(&path(std_base, "url")).map(|u| (u, path(std_base, "url").join("."))));
    let mut host = None;
    let mut port = None;
    let mut port_problem = None;
    let mut database = None;
    match &url {
        None => out.push(Finding::fail(
            Code::WebModelerJdbcUrlDefined,
            "webModeler.restapi.externalDatabase.url is not defined in your helm values or defaults.",
        )),
        Some((u, key)) => match parse_jdbc_url(u) {
            Some(jdbc) if has_iam_plugin(&jdbc.query) => {
                out.push(Finding::ok(
                    Code::WebModelerJdbcUrlForm,
                    format!("{key} is correctly set: {u}"),
                ));
                if jdbc.port.is_none() {
                    out.push(Finding::info(
                        Code::AuroraPort,
                        format!("The Web Modeler database port is not in the URL: assuming the default {DEFAULT_POSTGRES_PORT}."),
                    ));
                }
                host = Some(jdbc.host);
                port = Some(jdbc.port.unwrap_or(DEFAULT_POSTGRES_PORT));
                database = Some(jdbc.database);
            }
            _ => {
                out.push(
                    Finding::fail(
                        Code::WebModelerJdbcUrlForm,
                        format!("{key} must be a JDBC URL of the form jdbc:aws-wrapper:postgresql://<host>[:<port>]/<database>?wrapperPlugins=iam for IRSA usage."),
                    )
                    .hint("IRSA needs the AWS Advanced JDBC Wrapper with its iam plugin."),
                );
                port_problem = Some("the JDBC URL could not be read".to_string());
            }
        },
    }

    // The user key the deployed chart reads.
    let (accepted, ignored): (&[&str], &[&str]) = match generation {
        g if g >= Generation::V8_10 => (&["username"], &["user"]),
        Generation::V8_9 => (&["username", "user"], &[]),
        _ => (&["user"], &["username"]),
    };
    let mut user = None;
    if let Some(b) = hub_base
        && let Some(u) = lookup(&path(b, "username"))
    {
        user = Some((u, path(b, "username").join(".")));
    }
    for leaf in accepted {
        if user.is_none()
            && let Some(u) = lookup(&path(std_base, leaf))
        {
            user = Some((u, path(std_base, leaf).join(".")));
        }
    }
    for leaf in ignored {
        if values.user_has(
            &path(std_base, leaf)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        ) {
            out.push(Finding::warn(
                Code::WebModelerDbUser,
                format!(
                    "webModeler.restapi.externalDatabase.{leaf} is set in your values but chart {} only reads .{}: the value is ignored.",
                    generation.label(),
                    accepted.join(" / .")
                ),
            ));
        }
    }
    match &user {
        None => out.push(Finding::fail(
            Code::WebModelerDbUser,
            format!(
                "webModeler.restapi.externalDatabase.{} is not defined in your helm values or defaults (chart {} reads {}).",
                accepted[0],
                generation.label(),
                if accepted.len() > 1 { "username, or its deprecated alias user" } else { accepted[0] }
            ),
        )),
        Some((u, key)) => out.push(Finding::ok(Code::WebModelerDbUser, format!("{key} is correctly set: {u}"))),
    }

    let env_path: Vec<&str> = if generation.has_camunda_hub()
        && values.get(&["camundaHub", "restapi", "env"]).is_some()
    {
        vec!["camundaHub", "restapi", "env"]
    } else {
        vec!["webModeler", "restapi", "env"]
    };
    out.push(env_check(
        values,
        &env_path,
        "SPRING_DATASOURCE_DRIVER_CLASS_NAME",
        Code::WebModelerDriverDefined,
        Code::WebModelerDriverValue,
        Expect::Equals(AWS_JDBC_DRIVER),
    ));
    let target = DatabaseTarget {
        component: Component::WebModeler,
        host,
        port,
        port_problem,
        db_user: user.map(|(u, _)| u),
        database,
    };
    (out, target)
}

enum Expect {
    Equals(&'static str),
    Contains(&'static str),
}

/// One env var of a values env list: `missing` when absent, `wrong` when its value is not
/// what IRSA needs.
fn env_check(
    values: &Values,
    path: &[&str],
    name: &str,
    missing: Code,
    wrong: Code,
    expect: Expect,
) -> Finding {
    let where_ = read::dotted(path);
    match read::env(values, path, name) {
        EnvVar::Missing => Finding::fail(
            missing,
            format!("Required environment variable {name} is not set in {where_}."),
        ),
        EnvVar::ValueFrom => Finding::warn(
            wrong,
            format!(
                "{name} in {where_} comes from a Secret or ConfigMap (valueFrom): it cannot be checked from the values."
            ),
        ),
        EnvVar::Value(v) => {
            let (ok, want) = match expect {
                Expect::Equals(x) => (v.trim() == x, format!("be '{x}'")),
                Expect::Contains(x) => (v.contains(x), format!("contain '{x}'")),
            };
            if ok {
                Finding::ok(
                    wrong,
                    format!("{name} in {where_} is correctly set to '{v}'."),
                )
            } else {
                Finding::fail(
                    wrong,
                    format!("{name} in {where_} must {want}; it is '{v}'."),
                )
            }
        }
    }
}

/// External Keycloak (code 86): the URL the chart points at. `service_found` is whether a
/// Service of that name exists in the namespace (None: not looked up).
pub fn judge_external_keycloak(
    values: &Values,
    service_found: Option<bool>,
    namespace: &str,
) -> (Vec<Finding>, Option<(String, u16)>) {
    let c = Component::IdentityKeycloak.key();
    let host = read::text(values, &["global", "identity", "keycloak", "url", "host"]);
    let port = match read::port(values, &["global", "identity", "keycloak", "url", "port"]) {
        Port::Set(p) => p,
        _ => 80,
    };
    let Some(host) = host else {
        return (
            vec![Finding::fail(
                Code::KeycloakExternalUrl,
                "External Keycloak is enabled but global.identity.keycloak.url.host is not set; the chart cannot reach Keycloak.",
            )
            .component(c)],
            None,
        );
    };
    let mut out = vec![
        Finding::ok(
            Code::KeycloakExternalUrl,
            format!(
                "External Keycloak is configured at host={host} port={port} (operator-managed)."
            ),
        )
        .component(c),
    ];
    // A bare service name resolves in the namespace; a FQDN or external host may not be a
    // Service here at all.
    let service_name = host.split('.').next().unwrap_or(&host).to_string();
    match service_found {
        Some(true) => out.push(Finding::ok(Code::KeycloakExternalUrl, format!("External Keycloak service '{service_name}' found in namespace {namespace}.")).component(c)),
        Some(false) => out.push(
            Finding::warn(
                Code::KeycloakExternalUrl,
                format!("External Keycloak service '{service_name}' not found in namespace {namespace}. If Keycloak runs in another namespace or behind an external URL this can be ignored."),
            )
            .component(c),
        ),
        None => {}
    }
    (out, Some((host, port)))
}

/// Codes 71–73: the endpoint a component's values give.
pub fn judge_endpoint(target: &DatabaseTarget) -> (Vec<Finding>, Option<AuroraEndpoint>) {
    let c = target.component.key();
    let mut out = Vec::new();
    // No host means the component's own check (85, 90, 94 or 95) already failed.
    let Some(host) = &target.host else {
        out.push(
            Finding::skip(
                Code::AuroraHost,
                format!("Aurora cluster checks for {c}: its database host is not known (see the failure above)."),
            )
            .component(c),
        );
        return (out, None);
    };
    if host.contains("://")
        || host.contains('/')
        || host.contains(':')
        || host.contains(char::is_whitespace)
    {
        out.push(
            Finding::fail(Code::AuroraHost, format!("The Aurora host of {c} is not a host name: '{host}'."))
                .component(c)
                .hint("Give the bare endpoint host (ID.cluster-HASH.REGION.rds.amazonaws.com), without scheme, port or path."),
        );
        return (out, None);
    }
    let Some(port) = target.port else {
        out.push(
            Finding::fail(
                Code::AuroraPort,
                format!(
                    "The Aurora port is not set correctly: {}. Please ensure that {c} defines it correctly in the Helm chart values.",
                    target.port_problem.as_deref().unwrap_or("no port")
                ),
            )
            .component(c),
        );
        return (out, None);
    };
    out.push(
        Finding::info(
            Code::AuroraHost,
            format!("Retrieved Aurora host for {c}: {host}:{port}"),
        )
        .component(c),
    );
    match parse_aurora_host(host) {
        Some(endpoint) => {
            let what = match endpoint.kind {
                EndpointKind::Writer => "cluster",
                EndpointKind::Reader => "cluster (reader endpoint)",
                EndpointKind::Custom => "custom endpoint",
                EndpointKind::Proxy => "RDS Proxy",
                EndpointKind::Instance => "DB instance",
            };
            out.push(
                Finding::info(
                    Code::AuroraEndpointParse,
                    format!(
                        "Parsed Aurora {what} {} in region {}.",
                        endpoint.identifier, endpoint.region
                    ),
                )
                .component(c),
            );
            (out, Some(endpoint))
        }
        None => {
            out.push(
                Finding::fail(
                    Code::AuroraEndpointParse,
                    format!("Unable to parse the Aurora cluster identifier and region from {host}."),
                )
                .component(c)
                .hint("Use the cluster's own endpoint (ID.cluster-HASH.REGION.rds.amazonaws.com) rather than a DNS alias, so IAM authentication tokens match."),
            );
            (out, None)
        }
    }
}

/// What RDS said about the Aurora cluster behind an endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DbClusterFacts {
    pub identifier: String,
    pub status: String,
    pub iam_auth: bool,
    /// `DbClusterResourceId` (`cluster-ABC…`), the resource of `rds-db:connect`.
    pub resource_id: Option<String>,
    pub engine: Option<String>,
    /// How the cluster was found when the endpoint was not the cluster's own
    /// (`custom endpoint X`, `instance Y`, `proxy Z`).
    pub via: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbClusterLookup {
    Found(DbClusterFacts),
    NotFound(String),
    Failed(ApiError),
}

/// Codes 74–76.
pub fn judge_cluster(component: Component, lookup: &DbClusterLookup) -> Vec<Finding> {
    let c = component.key();
    let facts = match lookup {
        DbClusterLookup::Found(f) => f,
        DbClusterLookup::NotFound(message) => {
            return vec![
                Finding::fail(Code::AuroraClusterExists, message.clone()).component(c),
                Finding::skip(
                    Code::AuroraIamAuth,
                    "IAM authentication: the Aurora cluster was not found.",
                )
                .component(c),
                Finding::skip(
                    Code::AuroraStatus,
                    "cluster status: the Aurora cluster was not found.",
                )
                .component(c),
            ];
        }
        DbClusterLookup::Failed(err) => {
            return vec![
                Finding::fail(
                    Code::AuroraClusterExists,
                    format!("Unable to describe the Aurora cluster: {err}"),
                )
                .component(c),
                Finding::skip(
                    Code::AuroraIamAuth,
                    "IAM authentication: the Aurora cluster could not be read.",
                )
                .component(c),
                Finding::skip(
                    Code::AuroraStatus,
                    "cluster status: the Aurora cluster could not be read.",
                )
                .component(c),
            ];
        }
    };
    let id = &facts.identifier;
    let via = facts
        .via
        .as_deref()
        .map(|v| format!(" (via {v})"))
        .unwrap_or_default();
    let mut out = vec![
        Finding::ok(
            Code::AuroraClusterExists,
            format!("Aurora cluster {id} found{via}."),
        )
        .component(c),
    ];
    if let Some(engine) = &facts.engine
        && !engine.contains("postgres")
    {
        out.push(
            Finding::warn(
                Code::AuroraClusterExists,
                format!("Aurora cluster {id} runs {engine}, not PostgreSQL."),
            )
            .component(c),
        );
    }
    out.push(if facts.iam_auth {
        Finding::ok(
            Code::AuroraIamAuth,
            format!("IAM Database Authentication is enabled on Aurora DB cluster {id}."),
        )
        .component(c)
    } else {
        Finding::fail(
            Code::AuroraIamAuth,
            format!("IAM Database Authentication is not enabled on Aurora DB cluster {id}."),
        )
        .component(c)
        .hint("Enable it (EnableIAMDatabaseAuthentication) and GRANT rds_iam to the database user.")
    });
    out.push(if facts.status == "available" {
        Finding::ok(
            Code::AuroraStatus,
            format!("Aurora DB cluster {id} is created and available."),
        )
        .component(c)
    } else {
        Finding::fail(
            Code::AuroraStatus,
            format!(
                "Aurora DB cluster {id} is not available (status: {}).",
                facts.status
            ),
        )
        .component(c)
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;
    use serde_json::json;

    fn levels(findings: &[Finding]) -> Vec<(u8, Level)> {
        findings
            .iter()
            .map(|f| (f.code.number(), f.level))
            .collect()
    }

    const HOST: &str = "camunda-aurora.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com";

    #[test]
    fn aurora_hosts_of_every_kind() {
        let p = |h: &str| parse_aurora_host(h).map(|e| (e.kind, e.identifier, e.region));
        assert_eq!(
            p(HOST),
            Some((
                EndpointKind::Writer,
                "camunda-aurora".into(),
                "eu-west-1".into()
            ))
        );
        assert_eq!(
            p("Camunda-Aurora.cluster-ro-c1a2b3c4d5e6.us-gov-west-1.rds.amazonaws.com."),
            Some((
                EndpointKind::Reader,
                "camunda-aurora".into(),
                "us-gov-west-1".into()
            ))
        );
        assert_eq!(
            p("rep.cluster-custom-abc.eu-west-1.rds.amazonaws.com").map(|x| x.0),
            Some(EndpointKind::Custom)
        );
        assert_eq!(
            p("px.proxy-abc.eu-west-1.rds.amazonaws.com").map(|x| x.0),
            Some(EndpointKind::Proxy)
        );
        assert_eq!(
            p("ro.endpoint.proxy-abc.eu-west-1.rds.amazonaws.com"),
            Some((EndpointKind::Proxy, "ro".into(), "eu-west-1".into()))
        );
        assert_eq!(
            p("db-1.c1a2b3c4d5e6.cn-north-1.rds.amazonaws.com.cn").map(|x| x.0),
            Some(EndpointKind::Instance)
        );
        assert_eq!(p("postgres.internal.example.com"), None);
        assert_eq!(p("x.cluster-abc.notregion.rds.amazonaws.com"), None);
        assert_eq!(p(".cluster-abc.eu-west-1.rds.amazonaws.com"), None);
        assert_eq!(p("rds.amazonaws.com"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn jdbc_urls() {
        let u = parse_jdbc_url("jdbc:aws-wrapper:postgresql://H.example:5433/camunda_webmodeler?wrapperPlugins=iam&ssl=true").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.database.as_str()),
            ("h.example", Some(5433), "camunda_webmodeler")
        );
        assert!(has_iam_plugin(&u.query));
        assert!(has_iam_plugin("wrapperPlugins=failover,iam"));
        assert!(!has_iam_plugin("wrapperPlugins=iamx"));
        assert!(!has_iam_plugin("x=wrapperPlugins=iam"));
        assert_eq!(parse_jdbc_url("jdbc:postgresql://h:5432/db"), None);
        assert_eq!(
            parse_jdbc_url("jdbc:aws-wrapper:postgresql://h:abc/db"),
            None
        );
        assert_eq!(
            parse_jdbc_url("jdbc:aws-wrapper:postgresql://h:5432/"),
            None
        );
        assert_eq!(parse_jdbc_url("jdbc:aws-wrapper:postgresql://h"), None);
        assert_eq!(
            parse_jdbc_url("jdbc:aws-wrapper:postgresql://h/db")
                .unwrap()
                .port,
            None
        );
    }

    fn kc_user() -> serde_json::Value {
        json!({"identityKeycloak": {
            "postgresql": {"enabled": false},
            "externalDatabase": {"host": HOST, "user": "keycloak_irsa", "port": 5432, "database": "camunda_keycloak"},
            "extraEnvVars": [
                {"name": "KEYCLOAK_EXTRA_ARGS", "value": "--db-driver=software.amazon.jdbc.Driver --transaction-xa-enabled=false"},
                {"name": "KEYCLOAK_JDBC_PARAMS", "value": "wrapperPlugins=iam&ssl=true&sslmode=require"},
                {"name": "KEYCLOAK_JDBC_DRIVER", "value": "aws-wrapper:postgresql"}
            ]
        }})
    }

    fn kc_defaults() -> serde_json::Value {
        json!({"identityKeycloak": {"image": {"repository": "camunda/keycloak"}, "extraEnvVars": []}})
    }

    #[test]
    fn keycloak_healthy_and_each_failure() {
        let (f, target) = judge_component_values(
            Component::IdentityKeycloak,
            Generation::V8_8,
            &Values::new(kc_user(), kc_defaults()),
        );
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        let target = target.unwrap();
        assert_eq!(target.db_user.as_deref(), Some("keycloak_irsa"));
        assert_eq!(target.port, Some(5432));

        let mut user = kc_user();
        user["identityKeycloak"]["postgresql"] = json!({});
        let (f, _) = judge_component_values(
            Component::IdentityKeycloak,
            Generation::V8_8,
            &Values::new(user, kc_defaults()),
        );
        assert_eq!(levels(&f)[0], (81, Level::Fail));

        let mut user = kc_user();
        user["identityKeycloak"]["postgresql"]["enabled"] = json!(true);
        user["identityKeycloak"]["image"] = json!({"repository": "bitnami/keycloak"});
        user["identityKeycloak"]["externalDatabase"] = json!({"port": "x"});
        user["identityKeycloak"]["extraEnvVars"] =
            json!([{"name": "KEYCLOAK_JDBC_PARAMS", "value": "ssl=true"}]);
        let (f, target) = judge_component_values(
            Component::IdentityKeycloak,
            Generation::V8_8,
            &Values::new(user, kc_defaults()),
        );
        assert_eq!(
            levels(&f),
            vec![
                (82, Level::Fail),
                (84, Level::Fail),
                (85, Level::Fail),
                (87, Level::Fail),
                (87, Level::Fail),
                (87, Level::Fail),
                (87, Level::Fail)
            ]
        );
        assert_eq!(target.unwrap().port, None);

        let (f, _) = judge_component_values(
            Component::IdentityKeycloak,
            Generation::V8_8,
            &Values::new(kc_user(), json!({})),
        );
        assert!(
            f.iter()
                .any(|f| f.code.number() == 83 && f.level == Level::Fail)
        );
    }

    fn identity_user() -> serde_json::Value {
        json!({"identity": {
            "externalDatabase": {"enabled": true, "host": HOST, "port": 5432, "username": "identity_irsa", "database": "camunda_identity"},
            "env": [
                {"name": "SPRING_DATASOURCE_URL", "value": format!("jdbc:aws-wrapper:postgresql://{HOST}:5432/camunda_identity?wrapperPlugins=iam")},
                {"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}
            ]
        }})
    }

    fn identity_defaults() -> serde_json::Value {
        json!({"identity": {"externalDatabase": {"enabled": false, "host": "", "port": 5432, "username": ""}, "env": []}})
    }

    #[test]
    fn identity_healthy_and_each_failure() {
        let (f, target) = judge_component_values(
            Component::Identity,
            Generation::V8_8,
            &Values::new(identity_user(), identity_defaults()),
        );
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        assert_eq!(
            target.unwrap().database.as_deref(),
            Some("camunda_identity")
        );

        let (f, _) = judge_component_values(
            Component::Identity,
            Generation::V8_8,
            &Values::new(json!({}), identity_defaults()),
        );
        assert_eq!(
            levels(&f),
            vec![
                (89, Level::Fail),
                (90, Level::Fail),
                (92, Level::Fail),
                (93, Level::Fail),
                (93, Level::Fail)
            ]
        );

        let (f, _) = judge_component_values(
            Component::Identity,
            Generation::V8_7,
            &Values::new(json!({}), json!({})),
        );
        assert_eq!(levels(&f)[0], (88, Level::Fail));
        // Without a default the port falls back to 5432 with a note.
        assert!(
            f.iter()
                .any(|f| f.code.number() == 72 && f.level == Level::Info)
        );

        let mut user = identity_user();
        user["identity"]["env"][0]["value"] = json!("jdbc:postgresql://h:5432/db");
        let (f, _) = judge_component_values(
            Component::Identity,
            Generation::V8_8,
            &Values::new(user, identity_defaults()),
        );
        assert!(
            f.iter()
                .any(|f| f.code.number() == 93 && f.level == Level::Fail)
        );

        let mut user = identity_user();
        user["identity"]["env"][0]["value"] =
            json!("jdbc:aws-wrapper:postgresql://other.host:5432/db?wrapperPlugins=iam");
        let (f, _) = judge_component_values(
            Component::Identity,
            Generation::V8_8,
            &Values::new(user, identity_defaults()),
        );
        assert!(
            f.iter()
                .any(|f| f.code.number() == 93 && f.level == Level::Warn)
        );
    }

    fn wm_user(user_key: &str) -> serde_json::Value {
        json!({"webModeler": {"restapi": {
            "externalDatabase": {"url": format!("jdbc:aws-wrapper:postgresql://{HOST}:5432/camunda_webmodeler?wrapperPlugins=iam"), user_key: "webmodeler_irsa"},
            "env": [{"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}]
        }}})
    }

    #[test]
    fn web_modeler_user_key_follows_the_chart() {
        let d88 = json!({"webModeler": {"restapi": {"externalDatabase": {"url": "", "user": ""}, "env": []}}});
        let (f, t) = judge_component_values(
            Component::WebModeler,
            Generation::V8_8,
            &Values::new(wm_user("user"), d88.clone()),
        );
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        let t = t.unwrap();
        assert_eq!(
            (t.host.as_deref(), t.port, t.db_user.as_deref()),
            (Some(HOST), Some(5432), Some("webmodeler_irsa"))
        );

        // 8.8 ignores `username`: WARN and FAIL 96.
        let (f, _) = judge_component_values(
            Component::WebModeler,
            Generation::V8_8,
            &Values::new(wm_user("username"), d88),
        );
        assert_eq!(levels(&f)[1..3], [(96, Level::Warn), (96, Level::Fail)]);

        // 8.9 reads both.
        let d89 = json!({"webModeler": {"restapi": {"externalDatabase": {"url": "", "user": "", "username": ""}, "env": []}}});
        for key in ["user", "username"] {
            let (f, _) = judge_component_values(
                Component::WebModeler,
                Generation::V8_9,
                &Values::new(wm_user(key), d89.clone()),
            );
            assert!(f.iter().all(|f| f.level == Level::Ok), "{key}: {f:?}");
        }

        // 8.10 reads only username, camundaHub first.
        let d810 = json!({"webModeler": {"restapi": {"externalDatabase": {"url": "", "username": ""}, "env": []}}, "camundaHub": {"restapi": {"externalDatabase": {}}}});
        let (f, _) = judge_component_values(
            Component::WebModeler,
            Generation::V8_10,
            &Values::new(wm_user("user"), d810.clone()),
        );
        assert!(
            f.iter()
                .any(|f| f.code.number() == 96 && f.level == Level::Fail)
        );
        let mut hub = wm_user("username");
        hub["camundaHub"] = json!({"restapi": {"externalDatabase": {"url": "jdbc:aws-wrapper:postgresql://hub.host/db?wrapperPlugins=iam", "username": "hub_user"}}});
        let (f, t) = judge_component_values(
            Component::WebModeler,
            Generation::V8_10,
            &Values::new(hub, d810),
        );
        assert!(
            f.iter().all(|f| matches!(f.level, Level::Ok | Level::Info)),
            "{f:?}"
        );
        let t = t.unwrap();
        assert_eq!(
            (t.host.as_deref(), t.db_user.as_deref()),
            (Some("hub.host"), Some("hub_user"))
        );
    }

    #[test]
    fn web_modeler_url_and_driver_failures() {
        let d = json!({"webModeler": {"restapi": {"externalDatabase": {"url": "", "user": ""}, "env": []}}});
        let (f, _) = judge_component_values(
            Component::WebModeler,
            Generation::V8_8,
            &Values::new(json!({}), d.clone()),
        );
        assert_eq!(
            levels(&f),
            vec![(94, Level::Fail), (96, Level::Fail), (97, Level::Fail)]
        );
        let mut user = wm_user("user");
        user["webModeler"]["restapi"]["externalDatabase"]["url"] =
            json!("jdbc:postgresql://h:5432/db");
        user["webModeler"]["restapi"]["env"][0]["value"] = json!("org.postgresql.Driver");
        let (f, t) = judge_component_values(
            Component::WebModeler,
            Generation::V8_8,
            &Values::new(user, d),
        );
        assert_eq!(
            levels(&f),
            vec![(95, Level::Fail), (96, Level::Ok), (98, Level::Fail)]
        );
        assert_eq!(t.unwrap().host, None);
    }

    #[test]
    fn other_components_have_no_database_checks() {
        let (f, t) = judge_component_values(
            Component::Optimize,
            Generation::V8_8,
            &Values::new(json!({}), json!({})),
        );
        assert_eq!(f[0].level, Level::Info);
        assert!(t.is_none());
    }

    #[test]
    fn endpoint_checks() {
        let target = |host: Option<&str>, port: Option<u16>| DatabaseTarget {
            component: Component::Identity,
            host: host.map(String::from),
            port,
            port_problem: port
                .is_none()
                .then(|| "identity.externalDatabase.port = \"x\" is not a TCP port".to_string()),
            db_user: None,
            database: None,
        };
        let (f, e) = judge_endpoint(&target(Some(HOST), Some(5432)));
        assert_eq!(levels(&f), vec![(71, Level::Info), (73, Level::Info)]);
        assert_eq!(e.unwrap().identifier, "camunda-aurora");
        assert_eq!(
            levels(&judge_endpoint(&target(None, Some(5432))).0),
            vec![(71, Level::Skip)]
        );
        assert_eq!(
            levels(&judge_endpoint(&target(Some("https://h"), Some(5432))).0),
            vec![(71, Level::Fail)]
        );
        let (f, _) = judge_endpoint(&target(Some(HOST), None));
        assert_eq!(levels(&f), vec![(72, Level::Fail)]);
        assert!(f[0].message.contains("is not a TCP port"));
        let (f, e) = judge_endpoint(&target(Some("db.internal"), Some(5432)));
        assert_eq!(levels(&f), vec![(71, Level::Info), (73, Level::Fail)]);
        assert!(e.is_none());
    }

    #[test]
    fn cluster_checks() {
        let good = DbClusterFacts {
            identifier: "camunda-aurora".into(),
            status: "available".into(),
            iam_auth: true,
            engine: Some("aurora-postgresql".into()),
            ..Default::default()
        };
        assert!(
            judge_cluster(Component::Identity, &DbClusterLookup::Found(good.clone()))
                .iter()
                .all(|f| f.level == Level::Ok)
        );
        let bad = DbClusterFacts {
            status: "stopped".into(),
            iam_auth: false,
            ..good
        };
        assert_eq!(
            levels(&judge_cluster(
                Component::Identity,
                &DbClusterLookup::Found(bad)
            )),
            vec![(74, Level::Ok), (75, Level::Fail), (76, Level::Fail)]
        );
        assert_eq!(
            levels(&judge_cluster(
                Component::Identity,
                &DbClusterLookup::NotFound("No Aurora cluster camunda-aurora in eu-west-1.".into())
            )),
            vec![(74, Level::Fail), (75, Level::Skip), (76, Level::Skip)]
        );
    }

    #[test]
    fn external_keycloak() {
        let v = Values::new(
            json!({"global": {"identity": {"keycloak": {"url": {"host": "keycloak-service", "port": "18080"}}}}}),
            json!({}),
        );
        let (f, reach) = judge_external_keycloak(&v, Some(false), "camunda");
        assert_eq!(levels(&f), vec![(86, Level::Ok), (86, Level::Warn)]);
        assert_eq!(reach, Some(("keycloak-service".into(), 18080)));
        let (f, reach) =
            judge_external_keycloak(&Values::new(json!({}), json!({})), None, "camunda");
        assert_eq!(levels(&f), vec![(86, Level::Fail)]);
        assert!(reach.is_none());
    }
}
