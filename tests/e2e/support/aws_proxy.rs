//! A recording, fault-injecting reverse proxy in front of moto.
//!
//! The binary gets the proxy's URL as `AWS_ENDPOINT_URL`. Every call is recorded under
//! its IAM action name (`iam:GetRole`, `eks:DescribeCluster`, `es:DescribeDomain`), so a
//! test can check that the tool calls nothing outside the README's IAM policy; and any
//! action can be made to fail the way AWS fails (the error shape of its protocol), be
//! slow, or fail only N times.
//!
//! Hand-written HTTP/1.1 on 127.0.0.1:0, on its own thread and tokio runtime (no server
//! crate: one would switch on new hyper features and rebuild the AWS stack). The SDK keeps
//! its connection alive; the proxy opens one upstream connection per request (moto
//! answers `Connection: close` anyway).
//!
//! moto's gaps that matter to the tool are filled in `moto_wrapper.py`, not here, so that
//! seeding and the tool see the same answers: the EKS issuer and endpoint and the
//! OpenSearch VPC endpoint are pinned from tags, IAM GetPolicyVersion and ListRoles
//! documents are URL-encoded like AWS's, and RDS ModifyDBCluster honours
//! EnableIAMDatabaseAuthentication. Checked and found right as moto sends them:
//! EKS DescribeNodegroup `nodeRole`, the OIDC provider's `ClientIDList`, RDS
//! `DbClusterResourceId` and `IAMDatabaseAuthenticationEnabled`, the OpenSearch domain's
//! `AdvancedSecurityOptions`, `DomainEndpointOptions`, `VPCOptions`, `AccessPolicies`.

#![allow(dead_code)]

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_config::SdkConfig;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::moto::{self, Moto};
use super::spec;

/// One AWS call that went through the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// IAM action name: `iam:GetRole`. A REST path the proxy does not know is recorded as
    /// `eks:GET /clusters/x/unknown`, so that it stands out.
    pub action: String,
    /// What the call names: form values of a query call (role name, policy ARN, cluster
    /// identifier…; not documents, not paging), path parameters of a REST call (cluster,
    /// node group, domain), and the `…Name(s)` fields of a JSON body.
    pub resources: Vec<String>,
}

/// A misbehaviour to inject: which calls, how often, and what happens instead.
#[derive(Clone, Debug)]
pub struct Fault {
    action: String,
    resource: Option<String>,
    remaining: Option<u32>,
    effect: Effect,
}

#[derive(Clone, Debug)]
enum Effect {
    /// An AWS error in the shape of the call's protocol; `message: None` = AWS's wording
    /// for an identity-based denial.
    Error {
        query: Status,
        rest: Status,
        message: Option<String>,
    },
    /// Answer normally, but only after this long.
    Delay(Duration),
    /// A canned answer instead of moto's (for answers moto cannot give, such as a
    /// caller in another account).
    Reply {
        http: u16,
        content_type: String,
        body: String,
    },
}

/// HTTP status and error code of one protocol's error.
#[derive(Clone, Debug)]
struct Status {
    http: u16,
    code: String,
}

fn status(http: u16, code: &str) -> Status {
    Status {
        http,
        code: code.to_string(),
    }
}

impl Fault {
    /// `action` is an IAM action name (`iam:GetRole`), `iam:*` for a whole service, or `*`.
    fn new(action: &str, effect: Effect) -> Fault {
        Fault {
            action: action.to_string(),
            resource: None,
            remaining: None,
            effect,
        }
    }

    /// 403 AccessDenied (query) / AccessDeniedException (REST-JSON) with AWS's message:
    /// `User: ARN is not authorized to perform: ACTION on resource: …`.
    pub fn access_denied(action: &str) -> Fault {
        Fault::new(
            action,
            Effect::Error {
                query: status(403, "AccessDenied"),
                rest: status(403, "AccessDeniedException"),
                message: None,
            },
        )
    }

    /// 400 Throttling (query) / 429 ThrottlingException (REST-JSON): the SDK's standard
    /// retry retries these (3 attempts in all).
    pub fn throttling(action: &str) -> Fault {
        Fault::new(
            action,
            Effect::Error {
                query: status(400, "Throttling"),
                rest: status(429, "ThrottlingException"),
                message: Some("Rate exceeded".into()),
            },
        )
    }

