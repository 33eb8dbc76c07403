//! Smoke tests of the test worlds themselves: the encoder's release Secrets decode with
//! the product's decoder, the world's values agree with `spec`, and the cluster objects
//! agree with the values.

use crate::support::helm::{self, Corruption};
use crate::support::spec::{self, ComponentSpec, Gen};
use crate::support::world::{self, ROLE_ARN_ANNOTATION};
use irsa_check::values::Values;
use irsa_check::values::files::read_values_file;
use irsa_check::values::release::{
    MAX_RELEASE_JSON_BYTES, ReleaseError, ReleaseSecretMeta, ReleaseStatus, decode_release,
    select_release,
};
use k8s_openapi::api::core::v1::Secret;
use serde_json::{Value, json};

const GENERATIONS: [Gen; 2] = [Gen::V8_7, Gen::V8_8];

fn values(generation: Gen) -> Values {
    Values::new(
        world::user_values(generation),
        world::chart_defaults(generation),
    )
}

fn secret_meta(secret: &Value) -> ReleaseSecretMeta {
    let secret: Secret = serde_json::from_value(secret.clone()).unwrap();
    ReleaseSecretMeta::from_secret(&secret).unwrap()
}

#[test]
fn world_encoder_secret_decodes_with_the_product() {
    for generation in GENERATIONS {
        let user = world::user_values(generation);
        let spec = world::release_spec(generation, 2, "deployed", &user);
        let meta = secret_meta(&helm::release_secret(&spec));
        assert_eq!(meta.secret_name, "sh.helm.release.v1.camunda.v2");
        assert_eq!(meta.release_name, spec::RELEASE);
        assert_eq!(meta.revision, 2);
        assert_eq!(meta.status, ReleaseStatus::Deployed);

        let release = meta.decode().unwrap();
        assert_eq!(release.name, spec::RELEASE);
        assert_eq!(release.namespace, spec::NAMESPACE);
        assert_eq!(release.revision, 2);
        assert_eq!(release.status, ReleaseStatus::Deployed);
        assert_eq!(release.chart.name, "camunda-platform");
        assert_eq!(release.chart.version, generation.chart_version());
        assert_eq!(
            release.chart.app_version.as_deref(),
            Some(generation.app_version())
        );
        assert_eq!(release.user_values, user);
        assert_eq!(release.chart_defaults, world::chart_defaults(generation));
    }
}

#[test]
fn world_empty_config_is_omitted_like_helm_and_decodes_as_empty() {
    let spec = helm::ReleaseSpec::camunda("c", "ns", 1, "deployed", "12.13.3", "8.7.x");
    let json = helm::release_json(&spec);
    assert!(json.get("config").is_none());
    let release = decode_release(&helm::encode_release(&spec)).unwrap();
    assert_eq!(release.user_values, json!({}));
}

#[test]
fn world_release_selection_picks_the_deployed_revision() {
    for generation in GENERATIONS {
        let objects = world::kube_objects(generation, &world::user_values(generation));
        let metas: Vec<ReleaseSecretMeta> = objects
            .iter()
            .filter(|o| o["kind"] == "Secret")
            .map(secret_meta)
            .collect();
        assert_eq!(metas.len(), 2);
        let selected = select_release(&metas, None).unwrap();
        assert_eq!(selected.secret_name, "sh.helm.release.v1.camunda.v2");
        assert!(selected.notes.is_empty(), "{:?}", selected.notes);
        // Revision 1 still had Web Modeler off: reading it would be a bug.
        assert_eq!(
            selected
                .release
                .values()
                .bool_at(&["webModeler", "enabled"]),
            Some(true)
        );
        let old = metas
            .iter()
            .find(|m| m.revision == 1)
            .unwrap()
            .decode()
            .unwrap();
        assert_eq!(old.status, ReleaseStatus::Superseded);
        assert_eq!(
            old.values().bool_at(&["webModeler", "enabled"]),
            Some(false)
        );
    }
}

