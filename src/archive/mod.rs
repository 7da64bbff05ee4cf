//! Archives (docs/inputs.md#archives): reading every input, distilling its records in
//! parallel, and keeping the events in replay order with everything that went
//! wrong on the way (rejected records, duplicates, records not distilled).
//!
//! Inputs are streamed in chunks: a JSON Lines file is never held whole in
//! memory, only its events are. Each event remembers where it came from
//! ([`Origin`]) so that the UI can show the original record again.

mod document;
mod events;
pub mod source;

pub use crate::rules::Keep;
pub use events::Events;

use crate::distill::{self, Distilled, Loc, Outcome, TraitName, TraitVal};
use crate::event::{sym, Event, MessageId, Origin, RecordKind, Sym, Symbols, Trait, Traits, Value};
use crate::hash::{HashMap, HashSet};
use crate::rules::{RuleSet, Rules};
use crate::shard::Shard;
use crate::symbols::SharedSymbols;
use rayon::prelude::*;
use source::{Chunk, Input, Layout, Opened};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

/// A record that could not be read (docs/inputs.md#rejected-records): where, why, and how it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRecord {
    /// The file (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line of the record, when known.
    pub line: Option<u32>,
    /// Position in an array file or a stream dump, when the record is one of many.
    pub index: Option<u32>,
    pub reason: String,
    /// The first 200 bytes of the record.
    pub excerpt: String,
}

impl RejectedRecord {
    /// `file:line`, `file:line[#index]`, or just `file` for whole-file problems.
    pub fn location(&self) -> String {
        let mut s = self.file.clone();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
        }
        if let Some(i) = self.index {
            s.push_str(&format!("[#{i}]"));
        }
        s
    }
}

/// One input file as loaded.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    pub name: String,
    /// Where the content can be read again (a spool file for a pipe or
    /// standard input in the replay), if it can.
    pub reread: Option<source::Reread>,
    pub gzip: bool,
    pub layout: Option<Layout>,
    pub size_on_disk: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    pub records: u64,
}

/// A record dropped as a duplicate of an earlier one with the same message id.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub message_id: MessageId,
    pub event_type: Sym,
    pub timestamp: crate::time::Timestamp,
    pub origin: Origin,
}

/// Why an input gave nothing: it is empty, or it holds no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barren {
    Empty,
    NoRecord,
}

impl Barren {
    pub fn as_str(self) -> &'static str {
        match self {
            Barren::Empty => "empty file",
            Barren::NoRecord => "no record in it",
        }
    }
}

/// Progress of a load, reported after every chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadProgress {
    pub files_total: usize,
    pub files_done: usize,
    pub current: String,
    /// Bytes read from disk so far (compressed bytes for gzip) and in all.
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub records: u64,
    pub events: u64,
    pub rejected: u64,
    pub duplicates: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no readable input: {0}")]
    NoInput(String),
    #[error("loading was cancelled")]
    Cancelled,
}

/// Everything read from the inputs.
pub struct Archive {
    pub symbols: Symbols,
    /// Events in replay order: duplicates removed, stably sorted by timestamp (docs/streams.md#replay).
    pub events: Events,
    pub sources: Vec<SourceInfo>,
    pub rejected: Vec<RejectedRecord>,
    pub duplicates: u64,
    /// Records whose type no event definition covers, counted by type.
    pub not_distilled: BTreeMap<String, u64>,
    pub records: u64,
    /// The duplicates themselves, in archive order (the later copies; the first one is the event).
    pub duplicate_records: Vec<Duplicate>,
    /// Files below a named directory that were not read: their names are not archive names.
    pub skipped: Vec<String>,
    /// Paths named (not found in a walk) that could not be opened, as `name: reason` (also among `rejected`).
    pub unreadable: Vec<String>,
    /// Events left out by the load's instance or tenant filter.
    pub filtered: u64,
    /// The rule set whose trait table made these events.
    pub rules: RuleSet,
    /// Which traits were kept of each event.
    pub keep: Keep,
    /// The same records distilled by the second rule set, when two were asked for.
    pub alt: Option<Box<Archive>>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("events", &self.events.len())
            .field("rejected", &self.rejected.len())
            .field("duplicates", &self.duplicates)
            .finish()
    }
}

/// Bytes of JSON Lines handed to the parse threads at a time.
const CHUNK: usize = 4 << 20;

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub keep: Keep,
    /// Whether records must be shown again later (the interactive replay): a
    /// pipe or standard input is then spooled (docs/inputs.md#spool). Without
    /// it (the headless commands) they are read once, as a stream, and no copy is kept.
    pub show_originals: bool,
    /// The rule sets whose trait tables distil the records: one archive each,
    /// from one parse of every record (the second in [`Archive::alt`]).
    pub rules: Rules,
    /// Keep only the events of these instances (all when empty).
    pub instances: Vec<String>,
    /// Keep only the events that carry one of these tenants (all when empty).
    pub tenants: Vec<String>,
    /// Keep only the events of one part of a split by instance (docs/scale.md#the-split).
    pub shard: Option<Shard>,
    /// docs/rules2015.md#what-side-by-side-costs: under both rule sets with [`Keep::Audit`], let
    /// one event stand for the two where both rule sets read it alike ([`Event::absorb`]). Only
    /// for a report of verdicts: an explanation reads fields beyond the checks', and would find
    /// the other rule set's there.
    pub one_event_for_both: bool,
    /// Inputs that cannot be read twice (standard input, a pipe) already copied
    /// to a spool file, by the name they display (docs/scale.md#bounded-memory):
    /// read from the copy, under their own name.
    pub spooled: Vec<(String, Arc<std::fs::File>)>,
    /// For tests: read sources in pieces of this many bytes, and distil the records
    /// of a document in batches of this many, instead of the usual megabytes (the
    /// results must not depend on either).
    #[doc(hidden)]
    pub pieces: Option<(usize, usize)>,
}

impl LoadOptions {
    fn projection(&self) -> Projection {
        Projection { keep: self.keep, shard: self.shard, one_event_for_both: self.one_event_for_both }
    }

