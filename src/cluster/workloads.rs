//! The components' workloads (Deployments and StatefulSets), named as the chart names
//! them. Their pod template's `serviceAccountName` is the final word on the account a
//! component runs as; their selector finds its pods.

use crate::chart::{Component, component_fullname};
use crate::checks::read;
use crate::facts::{ApiError, Fetched};
use crate::values::Values;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PodTemplateSpec, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::Api;
use kube::api::ListParams;

use super::pods::PodSpecFact;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    /// The kubectl resource name (`deployment/NAME`).
    pub fn kubectl(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }

    /// The kind as the API names it.
    pub fn label(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }
}

/// One Deployment or StatefulSet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadFact {
    pub kind: WorkloadKind,
    pub name: String,
    /// The selector as a label selector string; `None` when it has no usable selector.
    pub selector: Option<String>,
    pub template: PodSpecFact,
}

/// The Deployments and StatefulSets of the namespace (what could be listed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workloads {
    pub found: Vec<WorkloadFact>,
    /// A list that failed (the other kind may still be there).
    pub errors: Vec<ApiError>,
}

impl Workloads {
    /// The workload of that name, if found.
    pub fn named(&self, name: &str) -> Option<&WorkloadFact> {
        self.found.iter().find(|w| w.name == name)
    }
}

/// The names the chart gives a component's workloads: `<c>.fullnameOverride`, else the
/// componentFullname rule with `<c>.nameOverride` (the Keycloak subchart's
/// `common.names.fullname` is the same rule); Web Modeler has three.
pub fn expected_names(component: Component, release: &str, values: &Values) -> Vec<String> {
    let key = component.key();
    let base = read::text(values, &[key, "fullnameOverride"]).unwrap_or_else(|| {
        let name = read::text(values, &[key, "nameOverride"])
            .unwrap_or_else(|| component.resource_name().to_string());
        component_fullname(release, &name)
    });
    match component {
        Component::WebModeler => ["restapi", "webapp", "websockets"]
            .iter()
            .map(|sub| format!("{base}-{sub}"))
            .collect(),
        _ => vec![base],
    }
}

/// A label selector as the `labelSelector` query parameter spells it.
pub fn selector_string(selector: &LabelSelector) -> Option<String> {
    let mut parts: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        parts.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            "DoesNotExist" => format!("!{}", e.key),
            // An operator this tool does not know: do not guess the pods.
            _ => return None,
        });
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// List the namespace's Deployments and StatefulSets (two calls, at once).
pub async fn gather(client: &kube::Client, namespace: &str) -> Workloads {
    crate::log::call(format!(
        "GET /apis/apps/v1/namespaces/{namespace}/deployments (list deployments)"
    ));
    crate::log::call(format!(
        "GET /apis/apps/v1/namespaces/{namespace}/statefulsets (list statefulsets)"
    ));
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default();
    let (d, s) = tokio::join!(deployments.list(&params), statefulsets.list(&params));
    let mut out = Workloads::default();
    match d {
        Ok(list) => out.found.extend(list.items.iter().filter_map(|d| {
            let spec = d.spec.as_ref()?;
            workload(
                WorkloadKind::Deployment,
                &d.metadata,
                &spec.selector,
                &spec.template,
            )
        })),
        Err(e) => out.errors.push(super::api_error("list deployments", e)),
    }
    match s {
        Ok(list) => out.found.extend(list.items.iter().filter_map(|s| {
            let spec = s.spec.as_ref()?;
            workload(
                WorkloadKind::StatefulSet,
                &s.metadata,
                &spec.selector,
                &spec.template,
            )
        })),
        Err(e) => out.errors.push(super::api_error("list statefulsets", e)),
    }
    out
}

/// The fact of one Deployment or StatefulSet (both have a selector and a pod template).
fn workload(
    kind: WorkloadKind,
    metadata: &ObjectMeta,
    selector: &LabelSelector,
    template: &PodTemplateSpec,
) -> Option<WorkloadFact> {
    Some(WorkloadFact {
        kind,
        name: metadata.name.clone()?,
        selector: selector_string(selector),
        template: template
            .spec
            .as_ref()
            .map(PodSpecFact::from_spec)
            .unwrap_or_default(),
    })
}

/// Whether a Service of that name exists in the namespace.
pub async fn service_exists(client: &kube::Client, namespace: &str, name: &str) -> Fetched<bool> {
    crate::log::call(format!(
        "GET /api/v1/namespaces/{namespace}/services/{name} (get service)"
    ));
    let api: Api<Service> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await {
        Ok(found) => Ok(found.is_some()),
        Err(e) => Err(super::api_error(format!("get service {name}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(user: serde_json::Value) -> Values {
        Values::new(user, json!({}))
    }

    #[test]
    fn names_follow_the_chart() {
        let v = values(json!({}));
        assert_eq!(
            expected_names(Component::Identity, "camunda", &v),
            vec!["camunda-identity"]
        );
        assert_eq!(
            expected_names(Component::Orchestration, "camunda", &v),
            vec!["camunda-zeebe"]
        );
        assert_eq!(
            expected_names(Component::IdentityKeycloak, "camunda", &v),
            vec!["camunda-keycloak"]
        );
        assert_eq!(
            expected_names(Component::WebModeler, "camunda", &v),
            vec![
                "camunda-web-modeler-restapi",
                "camunda-web-modeler-webapp",
                "camunda-web-modeler-websockets"
            ]
        );
        // The release name already holds the component's name.
        assert_eq!(
            expected_names(Component::Zeebe, "my-zeebe", &v),
            vec!["my-zeebe"]
        );
        let v = values(json!({
            "identity": {"fullnameOverride": "idp"},
            "webModeler": {"nameOverride": "modeler"},
            "identityKeycloak": {"nameOverride": "kc"}
        }));
        assert_eq!(expected_names(Component::Identity, "c", &v), vec!["idp"]);
        assert_eq!(
            expected_names(Component::WebModeler, "c", &v)[0],
            "c-modeler-restapi"
        );
        assert_eq!(
            expected_names(Component::IdentityKeycloak, "c", &v),
            vec!["c-kc"]
        );
    }

    #[test]
    fn selectors_become_query_strings() {
        let s: LabelSelector = serde_json::from_value(json!({
            "matchLabels": {"app": "x", "tier": "db"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["a", "b"]},
                {"key": "old", "operator": "NotIn", "values": ["y"]},
                {"key": "has", "operator": "Exists"},
                {"key": "not", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert_eq!(
            selector_string(&s).as_deref(),
            Some("app=x,tier=db,env in (a,b),old notin (y),has,!not")
        );
        assert_eq!(selector_string(&LabelSelector::default()), None);
        let odd: LabelSelector = serde_json::from_value(json!({
            "matchExpressions": [{"key": "k", "operator": "Gt", "values": ["1"]}]
        }))
        .unwrap();
        assert_eq!(selector_string(&odd), None);
    }
}
