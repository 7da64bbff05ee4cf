//! Opening inputs (SPEC §1): paths, directories, `-` for standard input, gzip
//! recognised by its magic bytes, and the file layout (JSON Lines, or one JSON
//! document holding an array of records or one record).

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// File names a directory contributes (SPEC §1).
pub fn is_archive_name(name: &str) -> bool {
    let n = name.strip_suffix(".gz").unwrap_or(name);
    n.ends_with(".json") || n.ends_with(".jsonl") || n.ends_with(".ndjson")
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

/// Expand the command-line paths: directories become every matching regular file
/// below them, in sorted path order. Problems (a missing path, an unreadable
/// directory) are returned beside the inputs, per path.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<(String, String)>) {
    let mut inputs = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                for entry in walkdir::WalkDir::new(p).follow_links(true) {
                    match entry {
                        Ok(e) => {
                            if e.file_type().is_file() && is_archive_name(&e.file_name().to_string_lossy()) {
                                found.push(e.into_path());
                            }
                        }
                        Err(e) => {
                            let at =
                                e.path().map(|x| x.display().to_string()).unwrap_or_else(|| p.display().to_string());
                            problems.push((at, io_reason(e.io_error(), "cannot read directory")));
                        }
                    }
                }
                found.sort();
                inputs.extend(found.into_iter().map(Input::File));
            }
            Ok(_) => inputs.push(Input::File(p.clone())),
            Err(e) => problems.push((p.display().to_string(), io_reason(Some(&e), "cannot open"))),
        }
    }
    (inputs, problems)
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

/// An opened input: where it lives on disk (standard input is spooled to a
/// temporary file so that records can be shown again later), and whether it is gzip.
pub struct Opened {
    pub path: PathBuf,
    pub gzip: bool,
    pub size_on_disk: u64,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

pub fn sniff_gzip(path: &Path) -> io::Result<bool> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        let n = f.read(&mut magic[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got == 2 && magic == GZIP_MAGIC)
}

pub fn open_file(path: &Path) -> io::Result<Opened> {
    let meta = std::fs::metadata(path)?;
    let gzip = sniff_gzip(path)?;
    Ok(Opened { path: path.to_path_buf(), gzip, size_on_disk: meta.len() })
}

/// Copy standard input to a temporary file that lives as long as the archive.
pub fn spool_stdin(count: &Arc<AtomicU64>) -> io::Result<tempfile::TempPath> {
    let mut tmp = tempfile::Builder::new().prefix("usage-replay-stdin-").tempfile()?;
    let mut stdin = Counting { inner: io::stdin().lock(), count: count.clone() };
    io::copy(&mut stdin, tmp.as_file_mut())?;
    Ok(tmp.into_temp_path())
}

/// A reader over the (decompressed) content of an opened input.
pub fn reader(o: &Opened, count: &Arc<AtomicU64>) -> io::Result<Box<dyn Read + Send>> {
    let f = Counting { inner: File::open(&o.path)?, count: count.clone() };
    Ok(if o.gzip { Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f))) } else { Box::new(f) })
}

/// Read `len` bytes at `offset` of the decompressed content (to show a record again).
pub fn read_at(path: &Path, gzip: bool, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    if gzip {
        let mut r = MultiGzDecoder::new(BufReader::new(File::open(path)?));
        io::copy(&mut (&mut r).take(offset), &mut io::sink())?;
        r.read_exact(&mut buf)?;
    } else {
        let mut f = File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut buf)?;
    }
    Ok(buf)
}

/// Fill `buf` from `r` until it holds `want` bytes or the input ends.
/// Returns false at the end of the input.
pub fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let need = want.saturating_sub(buf.len());
    if need == 0 {
        return Ok(true);
    }
    buf.reserve(need);
    // `read_to_end` reads into spare capacity without zeroing it on every short read;
    // on an error the bytes read before it stay in `buf`.
    let n = Read::take(&mut *r, need as u64).read_to_end(buf)?;
    Ok(n == need)
}

/// Layout of one file (SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    JsonLines,
    /// One JSON document: an array of records or a single record.
    Document,
}

