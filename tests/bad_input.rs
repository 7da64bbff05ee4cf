//! Bad input never stops the load (docs/inputs.md#rejected-records): broken records become rejected
//! records with their file and line, unreadable paths are reported, the rest
//! loads, and no panic or backtrace ever reaches the user.

mod common;
use common::run_in;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn audit(dir: &Path, paths: &[&str]) -> (Value, i32) {
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(paths);
    let r = run_in(dir, &args, None);
    let doc = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{paths:?}: not JSON ({e}):\n{}", r.stdout));
    (doc, r.code)
}

/// `(source, reason)` of every rejected record.
fn rejected(doc: &Value) -> Vec<(String, String)> {
    doc["rejected"]
        .as_array()
        .expect("rejected is a list")
        .iter()
        .map(|r| {
            let excerpt = r["excerpt"].as_str().expect("an excerpt");
            // The first 200 bytes of the record; invalid UTF-8 shows as U+FFFD, one character per byte at most.
            assert!(excerpt.chars().count() <= 200, "excerpt of more than 200 bytes: {excerpt:?}");
            (r["source"].as_str().expect("a source").to_string(), r["reason"].as_str().expect("a reason").to_string())
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn outcomes(doc: &Value) -> Vec<String> {
    doc["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| s["outcome"].as_str().expect("an outcome").to_string())
        .collect()
}

/// The notifications of samples/verified-quiet-day.jsonl: four streams that verify.
fn quiet_day() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/verified-quiet-day.jsonl");
    std::fs::read_to_string(path).expect("the sample").lines().map(String::from).collect()
}

fn assert_quiet_day_loaded(what: &str, doc: &Value) {
    assert_eq!(outcomes(doc), ["verified"; 4], "{what}: the good records still make their four streams");
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write a test file");
    path
}

fn lines(v: &[String]) -> Vec<u8> {
    let mut out = v.join("\n").into_bytes();
    out.push(b'\n');
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).expect("gzip");
    gz.finish().expect("gzip")
}

/// Deterministic noise: bytes of every value, NULs and invalid UTF-8 included.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect()
}

#[test]
fn invalid_json_lines_are_rejected_with_their_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut v = quiet_day();
    let cut: String = v[3].chars().take(150).collect();
    v.insert(2, cut); // line 3: a record cut short
    v.insert(5, r#"{"event_type": "compute.instance.update", "payload": {},}"#.to_string()); // line 6
    v.insert(9, "Traceback (most recent call last):".to_string()); // line 10
    v.insert(10, "}{".to_string()); // line 11
    write(dir.path(), "day.jsonl", &lines(&v));
    let (doc, code) = audit(dir.path(), &["day.jsonl"]);
    let got = rejected(&doc);
    let sources: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sources, ["day.jsonl:3", "day.jsonl:6", "day.jsonl:10", "day.jsonl:11"]);
    assert_eq!(got[0].1, "invalid JSON at column 150: EOF while parsing a string");
    assert_eq!(got[1].1, "invalid JSON at column 57: trailing comma");
    for (source, reason) in &got {
        assert!(reason.starts_with("invalid JSON at column "), "{source}: {reason}");
    }
    assert_quiet_day_loaded("invalid JSON", &doc);
    assert_eq!(code, 0);
}

