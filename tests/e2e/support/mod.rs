//! Test support: fake worlds that speak the real protocols.

pub mod fake_kube;
pub mod spec;
