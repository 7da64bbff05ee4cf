//! Distillation (docs/distillation.md#events): one record in, events (or a rejection, or "not
//! distilled") out, exactly as the original distiller converted values.
//!
//! Everything here runs on the parse threads and borrows from the input text;
//! strings are interned later, in archive order, by the loader.

use crate::event::{sym, RecordKind, Sym};
use crate::json::{parse_top, syntax_reason, Object, Payload, PayloadSlot, Scalar, Top};
use crate::pyfmt;
use crate::rules::Keep;
use crate::rules::RuleSet;
use crate::time::{parse_datetime, DateTimeError, Timestamp};
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The `compute.instance.*` glob of the stock event definitions (`*` crosses dots).
pub fn is_instance_event(event_type: &str) -> bool {
    event_type.starts_with("compute.instance.")
}

/// A trait name: one of the table's (by symbol) or any other (distilled input).
#[derive(Debug, Clone)]
pub enum TraitName<'a> {
    Known(Sym),
    Other(Cow<'a, str>),
}

/// A trait value before interning.
#[derive(Debug, Clone)]
pub enum TraitVal<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    /// An integer beyond 64 bits, as its decimal text (Python's ints have no bound).
    BigInt(Cow<'a, str>),
    Float(f64),
    DateTime(Timestamp),
}

/// Where, inside the text handed to [`distill_text`], a record sits.
#[derive(Debug, Clone, Copy)]
pub struct Loc {
    /// Which of the rule sets distilled it (an index into the list given to
    /// [`distill_text_with`]), or [`EVERY_SIDE`] while it holds for all of them.
    pub side: u8,
    pub offset: usize,
    pub len: usize,
    /// Position in an array file or a stream dump's `events`.
    pub index: Option<u32>,
    pub kind: RecordKind,
}

/// An event, not yet interned.
#[derive(Debug, Clone)]
pub struct Distilled<'a> {
    pub event_type: Cow<'a, str>,
    pub message_id: Cow<'a, str>,
    pub timestamp: Timestamp,
    pub traits: Vec<(TraitName<'a>, TraitVal<'a>)>,
}

/// [`Loc::side`] of an outcome that does not depend on the rule set.
pub const EVERY_SIDE: u8 = u8::MAX;

/// What one record became.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Event(Distilled<'a>, Loc),
    /// A notification whose type no event definition covers (docs/inputs.md#duplicates-and-records-not-distilled): counted, not an error.
    NotDistilled(Cow<'a, str>, Loc),
    Rejected {
        reason: String,
        excerpt: String,
        loc: Loc,
    },
}

fn owned(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl Distilled<'_> {
    pub fn into_owned(self) -> Distilled<'static> {
        Distilled {
            event_type: owned(self.event_type),
            message_id: owned(self.message_id),
            timestamp: self.timestamp,
            traits: self
                .traits
                .into_iter()
                .map(|(n, v)| {
                    let n = match n {
                        TraitName::Known(s) => TraitName::Known(s),
                        TraitName::Other(c) => TraitName::Other(owned(c)),
                    };
                    let v = match v {
                        TraitVal::Text(c) => TraitVal::Text(owned(c)),
                        TraitVal::Int(i) => TraitVal::Int(i),
                        TraitVal::BigInt(c) => TraitVal::BigInt(owned(c)),
                        TraitVal::Float(f) => TraitVal::Float(f),
                        TraitVal::DateTime(t) => TraitVal::DateTime(t),
                    };
                    (n, v)
                })
                .collect(),
        }
    }
}

impl Outcome<'_> {
    pub fn loc(&self) -> &Loc {
        match self {
            Outcome::Event(_, l) | Outcome::NotDistilled(_, l) => l,
            Outcome::Rejected { loc, .. } => loc,
        }
    }

    fn loc_mut(&mut self) -> &mut Loc {
        match self {
            Outcome::Event(_, l) | Outcome::NotDistilled(_, l) => l,
            Outcome::Rejected { loc, .. } => loc,
        }
    }

    pub fn into_owned(self) -> Outcome<'static> {
        match self {
            Outcome::Event(d, l) => Outcome::Event(d.into_owned(), l),
            Outcome::NotDistilled(t, l) => Outcome::NotDistilled(owned(t), l),
            Outcome::Rejected { reason, excerpt, loc } => Outcome::Rejected { reason, excerpt, loc },
        }
    }
}

/// The first 200 bytes of a record, cut at a character boundary.
pub fn excerpt(text: &[u8]) -> String {
    let mut end = text.len().min(200);
    // Back off to a character boundary when the cut falls inside one.
    while end > 0 && end < text.len() && (text[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&text[..end]).trim_end().to_string()
}

/// What a piece of text handed to [`distill_text`] is (docs/inputs.md#record-kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// One JSON Lines line: one record, so an array on it must be an STv2 pair.
    Line,
    /// A whole file: an array of records, or one record.
    Document,
    /// One element of a whole-file array: one record, possibly spanning lines.
    Element,
}

/// Distill every record in `text` into `out` under the 2014 trait table.
pub fn distill_text<'a>(text: &'a [u8], unit: Unit, out: &mut Vec<Outcome<'a>>) {
    distill_text_with(text, unit, &[RuleSet::Y2014], out)
}

/// Distill every record in `text` into `out`, once per rule set in `sets`
/// from one parse: each outcome's [`Loc::side`] says which set it is for, and
/// a record's outcomes are adjacent, in the order of `sets`.
pub fn distill_text_with<'a>(text: &'a [u8], unit: Unit, sets: &[RuleSet], out: &mut Vec<Outcome<'a>>) {
    distill_text_for(text, unit, Tables { sets, keep: Keep::All }, out)
}

/// The rule sets a record is distilled for, and which traits of their tables are kept.
#[derive(Clone, Copy)]
pub struct Tables<'s> {
    pub sets: &'s [RuleSet],
    /// Every value is still converted, so that a record is rejected for a bad value
    /// whether its trait is kept or not; a trait that is not kept is not made.
    pub keep: Keep,
}

/// As [`distill_text_with`], making only the traits `tables.keep` keeps.
pub fn distill_text_for<'a>(text: &'a [u8], unit: Unit, tables: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    let sets = tables.sets;
    let start = out.len();
    distill_all(text, unit, tables, out);
    // Outcomes that hold for every rule set (rejections of the record's shape,
    // distilled events taken as given) are given to each.
    if out[start..].iter().any(|o| o.loc().side == EVERY_SIDE) {
        let mine: Vec<Outcome<'a>> = out.drain(start..).collect();
        for mut o in mine {
            if o.loc().side != EVERY_SIDE {
                out.push(o);
                continue;
            }
            let copies: Vec<Outcome<'a>> = (1..sets.len())
                .map(|side| {
                    let mut c = o.clone();
                    c.loc_mut().side = side as u8;
                    c
                })
                .collect();
            o.loc_mut().side = 0;
            out.push(o);
            out.extend(copies);
        }
    }
}

fn distill_all<'a>(text: &'a [u8], unit: Unit, sets: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    let whole = Loc { side: EVERY_SIDE, offset: 0, len: text.len(), index: None, kind: RecordKind::Notification };
    match parse_top(text) {
        Ok(Top::Array(elems)) if unit != Unit::Document && !is_pair(&elems) => {
            let what = match unit {
                Unit::Line => "not a record: an array on a line must be an STv2 pair [routing_key, notification]",
                _ => "not a record: an array element must be an object or an STv2 pair",
            };
            out.push(reject(what, text, whole))
        }
        // As when the whole array is parsed at once (a document read record by record reads each the same).
        Ok(Top::Scalar(_)) if unit == Unit::Element => {
            out.push(reject("not a record: an array element must be an object or an STv2 pair", text, whole))
        }
        Ok(top) => top_records(top, text, whole, sets, out),
        Err(e) => out.push(Outcome::Rejected {
            reason: syntax_reason(&e, unit != Unit::Line),
            excerpt: excerpt(text),
            loc: whole,
        }),
    }
}

