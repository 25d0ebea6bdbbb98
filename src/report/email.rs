//! The email entity view: every field of the records of one message, and for each sender and
//! recipient the display name and tags.
//!
//! The view is a three-column table (`record`, `field`, `value`) with one row per field.
//! A message can have several records, one per recipient in per-recipient exports such as
//! Advanced Hunting `EmailEvents`, and the view shows each of them in the order they were
//! added. Per record, the rows are the kind and time, the model fields by name, the export's
//! other columns under their own names, and then for each user their address, display name
//! and tags (`recipient`, `recipient display name`, `recipient tags`).

use super::explorer::value_cell;
use super::{Cell, Column, ReportBuilder, ReportOptions, Table, Window};
use crate::directory::{Directory, ObjectRef, Purpose, Resolution};
use crate::records::write::UserTags;
use crate::records::{Record, RecordKind, UserRef};

/// Collects the records of one message into the entity view.
pub struct EmailReport<'a> {
    message_id: String,
    directory: Option<&'a Directory>,
    window: Window,
    rows: Vec<Vec<Cell>>,
}

impl<'a> EmailReport<'a> {
    /// Creates an empty view of the message with network message id `message_id`. Display
    /// names come from `directory` and, for users it does not know, from the record.
    pub fn new(
        options: &ReportOptions,
        message_id: &str,
        directory: Option<&'a Directory>,
    ) -> EmailReport<'a> {
        EmailReport {
            message_id: message_id.trim().to_string(),
            directory,
            window: options.window.clone(),
            rows: Vec::new(),
        }
    }
}

impl ReportBuilder for EmailReport<'_> {
    fn add(&mut self, record: &Record, users: &[UserTags]) {
        if !is_message(record, &self.message_id) {
            return;
        }
        self.rows.extend(rows(record, users, self.directory, &self.window));
    }

    fn finish(self: Box<Self>) -> Table {
        Table {
            title: format!("Email {}", self.message_id),
            time_zone: self.window.zone_name.clone(),
            columns: vec![Column::text("record"), Column::text("field"), Column::text("value")],
            rows: self.rows,
        }
    }
}

/// Returns whether a record is an email with the network message id, ignoring ASCII case
/// because the ids are GUIDs that exports write in either case.
pub fn is_message(record: &Record, message_id: &str) -> bool {
    let id = record.field("network_message_id").and_then(|value| value.as_text());
    record.kind == RecordKind::Email
        && id.is_some_and(|id| id.trim().eq_ignore_ascii_case(message_id))
}

/// Returns the query that selects the records of a message: the `network_message_id`
/// field equal to the id, quoted so that any character of the id is taken literally.
pub fn message_query(message_id: &str) -> String {
    let mut quoted = String::with_capacity(message_id.len() + 2);
    for c in message_id.trim().chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    format!("network_message_id:\"{quoted}\"")
}

/// Returns the rows of one record: kind, time, model fields, other columns, then users.
pub fn rows(
    record: &Record,
    users: &[UserTags],
    directory: Option<&Directory>,
    window: &Window,
) -> Vec<Vec<Cell>> {
    let id = Cell::text(record.id.clone());
    let mut rows = Vec::new();
    let mut push =
        |field: String, value: Cell| rows.push(vec![id.clone(), Cell::Text(field), value]);
    push("kind".to_string(), Cell::text(record.kind.as_str()));
    push("time".to_string(), record.time.map_or(Cell::Empty, |t| Cell::Time(window.time(t))));
    for (name, value) in &record.fields {
        push(name.to_string(), value_cell(Some(value), window));
    }
    for (name, value) in &record.extra {
        push(name.clone(), value_cell(Some(value), window));
    }
    for user in &record.users {
        let role = user.role().as_str();
        let address = user.address.clone().or_else(|| user.object_id.clone()).unwrap_or_default();
        let name = display_name(user, directory);
        let tags = tags_of(users, user, &address);
        push(role.to_string(), Cell::Text(address));
        push(format!("{role} display name"), name.map_or(Cell::Empty, Cell::Text));
        push(format!("{role} tags"), Cell::List(tags));
    }
    rows
}

/// Returns the user's display name in the directory, else the one the record carries.
fn display_name(user: &UserRef, directory: Option<&Directory>) -> Option<String> {
    let known = directory.and_then(|directory| {
        let object = match user.object_id.as_deref().and_then(|id| directory.by_object_id(id)) {
            Some(object) => object,
            None => match directory.resolve_address(user.address.as_deref()?, Purpose::MailData) {
                Resolution::Found { object, .. } => object,
                _ => return None,
            },
        };
        let name = match object {
            ObjectRef::User(index) => directory.user(index).map(|u| u.display_name.clone()),
            ObjectRef::Group(index) => directory.group(index).map(|g| g.display_name.clone()),
        };
        name.filter(|name| !name.trim().is_empty())
    });
    known.or_else(|| user.display_name.clone().filter(|name| !name.trim().is_empty()))
}

