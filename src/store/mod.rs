//! The on-disk store: the catalog (with its settings) and the directory snapshot.
//!
//! A store is a directory with these files:
//!
//! - `catalog.json`: tags, members and settings (format `tagq-catalog`);
//! - `directory.json`: the last imported directory snapshot (format `tagq-directory`),
//!   absent until the first import;
//! - `lock`: an empty file that writers lock exclusively and readers lock shared.
//!
//! Each data file is wrapped in a versioned, checksummed envelope (see [`envelope`]), and a
//! damaged or newer file is rejected with an error that names it. Each file is replaced
//! atomically, so a crash leaves the old or the new file. Writers hold the exclusive lock from
//! load to save, so two processes cannot lose each other's changes. Readers hold the shared
//! lock while they load both files, so they see the catalog and the directory of one commit.
//!
//! Re-importing the directory replaces the snapshot only. Tag members are kept by object id,
//! so a deleted user shows as orphaned and counts again when restored with the same id.
//!
//! ```no_run
//! use tagq::catalog::CatalogError;
//! use tagq::store::{Store, StoreError};
//! use tagq::time::Timestamp;
//!
//! #[derive(Debug)]
//! enum Error {
//!     Store(StoreError),
//!     Catalog(CatalogError),
//! }
//! impl From<StoreError> for Error {
//!     fn from(e: StoreError) -> Error { Error::Store(e) }
//! }
//! impl From<CatalogError> for Error {
//!     fn from(e: CatalogError) -> Error { Error::Catalog(e) }
//! }
//!
//! let store = Store::open(&tagq::store::default_dir())?;
//! let now = Timestamp::from_jiff(jiff::Timestamp::now());
//! let report = store.update_catalog(|catalog, directory| -> Result<_, Error> {
//!     Ok(catalog.import_members("Finance", b"user1@contoso.test\n", directory, false, now)?)
//! });
//! # let _ = report;
//! # Ok::<(), StoreError>(())
//! ```

mod atomic;
pub mod envelope;
mod error;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

pub use atomic::write_atomic;
pub use error::StoreError;

use crate::catalog::Catalog;
use crate::directory::Directory;
use crate::time::Timestamp;

/// File name of the catalog.
pub const CATALOG_FILE: &str = "catalog.json";
/// File name of the directory snapshot.
pub const DIRECTORY_FILE: &str = "directory.json";
const LOCK_FILE: &str = "lock";
const CATALOG_FORMAT: &str = "tagq-catalog";
const DIRECTORY_FORMAT: &str = "tagq-directory";

/// Returns the default store directory: `$XDG_DATA_HOME/tagq`, else
/// `$HOME/.local/share/tagq`, else `%LOCALAPPDATA%\tagq` (Windows), else `tagq` in the
/// current directory. Relative `XDG_DATA_HOME` values are ignored, as the XDG Base Directory
/// specification requires.
pub fn default_dir() -> PathBuf {
    let absolute =
        |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(data_home) = absolute("XDG_DATA_HOME") {
        return data_home.join("tagq");
    }
    if let Some(home) = absolute("HOME") {
        return home.join(".local").join("share").join("tagq");
    }
    if let Some(local) = absolute("LOCALAPPDATA") {
        return local.join("tagq");
    }
    PathBuf::from("tagq")
}

/// The catalog and the directory as of one commit.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Tags, members and settings.
    pub catalog: Catalog,
    /// The directory snapshot; empty before the first import.
    pub directory: Directory,
    /// False until a directory has been imported.
    pub has_directory: bool,
}

