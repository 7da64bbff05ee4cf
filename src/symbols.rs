//! The archive-wide string table.
//!
//! Strings that repeat across an archive (event types, trait names, tenants,
//! instance ids, hosts …) are stored once and referred to by a small [`Sym`].
//! The table is split into shards by hash so that the parse threads can intern
//! concurrently while loading ([`SharedSymbols`]); once loaded it is a plain
//! immutable [`Symbols`]. The strings the engine names itself live in a fixed
//! shard at fixed positions, so their symbols are the constants in [`sym`].

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

/// An interned string. The top bits name the shard, the rest the position in it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Sym(pub u32);

const SHARD_BITS: u32 = 6;
const INDEX_BITS: u32 = 32 - SHARD_BITS;
/// Shard 0 holds the well-known strings; the others are chosen by hash.
const SHARDS: usize = 1 << SHARD_BITS;

impl Sym {
    fn new(shard: usize, index: usize) -> Sym {
        Sym(((shard as u32) << INDEX_BITS) | index as u32)
    }
    fn shard(self) -> usize {
        (self.0 >> INDEX_BITS) as usize
    }
    fn index(self) -> usize {
        (self.0 & ((1 << INDEX_BITS) - 1)) as usize
    }
}

/// Trait names, event types and values the engine refers to by name, at fixed
/// positions of shard 0 (their symbols are the constants in [`sym`]).
const WELL_KNOWN: &[&str] = &[
    // trait names (docs/distillation.md#traits-2014), in the order of the trait table
    "tenant_id",
    "user_id",
    "instance_id",
    "request_id",
    "service",
    "host",
    "memory_mb",
    "disk_gb",
    "root_gb",
    "ephemeral_gb",
    "vcpus",
    "instance_type_id",
    "instance_type",
    "state",
    "os_architecture",
    "os_version",
    "os_distro",
    "launched_at",
    "deleted_at",
    "audit_period_beginning",
    "audit_period_ending",
    // event types the trigger and the checks name
    "compute.instance.exists",
    "compute.instance.exists.verified",
    "compute.instance.exists.failed",
    "compute.instance.exists.warnings",
    "compute.instance.delete.end",
    "compute.instance.finish_resize.end",
    // values
    "active",
    "deleted",
    "",
    // trait names only the 2015 trait table has (docs/distillation.md#traits-2015)
    "message",
    "instance_flavor",
    "instance_flavor_id",
    "state_description",
    "display_name",
    "bandwidth_in",
    "bandwidth_out",
    "rax_options",
    // operation types the 2015 checks compare
    "compute.instance.rebuild.end",
    "compute.instance.rescue.end",
];

/// Number of trait names in the trait table (the first symbols of [`WELL_KNOWN`]).
pub const TABLE_TRAITS: usize = 21;

/// Symbols of the well-known strings.
pub mod sym {
    use super::Sym;
    pub const TENANT_ID: Sym = Sym(0);
    pub const USER_ID: Sym = Sym(1);
    pub const INSTANCE_ID: Sym = Sym(2);
    pub const REQUEST_ID: Sym = Sym(3);
    pub const SERVICE: Sym = Sym(4);
    pub const HOST: Sym = Sym(5);
    pub const MEMORY_MB: Sym = Sym(6);
    pub const DISK_GB: Sym = Sym(7);
    pub const ROOT_GB: Sym = Sym(8);
    pub const EPHEMERAL_GB: Sym = Sym(9);
    pub const VCPUS: Sym = Sym(10);
    pub const INSTANCE_TYPE_ID: Sym = Sym(11);
    pub const INSTANCE_TYPE: Sym = Sym(12);
    pub const STATE: Sym = Sym(13);
    pub const OS_ARCHITECTURE: Sym = Sym(14);
    pub const OS_VERSION: Sym = Sym(15);
    pub const OS_DISTRO: Sym = Sym(16);
    pub const LAUNCHED_AT: Sym = Sym(17);
    pub const DELETED_AT: Sym = Sym(18);
    pub const AUDIT_PERIOD_BEGINNING: Sym = Sym(19);
    pub const AUDIT_PERIOD_ENDING: Sym = Sym(20);
    pub const EXISTS: Sym = Sym(21);
    pub const EXISTS_VERIFIED: Sym = Sym(22);
    pub const EXISTS_FAILED: Sym = Sym(23);
    pub const EXISTS_WARNINGS: Sym = Sym(24);
    pub const DELETE_END: Sym = Sym(25);
    pub const FINISH_RESIZE_END: Sym = Sym(26);
    pub const ACTIVE: Sym = Sym(27);
    pub const DELETED: Sym = Sym(28);
    pub const EMPTY: Sym = Sym(29);
    pub const MESSAGE: Sym = Sym(30);
    pub const INSTANCE_FLAVOR: Sym = Sym(31);
    pub const INSTANCE_FLAVOR_ID: Sym = Sym(32);
    pub const STATE_DESCRIPTION: Sym = Sym(33);
    pub const DISPLAY_NAME: Sym = Sym(34);
    pub const BANDWIDTH_IN: Sym = Sym(35);
    pub const BANDWIDTH_OUT: Sym = Sym(36);
    pub const RAX_OPTIONS: Sym = Sym(37);
    pub const REBUILD_END: Sym = Sym(38);
    pub const RESCUE_END: Sym = Sym(39);
}

