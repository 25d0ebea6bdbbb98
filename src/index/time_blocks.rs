//! Time columns stored in blocks, so that a time window reads the column's summary alone, or
//! one block per window bound of a sorted column.
//!
//! A column is stored as two sections:
//!
//! - the heads (`heads:` followed by the data section's name): the time unit, the value count
//!   and the [`TimeSummary`] (flags, min and max). For each block of [`BLOCK_LEN`] values they
//!   store its first value, the byte offset of its data and the CRC-32 of that data;
//! - the data: per block, the varints of the zigzagged differences of its values after the
//!   first, each to the previous value, in the column's unit.
//!
//! The heads take 20 bytes per 1,024 values. A reader that needs one block reads and checks
//! that block alone against its CRC-32 from the heads.

use super::codec::{DecodeError, Decoder, Encoder};
use super::plan::TimeSummary;

/// Values per block. The last block of a column contains the rest.
pub const BLOCK_LEN: u32 = 1024;
/// The largest block length a reader accepts, which bounds the memory one block decode takes.
const MAX_BLOCK_LEN: u64 = 1 << 20;
/// Units of stored time values, in ticks of 100 ns: 1 s, 1 ms and 1 µs.
const TIME_UNITS: [i64; 3] = [10_000_000, 10_000, 10];
/// Bytes of one block head: first value, data offset and CRC-32.
const HEAD_LEN: usize = 20;

const ALL_INSTANTS: u8 = 1;
const SORTED: u8 = 2;
const HAS_RANGE: u8 = 4;

/// The head of one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHead {
    /// The first value of the block, in ticks.
    pub first: i64,
    /// Byte offset of the block's data from the start of the column data.
    pub offset: u64,
    /// CRC-32 (IEEE) of the block's data.
    pub checksum: u32,
}

/// The part of a stored time column that is read without its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnHeads {
    /// Ticks per stored unit.
    unit: i64,
    /// Number of values, one per record.
    pub count: u32,
    /// Range and order of the values.
    pub summary: TimeSummary,
    /// Values per block.
    block_len: u32,
    /// Length of the column data in bytes.
    pub data_len: u64,
    /// One head per block, in id order.
    pub blocks: Vec<BlockHead>,
}

/// A time column encoded as its heads and its data.
pub struct EncodedColumn {
    /// The heads section.
    pub heads: Vec<u8>,
    /// The data.
    pub data: Vec<u8>,
}

/// Encodes a column of `values`, one per record, in the largest unit that divides every value.
pub fn encode_column(values: &[i64]) -> EncodedColumn {
    encode_with_block_len(values, BLOCK_LEN)
}

fn encode_with_block_len(values: &[i64], block_len: u32) -> EncodedColumn {
    let unit =
        TIME_UNITS.into_iter().find(|unit| values.iter().all(|t| t % unit == 0)).unwrap_or(1);
    let summary = TimeSummary::of(values, values.len() as u32);
    let mut data = Encoder::default();
    let mut blocks = Vec::new();
    for block in values.chunks(block_len as usize) {
        let start = data.payload_len();
        let first = block.first().map_or(0, |first| first / unit);
        let mut previous = first;
        for value in block.iter().skip(1) {
            let scaled = value / unit;
            let delta = scaled.wrapping_sub(previous);
            data.varint(((delta << 1) ^ (delta >> 63)) as u64);
            previous = scaled;
        }
        let checksum = crc32fast::hash(data.payload_slice(start, data.payload_len()));
        blocks.push((first, start as u64, checksum));
    }
    let data = data.into_payload();
    let mut heads = Encoder::default();
    heads.varint(unit as u64);
    heads.varint(values.len() as u64);
    let mut flags = 0;
    if summary.all_instants {
        flags |= ALL_INSTANTS;
    }
    if summary.sorted {
        flags |= SORTED;
    }
    if summary.range.is_some() {
        flags |= HAS_RANGE;
    }
    heads.u8(flags);
    let (min, max) = summary.range.unwrap_or_default();
    heads.i64(min);
    heads.i64(max);
    heads.varint(u64::from(block_len));
    heads.varint(data.len() as u64);
    heads.len(blocks.len());
    for (first, offset, checksum) in blocks {
        heads.i64(first);
        heads.u64(offset);
        heads.u32(checksum);
    }
    EncodedColumn { heads: heads.into_payload(), data }
}

