use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::records::map::{self, MapContext, Mapped};
use crate::records::read::{self, ReadOptions};
use crate::records::{Record, RecordKind};

fn generate_into(config: &Config, dir: &Path) -> Summary {
    generate(config, dir, &mut |_| {}).unwrap()
}

fn tiny(format: RowFormat, envelope: bool) -> Config {
    let mut config = Config::new(42, 2_000, 20_000);
    config.layout = Layout { format, envelope };
    config
}

/// Reads and maps every record of a file with tagq's own readers.
fn read_records(path: &Path) -> Vec<Record> {
    let mut reader = read::open(path, &ReadOptions::default()).unwrap();
    let context =
        MapContext { file: Arc::from(reader.name()), format: reader.format(), kind: None };
    let mut records = Vec::new();
    for batch in reader.by_ref() {
        for item in batch.unwrap() {
            match map::map_item(&item, &context).unwrap() {
                Mapped::Record(record) => records.push(*record),
                Mapped::Skipped { table } => panic!("row of table {table} skipped"),
            }
        }
    }
    assert!(reader.warnings().is_empty(), "{:?}", reader.warnings());
    records
}

fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("tags")] {
        for entry in fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                files.push((path.display().to_string(), fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn same_seed_same_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    generate_into(&tiny(RowFormat::Ndjson, true), first.path());
    generate_into(&tiny(RowFormat::Ndjson, true), second.path());
    let a = all_files(first.path());
    let b = all_files(second.path());
    assert_eq!(a.len(), b.len());
    for ((name, left), (_, right)) in a.iter().zip(&b) {
        assert!(left == right, "{name} differs");
    }
}

#[test]
fn other_seed_other_emails() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    generate_into(&tiny(RowFormat::Ndjson, true), first.path());
    let mut config = tiny(RowFormat::Ndjson, true);
    config.seed = 43;
    generate_into(&config, second.path());
    let a = fs::read(first.path().join("emails.ndjson")).unwrap();
    let b = fs::read(second.path().join("emails.ndjson")).unwrap();
    assert_ne!(a, b);
}

#[test]
fn email_rows_count_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate_into(&tiny(RowFormat::Csv, false), dir.path());
    assert_eq!(summary.email_rows, 20_000);
    let records = read_records(&dir.path().join("emails.csv"));
    assert_eq!(records.len(), 20_000);
    assert!(records.iter().all(|r| r.kind == RecordKind::Email));
}

#[test]
fn every_shape_reads_back() {
    for (format, envelope) in
        [(RowFormat::Ndjson, true), (RowFormat::Ndjson, false), (RowFormat::Csv, false)]
    {
        let dir = tempfile::tempdir().unwrap();
        let mut config = tiny(format, envelope);
        config.emails = 4_000;
        let summary = generate_into(&config, dir.path());
        assert!(summary.alert_rows > 0);
        let extension = format.extension();
        let emails = read_records(&dir.path().join(format!("emails.{extension}")));
        assert_eq!(emails.len() as u64, summary.email_rows, "{format:?} {envelope}");
        let alerts = read_records(&dir.path().join(format!("alerts.{extension}")));
        assert_eq!(alerts.len() as u64, summary.alert_rows, "{format:?} {envelope}");
        assert!(alerts.iter().all(|r| r.kind == RecordKind::Alert));
        assert!(alerts.iter().all(|r| !r.users.is_empty()));
        let campaigns = read_records(&dir.path().join("campaigns.csv"));
        assert_eq!(campaigns.len() as u64, summary.campaigns);
        assert!(campaigns.iter().all(|r| r.kind == RecordKind::Campaign));
    }
}

#[test]
fn directory_and_tags_load() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate_into(&tiny(RowFormat::Ndjson, true), dir.path());
    let (directory, report) = crate::directory::load(&dir.path().join("directory.csv")).unwrap();
    assert_eq!(directory.users().len() as u64, summary.users);
    assert_eq!(directory.groups().len() as u64, summary.groups);
    assert!(report.notices.is_empty(), "{:?}", report.notices);
    // 2,000 users allow tags of 10 to 1,000 users, in three flavours each.
    assert_eq!(summary.tags.len(), 4 * 3);
    for tag in &summary.tags {
        let users = fs::read_to_string(dir.path().join(&tag.users_file)).unwrap();
        assert_eq!(users.lines().count() as u64, tag.users, "{}", tag.name);
        let members = fs::read_to_string(dir.path().join(&tag.members_file)).unwrap();
        let distinct: HashSet<&str> = members.lines().collect();
        assert_eq!(distinct.len(), members.lines().count(), "{} repeats members", tag.name);
    }
}

