//! The streaming filter job: read inputs in batches, map and evaluate records in parallel,
//! and hand the matches to the caller in input order.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::catalog::TagLookup;
use crate::eval::Matcher;
use crate::filter::ast::Node;
use crate::filter::{self, FilterError, ParseOptions, ResolveOptions};
use crate::records::map::{self, ExtraColumns, MapContext, MapError, Mapped};
use crate::records::read::{self, ReadError, ReadOptions};
use crate::records::{Record, RecordKind, Role, SourceFormat, UserRef};

/// A filter run: the query with its options, and how to read the inputs.
#[derive(Clone, Debug, Default)]
pub struct FilterJob {
    /// The query text.
    pub query: String,
    /// Parser limits.
    pub parse: ParseOptions,
    /// Time zone and the instant that `now` means.
    pub resolve: ResolveOptions,
    /// Input format, delimiter and encoding overrides.
    pub read: ReadOptions,
    /// Only records of this kind are tested; `None` tests every kind found.
    pub kind: Option<RecordKind>,
    /// Only records of this kind are tested, but unlike `kind` records keep the mapping that
    /// detection gives them. An index query with a kind selects records this way.
    pub only: Option<RecordKind>,
}

/// An error that stops the job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The query does not parse.
    #[error("invalid query: {0}")]
    Query(#[source] Box<FilterError>),
    /// The query does not fit the records of one kind in one input.
    #[error("invalid query for {kind} records in {file}: {error}")]
    Resolve {
        /// The input whose records the query was resolved for.
        file: String,
        /// The record kind.
        kind: RecordKind,
        /// The resolution error.
        #[source]
        error: Box<FilterError>,
    },
}

/// A problem with one input or one record; the job goes on with the next input or record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// An input could not be opened or read further.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A record could not be mapped to the model.
    #[error(transparent)]
    Map(#[from] MapError),
}

/// Counts and problems of a finished job.
#[derive(Debug, Default)]
pub struct Summary {
    /// Records read and mapped, of every kind.
    pub records: u64,
    /// Records that matched.
    pub matched: u64,
    /// Records of another kind than the one requested, not tested.
    pub other_kind: BTreeMap<RecordKind, u64>,
    /// Rows of tables that hold neither alerts, emails nor campaigns, by table name.
    pub skipped_tables: BTreeMap<String, u64>,
    /// Inputs or records that could not be read; the job reports them and exits with an error.
    pub errors: Vec<InputError>,
    /// Warnings about inputs, such as a row count equal to a portal export cap.
    pub warnings: Vec<String>,
    /// Parser warnings about the query (W codes).
    pub query_warnings: Vec<filter::Diagnostic>,
    /// The format of the first input that could be opened, which output without a format of
    /// its own follows even when nothing matched.
    pub input_format: Option<SourceFormat>,
    /// Recipient and alert-user references that resolved to no directory user.
    pub unresolved: u64,
    /// The first few of those addresses, for the report.
    pub unresolved_examples: Vec<String>,
}

impl Summary {
    /// The number of unresolved addresses kept as examples.
    const UNRESOLVED_EXAMPLES: usize = 3;

    fn note_unresolved(&mut self, addresses: Vec<String>) {
        self.unresolved += addresses.len() as u64;
        for address in addresses {
            if self.unresolved_examples.len() < Self::UNRESOLVED_EXAMPLES
                && !self.unresolved_examples.contains(&address)
            {
                self.unresolved_examples.push(address);
            }
        }
    }
}

/// Parses the query once, so that syntax errors are found before any input is opened.
pub fn parse_query(job: &FilterJob) -> Result<(Node, Vec<filter::Diagnostic>), StreamError> {
    let parsed =
        filter::parse(&job.query, &job.parse).map_err(|e| StreamError::Query(Box::new(e)))?;
    Ok((parsed.root, parsed.warnings))
}

