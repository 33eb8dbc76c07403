//! The Kubernetes side of section 6 (110, 163, 111–114, 130–134), the reachability
//! probes (41–43) and IMDS (170): pure judges over what the cluster and the probe Jobs
//! showed.

use crate::chart::Component;
use crate::checks::probe_log::{self, CallerIdentity};
use crate::cluster::accounts::{self, ServiceAccountFact};
use crate::cluster::pods::{PodFact, PodSpecFact};
use crate::cluster::probe::{ProbeOutcome, ProbeResult};
use crate::cluster::workloads::{WorkloadFact, WorkloadKind};
use crate::code::Code;
use crate::facts::{ApiError, Fetched};
use crate::finding::Finding;
use crate::policy::arn::{PARTITIONS, RoleArn};
use crate::values::{EnvLookup, Values};

/// The variables that, set at all, take precedence over web identity in the AWS SDKs.
pub const STATIC_KEY_VARS: [&str; 2] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// A workload and its pods, as gathered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadPods {
    pub workload: WorkloadFact,
    pub pods: Fetched<Vec<PodFact>>,
}

/// Where the service account name that is checked came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountSource {
    /// A workload's pod template (`serviceAccountName`): the final word.
    Workload { kind: WorkloadKind, name: String },
    /// The values (the chart's naming rule); no workload was found to confirm it.
    Values,
}

/// Everything 110/163 look at for one component.
#[derive(Clone, Debug)]
pub struct AccountView<'a> {
    pub component: Component,
    pub namespace: &'a str,
    /// The name the values give (section 3), if resolved.
    pub planned: Option<&'a str>,
    /// The name checked.
    pub name: &'a str,
    pub source: &'a AccountSource,
    pub account: &'a Fetched<Option<ServiceAccountFact>>,
    /// `<c>.serviceAccount.annotations["eks.amazonaws.com/role-arn"]` in the values.
    pub values_role_arn: Option<&'a str>,
    /// The values key that switches the account on (for hints).
    pub switch_path: &'a str,
}

/// The role an annotation names, checked (163): `None` when it is not an IAM role ARN.
pub fn parse_role_arn(arn: &str) -> Option<RoleArn> {
    let role = RoleArn::parse(arn.trim())?;
    let account_ok = role.account.len() == 12 && role.account.bytes().all(|b| b.is_ascii_digit());
    (account_ok && PARTITIONS.contains(&role.partition.as_str())).then_some(role)
}

/// The role ARN the rest of the run uses for a component: the live annotation when
/// the account was read, else (the account could not be read) the values' annotation.
pub fn effective_role_arn(
    account: &Fetched<Option<ServiceAccountFact>>,
    values_role_arn: Option<&str>,
) -> Option<String> {
    match account {
        Ok(Some(sa)) => sa.role_arn().map(str::to_string),
        Ok(None) => None,
        Err(_) => values_role_arn.map(str::to_string),
    }
    .filter(|arn| parse_role_arn(arn).is_some())
}

