//! The names every test world shares: one place, so the fake Kubernetes API server,
//! the moto seeding and the assertions agree on them.
//!
//! A world is a healthy Camunda-on-EKS setup shaped like Camunda's EKS reference
//! architecture (IRSA flavour): explicit service-account names, one Aurora role per
//! database component, one OpenSearch role shared by the OpenSearch components.

#![allow(dead_code)]

/// Chart generations the worlds are built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gen {
    /// Camunda 8.7, chart 12.x: zeebe, zeebeGateway, operate, tasklist, optimize.
    V8_7,
    /// Camunda 8.8, chart 13.x: orchestration, optimize.
    V8_8,
}

impl Gen {
    pub fn chart_version(self) -> &'static str {
        match self {
            Gen::V8_7 => "12.13.3",
            Gen::V8_8 => "13.12.7",
        }
    }

    pub fn app_version(self) -> &'static str {
        match self {
            Gen::V8_7 => "8.7.x",
            Gen::V8_8 => "8.8.x",
        }
    }
}

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "eu-west-1";
pub const NAMESPACE: &str = "camunda";
pub const RELEASE: &str = "camunda";
pub const CLUSTER_NAME: &str = "camunda-prod";
pub const K8S_VERSION: &str = "1.30";
/// 32 upper-case hex digits, like a real EKS OIDC id (moto's own are 10 alphanumerics;
/// the moto wrapper pins this one through the cluster tag `moto:oidc-id`).
pub const OIDC_ID: &str = "5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B";

pub fn issuer() -> String {
    format!("https://oidc.eks.{REGION}.amazonaws.com/id/{OIDC_ID}")
}

/// The issuer without `https://`, as IAM condition keys and provider ARNs use it.
pub fn issuer_host_path() -> String {
    format!("oidc.eks.{REGION}.amazonaws.com/id/{OIDC_ID}")
}

pub fn oidc_provider_arn() -> String {
    format!(
        "arn:aws:iam::{ACCOUNT}:oidc-provider/{}",
        issuer_host_path()
    )
}

pub const NODE_ROLE: &str = "camunda-prod-node-role";
pub const NODE_INSTANCE_ID: &str = "i-0a1b2c3d4e5f60718";

// Aurora PostgreSQL
pub const AURORA_CLUSTER: &str = "camunda-aurora";
/// A realistic writer endpoint. The suffix does not have to match what moto generates:
/// the tool reads the cluster identifier (the first label) and looks the cluster up by it.
pub const AURORA_HOST: &str = "camunda-aurora.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com";
pub const AURORA_PORT: u16 = 5432;

// OpenSearch
pub const OPENSEARCH_DOMAIN: &str = "camunda-os";
pub const OPENSEARCH_HOST: &str =
    "vpc-camunda-os-3k2j4h5g6f7d8s9a0q1w2e3r4t.eu-west-1.es.amazonaws.com";

/// One component of a world: the chart key, its service account, its role, and (for
/// database components) its database user and name.
#[derive(Clone, Copy, Debug)]
pub struct ComponentSpec {
    pub key: &'static str,
    pub service_account: &'static str,
    pub role: &'static str,
    pub db_user: Option<&'static str>,
    pub db_name: Option<&'static str>,
}

pub const OPENSEARCH_ROLE: &str = "OpenSearchRole-camunda-os";

pub const KEYCLOAK: ComponentSpec = ComponentSpec {
    key: "identityKeycloak",
    service_account: "keycloak-sa",
    role: "AuroraRole-Keycloak-camunda-prod",
    db_user: Some("keycloak_irsa"),
    db_name: Some("camunda_keycloak"),
};
pub const IDENTITY: ComponentSpec = ComponentSpec {
    key: "identity",
    service_account: "identity-sa",
    role: "AuroraRole-Identity-camunda-prod",
    db_user: Some("identity_irsa"),
    db_name: Some("camunda_identity"),
};
pub const WEB_MODELER: ComponentSpec = ComponentSpec {
    key: "webModeler",
    service_account: "webmodeler-sa",
    role: "AuroraRole-Webmodeler-camunda-prod",
    db_user: Some("webmodeler_irsa"),
    db_name: Some("camunda_webmodeler"),
};
const fn os(key: &'static str, service_account: &'static str) -> ComponentSpec {
    ComponentSpec {
        key,
        service_account,
        role: OPENSEARCH_ROLE,
        db_user: None,
        db_name: None,
    }
}
pub const ZEEBE: ComponentSpec = os("zeebe", "zeebe-sa");
pub const OPERATE: ComponentSpec = os("operate", "operate-sa");
pub const TASKLIST: ComponentSpec = os("tasklist", "tasklist-sa");
pub const OPTIMIZE: ComponentSpec = os("optimize", "optimize-sa");
/// 8.8+: the orchestration cluster keeps the zeebe service account.
pub const ORCHESTRATION: ComponentSpec = os("orchestration", "zeebe-sa");

/// The PostgreSQL components of a healthy world (all use IRSA).
pub fn postgres_components(_generation: Gen) -> Vec<ComponentSpec> {
    vec![KEYCLOAK, IDENTITY, WEB_MODELER]
}

/// The OpenSearch components of a healthy world (the chart's default list).
pub fn opensearch_components(generation: Gen) -> Vec<ComponentSpec> {
    match generation {
        Gen::V8_7 => vec![ZEEBE, OPERATE, TASKLIST, OPTIMIZE],
        Gen::V8_8 => vec![ORCHESTRATION, OPTIMIZE],
    }
}

pub fn role_arn(role: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{role}")
}

pub fn subject(service_account: &str) -> String {
    format!("system:serviceaccount:{NAMESPACE}:{service_account}")
}
