//! The AWS side of gathering: thin calls through the official SDK, turned into plain
//! facts. Errors become [`ApiError`]s that name the call and carry the service's own code
//! and message.

pub mod sts;

use crate::facts::ApiError;
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
