//! Opening inputs (docs/inputs.md#archives): paths, directories, `-` for standard input, gzip
//! recognised by its magic bytes, and the file layout (JSON Lines, or one JSON
//! document holding an array of records or one record).

use flate2::bufread::GzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// File names a directory contributes (docs/inputs.md#archives).
pub fn is_archive_name(name: &str) -> bool {
    let n = name.strip_suffix(".gz").unwrap_or(name);
    n.ends_with(".json") || n.ends_with(".jsonl") || n.ends_with(".ndjson")
}

/// A directory's own documentation (`README`, `README.md`, …): not an archive, and
/// not worth a word when a walk passes over it (docs/inputs.md#directories).
fn is_readme(name: &str) -> bool {
    name.get(..6).is_some_and(|n| n.eq_ignore_ascii_case("readme"))
}

/// One input as given on the command line, expanded.
#[derive(Debug, Clone)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }
}

/// The command-line paths expanded.
#[derive(Debug, Default)]
pub struct Expanded {
    pub inputs: Vec<Input>,
    /// Per path: a missing path, an unreadable directory.
    pub problems: Vec<(String, String)>,
    /// Regular files below a directory whose names are not archive names, in sorted path order.
    pub skipped: Vec<String>,
}

/// Expand the command-line paths: directories become every matching regular file
/// below them, in sorted path order. Problems (a missing path, an unreadable
/// directory) and the files a walk passed over are returned beside the inputs.
pub fn expand(paths: &[PathBuf]) -> Expanded {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                let mut passed = Vec::new();
                for entry in walkdir::WalkDir::new(p).follow_links(true) {
                    match entry {
                        Ok(e) => {
                            if e.file_type().is_file() {
                                if is_archive_name(&e.file_name().to_string_lossy()) {
                                    found.push(e.into_path());
                                } else if !is_readme(&e.file_name().to_string_lossy()) {
                                    passed.push(e.into_path());
                                }
                            }
                        }
                        Err(e) => {
                            let at =
                                e.path().map(|x| x.display().to_string()).unwrap_or_else(|| p.display().to_string());
                            problems.push((at, io_reason(e.io_error(), "cannot read directory")));
                        }
                    }
                }
                if found.is_empty() {
                    problems.push((
                        p.display().to_string(),
                        "no .json, .jsonl or .ndjson file (plain or .gz) below this directory".to_string(),
                    ));
                }
                found.sort();
                passed.sort();
                inputs.extend(found.into_iter().map(Input::File));
                skipped.extend(passed.iter().map(|p| p.display().to_string()));
            }
            Ok(_) => inputs.push(Input::File(p.clone())),
            Err(e) => problems.push((p.display().to_string(), io_reason(Some(&e), "cannot open"))),
        }
    }
    Expanded { inputs, problems, skipped }
}

pub fn io_reason(e: Option<&io::Error>, what: &str) -> String {
    match e {
        Some(e) => match e.kind() {
            io::ErrorKind::NotFound => format!("{what}: no such file or directory"),
            io::ErrorKind::PermissionDenied => format!("{what}: permission denied"),
            _ => format!("{what}: {e}"),
        },
        None => what.to_string(),
    }
}

/// Counts the bytes read from the file itself (compressed bytes for gzip), for progress.
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where an opened input's content is read from.
#[derive(Debug, Clone)]
pub enum Content {
    /// A regular file, read again by its path.
    Path(PathBuf),
    /// A pipe or standard input copied to an unnamed temporary file (see [`spool`]).
    Spool(Arc<File>),
    /// A pipe, device or standard input read once, as a stream, and never again.
    Stream(Input),
}

/// An opened input: where its content is, and whether it is gzip (for a
/// stream, found out when it is read).
pub struct Opened {
    pub content: Content,
    pub gzip: bool,
    pub size_on_disk: u64,
}

impl Opened {
    /// Where the content can be read again, if it can.
    pub fn reread(&self) -> Option<Reread> {
        match &self.content {
            Content::Path(p) => Some(Reread::Path(p.clone())),
            Content::Spool(f) => Some(Reread::Spool(Arc::clone(f))),
            Content::Stream(_) => None,
        }
    }
}

