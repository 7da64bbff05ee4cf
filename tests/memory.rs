//! `audit --memory SIZE` (docs/scale.md#bounded-memory): an audit split to
//! stay under a budget writes the report the plain audit writes, byte for
//! byte, and leaves nothing in its temporary directory however it ends.

mod common;
use common::{run, run_in};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path).display().to_string()
}

/// How many parts an audit said it ran in (1 when it said nothing).
fn parts_of(stderr: &str) -> u32 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("usage-replay: auditing in "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Audit `input` plainly and under a budget that splits it, in `tmp`; the
/// two reports and exit statuses must be the same. Returns the parts.
fn assert_bounded_equals_plain(input: &str, budget: &str, extra: &[&str]) -> u32 {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let input = repo(input);
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&input);
    let plain = run(&args);
    assert!(plain.code == 0 || plain.code == 1, "{input}: {}", plain.stderr);
    let tmp_dir = tmp.path().display().to_string();
    let mut bounded = args.clone();
    bounded.splice(1..1, ["--memory", budget, "--tmp", tmp_dir.as_str()]);
    let split = run(&bounded);
    let parts = parts_of(&split.stderr);
    assert!(parts > 1, "{input} under {budget}: not split ({})", split.stderr);
    if split.stdout != plain.stdout {
        let first = split.stdout.lines().zip(plain.stdout.lines()).position(|(a, b)| a != b);
        panic!("{input} {extra:?} under {budget} ({parts} parts): differs from the plain audit at line {first:?}");
    }
    assert_eq!(split.code, plain.code, "{input}: the split exits as the audit does");
    assert_eq!(leftovers(tmp.path()), Vec::<PathBuf>::new(), "nothing is left in the temporary directory");
    parts
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).expect("the temp dir").map(|e| e.expect("an entry").path()).collect()
}

#[test]
fn a_split_audit_writes_the_plain_report() {
    // Second streams of an instance-day, expiries, errors, unmatched and duplicate records.
    assert_bounded_equals_plain("tests/data/conformance/raw-edge.jsonl.gz", "256K", &["--explain"]);
    assert_bounded_equals_plain("tests/data/conformance/distilled-edge.jsonl.gz", "64K", &[]);
    // Rejected records, skipped files and a directory walk.
    assert_bounded_equals_plain("samples", "32K", &["--outcome", "failed,error", "--code", "U2,U4"]);
}

#[test]
fn a_split_audit_writes_the_plain_report_side_by_side() {
    let raw2015 = "tests/data/conformance/rules2015/raw-2015.jsonl.gz";
    assert_bounded_equals_plain(raw2015, "256K", &["--rules", "both", "--explain"]);
    assert_bounded_equals_plain(raw2015, "256K", &["--rules", "both", "--triage", "2014-only,confirmed"]);
    assert_bounded_equals_plain("tests/data/conformance/rules2015/notigen-day.jsonl.gz", "64K", &["--rules", "2015"]);
    // 2015 streams no 2014 stream is paired with, listed apart and numbered as the 2015 side.
    let unpaired = "samples/rules2015-instance-uuid-only.jsonl";
    assert_bounded_equals_plain(unpaired, "1K", &["--rules", "both", "--explain"]);
}

#[test]
fn a_roomy_budget_is_the_plain_run() {
    let day = repo("samples/day.jsonl");
    for format in ["table", "csv", "json"] {
        let plain = run(&["audit", "--format", format, &day]);
        let roomy = run(&["audit", "--memory", "1G", "--format", format, &day]);
        assert_eq!((roomy.code, &roomy.stdout, &roomy.stderr), (plain.code, &plain.stdout, &plain.stderr), "{format}");
    }
}

#[test]
fn standard_input_is_copied_once_and_read_by_every_part() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let bytes = std::fs::read(repo("tests/data/conformance/raw-edge.jsonl.gz")).expect("the archive");
    let plain = run_in(tmp.path(), &["audit", "--format", "json", "-"], Some(bytes.clone()));
    let split = run_in(tmp.path(), &["audit", "--memory", "256K", "--tmp", ".", "--format", "json", "-"], Some(bytes));
    assert!(parts_of(&split.stderr) > 1, "{}", split.stderr);
    assert!(split.stdout.contains("\"path\": \"<stdin>\""), "the report names standard input");
    assert_eq!((split.code, &split.stdout), (plain.code, &plain.stdout));
    assert_eq!(leftovers(tmp.path()), Vec::<PathBuf>::new());
}

