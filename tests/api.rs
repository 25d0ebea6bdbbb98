//! The embedding API: queries over the index give the records and tags that the streaming
//! filter gives over the same export files, and a missing store is an error that names the folder.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tagq::api::{ApiError, Workspace};
use tagq::index::{self, IngestOptions, QueryRequest, Sort};
use tagq::records::RecordKind;
use tagq::store::Store;
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn export_files() -> Vec<PathBuf> {
    ["email-events.csv", "ti-maildata.ndjson", "alert-evidence.csv", "graph-alerts.json"]
        .iter()
        .map(|name| fixture(name))
        .collect()
}

/// A store with the fixture directory, two tags and the fixture exports ingested.
fn fixture_store() -> TempDir {
    let dir = TempDir::new().expect("temporary directory");
    let store = Store::open(dir.path()).expect("open store");
    let session = store.owner_session().expect("owner session");
    let (directory, _) =
        tagq::directory::load(&fixture("directory.csv")).expect("load fixture directory");
    session.import_directory(&directory, "directory.csv").expect("import directory");
    let priority = std::fs::read(fixture("priority-accounts.txt")).expect("read priority list");
    session.import_members("Priority account", &priority, false).expect("import priority");
    session.create_tag("Finance", "Finance staff").expect("create Finance");
    let finance = std::fs::read(fixture("finance-members.txt")).expect("read finance list");
    session.import_members("Finance", &finance, false).expect("import finance");
    let summary =
        index::ingest(dir.path(), &export_files(), &IngestOptions::default(), &mut |_| {})
            .expect("ingest fixtures");
    assert!(summary.rejected.is_empty(), "rejected inputs: {:?}", summary.rejected);
    dir
}

fn request(query: &str, kind: Option<RecordKind>, sort: Sort, limit: Option<u64>) -> QueryRequest {
    QueryRequest { query: query.to_string(), kind, sort, limit, ..QueryRequest::default() }
}

/// One match as both ways report it: record id and `role address: tags` entries.
type Row = (String, Vec<String>);

fn rows_from_index(workspace: &Workspace, request: &QueryRequest) -> Vec<Row> {
    let mut rows = Vec::new();
    workspace
        .query(request, &mut |record, users| {
            rows.push(row(record, users));
            ControlFlow::Continue(())
        })
        .expect("index query");
    rows
}

fn rows_from_files(workspace: &Workspace, request: &QueryRequest) -> Vec<Row> {
    let mut rows = Vec::new();
    let summary = workspace
        .filter_files(&export_files(), request, &mut |record, users| {
            rows.push(row(record, users));
            ControlFlow::Continue(())
        })
        .expect("streaming filter");
    assert!(summary.errors.is_empty(), "input errors: {:?}", summary.errors);
    rows
}

fn row(record: &tagq::records::Record, users: &[tagq::records::write::UserTags]) -> Row {
    let tags =
        users.iter().map(|u| format!("{} {}: {}", u.role, u.address, u.tags.join(";"))).collect();
    (record.id.clone(), tags)
}

const QUERIES: [(&str, Option<RecordKind>); 6] = [
    ("recipient.tag:\"Priority account\"", Some(RecordKind::Email)),
    ("tag:Finance and DeliveryAction:Delivered", Some(RecordKind::Email)),
    ("tag:*", None),
    ("not tag:*", Some(RecordKind::Email)),
    ("severity:(high or medium)", Some(RecordKind::Alert)),
    ("subject:invoice or sender.domain:northwind.test", Some(RecordKind::Email)),
];

#[test]
fn index_query_equals_streaming_filter() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    for (query, kind) in QUERIES {
        for sort in [Sort::Time, Sort::TimeDesc] {
            let request = request(query, kind, sort, None);
            let indexed = rows_from_index(&workspace, &request);
            let streamed = rows_from_files(&workspace, &request);
            assert!(!indexed.is_empty() || query.starts_with("not"), "no match for {query}");
            assert_eq!(indexed, streamed, "query {query} sorted {sort:?}");
        }
    }
}

#[test]
fn index_query_equals_filter_with_limit() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::TimeDesc, Some(2));
    let indexed = rows_from_index(&workspace, &request);
    assert_eq!(indexed.len(), 2);
    assert_eq!(indexed, rows_from_files(&workspace, &request));
}

#[test]
fn stored_order_matches_as_sets() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::Stored, None);
    let mut indexed = rows_from_index(&workspace, &request);
    let mut streamed = rows_from_files(&workspace, &request);
    indexed.sort();
    streamed.sort();
    assert_eq!(indexed, streamed);
}

#[test]
fn query_users_carry_their_tags() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let query = "recipient.tag:\"Priority account\"";
    let request = request(query, Some(RecordKind::Email), Sort::Time, None);
    let rows = rows_from_index(&workspace, &request);
    let first = rows.first().expect("a priority-account email");
    assert_eq!(first.1, vec!["recipient ada.lovelace@contoso.test: Priority account".to_string()]);
}

