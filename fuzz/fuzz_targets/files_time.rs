//! Fuzzes kiln-files' date parsers (`src/time.rs`, compiled in from the crate's source file; see
//! Cargo.toml for why): HTTP dates (`Last-Modified` from S3) and RFC 3339 times
//! (ListObjectsV2's `LastModified`), and the HTTP date formatter (`Last-Modified` of served
//! files). No input may panic; a parsed HTTP date formats back to a date that parses to the same
//! time; and any time from the input's first eight bytes formats without panicking, to an HTTP
//! date that parses back to it when the time is in 1970..=9999.
//!
//! Run: `scripts/fuzz 60 files_time`.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../crates/kiln-files/src/time.rs"]
mod time;

use time::{http_date, parse_http_date, parse_iso8601};

/// 10000-01-01T00:00:00Z: HTTP dates have four-digit years.
const YEAR_10000: u64 = 253_402_300_800;

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let s = String::from_utf8_lossy(data);
    if let Some(t) = parse_http_date(&s) {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .expect("HTTP dates are after 1970")
            .as_secs();
        if secs < YEAR_10000 {
            let formatted = http_date(t);
            assert_eq!(
                parse_http_date(&formatted),
                Some(t),
                "{s:?} -> {formatted:?}"
            );
        }
    }
    let _ = parse_iso8601(&s);

    // Any time the first eight bytes name (seconds from 1970, either way; a local file's
    // modification time can be anything): http_date does not panic, and from 1970 to 9999 its
    // date parses back to that time.
    if let Some(head) = data.get(..8) {
        let secs = i64::from_le_bytes(head.try_into().unwrap());
        let t = if secs >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
        };
        if let Some(t) = t {
            let formatted = http_date(t);
            if (0..YEAR_10000 as i64).contains(&secs) {
                assert_eq!(
                    parse_http_date(&formatted),
                    Some(t),
                    "{secs} -> {formatted:?}"
                );
            }
        }
    }
});