    /// HTTP 500 InternalFailure (retried by the SDK like any 5xx).
    pub fn internal_error(action: &str) -> Fault {
        Fault::new(
            action,
            Effect::Error {
                query: status(500, "InternalFailure"),
                rest: status(500, "InternalFailure"),
                message: Some("An internal error occurred.".into()),
            },
        )
    }

    /// Any AWS error: `http_status`, error `code` (the same for both protocols), `message`.
    pub fn error(action: &str, http_status: u16, code: &str, message: &str) -> Fault {
        Fault::new(
            action,
            Effect::Error {
                query: status(http_status, code),
                rest: status(http_status, code),
                message: Some(message.into()),
            },
        )
    }

    /// The real answer, `delay` late.
    pub fn delay(action: &str, delay: Duration) -> Fault {
        Fault::new(action, Effect::Delay(delay))
    }

    /// This answer instead of moto's: status, content type and body as AWS would send them.
    pub fn reply(action: &str, http_status: u16, content_type: &str, body: &str) -> Fault {
        Fault::new(
            action,
            Effect::Reply {
                http: http_status,
                content_type: content_type.to_string(),
                body: body.to_string(),
            },
        )
    }

    /// Only calls that name `resource` (a role name, policy ARN, cluster or domain name).
    pub fn on(mut self, resource: &str) -> Fault {
        self.resource = Some(resource.to_string());
        self
    }

    /// Only the first `n` matching calls; later ones pass.
    pub fn times(mut self, n: u32) -> Fault {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, call: &Call) -> bool {
        let action = match self.action.strip_suffix('*') {
            Some(prefix) => call.action.starts_with(prefix),
            None => call.action == self.action,
        };
        let resource = match &self.resource {
            Some(r) => call.resources.iter().any(|c| c == r),
            None => true,
        };
        action && resource && self.remaining != Some(0)
    }
}

struct Shared {
    upstream_port: u16,
    calls: Mutex<Vec<Call>>,
    faults: Mutex<Vec<Fault>>,
    request_ids: AtomicU64,
}

/// The proxy; stops when dropped.
pub struct AwsProxy {
    port: u16,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl AwsProxy {
    /// A proxy on 127.0.0.1:0 in front of `moto`.
    pub fn start(moto: &Moto) -> AwsProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream_port: moto.port(),
            calls: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            request_ids: AtomicU64::new(1),
        });
        let (shutdown, stop) = oneshot::channel();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("aws-proxy-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(serve(listener, serving, stop));
            })
            .unwrap();
        AwsProxy {
            port,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment for the binary, with the proxy as its AWS endpoint.
    pub fn env(&self) -> Vec<(String, String)> {
        moto::aws_env(&self.url())
    }

    /// An SDK config whose calls go through the proxy (and are recorded).
    pub fn sdk_config(&self) -> SdkConfig {
        moto::block_on(moto::sdk_config_for(&self.url()))
    }

    /// The recorded actions, in arrival order: `["sts:GetCallerIdentity", "eks:ListClusters", …]`.
    pub fn calls(&self) -> Vec<String> {
        self.recorded().into_iter().map(|c| c.action).collect()
    }

    /// The recorded calls with what they named.
    pub fn recorded(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// How many calls of `action` named `resource`.
    pub fn count(&self, action: &str, resource: &str) -> usize {
        self.recorded()
            .iter()
            .filter(|c| c.action == action && c.resources.iter().any(|r| r == resource))
            .count()
    }

    pub fn clear_calls(&self) {
        self.shared.calls.lock().unwrap().clear();
    }

    /// Adds a fault; the first matching fault (in the order added) decides a call.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).unwrap();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                if let Ok((client, _)) = accepted {
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        // A broken client connection only ends that connection.
                        let _ = serve_connection(client, shared).await;
                    });
                }
            }
        }
    }
}

