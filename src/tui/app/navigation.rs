//! Moving around: keys and the mouse into actions, panes opened and closed,
//! selections moved and scrolled, the help overlay scrolled.

use super::App;
use crate::tui::action::Action;
use crate::tui::content;
use crate::tui::keymap::{Key, Scope};
use crate::tui::types::{Pane, Pinned};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

impl App {
    /// Translate a key press through the key map.
    pub fn handle_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        let key = Key::from_event(&k);
        if self.in_tour() {
            // docs/ui.md#the-demo: any key leaves the tour; the keys that quit still quit.
            match self.keymap.lookup(key, self.focus, false, false) {
                Some(Action::Back | Action::Quit) => self.update(Action::Quit),
                _ => self.end_tour(),
            }
            return;
        }
        if let Some(a) = self.keymap.lookup(key, self.focus, self.help.is_some(), self.prompt.is_some()) {
            self.update(a);
        } else if self.help.is_none() && self.prompt.is_none() && self.data.is_some() {
            // docs/ui.md#keys: a key that acts only in another pane says where.
            if let Some((pane, action)) = self.keymap.elsewhere(key, self.focus) {
                let to = if pane == Pane::Streams && self.focus == Pane::Events {
                    Action::PrevPane
                } else {
                    Action::NextPane
                };
                let tab = self.keymap.hint(Scope::Global, &to);
                let (name, what) = (key.label(), action.describe());
                let pane = pane.title().to_lowercase();
                self.info(format!("{name} ({what}) acts in the {pane} pane — {tab} to it"));
            }
        }
    }

    /// Mouse: the wheel scrolls the pane under the pointer, a click selects.
    pub fn handle_mouse(&mut self, m: MouseEvent) {
        if self.in_tour() && matches!(m.kind, MouseEventKind::Down(_)) {
            return self.end_tour();
        }
        let delta = match m.kind {
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::Down(MouseButton::Left) => {
                self.update(Action::Click(m.column, m.row));
                return;
            }
            _ => return,
        };
        if self.help.is_some() {
            self.update(if delta > 0 { Action::Down } else { Action::Up });
            return;
        }
        if let Some(p) = self.layout().pane_at(m.column, m.row) {
            self.update(Action::Scroll(p, delta));
        }
    }

    pub(super) fn help_action(&mut self, action: Action) {
        let total = content::help::line_count(self);
        let page = (self.size.1 as usize).saturating_sub(8).max(1);
        let max = total.saturating_sub(page);
        let s = self.help.get_or_insert(0);
        match action {
            Action::Back | Action::ToggleHelp => self.help = None,
            Action::Down => *s = (*s + 1).min(max),
            Action::Up => *s = s.saturating_sub(1),
            Action::PageDown => *s = (*s + page).min(max),
            Action::PageUp => *s = s.saturating_sub(page),
            Action::Top => *s = 0,
            Action::Bottom => *s = max,
            _ => {}
        }
    }

    pub(super) fn open_pane(&mut self, p: Pane) {
        if self.focus != p {
            self.history.push(self.focus);
            self.focus = p;
        }
        if matches!(p, Pane::Detail | Pane::Explain) {
            self.inspector = p;
        }
    }

    /// The actions that move between panes and within them.
    pub(super) fn navigate(&mut self, action: Action) {
        match action {
            Action::Back => match self.history.pop() {
                Some(p) => {
                    self.focus = p;
                    if matches!(p, Pane::Detail | Pane::Explain) {
                        self.inspector = p;
                    }
                }
                None if self.focus != Pane::Streams => self.focus = Pane::Streams,
                None => self.quit = true,
            },
            Action::Close if self.history.is_empty() && self.focus == Pane::Streams => {
                let q = self.keymap.hint(Scope::Global, &Action::Back);
                self.info(format!("nothing to close here: {q} quits"))
            }
            Action::Close => self.navigate(Action::Back),
            Action::ToggleHelp => self.help = Some(0),
            Action::NextPane | Action::PrevPane => {
                let order = [Pane::Streams, Pane::Events, self.inspector];
                let i = order.iter().position(|&p| p == self.focus);
                self.focus = match (i, action == Action::NextPane) {
                    (None, _) => Pane::Streams,
                    (Some(i), true) => order[(i + 1) % 3],
                    (Some(i), false) => order[(i + 2) % 3],
                };
                self.history.clear();
            }
            Action::Up => self.move_by(self.focus, -1),
            Action::Down => self.move_by(self.focus, 1),
            Action::PageUp => self.move_by(self.focus, -(self.page(self.focus) as i64)),
            Action::PageDown => self.move_by(self.focus, self.page(self.focus) as i64),
            Action::Top => self.move_by(self.focus, i64::MIN / 2),
            Action::Bottom => self.move_by(self.focus, i64::MAX / 2),
            Action::Scroll(p, d) => self.move_by(p, d as i64),
            Action::Click(x, y) => self.click(x, y),
            Action::Open => self.open(),
            Action::Explain => {
                if self.focus == Pane::Explain {
                    self.focus = Pane::Detail;
                    self.inspector = Pane::Detail;
                } else {
                    self.open_pane(Pane::Explain);
                }
                self.pinned = None;
            }
            Action::Problems if self.focus == Pane::Problems => self.navigate(Action::Back),
            Action::Problems | Action::ShowProblems => self.open_pane(Pane::Problems),
            _ => {}
        }
    }

    /// Rows a page moves in a pane.
    fn page(&self, p: Pane) -> usize {
        self.layout().pane_height(p).saturating_sub(1).max(1)
    }

    /// How far a text pane (detail, explanation) can scroll at the current size.
    fn scroll_max(&self, p: Pane) -> usize {
        let Some(r) = self.layout().list_area(p) else { return 0 };
        let total = match p {
            Pane::Detail => content::detail::lines(self, r.width as usize).len(),
            Pane::Explain => content::explain::lines(self, r.width as usize).len(),
            _ => 0,
        };
        total.saturating_sub(r.height as usize)
    }

    fn move_by(&mut self, p: Pane, d: i64) {
        let clamp = |v: usize, n: usize| -> usize {
            let v = (v as i64).saturating_add(d);
            v.clamp(0, n.saturating_sub(1) as i64) as usize
        };
        match p {
            Pane::Streams => {
                let n = self.rows.len();
                self.streams.sel = clamp(self.streams.sel, n);
            }
            Pane::Events => {
                let n = self.shown_stream().map(|s| s.events.len()).unwrap_or(0);
                self.events.sel = clamp(self.events.sel, n);
                self.pinned = None;
            }
            Pane::Problems => {
                let n = content::problems::line_count(self);
                let mut sel = clamp(self.problems.sel, n);
                // Step over blank lines and titles, in the direction of travel, or back at an end.
                let step = if d < 0 { -1 } else { 1 };
                for dir in [step, -step] {
                    let mut i = sel as i64;
                    while (0..n as i64).contains(&i) && !content::problems::selectable(self, i as usize) {
                        i += dir;
                    }
                    if (0..n as i64).contains(&i) {
                        sel = i as usize;
                        break;
                    }
                }
                self.problems.sel = sel;
            }
            Pane::Detail => self.detail_scroll = clamp(self.detail_scroll, self.scroll_max(p) + 1),
            Pane::Explain => self.explain_scroll = clamp(self.explain_scroll, self.scroll_max(p) + 1),
        }
    }

    fn click(&mut self, x: u16, y: u16) {
        let Some(p) = self.layout().pane_at(x, y) else { return };
        if p != self.focus {
            self.focus = p;
            self.history.clear();
        }
        let off = match p {
            Pane::Streams => self.streams.off,
            Pane::Events => self.events.off,
            Pane::Problems => self.problems.off,
            Pane::Detail | Pane::Explain => return,
        };
        if let Some(row) = self.layout().row_at(p, y, off) {
            match p {
                Pane::Streams if row < self.rows.len() => self.streams.sel = row,
                Pane::Events if self.shown_stream().is_some_and(|s| row < s.events.len()) => {
                    self.events.sel = row;
                    self.pinned = None;
                }
                Pane::Problems if row < content::problems::line_count(self) => self.problems.sel = row,
                _ => {}
            }
        }
    }

    fn open(&mut self) {
        match self.focus {
            Pane::Streams => {
                if self.selected_stream().is_some() {
                    self.opened = None;
                    self.open_pane(Pane::Events);
                }
            }
            Pane::Events => {
                self.pinned = None;
                self.open_pane(Pane::Detail);
            }
            Pane::Problems => {
                let sel = self.problems.sel;
                let pinned = content::problems::event_at(self, sel)
                    .map(Pinned::Event)
                    .or_else(|| content::problems::rejected_at(self, sel).map(Pinned::Rejected));
                if pinned.is_some() {
                    self.pinned = pinned;
                    self.detail_scroll = 0;
                    self.open_pane(Pane::Detail);
                } else if let Some(id) = content::problems::unpaired_at(self, sel) {
                    // docs/ui.md#two-rule-sets: the events and explanation panes show it under 2015.
                    self.opened = Some((id, self.rows.get(self.streams.sel)));
                    self.pinned = None;
                    self.info(format!(
                        "#{id} of the 2015 replay, which has no 2014 counterpart: its events and explanation"
                    ));
                    self.open_pane(Pane::Events);
                }
            }
            Pane::Detail | Pane::Explain => {}
        }
    }
}
