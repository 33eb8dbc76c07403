//! Findings: what a check says. Checks return findings; only the reporter prints.

use crate::code::Code;
use serde::Serialize;

/// How a finding affects the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Info,
    /// Reported on stderr; does not change the exit status.
    Warn,
    /// Reported on stderr; the exit status becomes this check's number.
    Fail,
    /// The check could not run because an earlier check failed or an input is missing.
    Skip,
}

impl Level {
    /// The tag printed at the start of a text line.
    pub fn tag(self) -> &'static str {
        match self {
            Level::Ok => "[OK]",
            Level::Info | Level::Skip => "[INFO]",
            Level::Warn => "[WARN]",
            Level::Fail => "[FAIL]",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub level: Level,
    /// The chart component the finding is about (`identity`, `webModeler`, …), if any.
    pub component: Option<String>,
    pub message: String,
    /// Where to look or what to change, when the message alone does not say it.
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(code: Code, level: Level, message: impl Into<String>) -> Self {
        Finding {
            code,
            level,
            component: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn ok(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Level::Ok, message)
    }

    pub fn info(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Level::Info, message)
    }

    pub fn warn(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Level::Warn, message)
    }

    pub fn fail(code: Code, message: impl Into<String>) -> Self {
        Self::new(code, Level::Fail, message)
    }

    /// A check that did not run; `reason` says which earlier failure or missing input stopped it.
    pub fn skip(code: Code, reason: impl Into<String>) -> Self {
        Self::new(code, Level::Skip, reason)
    }

    /// A check that did not run, worded `<what the check verifies>: <reason>.`
    pub fn skipped(code: Code, reason: impl std::fmt::Display) -> Self {
        Self::skip(code, format!("{}: {reason}.", code.description()))
    }

    /// Attach the component the finding is about.
    pub fn component(mut self, component: impl Into<String>) -> Self {
        self.component = Some(component.into());
        self
    }

    /// Attach a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_fail(&self) -> bool {
        self.level == Level::Fail
    }
}

/// The exit status of a run: 0 when nothing failed, else the number of the last
/// failing finding in report (catalogue) order.
pub fn exit_status(findings: &[Finding]) -> u8 {
    findings
        .iter()
        .rev()
        .find(|f| f.is_fail())
        .map_or(0, |f| f.code.number())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_is_the_last_failure_in_order() {
        let findings = vec![
            Finding::fail(Code::HelmRelease, "a"),
            Finding::ok(Code::RoleExists, "b"),
            Finding::fail(Code::AuroraIamAuth, "c"),
            Finding::warn(Code::ImdsReachable, "d"),
        ];
        assert_eq!(exit_status(&findings), 75);
        assert_eq!(exit_status(&findings[..2]), 4);
        assert_eq!(exit_status(&[Finding::warn(Code::ImdsReachable, "w")]), 0);
        assert_eq!(exit_status(&[]), 0);
    }
}
