//! The Kubernetes side of a run: what is gathered from the cluster (service accounts,
//! workloads, pods, dry-runs, probe jobs) and how it is judged. `run::online` calls these
//! in catalogue order.

use super::{IrsaSubject, Targets, ValuesSource, ValuesVerdict};
use crate::chart::{Category, Component};
use crate::checks::aurora;
use crate::checks::components::{Plan, PlannedComponent};
use crate::checks::irsa::{self, AccountSource, AccountView, WorkloadPods};
use crate::cli::Args;
use crate::cluster::accounts::{self, ServiceAccountFact};
use crate::cluster::connect::KubeTarget;
use crate::cluster::pods::{self, PodSpecFact};
use crate::cluster::probe::{self, ProbeRequest, ProbeResult, ProbeSettings};
use crate::cluster::{dryrun, workloads};
use crate::code::Code;
use crate::facts::{ApiError, Fetched};
use crate::finding::Finding;
use crate::values::Values;
use tokio::task::JoinSet;

/// The cluster's view of one planned component.
#[derive(Clone, Debug)]
pub struct ComponentFacts {
    pub component: Component,
    /// The workload names the chart gives it (empty when the release name is unknown).
    pub expected_workloads: Vec<String>,
    /// Those found, with their pods.
    pub workloads: Vec<WorkloadPods>,
    /// The service account its pods run as (the workload's, else the values').
    pub account_name: Option<String>,
    pub account_source: AccountSource,
    /// The live account; `None` when no name is known.
    pub account: Option<Fetched<Option<ServiceAccountFact>>>,
    /// The role the values annotate the account with.
    pub values_role_arn: Option<String>,
    /// The dry-run pod (only when the live account names a role).
    pub dry_run: Option<Fetched<PodSpecFact>>,
}

/// The cluster's view of each planned component.
#[derive(Clone, Debug, Default)]
pub struct ComponentsFacts {
    pub namespace: String,
    pub components: Vec<ComponentFacts>,
    /// Listing Deployments or StatefulSets failed.
    pub workload_errors: Vec<ApiError>,
    /// The external Keycloak's Service (code 86): its name and whether it exists.
    pub keycloak_service: Option<(String, Fetched<bool>)>,
}

impl ComponentsFacts {
    /// The facts of one component.
    pub fn of(&self, component: Component) -> Option<&ComponentFacts> {
        self.components.iter().find(|c| c.component == component)
    }
}

/// The outcome of the probe jobs (none with `-s`).
#[derive(Clone, Debug, Default)]
pub struct Probes {
    /// False with `-s`: the probe checks are skipped.
    pub spawned: bool,
    pub namespace: String,
    pub results: Vec<ProbeResult>,
}

/// The distinct planned components, in plan order, with the first planned name.
fn planned_components(plan: &Plan) -> Vec<&PlannedComponent> {
    let mut out: Vec<&PlannedComponent> = Vec::new();
    for p in plan.all() {
        if !out.iter().any(|o| o.component == p.component) {
            out.push(p);
        }
    }
    out
}

fn values_role_arn(values: &Values, component: Component) -> Option<String> {
    values
        .str_at(&[
            component.key(),
            "serviceAccount",
            "annotations",
            accounts::ROLE_ARN,
        ])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Gather the cluster's view of every planned component (at once): its workloads and
/// their pods, its live service account, and a dry-run pod when the account names a
/// role; and the external Keycloak's Service when there is one.
pub async fn gather_components(
    target: &KubeTarget,
    namespace: &str,
    verdict: &ValuesVerdict,
    targets: &Targets,
    source: &ValuesSource,
    args: &Args,
) -> ComponentsFacts {
    let client = &target.client;
    let planned = planned_components(&verdict.plan);
    let keycloak_service = async {
        let (host, _) = targets.external_keycloak.as_ref()?;
        // A bare name (or name.namespace…) is a Service; its first label names it.
        let name = host.split('.').next().unwrap_or(host).to_string();
        let found = workloads::service_exists(client, namespace, &name).await;
        Some((name, found))
    };
    let components = async {
        if planned.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let found = workloads::gather(client, namespace).await;
        let mut tasks = JoinSet::new();
        for (index, p) in planned.iter().enumerate() {
            let component = p.component;
            let expected = source
                .release
                .as_deref()
                .map(|r| workloads::expected_names(component, r, &source.values))
                .unwrap_or_default();
            let matched: Vec<workloads::WorkloadFact> = expected
                .iter()
                .filter_map(|name| found.named(name).cloned())
                .collect();
            let job = GatherOne {
                client: client.clone(),
                namespace: namespace.to_string(),
                component,
                expected,
                matched,
                planned_name: p.service_account.name.resolved().map(str::to_string),
                values_role_arn: values_role_arn(&source.values, component),
                image: args.probe_image.clone(),
            };
            tasks.spawn(async move { (index, job.run().await) });
        }
        let mut gathered: Vec<(usize, ComponentFacts)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(done) = joined {
                gathered.push(done);
            }
        }
        gathered.sort_by_key(|(i, _)| *i);
        (gathered.into_iter().map(|(_, f)| f).collect(), found.errors)
    };
    let ((components, workload_errors), keycloak_service) =
        tokio::join!(components, keycloak_service);
    ComponentsFacts {
        namespace: namespace.to_string(),
        components,
        workload_errors,
        keycloak_service,
    }
}

