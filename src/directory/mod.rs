//! Users, groups, address resolution and group expansion.
//!
//! A [`Directory`] is a snapshot of the organisation's users and groups. [`load`] reads one
//! from an export and detects the format from the content:
//!
//! - the Log Analytics CSV export of Entra ID users (columns `UserPrincipalName_s`,
//!   `ObjectId_g`, `DisplayName_s`, `Mail_s`, `ProxyAddresses_s` holding a JSON array,
//!   `UserType_s`, `AccountEnabled_b`, `Department_s`; other columns are ignored);
//! - Microsoft Graph user objects, as a JSON array or a `{"value": [...]}` page (`id`,
//!   `userPrincipalName`, `mail`, `proxyAddresses`, `userType`, `accountEnabled`,
//!   `displayName`, `department`, `deletedDateTime`, and the mailbox hints `hasMailbox` or
//!   `mailboxSettings`), and group objects marked `"@odata.type": "#microsoft.graph.group"`
//!   with `id`, `mail`, `displayName` and `members` (ids, or objects with an `id`);
//! - the simple CSV described below.
//!
//! Neither the Entra ID CSV nor Graph objects without a hint say who has a mailbox. For
//! those, members count as mailbox users and guests do not, and the [`LoadReport`] says so
//! once. `OtherMails_s` holds addresses outside the organisation and is not used for matching.
//!
//! # Proxy addresses
//!
//! `SMTP:` marks the primary address and `smtp:` an alias. Entries with other prefixes
//! (`SIP:`, `X500:`, ...) are not mail addresses and are ignored. An entry without a prefix is
//! used as an alias, with a warning naming it. Two `SMTP:` entries on one user are an error.
//!
//! # Simple CSV format
//!
//! A UTF-8 file (a BOM is allowed) with this header and one row per user or group:
//!
//! ```text
//! id,kind,address,display_name,aliases,mailbox,members
//! u1,user,User1@contoso.test,User One,u.one@contoso.test;one@contoso.test,,
//! u2,user,room7@contoso.test,Room 7,,false,
//! g1,group,finance@contoso.test,Finance,,,u1;g2
//! g2,group,,Finance EMEA,,,room7@contoso.test
//! ```
//!
//! - `id`: the object id, unique across users and groups.
//! - `kind`: `user` or `group`.
//! - `address`: a user's primary address, which is also its UPN (required for users); a
//!   group's address (optional).
//! - `aliases`: further addresses of a user, separated by `;`.
//! - `mailbox`: `true` or `false`; empty means `true`.
//! - `members`: a group's members, separated by `;`, each an id or an address of a user or
//!   group in the same file. Groups may contain groups, defined before or after them. An
//!   address that matches nothing is an error; an id that matches nothing is kept with a
//!   warning and counts as no one.
//!
//! Users whose address or alias contains `#EXT#` (the UPN form of invited guests) are guests.
//!
//! # Address resolution
//!
//! [`Directory::resolve_address`] compares addresses by [`address_key`]: trimmed, local part
//! lower-cased in ASCII only (independent of the locale), domain in its ASCII (IDNA) form. An
//! address matches primary addresses, aliases and UPNs. When `user+x@d` is unknown it resolves
//! as `user@d`. There is no dot stripping and no prefix matching.
//!
//! # Groups
//!
//! [`Directory::expand_group`] returns the mailbox users a group contains, through nested
//! groups, each once. Cycles are survived and listed in the [`LoadReport`].

mod address;
mod cycles;
mod error;
mod load;
mod model;

pub use address::{AddressError, address_key, domain_of, plus_base};
pub use error::{DirectoryError, Location};
pub use load::{DirectoryFormat, LoadNotice, LoadReport, load, parse};
pub use model::{Directory, Group, ObjectRef, Purpose, Resolution, User, UserType};

#[cfg(test)]
mod tests;
