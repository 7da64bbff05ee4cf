//! Entry point: parse the command line, run a command, map errors to exit codes.

mod cli;
mod progress;

use anyhow::{anyhow, Context as _, Result};
use clap::Parser;
use cli::{AuditArgs, Cli, Command, EmitArgs, EventsArgs, Format, GenerateArgs, InputArgs, TimeServerArgs};
use std::io::{self, BufWriter, Seek as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use usage_replay::archive::source::Input;
use usage_replay::archive::{Archive, Keep, LoadError, LoadOptions};
use usage_replay::bounded::{self, Plan};
use usage_replay::pipeline::{Code, IdMode};
use usage_replay::replay::{Keeping, Outcome, Replay};
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
    return_freed_pages_at_once();
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
    let opts =
        usage_replay::tui::Options { at, color: usage_replay::tui::Options::color_from_env(), ..Default::default() };
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
    let opts =
        usage_replay::tui::Options { at, color: usage_replay::tui::Options::color_from_env(), ..Default::default() };
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
    status_kib("VmHWM:")
}

/// A size in KiB from `/proc/self/status` (`VmHWM:` peak, `VmRSS:` now), 0 where the platform does not tell.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
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
                "timing: {what:<8} {:>8.3} s wall {:>8.2} s cpu (total {:.3} s, memory {} MiB, peak {} MiB)",
                (now - then).as_secs_f64(),
                cpu - cpu_then,
                (now - self.start).as_secs_f64(),
                status_kib("VmRSS:") / 1024,
                peak_rss_kib() / 1024
            );
            self.last.set((now, cpu));
        }
    }
}

/// Load the archive, distilled by each rule set asked for, with the instance and tenant filter; a pipe is read as a stream.
fn load(input: &InputArgs, keep: Keep, rules: Rules, shard: Option<Shard>) -> Result<Archive> {
    let whole = Loading { keep, one_event_for_both: false, rules, shard, spooled: &[], watch: None, label: None };
    load_watched(input, &whole)?.ok_or_else(|| anyhow!("loading was cancelled"))
}

/// How to load an archive for one run of `audit`, whole or one part of a split.
struct Loading<'a> {
    keep: Keep,
    /// One event may stand for both rule sets (a report of verdicts only).
    one_event_for_both: bool,
    rules: Rules,
    shard: Option<Shard>,
    /// Pipes already copied to the temporary directory (docs/scale.md#bounded-memory).
    spooled: &'a [(String, Arc<std::fs::File>)],
    /// The memory budget the load is stopped for going over (docs/scale.md#how-many-parts).
    watch: Option<Plan>,
    /// Which part loads, for the progress line.
    label: Option<String>,
}

/// As [`load`]; `None` when the load went over the memory budget and was stopped.
fn load_watched(input: &InputArgs, how: &Loading) -> Result<Option<Archive>> {
    let options = LoadOptions {
        keep: how.keep,
        show_originals: false,
        rules: how.rules,
        instances: input.only.instance.clone(),
        tenants: input.only.tenant.clone(),
        shard: how.shard,
        one_event_for_both: how.one_event_for_both,
        spooled: how.spooled.to_vec(),
        pieces: None,
    };
    let mut meter = progress::Meter::new(how.label.clone());
    let loaded = Archive::load_with(&input.paths, options, |p| {
        meter.update(p);
        !how.watch.is_some_and(|plan| bounded::resident().is_some_and(|rss| plan.over(rss)))
    });
    meter.done();
    match loaded {
        Ok(a) => Ok(Some(a)),
        Err(LoadError::Cancelled) => Ok(None),
        Err(LoadError::NoInput(why)) => Err(anyhow!("no readable input: {why}")),
    }
}

/// `merge` (docs/scale.md#the-merge): one report from the reports of every part.
fn merge(a: cli::MergeArgs) -> Result<i32> {
    use usage_replay::merge::{Merge, PartReport};
    let tmp = std::env::temp_dir();
    let mut parts = Vec::with_capacity(a.reports.len());
    for path in &a.reports {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).with_context(|| format!("cannot read {name}"))?;
        parts.push(PartReport::read(&usage_replay::text::sanitize(&name), io::BufReader::new(file), &tmp)?);
    }
    let merged = Merge::new(parts)?;
    let code = merged.exit_code();
    let mut out = BufWriter::new(io::stdout().lock());
    merged.write(&mut out)?;
    out.flush()?;
    Ok(code)
}

