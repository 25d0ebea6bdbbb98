use std::path::Path;

use super::*;

const SIMPLE: &str = "\
id,kind,address,display_name,aliases,mailbox,members
u1,user,User1@Contoso.test,User One,,,
u2,user,first.last@contoso.test,First Last,,,
u3,user,team@contoso.test,Team,,,
u4,user,emea@contoso.test,Team EMEA,team+emea@contoso.test,,
u5,user,ilker@contoso.test,Ilker,,,
u6,user,user@xn--bcher-kva.test,Bücher,,,
u7,user,strasse@contoso.test,Strasse,,,
u8,user,room7@contoso.test,Room 7,,false,
";

fn simple(text: &str) -> Directory {
    let (directory, _) = parse(text.as_bytes(), Path::new("dir.csv")).expect("fixture loads");
    directory
}

fn resolved_id(directory: &Directory, address: &str, purpose: Purpose) -> Option<String> {
    match directory.resolve_address(address, purpose) {
        Resolution::Found { object, .. } => directory.object_id(object).map(str::to_string),
        _ => None,
    }
}

#[test]
fn address_case_insensitive_keeps_display_case() {
    let directory = simple(SIMPLE);
    assert_eq!(
        resolved_id(&directory, "USER1@contoso.test", Purpose::Typed).as_deref(),
        Some("u1")
    );
    assert_eq!(
        resolved_id(&directory, " user1@CONTOSO.TEST ", Purpose::Typed).as_deref(),
        Some("u1")
    );
    let user = directory.users().first().expect("user");
    assert_eq!(user.display_address(), "User1@Contoso.test");
}

#[test]
fn plus_address_resolves_to_base() {
    let directory = simple(SIMPLE);
    let resolution = directory.resolve_address("user1+invoices@contoso.test", Purpose::MailData);
    assert_eq!(resolution, Resolution::Found { object: ObjectRef::User(0), plus_address: true });
    assert_eq!(
        directory.resolve_address("nobody+x@contoso.test", Purpose::MailData),
        Resolution::NotFound
    );
}

#[test]
fn plus_address_known_alias_wins() {
    let directory = simple(SIMPLE);
    let resolution = directory.resolve_address("team+emea@contoso.test", Purpose::MailData);
    assert_eq!(resolution, Resolution::Found { object: ObjectRef::User(3), plus_address: false });
}

#[test]
fn no_dot_stripping() {
    let directory = simple(SIMPLE);
    assert_eq!(
        directory.resolve_address("firstlast@contoso.test", Purpose::MailData),
        Resolution::NotFound
    );
    assert_eq!(
        resolved_id(&directory, "first.last@contoso.test", Purpose::Typed).as_deref(),
        Some("u2")
    );
}

#[test]
fn no_prefix_matching() {
    let directory = simple(SIMPLE);
    assert_eq!(
        directory.resolve_address("user@contoso.test", Purpose::Typed),
        Resolution::NotFound
    );
    assert_eq!(directory.resolve_address("user1@contoso", Purpose::Typed), Resolution::NotFound);
}

#[test]
fn locale_independent_folding_and_idna() {
    let directory = simple(SIMPLE);
    assert_eq!(
        resolved_id(&directory, "ILKER@contoso.test", Purpose::Typed).as_deref(),
        Some("u5")
    );
    assert_eq!(resolved_id(&directory, "user@BÜCHER.test", Purpose::Typed).as_deref(), Some("u6"));
    assert_eq!(
        directory.resolve_address("straße@contoso.test", Purpose::Typed),
        Resolution::NotFound
    );
    assert_eq!(
        directory.resolve_address("İLKER@contoso.test", Purpose::Typed),
        Resolution::NotFound
    );
}

#[test]
fn object_id_lookup_ignores_case() {
    let directory = simple(SIMPLE);
    assert_eq!(directory.by_object_id("U3"), Some(ObjectRef::User(2)));
    assert_eq!(directory.by_object_id("u99"), None);
}

#[test]
fn mailbox_column_defaults_to_true() {
    let directory = simple(SIMPLE);
    let users = directory.users();
    assert!(users.first().is_some_and(|u| u.has_mailbox));
    assert!(users.get(7).is_some_and(|u| !u.has_mailbox));
}

const GRAPH_ALICE: &str = r#"{"value":[
 {"id":"a1","userPrincipalName":"alice@contoso.onmicrosoft.test","mail":"alice@contoso.test",
  "proxyAddresses":["smtp:alice.old@contoso.test","SMTP:alice@contoso.test","SIP:alice@contoso.test",
                    "X500:/o=Org/cn=alice","alice2@contoso.test"],
  "userType":"Member","accountEnabled":true,"displayName":"Alice","department":"Finance"}
]}"#;

