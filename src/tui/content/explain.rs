//! The explanation pane's text: the selected stream's verdict at the clock —
//! code and exact message, the engine's explanation, the output event, the log.

use crate::replay::Outcome;
use crate::text::{sanitize, wrap};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use ratatui::style::Style;

/// The pane's text wrapped to `w` columns.
pub fn lines(app: &App, w: usize) -> Vec<(String, Style)> {
    let t = app.theme;
    let mut out: Vec<(String, Style)> = Vec::new();
    let Some(d) = app.data() else { return out };
    let (Some(s), Some(at)) = (app.shown_stream(), app.shown_at()) else {
        match (app.selected_stream(), app.shown_rules()) {
            // docs/ui.md#two-rule-sets: the other rule set may not have this instance-day at all, or not yet.
            (Some(listed), Some(r)) => {
                out.push((format!("#{} has no {} counterpart at the clock.", listed.id, r.name()), t.label()));
                out.push((
                    format!("Press {} for its {} verdict.", app.key_hint(&Action::SwitchRules), d.archive.rules.name()),
                    t.label(),
                ));
            }
            _ => out.push(("no stream selected".into(), t.label())),
        }
        return out;
    };
    let push_wrapped = |out: &mut Vec<(String, Style)>, text: &str, style: Style, indent: &str| {
        for l in wrap(&sanitize(text), w.saturating_sub(indent.len()).max(8)) {
            out.push((format!("{indent}{l}"), style));
        }
    };
    let archive = app.shown_archive().unwrap_or(&d.archive);
    let inst = crate::tui::index::instance_text(archive, s);
    let rules = if d.other.is_some() { format!(" · rules {}", archive.rules.name()) } else { String::new() };
    push_wrapped(&mut out, &format!("#{} · instance {} · day {}{rules}", s.id, inst, s.day), t.title(), "");
    let Some(r) = s.result.as_ref().filter(|_| at.decided) else {
        let when = match s.fire_timestamp() {
            Some(ft) if ft <= app.playback.clock => {
                format!("It is ready and fires once the clock passes {}.", ft.iso())
            }
            _ => "It fires when its end-of-day .exists arrives, or expires two days after its last event.".into(),
        };
        push_wrapped(
            &mut out,
            &format!("pending at the playback clock: {} of {} events replayed. {when}", at.events, s.events.len()),
            t.outcome(Outcome::Pending),
            "",
        );
        push_wrapped(
            &mut out,
            &format!("Press {} to replay everything and see every verdict.", app.key_hint(&Action::Drain)),
            t.label(),
            "",
        );
        return out;
    };
    let badge = Theme::badge(r.outcome, r.code);
    let decided = if r.decided_at == crate::time::Timestamp::MAX {
        "when the replay was drained".to_string()
    } else {
        format!("at {}", r.decided_at.iso())
    };
    push_wrapped(
        &mut out,
        &format!(
            "{badge} · {} · {} pipeline ran {decided} · state {}",
            r.outcome.as_str(),
            r.trigger.as_str(),
            s.state.as_str()
        ),
        t.outcome(r.outcome),
        "",
    );
    if r.outcome == Outcome::Verified {
        push_wrapped(&mut out, "Every usage check passed.", t.outcome(Outcome::Verified), "");
    } else {
        push_wrapped(&mut out, r.message(), t.outcome(r.outcome), "");
    }
    let mine = |f: &&crate::tui::app::Focused| f.id == s.id && f.other == app.showing_other();
    if let Some((label, note)) = app.focused().filter(mine).and_then(|f| f.triage.as_ref()) {
        // docs/ui.md#two-rule-sets: the list shows the label at the clock, the sentence the final one.
        let now = match app.opened_unpaired() {
            Some(id) => d.unpaired_label_at(id, app.playback.clock),
            None => app.selected_stream().and_then(|l| d.label_at(l.id, app.playback.clock)),
        };
        let text = match (now, note) {
            (Some(now), _) if now != *label => Some(format!(
                "triage at the clock: {} (not every verdict is in yet); once both rule sets have decided: {}{}",
                now.as_str(),
                label.as_str(),
                note.as_ref().map_or(String::new(), |n| format!(": {n}"))
            )),
            (_, Some(note)) => Some(format!("triage {}: {note}", label.as_str())),
            (_, None) => None,
        };
        if let Some(text) = text {
            push_wrapped(&mut out, &text, t.warn(), "");
        }
    }
    if let Some(a) = r.audit2015().filter(|a| !a.warnings.is_empty()) {
        for w in &a.warnings {
            push_wrapped(&mut out, &format!("warning: {w}"), t.warn(), "");
        }
    }
    if let Some(x) = app.focused().filter(mine).and_then(|f| f.explanation.as_ref()) {
        out.push((String::new(), Style::new()));
        for l in x.to_text(w) {
            let style =
                if l.ends_with(':') && !l.starts_with(' ') && !l.starts_with('-') { t.title() } else { Style::new() };
            out.push((l, style));
        }
    }
    if !r.output().is_empty() {
        out.push((String::new(), Style::new()));
        out.push((if r.output().len() == 1 { "Output event:" } else { "Output events:" }.into(), t.title()));
        for o in r.output() {
            push_wrapped(&mut out, &o.to_json(&archive.symbols), Style::new(), "  ");
        }
    }
    if let Some(f) = app.focused().filter(mine) {
        if !f.log.is_empty() {
            out.push((String::new(), Style::new()));
            out.push(("Pipeline log:".into(), t.title()));
            for l in &f.log {
                push_wrapped(&mut out, l, t.label(), "  ");
            }
        }
    }
    out
}
