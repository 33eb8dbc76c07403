//! The AWS side of a healthy world, seeded into moto through the Rust SDK, shaped like
//! Camunda's EKS reference architecture (IRSA flavour) with the names of `spec`:
//! an EKS cluster whose endpoint is the fake Kubernetes API server and whose issuer is
//! `spec::issuer()`, a managed node group whose role grants no database access, the IAM
//! OIDC provider, Aurora PostgreSQL with IAM auth, one Aurora role per database component
//! and one OpenSearch role for the OpenSearch components (trust `StringEquals` on
//! `<issuer>:sub` only, access policies `<role>-access-policy`), and the OpenSearch domain
//! with fine-grained access control behind HTTPS.
//!
//! Scenario tests seed this, then break one thing with a mutator.

#![allow(dead_code)]

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use serde_json::{Value, json};

use super::moto::{Moto, block_on};
use super::spec::{self, Gen};

/// The managed node group of the cluster.
pub const NODEGROUP: &str = "camunda-prod-services";
/// The EKS cluster's own service role (the cluster needs one; nothing reads it).
pub const CLUSTER_ROLE: &str = "camunda-prod-cluster-role";
/// A 40-hex thumbprint, as `aws_iam_openid_connect_provider` computes it.
pub const THUMBPRINT: &str = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280";
pub const SUBNETS: [&str; 3] = [
    "subnet-0a1b2c3d4e5f60001",
    "subnet-0a1b2c3d4e5f60002",
    "subnet-0a1b2c3d4e5f60003",
];
pub const SECURITY_GROUP: &str = "sg-0a1b2c3d4e5f60009";
pub const WORKER_POLICIES: [&str; 3] = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

/// What was seeded, and handles to change it.
pub struct AwsWorld {
    pub generation: Gen,
    /// `https://oidc.eks.eu-west-1.amazonaws.com/id/<spec::OIDC_ID>`
    pub issuer: String,
    pub provider_arn: String,
    pub cluster_arn: String,
    pub node_role_arn: String,
    /// `cluster-<26 alnum>`, as moto generated it.
    pub aurora_resource_id: String,
    /// moto's writer endpoint (its suffix differs from `spec::AURORA_HOST`'s).
    pub aurora_endpoint: String,
    pub domain_arn: String,
    /// Role name → role ARN, for every IRSA role.
    pub role_arns: BTreeMap<String, String>,
    /// Role name → ARN of its attached `<role>-access-policy`.
    pub access_policy_arns: BTreeMap<String, String>,
    config: SdkConfig,
}

/// Seeds the healthy world into `moto` (directly, not through a proxy). `kube_url` is the
/// fake Kubernetes API server's URL, which becomes the EKS cluster's endpoint.
pub fn seed_healthy(moto: &Moto, generation: Gen, kube_url: &str) -> AwsWorld {
    let config = moto.sdk_config();
    block_on(seed(config, generation, kube_url))
        .unwrap_or_else(|e| panic!("seeding the healthy AWS world failed: {e:#}"))
}

/// The reference trust policy: the cluster's OIDC provider may issue web identities for
/// these service-account subjects (`StringEquals` on `:sub`, a string for one subject,
/// a list for several; no `:aud` condition).
pub fn trust_policy(subjects: &[String]) -> Value {
    let sub = match subjects {
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Federated": spec::oidc_provider_arn() },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": { format!("{}:sub", spec::issuer_host_path()): sub }
            }
        }]
    })
}

/// The reference Aurora access policy: `rds-db:connect` as `db_user` on any cluster.
pub fn aurora_access_policy(db_user: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["rds-db:connect"],
            "Resource": format!("arn:aws:rds-db:{}:{}:dbuser:*/{db_user}", spec::REGION, spec::ACCOUNT)
        }]
    })
}

/// `arn:aws:es:REGION:ACCOUNT:domain/camunda-os`
pub fn domain_arn() -> String {
    format!(
        "arn:aws:es:{}:{}:domain/{}",
        spec::REGION,
        spec::ACCOUNT,
        spec::OPENSEARCH_DOMAIN
    )
}

