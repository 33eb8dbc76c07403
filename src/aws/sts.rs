//! STS: who the caller is (preflight, code 1).

use crate::code::Code;
use crate::facts::Fetched;
use crate::finding::Finding;
use aws_config::SdkConfig;

/// The caller's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

pub async fn caller_identity(config: &SdkConfig) -> Fetched<CallerIdentity> {
    crate::log::call("sts:GetCallerIdentity");
    let out = aws_sdk_sts::Client::new(&super::for_global_service(config))
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| super::sdk_error("sts:GetCallerIdentity", e))?;
    Ok(CallerIdentity {
        arn: out.arn.unwrap_or_default(),
        account: out.account.unwrap_or_default(),
        user_id: out.user_id.unwrap_or_default(),
    })
}

/// Code 1 (AWS credentials): fatal when GetCallerIdentity does not answer.
pub fn judge(caller: &Fetched<CallerIdentity>) -> Finding {
    match caller {
        Ok(id) => Finding::ok(
            Code::AwsCredentials,
            format!("AWS credentials work: caller {} (account {}).", id.arn, id.account),
        ),
        Err(err) => Finding::fail(
            Code::AwsCredentials,
            format!("AWS credentials are missing or invalid: {err}"),
        )
        .hint("Configure credentials (aws configure, AWS_PROFILE or --profile, SSO login) for the cluster's account."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ApiError;
    use crate::finding::Level;

    #[test]
    fn judge_credentials() {
        let ok = judge(&Ok(CallerIdentity {
            arn: "arn:aws:iam::1:user/a".into(),
            account: "1".into(),
            user_id: "AIDA".into(),
        }));
        assert_eq!(ok.level, Level::Ok);
        assert!(ok.message.contains("arn:aws:iam::1:user/a"));
        let bad = judge(&Err(ApiError::new(
            "sts:GetCallerIdentity",
            Some("InvalidClientTokenId".into()),
            "The security token included in the request is invalid.",
        )));
        assert_eq!((bad.level, bad.code.number()), (Level::Fail, 1));
        assert!(bad.message.contains(
            "InvalidClientTokenId: The security token included in the request is invalid."
        ));
    }
}
