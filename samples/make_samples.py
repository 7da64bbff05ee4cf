#!/usr/bin/env python3
"""Write the sample archives of samples/ and their expectation files.

    python3 samples/make_samples.py            # from the repository root

The committed files are the source of truth; this script is how they were
made, kept so that a sample can be changed or a new one added consistently.
It is deterministic: every UUID, token and microsecond comes from a seeded
generator, and gzip files carry no timestamp.

Every notification has the shape nova's legacy notifier gave it (the
envelope with `_context_*` keys, `publisher_id` `compute.<host>`, a payload
with `image_meta`, `bandwidth` on `.exists`, `""` for unset datetimes),
following StackTach notigen's templates (Apache-2.0).

Besides the archives it writes, under samples/expected/:
- `<sample>.events.jsonl`: the distilled events (SPEC §2, §7 `events`) worked
  out here, independently of the Rust distiller, from the records it wrote;
- `<sample>.emit.jsonl`: the output events (SPEC §5.2) that the verdicts
  documented in samples/README.md imply, with their version-5 message ids.
"""

import datetime as dt
import gzip
import io
import json
import os
import random
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected")

DAY = dt.datetime(2014, 10, 7)
APB = DAY
APE = DAY + dt.timedelta(days=1)

# Flavors of the era: instance_type_id -> (name, memory_mb, root_gb, vcpus).
FLAVORS = {
    2: ("512MB Standard Instance", 512, 20, 1),
    3: ("1GB Standard Instance", 1024, 40, 1),
    4: ("2GB Standard Instance", 2048, 80, 2),
    5: ("4GB Standard Instance", 4096, 160, 2),
    6: ("8GB Standard Instance", 8192, 320, 4),
    7: ("15GB Standard Instance", 15360, 620, 6),
    8: ("30GB Standard Instance", 30720, 1200, 8),
}

# Images: name -> (os_type, org.openstack__1__os_distro, org.openstack__1__os_version).
IMAGES = {
    "ubuntu-12.04": ("linux", "com.ubuntu", "12.04"),
    "ubuntu-14.04": ("linux", "com.ubuntu", "14.04"),
    "centos-6.5": ("linux", "org.centos", "6.5"),
    "debian-7": ("linux", "org.debian", "7"),
    "windows-2012r2": ("windows", "com.microsoft.server", "2012R2"),
}

GLANCE = "10.4.0.12:9292"


def at(text):
    """A UTC datetime from `YYYY-MM-DD HH:MM:SS[.ffffff]`."""
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return dt.datetime.strptime(text, fmt)


def pystr(t):
    """A datetime as nova wrote it in payloads and `timestamp`: Python's str()."""
    return "" if t is None else str(t)


