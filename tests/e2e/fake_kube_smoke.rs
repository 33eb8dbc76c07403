//! The fake Kubernetes API server, exercised through kube's typed `Api<K>` exactly as
//! the product uses it: that proves the wire format, not just the fake's own view.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt;
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::watcher;
use kube::{Client, Config};
use serde_json::{Value, json};

use crate::support::fake_kube::{
    FAKE_USER, FakeConfig, FakeKube, Fault, JobBehaviour, ProbeWorld, SESSION_NAME, TOKEN_FILE,
    Verb,
};
use crate::support::spec::{self, ACCOUNT, AURORA_HOST, NAMESPACE, OPENSEARCH_HOST, REGION};

const MANAGED_BY: &str = "app.kubernetes.io/managed-by=irsa-check";

async fn client(kube: &FakeKube) -> Client {
    let kubeconfig = Kubeconfig::read_from(kube.kubeconfig_path()).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// `StreamExt::next` without the `futures` crate: a bound on `WatchStreamExt` brings
/// its supertrait `Stream` along.
async fn next<S: WatchStreamExt + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

fn api_error(result: Result<impl std::fmt::Debug, kube::Error>) -> (u16, String, String) {
    match result {
        Err(kube::Error::Api(status)) => (status.code, status.reason, status.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn service_account(name: &str, role: Option<&str>) -> Value {
    let mut sa = json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": NAMESPACE}
    });
    if let Some(role) = role {
        sa["metadata"]["annotations"] = json!({"eks.amazonaws.com/role-arn": spec::role_arn(role)});
    }
    sa
}

fn config_map(name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": app}},
        "data": {"k": "v"}
    })
}

fn probe_pod(generate_name: &str, service_account: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": generate_name, "labels": {"app.kubernetes.io/managed-by": "irsa-check"}},
        "spec": {
            "serviceAccountName": service_account,
            "restartPolicy": "Never",
            "containers": [{"name": "probe", "image": "public.ecr.aws/aws-cli/aws-cli:2.22.0"}]
        }
    }))
    .unwrap()
}

fn probe_job(name: &str, service_account: &str, env: &[(&str, &str)]) -> Job {
    let env: Vec<Value> = env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "irsa-check"}},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 300,
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/managed-by": "irsa-check"}},
                "spec": {
                    "serviceAccountName": service_account,
                    "restartPolicy": "Never",
                    "containers": [{
                        "name": "probe",
                        "image": "public.ecr.aws/aws-cli/aws-cli:2.22.0",
                        "command": ["/bin/bash", "-c", "exit 0"],
                        "env": env
                    }]
                }
            }
        }
    }))
    .unwrap()
}

