//! Entry point: parse the command line, run a command, map errors to exit codes.

mod cli;
mod progress;

use anyhow::{anyhow, Context as _, Result};
use clap::Parser;
use cli::{AuditArgs, Cli, Command, EmitArgs, EventsArgs, Format, GenerateArgs, InputArgs, TimeServerArgs};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use usage_replay::archive::{Archive, Keep, LoadError, LoadOptions};
use usage_replay::pipeline::{Code, IdMode};
use usage_replay::replay::{Outcome, Replay};
use usage_replay::report::{Audit, SideBySide};
use usage_replay::rules::{RuleSet, Rules};
use usage_replay::shard::Shard;
use usage_replay::triage::{self, Triage};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Some(Command::TimeServer(a)) => time_server(a),
        Some(Command::Generate(a)) => generate(a),
        Some(Command::Demo(a)) => demo(a),
        Some(Command::Merge(a)) => merge(a),
        None => ui(cli.ui),
    }
}

/// The interactive replay (docs/ui.md#panes).
fn ui(a: cli::UiArgs) -> Result<i32> {
    use std::io::IsTerminal;
    if a.paths.is_empty() {
        let bare = a.at.is_none() && a.publish_clock.is_none() && a.follow_clock.is_none();
        if bare && io::stdin().is_terminal() && io::stdout().is_terminal() {
            // docs/ui.md#the-demo: the first thing a new user sees.
            return demo(cli::DemoArgs { at: None, tour: false });
        }
        if bare {
            // No terminal and nothing asked: the usage, as for any missing argument.
            use clap::CommandFactory;
            eprintln!("{}", Cli::command().render_help());
            return Ok(EXIT_UNUSABLE);
        }
        return Err(anyhow!("no archive given: usage-replay PATH… (see --help)"));
    }
    if a.paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(anyhow!(
            "the interactive replay reads keys from the terminal, so it cannot read an archive from standard input; \
             save it to a file, or use `usage-replay audit -`"
        ));
    }
    let at = match &a.at {
        Some(s) => Some(
            usage_replay::time::parse_datetime(s)
                .map_err(|_| anyhow!("--at: not a datetime: {s:?} (e.g. 2014-10-06T12:00:00Z)"))?,
        ),
        None => None,
    };
    let clock = usage_replay::tui::clocksync::ClockOptions::parse(
        a.publish_clock.as_deref(),
        a.follow_clock.as_deref(),
        a.poll,
    )
    .map_err(|e| anyhow!(e))?;
    if let Some(warning) = clock.warning() {
        eprintln!("usage-replay: {warning}");
    }
    let opts = usage_replay::tui::Options { at, color: usage_replay::tui::Options::color_from_env() };
    let rules = Rules::parse(&a.rules).ok_or_else(|| anyhow!("unknown rule set {:?} (2014, 2015, both)", a.rules))?;
    let load = usage_replay::archive::LoadOptions {
        instances: a.only.instance.clone(),
        tenants: a.only.tenant.clone(),
        rules,
        ..Default::default()
    };
    usage_replay::tui::run_source(usage_replay::tui::Source::Paths(a.paths, load), opts, clock)
}

/// `usage-replay demo`: the interactive replay on the built-in archive.
fn demo(a: cli::DemoArgs) -> Result<i32> {
    let at = match &a.at {
        Some(s) => Some(
            usage_replay::time::parse_datetime(s)
                .map_err(|_| anyhow!("--at: not a datetime: {s:?} (e.g. 2014-10-06T12:00:00Z)"))?,
        ),
        None => None,
    };
    let opts = usage_replay::tui::Options { at, color: usage_replay::tui::Options::color_from_env() };
    let clock = usage_replay::tui::clocksync::ClockOptions::parse(None, None, 1.0).map_err(|e| anyhow!(e))?;
    let source = if a.tour { usage_replay::tui::Source::DemoTour } else { usage_replay::tui::Source::Demo };
    usage_replay::tui::run_source(source, opts, clock)
}

