//! The stream list as the streams pane shows it: which streams pass the
//! filter and in which order, at the playback clock.
//!
//! Building it looks at every stream, so it is cached and rebuilt only when
//! the filter or the sort changes, or when the clock has moved far enough to
//! create or decide a stream. Unfiltered and sorted by id it is a prefix of
//! the streams (they are created in id order) and costs nothing.

use crate::archive::Archive;
use crate::event::Value;
use crate::pipeline::Code;
use crate::replay::{Outcome, Stream, StreamAt, StreamState, Timeline};
use crate::time::Timestamp;
use crate::triage::Triage;
use rayon::prelude::*;
use std::cmp::Ordering;

/// Which streams the list shows, by their state at the clock: words of one
/// kind match any of them (`U0 U1`: either code), kinds combine (`failed U2`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub outcomes: Vec<Outcome>,
    pub codes: Vec<Code>,
    pub states: Vec<StreamState>,
    /// Triage labels, with both rule sets (`triage:2014-only`; docs/ui.md#two-rule-sets).
    pub triage: Vec<Triage>,
    /// Lowercase text looked for in the instance id, the day and the message.
    pub text: Option<String>,
    /// `tenant:ID` words: the stream's tenant starts with one of them (any case).
    pub tenants: Vec<String>,
}

/// `x` is one of `set`, or the set is empty (no condition).
fn admits<T: PartialEq>(set: &[T], x: T) -> bool {
    set.is_empty() || set.contains(&x)
}

fn add<T: PartialEq>(set: &mut Vec<T>, x: T) {
    if !set.contains(&x) {
        set.push(x);
    }
}

impl Filter {
    /// Words naming an outcome, a code or a state add those; the rest is text.
    pub fn parse(s: &str) -> Filter {
        let mut f = Filter::default();
        let mut text: Vec<&str> = Vec::new();
        for word in s.split_whitespace() {
            let lower = word.to_ascii_lowercase();
            if let Some(id) = lower.strip_prefix("tenant:").filter(|id| !id.is_empty()) {
                add(&mut f.tenants, id.to_string());
            } else if let Some(o) = Outcome::parse(&lower).or(match lower.as_str() {
                "ok" => Some(Outcome::Verified),
                "err" => Some(Outcome::Error),
                _ => None,
            }) {
                add(&mut f.outcomes, o);
            } else if let Some(c) = Code::parse(word) {
                add(&mut f.codes, c);
            } else if let Some(st) = StreamState::parse(&lower) {
                add(&mut f.states, st);
            } else if let Some(l) = lower.strip_prefix("triage:").and_then(Triage::parse) {
                add(&mut f.triage, l);
            } else {
                text.push(word);
            }
        }
        if !text.is_empty() {
            f.text = Some(text.join(" ").to_lowercase());
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Show only streams with this outcome (or every stream, `None`).
    pub fn set_outcome(&mut self, o: Option<Outcome>) {
        self.outcomes = o.into_iter().collect();
    }

    /// The filter written back as the prompt accepts it.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.outcomes.iter().map(|o| o.as_str().to_string()));
        parts.extend(self.codes.iter().map(|c| c.as_str().to_string()));
        parts.extend(self.states.iter().map(|s| s.as_str().to_string()));
        parts.extend(self.triage.iter().map(|l| format!("triage:{}", l.as_str())));
        parts.extend(self.tenants.iter().map(|t| format!("tenant:{t}")));
        if let Some(t) = &self.text {
            parts.push(t.clone());
        }
        parts.join(" ")
    }

    /// Whether a stream with this triage label at the clock passes (`None`: no
    /// label, as with one rule set, which no `triage:` word admits).
    pub fn admits_label(&self, label: Option<Triage>) -> bool {
        self.triage.is_empty() || label.is_some_and(|l| self.triage.contains(&l))
    }

    /// Whether the stream, as it stands (`at`), passes; `stream` gives the stream
    /// itself, read only for a text filter.
    pub fn matches<'s>(&self, archive: &Archive, stream: impl FnOnce() -> &'s Stream, at: &StreamAt) -> bool {
        if !admits(&self.outcomes, at.outcome) || !admits(&self.states, at.state) {
            return false;
        }
        if !self.codes.is_empty() && !at.code.is_some_and(|c| self.codes.contains(&c)) {
            return false;
        }
        let Some(s) = (!self.tenants.is_empty() || self.text.is_some()).then(stream) else { return true };
        if !self.tenants.is_empty() {
            let tenant = crate::ticket::stream_tenant(archive, s).unwrap_or_default().to_lowercase();
            if !self.tenants.iter().any(|t| tenant.starts_with(t.as_str())) {
                return false;
            }
        }
        if let Some(t) = &self.text {
            let msg = match (&s.result, at.decided) {
                (Some(r), true) => r.message(),
                _ => "",
            };
            let inst = match s.instance_id {
                Value::Text(sym) => std::borrow::Cow::Borrowed(archive.symbols.get(sym)),
                other => std::borrow::Cow::Owned(other.display(&archive.symbols)),
            };
            let found = contains_ci(&inst, t)
                || contains_ci(&s.day.to_string(), t)
                || contains_ci(msg, t)
                || at.code.is_some_and(|c| contains_ci(c.as_str(), t));
            if !found {
                return false;
            }
        }
        true
    }
}

