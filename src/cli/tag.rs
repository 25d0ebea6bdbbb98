//! `tagq tag …`: create, list and show tags, and manage their members.

use std::io::{self, Write};
use std::path::Path;

use crate::catalog::{Catalog, CatalogError, ImportReport, MemberReport, TagKind, TagView};
use crate::directory::Directory;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;

use super::args::{ListOutput, TagCommand};
use super::output::{Table, write_listing};
use super::{EXIT_ERROR, EXIT_OK, Failure, Outcome};

/// An error of a catalog change inside a store update.
enum ChangeError {
    Store(StoreError),
    Catalog(CatalogError),
}

impl From<StoreError> for ChangeError {
    fn from(error: StoreError) -> ChangeError {
        ChangeError::Store(error)
    }
}

impl From<CatalogError> for ChangeError {
    fn from(error: CatalogError) -> ChangeError {
        ChangeError::Catalog(error)
    }
}

impl From<ChangeError> for Failure {
    fn from(error: ChangeError) -> Failure {
        match error {
            ChangeError::Store(e) => store_failure(e),
            ChangeError::Catalog(e) => Failure::Message(e.to_string()),
        }
    }
}

/// Converts a store error into a message for stderr; store errors name the file and the fix.
pub fn store_failure(error: StoreError) -> Failure {
    Failure::Message(error.to_string())
}

/// Opens the store and reads the directory snapshot and the catalog.
pub fn load_store(dir: &Path) -> Result<(Directory, Catalog), Failure> {
    let store = Store::open(dir).map_err(store_failure)?;
    let snapshot = store.read().map_err(store_failure)?;
    Ok((snapshot.directory, snapshot.catalog))
}

fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// Runs one `tagq tag` command.
pub fn run(command: TagCommand, dir: &Path, quiet: bool) -> Outcome {
    match command {
        TagCommand::Create { name, description } => {
            let store = Store::open(dir).map_err(store_failure)?;
            let tag = store.update_catalog(|catalog, _| -> Result<String, ChangeError> {
                Ok(catalog.create(&name, &description, now())?.name.clone())
            })?;
            notice(quiet, &format!("created tag '{tag}'"));
            Ok(EXIT_OK)
        }
        TagCommand::List { output } => list(dir, output),
        TagCommand::Show { name, output } => show(dir, &name, output),
        TagCommand::Add { name, addresses } => {
            let members: Vec<&str> = addresses.iter().map(String::as_str).collect();
            let store = Store::open(dir).map_err(store_failure)?;
            let report = store.update_catalog(|catalog, directory| -> Result<_, ChangeError> {
                Ok(catalog.add_members(&name, &members, directory, now())?)
            })?;
            print_member_report(&report, "added", quiet);
            Ok(EXIT_OK)
        }
        TagCommand::Remove { name, addresses } => {
            let members: Vec<&str> = addresses.iter().map(String::as_str).collect();
            let store = Store::open(dir).map_err(store_failure)?;
            let report = store.update_catalog(|catalog, directory| -> Result<_, ChangeError> {
                Ok(catalog.remove_members(&name, &members, directory, now())?)
            })?;
            print_member_report(&report, "removed", quiet);
            Ok(EXIT_OK)
        }
        TagCommand::Import { name, file, skip_invalid } => {
            let text = std::fs::read(&file).map_err(|e| {
                Failure::Message(format!("failed to read member file {}: {e}", file.display()))
            })?;
            let store = Store::open(dir).map_err(store_failure)?;
            let report = store.update_catalog(|catalog, directory| -> Result<_, ChangeError> {
                Ok(catalog.import_members(&name, &text, directory, skip_invalid, now())?)
            })?;
            Ok(print_import_report(&report, &file, skip_invalid, quiet))
        }
    }
}

fn notice(quiet: bool, message: &str) {
    if !quiet {
        let _ = writeln!(io::stderr().lock(), "tagq: {message}");
    }
}

fn print_member_report(report: &MemberReport, verb: &str, quiet: bool) {
    for note in &report.notes {
        notice(quiet, note);
    }
    let unchanged = if report.unchanged.is_empty() {
        String::new()
    } else {
        format!(", {} unchanged", report.unchanged.len())
    };
    notice(
        quiet,
        &format!("{verb} {} member(s) of '{}'{unchanged}", report.changed.len(), report.tag),
    );
}