/// docs/outputs.md#exit-statuses: nothing read at all, or a named path that cannot be
/// read, is status 2 with a one-line reason, after the report of whatever was read.
fn unusable(archive: &Archive, code: i32) -> i32 {
    let nothing = usage_replay::ticket::nothing_to_audit(archive);
    unusable_because(nothing.as_deref(), &archive.unreadable, code)
}

fn unusable_because(nothing: Option<&str>, unreadable: &[String], code: i32) -> i32 {
    if let Some(why) = nothing {
        eprintln!("usage-replay: {why}");
        return EXIT_UNUSABLE;
    }
    if !unreadable.is_empty() {
        for u in unreadable {
            eprintln!("usage-replay: cannot read {}", usage_replay::text::sanitize(u));
        }
        return EXIT_UNUSABLE;
    }
    code
}

/// What `audit` was asked, checked.
struct Query<'a> {
    a: &'a AuditArgs,
    outcomes: Vec<Outcome>,
    codes: Vec<Code>,
    labels: Vec<Triage>,
    rules: Rules,
}

/// How one run of `audit` (the whole archive or one part) ended.
enum Ran {
    Done {
        /// The exit status of the verdicts.
        code: i32,
        /// Why nothing could be audited, when no event at all was kept.
        nothing: Option<String>,
        /// Whether the run kept no event (a part may hold no instance).
        empty: bool,
        /// Events left out by the filters and the split.
        filtered: u64,
        unreadable: Vec<String>,
    },
    /// The load went over the memory budget and was stopped.
    Over,
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
    if a.memory.is_some() && a.shard.is_some() {
        return Err(anyhow!(
            "--memory cannot be used with --shard: a part is not split again; choose more parts (a larger N) instead"
        ));
    }
    if a.memory.is_some() && a.no_drain {
        return Err(anyhow!(
            "--memory cannot be used with --no-drain: the parts of a split are drained (docs/scale.md#the-split); \
             without --memory the audit runs in one piece"
        ));
    }
    let q = Query { a: &a, outcomes, codes, labels, rules };
    let whole = |watch: Option<Plan>, spooled: &[(String, Arc<std::fs::File>)]| -> Result<Option<i32>> {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        match audit_once(
            &q,
            &Loading {
                keep: Keep::Audit,
                one_event_for_both: keeping_for(&a, rules) == Keeping::Verdicts,
                rules,
                shard: a.shard,
                spooled,
                watch,
                label: None,
            },
            &mut out,
        )? {
            Ran::Over => Ok(None),
            Ran::Done { code, nothing, empty, filtered, unreadable } => {
                // docs/scale.md#the-split: a part may hold no instance at all; its empty report is still a part.
                let empty_part = a.shard.is_some() && empty && filtered > 0;
                if empty_part && unreadable.is_empty() {
                    Ok(Some(code))
                } else {
                    Ok(Some(unusable_because(nothing.as_deref(), &unreadable, code)))
                }
            }
        }
    };
    // docs/scale.md#bounded-memory: a part of a split, or a run that cannot be
    // split, runs in one piece; so do, without --memory, a pipe (it is read once)
    // and a table or CSV (they are not made from parts: the default budget must not refuse them).
    let budget = a.memory.or_else(bounded::default_budget);
    let tmp = a.tmp.clone().unwrap_or_else(std::env::temp_dir);
    let inputs = usage_replay::archive::source::expand(&a.input.paths).inputs;
    let is_pipe = |i: &Input| match i {
        Input::Stdin => true,
        Input::File(p) => !usage_replay::archive::source::is_rereadable(p),
    };
    let pipes = inputs.iter().any(is_pipe);
    let Some(budget) = budget
        .filter(|_| a.shard.is_none() && !a.no_drain && (a.memory.is_some() || (!pipes && a.format == Format::Json)))
    else {
        return whole(None, &[]).map(|code| code.unwrap_or(EXIT_UNUSABLE));
    };
    let spooled = spool_pipes(inputs.iter().filter(|i| is_pipe(i)), &tmp)?;
    let size: u64 = inputs
        .iter()
        .map(|i| match (i, spooled.iter().find(|(name, _)| *name == i.display())) {
            (_, Some((_, file))) => usage_replay::archive::source::open_spool(Arc::clone(file)).map_or(0, |o| {
                if o.gzip {
                    o.size_on_disk.saturating_mul(bounded::GZIP_RATIO)
                } else {
                    o.size_on_disk
                }
            }),
            (Input::File(p), None) => {
                bounded::content_size(p, usage_replay::archive::source::sniff_gzip(p).unwrap_or(false))
            }
            (Input::Stdin, None) => 0,
        })
        .sum();
    let mut plan = Plan::estimate(budget, size, rules, keeping_for(&a, rules));
    if plan.parts == 1 {
        if let Some(code) = whole(Some(plan), &spooled)? {
            return Ok(code);
        }
        plan = plan.doubled().ok_or_else(|| anyhow!("the memory budget cannot be kept"))?;
    }
    audit_split(&q, plan, &spooled, &tmp)
}

