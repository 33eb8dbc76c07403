//! The `irsa-check` binary: parse the command line, run, report, exit.

use irsa_check::cli;
use irsa_check::report::{self, TextStyle};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::parse();
    irsa_check::log::set_verbose(args.verbose);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("[FAIL] Cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let outcome = if args.offline {
        irsa_check::run::offline(&args)
    } else {
        runtime.block_on(irsa_check::run::online(&args))
    };

    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(
            path,
            report::junit_document(&outcome.info, &outcome.findings),
        )
    {
        eprintln!(
            "[WARN] Cannot write the JUnit report {}: {e}",
            path.display()
        );
    }

    let status = match args.output {
        cli::OutputFormat::Json => {
            let doc = report::json_document(&outcome.info, &outcome.findings);
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth a panic.
            let _ = serde_json::to_writer_pretty(&mut out, &doc)
                .and_then(|_| writeln!(out).map_err(serde_json::Error::io));
            irsa_check::finding::exit_status(&outcome.findings)
        }
        cli::OutputFormat::Text => {
            let colour = args.colour_allowed();
            let style = TextStyle {
                colour_stdout: colour && std::io::stdout().is_terminal(),
                colour_stderr: colour && std::io::stderr().is_terminal(),
                quiet: args.quiet,
            };
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            report::write_text(&outcome.findings, style, &mut out, &mut err)
                .unwrap_or_else(|_| irsa_check::finding::exit_status(&outcome.findings))
        }
    };
    ExitCode::from(status)
}
