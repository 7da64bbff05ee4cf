//! The interactive replay driven in-process: actions and keys with explicit
//! clock ticks, frames rendered into ratatui's TestBackend (docs/ui.md#panes).

mod common;
use common::{code, frame, key};

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Outcome, Timeline};
use usage_replay::time::{parse_datetime, Timestamp};
use usage_replay::tui::app::{App, ExternalClock, Options, Pane};
use usage_replay::tui::load::LoadEvent;
use usage_replay::tui::{render, Action};

const MIXED: &str = "tests/fixtures/ui/mixed.jsonl";

fn load_paths(paths: &[PathBuf]) -> (Arc<Archive>, Arc<Timeline>) {
    let archive = Archive::load(paths, |_| true).expect("fixture loads");
    let timeline = Timeline::build(&archive, IdMode::Stable);
    (Arc::new(archive), Arc::new(timeline))
}

fn app_for(path: &str, opts: Options) -> App {
    let (a, t) = load_paths(&[PathBuf::from(path)]);
    App::new_loaded(a, t, opts)
}

fn mixed() -> App {
    app_for(MIXED, Options::default())
}

fn t(s: &str) -> Timestamp {
    parse_datetime(s).expect("test datetime")
}

#[test]
fn loading_screen() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = App::new_loading(vec!["archive/day.jsonl.gz".into()], Options::default());
        let mut p = usage_replay::archive::LoadProgress {
            files_total: 2,
            files_done: 1,
            current: "archive/day.jsonl.gz".into(),
            bytes_read: 3 << 20,
            bytes_total: 12 << 20,
            records: 41_250,
            events: 40_990,
            rejected: 7,
            duplicates: 3,
        };
        app.update(Action::Load(LoadEvent::Progress(p.clone())));
        insta::assert_snapshot!(format!("loading_{w}x{h}"), frame(&mut app, w, h));
        p.bytes_read = p.bytes_total;
        app.update(Action::Load(LoadEvent::Replaying(41_000)));
        assert!(frame(&mut app, w, h).contains("Replaying 41,000 events"));
        // Keys other than quit and help do nothing while loading; q quits.
        key(&mut app, 'j');
        assert!(!app.should_quit());
        key(&mut app, 'q');
        assert!(app.should_quit());
    }
}

#[test]
fn load_failure_ends_the_app() {
    let mut app = App::new_loading(vec!["missing".into()], Options::default());
    app.update(Action::Load(LoadEvent::Failed("no readable input: missing: not found".into())));
    assert!(app.should_quit());
    assert_eq!(app.failure.as_deref(), Some("no readable input: missing: not found"));
}

#[test]
fn stream_list_with_mixed_outcomes() {
    let mut app = mixed();
    // docs/ui.md#panes: loaded, the replay stands at its end, drained.
    assert!(app.playback.is_drained());
    let c = app.counts();
    assert_eq!(c.outcome, [3, 4, 1, 0]);
    assert_eq!(app.rows().len(), 8);
    insta::assert_snapshot!("streams_120x40", frame(&mut app, 120, 40));
    insta::assert_snapshot!("streams_80x24", frame(&mut app, 80, 24));
}

#[test]
fn failing_stream_explanation() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = mixed();
        app.update(Action::Resize(w, h));
        key(&mut app, 'e'); // next failing stream: #4 (error)
        key(&mut app, 'e'); // #5, U2
        let s = app.selected_stream().expect("a stream");
        assert_eq!(s.id, 5);
        assert_eq!(s.outcome(), Outcome::Failed);
        key(&mut app, 'x');
        assert_eq!(app.focus, Pane::Explain);
        let f = frame(&mut app, w, h);
        assert!(f.contains("Conflicting 'instance_type_id' values ('3' != '2')"), "{f}");
        insta::assert_snapshot!(format!("explain_{w}x{h}"), f);
    }
}