struct Request {
    method: String,
    target: String,
    keep_alive: bool,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

struct Response {
    /// `HTTP/1.1 200 OK`
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve_connection(client: TcpStream, shared: Arc<Shared>) -> io::Result<()> {
    let mut client = BufReader::new(client);
    while let Some(request) = read_request(&mut client).await? {
        let response = answer(&request, &shared).await;
        write_response(client.get_mut(), &response, request.keep_alive).await?;
        if !request.keep_alive {
            break;
        }
    }
    Ok(())
}

async fn answer(request: &Request, shared: &Shared) -> Response {
    let Some(service) = request.header("authorization").and_then(signing_service) else {
        // moto's own API (/moto-api/…): not an AWS call.
        return forward(request, shared.upstream_port).await;
    };
    let call = classify(&service, request);
    shared.calls.lock().unwrap().push(call.clone());
    let effect = {
        let mut faults = shared.faults.lock().unwrap();
        faults.iter_mut().find(|f| f.matches(&call)).map(|fault| {
            if let Some(n) = fault.remaining.as_mut() {
                *n -= 1;
            }
            fault.effect.clone()
        })
    };
    match effect {
        None => forward(request, shared.upstream_port).await,
        Some(Effect::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            forward(request, shared.upstream_port).await
        }
        Some(Effect::Reply {
            http,
            content_type,
            body,
        }) => Response {
            status_line: status_line(http),
            headers: vec![
                ("Content-Type".into(), content_type),
                (
                    "x-amzn-RequestId".into(),
                    format!(
                        "{:08x}-7e57-4000-8000-000000000000",
                        shared.request_ids.fetch_add(1, Ordering::Relaxed)
                    ),
                ),
            ],
            body: body.into_bytes(),
        },
        Some(Effect::Error {
            query,
            rest,
            message,
        }) => {
            let request_id = shared.request_ids.fetch_add(1, Ordering::Relaxed);
            let message = message.unwrap_or_else(|| not_authorized(&service, &call));
            let status = if is_query_protocol(&service) {
                query
            } else {
                rest
            };
            error_response(&service, &status, &message, request_id)
        }
    }
}

/// AWS's wording for an identity-based denial.
fn not_authorized(service: &str, call: &Call) -> String {
    let account = spec::ACCOUNT;
    let region = spec::REGION;
    let resource = match (service, call.resources.first()) {
        (_, None) => "*".to_string(),
        (_, Some(arn)) if arn.starts_with("arn:") => arn.clone(),
        ("iam", Some(role)) => format!("role {role}"),
        ("eks", Some(cluster)) => format!("arn:aws:eks:{region}:{account}:cluster/{cluster}"),
        ("es", Some(domain)) => format!("arn:aws:es:{region}:{account}:domain/{domain}"),
        ("rds", Some(cluster)) => format!("arn:aws:rds:{region}:{account}:cluster:{cluster}"),
        (_, Some(other)) => other.clone(),
    };
    let action = &call.action;
    format!(
        "User: arn:aws:iam::{account}:user/moto is not authorized to perform: {action} on \
         resource: {resource} because no identity-based policy allows the {action} action"
    )
}

/// IAM, STS and RDS speak the query protocol (XML errors); EKS and OpenSearch REST-JSON.
fn is_query_protocol(service: &str) -> bool {
    matches!(service, "iam" | "sts" | "rds")
}

fn error_response(service: &str, status: &Status, message: &str, request_id: u64) -> Response {
    let request_id = format!("{request_id:08x}-7e57-4000-8000-{request_id:012x}");
    if is_query_protocol(service) {
        let kind = if status.http >= 500 {
            "Receiver"
        } else {
            "Sender"
        };
        let namespace = match service {
            "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
            "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
            _ => "http://rds.amazonaws.com/doc/2014-10-31/",
        };
        let body = format!(
            "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
             <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  \
             <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
            xml_escape(&status.code),
            xml_escape(message)
        );
        Response {
            status_line: status_line(status.http),
            headers: vec![
                ("Content-Type".into(), "text/xml".into()),
                ("x-amzn-RequestId".into(), request_id),
            ],
            body: body.into_bytes(),
        }
    } else {
        let body = serde_json::json!({ "message": message }).to_string();
        Response {
            status_line: status_line(status.http),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("x-amzn-ErrorType".into(), status.code.clone()),
                ("x-amzn-RequestId".into(), request_id),
            ],
            body: body.into_bytes(),
        }
    }
}

fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!("HTTP/1.1 {status} {reason}")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The signing name from the SigV4 scope: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
fn signing_service(authorization: &str) -> Option<String> {
    let scope = authorization.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    match parts.as_slice() {
        [_, _, _, service, "aws4_request"] => Some(service.to_string()),
        _ => None,
    }
}

const EKS_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/clusters", "ListClusters"),
    ("POST", "/clusters", "CreateCluster"),
    ("GET", "/clusters/{}", "DescribeCluster"),
    ("DELETE", "/clusters/{}", "DeleteCluster"),
    ("POST", "/clusters/{}/update-config", "UpdateClusterConfig"),
    ("GET", "/clusters/{}/node-groups", "ListNodegroups"),
    ("POST", "/clusters/{}/node-groups", "CreateNodegroup"),
    ("GET", "/clusters/{}/node-groups/{}", "DescribeNodegroup"),
    ("DELETE", "/clusters/{}/node-groups/{}", "DeleteNodegroup"),
    ("GET", "/clusters/{}/addons", "ListAddons"),
    ("GET", "/clusters/{}/addons/{}", "DescribeAddon"),
    (
        "GET",
        "/clusters/{}/pod-identity-associations",
        "ListPodIdentityAssociations",
    ),
    (
        "GET",
        "/clusters/{}/pod-identity-associations/{}",
        "DescribePodIdentityAssociation",
    ),
    ("GET", "/clusters/{}/access-entries", "ListAccessEntries"),
    (
        "GET",
        "/clusters/{}/fargate-profiles",
        "ListFargateProfiles",
    ),
    (
        "GET",
        "/clusters/{}/fargate-profiles/{}",
        "DescribeFargateProfile",
    ),
    (
        "GET",
        "/clusters/{}/identity-provider-configs",
        "ListIdentityProviderConfigs",
    ),
    (
        "POST",
        "/clusters/{}/identity-provider-configs/describe",
        "DescribeIdentityProviderConfig",
    ),
    ("GET", "/tags/{}", "ListTagsForResource"),
    ("POST", "/tags/{}", "TagResource"),
    ("DELETE", "/tags/{}", "UntagResource"),
];

