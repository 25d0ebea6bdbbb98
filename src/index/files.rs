//! Files of the index folder: locking, the manifest, segment files and their publication.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::codec::DecodeError;
use super::error::{IndexError, io_error};
use super::manifest::{MANIFEST_FILE, MANIFEST_FORMAT, Manifest};
use super::sections::{self, IndexFile};
use super::segment::{self, SegmentIndex, StoredRecord};
use crate::store::{StoreError, envelope, write_atomic};

/// Name of the index folder inside the store directory.
pub const INDEX_DIR: &str = "index";
const LOCK_FILE: &str = "lock";

/// Returns the index folder of a store directory.
pub fn index_dir(store: &Path) -> PathBuf {
    store.join(INDEX_DIR)
}

/// Opens the lock file of the index folder, creating the folder.
fn lock_file(dir: &Path) -> Result<File, IndexError> {
    fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    let path = dir.join(LOCK_FILE);
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error("open", &path, e))
}

/// Takes the exclusive writer lock of the index folder; released when the file is dropped.
pub fn lock_exclusive(dir: &Path) -> Result<File, IndexError> {
    let file = lock_file(dir)?;
    file.lock().map_err(|e| io_error("lock", &dir.join(LOCK_FILE), e))?;
    Ok(file)
}

/// Takes the shared reader lock of the index folder; released when the file is dropped.
pub fn lock_shared(dir: &Path) -> Result<File, IndexError> {
    let file = lock_file(dir)?;
    file.lock_shared().map_err(|e| io_error("lock", &dir.join(LOCK_FILE), e))?;
    Ok(file)
}

/// Loads the manifest, or `None` when nothing was ingested yet.
pub fn load_manifest(dir: &Path) -> Result<Option<Manifest>, IndexError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("read", &path, e)),
    };
    let manifest: Manifest = envelope::decode(MANIFEST_FORMAT, &bytes, &path)?;
    if manifest.segment_size == 0 {
        let reason = "segment size 0".to_string();
        return Err(StoreError::Damaged { path, reason }.into());
    }
    Ok(Some(manifest))
}

/// Converts a decoding problem of the file at `path` into an index error.
pub(crate) fn damaged(path: &Path, error: DecodeError) -> IndexError {
    match error.newer_version {
        Some(found) => IndexError::NewerVersion {
            path: path.to_path_buf(),
            found,
            supported: super::codec::VERSION,
        },
        None => IndexError::Damaged {
            path: path.to_path_buf(),
            offset: error.offset,
            reason: error.reason,
        },
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, IndexError> {
    fs::read(path).map_err(|e| io_error("read", path, e))
}

/// Reads all the derived structures of a segment.
pub fn read_index(dir: &Path, name: &str, count: u32) -> Result<SegmentIndex, IndexError> {
    IndexFile::open(&dir.join(name), count)?.load()
}

/// Returns the name of the identity file that belongs to a derived-structures file.
pub fn identity_file(index_file: &str) -> String {
    let stem = index_file.strip_suffix(".idx").unwrap_or(index_file);
    format!("{stem}.ids")
}

/// Reads the identity hash of every record of a segment, by record id.
pub fn read_identities(dir: &Path, index_file: &str, count: u32) -> Result<Vec<u128>, IndexError> {
    let path = dir.join(identity_file(index_file));
    sections::decode_identities(&read_file(&path)?, count).map_err(|e| damaged(&path, e))
}

/// Reads the originals of a segment.
pub fn read_records(dir: &Path, name: &str, count: u32) -> Result<Vec<StoredRecord>, IndexError> {
    let path = dir.join(name);
    let to_error = |e: DecodeError| match damaged(&path, e) {
        IndexError::Damaged { path, offset, reason } => {
            IndexError::DamagedOriginals { path, offset, reason }
        }
        other => other,
    };
    let records = segment::decode_records(&read_file(&path)?).map_err(to_error)?;
    if records.len() != count as usize {
        let reason = format!("{} records, the manifest says {count}", records.len());
        let offset = super::codec::HEADER_LEN as u64;
        return Err(IndexError::DamagedOriginals { path, offset, reason });
    }
    Ok(records)
}

/// Writes one new file durably.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), IndexError> {
    let path = dir.join(name);
    write_atomic(&path, bytes).map_err(|e| io_error("write", &path, e))
}

/// Publishes a manifest atomically, then removes segment files that no manifest names any
/// more. Call it while holding the exclusive lock, after all new files are written.
pub fn publish(dir: &Path, manifest: &Manifest) -> Result<(), IndexError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = envelope::encode(MANIFEST_FORMAT, manifest, &path)?;
    write_atomic(&path, &bytes).map_err(|e| io_error("write", &path, e))?;
    remove_unreferenced(dir, manifest);
    Ok(())
}

/// Removes segment files of earlier states. Best effort: a file left behind wastes space
/// but changes no result, and the next publication tries again.
fn remove_unreferenced(dir: &Path, manifest: &Manifest) {
    let keep: HashSet<String> = manifest
        .segments
        .iter()
        .flat_map(|s| [s.records_file.clone(), s.index_file.clone(), identity_file(&s.index_file)])
        .collect();
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let segment_file = [".rec", ".idx", ".ids"].iter().any(|e| name.ends_with(e));
        let stale_temp = name.starts_with(".tmp-");
        if (segment_file && !keep.contains(&name)) || stale_temp {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Returns the file names of a segment written in a generation.
pub fn segment_names(segment: usize, generation: u64) -> (String, String) {
    let stem = format!("seg-{segment:08}-g{generation:010}");
    (format!("{stem}.rec"), format!("{stem}.idx"))
}