/// Phase timings on stderr when `USAGE_REPLAY_TIMINGS` is set (for benchmarks).
struct Phases {
    on: bool,
    start: std::time::Instant,
    last: std::cell::Cell<(std::time::Instant, f64)>,
}

/// CPU seconds used by this process so far (user + system), where the platform tells.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which is in parentheses): utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident memory of this process in KiB, where the platform tells.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

impl Phases {
    fn start() -> Phases {
        let now = std::time::Instant::now();
        Phases {
            on: std::env::var_os("USAGE_REPLAY_TIMINGS").is_some(),
            start: now,
            last: std::cell::Cell::new((now, cpu_seconds())),
        }
    }

    fn lap(&self, what: &str) {
        if self.on {
            let (now, cpu) = (std::time::Instant::now(), cpu_seconds());
            let (then, cpu_then) = self.last.get();
            eprintln!(
                "timing: {what:<8} {:>8.3} s wall {:>8.2} s cpu (total {:.3} s, peak memory {} MiB)",
                (now - then).as_secs_f64(),
                cpu - cpu_then,
                (now - self.start).as_secs_f64(),
                peak_rss_kib() / 1024
            );
            self.last.set((now, cpu));
        }
    }
}

/// Load the archive, distilled by each rule set asked for, with the instance and tenant filter; a pipe is read as a stream.
fn load(input: &InputArgs, keep: Keep, rules: Rules, shard: Option<Shard>) -> Result<Archive> {
    let options = LoadOptions {
        keep,
        show_originals: false,
        rules,
        instances: input.only.instance.clone(),
        tenants: input.only.tenant.clone(),
        shard,
        pieces: None,
    };
    let mut meter = progress::Meter::new();
    let loaded = Archive::load_with(&input.paths, options, |p| {
        meter.update(p);
        true
    });
    meter.done();
    match loaded {
        Ok(a) => Ok(a),
        Err(LoadError::NoInput(why)) => Err(anyhow!("no readable input: {why}")),
        Err(e) => Err(e.into()),
    }
}

/// `merge` (docs/scale.md#the-merge): one report from the reports of every part.
fn merge(a: cli::MergeArgs) -> Result<i32> {
    let mut reports = Vec::with_capacity(a.reports.len());
    for path in &a.reports {
        let name = path.display().to_string();
        let text = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
        let doc: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
            let why = usage_replay::json::syntax_description(&e);
            anyhow!("{name}: not a JSON report ({why} at line {} column {})", e.line(), e.column())
        })?;
        reports.push((usage_replay::text::sanitize(&name), doc));
    }
    let merged = usage_replay::merge::merge(reports)?;
    // The exit status `audit` gives: side by side, any stream the rule sets do not both pass.
    let summary = &merged["summary"];
    let failing = if merged["rules"] == "both" {
        let labels = ["by_triage", "other_unpaired"].into_iter().filter_map(|k| summary[k].as_object()).flatten();
        labels.filter(|(label, _)| *label != "agreed").filter_map(|(_, n)| n.as_u64()).sum::<u64>()
    } else {
        summary["failed"].as_u64().unwrap_or(0) + summary["error"].as_u64().unwrap_or(0)
    };
    let code = i32::from(failing > 0);
    let mut out = BufWriter::new(io::stdout().lock());
    usage_replay::merge::write(&mut out, &merged)?;
    out.flush()?;
    Ok(code)
}