#[test]
fn detail_pane_shows_traits_and_the_original_notification() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = mixed();
        app.update(Action::Resize(w, h));
        key(&mut app, 'e');
        key(&mut app, 'e');
        code(&mut app, KeyCode::Enter); // the events of #5
        assert_eq!(app.focus, Pane::Events);
        code(&mut app, KeyCode::Enter); // the detail of the selected event
        assert_eq!(app.focus, Pane::Detail);
        let f = frame(&mut app, w, h);
        assert!(f.contains("instance_type_id 2 (int)"), "{f}");
        insta::assert_snapshot!(format!("detail_{w}x{h}"), f);
        // The original notification is further down.
        key(&mut app, 'G');
        let f = frame(&mut app, w, h);
        assert!(f.contains("\"org.openstack__1__os_distro\": \"com.ubuntu\""), "{f}");
        assert!(f.contains("}"), "{f}");
        key(&mut app, 'k');
        assert!(app.detail_scroll > 0);
        key(&mut app, 'g');
        assert_eq!(app.detail_scroll, 0);
    }
}

#[test]
fn help_overlay() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = mixed();
        key(&mut app, '?');
        insta::assert_snapshot!(format!("help_{w}x{h}"), frame(&mut app, w, h));
        key(&mut app, 'q');
        assert!(app.help.is_none() && !app.should_quit());
    }
}

#[test]
fn too_small_terminal_gets_a_notice() {
    let mut app = mixed();
    let f = frame(&mut app, 40, 10);
    assert!(f.contains("terminal too small"), "{f}");
    insta::assert_snapshot!("too_small_40x10", f);
    // Any size, however odd, draws without panicking.
    for (w, h) in [(1, 1), (59, 40), (60, 16), (200, 16), (60, 100)] {
        frame(&mut app, w, h);
    }
    let mut term = Terminal::new(TestBackend::new(0, 0)).expect("test terminal");
    term.draw(|f| render(&app, f)).expect("draw");
}

#[test]
fn playback_ticks_move_the_clock_exactly_and_states_follow_the_engine() {
    let mut app = mixed();
    code(&mut app, KeyCode::Home);
    let start = app.playback.clock;
    assert_eq!(app.counts().streams, 0);
    common::command(&mut app, "speed 600");
    assert_eq!(app.playback.speed, 600);
    key(&mut app, ' ');
    assert!(app.playback.playing);
    // 10 ticks of 250 ms at ×600: 1500 event-seconds per 10 ticks.
    let mut expected = start;
    for round in 0..40 {
        for _ in 0..10 {
            app.update(Action::Tick(Duration::from_millis(250)));
        }
        expected = expected.plus_micros(1_500_000_000);
        assert_eq!(app.playback.clock, expected, "after round {round}");
        common::assert_matches_engine(&app);
    }
    // Faster and slower follow the speed steps.
    key(&mut app, ']');
    assert_eq!(app.playback.speed, 3600);
    key(&mut app, '[');
    key(&mut app, '[');
    assert_eq!(app.playback.speed, 60);
    // Play through to the end: the replay stops there, drained.
    common::command(&mut app, "speed 86400");
    for _ in 0..20 {
        app.update(Action::Tick(Duration::from_secs(1)));
    }
    assert!(app.playback.is_drained() && !app.playback.playing);
    assert_eq!(app.counts().outcome, [3, 4, 1, 0]);
    // Play at the end starts again from the beginning (docs/ui.md#panes).
    key(&mut app, ' ');
    assert!(app.playback.playing);
    assert_eq!(app.playback.clock, start);
}

#[test]
fn fires_and_expiries_happen_at_their_moment_during_playback() {
    let mut app = mixed();
    // Stream #6 (no .exists) expires two days after its last event, 2014-10-06 15:01.
    common::command(&mut app, "2014-10-08 15:00:59");
    common::command(&mut app, "speed 1");
    let six = |app: &App| {
        let d = app.data().unwrap();
        d.timeline.stream_at(d.timeline.stream(6).unwrap(), app.playback.clock).unwrap()
    };
    assert_eq!(six(&app).outcome, Outcome::Pending);
    key(&mut app, ' ');
    app.update(Action::Tick(Duration::from_millis(1000)));
    // Exactly at the expiry the stream is still active: it expires once the clock passes it.
    assert_eq!(app.playback.clock, t("2014-10-08 15:01:00"));
    assert_eq!(six(&app).outcome, Outcome::Pending);
    app.update(Action::Tick(Duration::from_micros(1)));
    assert_eq!(six(&app).outcome, Outcome::Failed);
    common::assert_matches_engine(&app);
}

