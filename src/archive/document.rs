//! A document that is an array of records, read record by record as its bytes
//! arrive (docs/inputs.md#documents-record-by-record): only the records not yet
//! distilled are held, so a document costs about what the same records cost as
//! JSON Lines, not a copy of the whole file.
//!
//! The scanner only finds where each element of the array ends (by its brackets
//! and strings); the parser judges each element. As long as the document is
//! regular — `[`, elements separated by `,`, `]`, nothing after it — every element
//! is read exactly as a whole parse of the document would read it. Anything else
//! hands over to the reader of broken documents ([`super::source::document_records_at`])
//! from the first element not yet taken, with everything from there kept, so a
//! damaged document is read just as it was when it was read whole.

/// How the rest of the document is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    /// Element by element.
    Stream,
    /// Nothing taken yet and the document is not a regular array (an object, a
    /// pretty-printed record, a broken start) or is small: kept whole and read as
    /// one document at its end.
    Whole,
    /// Something irregular after records were taken: everything from `from`
    /// (in [`DocStream::buf`]) is kept and read at the end by the reader of
    /// broken documents, inside the array or after it.
    Rest { from: usize, in_array: bool },
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Before the `[`.
    Open,
    /// Where an element must start; `first`: right after the `[`.
    Value { first: bool },
    /// Inside an object or array element.
    Container { start: usize, depth: u32, in_str: bool, esc: bool },
    /// Inside a string element.
    Str { start: usize, esc: bool },
    /// Inside a number or literal element.
    Scalar { start: usize },
    /// After an element: `,` or `]`.
    After,
    /// After the `]`: only whitespace may follow.
    Done,
}

/// Elements held before they are distilled together (on every core): a batch.
const BATCH_BYTES: usize = 4 << 20;
const BATCH_ELEMENTS: usize = 8192;

pub(super) struct DocStream {
    /// The unread end of the document: from the first element not yet taken.
    pub buf: Vec<u8>,
    /// Offset of `buf[0]` in the source's content.
    pub buf_base: u64,
    /// Where `buf[0]` is in the document.
    pub at: super::source::TextStart,
    pos: usize,
    state: State,
    /// Complete elements not yet taken: `(start, len)` in `buf`.
    pub elems: Vec<(usize, usize)>,
    /// Elements taken so far (the index of the first in `elems`).
    pub taken: u32,
    pub mode: Mode,
    /// Whether the source has ended.
    pub ended: bool,
    /// Elements in a batch, at most.
    batch: usize,
}

impl DocStream {
    /// `skip`: the byte order mark at the start of the content, if any; `batch`: the
    /// elements in a batch, if not the usual.
    pub fn new(skip: usize, batch: Option<usize>) -> DocStream {
        DocStream {
            buf: Vec::new(),
            buf_base: 0,
            at: Default::default(),
            pos: skip,
            state: State::Open,
            elems: Vec::new(),
            taken: 0,
            mode: Mode::Stream,
            ended: false,
            batch: batch.unwrap_or(BATCH_ELEMENTS),
        }
    }

    /// Take the next bytes of the source; `last`: they end it.
    pub fn push(&mut self, bytes: &[u8], last: bool) {
        self.buf.extend_from_slice(bytes);
        if self.mode == Mode::Stream {
            self.scan();
        }
        if last {
            self.ended = true;
            if self.mode == Mode::Stream && !matches!(self.state, State::Done) {
                // The source ended inside the array.
                self.irregular();
            }
        }
    }

    /// How many of `elems` to distill now, if it is time: all but the last (the
    /// reader of broken documents goes back to the start of the element before a
    /// problem), and only once the document has three elements (an array of two
    /// may be one STv2 pair, a record of its own), or all at the regular end.
    pub fn ready(&self) -> Option<usize> {
        if self.elems.is_empty() {
            return None;
        }
        match self.mode {
            // The array has closed before something else: its elements are all whole.
            Mode::Rest { in_array: false, .. } => Some(self.elems.len()),
            // A small document that ended regularly is read whole, as one.
            Mode::Stream if self.ended => (self.taken > 0).then_some(self.elems.len()),
            Mode::Stream => {
                let bytes: usize = self.elems.iter().map(|e| e.1).sum();
                let enough = bytes >= BATCH_BYTES || self.elems.len() >= self.batch;
                (enough && self.elems.len() > 1 && self.taken as usize + self.elems.len() >= 3)
                    .then_some(self.elems.len() - 1)
            }
            _ => None,
        }
    }

