//! A replay that keeps verdicts only (what an audit without explanations runs)
//! decides every stream exactly as one that keeps everything.

use usage_replay::archive::{Archive, Keep, LoadOptions};
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Keeping, Replay, Stream};
use usage_replay::rules::{RuleSet, Rules};

#[path = "support/as_read.rs"]
mod support;
use support::as_read;

fn load(path: &str, keep: Keep) -> Archive {
    let options = LoadOptions { keep, rules: Rules::Both, one_event_for_both: true, ..LoadOptions::default() };
    Archive::load_with(&[path.into()], options, |_| true).expect("the archive loads")
}

/// What a report prints of a stream's result, whatever the replay kept.
fn printed(s: &Stream) -> (u32, String, String, Option<String>, String, Option<u32>, Vec<String>) {
    let r = s.result.as_ref().expect("every stream is decided after the drain");
    (
        s.id,
        s.state.as_str().to_string(),
        r.outcome.as_str().to_string(),
        r.code.map(|c| c.as_str().to_string()),
        r.message().to_string(),
        r.exists(),
        r.audit2015().as_ref().map(|a| a.warnings.clone()).unwrap_or_default(),
    )
}

#[test]
fn verdicts_only_decides_as_everything_does() {
    for path in [
        "tests/data/conformance/rules2015/raw-2015.jsonl.gz",
        "tests/data/conformance/raw-edge.jsonl.gz",
        "tests/data/conformance/notigen-day.jsonl.gz",
    ] {
        let archive = load(path, Keep::Audit);
        let alt = archive.alt.as_deref().expect("both rule sets");
        for a in [&archive, alt] {
            let all = Replay::run(a, true, IdMode::Stable);
            let verdicts = Replay::run_keeping(a, true, IdMode::Stable, Keeping::Verdicts);
            assert!(!all.streams().is_empty(), "{path}: no stream");
            let want: Vec<_> = all.streams().iter().map(printed).collect();
            let got: Vec<_> = verdicts.streams().iter().map(printed).collect();
            assert_eq!(got, want, "{path} under {}", a.rules.name());
            // The 2014 `.exists` used is kept without the verdict it came from.
            for (s, v) in all.streams().iter().zip(verdicts.streams()) {
                let (full, slim) = (s.result.as_ref().unwrap(), v.result.as_ref().unwrap());
                let used = full.verdict().as_ref().and_then(|v| v.exists).map(|x| x as u32);
                assert_eq!(slim.exists(), used);
                assert!(slim.verdict().is_none() && slim.output().is_empty());
                assert!(slim.audit2015().as_ref().is_none_or(|a| a.results.is_empty() && !a.warnings.is_empty()));
            }
        }
    }
}

/// docs/rules2015.md#what-side-by-side-costs: under both rule sets an audit's second list
/// points at the first rule set's events where one event of a record can stand for both,
/// and each rule set still reads, event for event, exactly the list it makes alone.
#[test]
fn the_second_rule_set_shares_the_first_one_s_events_and_keeps_its_own_list() {
    for path in ["tests/data/conformance/rules2015/raw-2015.jsonl.gz", "tests/data/conformance/notigen-day.jsonl.gz"] {
        let both = load(path, Keep::Audit);
        let alt = both.alt.as_deref().expect("both rule sets");
        let alone = |set| {
            let options = LoadOptions { keep: Keep::Audit, rules: Rules::One(set), ..LoadOptions::default() };
            Archive::load_with(&[path.into()], options, |_| true).expect("the archive loads")
        };
        // Most events are shared: what the first rule set does not distil, or distils
        // otherwise where both read, is held apart (raw-2015: 276 of 2,510 events held;
        // notigen-day: 286 of 4,229).
        assert!(alt.events.held() * 5 < alt.events.len(), "{path}: {} of {} held", alt.events.held(), alt.events.len());
        for (mine, set) in [(&both, RuleSet::Y2014), (alt, RuleSet::Y2015)] {
            let alone = alone(set);
            assert_eq!(alone.events.held(), alone.events.len());
            assert_eq!(mine.events.len(), alone.events.len(), "{path}");
            for (i, (a, b)) in mine.events.iter().zip(alone.events.iter()).enumerate() {
                assert_eq!(as_read(mine, a, set), as_read(&alone, b, set), "{path}: event {i}");
            }
        }
    }
}

/// The explanations of `audit --explain` under `rules`, per rule set, sorted: what the
/// report says of every stream, whichever side it is listed on.
fn explanations(path: &str, rules: &str) -> [Vec<String>; 2] {
    let out = assert_cmd::Command::cargo_bin("usage-replay")
        .expect("the binary is built")
        .args(["audit", "--rules", rules, "--format", "json", "--explain", path])
        .output()
        .expect("the audit runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let rows = |key: &str| report[key].as_array().cloned().unwrap_or_default();
    let mut sides: [Vec<String>; 2] = Default::default();
    for row in rows("streams") {
        let side = usize::from(rules == "2015");
        sides[side].push(row["explanation"].to_string());
        if !row["other"].is_null() {
            sides[1].push(row["other"]["explanation"].to_string());
        }
    }
    sides[1].extend(rows("other_unpaired").iter().map(|row| row["explanation"].to_string()));
    sides.iter_mut().for_each(|s| s.sort());
    sides
}

/// docs/rules2015.md#what-side-by-side-costs: an explanation reads fields beyond the checks'
/// (a later event that carries the `.exists`' value, whatever its type), so with `--explain`
/// each rule set keeps its own events, and explains every stream as it does alone.
#[test]
fn both_rule_sets_explain_each_stream_as_each_does_alone() {
    for path in [
        "tests/data/explain-beyond-the-checks.jsonl",
        "tests/data/conformance/rules2015/raw-2015.jsonl.gz",
        "tests/data/conformance/notigen-day.jsonl.gz",
    ] {
        let [y2014, y2015] = explanations(path, "both");
        assert!(!y2015.is_empty(), "{path}");
        assert_eq!(y2014, explanations(path, "2014")[0], "{path}");
        assert_eq!(y2015, explanations(path, "2015")[1], "{path}");
    }
}
