//! Pipelines (docs/checks.md#pipelines): what runs when a stream fires or expires.
//!
//! Each run builds fresh handlers and a fresh scratch [`Env`], passes the
//! stream's events through every handler in turn, then commits every handler
//! if all succeeded or rolls every one back if one failed. Events a handler
//! adds are the run's output events.

pub mod usage;
pub mod usage2015;

use crate::event::Trait;
use crate::event::{sym, Event, MessageId, Sym, Symbols, Value};
use crate::pyfmt;
use crate::rules::{Handler as UsageRules, RuleSet};
use crate::time::Timestamp;
pub use usage::{Code, Failure, Finding, MissingField, Verdict};
pub use usage2015::{Audit2015, ExistsResult};

/// How output events get their message ids (docs/checks.md#output-events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdMode {
    /// Version-5 UUIDs from the *exists*' message id and the output type: stable across replays.
    #[default]
    Stable,
    /// Random version-4 UUIDs, as the original did.
    Random,
}

/// An event a pipeline added (docs/checks.md#output-events).
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
    /// What else the event carries beyond the 2014 shape.
    pub shape: OutputShape,
}

/// The shapes of output events (docs/outputs.md#emit, docs/rules2015.md#output-events).
#[derive(Clone, Debug, PartialEq, Default)]
pub enum OutputShape {
    /// `error`, `error_code`, `event_type`, `instance_id`, `message_id`,
    /// `stream_id`, `timestamp`: the 2014 result and the 2015 trailing-block U0.
    #[default]
    Plain,
    /// A 2015 result: a copy of every trait of the `.exists`, with defaults
    /// for the bandwidth and options, and `publisher_id: "stv3"`.
    Result2015 { copied: Box<[Trait]>, original_message_id: MessageId },
    /// `compute.instance.exists.warnings`: every warning so far, joined (no `error` keys).
    Warnings2015 { warnings: String },
}

impl OutputEvent {
    /// One JSON object, keys sorted, as `emit` writes it.
    pub fn to_json(&self, symbols: &Symbols) -> String {
        if self.shape != OutputShape::Plain {
            return self.to_json_2015(symbols);
        }
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

impl OutputEvent {
    /// The 2015 shapes: built as a map, written with sorted keys as Python's
    /// `json.dumps(sort_keys=True)` would.
    fn to_json_2015(&self, symbols: &Symbols) -> String {
        let mut fields: std::collections::BTreeMap<String, String> = Default::default();
        let json_str = |s: &str| {
            let mut o = String::new();
            pyfmt::push_json_str(&mut o, s);
            o
        };
        let value = |v: Value| {
            let mut o = String::new();
            v.push_json(symbols, &mut o);
            o
        };
        match &self.shape {
            OutputShape::Result2015 { copied, original_message_id } => {
                for t in copied {
                    fields.insert(symbols.get(t.name).to_string(), value(t.value));
                }
                fields.entry("bandwidth_in".into()).or_insert_with(|| "0".into());
                fields.entry("bandwidth_out".into()).or_insert_with(|| "0".into());
                fields.entry("rax_options".into()).or_insert_with(|| json_str("0"));
                fields.insert("original_message_id".into(), json_str(&original_message_id.text(symbols)));
                fields.insert("error".into(), json_str(&self.error));
                fields.insert(
                    "error_code".into(),
                    self.error_code.map_or_else(|| "null".into(), |c| json_str(c.as_str())),
                );
            }
            OutputShape::Warnings2015 { warnings } => {
                fields.insert("instance_id".into(), self.instance_id.map_or_else(|| "null".into(), value));
                fields.insert("warnings".into(), json_str(warnings));
            }
            OutputShape::Plain => {}
        }
        fields.insert("event_type".into(), json_str(symbols.get(self.event_type)));
        fields.insert("message_id".into(), json_str(&self.message_id.to_string()));
        fields.insert("publisher_id".into(), json_str("stv3"));
        fields.insert("stream_id".into(), self.stream_id.to_string());
        fields.insert("timestamp".into(), json_str(&self.timestamp.iso()));
        let mut out = String::with_capacity(1024);
        out.push('{');
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            pyfmt::push_json_str(&mut out, k);
            out.push_str(": ");
            out.push_str(v);
        }
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
    /// What the 2015 usage handler concluded.
    pub usage2015: Option<Audit2015>,
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

/// Which output events a pipeline run makes (docs/checks.md#output-events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outputs {
    /// None: the audit reports verdicts only, and a verdict never depends on
    /// the output events, so it does not pay for their ids.
    None,
    /// Every output event, a 2015 result without the `.exists`' traits.
    Plain,
    /// Every output event, a 2015 result with a copy of the `.exists`' traits:
    /// only worth it when the archive kept every trait (`emit`).
    WithTraits,
}

/// What a handler works with besides the events.
pub struct Context<'a> {
    pub symbols: &'a Symbols,
    pub ids: IdMode,
    /// Which output events the handlers make.
    pub outputs: Outputs,
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

/// `usage`: the checks of docs/checks.md#usage-checks and the output event of docs/checks.md#output-events.
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
        let stream = stream_events(&events);
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
            Some(_) if cx.outputs == Outputs::None => {}
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
                    shape: OutputShape::Plain,
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

/// `usage` under the 2015 rules (docs/rules2015.md#checks): a result per
/// `.exists`, warnings, and the trailing-block U0.
#[derive(Default)]
pub struct Usage2015Handler {
    pending: usize,
}

/// The stream's own events among a pipeline's events (not the outputs of earlier handlers).
fn stream_events<'e>(events: &[PipelineEvent<'e>]) -> Vec<&'e Event> {
    events
        .iter()
        .filter_map(|e| match e {
            PipelineEvent::Stream(e) => Some(*e),
            PipelineEvent::Output(_) => None,
        })
        .collect()
}

