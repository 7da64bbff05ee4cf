//! Archives (SPEC §1): reading every input, distilling its records in
//! parallel, and keeping the events in replay order with everything that went
//! wrong on the way (rejected records, duplicates, records not distilled).
//!
//! Inputs are streamed in chunks: a JSON Lines file is never held whole in
//! memory, only its events are. Each event remembers where it came from
//! ([`Origin`]) so that the UI can show the original record again.

pub mod json;
pub mod source;

use crate::distill::{self, Distilled, Loc, Outcome, TraitName, TraitVal};
use crate::event::{Event, Origin, RecordKind, Sym, Symbols, Trait, Value};
use rayon::prelude::*;
use rustc_hash::FxHashSet;
use source::{Input, Layout, Opened};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A record that could not be read (SPEC §1): where, why, and how it began.
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
#[derive(Debug)]
pub struct SourceInfo {
    pub name: String,
    /// Where the content can be read again (a spool file for standard input).
    pub path: Option<PathBuf>,
    pub gzip: bool,
    pub layout: Option<Layout>,
    pub size_on_disk: u64,
    /// Decompressed bytes read.
    pub bytes: u64,
    pub records: u64,
}

/// Progress of a load, reported after every chunk.
#[derive(Debug, Clone, Default)]
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
    /// Events in replay order: duplicates removed, stably sorted by timestamp (SPEC §4).
    pub events: Vec<Event>,
    pub sources: Vec<SourceInfo>,
    pub rejected: Vec<RejectedRecord>,
    pub duplicates: u64,
    /// Records whose type no event definition covers, counted by type.
    pub not_distilled: BTreeMap<String, u64>,
    pub records: u64,
    /// Keeps standard input's spool file alive as long as the archive.
    _spool: Vec<tempfile::TempPath>,
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
const CHUNK: usize = 8 << 20;

impl Archive {
    /// An archive from events made in code (tests, the generator's checks).
    pub fn from_events(symbols: Symbols, mut events: Vec<Event>) -> Archive {
        events.sort_by_key(|e| e.timestamp);
        Archive {
            symbols,
            events,
            sources: Vec::new(),
            rejected: Vec::new(),
            duplicates: 0,
            not_distilled: BTreeMap::new(),
            records: 0,
            _spool: Vec::new(),
        }
    }

