//! The interactive replay with both rule sets (docs/ui.md#two-rule-sets): the second
//! badge column and the triage labels, the filter by label, the key that switches the
//! events and explanation panes between the rule sets, and the header's counts.

mod common;
use common::{code, command, frame, key};

use std::path::PathBuf;
use std::sync::Arc;
use usage_replay::archive::{Archive, LoadOptions};
use usage_replay::rules::{RuleSet, Rules};
use usage_replay::triage::Triage;
use usage_replay::tui::app::{App, Options, Pane};
use usage_replay::tui::load::data_of;
use usage_replay::tui::Action;

/// The samples where the rule sets part: a same-day resize (2014-only), a stale
/// `.exists` after a resize (2015-only), a lost end-of-day `.exists` (confirmed,
/// 2015's trailing-block U0) and a `terminated_at` delete (error).
const SAMPLES: [&str; 4] = [
    "samples/u2-resize-changes-flavor.jsonl",
    "samples/rules2015-stale-exists-after-resize.jsonl",
    "samples/rules2015-lost-exists-trailing-u0.jsonl",
    "samples/rules2015-terminated-at.jsonl",
];

fn load(rules: Rules, paths: &[&str]) -> App {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let options = LoadOptions { rules, ..Default::default() };
    let archive = Archive::load_with(&paths, options, |_| true).expect("samples load");
    App::new_with_data(Arc::new(data_of(archive)), Options { at: None, color: false, ..Default::default() })
}

fn both() -> App {
    load(Rules::Both, &SAMPLES)
}

/// The streams pane's row of stream `id`.
fn row(screen: &str, id: u32) -> &str {
    let tag = format!("#{id} ");
    screen.lines().find(|l| l.contains(&tag)).unwrap_or_else(|| panic!("no row for #{id} in\n{screen}"))
}

#[test]
fn the_stream_list_shows_both_verdicts_and_the_triage_label() {
    let mut app = both();
    let d = app.data().expect("loaded");
    assert!(d.other.is_some(), "a raw archive opens with both rule sets");
    let screen = frame(&mut app, 160, 40);
    insta::assert_snapshot!("rules_both_160x40", screen);
    // Each row: the 2014 badge, the 2015 one, the label (the order the samples were read in).
    let expect = [
        (1, "ERR", "ok", "error"),
        (2, "U2", "ok", "2014-only"),
        (3, "ok", "U2", "2015-only"),
        (4, "U0", "U0", "confirmed"),
    ];
    for (id, mine, theirs, label) in expect {
        let r = row(&screen, id);
        let cells: Vec<&str> = r.split_whitespace().collect();
        let at = cells.iter().position(|c| *c == mine).unwrap_or_else(|| panic!("{mine} in {r}"));
        assert_eq!(cells.get(at + 1), Some(&theirs), "{r}");
        assert!(r.contains(label), "{label} in {r}");
    }
    // The header counts per label, as the engine pairs them.
    assert!(screen.contains("confirmed 1 2014-only 1 2015-only 1 error 1"), "{screen}");
    // The same labels the headless side by side gives.
    let d = app.data().expect("loaded");
    for s in d.timeline.streams() {
        let other = d.counterpart(s.id).map(|o| o.outcome());
        assert_eq!(d.label_at(s.id, app.playback.clock), Some(Triage::of(s.outcome(), other)));
    }
}

#[test]
fn a_narrow_list_keeps_both_badges_and_drops_the_label() {
    let mut app = both();
    let screen = frame(&mut app, 80, 24);
    insta::assert_snapshot!("rules_both_80x24", screen);
    assert!(row(&screen, 3).contains("ok   U2"), "{screen}");
    assert!(!screen.contains("2015-only  "), "{screen}");
}

#[test]
fn one_rule_set_shows_one_badge_as_before() {
    let mut app = load(Rules::One(RuleSet::Y2014), &SAMPLES);
    assert!(app.data().expect("loaded").other.is_none());
    let screen = frame(&mut app, 160, 40);
    assert!(screen.contains(" res "), "{screen}");
    assert!(!screen.contains("2014-only"), "{screen}");
    // The switch key says there is nothing to switch to.
    key(&mut app, 'r');
    let screen = frame(&mut app, 160, 40);
    assert!(screen.contains("one rule set replayed: nothing to switch to"), "{screen}");
}

