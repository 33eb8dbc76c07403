//! The healthy Camunda worlds, as data: the user's Helm values (like Camunda's EKS IRSA
//! reference values, made concrete with the names of `spec`), a trimmed but faithful
//! copy of the chart's default values, and the Kubernetes objects a healthy cluster
//! holds for them.
//!
//! Scenarios change one thing: a key of the values ([`set_dotted`], [`remove_dotted`]),
//! or one object of the cluster ([`find_object_mut`]).
//!
//! "Keycloak internal" here means the chart's `identityKeycloak` subchart runs Keycloak
//! (`identityKeycloak.enabled`, no `global.identity.keycloak.url`). Like Camunda's
//! reference values, the world leaves `global.identity.keycloak.internal` at the chart
//! default `false`: in the chart that key only asks for an ExternalName Service to an
//! external Keycloak.

#![allow(dead_code)]

use super::helm::{self, ReleaseSpec};
use super::spec::{
    self, AURORA_HOST, AURORA_PORT, ComponentSpec, Gen, IDENTITY, KEYCLOAK, NAMESPACE,
    OPENSEARCH_HOST, RELEASE, WEB_MODELER,
};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The annotation that binds a ServiceAccount to an IAM role.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";
/// Where the EKS pod identity webhook mounts the projected token.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";
pub const WEB_IDENTITY_TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
/// The name of the webhook's projected token volume.
pub const TOKEN_VOLUME: &str = "aws-iam-token";
/// The Secret the reference values point every component at.
pub const COMPONENTS_SECRET: &str = "identity-secret-for-components";

/// Dummy secrets planted in [`user_values`]: none may ever appear in the tool's output.
pub const DUMMY_SECRETS: &[&str] = &[
    "dummy-Kc-Admin-Pw-4711",
    "dummy-Smtp-Pw-0815",
    "dummy-Connectors-Client-Secret-2a7f",
    "dummy-Unused-Pg-Pw-9d3e",
];

/// Nodes of the world: name, zone, instance id.
pub const NODES: &[(&str, &str, &str)] = &[
    (
        "ip-10-0-1-23.eu-west-1.compute.internal",
        "eu-west-1a",
        spec::NODE_INSTANCE_ID,
    ),
    (
        "ip-10-0-2-47.eu-west-1.compute.internal",
        "eu-west-1b",
        "i-0f1e2d3c4b5a69788",
    ),
];

fn role_annotation(component: &ComponentSpec) -> Value {
    json!({ ROLE_ARN_ANNOTATION: spec::role_arn(component.role) })
}

fn service_account(component: &ComponentSpec) -> Value {
    json!({"name": component.service_account, "annotations": role_annotation(component)})
}

fn jdbc_url(db_name: Option<&str>) -> String {
    format!(
        "jdbc:aws-wrapper:postgresql://{AURORA_HOST}:{AURORA_PORT}/{}?wrapperPlugins=iam",
        db_name.unwrap_or_default()
    )
}

fn keycloak_extra_env() -> Value {
    json!([
        {"name": "KEYCLOAK_EXTRA_ARGS", "value": "--db-driver=software.amazon.jdbc.Driver --transaction-xa-enabled=false --log-level=INFO,software.amazon.jdbc:INFO"},
        {"name": "KEYCLOAK_JDBC_PARAMS", "value": "wrapperPlugins=iam&ssl=true&sslmode=require"},
        {"name": "KEYCLOAK_JDBC_DRIVER", "value": "aws-wrapper:postgresql"},
    ])
}

fn identity_env() -> Value {
    json!([
        {"name": "SPRING_DATASOURCE_URL", "value": jdbc_url(IDENTITY.db_name)},
        {"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"},
        {"name": "SPRING_DATASOURCE_USERNAME", "value": IDENTITY.db_user},
    ])
}

fn identity_external_database() -> Value {
    json!({
        "enabled": true,
        "host": AURORA_HOST,
        "port": AURORA_PORT,
        "username": IDENTITY.db_user,
        "database": IDENTITY.db_name,
    })
}

fn keycloak_external_database() -> Value {
    json!({
        "host": AURORA_HOST,
        "user": KEYCLOAK.db_user,
        "port": AURORA_PORT,
        "database": KEYCLOAK.db_name,
    })
}

fn opensearch_global() -> Value {
    json!({
        "enabled": true,
        "aws": {"enabled": true},
        "url": {"protocol": "https", "host": OPENSEARCH_HOST, "port": 443},
    })
}

