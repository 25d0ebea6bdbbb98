//! `tagq generate --into-store`: the email rows go through a pipe into the ingest, so datasets
//! larger than the disk can be indexed. The directory, tag, alert and campaign files are
//! written to `--out` as usual, then ingested or imported into the store.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;

use indicatif::ProgressBar;

use crate::generate::{self, Config, EmailWriter, Summary};
use crate::index::{self, IngestOptions, IngestSummary};
use crate::store::Session;

use super::super::tag::{open_store, session};
use super::super::{EXIT_ERROR, EXIT_OK, Failure, Outcome};

/// The setting that caps a custom tag's members; the generator's largest tags exceed its
/// default of 10,000.
const MEMBER_LIMIT: &str = "limits.users_per_custom_tag";

/// Generates the dataset of `config` into the store directory `store`, keeping the files other
/// than the emails in `out`.
pub fn run(config: &Config, out: &Path, store: &Path, bar: &ProgressBar, quiet: bool) -> Outcome {
    let started = Instant::now();
    let (summary, emails) = stream_emails(config, out, store, bar)?;
    let others = ingest_files(out, &summary, store)?;
    import_people(out, &summary, store)?;
    let rejected = print_problems(&[&emails, &others]);
    if !quiet {
        report(&summary, &emails, store, started);
    }
    Ok(if rejected { EXIT_ERROR } else { EXIT_OK })
}

/// Generates on a thread with its own rayon pool and ingests the email rows from a pipe on
/// this one. The ingest's workers are those of the global pool, so a generator blocked on a
/// full pipe never holds a worker that the ingest waits for.
fn stream_emails(
    config: &Config,
    out: &Path,
    store: &Path,
    bar: &ProgressBar,
) -> Result<(Summary, IngestSummary), Failure> {
    let (reader, writer) = io::pipe()?;
    let input = pipe_path(&reader)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .thread_name(|index| format!("generate-{index}"))
        .build()
        .map_err(|e| Failure::Message(format!("failed to start the generator threads: {e}")))?;
    let (generated, ingested) = thread::scope(|scope| {
        let generator = scope.spawn(|| {
            let sink =
                EmailWriter { name: "the pipe into the index".into(), writer: Box::new(writer) };
            pool.install(|| {
                generate::generate_with_emails(config, out, sink, &mut |rows| {
                    bar.set_position(rows)
                })
            })
        });
        let ingested = index::ingest(store, &[input], &IngestOptions::default(), &mut |_| {});
        // Closing the last read end makes a generator still writing fail instead of blocking.
        drop(reader);
        (generator.join(), ingested)
    });
    bar.finish_and_clear();
    // A failed ingest also fails the generator with a broken pipe, so its error comes first.
    // NOTE: when the generator fails after writing some rows, those rows stay in the index,
    // because the ingest publishes what it read once the pipe ends.
    let ingested = ingested.map_err(|e| Failure::Message(e.to_string()))?;
    let generated = generated
        .map_err(|_| Failure::Message("the generator thread panicked".to_string()))?
        .map_err(|e| Failure::Message(e.to_string()))?;
    Ok((generated, ingested))
}

/// Returns a path that opens the read end of the pipe.
#[cfg(unix)]
fn pipe_path(reader: &io::PipeReader) -> Result<PathBuf, Failure> {
    use std::os::fd::AsRawFd;
    let path = PathBuf::from(format!("/dev/fd/{}", reader.as_raw_fd()));
    if path.exists() {
        return Ok(path);
    }
    Err(Failure::Message(format!(
        "--into-store needs {}, which is missing: generate files and run tagq ingest instead",
        path.display()
    )))
}

/// Returns the error of systems without `/dev/fd`.
#[cfg(not(unix))]
fn pipe_path(_reader: &io::PipeReader) -> Result<PathBuf, Failure> {
    Err(Failure::Message(
        "--into-store needs /dev/fd, which only Unix systems have: generate files and run tagq \
         ingest instead"
            .to_string(),
    ))
}

/// Ingests the alert and campaign files in one batch.
fn ingest_files(out: &Path, summary: &Summary, store: &Path) -> Result<IngestSummary, Failure> {
    let mut inputs = Vec::new();
    if summary.alert_rows > 0 {
        inputs.push(out.join(format!("alerts.{}", summary.format.extension())));
    }
    if summary.campaigns > 0 {
        inputs.push(out.join("campaigns.csv"));
    }
    if inputs.is_empty() {
        return Ok(IngestSummary::default());
    }
    index::ingest(store, &inputs, &IngestOptions::default(), &mut |_| {})
        .map_err(|e| Failure::Message(e.to_string()))
}

