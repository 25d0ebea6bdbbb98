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
use std::io::Write;
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

/// The lines of the log split into complete lines and an unterminated tail.
struct Lines<'a> {
    complete: Vec<&'a [u8]>,
    /// Bytes after the last newline: an append that was cut off.
    torn: &'a [u8],
}

fn split_lines(bytes: &[u8]) -> Lines<'_> {
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let (body, torn) = bytes.split_at(end);
    let complete = body.split(|b| *b == b'\n').filter(|line| !line.is_empty()).collect();
    Lines { complete, torn }
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
    let lines = split_lines(&bytes);
    let mut log = AuditLog::default();
    let mut aborted = std::collections::HashSet::new();
    let mut last_change: Option<(u64, String, String)> = None;
    for (index, line) in lines.complete.iter().enumerate() {
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
/// it only while holding the exclusive lock.
// NOTE: this reads the whole log on every write to find its last line, so writes slow down
// as the log grows; reading backwards from the end would make it constant.
pub(crate) fn recover(dir: &Path) -> Result<u64, StoreError> {
    let path = path_in(dir);
    let bytes = read_bytes(&path)?;
    let lines = split_lines(&bytes);
    if !lines.torn.is_empty() {
        let keep = bytes.len() - lines.torn.len();
        truncate(&path, keep)?;
    }
    let Some(last) = lines.complete.last() else { return Ok(1) };
    let number = lines.complete.len();
    let record = decode_line(last, &path).map_err(|reason| StoreError::Damaged {
        path: path.clone(),
        reason: format!("line {number}: {reason}; the last line must be readable to add changes"),
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

fn truncate(path: &Path, length: usize) -> Result<(), StoreError> {
    let file = OpenOptions::new().write(true).open(path);
    let file = file.map_err(|source| io_error("open", path, source))?;
    let length = u64::try_from(length).unwrap_or(u64::MAX);
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
