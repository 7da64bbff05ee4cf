//! Writing notifications as JSON, by hand and fast: Python's `json.dumps`
//! layout (`", "` and `": "`), the envelope keys in the order of the captured
//! templates, datetimes as Python's `str(datetime)` (nova's own format), and
//! the parts that never change (a flavor, an image's metadata) rendered once.
//!
//! Every string written goes through [`push_str`], which escapes what JSON
//! requires, even though the generator's own values are plain ASCII.

use super::catalog::{Flavor, Image, FLAVORS, IMAGES};
use super::model::{mix, Extra, Instance, RequestCtx, Step, StepKind, Task, VmState, DAY, META_ARCH, META_DISTRO};
use super::model::{META_VERSION, SECOND};
use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const EPOCH_FROM_CE: i64 = 719_163;

fn push_2(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01.
pub fn push_date(out: &mut Vec<u8>, day: i64) {
    let date = i32::try_from(day + EPOCH_FROM_CE).ok().and_then(NaiveDate::from_num_days_from_ce_opt);
    let (y, m, d) = date.map(|d| (d.year(), d.month(), d.day())).unwrap_or((1970, 1, 1));
    let y = y.clamp(0, 9999) as u32;
    push_2(out, y / 100);
    push_2(out, y % 100);
    out.push(b'-');
    push_2(out, m);
    out.push(b'-');
    push_2(out, d);
}

/// `YYYY-MM-DD HH:MM:SS` and, when `micros`, `.ffffff`.
pub fn push_datetime(out: &mut Vec<u8>, us: i64, micros: bool) {
    push_date(out, us.div_euclid(DAY));
    let rem = us.rem_euclid(DAY);
    let secs = (rem / SECOND) as u32;
    out.push(b' ');
    push_2(out, secs / 3600);
    out.push(b':');
    push_2(out, secs / 60 % 60);
    out.push(b':');
    push_2(out, secs % 60);
    if micros {
        let f = (rem % SECOND) as u32;
        out.push(b'.');
        push_2(out, f / 10_000);
        push_2(out, f / 100 % 100);
        push_2(out, f % 100);
    }
}

/// A datetime as nova writes it (Python's `str`), quoted.
fn push_dt(out: &mut Vec<u8>, us: i64) {
    out.push(b'"');
    push_datetime(out, us, us.rem_euclid(SECOND) != 0);
    out.push(b'"');
}

/// A datetime, or `""` as nova writes a missing one.
fn push_opt_dt(out: &mut Vec<u8>, us: Option<i64>) {
    match us {
        Some(t) => push_dt(out, t),
        None => out.extend_from_slice(b"\"\""),
    }
}

/// A JSON string with the escapes JSON requires.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub fn push_int(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A UUID, hyphenated, unquoted.
pub fn push_uuid(out: &mut Vec<u8>, u: u128) {
    let mut buf = [0u8; 36];
    out.extend_from_slice(uuid::Uuid::from_u128(u).hyphenated().encode_lower(&mut buf).as_bytes());
}

/// 32 hex digits, unquoted (auth tokens, `_unique_id`).
fn push_hex32(out: &mut Vec<u8>, u: u128) {
    let mut buf = [0u8; 32];
    out.extend_from_slice(uuid::Uuid::from_u128(u).simple().encode_lower(&mut buf).as_bytes());
}

fn push_ipv4(out: &mut Vec<u8>, a: [u8; 4]) {
    for (i, x) in a.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_int(out, *x);
    }
}

/// A public-looking address for a 32-bit value.
fn public_ipv4(v: u32) -> [u8; 4] {
    let b = v.to_be_bytes();
    [23 + b[0] % 150, b[1], b[2], 1 + b[3] % 254]
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    out.extend_from_slice(b", \"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_task(out: &mut Vec<u8>, t: Option<Task>) {
    push_opt_str(out, t.map(Task::as_str));
}

/// The addresses and names an instance is known by, all derived from its serial number.
struct Names {
    v4: [u8; 4],
    private_v4: [u8; 4],
    v6_tail: u32,
}

impl Names {
    fn of(inst: &Instance) -> Names {
        let h = mix(inst.number ^ 0x1b87_3593);
        Names {
            v4: public_ipv4(h as u32),
            private_v4: [10, 176 + ((h >> 32) % 16) as u8, (h >> 40) as u8, 1 + ((h >> 48) % 254) as u8],
            v6_tail: (h >> 16) as u32,
        }
    }

    fn push_v6(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"2001:4800:7812:514:be76:4eff:fe");
        let t = self.v6_tail;
        for (i, shift) in [20u32, 16, 12, 8, 4, 0].into_iter().enumerate() {
            if i == 2 {
                out.push(b':');
            }
            out.push(HEX[((t >> shift) & 15) as usize]);
        }
    }
}

