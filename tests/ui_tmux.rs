//! The real binary in a real terminal: tmux runs the interactive replay on a
//! small archive, keys are sent with `send-keys` and the screen read with
//! `capture-pane` (docs/ui.md#panes). Skipped, with a message, where tmux is absent.

mod common;

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

    /// A session `main` of `w`×`h` running a plain bash with the prompt `$ `.
    fn shell(&self, w: u16, h: u16, env: &str) {
        let (w, h) = (w.to_string(), h.to_string());
        let shell = format!("env {env} LANG=C.UTF-8 TERM=xterm-256color PS1='$ ' bash --norc --noprofile");
        let out = self.cmd(&["new-session", "-d", "-s", "main", "-x", &w, "-y", &h, &shell]);
        assert!(out.status.success(), "new-session: {}", String::from_utf8_lossy(&out.stderr));
        self.wait_for("the shell prompt", |s| s.contains("$"));
    }

    /// Whether the terminal is back in cooked mode with echo: what `stty` says.
    fn assert_cooked(&self) {
        self.keys(&[
            "stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo",
            "Enter",
        ]);
        let s = self.wait_for("stty", |s| s.lines().any(|l| l.contains("icanon") && !l.contains("grep")));
        let line = s.lines().find(|l| l.contains("icanon") && !l.contains("grep")).unwrap_or_default();
        assert_eq!(line.trim(), "icanon echo", "{s}");
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

/// Where tmux is absent (CI installs it), a test says so and passes.
fn skipped_without_tmux(test: &str) -> bool {
    let available = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("SKIPPED {test}: tmux is not installed (CI installs it)");
    }
    !available
}

const BIN: &str = env!("CARGO_BIN_EXE_usage-replay");
const MIXED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ui/mixed.jsonl");

#[test]
fn interactive_session_in_tmux() {
    if skipped_without_tmux("interactive_session_in_tmux") {
        return;
    }
    let (bin, fixture) = (BIN, MIXED);
    let t = Tmux::new();
    t.shell(120, 40, "-u NO_COLOR");
    t.keys(&[&format!("'{bin}' '{fixture}'; echo DONE-$?"), "Enter"]);

    // The streams, at the end of the replay.
    let s = t.wait_for("the stream list", |s| s.contains("Streams 8/8") && s.contains("drained"));
    assert!(s.contains("#6 1c0ffee3-7a5e-4b1d-9c3e-5e1ec7ab1e03 2014-10-06 completed    U0"), "{s}");

    // To the second failing stream, then its explanation.
    t.keys(&["e", "e"]);
    t.wait_for("stream #5 selected", |s| s.contains("▸#5") && s.contains("Explanation 2014 of #5"));
    t.keys(&["x"]);
    let s = t.wait_for("the explanation focused", |s| s.contains("Tab pane"));
    assert!(s.contains("Conflicting 'instance_type_id' values ('3' != '2')"), "{s}");
    assert!(s.contains("U2 — conflicting instance_type_id"), "{s}");

    // Play from the start, then pause.
    t.keys(&["Home"]);
    t.wait_for("the rewind", |s| s.contains("before the first event"));
    t.keys(&["Space"]);
    t.wait_for("playing", |s| s.contains("▶ playing"));
    // Poll until the clock has left the start, rather than sleeping a fixed time.
    t.wait_for("the clock moving", |s| !s.contains("before the first event"));
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
    t.assert_cooked();
}

/// Run the replay of `input` under the shell, wait until the screen shows
/// `ready`, send it `signal` as a service manager or `kill` would, and check
/// that it ends with `status` and the terminal restored.
fn signal_restores_the_terminal(t: &Tmux, input: &str, ready: &str, signal: &str, status: i32) {
    let bin = BIN;
    t.keys(&[&format!("'{bin}' '{input}'; echo DONE-$?"), "Enter"]);
    t.wait_for(ready, |s| s.contains(ready));
    // The replay is the shell's child.
    let shell = String::from_utf8_lossy(&t.cmd(&["display-message", "-p", "-t", "main", "#{pane_pid}"]).stdout)
        .trim()
        .to_string();
    let children =
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).expect("the shell's children");
    let replay = children
        .split_whitespace()
        .find(|c| std::fs::read_to_string(format!("/proc/{c}/comm")).is_ok_and(|n| n.trim() == "usage-replay"))
        .expect("the replay runs under the shell");
    let killed = Command::new("kill").args([&format!("-{signal}"), replay]).status().expect("kill runs");
    assert!(killed.success(), "kill -{signal} {replay}");
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == format!("DONE-{status}")), "128 + SIG{signal}:\n{s}");
    assert!(!s.contains(ready), "the alternate screen is gone:\n{s}");
    t.assert_cooked();
    // The mouse reporting and the hidden cursor were turned off too: what the pane says of its modes.
    let modes = t.cmd(&[
        "display-message",
        "-p",
        "-t",
        "main",
        "#{mouse_any_flag}#{mouse_button_flag}#{cursor_flag}#{alternate_on}",
    ]);
    assert_eq!(String::from_utf8_lossy(&modes.stdout).trim(), "0010", "mouse off, cursor shown, main screen");
}

