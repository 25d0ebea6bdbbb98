use std::path::Path;

use super::*;
use crate::catalog::{CatalogError, RoleGroup, SYSTEM_TAG_NAME};

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

#[test]
fn denied_change_writes_nothing() {
    let (_temp, store) = new_store();
    owner(&store).assign_role("reader@contoso.test", RoleGroup::GlobalReader).expect("assigns");
    let files = |store: &Store| {
        [CATALOG_FILE, ROLES_FILE, AUDIT_FILE].map(|f| std::fs::read(store.dir().join(f)).ok())
    };
    let before = files(&store);
    let reader = store.session("reader@contoso.test").expect("session");
    let denied = reader.create_tag("Finance", "");
    assert!(matches!(denied, Err(StoreError::Catalog(CatalogError::PermissionDenied { .. }))));
    let denied = reader.assign_role("reader@contoso.test", RoleGroup::OrganizationManagement);
    assert!(matches!(denied, Err(StoreError::Catalog(CatalogError::PermissionDenied { .. }))));
    assert!(reader.read().is_ok(), "Global Reader reads tags");
    assert_eq!(before, files(&store));
}

#[test]
fn unknown_actor_cannot_read() {
    let (_temp, store) = new_store();
    let stranger = store.session("stranger@contoso.test").expect("session");
    let denied = stranger.read().expect_err("denied").to_string();
    assert!(denied.contains("may not read tags"), "{denied}");
    assert!(denied.contains("Security Reader"), "{denied}");
}

#[test]
fn audit_lists_every_change_in_order() {
    let (_temp, store) = new_store();
    owner(&store).import_directory(&directory_fixture(), "dir.csv").expect("imports");
    owner(&store).create_tag("Finance", "").expect("creates");
    owner(&store).set_description("Finance", "money").expect("describes");
    owner(&store).add_members("Finance", &["user1@contoso.test"]).expect("adds");
    owner(&store).remove_members("Finance", &["user1@contoso.test"]).expect("removes");
    owner(&store).import_members("Finance", b"user2@contoso.test\n", false).expect("imports");
    owner(&store).set_setting("limits.custom_tags", "600").expect("sets");
    owner(&store).assign_role("op@contoso.test", RoleGroup::SecurityOperator).expect("assigns");
    owner(&store).remove_role("op@contoso.test", None).expect("removes role");
    owner(&store).delete_tag("Finance").expect("deletes");
    let log = owner(&store).audit().expect("reads log");
    assert!(log.problems.is_empty(), "{:?}", log.problems);
    let operations: Vec<&str> = log.entries.iter().map(|e| e.operation.as_str()).collect();
    let expected = [
        "directory_imported",
        "tag_created",
        "tag_described",
        "members_added",
        "members_removed",
        "members_imported",
        "setting_changed",
        "role_assigned",
        "role_removed",
        "tag_deleted",
    ];
    assert_eq!(operations, expected);
    let seqs: Vec<u64> = log.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<u64>>());
    let described = log.entries.get(2).expect("third entry");
    assert_eq!(described.before, serde_json::json!({"description": ""}));
    assert_eq!(described.after, serde_json::json!({"description": "money"}));
    assert!(log.entries.iter().all(|e| e.actor == OWNER));
}

#[test]
fn unchanged_operation_not_audited() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    owner(&store).set_description("Finance", "").expect("no change");
    owner(&store).set_setting("limits.custom_tags", "500").expect("no change");
    assert_eq!(owner(&store).audit().expect("reads").entries.len(), 1);
}

/// Appends a change line whose checksum no data file carries, as a writer killed between
/// the audit append and the data file's rename leaves it.
fn append_interrupted_change(store: &Store, seq: u64) {
    let entry = crate::catalog::AuditEntry {
        seq,
        time: at(5),
        actor: OWNER.into(),
        operation: crate::catalog::AuditOperation::TagCreated,
        target: "Lost".into(),
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    };
    let record = audit::AuditRecord::Change {
        entry: Box::new(entry),
        file: CATALOG_FILE.into(),
        checksum: "crc32:00000000".into(),
    };
    audit::append(store.dir(), &record).expect("appends");
}

