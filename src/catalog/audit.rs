//! Audit entries: who changed what, when, with the state before and after.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::Timestamp;

/// The kind of change an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOperation {
    /// A custom tag was created.
    TagCreated,
    /// A tag's description changed.
    TagDescribed,
    /// A custom tag was deleted.
    TagDeleted,
    /// Members were added by address.
    MembersAdded,
    /// Members were removed.
    MembersRemoved,
    /// Members were imported from a file.
    MembersImported,
    /// A role group was assigned.
    RoleAssigned,
    /// Role groups were removed.
    RoleRemoved,
    /// The directory snapshot was replaced.
    DirectoryImported,
    /// A setting changed.
    SettingChanged,
}

impl AuditOperation {
    /// Returns the name used in the log and in listings, such as `tag_created`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOperation::TagCreated => "tag_created",
            AuditOperation::TagDescribed => "tag_described",
            AuditOperation::TagDeleted => "tag_deleted",
            AuditOperation::MembersAdded => "members_added",
            AuditOperation::MembersRemoved => "members_removed",
            AuditOperation::MembersImported => "members_imported",
            AuditOperation::RoleAssigned => "role_assigned",
            AuditOperation::RoleRemoved => "role_removed",
            AuditOperation::DirectoryImported => "directory_imported",
            AuditOperation::SettingChanged => "setting_changed",
        }
    }

    /// Returns true for operations whose target is a tag name.
    pub fn targets_tag(self) -> bool {
        matches!(
            self,
            AuditOperation::TagCreated
                | AuditOperation::TagDescribed
                | AuditOperation::TagDeleted
                | AuditOperation::MembersAdded
                | AuditOperation::MembersRemoved
                | AuditOperation::MembersImported
        )
    }
}

/// One change in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Sequence number, increasing by one per change of the store.
    pub seq: u64,
    /// When the change was made.
    #[serde(with = "super::tags::rfc3339")]
    pub time: Timestamp,
    /// The acting identity, such as `local:alice` or `bob@contoso.test`.
    pub actor: String,
    /// The kind of change.
    pub operation: AuditOperation,
    /// The changed object: a tag name, an actor, a setting key or the directory file.
    pub target: String,
    /// The relevant state before the change (`null` when there was none).
    pub before: Value,
    /// The relevant state after the change (`null` after a deletion).
    pub after: Value,
}
