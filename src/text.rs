//! Text from an archive, made safe and tidy for a terminal.
//!
//! Every string that comes from an archive passes through [`sanitize`] before
//! it is drawn or printed: control characters and escape sequences become
//! visible escapes, so an archive can never drive the terminal.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Replace control characters (C0, DEL, C1) and bidirectional overrides with
/// visible escapes such as `\x1b` and `\u{202e}`.
pub fn sanitize(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
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
    let w = w.max(8);
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
            if ww > w {
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

/// Wrap `s` into lines of at most `w` columns at spaces, never breaking a word:
/// a word longer than the line (a path, an id) stands whole on its own line.
pub fn wrap_whole(s: &str, w: usize) -> Vec<String> {
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
    }

    #[test]
    fn fit_and_wrap() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(wrap("aaa bbb ccc", 8), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghijkl", 8), vec!["abcdefgh", "ijkl"]);
    }
}
