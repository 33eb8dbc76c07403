//! The log of a probe pod (PROBE.md), read back into facts.
//!
//! The probe script prints marker lines (`irsa-check-probe: …`) around the tools' own
//! output. Everything here is defensive: a log may be empty, cut short, interleaved with
//! an image's banner, or produced by something else entirely (a wrong `--probe-image`).
//! Whatever is missing stays `None`, and [`ProbeLog::first_line`] keeps something to show.

use serde_json::Value;

/// The prefix of every line the probe script prints itself.
pub const MARKER: &str = "irsa-check-probe: ";

/// What a probe pod's log says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeLog {
    /// The `sts` block, when the log has its `sts begin` line.
    pub sts: Option<StsBlock>,
    /// One entry per `tcp HOST PORT open|closed` line, in log order.
    pub tcp: Vec<TcpResult>,
    /// `imds token` → true, `imds no-token` → false.
    pub imds: Option<bool>,
    /// The script reached its last line (`done`).
    pub done: bool,
    /// The log's first non-blank line (to show when the log is not what was expected).
    pub first_line: Option<String>,
}

/// The `aws sts get-caller-identity` part of the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StsBlock {
    /// The CLI's output between `sts begin` and `sts end`, blank lines dropped.
    pub output: Vec<String>,
    /// The exit code from `sts end rc=N`; `None` when the block was cut short.
    pub rc: Option<i32>,
}

/// One TCP reachability result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpResult {
    pub host: String,
    pub port: u16,
    pub open: bool,
}

/// What the caller identity output says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallerIdentity {
    /// The JSON document, with its `Arn` when it has a string one.
    Json { arn: Option<String> },
    /// No JSON: the line that says why (the CLI's error, else the first output line).
    NotJson { line: Option<String> },
}

impl StsBlock {
    /// Read the CLI's output: the JSON document, or its error line.
    pub fn caller_identity(&self) -> CallerIdentity {
        let text = self.output.join("\n");
        if let (Some(start), Some(end)) = (text.find('{'), text.rfind('}'))
            && start < end
            && let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&text[start..=end])
        {
            let arn = doc.get("Arn").and_then(Value::as_str).map(str::to_string);
            return CallerIdentity::Json { arn };
        }
        CallerIdentity::NotJson {
            line: self.error_line().map(str::to_string),
        }
    }

    /// The line that carries the CLI's error: it matches on the phrases every CLI
    /// version prints (`An error occurred (CODE)`, `Unable to locate credentials`), with
    /// or without the recent `aws: [ERROR]: ` prefix; else the first output line.
    pub fn error_line(&self) -> Option<&str> {
        self.output
            .iter()
            .map(|l| l.as_str())
            .find(|l| {
                l.contains("An error occurred (")
                    || l.contains("Unable to locate credentials")
                    || l.contains("aws: [ERROR]:")
                    || l.contains("aws: error:")
            })
            .or_else(|| self.output.first().map(String::as_str))
    }
}

/// The service error code of an AWS CLI error line: `AccessDenied` in
/// `An error occurred (AccessDenied) when calling …`.
pub fn error_code(line: &str) -> Option<&str> {
    let rest = &line[line.find("An error occurred (")? + "An error occurred (".len()..];
    let code = &rest[..rest.find(')')?];
    (!code.is_empty()).then_some(code)
}

/// The error line without the recent CLI's `aws: [ERROR]: ` prefix.
pub fn without_cli_prefix(line: &str) -> &str {
    line.trim()
        .strip_prefix("aws: [ERROR]:")
        .map(str::trim_start)
        .unwrap_or(line.trim())
}

