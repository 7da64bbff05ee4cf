//! Following a clock someone else publishes (docs/timesync.md#following, `--follow-clock`):
//! poll `GET {url}/time` on a thread of its own and read the answer the way
//! Winchester's `TimeSync` does.

use super::MAX_BODY;
use crate::text::{fit, sanitize};
use crate::time::{parse_datetime, Timestamp};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// The most one poll may take, connecting included: a dead service must not
/// hold the clock back for long, and the next poll retries anyway.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);
const MIN_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_secs(3600);

/// What the followed service says about the clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowStatus {
    /// It publishes this time: the replay moves there (backwards too).
    Time(Timestamp),
    /// It answers, but nothing has been published yet (empty body or `None`).
    NotPublished,
    /// It cannot be reached or answered something unusable; polling goes on.
    Unavailable(String),
}

/// Why a follower could not start.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("{0}")]
    BadUrl(String),
    #[error("cannot start following the clock: {0}")]
    Thread(std::io::Error),
}

/// Read a `GET /time` body as `TimeSync` does: empty or `None` is "not
/// published yet", anything else a datetime (docs/distillation.md#datetimes forms; surrounding
/// whitespace ignored).
pub fn interpret_body(body: &[u8]) -> FollowStatus {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text == "None" {
        return FollowStatus::NotPublished;
    }
    match parse_datetime(text) {
        Ok(t) => FollowStatus::Time(t),
        Err(_) => FollowStatus::Unavailable(format!("malformed time \"{}\"", fit(&sanitize(text), 48))),
    }
}

/// The URL to poll for a `--follow-clock` URL: Winchester's
/// `time_sync_endpoint` (`http://host:port`, a path prefix allowed) with
/// `/time` appended, whether or not it was already given. Without a scheme,
/// `http://` is assumed.
pub fn time_endpoint(url: &str) -> Result<String, FollowError> {
    let bad = |why: &str| FollowError::BadUrl(format!("--follow-clock \"{}\": {why}", fit(&sanitize(url), 80)));
    let url = url.trim();
    if url.contains(['?', '#']) {
        return Err(bad("a time-sync endpoint has no query or fragment"));
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(bad("only http:// time-sync services are supported"));
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix("/time").unwrap_or(path).trim_end_matches('/');
    let endpoint = format!("http://{authority}{path}/time");
    match endpoint.parse::<ureq::http::Uri>() {
        Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) => Ok(endpoint),
        _ => Err(bad("not a valid URL")),
    }
}

/// `--poll SECONDS` as a duration between polls.
pub fn poll_interval(seconds: f64) -> Result<Duration, String> {
    if seconds.is_finite() && (MIN_POLL.as_secs_f64()..=MAX_POLL.as_secs_f64()).contains(&seconds) {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(format!(
            "--poll {seconds}: expected a number of seconds between {} and {}",
            MIN_POLL.as_secs_f64(),
            MAX_POLL.as_secs()
        ))
    }
}

/// Polls a time-sync service on its own thread. Nothing here ever blocks:
/// [`try_recv`](Self::try_recv) and [`latest`](Self::latest) only look at
/// what the thread has already seen. Dropping the follower stops the thread
/// (after the request in flight, if any).
pub struct ClockFollower {
    endpoint: String,
    changes: Receiver<FollowStatus>,
    latest: Arc<Mutex<Option<FollowStatus>>>,
    /// Dropped with the follower, which tells the thread to stop.
    _stop: Sender<()>,
}

impl ClockFollower {
    /// Start polling `GET {url}/time` every `poll` (the first poll at once).
    pub fn spawn(url: &str, poll: Duration) -> Result<ClockFollower, FollowError> {
        ClockFollower::spawn_with_timeout(url, poll, POLL_TIMEOUT)
    }

    /// As [`spawn`](Self::spawn), giving up on a poll that has no answer
    /// within `timeout` (tests use a short one; sessions use 2 s).
    pub fn spawn_with_timeout(url: &str, poll: Duration, timeout: Duration) -> Result<ClockFollower, FollowError> {
        let endpoint = time_endpoint(url)?;
        let poll = poll.clamp(MIN_POLL, MAX_POLL);
        let (tx, changes) = mpsc::channel();
        let (stop, stopped) = mpsc::channel();
        let latest = Arc::new(Mutex::new(None));
        let poller =
            Poller { agent: agent(timeout), timeout, endpoint: endpoint.clone(), latest: latest.clone(), changes: tx };
        thread::Builder::new()
            .name("clock-follower".into())
            .spawn(move || poller.run(poll, stopped))
            .map_err(FollowError::Thread)?;
        Ok(ClockFollower { endpoint, changes, latest, _stop: stop })
    }

    /// The URL being polled (with `/time`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The next change of status not yet taken, in the order they were seen;
    /// `None` when there is none (never waits).
    pub fn try_recv(&self) -> Option<FollowStatus> {
        self.changes.try_recv().ok()
    }

    /// The current status, without taking anything; `None` until the first poll answered.
    pub fn latest(&self) -> Option<FollowStatus> {
        lock(&self.latest).clone()
    }
}

