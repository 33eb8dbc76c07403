//! Watches: a chunked stream of `{"type":…,"object":…}` lines, from a resourceVersion
//! on, until timeoutSeconds.

use std::io;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite};
use tokio::time::{Instant, MissedTickBehavior};

use super::http::{self, Request};
use super::requests::parse_bool;
use super::selector::{FieldSelector, LabelSelector};
use super::server::{check_list_options, selected};
use super::state::Shared;
use super::status::Failure;
use super::store::{Change, ChangeType, Resource, str_at};

/// The API server's default when a watch gives no timeoutSeconds (its minimum
/// request timeout).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// A validated watch request.
#[derive(Debug)]
pub struct WatchSpec {
    resource: &'static Resource,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    /// Replay changes after this resourceVersion; `None` starts with the current
    /// objects as ADDED events (resourceVersion unset or "0").
    since: Option<u64>,
    timeout: Duration,
    bookmarks: bool,
    /// sendInitialEvents=true: end the initial ADDED events with the annotated bookmark.
    initial_events_end: bool,
}

pub fn spec(
    request: &Request,
    resource: &'static Resource,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<WatchSpec, Failure> {
    check_list_options(request, true)?;
    let labels = LabelSelector::parse(request.param("labelSelector").unwrap_or(""))
        .map_err(Failure::bad_request)?;
    let mut field_text = request.param("fieldSelector").unwrap_or("").to_string();
    if let Some(name) = name {
        // A watch on a named path is a watch with a name field selector.
        if !field_text.is_empty() {
            field_text.push(',');
        }
        field_text.push_str(&format!("metadata.name={name}"));
    }
    let fields = FieldSelector::parse(&field_text, resource).map_err(Failure::bad_request)?;
    let since = match request.param("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        rv => Some(rv.parse::<u64>().map_err(|_| {
            Failure::bad_request(format!("resourceVersion: Invalid value: \"{rv}\""))
        })?),
    };
    let timeout = match request.param("timeoutSeconds").unwrap_or("") {
        // Zero means "not given" to the API server too.
        "" | "0" => DEFAULT_TIMEOUT,
        text => Duration::from_secs(text.parse::<u64>().map_err(|_| {
            Failure::bad_request(format!("timeoutSeconds: Invalid value: \"{text}\""))
        })?),
    };
    let bookmarks = request.param("allowWatchBookmarks").is_some_and(parse_bool);
    let send_initial = request.param("sendInitialEvents").is_some_and(parse_bool);
    if send_initial && (!bookmarks || since.is_some()) {
        return Err(Failure::new(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and resourceVersion unset or \"0\"",
        ));
    }
    Ok(WatchSpec {
        resource,
        namespace: namespace.map(str::to_string),
        labels,
        fields,
        since,
        timeout,
        bookmarks,
        initial_events_end: send_initial,
    })
}

impl WatchSpec {
    fn in_scope(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| str_at(object, "/metadata/namespace") == ns)
    }

    fn selects(&self, object: &Value) -> bool {
        self.in_scope(object) && selected(object, &self.labels, &self.fields)
    }

    /// The event this watcher sees for a change: an object that starts matching a
    /// selector is ADDED for it, one that stops matching is DELETED.
    fn event_for(&self, change: &Change) -> Option<(&'static str, Value)> {
        if change.resource.kind != self.resource.kind {
            return None;
        }
        let now = self.selects(&change.object);
        let kind = match change.change {
            ChangeType::Added => now.then_some("ADDED")?,
            ChangeType::Deleted => now.then_some("DELETED")?,
            ChangeType::Modified => {
                let before = change.previous.as_ref().is_some_and(|p| self.selects(p));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
        };
        Some((kind, change.object.clone()))
    }

    fn bookmark(&self, resource_version: u64, initial_events_end: bool) -> Value {
        let mut metadata =
            json!({"resourceVersion": resource_version.to_string(), "creationTimestamp": null});
        if initial_events_end && let Some(map) = metadata.as_object_mut() {
            map.insert(
                "annotations".into(),
                json!({"k8s.io/initial-events-end": "true"}),
            );
        }
        json!({
            "type": "BOOKMARK",
            "object": {
                "kind": self.resource.kind,
                "apiVersion": self.resource.api_version(),
                "metadata": metadata
            }
        })
    }
}

async fn send<W: AsyncWrite + Unpin>(writer: &mut W, event: &Value) -> io::Result<()> {
    let mut line = serde_json::to_vec(event).unwrap_or_default();
    line.push(b'\n');
    http::write_chunk(writer, &line).await
}

enum Wake {
    Changed,
    Deadline,
    Bookmark,
    ClientGone,
    ClientSent(usize),
}

/// Streams events until the timeout, the client leaving, or the fake stopping.
pub async fn stream<R, W>(
    reader: &mut R,
    writer: &mut W,
    shared: &Shared,
    spec: WatchSpec,
) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut changes = shared.subscribe();
    changes.borrow_and_update();
    let (initial, mut cursor) = shared.read(|store| {
        let initial: Vec<Value> = match spec.since {
            Some(_) => Vec::new(),
            None => store
                .objects(spec.resource, spec.namespace.as_deref())
                .map(|(_, object)| object)
                .filter(|object| selected(object, &spec.labels, &spec.fields))
                .cloned()
                .collect(),
        };
        (initial, spec.since.unwrap_or(store.resource_version))
    });
    http::start_chunked(writer, "application/json").await?;
    for object in initial {
        send(writer, &json!({"type": "ADDED", "object": object})).await?;
    }
    if spec.initial_events_end {
        send(writer, &spec.bookmark(cursor, true)).await?;
    }

    let deadline = Instant::now() + spec.timeout;
    let interval = shared
        .settings
        .bookmark_interval
        .max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        changes.borrow_and_update();
        let (events, latest) = shared.read(|store| {
            let start = store
                .history
                .partition_point(|c| c.resource_version <= cursor);
            let events: Vec<(&'static str, Value)> = store.history[start..]
                .iter()
                .filter_map(|change| spec.event_for(change))
                .collect();
            (events, store.resource_version.max(cursor))
        });
        cursor = latest;
        for (kind, object) in events {
            send(writer, &json!({"type": kind, "object": object})).await?;
        }
        let wake = tokio::select! {
            _ = tokio::time::sleep_until(deadline) => Wake::Deadline,
            changed = changes.changed() => if changed.is_ok() { Wake::Changed } else { Wake::Deadline },
            _ = ticker.tick(), if spec.bookmarks => Wake::Bookmark,
            read = reader.fill_buf() => match read {
                Ok([]) | Err(_) => Wake::ClientGone,
                Ok(buf) => Wake::ClientSent(buf.len()),
            },
        };
        match wake {
            Wake::Changed => {}
            Wake::Deadline => break,
            Wake::Bookmark => send(writer, &spec.bookmark(cursor, false)).await?,
            Wake::ClientGone => return Ok(()),
            // Nothing should arrive on a watch connection; drop it rather than spin.
            Wake::ClientSent(n) => reader.consume(n),
        }
    }
    http::finish_chunked(writer).await
}
