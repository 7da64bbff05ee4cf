//! The explanation pane: the selected stream's verdict at the clock — code and
//! exact message, the engine's explanation (meaning, evidence, causes, next
//! steps, notes), the output event, and the pipeline log. Scrollable.
use super::{line_fit, pane_block};
use crate::tui::app::{App, Pane};
use crate::tui::content::explain::lines;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    // docs/ui.md#two-rule-sets: with both rule sets, whose stream is explained.
    let rules = match (app.data().and_then(|d| d.other.as_ref()), app.shown_rules()) {
        (Some(_), Some(r)) => format!("{} ", r.name()),
        _ => String::new(),
    };
    let title = match app.shown_stream() {
        Some(s) => vec![Span::raw(format!("{rules}of #{} ", s.id))],
        None if !rules.is_empty() => vec![Span::raw(rules)],
        None => vec![],
    };
    let block = pane_block(app, Pane::Explain, title, compact);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let all = lines(app, w);
    let h = inner.height as usize;
    let scroll = app.explain_scroll.min(all.len().saturating_sub(h));
    let shown: Vec<Line> = all.into_iter().skip(scroll).take(h).map(|(l, st)| line_fit(vec![(l, st)], w)).collect();
    f.render_widget(Paragraph::new(shown), inner);
}
