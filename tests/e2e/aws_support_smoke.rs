//! The AWS side of the test worlds works: moto starts and stops, the seeded world reads
//! back through the real SDK as the tool will see it, the proxy records and injects.
//! Run: `cargo test --test e2e aws_` (add `-- --nocapture` for the timings).

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_sts::error::ProvideErrorMetadata;
use serde_json::{Value, json};

use crate::support::aws_proxy::{AwsProxy, Fault, percent_decode};
use crate::support::aws_world::{self, AwsWorld, DomainShape, NODEGROUP};
use crate::support::moto::{Moto, NOT_INSTALLED, block_on};
use crate::support::spec::{self, Gen};

const KUBE_URL: &str = "http://127.0.0.1:6443";

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    eprintln!("{what}: {} ms", start.elapsed().as_millis());
    value
}

/// A trust or policy document as the SDK returns it: URL-encoded, as AWS sends it.
fn encoded_document(document: &str) -> Value {
    assert!(
        document.starts_with("%7B"),
        "expected a URL-encoded document, got {document:?}"
    );
    serde_json::from_str(&percent_decode(document, false)).unwrap()
}

fn world(generation: Gen) -> (Moto, AwsWorld) {
    let moto = timed("Moto::start", Moto::start);
    let world = timed("seed_healthy", || {
        aws_world::seed_healthy(&moto, generation, KUBE_URL)
    });
    (moto, world)
}