/// Decodes the heads of a column that must hold `count` values.
pub fn decode_heads(decoder: &mut Decoder<'_>, count: u32) -> Result<ColumnHeads, DecodeError> {
    let unit = decoder.varint()? as i64;
    if !TIME_UNITS.contains(&unit) && unit != 1 {
        return Err(decoder.error(format!("invalid time unit {unit}")));
    }
    let length = decoder.varint()?;
    if length != u64::from(count) {
        return Err(decoder.error(format!("{length} time values for {count} records")));
    }
    let summary = decode_summary(decoder)?;
    let block_len = decoder.varint()?;
    if block_len == 0 || block_len > MAX_BLOCK_LEN {
        return Err(decoder.error(format!("invalid time block length {block_len}")));
    }
    let block_len = block_len as u32;
    let data_len = decoder.varint()?;
    let block_count = decoder.len(HEAD_LEN)?;
    if block_count != count.div_ceil(block_len) as usize {
        let reason = format!("{block_count} time blocks for {count} values of {block_len}");
        return Err(decoder.error(reason));
    }
    let mut blocks = Vec::with_capacity(block_count);
    for index in 0..block_count {
        let first = decoder.i64()?.checked_mul(unit);
        let first = first.ok_or_else(|| decoder.error("time value out of range"))?;
        let offset = decoder.u64()?;
        let previous_offset = blocks.last().map_or(0, |b: &BlockHead| b.offset);
        if (index == 0 && offset != 0) || offset < previous_offset || offset > data_len {
            return Err(decoder.error(format!("invalid time block offset {offset}")));
        }
        blocks.push(BlockHead { first, offset, checksum: decoder.u32()? });
    }
    Ok(ColumnHeads { unit, count, summary, block_len, data_len, blocks })
}

fn decode_summary(decoder: &mut Decoder<'_>) -> Result<TimeSummary, DecodeError> {
    let flags = decoder.u8()?;
    let (min, max) = (decoder.i64()?, decoder.i64()?);
    let valid = flags <= (ALL_INSTANTS | SORTED | HAS_RANGE)
        && (flags & SORTED == 0 || flags & ALL_INSTANTS != 0)
        && (flags & HAS_RANGE == 0 || min <= max);
    if !valid {
        return Err(decoder.error(format!("invalid time summary flags {flags}")));
    }
    let range = (flags & HAS_RANGE != 0).then_some((min, max));
    let all_instants = flags & ALL_INSTANTS != 0;
    Ok(TimeSummary { range, all_instants, sorted: flags & SORTED != 0 })
}

impl ColumnHeads {
    /// Returns the byte range of block `block` in the column data, or `None` past the end.
    pub fn block_range(&self, block: usize) -> Option<(u64, u64)> {
        let start = self.blocks.get(block)?.offset;
        let end = self.blocks.get(block + 1).map_or(self.data_len, |next| next.offset);
        Some((start, end))
    }

    /// Returns the number of values in block `block`.
    fn block_values(&self, block: usize) -> usize {
        let start = block.saturating_mul(self.block_len as usize);
        (self.count as usize).saturating_sub(start).min(self.block_len as usize)
    }

    /// Decodes block `block` from its data `bytes`, read from file offset `offset`, after
    /// checking them against the block's CRC-32.
    pub fn decode_block(
        &self,
        block: usize,
        bytes: &[u8],
        offset: u64,
    ) -> Result<Vec<i64>, DecodeError> {
        let Some(head) = self.blocks.get(block) else {
            let reason = format!("time block {block} does not exist");
            return Err(DecodeError { offset, reason, newer_version: None });
        };
        let mut decoder = Decoder::section(bytes, offset, head.checksum, 0)?;
        let mut values = Vec::with_capacity(self.block_values(block));
        self.decode_block_values(block, &mut decoder, &mut values)?;
        decoder.end()?;
        Ok(values)
    }