#[test]
fn seeking_back_then_forward_equals_playing_straight() {
    let mut straight = mixed();
    code(&mut straight, KeyCode::Home);
    common::command(&mut straight, "speed 3600");
    key(&mut straight, ' ');
    for _ in 0..17 {
        straight.update(Action::Tick(Duration::from_secs(1)));
    }
    key(&mut straight, ' ');
    let target = straight.playback.clock;
    let expect = frame(&mut straight, 120, 40);

    let mut seeker = mixed();
    common::command(&mut seeker, &target.iso());
    // Backwards (exact, no replay), then forward again by the same amount.
    common::command(&mut seeker, "-6h");
    assert_eq!(seeker.playback.clock, target.plus_micros(-6 * 3600 * 1_000_000));
    common::assert_matches_engine(&seeker);
    common::command(&mut seeker, "+6h");
    assert_eq!(seeker.playback.clock, target);
    common::assert_matches_engine(&seeker);
    assert_eq!(frame(&mut seeker, 120, 40), expect);
    // From the end and back again.
    code(&mut seeker, KeyCode::End);
    assert!(seeker.playback.is_drained());
    common::command(&mut seeker, &target.iso());
    assert_eq!(frame(&mut seeker, 120, 40), expect);
}

#[test]
fn stepping_moves_event_by_event() {
    let mut app = mixed();
    let d_events: Vec<Timestamp> = app.data().unwrap().archive.events.iter().map(|e| e.timestamp).collect();
    code(&mut app, KeyCode::Home);
    assert_eq!(app.counts().events, 0);
    key(&mut app, '.');
    assert_eq!(app.playback.clock, d_events[0]);
    assert_eq!(app.counts().events, 1);
    key(&mut app, '.');
    assert_eq!(app.playback.clock, d_events[1]);
    key(&mut app, ',');
    assert_eq!(app.playback.clock, d_events[0]);
    key(&mut app, ',');
    assert_eq!(app.counts().events, 0);
    // From the end, one step back is the last event, not yet drained.
    code(&mut app, KeyCode::End);
    key(&mut app, ',');
    assert_eq!(app.playback.clock, *d_events.last().unwrap());
    assert!(!app.playback.is_drained());
    key(&mut app, '.');
    assert!(app.playback.is_drained());
}

#[test]
fn opens_at_a_given_time_and_shows_pending_streams() {
    let at = t("2014-10-06T23:00:00Z");
    let mut app = app_for(MIXED, Options { at: Some(at), color: true, ..Default::default() });
    assert_eq!(app.playback.clock, at);
    // Stream #8's only event is the .exists of the next morning.
    assert_eq!(app.counts().outcome, [0, 0, 0, 7]);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("2014-10-06 23:00:00Z UTC"), "{f}");
    assert!(f.contains("open: expires"), "{f}");
    assert!(f.contains("pending at the playback clock"), "{f}");
    common::assert_matches_engine(&app);
}

#[test]
fn prompt_search_filter_and_sort() {
    let mut app = mixed();
    for c in ":#6".chars() {
        key(&mut app, c);
    }
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_stream().map(|s| s.id), Some(6));
    for c in "/1e05".chars() {
        key(&mut app, c);
    }
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_stream().map(|s| s.id), Some(7));
    key(&mut app, 'n'); // the only match: stays
    assert_eq!(app.selected_stream().map(|s| s.id), Some(7));
    common::command(&mut app, "filter U2");
    assert_eq!(app.rows().len(), 1);
    assert_eq!(app.selected_stream().map(|s| s.id), Some(5));
    key(&mut app, 'F');
    assert_eq!(app.rows().len(), 8);
    key(&mut app, 'o'); // failed
    assert_eq!(app.rows().len(), 4);
    key(&mut app, 'o'); // error
    assert_eq!(app.rows().len(), 1);
    key(&mut app, 'F');
    common::command(&mut app, "sort outcome");
    let first = app.rows().get(0).unwrap();
    assert_eq!(app.data().unwrap().stream(first).unwrap().outcome(), Outcome::Failed);
    common::command(&mut app, "sort id desc");
    assert_eq!(app.rows().get(0), Some(8));
    // Bad input says why and changes nothing.
    let clock = app.playback.clock;
    common::command(&mut app, "+6x");
    assert!(app.status.as_ref().is_some_and(|s| s.error));
    assert_eq!(app.playback.clock, clock);
    common::command(&mut app, "#99");
    assert!(app.status.as_ref().is_some_and(|s| s.error && s.text.contains("no stream #99")));
    // A stream that does not exist yet at the clock moves the clock to it.
    code(&mut app, KeyCode::Home);
    common::command(&mut app, "#5");
    assert_eq!(app.selected_stream().map(|s| s.id), Some(5));
    assert_eq!(app.playback.clock, t("2014-10-06 13:10:00"));
    // Esc closes the prompt without running it.
    key(&mut app, ':');
    key(&mut app, 'q');
    code(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none() && !app.should_quit());
}

