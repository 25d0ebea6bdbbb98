//! `tagq config …`: show and change the store's settings.

use std::io::{self, Write};
use std::path::Path;

use crate::store::StoreError;

use super::args::ConfigCommand;
use super::output::{Table, write_listing};
use super::tag::{open_store, session};
use super::{EXIT_OK, Outcome};

/// Runs one `tagq config` command.
pub fn run(command: ConfigCommand, dir: &Path, quiet: bool) -> Outcome {
    let store = open_store(dir)?;
    let session = session(&store)?;
    match command {
        ConfigCommand::List { output } => {
            let settings = session.read()?.catalog.settings().clone();
            let mut table = Table::new(&["key", "value"]);
            for (key, value) in settings.entries() {
                table.push(vec![key.to_string(), value]);
            }
            write_listing(&table, output)?;
            Ok(EXIT_OK)
        }
        ConfigCommand::Get { key } => {
            let value = session.read()?.catalog.settings().get(&key).map_err(StoreError::from)?;
            writeln!(io::stdout().lock(), "{value}")?;
            Ok(EXIT_OK)
        }
        ConfigCommand::Set { key, value } => {
            let old = session.set_setting(&key, &value)?;
            if !quiet {
                let _ = writeln!(
                    io::stderr().lock(),
                    "tagq: {} changed from {old} to {}",
                    key.trim(),
                    value.trim()
                );
            }
            Ok(EXIT_OK)
        }
    }
}
