//! Civil (proleptic Gregorian, UTC) date arithmetic for the datetime macros, without any
//! dependency. Values are formatted the way PocketBase writes datetimes:
//! `2024-05-01 10:00:00.000Z`. kiln-core formats and parses stored datetimes with these same
//! functions, so macro values and stored values always compare as the same text format.

const MS_PER_DAY: i64 = 86_400_000;

/// The datetime macros of the language, without the leading `@`.
pub(crate) const MACROS: &[&str] = &[
    "now",
    "second",
    "minute",
    "hour",
    "weekday",
    "day",
    "month",
    "year",
    "yesterday",
    "tomorrow",
    "todayStart",
    "todayEnd",
    "monthStart",
    "monthEnd",
    "yearStart",
    "yearEnd",
];

/// A broken-down UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
    /// 0 = Sunday .. 6 = Saturday.
    pub weekday: u32,
}

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (month 1..=12, day 1..=31).
///
/// Works on 400-year cycles ("eras") of 146097 days, counting years from March so that the leap
/// day is the last day of the counted year.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let m = i64::from(month);
    let d = i64::from(day);
    // Years starting in March: January and February belong to the previous year.
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400; // 0..=399
    let month_from_march = (m + 9) % 12; // March = 0 .. February = 11
    let day_of_year = (153 * month_from_march + 2) / 5 + d - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 = days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // 0..=146096
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // 0..=399
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0..=11
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // The casts are exact: month is 1..=12 and day 1..=31 by construction.
    (year, month as u32, day as u32)
}

/// Unix milliseconds in the wire format `YYYY-MM-DD HH:MM:SS.mmmZ`.
pub fn format_unix_ms(ms: i64) -> String {
    Civil::from_unix_ms(ms).format()
}

impl Civil {
    /// Breaks down Unix milliseconds (negative values are before 1970).
    pub(crate) fn from_unix_ms(ms: i64) -> Civil {
        let days = ms.div_euclid(MS_PER_DAY);
        let in_day = ms.rem_euclid(MS_PER_DAY); // 0..86_400_000
        let (year, month, day) = civil_from_days(days);
        let secs = in_day / 1000;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            milli: (in_day % 1000) as u32,
            // 1970-01-01 was a Thursday (4).
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `YYYY-MM-DD HH:MM:SS.mmmZ`. Written digit by digit: every record write and log line
    /// formats a time, and `format!` with padding costs ten times more.
    pub(crate) fn format(&self) -> String {
        if (0..=9999).contains(&self.year) {
            let mut b = *b"0000-00-00 00:00:00.000Z";
            let mut put = |at: usize, width: usize, mut v: u32| {
                for i in (at..at + width).rev() {
                    b[i] = b'0' + (v % 10) as u8;
                    v /= 10;
                }
            };
            put(0, 4, self.year as u32);
            put(5, 2, self.month);
            put(8, 2, self.day);
            put(11, 2, self.hour);
            put(14, 2, self.minute);
            put(17, 2, self.second);
            put(20, 3, self.milli);
            return b.iter().map(|&c| c as char).collect();
        }
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.milli
        )
    }

    fn at(year: i64, month: u32, day: u32, end_of_day: bool) -> Civil {
        let (hour, minute, second, milli) = if end_of_day {
            (23, 59, 59, 999)
        } else {
            (0, 0, 0, 0)
        };
        let weekday = (days_from_civil(year, month, day) + 4).rem_euclid(7) as u32;
        Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            milli,
            weekday,
        }
    }
}

/// The value of a datetime macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MacroValue {
    Text(String),
    Int(i64),
}

