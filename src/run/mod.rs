//! One run: gather the facts (all I/O, concurrent where independent), judge them (pure
//! functions), and hand the findings, in catalogue order, to the reporter.

use crate::chart::{Component, Generation};
use crate::checks::aurora::{self, DatabaseTarget};
use crate::checks::components::{self, Plan, Selection};
use crate::checks::opensearch::{self, OpenSearchEndpoint};
use crate::checks::preflight::{self, KeycloakMode};
use crate::cli::Args;
use crate::code::Code;
use crate::finding::{Finding, Level};
use crate::report::RunInfo;
use crate::values::Values;
use crate::values::files::read_values_files;

pub mod aws_side;
pub mod cluster_side;

use crate::chart::Category;
use crate::checks::aurora::AuroraEndpoint;
use crate::checks::opensearch::DomainRef;

/// What the values say each probe and AWS lookup is about.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// The Aurora endpoint of each PostgreSQL component (when its host parses).
    pub databases: Vec<DatabaseEndpoint>,
    /// The distinct OpenSearch endpoints and the domain each names.
    pub opensearch: Vec<OpenSearchTarget>,
    /// Host and port of an external Keycloak (code 86), when Keycloak is external.
    pub external_keycloak: Option<(String, u16)>,
}

#[derive(Clone, Debug)]
pub struct DatabaseEndpoint {
    pub component: Component,
    pub target: DatabaseTarget,
    pub endpoint: Option<AuroraEndpoint>,
}

#[derive(Clone, Debug)]
pub struct OpenSearchTarget {
    pub endpoint: OpenSearchEndpoint,
    pub domain: DomainRef,
}

impl Targets {
    pub fn of(verdict: &ValuesVerdict, values: &Values) -> Targets {
        let databases = verdict
            .databases
            .iter()
            .filter_map(|(component, _, target)| {
                let target = target.clone()?;
                let endpoint = aurora::judge_endpoint(&target).1;
                Some(DatabaseEndpoint {
                    component: *component,
                    target,
                    endpoint,
                })
            })
            .collect();
        let opensearch = verdict
            .opensearch_endpoints
            .iter()
            .map(|e| OpenSearchTarget {
                endpoint: e.clone(),
                domain: opensearch::parse_domain_host(&e.host),
            })
            .collect();
        let external_keycloak = if verdict.plan.external_keycloak {
            aurora::judge_external_keycloak(values, None, "").1
        } else {
            None
        };
        Targets {
            databases,
            opensearch,
            external_keycloak,
        }
    }
}

/// One planned component's IRSA wiring as the cluster shows it: the live service
/// account and the role its annotation names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrsaSubject {
    pub component: Component,
    pub category: Category,
    /// The service account the component's pods run as.
    pub service_account: String,
    /// `eks.amazonaws.com/role-arn`, when set and non-empty.
    pub role_arn: Option<String>,
    /// The token audience: `eks.amazonaws.com/audience`, else `sts.amazonaws.com`.
    pub audience: String,
}

/// The findings of a run, in catalogue order, and what the run was about.
pub struct Outcome {
    pub info: RunInfo,
    pub findings: Vec<Finding>,
}

/// Where the values come from, once known.
pub struct ValuesSource {
    pub values: Values,
    pub generation: Generation,
    /// The release name, when known (from the release, or `--release`).
    pub release: Option<String>,
    /// The chart version as the release or the user gave it.
    pub chart_version: String,
}

/// Everything the values tell, judged (sections 1, 3, and the values parts of 4–6).
pub struct ValuesVerdict {
    pub keycloak: KeycloakMode,
    pub plan: Plan,
    /// Section 1 findings judged from the values (chart version, Keycloak mode).
    pub section_1: Vec<Finding>,
    /// Section 4, values part: settings (51) and endpoints (61).
    pub opensearch_findings: Vec<Finding>,
    pub opensearch_endpoints: Vec<OpenSearchEndpoint>,
    /// Section 5, values part, per PostgreSQL component.
    pub databases: Vec<(Component, Vec<Finding>, Option<DatabaseTarget>)>,
}

/// Judge the values alone (no I/O).
pub fn judge_values(source: &ValuesSource, selection: &Selection) -> ValuesVerdict {
    let mut section_1 = vec![preflight::judge_chart_version(
        &source.chart_version,
        source.generation,
    )];
    let (keycloak, keycloak_finding) = preflight::keycloak_mode(&source.values, source.generation);
    section_1.push(keycloak_finding);
    let plan = components::plan(
        source.generation,
        &source.values,
        source.release.as_deref(),
        selection,
        keycloak,
    );
    let os_components: Vec<Component> = plan.opensearch.iter().map(|p| p.component).collect();
    let (opensearch_findings, opensearch_endpoints) =
        opensearch::judge_values(source.generation, &source.values, &os_components);
    let databases = plan
        .postgres
        .iter()
        .map(|p| {
            let (f, target) =
                aurora::judge_component_values(p.component, source.generation, &source.values);
            (p.component, f, target)
        })
        .collect();
    ValuesVerdict {
        keycloak,
        plan,
        section_1,
        opensearch_findings,
        opensearch_endpoints,
        databases,
    }
}