/// Codes 110 and 163, and INFO lines for the optional annotations.
pub fn judge_account(view: &AccountView) -> Vec<Finding> {
    let c = view.component.key();
    let ns = view.namespace;
    let name = view.name;
    let mut out = Vec::new();
    match (view.source, view.planned) {
        (AccountSource::Workload { kind, name: w }, Some(planned)) if planned != name => {
            out.push(Finding::info(
                Code::ServiceAccountName,
                format!(
                    "The {} {w} runs as service account {name}, not {planned} as the values say: checking {name}.",
                    kind.label()
                ),
            ));
        }
        (AccountSource::Workload { kind, name: w }, None) => out.push(Finding::info(
            Code::ServiceAccountName,
            format!(
                "Service account of {c}: {name} (from the {} {w}).",
                kind.label()
            ),
        )),
        _ => {}
    }
    let skip_rest = |reason: &str| {
        Finding::skip(
            Code::RoleArn,
            format!("the IRSA checks of {c} that need its role: {reason}"),
        )
    };
    match view.account {
        Err(err) => {
            let mut finding = Finding::fail(
                Code::RoleArnAnnotation,
                format!("Cannot read the service account {ns}/{name}: {err}"),
            );
            if err.is_access_denied() {
                finding = finding.hint(format!(
                    "irsa-check needs get on serviceaccounts in namespace {ns} (README: Required Kubernetes RBAC)."
                ));
            }
            out.push(finding);
            match view
                .values_role_arn
                .and_then(|a| parse_role_arn(a).map(|r| (a, r)))
            {
                Some((arn, _)) => out.push(Finding::info(
                    Code::RoleArn,
                    format!("Using the role the values annotate instead: {arn}"),
                )),
                None => out.push(skip_rest("the service account could not be read")),
            }
        }
        Ok(None) => {
            out.push(
                Finding::fail(
                    Code::RoleArnAnnotation,
                    format!("The service account {name} does not exist in namespace {ns}."),
                )
                .hint(format!(
                    "The chart creates it when {} is true; otherwise create it and annotate it with {}.",
                    view.switch_path,
                    accounts::ROLE_ARN
                )),
            );
            out.push(skip_rest("its service account does not exist"));
        }
        Ok(Some(sa)) => match sa.role_arn() {
            None => {
                let hint = match view.values_role_arn {
                    Some(arn) => format!(
                        "The values annotate it with {arn}, the live account does not have it: upgrade the release (helm upgrade), or check what else manages the account."
                    ),
                    None => format!(
                        "Set {c}.serviceAccount.annotations.\"{}\" to the IAM role's ARN in the values and upgrade the release.",
                        accounts::ROLE_ARN
                    ),
                };
                out.push(
                    Finding::fail(
                        Code::RoleArnAnnotation,
                        format!(
                            "The service account {name} has no {} annotation: its pods get no IAM role.",
                            accounts::ROLE_ARN
                        ),
                    )
                    .hint(hint),
                );
                out.push(skip_rest("the service account names no role"));
            }
            Some(arn) => {
                out.push(Finding::ok(
                    Code::RoleArnAnnotation,
                    format!(
                        "The service account {name} is annotated with {}: {arn}",
                        accounts::ROLE_ARN
                    ),
                ));
                if let Some(values_arn) = view.values_role_arn
                    && values_arn.trim() != arn
                {
                    out.push(Finding::info(
                        Code::RoleArnAnnotation,
                        format!(
                            "The values annotate {name} with {values_arn}; the live account's {arn} is the one pods get."
                        ),
                    ));
                }
                out.extend(annotation_notes(name, sa));
                match parse_role_arn(arn) {
                    Some(role) => out.push(Finding::ok(
                        Code::RoleArn,
                        format!(
                            "The annotation names role {} in account {} (partition {}).",
                            role.name, role.account, role.partition
                        ),
                    )),
                    None => {
                        out.push(
                            Finding::fail(
                                Code::RoleArn,
                                format!(
                                    "The {} annotation of {name} is not an IAM role ARN: {arn}",
                                    accounts::ROLE_ARN
                                ),
                            )
                            .hint("The form is arn:aws:iam::ACCOUNT_ID:role/ROLE_NAME (the role's ARN, not its name)."),
                        );
                    }
                }
            }
        },
    }
    out.into_iter().map(|f| f.component(c)).collect()
}

/// INFO lines for `audience`, `sts-regional-endpoints` and `token-expiration`.
fn annotation_notes(name: &str, sa: &ServiceAccountFact) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(audience) = sa
        .annotation(accounts::AUDIENCE)
        .filter(|a| !a.trim().is_empty())
    {
        out.push(Finding::info(
            Code::RoleArnAnnotation,
            format!(
                "The service account {name} requests the token audience {} ({}): the role's trust policy must admit it.",
                audience.trim(),
                accounts::AUDIENCE
            ),
        ));
    }
    if let Some(regional) = sa.annotation(accounts::STS_REGIONAL_ENDPOINTS) {
        let meaning = match regional.trim() {
            "false" => "pods use the global STS endpoint",
            "true" => "pods use the regional STS endpoint",
            _ => "not a boolean: the webhook ignores it",
        };
        out.push(Finding::info(
            Code::RoleArnAnnotation,
            format!(
                "The service account {name} sets {}: {} ({meaning}).",
                accounts::STS_REGIONAL_ENDPOINTS,
                regional.trim()
            ),
        ));
    }
    if let Some(expiration) = sa.annotation(accounts::TOKEN_EXPIRATION) {
        let meaning = match expiration.trim().parse::<i64>() {
            Ok(s) if s < 600 => format!("{s} s; the webhook raises it to 600 s"),
            Ok(s) => format!("{s} s"),
            Err(_) => "not a number: the webhook uses 86400 s".to_string(),
        };
        out.push(Finding::info(
            Code::RoleArnAnnotation,
            format!(
                "The service account {name} sets {}: {meaning}.",
                accounts::TOKEN_EXPIRATION
            ),
        ));
    }
    out
}

