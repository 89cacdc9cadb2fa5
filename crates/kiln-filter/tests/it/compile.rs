//! Compilation of single-valued comparisons: operators, null/empty rules, LIKE, known values.

use kiln_filter::{
    compile, compile_text, like_pattern, CompileOptions, Expr, FilterError, Ident, Limits, Literal,
    Op, OpKind, Operand, Param, SqlBuilder,
};

use crate::support::{err, s, sql, text, try_sql_with, TestDialect, TestResolver, NOW};

#[test]
fn ordering_operators_and_their_any_forms() {
    for (sign, sql_op) in [(">", ">"), (">=", ">="), ("<", "<"), ("<=", "<=")] {
        for q in ["", "?"] {
            let (got, params) = sql(&format!("n_count {q}{sign} 10"));
            assert_eq!(got, format!("(t.n_count {sql_op} ?1)"));
            assert_eq!(params, vec![Param::Int(10)]);
        }
    }
    assert_eq!(s("created > 'x'"), "(t.created > ?1)");
    assert_eq!(s("created > null"), "(t.created > NULL)");
    assert_eq!(s("created > ''"), "(t.created > '')");
    assert_eq!(s("1 < n_count"), "(?1 < t.n_count)");
}

#[test]
fn equality_with_literals() {
    assert_eq!(
        sql("title = 'abc'"),
        ("(t.title = ?1)".into(), vec![text("abc")])
    );
    assert_eq!(
        sql("title != 'abc'"),
        (
            "(t.title != ?1 OR t.title IS NULL)".into(),
            vec![text("abc")]
        )
    );
    assert_eq!(s("title ?= 'abc'"), "(t.title = ?1)");
    assert_eq!(s("title ?!= 'abc'"), "(t.title != ?1 OR t.title IS NULL)");
    assert_eq!(s("'abc' = title"), "(?1 = t.title)");
    assert_eq!(s("n_count = 5"), "(t.n_count = ?1)");
    assert_eq!(s("n_count != 5"), "(t.n_count != ?1)");
    assert_eq!(
        sql("verified = true"),
        ("(t.verified = ?1)".into(), vec![Param::Bool(true)])
    );
    assert_eq!(
        sql("score = 1.5"),
        ("(t.score = ?1)".into(), vec![Param::Float(1.5)])
    );
    // Two bound numbers carry no column type: they compare as numbers on both engines (PostgreSQL
    // would infer text for both placeholders).
    assert_eq!(
        sql("1 = 1"),
        (
            "(CAST(?1 AS DOUBLE PRECISION) = CAST(?2 AS DOUBLE PRECISION))".into(),
            vec![Param::Int(1), Param::Int(1)]
        )
    );
    assert_eq!(
        s("6 < 10.5"),
        "(CAST(?1 AS DOUBLE PRECISION) < CAST(?2 AS DOUBLE PRECISION))"
    );
    assert_eq!(s("'6' < 10"), "(?1 < ?2)");
}

#[test]
fn null_and_empty_text_are_the_same_value() {
    for empty in ["null", "''", "\"\"", "NULL"] {
        assert_eq!(
            sql(&format!("title = {empty}")),
            ("(t.title = '' OR t.title IS NULL)".into(), vec![])
        );
        assert_eq!(
            s(&format!("title != {empty}")),
            "(t.title != '' AND t.title IS NOT NULL)"
        );
        assert_eq!(
            s(&format!("{empty} = title")),
            "('' = t.title OR t.title IS NULL)"
        );
        assert_eq!(
            s(&format!("{empty} ?!= title")),
            "('' != t.title AND t.title IS NOT NULL)"
        );
        assert_eq!(s(&format!("n_count = {empty}")), "(t.n_count = '')");
        assert_eq!(s(&format!("n_count != {empty}")), "(t.n_count != '')");
    }
    assert_eq!(s("'' = null"), "('' = '')");
    assert_eq!(s("null != ''"), "('' != '')");
    assert_eq!(s("null = null"), "('' = '')");
    assert_eq!(sql("'' = 'x'"), ("('' = ?1)".into(), vec![text("x")]));
}

