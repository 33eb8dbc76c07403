//! Test support: fake worlds that speak the real protocols.

pub mod aws_proxy;
pub mod aws_world;
pub mod fake_kube;
pub mod harness;
pub mod helm;
pub mod moto;
pub mod spec;
pub mod world;