#[test]
fn wrong_types_are_rejected_naming_the_field() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let template: Value = serde_json::from_str(&quiet_day()[0]).expect("a notification");
    let variant = |n: u32, edit: &dyn Fn(&mut Value)| -> String {
        let mut v = template.clone();
        v["message_id"] = Value::from(format!("00000000-0000-4000-8000-{n:012}"));
        edit(&mut v);
        v.to_string()
    };
    let mut v = quiet_day();
    v.push(variant(1, &|v| v["payload"]["instance_type_id"] = "performance1-4".into()));
    v.push(variant(3, &|v| v["payload"]["memory_mb"] = "7.5".into()));
    v.push(variant(4, &|v| v["payload"]["tenant_id"] = serde_json::json!({"id": 1})));
    v.push(variant(5, &|v| v["payload"]["launched_at"] = "yesterday".into()));
    v.push(variant(6, &|v| v["payload"]["deleted_at"] = "2014-13-45 99:00:00".into()));
    v.push(variant(8, &|v| v["message_id"] = 42.into()));
    v.push(variant(9, &|v| v["timestamp"] = "soon".into()));
    v.push(variant(10, &|v| v["event_type"] = serde_json::json!(["compute.instance.update"])));
    v.push(r#"{"event_type": "compute.instance.update", "message_id": "d-1", "timestamp": "2014-10-07T10:00:00", "instance_id": "i-1", "vcpus": true}"#.into());
    write(dir.path(), "typed.jsonl", &lines(&v));
    let (doc, code) = audit(dir.path(), &["typed.jsonl"]);
    assert_eq!(
        rejected(&doc),
        pairs(&[
            ("typed.jsonl:17", "payload.instance_type_id: not an integer: \"performance1-4\""),
            ("typed.jsonl:18", "payload.memory_mb: not an integer: \"7.5\""),
            ("typed.jsonl:19", "payload.tenant_id: not a text value: an object"),
            ("typed.jsonl:20", "payload.launched_at: not a datetime: \"yesterday\""),
            ("typed.jsonl:21", "payload.deleted_at: not a valid datetime: \"2014-13-45 99:00:00\""),
            ("typed.jsonl:22", "message_id: not a string: 42"),
            ("typed.jsonl:23", "timestamp: not a datetime: \"soon\""),
            ("typed.jsonl:24", "event_type: not a string: an array"),
            ("typed.jsonl:25", "vcpus: a boolean is not a trait value"),
        ])
    );
    assert_quiet_day_loaded("wrong types", &doc);
    assert_eq!(code, 0);
}

/// The values Python converted where a stricter reader would refuse: `int(True)` is 1, and a
/// payload that is not an object leaves only the envelope's traits (docs/distillation.md).
#[test]
fn python_conversions_are_kept_not_rejected() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let template: Value = serde_json::from_str(&quiet_day()[0]).expect("a notification");
    let mut a = template.clone();
    a["message_id"] = "00000000-0000-4000-8000-000000000001".into();
    a["payload"]["vcpus"] = true.into();
    let mut b = template.clone();
    b["message_id"] = "00000000-0000-4000-8000-000000000002".into();
    b["payload"] = serde_json::json!([1, 2]);
    write(dir.path(), "py.jsonl", &lines(&[a.to_string(), b.to_string()]));
    let r = common::run_in(dir.path(), &["events", "py.jsonl"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let events: Vec<Value> = r.stdout.lines().map(|l| serde_json::from_str(l).expect("an event")).collect();
    assert_eq!(events.len(), 2, "{}", r.stdout);
    let by_id = |id: &str| events.iter().find(|e| e["message_id"] == id).expect("the event");
    assert_eq!(by_id("00000000-0000-4000-8000-000000000001")["vcpus"], 1);
    let bare = by_id("00000000-0000-4000-8000-000000000002");
    assert!(bare.get("instance_id").is_none(), "no payload trait: {bare}");
    let (doc, _) = audit(dir.path(), &["py.jsonl"]);
    assert_eq!(doc["rejected"], serde_json::json!([]));
    assert_eq!(doc["summary"]["unmatched"], 1, "the event without an instance is unmatched");
}

#[test]
fn unknown_record_shapes_are_rejected() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut v = quiet_day();
    for shape in [
        "42",
        "\"compute.instance.exists\"",
        "null",
        "[1, 2]",
        r#"{"level": "INFO", "msg": "Updating bandwidth usage cache"}"#,
        r#"{"oslo.version": "2.0", "oslo.message": "{not json"}"#,
        r#"{"oslo.version": "2.0", "oslo.message": 7}"#,
        r#"{"id": 3, "state": "completed", "events": {"a": 1}}"#,
    ] {
        v.push(shape.to_string());
    }
    write(dir.path(), "shapes.jsonl", &lines(&v));
    let (doc, code) = audit(dir.path(), &["shapes.jsonl"]);
    let expected = "(expected a notification, oslo envelope, STv2 pair, distilled event or stream dump)";
    let line = "not a record: an array on a line must be an STv2 pair [routing_key, notification]";
    assert_eq!(
        rejected(&doc),
        pairs(&[
            ("shapes.jsonl:17", &format!("not a record: 42 {expected}")),
            ("shapes.jsonl:18", &format!("not a record: \"compute.instance.exists\" {expected}")),
            ("shapes.jsonl:19", &format!("not a record: null {expected}")),
            ("shapes.jsonl:20", line),
            ("shapes.jsonl:21", &format!("unknown record shape: no event_type {expected}")),
            ("shapes.jsonl:22", "oslo envelope: oslo.message: invalid JSON at column 2: key must be a string"),
            ("shapes.jsonl:23", "oslo envelope: oslo.message is not a string"),
            ("shapes.jsonl:24", "stream dump: `events` is not an array"),
        ])
    );
    assert_quiet_day_loaded("unknown shapes", &doc);
    assert_eq!(code, 0);
}

