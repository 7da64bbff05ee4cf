//! The key map: which key does what, in which part of the screen (docs/ui.md#keys).
//! The help overlay and the footer are generated from it, so they cannot
//! drift from the code.

use super::action::Action;
use super::types::Pane;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere except in the prompt and the help overlay (pane bindings win).
    Global,
    Pane(Pane),
    Help,
    Prompt,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Pane(p) => p.title(),
            Scope::Help => "In this help",
            Scope::Prompt => "In the : and / prompts",
        }
    }
}

/// A key with its modifiers (Shift is part of the character for letters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    const fn plain(code: KeyCode) -> Key {
        Key { code, ctrl: false }
    }
    const fn ch(c: char) -> Key {
        Key { code: KeyCode::Char(c), ctrl: false }
    }
    const fn ctrl(c: char) -> Key {
        Key { code: KeyCode::Char(c), ctrl: true }
    }

    pub fn from_event(k: &KeyEvent) -> Key {
        Key { code: k.code, ctrl: k.modifiers.contains(KeyModifiers::CONTROL) }
    }

    /// How the key is written in the help and the footer.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Bksp".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("C-{base}")
        } else {
            base
        }
    }
}

/// One binding of the key map.
#[derive(Clone, Debug)]
pub struct Binding {
    pub scope: Scope,
    pub key: Key,
    pub action: Action,
}

/// The key map.
pub struct KeyMap {
    pub bindings: Vec<Binding>,
}

impl Default for KeyMap {
    fn default() -> Self {
        Self::standard()
    }
}

impl KeyMap {
    /// less/vim/lnav habits for moving, mpv habits for playback (docs/ui.md#keys).
    pub fn standard() -> KeyMap {
        use Action as A;
        use KeyCode as K;
        let mut b = Vec::new();
        let mut add = |scope: Scope, keys: &[Key], action: Action| {
            for &key in keys {
                b.push(Binding { scope, key, action: action.clone() });
            }
        };
        let g = Scope::Global;
        add(g, &[Key::ch('?')], A::ToggleHelp);
        add(g, &[Key::ch('q')], A::Back);
        add(g, &[Key::plain(K::Esc)], A::Close);
        add(g, &[Key::ch('Q'), Key::ctrl('c')], A::Quit);
        add(g, &[Key::plain(K::Tab)], A::NextPane);
        add(g, &[Key::plain(K::BackTab)], A::PrevPane);
        add(g, &[Key::ch('j'), Key::plain(K::Down)], A::Down);
        add(g, &[Key::ch('k'), Key::plain(K::Up)], A::Up);
        add(g, &[Key::plain(K::PageDown), Key::ctrl('f'), Key::ctrl('d')], A::PageDown);
        add(g, &[Key::plain(K::PageUp), Key::ctrl('b'), Key::ctrl('u')], A::PageUp);
        add(g, &[Key::ch('g')], A::Top);
        add(g, &[Key::ch('G')], A::Bottom);
        add(g, &[Key::plain(K::Enter)], A::Open);
        add(g, &[Key::ch(' ')], A::TogglePlay);
        add(g, &[Key::ch('.')], A::StepForward);
        add(g, &[Key::ch(',')], A::StepBack);
        add(g, &[Key::ch('[')], A::Slower);
        add(g, &[Key::ch(']')], A::Faster);
        add(g, &[Key::plain(K::Home)], A::Rewind);
        add(g, &[Key::plain(K::End), Key::ch('d')], A::Drain);
        add(g, &[Key::ch(':')], A::OpenPrompt);
        add(g, &[Key::ch('/')], A::OpenSearch);
        add(g, &[Key::ch('n')], A::SearchNext);
        add(g, &[Key::ch('N')], A::SearchPrev);
        add(g, &[Key::ch('e')], A::NextFailure);
        add(g, &[Key::ch('E')], A::PrevFailure);
        add(g, &[Key::ch('x')], A::Explain);
        add(g, &[Key::ch('p')], A::Problems);
        add(g, &[Key::ch('r')], A::SwitchRules);
        let s = Scope::Pane(Pane::Streams);
        add(s, &[Key::ch('f')], A::Filter);
        add(s, &[Key::ch('o')], A::CycleOutcome);
        add(s, &[Key::ch('F')], A::ClearFilter);
        add(s, &[Key::ch('s')], A::CycleSort);
        add(s, &[Key::ch('S')], A::ReverseSort);
        let h = Scope::Help;
        add(h, &[Key::ch('?'), Key::ch('q'), Key::plain(K::Esc)], A::Back);
        add(h, &[Key::ch('j'), Key::plain(K::Down)], A::Down);
        add(h, &[Key::ch('k'), Key::plain(K::Up)], A::Up);
        add(h, &[Key::plain(K::PageDown), Key::ch(' ')], A::PageDown);
        add(h, &[Key::plain(K::PageUp)], A::PageUp);
        add(h, &[Key::ch('g')], A::Top);
        add(h, &[Key::ch('G')], A::Bottom);
        add(h, &[Key::ctrl('c')], A::Quit);
        let p = Scope::Prompt;
        add(p, &[Key::plain(K::Enter)], A::PromptSubmit);
        add(p, &[Key::plain(K::Esc)], A::PromptCancel);
        add(p, &[Key::plain(K::Backspace)], A::PromptBackspace);
        add(p, &[Key::ctrl('w')], A::PromptEraseWord);
        add(p, &[Key::ctrl('u')], A::PromptEraseLine);
        add(p, &[Key::ctrl('c')], A::Quit);
        KeyMap { bindings: b }
    }

