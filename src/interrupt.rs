//! Stopping long FHE work on request. The host (the Python bindings) registers a check that
//! says whether the user asked to stop (Ctrl-C, SIGTERM). [`run`] does the work on a helper
//! thread while the calling thread asks that check every [`POLL`]; on a stop it raises a flag
//! that kernels read before each unit of work ([`stopped`], one atomic load) and returns
//! [`Error::Interrupted`] as soon as the work returns, discarding whatever it computed.
//! Finished partitions are already checkpointed by the caller.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use crate::error::{Error, Result};

static HOOK: RwLock<Option<fn() -> bool>> = RwLock::new(None);
static STOP: AtomicBool = AtomicBool::new(false);

/// How often [`run`] asks the hook.
pub const POLL: Duration = Duration::from_millis(100);

/// Register `stop`, asked by [`run`] every [`POLL`]: true means stop now.
pub fn set_hook(stop: fn() -> bool) {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(stop);
}

fn hook_says_stop() -> bool {
    let hook = *HOOK.read().unwrap_or_else(|e| e.into_inner());
    hook.is_some_and(|stop| stop())
}

/// Whether a stop was asked: kernels skip their remaining work (its result is discarded).
pub fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// `Err(Error::Interrupted)` once a stop was asked.
pub fn check() -> Result<()> {
    if stopped() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// Run `work` on a helper thread, asking the hook every [`POLL`] on this thread. A stop sets
/// the flag, waits for `work` to return (kernels return within one unit of work) and gives
/// `Err(Error::Interrupted)` whatever `work` returned. Without a stop, a panic in `work`
/// resumes here.
pub fn run<T: Send>(work: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    STOP.store(false, Ordering::Relaxed);
    std::thread::scope(|scope| {
        let (done, finished) = std::sync::mpsc::channel();
        let worker = scope.spawn(move || {
            let out = work();
            let _ = done.send(());
            out
        });
        loop {
            match finished.recv_timeout(POLL) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if !stopped() => {
                    if hook_says_stop() {
                        STOP.store(true, Ordering::Relaxed);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        }
        let out = worker.join();
        if STOP.swap(false, Ordering::Relaxed) {
            // Skipped work may trip a check on its way out: a stop wins over that panic.
            return Err(Error::Interrupted);
        }
        out.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a stop the work's result comes back (stops are tested from Python with a real
    /// SIGINT: the flag is process-wide, so a Rust test raising it would stop its neighbours).
    #[test]
    fn work_comes_back() {
        assert_eq!(run(|| Ok(7)).unwrap(), 7);
        assert!(matches!(
            run(|| -> Result<()> { Err(Error::InvalidInput("x".into())) }),
            Err(Error::InvalidInput(_))
        ));
    }
}
