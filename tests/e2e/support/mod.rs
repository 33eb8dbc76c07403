//! Test support: fake worlds that speak the real protocols.

pub mod moto;
pub mod spec;
