//! The AWS side of gathering: thin calls through the official SDK, turned into plain
//! facts. Errors become [`ApiError`]s that name the call and carry the service's own code
//! and message.

pub mod eks;
pub mod iam;
pub mod opensearch;
pub mod rds;
pub mod sts;

use crate::facts::{ApiError, Fetched};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Load the AWS configuration with the standard chain (env, shared files, SSO, web
/// identity, IMDS), `--profile` and `--region` taking precedence. `AWS_ENDPOINT_URL` is
/// honoured by the SDK itself (the tests point it at a local emulator).
pub async fn load(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// The same configuration in another region (RDS and OpenSearch are regional; the
/// endpoints name their region).
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

/// The configuration for the global services (STS, IAM). They answer in every region;
/// without any region configured, sign for the global endpoint's region (us-east-1)
/// rather than fail: code 31 says that the region is missing.
pub fn for_global_service(config: &SdkConfig) -> SdkConfig {
    match config.region() {
        Some(_) => config.clone(),
        None => in_region(config, "us-east-1"),
    }
}

/// Turn an SDK error into a fact: the operation, the service's error code and message
/// (or, for transport errors, the whole error chain on one line).
pub fn sdk_error<E, R>(call: impl Into<String>, err: SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    let message = match err.message() {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => DisplayErrorContext(&err).to_string(),
    };
    ApiError::new(call, code, message)
}

/// How many independent AWS calls run at once: enough to hide latency, few enough not
/// to be throttled.
pub const CONCURRENCY: usize = 8;

/// Run `call` on every item, at most `limit` at once; the answers come back in the order
/// of `items`. The calls are spawned, so they must own what they use (SDK clients are
/// cheap clones).
pub async fn bounded<I, T, F, Fut>(items: Vec<I>, limit: usize, call: F) -> Vec<T>
where
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let total = items.len();
    let mut results: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
    let mut running = tokio::task::JoinSet::new();
    let mut pending = items.into_iter().enumerate();
    loop {
        while running.len() < limit.max(1) {
            let Some((index, item)) = pending.next() else {
                break;
            };
            let future = call(item);
            running.spawn(async move { (index, future.await) });
        }
        match running.join_next().await {
            Some(Ok((index, value))) => results[index] = Some(value),
            // A panic in a call is a bug of ours: pass it on rather than hide it.
            Some(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Some(Err(_)) => {}
            None => break,
        }
    }
    results.into_iter().flatten().collect()
}

/// A lookup whose "does not exist" answer is a fact, not an error.
pub fn found<T>(result: Fetched<T>) -> Fetched<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if crate::checks::eks::is_not_found(&err) => Ok(None),
        Err(err) => Err(err),
    }
}