/// docs/scale.md#bounded-memory: copy every pipe among the inputs to an
/// unnamed file in `tmp` once, so that every part reads it again.
fn spool_pipes<'a>(pipes: impl Iterator<Item = &'a Input>, tmp: &Path) -> Result<Vec<(String, Arc<std::fs::File>)>> {
    use usage_replay::archive::source;
    let mut spooled = Vec::new();
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for input in pipes {
        let name = input.display();
        let file =
            tempfile::tempfile_in(tmp).with_context(|| format!("cannot write temporary files in {}", tmp.display()))?;
        let space = || source::free_space_in(tmp);
        let copy = match input {
            Input::Stdin => source::spool_into(file, io::stdin().lock(), &count, &space),
            Input::File(p) => std::fs::File::open(p).and_then(|r| source::spool_into(file, r, &count, &space)),
        };
        let copy = copy.with_context(|| {
            format!("cannot copy {} to {} to read it once per part", usage_replay::text::sanitize(&name), tmp.display())
        })?;
        spooled.push((name, copy));
    }
    Ok(spooled)
}

/// docs/scale.md#bounded-memory: the audit in parts, one after another, each
/// part's report kept in an unnamed file of `tmp`, merged into one report.
fn audit_split(q: &Query, mut plan: Plan, spooled: &[(String, Arc<std::fs::File>)], tmp: &Path) -> Result<i32> {
    use usage_replay::merge::{Merge, PartReport};
    let a = q.a;
    if a.format != Format::Json {
        let format = if a.format == Format::Csv { "csv" } else { "table" };
        return Err(anyhow!(
            "this audit needs {} parts to stay under the memory budget of {}, and --format {format} is not made from \
             parts: use --format json, or give a larger --memory (docs/scale.md#bounded-memory)",
            plan.parts,
            usage_replay::text::bytes(plan.budget)
        ));
    }
    'attempt: loop {
        eprintln!(
            "usage-replay: auditing in {} parts to stay under {} of memory (the archive is read once per part)",
            plan.parts,
            usage_replay::text::bytes(plan.budget)
        );
        let mut parts = Vec::with_capacity(plan.parts as usize);
        let mut first: Option<(Option<String>, Vec<String>)> = None;
        let mut all_empty = true;
        for index in 0..plan.parts {
            // What the last part (or a load stopped for going over) freed is not this part's.
            release_freed_memory();
            let shard = Shard { index, count: plan.parts };
            let file = tempfile::tempfile_in(tmp)
                .with_context(|| format!("cannot write temporary files in {}", tmp.display()))?;
            let mut out = BufWriter::new(file);
            let how = Loading {
                keep: Keep::Audit,
                one_event_for_both: keeping_for(q.a, q.rules) == Keeping::Verdicts,
                rules: q.rules,
                shard: Some(shard),
                spooled,
                watch: Some(plan),
                label: Some(format!("part {} of {}", index + 1, plan.parts)),
            };
            match audit_once(q, &how, &mut out)? {
                Ran::Over => {
                    drop(parts);
                    plan = plan.doubled().ok_or_else(|| {
                        anyhow!(
                            "a part of {} still goes over the memory budget of {}",
                            bounded::MAX_PARTS,
                            usage_replay::text::bytes(plan.budget)
                        )
                    })?;
                    continue 'attempt;
                }
                Ran::Done { nothing, empty, unreadable, .. } => {
                    all_empty &= empty;
                    first.get_or_insert((nothing, unreadable));
                }
            }
            let mut file = out.into_inner().map_err(|e| e.into_error()).context("writing a part's report")?;
            file.seek(io::SeekFrom::Start(0)).context("reading a part's report")?;
            parts.push(PartReport::read(&format!("part {shard}"), io::BufReader::new(file), tmp)?);
        }
        let merged = Merge::new(parts)?;
        let code = merged.exit_code();
        let mut out = BufWriter::new(io::stdout().lock());
        match merged.write(&mut out).and_then(|()| out.flush()) {
            // A reader that stops early (`| head`) does not change the verdict the status reports.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            r => r.context("writing the report")?,
        }
        let (nothing, unreadable) = first.unwrap_or_default();
        let nothing = nothing.filter(|_| all_empty);
        return Ok(unusable_because(nothing.as_deref(), &unreadable, code));
    }
}

