use super::*;
use crate::checks::probe_log;
use crate::cluster::pods::{ContainerFact, EnvFact, TokenVolume};
use crate::cluster::probe::ProbeRequest;
use crate::finding::Level;
use serde_json::json;
use std::collections::BTreeMap;

const ROLE: &str = "arn:aws:iam::123456789012:role/AuroraRole-Identity";
const NS: &str = "camunda";

fn sa(annotations: &[(&str, &str)]) -> ServiceAccountFact {
    ServiceAccountFact {
        name: "identity-sa".into(),
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn view<'a>(
    account: &'a Fetched<Option<ServiceAccountFact>>,
    source: &'a AccountSource,
    values_role: Option<&'a str>,
) -> AccountView<'a> {
    AccountView {
        component: Component::Identity,
        namespace: NS,
        planned: Some("identity-sa"),
        name: "identity-sa",
        source,
        account,
        values_role_arn: values_role,
        switch_path: "identity.serviceAccount.enabled",
    }
}

fn lines(findings: &[Finding]) -> Vec<(Code, Level, String)> {
    findings
        .iter()
        .map(|f| (f.code, f.level, f.message.clone()))
        .collect()
}

fn forbidden(call: &str, message: &str) -> ApiError {
    ApiError::new(call, Some("Forbidden".into()), message)
}

// ---- 110 / 163 ---------------------------------------------------------------------

#[test]
fn annotated_account_passes_110_and_163_with_notes() {
    let account = Ok(Some(sa(&[
        (accounts::ROLE_ARN, ROLE),
        (accounts::AUDIENCE, "custom-aud"),
        (accounts::STS_REGIONAL_ENDPOINTS, "false"),
        (accounts::TOKEN_EXPIRATION, "300"),
    ])));
    let found = judge_account(&view(&account, &AccountSource::Values, Some(ROLE)));
    assert_eq!(
        lines(&found),
        vec![
            (Code::RoleArnAnnotation, Level::Ok, format!("The service account identity-sa is annotated with eks.amazonaws.com/role-arn: {ROLE}")),
            (Code::RoleArnAnnotation, Level::Info, "The service account identity-sa requests the token audience custom-aud (eks.amazonaws.com/audience): the role's trust policy must admit it.".into()),
            (Code::RoleArnAnnotation, Level::Info, "The service account identity-sa sets eks.amazonaws.com/sts-regional-endpoints: false (pods use the global STS endpoint).".into()),
            (Code::RoleArnAnnotation, Level::Info, "The service account identity-sa sets eks.amazonaws.com/token-expiration: 300 s; the webhook raises it to 600 s.".into()),
            (Code::RoleArn, Level::Ok, "The annotation names role AuroraRole-Identity in account 123456789012 (partition aws).".into()),
        ]
    );
    assert!(
        found
            .iter()
            .all(|f| f.component.as_deref() == Some("identity"))
    );
}

#[test]
fn odd_optional_annotations_are_explained() {
    let account = Ok(Some(sa(&[
        (accounts::ROLE_ARN, ROLE),
        (accounts::STS_REGIONAL_ENDPOINTS, "yes"),
        (accounts::TOKEN_EXPIRATION, "soon"),
    ])));
    let found = judge_account(&view(&account, &AccountSource::Values, None));
    let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
    assert!(messages.contains(&"The service account identity-sa sets eks.amazonaws.com/sts-regional-endpoints: yes (not a boolean: the webhook ignores it)."));
    assert!(messages.contains(&"The service account identity-sa sets eks.amazonaws.com/token-expiration: not a number: the webhook uses 86400 s."));
}

#[test]
fn missing_annotation_fails_110_and_skips_the_rest() {
    let account = Ok(Some(sa(&[(accounts::ROLE_ARN, "  ")])));
    let found = judge_account(&view(&account, &AccountSource::Values, None));
    assert_eq!(found[0].level, Level::Fail);
    assert_eq!(found[0].code, Code::RoleArnAnnotation);
    assert_eq!(
        found[0].message,
        "The service account identity-sa has no eks.amazonaws.com/role-arn annotation: its pods get no IAM role."
    );
    assert_eq!(
        found[0].hint.as_deref(),
        Some(
            "Set identity.serviceAccount.annotations.\"eks.amazonaws.com/role-arn\" to the IAM role's ARN in the values and upgrade the release."
        )
    );
    assert_eq!(found[1].code, Code::RoleArn);
    assert_eq!(found[1].level, Level::Skip);
    // The values have it, the live account does not: the release was not upgraded.
    let found = judge_account(&view(&account, &AccountSource::Values, Some(ROLE)));
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("upgrade the release")
    );
    assert!(found[0].hint.as_deref().unwrap().contains(ROLE));
}

#[test]
fn invalid_role_arn_fails_163() {
    for bad in [
        "AuroraRole-Identity",
        "arn:aws:iam::123:role/R",
        "arn:aws:iam::123456789012:user/R",
        "arn:aws:s3:::bucket",
        "arn:other:iam::123456789012:role/R",
    ] {
        let account = Ok(Some(sa(&[(accounts::ROLE_ARN, bad)])));
        let found = judge_account(&view(&account, &AccountSource::Values, None));
        assert_eq!(found[0].level, Level::Ok, "{bad}");
        assert_eq!(
            (found[1].code, found[1].level),
            (Code::RoleArn, Level::Fail),
            "{bad}"
        );
        assert_eq!(
            found[1].message,
            format!(
                "The eks.amazonaws.com/role-arn annotation of identity-sa is not an IAM role ARN: {bad}"
            )
        );
        assert_eq!(effective_role_arn(&account, None), None);
    }
    // Partitions other than aws, and role paths, are valid.
    for good in [
        "arn:aws-cn:iam::123456789012:role/R",
        "arn:aws-us-gov:iam::123456789012:role/path/to/R",
    ] {
        assert!(parse_role_arn(good).is_some(), "{good}");
    }
}

