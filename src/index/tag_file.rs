//! Tag bitmaps and resolved users kept on disk between processes.
//!
//! A `tagq query` process would otherwise resolve every reference key of every segment and
//! union the postings of each tag leaf again. The file `tag-bitmaps.bin` in the index folder
//! stores the directory user of each reference key, per segment file. It also stores the
//! bitmap of each (role, tag selection) leaf with the users that carried a selected tag when
//! the bitmap was built. A stored bitmap is used only when the directory fingerprint and that
//! set of users equal the current ones, which makes it equal to a freshly built bitmap. When
//! only the set of users changed, the bitmap is updated from the difference.
//!
//! Each bitmap also records the catalog fingerprint under which its users were computed. A
//! process whose catalog has that fingerprint takes the users from the file, so with an
//! unchanged directory and catalog it needs neither to decode the directory nor to expand
//! tag memberships.
//!
//! The file carries the index format version and a CRC-32. A damaged, older or foreign file is
//! ignored and written again by the next query.

use std::collections::HashMap;
use std::path::Path;

use roaring::RoaringBitmap;

use super::codec::{Decoder, Encoder};
use super::error::{IndexError, io_error};
use super::sections::Postings;
use super::segment::{SegmentIndex, role_code, role_from_code};
use crate::catalog::{TagLookup, UserId};
use crate::directory::Directory;
use crate::records::Role;
use crate::store::write_atomic;

/// File name of the stored tag bitmaps inside the index folder.
pub const TAG_FILE: &str = "tag-bitmaps.bin";
// NOTE: "TQTB" files lack the catalog fingerprints; their magic no longer matches, so they are
// ignored and written again.
const MAGIC: &[u8; 4] = b"TQTC";
const NO_USER: u32 = u32::MAX;

/// Identifies a directory snapshot: how reference keys resolve to users depends on nothing
/// else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryKey {
    /// Length and CRC-32 of the directory's JSON form.
    // NOTE: two snapshots of the same length with the same CRC-32 would share stored users,
    // so results could follow the older snapshot. The chance per change is about 2^-32.
    fingerprint: u64,
    /// Number of directory users; user ids are below it.
    users: u32,
    /// False when the directory could not be serialised, so no stored state may be used.
    known: bool,
}

impl DirectoryKey {
    /// Computes the key of a directory snapshot.
    pub fn of(directory: &Directory) -> DirectoryKey {
        let users = u32::try_from(directory.users().len()).unwrap_or(u32::MAX);
        // The JSON form is hashed as it is written, so it is never held in memory.
        let mut json = ChecksumWriter { hasher: crc32fast::Hasher::new(), len: 0 };
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut json);
        let written = serde_json::to_writer(&mut buffered, directory).is_ok();
        if !written || std::io::Write::flush(&mut buffered).is_err() {
            return DirectoryKey { fingerprint: 0, users, known: false };
        }
        drop(buffered);
        let crc = json.hasher.finalize();
        let fingerprint = (json.len << 32) | u64::from(crc);
        DirectoryKey { fingerprint, users, known: true }
    }

    /// Returns the key of a snapshot whose fingerprint (see [`DirectoryKey::of`]) was read
    /// from its stored file, and which has `users` users.
    pub fn from_fingerprint(fingerprint: u64, users: u32) -> DirectoryKey {
        DirectoryKey { fingerprint, users, known: true }
    }

    /// Returns the key of a directory that could not be read, under which nothing is stored.
    pub fn unknown() -> DirectoryKey {
        DirectoryKey { fingerprint: 0, users: 0, known: false }
    }

    /// Returns the number of directory users.
    pub fn users(&self) -> u32 {
        self.users
    }
}

/// A writer that keeps only the length and the CRC-32 of what is written to it.
struct ChecksumWriter {
    hasher: crc32fast::Hasher,
    len: u64,
}

impl std::io::Write for ChecksumWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One stored tag bitmap.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredTag {
    /// Users that carried a selected tag when the bitmap was built.
    pub carriers: RoaringBitmap,
    /// Fingerprint of the catalog that `carriers` were computed from, with the file's
    /// directory snapshot; `None` when unknown.
    pub catalog: Option<u64>,
    /// Records where a user of the role carries a selected tag.
    pub bitmap: RoaringBitmap,
}

/// The stored state of one segment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SegmentTags {
    /// The directory user of each reference key, if resolved.
    pub users: Option<Vec<Option<UserId>>>,
    /// Tag bitmaps by role and the tag selection's cache key.
    pub tags: HashMap<super::plan::TagCacheKey, StoredTag>,
}