def iso(t):
    """SPEC §7: `YYYY-MM-DDTHH:MM:SS.ffffffZ`."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Instance:
    def __init__(self, s, name, flavor, image, host, launched_at, tenant=None, user=None, created_at=None):
        self.id = s.uuid()
        self.name = name
        self.flavor = flavor
        self.image = image
        self.image_id = s.image_uuid(image)
        self.host = host
        self.tenant = tenant or str(s.rng.randint(400000, 999999))
        self.user = user or str(s.rng.randint(100000, 399999))
        self.launched_at = launched_at
        self.created_at = created_at or (launched_at - dt.timedelta(seconds=s.rng.randint(60, 400)))
        self.deleted_at = None
        self.terminated_at = None
        self.state = "active"
        self.reservation = "r-%08x" % s.rng.getrandbits(32)
        self.ipv4 = "198.51.100.%d" % s.rng.randint(2, 254)
        self.ipv6 = "2001:db8:%x:%x::%x" % (s.rng.getrandbits(16), s.rng.getrandbits(16), s.rng.getrandbits(16))
        # What image_meta holds; a sample may drop a key to show its effect.
        self.image_meta_drop = set()


class Sample:
    """One archive being written: records in file order, plus what they should distill to."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = random.Random(seed)
        self.lines = []  # (text, expected event or None)
        self.images = {}

    # ---- identifiers -------------------------------------------------------------------------
    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self):
        return "%032x" % self.rng.getrandbits(128)

    def image_uuid(self, image):
        # The same image keeps its id across every sample.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "glance/" + image))

    # ---- contexts ----------------------------------------------------------------------------
    def user_context(self, inst, when, request_id=None):
        """The request context of an operation a user asked for through the API."""
        return {
            "_context_request_id": request_id or "req-" + self.uuid(),
            "_context_quota_class": None,
            "_context_auth_token": self.hex(),
            "_context_user_id": inst.user,
            "_context_is_admin": False,
            "_context_user": inst.user,
            "_context_remote_address": "203.0.113.%d" % self.rng.randint(2, 254),
            "_context_roles": ["identity:user-admin", "object-store:default", "compute:default"],
            "_context_timestamp": when.isoformat(),
            "_context_project_name": inst.tenant,
            "_context_read_deleted": "no",
            "_context_tenant": inst.tenant,
            "_context_instance_lock_checked": False,
            "_context_project_id": inst.tenant,
            "_context_user_name": inst.user,
            "_context_glance_api_servers": [GLANCE],
        }

    def admin_context(self, when):
        """The context of nova-compute's periodic tasks (the end-of-day audit)."""
        return {
            "_context_request_id": "req-" + self.uuid(),
            "_context_quota_class": None,
            "_context_auth_token": None,
            "_context_user_id": None,
            "_context_is_admin": True,
            "_context_user": None,
            "_context_remote_address": None,
            "_context_roles": ["admin"],
            "_context_timestamp": when.isoformat(),
            "_context_project_name": None,
            "_context_read_deleted": "no",
            "_context_tenant": None,
            "_context_instance_lock_checked": False,
            "_context_project_id": None,
            "_context_user_name": None,
            "_context_glance_api_servers": None,
        }

    # ---- payloads ----------------------------------------------------------------------------
    def image_meta(self, inst):
        os_type, distro, version = IMAGES[inst.image]
        root = FLAVORS[inst.flavor][2]
        meta = {
            "container_format": "ovf",
            "min_ram": "512",
            "base_image_ref": inst.image_id,
            "org.openstack__1__os_distro": distro,
            "image_type": "base",
            "disk_format": "vhd",
            "org.openstack__1__architecture": "x64",
            "auto_disk_config": "True",
            "min_disk": str(root),
            "cache_in_nova": "True",
            "os_type": os_type,
            "org.openstack__1__os_version": version,
        }
        for k in inst.image_meta_drop:
            meta.pop(k, None)
        return meta

    def payload(self, inst, state_description=""):
        name, memory, root, vcpus = FLAVORS[inst.flavor]
        return {
            "state_description": state_description,
            "availability_zone": None,
            "terminated_at": pystr(inst.terminated_at),
            "ephemeral_gb": 0,
            "instance_type_id": inst.flavor,
            "deleted_at": pystr(inst.deleted_at),
            "reservation_id": inst.reservation,
            "instance_id": inst.id,
            "user_id": inst.user,
            "hostname": inst.name,
            "state": inst.state,
            "launched_at": pystr(inst.launched_at),
            "metadata": {},
            "node": inst.host + ".ord1.example.net",
            "ramdisk_id": "",
            "access_ip_v6": inst.ipv6,
            "disk_gb": root,
            "access_ip_v4": inst.ipv4,
            "kernel_id": "",
            "host": inst.host,
            "display_name": inst.name,
            "image_ref_url": "http://%s/images/%s" % (GLANCE, inst.image_id),
            "root_gb": root,
            "tenant_id": inst.tenant,
            "created_at": pystr(inst.created_at),
            "memory_mb": memory,
            "instance_type": name,
            "vcpus": vcpus,
            "image_meta": self.image_meta(inst),
            "architecture": "x64",
            "os_type": IMAGES[inst.image][0],
            "instance_flavor_id": str(inst.flavor),
        }

    def bandwidth(self):
        return {
            "public": {"bw_in": self.rng.randint(10**6, 10**10), "bw_out": self.rng.randint(10**6, 10**10)},
            "private": {"bw_in": self.rng.randint(10**5, 10**9), "bw_out": self.rng.randint(10**5, 10**9)},
        }

    # ---- notifications -----------------------------------------------------------------------
    def notification(self, event_type, when, inst, ctx, publisher=None, priority="INFO", **extra):
        payload = self.payload(inst, extra.pop("state_description", ""))
        payload.update(extra)
        return {
            "event_type": event_type,
            "timestamp": pystr(when),
            "message_id": self.uuid(),
            "publisher_id": publisher or "compute." + inst.host,
            "priority": priority,
            "payload": payload,
            **ctx,
            "_unique_id": self.hex(),
        }

    def update(self, when, inst, ctx, old_state=None, old_task=None, new_task=None, **extra):
        """compute.instance.update: carries the current audit period but is no .exists."""
        return self.notification(
            "compute.instance.update",
            when,
            inst,
            ctx,
            old_state=old_state,
            old_task_state=old_task,
            new_task_state=new_task,
            audit_period_beginning=pystr(when.replace(hour=0, minute=0, second=0, microsecond=0)),
            audit_period_ending=pystr(when),
            bandwidth={},
            **extra,
        )

    def exists(self, when, inst, begin=APB, end=APE, ctx=None, publisher=None):
        """compute.instance.exists: the end-of-day audit (by default) or a mid-day one."""
        return self.notification(
            "compute.instance.exists",
            when,
            inst,
            ctx or self.admin_context(when - dt.timedelta(seconds=self.rng.randint(20, 90))),
            publisher=publisher,
            audit_period_beginning=pystr(begin),
            audit_period_ending=pystr(end),
            bandwidth=self.bandwidth(),
        )

    def scheduler(self, event_type, when, inst, ctx):
        return {
            "event_type": event_type,
            "timestamp": pystr(when),
            "message_id": self.uuid(),
            "publisher_id": "scheduler.sched-01",
            "priority": "INFO",
            "payload": {
                "request_spec": {
                    "instance_type": {"name": FLAVORS[inst.flavor][0], "flavorid": str(inst.flavor)},
                    "image": {"id": inst.image_id},
                    "instance_uuids": [inst.id],
                    "num_instances": 1,
                },
                "weighted_host": {"host": inst.host, "weight": round(self.rng.uniform(1, 100), 4)},
            },
            **ctx,
            "_unique_id": self.hex(),
        }

    # ---- writing -----------------------------------------------------------------------------
    def add(self, record, good=True):
        """Append a record; `good` ones are expected to distill into an event."""
        text = json.dumps(record)
        self.lines.append((text, distill(record) if good else None))
        return record

    def raw(self, text):
        """Append a line as it is (a broken or foreign record)."""
        self.lines.append((text, None))

    def again(self, record):
        """Append a record delivered a second time (same message id)."""
        self.lines.append((json.dumps(record), None))

    def write_jsonl(self, path):
        with open(path, "w", encoding="utf-8") as f:
            for text, _ in self.lines:
                f.write(text + "\n")

    def events(self):
        return [e for _, e in self.lines if e is not None]


# ---- the independent distiller (SPEC §2), for the records written here ---------------------------

DT_TRAITS = ("launched_at", "deleted_at", "audit_period_beginning", "audit_period_ending")


def parse_dt(v):
    if isinstance(v, dict) and v.get("__type__") == "datetime":
        v = v["datetime"]
    if v is None or v == "":
        return None
    v = v.replace("T", " ")
    return at(v)


