//! The footer: the prompt while one is open, otherwise the keys that matter in
//! the focused pane, taken from the key map.

use super::line_fit;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Scope;
use crate::tui::types::{Pane, PromptKind};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// The actions the footer offers in a pane, most useful first.
pub fn actions(pane: Pane) -> Vec<Action> {
    use Action as A;
    match pane {
        Pane::Streams => vec![
            A::Open,
            A::NextFailure,
            A::Explain,
            A::TogglePlay,
            A::StepForward,
            A::Faster,
            A::Slower,
            A::OpenPrompt,
            A::OpenSearch,
            A::Filter,
            A::CycleOutcome,
            A::CycleSort,
            A::Problems,
            A::ToggleHelp,
            A::Back,
        ],
        Pane::Events => {
            vec![A::Open, A::Explain, A::StepForward, A::TogglePlay, A::OpenSearch, A::NextPane, A::ToggleHelp, A::Back]
        }
        Pane::Detail | Pane::Explain => {
            vec![A::Explain, A::NextFailure, A::TogglePlay, A::StepForward, A::NextPane, A::ToggleHelp, A::Back]
        }
        Pane::Problems => vec![A::Open, A::Problems, A::ToggleHelp, A::Back],
    }
}

pub fn render(app: &App, f: &mut Frame, area: Rect) {
    let t = app.theme;
    let w = area.width as usize;
    if let Some(p) = &app.prompt {
        let km = &app.keymap;
        let (enter, esc) =
            (km.hint(Scope::Prompt, &Action::PromptSubmit), km.hint(Scope::Prompt, &Action::PromptCancel));
        let (lead, hint) = match p.kind {
            PromptKind::Command => {
                (":", format!("  {enter} runs · {esc} cancels · time, +6h, -30m, #id, speed N, filter …"))
            }
            PromptKind::Search => {
                let (next, prev) =
                    (km.hint(Scope::Global, &Action::SearchNext), km.hint(Scope::Global, &Action::SearchPrev));
                ("/", format!("  {enter} searches · {esc} cancels · {next}/{prev} next/previous"))
            }
        };
        let line = line_fit(
            vec![
                (lead.to_string(), t.key()),
                (crate::text::sanitize(&p.input), Style::new()),
                ("█".into(), Style::new()),
                (hint, t.label()),
            ],
            w,
        );
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    // docs/ui.md#the-demo: during the tour the footer says what is happening.
    if let Some(c) = app.tour_caption() {
        f.render_widget(Paragraph::new(line_fit(vec![(format!(" {c}"), t.title())], w)), area);
        return;
    }
    // Help and back are always offered, at the right; the pane's keys fill the rest.
    let item = |a: &Action| -> Option<(String, String)> {
        let key = app.keymap.key_for(Scope::Pane(app.focus), a).or_else(|| app.keymap.key_for(Scope::Global, a))?;
        let label = match a {
            Action::Back if app.focus == Pane::Streams && app.prompt.is_none() => "quit",
            Action::Explain if app.focus == Pane::Explain => "detail",
            other => other.short(),
        };
        Some((key.label(), label.to_string()))
    };
    let fixed: Vec<(String, String)> = [Action::ToggleHelp, Action::Back].iter().filter_map(item).collect();
    let size = |(k, l): &(String, String)| crate::text::width(k) + crate::text::width(l) + 3;
    let budget = w.saturating_sub(fixed.iter().map(size).sum::<usize>());
    let mut used = 0;
    let mut items: Vec<(String, String)> = Vec::new();
    // While a time-sync clock is followed, the keys that would move the clock are off.
    let offered = |a: &&Action| {
        let refused = app.following.is_some() && a.moves_clock();
        !matches!(a, Action::ToggleHelp | Action::Back) && !refused
    };
    for a in actions(app.focus).iter().filter(offered) {
        let Some(it) = item(a) else { continue };
        if used + size(&it) > budget {
            break;
        }
        used += size(&it);
        items.push(it);
    }
    let gap = budget - used;
    let mut pieces: Vec<(String, Style)> = Vec::new();
    for (k, l) in items.into_iter().chain(fixed) {
        pieces.push((format!(" {k}"), t.key()));
        pieces.push((format!(" {l} "), Style::new()));
    }
    // Right-align help and back.
    let n_fixed = 2 * [Action::ToggleHelp, Action::Back].iter().filter_map(item).count();
    let at = pieces.len() - n_fixed;
    pieces.insert(at, (" ".repeat(gap), Style::new()));
    f.render_widget(Paragraph::new(line_fit(pieces, w)), area);
}
