//! Command-line tests of tag management: the rules on system and custom tags, member
//! imports, limits, role groups, the audit log, and the store under concurrent writers,
//! killed writers and damaged files. Each test runs the real `tagq` binary on its own store.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use tempfile::TempDir;

/// The local account the tests run as; it creates, and so owns, every store.
const OWNER: &str = "local:tester";

/// A store in a temporary directory, with a place for input files next to it.
struct Setup {
    temp: TempDir,
}

impl Setup {
    fn new() -> Setup {
        Setup { temp: TempDir::new().expect("temporary directory") }
    }

    /// Creates a store whose directory has `users` mailbox users `userN@contoso.test` (N from
    /// 1) and a tag Finance.
    fn with_users(users: usize) -> Setup {
        let setup = Setup::new();
        let directory = setup.write("directory.csv", directory_csv(1..users + 1, "").as_bytes());
        setup.ok(&["directory", "import", path_arg(&directory)]);
        setup.ok(&["tag", "create", "Finance", "--description", "finance team"]);
        setup
    }

    fn store(&self) -> PathBuf {
        self.temp.path().join("store")
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.temp.path().join(name);
        std::fs::write(&path, bytes).expect("write input file");
        path
    }

    fn cmd(&self, actor: Option<&str>) -> Command {
        let mut cmd = Command::cargo_bin("tagq").expect("tagq binary");
        cmd.env("TAGQ_STORE", self.store()).env("USER", "tester").env_remove("TAGQ_ACTOR");
        if let Some(actor) = actor {
            cmd.env("TAGQ_ACTOR", actor);
        }
        cmd
    }

    fn run_as(&self, actor: Option<&str>, args: &[&str]) -> Output {
        self.cmd(actor).args(args).output().expect("run tagq")
    }

