//! Section 4 of the catalogue: OpenSearch. The chart settings (51) and the endpoint (61)
//! come from the values; the domain checks (62–66) judge what OpenSearch DescribeDomain
//! said. The access policy (67, 68) is judged in `permissions`.

use crate::chart::{Component, Generation};
use crate::checks::read::{self, Flag};
use crate::code::Code;
use crate::facts::ApiError;
use crate::finding::Finding;
use crate::values::Values;

/// Where the OpenSearch components connect, and which of them do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenSearchEndpoint {
    pub host: String,
    pub port: u16,
    /// The values key the host was read from.
    pub source: String,
    pub components: Vec<Component>,
}

/// The OpenSearch domain named by an endpoint host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainRef {
    /// `vpc-NAME-HASH.REGION.es.amazonaws.com` or `search-NAME-HASH.…`.
    Named { name: String, region: String },
    /// A custom endpoint: the domain is found by matching the domains' endpoints.
    Custom { host: String },
}

/// A switch the chart reads as `a || b || …` (component key first, then the global one).
struct Switch {
    on: bool,
    /// Which key turned it on, or what each key holds.
    text: String,
}

fn any_true(values: &Values, paths: &[&[&str]]) -> Switch {
    if let Some(path) = paths.iter().find(|p| read::flag(values, p).truthy()) {
        return Switch {
            on: true,
            text: format!("{} is true", read::dotted(path)),
        };
    }
    let each: Vec<String> = paths
        .iter()
        .map(|p| format!("{} is {}", read::dotted(p), show(&read::flag(values, p))))
        .collect();
    Switch {
        on: false,
        text: each.join(" and "),
    }
}

fn show(flag: &Flag) -> String {
    match flag {
        Flag::Unset => "not set".into(),
        Flag::Set(b) => b.to_string(),
        Flag::Invalid(v) => format!("{v} (not a boolean)"),
    }
}

/// Code 51 (chart settings) and 61 (endpoint) for the OpenSearch components left after
/// section 3. Returns the findings and the endpoints to check further.
pub fn judge_values(
    generation: Generation,
    values: &Values,
    components: &[Component],
) -> (Vec<Finding>, Vec<OpenSearchEndpoint>) {
    let mut findings = Vec::new();
    if components.is_empty() {
        return (findings, Vec::new());
    }
    if generation.has_per_component_opensearch() {
        for &component in components {
            findings.extend(per_component_settings(values, component));
        }
    } else {
        findings.extend(global_settings(values));
    }

    let mut endpoints: Vec<OpenSearchEndpoint> = Vec::new();
    for &component in components {
        match endpoint_of(generation, values, component) {
            Ok((host, port, source)) => {
                if let Some(e) = endpoints.iter_mut().find(|e| e.host == host && e.port == port) {
                    e.components.push(component);
                } else {
                    endpoints.push(OpenSearchEndpoint {
                        host,
                        port,
                        source,
                        components: vec![component],
                    });
                }
            }
            Err(message) => findings.push(
                Finding::fail(Code::OpenSearchEndpoint, message)
                    .component(component.key())
                    .hint("Set the OpenSearch host in the Helm values (global.opensearch.url.host, or the component's own OpenSearch URL from Camunda 8.9)."),
            ),
        }
    }
    for e in &endpoints {
        let who = e
            .components
            .iter()
            .map(|c| c.key())
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(Finding::ok(
            Code::OpenSearchEndpoint,
            format!(
                "OpenSearch endpoint {}:{} (from {}) used by {who}.",
                e.host, e.port, e.source
            ),
        ));
    }
    (findings, endpoints)
}

