//! The [`TagLookup`] that evaluation uses, built from a directory and a catalog.

use unicode_normalization::UnicodeNormalization;

use super::lookup::{TagId, TagLookup, UserId};
use super::members::effective_users;
use super::tags::Catalog;
use crate::directory::{Directory, ObjectRef, Purpose, Resolution, domain_of};
use crate::filter::ast::{Pattern, PatternPart};
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
    names: Vec<String>,
    folded: Vec<String>,
    tags_of: Vec<Vec<TagId>>,
}

impl<'a> Membership<'a> {
    /// Builds the lookup.
    pub fn new(directory: &'a Directory, catalog: &Catalog) -> Membership<'a> {
        let mut tags_of: Vec<Vec<TagId>> = vec![Vec::new(); directory.users().len()];
        let mut names = Vec::with_capacity(catalog.tags().len());
        let mut folded = Vec::with_capacity(catalog.tags().len());
        for (id, tag) in (0..).zip(catalog.tags()) {
            names.push(tag.name.clone());
            folded.push(fold_name(&tag.name));
            for user in effective_users(&tag.members, directory) {
                if let Some(tags) = tags_of.get_mut(user) {
                    tags.push(id);
                }
            }
        }
        Membership { directory, names, folded, tags_of }
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

    /// Selects tags by folded name. [`TagMatch::Any`] selects every tag, including tags
    /// without effective users: those are in no user's [`tags_of`](TagLookup::tags_of), so
    /// they match no record either way.
    fn matching_tags(&self, tag: &TagMatch) -> Vec<TagId> {
        let ids = (0..).zip(&self.folded);
        match tag {
            TagMatch::Name(name) => {
                let name = fold_name(name);
                ids.filter(|(_, folded)| **folded == name).map(|(id, _)| id).collect()
            }
            // TODO: use `Pattern::matches` once it is available to this module.
            TagMatch::Wild(pattern) => {
                ids.filter(|(_, folded)| glob_matches(pattern, folded)).map(|(id, _)| id).collect()
            }
            TagMatch::Any => ids.map(|(id, _)| id).collect(),
        }
    }

    fn tag_name(&self, tag: TagId) -> &str {
        usize::try_from(tag).ok().and_then(|i| self.names.get(i)).map_or("", String::as_str)
    }
}

/// Folds a literal run of a pattern like [`fold_name`] but without trimming or collapsing
/// blanks, because a run may begin or end inside a name.
fn fold_literal(text: &str) -> String {
    let nfc: String = text.nfc().collect();
    caseless::default_case_fold_str(&nfc).nfc().collect()
}

/// Matches a whole folded name against a pattern whose literal runs are folded first.
fn glob_matches(pattern: &Pattern, folded: &str) -> bool {
    let parts: Vec<Option<String>> = pattern
        .parts
        .iter()
        .map(|part| match part {
            PatternPart::Literal(text) => Some(fold_literal(text)),
            PatternPart::Star => None,
        })
        .collect();
    let literals: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    let starts_with_star = matches!(parts.first(), Some(None));
    let ends_with_star = matches!(parts.last(), Some(None));
    if !parts.iter().any(Option::is_none) {
        return literals.concat() == folded;
    }
    let mut rest = folded;
    let mut middle: &[&str] = &literals;
    if !starts_with_star {
        let Some((first, others)) = middle.split_first() else { return true };
        let Some(after) = rest.strip_prefix(first) else { return false };
        rest = after;
        middle = others;
    }
    if !ends_with_star {
        let Some((last, others)) = middle.split_last() else { return rest.is_empty() };
        let Some(before) = rest.strip_suffix(last) else { return false };
        rest = before;
        middle = others;
    }
    for literal in middle {
        match rest.find(literal) {
            Some(at) => rest = rest.get(at + literal.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn glob_matches_whole_folded_name() {
        let name = fold_name("Finance EMEA");
        assert!(glob_matches(&pattern(&[Some("FIN"), None]), &name));
        assert!(glob_matches(&pattern(&[None, Some("emea")]), &name));
        assert!(glob_matches(&pattern(&[None, Some("ce e"), None]), &name));
        assert!(glob_matches(&pattern(&[Some("fin"), None, Some("emea")]), &name));
        assert!(glob_matches(&pattern(&[None]), &name));
        assert!(!glob_matches(&pattern(&[Some("finance")]), &name));
        assert!(!glob_matches(&pattern(&[Some("emea"), None]), &name));
        assert!(!glob_matches(&pattern(&[Some("finance e"), None, Some("a emea")]), &name));
    }
}