#[test]
fn a_terminate_signal_restores_the_terminal() {
    if skipped_without_tmux("a_terminate_signal_restores_the_terminal") {
        return;
    }
    let t = Tmux::new();
    t.shell(100, 30, "");
    signal_restores_the_terminal(&t, MIXED, "Streams 8/8", "TERM", 143);
}

#[test]
fn an_interrupt_signal_restores_the_terminal_after_and_during_the_load() {
    if skipped_without_tmux("an_interrupt_signal_restores_the_terminal_after_and_during_the_load") {
        return;
    }
    let t = Tmux::new();
    // Whatever the replay spools goes here, and nothing of it may stay.
    let tmp = tempfile::tempdir().expect("a temp dir");
    t.shell(100, 30, &format!("TMPDIR='{}'", tmp.path().display()));
    signal_restores_the_terminal(&t, MIXED, "Streams 8/8", "INT", 130);
    // A pipe that stays open without ever ending: the replay is still loading it.
    let fifo = t.dir.path().join("slow.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let fifo = fifo.to_str().expect("a UTF-8 path");
    t.keys(&["clear", "Enter"]);
    t.keys(&[&format!("sleep 60 > '{fifo}' & clear"), "Enter"]);
    signal_restores_the_terminal(&t, fifo, "Loading", "INT", 130);
    let left: Vec<_> =
        std::fs::read_dir(tmp.path()).expect("the temp dir").map(|e| e.expect("entry").file_name()).collect();
    assert!(left.is_empty(), "left in $TMPDIR: {left:?}");
}

#[test]
fn the_replay_ends_when_its_terminal_goes_away() {
    if skipped_without_tmux("the_replay_ends_when_its_terminal_goes_away") {
        return;
    }
    let (bin, fixture) = (BIN, MIXED);
    let t = Tmux::new();
    let (w, h) = ("100".to_string(), "30".to_string());
    let cmd = format!("exec env TERM=xterm-256color '{bin}' '{fixture}'");
    let out = t.cmd(&["new-session", "-d", "-s", "main", "-x", &w, "-y", &h, &cmd]);
    assert!(out.status.success(), "new-session: {}", String::from_utf8_lossy(&out.stderr));
    t.wait_for("the stream list", |s| s.contains("Streams 8/8"));
    let pid = String::from_utf8_lossy(&t.cmd(&["display-message", "-p", "-t", "main", "#{pane_pid}"]).stdout)
        .trim()
        .to_string();
    // The window closes: the terminal hangs up under the replay.
    let _ = t.cmd(&["kill-server"]);
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|st| st.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(), "the replay {pid} still runs after its terminal went away");
}

