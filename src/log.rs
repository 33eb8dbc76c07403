//! `--verbose`: every outside call is announced on stderr before it is made, like the
//! shell tool's "Running command" lines. Off by default; findings never go through here.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Announce an outside call (`GET /api/v1/nodes`, `iam:GetRole role=X`).
pub fn call(what: impl std::fmt::Display) {
    if verbose() {
        eprintln!("[INFO] Calling {what}");
    }
}
