//! Merging the JSON reports of the parts of a split audit (`audit --shard K/N`)
//! into the report of one run (docs/scale.md#the-merge).

use crate::shard::Shard;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;
use serde_json::{Map, Value};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("{0}: not an audit report of a part (run `audit --shard K/N --format json`)")]
    NotAPart(String),
    #[error("{0}: not a JSON report ({1})")]
    NotJson(String, String),
    #[error("{0}: {1}")]
    Malformed(String, String),
    #[error("cannot write temporary files in {0}: {1}")]
    Temporary(String, String),
    #[error("{first} and {other} are parts of different splits ({what})")]
    Mismatch { first: String, other: String, what: String },
    #[error("part {part} is given twice ({first} and {second})")]
    Twice { part: Shard, first: String, second: String },
    #[error("part {0} is missing")]
    Missing(Shard),
    #[error("no report to merge")]
    Nothing,
}

/// One part's report, read once: its streams are copied one per line to an
/// unnamed file in the temporary directory and read back in order while
/// merging, so that a merge holds every part's creation keys and one row per
/// part, never every part's streams (docs/scale.md#the-merge).
pub struct PartReport {
    name: String,
    shard: Shard,
    /// Every member but `streams` and `shard`, in the report's order (only
    /// what the merge takes from it for a part other than 0).
    doc: Map<String, Value>,
    keys: Vec<Key>,
    other_keys: Vec<Key>,
    rows: io::Lines<BufReader<File>>,
}

/// Where a stream was created: `[timestamp, input, offset, position]`; the ISO
/// timestamps have a fixed width, so they compare as text.
type Key = (String, u64, u64, u64);

fn key(v: &Value) -> Key {
    let n = |i: usize| v.get(i).and_then(Value::as_u64).unwrap_or(0);
    (v.get(0).and_then(Value::as_str).unwrap_or("").to_string(), n(1), n(2), n(3))
}

impl PartReport {
    /// Read a part's report (any JSON layout) from `from`; `name` is used in
    /// errors only, the copy of its streams goes to `tmp`.
    pub fn read(name: &str, from: impl Read, tmp: &Path) -> Result<PartReport, MergeError> {
        let file =
            tempfile::tempfile_in(tmp).map_err(|e| MergeError::Temporary(tmp.display().to_string(), e.to_string()))?;
        let mut rows = BufWriter::new(file);
        let mut de = serde_json::Deserializer::from_reader(from);
        let read = de.deserialize_map(ReportVisitor { rows: &mut rows }).and_then(|doc| de.end().map(|()| doc));
        let mut doc = read.map_err(|e| match e.classify() {
            Category::Data => MergeError::NotAPart(name.into()),
            Category::Io => MergeError::Malformed(name.into(), e.to_string()),
            Category::Syntax | Category::Eof => MergeError::NotJson(
                name.into(),
                format!("{} at line {} column {}", crate::json::syntax_description(&e), e.line(), e.column()),
            ),
        })?;
        let shard = doc
            .get("shard")
            .and_then(|s| {
                Some(Shard { index: s.get("index")?.as_u64()? as u32, count: s.get("count")?.as_u64()? as u32 })
            })
            .filter(|s| s.index < s.count);
        let (Some(shard), Some(Value::Bool(true))) = (shard, doc.get(STREAMS_READ)) else {
            return Err(MergeError::NotAPart(name.into()));
        };
        doc.shift_remove(STREAMS_READ);
        let mut keys_of = |list: &str| -> Result<Vec<Key>, MergeError> {
            match doc.get_mut("shard").and_then(|s| s.get_mut(list)).map(Value::take) {
                None => Ok(Vec::new()),
                Some(Value::Array(keys)) => Ok(keys.iter().map(key).collect()),
                Some(_) => Err(MergeError::Malformed(name.into(), format!("shard.{list} is not a list"))),
            }
        };
        let keys = keys_of("streams")?;
        let other_keys = keys_of("other_streams")?;
        doc.shift_remove("shard");
        if shard.index != 0 {
            // Every part reads every record: only part 0's lists of the archive's problems are kept.
            let own = ["rules", "summary", "inputs", "unmatched", "duplicates", "other_unpaired"];
            doc.retain(|k, _| own.contains(&k.as_str()));
        }
        let mut file =
            rows.into_inner().map_err(|e| MergeError::Temporary(tmp.display().to_string(), e.to_string()))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| MergeError::Temporary(tmp.display().to_string(), e.to_string()))?;
        Ok(PartReport { name: name.into(), shard, doc, keys, other_keys, rows: BufReader::new(file).lines() })
    }

    /// The next of this part's streams, renumbered as one run numbers it.
    fn next_row(&mut self, ids: &[u64], other_ids: &[u64]) -> io::Result<Option<Value>> {
        let Some(line) = self.rows.next().transpose()? else { return Ok(None) };
        let mut row: Value = serde_json::from_str(&line).map_err(io::Error::other)?;
        renumber_row(&mut row, ids, other_ids);
        Ok(Some(row))
    }
}