#[test]
fn equality_between_expressions_coalesces_nullable_sides() {
    assert_eq!(
        s("title = author"),
        "(COALESCE(t.title, '') = COALESCE(t.author, ''))"
    );
    assert_eq!(
        s("title != author"),
        "(COALESCE(t.title, '') != COALESCE(t.author, ''))"
    );
    assert_eq!(s("title = n_x"), "(COALESCE(t.title, '') = t.n_x)");
    assert_eq!(s("n_x != n_y"), "(t.n_x != t.n_y)");
    assert_eq!(
        s("lowered = title"),
        "(COALESCE((lower(t.title)), '') = COALESCE(t.title, ''))"
    );
}

#[test]
fn like_with_text_literal_is_escaped_and_wrapped() {
    assert_eq!(
        sql("title ~ 'abc'"),
        ("(t.title LIKE ?1 ESCAPE '\\')".into(), vec![text("%abc%")])
    );
    assert_eq!(
        sql("title !~ 'abc'"),
        (
            "(t.title NOT LIKE ?1 ESCAPE '\\')".into(),
            vec![text("%abc%")]
        )
    );
    assert_eq!(s("title ?~ 'abc'"), "(t.title LIKE ?1 ESCAPE '\\')");
    assert_eq!(s("title ?!~ 'abc'"), "(t.title NOT LIKE ?1 ESCAPE '\\')");
    assert_eq!(sql("title ~ 'a_b\\c'").1, vec![text(r"%a\_b\\c%")]);
    // an explicit wildcard: bound as it is
    assert_eq!(sql("title ~ 'abc%'").1, vec![text("abc%")]);
    assert_eq!(sql("title ~ '%a_c'").1, vec![text("%a_c")]);
    // escaped wildcard only: still "contains"
    assert_eq!(sql(r"title ~ '50\%'").1, vec![text(r"%50\%%")]);
    // empty text matches any non-null value
    assert_eq!(
        sql("title ~ ''"),
        ("(t.title LIKE '%%' ESCAPE '\\')".into(), vec![])
    );
    // numbers, booleans and macros are stringified like PocketBase does
    assert_eq!(sql("title ~ 12").1, vec![text("%12%")]);
    assert_eq!(sql("title ~ 1.5").1, vec![text("%1.5%")]);
    assert_eq!(sql("title ~ true").1, vec![text("%1%")]);
    assert_eq!(sql("created ~ @year").1, vec![text("%2024%")]);
    assert_eq!(
        sql("created ~ @todayStart").1,
        vec![text(r"%2024-05-01 00:00:00.000Z%")]
    );
    assert_eq!(like_pattern("x"), "%x%");
}

#[test]
fn like_with_other_right_operands_concatenates() {
    assert_eq!(
        s("title ~ author"),
        "(t.title LIKE ('%' || t.author || '%') ESCAPE '\\')"
    );
    assert_eq!(
        s("title !~ author"),
        "(t.title NOT LIKE ('%' || t.author || '%') ESCAPE '\\')"
    );
    assert_eq!(
        sql("'lorem' ~ title"),
        (
            "(?1 LIKE ('%' || t.title || '%') ESCAPE '\\')".into(),
            vec![text("lorem")]
        )
    );
    assert_eq!(
        s("title ~ null"),
        "(t.title LIKE ('%' || NULL || '%') ESCAPE '\\')"
    );
    assert_eq!(
        s("null ~ title"),
        "(NULL LIKE ('%' || t.title || '%') ESCAPE '\\')"
    );
    assert_eq!(
        s("title ~ lowered"),
        "(t.title LIKE ('%' || (lower(t.title)) || '%') ESCAPE '\\')"
    );
}

