//! The help overlay's lines: a legend of what the screen's symbols and codes
//! mean, then every binding, generated from the key map.

use super::pad;
use crate::pipeline::Code;
use crate::replay::Outcome;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::style::Style;

/// The title of the legend, the help's first section.
pub const LEGEND_TITLE: &str = "What the screen shows";

/// The legend (docs/ui.md#legend): every mark the panes draw, the badges, and one
/// line per code, whose meaning is the title of that code's explanation.
pub fn legend(app: &App) -> Vec<(String, Style)> {
    let t = app.theme;
    let row = |sym: &str, what: &str| format!("  {} {what}", pad(sym, 10));
    let mut out = vec![(LEGEND_TITLE.to_string(), t.title())];
    let marks: [(&str, &str); 11] = [
        ("▶ ⏸", "playing, paused; ×N: event-seconds per second"),
        ("█░", "events replayed out of all of them"),
        ("▁▂▃▄▅▆▇█", "timeline: events per stretch of time"),
        ("▲", "timeline: the clock (the playhead)"),
        ("✗", "timeline: failures decided then (dim: after the clock)"),
        ("▸", "the selected stream"),
        ("→", "the selected stream's whole message, under the list"),
        ("X", "events: the .exists the checks used"),
        ("!", "events: an event that proves the verdict"),
        ("dim text", "not reached by the clock yet"),
        ("⇄", "the time-sync clock, published or followed"),
    ];
    out.extend(marks.iter().map(|(s, w)| (row(s, w), Style::new())));
    let badges = [
        (Outcome::Verified, None, "verified: every check passed"),
        (Outcome::Failed, Some(Code::U0), "failed with this code (below)"),
        (Outcome::Error, None, crate::explain::ERROR_TITLE),
        (Outcome::Pending, None, "pending: not fired or expired yet at the clock"),
    ];
    for (o, code, what) in badges {
        let badge = match code {
            Some(_) => "U0 … U8".to_string(),
            None => Theme::badge(o, None),
        };
        out.push((row(&badge, what), t.outcome(o)));
    }
    for code in Code::ALL {
        out.push((row(code.as_str(), crate::explain::code_title(code)), Style::new()));
    }
    out
}

/// The legend, then one line per scope title and per (keys, action) group,
/// with blank lines between sections.
pub fn help_lines(app: &App) -> Vec<(String, Style)> {
    let t = app.theme;
    let km = &app.keymap;
    let mut out = legend(app);
    out.push((String::new(), Style::new()));
    for (i, scope) in km.scopes().into_iter().enumerate() {
        if i > 0 {
            out.push((String::new(), Style::new()));
        }
        out.push((scope.title().to_string(), t.title()));
        for (keys, action) in km.grouped(scope) {
            let labels: Vec<String> = keys.iter().map(|k| k.label()).collect();
            out.push((format!("  {} {}", pad(&labels.join(" "), 18), action.describe()), Style::new()));
        }
    }
    out
}

pub fn line_count(app: &App) -> usize {
    help_lines(app).len()
}