#[test]
fn missing_or_unreadable_accounts() {
    let missing: Fetched<Option<ServiceAccountFact>> = Ok(None);
    let found = judge_account(&view(&missing, &AccountSource::Values, None));
    assert_eq!(
        lines(&found[..1]),
        vec![(
            Code::RoleArnAnnotation,
            Level::Fail,
            "The service account identity-sa does not exist in namespace camunda.".into()
        )]
    );
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("identity.serviceAccount.enabled is true")
    );
    assert_eq!(found[1].level, Level::Skip);

    let denied: Fetched<Option<ServiceAccountFact>> = Err(forbidden(
        "get serviceaccount identity-sa",
        "serviceaccounts \"identity-sa\" is forbidden: User \"u\" cannot get resource \"serviceaccounts\"",
    ));
    let found = judge_account(&view(&denied, &AccountSource::Values, Some(ROLE)));
    assert_eq!(found[0].level, Level::Fail);
    assert!(found[0].message.starts_with("Cannot read the service account camunda/identity-sa: get serviceaccount identity-sa failed: Forbidden:"));
    assert!(
        found[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("get on serviceaccounts")
    );
    assert_eq!(
        (found[1].code, found[1].level, found[1].message.as_str()),
        (
            Code::RoleArn,
            Level::Info,
            "Using the role the values annotate instead: arn:aws:iam::123456789012:role/AuroraRole-Identity"
        )
    );
    assert_eq!(
        effective_role_arn(&denied, Some(ROLE)).as_deref(),
        Some(ROLE)
    );
    let found = judge_account(&view(&denied, &AccountSource::Values, None));
    assert_eq!(found[1].level, Level::Skip);
    assert_eq!(effective_role_arn(&denied, None), None);
}

#[test]
fn the_workload_names_the_account() {
    let account = Ok(Some(sa(&[(accounts::ROLE_ARN, ROLE)])));
    let source = AccountSource::Workload {
        kind: WorkloadKind::Deployment,
        name: "camunda-identity".into(),
    };
    let mut v = view(&account, &source, None);
    v.planned = Some("identity-old");
    let found = judge_account(&v);
    assert_eq!(
        lines(&found[..1]),
        vec![(
            Code::ServiceAccountName,
            Level::Info,
            "The Deployment camunda-identity runs as service account identity-sa, not identity-old as the values say: checking identity-sa.".into()
        )]
    );
    v.planned = None;
    assert_eq!(
        judge_account(&v)[0].message,
        "Service account of identity: identity-sa (from the Deployment camunda-identity)."
    );
    v.planned = Some("identity-sa");
    assert_eq!(judge_account(&v)[0].code, Code::RoleArnAnnotation);
    // A live annotation that differs from the values is reported, the live one wins.
    let found = judge_account(&view(
        &account,
        &AccountSource::Values,
        Some("arn:aws:iam::123456789012:role/Other"),
    ));
    assert!(found.iter().any(|f| f.level == Level::Info
        && f.message
            == format!("The values annotate identity-sa with arn:aws:iam::123456789012:role/Other; the live account's {ROLE} is the one pods get.")));
}

// ---- 111 ---------------------------------------------------------------------------

