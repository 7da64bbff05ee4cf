//! Text from an archive, made safe and tidy for a terminal.
//!
//! docs/outputs.md#hostile-text: one rule for every output. A character that
//! can steer a terminal or change how the text around it reads ([`is_hostile`]:
//! C0 and C1 controls, DEL, bidi controls, line and paragraph separators and
//! every other format character) never leaves the program raw. The table, CSV,
//! the UI and messages show it as a visible escape ([`sanitize`]: `\x1b`,
//! `\u{202e}`); JSON writes it as a `\uXXXX` escape ([`escape_json`],
//! [`push_json_char`]), so a JSON reader still gets the text exactly.

use std::borrow::Cow;
use std::fmt::Write as _;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether `c` is never written raw: a control character (C0, DEL, C1), or a
/// format character (Unicode category Cf: bidi embeddings, overrides, isolates
/// and marks, zero-width characters, the byte-order mark, tag characters …),
/// or a line or paragraph separator.
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            0xad | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x890..=0x891
                | 0x8e2
                | 0x180e
                | 0x200b..=0x200f
                | 0x2028..=0x202e
                | 0x2060..=0x2064
                | 0x2066..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0x110bd
                | 0x110cd
                | 0x13430..=0x1343f
                | 0x1bca0..=0x1bca3
                | 0x1d173..=0x1d17a
                | 0xe0001
                | 0xe0020..=0xe007f
        )
}

/// Whether `s` may hold a hostile character: cheap on plain ASCII text.
fn may_be_hostile(s: &str) -> bool {
    s.bytes().any(|b| !(0x20..0x7f).contains(&b)) && s.chars().any(is_hostile)
}

/// Replace every hostile character ([`is_hostile`]) with a visible escape such
/// as `\x1b` (below U+0100) or `\u{202e}`, for the table, CSV, the UI and messages.
pub fn sanitize(s: &str) -> String {
    if !may_be_hostile(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c) {
            let n = c as u32;
            if n < 0x100 {
                let _ = write!(out, "\\x{n:02x}");
            } else {
                let _ = write!(out, "\\u{{{n:x}}}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Write `c` as JSON's `\uXXXX` escape (a surrogate pair beyond the BMP).
pub fn push_json_char(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        let _ = write!(out, "\\u{u:04x}");
    }
}

/// Escape the hostile characters left raw in JSON text (serde_json escapes
/// only U+0000–U+001F). Outside strings JSON text has none but its whitespace
/// (kept), and inside one the
/// escape stands for the same character, so the document reads back the same.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !may_be_hostile(json) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        // JSON's own whitespace between values stays (inside strings serde_json escaped it).
        if is_hostile(c) && !matches!(c, '\n' | '\r' | '\t') {
            push_json_char(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Cut `s` to at most `w` columns, ending in `…` when it was cut.
pub fn fit(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// Wrap `s` into lines of at most `w` columns, the lines after the first
/// starting with `indent`: at a space where there is one on the line (past its
/// indentation), else wherever it must (a long id, a line of a record).
pub fn wrap_hard(s: &str, w: usize, indent: &str) -> Vec<String> {
    if width(s) <= w {
        return vec![s.to_string()];
    }
    let indent = if width(indent) * 2 >= w { "" } else { indent };
    // A break at a space must leave something on the line besides its indentation.
    let lead = |l: &str| l.len() - l.trim_start().len();
    let mut out = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw > w {
            let next = match line.rfind(' ').filter(|&sp| sp > lead(&line)) {
                Some(sp) => {
                    let tail = line[sp + 1..].to_string();
                    line.truncate(sp);
                    format!("{indent}{tail}")
                }
                None => indent.to_string(),
            };
            out.push(std::mem::replace(&mut line, next));
            used = width(&line);
        }
        line.push(c);
        used += cw;
    }
    out.push(line);
    out
}

/// Wrap `s` into lines of at most `w` columns, breaking at spaces where it can.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    wrap_words(s, w.max(8), true)
}

/// Wrap `s` into lines of at most `w` columns at spaces, never breaking a word:
/// a word longer than the line (a path, an id) stands whole on its own line.
pub fn wrap_whole(s: &str, w: usize) -> Vec<String> {
    wrap_words(s, w, false)
}

/// Wrap at spaces; a word longer than the line is hard-broken when `hard`, else left whole.
fn wrap_words(s: &str, w: usize, hard: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for para in s.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split(' ') {
            let ww = width(word);
            if used > 0 && used + 1 + ww > w {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            if hard && ww > w {
                // A word longer than the line: hard-break it.
                for c in word.chars() {
                    let cw = UnicodeWidthChar::width(c).unwrap_or(0);
                    if used + cw > w {
                        lines.push(std::mem::take(&mut line));
                        used = 0;
                    }
                    line.push(c);
                    used += cw;
                }
                continue;
            }
            if used > 0 {
                line.push(' ');
                used += 1;
            }
            line.push_str(word);
            used += ww;
        }
        lines.push(line);
    }
    lines
}

/// Numbers with thousands separators: 1,234,567.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in bytes, short: `512 B`, `1.5 KiB`, `3.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_whole_never_breaks_a_word() {
        let long = "/var/log/nova/notifications/2014-10-07/compute-host-250.example.net.jsonl.gz";
        let lines = wrap_whole(&format!("rejected {long}:12: invalid JSON"), 40);
        assert_eq!(lines, vec!["rejected".to_string(), format!("{long}:12:"), "invalid JSON".to_string()]);
        assert_eq!(wrap_whole("a b c", 3), vec!["a b", "c"]);
    }

    #[test]
    fn hard_wrapping_breaks_at_spaces_when_it_can() {
        assert_eq!(wrap_hard("from a/b.jsonl:4 (notification)", 20, "  "), ["from a/b.jsonl:4", "  (notification)"]);
        assert_eq!(wrap_hard("  id 0123456789abcdef", 10, "  "), ["  id", "  01234567", "  89abcdef"]);
        assert_eq!(wrap_hard("short", 10, "  "), ["short"]);
        assert!(wrap_hard(&"é".repeat(30), 7, "  ").iter().all(|l| width(l) <= 7));
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(sanitize("a\x1b[31mred\x07"), "a\\x1b[31mred\\x07");
        assert_eq!(sanitize("tab\there\r\n"), "tab\\x09here\\x0d\\x0a");
        assert_eq!(sanitize("\u{9b}2J"), "\\x9b2J");
        assert_eq!(sanitize("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(sanitize("tenant-été"), "tenant-été");
        assert_eq!(
            sanitize("a\u{7f}b\u{200b}c\u{2066}d\u{feff}\u{e0041}"),
            "a\\x7fb\\u{200b}c\\u{2066}d\\u{feff}\\u{e0041}"
        );
        assert_eq!(sanitize("soft\u{ad}hyphen"), "soft\\xadhyphen");
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_raw() {
        let v = "a\u{1b}\u{7f}\u{9b}\u{202e}\u{e0041}é😀";
        let json = serde_json::to_string(v).unwrap();
        let escaped = escape_json(&json);
        assert_eq!(escaped, "\"a\\u001b\\u007f\\u009b\\u202e\\udb40\\udc41é😀\"");
        assert_eq!(serde_json::from_str::<String>(&escaped).unwrap(), v);
        assert!(matches!(escape_json("{\"plain\": 1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn fit_and_wrap() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(wrap("aaa bbb ccc", 8), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghijkl", 8), vec!["abcdefgh", "ijkl"]);
    }
}