#[test]
fn unknown_layouts_are_rejected_per_file_and_the_rest_loads() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "a-good.jsonl", &lines(&quiet_day()));
    write(dir.path(), "b-report.json", b"stream_id,instance_id,day\n1,4f0c,2014-10-07\n");
    write(dir.path(), "c-feed.json", b"<?xml version=\"1.0\"?>\n<notifications/>\n");
    write(dir.path(), "d-config.jsonl", b"event_type: compute.instance.exists\npayload: {}\n");
    write(dir.path(), "e-notes.txt", b"not an archive name: never read\n");
    let (doc, code) = audit(dir.path(), &["."]);
    let got = rejected(&doc);
    let sources: Vec<&str> = got.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sources, ["./b-report.json:1", "./c-feed.json:1", "./d-config.jsonl:1"]);
    for (source, reason) in &got {
        assert!(reason.starts_with("invalid JSON at "), "{source}: {reason}");
    }
    assert_quiet_day_loaded("unknown layouts", &doc);
    assert_eq!(code, 0);
}

/// day.jsonl, gzipped, cut in half.
fn truncated_gzip(dir: &Path, name: &str, copies: usize, keep_percent: usize) {
    let day = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/day.jsonl")).expect("the sample");
    let gz = gzip(&day.repeat(copies));
    write(dir, name, &gz[..gz.len() * keep_percent / 100]);
}

#[test]
fn truncated_gzip_is_reported_with_its_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    truncated_gzip(dir.path(), "day.jsonl.gz", 1, 50);
    write(dir.path(), "good.jsonl", &lines(&quiet_day()));
    let (doc, code) = audit(dir.path(), &["day.jsonl.gz", "good.jsonl"]);
    let got = rejected(&doc);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "day.jsonl.gz");
    assert!(got[0].1.starts_with("gzip stream broken after "), "{}", got[0].1);
    assert!(got[0].1.contains("incomplete deflate stream"), "{}", got[0].1);
    let quiet = doc["streams"].as_array().expect("streams").iter().filter(|s| s["outcome"] == "verified").count();
    assert!(quiet >= 4, "the other file still loads");
    assert_ne!(code, 2, "a broken file beside a good one is not a failure to run");
}

#[test]
fn truncated_gzip_keeps_the_records_before_the_cut() {
    // 60 copies of the day (11 MB, the repeats counted as duplicates), cut near the end.
    let dir = tempfile::tempdir().expect("a temp dir");
    truncated_gzip(dir.path(), "days.jsonl.gz", 60, 95);
    let (doc, _) = audit(dir.path(), &["days.jsonl.gz"]);
    let got = rejected(&doc);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "days.jsonl.gz");
    assert!(got[0].1.starts_with("gzip stream broken after "), "{}", got[0].1);
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(14), "the day before the cut is all there");
    assert!(doc["summary"]["duplicates"].as_u64().is_some_and(|d| d > 0));
}

#[test]
fn truncated_small_gzip_keeps_the_records_before_the_cut() {
    let dir = tempfile::tempdir().expect("a temp dir");
    truncated_gzip(dir.path(), "day.jsonl.gz", 1, 50);
    let (doc, _) = audit(dir.path(), &["day.jsonl.gz"]);
    assert!(
        doc["streams"].as_array().is_some_and(|s| !s.is_empty()),
        "the first half of the day is loaded: {}",
        doc["rejected"]
    );
}

