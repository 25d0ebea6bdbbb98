//! Adding, removing and importing tag members, with the limits on effective users.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::error::{CatalogError, InvalidReason, MemberProblem};
use super::tags::{Catalog, Member, MemberKind, Tag, TagKind};
use crate::directory::{Directory, ObjectRef, Purpose, Resolution, User, UserType};
use crate::time::Timestamp;

/// The outcome of adding or removing members given as a list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberReport {
    /// The tag's name.
    pub tag: String,
    /// Members added or removed, by their directory address.
    pub changed: Vec<String>,
    /// Members that needed no change (already members, or not members on removal).
    pub unchanged: Vec<String>,
    /// Information such as plus-address resolution and duplicates.
    pub notes: Vec<String>,
}

/// Information about one line of an import that is not an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineNote {
    /// 1-based line number.
    pub line: usize,
    /// The note, lower-case.
    pub message: String,
}

impl std::fmt::Display for LineNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// The outcome of a member import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// The tag's name.
    pub tag: String,
    /// True when the valid lines were applied. False in the default mode when any line is
    /// invalid, and when nothing was new.
    pub applied: bool,
    /// Members added, by their directory address.
    pub added: Vec<String>,
    /// Valid lines whose member already carried the tag, by directory address.
    pub unchanged: Vec<String>,
    /// Information: duplicates and plus addresses.
    pub notes: Vec<LineNote>,
    /// Every invalid line. A caller should report failure whenever this is not empty, even
    /// when `applied` is true (skip-invalid mode).
    pub problems: Vec<MemberProblem>,
}

/// A member text resolved to a directory object.
struct Resolved {
    member: Member,
    address: String,
    plus_address: bool,
}

/// Resolves a typed member: an object id or an address of a mailbox user or a group.
fn resolve_member(directory: &Directory, input: &str) -> Result<Resolved, InvalidReason> {
    let by_id = if input.contains('@') { None } else { directory.by_object_id(input) };
    let (object, plus_address) = match by_id {
        Some(object) => (object, false),
        None => match directory.resolve_address(input, Purpose::Typed) {
            Resolution::Found { object, plus_address } => (object, plus_address),
            Resolution::NotFound => return Err(InvalidReason::NotFound),
            Resolution::Invalid(error) => return Err(InvalidReason::from_address(error)),
            Resolution::Ambiguous(objects) => {
                let addresses = objects.iter().filter_map(|o| directory.display_address(*o));
                return Err(InvalidReason::Ambiguous(addresses.map(str::to_string).collect()));
            }
        },
    };
    let kind = match object {
        ObjectRef::User(index) => {
            check_taggable(directory.user(index))?;
            MemberKind::User
        }
        ObjectRef::Group(_) => MemberKind::Group,
    };
    let object_id = directory.object_id(object).ok_or(InvalidReason::NotFound)?.to_string();
    let address = directory.display_address(object).unwrap_or(&object_id).to_string();
    Ok(Resolved { member: Member { object_id, kind }, address, plus_address })
}

fn check_taggable(user: Option<&User>) -> Result<(), InvalidReason> {
    let Some(user) = user else { return Err(InvalidReason::NotFound) };
    if user.deleted {
        Err(InvalidReason::Deleted)
    } else if user.has_mailbox {
        Ok(())
    } else if user.user_type == UserType::Guest {
        Err(InvalidReason::GuestWithoutMailbox)
    } else {
        Err(InvalidReason::NoMailbox)
    }
}

/// Returns the distinct effective users of a member list: taggable direct users and the
/// taggable users of groups, expanded against the current directory.
pub(super) fn effective_users(members: &[Member], directory: &Directory) -> BTreeSet<usize> {
    let mut users = BTreeSet::new();
    for member in members {
        match directory.by_object_id(&member.object_id) {
            Some(ObjectRef::User(index))
                if directory.user(index).is_some_and(User::is_taggable) =>
            {
                users.insert(index);
            }
            Some(ObjectRef::Group(index)) => users.extend(directory.expand_group(index)),
            _ => {}
        }
    }
    users
}

fn lowercase_ids(members: &[Member]) -> HashSet<String> {
    members.iter().map(|m| m.object_id.to_ascii_lowercase()).collect()
}