const OPENSEARCH_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/2021-01-01/domain", "ListDomainNames"),
    ("POST", "/2021-01-01/opensearch/domain", "CreateDomain"),
    ("GET", "/2021-01-01/opensearch/domain/{}", "DescribeDomain"),
    ("DELETE", "/2021-01-01/opensearch/domain/{}", "DeleteDomain"),
    (
        "GET",
        "/2021-01-01/opensearch/domain/{}/config",
        "DescribeDomainConfig",
    ),
    (
        "POST",
        "/2021-01-01/opensearch/domain/{}/config",
        "UpdateDomainConfig",
    ),
    (
        "POST",
        "/2021-01-01/opensearch/domain-info",
        "DescribeDomains",
    ),
    ("GET", "/2021-01-01/tags", "ListTags"),
    ("POST", "/2021-01-01/tags", "AddTags"),
    ("POST", "/2021-01-01/tags-removal", "RemoveTags"),
    ("GET", "/2021-01-01/opensearch/versions", "ListVersions"),
    (
        "GET",
        "/2021-01-01/opensearch/compatibleVersions",
        "GetCompatibleVersions",
    ),
];

/// Form fields that are neither a resource nor worth matching on.
fn is_resource_field(key: &str) -> bool {
    !matches!(
        key,
        "Action" | "Version" | "Marker" | "MaxItems" | "MaxRecords"
    ) && !key.contains("Document")
}

