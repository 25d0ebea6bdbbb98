//! Errors of the index layer.

use std::path::PathBuf;

use crate::filter::FilterError;
use crate::records::RecordKind;
use crate::store::StoreError;

/// A failure to build, read or query the index.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// A file system operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// The failed operation, such as `write` or `read`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An index file is damaged: empty, truncated, a checksum mismatch or invalid content.
    #[error("{path} is damaged at byte {offset} ({reason}); run `tagq index rebuild`")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Byte offset in the file where the damage was found.
        offset: u64,
        /// The damage found.
        reason: String,
    },
    /// A stored original is damaged, so derived structures cannot be rebuilt from it.
    #[error(
        "{path} is damaged at byte {offset} ({reason}); the stored records of this segment \
         are lost: move the index folder away and ingest the exports again"
    )]
    DamagedOriginals {
        /// The file.
        path: PathBuf,
        /// Byte offset in the file where the damage was found.
        offset: u64,
        /// The damage found.
        reason: String,
    },
    /// An index file was written by a newer tagq.
    #[error(
        "{path} has index format version {found}, but this tagq reads version {supported} or \
         older; upgrade tagq"
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The manifest or another store file could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index cannot take more records.
    #[error("the index is full: {0}")]
    Full(String),
    /// The query does not parse.
    #[error("invalid query: {0}")]
    Query(#[source] Box<FilterError>),
    /// The query does not fit the records of one source.
    #[error("invalid query for {kind} records of {file}: {error}")]
    Resolve {
        /// The input the records came from.
        file: String,
        /// The record kind.
        kind: RecordKind,
        /// The resolution error.
        #[source]
        error: Box<FilterError>,
    },
    /// A stored record no longer maps to a record of its kind, which a change of the mapping
    /// rules between versions can cause.
    #[error("record {record} of {path} cannot be mapped again: {reason}; run `tagq index rebuild`")]
    Remap {
        /// The segment's records file.
        path: PathBuf,
        /// Record id within the segment.
        record: u32,
        /// What went wrong.
        reason: String,
    },
    /// A section of a segment that failed to load earlier, reported again.
    #[error(transparent)]
    Loaded(std::sync::Arc<IndexError>),
    /// An invalid parameter.
    #[error("invalid index setting: {0}")]
    Invalid(String),
}

pub(crate) fn io_error(
    action: &'static str,
    path: &std::path::Path,
    source: std::io::Error,
) -> IndexError {
    IndexError::Io { action, path: path.to_path_buf(), source }
}
