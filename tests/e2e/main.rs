//! End-to-end tests: the built `irsa-check` binary against a fake Kubernetes API
//! server (real HTTP and JSON on loopback) and `moto_server` (the AWS emulator),
//! reached through the real kube and AWS SDK clients.
//!
//! One test crate on purpose: the kube and AWS SDK dependency graph is linked once.

mod support;

mod aws_scenarios;
mod aws_support_smoke;
mod cluster_scenarios;
mod fake_kube_smoke;
mod iam_policy;
mod rbac;
mod values_scenarios;
mod world_smoke;