#[test]
fn known_resolver_values_behave_like_literals() {
    // a non-empty known value: direct comparison (index friendly), as PocketBase
    assert_eq!(
        sql("author = @request.auth.id"),
        ("(t.author = ?1)".into(), vec![text("u123")])
    );
    assert_eq!(
        s("author != @request.auth.id"),
        "(t.author != ?1 OR t.author IS NULL)"
    );
    assert_eq!(s("@request.auth.id != ''"), "(?1 != '')");
    // an empty known value is compared as '' but its placeholder stays referenced
    assert_eq!(
        sql("author = @request.body.empty"),
        ("(t.author = ?1 OR t.author IS NULL)".into(), vec![text("")])
    );
    assert_eq!(s("@request.body.empty = ''"), "(?1 = '')");
    // NULL params and params inside expressions are ordinary expressions
    assert_eq!(
        s("author = @request.auth.null"),
        "(COALESCE(t.author, '') = COALESCE(?1, ''))"
    );
    assert_eq!(
        s("author = @request.auth.x"),
        "(COALESCE(t.author, '') = COALESCE((upper(?1)), ''))"
    );
    // on the right of ~ the known value becomes the LIKE pattern
    let mut r = TestResolver {
        auth_id: "a_b%".into(),
        ..Default::default()
    };
    assert_eq!(
        try_sql_with("title ~ @request.auth.id", &mut r).unwrap().1,
        vec![text("a_b%")]
    );
    let mut r = TestResolver {
        auth_id: "a_b".into(),
        ..Default::default()
    };
    assert_eq!(
        try_sql_with("title !~ @request.auth.id", &mut r).unwrap(),
        (
            "(t.title NOT LIKE ?1 ESCAPE '\\')".into(),
            vec![text(r"%a\_b%")]
        )
    );
    assert_eq!(sql("title ~ @request.body.empty").1, vec![text("%%")]);
}

#[test]
fn and_or_are_parenthesised_with_and_binding_tighter() {
    assert_eq!(
        s("a = 1 || b = 2 && c = 3"),
        "((t.a = ?1) OR ((t.b = ?2) AND (t.c = ?3)))"
    );
    assert_eq!(
        s("(a = 1 || b = 2) && c = 3"),
        "(((t.a = ?1) OR (t.b = ?2)) AND (t.c = ?3))"
    );
    assert_eq!(
        s("a = 1 && b = 2 && c = 3"),
        "((t.a = ?1) AND (t.b = ?2) AND (t.c = ?3))"
    );
    assert_eq!(s("((a = 1))"), "(t.a = ?1)");
}

#[test]
fn placeholders_follow_source_order() {
    let (q, params) = sql("a = 'x' && b > 2 || 'y' ~ c && d = @now");
    assert_eq!(q, "(((t.a = ?1) AND (t.b > ?2)) OR ((?3 LIKE ('%' || t.c || '%') ESCAPE '\\') AND (t.d = ?4)))");
    assert_eq!(
        params,
        vec![
            text("x"),
            Param::Int(2),
            text("y"),
            text("2024-05-01 10:00:00.000Z")
        ]
    );
}

