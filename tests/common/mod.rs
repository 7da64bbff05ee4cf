//! Running the real binary from the integration tests.

// Each test crate uses only part of it.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::Path;

/// What one run of the binary printed.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Run the binary in `dir` (paths in messages stay short), with `stdin` if
/// given; nothing may ever panic, and a hang fails the test instead of
/// stalling the suite.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let mut cmd = Command::cargo_bin("usage-replay").expect("the binary is built");
    cmd.current_dir(dir).args(args).timeout(std::time::Duration::from_secs(300));
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    let out = cmd.output().expect("the binary runs");
    let run = Run {
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        code: out.status.code().expect("the binary exits normally"),
    };
    for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
        assert!(!run.stderr.contains(bad), "{args:?}: stderr shows {bad:?}:\n{}", run.stderr);
    }
    run
}

/// Run the binary from the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, None)
}

/// Type `line` at the `:` prompt and run it, as a user would.
pub fn command(app: &mut usage_replay::tui::App, line: &str) {
    use usage_replay::tui::Action;
    app.update(Action::OpenPrompt);
    for c in line.chars() {
        app.update(Action::PromptInput(c));
    }
    app.update(Action::PromptSubmit);
}

/// An HTTP client for the time-sync tests: statuses are answers, not
/// errors; no proxy; a request that gets no answer within `timeout` fails.
pub fn agent(timeout: std::time::Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
}

/// The app shows exactly the engine's state at its clock: an independent
/// replay of every event up to it, then advance (docs/streams.md#seeking),
/// agrees with the timeline's state of every stream, the counts, and what
/// the list holds.
pub fn assert_matches_engine(app: &usage_replay::tui::App) {
    use usage_replay::pipeline::IdMode;
    use usage_replay::replay::Replay;
    let d = app.data().expect("loaded");
    let clock = app.playback.clock;
    let mut r = Replay::new(&d.archive, IdMode::Stable);
    r.seek_forward(clock);
    let fresh = r.streams();
    assert_eq!(d.timeline.streams_at(clock), fresh.len(), "streams at {clock:?}");
    for s in &d.timeline.streams()[..fresh.len()] {
        let at = d.timeline.stream_at(s, clock).expect("exists");
        let f = &fresh[s.id as usize - 1];
        assert_eq!((at.state, at.outcome, at.events), (f.state, f.outcome(), f.events.len()), "#{} at {clock:?}", s.id);
    }
    let c = app.counts();
    assert_eq!(c.events, r.position());
    assert_eq!(c.streams, fresh.len());
    assert_eq!(app.rows().len(), fresh.len(), "the list shows every existing stream");
}

/// Draw the whole screen at `w`×`h`, as a terminal of that size shows it.
pub fn frame(app: &mut usage_replay::tui::App, w: u16, h: u16) -> String {
    use ratatui::{backend::TestBackend, Terminal};
    app.update(usage_replay::tui::Action::Resize(w, h));
    app.fulfil_requests();
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    term.draw(|f| usage_replay::tui::render(app, f)).expect("draw");
    term.backend().to_string()
}

/// Press a character key.
pub fn key(app: &mut usage_replay::tui::App, c: char) {
    code(app, ratatui::crossterm::event::KeyCode::Char(c));
}

/// Press a key without modifiers.
pub fn code(app: &mut usage_replay::tui::App, k: ratatui::crossterm::event::KeyCode) {
    use ratatui::crossterm::event::{KeyEvent, KeyModifiers};
    app.handle_key(KeyEvent::new(k, KeyModifiers::NONE));
}
