//! The storage clock: timestamps are BIGINT microseconds since the Unix epoch (UTC), dates are
//! `YYYY-MM-DD` text. Conversions to and from protobuf timestamps live here.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::errors::reason;
use crate::errors::{Error, Result};

/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;

/// Now, in seconds since the Unix epoch (token times).
pub fn now_seconds() -> i64 {
    now_micros().div_euclid(1_000_000)
}

/// Now, in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A storage timestamp as a protobuf timestamp.
pub fn to_proto(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap_or(0),
    }
}

/// A storage timestamp where 0 means "never" as an optional protobuf timestamp.
pub fn set_to_proto(micros: i64) -> Option<prost_types::Timestamp> {
    (micros != 0).then(|| to_proto(micros))
}

/// An optional storage timestamp as an optional protobuf timestamp.
pub fn opt_to_proto(micros: Option<i64>) -> Option<prost_types::Timestamp> {
    micros.map(to_proto)
}

/// A protobuf timestamp as storage microseconds, validated.
pub fn from_proto(field: &str, ts: &prost_types::Timestamp) -> Result<i64> {
    if !(0..1_000_000_000).contains(&ts.nanos) || !(-62_135_596_800..=253_402_300_799).contains(&ts.seconds) {
        return Err(Error::invalid(
            field,
            reason::OUT_OF_RANGE,
            "must be a valid timestamp between years 1 and 9999",
        ));
    }
    Ok(ts.seconds * 1_000_000 + i64::from(ts.nanos) / 1000)
}

/// Days since 1970-01-01 to a civil date (proleptic Gregorian).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A civil date to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DD` into (year, month, day), checking the calendar.
pub fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

/// Days in a month of a year.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats a civil date as `YYYY-MM-DD`.
pub fn format_date(y: i64, m: u32, d: u32) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// Formats storage microseconds as RFC 3339 UTC, e.g. `2026-11-22T08:30:00Z`.
pub fn format_rfc3339(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(y, m, d),
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Start of the local day containing `micros`, for a UTC offset, in storage microseconds.
pub fn local_day_start(micros: i64, utc_offset_minutes: i32) -> i64 {
    let offset = i64::from(utc_offset_minutes) * 60_000_000;
    (micros + offset).div_euclid(DAY_MICROS) * DAY_MICROS - offset
}

/// The audit block of a record on the wire: who created and last changed it, and when (a zero
/// time is left unset).
pub fn audit_info(
    created_at: i64,
    created_by: &str,
    updated_at: i64,
    updated_by: &str,
) -> crm_proto::common::AuditInfo {
    crm_proto::common::AuditInfo {
        create_time: set_to_proto(created_at),
        created_by: created_by.to_string(),
        update_time: set_to_proto(updated_at),
        updated_by: updated_by.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_779, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 22), 20_779);
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("2023-1-01"), None);
    }

    #[test]
    fn local_day_start_respects_offset() {
        // 2026-11-22T20:00:00Z is already 2026-11-23 in UTC+8.
        let t = days_from_civil(2026, 11, 22) * DAY_MICROS + 20 * 3_600_000_000;
        let start = local_day_start(t, 480);
        assert_eq!(start, days_from_civil(2026, 11, 23) * DAY_MICROS - 8 * 3_600_000_000);
    }

    #[test]
    fn rfc3339_formats() {
        let t = days_from_civil(2026, 11, 22) * DAY_MICROS + (8 * 3600 + 30 * 60 + 5) * 1_000_000 + 7;
        assert_eq!(format_rfc3339(t), "2026-11-22T08:30:05Z");
    }

    #[test]
    fn timestamps_round_trip() {
        let t = 1_763_800_000_123_456;
        assert_eq!(from_proto("t", &to_proto(t)).unwrap(), t);
        assert_eq!(from_proto("t", &to_proto(-1)).unwrap(), -1);
    }
}
