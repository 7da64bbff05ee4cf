//! The truth: the verdict each (instance, day) stream must get, worked out
//! from the model's own steps — the values the generator put in each
//! notification — by the rules of docs/streams.md#matching and docs/checks.md#usage-checks, and
//! under the 2015 rules of docs/rules2015.md#checks. Nothing here calls the
//! engine, so a test comparing the engine with this truth can catch the
//! engine's mistakes.
//!
//! The generator keeps every stream simple enough that the rules apply
//! directly (see the module docs of [`crate::generate`]): an instance-day's
//! notifications all fall inside that day, its end-of-day `.exists` arrives
//! shortly after the following midnight, and so each instance-day is exactly
//! one stream, which fires on its `.exists` or expires two days after its last
//! event when there is none.

use super::catalog::FLAVORS;
use super::model::{Step, StepKind, Usage, VmState, DAY, DELETE_END, EXISTS};

/// How a stream must end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    Verified,
    Failed,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
        }
    }
}

/// The expected result of one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub outcome: Outcome,
    /// 0..=8 for U0..U8 when failed.
    pub code: Option<u8>,
    /// The exact message of a failed stream; the field's name for an error.
    pub message: String,
    /// Whether the stream fires (it holds an `.exists` meeting the fire
    /// criterion) or expires.
    pub fires: bool,
    /// Events in the stream (every `compute.instance.*` notification of the day
    /// and the day's `.exists`).
    pub event_count: usize,
    /// The same stream under the 2015 rule set (docs/rules2015.md#checks): the generator's
    /// notifications match and distil alike under both (no `instance_uuid`, an integer
    /// flavor id, `deleted_at` written `""` when absent), so it is the same stream.
    pub y2015: Expected2015,
}

/// The expected result of a stream under the 2015 rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected2015 {
    pub outcome: Outcome,
    pub code: Option<u8>,
    /// The exact message of the first failed result; for an error, the field the crash is about.
    pub message: String,
    /// Warnings raised (none when the pipeline crashed).
    pub warnings: usize,
}

/// The event types the usage checks compare with the *exists* (docs/checks.md#usage-checks, U2).
const OPERATION_TYPES: [&str; 9] = [
    "compute.instance.rebuild.start",
    "compute.instance.resize.prep.start",
    "compute.instance.resize.revert.start",
    "compute.instance.rescue.start",
    "compute.instance.create.end",
    "compute.instance.rebuild.end",
    "compute.instance.resize.finish.end",
    "compute.instance.resize.revert.end",
    "compute.instance.rescue.end",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    LaunchedAt,
    InstanceTypeId,
    TenantId,
    OsArchitecture,
    OsVersion,
    OsDistro,
    DeletedAt,
}

const OPERATION_FIELDS: [Field; 6] = [
    Field::LaunchedAt,
    Field::InstanceTypeId,
    Field::TenantId,
    Field::OsArchitecture,
    Field::OsVersion,
    Field::OsDistro,
];
const DELETE_FIELDS: [Field; 2] = [Field::LaunchedAt, Field::DeletedAt];

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::LaunchedAt => "launched_at",
            Field::InstanceTypeId => "instance_type_id",
            Field::TenantId => "tenant_id",
            Field::OsArchitecture => "os_architecture",
            Field::OsVersion => "os_version",
            Field::OsDistro => "os_distro",
            Field::DeletedAt => "deleted_at",
        }
    }

    /// The trait's value as the distiller would make it from the notification.
    fn of(self, u: &Usage) -> Option<Val> {
        match self {
            Field::LaunchedAt => u.launched_at.map(Val::DateTime),
            Field::DeletedAt => u.deleted_at.map(Val::DateTime),
            Field::InstanceTypeId => Some(Val::Int(FLAVORS[u.flavor as usize].id as i64)),
            Field::TenantId => Some(Val::Tenant(u.tenant)),
            Field::OsArchitecture => u.os_architecture().map(Val::Text),
            Field::OsVersion => u.os_version().map(Val::Text),
            Field::OsDistro => u.os_distro().map(Val::Text),
        }
    }
}

/// A compared value; one field always has the same kind on both sides.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Val {
    DateTime(i64),
    Int(i64),
    /// `tenant_id`, a decimal text.
    Tenant(u32),
    Text(&'static str),
}