fn env_of(pod: &Pod) -> Vec<(String, String)> {
    pod.spec.as_ref().unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.name, e.value.unwrap_or_default()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn get_and_list_with_selectors_and_pages() {
    let kube = FakeKube::start(FakeConfig::default().objects([
        service_account("keycloak-sa", Some(spec::KEYCLOAK.role)),
        config_map("a", "zeebe"),
        config_map("b", "operate"),
        config_map("c", "zeebe"),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d", "namespace": "other"}}),
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ip-10-0-1-23", "labels": {"kubernetes.io/os": "linux"}}}),
    ]));
    let client = client(&kube).await;

    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let sa = sas.get("keycloak-sa").await.unwrap();
    assert_eq!(
        sa.metadata.annotations.unwrap()["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::123456789012:role/AuroraRole-Keycloak-camunda-prod"
    );
    assert_eq!(sa.metadata.namespace.as_deref(), Some(NAMESPACE));
    assert!(sa.metadata.uid.is_some() && sa.metadata.resource_version.is_some());
    assert!(sas.get_opt("nope").await.unwrap().is_none());
    let (code, reason, message) = api_error(sas.get("nope").await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (404, "NotFound", "serviceaccounts \"nope\" not found")
    );

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect()
    };
    for (selector, expected) in [
        ("app=zeebe", vec!["a", "c"]),
        ("app==zeebe", vec!["a", "c"]),
        ("app!=zeebe", vec!["b"]),
        ("app in (operate,tasklist)", vec!["b"]),
        ("app notin (operate)", vec!["a", "c"]),
        ("app", vec!["a", "b", "c"]),
        ("!app", vec![]),
    ] {
        let list = cms
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap();
        assert_eq!(names(list), expected, "{selector}");
    }
    let list = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .unwrap();
    assert_eq!(names(list), vec!["b"]);
    let all: Api<ConfigMap> = Api::all(client.clone());
    let list = all
        .list(&ListParams::default().fields("metadata.namespace=other"))
        .await
        .unwrap();
    assert_eq!(names(list), vec!["d"]);
    let (code, _, message) = api_error(cms.list(&ListParams::default().labels("app in ()")).await);
    assert_eq!(code, 400);
    assert!(message.contains("values set can't be empty"), "{message}");
    let (code, _, message) = api_error(cms.list(&ListParams::default().fields("data.k=v")).await);
    assert_eq!(
        (code, message.as_str()),
        (400, "field label not supported: data.k")
    );

    // Pages: the continue token resumes after the last item, with the first page's version.
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    let rv = first.metadata.resource_version.clone().unwrap();
    assert_eq!(names(first), vec!["a", "b"]);
    let second = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(second.metadata.continue_, None);
    assert_eq!(second.metadata.resource_version, Some(rv));
    assert_eq!(names(second), vec!["c"]);

    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes
        .list(&ListParams::default().labels("kubernetes.io/os=linux"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("ip-10-0-1-23"));
}

#[tokio::test]
async fn dry_run_pod_gets_the_webhook_injection_and_is_not_stored() {
    let kube = FakeKube::start(
        FakeConfig::default().object(service_account("keycloak-sa", Some(spec::KEYCLOAK.role))),
    );
    let pods: Api<Pod> = Api::namespaced(client(&kube).await, NAMESPACE);
    let pod = pods
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &probe_pod("irsa-check-dry-", "keycloak-sa"),
        )
        .await
        .unwrap();
    let name = pod.metadata.name.clone().unwrap();
    assert!(
        name.starts_with("irsa-check-dry-") && name.len() == 20,
        "{name}"
    );
    assert_eq!(pod.metadata.resource_version, None);
    assert!(pod.metadata.uid.is_some());
    assert_eq!(
        env_of(&pod),
        pairs(&[
            ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
            ("AWS_DEFAULT_REGION", REGION),
            ("AWS_REGION", REGION),
            (
                "AWS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/AuroraRole-Keycloak-camunda-prod"
            ),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE),
        ])
    );
    let raw = serde_json::to_value(&pod).unwrap();
    // The webhook puts its volume first; the ServiceAccount plugin's API token follows.
    assert_eq!(
        raw["spec"]["volumes"][0],
        json!({"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}
        ]}})
    );
    assert!(
        raw["spec"]["volumes"][1]["name"]
            .as_str()
            .unwrap()
            .starts_with("kube-api-access-")
    );
    assert!(
        raw["spec"]["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "aws-iam-token", "readOnly": true, "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount"}))
    );
    assert!(kube.list("Pod").is_empty());
    let recorded = kube.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].rbac(), "create pods");
    assert!(recorded[0].dry_run);
    assert_eq!(recorded[0].status, Some(201));
}

#[tokio::test]
async fn webhook_honours_annotations_and_env_already_there() {
    let mut sa = service_account("webmodeler-sa", Some(spec::WEB_MODELER.role));
    sa["metadata"]["annotations"]["eks.amazonaws.com/audience"] = json!("custom-aud");
    sa["metadata"]["annotations"]["eks.amazonaws.com/token-expiration"] = json!("300");
    sa["metadata"]["annotations"]["eks.amazonaws.com/sts-regional-endpoints"] = json!("false");
    let kube = FakeKube::start(FakeConfig::default().region("eu-central-1").object(sa));
    let pods: Api<Pod> = Api::namespaced(client(&kube).await, NAMESPACE);
    let mut pod = probe_pod("w-", "webmodeler-sa");
    pod.spec.as_mut().unwrap().containers[0].env = Some(vec![
        serde_json::from_value(json!({"name": "AWS_REGION", "value": "us-west-2"})).unwrap(),
    ]);
    let pod = pods.create(&PostParams::default(), &pod).await.unwrap();
    assert_eq!(
        env_of(&pod),
        pairs(&[
            ("AWS_REGION", "us-west-2"),
            (
                "AWS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/AuroraRole-Webmodeler-camunda-prod"
            ),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE),
        ])
    );
    let raw = serde_json::to_value(&pod).unwrap();
    // Below the API server's 10 minute minimum, the webhook raises the expiration.
    assert_eq!(
        raw["spec"]["volumes"][0]["projected"]["sources"][0],
        json!({"serviceAccountToken": {"audience": "custom-aud", "expirationSeconds": 600, "path": "token"}})
    );
    assert_eq!(kube.list("Pod").len(), 1);
}

