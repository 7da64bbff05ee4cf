//! The problems pane's lines: the inputs, records not distilled, rejected
//! records, unmatched events and, with both rule sets, the 2015 streams that
//! have no 2014 counterpart. Lines are made on demand, so a hundred thousand
//! rejected records cost only the visible ones.

use super::num;
use crate::replay::Outcome;
use crate::text::sanitize;
use crate::triage::Triage;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::style::Style;

/// Where each section starts.
struct Sections {
    files: usize,
    not_distilled: usize,
    rejected_title: usize,
    rejected: usize,
    unmatched_title: usize,
    unmatched: usize,
    /// The title of the 2015 streams without a counterpart (`total` with one rule set).
    unpaired_title: usize,
    unpaired: usize,
    total: usize,
}

fn sections(app: &App) -> Option<Sections> {
    let d = app.data()?;
    let a = &d.archive;
    let files = 1;
    let not_distilled = files + a.sources.len();
    let rejected_title = not_distilled + a.not_distilled.len() + 1;
    let rejected = rejected_title + 1;
    let unmatched_title = rejected + a.rejected.len() + 1;
    let unmatched = unmatched_title + 1;
    let unmatched_end = unmatched + d.timeline.unmatched().len();
    // With one rule set the section is not there: its lines lie beyond any line.
    let (unpaired_title, unpaired, total) = match &d.other {
        Some(o) => (unmatched_end + 1, unmatched_end + 2, unmatched_end + 2 + o.unpaired.len()),
        None => (usize::MAX - 1, usize::MAX, unmatched_end),
    };
    Some(Sections {
        files,
        not_distilled,
        rejected_title,
        rejected,
        unmatched_title,
        unmatched,
        unpaired_title,
        unpaired,
        total,
    })
}

pub fn line_count(app: &App) -> usize {
    sections(app).map(|s| s.total).unwrap_or(0)
}

/// The unmatched event on a line, if it is one.
pub fn event_at(app: &App, i: usize) -> Option<u32> {
    let s = sections(app)?;
    if i < s.unmatched || i + 1 >= s.unpaired_title {
        return None;
    }
    app.data()?.timeline.unmatched().get(i - s.unmatched).map(|(e, _)| *e)
}

/// The 2015 stream without a 2014 counterpart on a line, if it is one (its id).
pub fn unpaired_at(app: &App, i: usize) -> Option<u32> {
    let s = sections(app)?;
    if i < s.unpaired {
        return None;
    }
    app.data()?.other.as_ref()?.unpaired.get(i - s.unpaired).copied()
}

/// The rejected record on a line, if it is one (its index in the archive's list).
pub fn rejected_at(app: &App, i: usize) -> Option<usize> {
    let s = sections(app)?;
    (i >= s.rejected && i + 1 < s.unmatched_title).then(|| i - s.rejected)
}

/// Whether the cursor may rest on a line: not on blank separators and titles.
pub fn selectable(app: &App, i: usize) -> bool {
    let Some(s) = sections(app) else { return false };
    ![
        s.rejected_title - 1,
        s.rejected_title,
        s.unmatched_title - 1,
        s.unmatched_title,
        s.unpaired_title - 1,
        s.unpaired_title,
    ]
    .contains(&i)
}

pub fn line(app: &App, i: usize) -> (String, Style) {
    let t = app.theme;
    let (Some(d), Some(s)) = (app.data(), sections(app)) else { return (String::new(), Style::new()) };
    let a = &d.archive;
    if i == 0 {
        return (
            format!(
                "{} input file(s) · {} records · {} events · {} duplicates (later copies of a message_id, ignored)",
                a.sources.len(),
                num(a.records as usize),
                num(a.events.len()),
                num(a.duplicates as usize)
            ),
            t.title(),
        );
    }
    if i < s.not_distilled {
        let src = &a.sources[i - s.files];
        let layout = src.layout.map(|l| format!("{l:?}")).unwrap_or_else(|| "unread".into());
        let gz = if src.gzip { " gzip" } else { "" };
        return (
            format!(
                "  {} · {layout}{gz} · {} records · {} bytes",
                sanitize(&src.name),
                num(src.records as usize),
                num(src.bytes as usize)
            ),
            Style::new(),
        );
    }
    if i < s.rejected_title - 1 {
        let (ty, n) = a.not_distilled.iter().nth(i - s.not_distilled).map(|(k, v)| (k.as_str(), *v)).unwrap_or(("", 0));
        return (format!("  not distilled (no event definition): {} ×{}", sanitize(ty), num(n as usize)), t.label());
    }
    if i == s.rejected_title - 1 || i == s.unmatched_title - 1 || i == s.unpaired_title - 1 {
        return (String::new(), Style::new());
    }
    if i == s.rejected_title {
        let enter = app.key_hint(&Action::Open);
        return (format!("Rejected records ({}) — {enter} shows one", num(a.rejected.len())), t.title());
    }
    if i < s.unmatched_title - 1 {
        let r = &a.rejected[i - s.rejected];
        let excerpt = if r.excerpt.is_empty() { String::new() } else { format!(" · {}", sanitize(&r.excerpt)) };
        return (format!("  {}: {}{excerpt}", sanitize(&r.location()), sanitize(&r.reason)), t.warn());
    }
    if i == s.unmatched_title {
        let enter = app.key_hint(&Action::Open);
        return (format!("Unmatched events ({}) — {enter} shows one", num(d.timeline.unmatched().len())), t.title());
    }
    if i == s.unpaired_title {
        let n = d.other.as_ref().map_or(0, |o| o.unpaired.len());
        let enter = app.key_hint(&Action::Open);
        return (format!("2015 streams without a 2014 counterpart ({}) — {enter} shows one", num(n)), t.title());
    }
    if i >= s.unpaired {
        return unpaired_line(app, i - s.unpaired);
    }
    let Some(&(idx, why)) = d.timeline.unmatched().get(i - s.unmatched) else { return (String::new(), Style::new()) };
    let Some(e) = d.event(idx) else { return (String::new(), Style::new()) };
    let sy = &a.symbols;
    let style = if e.timestamp > app.playback.clock { t.future() } else { Style::new() };
    (
        format!(
            "  {} {} msg {}: {}",
            e.timestamp.short(),
            sanitize(sy.get(e.event_type)),
            sanitize(&e.message_id(sy)),
            why.describe()
        ),
        style,
    )
}

/// A 2015 stream without a 2014 counterpart as it stands at the clock: its
/// verdict and label then, or when it appears.
fn unpaired_line(app: &App, n: usize) -> (String, Style) {
    let t = app.theme;
    let (Some(d), Some(alt)) = (app.data(), app.data().and_then(|d| d.other_archive())) else {
        return (String::new(), Style::new());
    };
    let Some(o) = d.other.as_ref() else { return (String::new(), Style::new()) };
    let Some(s) = o.unpaired.get(n).and_then(|&id| o.timeline.stream(id)) else {
        return (String::new(), Style::new());
    };
    let head = format!("  #{} {} {}", s.id, sanitize(&crate::tui::index::instance_text(alt, s)), s.day);
    match o.timeline.state_of(s.id, app.playback.clock) {
        None => (format!("{head} · appears {}", s.first_event.short()), t.future()),
        Some(at) => {
            let outcome = if at.decided { at.outcome } else { Outcome::Pending };
            let label = d.unpaired_label_at(s.id, app.playback.clock).map_or("", Triage::as_str);
            let badge = Theme::badge(outcome, at.code.filter(|_| at.decided));
            (format!("{head} · 2015 {badge} · triage {label}"), t.outcome(outcome))
        }
    }
}
