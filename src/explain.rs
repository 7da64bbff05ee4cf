//! Operator explanations (docs/checks.md#outcomes): for every failing code and for the
//! `error` outcome, what it means for billing, the exact values and the events
//! that prove it, the likely causes, and what to check next.
//!
//! Everything is built from the stream itself (and its sibling streams), so
//! the evidence names real message ids and timestamps.

use crate::archive::Archive;
use crate::event::{sym, Event, Sym, Symbols, Value};
use crate::pipeline::usage::{self, Code, Finding, OPERATION_TYPES};
use crate::replay::{Outcome, Stream, TriggerKind};
use serde::Serialize;

mod y2015;
pub use y2015::{triage_note, unpaired_note};

/// How the note naming a stream's siblings (other streams of its instance-day) begins; the
/// ids follow, comma-separated, up to the closing parenthesis.
pub const SIBLINGS: &str = "The same instance-day has other streams (";

/// One event that supports the verdict.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Evidence {
    pub event_type: String,
    pub message_id: String,
    pub timestamp: String,
    /// What this event shows.
    pub detail: String,
    /// Index of the event in the stream.
    #[serde(skip)]
    pub index: usize,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Explanation {
    pub code: Option<&'static str>,
    pub outcome: &'static str,
    pub title: String,
    /// The check's exact message (or the pipeline failure's description).
    pub message: String,
    /// What the verdict means in billing terms.
    pub meaning: String,
    pub evidence: Vec<Evidence>,
    pub causes: Vec<String>,
    pub next_steps: Vec<String>,
    /// Facts about the stream worth knowing whatever the code.
    pub notes: Vec<String>,
}

impl Explanation {
    /// Indices (in the stream) of the events the evidence names.
    pub fn proving(&self) -> Vec<usize> {
        self.evidence.iter().map(|e| e.index).collect()
    }

    /// Plain text, wrapped to `width` columns.
    pub fn to_text(&self, width: usize) -> Vec<String> {
        use crate::text::{sanitize, wrap};
        let mut out = Vec::new();
        let head = match self.code {
            Some(c) => format!("{c} — {}", self.title),
            None => self.title.clone(),
        };
        out.extend(wrap(&sanitize(&head), width));
        out.extend(wrap(&sanitize(&self.meaning), width));
        if !self.evidence.is_empty() {
            out.push("Evidence:".into());
            for e in &self.evidence {
                let line = format!("- {} {} (msg {}): {}", e.timestamp, e.event_type, e.message_id, e.detail);
                for (i, l) in wrap(&sanitize(&line), width.saturating_sub(2)).into_iter().enumerate() {
                    out.push(if i == 0 { l } else { format!("  {l}") });
                }
            }
        }
        for (title, items) in
            [("Likely causes:", &self.causes), ("Check next:", &self.next_steps), ("Notes:", &self.notes)]
        {
            if items.is_empty() {
                continue;
            }
            out.push(title.into());
            for c in items.iter() {
                for (i, l) in wrap(&sanitize(c), width.saturating_sub(2)).into_iter().enumerate() {
                    out.push(if i == 0 { format!("- {l}") } else { format!("  {l}") });
                }
            }
        }
        out
    }
}

struct Ctx<'a> {
    archive: &'a Archive,
    stream: &'a Stream,
    events: Vec<&'a Event>,
}

impl<'a> Ctx<'a> {
    fn of(archive: &'a Archive, stream: &'a Stream) -> Ctx<'a> {
        Ctx { archive, stream, events: stream.events.iter().map(|&i| &archive.events[i as usize]).collect() }
    }

    fn sym(&self) -> &'a Symbols {
        &self.archive.symbols
    }

    fn ty(&self, i: usize) -> &'a str {
        self.sym().get(self.events[i].event_type)
    }

    fn evidence(&self, i: usize, detail: impl Into<String>) -> Evidence {
        let e = self.events[i];
        Evidence {
            event_type: self.sym().get(e.event_type).to_string(),
            message_id: e.message_id(self.sym()).into_owned(),
            timestamp: e.timestamp.iso(),
            detail: detail.into(),
            index: i,
        }
    }

    fn val(&self, i: usize, field: Sym) -> String {
        match self.events[i].get(field) {
            Some(v) => show(v, self.sym()),
            None => "absent".to_string(),
        }
    }

    fn exists_detail(&self, x: usize) -> String {
        let e = self.events[x];
        let mut parts = vec![format!(
            "audit period {} → {}",
            self.val(x, sym::AUDIT_PERIOD_BEGINNING),
            self.val(x, sym::AUDIT_PERIOD_ENDING)
        )];
        parts.push(format!("state {}", self.val(x, sym::STATE)));
        parts.push(format!("launched_at {}", self.val(x, sym::LAUNCHED_AT)));
        if e.has(sym::DELETED_AT) {
            parts.push(format!("deleted_at {}", self.val(x, sym::DELETED_AT)));
        }
        format!("the end-of-day .exists: {}", parts.join(", "))
    }
}

