//! The detail pane: every trait of the selected event, sorted by name, and the
//! original notification it was distilled from, pretty-printed (re-read from
//! the archive off the UI thread), scrollable.
use super::{line_fit, pane_block};
use crate::tui::app::{App, Pane, Pinned};
use crate::tui::content::detail::lines;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    let title = match app.pinned {
        Some(Pinned::Event(_)) => vec![Span::styled("(unmatched event) ", app.theme.warn())],
        Some(Pinned::Rejected(_)) => vec![Span::styled("(rejected record) ", app.theme.warn())],
        None => vec![],
    };
    let block = pane_block(app, Pane::Detail, title, compact);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let all = lines(app, inner.width as usize);
    let h = inner.height as usize;
    let scroll = app.detail_scroll.min(all.len().saturating_sub(h));
    let w = inner.width as usize;
    let shown: Vec<Line> = all.into_iter().skip(scroll).take(h).map(|(l, st)| line_fit(vec![(l, st)], w)).collect();
    f.render_widget(Paragraph::new(shown), inner);
}