/// Code 111: a dry-run pod under the account comes back with the role, the token file
/// and the projected token volume.
pub fn judge_token_injection(
    component: Component,
    namespace: &str,
    account: &str,
    role_arn: Option<&str>,
    audience: &str,
    dry_run: Option<&Fetched<PodSpecFact>>,
) -> Finding {
    let c = component.key();
    let finding = match (role_arn, dry_run) {
        (None, _) => Finding::skip(
            Code::TokenInjection,
            format!("token injection for {c}: its service account names no role"),
        ),
        (_, None) => Finding::skip(
            Code::TokenInjection,
            format!("token injection for {c}: the service account could not be read"),
        ),
        (Some(_), Some(Err(err))) if err.code.as_deref() == Some("Forbidden") => {
            if err.message.contains("cannot create resource") {
                Finding::info(
                    Code::TokenInjection,
                    format!(
                        "Cannot verify token injection for {account}: {err}. The check needs permission to create pods with dryRun=All in namespace {namespace} (create on pods; a server-side dry run creates nothing)."
                    ),
                )
            } else {
                Finding::info(
                    Code::TokenInjection,
                    format!(
                        "Cannot verify token injection for {account}: admission refused the dry-run pod: {err}"
                    ),
                )
            }
        }
        (Some(_), Some(Err(err))) => Finding::fail(
            Code::TokenInjection,
            format!("Cannot verify token injection for {account}: {err}"),
        ),
        (Some(role), Some(Ok(spec))) => injection_verdict(account, role, audience, spec),
    };
    finding.component(c)
}

fn injection_verdict(account: &str, role: &str, audience: &str, spec: &PodSpecFact) -> Finding {
    let Some(container) = spec.containers.first() else {
        return Finding::fail(
            Code::TokenInjection,
            format!("The dry-run pod of {account} came back without containers."),
        );
    };
    let injected_role = container
        .env_value("AWS_ROLE_ARN")
        .filter(|v| !v.is_empty());
    let token_file = container
        .env_value("AWS_WEB_IDENTITY_TOKEN_FILE")
        .filter(|v| !v.is_empty());
    let hint = "The EKS pod identity webhook mutates pods at admission: check that it runs (kubectl get mutatingwebhookconfiguration pod-identity-webhook) and that no policy removes its changes.";
    if injected_role.is_none() && token_file.is_none() && spec.token_volume.is_none() {
        return Finding::fail(
            Code::TokenInjection,
            format!(
                "A pod of service account {account} gets no web identity from the EKS pod identity webhook (no AWS_ROLE_ARN, no AWS_WEB_IDENTITY_TOKEN_FILE, no projected token; server-side dry run)."
            ),
        )
        .hint(hint);
    }
    let mut problems = Vec::new();
    match injected_role {
        None => problems.push("no AWS_ROLE_ARN".to_string()),
        Some(r) if r != role => problems.push(format!("AWS_ROLE_ARN={r}, not {role}")),
        Some(_) => {}
    }
    if token_file.is_none() {
        problems.push("no AWS_WEB_IDENTITY_TOKEN_FILE".to_string());
    }
    match &spec.token_volume {
        None => problems.push("no projected service account token volume".to_string()),
        Some(volume) => {
            if volume.audience != audience {
                problems.push(format!(
                    "the token's audience is {}, not {audience}",
                    volume.audience
                ));
            }
            let mounted = container.mounts.iter().any(|(v, path)| {
                *v == volume.name && token_file.is_none_or(|f| f.starts_with(path.as_str()))
            });
            if !mounted {
                problems.push(format!(
                    "the token volume {} is not mounted where AWS_WEB_IDENTITY_TOKEN_FILE points",
                    volume.name
                ));
            }
        }
    }
    if problems.is_empty() {
        Finding::ok(
            Code::TokenInjection,
            format!(
                "A pod of service account {account} gets AWS_ROLE_ARN={role}, AWS_WEB_IDENTITY_TOKEN_FILE={} and the projected token (audience {audience}) from the EKS pod identity webhook (server-side dry run).",
                token_file.unwrap_or_default()
            ),
        )
    } else {
        Finding::fail(
            Code::TokenInjection,
            format!(
                "A pod of service account {account} is not fully set up for IRSA by the webhook (server-side dry run): {}.",
                problems.join("; ")
            ),
        )
        .hint(hint)
    }
}

