//! `tagq filter` and `tagq explain`.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::catalog::{Catalog, TagLookup};
use crate::eval::stream::{self, FilterJob, StreamError, Summary};
use crate::filter::ast::{Node, Term};
use crate::filter::{self, Diagnostic, FilterError, ParseOptions, ResolveOptions};
use crate::records::Record;
use crate::records::map;
use crate::records::read::{Encoding, InputFormat, ReadOptions};
use crate::records::write::{OutputFormat, RecordWriter, UserTags};
use crate::text;

use super::args::{
    EncodingArg, ExplainArgs, ExplainOutput, FilterArgs, FormatArg, InputOptions, OutputArg,
    QueryOptions,
};
use super::{EXIT_ERROR, EXIT_NO_MATCH, EXIT_OK, Failure, Outcome};

/// Runs `tagq filter`.
pub fn run(args: &FilterArgs, store: &Path, quiet: bool) -> Outcome {
    let job = filter_job(args)?;
    let (directory, catalog) = super::tag::load_store(store)?;
    warn_unknown_tags(&job.query, &job.parse, &catalog);
    let lookup = crate::catalog::Membership::new(&directory, &catalog);
    let inputs: Vec<PathBuf> =
        if args.files.is_empty() { vec![PathBuf::from("-")] } else { args.files.clone() };

    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let result = if args.count {
        stream::run(&inputs, &job, &lookup, &mut |_: &Record| Ok::<(), io::Error>(()))
    } else {
        let mut writer =
            RecordWriter::new(&mut out, args.output.map(output_format), args.with_tags);
        let result = stream::run(&inputs, &job, &lookup, &mut |record: &Record| {
            let tags = if args.with_tags { user_tags(&lookup, record) } else { Vec::new() };
            writer.write(record, &tags)
        });
        if let Ok(Ok(summary)) = &result {
            if let Some(format) = summary.input_format {
                writer.set_input_format(format);
            }
            writer.finish()?;
        }
        result
    };
    let summary = match result {
        Ok(Ok(summary)) => summary,
        Ok(Err(io_error)) => return Err(io_error.into()),
        Err(error) if wants_json(args.output) => return Ok(print_json_error(&job.query, error)),
        Err(error) => return Err(stream_failure(&job.query, error)),
    };
    if args.count {
        writeln!(out, "{}", summary.matched)?;
    }
    out.flush()?;
    report(&summary, &job.query, quiet);
    Ok(exit_status(&summary))
}

fn exit_status(summary: &Summary) -> i32 {
    if !summary.errors.is_empty() {
        EXIT_ERROR
    } else if summary.matched > 0 {
        EXIT_OK
    } else {
        EXIT_NO_MATCH
    }
}

/// Lists the tags of each user of the record that carries any.
pub(super) fn user_tags(lookup: &dyn TagLookup, record: &Record) -> Vec<UserTags> {
    crate::eval::user_tags(lookup, record)
}

/// Warns on stderr about tag names in the query that no tag has, since such a name matches no
/// user and the query then silently selects nothing (or everything, under `not`).
pub(super) fn warn_unknown_tags(query: &str, options: &ParseOptions, catalog: &Catalog) {
    let Ok(parsed) = filter::parse(query, options) else { return };
    let known: Vec<&str> = catalog.tags().iter().map(|t| t.name.as_str()).collect();
    let folded: Vec<String> = known.iter().map(|name| text::fold_name(name)).collect();
    let mut unknown = Vec::new();
    collect_tag_names(&parsed.root, &mut unknown);
    let mut err = io::stderr().lock();
    for name in unknown {
        if folded.contains(&text::fold_name(&name)) {
            continue;
        }
        let hint = text::closest(&name, known.iter().copied())
            .map(|n| format!("; did you mean '{n}'?"))
            .unwrap_or_default();
        let _ =
            writeln!(err, "tagq: warning: no tag is named '{name}', so it matches no user{hint}");
    }
}