#[test]
fn aws_support_seeded_world_reads_back_through_the_sdk_and_proxy() {
    let (moto, world) = world(Gen::V8_8);
    let proxy = AwsProxy::start(&moto);
    let config = proxy.sdk_config();
    let sts = aws_sdk_sts::Client::new(&config);
    let eks = aws_sdk_eks::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let rds = aws_sdk_rds::Client::new(&config);
    let opensearch = aws_sdk_opensearch::Client::new(&config);

    block_on(async {
        let me = sts.get_caller_identity().send().await.unwrap();
        assert_eq!(me.account(), Some(spec::ACCOUNT));
        assert_eq!(me.arn(), Some("arn:aws:sts::123456789012:user/moto"));

        let clusters = eks.list_clusters().send().await.unwrap();
        assert_eq!(clusters.clusters(), [spec::CLUSTER_NAME]);
        let cluster = eks
            .describe_cluster()
            .name(spec::CLUSTER_NAME)
            .send()
            .await
            .unwrap();
        let cluster = cluster.cluster().unwrap();
        assert_eq!(cluster.endpoint(), Some(KUBE_URL));
        let issuer = cluster
            .identity()
            .and_then(|i| i.oidc())
            .and_then(|o| o.issuer());
        assert_eq!(issuer, Some(spec::issuer().as_str()));
        assert_eq!(world.issuer, spec::issuer());
        assert_eq!(cluster.version(), Some("1.30"));
        assert_eq!(cluster.arn(), Some(world.cluster_arn.as_str()));
        assert_eq!(
            world.cluster_arn,
            "arn:aws:eks:eu-west-1:123456789012:cluster/camunda-prod"
        );

        let groups = eks
            .list_nodegroups()
            .cluster_name(spec::CLUSTER_NAME)
            .send()
            .await
            .unwrap();
        assert_eq!(groups.nodegroups(), [NODEGROUP]);
        let group = eks
            .describe_nodegroup()
            .cluster_name(spec::CLUSTER_NAME)
            .nodegroup_name(NODEGROUP)
            .send()
            .await
            .unwrap();
        let node_role = spec::role_arn(spec::NODE_ROLE);
        assert_eq!(
            group.nodegroup().unwrap().node_role(),
            Some(node_role.as_str())
        );

        let providers = iam.list_open_id_connect_providers().send().await.unwrap();
        let arns: Vec<_> = providers
            .open_id_connect_provider_list()
            .iter()
            .filter_map(|p| p.arn())
            .collect();
        assert_eq!(arns, [spec::oidc_provider_arn()]);
        assert_eq!(world.provider_arn, spec::oidc_provider_arn());
        let provider = iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(spec::oidc_provider_arn())
            .send()
            .await
            .unwrap();
        assert_eq!(provider.url(), Some(spec::issuer_host_path().as_str()));
        assert_eq!(provider.client_id_list(), ["sts.amazonaws.com"]);
        assert_eq!(provider.thumbprint_list(), [aws_world::THUMBPRINT]);

        // An Aurora role: trust for one subject, URL-encoded like AWS sends it.
        let role = iam
            .get_role()
            .role_name(spec::KEYCLOAK.role)
            .send()
            .await
            .unwrap();
        let role = role.role().unwrap();
        assert_eq!(role.arn(), spec::role_arn(spec::KEYCLOAK.role));
        let trust = encoded_document(role.assume_role_policy_document().unwrap());
        assert_eq!(
            trust,
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {
                        "Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B"
                    },
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": { "StringEquals": {
                        "oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B:sub":
                            "system:serviceaccount:camunda:keycloak-sa"
                    }}
                }]
            })
        );
        assert!(role.permissions_boundary().is_none());
        let attached = iam
            .list_attached_role_policies()
            .role_name(spec::KEYCLOAK.role)
            .send()
            .await
            .unwrap();
        let attached: Vec<_> = attached
            .attached_policies()
            .iter()
            .map(|p| (p.policy_name().unwrap(), p.policy_arn().unwrap()))
            .collect();
        let policy_arn =
            "arn:aws:iam::123456789012:policy/AuroraRole-Keycloak-camunda-prod-access-policy";
        assert_eq!(
            attached,
            [("AuroraRole-Keycloak-camunda-prod-access-policy", policy_arn)]
        );
        let inline = iam
            .list_role_policies()
            .role_name(spec::KEYCLOAK.role)
            .send()
            .await
            .unwrap();
        assert!(inline.policy_names().is_empty());
        let policy = iam
            .get_policy()
            .policy_arn(policy_arn)
            .send()
            .await
            .unwrap();
        let version = policy.policy().unwrap().default_version_id().unwrap();
        assert_eq!(version, "v1");
        let version = iam
            .get_policy_version()
            .policy_arn(policy_arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let document = version.policy_version().unwrap().document().unwrap();
        assert_eq!(
            encoded_document(document),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["rds-db:connect"],
                    "Resource": "arn:aws:rds-db:eu-west-1:123456789012:dbuser:*/keycloak_irsa"
                }]
            })
        );

        // The OpenSearch role: one trust for the generation's OpenSearch accounts (8.8:
        // the orchestration cluster keeps zeebe-sa).
        let role = iam
            .get_role()
            .role_name(spec::OPENSEARCH_ROLE)
            .send()
            .await
            .unwrap();
        let trust = encoded_document(role.role().unwrap().assume_role_policy_document().unwrap());
        assert_eq!(
            trust["Statement"][0]["Condition"]["StringEquals"]
                [format!("{}:sub", spec::issuer_host_path())],
            json!([
                "system:serviceaccount:camunda:zeebe-sa",
                "system:serviceaccount:camunda:optimize-sa"
            ])
        );

        // The node role carries the AWS-managed worker policies, none about rds-db or es.
        let attached = iam
            .list_attached_role_policies()
            .role_name(spec::NODE_ROLE)
            .send()
            .await
            .unwrap();
        let mut arns: Vec<_> = attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
            .collect();
        arns.sort();
        let mut expected = aws_world::WORKER_POLICIES.to_vec();
        expected.sort();
        assert_eq!(arns, expected);
        let worker = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy";
        let policy = iam.get_policy().policy_arn(worker).send().await.unwrap();
        let version = policy
            .policy()
            .unwrap()
            .default_version_id()
            .unwrap()
            .to_string();
        let version = iam
            .get_policy_version()
            .policy_arn(worker)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let document = encoded_document(version.policy_version().unwrap().document().unwrap());
        let text = document.to_string();
        assert!(text.contains("ec2:DescribeInstances"), "{text}");
        assert!(
            !text.contains("rds-db") && !text.contains("\"es:"),
            "{text}"
        );

        let aurora = rds
            .describe_db_clusters()
            .db_cluster_identifier(spec::AURORA_CLUSTER)
            .send()
            .await
            .unwrap();
        let aurora = &aurora.db_clusters()[0];
        assert_eq!(aurora.engine(), Some("aurora-postgresql"));
        assert_eq!(aurora.status(), Some("available"));
        assert_eq!(aurora.iam_database_authentication_enabled(), Some(true));
        assert_eq!(aurora.port(), Some(5432));
        assert_eq!(
            aurora.db_cluster_resource_id(),
            Some(world.aurora_resource_id.as_str())
        );
        let id = &world.aurora_resource_id;
        assert!(
            id.starts_with("cluster-") && id.len() == 34,
            "DbClusterResourceId {id}"
        );
        let endpoint = aurora.endpoint().unwrap();
        assert!(
            endpoint.starts_with("camunda-aurora.cluster-")
                && endpoint.ends_with(".eu-west-1.rds.amazonaws.com"),
            "{endpoint}"
        );

        let domain = opensearch
            .describe_domain()
            .domain_name(spec::OPENSEARCH_DOMAIN)
            .send()
            .await
            .unwrap();
        let domain = domain.domain_status().unwrap();
        assert_eq!(domain.arn(), world.domain_arn);
        assert_eq!(
            domain.arn(),
            "arn:aws:es:eu-west-1:123456789012:domain/camunda-os"
        );
        assert_eq!(
            (domain.created(), domain.deleted()),
            (Some(true), Some(false))
        );
        assert_eq!(domain.engine_version(), Some("OpenSearch_2.19"));
        assert_eq!(domain.endpoint(), None);
        let vpc_endpoint = domain.endpoints().and_then(|e| e.get("vpc"));
        assert_eq!(
            vpc_endpoint.map(String::as_str),
            Some(spec::OPENSEARCH_HOST)
        );
        let security = domain.advanced_security_options().unwrap();
        assert_eq!(security.enabled(), Some(true));
        assert_eq!(security.internal_user_database_enabled(), Some(true));
        let https = domain.domain_endpoint_options().unwrap();
        assert_eq!(https.enforce_https(), Some(true));
        assert_eq!(
            https.tls_security_policy().map(|p| p.as_str()),
            Some("Policy-Min-TLS-1-2-2019-07")
        );
        let vpc = domain.vpc_options().unwrap();
        assert_eq!(vpc.subnet_ids(), aws_world::SUBNETS);
        let policy: Value = serde_json::from_str(domain.access_policies().unwrap()).unwrap();
        assert_eq!(policy, aws_world::domain_access_policy());
        assert_eq!(
            policy["Statement"][0]["Resource"],
            "arn:aws:es:eu-west-1:123456789012:domain/camunda-os/*"
        );
    });

    assert_eq!(
        proxy.calls(),
        [
            "sts:GetCallerIdentity",
            "eks:ListClusters",
            "eks:DescribeCluster",
            "eks:ListNodegroups",
            "eks:DescribeNodegroup",
            "iam:ListOpenIDConnectProviders",
            "iam:GetOpenIDConnectProvider",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "rds:DescribeDBClusters",
            "es:DescribeDomain",
        ]
    );
    assert_eq!(proxy.count("iam:GetRole", spec::KEYCLOAK.role), 1);
    assert_eq!(proxy.count("iam:GetRole", spec::OPENSEARCH_ROLE), 1);
    assert_eq!(proxy.count("eks:DescribeNodegroup", NODEGROUP), 1);
    assert_eq!(proxy.count("eks:DescribeNodegroup", spec::CLUSTER_NAME), 1);
    assert_eq!(
        proxy.count("rds:DescribeDBClusters", spec::AURORA_CLUSTER),
        1
    );
    assert_eq!(proxy.count("es:DescribeDomain", spec::OPENSEARCH_DOMAIN), 1);
    let recorded = proxy.recorded();
    assert_eq!(
        recorded[6].resources,
        [spec::oidc_provider_arn()],
        "GetOpenIDConnectProvider names its ARN"
    );
}