#[test]
fn break_stops_query_and_keeps_count() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::Time, None);
    let all = rows_from_index(&workspace, &request).len() as u64;
    let mut seen = 0;
    let stats = workspace
        .query(&request, &mut |_, _| {
            seen += 1;
            ControlFlow::Break(())
        })
        .expect("index query");
    assert_eq!(seen, 1);
    assert_eq!(stats.matched, all);
}

#[test]
fn missing_store_is_an_error() {
    let dir = TempDir::new().expect("temporary directory");
    let missing = dir.path().join("no-store-here");
    let error = Workspace::open(&missing).err().expect("open must fail");
    assert!(matches!(error, ApiError::MissingStore { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("no-store-here"), "{message}");
    assert!(message.contains("directory import"), "{message}");
    assert!(!missing.exists(), "opening must not create the store");
}

#[test]
fn invalid_query_names_the_problem() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("severity:high status:new", None, Sort::Stored, None);
    let error = workspace.query(&request, &mut |_, _| ControlFlow::Continue(())).err();
    let message = error.expect("query must fail").to_string();
    assert!(message.starts_with("invalid query"), "{message}");
    let error =
        workspace.filter_files(&export_files(), &request, &mut |_, _| ControlFlow::Continue(()));
    let message = error.expect_err("filter must fail").to_string();
    assert!(message.starts_with("invalid query"), "{message}");
}

#[allow(dead_code)]
#[path = "../examples/report_pipeline.rs"]
mod report_pipeline;

#[test]
fn example_pipeline_writes_csv_and_json() {
    let store = TempDir::new().expect("temporary directory");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    report_pipeline::build_store(store.path(), &fixtures).expect("build the fixture store");
    let mut out = Vec::new();
    report_pipeline::run(store.path(), &mut out).expect("run the pipeline");
    let text = String::from_utf8(out).expect("UTF-8 output");

    let listed = "11111111-aaaa-4000-8000-000000000001/ada.lovelace@contoso.test  \
                  recipient ada.lovelace@contoso.test [Priority account]";
    assert!(text.contains(listed), "{text}");
    let csv_header = "time (Europe/Berlin),sender,recipients,subject,delivery action,location,\
                      threats,verdict,tags,network message id";
    assert!(text.contains(csv_header), "{text}");
    let csv_row = "2024-06-03T10:15:30.069+02:00,billing@fabrikam.test,ada.lovelace@contoso.test,\
                   Invoice overdue: wire transfer needed,Delivered,Inbox,Phish,,Priority account,\
                   11111111-aaaa-4000-8000-000000000001";
    assert!(text.contains(csv_row), "{text}");

    let json_start = text.find("\n{").expect("a JSON object");
    let json: serde_json::Value =
        serde_json::from_str(&text[json_start..]).expect("the JSON report parses");
    assert_eq!(json["time_zone"], "Europe/Berlin");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(5));
}

#[test]
fn report_page_equals_files_page() {
    use tagq::records::read::ReadOptions;
    use tagq::report::{ReportName, ReportOptions};

    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::Stored, None);
    for sort in [Sort::Time, Sort::TimeDesc] {
        let name = ReportName::Explorer { sort };
        let options = ReportOptions { limit: Some(2), offset: 1, ..ReportOptions::default() };
        let indexed = workspace.report(&name, &request, &options).expect("index report");
        let (streamed, summaries) = workspace
            .report_files(&export_files(), &ReadOptions::default(), &name, &request, &options)
            .expect("files report");
        assert!(summaries.iter().all(|s| s.errors.is_empty()));
        assert_eq!(indexed.rows.len(), 2);
        assert_eq!(indexed, streamed, "sorted {sort:?}");
        let full = workspace.report(&name, &request, &ReportOptions::default()).expect("report");
        assert_eq!(indexed.rows[..], full.rows[1..3]);
    }
}

#[test]
fn files_break_keeps_summary() {
    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::Stored, None);
    let all = rows_from_files(&workspace, &request).len() as u64;
    let mut seen = 0;
    let summary = workspace
        .filter_files(&export_files(), &request, &mut |_, _| {
            seen += 1;
            ControlFlow::Break(())
        })
        .expect("streaming filter");
    assert_eq!(seen, 1);
    assert_eq!(summary.matched, all);
    assert!(summary.records > all, "every record is read: {}", summary.records);
}

#[test]
fn every_report_same_from_files() {
    use tagq::records::read::ReadOptions;
    use tagq::report::{ReportName, ReportOptions};

    let store = fixture_store();
    let workspace = Workspace::open(store.path()).expect("open workspace");
    let request = request("tag:*", None, Sort::Stored, None);
    let options = ReportOptions::default();
    let names = [
        ReportName::Alerts,
        ReportName::ThreatProtection,
        ReportName::PriorityIssues,
        ReportName::Explorer { sort: Sort::Time },
        ReportName::Email { message_id: "11111111-aaaa-4000-8000-000000000001".to_string() },
        ReportName::Campaigns,
    ];
    for name in names {
        let indexed = workspace.report(&name, &request, &options).expect("index report");
        let (streamed, _) = workspace
            .report_files(&export_files(), &ReadOptions::default(), &name, &request, &options)
            .expect("files report");
        assert!(!indexed.rows.is_empty(), "{name} has rows");
        assert_eq!(indexed, streamed, "{name}");
    }
}
