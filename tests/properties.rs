//! Invariants of the replay (docs/streams.md#matching and docs/streams.md#replay), checked on random archives.

use proptest::prelude::*;
use usage_replay::archive::Archive;
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Keeping, Replay, Stream, Timeline};
use usage_replay::time::Timestamp;

#[path = "support/as_read.rs"]
mod support;
use support::as_read;

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
                    prop_assert_eq!(&x.message(), &y.message());
                    prop_assert_eq!(x.code, y.code);
                }
            }
            prop_assert_eq!(tl.counts_at(at), counts);
        }
    }
}

/// The message ids loaded, in archive order, and the number of rejected records.
fn loaded(name: &str, text: &str) -> (Vec<String>, usize) {
    let a = Archive::from_bytes(name, text.as_bytes());
    (a.events.iter().map(|e| e.message_id(&a.symbols).into_owned()).collect(), a.rejected.len())
}

const BROKEN: [&str; 4] =
    [r#"{"event_type": "compute.instance.update", "message_id": "#, r#"{"a": tru}"#, "[1,", "not json at all"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// docs/inputs.md#layouts: JSON Lines, a one-line array, a pretty-printed array and an
    /// array with a record per line hold the same records; broken records are
    /// rejected one by one and never hide the others or change the layout.
    #[test]
    fn the_records_load_the_same_in_every_layout(
        specs in specs(),
        broken in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4), 0..30),
        spoiled in any::<prop::sample::Index>(),
    ) {
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let ids: Vec<String> = {
            let (ids, rejected) = loaded("p.jsonl", &lines.join("\n"));
            prop_assert_eq!(rejected, 0);
            ids
        };
        // JSON Lines with fewer broken lines than good ones, anywhere, the first included.
        let broken = &broken[..broken.len().min(lines.len().saturating_sub(1))];
        let mut with_broken = lines.clone();
        for (at, which) in broken {
            with_broken.insert(at.index(with_broken.len() + 1), BROKEN[*which].to_string());
        }
        prop_assert_eq!(loaded("p.jsonl", &with_broken.join("\n")), (ids.clone(), broken.len()));
        // A compact array on one line, a record per line, pretty-printed.
        let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        prop_assert_eq!(loaded("p.json", &format!("[{}]", lines.join(","))), (ids.clone(), 0));
        prop_assert_eq!(loaded("p.json", &format!("[{}\n]\n", lines.join(",\n"))), (ids.clone(), 0));
        let pretty = serde_json::to_string_pretty(&values).unwrap();
        prop_assert_eq!(loaded("p.json", &pretty), (ids.clone(), 0));
        // Records pretty-printed one after another, as `jq .` writes them.
        let jq: Vec<String> = values.iter().map(|v| serde_json::to_string_pretty(v).unwrap()).collect();
        prop_assert_eq!(loaded("p.json", &jq.join("\n")), (ids.clone(), 0));
        // A pretty array where one record is broken and holds nested objects of its own.
        let k = spoiled.index(values.len());
        let mut parts: Vec<String> = values
            .iter()
            .map(|v| serde_json::to_string_pretty(v).unwrap().replace('\n', "\n  "))
            .map(|p| format!("  {p}"))
            .collect();
        parts[k] = "  {\n    \"a\": tru,\n    \"ips\": [\n      {\"x\": 1},\n      {\"y\": 2}\n    ]\n  }".to_string();
        let mut kept = ids.clone();
        kept.retain(|id| *id != format!("m{k}"));
        prop_assert_eq!(loaded("p.json", &format!("[\n{}\n]\n", parts.join(",\n"))), (kept, 1));
    }
}

/// A raw notification of the spec's event (so that the two trait tables differ).
fn raw_line(i: usize, s: &Spec) -> String {
    const TYPES: [&str; 8] = [
        "compute.instance.update",
        "compute.instance.finish_resize.end",
        "compute.instance.resize.prep.start",
        "compute.instance.delete.end",
        "compute.instance.exists",
        "compute.instance.exists",
        "snapshot_instance",
        "compute.instance.rebuild.end",
    ];
    let ty = TYPES[s.kind as usize % TYPES.len()];
    let distilled: serde_json::Value = serde_json::from_str(&line(i, s)).unwrap();
    let mut payload = distilled.as_object().unwrap().clone();
    for k in ["event_type", "message_id", "timestamp"] {
        payload.remove(k);
    }
    if s.flavor.is_multiple_of(2) {
        // The 2015 table prefers instance_uuid; 2014 does not read it.
        payload.insert("instance_uuid".into(), format!("u{}", s.instance % 3).into());
    }
    if ty.contains("delete") && s.flavor.is_multiple_of(3) {
        payload.insert("deleted_at".into(), "".into());
        payload.insert("terminated_at".into(), iso(s.at).into());
    }
    if s.flavor % 5 == 1 {
        // Rejected under 2015 alone: its flavor id must be an integer.
        payload.insert("image_meta".into(), serde_json::json!({"instance_type_flavor_id": "large"}));
    }
    if s.flavor % 7 == 3 {
        // Rejected under both, for a value neither audit reads.
        payload.insert("memory_mb".into(), "lots".into());
    }
    // Every third record repeats an earlier record's message id: a duplicate under each rule set
    // that distilled both, and under one only when the other rejected or did not distil one of them.
    let id = if s.kind.is_multiple_of(3) { i / 2 } else { i };
    serde_json::json!({"event_type": ty, "message_id": format!("m{id}"), "timestamp": iso(s.at),
        "publisher_id": "compute.host-1", "payload": payload})
    .to_string()
}