    /// Whether the load leaves events out.
    pub fn filters(&self) -> bool {
        !self.instances.is_empty() || !self.tenants.is_empty()
    }
}

impl Archive {
    /// An archive from events made in code (tests, the generator's checks).
    pub fn from_events(symbols: Symbols, mut events: Vec<Event>) -> Archive {
        events.sort_by_key(|e| e.timestamp);
        Archive {
            symbols,
            events: Events::plain(events),
            sources: Vec::new(),
            rejected: Vec::new(),
            duplicates: 0,
            not_distilled: BTreeMap::new(),
            records: 0,
            duplicate_records: Vec::new(),
            skipped: Vec::new(),
            unreadable: Vec::new(),
            filtered: 0,
            rules: RuleSet::Y2014,
            keep: Keep::All,
            alt: None,
        }
    }

    /// An archive read from bytes in memory, as if they were a file called `name`
    /// (gzip recognised by its magic bytes). Used by the demo, tests and examples;
    /// records of a plain (not gzip) source can be shown again.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Archive {
        Archive::from_bytes_with(name, bytes, LoadOptions::default())
    }

    /// As [`Archive::from_bytes`], with load options (rule sets, traits kept).
    pub fn from_bytes_with(name: &str, bytes: &[u8], options: LoadOptions) -> Archive {
        let mut loader = Loader::new(options);
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read + Send> = if gzip {
            Box::new(source::Gunzip::new(std::io::Cursor::new(bytes.to_vec())))
        } else {
            Box::new(std::io::Cursor::new(bytes.to_vec()))
        };
        let info = SourceInfo {
            name: name.to_string(),
            reread: (!gzip).then(|| source::Reread::Memory(Arc::new(bytes.to_vec()))),
            gzip,
            layout: None,
            size_on_disk: bytes.len() as u64,
            bytes: 0,
            records: 0,
        };
        let read = Arc::new(AtomicU64::new(0));
        if let Err(SourceError::Io(reason)) = loader.read_source(info, reader, &read, &mut |_| true) {
            loader.reject_file(RejectedRecord {
                file: name.to_string(),
                line: None,
                index: None,
                reason,
                excerpt: String::new(),
            });
        }
        loader.finish()
    }

    /// Load every path (docs/inputs.md#archives), keeping every trait and what is needed to
    /// show every record again. See [`Archive::load_with`].
    pub fn load(paths: &[PathBuf], progress: impl FnMut(&LoadProgress) -> bool) -> Result<Archive, LoadError> {
        Archive::load_with(
            paths,
            LoadOptions { keep: Keep::All, show_originals: true, ..LoadOptions::default() },
            progress,
        )
    }

    /// Load every path (docs/inputs.md#archives). `progress` is called after each chunk and may
    /// return `false` to cancel. Fails only when no input could be read at all.
    pub fn load_with(
        paths: &[PathBuf],
        options: LoadOptions,
        mut progress: impl FnMut(&LoadProgress) -> bool,
    ) -> Result<Archive, LoadError> {
        let source::Expanded { inputs, problems, skipped } = source::expand(paths);
        let show_originals = options.show_originals;
        let options_spooled = options.spooled.clone();
        let mut loader = Loader::new(options);
        loader.skipped = skipped;
        let mut failures: Vec<String> = Vec::new();
        // Paths named (not found in a walk) that could not be opened.
        let named = |name: &str| paths.iter().any(|p| p.display().to_string() == name);
        let mut unreadable: Vec<String> = Vec::new();
        for (file, reason) in problems {
            failures.push(format!("{file}: {reason}"));
            if named(&file) && reason.starts_with("cannot open") {
                unreadable.push(format!("{file}: {reason}"));
            }
            loader.reject_file(RejectedRecord { file, line: None, index: None, reason, excerpt: String::new() });
        }
        let read = Arc::new(AtomicU64::new(0));
        let mut opened: Vec<(Input, std::io::Result<Opened>)> = Vec::new();
        for input in inputs {
            let copy = options_spooled.iter().find(|(name, _)| *name == input.display());
            let o = match (&input, copy) {
                (_, Some((_, file))) => source::open_spool(Arc::clone(file)),
                (Input::File(p), None) if source::is_rereadable(p) => source::open_file(p),
                // A pipe is read once: as it comes, or into a spool to show its records again.
                _ if show_originals => source::open_spooled(&input, &read),
                _ => Ok(source::open_stream(&input)),
            };
            opened.push((input, o));
        }
        read.store(0, Ordering::Relaxed);
        loader.tally.progress.files_total = opened.len();
        loader.tally.progress.bytes_total =
            opened.iter().filter_map(|(_, o)| o.as_ref().ok()).map(|o| o.size_on_disk).sum();
        let mut any_ok = false;
        for (input, o) in opened {
            let name = input.display();
            loader.tally.progress.current = name.clone();
            let outcome = match o {
                Ok(o) => match source::reader(&o, &read) {
                    Ok((r, gzip)) => {
                        let info = SourceInfo {
                            name: name.clone(),
                            reread: o.reread(),
                            gzip,
                            layout: None,
                            size_on_disk: o.size_on_disk,
                            bytes: 0,
                            records: 0,
                        };
                        let records_before = loader.tally.records;
                        match loader.read_source(info, r, &read, &mut progress) {
                            Ok(()) => Ok(()),
                            Err(SourceError::Cancelled) => return Err(LoadError::Cancelled),
                            Err(SourceError::Io(reason)) => {
                                // A partly read file keeps what was read before the failure.
                                any_ok |= loader.tally.records > records_before;
                                Err(reason)
                            }
                        }
                    }
                    Err(e) => Err(source::io_reason(Some(&e), "cannot open")),
                },
                Err(e) => {
                    let reason = source::io_reason(Some(&e), "cannot open");
                    if named(&name) {
                        unreadable.push(format!("{name}: {reason}"));
                    }
                    Err(reason)
                }
            };
            match outcome {
                Ok(()) => any_ok = true,
                Err(reason) => {
                    failures.push(format!("{name}: {reason}"));
                    loader.reject_file(RejectedRecord {
                        file: name,
                        line: None,
                        index: None,
                        reason,
                        excerpt: String::new(),
                    });
                }
            }
            loader.tally.progress.files_done += 1;
            loader.tally.progress.bytes_read = read.load(Ordering::Relaxed);
            if !progress(&loader.tally.progress) {
                return Err(LoadError::Cancelled);
            }
        }
        if !any_ok {
            let why = if failures.is_empty() { "no input files found".to_string() } else { failures.join("; ") };
            return Err(LoadError::NoInput(why));
        }
        let mut archive = loader.finish();
        if let Some(alt) = archive.alt.as_mut() {
            alt.unreadable = unreadable.clone();
        }
        archive.unreadable = unreadable;
        Ok(archive)
    }

    /// The original text of the record an event came from, re-read from its source.
    /// For envelopes and STv2 pairs this is the notification inside.
    pub fn original(&self, origin: &Origin) -> Result<String, String> {
        let src = self.sources.get(origin.source as usize).ok_or("unknown source")?;
        let from = src.reread.as_ref().ok_or("the source cannot be read again")?;
        let bytes = source::read_at(from, src.gzip, origin.offset, origin.len as usize)
            .map_err(|e| format!("{}: {e}", src.name))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // A record that was read is valid JSON, but a value no double holds (`1e400`, which the
        // loader reads as infinity, docs/inputs.md#number-reading) cannot be re-indented: shown as it is.
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { return Ok(text) };
        let value = match origin.kind {
            RecordKind::Stv2Pair => value.get(1).cloned().unwrap_or(value),
            _ => value,
        };
        let value = match value.get("oslo.message").and_then(|m| m.as_str()) {
            Some(inner) => serde_json::from_str(inner).unwrap_or(value),
            None => value,
        };
        Ok(serde_json::to_string_pretty(&value).unwrap_or(text))
    }

    /// Where an event came from, as `file:line`.
    pub fn location(&self, origin: &Origin) -> String {
        let name = self.sources.get(origin.source as usize).map(|s| s.name.as_str()).unwrap_or("?");
        match origin.index {
            Some(i) => format!("{name}:{}[#{i}]", origin.line),
            None => format!("{name}:{}", origin.line),
        }
    }

    pub fn not_distilled_total(&self) -> u64 {
        self.not_distilled.values().sum()
    }

    /// The inputs that gave nothing, in load order: empty, or holding no record.
    pub fn barren_inputs(&self) -> Vec<(&str, Barren)> {
        self.sources
            .iter()
            // A file that failed as a whole is among the rejected already.
            .filter(|s| s.records == 0 && !self.rejected.iter().any(|r| r.file == s.name))
            .map(|s| (s.name.as_str(), if s.bytes == 0 { Barren::Empty } else { Barren::NoRecord }))
            .collect()
    }

    /// Events read per source, in the order of `sources`.
    pub fn events_per_source(&self) -> Vec<u64> {
        let mut n = vec![0u64; self.sources.len()];
        for e in &self.events {
            if let Some(c) = n.get_mut(e.origin.source as usize) {
                *c += 1;
            }
        }
        n
    }
}

