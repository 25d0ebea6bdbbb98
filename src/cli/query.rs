//! `tagq query`, `tagq explain --plan` and `tagq index rebuild`.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::OnceLock;

use crate::catalog::{LazyMembership, Membership};
use crate::index::{
    self, DirectoryKey, Index, IndexError, QueryRequest, Session, SnapshotKeys, Sort,
};
use crate::records::write::RecordWriter;
use crate::store::{StoreError, StoredSnapshot};

use super::args::{ExplainArgs, IndexCommand, QueryArgs, SortArg, StatsOutputArg};
use super::filter::{output_format, parse_options, render_query_error, resolve_options, user_tags};
use super::{EXIT_NO_MATCH, EXIT_OK, Failure, Outcome};

/// Runs `tagq query`.
pub fn run(args: &QueryArgs, store: &Path, quiet: bool) -> Outcome {
    let request = QueryRequest {
        query: args.query.clone(),
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        kind: args.kind,
        sort: match args.sort {
            None => Sort::Stored,
            Some(SortArg::Time) => Sort::Time,
            Some(SortArg::TimeDesc) => Sort::TimeDesc,
        },
        // `--count` counts every match, and `--limit` bounds only the records written.
        limit: if args.count { None } else { args.limit },
    };
    let snapshot = super::tag::load_stored(store)?;
    super::filter::warn_unknown_tags(&request.query, &request.parse, &snapshot.catalog);
    let slot = OnceLock::new();
    let lookup = LazyMembership::new(&snapshot.catalog, &slot, || snapshot.directory.decode());
    let index = Index::open(store).map_err(|e| index_failure(&args.query, e))?;
    let session = stored_session(&index, &lookup, &snapshot);

    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let stats = if args.count {
        let stats = session.count(&request).map_err(|e| index_failure(&args.query, e))?;
        check_directory(&lookup)?;
        writeln!(out, "{}", stats.matched)?;
        stats
    } else {
        let (hits, stats) = session.hits(&request).map_err(|e| index_failure(&args.query, e))?;
        if args.with_tags {
            lookup.membership();
        }
        check_directory(&lookup)?;
        let mut writer =
            RecordWriter::new(&mut out, args.output.map(output_format), args.with_tags);
        for hit in hits {
            let record = index
                .materialise(hit.segment, hit.record)
                .map_err(|e| index_failure(&args.query, e))?;
            let tags = if args.with_tags { user_tags(&lookup, &record) } else { Vec::new() };
            writer.write(&record, &tags)?;
        }
        writer.finish()?;
        stats
    };
    out.flush()?;
    // The results are already written; a cache that cannot be written only costs the next
    // query the time to build the tag bitmaps again.
    let saved = session.save_tag_bitmaps();
    if !quiet {
        if let Err(error) = &saved {
            let _ = writeln!(io::stderr().lock(), "tagq: warning: {error}");
        }
        let mut err = io::stderr().lock();
        let _ = writeln!(
            err,
            "tagq: {} record(s) in the index, {} matched, {} tested one by one",
            index.len(),
            stats.matched,
            stats.tested
        );
        if index.is_empty() {
            let _ = writeln!(err, "tagq: the index is empty; add records with `tagq ingest FILE`");
        }
    }
    Ok(if stats.matched > 0 { EXIT_OK } else { EXIT_NO_MATCH })
}

/// Starts a session that checks the stored tag bitmaps against the directory's and the
/// catalog's fingerprints, so that the directory is decoded only when the stored state is
/// missing or outdated, or the query needs users beyond it.
fn stored_session<'a, 'd: 'a>(
    index: &'a Index,
    lookup: &'a LazyMembership<'d, StoreError>,
    snapshot: &StoredSnapshot,
) -> Session<'a> {
    match snapshot.directory.fingerprint() {
        Some(fingerprint) => {
            let users = || u32::try_from(lookup.directory().users().len()).ok();
            let keys = SnapshotKeys {
                directory: fingerprint,
                catalog: snapshot.catalog_fingerprint,
                users: &users,
            };
            index.stored_session_keyed(lookup, &keys)
        }
        // Before the first import the directory is empty, and a file that does not have the
        // layout tagq writes is decoded, which reports what is wrong with it.
        None => index.stored_session(lookup, DirectoryKey::of(lookup.directory())),
    }
}

/// Fails when the directory was needed but could not be decoded, since results computed
/// with an empty directory in its place are wrong.
fn check_directory(lookup: &LazyMembership<'_, StoreError>) -> Result<(), Failure> {
    match lookup.take_error() {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Runs `tagq explain --plan`: the plan of each distinct resolved form of the query.
pub fn explain_plan(args: &ExplainArgs, store: &Path) -> Outcome {
    let request = QueryRequest {
        query: args.query.clone(),
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        kind: args.kind,
        ..QueryRequest::default()
    };
    let (directory, catalog) = super::tag::load_store(store)?;
    super::filter::warn_unknown_tags(&request.query, &request.parse, &catalog);
    let lookup = Membership::new(&directory, &catalog);
    let index = Index::open(store).map_err(|e| index_failure(&args.query, e))?;
    let text =
        index.session(&lookup).explain(&request).map_err(|e| index_failure(&args.query, e))?;
    let mut out = io::stdout().lock();
    write!(out, "{text}")?;
    Ok(EXIT_OK)
}

/// Runs one `tagq index` command.
pub fn index(command: IndexCommand, store: &Path, quiet: bool) -> Outcome {
    match command {
        IndexCommand::Rebuild => {
            let summary = index::rebuild(store).map_err(|e| Failure::Message(e.to_string()))?;
            if !quiet {
                let _ = writeln!(
                    io::stderr().lock(),
                    "tagq: rebuilt {} segment(s) from {} stored record(s)",
                    summary.segments,
                    summary.records
                );
            }
            Ok(EXIT_OK)
        }
        IndexCommand::Stats { output } => {
            let index = Index::open(store).map_err(|e| Failure::Message(e.to_string()))?;
            let stats = index.stats();
            if stats.records == 0 && !quiet {
                let _ = writeln!(
                    io::stderr().lock(),
                    "tagq: the index is empty; add records with `tagq ingest FILE`"
                );
            }
            let mut out = io::stdout().lock();
            match output {
                StatsOutputArg::Table => index::write_stats_table(&stats, &mut out)?,
                StatsOutputArg::Json => {
                    serde_json::to_writer_pretty(&mut out, &stats).map_err(io::Error::from)?;
                    writeln!(out)?;
                }
            }
            Ok(EXIT_OK)
        }
    }
}

pub(super) fn index_failure(query: &str, error: IndexError) -> Failure {
    match error {
        IndexError::Query(e) => Failure::Message(render_query_error(query, &e)),
        IndexError::Resolve { file, kind, error } => Failure::Message(format!(
            "query does not fit the {kind} records of {file}\n{}",
            error.diagnostic.render(query)
        )),
        other => Failure::Message(other.to_string()),
    }
}
