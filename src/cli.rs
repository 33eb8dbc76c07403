//! The command line. Every flag is documented here; `--help` is generated from it.

use crate::chart::{Component, Generation};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Verify IAM Roles for Service Accounts (IRSA) of a Camunda 8 Helm deployment on Amazon EKS.
///
/// Reads the Helm release from the cluster (or values files), then checks EKS and OIDC, the
/// service accounts' role annotations, the IAM trust and permission policies, Aurora
/// PostgreSQL and OpenSearch IAM settings, and (unless -s) runs probe jobs in the namespace.
/// Failures are printed on stderr and set a non-zero exit status.
#[derive(Debug, Parser)]
#[command(name = "irsa-check", version, max_term_width = 100)]
pub struct Args {
    /// Namespace of the Camunda release.
    #[arg(
        short = 'n',
        long,
        env = "NAMESPACE",
        value_name = "NS",
        required_unless_present = "offline"
    )]
    pub namespace: Option<String>,

    /// Comma-separated components to leave out (chart keys, case-insensitive).
    #[arg(short = 'e', long, env = "EXCLUDE_COMPONENTS", value_name = "LIST", value_parser = parse_component_list)]
    pub exclude: Option<ComponentList>,

    /// Comma-separated components that reach Aurora PostgreSQL with IRSA
    /// [default: identityKeycloak,identity,webModeler].
    #[arg(short = 'p', long, value_name = "LIST", value_parser = parse_component_list)]
    pub postgres: Option<ComponentList>,

    /// Comma-separated components that reach OpenSearch with IRSA [default:
    /// zeebe,operate,tasklist,optimize before Camunda 8.8; orchestration,optimize from 8.8].
    #[arg(short = 'l', long, value_name = "LIST", value_parser = parse_component_list)]
    pub opensearch: Option<ComponentList>,

    /// Never create pods or jobs (for locked-down clusters). Server-side dry-runs, which
    /// create nothing, still run.
    #[arg(short = 's', long)]
    pub no_spawn: bool,

    /// Helm release to check, when the namespace has several camunda-platform releases.
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,

    /// Kubeconfig context to use [default: the current context].
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,

    /// Kubeconfig file [default: $KUBECONFIG, else ~/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// AWS profile of the shared config files [default: $AWS_PROFILE, else the default chain].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region of the EKS cluster [default: from the kubeconfig's `aws eks get-token`
    /// arguments, else from the *.REGION.eks.amazonaws.com server host].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// EKS cluster name [default: the cluster whose endpoint is the kube context's server].
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,

    /// Helm values file, repeatable, merged like `helm -f`; for installs without a Helm
    /// release (helm template, Argo CD). Needs --chart-version.
    #[arg(
        long = "values",
        short = 'f',
        value_name = "FILE",
        requires = "chart_version"
    )]
    pub values: Vec<PathBuf>,

    /// Chart version the values files are for: a Camunda minor (8.8) or a chart version
    /// (13.12.7).
    #[arg(long, value_name = "VERSION", value_parser = parse_generation)]
    pub chart_version: Option<ChartVersionArg>,

    /// Check the values files only: no cluster, no AWS (needs --values).
    #[arg(long, requires = "values")]
    pub offline: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output: OutputFormat,

    /// Also write the findings as a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Image of the probe jobs; it must have bash, timeout and the aws CLI.
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_PROBE_IMAGE)]
    pub probe_image: String,

    /// Seconds to wait for the probe jobs.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub probe_timeout: u64,

    /// Image pull secret for the probe jobs (repeatable).
    #[arg(long, value_name = "NAME")]
    pub image_pull_secret: Vec<String>,

    /// Node selector for the probe jobs, KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub node_selector: Vec<(String, String)>,

    /// Print every API call made (to stderr).
    #[arg(short = 'v', long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only warnings, failures and the final line.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// No colours (also when NO_COLOR is set). Colours are only used on a terminal.
    #[arg(long)]
    pub no_color: bool,
}

/// The default probe image: the official AWS CLI image (Amazon Linux based; has bash and
/// coreutils), so nothing is installed at run time.
pub const DEFAULT_PROBE_IMAGE: &str = "public.ecr.aws/aws-cli/aws-cli:2.22.35";

impl Args {
    pub fn probe_timeout(&self) -> Duration {
        Duration::from_secs(self.probe_timeout)
    }

