//! The API server: connections, authentication, fault injection, routing and the verbs.

use std::io;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::admission::{admit_job, admit_pod, check_object_name};
use super::faults::{FaultAction, rbac_denial};
use super::http::{self, Request, Response};
use super::jobs;
use super::requests::{RecordedRequest, Verb};
use super::selector::{FieldSelector, LabelSelector};
use super::state::Shared;
use super::status::Failure;
use super::store::{
    ObjectKey, POD, Resource, Store, labels_of, resource_by_route, set_metadata, str_at,
};
use super::watch::{self, WatchSpec};

/// What a request gets.
enum Reply {
    Full(Response),
    Watch(WatchSpec),
    Hang,
}

impl Reply {
    fn status(&self) -> Option<u16> {
        match self {
            Reply::Full(r) => Some(r.status),
            Reply::Watch(_) => Some(200),
            Reply::Hang => None,
        }
    }
}

impl From<Failure> for Reply {
    fn from(failure: Failure) -> Reply {
        Reply::Full(failure.response())
    }
}

impl From<Result<Response, Failure>> for Reply {
    fn from(result: Result<Response, Failure>) -> Reply {
        match result {
            Ok(response) => Reply::Full(response),
            Err(failure) => failure.into(),
        }
    }
}

/// Accepts connections until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        // A broken connection concerns only its client.
                        let _ = connection(stream, shared).await;
                    });
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let request = match http::read_request(&mut reader).await {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let failure = Failure::bad_request(e.to_string());
                return http::write_response(&mut writer, &failure.response(), false).await;
            }
            Err(e) => return Err(e),
        };
        let keep_alive = request.keep_alive();
        match respond(&request, &shared).await {
            Reply::Full(response) => {
                http::write_response(&mut writer, &response, keep_alive).await?;
                if !keep_alive {
                    return Ok(());
                }
            }
            Reply::Watch(spec) => {
                return watch::stream(&mut reader, &mut writer, &shared, spec).await;
            }
            Reply::Hang => std::future::pending::<()>().await,
        }
    }
}

async fn respond(request: &Request, shared: &Arc<Shared>) -> Reply {
    let recorded = RecordedRequest::parse(request);
    let index = shared.record(recorded.clone());
    let reply = route(request, &recorded, shared).await;
    if let Some(status) = reply.status() {
        shared.set_status(index, status);
    }
    reply
}

fn authorized(request: &Request, token: &str) -> bool {
    request
        .header("authorization")
        .and_then(|h| {
            let (scheme, credentials) = h.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| credentials.trim())
        })
        .is_some_and(|credentials| credentials == token)
}

/// For a create, the object's name as admission plugins see it (name, else generateName).
fn body_name(request: &Request) -> Option<String> {
    let body: Value = serde_json::from_slice(&request.body).ok()?;
    let name = str_at(&body, "/metadata/name");
    let name = if name.is_empty() {
        str_at(&body, "/metadata/generateName")
    } else {
        name
    };
    (!name.is_empty()).then(|| name.to_string())
}

