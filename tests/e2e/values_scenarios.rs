//! Issue 2 end to end: the binary reads the Helm release from its Secret through the fake
//! API server, judges the values, and reports. Each scenario changes ONE thing of a
//! healthy world and asserts the exact line, its stream and the exit status.

use crate::support::harness::{Run, Scenario, binary};
use crate::support::helm::{self, Corruption};
use crate::support::spec::{self, Gen, NAMESPACE};
use crate::support::world;
use serde_json::{Value, json};
use std::process::Command;

const NS: &[&str] = &["-n", NAMESPACE, "-s"];

fn run(scenario: Scenario) -> Run {
    scenario.start().run(NS)
}

fn run_with(scenario: Scenario, extra: &[&str]) -> Run {
    let mut args = NS.to_vec();
    args.extend_from_slice(extra);
    scenario.start().run(&args)
}

#[test]
fn healthy_8_8_release_passes() {
    let out = run(Scenario::healthy(Gen::V8_8));
    out.passes()
        .stdout_has("[OK] Chart camunda-platform 13.12.7 is deployed in namespace camunda as release camunda (revision 2", &[])
        .stdout_line("[OK] (component=orchestration) Service account of orchestration: zeebe-sa (from orchestration.serviceAccount.name)")
        .stdout_line("[OK] (component=webModeler) webModeler.restapi.externalDatabase.user is correctly set: webmodeler_irsa");
    for secret in world::DUMMY_SECRETS {
        out.never_prints(secret);
    }
}

#[test]
fn healthy_8_7_release_passes() {
    run(Scenario::healthy(Gen::V8_7))
        .passes()
        .stdout_line("[INFO] Components to check for IRSA (OpenSearch): zeebe,operate,tasklist,optimize")
        .stdout_line("[OK] (component=tasklist) Service account of tasklist: tasklist-sa (from tasklist.serviceAccount.name)");
}

#[test]
fn no_release_is_code_4_with_the_argo_hint() {
    let out = run(Scenario::healthy(Gen::V8_8).objects(|objects| {
        objects.retain(|o| o["type"] != "helm.sh/release.v1");
    }));
    out.exits(4)
        .stderr_has("[FAIL] Chart camunda-platform: no deployed Helm release of chart camunda-platform in the namespace", &["(namespace camunda)"])
        .stdout_has("[INFO] Installs made with 'helm template' or Argo CD have no Helm release", &["--values"]);
}

fn second_release(generation: Gen, name: &str) -> Value {
    let mut spec = world::release_spec(generation, 1, "deployed", &world::user_values(generation));
    spec.name = name.to_string();
    helm::release_secret(&spec)
}

#[test]
fn several_releases_ask_for_release_and_release_chooses() {
    let scenario = || {
        Scenario::healthy(Gen::V8_8)
            .objects(|objects| objects.push(second_release(Gen::V8_8, "camunda-two")))
    };
    let out = run(scenario());
    out.exits(4).stderr_has(
        "[FAIL] Chart camunda-platform:",
        &["camunda", "camunda-two", "--release"],
    );
    run_with(scenario(), &["--release", "camunda"]).passes();
}

#[test]
fn corrupt_release_secrets_are_code_5_naming_the_secret() {
    for (corruption, what) in [
        (Corruption::BadBase64, "base64"),
        (Corruption::TruncatedGzip, "gzip"),
        (Corruption::BadJson, "JSON"),
    ] {
        let out = run(Scenario::healthy(Gen::V8_8).objects(move |objects| {
            let spec =
                world::release_spec(Gen::V8_8, 2, "deployed", &world::user_values(Gen::V8_8));
            let secret = spec.secret_name();
            for o in objects.iter_mut() {
                if o["metadata"]["name"] == secret.as_str() {
                    *o = helm::corrupt_release_secret(&spec, corruption);
                }
            }
        }));
        out.exits(5)
            .stderr_has(
                "[FAIL] The Helm release cannot be read:",
                &["sh.helm.release.v1.camunda.v2", what],
            )
            .stdout_has(
                "[INFO] Skipped: every check that reads the Helm values",
                &[],
            );
    }
}