#[tokio::test]
async fn ttl_after_finished_removes_the_job_and_its_pod() {
    let kube = FakeKube::start(FakeConfig::default().object(service_account("zeebe-sa", None)));
    let jobs: Api<Job> = Api::namespaced(client(&kube).await, NAMESPACE);
    let mut job = probe_job("short-lived", "zeebe-sa", &[]);
    job.spec.as_mut().unwrap().ttl_seconds_after_finished = Some(0);
    let created = jobs.create(&PostParams::default(), &job).await.unwrap();
    let uid = created.metadata.uid.unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(jobs.clone(), "short-lived", conditions::is_deleted(&uid)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(kube.objects_labelled(MANAGED_BY), Vec::<Value>::new());
}

#[tokio::test]
async fn webhook_off_and_service_account_admission() {
    let kube = FakeKube::start(
        FakeConfig::default()
            .webhook(false)
            .object(service_account("keycloak-sa", Some(spec::KEYCLOAK.role))),
    );
    let pods: Api<Pod> = Api::namespaced(client(&kube).await, NAMESPACE);
    let pod = pods
        .create(&PostParams::default(), &probe_pod("p-", "keycloak-sa"))
        .await
        .unwrap();
    assert_eq!(env_of(&pod), vec![]);
    assert_eq!(kube.list("Pod").len(), 1);

    for dry_run in [true, false] {
        let params = PostParams {
            dry_run,
            field_manager: None,
        };
        let (code, reason, message) = api_error(
            pods.create(&params, &probe_pod("irsa-check-", "missing-sa"))
                .await,
        );
        assert_eq!(
            (code, reason.as_str(), message.as_str()),
            (
                403,
                "Forbidden",
                "pods \"irsa-check-\" is forbidden: error looking up service account camunda/missing-sa: serviceaccount \"missing-sa\" not found"
            )
        );
    }
    assert_eq!(kube.list("Pod").len(), 1);
}

#[tokio::test]
async fn probe_jobs_complete_and_log_what_the_cli_would_print() {
    let world = ProbeWorld::default()
        .trust(
            &spec::role_arn(spec::KEYCLOAK.role),
            NAMESPACE,
            "keycloak-sa",
        )
        .open(AURORA_HOST, 5432)
        .imds(true);
    let kube = FakeKube::start(FakeConfig::default().probe(world).objects([
        service_account("keycloak-sa", Some(spec::KEYCLOAK.role)),
        service_account("identity-sa", Some(spec::IDENTITY.role)),
        service_account("zeebe-sa", None),
    ]));
    let client = client(&kube).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let tcp = format!("{AURORA_HOST}:5432 {OPENSEARCH_HOST}:443");
    let env = [
        ("IRSA_CHECK_STS", "1"),
        ("IRSA_CHECK_TCP", tcp.as_str()),
        ("IRSA_CHECK_IMDS", "1"),
    ];
    let tail = format!(
        "irsa-check-probe: tcp {AURORA_HOST} 5432 open\nirsa-check-probe: tcp {OPENSEARCH_HOST} 443 closed\nirsa-check-probe: imds token\nirsa-check-probe: done\n"
    );
    let cases = [
        (
            "irsa-check-keycloak-x1",
            "keycloak-sa",
            format!(
                "{{\n    \"UserId\": \"AROAEXAMPLEID123456789:{SESSION_NAME}\",\n    \"Account\": \"{ACCOUNT}\",\n    \"Arn\": \"arn:aws:sts::{ACCOUNT}:assumed-role/AuroraRole-Keycloak-camunda-prod/{SESSION_NAME}\"\n}}\nirsa-check-probe: sts end rc=0\n"
            ),
        ),
        (
            "irsa-check-identity-x2",
            "identity-sa",
            "\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\nirsa-check-probe: sts end rc=254\n".to_string(),
        ),
        (
            "irsa-check-zeebe-x3",
            "zeebe-sa",
            format!(
                "{{\n    \"UserId\": \"AROANODEROLEID12345678:{instance}\",\n    \"Account\": \"{ACCOUNT}\",\n    \"Arn\": \"arn:aws:sts::{ACCOUNT}:assumed-role/{node}/{instance}\"\n}}\nirsa-check-probe: sts end rc=0\n",
                instance = spec::NODE_INSTANCE_ID,
                node = spec::NODE_ROLE
            ),
        ),
    ];
    for (name, account, _) in &cases {
        jobs.create(&PostParams::default(), &probe_job(name, account, &env))
            .await
            .unwrap();
    }
    for (name, account, sts) in &cases {
        let done = tokio::time::timeout(
            Duration::from_secs(5),
            await_condition(jobs.clone(), name, conditions::is_job_completed()),
        )
        .await
        .unwrap()
        .unwrap()
        .unwrap();
        let types: Vec<String> = done
            .status
            .unwrap()
            .conditions
            .unwrap()
            .into_iter()
            .map(|c| format!("{}={}", c.type_, c.status))
            .collect();
        assert_eq!(types, vec!["SuccessCriteriaMet=True", "Complete=True"]);

        let list = pods
            .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={name}")))
            .await
            .unwrap();
        assert_eq!(list.items.len(), 1);
        let pod = &list.items[0];
        let pod_name = pod.metadata.name.clone().unwrap();
        assert!(pod_name.starts_with(&format!("{name}-")) && pod_name.len() == name.len() + 6);
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.name.as_str()), ("Job", *name));
        assert_eq!(
            pod.status.as_ref().unwrap().phase.as_deref(),
            Some("Succeeded")
        );
        // The webhook also mutates the pods the job controller creates.
        let injected: Vec<String> = env_of(pod).into_iter().map(|(k, _)| k).collect();
        let expected_env = if *account == "zeebe-sa" {
            vec!["IRSA_CHECK_STS", "IRSA_CHECK_TCP", "IRSA_CHECK_IMDS"]
        } else {
            vec![
                "IRSA_CHECK_STS",
                "IRSA_CHECK_TCP",
                "IRSA_CHECK_IMDS",
                "AWS_STS_REGIONAL_ENDPOINTS",
                "AWS_DEFAULT_REGION",
                "AWS_REGION",
                "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE",
            ]
        };
        assert_eq!(injected, expected_env);
        let log = pods.logs(&pod_name, &LogParams::default()).await.unwrap();
        assert_eq!(
            log,
            format!("irsa-check-probe: sts begin\n{sts}{tail}"),
            "{name}"
        );
    }
    // Background deletion takes the pods along; nothing labelled by the tool remains.
    for (name, _, _) in &cases {
        jobs.delete(name, &DeleteParams::background())
            .await
            .unwrap();
    }
    assert_eq!(kube.objects_labelled(MANAGED_BY), Vec::<Value>::new());
}

