//! The usage checks (docs/checks.md#usage-checks), exactly as Winchester's `UsageHandler` made
//! them: the same *exists*, the same evaluation order, the same messages, and
//! the same crash when a compared field is on only one of the two events.

use crate::event::{sym, Event, PyStr, Sym, Symbols, Value};
use std::fmt;

/// A usage failure code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Code {
    U0,
    U1,
    U2,
    U3,
    U4,
    U5,
    U6,
    U7,
    U8,
}

impl Code {
    pub const ALL: [Code; 9] =
        [Code::U0, Code::U1, Code::U2, Code::U3, Code::U4, Code::U5, Code::U6, Code::U7, Code::U8];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::U0 => "U0",
            Code::U1 => "U1",
            Code::U2 => "U2",
            Code::U3 => "U3",
            Code::U4 => "U4",
            Code::U5 => "U5",
            Code::U6 => "U6",
            Code::U7 => "U7",
            Code::U8 => "U8",
        }
    }

    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// The fixed message of codes other than U2 (docs/checks.md#usage-checks).
    pub fn fixed_message(self) -> Option<&'static str> {
        Some(match self {
            Code::U0 => "No .exists record.",
            Code::U1 => ".exists has no launched_at value.",
            Code::U2 => return None,
            Code::U3 => ".exists state not 'deleted' but deleted_at is set.",
            Code::U4 => ".exists deleted_at < launched_at.",
            Code::U5 => ".exists deleted_at in audit period, but no matching .delete event found.",
            Code::U6 => ".deleted events found but .exists has no deleted_at value.",
            Code::U7 => "Multiple .delete.end events",
            Code::U8 => ".exists launched_at in audit period, but no related events found.",
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operations whose events are compared with the *exists* (docs/checks.md#u2).
pub const OPERATION_TYPES: [&str; 9] = crate::rules::OPERATION_TYPES_2014;

/// Fields compared with each operation event, in order.
pub const OPERATION_FIELDS: [Sym; 6] = crate::rules::OPERATION_FIELDS_2014;

/// Fields compared with the single `delete.end`, in order.
pub const DELETE_FIELDS: [Sym; 2] = [sym::LAUNCHED_AT, sym::DELETED_AT];

/// What a failing check found, for the explanation.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    NoExists,
    NoLaunchedAt,
    /// U2: `field` differs between the *exists* and `other` (an index into the stream's events).
    Conflict {
        field: Sym,
        exists_value: Value,
        other: usize,
        other_value: Value,
    },
    LaunchedInPeriodAlone,
    DeletedAtButNotDeleted,
    DeletedBeforeLaunch,
    DeletedInPeriodWithoutDelete,
    DeleteWithoutDeletedAt {
        deletes: Vec<usize>,
    },
    MultipleDeletes {
        deletes: Vec<usize>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub code: Code,
    pub message: String,
    pub finding: Finding,
}

/// The original crashed with a `KeyError` when a compared field was on only one
/// of the two events; the pipeline failed and the stream went to `error`.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingField {
    pub field: Sym,
    /// Index of the event that has the field, and of the one that lacks it.
    pub present_on: usize,
    pub missing_on: usize,
}

impl MissingField {
    pub fn describe(&self, events: &[&Event], symbols: &Symbols) -> String {
        let ev = |i: usize| {
            let e = events[i];
            format!("{} (msg {})", symbols.get(e.event_type), e.message_id(symbols))
        };
        format!("'{}' is on {} but not on {}", symbols.get(self.field), ev(self.present_on), ev(self.missing_on))
    }
}

/// The verdict of the checks over one stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Index of the *exists* in the stream's events, when there is one.
    pub exists: Option<usize>,
    /// `None` when every check passed.
    pub failure: Option<Failure>,
}

/// docs/checks.md#usage-checks: the *exists* is the first `compute.instance.exists` whose audit
/// period is one whole UTC day from midnight to midnight.
pub fn find_exists(events: &[&Event]) -> Option<usize> {
    events.iter().position(|e| {
        if e.event_type != sym::EXISTS {
            return false;
        }
        match (e.datetime(sym::AUDIT_PERIOD_BEGINNING), e.datetime(sym::AUDIT_PERIOD_ENDING)) {
            (Some(b), Some(end)) => b.is_midnight() && end.is_midnight() && end.day() == b.day().next(),
            _ => false,
        }
    })
}

fn fail(code: Code, finding: Finding) -> Failure {
    Failure { code, message: code.fixed_message().unwrap_or_default().to_string(), finding }
}

/// `_verify_fields(this, that, fields)`: the first field in which two events differ, the value
/// of `this` first in the message; `exists` is the one of the two that is the *exists*. A field
/// on only one of them is the original's crash (a `KeyError`). Both rule sets compare this way;
/// 2014 always passes the *exists* as `this`.
pub(super) fn verify_fields(
    events: &[&Event],
    this: usize,
    that: usize,
    exists: usize,
    fields: &[Sym],
    symbols: &Symbols,
) -> Result<Option<Failure>, MissingField> {
    for &field in fields {
        let (a, b) = (events[this].get(field), events[that].get(field));
        match (a, b) {
            (None, None) => continue,
            (Some(_), None) => return Err(MissingField { field, present_on: this, missing_on: that }),
            (None, Some(_)) => return Err(MissingField { field, present_on: that, missing_on: this }),
            (Some(a), Some(b)) if !a.py_eq(&b) => {
                let message = format!(
                    "Conflicting '{}' values ('{}' != '{}')",
                    symbols.get(field),
                    PyStr(a, symbols),
                    PyStr(b, symbols)
                );
                let (other, exists_value, other_value) = if this == exists { (that, a, b) } else { (this, b, a) };
                return Ok(Some(Failure {
                    code: Code::U2,
                    message,
                    finding: Finding::Conflict { field, exists_value, other, other_value },
                }));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Run the checks over a stream's events (in stream order). `Err` is the
/// original's crash, which fails the pipeline.
pub fn check(events: &[&Event], symbols: &Symbols) -> Result<Verdict, MissingField> {
    let Some(x) = find_exists(events) else {
        return Ok(Verdict { exists: None, failure: Some(fail(Code::U0, Finding::NoExists)) });
    };
    let failure = checks_with_exists(events, x, symbols)?;
    Ok(Verdict { exists: Some(x), failure })
}

fn checks_with_exists(events: &[&Event], x: usize, symbols: &Symbols) -> Result<Option<Failure>, MissingField> {
    let exists = events[x];
    let Some(launched_at) = exists.get(sym::LAUNCHED_AT) else {
        return Ok(Some(fail(Code::U1, Finding::NoLaunchedAt)));
    };
    // The operation types as symbols: compare symbols, not strings, per event.
    // A type no event of the archive has is not among the symbols: it matches nothing.
    let ops: [Option<Sym>; 9] = OPERATION_TYPES.map(|t| symbols.lookup(t));
    for (i, e) in events.iter().enumerate() {
        if ops.contains(&Some(e.event_type)) {
            if let Some(f) = verify_fields(events, x, i, x, &OPERATION_FIELDS, symbols)? {
                return Ok(Some(f));
            }
        }
    }
    // The exists was found with both audit bounds present.
    let apb = exists.datetime(sym::AUDIT_PERIOD_BEGINNING).unwrap_or_default();
    let ape = exists.datetime(sym::AUDIT_PERIOD_ENDING).unwrap_or_default();
    let state = exists.get(sym::STATE);
    let is_state = |s: Sym| matches!(state, Some(Value::Text(t)) if t == s);
    let in_period = |v: Value| match v {
        Value::DateTime(t) => apb <= t && t <= ape,
        _ => false,
    };
    if is_state(sym::ACTIVE) && in_period(launched_at) && events.len() == 1 {
        return Ok(Some(fail(Code::U8, Finding::LaunchedInPeriodAlone)));
    }
    let deleted_at = exists.get(sym::DELETED_AT);
    let deletes: Vec<usize> = (0..events.len()).filter(|&i| events[i].event_type == sym::DELETE_END).collect();
    if let Some(deleted_at) = deleted_at {
        if !is_state(sym::DELETED) {
            return Ok(Some(fail(Code::U3, Finding::DeletedAtButNotDeleted)));
        }
        if deletes.is_empty() {
            if let (Value::DateTime(d), Value::DateTime(l)) = (deleted_at, launched_at) {
                if d < l {
                    return Ok(Some(fail(Code::U4, Finding::DeletedBeforeLaunch)));
                }
            }
            if in_period(deleted_at) {
                return Ok(Some(fail(Code::U5, Finding::DeletedInPeriodWithoutDelete)));
            }
        }
    } else if !deletes.is_empty() {
        return Ok(Some(fail(Code::U6, Finding::DeleteWithoutDeletedAt { deletes })));
    }
    if deletes.len() > 1 {
        return Ok(Some(fail(Code::U7, Finding::MultipleDeletes { deletes })));
    }
    if let [d] = deletes[..] {
        if let Some(f) = verify_fields(events, x, d, x, &DELETE_FIELDS, symbols)? {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Archive;
    use serde_json::{json, Value as J};

    const DAY: &str = "2014-10-06";

    /// The *exists* with the given extra traits; launched before the day unless overridden.
    fn exists(extra: J) -> J {
        merge(
            json!({"event_type": "compute.instance.exists", "message_id": "x-1", "timestamp": "2014-10-07 00:10:00",
                "instance_id": "i1", "tenant_id": "t1", "state": "active", "instance_type_id": 4,
                "launched_at": "2014-09-01 12:00:00", "os_architecture": "x64", "os_version": "14.04",
                "os_distro": "com.ubuntu",
                "audit_period_beginning": format!("{DAY} 00:00:00"), "audit_period_ending": "2014-10-07 00:00:00"}),
            extra,
        )
    }

    fn event(event_type: &str, id: &str, ts: &str, extra: J) -> J {
        merge(
            json!({"event_type": event_type, "message_id": id, "timestamp": format!("{DAY} {ts}"), "instance_id": "i1",
                "tenant_id": "t1", "state": "active", "instance_type_id": 4, "launched_at": "2014-09-01 12:00:00",
                "os_architecture": "x64", "os_version": "14.04", "os_distro": "com.ubuntu"}),
            extra,
        )
    }

    fn merge(mut a: J, b: J) -> J {
        if let (Some(o), Some(e)) = (a.as_object_mut(), b.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    o.remove(k);
                } else {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        a
    }

    /// Run the checks over these events (in timestamp order); the message, or `error: …`, or `verified`.
    fn verdict(events: &[J]) -> String {
        let text: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        let a = Archive::from_bytes("t.jsonl", text.join("\n").as_bytes());
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        let evs: Vec<&Event> = a.events.iter().collect();
        match check(&evs, &a.symbols) {
            Ok(Verdict { failure: None, .. }) => "verified".into(),
            Ok(Verdict { failure: Some(f), .. }) => {
                assert_eq!(f.message.starts_with("Conflicting"), f.code == Code::U2);
                format!("{}: {}", f.code, f.message)
            }
            Err(m) => format!("error: {}", m.describe(&evs, &a.symbols)),
        }
    }

    fn created() -> J {
        event("compute.instance.create.end", "c-1", "08:00:00", json!({}))
    }

    #[test]
    fn a_consistent_day_is_verified() {
        assert_eq!(verdict(&[created(), exists(json!({}))]), "verified");
    }

    #[test]
    fn u0_needs_a_midnight_to_midnight_exists() {
        assert_eq!(verdict(&[created()]), "U0: No .exists record.");
        let shifted = exists(
            json!({"audit_period_beginning": "2014-10-06 05:00:00", "audit_period_ending": "2014-10-07 05:00:00"}),
        );
        assert_eq!(verdict(&[created(), shifted]), "U0: No .exists record.");
        let two_days = exists(json!({"audit_period_ending": "2014-10-08 00:00:00"}));
        assert_eq!(verdict(&[created(), two_days]), "U0: No .exists record.");
        let micro = exists(json!({"audit_period_ending": "2014-10-07 00:00:00.000001"}));
        assert_eq!(verdict(&[created(), micro]), "U0: No .exists record.");
    }

    #[test]
    fn the_first_valid_exists_is_the_one_checked() {
        let partial = exists(json!({"message_id": "x-0", "timestamp": "2014-10-06 09:00:00",
            "audit_period_ending": "2014-10-06 09:00:00", "launched_at": null}));
        let second = exists(json!({"message_id": "x-2", "timestamp": "2014-10-07 00:20:00", "launched_at": null}));
        assert_eq!(verdict(&[created(), partial, exists(json!({})), second]), "verified");
    }

    #[test]
    fn u1_missing_launched_at() {
        assert_eq!(
            verdict(&[created(), exists(json!({"launched_at": null}))]),
            "U1: .exists has no launched_at value."
        );
        // "" means absent
        assert_eq!(verdict(&[created(), exists(json!({"launched_at": ""}))]), "U1: .exists has no launched_at value.");
    }

    #[test]
    fn u2_compares_operations_field_by_field_in_order() {
        let resize = event(
            "compute.instance.resize.prep.start",
            "r-1",
            "09:00:00",
            json!({"instance_type_id": 2, "os_distro": "x"}),
        );
        assert_eq!(verdict(&[resize, exists(json!({}))]), "U2: Conflicting 'instance_type_id' values ('4' != '2')");
        let rebuild = event(
            "compute.instance.rebuild.start",
            "b-1",
            "09:00:00",
            json!({"launched_at": "2014-10-06 01:02:03.000040", "os_version": "12.04"}),
        );
        assert_eq!(
            verdict(&[rebuild, exists(json!({}))]),
            "U2: Conflicting 'launched_at' values ('2014-09-01 12:00:00' != '2014-10-06 01:02:03.000040')"
        );
    }

    #[test]
    fn u2_follows_python_equality() {
        let float = event("compute.instance.create.end", "c-1", "08:00:00", json!({"instance_type_id": 4.0}));
        assert_eq!(verdict(&[float, exists(json!({}))]), "verified", "4 == 4.0");
        let text = event("compute.instance.create.end", "c-1", "08:00:00", json!({"instance_type_id": "4"}));
        assert_eq!(verdict(&[text, exists(json!({}))]), "U2: Conflicting 'instance_type_id' values ('4' != '4')");
        let f = event("compute.instance.create.end", "c-1", "08:00:00", json!({"instance_type_id": 123456789.125}));
        assert_eq!(
            verdict(&[f, exists(json!({}))]),
            "U2: Conflicting 'instance_type_id' values ('4' != '123456789.125')"
        );
    }

    #[test]
    fn a_field_on_one_side_only_is_the_error_outcome() {
        let no_distro = event("compute.instance.create.end", "c-1", "08:00:00", json!({"os_distro": null}));
        assert_eq!(
            verdict(&[no_distro, exists(json!({}))]),
            "error: 'os_distro' is on compute.instance.exists (msg x-1) but not on compute.instance.create.end (msg c-1)"
        );
        let both_missing = event("compute.instance.create.end", "c-1", "08:00:00", json!({"os_distro": null}));
        assert_eq!(verdict(&[both_missing, exists(json!({"os_distro": null}))]), "verified");
        // an earlier field that differs wins over a later missing one
        let both =
            event("compute.instance.create.end", "c-1", "08:00:00", json!({"tenant_id": "t2", "os_distro": null}));
        assert_eq!(verdict(&[both, exists(json!({}))]), "U2: Conflicting 'tenant_id' values ('t1' != 't2')");
    }

    #[test]
    fn finish_resize_end_is_not_compared_but_resize_finish_end_is() {
        let real = event("compute.instance.finish_resize.end", "f-1", "09:00:00", json!({"instance_type_id": 9}));
        assert_eq!(verdict(&[real, exists(json!({}))]), "verified");
        let listed = event("compute.instance.resize.finish.end", "f-1", "09:00:00", json!({"instance_type_id": 9}));
        assert_eq!(verdict(&[listed, exists(json!({}))]), "U2: Conflicting 'instance_type_id' values ('4' != '9')");
    }

    #[test]
    fn u8_bounds_are_inclusive_and_need_exactly_one_event() {
        let msg = "U8: .exists launched_at in audit period, but no related events found.";
        for launched in ["2014-10-06 00:00:00", "2014-10-06 13:00:00", "2014-10-07 00:00:00"] {
            assert_eq!(verdict(&[exists(json!({"launched_at": launched}))]), msg, "launched_at {launched}");
        }
        assert_eq!(verdict(&[exists(json!({"launched_at": "2014-10-05 23:59:59.999999"}))]), "verified");
        assert_eq!(verdict(&[exists(json!({"launched_at": "2014-10-07 00:00:00.000001"}))]), "verified");
        assert_eq!(verdict(&[exists(json!({"launched_at": "2014-10-06 13:00:00", "state": "stopped"}))]), "verified");
        let update = event("compute.instance.update", "u-1", "14:00:00", json!({}));
        assert_eq!(verdict(&[update, exists(json!({"launched_at": "2014-10-06 13:00:00"}))]), "verified");
    }

    #[test]
    fn delete_checks_in_evaluation_order() {
        let u3 = ".exists state not 'deleted' but deleted_at is set.";
        assert_eq!(verdict(&[created(), exists(json!({"deleted_at": "2014-10-06 10:00:00"}))]), format!("U3: {u3}"));
        // U8 comes before U3
        assert_eq!(
            verdict(&[exists(json!({"launched_at": "2014-10-06 01:00:00", "deleted_at": "2014-10-06 10:00:00"}))]),
            "U8: .exists launched_at in audit period, but no related events found."
        );
        let deleted = |d: &str| exists(json!({"state": "deleted", "deleted_at": d}));
        assert_eq!(verdict(&[created(), deleted("2014-08-01 00:00:00")]), "U4: .exists deleted_at < launched_at.");
        let u5 = "U5: .exists deleted_at in audit period, but no matching .delete event found.";
        assert_eq!(verdict(&[created(), deleted("2014-10-06 00:00:00")]), u5);
        assert_eq!(verdict(&[created(), deleted("2014-10-07 00:00:00")]), u5);
        assert_eq!(verdict(&[created(), deleted("2014-10-07 00:00:00.000001")]), "verified");
        let del = |id: &str, at: &str| {
            event("compute.instance.delete.end", id, "10:00:00", json!({"deleted_at": at, "state": "deleted"}))
        };
        assert_eq!(
            verdict(&[created(), del("d-1", "2014-10-06 10:00:00"), exists(json!({}))]),
            "U6: .deleted events found but .exists has no deleted_at value."
        );
        assert_eq!(
            verdict(&[
                created(),
                del("d-1", "2014-10-06 10:00:00"),
                del("d-2", "2014-10-06 10:00:00"),
                deleted("2014-10-06 10:00:00")
            ]),
            "U7: Multiple .delete.end events"
        );
        assert_eq!(
            verdict(&[created(), del("d-1", "2014-10-06 10:00:00"), deleted("2014-10-06 10:00:00")]),
            "verified"
        );
        assert_eq!(
            verdict(&[created(), del("d-1", "2014-10-06 10:00:01"), deleted("2014-10-06 10:00:00")]),
            "U2: Conflicting 'deleted_at' values ('2014-10-06 10:00:00' != '2014-10-06 10:00:01')"
        );
        // U4 takes precedence over U5, and both need the absence of delete.end
        assert_eq!(
            verdict(&[created(), del("d-1", "2014-08-01 00:00:00"), deleted("2014-08-01 00:00:00")]),
            "verified"
        );
        let no_deleted_at = event("compute.instance.delete.end", "d-1", "10:00:00", json!({"state": "deleted"}));
        assert_eq!(
            verdict(&[created(), no_deleted_at, deleted("2014-10-06 10:00:00")]),
            "error: 'deleted_at' is on compute.instance.exists (msg x-1) but not on compute.instance.delete.end (msg d-1)"
        );
    }

    #[test]
    fn u2_over_operations_comes_before_the_delete_checks() {
        let resize = event("compute.instance.resize.prep.start", "r-1", "09:00:00", json!({"instance_type_id": 2}));
        assert_eq!(
            verdict(&[resize, exists(json!({"deleted_at": "2014-10-06 10:00:00"}))]),
            "U2: Conflicting 'instance_type_id' values ('4' != '2')"
        );
    }
}
