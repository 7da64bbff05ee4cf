//! Explanations under the 2015 rule set (docs/rules2015.md#checks): the
//! stream's first failed result explained as its code is, every `.exists`
//! with its own result as evidence, the trailing-block U0, what each warning
//! means for billing, and the pipeline crashes of that rule set.

use super::{base, by_code, s_, Ctx, Evidence, Explanation};
use crate::archive::Archive;
use crate::event::sym;
use crate::pipeline::usage::{Code, Finding};
use crate::pipeline::usage2015::{self, Audit2015, Crash, ExistsResult};
use crate::replay::{Outcome, Stream, TriggerKind};
use crate::triage::Triage;

/// The explanation of a stream replayed under 2015: failed and errored ones,
/// and verified ones that raised warnings; `None` for other verified streams
/// and for pending ones.
pub(super) fn explain(cx: &Ctx, siblings: &[u32]) -> Option<Explanation> {
    let result = cx.stream.result.as_ref()?;
    let audit = result.audit2015();
    let mut x = match result.outcome {
        Outcome::Error => crashed(cx, result.message()),
        Outcome::Failed => {
            let audit = audit?;
            let r = audit.results.iter().find(|r| r.failure.is_some())?;
            let f = r.failure.as_ref()?;
            let mut x = match (f.code, r.exists) {
                (Code::U0, None) => trailing(cx, r),
                _ => by_code(cx, f.code, &f.message, &f.finding, r.exists),
            };
            if let Finding::Conflict { other, .. } = &f.finding {
                if other_is_operation(cx, *other) {
                    x.meaning = format!(
                        "{} Under the 2015 rules this is the last operation event of the .exists' block \
                         (msg {}): the one that carries the values the instance has after the operation.",
                        x.meaning,
                        cx.events[*other].message_id(cx.sym())
                    );
                }
            }
            x.title = format!("{} (2015)", x.title);
            x
        }
        Outcome::Verified if audit.is_some_and(|a| !a.warnings.is_empty()) => {
            let inst = cx.stream.instance_id.py_str(cx.sym());
            base(
                None,
                "verified",
                "verified, with warnings (2015)",
                "",
                format!(
                    "Every .exists of instance {inst} on {} passed the 2015 checks; the stream raised warnings, \
                     which do not fail it but say which partial periods could not be tied to any change.",
                    cx.stream.day
                ),
            )
        }
        _ => return None,
    };
    if let Some(a) = audit {
        per_exists(cx, a, &mut x.evidence);
        warnings(cx, a, &mut x.notes);
    }
    x.notes.extend(super::notes(cx, siblings, false).into_iter().filter(|n| !n.contains("compared with the .exists")));
    Some(x)
}

fn other_is_operation(cx: &Ctx, i: usize) -> bool {
    crate::rules::OPERATION_TYPES_2015.contains(&cx.ty(i))
}

/// The verdict of one result, as its evidence line says it.
fn verdict(r: &ExistsResult) -> String {
    match &r.failure {
        Some(f) => format!("{}: {}", f.code.as_str(), f.message),
        None => "verified".to_string(),
    }
}

/// Every `.exists` of the stream with its own result and its block.
fn per_exists(cx: &Ctx, a: &Audit2015, evidence: &mut Vec<Evidence>) {
    for r in a.results.iter() {
        let Some(x) = r.exists else { continue };
        let block = match r.block.len() {
            0 => "an empty block".to_string(),
            n => format!("a block of {n} event(s) since the previous .exists"),
        };
        let eod = if is_eod(cx, x) { "end-of-day" } else { "non-EOD" };
        let detail = format!(
            "{eod} .exists, audit period {} → {}, checked against {block}: {}",
            cx.val(x, sym::AUDIT_PERIOD_BEGINNING),
            cx.val(x, sym::AUDIT_PERIOD_ENDING),
            verdict(r)
        );
        match evidence.iter_mut().find(|e| e.index == x) {
            Some(e) => e.detail = format!("{}; {detail}", e.detail),
            None => evidence.push(cx.evidence(x, detail)),
        }
    }
    evidence.sort_by_key(|e| e.index);
}

fn is_eod(cx: &Ctx, x: usize) -> bool {
    let e = cx.events[x];
    match (e.datetime(sym::AUDIT_PERIOD_BEGINNING), e.datetime(sym::AUDIT_PERIOD_ENDING)) {
        (Some(b), Some(e)) => e.day() == b.day().next(),
        _ => false,
    }
}

