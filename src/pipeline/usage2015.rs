//! The 2015 usage checks (docs/rules2015.md#checks), as Winchester's final
//! `UsageHandler` made them: the stream cut into blocks at every `.exists`,
//! one result per `.exists`, warnings for a non-EOD `.exists` without an
//! operation, a U0 for a trailing block, and the same crashes.

use super::usage::{Code, Failure, Finding, MissingField};
use crate::event::{sym, Event, PyStr, Sym, Symbols, Value};
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

/// `_verify_fields(this, that, fields)`: the first field that differs, with
/// `this`' value first in the message.
fn verify_fields(
    events: &[&Event],
    this: usize,
    that: usize,
    exists: usize,
    fields: &[Sym],
    symbols: &Symbols,
) -> Result<Option<Failure>, Crash> {
    for &field in fields {
        let (a, b) = (events[this].get(field), events[that].get(field));
        match (a, b) {
            (None, None) => continue,
            (Some(_), None) => {
                return Err(Crash::Missing(MissingField { field, present_on: this, missing_on: that }));
            }
            (None, Some(_)) => {
                return Err(Crash::Missing(MissingField { field, present_on: that, missing_on: this }));
            }
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

/// The checks of one `.exists` against its block (docs/rules2015.md#checks):
/// the failure, if any; a warning is pushed onto `warnings` on the way.
fn check_block(
    events: &[&Event],
    block: std::ops::Range<usize>,
    x: usize,
    ops: &[Sym],
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
    match block.clone().rev().find(|&i| ops.contains(&events[i].event_type)) {
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
    let ops: Vec<Sym> = OPERATION_TYPES_2015.iter().filter_map(|t| symbols.lookup(t)).collect();
    let mut audit = Audit2015::default();
    let mut start = 0;
    for (i, e) in events.iter().enumerate() {
        if e.event_type != sym::EXISTS {
            continue;
        }
        let block = start..i;
        let failure = check_block(events, block.clone(), i, &ops, symbols, &mut audit.warnings, &mut audit.warned)?;
        // The result's id is derived from the message id as a UUID; anything else raised.
        let id = e.message_id(symbols);
        if !id.is_empty() && python_uuid(&id).is_none() {
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
