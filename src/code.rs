//! The check catalogue: one [`Code`] per check, with the exit status it maps to.
//!
//! Numbers 4–163 are the exit codes of Camunda's shell check `aws-irsa.sh`, kept so
//! that scripts written for it keep working. Checks the shell tool did not have take
//! free numbers below 256. Several checks may share a number where the shell tool did
//! (code 1 for both fatal preflight checks, 41–43 for every reachability probe), but
//! every check has its own kebab-case id.

use std::fmt;

macro_rules! catalogue {
    ($( $(#[$doc:meta])* $variant:ident = ($num:expr, $id:literal, $desc:literal), )*) => {
        /// One check of the catalogue (CHECKS.md), in catalogue order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The exit status a failure of this check maps to.
            pub const fn number(self) -> u8 {
                match self { $( Code::$variant => $num, )* }
            }

            /// The stable kebab-case id, used in JSON and JUnit output.
            pub const fn id(self) -> &'static str {
                match self { $( Code::$variant => $id, )* }
            }

            /// A one-line description of what the check verifies.
            pub const fn description(self) -> &'static str {
                match self { $( Code::$variant => $desc, )* }
            }
        }
    };
}

catalogue! {
    // 1. Preflight
    AwsCredentials = (1, "aws-credentials", "AWS credentials work: STS GetCallerIdentity answers"),
    AwsCluster = (1, "aws-cluster", "the cluster's nodes run on AWS (spec.providerID is aws://)"),
    HelmRelease = (4, "helm-release", "a camunda-platform Helm release is deployed in the namespace"),
    ReleaseValues = (5, "release-values", "the release's user values and chart defaults can be decoded"),
    ChartVersion = (6, "chart-version", "the chart version is one the checks are known to work with"),
    KeycloakMode = (7, "keycloak-mode", "whether Keycloak is the bundled subchart or external"),
    ComponentSelection = (8, "component-selection", "the components to check exist in the deployed chart"),
    // 2. EKS and OIDC
    ControlPlaneUrl = (30, "control-plane-url", "the kube context has a control plane URL"),
    EksClustersInRegion = (31, "eks-clusters-in-region", "the region has EKS clusters"),
    EksClusterMatch = (32, "eks-cluster-match", "an EKS cluster's endpoint matches the kube context"),
    OidcIssuer = (33, "oidc-issuer", "the EKS cluster has an OIDC issuer"),
    KubernetesVersion = (34, "kubernetes-version", "the cluster runs Kubernetes 1.23 or later"),
    IamOidcProvider = (35, "iam-oidc-provider", "IAM has an OpenID Connect provider for the cluster's issuer"),
    OidcProviderAudience = (36, "oidc-provider-audience", "the OIDC provider's client IDs contain sts.amazonaws.com"),
    // 4. OpenSearch (values and domain)
    OpenSearchChartSettings = (51, "opensearch-chart-settings", "the chart uses OpenSearch with AWS request signing"),
    OpenSearchEndpoint = (61, "opensearch-endpoint", "an OpenSearch host is set in the values"),
    OpenSearchDomainParse = (62, "opensearch-domain-parse", "the OpenSearch domain and region can be read from the endpoint"),
    OpenSearchDomainExists = (63, "opensearch-domain-exists", "the OpenSearch domain exists"),
    OpenSearchFgac = (64, "opensearch-fgac", "fine-grained access control is enabled on the domain"),
    OpenSearchHttps = (65, "opensearch-https", "the domain enforces HTTPS"),
    OpenSearchDomainState = (66, "opensearch-domain-state", "the domain is created, not deleted, and has an access policy"),
    OpenSearchAccessPolicy = (67, "opensearch-access-policy", "the domain access policy has an Allow statement"),
    OpenSearchAccessPrincipal = (68, "opensearch-access-principal", "the domain access policy allows each component's role"),
    // 5. Aurora PostgreSQL: endpoint checks
    AuroraHost = (71, "aurora-host", "the database host is set"),
    AuroraPort = (72, "aurora-port", "the database port is set"),
    AuroraEndpointParse = (73, "aurora-endpoint-parse", "the Aurora cluster identifier and region can be read from the host"),
    AuroraClusterExists = (74, "aurora-cluster-exists", "the Aurora cluster exists"),
    AuroraIamAuth = (75, "aurora-iam-auth", "IAM database authentication is enabled on the Aurora cluster"),
    AuroraStatus = (76, "aurora-status", "the Aurora cluster is available"),
    // Reachability probes (OpenSearch, Aurora, external Keycloak)
    ReachProbeCreated = (41, "reach-probe-created", "the reachability probe job could be created"),
    ReachProbeFinished = (42, "reach-probe-finished", "the reachability probe job finished"),
    ReachPortOpen = (43, "reach-port-open", "the endpoint's port is open from the namespace"),
    // 5. Aurora PostgreSQL: per-component values
    KeycloakPostgresqlDefined = (81, "keycloak-postgresql-defined", "identityKeycloak.postgresql.enabled is defined"),
    KeycloakPostgresqlDisabled = (82, "keycloak-postgresql-disabled", "identityKeycloak.postgresql.enabled is false"),
    KeycloakImageDefined = (83, "keycloak-image-defined", "identityKeycloak.image.repository is defined"),
    KeycloakImageCamunda = (84, "keycloak-image-camunda", "the Keycloak image is camunda/keycloak (bundles the AWS JDBC wrapper)"),
    KeycloakDbHost = (85, "keycloak-db-host", "identityKeycloak.externalDatabase.host is defined"),
    KeycloakExternalUrl = (86, "keycloak-external-url", "an external Keycloak has global.identity.keycloak.url.host"),
    KeycloakDbSettings = (87, "keycloak-db-settings", "Keycloak's database user and AWS JDBC wrapper settings are set"),
    IdentityExternalDbDefined = (88, "identity-external-db-defined", "identity.externalDatabase.enabled is defined"),
    IdentityExternalDbEnabled = (89, "identity-external-db-enabled", "identity.externalDatabase.enabled is true"),
    IdentityDbHost = (90, "identity-db-host", "identity.externalDatabase.host is defined"),
    IdentityDbUsername = (92, "identity-db-username", "identity.externalDatabase.username is defined"),
    IdentityDatasourceEnv = (93, "identity-datasource-env", "identity's Spring datasource uses the AWS JDBC wrapper with IAM"),
    WebModelerJdbcUrlDefined = (94, "webmodeler-jdbc-url-defined", "Web Modeler's JDBC URL is defined"),
    WebModelerJdbcUrlForm = (95, "webmodeler-jdbc-url-form", "Web Modeler's JDBC URL uses the AWS JDBC wrapper with IAM"),
    WebModelerDbUser = (96, "webmodeler-db-user", "Web Modeler's database user is defined under the key the chart reads"),
    WebModelerDriverDefined = (97, "webmodeler-driver-defined", "webModeler.restapi.env sets SPRING_DATASOURCE_DRIVER_CLASS_NAME"),
    WebModelerDriverValue = (98, "webmodeler-driver-value", "Web Modeler's datasource driver is software.amazon.jdbc.Driver"),
    // 6. IRSA per service account
    ServiceAccountEnabled = (101, "service-account-enabled", "the component's service account is enabled"),
    ServiceAccountName = (162, "service-account-name", "a service account name was resolved"),
    RoleArnAnnotation = (110, "role-arn-annotation", "the service account has an eks.amazonaws.com/role-arn annotation"),
    RoleArn = (163, "role-arn", "the annotated role ARN is usable"),
    RoleExists = (120, "role-exists", "the IAM role exists"),
    TrustAction = (121, "trust-action", "the trust policy allows sts:AssumeRoleWithWebIdentity"),
    TrustPrincipal = (122, "trust-principal", "the trust policy's principal is an EKS OIDC provider"),
    TrustSubject = (123, "trust-subject", "the trust policy admits this namespace and service account"),
    TrustAudience = (124, "trust-audience", "the trust policy admits the token's audience"),
    TrustOperators = (126, "trust-operators", "the trust policy's condition operators do what they seem to"),
    TrustCluster = (125, "trust-cluster", "the trust policy names this cluster's OIDC provider"),
    AuroraPoliciesListed = (140, "aurora-policies-listed", "the role's policies can be listed"),
    AuroraPolicyRead = (141, "aurora-policy-read", "each of the role's policies can be read"),
    AuroraPermission = (142, "aurora-permission", "the role is allowed rds-db:connect"),
    AuroraPermissionResource = (143, "aurora-permission-resource", "rds-db:connect covers this cluster and database user"),
    AuroraPermissionNotBlocked = (144, "aurora-permission-not-blocked", "no Deny or permissions boundary takes rds-db:connect away"),
    OpenSearchPoliciesListed = (150, "opensearch-policies-listed", "the role's policies can be listed"),
    OpenSearchPolicyRead = (151, "opensearch-policy-read", "each of the role's policies can be read"),
    OpenSearchPermission = (152, "opensearch-permission", "the role is allowed es:ESHttpGet"),
    OpenSearchPermissionResource = (153, "opensearch-permission-resource", "the OpenSearch permission covers this domain"),
    OpenSearchPermissionNotBlocked = (154, "opensearch-permission-not-blocked", "no Deny or permissions boundary takes the OpenSearch permission away"),
    TokenInjection = (111, "token-injection", "the EKS pod identity webhook injects the role and token into pods"),
    RunningPods = (112, "running-pods", "the component's running pods carry the annotated role"),
    CredentialsNotShadowed = (113, "credentials-not-shadowed", "no static AWS keys shadow the web identity credentials"),
    TokenReadable = (114, "token-readable", "the running pods can read the projected token"),
    IdentityProbeCreated = (130, "identity-probe-created", "the identity probe job could be created"),
    IdentityProbeFinished = (131, "identity-probe-finished", "the identity probe job finished"),
    IdentityProbeJson = (132, "identity-probe-json", "the identity probe printed the caller identity as JSON"),
    IdentityProbeArn = (133, "identity-probe-arn", "the caller identity has an Arn"),
    IdentityProbeRole = (134, "identity-probe-role", "the pod runs as the annotated role"),
    // 7. Node fallback (warnings)
    ImdsReachable = (170, "imds-reachable", "pods cannot fall back to the node role through IMDS"),
    NodeRoleReach = (171, "node-role-reach", "the node role itself grants no database or OpenSearch access"),
    AccountMatch = (172, "account-match", "the caller's AWS account is the cluster's"),
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut seen = BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.id()), "duplicate id {}", code.id());
            assert!(
                code.id()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                code.id()
            );
            assert!(!code.description().is_empty());
        }
    }

    /// The README's table of codes is the catalogue: same checks, same numbers, same order.
    #[test]
    fn readme_table_matches_the_catalogue() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        let rows: Vec<(u8, String)> = readme
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let number = cells.get(1)?.parse::<u8>().ok()?;
                let id = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((number, id.to_string()))
            })
            .collect();
        let expected: Vec<(u8, String)> = Code::ALL
            .iter()
            .map(|c| (c.number(), c.id().to_string()))
            .collect();
        assert_eq!(rows, expected, "README.md's table of codes differs from Code::ALL");
    }

    #[test]
    fn numbers_are_shared_only_where_the_shell_tool_shared_them() {
        let mut by_number: std::collections::BTreeMap<u8, Vec<Code>> = Default::default();
        for code in Code::ALL {
            by_number.entry(code.number()).or_default().push(*code);
        }
        for (number, codes) in by_number {
            if codes.len() > 1 {
                assert_eq!(number, 1, "number {number} is shared by {codes:?}");
            }
            assert!(
                number != 0 && number != 2,
                "0 and 2 are reserved (success, usage)"
            );
        }
    }
}