/// docs/outputs.md#exit-statuses: nothing read at all, or a named path that cannot be
/// read, is status 2 with a one-line reason, after the report of whatever was read.
fn unusable(archive: &Archive, code: i32) -> i32 {
    if let Some(why) = usage_replay::ticket::nothing_to_audit(archive) {
        eprintln!("usage-replay: {why}");
        return EXIT_UNUSABLE;
    }
    if !archive.unreadable.is_empty() {
        for u in &archive.unreadable {
            eprintln!("usage-replay: cannot read {}", usage_replay::text::sanitize(u));
        }
        return EXIT_UNUSABLE;
    }
    code
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
    if a.explain && matches!(a.format, Format::Csv) {
        return Err(anyhow!("--explain has no place in CSV: use --format table or --format json"));
    }
    let rules = Rules::parse(&a.rules).ok_or_else(|| anyhow!("unknown rule set {:?} (2014, 2015, both)", a.rules))?;
    let labels: Vec<Triage> = a
        .triage
        .iter()
        .map(|t| {
            Triage::parse(t)
                .ok_or_else(|| anyhow!("unknown triage label {t:?} (confirmed, 2014-only, 2015-only, agreed, error)"))
        })
        .collect::<Result<_>>()?;
    if !labels.is_empty() && rules != Rules::Both {
        return Err(anyhow!("--triage needs --rules both: a triage label compares the two rule sets"));
    }
    if a.shard.is_some() && a.no_drain {
        return Err(anyhow!(
            "--shard cannot be used with --no-drain: which streams are still pending depends on the last event of the whole archive (docs/scale.md#the-split)"
        ));
    }
    let clock = Phases::start();
    let archive = load(&a.input, Keep::Audit, rules, a.shard)?;
    clock.lap("load");
    let ids = if a.random_ids { IdMode::Random } else { IdMode::Stable };
    let (replay, other) = match archive.alt.as_deref() {
        Some(alt) => {
            let (r, o) = rayon::join(
                || Replay::run_verdicts(&archive, !a.no_drain, ids),
                || Replay::run_verdicts(alt, !a.no_drain, ids),
            );
            (r, Some(o))
        }
        None => (Replay::run_verdicts(&archive, !a.no_drain, ids), None),
    };
    clock.lap("replay");
    let side = match (archive.alt.as_deref(), other.as_ref()) {
        (Some(alt), Some(o)) => {
            Some(SideBySide { archive: alt, streams: o.streams(), pairs: triage::pair(replay.streams(), o.streams()) })
        }
        _ => None,
    };
    let audit = Audit {
        archive: &archive,
        streams: replay.streams(),
        unmatched: replay.unmatched().len(),
        unmatched_events: replay.unmatched(),
        rules,
        side,
        shard: a.shard,
    };
    let filter = usage_replay::report::Filter { outcomes, codes, labels };
    let code = audit.exit_code();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match a.format {
        Format::Json => audit.write_json(&mut out, &filter, a.explain),
        Format::Csv => audit.write_csv(&mut out, &filter),
        Format::Table => audit.write_table(&mut out, &filter, a.explain),
    }
    .and_then(|()| out.flush());
    match written {
        // A reader that stops early (`| head`) does not change the verdict the status reports.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r.context("writing the report")?,
    }
    if matches!(a.format, Format::Csv) {
        // CSV has no place for the archive's problems: they go to stderr, as for `events`.
        eprintln!("usage-replay: {}", audit.load_summary());
        report_rejected(&archive);
    }
    clock.lap("report");
    // docs/scale.md#the-split: a part may hold no instance at all; its empty report is still a part.
    let empty_part = a.shard.is_some() && archive.events.is_empty() && archive.filtered > 0;
    let code = if empty_part && archive.unreadable.is_empty() { code } else { unusable(&archive, code) };
    // The process ends here: freeing a large archive piece by piece would only delay the exit.
    std::mem::forget(audit);
    std::mem::forget(other);
    std::mem::forget(replay);
    std::mem::forget(archive);
    Ok(code)
}