/// The reference OpenSearch role policy: domain management and `es:ESHttp*` on the domain.
pub fn opensearch_access_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "es:DescribeElasticsearchDomains",
                "es:DescribeElasticsearchInstanceTypeLimits",
                "es:DescribeReservedElasticsearchInstanceOfferings",
                "es:DescribeReservedElasticsearchInstances",
                "es:GetCompatibleElasticsearchVersions",
                "es:ListDomainNames",
                "es:ListElasticsearchInstanceTypes",
                "es:ListElasticsearchVersions",
                "es:DescribeElasticsearchDomain",
                "es:DescribeElasticsearchDomainConfig",
                "es:ESHttpGet",
                "es:ESHttpHead",
                "es:GetUpgradeHistory",
                "es:GetUpgradeStatus",
                "es:ListTags",
                "es:AddTags",
                "es:RemoveTags",
                "es:ESHttpDelete",
                "es:ESHttpPost",
                "es:ESHttpPut"
            ],
            "Resource": format!("{}/*", domain_arn())
        }]
    })
}

/// The reference domain resource policy: anyone (`AWS: *`) may `es:*` on the domain;
/// fine-grained access control does the authorisation.
pub fn domain_access_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": "es:*",
            "Resource": format!("{}/*", domain_arn())
        }]
    })
}

/// How the OpenSearch domain is set up; `DomainShape::healthy` is the reference's.
#[derive(Clone, Debug)]
pub struct DomainShape {
    pub engine_version: String,
    pub fine_grained_access_control: bool,
    pub enforce_https: bool,
    /// `None`: no resource policy at all.
    pub access_policy: Option<Value>,
}

impl DomainShape {
    pub fn healthy(generation: Gen) -> DomainShape {
        DomainShape {
            engine_version: match generation {
                Gen::V8_7 => "OpenSearch_2.15",
                Gen::V8_8 => "OpenSearch_2.19",
            }
            .to_string(),
            fine_grained_access_control: true,
            enforce_https: true,
            access_policy: Some(domain_access_policy()),
        }
    }
}

/// Roles of a generation: (role name, subjects, access policy), Aurora roles first.
fn irsa_roles(generation: Gen) -> Vec<(String, Vec<String>, Value)> {
    let mut roles: Vec<(String, Vec<String>, Value)> = spec::postgres_components(generation)
        .into_iter()
        .map(|c| {
            let db_user = c.db_user.unwrap_or_default();
            (
                c.role.to_string(),
                vec![spec::subject(c.service_account)],
                aurora_access_policy(db_user),
            )
        })
        .collect();
    let mut subjects: Vec<String> = Vec::new();
    for c in spec::opensearch_components(generation) {
        let subject = spec::subject(c.service_account);
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    roles.push((
        spec::OPENSEARCH_ROLE.to_string(),
        subjects,
        opensearch_access_policy(),
    ));
    roles
}

fn pretty(document: &Value) -> String {
    // Policies written by hand or by Terraform heredocs keep their whitespace in IAM.
    serde_json::to_string_pretty(document).unwrap_or_default()
}

async fn seed(config: SdkConfig, generation: Gen, kube_url: &str) -> Result<AwsWorld> {
    let iam = aws_sdk_iam::Client::new(&config);
    let issuer = spec::issuer();
    let domain = DomainShape::healthy(generation);
    let (
        cluster_arn,
        node_role_arn,
        provider_arn,
        (aurora_resource_id, aurora_endpoint),
        roles,
        domain_arn,
    ) = tokio::try_join!(
        create_cluster(&config, kube_url),
        create_node_role(&iam),
        create_oidc_provider(&iam, &issuer, &["sts.amazonaws.com"]),
        create_aurora(&config, true),
        create_irsa_roles(&iam, generation),
        create_domain(&config, &domain),
    )?;
    let (role_arns, access_policy_arns) = roles;
    Ok(AwsWorld {
        generation,
        issuer,
        provider_arn,
        cluster_arn,
        node_role_arn,
        aurora_resource_id,
        aurora_endpoint,
        domain_arn,
        role_arns,
        access_policy_arns,
        config,
    })
}

async fn create_cluster(config: &SdkConfig, endpoint: &str) -> Result<String> {
    create_cluster_shaped(config, spec::K8S_VERSION, spec::OIDC_ID, endpoint).await
}

async fn create_cluster_shaped(
    config: &SdkConfig,
    version: &str,
    oidc_id: &str,
    endpoint: &str,
) -> Result<String> {
    use aws_sdk_eks::types::{NodegroupScalingConfig, VpcConfigRequest};
    let eks = aws_sdk_eks::Client::new(config);
    let cluster = eks
        .create_cluster()
        .name(spec::CLUSTER_NAME)
        .version(version)
        .role_arn(spec::role_arn(CLUSTER_ROLE))
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .set_subnet_ids(Some(SUBNETS.map(String::from).to_vec()))
                .security_group_ids(SECURITY_GROUP)
                .build(),
        )
        // Read by moto_wrapper.py: moto cannot set these per cluster otherwise.
        .tags("moto:oidc-id", oidc_id)
        .tags("moto:endpoint", endpoint)
        .send()
        .await
        .context("EKS CreateCluster")?;
    let arn = cluster
        .cluster()
        .and_then(|c| c.arn())
        .context("CreateCluster without an ARN")?
        .to_string();
    eks.create_nodegroup()
        .cluster_name(spec::CLUSTER_NAME)
        .nodegroup_name(NODEGROUP)
        .node_role(spec::role_arn(spec::NODE_ROLE))
        .set_subnets(Some(SUBNETS.map(String::from).to_vec()))
        .instance_types("m6i.xlarge")
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(4)
                .desired_size(3)
                .build(),
        )
        .send()
        .await
        .context("EKS CreateNodegroup")?;
    Ok(arn)
}

