//! Events and their traits (docs/distillation.md#events): the flat records that notifications are
//! distilled into, and the Python value semantics the checks compare them with.
//!
//! Strings that repeat across an archive (event types, trait names, tenants,
//! instance ids, hosts …) are interned once in [`Symbols`]; an [`Event`] holds
//! only small copyable [`Value`]s.

use crate::pyfmt;
use crate::time::Timestamp;
use std::fmt;

pub use crate::symbols::{sym, Sym, Symbols, TABLE_TRAITS};

/// Trait names whose values are datetimes wherever they appear (docs/distillation.md#distilled-input).
pub const DATETIME_TRAITS: [Sym; 4] =
    [sym::LAUNCHED_AT, sym::DELETED_AT, sym::AUDIT_PERIOD_BEGINNING, sym::AUDIT_PERIOD_ENDING];

/// A trait value: text, integer, float or datetime (docs/distillation.md#events). A trait that has
/// no value is absent from the event, never null.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    Text(Sym),
    Int(i64),
    /// An integer beyond 64 bits (docs/inputs.md#number-reading): its decimal text, and the
    /// float equal to it if one is exactly (NaN if none), so that it compares with floats
    /// exactly as Python's ints do. Never used for an integer that fits in an `i64`.
    BigInt {
        text: Sym,
        as_float: f64,
    },
    Float(f64),
    DateTime(Timestamp),
}

impl Value {
    /// Python's `==` between two trait values: `7 == 7.0`, `7 != "7"`, datetimes
    /// by instant, text by content (interned, so by symbol).
    pub fn py_eq(&self, other: &Value) -> bool {
        match (*self, *other) {
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => int_eq_float(i, f),
            (Value::BigInt { text: a, .. }, Value::BigInt { text: b, .. }) => a == b,
            (Value::BigInt { as_float, .. }, Value::Float(f)) | (Value::Float(f), Value::BigInt { as_float, .. }) => {
                as_float == f
            }
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            _ => false,
        }
    }

    /// Python's `str(value)`, as the U2 messages print it (docs/checks.md#usage-checks).
    pub fn py_str(&self, symbols: &Symbols) -> String {
        match *self {
            Value::Text(s) => symbols.get(s).to_string(),
            Value::Int(i) => i.to_string(),
            Value::BigInt { text, .. } => symbols.get(text).to_string(),
            Value::Float(f) => pyfmt::float_repr(f),
            Value::DateTime(t) => t.python_str(),
        }
    }

    /// The value written as JSON in the `events` shape (docs/distillation.md#distilled-input, docs/outputs.md#events).
    pub fn push_json(&self, symbols: &Symbols, out: &mut String) {
        match *self {
            Value::Text(s) => pyfmt::push_json_str(out, symbols.get(s)),
            Value::Int(i) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
            Value::BigInt { text, .. } => out.push_str(symbols.get(text)),
            Value::Float(f) => out.push_str(&pyfmt::float_json(f)),
            Value::DateTime(t) => {
                out.push('"');
                t.write_iso(out);
                out.push('"');
            }
        }
    }

    /// A short human rendering for the UI: datetimes with an explicit `Z`.
    pub fn display(&self, symbols: &Symbols) -> String {
        match *self {
            Value::DateTime(t) => t.iso(),
            _ => self.py_str(symbols),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Int(_) | Value::BigInt { .. } => "int",
            Value::Float(_) => "float",
            Value::DateTime(_) => "datetime",
        }
    }

