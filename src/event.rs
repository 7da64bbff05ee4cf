//! Events and their traits (SPEC §2): the flat records that notifications are
//! distilled into, and the Python value semantics the checks compare them with.
//!
//! Strings that repeat across an archive (event types, trait names, tenants,
//! instance ids, hosts …) are interned once in [`Symbols`]; an [`Event`] holds
//! only small copyable [`Value`]s.

use crate::pyfmt;
use crate::time::Timestamp;
use indexmap::IndexSet;
use rustc_hash::FxBuildHasher;
use std::fmt;

/// An interned string: an index into [`Symbols`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Sym(pub u32);

/// The archive-wide string table.
#[derive(Clone)]
pub struct Symbols {
    set: IndexSet<Box<str>, FxBuildHasher>,
}

/// Trait names, event types and values the engine refers to by name. They are
/// interned first, in this order, so their symbols are the constants in [`sym`].
const WELL_KNOWN: &[&str] = &[
    // trait names (SPEC §2.2), in the order of the trait table
    "tenant_id",
    "user_id",
    "instance_id",
    "request_id",
    "service",
    "host",
    "memory_mb",
    "disk_gb",
    "root_gb",
    "ephemeral_gb",
    "vcpus",
    "instance_type_id",
    "instance_type",
    "state",
    "os_architecture",
    "os_version",
    "os_distro",
    "launched_at",
    "deleted_at",
    "audit_period_beginning",
    "audit_period_ending",
    // event types the trigger and the checks name
    "compute.instance.exists",
    "compute.instance.exists.verified",
    "compute.instance.exists.failed",
    "compute.instance.exists.warnings",
    "compute.instance.delete.end",
    "compute.instance.finish_resize.end",
    // values
    "active",
    "deleted",
    "",
];

/// Symbols of [`WELL_KNOWN`] strings.
pub mod sym {
    use super::Sym;
    pub const TENANT_ID: Sym = Sym(0);
    pub const USER_ID: Sym = Sym(1);
    pub const INSTANCE_ID: Sym = Sym(2);
    pub const REQUEST_ID: Sym = Sym(3);
    pub const SERVICE: Sym = Sym(4);
    pub const HOST: Sym = Sym(5);
    pub const MEMORY_MB: Sym = Sym(6);
    pub const DISK_GB: Sym = Sym(7);
    pub const ROOT_GB: Sym = Sym(8);
    pub const EPHEMERAL_GB: Sym = Sym(9);
    pub const VCPUS: Sym = Sym(10);
    pub const INSTANCE_TYPE_ID: Sym = Sym(11);
    pub const INSTANCE_TYPE: Sym = Sym(12);
    pub const STATE: Sym = Sym(13);
    pub const OS_ARCHITECTURE: Sym = Sym(14);
    pub const OS_VERSION: Sym = Sym(15);
    pub const OS_DISTRO: Sym = Sym(16);
    pub const LAUNCHED_AT: Sym = Sym(17);
    pub const DELETED_AT: Sym = Sym(18);
    pub const AUDIT_PERIOD_BEGINNING: Sym = Sym(19);
    pub const AUDIT_PERIOD_ENDING: Sym = Sym(20);
    pub const EXISTS: Sym = Sym(21);
    pub const EXISTS_VERIFIED: Sym = Sym(22);
    pub const EXISTS_FAILED: Sym = Sym(23);
    pub const EXISTS_WARNINGS: Sym = Sym(24);
    pub const DELETE_END: Sym = Sym(25);
    pub const FINISH_RESIZE_END: Sym = Sym(26);
    pub const ACTIVE: Sym = Sym(27);
    pub const DELETED: Sym = Sym(28);
    pub const EMPTY: Sym = Sym(29);
}

/// Trait names whose values are datetimes wherever they appear (SPEC §2.3).
pub const DATETIME_TRAITS: [Sym; 4] =
    [sym::LAUNCHED_AT, sym::DELETED_AT, sym::AUDIT_PERIOD_BEGINNING, sym::AUDIT_PERIOD_ENDING];

impl Default for Symbols {
    fn default() -> Self {
        Self::new()
    }
}

impl Symbols {
    pub fn new() -> Self {
        let mut set = IndexSet::with_capacity_and_hasher(1024, FxBuildHasher);
        for s in WELL_KNOWN {
            set.insert(Box::<str>::from(*s));
        }
        Symbols { set }
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(i) = self.set.get_index_of(s) {
            return Sym(i as u32);
        }
        let (i, _) = self.set.insert_full(s.into());
        Sym(i as u32)
    }