/// Computes macro `name` (without `@`) at `now_ms`; `None` for an unknown macro.
pub(crate) fn macro_value(name: &str, now_ms: i64) -> Option<MacroValue> {
    let now = Civil::from_unix_ms(now_ms);
    let text = |c: Civil| Some(MacroValue::Text(c.format()));
    match name {
        "now" => text(now),
        "yesterday" => text(Civil::from_unix_ms(now_ms.saturating_sub(MS_PER_DAY))),
        "tomorrow" => text(Civil::from_unix_ms(now_ms.saturating_add(MS_PER_DAY))),
        "second" => Some(MacroValue::Int(now.second.into())),
        "minute" => Some(MacroValue::Int(now.minute.into())),
        "hour" => Some(MacroValue::Int(now.hour.into())),
        "weekday" => Some(MacroValue::Int(now.weekday.into())),
        "day" => Some(MacroValue::Int(now.day.into())),
        "month" => Some(MacroValue::Int(now.month.into())),
        "year" => Some(MacroValue::Int(now.year)),
        "todayStart" => text(Civil::at(now.year, now.month, now.day, false)),
        "todayEnd" => text(Civil::at(now.year, now.month, now.day, true)),
        "monthStart" => text(Civil::at(now.year, now.month, 1, false)),
        "monthEnd" => text(Civil::at(
            now.year,
            now.month,
            days_in_month(now.year, now.month),
            true,
        )),
        "yearStart" => text(Civil::at(now.year, 1, 1, false)),
        "yearEnd" => text(Civil::at(now.year, 12, 31, true)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-05-01 10:00:00.000Z (a Wednesday).
    const T: i64 = 1_714_557_600_000;

    fn t(name: &str, now: i64) -> String {
        match macro_value(name, now) {
            Some(MacroValue::Text(s)) => s,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn i(name: &str, now: i64) -> i64 {
        match macro_value(name, now) {
            Some(MacroValue::Int(v)) => v,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(Civil::from_unix_ms(0).format(), "1970-01-01 00:00:00.000Z");
        assert_eq!(Civil::from_unix_ms(0).weekday, 4);
        assert_eq!(Civil::from_unix_ms(T).format(), "2024-05-01 10:00:00.000Z");
        assert_eq!(Civil::from_unix_ms(-1).format(), "1969-12-31 23:59:59.999Z");
        assert_eq!(
            Civil::from_unix_ms(951_782_400_000).format(),
            "2000-02-29 00:00:00.000Z"
        );
        assert_eq!(
            Civil::from_unix_ms(4_107_542_399_999).format(),
            "2100-02-28 23:59:59.999Z"
        );
    }

    #[test]
    fn day_count_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn leap_years() {
        assert!(
            is_leap(2024) && is_leap(2000) && !is_leap(1900) && !is_leap(2100) && !is_leap(2023)
        );
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
    }

    #[test]
    fn all_macros_at_a_fixed_instant() {
        let now = T + 3_723_456; // 11:02:03.456
        assert_eq!(t("now", now), "2024-05-01 11:02:03.456Z");
        assert_eq!(t("yesterday", now), "2024-04-30 11:02:03.456Z");
        assert_eq!(t("tomorrow", now), "2024-05-02 11:02:03.456Z");
        assert_eq!(i("second", now), 3);
        assert_eq!(i("minute", now), 2);
        assert_eq!(i("hour", now), 11);
        assert_eq!(i("weekday", now), 3);
        assert_eq!(i("day", now), 1);
        assert_eq!(i("month", now), 5);
        assert_eq!(i("year", now), 2024);
        assert_eq!(t("todayStart", now), "2024-05-01 00:00:00.000Z");
        assert_eq!(t("todayEnd", now), "2024-05-01 23:59:59.999Z");
        assert_eq!(t("monthStart", now), "2024-05-01 00:00:00.000Z");
        assert_eq!(t("monthEnd", now), "2024-05-31 23:59:59.999Z");
        assert_eq!(t("yearStart", now), "2024-01-01 00:00:00.000Z");
        assert_eq!(t("yearEnd", now), "2024-12-31 23:59:59.999Z");
        assert_eq!(macro_value("nope", now), None);
        for m in MACROS {
            assert!(macro_value(m, now).is_some(), "{m}");
        }
    }

    #[test]
    fn month_ends_and_leap_february() {
        // 2024-02-10 (leap year), 2023-02-10, 1900-02-10, 2000-02-10
        assert_eq!(
            t("monthEnd", days_from_civil(2024, 2, 10) * MS_PER_DAY),
            "2024-02-29 23:59:59.999Z"
        );
        assert_eq!(
            t("monthEnd", days_from_civil(2023, 2, 10) * MS_PER_DAY),
            "2023-02-28 23:59:59.999Z"
        );
        assert_eq!(
            t("monthEnd", days_from_civil(1900, 2, 10) * MS_PER_DAY),
            "1900-02-28 23:59:59.999Z"
        );
        assert_eq!(
            t("monthEnd", days_from_civil(2000, 2, 10) * MS_PER_DAY),
            "2000-02-29 23:59:59.999Z"
        );
        assert_eq!(
            t("monthEnd", days_from_civil(2024, 4, 30) * MS_PER_DAY),
            "2024-04-30 23:59:59.999Z"
        );
        assert_eq!(
            t("monthEnd", days_from_civil(2024, 12, 31) * MS_PER_DAY + 5),
            "2024-12-31 23:59:59.999Z"
        );
        // crossing a year and a leap day
        assert_eq!(
            t("tomorrow", days_from_civil(2024, 12, 31) * MS_PER_DAY),
            "2025-01-01 00:00:00.000Z"
        );
        assert_eq!(
            t("yesterday", days_from_civil(2024, 3, 1) * MS_PER_DAY),
            "2024-02-29 00:00:00.000Z"
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for ms in [i64::MIN, i64::MIN + 1, -1, i64::MAX - 1, i64::MAX] {
            for m in MACROS {
                assert!(macro_value(m, ms).is_some());
            }
        }
    }
}
