//! How long a whole run takes: the release binary against the same local fakes the
//! end-to-end tests use (the fake Kubernetes API server, moto behind the recording
//! proxy), on the healthy Camunda 8.8 world. It reports wall time per run, and how many
//! Kubernetes requests and AWS calls one run makes (each role and policy once).
//!
//! Run: `cargo bench --bench run` (release build). `IRSA_BENCH_RUNS=N` sets the number of
//! timed runs per mode (default 10). The figures include the fakes' own latency (moto is a
//! Python server; the fake job runner "runs" a probe in ~50 ms), so they are an upper bound
//! of the tool's own time on loopback; against real EKS and AWS the network dominates.

#[allow(dead_code, unused_imports)]
#[path = "../tests/e2e/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::harness::Scenario;
use support::spec::Gen;

fn main() {
    let runs: usize = std::env::var("IRSA_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
        .max(1);
    println!(
        "irsa-check whole-run benchmark, healthy Camunda 8.8 world, {runs} timed runs per mode"
    );
    for (mode, args) in [
        ("-s (no probe jobs)", vec!["-n", "camunda", "-s"]),
        ("full (probe jobs)", vec!["-n", "camunda"]),
    ] {
        let world = Scenario::healthy(Gen::V8_8).start();
        // One untimed run warms moto's lazily loaded services.
        world.run(&args).exits(0);
        let mut times = Vec::with_capacity(runs);
        let (mut kube_requests, mut aws_calls) = (0, 0);
        for _ in 0..runs {
            world.kube.clear_requests();
            if let Some(proxy) = &world.proxy {
                proxy.clear_calls();
            }
            let start = Instant::now();
            world.run(&args).exits(0);
            times.push(start.elapsed());
            kube_requests = world.kube.requests().len();
            aws_calls = world.proxy.as_ref().map_or(0, |p| p.calls().len());
        }
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{mode:<20} min {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  | {kube_requests} Kubernetes requests, {aws_calls} AWS calls per run",
            ms(times[0]),
            ms(median),
            ms(times[times.len() - 1]),
        );
        assert!(world.leftovers().is_empty(), "probe jobs left behind");
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
