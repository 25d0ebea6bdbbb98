//! A long-running fuzz test of the filter language: random queries built from the language's
//! tokens and random characters go through parse, resolve (against every record kind) and the
//! printer. It checks that nothing panics and that printing a parsed query is a fixed point:
//! `print(parse(print(t))) == print(t)`.
//!
//! It is ignored by default; run it for ten minutes with
//! `TAGQ_FUZZ_SECONDS=600 cargo test --release --test fuzz_filter -- --ignored --nocapture`.
//! `TAGQ_FUZZ_SEED` repeats a run.

use std::time::{Duration, Instant};

use tagq::filter::{self, ParseOptions, ResolveOptions};
use tagq::records::RecordKind;
use tagq::records::map::model_schema;

const TOKENS: &[&str] = &[
    "tag",
    "recipient",
    "sender",
    "user",
    ".",
    ":",
    "(",
    ")",
    "{",
    "}",
    "\"",
    "\\",
    "*",
    " ",
    " and ",
    " or ",
    "not ",
    "AND",
    "Or",
    "severity",
    "subject",
    "received",
    ">=",
    "<",
    ">",
    "<=",
    "now-1d/d",
    "2024-06-01",
    "2024-06-01T08:30:00+02:00",
    "||",
    "+1M",
    "=",
    "==",
    "!=",
    "&&",
    "[1 TO 5]",
    "\u{200B}",
    "\u{201C}",
    "\u{2019}",
    "'",
    "é",
    "𝔘",
    "\\u00e9",
    "\\u",
    "\t",
    "\n",
    "-",
    "_exists_",
    "Priority account",
    "VIP",
    "x",
    "070",
    "-4",
    "12.5",
    "true",
    "\\*",
    "\\:",
    "\\and",
    "\u{a0}",
    "delivery_action",
    "ThreatTypes",
    "phish",
    "has",
    "contains",
];

/// A xorshift generator: small, fast and repeatable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn random_query(rng: &mut Rng) -> String {
    let mut query = String::new();
    for _ in 0..rng.below(24) {
        if rng.below(5) == 0 {
            let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
            query.push(c);
        } else {
            query.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
    }
    query
}

fn check(query: &str, options: &ParseOptions, resolve: &ResolveOptions) {
    let Ok(parsed) = filter::parse(query, options) else { return };
    for kind in RecordKind::ALL {
        let _ = filter::resolve(&parsed.root, &model_schema(kind), resolve);
    }
    let printed = filter::print(&parsed.root);
    let reparsed = filter::parse(&printed, options)
        .unwrap_or_else(|e| panic!("printed form of {query:?} does not parse: {printed:?}: {e}"));
    let again = filter::print(&reparsed.root);
    assert_eq!(again, printed, "printing is not a fixed point for {query:?}");
}

/// Seeds from the wall clock, so that each run explores other queries.
fn clock_seed() -> u64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since_epoch.map_or(1, |d| d.as_nanos() as u64) | 1
}

#[test]
#[ignore = "long fuzz run; see the file's documentation"]
fn fuzz_parse_resolve_print() {
    let seconds: u64 =
        std::env::var("TAGQ_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = std::env::var("TAGQ_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock_seed);
    eprintln!("fuzz: seed {seed}, {seconds} s");
    let mut rng = Rng(seed.max(1));
    let options = ParseOptions::default();
    let resolve = ResolveOptions::default();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs: u64 = 0;
    while Instant::now() < deadline {
        for _ in 0..1000 {
            let query = random_query(&mut rng);
            let outcome = std::panic::catch_unwind(|| check(&query, &options, &resolve));
            if let Err(panic) = outcome {
                eprintln!("fuzz: failing query {query:?}");
                std::panic::resume_unwind(panic);
            }
            runs += 1;
        }
    }
    eprintln!("fuzz: {runs} queries, no panic, printing stable");
}
