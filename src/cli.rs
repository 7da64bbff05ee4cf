//! The command line (docs/ui.md#panes, docs/outputs.md#audit).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Every exit status, under `--help`.
const EXIT_STATUSES: &str = "\
Exit status:
  0    done; for audit: no stream failed or went to error
  1    audit: a stream failed (U0-U8) or went to error
  2    could not run: bad arguments, no event read from any input, or a path
       named that cannot be read (the other paths are still reported)
  129  the interactive replay's terminal went away (hang-up)
  130+ the interactive replay was ended by a signal (128 + its number)";

/// Replay archived nova notifications through StackTach Winchester's usage
/// audit: streams per instance per UTC day, fired on their end-of-day
/// `.exists` or expired, checked for U0–U8, on a clock that follows the
/// events' own time.
///
/// With paths and no command, opens the interactive replay; with nothing at
/// all on a terminal, opens it on the built-in demo archive.
#[derive(Parser, Debug)]
#[command(
    name = "usage-replay",
    version,
    args_conflicts_with_subcommands = true,
    after_help = EXIT_STATUSES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub ui: UiArgs,
}

#[derive(Args, Debug, Default, Clone)]
pub struct UiArgs {
    /// Archives: files (JSON Lines, JSON array or object, optionally gzip),
    /// directories (every *.json, *.jsonl, *.ndjson, optionally .gz, below them), or - for stdin.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Open at this time instead of the end (a datetime, e.g. 2014-10-06T12:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Serve the playback clock over the time-sync protocol at ADDR (e.g. 127.0.0.1:8001).
    #[arg(long, value_name = "ADDR")]
    pub publish_clock: Option<String>,

    /// Follow the clock published by a time-sync service (e.g. http://127.0.0.1:8001).
    #[arg(long, value_name = "URL", conflicts_with = "publish_clock")]
    pub follow_clock: Option<String>,

    /// Seconds between polls of --follow-clock.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, requires = "follow_clock")]
    pub poll: f64,

    /// The rule set: 2014, 2015, or both side by side (the stream list shows the 2014
    /// streams with their 2015 verdict and triage label; `r` switches the events and
    /// explanation panes). Records that are already distilled events are replayed
    /// under each rule set with the traits they carry.
    #[arg(long, value_name = "RULES", default_value = "both", value_parser = ["2014", "2015", "both"])]
    pub rules: String,

    #[command(flatten)]
    pub only: OnlyArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay at full speed and report every stream's verdict.
    ///
    /// Exit status: 0 when no stream failed or errored; 1 when any did; 2 when
    /// the command could not run (bad arguments), nothing could be audited (no
    /// event read from any input), or a path named cannot be read (the others
    /// are still reported).
    Audit(AuditArgs),
    /// Write the distilled events, one JSON object per line, in replay order.
    ///
    /// Exit status: 0; 2 when no event was read from any input or a path named
    /// cannot be read (the others are still written).
    Events(EventsArgs),
    /// Write the pipelines' output events (.exists.verified / .exists.failed), one JSON object per line.
    ///
    /// Exit status: 0; 2 when no event was read from any input or a path named
    /// cannot be read (the others are still replayed).
    Emit(EmitArgs),
    /// Open the interactive replay on the built-in demo archive: a few hundred
    /// instances over two days with every code U0-U8, the error outcome and the
    /// load problems of a real capture, made in memory (no disk, no network).
    Demo(DemoArgs),
    /// Run a time-sync service, a drop-in for StackTach notigen's time_sync.
    ///
    /// GET /time answers the raw body of the last POST /time (empty before the first;
    /// at most 4096 bytes; a body that is no datetime, None or empty is refused with
    /// 400). Point Winchester's time_sync_endpoint at it. One line per request on
    /// stderr; Ctrl-C stops it.
    TimeServer(TimeServerArgs),
    /// Generate a synthetic archive of realistic nova lifecycles as raw
    /// notifications, with injected discrepancies of every kind and,
    /// optionally, the expected verdict of every stream.
    ///
    /// Deterministic for a seed: the same options write the same bytes.
    Generate(GenerateArgs),
    /// Merge the JSON reports of the parts of a split audit
    /// (`audit --shard K/N --format json`) into the report one run over the
    /// whole archive writes: streams numbered as one run numbers them,
    /// counts added up.
    ///
    /// Exit status: 0 when no stream failed or errored, 1 when one did, 2 when
    /// the reports cannot be merged (not parts, a part missing or given twice,
    /// parts of different splits, rule sets or inputs).
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The reports of every part, in any order.
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Open at this time instead of the end (a datetime, e.g. 2014-10-06T12:00:00Z).
    #[arg(long, value_name = "TIME", conflicts_with = "tour")]
    pub at: Option<String>,
    /// Play a short guided tour for presentations: the clock moves through the
    /// days and the selection follows the streams as they are decided, with a
    /// line saying what happens. Any key leaves the tour for the normal replay; q quits.
    #[arg(long)]
    pub tour: bool,
}

