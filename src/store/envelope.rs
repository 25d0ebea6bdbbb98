//! The envelope around every store file: format name, version and checksum.
//!
//! A file is one JSON object:
//! `{"format":"tagq-catalog","version":1,"checksum":"crc32:1a2b3c4d","payload":{...}}`.
//! The checksum is the CRC-32 (IEEE) of the payload's bytes as stored (compact JSON), so any
//! change inside the payload is detected, reformatting included.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::error::StoreError;

/// The newest envelope version this build writes and reads.
pub const VERSION: u64 = 1;

/// Serialises a payload inside an envelope.
pub fn encode<T: Serialize>(format: &str, payload: &T, path: &Path) -> Result<Vec<u8>, StoreError> {
    encode_with_checksum(format, payload, path).map(|(bytes, _)| bytes)
}

/// Serialises a payload inside an envelope and also returns the checksum it carries, such as
/// `crc32:1a2b3c4d`.
pub fn encode_with_checksum<T: Serialize>(
    format: &str,
    payload: &T,
    path: &Path,
) -> Result<(Vec<u8>, String), StoreError> {
    let encode_error = |source| StoreError::Encode { path: path.to_path_buf(), source };
    let payload = serde_json::to_string(payload).map_err(encode_error)?;
    let checksum = checksum(payload.as_bytes());
    let header = serde_json::json!({ "format": format, "version": VERSION, "checksum": checksum });
    let mut bytes = serde_json::to_vec(&header).map_err(encode_error)?;
    // Splice the payload in as the last member, so that it is stored byte for byte as it was
    // checksummed and decoding never rebuilds or re-serialises it.
    bytes.pop();
    bytes.extend_from_slice(b",\"payload\":");
    bytes.extend_from_slice(payload.as_bytes());
    bytes.extend_from_slice(b"}\n");
    Ok((bytes, checksum))
}

/// Returns the checksum an envelope carries, without checking it, or `None` when the bytes
/// are not an envelope.
pub fn stored_checksum(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Header {
        checksum: String,
    }
    serde_json::from_slice::<Header>(bytes).ok().map(|header| header.checksum)
}

/// Returns the fingerprint of an envelope's payload without parsing it: the payload's length
/// in bytes times 2^32 plus its CRC-32. For a file that [`encode`] wrote, these are the length
/// and CRC-32 of the value's compact JSON form.
///
/// Returns `None` unless the bytes have the layout that [`encode`] writes: a header with
/// exactly `format`, `version` and `checksum`, then the payload as the last member. The header
/// must also name `format` and a version this build reads, and the checksum must match.
/// Callers then fall back to [`decode`], which reports what is wrong.
pub fn fingerprint(format: &str, bytes: &[u8]) -> Option<u64> {
    let (crc, payload_start) = header_checksum(format, bytes)?;
    let payload = bytes.get(payload_start..)?.strip_suffix(b"}\n")?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let length = u64::try_from(payload.len()).ok()?;
    Some((length << 32) | u64::from(crc))
}

/// Returns the fingerprint that [`fingerprint`] returns for an intact file, from the file's
/// first bytes `head` and its length alone. The CRC-32 is taken from the header's checksum,
/// so damage inside the payload goes unnoticed until the file is decoded.
pub fn header_fingerprint(format: &str, head: &[u8], file_len: u64) -> Option<u64> {
    let (crc, payload_start) = header_checksum(format, head)?;
    // The payload runs to the closing `}\n` that [`encode`] writes.
    let length = file_len.checked_sub(u64::try_from(payload_start).ok()? + 2)?;
    Some((length << 32) | u64::from(crc))
}

/// Reads the header that [`encode`] writes before the payload, checks its format and version,
/// and returns the CRC-32 of its checksum and the payload's offset.
fn header_checksum(format: &str, bytes: &[u8]) -> Option<(u32, usize)> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Header {
        format: String,
        version: u64,
        checksum: String,
    }
    const PAYLOAD_MEMBER: &[u8] = b",\"payload\":";
    let header_end = memchr::memmem::find(bytes, PAYLOAD_MEMBER)?;
    let mut header_bytes = bytes.get(..header_end)?.to_vec();
    header_bytes.push(b'}');
    let header: Header = serde_json::from_slice(&header_bytes).ok()?;
    let readable = header.format == format && (1..=VERSION).contains(&header.version);
    let hex = header.checksum.strip_prefix("crc32:").filter(|hex| hex.len() == 8)?;
    let crc = u32::from_str_radix(hex, 16).ok()?;
    // A checksum in another spelling would never equal what [`decode`] computes.
    let canonical = checksum_of(crc) == header.checksum;
    (readable && canonical).then_some((crc, header_end + PAYLOAD_MEMBER.len()))
}

/// Checks an envelope and deserialises its payload.
pub fn decode<T: DeserializeOwned>(
    format: &'static str,
    bytes: &[u8],
    path: &Path,
) -> Result<T, StoreError> {
    let damaged = |reason: String| StoreError::Damaged { path: path.to_path_buf(), reason };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(damaged("the file is empty".into()));
    }

    let envelope: Envelope<'_> = serde_json::from_slice(bytes).map_err(|e| {
        damaged(format!(
            "invalid JSON at line {}, column {}, perhaps truncated: {e}",
            e.line(),
            e.column()
        ))
    })?;

    let found = envelope.format.unwrap_or_default();
    if found != format {
        return Err(StoreError::WrongFormat { path: path.to_path_buf(), expected: format, found });
    }

    match envelope.version {
        Some(version) if version > VERSION => {
            return Err(StoreError::NewerVersion {
                path: path.to_path_buf(),
                found: version,
                supported: VERSION,
            });
        }
        Some(1..) => {}
        _ => return Err(damaged("missing or invalid format version".into())),
    }

    let stored = envelope.checksum.unwrap_or_default();
    let payload = envelope.payload.ok_or_else(|| damaged("missing payload".into()))?;
    let computed = checksum(payload.get().as_bytes());
    if stored != computed {
        return Err(damaged(format!(
            "checksum mismatch: stored {stored:?}, computed {computed:?}"
        )));
    }
    serde_json::from_str(payload.get()).map_err(|e| damaged(format!("invalid content: {e}")))
}

/// The envelope as stored; every member is optional so that a missing one gets its own message.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    format: Option<String>,
    version: Option<u64>,
    checksum: Option<String>,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
}

fn checksum(payload: &[u8]) -> String {
    checksum_of(crc32fast::hash(payload))
}

fn checksum_of(crc: u32) -> String {
    format!("crc32:{crc:08x}")
}