#[test]
fn world_corrupt_release_secrets_are_refused() {
    let spec = world::release_spec(Gen::V8_8, 3, "deployed", &world::user_values(Gen::V8_8));
    for (corruption, check) in [
        (
            Corruption::BadBase64,
            (|e| matches!(e, ReleaseError::BadBase64(_))) as fn(&ReleaseError) -> bool,
        ),
        (Corruption::TruncatedGzip, |e| {
            matches!(e, ReleaseError::BadGzip(_))
        }),
        (Corruption::BadJson, |e| {
            matches!(e, ReleaseError::BadJson { .. })
        }),
        (Corruption::MissingChart, |e| {
            *e == ReleaseError::MissingField("chart.metadata")
        }),
        (Corruption::GzipBomb, |e| {
            *e == ReleaseError::TooLarge {
                limit: MAX_RELEASE_JSON_BYTES,
            }
        }),
    ] {
        let secret = helm::corrupt_release_secret(&spec, corruption);
        assert_eq!(secret["metadata"]["name"], "sh.helm.release.v1.camunda.v3");
        let error = secret_meta(&secret).decode().unwrap_err();
        assert!(check(&error), "{corruption:?}: {error:?}");
    }
}

fn all_components(generation: Gen) -> Vec<ComponentSpec> {
    let mut all = spec::postgres_components(generation);
    all.extend(spec::opensearch_components(generation));
    all
}

#[test]
fn world_values_agree_with_spec() {
    for generation in GENERATIONS {
        let v = values(generation);
        for c in all_components(generation) {
            assert_eq!(
                v.str_at(&[c.key, "serviceAccount", "name"]).as_deref(),
                Some(c.service_account),
                "{generation:?} {}",
                c.key
            );
            assert_eq!(
                v.str_at(&[c.key, "serviceAccount", "annotations", ROLE_ARN_ANNOTATION]),
                Some(spec::role_arn(c.role)),
                "{generation:?} {}",
                c.key
            );
            // Every component of the lists is enabled (the gateway-less 8.7 zeebe included).
            assert_ne!(v.bool_at(&[c.key, "enabled"]), Some(false), "{}", c.key);
        }
        let host = Some(spec::AURORA_HOST.to_string());
        assert_eq!(
            v.str_at(&["identityKeycloak", "externalDatabase", "host"]),
            host
        );
        assert_eq!(
            v.str_at(&["identityKeycloak", "externalDatabase", "user"])
                .as_deref(),
            spec::KEYCLOAK.db_user
        );
        assert_eq!(
            v.str_at(&["identityKeycloak", "externalDatabase", "database"])
                .as_deref(),
            spec::KEYCLOAK.db_name
        );
        assert_eq!(
            v.u16_at(&["identityKeycloak", "externalDatabase", "port"]),
            Ok(Some(spec::AURORA_PORT))
        );
        assert_eq!(
            v.bool_at(&["identityKeycloak", "postgresql", "enabled"]),
            Some(false)
        );
        assert_eq!(v.bool_at(&["identityKeycloak", "enabled"]), Some(true));
        assert!(
            v.str_at(&["identityKeycloak", "image", "repository"])
                .unwrap()
                .contains("camunda/keycloak")
        );
        assert_eq!(
            v.get(&["global", "identity", "keycloak", "url", "host"]),
            None
        );

        assert_eq!(v.bool_at(&["identity", "enabled"]), Some(true));
        assert_eq!(
            v.bool_at(&["identity", "externalDatabase", "enabled"]),
            Some(true)
        );
        assert_eq!(v.str_at(&["identity", "externalDatabase", "host"]), host);
        assert_eq!(
            v.str_at(&["identity", "externalDatabase", "username"])
                .as_deref(),
            spec::IDENTITY.db_user
        );
        let identity_url = format!(
            "jdbc:aws-wrapper:postgresql://{}:5432/{}?wrapperPlugins=iam",
            spec::AURORA_HOST,
            spec::IDENTITY.db_name.unwrap()
        );
        assert_eq!(
            v.env_value(&["identity", "env"], "SPRING_DATASOURCE_URL"),
            irsa_check::values::EnvLookup::Value(identity_url)
        );

        assert_eq!(v.bool_at(&["webModeler", "enabled"]), Some(true));
        assert_eq!(
            v.str_at(&["webModeler", "restapi", "externalDatabase", "url"]),
            Some(format!(
                "jdbc:aws-wrapper:postgresql://{}:5432/{}?wrapperPlugins=iam",
                spec::AURORA_HOST,
                spec::WEB_MODELER.db_name.unwrap()
            ))
        );
        assert_eq!(
            v.str_at(&["webModeler", "restapi", "externalDatabase", "user"])
                .as_deref(),
            spec::WEB_MODELER.db_user
        );
        assert!(v.defaults_has(&["webModeler", "restapi", "externalDatabase", "user"]));
        assert!(!v.defaults_has(&["webModeler", "restapi", "externalDatabase", "username"]));

        assert_eq!(
            v.bool_at(&["global", "elasticsearch", "enabled"]),
            Some(false)
        );
        assert_eq!(v.bool_at(&["global", "opensearch", "enabled"]), Some(true));
        assert_eq!(
            v.bool_at(&["global", "opensearch", "aws", "enabled"]),
            Some(true)
        );
        assert_eq!(
            v.str_at(&["global", "opensearch", "url", "host"])
                .as_deref(),
            Some(spec::OPENSEARCH_HOST)
        );
        assert_eq!(
            v.u16_at(&["global", "opensearch", "url", "port"]),
            Ok(Some(443))
        );

        // The chart generation's own keys.
        let gen_keys = match generation {
            Gen::V8_7 => (true, false),
            Gen::V8_8 => (false, true),
        };
        assert_eq!(
            (
                v.defaults_has(&["zeebe"]),
                v.defaults_has(&["orchestration"])
            ),
            gen_keys
        );
    }
}

