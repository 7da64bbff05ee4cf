//! The engine's hash maps and sets: hashbrown's tables with foldhash's fast
//! hash under a fixed seed, so that iteration order, and anything derived
//! from it, is the same on every run. One hash function for the whole crate
//! (the string table in [`symbols`](crate::symbols) uses it too).

pub use foldhash::fast::FixedState;

pub type HashMap<K, V> = hashbrown::HashMap<K, V, FixedState>;
pub type HashSet<K> = hashbrown::HashSet<K, FixedState>;
