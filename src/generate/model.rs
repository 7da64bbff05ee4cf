//! The scenario model: instances, the operations that change them, the
//! notifications an operation sends (as [`Step`]s), and the discrepancies the
//! generator can inject ([`Anomaly`]). Everything the archive and its truth
//! are made from is here, as plain data.

use super::catalog::{FLAVORS, IMAGES};
use rand_core::{Rng as _, SeedableRng};
use rand_pcg::Pcg64Mcg;

pub const SECOND: i64 = 1_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// A seeded generator of the model's random choices. Each slot has its own, so
/// what happens to an instance never depends on how the archive interleaves.
pub struct Rng(Pcg64Mcg);

impl Rng {
    pub fn new(seed: u64, stream: u64) -> Rng {
        Rng(Pcg64Mcg::seed_from_u64(mix(seed ^ mix(stream.wrapping_add(0x5851_f42d_4c95_7f2d)))))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    /// A random (version 4) UUID.
    pub fn uuid4(&mut self) -> u128 {
        let v = ((self.u64() as u128) << 64) | self.u64() as u128;
        uuid::Builder::from_random_bytes(v.to_be_bytes()).into_uuid().as_u128()
    }
}

/// SplitMix64's finaliser: spreads seeds and indices over the whole state.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// nova's `vm_state`, the payload's `state`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VmState {
    Building,
    Active,
    Stopped,
    Rescued,
    Resized,
    Deleted,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Building => "building",
            VmState::Active => "active",
            VmState::Stopped => "stopped",
            VmState::Rescued => "rescued",
            VmState::Resized => "resized",
            VmState::Deleted => "deleted",
        }
    }
}

/// nova's `task_state`, the payload's `state_description` (`""` when none).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Task {
    None,
    Scheduling,
    Networking,
    BlockDeviceMapping,
    Spawning,
    Deleting,
    ResizePrep,
    ResizeMigrating,
    ResizeMigrated,
    ResizeFinish,
    ResizeReverting,
    Rebuilding,
    RebuildBlockDeviceMapping,
    RebuildSpawning,
    Rescuing,
    Unrescuing,
    Rebooting,
    PoweringOff,
    PoweringOn,
    ImageSnapshotPending,
    ImageSnapshot,
    ImagePendingUpload,
    ImageUploading,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::None => "",
            Task::Scheduling => "scheduling",
            Task::Networking => "networking",
            Task::BlockDeviceMapping => "block_device_mapping",
            Task::Spawning => "spawning",
            Task::Deleting => "deleting",
            Task::ResizePrep => "resize_prep",
            Task::ResizeMigrating => "resize_migrating",
            Task::ResizeMigrated => "resize_migrated",
            Task::ResizeFinish => "resize_finish",
            Task::ResizeReverting => "resize_reverting",
            Task::Rebuilding => "rebuilding",
            Task::RebuildBlockDeviceMapping => "rebuild_block_device_mapping",
            Task::RebuildSpawning => "rebuild_spawning",
            Task::Rescuing => "rescuing",
            Task::Unrescuing => "unrescuing",
            Task::Rebooting => "rebooting",
            Task::PoweringOff => "powering-off",
            Task::PoweringOn => "powering-on",
            Task::ImageSnapshotPending => "image_snapshot_pending",
            Task::ImageSnapshot => "image_snapshot",
            Task::ImagePendingUpload => "image_pending_upload",
            Task::ImageUploading => "image_uploading",
        }
    }
}

/// What a user (or nova) does to an instance.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OpKind {
    Create,
    Delete,
    Resize,
    ResizeConfirm,
    ResizeRevert,
    Rebuild,
    Rescue,
    Unrescue,
    Reboot,
    PowerOff,
    PowerOn,
    Snapshot,
}

