//! Store-level tests of the index: a crash before the manifest is replaced leaves the previous
//! state, segments fill up to their size and then a new one starts, and replaced records stay
//! hidden.

use std::fs;
use std::path::{Path, PathBuf};

use tagq::catalog::{Catalog, Membership};
use tagq::directory::Directory;
use tagq::index::{self, Index, IngestOptions, QueryRequest};
use tagq::time::Timestamp;

fn write_emails(path: &Path, ids: std::ops::Range<usize>, subject: &str) {
    let lines: String = ids
        .map(|i| {
            serde_json::json!({
                "Id": format!("mail-{i}"),
                "Timestamp": format!("2024-06-01T10:{:02}:00Z", i % 60),
                "SenderFromAddress": "someone@fabrikam.test",
                "Recipients": [format!("user{i}@contoso.test")],
                "Subject": subject,
            })
            .to_string()
                + "\n"
        })
        .collect();
    fs::write(path, lines).unwrap();
}

fn count(store: &Path, query: &str) -> u64 {
    let directory = Directory::default();
    let catalog = Catalog::new(Timestamp::from_unix_seconds(0));
    let lookup = Membership::new(&directory, &catalog);
    let index = Index::open(store).unwrap();
    let request = QueryRequest { query: query.into(), ..QueryRequest::default() };
    index.session(&lookup).count(&request).unwrap().matched
}

fn ingest(store: &Path, file: &Path, segment_size: u32) -> index::IngestSummary {
    let options = IngestOptions { segment_size, ..IngestOptions::default() };
    index::ingest(store, &[file.to_path_buf()], &options, &mut |_| {}).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn crash_before_manifest_keeps_previous_state() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let first = temp.path().join("first.ndjson");
    let second = temp.path().join("second.ndjson");
    write_emails(&first, 0..5, "first");
    write_emails(&second, 3..9, "second");
    ingest(&store, &first, 4);
    let before: PathBuf = temp.path().join("before");
    copy_dir(&store.join("index"), &before);

    ingest(&store, &second, 4);
    assert_eq!(count(&store, ""), 9);
    // A crash after the new segment files were written but before the manifest was replaced
    // leaves the old manifest and old files next to the new files.
    copy_dir(&before, &store.join("index"));
    assert_eq!(count(&store, ""), 5);
    assert_eq!(count(&store, "subject:second"), 0);

    // The next ingest starts from the old state and removes the orphaned files.
    let summary = ingest(&store, &second, 4);
    assert_eq!(summary.replaced, 2);
    assert_eq!(count(&store, ""), 9);
    assert_eq!(count(&store, "subject:first"), 3);
    let files = fs::read_dir(store.join("index")).unwrap().count();
    let manifest = Index::open(&store).unwrap().manifest().clone();
    // The lock, the manifest and three files per segment: originals, index and identities.
    assert_eq!(files, 2 + 3 * manifest.segments.len());
}

#[test]
fn segment_of_one_record_starts_new_segments() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let file = temp.path().join("emails.ndjson");
    write_emails(&file, 0..5, "hello");
    ingest(&store, &file, 1);
    let manifest = Index::open(&store).unwrap().manifest().clone();
    assert_eq!(manifest.segments.len(), 5);
    assert!(manifest.segments.iter().all(|s| s.count == 1));
    assert_eq!(count(&store, "subject:hello"), 5);
}

#[test]
fn segment_size_fixed_at_creation() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let file = temp.path().join("emails.ndjson");
    write_emails(&file, 0..3, "a");
    ingest(&store, &file, 2);
    write_emails(&file, 3..6, "b");
    ingest(&store, &file, 1000);
    let manifest = Index::open(&store).unwrap().manifest().clone();
    let counts: Vec<u32> = manifest.segments.iter().map(|s| s.count).collect();
    assert_eq!(counts, [2, 2, 2]);
}

#[test]
fn replaced_records_hidden() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let file = temp.path().join("emails.ndjson");
    write_emails(&file, 0..4, "old");
    ingest(&store, &file, 3);
    write_emails(&file, 2..4, "new");
    let summary = ingest(&store, &file, 3);
    assert_eq!(summary.replaced, 2);
    assert_eq!(count(&store, ""), 4);
    assert_eq!(count(&store, "subject:old"), 2);
    assert_eq!(count(&store, "subject:new"), 2);
}

