//! Command-line tests: run the `tagq` binary on the bundled fixtures and check exit status,
//! stdout and stderr.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// A store with the fixture directory, Priority account on Ada and Grace, and Finance on the
/// Finance group (Katherine, and Edsger through the nested Payroll group).
struct Setup {
    store: TempDir,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup { store: TempDir::new().expect("temporary directory") };
        setup.ok(&["directory", "import", fixture("directory.csv").to_str().unwrap()]);
        setup.ok(&[
            "tag",
            "import",
            "Priority account",
            fixture("priority-accounts.txt").to_str().unwrap(),
        ]);
        setup.ok(&["tag", "create", "Finance", "--description", "Finance and payroll staff"]);
        setup.ok(&["tag", "import", "Finance", fixture("finance-members.txt").to_str().unwrap()]);
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

    /// Runs `tagq filter --count QUERY FILE...` and returns the printed count.
    fn count(&self, query: &str, files: &[&str]) -> u64 {
        let mut cmd = self.cmd();
        cmd.args(["filter", "--count", query]);
        for file in files {
            cmd.arg(fixture(file));
        }
        let output = cmd.output().expect("run tagq");
        let code = output.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "exit {code:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().parse().expect("a count on stdout")
    }
}

#[test]
fn recipient_priority_account_in_email_export() {
    let setup = Setup::new();
    assert_eq!(setup.count(r#"recipient.tag:"Priority account""#, &["email-events.csv"]), 2);
}

#[test]
fn any_role_includes_tagged_sender() {
    let setup = Setup::new();
    assert_eq!(setup.count(r#"tag:"Priority account""#, &["email-events.csv"]), 3);
    assert_eq!(setup.count(r#"sender.tag:"Priority account""#, &["email-events.csv"]), 1);
}

#[test]
fn nested_group_members_carry_tag() {
    let setup = Setup::new();
    assert_eq!(setup.count("tag:Finance and DeliveryAction:Delivered", &["email-events.csv"]), 1);
    assert_eq!(setup.count("recipient.tag:finance", &["email-events.csv"]), 2);
}

#[test]
fn multi_valued_threat_types_match_each_value() {
    let setup = Setup::new();
    assert_eq!(setup.count("ThreatTypes:Phish", &["email-events.csv"]), 3);
    assert_eq!(setup.count("threat_types:spam", &["email-events.csv"]), 2);
}

#[test]
fn not_tag_star_selects_untagged() {
    let setup = Setup::new();
    assert_eq!(setup.count("not tag:*", &["email-events.csv"]), 2);
}

#[test]
fn alerts_from_csv_and_graph_together() {
    let setup = Setup::new();
    let files = ["alert-evidence.csv", "graph-alerts.json"];
    assert_eq!(setup.count("tag:* and severity:(high or medium)", &files), 3);
    setup
        .cmd()
        .args(["filter", "--output", "csv", "tag:* and severity:high"])
        .arg(fixture("graph-alerts.json"))
        .assert()
        .success()
        .stdout(predicate::str::contains("da0001"));
    assert_eq!(setup.count("tag:Finance", &files), 2);
}

#[test]
fn exit_status_one_when_nothing_matches() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "tag:Finance and severity:high"])
        .arg(fixture("alert-evidence.csv"))
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn csv_output_keeps_header_and_columns() {
    let setup = Setup::new();
    let header = std::fs::read_to_string(fixture("email-events.csv")).unwrap();
    let header = header.lines().next().unwrap().to_string();
    let assert = setup
        .cmd()
        .args(["filter", r#"recipient.tag:"Priority account""#])
        .arg(fixture("email-events.csv"))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers.join(","), header);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[1][9].contains('\n'), "the multi-line subject stays one cell");
}

#[test]
fn with_tags_adds_tags_column() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "--with-tags", "--output", "ndjson", "tag:Finance"])
        .arg(fixture("email-events.csv"))
        .assert()
        .success()
        .stdout(predicate::str::contains("tagq_tags").and(predicate::str::contains("Finance")));
}

#[test]
fn ndjson_input_stays_ndjson() {
    let setup = Setup::new();
    let assert = setup
        .cmd()
        .args(["filter", "recipient.tag:\"Priority account\""])
        .arg(fixture("ti-maildata.ndjson"))
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let value: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(value["Subject"], "Password expires today");
}

#[test]
fn stdin_is_read_when_no_file() {
    let setup = Setup::new();
    let input = std::fs::read(fixture("ti-maildata.ndjson")).unwrap();
    setup
        .cmd()
        .args(["filter", "--count", "verdict:phish"])
        .write_stdin(input)
        .assert()
        .success()
        .stdout("1\n");
}

#[test]
fn parse_error_shows_offset_and_caret() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "severity:high status:new"])
        .arg(fixture("alert-evidence.csv"))
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("E001").and(predicate::str::contains("^")));
}

