//! Conformance: on each archive of tests/data/conformance/ the binary reaches the
//! verdicts the original code reached, stream by stream, compared exactly as
//! that set's compare.py compares them; and `events` on the raw archive is,
//! byte for byte, what the original distiller made of it. The 2015 set
//! (tests/data/conformance/rules2015/) is compared as its compare.py and
//! compare_emit.py compare it: results, warnings, triage and output events too.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance").join(name)
}

fn gunzip(name: &str) -> Vec<u8> {
    let path = data(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(file).read_to_end(&mut out).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

/// Run the binary on one archive of the set; it reads gzip by its magic bytes.
fn run(args: &[&str], archive: &str) -> Vec<u8> {
    let out = Command::cargo_bin("usage-replay")
        .expect("the binary is built")
        .timeout(std::time::Duration::from_secs(300))
        .args(args)
        .arg(data(archive))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} {archive}: {stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?} {archive}: exit {:?}: {stderr}", out.status);
    out.stdout
}

/// Python's `dict.get`: a missing key and `null` are both `None`.
fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

const FIELDS: [&str; 8] = ["instance_id", "day", "state", "trigger", "outcome", "code", "event_count", "message"];
const RESULT_KEYS: [&str; 4] = ["exists_message_id", "outcome", "code", "message"];
const OTHER_KEYS: [&str; 5] = ["rules", "stream_id", "outcome", "code", "warnings"];
const TRIAGE_LABELS: [&str; 5] = ["confirmed", "2014-only", "2015-only", "agreed", "error"];

/// compare.py `_results`: each result on its four keys.
fn results(v: &Value) -> Value {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|r| match r {
                Value::Object(_) => RESULT_KEYS.iter().map(|k| (k.to_string(), get(r, k).clone())).collect(),
                other => other.clone(),
            })
            .collect(),
        other => other.clone(),
    }
}

/// compare.py `_other`: the keys of `other` that differ.
fn other_diffs(o: &Value, p: &Value) -> Vec<String> {
    if !o.is_object() || !p.is_object() {
        return if o == p { Vec::new() } else { vec!["other".into()] };
    }
    let mut keys: Vec<&str> = OTHER_KEYS.to_vec();
    if get(o, "outcome") == "failed" {
        keys.push("message");
    }
    keys.into_iter().filter(|k| get(o, k) != get(p, k)).map(|k| format!("other.{k}")).collect()
}

/// compare.py `_triage_counts`: the five labels, zero when absent.
fn triage_counts(doc: &Value) -> Option<BTreeMap<String, Value>> {
    let summary = get(doc, "summary");
    let counts = summary.get("by_triage").or_else(|| summary.get("triage"))?.as_object()?;
    let mut out: BTreeMap<String, Value> = TRIAGE_LABELS.iter().map(|l| (l.to_string(), Value::from(0))).collect();
    for (k, v) in counts {
        out.insert(k.clone(), v.clone());
    }
    Some(out)
}

