//! The timeline of the archive: events per time bucket, the playhead, and the
//! moments failing streams were decided. The buckets are summed from the fine
//! histogram computed once at load, so a frame costs the width of the screen.

use super::line_fit;
use crate::tui::app::{App, FINE_BUCKETS};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let Some(d) = app.data() else { return };
    let t = app.theme;
    let w = area.width.saturating_sub(2) as usize;
    if w == 0 || area.height < 3 {
        return;
    }
    if d.archive.events.is_empty() {
        // An empty archive has no time to show: no 1970 axis, just where to look.
        let p = app.keymap.hint(crate::tui::keymap::Scope::Global, &crate::tui::Action::Problems);
        let title = format!(" timeline: no event to replay ({p} shows the problems) ");
        let rest = (w + 2).saturating_sub(1 + crate::text::width(&title));
        let top = line_fit(vec![("─".into(), t.label()), (title, t.label()), ("─".repeat(rest), t.label())], w + 2);
        f.render_widget(Paragraph::new(vec![top]), area);
        return;
    }
    let h = &d.histogram;
    // Column i covers fine buckets [i*F/w, (i+1)*F/w).
    let span = |i: usize| (i * FINE_BUCKETS / w, ((i + 1) * FINE_BUCKETS / w).max(i * FINE_BUCKETS / w + 1));
    let mut events = vec![0u64; w];
    let mut failures = vec![0u64; w];
    for i in 0..w {
        let (a, b) = span(i);
        let b = b.min(FINE_BUCKETS);
        events[i] = h.events[a..b].iter().map(|&x| x as u64).sum();
        failures[i] = h.failures[a..b].iter().map(|&x| x as u64).sum();
    }
    let max = events.iter().copied().max().unwrap_or(0).max(1);
    let pb = &app.playback;
    let head_fine = if pb.is_drained() { FINE_BUCKETS - 1 } else { h.bucket(pb.clock) };
    let head = (0..w).find(|&i| span(i).1 > head_fine).unwrap_or(w - 1);

    let title =
        format!(" timeline {} → {}  ▲ clock  ✗ failures decided ", h.start.short(), h.end.plus_micros(-1).short());
    let rest = (w + 2).saturating_sub(1 + crate::text::width(&title));
    let top = line_fit(vec![("─".into(), t.label()), (title, t.label()), ("─".repeat(rest), t.label())], w + 2);

    let mut bars = vec![Span::raw(" ")];
    for (i, &n) in events.iter().enumerate() {
        let level = if n == 0 { 0 } else { 1 + (n * 7 / max) as usize };
        let style = if i > head { t.future() } else { Style::new() };
        let style = if i == head { t.playhead() } else { style };
        bars.push(Span::styled(LEVELS[level.min(8)].to_string(), style));
    }
    let mut marks = vec![Span::raw(" ")];
    for (i, &n) in failures.iter().enumerate() {
        if i == head {
            marks.push(Span::styled("▲", t.playhead()));
        } else if n > 0 {
            let style = if i > head { t.future() } else { t.outcome(crate::replay::Outcome::Failed) };
            marks.push(Span::styled("✗", style));
        } else {
            marks.push(Span::raw(" "));
        }
    }
    f.render_widget(Paragraph::new(vec![top, Line::from(bars), Line::from(marks)]), area);
}
