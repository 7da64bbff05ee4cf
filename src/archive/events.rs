//! The events of one rule set in replay order (docs/rules2015.md#what-side-by-side-costs).
//!
//! Under one rule set, a list of its own. Under both, the second rule set's list
//! holds an event of its own only where a record distilled differently; where
//! a record gave the second rule set exactly the event it gave the first (same
//! type, id, timestamp, origin and kept traits), or, in a report of verdicts,
//! an event the first one can stand for ([`Event::absorb`]), the list points at
//! the first rule set's copy instead of holding a second one.

use crate::event::Event;
use std::sync::Arc;

/// A slot that points at the first rule set's events; without it, at this list's own.
const SHARED: u32 = 1 << 31;

/// The events of one rule set, in replay order, indexable like a slice.
#[derive(Clone, Debug, Default)]
pub struct Events {
    own: Arc<Vec<Event>>,
    /// For a list that shares: the first rule set's events, and per position a slot.
    shared: Option<(Arc<Vec<Event>>, Vec<u32>)>,
}

impl Events {
    /// A list of its own, already in replay order.
    pub fn plain(events: Vec<Event>) -> Events {
        Events { own: Arc::new(events), shared: None }
    }

    /// A list made of `own` events (in any order) and events of `base`, as
    /// `slots` says, in replay order.
    pub(super) fn sharing(base: Arc<Vec<Event>>, own: Vec<Event>, slots: Vec<u32>) -> Events {
        Events { own: Arc::new(own), shared: Some((base, slots)) }
    }

    /// The list as a shared handle, for a second list to point into (a list of its own only).
    pub(super) fn base(&self) -> Option<Arc<Vec<Event>>> {
        self.shared.is_none().then(|| Arc::clone(&self.own))
    }

    pub fn len(&self) -> usize {
        match &self.shared {
            None => self.own.len(),
            Some((_, slots)) => slots.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&Event> {
        match &self.shared {
            None => self.own.get(i),
            Some((base, slots)) => {
                let slot = *slots.get(i)?;
                if slot & SHARED != 0 {
                    base.get((slot & !SHARED) as usize)
                } else {
                    self.own.get(slot as usize)
                }
            }
        }
    }

    pub fn first(&self) -> Option<&Event> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&Event> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + ExactSizeIterator + '_ {
        (0..self.len()).map(move |i| &self[i])
    }

    /// The index of the first event for which `pred` is false, the events being
    /// partitioned by it (as `slice::partition_point`).
    pub fn partition_point(&self, pred: impl Fn(&Event) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(&self[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// How many events this list holds itself (the rest are the first rule set's).
    pub fn held(&self) -> usize {
        self.own.len()
    }
}

impl std::ops::Index<usize> for Events {
    type Output = Event;

    fn index(&self, i: usize) -> &Event {
        match self.get(i) {
            Some(e) => e,
            None => panic!("event {i} of {}", self.len()),
        }
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = Box<dyn Iterator<Item = &'a Event> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A slot for position `k` of the first rule set's list.
pub(super) fn shared_slot(k: usize) -> u32 {
    SHARED | k as u32
}

/// Whether a slot points at the first rule set's list, and where.
pub(super) fn slot_target(slot: u32) -> (bool, usize) {
    (slot & SHARED != 0, (slot & !SHARED) as usize)
}
