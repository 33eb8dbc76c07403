//! Issue 3 end to end: the binary against the fake Kubernetes API server's healthy world
//! and moto seeded with the matching AWS world, reached through the recording proxy (the
//! kubeconfig's `aws eks get-token` exec plugin names the region and cluster). Each
//! scenario changes ONE thing and asserts the exact line, its stream and the exit status.
//!
//! Every scenario forks an empty moto from the test process's warm zygote and seeds it
//! (about 0.1 s); the zygote (about 2 s) is shared by all tests of the process.
//! Run: `cargo test --test e2e aws_`.

use crate::support::aws_proxy::Fault;
use crate::support::aws_world::{self, DomainShape};
use crate::support::fake_kube::DEFAULT_TOKEN;
use crate::support::harness::{Run, Scenario};
use crate::support::spec::{
    self, ACCOUNT, AURORA_CLUSTER, CLUSTER_NAME, Gen, IDENTITY, KEYCLOAK, NAMESPACE,
    OPENSEARCH_DOMAIN, OPENSEARCH_ROLE, REGION, WEB_MODELER,
};
use serde_json::{Value, json};

const ARGS: &[&str] = &["-n", NAMESPACE, "-s"];

fn run(scenario: Scenario) -> Run {
    scenario.start().run(ARGS)
}

fn run_with(scenario: Scenario, extra: &[&str]) -> Run {
    let mut args = ARGS.to_vec();
    args.extend_from_slice(extra);
    scenario.start().run(&args)
}

/// A kubeconfig with a plain token: no exec plugin naming the region or cluster, so the
/// cluster is found by its endpoint.
fn token_auth(scenario: Scenario) -> Scenario {
    scenario.kube(|c| c.token(DEFAULT_TOKEN))
}

fn arn(role: &str) -> String {
    spec::role_arn(role)
}

fn keycloak_arn() -> String {
    arn(KEYCLOAK.role)
}

fn os_arn() -> String {
    arn(OPENSEARCH_ROLE)
}

fn domain_paths() -> String {
    format!("{}/*", aws_world::domain_arn())
}

/// The reference trust statement for the Keycloak role, with `edit` applied.
fn keycloak_trust(edit: impl FnOnce(&mut Value)) -> Value {
    let mut trust = aws_world::trust_policy(&[spec::subject(KEYCLOAK.service_account)]);
    edit(&mut trust["Statement"][0]);
    trust
}

fn sub_key() -> String {
    format!("{}:sub", spec::issuer_host_path())
}

fn with_trust(trust: Value) -> Scenario {
    Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| world.replace_trust_policy(KEYCLOAK.role, &trust))
}

fn policy(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

// ---------------------------------------------------------------- healthy worlds

#[test]
fn aws_healthy_8_8_passes() {
    let out = run(Scenario::healthy(Gen::V8_8));
    out.passes()
        .stdout_line(&format!("[OK] Matching EKS cluster found: {CLUSTER_NAME} with control plane URL: {}.", out_url(&out)))
        .stdout_line(&format!("[OK] OIDC is enabled on EKS cluster {CLUSTER_NAME} with issuer: {}", spec::issuer()))
        .stdout_line(&format!("[OK] IAM OIDC identity provider is enabled for EKS cluster {CLUSTER_NAME}: {}", spec::oidc_provider_arn()))
        .stdout_line(&format!("[OK] OpenSearch domain {OPENSEARCH_DOMAIN} exists ({}).", aws_world::domain_arn()))
        .stdout_line(&format!("[OK] (component=identity) Aurora cluster {AURORA_CLUSTER} found."))
        .stdout_line(&format!("[OK] (component=optimize) The access policy of domain {OPENSEARCH_DOMAIN} allows role {} es:ESHttpGet on {} (Statement[0] of the access policy of domain {OPENSEARCH_DOMAIN})", os_arn(), domain_paths()))
        .stdout_line(&format!("[OK] (component=identityKeycloak) IAM role {} exists (serviceAccount=keycloak-sa).", keycloak_arn()))
        .stdout_line(&format!("[OK] (component=orchestration) Role {} admits system:serviceaccount:camunda:zeebe-sa (Statement[0])", os_arn()))
        .stdout_line(&format!("[OK] Node role {} grants no rds-db:connect or es:ESHttp* on the components' resources", arn(spec::NODE_ROLE)))
        .stdout_line(&format!("[OK] The AWS credentials are for account {ACCOUNT}, the account of EKS cluster {CLUSTER_NAME}."));
    assert!(out.stdout.contains(&format!(
        "[OK] (component=webModeler) Role {} may rds-db:connect on arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-",
        arn(WEB_MODELER.role)
    )));
}

/// The control plane URL as the run printed it (the fake's port is random).
fn out_url(out: &Run) -> String {
    let line = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("[OK] Control plane URL: "))
        .expect("a control plane URL line");
    line.trim_end_matches('/').to_string()
}

