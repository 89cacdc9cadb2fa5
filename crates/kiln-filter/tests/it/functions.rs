//! geoDistance and strftime.

use kiln_filter::{FilterError, Param};

use crate::support::{err, s, sql, text};

fn invalid(filter: &str) -> String {
    match err(filter).cause() {
        FilterError::InvalidFunction(m) => m.clone(),
        other => panic!("{filter:?}: {other:?}"),
    }
}

#[test]
fn geo_distance_binds_literals_and_resolves_identifiers() {
    let (q, params) = sql("geoDistance(loc.lon, loc.lat, 12.5, -3) < 25");
    assert_eq!(q, "(geo(t.loc_lon, t.loc_lat, ?1, ?2) < ?3)");
    assert_eq!(
        params,
        vec![Param::Float(12.5), Param::Int(-3), Param::Int(25)]
    );
    assert_eq!(
        s("geoDistance(null, 1, 2, 3) = 0"),
        "(geo(NULL, ?1, ?2, ?3) = ?4)"
    );
    assert_eq!(
        sql("geoDistance(true, false, 2, 3) = 0").1[..2],
        [Param::Int(1), Param::Int(0)]
    );
    assert_eq!(
        s("geoDistance(a, b, c, d) != e"),
        "(COALESCE(geo(t.a, t.b, t.c, t.d), '') != COALESCE(t.e, ''))"
    );
    assert_eq!(
        s("geoDistance(a, b, c, d) != 5"),
        "(geo(t.a, t.b, t.c, t.d) != ?1 OR geo(t.a, t.b, t.c, t.d) IS NULL)"
    );
    assert_eq!(
        s("5 > geoDistance(a, b, c, d,)"),
        "(?1 > geo(t.a, t.b, t.c, t.d))"
    );
}

#[test]
fn geo_distance_argument_errors() {
    assert_eq!(
        invalid("geoDistance(1, 2, 3) < 1"),
        "[geoDistance] expected 4 arguments, got 3"
    );
    assert_eq!(
        invalid("geoDistance(1, 2, 3, 4, 5) < 1"),
        "[geoDistance] expected 4 arguments, got 5"
    );
    assert_eq!(
        invalid("geoDistance() < 1"),
        "[geoDistance] expected 4 arguments, got 0"
    );
    assert_eq!(
        invalid("geoDistance(1, 'x', 3, 4) < 1"),
        "[geoDistance] argument 1 must be an identifier or number"
    );
    assert_eq!(
        invalid("geoDistance(1, 2, 3, geoDistance(1, 2, 3, 4)) < 1"),
        "[geoDistance] argument 3 must be an identifier or number"
    );
    assert_eq!(
        err("geoDistance(unknownX, 2, 3, 4) < 1").cause(),
        &FilterError::UnknownField("unknownX".into())
    );
    // PocketBase names the function as the operand that failed
    assert_eq!(
        err("geoDistance(1, 2) > 1").to_string(),
        "invalid left operand \"geoDistance\" - [geoDistance] expected 4 arguments, got 2"
    );
    assert_eq!(
        err("1 > strftime()").to_string(),
        "invalid right operand \"strftime\" - [strftime] expected at least 1 arguments, got 0"
    );
}

#[test]
fn strftime_forms() {
    let (q, params) = sql("strftime('%Y-%m', created) = '2024-05'");
    assert_eq!(q, "(strftime(?1, t.created) = ?2)");
    assert_eq!(params, vec![text("%Y-%m"), text("2024-05")]);
    let (q, params) = sql("strftime('%Y', created, 'start of month', '+1 day') != null");
    assert_eq!(
        q,
        "(strftime(?1, t.created, ?2, ?3) != '' AND strftime(?1, t.created, ?2, ?3) IS NOT NULL)"
    );
    assert_eq!(
        params,
        vec![text("%Y"), text("start of month"), text("+1 day")]
    );
    assert_eq!(s("strftime('%Y') = @year"), "(strftime(?1, 'now') = ?2)");
    assert_eq!(
        s("strftime('%s', 1700000000, 'unixepoch') > 1"),
        "(strftime(?1, ?2, ?3) > ?4)"
    );
    assert_eq!(
        s("strftime('%Y', '2024-01-01') = '2024'"),
        "(strftime(?1, ?2) = ?3)"
    );
    assert_eq!(
        s("strftime('%Y', @now) = '2024'"),
        "(strftime(?1, ?2) = ?3)"
    );
    assert_eq!(
        s("strftime('%Y', null) = ''"),
        "(strftime(?1, NULL) = '' OR strftime(?1, NULL) IS NULL)"
    );
    assert_eq!(
        s("strftime('%Y', a) = strftime('%Y', b)"),
        "(COALESCE(strftime(?1, t.a), '') = COALESCE(strftime(?2, t.b), ''))"
    );
    assert_eq!(
        s("title ~ strftime('%Y', a)"),
        "(t.title LIKE ('%' || strftime(?1, t.a) || '%') ESCAPE '\\')"
    );
    // format strings are bound even when empty
    assert_eq!(sql("strftime('', a) = 1").1, vec![text(""), Param::Int(1)]);
}

#[test]
fn strftime_argument_errors() {
    assert_eq!(
        invalid("strftime() = 1"),
        "[strftime] expected at least 1 arguments, got 0"
    );
    assert_eq!(
        invalid("strftime('%Y', a, '1', '2', '3', '4', '5', '6', '7', '8', '9') = 1"),
        "[strftime] too many arguments (max allowed 10, got 11)"
    );
    assert!(
        sql("strftime('%Y', a, '1', '2', '3', '4', '5', '6', '7', '8') = 1")
            .0
            .contains("?9")
    );
    assert_eq!(
        invalid("strftime(a) = 1"),
        "[strftime] expects the first argument to be a format string"
    );
    assert_eq!(
        invalid("strftime(1, a) = 1"),
        "[strftime] expects the first argument to be a format string"
    );
    assert_eq!(
        invalid("strftime('%Y', strftime('%Y')) = 1"),
        "[strftime] expects the second argument to be of a valid time-value type"
    );
    assert_eq!(
        invalid("strftime('%Y', a, b) = 1"),
        "[strftime] invalid modifier argument 0 - can be only string"
    );
    assert_eq!(
        invalid("strftime('%Y', a, 'utc', 5) = 1"),
        "[strftime] invalid modifier argument 1 - can be only string"
    );
}

#[test]
fn unknown_functions() {
    assert_eq!(invalid("foo(1) = 1"), "unknown function \"foo\"");
    assert_eq!(
        invalid("GEODISTANCE(1, 2, 3, 4) = 1"),
        "unknown function \"GEODISTANCE\""
    );
    assert_eq!(
        invalid("@a.b:test(true) = 1"),
        "unknown function \"@a.b:test\""
    );
}