/// compare.py: the problems found and the number of streams that agree.
fn compare(expected: &Value, project: &Value) -> (Vec<String>, usize, usize) {
    let by_id = |doc: &Value| -> BTreeMap<u64, Value> {
        doc["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .map(|s| (s["stream_id"].as_u64().expect("a stream id"), s.clone()))
            .collect()
    };
    let (e, p) = (by_id(expected), by_id(project));
    let ids: std::collections::BTreeSet<u64> = e.keys().chain(p.keys()).copied().collect();
    let mut problems = Vec::new();
    let rules = expected.get("rules").and_then(Value::as_str).unwrap_or("2014");
    if project.get("rules").and_then(Value::as_str).unwrap_or("2014") != rules {
        problems.push(format!("rules expected={rules} project={}", get(project, "rules")));
    }
    let extra: &[&str] = match rules {
        "2015" => &["results", "warnings"],
        "both" => &["triage", "other"],
        _ => &[],
    };
    let mut agree = 0;
    for id in &ids {
        let (Some(o), Some(q)) = (e.get(id), p.get(id)) else {
            problems.push(format!("stream {id}: only in {}", if p.contains_key(id) { "project" } else { "expected" }));
            continue;
        };
        let mut diffs = Vec::new();
        for f in FIELDS {
            // message is exact for failed streams only: an error's text is the original's crash.
            if f == "message" && get(o, "outcome") != "failed" {
                continue;
            }
            if get(o, f) != get(q, f) {
                diffs.push(format!("{f} expected={} project={}", get(o, f), get(q, f)));
            }
        }
        for &f in extra {
            let bad = match f {
                "other" => other_diffs(get(o, f), get(q, f)).join(","),
                "results" if results(get(o, f)) != results(get(q, f)) => f.to_string(),
                "results" => String::new(),
                _ if get(o, f) != get(q, f) => f.to_string(),
                _ => String::new(),
            };
            if !bad.is_empty() {
                diffs.push(format!("{bad} expected={} project={}", get(o, f), get(q, f)));
            }
        }
        if diffs.is_empty() {
            agree += 1;
        } else {
            problems.push(format!("stream {id} ({} {}): {}", get(o, "instance_id"), get(o, "day"), diffs.join("; ")));
        }
    }
    for k in ["verified", "failed", "error", "pending"] {
        let (a, b) = (get(get(expected, "summary"), k), get(get(project, "summary"), k));
        if a != b {
            problems.push(format!("summary {k} expected={a} project={b}"));
        }
    }
    if let Some(want) = triage_counts(expected) {
        let got = triage_counts(project);
        if got.as_ref() != Some(&want) {
            problems.push(format!("triage counts expected={want:?} project={got:?}"));
        }
    }
    // The expected files count the not-distilled records among the rejected ones.
    let rejected = match get(project, "rejected") {
        Value::Array(a) => a.len() as u64,
        v => v.as_u64().unwrap_or(0),
    } + get(project, "not_distilled").as_u64().unwrap_or(0);
    // The report lists the unmatched and duplicate records; the expected files count them.
    let count = |v: &Value| match v {
        Value::Array(a) => Value::from(a.len() as u64),
        v => v.clone(),
    };
    let counts = [
        ("unmatched", count(get(project, "unmatched"))),
        ("rejected", Value::from(rejected)),
        ("duplicates", count(get(project, "duplicates"))),
    ];
    for (k, got) in counts {
        if get(expected, k) != &got {
            problems.push(format!("{k} expected={} project={got}", get(expected, k)));
        }
    }
    (problems, agree, ids.len())
}

fn conforms(archive: &str, extra: &[&str], expected: &str) {
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(extra);
    let project: Value = serde_json::from_slice(&run(&args, archive)).expect("audit JSON");
    let expected: Value = serde_json::from_slice(&gunzip(expected)).expect("expected JSON");
    let (problems, agree, total) = compare(&expected, &project);
    assert!(total > 0, "{archive}: no streams at all");
    assert!(
        problems.is_empty(),
        "{archive} {extra:?}: agree {agree}/{total} streams\n{}",
        problems.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// compare_emit.py `typed`: JSON values compare with their types (7, 7.0 and "7" differ).
fn typed_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.is_f64() == y.is_f64() && x.as_f64() == y.as_f64() && x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| typed_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| typed_eq(v, w)))
        }
        _ => a == b,
    }
}

/// compare_emit.py `is_uuid`: a UUID written the canonical way.
fn is_uuid(v: &Value) -> bool {
    v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok().map(|u| u.to_string() == s.to_lowercase())).unwrap_or(false)
}

