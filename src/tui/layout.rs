//! Where things are on the screen, as a function of the terminal size, the
//! focused pane and what the inspector shows. The view draws into these
//! areas and the app uses the same geometry for paging, scrolling and mouse
//! hits, so neither depends on the other.
//!
//! Layout: header (3 rows), timeline (3), body, footer (1). At 100×30 and
//! more the body shows the streams above the selected stream's events and the
//! inspector (event detail or explanation); on smaller terminals it shows the
//! focused pane alone and Tab moves between them.

use super::types::Pane;
use ratatui::layout::{Constraint, Layout as Split, Position, Rect};
use ratatui::widgets::Block;

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
pub fn areas(area: Rect, focus: Pane, inspector: Pane) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [header, timeline, body, footer] =
        Split::vertical([Constraint::Length(3), Constraint::Length(3), Constraint::Min(1), Constraint::Length(1)])
            .areas(area);
    let panes = if focus == Pane::Problems {
        vec![(Pane::Problems, body)]
    } else if is_wide(area) {
        let top = (body.height * 2 / 5).max(8);
        let [streams, bottom] = Split::vertical([Constraint::Length(top), Constraint::Min(1)]).areas(body);
        let [events, insp] = Split::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
        vec![(Pane::Streams, streams), (Pane::Events, events), (inspector, insp)]
    } else {
        vec![(focus, body)]
    };
    Some(Areas { header, timeline, body, footer, panes })
}

/// Rows under the stream list for the selected stream's whole message
/// (docs/ui.md#panes), when the pane has room for them and a few rows.
pub fn message_rows(p: Pane, inner_height: u16) -> u16 {
    if p == Pane::Streams && inner_height >= 6 {
        2
    } else {
        0
    }
}

/// Rows above a pane's first list row inside its border (the column header).
fn header_rows(p: Pane) -> u16 {
    match p {
        Pane::Streams | Pane::Events => 1,
        _ => 0,
    }
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

/// The screen's geometry for one state of the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    areas: Option<Areas>,
}

impl Layout {
    /// The layout of a `size` (columns, rows) terminal.
    pub fn new(size: (u16, u16), focus: Pane, inspector: Pane) -> Layout {
        Layout { areas: areas(Rect::new(0, 0, size.0, size.1), focus, inspector) }
    }

    /// Whether a pane is on screen.
    pub fn is_shown(&self, p: Pane) -> bool {
        self.areas.as_ref().is_some_and(|a| a.panes.iter().any(|(q, _)| *q == p))
    }

    /// The pane under a terminal cell.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let a = self.areas.as_ref()?;
        a.panes.iter().find(|(_, r)| r.contains(Position { x, y })).map(|(p, _)| *p)
    }

    /// The inner area of a pane's list (or text), if the pane were shown.
    pub fn list_area(&self, p: Pane) -> Option<Rect> {
        let a = self.areas.as_ref()?;
        let outer = a.panes.iter().find(|(q, _)| *q == p).map(|(_, r)| *r).unwrap_or(a.body);
        let inner = Block::bordered().inner(outer);
        let skip = header_rows(p).min(inner.height);
        let below = message_rows(p, inner.height);
        Some(Rect { y: inner.y + skip, height: inner.height - skip - below, ..inner })
    }

    /// Rows of list (or text) a pane shows.
    pub fn pane_height(&self, p: Pane) -> usize {
        self.list_area(p).map(|r| r.height as usize).unwrap_or(1)
    }

    /// The list row under terminal row `y` in a pane whose first visible row is `off`.
    pub fn row_at(&self, p: Pane, y: u16, off: usize) -> Option<usize> {
        let r = self.list_area(p)?;
        if y < r.y || y >= r.y + r.height {
            return None;
        }
        Some(off + (y - r.y) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(visible_offset(0, 5, 3, 10), 3);
        assert_eq!(visible_offset(4, 2, 3, 10), 2);
        assert_eq!(visible_offset(2, 3, 3, 10), 2);
        // The list shrank (a filter): the window comes back to show a full pane.
        assert_eq!(visible_offset(14600, 1382, 10, 1383), 1373);
        assert_eq!(visible_offset(14600, 1, 10, 2), 0);
    }

    #[test]
    fn narrow_terminals_show_the_focused_pane_alone() {
        let wide = Layout::new((120, 40), Pane::Events, Pane::Explain);
        assert!(wide.is_shown(Pane::Streams) && wide.is_shown(Pane::Explain) && !wide.is_shown(Pane::Detail));
        let narrow = Layout::new((80, 24), Pane::Events, Pane::Explain);
        assert!(narrow.is_shown(Pane::Events) && !narrow.is_shown(Pane::Streams));
        assert_eq!(Layout::new((40, 10), Pane::Streams, Pane::Explain).pane_height(Pane::Streams), 1);
    }
}
