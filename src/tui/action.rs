//! The vocabulary of the UI: every key, mouse gesture, prompt command, clock
//! tick and background report becomes one [`Action`], which
//! [`App::update`](super::App::update) applies. Tests and scripts send actions
//! directly.

use super::index::{Filter, SortKey};
use super::load::LoadEvent;
use super::types::{ExternalClock, Pane, Seek};
use std::time::Duration;

/// Something the user, the event loop or a background worker asks the app to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave the app at once.
    Quit,
    /// Close what is open (prompt, help, a pane), or quit from the stream list.
    Back,
    /// As `Back`, but never quits: Esc must not end a session by one press too many.
    Close,
    ToggleHelp,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the selected row: a stream's events, an event's detail.
    Open,
    TogglePlay,
    /// Move the clock to the next event's time.
    StepForward,
    /// Move the clock to the previous event's time.
    StepBack,
    Slower,
    Faster,
    /// Just before the first event.
    Rewind,
    /// Every event replayed and the streams drained (docs/streams.md#replay).
    Drain,
    OpenPrompt,
    OpenSearch,
    SearchNext,
    SearchPrev,
    NextFailure,
    PrevFailure,
    /// Show the selected stream's explanation (or, from it, the event detail).
    Explain,
    /// Open the problems pane, or close it when it is focused.
    Problems,
    /// Open the problems pane (`:problems`).
    ShowProblems,
    /// Switch which rule set the events and explanation panes show, when both ran
    /// (docs/ui.md#two-rule-sets).
    SwitchRules,
    /// Open the prompt with the current filter, ready to be edited.
    Filter,
    CycleOutcome,
    ClearFilter,
    CycleSort,
    ReverseSort,
    PromptInput(char),
    PromptBackspace,
    /// Erase the word before the cursor (Ctrl-W).
    PromptEraseWord,
    /// Erase the whole input (Ctrl-U).
    PromptEraseLine,
    PromptSubmit,
    PromptCancel,
    /// Move the clock to a time, by an offset, or to a time of day (`:` prompt).
    Seek(Seek),
    /// Set the playback speed, in event-seconds per wall second (`:speed N`).
    SetSpeed(u64),
    /// Replace the stream list's filter (`:filter …`).
    SetFilter(Filter),
    /// Sort the stream list by a key, optionally descending (`:sort KEY [asc|desc]`).
    SetSort(SortKey, Option<bool>),
    /// Select a stream by id, moving the clock to it if it does not exist yet (`:#id`).
    SelectStream(u32),
    /// Wall time elapsed since the previous tick; playback moves by elapsed × speed.
    Tick(Duration),
    Resize(u16, u16),
    /// Scroll a pane by rows (mouse wheel).
    Scroll(Pane, i32),
    /// A left click at a terminal cell.
    Click(u16, u16),
    /// What the background loader reported.
    Load(LoadEvent),
    /// What the time-sync follower saw: the clock to follow, or why there is none.
    FollowedClock(ExternalClock),
    /// The original record of an event, re-read off the UI thread (or why it could not be).
    /// The event is `(other, index)`: an index into the second rule set's archive when `other`.
    Original((bool, u32), Result<String, String>),
}

