//! Items as the readers split them from an input, before mapping to records.

use std::sync::Arc;

/// One record-sized item of an input, not yet mapped to a [`super::Record`].
#[derive(Clone, Debug, PartialEq)]
pub struct RawItem {
    /// 1-based physical line where the item starts (for JSON documents, the line of the
    /// element's opening brace, or of the wrapper element that carried it).
    pub line: u64,
    /// The item's content.
    pub body: RawBody,
}

/// The content of a raw item.
#[derive(Clone, Debug, PartialEq)]
pub enum RawBody {
    /// A CSV row: the file's header (shared) and this row's cells, one per column.
    Csv {
        /// Column names, BOM and surrounding quotes removed.
        header: Arc<Vec<String>>,
        /// Cells of this row.
        cells: Vec<String>,
    },
    /// The text of one JSON object: an NDJSON line, an element of a JSON array, or a record
    /// unwrapped from a container (`{"value": [...]}`, `{"events": [{"event": {"original": "..."}}]}`).
    Json(String),
}