/// What each warning means for billing.
fn warnings(cx: &Ctx, a: &Audit2015, notes: &mut Vec<String>) {
    for (w, &x) in a.warnings.iter().zip(&a.warned) {
        let e = cx.events[x];
        notes.push(format!(
            "Warning: {w} This .exists (at {}) bills the partial period {} → {}: nova audits an instance mid-day \
             right before a resize, rebuild or rescue, but no such operation ended in its block, so that part of \
             the day cannot be tied to any change. It is not a failure; nova sends this .exists before the \
             operation starts, so on a day with an operation this warning is routine.",
            e.timestamp.iso(),
            cx.val(x, sym::AUDIT_PERIOD_BEGINNING),
            cx.val(x, sym::AUDIT_PERIOD_ENDING)
        ));
    }
}

/// The trailing-block U0: events after the last `.exists`.
fn trailing(cx: &Ctx, r: &ExistsResult) -> Explanation {
    let inst = cx.stream.instance_id.py_str(cx.sym());
    let day = cx.stream.day;
    let n = r.block.len();
    let after = if r.block.start == 0 {
        "The stream holds no .exists at all".to_string()
    } else {
        format!("{n} event(s) came after the stream's last .exists")
    };
    let mut x = base(
        Some(Code::U0),
        "failed",
        "events after the last .exists",
        usage2015::MSG_U0_TRAILING,
        format!(
            "{after}: under the 2015 rules every event must be covered by a .exists that follows it, and these \
             are not. What instance {inst} did at the end of {day} has no audit record behind it."
        ),
    );
    if let Some(first) = r.block.clone().next() {
        x.evidence.push(cx.evidence(first, "first event of the trailing block (no .exists after it)"));
        let last = r.block.end - 1;
        if last != first {
            x.evidence.push(cx.evidence(last, "last event of the trailing block"));
        }
    }
    match cx.stream.result.as_ref().map(|r| r.trigger) {
        Some(TriggerKind::Expire) => x.causes.push(format!(
            "The stream expired at {} without a .exists after these events: the end-of-day .exists was lost or \
             never sent.",
            cx.stream.expire_timestamp().iso()
        )),
        _ => x.causes.push(s_(
            "The end-of-day .exists made the stream fire, and events of the same day with a later timestamp \
             (an update, a late .end) were replayed before the stream fired.",
        )),
    }
    x.next_steps.push(format!("Search the archive for a later compute.instance.exists of instance {inst}."));
    x
}

/// The pipeline failed under 2015: re-run the checks to name the events.
fn crashed(cx: &Ctx, message: &str) -> Explanation {
    let sym = cx.sym();
    let inst = cx.stream.instance_id.py_str(sym);
    let state = match cx.stream.result.as_ref().map(|r| r.trigger) {
        Some(TriggerKind::Expire) => "expire_error",
        _ => "error",
    };
    let mut x = base(
        None,
        "error",
        "the 2015 usage check crashed",
        message,
        format!(
            "The 2015 usage handler raised outside its error handling, so the pipeline failed and the stream went \
             to {state} with no result, no warning and no output event: the billing of {inst} for {} was never \
             verified under these rules.",
            cx.stream.day
        ),
    );
    match usage2015::check(&cx.events, sym) {
        Err(Crash::Missing(m)) => {
            let field = sym.get(m.field);
            x.evidence.push(cx.evidence(m.present_on, format!("has {field} = {}", cx.val(m.present_on, m.field))));
            x.evidence.push(cx.evidence(m.missing_on, format!("has no {field}")));
            x.causes.push(format!(
                "A compared field must be on both events; the {} was emitted without {field} (a KeyError).",
                cx.ty(m.missing_on)
            ));
        }
        Err(Crash::NoLaunchedAtForU4 { exists }) => {
            x.evidence.push(cx.evidence(exists, "deleted_at set, no launched_at, no delete.end in its block"));
            x.causes.push(s_(
                "The check compares deleted_at with launched_at when no delete.end explains the deletion, and \
                 launched_at is missing (a TypeError).",
            ));
        }
        Err(Crash::NotUuid { exists }) => {
            x.evidence.push(cx.evidence(exists, "its message id is not a UUID"));
            x.causes.push(s_(
                "The result's id is derived from the .exists' message id read as a UUID; this one is not one (a \
                 ValueError). Records rewritten by a tool that invents message ids do this.",
            ));
        }
        Ok(_) => {}
    }
    x.next_steps
        .push(s_("Look at the 2014 verdict of the same instance-day: it may have reached one where 2015 crashed."));
    x
}

