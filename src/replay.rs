//! Replay on the time-sync clock (docs/streams.md#replay): the streams of the usage trigger,
//! advanced by explicit calls, never by the wall clock.
//!
//! [`Replay`] is the algorithm of docs/streams.md#replay as a state machine: `advance_to(t)`,
//! `add(event)`, `drain()`. [`Timeline`] answers "what was the state at time
//! T" for any T, backwards included, without replaying: the replay is a pure
//! function of the prefix of events with timestamp ≤ T, and a stream's fate is
//! fixed by that prefix, so the state at T follows from the full (drained)
//! replay — a stream exists once its first event is replayed, holds the events
//! with timestamp ≤ T, has fired once T passes the moment it was marked ready,
//! and has expired once T passes its final expiry. The property tests hold
//! this against a fresh replay to T.

use crate::archive::Archive;
use crate::event::{sym, Event, Value};
use crate::hash::HashMap;
use crate::pipeline::{self, Audit2015, Code, IdMode, OutputEvent, Outputs, Verdict};
use crate::time::{Day, Timestamp};
use crate::trigger::{self, StreamKey, Unmatched};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// States of a stream (docs/streams.md#streams).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum StreamState {
    Active,
    Firing,
    Expiring,
    Completed,
    /// The fire pipeline failed.
    Error,
    /// The expire pipeline failed.
    ExpireError,
}

impl StreamState {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamState::Active => "active",
            StreamState::Firing => "firing",
            StreamState::Expiring => "expiring",
            StreamState::Completed => "completed",
            StreamState::Error => "error",
            StreamState::ExpireError => "expire_error",
        }
    }

    pub fn parse(s: &str) -> Option<StreamState> {
        [
            StreamState::Active,
            StreamState::Firing,
            StreamState::Expiring,
            StreamState::Completed,
            StreamState::Error,
            StreamState::ExpireError,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Which pipeline decided a stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TriggerKind {
    Fire,
    Expire,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Fire => "fire",
            TriggerKind::Expire => "expire",
        }
    }
}

/// The outcome of a stream (docs/checks.md#outcomes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Outcome {
    Verified,
    Failed,
    Error,
    Pending,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Verified, Outcome::Failed, Outcome::Error, Outcome::Pending];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::Pending => "pending",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// How a stream's pipeline ended.
#[derive(Clone, Debug)]
pub struct StreamResult {
    pub trigger: TriggerKind,
    /// The clock when the pipeline ran (`Timestamp::MAX` for a drain).
    pub decided_at: Timestamp,
    pub outcome: Outcome,
    pub code: Option<Code>,
    /// Index in the stream of the `.exists` the 2014 checks used; `u32::MAX` when none
    /// (an `Option` would take a word where this takes half of one: see [`StreamResult::exists`]).
    exists: u32,
    /// The message and what else the replay kept: nothing at all for most streams of an
    /// audit, which keeps verdicts only and whose streams mostly verify without a warning.
    more: Option<Box<More>>,
}

/// What a stream's result holds beyond its verdict, apart (docs/rules2015.md#what-side-by-side-costs).
#[derive(Clone, Debug)]
struct More {
    message: String,
    verdict: Option<Verdict>,
    audit2015: Option<Audit2015>,
    output: Vec<OutputEvent>,
}

impl StreamResult {
    #[allow(clippy::too_many_arguments)]
    fn new(
        trigger: TriggerKind,
        decided_at: Timestamp,
        outcome: Outcome,
        code: Option<Code>,
        message: String,
        exists: Option<u32>,
        verdict: Option<Verdict>,
        audit2015: Option<Audit2015>,
        output: Vec<OutputEvent>,
    ) -> StreamResult {
        let empty = message.is_empty() && verdict.is_none() && audit2015.is_none() && output.is_empty();
        let more = (!empty).then(|| Box::new(More { message, verdict, audit2015, output }));
        StreamResult { trigger, decided_at, outcome, code, exists: exists.unwrap_or(u32::MAX), more }
    }

    /// A decided stream whose pipeline has not run yet: its trigger and moment only.
    fn pending(trigger: TriggerKind, decided_at: Timestamp) -> StreamResult {
        StreamResult { trigger, decided_at, outcome: Outcome::Pending, code: None, exists: u32::MAX, more: None }
    }

    /// Index in the stream of the `.exists` the 2014 checks used, if any.
    pub fn exists(&self) -> Option<u32> {
        (self.exists != u32::MAX).then_some(self.exists)
    }

    /// The check's exact message, or the description of the pipeline failure (empty when verified).
    pub fn message(&self) -> &str {
        self.more.as_ref().map_or("", |m| &m.message)
    }

    /// The 2014 checks' verdict; `None` in a replay that keeps verdicts only ([`Keeping::Verdicts`]).
    pub fn verdict(&self) -> Option<&Verdict> {
        self.more.as_ref()?.verdict.as_ref()
    }

    /// The 2015 results and warnings (docs/rules2015.md#checks), under that rule set. A replay
    /// that keeps verdicts only keeps the warnings (and drops an empty audit): `results` and
    /// `warned` are empty.
    pub fn audit2015(&self) -> Option<&Audit2015> {
        self.more.as_ref()?.audit2015.as_ref()
    }

    /// The pipeline's output events (none in a replay that does not keep them).
    pub fn output(&self) -> &[OutputEvent] {
        self.more.as_ref().map_or(&[], |m| &m.output)
    }
}

