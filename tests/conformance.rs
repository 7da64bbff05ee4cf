//! Conformance: on each archive of tests/data/conformance/ the binary reaches the
//! verdicts the original code reached, stream by stream, compared exactly as
//! that set's compare.py compares them; and `events` on the raw archive is,
//! byte for byte, what the original distiller made of it.

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
