use std::path::Path;

use super::*;
use crate::catalog::{CatalogError, SYSTEM_TAG_NAME};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_780_000_000 + seconds)
}

fn new_store() -> (tempfile::TempDir, Store) {
    let temp = tempfile::tempdir().expect("temp dir");
    let store =
        Store::open_with_owner(&temp.path().join("store"), OWNER, at(0)).expect("store opens");
    (temp, store)
}

const OWNER: &str = "local:owner";

fn owner(store: &Store) -> Session<'_> {
    store.owner_session().expect("owner session").at(at(1))
}

fn directory_fixture() -> Directory {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,user1@contoso.test,User One,,,\nu2,user,user2@contoso.test,User Two,,,\n";
    crate::directory::parse(text.as_bytes(), Path::new("dir.csv")).expect("fixture loads").0
}

fn add_tag(store: &Store, name: &str) {
    owner(store).create_tag(name, "").expect("tag created");
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
    owner(&store).import_directory(&directory, "dir.csv").expect("imports directory");
    owner(&store).create_tag("Finance", "").expect("creates");
    let added = owner(&store).at(at(2)).add_members("Finance", &["user1@contoso.test"]);
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
    add_tag(&store, "Finance");
    let catalog_before = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    let audit_before = std::fs::read(store.dir().join(AUDIT_FILE)).expect("reads");
    let result = owner(&store).create_tag("finance", "");
    assert!(matches!(result, Err(StoreError::Catalog(CatalogError::DuplicateName { .. }))));
    let catalog_after = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    let audit_after = std::fs::read(store.dir().join(AUDIT_FILE)).expect("reads");
    assert_eq!(catalog_before, catalog_after);
    assert_eq!(audit_before, audit_after);
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
fn directory_reimport_keeps_members_by_id() {
    let (_temp, store) = new_store();
    let full = directory_fixture();
    owner(&store).import_directory(&full, "full.csv").expect("imports");
    owner(&store).create_tag("T", "").expect("creates");
    let members = ["user1@contoso.test", "user2@contoso.test"];
    owner(&store).add_members("T", &members).expect("adds");
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,user1@contoso.test,User One,,,\n";
    let without_u2 = crate::directory::parse(text.as_bytes(), Path::new("d.csv")).expect("loads").0;
    owner(&store).import_directory(&without_u2, "d.csv").expect("imports");
    let snapshot = store.read().expect("reads");
    let view = snapshot.catalog.view("T", &snapshot.directory).expect("view");
    assert_eq!(view.effective_users.len(), 1);
    assert_eq!(view.orphaned.len(), 1);
    owner(&store).import_directory(&full, "full.csv").expect("imports");
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
