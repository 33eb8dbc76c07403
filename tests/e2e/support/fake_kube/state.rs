//! What the server thread and the test's handle share.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::faults::Fault;
use super::jobs::{JobBehaviour, ProbeWorld};
use super::requests::RecordedRequest;
use super::store::Store;

/// Fixed at start.
#[derive(Clone, Debug)]
pub struct Settings {
    pub webhook: bool,
    pub region: String,
    /// The bearer token the server accepts.
    pub token: String,
    pub job_delay: Duration,
    pub job_behaviour: JobBehaviour,
    pub job_behaviour_by_service_account: BTreeMap<String, JobBehaviour>,
    pub probe: ProbeWorld,
    pub bookmark_interval: Duration,
    pub server_version: String,
}

pub struct Shared {
    store: Mutex<Store>,
    /// The latest resourceVersion; watches wake on every change.
    changes: watch::Sender<u64>,
    requests: Mutex<Vec<RecordedRequest>>,
    faults: Mutex<Vec<Fault>>,
    pub settings: Settings,
}

/// A poisoned lock only means a test thread panicked; the data is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn new(settings: Settings, faults: Vec<Fault>) -> Shared {
        Shared {
            store: Mutex::new(Store::new()),
            changes: watch::channel(0).0,
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(faults),
            settings,
        }
    }

    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&lock(&self.store))
    }

    /// Runs a change and wakes the watches if it produced new history.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let (result, rv) = {
            let mut store = lock(&self.store);
            let result = f(&mut store);
            (result, store.resource_version)
        };
        self.changes.send_if_modified(|latest| {
            let changed = *latest != rv;
            *latest = rv;
            changed
        });
        result
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Records a request; the index lets the handler fill in its status later.
    pub fn record(&self, request: RecordedRequest) -> usize {
        let mut requests = lock(&self.requests);
        requests.push(request);
        requests.len() - 1
    }

    pub fn set_status(&self, index: usize, status: u16) {
        if let Some(r) = lock(&self.requests).get_mut(index) {
            r.status = Some(status);
        }
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    /// The first rule that matches, counting it down when it is limited.
    pub fn take_fault(
        &self,
        request: &RecordedRequest,
        object_name: Option<&str>,
    ) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let fault = faults
            .iter_mut()
            .find(|f| f.matches(request, object_name))?;
        if let Some(n) = fault.times.as_mut() {
            *n -= 1;
        }
        Some(fault.clone())
    }
}
