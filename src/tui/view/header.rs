//! The header: the playback clock (UTC), play/pause and speed, the position
//! and its bar, the streams by outcome, state and code at the clock, the load
//! problems, and feedback (status, time-sync).

use super::{line_fit, num};
use crate::pipeline::Code;
use crate::replay::Outcome;
use crate::text::width;
use crate::tui::app::{App, ExternalClock};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let Some(d) = app.data() else { return };
    let t = app.theme;
    let w = area.width as usize;
    let pb = &app.playback;
    let c = app.counts();
    let total = d.archive.events.len();

    // Line 1: clock, playback, position.
    let (state, state_style) = if pb.playing { ("▶ playing", t.title()) } else { ("⏸ paused ", Style::new()) };
    let clock = if total == 0 {
        "no events".to_string()
    } else if pb.is_drained() {
        format!("{} UTC · drained", pb.shown().short())
    } else if pb.clock <= pb.range.start {
        format!("{} UTC · before the first event", pb.range.start.plus_micros(1).short())
    } else {
        format!("{} UTC", pb.shown().short())
    };
    // The bar gives way first on a narrow terminal, then the word "events".
    let head = format!(" {state} ×{}", pb.speed);
    let mut position = format!(" {}/{} events", num(c.events), num(total));
    let fixed = |pos: &str| width(&head) + 2 + width(&clock) + 2 + width(pos);
    if fixed(&position) + 4 > w {
        position.truncate(position.len() - " events".len());
    }
    let bar_w = 16usize.min(w.saturating_sub(fixed(&position)));
    let bar_w = if bar_w < 4 || total == 0 { 0 } else { bar_w };
    let filled = (c.events * bar_w).checked_div(total).unwrap_or(bar_w);
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(bar_w - filled));
    let l1 = vec![
        (head, state_style),
        ("  ".into(), Style::new()),
        (clock, t.title()),
        ("  ".into(), Style::new()),
        (bar, t.playhead()),
        (position, Style::new()),
    ];
    // Line 2: streams by outcome, by code, by state.
    let o = |x: Outcome| c.outcome[x as usize];
    let mut l2 = vec![
        (format!(" streams {}", num(c.streams)), t.title()),
        (format!("  ok {}", num(o(Outcome::Verified))), t.outcome(Outcome::Verified)),
        (format!("  failed {}", num(o(Outcome::Failed))), t.outcome(Outcome::Failed)),
        (format!("  ERR {}", num(o(Outcome::Error))), t.outcome(Outcome::Error)),
        (format!("  pending {}", num(o(Outcome::Pending))), t.outcome(Outcome::Pending)),
    ];
    let codes: Vec<String> = Code::ALL
        .iter()
        .filter(|&&code| c.by_code[code as usize] > 0)
        .map(|&code| format!("{code} {}", num(c.by_code[code as usize])))
        .collect();
    if !codes.is_empty() {
        l2.push((format!("  │ {}", codes.join(" ")), t.outcome(Outcome::Failed).remove_modifier(Modifier::BOLD)));
    }
    // docs/ui.md#two-rule-sets: the listed streams per triage label at the clock, as the engine counts them.
    if let Some(by_label) = d.triage_counts(pb.clock) {
        let labels: Vec<String> = crate::triage::Triage::ALL
            .iter()
            .filter(|&&l| by_label[l as usize] > 0)
            .map(|&l| format!("{} {}", l.as_str(), num(by_label[l as usize])))
            .collect();
        if !labels.is_empty() {
            l2.push((format!("  │ {}", labels.join(" ")), t.warn().remove_modifier(Modifier::BOLD)));
        }
    }
    // States: all four when they fit, else those that are not zero, else none
    // (they mostly mirror the outcomes, which always show).
    let states =
        [("active", c.active), ("completed", c.completed), ("error", c.error), ("expire_error", c.expire_error)];
    let used: usize = l2.iter().map(|(s, _)| width(s)).sum();
    let all = states.iter().map(|(n, v)| format!("{n} {}", num(*v))).collect::<Vec<_>>().join(" ");
    let nonzero = states.iter().filter(|(_, v)| *v > 0).map(|(n, v)| format!("{n} {}", num(*v))).collect::<Vec<_>>();
    let shown = [all, nonzero.join(" ")].into_iter().find(|x| !x.is_empty() && used + 4 + width(x) <= w);
    if let Some(x) = shown {
        l2.push((format!("  │ {x}"), t.label()));
    }

    // Line 3: feedback first (the answer to the last key, then the time-sync
    // clock, which change), then the load problems (which `p` also browses),
    // so a narrow terminal cuts what is least news.
    let mut feedback = Vec::new();
    if let Some(n) = &app.notice {
        feedback.push((n.clone(), t.label()));
    }
    if let Some(s) = &app.status {
        feedback.push((s.text.clone(), if s.error { t.error() } else { t.title() }));
    }
    match &app.external {
        Some(ExternalClock::Time(_)) => feedback.push(("⇄ following the time-sync service".into(), t.label())),
        Some(ExternalClock::NotPublished) => {
            feedback.push(("⇄ waiting for the time-sync service to publish a time".into(), t.warn()))
        }
        Some(ExternalClock::Unavailable(e)) => {
            feedback.push((format!("⇄ time-sync unavailable, retrying: {}", crate::text::sanitize(e)), t.error()))
        }
        None if app.following.is_some() => {
            feedback.push(("⇄ waiting for the time-sync service to answer".into(), t.warn()))
        }
        None => {}
    }
    if let Some(p) = &app.publishing {
        feedback.push((format!("⇄ {p}"), t.label()));
    }
    let a = &d.archive;
    let mut problems = Vec::new();
    if !a.rejected.is_empty() {
        problems.push(format!("{} rejected", num(a.rejected.len())));
    }
    if a.duplicates > 0 {
        problems.push(format!("{} duplicate{}", num(a.duplicates as usize), if a.duplicates == 1 { "" } else { "s" }));
    }
    if a.not_distilled_total() > 0 {
        problems.push(format!("{} not distilled", num(a.not_distilled_total() as usize)));
    }
    if c.unmatched > 0 {
        problems.push(format!("{} unmatched", num(c.unmatched)));
    }
    // docs/ui.md#two-rule-sets: the 2015 streams the list cannot show, as many as exist at the clock
    // (stream ids count up in the order streams appear).
    if let Some(o) = &d.other {
        let existing = o.timeline.streams_at(app.playback.clock) as u32;
        let n = o.unpaired.partition_point(|&id| id <= existing);
        if n > 0 {
            problems.push(format!(
                "{} 2015 stream{} without a 2014 counterpart",
                num(n),
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    // docs/ui.md#header: inputs that gave nothing and files a walk passed over are named too.
    let barren = a.barren_inputs().len();
    if barren > 0 {
        problems.push(format!("{} {} without records", num(barren), if barren == 1 { "input" } else { "inputs" }));
    }
    if !a.skipped.is_empty() {
        let n = a.skipped.len();
        problems.push(format!("{} {} skipped", num(n), if n == 1 { "file" } else { "files" }));
    }
    let mut l3 = Vec::new();
    for (text, style) in feedback {
        l3.push((" ".into(), Style::new()));
        l3.push((text, style));
        l3.push(("  │".into(), t.label()));
    }
    if total == 0 {
        // An empty archive says so plainly, and where to look.
        let why = if problems.is_empty() { "no record in the input".to_string() } else { problems.join(" · ") };
        l3.push((format!(" load: no event to replay: {why} (p for the problems)"), t.error()));
    } else if problems.is_empty() {
        l3.push((" load: no problems".to_string(), t.label()));
    } else {
        let p = app.keymap.hint(crate::tui::keymap::Scope::Global, &crate::tui::Action::Problems);
        l3.push((format!(" load: {} ({p} to browse)", problems.join(" · ")), t.warn()));
    }
    let lines: Vec<Line> = [l1, l2, l3].into_iter().map(|l| line_fit(l, w)).collect();
    f.render_widget(Paragraph::new(lines), area);
}