/// What one component's gathering needs (owned: it runs as its own task).
struct GatherOne {
    client: kube::Client,
    namespace: String,
    component: Component,
    expected: Vec<String>,
    matched: Vec<workloads::WorkloadFact>,
    planned_name: Option<String>,
    values_role_arn: Option<String>,
    image: String,
}

impl GatherOne {
    async fn run(self) -> ComponentFacts {
        let (account_name, account_source) = match self.matched.first() {
            Some(w) => (
                Some(w.template.service_account.clone()),
                AccountSource::Workload {
                    kind: w.kind,
                    name: w.name.clone(),
                },
            ),
            None => (self.planned_name.clone(), AccountSource::Values),
        };
        let account = match &account_name {
            Some(name) => Some(accounts::gather(&self.client, &self.namespace, name).await),
            None => None,
        };
        let dry_run = async {
            let role_named = matches!(&account, Some(Ok(Some(sa))) if sa.role_arn().is_some());
            let name = account_name.as_deref()?;
            if !role_named {
                return None;
            }
            Some(
                dryrun::gather(
                    &self.client,
                    &self.namespace,
                    self.component,
                    name,
                    &self.image,
                )
                .await,
            )
        };
        let workload_pods = async {
            let mut out = Vec::new();
            for w in &self.matched {
                let pods = match &w.selector {
                    Some(selector) => pods::list(&self.client, &self.namespace, selector).await,
                    None => Ok(Vec::new()),
                };
                out.push(WorkloadPods {
                    workload: w.clone(),
                    pods,
                });
            }
            out
        };
        let (dry_run, workloads) = tokio::join!(dry_run, workload_pods);
        ComponentFacts {
            component: self.component,
            expected_workloads: self.expected,
            workloads,
            account_name,
            account_source,
            account,
            values_role_arn: self.values_role_arn,
            dry_run,
        }
    }
}

/// The live service account and role of each planned component.
pub fn subjects(components: &ComponentsFacts, plan: &Plan) -> Vec<IrsaSubject> {
    plan.all()
        .filter_map(|p| {
            let facts = components.of(p.component);
            let service_account = facts
                .and_then(|f| f.account_name.clone())
                .or_else(|| p.service_account.name.resolved().map(str::to_string))?;
            let (role_arn, audience) = match facts.and_then(|f| f.account.as_ref().map(|a| (f, a)))
            {
                Some((f, account)) => (
                    irsa::effective_role_arn(account, f.values_role_arn.as_deref()),
                    match account {
                        Ok(Some(sa)) => sa.audience().to_string(),
                        _ => accounts::DEFAULT_AUDIENCE.to_string(),
                    },
                ),
                None => (None, accounts::DEFAULT_AUDIENCE.to_string()),
            };
            Some(IrsaSubject {
                component: p.component,
                category: p.category,
                service_account,
                role_arn,
                audience,
            })
        })
        .collect()
}