#[test]
fn interrupted_change_not_listed() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    append_interrupted_change(&store, 2);
    let log = owner(&store).audit().expect("reads");
    let targets: Vec<&str> = log.entries.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["Finance"], "a reader hides the change that never reached its file");
    add_tag(&store, "Executives");
    let log = owner(&store).audit().expect("reads");
    let listed: Vec<(u64, &str)> = log.entries.iter().map(|e| (e.seq, e.target.as_str())).collect();
    assert_eq!(listed, [(1, "Finance"), (3, "Executives")]);
    let text = std::fs::read_to_string(store.dir().join(AUDIT_FILE)).expect("reads");
    assert!(text.contains("\"record\":\"aborted\",\"seq\":2"), "{text}");
}

#[test]
fn torn_audit_tail_truncated() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    let path = store.dir().join(AUDIT_FILE);
    let mut bytes = std::fs::read(&path).expect("reads");
    let whole = bytes.len();
    bytes.extend_from_slice(b"{\"format\":\"tagq-au");
    std::fs::write(&path, &bytes).expect("writes");
    let log = owner(&store).audit().expect("reader ignores the torn tail");
    assert_eq!(log.entries.len(), 1);
    assert!(log.problems.is_empty());
    add_tag(&store, "Executives");
    let log = owner(&store).audit().expect("reads");
    assert_eq!(log.entries.len(), 2);
    let text = std::fs::read(&path).expect("reads");
    assert!(!text.windows(18).any(|w| w == b"{\"format\":\"tagq-au\""), "tail removed");
    assert!(text.len() > whole);
}

#[test]
fn damaged_audit_line_reported_with_number() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    add_tag(&store, "Executives");
    add_tag(&store, "Legal");
    let path = store.dir().join(AUDIT_FILE);
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(&path, text.replacen("Executives", "Executivez", 1)).expect("writes");
    let log = owner(&store).audit().expect("reads");
    assert_eq!(log.entries.len(), 2);
    assert_eq!(log.problems.len(), 1);
    let problem = log.problems.first().expect("one problem");
    assert_eq!(problem.line, 2);
    assert!(problem.to_string().contains("checksum mismatch"), "{problem}");
}