#[test]
fn api_server_error_on_secrets_is_code_4_and_the_run_goes_on() {
    use crate::support::fake_kube::{Fault, Verb};
    let out = run(Scenario::healthy(Gen::V8_8).kube(|c| {
        c.fault(Fault::internal_error(
            Verb::List,
            "secrets",
            "etcdserver: request timed out",
        ))
    }));
    out.exits(4)
        .stderr_has("[FAIL] Cannot list the Helm release Secrets in namespace camunda: list secrets (owner=helm) failed:", &[])
        // The checks before it still ran.
        .stdout_has("[OK] AWS credentials work", &[]);
}

/// One values change, its exact failing line and exit status.
fn values_case(generation: Gen, change: impl FnOnce(Scenario) -> Scenario, exit: i32, line: &str) {
    let out = run(change(Scenario::healthy(generation)));
    out.stderr_line(line).exits(exit);
}

#[test]
fn code_51_opensearch_aws_signing_off() {
    values_case(
        Gen::V8_8,
        |s| s.set("global.opensearch.aws.enabled", json!(false)),
        51,
        "[FAIL] OpenSearch AWS integration must be enabled: global.opensearch.aws.enabled is false. Set it to true.",
    );
}

#[test]
fn code_61_no_opensearch_host() {
    values_case(
        Gen::V8_7,
        |s| s.set("global.opensearch.url.host", json!("")),
        61,
        "[FAIL] (component=zeebe) The OpenSearch URL of zeebe is not set: set global.opensearch.url.host. Hint: Set the OpenSearch host in the Helm values (global.opensearch.url.host, or the component's own OpenSearch URL from Camunda 8.9).",
    );
}

#[test]
fn code_8_orchestration_on_8_7() {
    let out = run_with(Scenario::healthy(Gen::V8_7), &["-l", "orchestration"]);
    out.exits(8).stderr_line(
        "[FAIL] (component=orchestration) Component orchestration does not exist in the deployed chart (Camunda 8.7, chart 12.x); its components are: zeebe,zeebeGateway,operate,tasklist,optimize,identity,identityKeycloak,webModeler,connectors,console,executionIdentity.",
    );
}

#[test]
fn documented_zeebe_operate_list_works_on_8_8() {
    run_with(Scenario::healthy(Gen::V8_8), &["-p", "identity,webModeler", "-l", "zeebe,operate"])
        .passes()
        .stdout_line("[INFO] (component=zeebe) From Camunda 8.8 zeebe is part of the orchestration cluster: checking orchestration instead (once).");
}

#[test]
fn codes_81_to_87_keycloak() {
    values_case(
        Gen::V8_8,
        // A user null deletes the subchart's default.
        |s| s.set("identityKeycloak.postgresql.enabled", Value::Null),
        81,
        "[FAIL] (component=identityKeycloak) identityKeycloak.postgresql.enabled is not defined in your helm values: the Keycloak subchart's own default (true) deploys an embedded PostgreSQL instead of using Aurora. Hint: Set identityKeycloak.postgresql.enabled: false.",
    );
    values_case(
        Gen::V8_8,
        |s| s.set("identityKeycloak.postgresql.enabled", json!(true)),
        82,
        "[FAIL] (component=identityKeycloak) identityKeycloak must have postgresql.enabled set to false in your helm values (it is true). Hint: Set identityKeycloak.postgresql.enabled: false so Keycloak uses the external Aurora database.",
    );
    values_case(
        Gen::V8_8,
        |s| s.set("identityKeycloak.image.repository", Value::Null),
        83,
        "[FAIL] (component=identityKeycloak) identityKeycloak.image.repository is not defined in your values or the chart defaults.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "identityKeycloak.image.repository",
                json!("bitnami/keycloak"),
            )
        },
        84,
        "[FAIL] (component=identityKeycloak) The identityKeycloak image must be camunda/keycloak to support IRSA (it bundles the AWS Advanced JDBC Wrapper); it is bitnami/keycloak. Hint: Use the chart's default camunda/keycloak image, or one built from it.",
    );
    values_case(
        Gen::V8_7,
        |s| s.unset("identityKeycloak.externalDatabase.host"),
        85,
        "[FAIL] (component=identityKeycloak) identityKeycloak.externalDatabase.host is not defined in your helm values.",
    );
    values_case(
        Gen::V8_8,
        |s| s.set("identityKeycloak.extraEnvVars", json!([])),
        87,
        "[FAIL] (component=identityKeycloak) Required environment variable KEYCLOAK_JDBC_DRIVER is not set in identityKeycloak.extraEnvVars.",
    );
}

