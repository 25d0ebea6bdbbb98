//! Batches of CSV rows.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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
    /// The quoting state of every byte read so far.
    quotes: Arc<Mutex<QuoteScan>>,
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
        let quotes = Arc::new(Mutex::new(QuoteScan::new(delimiter)));
        let limited = RecordLimit {
            inner: input,
            since_record: Arc::clone(&since_record),
            max_record_bytes,
            quotes: Arc::clone(&quotes),
        };
        let reader = ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(limited);
        let mut batches = CsvBatches {
            file: file.to_string(),
            reader,
            since_record,
            quotes,
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
            Ok(true) => self.check_closed_quotes().map(|()| true),
            Ok(false) => Ok(false),
            Err(error) => Err(self.convert_error(error)),
        }
    }

    /// Rejects the record just read when it contains a quoted field that the input never closes.
    /// The CSV parser ends such a field at the end of the input, which would silently turn
    /// every later row into the text of one cell.
    fn check_closed_quotes(&self) -> Result<(), ReadError> {
        let Some(open_at) = self.quotes.lock().unwrap_or_else(PoisonError::into_inner).unclosed()
        else {
            return Ok(());
        };
        let start = self.record.position().map_or(0, csv::Position::byte);
        if open_at < start || open_at >= self.reader.position().byte() {
            return Ok(());
        }
        Err(ReadError::Csv {
            file: self.file.clone(),
            line: self.record_line(),
            message: format!(
                "the quote opened at byte {open_at} is never closed; close it or remove it"
            ),
        })
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
    quotes: Arc<Mutex<QuoteScan>>,
}

/// The quoting position of a CSV byte, by the rules of the CSV parser: a quote
/// opens a quoted field only as a field's first byte, and a doubled quote inside it is text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QuoteState {
    /// At the first byte of a field.
    FieldStart,
    /// Inside a field that did not begin with a quote.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: it closes the field unless another follows.
    QuoteInQuoted,
}

/// A tracker of the quoting of a CSV stream as it is read, so that a quoted field still open
/// at the end of the input can be reported.
#[derive(Debug)]
struct QuoteScan {
    delimiter: u8,
    state: QuoteState,
    /// Bytes scanned so far.
    offset: u64,
    /// The byte offset of the quote that opened the current quoted field.
    open_at: u64,
    /// Whether the input has ended.
    ended: bool,
}

impl QuoteScan {
    fn new(delimiter: u8) -> QuoteScan {
        QuoteScan { delimiter, state: QuoteState::FieldStart, offset: 0, open_at: 0, ended: false }
    }

    /// Advances the state over `bytes`, the next bytes of the input.
    /// Bytes that cannot change the state (text inside a field) are skipped with `memchr`.
    fn scan(&mut self, mut bytes: &[u8]) {
        loop {
            let skip = match self.state {
                QuoteState::Quoted => memchr::memchr(b'"', bytes),
                QuoteState::Unquoted => memchr::memchr3(self.delimiter, b'\n', b'\r', bytes),
                QuoteState::FieldStart | QuoteState::QuoteInQuoted => Some(0),
            };
            let skipped = skip.unwrap_or(bytes.len());
            self.offset += skipped as u64;
            let Some((&byte, rest)) = bytes.get(skipped..).and_then(<[u8]>::split_first) else {
                return;
            };
            self.state = self.next_state(byte);
            self.offset += 1;
            bytes = rest;
        }
    }

    fn next_state(&mut self, byte: u8) -> QuoteState {
        let ends_field = byte == self.delimiter || byte == b'\n' || byte == b'\r';
        match self.state {
            QuoteState::FieldStart if byte == b'"' => {
                self.open_at = self.offset;
                QuoteState::Quoted
            }
            QuoteState::Quoted if byte == b'"' => QuoteState::QuoteInQuoted,
            QuoteState::Quoted => QuoteState::Quoted,
            QuoteState::QuoteInQuoted if byte == b'"' => QuoteState::Quoted,
            _ if ends_field => QuoteState::FieldStart,
            _ => QuoteState::Unquoted,
        }
    }

    /// Returns the offset of the opening quote when the input ended inside a quoted field.
    fn unclosed(&self) -> Option<u64> {
        (self.ended && self.state == QuoteState::Quoted).then_some(self.open_at)
    }
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
        let mut quotes = self.quotes.lock().unwrap_or_else(PoisonError::into_inner);
        match buf.get(..n) {
            Some(bytes) if n > 0 => quotes.scan(bytes),
            _ => quotes.ended = true,
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn read_all(text: &str) -> Vec<Result<Vec<RawItem>, ReadError>> {
        let input: ByteStream = Box::new(Cursor::new(text.as_bytes().to_vec()));
        match CsvBatches::new("t.csv", input, b',', 10) {
            Ok(batches) => batches.collect(),
            Err(error) => vec![Err(error)],
        }
    }

    #[test]
    fn unclosed_quote_at_end_rejected() {
        let results = read_all("AlertId,Severity,Desc\nA-1,high,\"unterminated\nA-2,low,x\n");
        let error = results.last().and_then(|r| r.as_ref().err()).map(ToString::to_string);
        let expected = "the quote opened at byte 31 is never closed; close it or remove it";
        assert!(error.as_deref().is_some_and(|e| e.contains(expected)), "{error:?}");
        assert!(error.as_deref().is_some_and(|e| e.starts_with("t.csv:2")), "{error:?}");
    }

    #[test]
    fn closed_quotes_and_inner_quotes_accepted() {
        let text = "Id,Subject\nr1,\"said \"\"hi\"\"\"\nr2,5\" screen\nr3,\"two\nlines\"";
        let results = read_all(text);
        let rows: usize = results.iter().map(|r| r.as_ref().map_or(0, Vec::len)).sum();
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(rows, 3);
    }

    #[test]
    fn quote_scan_follows_csv_rules() {
        let mut scan = QuoteScan::new(b',');
        scan.scan(b"a,\"b\"\"c\",d\n");
        scan.ended = true;
        assert_eq!(scan.unclosed(), None);
        let mut open = QuoteScan::new(b';');
        open.scan(b"x;\"y;z\n");
        open.ended = true;
        assert_eq!(open.unclosed(), Some(2));
    }

    #[test]
    fn quote_scan_same_in_any_chunks() {
        let text = b"a,\"b\"\"c\",d\r\nx,5\" y,\"open\nstill\",z\n\"end";
        let mut whole = QuoteScan::new(b',');
        whole.scan(text);
        for size in 1..text.len() {
            let mut chunked = QuoteScan::new(b',');
            text.chunks(size).for_each(|chunk| chunked.scan(chunk));
            assert_eq!((chunked.state, chunked.offset), (whole.state, whole.offset), "{size}");
            assert_eq!(chunked.open_at, whole.open_at, "{size}");
        }
        assert_eq!(whole.state, QuoteState::Quoted);
        assert_eq!(whole.open_at, 34);
    }

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