/// Code 112: the running pods carry the annotated role.
pub fn judge_running_pods(
    component: Component,
    namespace: &str,
    account: &str,
    role_arn: Option<&str>,
    expected: &[String],
    workloads: &[WorkloadPods],
    workload_errors: &[ApiError],
) -> Vec<Finding> {
    let c = component.key();
    let Some(role) = role_arn else {
        return vec![
            Finding::skip(
                Code::RunningPods,
                format!("running pods of {c}: its service account names no role"),
            )
            .component(c),
        ];
    };
    if workloads.is_empty() {
        let finding = if let Some(err) = workload_errors.first() {
            Finding::fail(
                Code::RunningPods,
                format!("Cannot find the workloads of {c}: {err}"),
            )
        } else if expected.is_empty() {
            Finding::info(
                Code::RunningPods,
                format!(
                    "The running pods of {c} are not checked: its workload names need the release name (pass --release)."
                ),
            )
        } else {
            Finding::warn(
                Code::RunningPods,
                format!(
                    "No Deployment or StatefulSet named {} in namespace {namespace}: the running pods of {c} are not checked.",
                    expected.join(", ")
                ),
            )
        };
        return vec![finding.component(c)];
    }
    let mut out = Vec::new();
    for wp in workloads {
        let w = &wp.workload;
        let what = format!("{} {}", w.kind.label(), w.name);
        let restart = format!(
            "restart the workload (kubectl rollout restart {}/{} -n {namespace})",
            w.kind.kubectl(),
            w.name
        );
        let pods = match &wp.pods {
            Err(err) => {
                out.push(Finding::fail(
                    Code::RunningPods,
                    format!("Cannot list the pods of {what}: {err}"),
                ));
                continue;
            }
            Ok(pods) => pods,
        };
        let running: Vec<&PodFact> = pods.iter().filter(|p| p.is_running()).collect();
        if running.is_empty() {
            out.push(Finding::info(
                Code::RunningPods,
                format!("{what} has no running pod to check."),
            ));
            continue;
        }
        let mut missing = Vec::new();
        let mut other = Vec::new();
        let mut wrong_account = Vec::new();
        for pod in &running {
            if pod.spec.service_account != account {
                wrong_account.push(format!(
                    "{} (service account {})",
                    pod.name, pod.spec.service_account
                ));
                continue;
            }
            let roles: Vec<&str> = pod
                .spec
                .containers
                .iter()
                .filter_map(|c| c.env_value("AWS_ROLE_ARN"))
                .filter(|r| !r.is_empty())
                .collect();
            if roles.is_empty() {
                missing.push(pod.name.clone());
            } else if let Some(r) = roles.iter().find(|r| **r != role) {
                other.push(format!("{} (AWS_ROLE_ARN={r})", pod.name));
            }
        }
        if !missing.is_empty() {
            out.push(Finding::fail(
                Code::RunningPods,
                format!(
                    "Running pods of {what} have no AWS_ROLE_ARN: {}. They predate the {} annotation: {restart}.",
                    missing.join(", "),
                    accounts::ROLE_ARN
                ),
            ));
        }
        if !other.is_empty() {
            out.push(Finding::fail(
                Code::RunningPods,
                format!(
                    "Running pods of {what} carry another role than the annotated {role}: {}. They predate the annotation's change: {restart}.",
                    other.join(", ")
                ),
            ));
        }
        if !wrong_account.is_empty() {
            out.push(Finding::fail(
                Code::RunningPods,
                format!(
                    "Running pods of {what} run under another service account than {account}: {}. They predate the change: {restart}.",
                    wrong_account.join(", ")
                ),
            ));
        }
        if missing.is_empty() && other.is_empty() && wrong_account.is_empty() {
            out.push(Finding::ok(
                Code::RunningPods,
                format!(
                    "{} running pod(s) of {what} carry AWS_ROLE_ARN={role}.",
                    running.len()
                ),
            ));
        }
    }
    out.into_iter().map(|f| f.component(c)).collect()
}

/// The values env lists a component's containers get.
pub fn values_env_paths(component: Component) -> Vec<Vec<&'static str>> {
    match component {
        Component::IdentityKeycloak => vec![vec!["identityKeycloak", "extraEnvVars"]],
        Component::WebModeler => vec![
            vec!["webModeler", "restapi", "env"],
            vec!["webModeler", "webapp", "env"],
            vec!["webModeler", "websockets", "env"],
            vec!["camundaHub", "restapi", "env"],
        ],
        other => vec![vec![other.key(), "env"]],
    }
}