#[test]
fn damaged_roles_file_rejected() {
    let (_temp, store) = new_store();
    let path = store.dir().join(ROLES_FILE);
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(&path, text.replacen("local:owner", "local:ownex", 1)).expect("writes");
    let message = store.owner_session().expect_err("damaged").to_string();
    assert!(message.contains("roles.json is damaged"), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
}

#[test]
fn owner_recorded_at_creation() {
    let (_temp, store) = new_store();
    let reopened = Store::open_with_owner(store.dir(), "local:someone", at(9)).expect("opens");
    assert_eq!(reopened.owner_session().expect("session").actor(), OWNER);
}

#[test]
fn damaged_last_audit_line_blocks_changes() {
    let (_temp, store) = new_store();
    add_tag(&store, "Finance");
    let path = store.dir().join(AUDIT_FILE);
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(&path, text.replacen("Finance", "Finanze", 1)).expect("writes");
    let catalog_before = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    let message = owner(&store).create_tag("Legal", "").expect_err("rejected").to_string();
    assert!(
        message.contains("audit.ndjson is damaged (last line, at byte offset 0: checksum mismatch"),
        "{message}"
    );
    let catalog_after = std::fs::read(store.dir().join(CATALOG_FILE)).expect("reads");
    assert_eq!(catalog_before, catalog_after);
}

#[test]
fn fingerprint_is_payload_length_and_crc() {
    let path = Path::new("directory.json");
    let directory = directory_fixture();
    let bytes = envelope::encode(DIRECTORY_FORMAT, &directory, path).expect("encodes");
    let payload = serde_json::to_vec(&directory).expect("serialises");
    let expected = ((payload.len() as u64) << 32) | u64::from(crc32fast::hash(&payload));
    assert_eq!(envelope::fingerprint(DIRECTORY_FORMAT, &bytes), Some(expected));
    assert_eq!(envelope::fingerprint(CATALOG_FORMAT, &bytes), None, "another format");
}

#[test]
fn header_fingerprint_equals_fingerprint() {
    let path = Path::new("directory.json");
    let bytes = envelope::encode(DIRECTORY_FORMAT, &directory_fixture(), path).expect("encodes");
    let length = bytes.len() as u64;
    let full = envelope::fingerprint(DIRECTORY_FORMAT, &bytes);
    assert!(full.is_some());
    assert_eq!(envelope::header_fingerprint(DIRECTORY_FORMAT, &bytes[..100], length), full);
    assert_eq!(envelope::header_fingerprint(CATALOG_FORMAT, &bytes, length), None);
    assert_eq!(envelope::header_fingerprint(DIRECTORY_FORMAT, &bytes[..20], length), None);
    let text = String::from_utf8(bytes).expect("JSON text");
    let upper = text.replacen("\"checksum\":\"crc32:", "\"checksum\":\"CRC32:", 1);
    assert_eq!(envelope::header_fingerprint(DIRECTORY_FORMAT, upper.as_bytes(), length), None);
}

#[test]
fn stored_directory_replaced_before_decode() {
    let (_temp, store) = new_store();
    owner(&store).import_directory(&directory_fixture(), "dir.csv").expect("imports");
    let stored = owner(&store).read_stored().expect("reads");
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu9,user,user9@contoso.test,User Nine,,,\n";
    let other = crate::directory::parse(text.as_bytes(), Path::new("dir.csv")).expect("loads").0;
    owner(&store).import_directory(&other, "dir.csv").expect("imports");
    let result = stored.directory.decode();
    assert!(matches!(result, Err(StoreError::Changed { .. })), "{result:?}");
    let again = owner(&store).read_stored().expect("reads");
    assert_eq!(again.directory.decode().expect("decodes"), other);
}

#[test]
fn fingerprint_rejects_what_decode_checks() {
    let path = Path::new("directory.json");
    let bytes = envelope::encode(DIRECTORY_FORMAT, &directory_fixture(), path).expect("encodes");
    let text = String::from_utf8(bytes).expect("JSON text");
    let edited = text.replacen("User One", "User Uno", 1);
    assert_eq!(envelope::fingerprint(DIRECTORY_FORMAT, edited.as_bytes()), None, "checksum");
    let newer = text.replacen("\"version\":1", "\"version\":2", 1);
    assert_eq!(envelope::fingerprint(DIRECTORY_FORMAT, newer.as_bytes()), None, "version");
    let spaced = text.replacen("{\"format\"", "{ \"format\"", 1);
    assert!(envelope::decode::<Directory>(DIRECTORY_FORMAT, spaced.as_bytes(), path).is_ok());
    assert!(envelope::fingerprint(DIRECTORY_FORMAT, spaced.as_bytes()).is_some(), "header space");
    let extra = text.replacen("{\"format\"", "{\"note\":1,\"format\"", 1);
    assert_eq!(envelope::fingerprint(DIRECTORY_FORMAT, extra.as_bytes()), None, "extra member");
    let unterminated = text.trim_end().trim_end_matches('}');
    assert_eq!(envelope::fingerprint(DIRECTORY_FORMAT, unterminated.as_bytes()), None, "truncated");
}

#[test]
fn stored_snapshot_matches_read() {
    let (_temp, store) = new_store();
    let directory = directory_fixture();
    owner(&store).import_directory(&directory, "dir.csv").expect("imports");
    let stored = owner(&store).read_stored().expect("reads");
    let read = owner(&store).read().expect("reads");
    assert_eq!(stored.catalog, read.catalog);
    assert_eq!(stored.directory.decode().expect("decodes"), read.directory);
    assert!(stored.directory.fingerprint().is_some());
    assert!(stored.catalog_fingerprint.is_some());
}

#[test]
fn stored_snapshot_before_import() {
    let (_temp, store) = new_store();
    let stored = owner(&store).read_stored().expect("reads");
    assert_eq!(stored.directory.fingerprint(), None);
    assert_eq!(stored.directory.decode().expect("decodes"), Directory::default());
}
