//! Tests of the stored tag bitmaps: a session with the same directory and carriers loads them
//! and writes nothing, a membership change updates them with correct results, and a damaged
//! file is ignored and written again.

use std::fs;
use std::path::Path;

use tagq::catalog::{Catalog, LazyMembership, Membership};
use tagq::directory::Directory;
use tagq::index::tag_file::{self, TAG_FILE};
use tagq::index::{self, DirectoryKey, Index, IngestOptions, QueryRequest, SnapshotKeys};

const USERS: usize = 6;

fn address(user: usize) -> String {
    format!("user{user}@contoso.test")
}

fn directory() -> Directory {
    let mut csv = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for user in 0..USERS {
        csv.push_str(&format!(
            "00000000-0000-4000-8000-{user:012},user,{},User {user},,true,\n",
            address(user)
        ));
    }
    tagq::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0
}

fn catalog(directory: &Directory, members: &[usize]) -> Catalog {
    let temp = tempfile::tempdir().unwrap();
    let store = tagq::store::Store::open(temp.path()).unwrap();
    let session = store.owner_session().unwrap();
    session.import_directory(directory, "test directory").unwrap();
    session.create_tag("Finance", "").unwrap();
    let addresses: Vec<String> = members.iter().map(|u| address(*u)).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    if !refs.is_empty() {
        session.add_members("Finance", &refs).unwrap();
    }
    session.read().unwrap().catalog
}

/// Ingests one email per recipient user, in two segments.
fn ingest(store: &Path) {
    let lines: String = (0..USERS)
        .map(|user| {
            serde_json::json!({
                "Id": format!("mail-{user}"),
                "Timestamp": "2024-06-01T10:00:00Z",
                "SenderFromAddress": "someone@fabrikam.test",
                "Recipients": [address(user)],
            })
            .to_string()
                + "\n"
        })
        .collect();
    let input = store.with_extension("ndjson");
    fs::write(&input, lines).unwrap();
    let options = IngestOptions { segment_size: 4, ..IngestOptions::default() };
    index::ingest(store, &[input], &options, &mut |_| {}).unwrap();
}

/// Counts `recipient.tag:Finance` in a stored session and returns the count and whether the
/// session wrote the tag bitmap file.
fn count_and_save(store: &Path, directory: &Directory, catalog: &Catalog) -> (u64, bool) {
    let lookup = Membership::new(directory, catalog);
    let index = Index::open(store).unwrap();
    let session = index.stored_session(&lookup, DirectoryKey::of(directory));
    let request = QueryRequest { query: "recipient.tag:Finance".into(), ..Default::default() };
    let count = session.count(&request).unwrap().matched;
    (count, session.save_tag_bitmaps().unwrap())
}

fn stored_bitmaps(store: &Path) -> u64 {
    let bytes = fs::read(store.join("index").join(TAG_FILE)).unwrap();
    let file = tag_file::decode(&bytes).unwrap();
    file.segments.values().flat_map(|s| s.tags.values()).map(|t| t.bitmap.len()).sum()
}

#[test]
fn unchanged_catalog_loads_stored_bitmaps() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    let catalog = catalog(&directory, &[0, 5]);

    assert_eq!(count_and_save(&store, &directory, &catalog), (2, true));
    assert_eq!(stored_bitmaps(&store), 2);
    let written = fs::read(store.join("index").join(TAG_FILE)).unwrap();
    assert_eq!(count_and_save(&store, &directory, &catalog), (2, false));
    let after = fs::read(store.join("index").join(TAG_FILE)).unwrap();
    assert_eq!(after, written);
}

#[test]
fn stored_bitmap_is_used_without_rebuilding() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    let catalog = catalog(&directory, &[0, 5]);
    count_and_save(&store, &directory, &catalog);

    // Replace the stored bitmaps by empty ones: a session that loads them counts nothing,
    // which shows that it did not build the bitmaps from the postings.
    let path = store.join("index").join(TAG_FILE);
    let mut file = tag_file::decode(&fs::read(&path).unwrap()).unwrap();
    for segment in file.segments.values_mut() {
        for stored in segment.tags.values_mut() {
            stored.bitmap.clear();
        }
    }
    fs::write(&path, tag_file::encode(&file)).unwrap();
    assert_eq!(count_and_save(&store, &directory, &catalog), (0, false));
}

#[test]
fn changed_membership_updates_stored_bitmaps() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    count_and_save(&store, &directory, &catalog(&directory, &[0, 5]));

    let changed = catalog(&directory, &[1, 2, 3]);
    assert_eq!(count_and_save(&store, &directory, &changed), (3, true));
    assert_eq!(stored_bitmaps(&store), 3);
    assert_eq!(count_and_save(&store, &directory, &changed), (3, false));

    let emptied = catalog(&directory, &[]);
    assert_eq!(count_and_save(&store, &directory, &emptied), (0, true));
    assert_eq!(stored_bitmaps(&store), 0);
}

#[test]
fn changed_directory_drops_stored_users() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    count_and_save(&store, &directory, &catalog(&directory, &[0, 5]));

    // A directory without user 5: its email no longer resolves to a tagged user.
    let mut csv = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for user in 0..USERS - 1 {
        csv.push_str(&format!(
            "00000000-0000-4000-8000-{user:012},user,{},User {user},,true,\n",
            address(user)
        ));
    }
    let smaller = tagq::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0;
    assert_eq!(count_and_save(&store, &smaller, &catalog(&smaller, &[0])), (1, true));
}