/// docs/scale.md#how-many-parts: give the memory freed by the last part back to
/// the system before the next one loads. The allocator keeps freed pages for
/// reuse, so without this the resident memory a part's load is checked by
/// would still count the last part's.
fn release_freed_memory() {
    extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mimalloc (the global allocator, linked in by the `mimalloc` crate)
    // exports `void mi_collect(bool force)`; it takes no pointer and may be called at any time.
    unsafe { mi_collect(true) }
}

/// docs/scale.md#freed-memory: give pages back to the system as soon as they are free.
/// By default the allocator waits a few milliseconds first, on the thread that
/// freed them; a worker thread that goes idle right after its part of a phase
/// never comes back to it, so what the load and the replay freed stayed resident
/// (about 50 MB of a million notifications' audit). Must run before any thread starts.
fn return_freed_pages_at_once() {
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // `mi_option_purge_delay` in `mi_option_e` (include/mimalloc.h of the mimalloc
    // sources the `mimalloc` crate builds): 0 purges at once.
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    // SAFETY: mimalloc (the global allocator) exports `void mi_option_set(mi_option_t, long)`;
    // it is not thread safe, and no other thread exists yet.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

/// What an audit keeps of each pipeline run: the explanations, and the 2015 results a
/// 2015 report lists, need each pipeline's details; a report of verdicts needs no more.
fn keeping_for(a: &AuditArgs, rules: Rules) -> Keeping {
    if a.explain || rules == Rules::One(RuleSet::Y2015) {
        Keeping::Details
    } else {
        Keeping::Verdicts
    }
}

/// Load, replay and report the whole archive or one part of it, to `out`.
fn audit_once(q: &Query, how: &Loading, out: &mut dyn Write) -> Result<Ran> {
    let a = q.a;
    let rules = q.rules;
    let clock = Phases::start();
    let Some(archive) = load_watched(&a.input, how)? else { return Ok(Ran::Over) };
    clock.lap("load");
    let ids = if a.random_ids { IdMode::Random } else { IdMode::Stable };
    let keeping = keeping_for(a, rules);
    let (replay, other) = match archive.alt.as_deref() {
        Some(alt) => {
            let (r, o) = rayon::join(
                || Replay::run_keeping(&archive, !a.no_drain, ids, keeping),
                || Replay::run_keeping(alt, !a.no_drain, ids, keeping),
            );
            (r, Some(o))
        }
        None => (Replay::run_keeping(&archive, !a.no_drain, ids, keeping), None),
    };
    clock.lap("replay");
    let side = match (archive.alt.as_deref(), other.as_ref()) {
        (Some(alt), Some(o)) => {
            Some(SideBySide { archive: alt, streams: o.streams(), pairs: triage::pair(replay.streams(), o.streams()) })
        }
        _ => None,
    };
    if side.is_some() {
        clock.lap("pair");
    }
    let audit = Audit {
        archive: &archive,
        streams: replay.streams(),
        unmatched: replay.unmatched().len(),
        unmatched_events: replay.unmatched(),
        rules,
        side,
        shard: how.shard,
        siblings: Default::default(),
    };
    let filter =
        usage_replay::report::Filter { outcomes: q.outcomes.clone(), codes: q.codes.clone(), labels: q.labels.clone() };
    let code = audit.exit_code();
    let written = match a.format {
        Format::Json => audit.write_json(out, &filter, a.explain),
        Format::Csv => audit.write_csv(out, &filter),
        Format::Table => audit.write_table(out, &filter, a.explain),
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
    let ran = Ran::Done {
        code,
        nothing: usage_replay::ticket::nothing_to_audit(&archive),
        empty: archive.events.is_empty(),
        filtered: archive.filtered,
        unreadable: archive.unreadable.clone(),
    };
    if how.watch.is_some_and(|_| how.shard.is_some()) {
        // The next part needs the room.
        drop(audit);
        drop(other);
        drop(replay);
        drop(archive);
    } else {
        // The process ends here: freeing a large archive piece by piece would only delay the exit.
        std::mem::forget(audit);
        std::mem::forget(other);
        std::mem::forget(replay);
        std::mem::forget(archive);
    }
    Ok(ran)
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
            for o in s.result.iter().flat_map(|r| r.output().iter()) {
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
        let why = s.result.as_ref().map(|r| r.message()).unwrap_or("");
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
