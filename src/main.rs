//! Entry point: parse the command line, run a command, map errors to exit codes.

mod cli;

use anyhow::{anyhow, Context as _, Result};
use clap::Parser;
use cli::{AuditArgs, Cli, Command, EmitArgs, Format, InputArgs};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use usage_replay::archive::{Archive, LoadError};
use usage_replay::pipeline::{Code, IdMode};
use usage_replay::replay::{Outcome, Replay, Stream};
use usage_replay::report::Audit;

/// Exit status when the command could not run.
const EXIT_UNUSABLE: i32 = 2;

fn main() {
    // A panic must never show a backtrace to a user: say what happened, exit 2.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown error".into());
        let at = info.location().map(|l| format!(" ({}:{})", l.file(), l.line())).unwrap_or_default();
        eprintln!("usage-replay: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    let code = match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            if is_broken_pipe(&e) {
                0
            } else {
                eprintln!("usage-replay: {e:#}");
                EXIT_UNUSABLE
            }
        }
        Err(_) => EXIT_UNUSABLE,
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Some(Command::Audit(a)) => audit(a),
        Some(Command::Events(a)) => events(a),
        Some(Command::Emit(a)) => emit(a),
        None => ui(cli.ui),
    }
}

/// The interactive replay (SPEC §6).
fn ui(a: cli::UiArgs) -> Result<i32> {
    if a.paths.is_empty() {
        return Err(anyhow!("no archive given: usage-replay PATH… (see --help)"));
    }
    if a.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(anyhow!(
            "the interactive replay reads keys from the terminal, so it cannot read an archive from standard input; \
             save it to a file, or use `usage-replay audit -`"
        ));
    }
    if a.publish_clock.is_some() || a.follow_clock.is_some() {
        return Err(anyhow!("--publish-clock and --follow-clock are not available in this build yet"));
    }
    let at = match &a.at {
        Some(s) => Some(
            usage_replay::time::parse_datetime(s)
                .map_err(|_| anyhow!("--at: not a datetime: {s:?} (e.g. 2014-10-06T12:00:00Z)"))?,
        ),
        None => None,
    };
    let opts = usage_replay::tui::Options { at, color: usage_replay::tui::Options::color_from_env() };
    usage_replay::tui::run(a.paths, opts)
}

/// Load the archive, reporting problems with files on stderr as they are met.
fn load(paths: &[PathBuf]) -> Result<Archive> {
    match Archive::load(paths, |_| true) {
        Ok(a) => Ok(a),
        Err(LoadError::NoInput(why)) => Err(anyhow!("no readable input: {why}")),
        Err(e) => Err(e.into()),
    }
}

fn audit(a: AuditArgs) -> Result<i32> {
    let outcomes: Vec<Outcome> = a
        .outcome
        .iter()
        .map(|o| Outcome::parse(o).ok_or_else(|| anyhow!("unknown outcome {o:?} (verified, failed, error, pending)")))
        .collect::<Result<_>>()?;
    let codes: Vec<Code> = a
        .code
        .iter()
        .map(|c| Code::parse(c).ok_or_else(|| anyhow!("unknown code {c:?} (U0 … U8)")))
        .collect::<Result<_>>()?;
    let archive = load(&a.input.paths)?;
    let ids = if a.random_ids { IdMode::Random } else { IdMode::Stable };
    let replay = Replay::run(&archive, !a.no_drain, ids);
    let audit = Audit { archive: &archive, streams: replay.streams(), unmatched: replay.unmatched().len() };
    let filter = |s: &Stream| {
        (outcomes.is_empty() || outcomes.contains(&s.outcome()))
            && (codes.is_empty() || s.code().is_some_and(|c| codes.contains(&c)))
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match a.format {
        Format::Json => audit.write_json(&mut out, &filter),
        Format::Csv => audit.write_csv(&mut out, &filter),
        Format::Table => audit.write_table(&mut out, &filter, a.explain),
    }
    .context("writing the report")?;
    out.flush().context("writing the report")?;
    Ok(usage_replay::report::Summary::of(replay.streams()).exit_code())
}

fn events(a: InputArgs) -> Result<i32> {
    let archive = load(&a.paths)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for e in &archive.events {
        out.write_all(e.to_json(&archive.symbols).as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    report_rejected(&archive);
    Ok(0)
}

fn emit(a: EmitArgs) -> Result<i32> {
    let archive = load(&a.input.paths)?;
    let ids = if a.random_ids { IdMode::Random } else { IdMode::Stable };
    let replay = Replay::run(&archive, !a.no_drain, ids);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for &id in replay.decided_order() {
        let s = &replay.streams()[id as usize - 1];
        for o in s.result.iter().flat_map(|r| r.output.iter()) {
            out.write_all(o.to_json(&archive.symbols).as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    report_rejected(&archive);
    Ok(0)
}

/// Commands whose stdout is data say what was rejected on stderr.
fn report_rejected(archive: &Archive) {
    use usage_replay::text::sanitize;
    for r in archive.rejected.iter().take(20) {
        eprintln!("usage-replay: rejected {}: {}", sanitize(&r.location()), sanitize(&r.reason));
    }
    if archive.rejected.len() > 20 {
        eprintln!("usage-replay: … and {} more rejected records", archive.rejected.len() - 20);
    }
}
