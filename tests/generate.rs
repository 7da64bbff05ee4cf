//! `usage-replay generate` against the engine: generated archives load
//! cleanly, distill into the traits of docs/distillation.md#traits-2014, and replay to exactly the
//! verdicts the generator's truth predicts, stream by stream.

use assert_cmd::Command;
use predicates::prelude::*;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use usage_replay::archive::{Archive, LoadOptions};
use usage_replay::event::{sym, Event, Symbols, Value};
use usage_replay::generate::{self, Options, Summary};
use usage_replay::pipeline::IdMode;
use usage_replay::replay::{Replay, TriggerKind};
use usage_replay::rules::{RuleSet, Rules};

#[derive(Debug, Deserialize, Clone)]
struct Truth {
    instance_id: String,
    day: String,
    outcome: String,
    code: Option<String>,
    message: String,
    trigger: String,
    event_count: usize,
    scenario: String,
    anomaly: Option<String>,
    rules2015: Truth2015,
}

/// The truth of the same stream under the 2015 rules.
#[derive(Debug, Deserialize, Clone)]
struct Truth2015 {
    outcome: String,
    code: Option<String>,
    message: String,
    warnings: usize,
}

fn options(seed: u64, anomalies: f64) -> Options {
    Options {
        instances: 300,
        days: 3,
        seed,
        anomalies,
        ops: 0.3,
        churn: 0.04,
        start_day: 16_349, // 2014-10-06
        gzip: None,
    }
}

/// Generate into `dir`, returning the archive's path, the truth and the summary.
fn generate_into(dir: &Path, name: &str, opts: &Options) -> (PathBuf, Vec<Truth>, Summary) {
    let path = dir.join(name);
    let out = File::create(&path).expect("create the archive");
    let mut truth = Vec::new();
    let summary = generate::generate(opts, Box::new(out), Some(&mut truth)).expect("generate");
    let truth = String::from_utf8(truth)
        .expect("utf-8 truth")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a truth line is JSON"))
        .collect();
    (path, truth, summary)
}

fn load(path: &Path) -> Archive {
    Archive::load(&[path.to_path_buf()], |_| true).expect("load the archive")
}

fn text(v: Option<Value>, symbols: &Symbols) -> Option<String> {
    match v {
        Some(Value::Text(s)) => Some(symbols.get(s).to_string()),
        _ => None,
    }
}

/// The replay's streams by instance id and day.
fn by_instance_day<'r>(
    archive: &Archive,
    replay: &'r Replay,
) -> BTreeMap<(String, String), Vec<&'r usage_replay::replay::Stream>> {
    let mut streams: BTreeMap<(String, String), Vec<&usage_replay::replay::Stream>> = BTreeMap::new();
    for s in replay.streams() {
        let id = text(Some(s.instance_id), &archive.symbols).expect("streams are keyed by a text instance_id");
        streams.entry((id, s.day.to_string())).or_default().push(s);
    }
    streams
}

