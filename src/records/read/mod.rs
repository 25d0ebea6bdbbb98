//! Input readers: split an export file or standard input into batches of [`RawItem`]s.
//!
//! [`open`] detects the encoding and the format, then returns a [`Reader`] that yields batches
//! of at most [`ReadOptions::batch_items`] items (and about 4 MiB of text), so memory stays
//! bounded on inputs of any size.
//!
//! - Encoding: UTF-8 with or without a byte-order mark, and UTF-16 with a mark. UTF-16 without
//!   a mark is rejected unless [`ReadOptions::encoding`] names it.
//! - CSV: the first row is the header; the delimiter is given or sniffed from the header.
//!   Every row must have as many fields as the header.
//! - NDJSON: one JSON object per line; blank lines are skipped. The reader checks that each
//!   line is valid JSON; mappers parse it again to build records.
//! - JSON: one document, streamed element by element (see the `json` module for the shapes).
//!
//! Items carry the 1-based physical line where they start. The first error ends the stream,
//! after the items read before it.

mod csv;
mod detect;
mod encoding;
mod error;
mod json;
mod ndjson;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io::Read;
use std::path::Path;

pub use encoding::Encoding;
pub use error::{ReadError, ReadWarning};

use super::{RawBody, RawItem, SourceFormat};
use encoding::{ByteStream, Prefix};

/// Approximate maximum bytes of text in one batch.
const BATCH_BYTES: usize = 4 << 20;

/// Default number of items in one batch.
pub const DEFAULT_BATCH_ITEMS: usize = 4096;

/// An input format that the readers accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Delimited text with a header row.
    Csv,
    /// One JSON document: an array of records or a wrapper object.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl InputFormat {
    /// Parses a format name (`csv`, `json`, `ndjson`; `jsonl` is accepted for NDJSON).
    pub fn parse(name: &str) -> Option<InputFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(InputFormat::Csv),
            "json" => Some(InputFormat::Json),
            "ndjson" | "jsonl" => Some(InputFormat::Ndjson),
            _ => None,
        }
    }
}

impl From<InputFormat> for SourceFormat {
    fn from(format: InputFormat) -> SourceFormat {
        match format {
            InputFormat::Csv => SourceFormat::Csv,
            InputFormat::Json => SourceFormat::Json,
            InputFormat::Ndjson => SourceFormat::Ndjson,
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputFormat::Csv => "csv",
            InputFormat::Json => "json",
            InputFormat::Ndjson => "ndjson",
        })
    }
}

/// Settings of a reader. `None` means detect from the content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The input format, or `None` to detect it.
    pub format: Option<InputFormat>,
    /// The CSV delimiter byte, or `None` to sniff it from the header.
    pub delimiter: Option<u8>,
    /// The text encoding, or `None` to detect it from a byte-order mark (default UTF-8).
    pub encoding: Option<Encoding>,
    /// Maximum items per batch; 0 is taken as 1.
    pub batch_items: usize,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            format: None,
            delimiter: None,
            encoding: None,
            batch_items: DEFAULT_BATCH_ITEMS,
        }
    }
}

/// Batches of items from one input, in input order.
///
/// Iteration yields `Ok(batch)` with at least one item, or one `Err` after which it ends.
pub struct Reader {
    name: String,
    format: InputFormat,
    encoding: Encoding,
    batches: Batches,
    /// Items yielded so far.
    items: u64,
    /// Set when iteration reached the end of the input without an error.
    ended: bool,
}

enum Batches {
    Csv(csv::CsvBatches),
    Ndjson(ndjson::NdjsonBatches),
    Json(json::JsonBatches),
}

impl Reader {
    /// Returns the input's format, detected or given.
    pub fn format(&self) -> SourceFormat {
        self.format.into()
    }

    /// Returns the input's name: the path as given, or `-` for standard input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the text encoding the input is decoded from.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Returns the CSV header, or `None` for JSON inputs. Empty for an empty CSV input.
    pub fn csv_header(&self) -> Option<&[String]> {
        match &self.batches {
            Batches::Csv(csv) => Some(csv.header()),
            _ => None,
        }
    }

