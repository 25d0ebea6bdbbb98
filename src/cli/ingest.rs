//! `tagq ingest`.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::index::{self, IngestOptions, IngestSummary};

use super::args::IngestArgs;
use super::filter::read_options;
use super::{EXIT_ERROR, EXIT_OK, Failure, Outcome};

/// Runs `tagq ingest`.
pub fn run(args: &IngestArgs, store: &Path, quiet: bool) -> Outcome {
    let options = IngestOptions {
        read: read_options(&args.input)?,
        kind: args.kind,
        segment_size: args.segment_size,
    };
    let inputs: Vec<PathBuf> =
        if args.files.is_empty() { vec![PathBuf::from("-")] } else { args.files.clone() };
    let show_progress = !quiet && io::stderr().is_terminal();
    let started = Instant::now();
    let mut progress = |records: u64| {
        if show_progress {
            let _ = write!(io::stderr().lock(), "\rtagq: {records} record(s) read");
        }
    };
    let result = index::ingest(store, &inputs, &options, &mut progress);
    if show_progress {
        let _ = writeln!(io::stderr().lock());
    }
    let summary = result.map_err(|e| Failure::Message(e.to_string()))?;
    report(&summary, started.elapsed().as_secs_f64(), quiet);
    Ok(if summary.rejected.is_empty() { EXIT_OK } else { EXIT_ERROR })
}

/// Prints rejected inputs and records, warnings and the counts on stderr.
fn report(summary: &IngestSummary, seconds: f64, quiet: bool) {
    let mut err = io::stderr().lock();
    for error in &summary.rejected {
        let _ = writeln!(err, "tagq: rejected: {error}");
    }
    for warning in &summary.warnings {
        let _ = writeln!(err, "tagq: warning: {warning}");
    }
    for (table, count) in &summary.skipped_tables {
        let _ = writeln!(
            err,
            "tagq: {count} row(s) of table {table} are neither alerts, emails nor campaigns and were not ingested"
        );
    }
    if quiet {
        return;
    }
    let added: Vec<String> =
        summary.added.iter().map(|(kind, count)| format!("{count} {kind}(s)")).collect();
    let added = if added.is_empty() { "no records".to_string() } else { added.join(", ") };
    let megabytes = summary.bytes as f64 / 1e6;
    let _ = writeln!(
        err,
        "tagq: added {added}; {} replaced an older copy; {} rejected; {megabytes:.1} MB in {seconds:.2} s",
        summary.replaced,
        summary.rejected.len(),
    );
}
