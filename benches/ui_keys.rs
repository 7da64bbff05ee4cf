//! Key-press-to-frame time of the interactive replay, measured in-process:
//! load an archive, then for each key apply it and render a 120×40 frame into
//! ratatui's TestBackend, as the event loop does after every input.
//!
//!     cargo bench --bench ui_keys -- ARCHIVE…
//!
//! Without arguments it uses the small UI fixture. The archive is loaded as the
//! interactive replay loads it by default, under both rule sets (docs/ui.md#two-rule-sets);
//! `--rules=2014` (or `2015`) loads one, for comparison.

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use usage_replay::archive::{Archive, LoadOptions};
use usage_replay::rules::Rules;
use usage_replay::tui::app::{App, Options};
use usage_replay::tui::load::data_of;
use usage_replay::tui::{prompt, render, Action};

fn main() {
    let mut paths: Vec<PathBuf> =
        std::env::args().skip(1).filter(|a| !a.starts_with("--")).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(PathBuf::from("tests/fixtures/ui/mixed.jsonl"));
    }
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test terminal");

    // The first frame is the loading screen, drawn before anything is read.
    let t0 = Instant::now();
    let loading = App::new_loading(paths.iter().map(|p| p.display().to_string()).collect(), Options::default());
    term.draw(|f| render(&loading, f)).expect("draw");
    println!("first frame (loading screen): {:?}", t0.elapsed());

    let t = Instant::now();
    let rules = std::env::args()
        .find_map(|a| a.strip_prefix("--rules=").map(str::to_string))
        .map_or(Some(Rules::Both), |r| Rules::parse(&r))
        .unwrap_or_else(|| {
            eprintln!("--rules= takes 2014, 2015 or both");
            std::process::exit(2);
        });
    let options = LoadOptions { rules, ..Default::default() };
    let archive = match Archive::load_with(&paths, options, |_| true) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot load: {e}");
            std::process::exit(2);
        }
    };
    let load = t.elapsed();
    let t = Instant::now();
    let data = data_of(archive);
    let build = t.elapsed();
    println!(
        "archive: {} events, {} streams (2015: {}); load {:?}, timelines, pairing and derived data {:?}",
        data.archive.events.len(),
        data.timeline.streams().len(),
        data.other.as_ref().map_or(0, |o| o.timeline.streams().len()),
        load,
        build
    );
    let t = Instant::now();
    let mut app = App::new_with_data(Arc::new(data), Options::default());
    app.update(Action::Resize(120, 40));
    term.draw(|f| render(&app, f)).expect("draw");
    println!("first frame of the loaded replay: {:?} (index, histogram, first draw)", t.elapsed());

    // Seeking: to the middle of the archive (in events) and back to its first quarter.
    let (mid, quarter) = {
        let d = app.data().expect("loaded");
        let n = d.archive.events.len();
        (d.archive.events[n / 2].timestamp.iso(), d.archive.events[n / 4].timestamp.iso())
    };
    let cases: Vec<(&str, Vec<Input>)> = vec![
        (
            "seek to the middle (: TIME)",
            vec![Input::Untimed(KeyCode::Esc), Input::Command(prompt::parse(&mid).expect("a time"))],
        ),
        ("seek back to the first quarter", vec![Input::Command(prompt::parse(&quarter).expect("a time"))]),
        ("j (next stream)", vec![Input::Key(KeyCode::Char('j'))]),
        ("k (previous stream)", vec![Input::Key(KeyCode::Char('k'))]),
        ("PgDn", vec![Input::Key(KeyCode::PageDown)]),
        ("G (last stream)", vec![Input::Key(KeyCode::Char('G'))]),
        ("g (first stream)", vec![Input::Key(KeyCode::Char('g'))]),
        ("e (next failing stream)", vec![Input::Key(KeyCode::Char('e'))]),
        ("x (explanation)", vec![Input::Key(KeyCode::Char('x')), Input::Key(KeyCode::Char('x'))]),
        ("r (the other rule set's events, explanation)", vec![Input::Key(KeyCode::Char('r'))]),
        ("Home (rewind)", vec![Input::Key(KeyCode::Home)]),
        (". (step forward)", vec![Input::Key(KeyCode::Char('.'))]),
        ("End (drain)", vec![Input::Key(KeyCode::End)]),
        (", (step back)", vec![Input::Key(KeyCode::Char(','))]),
        ("o (outcome filter: rebuilds the list)", vec![Input::Untimed(KeyCode::Esc), Input::Key(KeyCode::Char('o'))]),
        ("s (sort: rebuilds the list)", vec![Input::Key(KeyCode::Char('s'))]),
        ("j in a filtered, sorted list", vec![Input::Key(KeyCode::Char('j'))]),
        ("tick while playing ×3600 (33 ms), filtered", vec![Input::Play]),
        ("F (clear the filter)", vec![Input::Key(KeyCode::Char('F'))]),
        (
            "filter triage:2014-only (rebuilds the list)",
            vec![
                Input::Command(prompt::parse("filter triage:2014-only").expect("a filter")),
                Input::Command(prompt::parse("filter").expect("no filter")),
            ],
        ),
        ("tick while playing ×3600 (33 ms)", vec![Input::Play]),
    ];
    for (name, inputs) in cases {
        let mut times: Vec<Duration> = Vec::new();
        // docs/ui.md#large-archives: a list built in the background; when it is on screen.
        let mut ready: Vec<Duration> = Vec::new();
        for _ in 0..30 {
            for input in &inputs {
                if let Input::Untimed(c) = input {
                    // Setting the scene: back to the stream list.
                    app.handle_key(KeyEvent::new(*c, KeyModifiers::NONE));
                    app.handle_key(KeyEvent::new(*c, KeyModifiers::NONE));
                    continue;
                }
                let t = Instant::now();
                match input {
                    Input::Untimed(_) => {}
                    Input::Key(c) => app.handle_key(KeyEvent::new(*c, KeyModifiers::NONE)),
                    Input::Command(a) => app.update(a.clone()),
                    Input::Play => {
                        if !app.playback.playing {
                            app.update(Action::Rewind);
                            app.update(Action::TogglePlay);
                        }
                        app.update(Action::Tick(Duration::from_millis(33)));
                    }
                }
                app.fulfil_requests();
                term.draw(|f| render(&app, f)).expect("draw");
                times.push(t.elapsed());
                if app.list_pending() {
                    while app.list_pending() {
                        std::thread::sleep(Duration::from_micros(200));
                        app.update(Action::Tick(Duration::ZERO));
                    }
                    term.draw(|f| render(&app, f)).expect("draw");
                    ready.push(t.elapsed());
                }
            }
        }
        if app.playback.playing {
            app.update(Action::TogglePlay);
        }
        times.sort();
        println!(
            "{name:<40} median {:>10?}  p90 {:>10?}  max {:>10?}",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            times[times.len() - 1]
        );
        if !ready.is_empty() {
            ready.sort();
            println!(
                "{:<40} median {:>10?}  p90 {:>10?}  max {:>10?}  ({} of {} built in the background)",
                "  … the new list on screen",
                ready[ready.len() / 2],
                ready[ready.len() * 9 / 10],
                ready[ready.len() - 1],
                ready.len(),
                times.len()
            );
        }
    }
}

enum Input {
    Key(KeyCode),
    /// A line typed at the `:` prompt, parsed beforehand.
    Command(Action),
    Untimed(KeyCode),
    Play,
}
