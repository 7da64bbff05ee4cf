//! Throughput of the time-sync service under concurrent clients (docs/timesync.md#protocol).
//!
//!     cargo run --release --example timesync_load -- [THREADS] [ROUNDS] [URL]
//!
//! Each of THREADS clients (default 8) does ROUNDS (default 2000) of
//! `POST /time` then `GET /time`, checking every answer. Without URL it starts
//! the drop-in service in-process on 127.0.0.1:0; with one (e.g.
//! `http://127.0.0.1:8001`, a running `usage-replay time-server`) it loads that.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};
use usage_replay::time::parse_datetime;
use usage_replay::timesync::{ServerConfig, TimeServer};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: usize| args.get(i).map_or(Ok(default), |s| s.parse::<usize>());
    let (Ok(threads), Ok(rounds)) = (number(0, 8), number(1, 2000)) else {
        eprintln!("usage: timesync_load [THREADS] [ROUNDS] [URL]");
        return ExitCode::from(2);
    };
    let mut local = None;
    let base = match args.get(2) {
        Some(url) => url.trim_end_matches('/').trim_end_matches("/time").to_string(),
        None => {
            let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
            match TimeServer::start(addr, ServerConfig::default(), None) {
                Ok(s) => {
                    let url = format!("http://{}", s.local_addr());
                    local = Some(s);
                    url
                }
                Err(e) => {
                    eprintln!("timesync_load: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let endpoint = format!("{base}/time");

    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let endpoint = endpoint.clone();
            thread::spawn(move || client(t, rounds, &endpoint))
        })
        .collect();
    let mut failures = 0usize;
    for w in workers {
        failures += w.join().unwrap_or(rounds * 2);
    }
    let elapsed = start.elapsed();
    let total = threads * rounds * 2;
    println!(
        "{total} requests ({threads} clients × {rounds} POST+GET) in {:.3} s: {:.0} requests/s, {failures} failed",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    if let Some(s) = local {
        println!("server answered {} requests", s.requests());
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One client's loop; returns how many requests were not answered correctly.
fn client(t: usize, rounds: usize, endpoint: &str) -> usize {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent();
    let mut failures = 0;
    for i in 0..rounds {
        let mine = format!("2014-10-{:02} {:02}:00:00.{:06}", t % 28 + 1, t / 28 % 24, i);
        match agent.post(endpoint).send(mine.as_bytes()) {
            Ok(r) if r.status() == 200 => {}
            _ => failures += 1,
        }
        let ok = match agent.get(endpoint).call() {
            Ok(mut r) if r.status() == 200 => {
                r.body_mut().read_to_string().is_ok_and(|body| parse_datetime(&body).is_ok_and(|ts| ts.wire() == body))
            }
            _ => false,
        };
        if !ok {
            failures += 1;
        }
    }
    failures
}