#[test]
fn a_filter_that_shrinks_the_list_shows_every_match() {
    let mut app = app_for("samples/day.jsonl", Options::default());
    key(&mut app, 'G');
    frame(&mut app, 120, 40);
    key(&mut app, 'o'); // failed
    let f = frame(&mut app, 120, 40);
    assert_eq!(app.rows().len(), 4);
    let shown = f.lines().filter(|l| l.contains("│ #") || l.contains("│▸#")).count();
    assert_eq!(shown, 4, "every failing stream is listed, not only the selected one:\n{f}");
}

#[test]
fn filter_words_add_up_and_the_prompt_extends_the_filter() {
    let mut app = app_for("samples/day.jsonl", Options::default());
    code(&mut app, KeyCode::End);
    common::command(&mut app, "filter U1 U5");
    assert_eq!(app.rows().len(), 2, "either code");
    // `f` offers the filter followed by a space, ready for one more word.
    key(&mut app, 'f');
    assert_eq!(app.prompt.as_ref().map(|p| p.input.as_str()), Some("filter U1 U5 "));
    for c in "U2".chars() {
        key(&mut app, c);
    }
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.rows().len(), 4);
    // Ctrl-W erases a word, Ctrl-U the whole input.
    key(&mut app, 'f');
    app.handle_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    assert_eq!(app.prompt.as_ref().map(|p| p.input.as_str()), Some("filter U1 U5 "));
    app.handle_key(KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
    assert_eq!(app.prompt.as_ref().map(|p| p.input.as_str()), Some("filter U1 "));
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    assert_eq!(app.prompt.as_ref().map(|p| p.input.as_str()), Some(""));
}

#[test]
fn problems_pane_rests_only_on_records_and_opens_a_rejected_one() {
    use usage_replay::tui::content::problems;
    let mut app = mixed();
    key(&mut app, 'p');
    let n = problems::line_count(&app);
    let mut seen = Vec::new();
    for _ in 0..n + 2 {
        assert!(problems::selectable(&app, app.problems.sel), "the cursor rests on line {}", app.problems.sel);
        seen.push(app.problems.sel);
        key(&mut app, 'j');
    }
    for _ in 0..n + 2 {
        key(&mut app, 'k');
        assert!(problems::selectable(&app, app.problems.sel), "the cursor rests on line {}", app.problems.sel);
    }
    assert_eq!(app.problems.sel, 0);
    while problems::rejected_at(&app, app.problems.sel).is_none() {
        key(&mut app, 'j');
    }
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Detail);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("(rejected record)") && f.contains("reason      invalid JSON at column 43"), "{f}");
    assert!(f.contains("First bytes of the record"), "{f}");
    key(&mut app, 'q');
    assert_eq!(app.focus, Pane::Problems);
}

#[test]
fn keys_that_cannot_go_further_say_so() {
    let mut app = mixed();
    code(&mut app, KeyCode::Home);
    key(&mut app, ',');
    assert_eq!(app.status.as_ref().map(|s| s.text.as_str()), Some("at the start: no event is replayed yet"));
    code(&mut app, KeyCode::End);
    key(&mut app, 'G');
    key(&mut app, 'e');
    assert_eq!(app.status.as_ref().map(|s| s.text.as_str()), Some("wrapped to the top of the list"));
    // A stream part-way through says how many of its events the clock has replayed.
    common::command(&mut app, "2014-10-06 13:12");
    common::command(&mut app, "#5");
    assert!(frame(&mut app, 120, 40).contains("Events of #5 (1 of 3 replayed)"));
}

