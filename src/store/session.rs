//! Sessions: every read and change of a store, done by an actor whose role groups allow it.
//!
//! Each change takes the exclusive lock, checks the actor's role groups against the stored
//! role table, applies the change to a fresh copy of the data, and commits the data file
//! together with its audit entry. A denied or failed change writes nothing.
//!
//! NOTE: actors are not authenticated. `--as` and `TAGQ_ACTOR` name an identity, and anyone
//! who can write the store's files can change them directly. The role check keeps honest
//! users within their role groups; it is not a defence against the file owner.

use serde_json::{Value, json};

use super::audit::{self, AuditLog};
use super::error::StoreError;
use super::{
    CATALOG_FILE, CATALOG_FORMAT, DIRECTORY_FILE, DIRECTORY_FORMAT, ROLES_FILE, ROLES_FORMAT,
    Snapshot, Store, StoredSnapshot,
};
use crate::catalog::{
    AuditEntry, AuditOperation, Catalog, CatalogError, ImportReport, MemberReport, Permission,
    RoleGroup, RoleTable, Tag,
};
use crate::directory::Directory;
use crate::time::Timestamp;

/// The audit entry of a change, before the store numbers it.
struct Draft {
    operation: AuditOperation,
    target: String,
    before: Value,
    after: Value,
}

/// An actor working on a store. Created by [`Store::session`] or [`Store::owner_session`].
#[derive(Clone, Debug)]
pub struct Session<'a> {
    store: &'a Store,
    actor: String,
    now: Option<Timestamp>,
}

impl<'a> Session<'a> {
    pub(super) fn new(store: &'a Store, actor: String) -> Session<'a> {
        Session { store, actor, now: None }
    }

    /// Uses a fixed time for every change of this session instead of the clock.
    pub fn at(mut self, now: Timestamp) -> Session<'a> {
        self.now = Some(now);
        self
    }

