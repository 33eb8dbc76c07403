//! The README's IAM policy is the exact list of AWS actions irsa-check calls: the healthy
//! worlds (and the lookups only some setups need) run through the recording proxy, and
//! every action the proxy saw must be in the ```json block under
//! `## Required IAM permissions`, read from README.md at test time.

use crate::support::fake_kube::DEFAULT_TOKEN;
use crate::support::harness::Scenario;
use crate::support::spec::{Gen, NAMESPACE};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const HEADING: &str = "## Required IAM permissions";

/// The actions of the policy under the heading (the first fenced json block after it,
/// with nothing but blank lines in between).
fn readme_actions() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let after = readme
        .split_once(&format!("{HEADING}\n"))
        .unwrap_or_else(|| panic!("README.md has no {HEADING:?} section"))
        .1;
    let block = after
        .trim_start_matches('\n')
        .strip_prefix("```json\n")
        .expect("a ```json block directly under the heading");
    let (json_text, _) = block.split_once("\n```").expect("the json block ends");
    let policy: Value = serde_json::from_str(json_text).expect("the README policy is JSON");
    assert_eq!(policy["Version"], "2012-10-17");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("a Statement list") {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        assert_eq!(statement["Resource"], "*", "{statement}");
        for action in statement["Action"].as_array().expect("an Action list") {
            let action = action.as_str().expect("actions are strings");
            assert!(
                action
                    .split_once(':')
                    .is_some_and(|(s, a)| !s.is_empty() && !a.is_empty() && !a.contains('*')),
                "{action} is not one exact service:Action"
            );
            assert!(actions.insert(action.to_string()), "{action} listed twice");
        }
    }
    actions
}

/// The actions one run of the binary called.
fn called(scenario: Scenario, extra: &[&str]) -> Vec<String> {
    let running = scenario.start();
    let mut args = vec!["-n", NAMESPACE, "-s"];
    args.extend_from_slice(extra);
    running.run(&args);
    running.proxy.as_ref().expect("an AWS world").calls()
}

#[test]
fn aws_readme_policy_lists_every_action_the_tool_calls() {
    let allowed = readme_actions();
    let mut seen = BTreeSet::new();
    let runs: Vec<(&str, Scenario)> = vec![
        ("healthy 8.7", Scenario::healthy(Gen::V8_7)),
        ("healthy 8.8", Scenario::healthy(Gen::V8_8)),
        // No exec plugin naming the cluster: ListClusters and the endpoint match.
        (
            "cluster found by endpoint",
            Scenario::healthy(Gen::V8_8).kube(|c| c.token(DEFAULT_TOKEN)),
        ),
        // A custom OpenSearch endpoint: ListDomainNames and DescribeDomains.
        (
            "custom OpenSearch endpoint",
            Scenario::healthy(Gen::V8_8).set(
                "global.opensearch.url.host",
                json!("search.camunda.example.com"),
            ),
        ),
    ];
    for (what, scenario) in runs {
        let calls = called(scenario, &[]);
        assert!(!calls.is_empty(), "{what}: no AWS call recorded");
        for action in calls {
            assert!(
                allowed.contains(&action),
                "{what}: the tool called {action}, which the README's IAM policy does not list"
            );
            seen.insert(action);
        }
    }
    // The runs went where they should (so the check above can fail).
    for action in [
        "sts:GetCallerIdentity",
        "eks:ListClusters",
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "iam:GetOpenIDConnectProvider",
        "iam:GetRole",
        "iam:GetPolicyVersion",
        "rds:DescribeDBClusters",
        "es:DescribeDomain",
        "es:ListDomainNames",
        "es:DescribeDomains",
    ] {
        assert!(seen.contains(action), "no run called {action}: {seen:?}");
    }
}

#[test]
fn aws_readme_policy_parses() {
    let actions = readme_actions();
    assert!(actions.contains("iam:GetRole"), "{actions:?}");
    assert!(
        actions.iter().all(|a| !a.starts_with("ec2:")),
        "no EC2 API is used"
    );
}
