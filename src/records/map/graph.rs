//! Microsoft Graph security alerts (`alerts_v2`) and alerts of the older incidents API.
//!
//! Users come from `evidence[]` by `@odata.type`:
//! - `userEvidence`: `userAccount.userPrincipalName`, `userAccount.azureAdUserId`;
//! - `mailboxEvidence`: `primaryAddress`, and `userAccount` when its UPN differs;
//! - `analyzedMessageEvidence`: `recipientEmailAddress`, `p2Sender.emailAddress`,
//!   `p1Sender.emailAddress`.
//!
//! Alerts of the incidents API carry `entities[]` instead: `User` (`userPrincipalName`,
//! `aadUserId`), `MailBox` (`mailboxAddress`) and `MailMessage` (`recipient`, `sender`).

use serde_json::{Map, Value as Json};

use crate::records::Role;

use super::builder::Builder;
use super::error::MapError;
use super::generic;
use super::source::Source;

/// Returns true for a Graph alert or an incidents API alert.
pub(crate) fn is_graph_alert(map: &Map<String, Json>) -> bool {
    let odata_alert = map
        .get("@odata.type")
        .and_then(Json::as_str)
        .is_some_and(|t| t.to_ascii_lowercase().ends_with("security.alert"));
    let has_evidence = map.get("evidence").is_some_and(Json::is_array);
    let has_entities =
        map.get("entities").is_some_and(Json::is_array) && map.contains_key("alertId");
    odata_alert || has_evidence || has_entities
}

/// Maps a Graph or incidents API alert.
pub(crate) fn map_graph_alert(
    builder: &mut Builder,
    map: &Map<String, Json>,
    source: &Source,
) -> Result<(), MapError> {
    builder.fill_fields(&[source])?;
    let items = |key: &str| map.get(key).and_then(Json::as_array).map(Vec::as_slice).unwrap_or(&[]);
    for evidence in items("evidence").iter().filter_map(Json::as_object) {
        add_evidence_users(builder, evidence);
    }
    for entity in items("entities").iter().filter_map(Json::as_object) {
        add_entity_users(builder, entity);
    }
    // Graph's `id` names the alert; `providerAlertId` is the detecting product's own id, which
    // the `alert_id` field prefers for other shapes. The older incidents API has only `alertId`.
    let graph_id = text(map, "id").map(String::from);
    builder.id = graph_id
        .or_else(|| builder.field_text("alert_id").map(String::from))
        .or_else(|| generic::generic_id(source));
    builder.add_extra(source)
}

fn text<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m str> {
    map.get(key).and_then(Json::as_str)
}

fn object<'m>(map: &'m Map<String, Json>, key: &str) -> Option<&'m Map<String, Json>> {
    map.get(key).and_then(Json::as_object)
}

fn add_evidence_users(builder: &mut Builder, evidence: &Map<String, Json>) {
    let kind = text(evidence, "@odata.type").unwrap_or_default().to_ascii_lowercase();
    let any = kind.is_empty();
    if any || kind.ends_with("userevidence") || kind.ends_with("mailboxevidence") {
        let display = text(evidence, "displayName");
        let account = object(evidence, "userAccount");
        let object_id = account.and_then(|a| text(a, "azureAdUserId"));
        builder.add_user(Role::User, text(evidence, "primaryAddress"), object_id, display);
        if let Some(account) = account {
            let account_display = text(account, "displayName").or(display);
            builder.add_user(
                Role::User,
                text(account, "userPrincipalName"),
                object_id,
                account_display,
            );
        }
    }
    if any || kind.ends_with("analyzedmessageevidence") {
        builder.add_user(Role::User, text(evidence, "recipientEmailAddress"), None, None);
        for key in ["p2Sender", "p1Sender"] {
            if let Some(sender) = object(evidence, key) {
                builder.add_user(
                    Role::User,
                    text(sender, "emailAddress"),
                    None,
                    text(sender, "displayName"),
                );
            }
        }
    }
}

fn add_entity_users(builder: &mut Builder, entity: &Map<String, Json>) {
    let kind = text(entity, "entityType").unwrap_or_default().to_ascii_lowercase();
    match kind.as_str() {
        "user" => builder.add_user(
            Role::User,
            text(entity, "userPrincipalName"),
            text(entity, "aadUserId"),
            None,
        ),
        "mailbox" => builder.add_user(
            Role::User,
            text(entity, "mailboxAddress"),
            None,
            text(entity, "mailboxDisplayName"),
        ),
        "mailmessage" => {
            builder.add_user(Role::User, text(entity, "recipient"), None, None);
            builder.add_user(Role::User, text(entity, "sender"), None, None);
        }
        _ => {}
    }
}
