//! Planning an instance's day: which operations happen, when, what each sends
//! (the sequences of the real templates, see the module docs of
//! [`crate::generate`]), the end-of-day `.exists`, and the injected anomaly.
//!
//! A *slot* is a place in the cloud that holds one instance at a time: when
//! its instance is deleted, a new one is created there a few days later, so the
//! cloud keeps its size. Every slot plans its days one after the other, with
//! its own random generator.

use super::catalog::{self, FLAVORS, IMAGES};
use super::model::*;

/// What the generator simulates.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub instances: u32,
    pub hosts: u32,
    /// First day, in days since 1970-01-01.
    pub start_day: i64,
    pub days: u32,
    /// Share of instance-days with at least one user operation.
    pub ops: f64,
    /// Share of instance-days on which the instance is deleted (and later replaced).
    pub churn: f64,
    /// Share of instance-days with an injected anomaly.
    pub anomalies: f64,
}

impl Config {
    pub fn end_day(&self) -> i64 {
        self.start_day + self.days as i64
    }

    /// Seconds after midnight at which a host's nightly audit starts (within ten minutes).
    pub fn audit_offset(&self, host: u32) -> i64 {
        (mix(self.seed ^ 0xa0d1_7000 ^ host as u64) % 600) as i64 * SECOND
    }

    fn tenants(&self) -> u64 {
        (self.instances as u64 / 4).max(1)
    }
}

/// What a slot's day was made of (for the truth and the summary).
#[derive(Clone, Debug, Default)]
pub struct DayPlan {
    pub day: i64,
    pub ops: Vec<OpKind>,
    pub anomaly: Option<Anomaly>,
}

impl DayPlan {
    /// `create+reboot`, or `quiet` when nothing happened but the audit.
    pub fn scenario(&self) -> String {
        if self.ops.is_empty() {
            return "quiet".to_string();
        }
        let names: Vec<&str> = self.ops.iter().map(|o| o.name()).collect();
        names.join("+")
    }
}

pub struct Slot {
    pub index: u32,
    pub rng: Rng,
    /// The slot's instance; after a deletion it stays until the day is written.
    pub inst: Option<Instance>,
    /// When the slot is empty: the day its next instance is created.
    next_create_day: Option<i64>,
    generation: u64,
    /// The current day's notifications, in time order, and where the writer is.
    pub steps: Vec<Step>,
    pub pos: usize,
    pub requests: Vec<RequestCtx>,
    pub plan: DayPlan,
    /// The last day planned.
    pub day: i64,
}

impl Slot {
    /// A slot whose instance has been running since before the first day.
    pub fn new(index: u32, cfg: &Config) -> Slot {
        let mut rng = Rng::new(cfg.seed, index as u64);
        let start = cfg.start_day * DAY;
        let launched_at = start - rng.range(HOUR, 400 * DAY);
        let created_at = launched_at - rng.range(30 * SECOND, 5 * MINUTE);
        let mut inst = new_instance(&mut rng, cfg, index as u64 + 1, created_at);
        inst.launched_at = Some(launched_at);
        let r = rng.below(1000);
        inst.state = match r {
            0..=939 => VmState::Active,
            940..=989 => VmState::Stopped,
            990..=994 => VmState::Rescued,
            _ => VmState::Resized,
        };
        if inst.state == VmState::Resized {
            let from = other_flavor(&mut rng, inst.flavor);
            let host = other_host(&mut rng, inst.host, cfg.hosts);
            inst.resized_from = Some((from, host));
        }
        Slot {
            index,
            rng,
            inst: Some(inst),
            next_create_day: None,
            generation: 1,
            steps: Vec::new(),
            pos: 0,
            requests: Vec::new(),
            plan: DayPlan::default(),
            day: cfg.start_day - 1,
        }
    }

    /// Instances this slot has held so far.
    pub fn instances_created(&self) -> u64 {
        self.generation
    }

    /// Plan the next day that has notifications, up to the last day. Returns
    /// false when the slot has nothing more to send.
    pub fn plan_next(&mut self, cfg: &Config) -> bool {
        while self.day + 1 < cfg.end_day() {
            self.day += 1;
            self.plan_day(self.day, cfg);
            if !self.steps.is_empty() {
                return true;
            }
        }
        self.steps.clear();
        false
    }

