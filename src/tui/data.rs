//! What the panes derive once from a loaded archive: counts at any clock
//! time, the histogram of the timeline pane, decision thresholds, siblings.

use super::playback::Range;
use crate::archive::Archive;
use crate::event::Event;
use crate::replay::{Outcome, Siblings, Stream, Timeline};
use crate::time::Timestamp;
use crate::triage::{Paired, Triage};
use std::sync::Arc;

/// Counts at the clock for the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub streams: usize,
    /// By outcome, indexed by `Outcome as usize`.
    pub outcome: [usize; 4],
    pub active: usize,
    pub completed: usize,
    pub error: usize,
    pub expire_error: usize,
    pub by_code: [usize; 9],
    pub events: usize,
    pub unmatched: usize,
}

/// Events per time bucket and failures decided per bucket, over the whole
/// replay, computed once at load; the timeline pane sums them to its width.
#[derive(Clone, Debug)]
pub struct Histogram {
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: Vec<u32>,
    pub failures: Vec<u32>,
}

pub const FINE_BUCKETS: usize = 4096;

impl Histogram {
    fn new(archive: &Archive, timeline: &Timeline, range: &Range) -> Histogram {
        let start = archive.events.first().map(|e| e.timestamp).unwrap_or_default();
        let end = range.settled.max(start.plus_micros(1));
        let mut h = Histogram { start, end, events: vec![0; FINE_BUCKETS], failures: vec![0; FINE_BUCKETS] };
        for e in &archive.events {
            let b = h.bucket(e.timestamp);
            h.events[b] += 1;
        }
        for s in timeline.streams() {
            if matches!(s.outcome(), Outcome::Failed | Outcome::Error) {
                let b = h.bucket(s.decided_after());
                h.failures[b] += 1;
            }
        }
        h
    }

    /// The fine bucket holding `t` (clamped to the ends).
    pub fn bucket(&self, t: Timestamp) -> usize {
        let span = (self.end.0 as i128 - self.start.0 as i128).max(1);
        let off = (t.0 as i128 - self.start.0 as i128).clamp(0, span - 1);
        ((off * FINE_BUCKETS as i128) / span) as usize
    }
}

/// The second rule set's replay of the same archive (docs/ui.md#two-rule-sets): its
/// timeline (over [`Archive::alt`]) and the pairing of its streams with the listed ones.
pub struct Other {
    pub timeline: Arc<Timeline>,
    pub paired: Paired,
    /// Its streams that no listed stream is paired with, by id
    /// (docs/rules2015.md#streams-2014-does-not-have).
    pub unpaired: Vec<u32>,
    /// As [`Data::siblings`], in this timeline.
    siblings: Siblings,
}

impl Other {
    /// The streams of an instance-day that has more than one, in this timeline.
    pub fn siblings(&self, s: &Stream) -> &[u32] {
        self.siblings.of_stream(s)
    }
}