impl OpKind {
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Delete => "delete",
            OpKind::Resize => "resize",
            OpKind::ResizeConfirm => "resize_confirm",
            OpKind::ResizeRevert => "resize_revert",
            OpKind::Rebuild => "rebuild",
            OpKind::Rescue => "rescue",
            OpKind::Unrescue => "unrescue",
            OpKind::Reboot => "reboot",
            OpKind::PowerOff => "power_off",
            OpKind::PowerOn => "power_on",
            OpKind::Snapshot => "snapshot",
        }
    }

    /// Operations that give the instance a new `launched_at` (and possibly a
    /// new flavor or image) while sending an event the usage checks compare
    /// with the values from before: a day with one of them fails U2 naturally.
    pub fn relaunches(self) -> bool {
        matches!(self, OpKind::Resize | OpKind::ResizeRevert | OpKind::Rebuild | OpKind::Rescue)
    }

    /// How long the operation takes, in seconds (low, high).
    pub fn duration(self) -> (i64, i64) {
        match self {
            OpKind::Create => (40, 150),
            OpKind::Delete => (5, 45),
            OpKind::Resize => (60, 600),
            OpKind::ResizeConfirm => (2, 15),
            OpKind::ResizeRevert => (30, 240),
            OpKind::Rebuild => (30, 1200),
            OpKind::Rescue => (20, 120),
            OpKind::Unrescue => (10, 60),
            OpKind::Reboot => (10, 180),
            OpKind::PowerOff => (2, 60),
            OpKind::PowerOn => (2, 60),
            OpKind::Snapshot => (30, 900),
        }
    }
}

/// The values of an instance a notification reports, as far as usage is concerned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Usage {
    pub launched_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// Index into [`FLAVORS`].
    pub flavor: u8,
    /// Index into [`IMAGES`].
    pub image: u8,
    pub tenant: u32,
    /// `image_meta` keys left out of this notification (bits of [`META_ARCH`] …).
    pub meta_drop: u8,
}

pub const META_ARCH: u8 = 1;
pub const META_VERSION: u8 = 2;
pub const META_DISTRO: u8 = 4;

impl Usage {
    pub fn instance_type_id(&self) -> i64 {
        FLAVORS[self.flavor as usize].id as i64
    }

    pub fn os_architecture(&self) -> Option<&'static str> {
        IMAGES[self.image as usize].architecture.filter(|_| self.meta_drop & META_ARCH == 0)
    }

    pub fn os_version(&self) -> Option<&'static str> {
        IMAGES[self.image as usize].os_version.filter(|_| self.meta_drop & META_VERSION == 0)
    }

    pub fn os_distro(&self) -> Option<&'static str> {
        IMAGES[self.image as usize].os_distro.filter(|_| self.meta_drop & META_DISTRO == 0)
    }
}

/// The request an operation runs under (`_context_*` of its notifications).
#[derive(Clone, Copy, Debug)]
pub struct RequestCtx {
    pub request_id: u128,
    /// `None` for nova's own periodic tasks (the audit): no token, no address.
    pub auth_token: Option<u128>,
    pub remote_address: u32,
    pub is_admin: bool,
    pub timestamp: i64,
}

/// How a notification's payload is shaped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StepKind {
    /// `compute.instance.update`: old/new task states, audit period, empty bandwidth.
    Update { old_state: Option<VmState>, old_task: Option<Task>, new_task: Option<Task> },
    /// `compute.instance.<operation>.start|end` and friends.
    Lifecycle(Extra),
    /// `compute.instance.exists` with its audit period.
    Exists { beginning: i64, ending: i64 },
    /// `scheduler.run_instance.*`: not an instance event, not distilled.
    Scheduler,
}

/// Payload keys only some lifecycle notifications carry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Extra {
    None,
    /// `fixed_ips`.
    FixedIps,
    /// create.start: `message: ""`, `image_name`.
    CreateStart,
    /// create.end: `message: "Success"`, `image_name`, `fixed_ips`.
    CreateEnd,
    /// rebuild.*: `image_name` (and `fixed_ips` on the end).
    Rebuild {
        end: bool,
    },
    /// resize.prep.end: `new_instance_type`, `new_instance_type_id` (a flavor index).
    PrepEnd {
        new_flavor: u8,
    },
    /// rescue.*: `rescue_image_name`, `fixed_ips`.
    Rescue,
}