/// One sentence on why the two rule sets part on a stream, for the labels
/// where they do (docs/rules2015.md#side-by-side): why 2015 accepted a
/// `2014-only` stream, which `.exists` and which event disagree in a
/// `2015-only` one. `None` for the other labels.
pub fn triage_note(
    label: Triage,
    archive: &Archive,
    stream: &Stream,
    other_archive: &Archive,
    other: Option<&Stream>,
) -> Option<String> {
    match label {
        Triage::Only2014 => Some(why_2015_accepted(archive, stream, other_archive, other)),
        Triage::Only2015 => {
            let o = other?;
            let cx = Ctx::of(other_archive, o);
            let a = o.result.as_ref()?.audit2015()?;
            let r = a.results.iter().find(|r| r.failure.is_some())?;
            let f = r.failure.as_ref()?;
            let sym = cx.sym();
            let ev = |i: usize| {
                format!("{} (msg {}, {})", cx.ty(i), cx.events[i].message_id(sym), cx.events[i].timestamp.iso())
            };
            Some(match (r.exists, &f.finding) {
                (Some(x), Finding::Conflict { other, .. }) => format!(
                    "2015 fails it and 2014 does not: the .exists {} and the {} of its block disagree ({}).",
                    ev(x),
                    ev(*other),
                    f.message
                ),
                (Some(x), _) => format!(
                    "2015 fails it and 2014 does not: the .exists {} fails {} against the events since the \
                     previous .exists ({}).",
                    ev(x),
                    f.code.as_str(),
                    f.message
                ),
                (None, _) => format!(
                    "2015 fails it and 2014 does not: {} event(s) from {} on came after the last .exists, and \
                     2015 requires a .exists after every event.",
                    r.block.len(),
                    ev(r.block.start)
                ),
            })
        }
        _ => None,
    }
}

/// Why no 2014 stream is paired with the 2015 stream `o` (of `other_streams`),
/// in one sentence (docs/rules2015.md#streams-2014-does-not-have).
pub fn unpaired_note(streams: &[Stream], other_streams: &[Stream], o: &Stream) -> String {
    let same_day = streams.iter().filter(|s| s.key() == o.key()).count();
    let rank = other_streams.iter().filter(|s| s.key() == o.key() && s.id <= o.id).count();
    let verdict = match o.outcome() {
        crate::replay::Outcome::Failed => "only the 2015 audit sees this failure",
        crate::replay::Outcome::Error => "only the 2015 audit meets this error",
        _ => "it does not fail, so the 2014 audit misses nothing here",
    };
    if same_day > 0 {
        format!(
            "2014 has {same_day} stream(s) of this instance-day and this is the 2015 replay's stream {rank} of it: \
             the 2015 replay split the day's events into more streams (a stream was decided before later events \
             arrived), so this one has no 2014 counterpart; {verdict}."
        )
    } else if streams.iter().any(|s| s.key().instance_id == o.key().instance_id) {
        format!(
            "2014 has streams of this instance, but none of {}: the events of this stream are not distilled or \
             not matched under the 2014 rules; {verdict}.",
            o.day
        )
    } else {
        format!(
            "2014 has no stream of this instance at all: under the 2014 trait table none of its events carries an \
             instance id (nova may have sent it as `instance_uuid`) or their types are not distilled, so the 2014 \
             audit never checks it; {verdict}."
        )
    }
}