enum SourceError {
    Io(String),
    Cancelled,
}

/// What a record became, ready to be taken in archive order.
enum Taken {
    /// With, for a second rule set's event in an audit, the names both rule sets
    /// read of its type: the first rule set's event of the record may stand for
    /// it when the two agree on those ([`Event::absorb`]).
    Event(Event, Option<u64>),
    /// An event of another part of a split (docs/scale.md#the-split).
    Filtered,
    NotDistilled(String),
    Rejected {
        reason: String,
        excerpt: String,
        line: u32,
        index: Option<u32>,
    },
}

/// A piece of a source as the reader thread hands it over: complete lines
/// (except at the very end), or the read error that stopped it.
enum Piece {
    /// The source's layout, decided from its first bytes, sent before them.
    Layout(Layout),
    /// Bytes, and whether they are the end of the source.
    Bytes(Chunk, bool),
    Failed(std::io::Error),
}

struct Loader {
    options: LoadOptions,
    symbols: SharedSymbols,
    tally: Tally,
    skipped: Vec<String>,
    /// What the second rule set made of the records, when there is one.
    alt: Option<Tally>,
    /// Every message id taken so far, with a bit per rule set that took it: one
    /// table for both rule sets instead of one each.
    seen: HashMap<MessageId, u8>,
}

/// Hand each record's outcomes to the tally of its rule set, in archive order.
fn take_all(
    tally: &mut Tally,
    alt: &mut Option<Tally>,
    seen: &mut HashMap<MessageId, u8>,
    source: u32,
    results: Vec<Vec<(u8, Taken)>>,
) {
    // The event the first rule set took last: the second may take the same one.
    let mut last: Option<usize> = None;
    for (side, t) in results.into_iter().flatten() {
        match (side, alt.as_mut()) {
            (0, _) => {
                let before = tally.events.len();
                tally.take(source, t, seen, 1, None);
                last = (tally.events.len() > before).then_some(before);
            }
            (_, Some(a)) => a.take(source, t, seen, 2, last.map(|k| (k, &mut tally.events[k]))),
            (_, None) => {}
        }
    }
}

/// What the loader has taken so far, in archive order.
#[derive(Default)]
struct Tally {
    /// The events taken, in archive order: all of them, or with `slots`
    /// those that are not the first rule set's.
    events: Vec<Event>,
    /// For the second rule set: per event taken, in archive order, where it is
    /// ([`events::shared_slot`] into the first rule set's, or into `events`).
    slots: Option<Vec<u32>>,
    sources: Vec<SourceInfo>,
    rejected: Vec<RejectedRecord>,
    duplicates: u64,
    not_distilled: BTreeMap<String, u64>,
    records: u64,
    progress: LoadProgress,
    duplicate_records: Vec<Duplicate>,
    only: Option<Only>,
    filtered: u64,
}

/// The load's instance and tenant filter, interned.
#[derive(Clone)]
struct Only {
    instances: HashSet<Sym>,
    tenants: HashSet<Sym>,
}

impl Only {
    fn keeps(&self, e: &Event) -> bool {
        let has = |set: &HashSet<Sym>, name: Sym| {
            set.is_empty() || matches!(e.get(name), Some(Value::Text(s)) if set.contains(&s))
        };
        has(&self.instances, sym::INSTANCE_ID) && has(&self.tenants, sym::TENANT_ID)
    }
}

