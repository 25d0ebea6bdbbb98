//! Batches of CSV rows.

use std::sync::Arc;

use csv::{ByteRecord, ReaderBuilder};

use super::encoding::{ByteStream, malformed_encoding};
use super::error::{ReadError, ReadWarning};
use super::{BATCH_BYTES, RawBody, RawItem};

/// Row counts at which portal exports stop without notice: about 200,000 rows in one export
/// view, and 10,000 rows in some report views.
const PORTAL_CAPS: [u64; 2] = [10_000, 200_000];

/// Reads CSV rows in batches. The header is read when the batches are created.
pub(super) struct CsvBatches {
    file: String,
    reader: csv::Reader<ByteStream>,
    header: Arc<Vec<String>>,
    record: ByteRecord,
    batch_items: usize,
    rows: u64,
    done: bool,
    pending: Option<ReadError>,
    warnings: Vec<ReadWarning>,
}

impl CsvBatches {
    /// Reads the header row. An input without any row has an empty header and no rows.
    pub(super) fn new(
        file: &str,
        input: ByteStream,
        delimiter: u8,
        batch_items: usize,
    ) -> Result<CsvBatches, ReadError> {
        let reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut batches = CsvBatches {
            file: file.to_string(),
            reader,
            header: Arc::new(Vec::new()),
            record: ByteRecord::new(),
            batch_items: batch_items.max(1),
            rows: 0,
            done: false,
            pending: None,
            warnings: Vec::new(),
        };
        if batches.read_record()? {
            let line = batches.record_line();
            let names = batches.record_cells(line)?;
            batches.header = Arc::new(names);
        } else {
            batches.done = true;
        }
        Ok(batches)
    }

    /// Returns the column names.
    pub(super) fn header(&self) -> &[String] {
        &self.header
    }

    /// Returns the warnings found so far; the row-count warning appears after the last row.
    pub(super) fn warnings(&self) -> &[ReadWarning] {
        &self.warnings
    }

    fn read_record(&mut self) -> Result<bool, ReadError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(more) => Ok(more),
            Err(error) => Err(self.convert_error(error)),
        }
    }

    fn record_line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    fn record_cells(&self, line: u64) -> Result<Vec<String>, ReadError> {
        self.record
            .iter()
            .map(|cell| {
                String::from_utf8(cell.to_vec()).map_err(|_| ReadError::InvalidEncoding {
                    file: self.file.clone(),
                    line,
                    encoding: "UTF-8",
                })
            })
            .collect()
    }

    fn convert_error(&self, error: csv::Error) -> ReadError {
        let line = error.position().map_or_else(|| self.reader.position().line(), |p| p.line());
        let file = self.file.clone();
        match error.into_kind() {
            csv::ErrorKind::Io(source) => match malformed_encoding(&source) {
                Some(encoding) => ReadError::InvalidEncoding { file, line, encoding },
                None => ReadError::Io { file, line, source },
            },
            csv::ErrorKind::Utf8 { .. } => {
                ReadError::InvalidEncoding { file, line, encoding: "UTF-8" }
            }
            other => ReadError::Csv { file, line, message: format!("{other:?}") },
        }
    }

    fn next_item(&mut self) -> Result<Option<RawItem>, ReadError> {
        if !self.read_record()? {
            return Ok(None);
        }
        let line = self.record_line();
        if self.record.len() != self.header.len() {
            return Err(ReadError::FieldCount {
                file: self.file.clone(),
                line,
                found: self.record.len(),
                expected: self.header.len(),
            });
        }
        let cells = self.record_cells(line)?;
        self.rows += 1;
        Ok(Some(RawItem { line, body: RawBody::Csv { header: Arc::clone(&self.header), cells } }))
    }

    fn finish(&mut self) {
        self.done = true;
        if PORTAL_CAPS.contains(&self.rows) {
            self.warnings.push(ReadWarning::PortalCap { file: self.file.clone(), rows: self.rows });
        }
    }
}

impl Iterator for CsvBatches {
    type Item = Result<Vec<RawItem>, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.pending.take() {
            return Some(Err(error));
        }
        if self.done {
            return None;
        }
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < self.batch_items && bytes < BATCH_BYTES {
            match self.next_item() {
                Ok(Some(item)) => {
                    bytes += self.record.as_slice().len();
                    batch.push(item);
                }
                Ok(None) => {
                    self.finish();
                    break;
                }
                Err(error) => {
                    // Rows read before the error are still delivered, then the error.
                    self.done = true;
                    if batch.is_empty() {
                        return Some(Err(error));
                    }
                    self.pending = Some(error);
                    break;
                }
            }
        }
        if batch.is_empty() { None } else { Some(Ok(batch)) }
    }
}
