//! The detail pane's text: every trait of the selected event, sorted by name,
//! and the original notification it was distilled from, pretty-printed.

use super::col;
use crate::tui::app::{App, Pinned};
use ratatui::style::Style;

/// The pane's text, wrapped to `width` columns (long values and record lines
/// go on over the next lines rather than being cut).
pub fn lines(app: &App, width: usize) -> Vec<(String, Style)> {
    let mut out = Vec::new();
    for (l, st) in unwrapped(app) {
        for piece in crate::text::wrap_hard(&l, width.max(8), "      ") {
            out.push((piece, st));
        }
    }
    out
}

/// A rejected record: where, why, and its first bytes.
fn rejected(app: &App, i: usize) -> Vec<(String, Style)> {
    let t = app.theme;
    let s = crate::text::sanitize;
    let Some(r) = app.data().and_then(|d| d.archive.rejected.get(i)) else { return Vec::new() };
    let mut out = vec![
        ("Rejected record".to_string(), t.title()),
        (format!("from        {}", s(&r.location())), t.label()),
        (format!("reason      {}", s(&r.reason)), t.warn()),
        (String::new(), Style::new()),
        ("First bytes of the record (at most 200)".to_string(), t.title()),
    ];
    if r.excerpt.is_empty() {
        out.push(("  (none: the file itself could not be read)".into(), t.label()));
    } else {
        out.push((format!("  {}", s(&r.excerpt)), Style::new()));
    }
    out
}

fn unwrapped(app: &App) -> Vec<(String, Style)> {
    let t = app.theme;
    let Some(d) = app.data() else { return Vec::new() };
    if let Some(Pinned::Rejected(i)) = app.pinned {
        return rejected(app, i);
    }
    let Some(idx) = app.detail_event() else {
        return vec![("no event selected".into(), t.label())];
    };
    let Some(e) = app.detail_event_ref() else { return Vec::new() };
    let sy = &d.archive.symbols;
    let s = crate::text::sanitize;
    let mut out = vec![
        (s(sy.get(e.event_type)), t.title()),
        (format!("message_id  {}", s(&e.message_id(sy))), Style::new()),
        (format!("timestamp   {}", e.timestamp.iso()), Style::new()),
        (format!("from        {} ({})", s(&d.archive.location(&e.origin)), e.origin.kind.name()), t.label()),
    ];
    if e.timestamp > app.playback.clock {
        out.push(("after the playback clock: not replayed yet".into(), t.future()));
    }
    out.push((String::new(), Style::new()));
    out.push((format!("Traits ({})", e.traits.len()), t.title()));
    let name_w = e.traits.iter().map(|tr| sy.get(tr.name).len()).max().unwrap_or(4).min(24);
    for tr in e.sorted_traits(sy) {
        out.push((
            format!("  {} {} ({})", col(sy.get(tr.name), name_w), s(&tr.value.display(sy)), tr.value.kind_name()),
            Style::new(),
        ));
    }
    if e.origin.kind.is_notification() {
        out.push((String::new(), Style::new()));
        out.push(("Original notification".into(), t.title()));
        match app.original(idx) {
            None => out.push(("  reading…".into(), t.label())),
            Some(Err(why)) => out.push((format!("  cannot read it again: {}", s(why)), t.error())),
            Some(Ok(text)) => {
                for l in text.lines() {
                    out.push((format!("  {}", s(l)), Style::new()));
                }
            }
        }
    }
    out
}
