//! A report pipeline on the bundled fixtures. It builds a throw-away store from `fixtures/`
//! and lists the emails sent to priority accounts with the tags of their users. Then it
//! writes the Threat Explorer report of the emails that involve any tagged user as CSV and as
//! JSON.
//!
//! ```console
//! $ cargo run --example report_pipeline
//! ```

use std::error::Error;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tagq::api::Workspace;
use tagq::index::{self, IngestOptions, QueryRequest, Sort};
use tagq::records::RecordKind;
use tagq::report::{ReportFormat, ReportName, ReportOptions, Window, write_table};
use tagq::store::Store;

fn main() -> Result<(), Box<dyn Error>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let store = tempfile::TempDir::new()?;
    build_store(store.path(), &fixtures)?;
    let mut out = io::stdout().lock();
    run(store.path(), &mut out)?;
    out.flush()?;
    Ok(())
}

/// Creates a store in `store` with the fixture directory, the "Priority account" and
/// "Finance" tags and the fixture exports ingested into its index.
pub fn build_store(store: &Path, fixtures: &Path) -> Result<(), Box<dyn Error>> {
    let session_store = Store::open(store)?;
    let session = session_store.owner_session()?;
    let (directory, _) = tagq::directory::load(&fixtures.join("directory.csv"))?;
    session.import_directory(&directory, "directory.csv")?;
    let priority = std::fs::read(fixtures.join("priority-accounts.txt"))?;
    session.import_members("Priority account", &priority, false)?;
    session.create_tag("Finance", "Finance and payroll staff")?;
    let finance = std::fs::read(fixtures.join("finance-members.txt"))?;
    session.import_members("Finance", &finance, false)?;
    let exports: Vec<PathBuf> =
        ["email-events.csv", "ti-maildata.ndjson", "alert-evidence.csv", "graph-alerts.json"]
            .iter()
            .map(|name| fixtures.join(name))
            .collect();
    let summary = index::ingest(store, &exports, &IngestOptions::default(), &mut |_| {})?;
    if let Some(error) = summary.rejected.first() {
        return Err(format!("a fixture could not be ingested: {error}").into());
    }
    Ok(())
}

/// Runs the pipeline over the store in `store` and writes its output to `out`.
pub fn run(store: &Path, out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let workspace = Workspace::open(store)?;

    writeln!(out, "# emails to priority accounts, oldest first")?;
    let request = QueryRequest {
        query: "recipient.tag:\"Priority account\"".to_string(),
        kind: Some(RecordKind::Email),
        sort: Sort::Time,
        ..QueryRequest::default()
    };
    let mut written = Ok(());
    workspace.query(&request, &mut |record, users| {
        let tags: Vec<String> = users
            .iter()
            .map(|u| format!("{} {} [{}]", u.role, u.address, u.tags.join(", ")))
            .collect();
        written = writeln!(out, "{}  {}", record.id, tags.join("; "));
        if written.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
    })?;
    written?;

    let window = Window::parse("Europe/Berlin", Some("2024-06-01"), None)?;
    let options = ReportOptions { window, ..ReportOptions::default() };
    let request = QueryRequest { query: "tag:*".to_string(), ..QueryRequest::default() };
    let explorer = ReportName::Explorer { sort: Sort::TimeDesc };
    let table = workspace.report(&explorer, &request, &options)?;
    writeln!(out, "\n# Threat Explorer emails that involve tagged users, as CSV")?;
    write_table(&table, ReportFormat::Csv, out)?;
    writeln!(out, "\n# the same report as JSON")?;
    write_table(&table, ReportFormat::Json, out)?;
    Ok(())
}
