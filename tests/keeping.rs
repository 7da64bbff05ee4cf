//! A replay that keeps verdicts only (what an audit without explanations runs)
//! decides every stream exactly as one that keeps everything.

use usage_replay::archive::{Archive, Keep, LoadOptions};
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Keeping, Replay, Stream};
use usage_replay::rules::Rules;

fn load(path: &str, keep: Keep) -> Archive {
    let options = LoadOptions { keep, rules: Rules::Both, ..LoadOptions::default() };
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
        r.message.clone(),
        r.exists,
        r.audit2015.as_ref().map(|a| a.warnings.clone()).unwrap_or_default(),
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
                let used = full.verdict.as_ref().and_then(|v| v.exists).map(|x| x as u32);
                assert_eq!(slim.exists, used);
                assert!(slim.verdict.is_none() && slim.output.is_empty());
                assert!(slim.audit2015.as_ref().is_none_or(|a| a.results.is_empty() && !a.warnings.is_empty()));
            }
        }
    }
}

/// docs/rules2015.md#what-side-by-side-costs: under both rule sets an audit's second list
/// points at the first rule set's events where a record gave the two the same event, and is
/// still, event for event, the list the second rule set makes alone.
#[test]
fn the_second_rule_set_shares_the_first_one_s_events_and_keeps_its_own_list() {
    use usage_replay::rules::RuleSet;
    for path in ["tests/data/conformance/rules2015/raw-2015.jsonl.gz", "tests/data/conformance/notigen-day.jsonl.gz"] {
        let both = load(path, Keep::Audit);
        let alt = both.alt.as_deref().expect("both rule sets");
        let options = LoadOptions { keep: Keep::Audit, rules: Rules::One(RuleSet::Y2015), ..LoadOptions::default() };
        let alone = Archive::load_with(&[path.into()], options, |_| true).expect("the archive loads");
        assert_eq!(alt.events.len(), alone.events.len(), "{path}");
        assert!(alt.events.held() < alt.events.len(), "{path}: {} of {} held", alt.events.held(), alt.events.len());
        assert_eq!(alone.events.held(), alone.events.len());
        for (i, (a, b)) in alt.events.iter().zip(alone.events.iter()).enumerate() {
            assert_eq!(a.to_json(&alt.symbols), b.to_json(&alone.symbols), "{path}: event {i}");
            assert_eq!(a.origin.offset, b.origin.offset, "{path}: event {i}");
        }
        assert_eq!(alt.events.last().map(|e| e.timestamp), alone.events.last().map(|e| e.timestamp));
    }
}
