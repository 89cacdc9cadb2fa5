//! Cron expressions as PocketBase reads them: five space-separated fields (minute, hour, day of
//! month, month, day of week) of numbers, `*`, ranges, lists and steps, or one of its macros;
//! a time is due when every field matches (day of month *and* day of week), in UTC.
//! Parsing and matching are croner's; this module keeps to PocketBase's grammar.

use chrono::NaiveDateTime;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// PocketBase's macros.
const MACROS: &[(&str, &str)] = &[
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Each field's smallest and largest value.
const BOUNDS: [(i64, i64); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)];

/// Go's `strconv.Atoi`, with its error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

/// PocketBase's grammar of one field (lists of `*`, `n`, `a-b`, each with an optional `/step`
/// after `*` or a range), with its error messages.
fn check_segment(segment: &str, min: i64, max: i64) -> Result<(), String> {
    for part in segment.split(',') {
        let steps: Vec<&str> = part.split('/').collect();
        let step = match steps.as_slice() {
            [_] => 1,
            [_, step] => {
                let step = atoi(step)?;
                if step < 1 || step > max {
                    return Err(format!(
                        "invalid segment step boundary - the step must be between 1 and the {max}"
                    ));
                }
                step
            }
            _ => {
                return Err(
                    "invalid segment step format - must be in the format */n or 1-30/n".into(),
                )
            }
        };
        if steps[0] == "*" {
            continue;
        }
        match steps[0].split('-').collect::<Vec<_>>().as_slice() {
            [one] => {
                if step != 1 {
                    return Err("invalid segment step - step > 1 could be used only with the wildcard or range format".into());
                }
                let v = atoi(one)?;
                if v < min || v > max {
                    return Err(
                        "invalid segment value - must be between the min and max of the segment"
                            .into(),
                    );
                }
            }
            [from, to] => {
                let from = atoi(from)?;
                if from < min || from > max {
                    return Err(format!(
                        "invalid segment range minimum - must be between {min} and {max}"
                    ));
                }
                let to = atoi(to)?;
                if to < from || to > max {
                    return Err(format!(
                        "invalid segment range maximum - must be between {from} and {max}"
                    ));
                }
            }
            _ => {
                return Err(
                    "invalid segment range format - the range must have 1 or 2 parts".into(),
                )
            }
        }
    }
    Ok(())
}

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Schedule(Cron);

impl Schedule {
    /// Parses `expr`; the error says why it is not one.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = MACROS
            .iter()
            .find(|(m, _)| *m == expr)
            .map_or(expr, |(_, e)| e);
        let fields: Vec<&str> = expr.split(' ').collect();
        if fields.len() != 5 {
            return Err(
                "invalid cron expression - must be a valid macro or to have exactly 5 space separated segments".into(),
            );
        }
        for (f, (min, max)) in fields.iter().zip(BOUNDS) {
            check_segment(f, min, max)?;
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .dom_and_dow(true)
            .build();
        parser.parse(expr).map(Schedule).map_err(|e| e.to_string())
    }

    /// Whether the minute that starts at `ms` (Unix milliseconds, UTC) is due.
    pub fn is_due(&self, ms: i64) -> bool {
        let Some(t) = chrono::DateTime::from_timestamp_millis(ms) else {
            return false;
        };
        let t: NaiveDateTime = t.naive_utc();
        self.0.is_time_matching(&t).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix ms of a UTC date and time.
    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    #[test]
    fn fields_ranges_steps_and_lists() {
        let s = Schedule::parse("*/15 9-17 * * 1-5").unwrap();
        assert!(s.is_due(at(2026, 12, 7, 9, 30))); // a Monday
        assert!(!s.is_due(at(2026, 12, 7, 9, 31)));
        assert!(!s.is_due(at(2026, 12, 6, 9, 30))); // a Sunday
        assert!(!s.is_due(at(2026, 12, 7, 18, 0)));
        let s = Schedule::parse("0 0,12 1 * *").unwrap();
        assert!(s.is_due(at(2026, 1, 1, 12, 0)));
        assert!(!s.is_due(at(2026, 1, 2, 12, 0)));
    }

    #[test]
    fn day_of_month_and_day_of_week_must_both_match() {
        // PocketBase ANDs them (Vixie cron would OR them).
        let s = Schedule::parse("0 0 1 * 1").unwrap();
        assert!(!s.is_due(at(2026, 12, 1, 0, 0))); // the 1st, a Tuesday
        assert!(s.is_due(at(2026, 6, 1, 0, 0))); // the 1st, a Monday
    }

    #[test]
    fn macros() {
        assert!(Schedule::parse("@hourly")
            .unwrap()
            .is_due(at(2026, 3, 3, 7, 0)));
        assert!(!Schedule::parse("@daily")
            .unwrap()
            .is_due(at(2026, 3, 3, 7, 0)));
        assert!(Schedule::parse("@weekly")
            .unwrap()
            .is_due(at(2026, 12, 6, 0, 0)));
    }

    #[test]
    fn what_pocketbase_refuses() {
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "*  * * * *",
            "0 0 * * MON",
            "0 0 L * *",
            "61 * * * *",
            "@reboot",
            "0 0 ? * *",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