/// A value as the operator should read it: datetimes with their zone.
fn show(v: Value, symbols: &Symbols) -> String {
    match v {
        Value::DateTime(t) => t.iso(),
        Value::Text(s) => format!("'{}'", symbols.get(s)),
        other => other.py_str(symbols),
    }
}

/// The explanation of a failed or errored stream, or of a verified one that
/// holds a `finish_resize.end` the rules did not compare (docs/checks.md#usage-checks); `None`
/// for other verified streams and for pending ones. A stream of a 2015 replay is explained by
/// its own results (docs/rules2015.md#explanations): also a verified one that raised warnings.
pub fn explain(archive: &Archive, stream: &Stream) -> Option<Explanation> {
    explain_with(archive, stream, &[])
}

/// As [`explain`], also naming the other streams of the same instance-day:
/// `siblings` holds the ids of the instance-day's streams ([`crate::replay::Siblings`]).
pub fn explain_with(archive: &Archive, stream: &Stream, siblings: &[u32]) -> Option<Explanation> {
    let result = stream.result.as_ref()?;
    let cx = Ctx::of(archive, stream);
    if archive.rules == crate::rules::RuleSet::Y2015 {
        // docs/rules2015.md#checks: one result per .exists, warnings, the trailing block.
        return y2015::explain(&cx, siblings);
    }
    if result.outcome == Outcome::Verified {
        let mut x = verified_despite_a_resize(&cx, result.verdict().and_then(|v| v.exists))?;
        x.notes.extend(notes(&cx, siblings, false));
        return Some(x);
    }
    if !matches!(result.outcome, Outcome::Failed | Outcome::Error) {
        return None;
    }
    let mut x = match (&result.outcome, result.verdict().and_then(|v| v.failure.as_ref())) {
        (Outcome::Failed, Some(f)) => {
            let exists = result.verdict().and_then(|v| v.exists);
            by_code(&cx, f.code, &f.message, &f.finding, exists)
        }
        _ => pipeline_error(&cx, result.message()),
    };
    x.notes.extend(notes(&cx, siblings, true));
    Some(x)
}

/// A verified stream with a `finish_resize.end`: the verdict stands, but the
/// event that carries the resize's outcome was never compared with the .exists.
fn verified_despite_a_resize(cx: &Ctx, exists: Option<usize>) -> Option<Explanation> {
    let sym = cx.sym();
    let resized: Vec<usize> =
        (0..cx.events.len()).filter(|&i| cx.events[i].event_type == sym::FINISH_RESIZE_END).collect();
    let (&first, x_idx) = (resized.first()?, exists?);
    let inst = cx.stream.instance_id.py_str(sym);
    let mut x = base(
        None,
        "verified",
        "verified, but a finish_resize.end was not compared",
        "Every usage check passed.",
        format!(
            "Every usage check passed for instance {inst} on {}, so this instance-day was billed as the .exists \
             says. The stream also holds a compute.instance.finish_resize.end: the flavor and launch time the \
             instance had after its resize. The original rules compare compute.instance.resize.finish.end, \
             which nova never emits, so the audit did not hold the resize's outcome against the .exists.",
            cx.stream.day
        ),
    );
    x.evidence.push(cx.evidence(x_idx, cx.exists_detail(x_idx)));
    let mut disagree = Vec::new();
    for &i in &resized {
        let mut parts = Vec::new();
        for f in crate::pipeline::usage::OPERATION_FIELDS {
            let (a, b) = (cx.events[x_idx].get(f), cx.events[i].get(f));
            if a.is_some() && b.is_some() && !a.zip(b).is_some_and(|(a, b)| a == b) {
                disagree.push(format!(
                    "{} ({} on the .exists, {} after the resize)",
                    sym.get(f),
                    cx.val(x_idx, f),
                    cx.val(i, f)
                ));
            }
            if b.is_some() {
                parts.push(format!("{} {}", sym.get(f), cx.val(i, f)));
            }
        }
        let detail = if parts.is_empty() {
            "carries none of the compared fields".to_string()
        } else {
            format!("not compared: {}", parts.join(", "))
        };
        x.evidence.push(cx.evidence(i, detail));
    }
    if disagree.is_empty() {
        x.next_steps.push(format!(
            "Nothing to do for this day: the finish_resize.end (msg {}) agrees with the .exists on every field both carry.",
            cx.events[first].message_id(sym)
        ));
    } else {
        x.causes.push(format!(
            "The .exists and the finish_resize.end disagree on {}: had the rules compared it, this day would have \
             failed with U2.",
            disagree.join("; ")
        ));
        x.next_steps.push(
            "Check which flavor was billed for the rest of the day: the .exists should carry the flavor the \
             instance had at the end of the audit period, which is the one after the resize."
                .to_string(),
        );
    }
    Some(x)
}

