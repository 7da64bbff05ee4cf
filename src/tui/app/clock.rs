//! The playback clock: play, pause, speed, stepping from event to event,
//! seeking, and the time-sync clock published or followed (docs/timesync.md#protocol).

use super::App;
use crate::time::Timestamp;
use crate::tui::action::Action;
use crate::tui::types::{ExternalClock, Seek};

impl App {
    /// The playback clock to publish (docs/timesync.md#publishing). Once drained it is the
    /// first moment at which every stream has fired or expired, so a follower
    /// reaches the same end state; before any event, just before the first.
    pub fn clock(&self) -> Timestamp {
        if self.playback.is_drained() {
            self.playback.range.settled
        } else {
            self.playback.clock
        }
    }

    /// Follow an external time-sync clock: a time moves the replay there (backwards
    /// too) and pauses local playback; the other answers are shown in the header.
    pub(super) fn apply_external_clock(&mut self, c: ExternalClock) {
        if let ExternalClock::Time(t) = c {
            self.playback.playing = false;
            if self.data.is_some() {
                self.playback.seek(t);
                self.sync(false);
            } else {
                self.pending_external = Some(t);
            }
        }
        self.external = Some(c);
    }

    /// Show (or clear) the note that the clock is being published.
    pub fn set_publishing(&mut self, addr: Option<String>) {
        self.publishing = addr.map(|a| format!("publishing clock on {a}"));
    }

    /// Follow (or stop following) the time-sync service at `endpoint`: while
    /// it does, the keys that would move the clock are refused (docs/timesync.md#following).
    pub fn set_following(&mut self, endpoint: Option<String>) {
        self.following = endpoint;
    }

    /// Whether a followed clock refuses a local move; says why when it does.
    pub(super) fn refuse_while_following(&mut self) -> bool {
        if self.following.is_some() {
            self.error("playback keys are off while following the time-sync clock");
        }
        self.following.is_some()
    }

    /// The actions that move the clock or change its speed.
    pub(super) fn playback_action(&mut self, action: Action) {
        match action {
            Action::TogglePlay => self.playback.toggle(),
            Action::StepForward => self.step(true),
            Action::StepBack => self.step(false),
            Action::Slower => self.playback.slower(),
            Action::Faster => self.playback.faster(),
            Action::Rewind => {
                self.playback.playing = false;
                self.playback.seek(self.playback.range.start);
            }
            Action::Drain => {
                self.playback.playing = false;
                self.playback.seek(Timestamp::MAX);
            }
            Action::Seek(to) => {
                let base = self.playback.shown();
                self.seek_to(match to {
                    Seek::To(t) => t,
                    Seek::By(us) => base.plus_micros(us),
                    Seek::TimeOfDay(us) => base.day().start().plus_micros(us),
                })
            }
            Action::SetSpeed(n) => {
                if let Err(e) = self.playback.set_speed(n) {
                    self.error(e);
                }
            }
            _ => {}
        }
    }

    /// `.` and `,`: to the next event's time, or back to the previous one's.
    fn step(&mut self, forward: bool) {
        let Some(d) = &self.data else { return };
        self.playback.playing = false;
        let ev = &d.archive.events;
        let t = self.playback.clock;
        if forward {
            if self.playback.is_drained() {
                self.info("at the end: every event is replayed and the streams are drained");
                return;
            }
            let next = ev.partition_point(|e| e.timestamp <= t);
            let target = ev.get(next).map(|e| e.timestamp).unwrap_or(Timestamp::MAX);
            self.playback.seek(target);
        } else {
            if t <= self.playback.range.start {
                self.info("at the start: no event is replayed yet");
                return;
            }
            let prev = ev.partition_point(|e| e.timestamp < t);
            let target = if prev == 0 { self.playback.range.start } else { ev[prev - 1].timestamp };
            self.playback.seek(target);
        }
    }

    fn seek_to(&mut self, t: Timestamp) {
        self.playback.playing = false;
        let t = t.max(self.playback.range.start);
        self.playback.seek(t);
        if self.playback.is_drained() && t != Timestamp::MAX {
            // The clock then shows the last decision's time (docs/streams.md#the-clock): say why it is not the time asked for.
            self.info(format!(
                "{} is past the last decision ({}): the replay is drained, every verdict decided",
                t.short(),
                self.playback.shown().short()
            ));
        }
    }
}
