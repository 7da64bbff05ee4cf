//! Headless reports (docs/outputs.md#audit): the audit as a table, JSON or CSV, the
//! distilled events and the pipelines' output events as JSON Lines.

use crate::archive::Archive;
use crate::explain::{self, Explanation};
use crate::pipeline::Code;
use crate::replay::{Outcome, Siblings, Stream};
use crate::rules::{RuleSet, Rules};
use crate::shard::Shard;
use crate::triage::Triage;
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Write};
use std::sync::OnceLock;

/// The summary of docs/outputs.md#audit.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub verified: usize,
    pub failed: usize,
    pub error: usize,
    pub pending: usize,
    pub by_code: std::collections::BTreeMap<String, usize>,
    /// Streams per triage label, side by side (docs/rules2015.md#side-by-side).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_triage: Option<std::collections::BTreeMap<String, usize>>,
    /// Side by side, the 2015 streams no 2014 stream is paired with, per triage
    /// label (docs/rules2015.md#streams-2014-does-not-have).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_unpaired: Option<std::collections::BTreeMap<String, usize>>,
}

impl Summary {
    pub fn of(streams: &[Stream]) -> Summary {
        let mut s = Summary::default();
        for c in Code::ALL {
            s.by_code.insert(c.as_str().to_string(), 0);
        }
        for st in streams {
            match st.outcome() {
                Outcome::Verified => s.verified += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::Error => s.error += 1,
                Outcome::Pending => s.pending += 1,
            }
            if let Some(c) = st.code() {
                *s.by_code.entry(c.as_str().to_string()).or_insert(0) += 1;
            }
        }
        s
    }

    /// docs/outputs.md#exit-statuses: 1 when any stream failed or errored.
    pub fn exit_code(&self) -> i32 {
        if self.failed + self.error > 0 {
            1
        } else {
            0
        }
    }
}

/// Which streams a report lists: `--outcome`, `--code` and `--triage` (every
/// stream when a list is empty). A stream must pass all three.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub outcomes: Vec<Outcome>,
    pub codes: Vec<Code>,
    pub labels: Vec<Triage>,
}

impl Filter {
    fn keeps(&self, s: &Stream, label: Option<Triage>) -> bool {
        (self.outcomes.is_empty() || self.outcomes.contains(&s.outcome()))
            && (self.codes.is_empty() || s.code().is_some_and(|c| self.codes.contains(&c)))
            && (self.labels.is_empty() || label.is_some_and(|t| self.labels.contains(&t)))
    }
}

#[derive(Serialize)]
struct StreamRow<'a> {
    /// Set on the rows of `other_unpaired`: the rule set the row is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<&'static str>,
    stream_id: u32,
    instance_id: String,
    tenant_id: Option<String>,
    day: String,
    state: &'static str,
    trigger: Option<&'static str>,
    outcome: &'static str,
    code: Option<&'static str>,
    message: &'a str,
    event_count: usize,
    first_event: String,
    last_event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation>,
    /// Under 2015: one result per `.exists`, then the trailing-block U0.
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<Vec<ResultRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<&'a [String]>,
    /// Side by side: the triage label and the 2015 counterpart (null when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    other: Option<Option<OtherRow<'a>>>,
    /// With `--explain`, on the rows of `other_unpaired`: why 2014 has no such stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

#[derive(Serialize)]
struct ResultRow {
    exists_message_id: Option<String>,
    outcome: &'static str,
    code: Option<&'static str>,
    message: String,
}

#[derive(Serialize)]
struct OtherRow<'a> {
    rules: &'static str,
    stream_id: u32,
    outcome: &'static str,
    code: Option<&'static str>,
    message: &'a str,
    warnings: &'a [String],
    /// With `--explain`: the 2015 side's own explanation (docs/rules2015.md#explanations).
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<Explanation>,
    /// With `--explain`, where the rule sets part: why, in one sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

/// The 2015 side of a side-by-side audit.
pub struct SideBySide<'a> {
    pub archive: &'a Archive,
    pub streams: &'a [Stream],
    /// Per primary stream (by index), the index of its counterpart in `streams`.
    pub pairs: Vec<Option<u32>>,
}