/// The contents of the tag bitmap file.
#[derive(Clone, Debug, PartialEq)]
pub struct TagFile {
    /// The directory snapshot the users were resolved with.
    pub directory: DirectoryKey,
    /// State per segment, by the segment's index file name.
    pub segments: HashMap<String, SegmentTags>,
}

impl TagFile {
    /// Returns an empty file for a directory snapshot.
    pub fn new(directory: DirectoryKey) -> TagFile {
        TagFile { directory, segments: HashMap::new() }
    }
}

/// Returns the users that carry a tag of `tags` (any tag for `None`).
pub fn carriers(lookup: &dyn TagLookup, users: u32, tags: &super::plan::TagSet) -> RoaringBitmap {
    if let super::plan::TagSet::Ids(ids) = tags {
        let lists: Option<Vec<&[UserId]>> = ids.iter().map(|t| lookup.carriers_of(*t)).collect();
        if let Some(lists) = lists {
            let mut carriers: RoaringBitmap = lists.into_iter().flatten().copied().collect();
            if users < u32::MAX {
                carriers.remove_range(users..);
            }
            return carriers;
        }
    }
    let mut carriers = RoaringBitmap::new();
    for user in 0..users {
        if super::plan::carries(lookup, &[Some(user)], 0, tags) {
            carriers.insert(user);
        }
    }
    carriers
}

/// Reads the file; `None` when it is missing, damaged, of another version or of another
/// directory snapshot, so that the caller builds everything again.
pub fn load(dir: &Path, directory: DirectoryKey) -> Option<TagFile> {
    if !directory.known {
        return None;
    }
    load_fingerprint(dir, directory.fingerprint).filter(|file| file.directory == directory)
}

/// Reads the file like [`load`] for a directory snapshot known by its fingerprint alone.
pub fn load_fingerprint(dir: &Path, fingerprint: u64) -> Option<TagFile> {
    let bytes = std::fs::read(dir.join(TAG_FILE)).ok()?;
    let file = decode(&bytes).ok()?;
    (file.directory.fingerprint == fingerprint).then_some(file)
}

/// Writes the file atomically; nothing for a directory that could not be fingerprinted.
pub fn save(dir: &Path, file: &TagFile) -> Result<(), IndexError> {
    if !file.directory.known {
        return Ok(());
    }
    let path = dir.join(TAG_FILE);
    write_atomic(&path, &encode(file)).map_err(|e| io_error("write", &path, e))
}

/// Encodes the file.
pub fn encode(file: &TagFile) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder.u64(file.directory.fingerprint);
    encoder.u32(file.directory.users);
    let mut names: Vec<&String> = file.segments.keys().collect();
    names.sort();
    encoder.len(names.len());
    for name in names {
        let Some(segment) = file.segments.get(name) else { continue };
        encoder.str(name);
        encode_users(&mut encoder, segment.users.as_deref());
        encoder.len(segment.tags.len());
        for ((role, key), stored) in &segment.tags {
            encoder.u8(role.map_or(u8::MAX, role_code));
            encoder.str(key);
            encoder.bitmap(&stored.carriers);
            match stored.catalog {
                Some(fingerprint) => {
                    encoder.u8(1);
                    encoder.u64(fingerprint);
                }
                None => encoder.u8(0),
            }
            encoder.bitmap(&stored.bitmap);
        }
    }
    encoder.finish(MAGIC)
}

fn encode_users(encoder: &mut Encoder, users: Option<&[Option<UserId>]>) {
    let Some(users) = users else {
        encoder.u8(0);
        return;
    };
    encoder.u8(1);
    encoder.len(users.len());
    for user in users {
        encoder.u32(user.unwrap_or(NO_USER));
    }
}

/// Decodes the file, checking its header and checksum.
pub fn decode(bytes: &[u8]) -> Result<TagFile, super::codec::DecodeError> {
    let mut decoder = Decoder::open(bytes, MAGIC)?;
    let fingerprint = decoder.u64()?;
    let users = decoder.u32()?;
    let mut file = TagFile::new(DirectoryKey { fingerprint, users, known: true });
    for _ in 0..decoder.len(1)? {
        let name = decoder.str()?;
        let mut segment =
            SegmentTags { users: decode_users(&mut decoder, users)?, ..Default::default() };
        for _ in 0..decoder.len(1)? {
            let code = decoder.u8()?;
            let role = match code {
                u8::MAX => None,
                code => Some(
                    role_from_code(code)
                        .ok_or_else(|| decoder.error(format!("unknown role code {code}")))?,
                ),
            };
            let key = decoder.str()?;
            let carriers = decoder.bitmap()?;
            if carriers.max().is_some_and(|max| max >= users) {
                return Err(decoder.error("carrier beyond the directory's users"));
            }
            let catalog = match decoder.u8()? {
                0 => None,
                _ => Some(decoder.u64()?),
            };
            let bitmap = decoder.bitmap()?;
            segment.tags.insert((role, key), StoredTag { carriers, catalog, bitmap });
        }
        file.segments.insert(name, segment);
    }
    Ok(file)
}

