//! The interactive replay's aids for a first look: search beyond the clock,
//! the end-of-replay clock, the legend, keys pressed in the wrong pane, the
//! selected stream's whole message, the tenant, and an empty archive.

mod common;
use common::{code, frame, key};

use ratatui::crossterm::event::KeyCode;
use std::path::PathBuf;
use std::sync::Arc;
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::Timeline;
use usage_replay::time::{parse_datetime, Timestamp};
use usage_replay::tui::app::{App, Options, Pane};
use usage_replay::tui::Action;

const MIXED: &str = "tests/fixtures/ui/mixed.jsonl";

fn app_for(paths: &[PathBuf], opts: Options) -> App {
    let archive = Archive::load(paths, |_| true).expect("fixture loads");
    let timeline = Timeline::build(&archive, IdMode::Stable);
    App::new_loaded(Arc::new(archive), Arc::new(timeline), opts)
}

fn mixed_at(at: Option<&str>) -> App {
    app_for(&[PathBuf::from(MIXED)], Options { at: at.map(t), color: true, ..Default::default() })
}

fn search(app: &mut App, term: &str) {
    key(app, '/');
    for c in term.chars() {
        key(app, c);
    }
    code(app, KeyCode::Enter);
}

fn t(s: &str) -> Timestamp {
    parse_datetime(s).expect("test datetime")
}

fn status(app: &App) -> String {
    app.status.as_ref().map(|s| s.text.clone()).unwrap_or_default()
}

#[test]
fn search_finds_a_stream_the_clock_has_not_reached_and_enter_goes_there() {
    let mut app = mixed_at(Some("2014-10-06T23:00:00Z"));
    // Stream #8's only event is the .exists of the next morning.
    assert!(app.rows().row_of(8).is_none());
    search(&mut app, "1c0ffee6");
    assert_eq!(
        status(&app),
        "#8 1c0ffee6-7a5e-4b1d-9c3e-5e1ec7ab1e06 appears 2014-10-07 00:05:06Z — Enter jumps there"
    );
    assert_eq!(app.playback.clock, t("2014-10-06T23:00:00Z"), "the search alone does not move the clock");
    insta::assert_snapshot!("search_beyond_the_clock_120x40", frame(&mut app, 120, 40));
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_stream().map(|s| s.id), Some(8));
    assert_eq!(app.playback.clock, app.selected_stream().unwrap().first_event);
    assert_eq!(app.focus, Pane::Streams);
    common::assert_matches_engine(&app);
    // Enter again opens the stream's events, as usual.
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Events);
}

#[test]
fn search_beyond_the_clock_is_left_by_any_other_key_and_finds_hidden_streams() {
    let mut app = mixed_at(Some("2014-10-06T23:00:00Z"));
    search(&mut app, "1c0ffee6");
    key(&mut app, 'j');
    code(&mut app, KeyCode::Enter);
    assert_eq!(app.focus, Pane::Events, "Enter opens the selected stream once the jump is dropped");
    assert_eq!(app.playback.clock, t("2014-10-06T23:00:00Z"));
    // At the end, a stream the filter hides is found and Enter clears the filter.
    let mut app = mixed_at(None);
    common::command(&mut app, "filter verified");
    search(&mut app, "1c0ffee3");
    let id = app
        .data()
        .unwrap()
        .timeline
        .streams()
        .iter()
        .find(|s| usage_replay::tui::index::instance_text(&app.data().unwrap().archive, s).starts_with("1c0ffee3"));
    let id = id.expect("stream").id;
    assert_eq!(
        status(&app),
        format!("#{id} 1c0ffee3-7a5e-4b1d-9c3e-5e1ec7ab1e03 is hidden by the filter — Enter shows it")
    );
    code(&mut app, KeyCode::Enter);
    assert!(app.filter.is_empty());
    assert_eq!(app.selected_stream().map(|s| s.id), Some(id));
    // Nothing anywhere: said plainly.
    search(&mut app, "no-such-instance");
    assert_eq!(status(&app), "no stream matches \"no-such-instance\"");
}