#[test]
fn distilled_events_replay_under_both_rule_sets_as_they_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.jsonl");
    let line = r#"{"event_type":"compute.instance.update","message_id":"m1","timestamp":"2014-10-06 10:00:00","instance_id":"i1","tenant_id":"t1"}"#;
    std::fs::write(&path, format!("{line}\n")).expect("write");
    let app = load(Rules::Both, &[path.to_str().expect("utf-8 path")]);
    let d = app.data().expect("loaded");
    assert_eq!(d.timeline.streams().len(), 1);
    // Not distilled again: the same event, with the traits it carries, on each side.
    assert_eq!(d.counterpart(1).map(|s| s.events.len()), Some(1));
    assert_eq!(d.label_at(1, app.playback.clock), Some(Triage::Confirmed), "U0 under each rule set");
}

#[test]
fn the_filter_takes_triage_words() {
    let mut app = both();
    app.update(Action::OpenPrompt);
    for c in "filter triage:2014-only triage:confirmed".chars() {
        app.update(Action::PromptInput(c));
    }
    app.update(Action::PromptSubmit);
    let screen = frame(&mut app, 160, 40);
    assert!(screen.contains("filter: triage:2014-only triage:confirmed"), "{screen}");
    let rows: Vec<u32> = (0..app.rows().len()).filter_map(|r| app.rows().get(r)).collect();
    assert_eq!(rows, vec![2, 4]);
    // With one rule set, a label filter is refused in words and matches nothing.
    let mut one = load(Rules::One(RuleSet::Y2014), &SAMPLES);
    one.update(Action::SetFilter(usage_replay::tui::index::Filter::parse("triage:2014-only")));
    assert!(one.rows().is_empty());
    assert!(one.status.as_ref().is_some_and(|s| s.error && s.text.contains("triage label")));
}

#[test]
fn the_switch_key_moves_the_events_marks_and_the_explanation_to_2015() {
    let mut app = both();
    // The same-day resize: 2014 fails U2 on the resize's .start, 2015 verifies every .exists.
    app.update(Action::SelectStream(2));
    app.update(Action::Explain);
    let before = frame(&mut app, 160, 48);
    insta::assert_snapshot!("rules_resize_2014_160x48", before);
    key(&mut app, 'r');
    assert!(app.showing_other());
    let after = frame(&mut app, 160, 48);
    insta::assert_snapshot!("rules_resize_2015_160x48", after);
    assert!(after.contains("events and explanation under 2015"), "{after}");
    // Under 2015 every .exists is an X with its own result.
    let marked: Vec<&str> = after.lines().filter(|l| l.starts_with("\"│X")).collect();
    assert_eq!(marked.len(), 2, "two .exists, each marked:\n{after}");
    assert!(marked.iter().all(|l| l.contains(" exists ") && l.contains(" ok ")), "{after}");
    // Under 2014 only the end-of-day .exists the checks used is.
    assert_eq!(before.lines().filter(|l| l.starts_with("\"│X")).count(), 1, "{before}");
    // The explanation says in one sentence why 2015 accepted it.
    assert!(after.contains("triage 2014-only: 2015 accepted it"), "{after}");
    // Back again: the 2014 marks and explanation.
    key(&mut app, 'r');
    let again = frame(&mut app, 160, 48);
    assert!(again.contains("events and explanation under 2014"), "{again}");
    let body = |s: &str| s.lines().skip(3).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(body(&again), body(&before));
}

#[test]
fn a_2015_only_stream_names_the_exists_and_the_operation_that_disagree() {
    let mut app = both();
    app.update(Action::SelectStream(3));
    app.update(Action::Explain);
    key(&mut app, 'r');
    app.update(Action::Resize(160, 60));
    let text: String =
        usage_replay::tui::content::explain::lines(&app, 150).into_iter().map(|(l, _)| l + "\n").collect();
    assert!(text.contains("triage 2015-only: 2015 fails it and 2014 does not: the .exists"), "{text}");
    assert!(text.contains("compute.instance.finish_resize.end (msg 4a0f8015-1f76-5578-87cc-d4391994ab14"), "{text}");
    assert!(text.contains("U2 — conflicting launched_at (2015)"), "{text}");
    assert!(text.contains("Warning: Non-EOD .exists found"), "{text}");
    assert_eq!(app.focus, Pane::Explain);
}

