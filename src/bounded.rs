//! A memory budget for the audit (`audit --memory SIZE`, docs/scale.md#bounded-memory):
//! what SIZE means, how many parts of a split by instance keep a run under it,
//! and what this process holds right now.

use crate::replay::Keeping;
use crate::rules::{RuleSet, Rules};
use std::path::Path;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// The most parts an archive is split into: beyond this, every part still
/// reads the whole archive for a share of it too small to matter.
pub const MAX_PARTS: u32 = 4096;

/// docs/scale.md#how-many-parts: what the program holds whatever the archive
/// (its code, the threads, the read buffers), measured on 2 cores.
pub const FIXED: u64 = 64 * MIB;

/// docs/scale.md#how-many-parts: peak memory of a plain audit per byte of
/// uncompressed archive, above [`FIXED`], in thousandths (measured on the
/// benchmark archives: 0.05 to 0.08 for 2014, 0.14 to 0.16 for 2015, 0.08 to 0.10
/// side by side keeping verdicts only, 0.21 to 0.23 keeping every result for `--explain`).
fn per_thousand_bytes(rules: Rules, keeping: Keeping) -> u64 {
    match (rules, keeping) {
        (Rules::One(RuleSet::Y2014), _) => 100,
        (Rules::One(RuleSet::Y2015), _) => 190,
        (Rules::Both, Keeping::Verdicts) => 120,
        (Rules::Both, _) => 280,
    }
}

/// docs/scale.md#how-many-parts: how much larger than its compressed size a
/// gzip archive is taken to be (JSON notifications compress 8 to 12 times).
pub const GZIP_RATIO: u64 = 10;

/// Parse a memory size: plain bytes, or a number with K, M, G or T (powers of
/// 1024; `KB`, `KiB`, … mean the same), e.g. `128M`, `1.5G`, `2g`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let value: f64 = match number.parse() {
        Ok(v) if number.chars().next().is_some_and(|c| c.is_ascii_digit()) => v,
        _ => return Err(format!("{s:?} is not a size (a number of bytes, or with K, M, G or T, e.g. 512M)")),
    };
    let scale = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => KIB,
        "M" | "MB" | "MIB" => MIB,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (a number of bytes, or with K, M, G or T, e.g. 512M)")),
    };
    let bytes = value * scale as f64;
    if !(bytes.is_finite() && bytes < u64::MAX as f64) {
        return Err(format!("{s:?} is too large"));
    }
    match bytes as u64 {
        0 => Err(format!("{s:?}: a memory budget must be more than 0 bytes")),
        n => Ok(n),
    }
}

/// The default budget: a quarter of the machine's memory (`MemTotal` of
/// /proc/meminfo), or none where the platform does not tell.
pub fn default_budget() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    memtotal(&meminfo).map(|total| total / 4)
}

fn memtotal(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * KIB)
}

/// The resident memory of this process now, in bytes (`VmRSS` of
/// /proc/self/status), where the platform tells.
pub fn resident() -> Option<u64> {
    status_field("VmRSS:")
}

/// The peak resident memory of this process so far, in bytes (`VmHWM`).
pub fn peak_resident() -> Option<u64> {
    status_field("VmHWM:")
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix(name))?;
    let kib: u64 = line.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * KIB)
}

/// How a run is split to keep under a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub budget: u64,
    /// Parts of the split (1: a plain run).
    pub parts: u32,
    /// Whether the budget can hold what the program needs whatever the split
    /// ([`FIXED`]); when it cannot, the split is made as if it could, and
    /// the run is not stopped for going over.
    pub reachable: bool,
}

impl Plan {
    /// docs/scale.md#how-many-parts: the parts a budget needs for `bytes` of
    /// uncompressed archive under `rules`, keeping that much of each pipeline
    /// run, aiming at three quarters of the budget so that an estimate a
    /// little short still fits.
    pub fn estimate(budget: u64, bytes: u64, rules: Rules, keeping: Keeping) -> Plan {
        let aim = budget / 4 * 3;
        let reachable = aim > FIXED + budget / 8;
        let room = if reachable { aim - FIXED } else { aim.max(1) };
        let need = (u128::from(bytes) * u128::from(per_thousand_bytes(rules, keeping))).div_ceil(1000);
        let parts = need.div_ceil(u128::from(room)).clamp(1, u128::from(MAX_PARTS)) as u32;
        Plan { budget, parts, reachable }
    }