    /// Decodes every value from the whole column data, which `decoder` is positioned at.
    pub fn decode_all(&self, decoder: &mut Decoder<'_>) -> Result<Vec<i64>, DecodeError> {
        let mut values = Vec::with_capacity(self.count as usize);
        let remaining_at_start = decoder.remaining() as u64;
        for block in 0..self.blocks.len() {
            let position = remaining_at_start - decoder.remaining() as u64;
            if self.blocks.get(block).is_some_and(|head| head.offset != position) {
                return Err(decoder.error(format!("time block {block} starts elsewhere")));
            }
            self.decode_block_values(block, decoder, &mut values)?;
        }
        if remaining_at_start - decoder.remaining() as u64 != self.data_len {
            return Err(decoder.error("the time data has another length than its heads say"));
        }
        Ok(values)
    }

    /// Appends the values of block `block` to `values`, reading the differences after its
    /// first value from `decoder`.
    fn decode_block_values(
        &self,
        block: usize,
        decoder: &mut Decoder<'_>,
        values: &mut Vec<i64>,
    ) -> Result<(), DecodeError> {
        let Some(head) = self.blocks.get(block) else { return Ok(()) };
        let length = self.block_values(block);
        let mut previous = head.first / self.unit;
        values.push(head.first);
        for _ in 1..length {
            let zigzag = decoder.varint()?;
            let delta = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
            previous = previous.wrapping_add(delta);
            let value = previous.checked_mul(self.unit);
            values.push(value.ok_or_else(|| decoder.error("time value out of range"))?);
        }
        Ok(())
    }

