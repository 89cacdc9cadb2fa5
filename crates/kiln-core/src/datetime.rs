//! Datetimes in PocketBase's wire format `2024-05-01 10:00:00.000Z` (UTC, milliseconds), which is
//! also how they are stored: the format sorts correctly as text on every database.

use std::time::{SystemTime, UNIX_EPOCH};

use kiln_filter::datetime::{days_from_civil, days_in_month};

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The current time in the wire format.
pub fn now_string() -> String {
    format_ms(now_ms())
}

/// Formats Unix milliseconds in the wire format.
pub fn format_ms(ms: i64) -> String {
    kiln_filter::datetime::format_unix_ms(ms)
}

/// Parses the datetime forms clients send — `2024-05-01`, `2024-05-01 10:00:00`,
/// `2024-05-01T10:00:00.123Z`, `2024-05-01 10:00:00+02:00`, a Unix timestamp in seconds — into
/// Unix milliseconds. `None` for anything else.
pub fn parse_ms(input: &str) -> Option<i64> {
    let s = input.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 12 {
        return s.parse::<i64>().ok().map(|secs| secs * 1000);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)? as u32, num(8, 2)? as u32);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let mut i = 10;
    if i < b.len() {
        if b[i] != b' ' && b[i] != b'T' && b[i] != b't' {
            return None;
        }
        i += 1;
        let h = num(i, 2)?;
        if b.get(i + 2) != Some(&b':') {
            return None;
        }
        let mi = num(i + 3, 2)?;
        i += 5;
        let mut sec = 0;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1, 2)?;
            i += 3;
        }
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        ms += (h * 3600 + mi * 60 + sec) * 1000;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
            let frac = &s[start..i.min(start + 3)];
            let mut v: i64 = frac.parse().ok()?;
            for _ in frac.len()..3 {
                v *= 10;
            }
            ms += v;
        }
        match b.get(i) {
            None => {}
            Some(b'Z') | Some(b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = match b.get(i + 3) {
                    Some(b':') => num(i + 4, 2)?,
                    None => 0,
                    _ => num(i + 3, 2)?,
                };
                let off = (oh * 60 + om) * 60_000;
                ms += if sign == b'+' { -off } else { off };
            }
            Some(b' ') if s[i..].trim() == "UTC" || s[i..].trim() == "+0000 UTC" => {}
            _ => return None,
        }
    }
    Some(ms)
}

/// Normalizes any accepted datetime input to the wire format.
pub fn normalize(input: &str) -> Option<String> {
    parse_ms(input).map(format_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(format_ms(0), "1970-01-01 00:00:00.000Z");
        assert_eq!(
            normalize("2024-05-01 10:00:00Z").unwrap(),
            "2024-05-01 10:00:00.000Z"
        );
        assert_eq!(
            normalize("2024-05-01T10:00:00.5Z").unwrap(),
            "2024-05-01 10:00:00.500Z"
        );
        assert_eq!(normalize("2024-05-01").unwrap(), "2024-05-01 00:00:00.000Z");
        assert_eq!(
            normalize("2024-05-01 12:00:00+02:00").unwrap(),
            "2024-05-01 10:00:00.000Z"
        );
        assert_eq!(
            normalize("2024-02-29 00:00").unwrap(),
            "2024-02-29 00:00:00.000Z"
        );
        assert!(normalize("2023-02-29").is_none());
        assert!(normalize("2024-13-01").is_none());
        assert!(normalize("yesterday").is_none());
        assert!(normalize("2024-05-01 10:00:00Zjunk").is_none());
        for ms in [0i64, 951_782_400_000, 1_700_000_000_123, -86_400_000] {
            assert_eq!(parse_ms(&format_ms(ms)), Some(ms));
        }
    }
}