/// Bit n set when a well-known string has n bytes: most strings can skip shard 0.
const WELL_KNOWN_LENGTHS: u64 = {
    let mut m = 0u64;
    let mut i = 0;
    while i < WELL_KNOWN.len() {
        m |= 1 << WELL_KNOWN[i].len();
        i += 1;
    }
    m
};

fn maybe_well_known(s: &str) -> bool {
    s.len() < 64 && WELL_KNOWN_LENGTHS & (1 << s.len()) != 0
}

fn hash(s: &str) -> u64 {
    // A fixed seed: the same string hashes the same in every shard and thread.
    let mut h = crate::hash::FixedState::with_seed(0x5eed_u64).build_hasher();
    h.write(s.as_bytes());
    h.finish()
}

/// One shard: the strings back to back in an arena, and an index by hash.
#[derive(Clone, Default)]
struct Shard {
    arena: String,
    spans: Vec<(u32, u32)>,
    table: HashTable<u32>,
}

impl Shard {
    fn str(&self, i: usize) -> &str {
        let (start, len) = self.spans[i];
        &self.arena[start as usize..(start + len) as usize]
    }

    fn find(&self, s: &str, h: u64) -> Option<usize> {
        self.table.find(h, |&i| self.str(i as usize) == s).map(|&i| i as usize)
    }

    fn intern(&mut self, s: &str, h: u64) -> usize {
        if let Some(i) = self.find(s, h) {
            return i;
        }
        let i = self.spans.len();
        assert!(i < (1 << INDEX_BITS) && self.arena.len() + s.len() <= u32::MAX as usize, "string table full");
        self.spans.push((self.arena.len() as u32, s.len() as u32));
        self.arena.push_str(s);
        let Shard { arena, spans, table } = self;
        table.insert_unique(h, i as u32, |&j| {
            let (start, len) = spans[j as usize];
            hash(&arena[start as usize..(start + len) as usize])
        });
        i
    }

    fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.spans.capacity() * 8 + self.table.capacity() * 5
    }
}

fn shard_of(h: u64) -> usize {
    // Shards 1..SHARDS by the top bits of the hash.
    1 + (h >> 40) as usize % (SHARDS - 1)
}

/// The string table, read-only after loading. A clone shares the strings (the
/// two rule sets of one load share one table) until one of them interns more.
#[derive(Clone)]
pub struct Symbols {
    shards: std::sync::Arc<Vec<Shard>>,
}

impl Default for Symbols {
    fn default() -> Self {
        Self::new()
    }
}

impl Symbols {
    pub fn new() -> Self {
        let mut shards: Vec<Shard> = vec![Shard::default(); SHARDS];
        for s in WELL_KNOWN {
            shards[0].intern(s, hash(s));
        }
        Symbols { shards: std::sync::Arc::new(shards) }
    }

    pub fn intern(&mut self, s: &str) -> Sym {
        let h = hash(s);
        if maybe_well_known(s) {
            if let Some(i) = self.shards[0].find(s, h) {
                return Sym::new(0, i);
            }
        }
        let shard = shard_of(h);
        Sym::new(shard, std::sync::Arc::make_mut(&mut self.shards)[shard].intern(s, h))
    }