/// A stream's events: indices into the archive's events.
pub type EventList = smallvec::SmallVec<[u32; 4]>;

/// One stream: the events of one instance-day (docs/streams.md#streams).
#[derive(Clone, Debug)]
pub struct Stream {
    /// 1, 2, … in creation order.
    pub id: u32,
    /// The instance id of the event that created the stream.
    pub instance_id: Value,
    pub day: Day,
    /// Indices into the archive's events, in stream order. Most instance-days have
    /// one event or a few: those are held in the stream itself, not allocated apart.
    pub events: EventList,
    pub first_event: Timestamp,
    pub last_event: Timestamp,
    /// The clock when the stream's end-of-day `.exists` made it ready to fire, if one did
    /// ([`Stream::fire_timestamp`]); apart, as two fields fit where an `Option` does not.
    pub(crate) ready_at: Timestamp,
    pub(crate) marked_ready: bool,
    pub state: StreamState,
    pub result: Option<StreamResult>,
}

impl Stream {
    /// The key the stream's events matched (docs/streams.md#streams).
    pub fn key(&self) -> StreamKey {
        StreamKey { instance_id: self.instance_id.into(), day: self.day }
    }

    /// When the stream expires unless another event joins it: two days after its last event.
    pub fn expire_timestamp(&self) -> Timestamp {
        trigger::expiry(self.last_event)
    }

    /// When an end-of-day `.exists` made the stream ready to fire: the clock at that moment.
    pub fn fire_timestamp(&self) -> Option<Timestamp> {
        self.marked_ready.then_some(self.ready_at)
    }

    pub fn outcome(&self) -> Outcome {
        self.result.as_ref().map(|r| r.outcome).unwrap_or(Outcome::Pending)
    }

    pub fn code(&self) -> Option<Code> {
        self.result.as_ref().and_then(|r| r.code)
    }

    /// The moment after which the stream is decided (docs/streams.md#firing):
    /// its fire timestamp if it fired, its final expiry if it expired,
    /// `Timestamp::MAX` while undecided.
    pub fn decided_after(&self) -> Timestamp {
        match self.result.as_ref().map(|r| r.trigger) {
            Some(TriggerKind::Fire) => self.fire_timestamp().unwrap_or(Timestamp::MAX),
            Some(TriggerKind::Expire) => self.expire_timestamp(),
            None => Timestamp::MAX,
        }
    }
}

/// The instance-days that have more than one stream, with their streams' ids in
/// id order: what an explanation names as a stream's siblings, found without
/// looking at every stream (docs/streams.md#streams).
#[derive(Debug, Default)]
pub struct Siblings(HashMap<StreamKey, Vec<u32>>);

impl Siblings {
    pub fn of(streams: &[Stream]) -> Siblings {
        let mut first_of: HashMap<StreamKey, u32> = HashMap::default();
        first_of.reserve(streams.len());
        let mut by_key: HashMap<StreamKey, Vec<u32>> = HashMap::default();
        for s in streams {
            let key = s.key();
            if let Some(&f) = first_of.get(&key) {
                by_key.entry(key).or_insert_with(|| vec![f]).push(s.id);
            } else {
                first_of.insert(key, s.id);
            }
        }
        Siblings(by_key)
    }

    /// The ids of every stream of the instance-day, `stream` among them; empty when it is alone.
    pub fn of_stream(&self, stream: &Stream) -> &[u32] {
        self.0.get(&stream.key()).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// The newest active stream of each key. A key whose instance id is a text, as
/// nova's are, is packed into one word with its day: half the room of a whole key,
/// in a map that holds a day or two of instances at once.
#[derive(Default)]
struct OpenStreams {
    packed: HashMap<u64, u32>,
    other: HashMap<StreamKey, u32>,
}

impl OpenStreams {
    fn get(&self, key: &StreamKey) -> Option<u32> {
        match key.packed() {
            Some(k) => self.packed.get(&k).copied(),
            None => self.other.get(key).copied(),
        }
    }

    fn insert(&mut self, key: &StreamKey, id: u32) -> Option<u32> {
        match key.packed() {
            Some(k) => self.packed.insert(k, id),
            None => self.other.insert(*key, id),
        }
    }

    fn remove(&mut self, key: &StreamKey) {
        match key.packed() {
            Some(k) => self.packed.remove(&k),
            None => self.other.remove(key),
        };
    }

    fn is_empty(&self) -> bool {
        self.packed.is_empty() && self.other.is_empty()
    }
}

/// The replay state machine of docs/streams.md#replay.
pub struct Replay<'a> {
    archive: &'a Archive,
    ids: IdMode,
    now: Timestamp,
    next: usize,
    streams: Vec<Stream>,
    /// The newest active stream of each key. A key has usually one; the others are
    /// chained from it, newest to oldest, through `older`.
    open: OpenStreams,
    /// Per stream (index = id - 1): the next older active stream of its key, 0 when none.
    older: Vec<u32>,
    /// Active streams marked ready since the clock last moved forward. A
    /// stream is marked ready at the current clock and every forward move fires
    /// all of them, so they all share the fire timestamp `now`.
    ready: Vec<u32>,
    /// Active streams by expiry, lazily: one entry per stream, at the expiry it
    /// had when the entry was made. An entry that comes due for a stream that has
    /// since received a newer event is moved on to the stream's expiry; one for a
    /// decided stream is dropped.
    expiry: BinaryHeap<Reverse<(Timestamp, u32)>>,
    unmatched: Vec<(u32, Unmatched)>,
    /// Stream ids in the order their pipelines ran.
    decided: Vec<u32>,
    /// Run the pipelines later, all at once on every core ([`Replay::run`]): a
    /// stream's verdict depends only on its own events, and nothing in the
    /// replay depends on a verdict.
    defer: bool,
    /// What a stream's result keeps of its pipeline run.
    keeping: Keeping,
}

/// What a stream's result keeps of its pipeline run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keeping {
    /// Everything: the output events, the 2014 verdict, every 2015 result (`emit`, the UI).
    All,
    /// No output events (an audit never writes them; no verdict depends on them).
    Details,
    /// The outcome, code, message and 2015 warnings only: what a report without
    /// explanations prints. The output events' ids are not even worked out.
    Verdicts,
}

