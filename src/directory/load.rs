//! Loaders for directory exports; the format is detected from the content.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::error::{DirectoryError, Location};
use super::model::{Directory, Group, Purpose, Resolution, User, UserType};

/// The export format a directory was loaded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryFormat {
    /// The Log Analytics CSV export of Entra ID users (`UserPrincipalName_s`, `ObjectId_g`, ...).
    EntraCsv,
    /// Microsoft Graph user objects: a JSON array or a `{"value": [...]}` page.
    GraphJson,
    /// tagq's own CSV of users and groups (see the [module docs](super)).
    SimpleCsv,
}

/// Something worth telling about a load that did not stop it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadNotice {
    /// The row or entry concerned, if the notice is about one.
    pub location: Option<Location>,
    /// The notice, lower-case.
    pub message: String,
}

/// The outcome of a successful load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadReport {
    /// The file.
    pub path: PathBuf,
    /// The detected format.
    pub format: DirectoryFormat,
    /// Number of users loaded.
    pub users: usize,
    /// Number of groups loaded.
    pub groups: usize,
    /// Warnings and information, in file order; group cycles come last.
    pub notices: Vec<LoadNotice>,
}

const MAILBOX_NOTICE: &str = "the export carries no mailbox information; every member user \
    counts as a mailbox user and every guest as a user without a mailbox";

/// Reads a directory export from a file.
pub fn load(path: &Path) -> Result<(Directory, LoadReport), DirectoryError> {
    let bytes = std::fs::read(path)
        .map_err(|source| DirectoryError::Io { path: path.to_path_buf(), source })?;
    parse(&bytes, path)
}

/// Parses a directory export held in memory; `path` names it in messages.
pub fn parse(bytes: &[u8], path: &Path) -> Result<(Directory, LoadReport), DirectoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let offset = e.valid_up_to();
        let line = bytes.get(..offset).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count()) + 1;
        DirectoryError::Encoding { path: path.to_path_buf(), line, offset }
    })?;
    let mut loader =
        Loader { path: path.to_path_buf(), notices: Vec::new(), mailbox_notice: false };
    let trimmed = text.trim_start();
    let (format, users, groups) = if trimmed.starts_with(['[', '{']) {
        let (users, groups) = loader.graph_json(text)?;
        (DirectoryFormat::GraphJson, users, groups)
    } else {
        let header = text.lines().next().unwrap_or("");
        if header.split(',').any(|c| c.trim().trim_matches('"') == "ObjectId_g") {
            (DirectoryFormat::EntraCsv, loader.entra_csv(text)?, Vec::new())
        } else if is_simple_header(header) {
            let (users, groups) = loader.simple_csv(text)?;
            (DirectoryFormat::SimpleCsv, users, groups)
        } else {
            return Err(DirectoryError::UnknownFormat { path: path.to_path_buf() });
        }
    };
    loader.check_unique_ids(&users, &groups)?;
    let directory = Directory::new(users, groups);
    for cycle in directory.group_cycles() {
        let message = format!("group cycle {}; each member is counted once", cycle.join(" -> "));
        loader.notices.push(LoadNotice { location: None, message });
    }
    let report = LoadReport {
        path: loader.path,
        format,
        users: directory.users().len(),
        groups: directory.groups().len(),
        notices: loader.notices,
    };
    Ok((directory, report))
}

const SIMPLE_HEADER: [&str; 7] =
    ["id", "kind", "address", "display_name", "aliases", "mailbox", "members"];

fn is_simple_header(header: &str) -> bool {
    let columns: Vec<String> =
        header.split(',').map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).collect();
    columns == SIMPLE_HEADER
}

/// The SMTP addresses found in a proxy-address list.
#[derive(Debug, Default)]
struct Proxies {
    primary: Option<String>,
    aliases: Vec<String>,
    unprefixed: Vec<String>,
}