#[tokio::test]
async fn without_webhook_or_imds_the_probe_finds_no_credentials() {
    let kube = FakeKube::start(
        FakeConfig::default()
            .webhook(false)
            .probe(ProbeWorld::default().trust(
                &spec::role_arn(spec::KEYCLOAK.role),
                NAMESPACE,
                "keycloak-sa",
            ))
            .object(service_account("keycloak-sa", Some(spec::KEYCLOAK.role))),
    );
    let client = client(&kube).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    jobs.create(
        &PostParams::default(),
        &probe_job("probe-a", "keycloak-sa", &[("IRSA_CHECK_STS", "1")]),
    )
    .await
    .unwrap();
    await_condition(jobs.clone(), "probe-a", conditions::is_job_completed())
        .await
        .unwrap();
    let pod = &kube.list("Pod")[0];
    let log = kube
        .pod_log(NAMESPACE, pod["metadata"]["name"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        log,
        "irsa-check-probe: sts begin\n\nUnable to locate credentials. You can configure credentials by running \"aws configure\".\nirsa-check-probe: sts end rc=253\nirsa-check-probe: done\n"
    );
}

#[tokio::test]
async fn job_behaviours_fail_never_finish_and_garbage() {
    let kube = FakeKube::start(
        FakeConfig::default()
            .objects([
                service_account("fail-sa", None),
                service_account("stuck-sa", None),
                service_account("noisy-sa", None),
            ])
            .job_behaviour_for("fail-sa", JobBehaviour::Fail)
            .job_behaviour_for("stuck-sa", JobBehaviour::NeverFinish)
            .job_behaviour_for(
                "noisy-sa",
                JobBehaviour::LogGarbage("exec format error\n".into()),
            ),
    );
    let client = client(&kube).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    for (name, account) in [
        ("j-fail", "fail-sa"),
        ("j-stuck", "stuck-sa"),
        ("j-noisy", "noisy-sa"),
    ] {
        jobs.create(&PostParams::default(), &probe_job(name, account, &[]))
            .await
            .unwrap();
    }
    let failed = |job: Option<&Job>| {
        job.and_then(|j| j.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c.type_ == "Failed"
                        && c.status == "True"
                        && c.reason.as_deref() == Some("BackoffLimitExceeded")
                })
            })
    };
    let job = await_condition(jobs.clone(), "j-fail", failed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status.unwrap().failed, Some(1));

    await_condition(jobs.clone(), "j-noisy", conditions::is_job_completed())
        .await
        .unwrap();
    let noisy = pods
        .list(&ListParams::default().labels("job-name=j-noisy"))
        .await
        .unwrap();
    let log = pods
        .logs(
            noisy.items[0].metadata.name.as_deref().unwrap(),
            &LogParams::default(),
        )
        .await
        .unwrap();
    assert_eq!(log, "exec format error\n");

    let stuck = tokio::time::timeout(
        Duration::from_millis(300),
        await_condition(jobs.clone(), "j-stuck", conditions::is_job_completed()),
    )
    .await;
    assert!(stuck.is_err(), "a NeverFinish job must not complete");
    let stuck_pod = pods
        .list(&ListParams::default().labels("job-name=j-stuck"))
        .await
        .unwrap();
    assert_eq!(
        stuck_pod.items[0].status.as_ref().unwrap().phase.as_deref(),
        Some("Running")
    );
}