/// Splits member-list text into trimmed, non-blank lines with 1-based numbers. A leading
/// UTF-8 BOM, CR before LF and whitespace around each line are removed.
fn member_lines(text: &[u8]) -> Result<Vec<(usize, &str)>, CatalogError> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let text = std::str::from_utf8(text)
        .map_err(|e| CatalogError::Encoding { offset: e.valid_up_to() })?;
    let lines = text.split('\n').enumerate().map(|(i, line)| (i + 1, line.trim()));
    Ok(lines.filter(|(_, line)| !line.is_empty()).collect())
}

impl Catalog {
    /// Adds members given by address or object id. Every member must be valid, or nothing
    /// changes and the error lists each invalid one with its 1-based position.
    pub(crate) fn add_members(
        &mut self,
        tag: &str,
        members: &[&str],
        directory: &Directory,
        now: Timestamp,
    ) -> Result<MemberReport, CatalogError> {
        let lines: Vec<(usize, &str)> =
            members.iter().enumerate().map(|(i, m)| (i + 1, m.trim())).collect();
        let report = self.import_lines(tag, &lines, directory, false, now)?;
        if !report.problems.is_empty() {
            return Err(CatalogError::InvalidMembers { problems: report.problems });
        }
        let notes = report.notes.iter().map(|n| n.message.clone()).collect();
        Ok(MemberReport {
            tag: report.tag,
            changed: report.added,
            unchanged: report.unchanged,
            notes,
        })
    }

    /// Imports members from a text with one address or object id per line.
    ///
    /// The text is UTF-8 with or without a BOM, with LF or CRLF line ends. Blank lines and
    /// whitespace around lines are ignored, and a line naming a member already named above is
    /// noted as a duplicate. Without `skip_invalid`, any invalid line leaves the tag unchanged.
    /// With it, the valid lines are applied. Either way every invalid line is listed. A limit
    /// that the valid lines would pass rejects the whole import with an error.
    pub(crate) fn import_members(
        &mut self,
        tag: &str,
        text: &[u8],
        directory: &Directory,
        skip_invalid: bool,
        now: Timestamp,
    ) -> Result<ImportReport, CatalogError> {
        let lines = member_lines(text)?;
        self.import_lines(tag, &lines, directory, skip_invalid, now)
    }

    fn import_lines(
        &mut self,
        tag: &str,
        lines: &[(usize, &str)],
        directory: &Directory,
        skip_invalid: bool,
        now: Timestamp,
    ) -> Result<ImportReport, CatalogError> {
        let index = self.require(tag)?;
        let Some(current) = self.tags.get(index) else { return Err(self.not_found(tag)) };
        let mut report = ImportReport { tag: current.name.clone(), ..ImportReport::default() };
        let existing = lowercase_ids(&current.members);
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut new_members = Vec::new();
        for &(line, input) in lines {
            let resolved = match resolve_member(directory, input) {
                Ok(resolved) => resolved,
                Err(reason) => {
                    report.problems.push(MemberProblem { line, input: input.to_string(), reason });
                    continue;
                }
            };
            let key = resolved.member.object_id.to_ascii_lowercase();
            let is_member = existing.contains(&key);
            if let Some(first) = first_line.get(&key) {
                let message = format!("{input} repeats line {first}; ignored");
                report.notes.push(LineNote { line, message });
                continue;
            }
            first_line.insert(key, line);
            if resolved.plus_address {
                let message = format!("{input} resolved to {} (plus address)", resolved.address);
                report.notes.push(LineNote { line, message });
            }
            if is_member {
                report.unchanged.push(resolved.address);
            } else {
                report.added.push(resolved.address);
                new_members.push(resolved.member);
            }
        }
        if !report.problems.is_empty() && !skip_invalid {
            report.added.clear();
            return Ok(report);
        }
        if new_members.is_empty() {
            return Ok(report);
        }
        let mut members = current.members.clone();
        members.extend(new_members);
        self.check_user_limit(current, &members, directory)?;
        if let Some(target) = self.tags.get_mut(index) {
            target.members = members;
            target.modified = now;
            report.applied = true;
        }
        Ok(report)
    }

