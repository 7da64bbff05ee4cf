//! Side by side (docs/rules2015.md#side-by-side): the 2014 and 2015 replays of
//! one archive, their streams paired, and each 2014 stream's triage label.

use crate::hash::HashMap;
use crate::replay::{Outcome, Stream};
use crate::trigger::StreamKey;

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
}

/// Pair each stream of `primary` with the stream of `other` that has the same
/// `(instance_id, day)` and the same rank in creation order among that key's
/// streams: the index into `other`, per stream of `primary`.
pub fn pair(primary: &[Stream], other: &[Stream]) -> Vec<Option<usize>> {
    let mut by_key: HashMap<StreamKey, Vec<usize>> = HashMap::default();
    for (i, s) in other.iter().enumerate() {
        by_key.entry(s.key).or_default().push(i);
    }
    let mut rank: HashMap<StreamKey, usize> = HashMap::default();
    primary
        .iter()
        .map(|s| {
            let r = rank.entry(s.key).or_insert(0);
            let found = by_key.get(&s.key).and_then(|v| v.get(*r)).copied();
            *r += 1;
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn labels_round_trip() {
        for t in Triage::ALL {
            assert_eq!(Triage::parse(t.as_str()), Some(t));
        }
    }
}
