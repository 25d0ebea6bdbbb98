use std::path::Path;

use super::*;
use crate::directory::{Directory, parse};
use crate::filter::resolved::TagMatch;
use crate::filter::schema::UserField;
use crate::records::{Role, UserRef};
use crate::time::Timestamp;

const HEADER: &str = "id,kind,address,display_name,aliases,mailbox,members\n";

const PEOPLE: &str = "\
u1,user,User1@Contoso.test,User One,,,
u2,user,user2@contoso.test,User Two,,,
u3,user,user3@contoso.test,User Three,,,
u4,user,room@contoso.test,Room,,false,
u5,user,ext.user_partner.test#EXT#@contoso.onmicrosoft.test,Guest,ext.user@partner.test,false,
g1,group,finance@contoso.test,Finance staff,,,u2;g2
g2,group,,Finance EMEA,,,u3
";

fn directory(rows: &str) -> Directory {
    let text = format!("{HEADER}{rows}");
    parse(text.as_bytes(), Path::new("dir.csv")).expect("fixture loads").0
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_780_000_000 + seconds)
}

fn catalog_with(names: &[&str]) -> Catalog {
    let mut catalog = Catalog::new(at(0));
    for name in names {
        catalog.create(name, "", at(0)).expect("tag created");
    }
    catalog
}

fn member_ids(catalog: &Catalog, tag: &str) -> Vec<String> {
    let tag = catalog.tag(tag).expect("tag exists");
    tag.members.iter().map(|m| m.object_id.clone()).collect()
}

#[test]
fn import_case_insensitive_keeps_display_case() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let report = catalog
        .import_members("Finance", b"user1@CONTOSO.TEST\n", &dir, false, at(1))
        .expect("imports");
    assert!(report.applied);
    assert_eq!(report.added, vec!["User1@Contoso.test"]);
    assert_eq!(member_ids(&catalog, "Finance"), vec!["u1"]);
    let again = catalog
        .import_members("Finance", b"USER1@contoso.test", &dir, false, at(2))
        .expect("imports");
    assert!(!again.applied);
    assert_eq!(again.unchanged, vec!["User1@Contoso.test"]);
    assert_eq!(member_ids(&catalog, "Finance"), vec!["u1"]);
}

#[test]
fn import_crlf_bom_whitespace_duplicates() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let text = "\u{FEFF}user1@contoso.test \r\n\r\n\tuser2@contoso.test\r\n   \r\nUSER1@contoso.test\r\nuser3@contoso.test";
    let report =
        catalog.import_members("Finance", text.as_bytes(), &dir, false, at(1)).expect("imports");
    assert!(report.applied);
    assert!(report.problems.is_empty());
    assert_eq!(member_ids(&catalog, "Finance"), vec!["u1", "u2", "u3"]);
    assert_eq!(report.notes.len(), 1);
    let note = report.notes.first().expect("duplicate note");
    assert_eq!(note.line, 5);
    assert_eq!(note.to_string(), "line 5: USER1@contoso.test repeats line 1; ignored");
    let stored = serde_json::to_string(&catalog).expect("serialises");
    for forbidden in ["\r", "\\r", "\t", "\\t", "\u{FEFF}", "\\ufeff"] {
        assert!(!stored.contains(forbidden), "stored catalog contains {forbidden:?}");
    }
}

const BAD_LINES: &str =
    "user1@contoso.test\nnot-an-address\nuser9@contoso.test\n\"user2@contoso.test\"\n";

#[test]
fn import_lists_every_bad_line() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let before = catalog.clone();
    let report = catalog
        .import_members("Finance", BAD_LINES.as_bytes(), &dir, false, at(1))
        .expect("report");
    assert!(!report.applied);
    assert!(report.added.is_empty());
    assert_eq!(catalog, before);
    let lines: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "line 2: not-an-address: invalid address syntax",
            "line 3: user9@contoso.test: not found in the directory",
            "line 4: \"user2@contoso.test\": quoted address; remove the quotes",
        ]
    );
}

#[test]
fn skip_invalid_applies_valid_lines() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let report =
        catalog.import_members("Finance", BAD_LINES.as_bytes(), &dir, true, at(1)).expect("report");
    assert!(report.applied);
    assert_eq!(report.problems.len(), 3);
    assert_eq!(member_ids(&catalog, "Finance"), vec!["u1"]);
    assert_eq!(catalog.tag("Finance").map(|t| t.modified), Some(at(1)));
}