#[test]
fn aws_healthy_8_7_passes() {
    run(Scenario::healthy(Gen::V8_7))
        .passes()
        .stdout_line(&format!("[OK] (component=tasklist) Role {} admits system:serviceaccount:camunda:tasklist-sa (Statement[0])", os_arn()))
        .stdout_line(&format!("[OK] (component=zeebe) Role {} may es:ESHttpGet on {} (Statement[0] of policy arn:aws:iam::{ACCOUNT}:policy/{OPENSEARCH_ROLE}-access-policy)", os_arn(), domain_paths()));
}

#[test]
fn aws_cluster_found_by_endpoint_without_exec_hints() {
    // No exec plugin: the region comes from the AWS configuration and the cluster is the
    // one whose endpoint is the server URL.
    run(token_auth(Scenario::healthy(Gen::V8_8)))
        .passes()
        .stdout_line(&format!(
            "[OK] Found EKS clusters in region {REGION}: {CLUSTER_NAME}"
        ));
}

#[test]
fn aws_each_role_and_managed_policy_is_read_once() {
    let running = Scenario::healthy(Gen::V8_7).start();
    running.run(ARGS).passes();
    let proxy = running.proxy.as_ref().unwrap();
    // Four OpenSearch components share one role and its policy.
    assert_eq!(proxy.count("iam:GetRole", OPENSEARCH_ROLE), 1);
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/{OPENSEARCH_ROLE}-access-policy");
    assert_eq!(proxy.count("iam:GetPolicy", &policy), 1);
    assert_eq!(proxy.count("iam:GetPolicyVersion", &policy), 1);
    // Three database components share one cluster.
    assert_eq!(proxy.count("rds:DescribeDBClusters", AURORA_CLUSTER), 1);
    let calls = proxy.calls();
    assert_eq!(
        calls.iter().filter(|c| *c == "iam:GetRole").count(),
        5,
        "{calls:?}"
    );
}

// ---------------------------------------------------------------- 1: credentials

#[test]
fn aws_1_invalid_credentials_are_fatal() {
    let out = run(Scenario::healthy(Gen::V8_8).proxy(|p| {
        p.inject(Fault::error(
            "sts:GetCallerIdentity",
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ))
    }));
    out.exits(1).stderr_line("[FAIL] AWS credentials are missing or invalid: sts:GetCallerIdentity failed: InvalidClientTokenId: The security token included in the request is invalid. Hint: Configure credentials (aws configure, AWS_PROFILE or --profile, SSO login) for the cluster's account.");
    assert!(
        !out.stdout.contains("Control plane URL"),
        "fatal: nothing after it"
    );
}

// ---------------------------------------------------------------- 2: EKS and OIDC

#[test]
fn aws_31_no_region_anywhere() {
    let running = token_auth(Scenario::healthy(Gen::V8_8)).start();
    let output = running
        .command()
        .env_remove("AWS_REGION")
        .args(ARGS)
        .output()
        .unwrap();
    let out = Run::from(output);
    out.exits(31)
        .stderr_line("[FAIL] No AWS region to look for the EKS cluster in: --region is not given, the kubeconfig's exec plugin names none, the API server host is not *.REGION.eks.amazonaws.com, and the AWS configuration sets no region. Hint: Pass --region with the EKS cluster's region.")
        .stdout_line("[INFO] Skipped: EKS cluster match: no AWS region is known.")
        .stdout_line("[INFO] (component=identity) Skipped: the trust policy admits this namespace and service account: no AWS region is known.");
}

#[test]
fn aws_31_no_clusters_in_the_region() {
    run_with(token_auth(Scenario::healthy(Gen::V8_8)), &["--region", "us-east-1"])
        .exits(31)
        .stderr_line("[FAIL] No EKS clusters found in region us-east-1. Hint: Check the region (--region) and that the credentials are for the cluster's account.")
        .stdout_line("[INFO] Skipped: EKS cluster match: region us-east-1 has no EKS clusters.")
        .stdout_line("[INFO] Skipped: the EKS cluster has an OIDC issuer: region us-east-1 has no EKS clusters.");
}