#[test]
fn code_86_external_keycloak_without_url() {
    values_case(
        Gen::V8_8,
        |s| {
            s.set("identityKeycloak.enabled", json!(false))
                .set("global.identity.keycloak.internal", json!(false))
        },
        86,
        "[FAIL] (component=identityKeycloak) External Keycloak is enabled but global.identity.keycloak.url.host is not set; the chart cannot reach Keycloak.",
    );
}

#[test]
fn codes_88_to_93_identity() {
    values_case(
        Gen::V8_8,
        |s| s.set("identity.externalDatabase.enabled", Value::Null),
        88,
        "[FAIL] (component=identity) identity.externalDatabase.enabled is not defined in your helm values or defaults.",
    );
    values_case(
        Gen::V8_7,
        |s| s.set("identity.externalDatabase.enabled", json!(false)),
        89,
        "[FAIL] (component=identity) identity.externalDatabase.enabled must be set to true. Hint: Identity only uses Aurora (and IRSA) with an external database.",
    );
    values_case(
        Gen::V8_8,
        |s| s.set("identity.externalDatabase.username", json!("")),
        92,
        "[FAIL] (component=identity) identity.externalDatabase.username is not defined in your helm values or defaults.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "identity.env",
                json!([
                    {"name": "SPRING_DATASOURCE_URL", "value": format!("jdbc:postgresql://{}:5432/camunda_identity", spec::AURORA_HOST)},
                    {"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}
                ]),
            )
        },
        93,
        "[FAIL] (component=identity) SPRING_DATASOURCE_URL for identity must start with 'jdbc:aws-wrapper:postgresql://' and contain 'wrapperPlugins=iam'.",
    );
}

#[test]
fn code_90_identity_host_missing_and_71_is_skipped() {
    let out = run(Scenario::healthy(Gen::V8_8).set("identity.externalDatabase.host", json!("")));
    out.stderr_line("[FAIL] (component=identity) identity.externalDatabase.host is not defined in your helm values or defaults.")
        .stdout_line("[INFO] (component=identity) Skipped: Aurora cluster checks for identity: its database host is not known (see the failure above).")
        .exits(90);
}

#[test]
fn codes_71_72_73_endpoint() {
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "identity.externalDatabase.host",
                json!(format!("https://{}", spec::AURORA_HOST)),
            )
        },
        71,
        &format!(
            "[FAIL] (component=identity) The Aurora host of identity is not a host name: 'https://{}'. Hint: Give the bare endpoint host (ID.cluster-HASH.REGION.rds.amazonaws.com), without scheme, port or path.",
            spec::AURORA_HOST
        ),
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "identity.externalDatabase.port",
                json!("five-four-three-two"),
            )
        },
        72,
        "[FAIL] (component=identity) The Aurora port is not set correctly: identity.externalDatabase.port = \"five-four-three-two\" is not a TCP port. Please ensure that identity defines it correctly in the Helm chart values.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "identity.externalDatabase.host",
                json!("postgres.db.internal"),
            )
        },
        73,
        "[FAIL] (component=identity) Unable to parse the Aurora cluster identifier and region from postgres.db.internal. Hint: Use the cluster's own endpoint (ID.cluster-HASH.REGION.rds.amazonaws.com) rather than a DNS alias, so IAM authentication tokens match.",
    );
}

