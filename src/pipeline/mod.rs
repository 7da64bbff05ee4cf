//! Pipelines (SPEC §5): what runs when a stream fires or expires.
//!
//! Each run builds fresh handlers and a fresh scratch [`Env`], passes the
//! stream's events through every handler in turn, then commits every handler
//! if all succeeded or rolls every one back if one failed. Events a handler
//! adds are the run's output events.

pub mod usage;

use crate::event::{sym, Event, MessageId, Sym, Symbols, Value};
use crate::pyfmt;
use crate::time::Timestamp;
pub use usage::{Code, Failure, Finding, MissingField, Verdict};

/// How output events get their message ids (SPEC §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdMode {
    /// Version-5 UUIDs from the *exists*' message id and the output type: stable across replays.
    #[default]
    Stable,
    /// Random version-4 UUIDs, as the original did.
    Random,
}

/// An event a pipeline added (SPEC §5.2).
#[derive(Clone, Debug, PartialEq)]
pub struct OutputEvent {
    /// `compute.instance.exists.verified` or `compute.instance.exists.failed`.
    pub event_type: Sym,
    pub message_id: uuid::Uuid,
    pub timestamp: Timestamp,
    pub stream_id: u32,
    pub instance_id: Option<Value>,
    /// The failure message, or the text `None` when verified.
    pub error: String,
    pub error_code: Option<Code>,
}

impl OutputEvent {
    /// One JSON object, keys sorted, as `emit` writes it.
    pub fn to_json(&self, symbols: &Symbols) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"error\": ");
        pyfmt::push_json_str(&mut out, &self.error);
        out.push_str(", \"error_code\": ");
        match self.error_code {
            Some(c) => pyfmt::push_json_str(&mut out, c.as_str()),
            None => out.push_str("null"),
        }
        out.push_str(", \"event_type\": ");
        pyfmt::push_json_str(&mut out, symbols.get(self.event_type));
        out.push_str(", \"instance_id\": ");
        match self.instance_id {
            Some(v) => v.push_json(symbols, &mut out),
            None => out.push_str("null"),
        }
        out.push_str(", \"message_id\": ");
        pyfmt::push_json_str(&mut out, &self.message_id.to_string());
        out.push_str(&format!(", \"stream_id\": {}, \"timestamp\": ", self.stream_id));
        pyfmt::push_json_str(&mut out, &self.timestamp.iso());
        out.push('}');
        out
    }
}

/// The stable id of an output event: a version-5 UUID in the namespace of the
/// *exists*' message id (itself a UUID, or hashed into one), named by the output type.
pub fn stable_output_id(exists_message_id: MessageId, symbols: &Symbols, output_type: &str) -> uuid::Uuid {
    let namespace = match exists_message_id {
        MessageId::Uuid(b) => uuid::Uuid::from_bytes(b),
        MessageId::Text(s) => {
            let text = symbols.get(s);
            uuid::Uuid::parse_str(text)
                .unwrap_or_else(|_| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, text.as_bytes()))
        }
    };
    uuid::Uuid::new_v5(&namespace, output_type.as_bytes())
}

/// The scratch environment of one pipeline run.
#[derive(Debug, Default)]
pub struct Env {
    pub stream_id: u32,
    /// What the usage handler concluded, for the stream's outcome.
    pub usage: Option<Verdict>,
}

/// An event travelling through a pipeline: one of the stream's, or one a handler added.
#[derive(Clone, Debug)]
pub enum PipelineEvent<'a> {
    Stream(&'a Event),
    Output(OutputEvent),
}

impl PipelineEvent<'_> {
    fn type_and_id(&self, symbols: &Symbols) -> (String, String) {
        match self {
            PipelineEvent::Stream(e) => (symbols.get(e.event_type).into(), e.message_id(symbols).into_owned()),
            PipelineEvent::Output(o) => (symbols.get(o.event_type).into(), o.message_id.to_string()),
        }
    }
}

/// What a handler works with besides the events.
pub struct Context<'a> {
    pub symbols: &'a Symbols,
    pub ids: IdMode,
    /// The pipeline log, when one is being kept.
    log: Option<&'a mut Vec<String>>,
}

impl Context<'_> {
    /// Add a line to the pipeline log (formatted only when a log is kept).
    pub fn log(&mut self, line: impl FnOnce() -> String) {
        if let Some(l) = self.log.as_mut() {
            l.push(line());
        }
    }
}

/// One pipeline handler (Winchester's `PipelineHandlerBase`).
pub trait Handler {
    fn name(&self) -> &'static str;
    fn handle_events<'e>(
        &mut self,
        events: Vec<PipelineEvent<'e>>,
        env: &mut Env,
        cx: &mut Context,
    ) -> Result<Vec<PipelineEvent<'e>>, String>;
    fn commit(&mut self, _cx: &mut Context) {}
    fn rollback(&mut self, _cx: &mut Context) {}
}

/// `logger`: records what it received.
#[derive(Default)]
pub struct LoggerHandler;

impl Handler for LoggerHandler {
    fn name(&self) -> &'static str {
        "logger"
    }
    fn handle_events<'e>(
        &mut self,
        events: Vec<PipelineEvent<'e>>,
        _env: &mut Env,
        cx: &mut Context,
    ) -> Result<Vec<PipelineEvent<'e>>, String> {
        let symbols = cx.symbols;
        cx.log(|| format!("Received {} events:", events.len()));
        for e in &events {
            cx.log(|| {
                let (t, id) = e.type_and_id(symbols);
                format!("{t}: {id}")
            });
        }
        Ok(events)
    }
}