fn loc_of(base: &[u8], raw: &RawValue, index: Option<u32>, kind: RecordKind) -> Loc {
    let s = raw.get();
    Loc {
        side: EVERY_SIDE,
        offset: (s.as_ptr() as usize).saturating_sub(base.as_ptr() as usize),
        len: s.len(),
        index,
        kind,
    }
}

fn reject(reason: impl Into<String>, base: &[u8], loc: Loc) -> Outcome<'static> {
    let end = (loc.offset + loc.len).min(base.len());
    let start = loc.offset.min(end);
    Outcome::Rejected { reason: reason.into(), excerpt: excerpt(&base[start..end]), loc }
}

fn top_records<'a>(top: Top<'a>, base: &'a [u8], loc: Loc, sets: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    match top {
        Top::Object(o) => object_records(o, base, loc, sets, out),
        Top::Array(elems) => {
            if is_pair(&elems) {
                pair_record(&elems, base, loc, sets, out);
            } else {
                // An array of records (a whole-file array, or a quincy list of streams).
                for (i, e) in elems.iter().enumerate() {
                    let eloc = loc_of(base, e, Some(i as u32), RecordKind::Notification);
                    match parse_top(e.get().as_bytes()) {
                        Ok(Top::Array(inner)) if is_pair(&inner) => pair_record(&inner, base, eloc, sets, out),
                        Ok(Top::Object(o)) => object_records(o, base, eloc, sets, out),
                        Ok(_) => out.push(reject(
                            "not a record: an array element must be an object or an STv2 pair",
                            base,
                            eloc,
                        )),
                        Err(e) => out.push(reject(syntax_reason(&e, true), base, eloc)),
                    }
                }
            }
        }
        Top::Scalar(s) => {
            // A number is described as written (a big integer is not a float; docs/inputs.md#number-reading).
            let text = &base[loc.offset.min(base.len())..(loc.offset + loc.len).min(base.len())];
            let exact = std::str::from_utf8(text)
                .ok()
                .and_then(|t| serde_json::from_str::<&RawValue>(t).ok())
                .and_then(|raw| Scalar::from_raw(raw).ok());
            out.push(reject(
                format!(
                    "not a record: {} (expected a notification, oslo envelope, STv2 pair, distilled event or stream dump)",
                    exact.unwrap_or(s).describe()
                ),
                base,
                loc,
            ))
        }
    }
}

/// `[routing_key, notification or envelope]`.
fn is_pair(elems: &[&RawValue]) -> bool {
    elems.len() == 2 && elems[0].get().starts_with('"') && elems[1].get().starts_with('{')
}

fn pair_record<'a>(elems: &[&'a RawValue], base: &'a [u8], loc: Loc, sets: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    let loc = Loc { kind: RecordKind::Stv2Pair, ..loc };
    match parse_top(elems[1].get().as_bytes()) {
        Ok(Top::Object(o)) => {
            if o.has("oslo.version") && o.has("oslo.message") {
                envelope(&o, base, loc, RecordKind::Stv2Pair, sets, out);
            } else {
                notification(o, base, loc, sets, out);
            }
        }
        Ok(_) => out.push(reject("STv2 pair does not hold a notification", base, loc)),
        Err(e) => out.push(reject(syntax_reason(&e, true), base, loc)),
    }
}

fn object_records<'a>(o: Object<'a>, base: &'a [u8], loc: Loc, sets: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    if o.has("oslo.version") && o.has("oslo.message") {
        envelope(&o, base, loc, RecordKind::OsloEnvelope, sets, out);
        return;
    }
    if o.payload.is_some() {
        notification(o, base, loc, sets, out);
        return;
    }
    if matches!(o.get("event_type"), None | Some(Scalar::Null)) {
        if let Some(events) = o.events {
            stream_dump(events, base, loc, out);
            return;
        }
    }
    out.push(distilled_event(o, base, Loc { kind: RecordKind::Distilled, ..loc }));
}

fn stream_dump<'a>(events: &'a RawValue, base: &'a [u8], loc: Loc, out: &mut Vec<Outcome<'a>>) {
    let elems: Vec<&'a RawValue> = match serde_json::from_str(events.get()) {
        Ok(v) => v,
        Err(_) => {
            out.push(reject("stream dump: `events` is not an array", base, loc));
            return;
        }
    };
    for (i, e) in elems.iter().enumerate() {
        let eloc = loc_of(base, e, Some(i as u32), RecordKind::StreamDump);
        match parse_top(e.get().as_bytes()) {
            // docs/inputs.md#record-kinds: a dump's events are distilled events, never notifications.
            Ok(Top::Object(o)) if o.payload.is_some() => out.push(reject(
                "stream dump: an event must be a distilled event, not a notification (it has a payload)",
                base,
                eloc,
            )),
            Ok(Top::Object(o)) => out.push(distilled_event(o, base, eloc)),
            Ok(_) => out.push(reject("stream dump: an event must be an object", base, eloc)),
            Err(e) => out.push(reject(syntax_reason(&e, true), base, eloc)),
        }
    }
}

fn envelope<'a>(
    o: &Object<'a>,
    base: &'a [u8],
    loc: Loc,
    kind: RecordKind,
    sets: Tables<'_>,
    out: &mut Vec<Outcome<'a>>,
) {
    let loc = Loc { kind, ..loc };
    let Some(msg) = o.str_field("oslo.message") else {
        return out.push(reject("oslo envelope: oslo.message is not a string", base, loc));
    };
    match parse_top(msg.as_bytes()) {
        Ok(Top::Object(inner)) if inner.payload.is_some() => {
            let mut inner_out: Vec<Outcome<'_>> = Vec::with_capacity(sets.sets.len());
            notification(inner, base, loc, sets, &mut inner_out);
            for x in inner_out {
                let owned: Outcome<'static> = x.into_owned();
                out.push(owned);
            }
        }
        Ok(_) => out.push(reject("oslo envelope: oslo.message does not hold a notification", base, loc)),
        Err(e) => out.push(reject(format!("oslo envelope: oslo.message: {}", syntax_reason(&e, false)), base, loc)),
    }
}

/// Why a field's value was refused: `payload.launched_at: not a datetime: "yesterday"`.
fn bad_value(field: &str, what: &str, v: &Scalar) -> String {
    format!("{field}: not {what}: {}", v.describe())
}

/// docs/distillation.md#conversions, text: strings as they are, numbers and booleans as Python prints them.
fn to_text<'a>(field: &str, v: Scalar<'a>) -> Result<Option<TraitVal<'a>>, String> {
    Ok(Some(TraitVal::Text(match v {
        Scalar::Null => return Ok(None),
        Scalar::Str(s) => s,
        Scalar::Int(i) => Cow::Owned(i.to_string()),
        Scalar::BigInt(t) => t,
        Scalar::Float(f) => Cow::Owned(pyfmt::float_repr(f)),
        Scalar::Bool(b) => Cow::Borrowed(if b { "True" } else { "False" }),
        Scalar::Object { .. } | Scalar::Array => return Err(bad_value(field, "a text value", &v)),
    })))
}

/// Python's `int(str)` in base 10 (docs/distillation.md#conversions): surrounding whitespace
/// (Unicode's, as `str.isspace` has it beyond ASCII), an optional sign, then decimal digits
/// of any script (Unicode category Nd, `"٢"` is 2) with single underscores between
/// them, of any size. `None` where Python raises `ValueError`.
fn parse_int_text(s: &str) -> Option<TraitVal<'static>> {
    let t = s.trim_matches(char::is_whitespace);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut digits = String::with_capacity(body.len());
    // An underscore is allowed only between two digits.
    let mut after_underscore = true;
    for c in body.chars() {
        if c == '_' {
            if after_underscore {
                return None;
            }
            after_underscore = true;
            continue;
        }
        digits.push(char::from(b'0' + pyfmt::decimal_digit(c)?));
        after_underscore = false;
    }
    if digits.is_empty() || after_underscore {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(TraitVal::Int(0));
    }
    let text = if neg { format!("-{digits}") } else { digits.to_string() };
    Some(match text.parse::<i64>() {
        Ok(i) => TraitVal::Int(i),
        Err(_) => TraitVal::BigInt(Cow::Owned(text)),
    })
}

