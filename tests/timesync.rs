//! The time-sync protocol (docs/timesync.md#protocol) against real servers on 127.0.0.1:0,
//! spoken by a real HTTP client and, for the malformed cases, by raw sockets.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Replay, Timeline};
use usage_replay::time::{parse_datetime, Timestamp};
use usage_replay::timesync::{ClockFollower, FollowStatus, PlaybackClockServer, ServerConfig, TimeServer, MAX_BODY};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

fn drop_in() -> TimeServer {
    TimeServer::start(loopback(), ServerConfig::default(), None).unwrap()
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    allow: Option<String>,
}

fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the server answers");
    let allow = r.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
    let body = r.body_mut().read_to_vec().unwrap();
    Answer { status: r.status().as_u16(), body, allow }
}

fn get(a: &ureq::Agent, addr: SocketAddr) -> Answer {
    answer(a.get(url(addr, "/time")).call())
}

fn post(a: &ureq::Agent, addr: SocketAddr, body: &[u8]) -> Answer {
    answer(a.post(url(addr, "/time")).send(body))
}

fn request(a: &ureq::Agent, method: &str, addr: SocketAddr, path: &str) -> Answer {
    let req = ureq::http::Request::builder().method(method).uri(url(addr, path)).body(()).unwrap();
    answer(a.run(req))
}

/// Send raw bytes, then read what comes back until the server closes.
fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

// ---- the drop-in service ----

#[test]
fn post_then_get_returns_the_exact_raw_body() {
    let server = drop_in();
    let a = common::agent(Duration::from_secs(20));
    let p = post(&a, server.local_addr(), b"2014-10-09 22:55:33.111111");
    assert_eq!(p.status, 200);
    let g = get(&a, server.local_addr());
    assert_eq!((g.status, g.body.as_slice()), (200, &b"2014-10-09 22:55:33.111111"[..]));

    // Raw means raw: a time is stored byte for byte, spaces and all.
    let spaced = b"  2014-10-09T22:55:34Z\r\n";
    assert_eq!(post(&a, server.local_addr(), spaced).status, 200);
    assert_eq!(get(&a, server.local_addr()).body, spaced);
    assert_eq!(&server.current()[..], spaced);
    // And /time/ is the same resource (falcon ignored the trailing slash).
    assert_eq!(request(&a, "GET", server.local_addr(), "/time/").body, spaced);
    // "Not published yet" can be posted too.
    assert_eq!(post(&a, server.local_addr(), b"None").status, 200);
    assert_eq!(get(&a, server.local_addr()).body, b"None");
}

#[test]
fn a_malformed_time_is_refused_and_changes_nothing() {
    let server = drop_in();
    let a = common::agent(Duration::from_secs(20));
    assert_eq!(post(&a, server.local_addr(), b"2014-10-09 22:55:33.111111").status, 200);
    for odd in [&b"  None\r\n\xff\x00 not a time\n"[..], b"yesterday at noon", b"2014-13-45 99:00:00", b"\xff\xfe"] {
        let refused = post(&a, server.local_addr(), odd);
        assert_eq!(refused.status, 400, "{:?}", String::from_utf8_lossy(odd));
        assert!(String::from_utf8_lossy(&refused.body).starts_with("bad request: malformed time"));
        assert_eq!(get(&a, server.local_addr()).body, b"2014-10-09 22:55:33.111111", "nothing changed");
    }
}

#[test]
fn empty_body_before_the_first_post() {
    let server = drop_in();
    let g = get(&common::agent(Duration::from_secs(20)), server.local_addr());
    assert_eq!((g.status, g.body.len()), (200, 0));
}