#[test]
fn gzip_magic_followed_by_garbage() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut fake = vec![0x1f, 0x8b];
    fake.extend(noise(600, 7));
    write(dir.path(), "fake.jsonl.gz", &fake);
    write(dir.path(), "good.jsonl", &lines(&quiet_day()));
    let (doc, code) = audit(dir.path(), &["fake.jsonl.gz", "good.jsonl"]);
    let got = rejected(&doc);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "fake.jsonl.gz");
    assert!(got[0].1.starts_with("gzip stream broken"), "{}", got[0].1);
    assert_quiet_day_loaded("fake gzip", &doc);
    assert_eq!(code, 0);
}

#[test]
fn unreadable_files_in_a_directory_are_reported_and_the_rest_loads() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).expect("mkdir");
    write(&archive, "good.jsonl", &lines(&quiet_day()));
    // A dangling symlink: unreadable whoever runs the test.
    std::os::unix::fs::symlink("/nonexistent/usage-replay/lost.jsonl", archive.join("lost.jsonl")).expect("symlink");
    // Not regular files: skipped without being opened (a FIFO would block a reader).
    std::fs::create_dir(archive.join("nested.jsonl")).expect("mkdir");
    let fifo = std::process::Command::new("mkfifo").arg(archive.join("pipe.jsonl")).status();
    if !fifo.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: the FIFO sub-case is skipped");
    }
    // A file without read permission; root reads it anyway, so check before relying on it.
    let secret = write(&archive, "secret.jsonl", &lines(&quiet_day()));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let denied = std::fs::File::open(&secret).is_err();
    if !denied {
        eprintln!("running with privileges that ignore file permissions: the chmod 000 sub-case is skipped");
        std::fs::remove_file(&secret).expect("rm");
    }

    let (doc, code) = audit(dir.path(), &["archive"]);
    let got = rejected(&doc);
    let mut want = vec![("archive/lost.jsonl", "cannot read directory: no such file or directory")];
    if denied {
        want.push(("archive/secret.jsonl", "cannot open: permission denied"));
    }
    assert_eq!(got, pairs(&want));
    assert_quiet_day_loaded("unreadable files", &doc);
    assert_eq!(code, 0);

    // The table names them too.
    let r = run_in(dir.path(), &["audit", "archive"], None);
    assert!(r.stdout.contains("rejected archive/lost.jsonl: cannot read directory"), "{}", r.stdout);
}

#[test]
fn a_missing_path_beside_a_good_one() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "good.jsonl", &lines(&quiet_day()));
    let (doc, code) = audit(dir.path(), &["missing.jsonl", "good.jsonl"]);
    assert_eq!(rejected(&doc), pairs(&[("missing.jsonl", "cannot open: no such file or directory")]));
    assert_quiet_day_loaded("missing path", &doc);
    // As grep does: the others are reported, and the status says a path was wrong.
    assert_eq!(code, 2);
    let r = run_in(dir.path(), &["audit", "missing.jsonl", "good.jsonl"], None);
    assert!(r.stdout.contains("rejected missing.jsonl: cannot open: no such file or directory"), "{}", r.stdout);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr, "usage-replay: cannot read missing.jsonl: cannot open: no such file or directory\n");
    for cmd in ["events", "emit"] {
        let r = run_in(dir.path(), &[cmd, "missing.jsonl", "good.jsonl"], None);
        assert_eq!(r.code, 2, "{cmd}");
        if cmd == "events" {
            assert_eq!(r.stdout.lines().count(), 16, "every event of the good file");
        }
        assert_eq!(
            r.stderr,
            "usage-replay: rejected missing.jsonl: cannot open: no such file or directory\n\
             usage-replay: cannot read missing.jsonl: cannot open: no such file or directory\n",
            "{cmd}"
        );
    }
}

