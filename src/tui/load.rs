//! Loading in the background (docs/ui.md#opening-and-loading): read the archive and build the
//! timeline on a worker thread, reporting progress over a channel so the first
//! frame is drawn at once and the UI stays responsive. Quitting cancels.

use super::data::Data;
use crate::archive::{Archive, LoadError, LoadOptions, LoadProgress};
use crate::pipeline::IdMode;
use crate::replay::Timeline;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

/// What the loader reports; the event loop hands it to the app as
/// [`Action::Load`](super::Action::Load).
#[derive(Clone, Debug)]
pub enum LoadEvent {
    Progress(LoadProgress),
    /// Reading is done; the replay of this many events is being built.
    Replaying(usize),
    /// The archive, its timeline and what the panes derive from them.
    Done(Arc<Data>),
    Failed(String),
}

/// Two reports are the same when they say the same; two loaded archives only
/// when they are the very same one.
impl PartialEq for LoadEvent {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LoadEvent::Progress(a), LoadEvent::Progress(b)) => a == b,
            (LoadEvent::Replaying(a), LoadEvent::Replaying(b)) => a == b,
            (LoadEvent::Done(a), LoadEvent::Done(b)) => Arc::ptr_eq(a, b),
            (LoadEvent::Failed(a), LoadEvent::Failed(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for LoadEvent {}

/// Run `f` on a worker thread, turning a panic into an error message instead
/// of letting it print over the screen (the terminal's panic hook stays quiet
/// off the UI thread).
pub fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown error".into());
        format!("internal error: {msg}")
    })
}

pub struct Loader {
    pub events: Receiver<LoadEvent>,
    cancel: Arc<AtomicBool>,
}

impl Loader {
    pub fn spawn(paths: Vec<PathBuf>) -> std::io::Result<Loader> {
        Loader::spawn_with(paths, LoadOptions::default())
    }

    /// [`Loader::spawn`] with load options (the instance and tenant filter).
    pub fn spawn_with(paths: Vec<PathBuf>, options: LoadOptions) -> std::io::Result<Loader> {
        let (tx, rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        std::thread::Builder::new().name("load".into()).spawn(move || {
            let failed = tx.clone();
            if let Err(e) = guarded(|| load(paths, options, tx, stop)) {
                let _ = failed.send(LoadEvent::Failed(e));
            }
        })?;
        Ok(Loader { events: rx, cancel })
    }

    /// Load the built-in demo (docs/ui.md#the-demo): made in memory, no disk, no network.
    pub fn spawn_demo() -> std::io::Result<Loader> {
        let (tx, rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        std::thread::Builder::new().name("load".into()).spawn(move || {
            let failed = tx.clone();
            let run = || {
                let archive = crate::demo::archive();
                replay(archive, &tx, &stop);
            };
            if let Err(e) = guarded(run) {
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
fn load(paths: Vec<PathBuf>, options: LoadOptions, tx: mpsc::Sender<LoadEvent>, stop: Arc<AtomicBool>) {
    let progress_tx = tx.clone();
    let loaded = Archive::load_with(&paths, options, |p| {
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
    replay(archive, &tx, &stop);
}

/// Replay a loaded archive into its timeline and hand it over.
fn replay(archive: Archive, tx: &mpsc::Sender<LoadEvent>, stop: &AtomicBool) {
    let _ = tx.send(LoadEvent::Replaying(archive.events.len()));
    let data = data_of(archive);
    if !stop.load(Ordering::Relaxed) {
        let _ = tx.send(LoadEvent::Done(Arc::new(data)));
    }
}

/// Replay a loaded archive under each rule set it was distilled by, and derive
/// what the panes need (the loader does it on its thread; tests call it directly).
pub fn data_of(archive: Archive) -> Data {
    // docs/ui.md#two-rule-sets: the second rule set's events, when the load distilled for both.
    let (timeline, other) = match archive.alt.as_deref() {
        Some(alt) => {
            let (t, o) =
                rayon::join(|| Timeline::build(&archive, IdMode::Stable), || Timeline::build(alt, IdMode::Stable));
            (t, Some(Arc::new(o)))
        }
        None => (Timeline::build(&archive, IdMode::Stable), None),
    };
    Data::with_other(Arc::new(archive), Arc::new(timeline), other)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_worker_panic_becomes_an_error_message() {
        assert_eq!(super::guarded(|| 7), Ok(7));
        let r: Result<(), String> = super::guarded(|| panic!("boom {}", 1));
        assert_eq!(r, Err("internal error: boom 1".to_string()));
    }
}