    /// Plan one day: fill `steps` (empty when the slot holds no instance that day).
    pub fn plan_day(&mut self, day: i64, cfg: &Config) {
        // Most days hold one notification: do not keep a busy day's buffer.
        if self.steps.capacity() > 4 {
            self.steps = Vec::with_capacity(4);
        }
        self.steps.clear();
        self.requests.clear();
        self.pos = 0;
        self.plan.day = day;
        self.plan.ops.clear();
        self.plan.anomaly = None;

        if self.inst.as_ref().is_some_and(|i| i.state == VmState::Deleted) {
            self.inst = None;
        }
        let creating = self.inst.is_none() && self.next_create_day == Some(day);
        if self.inst.is_none() && !creating {
            return;
        }
        let day_start = day * DAY;
        if creating {
            // created_at is set when the create's time is known.
            let number = self.generation * cfg.instances as u64 + self.index as u64 + 1;
            self.generation += 1;
            let inst = new_instance(&mut self.rng, cfg, number, day_start);
            self.inst = Some(inst);
            self.next_create_day = None;
        }
        let start_state = self.inst.as_ref().map(|i| i.state).unwrap_or(VmState::Active);

        let anomaly = if self.rng.chance(cfg.anomalies) {
            let code = pick_code(&mut self.rng);
            Some(anomaly_for(code, creating, start_state == VmState::Active, &mut self.rng))
        } else {
            None
        };
        self.choose_ops(creating, start_state, anomaly, cfg);

        // Times: one segment of the day per operation, none crossing midnight.
        let n = self.plan.ops.len() as i64;
        let window_start = day_start + 30 * MINUTE;
        let window_end = day_start + 23 * HOUR + 40 * MINUTE;
        let mut inst = match self.inst.take() {
            Some(i) => i,
            None => return,
        };
        let mut pre_delete_state = inst.state;
        for i in 0..self.plan.ops.len() {
            let kind = self.plan.ops[i];
            let seg = (window_end - window_start) / n;
            let (lo, hi) = kind.duration();
            let dur = self.rng.range(lo * SECOND, hi * SECOND);
            let seg_start = window_start + i as i64 * seg;
            let start = seg_start + self.rng.range(0, seg - dur - MINUTE);
            let req = self.requests.len() as u8;
            self.requests.push(RequestCtx {
                request_id: self.rng.uuid4(),
                auth_token: Some(((self.rng.u64() as u128) << 64) | self.rng.u64() as u128),
                remote_address: (self.rng.u64() >> 32) as u32,
                is_admin: false,
                timestamp: start - self.rng.range(50_000, 2 * SECOND),
            });
            if kind == OpKind::Delete {
                pre_delete_state = inst.state;
            }
            let mut b = Builder { steps: &mut self.steps, rng: &mut self.rng, start, dur, req, last: i64::MIN };
            expand(kind, &mut b, &mut inst, cfg);
        }

        // The nightly audit: shortly after midnight, values as of the end of the day.
        let day_end = day_start + DAY;
        let eod_at = day_end + cfg.audit_offset(inst.host) + self.rng.range(0, 20 * SECOND) + self.rng.range(1, SECOND);
        let mut eod = Step {
            at: eod_at,
            event_type: EXISTS,
            kind: StepKind::Exists { beginning: day_start, ending: day_end },
            state: inst.state,
            task: Task::None,
            usage: inst.usage(),
            host: inst.host,
            publisher: inst.host,
            terminated_at: inst.deleted_at,
            request: AUDIT,
            ips: true,
        };
        let mut emit_eod = true;
        let anomaly = anomaly.map(|a| self.apply(a, &mut eod, &mut emit_eod, &inst, pre_delete_state, day_start));
        self.plan.anomaly = anomaly;
        if emit_eod {
            self.steps.push(eod);
        }
        if inst.state == VmState::Deleted {
            self.next_create_day = Some(day + 1 + self.rng.below(3) as i64);
        }
        self.inst = Some(inst);
    }

    fn choose_ops(&mut self, creating: bool, start_state: VmState, anomaly: Option<Anomaly>, cfg: &Config) {
        let relaunch_ok = anomaly.is_none_or(|a| a.allows_relaunch());
        let ops = &mut self.plan.ops;
        let rng = &mut self.rng;
        let mut st = start_state;
        if creating {
            ops.push(OpKind::Create);
            st = VmState::Active;
        }
        if anomaly.is_some_and(|a| a.quiet()) {
            return;
        }
        // What the previous days left pending.
        match st {
            VmState::Resized => {
                if relaunch_ok && rng.chance(0.15) {
                    ops.push(OpKind::ResizeRevert);
                } else {
                    ops.push(OpKind::ResizeConfirm);
                }
                st = VmState::Active;
            }
            VmState::Rescued if rng.chance(0.7) => {
                ops.push(OpKind::Unrescue);
                st = VmState::Active;
            }
            VmState::Stopped if rng.chance(0.3) => {
                ops.push(OpKind::PowerOn);
                st = VmState::Active;
            }
            _ => {}
        }
        if rng.chance(cfg.ops) {
            let k = if rng.chance(0.8) {
                1
            } else if rng.chance(0.75) {
                2
            } else {
                3
            };
            for _ in 0..k {
                let Some(op) = pick_op(rng, st, relaunch_ok) else { break };
                ops.push(op);
                st = after(op, st);
                let follow = match op {
                    OpKind::Resize => match rng.below(10) {
                        0..=5 => Some(OpKind::ResizeConfirm),
                        6 if relaunch_ok => Some(OpKind::ResizeRevert),
                        _ => None,
                    },
                    OpKind::Rescue if rng.chance(0.4) => Some(OpKind::Unrescue),
                    OpKind::PowerOff if rng.chance(0.25) => Some(OpKind::PowerOn),
                    _ => None,
                };
                if let Some(f) = follow {
                    ops.push(f);
                    st = after(f, st);
                }
            }
        }
        let delete = match anomaly.map(|a| a.delete_rule()) {
            Some(DeleteRule::Force) => true,
            Some(DeleteRule::Forbid) => false,
            _ => rng.chance(cfg.churn),
        };
        if delete {
            ops.push(OpKind::Delete);
        }
        // A stream needs at least one event for its missing `.exists` to be noticed.
        if anomaly == Some(Anomaly::MissingExists) && ops.is_empty() {
            ops.push(match st {
                VmState::Stopped => OpKind::PowerOn,
                VmState::Rescued => OpKind::Unrescue,
                _ => OpKind::Reboot,
            });
        }
    }

