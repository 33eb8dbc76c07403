//! The reporter: findings in, text / JSON / JUnit out. Nothing else prints findings.
//!
//! Text output keeps the shell tool's contract: `[OK]`/`[INFO]` lines on stdout,
//! `[WARN]`/`[FAIL]` lines on stderr, a guidance block and a final line.

use crate::finding::{Finding, Level, exit_status};
// Messages quote values (URLs, env values) read from outside: the last line of defence
// against a password inside one is here, where everything printed passes.
use crate::values::redact_inline;
use serde_json::json;
use std::io::{self, Write};

/// What the run was about, for the report's header fields.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub namespace: Option<String>,
    pub release: Option<String>,
    pub chart: Option<String>,
    pub mode: String,
}

/// Text output settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStyle {
    pub colour_stdout: bool,
    pub colour_stderr: bool,
    /// Only warnings, failures and the final line.
    pub quiet: bool,
}

const GUIDANCE: &str = "\
Note: If you encounter issues with IRSA, start with the trust (AssumeRole) policies of the failing components: they must admit the components' service accounts.
To debug from inside a pod with the same service account, use the OpenSearch and PostgreSQL client manifests:
   - OpenSearch client manifest: https://github.com/camunda/camunda-tf-eks-module/blob/main/modules/fixtures/opensearch-client.yml
   - PostgreSQL client manifest: https://github.com/camunda/camunda-tf-eks-module/blob/main/modules/fixtures/postgres-client.yml
Camunda's IRSA documentation covers permission policies, trust policies and OpenSearch fine-grained access control:
   https://docs.camunda.io/docs/self-managed/deployment/helm/cloud-providers/amazon/amazon-eks/irsa/";

fn colour(level: Level) -> &'static str {
    match level {
        Level::Ok => "\x1b[32m",
        Level::Info | Level::Skip => "\x1b[36m",
        Level::Warn => "\x1b[33m",
        Level::Fail => "\x1b[31m",
    }
}

/// One finding as one text line (no newline).
pub fn text_line(finding: &Finding, coloured: bool) -> String {
    let tag = finding.level.tag();
    let tag = if coloured {
        format!("{}{tag}\x1b[0m", colour(finding.level))
    } else {
        tag.to_string()
    };
    let mut line = tag;
    line.push(' ');
    if let Some(component) = &finding.component {
        line.push_str(&format!("(component={component}) "));
    }
    if finding.level == Level::Skip {
        line.push_str("Skipped: ");
    }
    line.push_str(&redact_inline(&finding.message));
    if let Some(hint) = &finding.hint {
        line.push_str(" Hint: ");
        line.push_str(&redact_inline(hint));
    }
    // One line per finding, whatever a message carried in from outside.
    line.replace(['\n', '\r'], " ")
}

/// The final line, `[OK] All checks passed.` or `[FAIL] … (error code: N).`
pub fn final_line(status: u8) -> (Level, String) {
    if status == 0 {
        (Level::Ok, "[OK] All checks passed.".to_string())
    } else {
        (
            Level::Fail,
            format!("[FAIL] At least one of the checks failed (error code: {status})."),
        )
    }
}

