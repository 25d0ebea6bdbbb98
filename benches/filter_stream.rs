//! Measures the streaming filter (`tagq::eval::stream::run`, the engine of `tagq filter`):
//! reading, parsing, mapping each row to a record and evaluating the query
//! `recipient.tag:"uniform-1k"`, in MB/s of input.
//!
//! Data: `tagq::generate` writes 2,000 users and 10,000 `EmailEvents` rows (seed 1) into a
//! temporary folder, once as enveloped NDJSON and once as CSV. The directory and the tag
//! `uniform-1k` (1,000 uniformly chosen users) are loaded into an in-memory catalog. The
//! files are read from disk on every iteration, so after the first one they come from the
//! page cache. The data is about 12 MB, so CI can build the bench with
//! `cargo bench --no-run` and a full run takes seconds.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tagq::catalog::{Catalog, Membership};
use tagq::directory::Directory;
use tagq::eval::stream::{self, FilterJob};
use tagq::generate::{self, Config, Layout, RowFormat};
use tagq::records::Record;

const TAG: &str = "uniform-1k";
const QUERY: &str = "recipient.tag:\"uniform-1k\"";

/// Generates the dataset in `format` and returns the email file.
fn dataset(dir: &Path, format: RowFormat) -> PathBuf {
    let mut config = Config::new(1, 2_000, 10_000);
    config.layout = Layout { format, envelope: true };
    let out = dir.join(format.extension());
    generate::generate(&config, &out, &mut |_| {}).expect("generated dataset");
    out.join(format!("emails.{}", format.extension()))
}

/// Loads the directory and a catalog with the tag, through a throw-away store because catalog
/// changes go through the store's role-checked sessions.
fn catalog(dir: &Path) -> (Directory, Catalog) {
    let data = dir.join("ndjson");
    let (directory, _) = tagq::directory::load(&data.join("directory.csv")).expect("directory");
    let store = tagq::store::Store::open(&dir.join("store")).expect("store");
    let session = store.owner_session().expect("owner session");
    session.import_directory(&directory, "generated directory").expect("directory imported");
    session.create_tag(TAG, "").expect("tag created");
    let members =
        std::fs::read(data.join("tags").join(format!("{TAG}.members.txt"))).expect("member file");
    session.import_members(TAG, &members, false).expect("members imported");
    (directory, session.read().expect("snapshot").catalog)
}

fn bench_filter_stream(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let files = [dataset(dir.path(), RowFormat::Ndjson), dataset(dir.path(), RowFormat::Csv)];
    let (directory, catalog) = catalog(dir.path());
    let lookup = Membership::new(&directory, &catalog);
    let job = FilterJob { query: QUERY.to_string(), ..FilterJob::default() };

    let mut group = c.benchmark_group("filter_stream");
    group.sample_size(10);
    for (name, file) in ["ndjson", "csv"].iter().zip(&files) {
        let bytes = std::fs::metadata(file).expect("email file").len();
        group.throughput(Throughput::Bytes(bytes));
        let inputs = [file.clone()];
        group.bench_function(*name, |b| {
            b.iter(|| {
                let summary = stream::run(&inputs, &job, &lookup, &mut |_: &Record| {
                    Ok::<(), std::io::Error>(())
                });
                black_box(summary.expect("valid query").expect("no output error").matched)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_filter_stream);
criterion_main!(benches);