    /// Make the day's notifications carry the anomaly. Returns the anomaly
    /// actually injected (a variant may be swapped for one with the same verdict).
    fn apply(
        &mut self,
        a: Anomaly,
        eod: &mut Step,
        emit_eod: &mut bool,
        inst: &Instance,
        pre_delete_state: VmState,
        day_start: i64,
    ) -> Anomaly {
        let rng = &mut self.rng;
        match a {
            Anomaly::MissingExists => *emit_eod = false,
            Anomaly::PartialPeriod => eod.kind = StepKind::Exists { beginning: day_start, ending: eod.at },
            Anomaly::ShiftedPeriod => {
                eod.kind = StepKind::Exists { beginning: day_start + SECOND, ending: day_start + DAY + SECOND }
            }
            Anomaly::NoLaunchedAt => eod.usage.launched_at = None,
            Anomaly::WrongFlavor => eod.usage.flavor = other_flavor(rng, eod.usage.flavor),
            Anomaly::WrongImage => match similar_image(rng, eod.usage.image) {
                Some(i) => eod.usage.image = i,
                None => {
                    eod.usage.flavor = other_flavor(rng, eod.usage.flavor);
                    return Anomaly::WrongFlavor;
                }
            },
            Anomaly::WrongTenant => eod.usage.tenant = other_tenant(rng, eod.usage.tenant),
            Anomaly::DeletedAtTruncated => {
                eod.usage.deleted_at = eod.usage.deleted_at.map(|d| d - d.rem_euclid(SECOND));
                eod.terminated_at = eod.usage.deleted_at;
            }
            Anomaly::DeletedAtWhileAlive => {
                eod.usage.deleted_at = Some(day_start + rng.range(HOUR, 23 * HOUR));
            }
            Anomaly::DeletedBeforeLaunch => {
                let launched = inst.launched_at.unwrap_or(day_start);
                eod.state = VmState::Deleted;
                eod.usage.deleted_at = Some(launched - rng.range(HOUR, 30 * DAY));
                eod.terminated_at = eod.usage.deleted_at;
            }
            Anomaly::LostDeleteEnd => self.steps.retain(|s| s.event_type != DELETE_END),
            Anomaly::ExistsMissedDelete => {
                eod.state = pre_delete_state;
                eod.usage.deleted_at = None;
                eod.terminated_at = None;
            }
            Anomaly::DoubleDeleteEnd => {
                if let Some(i) = self.steps.iter().position(|s| s.event_type == DELETE_END) {
                    let mut again = self.steps[i];
                    again.at += rng.range(SECOND, 30 * SECOND);
                    self.steps.insert(i + 1, again);
                }
            }
            Anomaly::LaunchedAtInPeriod => {
                eod.usage.launched_at = Some(day_start + rng.range(HOUR, 23 * HOUR));
            }
            Anomaly::LostCreate => self.steps.retain(|s| !s.is_instance_event()),
            Anomaly::ExistsLacksOsField => {
                let img = &IMAGES[eod.usage.image as usize];
                eod.usage.meta_drop = if img.os_distro.is_some() {
                    META_DISTRO
                } else if img.os_version.is_some() {
                    META_VERSION
                } else {
                    META_ARCH
                };
            }
            Anomaly::DeleteEndLacksDeletedAt => {
                for s in self.steps.iter_mut().filter(|s| s.event_type == DELETE_END) {
                    s.usage.deleted_at = None;
                }
            }
        }
        a
    }
}

fn pick_code(rng: &mut Rng) -> Option<u8> {
    let i = catalog::by_weight(ANOMALY_MIX.iter().map(|(_, w)| *w), rng.below(100));
    ANOMALY_MIX[i].0
}

fn pick_op(rng: &mut Rng, st: VmState, relaunch_ok: bool) -> Option<OpKind> {
    let table: &[(OpKind, u32)] = match st {
        VmState::Active if relaunch_ok => &[
            (OpKind::Reboot, 30),
            (OpKind::Snapshot, 20),
            (OpKind::PowerOff, 12),
            (OpKind::Resize, 14),
            (OpKind::Rebuild, 10),
            (OpKind::Rescue, 6),
        ],
        VmState::Active => &[(OpKind::Reboot, 30), (OpKind::Snapshot, 20), (OpKind::PowerOff, 12)],
        VmState::Stopped => &[(OpKind::PowerOn, 70), (OpKind::Snapshot, 30)],
        VmState::Rescued => &[(OpKind::Unrescue, 1)],
        VmState::Resized if relaunch_ok => &[(OpKind::ResizeConfirm, 85), (OpKind::ResizeRevert, 15)],
        VmState::Resized => &[(OpKind::ResizeConfirm, 1)],
        VmState::Building | VmState::Deleted => return None,
    };
    let total = catalog::total(table.iter().map(|(_, w)| *w));
    Some(table[catalog::by_weight(table.iter().map(|(_, w)| *w), rng.below(total))].0)
}