/// The user's values of a healthy world: Camunda's EKS IRSA reference values for the
/// generation with the `spec` names filled in, Web Modeler enabled (so its checks run),
/// Keycloak from the chart's subchart, and the dummy secrets of [`DUMMY_SECRETS`].
pub fn user_values(generation: Gen) -> Value {
    match generation {
        Gen::V8_7 => json!({
            "global": {
                "elasticsearch": {"enabled": false},
                "opensearch": opensearch_global(),
                "identity": {
                    "auth": {
                        "publicIssuerUrl": "http://localhost:18080/auth/realms/camunda-platform",
                        "zeebe": {"existingSecret": {"name": COMPONENTS_SECRET}},
                        // A literal client secret: the chart accepts one here.
                        "connectors": {"existingSecret": "dummy-Connectors-Client-Secret-2a7f"},
                        "operate": {"redirectUrl": "http://localhost:8081", "existingSecret": {"name": COMPONENTS_SECRET}},
                        "tasklist": {"redirectUrl": "http://localhost:8082", "existingSecret": {"name": COMPONENTS_SECRET}},
                        "optimize": {"redirectUrl": "http://localhost:8083", "existingSecret": {"name": COMPONENTS_SECRET}},
                        "webModeler": {"redirectUrl": "http://localhost:8084"},
                        "console": {"redirectUrl": "http://localhost:8085", "existingSecret": {"name": COMPONENTS_SECRET}},
                    },
                },
            },
            "identityKeycloak": {
                "serviceAccount": service_account(&KEYCLOAK),
                "postgresql": {"enabled": false, "auth": {"password": "dummy-Unused-Pg-Pw-9d3e"}},
                "externalDatabase": keycloak_external_database(),
                "extraEnvVars": keycloak_extra_env(),
                "auth": {"existingSecret": COMPONENTS_SECRET, "adminPassword": "dummy-Kc-Admin-Pw-4711"},
            },
            "webModeler": {
                "enabled": true,
                "serviceAccount": service_account(&WEB_MODELER),
                "restapi": {
                    "externalDatabase": {
                        "url": jdbc_url(WEB_MODELER.db_name),
                        "user": WEB_MODELER.db_user,
                        "existingSecret": COMPONENTS_SECRET,
                        "existingSecretPasswordKey": "password",
                    },
                    "env": [{"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}],
                    "mail": {
                        "existingSecret": {"name": COMPONENTS_SECRET},
                        "fromAddress": "changeme@example.com",
                        "smtpPassword": "dummy-Smtp-Pw-0815",
                    },
                },
            },
            "identity": {
                "serviceAccount": service_account(&IDENTITY),
                "fullURL": "http://localhost:8080",
                "externalDatabase": identity_external_database(),
                "env": identity_env(),
            },
            "zeebe": {"serviceAccount": service_account(&spec::ZEEBE)},
            "operate": {"serviceAccount": service_account(&spec::OPERATE)},
            "tasklist": {"serviceAccount": service_account(&spec::TASKLIST)},
            "optimize": {
                "serviceAccount": service_account(&spec::OPTIMIZE),
                "migration": {"enabled": false},
            },
            "console": {"enabled": false, "contextPath": "/"},
            "elasticsearch": {"enabled": false},
        }),
        Gen::V8_8 => json!({
            "global": {
                "elasticsearch": {"enabled": false},
                "opensearch": opensearch_global(),
                "security": {"authentication": {"method": "oidc"}},
                "identity": {
                    "auth": {
                        "enabled": true,
                        "type": "KEYCLOAK",
                        "issuerBackendUrl": format!("http://{RELEASE}-keycloak:8080/auth/realms/camunda-platform"),
                        "issuer": format!("http://{RELEASE}-keycloak:8080/auth/realms/camunda-platform"),
                        "publicIssuerUrl": "http://localhost:18080/auth/realms/camunda-platform",
                        "admin": {"secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "identity-admin-client-token"}},
                        "identity": {"redirectUrl": "http://localhost:8085"},
                        "optimize": {
                            "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "identity-optimize-client-token"},
                            "redirectUrl": "http://localhost:8083",
                        },
                        "webModeler": {"redirectUrl": "http://localhost:8070"},
                        "console": {
                            "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "identity-console-client-token"},
                            "redirectUrl": "http://localhost:8087",
                        },
                    },
                },
            },
            "identityKeycloak": {
                "enabled": true,
                "serviceAccount": service_account(&KEYCLOAK),
                "postgresql": {"enabled": false, "auth": {"password": "dummy-Unused-Pg-Pw-9d3e"}},
                "externalDatabase": keycloak_external_database(),
                "extraEnvVars": [
                    keycloak_extra_env()[0].clone(),
                    keycloak_extra_env()[1].clone(),
                    keycloak_extra_env()[2].clone(),
                    {"name": "KC_HOSTNAME", "value": format!("{RELEASE}-keycloak")},
                ],
                "ports": {"http": 8080},
                "service": {"ports": {"http": 8080}},
                "auth": {
                    "existingSecret": COMPONENTS_SECRET,
                    "passwordSecretKey": "identity-admin-client-token",
                    "adminPassword": "dummy-Kc-Admin-Pw-4711",
                },
            },
            "identity": {
                "enabled": true,
                "contextPath": "/managementidentity",
                "serviceAccount": service_account(&IDENTITY),
                "fullURL": "http://localhost:8080/managementidentity",
                "firstUser": {
                    "enabled": true,
                    "username": "admin",
                    "email": "admin@camunda.local",
                    "firstName": "Admin",
                    "lastName": "User",
                    "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "identity-first-user-password"},
                },
                "externalDatabase": identity_external_database(),
                "env": identity_env(),
            },
            "connectors": {
                "security": {"authentication": {"oidc": {"secret": {
                    // A literal client secret instead of the reference's Secret reference.
                    "inlineSecret": "dummy-Connectors-Client-Secret-2a7f",
                }}}},
            },
            "optimize": {
                "enabled": true,
                "serviceAccount": service_account(&spec::OPTIMIZE),
                "migration": {"enabled": false},
            },
            "orchestration": {
                "serviceAccount": service_account(&spec::ORCHESTRATION),
                "security": {
                    "authentication": {"oidc": {
                        "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "identity-orchestration-client-token"},
                        "redirectUrl": "http://localhost:8080",
                    }},
                    "initialization": {"defaultRoles": {"admin": {"users": ["admin"]}}},
                },
            },
            "console": {"enabled": false},
            "webModeler": {
                "enabled": true,
                "serviceAccount": service_account(&WEB_MODELER),
                "restapi": {
                    "externalDatabase": {
                        "url": jdbc_url(WEB_MODELER.db_name),
                        "user": WEB_MODELER.db_user,
                        "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretPasswordKey": "password"},
                    },
                    "env": [{"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}],
                    "mail": {
                        "secret": {"existingSecret": COMPONENTS_SECRET, "existingSecretKey": "smtp-password"},
                        "fromAddress": "changeme@example.com",
                        "smtpPassword": "dummy-Smtp-Pw-0815",
                    },
                },
            },
            "webModelerPostgresql": {"enabled": false},
            "elasticsearch": {"enabled": false},
        }),
    }
}

// ---- chart defaults ---------------------------------------------------------------------

fn sa_defaults(automount: bool) -> Value {
    json!({"enabled": true, "name": "", "annotations": {}, "labels": {}, "automountServiceAccountToken": automount})
}

fn pod_security_defaults() -> Value {
    json!({"runAsNonRoot": true, "fsGroup": 1001, "seccompProfile": {"type": "RuntimeDefault"}})
}

fn container_security_defaults() -> Value {
    json!({
        "allowPrivilegeEscalation": false,
        "privileged": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "runAsUser": 1001,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

fn component_defaults(enabled: Option<bool>, repository: &str, tag: &str) -> Value {
    let mut c = json!({
        "serviceAccount": sa_defaults(false),
        "image": {"registry": "", "repository": repository, "tag": tag, "digest": "", "pullSecrets": []},
        "env": [],
        "envFrom": [],
        "podSecurityContext": pod_security_defaults(),
        "containerSecurityContext": container_security_defaults(),
    });
    if let Some(enabled) = enabled {
        c["enabled"] = json!(enabled);
    }
    c
}

/// `identityKeycloak` as stored in `chart.values`: the parent's keys plus the defaults of
/// the keycloak subchart, which Helm merges in for an enabled subchart (it also copies
/// `global` there; left out).
fn keycloak_defaults(generation: Gen) -> Value {
    let (enabled, existing_secret, password_key, pg_secret, pg_admin_key, pg_user_key) =
        match generation {
            Gen::V8_7 => (
                true,
                "",
                "admin-password",
                "",
                "postgres-password",
                "password",
            ),
            Gen::V8_8 => (
                false,
                "camunda-credentials",
                "identity-keycloak-admin-password",
                "camunda-credentials",
                "identity-keycloak-postgresql-admin-password",
                "identity-keycloak-postgresql-user-password",
            ),
        };
    json!({
        "enabled": enabled,
        "nameOverride": "keycloak",
        "image": {"repository": "camunda/keycloak", "tag": "26.3.3", "digest": ""},
        "extraEnvVars": [],
        "httpRelativePath": "/auth/",
        "proxy": "edge",
        "auth": {"adminUser": "admin", "existingSecret": existing_secret, "passwordSecretKey": password_key},
        "postgresql": {
            // From the subchart: the parent values.yaml has no postgresql.enabled.
            "enabled": true,
            "image": {"repository": "bitnamilegacy/postgresql", "tag": "15.10.0-debian-12-r2", "digest": ""},
            "auth": {"existingSecret": pg_secret, "secretKeys": {"adminPasswordKey": pg_admin_key, "userPasswordKey": pg_user_key}},
        },
        // From the subchart.
        "externalDatabase": {
            "host": "",
            "port": 5432,
            "user": "bn_keycloak",
            "database": "bitnami_keycloak",
            "password": "",
            "existingSecret": "",
        },
        // From the subchart: the switch is `create`, not `enabled`.
        "serviceAccount": {"create": true, "name": "", "automountServiceAccountToken": true, "annotations": {}, "extraLabels": {}},
        "podSecurityContext": {"runAsNonRoot": true, "fsGroup": 1001},
        "containerSecurityContext": container_security_defaults(),
        "service": {"type": "ClusterIP"},
    })
}

fn web_modeler_defaults(generation: Gen) -> Value {
    let tag = match generation {
        Gen::V8_7 => "8.7.25",
        Gen::V8_8 => "8.8.18",
    };
    let mut external_database = json!({
        "url": "",
        "host": "",
        "port": 5432,
        "database": "web-modeler",
        "user": "",
        "password": "",
        "existingSecret": "",
        "existingSecretPasswordKey": "database-password",
    });
    let mut mail = json!({
        "smtpHost": "",
        "smtpPort": 587,
        "smtpUser": "",
        "smtpPassword": "",
        "smtpTlsEnabled": true,
        "existingSecret": null,
        "existingSecretPasswordKey": "smtp-password",
        "fromAddress": "",
        "fromName": "Camunda 8",
    });
    if generation == Gen::V8_8 {
        let secret = json!({"inlineSecret": "", "existingSecret": "", "existingSecretKey": ""});
        external_database["secret"] = secret.clone();
        mail["secret"] = secret;
        mail["existingSecret"] = json!("");
    }
    let sub = |repository: &str| {
        json!({
            "image": {"repository": repository},
            "env": [],
            "podSecurityContext": pod_security_defaults(),
            "containerSecurityContext": container_security_defaults(),
        })
    };
    let mut restapi = sub("camunda/web-modeler-restapi");
    restapi["externalDatabase"] = external_database;
    restapi["mail"] = mail;
    json!({
        "enabled": false,
        "nameOverride": "",
        "fullnameOverride": "",
        "serviceAccount": sa_defaults(false),
        "image": {"registry": "", "tag": tag, "pullSecrets": []},
        "restapi": restapi,
        "webapp": sub("camunda/web-modeler-webapp"),
        "websockets": sub("camunda/web-modeler-websockets"),
    })
}

fn identity_defaults(generation: Gen) -> Value {
    let (enabled, tag, external_database) = match generation {
        Gen::V8_7 => (
            true,
            "8.7.23",
            json!({
                "enabled": false, "host": null, "port": null, "username": null, "database": null,
                "password": null, "existingSecret": null, "existingSecretPasswordKey": null,
            }),
        ),
        Gen::V8_8 => (
            false,
            "8.8.16",
            json!({
                "enabled": false, "host": "", "port": 5432, "username": "", "database": "",
                "password": "", "existingSecret": "", "existingSecretPasswordKey": "",
                "secret": {"inlineSecret": "", "existingSecret": "", "existingSecretKey": ""},
            }),
        ),
    };
    let mut identity = component_defaults(Some(enabled), "camunda/identity", tag);
    identity["nameOverride"] = json!("");
    identity["fullnameOverride"] = json!("");
    identity["serviceAccount"] = sa_defaults(true);
    identity["externalDatabase"] = external_database;
    identity
}

/// The chart's default values as stored in the release (`chart.values`), trimmed to the
/// keys the tool reads but faithful to the chart version's values.yaml (see the chart
/// values INDEX: key presence, `null` versus `""`, defaults per generation).
pub fn chart_defaults(generation: Gen) -> Value {
    match generation {
        Gen::V8_7 => json!({
            "global": {
                "image": {"registry": "", "tag": null, "pullPolicy": "IfNotPresent", "pullSecrets": []},
                "license": {"key": null, "existingSecret": null, "existingSecretKey": null},
                "elasticsearch": {
                    "enabled": true,
                    "external": false,
                    "auth": {"username": null, "password": null, "existingSecret": null, "existingSecretKey": "password"},
                    "url": {"protocol": "http", "host": "{{ .Release.Name }}-elasticsearch", "port": 9200},
                },
                "opensearch": {
                    "enabled": false,
                    "aws": {"enabled": false},
                    "auth": {"username": null, "password": null, "existingSecret": null, "existingSecretKey": "password"},
                    "url": {"protocol": "https", "host": null, "port": 443},
                },
                "identity": {
                    "keycloak": {"internal": false, "url": {}, "contextPath": "/auth", "realm": "/realms/camunda-platform", "auth": {}},
                    "auth": {
                        "enabled": true,
                        "issuer": "",
                        "issuerBackendUrl": "",
                        "type": "KEYCLOAK",
                        "publicIssuerUrl": "http://localhost:18080/auth/realms/camunda-platform",
                        "connectors": {"clientId": "connectors", "existingSecret": null, "existingSecretKey": "connectors-secret"},
                        "zeebe": {"clientId": "zeebe", "existingSecret": null, "existingSecretKey": "zeebe-secret", "audience": "zeebe-api"},
                    },
                },
            },
            "console": component_defaults(Some(false), "camunda/console", "8.7.108"),
            "zeebe": component_defaults(Some(true), "camunda/zeebe", "8.7.37"),
            // No `enabled` key: the gateway follows zeebe.
            "zeebeGateway": component_defaults(None, "camunda/zeebe", "8.7.37"),
            "operate": component_defaults(Some(true), "camunda/operate", "8.7.37"),
            "tasklist": component_defaults(Some(true), "camunda/tasklist", "8.7.37"),
            "optimize": component_defaults(Some(true), "camunda/optimize", "8.7.26"),
            "executionIdentity": component_defaults(Some(false), "camunda/camunda", "SNAPSHOT"),
            "identity": identity_defaults(Gen::V8_7),
            "identityPostgresql": {"enabled": false, "nameOverride": "identity-postgresql"},
            "identityKeycloak": keycloak_defaults(Gen::V8_7),
            "webModeler": web_modeler_defaults(Gen::V8_7),
            "postgresql": {"enabled": false, "nameOverride": "postgresql-web-modeler"},
            "connectors": component_defaults(Some(true), "camunda/connectors-bundle", "8.7.23"),
            "elasticsearch": {"enabled": true},
        }),
        Gen::V8_8 => json!({
            "global": {
                "image": {"registry": "", "tag": "", "pullPolicy": "Always", "pullSecrets": []},
                "license": {"key": "", "existingSecret": "", "existingSecretKey": "", "secret": {"inlineSecret": "", "existingSecret": "", "existingSecretKey": ""}},
                "elasticsearch": {
                    "enabled": true,
                    "external": false,
                    "auth": {"username": "", "password": "", "existingSecret": "", "existingSecretKey": "password"},
                    "url": {"protocol": "http", "host": "{{ .Release.Name }}-elasticsearch", "port": 9200},
                },
                "opensearch": {
                    "enabled": false,
                    "aws": {"enabled": false},
                    "auth": {"username": "", "password": "", "existingSecret": "", "existingSecretKey": "password"},
                    "url": {"protocol": "https", "host": "", "port": 443},
                },
                "identity": {
                    "keycloak": {"internal": false, "url": {}, "contextPath": "/auth", "realm": "/realms/camunda-platform", "auth": {}},
                    "auth": {
                        "enabled": false,
                        "issuer": "",
                        "issuerBackendUrl": "",
                        "type": "KEYCLOAK",
                        "publicIssuerUrl": "http://localhost:18080/auth/realms/camunda-platform",
                        "admin": {"enabled": false, "clientId": "admin", "existingSecret": "", "existingSecretKey": "identity-admin-client-token"},
                    },
                },
            },
            "identity": identity_defaults(Gen::V8_8),
            "identityPostgresql": {"enabled": false, "nameOverride": "identity-postgresql"},
            "identityKeycloak": keycloak_defaults(Gen::V8_8),
            "console": component_defaults(Some(false), "camunda/console", "8.8.140"),
            "webModeler": web_modeler_defaults(Gen::V8_8),
            "webModelerPostgresql": {"enabled": false, "nameOverride": "postgresql-web-modeler"},
            "connectors": component_defaults(Some(true), "camunda/connectors-bundle", "8.8.17"),
            "orchestration": component_defaults(Some(true), "camunda/camunda", "8.8.35"),
            "optimize": component_defaults(Some(false), "camunda/optimize", "8.8.35"),
            "elasticsearch": {"enabled": true},
        }),
    }
}

// ---- the cluster ----------------------------------------------------------------------

/// A value looked up the way a template sees it for the keys the world reads: the
/// user's when set (not null), else the chart default's.
fn chart_value<'a>(user: &'a Value, defaults: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let find = |root: &'a Value| {
        path.iter()
            .try_fold(root, |node, key| node.get(*key))
            .filter(|v| !v.is_null())
    };
    find(user).or_else(|| find(defaults))
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Deployment,
    StatefulSet,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
        }
    }
}

/// One workload the chart renders.
struct Workload {
    /// The values key of the component (`zeebe`, `webModeler`, …).
    key: &'static str,
    /// The values key whose `enabled` switches it (`zeebe` for the gateway).
    switch: &'static str,
    kind: Kind,
    /// `<release>-<componentName>` as the chart's componentFullname renders it.
    name: String,
    /// The chart's component name, default service account suffix.
    component_name: &'static str,
    /// The `app.kubernetes.io/component` label the chart sets.
    component_label: &'static str,
    container: &'static str,
    image: String,
    /// Where the container's extra env comes from in the values.
    env_path: &'static [&'static str],
}

fn workloads(generation: Gen) -> Vec<Workload> {
    let deployment =
        |key, switch, component_name, component_label, container, image: &str, env_path| Workload {
            key,
            switch,
            kind: Kind::Deployment,
            name: format!("{RELEASE}-{component_name}"),
            component_name,
            component_label,
            container,
            image: image.to_string(),
            env_path,
        };
    let (wm_tag, identity_tag, connectors_tag) = match generation {
        Gen::V8_7 => ("8.7.25", "8.7.23", "8.7.23"),
        Gen::V8_8 => ("8.8.18", "8.8.16", "8.8.17"),
    };
    let mut list = match generation {
        Gen::V8_7 => vec![
            Workload {
                key: "zeebe",
                switch: "zeebe",
                kind: Kind::StatefulSet,
                name: format!("{RELEASE}-zeebe"),
                component_name: "zeebe",
                component_label: "zeebe-broker",
                container: "zeebe",
                image: "camunda/zeebe:8.7.37".into(),
                env_path: &["zeebe", "env"],
            },
            deployment(
                "zeebeGateway",
                "zeebe",
                "zeebe-gateway",
                "zeebe-gateway",
                "zeebe-gateway",
                "camunda/zeebe:8.7.37",
                &["zeebeGateway", "env"],
            ),
            deployment(
                "operate",
                "operate",
                "operate",
                "operate",
                "operate",
                "camunda/operate:8.7.37",
                &["operate", "env"],
            ),
            deployment(
                "tasklist",
                "tasklist",
                "tasklist",
                "tasklist",
                "tasklist",
                "camunda/tasklist:8.7.37",
                &["tasklist", "env"],
            ),
            deployment(
                "optimize",
                "optimize",
                "optimize",
                "optimize",
                "optimize",
                "camunda/optimize:8.7.26",
                &["optimize", "env"],
            ),
        ],
        Gen::V8_8 => vec![
            Workload {
                key: "orchestration",
                switch: "orchestration",
                kind: Kind::StatefulSet,
                // The orchestration cluster keeps zeebe's names and labels.
                name: format!("{RELEASE}-zeebe"),
                component_name: "zeebe",
                component_label: "zeebe-broker",
                container: "orchestration",
                image: "camunda/camunda:8.8.35".into(),
                env_path: &["orchestration", "env"],
            },
            deployment(
                "optimize",
                "optimize",
                "optimize",
                "optimize",
                "optimize",
                "camunda/optimize:8.8.35",
                &["optimize", "env"],
            ),
        ],
    };
    list.push(deployment(
        "identity",
        "identity",
        "identity",
        "identity",
        "identity",
        &format!("camunda/identity:{identity_tag}"),
        &["identity", "env"],
    ));
    list.push(deployment(
        "connectors",
        "connectors",
        "connectors",
        "connectors",
        "connectors",
        &format!("camunda/connectors-bundle:{connectors_tag}"),
        &["connectors", "env"],
    ));
    list.push(Workload {
        key: "identityKeycloak",
        switch: "identityKeycloak",
        kind: Kind::StatefulSet,
        name: format!("{RELEASE}-keycloak"),
        component_name: "keycloak",
        component_label: "keycloak",
        container: "keycloak",
        image: "camunda/keycloak:26.3.3".into(),
        env_path: &["identityKeycloak", "extraEnvVars"],
    });
    for (sub, env_path) in [
        ("restapi", &["webModeler", "restapi", "env"][..]),
        ("webapp", &["webModeler", "webapp", "env"][..]),
        ("websockets", &["webModeler", "websockets", "env"][..]),
    ] {
        list.push(Workload {
            key: "webModeler",
            switch: "webModeler",
            kind: Kind::Deployment,
            name: format!("{RELEASE}-web-modeler-{sub}"),
            component_name: "web-modeler",
            component_label: sub,
            container: match sub {
                "restapi" => "web-modeler-restapi",
                "webapp" => "web-modeler-webapp",
                _ => "web-modeler-websockets",
            },
            image: format!("camunda/web-modeler-{sub}:{wm_tag}"),
            env_path,
        });
    }
    list
}

/// The service account a workload runs as, by the chart's rule, and whether the chart
/// creates it.
fn workload_service_account(w: &Workload, user: &Value, defaults: &Value) -> (String, bool) {
    let name = chart_value(user, defaults, &[w.key, "serviceAccount", "name"])
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let switch = if w.key == "identityKeycloak" {
        "create"
    } else {
        "enabled"
    };
    let created = truthy(chart_value(
        user,
        defaults,
        &[w.key, "serviceAccount", switch],
    ));
    let fallback = if created {
        format!("{RELEASE}-{}", w.component_name)
    } else {
        "default".to_string()
    };
    (name.unwrap_or(fallback), created)
}

/// FNV-1a, for stable fake ids and hashes.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn uid(seed: &str) -> String {
    let h = fnv(seed);
    let l = fnv(&format!("{seed}/low"));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        l >> 52,
        l & 0xffff_ffff_ffff
    )
}

