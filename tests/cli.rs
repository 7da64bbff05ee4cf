//! What the headless commands tell a script besides their data (docs/outputs.md#exit-statuses):
//! exit statuses, the archive's problems on stderr, refusals of option
//! combinations that cannot work, and report text that stays inert.

mod common;
use common::run;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;

#[test]
fn csv_says_on_stderr_what_the_archive_lost() {
    let r = run(&["audit", "--format", "csv", "samples/bad-records.jsonl"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("stream_id,instance_id,day,"), "stdout is only CSV: {}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 3, "a header and two streams");
    let err: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(err[0], "usage-replay: 10 events, 1 unmatched, 2 duplicates, 3 not distilled, 5 rejected");
    assert_eq!(err.iter().filter(|l| l.starts_with("usage-replay: rejected samples/bad-records.jsonl:")).count(), 5);
}

#[test]
fn explain_has_no_place_in_csv() {
    let r = run(&["audit", "--format", "csv", "--explain", "samples/day.jsonl"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.contains("--explain has no place in CSV"), "{}", r.stderr);
}

#[test]
fn a_reader_that_stops_early_does_not_change_the_exit_status() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let archive = dir.path().join("many.jsonl");
    let g = run(&[
        "generate",
        "--instances",
        "3000",
        "--days",
        "1",
        "--anomalies",
        "0.5",
        "--quiet",
        "--out",
        archive.to_str().unwrap(),
    ]);
    assert_eq!(g.code, 0, "{}", g.stderr);
    for format in ["table", "json", "csv"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("usage-replay"))
            .args(["audit", "--format", format])
            .arg(&archive)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        // Read a little, then go away, as `| head -1` does.
        let mut first = [0u8; 64];
        child.stdout.take().expect("stdout").read_exact(&mut first).expect("some output");
        let mut stderr = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("stderr");
        let status = child.wait().expect("the binary ends");
        assert_eq!(status.code(), Some(1), "{format}: streams failed, whoever stopped reading: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{format}: {stderr}");
    }
}

/// An update and an end-of-day .exists of one instance whose id is `id_json` (a JSON value).
fn write_two_events(path: &std::path::Path, id_json: &str) {
    let line = |mid: &str, ty: &str, extra: &str| {
        format!(
            r#"{{"event_type":"{ty}","message_id":"{mid}","timestamp":"2014-10-07 00:05:00","instance_id":{id_json},"launched_at":"2014-10-01 00:00:00","state":"active"{extra}}}"#
        )
    };
    let text = [
        line("a", "compute.instance.update", ""),
        line(
            "b",
            "compute.instance.exists",
            r#","audit_period_beginning":"2014-10-06 00:00:00","audit_period_ending":"2014-10-07 00:00:00""#,
        ),
    ]
    .join("\n");
    std::fs::write(path, text).expect("write");
}

#[test]
fn archive_text_in_the_table_is_inert() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("esc.jsonl");
    write_two_events(&path, r#""i\u001b[2J\n\t\rx""#);
    let r = run(&["audit", path.to_str().unwrap()]);
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\r') && !r.stdout.contains('\t'), "{:?}", r.stdout);
    let row = r.stdout.lines().nth(1).expect("a stream row");
    assert!(row.contains(r"i\x1b[2J\x0a\x09\x0dx"), "{row:?}");
    assert!(r.stdout.lines().all(|l| usage_replay::text::width(l) <= 80), "{}", r.stdout);
}

#[test]
fn emit_names_the_streams_that_went_to_error() {
    let r = run(&["emit", "samples/error-missing-os-distro.jsonl"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert!(
        r.stderr.starts_with("usage-replay: stream 1 (733611da-7593-4e8d-baa0-c8cd4792c102 2014-10-07) went to error, no output event: 'os_distro' is on compute.instance.exists"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_directory_without_archives_is_reported() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("notes.txt"), "not an archive").expect("write");
    let empty = dir.path().to_str().unwrap();
    let r = run(&["audit", "--format", "json", empty, "samples/verified-quiet-day.jsonl"]);
    assert_eq!(r.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(doc["rejected"][0]["source"], empty);
    assert_eq!(doc["rejected"][0]["reason"], "no .json, .jsonl or .ndjson file (plain or .gz) below this directory");
    let alone = run(&["audit", empty]);
    assert_eq!(alone.code, 2);
    assert!(alone.stderr.contains(&format!("no readable input: {empty}: no .json")), "{}", alone.stderr);
}

#[test]
fn generate_refuses_to_write_the_truth_over_the_archive() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = dir.path().join("a.jsonl");
    let same = dir.path().join(".").join("a.jsonl");
    let r = run(&["generate", "--instances", "2", "--out", out.to_str().unwrap(), "--truth", same.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--out and --truth are the same file"), "{}", r.stderr);
    assert!(!Path::new(&out).exists(), "nothing was written");
}

/// Characters an archive must never get to a terminal raw: C0, DEL, C1, bidi
/// controls and other format characters.
fn hostile(c: char) -> bool {
    usage_replay::text::is_hostile(c)
}

#[test]
fn archive_text_is_inert_in_every_output() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("esc.jsonl");
    let evil = "i\u{1b}]0;PWNED\u{7}\u{1b}[2J\r\u{7f}\u{9b}1m\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\u{e0041}x";
    let id = serde_json::to_string(evil).expect("a JSON string");
    write_two_events(&path, &id);
    let p = path.to_str().unwrap();
    for args in [
        vec!["audit", p],
        vec!["audit", "--format", "csv", p],
        vec!["audit", "--format", "json", p],
        vec!["audit", "--format", "json", "--explain", p],
        vec!["events", p],
        vec!["emit", p],
    ] {
        let r = run(&args);
        for (what, out) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            let raw: Vec<String> =
                out.chars().filter(|&c| hostile(c) && c != '\n').map(|c| format!("U+{:04X}", c as u32)).collect();
            assert!(raw.is_empty(), "{args:?}: {what} passes {raw:?} raw:\n{out}");
        }
    }
    // In CSV the text is made visible as in the table.
    let csv = run(&["audit", "--format", "csv", p]).stdout;
    assert!(
        csv.contains(r"i\x1b]0;PWNED\x07\x1b[2J\x0d\x7f\x9b1m\u{202e}\u{2066}\u{200b}\u{feff}\u{2028}\u{e0041}x"),
        "{csv}"
    );
    // In JSON it is escaped and reads back as it was.
    let json = run(&["audit", "--format", "json", p]).stdout;
    assert!(
        json.contains(r#""i\u001b]0;PWNED\u0007\u001b[2J\r\u007f\u009b1m\u202e\u2066\u200b\ufeff\u2028\udb40\udc41x""#),
        "{json}"
    );
    let doc: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(doc["streams"][0]["instance_id"], evil);
    let events = run(&["events", p]).stdout;
    let first: serde_json::Value = serde_json::from_str(events.lines().next().expect("an event")).expect("JSON");
    assert_eq!(first["instance_id"], evil);
}

/// Run the binary with `$TMPDIR` pointing at `tmp`, `input` on standard input.
fn run_with_tmpdir(tmp: &std::path::Path, args: &[&str], input: Vec<u8>) -> (String, String, i32) {
    let out = assert_cmd::Command::cargo_bin("usage-replay")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TMPDIR", tmp)
        .args(args)
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("runs");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8");
    (text(out.stdout), text(out.stderr), out.status.code().expect("an exit status"))
}

#[test]
fn headless_commands_read_standard_input_without_a_spool() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let day = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/verified-quiet-day.jsonl")).expect("sample");
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&day).expect("gzip");
        e.finish().expect("gzip")
    };
    // The same report, but for the input's name.
    let from_file = run(&["audit", "--format", "json", "samples/verified-quiet-day.jsonl"])
        .stdout
        .replace("\"path\": \"samples/verified-quiet-day.jsonl\"", "\"path\": \"<stdin>\"");
    for input in [day.clone(), gz] {
        let (out, err, code) = run_with_tmpdir(tmp.path(), &["audit", "--format", "json", "-"], input.clone());
        assert_eq!((code, out.as_str()), (0, from_file.as_str()), "{err}");
        for cmd in ["events", "emit"] {
            let (out, err, code) = run_with_tmpdir(tmp.path(), &[cmd, "-"], input.clone());
            assert_eq!(code, 0, "{cmd}: {err}");
            assert_eq!(out, run(&[cmd, "samples/verified-quiet-day.jsonl"]).stdout, "{cmd} from standard input");
        }
    }
    let left: Vec<_> =
        std::fs::read_dir(tmp.path()).expect("the temp dir").map(|e| e.expect("entry").file_name()).collect();
    assert!(left.is_empty(), "left in $TMPDIR: {left:?}");
}