async fn create_node_role(iam: &aws_sdk_iam::Client) -> Result<String> {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "ec2.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    });
    let role = iam
        .create_role()
        .role_name(spec::NODE_ROLE)
        .assume_role_policy_document(pretty(&trust))
        .send()
        .await
        .context("IAM CreateRole (node role)")?;
    for policy in WORKER_POLICIES {
        iam.attach_role_policy()
            .role_name(spec::NODE_ROLE)
            .policy_arn(policy)
            .send()
            .await
            .with_context(|| format!("IAM AttachRolePolicy {policy} (moto loads AWS-managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES)"))?;
    }
    Ok(role.role().map(|r| r.arn().to_string()).unwrap_or_default())
}

async fn create_oidc_provider(
    iam: &aws_sdk_iam::Client,
    issuer: &str,
    client_ids: &[&str],
) -> Result<String> {
    let mut request = iam
        .create_open_id_connect_provider()
        .url(issuer)
        .thumbprint_list(THUMBPRINT);
    for id in client_ids {
        request = request.client_id_list(*id);
    }
    let provider = request
        .send()
        .await
        .context("IAM CreateOpenIDConnectProvider")?;
    provider
        .open_id_connect_provider_arn()
        .map(str::to_string)
        .context("CreateOpenIDConnectProvider without an ARN")
}

/// Returns (DbClusterResourceId, writer endpoint).
async fn create_aurora(config: &SdkConfig, iam_auth: bool) -> Result<(String, String)> {
    let rds = aws_sdk_rds::Client::new(config);
    let created = rds
        .create_db_cluster()
        .db_cluster_identifier(spec::AURORA_CLUSTER)
        .engine("aurora-postgresql")
        .engine_version("15.8")
        .master_username("secret_user")
        .master_user_password("placeholder-not-a-secret")
        .port(i32::from(spec::AURORA_PORT))
        .enable_iam_database_authentication(iam_auth)
        .vpc_security_group_ids(SECURITY_GROUP)
        .send()
        .await
        .context("RDS CreateDBCluster")?;
    let cluster = created
        .db_cluster()
        .context("CreateDBCluster without a cluster")?;
    Ok((
        cluster
            .db_cluster_resource_id()
            .context("no DbClusterResourceId")?
            .to_string(),
        cluster.endpoint().unwrap_or_default().to_string(),
    ))
}

type RoleArns = (BTreeMap<String, String>, BTreeMap<String, String>);