fn lock(m: &Mutex<Option<FollowStatus>>) -> MutexGuard<'_, Option<FollowStatus>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        // The time service is local infrastructure: an HTTP proxy meant for the outside must not intercept it.
        .proxy(None)
        // A fresh connection per poll, as TimeSync made: no stale keep-alive after a long --poll.
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .user_agent(concat!("usage-replay/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

struct Poller {
    agent: ureq::Agent,
    timeout: Duration,
    endpoint: String,
    latest: Arc<Mutex<Option<FollowStatus>>>,
    changes: Sender<FollowStatus>,
}

impl Poller {
    fn run(self, poll: Duration, stop: Receiver<()>) {
        let mut last: Option<FollowStatus> = None;
        let mut next = Instant::now();
        loop {
            let status = self.fetch();
            if last.as_ref() != Some(&status) {
                *lock(&self.latest) = Some(status.clone());
                if self.changes.send(status.clone()).is_err() {
                    return;
                }
                last = Some(status);
            }
            // A fixed rate, without bursts to catch up after a slow poll.
            let now = Instant::now();
            next = (next + poll).max(now);
            match stop.recv_timeout(next - now) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn fetch(&self) -> FollowStatus {
        let mut response = match self.agent.get(&self.endpoint).call() {
            Ok(r) => r,
            Err(e) => return FollowStatus::Unavailable(describe(&e, self.timeout)),
        };
        if response.status() != ureq::http::StatusCode::OK {
            return FollowStatus::Unavailable(format!("the time service answered HTTP {}", response.status()));
        }
        match response.body_mut().with_config().limit(MAX_BODY as u64).read_to_vec() {
            Ok(body) => interpret_body(&body),
            Err(e) => FollowStatus::Unavailable(describe(&e, self.timeout)),
        }
    }
}

fn describe(e: &ureq::Error, timeout: Duration) -> String {
    use ureq::Error as E;
    let within = if timeout.subsec_millis() == 0 {
        format!("{} s", timeout.as_secs())
    } else {
        format!("{} ms", timeout.as_millis())
    };
    let what = match e {
        E::Timeout(_) => format!("no answer from the time service within {within}"),
        E::Io(io) => format!("cannot reach the time service: {io}"),
        E::ConnectionFailed => "cannot reach the time service: connection failed".to_string(),
        E::HostNotFound => "cannot reach the time service: host not found".to_string(),
        E::BodyExceedsLimit(_) => format!("the time service answered more than {MAX_BODY} bytes"),
        other => format!("the time service failed: {other}"),
    };
    sanitize(&what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> FollowStatus {
        FollowStatus::Time(parse_datetime(s).unwrap())
    }

    #[test]
    fn bodies_read_as_timesync_reads_them() {
        assert_eq!(interpret_body(b""), FollowStatus::NotPublished);
        assert_eq!(interpret_body(b"None"), FollowStatus::NotPublished);
        assert_eq!(interpret_body(b" None\n"), FollowStatus::NotPublished);
        assert_eq!(interpret_body(b"\r\n"), FollowStatus::NotPublished);
        assert_eq!(interpret_body(b"2014-10-09 22:55:33.111111"), at("2014-10-09 22:55:33.111111"));
        assert_eq!(interpret_body(b"2014-10-09 22:55:33.111111\n"), at("2014-10-09 22:55:33.111111"));
        assert_eq!(interpret_body(b"2014-10-09T22:55:33Z"), at("2014-10-09 22:55:33"));
        assert_eq!(interpret_body(b"2014-10-10T00:55:33+02:00"), at("2014-10-09 22:55:33"));
        assert_eq!(interpret_body(b"yesterday"), FollowStatus::Unavailable("malformed time \"yesterday\"".into()));
        assert_eq!(interpret_body(b"none"), FollowStatus::Unavailable("malformed time \"none\"".into()));
        assert_eq!(
            interpret_body(b"\x1b]0;pwned\x07 \xff"),
            FollowStatus::Unavailable("malformed time \"\\x1b]0;pwned\\x07 \u{fffd}\"".into())
        );
        let FollowStatus::Unavailable(long) = interpret_body(&[b'9'; 4096]) else { panic!() };
        assert!(long.chars().count() < 80, "{long}");
    }

    #[test]
    fn endpoints_with_or_without_time() {
        for url in [
            "http://127.0.0.1:8001",
            "http://127.0.0.1:8001/",
            "http://127.0.0.1:8001/time",
            "http://127.0.0.1:8001/time/",
            " 127.0.0.1:8001 ",
            "HTTP://127.0.0.1:8001//",
        ] {
            assert_eq!(time_endpoint(url).unwrap(), "http://127.0.0.1:8001/time", "{url}");
        }
        assert_eq!(time_endpoint("http://sync.example/clock").unwrap(), "http://sync.example/clock/time");
        assert_eq!(time_endpoint("http://time").unwrap(), "http://time/time");
        assert_eq!(time_endpoint("http://[::1]:8001/time").unwrap(), "http://[::1]:8001/time");
    }

    #[test]
    fn unusable_endpoints_say_why() {
        for (url, why) in [
            ("https://127.0.0.1:8001", "only http://"),
            ("ftp://host", "only http://"),
            ("http://", "no host"),
            ("http:///time", "no host"),
            ("http://host:8001/?q=1", "no query"),
            ("http://ho st:8001", "not a valid URL"),
        ] {
            let e = time_endpoint(url).unwrap_err().to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn poll_intervals() {
        assert_eq!(poll_interval(1.0), Ok(Duration::from_secs(1)));
        assert_eq!(poll_interval(0.25), Ok(Duration::from_millis(250)));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 0.001, 1e9] {
            assert!(poll_interval(bad).is_err(), "{bad}");
        }
    }
}