/// The probe Jobs to run: one per component (identity under its account, its
/// endpoints' reachability, IMDS); endpoints no component probes ride along with the
/// first Job, or get a reachability-only Job under the namespace's default account.
pub fn probe_requests(
    subjects: &[IrsaSubject],
    targets: &Targets,
    components: &ComponentsFacts,
) -> Vec<ProbeRequest> {
    let mut requests: Vec<ProbeRequest> = Vec::new();
    for s in subjects {
        let usable = components
            .of(s.component)
            .and_then(|f| f.account.as_ref())
            .is_some_and(|a| !matches!(a, Ok(None)));
        let tcp: Vec<(String, u16)> = match s.category {
            Category::Postgres => targets
                .databases
                .iter()
                .filter(|d| d.component == s.component)
                .filter_map(|d| Some((d.target.host.clone()?, d.target.port?)))
                .collect(),
            Category::OpenSearch => targets
                .opensearch
                .iter()
                .filter(|o| {
                    o.endpoint.components.is_empty() || o.endpoint.components.contains(&s.component)
                })
                .map(|o| (o.endpoint.host.clone(), o.endpoint.port))
                .collect(),
        };
        let request = match requests
            .iter_mut()
            .find(|r| r.component == Some(s.component))
        {
            Some(r) => r,
            None => {
                requests.push(ProbeRequest {
                    component: Some(s.component),
                    service_account: if usable {
                        s.service_account.clone()
                    } else {
                        "default".to_string()
                    },
                    sts: false,
                    tcp: Vec::new(),
                    imds: true,
                });
                let last = requests.len() - 1;
                &mut requests[last]
            }
        };
        request.sts |= usable && s.role_arn.is_some();
        for t in tcp {
            if !request.tcp.contains(&t) {
                request.tcp.push(t);
            }
        }
    }
    requests.retain(|r| r.sts || !r.tcp.is_empty());
    let mut leftovers: Vec<(String, u16)> = Vec::new();
    let all = targets
        .databases
        .iter()
        .filter_map(|d| Some((d.target.host.clone()?, d.target.port?)))
        .chain(
            targets
                .opensearch
                .iter()
                .map(|o| (o.endpoint.host.clone(), o.endpoint.port)),
        )
        .chain(targets.external_keycloak.clone());
    for t in all {
        if !requests.iter().any(|r| r.tcp.contains(&t)) && !leftovers.contains(&t) {
            leftovers.push(t);
        }
    }
    if !leftovers.is_empty() {
        match requests.first_mut() {
            Some(first) => first.tcp.extend(leftovers),
            None => requests.push(ProbeRequest {
                component: None,
                service_account: "default".to_string(),
                sts: false,
                tcp: leftovers,
                imds: true,
            }),
        }
    }
    requests
}

/// Run the probe Jobs (nothing with `-s`); see [`probe_requests`] and [`probe::run`].
pub async fn run_probes(
    target: &KubeTarget,
    namespace: &str,
    subjects: &[IrsaSubject],
    targets: &Targets,
    components: &ComponentsFacts,
    args: &Args,
) -> Probes {
    if args.no_spawn {
        return Probes {
            spawned: false,
            namespace: namespace.to_string(),
            results: Vec::new(),
        };
    }
    let requests = probe_requests(subjects, targets, components);
    let settings = ProbeSettings::from_args(args, namespace);
    let results = probe::run(&target.client, &settings, requests).await;
    Probes {
        spawned: true,
        namespace: namespace.to_string(),
        results,
    }
}

/// Codes 41–43 for one host:port.
pub fn judge_reach(
    probes: &Probes,
    host: &str,
    port: u16,
    component: Option<Component>,
) -> Vec<Finding> {
    irsa::judge_reach(
        host,
        port,
        component,
        &probes.namespace,
        probes.spawned,
        &probes.results,
    )
}

/// Code 86: the external Keycloak's URL and Service.
pub fn judge_external_keycloak(
    components: &ComponentsFacts,
    values: &Values,
    namespace: &str,
) -> Vec<Finding> {
    let found = match &components.keycloak_service {
        Some((_, Ok(found))) => Some(*found),
        _ => None,
    };
    let mut out = aurora::judge_external_keycloak(values, found, namespace).0;
    if let Some((name, Err(err))) = &components.keycloak_service {
        out.push(
            Finding::warn(
                Code::KeycloakExternalUrl,
                format!("Cannot look up the external Keycloak's Service {name}: {err}"),
            )
            .component(Component::IdentityKeycloak.key()),
        );
    }
    out
}

/// Codes 110 and 163: the live service account and its role annotation.
pub fn judge_account(
    components: &ComponentsFacts,
    planned: &PlannedComponent,
    _subject: Option<&IrsaSubject>,
) -> Vec<Finding> {
    let Some(facts) = components.of(planned.component) else {
        return Vec::new();
    };
    let (Some(name), Some(account)) = (&facts.account_name, &facts.account) else {
        return vec![
            Finding::skip(
                Code::RoleArnAnnotation,
                format!(
                    "the service account of {}: its name is not known",
                    planned.component
                ),
            )
            .component(planned.component.key()),
        ];
    };
    irsa::judge_account(&AccountView {
        component: planned.component,
        namespace: &components.namespace,
        planned: planned.service_account.name.resolved(),
        name,
        source: &facts.account_source,
        account,
        values_role_arn: facts.values_role_arn.as_deref(),
        switch_path: &planned.service_account.switch_path,
    })
}

