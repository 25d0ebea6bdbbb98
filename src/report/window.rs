//! The time window and time zone of a report.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};

use super::ReportError;
use crate::time::Timestamp;

/// The time window of a report and the zone that its days and times are shown in.
#[derive(Clone, Debug)]
pub struct Window {
    /// First instant included, if bounded.
    pub since: Option<Timestamp>,
    /// First instant excluded, if bounded.
    pub until: Option<Timestamp>,
    /// Zone of day buckets and displayed times.
    pub zone: TimeZone,
    /// The zone's name as shown in report headers (`UTC`, `Europe/Berlin`, `+02:00`).
    pub zone_name: String,
}

impl Window {
    /// Returns the unbounded window in UTC.
    pub fn utc() -> Window {
        Window { since: None, until: None, zone: TimeZone::UTC, zone_name: "UTC".to_string() }
    }

    /// Creates a window from command-line text: a zone name (see [`parse_zone`]) and optional
    /// `since` and `until` bounds (see [`Window::parse_bound`]).
    ///
    /// # Errors
    /// Returns [`ReportError::InvalidTimeZone`] or [`ReportError::InvalidTime`] naming the
    /// rejected value, and [`ReportError::EmptyWindow`] when `until` is not after `since`.
    pub fn parse(
        zone: &str,
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<Window, ReportError> {
        let (zone, zone_name) = parse_zone(zone)?;
        let mut window = Window { since: None, until: None, zone, zone_name };
        window.since = since.map(|text| window.parse_bound("since", text, false)).transpose()?;
        window.until = until.map(|text| window.parse_bound("until", text, true)).transpose()?;
        if let (Some(start), Some(end), Some(since), Some(until)) =
            (window.since, window.until, since, until)
            && end <= start
        {
            let (since, until) = (since.to_string(), until.to_string());
            return Err(ReportError::EmptyWindow { since, until });
        }
        Ok(window)
    }

    /// Parses a window bound. An RFC 3339 time is taken as is, a date-time without offset is
    /// read in the window's zone. A date means the start of that day in the zone, or with
    /// `end_of_day` (for `until`) the start of the next day, so `--until 2024-03-31` includes
    /// all of March 31.
    ///
    /// # Errors
    /// Returns [`ReportError::InvalidTime`] when the text has none of these forms.
    pub fn parse_bound(
        &self,
        bound: &'static str,
        text: &str,
        end_of_day: bool,
    ) -> Result<Timestamp, ReportError> {
        let invalid = || ReportError::InvalidTime { bound, value: text.to_string() };
        let text = text.trim();
        if let Ok(instant) = text.parse::<jiff::Timestamp>() {
            return Ok(Timestamp::from_jiff(instant));
        }
        // jiff's `Date` parser also accepts a date-time and drops the time, so only a bare
        // `YYYY-MM-DD` is read as a date.
        if let Some(mut date) = (text.len() == 10).then(|| text.parse::<Date>().ok()).flatten() {
            if end_of_day {
                date = date.tomorrow().map_err(|_| invalid())?;
            }
            let zoned = date.to_zoned_datetime(self.zone.clone()).map_err(|_| invalid())?;
            return Ok(Timestamp::from_jiff(zoned.timestamp()));
        }
        let civil = text.parse::<DateTime>().map_err(|_| invalid())?;
        let zoned = civil.to_zoned_datetime(self.zone.clone()).map_err(|_| invalid())?;
        Ok(Timestamp::from_jiff(zoned.timestamp()))
    }

    /// Returns whether an instant lies in the window (`since` included, `until` excluded).
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|since| t >= since) && self.until.is_none_or(|until| t < until)
    }

    /// Returns the calendar day (`YYYY-MM-DD`) of an instant in the window's zone.
    pub fn day(&self, t: Timestamp) -> String {
        self.zone.to_datetime(t.to_jiff()).date().to_string()
    }

    /// Returns an instant as RFC 3339 with the zone's offset at that instant
    /// (`2024-03-31T01:30:00+01:00`), with the fraction of a second only when it is not zero.
    pub fn time(&self, t: Timestamp) -> String {
        let instant = t.to_jiff();
        let offset = self.zone.to_offset(instant);
        let civil = offset.to_datetime(instant);
        let text = if civil.subsec_nanosecond() == 0 {
            civil.strftime("%Y-%m-%dT%H:%M:%S").to_string()
        } else {
            civil.strftime("%Y-%m-%dT%H:%M:%S%.f").to_string()
        };
        format!("{text}{}", format_offset(offset))
    }
}

/// Parses a time zone: `UTC` (or `Z`), a fixed offset `+hh:mm`, `-hh:mm` or `+hhmm`, or an IANA
/// zone name. Returns the zone and the name that report headers show. IANA names come from the
/// tz database bundled into the binary when the system has none, so `Europe/Berlin` works on
/// any machine.
///
/// # Errors
/// Returns [`ReportError::InvalidTimeZone`] with the zone and the reason.
pub fn parse_zone(text: &str) -> Result<(TimeZone, String), ReportError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text == "Z" {
        return Ok((TimeZone::UTC, "UTC".to_string()));
    }
    if text.starts_with(['+', '-']) {
        let offset = parse_offset(text).ok_or_else(|| ReportError::InvalidTimeZone {
            zone: text.to_string(),
            reason: "an offset must be +hh:mm or -hh:mm with hours up to 23".to_string(),
        })?;
        return Ok((TimeZone::fixed(offset), format_offset(offset)));
    }
    match TimeZone::get(text) {
        Ok(zone) => {
            let name = zone.iana_name().unwrap_or(text).to_string();
            Ok((zone, name))
        }
        Err(error) => {
            Err(ReportError::InvalidTimeZone { zone: text.to_string(), reason: error.to_string() })
        }
    }
}