#[test]
fn bodies_up_to_4096_bytes_are_stored_larger_ones_refused() {
    let server = drop_in();
    let a = common::agent(Duration::from_secs(20));
    let addr = server.local_addr();
    // The largest body that fits: a time padded with spaces (read trimmed, stored raw).
    let mut fits = vec![b' '; MAX_BODY - 26];
    fits.extend_from_slice(b"2014-10-09 22:55:33.111111");
    assert_eq!(MAX_BODY, 4096);
    assert_eq!(post(&a, addr, &fits).status, 200);
    assert_eq!(get(&a, addr).body, fits);

    let too_big = vec![b'8'; MAX_BODY + 1];
    let refused = post(&a, addr, &too_big);
    assert_eq!(refused.status, 413);
    assert!(String::from_utf8_lossy(&refused.body).contains("at most 4096 bytes"));
    assert_eq!(get(&a, addr).body, fits, "a refused post changes nothing");

    // Chunked, so the size is only known while reading: still refused.
    let mut chunked = b"POST /time HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend(std::iter::repeat_n(b'9', 0x400));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(status_line(&raw(addr, &chunked)), "HTTP/1.1 413 Payload Too Large");

    // A declared length far beyond the limit is refused before anything is read.
    let huge = b"POST /time HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551615\r\n\r\n2014";
    assert!(status_line(&raw(addr, huge)).starts_with("HTTP/1.1 4"), "huge Content-Length refused");
    assert_eq!(get(&a, addr).body, fits);
}

#[test]
fn unknown_paths_and_methods_get_a_clear_4xx() {
    let server = drop_in();
    let a = common::agent(Duration::from_secs(20));
    let addr = server.local_addr();
    post(&a, addr, b"2014-10-09 22:55:33.111111");
    for path in ["/", "/timex", "/time/now", "/TIME", "/time.json"] {
        for method in ["GET", "POST"] {
            let r = request(&a, method, addr, path);
            assert_eq!(r.status, 404, "{method} {path}");
            assert_eq!(r.body, b"not found: this service answers only /time\n");
        }
    }
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        let r = request(&a, method, addr, "/time");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.allow.as_deref(), Some("GET, HEAD, POST"));
        assert_eq!(r.body, b"method not allowed: use GET or POST on /time\n");
    }
    let head = request(&a, "HEAD", addr, "/time");
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(get(&a, addr).body, b"2014-10-09 22:55:33.111111", "nothing changed");
}

#[test]
fn malformed_slow_and_broken_clients_never_take_the_server_down() {
    let config = ServerConfig {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    };
    let server = TimeServer::start(loopback(), config, None).unwrap();
    let addr = server.local_addr();
    let a = common::agent(Duration::from_secs(20));
    post(&a, addr, b"2014-10-09 22:55:33.111111");

    // A client that sends half a request line and stalls holds only its own connection.
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(b"GET /ti").unwrap();
    for _ in 0..20 {
        assert_eq!(get(&a, addr).body, b"2014-10-09 22:55:33.111111");
    }
    stalled.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    if let Err(e) = stalled.read_to_end(&mut Vec::new()) {
        use std::io::ErrorKind::{TimedOut, WouldBlock};
        assert!(!matches!(e.kind(), WouldBlock | TimedOut), "the server never closed the stalled connection");
    }

    // A body that never finishes: 408, nothing stored.
    let slow = raw(addr, b"POST /time HTTP/1.1\r\nHost: t\r\nContent-Length: 26\r\n\r\n2014-10-10");
    assert_eq!(status_line(&slow), "HTTP/1.1 408 Request Timeout");

    // Not HTTP at all, a head too large, a client gone mid-body.
    assert_eq!(status_line(&raw(addr, b"\x16\x03\x01 hello\r\n\r\n")), "HTTP/1.1 400 Bad Request");
    let mut big_head = b"GET /time HTTP/1.1\r\nHost: t\r\nX-Junk: ".to_vec();
    big_head.extend(std::iter::repeat_n(b'x', 64 * 1024));
    big_head.extend_from_slice(b"\r\n\r\n");
    assert_eq!(status_line(&raw(addr, &big_head)), "HTTP/1.1 431 Request Header Fields Too Large");
    {
        let mut gone = TcpStream::connect(addr).unwrap();
        gone.write_all(b"POST /time HTTP/1.1\r\nHost: t\r\nContent-Length: 26\r\n\r\n2015").unwrap();
    }

    assert_eq!(get(&a, addr).body, b"2014-10-09 22:55:33.111111", "still serving, value untouched");
    assert_eq!(post(&a, addr, b"2014-10-11 00:00:00").status, 200);
    assert_eq!(get(&a, addr).body, b"2014-10-11 00:00:00");
}

