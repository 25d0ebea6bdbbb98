use std::path::Path;

use super::*;
use crate::catalog::{CatalogError, SYSTEM_TAG_NAME};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_780_000_000 + seconds)
}

fn new_store() -> (tempfile::TempDir, Store) {
    let temp = tempfile::tempdir().expect("temp dir");
    let store = Store::open_at(&temp.path().join("store"), at(0)).expect("store opens");
    (temp, store)
}

fn directory_fixture() -> Directory {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,user1@contoso.test,User One,,,\nu2,user,user2@contoso.test,User Two,,,\n";
    crate::directory::parse(text.as_bytes(), Path::new("dir.csv")).expect("fixture loads").0
}

fn add_tag(store: &Store, name: &str) {
    let created: Result<(), TestError> = store.update_catalog(|catalog, _| {
        catalog.create(name, "", at(1))?;
        Ok(())
    });
    created.expect("tag created");
}

#[derive(Debug)]
enum TestError {
    Store(#[expect(dead_code, reason = "shown through Debug when a test fails")] StoreError),
    Catalog(CatalogError),
}

impl From<StoreError> for TestError {
    fn from(error: StoreError) -> TestError {
        TestError::Store(error)
    }
}

impl From<CatalogError> for TestError {
    fn from(error: CatalogError) -> TestError {
        TestError::Catalog(error)
    }
}

#[test]
fn open_creates_store_with_system_tag() {
    let (_temp, store) = new_store();
    let snapshot = store.read().expect("reads");
    assert_eq!(snapshot.catalog.tags().len(), 1);
    assert_eq!(snapshot.catalog.tags().first().map(|t| t.name.as_str()), Some(SYSTEM_TAG_NAME));
    assert!(!snapshot.has_directory);
    let reopened = Store::open_at(store.dir(), at(99)).expect("reopens");
    let created = reopened.read().expect("reads").catalog.tags().first().map(|t| t.created);
    assert_eq!(created, Some(at(0)), "reopening keeps the existing catalog");
}

#[test]
fn changes_persist_across_opens() {
    let (_temp, store) = new_store();
    let directory = directory_fixture();
    store.lock().expect("lock").save_directory(&directory).expect("saves directory");
    let added: Result<_, TestError> = store.update_catalog(|catalog, directory| {
        catalog.create("Finance", "", at(1))?;
        Ok(catalog.add_members("Finance", &["user1@contoso.test"], directory, at(2))?)
    });
    assert_eq!(added.expect("adds").changed, vec!["user1@contoso.test"]);
    let snapshot = Store::open(store.dir()).expect("opens").read().expect("reads");
    assert!(snapshot.has_directory);
    assert_eq!(snapshot.directory, directory);
    let view = snapshot.catalog.view("finance", &snapshot.directory).expect("tag stored");
    assert_eq!(view.effective_users.len(), 1);
    assert_eq!(view.modified, at(2));
}

#[test]
fn failed_update_saves_nothing() {
    let (_temp, store) = new_store();
    let before = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    let result: Result<(), TestError> = store.update_catalog(|catalog, _| {
        catalog.create("Finance", "", at(1))?;
        catalog.create("finance", "", at(1))?;
        Ok(())
    });
    assert!(matches!(result, Err(TestError::Catalog(CatalogError::DuplicateName { .. }))));
    let after = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    assert_eq!(before, after);
}

fn damage(store: &Store, change: impl FnOnce(Vec<u8>) -> Vec<u8>) -> String {
    let path = store.dir().join(CATALOG_FILE);
    let bytes = std::fs::read(&path).expect("reads");
    std::fs::write(&path, change(bytes)).expect("writes");
    store.read().expect_err("damaged file rejected").to_string()
}

#[test]
fn truncated_catalog_rejected() {
    let (_temp, store) = new_store();
    let message = damage(&store, |mut bytes| {
        bytes.truncate(bytes.len() / 2);
        bytes
    });
    assert!(message.contains("catalog.json is damaged"), "{message}");
    assert!(message.contains("perhaps truncated"), "{message}");
    assert!(message.contains("restore it from a backup"), "{message}");
}

#[test]
fn flipped_byte_fails_checksum() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    let message = damage(&store, |bytes| {
        let text = String::from_utf8(bytes).expect("utf-8");
        text.replacen("Finance", "Finbnce", 1).into_bytes()
    });
    assert!(message.contains("catalog.json is damaged"), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
}

#[test]
fn empty_catalog_rejected() {
    let (_temp, store) = new_store();
    let message = damage(&store, |_| Vec::new());
    assert!(message.contains("catalog.json is damaged (the file is empty)"), "{message}");
}

#[test]
fn newer_version_rejected() {
    let (_temp, store) = new_store();
    let message = damage(&store, |bytes| {
        let text = String::from_utf8(bytes).expect("utf-8");
        text.replacen("\"version\":1", "\"version\":2", 1).into_bytes()
    });
    assert!(message.contains("format version 2"), "{message}");
    assert!(message.contains("upgrade tagq"), "{message}");
}

#[test]
fn wrong_format_rejected() {
    let (_temp, store) = new_store();
    let directory_bytes =
        envelope::encode("tagq-directory", &directory_fixture(), Path::new("x")).expect("encodes");
    let message = damage(&store, |_| directory_bytes);
    assert!(message.contains("is not a tagq-catalog file"), "{message}");
}

#[test]
fn damaged_directory_named() {
    let (_temp, store) = new_store();
    std::fs::write(store.dir().join(DIRECTORY_FILE), b"{\"format\":\"tagq-directory\"")
        .expect("writes");
    let message = store.read().expect_err("damaged").to_string();
    assert!(message.contains("directory.json is damaged"), "{message}");
}

#[test]
fn crash_before_rename_leaves_old_state() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    let stale = store.dir().join(format!("{}4242-{CATALOG_FILE}", atomic::TEMP_PREFIX));
    std::fs::write(&stale, b"{\"format\":\"tagq-cat").expect("writes partial temp file");
    let snapshot = store.read().expect("old state still reads");
    assert!(snapshot.catalog.tag("Finance").is_some());
    add_tag(&store, "Executives");
    assert!(!stale.exists(), "the next writer removes stale temporary files");
    let names: Vec<String> = std::fs::read_dir(store.dir())
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with(atomic::TEMP_PREFIX)), "{names:?}");
}