    /// Returns the actor, normalised: ASCII lower-case, trimmed.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(|| Timestamp::from_jiff(jiff::Timestamp::now()))
    }

    fn entry(&self, draft: Draft) -> AuditEntry {
        AuditEntry {
            seq: 0,
            time: self.now(),
            actor: self.actor.clone(),
            operation: draft.operation,
            target: draft.target,
            before: draft.before,
            after: draft.after,
        }
    }

    /// Returns the role groups the actor holds.
    pub fn role_groups(&self) -> Result<Vec<RoleGroup>, StoreError> {
        Ok(self.store.read_roles()?.groups_of(&self.actor))
    }

    /// Loads roles under the shared lock and checks a permission, then runs `read`.
    fn read_checked<T>(
        &self,
        permission: Permission,
        read: impl FnOnce(RoleTable) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _lock = self.store.shared_lock()?;
        let roles = self.store.load_roles()?;
        roles.check(&self.actor, permission)?;
        read(roles)
    }

    /// Checks that the actor's role groups allow an operation, without doing it, so that a
    /// caller can report a denial before asking for confirmation.
    pub fn check(&self, permission: Permission) -> Result<(), StoreError> {
        self.read_checked(permission, |_| Ok(()))
    }

    /// Loads the catalog and the directory of one commit. Needs Tag Reader.
    pub fn read(&self) -> Result<Snapshot, StoreError> {
        self.read_checked(Permission::ReadTags, |_| self.store.read_unlocked())
    }

    /// Loads the catalog and the directory's file of one commit, leaving the directory to be
    /// decoded when needed. Needs Tag Reader.
    pub fn read_stored(&self) -> Result<StoredSnapshot, StoreError> {
        self.read_checked(Permission::ReadTags, |_| self.store.read_stored_unlocked())
    }

    /// Returns the role table. Needs Tag Reader.
    pub fn roles(&self) -> Result<RoleTable, StoreError> {
        self.read_checked(Permission::ReadTags, Ok)
    }

    /// Reads the audit log: committed changes, oldest first, and damaged lines. Needs Tag
    /// Reader.
    pub fn audit(&self) -> Result<AuditLog, StoreError> {
        self.read_checked(Permission::ReadTags, |_| audit::read_log(&self.store.dir))
    }

    /// Changes the catalog under the exclusive lock after checking a permission, and commits
    /// it with its audit entry when it changed. Member changes get the stored directory;
    /// other changes get an empty one, which spares loading the snapshot.
    fn change_catalog<T>(
        &self,
        permission: Permission,
        change: impl FnOnce(&mut Catalog, &Directory) -> Result<(T, Draft), CatalogError>,
    ) -> Result<T, StoreError> {
        let lock = self.store.lock()?;
        lock.load_roles()?.check(&self.actor, permission)?;
        let mut catalog = lock.load_catalog()?;
        let directory = if permission == Permission::ChangeMembers {
            lock.load_directory()?.unwrap_or_default()
        } else {
            Directory::default()
        };
        let before = catalog.clone();
        let (value, draft) = change(&mut catalog, &directory)?;
        if catalog != before {
            let entry = Some(self.entry(draft));
            lock.save(CATALOG_FILE, CATALOG_FORMAT, &catalog, entry)?;
        }
        Ok(value)
    }

    /// Creates a custom tag. Needs Tag Manager.
    pub fn create_tag(&self, name: &str, description: &str) -> Result<Tag, StoreError> {
        let now = self.now();
        self.change_catalog(Permission::ManageTags, |catalog, _| {
            let tag = catalog.create(name, description, now)?.clone();
            let after = json!({"name": tag.name, "description": tag.description});
            let draft = Draft {
                operation: AuditOperation::TagCreated,
                target: tag.name.clone(),
                before: Value::Null,
                after,
            };
            Ok((tag, draft))
        })
    }

    /// Changes a custom tag's description; an empty text clears it. Needs Tag Manager.
    pub fn set_description(&self, name: &str, description: &str) -> Result<Tag, StoreError> {
        let now = self.now();
        self.change_catalog(Permission::ManageTags, |catalog, _| {
            let old = catalog.tag(name).map(|t| t.description.clone()).unwrap_or_default();
            let tag = catalog.set_description(name, description, now)?.clone();
            let draft = Draft {
                operation: AuditOperation::TagDescribed,
                target: tag.name.clone(),
                before: json!({"description": old}),
                after: json!({"description": tag.description}),
            };
            Ok((tag, draft))
        })
    }

    /// Rejects a rename after the role check: tag names never change. Needs Tag Manager to
    /// get as far as that error.
    pub fn rename_tag(&self, name: &str, new_name: &str) -> Result<(), StoreError> {
        self.read_checked(Permission::ManageTags, |_| {
            Ok(self.store.load_catalog()?.rename(name, new_name)?)
        })
    }

    /// Deletes a custom tag and returns it. Needs Tag Manager.
    pub fn delete_tag(&self, name: &str) -> Result<Tag, StoreError> {
        self.change_catalog(Permission::ManageTags, |catalog, _| {
            let tag = catalog.delete(name)?;
            let members: Vec<&str> = tag.members.iter().map(|m| m.object_id.as_str()).collect();
            let before =
                json!({"name": tag.name, "description": tag.description, "members": members});
            let draft = Draft {
                operation: AuditOperation::TagDeleted,
                target: tag.name.clone(),
                before,
                after: Value::Null,
            };
            Ok((tag, draft))
        })
    }

    /// Adds members by address or object id; all must be valid. Needs Tag Manager, or
    /// Security Operator.
    pub fn add_members(&self, tag: &str, members: &[&str]) -> Result<MemberReport, StoreError> {
        let now = self.now();
        self.change_catalog(Permission::ChangeMembers, |catalog, directory| {
            let count = direct_count(catalog, tag);
            let report = catalog.add_members(tag, members, directory, now)?;
            let draft = member_draft(AuditOperation::MembersAdded, catalog, &report.tag, count)
                .with_list("added", &report.changed);
            Ok((report, draft))
        })
    }

    /// Removes members by address or object id; all must be valid. Needs Tag Manager, or
    /// Security Operator.
    pub fn remove_members(&self, tag: &str, members: &[&str]) -> Result<MemberReport, StoreError> {
        let now = self.now();
        self.change_catalog(Permission::ChangeMembers, |catalog, directory| {
            let count = direct_count(catalog, tag);
            let report = catalog.remove_members(tag, members, directory, now)?;
            let draft = member_draft(AuditOperation::MembersRemoved, catalog, &report.tag, count)
                .with_list("removed", &report.changed);
            Ok((report, draft))
        })
    }

    /// Imports members from a text with one address or object id per line. The text is UTF-8
    /// with or without a BOM, with LF or CRLF line ends, and blank lines and surrounding
    /// whitespace are ignored. Without `skip_invalid`, any invalid line leaves the tag
    /// unchanged, and with it the valid lines are applied. The role check comes before any
    /// line is read. Needs Tag Manager, or Security Operator.
    pub fn import_members(
        &self,
        tag: &str,
        text: &[u8],
        skip_invalid: bool,
    ) -> Result<ImportReport, StoreError> {
        let now = self.now();
        self.change_catalog(Permission::ChangeMembers, |catalog, directory| {
            let count = direct_count(catalog, tag);
            let report = catalog.import_members(tag, text, directory, skip_invalid, now)?;
            let draft = member_draft(AuditOperation::MembersImported, catalog, &report.tag, count)
                .with_list("added", &report.added);
            Ok((report, draft))
        })
    }

    /// Changes a setting and returns its old value. Needs Tag Manager.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<String, StoreError> {
        self.change_catalog(Permission::ChangeSettings, |catalog, _| {
            let old = catalog.settings().get(key)?;
            catalog.set_setting(key, value)?;
            let new = catalog.settings().get(key)?;
            let draft = Draft {
                operation: AuditOperation::SettingChanged,
                target: key.trim().to_string(),
                before: Value::from(old.clone()),
                after: Value::from(new),
            };
            Ok((old, draft))
        })
    }

    /// Replaces the directory snapshot. Tag members stay, by object id. Needs Tag Manager.
    pub fn import_directory(&self, directory: &Directory, source: &str) -> Result<(), StoreError> {
        let lock = self.store.lock()?;
        lock.load_roles()?.check(&self.actor, Permission::ImportDirectory)?;
        let old = lock.load_directory()?;
        if old.as_ref() == Some(directory) {
            return Ok(());
        }
        let catalog = lock.load_catalog()?;
        let empty = Directory::default();
        catalog.check_directory_limits(old.as_ref().unwrap_or(&empty), directory)?;
        let counts = |d: &Directory| json!({"users": d.users().len(), "groups": d.groups().len()});
        let mut after = counts(directory);
        if let Some(object) = after.as_object_mut() {
            object.insert("source".into(), Value::from(source));
        }
        let draft = Draft {
            operation: AuditOperation::DirectoryImported,
            target: DIRECTORY_FILE.to_string(),
            before: old.as_ref().map_or(Value::Null, counts),
            after,
        };
        lock.save(DIRECTORY_FILE, DIRECTORY_FORMAT, directory, Some(self.entry(draft)))
    }

    /// Changes the role table under the exclusive lock. Needs Organization Management.
    fn change_roles<T>(
        &self,
        target: &str,
        operation: AuditOperation,
        change: impl FnOnce(&mut RoleTable) -> Result<T, CatalogError>,
    ) -> Result<T, StoreError> {
        let lock = self.store.lock()?;
        let mut roles = lock.load_roles()?;
        roles.check(&self.actor, Permission::ManageRoles)?;
        let target = crate::catalog::normalize_actor(target)?;
        let before = groups_value(&roles, &target);
        let unchanged = roles.clone();
        let value = change(&mut roles)?;
        if roles != unchanged {
            let after = groups_value(&roles, &target);
            let draft = Draft { operation, target, before, after };
            lock.save(ROLES_FILE, ROLES_FORMAT, &roles, Some(self.entry(draft)))?;
        }
        Ok(value)
    }

    /// Assigns a role group to an actor. Returns false when the actor already held it.
    /// Needs Organization Management.
    pub fn assign_role(&self, actor: &str, group: RoleGroup) -> Result<bool, StoreError> {
        let now = self.now();
        let by = self.actor.clone();
        self.change_roles(actor, AuditOperation::RoleAssigned, |roles| {
            roles.assign(actor, group, &by, now)
        })
    }

    /// Removes one role group from an actor, or all of them when `group` is `None`, and
    /// returns the groups removed. Needs Organization Management.
    pub fn remove_role(
        &self,
        actor: &str,
        group: Option<RoleGroup>,
    ) -> Result<Vec<RoleGroup>, StoreError> {
        self.change_roles(actor, AuditOperation::RoleRemoved, |roles| roles.remove(actor, group))
    }
}

fn groups_value(roles: &RoleTable, actor: &str) -> Value {
    let assigned = roles.assignments().iter().filter(|a| a.actor == actor);
    Value::from(assigned.map(|a| a.group.name()).collect::<Vec<_>>())
}

fn direct_count(catalog: &Catalog, tag: &str) -> usize {
    catalog.tag(tag).map_or(0, |t| t.members.len())
}

fn member_draft(operation: AuditOperation, catalog: &Catalog, tag: &str, before: usize) -> Draft {
    let after = direct_count(catalog, tag);
    Draft {
        operation,
        target: tag.to_string(),
        before: json!({"direct_members": before}),
        after: json!({"direct_members": after}),
    }
}

impl Draft {
    /// Adds the list of changed members to the `after` object.
    fn with_list(mut self, key: &str, members: &[String]) -> Draft {
        if let Some(object) = self.after.as_object_mut() {
            object.insert(key.to_string(), Value::from(members.to_vec()));
        }
        self
    }
}