/// The loaded archive and what is derived from it once.
pub struct Data {
    pub archive: Arc<Archive>,
    pub timeline: Arc<Timeline>,
    pub histogram: Histogram,
    /// Where the replay can stand.
    pub range: Range,
    /// Instance-days that have more than one stream, with their stream ids,
    /// so an explanation names its siblings without scanning every stream.
    siblings: Siblings,
    /// The 2015 side, when both rule sets are replayed.
    pub other: Option<Other>,
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Data")
            .field("events", &self.archive.events.len())
            .field("streams", &self.timeline.streams().len())
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl Data {
    /// Derive what the panes need from a loaded archive, once (the loader
    /// does it on its thread, so the UI does not pause).
    pub fn new(archive: Arc<Archive>, timeline: Arc<Timeline>) -> Data {
        // Sorting by instance later must not stall a key press: order the streams here, once.
        timeline.instance_ranks(&archive);
        let first = archive.events.first().map(|e| e.timestamp);
        let last = archive.events.last().map(|e| e.timestamp).unwrap_or_default();
        // The clock stands at the last decision at the end (docs/ui.md): the engine knows when that was.
        let settled = timeline.last_decision().map_or(last, |t| t.max(last));
        let siblings = Siblings::of(timeline.streams());
        let range = match first {
            Some(f) => Range { start: f.plus_micros(-1), last_event: last, settled: settled.plus_micros(1) },
            // Nothing to replay: the start is the end.
            None => Range { start: Timestamp(0), last_event: Timestamp(0), settled: Timestamp(0) },
        };
        let histogram = Histogram::new(&archive, &timeline, &range);
        Data { archive, timeline, histogram, range, siblings, other: None }
    }

    /// As [`Data::new`], with the second rule set's timeline over `archive.alt`
    /// (both built by the engine; the pairing and the labels are the engine's too).
    pub fn with_other(archive: Arc<Archive>, timeline: Arc<Timeline>, other: Option<Arc<Timeline>>) -> Data {
        let mut d = Data::new(archive, timeline);
        d.other = other.filter(|_| d.archive.alt.is_some()).map(|o| {
            let paired = Paired::new(&d.timeline, &o);
            let mut is_paired = vec![false; o.streams().len()];
            for s in d.timeline.streams() {
                if let Some(c) = paired.counterpart(s.id) {
                    is_paired[c as usize - 1] = true;
                }
            }
            let unpaired = o.streams().iter().filter(|s| !is_paired[s.id as usize - 1]).map(|s| s.id).collect();
            let siblings = Siblings::of(o.streams());
            Other { timeline: o, paired, unpaired, siblings }
        });
        d
    }

    /// The archive of the second rule set, when there is one.
    pub fn other_archive(&self) -> Option<&Archive> {
        self.other.as_ref().and(self.archive.alt.as_deref())
    }

    /// The counterpart of listed stream `id` in the second rule set's replay.
    pub fn counterpart(&self, id: u32) -> Option<&Stream> {
        let o = self.other.as_ref()?;
        o.timeline.stream(o.paired.counterpart(id)?)
    }

    /// Listed stream `id`'s triage label at `t` (`None` with one rule set, or before the stream exists).
    pub fn label_at(&self, id: u32, t: Timestamp) -> Option<Triage> {
        let o = self.other.as_ref()?;
        o.paired.label_at(&self.timeline, &o.timeline, id, t)
    }

    /// The label at `t` of the second rule set's stream `id` that has no counterpart
    /// (docs/rules2015.md#streams-2014-does-not-have): by its own outcome then, an
    /// undecided stream counting as not failing. `None` before it exists.
    pub fn unpaired_label_at(&self, id: u32, t: Timestamp) -> Option<Triage> {
        let at = self.other.as_ref()?.timeline.state_of(id, t)?;
        Some(Triage::of_unpaired(if at.decided { at.outcome } else { Outcome::Pending }))
    }

    /// Streams per triage label at `t`, with both rule sets.
    pub fn triage_counts(&self, t: Timestamp) -> Option<[usize; 5]> {
        self.other.as_ref().map(|o| o.paired.counts_at(t))
    }

    pub fn counts(&self, t: Timestamp) -> Counts {
        let tl = &self.timeline;
        // The engine counts; the UI only shows (docs/architecture.md).
        let outcome = tl.counts_at(t);
        let [error, expire_error] = tl.errors_at(t);
        let by_code = tl.codes_at(t);
        Counts {
            streams: tl.streams_at(t),
            outcome,
            active: outcome[Outcome::Pending as usize],
            completed: outcome[Outcome::Verified as usize] + outcome[Outcome::Failed as usize],
            error,
            expire_error,
            by_code,
            events: tl.position_at(t),
            unmatched: tl.unmatched_at(t),
        }
    }

    /// The other streams of an instance-day that has more than one.
    pub fn siblings(&self, s: &Stream) -> &[u32] {
        self.siblings.of_stream(s)
    }

    pub fn stream(&self, id: u32) -> Option<&Stream> {
        self.timeline.stream(id)
    }

    pub fn event(&self, idx: u32) -> Option<&Event> {
        self.archive.events.get(idx as usize)
    }
}