/// A fingerprint that also holds the 2015 results, warnings and output events.
fn full_fingerprint(a: &Archive, r: &Replay) -> Vec<String> {
    let mut f = fingerprint(a, r);
    for s in r.streams() {
        let res = s.result.as_ref().unwrap();
        f.push(format!("{} {:?}", res.message(), res.audit2015()));
        f.extend(res.output().iter().map(|o| o.to_json(&a.symbols)));
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// docs/rules2015.md#side-by-side: replaying both rule sets from one parse
    /// gives each exactly what it gives alone, and the triage label follows
    /// from the two outcomes.
    #[test]
    fn both_gives_each_rule_set_what_it_gives_alone(specs in specs()) {
        use usage_replay::archive::{Keep, LoadOptions};
        use usage_replay::rules::{RuleSet, Rules};
        use usage_replay::triage::{self, Triage};
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| raw_line(i, s)).collect();
        let text = lines.join("\n");
        let load_with = |rules, keep| Archive::from_bytes_with("p.jsonl", text.as_bytes(), LoadOptions { keep, rules, one_event_for_both: true, ..LoadOptions::default() });
        let load = |rules| load_with(rules, Keep::All);
        // An audit keeps fewer traits, so most of the second rule set's events are the first's:
        // its list points at them (one event standing for both where the two agree on what
        // both read), and each rule set must still read exactly the list it has alone.
        let audit_both = load_with(Rules::Both, Keep::Audit);
        let audit_alt = audit_both.alt.as_deref().expect("the 2015 side");
        for (mine, set) in [(&audit_both, RuleSet::Y2014), (audit_alt, RuleSet::Y2015)] {
            let alone = load_with(Rules::One(set), Keep::Audit);
            prop_assert_eq!(mine.events.len(), alone.events.len());
            for (a, b) in mine.events.iter().zip(alone.events.iter()) {
                prop_assert_eq!(as_read(mine, a, set), as_read(&alone, b, set));
            }
            let (r1, r2) = (Replay::run(mine, true, IdMode::Stable), Replay::run(&alone, true, IdMode::Stable));
            prop_assert_eq!(full_fingerprint(mine, &r1), full_fingerprint(&alone, &r2));
            // Making fewer traits rejects, drops and passes over exactly the same records.
            let every = load_with(Rules::One(set), Keep::All);
            let problems = |a: &Archive| {
                let rejected: Vec<String> = a.rejected.iter().map(|r| format!("{} {}", r.location(), r.reason)).collect();
                (rejected, a.duplicates, a.not_distilled_total(), a.events.len())
            };
            prop_assert_eq!(problems(mine), problems(&every));
        }
        let both = load(Rules::Both);
        let alt = both.alt.as_deref().expect("the 2015 side");
        for (mine, set) in [(&both, RuleSet::Y2014), (alt, RuleSet::Y2015)] {
            let alone = load(Rules::One(set));
            prop_assert_eq!(mine.rules, set);
            prop_assert_eq!((mine.rejected.len(), mine.duplicates, mine.not_distilled_total()),
                (alone.rejected.len(), alone.duplicates, alone.not_distilled_total()));
            let (r1, r2) = (Replay::run(mine, true, IdMode::Stable), Replay::run(&alone, true, IdMode::Stable));
            prop_assert_eq!(full_fingerprint(mine, &r1), full_fingerprint(&alone, &r2));
            // What an audit without explanations keeps decides every stream the same way.
            let slim = Replay::run_keeping(mine, true, IdMode::Stable, Keeping::Verdicts);
            let printed = |s: &Stream| {
                let r = s.result.as_ref().unwrap();
                let warnings = r.audit2015().as_ref().map(|a| a.warnings.clone()).unwrap_or_default();
                (s.id, s.state, r.outcome, r.code, r.message().to_string(), r.exists(), warnings)
            };
            prop_assert_eq!(slim.streams().iter().map(printed).collect::<Vec<_>>(),
                r1.streams().iter().map(printed).collect::<Vec<_>>());
        }
        let (r14, r15) = (Replay::run(&both, true, IdMode::Stable), Replay::run(alt, true, IdMode::Stable));
        let pairs = triage::pair(r14.streams(), r15.streams());
        // The n-th stream of an instance-day on one side pairs with the n-th on the other.
        let mut by_key: std::collections::HashMap<_, (Vec<usize>, Vec<u32>)> = std::collections::HashMap::new();
        for (i, s) in r14.streams().iter().enumerate() {
            by_key.entry(s.key()).or_default().0.push(i);
        }
        for (i, s) in r15.streams().iter().enumerate() {
            by_key.entry(s.key()).or_default().1.push(i as u32);
        }
        for (mine, theirs) in by_key.values() {
            for (rank, &i) in mine.iter().enumerate() {
                prop_assert_eq!(pairs[i], theirs.get(rank).copied());
            }
        }
        let mut seen = std::collections::HashMap::new();
        for (s, p) in r14.streams().iter().zip(&pairs) {
            let other = p.map(|i| &r15.streams()[i as usize]);
            if let Some(o) = other {
                prop_assert_eq!((o.key(), o.day), (s.key(), s.day), "paired by instance and day");
            }
            let outcomes = (s.outcome(), other.map(|o| o.outcome()));
            let label = Triage::of(outcomes.0, outcomes.1);
            prop_assert_eq!(*seen.entry(outcomes).or_insert(label), label);
        }
    }
}

