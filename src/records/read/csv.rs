//! Batches of CSV rows.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use csv::{ByteRecord, ReaderBuilder};

use super::encoding::{ByteStream, malformed_encoding};
use super::error::{ReadError, ReadWarning};
use super::{BATCH_BYTES, RawBody, RawItem};

/// Row counts at which portal exports stop without notice: about 200,000 rows in one export
/// view, and 10,000 rows in some report views.
const PORTAL_CAPS: [u64; 2] = [10_000, 200_000];

/// Maximum bytes of one CSV record. A quote that is never closed turns the rest of the input
/// into one field, and this limit stops that before it exhausts memory.
pub(super) const MAX_RECORD_BYTES: u64 = 256 << 20;

/// Reads CSV rows in batches. The header is read when the batches are created.
pub(super) struct CsvBatches {
    file: String,
    reader: csv::Reader<RecordLimit>,
    /// Bytes read from the input since the last complete record.
    since_record: Arc<AtomicU64>,
    /// The line where the record being read starts.
    record_start: u64,
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
        CsvBatches::with_record_limit(file, input, delimiter, batch_items, MAX_RECORD_BYTES)
    }

    pub(super) fn with_record_limit(
        file: &str,
        input: ByteStream,
        delimiter: u8,
        batch_items: usize,
        max_record_bytes: u64,
    ) -> Result<CsvBatches, ReadError> {
        let since_record = Arc::new(AtomicU64::new(0));
        let limited =
            RecordLimit { inner: input, since_record: Arc::clone(&since_record), max_record_bytes };
        let reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(limited);
        let mut batches = CsvBatches {
            file: file.to_string(),
            reader,
            since_record,
            record_start: 1,
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
        self.record_start = self.reader.position().line();
        let result = self.reader.read_byte_record(&mut self.record);
        self.since_record.store(0, Ordering::Relaxed);
        match result {
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
            csv::ErrorKind::Io(source) => {
                if let Some(limit) = record_too_long(&source) {
                    let line = self.record_start;
                    return ReadError::RecordTooLong { file, line, max: limit.max };
                }
                match malformed_encoding(&source) {
                    Some(encoding) => ReadError::InvalidEncoding { file, line, encoding },
                    None => ReadError::Io { file, line, source },
                }
            }
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

/// An input wrapper that fails once more than `max_record_bytes` are read without the CSV
/// reader completing a record. Because the CSV reader buffers ahead, the limit is approximate
/// by the size of that buffer.
struct RecordLimit {
    inner: ByteStream,
    since_record: Arc<AtomicU64>,
    max_record_bytes: u64,
}

/// The payload of the `io::Error` that [`RecordLimit`] returns.
#[derive(Debug)]
struct RecordTooLong {
    max: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record longer than {} bytes", self.max)
    }
}

impl std::error::Error for RecordTooLong {}

fn record_too_long(error: &io::Error) -> Option<&RecordTooLong> {
    error.get_ref().and_then(|e| e.downcast_ref::<RecordTooLong>())
}

impl Read for RecordLimit {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_record.load(Ordering::Relaxed) > self.max_record_bytes {
            let payload = RecordTooLong { max: self.max_record_bytes };
            return Err(io::Error::new(io::ErrorKind::InvalidData, payload));
        }
        let n = self.inner.read(buf)?;
        self.since_record.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn unbalanced_quote_stops_at_record_limit() {
        let mut text = String::from("AlertId,Title\nA-1,ok\nA-2,\"never closed\n");
        text.push_str(&"A-3,filler\n".repeat(100_000));
        let input: ByteStream = Box::new(Cursor::new(text.into_bytes()));
        let batches = CsvBatches::with_record_limit("t.csv", input, b',', 10, 64 * 1024).unwrap();
        let results: Vec<_> = batches.collect();
        assert_eq!(results.len(), 2);
        assert!(matches!(&results[0], Ok(rows) if rows.len() == 1));
        let error = results[1].as_ref().err().map(ToString::to_string).unwrap_or_default();
        assert_eq!(
            error,
            "t.csv:3: record longer than 65536 bytes; check the record for an unbalanced quote"
        );
    }
}
