//! `tagq report explorer`, `email` and `campaigns` through the binary: known results cell by
//! cell on small exports ingested into a temporary store, the same results from `--input`,
//! and the real sample exports when `TAGQ_SAMPLES` names their folder.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};
use tempfile::TempDir;

const DIRECTORY: &str = "\
id,kind,address,display_name,aliases,mailbox,members
u-1,user,ada@contoso.test,Ada Lovelace,,true,
u-2,user,alan@contoso.test,Alan Turing,,true,
u-3,user,grace@contoso.test,Grace Hopper,,true,
u-4,user,bob@contoso.test,Bob Builder,,true,
g-1,group,finance@contoso.test,Finance Team,,,alan@contoso.test;grace@contoso.test
";

const EMAIL_HEADER: &str = "Timestamp,NetworkMessageId,InternetMessageId,SenderMailFromAddress,\
SenderFromAddress,SenderDisplayName,SenderObjectId,RecipientEmailAddress,RecipientObjectId,\
Subject,EmailClusterId,EmailDirection,DeliveryAction,DeliveryLocation,ThreatTypes,\
DetectionMethods,AttachmentCount,UrlCount";

/// Two recipients of m-1 the night European clocks change, a formula-like subject on m-2 and an
/// untagged recipient of m-3. Cluster 100 contains m-1, and cluster 200 contains m-2 and m-3.
const EMAIL_ROWS: [&str; 4] = [
    "2024-03-30T23:30:00Z,m-1,<1@f.test>,billing@fabrikam.test,billing@fabrikam.test,\
     Fabrikam Billing,,ada@contoso.test,u-1,Invoice,100,Inbound,Delivered,Inbox/folder,Phish,,0,1",
    "2024-03-30T23:30:00Z,m-1,<1@f.test>,billing@fabrikam.test,billing@fabrikam.test,\
     Fabrikam Billing,,alan@contoso.test,u-2,Invoice,100,Inbound,Blocked,Quarantine,\
     \"Phish,Spam\",,0,1",
    "2024-03-31T00:30:00Z,m-2,<2@e.test>,x@evil.test,x@evil.test,,,grace@contoso.test,u-3,\
     \"=HYPERLINK(\"\"http://phish.test\"\",\"\"Open\"\")\",200,Inbound,Delivered,Inbox/folder,\
     Phish,,0,1",
    "2024-04-01T10:00:00Z,m-3,<3@n.test>,news@northwind.test,news@northwind.test,,,\
     bob@contoso.test,u-4,Digest,200,Inbound,Junked,Junk,Spam,,0,0",
];

const CAMPAIGNS: &str = "\
Campaign ID,Name,Type,Subtype,First seen,Last seen,Recipients,Inboxed,Clicked,Sender
cmp-1,Fake notices,Phish,DocuSign,2024-03-29T00:00:00Z,2024-04-02T12:00:00Z,\
ada@contoso.test; alan@contoso.test; bob@contoso.test,1,0,notices@partner.test
";

/// A temporary store with the directory, VIP on Ada and Finance on the Finance group (Alan and
/// Grace), and the email and campaign exports ingested.
struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new() -> Setup {
        let setup = Setup { dir: TempDir::new().expect("temporary directory") };
        let emails = format!("{EMAIL_HEADER}\n{}\n", EMAIL_ROWS.join("\n"));
        std::fs::write(setup.path("directory.csv"), DIRECTORY).expect("write directory");
        std::fs::write(setup.path("emails.csv"), emails).expect("write emails");
        std::fs::write(setup.path("campaigns.csv"), CAMPAIGNS).expect("write campaigns");
        setup.ok(&["directory", "import", &setup.arg("directory.csv")]);
        setup.ok(&["tag", "create", "VIP"]);
        setup.ok(&["tag", "add", "VIP", "ada@contoso.test"]);
        setup.ok(&["tag", "create", "Finance"]);
        setup.ok(&["tag", "add", "Finance", "finance@contoso.test"]);
        setup.ok(&["ingest", &setup.arg("emails.csv")]);
        setup.ok(&["ingest", &setup.arg("campaigns.csv")]);
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", self.path("store")).env_remove("TAGQ_ACTOR");
        cmd
    }

    fn ok(&self, args: &[&str]) {
        self.cmd().args(args).assert().success();
    }

    /// Runs a report with JSON output and returns the parsed table.
    fn json(&self, args: &[&str]) -> Value {
        let output = self.cmd().arg("report").args(args).args(["-o", "json"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "report {args:?}: {stderr}");
        serde_json::from_slice(&output.stdout).expect("JSON table")
    }

    /// Runs a report and returns its standard output as text.
    fn text(&self, args: &[&str]) -> String {
        let output = self.cmd().arg("report").args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "report {args:?}: {stderr}");
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }
}