#[test]
fn readers_see_old_or_new_during_saves() {
    let (_temp, store) = new_store();
    let reader_store = store.clone();
    let reader = std::thread::spawn(move || {
        let mut seen = 0;
        for _ in 0..200 {
            let snapshot = reader_store.read().expect("every read sees a whole file");
            seen = seen.max(snapshot.catalog.tags().len());
        }
        seen
    });
    for i in 0..50 {
        add_tag(&store, &format!("T{i}"));
    }
    let seen = reader.join().expect("reader thread");
    assert!(seen <= 51);
    assert_eq!(store.read().expect("reads").catalog.tags().len(), 51);
}

#[test]
fn concurrent_writers_keep_all_changes() {
    let (_temp, store) = new_store();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    add_tag(&store, &format!("W{w}-{i}"));
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer thread");
    }
    assert_eq!(store.read().expect("reads").catalog.tags().len(), 41);
}

#[test]
fn try_lock_reports_held_lock() {
    let (_temp, store) = new_store();
    let held = store.lock().expect("first lock");
    assert!(store.try_lock().expect("try").is_none());
    drop(held);
    assert!(store.try_lock().expect("try").is_some());
}

#[test]
fn directory_reimport_keeps_members_by_id() {
    let (_temp, store) = new_store();
    let full = directory_fixture();
    store.lock().expect("lock").save_directory(&full).expect("saves");
    let added: Result<_, TestError> = store.update_catalog(|catalog, directory| {
        catalog.create("T", "", at(1))?;
        Ok(catalog.add_members(
            "T",
            &["user1@contoso.test", "user2@contoso.test"],
            directory,
            at(1),
        )?)
    });
    added.expect("adds");
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,user1@contoso.test,User One,,,\n";
    let without_u2 = crate::directory::parse(text.as_bytes(), Path::new("d.csv")).expect("loads").0;
    store.lock().expect("lock").save_directory(&without_u2).expect("saves");
    let snapshot = store.read().expect("reads");
    let view = snapshot.catalog.view("T", &snapshot.directory).expect("view");
    assert_eq!(view.effective_users.len(), 1);
    assert_eq!(view.orphaned.len(), 1);
    store.lock().expect("lock").save_directory(&full).expect("saves");
    let snapshot = store.read().expect("reads");
    let view = snapshot.catalog.view("T", &snapshot.directory).expect("view");
    assert_eq!(view.effective_users.len(), 2);
}

#[test]
fn default_dir_ends_in_tagq() {
    assert!(default_dir().ends_with("tagq"));
}

proptest::proptest! {
    #[test]
    fn decode_never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = envelope::decode::<Catalog>("tagq-catalog", &bytes, Path::new("catalog.json"));
    }

    #[test]
    fn any_single_byte_change_is_rejected_or_harmless(position in 0usize..2000, replacement in proptest::num::u8::ANY) {
        let mut catalog = Catalog::new(at(0));
        catalog.create("Finance", "Finance team", at(1)).expect("creates");
        let bytes = envelope::encode("tagq-catalog", &catalog, Path::new("c")).expect("encodes");
        let mut damaged = bytes.clone();
        let position = position % damaged.len();
        if let Some(byte) = damaged.get_mut(position) {
            *byte = replacement;
        }
        let decoded = envelope::decode::<Catalog>("tagq-catalog", &damaged, Path::new("c"));
        if let Ok(decoded) = decoded {
            proptest::prop_assert_eq!(decoded, catalog);
        }
    }
}