fn parse_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, text.get(1..)?),
        b'-' => (-1, text.get(1..)?),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// Formats an offset as `+hh:mm`, writing UTC as `+00:00`.
fn format_offset(offset: Offset) -> String {
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("valid test time")
    }

    #[test]
    fn berlin_days_across_dst_change() {
        let window = Window::parse("Europe/Berlin", None, None).unwrap();
        let before = at("2024-03-30T23:30:00Z");
        let after = at("2024-03-31T00:30:00Z");
        assert_eq!(window.day(before), "2024-03-31");
        assert_eq!(window.day(after), "2024-03-31");
        assert_eq!(window.time(before), "2024-03-31T00:30:00+01:00");
        assert_eq!(window.time(after), "2024-03-31T01:30:00+01:00");
        assert_eq!(window.zone_name, "Europe/Berlin");
    }

    #[test]
    fn reversed_window_rejected() {
        let error = Window::parse("UTC", Some("2024-06-09"), Some("2024-06-01")).err();
        let message = error.map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "empty time window: --until 2024-06-01 is not after --since 2024-06-09; swap them"
        );
        assert!(Window::parse("UTC", Some("2024-06-01"), Some("2024-06-01")).is_ok());
    }

    #[test]
    fn bundled_database_has_named_zones() {
        // jiff falls back to this copy on machines without /usr/share/zoneinfo.
        let zone = jiff::tz::TimeZoneDatabase::bundled().get("Europe/Berlin").unwrap();
        let window = Window { since: None, until: None, zone, zone_name: "Europe/Berlin".into() };
        assert_eq!(window.time(at("2024-03-30T23:30:00Z")), "2024-03-31T00:30:00+01:00");
        assert_eq!(window.time(at("2024-03-31T01:30:00Z")), "2024-03-31T03:30:00+02:00");
    }

    #[test]
    fn utc_days_split_at_midnight() {
        let window = Window::parse("UTC", None, None).unwrap();
        assert_eq!(window.day(at("2024-03-30T23:30:00Z")), "2024-03-30");
        assert_eq!(window.day(at("2024-03-31T00:30:00Z")), "2024-03-31");
        assert_eq!(window.time(at("2024-03-31T00:30:00Z")), "2024-03-31T00:30:00+00:00");
    }

    #[test]
    fn berlin_summer_offset_after_change() {
        let window = Window::parse("Europe/Berlin", None, None).unwrap();
        assert_eq!(window.time(at("2024-03-31T01:30:00Z")), "2024-03-31T03:30:00+02:00");
    }

    #[test]
    fn fixed_offset_zone() {
        let window = Window::parse("-05:30", None, None).unwrap();
        assert_eq!(window.zone_name, "-05:30");
        assert_eq!(window.time(at("2024-01-01T03:00:00Z")), "2023-12-31T21:30:00-05:30");
        assert_eq!(window.day(at("2024-01-01T03:00:00Z")), "2023-12-31");
    }

    #[test]
    fn fraction_kept_in_time() {
        let window = Window::utc();
        assert_eq!(window.time(at("2024-01-01T03:00:00.25Z")), "2024-01-01T03:00:00.25+00:00");
    }

    #[test]
    fn unknown_zone_rejected() {
        let error = Window::parse("Mars/Olympus", None, None).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("Mars/Olympus"), "{message}");
        assert!(message.contains("Europe/Berlin"), "{message}");
    }

    #[test]
    fn bad_offset_rejected() {
        assert!(Window::parse("+25:00", None, None).is_err());
        assert!(Window::parse("+1", None, None).is_err());
    }

    #[test]
    fn date_bounds_cover_whole_days() {
        let window =
            Window::parse("Europe/Berlin", Some("2024-03-31"), Some("2024-03-31")).unwrap();
        assert_eq!(window.since, Some(at("2024-03-30T23:00:00Z")));
        assert_eq!(window.until, Some(at("2024-03-31T22:00:00Z")));
        assert!(window.contains(at("2024-03-30T23:30:00Z")));
        assert!(!window.contains(at("2024-03-30T22:59:59Z")));
        assert!(!window.contains(at("2024-03-31T22:00:00Z")));
    }

    #[test]
    fn local_and_rfc3339_bounds() {
        let window =
            Window::parse("Europe/Berlin", Some("2024-03-31T02:30"), Some("2024-04-01T00:00:00Z"))
                .unwrap();
        // 02:30 does not exist in Berlin on that day, so it is read as 03:30+02:00.
        assert_eq!(window.since, Some(at("2024-03-31T01:30:00Z")));
        assert_eq!(window.until, Some(at("2024-04-01T00:00:00Z")));
    }

    #[test]
    fn bad_bound_rejected() {
        let error = Window::parse("UTC", Some("yesterday"), None).unwrap_err();
        assert!(error.to_string().contains("'yesterday'"), "{error}");
    }
}
