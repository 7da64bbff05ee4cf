//! Drawing: `render(&App, &mut Frame)` is a function of the state, one module
//! per screen region. Nothing here changes the state or does I/O, and only
//! what is visible is computed, so a frame costs the same with ten streams or
//! a hundred thousand.
//!
//! Layout: header (3 rows), timeline (3), body, footer (1). At 100×30 and
//! more the body shows the streams above the selected stream's events and the
//! inspector (event detail or explanation); on smaller terminals it shows the
//! focused pane alone and Tab moves between them.

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

use super::app::{App, Pane};
use crate::text::{fit, sanitize, width};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

/// The smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// Where each region of the screen is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub timeline: Rect,
    pub body: Rect,
    pub footer: Rect,
    /// The panes shown, with their outer (bordered) areas.
    pub panes: Vec<(Pane, Rect)>,
}

/// Whether the body has room for every pane at once.
pub fn is_wide(area: Rect) -> bool {
    area.width >= 100 && area.height >= 30
}

/// The layout of the main screen in `area`, or `None` when it is too small.
pub fn areas(app: &App, area: Rect) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [header, timeline, body, footer] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(3), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    let inspector = app.inspector;
    let panes = if app.focus == Pane::Problems {
        vec![(Pane::Problems, body)]
    } else if is_wide(area) {
        let top = (body.height * 2 / 5).max(8);
        let [streams, bottom] = Layout::vertical([Constraint::Length(top), Constraint::Min(1)]).areas(body);
        let [events, insp] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
        vec![(Pane::Streams, streams), (Pane::Events, events), (inspector, insp)]
    } else {
        vec![(app.focus, body)]
    };
    Some(Areas { header, timeline, body, footer, panes })
}

fn screen(app: &App) -> Rect {
    Rect::new(0, 0, app.size.0, app.size.1)
}

/// Whether a pane is on screen now.
pub fn is_shown(app: &App, p: Pane) -> bool {
    areas(app, screen(app)).is_some_and(|a| a.panes.iter().any(|(q, _)| *q == p))
}

/// The pane under a terminal cell.
pub fn pane_at(app: &App, x: u16, y: u16) -> Option<Pane> {
    let a = areas(app, screen(app))?;
    a.panes.iter().find(|(_, r)| r.contains(ratatui::layout::Position { x, y })).map(|(p, _)| *p)
}

/// Rows above a pane's first list row inside its border (the column header).
fn header_rows(p: Pane) -> u16 {
    match p {
        Pane::Streams | Pane::Events => 1,
        _ => 0,
    }
}

/// The inner area of a pane's list, if the pane were shown now.
fn list_area(app: &App, p: Pane) -> Option<Rect> {
    let a = areas(app, screen(app))?;
    let outer = a.panes.iter().find(|(q, _)| *q == p).map(|(_, r)| *r).unwrap_or(a.body);
    let inner = Block::bordered().inner(outer);
    let skip = header_rows(p).min(inner.height);
    Some(Rect { y: inner.y + skip, height: inner.height - skip, ..inner })
}

/// Rows of list (or text) a pane shows.
pub fn pane_height(app: &App, p: Pane) -> usize {
    list_area(app, p).map(|r| r.height as usize).unwrap_or(1)
}

/// How far a text pane (detail, explanation) can scroll at the current size.
pub fn scroll_max(app: &App, p: Pane) -> usize {
    let Some(r) = list_area(app, p) else { return 0 };
    let total = match p {
        Pane::Detail => detail::lines(app, r.width as usize).len(),
        Pane::Explain => explain::lines(app, r.width as usize).len(),
        _ => 0,
    };
    total.saturating_sub(r.height as usize)
}

/// The list row under terminal row `y` in a pane.
pub fn row_at(app: &App, p: Pane, y: u16) -> Option<usize> {
    let r = list_area(app, p)?;
    if y < r.y || y >= r.y + r.height {
        return None;
    }
    let off = match p {
        Pane::Streams => app.streams.off,
        Pane::Events => app.events.off,
        Pane::Problems => app.problems.off,
        _ => return None,
    };
    Some(off + (y - r.y) as usize)
}

/// The first visible row so that `sel` is visible in `height` rows, moving as
/// little as possible, and the rows fill the pane when there are enough of
/// them (a list that shrank under the window scrolls back).
pub fn visible_offset(off: usize, sel: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let off = off.min(len.saturating_sub(height));
    if sel < off {
        sel
    } else if sel >= off + height {
        sel + 1 - height
    } else {
        off
    }
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
        spans.push(Span::styled("· Tab: next pane ", app.theme.label()));
    }
    Block::bordered().border_style(app.theme.border(focused)).title(Line::from(spans))
}

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

/// Numbers with thousands separators: 1,234,567.
pub fn num(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(visible_offset(0, 5, 3, 10), 3);
        assert_eq!(visible_offset(4, 2, 3, 10), 2);
        assert_eq!(visible_offset(2, 3, 3, 10), 2);
        // The list shrank (a filter): the window comes back to show a full pane.
        assert_eq!(visible_offset(14600, 1382, 10, 1383), 1373);
        assert_eq!(visible_offset(14600, 1, 10, 2), 0);
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
