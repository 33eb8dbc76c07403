pub mod permissions;
pub mod trust;
