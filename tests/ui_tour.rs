//! The built-in demo and its guided tour, driven in-process: the tour's steps
//! advance only on the ticks the test sends, so every stop is checked exactly
//! (docs/ui.md#the-demo).

mod common;
use common::{frame, key};

use std::sync::Arc;
use std::time::Duration;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::Timeline;
use usage_replay::tui::app::{App, Options};
use usage_replay::tui::tour::{HOLD, SPEED};
use usage_replay::tui::{Action, DEMO_NOTICE};

fn demo() -> App {
    let archive = usage_replay::demo::archive();
    let timeline = Timeline::build(&archive, IdMode::Stable);
    let mut app = App::new_loaded(Arc::new(archive), Arc::new(timeline), Options::default());
    app.notice = Some(DEMO_NOTICE.to_string());
    app
}

const TICK: Duration = Duration::from_millis(50);

/// One stop of the tour as the test saw it.
struct Stop {
    caption: String,
    selected: Option<u32>,
    decided: bool,
    playing: bool,
}

/// Tick until the tour is over, noting every caption the first time it shows.
fn run_tour(app: &mut App) -> Vec<Stop> {
    let mut stops: Vec<Stop> = Vec::new();
    for _ in 0..100_000 {
        let Some(c) = app.tour_caption().map(str::to_string) else { break };
        if stops.last().is_none_or(|s| s.caption != c) {
            stops.push(Stop {
                caption: c,
                selected: app.selected_stream().map(|s| s.id),
                decided: app.selected_at().is_some_and(|a| a.decided),
                playing: app.playback.playing,
            });
        }
        app.update(Action::Tick(TICK));
    }
    stops
}

#[test]
fn the_demo_opens_at_its_end_with_a_note_saying_what_it_is() {
    let mut app = demo();
    assert!(app.playback.is_drained());
    let f = frame(&mut app, 120, 40);
    assert!(f.contains("demo: a built-in archive · your own: usage-replay PATH…"), "{f}");
    assert!(f.contains("1 rejected · 1 duplicate"), "{f}");
    assert!(f.contains(" drained "), "{f}");
}

#[test]
fn the_tour_plays_from_the_start_and_the_selection_follows_decided_streams() {
    let mut app = demo();
    app.start_tour();
    assert!(app.in_tour());
    let start = app.playback.range.start;
    assert_eq!(app.playback.clock, start, "the tour starts before the first event");
    assert!(app.playback.playing);
    assert_eq!(app.playback.speed, SPEED);
    let first = app.tour_caption().expect("a caption").to_string();
    assert!(first.starts_with("tour 1/"), "{first}");
    assert!(first.contains("(any key leaves it, q quits)"), "{first}");
    insta::assert_snapshot!("tour_start_120x40", frame(&mut app, 120, 40));

    let stops = run_tour(&mut app);
    let n = stops.len();
    assert!(n >= 5, "the tour stops at several streams: {:?}", stops.iter().map(|s| &s.caption).collect::<Vec<_>>());
    for (k, stop) in stops.iter().enumerate().skip(1) {
        assert!(stop.caption.starts_with(&format!("tour {}/{}: ", k + 1, n + 1)), "{}", stop.caption);
        let id = stop.selected.expect("a stream is selected");
        assert!(
            stop.caption.contains(&format!(": #{id} ")),
            "the selection is the stream the caption names: {}",
            stop.caption
        );
        assert!(stop.decided, "the stream is decided at the clock: {}", stop.caption);
        assert!(!stop.playing, "the replay holds still while the caption is read: {}", stop.caption);
    }
    // Verified, U2, U0, the error outcome: each has a stop, in the order they are decided.
    let all: String = stops.iter().map(|s| s.caption.as_str()).collect::<Vec<_>>().join("\n");
    for what in [": ok, every check passed", ": U2, ", ": U0, no end-of-day .exists", ": ERR, the usage check crashed"]
    {
        assert!(all.contains(what), "{what:?} in\n{all}");
    }
    // The end: drained, the tour gone, its last words in the status line.
    assert!(!app.in_tour());
    assert!(app.playback.is_drained());
    let last = app.status.as_ref().expect("the last caption").text.clone();
    assert!(last.starts_with(&format!("tour {}/{}: the end, every verdict decided at ", n + 1, n + 1)), "{last}");
    assert!(last.contains(&app.playback.shown().short()), "{last}");
}

#[test]
fn a_stop_holds_for_its_time_exactly() {
    let mut app = demo();
    app.start_tour();
    while app.tour_caption().is_some_and(|c| c.starts_with("tour 1/")) {
        app.update(Action::Tick(TICK));
    }
    let stop = app.tour_caption().expect("the first stop").to_string();
    let clock = app.playback.clock;
    assert!(!app.playback.playing);
    insta::assert_snapshot!("tour_stop_120x40", frame(&mut app, 120, 40));
    // One tick short of the hold: still there, the clock still.
    app.update(Action::Tick(HOLD - TICK));
    assert_eq!(app.tour_caption(), Some(stop.as_str()));
    assert_eq!(app.playback.clock, clock);
    app.update(Action::Tick(TICK));
    assert!(app.playback.playing, "playing again after the hold");
}

#[test]
fn any_key_leaves_the_tour_for_the_normal_replay_and_q_quits() {
    let mut app = demo();
    app.start_tour();
    for _ in 0..20 {
        app.update(Action::Tick(TICK));
    }
    let clock = app.playback.clock;
    key(&mut app, 'j');
    assert!(!app.in_tour() && !app.should_quit());
    assert!(!app.playback.playing);
    assert_eq!(app.playback.clock, clock, "the replay stays where the tour left it");
    assert_eq!(app.status.as_ref().unwrap().text, "tour ended: the replay is yours (? for the keys and the symbols)");
    assert_eq!(app.tour_caption(), None);
    // The key that ended the tour did nothing else; the next one acts.
    let sel = app.streams.sel;
    key(&mut app, 'j');
    assert!(app.streams.sel == sel + 1 || app.rows().len() <= sel + 1);
    app.update(Action::Tick(Duration::from_secs(60)));
    assert_eq!(app.playback.clock, clock, "no tour step moves the clock any more");

    let mut app = demo();
    app.start_tour();
    app.update(Action::Tick(TICK));
    key(&mut app, 'q');
    assert!(app.should_quit());
}

#[test]
fn a_tour_asked_for_before_the_archive_is_loaded_starts_when_it_is() {
    let mut app = App::new_loading(vec![usage_replay::demo::NAME.to_string()], Options::default());
    app.start_tour();
    assert!(app.in_tour() && app.tour_caption().is_none());
    let archive = Arc::new(usage_replay::demo::archive());
    let timeline = Arc::new(Timeline::build(&archive, IdMode::Stable));
    let data = usage_replay::tui::data::Data::new(archive, timeline);
    app.update(Action::Load(usage_replay::tui::load::LoadEvent::Done(Arc::new(data))));
    assert!(app.tour_caption().is_some_and(|c| c.starts_with("tour 1/")));
    assert!(app.playback.playing);
}