/// Code 113: no static AWS keys in the component's values env lists or in the env of
/// its running pods (of its workload templates when no pod runs). Names where, never
/// the value.
pub fn judge_static_credentials(
    component: Component,
    values: &Values,
    workloads: &[WorkloadPods],
) -> Finding {
    let c = component.key();
    let mut places = Vec::new();
    for path in values_env_paths(component) {
        for var in STATIC_KEY_VARS {
            let how = match values.env_value(&path, var) {
                EnvLookup::NotFound => continue,
                EnvLookup::Value(v) if v.is_empty() => " (empty)".to_string(),
                EnvLookup::Value(_) => String::new(),
                EnvLookup::ValueFrom { source } => format!(" (from {source})"),
            };
            places.push(format!("{} sets {var}{how}", path.join(".")));
        }
    }
    for wp in workloads {
        let running: Vec<&PodFact> = match &wp.pods {
            Ok(pods) => pods.iter().filter(|p| p.is_running()).collect(),
            Err(_) => Vec::new(),
        };
        let mut specs: Vec<(String, &PodSpecFact)> = running
            .iter()
            .map(|p| (format!("pod {}", p.name), &p.spec))
            .collect();
        if specs.is_empty() {
            specs.push((
                format!(
                    "the pod template of {} {}",
                    wp.workload.kind.label(),
                    wp.workload.name
                ),
                &wp.workload.template,
            ));
        }
        for (what, spec) in specs {
            for container in spec.all_containers() {
                for var in STATIC_KEY_VARS {
                    let Some(entry) = container.env_entry(var) else {
                        continue;
                    };
                    let how = match &entry.value_from {
                        Some(source) => format!(" (from {source})"),
                        None => String::new(),
                    };
                    places.push(format!(
                        "{what} container {} sets {var}{how}",
                        container.name
                    ));
                }
            }
        }
    }
    let finding = if places.is_empty() {
        Finding::ok(
            Code::CredentialsNotShadowed,
            format!(
                "No static AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY in the values or the pods of {c}."
            ),
        )
    } else {
        Finding::fail(
            Code::CredentialsNotShadowed,
            format!(
                "Static AWS credentials shadow the web identity of {c}: {}. The AWS SDKs use them before the IRSA token, even when empty.",
                places.join("; ")
            ),
        )
        .hint("Remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the component's env (values and Secrets it loads).")
    };
    finding.component(c)
}

/// Whether the containers of a pod can read the projected token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenAccess {
    Readable(String),
    /// Depends on the image's user, which the spec does not say.
    Unknown(String),
    Unreadable(String),
}

/// The kubelet makes the projected token readable to the pod's `fsGroup`, or owns it by
/// the containers' user when they all share one `runAsUser`; root reads anything.
pub fn token_access(spec: &PodSpecFact) -> TokenAccess {
    if let Some(group) = spec.fs_group {
        return TokenAccess::Readable(format!("fsGroup {group}"));
    }
    let users: Vec<Option<i64>> = spec.containers.iter().map(|c| spec.user_of(c)).collect();
    if users.is_empty() {
        return TokenAccess::Unknown("the pod has no containers".to_string());
    }
    if users.iter().all(|u| *u == Some(0)) {
        return TokenAccess::Readable("its containers run as root".to_string());
    }
    if let Some(Some(first)) = users.first()
        && users.iter().all(|u| *u == Some(*first))
    {
        return TokenAccess::Readable(format!("every container runs as user {first}"));
    }
    let describe = |c: &crate::cluster::pods::ContainerFact| match spec.user_of(c) {
        Some(u) => format!("{} as user {u}", c.name),
        None if spec.non_root_of(c) => format!("{} as the image's non-root user", c.name),
        None => format!("{} as the image's user", c.name),
    };
    let surely_non_root = spec.containers.iter().any(|c| match spec.user_of(c) {
        Some(u) => u != 0,
        None => spec.non_root_of(c),
    });
    let all: Vec<String> = spec.containers.iter().map(describe).collect();
    if !surely_non_root {
        return TokenAccess::Unknown(format!(
            "no fsGroup, and its containers run {}",
            all.join(", ")
        ));
    }
    TokenAccess::Unreadable(format!(
        "no fsGroup and no runAsUser that all its containers share ({})",
        all.join(", ")
    ))
}

