//! Date values of the filter language: ISO dates and date-times, and date math
//! (`now-7d`, `2024-06-01||+1M/d`).
//!
//! A date-only value, and a value whose math ends in a rounding such as `/d`, is a whole unit
//! (a day, a month, …). A full date-time or unrounded math is an instant. Values without an
//! offset, and every rounding, use the time zone of the query.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{RoundMode, Span, ToSpan, Unit, ZonedDateTime, ZonedDateTimeRound};

use crate::time::Timestamp;

/// A parsed date value: its start and, for a whole unit, the start of the next unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateValue {
    /// The instant, or the start of the unit.
    pub start: Timestamp,
    /// The start of the next unit, for a date-only or rounded value.
    pub unit_end: Option<Timestamp>,
}

/// A calendar unit of date math.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MathUnit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

impl MathUnit {
    fn parse(c: char) -> Option<MathUnit> {
        Some(match c {
            'y' => MathUnit::Year,
            'M' => MathUnit::Month,
            'w' => MathUnit::Week,
            'd' => MathUnit::Day,
            'h' | 'H' => MathUnit::Hour,
            'm' => MathUnit::Minute,
            's' => MathUnit::Second,
            _ => return None,
        })
    }

    fn span(self, n: i64) -> Option<Span> {
        let span = match self {
            MathUnit::Year => Span::new().try_years(n),
            MathUnit::Month => Span::new().try_months(n),
            MathUnit::Week => Span::new().try_weeks(n),
            MathUnit::Day => Span::new().try_days(n),
            MathUnit::Hour => Span::new().try_hours(n),
            MathUnit::Minute => Span::new().try_minutes(n),
            MathUnit::Second => Span::new().try_seconds(n),
        };
        span.ok()
    }
}

/// Parses a date value, in `tz` where it carries no offset. `now` is the instant of `now`.
/// Returns `None` for anything malformed or out of range.
pub(crate) fn parse_date(text: &str, now: Timestamp, tz: &TimeZone) -> Option<DateValue> {
    let text = text.trim();
    let (anchor, math) = if let Some(rest) = text.strip_prefix("now") {
        (now.to_jiff().to_zoned_datetime(tz.clone()), rest)
    } else if let Some((date, rest)) = text.split_once("||") {
        (parse_anchor(date, tz)?.0, rest)
    } else {
        let (zoned, date_only) = parse_anchor(text, tz)?;
        return whole_or_instant(zoned, date_only.then_some(MathUnit::Day));
    };
    let date_only_anchor = text != "now" && !text.starts_with("now") && is_date_only(text);
    apply_math(anchor, math, date_only_anchor)
}

fn is_date_only(text: &str) -> bool {
    text.split("||").next().is_some_and(|d| d.len() == 10)
}

/// Applies `+N<unit>`, `-N<unit>` and `/<unit>` in order.
fn apply_math(mut zoned: ZonedDateTime, math: &str, date_only: bool) -> Option<DateValue> {
    let chars: Vec<char> = math.chars().collect();
    let mut i = 0;
    let mut whole = date_only.then_some(MathUnit::Day);
    while i < chars.len() {
        let op = *chars.get(i)?;
        i += 1;
        match op {
            '+' | '-' => {
                let digits_start = i;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let number: String = chars.get(digits_start..i)?.iter().collect();
                let n: i64 = number.parse().ok()?;
                let unit = MathUnit::parse(*chars.get(i)?)?;
                i += 1;
                let n = if op == '-' { -n } else { n };
                zoned = zoned.checked_add(unit.span(n)?).ok()?;
                if whole.is_some_and(|_| {
                    !matches!(
                        unit,
                        MathUnit::Year | MathUnit::Month | MathUnit::Week | MathUnit::Day
                    )
                }) {
                    whole = None;
                }
            }
            '/' => {
                let unit = MathUnit::parse(*chars.get(i)?)?;
                i += 1;
                zoned = round_down(&zoned, unit)?;
                whole = Some(unit);
            }
            _ => return None,
        }
    }
    whole_or_instant(zoned, whole)
}

fn whole_or_instant(zoned: ZonedDateTime, whole: Option<MathUnit>) -> Option<DateValue> {
    let start = Timestamp::from_jiff(zoned.timestamp());
    let unit_end = match whole {
        Some(unit) => {
            let next = zoned.checked_add(unit.span(1)?).ok()?;
            Some(Timestamp::from_jiff(next.timestamp()))
        }
        None => None,
    };
    Some(DateValue { start, unit_end })
}