    pub fn as_datetime(&self) -> Option<Timestamp> {
        match *self {
            Value::DateTime(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_text(&self) -> Option<Sym> {
        match *self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Value {
    /// The same kind and the same bits: not Python's `==` (for which `7 == 7.0`).
    pub fn identical(self, other: Value) -> bool {
        match (self, other) {
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::BigInt { text: a, as_float: x }, Value::BigInt { text: b, as_float: y }) => {
                a == b && x.to_bits() == y.to_bits()
            }
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for Value {
    /// Python's `==` (see [`Value::py_eq`]).
    fn eq(&self, other: &Value) -> bool {
        self.py_eq(other)
    }
}

/// 2^63, exactly representable: floats in `-2^63..2^63` convert to i64 without loss.
pub const TWO_POW_63: f64 = (1u64 << 63) as f64;

/// Python compares an int and a float exactly, not through a lossy conversion.
fn int_eq_float(i: i64, f: f64) -> bool {
    if !f.is_finite() || f.fract() != 0.0 {
        return false;
    }
    if !(-TWO_POW_63..TWO_POW_63).contains(&f) {
        return false;
    }
    f as i64 == i
}

/// A value usable as a hash key with Python's equality (`7` and `7.0` are one key).
/// Its order only groups equal keys together; it means nothing else.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum ValueKey {
    Text(Sym),
    Int(i64),
    FloatBits(u64),
    /// An integer beyond 64 bits that no float equals.
    BigInt(Sym),
    DateTime(Timestamp),
}

impl From<Value> for ValueKey {
    fn from(v: Value) -> Self {
        match v {
            Value::Text(s) => ValueKey::Text(s),
            Value::Int(i) => ValueKey::Int(i),
            // Equal to a float: the float's key, as `10**20` and `1e20` are one key in Python.
            Value::BigInt { text, as_float } if as_float.is_nan() => ValueKey::BigInt(text),
            Value::BigInt { as_float, .. } => ValueKey::FloatBits(as_float.to_bits()),
            Value::Float(f) => {
                if f.is_finite() && f.fract() == 0.0 && int_eq_float(f as i64, f) {
                    ValueKey::Int(f as i64)
                } else if f == 0.0 {
                    ValueKey::Int(0)
                } else {
                    ValueKey::FloatBits(f.to_bits())
                }
            }
            Value::DateTime(t) => ValueKey::DateTime(t),
        }
    }
}

/// One named trait of an event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trait {
    pub name: Sym,
    pub value: Value,
}

/// What kind of record an event was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Notification,
    OsloEnvelope,
    Stv2Pair,
    Distilled,
    StreamDump,
}

impl RecordKind {
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Notification => "notification",
            RecordKind::OsloEnvelope => "oslo envelope",
            RecordKind::Stv2Pair => "STv2 pair",
            RecordKind::Distilled => "distilled event",
            RecordKind::StreamDump => "stream dump",
        }
    }

    /// Whether the record held a raw notification (which the UI can show).
    pub fn is_notification(self) -> bool {
        matches!(self, RecordKind::Notification | RecordKind::OsloEnvelope | RecordKind::Stv2Pair)
    }
}

/// Where an event came from, so the original record can be read again later
/// instead of holding every raw payload in memory.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    /// Index into the archive's sources.
    pub source: u32,
    /// 1-based line of the record's first byte.
    pub line: u32,
    /// Byte offset of the record in the (decompressed) source.
    pub offset: u64,
    /// Length of the record in bytes.
    pub len: u32,
    /// Position within an array file or a stream dump's `events`, if any.
    pub index: Option<u32>,
    pub kind: RecordKind,
}

/// A message id: a canonical UUID (lowercase, hyphenated) held as its 16
/// bytes, or any other text interned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MessageId {
    Uuid([u8; 16]),
    Text(Sym),
}

impl MessageId {
    /// The 16 bytes of `s` if it is a UUID written exactly as `Uuid::to_string` writes one.
    pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
        let b = s.as_bytes();
        if b.len() != 36 {
            return None;
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < 36 {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b[i] != b'-' {
                    return None;
                }
                i += 1;
                continue;
            }
            let hex = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            out[n] = (hex(b[i])? << 4) | hex(b[i + 1])?;
            n += 1;
            i += 2;
        }
        Some(out)
    }

    /// The id as it was written.
    pub fn text(self, symbols: &Symbols) -> std::borrow::Cow<'_, str> {
        match self {
            MessageId::Uuid(b) => std::borrow::Cow::Owned(uuid::Uuid::from_bytes(b).hyphenated().to_string()),
            MessageId::Text(s) => std::borrow::Cow::Borrowed(symbols.get(s)),
        }
    }
}

/// Value kinds as packed in [`Traits`].
const KIND_TEXT: u64 = 0;
const KIND_INT32: u64 = 1;
const KIND_INT64: u64 = 2;
const KIND_FLOAT: u64 = 3;
const KIND_DATETIME: u64 = 4;
/// Three words: the text's symbol, then the float equal to it.
const KIND_BIGINT: u64 = 5;

