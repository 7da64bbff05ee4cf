//! Side by side (docs/rules2015.md#side-by-side): the 2014 and 2015 replays of
//! one archive, their streams paired, and each 2014 stream's triage label.

use crate::replay::{Outcome, Stream, Timeline};
use crate::time::Timestamp;
use rayon::prelude::*;

/// What the two verdicts of one instance-day say together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Triage {
    /// Both rule sets fail it.
    Confirmed,
    /// 2014 fails it, 2015 does not: typically the same-day operation false alarm.
    Only2014,
    /// 2015 fails it, 2014 does not.
    Only2015,
    /// Neither fails it (verified, pending, or no counterpart).
    Agreed,
    /// Either side's pipeline failed.
    Error,
}

impl Triage {
    pub const ALL: [Triage; 5] = [Triage::Confirmed, Triage::Only2014, Triage::Only2015, Triage::Agreed, Triage::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Triage::Confirmed => "confirmed",
            Triage::Only2014 => "2014-only",
            Triage::Only2015 => "2015-only",
            Triage::Agreed => "agreed",
            Triage::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Triage> {
        Triage::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The label of a 2014 outcome and its 2015 counterpart's (`None`: no
    /// counterpart, which counts as not failing, like a pending one).
    pub fn of(y2014: Outcome, y2015: Option<Outcome>) -> Triage {
        if y2014 == Outcome::Error || y2015 == Some(Outcome::Error) {
            return Triage::Error;
        }
        match (y2014 == Outcome::Failed, y2015 == Some(Outcome::Failed)) {
            (true, true) => Triage::Confirmed,
            (true, false) => Triage::Only2014,
            (false, true) => Triage::Only2015,
            (false, false) => Triage::Agreed,
        }
    }

    /// The label of a 2015 stream that no 2014 stream is paired with: the missing
    /// 2014 stream counts as not failing (docs/rules2015.md#streams-2014-does-not-have).
    pub fn of_unpaired(y2015: Outcome) -> Triage {
        Triage::of(Outcome::Pending, Some(y2015))
    }
}

/// Pair each stream of `primary` with the stream of `other` that has the same
/// `(instance_id, day)` and the same rank in creation order among that key's
/// streams: the index into `other`, per stream of `primary`.
pub fn pair(primary: &[Stream], other: &[Stream]) -> Vec<Option<u32>> {
    // Each side's streams sorted by key, creation order within a key: walking
    // the two lists together meets the n-th stream of a key on both sides at once.
    // Two sorted lists take a fraction of the memory of a map of lists; when every
    // instance id is a text (as nova's are), a key packs into one word.
    // The usual case: the two replays made the same streams in the same order,
    // and each stream's counterpart is the one at its own place.
    if primary.len() == other.len() && primary.iter().zip(other).all(|(p, o)| p.key() == o.key()) {
        return (0..primary.len() as u32).map(Some).collect();
    }
    let packed = |s: &Stream| s.key().packed();
    if primary.iter().chain(other).all(|s| packed(s).is_some()) {
        walk(primary.len(), sorted(primary, |s| packed(s).unwrap_or(0)), sorted(other, |s| packed(s).unwrap_or(0)))
    } else {
        walk(primary.len(), sorted(primary, |s| s.key()), sorted(other, |s| s.key()))
    }
}

/// `(key, index)` of every stream, by key, then creation order.
fn sorted<K: Ord + Send>(streams: &[Stream], key: impl Fn(&Stream) -> K + Sync) -> Vec<(K, u32)> {
    let mut v: Vec<(K, u32)> = streams.par_iter().enumerate().map(|(i, s)| (key(s), i as u32)).collect();
    v.par_sort_unstable();
    v
}

/// The n-th of a key on one side with the n-th of the same key on the other.
fn walk<K: Ord>(primary: usize, p: Vec<(K, u32)>, o: Vec<(K, u32)>) -> Vec<Option<u32>> {
    let mut pairs = vec![None; primary];
    let (mut i, mut j) = (0, 0);
    while i < p.len() && j < o.len() {
        match p[i].0.cmp(&o[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                pairs[p[i].1 as usize] = Some(o[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    pairs
}

/// Two replays of one archive side by side, at any clock time (the
/// interactive replay, docs/rules2015.md#side-by-side): each primary stream's
/// counterpart, and the triage labels counted at any time without visiting
/// the streams.
pub struct Paired {
    /// The counterpart's id in the other timeline, per primary stream (index = id - 1).
    other: Vec<Option<u32>>,
    /// Per label: the moments streams take it and leave it, sorted; a stream
    /// has the label at T when it took it before T and has not left it by then.
    enter: [Vec<Timestamp>; 5],
    leave: [Vec<Timestamp>; 5],
}

impl Paired {
    /// Pair the streams of two timelines of one archive (the primary's are the listed ones).
    pub fn new(primary: &Timeline, other: &Timeline) -> Paired {
        let pairs = pair(primary.streams(), other.streams());
        let ids: Vec<Option<u32>> = pairs.iter().map(|o| o.map(|i| other.streams()[i as usize].id)).collect();
        let mut enter: [Vec<Timestamp>; 5] = Default::default();
        let mut leave: [Vec<Timestamp>; 5] = Default::default();
        for (s, o) in primary.streams().iter().zip(&ids) {
            let o = o.and_then(|id| other.stream(id));
            // What each side says just after moment `p`: decided once its threshold is ≤ p.
            let label_after = |p: Timestamp| {
                let mine = if s.decided_after() <= p { s.outcome() } else { Outcome::Pending };
                let theirs = o.map(|o| if o.decided_after() <= p { o.outcome() } else { Outcome::Pending });
                Triage::of(mine, theirs)
            };
            // A stream exists from its first event: it counts once the clock is past first_event - 1µs.
            let born = s.first_event.plus_micros(-1);
            let mut points = vec![born];
            for t in [Some(s.decided_after()), o.map(Stream::decided_after)].into_iter().flatten() {
                if t > born && t != Timestamp::MAX {
                    points.push(t);
                }
            }
            points.sort_unstable();
            points.dedup();
            let mut current: Option<Triage> = None;
            for p in points {
                let l = label_after(p);
                if current != Some(l) {
                    if let Some(c) = current {
                        leave[c as usize].push(p);
                    }
                    enter[l as usize].push(p);
                    current = Some(l);
                }
            }
        }
        for v in enter.iter_mut().chain(leave.iter_mut()) {
            v.sort_unstable();
        }
        Paired { other: ids, enter, leave }
    }

    /// The counterpart of primary stream `id`, by its id in the other timeline.
    pub fn counterpart(&self, id: u32) -> Option<u32> {
        self.other.get((id as usize).checked_sub(1)?).copied().flatten()
    }

    /// Primary stream `id`'s label at time `t` (`None` when it does not exist yet):
    /// the two sides' outcomes at `t`, as the two timelines say.
    pub fn label_at(&self, primary: &Timeline, other: &Timeline, id: u32, t: Timestamp) -> Option<Triage> {
        let mine = primary.state_of(id, t)?;
        let theirs = self.counterpart(id).and_then(|o| other.state_of(o, t));
        Some(Triage::of(mine.outcome, theirs.map(|a| a.outcome)))
    }

    /// Streams per label at time `t`, indexed by `Triage as usize`.
    pub fn counts_at(&self, t: Timestamp) -> [usize; 5] {
        let mut c = [0; 5];
        for (i, n) in c.iter_mut().enumerate() {
            *n = self.enter[i].partition_point(|&x| x < t) - self.leave[i].partition_point(|&x| x < t);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Value;

    #[test]
    fn triage_is_a_function_of_the_two_outcomes() {
        use Outcome::*;
        let all = [Some(Verified), Some(Failed), Some(Error), Some(Pending), None];
        for a in [Verified, Failed, Error, Pending] {
            for b in all {
                let t = Triage::of(a, b);
                let expected = if a == Error || b == Some(Error) {
                    Triage::Error
                } else if a == Failed && b == Some(Failed) {
                    Triage::Confirmed
                } else if a == Failed {
                    Triage::Only2014
                } else if b == Some(Failed) {
                    Triage::Only2015
                } else {
                    Triage::Agreed
                };
                assert_eq!(t, expected, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_2015_stream_without_a_2014_one_is_labelled_by_its_own_outcome() {
        use Outcome::*;
        assert_eq!(Triage::of_unpaired(Failed), Triage::Only2015);
        assert_eq!(Triage::of_unpaired(Error), Triage::Error);
        assert_eq!(Triage::of_unpaired(Verified), Triage::Agreed);
        assert_eq!(Triage::of_unpaired(Pending), Triage::Agreed);
    }

    #[test]
    fn labels_round_trip() {
        for t in Triage::ALL {
            assert_eq!(Triage::parse(t.as_str()), Some(t));
        }
    }

    fn stream(id: u32, instance: i64, day: i32) -> Stream {
        with_key(id, Value::Int(instance), day)
    }

    fn with_key(id: u32, instance: Value, day: i32) -> Stream {
        use crate::replay::StreamState;
        use crate::time::Day;
        Stream {
            id,
            instance_id: instance,
            day: Day(day),
            events: Default::default(),
            first_event: Timestamp(0),
            last_event: Timestamp(0),
            ready_at: Timestamp(0),
            marked_ready: false,
            state: StreamState::Active,
            result: None,
        }
    }

    #[test]
    fn streams_pair_by_key_and_rank_among_the_key_s_streams() {
        // Primary: instance 1 twice on day 10 (a stream that expired, then a new one), 2 and 3 once.
        let primary = [stream(1, 1, 10), stream(2, 2, 10), stream(3, 1, 10), stream(4, 3, 11)];
        // Other: instance 1 once on day 10, a stream primary lacks, 2 on day 10, 3 on another day.
        let other = [stream(1, 9, 10), stream(2, 1, 10), stream(3, 2, 10), stream(4, 3, 12)];
        assert_eq!(pair(&primary, &other), vec![Some(1), Some(2), None, None]);
        // Both of the key's streams on each side: first with first, second with second.
        let other = [stream(1, 1, 10), stream(2, 1, 10), stream(3, 3, 11)];
        assert_eq!(pair(&primary, &other), vec![Some(0), None, Some(1), Some(2)]);
        assert_eq!(pair(&primary, &[]), vec![None; 4]);
        assert_eq!(pair(&[], &other), Vec::<Option<u32>>::new());
        // The same streams in the same order: each with the one at its place.
        assert_eq!(pair(&primary, &primary), vec![Some(0), Some(1), Some(2), Some(3)]);
        // Same length, one key apart: pairing by key still.
        let other = [stream(1, 1, 10), stream(2, 2, 10), stream(3, 3, 11), stream(4, 1, 10)];
        assert_eq!(pair(&primary, &other), vec![Some(0), Some(1), Some(3), Some(2)]);
    }

    /// Text instance ids (nova's) pair through a packed key; the ranks and days are kept
    /// apart as with any key, negative days included.
    #[test]
    fn text_instance_ids_pair_the_same_way() {
        let text = |id, name: u32, day| with_key(id, Value::Text(crate::event::Sym(name)), day);
        let primary = [text(1, 7, 10), text(2, 8, 10), text(3, 7, 10), text(4, 7, -1), text(5, 8, 11)];
        let other = [text(1, 8, 11), text(2, 7, 10), text(3, 7, -1), text(4, 7, 10), text(5, 7, 10), text(6, 9, 10)];
        assert_eq!(pair(&primary, &other), vec![Some(1), None, Some(3), Some(2), Some(0)]);
        // One id that is not a text sends every key the general way, with the same answer.
        let mut mixed = other.to_vec();
        mixed.push(stream(7, 7, 10));
        assert_eq!(pair(&primary, &mixed), vec![Some(1), None, Some(3), Some(2), Some(0)]);
    }
}