fn rows(table: &Value) -> Vec<Value> {
    table["rows"].as_array().cloned().unwrap_or_default()
}

fn column(table: &Value, name: &str) -> Vec<Value> {
    rows(table).iter().map(|row| row[name].clone()).collect()
}

#[test]
fn explorer_rows_newest_first() {
    let setup = Setup::new();
    let table = setup.json(&["explorer", "tag:*"]);
    assert_eq!(table["title"], "Threat Explorer emails");
    assert_eq!(table["time_zone"], "UTC");
    let rows = rows(&table);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        json!({
            "time": "2024-03-31T00:30:00+00:00",
            "sender": ["x@evil.test"],
            "recipients": ["grace@contoso.test"],
            "subject": "=HYPERLINK(\"http://phish.test\",\"Open\")",
            "delivery action": "Delivered",
            "location": "Inbox",
            "threats": ["Phish"],
            "verdict": null,
            "tags": ["Finance"],
            "network message id": "m-2",
        })
    );
    assert_eq!(
        rows[1],
        json!({
            "time": "2024-03-30T23:30:00+00:00",
            "sender": ["billing@fabrikam.test"],
            "recipients": ["ada@contoso.test"],
            "subject": "Invoice",
            "delivery action": "Delivered",
            "location": "Inbox",
            "threats": ["Phish"],
            "verdict": null,
            "tags": ["VIP"],
            "network message id": "m-1",
        })
    );
    assert_eq!(rows[2]["recipients"], json!(["alan@contoso.test"]));
    assert_eq!(rows[2]["delivery action"], "Blocked");
    assert_eq!(rows[2]["location"], "Quarantine");
    assert_eq!(rows[2]["threats"], json!(["Phish", "Spam"]));
    assert_eq!(rows[2]["tags"], json!(["Finance"]));
}

#[test]
fn explorer_sorts_and_pages() {
    let setup = Setup::new();
    let oldest = setup.json(&["explorer", "--sort", "time"]);
    let recipients = column(&oldest, "recipients");
    let expected = [["ada@contoso.test"], ["alan@contoso.test"], ["grace@contoso.test"]];
    assert_eq!(
        recipients,
        [json!(expected[0]), json!(expected[1]), json!(expected[2]), json!(["bob@contoso.test"])]
    );
    let page = setup.json(&["explorer", "--sort", "time", "--offset", "1", "--limit", "2"]);
    assert_eq!(column(&page, "recipients"), [json!(expected[1]), json!(expected[2])]);
    let newest = setup.json(&["explorer", "--sort", "-time", "--limit", "1"]);
    assert_eq!(column(&newest, "network message id"), [json!("m-3")]);
}

#[test]
fn explorer_filters_by_query() {
    let setup = Setup::new();
    let table = setup.json(&["explorer", "recipient.tag:VIP or DeliveryAction:Junked"]);
    assert_eq!(column(&table, "network message id"), [json!("m-3"), json!("m-1")]);
    assert_eq!(column(&table, "tags"), [json!([]), json!(["VIP"])]);
}

#[test]
fn explorer_days_follow_time_zone() {
    let setup = Setup::new();
    let table = setup.json(&["explorer", "tag:*", "--tz", "Europe/Berlin", "--sort", "time"]);
    assert_eq!(table["time_zone"], "Europe/Berlin");
    assert_eq!(
        column(&table, "time"),
        [
            json!("2024-03-31T00:30:00+01:00"),
            json!("2024-03-31T00:30:00+01:00"),
            json!("2024-03-31T01:30:00+01:00")
        ]
    );
    let window =
        ["explorer", "--tz", "Europe/Berlin", "--since", "2024-03-31", "--until", "2024-03-31"];
    assert_eq!(rows(&setup.json(&window)).len(), 3);
}

