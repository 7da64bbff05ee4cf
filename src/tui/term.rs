//! The terminal side: raw mode and the alternate screen, restored on exit, on
//! error and on panic (docs/ui.md#terminal-hygiene), and the event loop that turns keys, mouse,
//! resizes and wall time into actions.

use super::action::Action;
use super::app::{App, Options};
use super::clocksync::{ClockOptions, ClockSync};
use super::load::{guarded, Loader};
use super::types::Request;
use super::view;
use crate::archive::LoadOptions;
use anyhow::{Context as _, Result};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent};
use ratatui::crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use std::io::{self, Stdout};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whether the terminal is in the app's mode, so that restoring happens once.
static ACTIVE: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set on the thread that owns the terminal.
    static UI_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Put the terminal back as it was. Safe to call any number of times.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(io::stdout(), DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    }
}

/// Owns the terminal's mode; dropping it restores the terminal.
struct Guard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Guard {
    fn enter() -> Result<Guard> {
        // A panic restores the terminal before its message is printed.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if ACTIVE.load(Ordering::SeqCst) && !UI_THREAD.with(|u| u.get()) {
                // A worker's panic is caught and reported by the app after the terminal is restored.
                return;
            }
            restore();
            previous(info);
        }));
        UI_THREAD.with(|u| u.set(true));
        terminal::enable_raw_mode()
            .context("the interactive replay needs a terminal (use `usage-replay audit` in scripts)")?;
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, cursor::Hide) {
            restore();
            return Err(e).context("setting up the terminal");
        }
        let terminal = match Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e).context("setting up the terminal");
            }
        };
        Ok(Guard { terminal })
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// How long to wait for input between frames.
fn frame_wait(app: &App) -> Duration {
    if app.playback.playing {
        Duration::from_millis(33)
    } else if app.is_loading() {
        Duration::from_millis(50)
    } else if app.list_pending() {
        // A list built in the background shows as soon as it is ready.
        Duration::from_millis(10)
    } else {
        Duration::from_millis(250)
    }
}

/// Whether the terminal behind `fd` has hung up (or is no longer valid).
fn hung_up(fd: &impl std::os::fd::AsFd) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let now = Timespec { tv_sec: 0, tv_nsec: 0 };
    poll(&mut fds, Some(&now)).is_ok() && fds[0].revents().intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
}

/// A terminate, interrupt, hang-up or quit signal sets `signal`; the event loop then
/// restores the terminal and returns. Should the loop not get there (a read
/// of a terminal that went away can spin inside the terminal library), the
/// process ends anyway, a second later, with the same status. A terminal
/// that hangs up without a signal reaching the process counts as a hang-up.
fn watch_signals(signal: Arc<AtomicUsize>, input_is_tty: bool) -> Result<()> {
    let end = move |signal: &AtomicUsize, sig: i32| {
        signal.store(sig as usize, Ordering::Relaxed);
        std::thread::sleep(Duration::from_secs(1));
        restore();
        std::process::exit(128 + sig);
    };
    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGQUIT]).context("handling signals")?;
    let on_signal = Arc::clone(&signal);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                end(&on_signal, sig);
            }
        })
        .context("handling signals")?;
    if input_is_tty {
        std::thread::Builder::new()
            .name("hang-up".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(500));
                if hung_up(&io::stdin()) {
                    end(&signal, SIGHUP);
                }
            })
            .context("watching the terminal")?;
    }
    Ok(())
}

/// Run the interactive replay over `paths` until the user quits, publishing
/// or following the time-sync clock as `clock` says. Returns the exit
/// status: 0, 2 when no input could be loaded, or 128 + the signal's number
/// when a terminate, interrupt, hang-up or quit signal ended it.
pub fn run(paths: Vec<PathBuf>, opts: Options, clock: ClockOptions) -> Result<i32> {
    run_source(Source::Paths(paths, LoadOptions::default()), opts, clock)
}

/// What the interactive replay opens.
#[derive(Debug, Clone)]
pub enum Source {
    /// Archives, loaded with these options (the instance and tenant filter).
    Paths(Vec<PathBuf>, LoadOptions),
    /// The built-in demo archive (docs/ui.md#the-demo).
    Demo,
    /// The built-in demo with its guided tour.
    DemoTour,
}

/// The header note of the demo: what it is, and how to open an archive of your own.
pub const DEMO_NOTICE: &str = "demo: a built-in archive · your own: usage-replay PATH… (q quits)";

