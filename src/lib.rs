//! `usage-replay`: replay archived nova notifications through the machinery
//! StackTach Winchester used to audit usage.
//!
//! The engine is a library with no terminal in it:
//! [`archive`] reads inputs (SPEC §1), [`distill`] turns notifications into
//! events (§2), [`trigger`] and [`replay`] group them into streams on the
//! time-sync clock (§3–4), [`pipeline`] runs the usage checks (§5),
//! [`explain`] says what a verdict means, [`report`] writes the headless
//! output (§7), [`timesync`] speaks the time-sync protocol (§4.1), and
//! [`generate`] makes synthetic archives with known verdicts.

pub mod archive;
pub mod demo;
pub mod distill;
pub mod event;
pub mod explain;
pub mod generate;
pub mod hash;
pub mod json;
pub mod merge;
pub mod pipeline;
pub mod pyfmt;
pub mod replay;
pub mod report;
pub mod rules;
pub mod symbols;
pub mod text;
pub mod ticket;
pub mod time;
#[cfg(feature = "timesync")]
pub mod timesync;
pub mod triage;
pub mod trigger;
#[cfg(feature = "tui")]
pub mod tui;