#[test]
fn aws_support_world_of_8_7_has_the_four_opensearch_accounts() {
    let (moto, world) = world(Gen::V8_7);
    let mut roles: Vec<_> = world.role_arns.keys().cloned().collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            "AuroraRole-Identity-camunda-prod",
            "AuroraRole-Keycloak-camunda-prod",
            "AuroraRole-Webmodeler-camunda-prod",
            "OpenSearchRole-camunda-os",
        ]
    );
    assert_eq!(
        world.role_arns[spec::WEB_MODELER.role],
        "arn:aws:iam::123456789012:role/AuroraRole-Webmodeler-camunda-prod"
    );
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config());
    let trust = block_on(iam.get_role().role_name(spec::OPENSEARCH_ROLE).send()).unwrap();
    let trust = encoded_document(trust.role().unwrap().assume_role_policy_document().unwrap());
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]
            [format!("{}:sub", spec::issuer_host_path())],
        json!([
            "system:serviceaccount:camunda:zeebe-sa",
            "system:serviceaccount:camunda:operate-sa",
            "system:serviceaccount:camunda:tasklist-sa",
            "system:serviceaccount:camunda:optimize-sa"
        ])
    );
    let opensearch = aws_sdk_opensearch::Client::new(&moto.sdk_config());
    let domain = block_on(
        opensearch
            .describe_domain()
            .domain_name(spec::OPENSEARCH_DOMAIN)
            .send(),
    )
    .unwrap();
    assert_eq!(
        domain.domain_status().unwrap().engine_version(),
        Some("OpenSearch_2.15")
    );
}

