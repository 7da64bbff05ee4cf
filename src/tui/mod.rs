//! The interactive replay (docs/ui.md#panes): a terminal UI over the engine.
//!
//! The engine does all domain work; this module turns keys into [`Action`]s
//! ([`keymap`]), applies them to the [`App`] state ([`app`]), and draws the
//! state ([`view`], one module per pane). The playback clock ([`playback`]) is
//! moved only by explicit ticks, and the state at the clock is read from the
//! engine's [`Timeline`](crate::replay::Timeline), so tests drive everything
//! in-process and render into ratatui's `TestBackend`. [`term`] owns the real
//! terminal and the event loop; [`load`] reads the archive in the background;
//! [`clocksync`] publishes or follows the time-sync clock (docs/timesync.md#protocol).

pub mod action;
pub mod app;
pub mod clocksync;
pub mod content;
pub mod data;
pub mod index;
pub mod keymap;
pub mod layout;
pub mod load;
pub mod playback;
pub mod prompt;
pub mod term;
pub mod theme;
pub mod tour;
pub mod types;
pub mod view;

pub use action::Action;
pub use app::{App, Options};
pub use term::{run, run_source, Source, DEMO_NOTICE};
pub use types::{ExternalClock, Pane, Seek};
pub use view::render;