def distill(rec):
    """What SPEC §2 makes of one record written by this script (a dict)."""
    if isinstance(rec, list):  # STv2 pair
        rec = rec[1]
    if "oslo.message" in rec:
        rec = json.loads(rec["oslo.message"])
    if "payload" not in rec:  # a distilled event (SPEC §2.3)
        ev = {}
        for k, v in rec.items():
            if k in ("event_type", "message_id"):
                ev[k] = v
            elif k == "timestamp" or k in DT_TRAITS:
                t = parse_dt(v)
                if t is not None:
                    ev[k] = iso(t)
            elif v is not None:
                ev[k] = v
        return ev
    if not rec["event_type"].startswith("compute.instance."):
        return None
    p = rec["payload"]
    ev = {"event_type": rec["event_type"], "message_id": rec["message_id"]}
    ev["timestamp"] = iso(parse_dt(rec.get("timestamp") or rec["_context_timestamp"]))

    def text(name, v):
        if v is not None:
            ev[name] = v if isinstance(v, str) else str(v)

    def integer(name, v):
        if v is not None and v != "":
            ev[name] = int(v)

    def when(name, v):
        t = parse_dt(v)
        if t is not None:
            ev[name] = iso(t)

    text("tenant_id", p.get("tenant_id"))
    text("user_id", p.get("user_id"))
    text("instance_id", p.get("instance_id"))
    text("request_id", rec.get("_context_request_id"))
    service, _, host = rec["publisher_id"].partition(".")
    ev["service"] = service
    if host:
        ev["host"] = host
    for k in ("memory_mb", "disk_gb", "root_gb", "ephemeral_gb", "vcpus", "instance_type_id"):
        integer(k, p.get(k))
    text("instance_type", p.get("instance_type"))
    text("state", p.get("state"))
    meta = p.get("image_meta") or {}
    text("os_architecture", meta.get("org.openstack__1__architecture"))
    text("os_version", meta.get("org.openstack__1__os_version"))
    text("os_distro", meta.get("org.openstack__1__os_distro"))
    when("launched_at", p.get("launched_at"))
    when("deleted_at", p.get("deleted_at"))
    if rec["event_type"] == "compute.instance.exists":
        when("audit_period_beginning", p.get("audit_period_beginning"))
        when("audit_period_ending", p.get("audit_period_ending"))
    return ev


def replay_order(events):
    """Duplicates removed (first wins), stably sorted by timestamp (SPEC §4)."""
    seen, out = set(), []
    for e in events:
        if e["message_id"] not in seen:
            seen.add(e["message_id"])
            out.append(e)
    return sorted(out, key=lambda e: e["timestamp"])


def write_events(name, events):
    with open(os.path.join(EXPECTED, name + ".events.jsonl"), "w", encoding="utf-8") as f:
        for e in replay_order(events):
            f.write(json.dumps(e, sort_keys=True) + "\n")


def write_emit(name, outputs):
    """`outputs`: (stream_id, exists record, code or None, message) in the order the streams are decided."""
    with open(os.path.join(EXPECTED, name + ".emit.jsonl"), "w", encoding="utf-8") as f:
        for stream_id, ex, code, message in outputs:
            kind = "compute.instance.exists.failed" if code else "compute.instance.exists.verified"
            out = {
                "error": message if code else "None",
                "error_code": code,
                "event_type": kind,
                "instance_id": ex["payload"]["instance_id"],
                "message_id": str(uuid.uuid5(uuid.UUID(ex["message_id"]), kind)),
                "stream_id": stream_id,
                "timestamp": iso(parse_dt(ex["timestamp"])),
            }
            f.write(json.dumps(out, sort_keys=True) + "\n")


def secs(s, lo, hi):
    """A random sub-second offset, so that timestamps look like real ones."""
    return dt.timedelta(seconds=s.rng.uniform(lo, hi))


# ---- operations, as nova emitted them ------------------------------------------------------------


def create(s, inst, start, scheduler=True, ctx_at=None):
    """A successful boot: updates, scheduler.* (not distilled), create.start, and create.end right
    after `inst.launched_at`."""
    launched = inst.launched_at
    inst.launched_at = None
    inst.state = "building"
    inst.created_at = start - secs(s, 0.1, 0.3)
    ctx = s.user_context(inst, ctx_at or (start - secs(s, 0.2, 0.6)))
    t = start
    s.add(s.update(t, inst, ctx, old_state=None, old_task=None, new_task="scheduling", state_description="scheduling"))
    if scheduler:
        for kind in ("start", "scheduled", "end"):
            t += secs(s, 0.1, 0.4)
            s.add(s.scheduler("scheduler.run_instance." + kind, t, inst, ctx), good=False)
    t += secs(s, 0.4, 1.2)
    s.add(s.notification("compute.instance.create.start", t, inst, ctx, state_description="spawning"))
    inst.launched_at = launched
    inst.state = "active"
    t = launched + secs(s, 0.005, 0.012)
    s.add(s.update(t, inst, ctx, old_state="building", old_task="spawning", new_task=None))
    t += secs(s, 0.02, 0.06)
    return s.add(
        s.notification(
            "compute.instance.create.end",
            t,
            inst,
            ctx,
            fixed_ips=[{"floating_ips": [], "label": "public", "version": 4, "meta": {}, "address": inst.ipv4, "type": "fixed"}],
            message="Success",
        )
    )


def delete(s, inst, start, shutdown_seconds, deleted_at=None, emit_end=True, ctx=None):
    """A delete from the compute host: update, delete.start, shutdown.*, update, delete.end."""
    ctx = ctx or s.user_context(inst, start - secs(s, 0.2, 0.5))
    t = start
    s.add(s.update(t, inst, ctx, old_state=inst.state, old_task=None, new_task="deleting", state_description="deleting"))
    t += secs(s, 0.2, 0.5)
    s.add(s.notification("compute.instance.delete.start", t, inst, ctx, state_description="deleting"))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.shutdown.start", t, inst, ctx, state_description="deleting"))
    t = start + dt.timedelta(seconds=shutdown_seconds)
    s.add(s.notification("compute.instance.shutdown.end", t, inst, ctx, state_description="deleting"))
    if not emit_end:
        return None
    inst.state = "deleted"
    inst.deleted_at = deleted_at or t.replace(microsecond=0)
    inst.terminated_at = t
    t += secs(s, 0.2, 0.4)
    s.add(s.update(t, inst, ctx, old_state="active", old_task="deleting", new_task=None))
    t += secs(s, 0.02, 0.05)
    return s.add(s.notification("compute.instance.delete.end", t, inst, ctx))