    /// Returns the warnings found so far. The row-count warning of a CSV input and the
    /// warning for an input without records appear once iteration has reached its end.
    pub fn warnings(&self) -> Vec<ReadWarning> {
        let mut warnings = match &self.batches {
            Batches::Csv(csv) => csv.warnings().to_vec(),
            _ => Vec::new(),
        };
        if self.ended && self.items == 0 {
            warnings.push(ReadWarning::NoRecords { file: self.name.clone() });
        }
        warnings
    }
}

impl Iterator for Reader {
    type Item = Result<Vec<RawItem>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = match &mut self.batches {
            Batches::Csv(batches) => batches.next(),
            Batches::Ndjson(batches) => batches.next(),
            Batches::Json(batches) => batches.next(),
        };
        match &next {
            Some(Ok(batch)) => self.items += batch.len() as u64,
            // An input that failed is reported by its error, not as empty.
            Some(Err(_)) => self.items = self.items.max(1),
            None => self.ended = true,
        }
        next
    }
}

/// Opens a file, or standard input when `path` is `-`, and prepares to read it.
///
/// # Errors
/// Fails when the file cannot be opened or its start is unreadable: UTF-16 without a
/// byte-order mark, an ambiguous CSV delimiter, or an invalid CSV header.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Reader, ReadError> {
    let name = path.to_string_lossy().into_owned();
    if name == "-" {
        return open_reader(name, std::io::stdin(), options);
    }
    let file = std::fs::File::open(path)
        .map_err(|source| ReadError::Open { file: name.clone(), source })?;
    open_reader(name, file, options)
}

/// Prepares to read `input`, which is named `name` in messages.
///
/// # Errors
/// As for [`open`], except that nothing is opened.
pub fn open_reader(
    name: impl Into<String>,
    input: impl Read + Send + 'static,
    options: &ReadOptions,
) -> Result<Reader, ReadError> {
    let name = name.into();
    let (decoded, encoding) = encoding::decode_input(&name, Box::new(input), options.encoding)?;
    let mut prefix = Prefix::new(decoded);
    let format = match options.format {
        Some(format) => format,
        None => detect::detect_format(&mut prefix).map_err(|e| start_error(&name, e))?,
    };
    let batch_items = options.batch_items;
    let batches = match format {
        InputFormat::Csv => {
            let delimiter = csv_delimiter(&name, &mut prefix, options.delimiter)?;
            Batches::Csv(csv::CsvBatches::new(&name, prefix.into_stream(), delimiter, batch_items)?)
        }
        InputFormat::Ndjson => {
            Batches::Ndjson(ndjson::NdjsonBatches::new(&name, prefix.into_stream(), batch_items))
        }
        InputFormat::Json => {
            Batches::Json(json::JsonBatches::new(&name, prefix.into_stream(), batch_items))
        }
    };
    Ok(Reader { name, format, encoding, batches, items: 0, ended: false })
}

fn csv_delimiter(name: &str, prefix: &mut Prefix, explicit: Option<u8>) -> Result<u8, ReadError> {
    if let Some(delimiter) = explicit {
        return Ok(delimiter);
    }
    let sniffed = detect::sniff_delimiter(prefix).map_err(|e| start_error(name, e))?;
    sniffed.map_err(|found| ReadError::AmbiguousDelimiter {
        file: name.to_string(),
        first: found.first,
        second: found.second,
    })
}

/// Converts a read error met while detecting the format or the delimiter.
fn start_error(name: &str, source: std::io::Error) -> ReadError {
    let file = name.to_string();
    match encoding::malformed_encoding(&source) {
        Some(encoding) => ReadError::InvalidEncoding { file, line: 1, encoding },
        None => ReadError::Io { file, line: 1, source },
    }
}

// Checks at compile time that a reader can move to another thread, which parallel reading of
// several inputs needs.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<ByteStream>();
    assert_send::<Reader>();
};