impl Action {
    /// The action's snake_case name, as the help and scripts call it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Back => "back",
            Action::Close => "close",
            Action::ToggleHelp => "toggle_help",
            Action::NextPane => "next_pane",
            Action::PrevPane => "prev_pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::TogglePlay => "toggle_play",
            Action::StepForward => "step_forward",
            Action::StepBack => "step_back",
            Action::Slower => "slower",
            Action::Faster => "faster",
            Action::Rewind => "rewind",
            Action::Drain => "drain",
            Action::OpenPrompt => "open_prompt",
            Action::OpenSearch => "open_search",
            Action::SearchNext => "search_next",
            Action::SearchPrev => "search_prev",
            Action::NextFailure => "next_failure",
            Action::PrevFailure => "prev_failure",
            Action::Explain => "explain",
            Action::Problems => "problems",
            Action::ShowProblems => "show_problems",
            Action::SwitchRules => "rules",
            Action::Filter => "filter",
            Action::CycleOutcome => "cycle_outcome",
            Action::ClearFilter => "clear_filter",
            Action::CycleSort => "cycle_sort",
            Action::ReverseSort => "reverse_sort",
            Action::PromptInput(_) => "prompt_input",
            Action::PromptBackspace => "prompt_backspace",
            Action::PromptEraseWord => "prompt_erase_word",
            Action::PromptEraseLine => "prompt_erase_line",
            Action::PromptSubmit => "prompt_submit",
            Action::PromptCancel => "prompt_cancel",
            Action::Seek(_) => "seek",
            Action::SetSpeed(_) => "set_speed",
            Action::SetFilter(_) => "set_filter",
            Action::SetSort(..) => "set_sort",
            Action::SelectStream(_) => "select_stream",
            Action::Tick(_) => "tick",
            Action::Resize(..) => "resize",
            Action::Scroll(..) => "scroll",
            Action::Click(..) => "click",
            Action::Load(_) => "load",
            Action::FollowedClock(_) => "followed_clock",
            Action::Original(..) => "original",
        }
    }

    /// What the action does, for the help overlay and the footer.
    pub fn describe(&self) -> &'static str {
        match self {
            Action::Quit => "quit now",
            Action::Back => "back / close / quit",
            Action::Close => "back / close",
            Action::ToggleHelp => "this help",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Open => "open",
            Action::TogglePlay => "play / pause",
            Action::StepForward => "step to the next event",
            Action::StepBack => "step to the previous event",
            Action::Slower => "slower",
            Action::Faster => "faster",
            Action::Rewind => "rewind to before the first event",
            Action::Drain => "end: replay everything and drain",
            Action::OpenPrompt => "prompt: time, +6h, #id, speed N, filter …",
            Action::OpenSearch => "search",
            Action::SearchNext => "next match",
            Action::SearchPrev => "previous match",
            Action::NextFailure => "next failing stream",
            Action::PrevFailure => "previous failing stream",
            Action::Explain => "explanation ↔ event detail",
            Action::Problems => "load problems and unmatched events",
            Action::ShowProblems => "show load problems and unmatched events",
            Action::SwitchRules => "events and explanation: other rule set",
            Action::Filter => "filter: code, outcome, state, text",
            Action::CycleOutcome => "cycle the outcome filter",
            Action::ClearFilter => "clear the filter",
            Action::CycleSort => "cycle the sort column",
            Action::ReverseSort => "reverse the sort",
            Action::PromptInput(_) => "type",
            Action::PromptBackspace => "delete a character",
            Action::PromptEraseWord => "delete a word",
            Action::PromptEraseLine => "delete the whole input",
            Action::PromptSubmit => "run",
            Action::PromptCancel => "cancel",
            Action::Seek(_) => "move the clock",
            Action::SetSpeed(_) => "set the speed",
            Action::SetFilter(_) => "filter the stream list",
            Action::SetSort(..) => "sort the stream list",
            Action::SelectStream(_) => "select a stream",
            Action::Tick(_) => "advance playback",
            Action::Resize(..) => "resize",
            Action::Scroll(..) => "scroll",
            Action::Click(..) => "select",
            Action::Load(_) => "take what the loader reported",
            Action::FollowedClock(_) => "follow the time-sync clock",
            Action::Original(..) => "show an event's original record",
        }
    }

    /// Whether the action moves the playback clock (refused while following a time-sync clock).
    pub fn moves_clock(&self) -> bool {
        matches!(
            self,
            Action::TogglePlay
                | Action::StepForward
                | Action::StepBack
                | Action::Rewind
                | Action::Drain
                | Action::Seek(_)
        )
    }

    /// A short label for the footer.
    pub fn short(&self) -> &'static str {
        match self {
            Action::Back => "back",
            Action::Close => "back",
            Action::ToggleHelp => "help",
            Action::NextPane => "pane",
            Action::Open => "open",
            Action::TogglePlay => "play",
            Action::OpenPrompt => "goto",
            Action::OpenSearch => "search",
            Action::NextFailure => "next fail",
            Action::Explain => "explain",
            Action::Problems => "problems",
            Action::Filter => "filter",
            Action::CycleOutcome => "outcome",
            Action::CycleSort => "sort",
            Action::StepForward => "step",
            Action::Faster => "faster",
            Action::Slower => "slower",
            Action::PromptSubmit => "run",
            Action::PromptCancel => "cancel",
            other => other.name(),
        }
    }
}