#[test]
fn esc_never_quits() {
    let mut app = mixed();
    code(&mut app, KeyCode::Enter);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Streams);
    code(&mut app, KeyCode::Esc);
    assert!(!app.should_quit(), "one Esc too many must not end the session");
    assert!(frame(&mut app, 120, 40).contains("nothing to close here: q quits"));
    key(&mut app, 'q');
    assert!(app.should_quit());
}

#[test]
fn back_and_quit() {
    let mut app = mixed();
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Events);
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Detail);
    key(&mut app, 'q');
    assert_eq!(app.focus, Pane::Events);
    code(&mut app, KeyCode::Esc);
    assert_eq!(app.focus, Pane::Streams);
    key(&mut app, 'p');
    assert_eq!(app.focus, Pane::Problems);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("Rejected records (2)"), "{f}");
    assert!(f.contains("invalid JSON at column 43"), "{f}");
    assert!(f.contains("not distilled (no event definition): image.upload ×1"), "{f}");
    assert!(f.contains("Unmatched events (1)"), "{f}");
    assert!(f.contains("no instance_id trait"), "{f}");
    // Enter on the unmatched event shows its detail.
    key(&mut app, 'G');
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Detail);
    assert!(frame(&mut app, 120, 40).contains("(unmatched event)"));
    key(&mut app, 'q');
    key(&mut app, 'q');
    assert_eq!(app.focus, Pane::Streams);
    assert!(!app.should_quit());
    key(&mut app, 'q');
    assert!(app.should_quit());
}