/// Where a source can be read again, to show a record as it was.
#[derive(Debug, Clone)]
pub enum Reread {
    Path(PathBuf),
    Spool(Arc<File>),
    /// A source made in memory (the built-in demo).
    Memory(Arc<Vec<u8>>),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub fn sniff_gzip(path: &Path) -> io::Result<bool> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut f, &mut magic)?;
    Ok(got == 2 && magic == GZIP_MAGIC)
}

/// Read until `buf` is full or the input ends; how much was read.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

pub fn open_file(path: &Path) -> io::Result<Opened> {
    let meta = std::fs::metadata(path)?;
    let gzip = sniff_gzip(path)?;
    Ok(Opened { content: Content::Path(path.to_path_buf()), gzip, size_on_disk: meta.len() })
}

/// Whether `path` can be read twice from the start (a regular file), unlike a
/// named pipe, a `<(…)` process substitution or a character device.
pub fn is_rereadable(path: &Path) -> bool {
    std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(true)
}

/// An input that cannot be read twice, opened to be read once as a stream
/// (the headless commands never show a record again, so they keep no copy).
pub fn open_stream(input: &Input) -> Opened {
    Opened { content: Content::Stream(input.clone()), gzip: false, size_on_disk: 0 }
}

/// An input that cannot be read twice, copied to a spool file so that its
/// records can be shown again (the interactive replay).
pub fn open_spooled(input: &Input, count: &Arc<AtomicU64>) -> io::Result<Opened> {
    let file = match input {
        Input::Stdin => spool(io::stdin().lock(), count, &free_space)?,
        Input::File(p) => spool(File::open(p)?, count, &free_space)?,
    };
    open_spool(file)
}

/// An input already copied to a spool file (see [`spool_into`]), opened to be read again.
pub fn open_spool(file: Arc<File>) -> io::Result<Opened> {
    let size = file.metadata()?.len();
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut At { file: Arc::clone(&file), pos: 0 }, &mut magic)?;
    Ok(Opened { content: Content::Spool(file), gzip: got == 2 && magic == GZIP_MAGIC, size_on_disk: size })
}

/// The room for the spool on the filesystem of the temporary directory:
/// `(directory, bytes available, bytes the spool leaves free)`.
pub fn free_space() -> io::Result<(PathBuf, u64, u64)> {
    free_space_in(&std::env::temp_dir())
}

/// As [`free_space`], for the filesystem of `dir`.
pub fn free_space_in(dir: &Path) -> io::Result<(PathBuf, u64, u64)> {
    let dir = dir.to_path_buf();
    let st = rustix::fs::statvfs(&dir).map_err(io::Error::from)?;
    let avail = st.f_bavail.saturating_mul(st.f_frsize);
    let size = st.f_blocks.saturating_mul(st.f_frsize);
    Ok((dir, avail, spool_reserve(size)))
}

/// docs/inputs.md#spool: the spool always leaves free 5% of its filesystem, at
/// most 1 GiB, so that a pipe that never ends cannot fill the disk.
pub fn spool_reserve(filesystem_size: u64) -> u64 {
    (filesystem_size / 20).min(1 << 30)
}

/// How often (in bytes written) the spool looks at the free space again.
pub const SPOOL_CHECK: u64 = 8 << 20;

/// Copy `r` to an unnamed temporary file in the temporary directory
/// (docs/inputs.md#spool). The file has no name (`O_TMPFILE`, or unlinked at
/// once where that is missing), so it is gone on every way out (normal exit,
/// `q` during the load, an error, a panic, any signal, even `kill -9`) and
/// nothing is ever left in `$TMPDIR`. The copy stops with an error before it
/// would eat into the filesystem's reserve ([`spool_reserve`]), as `space`
/// reports it, looked at again every [`SPOOL_CHECK`] bytes.
pub fn spool(
    r: impl Read,
    count: &Arc<AtomicU64>,
    space: &dyn Fn() -> io::Result<(PathBuf, u64, u64)>,
) -> io::Result<Arc<File>> {
    spool_into(tempfile::tempfile()?, r, count, space)
}

