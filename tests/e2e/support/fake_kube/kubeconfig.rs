//! The kubeconfig pointing at the fake, and the fake `aws` CLI for exec auth.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::store::rfc3339;
use crate::support::spec;

/// How the kubeconfig's user authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KubeAuth {
    /// A static bearer token (`users[].user.token`).
    Token(String),
    /// `aws eks get-token`, as `aws eks update-kubeconfig` writes it.
    AwsExec {
        cluster_name: String,
        region: String,
    },
}

/// The token `aws eks get-token` prints for this cluster: `k8s-aws-v1.` and the
/// base64url of a presigned STS GetCallerIdentity URL, like the real one.
pub fn eks_token(cluster_name: &str, region: &str) -> String {
    let url = format!(
        "https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAFAKEKUBE%2F20261130%2F{region}%2Fsts%2Faws4_request&X-Amz-Date=20261130T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=fake{cluster_name}"
    );
    format!("k8s-aws-v1.{}", URL_SAFE_NO_PAD.encode(url))
}

fn quoted(text: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::Value::String(text.to_string()).to_string()
}

/// Writes `<dir>/kubeconfig` (and for exec auth `<dir>/bin/aws`); returns the
/// kubeconfig path and the bin dir.
pub fn write(
    dir: &Path,
    url: &str,
    auth: &KubeAuth,
    namespace: Option<&str>,
) -> io::Result<(PathBuf, PathBuf)> {
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir)?;
    let (context, user) = match auth {
        KubeAuth::Token(token) => (
            "fake-kube".to_string(),
            format!("    token: {}\n", quoted(token)),
        ),
        KubeAuth::AwsExec {
            cluster_name,
            region,
        } => {
            write_aws_script(&bin_dir, cluster_name, region)?;
            (
                format!(
                    "arn:aws:eks:{region}:{}:cluster/{cluster_name}",
                    spec::ACCOUNT
                ),
                format!(
                    "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args:\n      - --region\n      - {}\n      - eks\n      - get-token\n      - --cluster-name\n      - {}\n      - --output\n      - json\n      env: null\n      interactiveMode: IfAvailable\n      provideClusterInfo: false\n",
                    quoted(region),
                    quoted(cluster_name)
                ),
            )
        }
    };
    let namespace_line = namespace
        .map(|ns| format!("    namespace: {}\n", quoted(ns)))
        .unwrap_or_default();
    let name = quoted(&context);
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {}\n  name: {name}\ncontexts:\n- context:\n    cluster: {name}\n{namespace_line}    user: {name}\n  name: {name}\ncurrent-context: {name}\npreferences: {{}}\nusers:\n- name: {name}\n  user:\n{user}",
        quoted(url)
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kubeconfig)?;
    Ok((path, bin_dir))
}

/// A stand-in for the AWS CLI that answers `aws eks get-token` only. A wrong cluster
/// or region still gets a token (as with the real CLI, which signs anything), but one
/// the fake rejects with 401. Every invocation is appended to `aws-invocations.log`.
fn write_aws_script(bin_dir: &Path, cluster_name: &str, region: &str) -> io::Result<()> {
    let expires = rfc3339(SystemTime::now() + Duration::from_secs(3600));
    let log = bin_dir.join("aws-invocations.log");
    let script = format!(
        r#"#!/bin/sh
# Fake `aws` CLI written by the irsa-check test support (fake_kube).
printf '%s\n' "$*" >> '{log}'
cluster=
region=${{AWS_REGION:-${{AWS_DEFAULT_REGION:-}}}}
eks=
get_token=
while [ "$#" -gt 0 ]; do
  case "$1" in
    eks) eks=1 ;;
    get-token) get_token=1 ;;
    --cluster-name) shift; cluster=${{1:-}} ;;
    --region) shift; region=${{1:-}} ;;
    --output|--profile|--role-arn) shift ;;
    *) printf '\nfake aws: unsupported argument: %s\n' "$1" >&2; exit 252 ;;
  esac
  [ "$#" -gt 0 ] && shift
done
if [ -z "$eks" ] || [ -z "$get_token" ]; then
  printf '\nfake aws: only "aws eks get-token" is supported\n' >&2
  exit 252
fi
if [ -z "$cluster" ]; then
  printf '\naws: error: the following arguments are required: --cluster-name\n' >&2
  exit 252
fi
if [ -z "$region" ]; then
  printf '\nYou must specify a region. You can also configure your region by running "aws configure".\n' >&2
  exit 253
fi
if [ "$cluster" = '{cluster_name}' ] && [ "$region" = '{region}' ]; then
  token='{good}'
else
  token="k8s-aws-v1.unknown-$cluster-$region"
fi
printf '{{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {{}}, "status": {{"expirationTimestamp": "{expires}", "token": "%s"}}}}\n' "$token"
"#,
        log = log.display(),
        good = eks_token(cluster_name, region),
    );
    let path = bin_dir.join("aws");
    std::fs::write(&path, script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