/// The traits of an event, packed: the trait table's names (docs/distillation.md#traits-2014) by a
/// presence bit, their values in one or two 32-bit words each; other names
/// (from distilled input) listed apart. An event's traits take a few dozen
/// bytes instead of a few hundred.
#[derive(Clone, Debug, Default)]
pub struct Traits {
    present: u32,
    /// Values that take two words (64-bit ints, floats, datetimes), or three (also in `big`).
    wide: u32,
    /// Values that take three words (integers beyond 64 bits).
    big: u32,
    /// Three bits of kind per table name.
    kinds: u64,
    words: Box<[u32]>,
    extra: Option<Box<[Trait]>>,
}

impl Traits {
    /// Pack traits given in any order; a name given twice keeps its last value.
    pub fn from_traits(mut traits: Vec<Trait>) -> Traits {
        traits.sort_by_key(|t| t.name);
        traits.dedup_by(|later, earlier| {
            // `dedup_by` passes the later element first: keep its value in the earlier slot.
            if later.name == earlier.name {
                earlier.value = later.value;
                true
            } else {
                false
            }
        });
        let mut t = Traits::default();
        let mut words = Vec::with_capacity(traits.len() * 2);
        let mut extra = Vec::new();
        for tr in traits {
            let i = tr.name.0 as usize;
            if i >= TABLE_TRAITS {
                extra.push(tr);
                continue;
            }
            let (kind, wide) = match tr.value {
                Value::BigInt { text, as_float } => {
                    words.push(text.0);
                    push64(&mut words, as_float.to_bits());
                    t.big |= 1 << i;
                    (KIND_BIGINT, true)
                }
                Value::Text(s) => {
                    words.push(s.0);
                    (KIND_TEXT, false)
                }
                Value::Int(v) if i32::try_from(v).is_ok() => {
                    words.push(v as i32 as u32);
                    (KIND_INT32, false)
                }
                Value::Int(v) => {
                    push64(&mut words, v as u64);
                    (KIND_INT64, true)
                }
                Value::Float(f) => {
                    push64(&mut words, f.to_bits());
                    (KIND_FLOAT, true)
                }
                Value::DateTime(ts) => {
                    push64(&mut words, ts.0 as u64);
                    (KIND_DATETIME, true)
                }
            };
            t.present |= 1 << i;
            if wide {
                t.wide |= 1 << i;
            }
            t.kinds |= kind << (3 * i);
        }
        t.words = words.into_boxed_slice();
        if !extra.is_empty() {
            t.extra = Some(extra.into_boxed_slice());
        }
        t
    }

    pub fn get(&self, name: Sym) -> Option<Value> {
        let i = name.0 as usize;
        if i >= TABLE_TRAITS {
            return self.extra.as_ref()?.iter().find(|t| t.name == name).map(|t| t.value);
        }
        Some(self.decode(i, self.word_at(i)?))
    }

    /// Where the value of the table name at index `i` starts among the words, if present.
    fn word_at(&self, i: usize) -> Option<usize> {
        if self.present & (1 << i) == 0 {
            return None;
        }
        let below = (1u32 << i) - 1;
        Some(
            ((self.present & below).count_ones() + (self.wide & below).count_ones() + (self.big & below).count_ones())
                as usize,
        )
    }

    fn decode(&self, i: usize, at: usize) -> Value {
        let w = &self.words;
        let wide = || (w[at] as u64) | ((w[at + 1] as u64) << 32);
        match (self.kinds >> (3 * i)) & 7 {
            KIND_TEXT => Value::Text(Sym(w[at])),
            KIND_INT32 => Value::Int(w[at] as i32 as i64),
            KIND_INT64 => Value::Int(wide() as i64),
            KIND_FLOAT => Value::Float(f64::from_bits(wide())),
            KIND_BIGINT => Value::BigInt {
                text: Sym(w[at]),
                as_float: f64::from_bits((w[at + 1] as u64) | ((w[at + 2] as u64) << 32)),
            },
            _ => Value::DateTime(Timestamp(wide() as i64)),
        }
    }

    pub fn has(&self, name: Sym) -> bool {
        let i = name.0 as usize;
        if i < TABLE_TRAITS {
            self.present & (1 << i) != 0
        } else {
            self.extra.as_ref().is_some_and(|e| e.iter().any(|t| t.name == name))
        }
    }