#[test]
fn only_bad_paths_is_exit_status_two() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    for (args, names) in [
        (vec!["audit", "nope-1.jsonl", "nope-2.jsonl"], vec!["nope-1.jsonl", "nope-2.jsonl"]),
        (vec!["events", "nope-1.jsonl"], vec!["nope-1.jsonl"]),
        (vec!["emit", "nope-1.jsonl"], vec!["nope-1.jsonl"]),
        (vec!["audit", "empty"], vec!["empty: no .json, .jsonl or .ndjson file"]),
    ] {
        let r = run_in(dir.path(), &args, None);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(r.stdout.is_empty(), "{args:?}: nothing on stdout");
        assert!(r.stderr.starts_with("usage-replay: no readable input: "), "{args:?}: {}", r.stderr);
        for n in names {
            assert!(r.stderr.contains(n), "{args:?}: names {n}: {}", r.stderr);
        }
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: one clear line: {}", r.stderr);
    }
}

#[test]
fn binary_garbage_is_rejected() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "garbage.jsonl", &noise(64 * 1024, 1));
    write(dir.path(), "good.jsonl", &lines(&quiet_day()));
    let (doc, code) = audit(dir.path(), &["garbage.jsonl", "good.jsonl"]);
    let got = rejected(&doc);
    assert!(!got.is_empty());
    for (source, reason) in &got {
        assert!(source.starts_with("garbage.jsonl:"), "{source}");
        assert!(reason.starts_with("invalid JSON"), "{source}: {reason}");
    }
    assert_quiet_day_loaded("garbage", &doc);
    assert_eq!(code, 0);

    // The same through standard input.
    let r = run_in(dir.path(), &["audit", "--format", "json", "-"], Some(noise(4096, 2)));
    let doc: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let got = rejected(&doc);
    assert!(!got.is_empty() && got.iter().all(|(s, _)| s.starts_with("<stdin>:")), "{got:?}");
}

#[test]
fn empty_files() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "empty.jsonl", b"");
    write(dir.path(), "blank.jsonl", b"\n\n   \n\t\n");
    let (doc, code) = audit(dir.path(), &["empty.jsonl", "blank.jsonl"]);
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(0));
    assert!(rejected(&doc).is_empty(), "blank lines are ignored");
    assert_eq!(code, 2, "nothing was audited");
    let r = run_in(dir.path(), &["audit", "empty.jsonl"], None);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "usage-replay: nothing to audit: no event was read from the input: empty.jsonl (empty file)\n"
    );
    assert!(r.stdout.contains("0 rejected, 1 input without records\n  empty input empty.jsonl\n"), "{}", r.stdout);
    write(dir.path(), "good.jsonl", &lines(&quiet_day()));
    let (doc, code) = audit(dir.path(), &["empty.jsonl", "good.jsonl", "blank.jsonl"]);
    assert_quiet_day_loaded("empty beside good", &doc);
    assert_eq!(code, 0, "empty inputs beside a good one are named, not failures");
    let inputs: Vec<(&str, u64, u64)> = doc["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .map(|i| {
            (i["path"].as_str().expect("path"), i["records"].as_u64().expect("n"), i["events"].as_u64().expect("n"))
        })
        .collect();
    assert_eq!(inputs, [("empty.jsonl", 0, 0), ("good.jsonl", 16, 16), ("blank.jsonl", 0, 0)]);
    let r = run_in(dir.path(), &["audit", "empty.jsonl", "good.jsonl", "blank.jsonl"], None);
    assert!(
        r.stdout.contains(", 2 inputs without records\n  empty input empty.jsonl\n  no record in blank.jsonl\n"),
        "{}",
        r.stdout
    );
    let r = run_in(dir.path(), &["audit", "--format", "csv", "empty.jsonl", "good.jsonl"], None);
    assert_eq!(
        r.stderr,
        "usage-replay: 16 events, 0 unmatched, 0 duplicates, 0 not distilled, 0 rejected, 1 input without records\n\
         usage-replay: empty input empty.jsonl\n"
    );
}

#[test]
fn an_html_page_saved_as_json_is_nothing_to_audit() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let page = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>bad gateway</body></html>\n";
    write(dir.path(), "export.json", page.as_bytes());
    let r = run_in(dir.path(), &["audit", "export.json"], None);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "usage-replay: nothing to audit: no event was read from the input: export.json (1 of 1 records rejected)\n"
    );
    assert!(r.stdout.contains("rejected export.json:1: invalid JSON"), "{}", r.stdout);
}