const NAME_PREFIXES: [&str; 8] = ["web", "db", "app", "worker", "cache", "build", "api", "test"];

fn push_display_name(out: &mut Vec<u8>, number: u64) {
    out.push(b'"');
    out.extend_from_slice(NAME_PREFIXES[(mix(number) % 8) as usize].as_bytes());
    out.push(b'-');
    push_int(out, number);
    out.push(b'"');
}

/// The values of one notification besides its step.
pub struct Notification<'a> {
    pub step: &'a Step,
    pub inst: &'a Instance,
    pub request: RequestCtx,
    pub message_id: u128,
    pub unique_id: u128,
    /// `bandwidth` of an `.exists`: public in/out, private in/out.
    pub bandwidth: [u64; 4],
}

/// Renders notifications; holds the fragments that never change.
pub struct Formatter {
    flavors: Vec<Vec<u8>>,
    /// Per image, per combination of dropped `image_meta` keys.
    images: Vec<[Vec<u8>; 8]>,
    image_ids: Vec<u128>,
    sched_flavors: Vec<Vec<u8>>,
    sched_images: Vec<Vec<u8>>,
}

const GLANCE: &str = "10.69.32.11";
const USER_ROLES: &str = "[\"checkmate\", \"object-store:default\", \"compute:default\", \"identity:user-admin\"]";

impl Default for Formatter {
    fn default() -> Self {
        Formatter::new()
    }
}