/// docs/distillation.md#conversions, int.
fn to_int<'a>(field: &str, v: Scalar<'a>) -> Result<Option<TraitVal<'a>>, String> {
    match v {
        Scalar::Null => Ok(None),
        Scalar::Int(i) => Ok(Some(TraitVal::Int(i))),
        Scalar::BigInt(t) => Ok(Some(TraitVal::BigInt(t))),
        // docs/distillation.md#conversions: Python's int(True) is 1, int(False) is 0.
        Scalar::Bool(b) => Ok(Some(TraitVal::Int(i64::from(b)))),
        // Python's int() of an infinite float raises OverflowError: the record is rejected.
        Scalar::Float(f) if !f.is_finite() => Err(bad_value(field, "a finite number", &v)),
        Scalar::Float(f) => {
            let t = f.trunc();
            if (-crate::event::TWO_POW_63..crate::event::TWO_POW_63).contains(&t) {
                Ok(Some(TraitVal::Int(t as i64)))
            } else {
                Ok(Some(TraitVal::BigInt(Cow::Owned(pyfmt::int_text(t)))))
            }
        }
        Scalar::Str(ref s) if s.is_empty() => Ok(None),
        Scalar::Str(ref s) => match parse_int_text(s) {
            Some(i) => Ok(Some(i)),
            None => Err(bad_value(field, "an integer", &v)),
        },
        _ => Err(bad_value(field, "an integer", &v)),
    }
}

fn datetime_text<'a>(field: &str, v: &Scalar<'a>) -> Result<Option<Timestamp>, String> {
    let s: &str = match v {
        Scalar::Null => return Ok(None),
        Scalar::Str(s) => s,
        Scalar::Object { typed_datetime: Some(s) } => s,
        _ => return Err(bad_value(field, "a datetime", v)),
    };
    if s.is_empty() {
        return Ok(None);
    }
    match parse_datetime(s) {
        Ok(t) => Ok(Some(t)),
        Err(DateTimeError::Syntax) => Err(bad_value(field, "a datetime", v)),
        Err(DateTimeError::OutOfRange) => Err(bad_value(field, "a valid datetime", v)),
    }
}

/// docs/distillation.md#conversions, datetime (strings only in notifications).
fn to_datetime<'a>(field: &str, v: Scalar<'a>) -> Result<Option<TraitVal<'a>>, String> {
    if let Scalar::Object { .. } = v {
        return Err(bad_value(field, "a datetime", &v));
    }
    Ok(datetime_text(field, &v)?.map(TraitVal::DateTime))
}

/// `publisher_id` split on "." (docs/distillation.md#traits-2014): `service` is segment 0, `host` is
/// what follows the first dot.
fn publisher_traits<'a>(o: &Object<'a>, t: &mut Taker<'a>) -> Result<(), String> {
    let Some(v) = o.get("publisher_id") else { return Ok(()) };
    if !t.wants(sym::SERVICE) && !t.wants(sym::HOST) {
        t.any |= Conv::Text.check("publisher_id", v)?;
        return Ok(());
    }
    let Some(TraitVal::Text(text)) = to_text("publisher_id", v.clone())? else { return Ok(()) };
    let (service, host): (Cow<'a, str>, Option<Cow<'a, str>>) = match text {
        Cow::Borrowed(s) => match s.split_once('.') {
            Some((a, b)) => (Cow::Borrowed(a), Some(Cow::Borrowed(b))),
            None => (Cow::Borrowed(s), None),
        },
        Cow::Owned(s) => match s.split_once('.') {
            Some((a, b)) => (Cow::Owned(a.to_string()), Some(Cow::Owned(b.to_string()))),
            None => (Cow::Owned(s), None),
        },
    };
    t.keep(sym::SERVICE, TraitVal::Text(service));
    if let Some(h) = host {
        t.keep(sym::HOST, TraitVal::Text(h));
    }
    Ok(())
}

/// How a field's value becomes a trait's (docs/distillation.md#conversions).
#[derive(Clone, Copy)]
enum Conv {
    Text,
    Int,
    DateTime,
}

impl Conv {
    fn apply<'a>(self, field: &str, v: &Scalar<'a>) -> Result<Option<TraitVal<'a>>, String> {
        match self {
            Conv::Text => to_text(field, v.clone()),
            Conv::Int => to_int(field, v.clone()),
            Conv::DateTime => to_datetime(field, v.clone()),
        }
    }

    /// Whether `v` gives a value, or why it is refused, without making the value.
    fn check(self, field: &str, v: &Scalar) -> Result<bool, String> {
        match (self, v) {
            (Conv::Text, Scalar::Null) => Ok(false),
            (Conv::Text, Scalar::Object { .. } | Scalar::Array) => Err(bad_value(field, "a text value", v)),
            (Conv::Text, _) => Ok(true),
            _ => Ok(self.apply(field, v)?.is_some()),
        }
    }
}

/// One table's traits as they are taken, in the table's order: every value is
/// converted (the first bad one rejects the record), and only the wanted ones are kept.
struct Taker<'a> {
    traits: Traits<'a>,
    /// The names kept, by symbol.
    wanted: u64,
    /// Whether any value, kept or not, gave a trait.
    any: bool,
}

impl<'a> Taker<'a> {
    fn new(wanted: u64, table: usize) -> Taker<'a> {
        Taker { traits: Vec::with_capacity((wanted.count_ones() as usize).min(table)), wanted, any: false }
    }

    fn wants(&self, name: Sym) -> bool {
        name.0 < 64 && self.wanted & (1 << name.0) != 0
    }

    fn keep(&mut self, name: Sym, v: TraitVal<'a>) {
        self.any = true;
        if self.wants(name) {
            self.traits.push((TraitName::Known(name), v));
        }
    }

    /// The trait `name` from `field`'s value, if present.
    fn take(&mut self, name: Sym, field: &str, value: Option<&Scalar<'a>>, conv: Conv) -> Result<(), String> {
        let Some(v) = value else { return Ok(()) };
        if self.wants(name) {
            if let Some(t) = conv.apply(field, v)? {
                self.keep(name, t);
            }
        } else {
            self.any |= conv.check(field, v)?;
        }
        Ok(())
    }

    /// The instance's sizes, alike in both tables.
    fn sizes(&mut self, p: &Payload<'a>) -> Result<(), String> {
        self.take(sym::MEMORY_MB, "payload.memory_mb", p.memory_mb.as_ref(), Conv::Int)?;
        self.take(sym::DISK_GB, "payload.disk_gb", p.disk_gb.as_ref(), Conv::Int)?;
        self.take(sym::ROOT_GB, "payload.root_gb", p.root_gb.as_ref(), Conv::Int)?;
        self.take(sym::EPHEMERAL_GB, "payload.ephemeral_gb", p.ephemeral_gb.as_ref(), Conv::Int)?;
        self.take(sym::VCPUS, "payload.vcpus", p.vcpus.as_ref(), Conv::Int)
    }

    /// The image's operating system, alike in both tables.
    fn image(&mut self, p: &Payload<'a>) -> Result<(), String> {
        self.take(
            sym::OS_ARCHITECTURE,
            "payload.image_meta.org.openstack__1__architecture",
            p.os_architecture.as_ref(),
            Conv::Text,
        )?;
        self.take(
            sym::OS_VERSION,
            "payload.image_meta.org.openstack__1__os_version",
            p.os_version.as_ref(),
            Conv::Text,
        )?;
        self.take(sym::OS_DISTRO, "payload.image_meta.org.openstack__1__os_distro", p.os_distro.as_ref(), Conv::Text)
    }

    /// An `.exists`' audit period, alike in both tables.
    fn period(&mut self, p: &Payload<'a>) -> Result<(), String> {
        let beginning = p.audit_period_beginning.as_ref();
        self.take(sym::AUDIT_PERIOD_BEGINNING, "payload.audit_period_beginning", beginning, Conv::DateTime)?;
        self.take(
            sym::AUDIT_PERIOD_ENDING,
            "payload.audit_period_ending",
            p.audit_period_ending.as_ref(),
            Conv::DateTime,
        )
    }

    fn done(self) -> (Traits<'a>, bool) {
        (self.traits, self.any)
    }
}

