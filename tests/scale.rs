//! An audit split with `--shard K/N` and put together with `merge` is the
//! audit of the whole archive, byte for byte (docs/scale.md).

mod common;
use common::{run, run_in};
use std::path::Path;

/// Audit `input` whole, then in `n` parts merged, and compare the two reports
/// and exit statuses.
fn assert_split_equals_whole(input: &str, n: u32, extra: &[&str]) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join(input).display().to_string();
    let mut args = vec!["audit", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&input);
    let whole = run(&args);
    assert!(whole.code == 0 || whole.code == 1, "{input}: {}", whole.stderr);
    let mut parts = Vec::new();
    for k in 0..n {
        let shard = format!("{k}/{n}");
        let mut a = args.clone();
        a.splice(1..1, ["--shard", shard.as_str()]);
        let part = run(&a);
        assert!(part.code == 0 || part.code == 1, "{input} {shard}: {}", part.stderr);
        assert!(part.stdout.contains("\"shard\": {"), "a part says which part it is");
        let name = format!("part-{k}.json");
        std::fs::write(dir.path().join(&name), &part.stdout).expect("write a part");
        parts.push(name);
    }
    // The parts in any order.
    parts.reverse();
    let mut m = vec!["merge"];
    m.extend(parts.iter().map(String::as_str));
    let merged = run_in(dir.path(), &m, None);
    assert_eq!(merged.stderr, "", "{input}");
    if merged.stdout != whole.stdout {
        let first = merged.stdout.lines().zip(whole.stdout.lines()).position(|(a, b)| a != b);
        panic!("{input} {extra:?} in {n} parts: the merge differs from the whole at line {first:?}");
    }
    assert_eq!(merged.code, whole.code, "{input}: the merge exits as the audit does");
}

#[test]
fn a_split_audit_merges_into_the_whole_audit() {
    // Second streams of an instance-day, expiries, errors, unmatched and duplicate records.
    assert_split_equals_whole("tests/data/conformance/raw-edge.jsonl.gz", 3, &["--explain"]);
    assert_split_equals_whole("tests/data/conformance/distilled-edge.jsonl.gz", 2, &[]);
}

#[test]
fn a_split_audit_merges_side_by_side() {
    assert_split_equals_whole(
        "tests/data/conformance/rules2015/raw-2015.jsonl.gz",
        4,
        &["--rules", "both", "--explain"],
    );
    assert_split_equals_whole("tests/data/conformance/rules2015/notigen-day.jsonl.gz", 2, &["--rules", "2015"]);
}

#[test]
fn parts_without_an_instance_still_count() {
    // Many more parts than instances: most parts are empty, and they are parts all the same
    // (status 0, an empty list of streams); rejected and unmatched records are kept once.
    assert_split_equals_whole("samples", 64, &[]);
    let empty = (0..64)
        .map(|k| run(&["audit", "--format", "json", "--shard", &format!("{k}/64"), "samples/day.jsonl"]))
        .find(|r| r.stdout.contains("\"streams\": [],"))
        .expect("an empty part");
    assert_eq!(empty.code, 0, "{}", empty.stderr);
}

#[test]
fn the_merge_refuses_what_is_not_one_whole_split() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let day = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/day.jsonl").display().to_string();
    let part = |shard: &str, name: &str| {
        let r = run(&["audit", "--format", "json", "--shard", shard, &day]);
        std::fs::write(dir.path().join(name), r.stdout).expect("write");
    };
    part("0/3", "a.json");
    part("2/3", "c.json");
    part("0/2", "d.json");
    std::fs::write(dir.path().join("plain.json"), run(&["audit", "--format", "json", &day]).stdout).expect("write");
    std::fs::write(dir.path().join("page.json"), "<html>502 Bad Gateway</html>").expect("write");
    let merge = |args: &[&str]| {
        let mut a = vec!["merge"];
        a.extend_from_slice(args);
        run_in(dir.path(), &a, None)
    };
    let cases: [(&[&str], &str); 5] = [
        (&["a.json", "c.json"], "usage-replay: part 1/3 is missing\n"),
        (&["a.json", "a.json", "c.json"], "usage-replay: part 0/3 is given twice (a.json and a.json)\n"),
        (&["a.json", "d.json"], "usage-replay: a.json and d.json are parts of different splits (number of parts)\n"),
        (
            &["plain.json"],
            "usage-replay: plain.json: not an audit report of a part (run `audit --shard K/N --format json`)\n",
        ),
        (&["page.json"], "usage-replay: page.json: not a JSON report (expected value at line 1 column 1)\n"),
    ];
    for (args, message) in cases {
        let r = merge(args);
        assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (2, "", message), "{args:?}");
    }
}

#[test]
fn a_part_cannot_skip_the_drain() {
    let r = run(&["audit", "--shard", "0/2", "--no-drain", "samples/day.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--shard cannot be used with --no-drain"), "{}", r.stderr);
    let r = run(&["audit", "--shard", "2/2", "samples/day.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("part 2 of 2 does not exist"), "{}", r.stderr);
}