fn after(op: OpKind, st: VmState) -> VmState {
    match op {
        OpKind::Create
        | OpKind::ResizeConfirm
        | OpKind::ResizeRevert
        | OpKind::Rebuild
        | OpKind::Unrescue
        | OpKind::PowerOn => VmState::Active,
        OpKind::Resize => VmState::Resized,
        OpKind::Rescue => VmState::Rescued,
        OpKind::PowerOff => VmState::Stopped,
        OpKind::Delete => VmState::Deleted,
        OpKind::Reboot | OpKind::Snapshot => st,
    }
}

fn new_instance(rng: &mut Rng, cfg: &Config, number: u64, created_at: i64) -> Instance {
    let tenant_index = mix(cfg.seed ^ number.wrapping_mul(0x2545_f491_4f6c_dd1d)) % cfg.tenants();
    // A permutation of 100000..=999999 (7919 is prime to 900000): distinct tenants look unrelated.
    let tenant = 100_000 + ((tenant_index * 7919) % 900_000) as u32;
    let user = 100_000 + (((tenant_index * 3 + rng.below(3)) * 104_729) % 900_000) as u32;
    let flavor = catalog::by_weight(catalog::flavor_weights(), rng.below(catalog::total(catalog::flavor_weights())));
    let image = catalog::by_weight(catalog::image_weights(), rng.below(catalog::total(catalog::image_weights())));
    Instance {
        uuid: rng.uuid4(),
        number,
        tenant,
        user,
        created_at,
        launched_at: None,
        deleted_at: None,
        flavor: flavor as u8,
        image: image as u8,
        host: rng.below(cfg.hosts as u64) as u32,
        state: VmState::Building,
        resized_from: None,
    }
}

fn other_flavor(rng: &mut Rng, f: u8) -> u8 {
    let n = FLAVORS.len() as u64;
    ((f as u64 + 1 + rng.below(n - 1)) % n) as u8
}

fn other_host(rng: &mut Rng, h: u32, hosts: u32) -> u32 {
    if hosts < 2 {
        return h;
    }
    ((h as u64 + 1 + rng.below(hosts as u64 - 1)) % hosts as u64) as u32
}

fn other_image(rng: &mut Rng, i: u8) -> u8 {
    let n = IMAGES.len() as u64;
    ((i as u64 + 1 + rng.below(n - 1)) % n) as u8
}

fn other_tenant(rng: &mut Rng, t: u32) -> u32 {
    100_000 + ((t - 100_000 + 1 + rng.below(899_999) as u32) % 900_000)
}

/// Another image with the same `os_*` keys present and different values, so a
/// comparison finds a conflict rather than a key on one side only.
fn similar_image(rng: &mut Rng, i: u8) -> Option<u8> {
    let a = &IMAGES[i as usize];
    let shape = |x: &catalog::Image| (x.architecture.is_some(), x.os_version.is_some(), x.os_distro.is_some());
    let candidates: Vec<u8> = (0..IMAGES.len())
        .filter(|&j| {
            let x = &IMAGES[j];
            shape(x) == shape(a)
                && (x.architecture, x.os_version, x.os_distro) != (a.architecture, a.os_version, a.os_distro)
        })
        .map(|j| j as u8)
        .collect();
    if candidates.is_empty() {
        return None;
    }
    Some(candidates[rng.below(candidates.len() as u64) as usize])
}

/// Emits an operation's notifications at fractions (per mille) of its duration.
struct Builder<'a> {
    steps: &'a mut Vec<Step>,
    rng: &'a mut Rng,
    start: i64,
    dur: i64,
    req: u8,
    last: i64,
}

/// The values the next notification reports; the scripts change them as the
/// operation changes the instance.
struct Cur {
    usage: Usage,
    host: u32,
    publisher: u32,
    state: VmState,
    task: Task,
    ips: bool,
    terminated_at: Option<i64>,
}

