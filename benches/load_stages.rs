//! Where a load's time goes, stage by stage, on one core: finding the lines, the fast
//! reader alone, distilling (the reader and the trait tables), and the whole load on
//! every core as `audit` runs it.
//!
//!     cargo bench --bench load_stages -- [ARCHIVE] [--rules=2014|2015|both] [--stage=NAME]
//!
//! Without an archive it generates one of 20,000 instances over two days into a temporary
//! file (about 320 MB). Each stage runs three times; the best run is printed, in MB/s of the
//! archive. `--stage=` runs only the stages whose name starts so (`reader`, `distill`, `load`),
//! for a profiler.

use std::time::{Duration, Instant};
use usage_replay::archive::{Archive, LoadOptions};
use usage_replay::distill::{self, Tables, Unit};
use usage_replay::rules::{Keep, RuleSet, Rules};

fn best(f: &dyn Fn() -> usize) -> (Duration, usize) {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            let n = f();
            (t.elapsed(), n)
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let rules = args
        .iter()
        .find_map(|a| a.strip_prefix("--rules="))
        .map_or(Some(Rules::One(RuleSet::Y2014)), Rules::parse)
        .unwrap_or_else(|| {
            eprintln!("--rules= takes 2014, 2015 or both");
            std::process::exit(2);
        });
    let mut made = None;
    let path = match args.iter().find(|a| !a.starts_with("--")) {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let file = made.insert(tempfile::NamedTempFile::new().expect("a temporary file"));
            let opts = usage_replay::generate::Options {
                instances: 20_000,
                days: 2,
                seed: 1,
                anomalies: 0.05,
                ops: 0.15,
                churn: 0.02,
                start_day: 16_349,
                gzip: None,
            };
            let out = file.reopen().expect("the temporary file");
            usage_replay::generate::generate(&opts, Box::new(out), None).expect("generate");
            file.path().to_path_buf()
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            drop(made);
            std::process::exit(2);
        }
    };
    let mb = bytes.len() as f64 / 1e6;
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    println!("{:.0} MB, {} lines, rules {:?}", mb, lines.len(), rules);
    let stage = args.iter().find_map(|a| a.strip_prefix("--stage=")).map(str::to_string);
    let on = |what: &str| stage.as_deref().is_none_or(|s| what.starts_with(s));
    let show = |what: &str, (d, n): (Duration, usize)| {
        println!("{what:<28} {:>8.1} ms {:>8.0} MB/s   ({n})", d.as_secs_f64() * 1e3, mb / d.as_secs_f64())
    };

    let sets = rules.sets();
    let stages: [(&str, &dyn Fn() -> usize); 4] = [
        ("lines", &|| memchr::memchr_iter(b'\n', &bytes).count()),
        ("reader", &|| lines.iter().filter(|l| usage_replay::json::parse_top(l).is_ok()).count()),
        ("distill (one core)", &|| {
            let mut out = Vec::new();
            let mut n = 0;
            for l in &lines {
                distill::distill_text_for(l, Unit::Line, Tables { sets, keep: Keep::Audit }, &mut out);
                n += out.len();
                out.clear();
            }
            n
        }),
        ("load (every core)", &|| {
            let options = LoadOptions { rules, keep: Keep::Audit, ..Default::default() };
            // A panic unwinds, and the generated archive's file is removed with `made`.
            match Archive::load_with(std::slice::from_ref(&path), options, |_| true) {
                Ok(a) => a.events.len(),
                Err(e) => panic!("cannot load {}: {e}", path.display()),
            }
        }),
    ];
    for (what, run) in stages {
        if on(what) {
            show(what, best(run));
        }
    }
}
