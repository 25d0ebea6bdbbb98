//! Office 365 Management Activity API records.
//!
//! - `TIMailData` (RecordType 28, workload `ThreatIntelligence`): one email; its id is the
//!   network message id.
//! - Security & Compliance alerts (RecordType 40): one alert. Users come from `AlertEntityId`
//!   and `ObjectId` when `EntityType` is `User`, and from the keys `eid` (when `etype` is
//!   `User`), `f3u`, `suid`, `trc` and `tsd` of the `Data` JSON string.
//! - AIR investigations (RecordType 64): one alert, with the fields of the alert in `Data`
//!   where the record has none. Users come from the `mailbox` entities (primary address and,
//!   when it differs, UPN) and the recipients of the `mailMessage` entities, in `Data.Entities`
//!   and in `Actions[].Entities`.
//!
//! `UserId` and `UserKey` hold service names (`ThreatIntel`, `SecurityComplianceAlerts`,
//! `AirInvestigation`) and never give users.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use crate::records::Role;

use super::builder::{Builder, cell_items};
use super::error::MapError;
use super::generic;
use super::hunting::add_mailbox_users;
use super::source::{Cell, Source};

/// A Management Activity API record type that maps to records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `TIMailData`, RecordType 28.
    TiMail,
    /// Security & Compliance alert, RecordType 40.
    ComplianceAlert,
    /// AIR investigation, RecordType 64.
    AirInvestigation,
}

/// Detects a Management Activity API record by `RecordType`, `Workload` and `Operation`.
pub(crate) fn detect(map: &Map<String, Json>) -> Option<Kind> {
    let record_type = map.get("RecordType").and_then(|v| match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let text = |key: &str| map.get(key).and_then(Json::as_str).unwrap_or_default();
    let workload = text("Workload");
    let operation = text("Operation");
    if record_type == Some(28) || operation.eq_ignore_ascii_case("TIMailData") {
        Some(Kind::TiMail)
    } else if record_type == Some(40)
        || (workload.eq_ignore_ascii_case("SecurityComplianceCenter")
            && map.contains_key("AlertId"))
    {
        Some(Kind::ComplianceAlert)
    } else if record_type == Some(64) || workload.eq_ignore_ascii_case("AirInvestigation") {
        Some(Kind::AirInvestigation)
    } else {
        None
    }
}

/// Maps a `TIMailData` record. Fields the record lacks are derived where it carries the facts
/// elsewhere: threat types and detection methods from `ThreatsAndDetectionTech`
/// (`"Phish: [Spoof DMARC]"`), threat types else from a `Verdict` that names a threat, and
/// threat names from the `MalwareFamily` of `AttachmentData`.
pub(crate) fn map_ti_mail(builder: &mut Builder, source: &Source) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    let threats =
        source.get("ThreatsAndDetectionTech").map(|e| cell_items(e.cell)).unwrap_or_default();
    let (types, methods) = split_threats_and_methods(&threats);
    if builder.field("threat_types").is_none() {
        if !types.is_empty() {
            builder.set_text("threat_types", &types.join(","));
        } else if let Some(verdict) = builder.field_text("verdict").map(String::from)
            && names_threat(&verdict)
        {
            builder.set_text("threat_types", &verdict);
        }
    }
    if builder.field("detection_methods").is_none() && !methods.is_empty() {
        builder.set_text("detection_methods", &methods.join(","));
    }
    if builder.field("threat_names").is_none() {
        let families = attachment_malware_families(source);
        if !families.is_empty() {
            builder.set_text("threat_names", &families.join(","));
        }
    }
    generic::add_email_users(builder, source);
    builder.id = builder
        .field_text("network_message_id")
        .map(String::from)
        .or_else(|| generic::generic_id(source));
    builder.add_extra(source)
}

/// Splits `ThreatsAndDetectionTech` items such as `Phish: [Spoof DMARC, URL detonation]` into
/// threat types and detection methods.
fn split_threats_and_methods(items: &[String]) -> (Vec<String>, Vec<String>) {
    let mut types = Vec::new();
    let mut methods = Vec::new();
    for item in items {
        let (threat, rest) = item.split_once(':').unwrap_or((item.as_str(), ""));
        let threat = threat.trim();
        if !threat.is_empty() && !types.iter().any(|t: &String| t.eq_ignore_ascii_case(threat)) {
            types.push(threat.to_string());
        }
        let inner = rest.trim().trim_start_matches('[').trim_end_matches(']');
        methods.extend(inner.split(',').map(str::trim).filter(|m| !m.is_empty()).map(String::from));
    }
    (types, methods)
}

