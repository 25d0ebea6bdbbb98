//! Errors of the directory layer.

use std::fmt;
use std::path::PathBuf;

/// Where in a directory export a problem sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of a CSV file.
    Line(u64),
    /// A 1-based entry of a JSON array.
    Entry(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Entry(entry) => write!(f, "entry {entry}"),
        }
    }
}

/// A failure to load a directory export.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The file could not be read.
    #[error("cannot read directory file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The content matches none of the supported export formats.
    #[error(
        "{path}: unrecognised directory format; expected an Entra ID CSV export, Graph users \
         JSON or a CSV with header id,kind,address,display_name,aliases,mailbox,members"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid UTF-8.
    #[error("{path}: line {line}: not valid UTF-8 at byte {offset}; save the export as UTF-8")]
    Encoding {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The CSV could not be parsed.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The parser's message, which includes the line.
        message: String,
    },
    /// The JSON could not be parsed.
    #[error("{path}: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// One row or entry is invalid.
    #[error("{path}: {location}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The row or entry.
        location: Location,
        /// What is wrong and what to do.
        message: String,
    },
    /// Two objects share an object id.
    #[error("{path}: object id {id} appears twice; each user and group needs its own id")]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The repeated id.
        id: String,
    },
}
