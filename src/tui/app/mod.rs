//! The state of the interactive replay and [`App::update`], which applies one
//! [`Action`] at a time. Everything shown comes from the engine: the state at
//! the playback clock is read from the [`Timeline`] (exact and O(log n)), never
//! by replaying again; verdict explanations from [`explain`](crate::explain).
//!
//! The state and the dispatch live here; each concern applies its actions in
//! its own file: [`navigation`] (panes, lists, mouse), [`clock`] (playback,
//! seeking, the followed clock), [`search`] (search, filter, sort, the prompt)
//! and [`sync`] (bringing what is derived in line with the clock).

mod clock;
mod navigation;
mod search;
mod sync;

use super::action::Action;
use super::index::{Filter, Rows, Sort};
use super::keymap::{KeyMap, Scope};
use super::layout::Layout;
use super::load::LoadEvent;
use super::playback::{Playback, Range};
use super::theme::Theme;
use crate::archive::{Archive, LoadProgress};
use crate::event::Event;
use crate::explain::Explanation;
use crate::pipeline::Code;
use crate::replay::{Stream, StreamAt, Timeline};
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

pub use super::data::{Counts, Data, Histogram, FINE_BUCKETS};
pub use super::types::{ExternalClock, ListState, Pane, Pinned, Prompt, PromptKind, Request, Status};

/// How the app starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Open at this time instead of the end (`--at`).
    pub at: Option<Timestamp>,
    /// Colours on (off when `NO_COLOR` is set).
    pub color: bool,
    /// A filtered or sorted list of at least this many streams is built off the
    /// event loop, so that keys keep answering at once (docs/ui.md#large-archives).
    pub background_lists_from: usize,
}

/// Streams from which a filtered or sorted list is built in the background: a
/// build of this many takes a few milliseconds.
pub const BACKGROUND_LISTS_FROM: usize = 50_000;

impl Default for Options {
    fn default() -> Self {
        Options { at: None, color: true, background_lists_from: BACKGROUND_LISTS_FROM }
    }
}

impl Options {
    /// Colour unless `NO_COLOR` is set to a non-empty value (no-color.org).
    pub fn color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }
}

/// Progress of the background load.
#[derive(Clone, Debug, Default)]
pub struct LoadState {
    pub inputs: Vec<String>,
    pub progress: LoadProgress,
    /// Reading is done and the replay of this many events is being built.
    pub replaying: Option<usize>,
}

/// What the panes show about the selected stream, computed once per selection.
#[derive(Clone, Debug)]
pub struct Focused {
    pub id: u32,
    /// Whether this is the second rule set's counterpart of the selected stream.
    pub other: bool,
    /// Index (in the stream) of the *exists* the checks used.
    pub exists: Option<usize>,
    /// Under 2015: every `.exists` (index in the stream) with its own result's code
    /// (`None`: verified) (docs/rules2015.md#checks).
    pub results: Vec<(usize, Option<Code>)>,
    pub explanation: Option<Explanation>,
    /// With both rule sets, where they part: the listed stream's final triage label
    /// and the sentence that says why (docs/rules2015.md#side-by-side).
    pub triage: Option<(crate::triage::Triage, Option<String>)>,
    /// Indices of the events that prove the verdict.
    pub proving: Vec<usize>,
    pub log: Vec<String>,
}