/// Replay the archive and compare every stream with the truth; returns the number of streams.
fn assert_agrees(archive: &Archive, truth: &[Truth]) -> usize {
    let replay = Replay::run(archive, true, IdMode::Stable);
    let mut streams = by_instance_day(archive, &replay);
    let mut mismatches = Vec::new();
    for t in truth {
        let Some(found) = streams.remove(&(t.instance_id.clone(), t.day.clone())) else {
            mismatches.push(format!("no stream for {t:?}"));
            continue;
        };
        if found.len() != 1 {
            mismatches.push(format!("{} streams for {t:?}", found.len()));
            continue;
        }
        let s = found[0];
        let r = s.result.as_ref().expect("drained: every stream decided");
        let trigger = match r.trigger {
            TriggerKind::Fire => "fire",
            TriggerKind::Expire => "expire",
        };
        let code = r.code.map(|c| c.as_str().to_string());
        let message_ok = match t.outcome.as_str() {
            "failed" => r.message() == t.message,
            "error" => r.message().contains(&format!("'{}'", t.message)),
            _ => true,
        };
        if r.outcome.as_str() != t.outcome
            || code != t.code
            || !message_ok
            || trigger != t.trigger
            || s.events.len() != t.event_count
        {
            mismatches.push(format!(
                "{} {} ({}, {:?}): expected {} {:?} {:?} ({}, {} events), engine {} {:?} {:?} ({trigger}, {} events)",
                t.instance_id,
                t.day,
                t.scenario,
                t.anomaly,
                t.outcome,
                t.code,
                t.message,
                t.trigger,
                t.event_count,
                r.outcome.as_str(),
                code,
                r.message(),
                s.events.len()
            ));
        }
    }
    for ((id, day), s) in &streams {
        mismatches.push(format!("{} stream(s) for {id} {day} that the truth does not know", s.len()));
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
    replay.streams().len()
}

fn load_2015(path: &Path) -> Archive {
    let options = LoadOptions { rules: Rules::One(RuleSet::Y2015), ..Default::default() };
    Archive::load_with(&[path.to_path_buf()], options, |_| true).expect("load the archive")
}

/// Replay the archive under 2015 and compare every stream with the truth's 2015 verdict.
fn assert_agrees_2015(archive: &Archive, truth: &[Truth]) {
    assert_eq!(archive.rules, RuleSet::Y2015);
    let replay = Replay::run(archive, true, IdMode::Stable);
    let mut streams = by_instance_day(archive, &replay);
    let mut mismatches = Vec::new();
    for t in truth {
        let y = &t.rules2015;
        let Some(found) = streams.remove(&(t.instance_id.clone(), t.day.clone())) else {
            mismatches.push(format!("no 2015 stream for {t:?}"));
            continue;
        };
        let [s] = found[..] else {
            mismatches.push(format!("{} 2015 streams for {t:?}", found.len()));
            continue;
        };
        let r = s.result.as_ref().expect("drained: every stream decided");
        let code = r.code.map(|c| c.as_str().to_string());
        let warnings = r.audit2015().as_ref().map_or(0, |a| a.warnings.len());
        let message_ok = match y.outcome.as_str() {
            "failed" => r.message() == y.message,
            "error" => r.message().contains(&y.message),
            _ => true,
        };
        if r.outcome.as_str() != y.outcome || code != y.code || !message_ok || warnings != y.warnings {
            mismatches.push(format!(
                "{} {} ({}, {:?}): expected {} {:?} {:?} ({} warnings), engine {} {:?} {:?} ({warnings} warnings)",
                t.instance_id,
                t.day,
                t.scenario,
                t.anomaly,
                y.outcome,
                y.code,
                y.message,
                y.warnings,
                r.outcome.as_str(),
                code,
                r.message(),
            ));
        }
    }
    for ((id, day), s) in &streams {
        mismatches.push(format!("{} 2015 stream(s) for {id} {day} that the truth does not know", s.len()));
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches under 2015, first ones:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}

#[test]
fn audit_agrees_with_the_truth_under_2015_too() {
    for seed in [1, 9] {
        let dir = tempfile::tempdir().unwrap();
        let (path, truth, _) = generate_into(dir.path(), &format!("seed{seed}.jsonl"), &options(seed, 0.35));
        assert_agrees_2015(&load_2015(&path), &truth);
        // The two rule sets part where the truth says they do.
        let only_2014 = truth.iter().filter(|t| t.outcome == "failed" && t.rules2015.outcome == "verified").count();
        assert!(only_2014 > 0, "seed {seed}: a same-day operation fails 2014 only");
    }
}

#[test]
fn no_anomaly_leaves_only_the_resize_revert_blind_spot_under_2015() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth, _) = generate_into(dir.path(), "clean.jsonl", &options(5, 0.0));
    assert_agrees_2015(&load_2015(&path), &truth);
    // 2015's one blind spot: a resize revert is not compared, the finish_resize.end before it is (U2).
    let unclean: Vec<&Truth> = truth
        .iter()
        .filter(|t| t.rules2015.outcome != "verified")
        .filter(|t| !(t.scenario.contains("resize_revert") && t.rules2015.code.as_deref() == Some("U2")))
        .collect();
    assert!(unclean.is_empty(), "{} streams not verified under 2015, e.g. {:?}", unclean.len(), unclean.first());
    assert!(truth.iter().any(|t| t.rules2015.warnings > 0), "operation days warn");
    // 2014 has its same-day operation false alarms on the very same archive.
    assert!(truth.iter().any(|t| t.outcome == "failed"));
}