#[test]
fn aws_support_access_denied_reaches_the_sdk_as_a_service_error() {
    let (moto, _world) = world(Gen::V8_8);
    let proxy = AwsProxy::start(&moto);
    proxy.inject(Fault::access_denied("iam:GetRole").on(spec::KEYCLOAK.role));
    proxy.inject(Fault::access_denied("eks:DescribeCluster"));
    proxy.inject(Fault::access_denied("rds:*"));
    let config = proxy.sdk_config();
    let iam = aws_sdk_iam::Client::new(&config);
    let eks = aws_sdk_eks::Client::new(&config);
    let rds = aws_sdk_rds::Client::new(&config);

    block_on(async {
        let err = iam
            .get_role()
            .role_name(spec::KEYCLOAK.role)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.code(), Some("AccessDenied"));
        assert_eq!(
            err.message(),
            Some(
                "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: \
                 iam:GetRole on resource: role AuroraRole-Keycloak-camunda-prod because no \
                 identity-based policy allows the iam:GetRole action"
            )
        );
        assert!(!err.is_no_such_entity_exception());
        // Only that role is denied.
        let other = iam.get_role().role_name(spec::IDENTITY.role).send().await;
        assert!(other.is_ok(), "{other:?}");

        let err = eks
            .describe_cluster()
            .name(spec::CLUSTER_NAME)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
        let err = err.into_service_error();
        assert_eq!(err.code(), Some("AccessDeniedException"));
        assert_eq!(
            err.message(),
            Some(
                "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: \
                 eks:DescribeCluster on resource: \
                 arn:aws:eks:eu-west-1:123456789012:cluster/camunda-prod because no \
                 identity-based policy allows the eks:DescribeCluster action"
            )
        );
        // ListClusters is another action.
        assert!(eks.list_clusters().send().await.is_ok());

        let err = rds
            .describe_db_clusters()
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.code(), Some("AccessDenied"));
        assert!(
            err.message().unwrap().ends_with(
                "rds:DescribeDBClusters on resource: * because no identity-based policy \
                 allows the rds:DescribeDBClusters action"
            ),
            "{err:?}"
        );
    });
    // A denial is final: no retries.
    assert_eq!(
        proxy.calls(),
        [
            "iam:GetRole",
            "iam:GetRole",
            "eks:DescribeCluster",
            "eks:ListClusters",
            "rds:DescribeDBClusters"
        ]
    );
}