/// A line of a JSON Lines chunk: where it starts in the chunk, its length and number.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    len: usize,
    number: u32,
}

/// Read `r` on its own thread in pieces that end at a newline, so that
/// decompression and reading overlap with parsing.
/// Buffers come back through the second channel to be filled again.
const POOL: usize = 4;

fn spawn_reader<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    mut r: Box<dyn Read + Send>,
    chunk: usize,
) -> (mpsc::Receiver<Piece>, mpsc::SyncSender<Chunk>) {
    let (tx, rx) = mpsc::sync_channel::<Piece>(2);
    let (back_tx, back_rx) = mpsc::sync_channel::<Chunk>(POOL);
    scope.spawn(move || {
        let mut made = 0;
        let mut carry: Vec<u8> = Vec::new();
        let mut spare: Option<Chunk> = None;
        let mut layout = None;
        let bom = |b: &[u8]| if b.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
        loop {
            // A small pool of buffers goes round: fresh memory costs page faults every time.
            // Every buffer taken is either sent or kept as the spare, so the pool never runs dry.
            let mut buf = match spare.take() {
                Some(b) => b,
                None if made < POOL => {
                    made += 1;
                    Chunk::default()
                }
                None => match back_rx.recv() {
                    Ok(b) => b,
                    Err(_) => return,
                },
            };
            buf.clear();
            buf.extend_from_slice(&carry);
            carry.clear();
            // Always read something new: the carried part may already be a chunk long.
            // A line longer than a chunk keeps being read into the same buffer until it ends.
            // A document is read in plain chunks, record by record (docs/inputs.md#documents-record-by-record).
            let raw = layout == Some(Layout::Document);
            let result = loop {
                let from = buf.len();
                let result = buf.fill(&mut *r, from + chunk);
                if raw || !matches!(result, Ok(true)) || memchr::memchr(b'\n', &buf[from..]).is_some() {
                    break result;
                }
                // A first line longer than a chunk that opens an array is a document: it is
                // not read whole to find out (docs/inputs.md#layouts).
                if layout.is_none() && source::detect_layout(&buf[bom(&buf)..], false) == Layout::Document {
                    layout = Some(Layout::Document);
                    if tx.send(Piece::Layout(Layout::Document)).is_err() {
                        return;
                    }
                    break result;
                }
            };
            let raw = layout == Some(Layout::Document);
            if result.is_err() {
                // The read failed mid-line: keep the complete lines, the error reports the rest.
                let keep = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                buf.truncate(keep);
            }
            let more = matches!(result, Ok(true));
            if layout.is_none() {
                let l = source::detect_layout(&buf[bom(&buf)..], !more);
                layout = Some(l);
                if tx.send(Piece::Layout(l)).is_err() {
                    return;
                }
            }
            if more && !raw {
                // The loop above stopped at a newline.
                let end = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
                carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
            }
            if !buf.is_empty() || !more {
                if tx.send(Piece::Bytes(buf, !more)).is_err() {
                    return;
                }
            } else {
                spare = Some(buf);
            }
            match result {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    let _ = tx.send(Piece::Failed(e));
                    return;
                }
            }
        }
    });
    (rx, back_tx)
}

impl Loader {
    fn new(options: LoadOptions) -> Loader {
        let symbols = SharedSymbols::default();
        let only = options.filters().then(|| Only {
            instances: options.instances.iter().map(|i| symbols.intern(i)).collect(),
            tenants: options.tenants.iter().map(|t| symbols.intern(t)).collect(),
        });
        let tally = || Tally { only: only.clone(), ..Tally::default() };
        let alt = (options.rules.sets().len() > 1).then(|| Tally { slots: Some(Vec::new()), ..tally() });
        Loader { options, symbols, tally: tally(), alt, skipped: Vec::new(), seen: HashMap::default() }
    }

    /// A problem with a whole file: every rule set's archive lists it.
    fn reject_file(&mut self, r: RejectedRecord) {
        if let Some(a) = self.alt.as_mut() {
            a.rejected.push(r.clone());
        }
        self.tally.rejected.push(r);
    }

    fn read_source(
        &mut self,
        info: SourceInfo,
        r: Box<dyn Read + Send>,
        read: &Arc<AtomicU64>,
        progress: &mut dyn FnMut(&LoadProgress) -> bool,
    ) -> Result<(), SourceError> {
        let idx = self.tally.sources.len() as u32;
        if let Some(a) = self.alt.as_mut() {
            a.sources.push(info.clone());
        }
        self.tally.sources.push(info);
        std::thread::scope(|scope| {
            let (rx, recycle) = spawn_reader(scope, r, self.options.pieces.map_or(CHUNK, |p| p.0));
            let mut base: u64 = 0; // offset of the current piece in the decompressed content
            let mut line_no: u32 = 1;
            let mut layout = None;
            let mut document: Option<document::DocStream> = None;
            // The results of the previous chunk, taken while the next one is parsed.
            let mut pending: Vec<Vec<(u8, Taken)>> = Vec::new();
            for piece in rx.iter() {
                let (bytes, last) = match piece {
                    Piece::Layout(l) => {
                        layout = Some(l);
                        self.tally.sources[idx as usize].layout = Some(l);
                        continue;
                    }
                    Piece::Bytes(b, last) => (b, last),
                    Piece::Failed(e) => {
                        take_all(&mut self.tally, &mut self.alt, &mut self.seen, idx, std::mem::take(&mut pending));
                        return Err(self.read_error(idx, &e));
                    }
                };
                let skip = if base == 0 && bytes.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
                match layout.unwrap_or(Layout::JsonLines) {
                    Layout::JsonLines => {
                        // Parsing this chunk on every core overlaps taking the last one.
                        let prev = std::mem::take(&mut pending);
                        let (symbols, keep, sets) =
                            (&self.symbols, self.options.projection(), self.options.rules.sets());
                        let (tally, alt, seen) = (&mut self.tally, &mut self.alt, &mut self.seen);
                        let ((parsed, next_line), ()) = rayon::join(
                            || parse_lines(symbols, keep, sets, idx, &bytes, skip, base, line_no),
                            || take_all(tally, alt, seen, idx, prev),
                        );
                        line_no = next_line;
                        if base == 0 && !last {
                            let events = parsed.iter().flatten().filter(|t| matches!(t, (0, Taken::Event(..)))).count();
                            self.reserve_for(bytes.len(), events);
                        }
                        pending = parsed;
                        base += bytes.len() as u64;
                        self.tally.sources[idx as usize].bytes = base;
                        let _ = recycle.try_send(bytes);
                    }
                    Layout::Document => {
                        base += bytes.len() as u64;
                        self.tally.sources[idx as usize].bytes = base;
                        let batch = self.options.pieces.map(|p| p.1);
                        let doc = document.get_or_insert_with(|| document::DocStream::new(skip, batch));
                        doc.push(&bytes, last);
                        let _ = recycle.try_send(bytes);
                        self.document_records(idx, doc, skip);
                    }
                }
                self.tally.progress.bytes_read = read.load(Ordering::Relaxed);
                if !progress(&self.tally.progress) {
                    return Err(SourceError::Cancelled);
                }
            }
            take_all(&mut self.tally, &mut self.alt, &mut self.seen, idx, pending);
            Ok(())
        })
    }