/// Splits proxy addresses: `SMTP:` is the primary, `smtp:` an alias, other prefixes (`SIP:`,
/// `X500:`, ...) are not mail addresses. An entry without a prefix is taken as an alias and
/// listed in `unprefixed` so the caller can warn. Two `SMTP:` entries are an error.
fn split_proxies(entries: &[String]) -> Result<Proxies, String> {
    let mut proxies = Proxies::default();
    for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        match entry.split_once(':') {
            Some(("SMTP", address)) => {
                if let Some(first) = &proxies.primary {
                    return Err(format!(
                        "two primary SMTP proxy addresses, {first} and {address}; keep one \
                         upper-case SMTP: entry and mark the others smtp:"
                    ));
                }
                proxies.primary = Some(address.trim().to_string());
            }
            Some((prefix, address)) if prefix.eq_ignore_ascii_case("smtp") => {
                proxies.aliases.push(address.trim().to_string());
            }
            Some((prefix, _)) if !prefix.contains('@') => {}
            _ => {
                proxies.aliases.push(entry.to_string());
                proxies.unprefixed.push(entry.to_string());
            }
        }
    }
    Ok(proxies)
}

/// Parses a JSON array written into a CSV cell (`["a","b"]`); an empty cell is an empty list.
fn json_list_cell(cell: &str) -> Result<Vec<String>, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(Vec::new());
    }
    let value: Json =
        serde_json::from_str(cell).map_err(|e| format!("invalid JSON list {cell:?}: {e}"))?;
    string_list(&value).ok_or_else(|| format!("expected a JSON list of strings, found {cell:?}"))
}