#[test]
fn an_archive_whose_every_record_is_rejected_is_nothing_to_audit() {
    let dir = tempfile::tempdir().expect("a temp dir");
    write(dir.path(), "a.jsonl", b"{\"a\": 1}\nnot json\n");
    write(dir.path(), "b.jsonl", b"[1, 2]\n");
    for cmd in ["audit", "events", "emit"] {
        let r = run_in(dir.path(), &[cmd, "a.jsonl", "b.jsonl"], None);
        assert_eq!(r.code, 2, "{cmd}");
        assert_eq!(
            r.stderr.lines().last(),
            Some(
                "usage-replay: nothing to audit: no event was read from any of the 2 inputs: \
                 a.jsonl (2 of 2 records rejected); b.jsonl (2 of 2 records rejected)"
            ),
            "{cmd}"
        );
    }
}

#[test]
fn files_of_other_extensions_in_a_directory_are_named() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("archive");
    std::fs::create_dir(&archive).expect("mkdir");
    write(&archive, "good.jsonl", &lines(&quiet_day()));
    write(&archive, "notes.txt", b"remember the 7th\n");
    write(&archive, "old.jsonl.bz2", b"BZh9");
    let (doc, code) = audit(dir.path(), &["archive"]);
    assert_quiet_day_loaded("skipped files", &doc);
    assert_eq!(code, 0);
    assert_eq!(doc["skipped"], serde_json::json!(["archive/notes.txt", "archive/old.jsonl.bz2"]));
    let r = run_in(dir.path(), &["audit", "archive"], None);
    assert!(
        r.stdout.ends_with(
            "0 rejected, 2 files skipped\n  skipped archive/notes.txt (not .json, .jsonl or .ndjson)\n  \
             skipped archive/old.jsonl.bz2 (not .json, .jsonl or .ndjson)\n"
        ),
        "{}",
        r.stdout
    );
    let r = run_in(dir.path(), &["events", "archive"], None);
    assert_eq!(
        r.stderr,
        "usage-replay: skipped archive/notes.txt (not .json, .jsonl or .ndjson)\n\
         usage-replay: skipped archive/old.jsonl.bz2 (not .json, .jsonl or .ndjson)\n"
    );
}

#[test]
fn ten_megabyte_single_lines() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut big: Value = serde_json::from_str(&quiet_day()[0]).expect("a notification");
    big["message_id"] = "00000000-0000-4000-8000-000000000001".into();
    big["payload"]["metadata"] = serde_json::json!({ "blob": "x".repeat(10 << 20) });
    let big = big.to_string();
    assert!(big.len() > 10 << 20);
    // A whole 10 MB notification loads; the same cut short is one rejected record.
    let mut v = quiet_day();
    v.insert(0, big.clone());
    v.push(big[..10 << 20].to_string());
    write(dir.path(), "big.jsonl", &lines(&v));
    let (doc, code) = audit(dir.path(), &["big.jsonl"]);
    let got = rejected(&doc);
    assert_eq!(got, pairs(&[("big.jsonl:18", "invalid JSON at column 10485760: EOF while parsing a string")]));
    assert_eq!(outcomes(&doc), ["verified"; 4], "the big update joins build-agent-2's stream");
    assert_eq!(doc["streams"][0]["event_count"], 6, "the 10 MB record is one more event of its stream");
    assert_eq!(code, 0);
}

