//! Datetime macros: bound as parameters, computed in UTC from `CompileOptions::now_ms`.

use kiln_filter::{compile_text, CompileOptions, Limits, Param};

use crate::support::{TestDialect, TestResolver};

/// The parameter bound for `@name` at `now_ms`.
fn macro_at(name: &str, now_ms: i64) -> Param {
    let out = compile_text(
        &format!("x = @{name}"),
        Limits::default(),
        &mut TestResolver::default(),
        &TestDialect,
        &CompileOptions { now_ms },
    )
    .unwrap();
    assert_eq!(out.sql, "(t.x = ?1)");
    assert_eq!(out.params.len(), 1);
    out.params[0].clone()
}

fn t(name: &str, now_ms: i64) -> String {
    match macro_at(name, now_ms) {
        Param::Text(s) => s,
        other => panic!("@{name}: {other:?}"),
    }
}

fn i(name: &str, now_ms: i64) -> i64 {
    match macro_at(name, now_ms) {
        Param::Int(v) => v,
        other => panic!("@{name}: {other:?}"),
    }
}

/// 2024-02-15 13:14:15.678Z, a Thursday in a leap year.
const LEAP: i64 = 1_708_002_855_678;
/// 2023-02-28 23:59:59.999Z, a Tuesday.
const NON_LEAP: i64 = 1_677_628_799_999;
/// 1900-02-15 00:00:00.000Z, a Thursday (1900 is not a leap year).
const Y1900: i64 = -2_205_100_800_000;
/// 2024-12-31 23:59:59.999Z, a Tuesday.
const YEAR_LAST_MS: i64 = 1_735_689_599_999;
/// 2024-02-29 00:00:00.000Z.
const LEAP_DAY: i64 = 1_709_164_800_000;

#[test]
fn all_macros_in_a_leap_february() {
    assert_eq!(t("now", LEAP), "2024-02-15 13:14:15.678Z");
    assert_eq!(t("yesterday", LEAP), "2024-02-14 13:14:15.678Z");
    assert_eq!(t("tomorrow", LEAP), "2024-02-16 13:14:15.678Z");
    assert_eq!(i("second", LEAP), 15);
    assert_eq!(i("minute", LEAP), 14);
    assert_eq!(i("hour", LEAP), 13);
    assert_eq!(i("weekday", LEAP), 4);
    assert_eq!(i("day", LEAP), 15);
    assert_eq!(i("month", LEAP), 2);
    assert_eq!(i("year", LEAP), 2024);
    assert_eq!(t("todayStart", LEAP), "2024-02-15 00:00:00.000Z");
    assert_eq!(t("todayEnd", LEAP), "2024-02-15 23:59:59.999Z");
    assert_eq!(t("monthStart", LEAP), "2024-02-01 00:00:00.000Z");
    assert_eq!(t("monthEnd", LEAP), "2024-02-29 23:59:59.999Z");
    assert_eq!(t("yearStart", LEAP), "2024-01-01 00:00:00.000Z");
    assert_eq!(t("yearEnd", LEAP), "2024-12-31 23:59:59.999Z");
}

#[test]
fn non_leap_february_and_day_rollover() {
    assert_eq!(t("monthEnd", NON_LEAP), "2023-02-28 23:59:59.999Z");
    assert_eq!(t("tomorrow", NON_LEAP), "2023-03-01 23:59:59.999Z");
    assert_eq!(t("todayEnd", NON_LEAP), "2023-02-28 23:59:59.999Z");
    assert_eq!(i("weekday", NON_LEAP), 2);
    assert_eq!(t("monthEnd", Y1900), "1900-02-28 23:59:59.999Z");
    assert_eq!(t("now", Y1900), "1900-02-15 00:00:00.000Z");
    assert_eq!(i("weekday", Y1900), 4);
    assert_eq!(t("yesterday", LEAP_DAY), "2024-02-28 00:00:00.000Z");
    assert_eq!(t("tomorrow", LEAP_DAY), "2024-03-01 00:00:00.000Z");
}

#[test]
fn year_end_rollover() {
    assert_eq!(t("now", YEAR_LAST_MS), "2024-12-31 23:59:59.999Z");
    assert_eq!(t("tomorrow", YEAR_LAST_MS), "2025-01-01 23:59:59.999Z");
    assert_eq!(t("monthEnd", YEAR_LAST_MS), "2024-12-31 23:59:59.999Z");
    assert_eq!(t("monthStart", YEAR_LAST_MS), "2024-12-01 00:00:00.000Z");
    assert_eq!(t("yearEnd", YEAR_LAST_MS), "2024-12-31 23:59:59.999Z");
    assert_eq!(i("month", YEAR_LAST_MS), 12);
    assert_eq!(i("day", YEAR_LAST_MS + 1), 1);
    assert_eq!(i("year", YEAR_LAST_MS + 1), 2025);
}

#[test]
fn month_ends_of_every_month() {
    let ends = [
        "31", "29", "31", "30", "31", "30", "31", "31", "30", "31", "30", "31",
    ];
    // the 10th of every month of 2024, noon
    let mut day_start = 1_704_067_200_000_i64; // 2024-01-01
    let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    for (m, end) in ends.iter().enumerate() {
        let now = day_start + 9 * 86_400_000 + 43_200_000;
        assert_eq!(
            t("monthEnd", now),
            format!("2024-{:02}-{end} 23:59:59.999Z", m + 1)
        );
        assert_eq!(
            t("monthStart", now),
            format!("2024-{:02}-01 00:00:00.000Z", m + 1)
        );
        day_start += days[m] * 86_400_000;
    }
}

#[test]
fn macros_never_panic_at_extreme_instants() {
    for now in [i64::MIN, -1, 0, i64::MAX] {
        for m in [
            "now",
            "yesterday",
            "tomorrow",
            "monthEnd",
            "yearEnd",
            "weekday",
        ] {
            macro_at(m, now);
        }
    }
    assert_eq!(t("now", 0), "1970-01-01 00:00:00.000Z");
    assert_eq!(t("yesterday", 0), "1969-12-31 00:00:00.000Z");
}