fn decode_users(
    decoder: &mut Decoder<'_>,
    users: u32,
) -> Result<Option<Vec<Option<UserId>>>, super::codec::DecodeError> {
    if decoder.u8()? == 0 {
        return Ok(None);
    }
    let count = decoder.len(4)?;
    let mut resolved = Vec::with_capacity(count);
    for _ in 0..count {
        resolved.push(match decoder.u32()? {
            NO_USER => None,
            user if user < users => Some(user),
            user => return Err(decoder.error(format!("user {user} beyond the directory"))),
        });
    }
    Ok(Some(resolved))
}

/// Checks stored state against a segment: the users must cover its reference keys and the
/// bitmaps must name only its records. A mismatch means the file belongs to other files.
pub fn fits(stored: &SegmentTags, index: &SegmentIndex) -> bool {
    fits_counts(stored, index.keys.len(), index.count)
}

/// Checks stored state against a segment of `count` records with `key_count` reference
/// keys, as [`fits`] does.
pub fn fits_counts(stored: &SegmentTags, key_count: usize, count: u32) -> bool {
    let users_fit = stored.users.as_ref().is_none_or(|users| users.len() == key_count);
    let bitmaps_fit = stored.tags.values().all(|t| t.bitmap.max().is_none_or(|max| max < count));
    users_fit && bitmaps_fit
}

/// Updates a stored bitmap of `role` from the users that carried a selected tag then
/// (`old`) to those that carry one now (`new`). Keys whose user gained a tag add their
/// postings, and the records of keys whose user lost it are kept only where another key of
/// the role still carries one.
pub fn update(
    index: &SegmentIndex,
    users: &[Option<UserId>],
    role: Option<Role>,
    old: &RoaringBitmap,
    new: &RoaringBitmap,
    bitmap: &RoaringBitmap,
) -> RoaringBitmap {
    update_postings(&index.postings, users, role, old, new, bitmap)
}

/// Updates a stored bitmap as [`update`] does, from a segment's postings.
pub fn update_postings(
    by_key: &Postings,
    users: &[Option<UserId>],
    role: Option<Role>,
    old: &RoaringBitmap,
    new: &RoaringBitmap,
    bitmap: &RoaringBitmap,
) -> RoaringBitmap {
    let gained_users = new - old;
    let lost_users = old - new;
    let user_of = |key: u32| users.get(key as usize).copied().flatten();
    let mut gained = RoaringBitmap::new();
    let mut lost = RoaringBitmap::new();
    for ((posting_role, key), postings) in by_key {
        if role.is_some_and(|r| r != *posting_role) {
            continue;
        }
        let Some(user) = user_of(*key) else { continue };
        if gained_users.contains(user) {
            gained |= postings;
        } else if lost_users.contains(user) {
            lost |= postings;
        }
    }
    let mut result = bitmap - &lost;
    if !lost.is_empty() {
        for ((posting_role, key), postings) in by_key {
            if role.is_some_and(|r| r != *posting_role) || postings.is_disjoint(&lost) {
                continue;
            }
            if user_of(*key).is_some_and(|user| new.contains(user)) {
                result |= postings & &lost;
            }
        }
    }
    result | gained
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_length_and_crc_of_json() {
        let csv = "id,kind,address,display_name,aliases,mailbox,members\n\
                   00000000-0000-4000-8000-000000000001,user,a@contoso.test,A \"q\",,true,\n";
        let directory =
            crate::directory::parse(csv.as_bytes(), Path::new("directory.csv")).unwrap().0;
        let json = serde_json::to_vec(&directory).unwrap();
        let expected = ((json.len() as u64) << 32) | u64::from(crc32fast::hash(&json));
        let key = DirectoryKey::of(&directory);
        assert!(key.known);
        assert_eq!(key.fingerprint, expected);
        assert_eq!(key.users, 1);
    }
}