    /// The first `n` elements were taken: forget their bytes.
    pub fn taken(&mut self, n: usize) {
        if n == 0 {
            // Nothing to forget (and before the first record, the whole may still be needed).
            return;
        }
        self.elems.drain(..n);
        self.taken += n as u32;
        let mut cut = match self.state {
            State::Container { start, .. } | State::Str { start, .. } | State::Scalar { start } => start,
            _ => self.pos,
        };
        if let Some(&(start, _)) = self.elems.first() {
            cut = cut.min(start);
        }
        if let Mode::Rest { from, .. } = self.mode {
            cut = cut.min(from);
        }
        self.forget(cut);
    }

    /// An element (the `index`-th not yet taken) turned out broken: everything from it is
    /// read at the end as a broken document.
    pub fn broken_at(&mut self, index: usize) {
        let from = self.elems[index].0;
        self.elems.clear();
        // Nothing taken yet: the document is read whole (a file of which nothing can be
        // read stays one problem, the file's).
        self.mode = if self.taken == 0 && index == 0 { Mode::Whole } else { Mode::Rest { from, in_array: true } };
    }

    /// Drop `buf[..cut]`, keeping every offset right.
    fn forget(&mut self, cut: usize) {
        if cut == 0 {
            return;
        }
        let gone = &self.buf[..cut];
        match memchr::memrchr(b'\n', gone) {
            Some(nl) => {
                self.at.line += memchr::memchr_iter(b'\n', gone).count();
                self.at.col = cut - nl - 1;
            }
            None => self.at.col += cut,
        }
        self.buf.drain(..cut);
        self.buf_base += cut as u64;
        self.pos -= cut;
        for e in &mut self.elems {
            e.0 -= cut;
        }
        match &mut self.state {
            State::Container { start, .. } | State::Str { start, .. } | State::Scalar { start } => *start -= cut,
            _ => {}
        }
        if let Mode::Rest { from, .. } = &mut self.mode {
            *from -= cut;
        }
    }

    /// The document is not a regular array from here.
    fn irregular(&mut self) {
        if self.taken == 0 {
            self.mode = Mode::Whole;
            return;
        }
        self.mode = match self.state {
            // Something after the array: the elements are whole, and the rest is read after them.
            State::Done => Mode::Rest { from: self.pos, in_array: false },
            State::Container { start, .. } | State::Str { start, .. } | State::Scalar { start } => {
                Mode::Rest { from: self.elems.first().map_or(start, |e| e.0), in_array: true }
            }
            _ => Mode::Rest { from: self.elems.first().map_or(self.pos, |e| e.0), in_array: true },
        };
        if let Mode::Rest { in_array: true, .. } = self.mode {
            self.elems.clear();
        }
    }

    fn complete(&mut self, start: usize, end: usize) {
        self.elems.push((start, end - start));
        self.state = State::After;
    }