/// Distill a notification (docs/distillation.md#envelope), once per rule set.
fn notification<'a>(mut o: Object<'a>, base: &[u8], loc: Loc, sets: Tables<'_>, out: &mut Vec<Outcome<'a>>) {
    let Some(event_type) = o.get("event_type").cloned() else {
        return out.push(reject("no event_type", base, loc));
    };
    let Scalar::Str(event_type) = event_type else {
        return out.push(reject(bad_value("event_type", "a string", &event_type), base, loc));
    };
    let message_id = match o.get("message_id") {
        None | Some(Scalar::Null) => return out.push(reject("no message_id", base, loc)),
        Some(Scalar::Str(s)) => s.clone(),
        Some(v) => return out.push(reject(bad_value("message_id", "a string", v), base, loc)),
    };
    let payload = o.payload.take();
    // docs/distillation.md#envelope: a payload that is no object (null, a string, a list, a
    // number) gives no payload trait, as in the original; the envelope traits are still taken.
    // The timestamp and payload are read at most once, for the first rule set that distils the type.
    let mut head: Option<Result<Timestamp, String>> = None;
    for (side, &set) in sets.sets.iter().enumerate() {
        let loc = Loc { side: side as u8, ..loc };
        // The type is matched before the timestamp is read, as the original
        // distiller did: an uncovered record is never rejected for its timestamp.
        if !set.distills(&event_type) {
            out.push(Outcome::NotDistilled(event_type.clone(), loc));
            continue;
        }
        let read = head.get_or_insert_with(|| envelope_head(&o, &payload));
        let (timestamp, p) = match (read, &payload) {
            (Ok(t), Some(PayloadSlot::Object(p))) => (*t, &**p),
            (Ok(t), Some(PayloadSlot::Other(_))) => (*t, &*NO_FIELDS),
            (Err(e), _) => {
                out.push(reject(e.clone(), base, loc));
                continue;
            }
            (Ok(_), _) => {
                out.push(reject("no payload", base, loc));
                continue;
            }
        };
        let wanted = sets.keep.mask(set, &event_type);
        let traits = match set {
            RuleSet::Y2014 => traits_2014(&o, p, &event_type, wanted),
            RuleSet::Y2015 => traits_2015(&o, p, &event_type, wanted),
        };
        out.push(match traits {
            Ok((_, false)) => reject("no traits could be taken from the notification", base, loc),
            Ok((traits, true)) => Outcome::Event(
                Distilled { event_type: event_type.clone(), message_id: message_id.clone(), timestamp, traits },
                loc,
            ),
            Err(e) => reject(e, base, loc),
        });
    }
}

/// The fields of a payload that is no object: none.
static NO_FIELDS: std::sync::LazyLock<Payload<'static>> = std::sync::LazyLock::new(Payload::default);

/// The notification's timestamp, once its payload is known to be an object.
fn envelope_head<'a>(o: &Object<'a>, payload: &Option<PayloadSlot<'a>>) -> Result<Timestamp, String> {
    let when_field = match o.get("timestamp") {
        Some(Scalar::Null) | None => "_context_timestamp",
        Some(Scalar::Str(s)) if s.is_empty() => "_context_timestamp",
        Some(_) => "timestamp",
    };
    // quincy's typed form belongs to distilled events, not to notifications.
    let timestamp = match o.get(when_field).map(|v| match v {
        Scalar::Object { .. } => Err(bad_value(when_field, "a datetime", v)),
        _ => datetime_text(when_field, v),
    }) {
        Some(Ok(Some(t))) => t,
        Some(Err(e)) => return Err(e),
        _ => return Err("no timestamp".into()),
    };
    match payload {
        Some(PayloadSlot::Object(_)) | Some(PayloadSlot::Other(_)) => Ok(timestamp),
        None => Err("no payload".into()),
    }
}

type Traits<'a> = Vec<(TraitName<'a>, TraitVal<'a>)>;

/// The 2014 trait table (docs/distillation.md#traits-2014): one field per trait.
fn traits_2014<'a>(
    o: &Object<'a>,
    p: &Payload<'a>,
    event_type: &str,
    wanted: u64,
) -> Result<(Traits<'a>, bool), String> {
    let mut t = Taker::new(wanted, 21);
    publisher_traits(o, &mut t)?;
    t.take(sym::TENANT_ID, "payload.tenant_id", p.tenant_id.as_ref(), Conv::Text)?;
    t.take(sym::USER_ID, "payload.user_id", p.user_id.as_ref(), Conv::Text)?;
    t.take(sym::INSTANCE_ID, "payload.instance_id", p.instance_id.as_ref(), Conv::Text)?;
    t.take(sym::REQUEST_ID, "_context_request_id", o.get("_context_request_id"), Conv::Text)?;
    t.sizes(p)?;
    t.take(sym::INSTANCE_TYPE_ID, "payload.instance_type_id", p.instance_type_id.as_ref(), Conv::Int)?;
    t.take(sym::INSTANCE_TYPE, "payload.instance_type", p.instance_type.as_ref(), Conv::Text)?;
    t.take(sym::STATE, "payload.state", p.state.as_ref(), Conv::Text)?;
    t.image(p)?;
    t.take(sym::LAUNCHED_AT, "payload.launched_at", p.launched_at.as_ref(), Conv::DateTime)?;
    t.take(sym::DELETED_AT, "payload.deleted_at", p.deleted_at.as_ref(), Conv::DateTime)?;
    if event_type == "compute.instance.exists" {
        t.period(p)?;
    }
    Ok(t.done())
}

