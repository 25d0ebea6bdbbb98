//! Measures `tagq::filter::parse` on inputs built in code. The first is a typical analyst query
//! with a tag, a value group, a negation and a date range. The next two are flat `or` chains of
//! 1,000 and 10,000 `ip:` values, whose times should grow linearly. The last is one leaf nested
//! in 64 groups, the default depth limit.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tagq::filter::{ParseOptions, parse};

const TYPICAL: &str = "tag:\"Priority account\" and severity:(high or medium) \
    and not status:resolved and created >= now-7d/d";

fn or_chain(terms: usize) -> String {
    let values: Vec<String> =
        (0..terms).map(|i| format!("ip:10.0.{}.{}", i / 256, i % 256)).collect();
    values.join(" or ")
}

fn nested(depth: usize) -> String {
    format!("{}severity:high{}", "(".repeat(depth), ")".repeat(depth))
}

fn bench_parse(c: &mut Criterion) {
    let options = ParseOptions::default();
    let chain = or_chain(1_000);
    let long_chain = or_chain(10_000);
    let large = ParseOptions { max_query_bytes: 1 << 20, ..ParseOptions::default() };
    let deep = nested(64);
    c.bench_function("parse typical query", |b| b.iter(|| parse(black_box(TYPICAL), &options)));
    c.bench_function("parse 1000-term or chain", |b| b.iter(|| parse(black_box(&chain), &options)));
    c.bench_function("parse 10000-term or chain", |b| {
        b.iter(|| parse(black_box(&long_chain), &large))
    });
    c.bench_function("parse 64-deep nesting", |b| b.iter(|| parse(black_box(&deep), &options)));
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