    /// The action for a key in a context: the prompt and the help take every
    /// key; otherwise the focused pane's bindings win over the global ones.
    pub fn lookup(&self, key: Key, pane: Pane, help: bool, prompt: bool) -> Option<Action> {
        let find =
            |scope: Scope| self.bindings.iter().find(|b| b.scope == scope && b.key == key).map(|b| b.action.clone());
        if prompt {
            return find(Scope::Prompt).or(match key.code {
                KeyCode::Char(c) if !key.ctrl => Some(Action::PromptInput(c)),
                _ => None,
            });
        }
        if help {
            return find(Scope::Help);
        }
        find(Scope::Pane(pane)).or_else(|| find(Scope::Global))
    }

    /// The scopes in the order the help lists them.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut out: Vec<Scope> = Vec::new();
        for b in &self.bindings {
            if !out.contains(&b.scope) {
                out.push(b.scope);
            }
        }
        out
    }

    /// The bindings of one scope grouped by action, in key-map order: `(keys, action)`.
    pub fn grouped(&self, scope: Scope) -> Vec<(Vec<Key>, Action)> {
        let mut out: Vec<(Vec<Key>, Action)> = Vec::new();
        for b in self.bindings.iter().filter(|b| b.scope == scope) {
            match out.iter_mut().find(|(_, a)| *a == b.action) {
                Some((keys, _)) => keys.push(b.key),
                None => out.push((vec![b.key], b.action.clone())),
            }
        }
        out
    }

    /// The key map as a Markdown table, for the README (a test keeps them equal).
    pub fn markdown(&self) -> String {
        let mut out = String::from("| Keys | Action | Where |\n|---|---|---|\n");
        for scope in self.scopes() {
            for (keys, action) in self.grouped(scope) {
                let keys: Vec<String> = keys.iter().map(|k| format!("`{}`", k.label())).collect();
                out.push_str(&format!(
                    "| {} | {} | {} |\n",
                    keys.join(" "),
                    action.describe(),
                    scope.title().to_lowercase()
                ));
            }
        }
        out
    }

    /// The binding a key has in some pane other than `pane`, when it has none
    /// there or everywhere: what a key pressed in the wrong pane would do.
    pub fn elsewhere(&self, key: Key, pane: Pane) -> Option<(Pane, Action)> {
        self.bindings.iter().find_map(|b| match b.scope {
            Scope::Pane(p) if p != pane && b.key == key => Some((p, b.action.clone())),
            _ => None,
        })
    }

    /// The first key of an action in a scope, for hints.
    pub fn key_for(&self, scope: Scope, action: &Action) -> Option<Key> {
        self.bindings.iter().find(|b| b.scope == scope && b.action == *action).map(|b| b.key)
    }

    /// Every key of an action in a scope, in key-map order.
    pub fn keys_for(&self, scope: Scope, action: &Action) -> Vec<Key> {
        self.bindings.iter().filter(|b| b.scope == scope && b.action == *action).map(|b| b.key).collect()
    }

    /// How a hint on screen names the key for `action` in `scope`: its first
    /// key there, else its first key everywhere, else its name (an action
    /// with no key is reached from the `:` prompt).
    pub fn hint(&self, scope: Scope, action: &Action) -> String {
        self.key_for(scope, action)
            .or_else(|| self.key_for(Scope::Global, action))
            .map(|k| k.label())
            .unwrap_or_else(|| action.name().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_a_scope() {
        let km = KeyMap::standard();
        for (i, a) in km.bindings.iter().enumerate() {
            for b in &km.bindings[i + 1..] {
                assert!(!(a.scope == b.scope && a.key == b.key), "{:?} bound twice in {:?}", a.key, a.scope);
            }
        }
    }

    #[test]
    fn pane_bindings_win_and_prompt_takes_characters() {
        let km = KeyMap::standard();
        assert_eq!(km.lookup(Key::ch('f'), Pane::Streams, false, false), Some(Action::Filter));
        assert_eq!(km.lookup(Key::ch('f'), Pane::Events, false, false), None);
        assert_eq!(km.lookup(Key::ch('q'), Pane::Events, false, true), Some(Action::PromptInput('q')));
        assert_eq!(km.lookup(Key::plain(KeyCode::Enter), Pane::Events, false, true), Some(Action::PromptSubmit));
        assert_eq!(km.lookup(Key::ch(' '), Pane::Events, true, false), Some(Action::PageDown));
        assert_eq!(km.lookup(Key::ch(' '), Pane::Events, false, false), Some(Action::TogglePlay));
    }
}