fn classify(service: &str, request: &Request) -> Call {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.target.as_str(), None),
    };
    let is_form = request
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if is_form || is_query_protocol(service) {
        let form = parse_form(&String::from_utf8_lossy(&request.body));
        let action = form
            .iter()
            .find(|(k, _)| k == "Action")
            .map_or_else(|| format!("{} {path}", request.method), |(_, v)| v.clone());
        let resources = form
            .into_iter()
            .filter(|(k, _)| is_resource_field(k))
            .map(|(_, v)| v)
            .collect();
        return Call {
            action: format!("{service}:{action}"),
            resources,
        };
    }
    let routes = match service {
        "eks" => EKS_ROUTES,
        "es" => OPENSEARCH_ROUTES,
        _ => &[],
    };
    let segments: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s, false))
        .collect();
    let routed = routes.iter().find_map(|(method, template, action)| {
        let template: Vec<&str> = template.split('/').skip(1).collect();
        if *method != request.method || template.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in template.iter().zip(&segments) {
            match *t {
                "{}" if !s.is_empty() => params.push(s.clone()),
                _ if t == s => {}
                _ => return None,
            }
        }
        Some((action.to_string(), params))
    });
    let (action, mut resources) =
        routed.unwrap_or_else(|| (format!("{} {path}", request.method), Vec::new()));
    // OpenSearch ListTags names its domain ARN in the query string.
    for (k, v) in query.map(parse_form).unwrap_or_default() {
        if k == "arn" {
            resources.push(v);
        }
    }
    // DescribeDomains: {"DomainNames": [...]}; CreateCluster: {"name": ...}.
    if let Ok(serde_json::Value::Object(body)) = serde_json::from_slice(&request.body) {
        for (key, value) in body {
            if key == "name" || key.ends_with("Name") || key.ends_with("Names") {
                match value {
                    serde_json::Value::String(s) => resources.push(s),
                    serde_json::Value::Array(items) => resources.extend(
                        items
                            .into_iter()
                            .filter_map(|i| i.as_str().map(str::to_string)),
                    ),
                    _ => {}
                }
            }
        }
    }
    Call {
        action: format!("{service}:{action}"),
        resources,
    }
}

fn parse_form(form: &str) -> Vec<(String, String)> {
    form.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decoding (RFC 3986); `+` is a space only in form bodies. A `%` not followed by two hex
/// digits stays as it is.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(hi, lo)| hi << 4 | lo),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') if plus_is_space => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_request<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(io::Error::other(format!("bad request line {line:?}")));
    };
    let (method, target, version) = (method.to_string(), target.to_string(), version.to_string());
    let headers = read_headers(reader).await?;
    let connection = header(&headers, "connection").map(str::to_ascii_lowercase);
    let keep_alive = match connection.as_deref() {
        Some("close") => false,
        Some("keep-alive") => true,
        _ => version == "HTTP/1.1",
    };
    let body = read_body(reader, &headers).await?;
    Ok(Some(Request {
        method,
        target,
        keep_alive,
        headers,
        body,
    }))
}

async fn read_headers<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
}

async fn read_body<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    headers: &[(String, String)],
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if header(headers, "transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await?;
            let size = size.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                read_headers(reader).await?; // trailers
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size + 2, 0);
            reader.read_exact(&mut body[start..]).await?;
            body.truncate(start + size);
        }
    }
    if let Some(length) = header(headers, "content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| io::Error::other(format!("bad content-length {length:?}")))?;
        body.resize(length, 0);
        reader.read_exact(&mut body).await?;
    }
    Ok(body)
}

/// Hop-by-hop headers the proxy sets itself.
fn is_hop_header(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn forward(request: &Request, upstream_port: u16) -> Response {
    match try_forward(request, upstream_port).await {
        Ok(response) => response,
        Err(e) => Response {
            status_line: "HTTP/1.1 502 Bad Gateway".into(),
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("aws proxy: moto on port {upstream_port} failed: {e}").into_bytes(),
        },
    }
}

async fn try_forward(request: &Request, upstream_port: u16) -> io::Result<Response> {
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        if !is_hop_header(name) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body.len()
    ));
    upstream.write_all(head.as_bytes()).await?;
    upstream.write_all(&request.body).await?;
    let mut reader = BufReader::new(upstream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).await?;
    if !status_line.starts_with("HTTP/") {
        return Err(io::Error::other(format!("bad status line {status_line:?}")));
    }
    let headers = read_headers(&mut reader).await?;
    let body = if header(&headers, "transfer-encoding").is_some()
        || header(&headers, "content-length").is_some()
    {
        read_body(&mut reader, &headers).await?
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).await?;
        body
    };
    Ok(Response {
        status_line: status_line.trim_end().to_string(),
        headers: headers
            .into_iter()
            .filter(|(k, _)| !is_hop_header(k))
            .collect(),
        body,
    })
}

