//! The audit log file and the commit protocol that ties it to the data files.
//!
//! `audit.ndjson` contains one envelope per line (format `tagq-audit`, with its own version and
//! checksum). A line is either a change, which names the data file it replaced and that
//! file's new checksum, or an abort marker for a change that never reached its file.
//!
//! A writer, holding the exclusive lock, first appends the change line and flushes it to
//! disk, then replaces the data file atomically. A kill between the two leaves a change line
//! whose checksum the data file does not carry. The next writer, before its own change,
//! compares the last change line with its file and appends an abort marker when they
//! differ; a reader makes the same comparison without writing. A kill in the middle of the
//! append leaves a last line without its newline: the next writer truncates it, and a reader
//! ignores it. So the log lists exactly the changes that reached the data files.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::envelope;
use super::error::StoreError;
use super::io_error;
use crate::catalog::AuditEntry;

/// File name of the audit log.
pub const AUDIT_FILE: &str = "audit.ndjson";
const AUDIT_FORMAT: &str = "tagq-audit";

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum AuditRecord {
    /// A change, written before its data file.
    Change {
        /// The change.
        entry: Box<AuditEntry>,
        /// The data file the change replaced, such as `catalog.json`.
        file: String,
        /// The checksum the data file carries after the change.
        checksum: String,
    },
    /// The change with this sequence number never reached its data file.
    Aborted {
        /// Sequence number of the aborted change.
        seq: u64,
    },
}

/// A line of the audit log that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProblem {
    /// 1-based line number.
    pub line: usize,
    /// The damage found, such as a checksum mismatch.
    pub reason: String,
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The committed changes of the audit log, oldest first, and the lines that cannot be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditLog {
    /// Changes that reached their data files.
    pub entries: Vec<AuditEntry>,
    /// Damaged lines, with their numbers. An empty list means every line was read.
    pub problems: Vec<AuditProblem>,
}

/// Returns the complete lines of the log, without empty ones. Bytes after the last newline
/// are an append that was cut off and are left out.
fn complete_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let body = bytes.get(..end).unwrap_or_default();
    body.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect()
}

/// Decodes one line. The error text describes the damage, and the caller adds the file and
/// line.
fn decode_line(line: &[u8], path: &Path) -> Result<AuditRecord, String> {
    envelope::decode::<AuditRecord>(AUDIT_FORMAT, line, path).map_err(|error| match error {
        StoreError::Damaged { reason, .. } => reason,
        other => other.to_string(),
    })
}

pub(crate) fn path_in(dir: &Path) -> PathBuf {
    dir.join(AUDIT_FILE)
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(io_error("read", path, source)),
    }
}

/// Returns the checksum a data file carries now, or `None` when it is missing or unreadable.
fn file_checksum(dir: &Path, file: &str) -> Option<String> {
    let bytes = fs::read(dir.join(file)).ok()?;
    envelope::stored_checksum(&bytes)
}

/// Reads the whole log. Call it while holding at least the shared lock.
pub(crate) fn read_log(dir: &Path) -> Result<AuditLog, StoreError> {
    let path = path_in(dir);
    let bytes = read_bytes(&path)?;
    let lines = complete_lines(&bytes);
    let mut log = AuditLog::default();
    let mut aborted = std::collections::HashSet::new();
    let mut last_change: Option<(u64, String, String)> = None;
    for (index, line) in lines.iter().enumerate() {
        match decode_line(line, &path) {
            Ok(AuditRecord::Change { entry, file, checksum }) => {
                last_change = Some((entry.seq, file, checksum));
                log.entries.push(*entry);
            }
            Ok(AuditRecord::Aborted { seq }) => {
                aborted.insert(seq);
                last_change = None;
            }
            Err(reason) => {
                log.problems.push(AuditProblem { line: index + 1, reason });
                last_change = None;
            }
        }
    }
    if let Some((seq, file, checksum)) = last_change
        && file_checksum(dir, &file).as_deref() != Some(checksum.as_str())
    {
        aborted.insert(seq);
    }
    log.entries.retain(|entry| !aborted.contains(&entry.seq));
    Ok(log)
}

/// Settles the outcome of an interrupted writer and returns the next sequence number. Call
/// it only while holding the exclusive lock. It reads the log backwards from its end, so the
/// cost does not grow with the log.
pub(crate) fn recover(dir: &Path) -> Result<u64, StoreError> {
    let path = path_in(dir);
    let tail = read_tail(&path)?;
    if tail.torn > 0 {
        truncate(&path, tail.len - tail.torn)?;
    }
    let Some((offset, last)) = tail.last else { return Ok(1) };
    let record = decode_line(&last, &path).map_err(|reason| StoreError::Damaged {
        path: path.clone(),
        reason: format!(
            "last line, at byte offset {offset}: {reason}; the last line must be readable to add changes"
        ),
    })?;
    match record {
        AuditRecord::Aborted { seq } => Ok(seq + 1),
        AuditRecord::Change { entry, file, checksum } => {
            if file_checksum(dir, &file).as_deref() != Some(checksum.as_str()) {
                append(dir, &AuditRecord::Aborted { seq: entry.seq })?;
            }
            Ok(entry.seq + 1)
        }
    }
}