    pub fn len(&self) -> usize {
        self.present.count_ones() as usize + self.extra.as_ref().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every trait: the table's names in table order, then the others.
    pub fn iter(&self) -> impl Iterator<Item = Trait> + '_ {
        let mut at = 0usize;
        (0..TABLE_TRAITS)
            .filter(move |&i| self.present & (1 << i) != 0)
            .map(move |i| {
                let v = self.decode(i, at);
                at += 1 + usize::from(self.wide & (1 << i) != 0) + usize::from(self.big & (1 << i) != 0);
                Trait { name: Sym(i as u32), value: v }
            })
            .chain(self.extra.iter().flat_map(|e| e.iter().copied()))
    }

    /// Whether `other` holds the same traits with the same values (floats by their bits).
    fn same(&self, other: &Traits) -> bool {
        (self.present, self.wide, self.big, self.kinds) == (other.present, other.wide, other.big, other.kinds)
            && self.words == other.words
            // Equal as values: a NaN is never the same, so two such events are merely kept apart.
            && self.extra == other.extra
    }

    /// The packed words of the table name at index `i`, if present.
    fn words_of(&self, i: usize) -> Option<&[u32]> {
        let at = self.word_at(i)?;
        let n = 1 + usize::from(self.wide & (1 << i) != 0) + usize::from(self.big & (1 << i) != 0);
        Some(&self.words[at..at + n])
    }

    /// Whether the two hold the very same value (kind and bits) for every name in
    /// `names` (bits by symbol), present in both or in neither.
    fn agree_on(&self, other: &Traits, names: u64) -> bool {
        let table = (names & ((1 << TABLE_TRAITS) - 1)) as u32;
        if self.present & table != other.present & table {
            return false;
        }
        let mut both = self.present & table;
        while both != 0 {
            let i = both.trailing_zeros() as usize;
            both &= both - 1;
            if (self.kinds >> (3 * i)) & 7 != (other.kinds >> (3 * i)) & 7 || self.words_of(i) != other.words_of(i) {
                return false;
            }
        }
        let mut rest = names >> TABLE_TRAITS << TABLE_TRAITS;
        while rest != 0 {
            let name = Sym(rest.trailing_zeros());
            rest &= rest - 1;
            let alike = match (self.get(name), other.get(name)) {
                (None, None) => true,
                (Some(a), Some(b)) => a.identical(b),
                _ => false,
            };
            if !alike {
                return false;
            }
        }
        true
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.words.len() * 4 + self.extra.as_ref().map_or(0, |e| e.len() * std::mem::size_of::<Trait>())
    }
}

fn push64(words: &mut Vec<u32>, v: u64) {
    words.push(v as u32);
    words.push((v >> 32) as u32);
}

/// A distilled event (docs/distillation.md#events).
#[derive(Clone, Debug)]
pub struct Event {
    pub timestamp: Timestamp,
    pub event_type: Sym,
    pub message_id: MessageId,
    pub traits: Traits,
    pub origin: Origin,
}

impl Event {
    /// Whether `other` is this very event: every field alike (a float among the
    /// traits outside the table by its value, so that a NaN is never the same).
    pub fn same(&self, other: &Event) -> bool {
        self.same_record(other) && self.traits.same(&other.traits)
    }

    /// Whether `other` was made of the same record as this one: type, id, time and origin alike.
    fn same_record(&self, other: &Event) -> bool {
        let (a, b) = (&self.origin, &other.origin);
        self.timestamp == other.timestamp
            && self.event_type == other.event_type
            && self.message_id == other.message_id
            && (a.source, a.line, a.offset, a.len, a.index, a.kind)
                == (b.source, b.line, b.offset, b.len, b.index, b.kind)
    }

    /// Take `other`'s place as well, when the two differ only in names that one
    /// reader of them never reads: `other` is this very record (as in [`Event::same`])
    /// and the two agree on every name in `shared`, the names that both readers
    /// read. This event then also carries the names only `other` has, and true is
    /// returned; each reader still finds exactly the values it would in its own
    /// event (docs/rules2015.md#what-side-by-side-costs).
    pub fn absorb(&mut self, other: &Event, shared: u64) -> bool {
        if !self.same_record(other) || !self.traits.agree_on(&other.traits, shared) {
            return false;
        }
        if other.traits.iter().any(|t| !self.traits.has(t.name)) {
            let mine = &self.traits;
            let traits = mine.iter().chain(other.traits.iter().filter(|t| !mine.has(t.name))).collect();
            self.traits = Traits::from_traits(traits);
        }
        true
    }

