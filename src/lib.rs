//! `usage-replay`: replay archived nova notifications through the machinery
//! StackTach Winchester used to audit usage.
//!
//! The engine is a library with no terminal in it:
//! [`archive`] reads inputs (docs/inputs.md#archives), [`distill`] turns notifications into
//! events (docs/distillation.md#events), [`trigger`] and [`replay`] group them into streams on the
//! time-sync clock (docs/streams.md#matching and docs/streams.md#replay), [`pipeline`] runs the usage checks (docs/checks.md#pipelines),
//! [`explain`] says what a verdict means, [`report`] writes the headless
//! output (docs/outputs.md#audit), [`timesync`] speaks the time-sync protocol (docs/timesync.md#protocol), and
//! [`generate`] makes synthetic archives with known verdicts.

pub mod archive;
pub mod bounded;
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
pub mod shard;
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
