//! The small types every part of the UI shares: the panes, list positions,
//! the prompt, the status line, the followed clock. They live apart from the
//! app so that the actions, the key map and the panes can name them without
//! depending on the app's state.

use crate::time::Timestamp;

/// The panes. Detail and Explain share the inspector area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Streams,
    Events,
    Detail,
    Explain,
    Problems,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Streams => "Streams",
            Pane::Events => "Events",
            Pane::Detail => "Detail",
            Pane::Explain => "Explanation",
            Pane::Problems => "Problems",
        }
    }
}

/// The time-sync service's clock, as the follower reports it (docs/timesync.md#protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalClock {
    Time(Timestamp),
    /// The service answered with an empty body or `None`.
    NotPublished,
    Unavailable(String),
}

/// A line of feedback under the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Search,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// Work the app asks the event loop to do off the UI thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Re-read the original record of an event (docs/ui.md#panes, the detail pane).
    /// `other`: the index is into the second rule set's archive (docs/ui.md#two-rule-sets).
    Original { event: u32, other: bool },
}

/// Something from the problems pane shown in the detail pane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinned {
    /// An unmatched event (its index in the archive).
    Event(u32),
    /// A rejected record (its index in the archive's list).
    Rejected(usize),
}

/// A scrollable list's selection and first visible row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListState {
    pub sel: usize,
    pub off: usize,
}

/// Where the `:` prompt moves the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seek {
    /// To an absolute time.
    To(Timestamp),
    /// By an offset from the clock, in microseconds.
    By(i64),
    /// To a time of day (microseconds since midnight) on the clock's day.
    TimeOfDay(i64),
}