fn global_settings(values: &Values) -> Vec<Finding> {
    let mut out = Vec::new();
    let es = read::flag(values, &["global", "elasticsearch", "enabled"]);
    out.push(if es.is_true() {
        Finding::fail(
            Code::OpenSearchChartSettings,
            "IRSA is only supported for OpenSearch. Set global.elasticsearch.enabled to false and use OpenSearch instead.",
        )
    } else {
        Finding::ok(
            Code::OpenSearchChartSettings,
            format!("global.elasticsearch.enabled is {}: Elasticsearch is not used.", show(&es)),
        )
    });
    let os = read::flag(values, &["global", "opensearch", "enabled"]);
    out.push(if os.is_true() {
        Finding::ok(Code::OpenSearchChartSettings, "global.opensearch.enabled is true.")
    } else {
        Finding::fail(
            Code::OpenSearchChartSettings,
            format!(
                "OpenSearch must be enabled for IRSA to work: global.opensearch.enabled is {}. Set it to true.",
                show(&os)
            ),
        )
    });
    let aws = read::flag(values, &["global", "opensearch", "aws", "enabled"]);
    out.push(if aws.is_true() {
        Finding::ok(
            Code::OpenSearchChartSettings,
            "global.opensearch.aws.enabled is true: requests to OpenSearch are signed with the IRSA role.",
        )
    } else {
        Finding::fail(
            Code::OpenSearchChartSettings,
            format!(
                "OpenSearch AWS integration must be enabled: global.opensearch.aws.enabled is {}. Set it to true.",
                show(&aws)
            ),
        )
    });
    out
}

/// From 8.9 the chart resolves OpenSearch per component, falling back to the globals.
fn per_component_settings(values: &Values, component: Component) -> Vec<Finding> {
    let c = component.key();
    let mut out = Vec::new();
    let (storage_ok, storage_text, aws) = match component {
        Component::Orchestration => {
            let ty = read::text(
                values,
                &["orchestration", "data", "secondaryStorage", "type"],
            );
            let (kind, from) = match ty {
                Some(t) => (
                    t.to_ascii_lowercase(),
                    "orchestration.data.secondaryStorage.type".to_string(),
                ),
                None if read::flag(values, &["global", "opensearch", "enabled"]).is_true() => {
                    ("opensearch".into(), "global.opensearch.enabled".into())
                }
                None if read::flag(values, &["global", "elasticsearch", "enabled"]).is_true() => (
                    "elasticsearch".into(),
                    "global.elasticsearch.enabled".into(),
                ),
                None => (
                    "none".into(),
                    "orchestration.data.secondaryStorage.type".into(),
                ),
            };
            let aws = any_true(
                values,
                &[
                    &[
                        "orchestration",
                        "data",
                        "secondaryStorage",
                        "opensearch",
                        "aws",
                        "enabled",
                    ],
                    &["global", "opensearch", "aws", "enabled"],
                ],
            );
            (
                kind == "opensearch",
                format!("secondary storage is {kind} (from {from})"),
                aws,
            )
        }
        Component::Optimize => {
            let os = any_true(
                values,
                &[
                    &["optimize", "database", "opensearch", "enabled"],
                    &["global", "opensearch", "enabled"],
                ],
            );
            let es = any_true(
                values,
                &[
                    &["optimize", "database", "elasticsearch", "enabled"],
                    &["global", "elasticsearch", "enabled"],
                ],
            );
            let aws = any_true(
                values,
                &[
                    &["optimize", "database", "opensearch", "aws", "enabled"],
                    &["global", "opensearch", "aws", "enabled"],
                ],
            );
            (os.on && !es.on, format!("{}; {}", os.text, es.text), aws)
        }
        _ => {
            // Other components follow the global keys.
            return global_settings(values)
                .into_iter()
                .map(|f| f.component(c))
                .collect();
        }
    };
    out.push(if storage_ok {
        Finding::ok(
            Code::OpenSearchChartSettings,
            format!("{c} uses OpenSearch: {storage_text}."),
        )
        .component(c)
    } else {
        Finding::fail(
            Code::OpenSearchChartSettings,
            format!("IRSA is only supported for OpenSearch, but for {c} {storage_text}."),
        )
        .component(c)
    });
    out.push(if aws.on {
        Finding::ok(
            Code::OpenSearchChartSettings,
            format!(
                "{}: {c} signs its OpenSearch requests with the IRSA role.",
                aws.text
            ),
        )
        .component(c)
    } else {
        Finding::fail(
            Code::OpenSearchChartSettings,
            format!(
                "OpenSearch AWS integration must be enabled for {c}: {}. Set one of them to true.",
                aws.text
            ),
        )
        .component(c)
    });
    out
}