/// Collects the tag names (not patterns) that tag leaves name.
fn collect_tag_names(node: &Node, names: &mut Vec<String>) {
    match node {
        Node::Tag { value: Term::Plain(name) | Term::Phrase(name), .. }
            if !name.trim().is_empty() && !names.contains(name) =>
        {
            names.push(name.clone());
        }
        Node::Scope { inner, .. } | Node::Not(inner) => collect_tag_names(inner, names),
        Node::And(children) | Node::Or(children) => {
            children.iter().for_each(|child| collect_tag_names(child, names))
        }
        _ => {}
    }
}

/// Prints the summary, warnings and input errors on stderr.
fn report(summary: &Summary, query: &str, quiet: bool) {
    let mut err = io::stderr().lock();
    for warning in &summary.query_warnings {
        let _ = write!(err, "tagq: warning: {}", warning.render(query));
    }
    for error in &summary.errors {
        let _ = writeln!(err, "tagq: {error}");
    }
    for warning in &summary.warnings {
        let _ = writeln!(err, "tagq: warning: {warning}");
    }
    for (table, count) in &summary.skipped_tables {
        let _ = writeln!(
            err,
            "tagq: {count} row(s) of table {table} are neither alerts, emails nor campaigns and were not tested"
        );
    }
    for (kind, count) in &summary.other_kind {
        let _ = writeln!(err, "tagq: {count} {kind} record(s) were not tested because of --kind");
    }
    if summary.unresolved > 0 && !quiet {
        let _ = writeln!(
            err,
            "tagq: {} recipient or alert-user address(es) are not in the directory, so no tag \
             applies to them (e.g. {})",
            summary.unresolved,
            summary.unresolved_examples.join(", ")
        );
    }
    if !quiet {
        let _ =
            writeln!(err, "tagq: {} record(s) read, {} matched", summary.records, summary.matched);
    }
}

pub(super) fn stream_failure(query: &str, error: StreamError) -> Failure {
    match error {
        StreamError::Query(e) => Failure::Message(render_query_error(query, &e)),
        StreamError::Resolve { file, kind, error } => Failure::Message(format!(
            "query does not fit the {kind} records of {file}\n{}",
            error.diagnostic.render(query)
        )),
    }
}

fn wants_json(output: Option<OutputArg>) -> bool {
    matches!(output, Some(OutputArg::Json | OutputArg::Ndjson))
}

/// Prints a query error as one JSON object on stderr, for programs that asked for JSON output,
/// and returns the error exit status.
fn print_json_error(query: &str, error: StreamError) -> i32 {
    let (mut diagnostic, file) = match error {
        StreamError::Query(e) => (e.diagnostic, None),
        StreamError::Resolve { file, error, .. } => (error.diagnostic, Some(file)),
    };
    filter::fill_byte_offset(&mut diagnostic, query);
    let mut value = serde_json::json!({ "error": diagnostic.to_json() });
    if let Some(file) = file {
        value["error"]["file"] = serde_json::Value::String(file);
    }
    let _ = writeln!(io::stderr().lock(), "{value}");
    EXIT_ERROR
}

pub(super) fn render_query_error(query: &str, error: &FilterError) -> String {
    format!("invalid query\n{}", error.diagnostic.render(query))
}

fn filter_job(args: &FilterArgs) -> Result<FilterJob, Failure> {
    Ok(FilterJob {
        query: args.query.clone(),
        parse: parse_options(&args.query_options),
        resolve: resolve_options(&args.query_options)?,
        read: read_options(&args.input)?,
        kind: args.kind,
        only: None,
    })
}

/// Converts the input options of `filter` and `ingest` into reader options.
pub(super) fn read_options(input: &InputOptions) -> Result<ReadOptions, Failure> {
    let delimiter = match input.delimiter {
        None => None,
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => {
            return Err(Failure::Message(format!(
                "invalid --delimiter '{c}': the delimiter must be one ASCII character"
            )));
        }
    };
    Ok(ReadOptions {
        format: input.format.map(input_format),
        delimiter,
        encoding: input.encoding.map(encoding),
        ..ReadOptions::default()
    })
}

pub(super) fn parse_options(options: &QueryOptions) -> ParseOptions {
    ParseOptions {
        max_depth: options.max_depth,
        max_conditions: options.max_conditions,
        max_query_bytes: options.max_query_bytes,
        leading_wildcards: !options.no_leading_wildcards,
    }
}