async fn create_irsa_roles(iam: &aws_sdk_iam::Client, generation: Gen) -> Result<RoleArns> {
    let mut tasks = tokio::task::JoinSet::new();
    for (role, subjects, access) in irsa_roles(generation) {
        let iam = iam.clone();
        tasks.spawn(async move {
            let role_arn = create_role(&iam, &role, &trust_policy(&subjects)).await?;
            let policy = format!("{role}-access-policy");
            let policy_arn = attach_new_policy(&iam, &role, &policy, &access).await?;
            Ok::<_, anyhow::Error>((role, role_arn, policy_arn))
        });
    }
    let mut role_arns = BTreeMap::new();
    let mut policy_arns = BTreeMap::new();
    while let Some(created) = tasks.join_next().await {
        let (role, role_arn, policy_arn) = created??;
        role_arns.insert(role.clone(), role_arn);
        policy_arns.insert(role, policy_arn);
    }
    Ok((role_arns, policy_arns))
}

async fn create_role(iam: &aws_sdk_iam::Client, role: &str, trust: &Value) -> Result<String> {
    let created = iam
        .create_role()
        .role_name(role)
        .assume_role_policy_document(pretty(trust))
        .send()
        .await
        .with_context(|| format!("IAM CreateRole {role}"))?;
    Ok(created
        .role()
        .map(|r| r.arn().to_string())
        .unwrap_or_default())
}

async fn attach_new_policy(
    iam: &aws_sdk_iam::Client,
    role: &str,
    policy: &str,
    document: &Value,
) -> Result<String> {
    let created = iam
        .create_policy()
        .policy_name(policy)
        .policy_document(pretty(document))
        .send()
        .await
        .with_context(|| format!("IAM CreatePolicy {policy}"))?;
    let arn = created
        .policy()
        .and_then(|p| p.arn())
        .context("CreatePolicy without an ARN")?
        .to_string();
    iam.attach_role_policy()
        .role_name(role)
        .policy_arn(&arn)
        .send()
        .await
        .with_context(|| format!("IAM AttachRolePolicy {policy} to {role}"))?;
    Ok(arn)
}

async fn create_domain(config: &SdkConfig, shape: &DomainShape) -> Result<String> {
    use aws_sdk_opensearch::types::{
        AdvancedSecurityOptionsInput, DomainEndpointOptions, EncryptionAtRestOptions,
        MasterUserOptions, NodeToNodeEncryptionOptions, Tag, TlsSecurityPolicy, VpcOptions,
    };
    let opensearch = aws_sdk_opensearch::Client::new(config);
    let mut request = opensearch
        .create_domain()
        .domain_name(spec::OPENSEARCH_DOMAIN)
        .engine_version(&shape.engine_version)
        .vpc_options(
            VpcOptions::builder()
                .set_subnet_ids(Some(SUBNETS.map(String::from).to_vec()))
                .security_group_ids(SECURITY_GROUP)
                .build(),
        )
        .advanced_security_options(
            AdvancedSecurityOptionsInput::builder()
                .enabled(shape.fine_grained_access_control)
                .internal_user_database_enabled(shape.fine_grained_access_control)
                .master_user_options(
                    MasterUserOptions::builder()
                        .master_user_name("admin")
                        .master_user_password("Placeholder-not-a-secret-1")
                        .build(),
                )
                .build(),
        )
        .domain_endpoint_options(
            DomainEndpointOptions::builder()
                .enforce_https(shape.enforce_https)
                .tls_security_policy(TlsSecurityPolicy::PolicyMinTls12201907)
                .build(),
        )
        .node_to_node_encryption_options(
            NodeToNodeEncryptionOptions::builder().enabled(true).build(),
        )
        .encryption_at_rest_options(EncryptionAtRestOptions::builder().enabled(true).build())
        // Read by moto_wrapper.py: a real-looking `vpc-<name>-<hash>` endpoint.
        .tag_list(
            Tag::builder()
                .key("moto:endpoint")
                .value(spec::OPENSEARCH_HOST)
                .build()?,
        );
    if let Some(policy) = &shape.access_policy {
        request = request.access_policies(policy.to_string());
    }
    let created = request.send().await.context("OpenSearch CreateDomain")?;
    Ok(created
        .domain_status()
        .map(|d| d.arn().to_string())
        .unwrap_or_default())
}

