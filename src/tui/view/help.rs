//! The help overlay, generated from the key map: every binding, grouped by
//! where it applies, so the help cannot drift from the code.

use super::{line_fit, pad};
use crate::tui::app::App;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

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

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(4).min(76);
    let h = area.height.saturating_sub(2);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
    f.render_widget(Clear, r);
    let block = Block::bordered()
        .border_style(app.theme.border(true))
        .title(Line::styled(" Keys — ? or q closes, j/k scroll ", app.theme.title()));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let all = help_lines(app);
    let scroll = app.help.unwrap_or(0).min(all.len().saturating_sub(inner.height as usize));
    let iw = inner.width as usize;
    let lines: Vec<Line> =
        all.into_iter().skip(scroll).take(inner.height as usize).map(|(s, st)| line_fit(vec![(s, st)], iw)).collect();
    f.render_widget(Paragraph::new(lines), inner);
}