/// Kubernetes' alphabet for generated name suffixes.
fn suffix(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = fnv(seed);
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize];
            h /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}

fn match_labels(w: &Workload) -> Map<String, Value> {
    let mut labels = Map::new();
    let name = if w.key == "identityKeycloak" {
        "keycloak"
    } else {
        "camunda-platform"
    };
    labels.insert("app.kubernetes.io/name".into(), json!(name));
    labels.insert("app.kubernetes.io/instance".into(), json!(RELEASE));
    if w.key != "identityKeycloak" {
        labels.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
        labels.insert(
            "app.kubernetes.io/part-of".into(),
            json!("camunda-platform"),
        );
    }
    labels.insert(
        "app.kubernetes.io/component".into(),
        json!(w.component_label),
    );
    labels
}

fn object_labels(w: &Workload, generation: Gen) -> Map<String, Value> {
    let mut labels = match_labels(w);
    let chart = if w.key == "identityKeycloak" {
        "keycloak-24.9.1".to_string()
    } else {
        format!("camunda-platform-{}", generation.chart_version())
    };
    labels.insert("helm.sh/chart".into(), json!(chart));
    labels.insert("app.kubernetes.io/managed-by".into(), json!("Helm"));
    let version = w.image.rsplit(':').next().unwrap_or_default();
    labels.insert("app.kubernetes.io/version".into(), json!(version));
    labels
}