/// Returns the start of the unit that contains `zoned`. Weeks start on Monday.
fn round_down(zoned: &ZonedDateTime, unit: MathUnit) -> Option<ZonedDateTime> {
    let truncate = |unit: Unit| {
        zoned.round(ZonedDateTimeRound::new().smallest(unit).mode(RoundMode::Trunc)).ok()
    };
    match unit {
        MathUnit::Year => zoned.first_of_year().ok()?.start_of_day().ok(),
        MathUnit::Month => zoned.first_of_month().ok()?.start_of_day().ok(),
        MathUnit::Week => {
            let back = i64::from(zoned.weekday().to_monday_zero_offset());
            zoned.checked_sub(back.days()).ok()?.start_of_day().ok()
        }
        MathUnit::Day => zoned.start_of_day().ok(),
        MathUnit::Hour => truncate(Unit::Hour),
        MathUnit::Minute => truncate(Unit::Minute),
        MathUnit::Second => truncate(Unit::Second),
    }
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDThh:mm[:ss[.fraction]][Z|±hh:mm]`; returns the instant
/// and whether the value was a date only.
fn parse_anchor(text: &str, tz: &TimeZone) -> Option<(ZonedDateTime, bool)> {
    let b = text.as_bytes();
    let year = number(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (month, day) = (number(b, 5, 2)?, number(b, 8, 2)?);
    if b.len() == 10 {
        let dt = DateTime::new(year as i16, month as i8, day as i8, 0, 0, 0, 0).ok()?;
        return Some((dt.to_zoned_datetime(tz.clone()).ok()?, true));
    }
    if b.get(10) != Some(&b'T') || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (number(b, 11, 2)?, number(b, 14, 2)?);
    let mut i = 16;
    let mut second = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        second = number(b, i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let len = b.get(start..)?.iter().take_while(|c| c.is_ascii_digit()).count();
            if len == 0 || len > 9 {
                return None;
            }
            let digits = number(b, start, len)?;
            nanos = digits * 10i64.pow(9 - len as u32);
            i = start + len;
        }
    }
    let dt = DateTime::new(
        year as i16,
        month as i8,
        day as i8,
        hour as i8,
        minute as i8,
        second as i8,
        nanos as i32,
    )
    .ok()?;
    let zone = match b.get(i..)? {
        [] => tz.clone(),
        [b'Z'] => TimeZone::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (number(b, i + 1, 2)?, number(b, i + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = (h * 3600 + m * 60) as i32;
            let seconds = if *sign == b'-' { -seconds } else { seconds };
            TimeZone::fixed(Offset::from_seconds(seconds).ok()?)
        }
        _ => return None,
    };
    Some((dt.to_zoned_datetime(zone).ok()?, false))
}

fn number(bytes: &[u8], start: usize, len: usize) -> Option<i64> {
    let digits = bytes.get(start..start + len)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::from_jiff(text.parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH))
    }

    fn now() -> Timestamp {
        ts("2024-06-05T10:20:30Z")
    }

    #[test]
    fn date_only_is_a_whole_day() {
        let value = parse_date("2021-06-01", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2021-06-01T00:00:00Z")));
        assert_eq!(value.and_then(|v| v.unit_end), Some(ts("2021-06-02T00:00:00Z")));
    }

    #[test]
    fn date_time_with_offset_is_an_instant() {
        let value = parse_date("2024-06-03T08:30:00+02:00", now(), &TimeZone::UTC);
        assert_eq!(value, Some(DateValue { start: ts("2024-06-03T06:30:00Z"), unit_end: None }));
    }

    #[test]
    fn date_time_fraction_and_zulu() {
        let value = parse_date("2024-06-03T08:30:00.5Z", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-06-03T08:30:00.5Z")));
        let short = parse_date("2024-06-03T08:30", now(), &TimeZone::UTC);
        assert_eq!(short.map(|v| v.start), Some(ts("2024-06-03T08:30:00Z")));
    }

    #[test]
    fn now_minus_day_rounded() {
        let value = parse_date("now-1d/d", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-06-04T00:00:00Z")));
        assert_eq!(value.and_then(|v| v.unit_end), Some(ts("2024-06-05T00:00:00Z")));
    }

    #[test]
    fn now_minus_two_weeks_is_instant() {
        let value = parse_date("now-2w", now(), &TimeZone::UTC);
        assert_eq!(value, Some(DateValue { start: ts("2024-05-22T10:20:30Z"), unit_end: None }));
    }

    #[test]
    fn anchor_math_month_and_minute() {
        let value = parse_date("2024-01-31||+1M", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-02-29T00:00:00Z")));
        let value = parse_date("now+5m/m", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-06-05T10:25:00Z")));
    }

    #[test]
    fn rounding_uses_time_zone() {
        let tz = TimeZone::fixed(Offset::constant(2));
        let value = parse_date("now/d", now(), &tz);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-06-04T22:00:00Z")));
    }

    #[test]
    fn week_rounds_to_monday() {
        let value = parse_date("now/w", now(), &TimeZone::UTC);
        assert_eq!(value.map(|v| v.start), Some(ts("2024-06-03T00:00:00Z")));
    }

    #[test]
    fn malformed_dates_rejected() {
        for text in [
            "2021-13-01",
            "2021-06-01..2021-06-30",
            "now-1x",
            "yesterday",
            "2021-6-1",
            "now-d",
            "2021-06-01T25:00",
        ] {
            assert_eq!(parse_date(text, now(), &TimeZone::UTC), None, "{text}");
        }
    }
}