pub(super) fn resolve_options(options: &QueryOptions) -> Result<ResolveOptions, Failure> {
    let tz = parse_time_zone(&options.tz)?;
    Ok(ResolveOptions { tz, ..ResolveOptions::default() })
}

/// Parses `--tz`: `UTC`, a fixed offset such as `+02:00`, or an IANA zone name.
fn parse_time_zone(text: &str) -> Result<jiff::tz::TimeZone, Failure> {
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok(jiff::tz::TimeZone::UTC);
    }
    if let Some(offset) = parse_offset(text) {
        return Ok(jiff::tz::TimeZone::fixed(offset));
    }
    jiff::tz::TimeZone::get(text).map_err(|e| {
        Failure::Message(format!(
            "invalid --tz '{text}': {e}; give an IANA zone such as Europe/Berlin or an offset such as +02:00"
        ))
    })
}

/// Parses a fixed offset `+hh:mm`, `-hh:mm` or `+hhmm`.
fn parse_offset(text: &str) -> Option<jiff::tz::Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    jiff::tz::Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

pub(super) fn input_format(format: FormatArg) -> InputFormat {
    match format {
        FormatArg::Csv => InputFormat::Csv,
        FormatArg::Json => InputFormat::Json,
        FormatArg::Ndjson => InputFormat::Ndjson,
    }
}

pub(super) fn output_format(output: OutputArg) -> OutputFormat {
    match output {
        OutputArg::Table => OutputFormat::Table,
        OutputArg::Csv => OutputFormat::Csv,
        OutputArg::Json => OutputFormat::Json,
        OutputArg::Ndjson => OutputFormat::Ndjson,
    }
}

pub(super) fn encoding(encoding: EncodingArg) -> Encoding {
    match encoding {
        EncodingArg::Utf8 => Encoding::Utf8,
        EncodingArg::Utf16Le => Encoding::Utf16Le,
        EncodingArg::Utf16Be => Encoding::Utf16Be,
    }
}

/// Runs `tagq explain`: the canonical form, the syntax tree and, with `--kind`, the resolved
/// query.
pub fn explain(args: &ExplainArgs) -> Outcome {
    let parse = parse_options(&args.query_options);
    let resolve = resolve_options(&args.query_options)?;
    let mut out = io::stdout().lock();
    let parsed = match filter::parse(&args.query, &parse) {
        Ok(parsed) => parsed,
        Err(error) => return explain_error(args, &error.diagnostic, &mut out),
    };
    let canonical = filter::print(&parsed.root);
    let resolved = match args.kind {
        None => None,
        Some(kind) => match filter::resolve(&parsed.root, &map::model_schema(kind), &resolve) {
            Ok(query) => Some(query),
            Err(error) => {
                let mut diagnostic = error.diagnostic;
                filter::fill_byte_offset(&mut diagnostic, &args.query);
                return explain_error(args, &diagnostic, &mut out);
            }
        },
    };
    if args.output == ExplainOutput::Json {
        let value = serde_json::json!({
            "canonical": canonical,
            "tree": filter::outline(&parsed.root),
            "resolved": resolved.as_ref().map(filter::outline_resolved),
            "warnings": parsed.warnings.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        });
        writeln!(out, "{value:#}")?;
    } else {
        writeln!(out, "canonical: {canonical}")?;
        write!(out, "tree:\n{}", indent(&filter::outline(&parsed.root)))?;
        if let Some(query) = &resolved {
            write!(out, "resolved:\n{}", indent(&filter::outline_resolved(query)))?;
        }
        let mut err = io::stderr().lock();
        for warning in &parsed.warnings {
            write!(err, "tagq: warning: {}", warning.render(&args.query))?;
        }
    }
    Ok(EXIT_OK)
}

fn indent(outline: &str) -> String {
    outline.lines().map(|line| format!("  {line}\n")).collect()
}

fn explain_error(args: &ExplainArgs, diagnostic: &Diagnostic, out: &mut dyn Write) -> Outcome {
    if args.output == ExplainOutput::Json {
        writeln!(out, "{:#}", serde_json::json!({ "error": diagnostic.to_json() }))?;
        return Ok(EXIT_ERROR);
    }
    Err(Failure::Message(format!("invalid query\n{}", diagnostic.render(&args.query))))
}
