//! Test support: fake worlds that speak the real protocols.

pub mod helm;
pub mod spec;
pub mod world;