const NO_WARNINGS: &[String] = &[];

fn warnings_of(s: &Stream) -> &[String] {
    s.result.as_ref().and_then(|r| r.audit2015()).map_or(NO_WARNINGS, |a| &a.warnings)
}

#[derive(Serialize)]
struct RejectedRow {
    source: String,
    reason: String,
    excerpt: String,
}

/// What an audit reports on: the archive and its streams after the replay.
pub struct Audit<'a> {
    pub archive: &'a Archive,
    pub streams: &'a [Stream],
    pub unmatched: usize,
    /// The unmatched events themselves (JSON lists them).
    pub unmatched_events: &'a [(u32, crate::trigger::Unmatched)],
    /// What was replayed: one rule set, or both (then `side` holds the 2015 replay).
    pub rules: Rules,
    pub side: Option<SideBySide<'a>>,
    /// The part of a split this audit covers (docs/scale.md#the-split).
    pub shard: Option<Shard>,
    /// Each side's instance-days of more than one stream, made the first time an
    /// explanation names a stream's siblings (the primary side's, then the 2015 side's).
    pub siblings: [OnceLock<Siblings>; 2],
}

impl Audit<'_> {
    /// docs/scale.md#why-a-part-reaches-the-same-verdicts: the replay position
    /// of the event that created each stream, on each side, so that the merge
    /// can number the streams of every part as one run would.
    fn write_shard(&self, out: &mut dyn Write, shard: Shard) -> io::Result<()> {
        // Written as it goes: a part of a large archive has a key per stream.
        fn keys(out: &mut dyn Write, archive: &Archive, streams: &[Stream]) -> io::Result<()> {
            out.write_all(b"[")?;
            for (i, s) in streams.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                match s.events.first().and_then(|&i| archive.events.get(i as usize)) {
                    Some(e) => {
                        let o = &e.origin;
                        write!(out, "[\"{}\",{},{},{}]", e.timestamp.iso(), o.source, o.offset, o.index.unwrap_or(0))?
                    }
                    None => out.write_all(b"null")?,
                }
            }
            out.write_all(b"]")
        }
        write!(out, "{{\"index\":{},\"count\":{},\"streams\":", shard.index, shard.count)?;
        keys(out, self.archive, self.streams)?;
        if let Some(side) = &self.side {
            out.write_all(b",\"other_streams\":")?;
            keys(out, side.archive, side.streams)?;
        }
        out.write_all(b"}")
    }

    /// The ids of the streams of `s`'s instance-day on the primary side (`other`: the 2015 side).
    fn siblings(&self, s: &Stream, other: bool) -> &[u32] {
        let streams = match (&self.side, other) {
            (Some(side), true) => side.streams,
            _ => self.streams,
        };
        self.siblings[usize::from(other)].get_or_init(|| Siblings::of(streams)).of_stream(s)
    }

    /// The 2015 counterpart of a primary stream, side by side.
    pub fn counterpart(&self, s: &Stream) -> Option<&Stream> {
        let side = self.side.as_ref()?;
        let i = (*side.pairs.get((s.id as usize).checked_sub(1)?)?)?;
        side.streams.get(i as usize)
    }

    /// The triage label of a primary stream, side by side.
    pub fn triage(&self, s: &Stream) -> Option<Triage> {
        self.side.as_ref()?;
        Some(Triage::of(s.outcome(), self.counterpart(s).map(Stream::outcome)))
    }

    /// Where the rule sets part on a primary stream (`2014-only`, `2015-only`), why.
    fn why(&self, s: &Stream) -> Option<String> {
        let side = self.side.as_ref()?;
        explain::triage_note(self.triage(s)?, self.archive, s, side.archive, self.counterpart(s))
    }

    /// The summary, with the triage counts side by side.
    pub fn summary(&self) -> Summary {
        let mut sum = Summary::of(self.streams);
        if self.side.is_some() {
            let mut counts: std::collections::BTreeMap<String, usize> =
                Triage::ALL.iter().map(|t| (t.as_str().to_string(), 0)).collect();
            for s in self.streams {
                if let Some(t) = self.triage(s) {
                    *counts.entry(t.as_str().to_string()).or_insert(0) += 1;
                }
            }
            sum.by_triage = Some(counts);
            let mut unpaired: std::collections::BTreeMap<String, usize> =
                Triage::ALL.iter().map(|t| (t.as_str().to_string(), 0)).collect();
            for o in self.unpaired() {
                *unpaired.entry(Triage::of_unpaired(o.outcome()).as_str().to_string()).or_insert(0) += 1;
            }
            sum.other_unpaired = Some(unpaired);
        }
        sum
    }

    /// Side by side, the 2015 streams that no 2014 stream is paired with, in id
    /// order (docs/rules2015.md#streams-2014-does-not-have).
    pub fn unpaired(&self) -> Vec<&Stream> {
        let Some(side) = &self.side else { return Vec::new() };
        let mut paired = vec![false; side.streams.len()];
        for &i in side.pairs.iter().flatten() {
            paired[i as usize] = true;
        }
        side.streams.iter().zip(paired).filter(|(_, p)| !p).map(|(s, _)| s).collect()
    }

    /// docs/outputs.md#exit-statuses: 1 when a stream failed or errored; side by
    /// side, when any stream (paired or not) is labelled anything but `agreed`.
    pub fn exit_code(&self) -> i32 {
        if self.side.is_none() {
            return Summary::of(self.streams).exit_code();
        }
        let primary = self.streams.iter().any(|s| self.triage(s) != Some(Triage::Agreed));
        let unpaired = self.unpaired().iter().any(|o| Triage::of_unpaired(o.outcome()) != Triage::Agreed);
        i32::from(primary || unpaired)
    }

    fn listed<'s>(&'s self, filter: &'s Filter) -> impl Iterator<Item = &'s Stream> + 's {
        self.streams.iter().filter(move |s| filter.keeps(s, self.triage(s)))
    }

    fn listed_unpaired(&self, filter: &Filter) -> Vec<&Stream> {
        self.unpaired().into_iter().filter(|o| filter.keeps(o, Some(Triage::of_unpaired(o.outcome())))).collect()
    }

    /// A row of `other_unpaired`: the 2015 stream in the shape of a stream row.
    fn unpaired_row<'s>(&'s self, side: &'s SideBySide<'s>, o: &'s Stream, explain: bool) -> StreamRow<'s> {
        StreamRow {
            rules: Some(RuleSet::Y2015.name()),
            warnings: Some(warnings_of(o)),
            triage: Some(Triage::of_unpaired(o.outcome()).as_str()),
            why: explain.then(|| explain::unpaired_note(self.streams, side.streams, o)),
            ..base_row(side.archive, o, explain.then(|| self.siblings(o, true)))
        }
    }

    fn results_of(&self, s: &Stream) -> Option<Vec<ResultRow>> {
        if self.rules != Rules::One(RuleSet::Y2015) {
            return None;
        }
        let Some(a) = s.result.as_ref().and_then(|r| r.audit2015()) else { return Some(Vec::new()) };
        let sym = &self.archive.symbols;
        Some(
            a.results
                .iter()
                .map(|r| ResultRow {
                    exists_message_id: r
                        .exists
                        .map(|x| self.archive.events[s.events[x] as usize].message_id(sym).into_owned()),
                    outcome: if r.failure.is_some() { "failed" } else { "verified" },
                    code: r.failure.as_ref().map(|f| f.code.as_str()),
                    message: r.failure.as_ref().map(|f| f.message.clone()).unwrap_or_default(),
                })
                .collect(),
        )
    }

    fn row<'s>(&'s self, s: &'s Stream, explain: bool) -> StreamRow<'s> {
        StreamRow {
            results: self.results_of(s),
            warnings: (self.rules == Rules::One(RuleSet::Y2015)).then(|| warnings_of(s)),
            triage: self.triage(s).map(Triage::as_str),
            other: self.side.as_ref().map(|_| {
                self.counterpart(s).map(|o| OtherRow {
                    rules: RuleSet::Y2015.name(),
                    stream_id: o.id,
                    outcome: o.outcome().as_str(),
                    code: o.code().map(|c| c.as_str()),
                    message: o.result.as_ref().map(|r| r.message()).unwrap_or(""),
                    warnings: warnings_of(o),
                    explanation: self
                        .side
                        .as_ref()
                        .filter(|_| explain)
                        .and_then(|side| explain::explain_with(side.archive, o, self.siblings(o, true))),
                    why: explain.then(|| self.why(s)).flatten(),
                })
            }),
            ..base_row(self.archive, s, explain.then(|| self.siblings(s, false)))
        }
    }

    /// docs/outputs.md#audit JSON: one object, written as it goes (one stream per line) so
    /// that a large audit never holds its whole report in memory.
    pub fn write_json(&self, out: &mut dyn Write, filter: &Filter, explain: bool) -> io::Result<()> {
        out.write_all(b"{\n")?;
        if self.rules != Rules::One(RuleSet::Y2014) {
            writeln!(out, "  \"rules\": \"{}\",", self.rules.name())?;
        }
        if let Some(shard) = self.shard {
            out.write_all(b"  \"shard\": ")?;
            self.write_shard(out, shard)?;
            out.write_all(b",\n")?;
        }
        out.write_all(b"  \"streams\": ")?;
        write_rows(out, self.listed(filter), |s| self.row(s, explain))?;
        if let Some(side) = &self.side {
            out.write_all(b"  \"other_unpaired\": ")?;
            write_rows(out, self.listed_unpaired(filter).into_iter(), |o| self.unpaired_row(side, o, explain))?;
        }
        let rejected: Vec<RejectedRow> = self
            .archive
            .rejected
            .iter()
            .map(|r| RejectedRow { source: r.location(), reason: r.reason.clone(), excerpt: r.excerpt.clone() })
            .collect();
        // The counts in the summary, the records themselves in lists (docs/outputs.md#json).
        let mut summary = serde_json::to_value(self.summary())?;
        summary["unmatched"] = self.unmatched.into();
        summary["duplicates"] = self.archive.duplicates.into();
        let a = self.archive;
        let tail = serde_json::json!({
            "summary": summary,
            "inputs": crate::ticket::inputs(a),
            "skipped": &a.skipped,
            "unmatched": crate::ticket::unmatched(a, self.unmatched_events),
            "duplicates": crate::ticket::duplicates(a),
            "not_distilled": a.not_distilled_total(),
            "not_distilled_types": &a.not_distilled,
            "rejected": rejected,
        });
        let tail = serde_json::to_string_pretty(&tail)?;
        // docs/outputs.md#hostile-text: what serde_json leaves raw is escaped too.
        let tail = crate::text::escape_json(&tail);
        // Splice the remaining members into the open object.
        out.write_all(b"  ")?;
        out.write_all(tail.trim_start_matches('{').trim_start().as_bytes())?;
        writeln!(out)
    }

    pub fn write_csv(&self, out: &mut dyn Write, filter: &Filter) -> io::Result<()> {
        self.csv_rows(out, filter).map_err(|e| match e.into_kind() {
            // The writer's own error, as it was (a closed pipe stays a closed pipe).
            csv::ErrorKind::Io(e) => e,
            other => io::Error::other(format!("{other:?}")),
        })
    }

    fn csv_rows(&self, out: &mut dyn Write, filter: &Filter) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let side = self.side.is_some();
        let mut header = vec![
            "stream_id",
            "instance_id",
            "day",
            "state",
            "trigger",
            "outcome",
            "code",
            "message",
            "event_count",
            "first_event",
            "last_event",
        ];
        if side {
            header.extend(["triage", "other"]);
        }
        w.write_record(header)?;
        // docs/outputs.md#hostile-text: archive text is made visible, as in the table.
        let safe = crate::text::sanitize;
        for s in self.listed(filter) {
            let r = self.row(s, false);
            let mut record = vec![
                r.stream_id.to_string(),
                safe(&r.instance_id),
                r.day,
                r.state.to_string(),
                r.trigger.unwrap_or("").to_string(),
                r.outcome.to_string(),
                r.code.unwrap_or("").to_string(),
                safe(r.message),
                r.event_count.to_string(),
                r.first_event,
                r.last_event,
            ];
            if side {
                record.push(r.triage.unwrap_or("").to_string());
                record.push(self.other_badge(s));
            }
            w.write_record(record)?;
        }
        // docs/rules2015.md#streams-2014-does-not-have: the 2014 columns are empty.
        if let Some(side) = &self.side {
            for o in self.listed_unpaired(filter) {
                let mut record = vec![String::new(); 11];
                record[1] = safe(&o.instance_id.py_str(&side.archive.symbols));
                record[2] = o.day.to_string();
                record.push(Triage::of_unpaired(o.outcome()).as_str().to_string());
                record.push(badge(o));
                w.write_record(record)?;
            }
        }
        Ok(w.flush()?)
    }

    /// The 2015 counterpart's verdict in a word or two (`failed U2`, `verified`, `-` for none).
    fn other_badge(&self, s: &Stream) -> String {
        self.counterpart(s).map_or_else(|| "-".to_string(), badge)
    }

    /// docs/rules2015.md#streams-2014-does-not-have: the 2015 streams no 2014 stream
    /// is paired with, after the table, in its columns (the 2014 ones empty).
    fn write_unpaired_table(
        &self,
        out: &mut dyn Write,
        side: &SideBySide,
        filter: &Filter,
        explain: bool,
    ) -> io::Result<()> {
        let listed = self.listed_unpaired(filter);
        if listed.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        writeln!(out, "2015 streams without a 2014 counterpart (same instance, day and rank):")?;
        for o in listed {
            let inst = crate::text::sanitize(&o.instance_id.py_str(&side.archive.symbols));
            let pad = " ".repeat(36usize.saturating_sub(crate::text::width(&inst)));
            let label = Triage::of_unpaired(o.outcome()).as_str();
            writeln!(
                out,
                "{:>6} {inst}{pad} {:<10} {:<10} {:<6} {:>6} {:<10} {label}",
                "-",
                o.day.to_string(),
                "-",
                "-",
                "-",
                badge(o)
            )?;
            let msg = o.result.as_ref().filter(|r| r.outcome != Outcome::Verified).map(|r| r.message());
            let lines = msg.map(|m| format!("2015 #{}: {m}", o.id)).into_iter();
            for text in lines.chain(warnings_of(o).iter().map(|w| format!("2015 warning: {w}"))) {
                for line in crate::text::wrap(&crate::text::sanitize(&text), 72) {
                    writeln!(out, "       {line}")?;
                }
            }
            if explain {
                let why = explain::unpaired_note(self.streams, side.streams, o);
                for line in crate::text::wrap(&crate::text::sanitize(&format!("triage: {why}")), 72) {
                    writeln!(out, "       {line}")?;
                }
                if let Some(x) = explain::explain_with(side.archive, o, self.siblings(o, true)) {
                    for line in x.to_text(72) {
                        writeln!(out, "       {line}")?;
                    }
                    writeln!(out)?;
                }
            }
        }
        Ok(())
    }

    /// The archive's counts in one line, for reports that have no place for them.
    pub fn load_summary(&self) -> String {
        format!(
            "{} events, {} unmatched, {} duplicates, {} not distilled, {} rejected{}",
            self.archive.events.len(),
            self.unmatched,
            self.archive.duplicates,
            self.archive.not_distilled_total(),
            self.archive.rejected.len(),
            crate::ticket::input_counts(self.archive)
        )
    }

    /// The first rejected records, one per item wrapped to `width` columns.
    pub fn load_problems(&self, width: usize) -> Vec<String> {
        let mut lines = Vec::new();
        let mut items = rejected_items(self.archive);
        items.extend(crate::ticket::not_distilled_line(self.archive));
        items.extend(crate::ticket::input_notes(self.archive));
        for item in items {
            for (i, l) in crate::text::wrap_whole(&item, width.saturating_sub(4)).into_iter().enumerate() {
                lines.push(if i == 0 { format!("  {l}") } else { format!("    {l}") });
            }
        }
        lines
    }

    /// A table for an 80-column terminal: one row per stream, the message of a
    /// failing stream beneath it, the explanation too with `explain`.
    pub fn write_table(&self, out: &mut dyn Write, filter: &Filter, explain: bool) -> io::Result<()> {
        let sym = &self.archive.symbols;
        let extra = if self.side.is_some() { format!(" {:<10} {}", "2015", "TRIAGE") } else { String::new() };
        writeln!(
            out,
            "{:>6} {:<36} {:<10} {:<10} {:<6} {:>6}{extra}",
            "STREAM", "INSTANCE", "DAY", "RESULT", "BY", "EVENTS"
        )?;
        let mut shown = 0usize;
        for s in self.listed(filter) {
            shown += 1;
            let result = badge(s);
            let by = s.result.as_ref().map(|r| r.trigger.as_str()).unwrap_or("-");
            // Archive text: neutralised and padded by display width, never cut (a longer id widens its row).
            let inst = crate::text::sanitize(&s.instance_id.py_str(sym));
            let pad = " ".repeat(36usize.saturating_sub(crate::text::width(&inst)));
            let extra = match self.triage(s) {
                Some(t) => format!(" {:<10} {}", self.other_badge(s), t.as_str()),
                None => String::new(),
            };
            writeln!(
                out,
                "{:>6} {inst}{pad} {:<10} {:<10} {:<6} {:>6}{extra}",
                s.id,
                s.day.to_string(),
                result,
                by,
                s.events.len()
            )?;
            if let Some(r) = s.result.as_ref().filter(|r| r.outcome != Outcome::Verified) {
                for line in crate::text::wrap_whole(&crate::text::sanitize(r.message()), 72) {
                    writeln!(out, "       {line}")?;
                }
            }
            // The 2015 side's own message when it did not verify, and its warnings.
            if let Some(o) = self.counterpart(s) {
                let msg = o.result.as_ref().filter(|r| r.outcome != Outcome::Verified).map(|r| r.message());
                let lines = msg.map(|m| format!("2015: {m}")).into_iter();
                for text in lines.chain(warnings_of(o).iter().map(|w| format!("2015 warning: {w}"))) {
                    for line in crate::text::wrap(&crate::text::sanitize(&text), 72) {
                        writeln!(out, "       {line}")?;
                    }
                }
            }
            if let Some(why) = explain.then(|| self.why(s)).flatten() {
                for line in crate::text::wrap(&crate::text::sanitize(&format!("triage: {why}")), 72) {
                    writeln!(out, "       {line}")?;
                }
            }
            // Failures, errors, and verified days with an uncompared resize.
            if let Some(x) = explain.then(|| explain::explain_with(self.archive, s, self.siblings(s, false))).flatten()
            {
                for line in x.to_text(72) {
                    writeln!(out, "       {line}")?;
                }
                writeln!(out)?;
            }
        }
        if let Some(side) = &self.side {
            self.write_unpaired_table(out, side, filter, explain)?;
        }
        let sum = self.summary();
        writeln!(out)?;
        let codes: Vec<String> = sum.by_code.iter().filter(|(_, &n)| n > 0).map(|(c, n)| format!("{c}:{n}")).collect();
        let shown = if shown == self.streams.len() { String::new() } else { format!(" ({shown} shown)") };
        let totals = format!(
            "{} streams{shown}: {} verified, {} failed{}, {} error, {} pending",
            self.streams.len(),
            sum.verified,
            sum.failed,
            if codes.is_empty() { String::new() } else { format!(" ({})", codes.join(" ")) },
            sum.error,
            sum.pending
        );
        for (i, l) in crate::text::wrap_whole(&totals, 78).into_iter().enumerate() {
            writeln!(out, "{}{l}", if i == 0 { "" } else { "  " })?;
        }
        if let Some(t) = &sum.by_triage {
            let parts: Vec<String> = Triage::ALL
                .iter()
                .map(|l| format!("{} {}", t.get(l.as_str()).copied().unwrap_or(0), l.as_str()))
                .collect();
            writeln!(out, "triage: {}", parts.join(", "))?;
        }
        if let Some(u) = sum.other_unpaired.as_ref().filter(|u| u.values().any(|&n| n > 0)) {
            let parts: Vec<String> =
                u.iter().filter(|(_, &n)| n > 0).map(|(label, n)| format!("{n} {label}")).collect();
            let total: usize = u.values().sum();
            writeln!(out, "2015 streams without a 2014 counterpart: {total} ({})", parts.join(", "))?;
        }
        writeln!(out, "{}", self.load_summary())?;
        for line in self.load_problems(80) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

/// What every row says of its stream, from the archive it was replayed from; given its
/// instance-day's stream ids, its explanation too.
fn base_row<'s>(archive: &'s Archive, s: &'s Stream, explain: Option<&[u32]>) -> StreamRow<'s> {
    let r = s.result.as_ref();
    StreamRow {
        rules: None,
        stream_id: s.id,
        instance_id: s.instance_id.py_str(&archive.symbols),
        tenant_id: crate::ticket::stream_tenant(archive, s),
        day: s.day.to_string(),
        state: s.state.as_str(),
        trigger: r.map(|r| r.trigger.as_str()),
        outcome: s.outcome().as_str(),
        code: s.code().map(|c| c.as_str()),
        message: r.map(|r| r.message()).unwrap_or(""),
        event_count: s.events.len(),
        first_event: s.first_event.iso(),
        last_event: s.last_event.iso(),
        explanation: explain.and_then(|siblings| explain::explain_with(archive, s, siblings)),
        results: None,
        warnings: None,
        triage: None,
        other: None,
        why: None,
    }
}

/// A stream's verdict in a word or two (`failed U2`, `verified`).
fn badge(s: &Stream) -> String {
    match (s.outcome(), s.code()) {
        (Outcome::Failed, Some(c)) => format!("failed {c}"),
        (o, _) => o.as_str().to_string(),
    }
}

/// A JSON array of rows, one per line, ending in `],` (docs/outputs.md#json). Rows
/// are formatted on every core, a window at a time, and written in order, so that
/// a large audit never holds its whole report in memory.
fn write_rows<'s, R: Serialize>(
    out: &mut dyn Write,
    mut streams: impl Iterator<Item = &'s Stream>,
    row: impl Fn(&'s Stream) -> R + Sync,
) -> io::Result<()> {
    // A window of rows at a time, made on every core and written in order: the
    // rows of a large archive are never all in memory at once, nor is the list of them.
    const WINDOW: usize = 1 << 10;
    out.write_all(b"[")?;
    let mut first = true;
    let mut window: Vec<&'s Stream> = Vec::with_capacity(WINDOW);
    loop {
        window.clear();
        window.extend(streams.by_ref().take(WINDOW));
        if window.is_empty() {
            break;
        }
        let parts = window
            .par_chunks(WINDOW / 8)
            .map(|streams| {
                let mut buf = Vec::with_capacity(streams.len() * 400);
                let mut text = Vec::with_capacity(1024);
                for s in streams {
                    buf.extend_from_slice(b",\n    ");
                    text.clear();
                    serde_json::to_writer(&mut text, &row(s))?;
                    // serde_json writes UTF-8 only.
                    let text = std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?;
                    // docs/outputs.md#hostile-text: what serde_json leaves raw is escaped too.
                    buf.extend_from_slice(crate::text::escape_json(text).as_bytes());
                }
                Ok(buf)
            })
            .collect::<Result<Vec<Vec<u8>>, serde_json::Error>>()?;
        for part in parts {
            // The first row has no comma before it.
            out.write_all(if first { &part[1..] } else { &part })?;
            first = false;
        }
    }
    out.write_all(if first { b"],\n" } else { b"\n  ],\n" })
}

/// The first 20 rejected records as one line of text each (`rejected FILE:LINE:
/// reason`, archive text neutralised), then how many more there are.
pub fn rejected_items(archive: &Archive) -> Vec<String> {
    use crate::text::sanitize;
    let mut items: Vec<String> = archive
        .rejected
        .iter()
        .take(20)
        .map(|r| format!("rejected {}: {}", sanitize(&r.location()), sanitize(&r.reason)))
        .collect();
    if archive.rejected.len() > 20 {
        items.push(format!("… {} more rejected records (see audit --format json)", archive.rejected.len() - 20));
    }
    items
}