    /// Colour is wanted unless switched off by flag or by `NO_COLOR` (any non-empty value).
    pub fn colour_allowed(&self) -> bool {
        !self.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// [OK]/[INFO] lines on stdout, [WARN]/[FAIL] lines on stderr.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// A list of component names as the user wrote them, parsed and normalised.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ComponentList(pub Vec<Component>);

/// `--chart-version`: the generation, and what the user wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartVersionArg {
    pub generation: Generation,
    pub text: String,
}

fn parse_component_list(text: &str) -> Result<ComponentList, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match Component::parse(name) {
            Some(c) if !out.contains(&c) => out.push(c),
            Some(_) => {}
            None => {
                return Err(format!(
                    "unknown component '{name}' (known: {})",
                    Component::known_keys()
                ));
            }
        }
    }
    Ok(ComponentList(out))
}

fn parse_generation(text: &str) -> Result<ChartVersionArg, String> {
    Generation::parse_user(text)
        .map(|generation| ChartVersionArg {
            generation,
            text: text.trim().to_string(),
        })
        .ok_or_else(|| {
            format!(
                "unsupported chart version '{text}' (supported: Camunda {} or chart majors {})",
                Generation::ALL
                    .iter()
                    .map(|g| g.label())
                    .collect::<Vec<_>>()
                    .join(", "),
                Generation::ALL
                    .iter()
                    .map(|g| g.chart_major().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("'{text}' is not KEY=VALUE")),
    }
}

/// Parse the command line. Help and version print and exit 0; a usage error prints one
/// line on stderr and exits 2.
pub fn parse() -> Args {
    match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            use clap::error::ErrorKind;
            match err.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => err.exit(),
                _ => {
                    eprintln!("{}", one_line_usage_error(&err.to_string()));
                    std::process::exit(2);
                }
            }
        }
    }
}

/// clap's error text spans several lines (reason, usage, a pointer to --help); a CI log
/// wants one: the reason, with its continuation lines folded in.
pub fn one_line_usage_error(text: &str) -> String {
    let reason: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("{} (see irsa-check --help)", reason.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse_from(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("irsa-check").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    /// Every flag is documented in the README.
    #[test]
    fn readme_documents_every_flag() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
            .expect("README.md");
        for arg in Args::command().get_arguments() {
            if let Some(long) = arg.get_long() {
                assert!(readme.contains(&format!("--{long}")), "README.md lacks --{long}");
            }
            if let Some(short) = arg.get_short() {
                assert!(readme.contains(&format!("-{short},")), "README.md lacks -{short}");
            }
        }
    }

    #[test]
    fn component_lists_are_normalised() {
        let args =
            parse_from(&["-n", "c", "-p", "identity,WEBMODELER,webModeler", "-l", ""]).unwrap();
        assert_eq!(
            args.postgres,
            Some(ComponentList(vec![
                Component::Identity,
                Component::WebModeler
            ]))
        );
        assert_eq!(args.opensearch, Some(ComponentList(vec![])));
    }

    #[test]
    fn unknown_component_is_a_usage_error_listing_the_known_ones() {
        let err = parse_from(&["-n", "c", "-l", "zeebe,operat"]).unwrap_err();
        let line = one_line_usage_error(&err.to_string());
        assert!(line.contains("unknown component 'operat'"), "{line}");
        assert!(line.contains("webModeler"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn namespace_is_required_unless_offline() {
        let err = parse_from(&[]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(one_line_usage_error(&err.to_string()).contains("--namespace"));
        let args =
            parse_from(&["--offline", "--values", "x.yaml", "--chart-version", "8.8"]).unwrap();
        assert_eq!(args.namespace, None);
        assert_eq!(
            args.chart_version.map(|c| c.generation),
            Some(Generation::V8_8)
        );
    }

    #[test]
    fn values_need_a_chart_version() {
        assert!(parse_from(&["--offline", "--values", "x.yaml"]).is_err());
        assert!(parse_from(&["--offline"]).is_err());
        assert!(parse_from(&["-n", "x", "--chart-version", "8.42"]).is_err());
    }

    #[test]
    fn node_selectors_are_key_value() {
        let args = parse_from(&[
            "-n",
            "c",
            "--node-selector",
            "a=b",
            "--node-selector",
            "x=y=z",
        ])
        .unwrap();
        assert_eq!(
            args.node_selector,
            vec![("a".into(), "b".into()), ("x".into(), "y=z".into())]
        );
        assert!(parse_from(&["-n", "c", "--node-selector", "novalue"]).is_err());
    }
}