/// Runs the filter over `inputs` (`-` is standard input) and calls `on_match` for every match,
/// in input order. A failing `on_match` (a closed pipe) stops the job with that error.
///
/// To save copies, a record carries in [`Record::extra`] only the columns that the query reads,
/// unless it is in the batch where its kind first appears in its input. Its other fields and
/// [`Record::raw`] are always complete.
///
/// # Errors
///
/// Returns [`StreamError`] for a query that does not parse or does not fit the records. Problems
/// with single inputs or records are collected in [`Summary::errors`] instead.
pub fn run<E>(
    inputs: &[PathBuf],
    job: &FilterJob,
    lookup: &dyn TagLookup,
    on_match: &mut dyn FnMut(&Record) -> Result<(), E>,
) -> Result<Result<Summary, E>, StreamError> {
    let (root, query_warnings) = parse_query(job)?;
    let mut summary = Summary { query_warnings, ..Summary::default() };
    for input in inputs {
        let mut file = FileRun::new(job, &root, lookup);
        match file.run(input, &mut summary, on_match)? {
            Ok(()) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(summary))
}

/// The state of the job over one input: one compiled matcher per record kind met.
struct FileRun<'a> {
    job: &'a FilterJob,
    root: &'a Node,
    lookup: &'a dyn TagLookup,
    matchers: HashMap<RecordKind, Matcher<'a>>,
    /// The source columns that mapping copies into records. A kind with a matcher gets the
    /// columns its query reads, a kind that is not tested gets none, and other kinds get all.
    extra: ExtraColumns,
}