#[test]
fn aws_support_throttling_twice_is_ridden_over_by_the_standard_retry() {
    let moto = Moto::start();
    let world = aws_world::seed_healthy(&moto, Gen::V8_8, KUBE_URL);
    let proxy = AwsProxy::start(&moto);
    proxy.inject(Fault::throttling("eks:DescribeCluster").times(2));
    proxy.inject(
        Fault::throttling("iam:GetRole")
            .on(spec::IDENTITY.role)
            .times(2),
    );
    proxy.inject(Fault::throttling("es:DescribeDomain").times(3));
    // EKS with the SDK's defaults, as the tool has them; IAM and OpenSearch with the same
    // standard retry but a 5 ms initial backoff instead of 1 s, to keep the test short.
    let config = proxy.sdk_config();
    let eks = aws_sdk_eks::Client::new(&config);
    let quick = RetryConfig::standard().with_initial_backoff(Duration::from_millis(5));
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config)
            .retry_config(quick.clone())
            .build(),
    );
    let opensearch = aws_sdk_opensearch::Client::from_conf(
        aws_sdk_opensearch::config::Builder::from(&config)
            .retry_config(quick)
            .build(),
    );

    let start = Instant::now();
    block_on(async {
        // REST-JSON: 429 ThrottlingException, twice, then the real answer.
        let cluster = eks
            .describe_cluster()
            .name(spec::CLUSTER_NAME)
            .send()
            .await
            .unwrap();
        assert_eq!(
            cluster.cluster().unwrap().arn(),
            Some(world.cluster_arn.as_str())
        );
        // Query: 400 Throttling, twice.
        let role = iam
            .get_role()
            .role_name(spec::IDENTITY.role)
            .send()
            .await
            .unwrap();
        assert_eq!(role.role().unwrap().role_name(), spec::IDENTITY.role);
        // Three throttles exhaust the three attempts: the error reaches the caller.
        let err = opensearch
            .describe_domain()
            .domain_name(spec::OPENSEARCH_DOMAIN)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert_eq!(err.code(), Some("ThrottlingException"));
        assert_eq!(err.message(), Some("Rate exceeded"));
        // The fault has run out.
        assert!(
            opensearch
                .describe_domain()
                .domain_name(spec::OPENSEARCH_DOMAIN)
                .send()
                .await
                .is_ok()
        );
    });
    eprintln!("throttle retries: {} ms", start.elapsed().as_millis());
    assert_eq!(proxy.count("eks:DescribeCluster", spec::CLUSTER_NAME), 3);
    assert_eq!(proxy.count("iam:GetRole", spec::IDENTITY.role), 3);
    assert_eq!(proxy.count("es:DescribeDomain", spec::OPENSEARCH_DOMAIN), 4);
}

#[test]
fn aws_support_delay_and_internal_error() {
    let moto = Moto::start();
    let _world = aws_world::seed_healthy(&moto, Gen::V8_8, KUBE_URL);
    let proxy = AwsProxy::start(&moto);
    proxy.inject(Fault::delay(
        "sts:GetCallerIdentity",
        Duration::from_millis(300),
    ));
    proxy.inject(Fault::internal_error("eks:ListClusters").times(1));
    proxy.inject(Fault::error(
        "iam:GetRole",
        404,
        "NoSuchEntity",
        "The role with name AuroraRole-Identity-camunda-prod cannot be found.",
    ));
    let config = proxy.sdk_config();
    block_on(async {
        let start = Instant::now();
        let me = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(me.account(), Some(spec::ACCOUNT));
        assert!(start.elapsed() >= Duration::from_millis(300));

        let clusters = aws_sdk_eks::Client::new(&config)
            .list_clusters()
            .send()
            .await
            .unwrap();
        assert_eq!(clusters.clusters(), [spec::CLUSTER_NAME]);

        // A code the SDK models becomes its typed variant.
        let err = aws_sdk_iam::Client::new(&config)
            .get_role()
            .role_name(spec::IDENTITY.role)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_no_such_entity_exception(), "{err:?}");
    });
    assert_eq!(
        proxy.calls(),
        [
            "sts:GetCallerIdentity",
            "eks:ListClusters",
            "eks:ListClusters",
            "iam:GetRole"
        ]
    );
}