#[test]
fn codes_94_to_98_web_modeler() {
    values_case(
        Gen::V8_8,
        |s| s.set("webModeler.restapi.externalDatabase.url", json!("")),
        94,
        "[FAIL] (component=webModeler) webModeler.restapi.externalDatabase.url is not defined in your helm values or defaults.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set(
                "webModeler.restapi.externalDatabase.url",
                json!("jdbc:postgresql://db:5432/wm"),
            )
        },
        95,
        "[FAIL] (component=webModeler) webModeler.restapi.externalDatabase.url must be a JDBC URL of the form jdbc:aws-wrapper:postgresql://<host>[:<port>]/<database>?wrapperPlugins=iam for IRSA usage. Hint: IRSA needs the AWS Advanced JDBC Wrapper with its iam plugin.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.unset("webModeler.restapi.externalDatabase.user").set(
                "webModeler.restapi.externalDatabase.username",
                json!("webmodeler_irsa"),
            )
        },
        96,
        "[FAIL] (component=webModeler) webModeler.restapi.externalDatabase.user is not defined in your helm values or defaults (chart 8.8 reads user).",
    );
    values_case(
        Gen::V8_7,
        |s| s.set("webModeler.restapi.env", json!([])),
        97,
        "[FAIL] (component=webModeler) Required environment variable SPRING_DATASOURCE_DRIVER_CLASS_NAME is not set in webModeler.restapi.env.",
    );
    values_case(
        Gen::V8_8,
        |s| {
            s.set("webModeler.restapi.env", json!([{"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "org.postgresql.Driver"}]))
        },
        98,
        "[FAIL] (component=webModeler) SPRING_DATASOURCE_DRIVER_CLASS_NAME in webModeler.restapi.env must be 'software.amazon.jdbc.Driver'; it is 'org.postgresql.Driver'.",
    );
}

#[test]
fn web_modeler_username_on_8_8_is_a_warning_too() {
    let out = run(Scenario::healthy(Gen::V8_8).set(
        "webModeler.restapi.externalDatabase.username",
        json!("webmodeler_irsa"),
    ));
    out.passes().stderr_line(
        "[WARN] (component=webModeler) webModeler.restapi.externalDatabase.username is set in your values but chart 8.8 only reads .user: the value is ignored.",
    );
}

#[test]
fn codes_101_and_162_service_account() {
    // With the switch off the chart creates no account, so the named one does not
    // exist: 110 follows, and as the later check it sets the exit status.
    let out =
        run(Scenario::healthy(Gen::V8_8).set("optimize.serviceAccount.enabled", json!(false)));
    out.stderr_line("[FAIL] (component=optimize) Cannot expect IRSA to work if the service account for optimize is not enabled (optimize.serviceAccount.enabled: false). Hint: Set optimize.serviceAccount.enabled to true, or exclude optimize with -e.")
        .stderr_line("[FAIL] (component=optimize) The service account optimize-sa does not exist in namespace camunda. Hint: The chart creates it when optimize.serviceAccount.enabled is true; otherwise create it and annotate it with eks.amazonaws.com/role-arn.")
        .exits(110);
    // A name the API server would refuse can only come from values files (a Helm
    // release with it would not have installed): checked offline.
    let dir = tempfile::tempdir().unwrap();
    let mut values = world::user_values(Gen::V8_8);
    world::set_dotted(
        &mut values,
        "optimize.serviceAccount.name",
        json!("Optimize_SA"),
    );
    let file = world::write_values_file(dir.path(), &values);
    offline(&["--offline", "--values", file.to_str().unwrap(), "--chart-version", "8.8"])
        .stderr_line("[FAIL] (component=optimize) Service account name of optimize cannot be resolved: Optimize_SA is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit).")
        .exits(162);
}

#[test]
fn code_6_old_chart_warns_and_passes() {
    let out = run(Scenario::healthy(Gen::V8_7).objects(|objects| {
        for o in objects.iter_mut() {
            if o["type"] == "helm.sh/release.v1" {
                let revision: u32 = o["metadata"]["labels"]["version"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let status = o["metadata"]["labels"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let mut spec = world::release_spec(
                    Gen::V8_7,
                    revision,
                    &status,
                    &world::user_values(Gen::V8_7),
                );
                spec.chart_version = "10.11.3".into();
                spec.app_version = "8.5.x".into();
                *o = helm::release_secret(&spec);
            }
        }
    }));
    out.passes().stderr_line(
        "[WARN] Chart version 10.11.3 (Camunda 8.5, chart 10.x) is older than 11.x; these checks are only known to hold from chart 11 (Camunda 8.6) on.",
    );
}

#[test]
fn code_30_unusable_kubeconfig() {
    let running = Scenario::healthy(Gen::V8_8).without_aws().start();
    let out = Run::from(
        running
            .command()
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .args(["-n", NAMESPACE, "-s"])
            .output()
            .unwrap(),
    );
    out.exits(30).stderr_has(
        "[FAIL] Unable to retrieve the Kubernetes control plane URL: cannot read a kubeconfig",
        &[],
    );
    let out = running.run(&["-n", NAMESPACE, "-s", "--context", "no-such-context"]);
    out.exits(30).stderr_has(
        "[FAIL] Unable to retrieve the Kubernetes control plane URL: context 'no-such-context' is not in the kubeconfig",
        &[],
    );
}

#[test]
fn excluded_and_disabled_components_are_skipped() {
    run_with(Scenario::healthy(Gen::V8_8).set("webModeler.enabled", json!(false)), &["-e", "OPTIMIZE"])
        .passes()
        .stdout_line("[INFO] (component=optimize) Skipping excluded component: optimize")
        .stdout_line("[INFO] (component=webModeler) Component webModeler is disabled (webModeler.enabled: false), skipping verification.");
}

#[test]
fn json_output_is_one_document_with_the_exit_code() {
    let out = run_with(
        Scenario::healthy(Gen::V8_8).set("webModeler.restapi.env", json!([])),
        &["--output", "json"],
    );
    out.exits(97);
    let doc: Value = serde_json::from_str(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["exit_code"], 97);
    assert_eq!(doc["namespace"], "camunda");
    assert_eq!(doc["release"], "camunda");
    let failures: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "fail")
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["code"], 97);
    assert_eq!(failures[0]["check"], "webmodeler-driver-defined");
    assert_eq!(failures[0]["component"], "webModeler");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn junit_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("irsa.xml");
    let out = run_with(
        Scenario::healthy(Gen::V8_8).set("identity.externalDatabase.enabled", json!(false)),
        &["--junit", path.to_str().unwrap()],
    );
    out.exits(89);
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(xml.contains("failures=\"1\""), "{xml}");
    assert!(xml.contains("<failure message=\"[FAIL] (component=identity) identity.externalDatabase.enabled must be set to true."), "{xml}");
}

#[test]
fn verbose_lists_api_calls_and_no_secret() {
    let out = run_with(Scenario::healthy(Gen::V8_8), &["--verbose"]);
    out.passes()
        .stderr_line("[INFO] Calling GET /api/v1/namespaces/camunda/secrets?labelSelector=owner=helm (list Helm release Secrets)")
        .stderr_line("[INFO] Calling sts:GetCallerIdentity");
    for secret in world::DUMMY_SECRETS {
        out.never_prints(secret);
    }
}

#[test]
fn quiet_prints_only_the_final_line_on_success() {
    let out = run_with(Scenario::healthy(Gen::V8_8), &["--quiet"]);
    out.exits(0);
    assert_eq!(out.stdout, "[OK] All checks passed.\n");
}

// Without a cluster: the README's first command and the values files path.

fn offline(args: &[&str]) -> Run {
    let out = Command::new(binary())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run::from(out)
}

#[test]
fn readme_first_command_works_offline() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("the README's first command");
    let args: Vec<&str> = command
        .trim_start_matches("cargo run --release -- ")
        .split_whitespace()
        .collect();
    offline(&args).passes().stdout_line(
        "[INFO] Checking the values of 1 file(s) offline: no cluster and no AWS calls.",
    );
    offline(&[
        "--offline",
        "--values",
        "examples/camunda-8.7-irsa-values.yaml",
        "--chart-version",
        "8.7",
    ])
    .passes();
}

#[test]
fn offline_values_files_merge_like_helm() {
    let dir = tempfile::tempdir().unwrap();
    let base = world::write_values_file(dir.path(), &world::user_values(Gen::V8_8));
    let overlay = dir.path().join("overlay.yaml");
    std::fs::write(
        &overlay,
        "identity:\n  externalDatabase:\n    enabled: false\n",
    )
    .unwrap();
    let out = offline(&[
        "--offline",
        "--values",
        base.to_str().unwrap(),
        "-f",
        overlay.to_str().unwrap(),
        "--chart-version",
        "13.12.7",
        "--release",
        "camunda",
    ]);
    out.exits(89)
        .stderr_line("[FAIL] (component=identity) identity.externalDatabase.enabled must be set to true. Hint: Identity only uses Aurora (and IRSA) with an external database.");
    for secret in world::DUMMY_SECRETS {
        out.never_prints(secret);
    }
}

#[test]
fn broken_values_file_is_a_clear_failure() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "global:\n  opensearch: [unclosed\n").unwrap();
    offline(&[
        "--offline",
        "--values",
        bad.to_str().unwrap(),
        "--chart-version",
        "8.8",
    ])
    .exits(5)
    .stderr_has(
        "[FAIL] Cannot read the values: values file",
        &["bad.yaml", "line"],
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let out = offline(&["-l", "zeebe,operat"]);
    out.exits(2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("unknown component 'operat' (known: zeebe, zeebeGateway"),
        "{}",
        out.stderr
    );
    let out = offline(&[]);
    out.exits(2);
    assert!(out.stderr.contains("--namespace"), "{}", out.stderr);
    let out = offline(&["--help"]);
    out.exits(0);
    assert!(out.stdout.contains("--no-spawn"));
}

#[test]
fn namespace_and_exclusions_come_from_the_environment() {
    let running = Scenario::healthy(Gen::V8_8).start();
    let out = Run::from(
        running
            .command()
            .env("NAMESPACE", NAMESPACE)
            .env("EXCLUDE_COMPONENTS", "optimize,webmodeler")
            .arg("-s")
            .output()
            .unwrap(),
    );
    out.passes()
        .stdout_line("[INFO] Components to exclude from IRSA checks: optimize,webModeler");
}

#[test]
fn a_password_inside_a_checked_url_is_never_printed() {
    let url = format!(
        "jdbc:aws-wrapper:postgresql://{}:5432/camunda_identity?wrapperPlugins=iam&password=dummy-Url-Pw-1234",
        spec::AURORA_HOST
    );
    let out = run_with(
        Scenario::healthy(Gen::V8_8).set(
            "identity.env",
            json!([
                {"name": "SPRING_DATASOURCE_URL", "value": url},
                {"name": "SPRING_DATASOURCE_DRIVER_CLASS_NAME", "value": "software.amazon.jdbc.Driver"}
            ]),
        ),
        &["--verbose"],
    );
    out.passes()
        .stdout_has(
            "[OK] (component=identity) SPRING_DATASOURCE_URL for identity is correctly set",
            &["password="],
        )
        .never_prints("dummy-Url-Pw-1234");
    let json = run_with(
        Scenario::healthy(Gen::V8_8).set("identity.env", json!([{"name": "SPRING_DATASOURCE_URL", "value": "jdbc:aws-wrapper:postgresql://u:dummy-Url-Pw-5678@h:5432/d?wrapperPlugins=iam"}])),
        &["--output", "json"],
    );
    json.never_prints("dummy-Url-Pw-5678");
}

#[test]
fn code_1_nodes_not_on_aws_is_fatal() {
    let out = run(Scenario::healthy(Gen::V8_8).objects(|objects| {
        for o in objects.iter_mut().filter(|o| o["kind"] == "Node") {
            o["spec"]["providerID"] = json!("kind://docker/kind/kind-worker");
        }
    }));
    out.exits(1).stderr_has(
        "[FAIL] This check is designed for AWS (EKS) clusters only. No AWS nodes detected:",
        &["kind://docker/kind/kind-worker"],
    );
    // Fatal: nothing after it is judged.
    assert!(
        !out.stdout.contains("Chart camunda-platform"),
        "{}",
        out.stdout
    );
}

#[test]
fn nodes_forbidden_is_a_warning_and_the_run_goes_on() {
    use crate::support::fake_kube::{Fault, Verb};
    run(Scenario::healthy(Gen::V8_8).kube(|c| c.fault(Fault::forbidden(Verb::List, "nodes"))))
        .passes()
        .stderr_has(
            "[WARN] Cannot tell whether the nodes run on AWS: list nodes failed: Forbidden:",
            &["list on nodes", "the run goes on"],
        );
}
