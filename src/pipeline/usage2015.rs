//! The 2015 usage checks (docs/rules2015.md#checks), as Winchester's final
//! `UsageHandler` made them: the stream cut into blocks at every `.exists`,
//! one result per `.exists`, warnings for a non-EOD `.exists` without an
//! operation, a U0 for a trailing block, and the same crashes.

use super::usage::{Code, Failure, Finding, MissingField};
use crate::event::{sym, Event, MessageId, Sym, Symbols, Value};
use crate::rules::{OPERATION_FIELDS_2015, OPERATION_TYPES_2015};

/// docs/rules2015.md#messages: the 2015 wording, where it differs from 2014.
pub const MSG_U3: &str = ".exists state not 'deleted' but .exists deleted_at is set.";
pub const MSG_U4: &str = ".exists deleted_at < .exists launched_at.";
pub const MSG_U0_TRAILING: &str = "Notifications, but no .exists notification found.";

/// The fields compared with the last `delete.end` of a block, in order.
const DELETE_FIELDS: [Sym; 2] = [sym::LAUNCHED_AT, sym::DELETED_AT];

/// One result: of an `.exists` (its index in the stream), or the trailing-block U0.
#[derive(Clone, Debug, PartialEq)]
pub struct ExistsResult {
    /// The `.exists`, or `None` for the trailing block's U0.
    pub exists: Option<usize>,
    /// The first event of the result's block (the trailing block's first event for U0).
    pub block: std::ops::Range<usize>,
    pub failure: Option<Failure>,
    /// How many warnings the stream had raised when this result was made.
    pub warnings_so_far: usize,
}

/// What the 2015 checks concluded over one stream.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Audit2015 {
    pub results: Vec<ExistsResult>,
    /// Every warning raised, in order.
    pub warnings: Vec<String>,
    /// The `.exists` each warning is about (index in the stream).
    pub warned: Vec<usize>,
}

impl Audit2015 {
    /// The first failed result, in stream order.
    pub fn first_failure(&self) -> Option<&Failure> {
        self.results.iter().find_map(|r| r.failure.as_ref())
    }
}

/// Why the original's pipeline failed on a stream (the stream goes to `error`).
#[derive(Clone, Debug, PartialEq)]
pub enum Crash {
    /// A compared field on only one of the two events (a `KeyError`).
    Missing(MissingField),
    /// U4 compared `deleted_at` with an absent `launched_at` (a `TypeError`).
    NoLaunchedAtForU4 { exists: usize },
    /// The `.exists`' message id is not a UUID (a `ValueError` deriving the result's id).
    NotUuid { exists: usize },
}

impl Crash {
    pub fn describe(&self, events: &[&Event], symbols: &Symbols) -> String {
        let ev = |i: usize| format!("{} (msg {})", symbols.get(events[i].event_type), events[i].message_id(symbols));
        match self {
            Crash::Missing(m) => m.describe(events, symbols),
            Crash::NoLaunchedAtForU4 { exists } => {
                format!("TypeError: deleted_at compared with a missing launched_at on {}", ev(*exists))
            }
            Crash::NotUuid { exists } => {
                format!("ValueError: badly formed UUID as the message id of {}", ev(*exists))
            }
        }
    }
}

/// Python's `uuid.UUID(text)`: hyphens anywhere or none, surrounding braces, a
/// `urn:`/`uuid:` prefix, either case. `None` where Python raised.
pub fn python_uuid(text: &str) -> Option<uuid::Uuid> {
    let hex = text.replace("urn:", "").replace("uuid:", "");
    let hex = hex.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    if hex.chars().count() != 32 {
        return None;
    }
    // int(hex, 16): surrounding whitespace, a sign, and single underscores between digits.
    let t = hex.trim();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let value = u128::from_str_radix(&clean, 16).ok()?;
    if negative && value != 0 {
        return None;
    }
    Some(uuid::Uuid::from_u128(value))
}

fn fail(code: Code, message: &str, finding: Finding) -> Failure {
    Failure { code, message: message.to_string(), finding }
}

fn is_state(e: &Event, s: Sym) -> bool {
    matches!(e.get(sym::STATE), Some(Value::Text(t)) if t == s)
}

