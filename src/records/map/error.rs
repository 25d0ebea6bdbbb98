//! Errors of mapping raw items to records.

use std::sync::Arc;

/// An item that cannot be mapped to a record. Every variant names the file and the line where
/// the item starts.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The item's text is not valid JSON.
    #[error("{file}:{line}: invalid JSON record: {source}; check that the input is JSON or NDJSON")]
    InvalidJson {
        /// Input file, or `-` for standard input.
        file: Arc<str>,
        /// 1-based line where the item starts.
        line: u64,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The item is valid JSON but not an object, so it has no named fields.
    #[error("{file}:{line}: JSON record is a {found}, expected an object with named fields")]
    NotAnObject {
        /// Input file, or `-` for standard input.
        file: Arc<str>,
        /// 1-based line where the item starts.
        line: u64,
        /// The JSON type found (`array`, `string`, ...).
        found: &'static str,
    },
    /// The item's columns match no email, alert or campaign export.
    #[error(
        "{file}:{line}: the columns ({columns}) match no email, alert or campaign export; \
         check the file, or pass --kind email|alert|campaign to read it as that kind"
    )]
    UnknownShape {
        /// Input file, or `-` for standard input.
        file: Arc<str>,
        /// 1-based line where the item starts.
        line: u64,
        /// The first column names of the item.
        columns: String,
    },
    /// A time column contains a value that is not a supported timestamp.
    #[error(
        "{file}:{line}: column '{column}': invalid timestamp '{value}'; expected ISO-8601 \
         (2024-06-02T08:15:30Z) or US-locale text (6/2/2024, 8:15:30 AM)"
    )]
    InvalidTime {
        /// Input file, or `-` for standard input.
        file: Arc<str>,
        /// 1-based line where the item starts.
        line: u64,
        /// Column or key name; keys inside nested JSON are written as a path (`Data.ts`).
        column: String,
        /// The value as exported.
        value: String,
    },
}
