//! The events pane: the selected stream's events in stream order — time, Δt,
//! type and key traits; `X` marks the *exists* the checks used (under 2015
//! every `.exists`, each with its own result), `!` the events that prove the
//! verdict; events after the clock are dimmed.

use super::{col, delta, line_fit, pad, pane_block, rpad, visible_offset};
use crate::event::{sym, Event, Symbols};
use crate::replay::Outcome;
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Traits worth a glance in the list, in this order.
const KEY_TRAITS: [(crate::event::Sym, &str); 7] = [
    (sym::STATE, "state"),
    (sym::INSTANCE_TYPE_ID, "type_id"),
    // The flavor the 2015 checks compare (docs/rules2015.md#distillation).
    (sym::INSTANCE_FLAVOR_ID, "flavor"),
    (sym::LAUNCHED_AT, "launched"),
    (sym::DELETED_AT, "deleted"),
    (sym::AUDIT_PERIOD_BEGINNING, "period"),
    (sym::OS_DISTRO, "distro"),
];

/// `compute.instance.exists` → `exists`.
pub fn short_type(t: &str) -> &str {
    t.strip_prefix("compute.instance.").unwrap_or(t)
}

fn key_traits(e: &Event, symbols: &Symbols) -> String {
    let mut parts = Vec::new();
    for (name, label) in KEY_TRAITS {
        if let Some(v) = e.get(name) {
            let text = match v {
                crate::event::Value::DateTime(t) => t.short(),
                other => other.display(symbols),
            };
            parts.push(format!("{label}={text}"));
        }
    }
    parts.join(" ")
}

/// `MM-DD HH:MM:SSZ`: the year is in the stream's day and the header.
pub fn short_time(t: crate::time::Timestamp) -> String {
    let s = t.short();
    s.get(5..).map(str::to_string).unwrap_or(s)
}

pub fn render(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    let Some(d) = app.data() else { return };
    let t = app.theme;
    let stream = app.shown_stream();
    let archive = app.shown_archive().unwrap_or(&d.archive);
    let timeline = app.shown_timeline().unwrap_or(&d.timeline);
    // docs/ui.md#two-rule-sets: with both rule sets, the title says whose stream this is.
    let rules = if d.other.is_some() { format!("{} ", archive.rules.name()) } else { String::new() };
    let title = match stream {
        // As the stream list counts them: the events replayed by the clock, of all.
        Some(s) => {
            let replayed = timeline.stream_at(s, app.playback.clock).map_or(0, |a| a.events);
            let n = s.events.len();
            let count = if replayed == n { n.to_string() } else { format!("{replayed} of {n} replayed") };
            let alone = if app.opened_unpaired().is_some() { ", no 2014 counterpart" } else { "" };
            vec![Span::raw(format!("{rules}of #{} ({count}{alone}) ", s.id))]
        }
        None if !rules.is_empty() => vec![Span::raw(rules.clone())],
        None => vec![],
    };
    let block = pane_block(app, Pane::Events, title, compact);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = stream else {
        let why = match app.selected_stream() {
            Some(listed) => format!("  #{} has no {}counterpart", listed.id, rules),
            None => "  no stream selected".to_string(),
        };
        f.render_widget(Paragraph::new(Line::styled(why, t.label())), inner);
        return;
    };
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let focused = app.focused().filter(|x| x.id == s.id && x.other == app.showing_other());
    let decided = app.shown_at().is_some_and(|a| a.decided);
    let clock = app.playback.clock;
    let type_w = 22usize;
    let head = format!("   {} {} {} traits", pad("time", 15), rpad("Δt", 7), pad("type", type_w));
    let mut lines: Vec<Line> = vec![line_fit(vec![(head, t.label())], w)];
    let h = inner.height.saturating_sub(1) as usize;
    let off = visible_offset(app.events.off, app.events.sel, h, s.events.len());
    for i in off..(off + h).min(s.events.len()) {
        let Some(e) = archive.events.get(s.events[i] as usize) else { continue };
        let prev = i.checked_sub(1).and_then(|p| archive.events.get(s.events[p] as usize));
        // docs/rules2015.md#checks: under 2015 every .exists has its own result.
        let result = focused.and_then(|x| x.results.iter().find(|r| r.0 == i)).map(|r| r.1);
        let is_exists = focused.is_some_and(|x| x.exists == Some(i)) || result.is_some();
        let proves = decided && focused.is_some_and(|x| x.proving.contains(&i));
        let mark = format!("{}{}", if is_exists { "X" } else { " " }, if proves { "!" } else { " " });
        let dt = prev.map(|p| delta(e.timestamp.0 - p.timestamp.0)).unwrap_or_default();
        let future = e.timestamp > clock;
        let base = if future { t.future() } else { Style::new() };
        let ty = archive.symbols.get(e.event_type);
        let mut pieces = vec![
            (format!("{mark} "), if future { t.future() } else { t.mark() }),
            (format!("{} {} ", pad(&short_time(e.timestamp), 15), rpad(&dt, 7)), base),
            (format!("{} ", col(short_type(ty), type_w)), base),
        ];
        if let Some(code) = result.filter(|_| decided) {
            let outcome = if code.is_some() { Outcome::Failed } else { Outcome::Verified };
            pieces.push((format!("{} ", Theme::badge(outcome, code)), t.outcome(outcome)));
        }
        pieces.push((crate::text::sanitize(&key_traits(e, &archive.symbols)), if future { base } else { t.label() }));
        let mut line = line_fit(pieces, w);
        if i == app.events.sel && app.pinned.is_none() {
            let sel = if app.focus == Pane::Events { t.selected() } else { t.title() };
            line = line.patch_style(sel);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}