/// `_verify_fields`, shared with the 2014 checks; a missing field crashes the pipeline.
fn verify_fields(
    events: &[&Event],
    this: usize,
    that: usize,
    exists: usize,
    fields: &[Sym],
    symbols: &Symbols,
) -> Result<Option<Failure>, Crash> {
    super::usage::verify_fields(events, this, that, exists, fields, symbols).map_err(Crash::Missing)
}

/// The checks of one `.exists` against its block (docs/rules2015.md#checks):
/// the failure, if any; a warning is pushed onto `warnings` on the way.
fn check_block(
    events: &[&Event],
    block: std::ops::Range<usize>,
    x: usize,
    ops: &[Option<Sym>],
    symbols: &Symbols,
    warnings: &mut Vec<String>,
    warned: &mut Vec<usize>,
) -> Result<Option<Failure>, Crash> {
    let exists = events[x];
    let apb = exists.datetime(sym::AUDIT_PERIOD_BEGINNING);
    let ape = exists.datetime(sym::AUDIT_PERIOD_ENDING);
    let launched_at = exists.get(sym::LAUNCHED_AT);
    // _confirm_launched_at: only for an active instance.
    if is_state(exists, sym::ACTIVE) {
        let Some(launched) = launched_at else {
            return Ok(Some(fail(Code::U1, ".exists has no launched_at value.", Finding::NoLaunchedAt)));
        };
        if let (Some(b), Some(e), Value::DateTime(l)) = (apb, ape, launched) {
            if b <= l && l <= e && block.is_empty() {
                return Ok(Some(fail(
                    Code::U8,
                    ".exists launched_at in audit period, but no related events found.",
                    Finding::LaunchedInPeriodAlone,
                )));
            }
        }
    }
    // Only the last operation event of the block is compared, its value first.
    match block.clone().rev().find(|&i| ops.contains(&Some(events[i].event_type))) {
        Some(op) => {
            if let Some(f) = verify_fields(events, op, x, x, &OPERATION_FIELDS_2015, symbols)? {
                return Ok(Some(f));
            }
        }
        None => {
            if let (Some(b), Some(e)) = (apb, ape) {
                if e.day() != b.day().next() {
                    warnings.push(format!(
                        "Non-EOD .exists found (msg_id: {}) with no operation event.",
                        exists.message_id(symbols)
                    ));
                    warned.push(x);
                }
            }
        }
    }
    // _confirm_delete
    let deletes: Vec<usize> = block.clone().filter(|&i| events[i].event_type == sym::DELETE_END).collect();
    let deleted_at = exists.get(sym::DELETED_AT);
    let Some(deleted_at) = deleted_at else {
        if !deletes.is_empty() {
            return Ok(Some(fail(
                Code::U6,
                ".deleted events found but .exists has no deleted_at value.",
                Finding::DeleteWithoutDeletedAt { deletes },
            )));
        }
        return Ok(None);
    };
    if !is_state(exists, sym::DELETED) {
        return Ok(Some(fail(Code::U3, MSG_U3, Finding::DeletedAtButNotDeleted)));
    }
    if deletes.is_empty() {
        let (Value::DateTime(d), Some(Value::DateTime(l))) = (deleted_at, launched_at) else {
            return Err(Crash::NoLaunchedAtForU4 { exists: x });
        };
        if d < l {
            return Ok(Some(fail(Code::U4, MSG_U4, Finding::DeletedBeforeLaunch)));
        }
        if let (Some(b), Some(e)) = (apb, ape) {
            if b <= d && d <= e {
                return Ok(Some(fail(
                    Code::U5,
                    ".exists deleted_at in audit period, but no matching .delete event found.",
                    Finding::DeletedInPeriodWithoutDelete,
                )));
            }
        }
    }
    if deletes.len() > 1 {
        return Ok(Some(fail(Code::U7, "Multiple .delete.end events", Finding::MultipleDeletes { deletes })));
    }
    if let Some(&last) = deletes.last() {
        return verify_fields(events, x, last, x, &DELETE_FIELDS, symbols);
    }
    Ok(None)
}

