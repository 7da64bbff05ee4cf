//! What an operator pastes into a ticket besides the verdicts: the inputs one
//! by one, the unmatched and duplicate records themselves, the tenant of each
//! stream, the inputs that gave nothing, and why an audit could not run at all
//! (docs/outputs.md#exit-statuses).

use crate::archive::source::Layout;
use crate::archive::Archive;
use crate::event::{sym, MessageId, Origin, Sym, Value};
use crate::replay::Stream;
use crate::time::Timestamp;
use crate::trigger::Unmatched;
use serde::Serialize;

/// One input as loaded (`inputs` of the JSON report).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct InputRow {
    pub path: String,
    /// `jsonl` or `document`; `null` when nothing could be read.
    pub layout: Option<&'static str>,
    pub records: u64,
    pub events: u64,
    pub rejected: u64,
}

/// The inputs in load order with what each gave.
pub fn inputs(archive: &Archive) -> Vec<InputRow> {
    let events = archive.events_per_source();
    let mut rejected: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for r in &archive.rejected {
        *rejected.entry(r.file.as_str()).or_insert(0) += 1;
    }
    archive
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| InputRow {
            path: s.name.clone(),
            layout: s.layout.map(|l| match l {
                Layout::JsonLines => "jsonl",
                Layout::Document => "document",
            }),
            records: s.records,
            events: events.get(i).copied().unwrap_or(0),
            rejected: rejected.get(s.name.as_str()).copied().unwrap_or(0),
        })
        .collect()
}

/// A record named by what identifies it (`unmatched` and `duplicates` of the JSON report).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    pub message_id: String,
    pub event_type: String,
    pub timestamp: String,
    /// `file:line`, or `file:line[#index]` inside an array.
    pub source: String,
}

fn record_ref(archive: &Archive, id: MessageId, event_type: Sym, timestamp: Timestamp, origin: &Origin) -> RecordRef {
    RecordRef {
        message_id: id.text(&archive.symbols).into_owned(),
        event_type: archive.symbols.get(event_type).to_string(),
        timestamp: timestamp.iso(),
        source: archive.location(origin),
    }
}

/// The events no stream took, in replay order.
pub fn unmatched(archive: &Archive, unmatched: &[(u32, Unmatched)]) -> Vec<RecordRef> {
    unmatched
        .iter()
        .filter_map(|&(i, _)| archive.events.get(i as usize))
        .map(|e| record_ref(archive, e.message_id, e.event_type, e.timestamp, &e.origin))
        .collect()
}

/// The records dropped as duplicates, in archive order.
pub fn duplicates(archive: &Archive) -> Vec<RecordRef> {
    archive
        .duplicate_records
        .iter()
        .map(|d| record_ref(archive, d.message_id, d.event_type, d.timestamp, &d.origin))
        .collect()
}

/// A stream's tenant: the `.exists`' (the one the checks used, else the first
/// one in the stream), else the first event's that carries one.
pub fn stream_tenant(archive: &Archive, s: &Stream) -> Option<String> {
    let event = |i: &u32| archive.events.get(*i as usize);
    let tenant = |i: &u32| match event(i)?.get(sym::TENANT_ID)? {
        Value::Text(t) => Some(archive.symbols.get(t).to_string()),
        v => Some(v.py_str(&archive.symbols)),
    };
    let used = s.result.as_ref().and_then(|r| r.exists()).and_then(|x| s.events.get(x as usize));
    used.and_then(tenant)
        .or_else(|| s.events.iter().filter(|i| event(i).is_some_and(|e| e.event_type == sym::EXISTS)).find_map(tenant))
        .or_else(|| s.events.iter().find_map(tenant))
}

/// The inputs that gave nothing and the files a directory walk passed over,
/// one line each (`skipped PATH: …`, `empty PATH`, `no record in PATH`).
pub fn input_notes(archive: &Archive) -> Vec<String> {
    use crate::archive::Barren;
    use crate::text::sanitize;
    let mut notes: Vec<String> = archive
        .barren_inputs()
        .into_iter()
        .map(|(name, why)| match why {
            Barren::Empty => format!("empty input {}", sanitize(name)),
            Barren::NoRecord => format!("no record in {}", sanitize(name)),
        })
        .collect();
    let skipped = &archive.skipped;
    notes.extend(skipped.iter().take(20).map(|p| format!("skipped {} (not .json, .jsonl or .ndjson)", sanitize(p))));
    if skipped.len() > 20 {
        notes.push(format!("… {} more files skipped", skipped.len() - 20));
    }
    notes
}

/// The counts behind [`input_notes`] for a summary line: `", 2 files skipped, 1 input empty"`
/// (nothing when there are none).
pub fn input_counts(archive: &Archive) -> String {
    let barren = archive.barren_inputs().len();
    let mut s = String::new();
    if barren > 0 {
        s.push_str(&format!(", {barren} {} without records", if barren == 1 { "input" } else { "inputs" }));
    }
    if !archive.skipped.is_empty() {
        let n = archive.skipped.len();
        s.push_str(&format!(", {n} {} skipped", if n == 1 { "file" } else { "files" }));
    }
    if archive.filtered > 0 {
        s.push_str(&format!(", {} left out by --instance/--tenant", archive.filtered));
    }
    s
}

/// Why nothing could be audited, when no event was read from any input: one line.
pub fn nothing_to_audit(archive: &Archive) -> Option<String> {
    if !archive.events.is_empty() {
        return None;
    }
    if archive.filtered > 0 {
        return Some(format!(
            "nothing to audit: none of the {} events read matches --instance/--tenant",
            archive.filtered
        ));
    }
    let rows = inputs(archive);
    let mut causes: Vec<String> = rows
        .iter()
        .map(|r| {
            let why = if r.records == 0 {
                match archive.sources.iter().find(|s| s.name == r.path) {
                    Some(s) if s.bytes == 0 => "empty file".to_string(),
                    _ => "no record in it".to_string(),
                }
            } else if r.rejected == r.records {
                format!("{} of {} records rejected", r.rejected, r.records)
            } else {
                format!("{} records, none an event", r.records)
            };
            format!("{} ({why})", crate::text::sanitize(&r.path))
        })
        .collect();
    let more = causes.len().saturating_sub(3);
    causes.truncate(3);
    if more > 0 {
        causes.push(format!("and {more} more"));
    }
    let what = if rows.len() == 1 { "the input".to_string() } else { format!("any of the {} inputs", rows.len()) };
    Some(format!("nothing to audit: no event was read from {what}: {}", causes.join("; ")))
}

/// The records not distilled, by type, on one line (none when there are none).
pub fn not_distilled_line(archive: &Archive) -> Option<String> {
    if archive.not_distilled.is_empty() {
        return None;
    }
    let mut types: Vec<String> =
        archive.not_distilled.iter().take(20).map(|(t, n)| format!("{}:{n}", crate::text::sanitize(t))).collect();
    if archive.not_distilled.len() > 20 {
        types.push(format!("and {} more types", archive.not_distilled.len() - 20));
    }
    Some(format!("not distilled (type:records) {}", types.join(", ")))
}