#[test]
fn damaged_tag_file_ignored_and_rewritten() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    let catalog = catalog(&directory, &[0, 5]);
    count_and_save(&store, &directory, &catalog);

    let path = store.join("index").join(TAG_FILE);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    assert!(tag_file::decode(&bytes).is_err());

    assert_eq!(count_and_save(&store, &directory, &catalog), (2, true));
    assert!(tag_file::decode(&fs::read(&path).unwrap()).is_ok());
    fs::write(&path, b"garbage").unwrap();
    assert_eq!(count_and_save(&store, &directory, &catalog), (2, true));
}

#[test]
fn new_ingest_stores_bitmaps_for_new_segments() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    ingest(&store);
    let directory = directory();
    let catalog = catalog(&directory, &[0, 5]);
    count_and_save(&store, &directory, &catalog);

    // Ingesting the same emails again replaces every record with a copy in new segments.
    ingest(&store);
    assert_eq!(count_and_save(&store, &directory, &catalog), (2, true));
    assert_eq!(count_and_save(&store, &directory, &catalog), (2, false));
}

/// Creates a store with the directory of [`directory`], the tags `Finance` (`finance`) and
/// `Ops` (`ops`), and the emails of [`ingest`].
fn store_with(store: &Path, finance: &[usize], ops: &[usize]) {
    let opened = tagq::store::Store::open(store).unwrap();
    let session = opened.owner_session().unwrap();
    session.import_directory(&directory(), "test directory").unwrap();
    for (tag, members) in [("Finance", finance), ("Ops", ops)] {
        session.create_tag(tag, "").unwrap();
        let addresses: Vec<String> = members.iter().map(|u| address(*u)).collect();
        let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
        session.add_members(tag, &refs).unwrap();
    }
    ingest(store);
}

fn set_members(store: &Path, tag: &str, remove: &[usize], add: &[usize]) {
    let opened = tagq::store::Store::open(store).unwrap();
    let session = opened.owner_session().unwrap();
    let addresses = |users: &[usize]| users.iter().map(|u| address(*u)).collect::<Vec<_>>();
    let removed = addresses(remove);
    let added = addresses(add);
    if !removed.is_empty() {
        session
            .remove_members(tag, &removed.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap();
    }
    if !added.is_empty() {
        session.add_members(tag, &added.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    }
}

/// Counts `query` as `tagq query` does: a session keyed by the stored files' fingerprints
/// with a lookup that decodes the directory on demand. Returns the count and whether the
/// directory was decoded.
fn count_keyed(store: &Path, query: &str) -> (u64, bool) {
    let opened = tagq::store::Store::open(store).unwrap();
    let snapshot = opened.owner_session().unwrap().read_stored().unwrap();
    let slot = std::sync::OnceLock::new();
    let lookup = LazyMembership::new(&snapshot.catalog, &slot, || snapshot.directory.decode());
    let index = Index::open(store).unwrap();
    let users = || u32::try_from(lookup.directory().users().len()).ok();
    let keys = SnapshotKeys {
        directory: snapshot.directory.fingerprint().unwrap(),
        catalog: snapshot.catalog_fingerprint,
        users: &users,
    };
    let session = index.stored_session_keyed(&lookup, &keys);
    let request = QueryRequest { query: query.into(), ..Default::default() };
    let count = session.count(&request).unwrap().matched;
    session.save_tag_bitmaps().unwrap();
    assert!(lookup.take_error().is_none());
    (count, lookup.is_loaded())
}

#[test]
fn stored_fingerprint_equals_directory_key() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    store_with(&store, &[0], &[]);
    let opened = tagq::store::Store::open(&store).unwrap();
    let snapshot = opened.owner_session().unwrap().read_stored().unwrap();
    let fingerprint = snapshot.directory.fingerprint().unwrap();
    let decoded = snapshot.directory.decode().unwrap();
    let users = u32::try_from(decoded.users().len()).unwrap();
    assert_eq!(DirectoryKey::from_fingerprint(fingerprint, users), DirectoryKey::of(&decoded));
}

#[test]
fn keyed_session_skips_unchanged_directory() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    store_with(&store, &[0, 5], &[1]);
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (2, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (2, false));
    // A tag leaf without a stored bitmap needs the directory for its carriers.
    assert_eq!(count_keyed(&store, "recipient.tag:Ops"), (1, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Ops or recipient.tag:Finance"), (3, false));
}

#[test]
fn keyed_session_follows_member_change() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    store_with(&store, &[0, 5], &[1]);
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (2, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Ops"), (1, true));
    set_members(&store, "Finance", &[0], &[2, 3]);
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (3, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (3, false));
}

/// The stored bitmap of a tag that no query used since another tag's members changed still
/// names the old catalog, so its carriers are computed again.
#[test]
fn stale_bitmap_of_other_tag_recomputed() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    store_with(&store, &[0, 5], &[1]);
    assert_eq!(count_keyed(&store, "recipient.tag:Finance or recipient.tag:Ops"), (3, true));
    set_members(&store, "Ops", &[], &[2]);
    assert_eq!(count_keyed(&store, "recipient.tag:Finance"), (2, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Ops"), (2, true));
    assert_eq!(count_keyed(&store, "recipient.tag:Finance or recipient.tag:Ops"), (4, false));
}