/// As [`spool`], into a file already made (an unnamed file of another directory).
pub fn spool_into(
    mut tmp: File,
    r: impl Read,
    count: &Arc<AtomicU64>,
    space: &dyn Fn() -> io::Result<(PathBuf, u64, u64)>,
) -> io::Result<Arc<File>> {
    let mut r = Counting { inner: r, count: count.clone() };
    let mut buf = vec![0u8; 1 << 20];
    let mut written: u64 = 0;
    let mut next_check: u64 = 0;
    loop {
        if written >= next_check {
            let (dir, avail, reserve) = space()?;
            // Room for the next stretch without touching the reserve.
            if avail < reserve.saturating_add(SPOOL_CHECK) {
                return Err(io::Error::other(format!(
                    "the copy kept to show its records again stopped after {} MiB: {} MiB free on {}, and the \
                     replay leaves {} MiB free there (5% of the filesystem, at most 1 GiB); give a regular file, \
                     use `usage-replay audit` (which reads a pipe without a copy), or set TMPDIR to a larger filesystem",
                    written >> 20,
                    avail >> 20,
                    dir.display(),
                    reserve >> 20
                )));
            }
            next_check = written + SPOOL_CHECK;
        }
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        tmp.write_all(&buf[..n])?;
        written += n as u64;
    }
    tmp.flush()?;
    Ok(Arc::new(tmp))
}

/// A reader over a shared file at its own position, for a spool read by
/// several readers (the load, then every record shown again).
pub struct At {
    file: Arc<File>,
    pos: u64,
}