#[test]
fn explorer_csv_neutralises_formulas() {
    let setup = Setup::new();
    let csv = setup.text(&["explorer", "recipient.tag:Finance", "--sort", "time", "-o", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time (UTC),sender,recipients,subject,delivery action,location,threats,verdict,tags,\
         network message id"
    );
    assert_eq!(
        lines[2],
        "2024-03-31T00:30:00+00:00,x@evil.test,grace@contoso.test,\
         \"'=HYPERLINK(\"\"http://phish.test\"\",\"\"Open\"\")\",Delivered,Inbox,Phish,,Finance,m-2"
    );
}

#[test]
fn explorer_from_files_matches_index() {
    let setup = Setup::new();
    let args = ["explorer", "tag:*", "--sort", "time"];
    let indexed = setup.json(&args);
    let emails = setup.arg("emails.csv");
    let streamed = setup.json(&[&args[..], &["--input", &emails]].concat());
    assert_eq!(indexed, streamed);
}

#[test]
fn email_view_lists_every_recipient_row() {
    let setup = Setup::new();
    let table = setup.json(&["email", "m-1"]);
    assert_eq!(table["title"], "Email m-1");
    let rows = rows(&table);
    let value = |record: &str, field: &str| {
        let found = rows.iter().find(|r| r["record"] == record && r["field"] == field);
        found.map(|r| r["value"].clone()).unwrap_or(Value::Null)
    };
    let ada = "m-1/ada@contoso.test";
    let alan = "m-1/alan@contoso.test";
    assert_eq!(value(ada, "subject"), "Invoice");
    assert_eq!(value(ada, "delivery_action"), "Delivered");
    assert_eq!(value(alan, "delivery_action"), "Blocked");
    assert_eq!(value(ada, "time"), "2024-03-30T23:30:00+00:00");
    assert_eq!(value(ada, "EmailClusterId"), "100");
    assert_eq!(value(ada, "sender"), "billing@fabrikam.test");
    assert_eq!(value(ada, "sender display name"), "Fabrikam Billing");
    assert_eq!(value(ada, "sender tags"), json!([]));
    assert_eq!(value(ada, "recipient"), "ada@contoso.test");
    assert_eq!(value(ada, "recipient display name"), "Ada Lovelace");
    assert_eq!(value(ada, "recipient tags"), json!(["VIP"]));
    assert_eq!(value(alan, "recipient display name"), "Alan Turing");
    assert_eq!(value(alan, "recipient tags"), json!(["Finance"]));
    let records: Vec<&Value> = rows.iter().map(|r| &r["record"]).collect();
    assert!(records.iter().all(|r| *r == ada || *r == alan), "{records:?}");
}

#[test]
fn email_view_narrowed_by_query() {
    let setup = Setup::new();
    let table = setup.json(&["email", "m-1", "recipient.tag:Finance"]);
    let recipients: Vec<Value> = rows(&table)
        .into_iter()
        .filter(|r| r["field"] == "recipient")
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(recipients, [json!("alan@contoso.test")]);
}

#[test]
fn email_view_query_error_points_into_query() {
    let setup = Setup::new();
    let output =
        setup.cmd().args(["report", "email", "m-1", "subject:x status:new"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let query_line = lines.iter().position(|l| l.contains("subject:x status:new")).expect("query");
    let caret = lines.get(query_line + 1).and_then(|l| l.find('^')).expect("caret line");
    // The parser stops at the second colon, which has no `and` before its field.
    let offset = lines[query_line].find("status:").expect("status in the query line") + 6;
    assert_eq!(caret, offset, "{stderr}");
}

#[test]
fn email_view_unknown_id_exits_one() {
    let setup = Setup::new();
    setup.cmd().args(["report", "email", "no-such-message"]).assert().code(1).stdout("").stderr(
        predicate::str::contains("no email in the index has network message id 'no-such-message'"),
    );
    setup
        .cmd()
        .args(["report", "email"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a network message id"));
}

#[test]
fn campaigns_from_exports_and_clusters() {
    let setup = Setup::new();
    let table = setup.json(&["campaigns"]);
    let names: Vec<&str> =
        table["columns"].as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "campaign",
            "source",
            "name",
            "type",
            "first seen",
            "last seen",
            "emails",
            "recipients",
            "tagged: Finance",
            "tagged: VIP"
        ]
    );
    let rows = rows(&table);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        json!({
            "campaign": "cmp-1", "source": "campaign export", "name": "Fake notices",
            "type": ["Phish"], "first seen": "2024-03-29T00:00:00+00:00",
            "last seen": "2024-04-02T12:00:00+00:00", "emails": null, "recipients": 3,
            "tagged: Finance": 1, "tagged: VIP": 1,
        })
    );
    assert_eq!(
        rows[1],
        json!({
            "campaign": "100", "source": "email cluster", "name": "Invoice",
            "type": ["Phish", "Spam"], "first seen": "2024-03-30T23:30:00+00:00",
            "last seen": "2024-03-30T23:30:00+00:00", "emails": 1, "recipients": 2,
            "tagged: Finance": 1, "tagged: VIP": 1,
        })
    );
    assert_eq!(
        rows[2],
        json!({
            "campaign": "200", "source": "email cluster",
            "name": "=HYPERLINK(\"http://phish.test\",\"Open\")",
            "type": ["Phish", "Spam"], "first seen": "2024-03-31T00:30:00+00:00",
            "last seen": "2024-04-01T10:00:00+00:00", "emails": 2, "recipients": 2,
            "tagged: Finance": 1, "tagged: VIP": 0,
        })
    );
}

#[test]
fn campaigns_filtered_by_tag() {
    let setup = Setup::new();
    let table = setup.json(&["campaigns", "recipient.tag:VIP"]);
    assert_eq!(column(&table, "campaign"), [json!("cmp-1"), json!("100")]);
    assert_eq!(column(&table, "recipients"), [json!(3), json!(1)]);
}

#[test]
fn campaigns_from_files_match_index() {
    let setup = Setup::new();
    let indexed = setup.json(&["campaigns", "tag:*"]);
    let emails = setup.arg("emails.csv");
    let campaigns = setup.arg("campaigns.csv");
    let streamed = setup.json(&["campaigns", "tag:*", "--input", &emails, &campaigns]);
    assert_eq!(indexed, streamed);
    let only_emails = setup.json(&["campaigns", "tag:*", "--input", &emails]);
    let clusters: Vec<Value> =
        rows(&indexed).into_iter().filter(|r| r["source"] == "email cluster").collect();
    assert_eq!(clusters, rows(&only_emails));
}

#[test]
fn views_reject_misplaced_options() {
    let setup = Setup::new();
    setup
        .cmd()
        .args(["report", "campaigns", "--sort", "time"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sort orders the explorer report only"));
    setup
        .cmd()
        .args(["report", "explorer", "tag:VIP", "tag:Finance"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("takes one query"));
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

/// Creates a store with the recipients of the sample email exports, both tagged VIP, and the Advanced
/// Hunting email log and the ThreatIntelligence records ingested. The ThreatIntelligence
/// records share one network message id, so the index keeps the last of them.
fn sample_setup(samples: &Path) -> Setup {
    let setup = Setup { dir: TempDir::new().expect("temporary directory") };
    std::fs::write(
        setup.path("people.csv"),
        "id,kind,address,display_name,aliases,mailbox,members\n\
         u-1,user,user@testmsftalerts.onmicrosoft.com,Test User,,true,\n\
         u-2,user,user@example.com,Example User,,true,\n",
    )
    .expect("write directory");
    setup.ok(&["directory", "import", &setup.arg("people.csv")]);
    setup.ok(&["tag", "create", "VIP"]);
    setup.ok(&["tag", "add", "VIP", "user@example.com", "user@testmsftalerts.onmicrosoft.com"]);
    let log = samples.join("test-email.log").display().to_string();
    let intel = samples.join("test-wl-threatintelligence.json").display().to_string();
    setup.ok(&["ingest", &log, &intel]);
    setup
}

#[test]
fn samples_explorer_lists_tagged_emails() {
    let Some(samples) = samples() else { return };
    let setup = sample_setup(&samples);
    let table = setup.json(&["explorer", "recipient.tag:VIP"]);
    let rows = rows(&table);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["tags"] == json!(["VIP"])), "{rows:?}");
}

#[test]
fn samples_email_view_shows_display_name() {
    let Some(samples) = samples() else { return };
    let setup = sample_setup(&samples);
    let table = setup.json(&["email", "a194a8a6-d97c-4be1-ae31-08dacc512345"]);
    let rows = rows(&table);
    let field = |name: &str| rows.iter().find(|r| r["field"] == name).map(|r| r["value"].clone());
    assert_eq!(field("recipient display name"), Some(json!("Test User")));
    assert_eq!(field("recipient tags"), Some(json!(["VIP"])));
}

#[test]
fn samples_campaigns_group_email_cluster() {
    let Some(samples) = samples() else { return };
    let setup = sample_setup(&samples);
    let table = setup.json(&["campaigns"]);
    let rows = rows(&table);
    let cluster = rows.iter().find(|r| r["campaign"] == "383769773").expect("cluster row");
    assert_eq!(cluster["source"], "email cluster");
    assert_eq!(cluster["emails"], 1);
    assert_eq!(cluster["tagged: VIP"], 1);
}