    /// An archive read from bytes in memory, as if they were a file called `name`
    /// (gzip recognised by its magic bytes). Used by tests and examples; records
    /// cannot be shown again from such a source.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Archive {
        let mut loader = Loader::default();
        let gzip = bytes.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn std::io::Read + Send> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::Cursor::new(bytes.to_vec())))
        } else {
            Box::new(std::io::Cursor::new(bytes.to_vec()))
        };
        let info = SourceInfo {
            name: name.to_string(),
            path: None,
            gzip,
            layout: None,
            size_on_disk: bytes.len() as u64,
            bytes: 0,
            records: 0,
        };
        let read = Arc::new(AtomicU64::new(0));
        if let Err(SourceError::Io(reason)) = loader.read_source(info, reader, &read, &mut |_| true) {
            loader.rejected.push(RejectedRecord {
                file: name.to_string(),
                line: None,
                index: None,
                reason,
                excerpt: String::new(),
            });
        }
        loader.finish()
    }

    /// Load every path (SPEC §1). `progress` is called after each chunk and may
    /// return `false` to cancel. Fails only when no input could be read at all.
    pub fn load(paths: &[PathBuf], mut progress: impl FnMut(&LoadProgress) -> bool) -> Result<Archive, LoadError> {
        let (inputs, problems) = source::expand(paths);
        let mut loader = Loader::default();
        let mut failures: Vec<String> = Vec::new();
        for (file, reason) in problems {
            failures.push(format!("{file}: {reason}"));
            loader.rejected.push(RejectedRecord { file, line: None, index: None, reason, excerpt: String::new() });
        }
        let read = Arc::new(AtomicU64::new(0));
        let mut opened: Vec<(Input, std::io::Result<Opened>)> = Vec::new();
        for input in inputs {
            let o = match &input {
                Input::File(p) => source::open_file(p),
                Input::Stdin => source::spool_stdin(&read).and_then(|tmp| {
                    let o = source::open_file(&tmp);
                    loader.spool.push(tmp);
                    o
                }),
            };
            opened.push((input, o));
        }
        loader.progress.files_total = opened.len();
        loader.progress.bytes_total = opened.iter().filter_map(|(_, o)| o.as_ref().ok()).map(|o| o.size_on_disk).sum();
        let mut any_ok = false;
        for (input, o) in opened {
            let name = input.display();
            loader.progress.current = name.clone();
            match o {
                Ok(o) => {
                    let before = read.load(Ordering::Relaxed);
                    match loader.load_source(&name, &o, &read, &mut progress) {
                        Ok(()) => any_ok = true,
                        Err(SourceError::Cancelled) => return Err(LoadError::Cancelled),
                        Err(SourceError::Io(reason)) => {
                            // Partially read files keep what was read (loaded by now).
                            any_ok |= read.load(Ordering::Relaxed) > before;
                            failures.push(format!("{name}: {reason}"));
                            loader.rejected.push(RejectedRecord {
                                file: name,
                                line: None,
                                index: None,
                                reason,
                                excerpt: String::new(),
                            });
                        }
                    }
                }
                Err(e) => {
                    let reason = source::io_reason(Some(&e), "cannot open");
                    failures.push(format!("{name}: {reason}"));
                    loader.rejected.push(RejectedRecord {
                        file: name,
                        line: None,
                        index: None,
                        reason,
                        excerpt: String::new(),
                    });
                }
            }
            loader.progress.files_done += 1;
            loader.progress.bytes_read = read.load(Ordering::Relaxed);
            if !progress(&loader.progress) {
                return Err(LoadError::Cancelled);
            }
        }
        if !any_ok {
            let why = if failures.is_empty() { "no input files found".to_string() } else { failures.join("; ") };
            return Err(LoadError::NoInput(why));
        }
        Ok(loader.finish())
    }

    /// The original text of the record an event came from, re-read from its source.
    /// For envelopes and STv2 pairs this is the notification inside.
    pub fn original(&self, origin: &Origin) -> Result<String, String> {
        let src = self.sources.get(origin.source as usize).ok_or("unknown source")?;
        let path = src.path.as_ref().ok_or("the source cannot be read again")?;
        let bytes = source::read_at(path, src.gzip, origin.offset, origin.len as usize)
            .map_err(|e| format!("{}: {e}", src.name))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", src.name))?;
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
}

enum SourceError {
    Io(String),
    Cancelled,
}

#[derive(Default)]
struct Loader {
    symbols: Symbols,
    events: Vec<Event>,
    seen: FxHashSet<Sym>,
    sources: Vec<SourceInfo>,
    rejected: Vec<RejectedRecord>,
    duplicates: u64,
    not_distilled: BTreeMap<String, u64>,
    records: u64,
    spool: Vec<tempfile::TempPath>,
    progress: LoadProgress,
}

/// A line of a JSON Lines chunk: where it starts in the chunk, its length and number.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    len: usize,
    number: u32,
}

impl Loader {
    fn load_source(
        &mut self,
        name: &str,
        o: &Opened,
        read: &Arc<AtomicU64>,
        progress: &mut dyn FnMut(&LoadProgress) -> bool,
    ) -> Result<(), SourceError> {
        let r = source::reader(o, read).map_err(|e| SourceError::Io(source::io_reason(Some(&e), "cannot open")))?;
        let info = SourceInfo {
            name: name.to_string(),
            path: Some(o.path.clone()),
            gzip: o.gzip,
            layout: None,
            size_on_disk: o.size_on_disk,
            bytes: 0,
            records: 0,
        };
        self.read_source(info, r, read, progress)
    }