fn string_list(value: &Json) -> Option<Vec<String>> {
    match value {
        Json::Null => Some(Vec::new()),
        Json::Array(items) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

fn parse_user_type(text: &str) -> UserType {
    if text.trim().eq_ignore_ascii_case("guest") { UserType::Guest } else { UserType::Member }
}

/// Builds a user from the address fields the exports share.
struct UserFields {
    object_id: String,
    upn: String,
    mail: String,
    proxies: Vec<String>,
    display_name: String,
    department: String,
    user_type: UserType,
    enabled: bool,
    deleted: bool,
    has_mailbox: Option<bool>,
}

struct Loader {
    path: PathBuf,
    notices: Vec<LoadNotice>,
    mailbox_notice: bool,
}

impl Loader {
    fn invalid(&self, location: Location, message: impl Into<String>) -> DirectoryError {
        DirectoryError::Invalid { path: self.path.clone(), location, message: message.into() }
    }

    fn warn(&mut self, location: Location, message: String) {
        self.notices.push(LoadNotice { location: Some(location), message });
    }

    fn build_user(
        &mut self,
        fields: UserFields,
        location: Location,
    ) -> Result<User, DirectoryError> {
        if fields.object_id.trim().is_empty() {
            return Err(self.invalid(location, "missing object id"));
        }
        let label =
            if fields.upn.is_empty() { fields.object_id.clone() } else { fields.upn.clone() };
        let proxies = split_proxies(&fields.proxies)
            .map_err(|m| self.invalid(location.clone(), format!("user {label}: {m}")))?;
        for entry in &proxies.unprefixed {
            let message =
                format!("user {label}: proxy address {entry:?} has no prefix; used as an alias");
            self.warn(location.clone(), message);
        }
        let mail = fields.mail.trim().to_string();
        let mut aliases = proxies.aliases;
        let primary = match proxies.primary {
            Some(primary) => {
                if !mail.is_empty() && !mail.eq_ignore_ascii_case(&primary) {
                    aliases.push(mail);
                }
                Some(primary)
            }
            None if mail.is_empty() => None,
            None => Some(mail),
        };
        let has_mailbox = match fields.has_mailbox {
            Some(value) => value,
            None => {
                self.note_mailbox_default();
                fields.user_type == UserType::Member
            }
        };
        Ok(User {
            object_id: fields.object_id.trim().to_string(),
            upn: fields.upn.trim().to_string(),
            primary_address: primary,
            aliases,
            display_name: fields.display_name.trim().to_string(),
            department: fields.department.trim().to_string(),
            user_type: fields.user_type,
            has_mailbox,
            enabled: fields.enabled,
            deleted: fields.deleted,
        })
    }

    fn note_mailbox_default(&mut self) {
        if !self.mailbox_notice {
            self.mailbox_notice = true;
            self.notices.push(LoadNotice { location: None, message: MAILBOX_NOTICE.to_string() });
        }
    }

    fn csv_error(&self, error: csv::Error) -> DirectoryError {
        DirectoryError::Csv { path: self.path.clone(), message: error.to_string() }
    }

    /// Reads the Log Analytics export of Entra ID users. Column names may carry a ` [UTC]`
    /// suffix, which is ignored; columns this loader does not use are skipped.
    fn entra_csv(&mut self, text: &str) -> Result<Vec<User>, DirectoryError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| self.csv_error(e))?
            .iter()
            .map(|h| h.trim().trim_end_matches(" [UTC]").to_string())
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let columns = EntraColumns {
            upn: column("UserPrincipalName_s"),
            id: column("ObjectId_g"),
            name: column("DisplayName_s"),
            mail: column("Mail_s"),
            proxies: column("ProxyAddresses_s"),
            user_type: column("UserType_s"),
            enabled: column("AccountEnabled_b"),
            department: column("Department_s"),
        };
        let mut users = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|e| self.csv_error(e))?;
            let line = row.position().map_or(0, |p| p.line());
            let cell =
                |index: Option<usize>| index.and_then(|i| row.get(i)).unwrap_or("").to_string();
            let location = Location::Line(line);
            let proxies = json_list_cell(&cell(columns.proxies))
                .map_err(|m| self.invalid(location.clone(), format!("ProxyAddresses_s: {m}")))?;
            let enabled = parse_bool(&cell(columns.enabled)).ok_or_else(|| {
                self.invalid(location.clone(), "AccountEnabled_b is neither TRUE nor FALSE")
            })?;
            let fields = UserFields {
                object_id: cell(columns.id),
                upn: cell(columns.upn),
                mail: cell(columns.mail),
                proxies,
                display_name: cell(columns.name),
                department: cell(columns.department),
                user_type: parse_user_type(&cell(columns.user_type)),
                enabled: enabled.unwrap_or(true),
                deleted: false,
                has_mailbox: None,
            };
            users.push(self.build_user(fields, location)?);
        }
        Ok(users)
    }

    /// Reads Graph user objects, and group objects (`"@odata.type": "#microsoft.graph.group"`)
    /// whose `members` list contains member ids or objects with an `id`. A user's `hasMailbox` boolean, or the presence of a
    /// `mailboxSettings` object, sets whether it has a mailbox; without either the default rule
    /// applies.
    fn graph_json(&mut self, text: &str) -> Result<(Vec<User>, Vec<Group>), DirectoryError> {
        let value: Json = serde_json::from_str(text).map_err(|e| DirectoryError::Json {
            path: self.path.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let items = match &value {
            Json::Array(items) => items,
            Json::Object(map) => match map.get("value") {
                Some(Json::Array(items)) => items,
                _ => return Err(DirectoryError::UnknownFormat { path: self.path.clone() }),
            },
            _ => return Err(DirectoryError::UnknownFormat { path: self.path.clone() }),
        };
        let mut users = Vec::with_capacity(items.len());
        let mut groups = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let location = Location::Entry(i + 1);
            if is_graph_group(item) {
                groups.push(self.graph_group(item, location)?);
            } else {
                users.push(self.graph_user(item, location)?);
            }
        }
        Ok((users, groups))
    }

    fn graph_group(&self, item: &Json, location: Location) -> Result<Group, DirectoryError> {
        let text =
            |key: &str| item.get(key).and_then(Json::as_str).unwrap_or("").trim().to_string();
        let object_id = text("id");
        if object_id.is_empty() {
            return Err(self.invalid(location, "missing object id"));
        }
        let mut members = Vec::new();
        for member in item.get("members").and_then(Json::as_array).map_or(&[][..], Vec::as_slice) {
            let id = member.as_str().or_else(|| member.get("id").and_then(Json::as_str));
            let Some(id) = id else {
                let message = format!(
                    "group {object_id}: a member is neither an id nor an object with an id"
                );
                return Err(self.invalid(location, message));
            };
            members.push(id.trim().to_string());
        }
        let mail = text("mail");
        let address = if mail.is_empty() { None } else { Some(mail) };
        Ok(Group { object_id, address, display_name: text("displayName"), members })
    }

    fn graph_user(&mut self, item: &Json, location: Location) -> Result<User, DirectoryError> {
        if !item.is_object() {
            return Err(self.invalid(location, "expected a user object"));
        }
        let text = |key: &str| item.get(key).and_then(Json::as_str).unwrap_or("").to_string();
        let proxies =
            string_list(item.get("proxyAddresses").unwrap_or(&Json::Null)).ok_or_else(|| {
                self.invalid(location.clone(), "proxyAddresses is not a list of strings")
            })?;
        let has_mailbox = match (item.get("hasMailbox"), item.get("mailboxSettings")) {
            (Some(Json::Bool(value)), _) => Some(*value),
            (_, Some(Json::Object(_))) => Some(true),
            _ => None,
        };
        let deleted = item.get("deletedDateTime").is_some_and(|v| !v.is_null());
        let fields = UserFields {
            object_id: text("id"),
            upn: text("userPrincipalName"),
            mail: text("mail"),
            proxies,
            display_name: text("displayName"),
            department: text("department"),
            user_type: parse_user_type(&text("userType")),
            enabled: item.get("accountEnabled").and_then(Json::as_bool).unwrap_or(true),
            deleted,
            has_mailbox,
        };
        self.build_user(fields, location)
    }

    /// Reads tagq's own CSV; see the module docs for the columns.
    fn simple_csv(&mut self, text: &str) -> Result<(Vec<User>, Vec<Group>), DirectoryError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut group_members: Vec<(Vec<String>, u64)> = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|e| self.csv_error(e))?;
            let line = row.position().map_or(0, |p| p.line());
            let cell = |i: usize| row.get(i).unwrap_or("").trim().to_string();
            let location = Location::Line(line);
            let (id, kind, address, name) = (cell(0), cell(1), cell(2), cell(3));
            if id.is_empty() {
                return Err(self.invalid(location, "missing id"));
            }
            let aliases = split_list(&cell(4));
            match kind.to_ascii_lowercase().as_str() {
                "user" => {
                    if address.is_empty() {
                        return Err(self.invalid(location, format!("user {id} has no address")));
                    }
                    if !cell(6).is_empty() {
                        let message = format!("user {id}: members apply to groups only; ignored");
                        self.warn(location.clone(), message);
                    }
                    let has_mailbox = parse_bool(&cell(5))
                        .ok_or_else(|| {
                            self.invalid(location.clone(), "mailbox is neither true nor false")
                        })?
                        .unwrap_or(true);
                    let is_guest =
                        std::iter::once(&address).chain(&aliases).any(|a| is_guest_upn(a));
                    users.push(User {
                        object_id: id,
                        upn: address.clone(),
                        primary_address: Some(address),
                        aliases,
                        display_name: name,
                        department: String::new(),
                        user_type: if is_guest { UserType::Guest } else { UserType::Member },
                        has_mailbox,
                        enabled: true,
                        deleted: false,
                    });
                }
                "group" => {
                    if !aliases.is_empty() || !cell(5).is_empty() {
                        let message =
                            format!("group {id}: aliases and mailbox apply to users only; ignored");
                        self.warn(location.clone(), message);
                    }
                    let address = if address.is_empty() { None } else { Some(address) };
                    groups.push(Group {
                        object_id: id,
                        address,
                        display_name: name,
                        members: Vec::new(),
                    });
                    group_members.push((split_list(&cell(6)), line));
                }
                other => {
                    let message = format!("kind {other:?} is neither user nor group");
                    return Err(self.invalid(location, message));
                }
            }
        }
        self.resolve_members(users, groups, group_members)
    }

    /// Replaces member addresses by object ids, once every object of the file is known, so
    /// groups may name members defined further down. An unknown address is an error. An
    /// unknown id is kept with a warning, because a snapshot may lack deleted members.
    fn resolve_members(
        &mut self,
        users: Vec<User>,
        groups: Vec<Group>,
        group_members: Vec<(Vec<String>, u64)>,
    ) -> Result<(Vec<User>, Vec<Group>), DirectoryError> {
        let index = Directory::new(users, groups);
        let mut resolved = Vec::with_capacity(group_members.len());
        for (tokens, line) in group_members {
            let mut ids = Vec::with_capacity(tokens.len());
            for token in tokens {
                if !token.contains('@') && index.by_object_id(&token).is_none() {
                    let message = format!(
                        "group member id {token} is not in this file; kept, but it counts as no one"
                    );
                    self.warn(Location::Line(line), message);
                    ids.push(token);
                    continue;
                }
                let object = match index.by_object_id(&token) {
                    Some(object) => object,
                    None => match index.resolve_address(&token, Purpose::Typed) {
                        Resolution::Found { object, plus_address: false } => object,
                        Resolution::Ambiguous(_) => {
                            let message = format!(
                                "group member {token:?} matches several objects; use its id"
                            );
                            return Err(self.invalid(Location::Line(line), message));
                        }
                        _ => {
                            let message = format!(
                                "group member {token:?} is not a user or group of this file"
                            );
                            return Err(self.invalid(Location::Line(line), message));
                        }
                    },
                };
                ids.push(index.object_id(object).unwrap_or_default().to_string());
            }
            resolved.push(ids);
        }
        let users = index.users().to_vec();
        let mut groups = index.groups().to_vec();
        for (group, ids) in groups.iter_mut().zip(resolved) {
            group.members = ids;
        }
        Ok((users, groups))
    }

    fn check_unique_ids(&self, users: &[User], groups: &[Group]) -> Result<(), DirectoryError> {
        let mut seen = HashSet::new();
        let ids = users.iter().map(|u| &u.object_id).chain(groups.iter().map(|g| &g.object_id));
        for id in ids {
            if !seen.insert(id.to_ascii_lowercase()) {
                return Err(DirectoryError::DuplicateId {
                    path: self.path.clone(),
                    id: id.clone(),
                });
            }
        }
        Ok(())
    }
}

struct EntraColumns {
    upn: Option<usize>,
    id: Option<usize>,
    name: Option<usize>,
    mail: Option<usize>,
    proxies: Option<usize>,
    user_type: Option<usize>,
    enabled: Option<usize>,
    department: Option<usize>,
}

fn is_graph_group(item: &Json) -> bool {
    let odata_type = item.get("@odata.type").and_then(Json::as_str).unwrap_or("");
    odata_type.eq_ignore_ascii_case("#microsoft.graph.group")
}

/// Parses `true`/`false` in any case; `Some(None)` for an empty cell, `None` for other text.
fn parse_bool(text: &str) -> Option<Option<bool>> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Some(None),
        "true" => Some(Some(true)),
        "false" => Some(Some(false)),
        _ => None,
    }
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Returns true for the UPN form that Entra ID gives invited guests (`name_domain#EXT#@tenant`).
fn is_guest_upn(address: &str) -> bool {
    address.to_ascii_uppercase().contains("#EXT#")
}