/// The instance id as text (it is usually a UUID string).
pub fn instance_text(archive: &Archive, s: &Stream) -> String {
    match s.instance_id {
        Value::Text(sym) => archive.symbols.get(sym).to_string(),
        other => other.display(&archive.symbols),
    }
}

/// Case-insensitive substring test; `needle` is already lowercase.
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.is_ascii() && needle.is_ascii() {
        let (h, n) = (hay.as_bytes(), needle.as_bytes());
        return h.len() >= n.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    hay.to_lowercase().contains(needle)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Id,
    Instance,
    Day,
    /// Failed (by code), error, pending, verified: the worst first.
    Outcome,
    Events,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [SortKey::Id, SortKey::Instance, SortKey::Day, SortKey::Outcome, SortKey::Events];

    pub fn name(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::Instance => "instance",
            SortKey::Day => "day",
            SortKey::Outcome => "outcome",
            SortKey::Events => "events",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.name() == s.to_ascii_lowercase())
    }

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|&k| k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort { key: SortKey::Id, descending: false }
    }
}

/// The rows of the list: stream ids in display order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Streams `1..=n` (or `n..=1`): unfiltered, by id.
    Prefix {
        n: usize,
        rev: bool,
    },
    List(Vec<u32>),
}

impl Default for Rows {
    fn default() -> Self {
        Rows::Prefix { n: 0, rev: false }
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Prefix { n, .. } => *n,
            Rows::List(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stream id at a row.
    pub fn get(&self, row: usize) -> Option<u32> {
        match self {
            Rows::Prefix { n, rev } => (row < *n).then(|| if *rev { (*n - row) as u32 } else { row as u32 + 1 }),
            Rows::List(v) => v.get(row).copied(),
        }
    }

    pub fn row_of(&self, id: u32) -> Option<usize> {
        match self {
            Rows::Prefix { n, rev } => {
                let i = id as usize;
                (i >= 1 && i <= *n).then(|| if *rev { *n - i } else { i - 1 })
            }
            Rows::List(v) => v.iter().position(|&x| x == id),
        }
    }
}

fn outcome_rank(at: &StreamAt) -> (u8, u8) {
    match at.outcome {
        Outcome::Failed => (0, at.code.map(|c| c as u8).unwrap_or(0)),
        Outcome::Error => (1, 0),
        Outcome::Pending => (2, 0),
        Outcome::Verified => (3, 0),
    }
}

/// A stream's triage label at the clock, by id (with both rule sets).
pub type Labels<'a> = &'a (dyn Fn(u32) -> Option<Triage> + Sync);

/// The list at time `t`: the streams existing at `t` that pass the filter, sorted;
/// `labels` gives each stream's triage label when both rule sets ran.
pub fn build(
    archive: &Archive,
    timeline: &Timeline,
    t: Timestamp,
    filter: &Filter,
    sort: Sort,
    labels: Option<Labels>,
) -> Rows {
    let n = timeline.streams_at(t);
    if filter.is_empty() && sort.key == SortKey::Id {
        return Rows::Prefix { n, rev: sort.descending };
    }
    let streams = &timeline.streams()[..n];
    // Counting each stream's replayed events is only needed to sort by them.
    let with_events = sort.key == SortKey::Events;
    let mut rows: Vec<(u32, StreamAt)> = (1..=n as u32)
        .into_par_iter()
        .filter_map(|id| {
            let at = if with_events { timeline.stream_of(id, t) } else { timeline.state_of(id, t) }?;
            let label = || labels.and_then(|l| l(id));
            (filter.matches(archive, || &streams[id as usize - 1], &at)
                && (filter.triage.is_empty() || filter.admits_label(label())))
            .then_some((id, at))
        })
        .collect();
    match sort.key {
        SortKey::Id => {}
        SortKey::Instance => {
            let ranks = timeline.instance_ranks(archive);
            rows.par_sort_unstable_by_key(|(id, _)| ranks[*id as usize - 1]);
        }
        SortKey::Day => rows.par_sort_unstable_by_key(|(id, _)| (timeline.day_of(*id), *id)),
        SortKey::Outcome => rows.par_sort_unstable_by_key(|(id, at)| (outcome_rank(at), *id)),
        SortKey::Events => rows.par_sort_unstable_by(|(a, aa), (b, bb)| match bb.events.cmp(&aa.events) {
            Ordering::Equal => a.cmp(b),
            o => o,
        }),
    }
    let mut ids: Vec<u32> = rows.into_iter().map(|(id, _)| id).collect();
    if sort.descending {
        ids.reverse();
    }
    Rows::List(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_words() {
        let f = Filter::parse("failed U2 Foo bar");
        assert_eq!(f.outcomes, [Outcome::Failed]);
        assert_eq!(f.codes, [Code::U2]);
        assert_eq!(f.text.as_deref(), Some("foo bar"));
        assert_eq!(Filter::parse("active").states, [StreamState::Active]);
        assert_eq!(Filter::parse("ok").outcomes, [Outcome::Verified]);
        assert!(Filter::parse("  ").is_empty());
        assert_eq!(Filter::parse(&f.describe()), f);
        // Words of one kind add up: any of them matches.
        let f = Filter::parse("U0 u1 failed error U0");
        assert_eq!(
            (f.codes.as_slice(), f.outcomes.as_slice()),
            (&[Code::U0, Code::U1][..], &[Outcome::Failed, Outcome::Error][..])
        );
        assert_eq!(f.describe(), "failed error U0 U1");
        // Triage labels are named with their prefix, and written back the same way.
        let f = Filter::parse("triage:2014-only TRIAGE:confirmed failed triage:nope");
        assert_eq!(f.triage, [Triage::Only2014, Triage::Confirmed]);
        assert_eq!(f.text.as_deref(), Some("triage:nope"));
        assert_eq!(Filter::parse(&f.describe()), f);
        assert!(!f.admits_label(None) && f.admits_label(Some(Triage::Confirmed)));
    }

    #[test]
    fn prefix_rows() {
        let r = Rows::Prefix { n: 3, rev: true };
        assert_eq!((r.get(0), r.get(2), r.get(3)), (Some(3), Some(1), None));
        assert_eq!(r.row_of(3), Some(0));
        assert_eq!(r.row_of(4), None);
        assert!(contains_ci("ABC-def", "c-d"));
    }
}
