//! Differential property test: for random records, directories, tags and queries, the index
//! (`tagq query`) returns exactly the records that the streaming filter (`tagq filter`)
//! returns, before and after random membership and directory changes.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tagq::catalog::{Catalog, Membership, TagLookup};
use tagq::directory::Directory;
use tagq::eval::stream::{self, FilterJob};
use tagq::index::{self, DirectoryKey, Index, IngestOptions, QueryRequest, Session};
use tagq::records::{Record, RecordKind};

const USERS: usize = 8;
const TAGS: [&str; 3] = ["Finance", "VIP", "Fin Ops"];

fn user_address(user: usize) -> String {
    format!("user{user}@contoso.test")
}

fn object_id(user: usize) -> String {
    format!("00000000-0000-4000-8000-{user:012}")
}

/// Directory CSV: eight users (user 0 has an alias) and two groups whose members the test
/// chooses.
fn directory_csv(group_a: &[usize], group_b: &[usize]) -> String {
    let mut csv = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for user in 0..USERS {
        let alias = if user == 0 { "boss@contoso.test" } else { "" };
        csv.push_str(&format!(
            "{},user,{},User {user},{alias},true,\n",
            object_id(user),
            user_address(user)
        ));
    }
    let members = |users: &[usize]| -> String {
        users.iter().map(|u| user_address(*u)).collect::<Vec<_>>().join(";")
    };
    csv.push_str(&format!(
        "00000000-0000-4000-9000-000000000001,group,team-a@contoso.test,Team A,,,{}\n",
        members(group_a)
    ));
    csv.push_str(&format!(
        "00000000-0000-4000-9000-000000000002,group,team-b@contoso.test,Team B,,,{}\n",
        members(group_b)
    ));
    csv
}

fn load_directory(csv: &str) -> Directory {
    tagq::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0
}

/// Ways a record may name a user, so that resolution by alias, plus address, case and
/// object id is exercised; values ≥ USERS are external or group addresses.
fn address_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..USERS).prop_map(user_address),
        (0..USERS).prop_map(|u| user_address(u).to_uppercase()),
        (0..USERS).prop_map(|u| format!("user{u}+news@contoso.test")),
        Just("boss@contoso.test".to_string()),
        Just("team-a@contoso.test".to_string()),
        Just("someone@fabrikam.test".to_string()),
    ]
}

#[derive(Clone, Debug)]
struct EmailSpec {
    day: u8,
    sender: String,
    recipients: Vec<String>,
    action: &'static str,
    threats: Vec<&'static str>,
    subject: &'static str,
    attachments: u8,
}

#[derive(Clone, Debug)]
struct AlertSpec {
    day: u8,
    user: Option<String>,
    user_object: Option<usize>,
    severity: &'static str,
    title: &'static str,
}

fn email_strategy() -> impl Strategy<Value = EmailSpec> {
    (
        0u8..10,
        address_strategy(),
        proptest::collection::vec(address_strategy(), 0..4),
        prop::sample::select(vec!["Delivered", "Blocked", "Junked", "delivered"]),
        proptest::collection::vec(prop::sample::select(vec!["Phish", "Spam", "Malware"]), 0..3),
        prop::sample::select(vec!["Invoice overdue", "Team lunch", "invoice copy", ""]),
        0u8..4,
    )
        .prop_map(|(day, sender, recipients, action, threats, subject, attachments)| {
            EmailSpec { day, sender, recipients, action, threats, subject, attachments }
        })
}

fn alert_strategy() -> impl Strategy<Value = AlertSpec> {
    (
        1u8..9,
        proptest::option::of(address_strategy()),
        proptest::option::of(0..USERS + 1),
        prop::sample::select(vec!["High", "medium", "Low", "Informational"]),
        prop::sample::select(vec!["Malicious URL clicked", "Suspicious login", "URL click"]),
    )
        .prop_map(|(day, user, user_object, severity, title)| AlertSpec {
            day,
            user,
            user_object,
            severity,
            title,
        })
}

/// Day 0 leaves the time out, day 9 writes it as JSON null.
fn email_json(id: usize, email: &EmailSpec) -> String {
    let time = match email.day {
        0 => None,
        9 => Some(serde_json::Value::Null),
        day => Some(format!("2024-06-{day:02}T10:{:02}:00Z", id % 60).into()),
    };
    let mut value = serde_json::json!({
        "Id": format!("mail-{id}"),
        "SenderFromAddress": email.sender,
        "Recipients": email.recipients,
        "DeliveryAction": email.action,
        "ThreatTypes": email.threats.join(","),
        "Subject": email.subject,
        "AttachmentCount": email.attachments,
    });
    if let Some(time) = time {
        value["Timestamp"] = time;
    }
    value.to_string()
}