impl Formatter {
    pub fn new() -> Formatter {
        let image_ids: Vec<u128> = IMAGES
            .iter()
            .map(|i| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, i.name.as_bytes()).as_u128())
            .collect();
        Formatter {
            flavors: FLAVORS.iter().map(flavor_fragment).collect(),
            images: IMAGES
                .iter()
                .zip(&image_ids)
                .map(|(img, &id)| std::array::from_fn(|drop| image_fragment(img, id, drop as u8)))
                .collect(),
            sched_flavors: FLAVORS.iter().map(sched_flavor_fragment).collect(),
            sched_images: IMAGES.iter().zip(&image_ids).map(|(img, &id)| sched_image_fragment(img, id)).collect(),
            image_ids,
        }
    }

    /// Append one notification and a newline.
    pub fn write(&self, out: &mut Vec<u8>, n: &Notification) {
        let s = n.step;
        let inst = n.inst;
        let r = &n.request;
        out.extend_from_slice(b"{\"_context_request_id\": \"req-");
        push_uuid(out, r.request_id);
        out.extend_from_slice(b"\", \"_context_quota_class\": null, \"event_type\": ");
        push_str(out, s.event_type);
        push_key(out, "_context_auth_token");
        match r.auth_token {
            Some(t) => {
                out.push(b'"');
                push_hex32(out, t);
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        push_key(out, "_context_user_id");
        push_quoted_int(out, inst.user);
        push_key(out, "payload");
        match s.kind {
            StepKind::Scheduler => self.scheduler_payload(out, n),
            _ => self.instance_payload(out, n),
        }
        out.extend_from_slice(b", \"priority\": \"INFO\", \"_context_is_admin\": ");
        out.extend_from_slice(if r.is_admin { b"true" } else { b"false" });
        push_key(out, "_context_user");
        push_quoted_int(out, inst.user);
        push_key(out, "publisher_id");
        out.push(b'"');
        if s.kind == StepKind::Scheduler {
            out.extend_from_slice(b"scheduler.sched-");
            push_int(out, 1 + s.publisher % 3);
        } else {
            out.extend_from_slice(b"compute.host-");
            push_int(out, s.publisher + 1);
        }
        out.push(b'"');
        push_key(out, "message_id");
        out.push(b'"');
        push_uuid(out, n.message_id);
        out.push(b'"');
        push_key(out, "_context_remote_address");
        if r.auth_token.is_some() {
            out.push(b'"');
            push_ipv4(out, public_ipv4(r.remote_address));
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null");
        }
        push_key(out, "_context_roles");
        out.extend_from_slice(if r.is_admin { b"[\"admin\"]" } else { USER_ROLES.as_bytes() });
        push_key(out, "timestamp");
        push_dt(out, s.at);
        push_key(out, "_context_timestamp");
        push_dt(out, r.timestamp);
        push_key(out, "_unique_id");
        out.push(b'"');
        push_hex32(out, n.unique_id);
        out.extend_from_slice(b"\", \"_context_glance_api_servers\": null, \"_context_project_name\": ");
        push_quoted_int(out, inst.tenant);
        out.extend_from_slice(b", \"_context_read_deleted\": \"no\", \"_context_tenant\": ");
        push_quoted_int(out, inst.tenant);
        out.extend_from_slice(b", \"_context_instance_lock_checked\": false, \"_context_project_id\": ");
        push_quoted_int(out, inst.tenant);
        push_key(out, "_context_user_name");
        push_quoted_int(out, inst.user);
        out.extend_from_slice(b"}\n");
    }

    fn instance_payload(&self, out: &mut Vec<u8>, n: &Notification) {
        let s = n.step;
        let inst = n.inst;
        let u = &s.usage;
        out.extend_from_slice(b"{\"state_description\": ");
        push_str(out, s.task.as_str());
        push_key(out, "state");
        push_str(out, s.state.as_str());
        if let StepKind::Update { old_state, old_task, new_task } = s.kind {
            push_key(out, "old_state");
            push_opt_str(out, old_state.map(VmState::as_str));
            push_key(out, "old_task_state");
            push_task(out, old_task);
            push_key(out, "new_task_state");
            push_task(out, new_task);
        }
        push_key(out, "launched_at");
        push_opt_dt(out, u.launched_at);
        push_key(out, "deleted_at");
        push_opt_dt(out, u.deleted_at);
        push_key(out, "terminated_at");
        push_opt_dt(out, s.terminated_at);
        match s.kind {
            StepKind::Update { .. } => {
                push_key(out, "audit_period_beginning");
                push_dt(out, s.at - s.at.rem_euclid(DAY));
                push_key(out, "audit_period_ending");
                push_dt(out, s.at);
                out.extend_from_slice(b", \"bandwidth\": {}");
            }
            StepKind::Exists { beginning, ending } => {
                push_key(out, "audit_period_beginning");
                push_dt(out, beginning);
                push_key(out, "audit_period_ending");
                push_dt(out, ending);
                let [a, b, c, d] = n.bandwidth;
                out.extend_from_slice(b", \"bandwidth\": {\"public\": {\"bw_in\": ");
                push_int(out, a);
                out.extend_from_slice(b", \"bw_out\": ");
                push_int(out, b);
                out.extend_from_slice(b"}, \"private\": {\"bw_in\": ");
                push_int(out, c);
                out.extend_from_slice(b", \"bw_out\": ");
                push_int(out, d);
                out.extend_from_slice(b"}}");
            }
            _ => {}
        }
        push_key(out, "host");
        out.extend_from_slice(b"\"host-");
        push_int(out, s.host + 1);
        out.extend_from_slice(b"\", \"node\": \"node-");
        push_int(out, s.host + 1);
        out.extend_from_slice(b"\", ");
        out.extend_from_slice(&self.flavors[u.flavor as usize]);
        out.extend_from_slice(b", ");
        out.extend_from_slice(&self.images[u.image as usize][(u.meta_drop & 7) as usize]);
        let names = Names::of(inst);
        let image_name = IMAGES[u.image as usize].name;
        match s.kind {
            StepKind::Lifecycle(Extra::CreateStart) => {
                out.extend_from_slice(b", \"message\": \"\", \"image_name\": ");
                push_str(out, image_name);
            }
            StepKind::Lifecycle(Extra::CreateEnd) => {
                out.extend_from_slice(b", \"message\": \"Success\", \"image_name\": ");
                push_str(out, image_name);
                push_fixed_ips(out, &names);
            }
            StepKind::Lifecycle(Extra::FixedIps) => push_fixed_ips(out, &names),
            StepKind::Lifecycle(Extra::Rebuild { end }) => {
                push_key(out, "image_name");
                push_str(out, image_name);
                if end {
                    push_fixed_ips(out, &names);
                }
            }
            StepKind::Lifecycle(Extra::PrepEnd { new_flavor }) => {
                let f = &FLAVORS[new_flavor as usize];
                push_key(out, "new_instance_type");
                push_str(out, f.name);
                push_key(out, "new_instance_type_id");
                push_int(out, f.id);
            }
            StepKind::Lifecycle(Extra::Rescue) => {
                out.extend_from_slice(b", \"rescue_image_name\": \"\"");
                push_fixed_ips(out, &names);
            }
            _ => {}
        }
        push_key(out, "access_ip_v4");
        if s.ips {
            out.push(b'"');
            push_ipv4(out, names.v4);
            out.extend_from_slice(b"\", \"access_ip_v6\": \"");
            names.push_v6(out);
            out.push(b'"');
        } else {
            out.extend_from_slice(b"null, \"access_ip_v6\": null");
        }
        push_key(out, "instance_id");
        out.push(b'"');
        push_uuid(out, inst.uuid);
        out.push(b'"');
        push_key(out, "tenant_id");
        push_quoted_int(out, u.tenant);
        push_key(out, "user_id");
        push_quoted_int(out, inst.user);
        push_key(out, "display_name");
        push_display_name(out, inst.number);
        push_key(out, "hostname");
        push_display_name(out, inst.number);
        push_key(out, "reservation_id");
        out.extend_from_slice(b"\"r-");
        let mut r = mix(inst.number ^ 0x7e5e);
        for _ in 0..8 {
            out.push(b"0123456789abcdefghijklmnopqrstuv"[(r & 31) as usize]);
            r >>= 5;
        }
        out.push(b'"');
        push_key(out, "created_at");
        push_dt(out, inst.created_at);
        out.extend_from_slice(
            b", \"availability_zone\": null, \"metadata\": {}, \"kernel_id\": \"\", \"ramdisk_id\": \"\"}",
        );
    }

    /// `scheduler.run_instance.*`: the request spec the scheduler worked on.
    fn scheduler_payload(&self, out: &mut Vec<u8>, n: &Notification) {
        let s = n.step;
        let inst = n.inst;
        let u = &s.usage;
        let f = &FLAVORS[u.flavor as usize];
        let img = &IMAGES[u.image as usize];
        out.push(b'{');
        if s.event_type == "scheduler.run_instance.scheduled" {
            out.extend_from_slice(b"\"instance_id\": \"");
            push_uuid(out, inst.uuid);
            out.extend_from_slice(b"\", \"weighted_host\": {\"host\": \"host-");
            push_int(out, s.publisher + 1);
            out.extend_from_slice(b"\", \"weight\": 100.0}, ");
        }
        out.extend_from_slice(b"\"request_spec\": {\"num_instances\": 1, \"image\": ");
        out.extend_from_slice(&self.sched_images[u.image as usize]);
        out.extend_from_slice(b", \"instance_type\": ");
        out.extend_from_slice(&self.sched_flavors[u.flavor as usize]);
        out.extend_from_slice(
            b", \"instance_properties\": {\"vm_state\": \"building\", \"task_state\": \"scheduling\"",
        );
        push_key(out, "uuid");
        out.push(b'"');
        push_uuid(out, inst.uuid);
        out.push(b'"');
        push_key(out, "project_id");
        push_quoted_int(out, u.tenant);
        push_key(out, "user_id");
        push_quoted_int(out, inst.user);
        push_key(out, "display_name");
        push_display_name(out, inst.number);
        push_key(out, "hostname");
        push_display_name(out, inst.number);
        push_key(out, "instance_type_id");
        push_int(out, f.id);
        push_key(out, "image_ref");
        out.push(b'"');
        push_uuid(out, self.image_ids[u.image as usize]);
        out.push(b'"');
        push_key(out, "memory_mb");
        push_int(out, f.memory_mb);
        push_key(out, "vcpus");
        push_int(out, f.vcpus);
        push_key(out, "root_gb");
        push_int(out, f.root_gb);
        push_key(out, "ephemeral_gb");
        push_int(out, f.ephemeral_gb);
        push_key(out, "os_type");
        push_str(out, img.os_type);
        push_key(out, "architecture");
        push_opt_str(out, img.architecture);
        push_key(out, "created_at");
        push_dt(out, inst.created_at);
        out.extend_from_slice(
            b", \"launched_at\": null, \"host\": null, \"node\": null, \"power_state\": 0, \"progress\": 0, \
              \"metadata\": {}, \"system_metadata\": {}}, \"security_group\": [\"default\"], \"instance_uuids\": [\"",
        );
        push_uuid(out, inst.uuid);
        out.extend_from_slice(b"\"]}}");
    }
}

fn push_quoted_int(out: &mut Vec<u8>, n: u32) {
    out.push(b'"');
    push_int(out, n);
    out.push(b'"');
}

fn push_fixed_ips(out: &mut Vec<u8>, names: &Names) {
    out.extend_from_slice(
        b", \"fixed_ips\": [{\"floating_ips\": [], \"label\": \"public\", \"version\": 4, \"meta\": {}, \"address\": \"",
    );
    push_ipv4(out, names.v4);
    out.extend_from_slice(
        b"\", \"type\": \"fixed\"}, {\"floating_ips\": [], \"label\": \"public\", \"version\": 6, \"meta\": {}, \"address\": \"",
    );
    names.push_v6(out);
    out.extend_from_slice(
        b"\", \"type\": \"fixed\"}, {\"floating_ips\": [], \"label\": \"private\", \"version\": 4, \"meta\": {}, \"address\": \"",
    );
    push_ipv4(out, names.private_v4);
    out.extend_from_slice(b"\", \"type\": \"fixed\"}]");
}

fn flavor_fragment(f: &Flavor) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\"instance_type_id\": ");
    push_int(&mut out, f.id);
    push_key(&mut out, "instance_type");
    push_str(&mut out, f.name);
    push_key(&mut out, "instance_flavor_id");
    push_str(&mut out, f.flavorid);
    push_key(&mut out, "memory_mb");
    push_int(&mut out, f.memory_mb);
    push_key(&mut out, "vcpus");
    push_int(&mut out, f.vcpus);
    push_key(&mut out, "root_gb");
    push_int(&mut out, f.root_gb);
    push_key(&mut out, "ephemeral_gb");
    push_int(&mut out, f.ephemeral_gb);
    push_key(&mut out, "disk_gb");
    push_int(&mut out, f.disk_gb());
    out
}