def reboot(s, inst, start, seconds):
    ctx = s.user_context(inst, start - secs(s, 0.1, 0.4))
    t = start
    s.add(s.update(t, inst, ctx, old_state="active", old_task=None, new_task="reboot_started", state_description="reboot_started"))
    t += secs(s, 0.3, 0.6)
    s.add(s.notification("compute.instance.reboot.start", t, inst, ctx, state_description="reboot_started"))
    t = start + dt.timedelta(seconds=seconds)
    s.add(s.update(t, inst, ctx, old_state="active", old_task="reboot_started", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.reboot.end", t, inst, ctx))


def power_off(s, inst, start, seconds):
    ctx = s.user_context(inst, start - secs(s, 0.1, 0.4))
    t = start
    s.add(s.update(t, inst, ctx, old_state="active", old_task=None, new_task="powering-off", state_description="powering-off"))
    t += secs(s, 0.1, 0.3)
    s.add(s.notification("compute.instance.power_off.start", t, inst, ctx, state_description="powering-off"))
    inst.state = "stopped"
    t = start + dt.timedelta(seconds=seconds)
    s.add(s.update(t, inst, ctx, old_state="active", old_task="powering-off", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.power_off.end", t, inst, ctx))


def snapshot(s, inst, start, seconds):
    ctx = s.user_context(inst, start - secs(s, 0.1, 0.4))
    t = start
    s.add(s.update(t, inst, ctx, old_state="active", old_task=None, new_task="image_snapshot", state_description="image_snapshot"))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.snapshot.start", t, inst, ctx, state_description="image_snapshot"))
    t = start + dt.timedelta(seconds=seconds)
    s.add(s.update(t, inst, ctx, old_state="active", old_task="image_uploading", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.snapshot.end", t, inst, ctx))


def resize(s, inst, start, new_flavor, new_host, migrate_seconds, finish_seconds, confirm_after, day=APB):
    """A resize as nova ran it: a mid-day .exists (for `day`, the UTC day it starts on), then
    prep/resize on the source host, finish on the destination (which sets a new launched_at), and a
    confirm later. Returns the prep.start."""
    ctx = s.user_context(inst, start - secs(s, 0.3, 0.8))
    t = start
    s.add(s.update(t, inst, ctx, old_state="active", old_task=None, new_task="resize_prep", state_description="resize_prep"))
    t += secs(s, 0.5, 0.9)
    # nova audits the period so far before the flavor changes: this .exists ends now, not at midnight.
    s.add(s.exists(t, inst, begin=day, end=t, ctx=ctx))
    t += secs(s, 0.2, 0.4)
    prep = s.add(s.notification("compute.instance.resize.prep.start", t, inst, ctx, state_description="resize_prep"))
    t += secs(s, 0.3, 0.6)
    name, memory, root, vcpus = FLAVORS[new_flavor]
    s.add(
        s.notification(
            "compute.instance.resize.prep.end",
            t,
            inst,
            ctx,
            state_description="resize_prep",
            new_instance_type=name,
            new_instance_type_id=new_flavor,
        )
    )
    t += secs(s, 1.0, 1.5)
    s.add(s.notification("compute.instance.resize.start", t, inst, ctx, state_description="resize_migrating"))
    t = start + dt.timedelta(seconds=migrate_seconds)
    s.add(s.notification("compute.instance.resize.end", t, inst, ctx, state_description="resize_migrated"))
    inst.flavor = new_flavor
    inst.host = new_host
    t += secs(s, 0.4, 0.8)
    s.add(s.notification("compute.instance.finish_resize.start", t, inst, ctx, state_description="resize_finish"))
    t = start + dt.timedelta(seconds=finish_seconds)
    inst.launched_at = t - secs(s, 0.01, 0.05)
    inst.state = "resized"
    s.add(s.update(t, inst, ctx, old_state="active", old_task="resize_finish", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.finish_resize.end", t, inst, ctx))
    # The user confirms the new size later.
    t = start + dt.timedelta(seconds=confirm_after)
    ctx2 = s.user_context(inst, t - secs(s, 0.1, 0.3))
    s.add(s.notification("compute.instance.resize.confirm.start", t, inst, ctx2))
    inst.state = "active"
    t += secs(s, 2.5, 4.0)
    s.add(s.notification("compute.instance.resize.confirm.end", t, inst, ctx2))
    return prep


def rebuild(s, inst, start, new_image, seconds):
    """A rebuild onto another image: a mid-day .exists, rebuild.start (old image, old launched_at),
    rebuild.end (new image, new launched_at). Returns the rebuild.start."""
    ctx = s.user_context(inst, start - secs(s, 0.2, 0.6))
    t = start
    s.add(s.update(t, inst, ctx, old_state="active", old_task=None, new_task="rebuilding", state_description="rebuilding"))
    t += secs(s, 0.2, 0.5)
    s.add(s.exists(t, inst, begin=APB, end=t, ctx=ctx))
    t += secs(s, 0.03, 0.08)
    first = s.add(s.notification("compute.instance.rebuild.start", t, inst, ctx, state_description="rebuilding"))
    inst.image = new_image
    inst.image_id = s.image_uuid(new_image)
    t = start + dt.timedelta(seconds=seconds)
    inst.launched_at = t - secs(s, 0.01, 0.05)
    s.add(s.update(t, inst, ctx, old_state="active", old_task="rebuild_spawning", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(s.notification("compute.instance.rebuild.end", t, inst, ctx))
    return first


def failed_build(s, inst, start, fail_seconds):
    """A boot that never launched: create.start, then the instance goes to error; launched_at stays unset."""
    inst.launched_at = None
    inst.state = "building"
    ctx = s.user_context(inst, start - secs(s, 0.2, 0.6))
    t = start
    s.add(s.update(t, inst, ctx, new_task="scheduling", state_description="scheduling"))
    for kind in ("start", "scheduled", "end"):
        t += secs(s, 0.1, 0.4)
        s.add(s.scheduler("scheduler.run_instance." + kind, t, inst, ctx), good=False)
    t += secs(s, 0.4, 1.0)
    s.add(s.notification("compute.instance.create.start", t, inst, ctx, state_description="spawning"))
    inst.state = "error"
    t = start + dt.timedelta(seconds=fail_seconds)
    s.add(s.update(t, inst, ctx, old_state="building", old_task="spawning", new_task=None))
    t += secs(s, 0.02, 0.05)
    s.add(
        s.notification(
            "compute.instance.create.error",
            t,
            inst,
            ctx,
            priority="ERROR",
            message="Build of instance %s aborted: Failed to allocate the network(s), not rescheduling." % inst.id,
            code=500,
        )
    )


def eod(s, inst, when):
    """The end-of-day .exists for DAY, emitted by the instance's host after midnight."""
    return s.add(s.exists(when, inst))


# ---- the samples ---------------------------------------------------------------------------------


def u0():
    s = Sample("u0-expired-without-exists", 100)
    i = Instance(s, "reports-02", 4, "centos-6.5", "host-118", at("2014-08-21 16:03:44"))
    reboot(s, i, at("2014-10-07 03:15:07.412088"), 103.8)
    power_off(s, i, at("2014-10-07 22:40:19.508112"), 14.2)
    return s, []


def u1():
    s = Sample("u1-exists-without-launched-at", 101)
    i = Instance(s, "build-7f3a", 5, "ubuntu-14.04", "host-250", None, created_at=at("2014-10-07 11:20:30.981547"))
    failed_build(s, i, at("2014-10-07 11:20:31.118205"), 434.6)
    ex = eod(s, i, at("2014-10-08 00:11:02.617730"))
    return s, [(1, ex, "U1", ".exists has no launched_at value.")]


def u2():
    s = Sample("u2-resize-changes-flavor", 102)
    i = Instance(s, "stage-db-01", 6, "windows-2012r2", "host-204", at("2014-05-19 08:41:26"))
    resize(s, i, at("2014-10-07 14:02:09.361207"), 7, "host-311", 442.0, 457.9, 4253.0)
    ex = eod(s, i, at("2014-10-08 00:07:21.830544"))
    msg = "Conflicting 'launched_at' values ('%s' != '2014-05-19 08:41:26')" % pystr(i.launched_at)
    return s, [(1, ex, "U2", msg)]


def resize_across_midnight():
    s = Sample("resize-across-midnight", 112)
    i = Instance(s, "batch-11", 4, "ubuntu-14.04", "host-226", at("2014-06-17 13:27:50"))
    day_before = DAY - dt.timedelta(days=1)
    # Started four minutes before midnight, finished on the destination just after it.
    resize(s, i, at("2014-10-06 23:55:02.114073"), 5, "host-318", 236.4, 330.7, 3914.0, day=day_before)
    # The audit of the day before runs after the resize: nova reports the instance as it is now.
    before = s.add(s.exists(at("2014-10-07 00:12:26.509318"), i, begin=day_before, end=DAY))
    msg = "Conflicting 'launched_at' values ('%s' != '2014-06-17 13:27:50')" % pystr(i.launched_at)
    ex = eod(s, i, at("2014-10-08 00:09:51.830127"))
    return s, [(1, before, "U2", msg), (2, ex, None, "")]


def u3():
    s = Sample("u3-deleted-at-but-state-active", 103)
    i = Instance(s, "api-test-3", 3, "ubuntu-12.04", "host-157", at("2014-09-02 19:44:05"))
    # host-157 is down: the API deletes the instance itself ("local delete"). It sends delete.start and
    # delete.end under its own host name and never changes the instance's state.
    ctx = s.user_context(i, at("2014-10-07 16:40:12.517003"))
    s.add(s.notification("compute.instance.delete.start", at("2014-10-07 16:40:12.830611"), i, ctx, publisher="compute.api-02"))
    i.deleted_at = at("2014-10-07 16:40:13")
    i.terminated_at = at("2014-10-07 16:40:13.170254")
    s.add(s.notification("compute.instance.delete.end", at("2014-10-07 16:40:13.214482"), i, ctx, publisher="compute.api-02"))
    # host-157 comes back after midnight and audits the day, deleted instances included.
    ex = eod(s, i, at("2014-10-08 00:24:50.337915"))
    return s, [(1, ex, "U3", ".exists state not 'deleted' but deleted_at is set.")]


def u4():
    s = Sample("u4-deleted-before-launched", 104)
    # host-088's clock runs 250 s fast: its notifications and launched_at are late by that much, while
    # deleted_at comes from the database host's correct clock.
    i = Instance(s, "ci-scratch-19", 2, "ubuntu-14.04", "host-088", at("2014-10-07 23:59:20.318026"))
    create(s, i, at("2014-10-07 23:58:02.470391"), scheduler=False, ctx_at=at("2014-10-07 23:53:52.106630"))
    late = s.user_context(i, at("2014-10-07 23:55:40.114822"))
    delete(s, i, at("2014-10-07 23:59:50.618207"), 17.31, deleted_at=at("2014-10-07 23:55:58"), ctx=late)
    ex = eod(s, i, at("2014-10-08 00:31:44.061592"))
    return s, [(1, ex, "U4", ".exists deleted_at < launched_at.")]


def u5():
    s = Sample("u5-deleted-without-delete-event", 105)
    i = Instance(s, "cache-02", 5, "debian-7", "host-231", at("2014-07-30 10:12:55"))
    delete(s, i, at("2014-10-07 20:14:03.180466"), 16.72, emit_end=False)
    # The delete completed, but its delete.end never reached the archive.
    i.state = "deleted"
    i.deleted_at = at("2014-10-07 20:14:20")
    i.terminated_at = at("2014-10-07 20:14:19.904215")
    ex = eod(s, i, at("2014-10-08 00:16:37.421950"))
    return s, [(1, ex, "U5", ".exists deleted_at in audit period, but no matching .delete event found.")]


def u6():
    s = Sample("u6-delete-event-but-no-deleted-at", 106)
    i = Instance(s, "legacy-app-4", 4, "centos-6.5", "host-072", at("2014-02-11 09:30:17"))
    delete(s, i, at("2014-10-07 15:21:40.661873"), 17.71)
    # The end-of-day audit still sees the instance as alive.
    i.state = "active"
    i.deleted_at = None
    i.terminated_at = None
    ex = eod(s, i, at("2014-10-08 00:05:12.270418"))
    return s, [(1, ex, "U6", ".deleted events found but .exists has no deleted_at value.")]


def u7():
    s = Sample("u7-multiple-delete-ends", 107)
    i = Instance(s, "web-canary", 3, "ubuntu-14.04", "host-190", at("2014-09-14 22:05:51"))
    # The user pressed delete twice; both requests ran to the end.
    a = s.user_context(i, at("2014-10-07 09:44:19.802215"))
    b = s.user_context(i, at("2014-10-07 09:44:20.713940"))
    s.add(s.update(at("2014-10-07 09:44:20.114603"), i, a, old_state="active", new_task="deleting", state_description="deleting"))
    s.add(s.notification("compute.instance.delete.start", at("2014-10-07 09:44:20.451127"), i, a, state_description="deleting"))
    s.add(s.notification("compute.instance.shutdown.start", at("2014-10-07 09:44:20.489930"), i, a, state_description="deleting"))
    s.add(s.notification("compute.instance.delete.start", at("2014-10-07 09:44:21.020576"), i, b, state_description="deleting"))
    s.add(s.notification("compute.instance.shutdown.start", at("2014-10-07 09:44:21.053318"), i, b, state_description="deleting"))
    s.add(s.notification("compute.instance.shutdown.end", at("2014-10-07 09:44:37.801664"), i, a, state_description="deleting"))
    i.state = "deleted"
    i.deleted_at = at("2014-10-07 09:44:38")
    i.terminated_at = at("2014-10-07 09:44:37.962007")
    s.add(s.notification("compute.instance.delete.end", at("2014-10-07 09:44:38.130482"), i, a))
    s.add(s.notification("compute.instance.shutdown.end", at("2014-10-07 09:44:38.421759"), i, b))
    s.add(s.notification("compute.instance.delete.end", at("2014-10-07 09:44:38.610345"), i, b))
    ex = eod(s, i, at("2014-10-08 00:09:55.140672"))
    return s, [(1, ex, "U7", "Multiple .delete.end events")]


def u8():
    s = Sample("u8-launched-today-no-other-events", 108)
    # Booted at 21:03 while the notification capture was down: only the end-of-day .exists arrived.
    i = Instance(s, "analytics-5", 8, "ubuntu-14.04", "host-266", at("2014-10-07 21:03:18"))
    ex = eod(s, i, at("2014-10-08 00:13:29.604381"))
    return s, [(1, ex, "U8", ".exists launched_at in audit period, but no related events found.")]


def error_missing_os_distro():
    s = Sample("error-missing-os-distro", 109)
    i = Instance(s, "etl-worker-12", 5, "centos-6.5", "host-145", at("2014-10-07 10:43:06.225914"))
    # Booted from a customer snapshot whose own properties lack os_distro: create.end has none,
    # while the end-of-day .exists reports the base image's.
    i.image_meta_drop = {"org.openstack__1__os_distro"}
    create(s, i, at("2014-10-07 10:41:51.907530"), scheduler=False)
    i.image_meta_drop = set()
    eod(s, i, at("2014-10-08 00:19:40.713285"))
    return s, []


def verified_quiet_day():
    s = Sample("verified-quiet-day", 110)
    web = Instance(s, "web-01", 4, "ubuntu-14.04", "host-101", at("2014-03-02 17:48:09"))
    agent = Instance(s, "build-agent-2", 5, "centos-6.5", "host-117", at("2014-06-30 08:12:40"))
    jump = Instance(s, "jump-host", 2, "debian-7", "host-193", at("2014-01-15 11:02:37"))
    api = Instance(s, "api-03", 3, "ubuntu-14.04", "host-061", at("2014-10-07 09:13:37.512043"))
    reboot(s, agent, at("2014-10-07 06:31:14.220871"), 96.4)
    create(s, api, at("2014-10-07 09:12:18.803117"), scheduler=False)
    power_off(s, jump, at("2014-10-07 19:00:02.574118"), 11.9)
    # Streams follow the first events: agent (06:31) 1, api (09:12) 2, jump (19:00) 3, web (00:05) 4;
    # each fires when the clock passes its .exists, so they are decided in .exists order.
    outs = [
        (2, eod(s, api, at("2014-10-08 00:01:12.418830")), None, ""),
        (4, eod(s, web, at("2014-10-08 00:05:31.077241")), None, ""),
        (1, eod(s, agent, at("2014-10-08 00:07:40.215993")), None, ""),
        (3, eod(s, jump, at("2014-10-08 00:15:09.772406")), None, ""),
    ]
    return s, outs


def bad_records():
    s = Sample("bad-records", 111)
    queue = Instance(s, "queue-01", 4, "debian-7", "host-140", at("2014-06-03 12:00:41"))
    api = Instance(s, "api-07", 3, "ubuntu-14.04", "host-061", at("2014-10-07 11:03:57.861204"))

    ctx = s.user_context(queue, at("2014-10-07 08:15:02.011932"))
    s.add(s.update(at("2014-10-07 08:15:02.307415"), queue, ctx, old_state="active", new_task="reboot_started"))
    start = s.add(s.notification("compute.instance.reboot.start", at("2014-10-07 08:15:02.718046"), queue, ctx))
    # A line cut short when the capture's log file was rotated.
    cut = json.dumps(s.update(at("2014-10-07 08:15:40.118204"), queue, ctx, old_state="active"))
    s.raw(cut[:312])
    s.add(s.update(at("2014-10-07 08:16:40.104827"), queue, ctx, old_state="active", old_task="reboot_started"))
    s.add(s.notification("compute.instance.reboot.end", at("2014-10-07 08:16:40.176390"), queue, ctx))
    # The broker redelivered the reboot.start after a consumer restart.
    s.again(start)

    # A line of a nova log that ended up in the capture.
    s.raw("2014-10-07 10:00:03.418 31877 INFO nova.compute.manager [-] Updating bandwidth usage cache")
    # A producer that wrote the literal None for a datetime.
    bad = s.update(at("2014-10-07 10:30:00.512207"), queue, s.admin_context(at("2014-10-07 10:29:59.9")))
    bad["payload"]["launched_at"] = "None"
    s.add(bad, good=False)

    # api-07 is booted; its create.start came in an STv2 pair and its create.end in an oslo envelope.
    api.launched_at = None
    api.state = "building"
    actx = s.user_context(api, at("2014-10-07 11:02:13.802214"))
    s.add(s.update(at("2014-10-07 11:02:14.215093"), api, actx, new_task="scheduling", state_description="scheduling"))
    t = at("2014-10-07 11:02:14.501388")
    for kind in ("start", "scheduled", "end"):
        s.add(s.scheduler("scheduler.run_instance." + kind, t, api, actx), good=False)
        t += dt.timedelta(seconds=0.2174)
    s.add(["monitor.info", s.notification("compute.instance.create.start", at("2014-10-07 11:02:15.633470"), api, actx)])
    api.launched_at = at("2014-10-07 11:03:57.861204")
    api.state = "active"
    # A producer that put the flavor's public name where nova puts its numeric id.
    wrong = s.update(at("2014-10-07 11:03:57.950133"), api, actx, old_state="building", old_task="spawning")
    wrong["payload"]["instance_type_id"] = "performance1-4"
    s.add(wrong, good=False)
    inner = s.notification("compute.instance.create.end", at("2014-10-07 11:03:58.012546"), api, actx, message="Success")
    s.add({"oslo.version": "2.0", "oslo.message": json.dumps(inner)})
    # A notification that lost its message_id.
    lost = s.update(at("2014-10-07 11:04:30.441018"), api, actx, old_state="active")
    del lost["message_id"]
    s.add(lost, good=False)

    ex_q = eod(s, queue, at("2014-10-08 00:03:11.524806"))
    # A StackTach verifier published its verdict back on the same exchange: distilled, but not matched.
    ver = s.notification("compute.instance.exists.verified", at("2014-10-08 00:03:12.004416"), queue, s.admin_context(at("2014-10-08 00:03:11.9")))
    ver["payload"]["audit_period_beginning"] = pystr(APB)
    ver["payload"]["audit_period_ending"] = pystr(APE)
    s.add(ver)
    ex_a = eod(s, api, at("2014-10-08 00:04:27.801337"))
    s.again(ex_q)
    return s, [(1, ex_q, None, ""), (2, ex_a, None, "")]


def mixed_layouts():
    """Four files, four layouts, one archive: a directory."""
    s = Sample("mixed-layouts", 112)
    docs = Instance(s, "docs-site", 3, "debian-7", "host-175", at("2014-10-07 13:21:44.160392"))
    mq = Instance(s, "mq-03", 4, "centos-6.5", "host-122", at("2014-04-28 07:55:12"))
    idx = Instance(s, "search-idx-2", 6, "ubuntu-14.04", "host-209", at("2014-08-09 18:30:02"))
    base = os.path.join(HERE, "mixed-layouts")
    os.makedirs(base, exist_ok=True)
    files = {}

    # 1. A pretty-printed JSON array: the boot of docs-site.
    create(s, docs, at("2014-10-07 13:20:31.008154"), scheduler=False)
    files["array-pretty.json"] = [json.loads(t) for t, _ in s.lines]
    events_array = s.events()
    s.lines = []

    # 2. One pretty-printed object: docs-site's end-of-day .exists.
    ex_docs = eod(s, docs, at("2014-10-08 00:17:03.660291"))
    files["single-object.json"] = ex_docs
    events_single = s.events()
    s.lines = []

    # 3. Gzip JSON Lines: mq-03 stopped and started again, and its .exists.
    power_off(s, mq, at("2014-10-07 18:05:22.904117"), 9.8)
    ctx = s.user_context(mq, at("2014-10-07 18:30:40.100937"))
    s.add(s.notification("compute.instance.power_on.start", at("2014-10-07 18:30:40.310285"), mq, ctx))
    mq.state = "active"
    s.add(s.notification("compute.instance.power_on.end", at("2014-10-07 18:30:52.774008"), mq, ctx))
    ex_mq = eod(s, mq, at("2014-10-08 00:02:05.118420"))
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        for text, _ in s.lines:
            gz.write((text + "\n").encode())
    files["lines.jsonl.gz"] = buf.getvalue()
    events_gz = s.events()
    s.lines = []

    # 4. A quincy stream dump (GET /v1/streams/ID?details=true): search-idx-2's stream as Winchester
    # stored it, distilled events with typed datetimes.
    snapshot(s, idx, at("2014-10-07 04:12:10.551902"), 684.2)
    ex_idx = eod(s, idx, at("2014-10-08 00:10:47.392561"))

    def typed(v):
        # quincy wrote datetimes with isoformat(): no zone, no fraction when it is zero.
        return {"__type__": "datetime", "datetime": parse_dt(v[:-1]).isoformat()}

    dump_events = []
    for _, e in s.lines:
        d = dict(e)
        for k in ("timestamp",) + DT_TRAITS:
            if k in d:
                d[k] = typed(d[k])
        dump_events.append(d)
    events_dump = s.events()
    first, last = events_dump[0]["timestamp"], events_dump[-1]["timestamp"]

    def day(t):
        return {"__type__": "datetime", "datetime": t}

    stream = {
        "id": 48118,
        "name": "usage",
        "state": "completed",
        "first_event": day(first[:-1]),
        "last_event": day(last[:-1]),
        "expire_timestamp": day((parse_dt(last[:-1]) + dt.timedelta(days=2)).isoformat()),
        "fire_timestamp": day(last[:-1]),
        "distinguishing_traits": {
            "instance_id": idx.id,
            "timestamp": {"__type__": "timex.TimeRange", "begin": APB.isoformat(), "end": APE.isoformat()},
        },
        "events": dump_events,
    }
    files["quincy-stream.json"] = [stream]

    for name, content in files.items():
        path = os.path.join(base, name)
        if isinstance(content, bytes):
            with open(path, "wb") as f:
                f.write(content)
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(content, indent=4) + "\n")
    # Directory order: array-pretty.json, lines.jsonl.gz, quincy-stream.json, single-object.json.
    write_events("mixed-layouts", events_array + events_gz + events_dump + events_single)
    # Streams: search-idx-2 (04:12) 1, docs-site (13:20) 2, mq-03 (18:05) 3. Decided in .exists order.
    write_emit(
        "mixed-layouts",
        [(3, ex_mq, None, ""), (1, ex_idx, None, ""), (2, ex_docs, None, "")],
    )


def day():
    s = Sample("day", 113)
    mail = Instance(s, "mail-relay", 3, "debian-7", "host-118", at("2014-05-06 14:27:50"))
    agent = Instance(s, "build-agent-2", 5, "centos-6.5", "host-117", at("2014-06-30 08:12:40"))
    api = Instance(s, "api-09", 3, "ubuntu-14.04", "host-061", at("2014-10-07 09:13:37.512043"))
    tmp = Instance(s, "tmp-load-test", 2, "ubuntu-14.04", "host-150", at("2014-10-07 10:06:49.337208"))
    failed = Instance(s, "build-f7", 4, "ubuntu-14.04", "host-250", None, created_at=at("2014-10-07 11:20:30.981547"))
    batch = Instance(s, "old-batch-7", 4, "centos-6.5", "host-072", at("2014-04-22 06:18:03"))
    worker = Instance(s, "worker-31", 5, "debian-7", "host-088", at("2014-10-07 13:41:55.019284"))
    db = Instance(s, "stage-db-01", 6, "windows-2012r2", "host-204", at("2014-05-19 08:41:26"))
    ci = Instance(s, "ci-runner-4", 4, "ubuntu-12.04", "host-226", at("2014-08-12 16:55:31"))
    jump = Instance(s, "jump-host", 2, "debian-7", "host-193", at("2014-01-15 11:02:37"))
    cache = Instance(s, "cache-02", 5, "debian-7", "host-231", at("2014-07-30 10:12:55"))
    web1 = Instance(s, "web-01", 4, "ubuntu-14.04", "host-101", at("2014-03-02 17:48:09"))
    web2 = Instance(s, "web-02", 4, "ubuntu-14.04", "host-102", at("2014-03-02 17:52:33"))
    sql = Instance(s, "sql-01", 7, "windows-2012r2", "host-140", at("2013-12-09 15:20:11"))

    snapshot(s, mail, at("2014-10-07 03:00:04.118732"), 731.6)
    reboot(s, agent, at("2014-10-07 06:31:14.220871"), 96.4)
    create(s, api, at("2014-10-07 09:12:18.803117"))
    create(s, tmp, at("2014-10-07 10:05:40.664091"))
    failed_build(s, failed, at("2014-10-07 11:20:31.118205"), 434.6)
    delete(s, batch, at("2014-10-07 11:30:12.902551"), 21.4)
    create(s, worker, at("2014-10-07 13:40:37.210476"))
    resize(s, db, at("2014-10-07 14:02:09.361207"), 7, "host-311", 442.0, 457.9, 4253.0)
    rebuild(s, ci, at("2014-10-07 16:20:44.705318"), "ubuntu-14.04", 312.5)
    delete(s, tmp, at("2014-10-07 17:45:29.440165"), 9.6)
    power_off(s, jump, at("2014-10-07 19:00:02.574118"), 11.9)
    delete(s, cache, at("2014-10-07 20:14:03.180466"), 16.72, emit_end=False)
    cache.state = "deleted"
    cache.deleted_at = at("2014-10-07 20:14:20")
    cache.terminated_at = at("2014-10-07 20:14:19.904215")

    # Sort the day's notifications by time, as the capture received them.
    s.lines.sort(key=lambda line: json.loads(line[0])["timestamp"])

    exists = [
        (3, api, "2014-10-08 00:01:12.418830"),
        (6, batch, "2014-10-08 00:02:47.901126"),
        (7, worker, "2014-10-08 00:04:05.332714"),
        (12, web1, "2014-10-08 00:05:31.077241"),
        (13, web2, "2014-10-08 00:05:58.640593"),
        (2, agent, "2014-10-08 00:07:40.215993"),
        (1, mail, "2014-10-08 00:09:02.876150"),
        (14, sql, "2014-10-08 00:11:26.530217"),
        (4, tmp, "2014-10-08 00:12:44.119808"),
        (10, jump, "2014-10-08 00:15:09.772406"),
        (8, db, "2014-10-08 00:21:33.064829"),
        (9, ci, "2014-10-08 00:24:18.395502"),
        (11, cache, "2014-10-08 00:27:50.688271"),
        (5, failed, "2014-10-08 00:33:07.251940"),
    ]
    verdicts = {
        8: ("U2", "Conflicting 'launched_at' values ('%s' != '2014-05-19 08:41:26')"),
        9: ("U2", "Conflicting 'launched_at' values ('%s' != '2014-08-12 16:55:31')"),
        11: ("U5", ".exists deleted_at in audit period, but no matching .delete event found."),
        5: ("U1", ".exists has no launched_at value."),
    }
    outs = []
    for sid, inst, when in exists:
        ex = eod(s, inst, at(when))
        code, msg = verdicts.get(sid, (None, ""))
        if "%s" in msg:
            msg = msg % pystr(inst.launched_at)
        outs.append((sid, ex, code, msg))
    return s, outs


def main():
    os.makedirs(EXPECTED, exist_ok=True)
    for make in (
        u0, u1, u2, u3, u4, u5, u6, u7, u8,
        error_missing_os_distro, verified_quiet_day, resize_across_midnight, bad_records, day,
    ):
        s, outs = make()
        s.write_jsonl(os.path.join(HERE, s.name + ".jsonl"))
        if s.name in ("day", "bad-records", "u2-resize-changes-flavor"):
            write_events(s.name, s.events())
        if s.name in ("day", "bad-records", "verified-quiet-day", "u4-deleted-before-launched", "resize-across-midnight"):
            write_emit(s.name, outs)
    mixed_layouts()


if __name__ == "__main__":
    main()