    pub fn get(&self, name: Sym) -> Option<Value> {
        self.traits.get(name)
    }

    pub fn has(&self, name: Sym) -> bool {
        self.traits.has(name)
    }

    pub fn datetime(&self, name: Sym) -> Option<Timestamp> {
        self.get(name).and_then(|v| v.as_datetime())
    }

    /// The message id as it was written.
    pub fn message_id<'s>(&self, symbols: &'s Symbols) -> std::borrow::Cow<'s, str> {
        self.message_id.text(symbols)
    }

    /// The traits sorted by name, as `events` writes them and the UI lists them.
    pub fn sorted_traits(&self, symbols: &Symbols) -> Vec<Trait> {
        let mut v: Vec<Trait> = self.traits.iter().collect();
        v.sort_by(|a, b| symbols.get(a.name).cmp(symbols.get(b.name)));
        v
    }

    /// The event as one JSON object in the shape of docs/distillation.md#distilled-input (keys sorted, as
    /// Python's `json.dumps(sort_keys=True, ensure_ascii=False)` writes them).
    pub fn to_json(&self, symbols: &Symbols) -> String {
        let message_id = self.message_id(symbols);
        let mut fields: Vec<(&str, JsonField)> = Vec::with_capacity(self.traits.len() + 3);
        fields.push(("event_type", JsonField::Str(symbols.get(self.event_type))));
        fields.push(("message_id", JsonField::Str(&message_id)));
        fields.push(("timestamp", JsonField::Value(Value::DateTime(self.timestamp))));
        for t in self.traits.iter() {
            fields.push((symbols.get(t.name), JsonField::Value(t.value)));
        }
        fields.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::with_capacity(512);
        out.push('{');
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            pyfmt::push_json_str(&mut out, k);
            out.push_str(": ");
            match v {
                JsonField::Str(s) => pyfmt::push_json_str(&mut out, s),
                JsonField::Value(v) => v.push_json(symbols, &mut out),
            }
        }
        out.push('}');
        out
    }
}

enum JsonField<'a> {
    Str(&'a str),
    Value(Value),
}

/// Renders a value for messages; a thin wrapper so callers can `format!` it.
pub struct PyStr<'a>(pub Value, pub &'a Symbols);