/// Prints the import's notes and problems and returns the exit status: 2 when any line was
/// invalid, even when the valid lines were applied.
fn print_import_report(report: &ImportReport, file: &Path, skip_invalid: bool, quiet: bool) -> i32 {
    let mut err = io::stderr().lock();
    for note in &report.notes {
        if !quiet {
            let _ = writeln!(err, "tagq: {}:{note}", file.display());
        }
    }
    for problem in &report.problems {
        let _ = writeln!(err, "tagq: {}:{problem}", file.display());
    }
    if report.problems.is_empty() {
        if !quiet {
            let _ = writeln!(
                err,
                "tagq: imported {} member(s) into '{}', {} already present",
                report.added.len(),
                report.tag,
                report.unchanged.len()
            );
        }
        return EXIT_OK;
    }
    if skip_invalid {
        let _ = writeln!(
            err,
            "tagq: imported {} member(s) into '{}'; skipped {} invalid line(s)",
            report.added.len(),
            report.tag,
            report.problems.len()
        );
    } else {
        let _ = writeln!(
            err,
            "tagq: {} invalid line(s); nothing was imported into '{}' (fix the lines, or pass --skip-invalid to import the valid ones)",
            report.problems.len(),
            report.tag
        );
    }
    EXIT_ERROR
}

fn kind_name(kind: TagKind) -> &'static str {
    match kind {
        TagKind::System => "system",
        TagKind::Custom => "custom",
    }
}

fn list(dir: &Path, output: ListOutput) -> Outcome {
    let (directory, catalog) = load_store(dir)?;
    let views = catalog.views(&directory);
    let mut table = Table::new(&[
        "name",
        "kind",
        "description",
        "direct_users",
        "direct_groups",
        "effective_users",
        "orphaned",
        "created",
        "modified",
    ]);
    for view in &views {
        table.push(vec![
            view.name.clone(),
            kind_name(view.kind).to_string(),
            view.description.clone(),
            view.direct_users.len().to_string(),
            view.direct_groups.len().to_string(),
            view.effective_users.len().to_string(),
            view.orphaned.len().to_string(),
            view.created.to_string(),
            view.modified.to_string(),
        ]);
    }
    write_listing(&table, output)?;
    Ok(EXIT_OK)
}

fn show(dir: &Path, name: &str, output: ListOutput) -> Outcome {
    let (directory, catalog) = load_store(dir)?;
    let view = catalog.view(name, &directory).map_err(|e| Failure::Message(e.to_string()))?;
    let filter = format!("tag:{}", crate::filter::quote_value(&view.name));
    if output == ListOutput::Json {
        let value = show_json(&view, &filter);
        writeln!(io::stdout().lock(), "{value:#}")?;
        return Ok(EXIT_OK);
    }
    let mut table = Table::new(&["member", "kind", "address", "display_name", "via"]);
    for user in &view.direct_users {
        table.push(vec![
            user.object_id.clone(),
            "user".into(),
            user.address.clone(),
            user.display_name.clone(),
            "direct".into(),
        ]);
    }
    for group in &view.direct_groups {
        table.push(vec![
            group.object_id.clone(),
            "group".into(),
            group.address.clone(),
            group.display_name.clone(),
            "direct".into(),
        ]);
    }
    for user in &view.effective_users {
        table.push(vec![
            user.object_id.clone(),
            "user".into(),
            user.address.clone(),
            user.display_name.clone(),
            "effective".into(),
        ]);
    }
    for orphan in &view.orphaned {
        table.push(vec![
            orphan.object_id.clone(),
            "orphaned".into(),
            String::new(),
            String::new(),
            orphan.reason.as_str().into(),
        ]);
    }
    if output == ListOutput::Table {
        let mut out = io::stdout().lock();
        writeln!(out, "name:            {}", view.name)?;
        writeln!(out, "kind:            {}", kind_name(view.kind))?;
        writeln!(out, "description:     {}", view.description)?;
        writeln!(
            out,
            "applied to:      {} user(s), {} group(s) directly; {} user(s) in effect",
            view.direct_users.len(),
            view.direct_groups.len(),
            view.effective_users.len()
        )?;
        writeln!(out, "created on:      {}", view.created)?;
        writeln!(out, "last modified:   {}", view.modified)?;
        writeln!(out, "filter:          {filter}")?;
        writeln!(out)?;
    }
    write_listing(&table, output)?;
    Ok(EXIT_OK)
}

fn show_json(view: &TagView, filter: &str) -> serde_json::Value {
    let members = |list: &[crate::catalog::MemberView]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|m| serde_json::json!({"object_id": m.object_id, "address": m.address, "display_name": m.display_name}))
            .collect()
    };
    serde_json::json!({
        "name": view.name,
        "kind": kind_name(view.kind),
        "description": view.description,
        "created": view.created.to_string(),
        "modified": view.modified.to_string(),
        "direct_users": members(&view.direct_users),
        "direct_groups": members(&view.direct_groups),
        "effective_users": members(&view.effective_users),
        "orphaned": view.orphaned.iter().map(|o| serde_json::json!({"object_id": o.object_id, "reason": o.reason.as_str()})).collect::<Vec<_>>(),
        "filter": filter,
    })
}