#[test]
fn proxy_prefixes_primary_alias_ignored() {
    let (directory, report) =
        parse(GRAPH_ALICE.as_bytes(), Path::new("users.json")).expect("loads");
    assert_eq!(report.format, DirectoryFormat::GraphJson);
    let alice = directory.users().first().expect("alice");
    assert_eq!(alice.primary_address.as_deref(), Some("alice@contoso.test"));
    assert_eq!(alice.aliases, vec!["alice.old@contoso.test", "alice2@contoso.test"]);
    let warned =
        report.notices.iter().any(|n| n.message.contains("\"alice2@contoso.test\" has no prefix"));
    assert!(warned, "{:?}", report.notices);
    assert!(resolved_id(&directory, "alice.old@contoso.test", Purpose::Typed).is_some());
    assert!(resolved_id(&directory, "alice@contoso.onmicrosoft.test", Purpose::Typed).is_some());
    assert_eq!(
        directory.resolve_address("/o=Org/cn=alice", Purpose::Typed),
        Resolution::Invalid(AddressError::Syntax)
    );
}

#[test]
fn sip_only_address_not_matched() {
    let json = r#"[{"id":"b1","userPrincipalName":"bob@contoso.test","proxyAddresses":["SIP:bob.sip@contoso.test"]}]"#;
    let (directory, _) = parse(json.as_bytes(), Path::new("users.json")).expect("loads");
    assert_eq!(
        directory.resolve_address("bob.sip@contoso.test", Purpose::Typed),
        Resolution::NotFound
    );
}

#[test]
fn two_primary_smtp_rejected() {
    let json = r#"[{"id":"a1","userPrincipalName":"alice@contoso.test","proxyAddresses":["SMTP:alice@contoso.test"]},
      {"id":"c1","userPrincipalName":"carol@contoso.test","proxyAddresses":["SMTP:carol@contoso.test","SMTP:c@contoso.test"]}]"#;
    let error = parse(json.as_bytes(), Path::new("users.json")).expect_err("two primaries");
    let message = error.to_string();
    assert!(message.contains("users.json"), "{message}");
    assert!(message.contains("entry 2"), "{message}");
    assert!(message.contains("carol@contoso.test"), "{message}");
    assert!(message.contains("two primary SMTP"), "{message}");
}

#[test]
fn shared_address_typed_vs_mail_data() {
    let json = r#"[{"id":"a1","userPrincipalName":"shared@contoso.test","mail":"a1@contoso.test"},
      {"id":"b1","userPrincipalName":"b1@contoso.test","proxyAddresses":["SMTP:shared@contoso.test"]}]"#;
    let (directory, _) = parse(json.as_bytes(), Path::new("users.json")).expect("loads");
    let typed = directory.resolve_address("shared@contoso.test", Purpose::Typed);
    assert_eq!(typed, Resolution::Ambiguous(vec![ObjectRef::User(0), ObjectRef::User(1)]));
    assert_eq!(
        resolved_id(&directory, "shared@contoso.test", Purpose::MailData).as_deref(),
        Some("b1")
    );
}

#[test]
fn reassigned_address_prefers_live_user() {
    let json = r#"[{"id":"old","userPrincipalName":"old@contoso.test","mail":"sales@contoso.test",
        "deletedDateTime":"2026-01-02T03:04:05Z"},
      {"id":"new","userPrincipalName":"new@contoso.test","mail":"sales@contoso.test"}]"#;
    let (directory, _) = parse(json.as_bytes(), Path::new("users.json")).expect("loads");
    assert_eq!(
        resolved_id(&directory, "sales@contoso.test", Purpose::Typed).as_deref(),
        Some("new")
    );
    assert_eq!(resolved_id(&directory, "old@contoso.test", Purpose::Typed).as_deref(), Some("old"));
}

#[test]
fn graph_guest_has_no_mailbox_and_notice_once() {
    let json = r#"[{"id":"g1","userPrincipalName":"ext.user_partner.test#EXT#@contoso.onmicrosoft.test",
        "mail":"ext.user@partner.test","userType":"Guest"},
      {"id":"m1","userPrincipalName":"m1@contoso.test","userType":"Member"},
      {"id":"m2","userPrincipalName":"m2@contoso.test","userType":"Member","hasMailbox":false},
      {"id":"m3","userPrincipalName":"m3@contoso.test","deletedDateTime":"2026-01-02T03:04:05Z"}]"#;
    let (directory, report) = parse(json.as_bytes(), Path::new("users.json")).expect("loads");
    let users = directory.users();
    assert!(users.first().is_some_and(|u| u.user_type == UserType::Guest && !u.has_mailbox));
    assert!(users.get(1).is_some_and(|u| u.has_mailbox));
    assert!(users.get(2).is_some_and(|u| !u.has_mailbox));
    assert!(users.get(3).is_some_and(|u| u.deleted));
    let mailbox_notices =
        report.notices.iter().filter(|n| n.message.contains("no mailbox information"));
    assert_eq!(mailbox_notices.count(), 1);
}