/// Code 114: the running pods (or, when none runs, the workload templates) can read
/// the projected token.
pub fn judge_token_readable(
    component: Component,
    role_arn: Option<&str>,
    workloads: &[WorkloadPods],
) -> Vec<Finding> {
    let c = component.key();
    if role_arn.is_none() {
        return vec![
            Finding::skip(
                Code::TokenReadable,
                format!("token readability for {c}: its service account names no role"),
            )
            .component(c),
        ];
    }
    if workloads.is_empty() {
        return vec![
            Finding::skip(
                Code::TokenReadable,
                format!("token readability for {c}: no workload of it was found"),
            )
            .component(c),
        ];
    }
    let hint = format!(
        "Set {c}.podSecurityContext.fsGroup (for example to the containers' runAsUser) so the token file is group-readable."
    );
    let mut out = Vec::new();
    for wp in workloads {
        let w = &wp.workload;
        let what = format!("{} {}", w.kind.label(), w.name);
        let running: Vec<&PodFact> = match &wp.pods {
            Ok(pods) => pods.iter().filter(|p| p.is_running()).collect(),
            Err(_) => Vec::new(),
        };
        let subjects: Vec<(String, &PodSpecFact)> = if running.is_empty() {
            vec![(format!("the pod template of {what}"), &w.template)]
        } else {
            running
                .iter()
                .map(|p| (format!("pod {} of {what}", p.name), &p.spec))
                .collect()
        };
        let mut bad = Vec::new();
        let mut unknown = Vec::new();
        let mut reasons = Vec::new();
        for (who, spec) in &subjects {
            match token_access(spec) {
                TokenAccess::Readable(r) => {
                    if !reasons.contains(&r) {
                        reasons.push(r);
                    }
                }
                TokenAccess::Unknown(r) => unknown.push(format!("{who}: {r}")),
                TokenAccess::Unreadable(r) => bad.push(format!("{who}: {r}")),
            }
        }
        if !bad.is_empty() {
            out.push(
                Finding::fail(
                    Code::TokenReadable,
                    format!(
                        "The projected token is not readable by the containers of {}.",
                        bad.join("; ")
                    ),
                )
                .hint(hint.clone()),
            );
        } else if !unknown.is_empty() {
            out.push(
                Finding::warn(
                    Code::TokenReadable,
                    format!(
                        "Cannot tell whether the projected token is readable by {}; it is, if the image runs as root.",
                        unknown.join("; ")
                    ),
                )
                .hint(hint.clone()),
            );
        } else {
            out.push(Finding::ok(
                Code::TokenReadable,
                format!(
                    "The pods of {what} can read the projected token ({}).",
                    reasons.join("; ")
                ),
            ));
        }
    }
    out.into_iter().map(|f| f.component(c)).collect()
}

/// An assumed-role session ARN, `arn:P:sts::ACCOUNT:assumed-role/NAME/SESSION`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRole {
    pub partition: String,
    pub account: String,
    pub role: String,
    pub session: String,
}

/// Read an assumed-role session ARN; `None` for any other ARN.
pub fn parse_assumed_role(arn: &str) -> Option<AssumedRole> {
    let crate::policy::arn::ArnParts {
        partition,
        service: "sts",
        region: "",
        account,
        resource,
    } = crate::policy::arn::split_arn(arn.trim())?
    else {
        return None;
    };
    let rest = resource.strip_prefix("assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    if role.is_empty() || session.is_empty() || partition.is_empty() {
        return None;
    }
    Some(AssumedRole {
        partition: partition.to_string(),
        account: account.to_string(),
        role: role.to_string(),
        session: session.to_string(),
    })
}

