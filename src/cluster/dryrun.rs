//! Token injection without spawning anything (code 111): a server-side dry-run create
//! (`dryRun=All`) of a minimal pod under the component's service account. Admission runs
//! in full, the EKS pod identity webhook included, and nothing is stored.

use crate::chart::Component;
use crate::facts::Fetched;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use super::pods::PodSpecFact;
use super::probe::{
    MANAGED_BY_KEY, MANAGED_BY_VALUE, restricted_pod_security, restricted_security,
};

/// The pod that is dry-run: as restricted as the probe pods, so that Pod Security
/// admission and policy engines judge it the same way.
pub fn dry_run_pod(component: Component, service_account: &str, image: &str) -> Pod {
    let value = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": format!("irsa-check-dryrun-{}-", super::probe::kebab(component)),
            "labels": {MANAGED_BY_KEY: MANAGED_BY_VALUE},
        },
        "spec": {
            "serviceAccountName": service_account,
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "securityContext": restricted_pod_security(),
            "containers": [{
                "name": "probe",
                "image": image,
                "command": ["/bin/true"],
                "securityContext": restricted_security(),
            }],
        },
    });
    // The JSON above is a valid Pod by construction.
    serde_json::from_value(value).unwrap_or_default()
}

/// Dry-run the pod and read back what admission made of it.
pub async fn gather(
    client: &kube::Client,
    namespace: &str,
    component: Component,
    service_account: &str,
    image: &str,
) -> Fetched<PodSpecFact> {
    crate::log::call(format!(
        "POST /api/v1/namespaces/{namespace}/pods?dryRun=All (dry-run pod as {service_account})"
    ));
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = PostParams {
        dry_run: true,
        field_manager: Some("irsa-check".to_string()),
    };
    let pod = api
        .create(&params, &dry_run_pod(component, service_account, image))
        .await
        .map_err(|e| super::api_error("create pods (dryRun=All)", e))?;
    Ok(pod
        .spec
        .as_ref()
        .map(PodSpecFact::from_spec)
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dry_run_pod_is_restricted_and_labelled() {
        let pod = dry_run_pod(Component::IdentityKeycloak, "keycloak-sa", "img:1");
        assert_eq!(
            pod.metadata.generate_name.as_deref(),
            Some("irsa-check-dryrun-identity-keycloak-")
        );
        assert_eq!(
            pod.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
            "irsa-check"
        );
        let spec = pod.spec.unwrap();
        assert_eq!(spec.service_account_name.as_deref(), Some("keycloak-sa"));
        assert_eq!(spec.containers[0].image.as_deref(), Some("img:1"));
        let sc = spec.containers[0].security_context.clone().unwrap();
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
        let psc = spec.security_context.unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert!(psc.run_as_user.is_some_and(|u| u > 0));
    }
}