#[tokio::test]
async fn faults_answer_real_status_bodies() {
    let kube = FakeKube::start(
        FakeConfig::default()
            .objects([service_account("zeebe-sa", None), config_map("slow", "x")])
            .fault(Fault::forbidden(Verb::List, "nodes"))
            .fault(Fault::forbidden(Verb::Create, "pods").with_dry_run(true))
            .fault(Fault::internal_error(
                Verb::List,
                "secrets",
                "etcdserver: request timed out",
            ))
            .fault(Fault::quota_exceeded("jobs", "irsa-quota").times(1))
            .fault(Fault::delay(
                Verb::Get,
                "serviceaccounts",
                Duration::from_millis(300),
            ))
            .fault(Fault::hang(Verb::Get, "configmaps").with_name("slow")),
    );
    let client = client(&kube).await;

    let nodes: Api<Node> = Api::all(client.clone());
    let (code, reason, message) = api_error(nodes.list(&ListParams::default()).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        format!(
            "nodes is forbidden: User \"{FAKE_USER}\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        )
    );

    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let dry = PostParams {
        dry_run: true,
        field_manager: None,
    };
    let (code, _, message) = api_error(pods.create(&dry, &probe_pod("p-", "zeebe-sa")).await);
    assert_eq!(code, 403);
    assert_eq!(
        message,
        format!(
            "pods is forbidden: User \"{FAKE_USER}\" cannot create resource \"pods\" in API group \"\" in the namespace \"camunda\""
        )
    );
    pods.create(&PostParams::default(), &probe_pod("p-", "zeebe-sa"))
        .await
        .unwrap();

    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let (code, reason, message) = api_error(secrets.list(&ListParams::default()).await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (500, "InternalError", "etcdserver: request timed out")
    );

    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    let job = probe_job("irsa-check-zeebe-abcde", "zeebe-sa", &[]);
    let (code, reason, message) = api_error(jobs.create(&PostParams::default(), &job).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        "jobs.batch \"irsa-check-zeebe-abcde\" is forbidden: exceeded quota: irsa-quota, requested: count/jobs.batch=1, used: count/jobs.batch=10, limited: count/jobs.batch=10"
    );
    // Only the first time.
    jobs.create(&PostParams::default(), &job).await.unwrap();

    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), NAMESPACE);
    let started = Instant::now();
    sas.get("zeebe-sa").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
    let hung = tokio::time::timeout(Duration::from_millis(200), cms.get("slow")).await;
    assert!(hung.is_err(), "a hanging route must not answer");
    let last = kube.requests().pop().unwrap();
    assert_eq!(
        (last.rbac().as_str(), last.status),
        ("get configmaps", None)
    );
}

#[tokio::test]
async fn wrong_or_missing_token_is_rejected() {
    let kube = FakeKube::start(FakeConfig::default().token("right"));
    let mut kubeconfig = Kubeconfig::read_from(kube.kubeconfig_path()).unwrap();
    let auth = kubeconfig.auth_infos[0].auth_info.as_mut().unwrap();
    auth.token = Some("wrong".to_string().into());
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(Client::try_from(config).unwrap());
    let (code, reason, message) = api_error(nodes.list(&ListParams::default()).await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );

    let anonymous = Config::new(kube.url().parse().unwrap());
    let nodes: Api<Node> = Api::all(Client::try_from(anonymous).unwrap());
    assert_eq!(api_error(nodes.list(&ListParams::default()).await).0, 401);

    let nodes: Api<Node> = Api::all(client(&kube).await);
    assert!(
        nodes
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        kube.requests()
            .iter()
            .map(|r| r.status.unwrap())
            .collect::<Vec<_>>(),
        vec![401, 401, 200]
    );
}