/// docs/distillation.md#traits-2015: a trait with several fields takes the first,
/// in order, whose value is present and not null (a `""` there makes an int or
/// datetime trait absent; the later fields are not consulted).
fn first_present<'a, 'v>(
    fields: [(&'static str, Option<&'v Scalar<'a>>); 4],
) -> (&'static str, Option<&'v Scalar<'a>>) {
    for (name, v) in fields {
        if matches!(v, Some(ref x) if !matches!(x, Scalar::Null)) {
            return (name, v);
        }
    }
    ("", None)
}

/// The 2015 trait table (StackTach v3 production definitions, docs/distillation.md#traits-2015).
fn traits_2015<'a>(
    o: &Object<'a>,
    p: &Payload<'a>,
    event_type: &str,
    wanted: u64,
) -> Result<(Traits<'a>, bool), String> {
    let (tenant_f, tenant) = first_present([
        ("payload.tenant_id", p.tenant_id.as_ref()),
        ("_context_project_id", o.get("_context_project_id")),
        ("", None),
        ("", None),
    ]);
    let (instance_f, instance) = first_present([
        ("payload.instance_uuid", p.instance_uuid.as_ref()),
        ("payload.instance_id", p.instance_id.as_ref()),
        ("exception.kwargs.uuid", o.exception_uuid.as_ref()),
        ("instance.uuid", o.instance_uuid.as_ref()),
    ]);
    let (flavor_f, flavor) = first_present([
        ("payload.instance_type", p.instance_type.as_ref()),
        ("payload.image_meta.instance_type_name", p.image_type_name.as_ref()),
        ("payload.image_meta.instance_type_flavorid", p.image_type_flavorid.as_ref()),
        ("payload.instance_flavor_id", p.instance_flavor_id.as_ref()),
    ]);
    let (flavor_id_f, flavor_id) = first_present([
        ("payload.image_meta.instance_type_flavor_id", p.image_type_flavor_id.as_ref()),
        ("payload.instance_type_id", p.instance_type_id.as_ref()),
        ("", None),
        ("", None),
    ]);
    let (deleted_f, deleted) = first_present([
        ("payload.deleted_at", p.deleted_at.as_ref()),
        ("payload.terminated_at", p.terminated_at.as_ref()),
        ("", None),
        ("", None),
    ]);
    let mut t = Taker::new(wanted, 28);
    publisher_traits(o, &mut t)?;
    t.take(sym::TENANT_ID, tenant_f, tenant, Conv::Text)?;
    t.take(sym::USER_ID, "payload.user_id", p.user_id.as_ref(), Conv::Text)?;
    t.take(sym::REQUEST_ID, "_context_request_id", o.get("_context_request_id"), Conv::Text)?;
    t.take(sym::MESSAGE, "payload.message", p.message.as_ref(), Conv::Text)?;
    t.take(sym::INSTANCE_ID, instance_f, instance, Conv::Text)?;
    t.take(sym::INSTANCE_FLAVOR, flavor_f, flavor, Conv::Text)?;
    t.take(sym::INSTANCE_FLAVOR_ID, flavor_id_f, flavor_id, Conv::Int)?;
    t.sizes(p)?;
    t.take(sym::INSTANCE_TYPE, "payload.instance_type", p.instance_type.as_ref(), Conv::Text)?;
    t.take(sym::STATE, "payload.state", p.state.as_ref(), Conv::Text)?;
    t.take(sym::STATE_DESCRIPTION, "payload.state_description", p.state_description.as_ref(), Conv::Text)?;
    t.take(sym::DISPLAY_NAME, "payload.display_name", p.display_name.as_ref(), Conv::Text)?;
    t.take(sym::BANDWIDTH_IN, "payload.bandwidth.public.bw_in", p.bw_in.as_ref(), Conv::Text)?;
    t.take(sym::BANDWIDTH_OUT, "payload.bandwidth.public.bw_out", p.bw_out.as_ref(), Conv::Text)?;
    t.image(p)?;
    t.take(sym::RAX_OPTIONS, "payload.image_meta.com.rackspace__1__options", p.rax_options.as_ref(), Conv::Text)?;
    t.take(sym::LAUNCHED_AT, "payload.launched_at", p.launched_at.as_ref(), Conv::DateTime)?;
    t.take(sym::DELETED_AT, deleted_f, deleted, Conv::DateTime)?;
    if event_type == "compute.instance.exists" {
        t.period(p)?;
    }
    Ok(t.done())
}

fn known_trait(name: &str) -> Option<Sym> {
    use sym::*;
    Some(match name {
        "tenant_id" => TENANT_ID,
        "user_id" => USER_ID,
        "instance_id" => INSTANCE_ID,
        "request_id" => REQUEST_ID,
        "service" => SERVICE,
        "host" => HOST,
        "memory_mb" => MEMORY_MB,
        "disk_gb" => DISK_GB,
        "root_gb" => ROOT_GB,
        "ephemeral_gb" => EPHEMERAL_GB,
        "vcpus" => VCPUS,
        "instance_type_id" => INSTANCE_TYPE_ID,
        "instance_type" => INSTANCE_TYPE,
        "state" => STATE,
        "os_architecture" => OS_ARCHITECTURE,
        "os_version" => OS_VERSION,
        "os_distro" => OS_DISTRO,
        "launched_at" => LAUNCHED_AT,
        "deleted_at" => DELETED_AT,
        "audit_period_beginning" => AUDIT_PERIOD_BEGINNING,
        "audit_period_ending" => AUDIT_PERIOD_ENDING,
        _ => return None,
    })
}

/// Take a distilled event as given (docs/distillation.md#distilled-input).
fn distilled_event<'a>(o: Object<'a>, base: &'a [u8], loc: Loc) -> Outcome<'a> {
    let event_type = match o.get("event_type") {
        None | Some(Scalar::Null) => {
            return reject(
                "unknown record shape: no event_type (expected a notification, oslo envelope, STv2 pair, distilled event or stream dump)",
                base,
                loc,
            )
        }
        Some(Scalar::Str(s)) => s.clone(),
        Some(v) => return reject(bad_value("event_type", "a string", v), base, loc),
    };
    let message_id = match o.get("message_id") {
        None | Some(Scalar::Null) => return reject("no message_id", base, loc),
        Some(Scalar::Str(s)) => s.clone(),
        Some(v) => return reject(bad_value("message_id", "a string", v), base, loc),
    };
    let timestamp = match o.get("timestamp").map(|v| datetime_text("timestamp", v)) {
        Some(Ok(Some(t))) => t,
        Some(Err(e)) => return reject(e, base, loc),
        _ => return reject("no timestamp", base, loc),
    };
    let mut traits: Vec<(TraitName<'a>, TraitVal<'a>)> = Vec::with_capacity(o.fields.len());
    for (i, (k, v)) in o.fields.iter().enumerate() {
        if matches!(&**k, "event_type" | "message_id" | "timestamp") {
            continue;
        }
        // Python's json keeps the last of repeated keys.
        if o.fields[i + 1..].iter().any(|(k2, _)| k2 == k) {
            continue;
        }
        let name = match known_trait(k) {
            Some(s) => TraitName::Known(s),
            None => TraitName::Other(k.clone()),
        };
        let events;
        let v = match (&**k, o.events) {
            // `fields` only marks where `events` was; its value is kept raw.
            ("events", Some(raw)) => {
                events = serde_json::from_str::<Scalar<'a>>(raw.get()).unwrap_or(Scalar::Array);
                &events
            }
            _ => v,
        };
        let is_dt = matches!(name, TraitName::Known(s) if crate::event::DATETIME_TRAITS.contains(&s));
        let value = if is_dt {
            match datetime_text(k, v) {
                Ok(Some(t)) => TraitVal::DateTime(t),
                Ok(None) => continue,
                Err(e) => return reject(e, base, loc),
            }
        } else {
            match v {
                Scalar::Null => continue,
                Scalar::Str(s) => TraitVal::Text(s.clone()),
                Scalar::Int(i) => TraitVal::Int(*i),
                Scalar::Float(f) => TraitVal::Float(*f),
                Scalar::Object { typed_datetime: Some(_) } => match datetime_text(k, v) {
                    Ok(Some(t)) => TraitVal::DateTime(t),
                    Ok(None) => continue,
                    Err(e) => return reject(e, base, loc),
                },
                Scalar::BigInt(t) => TraitVal::BigInt(t.clone()),
                Scalar::Bool(_) => return reject(format!("{k}: a boolean is not a trait value"), base, loc),
                Scalar::Object { .. } => return reject(format!("{k}: an object is not a trait value"), base, loc),
                Scalar::Array => return reject(format!("{k}: an array is not a trait value"), base, loc),
            }
        };
        traits.push((name, value));
    }
    if traits.is_empty() {
        return reject("no traits (an event needs at least one)", base, loc);
    }
    Outcome::Event(Distilled { event_type, message_id, timestamp, traits }, loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Outcome<'static> {
        let mut out = Vec::new();
        distill_text(text.as_bytes(), Unit::Line, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        out.pop().unwrap().into_owned()
    }

    fn notif(payload: &str) -> String {
        format!(
            r#"{{"event_type":"compute.instance.create.end","message_id":"m1","timestamp":"2014-10-06 00:14:19.202884","publisher_id":"compute.host-1.example.com","_context_request_id":"req-1","payload":{payload}}}"#
        )
    }

    fn traits(o: &Outcome) -> Vec<(String, String)> {
        let Outcome::Event(d, _) = o else { panic!("not an event: {o:?}") };
        d.traits
            .iter()
            .map(|(n, v)| {
                let n = match n {
                    TraitName::Known(s) => crate::event::Symbols::new().get(*s).to_string(),
                    TraitName::Other(c) => c.to_string(),
                };
                let v = match v {
                    TraitVal::Text(s) => format!("text:{s}"),
                    TraitVal::Int(i) => format!("int:{i}"),
                    TraitVal::BigInt(t) => format!("int:{t}"),
                    TraitVal::Float(f) => format!("float:{}", pyfmt::float_repr(*f)),
                    TraitVal::DateTime(t) => format!("dt:{}", t.iso()),
                };
                (n, v)
            })
            .collect()
    }

    fn get(o: &Outcome, name: &str) -> Option<String> {
        traits(o).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn reason<'a>(o: &'a Outcome) -> &'a str {
        match o {
            Outcome::Rejected { reason, .. } => reason,
            _ => panic!("not rejected: {o:?}"),
        }
    }

    /// What an audit's load makes of one record under each rule set (only the traits it keeps).
    fn audited(text: &str) -> Vec<Outcome<'static>> {
        let mut out = Vec::new();
        let tables = Tables { sets: &[RuleSet::Y2014, RuleSet::Y2015], keep: Keep::Audit };
        distill_text_for(text.as_bytes(), Unit::Line, tables, &mut out);
        out.into_iter().map(Outcome::into_owned).collect()
    }

    /// docs/distillation.md#conversions: a trait the audit does not keep is not made, but its
    /// value is still converted, so a record is rejected for it exactly as when every trait is kept.
    #[test]
    fn an_audit_converts_every_value_and_keeps_only_what_it_reads() {
        let o = audited(&notif(
            r#"{"instance_id":"i","memory_mb":"7","display_name":"web","launched_at":"2014-10-01 00:00:00"}"#,
        ));
        assert_eq!(o.len(), 2);
        for side in &o {
            assert_eq!(get(side, "memory_mb"), None, "not read by the checks");
            assert_eq!(get(side, "request_id"), None);
            assert_eq!(get(side, "instance_id").as_deref(), Some("text:i"));
        }
        // 2014 compares `create.end` with the `.exists`; 2015 compares only the last `*.end` of a block's operations.
        assert_eq!(get(&o[0], "launched_at").as_deref(), Some("dt:2014-10-01T00:00:00.000000Z"));
        assert_eq!(get(&o[1], "launched_at"), None);
        // A bad value in a trait nobody reads still rejects the record, with the same reason, on each side.
        let bad = notif(r#"{"instance_id":"i","memory_mb":"lots","vcpus":{"n":1}}"#);
        let all = one(&bad);
        for side in audited(&bad) {
            assert_eq!(reason(&side), reason(&all));
            assert_eq!(reason(&side), "payload.memory_mb: not an integer: \"lots\"");
        }
        // 2015 keeps `display_name` when every trait is kept, and never reads it.
        let bad_text = notif(r#"{"instance_id":"i","display_name":["a"]}"#);
        let mut every = Vec::new();
        distill_text_with(bad_text.as_bytes(), Unit::Line, &[RuleSet::Y2014, RuleSet::Y2015], &mut every);
        assert_eq!(reason(&every[1]), "payload.display_name: not a text value: an array");
        assert_eq!(reason(&audited(&bad_text)[1]), reason(&every[1]));
        // Traits that are not kept still count: a record with only those is an event, not "no traits".
        let unread = r#"{"event_type":"compute.instance.create.end","message_id":"m1","timestamp":"2014-10-06 00:14:19","publisher_id":"compute.h","payload":{"memory_mb":512}}"#;
        for side in audited(unread) {
            assert!(matches!(side, Outcome::Event(..)), "{side:?}");
            assert!(traits(&side).is_empty());
        }
        let nothing = r#"{"event_type":"compute.instance.create.end","message_id":"m1","timestamp":"2014-10-06 00:14:19","payload":{"memory_mb":null}}"#;
        for side in audited(nothing) {
            assert_eq!(reason(&side), "no traits could be taken from the notification");
        }
    }

    #[test]
    fn text_conversions() {
        let o = one(&notif(r#"{"instance_id":"i","tenant_id":7,"user_id":7.0,"state":true,"instance_type":false}"#));
        assert_eq!(get(&o, "tenant_id").as_deref(), Some("text:7"));
        assert_eq!(get(&o, "user_id").as_deref(), Some("text:7.0"));
        assert_eq!(get(&o, "state").as_deref(), Some("text:True"));
        assert_eq!(get(&o, "instance_type").as_deref(), Some("text:False"));
        let o = one(&notif(r#"{"instance_id":"i","tenant_id":1e16,"user_id":0.1,"state":""}"#));
        assert_eq!(get(&o, "tenant_id").as_deref(), Some("text:1e+16"));
        assert_eq!(get(&o, "user_id").as_deref(), Some("text:0.1"));
        assert_eq!(get(&o, "state").as_deref(), Some("text:"), "\"\" stays the empty text");
        let o = one(&notif(r#"{"instance_id":"i","tenant_id":{"a":1}}"#));
        assert_eq!(reason(&o), "payload.tenant_id: not a text value: an object");
    }

    #[test]
    fn floats_are_read_exactly() {
        // Each literal must come back as the nearest double, printed as Python's repr does.
        for (lit, want) in [
            ("3.9999999999999996", "3.9999999999999996"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("2.2250738585072014e-308", "2.2250738585072014e-308"),
            ("9007199254740993.0", "9007199254740992.0"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("123456789.12345679", "123456789.12345679"),
        ] {
            let o = one(&notif(&format!(r#"{{"instance_id":"i","tenant_id":{lit}}}"#)));
            assert_eq!(get(&o, "tenant_id"), Some(format!("text:{want}")), "{lit}");
        }
    }

    #[test]
    fn int_conversions() {
        let o = one(&notif(
            r#"{"instance_id":"i","memory_mb":"7","disk_gb":" -3 ","root_gb":7.9,"vcpus":-2.5,"ephemeral_gb":"","instance_type_id":"+4"}"#,
        ));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:7"));
        assert_eq!(get(&o, "disk_gb").as_deref(), Some("int:-3"));
        assert_eq!(get(&o, "root_gb").as_deref(), Some("int:7"));
        assert_eq!(get(&o, "vcpus").as_deref(), Some("int:-2"));
        assert_eq!(get(&o, "ephemeral_gb"), None, "\"\" is absent for ints");
        assert_eq!(get(&o, "instance_type_id").as_deref(), Some("int:4"));
        let o = one(&notif(r#"{"instance_id":"i","instance_type_id":"performance1-4"}"#));
        assert_eq!(reason(&o), "payload.instance_type_id: not an integer: \"performance1-4\"");
        let o = one(&notif(r#"{"instance_id":"i","instance_type_id":"7.5"}"#));
        assert_eq!(reason(&o), "payload.instance_type_id: not an integer: \"7.5\"");
        // Python's int(True) is 1 and int(False) is 0.
        let o = one(&notif(r#"{"instance_id":"i","vcpus":true,"memory_mb":false}"#));
        assert_eq!(get(&o, "vcpus").as_deref(), Some("int:1"));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:0"));
    }

    #[test]
    fn numbers_read_as_python_read_them() {
        // An integer beyond 64 bits stays exact, as text and as an int trait.
        let o =
            one(&notif(r#"{"instance_id":"i","tenant_id":100000000000000000000,"memory_mb":-100000000000000000000}"#));
        assert_eq!(get(&o, "tenant_id").as_deref(), Some("text:100000000000000000000"));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:-100000000000000000000"));
        // `-0` is the integer 0 (text `0`), `-0.0` the float.
        let o = one(&notif(r#"{"instance_id":"i","tenant_id":-0,"user_id":-0.0,"memory_mb":-0,"vcpus":-0.0}"#));
        assert_eq!(get(&o, "tenant_id").as_deref(), Some("text:0"));
        assert_eq!(get(&o, "user_id").as_deref(), Some("text:-0.0"));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:0"));
        assert_eq!(get(&o, "vcpus").as_deref(), Some("int:0"));
        // A float beyond the double range is infinity; it has no integer value.
        let o = one(&notif(r#"{"instance_id":"i","tenant_id":1e400,"user_id":-1E400,"state":1e-400}"#));
        assert_eq!(get(&o, "tenant_id").as_deref(), Some("text:inf"));
        assert_eq!(get(&o, "user_id").as_deref(), Some("text:-inf"));
        assert_eq!(get(&o, "state").as_deref(), Some("text:0.0"));
        let o = one(&notif(r#"{"instance_id":"i","memory_mb":1e400}"#));
        assert_eq!(reason(&o), "payload.memory_mb: not a finite number: inf");
        // A float beyond 64 bits truncates to its exact integer, as Python's int() does.
        let o = one(&notif(r#"{"instance_id":"i","root_gb":1e20,"disk_gb":-1.5e19}"#));
        assert_eq!(get(&o, "root_gb").as_deref(), Some("int:100000000000000000000"));
        assert_eq!(get(&o, "disk_gb").as_deref(), Some("int:-15000000000000000000"));
        // Everywhere in the record, not only in the payload.
        let t = notif(r#"{"instance_id":"i"}"#)
            .replace("\"_context_request_id\":\"req-1\"", "\"_context_request_id\":18446744073709551616");
        assert_eq!(get(&one(&t), "request_id").as_deref(), Some("text:18446744073709551616"));
    }

    #[test]
    fn int_text_as_python_int_reads_it() {
        // Each expectation is Python 3's int(s).
        for (s, want) in [
            ("\u{662}", "int:2"),
            (" \u{662}_3 ", "int:23"),
            ("\u{3000} 7\u{a0}", "int:7"),
            ("1_000", "int:1000"),
            ("-0", "int:0"),
            ("007", "int:7"),
            ("-\u{663}", "int:-3"),
            ("+\u{ff19}", "int:9"),
            ("99999999999999999999", "int:99999999999999999999"),
            ("-0009223372036854775808", "int:-9223372036854775808"),
            ("\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}\u{669}\u{660}\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}\u{669}\u{660}", "int:12345678901234567890"),
        ] {
            let o = one(&notif(&format!(r#"{{"instance_id":"i","memory_mb":{}}}"#, serde_json::to_string(s).unwrap())));
            assert_eq!(get(&o, "memory_mb").as_deref(), Some(want), "int({s:?})");
        }
        // Each of these makes Python's int() raise ValueError.
        for s in ["_1", "1_", "1__0", "1 0", "\u{1c}5", "\u{b2}", "- 1", "+", "\u{663}.5", "0x10", "\u{200b}1", " "] {
            let o = one(&notif(&format!(r#"{{"instance_id":"i","memory_mb":{}}}"#, serde_json::to_string(s).unwrap())));
            assert!(reason(&o).starts_with("payload.memory_mb: not an integer: "), "int({s:?}): {o:?}");
        }
    }

    #[test]
    fn a_number_that_is_no_record_is_named_as_written() {
        for (line, what) in [("100000000000000000000", "100000000000000000000"), ("-0", "0"), ("1e400", "inf")] {
            let o = one(line);
            assert_eq!(
                reason(&o),
                format!("not a record: {what} (expected a notification, oslo envelope, STv2 pair, distilled event or stream dump)")
            );
        }
    }

    #[test]
    fn an_infinite_payload_or_image_meta_is_no_object() {
        // Python's json reads 1e400 as inf: a payload that is no object (the envelope's traits
        // only), an image_meta that is no object (none of its traits).
        let o = one(&notif("1e400"));
        assert_eq!(get(&o, "request_id").as_deref(), Some("text:req-1"));
        assert_eq!(get(&o, "instance_id"), None);
        let o = one(&notif(r#"{"instance_id":"i","image_meta":-1e400,"memory_mb":100000000000000000000}"#));
        assert_eq!(get(&o, "instance_id").as_deref(), Some("text:i"));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:100000000000000000000"));
        assert_eq!(get(&o, "os_distro"), None);
    }

    #[test]
    fn distilled_input_keeps_big_integers() {
        let o = one(
            r#"{"event_type":"compute.instance.exists","message_id":"m","timestamp":"2014-10-06","instance_id":"i","memory_mb":100000000000000000000,"x":-0}"#,
        );
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("int:100000000000000000000"));
        assert_eq!(get(&o, "x").as_deref(), Some("int:0"));
    }

    #[test]
    fn datetime_conversions() {
        let o = one(&notif(r#"{"instance_id":"i","launched_at":"2014-10-06T02:00:00+02:00","deleted_at":""}"#));
        assert_eq!(get(&o, "launched_at").as_deref(), Some("dt:2014-10-06T00:00:00.000000Z"));
        assert_eq!(get(&o, "deleted_at"), None);
        let o = one(&notif(r#"{"instance_id":"i","launched_at":"yesterday"}"#));
        assert_eq!(reason(&o), "payload.launched_at: not a datetime: \"yesterday\"");
    }

    #[test]
    fn audit_period_only_on_exists() {
        let o = one(&notif(r#"{"instance_id":"i","audit_period_beginning":"2014-10-06"}"#));
        assert_eq!(get(&o, "audit_period_beginning"), None);
        let t = notif(r#"{"instance_id":"i","audit_period_beginning":"2014-10-06"}"#).replace("create.end", "exists");
        assert_eq!(get(&one(&t), "audit_period_beginning").as_deref(), Some("dt:2014-10-06T00:00:00.000000Z"));
    }

    #[test]
    fn publisher_split() {
        let o = one(&notif(r#"{"instance_id":"i"}"#));
        assert_eq!(get(&o, "service").as_deref(), Some("text:compute"));
        assert_eq!(get(&o, "host").as_deref(), Some("text:host-1.example.com"));
        let t = notif(r#"{"instance_id":"i"}"#).replace("compute.host-1.example.com", "scheduler");
        let o = one(&t);
        assert_eq!(get(&o, "service").as_deref(), Some("text:scheduler"));
        assert_eq!(get(&o, "host"), None);
    }

    #[test]
    fn envelope_and_timestamp_rules() {
        let t = r#"{"event_type":"compute.instance.update","message_id":"m","_context_timestamp":"2014-10-06T00:00:01","payload":{"instance_id":"i"}}"#;
        let Outcome::Event(d, _) = one(t) else { panic!() };
        assert_eq!(d.timestamp.iso(), "2014-10-06T00:00:01.000000Z");
        let t = r#"{"event_type":"compute.instance.update","message_id":"m","payload":{"instance_id":"i"}}"#;
        assert_eq!(reason(&one(t)), "no timestamp");
        let t = r#"{"event_type":"compute.instance.update","timestamp":"2014-10-06","payload":{"instance_id":"i"}}"#;
        assert_eq!(reason(&one(t)), "no message_id");
        let t =
            r#"{"event_type":"scheduler.run_instance.start","message_id":"m","timestamp":"2014-10-06","payload":{}}"#;
        assert!(matches!(one(t), Outcome::NotDistilled(ref s, _) if s == "scheduler.run_instance.start"));
        // The type is matched first: an uncovered type is not distilled whatever its timestamp.
        for ts in [r#""#, r#","timestamp":"soon""#, r#","timestamp":7"#] {
            let t = format!(r#"{{"event_type":"image.upload","message_id":"m"{ts},"payload":{{}}}}"#);
            assert!(matches!(one(&t), Outcome::NotDistilled(ref s, _) if s == "image.upload"), "{t}");
        }
        // quincy's typed datetime is a distilled-event form; a notification's timestamp must be text.
        let t = r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":{"__type__":"datetime","datetime":"2014-10-06"},"payload":{"instance_id":"i"}}"#;
        assert_eq!(reason(&one(t)), "timestamp: not a datetime: an object");
        let t =
            r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-06","payload":{"x":1}}"#;
        assert_eq!(reason(&one(t)), "no traits could be taken from the notification");
    }

    #[test]
    fn record_shapes() {
        let inner = r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-06","payload":{"instance_id":"i"}}"#;
        let env = format!(r#"{{"oslo.version":"2.0","oslo.message":{}}}"#, serde_json::to_string(inner).unwrap());
        assert!(matches!(one(&env), Outcome::Event(_, l) if l.kind == RecordKind::OsloEnvelope));
        let pair = format!(r#"["monitor.info",{inner}]"#);
        assert!(matches!(one(&pair), Outcome::Event(_, l) if l.kind == RecordKind::Stv2Pair));
        let pair_env = format!(r#"["monitor.info",{env}]"#);
        assert!(matches!(one(&pair_env), Outcome::Event(_, l) if l.kind == RecordKind::Stv2Pair));
        let dump = r#"{"id":3,"state":"completed","distinguishing_traits":{},"events":[{"event_type":"compute.instance.update","message_id":"a","timestamp":{"__type__":"datetime","datetime":"2014-10-07T12:00:00"},"instance_id":"i"},{"event_type":"x"}]}"#;
        let mut out = Vec::new();
        distill_text(dump.as_bytes(), Unit::Line, &mut out);
        assert_eq!(out.len(), 2);
        assert!(
            matches!(&out[0], Outcome::Event(d, l) if l.kind == RecordKind::StreamDump && l.index == Some(0) && d.timestamp.iso() == "2014-10-07T12:00:00.000000Z")
        );
        assert!(
            matches!(&out[1], Outcome::Rejected { reason, loc, .. } if reason == "no message_id" && loc.index == Some(1))
        );
        // On a line, an array is one record: a pair, or rejected whole.
        for bad in
            [format!("[5,{inner}]"), format!(r#"["k",{inner},{inner}]"#), r#"["k","x"]"#.to_string(), "[]".into()]
        {
            assert_eq!(
                reason(&one(&bad)),
                "not a record: an array on a line must be an STv2 pair [routing_key, notification]",
                "{bad}"
            );
        }
        // A whole file that is an array holds records.
        let mut out = Vec::new();
        let doc = format!("[{inner},\n{pair}]");
        distill_text(doc.as_bytes(), Unit::Document, &mut out);
        assert!(
            matches!(&out[..], [Outcome::Event(..), Outcome::Event(_, l)] if l.kind == RecordKind::Stv2Pair && l.index == Some(1))
        );
        assert!(reason(&one("42")).starts_with("not a record: 42"));
        assert!(reason(&one(r#"{"foo":1}"#)).starts_with("unknown record shape"));
    }

    #[test]
    fn distilled_values() {
        let o = one(
            r#"{"event_type":"compute.instance.exists","message_id":"m","timestamp":"2014-10-07 00:00:01","instance_id":"i","instance_type_id":"7","memory_mb":7.0,"tenant_id":null,"launched_at":"","custom":3}"#,
        );
        assert_eq!(get(&o, "instance_type_id").as_deref(), Some("text:7"));
        assert_eq!(get(&o, "memory_mb").as_deref(), Some("float:7.0"));
        assert_eq!(get(&o, "tenant_id"), None);
        assert_eq!(get(&o, "launched_at"), None);
        assert_eq!(get(&o, "custom").as_deref(), Some("int:3"));
        let o =
            one(r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-07","vcpus":true}"#);
        assert_eq!(reason(&o), "vcpus: a boolean is not a trait value");
        let o = one(
            r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-07","os_distro":["a"]}"#,
        );
        assert_eq!(reason(&o), "os_distro: an array is not a trait value");
        // `events` is a trait like any other when the record is an event, in its place.
        let o = one(
            r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-07","events":"3","instance_id":"i"}"#,
        );
        assert_eq!(traits(&o), [("events".to_string(), "text:3".to_string()), ("instance_id".into(), "text:i".into())]);
        let o =
            one(r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-07","events":[]}"#);
        assert_eq!(reason(&o), "events: an array is not a trait value");
        // A null event_type beside an events array is a stream dump.
        let mut out = Vec::new();
        let dump = r#"{"event_type":null,"events":[{"event_type":"compute.instance.update","message_id":"a","timestamp":"2014-10-07","instance_id":"i"}]}"#;
        distill_text(dump.as_bytes(), Unit::Line, &mut out);
        assert!(matches!(&out[..], [Outcome::Event(_, l)] if l.kind == RecordKind::StreamDump));
        // A dump holds distilled events: a notification in one is rejected.
        let mut out = Vec::new();
        let dump = r#"{"id":1,"events":[{"event_type":"compute.instance.update","message_id":"a","timestamp":"2014-10-07","payload":{"instance_id":"i"}}]}"#;
        distill_text(dump.as_bytes(), Unit::Line, &mut out);
        assert_eq!(
            reason(&out[0]),
            "stream dump: an event must be a distilled event, not a notification (it has a payload)"
        );
    }

    #[test]
    fn excerpts_are_cut_at_200_bytes() {
        let long = format!("{{\"x\": \"{}\"", "é".repeat(300));
        let e = excerpt(long.as_bytes());
        assert!(e.len() <= 200 && e.starts_with("{\"x\": \"é"));
    }

    /// Both rule sets' outcomes of one record, from one parse, in the order asked.
    fn both(text: &str) -> Vec<Outcome<'static>> {
        let mut out = Vec::new();
        distill_text_with(text.as_bytes(), Unit::Line, &RuleSet::ALL, &mut out);
        assert!(out.iter().enumerate().all(|(i, o)| o.loc().side as usize == i), "{out:?}");
        out.into_iter().map(Outcome::into_owned).collect()
    }

    fn delete_end(payload: &str) -> String {
        notif(payload).replace("compute.instance.create.end", "compute.instance.delete.end")
    }

    #[test]
    fn one_parse_gives_each_rule_set_its_own_traits() {
        let o = both(&delete_end(
            r#"{"instance_id":"i","instance_uuid":"u","tenant_id":null,"instance_type_id":3,"deleted_at":"","terminated_at":"2014-10-06 10:00:00"}"#,
        ));
        assert_eq!(o.len(), 2);
        assert_eq!(get(&o[0], "instance_id").as_deref(), Some("text:i"));
        assert_eq!(get(&o[1], "instance_id").as_deref(), Some("text:u"), "instance_uuid comes first");
        assert_eq!(get(&o[0], "instance_type_id").as_deref(), Some("int:3"));
        assert_eq!(get(&o[1], "instance_flavor_id").as_deref(), Some("int:3"));
        // The first field present is "": no deleted_at, and terminated_at is not consulted.
        assert_eq!(get(&o[1], "deleted_at"), None);
    }

    #[test]
    fn a_null_field_gives_way_to_the_next_one() {
        let o = both(&delete_end(r#"{"instance_id":null,"deleted_at":null,"terminated_at":"2014-10-06 10:00:00"}"#));
        assert_eq!(get(&o[1], "deleted_at").as_deref(), Some("dt:2014-10-06T10:00:00.000000Z"));
        assert_eq!(get(&o[1], "instance_id"), None);
        let text = r#"{"event_type":"compute.instance.update","message_id":"m","timestamp":"2014-10-06 10:00:00","_context_project_id":"p9","exception":{"kwargs":{"uuid":"x1"}},"instance":{"uuid":"x2"},"payload":{"image_meta":{"instance_type_flavor_id":"5","com.rackspace__1__options":4},"instance_type_id":3,"bandwidth":{"public":{"bw_in":12,"bw_out":null}}}}"#;
        let o = both(text);
        assert_eq!(get(&o[1], "tenant_id").as_deref(), Some("text:p9"));
        assert_eq!(get(&o[1], "instance_id").as_deref(), Some("text:x1"));
        assert_eq!(get(&o[1], "instance_flavor_id").as_deref(), Some("int:5"));
        assert_eq!(get(&o[1], "rax_options").as_deref(), Some("text:4"));
        assert_eq!(get(&o[1], "bandwidth_in").as_deref(), Some("text:12"));
        assert_eq!(get(&o[1], "bandwidth_out"), None);
        assert_eq!(get(&o[0], "tenant_id"), None, "2014 reads payload.tenant_id only");
    }

    #[test]
    fn each_rule_set_distils_its_own_types_and_rejects_for_itself() {
        let text = r#"{"event_type":"snapshot_instance","message_id":"m","timestamp":"2014-10-06 10:00:00","payload":{"instance_id":"i"}}"#;
        let o = both(text);
        assert!(matches!(&o[0], Outcome::NotDistilled(t, _) if t == "snapshot_instance"));
        assert!(matches!(&o[1], Outcome::Event(..)));
        let o = both(&notif(r#"{"instance_id":"i","image_meta":{"instance_type_flavor_id":"large"}}"#));
        assert!(matches!(&o[0], Outcome::Event(..)));
        assert_eq!(reason(&o[1]), r#"payload.image_meta.instance_type_flavor_id: not an integer: "large""#);
        // A record that is no JSON is rejected for both.
        let o = both("{nope");
        assert_eq!(reason(&o[0]), reason(&o[1]));
    }
}
