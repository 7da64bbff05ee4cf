//! The time-sync clock of an interactive session (docs/timesync.md#protocol): publish the
//! playback clock (`--publish-clock`) or follow one published elsewhere
//! (`--follow-clock`). The servers and the follower run on threads of their
//! own; the event loop only calls [`ClockSync::follow`] and
//! [`ClockSync::publish`] once per iteration, which never block.

use super::action::Action;
use super::app::App;
use super::types::ExternalClock;
use crate::time::Timestamp;
use crate::timesync::{self, ClockFollower, FollowStatus, PlaybackClockServer};
use anyhow::{Context as _, Result};
use std::net::SocketAddr;
use std::time::Duration;

/// The time-sync options of the command line, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClockOptions {
    /// `--publish-clock ADDR`.
    pub publish: Option<SocketAddr>,
    /// `--follow-clock URL`, as given (the follower appends `/time`).
    pub follow: Option<String>,
    /// `--poll SECONDS`.
    pub poll: Duration,
}

impl ClockOptions {
    /// Check the options as given on the command line, so that a mistake is
    /// reported before the terminal is touched. `poll` matters only when following.
    pub fn parse(publish: Option<&str>, follow: Option<&str>, poll: f64) -> Result<ClockOptions, String> {
        let publish = match publish {
            Some(a) => Some(timesync::parse_listen_addr(a).map_err(|e| format!("--publish-clock {e}"))?),
            None => None,
        };
        let poll = match follow {
            Some(url) => {
                timesync::time_endpoint(url).map_err(|e| e.to_string())?;
                timesync::poll_interval(poll)?
            }
            None => Duration::from_secs(1),
        };
        Ok(ClockOptions { publish, follow: follow.map(str::to_string), poll })
    }

    /// What to say before the session starts: a publish address other hosts can reach.
    pub fn warning(&self) -> Option<String> {
        self.publish.and_then(timesync::exposure_warning)
    }
}

/// The running publisher and/or follower of a session.
#[derive(Default)]
pub struct ClockSync {
    publisher: Option<PlaybackClockServer>,
    follower: Option<ClockFollower>,
    poll: Option<Duration>,
}

impl ClockSync {
    /// Bind the publisher (so "address in use" is an error before the
    /// terminal is touched) and start the follower's first poll.
    pub fn start(opts: &ClockOptions) -> Result<ClockSync> {
        let publisher = match opts.publish {
            // Nothing is published until the replay is loaded (an empty body: "not published yet").
            Some(addr) => Some(PlaybackClockServer::start(addr, None).context("--publish-clock")?),
            None => None,
        };
        let follower = match &opts.follow {
            Some(url) => Some(ClockFollower::spawn(url, opts.poll)?),
            None => None,
        };
        Ok(ClockSync { publisher, follower, poll: opts.follow.as_ref().map(|_| opts.poll) })
    }

    /// Tell the app what it publishes or follows (for the header and the playback keys).
    pub fn attach(&self, app: &mut App) {
        if let Some(p) = &self.publisher {
            let addr = p.local_addr();
            let note = match timesync::exposure_warning(addr) {
                Some(_) => format!("{addr} (not loopback: other hosts can reach it)"),
                None => addr.to_string(),
            };
            app.set_publishing(Some(note));
        }
        if let Some(f) = &self.follower {
            app.set_following(Some(f.endpoint().to_string()));
        }
    }

    /// The address the clock is published on (the port chosen when 0 was asked for).
    pub fn publish_addr(&self) -> Option<SocketAddr> {
        self.publisher.as_ref().map(|p| p.local_addr())
    }

    /// The longest the event loop may wait for input, so that a followed
    /// time is shown within one poll even when no key is pressed.
    pub fn max_wait(&self) -> Option<Duration> {
        self.poll
    }

    /// Apply every change the follower has seen since the last call, in
    /// order. Returns whether there was any (the screen needs drawing).
    pub fn follow(&self, app: &mut App) -> bool {
        let Some(f) = &self.follower else { return false };
        let mut changed = false;
        while let Some(status) = f.try_recv() {
            apply_follow_status(app, status);
            changed = true;
        }
        changed
    }

    /// Publish the playback clock as it is now (one atomic store).
    pub fn publish(&self, app: &App) {
        if let Some(p) = &self.publisher {
            match published_clock(app) {
                Some(t) => p.set(t),
                None => p.clear(),
            }
        }
    }
}

/// What the follower reports, as the app takes it: one to one.
pub fn apply_follow_status(app: &mut App, status: FollowStatus) {
    app.update(Action::FollowedClock(match status {
        FollowStatus::Time(t) => ExternalClock::Time(t),
        FollowStatus::NotPublished => ExternalClock::NotPublished,
        FollowStatus::Unavailable(why) => ExternalClock::Unavailable(why),
    }));
}

/// The time to publish: the playback clock once the replay is loaded and
/// has events; nothing before (a follower keeps waiting rather than being
/// sent to 1970).
pub fn published_clock(app: &App) -> Option<Timestamp> {
    let d = app.data()?;
    if d.archive.events.is_empty() {
        return None;
    }
    Some(app.clock())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_before_the_session() {
        let o = ClockOptions::parse(Some("127.0.0.1:8001"), None, 1.0).unwrap();
        assert_eq!(o.publish, Some("127.0.0.1:8001".parse().unwrap()));
        assert_eq!(o.warning(), None);
        let o = ClockOptions::parse(Some("0.0.0.0:8001"), None, 1.0).unwrap();
        assert!(o.warning().is_some_and(|w| w.contains("not a loopback")));
        let o = ClockOptions::parse(None, Some("http://127.0.0.1:8001"), 0.5).unwrap();
        assert_eq!((o.follow.as_deref(), o.poll), (Some("http://127.0.0.1:8001"), Duration::from_millis(500)));

        let e = ClockOptions::parse(Some("8001"), None, 1.0).unwrap_err();
        assert!(e.starts_with("--publish-clock \"8001\" is not a listen address"), "{e}");
        let e = ClockOptions::parse(None, Some("https://host"), 1.0).unwrap_err();
        assert!(e.starts_with("--follow-clock \"https://host\": only http://"), "{e}");
        let e = ClockOptions::parse(None, Some("http://host"), 0.0).unwrap_err();
        assert!(e.starts_with("--poll 0: expected a number of seconds"), "{e}");
        // The poll interval is only read when following.
        assert!(ClockOptions::parse(None, None, f64::NAN).is_ok());
    }
}