impl Builder<'_> {
    /// A time at `permille` of the operation, strictly after the previous notification.
    fn at(&mut self, permille: i64) -> i64 {
        let t = self.start + self.dur * permille / 1000 + self.rng.below(1000) as i64;
        let t = t.max(self.last.saturating_add(1));
        self.last = t;
        t
    }

    fn step(&mut self, c: &Cur, permille: i64, event_type: &'static str, kind: StepKind, state: VmState, task: Task) {
        let at = self.at(permille);
        self.steps.push(Step {
            at,
            event_type,
            kind,
            state,
            task,
            usage: c.usage,
            host: c.host,
            publisher: c.publisher,
            terminated_at: c.terminated_at,
            request: self.req,
            ips: c.ips,
        });
    }

    fn update(&mut self, c: &mut Cur, permille: i64, state: VmState, task: Task) {
        let kind = StepKind::Update {
            old_state: Some(c.state),
            old_task: (c.task != Task::None).then_some(c.task),
            new_task: (task != Task::None).then_some(task),
        };
        self.step(c, permille, "compute.instance.update", kind, state, task);
        c.state = state;
        c.task = task;
    }

    fn life(&mut self, c: &mut Cur, permille: i64, event_type: &'static str, state: VmState, task: Task, extra: Extra) {
        self.step(c, permille, event_type, StepKind::Lifecycle(extra), state, task);
        c.state = state;
        c.task = task;
    }

    fn scheduler(&mut self, c: &Cur, permille: i64, event_type: &'static str) {
        self.step(c, permille, event_type, StepKind::Scheduler, c.state, c.task);
    }

    /// The `.exists` nova sends in the middle of a resize, rebuild or rescue:
    /// the current, unfinished audit period (midnight to now).
    fn partial_exists(&mut self, c: &Cur, permille: i64) {
        let at = self.at(permille);
        let beginning = at - at.rem_euclid(DAY);
        self.steps.push(Step {
            at,
            event_type: EXISTS,
            kind: StepKind::Exists { beginning, ending: at },
            state: c.state,
            task: c.task,
            usage: c.usage,
            host: c.host,
            publisher: c.publisher,
            terminated_at: c.terminated_at,
            request: self.req,
            ips: c.ips,
        });
    }

    /// A moment (for `launched_at`, `deleted_at`) shortly before the notification at `permille`.
    fn moment_before(&mut self, permille: i64) -> i64 {
        let t = self.start + self.dur * permille / 1000;
        (t - self.rng.range(100_000, 900_000)).max(self.last + 1)
    }
}

