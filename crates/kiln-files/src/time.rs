//! The date formats of object storage: `x-amz-date` (`20130524T000000Z`) out, HTTP dates
//! (`Fri, 24 May 2013 00:00:00 GMT`, for `Last-Modified`) in and out, S3's RFC 3339 listing
//! times in. httpdate and chrono are already in the tree (hyper, the cron parser).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `YYYYMMDDTHHMMSSZ` in UTC, as SigV4 wants it.
pub(crate) fn amz_date(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `Last-Modified` headers. A time before
/// 1970 or after 9999 (a file's modification time can be anything) gives the nearest date that is.
pub fn http_date(t: SystemTime) -> String {
    // httpdate panics outside 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
    let last = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    httpdate::fmt_http_date(t.clamp(UNIX_EPOCH, last))
}

/// Parses an HTTP date (S3 sends IMF-fixdates; the obsolete forms are read too).
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// Parses S3's `LastModified` (RFC 3339, `2026-12-06T10:00:00.000Z`).
pub(crate) fn parse_iso8601(s: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn amz_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        assert_eq!(amz_date(t), "20130524T000000Z");
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
    }

    #[test]
    fn http_dates_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        assert_eq!(http_date(t), "Fri, 24 May 2013 00:00:00 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_276_965);
        assert_eq!(parse_http_date(&http_date(t)), Some(t));
        assert_eq!(parse_http_date("Fri, 24 May 2013 25:00:00 GMT"), None);
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn http_dates_of_times_outside_1970_to_9999_do_not_panic() {
        // fuzz/fuzz_targets/files_time.rs with the input `1970-01-`: seconds past 9999.
        let secs = u64::from_le_bytes(*b"1970-01-");
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(secs)),
            "Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn s3_times_parse() {
        let t = parse_iso8601("2026-12-06T10:00:00.000Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_796_551_200
        );
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(UNIX_EPOCH));
        assert!(parse_iso8601("2026-13-01T00:00:00Z").is_none());
        assert!(parse_iso8601("yesterday").is_none());
    }
}
