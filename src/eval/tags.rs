//! The tags that a record's users carry, for output columns and reports.

use crate::catalog::TagLookup;
use crate::records::Record;
use crate::records::write::UserTags;

/// Lists the tags of each user of the record that carries any, in the record's user order.
/// Users that resolve to no directory user, or carry no tag, are left out.
pub fn user_tags(lookup: &dyn TagLookup, record: &Record) -> Vec<UserTags> {
    let mut result = Vec::new();
    for reference in &record.users {
        let Some(user) = lookup.resolve(reference) else { continue };
        let tags = lookup.tags_of(user);
        if tags.is_empty() {
            continue;
        }
        let address =
            reference.address.clone().or_else(|| reference.object_id.clone()).unwrap_or_default();
        let tags = tags.iter().map(|t| lookup.tag_name(*t).to_string()).collect();
        result.push(UserTags { role: reference.role(), address, tags });
    }
    result
}