/// Decide the layout from the start of the content: JSON Lines when the first
/// non-blank line is a complete JSON value by itself, or when it is broken but
/// one of the next two lines is (one bad record must not turn a JSON Lines file
/// into one unreadable document). A first line that only opens a value (`[`,
/// `{`) starts a pretty-printed document.
pub fn detect_layout(head: &[u8], complete: bool) -> Layout {
    let mut pieces: Vec<&[u8]> = head.split(|b| *b == b'\n').collect();
    if !complete {
        // The last piece of an incomplete head may be a cut line: don't judge by it.
        pieces.pop();
    }
    let mut lines = pieces.into_iter().map(trim).filter(|t| !t.is_empty());
    let parses = |t: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok();
    match lines.next() {
        None => Layout::JsonLines,
        Some(first) if parses(first) => Layout::JsonLines,
        Some(b"[") | Some(b"{") => Layout::Document,
        Some(_) => {
            if lines.take(2).any(parses) {
                Layout::JsonLines
            } else {
                Layout::Document
            }
        }
    }
}

pub fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map(|i| i + 1).unwrap_or(start);
    &b[start..end.max(start)]
}

/// Split a JSON array document into its elements without trusting the whole
/// document to parse: a broken element is reported and the reader moves on to
/// the next line that starts a value, so one bad record never loses the rest.
pub fn array_elements(text: &[u8]) -> Vec<Result<(usize, usize), (usize, String)>> {
    let mut out = Vec::new();
    let mut pos = skip_ws(text, 0);
    if text.get(pos) != Some(&b'[') {
        return out;
    }
    pos += 1;
    loop {
        pos = skip_ws(text, pos);
        match text.get(pos) {
            None => {
                out.push(Err((pos, "invalid JSON: the array is not closed".to_string())));
                return out;
            }
            Some(b']') => return out,
            _ => {}
        }
        let mut it = serde_json::Deserializer::from_slice(&text[pos..]).into_iter::<&serde_json::value::RawValue>();
        match it.next() {
            Some(Ok(_)) => {
                let len = it.byte_offset();
                out.push(Ok((pos, len)));
                pos = skip_ws(text, pos + len);
                match text.get(pos) {
                    Some(b',') => pos += 1,
                    Some(b']') => return out,
                    None => {
                        out.push(Err((pos, "invalid JSON: the array is not closed".to_string())));
                        return out;
                    }
                    Some(_) => {
                        out.push(Err((pos, "invalid JSON: expected `,` or `]` between records".to_string())));
                        match resync(text, pos) {
                            Some(p) => pos = p,
                            None => return out,
                        }
                    }
                }
            }
            Some(Err(e)) => {
                out.push(Err((pos, super::json::syntax_reason(&e, true))));
                match resync(text, pos + 1) {
                    Some(p) => pos = p,
                    None => return out,
                }
            }
            None => return out,
        }
    }
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while pos < text.len() && text[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// The start of the next line whose first non-blank character opens a value.
fn resync(text: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    while let Some(nl) = memchr::memchr(b'\n', &text[pos.min(text.len())..]) {
        pos += nl + 1;
        let p = skip_ws(text, pos);
        if matches!(text.get(p), Some(b'{') | Some(b'[')) {
            return Some(p);
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
        assert_eq!(detect_layout(b"{\"a\":1", true), Layout::Document);
        assert_eq!(detect_layout(b"[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n", true), Layout::Document);
        assert_eq!(detect_layout(b"{\n  \"a\": 1\n}\n", true), Layout::Document);
        // a broken first line does not hide a JSON Lines file
        assert_eq!(detect_layout(b"{\"a\":\n{\"a\":2}\n", true), Layout::JsonLines);
        assert_eq!(detect_layout(b"\n\n[{\"a\":1}]", true), Layout::JsonLines);
    }

    #[test]
    fn array_elements_survive_a_broken_one() {
        let text = b"[\n  {\"a\": 1},\n  {\"a\": tru},\n  {\"a\": 3}\n]";
        let els = array_elements(text);
        assert_eq!(els.len(), 3, "{els:?}");
        assert!(els[0].is_ok());
        assert!(els[1].is_err());
        let (off, len) = *els[2].as_ref().unwrap();
        assert_eq!(&text[off..off + len], b"{\"a\": 3}");
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
