//! `tagq generate`: deterministic output, and generated files that tagq's own import and
//! filter commands read, with match counts checked against counts computed here from the
//! generated rows and the tags' user lists.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

const USERS: &str = "2000";
const EMAILS: &str = "6000";

fn tagq(store: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
    cmd.env("TAGQ_STORE", store).env_remove("TAGQ_ACTOR");
    cmd
}

fn generate(store: &Path, out: &Path, threads: &str, extra: &[&str]) {
    tagq(store)
        .env("RAYON_NUM_THREADS", threads)
        .args(["generate", "--seed", "5", "--size", "custom", "--users", USERS])
        .args(["--emails", EMAILS, "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("tags")] {
        for entry in fs::read_dir(&sub).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.push((name, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn output_independent_of_threads() {
    let store = TempDir::new().unwrap();
    let one = TempDir::new().unwrap();
    let two = TempDir::new().unwrap();
    generate(store.path(), one.path(), "1", &[]);
    generate(store.path(), two.path(), "2", &[]);
    let first = read_all(one.path());
    let second = read_all(two.path());
    let names: Vec<&String> = first.iter().map(|(name, _)| name).collect();
    assert_eq!(names, second.iter().map(|(name, _)| name).collect::<Vec<_>>());
    for ((name, left), (_, right)) in first.iter().zip(&second) {
        assert!(left == right, "{name} differs between 1 and 2 threads");
    }
}

fn user_set(dir: &Path, tag: &str) -> HashSet<String> {
    let text = fs::read_to_string(dir.join("tags").join(format!("{tag}.users.txt"))).unwrap();
    text.lines().map(str::to_string).collect()
}

/// Counts the NDJSON rows whose `properties.<column>` is in `users`.
fn count_ndjson(path: &Path, column: &str, users: &HashSet<String>) -> u64 {
    let text = fs::read_to_string(path).unwrap();
    let mut count = 0;
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let address = row["properties"][column].as_str().unwrap();
        count += u64::from(users.contains(address));
    }
    count
}

fn import_tag(store: &Path, dir: &Path, tag: &str) {
    tagq(store).args(["tag", "create", tag]).assert().success();
    let members = dir.join("tags").join(format!("{tag}.members.txt"));
    tagq(store).args(["tag", "import", tag]).arg(members).assert().success();
}

fn filter_count(store: &Path, query: &str, file: &Path) -> u64 {
    let output = tagq(store).args(["filter", "--count", query]).arg(file).output().unwrap();
    assert!(output.status.code() == Some(0) || output.status.code() == Some(1), "{output:?}");
    String::from_utf8(output.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn filter_counts_match_ground_truth() {
    let store = TempDir::new().unwrap();
    let ndjson = TempDir::new().unwrap();
    let csv = TempDir::new().unwrap();
    generate(store.path(), ndjson.path(), "2", &[]);
    generate(store.path(), csv.path(), "2", &["--format", "csv"]);
    let directory = ndjson.path().join("directory.csv");
    tagq(store.path()).args(["directory", "import"]).arg(directory).assert().success();
    for tag in ["uniform-1k", "heavy-100", "nested-250"] {
        import_tag(store.path(), ndjson.path(), tag);
        let users = user_set(ndjson.path(), tag);
        let emails = ndjson.path().join("emails.ndjson");
        let expected = count_ndjson(&emails, "RecipientEmailAddress", &users);
        assert!(expected > 0, "{tag} matches no email");
        let query = format!("recipient.tag:\"{tag}\"");
        assert_eq!(filter_count(store.path(), &query, &emails), expected, "{tag} ndjson");
        // The CSV rows come from the same random draws as the NDJSON rows.
        let emails_csv = csv.path().join("emails.csv");
        assert_eq!(filter_count(store.path(), &query, &emails_csv), expected, "{tag} csv");
        let alerts = ndjson.path().join("alerts.ndjson");
        let expected_alerts = count_ndjson(&alerts, "AccountUpn", &users);
        let query = format!("tag:\"{tag}\"");
        assert_eq!(filter_count(store.path(), &query, &alerts), expected_alerts, "{tag} alerts");
    }
}

#[test]
fn custom_size_needs_counts() {
    let store = TempDir::new().unwrap();
    let out = TempDir::new().unwrap();
    let output = tagq(store.path())
        .args(["generate", "--size", "custom", "--users", "10", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--size custom needs --users N and --emails N"), "{stderr}");
}