/// Returns the malware families named in `AttachmentData[].MalwareFamily`, each once.
fn attachment_malware_families(source: &Source) -> Vec<String> {
    let mut families: Vec<String> = Vec::new();
    let Some(Cell::Json(Json::Array(attachments))) = source.get("AttachmentData").map(|e| e.cell)
    else {
        return families;
    };
    for family in attachments.iter().filter_map(|a| a.get("MalwareFamily")?.as_str()) {
        let family = family.trim();
        if !family.is_empty() && !families.iter().any(|f| f == family) {
            families.push(family.to_string());
        }
    }
    families
}

fn names_threat(verdict: &str) -> bool {
    let lower = verdict.to_ascii_lowercase();
    !matches!(lower.as_str(), "" | "none" | "clean" | "notspam" | "unknown" | "good")
}

/// Returns the `Data` object of a record: a JSON object or a string holding one.
fn data_object<'a>(source: &Source<'a>) -> Option<Cow<'a, Map<String, Json>>> {
    source.get("Data").and_then(|e| e.cell.object())
}

/// Maps a Security & Compliance alert.
pub(crate) fn map_compliance_alert(builder: &mut Builder, source: &Source) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    let data = data_object(source);
    if let Some(data) = data.as_deref() {
        let short = |key: &str| data.get(key).and_then(Json::as_str).map(String::from);
        for (field, key) in [("title", "an"), ("description", "ad"), ("severity", "sev")] {
            if builder.field(field).is_none()
                && let Some(value) = short(key)
            {
                builder.set_text(field, &value);
            }
        }
    }
    let entity_is_user =
        source.text(&["EntityType"]).is_some_and(|t| t.eq_ignore_ascii_case("User"));
    if entity_is_user {
        for column in ["AlertEntityId", "ObjectId"] {
            if let Some(entry) = source.get(column) {
                builder.add_users_from_cell(Role::User, entry.cell);
            }
        }
    }
    if let Some(data) = data.as_deref() {
        add_compliance_data_users(builder, data);
    }
    builder.id =
        builder.field_text("alert_id").map(String::from).or_else(|| generic::generic_id(source));
    builder.add_extra(source)
}

fn add_compliance_data_users(builder: &mut Builder, data: &Map<String, Json>) {
    let etype_is_user =
        data.get("etype").and_then(Json::as_str).is_some_and(|t| t.eq_ignore_ascii_case("User"));
    let keys: &[&str] = if etype_is_user {
        &["eid", "f3u", "suid", "trc", "tsd"]
    } else {
        &["f3u", "suid", "trc", "tsd"]
    };
    for key in keys {
        if let Some(value) = data.get(*key) {
            builder.add_users_from_cell(Role::User, Cell::Json(value));
        }
    }
}

/// Maps an AIR investigation record.
pub(crate) fn map_air_investigation(
    builder: &mut Builder,
    source: &Source,
) -> Result<(), MapError> {
    let data = data_object(source);
    let empty = Map::new();
    let data_source = Source::from_object(data.as_deref().unwrap_or(&empty), "Data.");
    builder.fill_fields(&[source, &data_source])?;
    if let Some(data) = data.as_deref() {
        add_entity_users(builder, data.get("Entities"));
    }
    if let Some(Json::Array(actions)) = source.get("Actions").and_then(|e| match e.cell {
        Cell::Json(json) => Some(json),
        Cell::Text(_) => None,
    }) {
        for action in actions {
            add_entity_users(builder, action.get("Entities"));
        }
    }
    builder.id =
        generic::generic_id(source).or_else(|| builder.field_text("alert_id").map(String::from));
    builder.add_extra(source)
}

/// Adds the users of AIR entities: mailbox addresses and UPNs, and message recipients.
fn add_entity_users(builder: &mut Builder, entities: Option<&Json>) {
    let Some(Json::Array(entities)) = entities else { return };
    for entity in entities.iter().filter_map(Json::as_object) {
        let kind = entity.get("Type").and_then(Json::as_str).unwrap_or_default();
        if kind.eq_ignore_ascii_case("mailbox") {
            add_mailbox_users(builder, entity);
        } else if kind.eq_ignore_ascii_case("mailMessage")
            && let Some(recipient) = entity.get("Recipient")
        {
            builder.add_users_from_cell(Role::User, Cell::Json(recipient));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threats_and_detection_tech_split() {
        let items =
            vec!["Phish: [Spoof DMARC, URL detonation]".to_string(), "Spam: [Bulk]".to_string()];
        let (types, methods) = split_threats_and_methods(&items);
        assert_eq!(types, vec!["Phish", "Spam"]);
        assert_eq!(methods, vec!["Spoof DMARC", "URL detonation", "Bulk"]);
    }
}