#[test]
fn help_lists_exactly_the_key_map() {
    let mut app = mixed();
    key(&mut app, '?');
    // Tall enough for every line of the help.
    let f = frame(&mut app, 120, 100);
    // The text inside the help box.
    let lines: Vec<Vec<char>> = f.lines().map(|l| l.trim_matches('"').chars().collect()).collect();
    let top = lines.iter().position(|l| l.iter().collect::<String>().contains("┌ Help")).expect("help box");
    let left = lines[top].iter().position(|&c| c == '┌').expect("corner");
    let right = left + lines[top][left..].iter().position(|&c| c == '┐').expect("corner");
    let shown: Vec<String> = lines[top + 1..]
        .iter()
        .take_while(|l| l[left] != '└')
        .map(|l| l[left + 1..right].iter().collect::<String>().trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    // The keys follow the legend.
    let keys_at = shown.iter().position(|l| l == "Everywhere").expect("the keys");
    let shown = shown[keys_at..].to_vec();
    // Built here from the bindings themselves, independently of the help's code.
    let km = &app.keymap;
    let mut expected: Vec<String> = Vec::new();
    let mut scopes = Vec::new();
    for b in &km.bindings {
        if !scopes.contains(&b.scope) {
            scopes.push(b.scope);
        }
    }
    let mut bound = 0;
    for scope in scopes {
        expected.push(scope.title().to_string());
        let mut actions: Vec<&Action> = Vec::new();
        for b in km.bindings.iter().filter(|b| b.scope == scope) {
            if !actions.contains(&&b.action) {
                actions.push(&b.action);
            }
        }
        for a in actions {
            let keys: Vec<String> =
                km.bindings.iter().filter(|b| b.scope == scope && b.action == *a).map(|b| b.key.label()).collect();
            bound += keys.len();
            expected.push(format!("  {:<18} {}", keys.join(" "), a.describe()));
        }
    }
    assert_eq!(bound, km.bindings.len());
    assert_eq!(shown, expected);
}

/// An archive whose fields try to drive the terminal.
const EVIL: &str = concat!(
    r#"{"event_type": "compute.instance.create.end", "publisher_id": "compute.h\u001b[31mred", "timestamp": "2014-10-06 10:00:00", "_context_request_id": "req-\u0007bell", "message_id": "m-1\u001b]0;pwned\u0007", "payload": {"instance_id": "evil-\u001b[2J-\u009b1m-\u202eabc", "tenant_id": "t\r\nx", "instance_type": "\u001b[2J\u001b]0;pwned\u0007", "launched_at": "2014-10-06 10:00:00", "state": "active"}}"#,
    "\n",
    r#"{"event_type": "compute.instance.exists", "publisher_id": "compute.h", "timestamp": "2014-10-07 00:01:00", "message_id": "m-2", "payload": {"instance_id": "evil-\u001b[2J-\u009b1m-\u202eabc", "tenant_id": "t\r\nx", "instance_type": "\u001b[2J", "launched_at": "2014-10-06 10:00:00", "state": "active", "audit_period_beginning": "2014-10-06", "audit_period_ending": "2014-10-07", "deleted_at": "2014-10-06 09:00:00"}}"#,
    "\n",
    "{\"event_type\": \"compute.instance.update\", \x1b[2J\x1b]0;pwned\x07 broken\n",
);

fn assert_inert(term: &Terminal<TestBackend>) {
    for cell in term.backend().buffer().content() {
        for c in cell.symbol().chars() {
            assert!(!c.is_control(), "a control character reached the screen: {c:?}");
            assert!(!matches!(c as u32, 0x202a..=0x202e | 0x2066..=0x2069), "a bidi override reached the screen");
        }
    }
}

#[test]
fn escape_sequences_from_the_archive_are_drawn_inert() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("evil.jsonl");
    std::fs::write(&path, EVIL).expect("write");
    let (a, t) = load_paths(&[path]);
    assert_eq!(a.events.len(), 2);
    assert_eq!(a.rejected.len(), 1);
    let mut app = App::new_loaded(a, t, Options::default());
    let mut screens = Vec::new();
    type Step = Box<dyn Fn(&mut App)>;
    let steps: Vec<Step> = vec![
        Box::new(|_| {}),
        Box::new(|a| key(a, 'x')),
        Box::new(|a| {
            key(a, 'q');
            code(a, KeyCode::Enter);
            key(a, 'g');
            code(a, KeyCode::Enter);
        }),
        Box::new(|a| key(a, 'G')),
        Box::new(|a| {
            key(a, 'q');
            key(a, 'q');
            key(a, 'p');
        }),
        Box::new(|a| {
            key(a, 'q');
            for c in "/\u{1b}[2J".chars() {
                key(a, c);
            }
        }),
    ];
    for step in steps {
        step(&mut app);
        app.update(Action::Resize(120, 40));
        app.fulfil_requests();
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
        term.draw(|f| render(&app, f)).expect("draw");
        assert_inert(&term);
        screens.push(term.backend().to_string());
    }
    let all = screens.join("\n");
    // The sequences are shown as visible escapes, not interpreted.
    assert!(all.contains("evil-\\x1b[2J-\\x9b1m-\\u{202e}abc"), "{all}");
    assert!(all.contains("\\x1b[2J\\x1b]0;pwned\\x07"), "{all}");
    assert!(all.contains("m-1\\x1b]0;pwned\\x07"), "{all}");
    assert!(all.contains("t\\x0d\\x0ax"), "{all}");
}

