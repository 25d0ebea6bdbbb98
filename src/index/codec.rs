//! The binary file format of index files: a checksummed header and a little-endian payload.
//!
//! Every file starts with a 20-byte header: a 4-byte magic that names the file type, the
//! format version (u32), the payload length (u64) and the CRC-32 (IEEE) of the payload (u32),
//! all little-endian. The payload is a sequence of fixed-width integers, length-prefixed
//! UTF-8 strings and length-prefixed bitmaps in the portable roaring format, which
//! `RoaringBitmap::deserialize_from` validates while reading.

use roaring::RoaringBitmap;

/// The newest index file version this build writes and reads. Version 2 moved record
/// identities out of the derived-structures file and split that file into sections. Version 3
/// stores time columns in blocks behind a summary (see [`time_blocks`](super::time_blocks)).
pub const VERSION: u32 = 3;

/// Header size in bytes.
pub const HEADER_LEN: usize = 20;

/// A problem found while decoding: the byte offset in the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// What is wrong there.
    pub reason: String,
    /// The version found, when the file is newer than this build reads.
    pub newer_version: Option<u32>,
}

impl DecodeError {
    fn at(offset: usize, reason: impl Into<String>) -> DecodeError {
        DecodeError { offset: offset as u64, reason: reason.into(), newer_version: None }
    }
}

/// Builds a payload and wraps it in the header.
pub struct Encoder {
    /// The header's place (filled by [`Encoder::finish`]), then the payload.
    payload: Vec<u8>,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder { payload: vec![0; HEADER_LEN] }
    }
}

impl Encoder {
    /// Returns the number of payload bytes written so far.
    pub fn payload_len(&self) -> usize {
        self.payload.len() - HEADER_LEN
    }

    /// Overwrites the u64 at payload offset `position`, which an earlier call wrote.
    pub fn set_u64(&mut self, position: usize, value: u64) {
        let start = HEADER_LEN + position;
        if let Some(place) = self.payload.get_mut(start..start + 8) {
            place.copy_from_slice(&value.to_le_bytes());
        }
    }

    /// Returns the payload bytes from payload offset `start` to `end`.
    pub fn payload_slice(&self, start: usize, end: usize) -> &[u8] {
        self.payload.get(HEADER_LEN + start..HEADER_LEN + end).unwrap_or_default()
    }

    /// Removes the payload written so far, keeping the buffer for reuse.
    pub fn clear_payload(&mut self) {
        self.payload.truncate(HEADER_LEN);
    }

    /// Returns the header that [`Encoder::finish`] writes for a payload of `length` bytes
    /// with CRC-32 `checksum`.
    pub fn header(magic: &[u8; 4], length: u64, checksum: u32) -> [u8; HEADER_LEN] {
        let (version, length, checksum) =
            (VERSION.to_le_bytes(), length.to_le_bytes(), checksum.to_le_bytes());
        let fields = [magic.as_slice(), &version, &length, &checksum];
        let mut header = [0; HEADER_LEN];
        header
            .iter_mut()
            .zip(fields.into_iter().flatten())
            .for_each(|(place, byte)| *place = *byte);
        header
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, value: &[u8]) {
        self.payload.extend_from_slice(value);
    }

    /// Appends a u128.
    pub fn u128(&mut self, value: u128) {
        self.payload.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends an unsigned LEB128 varint.
    pub fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.payload.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.payload.push(value as u8);
    }

    /// Appends one byte.
    pub fn u8(&mut self, value: u8) {
        self.payload.push(value);
    }