fn container(name: &str, env: &[(&str, &str)], mounts: &[(&str, &str)]) -> ContainerFact {
    ContainerFact {
        name: name.into(),
        init: false,
        env: env
            .iter()
            .map(|(k, v)| EnvFact {
                name: k.to_string(),
                value: Some(v.to_string()),
                value_from: None,
            })
            .collect(),
        run_as_user: None,
        run_as_non_root: None,
        mounts: mounts
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
const TOKEN_DIR: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount";

fn injected(role: &str, audience: &str) -> PodSpecFact {
    PodSpecFact {
        service_account: "identity-sa".into(),
        containers: vec![container(
            "probe",
            &[
                ("AWS_ROLE_ARN", role),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE),
            ],
            &[("aws-iam-token", TOKEN_DIR)],
        )],
        token_volume: Some(TokenVolume {
            name: "aws-iam-token".into(),
            audience: audience.into(),
        }),
        ..PodSpecFact::default()
    }
}

fn injection(role: Option<&str>, dry: Option<&Fetched<PodSpecFact>>) -> Finding {
    judge_token_injection(
        Component::Identity,
        NS,
        "identity-sa",
        role,
        "sts.amazonaws.com",
        dry,
    )
}

#[test]
fn token_injection_verdicts() {
    let ok = Ok(injected(ROLE, "sts.amazonaws.com"));
    let f = injection(Some(ROLE), Some(&ok));
    assert_eq!((f.code, f.level), (Code::TokenInjection, Level::Ok));
    assert_eq!(
        f.message,
        format!(
            "A pod of service account identity-sa gets AWS_ROLE_ARN={ROLE}, AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE} and the projected token (audience sts.amazonaws.com) from the EKS pod identity webhook (server-side dry run)."
        )
    );
    assert_eq!(f.component.as_deref(), Some("identity"));

    let none = Ok(PodSpecFact {
        containers: vec![container("probe", &[], &[])],
        ..PodSpecFact::default()
    });
    let f = injection(Some(ROLE), Some(&none));
    assert_eq!(f.level, Level::Fail);
    assert_eq!(
        f.message,
        "A pod of service account identity-sa gets no web identity from the EKS pod identity webhook (no AWS_ROLE_ARN, no AWS_WEB_IDENTITY_TOKEN_FILE, no projected token; server-side dry run)."
    );
    assert!(f.hint.unwrap().contains("pod-identity-webhook"));

    let other = Ok(injected(
        "arn:aws:iam::123456789012:role/Other",
        "other-aud",
    ));
    let f = injection(Some(ROLE), Some(&other));
    assert_eq!(
        f.message,
        format!(
            "A pod of service account identity-sa is not fully set up for IRSA by the webhook (server-side dry run): AWS_ROLE_ARN=arn:aws:iam::123456789012:role/Other, not {ROLE}; the token's audience is other-aud, not sts.amazonaws.com."
        )
    );

    let mut unmounted = injected(ROLE, "sts.amazonaws.com");
    unmounted.containers[0].mounts.clear();
    unmounted.containers[0].env.pop();
    let f = injection(Some(ROLE), Some(&Ok(unmounted)));
    assert_eq!(
        f.message,
        "A pod of service account identity-sa is not fully set up for IRSA by the webhook (server-side dry run): no AWS_WEB_IDENTITY_TOKEN_FILE; the token volume aws-iam-token is not mounted where AWS_WEB_IDENTITY_TOKEN_FILE points."
    );
    let mut no_volume = injected(ROLE, "sts.amazonaws.com");
    no_volume.token_volume = None;
    let f = injection(Some(ROLE), Some(&Ok(no_volume)));
    assert!(
        f.message
            .ends_with(": no projected service account token volume.")
    );
    let f = injection(Some(ROLE), Some(&Ok(PodSpecFact::default())));
    assert_eq!(
        f.message,
        "The dry-run pod of identity-sa came back without containers."
    );
}

#[test]
fn token_injection_cannot_run() {
    let f = injection(None, None);
    assert_eq!((f.code, f.level), (Code::TokenInjection, Level::Skip));
    let f = injection(Some(ROLE), None);
    assert_eq!(f.level, Level::Skip);
    let rbac = Err(forbidden(
        "create pods (dryRun=All)",
        "pods is forbidden: User \"u\" cannot create resource \"pods\" in API group \"\" in the namespace \"camunda\"",
    ));
    let f = injection(Some(ROLE), Some(&rbac));
    assert_eq!(f.level, Level::Info);
    assert!(f.message.ends_with("The check needs permission to create pods with dryRun=All in namespace camunda (create on pods; a server-side dry run creates nothing)."), "{}", f.message);
    let policy = Err(forbidden(
        "create pods (dryRun=All)",
        "admission webhook \"validate.kyverno.svc\" denied the request",
    ));
    let f = injection(Some(ROLE), Some(&policy));
    assert_eq!(f.level, Level::Info);
    assert!(f.message.contains("admission refused the dry-run pod: create pods (dryRun=All) failed: Forbidden: admission webhook"));
    let broken = Err(ApiError::new(
        "create pods (dryRun=All)",
        Some("InternalError".into()),
        "etcdserver: request timed out",
    ));
    let f = injection(Some(ROLE), Some(&broken));
    assert_eq!(f.level, Level::Fail);
    assert_eq!(
        f.message,
        "Cannot verify token injection for identity-sa: create pods (dryRun=All) failed: InternalError: etcdserver: request timed out"
    );
}

// ---- 112 ---------------------------------------------------------------------------

fn workload(kind: WorkloadKind, name: &str, pods: Fetched<Vec<PodFact>>) -> WorkloadPods {
    WorkloadPods {
        workload: WorkloadFact {
            kind,
            name: name.into(),
            selector: Some("app=x".into()),
            template: PodSpecFact {
                service_account: "identity-sa".into(),
                fs_group: Some(1001),
                containers: vec![container("identity", &[], &[])],
                ..PodSpecFact::default()
            },
        },
        pods,
    }
}

fn pod(name: &str, phase: &str, role: Option<&str>) -> PodFact {
    let env: Vec<(&str, &str)> = role.map(|r| vec![("AWS_ROLE_ARN", r)]).unwrap_or_default();
    PodFact {
        name: name.into(),
        phase: phase.into(),
        spec: PodSpecFact {
            service_account: "identity-sa".into(),
            fs_group: Some(1001),
            containers: vec![container("identity", &env, &[])],
            ..PodSpecFact::default()
        },
    }
}

fn running(workloads: &[WorkloadPods]) -> Vec<Finding> {
    judge_running_pods(
        Component::Identity,
        NS,
        "identity-sa",
        Some(ROLE),
        &["camunda-identity".to_string()],
        workloads,
        &[],
    )
}

#[test]
fn running_pods_with_the_role_pass() {
    let found = running(&[workload(
        WorkloadKind::Deployment,
        "camunda-identity",
        Ok(vec![
            pod("a", "Running", Some(ROLE)),
            pod("b", "Running", Some(ROLE)),
            pod("old", "Succeeded", None),
        ]),
    )]);
    assert_eq!(
        lines(&found),
        vec![(
            Code::RunningPods,
            Level::Ok,
            format!("2 running pod(s) of Deployment camunda-identity carry AWS_ROLE_ARN={ROLE}.")
        )]
    );
}

#[test]
fn pods_that_predate_the_annotation_need_a_restart() {
    let found = running(&[workload(
        WorkloadKind::StatefulSet,
        "camunda-identity",
        Ok(vec![
            pod("a", "Running", None),
            pod("b", "Running", Some("arn:aws:iam::123456789012:role/Old")),
            pod("c", "Running", Some(ROLE)),
        ]),
    )]);
    assert_eq!(
        lines(&found),
        vec![
            (
                Code::RunningPods,
                Level::Fail,
                "Running pods of StatefulSet camunda-identity have no AWS_ROLE_ARN: a. They predate the eks.amazonaws.com/role-arn annotation: restart the workload (kubectl rollout restart statefulset/camunda-identity -n camunda).".into()
            ),
            (
                Code::RunningPods,
                Level::Fail,
                format!("Running pods of StatefulSet camunda-identity carry another role than the annotated {ROLE}: b (AWS_ROLE_ARN=arn:aws:iam::123456789012:role/Old). They predate the annotation's change: restart the workload (kubectl rollout restart statefulset/camunda-identity -n camunda).")
            ),
        ]
    );
    let mut moved = pod("d", "Running", Some(ROLE));
    moved.spec.service_account = "default".into();
    let found = running(&[workload(
        WorkloadKind::Deployment,
        "camunda-identity",
        Ok(vec![moved]),
    )]);
    assert_eq!(
        found[0].message,
        "Running pods of Deployment camunda-identity run under another service account than identity-sa: d (service account default). They predate the change: restart the workload (kubectl rollout restart deployment/camunda-identity -n camunda)."
    );
}

#[test]
fn running_pods_edge_cases() {
    // No role: skipped.
    let found = judge_running_pods(Component::Identity, NS, "identity-sa", None, &[], &[], &[]);
    assert_eq!(found[0].level, Level::Skip);
    // No workload found.
    let found = running(&[]);
    assert_eq!(
        lines(&found),
        vec![(
            Code::RunningPods,
            Level::Warn,
            "No Deployment or StatefulSet named camunda-identity in namespace camunda: the running pods of identity are not checked.".into()
        )]
    );
    // Release name unknown.
    let found = judge_running_pods(
        Component::Identity,
        NS,
        "identity-sa",
        Some(ROLE),
        &[],
        &[],
        &[],
    );
    assert_eq!(found[0].level, Level::Info);
    assert!(found[0].message.contains("--release"));
    // Workloads could not be listed.
    let err = forbidden("list deployments", "deployments.apps is forbidden");
    let found = judge_running_pods(
        Component::Identity,
        NS,
        "identity-sa",
        Some(ROLE),
        &["camunda-identity".into()],
        &[],
        &[err],
    );
    assert_eq!(found[0].level, Level::Fail);
    assert_eq!(
        found[0].message,
        "Cannot find the workloads of identity: list deployments failed: Forbidden: deployments.apps is forbidden"
    );
    // Pods could not be listed; no running pod.
    let found = running(&[
        workload(
            WorkloadKind::Deployment,
            "camunda-identity",
            Err(ApiError::new(
                "list pods (app=x)",
                Some("InternalError".into()),
                "boom",
            )),
        ),
        workload(
            WorkloadKind::Deployment,
            "other",
            Ok(vec![pod("p", "Pending", None)]),
        ),
    ]);
    assert_eq!(
        lines(&found),
        vec![
            (
                Code::RunningPods,
                Level::Fail,
                "Cannot list the pods of Deployment camunda-identity: list pods (app=x) failed: InternalError: boom".into()
            ),
            (
                Code::RunningPods,
                Level::Info,
                "Deployment other has no running pod to check.".into()
            ),
        ]
    );
}

// ---- 113 ---------------------------------------------------------------------------

#[test]
fn static_keys_in_values_and_pods_are_named_never_shown() {
    let values = Values::new(
        json!({"identity": {"env": [
            {"name": "AWS_ACCESS_KEY_ID", "value": "AKIASECRETVALUE"},
            {"name": "AWS_SECRET_ACCESS_KEY", "value": ""},
        ]}}),
        json!({}),
    );
    let mut p = pod("a", "Running", Some(ROLE));
    p.spec.containers[0].env.push(EnvFact {
        name: "AWS_SECRET_ACCESS_KEY".into(),
        value: None,
        value_from: Some("secretKeyRef".into()),
    });
    let mut init = container("init", &[], &[]);
    init.init = true;
    init.env.push(EnvFact {
        name: "AWS_ACCESS_KEY_ID".into(),
        value: None,
        value_from: None,
    });
    p.spec.init_containers.push(init);
    let f = judge_static_credentials(
        Component::Identity,
        &values,
        &[workload(
            WorkloadKind::Deployment,
            "camunda-identity",
            Ok(vec![p]),
        )],
    );
    assert_eq!(
        (f.code, f.level),
        (Code::CredentialsNotShadowed, Level::Fail)
    );
    assert_eq!(
        f.message,
        "Static AWS credentials shadow the web identity of identity: identity.env sets AWS_ACCESS_KEY_ID; identity.env sets AWS_SECRET_ACCESS_KEY (empty); pod a container init sets AWS_ACCESS_KEY_ID; pod a container identity sets AWS_SECRET_ACCESS_KEY (from secretKeyRef). The AWS SDKs use them before the IRSA token, even when empty."
    );
    assert!(!f.message.contains("AKIASECRETVALUE"));
}

#[test]
fn static_keys_elsewhere_and_none() {
    let values = Values::new(
        json!({"webModeler": {"websockets": {"env": [
            {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
        ]}}, "identityKeycloak": {"extraEnvVars": [{"name": "AWS_ACCESS_KEY_ID", "value": "x"}]}}),
        json!({}),
    );
    let f = judge_static_credentials(Component::WebModeler, &values, &[]);
    assert_eq!(
        f.message,
        "Static AWS credentials shadow the web identity of webModeler: webModeler.websockets.env sets AWS_SECRET_ACCESS_KEY (from secretKeyRef). The AWS SDKs use them before the IRSA token, even when empty."
    );
    let f = judge_static_credentials(Component::IdentityKeycloak, &values, &[]);
    assert!(
        f.message
            .contains("identityKeycloak.extraEnvVars sets AWS_ACCESS_KEY_ID")
    );
    // No running pod: the template is judged.
    let mut w = workload(WorkloadKind::Deployment, "camunda-identity", Ok(vec![]));
    w.workload.template.containers[0].env.push(EnvFact {
        name: "AWS_ACCESS_KEY_ID".into(),
        value: None,
        value_from: None,
    });
    let f = judge_static_credentials(
        Component::Identity,
        &Values::new(json!({}), json!({})),
        &[w],
    );
    assert!(f.message.contains(
        "the pod template of Deployment camunda-identity container identity sets AWS_ACCESS_KEY_ID"
    ));
    let clean = judge_static_credentials(
        Component::Identity,
        &Values::new(
            json!({"identity": {"env": [{"name": "OTHER", "value": "1"}]}}),
            json!({}),
        ),
        &[workload(
            WorkloadKind::Deployment,
            "camunda-identity",
            Ok(vec![pod("a", "Running", Some(ROLE))]),
        )],
    );
    assert_eq!(clean.level, Level::Ok);
    assert_eq!(
        clean.message,
        "No static AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY in the values or the pods of identity."
    );
}

// ---- 114 ---------------------------------------------------------------------------

fn spec_with(
    fs_group: Option<i64>,
    pod_user: Option<i64>,
    users: &[(Option<i64>, Option<bool>)],
) -> PodSpecFact {
    PodSpecFact {
        fs_group,
        run_as_user: pod_user,
        containers: users
            .iter()
            .enumerate()
            .map(|(i, (u, nr))| ContainerFact {
                name: format!("c{i}"),
                run_as_user: *u,
                run_as_non_root: *nr,
                ..ContainerFact::default()
            })
            .collect(),
        ..PodSpecFact::default()
    }
}

#[test]
fn token_access_rules() {
    assert_eq!(
        token_access(&spec_with(
            Some(1001),
            None,
            &[(Some(5), None), (Some(6), None)]
        )),
        TokenAccess::Readable("fsGroup 1001".into())
    );
    assert_eq!(
        token_access(&spec_with(None, Some(0), &[(None, None), (None, None)])),
        TokenAccess::Readable("its containers run as root".into())
    );
    assert_eq!(
        token_access(&spec_with(
            None,
            Some(1001),
            &[(None, None), (Some(1001), None)]
        )),
        TokenAccess::Readable("every container runs as user 1001".into())
    );
    assert_eq!(
        token_access(&spec_with(None, None, &[(Some(1001), None), (Some(1002), None)])),
        TokenAccess::Unreadable("no fsGroup and no runAsUser that all its containers share (c0 as user 1001, c1 as user 1002)".into())
    );
    assert_eq!(
        token_access(&spec_with(None, None, &[(Some(0), None), (Some(1002), None)])),
        TokenAccess::Unreadable("no fsGroup and no runAsUser that all its containers share (c0 as user 0, c1 as user 1002)".into())
    );
    assert_eq!(
        token_access(&spec_with(None, None, &[(None, Some(true))])),
        TokenAccess::Unreadable("no fsGroup and no runAsUser that all its containers share (c0 as the image's non-root user)".into())
    );
    assert_eq!(
        token_access(&spec_with(None, None, &[(None, None), (Some(0), None)])),
        TokenAccess::Unknown(
            "no fsGroup, and its containers run c0 as the image's user, c1 as user 0".into()
        )
    );
    assert_eq!(
        token_access(&spec_with(None, None, &[])),
        TokenAccess::Unknown("the pod has no containers".into())
    );
}

#[test]
fn token_readable_findings() {
    let mut bad = pod("a", "Running", Some(ROLE));
    bad.spec = spec_with(None, None, &[(Some(1001), None), (Some(1002), None)]);
    let found = judge_token_readable(
        Component::Identity,
        Some(ROLE),
        &[
            workload(
                WorkloadKind::Deployment,
                "good",
                Ok(vec![pod("g", "Running", Some(ROLE))]),
            ),
            workload(WorkloadKind::Deployment, "bad", Ok(vec![bad])),
        ],
    );
    assert_eq!(
        lines(&found),
        vec![
            (Code::TokenReadable, Level::Ok, "The pods of Deployment good can read the projected token (fsGroup 1001).".into()),
            (Code::TokenReadable, Level::Fail, "The projected token is not readable by the containers of pod a of Deployment bad: no fsGroup and no runAsUser that all its containers share (c0 as user 1001, c1 as user 1002).".into()),
        ]
    );
    assert_eq!(
        found[1].hint.as_deref(),
        Some(
            "Set identity.podSecurityContext.fsGroup (for example to the containers' runAsUser) so the token file is group-readable."
        )
    );
    // No running pod: the template; unknown user: a warning.
    let mut w = workload(WorkloadKind::StatefulSet, "t", Ok(vec![]));
    w.workload.template = spec_with(None, None, &[(None, None)]);
    let found = judge_token_readable(Component::Identity, Some(ROLE), &[w]);
    assert_eq!(found[0].level, Level::Warn);
    assert_eq!(
        found[0].message,
        "Cannot tell whether the projected token is readable by the pod template of StatefulSet t: no fsGroup, and its containers run c0 as the image's user; it is, if the image runs as root."
    );
    assert_eq!(
        judge_token_readable(Component::Identity, None, &[])[0].level,
        Level::Skip
    );
    assert_eq!(
        judge_token_readable(Component::Identity, Some(ROLE), &[])[0].level,
        Level::Skip
    );
}

// ---- 130–134 -----------------------------------------------------------------------

fn result(outcome: ProbeOutcome) -> ProbeResult {
    ProbeResult {
        request: ProbeRequest {
            component: Some(Component::Identity),
            service_account: "identity-sa".into(),
            sts: true,
            tcp: vec![("db.example.com".into(), 5432)],
            imds: true,
        },
        job: "irsa-check-identity-x1y2z".into(),
        outcome,
    }
}

fn finished(log: &str) -> ProbeResult {
    result(ProbeOutcome::Finished(probe_log::parse(log)))
}

fn sts_log(body: &str, rc: i32) -> String {
    format!(
        "irsa-check-probe: sts begin\n{body}\nirsa-check-probe: sts end rc={rc}\nirsa-check-probe: done\n"
    )
}

fn identity(probe: &ProbeResult) -> Finding {
    judge_identity(
        Component::Identity,
        "identity-sa",
        Some(ROLE),
        true,
        Some(probe),
        &[],
    )
}

fn json_arn(arn: &str) -> String {
    format!(
        "{{\n    \"UserId\": \"AROA:s\",\n    \"Account\": \"123456789012\",\n    \"Arn\": \"{arn}\"\n}}"
    )
}

#[test]
fn identity_matches_the_annotated_role() {
    let f = identity(&finished(&sts_log(
        &json_arn("arn:aws:sts::123456789012:assumed-role/AuroraRole-Identity/botocore-session-1"),
        0,
    )));
    assert_eq!((f.code, f.level), (Code::IdentityProbeRole, Level::Ok));
    assert_eq!(
        f.message,
        format!(
            "A pod under service account identity-sa runs as arn:aws:sts::123456789012:assumed-role/AuroraRole-Identity/botocore-session-1: the annotated role {ROLE}."
        )
    );
    // A role path is not part of the session ARN.
    let f = judge_identity(
        Component::Identity,
        "identity-sa",
        Some("arn:aws-cn:iam::123456789012:role/team/AuroraRole-Identity"),
        true,
        Some(&finished(&sts_log(
            &json_arn("arn:aws-cn:sts::123456789012:assumed-role/AuroraRole-Identity/s"),
            0,
        ))),
        &[],
    );
    assert_eq!(f.level, Level::Ok);
    // Same name, other partition or account: not the role.
    for arn in [
        "arn:aws-cn:sts::123456789012:assumed-role/AuroraRole-Identity/s",
        "arn:aws:sts::210987654321:assumed-role/AuroraRole-Identity/s",
        "arn:aws:sts::123456789012:assumed-role/Other/s",
    ] {
        let f = identity(&finished(&sts_log(&json_arn(arn), 0)));
        assert_eq!(f.level, Level::Fail, "{arn}");
        assert_eq!(
            f.message,
            format!(
                "A pod under service account identity-sa runs as {arn}, not the annotated role {ROLE}."
            )
        );
    }
}

#[test]
fn the_node_role_means_irsa_fell_back_to_the_instance_profile() {
    let arn = "arn:aws:sts::123456789012:assumed-role/camunda-prod-node-role/i-0a1b2c3d4e5f60718";
    let f = identity(&finished(&sts_log(&json_arn(arn), 0)));
    assert_eq!((f.code, f.level), (Code::IdentityProbeRole, Level::Fail));
    assert_eq!(
        f.message,
        format!(
            "A pod under service account identity-sa runs as the node role camunda-prod-node-role ({arn}), not {ROLE}: IRSA is not in effect and the pod fell back to the instance profile."
        )
    );
    // Known node role names count too, whatever the session.
    let arn = "arn:aws:sts::123456789012:assumed-role/ng-role/session";
    let f = judge_identity(
        Component::Identity,
        "identity-sa",
        Some(ROLE),
        true,
        Some(&finished(&sts_log(&json_arn(arn), 0))),
        &["ng-role".to_string()],
    );
    assert!(f.message.contains("fell back to the instance profile"));
    // A user, not an assumed role.
    let arn = "arn:aws:iam::123456789012:user/ci";
    let f = identity(&finished(&sts_log(&json_arn(arn), 0)));
    assert_eq!(f.level, Level::Fail);
    assert!(f.message.contains("which is not an assumed role"));
}

#[test]
fn cli_errors_are_explained() {
    let denied = "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity";
    for body in [
        format!("\n{denied}"),
        format!("\naws: [ERROR]: {denied}\n\nAdditional error details:\nType: Sender"),
    ] {
        let f = identity(&finished(&sts_log(&body, 254)));
        assert_eq!((f.code, f.level), (Code::IdentityProbeJson, Level::Fail));
        assert_eq!(
            f.message,
            format!(
                "aws sts get-caller-identity under service account identity-sa failed: {denied} (the role's trust policy rejects this service account's token)."
            )
        );
    }
    for (line, why) in [
        (
            "Unable to locate credentials. You can configure credentials by running \"aws configure\".",
            " (the pod has no credentials at all: no web identity was injected and IMDS is not reachable)",
        ),
        (
            "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: No OpenIDConnect provider found in your account for https://oidc.eks.eu-west-1.amazonaws.com/id/X",
            " (STS does not accept the token: the cluster's IAM OIDC provider is missing or does not match its issuer)",
        ),
        (
            "An error occurred (IDPRejectedClaim) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience",
            " (STS rejects the token's claims: check the OIDC provider's audience (client IDs))",
        ),
        (
            "An error occurred (ExpiredTokenException) when calling the AssumeRoleWithWebIdentity operation: Token expired",
            " (the projected token has expired)",
        ),
        (
            "An error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: Request ARN is invalid",
            " (the annotated role ARN is not valid)",
        ),
        (
            "An error occurred (Throttling) when calling the GetCallerIdentity operation: Rate exceeded",
            "",
        ),
        ("bash: aws: command not found", ""),
    ] {
        let f = identity(&finished(&sts_log(&format!("\n{line}"), 254)));
        assert_eq!(
            f.message,
            format!(
                "aws sts get-caller-identity under service account identity-sa failed: {line}{why}."
            )
        );
    }
}

#[test]
fn identity_probe_failures_by_code() {
    let f = identity(&result(ProbeOutcome::NotCreated(forbidden(
        "create jobs",
        "jobs.batch is forbidden: User \"u\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"camunda\"",
    ))));
    assert_eq!((f.code, f.level), (Code::IdentityProbeCreated, Level::Fail));
    assert!(f.message.starts_with("Cannot create the identity probe job irsa-check-identity-x1y2z of identity: create jobs failed: Forbidden: jobs.batch is forbidden"));
    assert!(f.hint.unwrap().contains("-s"));
    let f = identity(&result(ProbeOutcome::NotCreated(forbidden(
        "create jobs",
        "jobs.batch \"x\" is forbidden: exceeded quota: q",
    ))));
    assert_eq!(f.hint, None);
    let f = identity(&result(ProbeOutcome::NotFinished(
        "it did not finish within 5 s; pod p is Running".into(),
    )));
    assert_eq!(
        (f.code, f.level, f.message.as_str()),
        (
            Code::IdentityProbeFinished,
            Level::Fail,
            "The identity probe job irsa-check-identity-x1y2z of identity did not finish: it did not finish within 5 s; pod p is Running."
        )
    );
    let f = identity(&result(ProbeOutcome::LogUnreadable(ApiError::new(
        "get pods/log p",
        Some("InternalError".into()),
        "x",
    ))));
    assert_eq!(f.code, Code::IdentityProbeFinished);
    // Garbage: no sts block at all.
    let f = identity(&finished("exec /bin/bash: exec format error\n"));
    assert_eq!(
        (f.code, f.message.as_str()),
        (
            Code::IdentityProbeJson,
            "The identity probe job irsa-check-identity-x1y2z of identity printed no caller identity; its log starts with: exec /bin/bash: exec format error."
        )
    );
    let f = identity(&finished(""));
    assert!(
        f.message
            .ends_with("printed no caller identity; its log is empty.")
    );
    // Truncated inside the block, and an empty block.
    let f = identity(&finished("irsa-check-probe: sts begin\n"));
    assert_eq!(
        f.message,
        "aws sts get-caller-identity in the identity probe of identity gave no identity: its output was cut short."
    );
    let f = identity(&finished(
        "irsa-check-probe: sts begin\nirsa-check-probe: sts end rc=0\n",
    ));
    assert!(f.message.ends_with("it printed nothing."));
    // JSON without Arn.
    let f = identity(&finished(&sts_log("{\"UserId\": \"x\"}", 0)));
    assert_eq!((f.code, f.level), (Code::IdentityProbeArn, Level::Fail));
    // Not run.
    assert_eq!(
        judge_identity(
            Component::Identity,
            "identity-sa",
            Some(ROLE),
            false,
            None,
            &[]
        )
        .level,
        Level::Skip
    );
    assert_eq!(
        judge_identity(Component::Identity, "identity-sa", None, true, None, &[]).level,
        Level::Skip
    );
    assert_eq!(
        judge_identity(
            Component::Identity,
            "identity-sa",
            Some(ROLE),
            true,
            None,
            &[]
        )
        .level,
        Level::Skip
    );
}

#[test]
fn assumed_role_arns_parse() {
    assert_eq!(
        parse_assumed_role("arn:aws:sts::123456789012:assumed-role/R/s/extra"),
        Some(AssumedRole {
            partition: "aws".into(),
            account: "123456789012".into(),
            role: "R".into(),
            session: "s/extra".into()
        })
    );
    assert_eq!(parse_assumed_role("arn:aws:sts::1:assumed-role/R"), None);
    assert_eq!(parse_assumed_role("arn:aws:iam::1:role/R"), None);
    assert_eq!(parse_assumed_role("nonsense"), None);
    assert!(is_instance_id("i-0a1b2c3d4e5f60718"));
    assert!(is_instance_id("i-12345678"));
    assert!(!is_instance_id("i-xyz12345"));
    assert!(!is_instance_id("botocore-session-1"));
}

// ---- 41–43, 170 --------------------------------------------------------------------

fn reach(probes: &[ProbeResult], component: Option<Component>) -> Vec<Finding> {
    judge_reach("db.example.com", 5432, component, NS, true, probes)
}

#[test]
fn reach_verdicts() {
    let open = finished("irsa-check-probe: tcp db.example.com 5432 open\nirsa-check-probe: done\n");
    assert_eq!(
        lines(&reach(
            std::slice::from_ref(&open),
            Some(Component::Identity)
        )),
        vec![(
            Code::ReachPortOpen,
            Level::Ok,
            "Port 5432 of db.example.com is reachable from namespace camunda (probe of identity)."
                .into()
        )]
    );
    let closed = finished("irsa-check-probe: tcp db.example.com 5432 closed\n");
    let f = &reach(&[closed], Some(Component::Identity))[0];
    assert_eq!(
        (f.code, f.level, f.message.as_str()),
        (
            Code::ReachPortOpen,
            Level::Fail,
            "Port 5432 of db.example.com is not reachable from namespace camunda (probe of identity)."
        )
    );
    assert!(f.hint.as_deref().unwrap().contains("security groups"));
    let silent = finished("irsa-check-probe: tcp other 1 open\n");
    let f = &reach(&[silent], None)[0];
    assert_eq!(
        (f.code, f.message.as_str()),
        (
            Code::ReachProbeFinished,
            "The reachability probe job irsa-check-identity-x1y2z reported nothing for db.example.com:5432; its log starts with: irsa-check-probe: tcp other 1 open."
        )
    );
    assert_eq!(f.component, None);
    let f = &reach(
        &[result(ProbeOutcome::NotCreated(forbidden(
            "create jobs",
            "quota",
        )))],
        None,
    )[0];
    assert_eq!(
        (f.code, f.message.as_str()),
        (
            Code::ReachProbeCreated,
            "Cannot create the reachability probe job irsa-check-identity-x1y2z for db.example.com:5432: create jobs failed: Forbidden: quota"
        )
    );
    let f = &reach(
        &[result(ProbeOutcome::NotFinished(
            "it failed: BackoffLimitExceeded".into(),
        ))],
        None,
    )[0];
    assert_eq!(
        (f.code, f.message.as_str()),
        (
            Code::ReachProbeFinished,
            "The reachability probe job irsa-check-identity-x1y2z for db.example.com:5432 did not finish: it failed: BackoffLimitExceeded."
        )
    );
    let f = &reach(
        &[result(ProbeOutcome::LogUnreadable(ApiError::new(
            "get pods/log",
            None,
            "x",
        )))],
        None,
    )[0];
    assert_eq!(f.code, Code::ReachProbeFinished);
}

#[test]
fn reach_picks_the_component_s_own_probe() {
    let mut other = finished("irsa-check-probe: tcp db.example.com 5432 closed\n");
    other.request.component = Some(Component::WebModeler);
    let own = finished("irsa-check-probe: tcp db.example.com 5432 open\n");
    let found = reach(&[other.clone(), own.clone()], Some(Component::Identity));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].level, Level::Ok);
    // Without a component, every probe that tried the target speaks.
    let found = reach(&[other.clone(), own], None);
    assert_eq!(found.len(), 2);
    // A component without its own probe: the others' results.
    let found = reach(&[other], Some(Component::Identity));
    assert_eq!(found[0].level, Level::Fail);
    // Nobody tried it; -s.
    assert_eq!(reach(&[], None)[0].level, Level::Skip);
    let f = &judge_reach("h", 1, None, NS, false, &[])[0];
    assert_eq!((f.code, f.level), (Code::ReachProbeCreated, Level::Skip));
}

#[test]
fn imds_verdicts() {
    let token = finished("irsa-check-probe: imds token\n");
    let no_token = finished("irsa-check-probe: imds no-token\n");
    let f = judge_imds(NS, true, &[no_token.clone(), token]);
    assert_eq!((f.code, f.level), (Code::ImdsReachable, Level::Warn));
    assert_eq!(
        f.message,
        "Pods in namespace camunda can get an IMDSv2 token from 169.254.169.254 (probe job irsa-check-identity-x1y2z): when IRSA fails, the AWS SDKs silently fall back to the node role, which hides the failure."
    );
    let f = judge_imds(NS, true, &[no_token]);
    assert_eq!(f.level, Level::Ok);
    let f = judge_imds(NS, true, &[finished("garbage\n")]);
    assert_eq!(f.level, Level::Skip);
    assert_eq!(judge_imds(NS, false, &[]).level, Level::Skip);
}
