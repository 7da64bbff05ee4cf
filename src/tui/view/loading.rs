//! The loading screen, drawn before anything is read (docs/ui.md#opening-and-loading): files,
//! records, bytes and rejected records so far, and a progress bar.

use super::{line_fit, num};
use crate::text::{bytes, sanitize};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Scope;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Gauge, Paragraph};
use ratatui::Frame;

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let w = area.width.saturating_sub(4).min(72);
    let h = 11u16.min(area.height);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h);
    let block = Block::bordered().border_style(t.border(true)).title(Line::styled(" usage-replay ", t.title()));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let iw = inner.width as usize;
    let l = &app.load;
    let p = &l.progress;
    let what = if l.inputs.len() == 1 { sanitize(&l.inputs[0]) } else { format!("{} inputs", l.inputs.len()) };
    let stage = match l.replaying {
        Some(n) => format!("Replaying {} events on the time-sync clock…", num(n)),
        None => format!("Loading {what}…"),
    };
    let mut lines = vec![
        line_fit(vec![(stage, t.title())], iw),
        Line::raw(""),
        line_fit(
            vec![(
                format!(
                    "files {}/{} · read {} of {}",
                    p.files_done,
                    p.files_total,
                    bytes(p.bytes_read),
                    bytes(p.bytes_total)
                ),
                Style::new(),
            )],
            iw,
        ),
        line_fit(
            vec![(
                format!(
                    "records {} · events {} · rejected {} · duplicates {}",
                    num(p.records as usize),
                    num(p.events as usize),
                    num(p.rejected as usize),
                    num(p.duplicates as usize)
                ),
                Style::new(),
            )],
            iw,
        ),
    ];
    if !p.current.is_empty() && l.replaying.is_none() {
        lines.push(line_fit(vec![(format!("now {}", sanitize(&p.current)), t.label())], iw));
    } else {
        lines.push(Line::raw(""));
    }
    let ratio = match l.replaying {
        Some(_) => 1.0,
        None if p.bytes_total > 0 => (p.bytes_read as f64 / p.bytes_total as f64).clamp(0.0, 1.0),
        None => 0.0,
    };
    let text_h = (lines.len() as u16).min(inner.height);
    f.render_widget(Paragraph::new(lines), Rect { height: text_h, ..inner });
    if inner.height > text_h + 1 {
        let g = Rect { y: inner.y + text_h, height: 1, ..inner };
        f.render_widget(Gauge::default().ratio(ratio).gauge_style(t.playhead()).use_unicode(true), g);
    }
    if inner.height > text_h + 3 {
        let hint = Rect { y: inner.y + inner.height - 1, height: 1, ..inner };
        f.render_widget(
            Paragraph::new(line_fit(
                vec![(format!("{} cancels and quits", app.keymap.hint(Scope::Global, &Action::Back)), t.label())],
                iw,
            )),
            hint,
        );
    }
}