/// The host and port a component connects to, as the chart resolves them.
fn endpoint_of(
    generation: Generation,
    values: &Values,
    component: Component,
) -> Result<(String, u16, String), String> {
    let global_host = read::text(values, &["global", "opensearch", "url", "host"]);
    let global_port = match read::port(values, &["global", "opensearch", "url", "port"]) {
        read::Port::Set(p) => p,
        _ => 443,
    };
    if generation.has_per_component_opensearch() {
        match component {
            Component::Orchestration => {
                let path = [
                    "orchestration",
                    "data",
                    "secondaryStorage",
                    "opensearch",
                    "url",
                ];
                if let Some(url) = read::text(values, &path) {
                    return parse_url(&url)
                        .map(|(h, p)| (h, p.unwrap_or(443), read::dotted(&path)))
                        .ok_or_else(|| {
                            format!("{} = {url} is not a URL with a host.", read::dotted(&path))
                        });
                }
            }
            Component::Optimize => {
                if let Some(host) = read::text(
                    values,
                    &["optimize", "database", "opensearch", "url", "host"],
                ) {
                    let port = match read::port(
                        values,
                        &["optimize", "database", "opensearch", "url", "port"],
                    ) {
                        read::Port::Set(p) => p,
                        _ => global_port,
                    };
                    return Ok((
                        strip_host(&host),
                        port,
                        "optimize.database.opensearch.url.host".into(),
                    ));
                }
            }
            _ => {}
        }
    }
    match global_host {
        Some(host) => Ok((
            strip_host(&host),
            global_port,
            "global.opensearch.url.host".into(),
        )),
        None => Err(format!(
            "The OpenSearch URL of {} is not set: set global.opensearch.url.host{}.",
            component.key(),
            if generation.has_per_component_opensearch() {
                match component {
                    Component::Orchestration => {
                        " or orchestration.data.secondaryStorage.opensearch.url"
                    }
                    Component::Optimize => " or optimize.database.opensearch.url.host",
                    _ => "",
                }
            } else {
                ""
            }
        )),
    }
}

/// Users sometimes write a URL where a host is expected.
fn strip_host(host: &str) -> String {
    parse_url(host)
        .map(|(h, _)| h)
        .unwrap_or_else(|| host.trim().to_string())
}

/// Host and port of `scheme://host[:port][/path]` (or of a bare `host[:port]`).
pub fn parse_url(url: &str) -> Option<(String, Option<u16>)> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
            (h, Some(p.parse::<u16>().ok().filter(|p| *p != 0)?))
        }
        _ => (authority, None),
    };
    let host = host.trim().to_ascii_lowercase();
    (!host.is_empty() && !host.contains(char::is_whitespace)).then_some((host, port))
}

/// Read the domain name and region from an Amazon OpenSearch Service endpoint host.
pub fn parse_domain_host(host: &str) -> DomainRef {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let aws_suffix = matches!(
        labels.as_slice(),
        [_, _, "es", "amazonaws", "com"] | [_, _, "es", "amazonaws", "com", "cn"]
    );
    if aws_suffix {
        let first = labels[0];
        let region = labels[1];
        let name_hash = first
            .strip_prefix("vpc-")
            .or_else(|| first.strip_prefix("search-"));
        if let Some((name, hash)) = name_hash.and_then(|nh| nh.rsplit_once('-'))
            && valid_domain_name(name)
            && !hash.is_empty()
            && looks_like_region(region)
        {
            return DomainRef::Named {
                name: name.to_string(),
                region: region.to_string(),
            };
        }
    }
    DomainRef::Custom { host }
}