    /// The symbol of `s` if it has been interned.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        let h = hash(s);
        if maybe_well_known(s) {
            if let Some(i) = self.shards[0].find(s, h) {
                return Some(Sym::new(0, i));
            }
        }
        let shard = shard_of(h);
        self.shards[shard].find(s, h).map(|i| Sym::new(shard, i))
    }

    pub fn get(&self, s: Sym) -> &str {
        match self.shards.get(s.shard()) {
            Some(sh) if s.index() < sh.spans.len() => sh.str(s.index()),
            _ => "",
        }
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.spans.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Approximate heap bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        self.shards.iter().map(Shard::heap_bytes).sum()
    }

    /// A table the parse threads can intern into concurrently.
    pub fn into_shared(self) -> SharedSymbols {
        let shards = std::sync::Arc::try_unwrap(self.shards).unwrap_or_else(|shared| (*shared).clone());
        static TABLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = TABLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        SharedSymbols { shards: shards.into_iter().map(Mutex::new).collect(), id }
    }
}

/// The string table while loading: each shard behind its own lock, so threads
/// interning different strings rarely wait for each other. Each thread also
/// remembers the strings it interned last ([`Recent`]), and finds a string that
/// repeats (a state, a flavor, a tenant) without taking a lock.
pub struct SharedSymbols {
    shards: Box<[Mutex<Shard>]>,
    /// Tells this table's entries in a thread's [`Recent`] from another table's.
    id: u64,
}

impl Default for SharedSymbols {
    fn default() -> Self {
        Symbols::new().into_shared()
    }
}

/// The longest string a thread remembers: a slot is one cache line.
const RECENT_LEN: usize = 51;
const RECENT_SLOTS: usize = 1 << 10;

/// A thread's last strings interned, one per slot chosen by hash, with their symbols.
/// A symbol never changes once given, so a remembered one stays right for as long as its
/// table lives; the table's id keeps a later table from finding it.
struct Recent {
    slots: Box<[RecentSlot]>,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct RecentSlot {
    table: u64,
    sym: Sym,
    len: u8,
    text: [u8; RECENT_LEN],
}

impl Recent {
    fn slot(h: u64) -> usize {
        (h as usize) & (RECENT_SLOTS - 1)
    }

    fn get(&self, table: u64, h: u64, s: &str) -> Option<Sym> {
        let e = &self.slots[Self::slot(h)];
        (e.table == table && usize::from(e.len) == s.len() && &e.text[..s.len()] == s.as_bytes()).then_some(e.sym)
    }

    fn put(&mut self, table: u64, h: u64, s: &str, sym: Sym) {
        let e = &mut self.slots[Self::slot(h)];
        e.table = table;
        e.sym = sym;
        e.len = s.len() as u8;
        e.text[..s.len()].copy_from_slice(s.as_bytes());
    }
}

thread_local! {
    static RECENT: std::cell::RefCell<Recent> = std::cell::RefCell::new(Recent {
        // Table ids start at 1: an empty slot belongs to no table.
        slots: vec![RecentSlot { table: 0, sym: Sym(0), len: 0, text: [0; RECENT_LEN] }; RECENT_SLOTS].into(),
    });
}

impl SharedSymbols {
    pub fn intern(&self, s: &str) -> Sym {
        let h = hash(s);
        let short = s.len() <= RECENT_LEN;
        if short {
            if let Some(sym) = RECENT.with(|r| r.borrow().get(self.id, h, s)) {
                return sym;
            }
        }
        let sym = self.intern_shared(s, h);
        if short {
            RECENT.with(|r| r.borrow_mut().put(self.id, h, s, sym));
        }
        sym
    }

    fn intern_shared(&self, s: &str, h: u64) -> Sym {
        // Shard 0 is never written after creation.
        if maybe_well_known(s) {
            if let Some(i) = lock(&self.shards[0]).find(s, h) {
                return Sym::new(0, i);
            }
        }
        let shard = shard_of(h);
        Sym::new(shard, lock(&self.shards[shard]).intern(s, h))
    }

