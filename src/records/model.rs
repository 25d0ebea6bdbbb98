//! The record model: alerts, emails and campaigns with typed fields and user references.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::time::Timestamp;

/// The three kinds of record that tagq filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    /// A security alert; its users are the accounts and mailboxes it names.
    Alert,
    /// One email message (for per-recipient exports, one message and recipient).
    Email,
    /// A campaign: a cluster of related messages.
    Campaign,
}

impl RecordKind {
    /// All kinds, in display order.
    pub const ALL: [RecordKind; 3] = [RecordKind::Alert, RecordKind::Email, RecordKind::Campaign];

    /// Returns the lower-case name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Alert => "alert",
            RecordKind::Email => "email",
            RecordKind::Campaign => "campaign",
        }
    }

    /// Returns the roles whose users a record of this kind references.
    pub fn roles(self) -> &'static [Role] {
        match self {
            RecordKind::Alert => &[Role::User],
            RecordKind::Email => &[Role::Sender, Role::Recipient],
            RecordKind::Campaign => &[Role::Recipient, Role::Sender],
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "alert" | "alerts" => Ok(RecordKind::Alert),
            "email" | "emails" => Ok(RecordKind::Email),
            "campaign" | "campaigns" => Ok(RecordKind::Campaign),
            other => {
                Err(format!("unknown record kind '{other}'; expected alert, email or campaign"))
            }
        }
    }
}

/// The part a user plays in a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// An account or mailbox named by an alert.
    User,
    /// The sender of an email or campaign message.
    Sender,
    /// A recipient of an email or campaign message.
    Recipient,
}

impl Role {
    /// Returns the lower-case role name used in queries (`recipient.tag:VIP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Sender => "sender",
            Role::Recipient => "recipient",
        }
    }

    /// Parses a role name case-insensitively.
    pub fn parse(name: &str) -> Option<Role> {
        match name.to_ascii_lowercase().as_str() {
            "user" => Some(Role::User),
            "sender" => Some(Role::Sender),
            "recipient" => Some(Role::Recipient),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field value of a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An explicit null or empty JSON value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Float(f64),
    /// Text, keyword or enumeration value, as exported.
    Str(String),
    /// An instant.
    Time(Timestamp),
    /// Several values, for multi-valued cells such as `ThreatTypes` "Phish,Spam".
    List(Vec<Value>),
}

impl Value {
    /// Returns the scalar elements: the list's items, or the value itself.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::List(items) => items,
            other => std::slice::from_ref(other),
        }
    }

    /// Returns the value as text for display and keyword matching, or `None` for null.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(n) => Some(n.to_string()),
            Value::Float(x) => Some(x.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Time(t) => Some(t.to_string()),
            Value::List(items) => {
                let parts: Vec<String> = items.iter().filter_map(Value::as_text).collect();
                Some(parts.join(", "))
            }
        }
    }
}

/// A reference from a record to a user, as the export wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UserRef {
    /// Role of the user in the record.
    pub role: Option<Role>,
    /// Mail address or UPN, trimmed, as written (case kept for display).
    pub address: Option<String>,
    /// Entra object id, when the export carries one.
    pub object_id: Option<String>,
    /// Display name, when the export carries one.
    pub display_name: Option<String>,
}

impl UserRef {
    /// Creates a reference by address in the given role.
    pub fn address(role: Role, address: impl Into<String>) -> UserRef {
        UserRef { role: Some(role), address: Some(address.into()), ..UserRef::default() }
    }

    /// Returns the role, which every reference stored in a record has.
    pub fn role(&self) -> Role {
        self.role.unwrap_or(Role::User)
    }
}

/// The input format of a record, which is also its default output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// Delimited text with a header row.
    Csv,
    /// One JSON document holding an array (or a wrapper object) of records.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// The record as it appeared in the input, kept so that it can be written back out.
#[derive(Clone, Debug, PartialEq)]
pub enum Raw {
    /// A CSV row: the file's header and this row's cells.
    Csv {
        /// Column names of the file, shared by all its rows.
        header: Arc<Vec<String>>,
        /// Cells of this row, one per column.
        cells: Vec<String>,
    },
    /// A JSON object, as compact JSON text.
    Json(String),
}

/// The input position a record came from, for messages about it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Origin {
    /// File name, or `-` for standard input.
    pub file: Arc<str>,
    /// 1-based physical line where the record starts.
    pub line: u64,
}

/// One alert, email or campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The record's kind.
    pub kind: RecordKind,
    /// The identifier of the row in its source (alert id, network message id with recipient).
    pub id: String,
    /// The record's main time (alert creation, message time, campaign first seen).
    pub time: Option<Timestamp>,
    /// Model fields by their schema name (`severity`, `delivery_action`, ...).
    pub fields: BTreeMap<&'static str, Value>,
    /// Source columns that no model field took, under the export's own names.
    pub extra: Vec<(String, Value)>,
    /// Users the record references, each with its role.
    pub users: Vec<UserRef>,
    /// The original record.
    pub raw: Raw,
    /// The input format.
    pub format: SourceFormat,
    /// Position where the record starts in its input.
    pub origin: Origin,
}

impl Record {
    /// Looks a model field up by schema name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// Looks a source column up by name, ignoring ASCII case.
    pub fn extra_field(&self, name: &str) -> Option<&Value> {
        self.extra.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Iterates over the user references of one role.
    pub fn users_in(&self, role: Role) -> impl Iterator<Item = &UserRef> {
        self.users.iter().filter(move |u| u.role() == role)
    }
}