/// The notifications of one operation (the sequences of the notigen templates),
/// applied to the instance.
fn expand(kind: OpKind, b: &mut Builder, inst: &mut Instance, cfg: &Config) {
    let mut c = Cur {
        usage: inst.usage(),
        host: inst.host,
        publisher: inst.host,
        state: inst.state,
        task: Task::None,
        ips: inst.launched_at.is_some(),
        terminated_at: None,
    };
    use Task as T;
    use VmState::*;
    match kind {
        OpKind::Create => {
            inst.created_at = b.start - b.rng.range(50_000, 2 * SECOND);
            c.state = Building;
            c.task = T::None;
            c.ips = false;
            b.update(&mut c, 0, Building, T::Scheduling);
            b.scheduler(&c, 7, "scheduler.run_instance.start");
            b.scheduler(&c, 15, "scheduler.run_instance.scheduled");
            b.scheduler(&c, 17, "scheduler.run_instance.end");
            b.update(&mut c, 21, Building, T::None);
            b.life(&mut c, 26, "compute.instance.create.start", Building, T::Scheduling, Extra::CreateStart);
            b.update(&mut c, 29, Building, T::None);
            b.update(&mut c, 34, Building, T::Networking);
            b.update(&mut c, 38, Building, T::BlockDeviceMapping);
            b.update(&mut c, 40, Building, T::BlockDeviceMapping);
            let n = 3 + b.rng.below(10) as i64;
            for i in 0..n {
                b.update(&mut c, 45 + 900 * i / n, Building, T::Spawning);
            }
            let launched = b.moment_before(985);
            c.usage.launched_at = Some(launched);
            c.ips = true;
            b.update(&mut c, 985, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.create.end", Active, T::None, Extra::CreateEnd);
            inst.launched_at = Some(launched);
            inst.state = Active;
        }
        OpKind::Delete => {
            let s = inst.state;
            b.update(&mut c, 0, s, T::Deleting);
            b.update(&mut c, 8, s, T::Deleting);
            b.life(&mut c, 140, "compute.instance.delete.start", s, T::Deleting, Extra::None);
            b.life(&mut c, 145, "compute.instance.shutdown.start", s, T::Deleting, Extra::None);
            b.life(&mut c, 960, "compute.instance.shutdown.end", s, T::Deleting, Extra::None);
            let mut deleted = b.moment_before(980);
            // Whole seconds would make a truncated deleted_at indistinguishable.
            if deleted.rem_euclid(SECOND) == 0 {
                deleted += 1;
            }
            c.terminated_at = Some(deleted);
            b.update(&mut c, 980, Deleted, T::None);
            c.usage.deleted_at = Some(deleted);
            b.life(&mut c, 1000, DELETE_END, Deleted, T::None, Extra::None);
            inst.deleted_at = Some(deleted);
            inst.state = Deleted;
        }
        OpKind::Resize => {
            let src = inst.host;
            let dst = other_host(b.rng, src, cfg.hosts);
            let new_flavor = other_flavor(b.rng, inst.flavor);
            // prep_resize runs on the destination, resize_instance on the source,
            // finish_resize on the destination again.
            c.publisher = dst;
            b.update(&mut c, 0, Active, T::ResizePrep);
            b.update(&mut c, 10, Active, T::None);
            b.update(&mut c, 20, Active, T::ResizePrep);
            b.partial_exists(&c, 50);
            b.update(&mut c, 60, Active, T::ResizePrep);
            b.life(&mut c, 70, "compute.instance.resize.prep.start", Active, T::ResizePrep, Extra::None);
            b.update(&mut c, 80, Active, T::ResizePrep);
            let prep_end = Extra::PrepEnd { new_flavor };
            b.life(&mut c, 100, "compute.instance.resize.prep.end", Active, T::ResizePrep, prep_end);
            c.publisher = src;
            b.update(&mut c, 150, Active, T::ResizeMigrating);
            b.life(&mut c, 170, "compute.instance.resize.start", Active, T::ResizeMigrating, Extra::FixedIps);
            let n = 2 + b.rng.below(5) as i64;
            for i in 0..n {
                b.update(&mut c, 200 + 500 * i / n, Active, T::ResizeMigrating);
            }
            b.update(&mut c, 750, Active, T::ResizeMigrated);
            b.life(&mut c, 780, "compute.instance.resize.end", Active, T::ResizeMigrated, Extra::FixedIps);
            c.usage.flavor = new_flavor;
            c.host = dst;
            b.update(&mut c, 800, Active, T::ResizeMigrated);
            c.publisher = dst;
            b.update(&mut c, 850, Active, T::ResizeFinish);
            b.life(&mut c, 870, "compute.instance.finish_resize.start", Active, T::ResizeFinish, Extra::FixedIps);
            b.update(&mut c, 920, Active, T::ResizeFinish);
            let launched = b.moment_before(985);
            c.usage.launched_at = Some(launched);
            b.update(&mut c, 985, Resized, T::None);
            b.life(&mut c, 1000, "compute.instance.finish_resize.end", Resized, T::None, Extra::FixedIps);
            inst.resized_from = Some((inst.flavor, src));
            inst.flavor = new_flavor;
            inst.host = dst;
            inst.launched_at = Some(launched);
            inst.state = Resized;
        }
        OpKind::ResizeConfirm => {
            // confirm_resize cleans up on the source host.
            let (_, src) = inst.resized_from.unwrap_or((inst.flavor, inst.host));
            c.publisher = src;
            c.state = Resized;
            b.life(&mut c, 0, "compute.instance.resize.confirm.start", Resized, T::None, Extra::None);
            b.update(&mut c, 300, Resized, T::None);
            b.update(&mut c, 800, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.resize.confirm.end", Active, T::None, Extra::FixedIps);
            inst.resized_from = None;
            inst.state = Active;
        }
        OpKind::ResizeRevert => {
            let (old_flavor, src) = inst.resized_from.unwrap_or((inst.flavor, inst.host));
            c.state = Resized;
            b.update(&mut c, 0, Resized, T::ResizeReverting);
            b.life(&mut c, 20, "compute.instance.resize.revert.start", Resized, T::ResizeReverting, Extra::None);
            b.update(&mut c, 100, Resized, T::ResizeReverting);
            // finish_revert_resize on the source: the old flavor, a new launch.
            c.publisher = src;
            c.host = src;
            c.usage.flavor = old_flavor;
            b.update(&mut c, 600, Resized, T::ResizeReverting);
            let launched = b.moment_before(985);
            c.usage.launched_at = Some(launched);
            b.update(&mut c, 985, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.resize.revert.end", Active, T::None, Extra::FixedIps);
            inst.flavor = old_flavor;
            inst.host = src;
            inst.launched_at = Some(launched);
            inst.resized_from = None;
            inst.state = Active;
        }
        OpKind::Rebuild => {
            let new_image = other_image(b.rng, inst.image);
            b.update(&mut c, 0, Active, T::Rebuilding);
            b.update(&mut c, 10, Active, T::None);
            b.update(&mut c, 20, Active, T::Rebuilding);
            b.update(&mut c, 30, Active, T::Rebuilding);
            b.partial_exists(&c, 40);
            b.life(&mut c, 50, "compute.instance.rebuild.start", Active, T::Rebuilding, Extra::Rebuild { end: false });
            b.update(&mut c, 60, Active, T::Rebuilding);
            c.usage.image = new_image;
            b.update(&mut c, 80, Active, T::RebuildBlockDeviceMapping);
            let n = 3 + b.rng.below(8) as i64;
            for i in 0..n {
                b.update(&mut c, 100 + 850 * i / n, Active, T::RebuildSpawning);
            }
            let launched = b.moment_before(985);
            c.usage.launched_at = Some(launched);
            b.update(&mut c, 985, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.rebuild.end", Active, T::None, Extra::Rebuild { end: true });
            inst.image = new_image;
            inst.launched_at = Some(launched);
            inst.state = Active;
        }
        OpKind::Rescue => {
            b.update(&mut c, 0, Active, T::Rescuing);
            b.update(&mut c, 10, Active, T::None);
            b.update(&mut c, 20, Active, T::Rescuing);
            b.life(&mut c, 30, "compute.instance.rescue.start", Active, T::None, Extra::Rescue);
            let n = 2 + b.rng.below(7) as i64;
            for i in 0..n {
                b.update(&mut c, 60 + 840 * i / n, Active, T::Rescuing);
            }
            b.partial_exists(&c, 930);
            let launched = b.moment_before(980);
            c.usage.launched_at = Some(launched);
            b.update(&mut c, 980, Rescued, T::None);
            b.life(&mut c, 1000, "compute.instance.rescue.end", Rescued, T::None, Extra::Rescue);
            inst.launched_at = Some(launched);
            inst.state = Rescued;
        }
        OpKind::Unrescue => {
            c.state = Rescued;
            b.update(&mut c, 0, Rescued, T::Unrescuing);
            b.update(&mut c, 10, Rescued, T::None);
            b.update(&mut c, 20, Rescued, T::Unrescuing);
            b.life(&mut c, 30, "compute.instance.unrescue.start", Rescued, T::None, Extra::FixedIps);
            b.update(&mut c, 900, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.unrescue.end", Active, T::None, Extra::FixedIps);
            inst.state = Active;
        }
        OpKind::Reboot => {
            b.update(&mut c, 0, Active, T::Rebooting);
            b.update(&mut c, 5, Active, T::Rebooting);
            b.life(&mut c, 10, "compute.instance.reboot.start", Active, T::Rebooting, Extra::None);
            b.update(&mut c, 15, Active, T::Rebooting);
            b.update(&mut c, 990, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.reboot.end", Active, T::None, Extra::None);
        }
        OpKind::PowerOff => {
            b.update(&mut c, 0, Active, T::PoweringOff);
            b.life(&mut c, 100, "compute.instance.power_off.start", Active, T::PoweringOff, Extra::None);
            b.update(&mut c, 900, Stopped, T::None);
            b.life(&mut c, 1000, "compute.instance.power_off.end", Stopped, T::None, Extra::None);
            inst.state = Stopped;
        }
        OpKind::PowerOn => {
            c.state = Stopped;
            b.update(&mut c, 0, Stopped, T::PoweringOn);
            b.life(&mut c, 100, "compute.instance.power_on.start", Stopped, T::PoweringOn, Extra::None);
            b.update(&mut c, 900, Active, T::None);
            b.life(&mut c, 1000, "compute.instance.power_on.end", Active, T::None, Extra::None);
            inst.state = Active;
        }
        OpKind::Snapshot => {
            let s = inst.state;
            b.update(&mut c, 0, s, T::ImageSnapshotPending);
            b.update(&mut c, 10, s, T::ImageSnapshotPending);
            b.update(&mut c, 20, s, T::ImageSnapshot);
            b.update(&mut c, 25, s, T::ImageSnapshot);
            b.life(&mut c, 30, "compute.instance.snapshot.start", s, T::ImageSnapshot, Extra::None);
            b.update(&mut c, 100, s, T::ImagePendingUpload);
            b.update(&mut c, 200, s, T::ImageUploading);
            b.update(&mut c, 990, s, T::None);
            b.life(&mut c, 1000, "compute.instance.snapshot.end", s, T::None, Extra::None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::expect::{expect, Outcome};
    use super::*;

    fn config(seed: u64, ops: f64, churn: f64, anomalies: f64) -> Config {
        Config { seed, instances: 200, hosts: 8, start_day: 16_349, days: 4, ops, churn, anomalies }
    }

    /// Every planned day of every slot, in order: (slot index, steps, plan, instance after the day).
    fn days(cfg: &Config) -> Vec<(u32, Vec<Step>, DayPlan, Option<Instance>)> {
        let mut out = Vec::new();
        for i in 0..cfg.instances {
            let mut slot = Slot::new(i, cfg);
            while slot.plan_next(cfg) {
                out.push((i, slot.steps.clone(), slot.plan.clone(), slot.inst.clone()));
            }
        }
        out
    }

    #[test]
    fn notifications_stay_inside_their_day_in_time_order() {
        let cfg = config(3, 0.6, 0.1, 0.3);
        for (_, steps, plan, _) in days(&cfg) {
            let day_start = plan.day * DAY;
            for w in steps.windows(2) {
                assert!(w[0].at < w[1].at, "{plan:?}: not strictly in time order");
            }
            for s in &steps {
                match s.kind {
                    StepKind::Exists { beginning, ending } if ending - beginning == DAY || s.request == AUDIT => {
                        // The nightly audit: shortly after the following midnight.
                        assert!(s.at > day_start + DAY && s.at < day_start + DAY + 15 * MINUTE, "{plan:?}");
                        assert!(beginning == day_start || beginning == day_start + SECOND, "{plan:?}");
                    }
                    StepKind::Exists { beginning, ending } => {
                        assert_eq!(beginning, day_start);
                        assert_eq!(ending, s.at);
                    }
                    _ => {
                        assert!(s.at >= day_start + 30 * MINUTE && s.at < day_start + 23 * HOUR + 45 * MINUTE)
                    }
                }
            }
        }
    }

    #[test]
    fn every_anomaly_gets_the_verdict_it_is_built_for() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..4 {
            let cfg = config(seed, 0.5, 0.05, 1.0);
            for (_, steps, plan, _) in days(&cfg) {
                let a = plan.anomaly.expect("every instance-day has an anomaly at rate 1");
                let e = expect(&steps).expect("an anomalous day has a stream");
                let got = match e.outcome {
                    Outcome::Failed => Intent::Failed(e.code.unwrap_or(99)),
                    Outcome::Error => Intent::Error,
                    Outcome::Verified => panic!("{a:?} verified: {plan:?}"),
                };
                assert_eq!(got, a.intent(), "{a:?} on {}: {}", plan.scenario(), e.message);
                seen.insert(a);
            }
        }
        for a in Anomaly::ALL {
            assert!(seen.contains(&a), "{a:?} never injected");
        }
    }

    #[test]
    fn without_anomalies_only_relaunching_operations_fail() {
        let cfg = config(5, 0.8, 0.1, 0.0);
        let mut relaunch_days = 0;
        for (_, steps, plan, _) in days(&cfg) {
            let e = expect(&steps).expect("every instance-day has a stream");
            assert!(e.fires, "{plan:?}");
            if plan.ops.iter().any(|o| o.relaunches()) {
                relaunch_days += 1;
                assert_eq!(e.code, Some(2), "{}", plan.scenario());
                assert!(e.message.starts_with("Conflicting 'launched_at' values ('"), "{}", e.message);
            } else {
                assert_eq!(e.outcome, Outcome::Verified, "{}: {}", plan.scenario(), e.message);
            }
        }
        assert!(relaunch_days > 20, "too few resizes, rebuilds, rescues: {relaunch_days}");
    }

    #[test]
    fn the_audit_reports_the_values_the_day_ended_with() {
        let cfg = config(7, 0.8, 0.1, 0.0);
        for (_, steps, plan, inst) in days(&cfg) {
            let inst = inst.expect("a day with notifications has an instance");
            let eod = steps.last().expect("the day's audit");
            assert_eq!(eod.event_type, EXISTS);
            assert_eq!(eod.usage, inst.usage(), "{}", plan.scenario());
            assert_eq!(eod.state, inst.state);
            assert_eq!(eod.host, inst.host);
            // The last instance event before it already shows those values.
            if let Some(last) = steps.iter().rev().skip(1).find(|s| s.is_instance_event() && s.event_type != EXISTS) {
                assert_eq!(last.usage.launched_at, inst.launched_at, "{}", plan.scenario());
                assert_eq!((last.usage.flavor, last.usage.image), (inst.flavor, inst.image), "{}", plan.scenario());
                assert_eq!(last.state, inst.state, "{}", plan.scenario());
            }
        }
    }

    #[test]
    fn operation_starts_carry_the_values_from_before() {
        let cfg = config(11, 0.9, 0.0, 0.0);
        let mut checked = 0;
        for (_, steps, plan, _) in days(&cfg) {
            for (i, s) in steps.iter().enumerate() {
                let end = match s.event_type {
                    "compute.instance.resize.prep.start" => "compute.instance.finish_resize.end",
                    "compute.instance.rebuild.start" => "compute.instance.rebuild.end",
                    "compute.instance.rescue.start" => "compute.instance.rescue.end",
                    _ => continue,
                };
                let e = steps[i..].iter().find(|x| x.event_type == end).expect("the operation ends the same day");
                assert_ne!(s.usage.launched_at, e.usage.launched_at, "{}", plan.scenario());
                match end {
                    "compute.instance.finish_resize.end" => assert_ne!(s.usage.flavor, e.usage.flavor),
                    "compute.instance.rebuild.end" => assert_ne!(s.usage.image, e.usage.image),
                    _ => assert_eq!((s.usage.flavor, s.usage.image), (e.usage.flavor, e.usage.image)),
                }
                checked += 1;
            }
        }
        assert!(checked > 20);
    }

    #[test]
    fn values_carry_over_midnight_and_deleted_instances_are_replaced() {
        let cfg = config(13, 0.5, 0.3, 0.0);
        let mut replaced = 0;
        for i in 0..cfg.instances {
            let mut slot = Slot::new(i, &cfg);
            let mut prev: Option<(Instance, i64)> = None;
            while slot.plan_next(&cfg) {
                let inst = slot.inst.clone().expect("instance");
                let first = slot.steps[0];
                if let Some((p, day)) = &prev {
                    if p.uuid == inst.uuid {
                        assert_eq!(*day + 1, slot.plan.day, "an instance is audited every day it lives");
                        if first.is_instance_event() {
                            assert_eq!(first.usage.launched_at, p.launched_at);
                            assert_eq!((first.usage.flavor, first.usage.image), (p.flavor, p.image));
                        }
                    } else {
                        assert_eq!(p.state, VmState::Deleted, "an instance is only replaced once deleted");
                        assert_eq!(slot.plan.ops.first(), Some(&OpKind::Create));
                        assert!(slot.plan.day - day <= 3);
                        replaced += 1;
                    }
                }
                prev = Some((inst, slot.plan.day));
            }
        }
        assert!(replaced > 10);
    }

    #[test]
    fn planning_is_deterministic() {
        let cfg = config(17, 0.5, 0.05, 0.2);
        let a: Vec<_> =
            days(&cfg).into_iter().map(|(i, s, p, _)| (i, s.len(), s.last().map(|x| x.at), p.scenario())).collect();
        let b: Vec<_> =
            days(&cfg).into_iter().map(|(i, s, p, _)| (i, s.len(), s.last().map(|x| x.at), p.scenario())).collect();
        assert_eq!(a, b);
    }
}
