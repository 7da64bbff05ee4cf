//! The help overlay's lines, generated from the key map.

use super::pad;
use crate::tui::app::App;
use ratatui::style::Style;

/// One line per scope title and per (keys, action) group, plus blank lines between scopes.
pub fn help_lines(app: &App) -> Vec<(String, Style)> {
    let t = app.theme;
    let km = &app.keymap;
    let mut out = Vec::new();
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