/// The selection of components from the command line.
pub fn selection(args: &Args) -> Selection {
    Selection {
        postgres: args.postgres.clone().map(|l| l.0),
        opensearch: args.opensearch.clone().map(|l| l.0),
        exclude: args.exclude.clone().map(|l| l.0).unwrap_or_default(),
    }
}

/// `--values` files as the values source (user values over the chart model's defaults).
pub fn values_from_files(args: &Args) -> Result<ValuesSource, Finding> {
    let Some(chart) = &args.chart_version else {
        return Err(Finding::fail(
            Code::ReleaseValues,
            "--values needs --chart-version to pick the chart's rules.",
        ));
    };
    let user = read_values_files(&args.values)
        .map_err(|e| Finding::fail(Code::ReleaseValues, format!("Cannot read the values: {e}")))?;
    Ok(ValuesSource {
        values: Values::new(user, chart.generation.builtin_defaults()),
        generation: chart.generation,
        release: args.release.clone(),
        chart_version: chart.text.clone(),
    })
}

/// The values-only run (`--offline`): sections 1, 3, and the values parts of 4, 5 and 6.
pub fn offline(args: &Args) -> Outcome {
    let mut findings = Vec::new();
    let mut info = RunInfo {
        namespace: args.namespace.clone(),
        release: args.release.clone(),
        chart: None,
        mode: "offline".into(),
    };
    match values_from_files(args) {
        Err(f) => findings.push(f),
        Ok(source) => {
            info.chart = Some(format!(
                "camunda-platform {} ({})",
                source.chart_version,
                source.generation.label()
            ));
            findings.push(Finding::info(
                Code::ReleaseValues,
                format!(
                    "Checking the values of {} file(s) offline: no cluster and no AWS calls.",
                    args.values.len()
                ),
            ));
            let verdict = judge_values(&source, &selection(args));
            findings.extend(values_only_findings(&verdict, &source.values));
        }
    }
    Outcome { info, findings }
}

/// Sections 1 (rest), 3, 4, 5 and 6 as far as the values alone can tell, in catalogue order.
pub fn values_only_findings(verdict: &ValuesVerdict, values: &Values) -> Vec<Finding> {
    let mut out = verdict.section_1.clone();
    out.extend(verdict.plan.findings.iter().cloned());
    out.extend(verdict.opensearch_findings.iter().cloned());
    if verdict.plan.external_keycloak {
        out.extend(aurora::judge_external_keycloak(values, None, "").0);
    }
    for (_, findings, target) in &verdict.databases {
        out.extend(findings.iter().cloned());
        if let Some(target) = target {
            out.extend(aurora::judge_endpoint(target).0);
        }
    }
    for planned in verdict.plan.all() {
        out.extend(components::judge_service_account(planned));
    }
    out
}

/// Findings after a fatal one are not judged: the run stops there.
pub fn is_fatal(finding: &Finding) -> bool {
    finding.level == Level::Fail && matches!(finding.code, Code::AwsCredentials | Code::AwsCluster)
}