#[test]
fn audit_agrees_with_the_truth_for_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    for seed in [1, 2, 3, 42] {
        let (path, truth, summary) = generate_into(dir.path(), &format!("seed{seed}.jsonl"), &options(seed, 0.15));
        let archive = load(&path);
        assert!(archive.rejected.is_empty(), "seed {seed}: rejected {:?}", &archive.rejected[..1]);
        assert_eq!(archive.duplicates, 0);
        assert_eq!(archive.records, summary.notifications);
        let streams = assert_agrees(&archive, &truth);
        assert_eq!(streams as u64, summary.streams);
        assert_eq!(truth.len() as u64, summary.streams);
        // Only the scheduler's notifications are outside the event definitions.
        let not_distilled: BTreeSet<&str> = archive.not_distilled.keys().map(String::as_str).collect();
        assert!(not_distilled.iter().all(|t| t.starts_with("scheduler.run_instance")), "{not_distilled:?}");
    }
}

#[test]
fn every_code_and_the_error_outcome_appear_and_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (path, truth, summary) = generate_into(dir.path(), "mix.jsonl", &options(9, 0.35));
    let outcomes: BTreeSet<String> =
        truth.iter().map(|t| t.code.clone().unwrap_or_else(|| t.outcome.clone())).collect();
    for want in ["U0", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "error", "verified"] {
        assert!(outcomes.contains(want), "{want} missing from {outcomes:?}");
    }
    assert!(summary.codes.iter().all(|n| *n > 0));
    // U0 both ways: expired without an .exists, and fired on an .exists shifted off midnight.
    assert!(truth.iter().any(|t| t.code.as_deref() == Some("U0") && t.trigger == "expire"));
    assert!(truth.iter().any(|t| t.code.as_deref() == Some("U0") && t.trigger == "fire"));
    // Natural U2: an operation's .start carries the values from before.
    assert!(truth.iter().any(|t| t.anomaly.is_none() && t.code.as_deref() == Some("U2")));
    assert_agrees(&load(&path), &truth);
}

#[test]
fn notifications_distill_into_the_spec_traits() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = generate_into(dir.path(), "traits.jsonl", &options(5, 0.0));
    let archive = load(&path);
    assert!(archive.rejected.is_empty());
    let symbols = &archive.symbols;
    let ty = |e: &Event| symbols.get(e.event_type).to_string();
    let int = |e: &Event, t| matches!(e.get(t), Some(Value::Int(_)));
    let mut types = BTreeSet::new();
    for e in &archive.events {
        let t = ty(e);
        types.insert(t.clone());
        for name in [sym::INSTANCE_ID, sym::TENANT_ID, sym::USER_ID, sym::REQUEST_ID, sym::INSTANCE_TYPE, sym::STATE] {
            assert!(text(e.get(name), symbols).is_some_and(|v| !v.is_empty()), "{t}: {}", symbols.get(name));
        }
        assert_eq!(text(e.get(sym::SERVICE), symbols).as_deref(), Some("compute"), "{t}");
        let host = text(e.get(sym::HOST), symbols).unwrap_or_default();
        assert!(host.starts_with("host-"), "{t}: host {host:?}");
        for name in [sym::MEMORY_MB, sym::DISK_GB, sym::ROOT_GB, sym::EPHEMERAL_GB, sym::VCPUS, sym::INSTANCE_TYPE_ID] {
            assert!(int(e, name), "{t}: {}", symbols.get(name));
        }
        assert_eq!(text(e.get(sym::OS_ARCHITECTURE), symbols).as_deref(), Some("x64"), "{t}");
        let has_launch = e.datetime(sym::LAUNCHED_AT).is_some();
        match t.as_str() {
            "compute.instance.exists" => {
                assert!(has_launch);
                assert!(e.datetime(sym::AUDIT_PERIOD_BEGINNING).is_some_and(|b| b.is_midnight()));
                assert!(e.datetime(sym::AUDIT_PERIOD_ENDING).is_some());
            }
            "compute.instance.create.start" => assert!(!has_launch, "not launched yet"),
            "compute.instance.create.end" | "compute.instance.rebuild.end" | "compute.instance.rescue.end" => {
                assert!(has_launch)
            }
            "compute.instance.delete.end" => {
                assert!(has_launch);
                assert!(e.datetime(sym::DELETED_AT).is_some());
            }
            _ => {
                assert!(e.get(sym::AUDIT_PERIOD_BEGINNING).is_none(), "{t}: audit period only on .exists");
            }
        }
    }
    // Images without OS metadata leave the traits out rather than empty.
    assert!(archive.events.iter().any(|e| e.get(sym::OS_VERSION).is_none()));
    assert!(archive.events.iter().any(|e| text(e.get(sym::OS_DISTRO), symbols).as_deref() == Some("com.ubuntu")));
    for t in [
        "compute.instance.create.end",
        "compute.instance.resize.prep.start",
        "compute.instance.finish_resize.end",
        "compute.instance.resize.confirm.end",
        "compute.instance.rebuild.start",
        "compute.instance.rescue.end",
        "compute.instance.unrescue.end",
        "compute.instance.power_off.end",
        "compute.instance.reboot.end",
        "compute.instance.snapshot.end",
        "compute.instance.shutdown.end",
        "compute.instance.delete.end",
        "compute.instance.update",
    ] {
        assert!(types.contains(t), "no {t} in {types:?}");
    }
}

