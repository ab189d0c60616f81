//! Stopping long FHE work on request. The host (the Python bindings) registers a check that
//! says whether the user asked to stop (Ctrl-C, SIGTERM); kernels call [`check`] between
//! batches of work, a few seconds apart, and return [`Error::Interrupted`]: finished partitions
//! are already checkpointed by the caller, the batch in progress is dropped.

use std::sync::RwLock;

use crate::error::{Error, Result};

static HOOK: RwLock<Option<fn() -> bool>> = RwLock::new(None);

/// Register `stop`, asked between batches of work: true means stop now.
pub fn set_hook(stop: fn() -> bool) {
    *HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(stop);
}

/// `Err(Error::Interrupted)` when the registered hook asks to stop.
pub fn check() -> Result<()> {
    let hook = *HOOK.read().unwrap_or_else(|e| e.into_inner());
    match hook {
        Some(stop) if stop() => Err(Error::Interrupted),
        _ => Ok(()),
    }
}
