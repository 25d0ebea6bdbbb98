//! Role groups, the roles behind them, and the role assignments of a store.
//!
//! | role group              | read | add/remove members | create, edit, delete tags | roles |
//! |-------------------------|------|--------------------|---------------------------|-------|
//! | Organization Management | yes  | yes                | yes                       | yes   |
//! | Security Administrator  | yes  | yes                | yes                       | no    |
//! | Security Operator       | yes  | yes                | no                        | no    |
//! | Global Reader           | yes  | no                 | no                        | no    |
//! | Security Reader         | yes  | no                 | no                        | no    |
//!
//! Two roles sit behind the groups. Tag Reader reads tags, settings, role assignments and the
//! audit log. Tag Manager also creates, edits and deletes tags, changes members and settings
//! and imports the directory. Security Operator has Tag Reader and, of Tag Manager, only
//! the member changes. Assigning role groups belongs to Organization Management alone.

use serde::{Deserialize, Serialize};

use super::error::CatalogError;
use crate::time::Timestamp;

/// A role group, as Microsoft Defender for Office 365 names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RoleGroup {
    /// Full control, including role assignments.
    OrganizationManagement,
    /// Manages tags, members, settings and the directory.
    SecurityAdministrator,
    /// Adds and removes members.
    SecurityOperator,
    /// Reads everything.
    GlobalReader,
    /// Reads everything.
    SecurityReader,
}

/// A role behind the role groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Creates, edits and deletes tags, changes members and settings, imports the directory.
    TagManager,
    /// Reads tags, settings, role assignments and the audit log.
    TagReader,
}

/// One kind of operation that a role group may allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// List and show tags and use them in queries; read settings, roles and the audit log.
    ReadTags,
    /// Add, remove and import members of any tag, the system tag included.
    ChangeMembers,
    /// Create tags, change descriptions and delete tags.
    ManageTags,
    /// Change the limit settings.
    ChangeSettings,
    /// Replace the directory snapshot.
    ImportDirectory,
    /// Assign and remove role groups.
    ManageRoles,
}

impl Permission {
    /// Returns a lower-case phrase for messages, such as "create, edit or delete tags".
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadTags => "read tags",
            Permission::ChangeMembers => "add or remove tag members",
            Permission::ManageTags => "create, edit or delete tags",
            Permission::ChangeSettings => "change settings",
            Permission::ImportDirectory => "import the directory",
            Permission::ManageRoles => "assign or remove role groups",
        }
    }
}

impl Role {
    /// Returns the operations the role allows.
    pub fn permissions(self) -> &'static [Permission] {
        match self {
            Role::TagReader => &[Permission::ReadTags],
            Role::TagManager => &[
                Permission::ChangeMembers,
                Permission::ManageTags,
                Permission::ChangeSettings,
                Permission::ImportDirectory,
            ],
        }
    }

    /// Returns the role's display name.
    pub fn name(self) -> &'static str {
        match self {
            Role::TagManager => "Tag Manager",
            Role::TagReader => "Tag Reader",
        }
    }
}

impl RoleGroup {
    /// Every role group, from most to least privileged.
    pub const ALL: [RoleGroup; 5] = [
        RoleGroup::OrganizationManagement,
        RoleGroup::SecurityAdministrator,
        RoleGroup::SecurityOperator,
        RoleGroup::GlobalReader,
        RoleGroup::SecurityReader,
    ];