#[test]
fn aws_support_mutators_change_one_thing_each() {
    let (moto, mut world) = world(Gen::V8_8);
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config());
    let rds = aws_sdk_rds::Client::new(&moto.sdk_config());
    let opensearch = aws_sdk_opensearch::Client::new(&moto.sdk_config());
    let eks = aws_sdk_eks::Client::new(&moto.sdk_config());
    let role = spec::IDENTITY.role;

    let mut trust = aws_world::trust_policy(&[spec::subject("identity-sa")]);
    trust["Statement"][0]["Condition"]["StringEquals"]
        [format!("{}:sub", spec::issuer_host_path())] = json!("system:serviceaccount:camunda:*");
    world.replace_trust_policy(role, &trust);
    let got = block_on(iam.get_role().role_name(role).send()).unwrap();
    let got = got.role().unwrap();
    assert_eq!(
        encoded_document(got.assume_role_policy_document().unwrap()),
        trust
    );

    let boundary = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let boundary_arn = world.set_permissions_boundary(role, &boundary);
    let got = block_on(iam.get_role().role_name(role).send()).unwrap();
    let got = got.role().unwrap().permissions_boundary().unwrap();
    assert_eq!(got.permissions_boundary_arn(), Some(boundary_arn.as_str()));
    assert_eq!(
        boundary_arn,
        "arn:aws:iam::123456789012:policy/AuroraRole-Identity-camunda-prod-boundary"
    );

    let deny = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "rds-db:connect", "Resource": "*"}]});
    world.put_inline_policy(role, "deny-db", &deny);
    let got = block_on(
        iam.get_role_policy()
            .role_name(role)
            .policy_name("deny-db")
            .send(),
    )
    .unwrap();
    assert_eq!(encoded_document(got.policy_document()), deny);

    let other_user = aws_world::aurora_access_policy("someone_else");
    world.replace_access_policy(role, &other_user);
    let arn = &world.access_policy_arns[role];
    let policy = block_on(iam.get_policy().policy_arn(arn).send()).unwrap();
    assert_eq!(policy.policy().unwrap().default_version_id(), Some("v2"));
    let version = block_on(
        iam.get_policy_version()
            .policy_arn(arn)
            .version_id("v2")
            .send(),
    )
    .unwrap();
    let document = version.policy_version().unwrap().document().unwrap();
    assert_eq!(encoded_document(document), other_user);

    world.detach_access_policy(role);
    let attached = block_on(iam.list_attached_role_policies().role_name(role).send()).unwrap();
    assert!(attached.attached_policies().is_empty());

    world.delete_role(spec::WEB_MODELER.role);
    let err = block_on(iam.get_role().role_name(spec::WEB_MODELER.role).send())
        .unwrap_err()
        .into_service_error();
    assert!(err.is_no_such_entity_exception());

    world.replace_oidc_provider(&["sts.amazon.com"]);
    let provider = block_on(
        iam.get_open_id_connect_provider()
            .open_id_connect_provider_arn(&world.provider_arn)
            .send(),
    )
    .unwrap();
    assert_eq!(provider.client_id_list(), ["sts.amazon.com"]);
    world.delete_oidc_provider();
    let providers = block_on(iam.list_open_id_connect_providers().send()).unwrap();
    assert!(providers.open_id_connect_provider_list().is_empty());

    let describe = || {
        let clusters = block_on(
            rds.describe_db_clusters()
                .db_cluster_identifier(spec::AURORA_CLUSTER)
                .send(),
        )
        .unwrap();
        clusters.db_clusters()[0].clone()
    };
    let before = world.aurora_resource_id.clone();
    world.set_aurora_iam_auth(false);
    let cluster = describe();
    assert_eq!(cluster.iam_database_authentication_enabled(), Some(false));
    assert_eq!(cluster.db_cluster_resource_id(), Some(before.as_str()));
    world.set_aurora_iam_auth(true);
    assert_eq!(describe().iam_database_authentication_enabled(), Some(true));
    world.recreate_aurora(false);
    let cluster = describe();
    assert_eq!(cluster.iam_database_authentication_enabled(), Some(false));
    assert_ne!(world.aurora_resource_id, before);
    assert_eq!(
        cluster.db_cluster_resource_id(),
        Some(world.aurora_resource_id.as_str())
    );
    world.stop_aurora();
    assert_eq!(describe().status(), Some("stopped"));

    world.recreate_domain(&DomainShape {
        fine_grained_access_control: false,
        enforce_https: false,
        access_policy: None,
        ..DomainShape::healthy(Gen::V8_8)
    });
    let domain = block_on(
        opensearch
            .describe_domain()
            .domain_name(spec::OPENSEARCH_DOMAIN)
            .send(),
    )
    .unwrap();
    let domain = domain.domain_status().unwrap();
    assert_eq!(
        domain.advanced_security_options().unwrap().enabled(),
        Some(false)
    );
    assert_eq!(
        domain.domain_endpoint_options().unwrap().enforce_https(),
        Some(false)
    );
    assert_eq!(domain.access_policies(), Some(""));

    let old = "0123456789ABCDEF0123456789ABCDEF";
    world.recreate_cluster("1.22", old, "http://127.0.0.1:7443");
    let cluster = block_on(eks.describe_cluster().name(spec::CLUSTER_NAME).send()).unwrap();
    let cluster = cluster.cluster().unwrap();
    assert_eq!(cluster.version(), Some("1.22"));
    assert_eq!(cluster.endpoint(), Some("http://127.0.0.1:7443"));
    let issuer = cluster
        .identity()
        .and_then(|i| i.oidc())
        .and_then(|o| o.issuer());
    assert_eq!(
        issuer,
        Some("https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF")
    );
    assert_eq!(issuer, Some(world.issuer.as_str()));
    let groups = block_on(
        eks.list_nodegroups()
            .cluster_name(spec::CLUSTER_NAME)
            .send(),
    )
    .unwrap();
    assert_eq!(groups.nodegroups(), [NODEGROUP]);
}

