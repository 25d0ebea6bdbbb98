//! The on-disk store: the catalog (with its settings), the directory snapshot, the role
//! assignments and the audit log.
//!
//! A store is a directory with these files:
//!
//! - `catalog.json`: tags, members and settings (format `tagq-catalog`);
//! - `directory.json`: the last imported directory snapshot (format `tagq-directory`),
//!   absent until the first import;
//! - `roles.json`: the store's owner and the role groups assigned to actors (format
//!   `tagq-roles`);
//! - `audit.ndjson`: one line per change (see [`audit`] for the commit protocol);
//! - `lock`: an empty file that writers lock exclusively and readers lock shared.
//!
//! Each data file is wrapped in a versioned, checksummed envelope (see [`envelope`]), and a
//! damaged or newer file is rejected with an error that names it. Each file is replaced
//! atomically, so a crash leaves the old or the new file. Writers hold the exclusive lock from
//! load to save, so two processes cannot lose each other's changes. Readers hold the shared
//! lock while they load, so they see the files of one commit.
//!
//! Every read and change goes through a [`Session`], which checks the actor's role groups
//! before it touches anything and writes the audit line of each change in the same commit.
//!
//! Re-importing the directory replaces the snapshot only. Tag members are kept by object id,
//! so a deleted user shows as orphaned and counts again when restored with the same id.
//!
//! ```no_run
//! use tagq::store::{Store, StoreError};
//!
//! let store = Store::open(&tagq::store::default_dir())?;
//! let session = store.owner_session()?;
//! session.create_tag("Finance", "Finance team")?;
//! let report = session.import_members("Finance", b"user1@contoso.test\n", false)?;
//! assert!(report.problems.is_empty());
//! # Ok::<(), StoreError>(())
//! ```

mod atomic;
pub mod audit;
pub mod envelope;
mod error;
mod session;

use std::fs::{self, File};
use std::path::{Path, PathBuf};

pub use atomic::write_atomic;
pub(crate) use atomic::{TEMP_PREFIX, sync_directory};
pub use audit::{AUDIT_FILE, AuditLog, AuditProblem};
pub use error::StoreError;
pub use session::Session;

use crate::catalog::{Catalog, RoleTable};
use crate::directory::Directory;
use crate::time::Timestamp;

/// File name of the catalog.
pub const CATALOG_FILE: &str = "catalog.json";
/// File name of the directory snapshot.
pub const DIRECTORY_FILE: &str = "directory.json";
/// File name of the role assignments.
pub const ROLES_FILE: &str = "roles.json";
const LOCK_FILE: &str = "lock";
const CATALOG_FORMAT: &str = "tagq-catalog";
const DIRECTORY_FORMAT: &str = "tagq-directory";
const ROLES_FORMAT: &str = "tagq-roles";

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

/// Returns the local account running this process as an actor, `local:NAME`, from `USER`,
/// else `LOGNAME`, else `USERNAME` (Windows), else the output of `id -un`, else
/// `local:unknown`.
pub fn local_account() -> String {
    let usable = |name: &String| {
        !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    let from_env = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|key| std::env::var(key).ok())
        .map(|name| name.trim().to_ascii_lowercase())
        .find(usable);
    let name = from_env.or_else(|| id_un().filter(usable));
    format!("local:{}", name.as_deref().unwrap_or("unknown"))
}

