//! `tagq query`, `tagq explain --plan` and `tagq index rebuild`.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::catalog::Membership;
use crate::index::{self, DirectoryKey, Index, IndexError, QueryRequest, Sort};
use crate::records::Record;
use crate::records::write::RecordWriter;

use super::args::{ExplainArgs, IndexCommand, QueryArgs, SortArg};
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
    let (directory, catalog) = super::tag::load_store(store)?;
    super::filter::warn_unknown_tags(&request.query, &request.parse, &catalog);
    let lookup = Membership::new(&directory, &catalog);
    let index = Index::open(store).map_err(|e| index_failure(&args.query, e))?;
    let session = index.stored_session(&lookup, DirectoryKey::of(&directory));

    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let stats = if args.count {
        let stats = session.count(&request).map_err(|e| index_failure(&args.query, e))?;
        writeln!(out, "{}", stats.matched)?;
        stats
    } else {
        let mut writer =
            RecordWriter::new(&mut out, args.output.map(output_format), args.with_tags);
        let result = session.run(&request, &mut |record: &Record| {
            let tags = if args.with_tags { user_tags(&lookup, record) } else { Vec::new() };
            writer.write(record, &tags)
        });
        let stats = match result {
            Ok(Ok(stats)) => stats,
            Ok(Err(io_error)) => return Err(io_error.into()),
            Err(error) => return Err(index_failure(&args.query, error)),
        };
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