#[test]
fn zero_segment_size_rejected() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("emails.ndjson");
    write_emails(&file, 0..1, "a");
    let options = IngestOptions { segment_size: 0, ..IngestOptions::default() };
    let result = index::ingest(temp.path(), &[file], &options, &mut |_| {});
    assert!(result.is_err());
}

#[test]
fn unsorted_batch_with_repeats_across_segments() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let file = temp.path().join("emails.ndjson");
    // Newest first, as exports often are, and mail-1 again at the end in a later segment.
    let mut lines: Vec<String> = (0..6)
        .rev()
        .map(|i| {
            let time = format!("2024-06-01T10:{i:02}:00Z");
            let body = serde_json::json!({"Id": format!("mail-{i}"), "Timestamp": time,
                "Recipients": ["a@contoso.test"], "Subject": "first"});
            body.to_string()
        })
        .collect();
    lines.push(
        serde_json::json!({"Id": "mail-1", "Timestamp": "2024-06-01T11:00:00Z",
            "Recipients": ["a@contoso.test"], "Subject": "again"})
        .to_string(),
    );
    fs::write(&file, lines.join("\n") + "\n").unwrap();
    let summary = ingest(&store, &file, 4);
    assert_eq!(summary.replaced, 1);
    assert_eq!(summary.added.values().sum::<u64>(), 6);
    assert_eq!(count(&store, ""), 6);
    assert_eq!(count(&store, "subject:again"), 1);
    assert_eq!(count(&store, "subject:first"), 5);

    let directory = Directory::default();
    let catalog = Catalog::new(Timestamp::from_unix_seconds(0));
    let lookup = Membership::new(&directory, &catalog);
    let index = Index::open(&store).unwrap();
    let request = QueryRequest { query: String::new(), ..QueryRequest::default() };
    let (hits, _) = index.session(&lookup).hits(&request).unwrap();
    // Within each segment the batch's records are stored in time order.
    for pair in hits.windows(2) {
        if pair[0].segment == pair[1].segment {
            assert!(pair[0].time <= pair[1].time, "{pair:?}");
        }
    }
    // An open index holds the shared lock, which the next ingest waits for.
    drop(index);

    // Ingesting the file again replaces all six live records and adds six.
    let summary = ingest(&store, &file, 4);
    assert_eq!(summary.replaced, 7);
    assert_eq!(count(&store, ""), 6);
    assert_eq!(count(&store, "subject:again"), 1);
}

#[test]
fn pretty_json_elements_stored_as_written() {
    let temp = tempfile::tempdir().unwrap();
    let store = temp.path().join("store");
    let file = temp.path().join("alerts.json");
    // Elements spanning several lines, with a number that a compact rendering would rewrite.
    let document = "[\n  {\n    \"AlertId\": \"da1\",\n    \"Timestamp\": \"2024-06-01T10:00:00Z\",\n    \"Title\": \"First\",\n    \"Score\": 1.50\n  },\n  {\"AlertId\": \"da2\", \"Timestamp\": \"2024-06-01T11:00:00Z\", \"Title\": \"Second\"}\n]\n";
    fs::write(&file, document).unwrap();
    let summary = ingest(&store, &file, 16);
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    assert_eq!(count(&store, ""), 2);

    let dir = index::files::index_dir(&store);
    let manifest = index::files::load_manifest(&dir).unwrap().unwrap();
    let segment = &manifest.segments[0];
    let records = index::files::read_records(&dir, &segment.records_file, segment.count).unwrap();
    let bodies: Vec<String> = records
        .into_iter()
        .map(|record| match record.body {
            index::segment::StoredBody::Json(text) => text,
            other => panic!("expected a JSON body, found {other:?}"),
        })
        .collect();
    let first = "{\n    \"AlertId\": \"da1\",\n    \"Timestamp\": \"2024-06-01T10:00:00Z\",\n    \"Title\": \"First\",\n    \"Score\": 1.50\n  }";
    assert!(bodies.iter().any(|body| body == first), "{bodies:?}");
    let second =
        "{\"AlertId\": \"da2\", \"Timestamp\": \"2024-06-01T11:00:00Z\", \"Title\": \"Second\"}";
    assert!(bodies.iter().any(|body| body == second), "{bodies:?}");
}