    /// Returns the display name, such as "Security Operator".
    pub fn name(self) -> &'static str {
        match self {
            RoleGroup::OrganizationManagement => "Organization Management",
            RoleGroup::SecurityAdministrator => "Security Administrator",
            RoleGroup::SecurityOperator => "Security Operator",
            RoleGroup::GlobalReader => "Global Reader",
            RoleGroup::SecurityReader => "Security Reader",
        }
    }

    /// Parses a display name, ignoring case, blanks, `-` and `_` ("security-operator" works).
    pub fn parse(text: &str) -> Result<RoleGroup, CatalogError> {
        let key = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
                .map(|c| c.to_ascii_lowercase())
                .collect()
        };
        let wanted = key(text);
        RoleGroup::ALL
            .into_iter()
            .find(|group| key(group.name()) == wanted)
            .ok_or_else(|| CatalogError::UnknownRoleGroup { name: text.to_string() })
    }

    /// Returns the roles behind the group. Security Operator also has the member changes
    /// of Tag Manager (see [`RoleGroup::allows`]).
    pub fn roles(self) -> &'static [Role] {
        match self {
            RoleGroup::OrganizationManagement | RoleGroup::SecurityAdministrator => {
                &[Role::TagManager, Role::TagReader]
            }
            RoleGroup::SecurityOperator | RoleGroup::GlobalReader | RoleGroup::SecurityReader => {
                &[Role::TagReader]
            }
        }
    }

    /// Returns true when the group allows the operation.
    pub fn allows(self, permission: Permission) -> bool {
        match (self, permission) {
            (RoleGroup::OrganizationManagement, Permission::ManageRoles) => true,
            (_, Permission::ManageRoles) => false,
            (RoleGroup::SecurityOperator, Permission::ChangeMembers) => true,
            _ => self.roles().iter().any(|role| role.permissions().contains(&permission)),
        }
    }

    /// Returns the groups that allow the operation, most privileged first.
    pub fn allowing(permission: Permission) -> Vec<RoleGroup> {
        RoleGroup::ALL.into_iter().filter(|group| group.allows(permission)).collect()
    }
}

impl std::fmt::Display for RoleGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Normalises an actor identity: trimmed, ASCII lower-case. An identity is a mail address
/// (`alice@contoso.test`) or a local account (`local:alice`).
pub fn normalize_actor(text: &str) -> Result<String, CatalogError> {
    let actor = text.trim().to_ascii_lowercase();
    let valid = !actor.is_empty()
        && !actor.chars().any(|c| c.is_whitespace() || c.is_control())
        && (actor.contains('@') || actor.starts_with("local:"));
    if valid { Ok(actor) } else { Err(CatalogError::InvalidActor { actor: text.to_string() }) }
}

/// One role group held by one actor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The actor, normalised by [`normalize_actor`].
    pub actor: String,
    /// The role group.
    pub group: RoleGroup,
    /// When the group was assigned.
    #[serde(with = "super::tags::rfc3339")]
    pub assigned: Timestamp,
    /// The actor that made the assignment.
    pub assigned_by: String,
}

/// The store's owner and the role groups assigned to actors.
///
/// The owner is the local account that created the store. It holds Organization Management
/// without an assignment, so a store can never lock everyone out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTable {
    owner: String,
    assignments: Vec<Assignment>,
}

impl RoleTable {
    /// Creates a table whose only privileged actor is the owner.
    pub fn new(owner: &str) -> Result<RoleTable, CatalogError> {
        Ok(RoleTable { owner: normalize_actor(owner)?, assignments: Vec::new() })
    }

    /// Returns the owner, such as `local:alice`.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Returns the assignments in the order they were made.
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// Returns the role groups an actor holds, most privileged first.
    pub fn groups_of(&self, actor: &str) -> Vec<RoleGroup> {
        let actor = actor.trim().to_ascii_lowercase();
        let mut groups: Vec<RoleGroup> =
            self.assignments.iter().filter(|a| a.actor == actor).map(|a| a.group).collect();
        if actor == self.owner {
            groups.push(RoleGroup::OrganizationManagement);
        }
        groups.sort();
        groups.dedup();
        groups
    }

    /// Checks that an actor may perform an operation, or returns an error that names the
    /// groups that would allow it.
    pub fn check(&self, actor: &str, permission: Permission) -> Result<(), CatalogError> {
        if self.groups_of(actor).iter().any(|group| group.allows(permission)) {
            return Ok(());
        }
        Err(CatalogError::PermissionDenied {
            actor: actor.to_string(),
            operation: permission.as_str(),
            allowed: RoleGroup::allowing(permission),
        })
    }

    /// Assigns a role group. Returns false when the actor already held it.
    pub(crate) fn assign(
        &mut self,
        actor: &str,
        group: RoleGroup,
        by: &str,
        now: Timestamp,
    ) -> Result<bool, CatalogError> {
        let actor = normalize_actor(actor)?;
        if self.assignments.iter().any(|a| a.actor == actor && a.group == group) {
            return Ok(false);
        }
        let assigned_by = by.to_string();
        self.assignments.push(Assignment { actor, group, assigned: now, assigned_by });
        Ok(true)
    }