impl<'a> Replay<'a> {
    pub fn new(archive: &'a Archive, ids: IdMode) -> Self {
        // Every event opens at most one stream, and a stream has one expiry entry at
        // a time: room for that many is only address space until it is used, and the
        // lists never have to be copied as they grow.
        let n = archive.events.len();
        Replay {
            archive,
            ids,
            now: Timestamp::MIN,
            next: 0,
            streams: Vec::with_capacity(n),
            open: OpenStreams::default(),
            older: Vec::new(),
            ready: Vec::new(),
            expiry: BinaryHeap::with_capacity(n),
            unmatched: Vec::new(),
            decided: Vec::with_capacity(n),
            defer: false,
            keeping: Keeping::All,
        }
    }

    /// Replay every event, then drain unless told not to (the headless commands).
    pub fn run(archive: &'a Archive, drain: bool, ids: IdMode) -> Self {
        Replay::run_keeping(archive, drain, ids, Keeping::All)
    }

    /// As [`Replay::run`], keeping less of each pipeline run: what the audit
    /// needs, in less memory and time (a stream's verdict depends on none of it).
    pub fn run_keeping(archive: &'a Archive, drain: bool, ids: IdMode, keeping: Keeping) -> Self {
        let mut r = Replay::new(archive, ids);
        r.defer = true;
        r.keeping = keeping;
        while r.step() {}
        if drain {
            r.drain();
        }
        r.settle();
        if r.open.is_empty() {
            // No stream is active: what found and expired them goes (`older` stays, one
            // slot per stream, for an event added after all).
            r.open = OpenStreams::default();
            r.expiry = BinaryHeap::new();
            r.ready = Vec::new();
        }
        r
    }

