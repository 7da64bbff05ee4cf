//! The state of the interactive replay and [`App::update`], which applies one
//! [`Action`] at a time. Everything shown comes from the engine: the state at
//! the playback clock is read from the [`Timeline`] (exact and O(log n)), never
//! by replaying again; verdict explanations from [`explain`](crate::explain).

use super::action::Action;
use super::index::{self, Filter, Rows, Sort, SortKey};
use super::keymap::{Key, KeyMap};
use super::load::LoadEvent;
use super::playback::{Playback, Range};
use super::prompt::{self, Command};
use super::theme::Theme;
use super::view;
use crate::archive::{Archive, LoadProgress};
use crate::event::Event;
use crate::explain::{self, Explanation};
use crate::pipeline::{self, Code, IdMode};
use crate::replay::{Outcome, Stream, StreamAt, StreamState, Timeline, TriggerKind};
use crate::time::Timestamp;
use crate::trigger::StreamKey;
use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use rustc_hash::FxHashMap;
use std::sync::Arc;
use std::time::Duration;

/// How the app starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Open at this time instead of the end (`--at`).
    pub at: Option<Timestamp>,
    /// Colours on (off when `NO_COLOR` is set).
    pub color: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { at: None, color: true }
    }
}

impl Options {
    /// Colour unless `NO_COLOR` is set to a non-empty value (no-color.org).
    pub fn color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }
}

/// The panes. Detail and Explain share the inspector area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pane {
    Streams,
    Events,
    Detail,
    Explain,
    Problems,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Streams => "Streams",
            Pane::Events => "Events",
            Pane::Detail => "Detail",
            Pane::Explain => "Explanation",
            Pane::Problems => "Problems",
        }
    }
}

/// The time-sync service's clock, as the follower reports it (SPEC §4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalClock {
    Time(Timestamp),
    /// The service answered with an empty body or `None`.
    NotPublished,
    Unavailable(String),
}

/// A line of feedback under the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Search,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// Work the app asks the event loop to do off the UI thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Re-read the original record of an event (SPEC §6 detail pane).
    Original { event: u32 },
}

/// Progress of the background load.
#[derive(Clone, Debug, Default)]
pub struct LoadState {
    pub inputs: Vec<String>,
    pub progress: LoadProgress,
    /// Reading is done and the replay of this many events is being built.
    pub replaying: Option<usize>,
}

/// Something from the problems pane shown in the detail pane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinned {
    /// An unmatched event (its index in the archive).
    Event(u32),
    /// A rejected record (its index in the archive's list).
    Rejected(usize),
}

/// A scrollable list's selection and first visible row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListState {
    pub sel: usize,
    pub off: usize,
}

/// What the panes show about the selected stream, computed once per selection.
#[derive(Clone, Debug)]
pub struct Focused {
    pub id: u32,
    /// Index (in the stream) of the *exists* the checks used.
    pub exists: Option<usize>,
    pub explanation: Option<Explanation>,
    /// Indices of the events that prove the verdict.
    pub proving: Vec<usize>,
    pub log: Vec<String>,
}

/// Counts at the clock for the header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub streams: usize,
    /// By outcome, indexed by `Outcome as usize`.
    pub outcome: [usize; 4],
    pub active: usize,
    pub completed: usize,
    pub error: usize,
    pub expire_error: usize,
    pub by_code: [usize; 9],
    pub events: usize,
    pub unmatched: usize,
}

/// Events per time bucket and failures decided per bucket, over the whole
/// replay, computed once at load; the timeline pane sums them to its width.
#[derive(Clone, Debug)]
pub struct Histogram {
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: Vec<u32>,
    pub failures: Vec<u32>,
}

pub const FINE_BUCKETS: usize = 4096;

impl Histogram {
    fn new(archive: &Archive, timeline: &Timeline, range: &Range) -> Histogram {
        let start = archive.events.first().map(|e| e.timestamp).unwrap_or_default();
        let end = range.settled.max(start.plus_micros(1));
        let mut h = Histogram { start, end, events: vec![0; FINE_BUCKETS], failures: vec![0; FINE_BUCKETS] };
        for e in &archive.events {
            let b = h.bucket(e.timestamp);
            h.events[b] += 1;
        }
        for s in timeline.streams() {
            if matches!(s.outcome(), Outcome::Failed | Outcome::Error) {
                let b = h.bucket(threshold_of(s));
                h.failures[b] += 1;
            }
        }
        h
    }