/// Codes 111–114: token injection, running pods, static credentials, token readable.
pub fn judge_pods(
    components: &ComponentsFacts,
    subject: &IrsaSubject,
    values: &Values,
) -> Vec<Finding> {
    let Some(facts) = components.of(subject.component) else {
        return Vec::new();
    };
    let namespace = &components.namespace;
    let role = subject.role_arn.as_deref();
    let mut out = vec![irsa::judge_token_injection(
        subject.component,
        namespace,
        &subject.service_account,
        role,
        &subject.audience,
        facts.dry_run.as_ref(),
    )];
    out.extend(irsa::judge_running_pods(
        subject.component,
        namespace,
        &subject.service_account,
        role,
        &facts.expected_workloads,
        &facts.workloads,
        &components.workload_errors,
    ));
    out.push(irsa::judge_static_credentials(
        subject.component,
        values,
        &facts.workloads,
    ));
    out.extend(irsa::judge_token_readable(
        subject.component,
        role,
        &facts.workloads,
    ));
    out
}

/// Codes 130–134: the identity a probe pod really gets.
pub fn judge_identity_probe(
    probes: &Probes,
    subject: &IrsaSubject,
    node_roles: &[String],
) -> Vec<Finding> {
    let probe = probes
        .results
        .iter()
        .find(|r| r.request.component == Some(subject.component) && r.request.sts);
    // The node groups' role names come from the AWS side; without them the instance
    // profile is still recognised by its session name (the instance id).
    vec![irsa::judge_identity(
        subject.component,
        &subject.service_account,
        subject.role_arn.as_deref(),
        probes.spawned,
        probe,
        node_roles,
    )]
}