#[test]
fn world_chart_defaults_are_faithful_where_the_index_says() {
    let d87 = Values::new(json!({}), world::chart_defaults(Gen::V8_7));
    let d88 = Values::new(json!({}), world::chart_defaults(Gen::V8_8));
    assert_eq!(
        d87.get(&["global", "opensearch", "url", "host"]),
        Some(&Value::Null)
    );
    assert_eq!(
        d88.get(&["global", "opensearch", "url", "host"]),
        Some(&json!(""))
    );
    assert_eq!(
        d87.get(&["identity", "externalDatabase", "port"]),
        Some(&Value::Null)
    );
    assert_eq!(
        d88.u16_at(&["identity", "externalDatabase", "port"]),
        Ok(Some(5432))
    );
    assert_eq!(d87.bool_at(&["identity", "enabled"]), Some(true));
    assert_eq!(d88.bool_at(&["identity", "enabled"]), Some(false));
    assert_eq!(d88.bool_at(&["optimize", "enabled"]), Some(false));
    assert_eq!(d88.bool_at(&["identityKeycloak", "enabled"]), Some(false));
    assert_eq!(
        d87.bool_at(&["global", "identity", "keycloak", "internal"]),
        Some(false)
    );
    assert_eq!(
        d87.list_at(&["identityKeycloak", "extraEnvVars"]),
        Some(&[][..])
    );
    assert_eq!(
        d87.bool_at(&["identityKeycloak", "serviceAccount", "create"]),
        Some(true)
    );
    assert!(!d87.defaults_has(&["zeebeGateway", "enabled"]));
    assert!(d87.defaults_has(&["webModeler", "restapi", "externalDatabase", "host"]));
}