    /// Run the deferred pipelines, in parallel. Each stream decided so far holds
    /// its trigger and moment in a placeholder result.
    fn settle(&mut self) {
        let (archive, ids, keeping) = (self.archive, self.ids, self.keeping);
        self.streams
            .par_iter_mut()
            .filter(|s| matches!(s.state, StreamState::Firing | StreamState::Expiring))
            .for_each(|s| {
                let (trigger, at) =
                    s.result.as_ref().map_or((TriggerKind::Fire, Timestamp::MAX), |r| (r.trigger, r.decided_at));
                let (state, result) = verdict(archive, s, trigger, at, ids, keeping);
                s.state = state;
                s.result = Some(result);
            });
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    pub fn into_streams(self) -> Vec<Stream> {
        self.streams
    }

    pub fn unmatched(&self) -> &[(u32, Unmatched)] {
        &self.unmatched
    }

    /// Number of events added so far.
    pub fn position(&self) -> usize {
        self.next
    }

    pub fn decided_order(&self) -> &[u32] {
        &self.decided
    }

    /// Replay the next event: `advance(e.timestamp); add(e)`. False when none is left.
    pub fn step(&mut self) -> bool {
        let Some(e) = self.archive.events.get(self.next) else { return false };
        self.advance_to(e.timestamp);
        self.add(self.next as u32);
        true
    }

    /// Replay every event with timestamp ≤ `t`, then `advance(t)`: the state at time `t`.
    pub fn seek_forward(&mut self, t: Timestamp) {
        while self.archive.events.get(self.next).is_some_and(|e| e.timestamp <= t) {
            self.step();
        }
        self.advance_to(t);
    }

    /// `advance(+infinity)`: every stream fires or expires.
    pub fn drain(&mut self) {
        self.advance_to(Timestamp::MAX);
    }

    /// docs/streams.md#replay `advance(t)`: fire the ready streams whose fire timestamp the clock
    /// has passed, then expire the active streams whose expiry it has passed, each in id order.
    pub fn advance_to(&mut self, t: Timestamp) {
        if t < self.now {
            // The machine only moves forward; Timeline answers for earlier times.
            return;
        }
        // Every ready stream was marked at the old `now`: it fires iff t > now.
        let fire = if t > self.now { std::mem::take(&mut self.ready) } else { Vec::new() };
        self.now = t;
        debug_assert!(fire.iter().all(|&id| self.streams[id as usize - 1].fire_timestamp().is_some_and(|f| f < t)));
        let mut fire = fire;
        fire.sort_unstable();
        for id in fire {
            self.decide(id, TriggerKind::Fire);
        }
        let mut expire = Vec::new();
        while let Some(&Reverse((at, id))) = self.expiry.peek() {
            if at >= t {
                break;
            }
            self.expiry.pop();
            let s = &self.streams[id as usize - 1];
            match s.expire_timestamp() {
                _ if s.state != StreamState::Active => {}
                now_at if now_at == at => expire.push(id),
                // A later event moved the expiry on (it only moves later): the entry waits for it.
                later => self.expiry.push(Reverse((later, id))),
            }
        }
        expire.sort_unstable();
        // A stream has one entry at a time, so it is listed once.
        debug_assert!(expire.windows(2).all(|w| w[0] < w[1]));
        for id in expire {
            self.decide(id, TriggerKind::Expire);
        }
    }

    /// docs/streams.md#replay `add(e)`.
    pub fn add(&mut self, idx: u32) {
        let e: &Event = &self.archive.events[idx as usize];
        let key = match trigger::match_event(e, self.archive.symbols.get(e.event_type), self.archive.rules) {
            Ok(k) => k,
            Err(why) => {
                self.unmatched.push((idx, why));
                self.next = self.next.max(idx as usize + 1);
                return;
            }
        };
        let now = self.now;
        // The oldest active stream of the key that has not passed its expiry.
        let mut found = None;
        let mut at = self.open.get(&key).unwrap_or(0);
        while at != 0 {
            if self.streams[at as usize - 1].expire_timestamp() > now {
                found = Some(at);
            }
            at = self.older[at as usize - 1];
        }
        let id = match found {
            Some(id) => id,
            None => {
                let id = self.streams.len() as u32 + 1;
                self.streams.push(Stream {
                    id,
                    instance_id: e.get(sym::INSTANCE_ID).unwrap_or(Value::Int(0)),
                    day: key.day,
                    events: EventList::new(),
                    first_event: e.timestamp,
                    last_event: e.timestamp,
                    ready_at: Timestamp::MIN,
                    marked_ready: false,
                    state: StreamState::Active,
                    result: None,
                });
                self.expiry.push(Reverse((trigger::expiry(e.timestamp), id)));
                self.older.push(self.open.insert(&key, id).unwrap_or(0));
                id
            }
        };
        let s = &mut self.streams[id as usize - 1];
        // Events arrive in timestamp order, so appending keeps the stream sorted
        // (and ties in arrival order).
        s.events.push(idx);
        s.first_event = s.first_event.min(e.timestamp);
        if e.timestamp > s.last_event {
            s.last_event = e.timestamp;
        }
        // The stream's entry in `expiry` stays where it is: when it comes due, it is
        // moved on to the expiry the stream has then. One entry per stream, not per event.
        if !s.marked_ready && trigger::is_eod_exists(e) {
            s.marked_ready = true;
            s.ready_at = now;
            self.ready.push(id);
        }
        self.next = self.next.max(idx as usize + 1);
    }

    fn decide(&mut self, id: u32, trigger: TriggerKind) {
        let archive = self.archive;
        let now = self.now;
        let s = &mut self.streams[id as usize - 1];
        let key = s.key();
        let older = self.older[id as usize - 1];
        match self.open.get(&key) {
            Some(newest) if newest == id => {
                if older == 0 {
                    self.open.remove(&key);
                } else {
                    self.open.insert(&key, older);
                }
            }
            Some(mut at) => {
                // Unlink it from the chain of its key.
                while at != 0 {
                    let next = self.older[at as usize - 1];
                    if next == id {
                        self.older[at as usize - 1] = older;
                        break;
                    }
                    at = next;
                }
            }
            None => {}
        }
        s.state = match trigger {
            TriggerKind::Fire => StreamState::Firing,
            TriggerKind::Expire => StreamState::Expiring,
        };
        self.decided.push(id);
        if self.defer {
            s.result = Some(StreamResult::pending(trigger, now));
            return;
        }
        let (state, result) = verdict(archive, s, trigger, now, self.ids, self.keeping);
        s.state = state;
        s.result = Some(result);
    }
}

/// Run a fresh pipeline over a firing or expiring stream: its final state and result.
fn verdict(
    archive: &Archive,
    s: &Stream,
    trigger: TriggerKind,
    now: Timestamp,
    ids: IdMode,
    keeping: Keeping,
) -> (StreamState, StreamResult) {
    let events: Vec<&Event> = s.events.iter().map(|&i| &archive.events[i as usize]).collect();
    let outputs = match keeping {
        Keeping::All if archive.keep == crate::archive::Keep::All => Outputs::WithTraits,
        Keeping::All => Outputs::Plain,
        Keeping::Details | Keeping::Verdicts => Outputs::None,
    };
    let run = pipeline::run_with(archive.rules, s.id, &events, &archive.symbols, ids, false, outputs);
    let (state, outcome, code, message) = match &run.result {
        Ok(()) => {
            let failure = match &run.audit2015 {
                // docs/rules2015.md#outcome: the first failed result in stream order.
                Some(a) => a.first_failure(),
                None => run.verdict.as_ref().and_then(|v| v.failure.as_ref()),
            };
            match failure {
                Some(f) => (StreamState::Completed, Outcome::Failed, Some(f.code), f.message.clone()),
                None => (StreamState::Completed, Outcome::Verified, None, String::new()),
            }
        }
        Err(desc) => {
            let st = match trigger {
                TriggerKind::Fire => StreamState::Error,
                TriggerKind::Expire => StreamState::ExpireError,
            };
            (st, Outcome::Error, None, desc.clone())
        }
    };
    let exists = run.verdict.as_ref().and_then(|v| v.exists).and_then(|x| u32::try_from(x).ok());
    let (verdict, audit2015) = match keeping {
        Keeping::All | Keeping::Details => (run.verdict, run.audit2015),
        Keeping::Verdicts => {
            let warnings = |a: Audit2015| Audit2015 { warnings: a.warnings, ..Audit2015::default() };
            (None, run.audit2015.map(warnings).filter(|a| !a.warnings.is_empty()))
        }
    };
    let result = StreamResult::new(trigger, now, outcome, code, message, exists, verdict, audit2015, run.output);
    (state, result)
}

/// A stream as it stands at some time T.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamAt {
    pub state: StreamState,
    pub outcome: Outcome,
    /// How many of the stream's events have been replayed by T.
    pub events: usize,
    pub decided: bool,
    /// The failure code, once decided.
    pub code: Option<Code>,
}