#[test]
fn guest_import_rejected_with_reason() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let report = catalog
        .import_members("Finance", b"ext.user@partner.test\n", &dir, false, at(1))
        .expect("report");
    assert!(!report.applied);
    let problem = report.problems.first().expect("guest line invalid");
    assert_eq!(problem.line, 1);
    assert_eq!(
        problem.reason.to_string(),
        "guest account without a mailbox; user tags apply to mailbox users only"
    );
    assert!(member_ids(&catalog, "Finance").is_empty());
}

#[test]
fn user_without_mailbox_rejected() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let error = catalog
        .add_members("Finance", &["room@contoso.test"], &dir, at(1))
        .expect_err("no mailbox");
    assert!(error.to_string().contains("user without a mailbox"), "{error}");
}

#[test]
fn ambiguous_import_line_lists_candidates() {
    let rows = format!("{PEOPLE}u6,user,user6@contoso.test,User Six,user1@contoso.test,,\n");
    let dir = directory(&rows);
    let mut catalog = catalog_with(&["Finance"]);
    let report = catalog
        .import_members("Finance", b"user1@contoso.test", &dir, false, at(1))
        .expect("report");
    assert!(!report.applied);
    let problem = report.problems.first().map(ToString::to_string);
    let expected = "line 1: user1@contoso.test: ambiguous: matches User1@Contoso.test, user6@contoso.test; use the object id";
    assert_eq!(problem.as_deref(), Some(expected));
    let by_id = catalog.import_members("Finance", b"u6", &dir, false, at(2)).expect("report");
    assert!(by_id.applied);
}

#[test]
fn plus_address_import_noted() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let report = catalog
        .import_members("Finance", b"user1+x@contoso.test", &dir, false, at(1))
        .expect("imports");
    assert!(report.applied);
    assert_eq!(member_ids(&catalog, "Finance"), vec!["u1"]);
    let notes: Vec<String> = report.notes.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        vec!["line 1: user1+x@contoso.test resolved to User1@Contoso.test (plus address)"]
    );
}

#[test]
fn add_members_all_or_nothing() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    let error =
        catalog.add_members("Finance", &["user1@contoso.test", "nobody@contoso.test"], &dir, at(1));
    assert!(
        matches!(error, Err(CatalogError::InvalidMembers { ref problems }) if problems.len() == 1)
    );
    assert!(member_ids(&catalog, "Finance").is_empty());
    let report =
        catalog.add_members("Finance", &["user1@contoso.test", "g1"], &dir, at(2)).expect("adds");
    assert_eq!(report.changed, vec!["User1@Contoso.test", "finance@contoso.test"]);
    assert_eq!(catalog.tag("Finance").map(|t| t.members.len()), Some(2));
}

#[test]
fn remove_members_by_address_and_orphan_id() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    catalog
        .add_members("Finance", &["user1@contoso.test", "user2@contoso.test"], &dir, at(1))
        .expect("adds");
    let without_u2 = directory(&PEOPLE.replace("u2,user,user2@contoso.test,User Two,,,\n", ""));
    let report = catalog
        .remove_members("Finance", &["u2", "USER1@contoso.test"], &without_u2, at(2))
        .expect("removes");
    assert_eq!(report.changed, vec!["u2", "User1@Contoso.test"]);
    assert!(member_ids(&catalog, "Finance").is_empty());
    assert_eq!(catalog.tag("Finance").map(|t| t.modified), Some(at(2)));
    let error = catalog.remove_members("Finance", &["nobody@contoso.test"], &dir, at(3));
    assert!(matches!(error, Err(CatalogError::InvalidMembers { .. })));
}

#[test]
fn deleted_member_orphaned_then_restored() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["T"]);
    catalog
        .add_members("T", &["user1@contoso.test", "user2@contoso.test"], &dir, at(1))
        .expect("adds");
    let absent = directory(&PEOPLE.replace("u2,user,user2@contoso.test,User Two,,,\n", ""));
    let view = catalog.view("T", &absent).expect("view");
    assert_eq!(view.effective_users.len(), 1);
    assert_eq!(view.orphaned.len(), 1);
    let orphan = view.orphaned.first().expect("orphan");
    assert_eq!(orphan.object_id, "u2");
    assert_eq!(orphan.reason, OrphanReason::NotInDirectory);

    let json = r#"[{"id":"u1","userPrincipalName":"user1@contoso.test","hasMailbox":true},
      {"id":"u2","userPrincipalName":"user2@contoso.test","hasMailbox":true,"deletedDateTime":"2026-05-01T00:00:00Z"}]"#;
    let soft_deleted = parse(json.as_bytes(), Path::new("users.json")).expect("loads").0;
    let view = catalog.view("T", &soft_deleted).expect("view");
    assert_eq!(view.effective_users.len(), 1);
    assert_eq!(view.orphaned.first().map(|o| o.reason), Some(OrphanReason::Deleted));

    let restored = catalog.view("T", &dir).expect("view");
    assert_eq!(restored.effective_users.len(), 2);
    assert!(restored.orphaned.is_empty());
}

