//! What the text panes say, apart from how they are drawn: the detail and
//! explanation texts, the problems list, the help. The app measures them (how
//! far a pane scrolls, which problem line is selectable) and the view draws
//! them, so the two agree without the app calling into the view.

pub mod detail;
pub mod explain;
pub mod help;
pub mod problems;

use crate::text::{fit, sanitize, width};

/// Text from the archive, neutralised and cut to `w` columns, padded to `w`.
pub fn col(s: &str, w: usize) -> String {
    pad(&fit(&sanitize(s), w), w)
}

/// Pad to `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let used = width(s);
    if used >= w {
        fit(s, w)
    } else {
        format!("{s}{}", " ".repeat(w - used))
    }
}

/// Right-align in `w` columns.
pub fn rpad(s: &str, w: usize) -> String {
    let used = width(s);
    if used >= w {
        fit(s, w)
    } else {
        format!("{}{s}", " ".repeat(w - used))
    }
}

/// Numbers with thousands separators: 1,234,567.
pub fn num(n: usize) -> String {
    crate::text::thousands(n as u64)
}

/// A duration of event time, short: `+0s`, `+45s`, `+12m03s`, `+3h04m`, `+2d03h`.
pub fn delta(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "+" };
    let s = us.unsigned_abs() / 1_000_000;
    let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d{h:02}h")
    } else if h > 0 {
        format!("{sign}{h}h{m:02}m")
    } else if m > 0 {
        format!("{sign}{m}m{sec:02}s")
    } else {
        format!("{sign}{sec}s")
    }
}
