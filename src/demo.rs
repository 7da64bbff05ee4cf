//! The built-in demo archive (docs/ui.md#the-demo): what `usage-replay` opens
//! with no path on a terminal, and `usage-replay demo`.
//!
//! Made in memory by the project's own generator, deterministically: a few
//! hundred instances over two days with every code U0–U8, the error outcome
//! and same-day resizes, plus the load problems a real capture has (a record
//! cut short, one delivered twice, a verifier's output that no stream takes;
//! the generator's `scheduler.*` traffic is not distilled). It never touches
//! the disk or the network.

use crate::archive::{Archive, LoadOptions};
use crate::generate::{self, Options};
use crate::rules::Rules;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The name the demo's records are shown under.
pub const NAME: &str = "built-in demo";

/// The first day of the demo (2014-10-06).
const START_DAY: i64 = 16349;

/// The generator's options for the demo: found to give every outcome and code.
fn options() -> Options {
    Options {
        instances: 240,
        days: 2,
        seed: 7,
        anomalies: 0.1,
        ops: 0.2,
        churn: 0.03,
        start_day: START_DAY,
        gzip: None,
    }
}

/// A writer into a buffer shared with the caller (the generator writes on a thread of its own).
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("demo buffer poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The demo archive as JSON Lines.
pub fn bytes() -> Vec<u8> {
    let buf = Arc::new(Mutex::new(Vec::with_capacity(4 << 20)));
    // The options are fixed and valid, and writing into memory cannot fail.
    if let Err(e) = generate::generate(&options(), Box::new(Shared(buf.clone())), None) {
        unreachable!("the demo's generator options are valid: {e}");
    }
    let mut out = std::mem::take(&mut *buf.lock().unwrap_or_else(|p| p.into_inner()));
    add_load_problems(&mut out);
    out
}

/// The load problems of a real capture, appended (the replay sorts by time).
fn add_load_problems(out: &mut Vec<u8>) {
    // A notification delivered twice: the first compute.instance.update again.
    let twice = out
        .split(|b| *b == b'\n')
        .find(|l| l.windows(25).any(|w| w == b"\"compute.instance.update\""))
        .map(<[u8]>::to_vec);
    if let Some(line) = twice {
        out.extend_from_slice(&line);
        out.push(b'\n');
    }
    // A record cut short when the capture's log rotated.
    out.extend_from_slice(
        b"{\"event_type\": \"compute.instance.update\", \"timestamp\": \"2014-10-06 12:00:03.118204\", \
          \"message_id\": \"4b0b1916-1b98-4eb9-8217-4921c2e4358b\", \"publisher_id\": \"compute.host-1\", \"pay\n",
    );
    // A verifier's output published back to the queue: no stream takes it.
    out.extend_from_slice(
        b"{\"event_type\": \"compute.instance.exists.verified\", \"timestamp\": \"2014-10-07 00:20:00.000000\", \
          \"message_id\": \"33d11ec0-0253-4b7c-8d06-105146690ea5\", \"publisher_id\": \"stacktach.verifier\", \
          \"priority\": \"INFO\", \"payload\": {\"instance_id\": \"00000000-0000-4000-8000-00000000demo\", \
          \"tenant_id\": \"demo\"}}\n",
    );
}

/// The demo archive, loaded under both rule sets, as the replay loads an archive by default
/// (docs/ui.md#two-rule-sets).
pub fn archive() -> Archive {
    let options = LoadOptions { rules: Rules::Both, ..LoadOptions::default() };
    Archive::from_bytes_with(NAME, &bytes(), options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Code, IdMode};
    use crate::replay::{Outcome, Replay};

    #[test]
    fn the_demo_shows_every_outcome_code_and_load_problem() {
        let a = archive();
        assert_eq!(a.sources.len(), 1);
        let replay = Replay::run(&a, true, IdMode::Stable);
        let streams = replay.streams();
        assert!((300..2000).contains(&streams.len()), "a few hundred streams: {}", streams.len());
        for c in Code::ALL {
            assert!(streams.iter().any(|s| s.code() == Some(c)), "the demo shows {}", c.as_str());
        }
        for o in [Outcome::Verified, Outcome::Failed, Outcome::Error] {
            assert!(streams.iter().any(|s| s.outcome() == o), "the demo shows {}", o.as_str());
        }
        let resize = a.symbols.lookup("compute.instance.resize.prep.start").expect("a resize");
        assert!(
            streams.iter().any(|s| s.events.iter().any(|&i| a.events[i as usize].event_type == resize)),
            "a same-day resize"
        );
        assert_eq!(a.rejected.len(), 1, "{:?}", a.rejected);
        assert_eq!(a.duplicates, 1);
        assert!(a.not_distilled_total() > 0);
        assert_eq!(replay.unmatched().len(), 1);
        // The detail pane shows the original record, from memory.
        let shown = a.original(&a.events[0].origin).expect("the record again");
        assert!(shown.contains("\"event_type\""), "{shown}");
    }

    #[test]
    fn the_demo_is_the_same_every_time() {
        assert!(bytes() == bytes());
    }
}
