//! Embedding tagq in report pipelines: open a store, run a query, read the matching records
//! with their users' tags, and build reports.
//!
//! A [`Workspace`] reads a store's directory snapshot and tags once, and opens the store's
//! index on the first query. [`Workspace::query`] runs a query over the index, and
//! [`Workspace::filter_files`] runs it over export files with the streaming filter. Both return
//! the same records for the same query, tags and directory. Both call back with each
//! matching record and the tags of its users, and stop early when the callback breaks.
//!
//! [`Workspace::report`] and [`Workspace::report_files`] build one of the reports of
//! `tagq report` and return its [`Table`], which [`crate::report::write_table`] writes as a
//! text table, CSV or JSON. The same query and options give the same table as the command
//! line.
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use std::path::Path;
//! use tagq::api::Workspace;
//! use tagq::index::{QueryRequest, Sort};
//! use tagq::report::{ReportFormat, ReportName, ReportOptions, Window, write_table};
//!
//! let workspace = Workspace::open(Path::new("/var/lib/tagq"))?;
//! let query = "recipient.tag:\"Priority account\"".to_string();
//! let request = QueryRequest { query, ..QueryRequest::default() };
//! let stats = workspace.query(&request, &mut |record, users| {
//!     let tags: Vec<&str> = users.iter().flat_map(|u| u.tags.iter().map(String::as_str)).collect();
//!     println!("{} {}", record.id, tags.join(";"));
//!     ControlFlow::Continue(())
//! })?;
//! println!("{} matched", stats.matched);
//!
//! let window = Window::parse("Europe/Berlin", Some("2024-06-01"), None)?;
//! let options = ReportOptions { window, limit: Some(50), ..ReportOptions::default() };
//! let explorer = ReportName::Explorer { sort: Sort::TimeDesc };
//! let table = workspace.report(&explorer, &request, &options)?;
//! write_table(&table, ReportFormat::Csv, &mut std::io::stdout().lock())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::catalog::{Catalog, Membership};
use crate::directory::Directory;
use crate::eval::stream::{self, FilterJob, StreamError, Summary};
use crate::eval::user_tags;
use crate::index::{DirectoryKey, Index, IndexError, QueryRequest, QueryStats, Sort};
use crate::records::Record;
use crate::records::RecordKind;
use crate::records::read::ReadOptions;
use crate::records::write::UserTags;
use crate::report::{ReportBuilder, ReportName, ReportOptions, Table, email};
use crate::store::{CATALOG_FILE, Store, StoreError};

/// A failure of the embedding API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The folder contains no tagq store.
    #[error(
        "no tagq store at {path}: pass the folder that `tagq --store` uses, or create a store \
         there with `tagq --store {path} directory import FILE`"
    )]
    MissingStore {
        /// The folder that was given.
        path: PathBuf,
    },
    /// The store's files could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index could not be read, or the query does not parse or fit its records.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The query does not parse or does not fit the records of an export file.
    #[error(transparent)]
    Filter(#[from] StreamError),
}

/// The outcome of a query over export files: the streaming filter's counts and the inputs
/// or records it could not read.
pub type FilesSummary = Summary;

/// A function that runs one query and calls back with each match: [`Workspace::query`] or
/// [`Workspace::filter_files`] with its inputs.
type Runner<'r> = dyn FnMut(
        &QueryRequest,
        &mut dyn FnMut(&Record, &[UserTags]) -> ControlFlow<()>,
    ) -> Result<(), ApiError>
    + 'r;

/// A store opened for queries and reports.
///
/// The directory snapshot and the tags are read when the workspace opens, so later changes to
/// the store need a new workspace. The index is opened on first use and kept open: while it
/// is open, `tagq ingest` into the same store waits.
pub struct Workspace {
    store: PathBuf,
    directory: Directory,
    catalog: Catalog,
    index: OnceLock<Index>,
}

impl Workspace {
    /// Opens the store in the folder `store`, acting as the store's owner.
    ///
    /// # Errors
    ///
    /// [`ApiError::MissingStore`] when the folder contains no store (a workspace never creates
    /// one), and [`ApiError::Store`] when its files cannot be read.
    pub fn open(store: &Path) -> Result<Workspace, ApiError> {
        Workspace::open_with(store, None)
    }

    /// Opens the store in the folder `store`, acting as `actor` (a mail address or
    /// `local:NAME`), whose role groups must allow reading tags.
    ///
    /// # Errors
    ///
    /// As [`Workspace::open`], and [`ApiError::Store`] when the actor may not read tags.
    pub fn open_as(store: &Path, actor: &str) -> Result<Workspace, ApiError> {
        Workspace::open_with(store, Some(actor))
    }

    fn open_with(path: &Path, actor: Option<&str>) -> Result<Workspace, ApiError> {
        if !path.join(CATALOG_FILE).is_file() {
            return Err(ApiError::MissingStore { path: path.to_path_buf() });
        }
        let store = Store::open(path)?;
        let session = match actor {
            Some(actor) => store.session(actor)?,
            None => store.owner_session()?,
        };
        let snapshot = session.read()?;
        Ok(Workspace {
            store: path.to_path_buf(),
            directory: snapshot.directory,
            catalog: snapshot.catalog,
            index: OnceLock::new(),
        })
    }

