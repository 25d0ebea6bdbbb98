//! Timestamp parsing for the text forms that exports use.
//!
//! Accepted forms, all case-insensitive:
//! - ISO-8601 / RFC 3339: `2024-06-02`, `2024/06/02`, `2024-06-02T08:15`, `2024-06-02T08:15:30`,
//!   `2024-06-02 08:15:30.069Z`, `2024-06-02T08:15:30.1234567+02:00` (also `+0200`, `+02`).
//! - US-locale text of Log Analytics and portal exports: `6/4/2021, 4:00:37.371 PM`,
//!   `12/31/2023 11:59:59 PM`, `11/4/2020 21:11`, `11/4/2020`.
//! - English month names: `Jun 3, 2024 9:41:07 AM`, `June 3, 2024, 09:41`, `Jun 3 2024`.
//!
//! A value without a zone is UTC, and so is a trailing ` UTC` or ` GMT`. The fraction may have
//! any number of digits (`.069` is 69 ms). Digits past the seventh are truncated, because
//! [`Timestamp`] counts 100-ns ticks.

use crate::time::{TICKS_PER_SECOND, Timestamp};

/// Parses a timestamp in one of the forms listed in the module documentation.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = strip_utc_suffix(text.trim());
    let mut cursor = Cursor { bytes: text.as_bytes(), pos: 0 };
    let parsed = if looks_iso(text) {
        parse_iso(&mut cursor)?
    } else if text.starts_with(|c: char| c.is_ascii_alphabetic()) {
        parse_month_name(&mut cursor)?
    } else {
        parse_us(&mut cursor)?
    };
    if cursor.pos != cursor.bytes.len() {
        return None;
    }
    parsed.to_timestamp()
}

/// The fields of a parsed timestamp before conversion to ticks.
#[derive(Default)]
struct Parts {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    /// Fraction of the second in 100-ns ticks.
    ticks: i64,
    /// Offset east of UTC in seconds.
    offset: i64,
}

