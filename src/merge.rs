//! Splitting an audit by instance (`audit --shard K/N`) and merging the
//! parts' JSON reports into the report of one run (docs/scale.md).

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::fmt;

/// One part of a split: the events whose instance hashes to `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// `K/N` with 0 ≤ K < N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("{s:?} is not K/N (e.g. 0/4)"))?;
        let index: u32 = k.trim().parse().map_err(|_| format!("{k:?} is not a part number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a number of parts"))?;
        if count == 0 || index >= count {
            return Err(format!("part {index} of {count} does not exist: K counts from 0 to N-1"));
        }
        Ok(Shard { index, count })
    }

    /// docs/scale.md#the-split: the part of an instance id; events without one belong to part 0.
    pub fn part_of(count: u32, instance_id: Option<&str>) -> u32 {
        match instance_id {
            None => 0,
            Some(id) => (fnv1a64(id.as_bytes()) % u64::from(count)) as u32,
        }
    }

    pub fn keeps(self, instance_id: Option<&str>) -> bool {
        Shard::part_of(self.count, instance_id) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: fixed forever, so that parts made by different versions agree.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

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

    let mut streams: Vec<Value> = Vec::new();
    for p in &parts {
        streams.extend(array(&p.doc, "streams", &p.name)?.iter().cloned());
    }
    renumber(&mut streams, &parts[0].name)?;
    let summary = summary(&parts, &streams);
    let head = &parts[0].doc;
    let mut out = Map::new();
    for (key, value) in head {
        let merged = match key.as_str() {
            "shard" => continue,
            "streams" => Value::Array(std::mem::take(&mut streams)),
            "summary" => summary.clone(),
            "inputs" => inputs(&parts),
            "unmatched" | "duplicates" => records(&parts, key),
            _ => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    Ok(Value::Object(out))
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

/// docs/scale.md#why-a-part-reaches-the-same-verdicts: streams are numbered
/// by the replay position of the event that created them, on each side of a
/// side-by-side report.
fn renumber(streams: &mut [Value], name: &str) -> Result<(), MergeError> {
    let keys: Vec<Value> = streams.iter().map(|s| s.get("shard_key").cloned().unwrap_or(Value::Null)).collect();
    if keys.iter().any(Value::is_null) {
        return Err(MergeError::Malformed(name.into(), "a stream has no shard_key".into()));
    }
    let mut order: Vec<usize> = (0..streams.len()).collect();
    order.sort_by(|&a, &b| cmp_key(&keys[a], &keys[b]));
    let mut id = vec![0u64; streams.len()];
    for (rank, &i) in order.iter().enumerate() {
        id[i] = rank as u64 + 1;
    }
    // The other rule set's streams, numbered among themselves.
    let mut others: Vec<(usize, Value)> = streams
        .iter()
        .enumerate()
        .filter_map(|(i, s)| Some((i, s.get("other")?.get("shard_key")?.clone())))
        .collect();
    others.sort_by(|a, b| cmp_key(&a.1, &b.1));
    for (rank, (i, _)) in others.iter().enumerate() {
        if let Some(Value::Object(o)) = streams[*i].get_mut("other") {
            o.insert("stream_id".into(), (rank as u64 + 1).into());
            o.remove("shard_key");
        }
    }
    for (s, id) in streams.iter_mut().zip(&id) {
        if let Value::Object(o) = s {
            o.insert("stream_id".into(), (*id).into());
            o.remove("shard_key");
        }
    }
    streams.sort_by_key(|s| s.get("stream_id").and_then(Value::as_u64));
    Ok(())
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

/// The summary counted again from the merged streams; the counts of records
/// each part kept to itself are added up, the others are part 0's.
fn summary(parts: &[Part], streams: &[Value]) -> Value {
    let mut out = parts[0].doc.get("summary").and_then(Value::as_object).cloned().unwrap_or_default();
    for key in ["verified", "failed", "error", "pending"] {
        let n = streams.iter().filter(|s| s.get("outcome").and_then(Value::as_str) == Some(key)).count();
        out.insert(key.into(), n.into());
    }
    for (key, field) in [("by_code", "code"), ("by_triage", "triage")] {
        if let Some(Value::Object(counts)) = out.get_mut(key) {
            for v in counts.values_mut() {
                *v = 0.into();
            }
            for s in streams {
                if let Some(label) = s.get(field).and_then(Value::as_str) {
                    let n = counts.get(label).and_then(Value::as_u64).unwrap_or(0);
                    counts.insert(label.into(), (n + 1).into());
                }
            }
        }
    }
    for key in ["unmatched", "duplicates"] {
        if out.contains_key(key) {
            let total: u64 =
                parts.iter().filter_map(|p| p.doc.get("summary")?.get(key)?.as_u64()).sum();
            out.insert(key.into(), total.into());
        }
    }
    Value::Object(out)
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
            let events: u64 =
                parts.iter().filter_map(|p| p.doc.get("inputs")?.get(i)?.get("events")?.as_u64()).sum();
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

    #[test]
    fn shard_parse() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("does not exist"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").unwrap_err().contains("K/N"));
    }

    #[test]
    fn fnv_is_the_published_function() {
        // Test vectors of the FNV reference implementation.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn no_instance_is_part_zero() {
        assert_eq!(Shard::part_of(7, None), 0);
        assert!((0..7).contains(&Shard::part_of(7, Some("x"))));
    }

    fn report(k: u32, n: u32, streams: Value) -> (String, Value) {
        let doc = json!({
            "shard": {"index": k, "count": n},
            "streams": streams,
            "summary": {"verified": 9, "failed": 9, "error": 0, "pending": 0,
                        "by_code": {"U0": 0, "U2": 0}, "unmatched": k, "duplicates": 1},
            "unmatched": [], "duplicates": [], "not_distilled": 3,
        });
        (format!("part-{k}.json"), doc)
    }

    #[test]
    fn streams_are_renumbered_by_creation() {
        let a = report(
            0,
            2,
            json!([
                {"stream_id": 1, "outcome": "verified", "code": null, "shard_key": ["2014-10-06T01:00:00.000000Z", 0, 10, 0]},
                {"stream_id": 2, "outcome": "failed", "code": "U2", "shard_key": ["2014-10-06T03:00:00.000000Z", 0, 5, 0]},
            ]),
        );
        let b = report(
            1,
            2,
            json!([{"stream_id": 1, "outcome": "failed", "code": "U0", "shard_key": ["2014-10-06T01:00:00.000000Z", 0, 20, 0]}]),
        );
        let m = merge(vec![b, a]).unwrap();
        let ids: Vec<(u64, &str)> = m["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["stream_id"].as_u64().unwrap(), s["outcome"].as_str().unwrap()))
            .collect();
        assert_eq!(ids, [(1, "verified"), (2, "failed"), (3, "failed")]);
        assert_eq!(m["streams"][1]["code"], "U0");
        assert!(m["streams"][0].get("shard_key").is_none());
        assert!(m.get("shard").is_none());
        assert_eq!(m["summary"]["verified"], 1);
        assert_eq!(m["summary"]["failed"], 2);
        assert_eq!(m["summary"]["by_code"], json!({"U0": 1, "U2": 1}));
        assert_eq!(m["summary"]["unmatched"], 1);
        assert_eq!(m["summary"]["duplicates"], 2);
        assert_eq!(m["not_distilled"], 3);
    }

    #[test]
    fn refuses_incomplete_or_mixed_splits() {
        let e = merge(vec![report(0, 3, json!([])), report(2, 3, json!([]))]).unwrap_err();
        assert_eq!(e.to_string(), "part 1/3 is missing");
        let e = merge(vec![report(0, 2, json!([])), report(0, 2, json!([]))]).unwrap_err();
        assert!(e.to_string().contains("given twice"));
        let e = merge(vec![report(0, 2, json!([])), report(1, 3, json!([]))]).unwrap_err();
        assert!(e.to_string().contains("number of parts"), "{e}");
        let e = merge(vec![("plain.json".into(), json!({"streams": []}))]).unwrap_err();
        assert!(matches!(e, MergeError::NotAPart(_)));
        assert_eq!(merge(vec![]).unwrap_err(), MergeError::Nothing);
    }
}
