//! `tagq tag …`: create, list, show, edit, delete and export tags, and manage their members.
//!
//! Every command acts through a store [`Session`], so the library checks the actor's role
//! groups before it reads or changes anything.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;

use crate::catalog::{Catalog, ImportReport, MemberReport, Permission, TagKind, TagView};
use crate::directory::Directory;
use crate::store::{Session, Store, StoreError, StoredSnapshot};

use super::args::{ListOutput, TagCommand};
use super::output::{Table, write_listing};
use super::{EXIT_ERROR, EXIT_OK, Failure, Outcome};

/// The actor named by `--as` or `TAGQ_ACTOR`, set once before a command runs. `None` acts
/// as the store's owner.
static ACTOR: OnceLock<Option<String>> = OnceLock::new();

/// Records the actor for every command of this process. Only the first call has an effect.
pub fn set_actor(actor: Option<String>) {
    let _ = ACTOR.set(actor.filter(|a| !a.trim().is_empty()));
}

/// Converts a store error into a message for stderr.
pub fn store_failure(error: StoreError) -> Failure {
    Failure::Message(error.to_string())
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        store_failure(error)
    }
}

/// Opens (or creates) the store in `dir`.
pub fn open_store(dir: &Path) -> Result<Store, Failure> {
    Ok(Store::open(dir)?)
}

/// Starts a session as the actor of `--as`/`TAGQ_ACTOR`, else as the store's owner.
pub fn session(store: &Store) -> Result<Session<'_>, Failure> {
    match ACTOR.get().and_then(Option::as_deref) {
        Some(actor) => Ok(store.session(actor)?),
        None => Ok(store.owner_session()?),
    }
}

/// Opens the store and reads the directory snapshot and the catalog. Needs Tag Reader.
pub fn load_store(dir: &Path) -> Result<(Directory, Catalog), Failure> {
    let store = open_store(dir)?;
    let snapshot = session(&store)?.read()?;
    Ok((snapshot.directory, snapshot.catalog))
}

/// Opens the store and reads the catalog and the directory snapshot's file, leaving the
/// snapshot to be decoded when needed. Needs Tag Reader.
pub fn load_stored(dir: &Path) -> Result<StoredSnapshot, Failure> {
    let store = open_store(dir)?;
    Ok(session(&store)?.read_stored()?)
}

/// Runs one `tagq tag` command.
pub fn run(command: TagCommand, dir: &Path, quiet: bool) -> Outcome {
    let store = open_store(dir)?;
    let session = session(&store)?;
    match command {
        TagCommand::Create { name, description } => {
            let tag = session.create_tag(&name, &description)?;
            notice(quiet, &format!("created tag '{}'", tag.name));
            Ok(EXIT_OK)
        }
        TagCommand::List { output } => list(&session, output),
        TagCommand::Show { name, output } => show(&session, &name, output),
        TagCommand::Edit { name, description } => {
            let tag = session.set_description(&name, &description)?;
            notice(quiet, &format!("set the description of '{}'", tag.name));
            Ok(EXIT_OK)
        }
        TagCommand::Rename { name, new_name } => {
            session.rename_tag(&name, &new_name)?;
            Ok(EXIT_OK)
        }
        TagCommand::Delete { name, yes } => delete(&session, &name, yes, quiet),
        TagCommand::Export { name } => export(&session, &name, quiet),
        TagCommand::Add { name, addresses } => {
            let members: Vec<&str> = addresses.iter().map(String::as_str).collect();
            let report = session.add_members(&name, &members)?;
            print_member_report(&report, "added", quiet);
            Ok(EXIT_OK)
        }
        TagCommand::Remove { name, addresses } => {
            let members: Vec<&str> = addresses.iter().map(String::as_str).collect();
            let report = session.remove_members(&name, &members)?;
            print_member_report(&report, "removed", quiet);
            Ok(EXIT_OK)
        }
        TagCommand::Import { name, file, skip_invalid } => {
            let text = std::fs::read(&file).map_err(|e| {
                Failure::Message(format!("failed to read member file {}: {e}", file.display()))
            })?;
            let report = session.import_members(&name, &text, skip_invalid)?;
            Ok(print_import_report(&report, &file, skip_invalid, quiet))
        }
    }
}

