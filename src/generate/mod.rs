//! `usage-replay generate` (the README, "Generating archives"): synthetic archives of realistic,
//! self-consistent nova lifecycles as raw legacy notifications, with a chosen
//! share of injected discrepancies and, optionally, the expected verdict of
//! every stream (the *truth*).
//!
//! # The cloud
//! `instances` *slots* each hold one instance at a time; an instance deleted
//! is replaced by a new one a few days later, so the cloud keeps its size.
//! Instances run on `instances / 25` compute hosts, belong to `instances / 4`
//! tenants, and use the flavors and images of [`catalog`]. Each instance-day,
//! with probability `ops`, users act on the instance (reboot, snapshot, power
//! off/on, resize then confirm or revert, rebuild, rescue then unrescue);
//! with probability `churn` it is deleted. A resize can stay unconfirmed and a
//! rescue or a power-off can last overnight: the next day starts by resolving
//! them.
//!
//! # The notifications
//! Every operation sends the sequence nova sends, as captured in StackTach
//! notigen's templates (openstack/stacktach-notigen, Apache License 2.0: real
//! notifications from a production cloud; the sequences in [`plan`], the
//! envelope and payload shapes in [`json`] follow them): a create with its
//! `compute.instance.update`s and the `scheduler.run_instance.*` traffic
//! (not distilled, by design of the event definitions), a resize across two
//! hosts (`resize.prep.*`, `resize.*`, `finish_resize.*`, `resize.confirm.*`
//! or `resize.revert.*`), rebuilds, rescues, deletes with `shutdown.*`, and
//! the `.exists` nova sends in the middle of a resize, rebuild or rescue (the
//! unfinished audit period, midnight to now). Operation `.start` events carry
//! the values from before the operation, and resize, revert, rebuild and
//! rescue give the instance a new `launched_at`: such a day fails U2 against
//! its end-of-day `.exists`, as it did in production (docs/checks.md#usage-checks).
//!
//! Shortly after each midnight, every instance alive during the day (deleted
//! ones included) gets its end-of-day `compute.instance.exists`: audit period
//! midnight to midnight, values as of the end of the day. The audit of a host
//! starts at a fixed time within ten minutes of midnight.
//!
//! # What the generator avoids, so that the truth is known by construction
//! - Operations never cross midnight: they happen between 00:30 and 23:40, so
//!   an instance-day's events all fall in that day, before its `.exists`.
//!   Hence no event arrives after its stream fired, no stream has two events
//!   more than two days apart, and each instance-day is exactly one stream
//!   (docs/streams.md#matching and docs/streams.md#replay's second streams never occur).
//! - An instance deleted during a day still gets that day's `.exists` (nova's
//!   audit includes instances terminated during the period); a day without
//!   `.exists` is only ever the injected U0.
//! - The archive starts at the first day's midnight: it holds no `.exists` for
//!   the day before, and ends with the last day's `.exists`.
//! - No `compute.instance.exists.verified` (a verifier's output, not nova's).
//!
//! # Anomalies
//! With probability `anomalies`, an instance-day gets one [`model::Anomaly`],
//! its code drawn from [`model::ANOMALY_MIX`]. Each is built so that no check
//! earlier in the evaluation order can decide the day first (the day holds no
//! relaunching operation unless the anomaly is U0 or U1, deletions are forced
//! or forbidden as the anomaly needs). The truth itself is computed by
//! [`expect`] from the notifications' own values, for every stream.
//!
//! # Output
//! Slots plan one day at a time and their notifications are merged by
//! timestamp through a heap, so the archive is written in timestamp order in
//! memory proportional to the number of instances, never to the archive. A
//! writer thread writes while the next megabyte is formatted; with `--gzip`
//! it compresses megabyte chunks in parallel, each as a gzip member of its
//! own (a multi-member gzip file, which every gzip reader decodes whole).

pub mod catalog;
pub mod expect;
pub mod json;
pub mod model;
pub mod plan;

