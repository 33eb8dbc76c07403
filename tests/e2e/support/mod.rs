//! Test support: fake worlds that speak the real protocols.

pub mod spec;