/// What a filter or sort over every stream reads of one, packed together so
/// that a pass over a million streams reads a few megabytes, not the streams.
#[derive(Clone, Copy, Debug)]
struct Brief {
    first_event: Timestamp,
    last_event: Timestamp,
    /// Decided after this moment (`Timestamp::MAX` if never).
    threshold: Timestamp,
    day: Day,
    state: StreamState,
    /// `None` while the drained replay left it undecided.
    outcome: Option<Outcome>,
    code: Option<Code>,
}

/// Random access to the replay's state at any time (docs/streams.md#seeking: seeking,
/// backwards included), derived once from the drained replay.
pub struct Timeline {
    streams: Vec<Stream>,
    /// Event indices that matched no stream, in replay order, with the reason.
    unmatched: Vec<(u32, Unmatched)>,
    /// Sorted thresholds: a stream is decided at T when its threshold < T, per outcome.
    thresholds: [Vec<Timestamp>; 4],
    /// The same for streams ending in `error` / `expire_error`, and for failed streams per code.
    state_thresholds: [Vec<Timestamp>; 2],
    code_thresholds: [Vec<Timestamp>; 9],
    decided_order: Vec<u32>,
    timestamps: Vec<Timestamp>,
    /// One per stream, index = id - 1.
    briefs: Vec<Brief>,
    /// Each stream's rank when streams are ordered by instance id (index = id - 1), made on first use.
    instance_ranks: std::sync::OnceLock<Vec<u32>>,
}

impl Timeline {
    /// Replay the archive to the end, drained, and index the result.
    pub fn build(archive: &Archive, ids: IdMode) -> Timeline {
        let r = Replay::run(archive, true, ids);
        let unmatched = r.unmatched.clone();
        let decided_order = r.decided.clone();
        let streams = r.into_streams();
        let mut thresholds: [Vec<Timestamp>; 4] = Default::default();
        let mut state_thresholds: [Vec<Timestamp>; 2] = Default::default();
        let mut code_thresholds: [Vec<Timestamp>; 9] = Default::default();
        for s in &streams {
            if let Some(res) = &s.result {
                let t = s.decided_after();
                thresholds[res.outcome as usize].push(t);
                match s.state {
                    StreamState::Error => state_thresholds[0].push(t),
                    StreamState::ExpireError => state_thresholds[1].push(t),
                    _ => {}
                }
                if let Some(c) = res.code {
                    code_thresholds[c as usize].push(t);
                }
            }
        }
        for t in thresholds.iter_mut().chain(state_thresholds.iter_mut()).chain(code_thresholds.iter_mut()) {
            t.sort_unstable();
        }
        let briefs = streams
            .iter()
            .map(|s| Brief {
                first_event: s.first_event,
                last_event: s.last_event,
                threshold: s.decided_after(),
                day: s.day,
                state: s.state,
                outcome: s.result.as_ref().map(|r| r.outcome),
                code: s.code(),
            })
            .collect();
        Timeline {
            briefs,
            streams,
            unmatched,
            thresholds,
            state_thresholds,
            code_thresholds,
            decided_order,
            timestamps: archive.events.iter().map(|e| e.timestamp).collect(),
            instance_ranks: std::sync::OnceLock::new(),
        }
    }

