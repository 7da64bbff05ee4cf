//! The interactive replay on the time-sync clock (SPEC §4.1), in-process:
//! real servers on 127.0.0.1:0 and a real HTTP client, the app driven
//! through the same calls the event loop makes (`ClockSync::follow` and
//! `ClockSync::publish`), frames rendered into ratatui's TestBackend.

mod common;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Replay, Timeline};
use usage_replay::time::{parse_datetime, Timestamp};
use usage_replay::timesync::{interpret_body, ServerConfig, TimeServer};
use usage_replay::tui::app::{App, Data, ExternalClock, Options};
use usage_replay::tui::clocksync::{ClockOptions, ClockSync};
use usage_replay::tui::load::LoadEvent;
use usage_replay::tui::{render, Action};

const MIXED: &str = "tests/fixtures/ui/mixed.jsonl";

fn load() -> (Arc<Archive>, Arc<Timeline>) {
    let archive = Archive::load(&[PathBuf::from(MIXED)], |_| true).expect("fixture loads");
    let timeline = Timeline::build(&archive, IdMode::Stable);
    (Arc::new(archive), Arc::new(timeline))
}

fn loaded() -> LoadEvent {
    let (a, t) = load();
    LoadEvent::Done(Arc::new(Data::new(a, t)))
}

fn frame(app: &mut App) -> String {
    app.update(Action::Resize(120, 40));
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");
    term.draw(|f| render(app, f)).expect("draw");
    term.backend().to_string()
}

fn key(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

fn t(s: &str) -> Timestamp {
    parse_datetime(s).expect("test datetime")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}

fn get(a: &ureq::Agent, addr: SocketAddr) -> (u16, String) {
    let mut r = a.get(format!("http://{addr}/time")).call().expect("the server answers");
    (r.status().as_u16(), r.body_mut().read_to_string().expect("a text body"))
}

fn post(a: &ureq::Agent, addr: SocketAddr, body: &str) -> (u16, String) {
    let mut r = a.post(format!("http://{addr}/time")).send(body).expect("the server answers");
    (r.status().as_u16(), r.body_mut().read_to_string().expect("a text body"))
}

/// Run the event loop's follow step until the app reached what is expected
/// (the follower polls on its own thread), or fail showing where it stands.
fn follow_until(sync: &ClockSync, app: &mut App, label: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        sync.follow(app);
        if done(app) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {label}; the app has {:?}", app.external);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The app shows exactly the engine's state at its clock: an independent
/// replay of every event up to it, then advance (SPEC §4), agrees with the
/// timeline's state of every stream and with what the list holds.
fn assert_matches_engine(app: &App) {
    let d = app.data().expect("loaded");
    let clock = app.playback.clock;
    let mut r = Replay::new(&d.archive, IdMode::Stable);
    r.seek_forward(clock);
    let fresh = r.streams();
    assert_eq!(d.timeline.streams_at(clock), fresh.len(), "streams at {clock:?}");
    for s in &d.timeline.streams()[..fresh.len()] {
        let at = d.timeline.stream_at(s, clock).expect("exists");
        let f = &fresh[s.id as usize - 1];
        assert_eq!((at.state, at.outcome, at.events), (f.state, f.outcome(), f.events.len()), "#{}", s.id);
    }
    assert_eq!(app.counts().events, r.position());
    assert_eq!(app.rows().len(), fresh.len(), "the list shows every existing stream");
}

fn publishing(opts: Options) -> (App, ClockSync, SocketAddr) {
    let clock = ClockOptions::parse(Some("127.0.0.1:0"), None, 1.0).expect("options");
    let sync = ClockSync::start(&clock).expect("publisher starts");
    let addr = sync.publish_addr().expect("publishing");
    let mut app = App::new_loading(vec![MIXED.into()], opts);
    sync.attach(&mut app);
    (app, sync, addr)
}

#[test]
fn the_published_clock_is_the_playback_clock() {
    let a = agent();
    let (mut app, sync, addr) = publishing(Options::default());
    // While loading nothing is published: a follower keeps waiting.
    sync.publish(&app);
    assert_eq!(get(&a, addr), (200, String::new()));

    app.update(Action::Load(loaded()));
    sync.publish(&app);
    // At the end: the first moment every stream has decided, which a follower replays to the same verdicts.
    let end = app.clock();
    assert_eq!(end, app.data().unwrap().range.settled);
    assert_eq!(get(&a, addr), (200, end.wire()));
    assert!(frame(&mut app).contains(&format!("⇄ publishing clock on {addr}")));

    // The replay owns the clock: the keys move it, and the published time with it.
    app.handle_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    sync.publish(&app);
    assert_eq!(get(&a, addr).1, "2014-10-06 06:59:59.999999");
    key(&mut app, '.');
    sync.publish(&app);
    assert_eq!(get(&a, addr).1, "2014-10-06 07:00:00.000000");
    key(&mut app, ' ');
    app.update(Action::Tick(Duration::from_millis(1500)));
    sync.publish(&app);
    assert!(app.playback.playing);
    assert_eq!(get(&a, addr).1, "2014-10-06 08:30:00.000000", "1.5 s at ×3600");
    assert_eq!(get(&a, addr).1, app.clock().wire());

    // POST is refused with 409 and changes nothing.
    let (status, body) = post(&a, addr, "2001-01-01 00:00:00");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("the replay owns the clock"), "{body}");
    assert_eq!(get(&a, addr).1, "2014-10-06 08:30:00.000000");
    assert_eq!(app.clock(), t("2014-10-06 08:30:00"));
}

#[test]
fn an_archive_without_events_publishes_nothing() {
    let a = agent();
    let (mut app, sync, addr) = publishing(Options::default());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("none.jsonl");
    std::fs::write(&path, "not json\n").expect("write");
    let archive = Archive::load(&[path], |_| true).expect("loads, with a rejected record");
    let timeline = Timeline::build(&archive, IdMode::Stable);
    app.update(Action::Load(LoadEvent::Done(Arc::new(Data::new(Arc::new(archive), Arc::new(timeline))))));
    sync.publish(&app);
    assert_eq!(get(&a, addr), (200, String::new()));
}

#[test]
fn a_publish_address_in_use_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address").to_string();
    let clock = ClockOptions::parse(Some(&addr), None, 1.0).expect("options");
    let err = format!("{:#}", ClockSync::start(&clock).err().expect("the address is taken"));
    assert!(err.starts_with(&format!("--publish-clock: cannot listen on {addr}")), "{err}");
}