    /// Make room for the events still to come, judging by the first chunk of the
    /// first large source, so that the event list is not copied as it grows.
    fn reserve_for(&mut self, chunk_bytes: usize, chunk_events: usize) {
        let src = &self.tally.sources[self.tally.sources.len() - 1];
        // Gzip archives of JSON typically shrink about eightfold.
        let total = if src.gzip { src.size_on_disk.saturating_mul(8) } else { src.size_on_disk };
        let per_byte = chunk_events as f64 / chunk_bytes.max(1) as f64;
        // Only an estimate, capped so that a wrong guess costs little.
        let guess = ((total as f64 * per_byte * 1.05) as usize).min(64 << 20);
        self.tally.events.reserve(guess.saturating_sub(self.tally.events.len()));
        // The second rule set's list is a slot per event; most of its events are the first's.
        if let Some(slots) = self.alt.as_mut().and_then(|a| a.slots.as_mut()) {
            slots.reserve(guess.saturating_sub(slots.len()));
        }
        self.seen.reserve(guess.saturating_sub(self.seen.len()));
    }

    fn read_error(&self, idx: u32, e: &std::io::Error) -> SourceError {
        let src = &self.tally.sources[idx as usize];
        let what = if src.gzip {
            format!("gzip stream broken after {} bytes ({e}); the records before it were loaded", src.bytes)
        } else {
            format!("read error after {} bytes ({e}); the records before it were loaded", src.bytes)
        };
        SourceError::Io(what)
    }

    /// Distill the records of a document that are ready (docs/inputs.md#documents-record-by-record),
    /// and at its end whatever it kept.
    fn document_records(&mut self, source: u32, doc: &mut document::DocStream, skip: usize) {
        while let Some(n) = doc.ready() {
            let (symbols, keep, sets) = (&self.symbols, self.options.projection(), self.options.rules.sets());
            let (buf, buf_base, first) = (&doc.buf, doc.buf_base, doc.taken);
            let end = doc.elems[n - 1].0 + doc.elems[n - 1].1;
            let newlines: Vec<usize> = memchr::memchr_iter(b'\n', &buf[..end]).collect();
            let line0 = doc.at.line as u32 + 1;
            let line_of = |off: usize| -> u32 { line0 + newlines.partition_point(|&nl| nl < off) as u32 };
            let results: Vec<(bool, Vec<(u8, Taken)>)> = doc.elems[..n]
                .par_iter()
                .enumerate()
                .with_min_len(64)
                .map(|(j, &(off, len))| {
                    let mut one = Vec::new();
                    let mut memo = Memo::new(sets);
                    memo.record(&buf[off..off + len]);
                    distill::distill_text_for(
                        &buf[off..off + len],
                        distill::Unit::Element,
                        keep.tables(sets),
                        &mut one,
                    );
                    let broken = one
                        .iter()
                        .any(|o| matches!(o, Outcome::Rejected { reason, .. } if reason.starts_with("invalid JSON")));
                    let index = first + j as u32;
                    let taken = one
                        .into_iter()
                        .map(|o| {
                            convert(shift(o, off, index), symbols, &mut memo, keep, sets, source, buf_base, line_of)
                        })
                        .collect();
                    (broken, taken)
                })
                .collect();
            // A broken element is read again, with everything after it, as a broken document is.
            let good = results.iter().position(|r| r.0).unwrap_or(n);
            take_all(
                &mut self.tally,
                &mut self.alt,
                &mut self.seen,
                source,
                results.into_iter().take(good).map(|r| r.1).collect(),
            );
            if good < n {
                doc.taken(good);
                doc.broken_at(0);
            } else {
                doc.taken(n);
            }
        }
        if !doc.ended {
            return;
        }
        match doc.mode {
            document::Mode::Rest { from, in_array } => self.document_rest(source, doc, from, in_array),
            // Nothing taken: the document was small, or not a regular array; read whole.
            _ if doc.taken == 0 => {
                let buf = std::mem::take(&mut doc.buf);
                self.document(source, &buf, skip);
            }
            _ => {}
        }
    }

