//! Parsing: operators, precedence, tokens, errors and limits.

use kiln_filter::{
    parse, Expr, FilterError, Ident, Limits, Literal, Op, OpKind, Operand, MAX_DEPTH,
};

use crate::support::syntax;

fn p(s: &str) -> Expr {
    parse(s, Limits::default()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn id(s: &str) -> Operand {
    Operand::Ident(Ident { raw: s.into() })
}

fn int(i: i64) -> Operand {
    Operand::Literal(Literal::Int(i))
}

fn txt(s: &str) -> Operand {
    Operand::Literal(Literal::Text(s.into()))
}

fn eq(l: &str, r: i64) -> Expr {
    Expr::Cmp {
        left: id(l),
        op: Op {
            kind: OpKind::Eq,
            any: false,
        },
        right: int(r),
    }
}

fn right_of(filter: &str) -> Operand {
    match p(filter) {
        Expr::Cmp { right, .. } => right,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_operator_and_any_form() {
    let table = [
        ("=", OpKind::Eq),
        ("!=", OpKind::Neq),
        (">", OpKind::Gt),
        (">=", OpKind::Gte),
        ("<", OpKind::Lt),
        ("<=", OpKind::Lte),
        ("~", OpKind::Like),
        ("!~", OpKind::NotLike),
    ];
    for (sign, kind) in table {
        for any in [false, true] {
            let q = if any { "?" } else { "" };
            for filter in [format!("a {q}{sign} 1"), format!("a{q}{sign}1")] {
                assert_eq!(
                    p(&filter),
                    Expr::Cmp {
                        left: id("a"),
                        op: Op { kind, any },
                        right: int(1)
                    },
                    "{filter}"
                );
            }
        }
    }
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        p("a=1 || b=2 && c=3"),
        Expr::Or(vec![eq("a", 1), Expr::And(vec![eq("b", 2), eq("c", 3)])])
    );
    assert_eq!(
        p("a=1 && b=2 || c=3 && d=4"),
        Expr::Or(vec![
            Expr::And(vec![eq("a", 1), eq("b", 2)]),
            Expr::And(vec![eq("c", 3), eq("d", 4)]),
        ])
    );
    assert_eq!(
        p("a=1 || b=2 || c=3"),
        Expr::Or(vec![eq("a", 1), eq("b", 2), eq("c", 3)])
    );
    assert_eq!(
        p("a=1 && b=2 && c=3"),
        Expr::And(vec![eq("a", 1), eq("b", 2), eq("c", 3)])
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        p("(a=1 || b=2) && c=3"),
        Expr::And(vec![Expr::Or(vec![eq("a", 1), eq("b", 2)]), eq("c", 3)])
    );
    assert_eq!(
        p("a=1 && (b=2 || (c=3 && d=4))"),
        Expr::And(vec![
            eq("a", 1),
            Expr::Or(vec![eq("b", 2), Expr::And(vec![eq("c", 3), eq("d", 4)])]),
        ])
    );
    assert_eq!(p("((a=1))"), eq("a", 1));
    assert_eq!(
        p("(a='x)(')"),
        Expr::Cmp {
            left: id("a"),
            op: Op {
                kind: OpKind::Eq,
                any: false
            },
            right: txt("x)(")
        }
    );
}

#[test]
fn whitespace_newlines_and_comments() {
    let filter = "
        // leading comment
        a = 1 && // trailing comment = 2
        \tb = 2\r\n|| c = // inside
        3 // at the end";
    assert_eq!(
        p(filter),
        Expr::Or(vec![Expr::And(vec![eq("a", 1), eq("b", 2)]), eq("c", 3)])
    );
    assert_eq!(p("a=1//x"), eq("a", 1));
    assert_eq!(syntax("a = 1 / 2"), "invalid comment");
    assert_eq!(syntax("// nothing"), "empty filter expression");
}

#[test]
fn text_literals_and_escapes() {
    assert_eq!(right_of(r#"a = 'te\'st'"#), txt("te'st"));
    assert_eq!(right_of(r#"a = "te\"st""#), txt("te\"st"));
    assert_eq!(right_of(r#"a = "te\'st""#), txt(r"te\'st"));
    assert_eq!(right_of(r#"a = 'mixed "quotes"'"#), txt("mixed \"quotes\""));
    assert_eq!(right_of(r#"a = 'back\slash'"#), txt(r"back\slash"));
    assert_eq!(right_of("a = '--; DROP TABLE x'"), txt("--; DROP TABLE x"));
    assert_eq!(right_of("a = 'ünïcödé 😀'"), txt("ünïcödé 😀"));
    assert_eq!(right_of("a = ''"), txt(""));
    assert_eq!(right_of("a = \"\""), txt(""));
    assert_eq!(right_of("a = 'line\nbreak'"), txt("line\nbreak"));
}

#[test]
fn numbers() {
    assert_eq!(right_of("a = 0"), int(0));
    assert_eq!(right_of("a = 007"), int(7));
    assert_eq!(right_of("a = -42"), int(-42));
    assert_eq!(right_of("a = 9223372036854775807"), int(i64::MAX));
    assert_eq!(right_of("a = -9223372036854775808"), int(i64::MIN));
    assert_eq!(
        right_of("a = 9223372036854775808"),
        Operand::Literal(Literal::Float(9223372036854775808.0))
    );
    assert_eq!(right_of("a = 3.25"), Operand::Literal(Literal::Float(3.25)));
    assert_eq!(right_of("a = -0.5"), Operand::Literal(Literal::Float(-0.5)));
    assert_eq!(right_of("a=-1"), int(-1));
    assert_eq!(syntax("a = 1."), r#"invalid number "1.""#);
    assert_eq!(syntax("a = -"), r#"invalid number "-""#);
    assert_eq!(syntax("a = 1.2.3"), "unexpected character '.'");
    assert_eq!(
        syntax("a = 1e5"),
        r#"expected && or ||, got "e5" (identifier)"#
    );
}

#[test]
fn keywords_macros_and_identifiers() {
    assert_eq!(right_of("a = null"), Operand::Literal(Literal::Null));
    assert_eq!(right_of("a = NULL"), Operand::Literal(Literal::Null));
    assert_eq!(right_of("a = true"), Operand::Literal(Literal::Bool(true)));
    assert_eq!(
        right_of("a = FALSE"),
        Operand::Literal(Literal::Bool(false))
    );
    assert_eq!(right_of("a = 'null'"), txt("null"));
    assert_eq!(right_of("a = nullable"), id("nullable"));
    for m in [
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
    ] {
        assert_eq!(right_of(&format!("a = @{m}")), Operand::Macro(m.into()));
    }
    assert_eq!(right_of("a = @Now"), id("@Now"));
    for raw in [
        "author.email",
        "title:lower",
        "@request.auth.id",
        "@request.body.tags:each",
        "@request.query.x",
        "@request.headers.x_token",
        "@request.method",
        "@request.context",
        "@collection.users:u.name",
        "posts_via_author.title",
        "tags:length",
        "@request.body.title:isset",
        "@request.body.status:changed",
        "_private",
        "#hash",
        "a1.b2:c3",
    ] {
        assert_eq!(right_of(&format!("x = {raw}")), id(raw), "{raw}");
        match p(&format!("{raw} = 1")) {
            Expr::Cmp { left, .. } => assert_eq!(left, id(raw)),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn functions_parse() {
    match right_of("x < geoDistance(a.lon, a.lat, 12.5, -3)") {
        Operand::Func { name, args } => {
            assert_eq!(name, "geoDistance");
            assert_eq!(
                args,
                vec![
                    id("a.lon"),
                    id("a.lat"),
                    Operand::Literal(Literal::Float(12.5)),
                    int(-3)
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    match p("strftime('%Y-%m', created, 'start of month', // c\n 'utc',) = '2024-05'") {
        Expr::Cmp {
            left: Operand::Func { name, args },
            right,
            ..
        } => {
            assert_eq!(name, "strftime");
            assert_eq!(
                args,
                vec![
                    txt("%Y-%m"),
                    id("created"),
                    txt("start of month"),
                    txt("utc")
                ]
            );
            assert_eq!(right, txt("2024-05"));
        }
        other => panic!("{other:?}"),
    }
    match right_of("x = f(null, true, @now)") {
        Operand::Func { args, .. } => assert_eq!(
            args,
            vec![
                Operand::Literal(Literal::Null),
                Operand::Literal(Literal::Bool(true)),
                Operand::Macro("now".into())
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(syntax("x = f (1)"), r#"expected && or ||, got "(" (group)"#);
    assert_eq!(
        syntax("x = a(b(c(d()))) "),
        "max nested function arguments reached (max: 3)"
    );
    assert_eq!(
        syntax("x = f(1"),
        r#"invalid or incomplete function "f" (expected ')')"#
    );
    assert_eq!(
        syntax("x = f(1 2)"),
        r#"expected comma after the last argument in function "f""#
    );
    assert_eq!(syntax("x = f(1,,2)"), r#"unexpected comma in function "f""#);
    assert_eq!(
        syntax("x = f(&&)"),
        r#"unsupported argument character '&' in function "f""#
    );
    assert_eq!(syntax("x = f.(1)"), r#"invalid function name "f.""#);
    assert!(
        syntax("x = f('a)").starts_with("invalid argument in function \"f\": invalid quoted text")
    );
}

#[test]
fn syntax_error_messages() {
    let table = [
        (
            "status = = 1",
            r#"expected right operand (identifier, function text or number), got "=" (sign)"#,
        ),
        (
            "status = && 1",
            r#"expected right operand (identifier, function text or number), got "&&" (join)"#,
        ),
        (
            "= 1",
            r#"expected left operand (identifier, function, text or number), got "=" (sign)"#,
        ),
        (
            "a = 1 && || b = 2",
            r#"expected left operand (identifier, function, text or number), got "||" (join)"#,
        ),
        ("a 1", r#"expected a sign operator, got "1" (number)"#),
        ("a 'x'", r#"expected a sign operator, got "x" (text)"#),
        ("a = 1 b = 2", r#"expected && or ||, got "b" (identifier)"#),
        ("a = 1 'b'", r#"expected && or ||, got "b" (text)"#),
        ("a = 1 (b = 2)", r#"expected && or ||, got "(" (group)"#),
        ("", "empty filter expression"),
        ("   \n\t ", "empty filter expression"),
        ("()", "empty filter expression"),
        ("a = 1 && ()", "empty filter expression"),
        ("a", "invalid or incomplete filter expression"),
        ("a =", "invalid or incomplete filter expression"),
        ("a = 1 &&", "invalid or incomplete filter expression"),
        ("a = 1 ||", "invalid or incomplete filter expression"),
        ("(a = 1 ||)", "invalid or incomplete filter expression"),
        ("(a)", "invalid or incomplete filter expression"),
        (
            "(a = 1",
            "invalid formatted group - missing 1 closing bracket(s)",
        ),
        (
            "((a = 1) && (b = 2",
            "invalid formatted group - missing 2 closing bracket(s)",
        ),
        ("a = 1)", "unexpected character ')'"),
        ("((a = 1 || a = 2) && c = 1))", "unexpected character ')'"),
        ("a = 1, b = 2", "unexpected character ','"),
        ("{a=1}", "unexpected character '{'"),
        ("[a=1]", "unexpected character '['"),
        ("a + 1", "unexpected character '+'"),
        (
            "test = 1@test",
            r#"expected && or ||, got "@test" (identifier)"#,
        ),
        ("a == 1", r#"invalid sign operator "==""#),
        ("a =! 1", r#"invalid sign operator "=!""#),
        ("a ?? 1", r#"invalid sign operator "??""#),
        ("a = 1 & b = 2", r#"invalid join operator "&""#),
        ("a = 1 ||| b = 2", r#"invalid join operator "|||""#),
        ("a = 'x", r#"invalid quoted text "'x""#),
        (r#"a = "x'"#, r#"invalid quoted text "\"x'""#),
        ("a. = 1", r#"invalid identifier "a.""#),
        ("a: = 1", r#"invalid identifier "a:""#),
        ("@ = 1", r#"invalid identifier "@""#),
        ("a = `x`", "unexpected character '`'"),
    ];
    for (filter, msg) in table {
        assert_eq!(syntax(filter), msg, "{filter:?}");
    }
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_crash() {
    let at_cap = format!("{}a=1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(p(&at_cap), eq("a", 1));
    let over = format!(
        "{}a=1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(
        syntax(&over),
        format!("max nested groups reached (max: {MAX_DEPTH})")
    );
    let unlimited = Limits {
        max_len: usize::MAX,
        max_exprs: usize::MAX,
    };
    for n in [1_000, 100_000] {
        let deep = format!("{}a=1{}", "(".repeat(n), ")".repeat(n));
        assert!(matches!(
            parse(&deep, unlimited),
            Err(FilterError::Syntax(_))
        ));
        let funcs = format!("x = {}1{}", "f(".repeat(n), ")".repeat(n));
        assert!(matches!(
            parse(&funcs, unlimited),
            Err(FilterError::Syntax(_))
        ));
    }
    // long but flat is fine
    let flat = vec!["a=1"; 10_000].join(" && ");
    assert!(parse(&flat, unlimited).is_ok());
}

#[test]
fn limits() {
    let d = Limits::default();
    assert_eq!((d.max_len, d.max_exprs), (3500, 200));

    let base = "a = 'x'";
    let exact = format!("a = '{}'", "x".repeat(3500 - 6));
    assert_eq!(exact.len(), 3500);
    assert!(parse(&exact, d).is_ok());
    let over = format!("a = '{}'", "x".repeat(3500 - 5));
    assert_eq!(parse(&over, d), Err(FilterError::TooLong { max: 3500 }));
    // the length is checked before anything else
    assert_eq!(
        parse(&"(".repeat(3501), d),
        Err(FilterError::TooLong { max: 3500 })
    );
    assert!(parse(
        base,
        Limits {
            max_len: base.len(),
            max_exprs: 1
        }
    )
    .is_ok());

    let n200 = vec!["a=1"; 200].join("||");
    assert!(parse(&n200, d).is_ok());
    let n201 = vec!["a=1"; 201].join("||");
    assert_eq!(
        parse(&n201, d),
        Err(FilterError::TooManyExpressions { max: 200 })
    );
    let nested = format!("{} && (b=1 || (c=1 && d=1))", vec!["a=1"; 198].join("&&"));
    assert_eq!(
        parse(&nested, d),
        Err(FilterError::TooManyExpressions { max: 200 })
    );
    assert_eq!(
        parse(
            "a=1 && b=2",
            Limits {
                max_len: 100,
                max_exprs: 1
            }
        ),
        Err(FilterError::TooManyExpressions { max: 1 })
    );
}

#[test]
fn error_display() {
    assert_eq!(
        FilterError::TooLong { max: 3500 }.to_string(),
        "the expression is longer than 3500 characters"
    );
    assert_eq!(
        FilterError::TooManyExpressions { max: 200 }.to_string(),
        "the expression has more than 200 comparisons"
    );
    assert_eq!(FilterError::Syntax("x".into()).to_string(), "x");
}
