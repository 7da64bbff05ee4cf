//! The load's progress on standard error while a headless command reads a
//! large archive (docs/outputs.md#progress): one line, rewritten in place, only
//! when standard error is a terminal, and erased before anything else is written.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};
use usage_replay::archive::LoadProgress;
use usage_replay::text::{bytes, thousands};

/// How often the line is rewritten at most.
const EVERY: Duration = Duration::from_millis(250);
/// Loads shorter than this show nothing.
const AFTER: Duration = Duration::from_secs(1);

pub struct Meter {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
    /// Which part of a split audit reads (docs/scale.md#bounded-memory).
    label: Option<String>,
}

impl Meter {
    pub fn new(label: Option<String>) -> Meter {
        Meter { enabled: std::io::stderr().is_terminal(), start: Instant::now(), last: None, label }
    }

    pub fn update(&mut self, p: &LoadProgress) {
        let now = Instant::now();
        let elapsed = now - self.start;
        if !self.enabled || elapsed < AFTER || self.last.is_some_and(|t| now - t < EVERY) {
            return;
        }
        self.last = Some(now);
        let mut line = match &self.label {
            Some(part) => format!("{part}: reading {}", bytes(p.bytes_read)),
            None => format!("reading {}", bytes(p.bytes_read)),
        };
        if p.bytes_total > 0 {
            let done = p.bytes_read.min(p.bytes_total) as f64 / p.bytes_total as f64;
            line += &format!(" of {} ({:.0}%)", bytes(p.bytes_total), 100.0 * done);
            if done > 0.01 {
                let left = elapsed.as_secs_f64() * (1.0 - done) / done;
                line += &format!(", about {} left", clock(left));
            }
        }
        line += &format!(" · {} events", thousands(p.events));
        if p.rejected > 0 {
            line += &format!(" · {} rejected", thousands(p.rejected));
        }
        // Our own control sequences only: carriage return, erase the line.
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }

    /// Erase the line, if one was written.
    pub fn done(&mut self) {
        if self.last.take().is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.done();
    }
}

/// Seconds as `42 s`, `3 min 05 s` or `1 h 02 min`.
fn clock(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clock() {
        assert_eq!(super::clock(4.4), "4 s");
        assert_eq!(super::clock(185.0), "3 min 05 s");
        assert_eq!(super::clock(3725.0), "1 h 02 min");
    }
}
