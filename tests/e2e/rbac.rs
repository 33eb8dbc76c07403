//! The README's RBAC manifests are exactly what the tool needs: every request of the
//! healthy worlds (with and without `-s`) is allowed by them, and every rule they grant is
//! used by some run. The YAML is parsed from README.md at test time.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cluster_scenarios::{external_keycloak_scenario, keycloak_service, nothing_left, run};
use crate::support::fake_kube::RecordedRequest;
use crate::support::harness::{Running, Scenario, healthy_probe_world};
use crate::support::spec::{Gen, NAMESPACE};

/// One permission: (API group, resource[/subresource], verb, namespaced).
type Grant = (String, String, String, bool);

/// The ```yaml blocks of the README's "Required Kubernetes RBAC" section, parsed.
fn readme_blocks() -> Vec<Vec<Value>> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Required Kubernetes RBAC"))
        .expect("README has a Required Kubernetes RBAC section");
    section
        .split("```yaml\n")
        .skip(1)
        .map(|block| {
            let yaml = block.split("```").next().unwrap();
            serde_saphyr::from_multiple::<Value>(yaml)
                .unwrap_or_else(|e| panic!("README RBAC YAML does not parse: {e}\n{yaml}"))
        })
        .collect()
}

/// The grants of the Roles and ClusterRoles of a block; checks the Roles' namespace and
/// that every role is bound.
fn grants(block: &[Value]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    let bound: Vec<(String, String)> = block
        .iter()
        .filter(|d| d["kind"] == "RoleBinding" || d["kind"] == "ClusterRoleBinding")
        .map(|d| {
            (
                d["roleRef"]["kind"].as_str().unwrap().to_string(),
                d["roleRef"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for doc in block {
        let kind = doc["kind"].as_str().unwrap_or_default();
        let namespaced = match kind {
            "Role" => true,
            "ClusterRole" => false,
            _ => continue,
        };
        assert_eq!(doc["apiVersion"], "rbac.authorization.k8s.io/v1");
        if namespaced {
            assert_eq!(doc["metadata"]["namespace"], NAMESPACE);
        }
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        assert!(
            bound.contains(&(kind.to_string(), name.clone())),
            "{kind} {name} is not bound in its block"
        );
        for rule in doc["rules"].as_array().unwrap() {
            for group in rule["apiGroups"].as_array().unwrap() {
                for resource in rule["resources"].as_array().unwrap() {
                    for verb in rule["verbs"].as_array().unwrap() {
                        out.insert((
                            group.as_str().unwrap().to_string(),
                            resource.as_str().unwrap().to_string(),
                            verb.as_str().unwrap().to_string(),
                            namespaced,
                        ));
                    }
                }
            }
        }
    }
    out
}

/// What a request needs, as a grant.
fn needed(request: &RecordedRequest) -> Grant {
    let verb = request
        .verb
        .unwrap_or_else(|| panic!("non-resource request {} {}", request.method, request.path));
    let resource = match &request.subresource {
        Some(sub) => format!("{}/{sub}", request.resource),
        None => request.resource.clone(),
    };
    if let Some(ns) = &request.namespace {
        assert_eq!(
            ns, NAMESPACE,
            "a request outside the namespace: {request:?}"
        );
    }
    (
        request.api_group.clone(),
        resource,
        verb.as_str().to_string(),
        request.namespace.is_some(),
    )
}

/// Is the request allowed by the grants? A ClusterRole grant allows the cluster-scoped
/// request only (no ClusterRole is bound per namespace here).
fn allowed(grants: &BTreeSet<Grant>, need: &Grant) -> bool {
    grants.contains(need)
}

fn requests_of(world: &Running, args: &[&str]) -> Vec<RecordedRequest> {
    world.kube.clear_requests();
    let run = run(world, args);
    run.exits(0);
    nothing_left(world);
    world.kube.requests()
}

/// Healthy 8.7 and 8.8 worlds, and one with an external Keycloak (whose Service is looked up).
fn worlds() -> Vec<Scenario> {
    let probe = healthy_probe_world(Gen::V8_8).open("keycloak-service", 18080);
    let external = external_keycloak_scenario()
        .objects(|objects| objects.push(keycloak_service()))
        .kube(move |k| k.probe(probe));
    vec![
        Scenario::healthy(Gen::V8_7),
        Scenario::healthy(Gen::V8_8),
        external,
    ]
}

#[test]
fn rbac_readme_allows_every_request_and_grants_nothing_unused() {
    let blocks = readme_blocks();
    assert_eq!(
        blocks.len(),
        2,
        "one block for -s, one for what the full run adds"
    );
    let no_spawn = grants(&blocks[0]);
    let probes = grants(&blocks[1]);
    let full: BTreeSet<Grant> = no_spawn.union(&probes).cloned().collect();

    let mut used_no_spawn = BTreeSet::new();
    let mut used_full = BTreeSet::new();
    for spec in worlds() {
        let world = spec.start();
        for request in requests_of(&world, &["-s"]) {
            let need = needed(&request);
            assert!(
                allowed(&no_spawn, &need),
                "with -s, {} ({} {}?{}) is not in the README's first RBAC block",
                request.rbac(),
                request.method,
                request.path,
                request.query
            );
            assert!(!request.dry_run || need.2 == "create", "{request:?}");
            used_no_spawn.insert(need);
        }
        for request in requests_of(&world, &[]) {
            let need = needed(&request);
            assert!(
                allowed(&full, &need),
                "{} ({} {}?{}) is not in the README's RBAC blocks",
                request.rbac(),
                request.method,
                request.path,
                request.query
            );
            used_full.insert(need);
        }
    }
    let unused: Vec<&Grant> = no_spawn.difference(&used_no_spawn).collect();
    assert!(unused.is_empty(), "-s never uses {unused:?}");
    let unused: Vec<&Grant> = probes.difference(&used_full).collect();
    assert!(unused.is_empty(), "the full run never uses {unused:?}");
    // -s creates pods only as dry runs; jobs never.
    assert!(!used_no_spawn.iter().any(|g| g.1 == "jobs"));
}