#[test]
fn unknown_field_suggests_name() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "sevrity:high"])
        .arg(fixture("alert-evidence.csv"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("S001").and(predicate::str::contains("severity")));
}

#[test]
fn missing_file_is_error_naming_it() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "tag:*", "no-such-export.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-export.csv"));
}

#[test]
fn system_tag_cannot_be_created() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["tag", "create", "priority ACCOUNT"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("system tag"));
}

#[test]
fn tag_list_shows_effective_users() {
    let setup = Setup::new();
    setup.cmd().args(["tag", "list", "--output", "json"]).assert().success().stdout(
        predicate::str::contains("Finance").and(predicate::str::contains("Priority account")),
    );
}

#[test]
fn json_input_without_match_prints_empty_array() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "severity:informational"])
        .arg(fixture("graph-alerts.json"))
        .assert()
        .code(1)
        .stdout("[]\n");
}

#[test]
fn query_error_as_json_for_programs() {
    let setup = Setup::new();
    let assert = setup
        .cmd()
        .args(["filter", "--output", "json", "severity:high and"])
        .arg(fixture("graph-alerts.json"))
        .assert()
        .code(2)
        .stdout("");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    let value: serde_json::Value = serde_json::from_str(stderr.trim()).expect("one JSON object");
    assert_eq!(value["error"]["code"], "E002");
    assert_eq!(value["error"]["offset"], 17);
}

#[test]
fn explain_prints_canonical_form() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["explain", "NOT Severity:(High OR Medium) AND tag:VIP"])
        .assert()
        .success()
        .stdout(predicate::str::contains("canonical: not Severity:(High or Medium) and tag:VIP"));
}

#[test]
fn tag_show_writes_filter_that_selects_tag() {
    let setup = Setup::new();
    setup.ok(&["tag", "create", r"C:\temp\"]);
    setup.ok(&["tag", "add", r"C:\temp\", "alan.turing@contoso.test"]);
    let assert = setup.cmd().args(["tag", "show", r"C:\temp\"]).assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let filter_line = stdout.lines().find(|l| l.starts_with("filter:")).expect("a filter line");
    let filter = filter_line.trim_start_matches("filter:").trim();
    assert_eq!(filter, r#"tag:"C:\\temp\\""#);
    assert_eq!(setup.count(filter, &["email-events.csv"]), 1);
}

#[test]
fn misspelt_tag_warns_with_suggestion() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["filter", "--count", "tag:Finanse"])
        .arg(fixture("email-events.csv"))
        .assert()
        .code(1)
        .stdout("0\n")
        .stderr(
            predicate::str::contains("no tag is named 'Finanse'")
                .and(predicate::str::contains("did you mean 'Finance'?")),
        );
}

#[test]
fn new_store_path_is_announced() {
    let parent = TempDir::new().expect("temporary directory");
    let store = parent.path().join("mistyped").join("store");
    let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
    cmd.env("TAGQ_STORE", &store).env_remove("TAGQ_ACTOR").args(["tag", "list"]);
    cmd.assert()
        .success()
        .stderr(predicate::str::contains("created a new store at"))
        .stderr(predicate::str::contains("check --store or TAGQ_STORE"));
    let mut again = Command::cargo_bin("tagq").expect("tagq binary");
    again.env("TAGQ_STORE", &store).env_remove("TAGQ_ACTOR").args(["tag", "list"]);
    again.assert().success().stderr(predicate::str::contains("created a new store").not());
}

#[test]
fn store_path_that_is_a_file_rejected() {
    let parent = TempDir::new().expect("temporary directory");
    let file = parent.path().join("store.txt");
    std::fs::write(&file, "not a store").unwrap();
    let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
    cmd.env("TAGQ_STORE", &file).env_remove("TAGQ_ACTOR").args(["tag", "list"]);
    cmd.assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("is a file, not a folder; give a folder with --store"));
}

#[test]
fn empty_input_warns_with_file_name() {
    let parent = TempDir::new().expect("temporary directory");
    let empty = parent.path().join("empty.csv");
    let header_only = parent.path().join("header-only.csv");
    std::fs::write(&empty, "").unwrap();
    std::fs::write(&header_only, "Timestamp,Title,Severity\n").unwrap();
    let store = parent.path().join("store");
    let run = |args: &[&str]| {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", &store).env_remove("TAGQ_ACTOR").args(args);
        cmd.arg(&empty).arg(&header_only).assert()
    };
    let expected = |name: &str| format!("{name}: no records found; check that this is the export");
    run(&["--quiet", "filter", "--count", ""])
        .code(1)
        .stdout("0\n")
        .stderr(predicate::str::contains(expected("empty.csv")))
        .stderr(predicate::str::contains(expected("header-only.csv")));
    run(&["ingest"])
        .success()
        .stderr(predicate::str::contains(expected("empty.csv")))
        .stderr(predicate::str::contains(expected("header-only.csv")))
        .stderr(predicate::str::contains("added no records"));
}
