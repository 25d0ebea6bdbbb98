//! Measures the index on generated emails: ingest throughput and index size (one timed run,
//! printed). Criterion measures the warm query times of Q1–Q4 and of Q6 (the newest 100
//! matches written as NDJSON). It also measures the time until a count reflects 1, 100 and
//! 1,000 users swapped in a 10,000-user tag (removed and replaced by users outside it).
//!
//! Data: `TAGQ_BENCH_ROWS` rows (default 1,000,000) of an Advanced Hunting `EmailEvents`
//! NDJSON export, one row per message and recipient, with 1 + a geometric number of
//! recipients (mean ≈ 1.6) per message, drawn log-uniformly (Zipf-like, s ≈ 1) from 100,000
//! directory users; 95 % of senders are external. Tag "T10k" has 10,000 uniformly drawn users;
//! "Priority account" has 250. The generator is a fixed-seed xorshift, so runs are repeatable.
//!
//! Run: `cargo bench --bench index_query`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tagq::catalog::{Catalog, Membership};
use tagq::directory::Directory;
use tagq::index::{self, Index, IngestOptions, QueryRequest, Sort};
use tagq::records::RecordKind;
use tagq::records::write::{OutputFormat, RecordWriter};

const USERS: u64 = 100_000;
const TAG_USERS: u64 = 10_000;

/// A xorshift64* generator with a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Log-uniform user index: user k is drawn with probability ≈ 1 / (k ln n).
    fn zipf_user(&mut self) -> u64 {
        ((USERS as f64).powf(self.unit()) as u64).saturating_sub(1).min(USERS - 1)
    }
}

fn address(user: u64) -> String {
    format!("user{user}@contoso.test")
}

fn write_emails(path: &Path, rows: u64) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(rows as usize * 400);
    let start = 1_717_200_000i64; // 2024-06-01
    let mut message = 0u64;
    let mut written = 0u64;
    let actions = ["Delivered", "Delivered", "Delivered", "Junked", "Blocked"];
    let threats = ["", "", "", "Phish", "Spam", "Phish,Spam", "Malware"];
    while written < rows {
        message += 1;
        let mut recipients = 1;
        while rng.unit() < 0.375 {
            recipients += 1;
        }
        let time = start + (message as i64) * 30 / 10;
        let stamp = jiff::Timestamp::from_second(time).unwrap();
        let sender = if rng.below(20) == 0 {
            address(rng.zipf_user())
        } else {
            format!("sender{}@fabrikam{}.test", rng.below(5000), rng.below(50))
        };
        let action = actions[rng.below(actions.len() as u64) as usize];
        let threat = threats[rng.below(threats.len() as u64) as usize];
        for _ in 0..recipients {
            let recipient = address(rng.zipf_user());
            let _ = writeln!(
                out,
                "{{\"Timestamp\":\"{stamp}\",\"NetworkMessageId\":\"{message:08x}-aaaa-4000-8000-000000000000\",\
                 \"InternetMessageId\":\"<m{message}@fabrikam.test>\",\"SenderFromAddress\":\"{sender}\",\
                 \"SenderMailFromAddress\":\"{sender}\",\"RecipientEmailAddress\":\"{recipient}\",\
                 \"Subject\":\"Message {message} about invoices\",\"EmailDirection\":\"Inbound\",\
                 \"DeliveryAction\":\"{action}\",\"DeliveryLocation\":\"Inbox/folder\",\
                 \"ThreatTypes\":\"{threat}\",\"AttachmentCount\":{},\"UrlCount\":{}}}",
                rng.below(3),
                rng.below(5)
            );
            written += 1;
        }
    }
    std::fs::write(path, out).unwrap();
}

fn directory() -> Directory {
    let mut csv = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for user in 0..USERS {
        let _ = writeln!(
            csv,
            "00000000-0000-4000-8000-{user:012},user,{},User {user},,true,",
            address(user)
        );
    }
    tagq::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0
}

fn tag_members(rng: &mut Rng, count: u64) -> Vec<String> {
    let mut chosen = std::collections::BTreeSet::new();
    while (chosen.len() as u64) < count {
        chosen.insert(rng.below(USERS));
    }
    chosen.into_iter().map(address).collect()
}

/// Builds the catalog through a throw-away store, because catalog changes go through the
/// store's role-checked sessions.
fn catalog(directory: &Directory, t10k: &[String], priority: &[String]) -> Catalog {
    let temp = tempfile::tempdir().unwrap();
    let store = tagq::store::Store::open(temp.path()).unwrap();
    let session = store.owner_session().unwrap();
    session.import_directory(directory, "bench directory").unwrap();
    session.create_tag("T10k", "").unwrap();
    session.import_members("T10k", t10k.join("\n").as_bytes(), false).unwrap();
    session.import_members("Priority account", priority.join("\n").as_bytes(), false).unwrap();
    session.read().unwrap().catalog
}

