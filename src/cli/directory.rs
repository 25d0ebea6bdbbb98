//! `tagq directory …`: import and show the directory snapshot.

use std::io::{self, Write};
use std::path::Path;

use crate::directory::{self, Directory, DirectoryFormat};

use super::args::{DirectoryCommand, ListOutput};
use super::output::{Table, write_listing};
use super::tag::{load_store, open_store, session};
use super::{EXIT_OK, Failure, Outcome};

/// Runs one `tagq directory` command.
pub fn run(command: DirectoryCommand, dir: &Path, quiet: bool) -> Outcome {
    match command {
        DirectoryCommand::Import { file } => import(&file, dir, quiet),
        DirectoryCommand::Show { output } => {
            let (directory, _) = load_store(dir)?;
            show(&directory, output)
        }
    }
}

fn import(file: &Path, dir: &Path, quiet: bool) -> Outcome {
    let (directory, report) = directory::load(file).map_err(|e| Failure::Message(e.to_string()))?;
    let store = open_store(dir)?;
    session(&store)?.import_directory(&directory, &file.display().to_string())?;
    let mut err = io::stderr().lock();
    for notice in &report.notices {
        if !quiet {
            let _ = writeln!(err, "tagq: {}", notice.message);
        }
    }
    if !quiet {
        let _ = writeln!(
            err,
            "tagq: imported {} user(s) and {} group(s) from {} ({})",
            report.users,
            report.groups,
            file.display(),
            format_name(report.format)
        );
    }
    Ok(EXIT_OK)
}

fn format_name(format: DirectoryFormat) -> &'static str {
    match format {
        DirectoryFormat::EntraCsv => "Entra ID export",
        DirectoryFormat::GraphJson => "Graph users",
        DirectoryFormat::SimpleCsv => "tagq directory CSV",
    }
}

fn show(directory: &Directory, output: ListOutput) -> Outcome {
    let mut table = Table::new(&[
        "object_id",
        "kind",
        "address",
        "display_name",
        "mailbox",
        "type",
        "aliases",
        "members",
    ]);
    for user in directory.users() {
        table.push(vec![
            user.object_id.clone(),
            "user".into(),
            user.display_address().to_string(),
            user.display_name.clone(),
            user.has_mailbox.to_string(),
            user.user_type.as_str().to_string(),
            user.aliases.join(";"),
            String::new(),
        ]);
    }
    for group in directory.groups() {
        table.push(vec![
            group.object_id.clone(),
            "group".into(),
            group.display_address().to_string(),
            group.display_name.clone(),
            String::new(),
            String::new(),
            String::new(),
            group.members.join(";"),
        ]);
    }
    write_listing(&table, output)?;
    Ok(EXIT_OK)
}
