//! Connecting to the cluster: the kubeconfig (or in-cluster config), the chosen
//! context's server URL, and what its `aws eks get-token` exec plugin says about the
//! EKS cluster and region.

use anyhow::{Context as _, Result, anyhow};
use kube::config::{Config, KubeConfigOptions, Kubeconfig};
use std::path::Path;

/// A connected cluster and what the kubeconfig says about it.
#[derive(Clone)]
pub struct KubeTarget {
    pub client: kube::Client,
    /// The control plane URL the client talks to.
    pub server_url: String,
    /// The kubeconfig context in use (None in-cluster).
    pub context: Option<String>,
    /// `--region` of the context's `aws eks get-token` exec plugin, if any.
    pub exec_region: Option<String>,
    /// `--cluster-name` of that plugin (or `-i` of aws-iam-authenticator).
    pub exec_cluster_name: Option<String>,
    /// `AWS_PROFILE` (or `--profile`) of that plugin.
    pub exec_profile: Option<String>,
}

/// The EKS hints a kubeconfig's exec plugin carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecHints {
    pub region: Option<String>,
    pub cluster_name: Option<String>,
    pub profile: Option<String>,
}

/// Read `aws [--region R] eks get-token --cluster-name C [--profile P]` and
/// `aws-iam-authenticator token -i C` argument lists, with `--flag value` and
/// `--flag=value` spellings; env entries (`AWS_REGION`, `AWS_DEFAULT_REGION`,
/// `AWS_PROFILE`) fill what the arguments leave out.
pub fn exec_hints(command: Option<&str>, args: &[String], env: &[(String, String)]) -> ExecHints {
    let mut hints = ExecHints::default();
    let program = command
        .map(|c| {
            Path::new(c)
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or(c)
        })
        .unwrap_or("");
    let authenticator = program.contains("aws-iam-authenticator");
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = || -> Option<String> {
            if let Some(v) = inline.clone() {
                return Some(v);
            }
            let v = args.get(i + 1).cloned();
            if v.is_some() {
                i += 1;
            }
            v
        };
        match flag {
            "--region" => hints.region = value(),
            "--cluster-name" | "--cluster-id" => hints.cluster_name = value(),
            "-i" if authenticator => hints.cluster_name = value(),
            "--profile" => hints.profile = value(),
            _ => {}
        }
        i += 1;
    }
    for (k, v) in env {
        match k.as_str() {
            "AWS_REGION" | "AWS_DEFAULT_REGION" if hints.region.is_none() => {
                hints.region = Some(v.clone())
            }
            "AWS_PROFILE" if hints.profile.is_none() => hints.profile = Some(v.clone()),
            _ => {}
        }
    }
    hints
}

/// The region of an EKS API server host: `https://ABC.gr7.eu-west-1.eks.amazonaws.com`.
pub fn region_from_server_url(url: &str) -> Option<String> {
    let host = crate::checks::opensearch::parse_url(url)?.0;
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let eks_at = labels.iter().rposition(|l| *l == "eks")?;
    let tail = &labels[eks_at + 1..];
    if !(tail == ["amazonaws", "com"] || tail == ["amazonaws", "com", "cn"]) || eks_at == 0 || n < 4
    {
        return None;
    }
    let region = labels[eks_at - 1];
    crate::checks::opensearch::looks_like_region(region).then(|| region.to_string())
}

