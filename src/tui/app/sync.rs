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
    /// Decided on the second rule set's side, which moves the triage labels.
    other_decided: usize,
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
            Request::Original { event, other } => {
                let Some(d) = &self.data else { return };
                let events = if other { d.archive.alt.as_deref().map(|a| &a.events) } else { Some(&d.archive.events) };
                let Some(e) = events.and_then(|v| v.get(event as usize)) else { return };
                let text = d.archive.original(&e.origin);
                self.update(crate::tui::Action::Original((other, event), text));
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
    pub(super) fn set_original(&mut self, event: (bool, u32), text: Result<String, String>) {
        if self.requested == Some(event) {
            self.original = Some((event, text));
        }
    }

    /// The original record of the detail pane's event `event`, once re-read.
    pub fn original(&self, event: u32) -> Option<&Result<String, String>> {
        let key = (self.detail_side(), event);
        self.original.as_ref().filter(|(e, _)| *e == key).map(|(_, t)| t)
    }

    /// docs/ui.md#two-rule-sets: the events and explanation panes change sides; the stream list stays.
    pub(super) fn switch_rules(&mut self) {
        let Some(d) = &self.data else { return };
        let Some(other) = d.other_archive() else {
            return self.error("one rule set replayed: nothing to switch to (open a raw archive with --rules both)");
        };
        let (first, second) = (d.archive.rules.name(), other.rules.name());
        if self.opened.take().is_some() {
            // Back from a stream opened in the problems pane: the selected stream, under the first rule set.
            self.show_other = false;
        } else {
            self.show_other = !self.show_other;
        }
        self.focused = None;
        self.pinned = None;
        let shown = if self.show_other { second } else { first };
        if self.selected_stream().is_some() && self.shown_stream().is_none() {
            self.info(format!("events and explanation under {shown}: this stream has no {shown} counterpart"));
        } else {
            self.info(format!("events and explanation under {shown}"));
        }
    }

    /// Bring the derived state in line with the clock and the selection:
    /// the stream list, the selected stream's explanation, the detail request.
    pub(super) fn sync(&mut self, force: bool) {
        if self.data.is_none() {
            return;
        }
        let selected = self.rows.get(self.streams.sel);
        // A stream opened from the problems pane is shown until the list's selection moves.
        if self.opened.is_some_and(|(_, was)| was != selected) {
            self.opened = None;
        }
        // A list built in the background takes its place once it is ready.
        if let Some((key, rx)) = &self.building {
            match rx.try_recv() {
                Ok(Ok(rows)) => {
                    self.rows = rows;
                    self.index_key = Some(key.clone());
                    self.index_age = Duration::ZERO;
                    self.building = None;
                }
                Ok(Err(e)) => {
                    self.building = None;
                    self.error(e);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.building = None,
            }
        }
        let Some(d) = &self.data else { return };
        let t = self.playback.clock;
        // Rebuild the list only when it would change.
        let prefix = self.filter.is_empty() && self.sort.key == SortKey::Id;
        let label_at = |id: u32| d.label_at(id, t);
        let labels: Option<index::Labels> = d.other.as_ref().map(|_| &label_at as index::Labels);
        if prefix {
            self.rows = index::build(&d.archive, &d.timeline, t, &self.filter, self.sort, labels);
            self.index_key = None;
            self.building = None;
        } else {
            let c = d.timeline.counts_at(t);
            let key = IndexKey {
                filter: self.filter.clone(),
                sort: self.sort,
                created: d.timeline.streams_at(t),
                decided: c[0] + c[1] + c[2],
                other_decided: d.other.as_ref().map_or(0, |o| {
                    let c = o.timeline.counts_at(t);
                    c[0] + c[1] + c[2]
                }),
                position: if self.sort.key == SortKey::Events { d.timeline.position_at(t) } else { 0 },
            };
            let old = self.index_key.as_ref();
            let changed_view = old.is_none_or(|k| k.filter != key.filter || k.sort != key.sort);
            let due = force || changed_view || !self.playback.playing || self.index_age >= REBUILD_EVERY;
            let in_hand = self.building.as_ref().is_some_and(|(k, _)| *k == key);
            if old != Some(&key) && due && !in_hand {
                if key.created >= self.opts.background_lists_from {
                    // docs/ui.md#large-archives: the old list stays on screen, marked, until this one is ready.
                    let (tx, rx) = std::sync::mpsc::channel();
                    let (d, filter, sort) = (std::sync::Arc::clone(d), self.filter.clone(), self.sort);
                    std::thread::spawn(move || {
                        let rows = crate::tui::load::guarded(|| {
                            let label_at = |id: u32| d.label_at(id, t);
                            let labels: Option<index::Labels> = d.other.as_ref().map(|_| &label_at as index::Labels);
                            index::build(&d.archive, &d.timeline, t, &filter, sort, labels)
                        });
                        // The app may have moved on and dropped the receiver: nothing to do then.
                        let _ = tx.send(rows);
                    });
                    self.building = Some((key, rx));
                } else {
                    self.rows = index::build(&d.archive, &d.timeline, t, &self.filter, self.sort, labels);
                    self.index_key = Some(key);
                    self.index_age = Duration::ZERO;
                    self.building = None;
                }
            }
        }
        // Keep the selected stream selected when its row moves.
        if let Some(r) = selected.and_then(|id| self.rows.row_of(id)) {
            self.streams.sel = r;
        }
        self.streams.sel = self.streams.sel.min(self.rows.len().saturating_sub(1));
        let id = self.shown_stream().map(|s| s.id);
        let other = self.showing_other();
        if self.focused.as_ref().map(|f| (f.id, f.other)) != id.map(|i| (i, other)) {
            self.focused = id.and_then(|id| self.focus_on(id, other));
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
            let is_notification = self.detail_event_ref().is_some_and(|ev| ev.origin.kind.is_notification());
            let key = (self.detail_side(), e);
            if is_notification && self.requested != Some(key) {
                self.requested = Some(key);
                self.detail_scroll = 0;
                self.requests.push(Request::Original { event: e, other: key.0 });
            }
        }
    }

    /// Keep each list's selection inside the list and on screen.
    fn keep_in_view(&mut self) {
        let n_events = self.shown_stream().map(|s| s.events.len()).unwrap_or(0);
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

    /// What the panes show of stream `id`: a listed stream, or (`other`) a stream of the
    /// second rule set's replay, explained with the listed stream's triage label.
    fn focus_on(&self, id: u32, other: bool) -> Option<Focused> {
        let d = self.data.as_ref()?;
        let (archive, timeline) = match (&d.other, other) {
            (Some(o), true) => (d.other_archive()?, &*o.timeline),
            _ => (&*d.archive, &*d.timeline),
        };
        let s = timeline.stream(id)?;
        let events: Vec<&Event> = s.events.iter().map(|&i| &archive.events[i as usize]).collect();
        let siblings = match (&d.other, other) {
            (Some(o), true) => o.siblings(s),
            _ => d.siblings(s),
        };
        let explanation = explain::explain_with(archive, s, siblings);
        // docs/rules2015.md#side-by-side: where the two rule sets part, one sentence says why.
        let triage = match (self.selected_stream(), d.other_archive()) {
            // docs/rules2015.md#streams-2014-does-not-have: labelled by its own outcome.
            _ if other && self.opened_unpaired() == Some(id) => {
                let note = explain::unpaired_note(d.timeline.streams(), timeline.streams(), s);
                Some((crate::triage::Triage::of_unpaired(s.outcome()), Some(note)))
            }
            (Some(listed), Some(alt)) => {
                let label = crate::triage::Triage::of(listed.outcome(), d.counterpart(listed.id).map(|o| o.outcome()));
                Some((label, explain::triage_note(label, &d.archive, listed, alt, d.counterpart(listed.id))))
            }
            _ => None,
        };
        let proving = explanation.as_ref().map(|x| x.proving()).unwrap_or_default();
        let log = if s.result.is_some() {
            pipeline::run_with(
                archive.rules,
                s.id,
                &events,
                &archive.symbols,
                IdMode::Stable,
                true,
                pipeline::Outputs::Plain,
            )
            .log
        } else {
            Vec::new()
        };
        let results = s
            .result
            .as_ref()
            .and_then(|r| r.audit2015())
            .map(|a| a.results.iter().filter_map(|r| Some((r.exists?, r.failure.as_ref().map(|f| f.code)))).collect())
            .unwrap_or_default();
        let exists =
            if archive.rules == crate::rules::RuleSet::Y2014 { pipeline::usage::find_exists(&events) } else { None };
        Some(Focused { id, other, exists, results, explanation, triage, proving, log })
    }
}