/// The env the EKS pod identity webhook appends to each container of a pod whose
/// service account carries the role annotation (regional STS, region, role, token file).
pub fn webhook_env(role_arn: &str) -> Vec<Value> {
    vec![
        json!({"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"}),
        json!({"name": "AWS_DEFAULT_REGION", "value": spec::REGION}),
        json!({"name": "AWS_REGION", "value": spec::REGION}),
        json!({"name": "AWS_ROLE_ARN", "value": role_arn}),
        json!({"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": WEB_IDENTITY_TOKEN_FILE}),
    ]
}

/// The webhook's projected token volume.
pub fn webhook_token_volume() -> Value {
    json!({
        "name": TOKEN_VOLUME,
        "projected": {
            "defaultMode": 420,
            "sources": [{"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}],
        },
    })
}

/// The webhook's mount of that volume in each container.
pub fn webhook_token_mount() -> Value {
    json!({"name": TOKEN_VOLUME, "mountPath": TOKEN_MOUNT_PATH, "readOnly": true})
}

fn pod_security_context() -> Value {
    json!({"fsGroup": 1001, "runAsUser": 1001, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}})
}

fn metadata(name: &str, labels: Map<String, Value>) -> Value {
    json!({
        "name": name,
        "namespace": NAMESPACE,
        "uid": uid(name),
        "resourceVersion": format!("{}", 50_000 + fnv(name) % 10_000),
        "creationTimestamp": "2026-08-02T09:31:00Z",
        "labels": labels,
    })
}

fn node(name: &str, zone: &str, instance_id: &str, index: usize) -> Value {
    let ip = format!("10.0.{}.{}", index + 1, 23 + index * 24);
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": uid(name),
            "creationTimestamp": "2026-07-30T08:00:00Z",
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/region": spec::REGION,
                "topology.kubernetes.io/zone": zone,
                "node.kubernetes.io/instance-type": "m6i.xlarge",
                "eks.amazonaws.com/nodegroup": format!("{}-ng", spec::CLUSTER_NAME),
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
            },
        },
        "spec": {"providerID": format!("aws:///{zone}/{instance_id}")},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {
                "kubeletVersion": format!("v{}.4-eks-a737599", spec::K8S_VERSION),
                "osImage": "Amazon Linux 2023.5.20240819",
                "containerRuntimeVersion": "containerd://1.7.20",
                "architecture": "amd64",
                "operatingSystem": "linux",
            },
        },
    })
}