/// A version-5 id derived from text that is not a UUID (the ids the original drew at random).
fn derived_id(seed: &str, output_type: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, seed.as_bytes()), output_type.as_bytes())
}

impl Handler for Usage2015Handler {
    fn name(&self) -> &'static str {
        "usage"
    }
    fn handle_events<'e>(
        &mut self,
        mut events: Vec<PipelineEvent<'e>>,
        env: &mut Env,
        cx: &mut Context,
    ) -> Result<Vec<PipelineEvent<'e>>, String> {
        let stream = stream_events(&events);
        let audit = match usage2015::check(&stream, cx.symbols) {
            Ok(a) => a,
            Err(crash) => {
                let why = crash.describe(&stream, cx.symbols);
                cx.log(|| format!("Stream {} crashed: {why}", env.stream_id));
                return Err(why);
            }
        };
        let symbols = cx.symbols;
        for r in &audit.results {
            if let Some(f) = &r.failure {
                cx.log(|| format!("Stream {} UsageException: ({}) {}", env.stream_id, f.code, f.message));
            }
            if cx.outputs == Outputs::None {
                continue;
            }
            let (event_type, error, error_code) = match &r.failure {
                None => (sym::EXISTS_VERIFIED, "None".to_string(), None),
                Some(f) => (sym::EXISTS_FAILED, f.message.clone(), Some(f.code)),
            };
            let type_name = symbols.get(event_type);
            let Some(x) = r.exists else {
                // The trailing block: no `.exists` at all.
                let first = stream[r.block.start];
                let message_id = match cx.ids {
                    IdMode::Stable => derived_id(&format!("{}/trailing", first.message_id(symbols)), type_name),
                    IdMode::Random => uuid::Uuid::new_v4(),
                };
                events.push(PipelineEvent::Output(OutputEvent {
                    event_type,
                    message_id,
                    timestamp: first.timestamp,
                    stream_id: env.stream_id,
                    instance_id: first.get(sym::INSTANCE_ID),
                    error,
                    error_code,
                    shape: OutputShape::Plain,
                }));
                continue;
            };
            let exists = stream[x];
            let exists_id = exists.message_id(symbols);
            if r.warnings_so_far > 0 {
                let warn_type = symbols.get(sym::EXISTS_WARNINGS);
                let message_id = match cx.ids {
                    IdMode::Stable => derived_id(&format!("{exists_id}/{}", r.warnings_so_far), warn_type),
                    IdMode::Random => uuid::Uuid::new_v4(),
                };
                events.push(PipelineEvent::Output(OutputEvent {
                    event_type: sym::EXISTS_WARNINGS,
                    message_id,
                    timestamp: exists.timestamp,
                    stream_id: env.stream_id,
                    instance_id: exists.get(sym::INSTANCE_ID),
                    error: String::new(),
                    error_code: None,
                    shape: OutputShape::Warnings2015 { warnings: audit.warnings[..r.warnings_so_far].join(", ") },
                }));
            }
            // The original's own rule: a version-5 id in the namespace of the
            // `.exists`' message id, a random one when it has none.
            let message_id = match (cx.ids, usage2015::python_uuid(&exists_id)) {
                (IdMode::Stable, Some(ns)) if !exists_id.is_empty() => uuid::Uuid::new_v5(&ns, type_name.as_bytes()),
                _ => uuid::Uuid::new_v4(),
            };
            events.push(PipelineEvent::Output(OutputEvent {
                event_type,
                message_id,
                timestamp: exists.timestamp,
                stream_id: env.stream_id,
                instance_id: exists.get(sym::INSTANCE_ID),
                error,
                error_code,
                shape: OutputShape::Result2015 {
                    copied: if cx.outputs == Outputs::WithTraits {
                        exists.traits.iter().collect()
                    } else {
                        Box::default()
                    },
                    original_message_id: exists.message_id,
                },
            }));
        }
        self.pending = audit.results.len();
        env.usage2015 = Some(audit);
        Ok(events)
    }
    fn commit(&mut self, cx: &mut Context) {
        if self.pending > 0 {
            let n = std::mem::take(&mut self.pending);
            cx.log(|| format!("usage: committed {n} output events"));
        }
    }
    fn rollback(&mut self, cx: &mut Context) {
        if std::mem::take(&mut self.pending) > 0 {
            cx.log(|| "usage: rolled back its output events".to_string());
        }
    }
}

