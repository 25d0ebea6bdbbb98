//! `tagq audit`: show the audit log, optionally from a time on or for one tag.

use std::io::{self, Write};
use std::path::Path;

use crate::catalog::AuditEntry;
use crate::store::AUDIT_FILE;
use crate::text::fold_name;
use crate::time::Timestamp;

use super::args::{AuditArgs, ListOutput, OutputArg};
use super::output::{Table, write_listing};
use super::tag::{open_store, session};
use super::{EXIT_ERROR, EXIT_OK, Failure, Outcome};

/// Runs `tagq audit`. Exits 2 when a line of the log cannot be read, after printing the
/// entries that can.
pub fn run(args: &AuditArgs, dir: &Path) -> Outcome {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let store = open_store(dir)?;
    let log = session(&store)?.audit()?;
    let tag = args.tag.as_deref().map(fold_name);
    let entries: Vec<&AuditEntry> = log
        .entries
        .iter()
        .filter(|e| since.is_none_or(|since| e.time >= since))
        .filter(|e| {
            tag.as_ref().is_none_or(|t| e.operation.targets_tag() && fold_name(&e.target) == *t)
        })
        .collect();
    write_entries(&entries, args.output)?;
    let path = store.dir().join(AUDIT_FILE);
    let mut err = io::stderr().lock();
    for problem in &log.problems {
        let _ = writeln!(err, "tagq: {}: {problem}", path.display());
    }
    if log.problems.is_empty() {
        Ok(EXIT_OK)
    } else {
        let _ = writeln!(
            err,
            "tagq: {} damaged line(s) in {} were not shown; restore the file from a backup",
            log.problems.len(),
            path.display()
        );
        Ok(EXIT_ERROR)
    }
}

/// Parses `--since`: an RFC 3339 time, a date-time without zone (UTC) or a date (midnight UTC).
fn parse_since(text: &str) -> Result<Timestamp, Failure> {
    let date = text.trim().parse::<jiff::civil::Date>().ok();
    let midnight = date.and_then(|d| Timestamp::parse(&format!("{d}T00:00:00Z")));
    Timestamp::parse(text).or(midnight).ok_or_else(|| {
        Failure::Message(format!(
            "invalid --since value '{text}'; expected a time such as 2026-12-01T08:00:00Z or a \
             date such as 2026-12-01"
        ))
    })
}

fn write_entries(entries: &[&AuditEntry], output: OutputArg) -> io::Result<()> {
    let listing = match output {
        OutputArg::Table => ListOutput::Table,
        OutputArg::Csv => ListOutput::Csv,
        OutputArg::Json => {
            let value = serde_json::to_value(entries).map_err(io::Error::other)?;
            return writeln!(io::stdout().lock(), "{value:#}");
        }
        OutputArg::Ndjson => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            for entry in entries {
                serde_json::to_writer(&mut out, entry).map_err(io::Error::other)?;
                writeln!(out)?;
            }
            return out.flush();
        }
    };
    let mut table = Table::new(&["seq", "time", "actor", "operation", "target", "before", "after"]);
    for entry in entries {
        table.push(vec![
            entry.seq.to_string(),
            entry.time.to_string(),
            entry.actor.clone(),
            entry.operation.as_str().to_string(),
            entry.target.clone(),
            abbreviate(entry.before.to_string(), listing),
            abbreviate(entry.after.to_string(), listing),
        ]);
    }
    write_listing(&table, listing)
}

/// Maximum characters of a before/after value in a table cell. CSV and JSON output show the
/// whole value.
const TABLE_CELL_CHARS: usize = 120;

/// Shortens a long value in table output, where a member list of a large import would make
/// every row as wide as the list.
fn abbreviate(text: String, listing: ListOutput) -> String {
    if listing != ListOutput::Table || text.chars().count() <= TABLE_CELL_CHARS {
        return text;
    }
    let kept: String = text.chars().take(TABLE_CELL_CHARS).collect();
    format!("{kept}... (use --output json for the whole value)")
}