#[derive(Args, Debug)]
pub struct TimeServerArgs {
    /// Address to listen on; anything other than loopback is reachable from other hosts.
    #[arg(long, value_name = "ADDR", default_value = usage_replay::timesync::DEFAULT_LISTEN)]
    pub listen: String,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Instances in the cloud; deleted ones are replaced, so about this many live every day.
    #[arg(long, default_value_t = 1000)]
    pub instances: u32,

    /// Days to simulate.
    #[arg(long, default_value_t = 1)]
    pub days: u32,

    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Share of instance-days with an injected discrepancy (0 to 1). With 0, what still
    /// fails is each rule set's own: under 2014 the same-day rebuilds, resizes and rescues
    /// (U2), under 2015 only the days with a resize revert (U2).
    #[arg(long, value_name = "RATE", default_value_t = 0.05)]
    pub anomalies: f64,

    /// Share of instance-days with user operations (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = 0.15)]
    pub ops: f64,

    /// Share of instance-days on which an instance is deleted (0 to 1).
    #[arg(long, value_name = "RATE", default_value_t = 0.02)]
    pub churn: f64,

    /// First day (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2014-10-06")]
    pub start: String,

    /// Where to write the archive (JSON Lines), or - for stdout.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// Also write the expected verdict of every stream, one JSON object per line (- for stdout).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,

    /// Compress the archive with gzip.
    #[arg(long)]
    pub gzip: bool,

    /// gzip compression level (0 to 9).
    #[arg(long, value_name = "LEVEL", default_value_t = 6, requires = "gzip")]
    pub gzip_level: u32,

    /// Do not print the summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct InputArgs {
    /// Archives: files, directories, or - for stdin.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub only: OnlyArgs,
}

/// A filter applied while loading: events of other instances or tenants are never kept.
#[derive(Args, Debug, Default, Clone)]
pub struct OnlyArgs {
    /// Only the events of these instances (ID,ID…), left out while loading.
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub instance: Vec<String>,

    /// Only the events that carry one of these tenants (ID,ID…), left out while loading.
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub tenant: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Whose trait table distils the records: 2014 (the stock definitions) or
    /// 2015 (the StackTach v3 production definitions).
    #[arg(long, value_name = "RULES", default_value = "2014", value_parser = ["2014", "2015", "both"])]
    pub rules: String,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Do not drain at the end: streams still active are reported as pending.
    #[arg(long)]
    pub no_drain: bool,

    /// Random version-4 message ids for output events, as the original did.
    /// The verdicts are the same; the ids show where output events do (`emit`,
    /// the interactive replay).
    #[arg(long)]
    pub random_ids: bool,

    /// Add the operator explanation of every failing stream, and of verified
    /// ones holding a finish_resize.end the rules did not compare (under it in
    /// the table, as `explanation` in JSON).
    #[arg(long)]
    pub explain: bool,

    /// Only report streams with these outcomes (verified, failed, error,
    /// pending). The exit status still covers every stream.
    #[arg(long, value_delimiter = ',', value_name = "OUTCOME")]
    pub outcome: Vec<String>,

    /// Only report streams with these codes (U0 … U8). The exit status still
    /// covers every stream.
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub code: Vec<String>,

    /// The rule set: 2014 (Winchester at the time-sync commit), 2015
    /// (Winchester's final usage audit), or both side by side with a triage
    /// label per stream.
    #[arg(long, value_name = "RULES", default_value = "2014", value_parser = ["2014", "2015", "both"])]
    pub rules: String,

    /// Audit only part K of N of the instances (0 ≤ K < N): the events whose
    /// instance id hashes to K. Merge the parts' JSON reports with
    /// `usage-replay merge`. Not with --no-drain.
    #[arg(long, value_name = "K/N", value_parser = usage_replay::shard::Shard::parse)]
    pub shard: Option<usage_replay::shard::Shard>,

    /// Keep the audit's memory under SIZE (e.g. 512M, 2G, or bytes; default: a
    /// quarter of the machine's memory): an archive too large for it is audited
    /// in parts by instance, one after another, and the parts' reports merged
    /// (the archive is then read once per part). Only --format json is made
    /// from parts; the default budget applies to it alone. Not with --shard or
    /// --no-drain.
    #[arg(long, value_name = "SIZE", value_parser = usage_replay::bounded::parse_size)]
    pub memory: Option<u64>,

    /// Where the parts' reports (and a copy of a pipe) are kept while a split
    /// audit runs; unnamed files, gone when it ends [default: $TMPDIR, else /tmp].
    #[arg(long, value_name = "DIR")]
    pub tmp: Option<PathBuf>,

    /// With --rules both: only report streams with these triage labels
    /// (confirmed, 2014-only, 2015-only, agreed, error).
    #[arg(long, value_delimiter = ',', value_name = "LABEL")]
    pub triage: Vec<String>,
}

#[derive(Args, Debug)]
pub struct EmitArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Random version-4 message ids, as the original did.
    #[arg(long)]
    pub random_ids: bool,

    /// Do not drain at the end.
    #[arg(long)]
    pub no_drain: bool,

    /// The rule set whose pipelines' output events are written: 2014 or 2015
    /// (`both` writes the 2014 ones, then the 2015 ones).
    #[arg(long, value_name = "RULES", default_value = "2014", value_parser = ["2014", "2015", "both"])]
    pub rules: String,
}
