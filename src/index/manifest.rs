//! The manifest: the list of segments and sources that make up the current index state.
//!
//! Segment files are never changed after they are written; a new state writes new files and
//! then replaces the manifest atomically, so a reader sees the old or the new state.

use serde::{Deserialize, Serialize};

use crate::records::{RecordKind, SourceFormat};

/// File name of the manifest inside the index folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Envelope format name of the manifest.
pub const MANIFEST_FORMAT: &str = "tagq-index-manifest";
/// Default number of records per segment.
pub const DEFAULT_SEGMENT_SIZE: u32 = 1 << 20;

/// The current index state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Incremented by every change; new files carry it in their names.
    pub generation: u64,
    /// Records per full segment.
    pub segment_size: u32,
    /// Inputs and kinds that records came from.
    pub sources: Vec<Source>,
    /// Segments in id order.
    pub segments: Vec<SegmentEntry>,
}

impl Manifest {
    /// Returns an empty manifest.
    pub fn new(segment_size: u32) -> Manifest {
        Manifest { generation: 0, segment_size, sources: Vec::new(), segments: Vec::new() }
    }
}

/// The records of one kind from one input of one ingest, which share the mapping context and
/// the schema (the columns of the first such record, as the streaming filter resolves them).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Source {
    /// Input file name, or `-` for standard input.
    pub file: String,
    /// Input format: `csv`, `json` or `ndjson`.
    pub format: String,
    /// The `--kind` given at ingest, if any.
    pub kind_override: Option<String>,
    /// The kind of the records.
    pub kind: String,
    /// Source columns of the first record, which define the schema queries resolve against.
    pub columns: Vec<String>,
    /// The CSV header, for CSV inputs.
    pub header: Option<Vec<String>>,
}

impl Source {
    /// Returns the record kind.
    pub fn record_kind(&self) -> Option<RecordKind> {
        self.kind.parse().ok()
    }

    /// Returns the kind override.
    pub fn kind_override(&self) -> Option<RecordKind> {
        self.kind_override.as_deref().and_then(|k| k.parse().ok())
    }

    /// Returns the source format.
    pub fn source_format(&self) -> SourceFormat {
        match self.format.as_str() {
            "csv" => SourceFormat::Csv,
            "json" => SourceFormat::Json,
            _ => SourceFormat::Ndjson,
        }
    }
}

/// Returns the manifest name of a source format.
pub fn format_name(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Csv => "csv",
        SourceFormat::Json => "json",
        SourceFormat::Ndjson => "ndjson",
    }
}

/// One segment's files and summary.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SegmentEntry {
    /// File name of the originals.
    pub records_file: String,
    /// File name of the derived structures.
    pub index_file: String,
    /// Number of records, live or replaced.
    pub count: u32,
    /// Earliest record time (microseconds since the Unix epoch), if any record has one.
    pub min_time: Option<i64>,
    /// Latest record time, if any record has one.
    pub max_time: Option<i64>,
    /// Record ids replaced by newer copies, sorted.
    // NOTE: kept as a JSON list; a store with many replacements would do better with a
    // roaring bitmap file per segment.
    pub replaced: Vec<u32>,
}