/// Returns the tags of the user with this role and address.
fn tags_of(users: &[UserTags], user: &UserRef, address: &str) -> Vec<String> {
    users
        .iter()
        .find(|tagged| tagged.role == user.role() && tagged.address.eq_ignore_ascii_case(address))
        .map(|tagged| tagged.tags.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::directory::{User, UserType};
    use crate::records::{Origin, Raw, Role, SourceFormat, Value};
    use crate::time::Timestamp;

    fn email(id: &str, recipient: &str) -> Record {
        let mut fields = BTreeMap::new();
        fields.insert("subject", Value::Str("Invoice".to_string()));
        fields.insert("network_message_id", Value::Str("ABC-1".to_string()));
        Record {
            kind: RecordKind::Email,
            id: id.to_string(),
            time: Timestamp::parse("2024-06-03T08:15:30Z"),
            fields,
            extra: vec![("EmailClusterId".to_string(), Value::Int(401))],
            users: vec![
                UserRef {
                    display_name: Some("Fabrikam Billing".to_string()),
                    ..UserRef::address(Role::Sender, "billing@fabrikam.test")
                },
                UserRef::address(Role::Recipient, recipient),
            ],
            raw: Raw::Json("{}".to_string()),
            format: SourceFormat::Json,
            origin: Origin::default(),
        }
    }

    fn directory() -> Directory {
        let user = User {
            object_id: "u-1".to_string(),
            upn: "ada@contoso.test".to_string(),
            primary_address: Some("ada@contoso.test".to_string()),
            aliases: Vec::new(),
            display_name: "Ada Lovelace".to_string(),
            department: String::new(),
            user_type: UserType::Member,
            has_mailbox: true,
            enabled: true,
            deleted: false,
        };
        Directory::new(vec![user], Vec::new())
    }

    fn cells(rows: &[Vec<Cell>], field: &str) -> Vec<Cell> {
        let field = Cell::text(field);
        rows.iter().filter(|r| r.get(1) == Some(&field)).filter_map(|r| r.get(2).cloned()).collect()
    }

    #[test]
    fn every_field_and_user_listed() {
        let directory = directory();
        let users = [UserTags {
            role: Role::Recipient,
            address: "ADA@contoso.test".to_string(),
            tags: vec!["VIP".to_string()],
        }];
        let rows =
            rows(&email("r-1", "ada@contoso.test"), &users, Some(&directory), &Window::utc());
        assert_eq!(cells(&rows, "kind"), vec![Cell::text("email")]);
        assert_eq!(cells(&rows, "time"), vec![Cell::Time("2024-06-03T08:15:30+00:00".into())]);
        assert_eq!(cells(&rows, "subject"), vec![Cell::text("Invoice")]);
        assert_eq!(cells(&rows, "EmailClusterId"), vec![Cell::text("401")]);
        assert_eq!(cells(&rows, "sender"), vec![Cell::text("billing@fabrikam.test")]);
        assert_eq!(cells(&rows, "sender display name"), vec![Cell::text("Fabrikam Billing")]);
        assert_eq!(cells(&rows, "sender tags"), vec![Cell::List(Vec::new())]);
        assert_eq!(cells(&rows, "recipient display name"), vec![Cell::text("Ada Lovelace")]);
        assert_eq!(cells(&rows, "recipient tags"), vec![Cell::List(vec!["VIP".to_string()])]);
        assert!(rows.iter().all(|r| r.first() == Some(&Cell::text("r-1"))));
    }

    #[test]
    fn several_recipient_records_shown() {
        let options = ReportOptions::default();
        let mut view: Box<dyn ReportBuilder> = Box::new(EmailReport::new(&options, "abc-1", None));
        view.add(&email("r-1", "ada@contoso.test"), &[]);
        view.add(&email("r-2", "alan@contoso.test"), &[]);
        let mut other = email("r-3", "grace@contoso.test");
        other.fields.insert("network_message_id", Value::Str("other".to_string()));
        view.add(&other, &[]);
        let table = view.finish();
        assert_eq!(
            cells(&table.rows, "recipient"),
            vec![Cell::text("ada@contoso.test"), Cell::text("alan@contoso.test")]
        );
        assert_eq!(cells(&table.rows, "recipient display name"), vec![Cell::Empty, Cell::Empty]);
    }

    #[test]
    fn message_query_escapes_quotes() {
        assert_eq!(message_query(" a-1 "), "network_message_id:\"a-1\"");
        assert_eq!(message_query("a\"b\\c"), "network_message_id:\"a\\\"b\\\\c\"");
    }
}