/// Connect with `--kubeconfig`/`--context` (else `$KUBECONFIG`/`~/.kube/config`, else
/// the in-cluster service account).
pub async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<KubeTarget> {
    let file = match kubeconfig {
        Some(path) => Some(
            Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?,
        ),
        None => match Kubeconfig::read() {
            Ok(k) => Some(k),
            // No kubeconfig anywhere: maybe we run in a pod.
            Err(_)
                if context.is_none() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() =>
            {
                None
            }
            Err(e) => {
                return Err(
                    anyhow!(e).context("cannot read a kubeconfig ($KUBECONFIG or ~/.kube/config)")
                );
            }
        },
    };
    let Some(file) = file else {
        let config = Config::incluster().context("cannot use the in-cluster configuration")?;
        let server_url = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).context("cannot build a Kubernetes client")?;
        return Ok(KubeTarget {
            client,
            server_url,
            context: None,
            exec_region: None,
            exec_cluster_name: None,
            exec_profile: None,
        });
    };

    let context_name = context
        .map(str::to_string)
        .or_else(|| file.current_context.clone())
        .ok_or_else(|| anyhow!("the kubeconfig has no current context; pass --context"))?;
    let named = file
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .ok_or_else(|| {
            anyhow!(
                "context '{context_name}' is not in the kubeconfig (contexts: {})",
                file.contexts
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let user = named.context.as_ref().and_then(|c| c.user.clone());
    let hints = user
        .and_then(|u| file.auth_infos.iter().find(|a| a.name == u))
        .and_then(|a| a.auth_info.as_ref())
        .and_then(|a| a.exec.as_ref())
        .map(|exec| {
            let env: Vec<(String, String)> = exec
                .env
                .iter()
                .flatten()
                .filter_map(|m| Some((m.get("name")?.clone(), m.get("value")?.clone())))
                .collect();
            exec_hints(
                exec.command.as_deref(),
                exec.args.as_deref().unwrap_or(&[]),
                &env,
            )
        })
        .unwrap_or_default();

    let options = KubeConfigOptions {
        context: Some(context_name.clone()),
        cluster: None,
        user: None,
    };
    let config = Config::from_custom_kubeconfig(file, &options)
        .await
        .with_context(|| format!("cannot use kubeconfig context '{context_name}'"))?;
    let server_url = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).context("cannot build a Kubernetes client")?;
    Ok(KubeTarget {
        client,
        server_url,
        context: Some(context_name),
        exec_region: hints.region,
        exec_cluster_name: hints.cluster_name,
        exec_profile: hints.profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn exec_hints_of_aws_eks_get_token() {
        let h = exec_hints(
            Some("aws"),
            &s(&[
                "--region",
                "eu-west-1",
                "eks",
                "get-token",
                "--cluster-name",
                "camunda-prod",
                "--output",
                "json",
            ]),
            &[],
        );
        assert_eq!(h.region.as_deref(), Some("eu-west-1"));
        assert_eq!(h.cluster_name.as_deref(), Some("camunda-prod"));
        let h = exec_hints(
            Some("/usr/local/bin/aws"),
            &s(&[
                "eks",
                "get-token",
                "--cluster-name=c1",
                "--region=us-east-2",
                "--profile",
                "prod",
            ]),
            &[("AWS_REGION".into(), "ignored".into())],
        );
        assert_eq!(
            h,
            ExecHints {
                region: Some("us-east-2".into()),
                cluster_name: Some("c1".into()),
                profile: Some("prod".into())
            }
        );
        let h = exec_hints(
            Some("aws-iam-authenticator"),
            &s(&["token", "-i", "c2"]),
            &[
                ("AWS_DEFAULT_REGION".into(), "ap-south-1".into()),
                ("AWS_PROFILE".into(), "p".into()),
            ],
        );
        assert_eq!(
            h,
            ExecHints {
                region: Some("ap-south-1".into()),
                cluster_name: Some("c2".into()),
                profile: Some("p".into())
            }
        );
        // A trailing flag without value does not panic.
        assert_eq!(exec_hints(Some("aws"), &s(&["--region"]), &[]).region, None);
    }

    #[test]
    fn region_from_eks_hosts() {
        assert_eq!(
            region_from_server_url(
                "https://0123456789ABCDEF0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com"
            ),
            Some("eu-west-1".into())
        );
        assert_eq!(
            region_from_server_url("https://ABC.yl4.cn-north-1.eks.amazonaws.com.cn:443/"),
            Some("cn-north-1".into())
        );
        assert_eq!(region_from_server_url("https://127.0.0.1:6443"), None);
        assert_eq!(region_from_server_url("https://eks.amazonaws.com"), None);
        assert_eq!(region_from_server_url("https://k8s.example.com"), None);
    }
}