/// An open store.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens a store, creating the directory and a catalog with the system tag on first use.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let now = Timestamp::from_jiff(jiff::Timestamp::now());
        Store::open_at(dir, now)
    }

    /// Opens a store like [`Store::open`], using `now` as the creation time of a new catalog.
    pub fn open_at(dir: &Path, now: Timestamp) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(|source| io_error("create", dir, source))?;
        let store = Store { dir: dir.to_path_buf() };
        let lock = store.lock()?;
        if !store.path(CATALOG_FILE).exists() {
            lock.save_catalog(&Catalog::new(now))?;
        }
        Ok(store)
    }

    /// Returns the store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn lock_file(&self) -> Result<File, StoreError> {
        let path = self.path(LOCK_FILE);
        let file = File::options().read(true).write(true).create(true).truncate(false).open(&path);
        file.map_err(|source| io_error("open", &path, source))
    }

    /// Takes the exclusive writer lock, waiting while another process holds it. Stale
    /// temporary files of crashed writers are removed. The lock is released on drop.
    pub fn lock(&self) -> Result<WriteLock<'_>, StoreError> {
        let file = self.lock_file()?;
        file.lock().map_err(|source| io_error("lock", &self.path(LOCK_FILE), source))?;
        atomic::remove_stale_temps(&self.dir)
            .map_err(|source| io_error("clean", &self.dir, source))?;
        Ok(WriteLock { store: self, _file: file })
    }

    /// Takes the exclusive writer lock if no other process holds it, so a caller can tell
    /// the user it is waiting before calling [`Store::lock`]. Returns `None` when it is held.
    pub fn try_lock(&self) -> Result<Option<WriteLock<'_>>, StoreError> {
        let file = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(io_error("lock", &self.path(LOCK_FILE), source));
            }
        }
        atomic::remove_stale_temps(&self.dir)
            .map_err(|source| io_error("clean", &self.dir, source))?;
        Ok(Some(WriteLock { store: self, _file: file }))
    }

    /// Loads the catalog and the directory under the shared lock.
    pub fn read(&self) -> Result<Snapshot, StoreError> {
        let file = self.lock_file()?;
        file.lock_shared().map_err(|source| io_error("lock", &self.path(LOCK_FILE), source))?;
        let catalog = self.load_catalog()?;
        let directory = self.load_directory()?;
        let has_directory = directory.is_some();
        Ok(Snapshot { catalog, directory: directory.unwrap_or_default(), has_directory })
    }

    /// Loads the catalog, modifies it with `change` and saves it if it changed, all under
    /// the exclusive lock. Returns what `change` returns; on error nothing is saved.
    pub fn update_catalog<T, E>(
        &self,
        change: impl FnOnce(&mut Catalog, &Directory) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let lock = self.lock()?;
        let mut catalog = lock.load_catalog()?;
        let directory = lock.load_directory()?.unwrap_or_default();
        let before = catalog.clone();
        let value = change(&mut catalog, &directory)?;
        if catalog != before {
            lock.save_catalog(&catalog)?;
        }
        Ok(value)
    }

    fn load_catalog(&self) -> Result<Catalog, StoreError> {
        let path = self.path(CATALOG_FILE);
        let bytes = fs::read(&path).map_err(|source| io_error("read", &path, source))?;
        let catalog: Catalog = envelope::decode(CATALOG_FORMAT, &bytes, &path)?;
        catalog.validate().map_err(|reason| StoreError::Damaged { path, reason })?;
        Ok(catalog)
    }

    fn load_directory(&self) -> Result<Option<Directory>, StoreError> {
        let path = self.path(DIRECTORY_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error("read", &path, source)),
        };
        envelope::decode(DIRECTORY_FORMAT, &bytes, &path).map(Some)
    }
}

/// The exclusive writer lock with the operations that need it. Load, modify and save while
/// holding one `WriteLock` so that no other writer's change is lost.
pub struct WriteLock<'a> {
    store: &'a Store,
    _file: File,
}

impl WriteLock<'_> {
    /// Loads the catalog.
    pub fn load_catalog(&self) -> Result<Catalog, StoreError> {
        self.store.load_catalog()
    }

    /// Loads the directory snapshot, or `None` before the first import.
    pub fn load_directory(&self) -> Result<Option<Directory>, StoreError> {
        self.store.load_directory()
    }

    /// Saves the catalog atomically and durably.
    pub fn save_catalog(&self, catalog: &Catalog) -> Result<(), StoreError> {
        self.save(CATALOG_FILE, CATALOG_FORMAT, catalog)
    }

    /// Replaces the directory snapshot atomically and durably.
    pub fn save_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        self.save(DIRECTORY_FILE, DIRECTORY_FORMAT, directory)
    }

    fn save<T: serde::Serialize>(
        &self,
        name: &str,
        format: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let path = self.store.path(name);
        let bytes = envelope::encode(format, value, &path)?;
        write_atomic(&path, &bytes).map_err(|source| io_error("write", &path, source))
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io { action, path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests;
