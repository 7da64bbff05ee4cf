//! The time-sync service while one client holds idle sockets and another
//! reopens sockets as fast as it can (docs/timesync.md).
//!
//!     cargo run --release --example timesync_idle -- [IDLE] [SECONDS]
//!
//! Starts the drop-in service in-process on 127.0.0.1:0, opens IDLE (default
//! 1000) connections that never send anything and keeps them open (reopening
//! any the server closes), runs a client that connects and drops sockets in a
//! tight loop, and for SECONDS (default 10) sends normal `GET /time` requests
//! from 4 clients, each on a new connection. Prints the share answered
//! correctly within 1 s; exits 1 below 99%. Loopback only, bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use usage_replay::timesync::{ServerConfig, TimeServer};

const VALUE: &str = "2014-10-09 22:55:33.111111";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).map_or(Ok(default), |s| s.parse::<u64>());
    let (Ok(idle), Ok(seconds)) = (number(0, 1000), number(1, 10)) else {
        eprintln!("usage: timesync_idle [IDLE] [SECONDS]");
        return ExitCode::from(2);
    };
    let server = match TimeServer::start(([127, 0, 0, 1], 0).into(), ServerConfig::default(), None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("timesync_idle: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = server.local_addr();
    if let Err(e) = exchange(
        addr,
        &format!(
            "POST /time HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{VALUE}",
            VALUE.len()
        ),
    ) {
        eprintln!("timesync_idle: the first POST failed: {e}");
        return ExitCode::from(2);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let reopened = Arc::new(AtomicU64::new(0));

    // The holder: IDLE sockets that never send a byte, reopened when closed.
    let holder = {
        let (stop, reopened) = (stop.clone(), reopened.clone());
        thread::spawn(move || {
            let mut held: Vec<Option<TcpStream>> = (0..idle).map(|_| TcpStream::connect(addr).ok()).collect();
            while !stop.load(Ordering::Relaxed) {
                for slot in held.iter_mut() {
                    let closed = match slot {
                        Some(s) => {
                            let _ = s.set_nonblocking(true);
                            matches!(s.read(&mut [0u8; 1]), Ok(0))
                        }
                        None => true,
                    };
                    if closed {
                        *slot = TcpStream::connect(addr).ok();
                        reopened.fetch_add(1, Ordering::Relaxed);
                    }
                }
                thread::sleep(Duration::from_millis(50));
            }
        })
    };
    // The churner: connect and drop, as fast as it can.
    let churned = Arc::new(AtomicU64::new(0));
    let churner = {
        let (stop, churned) = (stop.clone(), churned.clone());
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if TcpStream::connect(addr).is_ok() {
                    churned.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    thread::sleep(Duration::from_millis(500));

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let clients: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let (mut ok, mut slow, mut failed) = (0u64, 0u64, 0u64);
                let mut worst = Duration::ZERO;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let answer = exchange(addr, "GET /time HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
                    let took = t.elapsed();
                    worst = worst.max(took);
                    match answer {
                        Ok(a) if a.starts_with("HTTP/1.1 200 OK") && a.ends_with(VALUE) => {
                            if took <= Duration::from_secs(1) {
                                ok += 1
                            } else {
                                slow += 1
                            }
                        }
                        _ => failed += 1,
                    }
                }
                (ok, slow, failed, worst)
            })
        })
        .collect();
    let (mut ok, mut slow, mut failed, mut worst) = (0, 0, 0, Duration::ZERO);
    for c in clients {
        let (o, s, f, w) = c.join().unwrap_or((0, 0, 1, Duration::MAX));
        ok += o;
        slow += s;
        failed += f;
        worst = worst.max(w);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = holder.join();
    let _ = churner.join();
    let total = ok + slow + failed;
    let share = if total == 0 { 0.0 } else { ok as f64 * 100.0 / total as f64 };
    println!(
        "{idle} idle sockets held ({} reopened), {} connections churned; {total} GET /time in {seconds} s: \
         {ok} answered within 1 s ({share:.2}%), {slow} later, {failed} failed; slowest {:.0} ms",
        reopened.load(Ordering::Relaxed),
        churned.load(Ordering::Relaxed),
        worst.as_secs_f64() * 1000.0
    );
    server.shutdown();
    if share >= 99.0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One request on a new connection, the whole answer back (5 s at most).
fn exchange(addr: SocketAddr, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(request.as_bytes())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