/// A mutation of an archive's bytes, as a damaged disk, a cut transfer or a
/// careless edit would make one.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Delete(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Brackets, quotes, separators and control characters, the bytes that change structure.
    let structural = prop::sample::select(vec![
        b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', b'\n', b'\r', 0, 0x1b, 0x07, 0x7f, 0xc2, 0x9b, b' ',
    ]);
    prop_oneof![
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        (any::<prop::sample::Index>(), structural).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Flip(i, x) => {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
        Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Mutation::Delete(i) => {
            bytes.remove(i.index(bytes.len()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Whatever happens to an archive's bytes, loading and replaying it never
    /// panics, and every record is accounted for exactly once: records read =
    /// events in streams + unmatched events + duplicates + not distilled + rejected.
    #[test]
    fn mutated_archives_account_for_every_record(
        specs in specs(),
        layout in 0u8..3,
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let (name, text) = match layout {
            0 => ("m.jsonl", lines.join("\n")),
            1 => ("m.json", format!("[{}]", lines.join(","))),
            _ => {
                let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
                ("m.json", serde_json::to_string_pretty(&values).unwrap())
            }
        };
        let mut bytes = text.into_bytes();
        // Duplicates too: the same record twice.
        if let (Some(first), 0) = (lines.first(), layout) {
            bytes.push(b'\n');
            bytes.extend_from_slice(first.as_bytes());
        }
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        let a = Archive::from_bytes(name, &bytes);
        let r = Replay::run(&a, true, IdMode::Stable);
        let in_streams: usize = r.streams().iter().map(|s| s.events.len()).sum();
        // Problems of the whole file (a broken gzip stream) are not records.
        let rejected = a.rejected.iter().filter(|x| x.line.is_some()).count() as u64;
        prop_assert_eq!(in_streams + r.unmatched().len(), a.events.len(), "every event is in one stream or unmatched");
        prop_assert_eq!(
            a.records,
            a.events.len() as u64 + a.duplicates + a.not_distilled_total() + rejected,
            "records = events + duplicates + not distilled + rejected: {:?}", a
        );
    }
}

/// Everything a load says of its records, to compare two loads of the same bytes.
fn load_summary(a: &Archive) -> Vec<String> {
    let mut out =
        vec![format!("records {} duplicates {} not distilled {}", a.records, a.duplicates, a.not_distilled_total())];
    for e in &a.events {
        let o = e.origin;
        out.push(format!(
            "event {} line {} offset {} len {} index {:?}",
            e.message_id(&a.symbols),
            o.line,
            o.offset,
            o.len,
            o.index
        ));
    }
    for r in &a.rejected {
        out.push(format!("rejected {:?} {:?} {} | {}", r.line, r.index, r.reason, r.excerpt));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// docs/inputs.md#documents-record-by-record: a document read element by element as its
    /// bytes arrive, in pieces and batches of any size, gives exactly the records and the
    /// rejections it gives when read whole — damaged or not.
    #[test]
    fn a_mutated_document_reads_the_same_in_pieces(
        specs in specs(),
        pretty in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 0..4),
        piece in 1usize..300,
        batch in 1usize..5,
    ) {
        use usage_replay::archive::LoadOptions;
        let lines: Vec<String> = specs.iter().enumerate().map(|(i, s)| line(i, s)).collect();
        let text = if pretty {
            let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
            serde_json::to_string_pretty(&values).unwrap()
        } else {
            format!("[{}]", lines.join(", "))
        };
        let mut bytes = text.into_bytes();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        let whole = Archive::from_bytes("m.json", &bytes);
        let options = LoadOptions { pieces: Some((piece, batch)), ..LoadOptions::default() };
        let streamed = Archive::from_bytes_with("m.json", &bytes, options);
        // The layout is judged from the first piece: compare documents taken as documents both times.
        let layout = |a: &Archive| a.sources[0].layout;
        prop_assume!(layout(&whole) == layout(&streamed) && layout(&whole) == Some(usage_replay::archive::source::Layout::Document));
        prop_assert_eq!(load_summary(&streamed), load_summary(&whole));
    }
}