fn time_server() -> TimeServer {
    TimeServer::start("127.0.0.1:0".parse().unwrap(), ServerConfig::default(), None).expect("time server")
}

fn following(url: &str) -> (App, ClockSync) {
    let clock = ClockOptions::parse(None, Some(url), 0.02).expect("options");
    let sync = ClockSync::start(&clock).expect("follower starts");
    let mut app = App::new_loading(vec![MIXED.into()], Options::default());
    sync.attach(&mut app);
    (app, sync)
}

#[test]
fn the_replay_follows_a_published_clock() {
    let a = agent();
    let server = time_server();
    let addr = server.local_addr();
    let (mut app, sync) = following(&format!("http://{addr}"));

    // Nothing posted yet: the service answers an empty body.
    follow_until(&sync, &mut app, "not published", |a| a.external == Some(ExternalClock::NotPublished));

    // Times followed while loading are not lost: the latest applies once the replay is there.
    for at in ["2014-10-06 12:00:00.000000", "2014-10-06 14:00:00.000000"] {
        assert_eq!(post(&a, addr, at).0, 200);
        follow_until(&sync, &mut app, at, |a| a.external == Some(ExternalClock::Time(t(at))));
        assert!(app.is_loading());
    }
    app.update(Action::Load(loaded()));
    assert_eq!(app.clock(), t("2014-10-06 14:00:00"));
    assert_matches_engine(&app);
    let f = frame(&mut app);
    assert!(f.contains("2014-10-06 14:00:00Z UTC") && f.contains("⇄ following the time-sync service"), "{f}");
    assert!(f.contains(" 8/19 events"), "{f}");

    // Forward past the end-of-day .exists: streams fire at their moment.
    let steps = [
        ("2014-10-07 00:05:05.500000", "2014-10-07 00:05:05Z UTC"),
        // Backwards is exact too.
        ("2014-10-06 08:00:00.000000", "2014-10-06 08:00:00Z UTC"),
        // Past every decision: drained.
        ("2014-10-09 00:00:00.000000", "drained"),
        ("2014-10-06T16:00:00Z", "2014-10-06 16:00:00Z UTC"),
    ];
    let mut decided = Vec::new();
    for (at, shown) in steps {
        assert_eq!(post(&a, addr, at).0, 200);
        follow_until(&sync, &mut app, at, |a| a.external == Some(ExternalClock::Time(t(at))));
        assert!(!app.playback.playing);
        let expected = if shown == "drained" { Timestamp::MAX } else { t(at) };
        assert_eq!(app.playback.clock, expected, "{at}");
        assert_matches_engine(&app);
        let f = frame(&mut app);
        assert!(f.contains(shown), "{at}:\n{f}");
        decided.push(app.counts().completed);
    }
    assert_eq!(decided, [3, 0, 7, 0], "streams completed at each followed time");

    // "Not published" (empty body, `None`) and a malformed time leave the replay where it is and say so.
    for (body, expected, says) in [
        ("", ExternalClock::NotPublished, "waiting for the time-sync service to publish a time"),
        ("2014-10-06 17:00:00", ExternalClock::Time(t("2014-10-06 17:00:00")), "2014-10-06 17:00:00Z UTC"),
        ("None", ExternalClock::NotPublished, "waiting for the time-sync service to publish a time"),
    ] {
        let before = app.playback.clock;
        assert_eq!(post(&a, addr, body).0, 200);
        follow_until(&sync, &mut app, says, |a| a.external.as_ref() == Some(&expected));
        let f = frame(&mut app);
        assert!(f.contains(says), "{body:?}:\n{f}");
        match expected {
            ExternalClock::Time(at) => assert_eq!(app.playback.clock, at),
            _ => assert_eq!(app.playback.clock, before, "{body:?} leaves the replay where it is"),
        }
    }
    // Our service refuses a malformed time; another may serve one, as the follower reports it.
    assert_eq!(post(&a, addr, "yesterday\x1b[2J").0, 400);
    usage_replay::tui::clocksync::apply_follow_status(&mut app, interpret_body(b"yesterday\x1b[2J"));
    let f = frame(&mut app);
    assert!(f.contains("time-sync unavailable, retrying: malformed time \"yesterday\\x1b[2J\""), "{f}");
    assert_eq!(app.playback.clock, t("2014-10-06 17:00:00"), "only a time moves the replay");
    assert_matches_engine(&app);

    // The followed clock owns the replay: keys that would move it are refused, saying why.
    for k in [' ', '.', ',', 'd'] {
        key(&mut app, k);
        assert_eq!(app.playback.clock, t("2014-10-06 17:00:00"), "key {k:?}");
        assert!(!app.playback.playing);
        assert!(frame(&mut app).contains("playback keys are off"), "key {k:?}");
    }
    common::command(&mut app, "+6h");
    assert_eq!(app.playback.clock, t("2014-10-06 17:00:00"));
    common::command(&mut app, "#8");
    assert!(frame(&mut app).contains("stream #8 does not exist yet at the followed clock"));
    // Everything else works as usual.
    key(&mut app, 'j');
    assert_eq!(app.streams.sel, 1);
    common::command(&mut app, "speed 60");
    assert_eq!(app.playback.speed, 60);

    // The service goes away: shown, retried, and followed again when it is back.
    server.shutdown();
    let unreachable =
        |a: &App| matches!(&a.external, Some(ExternalClock::Unavailable(e)) if e.contains("cannot reach"));
    follow_until(&sync, &mut app, "unreachable", unreachable);
    let f = frame(&mut app);
    assert!(f.contains("time-sync unavailable, retrying: cannot reach the time service"), "{f}");
    assert_eq!(app.playback.clock, t("2014-10-06 17:00:00"));
    let back = TimeServer::start(addr, ServerConfig::default(), None).expect("the same port again");
    assert_eq!(post(&a, back.local_addr(), "2014-10-06 11:00:00").0, 200);
    follow_until(&sync, &mut app, "back", |a| a.external == Some(ExternalClock::Time(t("2014-10-06 11:00:00"))));
    assert_eq!(app.playback.clock, t("2014-10-06 11:00:00"));
    assert_matches_engine(&app);
}