impl Val {
    /// Python's `str()` of the value, as the U2 message prints it.
    fn py_str(self) -> String {
        match self {
            Val::DateTime(t) => python_datetime(t),
            Val::Int(i) => i.to_string(),
            Val::Tenant(t) => t.to_string(),
            Val::Text(s) => s.to_string(),
        }
    }
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS`, `.ffffff` only when not zero.
pub fn python_datetime(us: i64) -> String {
    let mut out = Vec::with_capacity(26);
    super::json::push_datetime(&mut out, us, us.rem_euclid(1_000_000) != 0);
    String::from_utf8(out).unwrap_or_default()
}

enum Compare {
    Same,
    Conflict(String),
    OneSided(Field),
}

/// `_verify_fields`: the first field that differs between the *exists* and another event.
fn compare(exists: &Usage, other: &Usage, fields: &[Field]) -> Compare {
    for &f in fields {
        match (f.of(exists), f.of(other)) {
            (None, None) => continue,
            (Some(_), None) | (None, Some(_)) => return Compare::OneSided(f),
            (Some(a), Some(b)) if a != b => {
                return Compare::Conflict(format!(
                    "Conflicting '{}' values ('{}' != '{}')",
                    f.name(),
                    a.py_str(),
                    b.py_str()
                ))
            }
            _ => {}
        }
    }
    Compare::Same
}

fn failed(code: u8, message: &str) -> (Outcome, Option<u8>, String) {
    (Outcome::Failed, Some(code), message.to_string())
}

/// The verdict of one instance-day from its steps (in time order); `None`
/// when the day sends no instance event at all (there is no stream).
pub fn expect(steps: &[Step]) -> Option<Expected> {
    let stream: Vec<&Step> = steps.iter().filter(|s| s.is_instance_event()).collect();
    if stream.is_empty() {
        return None;
    }
    let period = |s: &Step| match s.kind {
        StepKind::Exists { beginning, ending } if s.event_type == EXISTS => Some((beginning, ending)),
        _ => None,
    };
    // docs/streams.md#matching: the fire criterion only asks for a one-day period.
    let fires = stream.iter().any(|s| period(s).is_some_and(|(b, e)| e == b + DAY));
    // docs/checks.md#usage-checks: the *exists* asks for midnight to midnight.
    let exists = stream
        .iter()
        .find(|s| period(s).is_some_and(|(b, e)| b.rem_euclid(DAY) == 0 && e.rem_euclid(DAY) == 0 && e - b == DAY));
    let (outcome, code, message) = match exists {
        None => failed(0, "No .exists record."),
        Some(x) => checks(x, &stream),
    };
    let y2015 = expect_2015(&stream);
    Some(Expected { outcome, code, message, fires, event_count: stream.len(), y2015 })
}

/// The operations the 2015 checks compare: only the last of a block counts.
const OPERATION_TYPES_2015: [&str; 3] =
    ["compute.instance.rebuild.end", "compute.instance.finish_resize.end", "compute.instance.rescue.end"];

/// The 2015 name of the flavor field (the same integer flavor id, from `payload.instance_type_id`).
fn name_2015(f: Field) -> &'static str {
    match f {
        Field::InstanceTypeId => "instance_flavor_id",
        f => f.name(),
    }
}

/// `_verify_fields` with `this`' value first, under the 2015 names.
fn compare_2015(this: &Usage, that: &Usage, fields: &[Field]) -> Compare {
    for &f in fields {
        match (f.of(this), f.of(that)) {
            (None, None) => continue,
            (Some(_), None) | (None, Some(_)) => return Compare::OneSided(f),
            (Some(a), Some(b)) if a != b => {
                return Compare::Conflict(format!(
                    "Conflicting '{}' values ('{}' != '{}')",
                    name_2015(f),
                    a.py_str(),
                    b.py_str()
                ))
            }
            _ => {}
        }
    }
    Compare::Same
}

/// The 2015 verdict of a stream (docs/rules2015.md#checks): every `.exists`
/// checked against the events since the previous one, warnings, the trailing U0;
/// a crash anywhere is the `error` outcome.
fn expect_2015(stream: &[&Step]) -> Expected2015 {
    let mut first: Option<(u8, String)> = None;
    let mut warnings = 0;
    let mut start = 0;
    for (i, x) in stream.iter().enumerate() {
        if x.event_type != EXISTS {
            continue;
        }
        match check_2015(x, &stream[start..i], &mut warnings) {
            Ok(Some(f)) => {
                first.get_or_insert(f);
            }
            Ok(None) => {}
            Err(field) => {
                let message = field.to_string();
                return Expected2015 { outcome: Outcome::Error, code: None, message, warnings: 0 };
            }
        }
        start = i + 1;
    }
    if start < stream.len() {
        first.get_or_insert((0, "Notifications, but no .exists notification found.".to_string()));
    }
    match first {
        Some((code, message)) => Expected2015 { outcome: Outcome::Failed, code: Some(code), message, warnings },
        None => Expected2015 { outcome: Outcome::Verified, code: None, message: String::new(), warnings },
    }
}

/// One `.exists` against its block: the failure, or `Err(field)` for a crash.
fn check_2015(x: &Step, block: &[&Step], warnings: &mut usize) -> Result<Option<(u8, String)>, &'static str> {
    let f = |code: u8, m: &str| Ok(Some((code, m.to_string())));
    let (beginning, ending) = match x.kind {
        StepKind::Exists { beginning, ending } => (beginning, ending),
        _ => (0, 0),
    };
    let in_period = |t: i64| beginning <= t && t <= ending;
    let launched_at = x.usage.launched_at;
    if x.state == VmState::Active {
        let Some(l) = launched_at else { return f(1, ".exists has no launched_at value.") };
        if in_period(l) && block.is_empty() {
            return f(8, ".exists launched_at in audit period, but no related events found.");
        }
    }
    match block.iter().rev().find(|s| OPERATION_TYPES_2015.contains(&s.event_type)) {
        Some(op) => match compare_2015(&op.usage, &x.usage, &OPERATION_FIELDS) {
            Compare::Same => {}
            Compare::Conflict(m) => return Ok(Some((2, m))),
            Compare::OneSided(field) => return Err(name_2015(field)),
        },
        // A non-EOD .exists: its period does not end the day after it begins.
        None if ending.div_euclid(DAY) != beginning.div_euclid(DAY) + 1 => *warnings += 1,
        None => {}
    }
    let deletes: Vec<&&Step> = block.iter().filter(|s| s.event_type == DELETE_END).collect();
    let Some(deleted_at) = x.usage.deleted_at else {
        if !deletes.is_empty() {
            return f(6, ".deleted events found but .exists has no deleted_at value.");
        }
        return Ok(None);
    };
    if x.state != VmState::Deleted {
        return f(3, ".exists state not 'deleted' but .exists deleted_at is set.");
    }
    if deletes.is_empty() {
        let Some(l) = launched_at else { return Err("launched_at") };
        if deleted_at < l {
            return f(4, ".exists deleted_at < .exists launched_at.");
        }
        if in_period(deleted_at) {
            return f(5, ".exists deleted_at in audit period, but no matching .delete event found.");
        }
    }
    if deletes.len() > 1 {
        return f(7, "Multiple .delete.end events");
    }
    if let [d] = deletes[..] {
        match compare_2015(&x.usage, &d.usage, &DELETE_FIELDS) {
            Compare::Same => {}
            Compare::Conflict(m) => return Ok(Some((2, m))),
            Compare::OneSided(field) => return Err(name_2015(field)),
        }
    }
    Ok(None)
}

fn checks(x: &Step, stream: &[&Step]) -> (Outcome, Option<u8>, String) {
    let Some(launched_at) = x.usage.launched_at else {
        return failed(1, ".exists has no launched_at value.");
    };
    for s in stream.iter().filter(|s| OPERATION_TYPES.contains(&s.event_type)) {
        match compare(&x.usage, &s.usage, &OPERATION_FIELDS) {
            Compare::Same => {}
            Compare::Conflict(m) => return (Outcome::Failed, Some(2), m),
            Compare::OneSided(f) => return (Outcome::Error, None, f.name().to_string()),
        }
    }
    let (beginning, ending) = match x.kind {
        StepKind::Exists { beginning, ending } => (beginning, ending),
        _ => (0, 0),
    };
    let in_period = |t: i64| beginning <= t && t <= ending;
    if x.state == VmState::Active && in_period(launched_at) && stream.len() == 1 {
        return failed(8, ".exists launched_at in audit period, but no related events found.");
    }
    let deletes: Vec<&&Step> = stream.iter().filter(|s| s.event_type == DELETE_END).collect();
    match x.usage.deleted_at {
        Some(deleted_at) => {
            if x.state != VmState::Deleted {
                return failed(3, ".exists state not 'deleted' but deleted_at is set.");
            }
            if deletes.is_empty() {
                if deleted_at < launched_at {
                    return failed(4, ".exists deleted_at < launched_at.");
                }
                if in_period(deleted_at) {
                    return failed(5, ".exists deleted_at in audit period, but no matching .delete event found.");
                }
            }
        }
        None if !deletes.is_empty() => {
            return failed(6, ".deleted events found but .exists has no deleted_at value.");
        }
        None => {}
    }
    if deletes.len() > 1 {
        return failed(7, "Multiple .delete.end events");
    }
    if let [d] = deletes[..] {
        match compare(&x.usage, &d.usage, &DELETE_FIELDS) {
            Compare::Same => {}
            Compare::Conflict(m) => return (Outcome::Failed, Some(2), m),
            Compare::OneSided(f) => return (Outcome::Error, None, f.name().to_string()),
        }
    }
    (Outcome::Verified, None, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::model::{Extra, Task, AUDIT, HOUR, META_DISTRO, SECOND};

    const D: i64 = 16_349 * DAY; // 2014-10-06

    fn usage(launched_at: Option<i64>) -> Usage {
        Usage { launched_at, deleted_at: None, flavor: 0, image: 0, tenant: 123_456, meta_drop: 0 }
    }

    fn step(at: i64, event_type: &'static str, state: VmState, usage: Usage) -> Step {
        Step {
            at,
            event_type,
            kind: StepKind::Lifecycle(Extra::None),
            state,
            task: Task::None,
            usage,
            host: 0,
            publisher: 0,
            terminated_at: None,
            request: 0,
            ips: true,
        }
    }

    fn eod(state: VmState, usage: Usage) -> Step {
        Step {
            kind: StepKind::Exists { beginning: D, ending: D + DAY },
            request: AUDIT,
            ..step(D + DAY + 5 * SECOND, EXISTS, state, usage)
        }
    }

    fn verdict(steps: &[Step]) -> (Outcome, Option<u8>, String) {
        let e = expect(steps).expect("a stream");
        (e.outcome, e.code, e.message)
    }

    #[test]
    fn no_instance_event_means_no_stream() {
        let sched = Step {
            kind: StepKind::Scheduler,
            ..step(D + HOUR, "scheduler.run_instance.start", VmState::Building, usage(None))
        };
        assert_eq!(expect(&[sched]), None);
    }

    #[test]
    fn a_quiet_day_is_verified_and_fires() {
        let e = expect(&[eod(VmState::Active, usage(Some(D - 3 * DAY)))]).unwrap();
        assert_eq!((e.outcome, e.code, e.fires, e.event_count), (Outcome::Verified, None, true, 1));
    }

    #[test]
    fn u0_without_a_midnight_exists_and_the_trigger_follows_the_period() {
        let reboot = step(D + HOUR, "compute.instance.reboot.start", VmState::Active, usage(Some(D - DAY)));
        let e = expect(&[reboot]).unwrap();
        assert_eq!((e.code, e.message.as_str(), e.fires), (Some(0), "No .exists record.", false));
        let mut shifted = eod(VmState::Active, usage(Some(D - DAY)));
        shifted.kind = StepKind::Exists { beginning: D + SECOND, ending: D + DAY + SECOND };
        let e = expect(&[shifted]).unwrap();
        assert_eq!((e.code, e.fires), (Some(0), true));
    }

    #[test]
    fn u1_comes_before_every_comparison() {
        let start = step(D + HOUR, "compute.instance.rebuild.start", VmState::Active, usage(Some(D - DAY)));
        let v = verdict(&[start, eod(VmState::Active, usage(None))]);
        assert_eq!(v, (Outcome::Failed, Some(1), ".exists has no launched_at value.".into()));
    }

    #[test]
    fn u2_prints_values_as_python_does() {
        let before = usage(Some(D - DAY)); // whole seconds: no fraction
        let after = usage(Some(D + 2 * HOUR + 17)); // microseconds
        let start = step(D + HOUR, "compute.instance.rebuild.start", VmState::Active, before);
        let v = verdict(&[start, eod(VmState::Active, after)]);
        assert_eq!(v.2, "Conflicting 'launched_at' values ('2014-10-06 02:00:00.000017' != '2014-10-05 00:00:00')");
        let mut other = after;
        other.flavor = 3;
        let end = step(D + HOUR, "compute.instance.create.end", VmState::Active, after);
        let v = verdict(&[end, eod(VmState::Active, other)]);
        assert_eq!(v.2, "Conflicting 'instance_type_id' values ('5' != '2')");
    }

    #[test]
    fn under_2015_the_last_operation_end_is_compared_and_a_mid_day_exists_warns() {
        let before = usage(Some(D - DAY));
        let after = Usage { flavor: 3, ..usage(Some(D + 2 * HOUR)) };
        let mid = Step {
            kind: StepKind::Exists { beginning: D, ending: D + HOUR },
            ..step(D + HOUR, EXISTS, VmState::Active, before)
        };
        let start = step(D + HOUR + SECOND, "compute.instance.resize.prep.start", VmState::Active, before);
        let end = step(D + 2 * HOUR, "compute.instance.finish_resize.end", VmState::Resized, after);
        let e = expect(&[mid, start, end, eod(VmState::Active, after)]).unwrap();
        assert_eq!((e.outcome, e.code), (Outcome::Failed, Some(2)), "2014 compares the .start");
        assert_eq!(
            e.y2015,
            Expected2015 { outcome: Outcome::Verified, code: None, message: String::new(), warnings: 1 }
        );
        // A revert after it is not compared: the finish_resize.end's value first.
        let revert = step(D + 3 * HOUR, "compute.instance.resize.revert.end", VmState::Active, before);
        let e = expect(&[start, end, revert, eod(VmState::Active, before)]).unwrap();
        assert_eq!(e.y2015.code, Some(2));
        assert_eq!(
            e.y2015.message,
            "Conflicting 'launched_at' values ('2014-10-06 02:00:00' != '2014-10-05 00:00:00')"
        );
        // Events after the last .exists: the trailing-block U0.
        let late = step(D + DAY + HOUR, "compute.instance.update", VmState::Active, before);
        let e = expect(&[eod(VmState::Active, before), late]).unwrap();
        assert_eq!(e.y2015.message, "Notifications, but no .exists notification found.");
    }

    #[test]
    fn finish_resize_end_is_not_compared() {
        let end = step(D + HOUR, "compute.instance.finish_resize.end", VmState::Resized, usage(Some(D - DAY)));
        let v = verdict(&[end, eod(VmState::Resized, usage(Some(D + HOUR)))]);
        assert_eq!(v.0, Outcome::Verified);
    }

    #[test]
    fn a_field_on_one_side_only_is_an_error_naming_it() {
        let mut lacking = usage(Some(D + HOUR));
        lacking.meta_drop = META_DISTRO;
        let end = step(D + HOUR, "compute.instance.create.end", VmState::Active, usage(Some(D + HOUR)));
        assert_eq!(verdict(&[end, eod(VmState::Active, lacking)]), (Outcome::Error, None, "os_distro".into()));
    }

    #[test]
    fn u8_needs_an_active_lonely_exists_launched_in_the_period() {
        let v = verdict(&[eod(VmState::Active, usage(Some(D + DAY)))]); // ending is inclusive
        assert_eq!(v.1, Some(8));
        assert_eq!(verdict(&[eod(VmState::Stopped, usage(Some(D + HOUR)))]).0, Outcome::Verified);
    }

    #[test]
    fn deletion_checks_in_their_order() {
        let launched = Some(D - DAY);
        let deleted = |t: i64| Usage { deleted_at: Some(t), ..usage(launched) };
        let delete_end = |t: i64| step(t, DELETE_END, VmState::Deleted, deleted(t));
        let t = D + 5 * HOUR + 3;
        assert_eq!(verdict(&[eod(VmState::Active, deleted(t))]).1, Some(3));
        assert_eq!(verdict(&[eod(VmState::Deleted, deleted(D - 2 * DAY))]).1, Some(4));
        assert_eq!(verdict(&[eod(VmState::Deleted, deleted(t))]).1, Some(5));
        // deleted before the period, no delete.end, not before launch: nothing to say.
        let old = Usage { launched_at: Some(D - 9 * DAY), ..deleted(D - 2 * DAY) };
        assert_eq!(verdict(&[eod(VmState::Deleted, old)]).0, Outcome::Verified);
        assert_eq!(verdict(&[delete_end(t), eod(VmState::Active, usage(launched))]).1, Some(6));
        assert_eq!(verdict(&[delete_end(t), delete_end(t + SECOND), eod(VmState::Deleted, deleted(t))]).1, Some(7));
        assert_eq!(verdict(&[delete_end(t), eod(VmState::Deleted, deleted(t))]).0, Outcome::Verified);
        let v = verdict(&[delete_end(t), eod(VmState::Deleted, deleted(t - 3))]);
        assert_eq!(
            v,
            (
                Outcome::Failed,
                Some(2),
                "Conflicting 'deleted_at' values ('2014-10-06 05:00:00' != '2014-10-06 05:00:00.000003')".into()
            )
        );
        let mut bare = delete_end(t);
        bare.usage.deleted_at = None;
        assert_eq!(verdict(&[bare, eod(VmState::Deleted, deleted(t))]), (Outcome::Error, None, "deleted_at".into()));
    }
}
