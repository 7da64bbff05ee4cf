//! Bringing what the panes derive in line with the clock and the selection:
//! the stream list (rebuilt only when it would change), the selected stream's
//! explanation, the visible windows of the lists, and the original record the
//! detail pane asks the event loop for.

use super::{App, Focused};
use crate::event::Event;
use crate::explain;
use crate::pipeline::{self, IdMode};
use crate::tui::content;
use crate::tui::index::{self, Filter, Sort, SortKey};
use crate::tui::layout::visible_offset;
use crate::tui::types::{ListState, Pane, Request};
use std::time::Duration;

/// How often, at most, the filtered or sorted list is rebuilt while playing.
const REBUILD_EVERY: Duration = Duration::from_millis(250);

/// The identity of a built list: rebuilt when any part changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IndexKey {
    filter: Filter,
    sort: Sort,
    created: usize,
    decided: usize,
    position: usize,
}

impl App {
    /// Work for the event loop to do off the UI thread.
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Do a request here and now (tests; the event loop uses a worker thread).
    pub fn fulfil(&mut self, r: Request) {
        match r {
            Request::Original { event } => {
                let Some(d) = &self.data else { return };
                let Some(e) = d.event(event) else { return };
                let text = d.archive.original(&e.origin);
                self.update(crate::tui::Action::Original(event, text));
            }
        }
    }

    pub fn fulfil_requests(&mut self) {
        for r in self.take_requests() {
            self.fulfil(r);
        }
    }

    /// The original record of an event, as re-read. A late answer for an
    /// event no longer shown is dropped.
    pub(super) fn set_original(&mut self, event: u32, text: Result<String, String>) {
        if self.requested == Some(event) {
            self.original = Some((event, text));
        }
    }

    pub fn original(&self, event: u32) -> Option<&Result<String, String>> {
        self.original.as_ref().filter(|(e, _)| *e == event).map(|(_, t)| t)
    }

    /// Bring the derived state in line with the clock and the selection:
    /// the stream list, the selected stream's explanation, the detail request.
    pub(super) fn sync(&mut self, force: bool) {
        let Some(d) = &self.data else { return };
        let t = self.playback.clock;
        let selected = self.rows.get(self.streams.sel);
        // Rebuild the list only when it would change.
        let prefix = self.filter.is_empty() && self.sort.key == SortKey::Id;
        if prefix {
            self.rows = index::build(&d.archive, &d.timeline, t, &self.filter, self.sort);
            self.index_key = None;
        } else {
            let c = d.timeline.counts_at(t);
            let key = IndexKey {
                filter: self.filter.clone(),
                sort: self.sort,
                created: d.timeline.streams_at(t),
                decided: c[0] + c[1] + c[2],
                position: if self.sort.key == SortKey::Events { d.timeline.position_at(t) } else { 0 },
            };
            let old = self.index_key.as_ref();
            let changed_view = old.is_none_or(|k| k.filter != key.filter || k.sort != key.sort);
            let due = force || changed_view || !self.playback.playing || self.index_age >= REBUILD_EVERY;
            if old != Some(&key) && due {
                self.rows = index::build(&d.archive, &d.timeline, t, &self.filter, self.sort);
                self.index_key = Some(key);
                self.index_age = Duration::ZERO;
            }
        }
        // Keep the selected stream selected when its row moves.
        if let Some(r) = selected.and_then(|id| self.rows.row_of(id)) {
            self.streams.sel = r;
        }
        self.streams.sel = self.streams.sel.min(self.rows.len().saturating_sub(1));
        let id = self.rows.get(self.streams.sel);
        if self.focused.as_ref().map(|f| f.id) != id {
            self.focused = id.and_then(|id| self.focus_on(id));
            self.events = ListState::default();
            self.explain_scroll = 0;
            self.detail_scroll = 0;
            // Open a failing stream's events at the first event that proves it.
            if let Some(&first) = self.focused.as_ref().and_then(|f| f.proving.iter().min()) {
                self.events.sel = first;
            }
        }
        self.keep_in_view();
        // The detail pane, when shown, wants the original record of its event
        // (re-reading a gzip archive can be slow, so only then).
        if let Some(e) = self.detail_event().filter(|_| self.layout().is_shown(Pane::Detail)) {
            let is_notification =
                self.data.as_ref().and_then(|d| d.event(e)).is_some_and(|ev| ev.origin.kind.is_notification());
            if is_notification && self.requested != Some(e) {
                self.requested = Some(e);
                self.detail_scroll = 0;
                self.requests.push(Request::Original { event: e });
            }
        }
    }

    /// Keep each list's selection inside the list and on screen.
    fn keep_in_view(&mut self) {
        let n_events = self.selected_stream().map(|s| s.events.len()).unwrap_or(0);
        let n_problems = content::problems::line_count(self);
        self.events.sel = self.events.sel.min(n_events.saturating_sub(1));
        self.problems.sel = self.problems.sel.min(n_problems.saturating_sub(1));
        let layout = self.layout();
        let window =
            |p: Pane, st: ListState, len: usize| visible_offset(st.off, st.sel, layout.pane_height(p).max(1), len);
        self.streams.off = window(Pane::Streams, self.streams, self.rows.len());
        self.events.off = window(Pane::Events, self.events, n_events);
        self.problems.off = window(Pane::Problems, self.problems, n_problems);
    }

    fn focus_on(&self, id: u32) -> Option<Focused> {
        let d = self.data.as_ref()?;
        let s = d.stream(id)?;
        let events: Vec<&Event> = s.events.iter().map(|&i| &d.archive.events[i as usize]).collect();
        let siblings: Vec<_> = d.siblings(&s.key).iter().filter_map(|&i| d.stream(i)).cloned().collect();
        let explanation = explain::explain_with(&d.archive, s, &siblings);
        let proving = explanation.as_ref().map(|x| x.proving()).unwrap_or_default();
        let log = if s.result.is_some() {
            pipeline::run(s.id, &events, &d.archive.symbols, IdMode::Stable).log
        } else {
            Vec::new()
        };
        Some(Focused { id, exists: pipeline::usage::find_exists(&events), explanation, proving, log })
    }
}