#[test]
fn user_text_never_reaches_sql() {
    let (q, params) = sql(r#"title = "'); DROP TABLE users; --" || body ~ 'x\' OR 1=1 --'"#);
    assert!(
        !q.contains("DROP") && !q.contains("1=1") && !q.contains("--"),
        "{q}"
    );
    assert_eq!(
        params,
        vec![text("'); DROP TABLE users; --"), text("%x' OR 1=1 --%")]
    );
}

#[test]
fn resolver_errors_name_their_operand() {
    // as PocketBase's `invalid left operand "x" - <resolver error>`
    assert_eq!(
        err("unknownField = 1"),
        FilterError::Operand {
            right: false,
            literal: "unknownField".into(),
            cause: Box::new(FilterError::UnknownField("unknownField".into())),
        }
    );
    assert_eq!(
        err("title = 1 && 2 = unknown.x"),
        FilterError::Operand {
            right: true,
            literal: "unknown.x".into(),
            cause: Box::new(FilterError::UnknownField("unknown.x".into())),
        }
    );
    assert_eq!(
        err("title = 1 && 2 = unknown.x").to_string(),
        "invalid right operand \"unknown.x\" - unknown or invalid field \"unknown.x\""
    );
    assert_eq!(
        err("unknownField = 1").cause(),
        &FilterError::UnknownField("unknownField".into())
    );
    // a refusal stays as it is: callers answer it on its own
    assert_eq!(
        err("@request.secret = 1"),
        FilterError::Forbidden("@request.secret".into())
    );
}

#[test]
fn resolver_sees_raw_identifiers_in_order() {
    let mut r = TestResolver::default();
    try_sql_with(
        "@collection.users:u.name = author.email && title:lower ~ x",
        &mut r,
    )
    .unwrap();
    assert_eq!(
        r.calls,
        vec![
            "@collection.users:u.name",
            "author.email",
            "title:lower",
            "x"
        ]
    );
}

#[test]
fn hand_built_expressions() {
    let mut b = SqlBuilder::new(&TestDialect);
    let mut r = TestResolver::default();
    let opts = CompileOptions { now_ms: NOW };
    assert_eq!(
        compile(&Expr::And(vec![]), &mut r, &mut b, &opts).unwrap(),
        "(1=1)"
    );
    assert_eq!(
        compile(&Expr::Or(vec![]), &mut r, &mut b, &opts).unwrap(),
        "(1=0)"
    );
    let unknown_macro = Expr::Cmp {
        left: Operand::Ident(Ident { raw: "a".into() }),
        op: Op {
            kind: OpKind::Eq,
            any: false,
        },
        right: Operand::Macro("nope".into()),
    };
    assert_eq!(
        compile(&unknown_macro, &mut r, &mut b, &opts).map_err(|e| e.to_string()),
        Err("invalid right operand \"@nope\" - unknown or invalid field \"@nope\"".into())
    );
    // very deep hand-built trees are refused, not a stack overflow
    let mut deep = Expr::Cmp {
        left: Operand::Literal(Literal::Int(1)),
        op: Op {
            kind: OpKind::Eq,
            any: false,
        },
        right: Operand::Literal(Literal::Int(1)),
    };
    for i in 0..300 {
        deep = if i % 2 == 0 {
            Expr::And(vec![deep, Expr::Or(vec![])])
        } else {
            Expr::Or(vec![deep, Expr::And(vec![])])
        };
    }
    assert!(matches!(
        compile(&deep, &mut r, &mut b, &opts),
        Err(FilterError::Syntax(_))
    ));
}

#[test]
fn compile_text_convenience() {
    let out = compile_text(
        "title = 'a' && n_x > 1",
        Limits::default(),
        &mut TestResolver::default(),
        &TestDialect,
        &CompileOptions { now_ms: NOW },
    )
    .unwrap();
    assert_eq!(out.sql, "((t.title = ?1) AND (t.n_x > ?2))");
    assert_eq!(out.params, vec![text("a"), Param::Int(1)]);
}

#[test]
fn builder_is_shared_with_the_caller() {
    let mut b = SqlBuilder::new(&TestDialect);
    assert_eq!(b.push(Param::Int(7)), "?1");
    let expr = kiln_filter::parse("a = 'x'", Limits::default()).unwrap();
    let q = compile(
        &expr,
        &mut TestResolver::default(),
        &mut b,
        &CompileOptions { now_ms: NOW },
    )
    .unwrap();
    assert_eq!(q, "(t.a = ?2)");
    assert_eq!(b.params(), &[Param::Int(7), text("x")]);
}

/// Numbers and booleans (`Resolved::typed`) never meet `''`: PostgreSQL cannot read it as a
/// number, and SQLite gives the same answers this way.
#[test]
fn typed_values_never_meet_the_empty_text() {
    use kiln_filter::{FilterError, Ident, Resolved, Resolver, SqlBuilder};
    struct Typed;
    impl Resolver for Typed {
        fn resolve(
            &mut self,
            ident: &Ident,
            _: &mut SqlBuilder<'_>,
        ) -> Result<Resolved, FilterError> {
            let nullable = ident.raw.starts_with("rel.");
            Ok(Resolved {
                expr: format!("t.{}", ident.raw.replace('.', "_")),
                multi: None,
                no_coalesce: !nullable,
                typed: true,
                also: None,
                strict: false,
            })
        }
    }
    let sql = |f: &str| try_sql_with(f, &mut Typed).unwrap().0;
    assert_eq!(sql("n = null"), "(1=0)");
    assert_eq!(sql("n != ''"), "(1=1)");
    assert_eq!(sql("rel.n = ''"), "(t.rel_n IS NULL)");
    assert_eq!(sql("rel.n != null"), "(t.rel_n IS NOT NULL)");
    assert_eq!(sql("rel.n = n"), "(t.rel_n IS NOT DISTINCT FROM t.n)");
    assert_eq!(sql("rel.n != n"), "(t.rel_n IS DISTINCT FROM t.n)");
    assert_eq!(sql("n = m"), "(t.n = t.m)");
}