/// The interactive replay's state.
pub struct App {
    pub opts: Options,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub load: LoadState,
    /// Loading failed: the app shows nothing more and exits with status 2.
    pub failure: Option<String>,
    data: Option<Arc<Data>>,
    pub playback: Playback,
    pub focus: Pane,
    /// What the inspector area shows: `Detail` or `Explain`.
    pub inspector: Pane,
    history: Vec<Pane>,
    /// The help overlay is open (with its scroll).
    pub help: Option<usize>,
    pub prompt: Option<Prompt>,
    pub search: Option<String>,
    /// A stream the last search found beyond the clock or behind the filter: Enter goes there.
    jump: Option<u32>,
    pub filter: Filter,
    pub sort: Sort,
    rows: Rows,
    index_key: Option<sync::IndexKey>,
    index_age: Duration,
    /// A list being built off the event loop: its key, and where its rows arrive.
    building: Option<(sync::IndexKey, std::sync::mpsc::Receiver<Result<Rows, String>>)>,
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
    /// The events and explanation panes show the second rule set's counterpart
    /// of the selected stream (docs/ui.md#two-rule-sets).
    pub show_other: bool,
    /// A 2015 stream without a 2014 counterpart, opened from the problems pane: the
    /// events and explanation panes show it until the selection in the list moves
    /// (with the listed stream selected when it was opened).
    opened: Option<(u32, Option<u32>)>,
    original: Option<((bool, u32), Result<String, String>)>,
    requested: Option<(bool, u32)>,
    requests: Vec<Request>,
    pub status: Option<Status>,
    /// A standing note in the header (the built-in demo says what it is).
    pub notice: Option<String>,
    pub external: Option<ExternalClock>,
    pending_external: Option<Timestamp>,
    /// "publishing clock on ADDR", shown in the header.
    pub publishing: Option<String>,
    /// The time-sync endpoint followed: it owns the clock, so the playback keys are off.
    pub following: Option<String>,
    pub size: (u16, u16),
    /// The guided tour, while it runs (docs/ui.md#the-demo).
    tour: Option<super::tour::Tour>,
    /// The tour starts once the archive is loaded.
    tour_pending: bool,
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
            jump: None,
            filter: Filter::default(),
            sort: Sort::default(),
            rows: Rows::default(),
            index_key: None,
            index_age: Duration::ZERO,
            building: None,
            streams: ListState::default(),
            events: ListState::default(),
            problems: ListState::default(),
            detail_scroll: 0,
            explain_scroll: 0,
            pinned: None,
            focused: None,
            show_other: false,
            opened: None,
            original: None,
            requested: None,
            requests: Vec::new(),
            status: None,
            notice: None,
            external: None,
            pending_external: None,
            publishing: None,
            following: None,
            size: (120, 40),
            tour: None,
            tour_pending: false,
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
        app.set_loaded(Arc::new(Data::new(archive, timeline)));
        app
    }

    /// An app over what [`load::data_of`](super::load::data_of) derived (both rule sets, when the
    /// archive was distilled by both).
    pub fn new_with_data(data: Arc<Data>, opts: Options) -> App {
        let mut app = App::blank(opts);
        app.set_loaded(data);
        app
    }

    fn set_loaded(&mut self, data: Arc<Data>) {
        let range = data.range;
        self.data = Some(data);
        self.playback = Playback::new(range);
        // docs/ui.md#opening-and-loading: at the end unless told otherwise; a followed clock wins, and
        // one that has published nothing yet waits before the first event.
        let waiting = self.following.as_ref().map(|_| range.start);
        let at = self.pending_external.take().or(self.opts.at).or(waiting);
        self.playback.seek(at.unwrap_or(Timestamp::MAX));
        self.sync(true);
        if std::mem::take(&mut self.tour_pending) {
            self.start_tour();
        }
    }

    /// Start the guided tour (docs/ui.md#the-demo), now or once the archive is loaded.
    pub fn start_tour(&mut self) {
        match &self.data {
            Some(d) => {
                self.tour = Some(super::tour::Tour::new(d));
                self.tour_tick(Duration::ZERO);
            }
            None => self.tour_pending = true,
        }
    }

    /// What the tour says now, while it runs.
    pub fn tour_caption(&self) -> Option<&str> {
        self.tour.as_ref().map(|t| t.caption()).filter(|c| !c.is_empty())
    }

    /// Whether the tour runs (or waits for the archive).
    pub fn in_tour(&self) -> bool {
        self.tour.is_some() || self.tour_pending
    }

    /// Any key or click ends the tour and leaves the replay as it stands; `q` quits.
    pub(super) fn end_tour(&mut self) {
        self.tour = None;
        self.tour_pending = false;
        self.playback.playing = false;
        let help = self.keymap.hint(Scope::Global, &Action::ToggleHelp);
        self.info(format!("tour ended: the replay is yours ({help} for the keys and the symbols)"));
    }

    /// Let the tour go on by `elapsed` wall time and apply what it asks for.
    fn tour_tick(&mut self, elapsed: Duration) {
        let Some(mut tour) = self.tour.take() else { return };
        let pb = &self.playback;
        let actions = tour.advance(pb.clock, pb.is_drained(), pb.playing, elapsed);
        let over = tour.is_over();
        let last = tour.caption().to_string();
        self.tour = Some(tour);
        for a in actions {
            self.update(a);
        }
        if over {
            self.tour = None;
            self.info(last);
        }
    }

    /// Take what the background loader reported.
    fn on_load_event(&mut self, ev: LoadEvent) {
        match ev {
            LoadEvent::Progress(p) => self.load.progress = p,
            LoadEvent::Replaying(n) => self.load.replaying = Some(n),
            LoadEvent::Done(d) => self.set_loaded(d),
            LoadEvent::Failed(e) => self.failure = Some(e),
        }
    }

    /// Whether a filtered or sorted list is being built in the background
    /// (docs/ui.md#large-archives): the list shown is the previous one.
    pub fn list_pending(&self) -> bool {
        self.building.is_some()
    }

    pub fn data(&self) -> Option<&Data> {
        self.data.as_deref()
    }

    pub fn is_loading(&self) -> bool {
        self.data.is_none() && self.failure.is_none()
    }

    pub fn should_quit(&self) -> bool {
        self.quit || self.failure.is_some()
    }

    /// The screen's layout at the current size, focus and inspector.
    pub fn layout(&self) -> Layout {
        Layout::new(self.size, self.focus, self.inspector)
    }

    /// How a hint on screen names the key for `action`: its first key in the
    /// focused pane or everywhere, as the key map has it.
    pub fn key_hint(&self, action: &Action) -> String {
        self.keymap.hint(Scope::Pane(self.focus), action)
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

    /// Whether the events, detail and explanation panes show the second rule set.
    pub fn showing_other(&self) -> bool {
        (self.show_other || self.opened.is_some()) && self.data.as_ref().is_some_and(|d| d.other.is_some())
    }

    /// The 2015 stream without a 2014 counterpart that the panes show, if one was opened.
    pub fn opened_unpaired(&self) -> Option<u32> {
        self.opened.map(|(id, _)| id)
    }

    /// The rule set the events and explanation panes show.
    pub fn shown_rules(&self) -> Option<crate::rules::RuleSet> {
        let d = self.data.as_ref()?;
        Some(if self.showing_other() { d.other_archive()?.rules } else { d.archive.rules })
    }

    /// The stream the events and explanation panes show: the selected one, or
    /// its counterpart under the second rule set.
    pub fn shown_stream(&self) -> Option<&Stream> {
        if let Some((id, _)) = self.opened {
            return self.data.as_ref()?.other.as_ref()?.timeline.stream(id);
        }
        let s = self.selected_stream()?;
        if self.showing_other() {
            self.data.as_ref()?.counterpart(s.id)
        } else {
            Some(s)
        }
    }

    /// The archive the shown stream's events index into.
    pub fn shown_archive(&self) -> Option<&Archive> {
        let d = self.data.as_ref()?;
        if self.showing_other() {
            d.other_archive()
        } else {
            Some(&d.archive)
        }
    }

    /// The timeline the shown stream belongs to.
    pub fn shown_timeline(&self) -> Option<&Timeline> {
        let d = self.data.as_ref()?;
        match (&d.other, self.showing_other()) {
            (Some(o), true) => Some(&o.timeline),
            _ => Some(&d.timeline),
        }
    }

    /// The shown stream's state at the clock.
    pub fn shown_at(&self) -> Option<StreamAt> {
        self.shown_timeline()?.stream_at(self.shown_stream()?, self.playback.clock)
    }

    /// The event the detail pane shows (archive index).
    pub fn detail_event(&self) -> Option<u32> {
        match self.pinned {
            Some(Pinned::Event(e)) => return Some(e),
            Some(Pinned::Rejected(_)) => return None,
            None => {}
        }
        self.shown_stream()?.events.get(self.events.sel).copied()
    }

    /// The detail pane's event itself: of the problems pane's archive when pinned,
    /// else of the shown rule set's.
    pub fn detail_event_ref(&self) -> Option<&Event> {
        let idx = self.detail_event()?;
        let archive = if self.pinned.is_some() { &self.data.as_ref()?.archive } else { self.shown_archive()? };
        archive.events.get(idx as usize)
    }

    /// Which archive's events the detail pane's index is into: the second one's or not.
    fn detail_side(&self) -> bool {
        self.pinned.is_none() && self.showing_other()
    }

    pub fn counts(&self) -> Counts {
        self.data.as_ref().map(|d| d.counts(self.playback.clock)).unwrap_or_default()
    }

    /// The code of a stream at the clock, if it has failed by then.
    pub fn code_at(&self, s: &Stream, at: &StreamAt) -> Option<Code> {
        if at.decided {
            s.code()
        } else {
            None
        }
    }

    /// Apply one action.
    pub fn update(&mut self, action: Action) {
        match action {
            // What the event loop and the background workers report leaves the
            // status line alone: it answers the user's last key.
            Action::Tick(d) => {
                self.index_age += d;
                if self.data.is_some() {
                    self.playback.tick(d);
                    // Also rebuilds a list that was left stale while playing.
                    self.sync(false);
                    self.tour_tick(d);
                }
                return;
            }
            Action::Load(ev) => return self.on_load_event(ev),
            Action::FollowedClock(c) => return self.apply_external_clock(c),
            Action::Original(event, text) => return self.set_original(event, text),
            Action::Resize(w, h) => self.size = (w, h),
            Action::Quit => {
                self.status = None;
                self.quit = true
            }
            _ if self.prompt.is_some() => {
                self.status = None;
                self.prompt_action(action)
            }
            _ if self.help.is_some() => {
                self.status = None;
                self.help_action(action)
            }
            _ if self.data.is_none() => {
                self.status = None;
                match action {
                    Action::Back => self.quit = true,
                    Action::Close => {
                        let q = self.keymap.hint(Scope::Global, &Action::Back);
                        self.info(format!("{q} quits"))
                    }
                    Action::ToggleHelp => self.help = Some(0),
                    _ => {}
                }
            }
            Action::Open if self.jump.is_some() => {
                self.status = None;
                self.take_jump();
            }
            a => {
                self.status = None;
                if !matches!(a, Action::SearchNext | Action::SearchPrev) {
                    self.jump = None;
                }
                self.main_action(a)
            }
        }
        if self.data.is_some() {
            self.sync(false);
        }
    }

    fn main_action(&mut self, action: Action) {
        match action {
            Action::Back
            | Action::Close
            | Action::ToggleHelp
            | Action::NextPane
            | Action::PrevPane
            | Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Scroll(..)
            | Action::Click(..)
            | Action::Open
            | Action::Explain
            | Action::Problems
            | Action::ShowProblems => self.navigate(action),
            Action::SwitchRules => self.switch_rules(),
            a if a.moves_clock() && self.refuse_while_following() => {}
            Action::TogglePlay
            | Action::StepForward
            | Action::StepBack
            | Action::Slower
            | Action::Faster
            | Action::Rewind
            | Action::Drain
            | Action::Seek(_)
            | Action::SetSpeed(_) => self.playback_action(action),
            Action::OpenPrompt
            | Action::OpenSearch
            | Action::Filter
            | Action::SearchNext
            | Action::SearchPrev
            | Action::NextFailure
            | Action::PrevFailure
            | Action::CycleOutcome
            | Action::ClearFilter
            | Action::SetFilter(_)
            | Action::CycleSort
            | Action::ReverseSort
            | Action::SetSort(..)
            | Action::SelectStream(_) => self.list_action(action),
            Action::Quit
            | Action::Tick(_)
            | Action::Resize(..)
            | Action::Load(_)
            | Action::FollowedClock(_)
            | Action::Original(..)
            | Action::PromptInput(_)
            | Action::PromptBackspace
            | Action::PromptEraseWord
            | Action::PromptEraseLine
            | Action::PromptSubmit
            | Action::PromptCancel => {}
        }
    }

    fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: false });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), error: true });
    }
}