fn alert_json(id: usize, alert: &AlertSpec) -> String {
    let mut value = serde_json::json!({
        "AlertId": format!("alert-{id}"),
        "Timestamp": format!("2024-06-{:02}T09:00:00Z", alert.day),
        "Title": alert.title,
        "Severity": alert.severity,
    });
    if let Some(user) = &alert.user {
        value["AccountUpn"] = user.clone().into();
    }
    if let Some(user) = alert.user_object {
        // USERS itself names an object id outside the directory.
        value["AccountObjectId"] = object_id(user).into();
    }
    value.to_string()
}

/// A query from a small grammar: tag leaves in every role form, keyword and text leaves,
/// time windows, numbers, scopes, and `and`, `or`, `not`.
fn query_strategy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("tag:{t:?}")),
        prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("recipient.tag:{t:?}")),
        prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("sender.tag:{t:?}")),
        Just("tag:*".to_string()),
        Just("tag:Fin*".to_string()),
        Just("tag:Nobody".to_string()),
        Just("recipient:{ tag:Finance and tag:VIP }".to_string()),
        Just("sender:{ not tag:* }".to_string()),
        prop::sample::select(vec!["Delivered", "blocked", "Junked"])
            .prop_map(|a| format!("DeliveryAction:{a}")),
        prop::sample::select(vec!["Phish", "spam"]).prop_map(|t| format!("ThreatTypes:{t}")),
        Just("subject:invoice".to_string()),
        Just("AttachmentCount > 1".to_string()),
        (1u8..9).prop_map(|d| format!("received >= 2024-06-{d:02}")),
        (1u8..9).prop_map(|d| format!("received < 2024-06-{d:02}")),
        Just("recipient.domain:contoso.test".to_string()),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn alert_query_strategy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("tag:{t:?}")),
        prop::sample::select(TAGS.to_vec()).prop_map(|t| format!("user.tag:{t:?}")),
        Just("tag:*".to_string()),
        prop::sample::select(vec!["high", "Medium", "low"]).prop_map(|s| format!("severity:{s}")),
        Just("title:url".to_string()),
        Just("user:{ tag:VIP and tag:Finance }".to_string()),
        (1u8..9).prop_map(|d| format!("created >= 2024-06-{d:02}")),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

/// Tag members: per tag, a list of member addresses (users or groups).
fn members_strategy() -> impl Strategy<Value = Vec<Vec<String>>> {
    let member = prop_oneof![
        4 => (0..USERS).prop_map(user_address),
        1 => Just("team-a@contoso.test".to_string()),
        1 => Just("team-b@contoso.test".to_string()),
    ];
    proptest::collection::vec(proptest::collection::vec(member, 0..4), TAGS.len())
}

/// Builds the catalog through a throw-away store, because catalog changes go through the
/// store's role-checked sessions.
fn catalog(directory: &Directory, members: &[Vec<String>]) -> Catalog {
    let temp = tempfile::tempdir().unwrap();
    let store = tagq::store::Store::open(temp.path()).unwrap();
    let session = store.owner_session().unwrap();
    session.import_directory(directory, "generated directory").unwrap();
    for (tag, addresses) in TAGS.iter().zip(members) {
        session.create_tag(tag, "").unwrap();
        let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
        if !refs.is_empty() {
            session.add_members(tag, &refs).unwrap();
        }
    }
    session.read().unwrap().catalog
}

/// Returns the ids of the records the streaming filter matches, sorted, or `None` when the
/// query is rejected.
fn filter_ids(files: &[PathBuf], query: &str, lookup: &dyn TagLookup) -> Option<Vec<String>> {
    let job = FilterJob { query: query.to_string(), ..FilterJob::default() };
    let mut ids = Vec::new();
    let result = stream::run(files, &job, lookup, &mut |record: &Record| {
        ids.push(record.id.clone());
        Ok::<(), ()>(())
    });
    match result {
        Ok(Ok(summary)) => {
            assert!(summary.errors.is_empty(), "{:?}", summary.errors);
            ids.sort();
            Some(ids)
        }
        Ok(Err(())) => unreachable!(),
        Err(_) => None,
    }
}

fn query_ids(session: &Session<'_>, query: &str, kind: RecordKind) -> Option<Vec<String>> {
    let request =
        QueryRequest { query: query.to_string(), kind: Some(kind), ..QueryRequest::default() };
    let mut ids = Vec::new();
    let result = session.run(&request, &mut |record: &Record| {
        ids.push(record.id.clone());
        Ok::<(), ()>(())
    });
    let stats = match result {
        Ok(Ok(stats)) => stats,
        Ok(Err(())) => unreachable!(),
        Err(_) => return None,
    };
    assert_eq!(stats.matched as usize, ids.len());
    let counted = session.count(&request).unwrap();
    assert_eq!(counted.matched, stats.matched, "count differs for {query}");
    ids.sort();
    Some(ids)
}