#[test]
fn aws_32_no_cluster_has_the_server_url() {
    let out = run(token_auth(Scenario::healthy(Gen::V8_8)).aws(|world, _| {
        world.recreate_cluster(
            spec::K8S_VERSION,
            spec::OIDC_ID,
            "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        )
    }));
    let url = format!("http://127.0.0.1:{}/", running_port(&out));
    out.exits(32)
        .stderr_line(&format!("[FAIL] No matching EKS cluster found in region {REGION} for control plane URL: {url} ({CLUSTER_NAME} has https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com). Hint: Pass --cluster-name (and --region) to name the EKS cluster of this kube context."))
        .stdout_line(&format!("[INFO] Skipped: the EKS cluster has an OIDC issuer: no EKS cluster of region {REGION} has the control plane URL {url}."))
        .stdout_line(&format!("[INFO] (component=identityKeycloak) Skipped: the trust policy names this cluster's OIDC provider: no EKS cluster of region {REGION} has the control plane URL {url}."))
        .stdout_line(&format!("[INFO] Skipped: the node role itself grants no database or OpenSearch access: no EKS cluster of region {REGION} has the control plane URL {url}."));
}

/// The port of the fake API server, read from the run's control plane URL line.
fn running_port(out: &Run) -> String {
    out_url(out)
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn aws_32_named_cluster_with_another_endpoint_warns() {
    let out = run(Scenario::healthy(Gen::V8_8).aws(|world, _| {
        world.recreate_cluster(
            spec::K8S_VERSION,
            spec::OIDC_ID,
            "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        )
    }));
    let url = format!("http://127.0.0.1:{}/", running_port(&out));
    out.exits(0).stderr_line(&format!("[WARN] EKS cluster {CLUSTER_NAME} (named by --cluster-name or the kubeconfig) has the endpoint https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com, not the kube context's control plane URL {url}: checking {CLUSTER_NAME} anyway. Hint: Make sure the kube context and the cluster name are about the same cluster."));
}

#[test]
fn aws_32_cluster_name_that_does_not_exist() {
    run_with(Scenario::healthy(Gen::V8_8), &["--cluster-name", "camunda-staging"])
        .exits(32)
        .stderr_line(&format!("[FAIL] EKS cluster camunda-staging (named by --cluster-name or the kubeconfig) does not exist in region {REGION}. Hint: Check --cluster-name and --region."))
        .stdout_line(&format!("[INFO] Skipped: the EKS cluster has an OIDC issuer: EKS cluster camunda-staging does not exist in region {REGION}."));
}

#[test]
fn aws_33_cluster_without_issuer() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| {
        let endpoint = world_endpoint(world);
        world.recreate_cluster(spec::K8S_VERSION, "", &endpoint)
    }))
    .exits(33)
    .stderr_line(&format!("[FAIL] OIDC is not enabled on EKS cluster {CLUSTER_NAME}: it has no identity.oidc.issuer. Ensure OIDC is configured for the cluster."))
    .stdout_line(&format!("[INFO] Skipped: IAM OIDC provider: EKS cluster {CLUSTER_NAME} has no OIDC issuer."))
    .stdout_line(&format!("[INFO] (component=optimize) Skipped: the trust policy admits the token's audience: EKS cluster {CLUSTER_NAME} has no OIDC issuer."));
}

/// The cluster's endpoint as seeded (the fake API server's URL).
fn world_endpoint(world: &aws_world::AwsWorld) -> String {
    let eks = world.eks();
    crate::support::moto::block_on(async move {
        eks.describe_cluster()
            .name(CLUSTER_NAME)
            .send()
            .await
            .unwrap()
            .cluster()
            .and_then(|c| c.endpoint())
            .unwrap()
            .to_string()
    })
}

#[test]
fn aws_34_kubernetes_too_old() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| {
        let endpoint = world_endpoint(world);
        world.recreate_cluster("1.22", spec::OIDC_ID, &endpoint)
    }))
    .exits(34)
    .stderr_line(&format!("[FAIL] Kubernetes version 1.22 on EKS cluster {CLUSTER_NAME} is below the minimum required version 1.23 for IAM role integration (https://docs.aws.amazon.com/eks/latest/userguide/configure-sts-endpoint.html)."));
}

#[test]
fn aws_35_no_iam_oidc_provider() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.delete_oidc_provider()))
        .exits(35)
        .stderr_line(&format!("[FAIL] IAM OIDC identity provider is not enabled for EKS cluster {CLUSTER_NAME}: IAM has no OpenID Connect provider {}. Please enable it for IRSA support. Hint: eksctl utils associate-iam-oidc-provider --cluster {CLUSTER_NAME} --approve (or the Terraform/CloudFormation resource that creates it)", spec::oidc_provider_arn()))
        .stdout_line("[INFO] Skipped: provider audience: the IAM OIDC provider does not exist.");
}

#[test]
fn aws_36_provider_without_the_sts_audience() {
    run(Scenario::healthy(Gen::V8_8)
        .aws(|world, _| world.replace_oidc_provider(&["sts.amazon.com"])))
    .exits(36)
    .stderr_line(&format!("[FAIL] IAM OIDC provider {arn} does not list sts.amazonaws.com among its client IDs (it has sts.amazon.com): STS refuses the service account tokens, whose audience is sts.amazonaws.com. Hint: aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn {arn} --client-id sts.amazonaws.com", arn = spec::oidc_provider_arn()));
}

// ---------------------------------------------------------------- 4: OpenSearch

