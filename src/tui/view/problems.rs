//! The problems pane (docs/inputs.md#rejected-records, docs/streams.md#matching): the inputs, records not distilled,
//! rejected records with their place, reason and first bytes, and the events
//! that matched no stream. Lines are made on demand, so a hundred thousand
//! rejected records cost only the visible ones.
use super::{line_fit, pane_block, visible_offset};
use crate::tui::app::{App, Pane};
use crate::tui::content::problems::{line, line_count};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let block = pane_block(app, Pane::Problems, vec![], false);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    let n = line_count(app);
    let off = visible_offset(app.problems.off, app.problems.sel, h, n);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::with_capacity(h);
    for i in off..(off + h).min(n) {
        let (text, style) = line(app, i);
        let mut l = line_fit(vec![(text, style)], w);
        if i == app.problems.sel {
            l = l.patch_style(app.theme.selected());
        }
        lines.push(l);
    }
    f.render_widget(Paragraph::new(lines), inner);
}