/// Run the 2015 checks over a stream's events (in stream order). `Err` is the
/// original's crash, which fails the pipeline.
pub fn check(events: &[&Event], symbols: &Symbols) -> Result<Audit2015, Crash> {
    // A type no event of the archive has is not among the symbols: it matches nothing.
    let ops: [Option<Sym>; 3] = OPERATION_TYPES_2015.map(|t| symbols.lookup(t));
    let mut audit = Audit2015::default();
    let mut start = 0;
    for (i, e) in events.iter().enumerate() {
        if e.event_type != sym::EXISTS {
            continue;
        }
        let block = start..i;
        let failure = check_block(events, block.clone(), i, &ops, symbols, &mut audit.warnings, &mut audit.warned)?;
        // The result's id is derived from the message id as a UUID; anything else raised.
        let uuid = match e.message_id {
            // Read as a UUID already.
            MessageId::Uuid(_) => true,
            MessageId::Text(t) => {
                let id = symbols.get(t);
                id.is_empty() || python_uuid(id).is_some()
            }
        };
        if !uuid {
            return Err(Crash::NotUuid { exists: i });
        }
        audit.results.push(ExistsResult { exists: Some(i), block, failure, warnings_so_far: audit.warnings.len() });
        start = i + 1;
    }
    if start < events.len() {
        audit.results.push(ExistsResult {
            exists: None,
            block: start..events.len(),
            failure: Some(fail(Code::U0, MSG_U0_TRAILING, Finding::NoExists)),
            warnings_so_far: audit.warnings.len(),
        });
    }
    Ok(audit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::Archive;
    use serde_json::json;

    const X: &str = "compute.instance.exists";
    const DAY: (&str, &str) = ("2014-10-06 00:00:00", "2014-10-07 00:00:00");

    /// A distilled event of instance i1 with the usual values; `extra` overrides (null removes).
    fn ev(event_type: &str, id: &str, ts: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"event_type": event_type, "message_id": id, "timestamp": ts, "instance_id": "i1",
            "tenant_id": "t1", "state": "active", "launched_at": "2014-01-01 00:00:00", "instance_flavor_id": 2});
        for (k, x) in extra.as_object().cloned().unwrap_or_default() {
            v[&k] = x;
        }
        v
    }

    fn exists(id: &str, ts: &str, period: (&str, &str), extra: serde_json::Value) -> serde_json::Value {
        let mut v = ev(X, id, ts, extra);
        v["audit_period_beginning"] = period.0.into();
        v["audit_period_ending"] = period.1.into();
        v
    }

    const U1: &str = "00000000-0000-4000-8000-000000000001";
    const U2: &str = "00000000-0000-4000-8000-000000000002";

    fn audit(events: &[serde_json::Value]) -> (Archive, Result<Audit2015, Crash>) {
        let text: Vec<String> = events.iter().map(|e| e.to_string()).collect();
        let a = Archive::from_bytes("t.jsonl", text.join("\n").as_bytes());
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        let evs: Vec<&Event> = a.events.iter().collect();
        let r = check(&evs, &a.symbols);
        (a, r)
    }

    /// (code, message) of each result, `None` when verified.
    fn codes(r: &Audit2015) -> Vec<Option<(Code, String)>> {
        r.results.iter().map(|x| x.failure.as_ref().map(|f| (f.code, f.message.clone()))).collect()
    }

    fn one(events: &[serde_json::Value]) -> Option<(Code, String)> {
        let (_, r) = audit(events);
        let r = r.expect("no crash");
        assert_eq!(r.results.len(), 1);
        codes(&r).remove(0)
    }

    fn failed(code: Code, message: &str) -> Option<(Code, String)> {
        Some((code, message.to_string()))
    }

    #[test]
    fn every_exists_gets_a_result_against_the_events_since_the_previous_one() {
        let (a, r) = audit(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", json!({})),
            exists(U1, "2014-10-06 12:00:00", ("2014-10-06 00:00:00", "2014-10-06 12:00:00"), json!({})),
            exists(U2, "2014-10-07 00:05:00", DAY, json!({})),
        ]);
        let r = r.unwrap();
        assert_eq!(r.results.iter().map(|x| x.exists).collect::<Vec<_>>(), vec![Some(1), Some(2)]);
        assert_eq!(r.results.iter().map(|x| x.block.clone()).collect::<Vec<_>>(), vec![0..1, 2..2]);
        // The second block is empty, the instance launched long ago: verified.
        assert_eq!(codes(&r), vec![None, None]);
        assert_eq!(a.events.len(), 3);
    }

    #[test]
    fn u1_only_for_an_active_instance() {
        let x = exists(U1, "2014-10-07 00:05:00", DAY, json!({"launched_at": null}));
        assert_eq!(one(&[x]), failed(Code::U1, ".exists has no launched_at value."));
        let x = exists(U1, "2014-10-07 00:05:00", DAY, json!({"launched_at": "", "state": "stopped"}));
        assert_eq!(one(&[x]), None);
    }

    #[test]
    fn u8_needs_an_empty_block_and_a_launch_inside_the_period_bounds_included() {
        let launched = json!({"launched_at": "2014-10-06 00:00:00"});
        let x = exists(U1, "2014-10-07 00:05:00", DAY, launched.clone());
        assert_eq!(
            one(std::slice::from_ref(&x)),
            failed(Code::U8, ".exists launched_at in audit period, but no related events found.")
        );
        let x2 = exists(U1, "2014-10-07 00:05:00", DAY, json!({"launched_at": "2014-10-07 00:00:00"}));
        assert_eq!(one(&[x2]).map(|f| f.0), Some(Code::U8), "the end bound is inside");
        let create = ev("compute.instance.create.end", "m0", "2014-10-06 00:00:01", launched);
        assert_eq!(one(&[create, x]), None);
    }

    #[test]
    fn u2_compares_only_the_last_operation_of_the_block_with_its_value_first() {
        let old =
            ev("compute.instance.finish_resize.end", "m1", "2014-10-06 10:00:00", json!({"instance_flavor_id": 1}));
        let new = ev("compute.instance.finish_resize.end", "m2", "2014-10-06 11:00:00", json!({}));
        let x = exists(U1, "2014-10-07 00:05:00", DAY, json!({}));
        assert_eq!(one(&[old.clone(), new.clone(), x.clone()]), None, "the last one agrees");
        let late = ev("compute.instance.rescue.end", "m3", "2014-10-06 12:00:00", json!({"instance_flavor_id": 1}));
        assert_eq!(
            one(&[new.clone(), late, x.clone()]),
            failed(Code::U2, "Conflicting 'instance_flavor_id' values ('1' != '2')"),
            "the operation's value first"
        );
        // .start events and the 2014 list are not compared any more.
        let start =
            ev("compute.instance.resize.prep.start", "m4", "2014-10-06 09:00:00", json!({"instance_flavor_id": 1}));
        assert_eq!(one(&[start, x]), None);
    }

    #[test]
    fn a_field_on_only_one_side_fails_the_pipeline() {
        let op = ev("compute.instance.rebuild.end", "m1", "2014-10-06 10:00:00", json!({"os_distro": "ubuntu"}));
        let x = exists(U1, "2014-10-07 00:05:00", DAY, json!({}));
        let (a, r) = audit(&[op, x]);
        let crash = r.unwrap_err();
        assert!(matches!(crash, Crash::Missing(MissingField { present_on: 0, missing_on: 1, .. })));
        let evs: Vec<&Event> = a.events.iter().collect();
        assert_eq!(
            crash.describe(&evs, &a.symbols),
            format!(
                "'os_distro' is on compute.instance.rebuild.end (msg m1) but not on compute.instance.exists (msg {U1})"
            )
        );
    }

    #[test]
    fn a_non_eod_exists_without_an_operation_warns_and_warnings_accumulate() {
        let half = ("2014-10-06 00:00:00", "2014-10-06 12:00:00");
        let (_, r) = audit(&[
            ev("compute.instance.update", "m0", "2014-10-06 01:00:00", json!({})),
            exists(U1, "2014-10-06 12:00:00", half, json!({})),
            ev("compute.instance.update", "m1", "2014-10-06 13:00:00", json!({})),
            exists(U2, "2014-10-07 00:05:00", DAY, json!({})),
        ]);
        let r = r.unwrap();
        assert_eq!(r.warnings, vec![format!("Non-EOD .exists found (msg_id: {U1}) with no operation event.")]);
        assert_eq!(r.results.iter().map(|x| x.warnings_so_far).collect::<Vec<_>>(), vec![1, 1]);
        assert_eq!(codes(&r), vec![None, None], "a warning is not a failure");
        // With an operation event in the block, no warning.
        let (_, r) = audit(&[
            ev("compute.instance.rebuild.end", "m0", "2014-10-06 01:00:00", json!({})),
            exists(U1, "2014-10-06 12:00:00", half, json!({})),
        ]);
        assert!(r.unwrap().warnings.is_empty());
    }

    #[test]
    fn a_trailing_block_gives_u0_after_the_results() {
        let (_, r) = audit(&[
            exists(U1, "2014-10-07 00:05:00", DAY, json!({})),
            ev("compute.instance.update", "m1", "2014-10-07 00:05:00", json!({})),
        ]);
        let r = r.unwrap();
        assert_eq!(r.results[1].exists, None);
        assert_eq!(r.results[1].block, 1..2);
        assert_eq!(codes(&r)[1], failed(Code::U0, "Notifications, but no .exists notification found."));
        assert_eq!(r.first_failure().map(|f| f.code), Some(Code::U0));
    }

    #[test]
    fn the_delete_checks_in_their_order_with_the_2015_wording() {
        let deleted = json!({"state": "deleted", "deleted_at": "2014-10-06 10:00:00"});
        let del =
            |id: &str, extra: serde_json::Value| ev("compute.instance.delete.end", id, "2014-10-06 10:00:00", extra);
        let x = |extra: serde_json::Value| exists(U1, "2014-10-07 00:05:00", DAY, extra);
        assert_eq!(
            one(&[del("m1", deleted.clone()), x(json!({}))]),
            failed(Code::U6, ".deleted events found but .exists has no deleted_at value.")
        );
        assert_eq!(
            one(&[x(json!({"deleted_at": "2014-10-06 10:00:00"}))]),
            failed(Code::U3, ".exists state not 'deleted' but .exists deleted_at is set.")
        );
        assert_eq!(
            one(&[x(json!({"state": "deleted", "deleted_at": "2013-12-31 00:00:00"}))]),
            failed(Code::U4, ".exists deleted_at < .exists launched_at.")
        );
        assert_eq!(
            one(&[x(deleted.clone())]),
            failed(Code::U5, ".exists deleted_at in audit period, but no matching .delete event found.")
        );
        assert_eq!(
            one(&[del("m1", deleted.clone()), del("m2", deleted.clone()), x(deleted.clone())]),
            failed(Code::U7, "Multiple .delete.end events")
        );
        assert_eq!(
            one(&[del("m1", json!({"state": "deleted", "deleted_at": "2014-10-06 11:00:00"})), x(deleted.clone())]),
            failed(Code::U2, "Conflicting 'deleted_at' values ('2014-10-06 10:00:00' != '2014-10-06 11:00:00')"),
            "the exists' value first"
        );
        assert_eq!(one(&[del("m1", deleted.clone()), x(deleted)]), None);
    }

    #[test]
    fn u4_without_launched_at_fails_the_pipeline() {
        let x = exists(
            U1,
            "2014-10-07 00:05:00",
            DAY,
            json!({"state": "deleted", "deleted_at": "2014-10-06 10:00:00", "launched_at": null}),
        );
        assert_eq!(audit(&[x]).1.unwrap_err(), Crash::NoLaunchedAtForU4 { exists: 0 });
    }

    #[test]
    fn an_exists_whose_message_id_is_no_uuid_fails_the_pipeline() {
        for id in ["msg-1234abcd", "00000000-0000-4000-8000-00000000000"] {
            let (_, r) = audit(&[exists(id, "2014-10-07 00:05:00", DAY, json!({}))]);
            assert_eq!(r.unwrap_err(), Crash::NotUuid { exists: 0 }, "{id}");
        }
        for id in [
            "{00000000-0000-4000-8000-000000000001}",
            "urn:uuid:00000000-0000-4000-8000-000000000001",
            "00000000000040008000000000000001",
            "00000000-0000-4000-8000-00000000000A",
        ] {
            assert!(python_uuid(id).is_some(), "{id}");
            let (_, r) = audit(&[exists(id, "2014-10-07 00:05:00", DAY, json!({}))]);
            assert!(r.is_ok(), "{id}");
        }
        assert_eq!(python_uuid("{00000000-0000-4000-8000-000000000001}"), python_uuid(U1));
    }
}