    /// The end of a document from the first irregularity on, read as a broken document is.
    fn document_rest(&mut self, source: u32, doc: &document::DocStream, from: usize, in_array: bool) {
        let text = &doc.buf;
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text).collect();
        let line0 = doc.at.line as u32 + 1;
        let line_of = |off: usize| -> u32 { line0 + newlines.partition_point(|&nl| nl < off) as u32 };
        let records = source::document_records_at(text, from, in_array, doc.at);
        let taken = self.broken_document_records(text, records, doc.taken, doc.buf_base, source, line_of);
        take_all(&mut self.tally, &mut self.alt, &mut self.seen, source, vec![taken]);
    }

    /// The records of a document that did not parse whole: each one read, or rejected.
    fn broken_document_records(
        &self,
        text: &[u8],
        records: Vec<Result<(usize, usize), (usize, String)>>,
        first: u32,
        base: u64,
        source: u32,
        line_of: impl Fn(usize) -> u32 + Copy,
    ) -> Vec<(u8, Taken)> {
        let (symbols, keep, sets) = (&self.symbols, self.options.projection(), self.options.rules.sets());
        let mut taken = Vec::new();
        for (i, el) in records.into_iter().enumerate() {
            let i = first + i as u32;
            match el {
                Ok((off, len)) => {
                    let mut one = Vec::new();
                    let mut memo = Memo::new(sets);
                    memo.record(&text[off..off + len]);
                    distill::distill_text_for(
                        &text[off..off + len],
                        distill::Unit::Element,
                        keep.tables(sets),
                        &mut one,
                    );
                    for o in one {
                        taken.push(convert(shift(o, off, i), symbols, &mut memo, keep, sets, source, base, line_of));
                    }
                }
                Err((off, reason)) => {
                    let end = (off + 200).min(text.len());
                    let loc = Loc {
                        side: distill::EVERY_SIDE,
                        offset: off,
                        len: end - off,
                        index: Some(i),
                        kind: RecordKind::Notification,
                    };
                    let excerpt = distill::excerpt(&text[off..end]);
                    for side in 0..sets.len() {
                        let loc = Loc { side: side as u8, ..loc };
                        let o = Outcome::Rejected { reason: reason.clone(), excerpt: excerpt.clone(), loc };
                        taken.push(convert(o, symbols, &mut Memo::off(), keep, sets, source, base, line_of));
                    }
                }
            }
        }
        taken
    }

    /// A whole-file document: an array of records or one record.
    fn document(&mut self, source: u32, buf: &[u8], skip: usize) {
        let text = &buf[skip..];
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text).collect();
        let line_of = |off: usize| -> u32 { (newlines.partition_point(|&n| n < off) + 1) as u32 };
        let (symbols, keep, sets) = (&self.symbols, self.options.projection(), self.options.rules.sets());
        let mut out = Vec::new();
        distill::distill_text_for(text, distill::Unit::Document, keep.tables(sets), &mut out);
        let broken =
            out.len() == 1 && matches!(&out[0], Outcome::Rejected { reason, .. } if reason.starts_with("invalid JSON"));
        let records = if broken { source::document_records(text) } else { Vec::new() };
        // A file of which nothing can be read stays one problem, the file's.
        let readable = records.iter().any(|r| r.is_ok());
        let taken = if readable {
            // Read record by record so that one broken record loses nothing else.
            self.broken_document_records(text, records, 0, skip as u64, source, line_of)
        } else {
            // The memo is for one record at a time.
            let mut memo = Memo::off();
            out.into_iter().map(|o| convert(o, symbols, &mut memo, keep, sets, source, skip as u64, line_of)).collect()
        };
        take_all(&mut self.tally, &mut self.alt, &mut self.seen, source, vec![taken]);
    }

    fn finish(self) -> Archive {
        let symbols = self.symbols.into_symbols();
        let sets = self.options.rules.sets();
        let skipped = self.skipped;
        let sources = self.tally.sources.clone();
        let keep = self.options.keep;
        let (mut archive, moved) = self.tally.into_archive(symbols.clone(), sets[0], keep, self.alt.is_some(), None);
        if let Some(mut alt) = self.alt {
            alt.sources = sources;
            let base = archive.events.base().map(|b| (b, moved));
            let (mut a, _) = alt.into_archive(symbols, sets[1], keep, false, base);
            a.skipped = skipped.clone();
            archive.alt = Some(Box::new(a));
        }
        archive.skipped = skipped;
        archive
    }
}

impl Tally {
    /// The archive of these events, and (when `moved` is asked for) where each event
    /// went in the sort: its position in replay order, by its position in archive order.
    /// A second rule set's list points into `base`, the first rule set's sorted events,
    /// given with where each of them went.
    fn into_archive(
        mut self,
        symbols: Symbols,
        rules: RuleSet,
        keep: Keep,
        moved: bool,
        base: Option<(Arc<Vec<Event>>, Vec<u32>)>,
    ) -> (Archive, Vec<u32>) {
        let mut own = std::mem::take(&mut self.events);
        let (events, moved) = match (self.slots.take(), base) {
            (Some(mut slots), Some((base, moved_base))) => {
                // Point into the first rule set's events where they now are, then put the
                // slots in replay order: by timestamp, ties in archive order (a stable sort).
                for s in slots.iter_mut() {
                    if let (true, k) = events::slot_target(*s) {
                        *s = events::shared_slot(moved_base[k] as usize);
                    }
                }
                let at = |s: &u32| match events::slot_target(*s) {
                    (true, k) => base[k].timestamp,
                    (false, k) => own[k].timestamp,
                };
                slots.sort_by_key(at);
                (Events::sharing(base, own, slots), Vec::new())
            }
            // Without a first list to point into, every event is this list's own, in archive order.
            _ => {
                let moved = sort_by_time(&mut own, moved);
                (Events::plain(own), moved)
            }
        };
        let archive = Archive {
            symbols,
            events,
            sources: self.sources,
            rejected: self.rejected,
            duplicates: self.duplicates,
            not_distilled: self.not_distilled,
            records: self.records,
            duplicate_records: self.duplicate_records,
            skipped: Vec::new(),
            unreadable: Vec::new(),
            filtered: self.filtered,
            rules,
            keep,
            alt: None,
        };
        (archive, moved)
    }
}