#[test]
fn concurrent_clients_are_all_answered_correctly() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 250; // each round is a POST and a GET: 4000 requests in all
    let server = drop_in();
    let addr = server.local_addr();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let a = common::agent(Duration::from_secs(20));
                for i in 0..ROUNDS {
                    let mine = format!("2014-10-{:02} 12:00:00.{:06}", t + 1, i);
                    assert_eq!(post(&a, addr, mine.as_bytes()).status, 200);
                    let g = get(&a, addr);
                    assert_eq!(g.status, 200);
                    // Another thread may have posted since: any complete value posted by anyone.
                    let seen = String::from_utf8(g.body).unwrap();
                    let t = parse_datetime(&seen).unwrap_or_else(|_| panic!("torn value {seen:?}"));
                    assert_eq!(t.wire(), seen);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(server.requests(), (THREADS * ROUNDS * 2) as u64);
    let last = String::from_utf8(server.current().to_vec()).unwrap();
    assert!(last.ends_with(&format!(".{:06}", ROUNDS - 1)), "the last value is some thread's last post: {last}");
}

// ---- publishing the playback clock ----

#[test]
fn publish_mode_serves_the_playback_clock_and_refuses_posts() {
    let clock = PlaybackClockServer::start(loopback(), None).unwrap();
    let addr = clock.local_addr();
    let a = common::agent(Duration::from_secs(20));
    let g = get(&a, addr);
    assert_eq!((g.status, g.body.len()), (200, 0), "empty before the first set");

    let t = parse_datetime("2014-10-09T22:55:33.111111Z").unwrap();
    clock.set(t);
    assert_eq!(get(&a, addr).body, b"2014-10-09 22:55:33.111111");
    let midnight = parse_datetime("2014-10-10").unwrap();
    clock.set(midnight);
    assert_eq!(get(&a, addr).body, b"2014-10-10 00:00:00.000000", "always six fraction digits");

    let refused = post(&a, addr, b"2001-01-01 00:00:00");
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body, b"conflict: the replay owns the clock; POST /time is refused while it publishes\n");
    assert_eq!(get(&a, addr).body, b"2014-10-10 00:00:00.000000", "the post changed nothing");
    assert_eq!(request(&a, "PUT", addr, "/time").status, 405);
    assert_eq!(request(&a, "GET", addr, "/").status, 404);

    // The drain's +infinity has no datetime form: the last finite time stays.
    clock.set(Timestamp::MAX);
    assert_eq!(get(&a, addr).body, b"2014-10-10 00:00:00.000000");

    let started = PlaybackClockServer::start(loopback(), Some(t)).unwrap();
    assert_eq!(get(&a, started.local_addr()).body, b"2014-10-09 22:55:33.111111");

    drop(clock);
    assert!(a.get(url(addr, "/time")).call().is_err(), "the server stops with its handle");
}

#[test]
fn publish_mode_under_concurrent_readers() {
    const READERS: usize = 6;
    const READS: usize = 500;
    let base = parse_datetime("2014-10-06").unwrap();
    let clock = PlaybackClockServer::start(loopback(), Some(base)).unwrap();
    let addr = clock.local_addr();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            thread::spawn(move || {
                let a = common::agent(Duration::from_secs(20));
                let mut last = Timestamp::MIN;
                for _ in 0..READS {
                    let g = get(&a, addr);
                    assert_eq!(g.status, 200);
                    let t = parse_datetime(std::str::from_utf8(&g.body).unwrap()).unwrap();
                    assert!(t >= last, "the clock only moves forward here");
                    last = t;
                }
            })
        })
        .collect();
    let mut t = base;
    while readers.iter().any(|r| !r.is_finished()) {
        t = t.plus_micros(1_000);
        clock.set(t);
    }
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(clock.requests(), (READERS * READS) as u64);
}

