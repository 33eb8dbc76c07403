//! The Kubernetes side of a run: what is gathered from the cluster (service accounts,
//! workloads, pods, dry-runs, probe jobs) and how it is judged. `run::online` calls these
//! in catalogue order.

use super::{IrsaSubject, Targets, ValuesVerdict};
use crate::chart::Component;
use crate::checks::components::{Plan, PlannedComponent};
use crate::cli::Args;
use crate::cluster::connect::KubeTarget;
use crate::finding::Finding;
use crate::values::Values;

/// The cluster's view of each planned component.
#[derive(Debug, Default)]
pub struct ComponentsFacts {}

/// The outcome of the probe jobs (empty with `-s`).
#[derive(Debug, Default)]
pub struct Probes {}

pub async fn gather_components(
    _target: &KubeTarget,
    _namespace: &str,
    _verdict: &ValuesVerdict,
    _targets: &Targets,
    _args: &Args,
) -> ComponentsFacts {
    ComponentsFacts {}
}

/// The live service account and role of each planned component.
pub fn subjects(_components: &ComponentsFacts, plan: &Plan) -> Vec<IrsaSubject> {
    plan.all()
        .filter_map(|p| {
            Some(IrsaSubject {
                component: p.component,
                category: p.category,
                service_account: p.service_account.name.resolved()?.to_string(),
                role_arn: None,
                audience: "sts.amazonaws.com".into(),
            })
        })
        .collect()
}

pub async fn run_probes(
    _target: &KubeTarget,
    _namespace: &str,
    _subjects: &[IrsaSubject],
    _targets: &Targets,
    _args: &Args,
) -> Probes {
    Probes {}
}

/// Codes 41–43 for one host:port.
pub fn judge_reach(
    _probes: &Probes,
    _host: &str,
    _port: u16,
    _component: Option<Component>,
) -> Vec<Finding> {
    Vec::new()
}

/// Code 86: the external Keycloak's URL and Service.
pub fn judge_external_keycloak(
    _components: &ComponentsFacts,
    values: &Values,
    namespace: &str,
) -> Vec<Finding> {
    crate::checks::aurora::judge_external_keycloak(values, None, namespace).0
}

/// Codes 110 and 163: the live service account and its role annotation.
pub fn judge_account(
    _components: &ComponentsFacts,
    _planned: &PlannedComponent,
    _subject: Option<&IrsaSubject>,
) -> Vec<Finding> {
    Vec::new()
}

/// Codes 111–114: token injection, running pods, static credentials, token readable.
pub fn judge_pods(
    _components: &ComponentsFacts,
    _subject: &IrsaSubject,
    _values: &Values,
) -> Vec<Finding> {
    Vec::new()
}

/// Codes 130–134: the identity a probe pod really gets.
pub fn judge_identity_probe(_probes: &Probes, _subject: &IrsaSubject) -> Vec<Finding> {
    Vec::new()
}

/// Code 170: IMDS reachable from pods.
pub fn judge_imds(_probes: &Probes) -> Vec<Finding> {
    Vec::new()
}