#[test]
fn member_files_import_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate_into(&tiny(RowFormat::Ndjson, true), dir.path());
    let (directory, _) = crate::directory::load(&dir.path().join("directory.csv")).unwrap();
    let now = crate::time::Timestamp::from_unix_seconds(1_790_812_800);
    let mut catalog = crate::catalog::Catalog::new(now);
    for tag in &summary.tags {
        catalog.create(&tag.name, "", now).unwrap();
        let members = fs::read(dir.path().join(&tag.members_file)).unwrap();
        let report = catalog.import_members(&tag.name, &members, &directory, false, now).unwrap();
        assert!(report.problems.is_empty(), "{}: {:?}", tag.name, report.problems);
        assert!(report.notes.is_empty(), "{}: {:?}", tag.name, report.notes);
        assert!(report.applied, "{}", tag.name);
        assert_eq!(
            report.added.len(),
            fs::read_to_string(dir.path().join(&tag.members_file)).unwrap().lines().count()
        );
    }
}

#[test]
fn nested_tag_expands_to_its_users() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate_into(&tiny(RowFormat::Ndjson, true), dir.path());
    let (directory, _) = crate::directory::load(&dir.path().join("directory.csv")).unwrap();
    let tag = summary.tags.iter().find(|t| t.name == "nested-100").unwrap();
    let members = fs::read_to_string(dir.path().join(&tag.members_file)).unwrap();
    let mut expanded = HashSet::new();
    for address in members.lines() {
        let group = directory
            .groups()
            .iter()
            .position(|g| g.display_address().eq_ignore_ascii_case(address))
            .unwrap();
        for user in directory.expand_group(group) {
            expanded.insert(directory.user(user).unwrap().display_address().to_string());
        }
    }
    let expected: HashSet<String> = fs::read_to_string(dir.path().join(&tag.users_file))
        .unwrap()
        .lines()
        .map(|l| l.to_ascii_lowercase())
        .collect();
    let expanded: HashSet<String> = expanded.iter().map(|a| a.to_ascii_lowercase()).collect();
    assert_eq!(expanded, expected);
}

#[test]
fn email_shape_follows_the_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(7, 5_000, 100_000);
    config.layout = Layout { format: RowFormat::Csv, envelope: false };
    let summary = generate_into(&config, dir.path());
    let rows_per_message = summary.email_rows as f64 / summary.messages as f64;
    // 1.6 recipients on ordinary messages plus about 2.55 rows per message from blasts.
    assert!(rows_per_message > 2.0, "{rows_per_message}");
    assert!(rows_per_message < 6.5, "{rows_per_message}");
    let alert_share = summary.alerts as f64 / summary.messages as f64;
    assert!(alert_share > 0.003, "{alert_share}");
    assert!(alert_share < 0.007, "{alert_share}");
    let text = fs::read_to_string(dir.path().join("emails.csv")).unwrap();
    let mut inbound = 0;
    let mut previous = String::new();
    for line in text.lines().skip(1) {
        let timestamp = &line[..24];
        assert!(timestamp >= previous.as_str(), "{timestamp} after {previous}");
        previous = timestamp.to_string();
        if line.contains(",Inbound,") {
            inbound += 1;
        }
    }
    let inbound_share = f64::from(inbound) / summary.email_rows as f64;
    assert!(inbound_share > 0.9, "{inbound_share}");
}

#[test]
fn zero_users_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let error = generate(&Config::new(1, 0, 10), dir.path(), &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("invalid user count 0"), "{error}");
}

#[test]
fn no_emails_still_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate_into(&Config::new(1, 15, 0), dir.path());
    assert_eq!(summary.email_rows, 0);
    assert!(dir.path().join("emails.ndjson").exists());
    assert!(summary.tags.is_empty());
}

/// A writer into a shared buffer, readable after the generator dropped its end.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn email_writer_gets_file_bytes() {
    let files = tempfile::tempdir().unwrap();
    let streamed = tempfile::tempdir().unwrap();
    let config = tiny(RowFormat::Ndjson, true);
    let written = generate_into(&config, files.path());
    let buffer = SharedBuffer::default();
    let sink = EmailWriter { name: "buffer".into(), writer: Box::new(buffer.clone()) };
    let summary = generate_with_emails(&config, streamed.path(), sink, &mut |_| {}).unwrap();

    let expected = fs::read(files.path().join("emails.ndjson")).unwrap();
    assert!(*buffer.0.lock().unwrap() == expected, "streamed email rows differ from the file");
    assert_eq!(summary.email_bytes, written.email_bytes);
    assert!(!streamed.path().join("emails.ndjson").exists());
    let alerts = |dir: &Path| fs::read(dir.join("alerts.ndjson")).unwrap();
    assert!(alerts(files.path()) == alerts(streamed.path()), "alert files differ");
    assert!(streamed.path().join("manifest.json").exists());
}

/// A writer that fails every write.
struct BrokenPipe;

impl Write for BrokenPipe {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn email_writer_error_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let sink = EmailWriter { name: "the test pipe".into(), writer: Box::new(BrokenPipe) };
    let error = generate_with_emails(&tiny(RowFormat::Ndjson, true), dir.path(), sink, &mut |_| {})
        .unwrap_err();
    assert!(error.to_string().contains("the test pipe"), "{error}");
}
