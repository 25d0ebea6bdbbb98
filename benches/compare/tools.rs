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
//! - `warm-tasks STORE RUNS TAG`: the tasks Q5 to Q7 on the index of STORE, in a process
//!   that opens the store once. Q5 builds the `threat-protection` report and
//!   the top 10 of the `campaigns` report of the emails of TAG's recipients with
//!   [`Workspace::report`], as `tagq report` does. Q6 writes the newest 100 emails of TAG's
//!   recipients with Phish as NDJSON to a sink, and Q7 counts the alerts that involve a user
//!   of TAG from 2026-10-01 on. Q6 and Q7 run in one kept query session, like `warm`. Prints
//!   one CSV line `task,run,seconds,result` per run after one unmeasured run; the result is
//!   the number of report rows, records written or alerts.
//! - `changes STORE DATA RUNS TAG`: Q8, the time from a membership change to a count of
//!   `recipient.tag:TAG` that reflects it, in a warm session over the index of STORE. Each
//!   change is made in a scratch copy of the store's catalog and directory. The changes are
//!   1, 100 and 1,000 users added to TAG and removed from it, and a directory snapshot that
//!   moves 100 users out of a group of the tag `nested-10k`. That tag is created in the copy
//!   from `DATA/tags/nested-10k.members.txt`. A run builds the new lookup, moves the session to
//!   it with `Session::refresh` and counts, starting from a new warm session each run
//!   (unmeasured). Prints `change,run,seconds,count` per run, then the same line for
//!   `change-refresh` without building the lookup (`Membership::new`), and once
//!   `change,before,,count` with the count before the change. Fails when the refreshed count
//!   of the first run differs from the count of a new session over the new lookup.
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
use tagq::api::Workspace;
use tagq::catalog::{Catalog, Membership};
use tagq::directory::Directory;
use tagq::index::{DirectoryKey, Index, QueryRequest, Sort};
use tagq::records::RecordKind;
use tagq::records::write::{OutputFormat, RecordWriter};
use tagq::report::{ReportName, ReportOptions};

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
        Some("warm-tasks") => warm_tasks(&args[1..]),
        Some("changes") => changes(&args[1..]),
        None => Ok(()),
        Some(other) => {
            Err(format!("unknown command {other}: give naive-scan, warm, warm-tasks or changes"))
        }
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