impl<'a> FileRun<'a> {
    fn new(job: &'a FilterJob, root: &'a Node, lookup: &'a dyn TagLookup) -> FileRun<'a> {
        let mut extra = ExtraColumns::default();
        for kind in RecordKind::ALL {
            if job.kind.is_some_and(|k| k != kind) {
                extra.keep_only(kind, Vec::new());
            }
        }
        FileRun { job, root, lookup, matchers: HashMap::new(), extra }
    }

    fn run<E>(
        &mut self,
        input: &Path,
        summary: &mut Summary,
        on_match: &mut dyn FnMut(&Record) -> Result<(), E>,
    ) -> Result<Result<(), E>, StreamError> {
        let reader = match read::open(input, &self.job.read) {
            Ok(reader) => reader,
            Err(e) => {
                summary.errors.push(e.into());
                return Ok(Ok(()));
            }
        };
        summary.input_format.get_or_insert(reader.format());
        let context = MapContext {
            file: Arc::from(reader.name()),
            format: reader.format(),
            kind: self.job.kind,
        };
        let mut reader = reader;
        for batch in reader.by_ref() {
            let batch = match batch {
                Ok(batch) => batch,
                Err(e) => {
                    summary.errors.push(e.into());
                    break;
                }
            };
            let mapped: Vec<Result<Mapped, MapError>> = batch
                .into_par_iter()
                .map(|item| map::map_item_owned(item, &context, &self.extra))
                .collect();
            self.prepare_matchers(&mapped, &context)?;
            let verdicts: Vec<(bool, Vec<String>)> =
                mapped.par_iter().map(|m| self.verdict(m)).collect();
            for (item, (matched, unresolved)) in mapped.into_iter().zip(verdicts) {
                summary.note_unresolved(unresolved);
                if let Err(e) = self.account(item, matched, summary, on_match) {
                    return Ok(Err(e));
                }
            }
        }
        summary.warnings.extend(reader.warnings().iter().map(ToString::to_string));
        Ok(Ok(()))
    }

    /// Resolves the query for each record kind that first appears in this batch, using the
    /// columns of its first record.
    fn prepare_matchers(
        &mut self,
        mapped: &[Result<Mapped, MapError>],
        context: &MapContext,
    ) -> Result<(), StreamError> {
        for item in mapped {
            let Ok(Mapped::Record(record)) = item else { continue };
            if self.matchers.contains_key(&record.kind) || !self.is_requested(record.kind) {
                continue;
            }
            let columns: Vec<String> = record.extra.iter().map(|(name, _)| name.clone()).collect();
            let schema = map::schema_for(record.kind, &columns);
            let query =
                filter::resolve(self.root, &schema, &self.job.resolve).map_err(|error| {
                    StreamError::Resolve {
                        file: context.file.to_string(),
                        kind: record.kind,
                        error: Box::new(error),
                    }
                })?;
            let matcher = Matcher::new(&query, self.lookup);
            self.extra.keep_only(record.kind, matcher.columns());
            self.matchers.insert(record.kind, matcher);
        }
        Ok(())
    }

    fn is_requested(&self, kind: RecordKind) -> bool {
        self.job.kind.is_none_or(|k| k == kind) && self.job.only.is_none_or(|k| k == kind)
    }

    /// Tests a record, resolving its users once. Returns whether it matches, and the
    /// recipient and alert-user addresses that resolve to no directory user, so that tags
    /// cannot apply to them. Senders are left out of those, since most are external.
    fn verdict(&self, mapped: &Result<Mapped, MapError>) -> (bool, Vec<String>) {
        let Ok(Mapped::Record(record)) = mapped else { return (false, Vec::new()) };
        let Some(matcher) = self.matchers.get(&record.kind) else {
            let unresolved = record
                .users
                .iter()
                .filter(|user| user.role() != Role::Sender && self.lookup.resolve(user).is_none());
            return (false, unresolved_addresses(unresolved));
        };
        let users = matcher.involved(record);
        let matched = matcher.matches_involved(record, &users);
        let unresolved = users.iter().filter(|u| u.user.is_none()).map(|u| u.reference);
        (matched, unresolved_addresses(unresolved))
    }

    fn account<E>(
        &self,
        item: Result<Mapped, MapError>,
        matched: bool,
        summary: &mut Summary,
        on_match: &mut dyn FnMut(&Record) -> Result<(), E>,
    ) -> Result<(), E> {
        match item {
            Ok(Mapped::Record(record)) => {
                summary.records += 1;
                if !self.is_requested(record.kind) {
                    *summary.other_kind.entry(record.kind).or_default() += 1;
                } else if matched {
                    summary.matched += 1;
                    on_match(&record)?;
                }
            }
            Ok(Mapped::Skipped { table }) => *summary.skipped_tables.entry(table).or_default() += 1,
            Err(e) => summary.errors.push(e.into()),
        }
        Ok(())
    }
}

/// Returns the address, or else the object id, of each unresolved reference that is not a
/// sender.
fn unresolved_addresses<'r>(references: impl Iterator<Item = &'r UserRef>) -> Vec<String> {
    references
        .filter(|user| user.role() != Role::Sender)
        .filter_map(|user| user.address.clone().or_else(|| user.object_id.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::catalog::{Catalog, Membership};
    use crate::directory::Directory;
    use crate::time::Timestamp;

    /// Runs `query` over NDJSON `lines` in batches of two and returns the matched ids and the
    /// names of the extra columns of each match.
    fn run_ndjson(query: &str, lines: &[&str]) -> Vec<(String, Vec<String>)> {
        let mut file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
        for line in lines {
            writeln!(file, "{line}").unwrap_or_else(|e| panic!("{e}"));
        }
        let directory = Directory::new(Vec::new(), Vec::new());
        let catalog = Catalog::new(Timestamp::from_unix_seconds(0));
        let lookup = Membership::new(&directory, &catalog);
        let mut job = FilterJob { query: query.to_string(), ..FilterJob::default() };
        job.read.batch_items = 2;
        let mut matched = Vec::new();
        let inputs = [file.path().to_path_buf()];
        let result = run(&inputs, &job, &lookup, &mut |record: &Record| {
            let columns = record.extra.iter().map(|(name, _)| name.clone()).collect();
            matched.push((record.id.clone(), columns));
            Ok::<(), std::io::Error>(())
        });
        let summary = result.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        assert!(summary.errors.is_empty(), "{:?}", summary.errors);
        matched
    }

    #[test]
    fn column_query_matches_after_first_batch() {
        let lines: Vec<String> = (0..5)
            .map(|i| {
                let language = if i % 2 == 0 { "fr" } else { "en" };
                format!(
                    r#"{{"NetworkMessageId":"m-{i}","RecipientEmailAddress":"a@contoso.test","EmailLanguage":"{language}","UrlCount":{i}}}"#
                )
            })
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let matched = run_ndjson("EmailLanguage:fr", &lines);
        let ids: Vec<&str> = matched.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["m-0/a@contoso.test", "m-2/a@contoso.test", "m-4/a@contoso.test"]);
        let last_columns = matched.last().map(|(_, columns)| columns.clone());
        assert_eq!(last_columns, Some(vec!["EmailLanguage".to_string()]));
    }
}