/// The release Secret's spec for a revision of the world's release.
pub fn release_spec(
    generation: Gen,
    revision: u32,
    status: &str,
    user_values: &Value,
) -> ReleaseSpec {
    let mut spec = ReleaseSpec::camunda(
        RELEASE,
        NAMESPACE,
        revision,
        status,
        generation.chart_version(),
        generation.app_version(),
    );
    spec.user_values = user_values.clone();
    spec.chart_defaults = chart_defaults(generation);
    spec.manifest = workloads(generation)
        .iter()
        .map(|w| {
            format!(
                "---\n# Source: camunda-platform/templates/{}.yaml\napiVersion: apps/v1\nkind: {}\nmetadata:\n  name: {}\n",
                w.component_name,
                w.kind.as_str(),
                w.name
            )
        })
        .collect();
    spec
}

/// What a healthy cluster holds for these values: two EKS nodes, the Helm release
/// Secrets (revision 1 superseded, with Web Modeler still disabled; revision 2 deployed
/// with `user_values`), the ServiceAccounts the chart creates (annotated from the values),
/// the workloads named as the chart names them, and one Running pod per workload with
/// the selector labels, the values' env, the webhook's injection when its service
/// account is annotated, and a non-root pod security context with `fsGroup`.
///
/// Workloads, service accounts and pods follow the values: a component switched off has
/// none, a renamed service account is created under its new name.
pub fn kube_objects(generation: Gen, user_values: &Value) -> Vec<Value> {
    let defaults = chart_defaults(generation);
    let mut objects = Vec::new();

    for (i, (name, zone, instance)) in NODES.iter().enumerate() {
        objects.push(node(name, zone, instance, i));
    }

    let mut previous = user_values.clone();
    set_dotted(&mut previous, "webModeler.enabled", json!(false));
    objects.push(helm::release_secret(&release_spec(
        generation,
        1,
        "superseded",
        &previous,
    )));
    objects.push(helm::release_secret(&release_spec(
        generation,
        2,
        "deployed",
        user_values,
    )));

    let live: Vec<Workload> = workloads(generation)
        .into_iter()
        .filter(|w| truthy(chart_value(user_values, &defaults, &[w.switch, "enabled"])))
        .collect();

    // ServiceAccounts: the namespace's default, then one per account the chart creates.
    let mut accounts: Vec<(String, Option<String>)> = vec![("default".into(), None)];
    objects.push(json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata("default", Map::new()),
    }));
    for w in &live {
        let (name, created) = workload_service_account(w, user_values, &defaults);
        if !created || accounts.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let annotations = chart_value(
            user_values,
            &defaults,
            &[w.key, "serviceAccount", "annotations"],
        )
        .cloned()
        .unwrap_or_else(|| json!({}));
        let role = annotations
            .get(ROLE_ARN_ANNOTATION)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let mut meta = metadata(&name, object_labels(w, generation));
        meta["annotations"] = annotations;
        meta["annotations"]["meta.helm.sh/release-name"] = json!(RELEASE);
        meta["annotations"]["meta.helm.sh/release-namespace"] = json!(NAMESPACE);
        objects.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}));
        accounts.push((name, role));
    }

    let mut pods = Vec::new();
    for (i, w) in live.iter().enumerate() {
        let (account, _) = workload_service_account(w, user_values, &defaults);
        let env: Vec<Value> = chart_value(user_values, &defaults, w.env_path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let selector = match_labels(w);
        let container = json!({
            "name": w.container,
            "image": w.image,
            "env": env,
            "securityContext": container_security_defaults(),
        });
        let template_spec = json!({
            "serviceAccountName": account,
            "securityContext": pod_security_context(),
            "containers": [container.clone()],
        });
        let mut workload_meta = metadata(&w.name, object_labels(w, generation));
        workload_meta["annotations"] = json!({
            "meta.helm.sh/release-name": RELEASE,
            "meta.helm.sh/release-namespace": NAMESPACE,
        });
        workload_meta["generation"] = json!(1);
        let mut workload = json!({
            "apiVersion": "apps/v1",
            "kind": w.kind.as_str(),
            "metadata": workload_meta,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {"metadata": {"labels": object_labels(w, generation)}, "spec": template_spec},
            },
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1, "observedGeneration": 1},
        });
        if w.kind == Kind::StatefulSet {
            workload["spec"]["serviceName"] = json!(w.name);
            workload["spec"]["podManagementPolicy"] = json!("Parallel");
        }
        objects.push(workload);

        // The pod, as the webhook and the kubelet leave it.
        let mut pod_labels = object_labels(w, generation);
        let template_hash = suffix(&w.name, 10);
        let (pod_name, owner_kind, owner_name) = match w.kind {
            Kind::Deployment => {
                pod_labels.insert("pod-template-hash".into(), json!(template_hash));
                (
                    format!(
                        "{}-{template_hash}-{}",
                        w.name,
                        suffix(&format!("{}/pod", w.name), 5)
                    ),
                    "ReplicaSet",
                    format!("{}-{template_hash}", w.name),
                )
            }
            Kind::StatefulSet => {
                let pod = format!("{}-0", w.name);
                pod_labels.insert("apps.kubernetes.io/pod-index".into(), json!("0"));
                pod_labels.insert(
                    "controller-revision-hash".into(),
                    json!(format!("{}-{template_hash}", w.name)),
                );
                pod_labels.insert("statefulset.kubernetes.io/pod-name".into(), json!(pod));
                (pod, "StatefulSet", w.name.clone())
            }
        };
        let role = accounts
            .iter()
            .find(|(n, _)| *n == account)
            .and_then(|(_, role)| role.clone());
        let mut pod_container = container;
        let mut volumes = vec![
            json!({"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}),
        ];
        if let Some(role) = &role {
            if let Some(env) = pod_container["env"].as_array_mut() {
                env.extend(webhook_env(role));
            }
            pod_container["volumeMounts"] = json!([webhook_token_mount()]);
            volumes.push(webhook_token_volume());
        }
        let (node_name, _, _) = NODES[i % NODES.len()];
        let mut pod_meta = metadata(&pod_name, pod_labels);
        pod_meta["ownerReferences"] = json!([{
            "apiVersion": "apps/v1",
            "kind": owner_kind,
            "name": owner_name,
            "uid": uid(&owner_name),
            "controller": true,
            "blockOwnerDeletion": true,
        }]);
        pods.push(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": pod_meta,
            "spec": {
                "serviceAccountName": account,
                "nodeName": node_name,
                "securityContext": pod_security_context(),
                "containers": [pod_container],
                "volumes": volumes,
            },
            "status": {
                "phase": "Running",
                "podIP": format!("10.0.{}.{}", 100 + i % NODES.len(), 10 + i),
                "startTime": "2026-08-02T09:32:00Z",
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                "containerStatuses": [{
                    "name": w.container,
                    "image": w.image,
                    "ready": true,
                    "started": true,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-08-02T09:33:00Z"}},
                }],
            },
        }));
    }
    objects.extend(pods);
    objects
}