/// One notification of an instance's day, as the model knows it.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub at: i64,
    pub event_type: &'static str,
    pub kind: StepKind,
    pub state: VmState,
    pub task: Task,
    pub usage: Usage,
    /// The payload's `host` (the instance's compute host).
    pub host: u32,
    /// The compute host that sent it (`compute.host-N`); differs from `host`
    /// while a resize moves the instance.
    pub publisher: u32,
    /// `terminated_at` once deleted.
    pub terminated_at: Option<i64>,
    /// Index into the day's requests; `AUDIT` for the end-of-day audit.
    pub request: u8,
    /// Whether the instance has its addresses yet.
    pub ips: bool,
}

/// `Step::request` of notifications sent by the nightly usage audit.
pub const AUDIT: u8 = u8::MAX;

pub const EXISTS: &str = "compute.instance.exists";
pub const DELETE_END: &str = "compute.instance.delete.end";

impl Step {
    pub fn is_instance_event(&self) -> bool {
        !matches!(self.kind, StepKind::Scheduler)
    }
}

/// An instance and what it is at the current moment of the simulation.
#[derive(Clone, Debug)]
pub struct Instance {
    pub uuid: u128,
    /// Serial number in the cloud: names and addresses derive from it.
    pub number: u64,
    pub tenant: u32,
    pub user: u32,
    pub created_at: i64,
    pub launched_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub flavor: u8,
    pub image: u8,
    pub host: u32,
    pub state: VmState,
    /// While resized and not yet confirmed: the flavor and host it came from.
    pub resized_from: Option<(u8, u32)>,
}

impl Instance {
    pub fn usage(&self) -> Usage {
        Usage {
            launched_at: self.launched_at,
            deleted_at: self.deleted_at,
            flavor: self.flavor,
            image: self.image,
            tenant: self.tenant,
            meta_drop: 0,
        }
    }
}

/// What the truth expects of a stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Intent {
    Failed(u8),
    /// The pipeline crashes on a field present on one side only.
    Error,
}

/// An injected discrepancy: what went wrong with one instance-day, and the
/// verdict it must produce (docs/checks.md#usage-checks). Each is built so that no earlier
/// check in the evaluation order can claim the day first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Anomaly {
    /// U0: the end-of-day `.exists` never arrived; the stream expires.
    MissingExists,
    /// U0: the audit sent its `.exists` for the current, unfinished period
    /// (ending at the moment it ran): no EOD audit, the stream expires.
    PartialPeriod,
    /// U0: the audit period is a whole day but shifted off midnight by a
    /// second: the stream fires (the trigger only wants one day) yet the checks
    /// find no midnight-to-midnight `.exists`.
    ShiftedPeriod,
    /// U1: the `.exists` has no `launched_at`.
    NoLaunchedAt,
    /// U2: created today, but the `.exists` bills another flavor.
    WrongFlavor,
    /// U2: created today, but the `.exists` reports another image's OS.
    WrongImage,
    /// U2: created today, but the `.exists` bills another tenant.
    WrongTenant,
    /// U2: deleted today, and the `.exists` lost the microseconds of `deleted_at`.
    DeletedAtTruncated,
    /// U3: alive, but the `.exists` carries a `deleted_at`.
    DeletedAtWhileAlive,
    /// U4: alive, but the `.exists` says deleted, before it was launched.
    DeletedBeforeLaunch,
    /// U5: deleted today, but the `delete.end` was lost.
    LostDeleteEnd,
    /// U6: deleted today, but the `.exists` still reports it alive.
    ExistsMissedDelete,
    /// U7: deleted today, and `delete.end` was sent twice.
    DoubleDeleteEnd,
    /// U8: a quiet day, but the `.exists` reports a launch during the day.
    LaunchedAtInPeriod,
    /// U8: created today, but every compute notification of the create was lost.
    LostCreate,
    /// error: created today, but the `.exists` image_meta lacks an OS key the create.end has.
    ExistsLacksOsField,
    /// error: deleted today, and `delete.end` has no `deleted_at`.
    DeleteEndLacksDeletedAt,
}