/// The run against a cluster (and AWS): every section of the catalogue.
pub async fn online(args: &Args) -> Outcome {
    let namespace = args.namespace.clone().unwrap_or_default();
    let mut info = RunInfo {
        namespace: Some(namespace.clone()),
        release: args.release.clone(),
        chart: None,
        mode: if args.no_spawn {
            "no-spawn".into()
        } else {
            "full".into()
        },
    };
    let mut findings = Vec::new();

    // Connect. A cluster that cannot be reached leaves nothing to judge but the values
    // files, if any were given.
    let target =
        match crate::cluster::connect::connect(args.kubeconfig.as_deref(), args.context.as_deref())
            .await
        {
            Ok(t) => t,
            Err(e) => {
                findings.push(Finding::fail(
                    Code::ControlPlaneUrl,
                    format!("Unable to retrieve the Kubernetes control plane URL: {e:#}"),
                ));
                if !args.values.is_empty() {
                    let offline = offline(args);
                    findings.extend(offline.findings);
                }
                return Outcome { info, findings };
            }
        };
    let region_hint = args
        .region
        .clone()
        .or_else(|| target.exec_region.clone())
        .or_else(|| crate::cluster::connect::region_from_server_url(&target.server_url));
    let profile = args.profile.clone().or_else(|| target.exec_profile.clone());
    let sdk = crate::aws::load(profile.as_deref(), region_hint.as_deref()).await;

    // Section 1: who we are, where we are, what is deployed.
    let (caller, nodes, release) = tokio::join!(
        crate::aws::sts::caller_identity(&sdk),
        crate::cluster::nodes::gather(&target.client),
        crate::cluster::release::gather(&target.client, &namespace),
    );
    let credentials = crate::aws::sts::judge(&caller);
    let fatal = is_fatal(&credentials);
    findings.push(credentials);
    if fatal {
        return Outcome { info, findings };
    }
    let (_, node_finding) = crate::cluster::nodes::judge(&nodes);
    let fatal = is_fatal(&node_finding);
    findings.push(node_finding);
    if fatal {
        return Outcome { info, findings };
    }

    let source = if args.values.is_empty() {
        let (release_findings, source) = crate::cluster::release::judge(release, args);
        findings.extend(release_findings);
        source
    } else {
        findings.push(Finding::info(
            Code::HelmRelease,
            "Values come from --values files (installs without a Helm release, such as helm template or Argo CD): the release Secret is not read.",
        ));
        match values_from_files(args) {
            Ok(s) => Some(s),
            Err(f) => {
                findings.push(f);
                None
            }
        }
    };
    let Some(source) = source else {
        findings.push(Finding::skip(
            Code::ReleaseValues,
            "every check that reads the Helm values: the values could not be read.",
        ));
        return Outcome { info, findings };
    };
    info.release = source.release.clone();
    info.chart = Some(format!(
        "camunda-platform {} ({})",
        source.chart_version,
        source.generation.label()
    ));
    let verdict = judge_values(&source, &selection(args));
    let targets = Targets::of(&verdict, &source.values);

    // Stage A: the AWS platform (EKS/OIDC, Aurora, OpenSearch, node groups) and the
    // cluster's view of each component (service account, workloads, pods, dry-run).
    let platform_query = aws_side::PlatformQuery {
        region: region_hint.clone(),
        cluster_name: args
            .cluster_name
            .clone()
            .or_else(|| target.exec_cluster_name.clone()),
        server_url: target.server_url.clone(),
        caller: caller.as_ref().ok().cloned(),
    };
    let (platform, components) = tokio::join!(
        aws_side::gather_platform(&sdk, &platform_query, &targets),
        cluster_side::gather_components(&target, &namespace, &verdict, &targets, &source, args),
    );
    let subjects = cluster_side::subjects(&components, &verdict.plan);

    // Stage B: the IAM roles the service accounts name, and (unless -s) the probe jobs.
    let (roles, probes) = tokio::join!(
        aws_side::gather_roles(&sdk, &platform, &subjects),
        cluster_side::run_probes(&target, &namespace, &subjects, &targets, &components, args),
    );

    // Judge, in catalogue order.
    findings.extend(verdict.section_1.iter().cloned());
    findings.extend(aws_side::judge_eks(&platform));
    findings.extend(verdict.plan.findings.iter().cloned());

    // Section 4: OpenSearch.
    findings.extend(verdict.opensearch_findings.iter().cloned());
    for (i, os) in targets.opensearch.iter().enumerate() {
        findings.extend(cluster_side::judge_reach(
            &probes,
            &os.endpoint.host,
            os.endpoint.port,
            None,
        ));
        findings.extend(aws_side::judge_domain(&platform, i, &subjects, &roles));
    }

    // Section 5: Aurora PostgreSQL, per component; an external Keycloak stands where
    // identityKeycloak would.
    if verdict.plan.external_keycloak {
        findings.extend(cluster_side::judge_external_keycloak(
            &components,
            &source.values,
            &namespace,
        ));
        if let Some((host, port)) = &targets.external_keycloak {
            findings.extend(cluster_side::judge_reach(
                &probes,
                host,
                *port,
                Some(Component::IdentityKeycloak),
            ));
        }
    }
    for (component, values_findings, target) in &verdict.databases {
        findings.extend(values_findings.iter().cloned());
        let Some(target) = target else { continue };
        let (endpoint_findings, _) = aurora::judge_endpoint(target);
        findings.extend(endpoint_findings);
        findings.extend(aws_side::judge_database(&platform, *component));
        if let (Some(host), Some(port)) = (&target.host, target.port) {
            findings.extend(cluster_side::judge_reach(
                &probes,
                host,
                port,
                Some(*component),
            ));
        }
    }

    // Section 6: IRSA per service account.
    let node_role_names = aws_side::node_role_names(&platform);
    for planned in verdict.plan.all() {
        findings.extend(components::judge_service_account(planned));
        let subject = subjects
            .iter()
            .find(|s| s.component == planned.component && s.category == planned.category);
        findings.extend(cluster_side::judge_account(&components, planned, subject));
        if let Some(subject) = subject {
            findings.extend(aws_side::judge_role(
                &platform, &roles, subject, &targets, &namespace,
            ));
            findings.extend(cluster_side::judge_pods(
                &components,
                subject,
                &source.values,
            ));
            findings.extend(cluster_side::judge_identity_probe(
                &probes,
                subject,
                &node_role_names,
            ));
        }
    }

    // Section 7: node fallback.
    findings.extend(cluster_side::judge_imds(&probes));
    findings.extend(aws_side::judge_node_fallback(&platform, &roles, &targets));
    Outcome { info, findings }
}