impl Read for At {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// A reader over the (decompressed) content of an opened input, and whether
/// the content is gzip (found out here for a stream).
pub fn reader(o: &Opened, count: &Arc<AtomicU64>) -> io::Result<(Box<dyn Read + Send>, bool)> {
    let (raw, gzip): (Box<dyn Read + Send>, bool) = match &o.content {
        Content::Path(p) => (Box::new(File::open(p)?), o.gzip),
        Content::Spool(f) => (Box::new(At { file: Arc::clone(f), pos: 0 }), o.gzip),
        Content::Stream(input) => {
            let mut r: Box<dyn Read + Send> = match input {
                Input::Stdin => Box::new(io::stdin()),
                Input::File(p) => Box::new(File::open(p)?),
            };
            // Sniffing a pipe eats its first bytes: they are read first again.
            let mut magic = [0u8; 2];
            let got = read_up_to(&mut r, &mut magic)?;
            let head = io::Cursor::new(magic[..got].to_vec());
            (Box::new(head.chain(r)), got == 2 && magic == GZIP_MAGIC)
        }
    };
    let f = Counting { inner: raw, count: count.clone() };
    Ok((if gzip { Box::new(Gunzip::new(BufReader::with_capacity(1 << 20, f))) } else { Box::new(f) }, gzip))
}

/// The content of a gzip file: its members one after another, as `gzip -d`
/// and Python's `gzip` read it, with the zero bytes that tape and block
/// devices pad files with ignored between and after members.
pub struct Gunzip<R: BufRead> {
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> Gunzip<R> {
    pub fn new(r: R) -> Gunzip<R> {
        Gunzip { member: Some(GzDecoder::new(r)) }
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = self.member.as_mut() else { return Ok(0) };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member has ended: skip padding, then read the next member, if any.
            let mut inner = self.member.take().expect("a member").into_inner();
            loop {
                let avail = inner.fill_buf()?;
                if avail.is_empty() {
                    return Ok(0);
                }
                let zeros = avail.iter().take_while(|&&b| b == 0).count();
                let more = zeros < avail.len();
                inner.consume(zeros);
                if more {
                    break;
                }
            }
            self.member = Some(GzDecoder::new(inner));
        }
    }
}

/// Read `len` bytes at `offset` of the decompressed content (to show a record again).
pub fn read_at(from: &Reread, gzip: bool, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let raw: Box<dyn Read> = match from {
        Reread::Path(p) => Box::new(File::open(p)?),
        Reread::Spool(f) => Box::new(At { file: Arc::clone(f), pos: 0 }),
        Reread::Memory(m) => Box::new(io::Cursor::new(m.to_vec())),
    };
    if gzip {
        let mut r = Gunzip::new(BufReader::new(raw));
        io::copy(&mut (&mut r).take(offset), &mut io::sink())?;
        r.read_exact(&mut buf)?;
    } else {
        match from {
            Reread::Path(p) => {
                let mut f = File::open(p)?;
                f.seek(SeekFrom::Start(offset))?;
                f.read_exact(&mut buf)?;
            }
            Reread::Spool(f) => {
                use std::os::unix::fs::FileExt;
                f.read_exact_at(&mut buf, offset)?;
            }
            Reread::Memory(m) => {
                let at = usize::try_from(offset).unwrap_or(usize::MAX);
                let record = at.checked_add(len).and_then(|end| m.get(at..end));
                let record = record
                    .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the record is not in the source"))?;
                buf.copy_from_slice(record);
            }
        }
    }
    Ok(buf)
}

/// A read buffer whose memory is written once, when it grows, and then reused: reading
/// into it never zero-fills again (a `Vec` filled by `read_to_end` would zero its spare
/// capacity on every fill, as the readers here do not implement `read_buf`). It holds
/// `len` bytes of content; it derefs to them.
#[derive(Default)]
pub struct Chunk {
    data: Vec<u8>,
    len: usize,
}

impl std::ops::Deref for Chunk {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

impl Chunk {
    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Room for `len` bytes of content, zeroed only where the buffer has never been.
    fn room(&mut self, len: usize) {
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
    }

    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        self.room(end);
        self.data[self.len..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Fill from `r` until the content is `want` bytes long or the input ends.
    /// Returns false at the end of the input; on an error the bytes read before it stay.
    pub fn fill(&mut self, r: &mut dyn Read, want: usize) -> io::Result<bool> {
        self.room(want);
        while self.len < want {
            match r.read(&mut self.data[self.len..want]) {
                Ok(0) => return Ok(false),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// Layout of one file (docs/inputs.md#layouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    JsonLines,
    /// One JSON document: an array of records or a single record.
    Document,
}

/// Decide the layout from the start of the content (`complete`: the head is
/// the whole content).
///
/// - A content that is one JSON value is a document, whatever its lines.
/// - Otherwise a first line that is a JSON value by itself starts JSON Lines.
/// - A first line that is a lone `[` or `{` starts a pretty-printed document; a
///   first value that goes on past the head starts a document, as does a first
///   line too long for the head that opens an array (a large compact one).
/// - Otherwise the start is broken or spread over lines: the layout that reads
///   more records from the head wins — lines that are records by themselves, or
///   the records of a document read one by one past broken ones — so that a few
///   bad lines never turn a JSON Lines file into one unreadable document. On a
///   tie JSON Lines, unless nothing is read either way (one problem for the
///   whole file).
pub fn detect_layout(head: &[u8], complete: bool) -> Layout {
    let parses = |t: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok();
    let text = trim(head);
    if text.is_empty() {
        return Layout::JsonLines;
    }
    if complete && parses(text) {
        return Layout::Document;
    }
    let mut pieces: Vec<&[u8]> = head.split(|b| *b == b'\n').collect();
    if !complete {
        // The last piece of an incomplete head may be a cut line: don't judge by it.
        pieces.pop();
    }
    let lines: Vec<&[u8]> = pieces.into_iter().map(trim).filter(|t| !t.is_empty()).collect();
    let Some(&first) = lines.first() else {
        // One line longer than the head.
        return if text.starts_with(b"[") { Layout::Document } else { Layout::JsonLines };
    };
    if parses(first) {
        return Layout::JsonLines;
    }
    // No JSON Lines record is a lone bracket.
    if first == b"[" || first == b"{" {
        return Layout::Document;
    }
    if !complete {
        let mut values = serde_json::Deserializer::from_slice(text).into_iter::<serde::de::IgnoredAny>();
        if matches!(values.next(), Some(Err(e)) if e.is_eof()) {
            return Layout::Document;
        }
    }
    let opens = |t: &[u8]| matches!(t.first(), Some(b'{') | Some(b'['));
    let as_lines = lines.iter().filter(|l| opens(l) && parses(l)).count();
    // A record of a document ends its line, or is followed by the `,` or `]` of
    // its array: any other value followed by more on its line is the balanced prefix of
    // a damaged line (a stray `}}` inside it), not a record.
    let ends_well = |end: usize| {
        let rest = &text[end..];
        let p = rest.iter().position(|b| *b != b' ' && *b != b'\t' && *b != b'\r').unwrap_or(rest.len());
        match rest.get(p) {
            None | Some(b'\n') => true,
            Some(b',') | Some(b']') => text.starts_with(b"["),
            Some(_) => false,
        }
    };
    let as_document = document_records(text)
        .iter()
        .filter(|r| matches!(r, Ok((off, len)) if opens(&text[*off..]) && ends_well(off + len)))
        .count();
    match as_document.cmp(&as_lines) {
        std::cmp::Ordering::Greater => Layout::Document,
        std::cmp::Ordering::Less => Layout::JsonLines,
        // Nothing readable either way (CSV, XML, YAML …): one problem for the whole file.
        std::cmp::Ordering::Equal if as_lines == 0 => Layout::Document,
        std::cmp::Ordering::Equal => Layout::JsonLines,
    }
}

pub fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map(|i| i + 1).unwrap_or(start);
    &b[start..end.max(start)]
}

/// Split a document that did not parse as a whole into its records, without
/// losing any that can be read: the elements of a leading array of records,
/// then any values after it (records written one after another, pretty-printed
/// or not). A broken record is reported and the reader moves on to the next
/// record; what cannot be read is always reported, never skipped in silence.
pub fn document_records(text: &[u8]) -> Vec<Result<(usize, usize), (usize, String)>> {
    let mut pos = skip_ws(text, 0);
    let in_array = text.get(pos) == Some(&b'[');
    if in_array {
        pos += 1;
    }
    document_records_at(text, pos, in_array, TextStart::default())
}

/// Where a piece of a document starts in the whole: the lines before it, and the
/// columns before it on its first line (a document read record by record keeps
/// only its unread end).
#[derive(Clone, Copy, Debug, Default)]
pub struct TextStart {
    pub line: usize,
    pub col: usize,
}

/// [`document_records`] from `pos`, inside the leading array or not, in a piece of a
/// document that starts at `at`: what it would find from there in the whole.
pub fn document_records_at(
    text: &[u8],
    mut pos: usize,
    mut in_array: bool,
    at: TextStart,
) -> Vec<Result<(usize, usize), (usize, String)>> {
    let mut out = Vec::new();
    loop {
        pos = skip_ws(text, pos);
        match text.get(pos) {
            None if in_array => {
                out.push(Err((pos, "invalid JSON: the array is not closed".to_string())));
                return out;
            }
            None => return out,
            Some(b']') if in_array => {
                in_array = false;
                pos += 1;
                continue;
            }
            _ => {}
        }
        let start = pos;
        let mut it = serde_json::Deserializer::from_slice(&text[start..]).into_iter::<&serde_json::value::RawValue>();
        let broken = match it.next() {
            Some(Ok(_)) => {
                let len = it.byte_offset();
                out.push(Ok((start, len)));
                pos = skip_ws(text, start + len);
                match text.get(pos) {
                    Some(b',') if in_array => {
                        pos += 1;
                        continue;
                    }
                    Some(b']') | None => continue,
                    // Outside an array, records simply follow one another.
                    Some(_) if !in_array => continue,
                    Some(_) => {
                        out.push(Err((pos, "invalid JSON: expected `,` or `]` between records".to_string())));
                        pos
                    }
                }
            }
            Some(Err(e)) => {
                out.push(Err((start, syntax_reason_at(&e, text, start, at))));
                start
            }
            None => return out,
        };
        match resync(text, start, broken, at) {
            Some(p) => pos = p,
            None => {
                // Say that the rest was skipped, on the problem that stopped the reading.
                let rest = text.len() - broken;
                if let (Some(Err((_, reason))), true) = (out.last_mut(), rest > 0) {
                    reason.push_str(&format!("; no record could be read in the {rest} bytes from here to the end"));
                }
                return out;
            }
        }
    }
}

/// A JSON syntax error found while reading from `start`, with the line and
/// column it has in the whole text.
fn syntax_reason_at(e: &serde_json::Error, text: &[u8], start: usize, at: TextStart) -> String {
    let line0 = at.line + memchr::memchr_iter(b'\n', &text[..start]).count();
    let col0 = column(text, start, at);
    let desc = crate::json::syntax_description(e);
    let (line, col) = if e.line() <= 1 { (line0 + 1, col0 + e.column()) } else { (line0 + e.line(), e.column()) };
    format!("invalid JSON at line {line} column {col}: {desc}")
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while pos < text.len() && text[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// How far `pos` is from the start of its line.
fn column(text: &[u8], pos: usize, at: TextStart) -> usize {
    match memchr::memrchr(b'\n', &text[..pos]) {
        Some(nl) => pos - nl - 1,
        None => at.col + pos,
    }
}

/// Where to go on after a broken record that starts at `start` (`broken`: where
/// the problem was found): the next record, or the `]` that closes the array.
///
/// First by the brackets: a record that is whole but wrong inside (`tru`, a
/// missing comma) ends where its brackets balance, and the next record follows
/// a comma, even on the same line. When the brackets do not balance, the next
/// line that opens a value at most as indented as the broken record: the next
/// record of a pretty or line-per-record array, not an object nested in this one.
fn resync(text: &[u8], start: usize, broken: usize, at: TextStart) -> Option<usize> {
    if let Some(end) = balanced_end(text, start) {
        let p = skip_ws(text, end);
        match text.get(p) {
            Some(b',') => {
                let q = skip_ws(text, p + 1);
                if matches!(text.get(q), Some(b'{') | Some(b'[')) {
                    return Some(q);
                }
            }
            Some(b']') => return Some(p),
            Some(b'{') | Some(b'[') => return Some(p),
            _ => {}
        }
    }
    let max_col = column(text, start, at);
    let mut pos = broken.max(start + 1);
    while let Some(nl) = memchr::memchr(b'\n', &text[pos.min(text.len())..]) {
        pos += nl + 1;
        let p = skip_ws(text, pos);
        if matches!(text.get(p), Some(b'{') | Some(b'[')) && p - pos <= max_col {
            return Some(p);
        }
    }
    None
}

/// The end of the value that starts at `start` by its brackets alone (strings
/// skipped; a string never runs past the end of its line), if they balance.
fn balanced_end(text: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in text.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ if depth == 0 && !b.is_ascii_whitespace() => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(detect_layout(b"{\"a\":1}\n{\"a\":2}\n", true), Layout::JsonLines);
        // nothing readable: one problem for the whole file
        assert_eq!(detect_layout(b"{\"a\":1", true), Layout::Document);
        assert_eq!(detect_layout(b"stream_id,instance_id\n1,4f0c\n", true), Layout::Document);
        assert_eq!(detect_layout(b"{\n  \"a\": 1,\n", true), Layout::Document);
        assert_eq!(detect_layout(b"[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", true), Layout::Document);
        assert_eq!(detect_layout(b"{\n  \"a\": 1\n}\n", true), Layout::Document);
        // a broken first line does not hide a JSON Lines file
        assert_eq!(detect_layout(b"{\"a\":\n{\"a\":2}\n", true), Layout::JsonLines);
        // nor do several
        let lines = "{\"a\":\n[1,\n{\"b\" 2}\n".to_string() + &"{\"a\":2}\n".repeat(5);
        assert_eq!(detect_layout(lines.as_bytes(), true), Layout::JsonLines);
        assert_eq!(detect_layout(lines.as_bytes(), false), Layout::JsonLines);
        // a one-line file that is an array is a document
        assert_eq!(detect_layout(b"\n\n[{\"a\":1}]", true), Layout::Document);
        assert_eq!(detect_layout(b"[{\"a\":1},{\"a\":2},{\"a\"", false), Layout::Document);
        // an array with one record per line, the first on the bracket's line
        let half_pretty = b"[{\"a\":1},\n{\"a\":2},\n{\"a\":3}\n]\n";
        assert_eq!(detect_layout(half_pretty, true), Layout::Document);
        assert_eq!(detect_layout(&half_pretty[..20], false), Layout::Document);
        // a pretty array with a broken record is still a document
        assert_eq!(detect_layout(b"[\n  {\"a\": 1},\n  {\"a\": tru},\n  {\"a\": 3}\n]", true), Layout::Document);
        assert_eq!(detect_layout(b"[{\"a\": tru},\n{\"a\": 1},\n{\"a\": 3}\n]", true), Layout::Document);
        // broken lines first, then good ones: JSON Lines even when most of the start is broken
        let cut = "{\"event_type\": \"x\", \"message_id\": \"a1\", \"timest\n".repeat(2) + "{\"a\":2}\n";
        assert_eq!(detect_layout(cut.as_bytes(), true), Layout::JsonLines);
        // records written one after another, pretty-printed (`jq .` output)
        assert_eq!(detect_layout(b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n", true), Layout::Document);
        // a stray `}}` inside the first line does not make a document of JSON Lines
        let damaged = "{\"a\": {\"b\": 1}}, \"c\": 2}\n".to_string() + &"{\"a\":2}\n".repeat(3);
        assert_eq!(detect_layout(damaged.as_bytes(), true), Layout::JsonLines);
        assert_eq!(detect_layout(damaged.as_bytes(), false), Layout::JsonLines);
        // a single huge JSON Lines record
        assert_eq!(detect_layout(b"{\"a\":\"xxxxxxxx", false), Layout::JsonLines);
    }

    #[test]
    fn array_elements_survive_a_broken_one() {
        let text = b"[\n  {\"a\": 1},\n  {\"a\": tru},\n  {\"a\": 3}\n]";
        let els = document_records(text);
        assert_eq!(els.len(), 3, "{els:?}");
        assert!(els[0].is_ok());
        assert!(els[1].is_err());
        let (off, len) = *els[2].as_ref().unwrap();
        assert_eq!(&text[off..off + len], b"{\"a\": 3}");
    }

    #[test]
    fn a_broken_record_resumes_at_the_next_record_not_inside_itself() {
        let text = b"[\n  {\n    \"a\": tru,\n    \"ips\": [\n      {\"x\": 1}\n    ]\n  },\n  {\n    \"a\": 3\n  }\n]";
        let els = document_records(text);
        assert_eq!(els.len(), 2, "{els:?}");
        assert!(els[0].is_err());
        let (off, len) = *els[1].as_ref().unwrap();
        assert_eq!(&text[off..off + len], b"{\n    \"a\": 3\n  }");
        // records one per line, the first on the bracket's line
        let text = b"[{\"a\": tru, \"b\": {}},\n{\"a\": 2},\n{\"a\": 3}\n]";
        let els = document_records(text);
        assert_eq!(els.iter().filter(|e| e.is_ok()).count(), 2, "{els:?}");
    }

    #[test]
    fn gzip_members_and_zero_padding() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let gz = |text: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(text).unwrap();
            e.finish().unwrap()
        };
        let mut file = gz(b"one\n");
        file.extend(gz(b"two\n"));
        file.extend([0u8; 700]);
        file.extend(gz(b"three\n"));
        file.extend([0u8; 512]);
        let mut out = String::new();
        Gunzip::new(&file[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, "one\ntwo\nthree\n");
        // Anything else after a member is still an error.
        file.extend(b"garbage");
        assert!(Gunzip::new(&file[..]).read_to_string(&mut String::new()).is_err());
    }

    /// The records read, as text, and the reasons of the problems.
    fn read(text: &[u8]) -> (Vec<&str>, Vec<String>) {
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for r in document_records(text) {
            match r {
                Ok((off, len)) => ok.push(std::str::from_utf8(&text[off..off + len]).unwrap()),
                Err((_, reason)) => bad.push(reason),
            }
        }
        (ok, bad)
    }

    #[test]
    fn a_one_line_array_goes_on_past_a_broken_record() {
        let (ok, bad) = read(br#"[{"m":"a"}, {"m":"b" "t":{"x":[1]}}, {"m":"c"},{"m":"d"}]"#);
        assert_eq!(ok, [r#"{"m":"a"}"#, r#"{"m":"c"}"#, r#"{"m":"d"}"#]);
        assert_eq!(bad, ["invalid JSON at line 1 column 22: expected `,` or `}`"]);
    }

    #[test]
    fn records_after_the_array_are_read_too() {
        let (ok, bad) = read(b"[\n  {\"m\": \"a\"}\n]\n{\"m\": \"b\"}\n{\n  \"m\": \"c\"\n}\n");
        assert_eq!(ok, ["{\"m\": \"a\"}", "{\"m\": \"b\"}", "{\n  \"m\": \"c\"\n}"]);
        assert!(bad.is_empty(), "{bad:?}");
        let (ok, bad) = read(b"[{\"m\": \"a\"}]\nnot json at all\n");
        assert_eq!(ok, ["{\"m\": \"a\"}"]);
        assert_eq!(
            bad,
            ["invalid JSON at line 2 column 2: expected ident; no record could be read in the 16 bytes from here to the end"]
        );
    }

    #[test]
    fn a_broken_record_names_its_line_in_the_file() {
        let (_, bad) = read(b"[\n  {\"m\": \"a\"},\n  {\n    \"m\": \"b\",\n    \"t\": tru\n  }\n]");
        assert_eq!(bad, ["invalid JSON at line 6 column 0: expected ident"]);
    }

    #[test]
    fn the_spool_has_no_name_and_reads_back() {
        use std::os::unix::fs::MetadataExt;
        let count = Arc::new(AtomicU64::new(0));
        let plenty = || Ok((PathBuf::from("/tmp"), 1 << 40, 1 << 30));
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let f = spool(&data[..], &count, &plenty).unwrap();
        // Nothing in the temporary directory names it: it goes with the process, however it ends.
        assert_eq!(f.metadata().unwrap().nlink(), 0);
        let mut back = Vec::new();
        At { file: Arc::clone(&f), pos: 0 }.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(read_at(&Reread::Spool(f), false, 1000, 5).unwrap(), &data[1000..1005]);
        assert_eq!(count.load(Ordering::Relaxed), data.len() as u64);
    }

    #[test]
    fn the_spool_stops_before_the_reserve_of_free_space() {
        let count = Arc::new(AtomicU64::new(0));
        // 40 MiB free, 16 MiB kept free: the copy may take 24 MiB, checked every 8 MiB.
        let written = Arc::new(AtomicU64::new(0));
        let w = Arc::clone(&written);
        let space = move || Ok((PathBuf::from("/spool"), (40 << 20) - w.load(Ordering::Relaxed), 16 << 20));
        let endless = std::iter::repeat_n(b'x', 1 << 30).collect::<Vec<u8>>();
        struct Tracking<'a>(&'a [u8], Arc<AtomicU64>);
        impl Read for Tracking<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
        }
        let e = spool(Tracking(&endless, Arc::clone(&written)), &count, &space).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the copy kept to show its records again stopped after 24 MiB: 16 MiB free on /spool, and the replay \
             leaves 16 MiB free there (5% of the filesystem, at most 1 GiB); give a regular file, use `usage-replay \
             audit` (which reads a pipe without a copy), or set TMPDIR to a larger filesystem"
        );
        assert_eq!(spool_reserve(100 << 30), 1 << 30);
        assert_eq!(spool_reserve(10 << 30), 512 << 20);
    }

    #[test]
    fn a_chunk_fills_and_keeps_what_was_read() {
        let mut c = Chunk::default();
        let mut r: &[u8] = b"hello world";
        assert!(c.fill(&mut r, 5).unwrap());
        assert_eq!(&*c, b"hello");
        c.truncate(2);
        c.extend_from_slice(b"y!");
        assert_eq!(&*c, b"hey!");
        assert!(!c.fill(&mut r, 100).unwrap());
        assert_eq!(&*c, b"hey! world");
        c.clear();
        assert!(c.is_empty());
        // A read error keeps the bytes read before it.
        struct Broken(u8);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("gone"));
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        assert!(c.fill(&mut Broken(3), 10).is_err());
        assert_eq!(&*c, b"xxx");
    }

    #[test]
    fn names() {
        assert!(is_archive_name("a.jsonl.gz"));
        assert!(is_archive_name("a.ndjson"));
        assert!(is_archive_name("a.json"));
        assert!(!is_archive_name("a.txt"));
        assert!(!is_archive_name("a.gz"));
    }
}