async fn write_response(
    client: &mut TcpStream,
    response: &Response,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("{}\r\n", response.status_line);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: {}\r\n\r\n",
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    ));
    client.write_all(head.as_bytes()).await?;
    client.write_all(&response.body).await?;
    client.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_service_is_read_from_the_credential_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261130/eu-west-1/iam/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signing_service(auth).as_deref(), Some("iam"));
        let es = "AWS4-HMAC-SHA256 Credential=AKID/20261130/eu-west-1/es/aws4_request,Sig=x";
        assert_eq!(signing_service(es).as_deref(), Some("es"));
        assert_eq!(signing_service("Bearer token"), None);
        assert_eq!(
            signing_service("AWS4-HMAC-SHA256 Credential=AKID/eu-west-1/iam"),
            None
        );
    }

    #[test]
    fn percent_decoding_keeps_broken_escapes_and_multibyte_text() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a%2Fb+c", false), "a/b+c");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("%C3%A9t%C3%A9", true), "été");
        assert_eq!(percent_decode("été%", true), "été%");
    }

    fn request(method: &str, target: &str, form: bool, body: &str) -> Request {
        let mut headers = vec![];
        if form {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ));
        }
        Request {
            method: method.into(),
            target: target.into(),
            keep_alive: true,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn query_calls_are_named_by_their_action_and_list_what_they_name() {
        let call = classify(
            "iam",
            &request(
                "POST",
                "/",
                true,
                "Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=AuroraRole-Keycloak-camunda-prod\
                 &PolicyDocument=%7B%7D&Marker=m",
            ),
        );
        assert_eq!(call.action, "iam:UpdateAssumeRolePolicy");
        assert_eq!(call.resources, vec!["AuroraRole-Keycloak-camunda-prod"]);
        let call = classify(
            "rds",
            &request(
                "POST",
                "/",
                true,
                "Action=DescribeDBClusters&Version=2014-10-31",
            ),
        );
        assert_eq!(call.action, "rds:DescribeDBClusters");
        assert!(call.resources.is_empty());
    }

    #[test]
    fn rest_calls_are_named_by_route() {
        let call = classify(
            "eks",
            &request(
                "GET",
                "/clusters/camunda-prod/node-groups/ng%201",
                false,
                "",
            ),
        );
        assert_eq!(call.action, "eks:DescribeNodegroup");
        assert_eq!(call.resources, vec!["camunda-prod", "ng 1"]);
        let call = classify(
            "eks",
            &request("GET", "/clusters?maxResults=100", false, ""),
        );
        assert_eq!(
            (call.action.as_str(), call.resources.len()),
            ("eks:ListClusters", 0)
        );
        let call = classify(
            "es",
            &request(
                "POST",
                "/2021-01-01/opensearch/domain-info",
                false,
                r#"{"DomainNames":["a","b"]}"#,
            ),
        );
        assert_eq!(call.action, "es:DescribeDomains");
        assert_eq!(call.resources, vec!["a", "b"]);
        // A path the proxy does not know stands out instead of passing as something else.
        let call = classify(
            "eks",
            &request("GET", "/clusters/c/addons/a/extra", false, ""),
        );
        assert_eq!(call.action, "eks:GET /clusters/c/addons/a/extra");
        let call = classify("eks", &request("GET", "/clusters/", false, ""));
        assert_eq!(call.action, "eks:GET /clusters/");
    }

    #[test]
    fn faults_match_action_wildcards_resources_and_run_out() {
        let call = Call {
            action: "iam:GetRole".into(),
            resources: vec!["r1".into()],
        };
        assert!(Fault::access_denied("iam:GetRole").matches(&call));
        assert!(Fault::access_denied("iam:*").matches(&call));
        assert!(Fault::access_denied("*").matches(&call));
        assert!(!Fault::access_denied("iam:GetRolePolicy").matches(&call));
        assert!(!Fault::access_denied("iam:GetRol").matches(&call));
        assert!(!Fault::access_denied("eks:*").matches(&call));
        assert!(Fault::access_denied("iam:GetRole").on("r1").matches(&call));
        assert!(!Fault::access_denied("iam:GetRole").on("r2").matches(&call));
        assert!(!Fault::access_denied("iam:GetRole").times(0).matches(&call));
    }
}