/// docs/streams.md#replay: events stably sorted by timestamp, ties in archive
/// order. The order is worked out on (timestamp, position) pairs and applied in
/// place, one cycle of the permutation at a time, so that sorting never holds a
/// second copy of the events (a merge sort's buffer is as large as the list).
/// With `moved`, it returns where each event went (its new position, by its old one).
fn sort_by_time(events: &mut [Event], moved: bool) -> Vec<u32> {
    use crate::time::Timestamp;
    let mut order: Vec<(Timestamp, u32)> = events.iter().enumerate().map(|(i, e)| (e.timestamp, i as u32)).collect();
    if order.windows(2).all(|w| w[0] <= w[1]) {
        return if moved { (0..events.len() as u32).collect() } else { Vec::new() };
    }
    order.par_sort_unstable();
    // `from[k]`: where the event that belongs at `k` is now.
    let mut from: Vec<u32> = order.into_iter().map(|(_, i)| i).collect();
    let mut to = Vec::new();
    if moved {
        to = vec![0u32; from.len()];
        for (k, &i) in from.iter().enumerate() {
            to[i as usize] = k as u32;
        }
    }
    for start in 0..from.len() {
        let mut at = start;
        // Each swap puts one event in its place; a cycle ends where it began.
        while from[at] as usize != start {
            let next = from[at] as usize;
            events.swap(at, next);
            from[at] = at as u32;
            at = next;
        }
        from[at] = at as u32;
    }
    to
}

/// Distill the lines of one chunk on all cores; the results in archive order and
/// the number of the line after the chunk.
#[allow(clippy::too_many_arguments)]
fn parse_lines(
    symbols: &SharedSymbols,
    keep: Projection,
    sets: &[RuleSet],
    source: u32,
    chunk: &[u8],
    skip: usize,
    base: u64,
    mut line_no: u32,
) -> (Vec<Vec<(u8, Taken)>>, u32) {
    let mut lines = Vec::with_capacity(chunk.len() / 512 + 1);
    let mut start = skip;
    for nl in memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len())) {
        if nl < start {
            continue;
        }
        let t = source::trim(&chunk[start..nl]);
        if !t.is_empty() {
            let lead = t.as_ptr() as usize - chunk[start..].as_ptr() as usize;
            lines.push(Line { start: start + lead, len: t.len(), number: line_no });
        }
        if nl < chunk.len() {
            line_no += 1;
        }
        start = nl + 1;
    }
    let results: Vec<Vec<(u8, Taken)>> = lines
        .par_chunks(128)
        .map(|batch| {
            let mut out = Vec::with_capacity(batch.len());
            let mut tmp = Vec::new();
            let mut memo = Memo::new(sets);
            for l in batch {
                let text = &chunk[l.start..l.start + l.len];
                distill::distill_text_for(text, distill::Unit::Line, keep.tables(sets), &mut tmp);
                let line_base = base + l.start as u64;
                memo.record(text);
                for o in tmp.drain(..) {
                    out.push(convert(o, symbols, &mut memo, keep, sets, source, line_base, |_| l.number));
                }
            }
            out
        })
        .collect();
    (results, line_no)
}

impl Tally {
    /// Take one record's result, in archive order: drop duplicates, count.
    /// `seen` holds the message ids taken so far, `side` is this rule set's bit in it.
    /// `same`: the first rule set's last event (its position in archive order), which this
    /// one's list points at instead of holding a copy when the two are the same, or
    /// when it can stand for both ([`Event::absorb`]).
    fn take(
        &mut self,
        source: u32,
        t: Taken,
        seen: &mut HashMap<MessageId, u8>,
        side: u8,
        same: Option<(usize, &mut Event)>,
    ) {
        self.records += 1;
        self.progress.records += 1;
        self.sources[source as usize].records += 1;
        match t {
            Taken::Event(e, shared) => {
                if self.only.as_ref().is_some_and(|o| !o.keeps(&e)) {
                    self.filtered += 1;
                    return;
                }
                let sides = seen.entry(e.message_id).or_insert(0);
                if *sides & side != 0 {
                    // docs/inputs.md#duplicates-and-records-not-distilled: the first event with a message id wins.
                    self.duplicates += 1;
                    self.progress.duplicates += 1;
                    self.duplicate_records.push(Duplicate {
                        message_id: e.message_id,
                        event_type: e.event_type,
                        timestamp: e.timestamp,
                        origin: e.origin,
                    });
                    return;
                }
                *sides |= side;
                let stands_for = |(k, first): (usize, &mut Event)| {
                    (first.same(&e) || shared.is_some_and(|names| first.absorb(&e, names))).then_some(k)
                };
                let k = if self.slots.is_some() { same.and_then(stands_for) } else { None };
                match (self.slots.as_mut(), k) {
                    (Some(slots), Some(k)) => slots.push(events::shared_slot(k)),
                    (Some(slots), _) => {
                        slots.push(self.events.len() as u32);
                        self.events.push(e);
                    }
                    (None, _) => self.events.push(e),
                }
                self.progress.events += 1;
            }
            Taken::Filtered => self.filtered += 1,
            Taken::NotDistilled(t) => *self.not_distilled.entry(t).or_insert(0) += 1,
            Taken::Rejected { reason, excerpt, line, index } => {
                self.progress.rejected += 1;
                self.rejected.push(RejectedRecord {
                    file: self.sources[source as usize].name.clone(),
                    line: Some(line),
                    index,
                    reason,
                    excerpt,
                });
            }
        }
    }
}

/// What the parse threads keep of each event: its traits, and whether it
/// belongs to this part of a split.
#[derive(Clone, Copy)]
struct Projection {
    keep: Keep,
    shard: Option<Shard>,
    one_event_for_both: bool,
}

impl Projection {
    /// The trait tables of `sets`, making only the traits this load keeps.
    fn tables(self, sets: &[RuleSet]) -> distill::Tables<'_> {
        distill::Tables { sets, keep: self.keep }
    }
}

/// The instance id a record was distilled with, for the split.
fn distilled_instance<'d>(d: &'d Distilled) -> Option<&'d str> {
    d.traits.iter().find_map(|(n, v)| match (n, v) {
        (TraitName::Known(s), TraitVal::Text(t)) if *s == sym::INSTANCE_ID => Some(t.as_ref()),
        _ => None,
    })
}

