//! One part of an audit split by instance (`audit --shard K/N`, docs/scale.md#the-split).

use std::fmt;

/// One part of a split: the events whose instance hashes to `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// `K/N` with 0 ≤ K < N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("{s:?} is not K/N (e.g. 0/4)"))?;
        let index: u32 = k.trim().parse().map_err(|_| format!("{k:?} is not a part number"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a number of parts"))?;
        if count == 0 || index >= count {
            return Err(format!("part {index} of {count} does not exist: K counts from 0 to N-1"));
        }
        Ok(Shard { index, count })
    }

    /// docs/scale.md#the-split: the part of an instance id; events without one belong to part 0.
    pub fn part_of(count: u32, instance_id: Option<&str>) -> u32 {
        match instance_id {
            None => 0,
            Some(id) => (fnv1a64(id.as_bytes()) % u64::from(count)) as u32,
        }
    }

    pub fn keeps(self, instance_id: Option<&str>) -> bool {
        Shard::part_of(self.count, instance_id) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// 64-bit FNV-1a: fixed forever, so that parts made by different versions agree.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parse() {
        assert_eq!(Shard::parse("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("does not exist"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("x").unwrap_err().contains("K/N"));
    }

    #[test]
    fn fnv_is_the_published_function() {
        // Test vectors of the FNV reference implementation.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn no_instance_is_part_zero() {
        assert_eq!(Shard::part_of(7, None), 0);
        assert!((0..7).contains(&Shard::part_of(7, Some("x"))));
    }
}