#[test]
fn aws_62_custom_endpoint_of_no_domain() {
    let host = "opensearch.camunda.example.com";
    run(Scenario::healthy(Gen::V8_8).set("global.opensearch.url.host", json!(host)))
        .exits(62)
        .stderr_line(&format!("[FAIL] Unable to tell which OpenSearch domain {host} is: it is not a vpc-/search- endpoint of Amazon OpenSearch Service, and no OpenSearch domain in region {REGION} has the endpoint {host} (neither as its endpoint nor as its custom endpoint). Hint: Use the domain's own endpoint (vpc-NAME-HASH.REGION.es.amazonaws.com), or set the domain's custom endpoint to this host."))
        .stdout_line(&format!("[INFO] Skipped: the OpenSearch domain exists: the OpenSearch domain of {host} is not known (see 62)."))
        .stdout_line(&format!("[INFO] (component=optimize) Skipped: the domain access policy allows each component's role: the OpenSearch domain of {host} is not known (see 62)."))
        .stdout_line(&format!("[INFO] (component=orchestration) Skipped: the OpenSearch permission covers this domain: the OpenSearch domain of {host} is not known (see 62 and 63)."));
}

#[test]
fn aws_62_custom_endpoint_of_a_domain_is_found() {
    let host = "opensearch.camunda.example.com";
    run(Scenario::healthy(Gen::V8_8)
        .set("global.opensearch.url.host", json!(host))
        .aws(move |world, _| {
            use aws_sdk_opensearch::types::DomainEndpointOptions;
            let opensearch = world.opensearch();
            crate::support::moto::block_on(async move {
                opensearch
                    .update_domain_config()
                    .domain_name(OPENSEARCH_DOMAIN)
                    .domain_endpoint_options(
                        DomainEndpointOptions::builder()
                            .enforce_https(true)
                            .custom_endpoint_enabled(true)
                            .custom_endpoint(host)
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
            });
        }))
    .passes()
    .stdout_line(&format!(
        "[OK] OpenSearch domain {OPENSEARCH_DOMAIN} exists ({}).",
        aws_world::domain_arn()
    ));
}

#[test]
fn aws_63_domain_does_not_exist() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.delete_domain()))
        .exits(63)
        .stderr_line(&format!("[FAIL] Unable to retrieve OpenSearch domain information for {OPENSEARCH_DOMAIN} in region {REGION}: the domain does not exist."))
        .stdout_line("[INFO] Skipped: fine-grained access control is enabled on the domain: the OpenSearch domain was not found.");
}

fn with_domain(edit: impl FnOnce(&mut DomainShape) + 'static) -> Scenario {
    Scenario::healthy(Gen::V8_8).aws(move |world, _| {
        let mut shape = DomainShape::healthy(Gen::V8_8);
        edit(&mut shape);
        world.recreate_domain(&shape);
    })
}

#[test]
fn aws_64_no_fine_grained_access_control() {
    run(with_domain(|d| d.fine_grained_access_control = false))
        .exits(64)
        .stderr_line(&format!("[FAIL] Advanced security (fine-grained access control) is not enabled on OpenSearch domain {OPENSEARCH_DOMAIN}. Hint: Enable fine-grained access control and map the IRSA roles to OpenSearch roles (backend_roles)."));
}

#[test]
fn aws_65_https_not_enforced() {
    run(with_domain(|d| d.enforce_https = false))
        .exits(65)
        .stderr_line(&format!(
            "[FAIL] HTTPS is not enforced on OpenSearch domain {OPENSEARCH_DOMAIN}."
        ));
}

#[test]
fn aws_66_no_access_policy() {
    run(with_domain(|d| d.access_policy = None))
        .exits(66)
        .stderr_line(&format!("[FAIL] OpenSearch domain {OPENSEARCH_DOMAIN} has no access policy."))
        .stdout_line(&format!("[INFO] Skipped: access policy: OpenSearch domain {OPENSEARCH_DOMAIN} has none."))
        .stdout_line("[INFO] (component=orchestration) Skipped: the domain access policy allows each component's role: the domain has no access policy.");
}