/// `image_ref_url`, `image_meta`, `architecture`, `os_type`; `drop` leaves
/// `org.openstack__1__*` keys out of `image_meta` ([`META_ARCH`] …).
fn image_fragment(img: &Image, id: u128, drop: u8) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"\"image_ref_url\": \"http://");
    out.extend_from_slice(GLANCE.as_bytes());
    out.extend_from_slice(b":9292/images/");
    push_uuid(&mut out, id);
    out.extend_from_slice(b"\", \"image_meta\": {\"container_format\": \"ovf\", \"min_ram\": \"");
    push_int(&mut out, img.min_ram);
    out.extend_from_slice(b"\", \"base_image_ref\": \"");
    push_uuid(&mut out, id);
    out.push(b'"');
    if let Some(d) = img.plain_distro {
        push_key(&mut out, "os_distro");
        push_str(&mut out, d);
    }
    if let Some(d) = img.os_distro.filter(|_| drop & META_DISTRO == 0) {
        push_key(&mut out, "org.openstack__1__os_distro");
        push_str(&mut out, d);
    }
    push_key(&mut out, "image_type");
    push_str(&mut out, img.image_type);
    out.extend_from_slice(b", \"disk_format\": \"vhd\"");
    if let Some(a) = img.architecture.filter(|_| drop & META_ARCH == 0) {
        push_key(&mut out, "org.openstack__1__architecture");
        push_str(&mut out, a);
    }
    push_key(&mut out, "auto_disk_config");
    push_str(&mut out, img.auto_disk_config);
    out.extend_from_slice(b", \"min_disk\": \"");
    push_int(&mut out, img.min_disk);
    out.extend_from_slice(b"\", \"cache_in_nova\": \"True\", \"os_type\": ");
    push_str(&mut out, img.os_type);
    if let Some(v) = img.os_version.filter(|_| drop & META_VERSION == 0) {
        push_key(&mut out, "org.openstack__1__os_version");
        push_str(&mut out, v);
    }
    out.extend_from_slice(b"}, \"architecture\": ");
    push_opt_str(&mut out, img.architecture);
    push_key(&mut out, "os_type");
    push_str(&mut out, img.os_type);
    out
}