const ENTRA: &str = "\
UserPrincipalName_s,TimeGenerated [UTC],ObjectId_g,AccountEnabled_b,DisplayName_s,Mail_s,ProxyAddresses_s,OtherMails_s,UserType_s,Department_s
Ana@contoso.onmicrosoft.test,\"6/4/2021, 4:00:37.371 PM\",0000-a,TRUE,Ana,,[],[],Member,IT
Ben@contoso.onmicrosoft.test,\"6/4/2021, 4:00:37.381 PM\",0000-b,FALSE,Ben,ben@contoso.test,\"[\"\"SMTP:ben@contoso.test\"\",\"\"smtp:b@contoso.test\"\"]\",\"[\"\"ben@partner.test\"\"]\",Member,Sales
";

#[test]
fn graph_groups_load_with_members() {
    let json = r##"{"value":[
      {"id":"m1","userPrincipalName":"m1@contoso.test","hasMailbox":true},
      {"@odata.type":"#microsoft.graph.group","id":"g1","mail":"team@contoso.test","displayName":"Team",
       "members":["m1",{"id":"g2"}]},
      {"@odata.type":"#microsoft.graph.group","id":"g2","displayName":"Inner","members":[]}]}"##;
    let (directory, report) = parse(json.as_bytes(), Path::new("graph.json")).expect("loads");
    assert_eq!(report.users, 1);
    assert_eq!(report.groups, 2);
    assert_eq!(directory.expand_group(0), vec![0]);
    assert_eq!(
        directory.resolve_address("TEAM@contoso.test", Purpose::Typed),
        Resolution::Found { object: ObjectRef::Group(0), plus_address: false }
    );
}

#[test]
fn entra_csv_reads_proxies_and_enabled() {
    let (directory, report) = parse(ENTRA.as_bytes(), Path::new("aad.csv")).expect("loads");
    assert_eq!(report.format, DirectoryFormat::EntraCsv);
    assert_eq!(report.users, 2);
    let ben = directory.users().get(1).expect("ben");
    assert!(!ben.enabled);
    assert_eq!(ben.primary_address.as_deref(), Some("ben@contoso.test"));
    assert_eq!(ben.aliases, vec!["b@contoso.test"]);
    assert_eq!(ben.department, "Sales");
    assert_eq!(
        resolved_id(&directory, "ANA@contoso.onmicrosoft.test", Purpose::Typed).as_deref(),
        Some("0000-a")
    );
    assert_eq!(directory.resolve_address("ben@partner.test", Purpose::Typed), Resolution::NotFound);
}

#[test]
fn entra_csv_bad_bool_names_line() {
    let text = ENTRA.replace("FALSE", "maybe");
    let error = parse(text.as_bytes(), Path::new("aad.csv")).expect_err("bad bool");
    assert_eq!(error.to_string(), "aad.csv: line 3: AccountEnabled_b is neither TRUE nor FALSE");
}

#[test]
fn utf8_bom_header_stripped() {
    let text = format!("\u{FEFF}{SIMPLE}");
    let (_, report) = parse(text.as_bytes(), Path::new("dir.csv")).expect("loads");
    assert_eq!(report.format, DirectoryFormat::SimpleCsv);
    assert_eq!(report.users, 8);
}

#[test]
fn invalid_utf8_names_line() {
    let mut bytes = SIMPLE.as_bytes().to_vec();
    bytes.extend_from_slice(b"u9,user,caf\xE9@contoso.test,Cafe,,,\n");
    let error = parse(&bytes, Path::new("dir.csv")).expect_err("latin-1 byte");
    assert!(error.to_string().starts_with("dir.csv: line 10: not valid UTF-8"), "{error}");
}

#[test]
fn unknown_format_rejected() {
    let error = parse(b"name,email\nx,y\n", Path::new("odd.csv")).expect_err("unknown");
    assert!(error.to_string().starts_with("odd.csv: unrecognised directory format"));
}

#[test]
fn unknown_group_member_names_line() {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,a@contoso.test,A,,,\ng1,group,,G,,,u1;zz@contoso.test\n";
    let error = parse(text.as_bytes(), Path::new("dir.csv")).expect_err("unknown member");
    let message = error.to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("zz@contoso.test"), "{message}");
}