    /// Appends a u32.
    pub fn u32(&mut self, value: u32) {
        self.payload.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends a u64.
    pub fn u64(&mut self, value: u64) {
        self.payload.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends an i64.
    pub fn i64(&mut self, value: i64) {
        self.payload.extend_from_slice(&value.to_le_bytes());
    }

    /// Appends a length (which callers keep below 2^32 by construction: segment sizes and
    /// string lengths are checked before encoding).
    pub fn len(&mut self, value: usize) {
        self.u64(value as u64);
    }

    /// Appends a string with its length.
    pub fn str(&mut self, value: &str) {
        self.len(value.len());
        self.payload.extend_from_slice(value.as_bytes());
    }

    /// Appends an optional string: a presence byte, then the string.
    pub fn opt_str(&mut self, value: Option<&str>) {
        match value {
            None => self.u8(0),
            Some(text) => {
                self.u8(1);
                self.str(text);
            }
        }
    }

    /// Appends a bitmap in the portable roaring format, with its length.
    pub fn bitmap(&mut self, bitmap: &RoaringBitmap) {
        self.len(bitmap.serialized_size());
        // Writing into a Vec cannot fail.
        let _ = bitmap.serialize_into(&mut self.payload);
    }

    /// Returns the file bytes: header with `magic`, then the payload. The header is written
    /// into the place reserved for it, so the payload is not copied.
    pub fn finish(self, magic: &[u8; 4]) -> Vec<u8> {
        let mut bytes = self.payload;
        let payload = bytes.get(HEADER_LEN..).unwrap_or_default();
        let header = Encoder::header(magic, payload.len() as u64, crc32fast::hash(payload));
        if let Some(place) = bytes.get_mut(..HEADER_LEN) {
            place.copy_from_slice(&header);
        }
        bytes
    }

    /// Returns the payload without a header, for a section of a sectioned file.
    pub fn into_payload(self) -> Vec<u8> {
        let mut bytes = self.payload;
        bytes.drain(..HEADER_LEN);
        bytes
    }
}

/// Reads a payload after checking the header; every read is bounds-checked.
pub struct Decoder<'a> {
    bytes: &'a [u8],
    position: usize,
    /// File offset of `bytes[0]`, so that errors name offsets in the file.
    base: u64,
    /// Format version from the header.
    version: u32,
}

/// The checked header of a file: its format version and payload.
struct Header {
    version: u32,
    length: u64,
    checksum: u32,
}

impl<'a> Decoder<'a> {
    /// Checks the header of `bytes` (magic, version, length and checksum) and returns a
    /// decoder positioned at the payload.
    pub fn open(bytes: &'a [u8], magic: &[u8; 4]) -> Result<Decoder<'a>, DecodeError> {
        let header = Decoder::header(bytes, magic)?;
        let actual = (bytes.len() - HEADER_LEN) as u64;
        if actual != header.length {
            let length = header.length;
            return Err(DecodeError::at(
                bytes.len(),
                format!(
                    "the payload has {actual} bytes, the header says {length}; perhaps truncated"
                ),
            ));
        }
        let payload = bytes.get(HEADER_LEN..).unwrap_or_default();
        Decoder::check_sum(payload, header.checksum, 16)?;
        Ok(Decoder { bytes, position: HEADER_LEN, base: 0, version: header.version })
    }

    /// Checks the header of a sectioned file, whose payload is a table followed by sections
    /// that carry their own checksums. `bytes` contains at least the header and the table, and
    /// `file_len` is the length of the whole file. Returns a decoder over the table.
    pub fn open_table(
        bytes: &'a [u8],
        magic: &[u8; 4],
        file_len: u64,
    ) -> Result<Decoder<'a>, DecodeError> {
        let header = Decoder::header(bytes, magic)?;
        let end = (HEADER_LEN as u64).saturating_add(header.length);
        if end > file_len || end > bytes.len() as u64 {
            let reason = format!("the table of {} bytes exceeds the file", header.length);
            return Err(DecodeError::at(8, reason));
        }
        let table = bytes.get(..end as usize).unwrap_or_default();
        Decoder::check_sum(table.get(HEADER_LEN..).unwrap_or_default(), header.checksum, 16)?;
        Ok(Decoder { bytes: table, position: HEADER_LEN, base: 0, version: header.version })
    }

    /// Checks a section read from file offset `offset` against its checksum and returns a
    /// decoder over it.
    pub fn section(
        bytes: &'a [u8],
        offset: u64,
        checksum: u32,
        version: u32,
    ) -> Result<Decoder<'a>, DecodeError> {
        let computed = crc32fast::hash(bytes);
        if computed != checksum {
            let reason = format!(
                "section checksum mismatch: stored {checksum:08x}, computed {computed:08x}"
            );
            return Err(DecodeError { offset, reason, newer_version: None });
        }
        Ok(Decoder { bytes, position: 0, base: offset, version })
    }

    /// Returns the format version from the file header.
    pub fn version(&self) -> u32 {
        self.version
    }

    fn check_sum(payload: &[u8], checksum: u32, offset: usize) -> Result<(), DecodeError> {
        let computed = crc32fast::hash(payload);
        if computed != checksum {
            return Err(DecodeError::at(
                offset,
                format!("checksum mismatch: stored {checksum:08x}, computed {computed:08x}"),
            ));
        }
        Ok(())
    }

