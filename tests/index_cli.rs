//! Command-line tests of `tagq ingest`, `tagq query`, `tagq explain --plan`,
//! `tagq index rebuild` and `tagq index stats`: query output must equal `tagq filter` output
//! on the same fixtures, and damaged index files must be reported with their name and the
//! rebuild command.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tagq::index::sections::IndexFile;
use tempfile::TempDir;

const EMAIL_FILES: [&str; 2] = ["email-events.csv", "ti-maildata.ndjson"];
const ALERT_FILES: [&str; 2] = ["alert-evidence.csv", "graph-alerts.json"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A store with the fixture directory and tags, and every fixture ingested into an index of
/// 4-record segments.
struct Setup {
    store: TempDir,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup { store: TempDir::new().expect("temporary directory") };
        setup.ok(&["directory", "import", fixture("directory.csv").to_str().unwrap()]);
        let priority = fixture("priority-accounts.txt");
        setup.ok(&["tag", "import", "Priority account", priority.to_str().unwrap()]);
        setup.ok(&["tag", "create", "Finance"]);
        setup.ok(&["tag", "import", "Finance", fixture("finance-members.txt").to_str().unwrap()]);
        let mut ingest = setup.cmd();
        ingest.args(["ingest", "--segment-size", "4"]);
        for file in EMAIL_FILES.iter().chain(&ALERT_FILES) {
            ingest.arg(fixture(file));
        }
        ingest.assert().success().stderr(predicate::str::contains("added 7 alert(s), 8 email(s)"));
        setup
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", self.store.path()).env_remove("TAGQ_ACTOR");
        cmd
    }

    fn ok(&self, args: &[&str]) {
        self.cmd().args(args).assert().success();
    }

    fn index_dir(&self) -> PathBuf {
        self.store.path().join("index")
    }

    /// Returns the output lines of a command, sorted, and its exit status.
    fn sorted_output(&self, args: &[String]) -> (Vec<String>, Option<i32>) {
        let output = self.cmd().args(args).output().expect("run tagq");
        let mut lines: Vec<String> =
            String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect();
        lines.sort();
        (lines, output.status.code())
    }

    fn compare(&self, kind: &str, files: &[&str], query: &str) {
        let mut filter: Vec<String> =
            ["filter", "-q", "--output", "ndjson", "--with-tags", query].map(String::from).to_vec();
        filter.extend(files.iter().map(|f| fixture(f).to_string_lossy().into_owned()));
        let query_args: Vec<String> =
            ["query", "-q", "--output", "ndjson", "--with-tags", "--kind", kind, query]
                .map(String::from)
                .to_vec();
        let expected = self.sorted_output(&filter);
        let actual = self.sorted_output(&query_args);
        assert_eq!(actual, expected, "query {query}");
    }

    fn segment_files(&self, extension: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.index_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == extension))
            .collect();
        files.sort();
        files
    }
}

#[test]
fn query_output_equals_filter_output() {
    let setup = Setup::new();
    for query in [
        "recipient.tag:\"Priority account\"",
        "tag:Finance and DeliveryAction:Delivered",
        "not tag:*",
        "subject:invoice or sender.tag:Finance",
        "recipient:{ tag:Finance and not tag:\"Priority account\" }",
        "received >= 2024-06-04",
        "",
    ] {
        setup.compare("email", &EMAIL_FILES, query);
    }
    for query in ["tag:* and severity:(high or medium)", "not user.tag:Finance", "severity:high"] {
        setup.compare("alert", &ALERT_FILES, query);
    }
}

/// Queries run in separate processes keep tag bitmaps in the index folder; after a
/// membership change they must still give the `tagq filter` output.
#[test]
fn stored_tag_bitmaps_follow_membership_changes() {
    let setup = Setup::new();
    let queries = ["recipient.tag:\"Priority account\"", "not tag:*", "tag:Finance"];
    for query in queries {
        setup.compare("email", &EMAIL_FILES, query);
    }
    assert!(setup.index_dir().join("tag-bitmaps.bin").exists());
    setup.ok(&["tag", "remove", "Priority account", "ada.lovelace@contoso.test"]);
    setup.ok(&["tag", "add", "Finance", "grace.hopper@contoso.test"]);
    for query in queries {
        setup.compare("email", &EMAIL_FILES, query);
        setup.compare("alert", &ALERT_FILES, query);
    }
    std::fs::write(setup.index_dir().join("tag-bitmaps.bin"), b"damaged").unwrap();
    for query in queries {
        setup.compare("email", &EMAIL_FILES, query);
    }
}