#[test]
fn aws_support_servers_are_isolated_and_gone_when_dropped() {
    let first = Moto::start();
    let second = Moto::start();
    assert_ne!(first.port(), second.port());
    let _world = aws_world::seed_healthy(&first, Gen::V8_8, KUBE_URL);
    let clusters = |moto: &Moto| {
        let eks = aws_sdk_eks::Client::new(&moto.sdk_config());
        block_on(eks.list_clusters().send())
            .unwrap()
            .clusters()
            .to_vec()
    };
    assert_eq!(clusters(&first), [spec::CLUSTER_NAME]);
    assert!(clusters(&second).is_empty());

    let port = first.port();
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "moto on {port} still answers after drop"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(clusters(&second).is_empty());

    let env = second.env();
    let get = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("AWS_ENDPOINT_URL"), Some(second.url().as_str()));
    assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
    assert_eq!(get("AWS_CONFIG_FILE"), Some("/dev/null"));
    assert_eq!(get("AWS_SHARED_CREDENTIALS_FILE"), Some("/dev/null"));
    assert_eq!(get("AWS_EC2_METADATA_DISABLED"), Some("true"));
    assert!(get("AWS_ACCESS_KEY_ID").is_some() && get("AWS_SECRET_ACCESS_KEY").is_some());
}

#[test]
fn aws_support_standalone_server_starts_and_is_killed_on_drop() {
    let moto = timed("Moto::start_standalone", Moto::start_standalone);
    let sts = aws_sdk_sts::Client::new(&moto.sdk_config());
    let me = timed("first call on a standalone server", || {
        block_on(sts.get_caller_identity().send()).unwrap()
    });
    assert_eq!(me.account(), Some(spec::ACCOUNT));
    let port = moto.port();
    drop(moto); // kill + wait: the port is closed at once
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn aws_support_wrapper_says_how_to_install_moto_when_it_is_missing() {
    // `python3 -S` skips site-packages, where moto lives: as on a machine without it.
    let wrapper = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/e2e/support/moto_wrapper.py"
    );
    let output = std::process::Command::new("python3")
        .args(["-S", wrapper, "-H", "127.0.0.1", "-p", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with(NOT_INSTALLED), "{stderr}");
}
