//! Errors of the input readers.

use std::io;

use thiserror::Error;

/// An input that could not be read. Each variant names the input (`-` for standard input) and,
/// where one applies, the 1-based physical line.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("{file}: cannot open: {source}")]
    Open {
        /// The path as given.
        file: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// Reading failed after the input was opened.
    #[error("{file}: read failed near line {line}: {source}")]
    Io {
        /// The input name.
        file: String,
        /// The line reached when the read failed.
        line: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// The input starts with NUL-interleaved bytes but has no byte-order mark.
    #[error(
        "{file}: file looks like UTF-16 without a byte-order mark; pass --encoding {suggested}"
    )]
    Utf16WithoutBom {
        /// The input name.
        file: String,
        /// The encoding name the bytes suggest (`utf-16le` or `utf-16be`).
        suggested: &'static str,
    },
    /// The bytes are not valid in the input's encoding.
    #[error("{file}:{line}: invalid {encoding} text; re-save the file as UTF-8 or pass --encoding")]
    InvalidEncoding {
        /// The input name.
        file: String,
        /// The line of the invalid bytes. For UTF-16 it is the line the decoder reached, an estimate.
        line: u64,
        /// The encoding the input was decoded as.
        encoding: &'static str,
    },
    /// The CSV header contains more than one candidate delimiter outside quotes.
    #[error(
        "{file}:1: header contains both {first} and {second}; pass --delimiter to choose the separator"
    )]
    AmbiguousDelimiter {
        /// The input name.
        file: String,
        /// One delimiter found, quoted for display.
        first: &'static str,
        /// Another delimiter found, quoted for display.
        second: &'static str,
    },
    /// A CSV row has a different number of fields than the header.
    #[error(
        "{file}:{line}: row has {found} fields but the header has {expected}; fix the row or check --delimiter"
    )]
    FieldCount {
        /// The input name.
        file: String,
        /// The line where the row starts.
        line: u64,
        /// Fields in the row.
        found: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// The CSV parser failed on malformed input.
    #[error("{file}:{line}: invalid CSV: {message}")]
    Csv {
        /// The input name.
        file: String,
        /// The line where the failing record starts.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// An NDJSON line or a JSON document is not valid JSON, or not the expected shape.
    #[error("{file}:{line}{}: invalid JSON: {message}", column_suffix(*.column))]
    Json {
        /// The input name.
        file: String,
        /// The line of the error.
        line: u64,
        /// The 1-based column of the error, or 0 when it is unknown (then not displayed).
        column: u64,
        /// The parser's message, without its position.
        message: String,
    },
    /// A line is longer than the reader accepts, which usually means a binary or truncated file.
    #[error("{file}:{line}: line longer than {max} bytes; check that the file is NDJSON")]
    LineTooLong {
        /// The input name.
        file: String,
        /// The line that is too long.
        line: u64,
        /// The maximum line length in bytes.
        max: usize,
    },
    /// A CSV record is longer than the reader accepts, which usually means an unbalanced quote.
    #[error(
        "{file}:{line}: record longer than {max} bytes; check the record for an unbalanced quote"
    )]
    RecordTooLong {
        /// The input name.
        file: String,
        /// The line where the record starts.
        line: u64,
        /// The maximum record length in bytes.
        max: u64,
    },
    /// The background parser of a JSON document stopped unexpectedly.
    #[error("{file}: the JSON parser thread stopped unexpectedly")]
    ParserStopped {
        /// The input name.
        file: String,
    },
}

fn column_suffix(column: u64) -> String {
    if column == 0 { String::new() } else { format!(":{column}") }
}

/// A condition worth reporting that does not stop reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadWarning {
    /// The row count equals a cap at which portal exports stop without notice.
    PortalCap {
        /// The input name.
        file: String,
        /// The number of data rows read.
        rows: u64,
    },
    /// The input ended without a single record, as an empty file or a header-only CSV does.
    NoRecords {
        /// The input name.
        file: String,
    },
}

impl std::fmt::Display for ReadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadWarning::PortalCap { file, rows } => write!(
                f,
                "{file}: row count equals a known portal export cap ({rows}); data may be truncated"
            ),
            ReadWarning::NoRecords { file } => {
                write!(f, "{file}: no records found; check that this is the export you meant")
            }
        }
    }
}