/// [`run`] over any [`Source`].
pub fn run_source(source: Source, opts: Options, clock: ClockOptions) -> Result<i32> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() {
        anyhow::bail!("the interactive replay needs a terminal (use `usage-replay audit` in scripts and pipes)");
    }
    let inputs: Vec<String> = match &source {
        Source::Paths(paths, _) => paths.iter().map(|p| p.display().to_string()).collect(),
        Source::Demo | Source::DemoTour => vec![crate::demo::NAME.to_string()],
    };
    let mut app = App::new_loading(inputs, opts);
    if matches!(source, Source::Demo | Source::DemoTour) {
        app.notice = Some(DEMO_NOTICE.to_string());
    }
    if matches!(source, Source::DemoTour) {
        app.start_tour();
    }
    // Before the terminal is touched, so that an address in use is a plain error.
    let sync = ClockSync::start(&clock)?;
    sync.attach(&mut app);
    let mut guard = Guard::enter()?;
    let size = guard.terminal.size().context("reading the terminal size")?;
    app.update(Action::Resize(size.width, size.height));
    // The first frame goes out before anything is read.
    guard.terminal.draw(|f| view::render(&app, f)).context("drawing")?;
    // A terminate, interrupt, hang-up or quit signal ends the session like `Q`: the
    // terminal is restored, and the exit status says which signal it was.
    let signal = Arc::new(AtomicUsize::new(0));
    // A terminal that goes away is a hang-up, watched off the loop: reading it
    // can spin inside the terminal library and never come back to the loop.
    watch_signals(Arc::clone(&signal), io::stdin().is_terminal())?;
    let signalled = || signal.load(Ordering::Relaxed);
    let loader = match source {
        Source::Paths(paths, options) => Loader::spawn_with(paths, options),
        Source::Demo | Source::DemoTour => Loader::spawn_demo(),
    }
    .context("starting the loader")?;
    let (orig_tx, orig_rx) = mpsc::channel::<((bool, u32), Result<String, String>)>();
    let mut last = Instant::now();
    loop {
        let mut dirty = false;
        while let Ok(ev) = loader.events.try_recv() {
            app.update(Action::Load(ev));
            dirty = true;
        }
        while let Ok((event, text)) = orig_rx.try_recv() {
            app.update(Action::Original(event, text));
            dirty = true;
        }
        dirty |= sync.follow(&mut app);
        if app.should_quit() || signalled() != 0 {
            break;
        }
        // A followed time shows within one poll, keys or not.
        let wait = sync.max_wait().map_or(frame_wait(&app), |poll| poll.min(frame_wait(&app)));
        if event::poll(wait).context("reading the terminal")? {
            // Take every pending input before drawing again.
            loop {
                match event::read().context("reading the terminal")? {
                    TermEvent::Key(k) => app.handle_key(k),
                    TermEvent::Mouse(m) => app.handle_mouse(m),
                    TermEvent::Resize(w, h) => app.update(Action::Resize(w, h)),
                    _ => {}
                }
                dirty = true;
                if app.should_quit() || !event::poll(Duration::ZERO).context("reading the terminal")? {
                    break;
                }
            }
        }
        let now = Instant::now();
        let moving = app.playback.playing;
        let building = app.list_pending();
        app.update(Action::Tick(now - last));
        last = now;
        sync.publish(&app);
        dirty |= moving || app.is_loading() || (building && !app.list_pending());
        for r in app.take_requests() {
            match r {
                Request::Original { event, other } => {
                    let (Some(d), tx) = (app.data(), orig_tx.clone()) else { continue };
                    let archive = Arc::clone(&d.archive);
                    std::thread::spawn(move || {
                        // The second rule set's events come from the same records: the first archive re-reads them.
                        let events =
                            if other { archive.alt.as_deref().map(|a| &a.events) } else { Some(&archive.events) };
                        let text = guarded(|| match events.and_then(|v| v.get(event as usize)) {
                            Some(e) => archive.original(&e.origin),
                            None => Err("no such event".into()),
                        })
                        .and_then(|r| r);
                        let _ = tx.send(((other, event), text));
                    });
                }
            }
        }
        if app.should_quit() || signalled() != 0 {
            break;
        }
        if dirty {
            guard.terminal.draw(|f| view::render(&app, f)).context("drawing")?;
        }
    }
    loader.cancel();
    drop(guard);
    if let sig @ 1.. = signalled() {
        return Ok(128 + sig as i32);
    }
    if let Some(e) = &app.failure {
        eprintln!("usage-replay: {}", crate::text::sanitize(e));
        return Ok(2);
    }
    Ok(0)
}