#[test]
fn the_label_counts_at_any_time_are_the_labels_of_the_streams_then() {
    let app = both();
    let d = app.data().expect("loaded");
    let o = d.other.as_ref().expect("both rule sets");
    let mut existing: Vec<usize> = Vec::new();
    for e in &d.archive.events {
        for dt in [-1, 0, 1] {
            let t = e.timestamp.plus_micros(dt);
            let mut brute = [0usize; 5];
            for id in 1..=d.timeline.streams().len() as u32 {
                if let Some(l) = o.paired.label_at(&d.timeline, &o.timeline, id, t) {
                    brute[l as usize] += 1;
                }
            }
            assert_eq!(o.paired.counts_at(t), brute, "at {}", t.iso());
            existing.push(brute.iter().sum());
        }
    }
    assert_eq!(existing.last(), Some(&4), "every stream has a label once it exists");
    assert_eq!(o.paired.counts_at(usage_replay::time::Timestamp::MAX), [1, 1, 1, 0, 1]);
}

#[test]
fn the_detail_pane_shows_the_2015_event_and_its_original_record() {
    let mut app = both();
    app.update(Action::SelectStream(3));
    key(&mut app, 'r');
    app.update(Action::NextPane);
    assert_eq!(app.focus, Pane::Events);
    app.update(Action::Bottom);
    app.update(Action::Open);
    let screen = frame(&mut app, 160, 48);
    assert!(screen.contains("Events 2015 of #3"), "{screen}");
    // The 2015 event: its 2015 traits, re-read from the very record it was distilled from.
    let text: String =
        usage_replay::tui::content::detail::lines(&app, 150).into_iter().map(|(l, _)| l + "\n").collect();
    assert!(text.contains("instance_flavor_id"), "{text}");
    assert!(text.contains("Original notification"), "{text}");
    assert!(text.contains("\"event_type\": \"compute.instance.exists\""), "{text}");
    assert!(!text.contains("reading…"), "{text}");
}

/// docs/ui.md#two-rule-sets: between the two rule sets' decisions, the explanation says the label
/// the list shows at the clock, and which label the stream ends with. Here the 2015 stream holds a
/// later `snapshot_instance` error notification, so it expires hours after the 2014 one (an event of
/// another instance, days later, lets the clock stand between the two expiries).
#[test]
fn the_explanation_says_the_label_at_the_clock_and_the_final_one() {
    let mut app = load(Rules::Both, &["tests/fixtures/ui/late-2015-event.jsonl"]);
    let (first, second) = {
        let d = app.data().expect("loaded");
        let mine = d.timeline.stream(1).expect("one 2014 stream").decided_after();
        let theirs = d.counterpart(1).expect("its 2015 counterpart").decided_after();
        (mine, theirs)
    };
    assert!(first < second, "the 2014 stream is decided first");
    let between = first.plus_micros(1);
    app.update(Action::Seek(usage_replay::tui::types::Seek::To(between)));
    app.update(Action::SelectStream(1));
    app.update(Action::Explain);
    app.update(Action::Resize(160, 60));
    let text = |app: &App| -> String {
        usage_replay::tui::content::explain::lines(app, 150).into_iter().map(|(l, _)| l + "\n").collect()
    };
    assert_eq!(app.data().and_then(|d| d.label_at(1, between)), Some(Triage::Only2014));
    assert_eq!(app.playback.clock, between, "a later event of another instance lets the clock stand between");
    let now = text(&app);
    assert!(
        now.contains(
            "triage at the clock: 2014-only (not every verdict is in yet); once both rule sets have decided: confirmed"
        ),
        "{now}"
    );
    // Once both are in, the list and the explanation agree, and a confirmed stream needs no sentence.
    app.update(Action::Seek(usage_replay::tui::types::Seek::To(second.plus_micros(1))));
    let later = text(&app);
    assert!(!later.contains("triage"), "{later}");
}