#[test]
fn external_clock_hooks() {
    let mut app = mixed();
    key(&mut app, ' ');
    app.update(Action::FollowedClock(ExternalClock::Time(t("2014-10-06 14:00:00"))));
    assert!(!app.playback.playing);
    assert_eq!(app.playback.clock, t("2014-10-06 14:00:00"));
    assert_eq!(app.clock(), t("2014-10-06 14:00:00"));
    common::assert_matches_engine(&app);
    // Backwards too.
    app.update(Action::FollowedClock(ExternalClock::Time(t("2014-10-06 08:00:00"))));
    assert_eq!(app.counts().events, 2);
    assert!(frame(&mut app, 120, 40).contains("2014-10-06 08:00:00Z UTC"));
    assert!(frame(&mut app, 120, 40).contains("following the time-sync service"));
    app.update(Action::FollowedClock(ExternalClock::NotPublished));
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("waiting for the time-sync service to publish a time"), "{f}");
    app.update(Action::FollowedClock(ExternalClock::Unavailable("connection refused".into())));
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("time-sync unavailable, retrying: connection refused"), "{f}");
    // The UI keeps working meanwhile.
    key(&mut app, 'j');
    assert_eq!(app.streams.sel, 1);
    // Publishing and following exclude each other; a publishing app says so.
    let mut publisher = mixed();
    publisher.set_publishing(Some("127.0.0.1:8001".into()));
    assert!(frame(&mut publisher, 120, 40).contains("publishing clock on 127.0.0.1:8001"));
    // Drained, the clock to publish is the first moment everything has decided.
    code(&mut app, KeyCode::End);
    let settled = app.clock();
    assert_ne!(settled, Timestamp::MAX);
    assert_eq!(app.data().unwrap().timeline.counts_at(settled), [3, 4, 1, 0]);
    assert_eq!(app.data().unwrap().timeline.counts_at(settled.plus_micros(-1))[3], 1);
    // A time received before the archive is loaded applies once it is.
    let mut loading = App::new_loading(vec![MIXED.into()], Options::default());
    loading.update(Action::FollowedClock(ExternalClock::Time(t("2014-10-06 12:00:00"))));
    let (a, tl) = load_paths(&[PathBuf::from(MIXED)]);
    loading.update(Action::Load(LoadEvent::Done(Arc::new(usage_replay::tui::app::Data::new(a, tl)))));
    assert_eq!(loading.playback.clock, t("2014-10-06 12:00:00"));
}

#[test]
fn colours_carry_meaning_and_no_color_has_none() {
    use ratatui::style::Color;
    for color in [true, false] {
        let mut app = app_for(MIXED, Options { at: None, color, ..Default::default() });
        app.update(Action::Resize(120, 40));
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
        term.draw(|f| render(&app, f)).expect("draw");
        let buf = term.backend().buffer();
        let text = term.backend().to_string();
        // The U2 badge of stream #5 (row 5 of the list).
        let row = text.lines().position(|l| l.contains("#5 1c0ffee2")).expect("row of #5") as u16;
        let col = text.lines().nth(row as usize).unwrap().trim_start_matches('"').find(" U2 ").unwrap();
        let cell = &buf[(col as u16 + 1, row)];
        if color {
            assert_eq!(cell.fg, Color::Red);
        } else {
            assert!(buf.content().iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
        }
    }
}

#[test]
fn mouse_wheel_and_click() {
    use ratatui::crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = mixed();
    let f = frame(&mut app, 120, 40);
    let row = f.lines().position(|l| l.contains("#3 1c0ffee1")).expect("row of #3") as u16;
    let m = |kind, column, row| MouseEvent { kind, column, row, modifiers: KeyModifiers::NONE };
    app.handle_mouse(m(MouseEventKind::Down(MouseButton::Left), 10, row));
    assert_eq!(app.selected_stream().map(|s| s.id), Some(3));
    app.handle_mouse(m(MouseEventKind::ScrollDown, 10, row));
    assert_eq!(app.selected_stream().map(|s| s.id), Some(6));
    // The wheel over the explanation scrolls it, not the list.
    app.handle_mouse(m(MouseEventKind::ScrollDown, 100, 30));
    assert_eq!(app.selected_stream().map(|s| s.id), Some(6));
    assert!(app.explain_scroll > 0);
}

#[test]
fn an_archive_with_no_events_still_draws() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(&path, "not json\n{\"event_type\": \"image.upload\", \"message_id\": \"x\", \"timestamp\": \"2014-10-06\", \"payload\": {}}\n").expect("write");
    let (a, tl) = load_paths(&[path]);
    let mut app = App::new_loaded(a, tl, Options::default());
    for k in [' ', '.', ',', 'e', 'x', 'j', 'p', 'G'] {
        key(&mut app, k);
        app.update(Action::Tick(Duration::from_secs(1)));
        let f = frame(&mut app, 80, 24);
        assert!(f.contains("no events") || f.contains("Problems"), "{f}");
    }
}

