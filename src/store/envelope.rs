//! The envelope around every store file: format name, version and checksum.
//!
//! A file is one JSON object:
//! `{"format":"tagq-catalog","version":1,"checksum":"crc32:1a2b3c4d","payload":{...}}`.
//! The checksum is the CRC-32 (IEEE) of the payload serialised as compact JSON with keys in
//! file order, so any change to a value inside the payload is detected.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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
    let payload = serde_json::to_value(payload).map_err(encode_error)?;
    let checksum = checksum(&payload).map_err(encode_error)?;
    let mut envelope = Map::new();
    envelope.insert("format".into(), Value::from(format));
    envelope.insert("version".into(), Value::from(VERSION));
    envelope.insert("checksum".into(), Value::from(checksum.clone()));
    envelope.insert("payload".into(), payload);
    let mut bytes = serde_json::to_vec(&Value::Object(envelope)).map_err(encode_error)?;
    bytes.push(b'\n');
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

    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        damaged(format!(
            "invalid JSON at line {}, column {}, perhaps truncated: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(mut envelope) = value else {
        return Err(damaged("expected a JSON object".into()));
    };

    let found = envelope.get("format").and_then(Value::as_str).unwrap_or("");
    if found != format {
        let found = found.to_string();
        return Err(StoreError::WrongFormat { path: path.to_path_buf(), expected: format, found });
    }

    let version = envelope.get("version").and_then(Value::as_u64);
    match version {
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

    let stored = envelope.get("checksum").and_then(Value::as_str).unwrap_or("").to_string();
    let payload = envelope.remove("payload").ok_or_else(|| damaged("missing payload".into()))?;
    let computed = checksum(&payload).map_err(|e| damaged(e.to_string()))?;
    if stored != computed {
        return Err(damaged(format!(
            "checksum mismatch: stored {stored:?}, computed {computed:?}"
        )));
    }
    serde_json::from_value(payload).map_err(|e| damaged(format!("invalid content: {e}")))
}

fn checksum(payload: &Value) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(payload)?;
    Ok(format!("crc32:{:08x}", crc32fast::hash(&bytes)))
}