#[test]
fn at_the_end_the_clock_playhead_and_marks_stand_at_the_last_decision() {
    let mut app = mixed_at(None);
    let d = app.data().unwrap();
    let last_decision = d.timeline.last_decision().expect("decisions");
    let last_event = d.archive.events.last().unwrap().timestamp;
    assert!(last_decision > last_event, "the fixture ends with an expiry after its last event");
    assert!(app.playback.is_drained());
    assert_eq!(app.playback.shown(), last_decision);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains(&format!("{} UTC · drained", last_decision.short())), "{f}");
    assert!(f.contains(&format!("→ {} ", last_decision.short())), "the timeline ends there too:\n{f}");
    // Seeking between the last event and the last decision, `.` moves forward to the end.
    let between = last_event.plus_micros(1);
    app.update(Action::Seek(usage_replay::tui::Seek::To(between)));
    assert!(!app.playback.is_drained());
    key(&mut app, '.');
    assert!(app.playback.is_drained());
    assert!(app.playback.shown() > between, "`.` never moves the clock backwards");
    // A seek past the end says where the clock stands.
    app.update(Action::Seek(usage_replay::tui::Seek::To(t("2014-10-20T00:00:00Z"))));
    assert_eq!(
        status(&app),
        format!(
            "2014-10-20 00:00:00Z is past the last decision ({}): the replay is drained, every verdict decided",
            last_decision.short()
        )
    );
    // `,` from the end goes back to the last event.
    key(&mut app, ',');
    assert_eq!(app.playback.shown(), last_event);
}

#[test]
fn the_help_opens_with_a_legend_of_symbols_and_codes() {
    let mut app = mixed_at(None);
    key(&mut app, '?');
    let f = frame(&mut app, 120, 50);
    insta::assert_snapshot!("legend_120x50", f);
    for sym in ["▲", "✗", "▸", "X ", "! ", "ERR", "…", "ok", "⇄", "→"] {
        assert!(f.contains(&format!("│  {sym}")), "{sym} is in the legend:\n{f}");
    }
    for c in usage_replay::pipeline::Code::ALL {
        let line = format!("{:<10} {}", c.as_str(), usage_replay::explain::code_title(c));
        assert!(f.contains(&line), "{line:?} in the legend:\n{f}");
    }
}

#[test]
fn a_key_of_another_pane_says_where_it_acts() {
    let mut app = mixed_at(None);
    code(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Events);
    key(&mut app, 'f');
    assert_eq!(status(&app), "f (filter: code, outcome, state, text) acts in the streams pane — S-Tab to it");
    assert!(app.prompt.is_none());
    key(&mut app, 'x');
    key(&mut app, 'o');
    assert_eq!(status(&app), "o (cycle the outcome filter) acts in the streams pane — Tab to it");
    assert!(app.filter.is_empty());
    // A key bound nowhere stays silent.
    key(&mut app, 'z');
    assert_eq!(status(&app), "o (cycle the outcome filter) acts in the streams pane — Tab to it");
}

