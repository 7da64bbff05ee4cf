//! The streams pane: one row per stream at the clock — id, instance, day,
//! state, outcome badge (and the second rule set's, with its triage label),
//! events replayed, the tenant where the width allows, and the verdict's
//! message; under the list, the selected stream's whole message.

use super::{col, line_fit, pad, pane_block, rpad, visible_offset};
use crate::replay::Outcome;
use crate::triage::Triage;
use crate::tui::action::Action;
use crate::tui::app::{App, Pane};
use crate::tui::index::instance_text;
use crate::tui::keymap::Scope;
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    let Some(d) = app.data() else { return };
    let t = app.theme;
    let rows = app.rows();
    let clock = app.playback.clock;
    let existing = d.timeline.streams_at(clock);
    let mut title = vec![Span::raw(format!("{}/{} ", super::num(rows.len()), super::num(existing)))];
    if !app.filter.is_empty() {
        title.push(Span::styled(format!("· filter: {} ", app.filter.describe()), t.warn()));
    }
    let dir = if app.sort.descending { "↓" } else { "↑" };
    title.push(Span::styled(format!("· sort: {} {dir} ", app.sort.key.name()), t.label()));
    if app.list_pending() {
        // docs/ui.md#large-archives: the rows below are the previous list's until the new one is ready.
        title.push(Span::styled("· building the list… ", t.warn()));
    }
    let block = pane_block(app, Pane::Streams, title, compact);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    // Columns: marker+id, instance, day, state, badge, [the second rule set's badge], events,
    // [the triage label, where the width allows], message (docs/ui.md#two-rule-sets).
    let both = d.other.as_ref().zip(d.other_archive());
    let id_w = d.timeline.streams().len().max(1).to_string().len() + 2;
    let fixed = id_w + 1 + 10 + 1 + 12 + 1 + 4 + 1 + 5 + 1 + if both.is_some() { 5 } else { 0 };
    let inst_w = w.saturating_sub(fixed).clamp(8, 36);
    let rest = w.saturating_sub(fixed + inst_w + 1);
    let triage_w = if both.is_some() && rest >= 10 + 12 { 10 } else { 0 };
    let rest = rest - triage_w;
    // docs/ui.md#panes: the tenant where the width leaves the message 24 columns (its whole
    // text is under the list anyway).
    let tenant_w = rest.saturating_sub(24 + 1).min(32);
    let tenant_w = if tenant_w < 10 { 0 } else { tenant_w };
    let msg_w = rest.saturating_sub(if tenant_w > 0 { tenant_w + 1 } else { 0 });
    let msg_w = if msg_w < 12 { 0 } else { msg_w };
    let mut lines: Vec<Line> = Vec::with_capacity(inner.height as usize);
    let badges = match both {
        Some((_, alt)) => format!("{} {}", pad(d.archive.rules.name(), 4), pad(alt.rules.name(), 4)),
        None => pad("res", 4),
    };
    let mut head = format!(
        "{} {} {} {} {} {}",
        pad("  #", id_w),
        pad("instance", inst_w),
        pad("day", 10),
        pad("state", 12),
        badges,
        rpad("evts", 5)
    );
    if triage_w > 0 {
        head.push_str(" triage   ");
    }
    if tenant_w > 0 {
        head.push_str(&format!(" {}", pad("tenant", tenant_w)));
    }
    if msg_w > 0 {
        head.push_str(" message");
    }
    lines.push(line_fit(vec![(head, t.label())], w));
    let below = crate::tui::layout::message_rows(Pane::Streams, inner.height);
    let h = inner.height.saturating_sub(1 + below) as usize;
    let off = visible_offset(app.streams.off, app.streams.sel, h, rows.len());
    if rows.is_empty() {
        let why = if d.archive.events.is_empty() {
            let p = app.keymap.hint(Scope::Global, &Action::Problems);
            format!("the archive holds no event to replay ({p} shows why)")
        } else if existing == 0 {
            format!("no stream exists yet at the clock (press {} to see every verdict)", app.key_hint(&Action::Drain))
        } else {
            format!(
                "no stream matches the filter ({} clears it)",
                app.keymap.hint(Scope::Pane(Pane::Streams), &Action::ClearFilter)
            )
        };
        lines.push(Line::styled(format!("  {why}"), t.label()));
    }
    for row in off..(off + h).min(rows.len()) {
        let Some(s) = rows.get(row).and_then(|id| d.stream(id)) else { continue };
        let selected = row == app.streams.sel;
        let marker = if selected { "▸" } else { " " };
        let id = format!("{marker}#{}", s.id);
        let mut pieces: Vec<(String, Style)> = Vec::with_capacity(8);
        match d.timeline.stream_at(s, clock) {
            None => {
                // The list was built for a later clock and is being refreshed.
                let text = format!("{} {} {}", pad(&id, id_w), col(&instance_text(&d.archive, s), inst_w), "not yet");
                pieces.push((text, t.future()));
            }
            Some(at) => {
                let code = app.code_at(s, &at);
                let badge = Theme::badge(at.outcome, code);
                let msg = stream_message(d, s, &at, clock);
                pieces.push((format!("{} ", pad(&id, id_w)), Style::new()));
                pieces.push((format!("{} ", col(&instance_text(&d.archive, s), inst_w)), Style::new()));
                pieces.push((format!("{} ", pad(&s.day.to_string(), 10)), Style::new()));
                pieces.push((format!("{} ", pad(at.state.as_str(), 12)), t.outcome(at.outcome)));
                pieces.push((format!("{} ", pad(&badge, 4)), t.outcome(at.outcome)));
                if let Some((o, _)) = both {
                    // The counterpart's verdict at the clock, as its own timeline has it.
                    let theirs = d.counterpart(s.id).and_then(|c| o.timeline.state_of(c.id, clock));
                    match theirs {
                        Some(a) => pieces
                            .push((format!("{} ", pad(&Theme::badge(a.outcome, a.code), 4)), t.outcome(a.outcome))),
                        None => pieces.push((format!("{} ", pad("-", 4)), t.label())),
                    }
                }
                let evts = rpad(&at.events.to_string(), 5);
                pieces.push((evts, Style::new()));
                if triage_w > 0 {
                    let label = d.label_at(s.id, clock);
                    let style = match label {
                        Some(Triage::Confirmed) => t.outcome(Outcome::Failed),
                        Some(Triage::Error) => t.outcome(Outcome::Error),
                        Some(Triage::Only2014 | Triage::Only2015) => t.warn(),
                        _ => t.label(),
                    };
                    pieces.push((format!(" {}", pad(label.map_or("", Triage::as_str), 9)), style));
                }
                if tenant_w > 0 {
                    let tenant = crate::ticket::stream_tenant(&d.archive, s).unwrap_or_default();
                    pieces.push((format!(" {}", col(&tenant, tenant_w)), Style::new()));
                }
                if msg_w > 0 {
                    pieces.push((format!(" {}", col(&msg, msg_w)), t.label()));
                }
            }
        }
        let mut line = line_fit(pieces, w);
        if selected {
            let sel = if app.focus == Pane::Streams { t.selected() } else { t.title() };
            line = line.patch_style(sel);
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
    if below > 0 {
        let area = Rect { y: inner.y + inner.height - below, height: below, ..inner };
        f.render_widget(Paragraph::new(message_lines(app, w, below as usize)), area);
    }
}

/// The selected stream's whole message, wrapped under the list, so a long
/// one (a U2 names its values at the end) is never cut before its end.
fn message_lines(app: &App, w: usize, rows: usize) -> Vec<Line<'static>> {
    let t = app.theme;
    let (Some(d), Some(s), Some(at)) = (app.data(), app.selected_stream(), app.selected_at()) else {
        return Vec::new();
    };
    let badge = Theme::badge(at.outcome, app.code_at(s, &at));
    let msg = stream_message(d, s, &at, app.playback.clock);
    let tenant = crate::ticket::stream_tenant(&d.archive, s).map(|t| format!(" · tenant {t}")).unwrap_or_default();
    let text = crate::text::sanitize(&format!("#{} {badge}{tenant}: {msg}", s.id));
    let mut wrapped = crate::text::wrap(&text, w.saturating_sub(3));
    if wrapped.len() > rows {
        wrapped.truncate(rows);
        let last = wrapped.pop().unwrap_or_default();
        wrapped.push(crate::text::fit(&format!("{last} …"), w.saturating_sub(3)));
    }
    let lead = |i: usize| if i == 0 { " → " } else { "   " };
    wrapped
        .into_iter()
        .enumerate()
        .map(|(i, l)| Line::styled(format!("{}{l}", lead(i)), t.outcome(at.outcome)))
        .collect()
}

/// What the message column says of a stream at the clock.
fn stream_message(
    d: &crate::tui::app::Data,
    s: &crate::replay::Stream,
    at: &crate::replay::StreamAt,
    clock: crate::time::Timestamp,
) -> String {
    match (&s.result, at.decided) {
        (Some(_), true) if at.outcome == Outcome::Verified => "every check passed".to_string(),
        (Some(r), true) => r.message().to_string(),
        _ => pending_note(d, s, at.events, clock),
    }
}

/// What a pending stream is waiting for, at the clock.
fn pending_note(
    d: &crate::tui::app::Data,
    s: &crate::replay::Stream,
    replayed: usize,
    clock: crate::time::Timestamp,
) -> String {
    match s.fire_timestamp() {
        // docs/streams.md#firing: marked ready when its end-of-day .exists arrived; fires once the clock passes that moment.
        Some(ft) if ft <= clock => format!("ready: fires after {}", ft.short()),
        _ => match s.events.get(replayed.saturating_sub(1)).and_then(|&i| d.event(i)) {
            Some(e) => format!("open: expires {}", crate::trigger::expiry(e.timestamp).short()),
            None => "open".into(),
        },
    }
}