    pub fn into_symbols(self) -> Symbols {
        Symbols {
            shards: std::sync::Arc::new(
                self.shards
                    .into_vec()
                    .into_iter()
                    .map(|m| m.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()))
                    .collect(),
            ),
        }
    }
}

fn lock(m: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_symbols_match_their_constants() {
        let s = Symbols::new();
        assert_eq!(s.get(sym::TENANT_ID), "tenant_id");
        assert_eq!(s.get(sym::AUDIT_PERIOD_ENDING), "audit_period_ending");
        assert_eq!(s.get(sym::EXISTS), "compute.instance.exists");
        assert_eq!(s.get(sym::DELETE_END), "compute.instance.delete.end");
        assert_eq!(s.get(sym::FINISH_RESIZE_END), "compute.instance.finish_resize.end");
        assert_eq!(s.get(sym::DELETED), "deleted");
        assert_eq!(s.get(sym::EMPTY), "");
        assert_eq!(s.get(sym::MESSAGE), "message");
        assert_eq!(s.get(sym::RAX_OPTIONS), "rax_options");
        assert_eq!(s.get(sym::RESCUE_END), "compute.instance.rescue.end");
        assert_eq!(s.len(), WELL_KNOWN.len());
        assert_eq!(WELL_KNOWN[TABLE_TRAITS - 1], "audit_period_ending");
    }

    #[test]
    fn interning_is_idempotent_and_shared_tables_agree() {
        let mut s = Symbols::new();
        let a = s.intern("host-1");
        assert_eq!(s.intern("host-1"), a);
        assert_eq!(s.intern("deleted"), sym::DELETED);
        assert_eq!(s.lookup("host-1"), Some(a));
        assert_eq!(s.lookup("nope"), None);
        let shared = s.into_shared();
        let syms: Vec<Sym> = (0..5000).map(|i| shared.intern(&format!("v{i}"))).collect();
        assert_eq!(shared.intern("host-1"), a);
        assert_eq!(shared.intern("active"), sym::ACTIVE);
        let s = shared.into_symbols();
        for (i, x) in syms.iter().enumerate() {
            assert_eq!(s.get(*x), format!("v{i}"));
        }
        assert_eq!(s.len(), WELL_KNOWN.len() + 5001);
    }

    #[test]
    fn a_string_remembered_for_one_table_is_not_found_in_another() {
        let first = SharedSymbols::default();
        let a = first.intern("tenant-7");
        assert_eq!(first.intern("tenant-7"), a);
        // A second table gives its own symbols: other strings first, so that "tenant-7" is
        // not the first of its shard there, as it was in the first table.
        let second = SharedSymbols::default();
        for i in 0..1000 {
            second.intern(&format!("other-{i}"));
        }
        let b = second.intern("tenant-7");
        assert_ne!(a, b);
        assert_eq!(second.into_symbols().get(b), "tenant-7");
        assert_eq!(first.into_symbols().get(a), "tenant-7");
        // Strings longer than a slot, and ones that share a slot, still intern right.
        let t = SharedSymbols::default();
        let long = "x".repeat(200);
        let syms: Vec<Sym> = (0..5000).map(|i| t.intern(&format!("{long}{i}"))).collect();
        let again: Vec<Sym> = (0..5000).map(|i| t.intern(&format!("{long}{i}"))).collect();
        let short: Vec<Sym> = (0..5000).map(|i| t.intern(&format!("s{i}"))).collect();
        let short_again: Vec<Sym> = (0..5000).map(|i| t.intern(&format!("s{i}"))).collect();
        assert_eq!(syms, again);
        assert_eq!(short, short_again);
        let s = t.into_symbols();
        assert!(short.iter().enumerate().all(|(i, x)| s.get(*x) == format!("s{i}")));
    }

    #[test]
    fn concurrent_interning_gives_one_symbol_per_string() {
        let shared = SharedSymbols::default();
        let results: Vec<Vec<Sym>> = std::thread::scope(|sc| {
            let hs: Vec<_> =
                (0..4).map(|_| sc.spawn(|| (0..2000).map(|i| shared.intern(&format!("s{i}"))).collect())).collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }
}