#[test]
fn readme_lists_the_key_map() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let section =
        readme.split("## Interactive replay").nth(1).expect("the section").split("\n## ").next().unwrap_or("");
    let table = mixed().keymap.markdown();
    assert!(section.contains(&table), "the README's key table differs from the key map; it should be:\n{table}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any sequence of seeks, forwards and backwards, and ticks lands on exactly
    /// the engine's state at the resulting time.
    #[test]
    fn any_seek_sequence_matches_the_engine(
        moves in proptest::collection::vec((0u64..=1000, proptest::bool::ANY, 0u64..5000), 1..8)
    ) {
        let mut app = mixed();
        let r = app.playback.range;
        let span = (r.settled.micros() - r.start.micros()) as u64;
        for (at, play, ms) in moves {
            let t = Timestamp::from_micros(r.start.micros() + (span * at / 1000) as i64);
            common::command(&mut app, &t.iso());
            if play {
                key(&mut app, ' ');
                app.update(Action::Tick(Duration::from_millis(ms)));
                key(&mut app, ' ');
            }
            common::assert_matches_engine(&app);
        }
    }
}

#[test]
fn key_hints_on_screen_follow_the_key_map() {
    use usage_replay::tui::keymap::Key;
    let mut app = mixed();
    // Rebind: every hint that names these keys must follow.
    for b in app.keymap.bindings.iter_mut() {
        match (&b.action, b.key.code) {
            (Action::NextPane, _) => b.key = Key { code: KeyCode::F(2), ctrl: false },
            (Action::PromptSubmit, _) => b.key = Key { code: KeyCode::F(5), ctrl: false },
            (Action::Back, KeyCode::Char('q')) => b.key = Key { code: KeyCode::Char('x'), ctrl: true },
            _ => {}
        }
    }
    let compact = frame(&mut app, 80, 24);
    assert!(compact.contains("· F(2): next pane"), "{compact}");
    assert!(!compact.contains("Tab: next pane"), "{compact}");
    app.update(Action::Close);
    assert_eq!(app.status.as_ref().map(|s| s.text.as_str()), Some("nothing to close here: C-x quits"));
    app.update(Action::OpenPrompt);
    let prompt = frame(&mut app, 120, 40);
    assert!(prompt.contains("F(5) runs · Esc cancels"), "{prompt}");
    app.update(Action::PromptCancel);
    app.update(Action::ToggleHelp);
    let help = frame(&mut app, 120, 40);
    assert!(help.contains("Help — ? or C-x closes, j/k scroll"), "{help}");
}

#[test]
fn whole_screen_events_pane() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = mixed();
        app.update(Action::Resize(w, h));
        key(&mut app, 'e');
        key(&mut app, 'e'); // #5, U2
        code(&mut app, KeyCode::Enter);
        assert_eq!(app.focus, Pane::Events);
        let f = frame(&mut app, w, h);
        assert!(f.contains("resize.prep.start"), "{f}");
        insta::assert_snapshot!(format!("events_{w}x{h}"), f);
    }
}

#[test]
fn whole_screen_problems_pane() {
    let mut app = mixed();
    key(&mut app, 'p');
    assert_eq!(app.focus, Pane::Problems);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("Rejected records (2)"), "{f}");
    assert!(f.contains("Unmatched events (1)"), "{f}");
    insta::assert_snapshot!("problems_120x40", f);
}

#[test]
fn whole_screen_open_prompt() {
    let mut app = mixed();
    app.update(Action::OpenPrompt);
    for c in "+6h".chars() {
        app.update(Action::PromptInput(c));
    }
    let f = frame(&mut app, 120, 40);
    assert!(f.contains(":+6h█"), "{f}");
    insta::assert_snapshot!("prompt_120x40", f);
}

#[test]
fn whole_screen_header_while_following_a_clock() {
    let mut app = mixed();
    app.set_following(Some("http://127.0.0.1:8001/time".into()));
    app.update(Action::FollowedClock(ExternalClock::Time(t("2014-10-06 14:00:00"))));
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("⇄ following the time-sync service"), "{f}");
    // The footer offers no key that would move the clock.
    assert!(!f.contains(" play "), "{f}");
    insta::assert_snapshot!("following_120x40", f);
}