    /// The fine bucket holding `t` (clamped to the ends).
    pub fn bucket(&self, t: Timestamp) -> usize {
        let span = (self.end.0 as i128 - self.start.0 as i128).max(1);
        let off = (t.0 as i128 - self.start.0 as i128).clamp(0, span - 1);
        ((off * FINE_BUCKETS as i128) / span) as usize
    }
}

/// The moment after which a stream is decided (as the timeline counts it).
pub fn threshold_of(s: &Stream) -> Timestamp {
    match s.result.as_ref().map(|r| r.trigger) {
        Some(TriggerKind::Fire) => s.fire_timestamp.unwrap_or(Timestamp::MAX),
        Some(TriggerKind::Expire) => s.expire_timestamp,
        None => Timestamp::MAX,
    }
}

/// The loaded archive and what is derived from it once.
pub struct Data {
    pub archive: Arc<Archive>,
    pub timeline: Arc<Timeline>,
    pub histogram: Histogram,
    /// Sorted decision thresholds of streams ending in `error` / `expire_error`.
    state_thresholds: [Vec<Timestamp>; 2],
    /// Sorted decision thresholds of failed streams per code.
    code_thresholds: [Vec<Timestamp>; 9],
    /// Where the replay can stand.
    pub range: Range,
    /// Instance-days that have more than one stream, with their stream ids,
    /// so an explanation names its siblings without scanning every stream.
    siblings: FxHashMap<StreamKey, Vec<u32>>,
}

impl Data {
    /// Derive what the panes need from a loaded archive, once (the loader
    /// does it on its thread, so the UI does not pause).
    pub fn new(archive: Arc<Archive>, timeline: Arc<Timeline>) -> Data {
        // Sorting by instance later must not stall a key press: order the streams here, once.
        timeline.instance_ranks(&archive);
        let first = archive.events.first().map(|e| e.timestamp);
        let last = archive.events.last().map(|e| e.timestamp).unwrap_or_default();
        let mut settled = last;
        let mut state_thresholds: [Vec<Timestamp>; 2] = Default::default();
        let mut code_thresholds: [Vec<Timestamp>; 9] = Default::default();
        // First stream of each instance-day; only repeated ones get a list.
        let mut first_of: FxHashMap<StreamKey, u32> = FxHashMap::default();
        first_of.reserve(timeline.streams().len());
        let mut by_key: FxHashMap<StreamKey, Vec<u32>> = FxHashMap::default();
        for s in timeline.streams() {
            if let Some(&f) = first_of.get(&s.key) {
                by_key.entry(s.key).or_insert_with(|| vec![f]).push(s.id);
            } else {
                first_of.insert(s.key, s.id);
            }
            let t = threshold_of(s);
            if t != Timestamp::MAX {
                settled = settled.max(t);
            }
            match s.state {
                StreamState::Error => state_thresholds[0].push(t),
                StreamState::ExpireError => state_thresholds[1].push(t),
                _ => {}
            }
            if let Some(c) = s.code() {
                code_thresholds[c as usize].push(t);
            }
        }
        for v in state_thresholds.iter_mut().chain(code_thresholds.iter_mut()) {
            v.sort_unstable();
        }
        let range = match first {
            Some(f) => Range { start: f.plus_micros(-1), last_event: last, settled: settled.plus_micros(1) },
            // Nothing to replay: the start is the end.
            None => Range { start: Timestamp(0), last_event: Timestamp(0), settled: Timestamp(0) },
        };
        let histogram = Histogram::new(&archive, &timeline, &range);
        Data { archive, timeline, histogram, state_thresholds, code_thresholds, range, siblings: by_key }
    }

    pub fn counts(&self, t: Timestamp) -> Counts {
        let tl = &self.timeline;
        let outcome = tl.counts_at(t);
        let before = |v: &Vec<Timestamp>| v.partition_point(|&x| x < t);
        let error = before(&self.state_thresholds[0]);
        let expire_error = before(&self.state_thresholds[1]);
        let mut by_code = [0; 9];
        for (i, v) in self.code_thresholds.iter().enumerate() {
            by_code[i] = before(v);
        }
        Counts {
            streams: tl.streams_at(t),
            outcome,
            active: outcome[Outcome::Pending as usize],
            completed: outcome[Outcome::Verified as usize] + outcome[Outcome::Failed as usize],
            error,
            expire_error,
            by_code,
            events: tl.position_at(t),
            unmatched: tl.unmatched_at(t),
        }
    }

