//! Measures ingest throughput (`tagq::index::ingest`, the engine of `tagq ingest`) by dataset
//! size and row format, in bytes of input per second: reading, mapping every row to a record,
//! building the segment structures and writing the segment files and the manifest.
//!
//! Data: `tagq::generate` writes, with seed 11, `TAGQ_BENCH_ROWS` `EmailEvents` rows (default
//! 20,000) and a tenth of that, with one user per 10 rows (at least 100), into a temporary
//! folder, as enveloped NDJSON and as CSV. Every iteration ingests one file into a new, empty
//! store, so it measures a first ingest; the file comes from the page cache after the first
//! iteration. The default sizes keep a full run near a minute, so CI can run it with
//! `cargo bench -- --test`.
//!
//! Run: `cargo bench --bench ingest`, or `TAGQ_BENCH_ROWS=200000 cargo bench --bench ingest`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tagq::generate::{self, Config, Layout, RowFormat};
use tagq::index::{self, IngestOptions};

const SEED: u64 = 11;
const DEFAULT_ROWS: u64 = 20_000;

/// Returns the row counts to measure: `TAGQ_BENCH_ROWS` and a tenth of it.
fn sizes() -> [u64; 2] {
    let rows = std::env::var("TAGQ_BENCH_ROWS")
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|rows| *rows >= 10)
        .unwrap_or(DEFAULT_ROWS);
    [rows / 10, rows]
}

/// Generates `rows` email rows in `format` and returns the email file.
fn dataset(dir: &Path, rows: u64, format: RowFormat) -> PathBuf {
    let mut config = Config::new(SEED, (rows / 10).max(100), rows);
    config.layout = Layout { format, envelope: true };
    let out = dir.join(format!("{rows}-{}", format.extension()));
    generate::generate(&config, &out, &mut |_| {}).expect("generated dataset");
    out.join(format!("emails.{}", format.extension()))
}

fn bench_ingest(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let options = IngestOptions::default();
    let mut group = c.benchmark_group("index_build");
    group.sample_size(10);
    for rows in sizes() {
        for format in [RowFormat::Ndjson, RowFormat::Csv] {
            let file = dataset(dir.path(), rows, format);
            let bytes = std::fs::metadata(&file).expect("email file").len();
            group.throughput(Throughput::Bytes(bytes));
            let inputs = [file];
            let id = BenchmarkId::new(format.extension(), rows);
            group.bench_with_input(id, &inputs, |b, inputs| {
                b.iter_batched(
                    || tempfile::tempdir_in(dir.path()).expect("store folder"),
                    |store| {
                        let summary = index::ingest(store.path(), inputs, &options, &mut |_| {})
                            .expect("ingest");
                        black_box(summary.added.values().sum::<u64>());
                        store
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