/// Turn one outcome into what the loader takes, interning its strings (on the parse threads).
#[allow(clippy::too_many_arguments)]
fn convert(
    o: Outcome,
    symbols: &SharedSymbols,
    memo: &mut Memo,
    keep: Projection,
    sets: &[RuleSet],
    source: u32,
    base: u64,
    line_of: impl Fn(usize) -> u32,
) -> (u8, Taken) {
    let side = o.loc().side;
    let set = sets.get(side as usize).copied().unwrap_or_default();
    let taken = match o {
        Outcome::Event(d, _) if keep.shard.is_some_and(|s| !s.keeps(distilled_instance(&d))) => Taken::Filtered,
        Outcome::Event(d, loc) => {
            // docs/rules2015.md#what-side-by-side-costs: an audit's second event may be the first's.
            let shared = (side > 0 && keep.keep == Keep::Audit && keep.one_event_for_both)
                .then(|| Keep::Audit.mask(sets[0], &d.event_type) & Keep::Audit.mask(set, &d.event_type));
            Taken::Event(intern(d, symbols, memo, keep.keep, set, source, loc, base, line_of(loc.offset)), shared)
        }
        Outcome::NotDistilled(t, _) => Taken::NotDistilled(t.into_owned()),
        Outcome::Rejected { reason, excerpt, loc } => {
            Taken::Rejected { reason, excerpt, line: line_of(loc.offset), index: loc.index }
        }
    };
    (side, taken)
}

#[allow(clippy::too_many_arguments)]
fn intern(
    d: Distilled,
    symbols: &SharedSymbols,
    memo: &mut Memo,
    keep: Keep,
    set: RuleSet,
    source: u32,
    loc: Loc,
    base: u64,
    line: u32,
) -> Event {
    let mask = keep.mask(set, &d.event_type);
    let traits: Vec<Trait> = d
        .traits
        .into_iter()
        .filter(|(n, _)| match n {
            TraitName::Known(s) => mask & (1 << s.0) != 0,
            TraitName::Other(_) => keep == Keep::All,
        })
        .map(|(n, v)| {
            let name = match n {
                TraitName::Known(s) => s,
                TraitName::Other(c) => symbols.intern(&c),
            };
            let value = match v {
                TraitVal::Text(c) => Value::Text(symbols.intern(&c)),
                TraitVal::Int(i) => Value::Int(i),
                TraitVal::BigInt(c) => {
                    Value::BigInt { text: symbols.intern(&c), as_float: crate::pyfmt::exact_float(&c) }
                }
                TraitVal::Float(f) => Value::Float(f),
                TraitVal::DateTime(t) => Value::DateTime(t),
            };
            Trait { name, value }
        })
        .collect();
    let message_id = match MessageId::parse_uuid(&d.message_id) {
        Some(b) => MessageId::Uuid(b),
        None => MessageId::Text(memo.intern(symbols, &d.message_id)),
    };
    Event {
        timestamp: d.timestamp,
        event_type: memo.intern(symbols, &d.event_type),
        message_id,
        traits: Traits::from_traits(traits),
        origin: Origin {
            source,
            line,
            offset: base + loc.offset as u64,
            len: loc.len.min(u32::MAX as usize) as u32,
            index: loc.index,
            kind: loc.kind,
        },
    }
}

/// The symbols one record's strings were given, by where the strings lie in
/// the record. Under both rule sets a record's second event borrows most of its
/// strings from the same places as its first, and takes their symbols here
/// instead of hashing and looking them up again. Set to each record in turn.
struct Memo {
    on: bool,
    /// The record's bytes: only a string that lies within them is remembered
    /// (a converted one lives in memory that a later one may reuse).
    record: (usize, usize),
    known: Vec<(usize, usize, Sym)>,
}

impl Memo {
    /// A memo worth keeping only when a record gives more than one event.
    fn new(sets: &[RuleSet]) -> Memo {
        Memo { on: sets.len() > 1, record: (0, 0), known: Vec::new() }
    }

    /// A memo that remembers nothing: every string is interned as it comes.
    fn off() -> Memo {
        Memo::new(&[])
    }

    /// Start on the record `text`.
    fn record(&mut self, text: &[u8]) {
        self.record = (text.as_ptr() as usize, text.len());
        self.known.clear();
    }

    fn intern(&mut self, symbols: &SharedSymbols, s: &str) -> Sym {
        let at = (s.as_ptr() as usize, s.len());
        let (start, len) = self.record;
        if !self.on || at.0 < start || at.0 + at.1 > start + len {
            return symbols.intern(s);
        }
        // The same bytes of the same record: the same text.
        if let Some(&(_, _, sym)) = self.known.iter().find(|k| (k.0, k.1) == at) {
            return sym;
        }
        let sym = symbols.intern(s);
        self.known.push((at.0, at.1, sym));
        sym
    }
}

/// Move an outcome found inside an array element to the element's place in the file.
fn shift(o: Outcome, by: usize, index: u32) -> Outcome {
    let fix = |l: Loc| Loc { offset: l.offset + by, index: Some(l.index.unwrap_or(index)), ..l };
    match o {
        Outcome::Event(d, l) => Outcome::Event(d, fix(l)),
        Outcome::NotDistilled(t, l) => Outcome::NotDistilled(t, fix(l)),
        Outcome::Rejected { reason, excerpt, loc } => Outcome::Rejected { reason, excerpt, loc: fix(loc) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    fn event(timestamp: i64, offset: u64) -> Event {
        Event {
            timestamp: Timestamp(timestamp),
            event_type: Sym::default(),
            message_id: MessageId::Uuid([0; 16]),
            traits: Traits::default(),
            origin: Origin { source: 0, line: 0, offset, len: 0, index: None, kind: RecordKind::Notification },
        }
    }

    #[test]
    fn sorting_in_place_is_the_stable_sort() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for n in [0usize, 1, 2, 3, 10, 100, 5000] {
            for spread in [1i64, 3, 1000] {
                let mut events: Vec<Event> = (0..n as u64)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Few distinct timestamps: many ties, which must keep archive order.
                        event((seed % spread as u64) as i64, i)
                    })
                    .collect();
                let mut expected: Vec<(i64, u64)> = events.iter().map(|e| (e.timestamp.0, e.origin.offset)).collect();
                expected.sort_by_key(|&(t, _)| t);
                sort_by_time(&mut events, false);
                let got: Vec<(i64, u64)> = events.iter().map(|e| (e.timestamp.0, e.origin.offset)).collect();
                assert_eq!(got, expected, "n={n} spread={spread}");
            }
        }
    }
}
