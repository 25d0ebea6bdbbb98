//! Batches of NDJSON lines.

use std::io::{BufRead, BufReader};

use serde::de::IgnoredAny;

use super::encoding::{ByteStream, malformed_encoding};
use super::error::ReadError;
use super::{BATCH_BYTES, RawBody, RawItem};

/// Maximum length of one NDJSON line. Longer lines are rejected so that a file without line
/// breaks cannot exhaust memory.
pub(super) const MAX_LINE_BYTES: usize = 256 << 20;

/// Reads NDJSON in batches of lines.
///
/// Each non-blank line is checked to be one valid JSON object (a fast pass that builds no
/// values), so an invalid line stops reading at its own line number. Mappers parse the text again
/// to build records.
pub(super) struct NdjsonBatches {
    file: String,
    input: BufReader<ByteStream>,
    line: u64,
    buffer: Vec<u8>,
    batch_items: usize,
    done: bool,
    pending: Option<ReadError>,
}

impl NdjsonBatches {
    pub(super) fn new(file: &str, input: ByteStream, batch_items: usize) -> NdjsonBatches {
        NdjsonBatches {
            file: file.to_string(),
            input: BufReader::with_capacity(1 << 20, input),
            line: 0,
            buffer: Vec::new(),
            batch_items: batch_items.max(1),
            done: false,
            pending: None,
        }
    }

    /// Reads the next physical line into `buffer`, without its `\n`. Returns false at the end.
    fn read_line(&mut self) -> Result<bool, ReadError> {
        self.buffer.clear();
        self.line += 1;
        loop {
            let available = match self.input.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(self.io_error(source)),
            };
            if available.is_empty() {
                return Ok(!self.buffer.is_empty());
            }
            if let Some(end) = memchr::memchr(b'\n', available) {
                self.buffer.extend_from_slice(available.get(..end).unwrap_or_default());
                self.input.consume(end + 1);
                return Ok(true);
            }
            let consumed = available.len();
            self.buffer.extend_from_slice(available);
            self.input.consume(consumed);
            if self.buffer.len() > MAX_LINE_BYTES {
                return Err(ReadError::LineTooLong {
                    file: self.file.clone(),
                    line: self.line,
                    max: MAX_LINE_BYTES,
                });
            }
        }
    }

    fn io_error(&self, source: std::io::Error) -> ReadError {
        let (file, line) = (self.file.clone(), self.line);
        match malformed_encoding(&source) {
            Some(encoding) => ReadError::InvalidEncoding { file, line, encoding },
            None => ReadError::Io { file, line, source },
        }
    }

    fn next_item(&mut self) -> Result<Option<RawItem>, ReadError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            let text =
                std::str::from_utf8(&self.buffer).map_err(|_| ReadError::InvalidEncoding {
                    file: self.file.clone(),
                    line: self.line,
                    encoding: "UTF-8",
                })?;
            let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
            if trimmed.is_empty() {
                continue;
            }
            check_object(&self.file, self.line, trimmed)?;
            return Ok(Some(RawItem { line: self.line, body: RawBody::Json(trimmed.to_string()) }));
        }
    }
}

/// Checks that `text` is exactly one JSON object.
pub(super) fn check_object(file: &str, line: u64, text: &str) -> Result<(), ReadError> {
    if let Err(error) = serde_json::from_str::<IgnoredAny>(text) {
        return Err(ReadError::Json {
            file: file.to_string(),
            line,
            column: error.column() as u64,
            message: super::json::json_message(&error),
        });
    }
    if !text.starts_with('{') {
        return Err(ReadError::Json {
            file: file.to_string(),
            line,
            column: 1,
            message: "expected a JSON object on each line".to_string(),
        });
    }
    Ok(())
}

impl Iterator for NdjsonBatches {
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
                    bytes += self.buffer.len();
                    batch.push(item);
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(error) => {
                    // Lines read before the error are still delivered, then the error.
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
