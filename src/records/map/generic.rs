//! Table-driven mapping of flat records: emails (Advanced Hunting `EmailEvents`, Threat
//! Explorer exports, Graph `analyzedEmail`, any per-message table), alerts (`AlertInfo`, any
//! alert table) and campaigns.
//!
//! Model fields come from the column tables in [`super::schema`]; column names are compared
//! by their letters and digits only, so `Network message ID` and `NetworkMessageId` are the
//! same column.

use crate::records::Role;

use super::address::clean_address;
use super::builder::Builder;
use super::error::MapError;
use super::source::{Column, Source, columns};

/// Sender columns in order of preference: the header From address before the envelope
/// (MAIL FROM) address.
pub(crate) const SENDER_COLUMNS: &[Column] = columns![
    "SenderFromAddress",
    "SenderAddress",
    "P2Sender",
    "From",
    "FromAddress",
    "Sender",
    "SenderEmailAddress",
    "SenderMailFromAddress",
    "MailFromAddress",
    "P1Sender",
    "MailFrom",
];

/// Recipient columns; every one present contributes, and each cell may hold a list.
pub(crate) const RECIPIENT_COLUMNS: &[Column] = columns![
    "RecipientEmailAddress",
    "Recipient",
    "Recipients",
    "RecipientAddress",
    "To",
    "Cc",
    "Bcc"
];

/// Columns that name the user of an alert; every one present contributes.
pub(crate) const ALERT_USER_COLUMNS: &[Column] = columns![
    "AccountUpn",
    "UserPrincipalName",
    "Upn",
    "MailboxPrimaryAddress",
    "MailboxAddress",
    "User",
    "Users",
    "UserEmail",
    "ImpactedUser",
    "ImpactedUsers",
    "Account",
    "UserId",
];

/// Columns that hold the Entra object id of an alert's user.
pub(crate) const ALERT_OBJECT_ID_COLUMNS: &[Column] =
    columns!["AccountObjectId", "AadUserId", "AzureAdUserId", "UserObjectId", "AadId"];

/// Sender columns of campaign exports; every one present contributes.
pub(crate) const CAMPAIGN_SENDER_COLUMNS: &[Column] =
    columns!["Sender", "Senders", "SenderAddress", "SenderFromAddress", "P2Sender", "From"];

/// Id columns of records without a format-specific id.
pub(crate) const ID_COLUMNS: &[Column] = columns!["Id", "RecordId", "EventId", "ReportId"];

/// Columns that only alert exports have. Generic names such as `Id`, `Name` or `Date` are left
/// out, since directory and member lists have them too.
const ALERT_COLUMNS: &[Column] = columns![
    "Title",
    "AlertName",
    "AlertDisplayName",
    "Severity",
    "AlertSeverity",
    "Status",
    "AlertStatus",
    "Category",
    "AlertCategory",
    "AlertId",
    "ProviderAlertId",
    "SystemAlertId",
    "DetectionSource",
    "IncidentId",
    "AlertCreationTime",
];

/// Returns true when the columns name a field that only alerts have.
pub(crate) fn has_alert_columns(source: &Source) -> bool {
    ALERT_COLUMNS.iter().any(|c| source.get_column(c).is_some())
}

/// Returns true when the columns name a sender or a recipient.
pub(crate) fn has_mail_columns(source: &Source) -> bool {
    SENDER_COLUMNS.iter().chain(RECIPIENT_COLUMNS).any(|c| source.get_column(c).is_some())
}

/// Maps an email row. `per_recipient` rows (one message and one recipient, as in
/// `EmailEvents`) get the id `NetworkMessageId/recipient`; other rows the network message id.
pub(crate) fn map_email(
    builder: &mut Builder,
    source: &Source,
    per_recipient: bool,
) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    fill_graph_delivery(builder, source);
    add_email_users(builder, source);
    builder.id = email_id(builder, per_recipient).or_else(|| generic_id(source));
    builder.add_extra(source)
}