#[test]
fn nested_groups_expand_live() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    catalog.add_members("Finance", &["finance@contoso.test"], &dir, at(1)).expect("adds group");
    let view = catalog.view("Finance", &dir).expect("view");
    assert_eq!(view.direct_groups.len(), 1);
    assert!(view.direct_users.is_empty());
    let addresses: Vec<&str> = view.effective_users.iter().map(|u| u.address.as_str()).collect();
    assert_eq!(addresses, vec!["user2@contoso.test", "user3@contoso.test"]);

    let joined = directory(&PEOPLE.replace("Finance EMEA,,,u3", "Finance EMEA,,,u3;u1;u4"));
    let view = catalog.view("Finance", &joined).expect("view");
    assert_eq!(view.effective_users.len(), 3);
    assert_eq!(catalog.tag("Finance").map(|t| t.modified), Some(at(1)));
}

#[test]
fn custom_tag_limit_boundary() {
    let mut catalog = Catalog::new(at(0));
    for i in 1..=500 {
        catalog.create(&format!("T{i}"), "", at(0)).expect("within limit");
    }
    let before = catalog.clone();
    let error = catalog.create("T501", "", at(1)).expect_err("over limit");
    assert_eq!(error.to_string(), "custom tag limit reached (500); raise limits.custom_tags");
    assert_eq!(catalog, before);
    catalog.set_setting("limits.custom_tags", "501").expect("setting");
    assert!(catalog.create("T501", "", at(2)).is_ok());
}

fn many_users(count: usize) -> Directory {
    let mut rows = String::new();
    for i in 0..count {
        rows.push_str(&format!("u{i},user,user{i}@contoso.test,User {i},,,\n"));
    }
    rows.push_str("gall,group,all@contoso.test,All,,,");
    rows.push_str(&(0..count).map(|i| format!("u{i}")).collect::<Vec<_>>().join(";"));
    rows.push('\n');
    directory(&rows)
}

fn address_list(range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("user{i}@contoso.test\n")).collect()
}

#[test]
fn users_per_tag_limit_boundary() {
    let dir = many_users(10_001);
    let mut catalog = catalog_with(&["T1", "T2", "T3"]);
    let report = catalog
        .import_members("T1", address_list(0..10_000).as_bytes(), &dir, false, at(1))
        .expect("at limit");
    assert!(report.applied);
    assert_eq!(catalog.view("T1", &dir).map(|v| v.effective_users.len()), Ok(10_000));

    let error =
        catalog.import_members("T2", address_list(0..10_001).as_bytes(), &dir, false, at(2));
    let Err(CatalogError::LimitReached { setting, limit, message }) = error else {
        panic!("expected limit error")
    };
    assert_eq!(setting, "limits.users_per_custom_tag");
    assert_eq!(limit, 10_000);
    assert!(message.contains("raise limits.users_per_custom_tag"), "{message}");
    assert!(member_ids(&catalog, "T2").is_empty());
    assert_eq!(catalog.tag("T2").map(|t| t.modified), Some(at(0)));

    let group = catalog.add_members("T3", &["all@contoso.test"], &dir, at(3));
    assert!(
        matches!(group, Err(CatalogError::LimitReached { .. })),
        "groups count by effective users"
    );
}

#[test]
fn priority_account_limit_boundary() {
    let dir = many_users(251);
    let mut catalog = Catalog::new(at(0));
    let ok = catalog.import_members(
        "priority account",
        address_list(0..250).as_bytes(),
        &dir,
        false,
        at(1),
    );
    assert!(ok.is_ok_and(|r| r.applied));
    let error = catalog
        .add_members(SYSTEM_TAG_NAME, &["user250@contoso.test"], &dir, at(2))
        .expect_err("over");
    assert!(error.to_string().contains("raise limits.priority_account_users"), "{error}");
    catalog.set_setting("limits.priority_account_users", "251").expect("setting");
    assert!(catalog.add_members(SYSTEM_TAG_NAME, &["user250@contoso.test"], &dir, at(3)).is_ok());
}

