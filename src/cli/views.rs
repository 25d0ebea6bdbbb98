//! The explorer, email and campaigns views of `tagq report`, run through the embedding API.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::api::{ApiError, Workspace};
use crate::index::{QueryRequest, Sort};
use crate::records::read::ReadOptions;
use crate::report::{self, ReportFormat, ReportName, ReportOptions, Table};

use super::args::{ReportArgs, ReportOutputArg, SortArg};
use super::filter::{parse_options, read_options, resolve_options};
use super::{EXIT_NO_MATCH, EXIT_OK, Failure, Outcome};

/// One run of a view: what to select, from where, and how to write it.
pub struct ViewRun<'a> {
    /// The view, with its message id or sort order.
    pub name: ReportName,
    /// The query and its options.
    pub request: QueryRequest,
    /// Time window, zone and paging.
    pub options: ReportOptions,
    /// Export files to read instead of the index, when not empty.
    pub input: &'a [PathBuf],
    /// How to read `input`.
    pub read: ReadOptions,
    /// Output format.
    pub format: ReportFormat,
}

/// Returns whether `tagq report NAME` is one of the views this module runs.
pub fn is_view(name: &ReportName) -> bool {
    matches!(name, ReportName::Explorer { .. } | ReportName::Email { .. } | ReportName::Campaigns)
}

/// Runs `tagq report` for a view: `explorer` takes `--sort`, and `email` takes the message
/// id in place of the query and its own query after it.
pub fn run_report(
    args: &ReportArgs,
    name: ReportName,
    options: ReportOptions,
    store: &Path,
    quiet: bool,
) -> Outcome {
    let (name, query) = match name {
        ReportName::Email { .. } => {
            let message_id = args.query.trim();
            if message_id.is_empty() {
                return Err(Failure::Message(
                    "the email report needs a network message id: tagq report email ID [QUERY]"
                        .to_string(),
                ));
            }
            let name = ReportName::Email { message_id: message_id.to_string() };
            (name, args.email_query.clone().unwrap_or_default())
        }
        other => {
            if args.email_query.is_some() {
                return Err(Failure::Message(format!(
                    "the {other} report takes one query; put conditions together with `and`"
                )));
            }
            (other, args.query.clone())
        }
    };
    let name = match (name, args.sort) {
        (ReportName::Explorer { .. }, Some(SortArg::Time)) => {
            ReportName::Explorer { sort: Sort::Time }
        }
        (ReportName::Explorer { .. }, Some(SortArg::TimeDesc)) => {
            ReportName::Explorer { sort: Sort::TimeDesc }
        }
        (other, Some(_)) if !matches!(other, ReportName::Explorer { .. }) => {
            return Err(Failure::Message(format!(
                "--sort orders the explorer report only; the {other} report has its own order"
            )));
        }
        (other, _) => other,
    };
    let request = QueryRequest {
        query,
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        ..QueryRequest::default()
    };
    let view = ViewRun {
        name,
        request,
        options,
        input: &args.input,
        read: read_options(&args.read)?,
        format: match args.output {
            ReportOutputArg::Table => ReportFormat::Table,
            ReportOutputArg::Csv => ReportFormat::Csv,
            ReportOutputArg::Json => ReportFormat::Json,
        },
    };
    run(view, store, quiet)
}

/// Runs a view and writes its table. Exits with status 1 when the table has no row, and for
/// the email view also reports that no record has the message id.
pub fn run(view: ViewRun<'_>, store: &Path, quiet: bool) -> Outcome {
    let (directory, catalog) = super::tag::load_store(store)?;
    super::filter::warn_unknown_tags(&view.request.query, &view.request.parse, &catalog);
    let workspace = Workspace::with_snapshot(store, directory, catalog);
    let table = build(&workspace, &view, quiet)?;
    if let ReportName::Email { message_id } = &view.name
        && table.rows.is_empty()
    {
        let source = if view.input.is_empty() { "the index" } else { "the --input files" };
        let _ = writeln!(
            io::stderr().lock(),
            "tagq: no email in {source} has network message id '{message_id}' within the query \
             and the --since/--until window; check the id, or ingest the export that contains \
             the message"
        );
        return Ok(EXIT_NO_MATCH);
    }
    let mut out = BufWriter::new(io::stdout().lock());
    report::write_table(&table, view.format, &mut out)?;
    out.flush()?;
    if !quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "tagq: {} report row(s) in time zone {}",
            table.rows.len(),
            table.time_zone
        );
    }
    Ok(if table.rows.is_empty() { EXIT_NO_MATCH } else { EXIT_OK })
}

fn build(workspace: &Workspace, view: &ViewRun<'_>, quiet: bool) -> Result<Table, Failure> {
    let query = crate::api::report_query(&view.name, &view.request.query);
    let query = query.as_str();
    if view.input.is_empty() {
        return workspace
            .report(&view.name, &view.request, &view.options)
            .map_err(|error| api_failure(query, error));
    }
    let (table, summaries) = workspace
        .report_files(view.input, &view.read, &view.name, &view.request, &view.options)
        .map_err(|error| api_failure(query, error))?;
    let mut err = io::stderr().lock();
    for summary in &summaries {
        if let Some(error) = summary.errors.first() {
            return Err(Failure::Message(format!(
                "{error}; the report would miss records, so none is printed"
            )));
        }
        for warning in summary.warnings.iter().filter(|_| !quiet) {
            let _ = writeln!(err, "tagq: warning: {warning}");
        }
    }
    Ok(table)
}

fn api_failure(query: &str, error: ApiError) -> Failure {
    match error {
        ApiError::Index(error) => super::query::index_failure(query, error),
        ApiError::Filter(error) => super::filter::stream_failure(query, error),
        other => Failure::Message(other.to_string()),
    }
}