/// What each code means, in one line: the title of its explanation (U2's
/// names the field in conflict when a stream has one). The UI's legend shows these.
pub fn code_title(code: Code) -> &'static str {
    match code {
        Code::U0 => "no end-of-day .exists",
        Code::U1 => ".exists without launched_at",
        Code::U2 => "the .exists and another event of the day disagree on a value",
        Code::U3 => "deleted_at set on an instance that is not deleted",
        Code::U4 => "deleted before it was launched",
        Code::U5 => "deleted during the day, but no delete event",
        Code::U6 => "deleted, but the .exists does not know",
        Code::U7 => "deleted more than once",
        Code::U8 => "launched during the day, but nothing else seen",
    }
}

/// The title of the `error` outcome's explanation.
pub const ERROR_TITLE: &str = "the usage check crashed";

fn base(code: Option<Code>, outcome: &'static str, title: &str, message: &str, meaning: String) -> Explanation {
    Explanation {
        code: code.map(|c| c.as_str()),
        outcome,
        title: title.to_string(),
        message: message.to_string(),
        meaning,
        evidence: Vec::new(),
        causes: Vec::new(),
        next_steps: Vec::new(),
        notes: Vec::new(),
    }
}

fn by_code(cx: &Ctx, code: Code, message: &str, finding: &Finding, exists: Option<usize>) -> Explanation {
    let inst = cx.stream.instance_id.py_str(cx.sym());
    let day = cx.stream.day;
    let s = |v: &str| v.to_string();
    let mut x = match (code, finding) {
        (Code::U0, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "Nothing in this stream says that instance {inst} existed for the whole of {day}: no \
                     compute.instance.exists with an audit period from midnight to midnight. Usage for this \
                     instance-day cannot be verified, and whatever was billed for it has no audit record behind it."
                ),
            );
            for (i, e) in cx.events.iter().enumerate() {
                if e.event_type == sym::EXISTS {
                    x.evidence.push(cx.evidence(
                        i,
                        format!(
                            "a .exists that is not the end-of-day one: audit period {} → {}",
                            cx.val(i, sym::AUDIT_PERIOD_BEGINNING),
                            cx.val(i, sym::AUDIT_PERIOD_ENDING)
                        ),
                    ));
                }
            }
            if x.evidence.is_empty() && !cx.events.is_empty() {
                let last = cx.events.len() - 1;
                x.evidence.push(cx.evidence(0, "first event of the stream"));
                if last > 0 {
                    x.evidence.push(cx.evidence(last, "last event of the stream"));
                }
            }
            match cx.stream.result.as_ref().map(|r| r.trigger) {
                Some(TriggerKind::Expire) => x.causes.push(format!(
                    "The stream expired at {} (two days after its last event) without an end-of-day .exists \
                     arriving: nova's usage audit did not report this instance for {day}, or its notification was lost.",
                    cx.stream.expire_timestamp().iso()
                )),
                _ => x.causes.push(s(
                    "A .exists whose audit period is exactly one day long made the stream fire, but that period \
                     does not run from midnight to midnight, so the check does not count it as the end-of-day audit.",
                )),
            }
            x.causes.push(s(
                "Partial-period .exists notifications (sent by nova at resize, rebuild or delete time) cover only \
                 part of the day and never satisfy the check.",
            ));
            x.causes.push(s(
                "The end-of-day .exists arrived after this stream had already fired or expired, and opened a \
                 second stream for the same instance-day.",
            ));
            x.next_steps.push(format!(
                "Search the archive for compute.instance.exists of instance {inst} with audit_period_beginning {day}T00:00:00Z."
            ));
            x.next_steps
                .push(s("Check that nova's instance_usage_audit ran on the instance's compute host for that period \
                 (nova's task_log table) and that notifications were not dropped by the message bus."));
            x
        }
        (Code::U1, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The end-of-day .exists for {inst} on {day} does not say when the instance was launched, so the \
                     billable period of the day cannot be computed from it."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            x.causes.push(s(
                "The instance never finished building (state building or error) yet was still reported by the \
                 usage audit.",
            ));
            x.causes.push(s("launched_at was cleared in nova's database, e.g. by a failed rebuild or a manual fix."));
            x.next_steps.push(format!(
                "Look at the compute.instance.update and create events of {inst} to see whether and when it became active."
            ));
            x.next_steps.push(s("Check instances.launched_at in nova's database."));
            x
        }
        (Code::U2, Finding::Conflict { field, exists_value, other, other_value }) => {
            conflict(cx, message, exists, *field, *exists_value, *other, *other_value)
        }
        (Code::U8, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The .exists says {inst} was launched during {day} and is active, yet the stream holds no other \
                     event: the create (or rebuild/resize) that launched it was never seen. The day would be billed \
                     from a launch time nothing corroborates."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            x.causes.push(s("The compute.instance.create.* notifications of this launch were lost or never archived."));
            x.causes.push(s(
                "The launch events are in another stream: they arrived late, after this stream's day, or carry a \
                 different instance_id.",
            ));
            x.next_steps.push(format!("Search the archive for compute.instance.create.end of instance {inst}."));
            x.next_steps.push(s("Compare launched_at with the API's request logs for the instance's creation."));
            x
        }
        (Code::U3, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The .exists for {inst} on {day} carries a deletion time but its state is not 'deleted': billing \
                     would stop charging at deleted_at for an instance that may still be running (or was restored)."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            x.causes.push(s("The instance was soft-deleted and then restored; deleted_at was not cleared."));
            x.causes.push(s("A delete failed half-way, leaving the instance in error with deleted_at set."));
            x.next_steps
                .push(format!("Check the current state of {inst} in nova and its compute.instance.update events."));
            x.next_steps.push(s("If it is running, it must be billed past deleted_at: correct the record."));
            x
        }
        (Code::U4, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The .exists for {inst} on {day} says the instance was deleted before it was launched, and no \
                     delete event confirms the deletion: the billable period computed from it is negative or nonsense."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            x.causes.push(s("Clock skew between the hosts that recorded launched_at and deleted_at."));
            x.causes.push(s(
                "launched_at was reset by a rebuild after the deletion was recorded, or the record was edited by hand.",
            ));
            x.next_steps.push(s("Check NTP on the compute hosts involved and the instance's row in nova's database."));
            x
        }
        (Code::U5, _) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The .exists says {inst} was deleted during {day}, but the stream holds no \
                     compute.instance.delete.end: the deletion that ends the billing was never observed."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            x.causes.push(s(
                "The delete notification was lost, or arrived after this stream fired and opened another stream.",
            ));
            x.causes.push(s(
                "The instance was deleted locally by the API while its compute host was down, which sends no \
                 compute.instance.delete.end from the host.",
            ));
            x.next_steps.push(format!(
                "Search the archive for compute.instance.delete.end of instance {inst} around deleted_at."
            ));
            x.next_steps.push(s("Check nova-api logs for a local delete of the instance."));
            x
        }
        (Code::U6, Finding::DeleteWithoutDeletedAt { deletes }) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The stream shows {inst} deleted on {day}, but its end-of-day .exists has no deleted_at: billing \
                     would charge the instance as if it still existed after the deletion."
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            for &d in deletes {
                x.evidence.push(cx.evidence(d, "the delete the .exists does not reflect"));
            }
            x.causes.push(s(
                "The usage audit read the instance before the deletion was committed (the audit and the delete raced).",
            ));
            x.causes.push(s("The delete.end came from a delete that was later rolled back."));
            x.next_steps.push(format!(
                "Check whether the next day's .exists of {inst} carries deleted_at, and the instance's deleted flag in nova."
            ));
            x
        }
        (Code::U7, Finding::MultipleDeletes { deletes }) => {
            let mut x = base(
                Some(code),
                "failed",
                code_title(code),
                message,
                format!(
                    "The stream holds {} compute.instance.delete.end events for {inst} on {day}: the deletion time \
                     that ends the billing is ambiguous.",
                    deletes.len()
                ),
            );
            if let Some(e) = exists {
                x.evidence.push(cx.evidence(e, cx.exists_detail(e)));
            }
            for &d in deletes {
                x.evidence.push(cx.evidence(d, format!("delete.end with deleted_at {}", cx.val(d, sym::DELETED_AT))));
            }
            x.causes.push(s("The delete was retried (API or client retry) and each attempt notified."));
            x.causes.push(s("Both the API (local delete) and the compute host reported the deletion."));
            x.next_steps.push(s("Compare the deleted_at of each delete.end with the .exists' deleted_at."));
            x
        }
        _ => base(Some(code), "failed", code_title(code), message, String::new()),
    };
    if x.meaning.is_empty() {
        x.meaning = message.to_string();
    }
    x
}