    /// All streams, as they end after the drain.
    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }

    pub fn stream(&self, id: u32) -> Option<&Stream> {
        self.streams.get((id as usize).wrapping_sub(1))
    }

    pub fn unmatched(&self) -> &[(u32, Unmatched)] {
        &self.unmatched
    }

    /// Stream ids in the order their pipelines ran in the drained replay.
    pub fn decided_order(&self) -> &[u32] {
        &self.decided_order
    }

    /// Number of events replayed at time `t` (those with timestamp ≤ t).
    pub fn position_at(&self, t: Timestamp) -> usize {
        self.timestamps.partition_point(|&x| x <= t)
    }

    /// Number of streams that exist at time `t`; they are ids `1..=n`, because
    /// streams are created in timestamp order.
    pub fn streams_at(&self, t: Timestamp) -> usize {
        self.briefs.partition_point(|b| b.first_event <= t)
    }

    /// A stream's state at time `t` (`None` if it does not exist yet).
    pub fn stream_at(&self, s: &Stream, t: Timestamp) -> Option<StreamAt> {
        let mut at = self.state_of(s.id, t)?;
        at.events = if s.last_event <= t {
            s.events.len()
        } else {
            s.events.partition_point(|&i| self.timestamps[i as usize] <= t)
        };
        Some(at)
    }

    /// As [`Timeline::stream_at`] for stream `id`, without counting the events
    /// replayed (`events` is 0): what a filter over every stream needs, in constant
    /// time per stream.
    pub fn state_of(&self, id: u32, t: Timestamp) -> Option<StreamAt> {
        let b = self.briefs.get((id as usize).checked_sub(1)?)?;
        if b.first_event > t {
            return None;
        }
        let events = 0;
        Some(match b.outcome {
            Some(outcome) if b.threshold < t => {
                StreamAt { state: b.state, outcome, events, decided: true, code: b.code }
            }
            _ => StreamAt { state: StreamState::Active, outcome: Outcome::Pending, events, decided: false, code: None },
        })
    }

    /// Stream `id`'s state at `t` counting its replayed events, like [`Timeline::stream_at`],
    /// reading the stream's own event list only when the clock is inside it.
    pub fn stream_of(&self, id: u32, t: Timestamp) -> Option<StreamAt> {
        let b = &self.briefs[(id as usize).checked_sub(1)?];
        if b.last_event <= t {
            let mut at = self.state_of(id, t)?;
            at.events = self.streams[id as usize - 1].events.len();
            return Some(at);
        }
        self.stream_at(&self.streams[id as usize - 1], t)
    }

    /// The UTC day of stream `id`.
    pub fn day_of(&self, id: u32) -> Day {
        self.briefs[id as usize - 1].day
    }

    /// Each stream's rank in the order of instance ids (then stream ids), indexed by
    /// stream id - 1; sorted once, on first use.
    pub fn instance_ranks(&self, archive: &Archive) -> &[u32] {
        self.instance_ranks.get_or_init(|| {
            let text = |s: &Stream| match s.instance_id {
                Value::Text(sym) => std::borrow::Cow::Borrowed(archive.symbols.get(sym)),
                other => std::borrow::Cow::Owned(other.py_str(&archive.symbols)),
            };
            let keys: Vec<_> = self.streams.iter().map(text).collect();
            let mut order: Vec<u32> = (0..self.streams.len() as u32).collect();
            order.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then(a.cmp(&b)));
            let mut ranks = vec![0u32; order.len()];
            for (rank, &i) in order.iter().enumerate() {
                ranks[i as usize] = rank as u32;
            }
            ranks
        })
    }

    /// Streams by outcome at time `t` (pending counts existing undecided streams).
    pub fn counts_at(&self, t: Timestamp) -> [usize; 4] {
        let mut c = [0usize; 4];
        for o in [Outcome::Verified, Outcome::Failed, Outcome::Error] {
            c[o as usize] = self.thresholds[o as usize].partition_point(|&x| x < t);
        }
        let decided: usize = c.iter().sum();
        c[Outcome::Pending as usize] = self.streams_at(t).saturating_sub(decided);
        c
    }

    /// Streams decided in `error` and in `expire_error` by time `t`.
    pub fn errors_at(&self, t: Timestamp) -> [usize; 2] {
        [0, 1].map(|i| self.state_thresholds[i].partition_point(|&x| x < t))
    }

    /// Failed streams per code (indexed by `Code as usize`) decided by time `t`.
    pub fn codes_at(&self, t: Timestamp) -> [usize; 9] {
        let mut c = [0; 9];
        for (i, v) in self.code_thresholds.iter().enumerate() {
            c[i] = v.partition_point(|&x| x < t);
        }
        c
    }

    /// The moment of the last decision (`None` when nothing was decided).
    pub fn last_decision(&self) -> Option<Timestamp> {
        self.thresholds.iter().filter_map(|v| v.iter().rev().find(|&&t| t != Timestamp::MAX).copied()).max()
    }

    /// Unmatched events replayed by time `t`.
    pub fn unmatched_at(&self, t: Timestamp) -> usize {
        let pos = self.position_at(t);
        self.unmatched.partition_point(|&(i, _)| (i as usize) < pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        parse_datetime(s).unwrap()
    }

    /// A distilled event line.
    fn ev(event_type: &str, id: &str, ts: &str, inst: &str, extra: serde_json::Value) -> String {
        let mut v = json!({"event_type": event_type, "message_id": id, "timestamp": ts, "instance_id": inst,
            "tenant_id": "t1", "state": "active", "launched_at": "2014-01-01 00:00:00"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            for (k, x) in e {
                o.insert(k.clone(), x.clone());
            }
        }
        v.to_string()
    }

    fn exists(id: &str, ts: &str, inst: &str, day: &str, next: &str) -> String {
        ev(
            "compute.instance.exists",
            id,
            ts,
            inst,
            json!({"audit_period_beginning": format!("{day} 00:00:00"), "audit_period_ending": format!("{next} 00:00:00")}),
        )
    }

    fn archive(lines: &[String]) -> Archive {
        let a = Archive::from_bytes("test.jsonl", lines.join("\n").as_bytes());
        assert!(a.rejected.is_empty(), "{:?}", a.rejected);
        a
    }

    fn states(r: &Replay) -> Vec<(u32, StreamState, Option<TriggerKind>)> {
        r.streams().iter().map(|s| (s.id, s.state, s.result.as_ref().map(|x| x.trigger))).collect()
    }

    #[test]
    fn a_ready_stream_fires_only_once_the_clock_moves_past_the_moment_it_became_ready() {
        let a = archive(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            exists("m2", "2014-10-07 00:05:00", "i1", "2014-10-06", "2014-10-07"),
        ]);
        let mut r = Replay::new(&a, IdMode::Stable);
        assert!(r.step() && r.step());
        assert_eq!(r.streams()[0].fire_timestamp(), Some(t("2014-10-07 00:05:00")));
        r.advance_to(t("2014-10-07 00:05:00"));
        assert_eq!(states(&r), vec![(1, StreamState::Active, None)], "not at the ready moment itself");
        r.advance_to(t("2014-10-07 00:05:00.000001"));
        assert_eq!(states(&r), vec![(1, StreamState::Completed, Some(TriggerKind::Fire))]);
        assert_eq!(r.streams()[0].outcome(), Outcome::Verified);
    }

    #[test]
    fn an_event_at_the_ready_moment_still_joins_the_stream() {
        let a = archive(&[
            exists("m1", "2014-10-07 00:05:00", "i1", "2014-10-06", "2014-10-07"),
            // a partial-period .exists of the same audit day at the very same moment
            ev(
                "compute.instance.exists",
                "m2",
                "2014-10-07 00:05:00",
                "i1",
                json!({"audit_period_beginning": "2014-10-06 00:00:00", "audit_period_ending": "2014-10-06 12:00:00"}),
            ),
        ]);
        let r = Replay::run(&a, true, IdMode::Stable);
        assert_eq!(r.streams().len(), 1);
        assert_eq!(r.streams()[0].events[..], [0, 1]);
    }

    #[test]
    fn an_event_after_the_fire_opens_a_second_stream_for_the_instance_day() {
        let a = archive(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            exists("m2", "2014-10-07 00:05:00", "i1", "2014-10-06", "2014-10-07"),
            // a late .exists for the same audit day, after the first stream fired
            exists("m3", "2014-10-07 00:06:00", "i1", "2014-10-06", "2014-10-07"),
        ]);
        let r = Replay::run(&a, true, IdMode::Stable);
        assert_eq!(r.streams().len(), 2);
        assert_eq!(r.streams()[1].key(), r.streams()[0].key());
        assert_eq!(r.streams()[1].events[..], [2]);
        assert_eq!(r.streams()[0].result.as_ref().unwrap().decided_at, t("2014-10-07 00:06:00"));
    }

    #[test]
    fn an_event_more_than_two_days_after_the_last_opens_a_new_stream() {
        let a = archive(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            // exactly at the expiry: the old stream is not expired yet (not <), but cannot take it (not >)
            exists("m2", "2014-10-08 10:00:00", "i1", "2014-10-06", "2014-10-07"),
        ]);
        let mut r = Replay::new(&a, IdMode::Stable);
        r.step();
        r.step();
        assert_eq!(r.streams().len(), 2, "expire_timestamp == now does not take the event");
        assert_eq!(r.streams()[0].state, StreamState::Active);
        r.advance_to(t("2014-10-08 10:00:00.000001"));
        assert_eq!(r.streams()[0].state, StreamState::Completed);
        assert_eq!(r.streams()[0].result.as_ref().unwrap().trigger, TriggerKind::Expire);
        assert_eq!(r.streams()[0].code(), Some(Code::U0));
        // and the second stream fired at the same advance
        assert_eq!(r.streams()[1].result.as_ref().unwrap().trigger, TriggerKind::Fire);
        // fires run before expiries within one advance
        assert_eq!(r.decided_order(), &[2, 1]);
    }

    #[test]
    fn an_older_stream_of_a_key_leaves_without_taking_the_newer_one_along() {
        // A text instance id (a key of one word) and an integer one (a whole key).
        for instance in [json!("i1"), json!(7)] {
            // A .exists whose audit period is not a day: it joins the stream of its period's
            // day (2014-10-06) but does not make it fire.
            let partial = |id: &str, ts: &str| {
                let period = json!({"audit_period_beginning": "2014-10-06 00:00:00",
                    "audit_period_ending": "2014-10-06 12:00:00", "instance_id": instance});
                ev("compute.instance.exists", id, ts, "-", period)
            };
            let a = archive(&[
                ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "-", json!({"instance_id": instance})),
                // At the first stream's expiry: it cannot take this one, and has not expired yet,
                // so a second stream of the same instance-day opens beside it.
                partial("m2", "2014-10-08 10:00:00"),
                // The clock moves past the first's expiry; the second, the newer one, stays
                // active and takes the events that follow.
                partial("m3", "2014-10-08 10:00:01"),
                partial("m4", "2014-10-08 10:00:02"),
            ]);
            let mut r = Replay::new(&a, IdMode::Stable);
            r.step();
            r.step();
            assert_eq!(r.streams().len(), 2, "{instance}");
            assert_eq!(r.streams()[1].key(), r.streams()[0].key(), "{instance}");
            r.step();
            assert_eq!(r.streams()[0].state, StreamState::Completed, "{instance}: the older one expired");
            assert_eq!(r.streams()[1].state, StreamState::Active, "{instance}");
            while r.step() {}
            let events: Vec<&[u32]> = r.streams().iter().map(|s| &s.events[..]).collect();
            assert_eq!(events, [&[0][..], &[1, 2, 3]], "{instance}");
            r.drain();
            assert!(r.streams().iter().all(|s| s.state == StreamState::Completed), "{instance}");
            assert_eq!(r.decided_order(), &[1, 2], "{instance}");
        }
    }

    #[test]
    fn a_stream_and_its_result_stay_small() {
        // One per instance-day, on each side of a side-by-side audit: a million
        // notifications make about 270,000 (docs/rules2015.md#what-side-by-side-costs).
        assert!(std::mem::size_of::<Stream>() <= 104, "{}", std::mem::size_of::<Stream>());
        assert_eq!(std::mem::size_of::<Option<StreamResult>>(), 24);
    }

    #[test]
    fn a_stream_expires_two_days_after_its_newest_event() {
        let a = archive(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            ev("compute.instance.update", "m2", "2014-10-06 11:00:00", "i1", json!({})),
        ]);
        let mut r = Replay::new(&a, IdMode::Stable);
        r.step();
        r.step();
        assert_eq!(r.streams()[0].expire_timestamp(), t("2014-10-08 11:00:00"));
        r.advance_to(t("2014-10-08 11:00:00"));
        assert_eq!(r.streams()[0].state, StreamState::Active);
        r.advance_to(t("2014-10-08 11:00:00.000001"));
        assert_eq!(r.streams()[0].state, StreamState::Completed);
        assert_eq!(r.streams()[0].result.as_ref().unwrap().decided_at, t("2014-10-08 11:00:00.000001"));
    }

    #[test]
    fn drain_decides_every_stream_and_no_drain_leaves_them_pending() {
        let lines = [
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            ev("compute.instance.update", "m2", "2014-10-06 10:00:00", "i2", json!({})),
            exists("m3", "2014-10-07 00:05:00", "i2", "2014-10-06", "2014-10-07"),
        ];
        let a = archive(&lines);
        let r = Replay::run(&a, false, IdMode::Stable);
        assert!(r.streams().iter().all(|s| s.outcome() == Outcome::Pending && s.state == StreamState::Active));
        let r = Replay::run(&a, true, IdMode::Stable);
        assert_eq!(
            states(&r),
            vec![
                (1, StreamState::Completed, Some(TriggerKind::Expire)),
                (2, StreamState::Completed, Some(TriggerKind::Fire))
            ]
        );
        assert!(r.streams().iter().all(|s| s.result.as_ref().unwrap().decided_at == Timestamp::MAX));
    }

    #[test]
    fn unmatched_events_are_counted_not_streamed() {
        let a = archive(&[
            ev("compute.instance.exists.verified", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            ev("compute.instance.update", "m2", "2014-10-06 10:00:00", "i1", json!({"instance_id": null})),
            ev("compute.instance.exists", "m3", "2014-10-06 10:00:00", "i1", json!({})),
            ev("image.upload", "m4", "2014-10-06 10:00:00", "i1", json!({})),
        ]);
        let r = Replay::run(&a, true, IdMode::Stable);
        assert!(r.streams().is_empty());
        let why: Vec<Unmatched> = r.unmatched().iter().map(|u| u.1).collect();
        assert_eq!(why, vec![Unmatched::Type, Unmatched::NoInstanceId, Unmatched::NoAuditPeriod, Unmatched::Type]);
    }

    #[test]
    fn exists_joins_the_stream_of_its_audit_day_and_ties_keep_archive_order() {
        let a = archive(&[
            exists("m9", "2014-10-07 00:05:00", "i1", "2014-10-06", "2014-10-07"),
            ev("compute.instance.update", "m1", "2014-10-06 23:00:00", "i1", json!({})),
            ev("compute.instance.update", "m3", "2014-10-06 23:00:00", "i1", json!({})),
            ev("compute.instance.update", "m2", "2014-10-06 23:00:00", "i1", json!({})),
        ]);
        let r = Replay::run(&a, true, IdMode::Stable);
        assert_eq!(r.streams().len(), 1);
        let ids: Vec<String> =
            r.streams()[0].events.iter().map(|&i| a.events[i as usize].message_id(&a.symbols).into_owned()).collect();
        assert_eq!(ids, vec!["m1", "m3", "m2", "m9"]);
    }

    #[test]
    fn timeline_matches_a_fresh_replay_at_every_boundary() {
        let a = archive(&[
            ev("compute.instance.update", "m1", "2014-10-06 10:00:00", "i1", json!({})),
            ev("compute.instance.update", "m2", "2014-10-06 11:00:00", "i2", json!({})),
            exists("m3", "2014-10-07 00:05:00", "i1", "2014-10-06", "2014-10-07"),
            exists("m4", "2014-10-07 00:06:00", "i1", "2014-10-06", "2014-10-07"),
        ]);
        let tl = Timeline::build(&a, IdMode::Stable);
        let probes = [
            "2014-10-06 09:59:59",
            "2014-10-06 10:00:00",
            "2014-10-07 00:05:00",
            "2014-10-07 00:05:00.000001",
            "2014-10-07 00:06:00",
            "2014-10-08 11:00:00",
            "2014-10-08 11:00:00.000001",
            "2014-10-09 00:06:00.000001",
        ];
        for p in probes {
            let at = t(p);
            let mut fresh = Replay::new(&a, IdMode::Stable);
            fresh.seek_forward(at);
            assert_eq!(tl.streams_at(at), fresh.streams().len(), "streams at {p}");
            for s in fresh.streams() {
                let view = tl.stream_at(&tl.streams()[s.id as usize - 1], at).unwrap();
                assert_eq!(
                    (view.state, view.outcome, view.events),
                    (s.state, s.outcome(), s.events.len()),
                    "stream {} at {p}",
                    s.id
                );
            }
            let mut counts = [0usize; 4];
            for s in fresh.streams() {
                counts[s.outcome() as usize] += 1;
            }
            assert_eq!(tl.counts_at(at), counts, "counts at {p}");
        }
    }
}