/// OpenSearch domain names: 3–28 characters, lower-case letters, digits and hyphens,
/// starting with a letter.
fn valid_domain_name(name: &str) -> bool {
    (3..=28).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-4`.
pub fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// What DescribeDomain said about a domain (the fields the checks read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainFacts {
    pub name: String,
    pub arn: Option<String>,
    pub created: bool,
    pub deleted: bool,
    pub processing: bool,
    /// `AdvancedSecurityOptions.Enabled`: fine-grained access control.
    pub fine_grained_access_control: bool,
    /// `DomainEndpointOptions.EnforceHTTPS`.
    pub enforce_https: bool,
    /// The domain's resource-based access policy, as returned (JSON text).
    pub access_policies: Option<String>,
}

/// How the domain lookup went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainLookup {
    Found(DomainFacts),
    /// No domain of that name (or no domain with that custom endpoint).
    NotFound(String),
    Failed(ApiError),
}

/// Codes 62 (parse) for an endpoint.
pub fn judge_domain_parse(endpoint: &OpenSearchEndpoint, domain: &DomainRef) -> Finding {
    match domain {
        DomainRef::Named { name, region } => Finding::info(
            Code::OpenSearchDomainParse,
            format!(
                "OpenSearch domain {name} in region {region} (from {}).",
                endpoint.host
            ),
        ),
        DomainRef::Custom { host } => Finding::info(
            Code::OpenSearchDomainParse,
            format!(
                "{host} is not an *.es.amazonaws.com endpoint: looking for the domain whose endpoint it is."
            ),
        ),
    }
}

/// Codes 63–66 for one domain.
pub fn judge_domain(lookup: &DomainLookup) -> Vec<Finding> {
    let facts = match lookup {
        DomainLookup::Found(f) => f,
        DomainLookup::NotFound(message) => {
            let mut out = vec![Finding::fail(Code::OpenSearchDomainExists, message.clone())];
            out.extend(skip_domain_checks("the OpenSearch domain was not found"));
            return out;
        }
        DomainLookup::Failed(err) => {
            let mut out = vec![Finding::fail(
                Code::OpenSearchDomainExists,
                format!("Unable to retrieve the OpenSearch domain: {err}"),
            )];
            out.extend(skip_domain_checks(
                "the OpenSearch domain could not be read",
            ));
            return out;
        }
    };
    let name = &facts.name;
    let mut out = vec![Finding::ok(
        Code::OpenSearchDomainExists,
        format!(
            "OpenSearch domain {name} exists{}.",
            facts
                .arn
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        ),
    )];
    out.push(if facts.fine_grained_access_control {
        Finding::ok(Code::OpenSearchFgac, format!("Fine-grained access control (advanced security) is enabled on OpenSearch domain {name}."))
    } else {
        Finding::fail(Code::OpenSearchFgac, format!("Advanced security (fine-grained access control) is not enabled on OpenSearch domain {name}."))
            .hint("Enable fine-grained access control and map the IRSA roles to OpenSearch roles (backend_roles).")
    });
    out.push(if facts.enforce_https {
        Finding::ok(
            Code::OpenSearchHttps,
            format!("HTTPS is enforced on OpenSearch domain {name}."),
        )
    } else {
        Finding::fail(
            Code::OpenSearchHttps,
            format!("HTTPS is not enforced on OpenSearch domain {name}."),
        )
    });
    if !facts.created || facts.deleted {
        out.push(Finding::fail(
            Code::OpenSearchDomainState,
            format!(
                "OpenSearch domain {name} is {}.",
                if facts.deleted {
                    "marked as deleted"
                } else {
                    "not created yet"
                }
            ),
        ));
    } else {
        out.push(Finding::ok(
            Code::OpenSearchDomainState,
            format!(
                "OpenSearch domain {name} is created and not marked as deleted{}.",
                if facts.processing {
                    " (a configuration change is in progress)"
                } else {
                    ""
                }
            ),
        ));
    }
    match facts.access_policies.as_deref().map(str::trim) {
        None | Some("") => out.push(Finding::fail(
            Code::OpenSearchDomainState,
            format!("OpenSearch domain {name} has no access policy."),
        )),
        Some(_) => out.push(Finding::ok(
            Code::OpenSearchDomainState,
            format!("OpenSearch domain {name} has an access policy."),
        )),
    }
    out
}

fn skip_domain_checks(reason: &str) -> Vec<Finding> {
    [
        Code::OpenSearchFgac,
        Code::OpenSearchHttps,
        Code::OpenSearchDomainState,
        Code::OpenSearchAccessPolicy,
    ]
    .into_iter()
    .map(|code| Finding::skipped(code, reason))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Level;
    use serde_json::json;

    fn levels(findings: &[Finding]) -> Vec<(u8, Level)> {
        findings
            .iter()
            .map(|f| (f.code.number(), f.level))
            .collect()
    }

    #[test]
    fn domain_names_are_read_from_aws_endpoints() {
        assert_eq!(
            parse_domain_host(
                "vpc-camunda-os-3k2j4h5g6f7d8s9a0q1w2e3r4t.eu-west-1.es.amazonaws.com"
            ),
            DomainRef::Named {
                name: "camunda-os".into(),
                region: "eu-west-1".into()
            }
        );
        assert_eq!(
            parse_domain_host("search-my-domain-abc123.us-gov-west-1.es.amazonaws.com"),
            DomainRef::Named {
                name: "my-domain".into(),
                region: "us-gov-west-1".into()
            }
        );
        assert_eq!(
            parse_domain_host("VPC-logs-xyz.cn-north-1.es.amazonaws.com.cn"),
            DomainRef::Named {
                name: "logs".into(),
                region: "cn-north-1".into()
            }
        );
        assert_eq!(
            parse_domain_host("opensearch.example.com"),
            DomainRef::Custom {
                host: "opensearch.example.com".into()
            }
        );
        // moto's endpoints have no vpc-/search- prefix: matched as custom endpoints.
        assert_eq!(
            parse_domain_host("camunda-os.eu-west-1.es.amazonaws.com"),
            DomainRef::Custom {
                host: "camunda-os.eu-west-1.es.amazonaws.com".into()
            }
        );
        assert!(matches!(
            parse_domain_host("vpc-x-1.eu-west-1.es.amazonaws.com"),
            DomainRef::Custom { .. }
        ));
        assert!(matches!(parse_domain_host(""), DomainRef::Custom { .. }));
        assert!(matches!(
            parse_domain_host("vpc-abc-.notaregion.es.amazonaws.com"),
            DomainRef::Custom { .. }
        ));
    }

    #[test]
    fn urls_give_host_and_port() {
        assert_eq!(
            parse_url("https://vpc-x.eu-west-1.es.amazonaws.com:443"),
            Some(("vpc-x.eu-west-1.es.amazonaws.com".into(), Some(443)))
        );
        assert_eq!(parse_url("https://h/path?x"), Some(("h".into(), None)));
        assert_eq!(parse_url("h:9200"), Some(("h".into(), Some(9200))));
        assert_eq!(
            parse_url("https://user:pw@h:1/"),
            Some(("h".into(), Some(1)))
        );
        assert_eq!(parse_url("https://"), None);
        assert_eq!(parse_url("https://h:99999"), None);
        assert_eq!(parse_url("https://h:0"), None);
    }

    fn v88(user: serde_json::Value) -> Values {
        Values::new(
            user,
            json!({"global": {"elasticsearch": {"enabled": true}, "opensearch": {"enabled": false, "aws": {"enabled": false}, "url": {"protocol": "https", "host": "", "port": 443}}}}),
        )
    }

    #[test]
    fn globals_one_line_each_up_to_8_8() {
        let components = [Component::Orchestration, Component::Optimize];
        let (f, endpoints) = judge_values(Generation::V8_8, &v88(json!({})), &components);
        assert_eq!(
            levels(&f),
            vec![
                (51, Level::Fail),
                (51, Level::Fail),
                (51, Level::Fail),
                (61, Level::Fail),
                (61, Level::Fail)
            ]
        );
        assert!(endpoints.is_empty());
        let good = json!({"global": {"elasticsearch": {"enabled": false}, "opensearch": {"enabled": true, "aws": {"enabled": true}, "url": {"host": "vpc-a-b.eu-west-1.es.amazonaws.com"}}}});
        let (f, endpoints) = judge_values(Generation::V8_8, &v88(good), &components);
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        assert_eq!(endpoints.len(), 1);
        assert_eq!(endpoints[0].port, 443);
        assert_eq!(endpoints[0].components, components.to_vec());
        // No OpenSearch component left: nothing to say.
        assert!(
            judge_values(Generation::V8_8, &v88(json!({})), &[])
                .0
                .is_empty()
        );
    }

    #[test]
    fn per_component_resolution_from_8_9() {
        let defaults = json!({
            "global": {"elasticsearch": {"enabled": false}, "opensearch": {"enabled": false, "aws": {"enabled": false}, "url": {"host": "", "port": 443}}},
            "optimize": {"database": {"opensearch": {"enabled": false, "aws": {"enabled": false}, "url": {"host": ""}}}},
            "orchestration": {"data": {"secondaryStorage": {"type": "", "opensearch": {"aws": {"enabled": false}, "url": ""}}}}
        });
        // The 8.9 reference: per-component keys, and the global host kept for legacy.
        let user = json!({
            "global": {"opensearch": {"enabled": true, "aws": {"enabled": true}, "url": {"host": "vpc-os-h.eu-west-1.es.amazonaws.com", "port": 443}}},
            "optimize": {"database": {"opensearch": {"enabled": true, "aws": {"enabled": true}, "url": {"protocol": "https", "host": "vpc-os-h.eu-west-1.es.amazonaws.com", "port": 443}}}},
            "orchestration": {"data": {"secondaryStorage": {"type": "opensearch", "opensearch": {"aws": {"enabled": true}, "url": "https://vpc-os-h.eu-west-1.es.amazonaws.com:443"}}}}
        });
        let values = Values::new(user, defaults.clone());
        let (f, endpoints) = judge_values(
            Generation::V8_9,
            &values,
            &[Component::Orchestration, Component::Optimize],
        );
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");
        assert_eq!(endpoints.len(), 1);
        assert_eq!(
            endpoints[0].source,
            "orchestration.data.secondaryStorage.opensearch.url"
        );

        // Only the global keys set: the chart reads `component || global`, so it works.
        let user = json!({
            "global": {"opensearch": {"enabled": true, "aws": {"enabled": true}, "url": {"host": "vpc-os-h.eu-west-1.es.amazonaws.com"}}},
            "orchestration": {"data": {"secondaryStorage": {"opensearch": {"aws": {"enabled": false}}}}}
        });
        let values = Values::new(user, defaults.clone());
        let (f, _) = judge_values(
            Generation::V8_9,
            &values,
            &[Component::Orchestration, Component::Optimize],
        );
        assert!(f.iter().all(|f| f.level == Level::Ok), "{f:?}");

        // Neither signs: one failure per component, naming both keys.
        let user = json!({
            "global": {"opensearch": {"enabled": true, "url": {"host": "vpc-os-h.eu-west-1.es.amazonaws.com"}}},
            "orchestration": {"data": {"secondaryStorage": {"type": "elasticsearch"}}}
        });
        let values = Values::new(user, defaults);
        let (f, _) = judge_values(
            Generation::V8_9,
            &values,
            &[Component::Orchestration, Component::Optimize],
        );
        let fails: Vec<_> = f
            .iter()
            .filter(|f| f.level == Level::Fail)
            .map(|f| (f.component.clone().unwrap(), f.message.clone()))
            .collect();
        assert_eq!(fails.len(), 3, "{f:?}");
        assert!(
            fails[0].1.contains("secondary storage is elasticsearch"),
            "{fails:?}"
        );
        assert!(fails[1].1.contains("orchestration.data.secondaryStorage.opensearch.aws.enabled is false and global.opensearch.aws.enabled is false"), "{fails:?}");
        assert_eq!(fails[2].0, "optimize");
    }

    #[test]
    fn domain_judgement() {
        let good = DomainFacts {
            name: "camunda-os".into(),
            arn: Some("arn:aws:es:eu-west-1:1:domain/camunda-os".into()),
            created: true,
            fine_grained_access_control: true,
            enforce_https: true,
            access_policies: Some("{}".into()),
            ..Default::default()
        };
        assert!(
            judge_domain(&DomainLookup::Found(good.clone()))
                .iter()
                .all(|f| f.level == Level::Ok)
        );
        let bad = DomainFacts {
            fine_grained_access_control: false,
            enforce_https: false,
            deleted: true,
            access_policies: None,
            ..good
        };
        assert_eq!(
            levels(&judge_domain(&DomainLookup::Found(bad))),
            vec![
                (63, Level::Ok),
                (64, Level::Fail),
                (65, Level::Fail),
                (66, Level::Fail),
                (66, Level::Fail)
            ]
        );
        let missing = judge_domain(&DomainLookup::NotFound(
            "no domain camunda-os in eu-west-1".into(),
        ));
        assert_eq!(missing[0].level, Level::Fail);
        assert!(missing[1..].iter().all(|f| f.level == Level::Skip));
    }
}