fn sched_flavor_fragment(f: &Flavor) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"root_gb\": ");
    push_int(&mut out, f.root_gb);
    push_key(&mut out, "name");
    push_str(&mut out, f.name);
    push_key(&mut out, "ephemeral_gb");
    push_int(&mut out, f.ephemeral_gb);
    push_key(&mut out, "memory_mb");
    push_int(&mut out, f.memory_mb);
    push_key(&mut out, "vcpus");
    push_int(&mut out, f.vcpus);
    out.extend_from_slice(b", \"extra_specs\": {}, \"swap\": ");
    push_int(&mut out, f.swap);
    out.extend_from_slice(b", \"rxtx_factor\": ");
    out.extend_from_slice(f.rxtx_factor.as_bytes());
    push_key(&mut out, "flavorid");
    push_str(&mut out, f.flavorid);
    out.extend_from_slice(b", \"vcpu_weight\": 10, \"id\": ");
    push_int(&mut out, f.id);
    out.push(b'}');
    out
}

fn sched_image_fragment(img: &Image, id: u128) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"status\": \"active\", \"name\": ");
    push_str(&mut out, img.name);
    out.extend_from_slice(b", \"deleted\": false, \"container_format\": \"ovf\", \"disk_format\": \"vhd\", \"id\": \"");
    push_uuid(&mut out, id);
    out.extend_from_slice(b"\", \"min_ram\": ");
    push_int(&mut out, img.min_ram);
    out.extend_from_slice(b", \"min_disk\": ");
    push_int(&mut out, img.min_disk);
    out.extend_from_slice(b", \"is_public\": true, \"deleted_at\": null, \"properties\": {\"image_type\": ");
    push_str(&mut out, img.image_type);
    push_key(&mut out, "os_type");
    push_str(&mut out, img.os_type);
    if let Some(a) = img.architecture {
        push_key(&mut out, "org.openstack__1__architecture");
        push_str(&mut out, a);
    }
    if let Some(v) = img.os_version {
        push_key(&mut out, "org.openstack__1__os_version");
        push_str(&mut out, v);
    }
    if let Some(d) = img.os_distro {
        push_key(&mut out, "org.openstack__1__os_distro");
        push_str(&mut out, d);
    }
    out.extend_from_slice(b"}, \"size\": ");
    push_int(&mut out, img.min_disk as u64 * 31_457_280 + 654_421_623);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::model::Step;

    #[test]
    fn datetimes_print_as_python_does() {
        let mut out = Vec::new();
        // 2014-10-06 00:00:00 and 2014-10-06 13:04:05.000120
        let day = 16_349 * DAY;
        push_dt(&mut out, day);
        out.push(b' ');
        push_dt(&mut out, day + 13 * 3600 * SECOND + 4 * 60 * SECOND + 5 * SECOND + 120);
        assert_eq!(String::from_utf8(out).unwrap(), "\"2014-10-06 00:00:00\" \"2014-10-06 13:04:05.000120\"");
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        push_str(&mut out, "a\"b\\c\n\u{1}");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\n\u0001""#);
    }

    fn sample(kind: StepKind, event_type: &'static str, request: RequestCtx) -> serde_json::Value {
        use crate::generate::model::{Usage, AUDIT};
        let day = 16_349 * DAY;
        let inst = Instance {
            uuid: 0x1234_5678_9abc_4def_8123_4567_89ab_cdef,
            number: 42,
            tenant: 654_321,
            user: 123_456,
            created_at: day - 10 * DAY,
            launched_at: Some(day - 10 * DAY + 61 * SECOND),
            deleted_at: None,
            flavor: 10,
            image: 7,
            host: 11,
            state: VmState::Active,
            resized_from: None,
        };
        let step = Step {
            at: day + 3600 * SECOND + 250_000,
            event_type,
            kind,
            state: VmState::Active,
            task: Task::Rebooting,
            usage: Usage { meta_drop: META_DISTRO, ..inst.usage() },
            host: 11,
            publisher: 11,
            terminated_at: None,
            request: if request.auth_token.is_some() { 0 } else { AUDIT },
            ips: true,
        };
        let n =
            Notification { step: &step, inst: &inst, request, message_id: 7, unique_id: 9, bandwidth: [1, 2, 3, 4] };
        let mut out = Vec::new();
        Formatter::new().write(&mut out, &n);
        assert_eq!(out.pop(), Some(b'\n'));
        assert!(!out.contains(&b'\n'), "one line per notification");
        serde_json::from_slice(&out).expect("valid JSON")
    }

    fn user_request() -> RequestCtx {
        RequestCtx { request_id: 1, auth_token: Some(2), remote_address: 3, is_admin: false, timestamp: 16_349 * DAY }
    }

    #[test]
    fn a_notification_has_the_real_shape() {
        let kind =
            StepKind::Update { old_state: Some(VmState::Active), old_task: None, new_task: Some(Task::Rebooting) };
        let v = sample(kind, "compute.instance.update", user_request());
        assert_eq!(v["event_type"], "compute.instance.update");
        assert_eq!(v["publisher_id"], "compute.host-12");
        assert_eq!(v["priority"], "INFO");
        assert_eq!(v["timestamp"], "2014-10-06 01:00:00.250000");
        assert_eq!(v["_context_request_id"], "req-00000000-0000-0000-0000-000000000001");
        assert_eq!(v["_context_auth_token"], "00000000000000000000000000000002");
        assert_eq!(v["message_id"], "00000000-0000-0000-0000-000000000007");
        assert_eq!(v["_context_tenant"], "654321");
        let p = &v["payload"];
        assert_eq!(p["instance_id"], "12345678-9abc-4def-8123-456789abcdef");
        assert_eq!(p["tenant_id"], "654321");
        assert_eq!(p["user_id"], "123456");
        assert_eq!(p["host"], "host-12");
        assert_eq!(p["state"], "active");
        assert_eq!(p["state_description"], "rebooting");
        assert_eq!(p["old_task_state"], serde_json::Value::Null);
        assert_eq!(p["new_task_state"], "rebooting");
        assert_eq!(p["launched_at"], "2014-09-26 00:01:01");
        assert_eq!(p["deleted_at"], "");
        assert_eq!(p["audit_period_beginning"], "2014-10-06 00:00:00");
        assert_eq!(p["instance_type_id"], 12);
        assert_eq!(p["instance_flavor_id"], "performance1-8");
        assert_eq!(p["memory_mb"], 8192);
        assert_eq!(p["disk_gb"], 120);
        let meta = &p["image_meta"];
        assert_eq!(meta["org.openstack__1__architecture"], "x64");
        assert_eq!(meta["org.openstack__1__os_version"], "2008.2");
        assert!(meta.get("org.openstack__1__os_distro").is_none(), "dropped by meta_drop");
        assert_eq!(p["bandwidth"], serde_json::json!({}));
    }

    #[test]
    fn the_audit_exists_is_sent_by_an_admin_context() {
        let audit = RequestCtx { auth_token: None, is_admin: true, ..user_request() };
        let day = 16_349 * DAY;
        let v = sample(StepKind::Exists { beginning: day, ending: day + DAY }, "compute.instance.exists", audit);
        assert_eq!(v["_context_auth_token"], serde_json::Value::Null);
        assert_eq!(v["_context_remote_address"], serde_json::Value::Null);
        assert_eq!(v["_context_roles"], serde_json::json!(["admin"]));
        assert_eq!(v["payload"]["audit_period_ending"], "2014-10-07 00:00:00");
        assert_eq!(v["payload"]["bandwidth"]["private"]["bw_out"], 4);
    }

    #[test]
    fn scheduler_events_carry_the_request_spec() {
        let v = sample(StepKind::Scheduler, "scheduler.run_instance.scheduled", user_request());
        assert_eq!(v["publisher_id"], "scheduler.sched-3");
        let p = &v["payload"];
        assert_eq!(p["weighted_host"]["host"], "host-12");
        assert_eq!(p["request_spec"]["instance_type"]["id"], 12);
        assert_eq!(p["request_spec"]["instance_properties"]["uuid"], p["instance_id"]);
    }

    #[test]
    fn fragments_are_valid_json_objects() {
        for (i, img) in IMAGES.iter().enumerate() {
            for drop in 0..8u8 {
                let frag = image_fragment(img, i as u128, drop);
                let text = format!("{{{}}}", String::from_utf8(frag).unwrap());
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                let meta = &v["image_meta"];
                assert_eq!(meta.get("org.openstack__1__os_distro").is_some(), img.os_distro.is_some() && drop & 4 == 0);
            }
            let v: serde_json::Value =
                serde_json::from_slice(&sched_image_fragment(img, i as u128)).expect("scheduler image fragment");
            assert_eq!(v["name"], img.name);
        }
        for f in &FLAVORS {
            let text = format!("{{{}}}", String::from_utf8(flavor_fragment(f)).unwrap());
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["instance_type_id"], f.id);
            let v: serde_json::Value = serde_json::from_slice(&sched_flavor_fragment(f)).unwrap();
            assert_eq!(v["id"], f.id);
        }
    }
}
