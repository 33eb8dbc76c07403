//! OpenSearch Service: the domain an endpoint names, by name (`vpc-NAME-HASH.REGION…`)
//! or, for a custom endpoint, by matching the account's domains' endpoints.

use super::{found, in_region, sdk_error};
use crate::checks::opensearch::{DomainFacts, DomainLookup, DomainRef};
use crate::facts::Fetched;
use aws_config::SdkConfig;
use aws_sdk_opensearch::Client;
use aws_sdk_opensearch::types::DomainStatus;

/// DescribeDomains takes at most this many names per call.
const DESCRIBE_DOMAINS_BATCH: usize = 5;

/// The domain `domain` names. A custom endpoint is looked for among the domains of
/// `region` (the cluster's).
pub async fn lookup(config: &SdkConfig, domain: &DomainRef, region: Option<&str>) -> DomainLookup {
    match domain {
        DomainRef::Named { name, region } => describe_domain(config, name, region).await,
        DomainRef::Custom { host } => match region {
            Some(region) => find_by_endpoint(config, host, region).await,
            None => DomainLookup::NotFound(format!(
                "No region to look for the OpenSearch domain of the custom endpoint {host} in."
            )),
        },
    }
}

async fn describe_domain(config: &SdkConfig, name: &str, region: &str) -> DomainLookup {
    crate::log::call(format!("es:DescribeDomain domain={name} region={region}"));
    let answer = Client::new(&in_region(config, region))
        .describe_domain()
        .domain_name(name)
        .send()
        .await
        .map_err(|e| sdk_error(format!("es:DescribeDomain (domain {name})"), e));
    match found(answer) {
        Err(err) => DomainLookup::Failed(err),
        Ok(None) => DomainLookup::NotFound(format!(
            "Unable to retrieve OpenSearch domain information for {name} in region {region}: the domain does not exist."
        )),
        Ok(Some(out)) => match out.domain_status() {
            Some(status) => DomainLookup::Found(facts(status)),
            None => DomainLookup::NotFound(format!(
                "OpenSearch DescribeDomain returned no status for domain {name} in region {region}."
            )),
        },
    }
}

/// ListDomainNames, DescribeDomains in batches, and the domain whose `Endpoint`,
/// `Endpoints` or custom endpoint is `host`.
async fn find_by_endpoint(config: &SdkConfig, host: &str, region: &str) -> DomainLookup {
    let client = Client::new(&in_region(config, region));
    match search(&client, host, region).await {
        Err(err) => DomainLookup::Failed(err),
        Ok(Some(facts)) => DomainLookup::Found(facts),
        Ok(None) => DomainLookup::NotFound(format!(
            "No OpenSearch domain in region {region} has the endpoint {host} (neither as its endpoint nor as its custom endpoint)."
        )),
    }
}

async fn search(client: &Client, host: &str, region: &str) -> Fetched<Option<DomainFacts>> {
    crate::log::call(format!("es:ListDomainNames region={region}"));
    let names: Vec<String> = client
        .list_domain_names()
        .send()
        .await
        .map_err(|e| sdk_error("es:ListDomainNames", e))?
        .domain_names()
        .iter()
        .filter_map(|d| d.domain_name().map(str::to_string))
        .collect();
    let wanted = host.trim().trim_end_matches('.').to_ascii_lowercase();
    for batch in names.chunks(DESCRIBE_DOMAINS_BATCH) {
        crate::log::call(format!("es:DescribeDomains domains={}", batch.join(",")));
        let out = client
            .describe_domains()
            .set_domain_names(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| sdk_error("es:DescribeDomains", e))?;
        if let Some(status) = out
            .domain_status_list()
            .iter()
            .find(|s| endpoints(s).contains(&wanted))
        {
            return Ok(Some(facts(status)));
        }
    }
    Ok(None)
}

/// Every host a domain answers on, lower-case.
fn endpoints(status: &DomainStatus) -> Vec<String> {
    let mut hosts: Vec<&str> = Vec::new();
    hosts.extend(status.endpoint());
    if let Some(map) = status.endpoints() {
        hosts.extend(map.values().map(String::as_str));
    }
    if let Some(options) = status.domain_endpoint_options() {
        hosts.extend(options.custom_endpoint());
    }
    hosts
        .into_iter()
        .map(|h| {
            let h = h.trim();
            let h = h.split_once("://").map_or(h, |(_, rest)| rest);
            h.trim_end_matches('/')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .collect()
}

fn facts(status: &DomainStatus) -> DomainFacts {
    DomainFacts {
        name: status.domain_name().to_string(),
        arn: Some(status.arn().to_string()).filter(|a| !a.is_empty()),
        created: status.created().unwrap_or(false),
        deleted: status.deleted().unwrap_or(false),
        processing: status.processing().unwrap_or(false),
        fine_grained_access_control: status
            .advanced_security_options()
            .and_then(|o| o.enabled())
            .unwrap_or(false),
        enforce_https: status
            .domain_endpoint_options()
            .and_then(|o| o.enforce_https())
            .unwrap_or(false),
        access_policies: status.access_policies().map(str::to_string),
    }
}