    /// docs/scale.md#how-many-parts: while a part loads, whether it already
    /// holds so much that its replay and report would go over the budget (a
    /// load holds less than half of what the whole run of a part will).
    pub fn over(&self, resident: u64) -> bool {
        self.reachable && resident > FIXED + (self.budget - FIXED) / 2
    }

    /// The next try after a part went over: twice the parts.
    pub fn doubled(self) -> Option<Plan> {
        (self.parts < MAX_PARTS).then(|| Plan { parts: (self.parts * 2).min(MAX_PARTS), ..self })
    }
}

/// The uncompressed size of an input as far as it can be told without reading
/// it: a regular file's length, ten times that for gzip ([`GZIP_RATIO`]).
pub fn content_size(path: &Path, gzip: bool) -> u64 {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if gzip {
        len.saturating_mul(GZIP_RATIO)
    } else {
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("128M"), Ok(128 * MIB));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("512MiB"), Ok(512 * MIB));
        assert_eq!(parse_size("64 KB"), Ok(64 * KIB));
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        assert!(parse_size("0").unwrap_err().contains("more than 0"));
        assert!(parse_size("12Q").unwrap_err().contains("unknown unit \"Q\""));
        assert!(parse_size("").unwrap_err().contains("not a size"));
        assert!(parse_size("M").unwrap_err().contains("not a size"));
        assert!(parse_size("-1G").unwrap_err().contains("not a size"));
        assert!(parse_size("1.2.3M").unwrap_err().contains("not a size"));
        assert!(parse_size("99999999999T").unwrap_err().contains("too large"));
    }

    #[test]
    fn meminfo() {
        assert_eq!(memtotal("MemTotal:       24684000 kB\nMemFree: 1 kB\n"), Some(24684000 * KIB));
        assert_eq!(memtotal("nothing"), None);
    }

    #[test]
    fn parts_grow_with_the_archive_and_shrink_with_the_budget() {
        let both = Rules::Both;
        let y2014 = Rules::One(RuleSet::Y2014);
        let verdicts = Keeping::Verdicts;
        // A small archive in a roomy budget: one part, today's run.
        assert_eq!(Plan::estimate(1 << 30, 10 * MIB, y2014, verdicts).parts, 1);
        // The benchmark archive (1 GB): 2014 needs 0.10 GB above the fixed 64 MiB, side by side
        // 0.12 GB keeping verdicts only and 0.28 GB keeping every result (`--explain`); a part
        // has three quarters of the budget less the fixed part (128 MiB of 256, 86 of 200).
        let gb = 1_017_000_000;
        assert_eq!(Plan::estimate(256 * MIB, gb, y2014, verdicts).parts, 1);
        assert_eq!(Plan::estimate(200 * MIB, gb, y2014, verdicts).parts, 2);
        assert_eq!(Plan::estimate(256 * MIB, gb, both, verdicts).parts, 1);
        assert_eq!(Plan::estimate(200 * MIB, gb, both, verdicts).parts, 2);
        assert_eq!(Plan::estimate(256 * MIB, gb, both, Keeping::Details).parts, 3);
        assert!(Plan::estimate(256 * MIB, gb, both, verdicts).reachable);
        // A budget below what the program needs anyway still splits, by the archive alone.
        let tiny = Plan::estimate(16 * KIB, 200 * KIB, y2014, verdicts);
        assert!(!tiny.reachable);
        assert_eq!(tiny.parts, 2);
        assert!(!tiny.over(u64::MAX), "an unreachable budget never stops a part");
        assert_eq!(Plan::estimate(1, u64::MAX, both, verdicts).parts, MAX_PARTS);
        let p = Plan::estimate(256 * MIB, gb, both, Keeping::Details);
        assert!(p.over(200 * MIB) && !p.over(150 * MIB));
        assert_eq!(p.doubled().map(|p| p.parts), Some(6));
        assert_eq!(Plan { parts: MAX_PARTS, ..p }.doubled(), None);
    }
}
