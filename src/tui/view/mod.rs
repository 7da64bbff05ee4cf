//! Drawing: `render(&App, &mut Frame)` is a function of the state, one module
//! per screen region. Nothing here changes the state or does I/O, and only
//! what is visible is computed, so a frame costs the same with ten streams or
//! a hundred thousand.
//!
//! Where each region goes is [`layout`](super::layout)'s; what the text
//! panes say is [`content`](super::content)'s.

pub mod detail;
pub mod events;
pub mod explain;
pub mod footer;
pub mod header;
pub mod help;
pub mod loading;
pub mod problems;
pub mod streams;
pub mod timeline;

use super::action::Action;
use super::app::{App, Pane};
pub use super::content::{col, delta, num, pad, rpad};
use super::keymap::Scope;
use super::layout;
pub use super::layout::{visible_offset, Areas, MIN_HEIGHT, MIN_WIDTH};
use crate::text::{fit, width};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// The layout of the main screen in `area`, or `None` when it is too small.
pub fn areas(app: &App, area: Rect) -> Option<Areas> {
    layout::areas(area, app.focus, app.inspector)
}

/// Draw the whole screen.
pub fn render(app: &App, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})", area.width, area.height);
        let lines: Vec<Line> =
            crate::text::wrap(&msg, area.width.max(1) as usize).into_iter().map(Line::from).collect();
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    if app.data().is_none() {
        loading::render(app, f, area);
        if app.help.is_some() {
            help::render(app, f, area);
        }
        return;
    }
    let Some(a) = areas(app, area) else { return };
    header::render(app, f, a.header);
    timeline::render(app, f, a.timeline);
    let compact = a.panes.len() == 1;
    for (p, r) in &a.panes {
        match p {
            Pane::Streams => streams::render(app, f, *r, compact),
            Pane::Events => events::render(app, f, *r, compact),
            Pane::Detail => detail::render(app, f, *r, compact),
            Pane::Explain => explain::render(app, f, *r, compact),
            Pane::Problems => problems::render(app, f, *r),
        }
    }
    footer::render(app, f, a.footer);
    if app.help.is_some() {
        help::render(app, f, area);
    }
}

/// A pane's border, highlighted when focused; in the compact layout the title
/// also says how to reach the other panes.
pub fn pane_block<'a>(app: &App, p: Pane, title: Vec<Span<'a>>, compact: bool) -> Block<'a> {
    let focused = app.focus == p;
    let mut spans = vec![Span::styled(format!(" {} ", p.title()), app.theme.title())];
    spans.extend(title);
    if compact && p != Pane::Problems {
        let tab = app.keymap.hint(Scope::Global, &Action::NextPane);
        spans.push(Span::styled(format!("· {tab}: next pane "), app.theme.label()));
    }
    Block::bordered().border_style(app.theme.border(focused)).title(Line::from(spans))
}

/// A list of lines made from `(text, style)` pieces and cut to `w` columns.
pub fn line_fit<'a>(pieces: Vec<(String, Style)>, w: usize) -> Line<'a> {
    let mut used = 0;
    let mut spans = Vec::new();
    for (text, style) in pieces {
        if used >= w {
            break;
        }
        let t = fit(&text, w - used);
        used += width(&t);
        spans.push(Span::styled(t, style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(num(1234567), "1,234,567");
        assert_eq!(num(12), "12");
        assert_eq!(delta(0), "+0s");
        assert_eq!(delta(3_723_000_000), "+1h02m");
        assert_eq!(delta(-90_000_000), "-1m30s");
        assert_eq!(delta(2 * 86_400_000_000 + 3_600_000_000), "+2d01h");
        assert_eq!(col("a\u{1b}b", 6), "a\\x1bb");
        assert_eq!(rpad("7", 3), "  7");
    }
}
