//! The records file of a segment being built, written to disk as records arrive.

use std::fs::{self, File};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::codec::{Encoder, HEADER_LEN};
use super::error::{IndexError, io_error};
use super::segment::{RECORDS_MAGIC, StoredRecord, encode_record};
use crate::store::{TEMP_PREFIX, sync_directory, write_atomic};

/// Bytes of the record count that starts the payload of a records file.
const COUNT_LEN: usize = 8;

/// Size in bytes of the temporary file's write buffer.
const WRITE_BUFFER: usize = 1 << 20;

/// Writes the originals of a segment to a temporary file in the index folder as they are
/// pushed, so that a segment's originals are held in memory only when they must be reordered.
/// [`RecordsSpool::finish`] writes the final file; dropping the spool removes the temporary
/// file unless it became the final file.
///
/// The file is the one [`super::segment::RecordsWriter`] encodes for the same records.
pub struct RecordsSpool {
    dir: PathBuf,
    name: String,
    temp: PathBuf,
    file: Option<BufWriter<File>>,
    /// The encoding of the record being pushed, reused for every record.
    scratch: Encoder,
    /// CRC-32 of the records written so far.
    checksum: crc32fast::Hasher,
    /// Offset of each record from the first record's start.
    starts: Vec<u64>,
    /// Bytes of records written.
    written: u64,
    /// True once the temporary file has its final name.
    renamed: bool,
}

impl RecordsSpool {
    /// Creates the temporary file of the records file `name` in the index folder `dir`.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Io`] when the file cannot be created or written.
    pub fn create(dir: &Path, name: &str) -> Result<RecordsSpool, IndexError> {
        let temp = dir.join(format!("{TEMP_PREFIX}{}-{name}", std::process::id()));
        let file = File::create(&temp).map_err(|e| io_error("create", &temp, e))?;
        let mut spool = RecordsSpool {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            temp,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            scratch: Encoder::default(),
            checksum: crc32fast::Hasher::new(),
            starts: Vec::new(),
            written: 0,
            renamed: false,
        };
        // The header and the record count are written by `finish`, once they are known.
        spool.write(&[0; HEADER_LEN + COUNT_LEN])?;
        Ok(spool)
    }

    /// Appends a record.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Io`] when the temporary file cannot be written.
    pub fn push(&mut self, record: &StoredRecord) -> Result<(), IndexError> {
        self.scratch.clear_payload();
        encode_record(record, &mut self.scratch);
        let bytes = self.scratch.payload_slice(0, self.scratch.payload_len());
        self.checksum.update(bytes);
        self.starts.push(self.written);
        self.written += bytes.len() as u64;
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        file.write_all(bytes).map_err(|e| io_error("write", &self.temp, e))
    }

    /// Returns the number of records pushed.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Writes the records file under its final name, durably. With `order`, the file contains
    /// the records in that order of the positions they were pushed at; `order` must name each
    /// position once.
    ///
    /// # Errors
    ///
    /// Returns [`IndexError::Io`] when a file cannot be written, read or renamed.
    pub fn finish(mut self, order: Option<&[u32]>) -> Result<(), IndexError> {
        let Some(file) = self.file.take() else { return Ok(()) };
        let file = file.into_inner().map_err(|e| io_error("write", &self.temp, e.into_error()))?;
        let path = self.dir.join(&self.name);
        if let Some(order) = order {
            drop(file);
            let bytes = self.sorted(order)?;
            return write_atomic(&path, &bytes).map_err(|e| io_error("write", &path, e));
        }
        self.complete(file).map_err(|e| io_error("write", &self.temp, e))?;
        fs::rename(&self.temp, &path).map_err(|e| io_error("rename", &self.temp, e))?;
        self.renamed = true;
        sync_directory(&self.dir).map_err(|e| io_error("flush", &self.dir, e))
    }