#[test]
fn the_archive_is_in_timestamp_order() {
    let opts = Options { instances: 50, ..options(8, 0.2) };
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = generate_into(dir.path(), "order.jsonl", &opts);
    let text = std::fs::read_to_string(path).unwrap();
    let stamps: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["timestamp"].as_str().unwrap().to_string())
        .collect();
    let parsed: Vec<_> = stamps.iter().map(|s| usage_replay::time::parse_datetime(s).unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "written in timestamp order");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let run = |opts: &Options| {
        let mut truth = Vec::new();
        let buf = SharedBuf::default();
        generate::generate(opts, Box::new(buf.clone()), Some(&mut truth)).expect("generate");
        let archive = buf.0.lock().unwrap().clone();
        (archive, truth)
    };
    let a = run(&options(21, 0.2));
    let b = run(&options(21, 0.2));
    let c = run(&options(22, 0.2));
    assert!(!a.0.is_empty());
    assert!(a == b, "same options, same archive and truth");
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
}

#[test]
fn gzip_output_loads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let plain_opts = Options { instances: 120, ..options(31, 0.2) };
    let gzip_opts = Options { gzip: Some(6), ..plain_opts.clone() };
    let (plain, truth, _) = generate_into(dir.path(), "plain.jsonl", &plain_opts);
    let (gz, truth_gz, _) = generate_into(dir.path(), "archive.jsonl.gz", &gzip_opts);
    let bytes = std::fs::read(&gz).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let (a, b) = (load(&plain), load(&gz));
    assert!(b.rejected.is_empty());
    assert_eq!(a.events.len(), b.events.len());
    for (x, y) in a.events.iter().zip(&b.events) {
        assert_eq!(x.message_id(&a.symbols), y.message_id(&b.symbols));
        assert_eq!(x.timestamp, y.timestamp);
    }
    assert_eq!(truth.len(), truth_gz.len());
    assert_agrees(&b, &truth_gz);
}

#[test]
fn the_command_writes_archive_and_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("day.jsonl");
    let truth = dir.path().join("day.truth.jsonl");
    Command::cargo_bin("usage-replay")
        .unwrap()
        .args(["generate", "--instances", "40", "--days", "2", "--seed", "3", "--anomalies", "0.2", "--start"])
        .arg("2015-01-31")
        .arg("--out")
        .arg(&out)
        .arg("--truth")
        .arg(&truth)
        .assert()
        .success()
        .stderr(predicates::str::contains("notifications"));
    let truth: Vec<Truth> =
        std::fs::read_to_string(&truth).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(truth.iter().all(|t| t.day == "2015-01-31" || t.day == "2015-02-01"));
    assert_agrees(&load(&out), &truth);

    // The archive on stdout is what audit reads.
    let stdout = Command::cargo_bin("usage-replay")
        .unwrap()
        .args(["generate", "--instances", "40", "--days", "2", "--seed", "3", "--anomalies", "0.2", "--start"])
        .arg("2015-01-31")
        .args(["--out", "-", "-q"])
        .output()
        .unwrap();
    assert!(stdout.status.success());
    assert_eq!(stdout.stdout, std::fs::read(&out).unwrap());
}

#[test]
fn bad_options_are_refused_clearly() {
    for (args, says) in [
        (vec!["--anomalies", "1.5"], "--anomalies"),
        (vec!["--instances", "0"], "--instances"),
        (vec!["--start", "2014-13-01"], "--start"),
        (vec!["--days", "0"], "--days"),
    ] {
        Command::cargo_bin("usage-replay")
            .unwrap()
            .args(["generate", "--out", "-"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says))
            .stderr(predicates::str::contains("panicked").not());
    }
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("usage-replay")
        .unwrap()
        .args(["generate", "--out"])
        .arg(dir.path().join("missing-dir").join("x.jsonl"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot create"));
}

/// A `Write` the test can read back after the generator's writer thread is done.
#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