    pub fn stream(&self, id: u32) -> Option<&Stream> {
        self.timeline.stream(id)
    }

    pub fn event(&self, idx: u32) -> Option<&Event> {
        self.archive.events.get(idx as usize)
    }
}

/// How often, at most, the filtered or sorted list is rebuilt while playing.
const REBUILD_EVERY: Duration = Duration::from_millis(250);

/// The identity of a built list: rebuilt when any part changes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct IndexKey {
    filter: Filter,
    sort: Sort,
    created: usize,
    decided: usize,
    position: usize,
}

/// The interactive replay's state.
pub struct App {
    pub opts: Options,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub load: LoadState,
    /// Loading failed: the app shows nothing more and exits with status 2.
    pub failure: Option<String>,
    data: Option<Data>,
    pub playback: Playback,
    pub focus: Pane,
    /// What the inspector area shows: `Detail` or `Explain`.
    pub inspector: Pane,
    history: Vec<Pane>,
    /// The help overlay is open (with its scroll).
    pub help: Option<usize>,
    pub prompt: Option<Prompt>,
    pub search: Option<String>,
    pub filter: Filter,
    pub sort: Sort,
    rows: Rows,
    index_key: Option<IndexKey>,
    index_age: Duration,
    pub streams: ListState,
    pub events: ListState,
    pub problems: ListState,
    pub detail_scroll: usize,
    pub explain_scroll: usize,
    /// An event shown in the detail pane that is not in a stream (an unmatched event).
    /// What the detail pane shows instead of the selected stream's event:
    /// something opened from the problems pane.
    pub pinned: Option<Pinned>,
    focused: Option<Focused>,
    original: Option<(u32, Result<String, String>)>,
    requested: Option<u32>,
    requests: Vec<Request>,
    pub status: Option<Status>,
    pub external: Option<ExternalClock>,
    pending_external: Option<Timestamp>,
    /// "publishing clock on ADDR", shown in the header.
    pub publishing: Option<String>,
    /// The time-sync endpoint followed: it owns the clock, so the playback keys are off.
    pub following: Option<String>,
    pub size: (u16, u16),
    quit: bool,
}

impl App {
    fn blank(opts: Options) -> App {
        App {
            theme: Theme::new(opts.color),
            opts,
            keymap: KeyMap::standard(),
            load: LoadState::default(),
            failure: None,
            data: None,
            playback: Playback::new(Range { start: Timestamp(0), last_event: Timestamp(0), settled: Timestamp(0) }),
            focus: Pane::Streams,
            inspector: Pane::Explain,
            history: Vec::new(),
            help: None,
            prompt: None,
            search: None,
            filter: Filter::default(),
            sort: Sort::default(),
            rows: Rows::default(),
            index_key: None,
            index_age: Duration::ZERO,
            streams: ListState::default(),
            events: ListState::default(),
            problems: ListState::default(),
            detail_scroll: 0,
            explain_scroll: 0,
            pinned: None,
            focused: None,
            original: None,
            requested: None,
            requests: Vec::new(),
            status: None,
            external: None,
            pending_external: None,
            publishing: None,
            following: None,
            size: (120, 40),
            quit: false,
        }
    }

    /// An app waiting for its archive: the loading screen.
    pub fn new_loading(inputs: Vec<String>, opts: Options) -> App {
        let mut app = App::blank(opts);
        app.load.inputs = inputs;
        app
    }

    /// An app with its archive and timeline ready (tests and benchmarks start here).
    pub fn new_loaded(archive: Arc<Archive>, timeline: Arc<Timeline>, opts: Options) -> App {
        let mut app = App::blank(opts);
        app.set_loaded(Data::new(archive, timeline));
        app
    }

    fn set_loaded(&mut self, data: Data) {
        let range = data.range;
        self.data = Some(data);
        self.playback = Playback::new(range);
        // SPEC §6: at the end unless told otherwise; a followed clock wins, and
        // one that has published nothing yet waits before the first event.
        let waiting = self.following.as_ref().map(|_| range.start);
        let at = self.pending_external.take().or(self.opts.at).or(waiting);
        self.playback.seek(at.unwrap_or(Timestamp::MAX));
        self.sync(true);
    }