#[test]
fn unreadable_input_exits_with_status_2() {
    if skipped_without_tmux("unreadable_input_exits_with_status_2") {
        return;
    }
    let bin = BIN;
    let t = Tmux::new();
    t.shell(100, 30, "");
    t.keys(&[&format!("'{bin}' /nonexistent/archive.jsonl; echo DONE-$?"), "Enter"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-2"), "{s}");
    assert!(s.contains("usage-replay: no readable input"), "{s}");
}

#[test]
fn with_no_path_a_terminal_opens_the_demo() {
    if skipped_without_tmux("with_no_path_a_terminal_opens_the_demo") {
        return;
    }
    let bin = BIN;
    let t = Tmux::new();
    t.shell(160, 40, "-u NO_COLOR");
    for command in [format!("'{bin}'"), format!("'{bin}' demo")] {
        t.keys(&[&format!("{command}; echo DONE-$?"), "Enter"]);
        let s = t.wait_for("the demo at its end", |s| s.contains("drained") && s.contains("┌ Streams"));
        assert!(s.contains("demo: a built-in archive · your own: usage-replay PATH…"), "{s}");
        // Every outcome and code is in the header's counts.
        for word in ["ok ", "failed ", "ERR ", "U0 ", "U1 ", "U2 ", "U3 ", "U4 ", "U5 ", "U6 ", "U7 ", "U8 "] {
            assert!(s.contains(word), "{word:?} in:\n{s}");
        }
        assert!(s.contains("1 rejected · 1 duplicate"), "{s}");
        t.keys(&["q"]);
        let s = t.wait_for("the exit", exited);
        assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");
        t.keys(&["clear", "Enter"]);
        t.wait_for("a clear screen", |s| !exited(s));
    }
    // Without a terminal, no path is the usage and status 2.
    let out = Command::new(bin).stdin(std::process::Stdio::null()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: usage-replay [OPTIONS] [PATH]..."));
}

#[test]
fn demo_tour_plays_then_any_key_hands_over_and_q_quits() {
    if skipped_without_tmux("demo_tour_plays_then_any_key_hands_over_and_q_quits") {
        return;
    }
    let bin = BIN;
    let t = Tmux::new();
    t.shell(140, 40, "-u NO_COLOR");
    t.keys(&[&format!("'{bin}' demo --tour; echo DONE-$?"), "Enter"]);
    // The tour stops at a decided stream: the footer names it and the list selects it.
    let s = t.wait_for("a stop of the tour", |s| s.contains(" decided 2014-") && s.contains("tour 2/"));
    let caption = s.lines().find(|l| l.contains("tour 2/")).unwrap_or_default();
    let id = caption.split('#').nth(1).and_then(|r| r.split(' ').next()).expect("a stream id");
    assert!(s.lines().any(|l| l.contains(&format!("▸#{id} "))), "#{id} is selected:\n{s}");
    // Any key leaves the tour, the replay stays open.
    t.keys(&["j"]);
    let s = t.wait_for("the end of the tour", |s| s.contains("tour ended: the replay is yours"));
    assert!(!s.lines().any(|l| l.starts_with(" tour ")), "{s}");
    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");
    // q during the tour quits at once.
    t.keys(&["clear", "Enter"]);
    t.wait_for("a clear screen", |s| !exited(s));
    t.keys(&[&format!("'{bin}' demo --tour; echo DONE-$?"), "Enter"]);
    t.wait_for("the tour", |s| s.contains("tour 1/") || s.contains("tour 2/"));
    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");
}

/// A child process killed (and reaped) however the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on right now: bound on 127.0.0.1:0, then released.
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("address").port()
}

/// `GET /time` at `port`: status and body.
fn get_time(a: &ureq::Agent, port: u16) -> Result<(u16, String), ureq::Error> {
    let mut r = a.get(format!("http://127.0.0.1:{port}/time")).call()?;
    Ok((r.status().as_u16(), r.body_mut().read_to_string()?))
}

fn post_time(a: &ureq::Agent, port: u16, body: &str) -> u16 {
    a.post(format!("http://127.0.0.1:{port}/time")).send(body).expect("the server answers").status().as_u16()
}

#[test]
fn publish_and_follow_the_clock_in_tmux() {
    if skipped_without_tmux("publish_and_follow_the_clock_in_tmux") {
        return;
    }
    let (bin, fixture) = (BIN, MIXED);
    let a = common::agent(Duration::from_secs(10));

    // A drop-in time service with a time posted by a real client.
    let service = free_port();
    let mut server = Child(
        Command::new(bin)
            .args(["time-server", "--listen", &format!("127.0.0.1:{service}")])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("time-server starts"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while get_time(&a, service).is_err() {
        assert!(Instant::now() < deadline, "the time service never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(post_time(&a, service, "2014-10-06 14:00:00.000000"), 200);

    let t = Tmux::new();
    t.shell(120, 40, "");

    // Follow: the header shows the published time, and follows it backwards.
    t.keys(&[
        &format!("'{bin}' --follow-clock http://127.0.0.1:{service} --poll 0.2 '{fixture}'; echo DONE-$?"),
        "Enter",
    ]);
    t.wait_for("the followed time", |s| {
        s.contains("2014-10-06 14:00:00Z UTC") && s.contains("⇄ following the time-sync service")
    });
    assert_eq!(post_time(&a, service, "2014-10-06 08:00:00"), 200);
    let s = t.wait_for("the followed time, backwards", |s| s.contains("2014-10-06 08:00:00Z UTC"));
    assert!(s.contains("Streams 2/2"), "{s}");
    t.keys(&["Space"]);
    t.wait_for("the refusal", |s| s.contains("playback keys are off while following the time-sync clock"));
    // The service goes away: said in the header, and the UI still answers keys.
    let _ = server.0.kill();
    let _ = server.0.wait();
    t.wait_for("the unreachable service", |s| s.contains("time-sync unavailable, retrying: cannot reach"));
    t.keys(&["j"]);
    t.wait_for("the selection moved", |s| s.contains("▸#2"));
    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");

    // Publish: GET /time answers the UI's clock as it moves.
    t.keys(&["clear", "Enter"]);
    t.wait_for("a clear screen", |s| !exited(s));
    let clock = free_port();
    let (archive, timeline) = {
        let archive = usage_replay::archive::Archive::load(&[fixture.into()], |_| true).expect("the fixture loads");
        let timeline = usage_replay::replay::Timeline::build(&archive, usage_replay::pipeline::IdMode::Stable);
        (std::sync::Arc::new(archive), std::sync::Arc::new(timeline))
    };
    let end = usage_replay::tui::App::new_loaded(archive, timeline, usage_replay::tui::Options::default()).clock();
    t.keys(&[&format!("'{bin}' --publish-clock 127.0.0.1:{clock} '{fixture}'; echo DONE-$?"), "Enter"]);
    t.wait_for("publishing", |s| {
        s.contains(&format!("publishing clock on 127.0.0.1:{clock}")) && s.contains("drained")
    });
    assert_eq!(get_time(&a, clock).expect("the UI serves its clock"), (200, end.wire()));
    t.keys(&["Home"]);
    t.wait_for("the rewind", |s| s.contains("before the first event"));
    assert_eq!(get_time(&a, clock).expect("answers").1, "2014-10-06 06:59:59.999999");
    t.keys(&[":", "2014-10-06 12:00", "Enter"]);
    t.wait_for("the goto", |s| s.contains("2014-10-06 12:00:00Z UTC"));
    assert_eq!(get_time(&a, clock).expect("answers").1, "2014-10-06 12:00:00.000000");
    assert_eq!(post_time(&a, clock, "2001-01-01 00:00:00"), 409);
    assert_eq!(get_time(&a, clock).expect("answers").1, "2014-10-06 12:00:00.000000");

    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "{s}");
    assert!(get_time(&a, clock).is_err(), "the clock server stops with the UI");
    // The shell is usable and the terminal back in cooked mode.
    t.keys(&["stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo", "Enter"]);
    let s = t.wait_for("stty", |s| s.lines().any(|l| l.contains("icanon") && !l.contains("grep")));
    let line = s.lines().find(|l| l.contains("icanon") && !l.contains("grep")).unwrap_or_default();
    assert_eq!(line.trim(), "icanon echo", "{s}");
}

#[test]
fn quitting_during_the_load_of_a_pipe_leaves_nothing_in_tmpdir() {
    if skipped_without_tmux("quitting_during_the_load_of_a_pipe_leaves_nothing_in_tmpdir") {
        return;
    }
    let t = Tmux::new();
    // Whatever the replay spools goes here, and nothing of it may stay.
    let tmp = tempfile::tempdir().expect("a temp dir");
    t.shell(100, 30, &format!("TMPDIR='{}'", tmp.path().display()));
    let fifo = t.dir.path().join("open.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let fifo = fifo.to_str().expect("a UTF-8 path");
    // A pipe that has written a day of records and stays open: the replay has spooled
    // them and is still loading when `q` is pressed.
    t.keys(&[&format!("(cat '{MIXED}'; sleep 60) > '{fifo}' & clear"), "Enter"]);
    t.keys(&[&format!("'{BIN}' '{fifo}'; echo DONE-$?"), "Enter"]);
    t.wait_for("the load", |s| s.contains("Loading"));
    t.keys(&["q"]);
    let s = t.wait_for("the exit", exited);
    assert!(s.lines().any(|l| l.trim_end() == "DONE-0"), "q ends the replay:\n{s}");
    t.assert_cooked();
    let left: Vec<_> =
        std::fs::read_dir(tmp.path()).expect("the temp dir").map(|e| e.expect("entry").file_name()).collect();
    assert!(left.is_empty(), "left in $TMPDIR: {left:?}");
}