/// Fills the delivery fields from Graph `analyzedEmail` objects `latestDelivery` and
/// `originalDelivery` (`{"action": ..., "location": ...}`).
fn fill_graph_delivery(builder: &mut Builder, source: &Source) {
    let object = |name: &str| source.get(name).and_then(|e| e.cell.object());
    let text = |map: &serde_json::Map<String, serde_json::Value>, key: &str| {
        map.get(key).and_then(|v| v.as_str()).map(String::from)
    };
    if let Some(latest) = object("latestDelivery") {
        if builder.field("delivery_location").is_none()
            && let Some(location) = text(&latest, "location")
        {
            builder.set_text("delivery_location", &location);
        }
        if builder.field("latest_delivery_action").is_none()
            && let Some(action) = text(&latest, "action")
        {
            builder.set_text("latest_delivery_action", &action);
        }
    }
    if let Some(original) = object("originalDelivery") {
        if builder.field("original_delivery_location").is_none()
            && let Some(location) = text(&original, "location")
        {
            builder.set_text("original_delivery_location", &location);
        }
        if builder.field("delivery_action").is_none()
            && let Some(action) = text(&original, "action")
        {
            builder.set_text("delivery_action", &action);
        }
    }
}

/// Adds the sender (the first sender column with an address) and every recipient.
pub(crate) fn add_email_users(builder: &mut Builder, source: &Source) {
    let display = source.text_of(columns!["SenderDisplayName", "P2SenderDisplayName"]);
    let object_id = source.text_of(columns!["SenderObjectId"]);
    let sender = SENDER_COLUMNS
        .iter()
        .filter_map(|c| source.get_column(c).and_then(|e| e.cell.text()))
        .find(|text| clean_address(text).is_some())
        .or_else(|| graph_sender(source).map(Into::into));
    if sender.is_some() || object_id.is_some() {
        builder.add_user(Role::Sender, sender.as_deref(), object_id.as_deref(), display.as_deref());
    }
    for column in RECIPIENT_COLUMNS {
        if let Some(entry) = source.get_column(column) {
            builder.add_users_from_cell(Role::Recipient, entry.cell);
        }
    }
    builder.set_single_object_id(
        Role::Recipient,
        source.text_of(columns!["RecipientObjectId"]).as_deref(),
    );
}

/// Returns the sender of a Graph `analyzedEmail` from `senderDetail`.
fn graph_sender(source: &Source) -> Option<String> {
    let detail = source.get("senderDetail")?.cell.object()?;
    ["fromAddress", "mailFromAddress"]
        .iter()
        .filter_map(|k| detail.get(*k).and_then(|v| v.as_str()))
        .find(|a| clean_address(a).is_some())
        .map(String::from)
}

/// Returns `NetworkMessageId/recipient` for a per-recipient row with one recipient, else the
/// network message id.
pub(crate) fn email_id(builder: &Builder, per_recipient: bool) -> Option<String> {
    let message_id = builder.field_text("network_message_id")?;
    if per_recipient {
        let mut recipients = builder.users_in(Role::Recipient).filter_map(|u| u.address.as_deref());
        if let (Some(only), None) = (recipients.next(), recipients.next()) {
            return Some(format!("{message_id}/{}", only.to_ascii_lowercase()));
        }
    }
    Some(message_id.to_string())
}

/// Maps an alert row: `AlertInfo`, `AlertEvidence` account columns, or any alert table.
pub(crate) fn map_alert(builder: &mut Builder, source: &Source) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    add_alert_users(builder, source);
    builder.id = builder.field_text("alert_id").map(String::from).or_else(|| generic_id(source));
    builder.add_extra(source)
}

fn add_alert_users(builder: &mut Builder, source: &Source) {
    for column in ALERT_USER_COLUMNS {
        if let Some(entry) = source.get_column(column) {
            builder.add_users_from_cell(Role::User, entry.cell);
        }
    }
    builder.set_single_object_id(Role::User, source.text_of(ALERT_OBJECT_ID_COLUMNS).as_deref());
}

/// Maps a campaign row: recipients and senders from every recipient or sender column.
pub(crate) fn map_campaign(builder: &mut Builder, source: &Source) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    for column in RECIPIENT_COLUMNS {
        if let Some(entry) = source.get_column(column) {
            builder.add_users_from_cell(Role::Recipient, entry.cell);
        }
    }
    for column in CAMPAIGN_SENDER_COLUMNS {
        if let Some(entry) = source.get_column(column) {
            builder.add_users_from_cell(Role::Sender, entry.cell);
        }
    }
    builder.id = builder.field_text("campaign_id").map(String::from).or_else(|| generic_id(source));
    builder.add_extra(source)
}

/// Returns the value of the first id column.
pub(crate) fn generic_id(source: &Source) -> Option<String> {
    source.text_of(ID_COLUMNS).map(|s| s.into_owned())
}