fn events(a: EventsArgs) -> Result<i32> {
    let rules = match Rules::parse(&a.rules) {
        Some(Rules::Both) => {
            return Err(anyhow!("events takes one rule set (--rules 2014 or 2015): the two distil different traits"))
        }
        Some(r) => r,
        None => return Err(anyhow!("unknown rule set {:?} (2014, 2015)", a.rules)),
    };
    let archive = load(&a.input, Keep::All, rules, None)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for e in &archive.events {
        out.write_all(e.to_json(&archive.symbols).as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    report_rejected(&archive);
    Ok(unusable(&archive, 0))
}

fn emit(a: EmitArgs) -> Result<i32> {
    let rules = Rules::parse(&a.rules).ok_or_else(|| anyhow!("unknown rule set {:?} (2014, 2015, both)", a.rules))?;
    // A 2015 result copies every trait of its `.exists`: keep them all.
    let keep = if rules == Rules::One(RuleSet::Y2014) { Keep::Audit } else { Keep::All };
    let archive = load(&a.input, keep, rules, None)?;
    let ids = if a.random_ids { IdMode::Random } else { IdMode::Stable };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut silent = Vec::new();
    let mut replays = Vec::new();
    let archives: Vec<&Archive> = std::iter::once(&archive).chain(archive.alt.as_deref()).collect();
    for (side, archive) in archives.iter().enumerate() {
        let replay = Replay::run(archive, !a.no_drain, ids);
        for &id in replay.decided_order() {
            let s = &replay.streams()[id as usize - 1];
            for o in s.result.iter().flat_map(|r| r.output.iter()) {
                out.write_all(o.to_json(&archive.symbols).as_bytes())?;
                out.write_all(b"\n")?;
            }
            if s.outcome() == Outcome::Error {
                silent.push((side, id));
            }
        }
        replays.push(replay);
    }
    out.flush()?;
    // A pipeline that failed emits nothing: say so, or the stream would vanish from the output.
    for &(side, id) in silent.iter().take(20) {
        let (archive, s) = (archives[side], &replays[side].streams()[id as usize - 1]);
        let why = s.result.as_ref().map(|r| r.message.as_str()).unwrap_or("");
        eprintln!(
            "usage-replay: stream {} ({} {}) went to error, no output event: {}",
            s.id,
            usage_replay::text::sanitize(&s.instance_id.py_str(&archive.symbols)),
            s.day,
            usage_replay::text::sanitize(why)
        );
    }
    if silent.len() > 20 {
        eprintln!("usage-replay: … and {} more streams in error", silent.len() - 20);
    }
    report_rejected(&archive);
    Ok(unusable(&archive, 0))
}

/// Commands whose stdout is data say on stderr what was rejected, not distilled,
/// empty or skipped.
fn report_rejected(archive: &Archive) {
    let notes =
        usage_replay::ticket::not_distilled_line(archive).into_iter().chain(usage_replay::ticket::input_notes(archive));
    for item in usage_replay::report::rejected_items(archive).into_iter().chain(notes) {
        eprintln!("usage-replay: {item}");
    }
}

/// `usage-replay time-server`: serve until Ctrl-C, one log line per request (docs/timesync.md#drop-in-server).
fn time_server(a: TimeServerArgs) -> Result<i32> {
    use usage_replay::timesync::{self, ServerConfig, TimeServer};
    let addr = timesync::parse_listen_addr(&a.listen).map_err(|e| anyhow!("--listen {e}"))?;
    if let Some(warning) = timesync::exposure_warning(addr) {
        eprintln!("usage-replay: {warning}");
    }
    let log = |r: &timesync::RequestLog| eprintln!("{} {r}", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"));
    let interrupt = timesync::Interrupt::catch().context("catching Ctrl-C")?;
    let server = TimeServer::start(addr, ServerConfig::default(), Some(Box::new(log)))?;
    eprintln!("usage-replay: time-sync service on http://{}/time (Ctrl-C to stop)", server.local_addr());
    interrupt.wait().context("waiting for Ctrl-C")?;
    let answered = server.requests();
    server.shutdown();
    eprintln!("usage-replay: time-sync service stopped after {answered} requests");
    Ok(0)
}

/// `usage-replay generate`: a synthetic archive (and optionally its truth).
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
    // Where a path leads, whether or not the file exists yet.
    let resolved = |p: &std::path::Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let abs = std::path::absolute(p).ok()?;
        Some(abs.parent()?.canonicalize().ok()?.join(abs.file_name()?))
    };
    let same_file = |x: &std::path::Path, y: &std::path::Path| resolved(x).is_some_and(|x| Some(x) == resolved(y));
    if let Some(t) = a.truth.as_deref().filter(|t| !is_stdout(t) && same_file(t, &a.out)) {
        return Err(anyhow!(
            "--out and --truth are the same file ({}): the truth would overwrite the archive",
            t.display()
        ));
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