    /// Runs as the owner, expects exit 0 and returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_as(None, args)
    }

    fn ok_as(&self, actor: Option<&str>, args: &[&str]) -> String {
        let output = self.run_as(actor, args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs, expects exit 2 and returns stderr.
    fn fails_as(&self, actor: Option<&str>, args: &[&str]) -> String {
        let output = self.run_as(actor, args);
        assert_eq!(output.status.code(), Some(2), "{args:?} should fail: {}", stderr(&output));
        stderr(&output)
    }

    fn fails(&self, args: &[&str]) -> String {
        self.fails_as(None, args)
    }

    /// Returns the exported members of a tag, sorted.
    fn members(&self, tag: &str) -> Vec<String> {
        let mut members: Vec<String> =
            self.ok(&["tag", "export", tag]).lines().map(str::to_string).collect();
        members.sort();
        members
    }

    /// Returns one tag's row of `tag list --output json`.
    fn listed(&self, tag: &str) -> serde_json::Value {
        let listing: serde_json::Value =
            serde_json::from_str(&self.ok(&["tag", "list", "--output", "json"])).expect("json");
        let rows = listing.as_array().expect("array").clone();
        rows.into_iter().find(|row| row["name"] == tag).expect("tag listed")
    }

    fn audit(&self) -> Vec<serde_json::Value> {
        let text = self.ok(&["audit", "--output", "ndjson"]);
        text.lines().map(|line| serde_json::from_str(line).expect("audit json")).collect()
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temporary path")
}

/// Users `userN@contoso.test` for N in `range`, then `extra` rows, in tagq's simple CSV.
fn directory_csv(range: std::ops::Range<usize>, extra: &str) -> String {
    let mut text = String::from("id,kind,address,display_name,aliases,mailbox,members\n");
    for n in range {
        text.push_str(&format!("u{n},user,user{n}@contoso.test,User {n},,true,\n"));
    }
    text.push_str(extra);
    text
}

fn address_list(range: std::ops::Range<usize>) -> String {
    range.map(|n| format!("user{n}@contoso.test\n")).collect()
}

// --- tag rules -----------------------------------------------------------------------------

#[test]
fn system_tag_fixed_custom_description_editable() {
    let setup = Setup::with_users(2);
    setup.ok(&["role", "assign", "admin@contoso.test", "Security Administrator"]);
    let admin = Some("admin@contoso.test");
    let system_before = setup.listed("Priority account");
    let finance_before = setup.listed("Finance");

    let renamed = setup.fails_as(admin, &["tag", "rename", "Priority account", "VIP"]);
    assert!(renamed.contains("tags cannot be renamed"), "{renamed}");
    let described =
        setup.fails_as(admin, &["tag", "edit", "Priority account", "--description", "x"]);
    assert!(described.contains("the description of the system tag is fixed"), "{described}");
    let deleted = setup.fails_as(admin, &["tag", "delete", "PRIORITY ACCOUNT", "--yes"]);
    assert!(deleted.contains("the system tag cannot be deleted"), "{deleted}");
    let renamed = setup.fails_as(admin, &["tag", "rename", "Finance", "Fin"]);
    assert!(renamed.contains("tags cannot be renamed"), "{renamed}");
    assert_eq!(setup.listed("Priority account"), system_before);
    assert_eq!(setup.listed("Finance"), finance_before);

    setup.ok_as(admin, &["tag", "edit", "Finance", "--description", ""]);
    let finance = setup.listed("Finance");
    assert_eq!(finance["description"], "");
    assert_ne!(finance["modified"], finance_before["modified"]);
    assert_eq!(finance["created"], finance_before["created"]);
}

#[test]
fn rename_of_unknown_tag_names_it() {
    let setup = Setup::with_users(1);
    let message = setup.fails(&["tag", "rename", "Finanse", "Fin"]);
    assert!(message.contains("tag 'Finanse' not found"), "{message}");
    assert!(message.contains("did you mean 'Finance'"), "{message}");
}

#[test]
fn lookalike_tag_names_rejected_by_cli() {
    let setup = Setup::with_users(1);
    setup.ok(&["tag", "create", "Café"]);
    for name in ["finance", "Finance ", "Cafe\u{301}", "priority ACCOUNT"] {
        let message = setup.fails(&["tag", "create", name]);
        let expected = if name.starts_with("priority") { "system tag" } else { "already exists" };
        assert!(message.contains(expected), "{name:?}: {message}");
    }
    let listing = setup.ok(&["tag", "list", "--output", "csv"]);
    assert_eq!(listing.lines().count(), 4, "header, system tag, Finance, Café: {listing}");
    assert!(listing.contains("\nFinance,"), "creator's casing kept: {listing}");
}

#[test]
fn delete_needs_yes_without_terminal() {
    let setup = Setup::with_users(1);
    let message = setup.fails(&["tag", "delete", "finance"]);
    assert!(message.contains("pass --yes"), "{message}");
    assert_eq!(setup.listed("Finance")["kind"], "custom");
    setup.ok(&["tag", "delete", "finance", "--yes"]);
    let listing = setup.ok(&["tag", "list", "--output", "csv"]);
    assert!(!listing.contains("Finance"), "{listing}");
    let message = setup.fails(&["tag", "delete", "Finance", "--yes"]);
    assert!(message.contains("tag 'Finance' not found"), "{message}");
}

/// Runs `tagq ARGS` on a pseudo-terminal through util-linux `script`, typing `input`.
/// Returns `None` when `script` is not installed.
fn run_on_terminal(setup: &Setup, args: &str, input: &str) -> Option<(Option<i32>, String)> {
    let script = Path::new("/usr/bin/script");
    if !script.exists() {
        return None;
    }
    let tagq = assert_cmd::cargo::cargo_bin("tagq");
    let command = format!("{} {args}", tagq.display());
    let output = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("TAGQ_STORE", setup.store())
        .env("USER", "tester")
        .env_remove("TAGQ_ACTOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().map(|mut stdin| stdin.write_all(input.as_bytes()));
            child.wait_with_output()
        })
        .expect("runs script");
    Some((output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned()))
}

#[test]
fn delete_asks_on_terminal() {
    let setup = Setup::with_users(1);
    setup.ok(&["tag", "create", "Kept"]);
    let Some((code, screen)) = run_on_terminal(&setup, "tag delete Kept", "n\n") else {
        eprintln!("skipped: /usr/bin/script (util-linux) not installed");
        return;
    };
    assert_eq!(code, Some(2), "{screen}");
    assert!(screen.contains("delete tag 'Kept' with 0 direct member(s)? [y/N]"), "{screen}");
    assert!(screen.contains("deletion of tag 'Kept' cancelled"), "{screen}");
    assert_eq!(setup.listed("Kept")["kind"], "custom");

    let (code, screen) = run_on_terminal(&setup, "tag delete Kept", "y\n").expect("script");
    assert_eq!(code, Some(0), "{screen}");
    let listing = setup.ok(&["tag", "list", "--output", "csv"]);
    assert!(!listing.contains("Kept"), "{listing}");
}

#[test]
fn priority_account_limit_counts_group_members() {
    let extra = "g1,group,team@contoso.test,Team,,,user1@contoso.test;user2@contoso.test;user3@contoso.test\n";
    let setup = Setup::new();
    let directory = setup.write("d.csv", directory_csv(1..4, extra).as_bytes());
    setup.ok(&["directory", "import", path_arg(&directory)]);
    setup.ok(&["config", "set", "limits.priority_account_users", "2"]);
    let message = setup.fails(&["tag", "add", "Priority account", "team@contoso.test"]);
    assert!(message.contains("would apply to 3 users, over the limit of 2"), "{message}");
    assert!(message.contains("limits.priority_account_users"), "{message}");
    assert!(setup.members("Priority account").is_empty());
    setup.ok(&["config", "set", "limits.priority_account_users", "3"]);
    setup.ok(&["tag", "add", "Priority account", "team@contoso.test"]);
    assert_eq!(setup.listed("Priority account")["effective_users"], 3);
}

#[test]
fn list_shows_counts_in_every_format() {
    let extra = "g1,group,team@contoso.test,Team,,,user2@contoso.test;user3@contoso.test\n";
    let setup = Setup::new();
    let directory = setup.write("d.csv", directory_csv(1..4, extra).as_bytes());
    setup.ok(&["directory", "import", path_arg(&directory)]);
    setup.ok(&["tag", "create", "Finance", "--description", "finance team"]);
    setup.ok(&["tag", "add", "Finance", "user1@contoso.test", "user2@contoso.test"]);
    setup.ok(&["tag", "add", "Finance", "team@contoso.test"]);
    let row = setup.listed("Finance");
    assert_eq!(row["kind"], "custom");
    assert_eq!(row["description"], "finance team");
    assert_eq!(row["direct_users"], 2);
    assert_eq!(row["direct_groups"], 1);
    assert_eq!(row["effective_users"], 3);
    assert!(row["created"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(row["modified"].as_str().is_some_and(|t| t.ends_with('Z')));
    let csv = setup.ok(&["tag", "list", "--output", "csv"]);
    let header = csv.lines().next().unwrap_or("");
    assert_eq!(
        header,
        "name,kind,description,direct_users,direct_groups,effective_users,orphaned,created,modified"
    );
    assert!(csv.contains("Finance,custom,finance team,2,1,3,0,"), "{csv}");
    let table = setup.ok(&["tag", "list"]);
    assert!(table.starts_with("NAME"), "{table}");
}

#[test]
fn export_reimports_same_members() {
    let extra = "g1,group,team@contoso.test,Team,,,user2@contoso.test\n";
    let setup = Setup::new();
    let directory = setup.write("d.csv", directory_csv(1..4, extra).as_bytes());
    setup.ok(&["directory", "import", path_arg(&directory)]);
    setup.ok(&["tag", "create", "Finance"]);
    setup.ok(&["tag", "add", "Finance", "USER1@contoso.test", "team@contoso.test"]);
    let exported = setup.ok(&["tag", "export", "Finance"]);
    assert_eq!(exported, "user1@contoso.test\nteam@contoso.test\n");
    let file = setup.write("export.txt", exported.as_bytes());
    setup.ok(&["tag", "create", "Copy"]);
    setup.ok(&["tag", "import", "Copy", path_arg(&file)]);
    assert_eq!(setup.members("Copy"), setup.members("Finance"));
}

// --- imports -------------------------------------------------------------------------------

#[test]
fn windows_line_endings_whitespace_and_bom_import() {
    let setup = Setup::with_users(3);
    let text = "\u{FEFF}user1@contoso.test \r\n\r\n\tuser2@contoso.test\r\n   \r\nUSER1@contoso.test\r\nuser3@contoso.test";
    let file = setup.write("members.txt", text.as_bytes());
    let output = setup.run_as(None, &["tag", "import", "Finance", path_arg(&file)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let messages = stderr(&output);
    assert!(messages.contains(":line 5: USER1@contoso.test repeats line 1"), "{messages}");
    let members = setup.members("Finance");
    assert_eq!(members, ["user1@contoso.test", "user2@contoso.test", "user3@contoso.test"]);
    let catalog = std::fs::read_to_string(setup.store().join("catalog.json")).expect("reads");
    for stray in ['\r', '\t', '\u{FEFF}'] {
        assert!(!catalog.contains(stray), "stored catalog contains {stray:?}");
        assert!(!members.concat().contains(stray), "export contains {stray:?}");
    }
}

#[test]
fn every_bad_import_line_reported() {
    let setup = Setup::with_users(2);
    let text = "user1@contoso.test\nnot-an-address\nuser9@contoso.test\n\"user2@contoso.test\"\n";
    let file = setup.write("members.txt", text.as_bytes());
    let check_lines = |messages: &str| {
        assert!(messages.contains(":line 2: not-an-address: invalid address syntax"), "{messages}");
        assert!(messages.contains(":line 3: user9@contoso.test: not found"), "{messages}");
        assert!(messages.contains(":line 4: \"user2@contoso.test\": quoted"), "{messages}");
        assert!(messages.contains("remove the quotes"), "{messages}");
    };

    let messages = setup.fails(&["tag", "import", "Finance", path_arg(&file)]);
    check_lines(&messages);
    assert!(messages.contains("nothing was imported"), "{messages}");
    assert!(setup.members("Finance").is_empty());

    let messages = setup.fails(&["tag", "import", "Finance", path_arg(&file), "--skip-invalid"]);
    check_lines(&messages);
    assert!(messages.contains("skipped 3 invalid line(s)"), "{messages}");
    assert_eq!(setup.members("Finance"), ["user1@contoso.test"]);
}

// --- limits and settings -------------------------------------------------------------------

#[test]
fn custom_tag_limit_holds_at_boundary() {
    let setup = Setup::with_users(1);
    setup.ok(&["config", "set", "limits.custom_tags", "3"]);
    setup.ok(&["tag", "create", "T2"]);
    setup.ok(&["tag", "create", "T3"]);
    let message = setup.fails(&["tag", "create", "T4"]);
    assert!(message.contains("custom tag limit reached (3)"), "{message}");
    assert!(message.contains("limits.custom_tags"), "{message}");
    let listing = setup.ok(&["tag", "list", "--output", "csv"]);
    assert_eq!(listing.lines().count(), 5, "header, system tag and three custom tags");
    setup.ok(&["config", "set", "limits.custom_tags", "4"]);
    setup.ok(&["tag", "create", "T4"]);
}

#[test]
fn users_per_custom_tag_limit_holds_at_boundary() {
    let setup = Setup::with_users(10_001);
    setup.ok(&["tag", "create", "T2"]);
    let ten_thousand = setup.write("10000.txt", address_list(1..10_001).as_bytes());
    let ten_thousand_one = setup.write("10001.txt", address_list(1..10_002).as_bytes());
    setup.ok(&["tag", "import", "Finance", path_arg(&ten_thousand)]);
    assert_eq!(setup.listed("Finance")["effective_users"], 10000);
    let message = setup.fails(&["tag", "import", "T2", path_arg(&ten_thousand_one)]);
    assert!(message.contains("limits.users_per_custom_tag"), "{message}");
    assert!(message.contains("nothing changed"), "{message}");
    assert_eq!(setup.listed("T2")["effective_users"], 0);
}

#[test]
fn config_get_set_list() {
    let setup = Setup::with_users(1);
    assert_eq!(setup.ok(&["config", "get", "limits.priority_account_users"]), "250\n");
    assert_eq!(setup.ok(&["config", "get", "limits.custom_tags"]), "500\n");
    assert_eq!(setup.ok(&["config", "get", "limits.users_per_custom_tag"]), "10000\n");
    setup.ok(&["config", "set", "limits.priority_account_users", "300"]);
    let listing = setup.ok(&["config", "list", "--output", "csv"]);
    assert!(listing.contains("limits.priority_account_users,300"), "{listing}");
    let message = setup.fails(&["config", "set", "limits.custom_tags", "0"]);
    assert!(message.contains("invalid value '0'"), "{message}");
    let message = setup.fails(&["config", "get", "limits.tags"]);
    assert!(message.contains("unknown setting 'limits.tags'"), "{message}");
}

// --- directory changes ---------------------------------------------------------------------

#[test]
fn deleted_member_orphaned_then_restored_by_cli() {
    let setup = Setup::with_users(2);
    setup.ok(&["tag", "create", "T"]);
    setup.ok(&["tag", "add", "T", "user1@contoso.test", "user2@contoso.test"]);
    let without_user2 = setup.write("without.csv", directory_csv(1..2, "").as_bytes());
    setup.ok(&["directory", "import", path_arg(&without_user2)]);
    let row = setup.listed("T");
    assert_eq!(row["effective_users"], 1);
    assert_eq!(row["orphaned"], 1);
    let members_csv = setup.ok(&["tag", "show", "T", "--output", "csv"]);
    assert!(members_csv.contains("u2,orphaned,,,not in the directory"), "{members_csv}");
    let full = setup.write("full.csv", directory_csv(1..3, "").as_bytes());
    setup.ok(&["directory", "import", path_arg(&full)]);
    let row = setup.listed("T");
    assert_eq!(row["effective_users"], 2);
    assert_eq!(row["orphaned"], 0);
}

// --- roles ---------------------------------------------------------------------------------

/// Creates a store with Finance, user1 and user2, and one actor per role group.
fn role_setup() -> Setup {
    let setup = Setup::with_users(2);
    for (actor, group) in [
        ("org@contoso.test", "Organization Management"),
        ("operator@contoso.test", "Security Operator"),
        ("global@contoso.test", "Global Reader"),
        ("reader@contoso.test", "Security Reader"),
    ] {
        setup.ok(&["role", "assign", actor, group]);
    }
    setup
}

#[test]
fn security_operator_changes_members_only() {
    let setup = role_setup();
    let operator = Some("operator@contoso.test");
    setup.ok_as(operator, &["tag", "add", "Finance", "user1@contoso.test"]);
    assert_eq!(setup.members("Finance"), ["user1@contoso.test"]);
    setup.ok_as(operator, &["tag", "remove", "Finance", "user1@contoso.test"]);
    assert!(setup.members("Finance").is_empty());
    setup.ok_as(operator, &["tag", "add", "Priority account", "user1@contoso.test"]);
    assert_eq!(setup.members("Priority account"), ["user1@contoso.test"]);

    let message = setup.fails_as(operator, &["tag", "create", "X"]);
    assert!(message.contains("may not create, edit or delete tags"), "{message}");
    assert!(message.contains("Organization Management, Security Administrator"), "{message}");
    let message = setup.fails_as(operator, &["tag", "edit", "Finance", "--description", "x"]);
    assert!(message.contains("may not create, edit or delete tags"), "{message}");
    assert_eq!(setup.listed("Finance")["description"], "finance team");
}

#[test]
fn global_reader_lists_but_cannot_import() {
    let setup = role_setup();
    let global = Some("global@contoso.test");
    let listing = setup.ok_as(global, &["tag", "list"]);
    assert!(listing.contains("Finance"), "{listing}");
    let file = setup.write("members.txt", b"user1@contoso.test\nuser2@contoso.test\n");
    let before = setup.listed("Finance");
    let message = setup.fails_as(global, &["tag", "import", "Finance", path_arg(&file)]);
    assert!(message.contains("may not add or remove tag members"), "{message}");
    assert!(
        message.contains("Organization Management, Security Administrator, Security Operator"),
        "{message}"
    );
    assert!(!message.contains("line 1"), "denied before any line is read: {message}");
    assert_eq!(setup.listed("Finance"), before);
}

#[test]
fn security_reader_queries_but_cannot_add() {
    let setup = role_setup();
    let reader = Some("reader@contoso.test");
    let records = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("email-events.csv");
    let output = setup.run_as(reader, &["filter", "--count", "tag:Finance", path_arg(&records)]);
    let code = output.status.code();
    assert!(code == Some(0) || code == Some(1), "query allowed: {}", stderr(&output));
    let count = String::from_utf8_lossy(&output.stdout);
    assert!(count.trim().parse::<u64>().is_ok(), "a count: {count}");
    let message = setup.fails_as(reader, &["tag", "add", "Finance", "user2@contoso.test"]);
    assert!(message.contains("permission denied"), "{message}");
    assert!(setup.members("Finance").is_empty());
}

#[test]
fn organization_management_creates_and_deletes() {
    let setup = role_setup();
    let org = Some("org@contoso.test");
    setup.ok_as(org, &["tag", "create", "X"]);
    setup.ok_as(org, &["tag", "delete", "X", "--yes"]);
    let actors: Vec<String> =
        setup.audit().iter().map(|e| e["actor"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(actors.last().map(String::as_str), Some("org@contoso.test"));
}

#[test]
fn unassigned_actor_cannot_read_or_query() {
    let setup = role_setup();
    let stranger = Some("stranger@contoso.test");
    let message = setup.fails_as(stranger, &["tag", "list"]);
    assert!(message.contains("stranger@contoso.test may not read tags"), "{message}");
    let records = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("email-events.csv");
    let message = setup.fails_as(stranger, &["filter", "tag:Finance", path_arg(&records)]);
    assert!(message.contains("may not read tags"), "{message}");
}

#[test]
fn only_organization_management_assigns_roles() {
    let setup = role_setup();
    let admin_group = "Security Administrator";
    setup.ok(&["role", "assign", "admin@contoso.test", admin_group]);
    let admin = Some("admin@contoso.test");
    let message = setup.fails_as(admin, &["role", "assign", "x@contoso.test", "Global Reader"]);
    assert!(message.contains("may not assign or remove role groups"), "{message}");
    setup.ok_as(Some("org@contoso.test"), &["role", "assign", "x@contoso.test", "global reader"]);
    let listing = setup.ok(&["role", "list", "--output", "csv"]);
    assert!(listing.contains(&format!("{OWNER},Organization Management")), "{listing}");
    assert!(listing.contains("x@contoso.test,Global Reader"), "{listing}");
    setup.ok(&["role", "remove", "x@contoso.test"]);
    let listing = setup.ok(&["role", "list", "--output", "csv"]);
    assert!(!listing.contains("x@contoso.test"), "{listing}");
    let message = setup.fails(&["role", "remove", OWNER, "Organization Management"]);
    assert!(message.contains("always holds Organization Management"), "{message}");
    let message = setup.fails(&["role", "assign", "y@contoso.test", "Admins"]);
    assert!(message.contains("unknown role group 'Admins'"), "{message}");
}

#[test]
fn operator_cannot_import_directory_or_change_settings() {
    let setup = role_setup();
    let operator = Some("operator@contoso.test");
    let directory = setup.write("d.csv", directory_csv(1..2, "").as_bytes());
    let message = setup.fails_as(operator, &["directory", "import", path_arg(&directory)]);
    assert!(message.contains("may not import the directory"), "{message}");
    let message = setup.fails_as(operator, &["config", "set", "limits.custom_tags", "9"]);
    assert!(message.contains("may not change settings"), "{message}");
    assert_eq!(setup.ok_as(operator, &["config", "get", "limits.custom_tags"]), "500\n");
    let audit = setup.ok_as(Some("reader@contoso.test"), &["audit", "--output", "csv"]);
    assert_eq!(audit.lines().count(), 7, "header and six changes, none by the operator");
    let message = setup.fails_as(Some("stranger@contoso.test"), &["audit"]);
    assert!(message.contains("may not read tags"), "{message}");
}

#[test]
fn as_flag_overrides_environment() {
    let setup = role_setup();
    let output = setup
        .cmd(Some("stranger@contoso.test"))
        .args(["--as", "global@contoso.test", "tag", "list"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

// --- audit log -----------------------------------------------------------------------------

#[test]
fn audit_records_actor_target_before_after() {
    let setup = role_setup();
    setup.ok_as(Some("operator@contoso.test"), &["tag", "add", "Finance", "user1@contoso.test"]);
    setup.ok(&["tag", "edit", "Finance", "--description", "money"]);
    let entries = setup.audit();
    let operations: Vec<&str> = entries.iter().filter_map(|e| e["operation"].as_str()).collect();
    assert_eq!(
        operations,
        [
            "directory_imported",
            "tag_created",
            "role_assigned",
            "role_assigned",
            "role_assigned",
            "role_assigned",
            "members_added",
            "tag_described"
        ]
    );
    let added = entries.get(6).expect("members_added entry");
    assert_eq!(added["actor"], "operator@contoso.test");
    assert_eq!(added["target"], "Finance");
    assert_eq!(added["before"]["direct_members"], 0);
    assert_eq!(added["after"]["added"][0], "user1@contoso.test");
    let described = entries.get(7).expect("tag_described entry");
    assert_eq!(described["actor"], OWNER);
    assert_eq!(described["before"]["description"], "finance team");
    assert_eq!(described["after"]["description"], "money");

    let finance = setup.ok(&["audit", "--tag", "FINANCE", "--output", "csv"]);
    assert_eq!(finance.lines().count(), 4, "header and three Finance changes: {finance}");
    let future = setup.ok(&["audit", "--since", "2999-01-01", "--output", "ndjson"]);
    assert!(future.is_empty(), "{future}");
    let past = setup.ok(&["audit", "--since", "2000-01-01T00:00:00Z", "--output", "json"]);
    let past: serde_json::Value = serde_json::from_str(&past).expect("json");
    assert_eq!(past.as_array().map(Vec::len), Some(8));
    let message = setup.fails(&["audit", "--since", "yesterday"]);
    assert!(message.contains("invalid --since value 'yesterday'"), "{message}");
}

#[test]
fn damaged_audit_line_reported_by_cli() {
    let setup = Setup::with_users(1);
    setup.ok(&["tag", "create", "Legal"]);
    let path = setup.store().join("audit.ndjson");
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(&path, text.replacen("Finance", "Finanze", 1)).expect("writes");
    let output = setup.run_as(None, &["audit", "--output", "csv"]);
    assert_eq!(output.status.code(), Some(2));
    let messages = stderr(&output);
    assert!(messages.contains("audit.ndjson: line 2: checksum mismatch"), "{messages}");
    let audit_csv = String::from_utf8_lossy(&output.stdout);
    assert_eq!(audit_csv.lines().count(), 3, "header and the two readable entries: {audit_csv}");
}

// --- store robustness ----------------------------------------------------------------------

/// Damages a store file and expects every command that reads it to fail, naming the file
/// and the remedy.
fn expect_damage_reported(file: &str, damage: impl Fn(Vec<u8>) -> Vec<u8>, reason: &str) {
    let setup = Setup::with_users(2);
    setup.ok(&["tag", "add", "Finance", "user1@contoso.test"]);
    let path = setup.store().join(file);
    let bytes = std::fs::read(&path).expect("reads");
    std::fs::write(&path, damage(bytes)).expect("writes");
    let message = setup.fails(&["tag", "list"]);
    assert!(message.contains(&format!("{file} is damaged")), "{file}: {message}");
    assert!(message.contains(reason), "{file}: {message}");
    assert!(message.contains("restore it from a backup"), "{file}: {message}");
    let message = setup.fails(&["tag", "add", "Finance", "user2@contoso.test"]);
    assert!(message.contains(&format!("{file} is damaged")), "{file}: {message}");
}

fn truncate_half(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.truncate(bytes.len() / 2);
    bytes
}

/// Changes one byte inside a value of the payload, so the JSON stays valid.
fn flip_payload_byte(bytes: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8(bytes).expect("utf-8");
    let values = ["contoso", "Finance", "local:"];
    let at = values.iter().find_map(|v| text.find(v)).expect("a value to change");
    let mut bytes = text.into_bytes();
    if let Some(byte) = bytes.get_mut(at + 1) {
        *byte ^= 0x01;
    }
    bytes
}

#[test]
fn truncated_store_files_rejected() {
    for file in ["catalog.json", "directory.json", "roles.json"] {
        expect_damage_reported(file, truncate_half, "perhaps truncated");
    }
}

#[test]
fn flipped_byte_in_store_files_rejected() {
    for file in ["catalog.json", "directory.json", "roles.json"] {
        expect_damage_reported(file, flip_payload_byte, "checksum mismatch");
    }
}

#[test]
fn empty_store_files_rejected() {
    for file in ["catalog.json", "directory.json", "roles.json"] {
        expect_damage_reported(file, |_| Vec::new(), "the file is empty");
    }
}

#[test]
fn newer_store_format_rejected() {
    let setup = Setup::with_users(1);
    let path = setup.store().join("roles.json");
    let text = std::fs::read_to_string(&path).expect("reads");
    std::fs::write(&path, text.replacen("\"version\":1", "\"version\":9", 1)).expect("writes");
    let message = setup.fails(&["tag", "list"]);
    assert!(message.contains("roles.json has format version 9"), "{message}");
    assert!(message.contains("upgrade tagq"), "{message}");
}

#[test]
fn concurrent_writers_lose_no_member() {
    const WRITERS: usize = 2;
    const ADDS: usize = 50;
    let setup = std::sync::Arc::new(Setup::with_users(WRITERS * ADDS));
    let threads: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let setup = std::sync::Arc::clone(&setup);
            std::thread::spawn(move || {
                for i in 0..ADDS {
                    let user = format!("user{}@contoso.test", writer * ADDS + i + 1);
                    setup.ok(&["tag", "add", "Finance", &user]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("writer thread");
    }
    let members = setup.members("Finance");
    eprintln!(
        "concurrent writers: {WRITERS} processes x {ADDS} adds = {} writes, {} members kept",
        WRITERS * ADDS,
        members.len()
    );
    assert_eq!(members.len(), WRITERS * ADDS);
    let added = setup.audit().iter().filter(|e| e["operation"] == "members_added").count();
    assert_eq!(added, WRITERS * ADDS, "one audit entry per write");
}

/// A small deterministic generator for kill delays (xorshift64).
struct Delays(u64);

impl Delays {
    fn next(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(self.0 % micros)
    }
}

/// Returns the number of direct members of a tag, read from `catalog.json` through the
/// library's envelope check, which rejects a damaged or partly written file.
fn stored_members(setup: &Setup, tag: &str) -> usize {
    let path = setup.store().join("catalog.json");
    let bytes = std::fs::read(&path).expect("reads catalog");
    let catalog: tagq::catalog::Catalog =
        tagq::store::envelope::decode("tagq-catalog", &bytes, &path).expect("catalog is whole");
    catalog.tag(tag).map_or(0, |t| t.members.len())
}

#[test]
fn killed_import_leaves_old_or_new_members() {
    const USERS: usize = 2_000;
    const KILLS: usize = 40;
    let setup = Setup::with_users(USERS);
    let file = setup.write("members.txt", address_list(1..USERS + 1).as_bytes());

    // One uninterrupted import of the same size sets the range of kill delays.
    let started = Instant::now();
    setup.ok(&["tag", "import", "Finance", path_arg(&file)]);
    let full_run = started.elapsed();
    setup.ok(&["tag", "delete", "Finance", "--yes"]);

    let mut delays = Delays(0x9E37_79B9_7F4A_7C15);
    let (mut old_state, mut new_state) = (0, 0);
    for attempt in 0..KILLS {
        let tag = format!("K{attempt}");
        setup.ok(&["tag", "create", &tag]);
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tagq"))
            .env("TAGQ_STORE", setup.store())
            .env("USER", "tester")
            .env_remove("TAGQ_ACTOR")
            .args(["tag", "import", &tag, path_arg(&file)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts import");
        std::thread::sleep(delays.next(full_run.mul_f64(1.6)));
        // `Child::kill` sends SIGKILL on Unix: no destructor or handler runs.
        let _ = child.kill();
        let _ = child.wait();

        let members = stored_members(&setup, &tag);
        let audit = setup.ok(&["audit", "--tag", &tag, "--output", "ndjson"]);
        let imported = audit.contains("\"operation\":\"members_imported\"");
        match members {
            0 => {
                assert!(!imported, "{tag}: audit lists an import that did not happen");
                old_state += 1;
            }
            USERS => {
                assert!(imported, "{tag}: import applied without its audit entry");
                new_state += 1;
            }
            other => panic!("{tag}: partial state with {other} members"),
        }
        // Deleting keeps the catalog small, so every attempt writes a file of the same size.
        setup.ok(&["tag", "delete", &tag, "--yes"]);
    }
    eprintln!(
        "killed imports: {KILLS} kills of a {USERS}-member import (one full run {full_run:?}); \
         {old_state} left the old state, {new_state} the new state, 0 partial"
    );
    setup.ok(&["tag", "create", "After"]);
    let store_files: Vec<String> = std::fs::read_dir(setup.store())
        .expect("lists store")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(store_files.iter().all(|name| !name.starts_with(".tmp-")), "{store_files:?}");
}
