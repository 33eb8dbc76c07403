//! irsa-check: verify IAM Roles for Service Accounts (IRSA) of a Camunda 8 Helm
//! deployment on Amazon EKS.
//!
//! The run has three stages: gather (all I/O), judge (pure functions from facts to
//! findings) and report.

pub mod aws;
pub mod chart;
pub mod checks;
pub mod cli;
pub mod cluster;
pub mod code;
pub mod facts;
pub mod finding;
pub mod log;
pub mod policy;
pub mod report;
pub mod run;
pub mod values;
