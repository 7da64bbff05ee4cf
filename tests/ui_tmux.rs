//! The real binary in a real terminal: tmux runs the interactive replay on a
//! small archive, keys are sent with `send-keys` and the screen read with
//! `capture-pane` (SPEC §6). Skipped, with a message, where tmux is absent.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server on its own socket (in a temporary directory, removed with it),
/// killed however the test ends.
struct Tmux {
    dir: tempfile::TempDir,
}

impl Tmux {
    fn new() -> Tmux {
        Tmux { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        let socket = self.dir.path().join("tmux.sock");
        Command::new("tmux").arg("-S").arg(socket).args(args).output().expect("tmux runs")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        let out = self.cmd(&args);
        assert!(out.status.success(), "send-keys: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    /// Wait until the screen satisfies `what`, or fail showing the screen.
    fn wait_for(&self, label: &str, what: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if what(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {label}; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// The line the shell prints after the binary ends (not the command line that asks for it).
fn exited(screen: &str) -> bool {
    screen.lines().any(|l| l.starts_with("DONE-"))
}

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

#[test]
fn interactive_session_in_tmux() {
    if !tmux_available() {
        eprintln!("SKIPPED interactive_session_in_tmux: tmux is not installed (CI installs it)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_usage-replay");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/mixed.jsonl");
    let t = Tmux::new();
    let out = t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        "120",
        "-y",
        "40",
        "env -u NO_COLOR LANG=C.UTF-8 TERM=xterm-256color PS1='$ ' bash --norc --noprofile",
    ]);
    assert!(out.status.success(), "new-session: {}", String::from_utf8_lossy(&out.stderr));
    t.wait_for("the shell prompt", |s| s.contains("$"));
    t.keys(&[&format!("'{bin}' '{fixture}'; echo DONE-$?"), "Enter"]);

    // The streams, at the end of the replay.
    let s = t.wait_for("the stream list", |s| s.contains("Streams 8/8") && s.contains("drained"));
    assert!(s.contains("#6 1c0ffee3-7a5e-4b1d-9c3e-5e1ec7ab1e03 2014-10-06 completed    U0"), "{s}");

    // To the second failing stream, then its explanation.
    t.keys(&["e", "e"]);
    t.wait_for("stream #5 selected", |s| s.contains("▸#5") && s.contains("Explanation of #5"));
    t.keys(&["x"]);
    let s = t.wait_for("the explanation focused", |s| s.contains("Tab pane"));
    assert!(s.contains("Conflicting 'instance_type_id' values ('3' != '2')"), "{s}");
    assert!(s.contains("U2 — conflicting instance_type_id"), "{s}");

    // Play from the start, then pause.
    t.keys(&["Home"]);
    t.wait_for("the rewind", |s| s.contains("before the first event"));
    t.keys(&["Space"]);
    t.wait_for("playing", |s| s.contains("▶ playing"));
    std::thread::sleep(Duration::from_millis(600));
    t.keys(&["Space"]);
    let s = t.wait_for("paused", |s| s.contains("⏸ paused"));
    assert!(!s.contains("before the first event"), "the clock should have moved:\n{s}");

    // Resizing at any moment never breaks the screen: smaller, too small, and back.
    let resize = |w: &str, h: &str| {
        let out = t.cmd(&["resize-window", "-t", "main", "-x", w, "-y", h]);
        assert!(out.status.success(), "resize-window: {}", String::from_utf8_lossy(&out.stderr));
    };
    resize("80", "24");
    t.wait_for("the compact layout", |s| s.contains("Tab: next pane"));
    resize("40", "10");
    t.wait_for("the too-small notice", |s| s.contains("terminal too small"));
    resize("120", "40");
    t.wait_for("the full layout again", |s| s.contains("┌ Streams") && s.contains("┌ Events"));

    // q goes back to the list, q again quits.
    t.keys(&["q"]);
    t.wait_for("back in the list", |s| s.contains("q quit"));
    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");
    // The alternate screen is gone and the terminal is back in cooked mode.
    assert!(!s.contains("Streams 8/8"), "{s}");
    t.keys(&["stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo", "Enter"]);
    let s = t.wait_for("stty", |s| s.lines().any(|l| l.contains("icanon") && !l.contains("grep")));
    let line = s.lines().find(|l| l.contains("icanon") && !l.contains("grep")).unwrap_or_default();
    assert_eq!(line.trim(), "icanon echo", "{s}");
}

#[test]
fn unreadable_input_exits_with_status_2() {
    if !tmux_available() {
        eprintln!("SKIPPED unreadable_input_exits_with_status_2: tmux is not installed (CI installs it)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_usage-replay");
    let t = Tmux::new();
    let out = t.cmd(&[
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        "100",
        "-y",
        "30",
        "env LANG=C.UTF-8 TERM=xterm-256color PS1='$ ' bash --norc --noprofile",
    ]);
    assert!(out.status.success(), "new-session: {}", String::from_utf8_lossy(&out.stderr));
    t.wait_for("the shell prompt", |s| s.contains("$"));
    t.keys(&[&format!("'{bin}' /nonexistent/archive.jsonl; echo DONE-$?"), "Enter"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-2"), "{s}");
    assert!(s.contains("usage-replay: no readable input"), "{s}");
}