fn conflict(
    cx: &Ctx,
    message: &str,
    exists: Option<usize>,
    field: Sym,
    exists_value: Value,
    other: usize,
    other_value: Value,
) -> Explanation {
    let sym = cx.sym();
    let name = sym.get(field);
    let other_type = cx.ty(other);
    let inst = cx.stream.instance_id.py_str(sym);
    let what = match name {
        "launched_at" => "launch time",
        "deleted_at" => "deletion time",
        "instance_type_id" => "flavor",
        "tenant_id" => "tenant (who pays)",
        "os_architecture" | "os_version" | "os_distro" => "image (which can change the licence price)",
        _ => "value",
    };
    let mut x = base(
        Some(Code::U2),
        "failed",
        &format!("conflicting {name}"),
        message,
        format!(
            "The end-of-day .exists of {inst} and a {other_type} of the same day disagree on the {what}: the \
             .exists says {}, the {other_type} says {}. Billing uses the .exists, so if the event is right the day \
             is billed wrongly.",
            show(exists_value, sym),
            show(other_value, sym)
        ),
    );
    if let Some(e) = exists {
        x.evidence.push(cx.evidence(e, format!("{name} = {}", show(exists_value, sym))));
    }
    x.evidence.push(cx.evidence(other, format!("{name} = {}", show(other_value, sym))));
    // A later event carrying the .exists' value shows where the value came from.
    let later = (other + 1..cx.events.len())
        .filter(|&i| Some(i) != exists)
        .find(|&i| cx.events[i].get(field).is_some_and(|v| v.py_eq(&exists_value)));
    if let Some(i) = later {
        x.evidence.push(cx.evidence(i, format!("{name} = {}, the value the .exists carries", show(exists_value, sym))));
    }
    if other_type.ends_with(".start") {
        x.causes.push(format!(
            "{other_type} carries the values from before the operation. A {} during the day changes the {what}, \
             so the .exists (taken at the end of the day) shows the new value and the .start the old one: \
             usually the operation itself, not a billing error.",
            operation_of(other_type)
        ));
    }
    match name {
        "launched_at" => {
            x.causes.push(s_(
                "A rebuild, resize or rescue re-launches the instance and resets launched_at; a later operation \
                 the same day leaves earlier events with an older launch time.",
            ));
            if other_type == "compute.instance.create.end" {
                x.causes.push(s_("The create.end belongs to a different launch than the one the .exists reports."));
            }
        }
        "deleted_at" => x
            .causes
            .push(s_("The delete.end and the .exists recorded the deletion at different moments (the .exists should \
             carry the delete's deleted_at exactly).")),
        "instance_type_id" => x.causes.push(s_(
            "A resize changed the flavor; check that the day is billed with the right flavor for each part of it.",
        )),
        "tenant_id" => x
            .causes
            .push(s_("Two events for one instance with different tenants should never happen: suspect corrupted or \
             mis-attributed notifications.")),
        _ => x.causes.push(s_("A rebuild changed the image, or image metadata was edited after the event.")),
    }
    x.next_steps.push(format!(
        "Look at the events between the {other_type} and the .exists in this stream: the last operation of the day \
         should explain the .exists' value."
    ));
    x.next_steps.push(format!("Check which {what} the day was billed with."));
    x
}

