//! The help overlay, generated from the key map: every binding, grouped by
//! where it applies, so the help cannot drift from the code.
use super::line_fit;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::content::help::help_lines;
use crate::tui::keymap::Scope;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(4).min(76);
    let h = area.height.saturating_sub(2);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 1, w, h);
    f.render_widget(Clear, r);
    let block =
        Block::bordered().border_style(app.theme.border(true)).title(Line::styled(title(app), app.theme.title()));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let all = help_lines(app);
    let scroll = app.help.unwrap_or(0).min(all.len().saturating_sub(inner.height as usize));
    let iw = inner.width as usize;
    let lines: Vec<Line> =
        all.into_iter().skip(scroll).take(inner.height as usize).map(|(s, st)| line_fit(vec![(s, st)], iw)).collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// " Help — ? or q closes, j/k scroll ", from the help's own bindings.
fn title(app: &App) -> String {
    let km = &app.keymap;
    let close: Vec<String> = km.keys_for(Scope::Help, &Action::Back).iter().take(2).map(|k| k.label()).collect();
    let (down, up) = (km.hint(Scope::Help, &Action::Down), km.hint(Scope::Help, &Action::Up));
    format!(" Help — {} closes, {down}/{up} scroll ", close.join(" or "))
}