    /// Creates a workspace from a directory snapshot and tags already read from the store in
    /// the folder `store`, for callers that did their own role check.
    pub fn with_snapshot(store: &Path, directory: Directory, catalog: Catalog) -> Workspace {
        Workspace { store: store.to_path_buf(), directory, catalog, index: OnceLock::new() }
    }

    /// Returns the store folder.
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Returns the directory snapshot.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Returns the tags and their members.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Returns a tag lookup over the workspace's directory and tags.
    pub fn membership(&self) -> Membership<'_> {
        Membership::new(&self.directory, &self.catalog)
    }

    /// Returns the store's index, opening it on first use.
    ///
    /// # Errors
    ///
    /// [`ApiError::Index`] when an index file is unreadable or damaged.
    pub fn index(&self) -> Result<&Index, ApiError> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        let index = Index::open(&self.store)?;
        Ok(self.index.get_or_init(|| index))
    }

    /// Runs `request` over the index and calls `f` with each matching record, in the
    /// request's order and limit, and the tags of its users. `f` stops the query by returning
    /// [`ControlFlow::Break`]. Returns the number of matches before the limit.
    ///
    /// Tag bitmaps that the query builds are kept in the index folder for later queries, as
    /// `tagq query` does. When that file cannot be written, the query still succeeds.
    ///
    /// # Errors
    ///
    /// [`ApiError::Index`] for a query that does not parse or fit the indexed records, and
    /// for a damaged index file.
    pub fn query(
        &self,
        request: &QueryRequest,
        f: &mut dyn FnMut(&Record, &[UserTags]) -> ControlFlow<()>,
    ) -> Result<QueryStats, ApiError> {
        let index = self.index()?;
        let lookup = self.membership();
        let session = index.stored_session(&lookup, DirectoryKey::of(&self.directory));
        let (hits, stats) = session.hits(request)?;
        for hit in hits {
            let record = index.materialise(hit.segment, hit.record)?;
            if f(&record, &user_tags(&lookup, &record)).is_break() {
                break;
            }
        }
        // A cache that cannot be written only costs the next query the time to rebuild it.
        let _ = session.save_tag_bitmaps();
        Ok(stats)
    }

    /// Runs `request` over export files with the streaming filter and calls `f` like
    /// [`Workspace::query`]: the same records, tags and order for the same sort and limit.
    /// `Sort::Stored` keeps the files' order. Inputs or records that cannot be read are listed
    /// in the returned summary's `errors`, and the other inputs are still read. The files are
    /// read to the end even after `f` breaks or the limit is reached, so that the summary
    /// counts every record and lists every problem.
    ///
    /// # Errors
    ///
    /// [`ApiError::Filter`] for a query that does not parse or fit the files' records.
    pub fn filter_files(
        &self,
        files: &[PathBuf],
        request: &QueryRequest,
        f: &mut dyn FnMut(&Record, &[UserTags]) -> ControlFlow<()>,
    ) -> Result<FilesSummary, ApiError> {
        self.filter_files_with(files, &ReadOptions::default(), request, f)
    }

    /// Runs [`Workspace::filter_files`] with input format, delimiter and encoding overrides.
    ///
    /// # Errors
    ///
    /// As [`Workspace::filter_files`].
    pub fn filter_files_with(
        &self,
        files: &[PathBuf],
        read: &ReadOptions,
        request: &QueryRequest,
        f: &mut dyn FnMut(&Record, &[UserTags]) -> ControlFlow<()>,
    ) -> Result<FilesSummary, ApiError> {
        let job = FilterJob {
            query: request.query.clone(),
            parse: request.parse.clone(),
            resolve: request.resolve.clone(),
            read: read.clone(),
            kind: None,
            only: request.kind,
        };
        let lookup = self.membership();
        let limit = request.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if request.sort == Sort::Stored {
            let mut delivered = 0usize;
            let mut stopped = false;
            let summary = stream::run(files, &job, &lookup, &mut |record: &Record| {
                if stopped || limit.is_some_and(|limit| delivered >= limit) {
                    return Ok::<(), ()>(());
                }
                delivered += 1;
                stopped = f(record, &user_tags(&lookup, record)).is_break();
                Ok(())
            })?;
            return Ok(summary.unwrap_or_default());
        }
        let mut matches = Vec::new();
        let summary = stream::run(files, &job, &lookup, &mut |record: &Record| {
            matches.push(record.clone());
            Ok::<(), ()>(())
        })?
        .unwrap_or_default();
        sort_records(&mut matches, request.sort);
        matches.truncate(limit.unwrap_or(usize::MAX));
        for record in &matches {
            if f(record, &user_tags(&lookup, record)).is_break() {
                break;
            }
        }
        Ok(summary)
    }

    /// Builds a report over the index: runs `request`'s query over the records of the kinds
    /// the report reads, keeps those in the options' time window, and returns the table with
    /// the options' offset and limit applied. The request's kind, sort and limit are not used.
    ///
    /// The email view selects the records of its message id and, when the request's query is
    /// not blank, those of them that also match it. The campaigns view reads campaign and
    /// email records, and skips a kind whose fields the query does not fit as long as it fits
    /// the other one.
    ///
    /// # Errors
    ///
    /// As [`Workspace::query`].
    pub fn report(
        &self,
        name: &ReportName,
        request: &QueryRequest,
        options: &ReportOptions,
    ) -> Result<Table, ApiError> {
        self.build_report(name, request, options, &mut |request, f| {
            self.query(request, f).map(|_| ())
        })
    }

    /// Builds a report like [`Workspace::report`] over export files instead of the index,
    /// with the same table for the same records. Also returns the summaries of the streaming
    /// runs, which list the inputs and records that could not be read.
    ///
    /// # Errors
    ///
    /// As [`Workspace::filter_files`].
    pub fn report_files(
        &self,
        files: &[PathBuf],
        read: &ReadOptions,
        name: &ReportName,
        request: &QueryRequest,
        options: &ReportOptions,
    ) -> Result<(Table, Vec<FilesSummary>), ApiError> {
        let mut summaries = Vec::new();
        let table = self.build_report(name, request, options, &mut |request, f| {
            summaries.push(self.filter_files_with(files, read, request, f)?);
            Ok(())
        })?;
        Ok((table, summaries))
    }

    /// Returns an empty builder of a report. Unlike [`ReportName::builder`], the email view
    /// gets the workspace's directory for display names.
    pub fn builder<'a>(
        &'a self,
        name: &ReportName,
        options: &ReportOptions,
    ) -> Box<dyn ReportBuilder + 'a> {
        match name {
            ReportName::Email { message_id } => {
                Box::new(email::EmailReport::new(options, message_id, Some(&self.directory)))
            }
            other => other.builder(options),
        }
    }

    fn build_report(
        &self,
        name: &ReportName,
        request: &QueryRequest,
        options: &ReportOptions,
        run: &mut Runner<'_>,
    ) -> Result<Table, ApiError> {
        let mut builder = self.builder(name, options);
        // The explorer list comes back in the list's own order, so the records after the last
        // row of the requested page are not needed.
        let (sort, needed) = match name {
            ReportName::Explorer { sort } => {
                (*sort, options.limit.map(|limit| limit.saturating_add(options.offset)))
            }
            _ => (Sort::Stored, None),
        };
        let mut added = 0usize;
        let mut add = |record: &Record, users: &[UserTags]| {
            if options.accepts(record) {
                builder.add(record, users);
                added += 1;
            }
            if needed.is_some_and(|needed| added >= needed) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let query = report_query(name, &request.query);
        let kinds = report_kinds(name);
        let mut first_error = None;
        let mut fitted = false;
        for kind in &kinds {
            let request = QueryRequest {
                query: query.clone(),
                kind: *kind,
                sort,
                limit: None,
                ..request.clone()
            };
            match run(&request, &mut add) {
                Ok(()) => fitted = true,
                Err(error) if kinds.len() > 1 && is_resolve_error(&error) => {
                    first_error.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        if let (false, Some(error)) = (fitted, first_error) {
            return Err(error);
        }
        let mut table = builder.finish();
        options.page(&mut table);
        Ok(table)
    }
}

/// Orders records by time like the index: a stable sort, records without a time first when
/// oldest first and last when newest first.
fn sort_records(records: &mut [Record], sort: Sort) {
    let key = |record: &Record| record.time.map_or(i64::MIN, |t| t.0);
    match sort {
        Sort::Stored => {}
        Sort::Time => records.sort_by_key(key),
        Sort::TimeDesc => records.sort_by_key(|r| std::cmp::Reverse(key(r))),
    }
}

/// Returns the record kinds a report reads, one query run each.
fn report_kinds(name: &ReportName) -> Vec<Option<RecordKind>> {
    match name {
        ReportName::Campaigns => vec![Some(RecordKind::Campaign), Some(RecordKind::Email)],
        other => vec![other.kind()],
    }
}

/// Returns the query that a report runs: the caller's query, which the email view combines with
/// a condition on its message id and other reports narrow as [`ReportName::query_for`] does.
/// Error offsets of a report's query refer to this text.
pub fn report_query(name: &ReportName, query: &str) -> String {
    match name {
        ReportName::Email { message_id } if query.trim().is_empty() => {
            email::message_query(message_id)
        }
        ReportName::Email { message_id } => {
            format!("{} and ({query})", email::message_query(message_id))
        }
        other => other.query_for(query),
    }
}

/// Returns whether an error reports that the query does not fit the fields of a record kind.
fn is_resolve_error(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::Index(IndexError::Resolve { .. }) | ApiError::Filter(StreamError::Resolve { .. })
    )
}