#[test]
fn following_opens_before_the_first_event_until_a_time_is_published() {
    let server = time_server();
    let (mut app, sync) = following(&format!("http://{}/time", server.local_addr()));
    assert!(frame(&mut app).contains("Loading"), "the loading screen");
    app.update(Action::Load(loaded()));
    assert!(frame(&mut app).contains("waiting for the time-sync service to answer"));
    follow_until(&sync, &mut app, "not published", |a| a.external == Some(ExternalClock::NotPublished));
    assert_eq!(app.playback.clock, app.data().unwrap().range.start);
    let f = frame(&mut app);
    assert!(f.contains("before the first event") && f.contains("waiting for the time-sync service"), "{f}");
    // The footer does not offer the playback keys that are refused.
    let footer = f.lines().last().unwrap_or_default();
    assert!(footer.contains("e next fail") && !footer.contains("play") && !footer.contains("step"), "{footer}");
}

#[test]
fn an_error_status_from_the_service_is_shown() {
    let server = time_server();
    // A path prefix the service does not serve: GET /elsewhere/time answers 404.
    let (mut app, sync) = following(&format!("http://{}/elsewhere", server.local_addr()));
    app.update(Action::Load(loaded()));
    follow_until(&sync, &mut app, "the 404", |a| matches!(a.external, Some(ExternalClock::Unavailable(_))));
    let f = frame(&mut app);
    assert!(f.contains("time-sync unavailable, retrying: the time service answered HTTP 404 Not Found"), "{f}");
}