fn request(query: &str) -> QueryRequest {
    QueryRequest { query: query.into(), kind: Some(RecordKind::Email), ..QueryRequest::default() }
}

const QUERIES: [(&str, &str); 4] = [
    ("q1_tag", "recipient.tag:T10k"),
    ("q2_tag_phish_week", "recipient.tag:T10k and ThreatTypes:Phish and received >= 2024-06-10"),
    (
        "q3_or_of_tags",
        "(recipient.tag:\"Priority account\" or recipient.tag:T10k) and DeliveryAction:(Delivered or Junked)",
    ),
    ("q4_not_blocked", "recipient.tag:T10k and not DeliveryAction:Blocked"),
];

fn bench(c: &mut Criterion) {
    let rows: u64 =
        std::env::var("TAGQ_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let temp = tempfile::tempdir().unwrap();
    let input = temp.path().join("emails.ndjson");
    write_emails(&input, rows);
    let input_bytes = std::fs::metadata(&input).unwrap().len();
    let store = temp.path().join("store");

    let started = Instant::now();
    let summary =
        index::ingest(&store, std::slice::from_ref(&input), &IngestOptions::default(), &mut |_| {})
            .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert!(summary.rejected.is_empty());
    let added: u64 = summary.added.values().sum();
    let index = Index::open(&store).unwrap();
    println!(
        "ingest: {added} records, {:.1} MB NDJSON in {seconds:.2} s = {:.1} MB/s, {:.0} records/s; \
         index files {:.1} bytes/record (derived structures only)",
        input_bytes as f64 / 1e6,
        input_bytes as f64 / 1e6 / seconds,
        added as f64 / seconds,
        index.index_bytes() as f64 / added as f64,
    );

    let directory = directory();
    let mut rng = Rng(7);
    let t10k = tag_members(&mut rng, TAG_USERS);
    let priority = tag_members(&mut rng, 250);
    let catalog_before = catalog(&directory, &t10k, &priority);
    let lookup = Membership::new(&directory, &catalog_before);
    let session = index.session(&lookup);
    for (name, query) in QUERIES {
        let stats = session.count(&request(query)).unwrap();
        println!("{name}: {} matched, {} tested one by one", stats.matched, stats.tested);
    }
    let mut group = c.benchmark_group("index_query");
    group.sample_size(20);
    for (name, query) in QUERIES {
        let request = request(query);
        group.bench_function(name, |b| b.iter(|| black_box(session.count(&request).unwrap())));
    }
    // Q6: the newest 100 phish emails of the tag with every field, written as NDJSON.
    let newest = QueryRequest {
        sort: Sort::TimeDesc,
        limit: Some(100),
        ..request("recipient.tag:T10k and ThreatTypes:Phish")
    };
    group.bench_function("q6_newest_100_written", |b| {
        b.iter(|| {
            let (hits, _) = session.hits(&newest).unwrap();
            let mut writer = RecordWriter::new(std::io::sink(), Some(OutputFormat::Ndjson), false);
            for hit in &hits {
                writer.write(&index.materialise(hit.segment, hit.record).unwrap(), &[]).unwrap();
            }
            writer.finish().unwrap();
            black_box(hits.len())
        })
    });
    group.finish();
    drop(session);

    // Membership changes: the time from a changed lookup to a Q1 count that reflects it,
    // starting from a session whose Q1 tag bitmaps are built. `refresh` keeps the resolved
    // users (the directory is unchanged) and updates the tag bitmaps incrementally; a fresh
    // session resolves every reference key and builds the bitmaps again.
    let lookup_before = Membership::new(&directory, &catalog_before);
    let outside: Vec<String> =
        (0..USERS).map(address).filter(|a| !t10k.contains(a)).take(1000).collect();
    let q1 = request("recipient.tag:T10k");
    let mut group = c.benchmark_group("index_membership");
    group.sample_size(10);
    group.bench_function("build_lookup", |b| {
        b.iter(|| black_box(Membership::new(&directory, &catalog_before)))
    });
    for changed_users in [1usize, 100, 1000] {
        let mut members = t10k.clone();
        members.truncate(t10k.len() - changed_users);
        members.extend(outside.iter().take(changed_users).cloned());
        let changed = catalog(&directory, &members, &priority);
        let lookup_after = Membership::new(&directory, &changed);
        group.bench_function(format!("refresh_q1_after_{changed_users}_swapped"), |b| {
            b.iter_batched(
                || {
                    let session = index.session(&lookup_before);
                    session.count(&q1).unwrap();
                    session
                },
                |session| {
                    let session = session.refresh(&lookup_after, true);
                    black_box(session.count(&q1).unwrap())
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function(format!("fresh_q1_after_{changed_users}_swapped"), |b| {
            b.iter(|| black_box(index.session(&lookup_after).count(&q1).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
