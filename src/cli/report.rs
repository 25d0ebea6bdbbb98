//! `tagq report`: a report table (and optionally an SVG chart) over the store's index or over
//! export files.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;

use crate::api::{ApiError, Workspace};
use crate::catalog::Membership;
use crate::eval::stream::{self, FilterJob};
use crate::index::QueryRequest;
use crate::records::Record;
use crate::records::write::UserTags;
use crate::report::{
    self, ReportBuilder, ReportFormat, ReportName, ReportOptions, Table, Window, chart,
};

use super::args::{ReportArgs, ReportOutputArg};
use super::filter::{parse_options, read_options, resolve_options, user_tags};
use super::{EXIT_NO_MATCH, EXIT_OK, Failure, Outcome};

/// Runs `tagq report`.
pub fn run(args: &ReportArgs, store: &Path, quiet: bool) -> Outcome {
    let name: ReportName = args.name.parse().map_err(report_failure)?;
    let window =
        Window::parse(&args.query_options.tz, args.since.as_deref(), args.until.as_deref())
            .map_err(report_failure)?;
    let options =
        ReportOptions { window, limit: args.limit, offset: args.offset, by_tag: args.by_tag };
    let spec = match &args.chart {
        Some(_) => Some(
            name.chart_spec()
                .ok_or_else(|| report_failure(report::ReportError::NoChart(name.to_string())))?,
        ),
        None => None,
    };
    if args.by_tag && name != ReportName::ThreatProtection {
        return Err(report_failure(report::ReportError::NoTagBreakdown(name.to_string())));
    }
    if super::views::is_view(&name) {
        return super::views::run_report(args, name, options, store, quiet);
    }

    let mut builder = name.builder(&options);
    let matched = if args.input.is_empty() {
        build_from_index(args, &name, store, &options, builder.as_mut())?
    } else {
        build_from_files(args, &name, store, &options, builder.as_mut(), quiet)?
    };
    let mut table = builder.finish();
    let rows = table.rows.len();

    if let (Some(path), Some(spec)) = (&args.chart, &spec) {
        write_chart(&table, spec, path)?;
    }
    options.page(&mut table);
    write_output(&table, args.output)?;
    if !quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "tagq: {matched} record(s) matched, {rows} report row(s) in time zone {}",
            table.time_zone
        );
    }
    Ok(if rows > 0 { EXIT_OK } else { EXIT_NO_MATCH })
}

/// Feeds the matching indexed records in the window to the builder; returns how many there
/// were.
fn build_from_index(
    args: &ReportArgs,
    name: &ReportName,
    store: &Path,
    options: &ReportOptions,
    builder: &mut dyn ReportBuilder,
) -> Result<u64, Failure> {
    let request = QueryRequest {
        query: name.query_for(&args.query),
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        kind: name.kind(),
        ..QueryRequest::default()
    };
    let (directory, catalog) = super::tag::load_store(store)?;
    super::filter::warn_unknown_tags(&request.query, &request.parse, &catalog);
    let workspace = Workspace::with_snapshot(store, directory, catalog);

    let mut matched = 0u64;
    let result = workspace.query(&request, &mut |record: &Record, users: &[UserTags]| {
        if options.accepts(record) {
            matched += 1;
            builder.add(record, users);
        }
        ControlFlow::Continue(())
    });
    match result {
        Ok(_) => Ok(matched),
        Err(ApiError::Index(error)) => Err(super::query::index_failure(&request.query, error)),
        Err(error) => Err(Failure::Message(error.to_string())),
    }
}

/// Feeds the matching records of export files in the window to the builder, as `tagq filter`
/// selects them; returns how many there were.
fn build_from_files(
    args: &ReportArgs,
    name: &ReportName,
    store: &Path,
    options: &ReportOptions,
    builder: &mut dyn ReportBuilder,
    quiet: bool,
) -> Result<u64, Failure> {
    let job = FilterJob {
        query: name.query_for(&args.query),
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        read: read_options(&args.read)?,
        kind: None,
        only: name.kind(),
    };
    let (directory, catalog) = super::tag::load_store(store)?;
    super::filter::warn_unknown_tags(&job.query, &job.parse, &catalog);
    let lookup = Membership::new(&directory, &catalog);
    let mut matched = 0u64;
    let result = stream::run(&args.input, &job, &lookup, &mut |record: &Record| {
        if options.accepts(record) {
            matched += 1;
            builder.add(record, &user_tags(&lookup, record));
        }
        Ok::<(), io::Error>(())
    });
    let summary = match result {
        Ok(Ok(summary)) => summary,
        Ok(Err(error)) => return Err(error.into()),
        Err(error) => return Err(super::filter::stream_failure(&job.query, error)),
    };
    if let Some(error) = summary.errors.first() {
        return Err(Failure::Message(format!(
            "{error}; the report would miss records, so none is printed"
        )));
    }
    if !quiet {
        let mut err = io::stderr().lock();
        for warning in &summary.warnings {
            let _ = writeln!(err, "tagq: warning: {warning}");
        }
    }
    Ok(matched)
}

fn write_chart(table: &Table, spec: &chart::ChartSpec, path: &Path) -> Result<(), Failure> {
    let svg = chart::render_svg(table, spec).map_err(report_failure)?;
    std::fs::write(path, svg).map_err(|error| {
        Failure::Message(format!(
            "failed to write the chart to {}: {error}; check that the folder exists and is writable",
            path.display()
        ))
    })
}

fn write_output(table: &Table, output: ReportOutputArg) -> Result<(), Failure> {
    let format = match output {
        ReportOutputArg::Table => ReportFormat::Table,
        ReportOutputArg::Csv => ReportFormat::Csv,
        ReportOutputArg::Json => ReportFormat::Json,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    report::write_table(table, format, &mut out)?;
    out.flush()?;
    Ok(())
}

fn report_failure(error: report::ReportError) -> Failure {
    Failure::Message(error.to_string())
}