#[test]
fn aws_67_access_policy_without_allow() {
    let deny = policy(
        json!([{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": domain_paths()}]),
    );
    run(with_domain(move |d| d.access_policy = Some(deny)))
        .exits(67)
        .stderr_line(&format!("[FAIL] The access policy of OpenSearch domain {OPENSEARCH_DOMAIN} has no Allow statement"))
        .stdout_line(&format!("[INFO] (component=optimize) Skipped: the access policy of domain {OPENSEARCH_DOMAIN} allows nothing"));
}

#[test]
fn aws_68_access_policy_denies_the_role() {
    let denying = policy(json!([
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "es:*", "Resource": domain_paths()},
        {"Sid": "NoCamunda", "Effect": "Deny", "Principal": {"AWS": os_arn()}, "Action": "es:*", "Resource": domain_paths()}
    ]));
    run(with_domain(move |d| d.access_policy = Some(denying)))
        .exits(68)
        .stderr_line(&format!("[FAIL] (component=orchestration) The access policy of domain {OPENSEARCH_DOMAIN} denies role {} es:ESHttpGet on {}: Statement[1] (Sid \"NoCamunda\") of the access policy of domain {OPENSEARCH_DOMAIN}", os_arn(), domain_paths()))
        .stderr_has("[FAIL] (component=optimize) The access policy of domain camunda-os denies role", &[]);
}

#[test]
fn aws_68_role_allowed_by_its_own_policy_alone_passes() {
    // The domain policy names only another principal; within one account the role's own
    // identity policy is enough (no false alarm).
    let other = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": arn("SomeAdmin")}, "Action": "es:*", "Resource": domain_paths()}]),
    );
    run(with_domain(move |d| d.access_policy = Some(other)))
        .passes()
        .stdout_line(&format!("[OK] (component=orchestration) The access policy of domain {OPENSEARCH_DOMAIN} does not name role {}, but the role's own policies allow es:ESHttpGet on {} (Statement[0] of policy arn:aws:iam::{ACCOUNT}:policy/{OPENSEARCH_ROLE}-access-policy): within one account that is enough", os_arn(), domain_paths()));
}

#[test]
fn aws_68_neither_the_domain_nor_the_role_allows() {
    let other = policy(
        json!([{"Effect": "Allow", "Principal": {"AWS": arn("SomeAdmin")}, "Action": "es:*", "Resource": domain_paths()}]),
    );
    let out = run(with_domain(move |d| d.access_policy = Some(other))
        .aws(|world, _| world.detach_access_policy(OPENSEARCH_ROLE)));
    // 152 (no grant) comes later in the catalogue: it is the exit status.
    out.exits(152)
        .stderr_line(&format!("[FAIL] (component=optimize) The access policy of domain {OPENSEARCH_DOMAIN} does not allow role {} es:ESHttpGet on {} (its Allow statements name AWS: {}), nor do the role's own policies (no statement grants it) Hint: add the role ARN to an Allow statement's AWS principals, or do as Camunda's reference: Principal {{\"AWS\":\"*\"}}, Action es:*, Resource {} with fine-grained access control mapping the role", os_arn(), domain_paths(), arn("SomeAdmin"), domain_paths()));
}

// ---------------------------------------------------------------- 5: Aurora

#[test]
fn aws_74_aurora_cluster_does_not_exist() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.delete_aurora()))
        .exits(74)
        .stderr_line(&format!("[FAIL] (component=identity) No matching cluster found for the specified identifier '{AURORA_CLUSTER}' in region {REGION}."))
        .stderr_line(&format!("[FAIL] (component=webModeler) No matching cluster found for the specified identifier '{AURORA_CLUSTER}' in region {REGION}."))
        .stdout_line("[INFO] (component=identity) Skipped: IAM authentication: the Aurora cluster was not found.")
        // The reference grant (dbuser:*/user) covers any cluster: 143 still passes, saying so.
        .stdout_has(&format!("[OK] (component=identity) Role {} may rds-db:connect on arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:*/identity_irsa (the cluster's resource id is unknown; the grant covers any)", arn(IDENTITY.role)), &[]);
}

#[test]
fn aws_75_iam_auth_disabled() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.set_aurora_iam_auth(false)))
        .exits(75)
        .stderr_line(&format!("[FAIL] (component=identityKeycloak) IAM Database Authentication is not enabled on Aurora DB cluster {AURORA_CLUSTER}. Hint: Enable it (EnableIAMDatabaseAuthentication) and GRANT rds_iam to the database user."));
}

#[test]
fn aws_76_aurora_stopped() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.stop_aurora()))
        .exits(76)
        .stderr_has(&format!("[FAIL] (component=webModeler) Aurora DB cluster {AURORA_CLUSTER} is not available (status: stopped)"), &[]);
}

#[test]
fn aws_instance_endpoint_leads_to_its_cluster() {
    // Keycloak connects to one DB instance of the cluster: the cluster is found from it.
    let host = "camunda-aurora-1.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com";
    run(Scenario::healthy(Gen::V8_8)
        .set("identityKeycloak.externalDatabase.host", json!(host))
        .aws(|world, _| {
            let rds = world.rds();
            crate::support::moto::block_on(async move {
                rds.create_db_instance()
                    .db_instance_identifier("camunda-aurora-1")
                    .db_cluster_identifier(AURORA_CLUSTER)
                    .engine("aurora-postgresql")
                    .db_instance_class("db.r6g.large")
                    .send()
                    .await
                    .unwrap();
            });
        }))
    .passes()
    .stdout_line("[INFO] (component=identityKeycloak) Parsed Aurora DB instance camunda-aurora-1 in region eu-west-1.")
    .stdout_line(&format!("[OK] (component=identityKeycloak) Aurora cluster {AURORA_CLUSTER} found (via DB instance camunda-aurora-1)."));
}

#[test]
fn aws_74_instance_endpoint_of_no_instance() {
    let host = "camunda-aurora-9.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com";
    run(Scenario::healthy(Gen::V8_8).set("identityKeycloak.externalDatabase.host", json!(host)))
        .exits(74)
        .stderr_line("[FAIL] (component=identityKeycloak) No DB instance camunda-aurora-9 in region eu-west-1.");
}

// ---------------------------------------------------------------- 6: roles and trust