/// How an anomaly shapes the day's operations.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeleteRule {
    Free,
    Forbid,
    Force,
}

impl Anomaly {
    pub const ALL: [Anomaly; 17] = [
        Anomaly::MissingExists,
        Anomaly::PartialPeriod,
        Anomaly::ShiftedPeriod,
        Anomaly::NoLaunchedAt,
        Anomaly::WrongFlavor,
        Anomaly::WrongImage,
        Anomaly::WrongTenant,
        Anomaly::DeletedAtTruncated,
        Anomaly::DeletedAtWhileAlive,
        Anomaly::DeletedBeforeLaunch,
        Anomaly::LostDeleteEnd,
        Anomaly::ExistsMissedDelete,
        Anomaly::DoubleDeleteEnd,
        Anomaly::LaunchedAtInPeriod,
        Anomaly::LostCreate,
        Anomaly::ExistsLacksOsField,
        Anomaly::DeleteEndLacksDeletedAt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Anomaly::MissingExists => "missing_exists",
            Anomaly::PartialPeriod => "partial_audit_period",
            Anomaly::ShiftedPeriod => "shifted_audit_period",
            Anomaly::NoLaunchedAt => "exists_without_launched_at",
            Anomaly::WrongFlavor => "exists_wrong_flavor",
            Anomaly::WrongImage => "exists_wrong_image",
            Anomaly::WrongTenant => "exists_wrong_tenant",
            Anomaly::DeletedAtTruncated => "exists_deleted_at_truncated",
            Anomaly::DeletedAtWhileAlive => "exists_deleted_at_while_alive",
            Anomaly::DeletedBeforeLaunch => "exists_deleted_before_launch",
            Anomaly::LostDeleteEnd => "lost_delete_end",
            Anomaly::ExistsMissedDelete => "exists_missed_delete",
            Anomaly::DoubleDeleteEnd => "double_delete_end",
            Anomaly::LaunchedAtInPeriod => "exists_launched_at_in_period",
            Anomaly::LostCreate => "lost_create",
            Anomaly::ExistsLacksOsField => "exists_lacks_os_field",
            Anomaly::DeleteEndLacksDeletedAt => "delete_end_without_deleted_at",
        }
    }

    /// The verdict the anomaly is built to produce.
    pub fn intent(self) -> Intent {
        match self {
            Anomaly::MissingExists | Anomaly::PartialPeriod | Anomaly::ShiftedPeriod => Intent::Failed(0),
            Anomaly::NoLaunchedAt => Intent::Failed(1),
            Anomaly::WrongFlavor | Anomaly::WrongImage | Anomaly::WrongTenant | Anomaly::DeletedAtTruncated => {
                Intent::Failed(2)
            }
            Anomaly::DeletedAtWhileAlive => Intent::Failed(3),
            Anomaly::DeletedBeforeLaunch => Intent::Failed(4),
            Anomaly::LostDeleteEnd => Intent::Failed(5),
            Anomaly::ExistsMissedDelete => Intent::Failed(6),
            Anomaly::DoubleDeleteEnd => Intent::Failed(7),
            Anomaly::LaunchedAtInPeriod | Anomaly::LostCreate => Intent::Failed(8),
            Anomaly::ExistsLacksOsField | Anomaly::DeleteEndLacksDeletedAt => Intent::Error,
        }
    }

    /// Whether the day may also hold operations that relaunch the instance
    /// (and so fail U2 on their own). Only anomalies decided before the U2
    /// comparisons (U0, U1) can share a day with them.
    pub fn allows_relaunch(self) -> bool {
        matches!(self, Anomaly::MissingExists | Anomaly::PartialPeriod | Anomaly::ShiftedPeriod | Anomaly::NoLaunchedAt)
    }

    pub fn delete_rule(self) -> DeleteRule {
        match self {
            Anomaly::DeletedAtTruncated
            | Anomaly::LostDeleteEnd
            | Anomaly::ExistsMissedDelete
            | Anomaly::DoubleDeleteEnd
            | Anomaly::DeleteEndLacksDeletedAt => DeleteRule::Force,
            Anomaly::MissingExists | Anomaly::PartialPeriod | Anomaly::ShiftedPeriod | Anomaly::NoLaunchedAt => {
                DeleteRule::Free
            }
            _ => DeleteRule::Forbid,
        }
    }

    /// Whether the day keeps no operation except (for [`Anomaly::LostCreate`]) the create.
    pub fn quiet(self) -> bool {
        matches!(self, Anomaly::LaunchedAtInPeriod | Anomaly::LostCreate)
    }
}

