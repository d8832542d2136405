//! ISO-8601 UTC timestamps with one `Z`, as the original app writes them
//! (`2026-11-26T09:47:36.123456Z`). The calendar is chrono's; the parsing
//! is by hand because the original's files hold forms no strict parser
//! takes (`+00:00Z`, no offset at all).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDate, Utc};

/// Now, as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub fn now_iso8601() -> String {
    format_iso8601(SystemTime::now())
}

/// `t` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds, like Python's
/// `isoformat()`); times before 1970 are clamped to the epoch.
pub fn format_iso8601(t: SystemTime) -> String {
    let since_epoch = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    DateTime::<Utc>::from(UNIX_EPOCH + since_epoch)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac]` followed by `Z`, `+00:00`, nothing
/// (taken as UTC) or the original's buggy `+00:00Z`. Other offsets are
/// applied. `None` when it is not such a timestamp.
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits: String = frac[..n]
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        nanos = digits.parse().ok()?;
        rest = &frac[n..];
    }
    let rest = rest.strip_suffix('Z').unwrap_or(rest);
    let offset = match rest {
        "" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Counted from the month's first day, so a day past the month's end
    // (Feb 31) rolls over as it always has instead of being refused.
    let month = NaiveDate::from_ymd_opt(y as i32, mo as u32, 1)?;
    let month_start = month.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    let secs = month_start + (d - 1) * 86_400 + h * 3600 + mi * 60 + se - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_a_known_instant_with_one_z() {
        let t = UNIX_EPOCH + Duration::new(1_795_686_415, 123_456_000);
        assert_eq!(format_iso8601(t), "2026-11-26T09:46:55.123456Z");
        assert_eq!(format_iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        assert_eq!(now_iso8601().matches('Z').count(), 1);
    }

    #[test]
    fn parses_z_offset_and_the_originals_double_suffix() {
        let t = UNIX_EPOCH + Duration::new(1_795_686_415, 123_456_000);
        for s in [
            "2026-11-26T09:46:55.123456Z",
            "2026-11-26T09:46:55.123456+00:00",
            "2026-11-26T09:46:55.123456+00:00Z",
            "2026-11-26T10:46:55.123456+01:00",
            "2026-11-26T09:46:55.123456",
        ] {
            assert_eq!(parse_iso8601(s), Some(t), "{s}");
        }
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(parse_iso8601("2026-13-26T09:46:55Z"), None);
    }

    #[test]
    fn round_trips_across_leap_years() {
        for secs in [0u64, 951_782_400, 1_709_164_800, 4_107_542_400] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_iso8601(&format_iso8601(t)), Some(t));
        }
    }

    #[test]
    fn a_day_past_the_months_end_rolls_over_as_before() {
        assert_eq!(
            parse_iso8601("2026-02-31T00:00:00Z"),
            parse_iso8601("2026-03-03T00:00:00Z")
        );
    }
}