/// Imports the directory and every tag with its members, raising the store's member limit to
/// the largest tag when it is lower.
fn import_people(out: &Path, summary: &Summary, store: &Path) -> Result<(), Failure> {
    let path = out.join("directory.csv");
    let (directory, _) = crate::directory::load(&path)
        .map_err(|e| Failure::Message(format!("failed to load {}: {e}", path.display())))?;
    let store = open_store(store)?;
    let session = session(&store)?;
    session.import_directory(&directory, &path.display().to_string())?;
    raise_member_limit(&session, summary)?;
    let catalog = session.read()?.catalog;
    for tag in &summary.tags {
        if catalog.tag(&tag.name).is_none() {
            session
                .create_tag(&tag.name, &format!("generated, {} flavour", tag.flavour.as_str()))?;
        }
        let path = out.join(&tag.members_file);
        let members = fs::read(&path)
            .map_err(|e| Failure::Message(format!("failed to read {}: {e}", path.display())))?;
        session.import_members(&tag.name, &members, false)?;
    }
    Ok(())
}

fn raise_member_limit(session: &Session<'_>, summary: &Summary) -> Result<(), Failure> {
    let largest = summary.tags.iter().map(|tag| tag.users).max().unwrap_or(0);
    let current = session.read()?.catalog.settings().get(MEMBER_LIMIT).ok();
    let current = current.and_then(|text| text.parse::<u64>().ok()).unwrap_or(0);
    if largest > current {
        session.set_setting(MEMBER_LIMIT, &largest.to_string())?;
    }
    Ok(())
}

/// Prints rejected inputs and records and the readers' warnings; returns whether anything was
/// rejected.
fn print_problems(summaries: &[&IngestSummary]) -> bool {
    let mut err = io::stderr().lock();
    let mut rejected = false;
    for summary in summaries {
        for error in &summary.rejected {
            let _ = writeln!(err, "tagq: rejected: {error}");
            rejected = true;
        }
        for warning in &summary.warnings {
            let _ = writeln!(err, "tagq: warning: {warning}");
        }
    }
    rejected
}

fn report(summary: &Summary, emails: &IngestSummary, store: &Path, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    let megabytes = summary.email_bytes as f64 / 1e6;
    let stored: u64 = emails.added.values().sum();
    let _ = writeln!(
        io::stderr().lock(),
        "tagq: generated {} email rows ({megabytes:.0} MB) and indexed {stored} of them \
         ({} replaced a copy), {} alert rows, {} campaigns, {} users and {} tags into {} in \
         {seconds:.1} s ({:.1} MB/s of email rows)",
        summary.email_rows,
        emails.replaced,
        summary.alert_rows,
        summary.campaigns,
        summary.users,
        summary.tags.len(),
        store.display(),
        megabytes / seconds.max(1e-9),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Index;

    #[test]
    fn small_dataset_lands_in_store() {
        let dir = tempfile::tempdir().unwrap();
        let (out, store) = (dir.path().join("data"), dir.path().join("store"));
        let config = Config::new(3, 2_500, 3_000);
        let outcome = run(&config, &out, &store, &ProgressBar::hidden(), true);
        assert!(matches!(outcome, Ok(EXIT_OK)));

        let manifest = fs::read(out.join("manifest.json")).unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let count = |key: &str| summary[key].as_u64().unwrap();
        let index = Index::open(&store).unwrap();
        assert_eq!(index.len(), count("email_rows") + count("alert_rows") + count("campaigns"));
        assert!(!out.join("emails.ndjson").exists());

        let snapshot = open_store(&store).unwrap().owner_session().unwrap().read().unwrap();
        assert_eq!(snapshot.directory.users().len() as u64, 2_500);
        let tag = snapshot.catalog.tag("uniform-1k").expect("tag uniform-1k imported");
        assert_eq!(tag.name, "uniform-1k");
        assert_eq!(snapshot.catalog.tags().len(), 1 + 12);
    }

    #[test]
    fn member_limit_rises_to_largest_tag() {
        let dir = tempfile::tempdir().unwrap();
        let mut summary = generate::generate(&Config::new(5, 300, 10), dir.path(), &mut |_| {})
            .expect("generated dataset");
        let store = open_store(&dir.path().join("store")).unwrap();
        let session = session(&store).unwrap();

        raise_member_limit(&session, &summary).unwrap();
        let limit = || session.read().unwrap().catalog.settings().get(MEMBER_LIMIT).unwrap();
        assert_eq!(limit(), "10000");
        summary.tags[0].users = 100_000;
        raise_member_limit(&session, &summary).unwrap();
        assert_eq!(limit(), "100000");
    }
}
