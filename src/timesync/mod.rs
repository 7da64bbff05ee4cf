//! The time-sync protocol (docs/timesync.md#protocol): the tiny HTTP service through which
//! Winchester's components shared one clock, spoken three ways.
//!
//! The protocol is StackTach notigen's `time_sync` service: `GET /time`
//! answers the last time posted as the raw string (an empty body before any
//! post), `POST /time` stores the raw request body (at most 4096 bytes; a
//! body no consumer could read as a time is refused with 400).
//! Winchester's `TimeSync` polls `GET {time_sync_endpoint}/time`, takes an
//! empty body or `None` as "not published yet" and parses anything else as a
//! datetime; its publisher posts each notification's own `timestamp` string.
//!
//! - [`TimeServer`]: the drop-in service (`usage-replay time-server`).
//! - [`PlaybackClockServer`]: serves the replay's playback clock as
//!   `YYYY-MM-DD HH:MM:SS.ffffff` ([`Timestamp::wire`](crate::time::Timestamp::wire))
//!   so real Winchester workers follow the replay; `POST` is refused with 409.
//! - [`ClockFollower`]: polls someone else's service on its own thread and
//!   reports what it publishes as [`FollowStatus`].
//!
//! Servers run on their own thread (a single-threaded tokio runtime driving
//! hyper), never on the caller's; the follower runs on its own thread with a
//! blocking client and short timeouts. Nothing here knows about the terminal.
//!
//! # Wiring into an interactive session
//!
//! Both handles are cheap to poll from an event loop and stop their thread
//! when dropped:
//!
//! ```no_run
//! use std::time::Duration;
//! use usage_replay::time::Timestamp;
//! use usage_replay::timesync::{self, ClockFollower, FollowStatus, PlaybackClockServer};
//!
//! # fn clock() -> Timestamp { Timestamp::MIN }
//! # fn apply(_: FollowStatus) {}
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // --publish-clock ADDR
//! let addr = timesync::parse_listen_addr("127.0.0.1:8001")?;
//! if let Some(warning) = timesync::exposure_warning(addr) {
//!     eprintln!("{warning}"); // or show it in the status bar
//! }
//! let publisher = PlaybackClockServer::start(addr, Some(clock()))?;
//! // … then every frame (one atomic store):
//! publisher.set(clock());
//!
//! // --follow-clock URL [--poll SECONDS]
//! let follower = ClockFollower::spawn("http://127.0.0.1:8001", timesync::poll_interval(1.0)?)?;
//! // … then every tick, never blocking:
//! while let Some(status) = follower.try_recv() {
//!     // FollowStatus maps 1:1 onto the UI's ExternalClock:
//!     // Time(t) → ExternalClock::Time(t), NotPublished → ExternalClock::NotPublished,
//!     // Unavailable(why) → ExternalClock::Unavailable(why).
//!     apply(status);
//! }
//! # Ok(()) }
//! ```
//!
//! `try_recv` yields each *change* of status once, in order; `latest` peeks
//! at the current one without consuming anything.

mod follow;
mod server;

pub use follow::{interpret_body, poll_interval, time_endpoint, ClockFollower, FollowError, FollowStatus};
pub use server::{Interrupt, PlaybackClockServer, RequestLog, RequestLogger, ServerConfig, ServerError, TimeServer};

use std::net::{SocketAddr, ToSocketAddrs};

/// The most a `POST /time` may carry, as in notigen's service (docs/timesync.md#protocol).
pub const MAX_BODY: usize = 4096;

/// Where `usage-replay time-server` listens unless told otherwise: the
/// address the StackTach sandbox used.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8001";

/// Read a listen address: `IP:PORT` (`[::1]:8001` for IPv6) or `HOST:PORT`
/// (the first address the name resolves to).
pub fn parse_listen_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let shown = crate::text::sanitize(s);
    match s.to_socket_addrs() {
        Ok(mut addrs) => addrs.next().ok_or_else(|| format!("\"{shown}\" resolves to no address")),
        Err(_) => Err(format!("\"{shown}\" is not a listen address (expected IP:PORT, e.g. {DEFAULT_LISTEN})")),
    }
}

/// A warning to print when a server would be reachable from other hosts
/// (docs/timesync.md#exposure: any address other than loopback must be asked for explicitly).
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        None
    } else {
        Some(format!(
            "warning: listening on {addr}, which is not a loopback address: other hosts can reach the time-sync clock"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen_addr("127.0.0.1:8001").unwrap().to_string(), "127.0.0.1:8001");
        assert_eq!(parse_listen_addr(" [::1]:0 ").unwrap().to_string(), "[::1]:0");
        assert!(parse_listen_addr("localhost:8001").unwrap().ip().is_loopback());
        let err = parse_listen_addr("8001").unwrap_err();
        assert!(err.contains("not a listen address"), "{err}");
        assert!(parse_listen_addr("127.0.0.1:99999").is_err());
        assert!(parse_listen_addr("\x1b[31m:1").unwrap_err().contains("\\x1b"));
    }

    #[test]
    fn only_non_loopback_addresses_warn() {
        assert_eq!(exposure_warning("127.0.0.1:8001".parse().unwrap()), None);
        assert_eq!(exposure_warning("[::1]:8001".parse().unwrap()), None);
        let w = exposure_warning("0.0.0.0:8001".parse().unwrap()).unwrap();
        assert!(w.contains("0.0.0.0:8001") && w.contains("not a loopback"), "{w}");
    }
}