/// The result of one pipeline run.
#[derive(Clone, Debug)]
pub struct PipelineRun {
    /// `Err` holds the description of the failure (the stream goes to `error`).
    pub result: Result<(), String>,
    pub verdict: Option<Verdict>,
    pub audit2015: Option<Audit2015>,
    /// Events the handlers added, kept only when the run succeeded.
    pub output: Vec<OutputEvent>,
    pub log: Vec<String>,
}

/// The pipeline both fire and expire use: `[logger, usage]` (docs/streams.md#firing),
/// with the rule set's usage handler.
pub fn usage_pipeline(rules: RuleSet) -> Vec<Box<dyn Handler>> {
    let usage: Box<dyn Handler> = match rules.handler() {
        UsageRules::Usage2014 => Box::new(UsageHandler::default()),
        UsageRules::Usage2015 => Box::new(Usage2015Handler::default()),
    };
    vec![Box::new(LoggerHandler), usage]
}

/// Run a fresh 2014 pipeline over a stream's events, keeping its log.
pub fn run(stream_id: u32, events: &[&Event], symbols: &Symbols, ids: IdMode) -> PipelineRun {
    run_with(RuleSet::Y2014, stream_id, events, symbols, ids, true, Outputs::WithTraits)
}

/// Run a fresh pipeline of a rule set; `keep_log` false skips formatting the
/// log (the headless replay).
pub fn run_with(
    rules: RuleSet,
    stream_id: u32,
    events: &[&Event],
    symbols: &Symbols,
    ids: IdMode,
    keep_log: bool,
    outputs: Outputs,
) -> PipelineRun {
    let mut handlers = usage_pipeline(rules);
    let mut env = Env { stream_id, usage: None, usage2015: None };
    let mut log = Vec::new();
    let mut cx = Context { symbols, ids, outputs, log: if keep_log { Some(&mut log) } else { None } };
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
        audit2015: env.usage2015,
        output,
        log,
    }
}
