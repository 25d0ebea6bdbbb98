//! Tags and the catalog that keeps them.

use serde::{Deserialize, Serialize};

use super::error::CatalogError;
use super::settings::Settings;
use crate::text::{fold_name, fold_name_compatible};
use crate::time::Timestamp;

/// Display name of the system tag.
pub const SYSTEM_TAG_NAME: &str = "Priority account";

const SYSTEM_TAG_DESCRIPTION: &str =
    "Users whose accounts attackers target most, such as executives and their assistants";

/// Whether a tag is built in or created by a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagKind {
    /// The built-in "Priority account" tag.
    System,
    /// A tag created by a user.
    Custom,
}

/// Whether a member is a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberKind {
    /// A mailbox user.
    User,
    /// A group, which covers its current transitive mailbox users.
    Group,
}

/// A direct member of a tag, kept by object id so that renames keep it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Entra object id.
    pub object_id: String,
    /// User or group.
    pub kind: MemberKind,
}

/// A tag with its direct members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The name as its creator spelled it.
    pub name: String,
    /// System or custom.
    pub kind: TagKind,
    /// Free text, empty when none.
    pub description: String,
    /// Creation time.
    #[serde(with = "rfc3339")]
    pub created: Timestamp,
    /// Time of the last change of description or members.
    #[serde(with = "rfc3339")]
    pub modified: Timestamp,
    /// Direct members in the order they were added.
    pub members: Vec<Member>,
}

impl Tag {
    /// Returns true when the object id is a direct member (ids compare ignoring ASCII case).
    pub fn has_member(&self, object_id: &str) -> bool {
        self.members.iter().any(|m| m.object_id.eq_ignore_ascii_case(object_id))
    }
}

/// The tags and the settings that limit them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub(super) tags: Vec<Tag>,
    #[serde(default)]
    pub(super) settings: Settings,
}

impl Catalog {
    /// Creates a catalog that holds only the system tag.
    pub fn new(now: Timestamp) -> Catalog {
        let system = Tag {
            name: SYSTEM_TAG_NAME.to_string(),
            kind: TagKind::System,
            description: SYSTEM_TAG_DESCRIPTION.to_string(),
            created: now,
            modified: now,
            members: Vec::new(),
        };
        Catalog { tags: vec![system], settings: Settings::default() }
    }

    /// Returns the tags: the system tag first, then custom tags in creation order.
    pub fn tags(&self) -> &[Tag] {
        &self.tags
    }

    /// Returns the settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes a setting (see [`Settings::set`]).
    pub(crate) fn set_setting(&mut self, key: &str, value: &str) -> Result<(), CatalogError> {
        self.settings.set(key, value)
    }

    /// Looks a tag up by name, compared after [`fold_name`].
    pub fn tag(&self, name: &str) -> Option<&Tag> {
        self.position(name).and_then(|i| self.tags.get(i))
    }

    pub(super) fn position(&self, name: &str) -> Option<usize> {
        let folded = fold_name(name);
        self.tags.iter().position(|t| fold_name(&t.name) == folded)
    }

    /// Returns the position of a tag, or a not-found error that suggests a close name.
    pub(super) fn require(&self, name: &str) -> Result<usize, CatalogError> {
        self.position(name).ok_or_else(|| self.not_found(name))
    }

    pub(super) fn not_found(&self, name: &str) -> CatalogError {
        let names = self.tags.iter().map(|t| t.name.as_str());
        let suggestion = crate::text::closest(name, names).map(str::to_string);
        CatalogError::TagNotFound { name: name.to_string(), suggestion }
    }

    /// Checks the invariants that loading a stored catalog relies on: exactly one system tag,
    /// named [`SYSTEM_TAG_NAME`], and no two tags with the same folded name.
    pub fn validate(&self) -> Result<(), String> {
        let systems: Vec<&Tag> = self.tags.iter().filter(|t| t.kind == TagKind::System).collect();
        match systems.as_slice() {
            [system] if system.name == SYSTEM_TAG_NAME => {}
            _ => return Err(format!("expected exactly one system tag named '{SYSTEM_TAG_NAME}'")),
        }
        let mut seen = std::collections::HashSet::new();
        for tag in &self.tags {
            if !seen.insert(fold_name(&tag.name)) {
                return Err(format!("tag name '{}' appears twice", tag.name));
            }
        }
        Ok(())
    }

    /// Creates a custom tag. The name is trimmed and must differ, after [`fold_name`], from
    /// every tag including the system tag; the creator's spelling is kept.
    pub(crate) fn create(
        &mut self,
        name: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<&Tag, CatalogError> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(CatalogError::EmptyName);
        }
        if trimmed.chars().any(|c| c.is_control() || crate::filter::lex::is_invisible(c)) {
            return Err(CatalogError::ControlCharacter { name: name.to_string() });
        }
        let compatible = fold_name_compatible(trimmed);
        if compatible == fold_name_compatible(SYSTEM_TAG_NAME) {
            return Err(CatalogError::ReservedName { name: name.to_string() });
        }
        let lookalike = self.tags.iter().find(|t| fold_name_compatible(&t.name) == compatible);
        if let Some(existing) = self.tag(trimmed).or(lookalike) {
            let existing = existing.name.clone();
            return Err(CatalogError::DuplicateName { name: name.to_string(), existing });
        }
        let custom = self.tags.iter().filter(|t| t.kind == TagKind::Custom).count();
        let limit = self.settings.limits.custom_tags;
        if custom >= limit {
            let message = format!("custom tag limit reached ({limit}); raise limits.custom_tags");
            return Err(CatalogError::LimitReached {
                setting: "limits.custom_tags",
                limit,
                message,
            });
        }
        Ok(self.tags.push_mut(Tag {
            name: trimmed.to_string(),
            kind: TagKind::Custom,
            description: description.trim().to_string(),
            created: now,
            modified: now,
            members: Vec::new(),
        }))
    }

    /// Changes a custom tag's description; an empty text clears it.
    pub(crate) fn set_description(
        &mut self,
        name: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<&Tag, CatalogError> {
        let index = self.require(name)?;
        // `require` returned a position in `self.tags`, so the index is in range.
        let tag = &mut self.tags[index];
        if tag.kind == TagKind::System {
            return Err(CatalogError::SystemDescriptionFixed);
        }
        let description = description.trim();
        if tag.description != description {
            tag.description = description.to_string();
            tag.modified = now;
        }
        Ok(tag)
    }

    /// Rejects every rename: tag names are fixed once created. The tag must exist, so a typo
    /// reports the unknown name first.
    pub fn rename(&self, name: &str, _new_name: &str) -> Result<(), CatalogError> {
        self.require(name)?;
        Err(CatalogError::RenameNotSupported)
    }

    /// Deletes a custom tag and returns it.
    pub(crate) fn delete(&mut self, name: &str) -> Result<Tag, CatalogError> {
        let index = self.require(name)?;
        if self.tags.get(index).is_some_and(|t| t.kind == TagKind::System) {
            return Err(CatalogError::SystemTagDelete);
        }
        Ok(self.tags.remove(index))
    }
}

/// Serialises [`Timestamp`] as RFC 3339 text in UTC.
pub(super) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::Timestamp;

    pub fn serialize<S: Serializer>(value: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        let parsed: jiff::Timestamp = text.parse().map_err(serde::de::Error::custom)?;
        Ok(Timestamp::from_jiff(parsed))
    }
}