    /// Feed what the background loader reported.
    pub fn on_load_event(&mut self, ev: LoadEvent) {
        match ev {
            LoadEvent::Progress(p) => self.load.progress = p,
            LoadEvent::Replaying(n) => self.load.replaying = Some(n),
            LoadEvent::Done(d) => self.set_loaded(*d),
            LoadEvent::Failed(e) => self.failure = Some(e),
        }
    }

    pub fn data(&self) -> Option<&Data> {
        self.data.as_ref()
    }

    pub fn is_loading(&self) -> bool {
        self.data.is_none() && self.failure.is_none()
    }

    pub fn should_quit(&self) -> bool {
        self.quit || self.failure.is_some()
    }

    /// The playback clock to publish (SPEC §4.1). Once drained it is the
    /// first moment at which every stream has fired or expired, so a follower
    /// reaches the same end state; before any event, just before the first.
    pub fn clock(&self) -> Timestamp {
        if self.playback.is_drained() {
            self.playback.range.settled
        } else {
            self.playback.clock
        }
    }

    /// Follow an external time-sync clock: a time moves the replay there (backwards
    /// too) and pauses local playback; the other answers are shown in the header.
    pub fn apply_external_clock(&mut self, c: ExternalClock) {
        if let ExternalClock::Time(t) = c {
            self.playback.playing = false;
            if self.data.is_some() {
                self.playback.seek(t);
                self.sync(false);
            } else {
                self.pending_external = Some(t);
            }
        }
        self.external = Some(c);
    }

    /// Show (or clear) the note that the clock is being published.
    pub fn set_publishing(&mut self, addr: Option<String>) {
        self.publishing = addr.map(|a| format!("publishing clock on {a}"));
    }

    /// Follow (or stop following) the time-sync service at `endpoint`: while
    /// it does, the keys that would move the clock are refused (SPEC §4.1).
    pub fn set_following(&mut self, endpoint: Option<String>) {
        self.following = endpoint;
    }

    /// Whether a followed clock refuses a local move; says why when it does.
    fn refuse_while_following(&mut self) -> bool {
        if self.following.is_some() {
            self.error("playback keys are off while following the time-sync clock");
        }
        self.following.is_some()
    }

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
                self.set_original(event, text);
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
    pub fn set_original(&mut self, event: u32, text: Result<String, String>) {
        if self.requested == Some(event) {
            self.original = Some((event, text));
        }
    }

    pub fn original(&self, event: u32) -> Option<&Result<String, String>> {
        self.original.as_ref().filter(|(e, _)| *e == event).map(|(_, t)| t)
    }

    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    pub fn focused(&self) -> Option<&Focused> {
        self.focused.as_ref()
    }

    /// The selected stream.
    pub fn selected_stream(&self) -> Option<&Stream> {
        let id = self.rows.get(self.streams.sel)?;
        self.data.as_ref()?.stream(id)
    }

    /// The selected stream's state at the clock.
    pub fn selected_at(&self) -> Option<StreamAt> {
        let s = self.selected_stream()?;
        self.data.as_ref()?.timeline.stream_at(s, self.playback.clock)
    }

    /// The event the detail pane shows (archive index).
    pub fn detail_event(&self) -> Option<u32> {
        match self.pinned {
            Some(Pinned::Event(e)) => return Some(e),
            Some(Pinned::Rejected(_)) => return None,
            None => {}
        }
        self.selected_stream()?.events.get(self.events.sel).copied()
    }

    pub fn counts(&self) -> Counts {
        self.data.as_ref().map(|d| d.counts(self.playback.clock)).unwrap_or_default()
    }