/// Parse a probe log. Never fails: what cannot be read is left out.
pub fn parse(log: &str) -> ProbeLog {
    let mut out = ProbeLog::default();
    let mut in_sts = false;
    for raw in log.lines() {
        let line = raw.trim_end_matches('\r');
        if out.first_line.is_none() && !line.trim().is_empty() {
            out.first_line = Some(shorten(line.trim()));
        }
        let Some(marker) = line.strip_prefix(MARKER) else {
            if in_sts
                && !line.trim().is_empty()
                && let Some(sts) = out.sts.as_mut()
            {
                sts.output.push(line.trim_end().to_string());
            }
            continue;
        };
        let words: Vec<&str> = marker.split_whitespace().collect();
        match words.as_slice() {
            ["sts", "begin"] => {
                in_sts = true;
                out.sts = Some(StsBlock::default());
            }
            ["sts", "end", rc] => {
                in_sts = false;
                let rc = rc.strip_prefix("rc=").and_then(|n| n.parse().ok());
                if let Some(sts) = out.sts.as_mut() {
                    sts.rc = rc;
                }
            }
            ["tcp", host, port, state @ ("open" | "closed")] => {
                in_sts = false;
                if let Ok(port) = port.parse() {
                    out.tcp.push(TcpResult {
                        host: host.to_string(),
                        port,
                        open: *state == "open",
                    });
                }
            }
            ["imds", "token"] => out.imds = Some(true),
            ["imds", "no-token"] => out.imds = Some(false),
            ["done"] => {
                in_sts = false;
                out.done = true;
            }
            // An unknown marker (a newer script?) is ignored, not misread.
            _ => {}
        }
    }
    out
}

impl ProbeLog {
    /// The result for `host:port`, if the log has one (hosts compare case-insensitively).
    pub fn tcp_result(&self, host: &str, port: u16) -> Option<bool> {
        self.tcp
            .iter()
            .rev()
            .find(|t| t.port == port && t.host.eq_ignore_ascii_case(host))
            .map(|t| t.open)
    }

    /// The first line, or a word saying the log was empty.
    pub fn first_line_or_empty(&self) -> String {
        match &self.first_line {
            Some(line) => format!("its log starts with: {line}"),
            None => "its log is empty".to_string(),
        }
    }
}