#[test]
fn aws_120_role_does_not_exist() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.delete_role(KEYCLOAK.role)))
        .exits(120)
        .stderr_line(&format!("[FAIL] (component=identityKeycloak) Role ARN {} (serviceAccount=keycloak-sa) is invalid or does not exist. Hint: Create the role, or fix the eks.amazonaws.com/role-arn annotation of the service account.", keycloak_arn()))
        .stdout_line(&format!("[INFO] (component=identityKeycloak) Skipped: the trust policy allows sts:AssumeRoleWithWebIdentity: role {} does not exist.", keycloak_arn()))
        .stdout_line(&format!("[INFO] (component=identityKeycloak) Skipped: the role is allowed rds-db:connect: role {} does not exist.", keycloak_arn()));
}

#[test]
fn aws_120_get_role_access_denied_names_the_permission() {
    run(Scenario::healthy(Gen::V8_8)
        .proxy(|p| p.inject(Fault::access_denied("iam:GetRole").on(KEYCLOAK.role))))
    .exits(120)
    .stderr_line(&format!("[FAIL] (component=identityKeycloak) Unable to read role {arn} (serviceAccount=keycloak-sa): iam:GetRole (role {role}) failed: AccessDenied: User: arn:aws:iam::{ACCOUNT}:user/moto is not authorized to perform: iam:GetRole on resource: role {role} because no identity-based policy allows the iam:GetRole action", arn = keycloak_arn(), role = KEYCLOAK.role));
}

#[test]
fn aws_121_trust_without_web_identity_action() {
    run(with_trust(keycloak_trust(|s| s["Action"] = json!("sts:AssumeRole"))))
        .exits(121)
        .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: no Allow statement of the trust policy covers sts:AssumeRoleWithWebIdentity (its Allow statements allow only sts:AssumeRole) Hint: the trust policy needs a statement like", keycloak_arn()), &[]);
}

#[test]
fn aws_122_trust_principal_is_not_an_oidc_provider() {
    run(with_trust(keycloak_trust(|s| {
        s["Principal"] = json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})
    })))
    .exits(122)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: no statement allowing sts:AssumeRoleWithWebIdentity names an EKS OIDC provider as its Federated principal (found Statement[0]: Principal AWS: arn:aws:iam::{ACCOUNT}:root)", keycloak_arn()), &[]);
}

#[test]
fn aws_123_trust_admits_another_service_account() {
    run(with_trust(keycloak_trust(|s| {
        s["Condition"]["StringEquals"][sub_key()] = json!("system:serviceaccount:camunda:keycloak")
    })))
    .exits(123)
    .stderr_line(&format!("[FAIL] (component=identityKeycloak) Role {} trusts system:serviceaccount:camunda:keycloak but this component runs as system:serviceaccount:camunda:keycloak-sa Hint: add system:serviceaccount:camunda:keycloak-sa to the StringEquals condition on {} of the role's trust policy, or run the component under a service account the role trusts", keycloak_arn(), sub_key()));
}

#[test]
fn aws_124_trust_audience_is_wrong() {
    run(with_trust(keycloak_trust(|s| {
        s["Condition"]["StringEquals"][format!("{}:aud", spec::issuer_host_path())] =
            json!("sts.amazon.com")
    })))
    .exits(124)
    .stderr_has(
        &format!(
            "[FAIL] (component=identityKeycloak) Role {} admits the audience",
            keycloak_arn()
        ),
        &[
            "sts.amazon.com",
            "but the token's audience is sts.amazonaws.com",
        ],
    );
}

#[test]
fn aws_125_trust_names_an_old_clusters_provider() {
    let old = "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF";
    run(with_trust(keycloak_trust(|s| {
        s["Principal"]["Federated"] = json!(format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{old}"));
        s["Condition"] = json!({"StringEquals": {format!("{old}:sub"): spec::subject(KEYCLOAK.service_account)}});
    })))
    .exits(125)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {} trusts the OIDC provider of issuer {old}, not this cluster's (issuer {} of account {ACCOUNT}): a provider of another or an older cluster", keycloak_arn(), spec::issuer_host_path()), &[]);
}

#[test]
fn aws_126_wildcard_under_string_equals_fails() {
    let out = run(with_trust(keycloak_trust(|s| {
        s["Condition"]["StringEquals"][sub_key()] = json!("system:serviceaccount:camunda:*")
    })));
    out.exits(126)
        .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: a wildcard under StringEquals is a literal character and matches no token: {} = \"system:serviceaccount:camunda:*\" in Statement[0]", keycloak_arn(), sub_key()), &[]);
}

#[test]
fn aws_126_trust_for_any_service_account_warns() {
    run(with_trust(keycloak_trust(|s| {
        s["Condition"] = json!({"StringLike": {sub_key(): "system:serviceaccount:*"}})
    })))
    .exits(0)
    .stderr_has(&format!("[WARN] (component=identityKeycloak) Role {}: Statement[0] admits any service account of the cluster", keycloak_arn()), &["every workload there can use the role"]);
}

