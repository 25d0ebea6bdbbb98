//! Advanced Hunting tables: the streaming envelope and `AlertEvidence` users.
//!
//! The streaming API wraps each row as
//! `{"category":"AdvancedHunting-<Table>","properties":{<columns>},"time":...,"tenantId":...}`.
//! `EmailEvents` rows are emails and `AlertInfo`/`AlertEvidence` rows alerts. Rows of other
//! tables (`EmailUrlInfo`, `EmailAttachmentInfo`, `EmailPostDeliveryEvents`, `UrlClickEvents`,
//! ...) describe parts of a message or a click and are reported as skipped. CSV and plain JSON
//! exports of those tables are recognised by their columns and skipped too, unless a record
//! kind is given.

use serde_json::{Map, Value as Json};

use crate::records::Role;

use super::builder::Builder;
use super::error::MapError;
use super::generic;
use super::source::Source;

/// The prefix of the envelope's `category` before the table name.
pub(crate) const CATEGORY_PREFIX: &str = "AdvancedHunting-";

/// An Advanced Hunting table that maps to records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// `EmailEvents`: one row per message and recipient.
    EmailEvents,
    /// `AlertInfo`: one row per alert.
    AlertInfo,
    /// `AlertEvidence`: one row per alert and entity.
    AlertEvidence,
}

/// Splits a streaming envelope into its table name and its `properties` object.
pub(crate) fn envelope(map: &Map<String, Json>) -> Option<(&str, &Map<String, Json>)> {
    let category = map.get("category")?.as_str()?;
    let table = category.strip_prefix(CATEGORY_PREFIX)?;
    let properties = map.get("properties")?.as_object()?;
    Some((table, properties))
}

/// Returns the table that maps to records, or `None` for the tables that are skipped.
pub(crate) fn table(name: &str) -> Option<Table> {
    match name.to_ascii_lowercase().as_str() {
        "emailevents" => Some(Table::EmailEvents),
        "alertinfo" => Some(Table::AlertInfo),
        "alertevidence" => Some(Table::AlertEvidence),
        _ => None,
    }
}

/// Recognises, by its columns, a row of an Advanced Hunting table whose rows describe a part
/// of a message or a click rather than a message or an alert, and returns the table name.
pub(crate) fn skipped_table(source: &Source) -> Option<&'static str> {
    let has_all = |names: &[&str]| names.iter().all(|n| source.has(n));
    if has_all(&["NetworkMessageId", "SHA256", "FileName", "FileType"]) && !source.has("Subject") {
        Some("EmailAttachmentInfo")
    } else if has_all(&["NetworkMessageId", "Url", "UrlLocation"]) {
        Some("EmailUrlInfo")
    } else if has_all(&["NetworkMessageId", "ActionTrigger", "ActionResult"]) {
        Some("EmailPostDeliveryEvents")
    } else if has_all(&["Url", "IsClickedThrough"]) {
        Some("UrlClickEvents")
    } else {
        None
    }
}

/// Returns true for `AlertEvidence` columns: an alert id with an entity type or evidence role.
pub(crate) fn is_alert_evidence(source: &Source) -> bool {
    source.has("AlertId") && (source.has("EntityType") || source.has("EvidenceRole"))
}

/// Maps an `AlertEvidence` row: one alert record per evidence row, with its user from
/// `AccountUpn`/`AccountObjectId`, or for `Mailbox` and `MailMessage` entities from the
/// `AdditionalFields` JSON.
pub(crate) fn map_alert_evidence(builder: &mut Builder, source: &Source) -> Result<(), MapError> {
    generic::map_alert(builder, source)?;
    let entity = source.text(&["EntityType"]).unwrap_or_default().to_ascii_lowercase();
    let Some(fields) = source.get("AdditionalFields").and_then(|e| e.cell.object()) else {
        return Ok(());
    };
    match entity.as_str() {
        "mailbox" => add_mailbox_users(builder, &fields),
        "mailmessage" => add_message_users(builder, &fields),
        _ => {}
    }
    Ok(())
}

fn text<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m str> {
    map.get(key).and_then(Json::as_str)
}

/// Adds a mailbox entity's user: the primary address and, when it differs, the UPN, both
/// with the Entra object id (`AadId`).
pub(crate) fn add_mailbox_users(builder: &mut Builder, entity: &Map<String, Json>) {
    let object_id = text(entity, "AadId");
    let display = text(entity, "DisplayName");
    builder.add_user(Role::User, text(entity, "MailboxPrimaryAddress"), object_id, display);
    builder.add_user(Role::User, text(entity, "Upn"), object_id, display);
}

/// Adds the recipient and the sender of a mail-message entity.
fn add_message_users(builder: &mut Builder, entity: &Map<String, Json>) {
    builder.add_user(Role::User, text(entity, "Recipient"), None, None);
    let sender = ["Sender", "P2Sender", "P1Sender"].iter().find_map(|k| text(entity, k));
    builder.add_user(Role::User, sender, None, None);
}
