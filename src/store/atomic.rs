//! Atomic replacement of a file: the old or the new content survives a crash, never a mix.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Prefix of the temporary files that [`write_atomic`] creates next to their target.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Replaces `path` with `bytes`: writes a temporary file in the same directory, flushes it to
/// disk, renames it over the target and flushes the directory, so the rename itself is durable.
/// The rename is atomic on POSIX file systems and on NTFS.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    let temp = temp_path(path, directory);
    let result = write_and_rename(&temp, path, bytes);
    if result.is_err() {
        // Best effort: the temporary file is garbage either way, and the caller gets the
        // original error.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_directory(directory)
}

fn temp_path(path: &Path, directory: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    directory.join(format!("{TEMP_PREFIX}{}-{name}", std::process::id()))
}

fn write_and_rename(temp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, path)
}

#[cfg(unix)]
pub(crate) fn sync_directory(directory: &Path) -> io::Result<()> {
    fs::File::open(directory)?.sync_all()
}

/// Windows offers no way to flush a directory through `std`; NTFS journals the rename.
#[cfg(not(unix))]
pub(crate) fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}

/// Removes temporary files that a crashed writer left behind. Call it only while holding the
/// store's exclusive lock, so that no live writer's file is removed.
pub fn remove_stale_temps(directory: &Path) -> io::Result<()> {
    for entry in fs::read_dir(directory)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