// ---- helpers for scenarios --------------------------------------------------------------

/// Write `value` as YAML into a new file in `dir` (`values-1.yaml`, `values-2.yaml`, …)
/// for the `--values` tests; returns its path.
pub fn write_values_file(dir: &Path, value: &Value) -> PathBuf {
    let text = serde_saphyr::to_string(value).expect("values serialise to YAML");
    let path = (1..)
        .map(|n| dir.join(format!("values-{n}.yaml")))
        .find(|p| !p.exists())
        .expect("a free file name");
    std::fs::write(&path, text).expect("write the values file");
    path
}

/// Set the key at `path`, creating maps on the way (and replacing a non-map on the way).
pub fn set_path(value: &mut Value, path: &[&str], new: Value) {
    let Some((last, parents)) = path.split_last() else {
        *value = new;
        return;
    };
    let mut node = value;
    for key in parents {
        if !node.is_object() {
            *node = json!({});
        }
        node = node
            .as_object_mut()
            .expect("just made a map")
            .entry(key.to_string())
            .or_insert_with(|| json!({}));
    }
    if !node.is_object() {
        *node = json!({});
    }
    node.as_object_mut()
        .expect("just made a map")
        .insert(last.to_string(), new);
}

/// Remove the key at `path`; returns what was there.
pub fn remove_path(value: &mut Value, path: &[&str]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let node = parents
        .iter()
        .try_fold(value, |node, key| node.get_mut(*key))?;
    node.as_object_mut()?.remove(*last)
}

/// [`set_path`] with a dotted path (`"identity.externalDatabase.host"`).
pub fn set_dotted(value: &mut Value, dotted: &str, new: Value) {
    let path: Vec<&str> = dotted.split('.').collect();
    set_path(value, &path, new);
}

/// [`remove_path`] with a dotted path.
pub fn remove_dotted(value: &mut Value, dotted: &str) -> Option<Value> {
    let path: Vec<&str> = dotted.split('.').collect();
    remove_path(value, &path)
}

/// The object of `kind` named `name` among `objects`, to change one thing in a world.
pub fn find_object_mut<'a>(
    objects: &'a mut [Value],
    kind: &str,
    name: &str,
) -> Option<&'a mut Value> {
    objects
        .iter_mut()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}
