//! The `usage` trigger (docs/streams.md#matching): which events join a stream, how streams are
//! distinguished, and when a stream is ready to fire.

use crate::event::{sym, Event, ValueKey};
use crate::rules::RuleSet;
use crate::time::{Day, Timestamp};

/// Streams are distinguished by `(instance_id, day)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct StreamKey {
    pub instance_id: ValueKey,
    pub day: Day,
}

impl StreamKey {
    /// The key in one word, when its instance id is a text (as nova's are): the
    /// text's symbol and the day. Two such keys are equal exactly when their words are.
    pub fn packed(&self) -> Option<u64> {
        match self.instance_id {
            ValueKey::Text(sym) => Some((u64::from(sym.0) << 32) | u64::from(self.day.0 as u32)),
            _ => None,
        }
    }
}

/// Why an event did not join the usage trigger.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unmatched {
    /// Not a `compute.instance.*` type, or one of the `.exists.*` results.
    Type,
    /// A `compute.instance.exists` without `audit_period_beginning`.
    NoAuditPeriod,
    NoInstanceId,
}

impl Unmatched {
    pub fn describe(self) -> &'static str {
        match self {
            Unmatched::Type => "its type is not one the usage trigger takes",
            Unmatched::NoAuditPeriod => "a compute.instance.exists without audit_period_beginning",
            Unmatched::NoInstanceId => "no instance_id trait",
        }
    }
}

/// docs/streams.md#matching: the stream key of an event under a rule set's
/// match criterion, or why it has none.
pub fn match_event(e: &Event, event_type: &str, rules: RuleSet) -> Result<StreamKey, Unmatched> {
    let day = if e.event_type == sym::EXISTS {
        e.datetime(sym::AUDIT_PERIOD_BEGINNING).ok_or(Unmatched::NoAuditPeriod)?.day()
    } else if rules.matches_type(event_type)
        && ![sym::EXISTS_VERIFIED, sym::EXISTS_FAILED, sym::EXISTS_WARNINGS].contains(&e.event_type)
    {
        e.timestamp.day()
    } else {
        return Err(Unmatched::Type);
    };
    let instance_id = e.get(sym::INSTANCE_ID).ok_or(Unmatched::NoInstanceId)?;
    Ok(StreamKey { instance_id: instance_id.into(), day })
}

/// docs/streams.md#streams, the fire criterion: a `compute.instance.exists` whose
/// `audit_period_ending` is exactly one day after its `audit_period_beginning`.
pub fn is_eod_exists(e: &Event) -> bool {
    if e.event_type != sym::EXISTS {
        return false;
    }
    match (e.datetime(sym::AUDIT_PERIOD_BEGINNING), e.datetime(sym::AUDIT_PERIOD_ENDING)) {
        (Some(b), Some(end)) => end == b.plus_days(1),
        _ => false,
    }
}

/// docs/streams.md#expiry: `$last + 2d`.
pub fn expiry(last_event: Timestamp) -> Timestamp {
    last_event.plus_days(2)
}