#[test]
fn the_selected_streams_whole_message_is_under_the_list() {
    let mut app = mixed_at(None);
    common::command(&mut app, "filter U2");
    let f = frame(&mut app, 120, 40);
    insta::assert_snapshot!("message_line_120x40", f);
    let s = app.selected_stream().expect("a U2 stream");
    let msg = s.result.as_ref().unwrap().message().to_string();
    assert!(msg.len() > 24, "the column cuts it: {msg}");
    let under: String = f
        .lines()
        .skip_while(|l| !l.contains("│ → "))
        .take(2)
        .map(|l| l.trim_matches('"').trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(under.contains(&msg), "{msg:?} whole under the list:\n{f}");
}

#[test]
fn a_tenant_column_and_a_tenant_filter_word() {
    let mut app = mixed_at(None);
    let f = frame(&mut app, 120, 40);
    assert!(f.contains(" tenant ") && f.contains("tenant-7"), "{f}");
    let narrow = frame(&mut app, 80, 24);
    assert!(!narrow.contains("tenant-7 "), "no room at 80 columns:\n{narrow}");
    common::command(&mut app, "filter tenant:TENANT-3");
    assert_eq!(app.filter.describe(), "tenant:tenant-3");
    assert_eq!(app.rows().len(), 1);
    let id = app.rows().get(0).unwrap();
    let s = app.data().unwrap().stream(id).unwrap();
    assert_eq!(usage_replay::ticket::stream_tenant(&app.data().unwrap().archive, s).as_deref(), Some("tenant-3"));
    common::command(&mut app, "filter tenant:nobody");
    assert_eq!(app.rows().len(), 0);
}

#[test]
fn an_empty_archive_says_so_and_points_at_the_problems() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rejected.jsonl");
    std::fs::write(&path, "not json\n{\"broken\": \n").expect("write");
    let mut app = app_for(&[path], Options::default());
    let f = frame(&mut app, 120, 40);
    insta::assert_snapshot!("empty_archive_120x40", f.replace(&dir.path().display().to_string(), "DIR"));
    assert!(!f.contains("1970"), "{f}");
    for k in [KeyCode::End, KeyCode::Home] {
        code(&mut app, k);
    }
    for c in ['.', ',', ' ', 'e', '/', 'n', 'G'] {
        key(&mut app, c);
    }
    code(&mut app, KeyCode::Esc);
    let after = frame(&mut app, 120, 40);
    assert!(!after.contains("1970"), "{after}");
    key(&mut app, 'p');
    assert_eq!(app.focus, Pane::Problems);
}

/// docs/ui.md#large-archives: a list at or above the threshold is built off the event loop; the key
/// answers with the previous list, marked, and the new one takes its place when it is ready.
#[test]
fn a_large_list_is_built_in_the_background_and_then_shown() {
    let opts = |from| Options { background_lists_from: from, ..Default::default() };
    let mut inline = app_for(&[PathBuf::from(MIXED)], opts(usize::MAX));
    let mut background = app_for(&[PathBuf::from(MIXED)], opts(0));
    for app in [&mut inline, &mut background] {
        app.update(Action::Resize(120, 40));
        key(app, 's'); // sort by instance
    }
    assert!(!inline.list_pending());
    let sorted = inline.rows().clone();
    let unsorted: Vec<Option<u32>> = (0..sorted.len()).map(|r| Some(r as u32 + 1)).collect();
    assert_ne!((0..sorted.len()).map(|r| sorted.get(r)).collect::<Vec<_>>(), unsorted, "sorting moves rows");

    // Right after the key: the previous list (by id), marked as being rebuilt. The new rows are
    // taken in only when the app next brings its state in line (a tick or a key), never behind its back.
    assert!(background.list_pending());
    let shown: Vec<Option<u32>> = (0..background.rows().len()).map(|r| background.rows().get(r)).collect();
    assert_eq!(shown, unsorted);
    // Drawn as the event loop draws, without an action that would bring the state in line first.
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).expect("test terminal");
    term.draw(|f| usage_replay::tui::render(&background, f)).expect("draw");
    assert!(term.backend().to_string().contains("building the list…"));
    let waited = std::time::Instant::now();
    while background.list_pending() {
        assert!(waited.elapsed() < std::time::Duration::from_secs(60), "the list never arrived");
        std::thread::sleep(std::time::Duration::from_millis(1));
        background.update(Action::Tick(std::time::Duration::ZERO));
    }
    assert_eq!(background.rows(), &sorted);
    assert!(!frame(&mut background, 120, 40).contains("building the list…"));
}