    /// Removes one role group, or every group when `group` is `None`, and returns the groups
    /// removed. The owner's Organization Management cannot be removed.
    pub(crate) fn remove(
        &mut self,
        actor: &str,
        group: Option<RoleGroup>,
    ) -> Result<Vec<RoleGroup>, CatalogError> {
        let actor = normalize_actor(actor)?;
        if actor == self.owner && group == Some(RoleGroup::OrganizationManagement) {
            return Err(CatalogError::OwnerRole { owner: self.owner.clone() });
        }
        let matches = |a: &Assignment| a.actor == actor && group.is_none_or(|g| a.group == g);
        let removed: Vec<RoleGroup> =
            self.assignments.iter().filter(|a| matches(a)).map(|a| a.group).collect();
        if removed.is_empty() {
            return Err(CatalogError::NoAssignment {
                actor,
                group: group.map(RoleGroup::name).unwrap_or("any role group"),
            });
        }
        self.assignments.retain(|a| !matches(a));
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(1_780_000_000 + seconds)
    }

    #[test]
    fn permission_table_matches_role_groups() {
        use Permission::*;
        let expected = [
            (RoleGroup::OrganizationManagement, [true, true, true, true, true, true]),
            (RoleGroup::SecurityAdministrator, [true, true, true, true, true, false]),
            (RoleGroup::SecurityOperator, [true, true, false, false, false, false]),
            (RoleGroup::GlobalReader, [true, false, false, false, false, false]),
            (RoleGroup::SecurityReader, [true, false, false, false, false, false]),
        ];
        let permissions =
            [ReadTags, ChangeMembers, ManageTags, ChangeSettings, ImportDirectory, ManageRoles];
        for (group, allowed) in expected {
            for (permission, allow) in permissions.iter().zip(allowed) {
                assert_eq!(group.allows(*permission), allow, "{group} / {permission:?}");
            }
        }
    }

    #[test]
    fn role_group_names_parse_loosely() {
        assert_eq!(RoleGroup::parse("security operator"), Ok(RoleGroup::SecurityOperator));
        assert_eq!(RoleGroup::parse("Global-Reader"), Ok(RoleGroup::GlobalReader));
        assert_eq!(
            RoleGroup::parse("OrganizationManagement"),
            Ok(RoleGroup::OrganizationManagement)
        );
        assert!(RoleGroup::parse("Security").is_err());
    }

    #[test]
    fn owner_holds_organization_management() {
        let table = RoleTable::new("local:alice").expect("valid owner");
        assert_eq!(table.groups_of("LOCAL:Alice"), [RoleGroup::OrganizationManagement]);
        assert!(table.check("local:alice", Permission::ManageRoles).is_ok());
        assert!(table.groups_of("bob@contoso.test").is_empty());
    }

    #[test]
    fn denial_names_allowing_groups() {
        let mut table = RoleTable::new("local:alice").expect("valid owner");
        table
            .assign("op@contoso.test", RoleGroup::SecurityOperator, "local:alice", at(0))
            .expect("assigns");
        assert!(table.check("op@contoso.test", Permission::ChangeMembers).is_ok());
        let error = table.check("op@contoso.test", Permission::ManageTags).expect_err("denied");
        let message = error.to_string();
        assert!(message.contains("create, edit or delete tags"), "{message}");
        assert!(message.contains("Organization Management, Security Administrator"), "{message}");
    }

    #[test]
    fn assign_twice_and_remove() {
        let mut table = RoleTable::new("local:alice").expect("valid owner");
        let group = RoleGroup::GlobalReader;
        assert_eq!(table.assign("R@contoso.test", group, "local:alice", at(0)), Ok(true));
        assert_eq!(table.assign("r@contoso.test", group, "local:alice", at(1)), Ok(false));
        assert_eq!(table.remove("r@contoso.test", None), Ok(vec![group]));
        assert!(table.remove("r@contoso.test", None).is_err());
        assert!(table.groups_of("r@contoso.test").is_empty());
    }

    #[test]
    fn owner_role_cannot_be_removed() {
        let mut table = RoleTable::new("local:alice").expect("valid owner");
        let removed = table.remove("local:alice", Some(RoleGroup::OrganizationManagement));
        assert!(matches!(removed, Err(CatalogError::OwnerRole { .. })));
    }

    #[test]
    fn invalid_actor_rejected() {
        assert!(normalize_actor("").is_err());
        assert!(normalize_actor("bob").is_err());
        assert!(normalize_actor("bob smith@contoso.test").is_err());
        assert_eq!(normalize_actor(" Bob@Contoso.test "), Ok("bob@contoso.test".to_string()));
    }
}