#[test]
fn lookalike_tag_names_rejected() {
    let mut catalog = catalog_with(&["Finance", "Café"]);
    let before = catalog.clone();
    for name in ["finance", "Finance ", "Cafe\u{301}", "  FINANCE"] {
        let error = catalog.create(name, "", at(1)).expect_err(name);
        assert!(matches!(error, CatalogError::DuplicateName { .. }), "{name}: {error}");
    }
    let error = catalog.create("priority ACCOUNT", "", at(1)).expect_err("reserved");
    assert!(matches!(error, CatalogError::ReservedName { .. }));
    assert_eq!(catalog, before);
    assert_eq!(catalog.tag("FINANCE").map(|t| t.name.as_str()), Some("Finance"));
    assert!(catalog.create("Finance2", "", at(1)).is_ok());
}

#[test]
fn fullwidth_and_invisible_tag_names_rejected() {
    let mut catalog = catalog_with(&["Finance"]);
    let error =
        catalog.create("\u{ff26}\u{ff29}\u{ff2e}\u{ff21}\u{ff2e}\u{ff23}\u{ff25}", "", at(1));
    assert!(matches!(error, Err(CatalogError::DuplicateName { .. })), "{error:?}");
    let error = catalog.create("Fi\u{ad}nance", "", at(1));
    assert!(matches!(error, Err(CatalogError::ControlCharacter { .. })), "{error:?}");
    let error = catalog.create("Pay\u{200b}roll", "", at(1));
    assert!(matches!(error, Err(CatalogError::ControlCharacter { .. })), "{error:?}");
}

#[test]
fn empty_and_control_names_rejected() {
    let mut catalog = Catalog::new(at(0));
    assert_eq!(catalog.create("   ", "", at(1)).err(), Some(CatalogError::EmptyName));
    assert!(matches!(
        catalog.create("a\u{7}b", "", at(1)),
        Err(CatalogError::ControlCharacter { .. })
    ));
}

#[test]
fn system_tag_cannot_be_deleted_or_redescribed() {
    let mut catalog = catalog_with(&["Finance"]);
    let before = catalog.clone();
    let rename = catalog.rename("Priority account", "VIP").expect_err("rename");
    assert_eq!(
        rename.to_string(),
        "tags cannot be renamed; create a tag with the new name and move the members"
    );
    let describe = catalog.set_description("Priority account", "x", at(5)).expect_err("describe");
    assert_eq!(describe.to_string(), "the description of the system tag is fixed");
    let delete = catalog.delete("PRIORITY ACCOUNT").expect_err("delete");
    assert_eq!(delete.to_string(), "the system tag cannot be deleted");
    assert_eq!(catalog.rename("Finance", "Fin"), Err(CatalogError::RenameNotSupported));
    assert_eq!(catalog, before);

    let edited = catalog.set_description("Finance", "", at(5)).expect("custom description");
    assert_eq!(edited.modified, at(0), "clearing an empty description changes nothing");
    catalog.set_description("Finance", "Finance team", at(6)).expect("describe");
    let cleared = catalog.set_description("Finance", "", at(7)).expect("clear");
    assert_eq!(cleared.description, "");
    assert_eq!(cleared.modified, at(7));
    assert!(catalog.delete("finance").is_ok());
    assert!(catalog.tag("Finance").is_none());
}

#[test]
fn unknown_tag_suggests_close_name() {
    let mut catalog = catalog_with(&["Finance"]);
    let error = catalog.delete("Fnance").expect_err("unknown");
    assert_eq!(error.to_string(), "tag 'Fnance' not found; did you mean 'Finance'?");
}

#[test]
fn catalog_round_trips_through_json() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance"]);
    catalog
        .add_members("Finance", &["user1@contoso.test"], &dir, Timestamp(17_800_000_001_234_567))
        .expect("adds");
    let json = serde_json::to_string(&catalog).expect("serialises");
    assert!(json.contains("\"modified\":\"2026-05-28T"), "{json}");
    let back: Catalog = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, catalog);
    assert_eq!(back.validate(), Ok(()));
}

#[test]
fn membership_resolves_and_lists_tags() {
    let dir = directory(PEOPLE);
    let mut catalog = catalog_with(&["Finance", "Executives"]);
    catalog.add_members("Executives", &["user2@contoso.test"], &dir, at(1)).expect("adds");
    catalog.add_members("Finance", &["g1"], &dir, at(1)).expect("adds");
    catalog.add_members(SYSTEM_TAG_NAME, &["user2@contoso.test"], &dir, at(1)).expect("adds");
    let lookup = Membership::new(&dir, &catalog);

    let by_plus = lookup.resolve(&UserRef::address(Role::Recipient, "USER2+news@contoso.test"));
    assert_eq!(by_plus, Some(1));
    let by_id = UserRef {
        object_id: Some("U3".into()),
        address: Some("x@partner.test".into()),
        ..UserRef::default()
    };
    assert_eq!(lookup.resolve(&by_id), Some(2));
    assert_eq!(lookup.resolve(&UserRef::address(Role::Sender, "someone@partner.test")), None);
    assert_eq!(lookup.resolve(&UserRef::address(Role::Sender, "finance@contoso.test")), None);

    assert_eq!(lookup.tags_of(1), &[0, 1, 2]);
    assert_eq!(lookup.tags_of(2), &[1]);
    assert!(lookup.tags_of(0).is_empty());
    assert!(lookup.tags_of(99).is_empty());
    assert_eq!(lookup.tag_name(2), "Executives");
    assert_eq!(lookup.tag_name(99), "");
}

