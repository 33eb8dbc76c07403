//! Test support: fake worlds that speak the real protocols.

pub mod aws_proxy;
pub mod moto;
pub mod spec;