/// Runs `id -un`, the POSIX command that prints the effective user's name.
fn id_un() -> Option<String> {
    let output = std::process::Command::new("id").arg("-un").output().ok()?;
    let name = String::from_utf8(output.stdout).ok()?;
    output.status.success().then(|| name.trim().to_ascii_lowercase())
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

/// The catalog and the directory's file as of one commit, for readers that decode the
/// directory only when they need it.
#[derive(Clone, Debug)]
pub struct StoredSnapshot {
    /// Tags, members and settings.
    pub catalog: Catalog,
    /// The catalog's fingerprint (see [`envelope::fingerprint`]); `None` when the file does
    /// not have the layout that tagq writes.
    pub catalog_fingerprint: Option<u64>,
    /// The directory snapshot's file, not yet decoded.
    pub directory: StoredDirectory,
}

/// The directory snapshot's file as of one commit, known by the fingerprint in its header
/// and read in full only when decoded.
#[derive(Clone, Debug)]
pub struct StoredDirectory {
    path: PathBuf,
    /// False before the first import.
    present: bool,
    /// The fingerprint from the file's header; `None` when absent or of another layout.
    fingerprint: Option<u64>,
}

/// Bytes read from the start of the directory file, which cover the envelope's header.
const HEADER_BYTES: u64 = 4096;

impl StoredDirectory {
    /// Returns the fingerprint of the snapshot's JSON form: its length times 2^32 plus its
    /// CRC-32, as [`crate::index::DirectoryKey::of`] computes it from the decoded snapshot.
    /// It comes from the file's header and length alone. Returns `None` before the first
    /// import and for a file that [`StoredDirectory::decode`] has to check.
    // NOTE: the payload is not read here, so a file damaged inside its payload is reported
    // only by a command that decodes it.
    pub fn fingerprint(&self) -> Option<u64> {
        self.fingerprint
    }

    /// Reads and decodes the snapshot; an empty one before the first import.
    ///
    /// # Errors
    ///
    /// Returns [`StoreError`] for a damaged, foreign or newer file, and
    /// [`StoreError::Changed`] when another process imported a directory since the
    /// snapshot's commit.
    pub fn decode(&self) -> Result<Directory, StoreError> {
        if !self.present {
            return Ok(Directory::default());
        }
        let bytes = fs::read(&self.path).map_err(|source| io_error("read", &self.path, source))?;
        let directory = envelope::decode(DIRECTORY_FORMAT, &bytes, &self.path)?;
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        let now = envelope::header_fingerprint(DIRECTORY_FORMAT, &bytes, length);
        if self.fingerprint.is_some() && now != self.fingerprint {
            return Err(StoreError::Changed { path: self.path.clone() });
        }
        Ok(directory)
    }

    fn read(path: PathBuf) -> Result<StoredDirectory, StoreError> {
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(StoredDirectory { path, present: false, fingerprint: None });
            }
            Err(source) => return Err(io_error("open", &path, source)),
        };
        let length = file.metadata().map_err(|source| io_error("read", &path, source))?.len();
        let mut head = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, HEADER_BYTES), &mut head)
            .map_err(|source| io_error("read", &path, source))?;
        let fingerprint = envelope::header_fingerprint(DIRECTORY_FORMAT, &head, length);
        Ok(StoredDirectory { path, present: true, fingerprint })
    }
}

/// An open store.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// Opens a store, creating the directory, a catalog with the system tag and a role table
    /// owned by [`local_account`] on first use.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let now = Timestamp::from_jiff(jiff::Timestamp::now());
        Store::open_at(dir, now)
    }

    /// Opens a store like [`Store::open`], using `now` as the creation time of a new catalog.
    pub fn open_at(dir: &Path, now: Timestamp) -> Result<Store, StoreError> {
        Store::create_missing(dir, local_account, now)
    }

    /// Opens a store like [`Store::open_at`], recording `owner` as the owner of a new store.
    /// A store created before role assignments existed gets `owner` on its first open.
    pub fn open_with_owner(dir: &Path, owner: &str, now: Timestamp) -> Result<Store, StoreError> {
        Store::create_missing(dir, || owner.to_string(), now)
    }

    /// Opens a store and creates its catalog and role table when they are missing. `owner`
    /// runs only then, so opening an existing store never looks up the local account.
    fn create_missing(
        dir: &Path,
        owner: impl FnOnce() -> String,
        now: Timestamp,
    ) -> Result<Store, StoreError> {
        fs::create_dir_all(dir).map_err(|source| io_error("create", dir, source))?;
        let store = Store { dir: dir.to_path_buf() };
        let catalog_exists = store.path(CATALOG_FILE).exists();
        let roles_exist = store.path(ROLES_FILE).exists();
        if catalog_exists && roles_exist {
            return Ok(store);
        }
        let lock = store.lock()?;
        if !store.path(CATALOG_FILE).exists() {
            lock.save_catalog(&Catalog::new(now))?;
        }
        if !store.path(ROLES_FILE).exists() {
            lock.save_roles(&RoleTable::new(&owner())?)?;
        }
        Ok(store)
    }

    /// Returns the store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a session acting as `actor`, a mail address or `local:NAME`.
    pub fn session(&self, actor: &str) -> Result<Session<'_>, StoreError> {
        let actor = crate::catalog::normalize_actor(actor)?;
        Ok(Session::new(self, actor))
    }

    /// Starts a session acting as the store's owner, who has Organization Management.
    pub fn owner_session(&self) -> Result<Session<'_>, StoreError> {
        let owner = self.read_roles()?.owner().to_string();
        Ok(Session::new(self, owner))
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
    /// temporary files of crashed writers are removed and the audit log is settled. The lock
    /// is released on drop.
    pub(crate) fn lock(&self) -> Result<WriteLock<'_>, StoreError> {
        let file = self.lock_file()?;
        file.lock().map_err(|source| io_error("lock", &self.path(LOCK_FILE), source))?;
        self.locked(file)
    }

    fn locked(&self, file: File) -> Result<WriteLock<'_>, StoreError> {
        atomic::remove_stale_temps(&self.dir)
            .map_err(|source| io_error("clean", &self.dir, source))?;
        let next_seq = audit::recover(&self.dir)?;
        Ok(WriteLock { store: self, _file: file, next_seq: std::cell::Cell::new(next_seq) })
    }

    fn shared_lock(&self) -> Result<File, StoreError> {
        let file = self.lock_file()?;
        file.lock_shared().map_err(|source| io_error("lock", &self.path(LOCK_FILE), source))?;
        Ok(file)
    }

    /// Loads the catalog and the directory under the shared lock, without a role check.
    #[cfg(test)]
    pub(crate) fn read(&self) -> Result<Snapshot, StoreError> {
        let _lock = self.shared_lock()?;
        self.read_unlocked()
    }

    fn read_unlocked(&self) -> Result<Snapshot, StoreError> {
        let catalog = self.load_catalog()?;
        let directory = self.load_directory()?;
        let has_directory = directory.is_some();
        Ok(Snapshot { catalog, directory: directory.unwrap_or_default(), has_directory })
    }

    fn read_stored_unlocked(&self) -> Result<StoredSnapshot, StoreError> {
        let path = self.path(CATALOG_FILE);
        let bytes = fs::read(&path).map_err(|source| io_error("read", &path, source))?;
        let catalog = decode_catalog(&bytes, path)?;
        let catalog_fingerprint = envelope::fingerprint(CATALOG_FORMAT, &bytes);
        let directory = StoredDirectory::read(self.path(DIRECTORY_FILE))?;
        Ok(StoredSnapshot { catalog, catalog_fingerprint, directory })
    }

    fn read_roles(&self) -> Result<RoleTable, StoreError> {
        let _lock = self.shared_lock()?;
        self.load_roles()
    }

    fn load_catalog(&self) -> Result<Catalog, StoreError> {
        let path = self.path(CATALOG_FILE);
        let bytes = fs::read(&path).map_err(|source| io_error("read", &path, source))?;
        decode_catalog(&bytes, path)
    }

    fn load_directory(&self) -> Result<Option<Directory>, StoreError> {
        let path = self.path(DIRECTORY_FILE);
        let Some(bytes) = read_if_present(&path)? else { return Ok(None) };
        envelope::decode(DIRECTORY_FORMAT, &bytes, &path).map(Some)
    }

    fn load_roles(&self) -> Result<RoleTable, StoreError> {
        let path = self.path(ROLES_FILE);
        let bytes = fs::read(&path).map_err(|source| io_error("read", &path, source))?;
        envelope::decode(ROLES_FORMAT, &bytes, &path)
    }
}

