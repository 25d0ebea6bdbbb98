//! Tag bitmap updates when users lose a tag. A warm session moved to the changed catalog or
//! directory with `Session::refresh` must return what a new session returns. Records where
//! another user of the role still carries the tag must keep it.

use std::path::Path;

use tagq::catalog::{Catalog, Membership};
use tagq::directory::Directory;
use tagq::index::{self, Index, IngestOptions, QueryRequest, Session};
use tagq::records::RecordKind;

/// Directory with users 0 to 4, the group team-a with the users `team_a`, and team-b, whose
/// only member is team-a (a nested group).
fn directory(team_a: &[usize]) -> Directory {
    let mut csv = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for user in 0..5 {
        csv.push_str(&format!(
            "00000000-0000-4000-8000-{user:012},user,user{user}@contoso.test,User {user},,true,\n"
        ));
    }
    let members: Vec<String> = team_a.iter().map(|u| format!("user{u}@contoso.test")).collect();
    csv.push_str(&format!(
        "00000000-0000-4000-9000-000000000001,group,team-a@contoso.test,Team A,,,{}\n",
        members.join(";")
    ));
    csv.push_str(
        "00000000-0000-4000-9000-000000000002,group,team-b@contoso.test,Team B,,,\
         team-a@contoso.test\n",
    );
    tagq::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0
}

/// Builds a catalog with the tags and member addresses given, through a throw-away store.
fn catalog(directory: &Directory, tags: &[(&str, &[&str])]) -> Catalog {
    let temp = tempfile::tempdir().unwrap();
    let store = tagq::store::Store::open(temp.path()).unwrap();
    let session = store.owner_session().unwrap();
    session.import_directory(directory, "test directory").unwrap();
    for (tag, members) in tags {
        session.create_tag(tag, "").unwrap();
        if !members.is_empty() {
            session.add_members(tag, members).unwrap();
        }
    }
    session.read().unwrap().catalog
}

/// Emails as (sender, recipients) by user number; email `i` has the id `mail-i`.
const EMAILS: [(usize, &[usize]); 6] = [
    (0, &[1, 2]), // mail-0: two recipients
    (1, &[0]),    // mail-1: sent by user 1
    (3, &[4]),    // mail-2: sent by user 3
    (4, &[1]),    // mail-3: user 1 is the only recipient
    (2, &[1]),    // mail-4: user 1 receives, user 2 sends
    (0, &[3]),    // mail-5: user 3 receives
];

/// Ingests [`EMAILS`] into a store in `dir`, in segments of `segment_size` records.
fn ingest(dir: &Path, segment_size: u32) -> Index {
    let lines: String = EMAILS
        .iter()
        .enumerate()
        .map(|(id, (sender, recipients))| {
            let recipients: Vec<String> =
                recipients.iter().map(|u| format!("user{u}@contoso.test")).collect();
            let value = serde_json::json!({
                "Id": format!("mail-{id}"),
                "Timestamp": "2024-06-01T10:00:00Z",
                "SenderFromAddress": format!("user{sender}@contoso.test"),
                "Recipients": recipients,
                "DeliveryAction": "Delivered",
            });
            value.to_string() + "\n"
        })
        .collect();
    let file = dir.join("emails.ndjson");
    std::fs::write(&file, lines).unwrap();
    let store = dir.join("store");
    let options = IngestOptions { segment_size, ..IngestOptions::default() };
    let summary = index::ingest(&store, &[file], &options, &mut |_| {}).unwrap();
    assert!(summary.rejected.is_empty(), "{:?}", summary.rejected);
    Index::open(&store).unwrap()
}

fn ids(session: &Session<'_>, query: &str) -> Vec<String> {
    let request = QueryRequest {
        query: query.to_string(),
        kind: Some(RecordKind::Email),
        ..QueryRequest::default()
    };
    let mut ids = Vec::new();
    session
        .run(&request, &mut |record: &tagq::records::Record| {
            ids.push(record.id.clone());
            Ok::<(), ()>(())
        })
        .unwrap()
        .unwrap();
    ids.sort();
    ids
}

fn mails(numbers: &[usize]) -> Vec<String> {
    numbers.iter().map(|n| format!("mail-{n}")).collect()
}

const QUERIES: [&str; 7] = [
    "recipient.tag:VIP",
    "sender.tag:VIP",
    "tag:VIP",
    "recipient.tag:Finance",
    "recipient.tag:VIP or recipient.tag:Finance",
    "recipient.tag:Fin*",
    "recipient.tag:*",
];

