//! Multi-valued operands: all-of (`=`, `>`, ...) and any-of (`?=`, `?>`, ...) quantification,
//! with an empty set behaving as one empty value.

use kiln_filter::Param;

use crate::support::{s, sql, text};

const TAGS: &str = "FROM json_each(t.tags) AS je WHERE 1=1";
const REL: &str = "FROM rel AS r WHERE r.id IN (SELECT value FROM json_each(t.rel))";
const OTHER: &str = "FROM other AS o WHERE o.id IN (SELECT value FROM json_each(t.other))";

/// all-of: no item fails, and an empty set matches if the empty value does.
fn all(src: &str, item: &str, empty: &str) -> String {
    format!("(NOT EXISTS (SELECT 1 {src} AND NOT COALESCE({item}, 1=0)) AND (EXISTS (SELECT 1 {src}) OR {empty}))")
}

/// all-of where the empty value is known to match.
fn all_or_empty(src: &str, item: &str) -> String {
    format!("(NOT EXISTS (SELECT 1 {src} AND NOT COALESCE({item}, 1=0)))")
}

/// all-of where the empty value is known not to match.
fn all_nonempty(src: &str, item: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 {src}) AND NOT EXISTS (SELECT 1 {src} AND NOT COALESCE({item}, 1=0)))"
    )
}

/// any-of: some item matches, or the set is empty and the empty value matches.
fn any(src: &str, item: &str, empty: &str) -> String {
    format!("(EXISTS (SELECT 1 {src} AND {item}) OR (NOT EXISTS (SELECT 1 {src}) AND {empty}))")
}

fn any_or_empty(src: &str, item: &str) -> String {
    format!("(EXISTS (SELECT 1 {src} AND {item}) OR NOT EXISTS (SELECT 1 {src}))")
}

fn any_nonempty(src: &str, item: &str) -> String {
    format!("(EXISTS (SELECT 1 {src} AND {item}))")
}

#[test]
fn all_of_against_a_literal() {
    assert_eq!(
        sql("tags = 'a'"),
        (all_nonempty(TAGS, "(je.value = ?1)"), vec![text("a")])
    );
    assert_eq!(s("tags:each = 'a'"), all_nonempty(TAGS, "(je.value = ?1)"));
    assert_eq!(
        s("tags != 'a'"),
        all_or_empty(TAGS, "(je.value != ?1 OR je.value IS NULL)")
    );
    assert_eq!(
        s("tags = ''"),
        all_or_empty(TAGS, "(je.value = '' OR je.value IS NULL)")
    );
    assert_eq!(
        s("tags = null"),
        all_or_empty(TAGS, "(je.value = '' OR je.value IS NULL)")
    );
    assert_eq!(
        s("tags != null"),
        all_nonempty(TAGS, "(je.value != '' AND je.value IS NOT NULL)")
    );
    assert_eq!(s("tags > 5"), all_nonempty(TAGS, "(je.value > ?1)"));
    assert_eq!(
        s("tags ~ 'a'"),
        all(
            TAGS,
            "(je.value LIKE ?1 ESCAPE '\\')",
            "('' LIKE ?1 ESCAPE '\\')"
        )
    );
    assert_eq!(
        s("tags !~ 'a'"),
        all(
            TAGS,
            "(je.value NOT LIKE ?1 ESCAPE '\\')",
            "('' NOT LIKE ?1 ESCAPE '\\')"
        )
    );
}

#[test]
fn any_of_against_a_literal() {
    assert_eq!(
        sql("tags ?= 'a'"),
        (any_nonempty(TAGS, "(je.value = ?1)"), vec![text("a")])
    );
    assert_eq!(
        s("tags ?!= 'a'"),
        any_or_empty(TAGS, "(je.value != ?1 OR je.value IS NULL)")
    );
    assert_eq!(
        s("tags ?= ''"),
        any_or_empty(TAGS, "(je.value = '' OR je.value IS NULL)")
    );
    assert_eq!(s("tags ?> 5"), any_nonempty(TAGS, "(je.value > ?1)"));
    assert_eq!(s("tags ?<= 5"), any_nonempty(TAGS, "(je.value <= ?1)"));
    assert_eq!(
        s("tags ?~ 'a'"),
        any(
            TAGS,
            "(je.value LIKE ?1 ESCAPE '\\')",
            "('' LIKE ?1 ESCAPE '\\')"
        )
    );
    assert_eq!(
        s("tags ?!~ 'a'"),
        any(
            TAGS,
            "(je.value NOT LIKE ?1 ESCAPE '\\')",
            "('' NOT LIKE ?1 ESCAPE '\\')"
        )
    );
}

#[test]
fn against_a_column() {
    let item = "(COALESCE(je.value, '') = COALESCE(t.title, ''))";
    let empty = "('' = t.title OR t.title IS NULL)";
    assert_eq!(s("tags = title"), all(TAGS, item, empty));
    assert_eq!(s("tags ?= title"), any(TAGS, item, empty));
    // the multi-valued operand on the right
    assert_eq!(
        s("title ?= tags"),
        any(
            TAGS,
            "(COALESCE(t.title, '') = COALESCE(je.value, ''))",
            "(t.title = '' OR t.title IS NULL)"
        )
    );
    assert_eq!(
        s("title ~ tags"),
        all(
            TAGS,
            "(t.title LIKE ('%' || je.value || '%') ESCAPE '\\')",
            "(t.title LIKE '%%' ESCAPE '\\')"
        )
    );
    assert_eq!(s("n_x < tags"), all_nonempty(TAGS, "(t.n_x < je.value)"));
}