/// A member the visitor adds when the report had a list of streams.
const STREAMS_READ: &str = "\u{0}streams";

/// Reads a report's members, copying the streams to `rows` as they come.
struct ReportVisitor<'a> {
    rows: &'a mut BufWriter<File>,
}

impl<'de> Visitor<'de> for ReportVisitor<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an audit report")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut doc = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if k == "streams" {
                map.next_value_seed(RowsSeed { rows: &mut *self.rows })?;
                doc.insert(STREAMS_READ.into(), Value::Bool(true));
            } else {
                let v: Value = map.next_value()?;
                doc.insert(k, v);
            }
        }
        Ok(doc)
    }
}

/// The list of streams, each written as one line of compact JSON.
struct RowsSeed<'a> {
    rows: &'a mut BufWriter<File>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of streams")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        while let Some(row) = seq.next_element::<Value>()? {
            serde_json::to_writer(&mut *self.rows, &row).map_err(A::Error::custom)?;
            self.rows.write_all(b"\n").map_err(A::Error::custom)?;
        }
        Ok(())
    }
}

/// Every part of one split, checked and numbered, ready to be written as one report.
pub struct Merge {
    parts: Vec<PartReport>,
    ids: Vec<Vec<u64>>,
    other_ids: Vec<Vec<u64>>,
}

impl Merge {
    /// Check that `parts` are every part of one split, and number their streams.
    pub fn new(mut parts: Vec<PartReport>) -> Result<Merge, MergeError> {
        parts.sort_by_key(|p| p.shard.index);
        let first = parts.first().ok_or(MergeError::Nothing)?;
        let count = first.shard.count;
        for w in parts.windows(2) {
            if w[0].shard == w[1].shard {
                return Err(MergeError::Twice {
                    part: w[0].shard,
                    first: w[0].name.clone(),
                    second: w[1].name.clone(),
                });
            }
        }
        for p in &parts[1..] {
            let same = |what: &str, a: &Value, b: &Value| {
                if a == b {
                    Ok(())
                } else {
                    Err(MergeError::Mismatch { first: first.name.clone(), other: p.name.clone(), what: what.into() })
                }
            };
            same("number of parts", &count.into(), &p.shard.count.into())?;
            same(
                "rule sets",
                first.doc.get("rules").unwrap_or(&Value::Null),
                p.doc.get("rules").unwrap_or(&Value::Null),
            )?;
            same("inputs", &input_paths(&first.doc), &input_paths(&p.doc))?;
        }
        for index in 0..count {
            if !parts.iter().any(|p| p.shard.index == index) {
                return Err(MergeError::Missing(Shard { index, count }));
            }
        }
        let ids = numbering(&mut parts, |p| &mut p.keys);
        let other_ids = numbering(&mut parts, |p| &mut p.other_keys);
        Ok(Merge { parts, ids, other_ids })
    }