#[test]
fn lines_longer_than_the_read_buffers_one_after_another() {
    // Several records, each longer than the reader's buffers, in a row; then the
    // same records as one JSON array on a single line, plain and gzipped.
    let dir = tempfile::tempdir().expect("a temp dir");
    let day = quiet_day();
    let mut big = Vec::new();
    for (i, line) in day.iter().enumerate() {
        let mut v: Value = serde_json::from_str(line).expect("a notification");
        if i % 4 == 0 {
            v["payload"]["metadata"] = serde_json::json!({ "blob": "y".repeat(9 << 20) });
        }
        big.push(v);
    }
    let jsonl: Vec<String> = big.iter().map(Value::to_string).collect();
    write(dir.path(), "long.jsonl", &lines(&jsonl));
    let array = Value::Array(big).to_string().into_bytes();
    assert!(!array.contains(&b'\n'));
    write(dir.path(), "long.json", &array);
    write(dir.path(), "long.json.gz", &gzip(&array));
    for name in ["long.jsonl", "long.json", "long.json.gz"] {
        let (doc, code) = audit(dir.path(), &[name]);
        assert_eq!(rejected(&doc), pairs(&[]), "{name}");
        assert_quiet_day_loaded(name, &doc);
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn a_named_pipe_that_writes_slowly_loses_nothing() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let fifo = dir.path().join("slow.jsonl");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available here; skipping");
        return;
    }
    let text = lines(&quiet_day());
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(&fifo).expect("open the pipe");
            // The first bytes alone, then a pause, as a slow producer would.
            f.write_all(&text[..2]).expect("write");
            f.flush().expect("flush");
            std::thread::sleep(std::time::Duration::from_millis(300));
            f.write_all(&text[2..]).expect("write");
        })
    };
    let (doc, code) = audit(dir.path(), &["slow.jsonl"]);
    writer.join().expect("the writer finishes");
    assert_eq!(rejected(&doc), pairs(&[]), "nothing of the pipe is lost");
    assert_quiet_day_loaded("named pipe", &doc);
    assert_eq!(code, 0);
}

#[test]
fn a_damaged_first_line_is_rejected_whole_like_any_other() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let v = quiet_day();
    // A stray `}}` inside the first record: its balanced prefix is a JSON value by itself.
    let damaged = v[0].replacen(r#""priority": "INFO", "#, r#""priority": "INFO"}}, "#, 1);
    assert_ne!(damaged, v[0]);
    let mut first = v.clone();
    first[0] = damaged.clone();
    let mut third = v.clone();
    third[2] = damaged;
    write(dir.path(), "first.jsonl", &lines(&first));
    write(dir.path(), "third.jsonl", &lines(&third));
    let (a, _) = audit(dir.path(), &["first.jsonl"]);
    let (b, _) = audit(dir.path(), &["third.jsonl"]);
    let got_a = rejected(&a);
    let got_b = rejected(&b);
    assert_eq!(got_a.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["first.jsonl:1"]);
    assert_eq!(got_b.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["third.jsonl:3"]);
    assert_eq!(got_a[0].1, got_b[0].1, "the same line is rejected the same way wherever it is");
    assert!(got_a[0].1.starts_with("invalid JSON at column "), "{}", got_a[0].1);
}

/// The quiet day with the `instance_type_id` of instance 8eebf2bd's create.end and
/// exists written as the given JSON texts, and its create.end's `memory_mb` as `memory`.
fn quiet_day_with_flavor_ids(create_end: &str, exists: &str, memory: &str) -> Vec<String> {
    quiet_day()
        .into_iter()
        .map(|l| {
            let is = |t: &str| l.contains(&format!("\"event_type\": \"{t}\"")) && l.contains("8eebf2bd-ee48");
            let set = |l: &str, v: &str| l.replace("\"instance_type_id\": 3,", &format!("\"instance_type_id\": {v},"));
            if is("compute.instance.create.end") {
                let l = set(&l, create_end);
                let at = l.find("\"memory_mb\": ").expect("a memory_mb") + "\"memory_mb\": ".len();
                let end = at + l[at..].find([',', '}']).expect("its end");
                format!("{}{}{}", &l[..at], if memory.is_empty() { &l[at..end] } else { memory }, &l[end..])
            } else if is("compute.instance.exists") {
                set(&l, exists)
            } else {
                l
            }
        })
        .collect()
}

