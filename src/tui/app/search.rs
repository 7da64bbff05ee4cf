//! The stream list's search, filter and sort, the jump to a failing stream or
//! to a stream by id, and the `:` and `/` prompts that feed them.

use super::App;
use crate::replay::Outcome;
use crate::tui::action::Action;
use crate::tui::index::{self, Filter};
use crate::tui::keymap::Scope;
use crate::tui::prompt;
use crate::tui::types::{Pane, Prompt, PromptKind};

impl App {
    pub(super) fn prompt_action(&mut self, action: Action) {
        let Some(p) = self.prompt.as_mut() else { return };
        match action {
            Action::PromptInput(c) => p.input.push(c),
            // Backspace on an empty prompt closes it, as in less and vim.
            Action::PromptBackspace if p.input.pop().is_none() => self.prompt = None,
            Action::PromptEraseWord => {
                let kept = p.input.trim_end().rfind(' ').map_or(0, |i| i + 1);
                p.input.truncate(kept);
            }
            Action::PromptEraseLine => p.input.clear(),
            Action::PromptCancel | Action::Back => self.prompt = None,
            Action::PromptSubmit => {
                let Some(p) = self.prompt.take() else { return };
                match p.kind {
                    // The typed line becomes the action it names, applied like a key.
                    PromptKind::Command => match prompt::parse(&p.input) {
                        Ok(Action::Quit) => self.quit = true,
                        Ok(a) => self.main_action(a),
                        Err(e) => self.error(crate::text::sanitize(&e)),
                    },
                    PromptKind::Search => {
                        let term = p.input.trim().to_lowercase();
                        if term.is_empty() {
                            self.search = None;
                        } else {
                            self.search = Some(term);
                            self.jump = None;
                            self.search_step(true, true);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The actions on the stream list: prompts, search, filter, sort, selection.
    pub(super) fn list_action(&mut self, action: Action) {
        match action {
            Action::OpenPrompt => self.prompt = Some(Prompt { kind: PromptKind::Command, input: String::new() }),
            Action::OpenSearch => self.prompt = Some(Prompt { kind: PromptKind::Search, input: String::new() }),
            Action::Filter => {
                // The current filter, ready to be extended (or erased with Ctrl-U).
                let mut input = "filter ".to_string();
                if !self.filter.is_empty() {
                    input.push_str(&self.filter.describe());
                    input.push(' ');
                }
                self.prompt = Some(Prompt { kind: PromptKind::Command, input });
            }
            Action::SearchNext => self.search_step(true, false),
            Action::SearchPrev => self.search_step(false, false),
            Action::NextFailure => self.next_failure(true),
            Action::PrevFailure => self.next_failure(false),
            Action::CycleOutcome => {
                let next = match self.filter.outcomes.as_slice() {
                    [] => Some(Outcome::Failed),
                    [Outcome::Failed] => Some(Outcome::Error),
                    [Outcome::Error] => Some(Outcome::Pending),
                    [Outcome::Pending] => Some(Outcome::Verified),
                    _ => None,
                };
                self.filter.set_outcome(next);
            }
            Action::ClearFilter => self.filter = Filter::default(),
            Action::SetFilter(f) => {
                if !f.triage.is_empty() && self.data.as_ref().is_none_or(|d| d.other.is_none()) {
                    self.error("a triage label compares two rule sets, and one was replayed: no stream has one");
                }
                self.filter = f
            }
            Action::CycleSort => self.sort.key = self.sort.key.next(),
            Action::ReverseSort => self.sort.descending = !self.sort.descending,
            Action::SetSort(k, dir) => {
                self.sort.key = k;
                if let Some(desc) = dir {
                    self.sort.descending = desc;
                }
            }
            Action::SelectStream(id) => self.select_stream(id),
            _ => {}
        }
    }

    /// Select stream `id`; move the clock to its first event if it does not
    /// exist yet, and clear a filter that hides it.
    fn select_stream(&mut self, id: u32) {
        let Some(d) = &self.data else { return };
        let Some(s) = d.stream(id) else {
            let n = d.timeline.streams().len();
            return self.error(format!("no stream #{id} (there are {n})"));
        };
        let first = s.first_event;
        if first > self.playback.clock && self.following.is_some() {
            return self.error(format!("stream #{id} does not exist yet at the followed clock"));
        }
        if first > self.playback.clock {
            // The stream does not exist yet: move the clock to its first event.
            self.playback.playing = false;
            self.playback.seek(first);
            self.info(format!("moved the clock to stream #{id}'s first event"));
        }
        self.sync(false);
        if self.rows.row_of(id).is_none() {
            self.filter = Filter::default();
            self.sync(true);
        }
        if let Some(r) = self.rows.row_of(id) {
            self.streams.sel = r;
        }
    }

    fn next_failure(&mut self, forward: bool) {
        let Some(d) = &self.data else { return };
        let n = self.rows.len();
        if n == 0 {
            return;
        }
        let t = self.playback.clock;
        let failing = |row: usize| {
            self.rows
                .get(row)
                .and_then(|id| d.stream(id))
                .and_then(|s| d.timeline.stream_at(s, t))
                .is_some_and(|a| matches!(a.outcome, Outcome::Failed | Outcome::Error))
        };
        let start = self.streams.sel;
        let found = (1..=n).map(|k| if forward { (start + k) % n } else { (start + n - k) % n }).find(|&r| failing(r));
        match found {
            Some(r) => {
                if (forward && r <= start) || (!forward && r >= start) {
                    self.info(if forward {
                        "wrapped to the top of the list"
                    } else {
                        "wrapped to the bottom of the list"
                    });
                }
                self.streams.sel = r;
                if self.focus == Pane::Problems {
                    self.focus = Pane::Streams;
                }
            }
            None => self.info("no failing stream in the list at this time"),
        }
    }

    fn search_step(&mut self, forward: bool, from_current: bool) {
        let Some(term) = self.search.clone() else {
            let slash = self.keymap.hint(Scope::Global, &Action::OpenSearch);
            self.info(format!("no search yet: press {slash} to search"));
            return;
        };
        let Some(d) = &self.data else { return };
        let t = self.playback.clock;
        if self.focus == Pane::Events {
            let (Some(s), Some(a)) = (self.shown_stream(), self.shown_archive()) else { return };
            let n = s.events.len();
            let hit = |i: usize| {
                let e = &a.events[s.events[i] as usize];
                index::contains_ci(a.symbols.get(e.event_type), &term)
                    || index::contains_ci(&e.message_id(&a.symbols), &term)
            };
            let start = self.events.sel;
            match find_from(start, n, forward, from_current, hit) {
                Some(i) => {
                    if wrapped(start, i, forward) {
                        self.info(if forward {
                            "search wrapped to the first event"
                        } else {
                            "search wrapped to the last event"
                        });
                    }
                    self.events.sel = i
                }
                None => self.error(format!("no event matches {:?}", crate::text::sanitize(&term))),
            }
            return;
        }
        let rows = &self.rows;
        let hit = |s: &crate::replay::Stream| stream_hit(d, s, t, &term);
        let start = self.streams.sel;
        let found = find_from(start, rows.len(), forward, from_current, |row| {
            rows.get(row).and_then(|id| d.stream(id)).is_some_and(hit)
        });
        match found {
            Some(r) => {
                if wrapped(start, r, forward) {
                    self.info(if forward { "search wrapped to the top" } else { "search wrapped to the bottom" });
                }
                self.streams.sel = r;
                if self.focus == Pane::Problems {
                    self.focus = Pane::Streams;
                }
            }
            None => {
                // docs/ui.md#search: every stream of the archive is searched, also those the
                // clock has not reached and those the filter hides; Enter goes there.
                let all = d.timeline.streams();
                let listed: crate::hash::HashSet<u32> = (0..rows.len()).filter_map(|r| rows.get(r)).collect();
                let shown = |s: &crate::replay::Stream| listed.contains(&s.id) && d.timeline.stream_at(s, t).is_some();
                let from = self.jump.and_then(|id| all.iter().position(|s| s.id == id)).unwrap_or(if forward {
                    all.len().saturating_sub(1)
                } else {
                    0
                });
                let found = find_from(from, all.len(), forward, false, |i| !shown(&all[i]) && hit(&all[i]));
                let Some(s) = found.map(|i| &all[i]) else {
                    return self.error(format!("no stream matches {:?}", crate::text::sanitize(&term)));
                };
                let (id, first) = (s.id, s.first_event);
                let inst = crate::text::sanitize(&index::instance_text(&d.archive, s));
                let enter = self.key_hint(&Action::Open);
                let text = if first > t {
                    format!("#{id} {inst} appears {} — {enter} jumps there", first.short())
                } else {
                    format!("#{id} {inst} is hidden by the filter — {enter} shows it")
                };
                self.info(text);
                self.jump = Some(id);
            }
        }
    }

    /// Enter after a search found a stream beyond the clock or behind the filter: go there.
    pub(super) fn take_jump(&mut self) -> bool {
        match self.jump.take() {
            Some(id) => {
                self.select_stream(id);
                self.focus = Pane::Streams;
                true
            }
            None => false,
        }
    }
}

/// Whether a stream matches a search term at clock `t`: by id, instance, and
/// (once decided) code or message.
fn stream_hit(d: &crate::tui::data::Data, s: &crate::replay::Stream, t: crate::time::Timestamp, term: &str) -> bool {
    let id_term = term.trim_start_matches('#');
    let decided = d.timeline.stream_at(s, t).is_some_and(|a| a.decided);
    s.id.to_string() == id_term
        || index::contains_ci(&index::instance_text(&d.archive, s), term)
        || (decided
            && s.result.as_ref().is_some_and(|r| {
                r.code.is_some_and(|c| c.as_str().eq_ignore_ascii_case(term)) || index::contains_ci(r.message(), term)
            }))
}

/// Whether moving from `from` to `to` went round the end of the list.
fn wrapped(from: usize, to: usize, forward: bool) -> bool {
    if forward {
        to < from
    } else {
        to > from
    }
}

/// The next index (wrapping) from `cur` for which `hit` holds; `cur` itself
/// is tried first when `from_current`.
fn find_from(cur: usize, n: usize, forward: bool, from_current: bool, hit: impl Fn(usize) -> bool) -> Option<usize> {
    if n == 0 {
        return None;
    }
    let first = if from_current { 0 } else { 1 };
    (first..first + n).map(|k| if forward { (cur + k) % n } else { (cur + n - k % n) % n }).find(|&i| hit(i))
}