#[test]
fn world_kube_objects_agree_with_the_values() {
    for generation in GENERATIONS {
        let objects = world::kube_objects(generation, &world::user_values(generation));
        let of_kind = |kind: &'static str| objects.iter().filter(move |o| o["kind"] == kind);

        let nodes: Vec<&Value> = of_kind("Node").collect();
        assert_eq!(nodes.len(), 2);
        for n in &nodes {
            assert!(
                n["spec"]["providerID"]
                    .as_str()
                    .unwrap()
                    .starts_with("aws:///eu-west-1")
            );
        }
        assert_eq!(
            nodes[0]["spec"]["providerID"],
            format!("aws:///eu-west-1a/{}", spec::NODE_INSTANCE_ID)
        );

        let mut names: Vec<(String, String)> = of_kind("Deployment")
            .chain(of_kind("StatefulSet"))
            .map(|o| {
                (
                    o["kind"].as_str().unwrap().to_string(),
                    o["metadata"]["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        names.sort();
        let mut expected: Vec<(&str, &str)> = match generation {
            Gen::V8_7 => vec![
                ("StatefulSet", "camunda-zeebe"),
                ("Deployment", "camunda-zeebe-gateway"),
                ("Deployment", "camunda-operate"),
                ("Deployment", "camunda-tasklist"),
                ("Deployment", "camunda-optimize"),
            ],
            Gen::V8_8 => vec![
                ("StatefulSet", "camunda-zeebe"),
                ("Deployment", "camunda-optimize"),
            ],
        };
        expected.extend([
            ("Deployment", "camunda-identity"),
            ("Deployment", "camunda-connectors"),
            ("StatefulSet", "camunda-keycloak"),
            ("Deployment", "camunda-web-modeler-restapi"),
            ("Deployment", "camunda-web-modeler-webapp"),
            ("Deployment", "camunda-web-modeler-websockets"),
        ]);
        let mut expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(k, n)| (k.to_string(), n.to_string()))
            .collect();
        expected.sort();
        assert_eq!(names, expected, "{generation:?}");

        // Each component's service account exists, annotated with its role, and its
        // workloads and running pods use it, with the webhook's injection.
        for c in all_components(generation) {
            let sa = of_kind("ServiceAccount")
                .find(|o| o["metadata"]["name"] == c.service_account)
                .unwrap_or_else(|| panic!("no ServiceAccount {}", c.service_account));
            assert_eq!(
                sa["metadata"]["annotations"][ROLE_ARN_ANNOTATION],
                spec::role_arn(c.role)
            );
            let workloads: Vec<&Value> = of_kind("Deployment")
                .chain(of_kind("StatefulSet"))
                .filter(|w| {
                    w["spec"]["template"]["spec"]["serviceAccountName"] == c.service_account
                })
                .collect();
            assert!(
                !workloads.is_empty(),
                "no workload runs as {}",
                c.service_account
            );
        }
        // The connectors keep the chart's default account name, unannotated.
        let connectors = of_kind("ServiceAccount")
            .find(|o| o["metadata"]["name"] == "camunda-connectors")
            .unwrap();
        assert!(
            connectors["metadata"]["annotations"]
                .get(ROLE_ARN_ANNOTATION)
                .is_none()
        );

        let workloads: Vec<&Value> = of_kind("Deployment")
            .chain(of_kind("StatefulSet"))
            .collect();
        let pods: Vec<&Value> = of_kind("Pod").collect();
        assert_eq!(pods.len(), workloads.len());
        for w in &workloads {
            let selector = w["spec"]["selector"]["matchLabels"].as_object().unwrap();
            assert_eq!(selector["app.kubernetes.io/instance"], spec::RELEASE);
            let matching: Vec<&&Value> = pods
                .iter()
                .filter(|p| {
                    selector
                        .iter()
                        .all(|(k, v)| p["metadata"]["labels"][k] == *v)
                })
                .collect();
            assert_eq!(matching.len(), 1, "pods of {}", w["metadata"]["name"]);
            let pod = matching[0];
            assert_eq!(pod["status"]["phase"], "Running");
            let account = &w["spec"]["template"]["spec"]["serviceAccountName"];
            assert_eq!(&pod["spec"]["serviceAccountName"], account);
            assert_eq!(pod["spec"]["securityContext"]["fsGroup"], 1001);
            assert_eq!(pod["spec"]["securityContext"]["runAsUser"], 1001);
            assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
            let sa = of_kind("ServiceAccount")
                .find(|o| o["metadata"]["name"] == *account)
                .unwrap();
            let annotated = sa["metadata"]["annotations"]
                .get(ROLE_ARN_ANNOTATION)
                .cloned();
            let env = pod["spec"]["containers"][0]["env"].as_array().unwrap();
            let role_env = env
                .iter()
                .find(|e| e["name"] == "AWS_ROLE_ARN")
                .map(|e| e["value"].clone());
            assert_eq!(role_env, annotated, "pod of {}", w["metadata"]["name"]);
            let has_volume = pod["spec"]["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["name"] == world::TOKEN_VOLUME);
            assert_eq!(has_volume, annotated.is_some());
        }
        // The values' env reaches the container (identity's JDBC URL).
        let identity_pod = pods
            .iter()
            .find(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == "identity")
            .unwrap();
        let env = identity_pod["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap();
        assert!(env.iter().any(|e| e["name"] == "SPRING_DATASOURCE_URL"));
        assert!(
            env.iter()
                .any(|e| e["name"] == "AWS_WEB_IDENTITY_TOKEN_FILE"
                    && e["value"] == world::WEB_IDENTITY_TOKEN_FILE)
        );
    }
}

#[test]
fn world_follows_changed_values() {
    let mut user = world::user_values(Gen::V8_7);
    world::set_dotted(&mut user, "webModeler.enabled", json!(false));
    world::set_dotted(
        &mut user,
        "identity.serviceAccount.name",
        json!("renamed-sa"),
    );
    world::remove_path(
        &mut user,
        &[
            "zeebe",
            "serviceAccount",
            "annotations",
            ROLE_ARN_ANNOTATION,
        ],
    )
    .unwrap();
    let objects = world::kube_objects(Gen::V8_7, &user);
    assert!(
        !objects
            .iter()
            .any(|o| o["metadata"]["name"] == "camunda-web-modeler-restapi")
    );
    assert!(
        !objects
            .iter()
            .any(|o| o["metadata"]["name"] == "webmodeler-sa")
    );
    assert!(
        objects
            .iter()
            .any(|o| o["kind"] == "ServiceAccount" && o["metadata"]["name"] == "renamed-sa")
    );
    let zeebe_pod = objects
        .iter()
        .find(|o| o["kind"] == "Pod" && o["metadata"]["name"] == "camunda-zeebe-0")
        .unwrap();
    let env = zeebe_pod["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    assert!(!env.iter().any(|e| e["name"] == "AWS_ROLE_ARN"));

    let mut objects = world::kube_objects(Gen::V8_8, &world::user_values(Gen::V8_8));
    let sa = world::find_object_mut(&mut objects, "ServiceAccount", "zeebe-sa").unwrap();
    sa["metadata"]["annotations"][ROLE_ARN_ANNOTATION] = json!("");
    assert_eq!(
        world::find_object_mut(&mut objects, "ServiceAccount", "zeebe-sa").unwrap()["metadata"]["annotations"]
            [ROLE_ARN_ANNOTATION],
        ""
    );
    assert!(world::find_object_mut(&mut objects, "ServiceAccount", "nope").is_none());
}

#[test]
fn world_path_helpers() {
    let mut v = json!({"a": {"b": 1}, "s": "scalar"});
    world::set_dotted(&mut v, "a.c.d", json!(true));
    world::set_dotted(&mut v, "s.x", json!(2));
    world::set_path(&mut v, &["a", "eks.amazonaws.com/role-arn"], json!("arn"));
    assert_eq!(
        v,
        json!({"a": {"b": 1, "c": {"d": true}, "eks.amazonaws.com/role-arn": "arn"}, "s": {"x": 2}})
    );
    assert_eq!(world::remove_dotted(&mut v, "a.c.d"), Some(json!(true)));
    assert_eq!(world::remove_dotted(&mut v, "a.nope.d"), None);
    assert_eq!(
        world::remove_path(&mut v, &["a", "eks.amazonaws.com/role-arn"]),
        Some(json!("arn"))
    );
    assert_eq!(v, json!({"a": {"b": 1, "c": {}}, "s": {"x": 2}}));
}

#[test]
fn world_values_files_round_trip_through_the_product_reader() {
    let dir = tempfile::tempdir().unwrap();
    for generation in GENERATIONS {
        let user = world::user_values(generation);
        let path = world::write_values_file(dir.path(), &user);
        assert_eq!(read_values_file(&path).unwrap(), user);
    }
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2);
}

#[test]
fn world_dummy_secrets_are_present_and_redactable() {
    for generation in GENERATIONS {
        let user = world::user_values(generation);
        let text = user.to_string();
        for secret in world::DUMMY_SECRETS {
            assert!(text.contains(secret), "{generation:?} lacks {secret}");
        }
        let redacted = irsa_check::values::redacted_json(&user).to_string();
        for secret in world::DUMMY_SECRETS {
            assert!(
                !redacted.contains(secret),
                "{generation:?}: {secret} survived"
            );
        }
    }
}
