//! Colours that carry meaning, the same everywhere: verified green, failed
//! red, error magenta, pending blue; events after the clock dimmed. Every
//! meaning is also written as text (badges `ok`, `U2`, `ERR`, `…`), so a
//! monochrome terminal (`NO_COLOR`) loses nothing.

use crate::pipeline::Code;
use crate::replay::Outcome;
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        Theme { color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn outcome(&self, o: Outcome) -> Style {
        match o {
            Outcome::Verified => self.fg(Color::Green),
            Outcome::Failed => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Outcome::Error => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Outcome::Pending => self.fg(Color::Blue),
        }
    }

    /// The badge of an outcome: `ok`, the code, `ERR`, or `…` while pending.
    pub fn badge(o: Outcome, code: Option<Code>) -> String {
        match (o, code) {
            (Outcome::Verified, _) => "ok".into(),
            (Outcome::Failed, Some(c)) => c.as_str().into(),
            (Outcome::Failed, None) => "FAIL".into(),
            (Outcome::Error, _) => "ERR".into(),
            (Outcome::Pending, _) => "…".into(),
        }
    }

    /// Events and streams the clock has not reached yet.
    pub fn future(&self) -> Style {
        self.fg(Color::DarkGray).add_modifier(Modifier::DIM)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn label(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn playhead(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Marks of the events that prove a verdict and of the *exists*.
    pub fn mark(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }
}