// ---------------------------------------------------------------- 6: permissions

#[test]
fn aws_140_policies_cannot_be_listed() {
    run(Scenario::healthy(Gen::V8_8).proxy(|p| {
        p.inject(Fault::access_denied("iam:ListAttachedRolePolicies").on(KEYCLOAK.role));
        p.inject(Fault::access_denied("iam:ListRolePolicies").on(KEYCLOAK.role));
    }))
    .exits(140)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: its attached policies could not be listed: iam:ListAttachedRolePolicies (role {}) failed: AccessDenied: ", keycloak_arn(), KEYCLOAK.role), &["its inline policies could not be listed: iam:ListRolePolicies"])
    .stdout_line(&format!("[INFO] (component=identityKeycloak) Skipped: the policies of role {} could not be listed", keycloak_arn()));
}

fn keycloak_policy_arn() -> String {
    format!(
        "arn:aws:iam::{ACCOUNT}:policy/{}-access-policy",
        KEYCLOAK.role
    )
}

#[test]
fn aws_141_a_policy_cannot_be_read() {
    run(Scenario::healthy(Gen::V8_8).proxy(|p| {
        p.inject(Fault::access_denied("iam:GetPolicyVersion").on(&keycloak_policy_arn()))
    }))
    // Its only policy unread, nothing grants rds-db:connect either: 142 is the exit status.
    .exits(142)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: attached policy {} could not be read: iam:GetPolicyVersion (policy {}, version v1) failed: AccessDenied: ", keycloak_arn(), keycloak_policy_arn(), keycloak_policy_arn()), &["is not authorized to perform: iam:GetPolicyVersion"]);
}

#[test]
fn aws_142_no_policy_grants_connect() {
    run(Scenario::healthy(Gen::V8_8).aws(|world, _| world.detach_access_policy(KEYCLOAK.role)))
        .exits(142)
        .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: no Allow statement grants rds-db:connect (the role has no policy)", keycloak_arn()), &[]);
}

#[test]
fn aws_143_grant_for_another_database_user() {
    let other = policy(
        json!([{"Effect": "Allow", "Action": ["rds-db:connect"], "Resource": format!("arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:*/identity_irsa")}]),
    );
    run(Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| world.replace_access_policy(KEYCLOAK.role, &other)))
    .exits(143)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {} grants rds-db:connect only on arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:*/identity_irsa", keycloak_arn()), &["not on arn:aws:rds-db:eu-west-1:123456789012:dbuser:cluster-", "/keycloak_irsa"]);
}

#[test]
fn aws_144_deny_in_a_second_policy() {
    let deny =
        policy(json!([{"Sid": "NoDb", "Effect": "Deny", "Action": "rds-db:*", "Resource": "*"}]));
    run(Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| {
            world.attach_new_policy(KEYCLOAK.role, "deny-db", &deny);
        }))
    .exits(144)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: Statement[0] (Sid \"NoDb\") of policy arn:aws:iam::{ACCOUNT}:policy/deny-db denies rds-db:connect on arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-", keycloak_arn()), &[]);
}

#[test]
fn aws_144_boundary_without_the_action() {
    let boundary =
        policy(json!([{"Effect": "Allow", "Action": ["s3:*", "es:*"], "Resource": "*"}]));
    run(Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| {
            world.set_permissions_boundary(KEYCLOAK.role, &boundary);
        }))
    .exits(144)
    .stderr_has(&format!("[FAIL] (component=identityKeycloak) Role {}: the permissions boundary arn:aws:iam::{ACCOUNT}:policy/{}-boundary does not allow rds-db:connect on", keycloak_arn(), KEYCLOAK.role), &[]);
}

#[test]
fn aws_inline_only_permissions_pass() {
    let text = aws_world::aurora_access_policy(KEYCLOAK.db_user.unwrap_or_default());
    run(Scenario::healthy(Gen::V8_8).aws(move |world, _| {
        world.detach_access_policy(KEYCLOAK.role);
        world.put_inline_policy(KEYCLOAK.role, "aurora-connect", &text);
    }))
    .passes()
    .stdout_line(&format!("[OK] (component=identityKeycloak) Role {}: Statement[0] of policy aurora-connect grants rds-db:connect", keycloak_arn()));
}

fn os_policy_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{OPENSEARCH_ROLE}-access-policy")
}

#[test]
fn aws_150_policies_cannot_be_listed() {
    run(Scenario::healthy(Gen::V8_8).proxy(|p| {
        p.inject(Fault::access_denied("iam:ListAttachedRolePolicies").on(OPENSEARCH_ROLE));
        p.inject(Fault::access_denied("iam:ListRolePolicies").on(OPENSEARCH_ROLE));
    }))
    .exits(150)
    .stderr_has(&format!("[FAIL] (component=optimize) Role {}: its attached policies could not be listed: iam:ListAttachedRolePolicies (role {OPENSEARCH_ROLE}) failed: AccessDenied: ", os_arn()), &[]);
}