#[test]
fn query_count_and_exit_status() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["query", "--count", "--kind", "email", "recipient.tag:\"Priority account\""])
        .assert()
        .code(0)
        .stdout("3\n");
    setup
        .cmd()
        .args(["query", "--count", "--kind", "email", "tag:Nobody"])
        .assert()
        .code(1)
        .stdout("0\n");
    setup
        .cmd()
        .args(["query", "--kind", "email", "subject:(("])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid query"));
}

#[test]
fn query_limit_and_sort() {
    let setup = Setup::new();
    let output = setup
        .cmd()
        .args([
            "query", "-q", "--kind", "email", "--sort", "-time", "--limit", "2", "-o", "ndjson", "",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("2024-06-10"), "{}", lines[0]);
}

#[test]
fn reingest_replaces_records() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["ingest", fixture("email-events.csv").to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("added 6 email(s); 6 replaced"));
    setup.cmd().args(["query", "--count", "--kind", "email", ""]).assert().stdout("8\n");
}

#[test]
fn ingest_reports_rejected_input() {
    let setup = Setup::new();
    let missing = setup.store.path().join("missing.csv");
    setup
        .cmd()
        .args(["ingest", missing.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rejected").and(predicate::str::contains("missing.csv")));
}

#[test]
fn explain_plan_names_bitmaps_and_tests() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["explain", "--plan", "--kind", "email", "tag:Finance and subject:invoice"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("bitmap: any user tag \"finance\"")
                .and(predicate::str::contains("test on candidates: field subject")),
        );
}

/// Damages every derived-structure file with `damage` and checks that the query fails with
/// the file name and the rebuild hint, and that a rebuild restores the results.
fn check_damaged_index(damage: fn(&mut Vec<u8>)) {
    let setup = Setup::new();
    for path in setup.segment_files("idx") {
        let mut bytes = std::fs::read(&path).unwrap();
        damage(&mut bytes);
        std::fs::write(&path, bytes).unwrap();
    }
    let first = setup.segment_files("idx")[0].file_name().unwrap().to_string_lossy().into_owned();
    setup.cmd().args(["query", "--count", "--kind", "email", "tag:*"]).assert().code(2).stderr(
        predicate::str::contains("damaged at byte")
            .and(predicate::str::contains(first))
            .and(predicate::str::contains("tagq index rebuild")),
    );
    setup.ok(&["index", "rebuild"]);
    setup.cmd().args(["query", "--count", "--kind", "email", ""]).assert().stdout("8\n");
}

#[test]
fn truncated_index_file_reported() {
    check_damaged_index(|bytes| bytes.truncate(bytes.len() - 1));
}

#[test]
fn flipped_byte_in_index_file_reported() {
    // Byte 30 lies in the section table, which every open reads; a section is checked only
    // when a query first needs it (see `lazy_section_damage_reported_on_use`).
    check_damaged_index(|bytes| bytes[30] ^= 0x01);
}

#[test]
fn lazy_section_damage_reported_on_use() {
    let setup = Setup::new();
    for path in setup.segment_files("idx") {
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
    // Sorting by time and a value of every field read all sections that a segment has.
    let query = "tag:* or subject:x or DeliveryAction:Delivered or received > 2020-01-01";
    let output = setup
        .cmd()
        .args(["query", "--count", "--kind", "email", "--sort", "time", query])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("damaged at byte"), "{stderr}");
    assert!(stderr.contains("tagq index rebuild"), "{stderr}");
}

#[test]
fn older_index_version_needs_rebuild() {
    let setup = Setup::new();
    for path in setup.segment_files("idx") {
        let mut bytes = std::fs::read(&path).unwrap();
        // Bytes 4 to 8 of the header hold the format version, outside the table's CRC-32.
        bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
    }
    setup.cmd().args(["query", "--count", "--kind", "email", "tag:*"]).assert().code(2).stderr(
        predicate::str::contains("format version 2")
            .and(predicate::str::contains("tagq index rebuild")),
    );
    setup.ok(&["index", "rebuild"]);
    setup.cmd().args(["query", "--count", "--kind", "email", ""]).assert().stdout("8\n");
}

/// A window that a time column's stored summary decides must not decode the column, which
/// once cost most of a cold query. Damaging the column data shows whether it is read.
#[test]
fn time_window_decoded_whole_column() {
    let setup = Setup::new();
    for path in setup.segment_files("idx") {
        let mut bytes = std::fs::read(&path).unwrap();
        let file = IndexFile::from_bytes(bytes.clone(), &path).unwrap();
        let own = "time:model:received";
        let (data, skip) = match file.section(&format!("heads:{own}")) {
            Some(_) => (own, 1),
            None => ("times", 0),
        };
        let section = file.section(data).unwrap();
        assert!(section.length > skip, "{data} of {} has no values", path.display());
        bytes[(section.offset + section.length - 1) as usize] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    }
    let window = ["query", "--count", "--kind", "email", "received >= 2000-01-01"];
    setup.cmd().args(window).assert().success().stdout("8\n");
    let sorted = ["query", "--kind", "email", "--sort", "time", ""];
    let output = setup.cmd().args(sorted).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("damaged at byte"), "{stderr}");
}