// ---- the wire format ----

#[test]
fn the_wire_format_is_what_winchester_posts_and_parses() {
    // A Winchester publisher posts each notification's own timestamp string unchanged.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.jsonl");
    let stamps = ["2014-10-09 22:55:33.111111", "2014-10-06 00:00:00.000000", "2014-10-06 23:59:59.999999"];
    let lines: Vec<String> = stamps
        .iter()
        .enumerate()
        .map(|(i, ts)| {
            format!(
                r#"{{"event_type":"compute.instance.update","message_id":"n{i}","timestamp":"{ts}","publisher_id":"compute.host1","payload":{{"instance_id":"i-{i}","tenant_id":"t"}}}}"#
            )
        })
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    let archive = Archive::load(&[path], |_| true).unwrap();
    assert_eq!(archive.events.len(), stamps.len());

    let clock = PlaybackClockServer::start(loopback(), None).unwrap();
    let relay = drop_in();
    let a = common::agent(Duration::from_secs(20));
    for e in &archive.events {
        let posted = stamps.iter().find(|s| parse_datetime(s) == Ok(e.timestamp)).unwrap();
        // What a publisher posts to the drop-in service …
        post(&a, relay.local_addr(), posted.as_bytes());
        // … is exactly what the replay serves at that event's time,
        clock.set(e.timestamp);
        let served = get(&a, clock.local_addr()).body;
        assert_eq!(served, get(&a, relay.local_addr()).body);
        assert_eq!(served, posted.as_bytes());
        // and it parses back to the same instant.
        assert_eq!(parse_datetime(std::str::from_utf8(&served).unwrap()), Ok(e.timestamp));
    }
}

#[test]
fn a_follower_reads_back_every_published_instant() {
    let clock = PlaybackClockServer::start(loopback(), None).unwrap();
    let follower = ClockFollower::spawn(&url(clock.local_addr(), "/time"), Duration::from_millis(10)).unwrap();
    assert_eq!(next_status(&follower), FollowStatus::NotPublished);
    for s in ["2014-10-09T22:55:33.111111Z", "2014-10-06T00:00:00Z", "1999-12-31T23:59:59.000001Z"] {
        let t = parse_datetime(s).unwrap();
        clock.set(t);
        assert_eq!(next_status(&follower), FollowStatus::Time(t), "{s}");
    }
}

// ---- following a clock ----

/// Wait for the follower's next change of status (the deadline only guards against a hang).
fn next_status(f: &ClockFollower) -> FollowStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = f.try_recv() {
            return s;
        }
        assert!(Instant::now() < deadline, "the follower reported nothing");
        thread::sleep(Duration::from_millis(2));
    }
}

/// A small archive: instance A fires on its end-of-day `.exists`, B expires,
/// C arrives on the next day.
fn small_archive(dir: &std::path::Path) -> Archive {
    let events = [
        r#"{"event_type":"compute.instance.create.end","message_id":"a1","timestamp":"2014-10-06T10:00:00Z","instance_id":"A","tenant_id":"t","launched_at":"2014-10-06T10:00:00Z","instance_type_id":1,"memory_mb":512}"#,
        r#"{"event_type":"compute.instance.update","message_id":"b1","timestamp":"2014-10-06T11:00:00Z","instance_id":"B","tenant_id":"t"}"#,
        r#"{"event_type":"compute.instance.update","message_id":"a2","timestamp":"2014-10-06T15:00:00Z","instance_id":"A","tenant_id":"t"}"#,
        r#"{"event_type":"compute.instance.exists","message_id":"a3","timestamp":"2014-10-07T00:05:00Z","instance_id":"A","tenant_id":"t","launched_at":"2014-10-06T10:00:00Z","instance_type_id":1,"memory_mb":512,"audit_period_beginning":"2014-10-06T00:00:00Z","audit_period_ending":"2014-10-07T00:00:00Z"}"#,
        r#"{"event_type":"compute.instance.update","message_id":"c1","timestamp":"2014-10-07T09:00:00Z","instance_id":"C","tenant_id":"t"}"#,
    ];
    let path: PathBuf = dir.join("small.jsonl");
    std::fs::write(&path, events.join("\n")).unwrap();
    let archive = Archive::load(&[path], |_| true).unwrap();
    assert!(archive.rejected.is_empty(), "{:?}", archive.rejected);
    assert_eq!(archive.events.len(), events.len());
    archive
}

