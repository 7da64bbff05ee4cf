//! Loading in the background (SPEC §6): read the archive and build the
//! timeline on a worker thread, reporting progress over a channel so the first
//! frame is drawn at once and the UI stays responsive. Quitting cancels.

use super::app::Data;
use crate::archive::{Archive, LoadError, LoadProgress};
use crate::pipeline::IdMode;
use crate::replay::Timeline;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

/// What the loader reports.
pub enum LoadEvent {
    Progress(LoadProgress),
    /// Reading is done; the replay of this many events is being built.
    Replaying(usize),
    /// The archive, its timeline and what the panes derive from them.
    Done(Box<Data>),
    Failed(String),
}

pub struct Loader {
    pub events: Receiver<LoadEvent>,
    cancel: Arc<AtomicBool>,
}

impl Loader {
    pub fn spawn(paths: Vec<PathBuf>) -> std::io::Result<Loader> {
        let (tx, rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        std::thread::Builder::new().name("load".into()).spawn(move || {
            let failed = tx.clone();
            if let Err(e) = super::term::guarded(|| load(paths, tx, stop)) {
                let _ = failed.send(LoadEvent::Failed(e));
            }
        })?;
        Ok(Loader { events: rx, cancel })
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Read, then replay; every step reported on `tx`. Returns quietly when cancelled.
fn load(paths: Vec<PathBuf>, tx: mpsc::Sender<LoadEvent>, stop: Arc<AtomicBool>) {
    let progress_tx = tx.clone();
    let loaded = Archive::load(&paths, |p| {
        let _ = progress_tx.send(LoadEvent::Progress(p.clone()));
        !stop.load(Ordering::Relaxed)
    });
    let archive = match loaded {
        Ok(a) => a,
        Err(LoadError::Cancelled) => return,
        Err(e) => {
            let _ = tx.send(LoadEvent::Failed(e.to_string()));
            return;
        }
    };
    let _ = tx.send(LoadEvent::Replaying(archive.events.len()));
    let timeline = Timeline::build(&archive, IdMode::Stable);
    if !stop.load(Ordering::Relaxed) {
        let data = Data::new(Arc::new(archive), Arc::new(timeline));
        let _ = tx.send(LoadEvent::Done(Box::new(data)));
    }
}