#[tokio::test]
async fn exec_kubeconfig_runs_the_fake_aws_cli() {
    let kube = FakeKube::start(FakeConfig::default().aws_exec(spec::CLUSTER_NAME, REGION));
    let text = std::fs::read_to_string(kube.kubeconfig_path()).unwrap();
    assert!(text.contains("command: aws"), "{text}");
    let kubeconfig = Kubeconfig::read_from(kube.kubeconfig_path()).unwrap();
    let exec = kubeconfig.auth_infos[0]
        .auth_info
        .as_ref()
        .unwrap()
        .exec
        .clone()
        .unwrap();
    assert_eq!(
        exec.api_version.as_deref(),
        Some("client.authentication.k8s.io/v1beta1")
    );
    assert_eq!(
        exec.args.clone().unwrap(),
        [
            "--region",
            REGION,
            "eks",
            "get-token",
            "--cluster-name",
            spec::CLUSTER_NAME,
            "--output",
            "json"
        ]
    );
    assert_eq!(
        kubeconfig.current_context.as_deref(),
        Some("arn:aws:eks:eu-west-1:123456789012:cluster/camunda-prod")
    );

    // The client looks `aws` up on the PATH its exec env gives it (no global env change).
    let with_path = |mut kubeconfig: Kubeconfig, args: Option<Vec<String>>| {
        let exec = kubeconfig.auth_infos[0]
            .auth_info
            .as_mut()
            .unwrap()
            .exec
            .as_mut()
            .unwrap();
        let path = kube.path_with_bin_dir().into_string().unwrap();
        exec.env = Some(vec![
            [
                ("name".to_string(), "PATH".to_string()),
                ("value".to_string(), path),
            ]
            .into_iter()
            .collect(),
        ]);
        if let Some(args) = args {
            exec.args = Some(args);
        }
        kubeconfig
    };
    let config = Config::from_custom_kubeconfig(
        with_path(kubeconfig.clone(), None),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let nodes: Api<Node> = Api::all(Client::try_from(config).unwrap());
    nodes.list(&ListParams::default()).await.unwrap();
    // kube runs the plugin more than once while it sets up; every run had these args.
    let invocations = kube.aws_invocations();
    assert!(!invocations.is_empty());
    for invocation in invocations {
        assert_eq!(
            invocation,
            format!(
                "--region {REGION} eks get-token --cluster-name {} --output json",
                spec::CLUSTER_NAME
            )
        );
    }

    // A token for another region is signed fine but rejected by the cluster.
    let other_region: Vec<String> = [
        "--region",
        "us-east-1",
        "eks",
        "get-token",
        "--cluster-name",
        spec::CLUSTER_NAME,
    ]
    .map(String::from)
    .to_vec();
    let config = Config::from_custom_kubeconfig(
        with_path(kubeconfig, Some(other_region)),
        &KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let nodes: Api<Node> = Api::all(Client::try_from(config).unwrap());
    assert_eq!(api_error(nodes.list(&ListParams::default()).await).0, 401);
}

#[tokio::test]
async fn requests_are_recorded_with_their_rbac_view() {
    let kube = FakeKube::start(FakeConfig::default().object(service_account("zeebe-sa", None)));
    let client = client(&kube).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    jobs.create(&PostParams::default(), &probe_job("rec", "zeebe-sa", &[]))
        .await
        .unwrap();
    await_condition(jobs.clone(), "rec", conditions::is_job_completed())
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let pod = pods
        .list(&ListParams::default().labels("job-name=rec"))
        .await
        .unwrap()
        .items
        .remove(0);
    pods.logs(pod.metadata.name.as_deref().unwrap(), &LogParams::default())
        .await
        .unwrap();
    jobs.delete("rec", &DeleteParams::background().dry_run())
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    nodes.get_opt("n").await.unwrap();

    let recorded = kube.requests();
    let views: Vec<(String, Option<&str>, Option<&str>, bool)> = recorded
        .iter()
        .map(|r| {
            (
                r.rbac(),
                r.namespace.as_deref(),
                r.name.as_deref(),
                r.dry_run,
            )
        })
        .collect();
    let ns = Some(NAMESPACE);
    assert_eq!(
        views,
        vec![
            ("create jobs.batch".to_string(), ns, None, false),
            ("list jobs.batch".to_string(), ns, None, false),
            ("watch jobs.batch".to_string(), ns, None, false),
            ("list pods".to_string(), ns, None, false),
            (
                "get pods/log".to_string(),
                ns,
                pod.metadata.name.as_deref(),
                false
            ),
            ("delete jobs.batch".to_string(), ns, Some("rec"), true),
            ("get nodes".to_string(), None, Some("n"), false),
        ]
    );
    let watch = &recorded[2];
    assert_eq!(watch.verb, Some(Verb::Watch));
    assert!(
        watch.query.contains("fieldSelector=metadata.name%3Drec"),
        "{}",
        watch.query
    );
    assert_eq!(recorded[6].status, Some(404));
    // The dry-run delete left the job in place.
    assert!(kube.get("Job", NAMESPACE, "rec").is_some());
}

#[tokio::test]
async fn job_deletion_propagates_like_the_garbage_collector() {
    let kube = FakeKube::start(FakeConfig::default().object(service_account("zeebe-sa", None)));
    let client = client(&kube).await;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);
    for name in ["bg", "fg", "orphan", "default"] {
        jobs.create(&PostParams::default(), &probe_job(name, "zeebe-sa", &[]))
            .await
            .unwrap();
    }
    for name in ["bg", "fg", "orphan", "default"] {
        await_condition(jobs.clone(), name, conditions::is_job_completed())
            .await
            .unwrap();
    }
    let pod_of = |job: &str| {
        kube.list("Pod")
            .into_iter()
            .find(|p| p["metadata"]["labels"]["job-name"] == job)
    };
    assert!(pod_of("bg").is_some() && pod_of("default").is_some());

    let deleted = jobs
        .delete("bg", &DeleteParams::background())
        .await
        .unwrap();
    let uid = deleted.left().unwrap().metadata.uid.unwrap();
    await_condition(jobs.clone(), "bg", conditions::is_deleted(&uid))
        .await
        .unwrap();
    assert!(pod_of("bg").is_none());
    jobs.delete("fg", &DeleteParams::foreground())
        .await
        .unwrap();
    assert!(pod_of("fg").is_none());

    jobs.delete("orphan", &DeleteParams::orphan())
        .await
        .unwrap();
    let orphan = pod_of("orphan").unwrap();
    assert_eq!(orphan["metadata"]["ownerReferences"], json!([]));

    // batch/v1 still orphans by default: a tool that forgets propagationPolicy leaks pods.
    jobs.delete("default", &DeleteParams::default())
        .await
        .unwrap();
    assert!(pod_of("default").is_some());
    assert_eq!(kube.objects_labelled(MANAGED_BY).len(), 2);

    let (code, _, message) = api_error(jobs.delete("bg", &DeleteParams::background()).await);
    assert_eq!(
        (code, message.as_str()),
        (404, "jobs.batch \"bg\" not found")
    );
}

#[tokio::test]
async fn watch_streams_events_with_selector_transitions_and_times_out() {
    let kube = FakeKube::start(
        FakeConfig::default()
            .bookmark_interval(Duration::from_millis(100))
            .objects([config_map("a", "x"), config_map("b", "y")]),
    );
    let cms: Api<ConfigMap> = Api::namespaced(client(&kube).await, NAMESPACE);
    let stream = cms
        .watch(&WatchParams::default().labels("app=x").timeout(1), "0")
        .await
        .unwrap();
    let mut stream = std::pin::pin!(stream);
    let mut events = Vec::new();
    let mut bookmarks = 0;
    let mut step = 0;
    let started = Instant::now();
    while let Some(event) = next(&mut stream).await {
        match event.unwrap() {
            WatchEvent::Added(cm) => events.push(format!("ADDED {}", cm.metadata.name.unwrap())),
            WatchEvent::Modified(cm) => {
                events.push(format!("MODIFIED {}", cm.metadata.name.unwrap()))
            }
            WatchEvent::Deleted(cm) => {
                events.push(format!("DELETED {}", cm.metadata.name.unwrap()))
            }
            WatchEvent::Bookmark(_) => {
                bookmarks += 1;
                continue;
            }
            WatchEvent::Error(e) => panic!("{e:?}"),
        }
        // Drive the world one step per received event.
        let mut changed = config_map("a", "x");
        changed["data"]["k"] = json!("v2");
        match step {
            0 => {
                kube.insert(config_map("c", "x"));
            }
            1 => {
                kube.insert(changed);
            }
            2 => {
                kube.insert(config_map("a", "y"));
            }
            3 => {
                kube.insert(config_map("b", "x"));
            }
            4 => {
                kube.remove("ConfigMap", NAMESPACE, "c");
            }
            _ => {}
        }
        step += 1;
    }
    assert_eq!(
        events,
        vec![
            "ADDED a",
            "ADDED c",
            "MODIFIED a",
            "DELETED a",
            "ADDED b",
            "DELETED c"
        ]
    );
    assert!(bookmarks >= 1, "bookmarks every 100 ms over a 1 s watch");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn streaming_list_ends_its_initial_events_with_a_bookmark() {
    let kube = FakeKube::start(
        FakeConfig::default().objects([config_map("a", "x"), config_map("b", "x")]),
    );
    let cms: Api<ConfigMap> = Api::namespaced(client(&kube).await, NAMESPACE);
    let stream = watcher(cms, watcher::Config::default().streaming_lists());
    let mut stream = std::pin::pin!(stream);
    let mut seen = Vec::new();
    loop {
        match next(&mut stream).await.unwrap().unwrap() {
            watcher::Event::Init => seen.push("init".to_string()),
            watcher::Event::InitApply(cm) => seen.push(cm.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["init", "a", "b"]);
    kube.insert(config_map("c", "x"));
    match next(&mut stream).await.unwrap().unwrap() {
        watcher::Event::Apply(cm) => assert_eq!(cm.metadata.name.as_deref(), Some("c")),
        other => panic!("unexpected {other:?}"),
    }
    let watch = kube.requests().remove(0);
    assert_eq!(watch.verb, Some(Verb::Watch));
    assert!(
        watch.query.contains("sendInitialEvents=true"),
        "{}",
        watch.query
    );
}

/// The wire itself: a blocking client, as plain as curl.
fn raw_get(kube: &FakeKube, path_and_query: &str, token: Option<&str>) -> String {
    let address = kube.url().trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path_and_query} HTTP/1.1\r\nHost: {address}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn wire_format_of_watch_errors_and_version() {
    let kube = FakeKube::start(FakeConfig::default().object(config_map("a", "x")));
    let token = kube.token().to_string();

    let watch = raw_get(
        &kube,
        "/api/v1/namespaces/camunda/configmaps?watch=1&timeoutSeconds=1&labelSelector=app%3Dx",
        Some(&token),
    );
    let (head, body) = watch.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
    assert!(head.contains("Content-Type: application/json"), "{head}");
    // One chunk per event, one JSON object per line, then the last chunk.
    let (size, rest) = body.split_once("\r\n").unwrap();
    let size = usize::from_str_radix(size, 16).unwrap();
    let line = &rest[..size];
    assert!(line.ends_with('\n'));
    let event: Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["type"], "ADDED");
    assert_eq!(event["object"]["kind"], "ConfigMap");
    assert_eq!(event["object"]["metadata"]["name"], "a");
    assert!(body.ends_with("0\r\n\r\n"), "{body:?}");

    let denied = raw_get(&kube, "/api/v1/nodes", None);
    let (head, body) = denied.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{head}");
    let status: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );

    let unknown = raw_get(&kube, "/apis/example.com/v1/widgets", Some(&token));
    assert!(
        unknown.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{unknown}"
    );
    assert!(unknown.contains("the server could not find the requested resource"));

    let version = raw_get(&kube, "/version", Some(&token));
    let body: Value = serde_json::from_str(version.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(
        (body["major"].as_str(), body["minor"].as_str()),
        (Some("1"), Some("30+"))
    );
}

#[tokio::test]
async fn create_validates_like_the_api_server() {
    let kube = FakeKube::start(FakeConfig::default().object(service_account("zeebe-sa", None)));
    let client = client(&kube).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NAMESPACE);
    let jobs: Api<Job> = Api::namespaced(client.clone(), NAMESPACE);

    let mut nameless = probe_pod("", "zeebe-sa");
    nameless.metadata.generate_name = None;
    let (code, reason, message) = api_error(pods.create(&PostParams::default(), &nameless).await);
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (
            422,
            "Invalid",
            "Pod \"\" is invalid: metadata.name: Required value: name or generateName is required"
        )
    );

    let mut always = probe_job("always", "zeebe-sa", &[]);
    let template = always
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap();
    template.restart_policy = Some("Always".into());
    let (code, _, message) = api_error(jobs.create(&PostParams::default(), &always).await);
    assert_eq!(code, 422);
    assert_eq!(
        message,
        "Job.batch \"always\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
    );

    let long = "irsa-check-identity-keycloak-web-modeler-restapi-abcdefghij-xyz12";
    assert_eq!(long.len(), 65);
    let (code, _, message) = api_error(
        jobs.create(&PostParams::default(), &probe_job(long, "zeebe-sa", &[]))
            .await,
    );
    assert_eq!(code, 422);
    assert!(
        message.contains("must be no more than 63 characters"),
        "{message}"
    );

    let (code, _, _) = api_error(
        jobs.create(&PostParams::default(), &probe_job("Upper", "zeebe-sa", &[]))
            .await,
    );
    assert_eq!(code, 422);

    let job = jobs
        .create(&PostParams::default(), &probe_job("twice", "zeebe-sa", &[]))
        .await
        .unwrap();
    let uid = job.metadata.uid.clone().unwrap();
    let labels = job.spec.unwrap().template.metadata.unwrap().labels.unwrap();
    assert_eq!(labels["batch.kubernetes.io/controller-uid"], uid);
    assert_eq!(labels["job-name"], "twice");
    let (code, reason, message) = api_error(
        jobs.create(&PostParams::default(), &probe_job("twice", "zeebe-sa", &[]))
            .await,
    );
    assert_eq!(
        (code, reason.as_str(), message.as_str()),
        (409, "AlreadyExists", "jobs.batch \"twice\" already exists")
    );
}
