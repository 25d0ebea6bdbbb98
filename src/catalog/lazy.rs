//! A [`TagLookup`] that decodes the directory only when a question needs it.

use std::sync::{Mutex, OnceLock};

use super::lookup::{TagId, TagLookup, UserId};
use super::membership::{Membership, TagNames};
use super::tags::Catalog;
use crate::directory::Directory;
use crate::filter::resolved::TagMatch;
use crate::filter::schema::UserField;
use crate::records::UserRef;

/// The loader of a [`LazyMembership`]'s directory.
type Loader<'a, E> = Box<dyn Fn() -> Result<Directory, E> + Send + Sync + 'a>;

/// A tag lookup that selects tags by name from the catalog alone, and loads the directory
/// and builds a [`Membership`] on the first call that needs users: resolving a reference,
/// a user's attributes or tags, or a tag's carriers.
///
/// A query whose tag bitmaps and resolved users are stored with the index thus never pays
/// for the directory. When loading fails, the lookup behaves as if the directory were empty and
/// keeps the error. Callers must check [`LazyMembership::take_error`] before they use any
/// result that the lookup contributed to.
pub struct LazyMembership<'a, E> {
    catalog: &'a Catalog,
    names: TagNames,
    directory: &'a OnceLock<Directory>,
    load: Loader<'a, E>,
    membership: OnceLock<Membership<'a>>,
    error: Mutex<Option<E>>,
}

impl<'a, E: Send> LazyMembership<'a, E> {
    /// Creates the lookup. `slot` keeps the directory once `load` has returned it, and
    /// `load` runs at most once.
    pub fn new(
        catalog: &'a Catalog,
        slot: &'a OnceLock<Directory>,
        load: impl Fn() -> Result<Directory, E> + Send + Sync + 'a,
    ) -> LazyMembership<'a, E> {
        LazyMembership {
            catalog,
            names: TagNames::new(catalog),
            directory: slot,
            load: Box::new(load),
            membership: OnceLock::new(),
            error: Mutex::new(None),
        }
    }

    /// Returns the directory, loading it first; an empty one when loading failed.
    pub fn directory(&self) -> &'a Directory {
        let slot: &'a OnceLock<Directory> = self.directory;
        slot.get_or_init(|| match (self.load)() {
            Ok(directory) => directory,
            Err(error) => {
                if let Ok(mut kept) = self.error.lock() {
                    *kept = Some(error);
                }
                Directory::default()
            }
        })
    }

    /// Returns the lookup over the directory, building it first.
    pub fn membership(&self) -> &Membership<'a> {
        self.membership.get_or_init(|| Membership::new(self.directory(), self.catalog))
    }

    /// Returns true once the directory has been loaded or its loading has failed.
    pub fn is_loaded(&self) -> bool {
        self.directory.get().is_some()
    }

    /// Returns the error of loading the directory, once.
    pub fn take_error(&self) -> Option<E> {
        self.error.lock().ok().and_then(|mut kept| kept.take())
    }
}

impl<E: Send> TagLookup for LazyMembership<'_, E> {
    fn resolve(&self, user: &UserRef) -> Option<UserId> {
        self.membership().resolve(user)
    }

    fn attribute(&self, user: UserId, field: UserField) -> Vec<&str> {
        self.membership().attribute(user, field)
    }

    fn tags_of(&self, user: UserId) -> &[TagId] {
        self.membership().tags_of(user)
    }

    fn matching_tags(&self, tag: &TagMatch) -> Vec<TagId> {
        self.names.matching(tag)
    }

    fn tag_name(&self, tag: TagId) -> &str {
        self.names.name(tag)
    }

    fn carriers_of(&self, tag: TagId) -> Option<&[UserId]> {
        self.membership().carriers_of(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Role;
    use crate::time::Timestamp;

    const DIRECTORY: &str = "id,kind,address,display_name,aliases,mailbox,members\n\
        u1,user,a@contoso.test,A,,,\n\
        u2,user,b@contoso.test,B,,,\n";

    fn directory() -> Directory {
        let path = std::path::Path::new("directory.csv");
        crate::directory::parse(DIRECTORY.as_bytes(), path).expect("fixture loads").0
    }

    fn catalog(directory: &Directory) -> Catalog {
        let now = Timestamp::from_unix_seconds(1_780_000_000);
        let mut catalog = Catalog::new(now);
        catalog.create("Finance", "", now).expect("tag created");
        catalog.add_members("Finance", &["b@contoso.test"], directory, now).expect("member added");
        catalog
    }

    #[test]
    fn tag_names_need_no_directory() {
        let catalog = catalog(&directory());
        let slot = OnceLock::new();
        let lookup = LazyMembership::new(&catalog, &slot, || Err::<Directory, ()>(()));
        let ids = lookup.matching_tags(&TagMatch::Name("finance".into()));
        assert_eq!(ids.len(), 1);
        assert_eq!(lookup.tag_name(ids[0]), "Finance");
        assert!(!lookup.is_loaded());
        assert_eq!(lookup.take_error(), None);
    }

    #[test]
    fn users_load_directory_once() {
        let loaded = directory();
        let catalog = catalog(&loaded);
        let slot = OnceLock::new();
        let loads = std::sync::atomic::AtomicUsize::new(0);
        let lookup = LazyMembership::new(&catalog, &slot, || {
            loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<Directory, ()>(loaded.clone())
        });
        let user = lookup.resolve(&UserRef::address(Role::Recipient, "b@contoso.test"));
        let finance = lookup.matching_tags(&TagMatch::Name("Finance".into()));
        assert_eq!(user, Some(1));
        assert_eq!(lookup.tags_of(1), finance.as_slice());
        assert_eq!(lookup.carriers_of(finance[0]), Some([1].as_slice()));
        assert!(lookup.is_loaded());
        assert_eq!(loads.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn failed_load_keeps_error() {
        let catalog = catalog(&directory());
        let slot = OnceLock::new();
        let lookup = LazyMembership::new(&catalog, &slot, || Err::<Directory, &str>("damaged"));
        let user = lookup.resolve(&UserRef::address(Role::Recipient, "b@contoso.test"));
        assert_eq!(user, None);
        assert_eq!(lookup.take_error(), Some("damaged"));
        assert_eq!(lookup.take_error(), None);
    }
}