    fn read_source(
        &mut self,
        info: SourceInfo,
        mut r: Box<dyn std::io::Read + Send>,
        read: &Arc<AtomicU64>,
        progress: &mut dyn FnMut(&LoadProgress) -> bool,
    ) -> Result<(), SourceError> {
        let idx = self.sources.len() as u32;
        self.sources.push(info);
        let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + (1 << 16));
        let more = source::fill(&mut *r, &mut buf, CHUNK).map_err(|e| self.read_error(idx, &e))?;
        // A byte-order mark is not part of the first record.
        let bom = if buf.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
        let layout = source::detect_layout(&buf[bom..], !more);
        self.sources[idx as usize].layout = Some(layout);
        match layout {
            Layout::Document => {
                let mut more = more;
                while more {
                    let want = buf.len() + CHUNK;
                    more = source::fill(&mut *r, &mut buf, want).map_err(|e| self.read_error(idx, &e))?;
                }
                self.sources[idx as usize].bytes = buf.len() as u64;
                self.document(idx, &buf, bom);
            }
            Layout::JsonLines => {
                let mut base: u64 = 0; // offset of buf[0] in the decompressed content
                let mut line_no: u32 = 1;
                let mut skip = bom;
                let mut more = more;
                loop {
                    // Process up to the last newline; keep the partial line for the next round.
                    let cut = if more {
                        match memchr::memrchr(b'\n', &buf) {
                            Some(i) => i + 1,
                            None => {
                                // A single line longer than the chunk: read on until it ends.
                                let want = buf.len() + CHUNK;
                                more = source::fill(&mut *r, &mut buf, want).map_err(|e| self.read_error(idx, &e))?;
                                continue;
                            }
                        }
                    } else {
                        buf.len()
                    };
                    line_no = self.json_lines(idx, &buf[..cut], skip, base, line_no);
                    skip = 0;
                    self.sources[idx as usize].bytes = base + cut as u64;
                    self.progress.bytes_read = read.load(Ordering::Relaxed);
                    if !progress(&self.progress) {
                        return Err(SourceError::Cancelled);
                    }
                    if !more {
                        break;
                    }
                    buf.drain(..cut);
                    base += cut as u64;
                    let result = source::fill(&mut *r, &mut buf, CHUNK);
                    more = match result {
                        Ok(m) => m,
                        Err(e) => {
                            // Keep what was read before the failure, including complete lines left in buf.
                            let keep = memchr::memrchr(b'\n', &buf).map(|i| i + 1).unwrap_or(0);
                            self.json_lines(idx, &buf[..keep], 0, base, line_no);
                            self.sources[idx as usize].bytes = base + keep as u64;
                            return Err(self.read_error(idx, &e));
                        }
                    };
                }
            }
        }
        Ok(())
    }

    fn read_error(&self, idx: u32, e: &std::io::Error) -> SourceError {
        let src = &self.sources[idx as usize];
        let what = if src.gzip {
            format!("gzip stream broken after {} bytes ({e}); the records before it were loaded", src.bytes)
        } else {
            format!("read error after {} bytes ({e}); the records before it were loaded", src.bytes)
        };
        SourceError::Io(what)
    }

    /// Distill the complete lines of one chunk on all cores, then take the results in order.
    fn json_lines(&mut self, source: u32, chunk: &[u8], skip: usize, base: u64, mut line_no: u32) -> u32 {
        let mut lines = Vec::with_capacity(chunk.len() / 512 + 1);
        let mut start = skip;
        for nl in memchr::memchr_iter(b'\n', chunk).chain(std::iter::once(chunk.len())) {
            if nl < start {
                continue;
            }
            let line = &chunk[start..nl];
            let t = source::trim(line);
            if !t.is_empty() {
                let lead = t.as_ptr() as usize - line.as_ptr() as usize;
                lines.push(Line { start: start + lead, len: t.len(), number: line_no });
            }
            if nl < chunk.len() {
                line_no += 1;
            }
            start = nl + 1;
        }
        let results: Vec<Vec<(Line, Outcome)>> = lines
            .par_chunks(256)
            .map(|batch| {
                let mut out = Vec::with_capacity(batch.len());
                let mut tmp = Vec::new();
                for l in batch {
                    distill::distill_text(&chunk[l.start..l.start + l.len], false, &mut tmp);
                    out.extend(tmp.drain(..).map(|o| (*l, o)));
                }
                out
            })
            .collect();
        for batch in results {
            for (line, outcome) in batch {
                let line_base = base + line.start as u64;
                self.take(source, outcome, line_base, |_| line.number);
            }
        }
        line_no
    }

    /// A whole-file document: an array of records or one record.
    fn document(&mut self, source: u32, buf: &[u8], skip: usize) {
        let text = &buf[skip..];
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text).collect();
        let line_of = |off: usize| -> u32 { (newlines.partition_point(|&n| n < off) + 1) as u32 };
        let mut out = Vec::new();
        distill::distill_text(text, true, &mut out);
        let broken = out.len() == 1
            && matches!(&out[0], Outcome::Rejected { reason, .. } if reason.starts_with("invalid JSON"))
            && source::trim(text).first() == Some(&b'[');
        if broken {
            // Read the array element by element so that one broken record loses nothing else.
            out.clear();
            for (i, el) in source::array_elements(text).into_iter().enumerate() {
                match el {
                    Ok((off, len)) => {
                        let mut one = Vec::new();
                        distill::distill_text(&text[off..off + len], true, &mut one);
                        for o in one {
                            let o = shift(o, off, i as u32);
                            self.take(source, o, skip as u64, line_of);
                        }
                    }
                    Err((off, reason)) => {
                        let end = (off + 200).min(text.len());
                        let loc =
                            Loc { offset: off, len: end - off, index: Some(i as u32), kind: RecordKind::Notification };
                        let excerpt = distill::excerpt(&text[off..end]);
                        self.take(source, Outcome::Rejected { reason, excerpt, loc }, skip as u64, line_of);
                    }
                }
            }
            return;
        }
        for o in out {
            self.take(source, o, skip as u64, line_of);
        }
    }

    /// Take one outcome, in archive order: intern, drop duplicates, count.
    fn take(&mut self, source: u32, outcome: Outcome, base: u64, line_of: impl Fn(usize) -> u32) {
        self.records += 1;
        self.progress.records += 1;
        self.sources[source as usize].records += 1;
        match outcome {
            Outcome::Event(d, loc) => {
                let message_id = self.symbols.intern(&d.message_id);
                if !self.seen.insert(message_id) {
                    // SPEC §1: the first event with a message id wins.
                    self.duplicates += 1;
                    self.progress.duplicates += 1;
                    return;
                }
                let event = self.intern(d, message_id, source, loc, base, line_of(loc.offset));
                self.events.push(event);
                self.progress.events += 1;
            }
            Outcome::NotDistilled(t, _) => *self.not_distilled.entry(t.into_owned()).or_insert(0) += 1,
            Outcome::Rejected { reason, excerpt, loc } => {
                self.progress.rejected += 1;
                self.rejected.push(RejectedRecord {
                    file: self.sources[source as usize].name.clone(),
                    line: Some(line_of(loc.offset)),
                    index: loc.index,
                    reason,
                    excerpt,
                });
            }
        }
    }

    fn intern(&mut self, d: Distilled, message_id: Sym, source: u32, loc: Loc, base: u64, line: u32) -> Event {
        let traits: Box<[Trait]> = d
            .traits
            .into_iter()
            .map(|(n, v)| {
                let name = match n {
                    TraitName::Known(s) => s,
                    TraitName::Other(c) => self.symbols.intern(&c),
                };
                let value = match v {
                    TraitVal::Text(c) => Value::Text(self.symbols.intern(&c)),
                    TraitVal::Int(i) => Value::Int(i),
                    TraitVal::Float(f) => Value::Float(f),
                    TraitVal::DateTime(t) => Value::DateTime(t),
                };
                Trait { name, value }
            })
            .collect();
        Event {
            timestamp: d.timestamp,
            event_type: self.symbols.intern(&d.event_type),
            message_id,
            traits,
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

    fn finish(mut self) -> Archive {
        // SPEC §4: stably sorted by timestamp; ties keep archive order.
        self.events.par_sort_by_key(|e| e.timestamp);
        self.events.shrink_to_fit();
        Archive {
            symbols: self.symbols,
            events: self.events,
            sources: self.sources,
            rejected: self.rejected,
            duplicates: self.duplicates,
            not_distilled: self.not_distilled,
            records: self.records,
            _spool: self.spool,
        }
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