/// Code 170: IMDS reachable from pods.
pub fn judge_imds(probes: &Probes) -> Vec<Finding> {
    vec![irsa::judge_imds(
        &probes.namespace,
        probes.spawned,
        &probes.results,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::aurora::DatabaseTarget;
    use crate::checks::components::{ServiceAccountName, ServiceAccountPlan};
    use crate::checks::opensearch::{DomainRef, OpenSearchEndpoint};
    use crate::run::{DatabaseEndpoint, OpenSearchTarget};
    use std::collections::BTreeMap;

    const ROLE: &str = "arn:aws:iam::123456789012:role/R";

    fn subject(component: Component, category: Category, role: Option<&str>) -> IrsaSubject {
        IrsaSubject {
            component,
            category,
            service_account: format!("{}-sa", component.key().to_lowercase()),
            role_arn: role.map(str::to_string),
            audience: accounts::DEFAULT_AUDIENCE.into(),
        }
    }

    fn facts(
        component: Component,
        account: Option<Fetched<Option<ServiceAccountFact>>>,
    ) -> ComponentFacts {
        ComponentFacts {
            component,
            expected_workloads: Vec::new(),
            workloads: Vec::new(),
            account_name: Some(format!("{}-sa", component.key().to_lowercase())),
            account_source: AccountSource::Values,
            account,
            values_role_arn: None,
            dry_run: None,
        }
    }

    fn sa(name: &str, annotations: &[(&str, &str)]) -> Fetched<Option<ServiceAccountFact>> {
        Ok(Some(ServiceAccountFact {
            name: name.into(),
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }))
    }

    fn targets() -> Targets {
        let db = |component| DatabaseEndpoint {
            component,
            target: DatabaseTarget {
                component,
                host: Some("db.example.com".into()),
                port: Some(5432),
                port_problem: None,
                db_user: None,
                database: None,
            },
            endpoint: None,
        };
        Targets {
            databases: vec![db(Component::Identity), db(Component::WebModeler)],
            opensearch: vec![OpenSearchTarget {
                endpoint: OpenSearchEndpoint {
                    host: "os.example.com".into(),
                    port: 443,
                    source: "global.opensearch.url.host".into(),
                    components: vec![Component::Optimize],
                },
                domain: DomainRef::Custom {
                    host: "os.example.com".into(),
                },
            }],
            external_keycloak: Some(("keycloak".into(), 8080)),
        }
    }

    #[test]
    fn one_probe_per_component_with_its_targets() {
        let components = ComponentsFacts {
            namespace: "camunda".into(),
            components: vec![
                facts(Component::Identity, Some(sa("identity-sa", &[]))),
                // Its account does not exist: reachability only, under `default`.
                facts(Component::WebModeler, Some(Ok(None))),
                facts(Component::Optimize, Some(sa("optimize-sa", &[]))),
            ],
            ..ComponentsFacts::default()
        };
        let subjects = vec![
            subject(Component::Identity, Category::Postgres, Some(ROLE)),
            subject(Component::WebModeler, Category::Postgres, None),
            subject(Component::Optimize, Category::OpenSearch, Some(ROLE)),
            // The same component in both lists: one Job with both targets.
            subject(Component::Identity, Category::OpenSearch, Some(ROLE)),
        ];
        let requests = probe_requests(&subjects, &targets(), &components);
        let db = ("db.example.com".to_string(), 5432);
        let os = ("os.example.com".to_string(), 443);
        let kc = ("keycloak".to_string(), 8080);
        assert_eq!(
            requests,
            vec![
                ProbeRequest {
                    component: Some(Component::Identity),
                    service_account: "identity-sa".into(),
                    sts: true,
                    // The external Keycloak rides along with the first Job.
                    tcp: vec![db.clone(), kc],
                    imds: true,
                },
                ProbeRequest {
                    component: Some(Component::WebModeler),
                    service_account: "default".into(),
                    sts: false,
                    tcp: vec![db],
                    imds: true,
                },
                ProbeRequest {
                    component: Some(Component::Optimize),
                    service_account: "optimize-sa".into(),
                    sts: true,
                    tcp: vec![os],
                    imds: true,
                },
            ]
        );
    }

    #[test]
    fn without_components_one_reachability_probe_under_default() {
        let requests = probe_requests(&[], &targets(), &ComponentsFacts::default());
        assert_eq!(
            requests,
            vec![ProbeRequest {
                component: None,
                service_account: "default".into(),
                sts: false,
                tcp: vec![
                    ("db.example.com".into(), 5432),
                    ("os.example.com".into(), 443),
                    ("keycloak".into(), 8080)
                ],
                imds: true,
            }]
        );
        assert!(probe_requests(&[], &Targets::default(), &ComponentsFacts::default()).is_empty());
    }

    #[test]
    fn subjects_take_the_live_account_and_fall_back_to_the_values() {
        let planned = |component| PlannedComponent {
            component,
            category: Category::Postgres,
            service_account: ServiceAccountPlan {
                switch_path: format!("{}.serviceAccount.enabled", component.key()),
                enabled: true,
                name: ServiceAccountName::Resolved {
                    name: "from-values".into(),
                    source: "values".into(),
                },
            },
        };
        let plan = Plan {
            postgres: vec![
                planned(Component::Identity),
                planned(Component::WebModeler),
                planned(Component::IdentityKeycloak),
            ],
            ..Plan::default()
        };
        let mut denied = facts(
            Component::WebModeler,
            Some(Err(ApiError::new(
                "get serviceaccount",
                Some("Forbidden".into()),
                "no",
            ))),
        );
        denied.values_role_arn = Some(ROLE.into());
        let components = ComponentsFacts {
            components: vec![
                facts(
                    Component::Identity,
                    Some(sa(
                        "identity-sa",
                        &[(accounts::ROLE_ARN, ROLE), (accounts::AUDIENCE, "aud")],
                    )),
                ),
                denied,
            ],
            ..ComponentsFacts::default()
        };
        let subjects = subjects(&components, &plan);
        assert_eq!(
            subjects,
            vec![
                IrsaSubject {
                    component: Component::Identity,
                    category: Category::Postgres,
                    service_account: "identity-sa".into(),
                    role_arn: Some(ROLE.into()),
                    audience: "aud".into(),
                },
                IrsaSubject {
                    component: Component::WebModeler,
                    category: Category::Postgres,
                    service_account: "webmodeler-sa".into(),
                    role_arn: Some(ROLE.into()),
                    audience: "sts.amazonaws.com".into(),
                },
                // Not gathered: the values' name, no role.
                IrsaSubject {
                    component: Component::IdentityKeycloak,
                    category: Category::Postgres,
                    service_account: "from-values".into(),
                    role_arn: None,
                    audience: "sts.amazonaws.com".into(),
                },
            ]
        );
    }
}
