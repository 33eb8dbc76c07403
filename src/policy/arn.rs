//! The ARNs the judges reason about: IAM roles and EKS OIDC providers.

/// The six parts of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArnParts<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// Split an ARN; `None` for anything that is not one.
pub fn split_arn(arn: &str) -> Option<ArnParts<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if partition.is_empty() || service.is_empty() || resource.is_empty() {
        return None;
    }
    Some(ArnParts {
        partition,
        service,
        region,
        account,
        resource,
    })
}

/// The partitions EKS runs in.
pub const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// An IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` (the path may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleArn {
    pub partition: String,
    pub account: String,
    /// `/` or `/some/path/`.
    pub path: String,
    pub name: String,
}

impl RoleArn {
    pub fn parse(arn: &str) -> Option<RoleArn> {
        let ArnParts {
            partition,
            service: "iam",
            region: "",
            account,
            resource,
        } = split_arn(arn)?
        else {
            return None;
        };
        let rest = resource.strip_prefix("role/")?;
        let (path, name) = match rest.rfind('/') {
            Some(slash) => (format!("/{}", &rest[..=slash]), &rest[slash + 1..]),
            None => ("/".to_owned(), rest),
        };
        if partition.is_empty() || account.is_empty() || name.is_empty() {
            return None;
        }
        Some(RoleArn {
            partition: partition.to_owned(),
            account: account.to_owned(),
            path,
            name: name.to_owned(),
        })
    }

    /// The account's root principal, `arn:PARTITION:iam::ACCOUNT:root`.
    pub fn account_root(&self) -> String {
        format!("arn:{}:iam::{}:root", self.partition, self.account)
    }

    /// The prefix of this role's session ARNs (the path is not part of them).
    pub fn session_prefix(&self) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/",
            self.partition, self.account, self.name
        )
    }
}

/// An EKS cluster's IAM OIDC provider ARN,
/// `arn:PARTITION:iam::ACCOUNT:oidc-provider/oidc.eks.REGION.amazonaws.com(.cn)/id/ID`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcProviderArn {
    pub partition: String,
    pub account: String,
    /// The issuer without `https://`: `oidc.eks.REGION.amazonaws.com/id/ID`.
    pub issuer: String,
    pub region: String,
    pub id: String,
}

impl OidcProviderArn {
    /// Parse an EKS OIDC provider ARN; `None` for anything else (other IdPs included).
    pub fn parse(arn: &str) -> Option<OidcProviderArn> {
        let (partition, account, issuer) = split_provider_arn(arn)?;
        if !PARTITIONS.contains(&partition)
            || account.is_empty()
            || !account.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let (host, id) = issuer.split_once("/id/")?;
        let domain = if partition == "aws-cn" {
            ".amazonaws.com.cn"
        } else {
            ".amazonaws.com"
        };
        let region = host.strip_prefix("oidc.eks.")?.strip_suffix(domain)?;
        let plausible_region = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plausible_region || id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        Some(OidcProviderArn {
            partition: partition.to_owned(),
            account: account.to_owned(),
            issuer: issuer.to_owned(),
            region: region.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The provider ARN IAM gives an issuer.
    pub fn arn_for(partition: &str, account: &str, issuer: &str) -> String {
        format!("arn:{partition}:iam::{account}:oidc-provider/{issuer}")
    }
}

/// The issuer (host and path) of any IAM OIDC provider ARN, EKS or not.
pub fn provider_issuer(arn: &str) -> Option<&str> {
    split_provider_arn(arn).map(|(_, _, issuer)| issuer)
}

fn split_provider_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let ArnParts {
        partition,
        service: "iam",
        region: "",
        account,
        resource,
    } = split_arn(arn)?
    else {
        return None;
    };
    let issuer = resource.strip_prefix("oidc-provider/")?;
    Some((partition, account, issuer))
}

/// The account field of an ARN (`arn:p:service:region:ACCOUNT:…`), when it has one.
pub fn account_of(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    match (parts.next(), parts.nth(3), parts.next()) {
        (Some("arn"), Some(account), Some(_)) if !account.is_empty() => Some(account),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_with_and_without_path() {
        let plain = RoleArn::parse("arn:aws:iam::123456789012:role/AuroraRole-Identity").unwrap();
        assert_eq!(plain.name, "AuroraRole-Identity");
        assert_eq!(plain.path, "/");
        assert_eq!(plain.account_root(), "arn:aws:iam::123456789012:root");
        let pathed = RoleArn::parse("arn:aws-us-gov:iam::1:role/some/path/Name").unwrap();
        assert_eq!(
            (
                pathed.partition.as_str(),
                pathed.account.as_str(),
                pathed.path.as_str(),
                pathed.name.as_str()
            ),
            ("aws-us-gov", "1", "/some/path/", "Name")
        );
        assert_eq!(
            pathed.session_prefix(),
            "arn:aws-us-gov:sts::1:assumed-role/Name/"
        );
        for bad in [
            "",
            "arn:aws:iam::1:user/x",
            "arn:aws:iam::1:role/",
            "arn:aws:iam::1:role/a/",
            "arn:aws:sts::1:assumed-role/x/y",
            "arn:aws:iam:eu-west-1:1:role/x",
            "role/x",
        ] {
            assert_eq!(RoleArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn eks_provider_arns_in_every_partition() {
        let p = OidcProviderArn::parse(
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B",
        )
        .unwrap();
        assert_eq!(p.region, "eu-west-1");
        assert_eq!(p.id, "5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B");
        assert_eq!(
            p.issuer,
            "oidc.eks.eu-west-1.amazonaws.com/id/5E1A9C1F0B2D4E6F8A9B0C1D2E3F4A5B"
        );
        let cn = OidcProviderArn::parse(
            "arn:aws-cn:iam::123456789012:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC",
        )
        .unwrap();
        assert_eq!(
            (cn.partition.as_str(), cn.region.as_str()),
            ("aws-cn", "cn-north-1")
        );
        assert!(OidcProviderArn::parse(
            "arn:aws-us-gov:iam::123456789012:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/ABC"
        )
        .is_some());
        for bad in [
            // China's domain in the commercial partition and the other way round.
            "arn:aws:iam::1:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC",
            "arn:aws-cn:iam::1:oidc-provider/oidc.eks.cn-north-1.amazonaws.com/id/ABC",
            "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com",
            "arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/",
            "arn:aws:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/A/B",
            "arn:aws:iam::acct:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/A",
            "arn:aws:iam::1:saml-provider/x",
            "arn:azure:iam::1:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/A",
            "oidc.eks.eu-west-1.amazonaws.com/id/A",
        ] {
            assert_eq!(OidcProviderArn::parse(bad), None, "{bad}");
        }
        assert_eq!(
            provider_issuer("arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"),
            Some("token.actions.githubusercontent.com")
        );
    }

    #[test]
    fn account_field() {
        assert_eq!(
            account_of("arn:aws:es:eu-west-1:123:domain/x/*"),
            Some("123")
        );
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("*"), None);
    }
}
