//! Errors of the store layer.

use std::path::PathBuf;

/// A failure to read or write the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// The failed operation, such as `write` or `lock`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A store file is damaged: empty, truncated, invalid JSON or a checksum mismatch.
    #[error(
        "{path} is damaged ({reason}); restore it from a backup, or move it away to start \
         with an empty one"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The damage found.
        reason: String,
    },
    /// A store file was written by a newer tagq.
    #[error(
        "{path} has format version {found}, but this tagq reads version {supported} or older; \
         upgrade tagq"
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// A store file contains another kind of content.
    #[error("{path} is not a {expected} file (format {found:?}); check the store directory")]
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// The format expected there.
        expected: &'static str,
        /// The format the file names.
        found: String,
    },
    /// A store file was replaced by another process while a command was using it.
    #[error("{path} was replaced while this command ran; run the command again")]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A value could not be serialised.
    #[error("cannot encode {path}: {source}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A catalog or role operation was rejected; nothing was changed.
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
}
