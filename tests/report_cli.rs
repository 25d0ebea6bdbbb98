//! `tagq report` end to end: small exports ingested into a temporary store, each report's
//! answer checked cell by cell through its JSON output, plus the CSV, chart, time zone and
//! error behaviour. With `TAGQ_SAMPLES` set, each report also runs over the real sample
//! exports.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};
use tempfile::TempDir;

const DIRECTORY: &str = "id,kind,address,display_name,aliases,mailbox,members
u-1,user,ann@contoso.test,Ann,,true,
u-2,user,bob@contoso.test,Bob,,true,
u-3,user,carol@contoso.test,Carol,,true,
u-4,user,dan@contoso.test,Dan,,true,
";

const ALERTS: &str = "Timestamp,AlertId,Title,Severity,Status,EntityType,EvidenceRole,AccountUpn
2024-06-01T08:00:00Z,al-1,Phish delivered,High,New,User,Impacted,ann@contoso.test
2024-06-01T08:00:00Z,al-1,Phish delivered,High,New,User,Impacted,bob@contoso.test
2024-06-01T09:00:00Z,al-2,Forwarding rule,High,New,User,Impacted,ann@contoso.test
2024-06-01T10:00:00Z,al-3,Malware found,Medium,Resolved,User,Impacted,carol@contoso.test
2024-06-02T10:00:00Z,al-4,Mass download,Low,InProgress,User,Impacted,dan@contoso.test
";

const EMAILS: &str = r#"Timestamp,NetworkMessageId,SenderFromAddress,RecipientEmailAddress,Subject,EmailDirection,DeliveryAction,DeliveryLocation,ThreatTypes,DetectionMethods
2024-06-01T08:00:00Z,m-1,evil@fabrikam.test,ann@contoso.test,Invoice,Inbound,Blocked,Quarantine,Phish,"{""Phish"":[""URL detonation""]}"
2024-06-01T08:00:00Z,m-1,evil@fabrikam.test,bob@contoso.test,Invoice,Inbound,Delivered,Inbox/folder,Phish,"{""Phish"":[""URL detonation""]}"
2024-06-01T09:00:00Z,m-2,bulk@fabrikam.test,carol@contoso.test,Offer,Inbound,Junked,Junk folder,"Phish,Spam","{""Phish"":[""Impersonation user""],""Spam"":[""Bulk""]}"
2024-06-02T10:00:00Z,m-3,mal@fabrikam.test,dan@contoso.test,Scan,Inbound,Blocked,Quarantine,Malware,"{""Malware"":[""File detonation""]}"
2024-06-02T11:00:00Z,m-4,ann@contoso.test,partner@ext.test,Report,Outbound,Delivered,Failed,,
2024-06-02T12:00:00Z,m-5,news@ext.test,ann@contoso.test,News,Inbound,Delivered,Inbox/folder,,
"#;

/// A temporary store with the directory, the tags "Priority account" (Ann, Dan) and Finance
/// (Ann, Bob), and the given exports ingested.
struct Store {
    dir: TempDir,
}

impl Store {
    fn new(exports: &[(&str, &str)]) -> Store {
        let store = Store { dir: TempDir::new().expect("temporary directory") };
        let directory = store.write("directory.csv", DIRECTORY);
        store.ok(&["directory", "import", path_text(&directory)]);
        store.ok(&["tag", "add", "Priority account", "ann@contoso.test", "dan@contoso.test"]);
        store.ok(&["tag", "create", "Finance"]);
        store.ok(&["tag", "add", "Finance", "ann@contoso.test", "bob@contoso.test"]);
        let files: Vec<PathBuf> =
            exports.iter().map(|(name, text)| store.write(name, text)).collect();
        let mut ingest = vec!["ingest"];
        ingest.extend(files.iter().map(|f| path_text(f)));
        store.ok(&ingest);
        store
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write fixture");
        path
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", self.dir.path().join("store"));
        cmd
    }

    fn ok(&self, args: &[&str]) {
        self.cmd().args(args).assert().success();
    }