/// Deletes a custom tag. Without `--yes` it prompts on a terminal and fails elsewhere. The
/// role and the tag are checked before the prompt, so those errors come first.
fn delete(session: &Session<'_>, name: &str, yes: bool, quiet: bool) -> Outcome {
    if !yes {
        session.check(Permission::ManageTags)?;
        let catalog = session.read()?.catalog;
        let tag = catalog.tag(name).ok_or_else(|| Failure::Message(not_found(&catalog, name)))?;
        if tag.kind == TagKind::System {
            return Err(Failure::Message(
                crate::catalog::CatalogError::SystemTagDelete.to_string(),
            ));
        }
        let prompt = format!(
            "delete tag '{}' with {} direct member(s)? [y/N] ",
            tag.name,
            tag.members.len()
        );
        match confirm(&prompt)? {
            Some(true) => {}
            Some(false) => {
                return Err(Failure::Message(format!("deletion of tag '{}' cancelled", tag.name)));
            }
            None => {
                return Err(Failure::Message(format!(
                    "tag '{}' was not deleted; confirm on a terminal, or pass --yes",
                    tag.name
                )));
            }
        }
    }
    let tag = session.delete_tag(name)?;
    notice(
        quiet,
        &format!("deleted tag '{}' and its {} direct member(s)", tag.name, tag.members.len()),
    );
    Ok(EXIT_OK)
}

fn not_found(catalog: &Catalog, name: &str) -> String {
    let names = catalog.tags().iter().map(|t| t.name.as_str());
    let suggestion = crate::text::closest(name, names).map(str::to_string);
    crate::catalog::CatalogError::TagNotFound { name: name.to_string(), suggestion }.to_string()
}

/// Asks a yes/no question when stdin and stderr are terminals. Returns `None` when they are
/// not, and otherwise whether the answer was `y` or `yes`.
fn confirm(prompt: &str) -> Result<Option<bool>, Failure> {
    if !io::stdin().is_terminal() || !io::stderr().is_terminal() {
        return Ok(None);
    }
    let mut err = io::stderr().lock();
    write!(err, "{prompt}")?;
    err.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(Some(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")))
}

/// Prints the tag's direct members, one address per line, in a form `tag import` reads back.
/// Orphaned members have no usable address and are listed on stderr instead.
fn export(session: &Session<'_>, name: &str, quiet: bool) -> Outcome {
    let snapshot = session.read()?;
    let view = snapshot.catalog.view(name, &snapshot.directory).map_err(StoreError::from)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    for member in view.direct_users.iter().chain(&view.direct_groups) {
        writeln!(out, "{}", member.address)?;
    }
    out.flush()?;
    for orphan in &view.orphaned {
        notice(
            quiet,
            &format!(
                "not exported: orphaned member {} ({})",
                orphan.object_id,
                orphan.reason.as_str()
            ),
        );
    }
    Ok(EXIT_OK)
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

fn list(session: &Session<'_>, output: ListOutput) -> Outcome {
    let snapshot = session.read()?;
    let views = snapshot.catalog.views(&snapshot.directory);
    if output == ListOutput::Json {
        let rows: Vec<serde_json::Value> = views.iter().map(list_json).collect();
        writeln!(io::stdout().lock(), "{:#}", serde_json::Value::Array(rows))?;
        return Ok(EXIT_OK);
    }
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

/// Returns one row of `tag list --output json`, with the counts as numbers.
fn list_json(view: &TagView) -> serde_json::Value {
    serde_json::json!({
        "name": view.name,
        "kind": kind_name(view.kind),
        "description": view.description,
        "direct_users": view.direct_users.len(),
        "direct_groups": view.direct_groups.len(),
        "effective_users": view.effective_users.len(),
        "orphaned": view.orphaned.len(),
        "created": view.created.to_string(),
        "modified": view.modified.to_string(),
    })
}

fn show(session: &Session<'_>, name: &str, output: ListOutput) -> Outcome {
    let snapshot = session.read()?;
    let view = snapshot.catalog.view(name, &snapshot.directory).map_err(StoreError::from)?;
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