/// Mutators: each breaks (or changes) one thing. They panic on failure (test code).
impl AwsWorld {
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn eks(&self) -> aws_sdk_eks::Client {
        aws_sdk_eks::Client::new(&self.config)
    }

    pub fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.config)
    }

    pub fn opensearch(&self) -> aws_sdk_opensearch::Client {
        aws_sdk_opensearch::Client::new(&self.config)
    }

    fn run<T>(&self, what: &str, future: impl std::future::Future<Output = Result<T>>) -> T {
        block_on(future).unwrap_or_else(|e| panic!("{what}: {e:#}"))
    }

    /// Replaces a role's trust policy (UpdateAssumeRolePolicy).
    pub fn replace_trust_policy(&self, role: &str, trust: &Value) {
        let iam = self.iam();
        self.run("replace_trust_policy", async {
            iam.update_assume_role_policy()
                .role_name(role)
                .policy_document(pretty(trust))
                .send()
                .await?;
            Ok(())
        })
    }

    /// Detaches the role's `<role>-access-policy` (the policy itself stays).
    pub fn detach_access_policy(&self, role: &str) {
        let arn = self
            .access_policy_arns
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{role} has no access policy in this world"));
        self.detach_policy(role, &arn);
    }

    /// Detaches any managed policy from a role.
    pub fn detach_policy(&self, role: &str, policy_arn: &str) {
        let iam = self.iam();
        self.run("detach_policy", async {
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(policy_arn)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Makes `document` the default version of the role's `<role>-access-policy` (v2, v3…).
    pub fn replace_access_policy(&self, role: &str, document: &Value) {
        let arn = self
            .access_policy_arns
            .get(role)
            .cloned()
            .unwrap_or_else(|| panic!("{role} has no access policy in this world"));
        let iam = self.iam();
        self.run("replace_access_policy", async {
            iam.create_policy_version()
                .policy_arn(arn)
                .policy_document(pretty(document))
                .set_as_default(true)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Creates a customer-managed policy and attaches it; returns its ARN.
    pub fn attach_new_policy(&self, role: &str, policy: &str, document: &Value) -> String {
        let iam = self.iam();
        self.run(
            "attach_new_policy",
            attach_new_policy(&iam, role, policy, document),
        )
    }

    /// Puts (or replaces) an inline policy on a role.
    pub fn put_inline_policy(&self, role: &str, name: &str, document: &Value) {
        let iam = self.iam();
        self.run("put_inline_policy", async {
            iam.put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(pretty(document))
                .send()
                .await?;
            Ok(())
        })
    }

    /// Sets a permissions boundary: a new managed policy `<role>-boundary`; returns its ARN.
    pub fn set_permissions_boundary(&self, role: &str, document: &Value) -> String {
        let iam = self.iam();
        self.run("set_permissions_boundary", async {
            let created = iam
                .create_policy()
                .policy_name(format!("{role}-boundary"))
                .policy_document(pretty(document))
                .send()
                .await?;
            let arn = created
                .policy()
                .and_then(|p| p.arn())
                .context("no ARN")?
                .to_string();
            iam.put_role_permissions_boundary()
                .role_name(role)
                .permissions_boundary(&arn)
                .send()
                .await?;
            Ok(arn)
        })
    }

    /// Deletes a role (after detaching its policies and deleting its inline ones).
    pub fn delete_role(&self, role: &str) {
        let iam = self.iam();
        self.run("delete_role", async {
            let attached = iam
                .list_attached_role_policies()
                .role_name(role)
                .send()
                .await?;
            for policy in attached.attached_policies() {
                if let Some(arn) = policy.policy_arn() {
                    iam.detach_role_policy()
                        .role_name(role)
                        .policy_arn(arn)
                        .send()
                        .await?;
                }
            }
            let inline = iam.list_role_policies().role_name(role).send().await?;
            for name in inline.policy_names() {
                iam.delete_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await?;
            }
            iam.delete_role().role_name(role).send().await?;
            Ok(())
        })
    }

    /// Deletes the cluster's IAM OIDC provider.
    pub fn delete_oidc_provider(&self) {
        let iam = self.iam();
        let arn = self.provider_arn.clone();
        self.run("delete_oidc_provider", async {
            iam.delete_open_id_connect_provider()
                .open_id_connect_provider_arn(arn)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Replaces the OIDC provider by one with other client IDs (audiences).
    pub fn replace_oidc_provider(&mut self, client_ids: &[&str]) {
        self.delete_oidc_provider();
        let iam = self.iam();
        let issuer = self.issuer.clone();
        self.provider_arn = self.run(
            "replace_oidc_provider",
            create_oidc_provider(&iam, &issuer, client_ids),
        );
    }

    /// Turns the Aurora cluster's IAM authentication on or off (ModifyDBCluster; honoured
    /// thanks to moto_wrapper.py). The resource ID stays.
    pub fn set_aurora_iam_auth(&self, enabled: bool) {
        let rds = self.rds();
        self.run("set_aurora_iam_auth", async {
            rds.modify_db_cluster()
                .db_cluster_identifier(spec::AURORA_CLUSTER)
                .enable_iam_database_authentication(enabled)
                .apply_immediately(true)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Deletes the Aurora cluster and creates it again, with or without IAM auth; a new
    /// `aurora_resource_id` comes with it.
    pub fn recreate_aurora(&mut self, iam_auth: bool) {
        self.delete_aurora();
        let config = self.config.clone();
        let (id, endpoint) = self.run("recreate_aurora", create_aurora(&config, iam_auth));
        self.aurora_resource_id = id;
        self.aurora_endpoint = endpoint;
    }

    /// Deletes the Aurora cluster and its automated snapshots.
    pub fn delete_aurora(&self) {
        let rds = self.rds();
        self.run("delete_aurora", async {
            rds.delete_db_cluster()
                .db_cluster_identifier(spec::AURORA_CLUSTER)
                .skip_final_snapshot(true)
                .send()
                .await?;
            // AWS deletes automated backups with the cluster; moto keeps them, and its
            // snapshot of a cluster created again in the same minute would clash.
            let snapshots = rds
                .describe_db_cluster_snapshots()
                .db_cluster_identifier(spec::AURORA_CLUSTER)
                .snapshot_type("automated")
                .send()
                .await?;
            for snapshot in snapshots.db_cluster_snapshots() {
                if let Some(id) = snapshot.db_cluster_snapshot_identifier() {
                    rds.delete_db_cluster_snapshot()
                        .db_cluster_snapshot_identifier(id)
                        .send()
                        .await?;
                }
            }
            Ok(())
        })
    }

    /// Stops the Aurora cluster (status `stopped`).
    pub fn stop_aurora(&self) {
        let rds = self.rds();
        self.run("stop_aurora", async {
            rds.stop_db_cluster()
                .db_cluster_identifier(spec::AURORA_CLUSTER)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Deletes the OpenSearch domain and creates it again in `shape`.
    pub fn recreate_domain(&mut self, shape: &DomainShape) {
        self.delete_domain();
        let config = self.config.clone();
        self.domain_arn = self.run("recreate_domain", create_domain(&config, shape));
    }

    pub fn delete_domain(&self) {
        let opensearch = self.opensearch();
        self.run("delete_domain", async {
            opensearch
                .delete_domain()
                .domain_name(spec::OPENSEARCH_DOMAIN)
                .send()
                .await?;
            Ok(())
        })
    }

    /// Deletes the EKS cluster (and its node group) and creates it again with another
    /// Kubernetes version, OIDC id or endpoint; the OIDC provider and roles stay as they
    /// are, so a different `oidc_id` leaves them pointing at an old cluster.
    pub fn recreate_cluster(&mut self, version: &str, oidc_id: &str, endpoint: &str) {
        let eks = self.eks();
        let config = self.config.clone();
        self.cluster_arn = self.run("recreate_cluster", async {
            eks.delete_nodegroup()
                .cluster_name(spec::CLUSTER_NAME)
                .nodegroup_name(NODEGROUP)
                .send()
                .await?;
            eks.delete_cluster().name(spec::CLUSTER_NAME).send().await?;
            create_cluster_shaped(&config, version, oidc_id, endpoint).await
        });
        self.issuer = format!(
            "https://oidc.eks.{}.amazonaws.com/id/{oidc_id}",
            spec::REGION
        );
    }
}
