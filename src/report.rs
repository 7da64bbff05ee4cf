//! Headless reports (docs/outputs.md#audit): the audit as a table, JSON or CSV, the
//! distilled events and the pipelines' output events as JSON Lines.

use crate::archive::Archive;
use crate::explain::{self, Explanation};
use crate::pipeline::Code;
use crate::replay::{Outcome, Stream};
use crate::rules::{RuleSet, Rules};
use crate::shard::Shard;
use crate::triage::Triage;
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Write};

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

#[derive(Serialize)]
struct StreamRow<'a> {
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
}

/// The 2015 side of a side-by-side audit.
pub struct SideBySide<'a> {
    pub archive: &'a Archive,
    pub streams: &'a [Stream],
    /// Per primary stream (by index), the index of its counterpart in `streams`.
    pub pairs: Vec<Option<usize>>,
}

const NO_WARNINGS: &[String] = &[];

fn warnings_of(s: &Stream) -> &[String] {
    s.result.as_ref().and_then(|r| r.audit2015.as_ref()).map_or(NO_WARNINGS, |a| &a.warnings)
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
}

impl Audit<'_> {
    /// docs/scale.md#why-a-part-reaches-the-same-verdicts: the replay position
    /// of the event that created each stream, on each side, so that the merge
    /// can number the streams of every part as one run would.
    fn shard_json(&self, shard: Shard) -> serde_json::Value {
        fn keys(archive: &Archive, streams: &[Stream]) -> Vec<serde_json::Value> {
            streams
                .iter()
                .map(|s| match s.events.first().and_then(|&i| archive.events.get(i as usize)) {
                    Some(e) => serde_json::json!([
                        e.timestamp.iso(),
                        e.origin.source,
                        e.origin.offset,
                        e.origin.index.unwrap_or(0)
                    ]),
                    None => serde_json::Value::Null,
                })
                .collect()
        }
        let mut v = serde_json::json!({
            "index": shard.index,
            "count": shard.count,
            "streams": keys(self.archive, self.streams),
        });
        if let Some(side) = &self.side {
            v["other_streams"] = keys(side.archive, side.streams).into();
        }
        v
    }

    /// The 2015 counterpart of a primary stream, side by side.
    pub fn counterpart(&self, s: &Stream) -> Option<&Stream> {
        let side = self.side.as_ref()?;
        let i = (*side.pairs.get((s.id as usize).checked_sub(1)?)?)?;
        side.streams.get(i)
    }

    /// The triage label of a primary stream, side by side.
    pub fn triage(&self, s: &Stream) -> Option<Triage> {
        self.side.as_ref()?;
        Some(Triage::of(s.outcome(), self.counterpart(s).map(Stream::outcome)))
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
        }
        sum
    }

    fn results_of(&self, s: &Stream) -> Option<Vec<ResultRow>> {
        if self.rules != Rules::One(RuleSet::Y2015) {
            return None;
        }
        let Some(a) = s.result.as_ref().and_then(|r| r.audit2015.as_ref()) else { return Some(Vec::new()) };
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
        let r = s.result.as_ref();
        StreamRow {
            stream_id: s.id,
            instance_id: s.instance_id.py_str(&self.archive.symbols),
            tenant_id: crate::ticket::stream_tenant(self.archive, s),
            day: s.day.to_string(),
            state: s.state.as_str(),
            trigger: r.map(|r| r.trigger.as_str()),
            outcome: s.outcome().as_str(),
            code: s.code().map(|c| c.as_str()),
            message: r.map(|r| r.message.as_str()).unwrap_or(""),
            event_count: s.events.len(),
            first_event: s.first_event.iso(),
            last_event: s.last_event.iso(),
            explanation: if explain { explain::explain_with(self.archive, s, self.streams) } else { None },
            results: self.results_of(s),
            warnings: (self.rules == Rules::One(RuleSet::Y2015)).then(|| warnings_of(s)),
            triage: self.triage(s).map(Triage::as_str),
            other: self.side.as_ref().map(|_| {
                self.counterpart(s).map(|o| OtherRow {
                    rules: RuleSet::Y2015.name(),
                    stream_id: o.id,
                    outcome: o.outcome().as_str(),
                    code: o.code().map(|c| c.as_str()),
                    message: o.result.as_ref().map(|r| r.message.as_str()).unwrap_or(""),
                    warnings: warnings_of(o),
                })
            }),
        }
    }

    /// docs/outputs.md#audit JSON: one object, written as it goes (one stream per line) so
    /// that a large audit never holds its whole report in memory.
    pub fn write_json(&self, out: &mut dyn Write, filter: &dyn Fn(&Stream) -> bool, explain: bool) -> io::Result<()> {
        out.write_all(b"{\n")?;
        if self.rules != Rules::One(RuleSet::Y2014) {
            writeln!(out, "  \"rules\": \"{}\",", self.rules.name())?;
        }
        if let Some(shard) = self.shard {
            writeln!(out, "  \"shard\": {},", self.shard_json(shard))?;
        }
        out.write_all(b"  \"streams\": [")?;
        let selected: Vec<&Stream> = self.streams.iter().filter(|s| filter(s)).collect();
        let mut first = true;
        // Rows are formatted on every core, a window at a time, and written in order.
        for window in selected.chunks(1 << 15) {
            let parts = window
                .par_chunks(512)
                .map(|streams| {
                    let mut buf = Vec::with_capacity(streams.len() * 400);
                    for s in streams {
                        buf.extend_from_slice(b",\n    ");
                        let row = serde_json::to_string(&self.row(s, explain))?;
                        buf.extend_from_slice(crate::text::escape_json(&row).as_bytes());
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
        out.write_all(if first { b"],\n" } else { b"\n  ],\n" })?;
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

    pub fn write_csv(&self, out: &mut dyn Write, filter: &dyn Fn(&Stream) -> bool) -> io::Result<()> {
        self.csv_rows(out, filter).map_err(|e| match e.into_kind() {
            // The writer's own error, as it was (a closed pipe stays a closed pipe).
            csv::ErrorKind::Io(e) => e,
            other => io::Error::other(format!("{other:?}")),
        })
    }

    fn csv_rows(&self, out: &mut dyn Write, filter: &dyn Fn(&Stream) -> bool) -> csv::Result<()> {
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
        for s in self.streams.iter().filter(|s| filter(s)) {
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
        Ok(w.flush()?)
    }

    /// The 2015 counterpart's verdict in a word or two (`failed U2`, `verified`, `-` for none).
    fn other_badge(&self, s: &Stream) -> String {
        match self.counterpart(s) {
            Some(o) => match (o.outcome(), o.code()) {
                (Outcome::Failed, Some(c)) => format!("failed {c}"),
                (x, _) => x.as_str().to_string(),
            },
            None => "-".to_string(),
        }
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
    pub fn write_table(&self, out: &mut dyn Write, filter: &dyn Fn(&Stream) -> bool, explain: bool) -> io::Result<()> {
        let sym = &self.archive.symbols;
        let extra = if self.side.is_some() { format!(" {:<10} {}", "2015", "TRIAGE") } else { String::new() };
        writeln!(
            out,
            "{:>6} {:<36} {:<10} {:<10} {:<6} {:>6}{extra}",
            "STREAM", "INSTANCE", "DAY", "RESULT", "BY", "EVENTS"
        )?;
        let mut shown = 0usize;
        for s in self.streams.iter().filter(|s| filter(s)) {
            shown += 1;
            let result = match (s.outcome(), s.code()) {
                (Outcome::Failed, Some(c)) => format!("failed {c}"),
                (o, _) => o.as_str().to_string(),
            };
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
                for line in crate::text::wrap_whole(&crate::text::sanitize(&r.message), 72) {
                    writeln!(out, "       {line}")?;
                }
            }
            // The 2015 side's own message when it did not verify, and its warnings.
            if let Some(o) = self.counterpart(s) {
                let msg = o.result.as_ref().filter(|r| r.outcome != Outcome::Verified).map(|r| r.message.as_str());
                let lines = msg.map(|m| format!("2015: {m}")).into_iter();
                for text in lines.chain(warnings_of(o).iter().map(|w| format!("2015 warning: {w}"))) {
                    for line in crate::text::wrap(&crate::text::sanitize(&text), 72) {
                        writeln!(out, "       {line}")?;
                    }
                }
            }
            // Failures, errors, and verified days with an uncompared resize.
            if let Some(x) = explain.then(|| explain::explain_with(self.archive, s, self.streams)).flatten() {
                for line in x.to_text(72) {
                    writeln!(out, "       {line}")?;
                }
                writeln!(out)?;
            }
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
        writeln!(out, "{}", self.load_summary())?;
        for line in self.load_problems(80) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
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