#[test]
fn both_sides_multi_valued_nest() {
    let inner_all = |l_item: &str, l_empty_vs_r: &str| {
        all(
            REL,
            &format!("(COALESCE({l_item}, '') = COALESCE(r.name, ''))"),
            l_empty_vs_r,
        )
    };
    let item_branch = inner_all("je.value", "(je.value = '' OR je.value IS NULL)");
    let empty_branch = all_or_empty(REL, "('' = r.name OR r.name IS NULL)");
    assert_eq!(s("tags = rel.name"), all(TAGS, &item_branch, &empty_branch));

    let item_branch = any(
        REL,
        "(COALESCE(je.value, '') = COALESCE(r.name, ''))",
        "(je.value = '' OR je.value IS NULL)",
    );
    let empty_branch = any_or_empty(REL, "('' = r.name OR r.name IS NULL)");
    assert_eq!(
        s("tags ?= rel.name"),
        any(TAGS, &item_branch, &empty_branch)
    );
}

#[test]
fn known_values_fold_in_the_empty_branch_only() {
    assert_eq!(
        s("tags = @request.auth.id"),
        all_nonempty(TAGS, "(je.value = ?1)")
    );
    assert_eq!(
        s("tags ?= @request.body.empty"),
        any_or_empty(TAGS, "(je.value = ?1 OR je.value IS NULL)")
    );
}

#[test]
fn a_source_without_where_gets_one() {
    let src = "FROM json_each(t.nowhere) AS nw WHERE 1=1";
    assert_eq!(s("nowhere ?= 'x'"), any_nonempty(src, "(nw.value = ?1)"));
}

#[test]
fn geo_distance_over_a_multi_relation_is_any_of_and_zips_one_source() {
    let (q, params) = sql("geoDistance(rel.lon, rel.lat, 1, 2) < 10");
    assert_eq!(
        q,
        any(
            REL,
            "(geo(r.lon, r.lat, ?1, ?2) < ?3)",
            "(geo(NULL, NULL, ?1, ?2) < ?3)"
        )
    );
    assert_eq!(params, vec![Param::Int(1), Param::Int(2), Param::Int(10)]);
    // two different sources: all pairs, still any-of
    let inner = any(
        OTHER,
        "(geo(r.lon, o.lat, ?1, ?2) < ?3)",
        "(geo(r.lon, NULL, ?1, ?2) < ?3)",
    );
    let inner_empty = any(
        OTHER,
        "(geo(NULL, o.lat, ?1, ?2) < ?3)",
        "(geo(NULL, NULL, ?1, ?2) < ?3)",
    );
    assert_eq!(
        s("geoDistance(rel.lon, other.lat, 1, 2) < 10"),
        any(REL, &inner, &inner_empty)
    );
}

#[test]
fn strftime_over_a_multi_relation_follows_the_operator() {
    assert_eq!(
        s("strftime('%Y', rel.created) = '2024'"),
        all(
            REL,
            "(strftime(?1, r.created) = ?2)",
            "(strftime(?1, NULL) = ?2)"
        )
    );
    assert_eq!(
        s("strftime('%Y', rel.created) ?= '2024'"),
        any(
            REL,
            "(strftime(?1, r.created) = ?2)",
            "(strftime(?1, NULL) = ?2)"
        )
    );
}

#[test]
fn combined_with_other_conditions() {
    assert_eq!(
        s("title = 'x' && tags ?= 'a'"),
        format!(
            "((t.title = ?1) AND {})",
            any_nonempty(TAGS, "(je.value = ?2)")
        )
    );
}

/// A value of the statement's shared join rows: compared as it is in the combination being
/// tested; an all-of operator also needs that none of the record's own items compares false
/// (PocketBase's multi-match subquery, where an item that compares NULL does not count).
#[test]
fn shared_join_values() {
    use kiln_filter::{FilterError, Ident, Multi, Resolved, Resolver, SqlBuilder};

    const OWN: &str = "FROM (SELECT 1) u LEFT JOIN tags m ON 1=1 WHERE 1=1";
    struct Shared;
    impl Resolver for Shared {
        fn resolve(
            &mut self,
            ident: &Ident,
            _: &mut SqlBuilder<'_>,
        ) -> Result<Resolved, FilterError> {
            let col = ident.raw.trim_start_matches("tags.");
            Ok(Resolved {
                expr: format!("s.{col}"),
                multi: Some(Multi {
                    source: OWN.into(),
                    shared_item: Some(format!("m.{col}")),
                }),
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
            })
        }
    }
    let sql = |f: &str| crate::support::try_sql_with(f, &mut Shared).unwrap().0;
    assert_eq!(sql("tags.name ?= 'a'"), "(s.name = ?1)");
    assert_eq!(
        sql("tags.name ?= 'a' && tags.color ?= 'b'"),
        "((s.name = ?1) AND (s.color = ?2))"
    );
    assert_eq!(
        sql("tags.name = 'a'"),
        format!("((s.name = ?1) AND NOT EXISTS (SELECT 1 {OWN} AND NOT (m.name = ?1)))")
    );
    assert_eq!(
        sql("tags.n > tags.m"),
        format!(
            "((s.n > s.m) AND NOT EXISTS (SELECT 1 {OWN} AND EXISTS (SELECT 1 {OWN} AND NOT (m.n > m.m))))"
        )
    );
}