fn why_2015_accepted(archive: &Archive, stream: &Stream, other_archive: &Archive, other: Option<&Stream>) -> String {
    let Some(o) = other else {
        return "2015 accepted it: under the 2015 rules this instance-day has no stream of its own (its events \
                carry another instance id there), so nothing failed."
            .to_string();
    };
    if o.result.is_none() {
        return format!("2015 has not decided its counterpart #{} yet, so nothing failed there.", o.id);
    }
    let cx = Ctx::of(archive, stream);
    let failure = stream.result.as_ref().and_then(|r| r.verdict()).and_then(|v| v.failure.as_ref());
    let results = o.result.as_ref().and_then(|r| r.audit2015()).map_or(0, |a| a.results.len());
    match failure.map(|f| (f.code, &f.finding)) {
        Some((Code::U2, Finding::Conflict { field, other: i, .. })) => {
            let ty = cx.ty(*i);
            let compared = crate::rules::OPERATION_TYPES_2015.contains(&ty);
            let ocx = Ctx::of(other_archive, o);
            let last_op = (0..ocx.events.len()).rev().find(|&j| other_is_operation(&ocx, j));
            let agrees = match last_op {
                Some(j) => format!("the last one, {} (msg {}), agrees", ocx.ty(j), ocx.events[j].message_id(ocx.sym())),
                None => "the stream has none".to_string(),
            };
            let why = if ty.ends_with(".start") || !compared {
                format!(
                    "2015 does not compare {ty} (it holds the values from before the operation); it compares \
                     only the last rebuild, finish_resize or rescue .end of each block, and {agrees}"
                )
            } else {
                format!(
                    "2015 compares only the last operation .end of each block on {}, and {agrees}",
                    cx.sym().get(*field)
                )
            };
            format!(
                "2015 accepted it: {why} with every .exists of counterpart #{} ({results} result(s), none failed).",
                o.id
            )
        }
        Some((Code::U0, _)) => format!(
            "2015 accepted it: it checks every .exists, end-of-day or not, against the events before it, and all \
             {results} result(s) of counterpart #{} passed.",
            o.id
        ),
        _ => format!(
            "2015 accepted it: it checks each .exists only against the events since the previous one, and all \
             {results} result(s) of counterpart #{} passed.",
            o.id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::explain_among;
    use crate::archive::{Archive, LoadOptions};
    use crate::pipeline::IdMode;
    use crate::replay::Replay;
    use crate::rules::{RuleSet, Rules};
    use serde_json::json;

    const U1: &str = "00000000-0000-4000-8000-000000000001";
    const U2: &str = "00000000-0000-4000-8000-000000000002";

    fn ev(ty: &str, id: &str, ts: &str, extra: serde_json::Value) -> String {
        let mut v = json!({"event_type": ty, "message_id": id, "timestamp": ts, "instance_id": "i1",
            "tenant_id": "t1", "state": "active", "launched_at": "2014-09-01 12:00:00", "instance_flavor_id": 2});
        for (k, x) in extra.as_object().cloned().unwrap_or_default() {
            v[&k] = x;
        }
        v.to_string()
    }

    fn exists(id: &str, ts: &str, end: &str) -> String {
        ev(
            "compute.instance.exists",
            id,
            ts,
            json!({"audit_period_beginning": "2014-10-06 00:00:00", "audit_period_ending": end}),
        )
    }

    fn explained(lines: &[String]) -> Option<super::Explanation> {
        let options = LoadOptions { rules: Rules::One(RuleSet::Y2015), ..Default::default() };
        let a = Archive::from_bytes_with("t.jsonl", lines.join("\n").as_bytes(), options);
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        let r = Replay::run(&a, true, IdMode::Stable);
        explain_among(&a, r.streams(), &r.streams()[0])
    }

    #[test]
    fn a_trailing_block_names_its_events_and_every_exists_its_result() {
        let x = explained(&[
            exists(U1, "2014-10-06 12:00:00", "2014-10-06 12:00:00"),
            ev("compute.instance.update", "m1", "2014-10-06 13:00:00", json!({})),
        ])
        .expect("failed");
        assert_eq!((x.code, x.title.as_str()), (Some("U0"), "events after the last .exists (2015)"));
        assert_eq!(x.message, "Notifications, but no .exists notification found.");
        assert!(x.meaning.starts_with("1 event(s) came after the stream's last .exists"), "{}", x.meaning);
        let details: Vec<&str> = x.evidence.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(details.len(), 2);
        assert!(details[0].starts_with("non-EOD .exists") && details[0].ends_with(": verified"), "{details:?}");
        assert!(x.causes[0].starts_with("The stream expired at"), "{:?}", x.causes);
        assert_eq!(details[1], "first event of the trailing block (no .exists after it)");
    }

    #[test]
    fn a_warning_says_what_it_means_for_billing_and_a_quiet_day_needs_no_explanation() {
        let x = explained(&[
            exists(U1, "2014-10-06 12:00:00", "2014-10-06 12:00:00"),
            exists(U2, "2014-10-07 00:05:00", "2014-10-07 00:00:00"),
        ])
        .expect("warned");
        assert_eq!((x.outcome, x.title.as_str()), ("verified", "verified, with warnings (2015)"));
        assert!(
            x.notes[0].starts_with(&format!("Warning: Non-EOD .exists found (msg_id: {U1}) with no operation event."))
        );
        assert!(
            x.notes[0].contains("bills the partial period 2014-10-06T00:00:00.000000Z → 2014-10-06T12:00:00.000000Z")
        );
        assert!(x.evidence[0].detail.starts_with("non-EOD .exists"), "{:?}", x.evidence);
        assert_eq!(explained(&[exists(U2, "2014-10-07 00:05:00", "2014-10-07 00:00:00")]), None);
    }

    #[test]
    fn a_crash_names_its_cause() {
        let x = explained(&[exists("msg-1234abcd", "2014-10-07 00:05:00", "2014-10-07 00:00:00")]).expect("error");
        assert_eq!((x.outcome, x.title.as_str()), ("error", "the 2015 usage check crashed"));
        assert_eq!(x.evidence[0].detail, "its message id is not a UUID");
        assert!(x.causes[0].contains("ValueError"), "{:?}", x.causes);
    }
}