/// Runs every query in `session` (building its tag bitmaps), moves it to `after` and checks
/// each query against a new session over `after`. Returns the refreshed session.
fn refresh_and_compare<'a>(
    index: &'a Index,
    session: Session<'a>,
    after: &'a Membership<'a>,
    same_directory: bool,
) -> Session<'a> {
    for query in QUERIES {
        ids(&session, query);
    }
    let refreshed = session.refresh(after, same_directory);
    let fresh = index.session(after);
    for query in QUERIES {
        assert_eq!(ids(&refreshed, query), ids(&fresh, query), "query {query}");
    }
    refreshed
}

#[test]
fn removed_recipient_keeps_records_of_other_carriers() {
    for segment_size in [2, 1 << 20] {
        let temp = tempfile::tempdir().unwrap();
        let index = ingest(temp.path(), segment_size);
        let directory = directory(&[3]);
        let vip: &[&str] = &["user1@contoso.test", "user2@contoso.test"];
        let before = catalog(&directory, &[("VIP", vip), ("Finance", &[])]);
        let lookup = Membership::new(&directory, &before);
        let session = index.session(&lookup);
        assert_eq!(ids(&session, "recipient.tag:VIP"), mails(&[0, 3, 4]));

        let after = catalog(&directory, &[("VIP", &["user2@contoso.test"]), ("Finance", &[])]);
        let changed = Membership::new(&directory, &after);
        let session = refresh_and_compare(&index, session, &changed, true);
        // mail-0 keeps the tag through user 2; mail-3 and mail-4 had only user 1.
        assert_eq!(ids(&session, "recipient.tag:VIP"), mails(&[0]));
    }
}

#[test]
fn removed_user_sender_and_recipient_roles() {
    for segment_size in [2, 1 << 20] {
        let temp = tempfile::tempdir().unwrap();
        let index = ingest(temp.path(), segment_size);
        let directory = directory(&[3]);
        let vip: &[&str] = &["user1@contoso.test", "user2@contoso.test"];
        let before = catalog(&directory, &[("VIP", vip), ("Finance", &[])]);
        let lookup = Membership::new(&directory, &before);
        let session = index.session(&lookup);
        assert_eq!(ids(&session, "sender.tag:VIP"), mails(&[1, 4]));
        assert_eq!(ids(&session, "tag:VIP"), mails(&[0, 1, 3, 4]));

        let after = catalog(&directory, &[("VIP", &["user2@contoso.test"]), ("Finance", &[])]);
        let changed = Membership::new(&directory, &after);
        let session = refresh_and_compare(&index, session, &changed, true);
        // mail-4 loses its tagged recipient but keeps its tagged sender.
        assert_eq!(ids(&session, "recipient.tag:VIP"), mails(&[0]));
        assert_eq!(ids(&session, "sender.tag:VIP"), mails(&[4]));
        assert_eq!(ids(&session, "tag:VIP"), mails(&[0, 4]));
    }
}

#[test]
fn removed_group_member_loses_tag() {
    for segment_size in [2, 1 << 20] {
        let temp = tempfile::tempdir().unwrap();
        let index = ingest(temp.path(), segment_size);
        // Finance reaches user 3 through team-b, which contains team-a.
        let before_directory = directory(&[1, 3]);
        let tags: &[(&str, &[&str])] =
            &[("VIP", &["user2@contoso.test"]), ("Finance", &["team-b@contoso.test"])];
        let before = catalog(&before_directory, tags);
        let lookup = Membership::new(&before_directory, &before);
        let session = index.session(&lookup);
        assert_eq!(ids(&session, "recipient.tag:Finance"), mails(&[0, 3, 4, 5]));

        // A directory snapshot that takes user 3 out of team-a.
        let after_directory = directory(&[1]);
        let after = catalog(&after_directory, tags);
        let moved = Membership::new(&after_directory, &after);
        let session = refresh_and_compare(&index, session, &moved, false);
        assert_eq!(ids(&session, "recipient.tag:Finance"), mails(&[0, 3, 4]));
        assert_eq!(ids(&session, "recipient.tag:Fin*"), mails(&[0, 3, 4]));

        // Then a catalog change that removes the group from the tag.
        let emptied =
            catalog(&after_directory, &[("VIP", &["user2@contoso.test"]), ("Finance", &[])]);
        let changed = Membership::new(&after_directory, &emptied);
        let session = refresh_and_compare(&index, session, &changed, true);
        assert!(ids(&session, "recipient.tag:Finance").is_empty());
        // mail-0 keeps the OR through user 2, a VIP recipient.
        assert_eq!(ids(&session, "recipient.tag:VIP or recipient.tag:Finance"), mails(&[0]));
    }
}