    /// The merged summary: the parts' summaries added up.
    pub fn summary(&self) -> Value {
        self.parts.iter().filter_map(|p| p.doc.get("summary")).fold(Value::Null, add)
    }

    /// The exit status `audit` gives (docs/outputs.md#exit-statuses): side by side,
    /// any stream the rule sets do not both pass; else any stream failed or in error.
    pub fn exit_code(&self) -> i32 {
        let summary = self.summary();
        let failing = if self.parts[0].doc.get("rules").and_then(Value::as_str) == Some("both") {
            // docs/rules2015.md#streams-2014-does-not-have: the unpaired 2015 streams count too.
            let labels = ["by_triage", "other_unpaired"].into_iter().filter_map(|k| summary[k].as_object()).flatten();
            labels.filter(|(label, _)| *label != "agreed").filter_map(|(_, n)| n.as_u64()).sum::<u64>()
        } else {
            summary["failed"].as_u64().unwrap_or(0) + summary["error"].as_u64().unwrap_or(0)
        };
        i32::from(failing > 0)
    }

    /// Write the merged report in the layout `audit --format json` writes (one
    /// stream per line, the rest indented), so that the merge of a split and the
    /// audit of the whole archive are the same bytes (docs/scale.md#the-merge).
    pub fn write(mut self, out: &mut dyn Write) -> io::Result<()> {
        let text = |v: &Value| serde_json::to_string(v).map_err(io::Error::other);
        out.write_all(b"{\n")?;
        if let Some(rules) = self.parts[0].doc.get("rules") {
            writeln!(out, "  \"rules\": {},", text(rules)?)?;
        }
        out.write_all(b"  \"streams\": [")?;
        // Each part's streams are in its own id order, so in one run's order:
        // the next row is the smallest id at the head of a part.
        let mut heads: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let mut rows: Vec<Option<Value>> = Vec::with_capacity(self.parts.len());
        for k in 0..self.parts.len() {
            let row = self.next_row(k)?;
            if let Some(row) = &row {
                heads.push(Reverse((id_of(row), k)));
            }
            rows.push(row);
        }
        let mut first = true;
        while let Some(Reverse((id, k))) = heads.pop() {
            let Some(row) = rows[k].take() else { continue };
            out.write_all(if first { b"\n    " } else { b",\n    " })?;
            first = false;
            // docs/outputs.md#hostile-text: what serde_json leaves raw is escaped too.
            out.write_all(crate::text::escape_json(&text(&row)?).as_bytes())?;
            rows[k] = self.next_row(k)?;
            if let Some(next) = &rows[k] {
                if id_of(next) <= id {
                    let name = &self.parts[k].name;
                    return Err(io::Error::other(format!("{name}: its streams are not in the order of their ids")));
                }
                heads.push(Reverse((id_of(next), k)));
            }
        }
        out.write_all(if first { b"],\n" } else { b"\n  ],\n" })?;
        if self.parts[0].doc.contains_key("other_unpaired") {
            out.write_all(b"  \"other_unpaired\": [")?;
            let rows = self.unpaired()?;
            for (i, row) in rows.iter().enumerate() {
                out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
                out.write_all(crate::text::escape_json(&text(row)?).as_bytes())?;
            }
            out.write_all(if rows.is_empty() { b"],\n" } else { b"\n  ],\n" })?;
        }
        let parts = &self.parts;
        let mut tail = Map::new();
        for (key, value) in &parts[0].doc {
            let merged = match key.as_str() {
                "rules" | "other_unpaired" => continue,
                "summary" => self.summary(),
                "inputs" => inputs(parts),
                "unmatched" | "duplicates" => records(parts, key),
                _ => value.clone(),
            };
            tail.insert(key.clone(), merged);
        }
        let tail = serde_json::to_string_pretty(&Value::Object(tail)).map_err(io::Error::other)?;
        let tail = crate::text::escape_json(&tail);
        out.write_all(b"  ")?;
        out.write_all(tail.trim_start_matches('{').trim_start().as_bytes())?;
        writeln!(out)
    }