use expect::{Expected, Outcome};
use model::{Anomaly, RequestCtx, StepKind, AUDIT, DAY};
use plan::{Config, Slot};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub instances: u32,
    pub days: u32,
    pub seed: u64,
    /// Share of instance-days with an injected anomaly.
    pub anomalies: f64,
    /// Share of instance-days with user operations.
    pub ops: f64,
    /// Share of instance-days on which the instance is deleted.
    pub churn: f64,
    /// First day, in days since 1970-01-01.
    pub start_day: i64,
    /// gzip the archive at this level (0–9).
    pub gzip: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{0}")]
    Invalid(String),
    #[error("writing the archive")]
    Archive(#[source] io::Error),
    #[error("writing the truth")]
    Truth(#[source] io::Error),
}

impl Options {
    pub fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |m: String| Err(GenerateError::Invalid(m));
        if self.instances == 0 {
            return invalid("--instances must be at least 1".into());
        }
        if self.days == 0 || self.days > 3660 {
            return invalid(format!("--days must be between 1 and 3660, not {}", self.days));
        }
        for (name, v) in [("--anomalies", self.anomalies), ("--ops", self.ops), ("--churn", self.churn)] {
            if !(0.0..=1.0).contains(&v) {
                return invalid(format!("{name} is a share of instance-days, between 0 and 1, not {v}"));
            }
        }
        if let Some(l) = self.gzip.filter(|l| *l > 9) {
            return invalid(format!("--gzip-level must be between 0 and 9, not {l}"));
        }
        // Datetimes are written with four-digit years.
        if !(0..2_900_000).contains(&(self.start_day + self.days as i64)) || self.start_day < 0 {
            return invalid("--start must be between 1970 and 9999".into());
        }
        Ok(())
    }

    fn config(&self) -> Config {
        Config {
            seed: self.seed,
            instances: self.instances,
            hosts: self.instances.div_ceil(25),
            start_day: self.start_day,
            days: self.days,
            ops: self.ops,
            churn: self.churn,
            anomalies: self.anomalies,
        }
    }
}

/// What was generated.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub notifications: u64,
    /// Bytes of JSON Lines before compression.
    pub bytes: u64,
    pub instances: u64,
    /// Streams, by expected outcome.
    pub streams: u64,
    pub verified: u64,
    pub failed: u64,
    pub error: u64,
    /// Expected failed streams by code U0..U8.
    pub codes: [u64; 9],
    /// Injected anomalies, by kind (in the order of [`Anomaly::ALL`]).
    pub anomalies: [u64; Anomaly::ALL.len()],
}

impl Summary {
    /// What was written and how fast, for the command's stderr.
    pub fn describe(&self, took: std::time::Duration) -> String {
        let secs = took.as_secs_f64().max(1e-9);
        let codes: Vec<String> =
            self.codes.iter().enumerate().filter(|(_, n)| **n > 0).map(|(c, n)| format!("U{c} {n}")).collect();
        let injected: Vec<String> = Anomaly::ALL
            .iter()
            .zip(self.anomalies)
            .filter(|(_, n)| *n > 0)
            .map(|(a, n)| format!("{} {n}", a.name()))
            .collect();
        format!(
            "usage-replay: generated {} notifications ({:.1} MB) for {} instances in {:.2} s \
             ({:.0} notifications/s, {:.0} MB/s)\n  streams: {} (verified {}, failed {} [{}], error {})\n  \
             injected: {} ({})\n",
            self.notifications,
            self.bytes as f64 / 1e6,
            self.instances,
            secs,
            self.notifications as f64 / secs,
            self.bytes as f64 / 1e6 / secs,
            self.streams,
            self.verified,
            self.failed,
            codes.join(", "),
            self.error,
            self.anomalies.iter().sum::<u64>(),
            injected.join(", ")
        )
    }

    fn record(&mut self, e: &Expected, anomaly: Option<Anomaly>) {
        self.streams += 1;
        match e.outcome {
            Outcome::Verified => self.verified += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Error => self.error += 1,
        }
        if let Some(c) = e.code {
            self.codes[c as usize] += 1;
        }
        if let Some(a) = anomaly {
            if let Some(i) = Anomaly::ALL.iter().position(|x| *x == a) {
                self.anomalies[i] += 1;
            }
        }
    }
}