#[test]
fn unknown_group_member_id_kept_with_warning() {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,a@contoso.test,A,,,\ng1,group,,G,,,u1;u404\n";
    let (directory, report) = parse(text.as_bytes(), Path::new("dir.csv")).expect("loads");
    assert_eq!(
        directory.groups().first().map(|g| g.members.clone()),
        Some(vec!["u1".to_string(), "u404".to_string()])
    );
    assert_eq!(directory.expand_group(0), vec![0]);
    assert!(
        report
            .notices
            .iter()
            .any(|n| n.message.contains("u404") && n.location == Some(Location::Line(3)))
    );
}

#[test]
fn misplaced_columns_warned() {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,a@contoso.test,A,,,g1\ng1,group,,G,x@contoso.test,,u1\n";
    let (_, report) = parse(text.as_bytes(), Path::new("dir.csv")).expect("loads");
    let messages: Vec<&str> = report.notices.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "user u1: members apply to groups only; ignored",
            "group g1: aliases and mailbox apply to users only; ignored",
        ]
    );
}

#[test]
fn duplicate_object_id_rejected() {
    let text = "id,kind,address,display_name,aliases,mailbox,members\nu1,user,a@contoso.test,A,,,\nu1,user,b@contoso.test,B,,,\n";
    let error = parse(text.as_bytes(), Path::new("dir.csv")).expect_err("duplicate");
    assert!(error.to_string().contains("object id u1 appears twice"));
}

const GROUPS: &str = "\
id,kind,address,display_name,aliases,mailbox,members
u1,user,a@contoso.test,A,,,
u2,user,b@contoso.test,B,,,
u3,user,c@contoso.test,C,,false,
g1,group,g1@contoso.test,G1,,,u1;g2
g2,group,,G2,,,b@contoso.test;u3;g3
g3,group,,G3,,,g1;u1
";

#[test]
fn group_cycle_survived() {
    let (directory, report) = parse(GROUPS.as_bytes(), Path::new("dir.csv")).expect("loads");
    assert_eq!(directory.expand_group(0), vec![0, 1]);
    assert_eq!(directory.expand_group(2), vec![0, 1]);
    assert_eq!(directory.group_cycles(), vec![vec!["g1", "g2", "g3", "g1"]]);
    let cycles: Vec<_> =
        report.notices.iter().filter(|n| n.message.starts_with("group cycle")).collect();
    assert_eq!(cycles.len(), 1);
}

#[test]
fn self_member_group_is_a_cycle() {
    let text = "id,kind,address,display_name,aliases,mailbox,members\ng1,group,,G1,,,g1\n";
    let (directory, _) = parse(text.as_bytes(), Path::new("dir.csv")).expect("loads");
    assert_eq!(directory.expand_group(0), Vec::<usize>::new());
    assert_eq!(directory.group_cycles(), vec![vec!["g1", "g1"]]);
}

#[test]
fn deep_nesting_expands_without_recursion() {
    let mut text = String::from(
        "id,kind,address,display_name,aliases,mailbox,members\nu1,user,a@contoso.test,A,,,\n",
    );
    for i in 0..20_000 {
        let member = if i == 0 { "u1".to_string() } else { format!("g{}", i - 1) };
        text.push_str(&format!("g{i},group,,G{i},,,{member}\n"));
    }
    let (directory, _) = parse(text.as_bytes(), Path::new("dir.csv")).expect("loads");
    assert_eq!(directory.expand_group(19_999), vec![0]);
    assert!(directory.group_cycles().is_empty());
}

#[test]
fn snapshot_round_trip_rebuilds_index() {
    let directory = simple(SIMPLE);
    let json = serde_json::to_string(&directory).expect("serialises");
    let back: Directory = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, directory);
    assert_eq!(resolved_id(&back, "user1@contoso.test", Purpose::Typed).as_deref(), Some("u1"));
}

#[test]
fn real_entra_sample_loads() {
    let Some(folder) = std::env::var_os("TAGQ_SAMPLES") else {
        println!("skipped: TAGQ_SAMPLES not set");
        return;
    };
    let path = Path::new(&folder).join("AADUSerInfo.csv");
    let (directory, report) = load(&path).expect("sample loads");
    assert_eq!(report.format, DirectoryFormat::EntraCsv);
    assert_eq!(report.users, 6);
    let mailbox_notices =
        report.notices.iter().filter(|n| n.message.contains("no mailbox information"));
    assert_eq!(mailbox_notices.count(), 1);
    assert!(resolved_id(&directory, "meganb@DOMAIN.onmicrosoft.com", Purpose::Typed).is_some());
    assert!(directory.users().iter().all(|u| u.has_mailbox && u.enabled));
}
