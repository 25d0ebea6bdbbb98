//! The [`TagLookup`] that evaluation uses, built from a directory and a catalog.

use super::lookup::{TagId, TagLookup, UserId};
use super::members::effective_users;
use super::tags::Catalog;
use crate::directory::{Directory, ObjectRef, Purpose, Resolution, domain_of};
use crate::filter::resolved::TagMatch;
use crate::filter::schema::UserField;
use crate::records::UserRef;
use crate::text::fold_name;

/// Effective tags per directory user, computed once from a directory and a catalog.
///
/// User ids are positions in [`Directory::users`]; tag ids are positions in
/// [`Catalog::tags`]. Groups are expanded when the lookup is built, so a later change of
/// either input needs a new lookup.
pub struct Membership<'a> {
    directory: &'a Directory,
    names: TagNames,
    tags_of: Vec<Vec<TagId>>,
    /// Users per tag id, sorted.
    carriers: Vec<Vec<UserId>>,
}

impl<'a> Membership<'a> {
    /// Builds the lookup.
    pub fn new(directory: &'a Directory, catalog: &Catalog) -> Membership<'a> {
        let mut tags_of: Vec<Vec<TagId>> = vec![Vec::new(); directory.users().len()];
        let mut carriers = Vec::with_capacity(catalog.tags().len());
        for (id, tag) in (0..).zip(catalog.tags()) {
            let mut users = Vec::new();
            for user in effective_users(&tag.members, directory) {
                if let Some(tags) = tags_of.get_mut(user) {
                    tags.push(id);
                    users.extend(UserId::try_from(user).ok());
                }
            }
            users.sort_unstable();
            users.dedup();
            carriers.push(users);
        }
        Membership { directory, names: TagNames::new(catalog), tags_of, carriers }
    }

    fn user(&self, user: UserId) -> Option<&'a crate::directory::User> {
        self.directory.user(usize::try_from(user).ok()?)
    }
}

impl TagLookup for Membership<'_> {
    fn resolve(&self, user: &UserRef) -> Option<UserId> {
        let by_id = user.object_id.as_deref().and_then(|id| self.directory.by_object_id(id));
        let object = match by_id {
            Some(object) => object,
            None => {
                match self.directory.resolve_address(user.address.as_deref()?, Purpose::MailData) {
                    Resolution::Found { object, .. } => object,
                    _ => return None,
                }
            }
        };
        match object {
            ObjectRef::User(index) => UserId::try_from(index).ok(),
            ObjectRef::Group(_) => None,
        }
    }

    fn attribute(&self, user: UserId, field: UserField) -> Vec<&str> {
        let Some(user) = self.user(user) else { return Vec::new() };
        match field {
            UserField::Address => {
                let smtp = user.primary_address.iter().chain(&user.aliases).map(String::as_str);
                let mut addresses: Vec<&str> = Vec::new();
                for address in smtp.chain(std::iter::once(user.upn.as_str())) {
                    let seen = addresses.iter().any(|a| a.eq_ignore_ascii_case(address));
                    if !address.is_empty() && !seen {
                        addresses.push(address);
                    }
                }
                addresses
            }
            UserField::Upn => vec![user.upn.as_str()],
            UserField::Name => vec![user.display_name.as_str()],
            UserField::Department if user.department.is_empty() => Vec::new(),
            UserField::Department => vec![user.department.as_str()],
            UserField::Domain => domain_of(user.display_address()).into_iter().collect(),
            UserField::ObjectId => vec![user.object_id.as_str()],
            UserField::UserType => vec![user.user_type.as_str()],
        }
    }

    fn tags_of(&self, user: UserId) -> &[TagId] {
        usize::try_from(user).ok().and_then(|i| self.tags_of.get(i)).map_or(&[], Vec::as_slice)
    }

    fn carriers_of(&self, tag: TagId) -> Option<&[UserId]> {
        usize::try_from(tag).ok().and_then(|i| self.carriers.get(i)).map(Vec::as_slice)
    }

    /// Selects tags by folded name. [`TagMatch::Any`] selects every tag, including tags
    /// without effective users: those are in no user's [`tags_of`](TagLookup::tags_of), so
    /// they match no record either way.
    fn matching_tags(&self, tag: &TagMatch) -> Vec<TagId> {
        self.names.matching(tag)
    }

    fn tag_name(&self, tag: TagId) -> &str {
        self.names.name(tag)
    }
}

/// The names of a catalog's tags by tag id, with their folded forms for matching.
pub(super) struct TagNames {
    names: Vec<String>,
    folded: Vec<String>,
}

impl TagNames {
    /// Collects the names of the catalog's tags in catalog order.
    pub(super) fn new(catalog: &Catalog) -> TagNames {
        let names: Vec<String> = catalog.tags().iter().map(|tag| tag.name.clone()).collect();
        let folded = names.iter().map(|name| fold_name(name)).collect();
        TagNames { names, folded }
    }

    /// Returns the ids of the tags that a tag leaf selects, sorted.
    pub(super) fn matching(&self, tag: &TagMatch) -> Vec<TagId> {
        let ids = (0..).zip(&self.folded);
        match tag {
            TagMatch::Name(name) => {
                let name = fold_name(name);
                ids.filter(|(_, folded)| **folded == name).map(|(id, _)| id).collect()
            }
            // The resolver folds the pattern's literal runs like tag names, and `matches`
            // case-folds both sides again, which leaves folded text unchanged.
            TagMatch::Wild(pattern) => {
                ids.filter(|(_, folded)| pattern.matches(folded)).map(|(id, _)| id).collect()
            }
            TagMatch::Any => ids.map(|(id, _)| id).collect(),
        }
    }

    /// Returns the name of a tag, or `""` for an unknown id.
    pub(super) fn name(&self, tag: TagId) -> &str {
        usize::try_from(tag).ok().and_then(|i| self.names.get(i)).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::ast::{Pattern, PatternPart};

    fn pattern(parts: &[Option<&str>]) -> Pattern {
        let parts = parts
            .iter()
            .map(|p| match p {
                Some(text) => PatternPart::Literal(text.to_string()),
                None => PatternPart::Star,
            })
            .collect();
        Pattern { parts }
    }

    #[test]
    fn wildcard_matches_whole_folded_name() {
        let name = fold_name("Finance EMEA");
        assert!(pattern(&[Some("FIN"), None]).matches(&name));
        assert!(pattern(&[None, Some("emea")]).matches(&name));
        assert!(pattern(&[None, Some("ce e"), None]).matches(&name));
        assert!(pattern(&[Some("fin"), None, Some("emea")]).matches(&name));
        assert!(pattern(&[None]).matches(&name));
        assert!(!pattern(&[Some("finance")]).matches(&name));
        assert!(!pattern(&[Some("emea"), None]).matches(&name));
        assert!(!pattern(&[Some("finance e"), None, Some("a emea")]).matches(&name));
    }
}