/// Generate the archive into `out` and, when given, the truth into `truth`.
pub fn generate(
    opts: &Options,
    out: Box<dyn Write + Send>,
    mut truth: Option<&mut dyn Write>,
) -> Result<Summary, GenerateError> {
    opts.validate()?;
    let cfg = opts.config();
    let fmt = json::Formatter::new();
    let mut sink = Sink::spawn(out, opts.gzip);
    let mut summary = Summary::default();
    let mut line = Vec::with_capacity(256);

    let mut slots: Vec<Slot> = (0..cfg.instances).map(|i| Slot::new(i, &cfg)).collect();
    let mut heap: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::with_capacity(slots.len());
    for slot in slots.iter_mut() {
        if slot.plan_next(&cfg) {
            record(slot, &mut summary, &mut truth, &mut line)?;
            heap.push(Reverse((slot.steps[0].at, slot.index)));
        }
    }

    let mut result = Ok(());
    while let Some(Reverse((_, i))) = heap.pop() {
        let slot = &mut slots[i as usize];
        let step = slot.steps[slot.pos];
        slot.pos += 1;
        let Some(inst) = slot.inst.as_ref() else { continue };
        let request = match step.request {
            AUDIT => audit_request(&cfg, step.host, &step),
            r => slot.requests[r as usize],
        };
        let bandwidth = match step.kind {
            StepKind::Exists { .. } => {
                let r = &mut slot.rng;
                [r.below(2_000_000_000), r.below(400_000_000), r.below(8_000_000_000), r.below(600_000_000)]
            }
            _ => [0; 4],
        };
        let n = json::Notification {
            step: &step,
            inst,
            request,
            message_id: slot.rng.uuid4(),
            unique_id: ((slot.rng.u64() as u128) << 64) | slot.rng.u64() as u128,
            bandwidth,
        };
        fmt.write(&mut sink.buf, &n);
        summary.notifications += 1;
        if let Err(e) = sink.flush_if_full() {
            result = Err(e);
            break;
        }
        if slot.pos < slot.steps.len() {
            heap.push(Reverse((slot.steps[slot.pos].at, i)));
        } else if slot.plan_next(&cfg) {
            if let Err(e) = record(slot, &mut summary, &mut truth, &mut line) {
                result = Err(e);
                break;
            }
            heap.push(Reverse((slot.steps[0].at, i)));
        }
    }
    summary.bytes = sink.bytes + sink.buf.len() as u64;
    summary.instances = slots.iter().map(|s| s.instances_created()).sum();
    let finished = sink.finish();
    result?;
    finished?;
    if let Some(t) = truth.as_mut() {
        t.flush().map_err(GenerateError::Truth)?;
    }
    Ok(summary)
}

/// The nightly audit of a host runs under one admin request per night.
fn audit_request(cfg: &Config, host: u32, step: &model::Step) -> RequestCtx {
    let beginning = match step.kind {
        StepKind::Exists { beginning, .. } => beginning,
        _ => step.at,
    };
    let day = beginning.div_euclid(DAY);
    let h = model::mix(cfg.seed ^ model::mix(host as u64 ^ ((day as u64) << 24)));
    let bytes = ((h as u128) << 64 | model::mix(h) as u128).to_be_bytes();
    RequestCtx {
        request_id: uuid::Builder::from_random_bytes(bytes).into_uuid().as_u128(),
        auth_token: None,
        remote_address: 0,
        is_admin: true,
        timestamp: (day + 1) * DAY + cfg.audit_offset(host),
    }
}

/// Work out the truth of the day the slot just planned, count it, write it.
fn record(
    slot: &Slot,
    summary: &mut Summary,
    truth: &mut Option<&mut dyn Write>,
    line: &mut Vec<u8>,
) -> Result<(), GenerateError> {
    let Some(e) = expect::expect(&slot.steps) else { return Ok(()) };
    summary.record(&e, slot.plan.anomaly);
    let (Some(t), Some(inst)) = (truth.as_mut(), slot.inst.as_ref()) else { return Ok(()) };
    line.clear();
    write_truth(line, inst.uuid, slot.plan.day, &e, &slot.plan);
    t.write_all(line).map_err(GenerateError::Truth)
}