    fn header(bytes: &[u8], magic: &[u8; 4]) -> Result<Header, DecodeError> {
        if bytes.is_empty() {
            return Err(DecodeError::at(0, "the file is empty"));
        }
        if bytes.len() < HEADER_LEN {
            return Err(DecodeError::at(bytes.len(), "the file is truncated inside its header"));
        }
        let mut header = Decoder { bytes, position: 0, base: 0, version: 0 };
        let found = header.take(4)?;
        if found != magic {
            return Err(DecodeError::at(
                0,
                format!("wrong file type {:?}", String::from_utf8_lossy(found)),
            ));
        }
        let version = header.u32()?;
        if version > VERSION {
            let mut error = DecodeError::at(4, format!("format version {version}"));
            error.newer_version = Some(version);
            return Err(error);
        }
        if version == 0 {
            return Err(DecodeError::at(4, "invalid format version 0"));
        }
        let length = header.u64()?;
        let checksum = header.u32()?;
        Ok(Header { version, length, checksum })
    }

    /// Returns an error at the current offset.
    pub fn error(&self, reason: impl Into<String>) -> DecodeError {
        self.error_at(self.position, reason)
    }

    fn error_at(&self, position: usize, reason: impl Into<String>) -> DecodeError {
        let offset = self.base.saturating_add(position as u64);
        DecodeError { offset, reason: reason.into(), newer_version: None }
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.position.checked_add(count).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.error(format!("{count} bytes expected, the file ends first")));
        };
        let slice = self.bytes.get(self.position..end).unwrap_or_default();
        self.position = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let slice = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(slice);
        Ok(array)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// Reads an i64.
    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// Reads a u128.
    pub fn u128(&mut self) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let start = self.position;
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(self.error_at(start, "varint exceeds 64 bits"));
            }
            value |= bits << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(self.error_at(start, "varint longer than 10 bytes"))
    }

    /// Returns the number of bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }

    /// Reads a length and checks that at least `min_item` bytes per item remain, so a
    /// damaged length cannot make a caller allocate without bound.
    pub fn len(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let start = self.position;
        let value = self.u64()?;
        let remaining = (self.bytes.len() - self.position) as u64;
        if value.saturating_mul(min_item.max(1) as u64) > remaining && value > 0 && min_item > 0 {
            return Err(self.error_at(start, format!("length {value} exceeds the file")));
        }
        usize::try_from(value)
            .map_err(|_| self.error_at(start, format!("length {value} too large")))
    }

    /// Reads a string.
    pub fn str(&mut self) -> Result<String, DecodeError> {
        let start = self.position;
        let length = self.len(1)?;
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.error_at(start, "invalid UTF-8 text"))
    }

    /// Reads an optional string.
    pub fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            other => Err(self.error(format!("invalid presence byte {other}"))),
        }
    }

    /// Reads a bitmap, validating the portable roaring format.
    pub fn bitmap(&mut self) -> Result<RoaringBitmap, DecodeError> {
        let start = self.position;
        let length = self.len(1)?;
        let bytes = self.take(length)?;
        let bitmap = RoaringBitmap::deserialize_from(bytes)
            .map_err(|e| self.error_at(start, format!("invalid roaring bitmap: {e}")))?;
        if bitmap.serialized_size() != length {
            return Err(self.error_at(start, "roaring bitmap length mismatch"));
        }
        Ok(bitmap)
    }

    /// Checks that the whole payload was read.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.position == self.bytes.len() {
            Ok(())
        } else {
            Err(self.error("unexpected bytes after the content"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut encoder = Encoder::default();
        encoder.u32(7);
        encoder.str("héllo");
        encoder.opt_str(None);
        encoder.bitmap(&RoaringBitmap::from_iter([1, 5, 70_000]));
        encoder.finish(b"TEST")
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let mut decoder = Decoder::open(&bytes, b"TEST").unwrap();
        assert_eq!(decoder.u32().unwrap(), 7);
        assert_eq!(decoder.str().unwrap(), "héllo");
        assert_eq!(decoder.opt_str().unwrap(), None);
        assert_eq!(decoder.bitmap().unwrap(), RoaringBitmap::from_iter([1, 5, 70_000]));
        assert!(decoder.end().is_ok());
    }

    #[test]
    fn empty_file_rejected() {
        let error = Decoder::open(&[], b"TEST").err().unwrap();
        assert_eq!(error.offset, 0);
        assert!(error.reason.contains("empty"));
    }

    #[test]
    fn every_truncation_rejected() {
        let bytes = sample();
        for length in 0..bytes.len() {
            assert!(Decoder::open(&bytes[..length], b"TEST").is_err(), "length {length}");
        }
    }

    #[test]
    fn every_flipped_byte_rejected() {
        let bytes = sample();
        for position in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[position] ^= 0x20;
            assert!(Decoder::open(&damaged, b"TEST").is_err(), "byte {position}");
        }
    }

    #[test]
    fn newer_version_reported() {
        let mut bytes = sample();
        bytes[4] = 9;
        let error = Decoder::open(&bytes, b"TEST").err().unwrap();
        assert_eq!(error.newer_version, Some(9));
    }

    #[test]
    fn huge_length_rejected_without_allocation() {
        let mut encoder = Encoder::default();
        encoder.u64(u64::MAX);
        let bytes = encoder.finish(b"TEST");
        let mut decoder = Decoder::open(&bytes, b"TEST").unwrap();
        assert!(decoder.str().is_err());
    }

    fn bitmap_file(bitmaps: &[RoaringBitmap]) -> Vec<u8> {
        let mut encoder = Encoder::default();
        for bitmap in bitmaps {
            encoder.bitmap(bitmap);
        }
        encoder.finish(b"TEST")
    }

    fn read_bitmaps(bytes: &[u8], count: usize) -> Result<Vec<RoaringBitmap>, DecodeError> {
        let mut decoder = Decoder::open(bytes, b"TEST")?;
        let bitmaps = (0..count).map(|_| decoder.bitmap()).collect::<Result<Vec<_>, _>>()?;
        decoder.end()?;
        Ok(bitmaps)
    }

    #[test]
    fn empty_bitmaps_back_to_back() {
        let stored = [RoaringBitmap::new(), RoaringBitmap::new(), RoaringBitmap::from_iter([1, 2])];
        let bytes = bitmap_file(&stored);
        // `end` checks that the reader consumed exactly the bytes written for each bitmap.
        assert_eq!(read_bitmaps(&bytes, 3).unwrap(), stored);
    }

    #[test]
    fn container_kinds_round_trip() {
        let even: RoaringBitmap = (0..=8190).step_by(2).collect();
        let dense: RoaringBitmap = (0..=4096).collect();
        let mut runs: RoaringBitmap = (0..1000).chain(2000..3000).collect();
        runs.optimize();
        assert_eq!(even.len(), 4096);
        assert_eq!(dense.len(), 4097);
        let stored = [even, dense, runs];
        assert_eq!(read_bitmaps(&bitmap_file(&stored), 3).unwrap(), stored);
    }

    /// The portable roaring format with run containers (cookie 12347), written byte by byte:
    /// one container with key 0 and the runs 0..1000 and 2000..3000.
    const RUN_CONTAINER_BYTES: [u8; 19] = [
        0x3B, 0x30, 0x00, 0x00, // cookie 12347, container count − 1 = 0
        0x01, // run flags: container 0 is a run container
        0x00, 0x00, 0xCF, 0x07, // key 0, cardinality − 1 = 1999
        0x02, 0x00, // two runs
        0x00, 0x00, 0xE7, 0x03, // start 0, length − 1 = 999
        0xD0, 0x07, 0xE7, 0x03, // start 2000, length − 1 = 999
    ];

    #[test]
    fn run_containers_from_bytes() {
        let mut encoder = Encoder::default();
        encoder.len(RUN_CONTAINER_BYTES.len());
        encoder.payload.extend_from_slice(&RUN_CONTAINER_BYTES);
        let bytes = encoder.finish(b"TEST");
        let expected: RoaringBitmap = (0..1000).chain(2000..3000).collect();
        assert_eq!(read_bitmaps(&bytes, 1).unwrap(), [expected]);
    }

    /// Builds a file whose checksum is valid but whose bitmap bytes are `damage`d, so that
    /// the roaring validation itself must reject them.
    fn damaged_bitmap_file(damage: fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut raw = Vec::new();
        RoaringBitmap::from_iter([1, 2]).serialize_into(&mut raw).unwrap();
        damage(&mut raw);
        let mut encoder = Encoder::default();
        encoder.len(raw.len());
        encoder.payload.extend_from_slice(&raw);
        encoder.finish(b"TEST")
    }

    #[test]
    fn corrupt_bitmaps_rejected_with_offset() {
        // Cut short by one byte.
        let short = damaged_bitmap_file(|raw| {
            raw.pop();
        });
        // The first container's cardinality raised by 1 (bytes 10..12 of the no-run layout:
        // cookie, container count, key, cardinality − 1).
        let raised = damaged_bitmap_file(|raw| raw[10] += 1);
        for bytes in [short, raised] {
            let error = read_bitmaps(&bytes, 1).unwrap_err();
            assert_eq!(error.offset, HEADER_LEN as u64);
            assert!(error.reason.contains("roaring"), "{}", error.reason);
        }
    }

    #[test]
    fn ids_near_u32_max_round_trip() {
        let stored = [RoaringBitmap::from_iter([0, u32::MAX - 1, u32::MAX])];
        assert_eq!(read_bitmaps(&bitmap_file(&stored), 1).unwrap(), stored);
    }
}