#[test]
fn formats_not_made_from_parts_are_refused_only_when_a_split_is_needed() {
    let day = repo("samples/day.jsonl");
    for format in ["table", "csv"] {
        let r = run(&["audit", "--memory", "4K", "--format", format, &day]);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{format}");
        assert!(
            r.stderr.contains(&format!("--format {format} is not made from parts: use --format json")),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn bad_budgets_are_refused_clearly() {
    let day = repo("samples/day.jsonl");
    let cases = [
        ("0", "a memory budget must be more than 0 bytes"),
        ("12Q", "unknown unit \"Q\""),
        ("lots", "is not a size"),
        ("-1G", "is not a size"),
        ("99999999999T", "is too large"),
    ];
    for (size, why) in cases {
        let r = run(&["audit", &format!("--memory={size}"), &day]);
        assert_eq!((r.code, r.stdout.as_str()), (2, ""), "{size}");
        assert!(r.stderr.contains("--memory <SIZE>") && r.stderr.contains(why), "{size}: {}", r.stderr);
    }
    let r = run(&["audit", "--memory", "1G", "--shard", "0/2", &day]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--memory cannot be used with --shard"), "{}", r.stderr);
    let r = run(&["audit", "--memory", "1G", "--no-drain", &day]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--memory cannot be used with --no-drain"), "{}", r.stderr);
}

#[test]
fn an_unwritable_temporary_directory_is_an_error_with_its_name() {
    let day = repo("samples/day.jsonl");
    let r = run(&["audit", "--memory", "4K", "--tmp", "/nonexistent/tmp", "--format", "json", &day]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.contains("cannot write temporary files in /nonexistent/tmp"), "{}", r.stderr);
}

#[test]
fn a_split_audit_of_an_unreadable_path_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let t = tmp.path().display().to_string();
    let day = repo("samples/day.jsonl");
    let plain = run(&["audit", "--format", "json", &day, "/nonexistent.jsonl"]);
    let split = run(&["audit", "--memory", "8K", "--tmp", &t, "--format", "json", &day, "/nonexistent.jsonl"]);
    assert!(parts_of(&split.stderr) > 1, "{}", split.stderr);
    assert_eq!((split.code, &split.stdout), (plain.code, &plain.stdout));
    assert!(split.stderr.ends_with(&plain.stderr), "the same reason: {}", split.stderr);
    assert_eq!(leftovers(tmp.path()), Vec::<PathBuf>::new());
}

/// Whether process `pid` holds a file of `dir` open (an unnamed temporary file
/// shows as `DIR/#NUMBER (deleted)`).
fn holds_a_file_in(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.filter_map(Result::ok).filter_map(|fd| std::fs::read_link(fd.path()).ok()).any(|target| target.starts_with(dir))
}

#[test]
fn a_split_audit_stopped_by_a_signal_leaves_nothing_behind() {
    let work = tempfile::tempdir().expect("a temp dir");
    let archive = work.path().join("a.jsonl");
    let opts = usage_replay::generate::Options {
        instances: 400,
        days: 2,
        seed: 3,
        anomalies: 0.05,
        ops: 0.15,
        churn: 0.02,
        start_day: 16_349,
        gzip: None,
    };
    let out = std::fs::File::create(&archive).expect("create the archive");
    usage_replay::generate::generate(&opts, Box::new(out), None).expect("generate");
    for signal in ["INT", "TERM"] {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let dir = tmp.path().canonicalize().expect("the temp dir");
        // From standard input, so that the copy of it is held open for the whole run; with a
        // budget that makes thousands of parts, the run is still going when the signal comes.
        let mut child = Command::new(env!("CARGO_BIN_EXE_usage-replay"))
            .args(["audit", "--memory", "1K", "--format", "json", "--tmp"])
            .arg(&dir)
            .arg("-")
            .stdin(std::fs::File::open(&archive).expect("the archive"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs");
        let mut seen = false;
        for _ in 0..6000 {
            if holds_a_file_in(child.id(), &dir) {
                seen = true;
                break;
            }
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(seen, "the split audit keeps its temporary files in --tmp");
        let sent = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill");
        assert!(sent.success());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), None, "ended by SIG{signal}");
        assert_eq!(leftovers(&dir), Vec::<PathBuf>::new(), "SIG{signal}");
    }
}

/// The verdicts of a JSON report: id, instance, day, outcome and code of every stream.
fn verdicts(report: &str) -> Vec<(u64, String, String, String, String)> {
    let doc: serde_json::Value = serde_json::from_str(report).expect("a JSON report");
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    doc["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|r| {
            (r["stream_id"].as_u64().unwrap_or(0), s(&r["instance_id"]), s(&r["day"]), s(&r["outcome"]), s(&r["code"]))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// docs/scale.md#bounded-memory: a tiny budget, a split by hand merged, and
    /// the plain audit reach the same verdicts (and the same report).
    #[test]
    fn a_tiny_budget_and_a_merged_split_give_the_plain_verdicts(
        seed in 0u64..1000,
        instances in 5u32..60,
        days in 1u32..3,
        anomalies in 0.0f64..0.5,
        parts in 2u32..5,
        both in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let opts = usage_replay::generate::Options {
            instances, days, seed, anomalies, ops: 0.3, churn: 0.05, start_day: 16_349, gzip: None,
        };
        let out = std::fs::File::create(dir.path().join("a.jsonl")).expect("create");
        usage_replay::generate::generate(&opts, Box::new(out), None).expect("generate");
        let rules = if both { "both" } else { "2014" };
        let audit = |extra: &[&str]| {
            let mut args = vec!["audit", "--format", "json", "--rules", rules];
            args.extend_from_slice(extra);
            args.push("a.jsonl");
            run_in(dir.path(), &args, None)
        };
        let plain = audit(&[]);
        let tiny = audit(&["--memory", "2K", "--tmp", "."]);
        prop_assert!(parts_of(&tiny.stderr) > 1, "{}", tiny.stderr);
        let mut names = Vec::new();
        for k in 0..parts {
            let part = audit(&["--shard", &format!("{k}/{parts}")]);
            let name = format!("part-{k}.json");
            std::fs::write(dir.path().join(&name), &part.stdout).expect("write a part");
            names.push(name);
        }
        let mut merge = vec!["merge"];
        merge.extend(names.iter().map(String::as_str));
        let merged = run_in(dir.path(), &merge, None);
        prop_assert_eq!(verdicts(&tiny.stdout), verdicts(&plain.stdout));
        prop_assert_eq!(verdicts(&merged.stdout), verdicts(&plain.stdout));
        prop_assert_eq!(&tiny.stdout, &plain.stdout);
        prop_assert_eq!((tiny.code, merged.code), (plain.code, plain.code));
    }
}