fn s_(v: &str) -> String {
    v.to_string()
}

fn operation_of(event_type: &str) -> &str {
    let rest = event_type.strip_prefix("compute.instance.").unwrap_or(event_type);
    let op = rest.strip_suffix(".start").unwrap_or(rest);
    match op {
        "resize.prep" => "resize",
        "resize.revert" => "resize revert",
        other => other,
    }
}

fn pipeline_error(cx: &Ctx, message: &str) -> Explanation {
    let sym = cx.sym();
    let inst = cx.stream.instance_id.py_str(sym);
    let (state, pipeline) = match cx.stream.result.as_ref().map(|r| r.trigger) {
        Some(TriggerKind::Expire) => ("expire_error", "expire"),
        _ => ("error", "fire"),
    };
    let mut x = base(
        None,
        "error",
        ERROR_TITLE,
        message,
        format!(
            "The original usage check compares fields that must be on both events; here one of them lacks the \
             field, so the check crashed (a KeyError in Winchester), the {pipeline} pipeline failed and the stream \
             went to {state}. No verdict was reached: the billing of {inst} for {} was never verified.",
            cx.stream.day
        ),
    );
    // Re-run the checks to find the two events the crash was about.
    if let Err(m) = usage::check(&cx.events, sym) {
        let field = sym.get(m.field);
        x.evidence.push(cx.evidence(m.present_on, format!("has {field} = {}", cx.val(m.present_on, m.field))));
        x.evidence.push(cx.evidence(m.missing_on, format!("has no {field}")));
        let missing_type = cx.ty(m.missing_on);
        x.causes.push(format!(
            "The {missing_type} was emitted without {field} (null or absent in the notification): older nova \
             releases and some code paths (snapshots, images without metadata) leave it out."
        ));
    }
    x.causes.push(s_("Records edited or produced by a tool that drops fields it considers empty."));
    x.next_steps.push(s_(
        "Compare the two events' values by hand: if they agree where both are known, the day is probably fine.",
    ));
    x.next_steps.push(s_("Find out why the field is missing from that notification type."));
    x
}