    /// Translate a key press through the key map.
    pub fn handle_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        let key = Key::from_event(&k);
        if let Some(a) = self.keymap.lookup(key, self.focus, self.help.is_some(), self.prompt.is_some()) {
            self.update(a);
        }
    }

    /// Mouse: the wheel scrolls the pane under the pointer, a click selects.
    pub fn handle_mouse(&mut self, m: MouseEvent) {
        let delta = match m.kind {
            MouseEventKind::ScrollDown => 3,
            MouseEventKind::ScrollUp => -3,
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                self.update(Action::Click(m.column, m.row));
                return;
            }
            _ => return,
        };
        if self.help.is_some() {
            self.update(if delta > 0 { Action::Down } else { Action::Up });
            return;
        }
        if let Some(p) = view::pane_at(self, m.column, m.row) {
            self.update(Action::Scroll(p, delta));
        }
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        if !matches!(action, Action::Tick(_) | Action::Resize(..)) {
            self.status = None;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Tick(d) => {
                self.index_age += d;
                if self.data.is_some() {
                    self.playback.tick(d);
                    // Also rebuilds a list that was left stale while playing.
                    self.sync(false);
                }
                return;
            }
            Action::Resize(w, h) => self.size = (w, h),
            _ if self.prompt.is_some() => self.prompt_action(action),
            _ if self.help.is_some() => self.help_action(action),
            _ if self.data.is_none() => match action {
                Action::Back => self.quit = true,
                Action::Close => self.info("q quits"),
                Action::ToggleHelp => self.help = Some(0),
                _ => {}
            },
            a => self.main_action(a),
        }
        if self.data.is_some() {
            self.sync(false);
        }
    }

    fn prompt_action(&mut self, action: Action) {
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
                    PromptKind::Command => self.run_command(&p.input),
                    PromptKind::Search => {
                        let term = p.input.trim().to_lowercase();
                        if term.is_empty() {
                            self.search = None;
                        } else {
                            self.search = Some(term);
                            self.search_step(true, true);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn help_action(&mut self, action: Action) {
        let total = view::help::line_count(self);
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

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }

    fn open_pane(&mut self, p: Pane) {
        if self.focus != p {
            self.history.push(self.focus);
            self.focus = p;
        }
        if matches!(p, Pane::Detail | Pane::Explain) {
            self.inspector = p;
        }
    }

    fn main_action(&mut self, action: Action) {
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
                self.info("nothing to close here: q quits")
            }
            Action::Close => self.main_action(Action::Back),
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
            a if a.moves_clock() && self.refuse_while_following() => {}
            Action::TogglePlay => self.playback.toggle(),
            Action::StepForward => self.step(true),
            Action::StepBack => self.step(false),
            Action::Slower => self.playback.slower(),
            Action::Faster => self.playback.faster(),
            Action::Rewind => {
                self.playback.playing = false;
                self.playback.seek(self.playback.range.start);
            }
            Action::Drain => {
                self.playback.playing = false;
                self.playback.seek(Timestamp::MAX);
            }
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
            Action::Explain => {
                if self.focus == Pane::Explain {
                    self.focus = Pane::Detail;
                    self.inspector = Pane::Detail;
                } else {
                    self.open_pane(Pane::Explain);
                }
                self.pinned = None;
            }
            Action::Problems => {
                if self.focus == Pane::Problems {
                    self.main_action(Action::Back);
                } else {
                    self.open_pane(Pane::Problems);
                }
            }
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
            Action::CycleSort => self.sort.key = self.sort.key.next(),
            Action::ReverseSort => self.sort.descending = !self.sort.descending,
            Action::Command(c) => self.run_command(&c),
            Action::Quit
            | Action::Tick(_)
            | Action::Resize(..)
            | Action::PromptInput(_)
            | Action::PromptBackspace
            | Action::PromptEraseWord
            | Action::PromptEraseLine
            | Action::PromptSubmit
            | Action::PromptCancel => {}
        }
    }

    /// Rows a page moves in a pane.
    fn page(&self, p: Pane) -> usize {
        view::pane_height(self, p).saturating_sub(1).max(1)
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
                let n = self.selected_stream().map(|s| s.events.len()).unwrap_or(0);
                self.events.sel = clamp(self.events.sel, n);
                self.pinned = None;
            }
            Pane::Problems => {
                let n = view::problems::line_count(self);
                let mut sel = clamp(self.problems.sel, n);
                // Step over blank lines and titles, in the direction of travel, or back at an end.
                let step = if d < 0 { -1 } else { 1 };
                for dir in [step, -step] {
                    let mut i = sel as i64;
                    while (0..n as i64).contains(&i) && !view::problems::selectable(self, i as usize) {
                        i += dir;
                    }
                    if (0..n as i64).contains(&i) {
                        sel = i as usize;
                        break;
                    }
                }
                self.problems.sel = sel;
            }
            Pane::Detail => self.detail_scroll = clamp(self.detail_scroll, view::scroll_max(self, p) + 1),
            Pane::Explain => self.explain_scroll = clamp(self.explain_scroll, view::scroll_max(self, p) + 1),
        }
    }

    fn click(&mut self, x: u16, y: u16) {
        let Some(p) = view::pane_at(self, x, y) else { return };
        if p != self.focus {
            self.focus = p;
            self.history.clear();
        }
        if let Some(row) = view::row_at(self, p, y) {
            match p {
                Pane::Streams if row < self.rows.len() => self.streams.sel = row,
                Pane::Events if self.selected_stream().is_some_and(|s| row < s.events.len()) => {
                    self.events.sel = row;
                    self.pinned = None;
                }
                Pane::Problems if row < view::problems::line_count(self) => self.problems.sel = row,
                _ => {}
            }
        }
    }

    fn open(&mut self) {
        match self.focus {
            Pane::Streams => {
                if self.selected_stream().is_some() {
                    self.open_pane(Pane::Events);
                }
            }
            Pane::Events => {
                self.pinned = None;
                self.open_pane(Pane::Detail);
            }
            Pane::Problems => {
                let sel = self.problems.sel;
                let pinned = view::problems::event_at(self, sel)
                    .map(Pinned::Event)
                    .or_else(|| view::problems::rejected_at(self, sel).map(Pinned::Rejected));
                if pinned.is_some() {
                    self.pinned = pinned;
                    self.detail_scroll = 0;
                    self.open_pane(Pane::Detail);
                }
            }
            Pane::Detail | Pane::Explain => {}
        }
    }

    /// `.` and `,`: to the next event's time, or back to the previous one's.
    fn step(&mut self, forward: bool) {
        let Some(d) = &self.data else { return };
        self.playback.playing = false;
        let ev = &d.archive.events;
        let t = self.playback.clock;
        if forward {
            if self.playback.is_drained() {
                self.info("at the end: every event is replayed and the streams are drained");
                return;
            }
            let next = ev.partition_point(|e| e.timestamp <= t);
            let target = ev.get(next).map(|e| e.timestamp).unwrap_or(Timestamp::MAX);
            self.playback.seek(target);
        } else {
            if t <= self.playback.range.start {
                self.info("at the start: no event is replayed yet");
                return;
            }
            let prev = ev.partition_point(|e| e.timestamp < t);
            let target = if prev == 0 { self.playback.range.start } else { ev[prev - 1].timestamp };
            self.playback.seek(target);
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
            self.info("no search yet: press / to search");
            return;
        };
        let Some(d) = &self.data else { return };
        let t = self.playback.clock;
        if self.focus == Pane::Events {
            let Some(s) = self.selected_stream() else { return };
            let n = s.events.len();
            let hit = |i: usize| {
                let e = &d.archive.events[s.events[i] as usize];
                index::contains_ci(d.archive.symbols.get(e.event_type), &term)
                    || index::contains_ci(&e.message_id(&d.archive.symbols), &term)
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
        let id_term = term.trim_start_matches('#');
        let hit = |row: usize| {
            let Some(s) = rows.get(row).and_then(|id| d.stream(id)) else { return false };
            let decided = d.timeline.stream_at(s, t).is_some_and(|a| a.decided);
            s.id.to_string() == id_term
                || index::contains_ci(&index::instance_text(&d.archive, s), &term)
                || (decided
                    && s.result.as_ref().is_some_and(|r| {
                        r.code.is_some_and(|c| c.as_str().eq_ignore_ascii_case(&term))
                            || index::contains_ci(&r.message, &term)
                    }))
        };
        let start = self.streams.sel;
        match find_from(start, rows.len(), forward, from_current, hit) {
            Some(r) => {
                if wrapped(start, r, forward) {
                    self.info(if forward { "search wrapped to the top" } else { "search wrapped to the bottom" });
                }
                self.streams.sel = r;
                if self.focus == Pane::Problems {
                    self.focus = Pane::Streams;
                }
            }
            None => self.error(format!("no stream matches {:?}", crate::text::sanitize(&term))),
        }
    }

    fn run_command(&mut self, input: &str) {
        let cmd = match prompt::parse(input) {
            Ok(c) => c,
            Err(e) => return self.error(crate::text::sanitize(&e)),
        };
        if matches!(cmd, Command::Goto(_) | Command::Relative(_) | Command::TimeOfDay(_))
            && self.refuse_while_following()
        {
            return;
        }
        let Some(d) = &self.data else { return };
        let base = self.playback.shown();
        match cmd {
            Command::Goto(t) => self.seek_to(t),
            Command::Relative(us) => self.seek_to(base.plus_micros(us)),
            Command::TimeOfDay(us) => self.seek_to(base.day().start().plus_micros(us)),
            Command::Stream(id) => match d.stream(id) {
                None => self.error(format!("no stream #{id} (there are {})", d.timeline.streams().len())),
                Some(s) => {
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
            },
            Command::Speed(n) => {
                if let Err(e) = self.playback.set_speed(n) {
                    self.error(e);
                }
            }
            Command::Filter(f) => self.filter = f,
            Command::Sort(k, dir) => {
                self.sort.key = k;
                if let Some(desc) = dir {
                    self.sort.descending = desc;
                }
            }
            Command::Rewind => self.update(Action::Rewind),
            Command::Drain => self.update(Action::Drain),
            Command::Problems => self.open_pane(Pane::Problems),
            Command::Help => self.help = Some(0),
            Command::Quit => self.quit = true,
        }
    }

    fn seek_to(&mut self, t: Timestamp) {
        self.playback.playing = false;
        let t = t.max(self.playback.range.start);
        self.playback.seek(t);
        if self.playback.is_drained() && t != Timestamp::MAX {
            // The clock then shows the last event's time (SPEC §6): say why it is not the time asked for.
            self.info(format!(
                "{} is past the last expiry ({}): the replay is drained, every verdict decided",
                t.iso(),
                self.playback.range.settled.iso()
            ));
        }
    }

    /// Bring the derived state in line with the clock and the selection:
    /// the stream list, the selected stream's explanation, the detail request.
    fn sync(&mut self, force: bool) {
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
        let n_events = self.selected_stream().map(|s| s.events.len()).unwrap_or(0);
        self.events.sel = self.events.sel.min(n_events.saturating_sub(1));
        self.problems.sel = self.problems.sel.min(view::problems::line_count(self).saturating_sub(1));
        let lens = [self.rows.len(), n_events, view::problems::line_count(self)];
        for ((p, st), len) in
            [(Pane::Streams, self.streams), (Pane::Events, self.events), (Pane::Problems, self.problems)]
                .into_iter()
                .zip(lens)
        {
            let h = view::pane_height(self, p).max(1);
            let off = view::visible_offset(st.off, st.sel, h, len);
            match p {
                Pane::Streams => self.streams.off = off,
                Pane::Events => self.events.off = off,
                _ => self.problems.off = off,
            }
        }
        // The detail pane, when shown, wants the original record of its event
        // (re-reading a gzip archive can be slow, so only then).
        if let Some(e) = self.detail_event().filter(|_| view::is_shown(self, Pane::Detail)) {
            let is_notification =
                self.data.as_ref().and_then(|d| d.event(e)).is_some_and(|ev| ev.origin.kind.is_notification());
            if is_notification && self.requested != Some(e) {
                self.requested = Some(e);
                self.detail_scroll = 0;
                self.requests.push(Request::Original { event: e });
            }
        }
    }

    fn focus_on(&self, id: u32) -> Option<Focused> {
        let d = self.data.as_ref()?;
        let s = d.stream(id)?;
        let events: Vec<&Event> = s.events.iter().map(|&i| &d.archive.events[i as usize]).collect();
        let siblings: Vec<Stream> = d
            .siblings
            .get(&s.key)
            .map(|ids| ids.iter().filter_map(|&i| d.stream(i)).cloned().collect())
            .unwrap_or_default();
        let explanation = explain::explain_with(&d.archive, s, &siblings);
        let proving = explanation.as_ref().map(|x| x.proving()).unwrap_or_default();
        let log = if s.result.is_some() {
            pipeline::run(s.id, &events, &d.archive.symbols, IdMode::Stable).log
        } else {
            Vec::new()
        };
        Some(Focused { id, exists: pipeline::usage::find_exists(&events), explanation, proving, log })
    }

    /// The code of a stream at the clock, if it has failed by then.
    pub fn code_at(&self, s: &Stream, at: &StreamAt) -> Option<Code> {
        if at.decided {
            s.code()
        } else {
            None
        }
    }
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