#[test]
fn record_plus_address_carries_base_tags() {
    let rows = "\
u1,user,user1@contoso.test,User One,,,
u2,user,first.last@contoso.test,First Last,,,
u3,user,team@contoso.test,Team,,,
u4,user,emea@contoso.test,Team EMEA,team+emea@contoso.test,,
";
    let dir = directory(rows);
    let mut catalog = catalog_with(&["Finance", "EMEA"]);
    catalog.add_members("Finance", &["user1@contoso.test"], &dir, at(1)).expect("adds");
    catalog.add_members("EMEA", &["u4"], &dir, at(1)).expect("adds");
    let lookup = Membership::new(&dir, &catalog);
    let recipient = |address: &str| lookup.resolve(&UserRef::address(Role::Recipient, address));

    let user1 = recipient("user1+invoices@contoso.test").expect("plus address resolves");
    assert_eq!(lookup.tags_of(user1), &[1]);
    assert_eq!(recipient("firstlast@contoso.test"), None);
    let team_emea = recipient("team+emea@contoso.test").expect("known alias resolves");
    assert_eq!(lookup.attribute(team_emea, UserField::ObjectId), vec!["u4"]);
    assert_eq!(lookup.tags_of(team_emea), &[2]);
    assert_eq!(recipient("nobody+x@contoso.test"), None);
}

#[test]
fn membership_matches_tags_and_attributes() {
    let dir = directory(PEOPLE);
    let catalog = catalog_with(&["Finance", "Finance EMEA"]);
    let lookup = Membership::new(&dir, &catalog);
    assert_eq!(lookup.matching_tags(&TagMatch::Name("finance".into())), vec![1]);
    assert_eq!(lookup.matching_tags(&TagMatch::Name("PRIORITY  account".into())), vec![0]);
    assert_eq!(lookup.matching_tags(&TagMatch::Any), vec![0, 1, 2]);
    let wild = crate::filter::ast::Pattern {
        parts: vec![
            crate::filter::ast::PatternPart::Literal("FIN".into()),
            crate::filter::ast::PatternPart::Star,
        ],
    };
    assert_eq!(lookup.matching_tags(&TagMatch::Wild(wild)), vec![1, 2]);

    assert_eq!(lookup.attribute(0, UserField::Address), vec!["User1@Contoso.test"]);
    assert_eq!(lookup.attribute(4, UserField::Address).len(), 2, "guest: UPN and mail alias");
    assert_eq!(lookup.attribute(0, UserField::Domain), vec!["Contoso.test"]);
    assert_eq!(lookup.attribute(0, UserField::ObjectId), vec!["u1"]);
    assert_eq!(lookup.attribute(0, UserField::UserType), vec!["member"]);
    assert_eq!(lookup.attribute(4, UserField::UserType), vec!["guest"]);
    assert!(lookup.attribute(0, UserField::Department).is_empty());
    assert!(lookup.attribute(99, UserField::Name).is_empty());
}

proptest::proptest! {
    #[test]
    fn import_never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let dir = directory(PEOPLE);
        let mut catalog = catalog_with(&["Finance"]);
        let _ = catalog.import_members("Finance", &bytes, &dir, true, at(1));
    }

    #[test]
    fn import_of_arbitrary_text_keeps_catalog_valid(text in "[ -~\t\r\n\u{FEFF}é+@]{0,120}") {
        let dir = directory(PEOPLE);
        let mut catalog = catalog_with(&["Finance"]);
        let report = catalog.import_members("Finance", text.as_bytes(), &dir, false, at(1));
        proptest::prop_assert!(report.is_ok());
        proptest::prop_assert_eq!(catalog.validate(), Ok(()));
        let members = member_ids(&catalog, "Finance");
        let mut unique = members.clone();
        unique.dedup();
        proptest::prop_assert_eq!(members, unique);
    }
}