async fn route(request: &Request, recorded: &RecordedRequest, shared: &Arc<Shared>) -> Reply {
    if !authorized(request, &shared.settings.token) {
        return Failure::unauthorized().into();
    }
    let resource = resource_by_route(
        &recorded.api_group,
        &recorded.api_version,
        &recorded.resource,
    );
    let object_name = match recorded.verb {
        Some(Verb::Create) if recorded.subresource.is_none() => body_name(request),
        _ => recorded.name.clone(),
    };
    if let Some(fault) = shared.take_fault(recorded, object_name.as_deref()) {
        let details = |failure: Failure| match resource {
            Some(r) => failure.with_details(r.status_details(object_name.as_deref().unwrap_or(""))),
            None => failure,
        };
        match fault.action {
            FaultAction::Status {
                code,
                reason,
                message,
            } => {
                let name = object_name.as_deref().unwrap_or("Unknown");
                return details(Failure::new(code, &reason, message.replace("{name}", name)))
                    .into();
            }
            FaultAction::Forbidden => {
                return details(Failure::new(
                    403,
                    "Forbidden",
                    rbac_denial(recorded, resource),
                ))
                .into();
            }
            FaultAction::Delay(delay) => tokio::time::sleep(delay).await,
            FaultAction::Hang => return Reply::Hang,
        }
    }

    let Some(verb) = recorded.verb else {
        if request.method == "GET" && request.path == "/version" {
            return Reply::Full(Response::json(
                200,
                &version(&shared.settings.server_version),
            ));
        }
        return Failure::no_route().into();
    };
    let Some(resource) = resource else {
        return Failure::no_route().into();
    };
    // Cluster-scoped kinds have no namespaced paths; namespaced kinds are only
    // listed or watched across namespaces.
    let scope_ok = if resource.namespaced {
        recorded.namespace.is_some() || matches!(verb, Verb::List | Verb::Watch)
    } else {
        recorded.namespace.is_none()
    };
    if !scope_ok {
        return Failure::no_route().into();
    }
    let namespace = recorded.namespace.as_deref();
    let name = recorded.name.as_deref().unwrap_or("");
    match (verb, recorded.subresource.as_deref()) {
        (Verb::Get, None) => get(shared, resource, namespace.unwrap_or(""), name).into(),
        (Verb::List, None) => list(shared, request, resource, namespace).into(),
        (Verb::Watch, None) => {
            match watch::spec(request, resource, namespace, recorded.name.as_deref()) {
                Ok(spec) => Reply::Watch(spec),
                Err(failure) => failure.into(),
            }
        }
        (Verb::Create, None) => create(shared, request, resource, namespace.unwrap_or("")).into(),
        (Verb::Delete, None) => delete(
            shared,
            request,
            recorded,
            resource,
            namespace.unwrap_or(""),
            name,
        )
        .into(),
        (Verb::Get, Some("log")) if resource.kind == "Pod" => {
            logs(shared, request, namespace.unwrap_or(""), name).into()
        }
        _ => Failure::method_not_allowed().into(),
    }
}

