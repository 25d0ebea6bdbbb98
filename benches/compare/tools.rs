//! Helpers of `benches/compare/run.sh`, built as a bench target so that they get the release
//! profile and are built by `cargo bench --no-run`. Not a criterion bench: it measures nothing
//! when cargo runs it without arguments.
//!
//! - `naive-scan QUERY THREADS EMAILS MEMBERS...`: the scan without an index. It reads the
//!   enveloped NDJSON email file into memory, splits it at line ends into one part per thread,
//!   parses the four fields `RecipientEmailAddress`, `ThreatTypes`, `Timestamp` and
//!   `DeliveryAction` of each line into borrowed strings with serde_json, and probes a
//!   `HashSet` of the addresses in the MEMBERS files. Prints the count of matching lines.
//! - `warm STORE RUNS QUERY...`: opens the index of STORE once, like `tagq query`, and counts
//!   each QUERY RUNS times in the same session. Prints one CSV line `query,run,seconds,count`
//!   per run, so the in-process time of tagq is measured like the in-memory DuckDB and Polars
//!   queries.
//!
//! QUERY of `naive-scan` is q1 (recipient in the members), q2 (q1, `ThreatTypes` contains
//! Phish and `Timestamp` from 2026-10-24 on), q3 (q1 and `DeliveryAction` Delivered or Junked)
//! or q4 (q1 and `DeliveryAction` not Blocked).

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use serde::Deserialize;
use tagq::catalog::Membership;
use tagq::index::{DirectoryKey, Index, QueryRequest};

/// Start of the last 7 days of the generated data, which covers 2026-10-01 to 2026-10-30.
const LAST_WEEK: &str = "2026-10-24";

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    properties: Properties<'a>,
}

#[derive(Deserialize)]
struct Properties<'a> {
    #[serde(rename = "RecipientEmailAddress", borrow)]
    recipient: Cow<'a, str>,
    #[serde(rename = "ThreatTypes", borrow, default)]
    threats: Option<Cow<'a, str>>,
    #[serde(rename = "Timestamp", borrow)]
    time: Cow<'a, str>,
    #[serde(rename = "DeliveryAction", borrow, default)]
    action: Option<Cow<'a, str>>,
}

fn main() -> ExitCode {
    // `cargo bench` passes harness options such as `--bench` and `--test`, which mean nothing
    // here; with no command left, there is nothing to do.
    let args: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with("--")).collect();
    let result = match args.first().map(String::as_str) {
        Some("naive-scan") => naive_scan(&args[1..]),
        Some("warm") => warm(&args[1..]),
        None => Ok(()),
        Some(other) => Err(format!("unknown command {other}: give naive-scan or warm")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tools: {message}");
            ExitCode::FAILURE
        }
    }
}

fn naive_scan(args: &[String]) -> Result<(), String> {
    let [query, threads, emails, member_files @ ..] = args else {
        return Err("usage: naive-scan QUERY THREADS EMAILS MEMBERS...".into());
    };
    let threads: usize = threads.parse().map_err(|_| format!("invalid thread count {threads}"))?;
    let mut members = HashSet::new();
    for file in member_files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        members.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from));
    }
    let text = std::fs::read(emails).map_err(|e| format!("{emails}: {e}"))?;
    let query = query.as_str();
    let parts = split_lines(&text, threads.max(1));
    let counts: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            parts.iter().map(|part| scope.spawn(|| count_part(part, query, &members))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("panic".into()))).collect()
    });
    let mut total = 0;
    for count in counts {
        total += count?;
    }
    println!("{total}");
    Ok(())
}

/// Splits `text` into `parts` pieces that end at line ends.
fn split_lines(text: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(parts);
    let mut start = 0;
    for index in 1..=parts {
        let target = (text.len() * index / parts).max(start);
        let end = match memchr::memchr(b'\n', &text[target.min(text.len())..]) {
            Some(offset) if index < parts => target + offset + 1,
            _ => text.len(),
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

fn count_part(part: &[u8], query: &str, members: &HashSet<String>) -> Result<u64, String> {
    let mut count = 0;
    for line in part.split(|&byte| byte == b'\n').filter(|line| !line.is_empty()) {
        let line: Line<'_> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let row = line.properties;
        if !members.contains(row.recipient.as_ref()) {
            continue;
        }
        let action = row.action.as_deref().unwrap_or("");
        let matched = match query {
            "q1" => true,
            "q2" => {
                row.threats.as_deref().is_some_and(|t| t.contains("Phish"))
                    && row.time.as_ref() >= LAST_WEEK
            }
            "q3" => action == "Delivered" || action == "Junked",
            "q4" => action != "Blocked",
            other => return Err(format!("unknown query {other}: give q1, q2, q3 or q4")),
        };
        count += u64::from(matched);
    }
    Ok(count)
}

fn warm(args: &[String]) -> Result<(), String> {
    let [store, runs, queries @ ..] = args else {
        return Err("usage: warm STORE RUNS QUERY...".into());
    };
    let runs: usize = runs.parse().map_err(|_| format!("invalid run count {runs}"))?;
    let store = Path::new(store);
    let snapshot = tagq::store::Store::open(store)
        .and_then(|s| s.owner_session().and_then(|session| session.read()))
        .map_err(|e| e.to_string())?;
    let lookup = Membership::new(&snapshot.directory, &snapshot.catalog);
    let index = Index::open(store).map_err(|e| e.to_string())?;
    let session = index.stored_session(&lookup, DirectoryKey::of(&snapshot.directory));
    for (number, query) in queries.iter().enumerate() {
        let request = QueryRequest { query: query.clone(), ..QueryRequest::default() };
        // One unmeasured run builds the plan and the tag bitmaps, as in a warm session.
        session.count(&request).map_err(|e| format!("{query}: {e}"))?;
        for run in 0..runs {
            let started = Instant::now();
            let stats = session.count(&request).map_err(|e| format!("{query}: {e}"))?;
            let seconds = started.elapsed().as_secs_f64();
            println!("q{},{run},{seconds:.9},{}", number + 1, stats.matched);
        }
    }
    Ok(())
}