/// `usage`: the checks of SPEC §5.1 and the output event of §5.2.
#[derive(Default)]
pub struct UsageHandler {
    /// The output event, held until commit.
    pending: Option<uuid::Uuid>,
}

impl Handler for UsageHandler {
    fn name(&self) -> &'static str {
        "usage"
    }
    fn handle_events<'e>(
        &mut self,
        mut events: Vec<PipelineEvent<'e>>,
        env: &mut Env,
        cx: &mut Context,
    ) -> Result<Vec<PipelineEvent<'e>>, String> {
        let stream: Vec<&Event> = events
            .iter()
            .filter_map(|e| match e {
                PipelineEvent::Stream(e) => Some(*e),
                PipelineEvent::Output(_) => None,
            })
            .collect();
        let verdict = match usage::check(&stream, cx.symbols) {
            Ok(v) => v,
            Err(missing) => {
                let field = cx.symbols.get(missing.field).to_string();
                cx.log(|| format!("Stream {} crashed: KeyError: '{field}'", env.stream_id));
                return Err(missing.describe(&stream, cx.symbols));
            }
        };
        if let Some(f) = &verdict.failure {
            cx.log(|| format!("Stream {} UsageException: ({}) {}", env.stream_id, f.code, f.message));
        }
        match verdict.exists {
            Some(x) => {
                let exists = stream[x];
                let (event_type, error, error_code) = match &verdict.failure {
                    None => (sym::EXISTS_VERIFIED, "None".to_string(), None),
                    Some(f) => (sym::EXISTS_FAILED, f.message.clone(), Some(f.code)),
                };
                let message_id = match cx.ids {
                    IdMode::Stable => stable_output_id(exists.message_id, cx.symbols, cx.symbols.get(event_type)),
                    IdMode::Random => uuid::Uuid::new_v4(),
                };
                self.pending = Some(message_id);
                events.push(PipelineEvent::Output(OutputEvent {
                    event_type,
                    message_id,
                    timestamp: exists.timestamp,
                    stream_id: env.stream_id,
                    instance_id: exists.get(sym::INSTANCE_ID),
                    error,
                    error_code,
                }));
            }
            None => cx.log(|| "No .exists record".to_string()),
        }
        env.usage = Some(verdict);
        Ok(events)
    }
    fn commit(&mut self, cx: &mut Context) {
        if let Some(id) = self.pending.take() {
            cx.log(|| format!("usage: committed output event {id}"));
        }
    }
    fn rollback(&mut self, cx: &mut Context) {
        if self.pending.take().is_some() {
            cx.log(|| "usage: rolled back its output event".to_string());
        }
    }
}

/// The result of one pipeline run.
#[derive(Clone, Debug)]
pub struct PipelineRun {
    /// `Err` holds the description of the failure (the stream goes to `error`).
    pub result: Result<(), String>,
    pub verdict: Option<Verdict>,
    /// Events the handlers added, kept only when the run succeeded.
    pub output: Vec<OutputEvent>,
    pub log: Vec<String>,
}

/// The pipeline both fire and expire use: `[logger, usage]` (SPEC §3).
pub fn usage_pipeline() -> Vec<Box<dyn Handler>> {
    vec![Box::new(LoggerHandler), Box::new(UsageHandler::default())]
}

/// Run a fresh pipeline over a stream's events, keeping its log.
pub fn run(stream_id: u32, events: &[&Event], symbols: &Symbols, ids: IdMode) -> PipelineRun {
    run_with(stream_id, events, symbols, ids, true)
}

/// Run a fresh pipeline; `keep_log` false skips formatting the log (the headless replay).
pub fn run_with(stream_id: u32, events: &[&Event], symbols: &Symbols, ids: IdMode, keep_log: bool) -> PipelineRun {
    let mut handlers = usage_pipeline();
    let mut env = Env { stream_id, usage: None };
    let mut log = Vec::new();
    let mut cx = Context { symbols, ids, log: if keep_log { Some(&mut log) } else { None } };
    // Room for the output event the usage handler adds.
    let mut list: Vec<PipelineEvent> = Vec::with_capacity(events.len() + 1);
    list.extend(events.iter().map(|e| PipelineEvent::Stream(e)));
    let mut failure = None;
    for h in handlers.iter_mut() {
        match h.handle_events(list, &mut env, &mut cx) {
            Ok(next) => list = next,
            Err(e) => {
                let name = h.name();
                cx.log(|| format!("handler {name} failed: {e}"));
                failure = Some(e);
                list = Vec::new();
                break;
            }
        }
    }
    let output = match &failure {
        None => {
            for h in handlers.iter_mut() {
                h.commit(&mut cx);
            }
            // Not `collect`: it would reuse the list's allocation, a slot per stream
            // event, to hold the one output event for as long as the result lives.
            let mut output = Vec::new();
            output.extend(list.into_iter().filter_map(|e| match e {
                PipelineEvent::Output(o) => Some(o),
                PipelineEvent::Stream(_) => None,
            }));
            output
        }
        Some(_) => {
            for h in handlers.iter_mut() {
                h.rollback(&mut cx);
            }
            Vec::new()
        }
    };
    PipelineRun {
        result: match failure {
            None => Ok(()),
            Some(e) => Err(e),
        },
        verdict: env.usage,
        output,
        log,
    }
}