/// An EC2 instance id as the session name of an instance profile's credentials.
fn is_instance_id(session: &str) -> bool {
    session
        .strip_prefix("i-")
        .is_some_and(|hex| hex.len() >= 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Why the CLI gave no identity, in the user's terms.
fn explain_sts_error(line: &str) -> Option<&'static str> {
    if line.contains("Unable to locate credentials") {
        return Some(
            "the pod has no credentials at all: no web identity was injected and IMDS is not reachable",
        );
    }
    match probe_log::error_code(line)? {
        "AccessDenied" if line.contains("AssumeRoleWithWebIdentity") => {
            Some("the role's trust policy rejects this service account's token")
        }
        "InvalidIdentityToken" => Some(
            "STS does not accept the token: the cluster's IAM OIDC provider is missing or does not match its issuer",
        ),
        "IDPRejectedClaim" => {
            Some("STS rejects the token's claims: check the OIDC provider's audience (client IDs)")
        }
        "ExpiredTokenException" | "ExpiredToken" => Some("the projected token has expired"),
        "ValidationError" => Some("the annotated role ARN is not valid"),
        _ => None,
    }
}

/// Codes 130–134: the identity a pod under the account really gets. `node_roles` are the
/// node groups' role names when known (to recognise the instance profile).
pub fn judge_identity(
    component: Component,
    account: &str,
    role_arn: Option<&str>,
    spawned: bool,
    probe: Option<&ProbeResult>,
    node_roles: &[String],
) -> Finding {
    let c = component.key();
    let finding = match (spawned, role_arn, probe) {
        (false, _, _) => Finding::skip(
            Code::IdentityProbeCreated,
            format!("the identity probe of {c}: -s spawns no pods"),
        ),
        (true, None, _) => Finding::skip(
            Code::IdentityProbeCreated,
            format!("the identity probe of {c}: its service account names no role"),
        ),
        (true, Some(_), None) => Finding::skip(
            Code::IdentityProbeCreated,
            format!("the identity probe of {c}: its service account could not be used"),
        ),
        (true, Some(role), Some(probe)) => identity_verdict(c, account, role, probe, node_roles),
    };
    finding.component(c)
}

fn identity_verdict(
    c: &str,
    account: &str,
    role: &str,
    probe: &ProbeResult,
    node_roles: &[String],
) -> Finding {
    let job = &probe.job;
    let log = match &probe.outcome {
        ProbeOutcome::NotCreated(err) => {
            let mut f = Finding::fail(
                Code::IdentityProbeCreated,
                format!("Cannot create the identity probe job {job} of {c}: {err}"),
            );
            if err.is_access_denied() && err.message.contains("cannot create resource") {
                f = f.hint(
                    "irsa-check needs create on jobs (batch) in the namespace, or run it with -s.",
                );
            }
            return f;
        }
        ProbeOutcome::NotFinished(why) => {
            return Finding::fail(
                Code::IdentityProbeFinished,
                format!("The identity probe job {job} of {c} did not finish: {why}."),
            );
        }
        ProbeOutcome::LogUnreadable(err) => {
            return Finding::fail(
                Code::IdentityProbeFinished,
                format!(
                    "The identity probe job {job} of {c} finished, but its log cannot be read: {err}"
                ),
            );
        }
        ProbeOutcome::Finished(log) => log,
    };
    let Some(sts) = &log.sts else {
        return Finding::fail(
            Code::IdentityProbeJson,
            format!(
                "The identity probe job {job} of {c} printed no caller identity; {}.",
                log.first_line_or_empty()
            ),
        )
        .hint("The probe image must have bash, timeout and the aws CLI (--probe-image).");
    };
    let arn = match sts.caller_identity() {
        CallerIdentity::NotJson { line } => {
            let Some(line) = line else {
                let cut = if sts.rc.is_none() {
                    "its output was cut short"
                } else {
                    "it printed nothing"
                };
                return Finding::fail(
                    Code::IdentityProbeJson,
                    format!(
                        "aws sts get-caller-identity in the identity probe of {c} gave no identity: {cut}."
                    ),
                );
            };
            let line = probe_log::without_cli_prefix(&line);
            let why = explain_sts_error(line)
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            return Finding::fail(
                Code::IdentityProbeJson,
                format!(
                    "aws sts get-caller-identity under service account {account} failed: {line}{why}."
                ),
            );
        }
        CallerIdentity::Json { arn: None } => {
            return Finding::fail(
                Code::IdentityProbeArn,
                format!("The caller identity of the identity probe of {c} has no Arn."),
            );
        }
        CallerIdentity::Json { arn: Some(arn) } => arn,
    };
    let expected = parse_role_arn(role);
    match (parse_assumed_role(&arn), expected) {
        (Some(seen), Some(expected))
            if seen.partition == expected.partition
                && seen.account == expected.account
                && seen.role == expected.name =>
        {
            Finding::ok(
                Code::IdentityProbeRole,
                format!("A pod under service account {account} runs as {arn}: the annotated role {role}."),
            )
        }
        (Some(seen), _) if is_instance_id(&seen.session) || node_roles.contains(&seen.role) => {
            Finding::fail(
                Code::IdentityProbeRole,
                format!(
                    "A pod under service account {account} runs as the node role {} ({arn}), not {role}: IRSA is not in effect and the pod fell back to the instance profile.",
                    seen.role
                ),
            )
            .hint("Check the token injection (111) and why the web identity was not used; block pods from IMDS (170) so such failures surface.")
        }
        (Some(_), _) => Finding::fail(
            Code::IdentityProbeRole,
            format!("A pod under service account {account} runs as {arn}, not the annotated role {role}."),
        ),
        (None, _) => Finding::fail(
            Code::IdentityProbeRole,
            format!(
                "A pod under service account {account} runs as {arn}, which is not an assumed role: other credentials (static keys, a profile) take precedence over the web identity of {role}."
            ),
        ),
    }
}

/// Codes 41–43 for one `host:port`: from the probes that tried it (those of
/// `component` when given and any did).
pub fn judge_reach(
    host: &str,
    port: u16,
    component: Option<Component>,
    namespace: &str,
    spawned: bool,
    probes: &[ProbeResult],
) -> Vec<Finding> {
    let tag = |f: Finding| match component {
        Some(c) => f.component(c.key()),
        None => f,
    };
    if !spawned {
        return vec![tag(Finding::skip(
            Code::ReachProbeCreated,
            format!("reachability of {host}:{port}: -s spawns no pods"),
        ))];
    }
    let tried: Vec<&ProbeResult> = probes
        .iter()
        .filter(|p| p.request.tcp.iter().any(|(h, pt)| h == host && *pt == port))
        .collect();
    let own: Vec<&ProbeResult> = tried
        .iter()
        .copied()
        .filter(|p| component.is_some() && p.request.component == component)
        .collect();
    let chosen = if own.is_empty() { tried } else { own };
    if chosen.is_empty() {
        return vec![tag(Finding::skip(
            Code::ReachProbeCreated,
            format!("reachability of {host}:{port}: no probe job was made for it"),
        ))];
    }
    let mut out = Vec::new();
    for probe in chosen {
        let job = &probe.job;
        let from = match probe.request.component {
            Some(c) => format!(" (probe of {c})"),
            None => String::new(),
        };
        let finding = match &probe.outcome {
            ProbeOutcome::NotCreated(err) => Finding::fail(
                Code::ReachProbeCreated,
                format!("Cannot create the reachability probe job {job} for {host}:{port}: {err}"),
            ),
            ProbeOutcome::NotFinished(why) => Finding::fail(
                Code::ReachProbeFinished,
                format!("The reachability probe job {job} for {host}:{port} did not finish: {why}."),
            ),
            ProbeOutcome::LogUnreadable(err) => Finding::fail(
                Code::ReachProbeFinished,
                format!(
                    "The reachability probe job {job} for {host}:{port} finished, but its log cannot be read: {err}"
                ),
            ),
            ProbeOutcome::Finished(log) => match log.tcp_result(host, port) {
                None => Finding::fail(
                    Code::ReachProbeFinished,
                    format!(
                        "The reachability probe job {job} reported nothing for {host}:{port}; {}.",
                        log.first_line_or_empty()
                    ),
                ),
                Some(false) => Finding::fail(
                    Code::ReachPortOpen,
                    format!("Port {port} of {host} is not reachable from namespace {namespace}{from}."),
                )
                .hint("Check the security groups of the endpoint and the nodes, the subnets' routes and NetworkPolicies in the namespace."),
                Some(true) => Finding::ok(
                    Code::ReachPortOpen,
                    format!("Port {port} of {host} is reachable from namespace {namespace}{from}."),
                ),
            },
        };
        out.push(tag(finding));
    }
    out
}

/// Code 170: can pods get an IMDSv2 token (and so fall back to the node role)?
pub fn judge_imds(namespace: &str, spawned: bool, probes: &[ProbeResult]) -> Finding {
    if !spawned {
        return Finding::skip(Code::ImdsReachable, "IMDS reachability: -s spawns no pods");
    }
    let answers: Vec<(&ProbeResult, bool)> = probes
        .iter()
        .filter_map(|p| match &p.outcome {
            ProbeOutcome::Finished(log) => log.imds.map(|t| (p, t)),
            _ => None,
        })
        .collect();
    let reached: Vec<String> = answers
        .iter()
        .filter(|(_, token)| *token)
        .map(|(p, _)| p.job.clone())
        .collect();
    if !reached.is_empty() {
        return Finding::warn(
            Code::ImdsReachable,
            format!(
                "Pods in namespace {namespace} can get an IMDSv2 token from 169.254.169.254 (probe job {}): when IRSA fails, the AWS SDKs silently fall back to the node role, which hides the failure.",
                reached.join(", ")
            ),
        )
        .hint("Require IMDSv2 with a hop limit of 1 in the nodes' launch template (HttpPutResponseHopLimit=1) so pods cannot reach IMDS.");
    }
    if answers.is_empty() {
        return Finding::skip(
            Code::ImdsReachable,
            "IMDS reachability: no probe job reported on it",
        );
    }
    Finding::ok(
        Code::ImdsReachable,
        format!(
            "Pods in namespace {namespace} cannot get an IMDSv2 token from 169.254.169.254: IRSA failures cannot hide behind the node role."
        ),
    )
}

#[cfg(test)]
mod tests;