/// The outcome codes and their share of injected anomalies, in percent
/// (`None` is the `error` outcome). The README documents this table.
pub const ANOMALY_MIX: [(Option<u8>, u32); 10] = [
    (Some(0), 12),
    (Some(1), 8),
    (Some(2), 14),
    (Some(3), 10),
    (Some(4), 8),
    (Some(5), 10),
    (Some(6), 8),
    (Some(7), 8),
    (Some(8), 10),
    (None, 12),
];

/// The anomaly that realises a code on a given day. `creating`: the instance is
/// created today; `active`: it starts the day active (U8 on a quiet day needs
/// an active instance, otherwise U8 falls back to U3).
pub fn anomaly_for(code: Option<u8>, creating: bool, active: bool, rng: &mut Rng) -> Anomaly {
    match code {
        Some(0) => match rng.below(6) {
            0..=2 => Anomaly::MissingExists,
            3..=4 => Anomaly::PartialPeriod,
            _ => Anomaly::ShiftedPeriod,
        },
        Some(1) => Anomaly::NoLaunchedAt,
        Some(2) if creating => match rng.below(3) {
            0 => Anomaly::WrongFlavor,
            1 => Anomaly::WrongImage,
            _ => Anomaly::WrongTenant,
        },
        Some(2) => Anomaly::DeletedAtTruncated,
        Some(3) => Anomaly::DeletedAtWhileAlive,
        Some(4) => Anomaly::DeletedBeforeLaunch,
        Some(5) => Anomaly::LostDeleteEnd,
        Some(6) => Anomaly::ExistsMissedDelete,
        Some(7) => Anomaly::DoubleDeleteEnd,
        Some(8) if creating => Anomaly::LostCreate,
        Some(8) if active => Anomaly::LaunchedAtInPeriod,
        Some(8) => Anomaly::DeletedAtWhileAlive,
        None if creating => Anomaly::ExistsLacksOsField,
        None => Anomaly::DeleteEndLacksDeletedAt,
        Some(_) => Anomaly::NoLaunchedAt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_per_seed_and_stream() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, 3);
                move |_| r.u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, 3);
                move |_| r.u64()
            })
            .collect();
        let c: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, 4);
                move |_| r.u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_and_range_stay_in_bounds() {
        let mut r = Rng::new(1, 1);
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            let x = r.range(-5, 5);
            assert!((-5..5).contains(&x));
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.range(3, 3), 3);
    }

    #[test]
    fn uuid4_has_version_and_variant() {
        let mut r = Rng::new(1, 2);
        let u = uuid::Uuid::from_u128(r.uuid4());
        assert_eq!(u.get_version_num(), 4);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn mix_weights_sum_to_100() {
        assert_eq!(ANOMALY_MIX.iter().map(|(_, w)| w).sum::<u32>(), 100);
    }

    #[test]
    fn anomaly_for_realises_the_code_asked() {
        let mut r = Rng::new(0, 0);
        for (code, _) in ANOMALY_MIX {
            for creating in [false, true] {
                for _ in 0..20 {
                    let a = anomaly_for(code, creating, true, &mut r);
                    let want = match code {
                        Some(c) => Intent::Failed(c),
                        None => Intent::Error,
                    };
                    assert_eq!(a.intent(), want, "{code:?} creating={creating} gave {a:?}");
                }
            }
        }
        // U8 on a quiet day needs an active instance; otherwise it becomes U3.
        assert_eq!(anomaly_for(Some(8), false, false, &mut r), Anomaly::DeletedAtWhileAlive);
    }
}
