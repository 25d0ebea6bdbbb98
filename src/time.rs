//! Instants with 100-nanosecond precision, the resolution of Windows and Defender timestamps.

use std::fmt;

/// Number of 100-ns ticks in one second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// An instant in UTC, stored as 100-nanosecond ticks since 1970-01-01T00:00:00Z.
///
/// Defender, Graph and the Management Activity API write up to 7 fractional digits, so this
/// resolution keeps every exported timestamp exact. Longer fractions are truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Converts a `jiff` timestamp, truncating below 100 ns.
    pub fn from_jiff(ts: jiff::Timestamp) -> Timestamp {
        let nanos = ts.as_nanosecond();
        Timestamp((nanos.div_euclid(100)) as i64)
    }

    /// Converts to a `jiff` timestamp.
    pub fn to_jiff(self) -> jiff::Timestamp {
        let nanos = i128::from(self.0) * 100;
        // The tick range of i64 exceeds jiff's range only for years beyond ±9999, which no
        // parser in this crate produces, so the fallback is never used for parsed values.
        jiff::Timestamp::from_nanosecond(nanos).unwrap_or(jiff::Timestamp::MAX)
    }

    /// Parses an ISO-8601 date-time: `2024-06-02T08:15:30Z`, with an offset, or without a zone
    /// (taken as UTC); `T` or a blank between date and time; 0 to 9 fractional digits.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Some(Timestamp::from_jiff(ts));
        }
        let civil = text.parse::<jiff::civil::DateTime>().ok()?;
        let zoned = civil.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?;
        Some(Timestamp::from_jiff(zoned.timestamp()))
    }

    /// Returns the instant `secs` seconds after the Unix epoch.
    pub fn from_unix_seconds(secs: i64) -> Timestamp {
        Timestamp(secs.saturating_mul(TICKS_PER_SECOND))
    }
}

impl fmt::Display for Timestamp {
    /// Formats as RFC 3339 in UTC with as many fractional digits as needed (0 to 7).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(TICKS_PER_SECOND);
        let frac = self.0.rem_euclid(TICKS_PER_SECOND);
        let whole = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::MAX);
        let text = whole.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        if frac == 0 {
            write!(f, "{text}Z")
        } else {
            let digits = format!("{frac:07}");
            write!(f, "{text}.{}Z", digits.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_trims_fraction() {
        let ts = Timestamp(1_717_316_130 * TICKS_PER_SECOND + 690_000);
        assert_eq!(ts.to_string(), "2024-06-02T08:15:30.069Z");
    }

    #[test]
    fn display_whole_second() {
        assert_eq!(Timestamp::from_unix_seconds(0).to_string(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn parse_with_and_without_zone() {
        let with_zone = Timestamp::parse("2024-06-02T08:15:30.1234567+00:00");
        let with_z = Timestamp::parse("2024-06-02T08:15:30.1234567Z");
        let without = Timestamp::parse("2024-06-02T08:15:30.1234567");
        assert!(with_zone.is_some());
        assert_eq!(with_zone, with_z);
        assert_eq!(with_z, without);
        assert_eq!(Timestamp::parse("not a time"), None);
    }

    #[test]
    fn jiff_round_trip() {
        let ts = Timestamp(17_173_161_301_234_567);
        assert_eq!(Timestamp::from_jiff(ts.to_jiff()), ts);
    }
}
