//! Merging the JSON reports of the parts of a split audit (`audit --shard K/N`)
//! into the report of one run (docs/scale.md#the-merge).

use crate::shard::Shard;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::io::{self, Write};

/// Why reports cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("{0}: not an audit report of a part (run `audit --shard K/N --format json`)")]
    NotAPart(String),
    #[error("{0}: {1}")]
    Malformed(String, String),
    #[error("{first} and {other} are parts of different splits ({what})")]
    Mismatch { first: String, other: String, what: String },
    #[error("part {part} is given twice ({first} and {second})")]
    Twice { part: Shard, first: String, second: String },
    #[error("part {0} is missing")]
    Missing(Shard),
    #[error("no report to merge")]
    Nothing,
}

struct Part {
    name: String,
    shard: Shard,
    doc: Map<String, Value>,
}

/// Merge the JSON reports of every part of one split into one report.
/// `reports` are `(name, parsed JSON)`; the name is used in errors only.
pub fn merge(reports: Vec<(String, Value)>) -> Result<Value, MergeError> {
    let mut parts = reports.into_iter().map(part).collect::<Result<Vec<Part>, MergeError>>()?;
    parts.sort_by_key(|p| p.shard.index);
    let first = parts.first().ok_or(MergeError::Nothing)?;
    let count = first.shard.count;
    for w in parts.windows(2) {
        if w[0].shard == w[1].shard {
            return Err(MergeError::Twice { part: w[0].shard, first: w[0].name.clone(), second: w[1].name.clone() });
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
        same("rule sets", first.doc.get("rules").unwrap_or(&Value::Null), p.doc.get("rules").unwrap_or(&Value::Null))?;
        same("inputs", &input_paths(&first.doc), &input_paths(&p.doc))?;
    }
    for index in 0..count {
        if !parts.iter().any(|p| p.shard.index == index) {
            return Err(MergeError::Missing(Shard { index, count }));
        }
    }

    let ids = numbering(&parts, "streams")?;
    let other_ids = numbering(&parts, "other_streams")?;
    let mut streams: Vec<Value> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        for row in array(&p.doc, "streams", &p.name)? {
            let mut row = row.clone();
            renumber(&mut row, &ids[k]);
            let others = other_ids.get(k).map_or(&[][..], Vec::as_slice);
            for (at, ids) in [("/explanation/notes", &ids[k][..]), ("/other/explanation/notes", others)] {
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
            streams.push(row);
        }
    }
    streams.sort_by_key(|s| s.get("stream_id").and_then(Value::as_u64));
    // docs/rules2015.md#streams-2014-does-not-have: 2015 streams, numbered as the 2015 side.
    let mut unpaired: Vec<Value> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let Some(rows) = p.doc.get("other_unpaired") else { continue };
        let rows = rows.as_array().ok_or_else(|| MergeError::Malformed(p.name.clone(), "other_unpaired".into()))?;
        let others = other_ids.get(k).map_or(&[][..], Vec::as_slice);
        for row in rows {
            let mut row = row.clone();
            renumber(&mut row, others);
            for note in row.pointer_mut("/explanation/notes").and_then(Value::as_array_mut).into_iter().flatten() {
                renumber_siblings(note, others);
            }
            unpaired.push(row);
        }
    }
    unpaired.sort_by_key(|s| s.get("stream_id").and_then(Value::as_u64));
    let head = &parts[0].doc;
    let mut out = Map::new();
    for (key, value) in head {
        let merged = match key.as_str() {
            "shard" => continue,
            "streams" => Value::Array(std::mem::take(&mut streams)),
            "other_unpaired" => Value::Array(std::mem::take(&mut unpaired)),
            "summary" => parts.iter().filter_map(|p| p.doc.get("summary")).fold(Value::Null, add),
            "inputs" => inputs(&parts),
            "unmatched" | "duplicates" => records(&parts, key),
            _ => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    Ok(Value::Object(out))
}

/// Write a merged report in the layout `audit --format json` writes (one
/// stream per line, the rest indented), so that the merge of a split and the
/// audit of the whole archive are the same bytes (docs/scale.md#the-merge).
pub fn write(out: &mut dyn Write, report: &Value) -> io::Result<()> {
    let Value::Object(doc) = report else {
        return Err(io::Error::other("a report is a JSON object"));
    };
    let text = |v: &Value| serde_json::to_string(v).map_err(io::Error::other);
    out.write_all(b"{\n")?;
    if let Some(rules) = doc.get("rules") {
        writeln!(out, "  \"rules\": {},", text(rules)?)?;
    }
    for key in ["streams", "other_unpaired"] {
        let Some(rows) = doc.get(key) else { continue };
        write!(out, "  \"{key}\": [")?;
        let rows = rows.as_array().map_or(&[][..], Vec::as_slice);
        for (i, row) in rows.iter().enumerate() {
            out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            // docs/outputs.md#hostile-text: what serde_json leaves raw is escaped too.
            out.write_all(crate::text::escape_json(&text(row)?).as_bytes())?;
        }
        out.write_all(if rows.is_empty() { b"],\n" } else { b"\n  ],\n" })?;
    }
    let tail: Map<String, Value> = doc
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "rules" | "shard" | "streams" | "other_unpaired"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tail = serde_json::to_string_pretty(&Value::Object(tail)).map_err(io::Error::other)?;
    let tail = crate::text::escape_json(&tail);
    out.write_all(b"  ")?;
    out.write_all(tail.trim_start_matches('{').trim_start().as_bytes())?;
    writeln!(out)
}

fn part((name, v): (String, Value)) -> Result<Part, MergeError> {
    let Value::Object(doc) = v else {
        return Err(MergeError::NotAPart(name));
    };
    let shard = doc
        .get("shard")
        .and_then(|s| Some(Shard { index: s.get("index")?.as_u64()? as u32, count: s.get("count")?.as_u64()? as u32 }))
        .filter(|s| s.index < s.count);
    match shard {
        Some(shard) if doc.get("streams").is_some_and(Value::is_array) => Ok(Part { name, shard, doc }),
        _ => Err(MergeError::NotAPart(name)),
    }
}

fn array<'a>(doc: &'a Map<String, Value>, key: &str, name: &str) -> Result<&'a Vec<Value>, MergeError> {
    doc.get(key).and_then(Value::as_array).ok_or_else(|| MergeError::Malformed(name.into(), format!("no {key} list")))
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
/// Returns, per part, the global id of each local id (index = local id - 1).
fn numbering(parts: &[Part], list: &str) -> Result<Vec<Vec<u64>>, MergeError> {
    let mut all: Vec<(&Value, usize, usize)> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let Some(keys) = p.doc.get("shard").and_then(|s| s.get(list)) else {
            continue;
        };
        let keys = keys
            .as_array()
            .ok_or_else(|| MergeError::Malformed(p.name.clone(), format!("shard.{list} is not a list")))?;
        all.extend(keys.iter().enumerate().map(|(i, key)| (key, k, i)));
    }
    all.sort_by(|a, b| cmp_key(a.0, b.0));
    let mut ids: Vec<Vec<u64>> = parts.iter().map(|_| Vec::new()).collect();
    for (rank, &(_, k, i)) in all.iter().enumerate() {
        let local = &mut ids[k];
        if local.len() <= i {
            local.resize(i + 1, 0);
        }
        local[i] = rank as u64 + 1;
    }
    Ok(ids)
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

/// Keys are `[timestamp, input, offset, position]`: the ISO timestamps have a
/// fixed width, so they compare as text.
fn cmp_key(a: &Value, b: &Value) -> Ordering {
    let parts = |v: &Value| -> (String, u64, u64, u64) {
        let n = |i: usize| v.get(i).and_then(Value::as_u64).unwrap_or(0);
        (v.get(0).and_then(Value::as_str).unwrap_or("").to_string(), n(1), n(2), n(3))
    };
    parts(a).cmp(&parts(b))
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
fn inputs(parts: &[Part]) -> Value {
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
fn records(parts: &[Part], key: &str) -> Value {
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