/// compare_emit.py: output events grouped by stream (in order of appearance),
/// the same count per stream, the same keys and typed values; a null expected
/// message id accepts any UUID. The problems, and the streams that agree.
fn compare_emit(expected: &[Value], project: &[Value]) -> (Vec<String>, usize, usize) {
    let group = |evs: &[Value]| {
        let mut order: Vec<String> = Vec::new();
        let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for e in evs {
            let key = get(e, "stream_id").to_string();
            if !by.contains_key(&key) {
                order.push(key.clone());
            }
            by.entry(key).or_default().push(e.clone());
        }
        (order, by)
    };
    let (oorder, oby) = group(expected);
    let (porder, pby) = group(project);
    let mut problems = Vec::new();
    let mut agree = 0;
    let mut keys = oorder.clone();
    keys.extend(porder.iter().filter(|k| !oby.contains_key(*k)).cloned());
    for key in &keys {
        let (Some(o), Some(p)) = (oby.get(key), pby.get(key)) else {
            problems.push(format!("stream {key}: output events only in one side"));
            continue;
        };
        let mut bad = Vec::new();
        if o.len() != p.len() {
            bad.push(format!("{} events expected, {} in the project", o.len(), p.len()));
        } else {
            for (i, (a, b)) in o.iter().zip(p).enumerate() {
                let (ao, bo) = (a.as_object().expect("an object"), b.as_object().expect("an object"));
                let names: std::collections::BTreeSet<&String> = ao.keys().chain(bo.keys()).collect();
                for k in names {
                    let ok = match (ao.get(k), bo.get(k)) {
                        (Some(Value::Null), Some(v)) if k == "message_id" => is_uuid(v),
                        (Some(x), Some(y)) => typed_eq(x, y),
                        _ => false,
                    };
                    if !ok {
                        bad.push(format!("event {} {k}: expected={:?} project={:?}", i + 1, ao.get(k), bo.get(k)));
                    }
                }
            }
        }
        if bad.is_empty() {
            agree += 1;
        } else {
            problems.push(format!("stream {key}: {}", bad.join(" | ")));
        }
    }
    // The order in which the streams' events appear must be the same too.
    let common = |order: &[String], other: &BTreeMap<String, Vec<Value>>| -> Vec<String> {
        order.iter().filter(|k| other.contains_key(*k)).cloned().collect()
    };
    if common(&oorder, &pby) != common(&porder, &oby) {
        problems.push("the streams' output events come in another order".into());
    }
    (problems, agree, keys.len())
}

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn emit_conforms(archive: &str, expected: &str) {
    let project = json_lines(&run(&["emit", "--rules", "2015"], archive));
    let expected = json_lines(&gunzip(expected));
    let (problems, agree, total) = compare_emit(&expected, &project);
    assert!(total > 0, "{archive}: no output events at all");
    assert!(
        problems.is_empty(),
        "{archive} emit: agree {agree}/{total} streams' output events\n{}",
        problems.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn raw_2015_under_the_2015_rules() {
    conforms("rules2015/raw-2015.jsonl.gz", &["--rules", "2015"], "rules2015/raw-2015.rules2015.expected.json.gz");
}

#[test]
fn raw_2015_side_by_side() {
    conforms("rules2015/raw-2015.jsonl.gz", &["--rules", "both"], "rules2015/raw-2015.both.expected.json.gz");
}

#[test]
fn raw_2015_emit_under_the_2015_rules() {
    emit_conforms("rules2015/raw-2015.jsonl.gz", "rules2015/raw-2015.rules2015.emit.expected.jsonl.gz");
}

#[test]
fn notigen_day_under_the_2015_rules() {
    conforms(
        "rules2015/notigen-day.jsonl.gz",
        &["--rules", "2015"],
        "rules2015/notigen-day.rules2015.expected.json.gz",
    );
}

#[test]
fn notigen_day_side_by_side() {
    conforms("rules2015/notigen-day.jsonl.gz", &["--rules", "both"], "rules2015/notigen-day.both.expected.json.gz");
}

#[test]
fn notigen_day_emit_under_the_2015_rules() {
    emit_conforms("rules2015/notigen-day.jsonl.gz", "rules2015/notigen-day.rules2015.emit.expected.jsonl.gz");
}

/// The 2015 comparisons catch a changed result, warning, triage label and output event.
#[test]
fn the_2015_comparisons_catch_differences() {
    let expected: Value =
        serde_json::from_slice(&gunzip("rules2015/raw-2015.both.expected.json.gz")).expect("expected JSON");
    assert!(compare(&expected, &expected).0.is_empty());
    let mut changed = expected.clone();
    let s = changed["streams"].as_array_mut().expect("streams").iter_mut().find(|s| s["triage"] == "2014-only");
    s.expect("a 2014-only stream")["triage"] = "agreed".into();
    assert_eq!(compare(&expected, &changed).0.len(), 1, "a changed label");
    changed["summary"]["by_triage"]["agreed"] = 0.into();
    assert_eq!(compare(&expected, &changed).0.len(), 2, "and changed counts");
    let expected: Value =
        serde_json::from_slice(&gunzip("rules2015/raw-2015.rules2015.expected.json.gz")).expect("expected JSON");
    let mut changed = expected.clone();
    let s =
        changed["streams"].as_array_mut().expect("streams").iter_mut().find(|s| s["warnings"] != Value::Array(vec![]));
    s.expect("a stream with warnings")["warnings"] = Value::Array(vec![]);
    assert_eq!(compare(&expected, &changed).0.len(), 1);
    let emitted = json_lines(&gunzip("rules2015/raw-2015.rules2015.emit.expected.jsonl.gz"));
    // Where the original drew a random id the expected file has null: any UUID does.
    let mut project = emitted.clone();
    for e in project.iter_mut().filter(|e| e["message_id"].is_null()) {
        e["message_id"] = uuid::Uuid::new_v4().to_string().into();
    }
    assert!(compare_emit(&emitted, &project).0.is_empty());
    let mut changed = project.clone();
    let e = changed.iter_mut().find(|e| e["event_type"] == "compute.instance.exists.verified").expect("a result");
    e["bandwidth_in"] = Value::from(0.0);
    assert_eq!(compare_emit(&emitted, &changed).0.len(), 1);
}

#[test]
fn distilled_edge() {
    conforms("distilled-edge.jsonl.gz", &[], "distilled-edge.expected.json.gz");
}

#[test]
fn distilled_edge_no_drain() {
    conforms("distilled-edge.jsonl.gz", &["--no-drain"], "distilled-edge.no-drain.expected.json.gz");
}

#[test]
fn raw_edge() {
    conforms("raw-edge.jsonl.gz", &[], "raw-edge.expected.json.gz");
}

#[test]
fn notigen_day() {
    conforms("notigen-day.jsonl.gz", &[], "notigen-day.expected.json.gz");
}

#[test]
fn raw_edge_events_byte_for_byte() {
    let got = run(&["events"], "raw-edge.jsonl.gz");
    let want = gunzip("raw-edge.events.jsonl.gz");
    if got != want {
        let first = got.split(|b| *b == b'\n').zip(want.split(|b| *b == b'\n')).position(|(a, b)| a != b);
        match first {
            Some(i) => panic!(
                "events differ first at line {}:\n got: {}\nwant: {}",
                i + 1,
                String::from_utf8_lossy(got.split(|b| *b == b'\n').nth(i).unwrap_or_default()),
                String::from_utf8_lossy(want.split(|b| *b == b'\n').nth(i).unwrap_or_default())
            ),
            None => panic!("events differ in length: {} bytes, want {}", got.len(), want.len()),
        }
    }
}

/// The comparison itself must catch a difference, or the tests above prove nothing.
#[test]
fn the_comparison_catches_differences() {
    let expected: Value = serde_json::from_slice(&gunzip("notigen-day.expected.json.gz")).expect("expected JSON");
    assert_eq!(compare(&expected, &expected).0, Vec::<String>::new(), "a document agrees with itself");
    let mut changed = expected.clone();
    let failed = changed["streams"]
        .as_array_mut()
        .expect("streams")
        .iter_mut()
        .find(|s| s["outcome"] == "failed")
        .expect("a failed stream");
    failed["message"] = "something else".into();
    let (problems, agree, total) = compare(&expected, &changed);
    assert_eq!((problems.len(), agree + 1), (1, total), "{problems:?}");
    let mut changed = expected.clone();
    changed["duplicates"] = 99.into();
    changed.as_object_mut().expect("an object").remove("unmatched");
    assert_eq!(compare(&expected, &changed).0.len(), 2);
}