    /// Rejects a directory snapshot under which a tag's groups would expand past its limit,
    /// unless the tag's count does not rise. Groups expand live, so a re-import that adds
    /// users to a tagged group changes the tag as much as adding members does.
    pub(crate) fn check_directory_limits(
        &self,
        old: &Directory,
        new: &Directory,
    ) -> Result<(), CatalogError> {
        for tag in &self.tags {
            let (setting, limit) = self.user_limit(tag);
            let after = effective_users(&tag.members, new).len();
            let before = effective_users(&tag.members, old).len();
            if after <= limit || after <= before {
                continue;
            }
            let message = format!(
                "the new directory would make tag '{}' apply to {after} users, over the limit \
                 of {limit}; nothing changed; raise {setting} or remove members first",
                tag.name
            );
            return Err(CatalogError::LimitReached { setting, limit, message });
        }
        Ok(())
    }

    fn user_limit(&self, tag: &Tag) -> (&'static str, usize) {
        match tag.kind {
            TagKind::System => {
                ("limits.priority_account_users", self.settings.limits.priority_account_users)
            }
            TagKind::Custom => {
                ("limits.users_per_custom_tag", self.settings.limits.users_per_custom_tag)
            }
        }
    }

    /// Rejects a member list whose distinct effective users pass the tag's limit, unless the
    /// change does not raise the count (so a store over a lowered limit can still shrink).
    fn check_user_limit(
        &self,
        tag: &Tag,
        members: &[Member],
        directory: &Directory,
    ) -> Result<(), CatalogError> {
        let (setting, limit) = self.user_limit(tag);
        let after = effective_users(members, directory).len();
        let before = effective_users(&tag.members, directory).len();
        if after <= limit || after <= before {
            return Ok(());
        }
        let message = format!(
            "tag '{}' would apply to {after} users, over the limit of {limit}; nothing changed; \
             raise {setting}",
            tag.name
        );
        Err(CatalogError::LimitReached { setting, limit, message })
    }

    /// Removes members given by address or object id. Object ids also remove members that
    /// are no longer in the directory. Every member must be valid, or nothing changes.
    pub(crate) fn remove_members(
        &mut self,
        tag: &str,
        members: &[&str],
        directory: &Directory,
        now: Timestamp,
    ) -> Result<MemberReport, CatalogError> {
        let index = self.require(tag)?;
        let Some(current) = self.tags.get(index) else { return Err(self.not_found(tag)) };
        let mut report = MemberReport { tag: current.name.clone(), ..MemberReport::default() };
        let mut problems = Vec::new();
        let existing = lowercase_ids(&current.members);
        let mut remove: HashSet<String> = HashSet::new();
        for (position, input) in members.iter().map(|m| m.trim()).enumerate() {
            let orphan = current.members.iter().find(|m| m.object_id.eq_ignore_ascii_case(input));
            let (object_id, address) = match (orphan, removal_target(directory, input)) {
                (_, Ok(resolved)) => (resolved.member.object_id, resolved.address),
                (Some(member), Err(_)) => (member.object_id.clone(), member.object_id.clone()),
                (None, Err(reason)) => {
                    problems.push(MemberProblem {
                        line: position + 1,
                        input: input.to_string(),
                        reason,
                    });
                    continue;
                }
            };
            let key = object_id.to_ascii_lowercase();
            if existing.contains(&key) && remove.insert(key) {
                report.changed.push(address);
            } else {
                report.unchanged.push(address);
            }
        }
        if !problems.is_empty() {
            return Err(CatalogError::InvalidMembers { problems });
        }
        if let Some(target) = self.tags.get_mut(index).filter(|_| !remove.is_empty()) {
            target.members.retain(|m| !remove.contains(&m.object_id.to_ascii_lowercase()));
            target.modified = now;
        }
        Ok(report)
    }
}

/// Resolves a member to remove. Unlike adding, users that lost their mailbox or were deleted
/// can still be removed.
fn removal_target(directory: &Directory, input: &str) -> Result<Resolved, InvalidReason> {
    match resolve_member(directory, input) {
        Err(
            InvalidReason::GuestWithoutMailbox | InvalidReason::NoMailbox | InvalidReason::Deleted,
        ) => {
            let object = match directory.by_object_id(input) {
                Some(object) => object,
                None => match directory.resolve_address(input, Purpose::Typed) {
                    Resolution::Found { object, .. } => object,
                    _ => return Err(InvalidReason::NotFound),
                },
            };
            let object_id = directory.object_id(object).ok_or(InvalidReason::NotFound)?.to_string();
            let address = directory.display_address(object).unwrap_or(&object_id).to_string();
            Ok(Resolved {
                member: Member { object_id, kind: MemberKind::User },
                address,
                plus_address: false,
            })
        }
        other => other,
    }
}