/// `/version` as EKS answers it (`minor` carries a `+`).
fn version(git_version: &str) -> Value {
    let numbers: Vec<&str> = git_version
        .trim_start_matches('v')
        .split(['.', '-'])
        .collect();
    let major = numbers.first().copied().unwrap_or("1");
    let minor = numbers.get(1).copied().unwrap_or("0");
    let plus = if git_version.contains("-eks") {
        "+"
    } else {
        ""
    };
    json!({
        "major": major,
        "minor": format!("{minor}{plus}"),
        "gitVersion": git_version,
        "gitCommit": "2a8a1b0d4b8a4e4f1a6c5d3e2b1f0e9d8c7b6a59",
        "gitTreeState": "clean",
        "buildDate": "2024-10-22T17:50:20Z",
        "goVersion": "go1.22.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

fn get(
    shared: &Shared,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
) -> Result<Response, Failure> {
    shared
        .read(|store| store.get(resource, namespace, name).cloned())
        .map(|object| Response::json(200, &object))
        .ok_or_else(|| Failure::not_found(resource, name))
}

/// The resourceVersion/resourceVersionMatch/continue rules of ListOptions validation.
pub fn check_list_options(request: &Request, watch: bool) -> Result<(), Failure> {
    let invalid = |field: &str, text: &str| {
        Failure::new(
            422,
            "Invalid",
            format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: {text}"),
        )
    };
    let rv = request.param("resourceVersion").unwrap_or("");
    let rv_match = request.param("resourceVersionMatch").unwrap_or("");
    let continue_token = request.param("continue").unwrap_or("");
    if !rv.is_empty() && rv.parse::<u64>().is_err() {
        return Err(Failure::bad_request(format!(
            "resourceVersion: Invalid value: \"{rv}\": must be a non-negative integer"
        )));
    }
    if !rv_match.is_empty() {
        let send_initial = request.param("sendInitialEvents").is_some();
        if watch && !send_initial {
            return Err(invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if rv.is_empty() {
            return Err(invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if !continue_token.is_empty() {
            return Err(invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        match rv_match {
            "NotOlderThan" => {}
            "Exact" if rv == "0" => {
                return Err(invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            "Exact" => {}
            other => {
                return Err(invalid(
                    "resourceVersionMatch",
                    &format!(
                        "Unsupported value: \"{other}\": supported values: \"Exact\", \"NotOlderThan\""
                    ),
                ));
            }
        }
    }
    if !continue_token.is_empty() && !rv.is_empty() && rv != "0" {
        return Err(Failure::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    Ok(())
}

/// A continue token shaped like the API server's: base64 of
/// `{"v":"meta.k8s.io/v1","rv":N,"start":"ns/name\u0000"}`.
fn encode_continue(rv: u64, last: &ObjectKey) -> String {
    let token = json!({
        "v": "meta.k8s.io/v1",
        "rv": rv,
        "start": format!("{}/{}\u{0}", last.namespace, last.name)
    });
    STANDARD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Option<(u64, ObjectKey)> {
    let bytes = STANDARD.decode(token).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let rv = value.get("rv")?.as_u64()?;
    let start = value.get("start")?.as_str()?.trim_end_matches('\u{0}');
    let (namespace, name) = start.split_once('/')?;
    Some((
        rv,
        ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
    ))
}

/// Whether an object passes a watch's or list's selectors.
pub fn selected(object: &Value, labels: &LabelSelector, fields: &FieldSelector) -> bool {
    labels.matches(&labels_of(object)) && fields.matches(object)
}

/// List items carry no kind/apiVersion on the wire; the list itself does.
fn list_item(object: &Value) -> Value {
    let mut item = object.clone();
    if let Some(map) = item.as_object_mut() {
        map.remove("kind");
        map.remove("apiVersion");
    }
    item
}

fn list(
    shared: &Shared,
    request: &Request,
    resource: &'static Resource,
    namespace: Option<&str>,
) -> Result<Response, Failure> {
    let labels = LabelSelector::parse(request.param("labelSelector").unwrap_or(""))
        .map_err(Failure::bad_request)?;
    let fields = FieldSelector::parse(request.param("fieldSelector").unwrap_or(""), resource)
        .map_err(Failure::bad_request)?;
    check_list_options(request, false)?;
    let limit = match request.param("limit").unwrap_or("") {
        "" => 0,
        text => text.parse::<usize>().map_err(|_| {
            Failure::bad_request(format!(
                "limit: Invalid value: \"{text}\": must be an integer"
            ))
        })?,
    };
    let resume = match request.param("continue").unwrap_or("") {
        "" => None,
        token => Some(decode_continue(token).ok_or_else(|| {
            Failure::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        })?),
    };
    let list = shared.read(|store| {
        let list_rv = resume
            .as_ref()
            .map(|(rv, _)| *rv)
            .unwrap_or(store.resource_version);
        let matching: Vec<(ObjectKey, Value)> = store
            .objects(resource, namespace)
            .filter(|(key, _)| resume.as_ref().is_none_or(|(_, start)| *key > start))
            .filter(|(_, object)| selected(object, &labels, &fields))
            .map(|(key, object)| (key.clone(), object.clone()))
            .collect();
        let mut metadata = json!({"resourceVersion": list_rv.to_string()});
        let page: &[(ObjectKey, Value)] = if limit > 0 && matching.len() > limit {
            let (page, rest) = matching.split_at(limit);
            if let (Some(map), Some((last, _))) = (metadata.as_object_mut(), page.last()) {
                map.insert("continue".into(), json!(encode_continue(list_rv, last)));
                map.insert("remainingItemCount".into(), json!(rest.len()));
            }
            page
        } else {
            &matching
        };
        json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": metadata,
            "items": page.iter().map(|(_, o)| list_item(o)).collect::<Vec<_>>(),
        })
    });
    Ok(Response::json(200, &list))
}

fn dry_run_param(request: &Request) -> Result<bool, Failure> {
    match request.param("dryRun").unwrap_or("") {
        "" => Ok(false),
        "All" => Ok(true),
        other => Err(Failure::bad_request(format!(
            "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
        ))),
    }
}

fn create(
    shared: &Arc<Shared>,
    request: &Request,
    resource: &'static Resource,
    namespace: &str,
) -> Result<Response, Failure> {
    let dry_run = dry_run_param(request)?;
    let mut object: Value = serde_json::from_slice(&request.body).map_err(|e| {
        Failure::bad_request(format!(
            "the body of the request could not be decoded as JSON: {e}"
        ))
    })?;
    if !object.is_object() {
        return Err(Failure::bad_request(
            "the body of the request is not a JSON object",
        ));
    }
    let kind = str_at(&object, "/kind").to_string();
    let api_version = str_at(&object, "/apiVersion").to_string();
    if kind.is_empty() {
        return Err(Failure::bad_request(format!(
            "Object 'Kind' is missing in '{}'",
            String::from_utf8_lossy(&request.body)
        )));
    }
    if api_version != resource.api_version() {
        return Err(Failure::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            resource.api_version()
        )));
    }
    if kind != resource.kind {
        return Err(Failure::bad_request(format!(
            "{kind} in version \"{api_version}\" cannot be handled as a {}: no kind \"{kind}\" is registered for the endpoint",
            resource.kind
        )));
    }
    let body_namespace = str_at(&object, "/metadata/namespace");
    if resource.namespaced && !body_namespace.is_empty() && body_namespace != namespace {
        return Err(Failure::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let given_name = str_at(&object, "/metadata/name").to_string();
    let generate_name = str_at(&object, "/metadata/generateName").to_string();
    // Admission plugins run before the name is generated (k8s extractResourceName).
    let admission_name = match (given_name.as_str(), generate_name.as_str()) {
        ("", "") => "Unknown".to_string(),
        ("", generate) => generate.to_string(),
        (name, _) => name.to_string(),
    };
    let webhook_region = shared
        .settings
        .webhook
        .then_some(shared.settings.region.as_str());

    let stored = shared.write(|store| -> Result<Value, Failure> {
        if resource.kind == "Pod" {
            admit_pod(
                store,
                namespace,
                &mut object,
                &admission_name,
                webhook_region,
            )?;
        }
        let name = name_for(store, resource, &given_name, &generate_name)?;
        set_metadata(&mut object, "name", json!(name));
        store.stamp_new(resource, &mut object, namespace);
        match resource.kind {
            "Pod" => set_status(
                &mut object,
                json!({"phase": "Pending", "qosClass": "BestEffort"}),
            ),
            "Job" => {
                admit_job(&mut object, resource)?;
                set_status(&mut object, json!({}));
            }
            _ => {}
        }
        if store.get(resource, namespace, &name).is_some() {
            return Err(Failure::already_exists(resource, &name));
        }
        if dry_run {
            // Nothing reaches storage, so there is no resourceVersion.
            if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("resourceVersion");
            }
            return Ok(object);
        }
        Ok(store.put(resource, object))
    })?;
    if resource.kind == "Job" && !dry_run {
        jobs::start(shared, &stored);
    }
    Ok(Response::json(201, &stored))
}

fn set_status(object: &mut Value, status: Value) {
    if let Some(map) = object.as_object_mut() {
        map.entry("status").or_insert(status);
    }
}

fn name_for(
    store: &mut Store,
    resource: &Resource,
    given: &str,
    generate: &str,
) -> Result<String, Failure> {
    let name = match (given, generate) {
        ("", "") => {
            return Err(Failure::invalid(
                resource,
                "",
                &[(
                    "metadata.name",
                    "FieldValueRequired",
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        ("", generate) => format!("{generate}{}", store.rng.suffix(5)),
        (name, _) => name.to_string(),
    };
    check_object_name(&name).map_err(|text| {
        Failure::invalid(
            resource,
            &name,
            &[("metadata.name", "FieldValueInvalid", text)],
        )
    })?;
    Ok(name)
}

const JOB_ORPHAN_WARNING: &str = "299 - \"child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning\"";

fn delete(
    shared: &Shared,
    request: &Request,
    recorded: &RecordedRequest,
    resource: &'static Resource,
    namespace: &str,
    name: &str,
) -> Result<Response, Failure> {
    dry_run_param(request)?;
    let options: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&request.body).map_err(|e| {
            Failure::bad_request(format!("the DeleteOptions body could not be decoded: {e}"))
        })?
    };
    let policy = options
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| request.param("propagationPolicy").map(str::to_string))
        .or_else(|| {
            let orphan = options.get("orphanDependents").and_then(Value::as_bool);
            orphan.map(|o| if o { "Orphan" } else { "Background" }.to_string())
        });
    if let Some(p) = &policy
        && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(Failure::new(
            422,
            "Invalid",
            format!(
                "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"{p}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            ),
        ));
    }
    // batch/v1 Jobs still default to orphaning their pods (with a warning).
    let warn = policy.is_none() && resource.kind == "Job";
    let policy = policy.unwrap_or_else(|| {
        if resource.kind == "Job" {
            "Orphan".into()
        } else {
            "Background".into()
        }
    });
    let deleted = shared.write(|store| {
        let existing = store.get(resource, namespace, name).cloned();
        if recorded.dry_run {
            return existing;
        }
        let deleted = store.delete(resource, namespace, name)?;
        let uid = str_at(&deleted, "/metadata/uid").to_string();
        if policy == "Orphan" {
            store.orphan_dependents(&uid);
        } else {
            store.delete_dependents(&uid);
        }
        Some(deleted)
    });
    let deleted = deleted.ok_or_else(|| Failure::not_found(resource, name))?;
    let response = Response::json(200, &deleted);
    Ok(if warn {
        response.with_header("Warning", JOB_ORPHAN_WARNING)
    } else {
        response
    })
}

fn logs(
    shared: &Shared,
    request: &Request,
    namespace: &str,
    name: &str,
) -> Result<Response, Failure> {
    shared.read(|store| {
        let pod = store
            .get(&POD, namespace, name)
            .ok_or_else(|| Failure::not_found(&POD, name))?;
        let names = |list: &str| -> Vec<String> {
            pod.pointer(&format!("/spec/{list}"))
                .and_then(Value::as_array)
                .map(|c| c.iter().map(|c| str_at(c, "/name").to_string()).collect())
                .unwrap_or_default()
        };
        let containers = names("containers");
        let container = match request.param("container").filter(|c| !c.is_empty()) {
            Some(c) => {
                if !containers
                    .iter()
                    .chain(names("initContainers").iter())
                    .any(|n| n == c)
                {
                    return Err(Failure::bad_request(format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.to_string()
            }
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                return Err(Failure::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                )));
            }
        };
        if str_at(pod, "/status/phase") == "Pending" {
            return Err(Failure::bad_request(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            )));
        }
        let key = ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let mut log = store.logs.get(&key).cloned().unwrap_or_default();
        if let Some(n) = request
            .param("tailLines")
            .and_then(|n| n.parse::<usize>().ok())
        {
            let lines: Vec<&str> = log.split_inclusive('\n').collect();
            log = lines[lines.len().saturating_sub(n)..].concat();
        }
        if let Some(n) = request
            .param("limitBytes")
            .and_then(|n| n.parse::<usize>().ok())
        {
            let mut cut = n.min(log.len());
            while !log.is_char_boundary(cut) {
                cut -= 1;
            }
            log.truncate(cut);
        }
        Ok(Response::text(200, log))
    })
}
