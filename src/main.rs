//! Entry point: parse the command line, run a command, map errors to exit codes.

mod cli;

use anyhow::{anyhow, Context as _, Result};
use clap::Parser;
use cli::{AuditArgs, Cli, Command, EmitArgs, Format, GenerateArgs, InputArgs};
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
        Some(Command::Generate(a)) => generate(a),
        None => Err(anyhow!("the interactive replay is not available in this build; use `usage-replay audit`")),
    }
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

fn generate(a: GenerateArgs) -> Result<i32> {
    use std::fs::File;
    use usage_replay::generate::{self, Options};
    let start = usage_replay::time::Day::parse(&a.start)
        .ok_or_else(|| anyhow!("--start: not a date (YYYY-MM-DD): {:?}", a.start))?;
    let opts = Options {
        instances: a.instances,
        days: a.days,
        seed: a.seed,
        anomalies: a.anomalies,
        ops: a.ops,
        churn: a.churn,
        start_day: start.0 as i64,
        gzip: a.gzip.then_some(a.gzip_level),
    };
    opts.validate()?;
    let is_stdout = |p: &std::path::Path| p.as_os_str() == "-";
    if is_stdout(&a.out) && a.truth.as_deref().is_some_and(is_stdout) {
        return Err(anyhow!("--out and --truth cannot both be standard output"));
    }
    let out: Box<dyn Write + Send> = if is_stdout(&a.out) {
        Box::new(io::stdout())
    } else {
        Box::new(File::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?)
    };
    let mut truth: Option<Box<dyn Write>> = match &a.truth {
        None => None,
        Some(p) if is_stdout(p) => Some(Box::new(BufWriter::new(io::stdout()))),
        Some(p) => {
            Some(Box::new(BufWriter::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)))
        }
    };
    let started = std::time::Instant::now();
    let summary = generate::generate(&opts, out, truth.as_mut().map(|t| t.as_mut() as &mut dyn Write))?;
    if !a.quiet {
        eprint!("{}", summary.describe(started.elapsed()));
    }
    Ok(0)
}