/// Write the text report. Returns the exit status.
pub fn write_text(
    findings: &[Finding],
    style: TextStyle,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    for f in findings {
        match f.level {
            Level::Warn | Level::Fail => writeln!(err, "{}", text_line(f, style.colour_stderr))?,
            _ if style.quiet => {}
            _ => writeln!(out, "{}", text_line(f, style.colour_stdout))?,
        }
    }
    let status = exit_status(findings);
    if !style.quiet {
        writeln!(out)?;
        writeln!(out, "{GUIDANCE}")?;
        writeln!(out)?;
    }
    let (level, line) = final_line(status);
    if level == Level::Fail {
        writeln!(err, "{line}")?;
    } else {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    err.flush()?;
    Ok(status)
}

/// The JSON document: run info, findings, summary and exit code.
pub fn json_document(info: &RunInfo, findings: &[Finding]) -> serde_json::Value {
    let count = |level| findings.iter().filter(|f| f.level == level).count();
    let status = exit_status(findings);
    json!({
        "tool": "irsa-check",
        "version": env!("CARGO_PKG_VERSION"),
        "namespace": info.namespace,
        "release": info.release,
        "chart": info.chart,
        "mode": info.mode,
        "findings": findings.iter().map(|f| json!({
            "code": f.code.number(),
            "check": f.code.id(),
            "level": f.level,
            "component": f.component,
            "message": redact_inline(&f.message),
            "hint": f.hint.as_deref().map(redact_inline),
        })).collect::<Vec<_>>(),
        "summary": {
            "ok": count(Level::Ok),
            "info": count(Level::Info),
            "warn": count(Level::Warn),
            "fail": count(Level::Fail),
            "skip": count(Level::Skip),
            "passed": status == 0,
        },
        "exit_code": status,
    })
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML report: one test case per finding (INFO lines included, so the report
/// shows what was looked at), failures for FAIL, skips for SKIP; warnings pass with
/// their text in system-out.
pub fn junit_document(info: &RunInfo, findings: &[Finding]) -> String {
    let failures = findings.iter().filter(|f| f.level == Level::Fail).count();
    let skipped = findings.iter().filter(|f| f.level == Level::Skip).count();
    let suite = format!(
        "irsa-check{}",
        info.namespace
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"irsa-check\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        findings.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">\n",
        xml_escape(&suite),
        findings.len()
    ));
    for (i, f) in findings.iter().enumerate() {
        let name = match &f.component {
            Some(c) => format!(
                "{:03} {} [{}] {}",
                i + 1,
                f.code.id(),
                c,
                f.code.description()
            ),
            None => format!("{:03} {} {}", i + 1, f.code.id(), f.code.description()),
        };
        xml.push_str(&format!(
            "    <testcase classname=\"irsa-check.{}\" name=\"{}\">",
            f.code.id(),
            xml_escape(&name)
        ));
        let text = xml_escape(&text_line(f, false));
        match f.level {
            Level::Fail => xml.push_str(&format!(
                "<failure message=\"{text}\" type=\"{}\"/>",
                f.code.number()
            )),
            Level::Skip => xml.push_str(&format!("<skipped message=\"{text}\"/>")),
            _ => xml.push_str(&format!("<system-out>{text}</system-out>")),
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    fn sample() -> Vec<Finding> {
        vec![
            Finding::ok(Code::AwsCredentials, "Caller arn:aws:iam::1:user/x"),
            Finding::fail(Code::RoleArnAnnotation, "no annotation\non SA")
                .component("identity")
                .hint("set identity.serviceAccount.annotations"),
            Finding::warn(Code::ImdsReachable, "IMDS reachable"),
            Finding::skip(Code::RoleExists, "no role ARN").component("identity"),
        ]
    }

    #[test]
    fn text_splits_streams_and_ends_with_the_status() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let status = write_text(&sample(), TextStyle::default(), &mut out, &mut err).unwrap();
        assert_eq!(status, 110);
        let out = String::from_utf8(out).unwrap();
        let err = String::from_utf8(err).unwrap();
        assert!(out.starts_with("[OK] Caller arn:aws:iam::1:user/x\n"));
        assert!(out.contains("[INFO] (component=identity) Skipped: no role ARN\n"));
        assert!(out.contains("Note: If you encounter issues with IRSA"));
        assert_eq!(
            err,
            "[FAIL] (component=identity) no annotation on SA Hint: set identity.serviceAccount.annotations\n\
             [WARN] IMDS reachable\n\
             [FAIL] At least one of the checks failed (error code: 110).\n"
        );
    }

    #[test]
    fn quiet_keeps_only_problems_and_the_final_line() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let findings = vec![Finding::ok(Code::AwsCredentials, "fine")];
        let style = TextStyle {
            quiet: true,
            ..Default::default()
        };
        assert_eq!(write_text(&findings, style, &mut out, &mut err).unwrap(), 0);
        assert_eq!(String::from_utf8(out).unwrap(), "[OK] All checks passed.\n");
        assert!(err.is_empty());
    }

    #[test]
    fn passwords_inside_quoted_values_never_reach_the_output() {
        let f = Finding::fail(
            Code::IdentityDatasourceEnv,
            "SPRING_DATASOURCE_URL is 'jdbc:postgresql://admin:hunter2@db:5432/x?password=hunter3'",
        )
        .hint("see https://u:hunter4@example.com/");
        let line = text_line(&f, false);
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!line.contains(secret), "{line}");
        }
        let doc = json_document(&RunInfo::default(), &[f]).to_string();
        for secret in ["hunter2", "hunter3", "hunter4"] {
            assert!(!doc.contains(secret), "{doc}");
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let f = Finding::fail(Code::HelmRelease, "x");
        assert_eq!(text_line(&f, false), "[FAIL] x");
        assert_eq!(text_line(&f, true), "\x1b[31m[FAIL]\x1b[0m x");
    }

    #[test]
    fn json_has_codes_levels_summary_and_exit_code() {
        let doc = json_document(&RunInfo::default(), &sample());
        assert_eq!(doc["exit_code"], 110);
        assert_eq!(doc["findings"][1]["code"], 110);
        assert_eq!(doc["findings"][1]["check"], "role-arn-annotation");
        assert_eq!(doc["findings"][1]["level"], "fail");
        assert_eq!(doc["findings"][1]["component"], "identity");
        assert_eq!(doc["findings"][3]["level"], "skip");
        assert_eq!(doc["summary"]["fail"], 1);
        assert_eq!(doc["summary"]["passed"], false);
    }

    #[test]
    fn junit_escapes_and_counts() {
        let mut findings = sample();
        findings.push(Finding::info(Code::ChartVersion, "a <b> & \"c\" \u{1}"));
        let xml = junit_document(&RunInfo::default(), &findings);
        assert!(xml.contains("tests=\"5\" failures=\"1\" skipped=\"1\""));
        assert!(xml.contains("a &lt;b&gt; &amp; &quot;c&quot;  "));
        assert!(xml.contains("<failure message=\"[FAIL] (component=identity) no annotation on SA"));
        assert!(!xml.contains('\u{1}'));
    }
}