    /// docs/rules2015.md#streams-2014-does-not-have: the 2015 streams no 2014
    /// stream is paired with, of every part, numbered as the 2015 side. They are
    /// few (a pairing differs where the rule sets see different instances), so
    /// they are held in memory with the report's other lists.
    fn unpaired(&self) -> io::Result<Vec<Value>> {
        let mut unpaired: Vec<Value> = Vec::new();
        for (k, p) in self.parts.iter().enumerate() {
            let Some(rows) = p.doc.get("other_unpaired") else { continue };
            let rows =
                rows.as_array().ok_or_else(|| io::Error::other(format!("{}: other_unpaired is not a list", p.name)))?;
            let others = self.other_ids.get(k).map_or(&[][..], Vec::as_slice);
            for row in rows {
                let mut row = row.clone();
                renumber(&mut row, others);
                for note in row.pointer_mut("/explanation/notes").and_then(Value::as_array_mut).into_iter().flatten() {
                    renumber_siblings(note, others);
                }
                unpaired.push(row);
            }
        }
        unpaired.sort_by_key(id_of);
        Ok(unpaired)
    }

    fn next_row(&mut self, k: usize) -> io::Result<Option<Value>> {
        let others = self.other_ids.get(k).map_or(&[][..], Vec::as_slice);
        self.parts[k].next_row(&self.ids[k], others)
    }
}

fn id_of(row: &Value) -> u64 {
    row.get("stream_id").and_then(Value::as_u64).unwrap_or(0)
}

/// A row renumbered: its id, its counterpart's, and the ids its explanations name.
fn renumber_row(row: &mut Value, ids: &[u64], others: &[u64]) {
    renumber(row, ids);
    for (at, ids) in [("/explanation/notes", ids), ("/other/explanation/notes", others)] {
        for note in row.pointer_mut(at).and_then(Value::as_array_mut).into_iter().flatten() {
            renumber_siblings(note, ids);
        }
    }
    if let Some(other) = row.get_mut("other").filter(|o| o.is_object()) {
        renumber(other, others);
        // Why the rule sets part names the counterpart by its id (src/explain/y2015.rs).
        if let Some(why) = other.get_mut("why") {
            renumber_marked(why, COUNTERPART, others);
        }
    }
}

fn input_paths(doc: &Map<String, Value>) -> Value {
    match doc.get("inputs").and_then(Value::as_array) {
        Some(rows) => rows.iter().map(|r| r.get("path").cloned().unwrap_or(Value::Null)).collect(),
        None => Value::Null,
    }
}

/// docs/scale.md#why-a-part-reaches-the-same-verdicts: every part lists the
/// creation key of each of its streams (`shard.streams`, and
/// `shard.other_streams` for the other rule set side by side), in its own id
/// order; sorted together they give each stream its id in one run.
/// Returns, per part, the global id of each local id (index = local id - 1);
/// the keys are not needed after, and are freed.
fn numbering(parts: &mut [PartReport], keys: impl Fn(&mut PartReport) -> &mut Vec<Key>) -> Vec<Vec<u64>> {
    let mut all: Vec<(Key, usize, usize)> = Vec::new();
    for (k, p) in parts.iter_mut().enumerate() {
        all.extend(std::mem::take(keys(p)).into_iter().enumerate().map(|(i, key)| (key, k, i)));
    }
    all.sort();
    let mut ids: Vec<Vec<u64>> = parts.iter().map(|_| Vec::new()).collect();
    for (rank, (_, k, i)) in all.into_iter().enumerate() {
        let local = &mut ids[k];
        if local.len() <= i {
            local.resize(i + 1, 0);
        }
        local[i] = rank as u64 + 1;
    }
    ids
}

/// Give a row (or its `other`) the id its stream has in one run.
fn renumber(row: &mut Value, ids: &[u64]) {
    let local = row.get("stream_id").and_then(Value::as_u64).unwrap_or(0);
    if let Some(&id) = (local as usize).checked_sub(1).and_then(|i| ids.get(i)) {
        row["stream_id"] = id.into();
    }
}

