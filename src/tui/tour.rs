//! The guided tour of the demo (`usage-replay demo --tour`, docs/ui.md#the-demo): a
//! scripted sequence of steps for presentations. The clock plays through the
//! archive; as each chosen stream is decided the replay pauses, the selection
//! moves to it and a caption says what happened, then playing resumes.
//!
//! A step only ever produces [`Action`]s, applied like keys, and waits on the
//! replay clock or on the wall time the event loop reports in its ticks, so a
//! test drives the tour exactly, tick by tick. The streams and their captions
//! come from the engine: the timeline's decisions and the explanations' titles.

use super::action::Action;
use super::data::Data;
use super::theme::Theme;
use crate::replay::{Outcome, Stream};
use crate::time::Timestamp;
use std::time::Duration;

/// The speed the tour plays at, in event-seconds per wall second: a day in four seconds.
pub const SPEED: u64 = 21600;
/// How long a caption about a decided stream stays with the replay paused.
pub const HOLD: Duration = Duration::from_secs(5);

/// One step of the tour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Apply these actions and show this caption.
    Do(Vec<Action>, String),
    /// Wait until the clock has passed this moment (or the replay is drained).
    Until(Timestamp),
    /// Wait this much wall time.
    Hold(Duration),
    /// Pause, if playing.
    Pause,
    /// Play on, unless the replay is at its end.
    Resume,
}

/// The tour: its steps and how far it has got.
#[derive(Clone, Debug)]
pub struct Tour {
    pub steps: Vec<Step>,
    next: usize,
    held: Duration,
    caption: String,
}

/// The streams the tour stops at: the first one decided with each of these
/// verdicts, in the order they are decided.
fn chosen(data: &Data) -> Vec<&Stream> {
    let wanted: [fn(&Stream) -> bool; 6] = [
        |s| s.outcome() == Outcome::Verified,
        |s| s.code() == Some(crate::pipeline::Code::U2),
        |s| s.code() == Some(crate::pipeline::Code::U0),
        |s| s.outcome() == Outcome::Error,
        |s| s.code() == Some(crate::pipeline::Code::U5),
        |s| s.code() == Some(crate::pipeline::Code::U7),
    ];
    let streams = data.timeline.streams();
    let mut out: Vec<&Stream> = wanted
        .iter()
        .filter_map(|w| streams.iter().filter(|s| s.result.is_some() && w(s)).min_by_key(|s| (s.decided_after(), s.id)))
        .collect();
    out.sort_by_key(|s| (s.decided_after(), s.id));
    out.dedup_by_key(|s| s.id);
    out
}

/// What the tour says about a decided stream.
fn caption(s: &Stream, k: usize, n: usize) -> String {
    let when = s.decided_after().short();
    let badge = Theme::badge(s.outcome(), s.code());
    let what = match (s.outcome(), s.code()) {
        (Outcome::Verified, _) => "every check passed: the .exists (X) agrees with the day".to_string(),
        (_, Some(c)) => format!("{} — the marked events (!) prove it", crate::explain::code_title(c)),
        _ => format!("{}: no verdict, the explanation says why", crate::explain::ERROR_TITLE),
    };
    format!("tour {k}/{n}: #{} decided {when}: {badge}, {what}", s.id)
}

impl Tour {
    /// The tour of a loaded archive.
    pub fn new(data: &Data) -> Tour {
        let stops = chosen(data);
        let n = stops.len() + 2;
        let mut steps = vec![Step::Do(
            vec![Action::Rewind, Action::SetSpeed(SPEED), Action::TogglePlay],
            format!(
                "tour 1/{n} (any key leaves it, q quits): the archive from its first event at ×{SPEED}; \
                 streams open as events arrive, pending (…) until decided"
            ),
        )];
        for (i, s) in stops.iter().enumerate() {
            steps.push(Step::Until(s.decided_after()));
            steps.push(Step::Pause);
            steps.push(Step::Do(vec![Action::SelectStream(s.id)], caption(s, i + 2, n)));
            steps.push(Step::Hold(HOLD));
            steps.push(Step::Resume);
        }
        let end = data.range.settled.plus_micros(-1).max(data.range.last_event);
        steps.push(Step::Until(end));
        steps.push(Step::Do(
            vec![Action::Drain],
            format!(
                "tour {n}/{n}: the end, every verdict decided at {}; e jumps to a failing stream, ? explains \
                 the symbols",
                end.short()
            ),
        ));
        Tour { steps, next: 0, held: Duration::ZERO, caption: String::new() }
    }

    /// What the tour says now.
    pub fn caption(&self) -> &str {
        &self.caption
    }

    /// Every step is done.
    pub fn is_over(&self) -> bool {
        self.next >= self.steps.len()
    }

    /// Go on as far as the clock and `elapsed` wall time allow; the actions
    /// to apply now. It stops after a step with actions, so that the steps
    /// after it see the clock those actions leave.
    pub fn advance(&mut self, clock: Timestamp, drained: bool, playing: bool, elapsed: Duration) -> Vec<Action> {
        let mut elapsed = elapsed;
        while let Some(step) = self.steps.get(self.next) {
            match step {
                Step::Do(actions, caption) => {
                    self.caption = caption.clone();
                    self.next += 1;
                    return actions.clone();
                }
                Step::Until(t) => {
                    if !(drained || clock > *t) {
                        break;
                    }
                }
                Step::Hold(d) => {
                    self.held += std::mem::take(&mut elapsed);
                    if self.held < *d {
                        break;
                    }
                    self.held = Duration::ZERO;
                }
                Step::Pause => {
                    self.next += 1;
                    if playing {
                        return vec![Action::TogglePlay];
                    }
                    continue;
                }
                Step::Resume => {
                    self.next += 1;
                    if !playing && !drained {
                        return vec![Action::TogglePlay];
                    }
                    continue;
                }
            }
            self.next += 1;
        }
        Vec::new()
    }
}
