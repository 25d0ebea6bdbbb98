//! Hand-written formatting of the values in generated rows, appended to byte buffers.

/// Appends `value` in decimal.
pub(crate) fn push_int(out: &mut Vec<u8>, value: u64) {
    let mut buffer = itoa::Buffer::new();
    out.extend_from_slice(buffer.format(value).as_bytes());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the low `digits` hex digits of `value`, most significant first.
fn push_hex(out: &mut Vec<u8>, value: u64, digits: u32) {
    for shift in (0..digits).rev() {
        out.push(HEX[((value >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Appends a GUID in the 8-4-4-4-12 form from 128 bits, with the version 4 and RFC 4122
/// variant bits set, so the text looks like the object and message ids of Microsoft 365.
pub(crate) fn push_guid(out: &mut Vec<u8>, high: u64, low: u64) {
    let high = (high & !0xf000) | 0x4000;
    let low = (low & !(0xc << 60)) | (0x8 << 60);
    push_hex(out, high >> 32, 8);
    out.push(b'-');
    push_hex(out, high >> 16, 4);
    out.push(b'-');
    push_hex(out, high, 4);
    out.push(b'-');
    push_hex(out, low >> 48, 4);
    out.push(b'-');
    push_hex(out, low, 12);
}

/// Appends a UTC timestamp with milliseconds, `2026-10-01T08:15:30.069Z`, from milliseconds
/// since the Unix epoch. Times before 1970 are written as 1970-01-01.
pub(crate) fn push_timestamp(out: &mut Vec<u8>, epoch_ms: u64) {
    let days = epoch_ms / 86_400_000;
    let ms_of_day = epoch_ms % 86_400_000;
    let (year, month, day) = civil_from_days(days);
    push_padded(out, year, 4);
    out.push(b'-');
    push_padded(out, month, 2);
    out.push(b'-');
    push_padded(out, day, 2);
    out.push(b'T');
    push_padded(out, ms_of_day / 3_600_000, 2);
    out.push(b':');
    push_padded(out, ms_of_day / 60_000 % 60, 2);
    out.push(b':');
    push_padded(out, ms_of_day / 1_000 % 60, 2);
    out.push(b'.');
    push_padded(out, ms_of_day % 1_000, 3);
    out.push(b'Z');
}

fn push_padded(out: &mut Vec<u8>, value: u64, width: u32) {
    for position in (0..width).rev() {
        out.push(b'0' + (value / 10u64.pow(position) % 10) as u8);
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Appends `text` as a JSON string, with quotes, escaping `"`, `\` and control characters.
pub(crate) fn push_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0..0x20 => {
                out.extend_from_slice(b"\\u00");
                push_hex(out, u64::from(byte), 2);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// Appends `text` as a CSV field, quoted (with doubled quotes) when it contains a comma, a
/// quote or a line break.
pub(crate) fn push_csv_field(out: &mut Vec<u8>, text: &str) {
    if !text.contains([',', '"', '\n', '\r']) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for &byte in text.as_bytes() {
        if byte == b'"' {
            out.push(b'"');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(build: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        build(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamp_matches_known_dates() {
        assert_eq!(text(|o| push_timestamp(o, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(text(|o| push_timestamp(o, 1_790_812_800_000)), "2026-10-01T00:00:00.000Z");
        // 2024-02-29T23:59:59.999Z, a leap day.
        assert_eq!(text(|o| push_timestamp(o, 1_709_251_199_999)), "2024-02-29T23:59:59.999Z");
    }

    #[test]
    fn guid_has_version_and_variant() {
        let guid = text(|o| push_guid(o, u64::MAX, u64::MAX));
        assert_eq!(guid, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let guid = text(|o| push_guid(o, 0, 1));
        assert_eq!(guid, "00000000-0000-4000-8000-000000000001");
    }

    #[test]
    fn json_string_escapes() {
        assert_eq!(text(|o| push_json_str(o, "a\"b\\c\nd\u{1}")), r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn csv_field_quotes_when_needed() {
        assert_eq!(text(|o| push_csv_field(o, "plain")), "plain");
        assert_eq!(text(|o| push_csv_field(o, "Phish,Spam")), "\"Phish,Spam\"");
        assert_eq!(text(|o| push_csv_field(o, r#"{"a":1}"#)), r#""{""a"":1}""#);
    }
}
