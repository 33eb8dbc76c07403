//! The judges: pure functions from facts to findings, one module per catalogue section.

pub mod aurora;
pub mod components;
pub mod eks;
pub mod irsa;
pub mod opensearch;
pub mod permissions;
pub mod preflight;
pub mod probe_log;
pub mod read;
pub mod trust;
