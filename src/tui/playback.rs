//! The playback clock (docs/streams.md#the-clock, docs/ui.md#opening-and-loading): a position in event time that
//! moves by the wall time the event loop reports × the speed. It never reads
//! the wall clock itself, so tests drive it exactly.

use crate::time::Timestamp;
use std::time::Duration;

/// Speed steps, in event-seconds per wall second.
pub const SPEEDS: [u64; 7] = [1, 10, 60, 600, 3600, 21600, 86400];
pub const DEFAULT_SPEED: u64 = 3600;
pub const MAX_SPEED: u64 = 86400;

/// Where the replay can stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// Just before the first event: nothing replayed.
    pub start: Timestamp,
    pub last_event: Timestamp,
    /// The first moment at which every stream has fired or expired: from here
    /// on the state equals the drained replay's.
    pub settled: Timestamp,
}

#[derive(Clone, Debug)]
pub struct Playback {
    pub playing: bool,
    /// Event-seconds per wall second.
    pub speed: u64,
    /// The playback clock; `Timestamp::MAX` once drained.
    pub clock: Timestamp,
    pub range: Range,
    /// Event-time nanoseconds not yet applied (the clock counts microseconds).
    carry_ns: u128,
}

impl Playback {
    pub fn new(range: Range) -> Playback {
        Playback { playing: false, speed: DEFAULT_SPEED, clock: Timestamp::MAX, range, carry_ns: 0 }
    }

    pub fn is_drained(&self) -> bool {
        self.clock >= self.range.settled
    }

    /// Move the clock to `t`; a time at or after `settled` is the drained end.
    pub fn seek(&mut self, t: Timestamp) {
        self.clock = if t >= self.range.settled { Timestamp::MAX } else { t };
        self.carry_ns = 0;
        if self.is_drained() {
            self.playing = false;
        }
    }

    /// Play or pause; playing at the end starts again from the beginning (docs/ui.md#panes).
    pub fn toggle(&mut self) {
        if self.playing {
            self.playing = false;
        } else {
            if self.is_drained() {
                self.seek(self.range.start);
            }
            self.playing = true;
        }
    }

    /// Advance by `elapsed` wall time at the current speed. Returns whether the clock moved.
    pub fn tick(&mut self, elapsed: Duration) -> bool {
        if !self.playing {
            return false;
        }
        let ns = elapsed.as_nanos() * self.speed as u128 + self.carry_ns;
        let us = ns / 1000;
        self.carry_ns = ns % 1000;
        if us == 0 {
            return false;
        }
        let us = i64::try_from(us).unwrap_or(i64::MAX);
        let next = self.clock.plus_micros(us);
        if next >= self.range.settled {
            self.clock = Timestamp::MAX;
            self.playing = false;
            self.carry_ns = 0;
        } else {
            self.clock = next;
        }
        true
    }

    pub fn faster(&mut self) {
        self.speed = SPEEDS.iter().copied().find(|&s| s > self.speed).unwrap_or(MAX_SPEED);
    }

    pub fn slower(&mut self) {
        self.speed = SPEEDS.iter().rev().copied().find(|&s| s < self.speed).unwrap_or(SPEEDS[0]);
    }

    /// Any speed from ×1 to ×86400.
    pub fn set_speed(&mut self, speed: u64) -> Result<(), String> {
        if (1..=MAX_SPEED).contains(&speed) {
            self.speed = speed;
            Ok(())
        } else {
            Err(format!("speed must be between 1 and {MAX_SPEED} event-seconds per second"))
        }
    }

    /// The time the clock shows: once drained, the time of the last decision
    /// (the last fire or expiry, or the last event when that is later), where
    /// the playhead and the failure marks also stand (docs/streams.md#the-clock).
    pub fn shown(&self) -> Timestamp {
        if self.is_drained() {
            self.range.settled.plus_micros(-1).max(self.range.last_event)
        } else {
            self.clock
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb() -> Playback {
        let mut p = Playback::new(Range {
            start: Timestamp(999_999),
            last_event: Timestamp(10_000_000),
            settled: Timestamp(20_000_000),
        });
        p.seek(p.range.start);
        p
    }

    #[test]
    fn ticks_move_by_elapsed_times_speed_exactly() {
        let mut p = pb();
        p.speed = 1;
        p.toggle();
        for _ in 0..3 {
            p.tick(Duration::from_nanos(333_333_333));
        }
        // 999_999_999 ns of event time = 999_999 µs, the remaining 999 ns carried.
        assert_eq!(p.clock, Timestamp(999_999 + 999_999));
        p.tick(Duration::from_nanos(1));
        assert_eq!(p.clock, Timestamp(999_999 + 1_000_000));
    }

    #[test]
    fn playing_past_settled_stops_drained_and_play_restarts() {
        let mut p = pb();
        p.speed = 10;
        p.toggle();
        p.tick(Duration::from_secs(5));
        assert!(p.is_drained() && !p.playing);
        assert_eq!(p.shown(), Timestamp(19_999_999));
        p.toggle();
        assert!(p.playing);
        assert_eq!(p.clock, Timestamp(999_999));
    }

    #[test]
    fn speed_steps() {
        let mut p = pb();
        p.speed = 1;
        p.slower();
        assert_eq!(p.speed, 1);
        for _ in 0..10 {
            p.faster();
        }
        assert_eq!(p.speed, 86400);
        p.set_speed(7).unwrap();
        p.faster();
        assert_eq!(p.speed, 10);
        assert!(p.set_speed(0).is_err());
        assert!(p.set_speed(86401).is_err());
    }
}