    /// Writes the header and the record count in the place reserved for them, and flushes
    /// the file to disk.
    fn complete(&self, mut file: File) -> std::io::Result<()> {
        let count = (self.len() as u64).to_le_bytes();
        let mut checksum = crc32fast::Hasher::new();
        checksum.update(&count);
        checksum.combine(&self.checksum);
        let length = COUNT_LEN as u64 + self.written;
        let header = Encoder::header(RECORDS_MAGIC, length, checksum.finalize());
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header)?;
        file.write_all(&count)?;
        file.sync_all()
    }

    /// Returns the file bytes with the records in `order`, read back from the temporary file.
    fn sorted(&self, order: &[u32]) -> Result<Vec<u8>, IndexError> {
        let bytes = fs::read(&self.temp).map_err(|e| io_error("read", &self.temp, e))?;
        let records = bytes.get(HEADER_LEN + COUNT_LEN..).unwrap_or_default();
        let end = records.len() as u64;
        let mut sorted = Encoder::default();
        sorted.len(order.len());
        for position in order {
            let position = *position as usize;
            let start = self.starts.get(position).copied().unwrap_or(end);
            let next = self.starts.get(position + 1).copied().unwrap_or(end);
            sorted.bytes(records.get(start as usize..next as usize).unwrap_or_default());
        }
        Ok(sorted.finish(RECORDS_MAGIC))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IndexError> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        file.write_all(bytes).map_err(|e| io_error("write", &self.temp, e))
    }
}

impl Drop for RecordsSpool {
    fn drop(&mut self) {
        if !self.renamed {
            // Best effort: a temporary file left behind is removed by the next publication.
            self.file = None;
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::segment::{StoredBody, decode_records, encode_records};

    fn records() -> Vec<StoredRecord> {
        vec![
            StoredRecord { source: 0, line: 1, body: StoredBody::Json("{\"a\":1}".into()) },
            StoredRecord {
                source: 1,
                line: 2,
                body: StoredBody::Csv(vec!["x".into(), String::new(), "z".into()]),
            },
            StoredRecord { source: 0, line: 3, body: StoredBody::Json("{}".into()) },
        ]
    }

    fn spool(dir: &Path, records: &[StoredRecord]) -> RecordsSpool {
        let mut spool = RecordsSpool::create(dir, "seg.rec").unwrap();
        for record in records {
            spool.push(record).unwrap();
        }
        spool
    }

    fn file_names(dir: &Path) -> Vec<String> {
        let names = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name());
        let mut names: Vec<String> = names.map(|n| n.to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn spooled_file_equals_encoded_records() {
        let dir = tempfile::tempdir().unwrap();
        spool(dir.path(), &records()).finish(None).unwrap();
        let bytes = fs::read(dir.path().join("seg.rec")).unwrap();
        assert_eq!(bytes, encode_records(&records()));
        assert_eq!(file_names(dir.path()), ["seg.rec"]);
    }

    #[test]
    fn spooled_file_written_in_given_order() {
        let dir = tempfile::tempdir().unwrap();
        spool(dir.path(), &records()).finish(Some(&[2, 0, 1])).unwrap();
        let bytes = fs::read(dir.path().join("seg.rec")).unwrap();
        let all = records();
        let expected = [all[2].clone(), all[0].clone(), all[1].clone()];
        assert_eq!(decode_records(&bytes).unwrap(), expected);
        assert_eq!(bytes, encode_records(&expected));
        assert_eq!(file_names(dir.path()), ["seg.rec"]);
    }

    #[test]
    fn empty_spool_decodes() {
        let dir = tempfile::tempdir().unwrap();
        spool(dir.path(), &[]).finish(None).unwrap();
        let bytes = fs::read(dir.path().join("seg.rec")).unwrap();
        assert_eq!(decode_records(&bytes).unwrap(), []);
    }

    #[test]
    fn unfinished_spool_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        drop(spool(dir.path(), &records()));
        assert!(file_names(dir.path()).is_empty());
    }
}