    /// Returns the number of values below `time` in a sorted column: the binary search over
    /// the block heads picks the one block that `read_block` must decode. The result is
    /// meaningless for an unsorted column.
    pub fn rank<E>(
        &self,
        time: i64,
        read_block: impl FnOnce(usize) -> Result<Vec<i64>, E>,
    ) -> Result<u32, E> {
        let after = self.blocks.partition_point(|head| head.first < time);
        let Some(block) = after.checked_sub(1) else { return Ok(0) };
        let values = read_block(block)?;
        let inside = values.partition_point(|value| *value < time);
        let before = block.saturating_mul(self.block_len as usize).saturating_add(inside);
        Ok(u32::try_from(before).unwrap_or(u32::MAX).min(self.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::segment::{TIME_ABSENT, TIME_COMPLEX};

    fn heads_of(column: &EncodedColumn, count: u32) -> ColumnHeads {
        let checksum = crc32fast::hash(&column.heads);
        let mut decoder = Decoder::section(&column.heads, 0, checksum, 0).unwrap();
        let heads = decode_heads(&mut decoder, count).unwrap();
        decoder.end().unwrap();
        heads
    }

    fn decode(column: &EncodedColumn, heads: &ColumnHeads) -> Vec<i64> {
        let checksum = crc32fast::hash(&column.data);
        let mut decoder = Decoder::section(&column.data, 0, checksum, 0).unwrap();
        let values = heads.decode_all(&mut decoder).unwrap();
        decoder.end().unwrap();
        values
    }

    /// Ranks `time` by reading one block, and returns the rank and the block read.
    fn rank(column: &EncodedColumn, heads: &ColumnHeads, time: i64) -> (u32, Option<usize>) {
        let mut read = None;
        let rank = heads
            .rank(time, |block| {
                read = Some(block);
                let (start, end) = heads.block_range(block).unwrap();
                let bytes = &column.data[start as usize..end as usize];
                heads.decode_block(block, bytes, start)
            })
            .unwrap();
        (rank, read)
    }

    /// Checks every rank of a sorted column against a binary search of the whole column.
    fn check_ranks(values: &[i64], block_len: u32, times: &[i64]) {
        let column = encode_with_block_len(values, block_len);
        let heads = heads_of(&column, values.len() as u32);
        assert_eq!(decode(&column, &heads), values);
        for time in times {
            let expected = values.partition_point(|v| v < time) as u32;
            assert_eq!(rank(&column, &heads, *time).0, expected, "rank of {time}");
        }
    }

    #[test]
    fn empty_column_ranks_zero() {
        let column = encode_column(&[]);
        let heads = heads_of(&column, 0);
        assert!(heads.blocks.is_empty());
        assert_eq!(heads.summary, TimeSummary::of(&[], 0));
        assert_eq!(decode(&column, &heads), Vec::<i64>::new());
        assert_eq!(rank(&column, &heads, 5), (0, None));
    }

    #[test]
    fn one_value_column_ranks() {
        check_ranks(&[50], BLOCK_LEN, &[i64::MIN, 49, 50, 51, i64::MAX]);
        let column = encode_column(&[50]);
        let heads = heads_of(&column, 1);
        assert_eq!(heads.summary.range, Some((50, 50)));
        assert!(heads.summary.sorted);
    }

    #[test]
    fn all_equal_column_ranks() {
        let values = vec![70_000_000; 10];
        check_ranks(&values, 4, &[69_999_999, 70_000_000, 70_000_001]);
    }

    #[test]
    fn window_on_block_boundaries() {
        // Blocks of 4 start at 0, 40, 80 and 120; the last one holds two values.
        let values: Vec<i64> = (0..14).map(|i| i * 10).collect();
        let times: Vec<i64> = (-1..=141).collect();
        check_ranks(&values, 4, &times);
        let column = encode_with_block_len(&values, 4);
        let heads = heads_of(&column, 14);
        assert_eq!(rank(&column, &heads, 40), (4, Some(0)));
        assert_eq!(rank(&column, &heads, 41), (5, Some(1)));
        assert_eq!(rank(&column, &heads, 140), (14, Some(3)));
    }

    #[test]
    fn repeated_values_across_blocks_rank() {
        let values = [1, 2, 2, 2, 2, 2, 2, 2, 2, 3];
        check_ranks(&values, 3, &[0, 1, 2, 3, 4]);
    }

    #[test]
    fn unsorted_column_not_marked_sorted() {
        let values = [30, 10, 20];
        let column = encode_column(&values);
        let heads = heads_of(&column, 3);
        assert!(heads.summary.all_instants);
        assert!(!heads.summary.sorted);
        assert_eq!(heads.summary.range, Some((10, 30)));
        assert_eq!(decode(&column, &heads), values);
    }

    #[test]
    fn markers_and_extremes_round_trip() {
        let values = [TIME_ABSENT, i64::MIN + 1, 0, -5, TIME_COMPLEX, 1_717_200_000_000_001];
        let column = encode_with_block_len(&values, 2);
        let heads = heads_of(&column, values.len() as u32);
        assert_eq!(decode(&column, &heads), values);
        assert!(!heads.summary.all_instants);
    }

    #[test]
    fn sorted_seconds_take_one_byte_each() {
        let values: Vec<i64> =
            (0..10_000).map(|i| 17_172_000_000_000_000 + i * 30_000_000).collect();
        let column = encode_column(&values);
        assert!(column.data.len() < values.len());
        assert!(column.heads.len() < 20 * 10 + 64);
        assert_eq!(decode(&column, &heads_of(&column, 10_000)), values);
    }

    #[test]
    fn damaged_block_rejected() {
        let values: Vec<i64> = (0..10).map(|i| i * 1_000).collect();
        let mut column = encode_with_block_len(&values, 4);
        let heads = heads_of(&column, 10);
        let (start, end) = heads.block_range(1).unwrap();
        column.data[start as usize] ^= 1;
        let bytes = &column.data[start as usize..end as usize];
        assert!(heads.decode_block(1, bytes, start).is_err());
    }

    #[test]
    fn wrong_count_rejected() {
        let column = encode_column(&[1, 2, 3]);
        let checksum = crc32fast::hash(&column.heads);
        let mut decoder = Decoder::section(&column.heads, 0, checksum, 0).unwrap();
        assert!(decode_heads(&mut decoder, 4).is_err());
    }
}