/// The replay as a follower drives it: forward by seeking, backwards by
/// replaying afresh to the earlier time (docs/streams.md#replay: the state at T is the
/// replay of every event ≤ T followed by `advance(T)`).
fn follow_to<'a>(replay: Replay<'a>, archive: &'a Archive, t: Timestamp) -> Replay<'a> {
    let mut r = if t < replay.now() { Replay::new(archive, IdMode::Stable) } else { replay };
    r.seek_forward(t);
    r
}

#[test]
fn the_replay_follows_a_published_clock() {
    let dir = tempfile::tempdir().unwrap();
    let archive = small_archive(dir.path());
    let timeline = Timeline::build(&archive, IdMode::Stable);

    let service = drop_in();
    let a = common::agent(Duration::from_secs(20));
    let follower =
        ClockFollower::spawn(&format!("http://{}", service.local_addr()), Duration::from_millis(10)).unwrap();
    let at = |s: &str| FollowStatus::Time(parse_datetime(s).unwrap());
    // What a publisher posts, and what the follower must report for it.
    let sequence: Vec<(&[u8], FollowStatus)> = vec![
        (b"", FollowStatus::NotPublished),
        (b"2014-10-06 10:30:00.000000", at("2014-10-06 10:30:00")),
        (b"None", FollowStatus::NotPublished),
        (b"2014-10-07 00:10:00.000000", at("2014-10-07 00:10:00")),
        (b"2014-10-06 12:00:00.000000", at("2014-10-06 12:00:00")), // backwards
        (b" 2014-10-08T12:00:00Z\n", at("2014-10-08 12:00:00")),
        (b"2014-10-07 00:05:00", at("2014-10-07 00:05:00")), // the .exists itself: ready, not yet fired
        (b"", FollowStatus::NotPublished),
        (b"2014-10-09 22:55:33.111111", at("2014-10-09 22:55:33.111111")),
    ];

    let mut replay = Replay::new(&archive, IdMode::Stable);
    // The time the replay should stand at: the last time the service published.
    let mut clock: Option<Timestamp> = None;
    let mut followed = 0;
    let (mut seen_pending, mut seen_decided) = (0, 0);
    for (i, (body, expected)) in sequence.iter().enumerate() {
        if i > 0 {
            assert_eq!(post(&a, service.local_addr(), body).status, 200);
        }
        let status = next_status(&follower);
        assert_eq!(&status, expected, "step {i}: {:?}", String::from_utf8_lossy(body));
        assert_eq!(follower.latest().as_ref(), Some(expected));
        if let FollowStatus::Time(t) = status {
            replay = follow_to(replay, &archive, t);
            clock = Some(t);
            followed += 1;
        }
        // Not published or unavailable: the clock waits where it was.
        let Some(t) = clock else { continue };
        assert_eq!(replay.now(), t, "step {i}");
        // The followed replay is exactly the timeline at that time.
        assert_eq!(replay.position(), timeline.position_at(t), "step {i}");
        assert_eq!(replay.streams().len(), timeline.streams_at(t), "step {i}");
        for s in timeline.streams() {
            let expected = timeline.stream_at(s, t);
            match expected {
                Some(e) if e.decided => seen_decided += 1,
                Some(_) => seen_pending += 1,
                None => {}
            }
            let got = replay.streams().get(s.id as usize - 1).map(|r| {
                let result = r.result.as_ref();
                (r.state, r.outcome(), r.events.len(), result.is_some())
            });
            assert_eq!(
                got,
                expected.map(|e| (e.state, e.outcome, e.events, e.decided)),
                "step {i}, stream {} at {t}",
                s.id
            );
        }
    }
    assert_eq!(followed, 6);
    assert!(seen_pending > 0 && seen_decided > 0, "the sequence saw streams both open and decided");

    // The service goes away: reported, and polling goes on without blocking anyone.
    let addr = service.local_addr();
    service.shutdown();
    match next_status(&follower) {
        FollowStatus::Unavailable(why) => assert!(why.starts_with("cannot reach the time service"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // … and comes back on the same address: followed again.
    let back = TimeServer::start(addr, ServerConfig::default(), None).unwrap();
    post(&a, back.local_addr(), b"2014-10-06 10:30:00");
    assert_eq!(next_status(&follower), at("2014-10-06 10:30:00"));
}

#[test]
fn unusable_answers_are_reported_not_followed() {
    // A service that answers 404 for /time (e.g. the URL points elsewhere).
    let clock = PlaybackClockServer::start(loopback(), None).unwrap();
    let wrong = ClockFollower::spawn(&url(clock.local_addr(), "/elsewhere"), Duration::from_millis(10)).unwrap();
    assert_eq!(wrong.endpoint(), url(clock.local_addr(), "/elsewhere/time"));
    assert_eq!(next_status(&wrong), FollowStatus::Unavailable("the time service answered HTTP 404 Not Found".into()));
    assert!(wrong.try_recv().is_none(), "a repeated status is reported once");

    // A large answer that is no time (a service other than ours may hold anything).
    let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {MAX_BODY}\r\nConnection: close\r\n\r\n").into_bytes();
    answer.extend_from_slice(&[b'1'; MAX_BODY]);
    let service = fake_service(Some(answer));
    let follower = ClockFollower::spawn(&format!("http://{service}/"), Duration::from_millis(10)).unwrap();
    match next_status(&follower) {
        FollowStatus::Unavailable(why) => assert!(why.starts_with("malformed time \"1111"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// A misbehaving service on a raw socket: `answer` is what every connection
/// gets after its request head (`None`: it never answers, holding the connection).
fn fake_service(answer: Option<Vec<u8>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            match &answer {
                Some(a) => {
                    let _ = conn.write_all(a);
                }
                None => held.push(conn),
            }
        }
    });
    addr
}

#[test]
fn misbehaving_services_are_reported_and_retried() {
    let mut oversized = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n".to_vec();
    oversized.extend(std::iter::repeat_n(b' ', 5000 - 26));
    oversized.extend_from_slice(b"2014-10-09 22:55:33.111111");
    let big = fake_service(Some(oversized));
    let f = ClockFollower::spawn(&big.to_string(), Duration::from_millis(10)).unwrap();
    assert_eq!(next_status(&f), FollowStatus::Unavailable("the time service answered more than 4096 bytes".into()));

    let garbage = fake_service(Some(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()));
    let f = ClockFollower::spawn(&garbage.to_string(), Duration::from_millis(10)).unwrap();
    match next_status(&f) {
        FollowStatus::Unavailable(why) => assert!(why.starts_with("the time service failed"), "{why}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }

    let silent = fake_service(None);
    // A session gives up on a poll after 2 s; the test after 200 ms, with the same message.
    let f =
        ClockFollower::spawn_with_timeout(&silent.to_string(), Duration::from_millis(10), Duration::from_millis(200))
            .unwrap();
    // Asking never blocks, even while a poll hangs on the silent service.
    assert_eq!(f.latest(), None);
    assert_eq!(f.try_recv(), None);
    assert_eq!(next_status(&f), FollowStatus::Unavailable("no answer from the time service within 200 ms".into()));
}

// ---- the command ----

#[cfg(unix)]
#[test]
fn time_server_command_logs_each_request_and_stops_on_ctrl_c() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    let mut child = Command::new(env!("CARGO_BIN_EXE_usage-replay"))
        .args(["time-server", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let next_line = || lines.recv_timeout(Duration::from_secs(20)).expect("a line on stderr");

    let banner = next_line();
    let addr: SocketAddr = banner
        .strip_prefix("usage-replay: time-sync service on http://")
        .and_then(|rest| rest.strip_suffix("/time (Ctrl-C to stop)"))
        .unwrap_or_else(|| panic!("banner: {banner}"))
        .parse()
        .unwrap();
    let a = common::agent(Duration::from_secs(20));
    post(&a, addr, b"2014-10-09 22:55:33.111111");
    get(&a, addr);
    request(&a, "DELETE", addr, "/time");
    // Each line: UTC wall time, peer, method, path, status, body bytes in and out, the value.
    let posted = next_line();
    assert!(posted.ends_with(" POST /time 200 in=26 out=0 \"2014-10-09 22:55:33.111111\""), "{posted}");
    let got = next_line();
    assert!(got.ends_with(" GET /time 200 in=0 out=26 \"2014-10-09 22:55:33.111111\""), "{got}");
    let refused = next_line();
    assert!(refused.ends_with(" DELETE /time 405 in=0 out=45"), "{refused}");

    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    assert_eq!(next_line(), "usage-replay: time-sync service stopped after 3 requests");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_half_closed_request_is_answered() {
    let server = drop_in();
    let addr = server.local_addr();
    post(&common::agent(Duration::from_secs(20)), addr, b"2014-10-09 22:55:33.111111");
    // A complete request, then the client's FIN: every one gets its answer.
    for i in 0..200 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"GET /time HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out);
        assert_eq!(status_line(&out), "HTTP/1.1 200 OK", "try {i}: {out:?}");
        assert!(out.ends_with("2014-10-09 22:55:33.111111"), "try {i}: {out:?}");
    }
}

#[test]
fn content_length_with_transfer_encoding_is_refused() {
    let server = drop_in();
    let addr = server.local_addr();
    post(&common::agent(Duration::from_secs(20)), addr, b"2014-10-09 22:55:33.111111");
    let smuggled = raw(
        addr,
        b"POST /time HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n2014-10-10 00:00:00\r\n0\r\n\r\n",
    );
    assert_eq!(status_line(&smuggled), "HTTP/1.1 400 Bad Request", "{smuggled}");
    // Either order, and behind a good request on the same connection.
    let behind = raw(
        addr,
        b"GET /time HTTP/1.1\r\nHost: t\r\n\r\nPOST /time HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n13\r\n2014-10-10 00:00:00\r\n0\r\n\r\n",
    );
    let statuses: Vec<&str> = behind.split("HTTP/1.1 ").skip(1).map(|r| r.lines().next().unwrap_or("")).collect();
    assert_eq!(statuses, ["200 OK", "400 Bad Request"], "{behind}");
    assert_eq!(
        get(&common::agent(Duration::from_secs(20)), addr).body,
        b"2014-10-09 22:55:33.111111",
        "nothing stored"
    );
}

#[test]
fn idle_sockets_held_by_one_client_cost_only_that_client() {
    let server = drop_in();
    let addr = server.local_addr();
    post(&common::agent(Duration::from_secs(20)), addr, b"2014-10-09 22:55:33.111111");
    // More idle connections than the old limit and backlog together (256 + 128).
    let held: Vec<TcpStream> = (0..600).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let a = common::agent(Duration::from_secs(20));
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.write_all(b"GET /time HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert_eq!(status_line(&String::from_utf8_lossy(&out)), "HTTP/1.1 200 OK", "answered while 600 sockets idle");
    }
    assert_eq!(get(&a, addr).body, b"2014-10-09 22:55:33.111111");
    drop(held);
}
