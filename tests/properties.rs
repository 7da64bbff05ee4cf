//! Invariants of the replay (SPEC §3–§4), checked on random archives.

use proptest::prelude::*;
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Replay, Timeline};
use usage_replay::time::Timestamp;

const BASE: i64 = 1_412_553_600; // 2014-10-06T00:00:00Z

#[derive(Debug, Clone)]
struct Spec {
    kind: u8,
    instance: u8,
    /// Seconds after BASE; kept distinct by the strategy.
    at: i64,
    day_offset: i64,
    flavor: u8,
}

fn iso(secs: i64) -> String {
    Timestamp((BASE + secs) * 1_000_000).iso()
}

fn line(i: usize, s: &Spec) -> String {
    const TYPES: [&str; 7] = [
        "compute.instance.update",
        "compute.instance.create.end",
        "compute.instance.resize.prep.start",
        "compute.instance.delete.end",
        "compute.instance.exists",
        "compute.instance.exists",
        "compute.instance.exists.verified",
    ];
    let ty = TYPES[s.kind as usize % TYPES.len()];
    let mut v = serde_json::json!({
        "event_type": ty, "message_id": format!("m{i}"), "timestamp": iso(s.at),
        "tenant_id": "t", "state": if ty.contains("delete") { "deleted" } else { "active" },
        "instance_type_id": s.flavor % 3, "launched_at": iso(-86_400 * 30),
    });
    let o = v.as_object_mut().unwrap();
    if s.instance < 5 {
        o.insert("instance_id".into(), format!("i{}", s.instance).into());
    }
    if ty == "compute.instance.exists" {
        // An audit period starting at some midnight around the event, one day long (or not).
        let day = (s.at.div_euclid(86_400) - s.day_offset.rem_euclid(2)) * 86_400;
        let len = if s.kind == 5 { 86_400 } else { 43_200 + 43_200 * (s.flavor as i64 % 2) };
        o.insert("audit_period_beginning".into(), iso(day).into());
        o.insert("audit_period_ending".into(), iso(day + len).into());
    }
    if ty.contains("delete") {
        o.insert("deleted_at".into(), iso(s.at).into());
    }
    v.to_string()
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec((0u8..7, 0u8..6, 0i64..(86_400 * 6), 0i64..3, 0u8..6), 1..60).prop_map(|v| {
        let mut seen = std::collections::HashSet::new();
        v.into_iter()
            .filter(|(_, _, at, _, _)| seen.insert(*at))
            .map(|(kind, instance, at, day_offset, flavor)| Spec { kind, instance, at, day_offset, flavor })
            .collect()
    })
}

fn archive(lines: &[String]) -> Archive {
    let a = Archive::from_bytes("p.jsonl", lines.join("\n").as_bytes());
    assert!(a.rejected.is_empty(), "{:?}", a.rejected);
    a
}

/// Everything about the streams that must not depend on line order.
fn fingerprint(a: &Archive, r: &Replay) -> Vec<String> {
    r.streams()
        .iter()
        .map(|s| {
            let ids: Vec<String> =
                s.events.iter().map(|&i| a.events[i as usize].message_id(&a.symbols).into_owned()).collect();
            let inst = s.instance_id.py_str(&a.symbols);
            format!("{} {inst} {} {} {:?} {:?} {:?}", s.id, s.day, s.state.as_str(), s.outcome(), s.code(), ids)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_matched_event_lands_in_exactly_one_stream(specs in specs()) {
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let a = archive(&lines);
        let r = Replay::run(&a, true, IdMode::Stable);
        let mut seen = vec![0u32; a.events.len()];
        for s in r.streams() {
            for &i in &s.events {
                seen[i as usize] += 1;
            }
        }
        for &(i, _) in r.unmatched() {
            prop_assert_eq!(seen[i as usize], 0, "an unmatched event is in a stream");
            seen[i as usize] = 1;
        }
        prop_assert!(seen.iter().all(|&n| n == 1), "{:?}", seen);
        prop_assert!(r.streams().iter().all(|s| s.result.is_some()), "drain decides every stream");
    }

    #[test]
    fn the_result_does_not_depend_on_the_order_of_lines(specs in specs(), seed in any::<u64>()) {
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let mut shuffled = lines.clone();
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let (a, b) = (archive(&lines), archive(&shuffled));
        let (ra, rb) = (Replay::run(&a, true, IdMode::Stable), Replay::run(&b, true, IdMode::Stable));
        prop_assert_eq!(fingerprint(&a, &ra), fingerprint(&b, &rb));
    }

    #[test]
    fn the_state_after_seeking_to_t_equals_a_fresh_replay_to_t(specs in specs(), picks in prop::collection::vec(any::<prop::sample::Index>(), 1..8)) {
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let a = archive(&lines);
        let tl = Timeline::build(&a, IdMode::Stable);
        // Probe just before, at and after event times and expiry boundaries.
        let mut probes: Vec<Timestamp> = Vec::new();
        for e in &a.events {
            probes.extend([e.timestamp.plus_micros(-1), e.timestamp, e.timestamp.plus_micros(1)]);
            let exp = e.timestamp.plus_days(2);
            probes.extend([exp, exp.plus_micros(1)]);
        }
        for p in picks {
            let at = probes[p.index(probes.len())];
            let mut fresh = Replay::new(&a, IdMode::Stable);
            fresh.seek_forward(at);
            prop_assert_eq!(tl.streams_at(at), fresh.streams().len());
            prop_assert_eq!(tl.position_at(at), fresh.position());
            prop_assert_eq!(tl.unmatched_at(at), fresh.unmatched().len());
            let mut counts = [0usize; 4];
            for s in fresh.streams() {
                counts[s.outcome() as usize] += 1;
                let v = tl.stream_at(&tl.streams()[s.id as usize - 1], at).unwrap();
                prop_assert_eq!((v.state, v.outcome, v.events), (s.state, s.outcome(), s.events.len()), "stream {} at {:?}", s.id, at);
                if let (Some(x), Some(y)) = (&s.result, &tl.streams()[s.id as usize - 1].result) {
                    prop_assert_eq!(&x.message, &y.message);
                    prop_assert_eq!(x.code, y.code);
                }
            }
            prop_assert_eq!(tl.counts_at(at), counts);
        }
    }
}
