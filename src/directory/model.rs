//! Users, groups and the directory snapshot with its address index.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::address::{address_key, plus_base};

/// Whether a user belongs to the organisation or was invited from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UserType {
    /// A member of the organisation.
    Member,
    /// An invited external account.
    Guest,
}

impl UserType {
    /// Returns the lower-case name used in queries and output.
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "member",
            UserType::Guest => "guest",
        }
    }
}

/// A directory user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Entra object id, the key that tag membership is stored under.
    pub object_id: String,
    /// User principal name.
    pub upn: String,
    /// Primary SMTP address, as the directory spells it.
    pub primary_address: Option<String>,
    /// Further SMTP addresses that deliver to this user.
    pub aliases: Vec<String>,
    /// Display name.
    pub display_name: String,
    /// Department, empty when unknown.
    pub department: String,
    /// Member or guest.
    pub user_type: UserType,
    /// Whether the user has a mailbox; only mailbox users can carry tags.
    pub has_mailbox: bool,
    /// Whether the account can sign in.
    pub enabled: bool,
    /// Whether the account is soft-deleted.
    pub deleted: bool,
}

impl User {
    /// Returns the address shown for the user: the primary address, else the UPN.
    pub fn display_address(&self) -> &str {
        self.primary_address.as_deref().unwrap_or(&self.upn)
    }

    /// Returns true when the user can carry tags: has a mailbox and is not deleted.
    pub fn is_taggable(&self) -> bool {
        self.has_mailbox && !self.deleted
    }
}

/// A directory group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Entra object id.
    pub object_id: String,
    /// Mail address of the group, if it has one.
    pub address: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Object ids of the direct members: users or groups.
    pub members: Vec<String>,
}

impl Group {
    /// Returns the address shown for the group: its address, else its name.
    pub fn display_address(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.display_name)
    }
}

/// A user or group of a [`Directory`], by position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectRef {
    /// Index into [`Directory::users`].
    User(usize),
    /// Index into [`Directory::groups`].
    Group(usize),
}

/// Who resolves an address, which decides how an address shared by two objects resolves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A person typed the address (member lists, command arguments): a shared address is
    /// ambiguous.
    Typed,
    /// The address comes from mail data: a shared address resolves to the object whose SMTP
    /// address (primary or alias) it is, because mail is routed by those addresses. It stays
    /// ambiguous when it is an SMTP address of several objects.
    MailData,
}

/// The outcome of an address lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Exactly one object has the address.
    Found {
        /// The object.
        object: ObjectRef,
        /// True when only the plus address's base (`user@d` for `user+x@d`) is known.
        plus_address: bool,
    },
    /// No object has the address.
    NotFound,
    /// Several objects share the address.
    Ambiguous(Vec<ObjectRef>),
    /// The text is not an address.
    Invalid(super::address::AddressError),
}

/// How an object carries an address; SMTP addresses route mail, the others do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddressKind {
    Smtp,
    Upn,
}

/// A snapshot of the organisation's users and groups, indexed by address and object id.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "Snapshot", into = "Snapshot")]
pub struct Directory {
    users: Vec<User>,
    groups: Vec<Group>,
    by_id: HashMap<String, ObjectRef>,
    by_address: HashMap<String, Vec<(ObjectRef, AddressKind)>>,
}

/// The stored form of a directory: its objects without the indexes.
#[derive(Clone, Serialize, Deserialize)]
struct Snapshot {
    users: Vec<User>,
    groups: Vec<Group>,
}

impl From<Snapshot> for Directory {
    fn from(snapshot: Snapshot) -> Directory {
        Directory::new(snapshot.users, snapshot.groups)
    }
}

impl From<Directory> for Snapshot {
    fn from(directory: Directory) -> Snapshot {
        Snapshot { users: directory.users, groups: directory.groups }
    }
}

impl PartialEq for Directory {
    fn eq(&self, other: &Directory) -> bool {
        self.users == other.users && self.groups == other.groups
    }
}

impl Directory {
    /// Builds a directory and its indexes. Object ids are expected to be unique (the loaders
    /// check it); a repeated id is indexed to its first object.
    pub fn new(users: Vec<User>, groups: Vec<Group>) -> Directory {
        let mut directory =
            Directory { users, groups, by_id: HashMap::new(), by_address: HashMap::new() };
        directory.build_indexes();
        directory
    }

    fn build_indexes(&mut self) {
        for (i, user) in self.users.iter().enumerate() {
            let object = ObjectRef::User(i);
            self.by_id.entry(user.object_id.to_ascii_lowercase()).or_insert(object);
            let smtp = user.primary_address.iter().chain(&user.aliases);
            for address in smtp {
                insert_address(&mut self.by_address, address, object, AddressKind::Smtp);
            }
            insert_address(&mut self.by_address, &user.upn, object, AddressKind::Upn);
        }
        for (i, group) in self.groups.iter().enumerate() {
            let object = ObjectRef::Group(i);
            self.by_id.entry(group.object_id.to_ascii_lowercase()).or_insert(object);
            if let Some(address) = &group.address {
                insert_address(&mut self.by_address, address, object, AddressKind::Smtp);
            }
        }
    }