/// Facts worth knowing whatever the verdict; `resize`: include the note on an
/// uncompared `finish_resize.end` (left out where it is the explanation itself).
fn notes(cx: &Ctx, siblings: &[u32], resize: bool) -> Vec<String> {
    let mut n = Vec::new();
    let sym = cx.sym();
    if let Some(i) = cx.events.iter().position(|e| resize && e.event_type == sym::FINISH_RESIZE_END) {
        let e = cx.events[i];
        n.push(format!(
            "This stream has a compute.instance.finish_resize.end (msg {} at {}). The original rule list names \
             compute.instance.resize.finish.end, which nova never emits, so this event was not compared with the .exists.",
            e.message_id(sym),
            e.timestamp.iso()
        ));
    }
    // The merge of a split renumbers the ids in this note (docs/scale.md#the-merge).
    let siblings: Vec<u32> = siblings.iter().copied().filter(|&id| id != cx.stream.id).collect();
    if !siblings.is_empty() {
        let ids: Vec<String> = siblings.iter().map(|i| i.to_string()).collect();
        n.push(format!(
            "{SIBLINGS}{}): events that arrived after a stream fired or expired, \
             or more than two days after the previous one, open a new stream.",
            ids.join(", ")
        ));
    }
    let ops = cx.events.iter().filter(|e| OPERATION_TYPES.contains(&sym.get(e.event_type))).count();
    if ops > 0 {
        n.push(format!("{ops} event(s) of this stream were compared with the .exists as operations."));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::IdMode;
    use crate::replay::Replay;
    use serde_json::json;

    fn line(ty: &str, id: &str, ts: &str, extra: serde_json::Value) -> String {
        let mut v = json!({"event_type": ty, "message_id": id, "timestamp": ts, "instance_id": "i1",
            "tenant_id": "t1", "state": "active", "instance_type_id": 4, "launched_at": "2014-09-01 12:00:00",
            "os_architecture": "x64", "os_version": "14.04", "os_distro": "ubuntu"});
        for (k, x) in extra.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        v.to_string()
    }

    fn exists(extra: serde_json::Value) -> String {
        let mut e =
            json!({"audit_period_beginning": "2014-10-06 00:00:00", "audit_period_ending": "2014-10-07 00:00:00"});
        for (k, x) in extra.as_object().unwrap() {
            e[k] = x.clone();
        }
        line("compute.instance.exists", "x-1", "2014-10-07 00:10:00", e)
    }

    /// A stream's explanation as a report gives it: naming its siblings among `streams`.
    pub(super) fn explain_among(a: &Archive, streams: &[Stream], s: &Stream) -> Option<Explanation> {
        explain_with(a, s, crate::replay::Siblings::of(streams).of_stream(s))
    }

    fn explained(lines: &[String]) -> (Archive, Explanation) {
        let a = Archive::from_bytes("t.jsonl", lines.join("\n").as_bytes());
        let r = Replay::run(&a, true, IdMode::Stable);
        let x = explain_among(&a, r.streams(), &r.streams()[0]).expect("a failing stream");
        (a, x)
    }

    #[test]
    fn an_instance_day_of_several_streams_names_the_others_in_each_one_s_explanation() {
        // An end-of-day .exists fires the first stream; a second one for the same day, after it,
        // opens a second stream (both fail U1: no launched_at). Another instance's day is alone (U0).
        let period = json!({"audit_period_beginning": "2014-10-06 00:00:00",
            "audit_period_ending": "2014-10-07 00:00:00", "launched_at": null});
        let a = Archive::from_bytes(
            "t.jsonl",
            [
                line("compute.instance.exists", "x-1", "2014-10-07 00:10:00", period.clone()),
                line("compute.instance.exists", "x-2", "2014-10-07 00:20:00", period),
                line("compute.instance.update", "u-3", "2014-10-07 00:30:00", json!({"instance_id": "i2"})),
            ]
            .join("\n")
            .as_bytes(),
        );
        let r = Replay::run(&a, true, IdMode::Stable);
        let siblings = crate::replay::Siblings::of(r.streams());
        let by_day: Vec<(u32, &[u32])> = r.streams().iter().map(|s| (s.id, siblings.of_stream(s))).collect();
        assert_eq!(by_day, [(1, &[1, 2][..]), (2, &[1, 2][..]), (3, &[][..])]);
        let note = |id: u32| {
            let s = &r.streams()[id as usize - 1];
            let x = explain_with(&a, s, siblings.of_stream(s)).expect("a failing stream");
            x.notes.iter().find(|n| n.starts_with(SIBLINGS)).cloned()
        };
        assert!(note(1).expect("a note").starts_with(&format!("{SIBLINGS}2)")), "{:?}", note(1));
        assert!(note(2).expect("a note").starts_with(&format!("{SIBLINGS}1)")), "{:?}", note(2));
        assert_eq!(note(3), None);
    }

    #[test]
    fn u2_after_a_resize_names_both_events_the_later_value_and_the_uncompared_finish_resize() {
        let (_, x) = explained(&[
            line("compute.instance.resize.prep.start", "r-1", "2014-10-06 10:00:00", json!({})),
            line(
                "compute.instance.finish_resize.end",
                "f-1",
                "2014-10-06 10:05:00",
                json!({"launched_at": "2014-10-06 10:05:00", "instance_type_id": 5}),
            ),
            exists(json!({"launched_at": "2014-10-06 10:05:00", "instance_type_id": 5})),
        ]);
        assert_eq!((x.code, x.outcome), (Some("U2"), "failed"));
        assert_eq!(x.message, "Conflicting 'launched_at' values ('2014-10-06 10:05:00' != '2014-09-01 12:00:00')");
        let ids: Vec<&str> = x.evidence.iter().map(|e| e.message_id.as_str()).collect();
        assert_eq!(ids, vec!["x-1", "r-1", "f-1"]);
        assert_eq!(x.proving(), vec![2, 0, 1]);
        assert!(x.causes[0].contains("carries the values from before the operation"), "{:?}", x.causes);
        assert!(x.notes.iter().any(|n| n.contains("finish_resize.end (msg f-1") && n.contains("not compared")));
    }

    #[test]
    fn a_verified_stream_with_a_finish_resize_end_says_it_was_not_compared() {
        let a = Archive::from_bytes(
            "t.jsonl",
            [
                line(
                    "compute.instance.finish_resize.end",
                    "f-1",
                    "2014-10-06 10:05:00",
                    json!({"launched_at": "2014-10-06 10:05:00", "instance_type_id": 5}),
                ),
                exists(json!({})),
            ]
            .join("\n")
            .as_bytes(),
        );
        let r = Replay::run(&a, true, IdMode::Stable);
        let s = &r.streams()[0];
        assert_eq!(s.outcome(), Outcome::Verified);
        let x = explain_among(&a, r.streams(), s).expect("an explanation for the uncompared resize");
        assert_eq!((x.code, x.outcome), (None, "verified"));
        assert_eq!(x.message, "Every usage check passed.");
        assert!(x.meaning.contains("resize.finish.end, which nova never emits"), "{}", x.meaning);
        assert_eq!(x.proving(), vec![1, 0]);
        assert_eq!(
            x.causes,
            ["The .exists and the finish_resize.end disagree on launched_at (2014-09-01T12:00:00.000000Z on the \
              .exists, 2014-10-06T10:05:00.000000Z after the resize); instance_type_id (4 on the .exists, 5 after \
              the resize): had the rules compared it, this day would have failed with U2."]
        );
        assert!(x.next_steps[0].starts_with("Check which flavor was billed"), "{x:?}");
        assert!(x.notes.is_empty(), "the resize is the explanation, not a note: {:?}", x.notes);
        // Without one, a verified stream has nothing to explain.
        let a = Archive::from_bytes("t.jsonl", exists(json!({})).as_bytes());
        let r = Replay::run(&a, true, IdMode::Stable);
        assert!(explain_among(&a, r.streams(), &r.streams()[0]).is_none());
    }

    #[test]
    fn an_expired_stream_without_exists_says_when_it_expired() {
        let (_, x) = explained(&[
            line("compute.instance.update", "u-1", "2014-10-06 10:00:00", json!({})),
            line("compute.instance.update", "u-2", "2014-10-06 11:00:00", json!({})),
        ]);
        assert_eq!(x.code, Some("U0"));
        assert!(x.causes[0].contains("expired at 2014-10-08T11:00:00.000000Z"), "{:?}", x.causes);
        assert_eq!(x.proving(), vec![0, 1], "first and last events");
    }

    #[test]
    fn the_error_outcome_names_the_field_and_both_events() {
        let (_, x) = explained(&[
            line("compute.instance.create.end", "c-1", "2014-10-06 10:00:00", json!({"os_distro": null})),
            exists(json!({})),
        ]);
        assert_eq!((x.code, x.outcome), (None, "error"));
        assert!(x.meaning.contains("went to error"));
        let details: Vec<(&str, &str)> =
            x.evidence.iter().map(|e| (e.message_id.as_str(), e.detail.as_str())).collect();
        assert_eq!(details, vec![("x-1", "has os_distro = 'ubuntu'"), ("c-1", "has no os_distro")]);
    }

    #[test]
    fn delete_codes_cite_the_delete_events() {
        let del = |id: &str| {
            line("compute.instance.delete.end", id, "2014-10-06 12:00:00", json!({"deleted_at": "2014-10-06 12:00:00"}))
        };
        let (_, x) = explained(&[
            del("d-1"),
            del("d-2"),
            exists(json!({"state": "deleted", "deleted_at": "2014-10-06 12:00:00"})),
        ]);
        assert_eq!(x.code, Some("U7"));
        let ids: Vec<&str> = x.evidence.iter().map(|e| e.message_id.as_str()).collect();
        assert_eq!(ids, vec!["x-1", "d-1", "d-2"]);
        let (_, x) = explained(&[del("d-1"), exists(json!({}))]);
        assert_eq!(x.code, Some("U6"));
        assert!(x.meaning.contains("still existed"), "{}", x.meaning);
    }

    #[test]
    fn plain_text_fits_the_width() {
        let (_, x) = explained(&[line("compute.instance.update", "u-1", "2014-10-06 10:00:00", json!({}))]);
        assert!(x.to_text(60).iter().all(|l| crate::text::width(l) <= 60));
    }
}