    fn scan(&mut self) {
        let n = self.buf.len();
        while self.pos < n && self.mode == Mode::Stream {
            let b = self.buf[self.pos];
            match self.state {
                State::Open => match b {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    b'[' => {
                        self.state = State::Value { first: true };
                        self.pos += 1;
                    }
                    _ => self.irregular(),
                },
                State::Value { first } => match b {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    b']' if first => {
                        self.state = State::Done;
                        self.pos += 1;
                    }
                    b',' | b']' | b'}' | b':' => self.irregular(),
                    b'{' | b'[' => {
                        self.state = State::Container { start: self.pos, depth: 1, in_str: false, esc: false };
                        self.pos += 1;
                    }
                    b'"' => {
                        self.state = State::Str { start: self.pos, esc: false };
                        self.pos += 1;
                    }
                    _ => {
                        self.state = State::Scalar { start: self.pos };
                        self.pos += 1;
                    }
                },
                State::Container { start, mut depth, mut in_str, mut esc } => {
                    let mut i = self.pos;
                    let mut end = None;
                    while i < n {
                        let c = self.buf[i];
                        i += 1;
                        if in_str {
                            if esc {
                                esc = false;
                            } else if c == b'\\' {
                                esc = true;
                            } else if c == b'"' {
                                in_str = false;
                            }
                            continue;
                        }
                        match c {
                            b'"' => in_str = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = Some(i);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    self.pos = i;
                    match end {
                        Some(end) => self.complete(start, end),
                        None => self.state = State::Container { start, depth, in_str, esc },
                    }
                }
                State::Str { start, esc } => {
                    self.pos += 1;
                    if esc {
                        self.state = State::Str { start, esc: false };
                    } else if b == b'\\' {
                        self.state = State::Str { start, esc: true };
                    } else if b == b'"' {
                        self.complete(start, self.pos);
                    }
                }
                State::Scalar { start } => match b {
                    b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b'[' | b'{' | b'"' | b':' => {
                        self.complete(start, self.pos)
                    }
                    _ => self.pos += 1,
                },
                State::After => match b {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    b',' => {
                        self.state = State::Value { first: false };
                        self.pos += 1;
                    }
                    b']' => {
                        self.state = State::Done;
                        self.pos += 1;
                    }
                    _ => self.irregular(),
                },
                State::Done => match b {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    _ => self.irregular(),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(text: &str, piece: usize) -> (Vec<String>, Mode) {
        let mut d = DocStream::new(0, None);
        let mut got = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let end = (i + piece).min(bytes.len());
            d.push(&bytes[i..end], end == bytes.len());
            i = end;
            got.extend(d.elems.iter().map(|&(s, l)| String::from_utf8_lossy(&d.buf[s..s + l]).into_owned()));
            let n = d.elems.len();
            if n > 0 && d.mode == Mode::Stream {
                // Take everything found so far, as if every batch were ready.
                d.taken(n);
            }
        }
        (got, d.mode)
    }

    #[test]
    fn elements_are_found_across_any_cut() {
        let text = r#" [ {"a": "x]}\"", "b": [1, {"c": 2}]}, "s,]", 12.5e3 , true,null, [ "k", {}] ]  "#;
        for piece in [1, 2, 3, 7, 100] {
            let (got, mode) = feed(text, piece);
            assert_eq!(
                got,
                [r#"{"a": "x]}\"", "b": [1, {"c": 2}]}"#, r#""s,]""#, "12.5e3", "true", "null", r#"[ "k", {}]"#],
                "pieces of {piece}"
            );
            assert_eq!(mode, Mode::Stream);
        }
    }

    #[test]
    fn irregular_documents_hand_over() {
        // Nothing taken yet: the whole document is read as before.
        assert_eq!(feed("{\"a\": 1}", 100).1, Mode::Whole);
        // After records were taken: from the first element not taken (inside the array) …
        let (_, mode) = feed("[{\"a\": 1}, {\"b\": 2} x", 10);
        assert!(matches!(mode, Mode::Rest { in_array: true, .. }), "{mode:?}");
        // … or after the array.
        let (_, mode) = feed("[{\"a\": 1}, {\"b\": 2}] {\"c\": 3}", 10);
        assert!(matches!(mode, Mode::Rest { in_array: false, .. }), "{mode:?}");
        // An array that does not end.
        let (_, mode) = feed("[{\"a\": 1}, {\"b\": 2}, {\"c\"", 10);
        assert!(matches!(mode, Mode::Rest { in_array: true, .. }), "{mode:?}");
    }
}

#[cfg(test)]
mod same_as_whole {
    use crate::archive::{Archive, LoadOptions};

    fn rec(i: usize) -> String {
        format!(
            r#"{{"event_type": "compute.instance.update", "message_id": "m{i}", "timestamp": "2014-10-06 00:00:{i:02}", "publisher_id": "compute.h", "payload": {{"instance_id": "i{i}", "tenant_id": "t", "memory_mb": {i}}}}}"#
        )
    }

    /// Everything the load says about a document, to compare two loads of it.
    fn summary(a: &Archive) -> String {
        let mut out = format!("records {} duplicates {}\n", a.records, a.duplicates);
        for e in &a.events {
            let o = e.origin;
            out += &format!(
                "event {} line {} offset {} len {} index {:?} kind {:?}\n",
                e.message_id(&a.symbols),
                o.line,
                o.offset,
                o.len,
                o.index,
                o.kind
            );
        }
        for r in &a.rejected {
            out += &format!("rejected {}:{:?} [{:?}] {} | {}\n", r.file, r.line, r.index, r.reason, r.excerpt);
        }
        for s in &a.sources {
            out += &format!("source {:?} {} {}\n", s.layout, s.bytes, s.records);
        }
        out
    }

    #[test]
    fn a_document_read_record_by_record_reads_as_when_read_whole() {
        let r: Vec<String> = (0..8).map(rec).collect();
        let docs = [
            format!("[{}, {}, {}, {}, {}]", r[0], r[1], r[2], r[3], r[4]),
            format!("[\n  {},\n  {},\n  {},\n  {}\n]\n", r[0], r[1], r[2], r[3]),
            format!("\u{feff}[{}, {}, {}, {}]", r[0], r[1], r[2], r[3]),
            format!("[{}, {}, {{\"event_type\": tru}}, {}, {}]", r[0], r[1], r[3], r[4]),
            format!("[{}, {} {}, {}, {}]", r[0], r[1], r[2], r[3], r[4]),
            format!("[{}, {}}}}}, {}, {}, {}]", r[0], r[1], r[2], r[3], r[4]),
            format!("[{}, {}, {}, {{\"event_type\": \"x\"", r[0], r[1], r[2]),
            format!("[{}, {}, {}, {}", r[0], r[1], r[2], r[3]),
            format!("[{}, {}, {}]\n{}\n{}\n", r[0], r[1], r[2], r[3], r[4]),
            format!("[{}, {}, {},]", r[0], r[1], r[2]),
            format!("[{}, 5, \"x\", null, {}, {}]", r[0], r[1], r[2]),
            format!(
                "[\n  {},\n  {},\n  {{\n    \"event_type\": \"a\",\n    \"payload\": {{\"x\": [1, 2}}\n  }},\n  {},\n  {}\n]\n",
                r[0], r[1], r[3], r[4]
            ),
            format!("[\"key\", {}]", r[0]),
            format!("[\"key\", {}, {}]", r[0], r[1]),
            "[]".to_string(),
            format!("[{}, {}, {}] [{}, {}]", r[0], r[1], r[2], r[3], r[4]),
            format!("[{}, {}, {}] x", r[0], r[1], r[2]),
            format!(r#"[{}, {{"id": 1, "events": [{{"event_type": "compute.instance.update", "message_id": "d1", "timestamp": "2014-10-06", "instance_id": "i9"}}]}}, {}, {}]"#, r[0], r[1], r[2]),
            format!("[{}, [\"k\", {}], {}, {}]", r[0], r[1], r[2], r[3]),
            format!("{{\"id\": 1, \"events\": [{}, {}, {}]}}", r[0], r[1], r[2]),
        ];
        for doc in &docs {
            let whole = summary(&Archive::from_bytes_with("d.json", doc.as_bytes(), LoadOptions::default()));
            for pieces in [(1, 1), (7, 1), (16, 2), (100, 3), (333, 1)] {
                // A first line longer than the first piece that opens an array is taken for a
                // document without reading it whole (docs/inputs.md#layouts): a file whose
                // first line is a whole array followed by more lines is JSON Lines only when
                // that line fits in the first piece.
                let first_line = doc.split('\n').next().map_or(0, str::len);
                if whole.contains("source Some(JsonLines)") && first_line >= pieces.0 {
                    continue;
                }
                let options = LoadOptions { pieces: Some(pieces), ..LoadOptions::default() };
                let streamed = summary(&Archive::from_bytes_with("d.json", doc.as_bytes(), options));
                assert_eq!(streamed, whole, "pieces {pieces:?} of {doc}");
            }
        }
    }
}
