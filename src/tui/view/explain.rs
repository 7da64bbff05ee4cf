//! The explanation pane: the selected stream's verdict at the clock — code and
//! exact message, the engine's explanation (meaning, evidence, causes, next
//! steps, notes), the output event, and the pipeline log. Scrollable.

use super::{line_fit, pane_block};
use crate::replay::Outcome;
use crate::text::{sanitize, wrap};
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The pane's text wrapped to `w` columns.
pub fn lines(app: &App, w: usize) -> Vec<(String, Style)> {
    let t = app.theme;
    let mut out: Vec<(String, Style)> = Vec::new();
    let Some(d) = app.data() else { return out };
    let (Some(s), Some(at)) = (app.selected_stream(), app.selected_at()) else {
        out.push(("no stream selected".into(), t.label()));
        return out;
    };
    let push_wrapped = |out: &mut Vec<(String, Style)>, text: &str, style: Style, indent: &str| {
        for l in wrap(&sanitize(text), w.saturating_sub(indent.len()).max(8)) {
            out.push((format!("{indent}{l}"), style));
        }
    };
    let inst = crate::tui::index::instance_text(&d.archive, s);
    push_wrapped(&mut out, &format!("#{} · instance {} · day {}", s.id, inst, s.day), t.title(), "");
    let Some(r) = s.result.as_ref().filter(|_| at.decided) else {
        let when = match s.fire_timestamp {
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
        push_wrapped(&mut out, "Press End to replay everything and see every verdict.", t.label(), "");
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
        push_wrapped(&mut out, &r.message, t.outcome(r.outcome), "");
    }
    if let Some(x) = app.focused().filter(|f| f.id == s.id).and_then(|f| f.explanation.as_ref()) {
        out.push((String::new(), Style::new()));
        for l in x.to_text(w) {
            let style =
                if l.ends_with(':') && !l.starts_with(' ') && !l.starts_with('-') { t.title() } else { Style::new() };
            out.push((l, style));
        }
    }
    if !r.output.is_empty() {
        out.push((String::new(), Style::new()));
        out.push(("Output event:".into(), t.title()));
        for o in &r.output {
            push_wrapped(&mut out, &o.to_json(&d.archive.symbols), Style::new(), "  ");
        }
    }
    if let Some(f) = app.focused().filter(|f| f.id == s.id) {
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

pub fn render(app: &App, f: &mut Frame, area: Rect, compact: bool) {
    let title = match app.selected_stream() {
        Some(s) => vec![Span::raw(format!("of #{} ", s.id))],
        None => vec![],
    };
    let block = pane_block(app, Pane::Explain, title, compact);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let all = lines(app, w);
    let h = inner.height as usize;
    let scroll = app.explain_scroll.min(all.len().saturating_sub(h));
    let shown: Vec<Line> = all.into_iter().skip(scroll).take(h).map(|(l, st)| line_fit(vec![(l, st)], w)).collect();
    f.render_widget(Paragraph::new(shown), inner);
}