#[test]
fn numbers_are_compared_as_python_compared_them() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let stream = |doc: &Value| -> (String, String) {
        let s = doc["streams"]
            .as_array()
            .expect("streams")
            .iter()
            .find(|s| s["instance_id"] == "8eebf2bd-ee48-4e67-a836-9272fe5976d9")
            .expect("the stream");
        (s["outcome"].as_str().unwrap_or("").to_string(), s["message"].as_str().unwrap_or("").to_string())
    };
    // An integer beyond 64 bits is exact: equal to the same digits in a string, and told
    // apart from its neighbour.
    let day = quiet_day_with_flavor_ids("\"100000000000000000000\"", "100000000000000000000", "");
    assert!(day.iter().filter(|l| l.contains("100000000000000000000")).count() == 2, "the edit took");
    write(dir.path(), "big.jsonl", &lines(&day));
    let (doc, _) = audit(dir.path(), &["big.jsonl"]);
    assert_eq!(doc["rejected"], serde_json::json!([]));
    assert_eq!(stream(&doc), ("verified".to_string(), String::new()));
    write(
        dir.path(),
        "big2.jsonl",
        &lines(&quiet_day_with_flavor_ids("\"100000000000000000001\"", "100000000000000000000", "")),
    );
    let (doc, _) = audit(dir.path(), &["big2.jsonl"]);
    assert_eq!(
        stream(&doc),
        (
            "failed".to_string(),
            "Conflicting 'instance_type_id' values ('100000000000000000000' != '100000000000000000001')".to_string()
        )
    );
    // `-0` is the integer 0, and Unicode digits are digits: "٠" equals -0, "٣" equals 3.0.
    write(dir.path(), "zero.jsonl", &lines(&quiet_day_with_flavor_ids("\"\u{660}\"", "-0", "")));
    let (doc, _) = audit(dir.path(), &["zero.jsonl"]);
    assert_eq!(stream(&doc).0, "verified", "{doc}");
    write(dir.path(), "arabic.jsonl", &lines(&quiet_day_with_flavor_ids("\" \u{663} \"", "3.0", "")));
    let (doc, _) = audit(dir.path(), &["arabic.jsonl"]);
    assert_eq!(stream(&doc).0, "verified", "{doc}");
    // 1e400 is infinity: text "inf", and no integer, so the record is rejected naming the field.
    write(dir.path(), "inf.jsonl", &lines(&quiet_day_with_flavor_ids("3", "3", "1e400")));
    let (doc, _) = audit(dir.path(), &["inf.jsonl"]);
    let reasons: Vec<String> = rejected(&doc).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, ["payload.memory_mb: not a finite number: inf"]);
}

/// A record no event definition covers, about 1 kB, to make a document large.
fn filler(i: usize) -> String {
    format!(
        r#"{{"event_type": "image.upload", "message_id": "f{i}", "timestamp": "2014-10-07 01:00:00", "publisher_id": "image.h", "payload": {{"padding": "{}"}}}}"#,
        "x".repeat(900)
    )
}

#[test]
fn a_large_damaged_array_reads_as_a_small_one() {
    // docs/inputs.md#documents-record-by-record: an array larger than a batch is read element by
    // element; its damage is read exactly as when the document is read whole (a small one).
    let dir = tempfile::tempdir().expect("a temp dir");
    let document = |fillers: usize| {
        let mut v: Vec<String> = quiet_day();
        v.push(r#"{"event_type": tru, "payload": {}}"#.to_string());
        v.extend((0..fillers).map(filler));
        let body: Vec<String> = v.iter().map(|r| format!("  {r}")).collect();
        format!("[\n{}\n]\n{}\n", body.join(",\n"), filler(fillers)).into_bytes()
    };
    let small = document(10);
    let large = document(6000);
    assert!(large.len() > 5 << 20, "larger than a batch");
    write(dir.path(), "small.json", &small);
    write(dir.path(), "large.json", &large);
    let (s, _) = audit(dir.path(), &["small.json"]);
    let (l, _) = audit(dir.path(), &["large.json"]);
    let renamed: Vec<(String, String)> =
        rejected(&s).into_iter().map(|(src, r)| (src.replace("small", "large"), r)).collect();
    assert_eq!(rejected(&l), renamed);
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert_eq!(renamed[0].0, "large.json:18[#16]", "the broken record's line and index");
    assert_eq!(outcomes(&l), outcomes(&s));
    assert_quiet_day_loaded("a large damaged array", &l);
    assert_eq!(l["not_distilled"], 6001, "every filler, the one after the array too");
    assert_eq!(l["inputs"][0]["layout"], "document");
}