/// One line of the truth: `{"instance_id", "day", "outcome", "code", "message",
/// "trigger", "event_count", "scenario", "anomaly"}`.
/// A check code as JSON: `"U2"`, or `null`.
fn push_code(out: &mut Vec<u8>, code: Option<u8>) {
    match code {
        Some(c) => {
            out.extend_from_slice(b"\"U");
            json::push_int(out, c);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

pub fn write_truth(out: &mut Vec<u8>, instance: u128, day: i64, e: &Expected, plan: &plan::DayPlan) {
    out.extend_from_slice(b"{\"instance_id\": \"");
    json::push_uuid(out, instance);
    out.extend_from_slice(b"\", \"day\": \"");
    json::push_date(out, day);
    out.extend_from_slice(b"\", \"outcome\": \"");
    out.extend_from_slice(e.outcome.as_str().as_bytes());
    out.extend_from_slice(b"\", \"code\": ");
    push_code(out, e.code);
    out.extend_from_slice(b", \"message\": ");
    json::push_str(out, &e.message);
    out.extend_from_slice(b", \"trigger\": ");
    out.extend_from_slice(if e.fires { b"\"fire\"" } else { b"\"expire\"" });
    out.extend_from_slice(b", \"event_count\": ");
    json::push_int(out, e.event_count);
    // docs/rules2015.md#checks: the same stream's verdict under the 2015 rules.
    let y = &e.y2015;
    out.extend_from_slice(b", \"rules2015\": {\"outcome\": \"");
    out.extend_from_slice(y.outcome.as_str().as_bytes());
    out.extend_from_slice(b"\", \"code\": ");
    push_code(out, y.code);
    out.extend_from_slice(b", \"message\": ");
    json::push_str(out, &y.message);
    out.extend_from_slice(b", \"warnings\": ");
    json::push_int(out, y.warnings);
    out.push(b'}');
    out.extend_from_slice(b", \"scenario\": ");
    json::push_str(out, &plan.scenario());
    out.extend_from_slice(b", \"anomaly\": ");
    match plan.anomaly {
        Some(a) => json::push_str(out, a.name()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
}

/// Bytes handed to the writer thread at a time.
const CHUNK: usize = 1 << 20;

/// The archive's writer: a thread that compresses and writes full chunks
/// while the generator formats the next one.
struct Sink {
    buf: Vec<u8>,
    bytes: u64,
    tx: Option<mpsc::SyncSender<Vec<u8>>>,
    recycled: mpsc::Receiver<Vec<u8>>,
    handle: Option<thread::JoinHandle<io::Result<()>>>,
}

impl Sink {
    fn spawn(out: Box<dyn Write + Send>, gzip: Option<u32>) -> Sink {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
        let (back_tx, recycled) = mpsc::channel();
        let handle = thread::spawn(move || -> io::Result<()> {
            let mut out = out;
            let Some(level) = gzip else {
                for chunk in rx {
                    out.write_all(&chunk)?;
                    // The generator may have finished already; then the buffer is just dropped.
                    let _ = back_tx.send(chunk);
                }
                return out.flush();
            };
            // Chunks are compressed side by side as independent gzip members
            // (a valid gzip file; readers decode the members one after another).
            let width = rayon::current_num_threads().max(1);
            let mut batch = Vec::with_capacity(width);
            let mut rx = rx.into_iter().peekable();
            while rx.peek().is_some() {
                batch.extend(rx.by_ref().take(width));
                let members: Vec<io::Result<Vec<u8>>> =
                    batch.par_iter().map(|chunk: &Vec<u8>| gzip_member(chunk, level)).collect();
                for m in members {
                    out.write_all(&m?)?;
                }
                for chunk in batch.drain(..) {
                    let _ = back_tx.send(chunk);
                }
            }
            out.flush()
        });
        Sink { buf: Vec::with_capacity(CHUNK + (64 << 10)), bytes: 0, tx: Some(tx), recycled, handle: Some(handle) }
    }

    fn flush_if_full(&mut self) -> Result<(), GenerateError> {
        if self.buf.len() < CHUNK {
            return Ok(());
        }
        let next = match self.recycled.try_recv() {
            Ok(mut b) => {
                b.clear();
                b
            }
            Err(_) => Vec::with_capacity(CHUNK + (64 << 10)),
        };
        let full = std::mem::replace(&mut self.buf, next);
        self.bytes += full.len() as u64;
        let sent = self.tx.as_ref().map(|tx| tx.send(full).is_ok()).unwrap_or(false);
        if sent {
            Ok(())
        } else {
            // The writer stopped: its own error says why.
            self.join()
        }
    }

    fn finish(mut self) -> Result<(), GenerateError> {
        let rest = std::mem::take(&mut self.buf);
        if !rest.is_empty() {
            self.bytes += rest.len() as u64;
            if let Some(tx) = &self.tx {
                let _ = tx.send(rest);
            }
        }
        self.join()
    }

    fn join(&mut self) -> Result<(), GenerateError> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r.map_err(GenerateError::Archive),
            Some(Err(_)) => Err(GenerateError::Archive(io::Error::other("the writer thread failed"))),
            None => Err(GenerateError::Archive(io::Error::other("the archive writer has stopped"))),
        }
    }
}

fn gzip_member(chunk: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(chunk.len() / 4), flate2::Compression::new(level));
    e.write_all(chunk)?;
    e.finish()
}