/// The end of the log file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tail {
    /// The file's length in bytes.
    len: u64,
    /// Bytes after the last newline: an append that was cut off.
    torn: u64,
    /// The last non-empty complete line and its byte offset.
    last: Option<(u64, Vec<u8>)>,
}

/// The first read from the end of the log; each further read takes four times as much.
const TAIL_CHUNK: u64 = 64 * 1024;

/// Reads the log from its end until the last complete line is known. A missing file is an
/// empty log.
fn read_tail(path: &Path) -> Result<Tail, StoreError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(source) => return Err(io_error("open", path, source)),
    };
    let len = file.metadata().map_err(|source| io_error("read", path, source))?.len();
    let mut chunk = TAIL_CHUNK;
    loop {
        let start = len.saturating_sub(chunk);
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(start)).map_err(|source| io_error("read", path, source))?;
        file.read_to_end(&mut bytes).map_err(|source| io_error("read", path, source))?;
        if let Some(tail) = tail_of(&bytes, start, len) {
            return Ok(tail);
        }
        chunk = chunk.saturating_mul(4);
    }
}

/// Finds the torn tail and the last complete line in `bytes`, the part of the file from
/// `start` to its end. Returns `None` when a line may begin before `start`.
fn tail_of(bytes: &[u8], start: u64, len: u64) -> Option<Tail> {
    let whole = start == 0;
    let Some(newline) = bytes.iter().rposition(|b| *b == b'\n') else {
        let torn = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        return whole.then_some(Tail { len, torn, last: None });
    };
    let torn = u64::try_from(bytes.len() - newline - 1).unwrap_or(u64::MAX);
    let body_end = bytes[..newline].iter().rposition(|b| *b != b'\n').map(|i| i + 1);
    let Some(body_end) = body_end else {
        return whole.then_some(Tail { len, torn, last: None });
    };
    let body = &bytes[..body_end];
    let line_start = match body.iter().rposition(|b| *b == b'\n') {
        Some(i) => i + 1,
        None if whole => 0,
        None => return None,
    };
    let offset = start + u64::try_from(line_start).unwrap_or(u64::MAX);
    Some(Tail { len, torn, last: Some((offset, body[line_start..].to_vec())) })
}

fn truncate(path: &Path, length: u64) -> Result<(), StoreError> {
    let file = OpenOptions::new().write(true).open(path);
    let file = file.map_err(|source| io_error("open", path, source))?;
    file.set_len(length).map_err(|source| io_error("truncate", path, source))?;
    file.sync_all().map_err(|source| io_error("flush", path, source))
}

/// Appends one record and flushes it to disk. A new log file also gets its directory entry
/// flushed.
pub(crate) fn append(dir: &Path, record: &AuditRecord) -> Result<(), StoreError> {
    let path = path_in(dir);
    let bytes = envelope::encode(AUDIT_FORMAT, record, &path)?;
    let existed = path.exists();
    let mut file: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| io_error("open", &path, source))?;
    file.write_all(&bytes).map_err(|source| io_error("append to", &path, source))?;
    file.sync_data().map_err(|source| io_error("flush", &path, source))?;
    if !existed {
        super::atomic::sync_directory(dir).map_err(|source| io_error("flush", dir, source))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_line(tail: &Tail) -> Option<(u64, &[u8])> {
        tail.last.as_ref().map(|(offset, line)| (*offset, line.as_slice()))
    }

    #[test]
    fn tail_finds_last_line_and_torn_bytes() {
        let tail = tail_of(b"one\ntwo\nthr", 0, 11).expect("whole file");
        assert_eq!(tail.torn, 3);
        assert_eq!(last_line(&tail), Some((4, &b"two"[..])));
    }

    #[test]
    fn tail_skips_blank_lines_at_the_end() {
        let tail = tail_of(b"one\ntwo\n\n\n", 0, 10).expect("whole file");
        assert_eq!((tail.torn, last_line(&tail)), (0, Some((4, &b"two"[..]))));
    }

    #[test]
    fn tail_of_single_line_and_of_empty_log() {
        let tail = tail_of(b"only\n", 0, 5).expect("whole file");
        assert_eq!(last_line(&tail), Some((0, &b"only"[..])));
        assert_eq!(tail_of(b"", 0, 0), Some(Tail::default()));
        let torn_only = tail_of(b"cut", 0, 3).expect("whole file");
        assert_eq!((torn_only.torn, torn_only.last), (3, None));
    }

    #[test]
    fn tail_asks_for_more_when_a_line_may_start_earlier() {
        assert_eq!(tail_of(b"partial line\n", 10, 23), None);
        assert_eq!(tail_of(b"no newline", 10, 20), None);
        let tail = tail_of(b"ial\nlast\n", 10, 19).expect("a newline precedes the last line");
        assert_eq!(last_line(&tail), Some((14, &b"last"[..])));
    }

    #[test]
    fn tail_of_log_longer_than_first_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(AUDIT_FILE);
        let long = "x".repeat(usize::try_from(TAIL_CHUNK).unwrap_or(0) * 2);
        fs::write(&path, format!("first\n{long}\ntorn")).expect("writes");
        let tail = read_tail(&path).expect("reads");
        assert_eq!(tail.torn, 4);
        assert_eq!(last_line(&tail), Some((6, long.as_bytes())));
    }
}