    /// Returns all users, in load order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Returns all groups, in load order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Returns the user at an index of [`Directory::users`].
    pub fn user(&self, index: usize) -> Option<&User> {
        self.users.get(index)
    }

    /// Returns the group at an index of [`Directory::groups`].
    pub fn group(&self, index: usize) -> Option<&Group> {
        self.groups.get(index)
    }

    /// Looks an object up by object id, ignoring ASCII case.
    pub fn by_object_id(&self, object_id: &str) -> Option<ObjectRef> {
        self.by_id.get(&object_id.trim().to_ascii_lowercase()).copied()
    }

    /// Returns the object id of an object.
    pub fn object_id(&self, object: ObjectRef) -> Option<&str> {
        match object {
            ObjectRef::User(i) => self.users.get(i).map(|u| u.object_id.as_str()),
            ObjectRef::Group(i) => self.groups.get(i).map(|g| g.object_id.as_str()),
        }
    }

    /// Returns the address shown for an object, in the directory's spelling.
    pub fn display_address(&self, object: ObjectRef) -> Option<&str> {
        match object {
            ObjectRef::User(i) => self.users.get(i).map(User::display_address),
            ObjectRef::Group(i) => self.groups.get(i).map(Group::display_address),
        }
    }

    /// Resolves an address to a user or group.
    ///
    /// The address matches primary addresses, aliases and UPNs after normalisation (see
    /// [`address_key`](super::address_key)). When the address itself is unknown, a plus
    /// address `user+x@d` resolves as `user@d`. Nothing else is tried: no dot stripping and no
    /// prefix matching. When a soft-deleted user shares the address with live objects, only the
    /// live ones are candidates, because a deleted account's address may have been reassigned.
    pub fn resolve_address(&self, address: &str, purpose: Purpose) -> Resolution {
        let key = match address_key(address) {
            Ok(key) => key,
            Err(error) => return Resolution::Invalid(error),
        };
        if let Some(candidates) = self.by_address.get(&key) {
            return choose(&self.live_first(candidates), purpose, false);
        }
        let base = plus_base(&key);
        match base.as_ref().and_then(|base| self.by_address.get(base)) {
            Some(candidates) => choose(&self.live_first(candidates), purpose, true),
            None => Resolution::NotFound,
        }
    }

    /// Drops soft-deleted users from several candidates, unless all of them are deleted.
    fn live_first(&self, candidates: &[(ObjectRef, AddressKind)]) -> Vec<(ObjectRef, AddressKind)> {
        let is_live = |object: &ObjectRef| match object {
            ObjectRef::User(i) => self.users.get(*i).is_some_and(|u| !u.deleted),
            ObjectRef::Group(_) => true,
        };
        let live: Vec<_> = candidates.iter().filter(|(o, _)| is_live(o)).copied().collect();
        if live.is_empty() { candidates.to_vec() } else { live }
    }

    /// Returns the taggable users (mailbox, not deleted) that a group contains directly or
    /// through nested groups, each once, in index order. Cycles are followed once.
    pub fn expand_group(&self, group: usize) -> Vec<usize> {
        let mut users = HashSet::new();
        let mut seen = HashSet::from([group]);
        let mut pending = vec![group];
        while let Some(current) = pending.pop() {
            let Some(current) = self.groups.get(current) else { continue };
            for member in &current.members {
                match self.by_object_id(member) {
                    Some(ObjectRef::User(u))
                        if self.users.get(u).is_some_and(User::is_taggable) =>
                    {
                        users.insert(u);
                    }
                    Some(ObjectRef::Group(g)) if seen.insert(g) => pending.push(g),
                    _ => {}
                }
            }
        }
        let mut users: Vec<usize> = users.into_iter().collect();
        users.sort_unstable();
        users
    }

    /// Returns the group cycles, each as the object ids along the cycle with the first id
    /// repeated at the end. Each cycle is reported once.
    pub fn group_cycles(&self) -> Vec<Vec<String>> {
        super::cycles::find_cycles(self)
    }
}

fn insert_address(
    index: &mut HashMap<String, Vec<(ObjectRef, AddressKind)>>,
    address: &str,
    object: ObjectRef,
    kind: AddressKind,
) {
    let Ok(key) = address_key(address) else { return };
    let entries = index.entry(key).or_default();
    match entries.iter_mut().find(|(o, _)| *o == object) {
        Some(entry) if kind == AddressKind::Smtp => entry.1 = AddressKind::Smtp,
        Some(_) => {}
        None => entries.push((object, kind)),
    }
}

fn choose(candidates: &[(ObjectRef, AddressKind)], purpose: Purpose, plus: bool) -> Resolution {
    if let [(object, _)] = candidates {
        return Resolution::Found { object: *object, plus_address: plus };
    }
    if purpose == Purpose::MailData {
        let smtp: Vec<ObjectRef> =
            candidates.iter().filter(|(_, k)| *k == AddressKind::Smtp).map(|(o, _)| *o).collect();
        if let [object] = smtp.as_slice() {
            return Resolution::Found { object: *object, plus_address: plus };
        }
    }
    let mut objects: Vec<ObjectRef> = candidates.iter().map(|(o, _)| *o).collect();
    objects.sort_unstable();
    Resolution::Ambiguous(objects)
}