    /// The symbol of `s` if it has been interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.set.get_index_of(s).map(|i| Sym(i as u32))
    }

    pub fn get(&self, s: Sym) -> &str {
        self.set.get_index(s.0 as usize).map(|b| &**b).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Approximate heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        self.set.iter().map(|s| s.len() + 16).sum::<usize>() + self.set.capacity() * 16
    }
}

/// A trait value: text, integer, float or datetime (SPEC §2). A trait that has
/// no value is absent from the event, never null.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    Text(Sym),
    Int(i64),
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
            (Value::DateTime(a), Value::DateTime(b)) => a == b,
            _ => false,
        }
    }

    /// Python's `str(value)`, as the U2 messages print it (SPEC §5.1).
    pub fn py_str(&self, symbols: &Symbols) -> String {
        match *self {
            Value::Text(s) => symbols.get(s).to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => pyfmt::float_repr(f),
            Value::DateTime(t) => t.python_str(),
        }
    }

    /// The value written as JSON in the `events` shape (SPEC §2.3, §7).
    pub fn push_json(&self, symbols: &Symbols, out: &mut String) {
        match *self {
            Value::Text(s) => pyfmt::push_json_str(out, symbols.get(s)),
            Value::Int(i) => {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            }
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
            Value::Int(_) => "int",
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
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ValueKey {
    Text(Sym),
    Int(i64),
    FloatBits(u64),
    DateTime(Timestamp),
}

impl From<Value> for ValueKey {
    fn from(v: Value) -> Self {
        match v {
            Value::Text(s) => ValueKey::Text(s),
            Value::Int(i) => ValueKey::Int(i),
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
#[derive(Clone, Copy, Debug)]
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

/// A distilled event (SPEC §2).
#[derive(Clone, Debug)]
pub struct Event {
    pub timestamp: Timestamp,
    pub event_type: Sym,
    pub message_id: Sym,
    pub traits: Box<[Trait]>,
    pub origin: Origin,
}

impl Event {
    pub fn get(&self, name: Sym) -> Option<Value> {
        self.traits.iter().find(|t| t.name == name).map(|t| t.value)
    }

    pub fn has(&self, name: Sym) -> bool {
        self.traits.iter().any(|t| t.name == name)
    }

    pub fn datetime(&self, name: Sym) -> Option<Timestamp> {
        self.get(name).and_then(|v| v.as_datetime())
    }

    /// The traits sorted by name, as `events` writes them and the UI lists them.
    pub fn sorted_traits<'a>(&'a self, symbols: &Symbols) -> Vec<&'a Trait> {
        let mut v: Vec<&Trait> = self.traits.iter().collect();
        v.sort_by(|a, b| symbols.get(a.name).cmp(symbols.get(b.name)));
        v
    }

    /// The event as one JSON object in the shape of SPEC §2.3 (keys sorted, as
    /// Python's `json.dumps(sort_keys=True, ensure_ascii=False)` writes them).
    pub fn to_json(&self, symbols: &Symbols) -> String {
        let mut fields: Vec<(&str, JsonField)> = Vec::with_capacity(self.traits.len() + 3);
        fields.push(("event_type", JsonField::Str(symbols.get(self.event_type))));
        fields.push(("message_id", JsonField::Str(symbols.get(self.message_id))));
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

    #[test]
    fn well_known_symbols_match_their_constants() {
        let s = Symbols::new();
        assert_eq!(s.get(sym::TENANT_ID), "tenant_id");
        assert_eq!(s.get(sym::AUDIT_PERIOD_ENDING), "audit_period_ending");
        assert_eq!(s.get(sym::EXISTS), "compute.instance.exists");
        assert_eq!(s.get(sym::DELETE_END), "compute.instance.delete.end");
        assert_eq!(s.get(sym::FINISH_RESIZE_END), "compute.instance.finish_resize.end");
        assert_eq!(s.get(sym::DELETED), "deleted");
        assert_eq!(s.get(sym::EMPTY), "");
        assert_eq!(s.len(), WELL_KNOWN.len());
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
    fn python_str() {
        let mut s = Symbols::new();
        let x = s.intern("x86");
        assert_eq!(Value::Text(x).py_str(&s), "x86");
        assert_eq!(Value::Int(-3).py_str(&s), "-3");
        assert_eq!(Value::Float(123456789.125).py_str(&s), "123456789.125");
        assert_eq!(Value::DateTime(Timestamp(1_000_000)).py_str(&s), "1970-01-01 00:00:01");
    }
}