    /// Runs a report with JSON output and returns its rows as arrays of cells.
    fn rows(&self, args: &[&str]) -> Vec<Value> {
        let report = self.json(args);
        let columns: Vec<String> = report["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["name"].as_str().expect("column name").to_string())
            .collect();
        report["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| Value::Array(columns.iter().map(|c| row[c].clone()).collect()))
            .collect()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output =
            self.cmd().arg("report").args(args).args(["--output", "json"]).output().unwrap();
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "report failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("JSON output")
    }

    fn stdout(&self, args: &[&str]) -> String {
        let output = self.cmd().arg("report").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary path")
}

fn standard() -> Store {
    Store::new(&[("alerts.csv", ALERTS), ("emails.csv", EMAILS)])
}

#[test]
fn alerts_report_cells() {
    let store = standard();
    let report = store.json(&["alerts"]);
    assert_eq!(report["time_zone"], "UTC");
    let columns: Vec<&str> =
        report["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(columns, ["day", "severity", "status", "alerts", "tagged users", "first", "last"]);
    let rows = store.rows(&["alerts"]);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        json!([
            "2024-06-01",
            "High",
            "New",
            2,
            2,
            "2024-06-01T08:00:00+00:00",
            "2024-06-01T09:00:00+00:00"
        ])
    );
    assert_eq!(
        rows[1],
        json!([
            "2024-06-01",
            "Medium",
            "Resolved",
            1,
            0,
            "2024-06-01T10:00:00+00:00",
            "2024-06-01T10:00:00+00:00"
        ])
    );
    assert_eq!(
        rows[2],
        json!([
            "2024-06-02",
            "Low",
            "InProgress",
            1,
            1,
            "2024-06-02T10:00:00+00:00",
            "2024-06-02T10:00:00+00:00"
        ])
    );
}

#[test]
fn alerts_report_filtered_by_tag() {
    let store = standard();
    let rows = store.rows(&["alerts", r#"tag:"Priority account""#]);
    assert_eq!(rows.len(), 2);
    // Only the evidence rows of Ann match, so Bob is not counted for al-1.
    assert_eq!(rows[0][0], "2024-06-01");
    assert_eq!(rows[0][3], 2);
    assert_eq!(rows[0][4], 1);
    assert_eq!(rows[1][0], "2024-06-02");
    assert_eq!(rows[1][3], 1);
    assert_eq!(rows[1][4], 1);
}

#[test]
fn threat_protection_report_cells() {
    let store = standard();
    let rows = store.rows(&["threat-protection"]);
    assert_eq!(
        rows,
        vec![
            json!(["2024-06-01", "Phish", "Impersonation user", "Junked", 1]),
            json!(["2024-06-01", "Phish", "URL detonation", "Blocked", 1]),
            json!(["2024-06-01", "Phish", "URL detonation", "Delivered", 1]),
            json!(["2024-06-01", "Spam", "Bulk", "Junked", 1]),
            json!(["2024-06-02", "Malware", "File detonation", "Blocked", 1]),
        ]
    );
}

#[test]
fn threat_protection_by_tag_cells() {
    let store = standard();
    let rows = store.rows(&["threat-protection", "--by-tag"]);
    assert_eq!(
        rows,
        vec![
            json!(["2024-06-01", "Phish", "Impersonation user", "Junked", null, 1]),
            json!(["2024-06-01", "Phish", "URL detonation", "Blocked", "Finance", 1]),
            json!(["2024-06-01", "Phish", "URL detonation", "Blocked", "Priority account", 1]),
            json!(["2024-06-01", "Phish", "URL detonation", "Delivered", "Finance", 1]),
            json!(["2024-06-01", "Spam", "Bulk", "Junked", null, 1]),
            json!(["2024-06-02", "Malware", "File detonation", "Blocked", "Priority account", 1]),
        ]
    );
}

#[test]
fn priority_issues_report_cells() {
    let store = standard();
    let rows = store.rows(&["priority-issues"]);
    assert_eq!(
        rows,
        vec![
            json!(["2024-06-01", "ann@contoso.test", "recipient", "quarantined", 1]),
            json!(["2024-06-02", "ann@contoso.test", "sender", "failed", 1]),
            json!(["2024-06-02", "dan@contoso.test", "recipient", "quarantined", 1]),
        ]
    );
}

#[test]
fn index_and_input_files_agree() {
    let store = standard();
    let files = [store.dir.path().join("alerts.csv"), store.dir.path().join("emails.csv")];
    for report in ["alerts", "threat-protection", "priority-issues"] {
        let from_index = store.json(&[report]);
        let mut args = vec![report, "--input"];
        args.extend(files.iter().map(|f| path_text(f)));
        let from_files = store.json(&args);
        assert_eq!(from_index, from_files, "{report}");
    }
}

#[test]
fn window_limits_records() {
    let store = standard();
    let rows = store.rows(&["alerts", "--since", "2024-06-01T09:00:00Z", "--until", "2024-06-01"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][3], 1);
    assert_eq!(rows[0][5], "2024-06-01T09:00:00+00:00");
    assert_eq!(rows[1][1], "Medium");
    let none = store.rows(&["alerts", "--since", "2024-06-03"]);
    assert!(none.is_empty());
}

#[test]
fn limit_and_offset_page_rows() {
    let store = standard();
    let rows = store.rows(&["threat-protection", "--offset", "1", "--limit", "2"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][3], "Blocked");
    assert_eq!(rows[1][3], "Delivered");
}

#[test]
fn no_rows_exits_one() {
    let store = standard();
    store
        .cmd()
        .args(["report", "alerts", "severity:informational"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("time zone: UTC"));
}

#[test]
fn text_table_names_time_zone() {
    let store = standard();
    let text = store.stdout(&["priority-issues", "--tz", "Europe/Berlin"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Email issues for priority accounts (time zone: Europe/Berlin)");
    assert_eq!(lines[1], "day         user              role       issue        emails");
    assert_eq!(lines[2], "2024-06-01  ann@contoso.test  recipient  quarantined       1");
    assert_eq!(lines.len(), 5);
}

#[test]
fn clock_change_days_follow_time_zone() {
    let store = Store::new(&[(
        "clock.csv",
        "Timestamp,AlertId,Title,Severity,Status,EntityType,EvidenceRole,AccountUpn
2024-03-30T23:30:00Z,cc-1,Before the change,High,New,User,Impacted,ann@contoso.test
2024-03-31T00:30:00Z,cc-2,After midnight,High,New,User,Impacted,bob@contoso.test
",
    )]);
    let berlin = store.rows(&["alerts", "--tz", "Europe/Berlin"]);
    assert_eq!(berlin.len(), 1);
    assert_eq!(berlin[0][0], "2024-03-31");
    assert_eq!(berlin[0][3], 2);
    assert_eq!(berlin[0][5], "2024-03-31T00:30:00+01:00");
    assert_eq!(berlin[0][6], "2024-03-31T01:30:00+01:00");
    assert_eq!(store.json(&["alerts", "--tz", "Europe/Berlin"])["time_zone"], "Europe/Berlin");

    let utc = store.rows(&["alerts", "--tz", "UTC"]);
    assert_eq!(utc.len(), 2);
    assert_eq!(utc[0][0], "2024-03-30");
    assert_eq!(utc[0][5], "2024-03-30T23:30:00+00:00");
    assert_eq!(utc[1][0], "2024-03-31");
    assert_eq!(utc[1][5], "2024-03-31T00:30:00+00:00");

    let csv = store.stdout(&["alerts", "--tz", "Europe/Berlin", "--output", "csv"]);
    assert!(
        csv.starts_with(
            "day (Europe/Berlin),severity,status,alerts,tagged users,first (Europe/Berlin),last (Europe/Berlin)\n"
        ),
        "{csv}"
    );
}

#[test]
fn csv_neutralises_formula_cells() {
    let store = Store::new(&[(
        "formulas.csv",
        r#"Timestamp,AlertId,Title,Severity,Status,EntityType,EvidenceRole,AccountUpn
2024-06-01T08:00:00Z,f-1,One,High,"=HYPERLINK(""http://phish.test"",""Open"")",User,Impacted,ann@contoso.test
2024-06-01T08:00:00Z,f-2,Two,High,@SUM(1),User,Impacted,ann@contoso.test
2024-06-01T08:00:00Z,f-3,Three,High,+1+1,User,Impacted,ann@contoso.test
2024-06-01T08:00:00Z,f-4,Four,High,-2,User,Impacted,ann@contoso.test
"#,
    )]);
    let csv = store.stdout(&["alerts", "--output", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let statuses: Vec<(String, String)> = reader
        .records()
        .map(|r| r.expect("valid CSV"))
        .map(|r| (r[2].to_string(), r[3].to_string()))
        .collect();
    let mut expected = vec![
        ("'+1+1".to_string(), "1".to_string()),
        ("'-2".to_string(), "1".to_string()),
        ("'=HYPERLINK(\"http://phish.test\",\"Open\")".to_string(), "1".to_string()),
        ("'@SUM(1)".to_string(), "1".to_string()),
    ];
    let mut actual = statuses.clone();
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected);

    let json = store.json(&["alerts"]);
    let mut raw: Vec<String> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["status"].as_str().unwrap().to_string())
        .collect();
    raw.sort();
    assert_eq!(raw, ["+1+1", "-2", "=HYPERLINK(\"http://phish.test\",\"Open\")", "@SUM(1)"]);
}

#[test]
fn chart_is_valid_svg() {
    let store = standard();
    let chart = store.dir.path().join("threats.svg");
    store.ok(&[
        "report",
        "threat-protection",
        "--tz",
        "Europe/Berlin",
        "--chart",
        path_text(&chart),
    ]);
    let svg = std::fs::read_to_string(&chart).expect("chart written");
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attribute("version"), Some("1.1"));
    let texts: Vec<&str> = document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for expected in
        ["day (Europe/Berlin)", "emails", "2024-06-01", "2024-06-02", "Phish", "Spam", "Malware"]
    {
        assert!(texts.contains(&expected), "missing '{expected}' in {texts:?}");
    }
}

#[test]
fn chart_to_missing_folder_fails() {
    let store = standard();
    let chart = store.dir.path().join("missing").join("chart.svg");
    store
        .cmd()
        .args(["report", "alerts", "--chart", path_text(&chart)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("failed to write the chart"));
}

#[test]
fn bad_time_zone_rejected() {
    let store = standard();
    store
        .cmd()
        .args(["report", "alerts", "--tz", "Europe/Atlantis"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("invalid time zone 'Europe/Atlantis'"))
        .stderr(predicate::str::contains("Europe/Berlin"));
}

#[test]
fn bad_window_and_name_rejected() {
    let store = standard();
    store
        .cmd()
        .args(["report", "alerts", "--since", "last week"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid since time 'last week'"));
    store
        .cmd()
        .args(["report", "alerts", "--by-tag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the alerts report has no --by-tag breakdown"));
    store
        .cmd()
        .args(["report", "phishing"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown report 'phishing'"));
}

/// Returns the samples folder, or prints why the test is skipped.
fn samples() -> Option<PathBuf> {
    match std::env::var_os("TAGQ_SAMPLES") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            eprintln!("skipped: TAGQ_SAMPLES not set");
            None
        }
    }
}

/// A store with the people of the real samples: VIP and "Priority account" on
/// user@example.com (the threat-intelligence recipient), VIP also on the alert sample users,
/// Admins on the Exchange administrator; the alert, AIR, email and threat-intelligence
/// samples ingested.
fn sample_store(samples: &Path) -> Store {
    let store = Store { dir: TempDir::new().expect("temporary directory") };
    let people = store.write(
        "people.csv",
        "id,kind,address,display_name,aliases,mailbox,members
u-1,user,user@testmsftalerts.onmicrosoft.com,Test User,,true,
u-2,user,user@example.com,Example User,,true,
u-3,user,asr@testsiem.onmicrosoft.com,Admin,,true,
u-4,user,GivenName.SureName@domain.TLD,Given Name,,true,
",
    );
    store.ok(&["directory", "import", path_text(&people)]);
    store.ok(&["tag", "create", "VIP"]);
    store.ok(&[
        "tag",
        "add",
        "VIP",
        "user@testmsftalerts.onmicrosoft.com",
        "user@example.com",
        "GivenName.SureName@domain.TLD",
    ]);
    store.ok(&["tag", "create", "Admins"]);
    store.ok(&["tag", "add", "Admins", "asr@testsiem.onmicrosoft.com"]);
    store.ok(&["tag", "add", "Priority account", "user@example.com"]);
    let files = [
        "test-email.log",
        "test-sec-comp-alerts-events.json",
        "test-wl-airinvestigation.json",
        "test-wl-threatintelligence.json",
    ]
    .map(|name| samples.join(name));
    let mut ingest = vec!["ingest"];
    ingest.extend(files.iter().map(|f| path_text(f)));
    store.ok(&ingest);
    store
}

#[test]
fn samples_alerts_report() {
    let Some(samples) = samples() else { return };
    let store = sample_store(&samples);
    let rows = store.rows(&["alerts"]);
    // The Exchange admin alert appears twice in the security alert sample and counts once.
    assert_eq!(
        rows,
        vec![
            json!([
                "2020-02-14",
                "High",
                "Active",
                1,
                0,
                "2020-02-14T19:00:00+00:00",
                "2020-02-14T19:00:00+00:00"
            ]),
            json!([
                "2020-02-14",
                "Low",
                "Active",
                1,
                1,
                "2020-02-14T19:00:00+00:00",
                "2020-02-14T19:00:00+00:00"
            ]),
            json!([
                "2025-06-03",
                "Low",
                "Active",
                1,
                1,
                "2025-06-03T08:10:44+00:00",
                "2025-06-03T08:10:44+00:00"
            ]),
        ]
    );
    let admins = store.rows(&["alerts", "tag:Admins"]);
    assert_eq!(admins.len(), 1);
    assert_eq!(admins[0][1], "Low");
}

#[test]
fn samples_threat_protection_report() {
    let Some(samples) = samples() else { return };
    let store = sample_store(&samples);
    // The five threat-intelligence events share one message and recipient, so the index keeps
    // the last one: a blocked malware message.
    let rows = store.rows(&["threat-protection", "--by-tag"]);
    assert_eq!(
        rows,
        vec![
            json!([
                "2021-12-31",
                "Malware",
                "Antimalware protection",
                "Blocked",
                "Priority account",
                1
            ]),
            json!(["2021-12-31", "Malware", "Antimalware protection", "Blocked", "VIP", 1]),
        ]
    );
}

#[test]
fn samples_priority_issues_report() {
    let Some(samples) = samples() else { return };
    let store = sample_store(&samples);
    let rows = store.rows(&["priority-issues"]);
    assert_eq!(
        rows,
        vec![json!(["2021-12-31", "user@example.com", "recipient", "quarantined", 1])]
    );
}