#[test]
fn aws_151_a_policy_cannot_be_read() {
    run(Scenario::healthy(Gen::V8_8)
        .proxy(|p| p.inject(Fault::access_denied("iam:GetPolicy").on(&os_policy_arn()))))
    .exits(152)
    .stderr_has(&format!("[FAIL] (component=orchestration) Role {}: attached policy {} could not be read: iam:GetPolicy (policy {}) failed: AccessDenied: ", os_arn(), os_policy_arn(), os_policy_arn()), &[]);
}

#[test]
fn aws_152_no_opensearch_http_grant() {
    let manage_only = policy(
        json!([{"Effect": "Allow", "Action": ["es:DescribeDomain", "es:ListTags"], "Resource": domain_paths()}]),
    );
    run(Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| world.replace_access_policy(OPENSEARCH_ROLE, &manage_only)))
    .exits(152)
    .stderr_has(&format!("[FAIL] (component=orchestration) Role {}: no Allow statement grants es:ESHttpGet (its policies: {})", os_arn(), os_policy_arn()), &[]);
}

#[test]
fn aws_153_grant_on_another_domain() {
    let other = policy(
        json!([{"Effect": "Allow", "Action": "es:ESHttp*", "Resource": format!("arn:aws:es:{REGION}:{ACCOUNT}:domain/other-os/*")}]),
    );
    run(Scenario::healthy(Gen::V8_8)
        .aws(move |world, _| world.replace_access_policy(OPENSEARCH_ROLE, &other)))
    .exits(153)
    .stderr_has(&format!("[FAIL] (component=optimize) Role {} grants es:ESHttpGet only on arn:aws:es:{REGION}:{ACCOUNT}:domain/other-os/*", os_arn()), &[&format!("not on {}", domain_paths())]);
}

#[test]
fn aws_154_deny_takes_the_permission_away() {
    let deny = policy(
        json!([{"Effect": "Deny", "NotAction": "es:ESHttpHead", "Resource": domain_paths()}]),
    );
    run(Scenario::healthy(Gen::V8_8).aws(move |world, _| {
        world.put_inline_policy(OPENSEARCH_ROLE, "read-only-guard", &deny);
    }))
    .exits(154)
    .stderr_has(&format!("[FAIL] (component=orchestration) Role {}: Statement[0] of policy read-only-guard denies es:ESHttpGet on {}: it denies every action except es:ESHttpHead (NotAction)", os_arn(), domain_paths()), &[]);
}

// ---------------------------------------------------------------- 7: node fallback

#[test]
fn aws_171_node_role_grants_database_access() {
    let broad = policy(json!([{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}]));
    run(Scenario::healthy(Gen::V8_8).aws(move |world, _| {
        world.put_inline_policy(spec::NODE_ROLE, "db-everywhere", &broad);
    }))
    .exits(0)
    .stderr_has(&format!("[WARN] (component=identity) Node role {} itself allows rds-db:connect on arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-", arn(spec::NODE_ROLE)), &["/identity_irsa (Statement[0] of policy db-everywhere): a pod whose IRSA is broken falls back to the node role and still works, which hides the failure Hint: grant database and OpenSearch access only to the IRSA roles, not to the node role"]);
}

#[test]
fn aws_172_caller_in_another_account() {
    let other = "210987654321";
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::{other}:user/ci</Arn>\n    <UserId>AIDAQ3EGRIWSEXAMPLE1</UserId>\n    <Account>{other}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n"
    );
    run(Scenario::healthy(Gen::V8_8)
        .proxy(move |p| p.inject(Fault::reply("sts:GetCallerIdentity", 200, "text/xml", &body))))
    .exits(0)
    .stderr_line(&format!("[WARN] The AWS credentials are for account {other}, but EKS cluster {CLUSTER_NAME} is in account {ACCOUNT}: the IAM roles are read from account {other}. Hint: Use credentials (--profile) of the cluster's account."))
    .stderr_line(&format!("[WARN] (component=identity) Role {} is in account {ACCOUNT}, but the AWS credentials are for account {other}: the role cannot be read. Hint: Run irsa-check with credentials of account {ACCOUNT} to check the role.", arn(IDENTITY.role)));
}

// ---------------------------------------------------------------- throttling

#[test]
fn aws_throttling_is_ridden_over_by_the_sdk() {
    let running = Scenario::healthy(Gen::V8_8)
        .proxy(|p| {
            p.inject(Fault::throttling("iam:GetRole").on(KEYCLOAK.role).times(2));
            p.inject(Fault::throttling("eks:DescribeCluster").times(1));
        })
        .start();
    running.run(ARGS).passes();
    let proxy = running.proxy.as_ref().unwrap();
    assert_eq!(
        proxy.count("iam:GetRole", KEYCLOAK.role),
        3,
        "two throttled, the third answered"
    );
    assert_eq!(
        proxy
            .calls()
            .iter()
            .filter(|c| *c == "eks:DescribeCluster")
            .count(),
        2
    );
}