#[derive(Debug)]
struct Case {
    emails: Vec<EmailSpec>,
    alerts: Vec<AlertSpec>,
    groups: (Vec<usize>, Vec<usize>),
    members: Vec<Vec<String>>,
    later_members: Vec<Vec<String>>,
    later_groups: (Vec<usize>, Vec<usize>),
    segment_size: u32,
    split: usize,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    let groups =
        || (proptest::collection::vec(0..USERS, 0..4), proptest::collection::vec(0..USERS, 0..4));
    (
        proptest::collection::vec(email_strategy(), 0..24),
        proptest::collection::vec(alert_strategy(), 0..10),
        groups(),
        members_strategy(),
        members_strategy(),
        groups(),
        prop::sample::select(vec![1u32, 3, 7, 1 << 20]),
        0usize..24,
    )
        .prop_map(
            |(
                emails,
                alerts,
                groups,
                members,
                later_members,
                later_groups,
                segment_size,
                split,
            )| {
                Case {
                    emails,
                    alerts,
                    groups,
                    members,
                    later_members,
                    later_groups,
                    segment_size,
                    split,
                }
            },
        )
}

/// Writes the emails in two files (ingested in two batches) and the alerts in a third.
fn write_inputs(dir: &Path, case: &Case) -> Vec<PathBuf> {
    let split = case.split.min(case.emails.len());
    let lines = |range: std::ops::Range<usize>| -> String {
        range.map(|i| email_json(i, &case.emails[i]) + "\n").collect()
    };
    let first = dir.join("emails-1.ndjson");
    let second = dir.join("emails-2.ndjson");
    let alerts = dir.join("alerts.ndjson");
    std::fs::write(&first, lines(0..split)).unwrap();
    std::fs::write(&second, lines(split..case.emails.len())).unwrap();
    let alert_lines: String =
        case.alerts.iter().enumerate().map(|(i, a)| alert_json(i, a) + "\n").collect();
    std::fs::write(&alerts, alert_lines).unwrap();
    vec![first, second, alerts]
}

/// Compares the index, restricted to `kind`, with the streaming filter over the files that
/// hold the records of that kind.
fn check(
    files: &[PathBuf],
    kind: RecordKind,
    session: &Session<'_>,
    lookup: &dyn TagLookup,
    queries: &[String],
) {
    for query in queries {
        let expected = filter_ids(files, query, lookup);
        let actual = query_ids(session, query, kind);
        assert_eq!(actual, expected, "query {query}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn query_equals_filter(
        case in case_strategy(),
        email_queries in proptest::collection::vec(query_strategy(), 6),
        alert_queries in proptest::collection::vec(alert_query_strategy(), 3),
    ) {
        let temp = tempfile::tempdir().unwrap();
        let files = write_inputs(temp.path(), &case);
        let store = temp.path().join("store");
        let options = IngestOptions { segment_size: case.segment_size, ..IngestOptions::default() };
        for batch in [&files[..1], &files[1..]] {
            let summary = index::ingest(&store, batch, &options, &mut |_| {}).unwrap();
            prop_assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
        }
        let index = Index::open(&store).unwrap();
        prop_assert_eq!(index.len() as usize, case.emails.len() + case.alerts.len());
        let email_files = &files[..2];
        let alert_files = &files[2..];

        let directory = load_directory(&directory_csv(&case.groups.0, &case.groups.1));
        let before = catalog(&directory, &case.members);
        let lookup = Membership::new(&directory, &before);
        let session = index.session(&lookup);
        check(email_files, RecordKind::Email, &session, &lookup, &email_queries);
        check(alert_files, RecordKind::Alert, &session, &lookup, &alert_queries);

        // Membership change, then a directory re-import that moves users between groups; the
        // session's tag bitmaps are updated incrementally each time.
        let after = catalog(&directory, &case.later_members);
        let changed = Membership::new(&directory, &after);
        let session = session.refresh(&changed, true);
        check(email_files, RecordKind::Email, &session, &changed, &email_queries);
        check(alert_files, RecordKind::Alert, &session, &changed, &alert_queries);
        let moved = load_directory(&directory_csv(&case.later_groups.0, &case.later_groups.1));
        let regrouped = Membership::new(&moved, &after);
        let session = session.refresh(&regrouped, false);
        check(email_files, RecordKind::Email, &session, &regrouped, &email_queries);
        check(alert_files, RecordKind::Alert, &session, &regrouped, &alert_queries);

        // A fresh session must agree with the refreshed one.
        let fresh = index.session(&regrouped);
        check(email_files, RecordKind::Email, &fresh, &regrouped, &email_queries);

        // Sessions that load tag bitmaps stored by earlier sessions, as separate processes
        // do: each state is checked twice, once building and once loading or updating.
        let states = [(&directory, &lookup), (&directory, &changed), (&moved, &regrouped)];
        for (snapshot, state) in states {
            for _ in 0..2 {
                let stored = index.stored_session(state, DirectoryKey::of(snapshot));
                check(email_files, RecordKind::Email, &stored, state, &email_queries);
                check(alert_files, RecordKind::Alert, &stored, state, &alert_queries);
                stored.save_tag_bitmaps().unwrap();
            }
        }
    }
}
