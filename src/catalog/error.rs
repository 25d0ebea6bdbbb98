//! Errors of the catalog layer.

use crate::directory::AddressError;

/// The reason a member address cannot join a tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvalidReason {
    /// The text is not of the form `local@domain`.
    Syntax,
    /// The address is wrapped in quotes.
    Quoted,
    /// No user or group has the address.
    NotFound,
    /// The address belongs to a guest without a mailbox.
    GuestWithoutMailbox,
    /// The address belongs to a member user without a mailbox.
    NoMailbox,
    /// The address belongs to a soft-deleted user.
    Deleted,
    /// Several objects share the address; the addresses shown are theirs.
    Ambiguous(Vec<String>),
}

impl InvalidReason {
    pub(crate) fn from_address(error: AddressError) -> InvalidReason {
        match error {
            AddressError::Quoted => InvalidReason::Quoted,
            AddressError::Empty | AddressError::Syntax => InvalidReason::Syntax,
        }
    }
}

impl std::fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidReason::Syntax => f.write_str("invalid address syntax"),
            InvalidReason::Quoted => f.write_str("quoted address; remove the quotes"),
            InvalidReason::NotFound => f.write_str("not found in the directory"),
            InvalidReason::GuestWithoutMailbox => f.write_str(
                "guest account without a mailbox; user tags apply to mailbox users only",
            ),
            InvalidReason::NoMailbox => {
                f.write_str("user without a mailbox; user tags apply to mailbox users only")
            }
            InvalidReason::Deleted => {
                f.write_str("deleted account; restore it in the directory first")
            }
            InvalidReason::Ambiguous(objects) => {
                write!(f, "ambiguous: matches {}; use the object id", objects.join(", "))
            }
        }
    }
}

/// One member given to an operation that cannot join the tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberProblem {
    /// 1-based line of an import file, or 1-based position in an argument list.
    pub line: usize,
    /// The text as given, trimmed.
    pub input: String,
    /// The reason it is invalid.
    pub reason: InvalidReason,
}

impl std::fmt::Display for MemberProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.input, self.reason)
    }
}

/// A catalog operation that was rejected; the catalog is unchanged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    /// No tag has the name.
    #[error("tag '{name}' not found{}", suggestion.as_ref().map(|s| format!("; did you mean '{s}'?")).unwrap_or_default())]
    TagNotFound {
        /// The name as given.
        name: String,
        /// A tag with a similar name, if there is one.
        suggestion: Option<String>,
    },
    /// The name is empty after trimming.
    #[error("tag name is empty")]
    EmptyName,
    /// The name contains a control character or an invisible format character.
    #[error("tag name {name:?} contains a control or invisible character; remove it")]
    ControlCharacter {
        /// The name as given.
        name: String,
    },
    /// A tag with the same folded name exists.
    #[error(
        "tag '{name}' already exists as '{existing}'; names are compared ignoring case, spacing and Unicode normalisation"
    )]
    DuplicateName {
        /// The name as given.
        name: String,
        /// The existing tag's name.
        existing: String,
    },
    /// The name is the system tag's name.
    #[error("'{name}' is the name of the system tag, which always exists and cannot be created")]
    ReservedName {
        /// The name as given.
        name: String,
    },
    /// Renaming was requested.
    #[error("tags cannot be renamed; create a tag with the new name and move the members")]
    RenameNotSupported,
    /// The system tag's description was to be changed.
    #[error("the description of the system tag is fixed")]
    SystemDescriptionFixed,
    /// The system tag was to be deleted.
    #[error("the system tag cannot be deleted")]
    SystemTagDelete,
    /// The change would pass a limit.
    #[error("{message}")]
    LimitReached {
        /// The setting that raises the limit, such as `limits.custom_tags`.
        setting: &'static str,
        /// The limit.
        limit: usize,
        /// The full message, naming the setting.
        message: String,
    },
    /// Some members cannot join the tag; nothing was changed.
    #[error("{} invalid member(s), nothing changed: {}", problems.len(), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidMembers {
        /// Every invalid member.
        problems: Vec<MemberProblem>,
    },
    /// An import file is not UTF-8.
    #[error("member list is not valid UTF-8 at byte {offset}; save it as UTF-8")]
    Encoding {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The setting name is not known.
    #[error("unknown setting '{key}'; known settings: {}", super::settings::KEYS.join(", "))]
    UnknownSetting {
        /// The name as given.
        key: String,
    },
    /// The setting value is not a whole number of at least 1.
    #[error("invalid value '{value}' for {key}; expected a whole number of at least 1")]
    InvalidSetting {
        /// The setting.
        key: String,
        /// The value as given.
        value: String,
    },
    /// No role group of the actor allows the operation, so nothing was changed.
    #[error(
        "permission denied: {actor} may not {operation}; role groups that allow it: {}; ask an \
         Organization Management member to assign one with `tagq role assign`",
        allowed.iter().map(|g| g.name()).collect::<Vec<_>>().join(", ")
    )]
    PermissionDenied {
        /// The acting identity.
        actor: String,
        /// The denied operation, such as "create, edit or delete tags".
        operation: &'static str,
        /// The role groups that allow the operation.
        allowed: Vec<super::roles::RoleGroup>,
    },
    /// The role group name is not known.
    #[error(
        "unknown role group '{name}'; known groups: Organization Management, Security \
         Administrator, Security Operator, Global Reader, Security Reader"
    )]
    UnknownRoleGroup {
        /// The name as given.
        name: String,
    },
    /// The actor identity is neither a mail address nor `local:NAME`.
    #[error("invalid actor '{actor}'; expected a mail address or local:NAME")]
    InvalidActor {
        /// The identity as given.
        actor: String,
    },
    /// The owner's Organization Management was to be removed.
    #[error("{owner} owns the store and always holds Organization Management")]
    OwnerRole {
        /// The store's owner.
        owner: String,
    },
    /// The role group to remove is not assigned to the actor.
    #[error("{actor} does not hold {group}; see `tagq role list`")]
    NoAssignment {
        /// The actor, normalised.
        actor: String,
        /// The role group, or "any role group".
        group: &'static str,
    },
}