#[test]
fn empty_index_file_reported() {
    check_damaged_index(Vec::clear);
}

#[test]
fn damaged_records_file_reported() {
    let setup = Setup::new();
    for path in setup.segment_files("rec") {
        std::fs::write(&path, b"").unwrap();
    }
    setup
        .cmd()
        .args(["query", "--kind", "email", "subject:invoice"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".rec is damaged at byte 0 (the file is empty)"));
}

#[test]
fn alert_evidence_rows_kept_per_entity() {
    let setup = Setup::new();
    let original = std::fs::read_to_string(fixture("alert-evidence.csv")).unwrap();
    let mut lines = original.lines();
    let header = lines.next().unwrap();
    let row = lines.next().unwrap();
    let second_entity = row.replace("ada.lovelace", "grace.hopper");
    let path = setup.store.path().join("evidence.csv");
    std::fs::write(&path, format!("{header}\n{row}\n{second_entity}\n")).unwrap();
    for _ in 0..2 {
        setup.ok(&["ingest", path.to_str().unwrap()]);
    }
    let query = ["query", "--count", "--kind", "alert", "alert_id:fa0001"];
    setup.cmd().args(query).assert().stdout("2\n");
}

#[test]
fn query_without_index_hints_at_ingest() {
    let store = TempDir::new().expect("temporary directory");
    let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
    cmd.env("TAGQ_STORE", store.path()).env_remove("TAGQ_ACTOR").args(["query", "--count", ""]);
    cmd.assert()
        .code(1)
        .stdout("0\n")
        .stderr(predicate::str::contains("the index is empty; add records with `tagq ingest FILE`"))
        .stderr(predicate::str::contains("warning").not());
}