/// The explanation's note that names a stream's siblings by id: siblings share
/// an instance, so they are in the same part and take that part's numbering.
fn renumber_siblings(note: &mut Value, ids: &[u64]) {
    let Some(text) = note.as_str() else { return };
    let Some(rest) = text.strip_prefix(crate::explain::SIBLINGS) else { return };
    let Some((list, tail)) = rest.split_once(')') else { return };
    let global: Option<Vec<String>> = list
        .split(", ")
        .map(|id| {
            let local: usize = id.parse().ok()?;
            Some(ids.get(local.checked_sub(1)?)?.to_string())
        })
        .collect();
    if let Some(global) = global {
        *note = format!("{}{}){tail}", crate::explain::SIBLINGS, global.join(", ")).into();
    }
}

/// How a sentence of the explanations names the other rule set's stream.
const COUNTERPART: &str = "counterpart #";

/// Renumber every `marker` followed by a local id in a text.
fn renumber_marked(text: &mut Value, marker: &str, ids: &[u64]) {
    let Some(t) = text.as_str() else { return };
    if !t.contains(marker) {
        return;
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(at) = rest.find(marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let global = after[..digits].parse::<usize>().ok().and_then(|local| ids.get(local.checked_sub(1)?));
        match global {
            Some(id) => out.push_str(&id.to_string()),
            None => out.push_str(&after[..digits]),
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    *text = out.into();
}

/// Summaries add up: every count in them (outcomes, codes, triage labels,
/// unmatched and duplicate records) is of the part's own streams and events.
fn add(acc: Value, v: &Value) -> Value {
    match (acc, v) {
        (Value::Null, v) => v.clone(),
        (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => (a + b).into(),
            _ => Value::Number(a),
        },
        (Value::Object(mut a), Value::Object(b)) => {
            // In place, so that the keys keep their order.
            for (k, bv) in b {
                match a.get_mut(k) {
                    Some(av) => *av = add(std::mem::take(av), bv),
                    None => {
                        a.insert(k.clone(), bv.clone());
                    }
                }
            }
            Value::Object(a)
        }
        (a, _) => a,
    }
}

/// Inputs as part 0 read them, with the events of every part added up.
fn inputs(parts: &[PartReport]) -> Value {
    let Some(rows) = parts[0].doc.get("inputs").and_then(Value::as_array) else {
        return Value::Null;
    };
    let rows = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut row = row.clone();
            let events: u64 = parts.iter().filter_map(|p| p.doc.get("inputs")?.get(i)?.get("events")?.as_u64()).sum();
            if let Value::Object(o) = &mut row {
                o.insert("events".into(), events.into());
            }
            row
        })
        .collect();
    Value::Array(rows)
}

/// Unmatched or duplicate records of every part, in replay order
/// (timestamp, then input, then line), or the sum when they are counts.
fn records(parts: &[PartReport], key: &str) -> Value {
    let all: Vec<&Value> = parts.iter().filter_map(|p| p.doc.get(key)).collect();
    if all.iter().all(|v| v.is_u64()) {
        return all.iter().filter_map(|v| v.as_u64()).sum::<u64>().into();
    }
    let paths: Vec<String> = match parts[0].doc.get("inputs").and_then(Value::as_array) {
        Some(rows) => rows.iter().map(|r| r.get("path").and_then(Value::as_str).unwrap_or("").to_string()).collect(),
        None => Vec::new(),
    };
    let mut rows: Vec<Value> = all.iter().filter_map(|v| v.as_array()).flatten().cloned().collect();
    let place = |r: &Value| -> (String, usize, u64) {
        let ts = r.get("timestamp").and_then(Value::as_str).unwrap_or("").to_string();
        let source = r.get("source").and_then(Value::as_str).unwrap_or("");
        let (file, line) = match source.rsplit_once(':') {
            Some((f, l)) => (f, l.split(['[', '#']).next().unwrap_or("").parse().unwrap_or(0)),
            None => (source, 0),
        };
        (ts, paths.iter().position(|p| p == file).unwrap_or(usize::MAX), line)
    };
    if key == "unmatched" {
        rows.sort_by_key(|r| place(r));
    } else {
        rows.sort_by_key(|r| {
            let (_, file, line) = place(r);
            (file, line)
        });
    }
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Merge reports given as JSON values, through the files a merge reads.
    fn merge(reports: Vec<(String, Value)>) -> Result<Value, MergeError> {
        let tmp = std::env::temp_dir();
        let read = |(name, doc): (String, Value)| {
            PartReport::read(&name, serde_json::to_vec(&doc).expect("JSON").as_slice(), &tmp)
        };
        let merge = Merge::new(reports.into_iter().map(read).collect::<Result<Vec<_>, _>>()?)?;
        let mut out = Vec::new();
        merge.write(&mut out).expect("written");
        Ok(serde_json::from_slice(&out).expect("a merged report is JSON"))
    }

    fn report(k: u32, n: u32, streams: Value, keys: Value) -> (String, Value) {
        let doc = json!({
            "shard": {"index": k, "count": n, "streams": keys},
            "streams": streams,
            "summary": {"verified": 1, "failed": k, "error": 0, "pending": 0,
                        "by_code": {"U0": k, "U2": 1 - k}, "unmatched": k, "duplicates": 1},
            "unmatched": [], "duplicates": [], "not_distilled": 3,
        });
        (format!("part-{k}.json"), doc)
    }

    fn empty(k: u32, n: u32) -> (String, Value) {
        report(k, n, json!([]), json!([]))
    }

    #[test]
    fn streams_are_numbered_as_one_run_numbers_them() {
        // Part 0 has streams 1 and 2 of its own, part 1 one stream created between them.
        // Part 0's report is filtered: only its second stream is listed.
        let a = report(
            0,
            2,
            json!([{"stream_id": 2, "outcome": "failed", "code": "U2"}]),
            json!([["2014-10-06T01:00:00.000000Z", 0, 10, 0], ["2014-10-06T03:00:00.000000Z", 0, 5, 0]]),
        );
        let b = report(
            1,
            2,
            json!([{"stream_id": 1, "outcome": "failed", "code": "U0"}]),
            json!([["2014-10-06T01:00:00.000000Z", 0, 20, 0]]),
        );
        let m = merge(vec![b, a]).unwrap();
        let ids: Vec<(u64, &str)> = m["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["stream_id"].as_u64().unwrap(), s["code"].as_str().unwrap()))
            .collect();
        assert_eq!(ids, [(2, "U0"), (3, "U2")]);
        assert!(m.get("shard").is_none());
        assert_eq!(m["summary"]["verified"], 2);
        assert_eq!(m["summary"]["failed"], 1);
        assert_eq!(m["summary"]["by_code"], json!({"U0": 1, "U2": 1}));
        assert_eq!(m["summary"]["unmatched"], 1);
        assert_eq!(m["summary"]["duplicates"], 2);
        assert_eq!(m["not_distilled"], 3);
    }

    #[test]
    fn refuses_incomplete_or_mixed_splits() {
        let e = merge(vec![empty(0, 3), empty(2, 3)]).unwrap_err();
        assert_eq!(e.to_string(), "part 1/3 is missing");
        let e = merge(vec![empty(0, 2), empty(0, 2)]).unwrap_err();
        assert!(e.to_string().contains("given twice"));
        let e = merge(vec![empty(0, 2), empty(1, 3)]).unwrap_err();
        assert!(e.to_string().contains("number of parts"), "{e}");
        let e = merge(vec![("plain.json".into(), json!({"streams": []}))]).unwrap_err();
        assert!(matches!(e, MergeError::NotAPart(_)));
        assert_eq!(merge(vec![]).unwrap_err(), MergeError::Nothing);
    }
}
