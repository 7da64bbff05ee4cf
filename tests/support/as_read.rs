//! An event as an audit reads it, for comparing two loads of one archive.

use usage_replay::archive::{Archive, Keep};
use usage_replay::event::{Event, Sym};
use usage_replay::rules::RuleSet;

/// An event as an audit under `set` reads it: its place, type, id and time, and
/// the value of every name that rule set keeps of its type (names it never reads
/// may be there or not).
pub fn as_read(archive: &Archive, e: &Event, set: RuleSet) -> String {
    let sym = &archive.symbols;
    let names = Keep::Audit.mask(set, sym.get(e.event_type));
    let values: Vec<String> = (0..64)
        .filter(|i| names & (1 << i) != 0)
        .map(|i| format!("{i}={:?}", e.get(Sym(i)).map(|v| (std::mem::discriminant(&v), v.py_str(sym)))))
        .collect();
    let o = &e.origin;
    format!(
        "{} {} {} {}:{}:{}:{:?} {}",
        e.timestamp.iso(),
        sym.get(e.event_type),
        e.message_id(sym),
        o.source,
        o.line,
        o.offset,
        o.index,
        values.join(",")
    )
}
