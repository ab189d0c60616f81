//! The crate's error type: every failure a user can cause is a variant with a clear message.

/// Errors returned by iocz; bindings turn them into Python exceptions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value that is not a valid digest (wrong length, non-hex characters, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// Bytes that are not an iocz object of the expected kind, or are corrupted or too large.
    #[error("{0}")]
    Format(String),
    /// Objects from different keys were combined.
    #[error("{0}")]
    WrongKey(String),
    /// A key needed for the operation is not loaded in this process.
    #[error("{0}")]
    KeyNotLoaded(String),
    /// A secret file is readable or writable by group or others (it may have been copied).
    #[error("{0}")]
    ExposedSecret(String),
    /// The user asked to stop (Ctrl-C, SIGTERM) during long work.
    #[error("interrupted")]
    Interrupted,
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (includes the path).
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;
