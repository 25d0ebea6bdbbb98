//! Regression tests for problems that real exports, directories and member lists cause, run
//! through the `tagq` binary. Each test is named after the problem it pins.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

/// A throw-away store and a folder for input files.
struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env { dir: TempDir::new().expect("temporary directory") }
    }

    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", self.dir.path().join("store"));
        cmd
    }

    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    fn directory(&self, csv_rows: &str) {
        let text = format!("id,kind,address,display_name,aliases,mailbox,members\n{csv_rows}");
        let path = self.file("directory.csv", text);
        self.cmd().args(["directory", "import"]).arg(path).assert().success();
    }

    fn count(&self, args: &[&str], file: &Path) -> u64 {
        let output = self.cmd().arg("filter").arg("--count").args(args).arg(file).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(matches!(output.status.code(), Some(0 | 1)), "{args:?}: {stderr}");
        String::from_utf8_lossy(&output.stdout).trim().parse().expect("a count")
    }
}

fn utf16(text: &str, little_endian: bool, with_bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = text.encode_utf16().collect();
    if !with_bom {
        units.retain(|u| *u != 0xFEFF);
    }
    units
        .iter()
        .flat_map(|u| if little_endian { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

#[test]
fn utf8_bom_header_stripped() {
    let env = Env::new();
    let file = env.file("alerts.csv", "\u{FEFF}AlertId,Severity\r\nA-1,High\r\n");
    assert_eq!(env.count(&["AlertId:\"A-1\""], &file), 1);
}

#[test]
fn utf16_with_bom_decoded() {
    let env = Env::new();
    let text = "\u{FEFF}Severity,Recipient\r\nhigh,user1@contoso.test\r\n";
    for (name, little_endian) in [("le.csv", true), ("be.csv", false)] {
        let file = env.file(name, utf16(text, little_endian, true));
        assert_eq!(env.count(&["Severity:high and recipient:user1@contoso.test"], &file), 1);
    }
}

#[test]
fn utf16_without_bom_rejected_then_loaded_with_encoding() {
    let env = Env::new();
    let text = "\u{FEFF}Severity,Recipient\r\nhigh,user1@contoso.test\r\n";
    let file = env.file("nobom.csv", utf16(text, true, false));
    env.cmd()
        .args(["filter", "Severity:high"])
        .arg(&file)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--encoding utf-16le"));
    assert_eq!(env.count(&["--encoding", "utf-16le", "Severity:high"], &file), 1);
}

#[test]
fn semicolon_delimiter_sniffed() {
    let env = Env::new();
    let file = env.file(
        "rechnung.csv",
        "Severity;Recipient;Subject\r\nhigh;user1@contoso.test;Rechnung, dringend\r\n",
    );
    assert_eq!(env.count(&[r#"Subject:"Rechnung, dringend""#], &file), 1);
}

#[test]
fn mixed_delimiters_need_option() {
    let env = Env::new();
    let file = env.file("mixed.csv", "Severity;Recipient,Subject\r\nhigh;user1@contoso.test,x\r\n");
    env.cmd()
        .args(["filter", "Severity:high"])
        .arg(&file)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--delimiter"));
    assert_eq!(env.count(&["--delimiter", ";", "Severity:high"], &file), 1);
}

#[test]
fn quoted_line_breaks_and_doubled_quotes() {
    let env = Env::new();
    let file = env.file(
        "alerts.csv",
        "AlertId,Description,Severity\n\"A-2\",\"line one\r\nline two, more\",high\n\"A-3\",\"said \"\"hi\"\"\",low\n",
    );
    assert_eq!(env.count(&[""], &file), 2);
    assert_eq!(env.count(&[r#"Description:"said \"hi\"""#], &file), 1);
    assert_eq!(env.count(&["Description:*more"], &file), 1);
}

#[test]
fn empty_quoted_last_field_kept() {
    let env = Env::new();
    let file = env
        .file("alerts.csv", "AlertId,Severity,Note\n\"A-1\",\"high\",\"\"\n\"A-2\",\"low\",\"\"");
    assert_eq!(env.count(&["Note:*"], &file), 2);
    let output = env.cmd().args(["filter", ""]).arg(&file).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    for row in reader.records() {
        let row = row.unwrap();
        assert_eq!(row.len(), 3);
        assert_eq!(&row[2], "");
    }
}

#[test]
fn fractional_seconds_any_length() {
    let env = Env::new();
    let times = [
        "2024-06-02T08:15:30Z",
        "2024-06-02T08:15:30.5Z",
        "2024-06-02T08:15:30.069Z",
        "2024-06-02T08:15:30.1234567Z",
        "2024-06-02T08:15:30.123456789Z",
        "2024-06-02T08:15:30.1234567+00:00",
    ];
    let mut ndjson = String::new();
    for (i, time) in times.iter().enumerate() {
        ndjson.push_str(&format!(
            "{{\"Timestamp\":\"{time}\",\"NetworkMessageId\":\"m-{i}\",\"RecipientEmailAddress\":\"user1@contoso.test\",\"SenderFromAddress\":\"a@fabrikam.test\",\"Subject\":\"s\"}}\n"
        ));
    }
    let file = env.file("times.ndjson", ndjson);
    assert_eq!(env.count(&[""], &file), 6);
    let ms69 = "received >= 2024-06-02T08:15:30.069Z and received < 2024-06-02T08:15:30.0691Z";
    assert_eq!(env.count(&[ms69], &file), 1);
    let exact =
        "received >= 2024-06-02T08:15:30.1234567Z and received <= 2024-06-02T08:15:30.1234567Z";
    assert_eq!(env.count(&[exact], &file), 3, "nine digits are truncated to 100 ns");
}

#[test]
fn truncated_recipient_never_prefix_matched() {
    let env = Env::new();
    env.directory(
        "u1,user,user1@contoso.test,User One,,true,\n\
         u2,user,user2@contoso.test,User Two,,true,\n\
         u3,user,user3@contoso.test,User Three,,true,\n",
    );
    env.cmd().args(["tag", "create", "T"]).assert().success();
    env.cmd().args(["tag", "add", "T", "user3@contoso.test"]).assert().success();
    let file = env.file(
        "mail.csv",
        "NetworkMessageId,Recipients\nm-1,\"user1@contoso.test; USER2@contoso.test ;user3@cont\"\n",
    );
    assert_eq!(env.count(&["recipient:user1@contoso.test"], &file), 1);
    assert_eq!(env.count(&["recipient:user2@contoso.test"], &file), 1);
    assert_eq!(env.count(&["recipient:user3@contoso.test"], &file), 0);
    assert_eq!(env.count(&["tag:T"], &file), 0);
    env.cmd().args(["filter", "--count", "tag:T"]).arg(&file).assert().code(1).stderr(
        predicate::str::contains("1 recipient or alert-user address(es) are not in the directory")
            .and(predicate::str::contains("user3@cont)")),
    );
}

#[test]
fn portal_export_cap_warned() {
    let env = Env::new();
    let mut text = String::from("AlertId,Severity\n");
    for n in 0..10_000 {
        text.push_str(&format!("A-{n},low\n"));
    }
    let file = env.file("capped.csv", text);
    env.cmd()
        .args(["filter", "--count", "Severity:low"])
        .arg(&file)
        .assert()
        .success()
        .stdout("10000\n")
        .stderr(predicate::str::contains("10000").and(predicate::str::contains("truncated")));
}

#[test]
fn address_case_insensitive_everywhere() {
    let env = Env::new();
    env.directory("u1,user,User1@Contoso.test,User One,,true,\n");
    env.cmd().args(["tag", "create", "Finance"]).assert().success();
    let members = env.file("members.txt", "user1@CONTOSO.TEST\n");
    env.cmd().args(["tag", "import", "Finance"]).arg(members).assert().success();
    env.cmd()
        .args(["tag", "show", "Finance", "--output", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("User1@Contoso.test"));
    let file = env.file(
        "mail.csv",
        "NetworkMessageId,RecipientEmailAddress,SenderFromAddress\nm-1,USER1@contoso.test,a@fabrikam.test\n",
    );
    assert_eq!(env.count(&["tag:Finance"], &file), 1);
    assert_eq!(env.count(&["recipient:user1@contoso.TEST"], &file), 1);
}

#[test]
fn plus_addresses_resolve_without_dot_stripping() {
    let env = Env::new();
    env.directory(
        "u1,user,user1@contoso.test,User One,,true,\n\
         u2,user,first.last@contoso.test,First Last,,true,\n\
         u3,user,team@contoso.test,Team,,true,\n\
         u4,user,emea@contoso.test,Team EMEA,team+emea@contoso.test,true,\n",
    );
    for (tag, member) in [("One", "user1@contoso.test"), ("First", "first.last@contoso.test")] {
        env.cmd().args(["tag", "create", tag]).assert().success();
        env.cmd().args(["tag", "add", tag, member]).assert().success();
    }
    env.cmd().args(["tag", "create", "Team"]).assert().success();
    env.cmd().args(["tag", "add", "Team", "team@contoso.test"]).assert().success();
    env.cmd().args(["tag", "create", "Emea"]).assert().success();
    env.cmd().args(["tag", "add", "Emea", "emea@contoso.test"]).assert().success();
    let mail = |recipient: &str| {
        env.file("mail.csv", format!("NetworkMessageId,RecipientEmailAddress\nm-1,{recipient}\n"))
    };
    assert_eq!(env.count(&["tag:One"], &mail("user1+invoices@contoso.test")), 1);
    assert_eq!(env.count(&["tag:First"], &mail("firstlast@contoso.test")), 0);
    assert_eq!(env.count(&["tag:Emea"], &mail("team+emea@contoso.test")), 1);
    assert_eq!(env.count(&["tag:Team"], &mail("team+emea@contoso.test")), 0);
    assert_eq!(env.count(&["tag:*"], &mail("nobody+x@contoso.test")), 0);

    env.cmd().args(["tag", "create", "Finance"]).assert().success();
    let members = env.file("members.txt", "user1+x@contoso.test\n");
    env.cmd()
        .args(["tag", "import", "Finance"])
        .arg(members)
        .assert()
        .success()
        .stderr(predicate::str::contains("line 1").and(predicate::str::contains("plus address")));
}

#[test]
fn guest_not_tagged_and_ext_upn_parses() {
    let env = Env::new();
    env.directory("g1,user,ext.user@partner.test,External,ext.user_partner.test#EXT#@contoso.onmicrosoft.test,false,\n");
    env.cmd().args(["tag", "create", "Finance"]).assert().success();
    let members = env.file("members.txt", "ext.user@partner.test\n");
    env.cmd()
        .args(["tag", "import", "Finance"])
        .arg(members)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 1").and(predicate::str::contains("mailbox")));
    let file =
        env.file("mail.csv", "NetworkMessageId,RecipientEmailAddress\nm-1,someone@contoso.test\n");
    let query = r#"recipient:"ext.user_partner.test#EXT#@contoso.onmicrosoft.test""#;
    assert_eq!(env.count(&[query], &file), 0);
}

#[test]
fn folding_ignores_locale_and_idna_domains() {
    let env = Env::new();
    env.directory(
        "u1,user,ilker@contoso.test,Ilker,,true,\n\
         u2,user,user@xn--bcher-kva.test,Buecher,,true,\n\
         u3,user,strasse@contoso.test,Strasse,,true,\n",
    );
    for (tag, member) in [
        ("Ilker", "ilker@contoso.test"),
        ("Buch", "user@xn--bcher-kva.test"),
        ("Strasse", "strasse@contoso.test"),
    ] {
        env.cmd().args(["tag", "create", tag]).assert().success();
        env.cmd().args(["tag", "add", tag, member]).assert().success();
    }
    let mail = env.file(
        "mail.csv",
        "NetworkMessageId,RecipientEmailAddress\nm-1,ILKER@contoso.test\nm-2,user@BÜCHER.test\nm-3,straße@contoso.test\n",
    );
    for lang in ["tr_TR.UTF-8", "C.UTF-8"] {
        let count = |query: &str| {
            let output = env
                .cmd()
                .env("LANG", lang)
                .env("LC_ALL", lang)
                .args(["filter", "--count", query])
                .arg(&mail)
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        };
        assert_eq!(count("tag:Ilker"), "1", "{lang}");
        assert_eq!(count("tag:Buch"), "1", "{lang}");
        assert_eq!(count("tag:Strasse"), "0", "{lang}");
    }
}

#[test]
fn address_query_folds_ascii_only() {
    let env = Env::new();
    let mail = env.file(
        "mail.csv",
        "NetworkMessageId,RecipientEmailAddress\nm-1,straße@contoso.test\nm-2,user@BÜCHER.test\nm-3,ILKER@contoso.test\n",
    );
    assert_eq!(env.count(&["recipient:strasse@contoso.test"], &mail), 0);
    assert_eq!(env.count(&["recipient:straße@contoso.test"], &mail), 1);
    assert_eq!(env.count(&["recipient:user@xn--bcher-kva.test"], &mail), 1);
    assert_eq!(env.count(&["recipient.domain:bücher.TEST"], &mail), 1);
    assert_eq!(env.count(&["recipient:ilker@CONTOSO.test"], &mail), 1);
}

#[test]
fn csv_output_neutralises_formulas() {
    let env = Env::new();
    let file = env.file(
        "subjects.csv",
        "AlertId,Title,Score\nA-1,\"=HYPERLINK(\"\"http://phish.test\"\",\"\"Open\"\")\",-5\nA-2,@SUM(1),1\nA-3,+1+1,2\nA-4,-2,3\nA-5,\"\tcmd\",4\n",
    );
    let output = env.cmd().args(["filter", "--output", "csv", ""]).arg(&file).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(&rows[0][1], r#"'=HYPERLINK("http://phish.test","Open")"#);
    assert_eq!(&rows[0][2], "-5");
    assert_eq!(&rows[1][1], "'@SUM(1)");
    assert_eq!(&rows[2][1], "'+1+1");
    assert_eq!(&rows[3][1], "-2", "a number stays a number");
    assert_eq!(&rows[4][1], "'\tcmd");
    let passed = env.cmd().args(["filter", ""]).arg(&file).output().unwrap();
    let passed = String::from_utf8(passed.stdout).unwrap();
    assert!(passed.contains("A-2,@SUM(1),1\n"), "pass-through CSV keeps cells as read: {passed}");
    let ndjson = env.cmd().args(["filter", "--output", "ndjson", ""]).arg(&file).output().unwrap();
    assert!(String::from_utf8(ndjson.stdout).unwrap().contains("\"@SUM(1)\""));
}

#[test]
fn directory_reimport_cannot_pass_tag_limit() {
    let env = Env::new();
    let group = |users: usize| {
        let mut rows = String::new();
        let mut members = Vec::new();
        for n in 0..users {
            rows.push_str(&format!("u{n},user,user{n}@contoso.test,User {n},,true,\n"));
            members.push(format!("user{n}@contoso.test"));
        }
        rows.push_str(&format!("g1,group,big@contoso.test,Big,,,{}\n", members.join(";")));
        rows
    };
    env.directory(&group(200));
    env.cmd().args(["tag", "add", "Priority account", "big@contoso.test"]).assert().success();
    let bigger = env.file(
        "bigger.csv",
        format!("id,kind,address,display_name,aliases,mailbox,members\n{}", group(300)),
    );
    env.cmd()
        .args(["directory", "import"])
        .arg(&bigger)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("limits.priority_account_users"));
    env.cmd()
        .args(["tag", "show", "Priority account"])
        .assert()
        .success()
        .stdout(predicate::str::contains("200 user(s) in effect"));
}