/// Runs `task` once unmeasured and then `runs` times, printing `name,run,seconds,result`.
fn time_runs(
    name: &str,
    runs: usize,
    task: &mut dyn FnMut() -> Result<u64, String>,
) -> Result<(), String> {
    task().map_err(|e| format!("{name}: {e}"))?;
    for run in 0..runs {
        let started = Instant::now();
        let result = task().map_err(|e| format!("{name}: {e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        println!("{name},{run},{seconds:.9},{result}");
    }
    Ok(())
}

fn warm_tasks(args: &[String]) -> Result<(), String> {
    let [store, runs, tag] = args else {
        return Err("usage: warm-tasks STORE RUNS TAG".into());
    };
    let runs: usize = runs.parse().map_err(|_| format!("invalid run count {runs}"))?;
    let workspace = Workspace::open(Path::new(store)).map_err(|e| e.to_string())?;
    let index = workspace.index().map_err(|e| e.to_string())?;
    let lookup = workspace.membership();
    let session = index.stored_session(&lookup, DirectoryKey::of(workspace.directory()));
    let tag = serde_json::to_string(tag).map_err(|e| e.to_string())?;

    let emails = QueryRequest {
        query: format!("recipient.tag:{tag}"),
        kind: Some(RecordKind::Email),
        ..QueryRequest::default()
    };
    let threat = ReportOptions::default();
    time_runs("q5-threat-protection", runs, &mut || {
        let table = workspace.report(&ReportName::ThreatProtection, &emails, &threat);
        table.map(|t| t.rows.len() as u64).map_err(|e| e.to_string())
    })?;
    let top10 = ReportOptions { limit: Some(10), ..ReportOptions::default() };
    time_runs("q5-campaigns-top10", runs, &mut || {
        let table = workspace.report(&ReportName::Campaigns, &emails, &top10);
        table.map(|t| t.rows.len() as u64).map_err(|e| e.to_string())
    })?;

    let newest = QueryRequest {
        query: format!("recipient.tag:{tag} and ThreatTypes:Phish"),
        kind: Some(RecordKind::Email),
        sort: Sort::TimeDesc,
        limit: Some(100),
        ..QueryRequest::default()
    };
    time_runs("q6-newest-100", runs, &mut || {
        let (hits, _) = session.hits(&newest).map_err(|e| e.to_string())?;
        let mut writer = RecordWriter::new(std::io::sink(), Some(OutputFormat::Ndjson), false);
        for hit in &hits {
            let record = index.materialise(hit.segment, hit.record).map_err(|e| e.to_string())?;
            writer.write(&record, &[]).map_err(|e| e.to_string())?;
        }
        writer.finish().map_err(|e| e.to_string())?;
        Ok(hits.len() as u64)
    })?;

    let alerts = QueryRequest {
        query: format!("tag:{tag} and time >= 2026-10-01"),
        kind: Some(RecordKind::Alert),
        ..QueryRequest::default()
    };
    time_runs("q7-alerts", runs, &mut || {
        session.count(&alerts).map(|stats| stats.matched).map_err(|e| e.to_string())
    })
}

/// Copies the catalog, directory and role files of `store` into `scratch`, so that changes
/// made there leave the store alone.
fn scratch_store(store: &Path, scratch: &Path) -> Result<tagq::store::Store, String> {
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    for name in ["catalog.json", "directory.json", "roles.json"] {
        std::fs::copy(store.join(name), scratch.join(name)).map_err(|e| format!("{name}: {e}"))?;
    }
    tagq::store::Store::open(scratch).map_err(|e| e.to_string())
}

/// Returns the catalog of `store` after `change` ran in an owner session of it.
fn changed_catalog(
    store: &tagq::store::Store,
    change: impl FnOnce(&tagq::store::Session<'_>) -> Result<(), tagq::store::StoreError>,
) -> Result<Catalog, String> {
    let session = store.owner_session().map_err(|e| e.to_string())?;
    change(&session).map_err(|e| e.to_string())?;
    session.read().map(|snapshot| snapshot.catalog).map_err(|e| e.to_string())
}

fn changes(args: &[String]) -> Result<(), String> {
    let [store, data, runs, tag] = args else {
        return Err("usage: changes STORE DATA RUNS TAG".into());
    };
    let runs: usize = runs.parse().map_err(|_| format!("invalid run count {runs}"))?;
    let store = Path::new(store);
    let scratch_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let scratch = scratch_store(store, scratch_dir.path())?;
    let nested = "nested-10k";
    let nested_members = Path::new(data).join("tags").join(format!("{nested}.members.txt"));
    let nested_text =
        std::fs::read(&nested_members).map_err(|e| format!("{}: {e}", nested_members.display()))?;
    let before = changed_catalog(&scratch, |session| {
        // Adding 1,000 users to a 10,000-user tag exceeds the default limit per tag.
        session.set_setting("limits.users_per_custom_tag", "20000")?;
        session.create_tag(nested, "")?;
        session.import_members(nested, &nested_text, false).map(|_| ())
    })?;
    let directory = scratch.owner_session().and_then(|s| s.read()).map_err(|e| e.to_string())?;
    let directory = directory.directory;

    // Users to add: the first 1,000 taggable users outside the tag; users to remove: the
    // first 1,000 direct members.
    let members: Vec<String> = before
        .tag(tag)
        .ok_or_else(|| format!("no tag {tag} in the store"))?
        .members
        .iter()
        .map(|m| m.object_id.clone())
        .collect();
    let outside: Vec<String> = directory
        .users()
        .iter()
        .filter(|u| u.is_taggable() && !members.contains(&u.object_id))
        .take(1000)
        .map(|u| u.object_id.clone())
        .collect();

    let mut cases: Vec<(String, Catalog, Option<Directory>, String)> = Vec::new();
    let tag_query = format!("recipient.tag:{}", serde_json::to_string(tag).unwrap_or_default());
    for count in [1usize, 100, 1000] {
        let added: Vec<&str> = outside.iter().take(count).map(String::as_str).collect();
        let removed: Vec<&str> = members.iter().take(count).map(String::as_str).collect();
        for (name, ids, add) in [("add", &added, true), ("remove", &removed, false)] {
            let copy = tempfile::tempdir().map_err(|e| e.to_string())?;
            let store = scratch_store(scratch_dir.path(), copy.path())?;
            let catalog = changed_catalog(&store, |session| {
                if add {
                    session.add_members(tag, ids).map(|_| ())
                } else {
                    session.remove_members(tag, ids).map(|_| ())
                }
            })?;
            cases.push((format!("{name}-{count}"), catalog, None, tag_query.clone()));
        }
    }
    let moved = move_users(&directory, nested, 100)?;
    cases.push((
        "directory-move-100".into(),
        before.clone(),
        Some(moved),
        format!("recipient.tag:{nested}"),
    ));

    let index = Index::open(store).map_err(|e| e.to_string())?;
    let lookup_before = Membership::new(&directory, &before);
    for (name, catalog, new_directory, query) in &cases {
        let request = QueryRequest {
            query: query.clone(),
            kind: Some(RecordKind::Email),
            ..QueryRequest::default()
        };
        let same_directory = new_directory.is_none();
        let directory_after = new_directory.as_ref().unwrap_or(&directory);
        for run in 0..runs {
            // A warm session with the tag bitmaps of the query built, unmeasured.
            let session = index.session(&lookup_before);
            session.count(&request).map_err(|e| e.to_string())?;
            let started = Instant::now();
            let lookup_after = Membership::new(directory_after, catalog);
            let lookup_seconds = started.elapsed().as_secs_f64();
            let changed = session.refresh(&lookup_after, same_directory);
            let stats = changed.count(&request).map_err(|e| e.to_string())?;
            let seconds = started.elapsed().as_secs_f64();
            if run == 0 {
                let before = session_count(&index, &lookup_before, &request)?;
                println!("{name},before,,{before}");
                let fresh = session_count(&index, &lookup_after, &request)?;
                if fresh != stats.matched {
                    return Err(format!("{name}: refreshed {}, fresh {fresh}", stats.matched));
                }
            }
            println!("{name},{run},{seconds:.9},{}", stats.matched);
            let refresh_seconds = seconds - lookup_seconds;
            println!("{name}-refresh,{run},{refresh_seconds:.9},{}", stats.matched);
        }
    }
    Ok(())
}

/// Counts `request` in a new session over `lookup`.
fn session_count(
    index: &Index,
    lookup: &Membership<'_>,
    request: &QueryRequest,
) -> Result<u64, String> {
    index.session(lookup).count(request).map(|stats| stats.matched).map_err(|e| e.to_string())
}

/// Returns a copy of `directory` in which `count` users of the first group that the tag
/// `tag` reaches through groups are moved to a group that it does not reach.
fn move_users(directory: &Directory, tag: &str, count: usize) -> Result<Directory, String> {
    let inside =
        |group: &tagq::directory::Group| group.display_name.contains(&format!("{tag}-leaf"));
    let groups = directory.groups().to_vec();
    let from = groups.iter().position(inside).ok_or_else(|| format!("no leaf group of {tag}"))?;
    let to = groups
        .iter()
        .position(|g| !g.display_name.contains(tag) && !g.members.is_empty())
        .ok_or_else(|| format!("no group outside {tag}"))?;
    let mut groups = groups;
    let user_ids: std::collections::HashSet<&str> =
        directory.users().iter().map(|u| u.object_id.as_str()).collect();
    let moving: Vec<String> = groups[from]
        .members
        .iter()
        .filter(|m| user_ids.contains(m.as_str()))
        .take(count)
        .cloned()
        .collect();
    groups[from].members.retain(|m| !moving.contains(m));
    groups[to].members.extend(moving);
    Ok(Directory::new(directory.users().to_vec(), groups))
}