#[test]
fn query_count_ignores_limit() {
    let setup = Setup::new();
    let count = |extra: &[&str]| {
        let mut args = vec!["query", "-q", "--kind", "email", "--count"];
        args.extend_from_slice(extra);
        args.push("");
        let output = setup.cmd().args(&args).output().expect("run tagq");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(count(&[]), "8");
    assert_eq!(count(&["--limit", "1"]), "8");
    assert_eq!(count(&["--limit", "0"]), "8");
}

/// Re-importing a directory with as many users and groups, but another member in the
/// Finance group and two users' addresses swapped, must change `tagq query` results exactly
/// as it changes `tagq filter` output, although the stored tag bitmaps were built before.
#[test]
fn directory_reimport_changes_stored_results() {
    let setup = Setup::new();
    let queries = ["recipient.tag:\"Priority account\"", "recipient.tag:Finance", "not tag:*"];
    let counts = |setup: &Setup| -> Vec<String> {
        let count = |query: &str| {
            let args = ["query", "-q", "--kind", "email", "--count", query];
            let output = setup.cmd().args(args).output().expect("run tagq");
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        queries.iter().map(|query| count(query)).collect()
    };
    let before = counts(&setup);
    assert!(setup.index_dir().join("tag-bitmaps.bin").exists());

    let original = std::fs::read_to_string(fixture("directory.csv")).unwrap();
    let changed = original
        .replace("Ada.Lovelace@contoso.test", "SWAP")
        .replace("barbara.liskov@contoso.test", "Ada.Lovelace@contoso.test")
        .replace("SWAP", "barbara.liskov@contoso.test")
        .replace("katherine.johnson@contoso.test;payroll", "alan.turing@contoso.test;payroll");
    assert_eq!(changed.lines().count(), original.lines().count());
    let path = setup.store.path().join("changed-directory.csv");
    std::fs::write(&path, changed).unwrap();
    setup.ok(&["directory", "import", path.to_str().unwrap()]);

    let after = counts(&setup);
    for (query, (before, after)) in queries.iter().zip(before.iter().zip(&after)) {
        assert_ne!(before, after, "count of {query} after the re-import");
    }
    for query in queries {
        setup.compare("email", &EMAIL_FILES, query);
        setup.compare("alert", &ALERT_FILES, query);
    }
}

/// A query that needs the directory must fail on a damaged directory file, even where the
/// tag bitmaps of earlier queries are stored.
#[test]
fn damaged_directory_fails_query_needing_it() {
    let setup = Setup::new();
    let stored = ["query", "-q", "--kind", "email", "--count", "recipient.tag:Finance"];
    setup.ok(&stored);
    let path = setup.store.path().join("directory.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("Lovelace", "Lovelacf", 1)).unwrap();
    let needing = [
        vec!["query", "-q", "--kind", "email", "--count", "recipient.tag:\"Priority account\""],
        vec!["query", "-q", "--kind", "email", "--with-tags", "recipient.tag:Finance"],
    ];
    for args in needing {
        setup
            .cmd()
            .args(&args)
            .assert()
            .failure()
            .stdout("")
            .stderr(predicate::str::contains("directory.json is damaged"));
    }
}

fn file_bytes(files: &[PathBuf]) -> u64 {
    files.iter().map(|f| std::fs::metadata(f).unwrap().len()).sum()
}

#[test]
fn index_stats_sums_segments_and_sections() {
    let setup = Setup::new();
    setup.ok(&["ingest", fixture("email-events.csv").to_str().unwrap()]);
    let output = setup.cmd().args(["index", "stats", "--output", "json"]).output().unwrap();
    assert!(output.status.success());
    let stats: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON stats");
    // 15 records in 4-record segments, then 6 copies of records that stay replaced.
    assert_eq!(stats["segments"], 6);
    assert_eq!(stats["records"], 21);
    assert_eq!(stats["live"], 15);
    let index_bytes = file_bytes(&setup.segment_files("idx"));
    assert_eq!(stats["index_bytes"], index_bytes);
    assert_eq!(stats["records_bytes"], file_bytes(&setup.segment_files("rec")));
    assert_eq!(stats["identity_bytes"], file_bytes(&setup.segment_files("ids")));
    let sections = stats["sections"].as_object().expect("sections object");
    for kind in ["postings", "keys", "times", "sources", "fields"] {
        assert!(sections.get(kind).and_then(|v| v.as_u64()).is_some_and(|b| b > 0), "{kind}");
    }
    let section_bytes: u64 = sections.values().map(|v| v.as_u64().unwrap()).sum();
    assert!(section_bytes < index_bytes, "headers and tables take the rest");
}

#[test]
fn index_stats_table_and_empty_store() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["index", "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("live records"))
        .stdout(predicate::str::contains("bytes per record"))
        .stdout(predicate::str::contains("  postings"));
    let store = TempDir::new().expect("temporary directory");
    let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
    cmd.env("TAGQ_STORE", store.path()).args(["index", "stats"]);
    cmd.assert()
        .success()
        .stdout(predicate::str::contains("segments                      0"))
        .stderr(predicate::str::contains("the index is empty"));
}

#[test]
fn ingest_rejects_directory_as_records() {
    let setup = Setup::new();
    let directory = fixture("directory.csv");
    setup
        .cmd()
        .args(["ingest", directory.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "directory.csv:2: the columns (id, kind, address, display_name, aliases, mailbox, \
             members) match no email, alert or campaign export",
        ))
        .stderr(predicate::str::contains("added no records"));
    setup.cmd().args(["query", "--count", ""]).assert().stdout("15\n");
    setup
        .cmd()
        .args(["ingest", "--kind", "alert", directory.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains("added 10 alert(s)"));
}