/// Logs come from outside: keep a shown line short.
fn shorten(line: &str) -> String {
    const MAX: usize = 200;
    if line.chars().count() > MAX {
        format!("{}…", line.chars().take(MAX).collect::<String>())
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sts::123456789012:assumed-role/R/botocore-session-1732965600";

    fn success() -> String {
        format!(
            "irsa-check-probe: sts begin\n{{\n    \"UserId\": \"AROAEXAMPLEID123456789:botocore-session-1732965600\",\n    \"Account\": \"123456789012\",\n    \"Arn\": \"{ARN}\"\n}}\nirsa-check-probe: sts end rc=0\nirsa-check-probe: tcp db.example.com 5432 open\nirsa-check-probe: tcp os.example.com 443 closed\nirsa-check-probe: imds no-token\nirsa-check-probe: done\n"
        )
    }

    #[test]
    fn a_full_log_reads_back() {
        let log = parse(&success());
        let sts = log.sts.clone().unwrap();
        assert_eq!(sts.rc, Some(0));
        assert_eq!(
            sts.caller_identity(),
            CallerIdentity::Json {
                arn: Some(ARN.into())
            }
        );
        assert_eq!(
            log.tcp,
            vec![
                TcpResult {
                    host: "db.example.com".into(),
                    port: 5432,
                    open: true
                },
                TcpResult {
                    host: "os.example.com".into(),
                    port: 443,
                    open: false
                }
            ]
        );
        assert_eq!(log.tcp_result("DB.example.com", 5432), Some(true));
        assert_eq!(log.tcp_result("os.example.com", 443), Some(false));
        assert_eq!(log.tcp_result("os.example.com", 9200), None);
        assert_eq!(log.imds, Some(false));
        assert!(log.done);
        assert_eq!(
            log.first_line.as_deref(),
            Some("irsa-check-probe: sts begin")
        );
    }

    #[test]
    fn legacy_and_current_cli_errors_are_found_past_blank_lines() {
        let legacy = "irsa-check-probe: sts begin\n\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\nirsa-check-probe: sts end rc=254\nirsa-check-probe: done\n";
        let current = "irsa-check-probe: sts begin\n\naws: [ERROR]: An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\nAdditional error details:\nType: Sender\nirsa-check-probe: sts end rc=254\nirsa-check-probe: done\n";
        for log in [legacy, current] {
            let sts = parse(log).sts.unwrap();
            assert_eq!(sts.rc, Some(254));
            let CallerIdentity::NotJson { line: Some(line) } = sts.caller_identity() else {
                panic!("{log}");
            };
            assert_eq!(
                without_cli_prefix(&line),
                "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity"
            );
            assert_eq!(error_code(&line), Some("AccessDenied"));
        }
        let no_creds = "irsa-check-probe: sts begin\n\naws: [ERROR]: Unable to locate credentials. You can configure credentials by running \"aws login\".\nirsa-check-probe: sts end rc=253\n";
        let sts = parse(no_creds).sts.unwrap();
        let CallerIdentity::NotJson { line: Some(line) } = sts.caller_identity() else {
            panic!()
        };
        assert_eq!(
            without_cli_prefix(&line),
            "Unable to locate credentials. You can configure credentials by running \"aws login\"."
        );
        assert_eq!(error_code(&line), None);
    }

    #[test]
    fn an_unknown_error_shows_the_first_output_line() {
        let log = "irsa-check-probe: sts begin\nbash: aws: command not found\nirsa-check-probe: sts end rc=127\n";
        let sts = parse(log).sts.unwrap();
        assert_eq!(sts.rc, Some(127));
        assert_eq!(
            sts.caller_identity(),
            CallerIdentity::NotJson {
                line: Some("bash: aws: command not found".into())
            }
        );
    }

    #[test]
    fn json_without_arn_and_json_with_noise_around_it() {
        let log = "irsa-check-probe: sts begin\nsome warning\n{\"UserId\": \"x\", \"Account\": \"1\"}\nirsa-check-probe: sts end rc=0\n";
        assert_eq!(
            parse(log).sts.unwrap().caller_identity(),
            CallerIdentity::Json { arn: None }
        );
        let log = "irsa-check-probe: sts begin\n{\"Arn\": 42}\nirsa-check-probe: sts end rc=0\n";
        assert_eq!(
            parse(log).sts.unwrap().caller_identity(),
            CallerIdentity::Json { arn: None }
        );
        // Braces that are not JSON are not JSON.
        let log = "irsa-check-probe: sts begin\n{ not json }\nirsa-check-probe: sts end rc=0\n";
        assert_eq!(
            parse(log).sts.unwrap().caller_identity(),
            CallerIdentity::NotJson {
                line: Some("{ not json }".into())
            }
        );
    }

    #[test]
    fn truncated_logs_keep_what_they_have() {
        let full = success();
        let cut = &full[..full.find("\"Account\"").unwrap()];
        let log = parse(cut);
        let sts = log.sts.unwrap();
        assert_eq!(sts.rc, None);
        assert!(matches!(
            sts.caller_identity(),
            CallerIdentity::NotJson { .. }
        ));
        assert!(log.tcp.is_empty());
        assert!(!log.done);
        // Cut in the middle of a marker line: the partial line is not a result.
        let cut = &full[..full.find("5432 open").unwrap() + 3];
        let log = parse(cut);
        assert!(log.tcp.is_empty());
        assert_eq!(log.sts.unwrap().rc, Some(0));
    }

    #[test]
    fn garbage_empty_and_crlf_logs() {
        let log = parse("exec /bin/bash: exec format error\n");
        assert_eq!(log.sts, None);
        assert!(log.tcp.is_empty() && log.imds.is_none() && !log.done);
        assert_eq!(
            log.first_line_or_empty(),
            "its log starts with: exec /bin/bash: exec format error"
        );
        let log = parse("");
        assert_eq!(log, ProbeLog::default());
        assert_eq!(log.first_line_or_empty(), "its log is empty");
        let log = parse("\n\n   \n");
        assert_eq!(log.first_line, None);
        let log = parse(
            "irsa-check-probe: tcp h 443 open\r\nirsa-check-probe: imds token\r\nirsa-check-probe: done\r\n",
        );
        assert_eq!(log.tcp_result("h", 443), Some(true));
        assert_eq!(log.imds, Some(true));
        assert!(log.done);
        // Nonsense markers and bad ports are ignored.
        let log = parse(
            "irsa-check-probe: tcp h notaport open\nirsa-check-probe: tcp h 443 maybe\nirsa-check-probe: sts end rc=x\nirsa-check-probe: whatever\n",
        );
        assert!(log.tcp.is_empty());
        assert_eq!(log.sts, None);
        // A very long first line is cut.
        let long = "x".repeat(500);
        let log = parse(&long);
        assert_eq!(log.first_line.unwrap().chars().count(), 201);
    }

    #[test]
    fn error_codes() {
        assert_eq!(
            error_code("An error occurred (InvalidIdentityToken) when calling X"),
            Some("InvalidIdentityToken")
        );
        assert_eq!(error_code("An error occurred () when"), None);
        assert_eq!(error_code("An error occurred (unterminated"), None);
        assert_eq!(error_code("nothing"), None);
        assert_eq!(without_cli_prefix("  plain "), "plain");
    }
}