impl fmt::Display for PyStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.py_str(self.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exists_with(traits: Vec<Trait>) -> Event {
        Event {
            timestamp: Timestamp(1_412_553_600_000_000),
            event_type: sym::EXISTS,
            message_id: MessageId::Uuid([7; 16]),
            traits: Traits::from_traits(traits),
            origin: Origin { source: 0, line: 3, offset: 40, len: 900, index: None, kind: RecordKind::Notification },
        }
    }

    /// docs/rules2015.md#what-side-by-side-costs: one event stands for two when they agree on every
    /// name both read, present or absent, to the bit; the names only one reads are carried along.
    #[test]
    fn an_event_absorbs_another_only_where_both_read_alike() {
        let both_read = (1u64 << sym::LAUNCHED_AT.0) | (1 << sym::STATE.0) | (1 << sym::ROOT_GB.0);
        let t = |name, value| Trait { name, value };
        let launched = t(sym::LAUNCHED_AT, Value::DateTime(Timestamp(5)));
        let first = exists_with(vec![launched, t(sym::INSTANCE_TYPE_ID, Value::Int(2))]);
        let second = exists_with(vec![launched, t(sym::INSTANCE_FLAVOR_ID, Value::Int(2))]);
        let mut merged = first.clone();
        assert!(merged.absorb(&second, both_read));
        assert!(matches!(merged.get(sym::INSTANCE_TYPE_ID), Some(Value::Int(2))));
        assert!(matches!(merged.get(sym::INSTANCE_FLAVOR_ID), Some(Value::Int(2))), "the second's own name is carried");
        assert!(matches!(merged.get(sym::LAUNCHED_AT), Some(Value::DateTime(Timestamp(5)))));
        assert_eq!(merged.traits.len(), 3);
        // Already carrying everything: absorbing again changes nothing.
        let again = merged.clone();
        assert!(merged.absorb(&second, both_read) && merged.same(&again));

        let refuses = |a: &Event, b: &Event, why: &str| assert!(!a.clone().absorb(b, both_read), "{why}");
        let other_value = exists_with(vec![t(sym::LAUNCHED_AT, Value::DateTime(Timestamp(6)))]);
        refuses(&first, &other_value, "a name both read with another value");
        refuses(
            &first,
            &exists_with(vec![launched, t(sym::STATE, Value::Int(1))]),
            "a name both read, on one side only",
        );
        // Python's `==` is not enough: the same kind and bits are.
        let int = exists_with(vec![t(sym::ROOT_GB, Value::Int(80))]);
        refuses(&int, &exists_with(vec![t(sym::ROOT_GB, Value::Float(80.0))]), "80 and 80.0");
        let nan = exists_with(vec![t(sym::ROOT_GB, Value::Float(f64::NAN))]);
        assert!(nan.clone().absorb(&nan, both_read), "the same bits, even a NaN's");
        // Names only one reads may differ: they are not compared.
        let mut one = first.clone();
        assert!(one.absorb(&exists_with(vec![launched, t(sym::INSTANCE_TYPE_ID, Value::Int(9))]), both_read));
        assert!(matches!(one.get(sym::INSTANCE_TYPE_ID), Some(Value::Int(2))), "the first keeps its own value");
        // Another record, time, type or id: never.
        let mut elsewhere = second.clone();
        elsewhere.origin.offset += 1;
        refuses(&first, &elsewhere, "another record");
        let mut later = second.clone();
        later.timestamp = Timestamp(later.timestamp.0 + 1);
        refuses(&first, &later, "another time");
    }

    #[test]
    fn traits_pack_and_unpack() {
        let mut s = Symbols::new();
        let host = s.intern("host-1");
        let custom = s.intern("custom");
        let big = 1i64 << 40;
        let ts = Timestamp(1_412_553_600_123_456);
        let traits = vec![
            Trait { name: sym::OS_DISTRO, value: Value::Text(host) },
            Trait { name: sym::MEMORY_MB, value: Value::Int(-512) },
            Trait { name: sym::DISK_GB, value: Value::Int(big) },
            Trait { name: sym::LAUNCHED_AT, value: Value::DateTime(ts) },
            Trait { name: custom, value: Value::Float(0.5) },
            Trait { name: sym::ROOT_GB, value: Value::Float(80.0) },
            Trait { name: sym::MEMORY_MB, value: Value::Int(1024) },
        ];
        let t = Traits::from_traits(traits);
        assert_eq!(t.len(), 6, "the repeated name keeps one value");
        assert!(matches!(t.get(sym::MEMORY_MB), Some(Value::Int(1024))));
        assert!(matches!(t.get(sym::DISK_GB), Some(Value::Int(v)) if v == big));
        assert!(matches!(t.get(sym::ROOT_GB), Some(Value::Float(f)) if f == 80.0));
        assert!(matches!(t.get(sym::OS_DISTRO), Some(Value::Text(x)) if x == host));
        assert!(matches!(t.get(sym::LAUNCHED_AT), Some(Value::DateTime(x)) if x == ts));
        assert!(matches!(t.get(custom), Some(Value::Float(f)) if f == 0.5));
        assert!(t.get(sym::TENANT_ID).is_none() && !t.has(sym::TENANT_ID) && t.has(custom));
        let names: Vec<Sym> = t.iter().map(|x| x.name).collect();
        assert_eq!(names, vec![sym::MEMORY_MB, sym::DISK_GB, sym::ROOT_GB, sym::OS_DISTRO, sym::LAUNCHED_AT, custom]);
    }

    #[test]
    fn message_ids() {
        let u = "7aae6e52-5c79-4057-ab25-5c9a135eb532";
        let b = MessageId::parse_uuid(u).unwrap();
        assert_eq!(MessageId::Uuid(b).text(&Symbols::new()), u);
        assert!(MessageId::parse_uuid("7AAE6E52-5c79-4057-ab25-5c9a135eb532").is_none());
        assert!(MessageId::parse_uuid("7aae6e525c794057ab255c9a135eb532").is_none());
        assert!(MessageId::parse_uuid("m1").is_none());
    }

    #[test]
    fn python_equality() {
        let mut s = Symbols::new();
        let seven = s.intern("7");
        assert!(Value::Int(7).py_eq(&Value::Float(7.0)));
        assert!(Value::Float(7.0).py_eq(&Value::Int(7)));
        assert!(!Value::Int(7).py_eq(&Value::Text(seven)));
        assert!(!Value::Int(7).py_eq(&Value::Float(7.000000000000001)));
        assert!(Value::Float(-0.0).py_eq(&Value::Int(0)));
        assert!(!Value::Int(i64::MAX).py_eq(&Value::Float(TWO_POW_63)));
        assert!(!Value::Float(f64::NAN).py_eq(&Value::Float(f64::NAN)));
        let t = Timestamp(5);
        assert!(Value::DateTime(t).py_eq(&Value::DateTime(Timestamp(5))));
        assert!(!Value::DateTime(t).py_eq(&Value::Int(5)));
        assert_eq!(ValueKey::from(Value::Float(7.0)), ValueKey::from(Value::Int(7)));
        assert_ne!(ValueKey::from(Value::Float(7.5)), ValueKey::from(Value::Int(7)));
    }

    #[test]
    fn big_integers_pack_and_compare_as_python_ints() {
        let mut s = Symbols::new();
        let big = |s: &mut Symbols, t: &str| Value::BigInt { text: s.intern(t), as_float: pyfmt::exact_float(t) };
        let e20 = big(&mut s, "100000000000000000000");
        let odd = big(&mut s, "100000000000000000001");
        let t = Traits::from_traits(vec![
            Trait { name: sym::MEMORY_MB, value: Value::Int(1 << 40) },
            Trait { name: sym::DISK_GB, value: odd },
            Trait { name: sym::VCPUS, value: Value::Int(2) },
            Trait { name: sym::INSTANCE_TYPE_ID, value: e20 },
            Trait { name: sym::LAUNCHED_AT, value: Value::DateTime(Timestamp(9)) },
        ]);
        assert!(matches!(t.get(sym::DISK_GB), Some(v) if v.py_str(&s) == "100000000000000000001"));
        assert!(matches!(t.get(sym::INSTANCE_TYPE_ID), Some(v) if v.py_str(&s) == "100000000000000000000"));
        assert!(matches!(t.get(sym::VCPUS), Some(Value::Int(2))));
        assert!(matches!(t.get(sym::LAUNCHED_AT), Some(Value::DateTime(Timestamp(9)))));
        let all: Vec<String> = t.iter().map(|tr| tr.value.py_str(&s)).collect();
        assert_eq!(all.len(), 5, "{all:?}");
        assert!(
            all.contains(&"100000000000000000001".to_string())
                && all.contains(&"1970-01-01 00:00:00.000009".to_string())
        );
        // Python: 10**20 == 1e20, 10**20 + 1 != 1e20, and an int beyond 64 bits equals no 64-bit one.
        assert!(e20.py_eq(&Value::Float(1e20)) && Value::Float(1e20).py_eq(&e20));
        assert!(!odd.py_eq(&Value::Float(1e20)));
        assert!(e20.py_eq(&big(&mut s, "100000000000000000000")) && !e20.py_eq(&odd));
        assert!(!e20.py_eq(&Value::Int(i64::MAX)));
        assert_eq!(ValueKey::from(e20), ValueKey::from(Value::Float(1e20)));
        assert_ne!(ValueKey::from(odd), ValueKey::from(e20));
        let mut json = String::new();
        odd.push_json(&s, &mut json);
        assert_eq!(json, "100000000000000000001");
        assert_eq!(odd.kind_name(), "int");
    }

    #[test]
    fn python_str() {
        let mut s = Symbols::new();
        let x = s.intern("x86");
        assert_eq!(Value::Text(x).py_str(&s), "x86");
        assert_eq!(Value::Int(-3).py_str(&s), "-3");
        assert_eq!(Value::Float(123456789.125).py_str(&s), "123456789.125");
        assert_eq!(Value::DateTime(Timestamp(1_000_000)).py_str(&s), "1970-01-01 00:00:01");
    }
}