/// The exclusive writer lock with the operations that need it. Load, modify and save while
/// holding one `WriteLock` so that no other writer's change is lost.
pub(crate) struct WriteLock<'a> {
    store: &'a Store,
    _file: File,
    next_seq: std::cell::Cell<u64>,
}

impl WriteLock<'_> {
    /// Loads the catalog.
    pub(crate) fn load_catalog(&self) -> Result<Catalog, StoreError> {
        self.store.load_catalog()
    }

    /// Loads the directory snapshot, or `None` before the first import.
    pub(crate) fn load_directory(&self) -> Result<Option<Directory>, StoreError> {
        self.store.load_directory()
    }

    /// Loads the role table.
    pub(crate) fn load_roles(&self) -> Result<RoleTable, StoreError> {
        self.store.load_roles()
    }

    /// Saves the catalog atomically and durably, without an audit line.
    pub(crate) fn save_catalog(&self, catalog: &Catalog) -> Result<(), StoreError> {
        self.save(CATALOG_FILE, CATALOG_FORMAT, catalog, None)
    }

    fn save_roles(&self, roles: &RoleTable) -> Result<(), StoreError> {
        self.save(ROLES_FILE, ROLES_FORMAT, roles, None)
    }

    /// Writes one data file with its audit entry: the entry first, flushed, then the file.
    fn save<T: serde::Serialize>(
        &self,
        name: &str,
        format: &str,
        value: &T,
        entry: Option<crate::catalog::AuditEntry>,
    ) -> Result<(), StoreError> {
        let path = self.store.path(name);
        let (bytes, checksum) = envelope::encode_with_checksum(format, value, &path)?;
        if let Some(mut entry) = entry {
            entry.seq = self.next_seq.get();
            let record = audit::AuditRecord::Change {
                entry: Box::new(entry),
                file: name.to_string(),
                checksum,
            };
            audit::append(&self.store.dir, &record)?;
            self.next_seq.set(self.next_seq.get() + 1);
        }
        write_atomic(&path, &bytes).map_err(|source| io_error("write", &path, source))
    }
}

fn decode_catalog(bytes: &[u8], path: PathBuf) -> Result<Catalog, StoreError> {
    let catalog: Catalog = envelope::decode(CATALOG_FORMAT, bytes, &path)?;
    catalog.validate().map_err(|reason| StoreError::Damaged { path, reason })?;
    Ok(catalog)
}

/// Reads a file, or returns `None` when it does not exist.
fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(io_error("read", path, source)),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io { action, path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests;