#[test]
fn a_2015_stream_without_a_2014_counterpart_opens_from_the_problems_pane() {
    use ratatui::crossterm::event::KeyCode;
    // 2014 has the resize's stream only: the other instance is named by `instance_uuid` alone.
    let mut app =
        load(Rules::Both, &["samples/u2-resize-changes-flavor.jsonl", "samples/rules2015-instance-uuid-only.jsonl"]);
    let screen = frame(&mut app, 160, 44);
    assert!(screen.contains("1 2015 stream without a 2014 counterpart (p to browse)"), "{screen}");
    key(&mut app, 'p');
    key(&mut app, 'G');
    let screen = frame(&mut app, 160, 44);
    assert!(screen.contains("2015 streams without a 2014 counterpart (1) — Enter shows one"), "{screen}");
    let line = "#2 4ec2c914-800a-4792-acec-3cc0f3b1d968 2014-10-07 · 2015 U2 · triage 2015-only";
    assert!(screen.contains(line), "{screen}");
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Events);
    assert!(app.showing_other());
    assert_eq!((app.shown_stream().map(|s| s.id), app.opened_unpaired()), (Some(2), Some(2)));
    let screen = frame(&mut app, 160, 44);
    assert!(screen.contains("Events 2015 of #2 (10, no 2014 counterpart)"), "{screen}");
    // Its two .exists, each with its own result.
    let marked: Vec<&str> = screen.lines().filter(|l| l.starts_with("\"│X")).collect();
    assert_eq!(marked.len(), 2, "{screen}");
    // The explanation labels it by its own outcome and says why 2014 has no such stream.
    let text: String =
        usage_replay::tui::content::explain::lines(&app, 150).into_iter().map(|(l, _)| l + "\n").collect();
    assert!(text.contains("triage 2015-only: 2014 has no stream of this instance at all"), "{text}");
    assert!(text.contains("U2 — conflicting launched_at (2015)"), "{text}");
    // The switch key goes back to the listed stream, under 2014.
    key(&mut app, 'r');
    assert_eq!((app.shown_stream().map(|s| s.id), app.showing_other(), app.opened_unpaired()), (Some(1), false, None));
    // Before the stream's first event, the pane says when it appears, and the header does not count it.
    command(&mut app, "goto 2014-10-07 15:00");
    let screen = frame(&mut app, 160, 44);
    assert!(!screen.contains("without a 2014 counterpart (p to browse)"), "{screen}");
    key(&mut app, 'p');
    let screen = frame(&mut app, 160, 44);
    assert!(
        screen.contains("#2 4ec2c914-800a-4792-acec-3cc0f3b1d968 2014-10-07 · appears 2014-10-07 18:14:26Z"),
        "{screen}"
    );
}

#[test]
fn one_rule_set_has_no_section_for_streams_without_a_counterpart() {
    let mut app = load(Rules::One(RuleSet::Y2014), &["samples/rules2015-instance-uuid-only.jsonl"]);
    key(&mut app, 'p');
    let screen = frame(&mut app, 160, 44);
    assert!(!screen.contains("without a 2014 counterpart"), "{screen}");
    assert!(screen.contains("Unmatched events (10)"), "{screen}");
}

#[test]
fn an_opened_2015_stream_gives_way_when_the_selection_moves() {
    use ratatui::crossterm::event::KeyCode;
    let mut paths = SAMPLES.to_vec();
    paths.push("samples/rules2015-instance-uuid-only.jsonl");
    let mut app = load(Rules::Both, &paths);
    app.update(Action::SelectStream(1));
    key(&mut app, 'p');
    key(&mut app, 'G');
    code(&mut app, KeyCode::Enter);
    let opened = app.opened_unpaired().expect("the last problem line opens a 2015 stream");
    assert_eq!(app.shown_stream().map(|s| s.id), Some(opened));
    assert!(app.data().and_then(|d| d.counterpart(1)).is_some_and(|c| c.id != opened));
    // Selecting another listed stream shows that one again, under 2014.
    app.update(Action::SelectStream(2));
    let _ = frame(&mut app, 160, 44);
    assert_eq!((app.opened_unpaired(), app.showing_other()), (None, false));
    assert_eq!(app.shown_stream().map(|s| s.id), Some(2));
}