impl Parts {
    fn to_timestamp(&self) -> Option<Timestamp> {
        let valid_date = (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month);
        let valid_time = (0..24).contains(&self.hour)
            && (0..60).contains(&self.minute)
            && (0..60).contains(&self.second);
        if !valid_date || !valid_time {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds =
            days * 86_400 + self.hour * 3_600 + self.minute * 60 + self.second - self.offset;
        Some(Timestamp(seconds * TICKS_PER_SECOND + self.ticks))
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_any(&mut self, options: &[u8]) -> bool {
        match self.peek() {
            Some(b) if options.contains(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// Reads between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.pos;
        let mut value = 0i64;
        while self.pos - start < max {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    value = value * 10 + i64::from(b - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos - start >= min).then_some(value)
    }

    /// Reads a fraction of a second of any length, returning 100-ns ticks (truncated).
    fn fraction(&mut self) -> Option<i64> {
        let mut ticks = 0i64;
        let mut count = 0usize;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            if count < 7 {
                ticks = ticks * 10 + i64::from(b - b'0');
            }
            count += 1;
            self.pos += 1;
        }
        if count == 0 {
            return None;
        }
        for _ in count..7 {
            ticks *= 10;
        }
        Some(ticks)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        match self.bytes.get(self.pos..end) {
            Some(slice) if slice.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }
}

fn strip_utc_suffix(text: &str) -> &str {
    for suffix in [" utc", " gmt"] {
        let Some(split) = text.len().checked_sub(suffix.len()) else { continue };
        if let (Some(head), Some(tail)) = (text.get(..split), text.get(split..))
            && tail.eq_ignore_ascii_case(suffix)
        {
            return head.trim_end();
        }
    }
    text
}

/// Returns true for text that starts with a four-digit year and a `-` or `/`.
fn looks_iso(text: &str) -> bool {
    let bytes = text.as_bytes();
    let separator = bytes.get(4).copied();
    bytes.iter().take(4).filter(|b| b.is_ascii_digit()).count() == 4
        && matches!(separator, Some(b'-' | b'/'))
}

fn parse_iso(cursor: &mut Cursor) -> Option<Parts> {
    let mut parts = Parts { year: cursor.digits(4, 4)?, ..Parts::default() };
    let separator = cursor.peek().filter(|b| matches!(b, b'-' | b'/'))?;
    cursor.pos += 1;
    parts.month = cursor.digits(1, 2)?;
    if !cursor.eat(separator) {
        return None;
    }
    parts.day = cursor.digits(1, 2)?;
    if cursor.peek().is_none() {
        return Some(parts);
    }
    if !cursor.eat_any(b"Tt ") {
        return None;
    }
    parse_clock(cursor, &mut parts)?;
    parts.offset = parse_zone(cursor)?;
    Some(parts)
}

/// Reads `h[h]:mm[:ss[.fraction]]`.
fn parse_clock(cursor: &mut Cursor, parts: &mut Parts) -> Option<()> {
    parts.hour = cursor.digits(1, 2)?;
    if !cursor.eat(b':') {
        return None;
    }
    parts.minute = cursor.digits(2, 2)?;
    if cursor.eat(b':') {
        parts.second = cursor.digits(2, 2)?;
        if cursor.eat_any(b".,") {
            parts.ticks = cursor.fraction()?;
        }
    }
    Some(())
}

/// Reads an optional zone (`Z`, `+hh:mm`, `+hhmm`, `+hh`) and returns its offset in seconds.
fn parse_zone(cursor: &mut Cursor) -> Option<i64> {
    if cursor.peek().is_none() || cursor.eat_any(b"Zz") {
        return Some(0);
    }
    let sign = match cursor.peek() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    cursor.pos += 1;
    let hours = cursor.digits(2, 2)?;
    cursor.eat(b':');
    let minutes = if cursor.peek().is_some() { cursor.digits(2, 2)? } else { 0 };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3_600 + minutes * 60))
}

/// Reads `M/D/YYYY[,] [h:mm[:ss[.fraction]] [AM|PM]]`.
fn parse_us(cursor: &mut Cursor) -> Option<Parts> {
    let mut parts = Parts { month: cursor.digits(1, 2)?, ..Parts::default() };
    if !cursor.eat(b'/') {
        return None;
    }
    parts.day = cursor.digits(1, 2)?;
    if !cursor.eat(b'/') {
        return None;
    }
    parts.year = cursor.digits(4, 4)?;

    parse_optional_clock(cursor, &mut parts)?;
    Some(parts)
}

/// Reads `Mon D, YYYY[,] [h:mm[:ss[.fraction]] [AM|PM]]`, with an English month name or its
/// three-letter abbreviation.
fn parse_month_name(cursor: &mut Cursor) -> Option<Parts> {
    let start = cursor.pos;
    while cursor.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        cursor.pos += 1;
    }
    let word = std::str::from_utf8(cursor.bytes.get(start..cursor.pos)?).ok()?;
    let mut parts = Parts { month: month_number(word)?, ..Parts::default() };
    cursor.eat(b'.');
    cursor.skip_spaces();
    parts.day = cursor.digits(1, 2)?;
    cursor.eat(b',');
    cursor.skip_spaces();
    parts.year = cursor.digits(4, 4)?;

    parse_optional_clock(cursor, &mut parts)?;
    Some(parts)
}

/// Returns the number of an English month name or three-letter abbreviation.
fn month_number(word: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let lower = word.to_ascii_lowercase();
    let is_name = |name: &&str| lower == *name || (lower.len() == 3 && name.starts_with(&lower));
    let index = MONTHS.iter().position(is_name)?;
    i64::try_from(index + 1).ok()
}

/// Reads what may follow a date in the US and month-name forms: `[,] [h:mm[:ss[.f]] [AM|PM]]`.
fn parse_optional_clock(cursor: &mut Cursor, parts: &mut Parts) -> Option<()> {
    cursor.eat(b',');
    cursor.skip_spaces();
    if cursor.peek().is_none() {
        return Some(());
    }
    parse_clock(cursor, parts)?;

    cursor.skip_spaces();
    let pm = if cursor.eat_word("PM") {
        true
    } else if cursor.eat_word("AM") {
        false
    } else {
        return Some(());
    };

    if !(1..=12).contains(&parts.hour) {
        return None;
    }
    parts.hour = match (pm, parts.hour) {
        (false, 12) => 0,
        (true, 12) => 12,
        (true, hour) => hour + 12,
        (false, hour) => hour,
    };
    Some(())
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Returns the days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil` algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> String {
        parse_timestamp(text).map(|t| t.to_string()).unwrap_or_else(|| "invalid".to_string())
    }

    #[test]
    fn fractional_seconds_any_length() {
        let cases = [
            ("2024-06-02T08:15:30Z", "2024-06-02T08:15:30Z"),
            ("2024-06-02T08:15:30.5Z", "2024-06-02T08:15:30.5Z"),
            ("2024-06-02T08:15:30.069Z", "2024-06-02T08:15:30.069Z"),
            ("2024-06-02T08:15:30.123456Z", "2024-06-02T08:15:30.123456Z"),
            ("2024-06-02T08:15:30.1234567Z", "2024-06-02T08:15:30.1234567Z"),
            ("2024-06-02T08:15:30.123456789Z", "2024-06-02T08:15:30.1234567Z"),
            ("2024-06-02T08:15:30.1234567+00:00", "2024-06-02T08:15:30.1234567Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(ts(input), expected, "input {input}");
        }
    }

    #[test]
    fn fraction_069_is_69_milliseconds() {
        let whole = parse_timestamp("2024-06-02T08:15:30Z").map(|t| t.0);
        let frac = parse_timestamp("2024-06-02T08:15:30.069Z").map(|t| t.0);
        assert_eq!(frac.zip(whole).map(|(f, w)| f - w), Some(690_000));
    }

    #[test]
    fn seven_digits_equal_with_offset_zero() {
        assert_eq!(
            parse_timestamp("2024-06-02T08:15:30.1234567Z"),
            parse_timestamp("2024-06-02T08:15:30.1234567+00:00")
        );
    }

    #[test]
    fn missing_zone_is_utc() {
        assert_eq!(ts("2020-02-14T19:00:00"), "2020-02-14T19:00:00Z");
        assert_eq!(ts("2020-02-14 19:00:00"), "2020-02-14T19:00:00Z");
        assert_eq!(ts("2020-02-14 19:00:00 UTC"), "2020-02-14T19:00:00Z");
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(ts("2024-06-03T08:30:00+02:00"), "2024-06-03T06:30:00Z");
        assert_eq!(ts("2024-06-03T08:30:00-0130"), "2024-06-03T10:00:00Z");
        assert_eq!(ts("2024-06-03T08:30+02"), "2024-06-03T06:30:00Z");
    }

    #[test]
    fn date_only_is_midnight_utc() {
        assert_eq!(ts("2024-06-03"), "2024-06-03T00:00:00Z");
        assert_eq!(ts("2024/06/03 10:00"), "2024-06-03T10:00:00Z");
        assert_eq!(ts("2024/06-03"), "invalid");
        assert_eq!(ts("6/3/2024"), "2024-06-03T00:00:00Z");
    }

    #[test]
    fn us_locale_forms() {
        assert_eq!(ts("6/4/2021, 4:00:37.371 PM"), "2021-06-04T16:00:37.371Z");
        assert_eq!(ts("12/31/2023 11:59:59 PM"), "2023-12-31T23:59:59Z");
        assert_eq!(ts("11/4/2020 21:11"), "2020-11-04T21:11:00Z");
        assert_eq!(ts("1/1/2024 12:05 AM"), "2024-01-01T00:05:00Z");
        assert_eq!(ts("1/1/2024 12:05 pm"), "2024-01-01T12:05:00Z");
    }

    #[test]
    fn month_name_forms() {
        assert_eq!(ts("Jun 3, 2024 9:41:07 AM"), "2024-06-03T09:41:07Z");
        assert_eq!(ts("June 3, 2024, 21:41"), "2024-06-03T21:41:00Z");
        assert_eq!(ts("sep 30 2024"), "2024-09-30T00:00:00Z");
        assert_eq!(ts("Sept 30 2024"), "invalid");
        assert_eq!(ts("Jux 3, 2024"), "invalid");
    }

    #[test]
    fn invalid_values_rejected() {
        for input in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2023-02-29",
            "2024-06-02T24:00:00Z",
            "2024-06-02T08:15:30.Z",
            "2024-06-02T08:15:30Zjunk",
            "13/1/2024 10:00",
            "1/1/2024 13:00 PM",
            "619",
        ] {
            assert_eq!(parse_timestamp(input), None, "input {input:?}");
        }
    }

    #[test]
    fn leap_day_accepted() {
        assert_eq!(ts("2024-02-29T12:00:00Z"), "2024-02-29T12:00:00Z");
    }

    #[test]
    fn epoch_and_pre_epoch() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z"), Some(Timestamp(-TICKS_PER_SECOND)));
    }
}
