//! Properties: literals never reach the SQL text; the parser never panics.

use kiln_filter::{
    compile, like_pattern, parse, quote_text, CompileOptions, FilterError, Ident, Limits, Multi,
    Param, Resolved, Resolver, SqlBuilder,
};
use proptest::prelude::*;

use crate::support::{assert_params_used, TestDialect, NOW};

const IDENTS: &[&str] = &[
    "title",
    "author.email",
    "@request.auth.id",
    "tags:each",
    "n_count",
    "rel.name",
];
const SIGNS: &[&str] = &[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
];

/// Maps every identifier to a fixed column (or a fixed multi source), whatever its text.
struct FixedResolver;

impl Resolver for FixedResolver {
    fn resolve(&mut self, ident: &Ident, _b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        let n = ident.raw.len() % 3;
        Ok(match n {
            0 => Resolved {
                expr: "t.col_a".into(),
                multi: None,
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
            },
            1 => Resolved {
                expr: "t.col_b".into(),
                multi: None,
                no_coalesce: true,
                typed: false,
                also: None,
                strict: false,
            },
            _ => Resolved {
                expr: "m.v".into(),
                multi: Some(Multi {
                    source: "FROM json_each(t.col_m) AS m WHERE 1=1".into(),
                    shared_item: None,
                }),
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
            },
        })
    }
}

/// Accepts everything; binds nothing.
struct Permissive;

impl Resolver for Permissive {
    fn resolve(&mut self, ident: &Ident, b: &mut SqlBuilder<'_>) -> Result<Resolved, FilterError> {
        if ident.raw.starts_with("@request") {
            return Ok(Resolved {
                expr: b.push(Param::Text(ident.raw.clone())),
                multi: None,
                no_coalesce: false,
                typed: false,
                also: None,
                strict: false,
            });
        }
        let multi = ident.raw.contains(':').then(|| Multi {
            source: "FROM j AS j WHERE 1=1".into(),
            shared_item: None,
        });
        Ok(Resolved {
            expr: "t.c".into(),
            multi,
            no_coalesce: ident.raw.len() & 1 == 0,
            typed: false,
            also: None,
            strict: false,
        })
    }
}

fn compile_with(filter: &str, r: &mut dyn Resolver) -> Result<(String, Vec<Param>), FilterError> {
    let expr = parse(
        filter,
        Limits {
            max_len: 100_000,
            max_exprs: 1000,
        },
    )?;
    let mut b = SqlBuilder::new(&TestDialect);
    let sql = compile(&expr, r, &mut b, &CompileOptions { now_ms: NOW })?;
    Ok((sql, b.into_params()))
}

/// Arbitrary text literals: quotes, backslashes, SQL comment/statement syntax, unicode.
fn literal() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("--".to_string()),
        Just(";".to_string()),
        Just("%".to_string()),
        Just("_".to_string()),
        Just(" OR 1=1".to_string()),
        Just("ü😀".to_string()),
        "[a-z]{1,4}",
    ];
    prop::collection::vec(piece, 1..12)
        .prop_map(|v| v.concat())
        .prop_filter("at least 3 chars", |s| s.chars().count() >= 3)
}

/// `text` as a double-quoted literal (backslashes and double quotes escaped).
fn double_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One comparison `ident op 'literal'` (or reversed), with the literal correctly quoted.
fn comparison() -> impl Strategy<Value = (String, String, bool)> {
    (
        prop::sample::select(IDENTS),
        prop::sample::select(SIGNS),
        literal(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ident, sign, lit, reversed, double)| {
            let mut quoted = quote_text(&lit);
            if double {
                quoted = double_quoted(&lit);
            }
            let cmp = if reversed {
                format!("{quoted} {sign} {ident}")
            } else {
                format!("{ident} {sign} {quoted}")
            };
            (cmp, lit, reversed)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn literals_are_bound_never_inlined(
        cmps in prop::collection::vec(comparison(), 1..4),
        joins in prop::collection::vec(prop::sample::select(&["&&", "||"][..]), 3),
    ) {
        let mut filter = String::new();
        let mut skeleton = String::new();
        for (i, (cmp, lit, _)) in cmps.iter().enumerate() {
            if i > 0 {
                filter.push_str(&format!(" {} ", joins[i - 1]));
                skeleton.push_str(&format!(" {} ", joins[i - 1]));
            }
            filter.push_str(&format!("({cmp})"));
            // the same filter with a harmless literal in place of the arbitrary one
            let neutral = cmp.replacen(&quote_text(lit), "'zzz'", 1);
            let neutral = neutral.replacen(&double_quoted(lit), "'zzz'", 1);
            skeleton.push_str(&format!("({neutral})"));
        }
        // a double-quoted literal parses to the same text as a single-quoted one
        let (sql, params) = compile_with(&filter, &mut FixedResolver).unwrap();
        let (skeleton_sql, _) = compile_with(&skeleton, &mut FixedResolver).unwrap();
        assert_params_used(&sql, params.len());
        // the SQL text does not depend on the literal's content at all
        prop_assert_eq!(&sql, &skeleton_sql);
        for (cmp, lit, _) in &cmps {
            prop_assume!(!skeleton_sql.contains(lit.as_str()));
            prop_assert!(!sql.contains(lit.as_str()), "{} leaked into {}", lit, sql);
            let like = cmp.contains('~');
            let bound = params.iter().any(|p| match p {
                Param::Text(t) => t == lit || (like && *t == like_pattern(lit)),
                _ => false,
            });
            prop_assert!(bound, "{:?} not bound in {:?}", lit, params);
        }
    }

    #[test]
    fn parse_never_panics(input in ".{0,200}") {
        if let Ok(expr) = parse(&input, Limits::default()) {
            let mut b = SqlBuilder::new(&TestDialect);
            let _ = compile(&expr, &mut Permissive, &mut b, &CompileOptions { now_ms: NOW });
        }
    }

    #[test]
    fn token_soup_never_panics_and_binds_consistently(
        tokens in prop::collection::vec(prop::sample::select(&[
            "a", "b.c", "tags:each", "@request.auth.id", "@now", "@monthEnd", "null", "true", "1", "-2.5", "'x'",
            "\"y\\\"\"", "''", "=", "!=", "?=", "~", "?!~", ">", "<=", "&&", "||", "(", ")", ",", "//c\n",
            "geoDistance(", "strftime(", "'%Y'", "f(", "-", ".", "!", "?", "&", "|", "@", "\n", "'",
        ][..]), 0..40),
    ) {
        let input = tokens.join(" ");
        if let Ok(expr) = parse(&input, Limits::default()) {
            let mut b = SqlBuilder::new(&TestDialect);
            if let Ok(sql) = compile(&expr, &mut Permissive, &mut b, &CompileOptions { now_ms: NOW }) {
                assert_params_used(&sql, b.params().len());
                prop_assert!(sql.starts_with('(') && sql.ends_with(')'));
            }
        }
    }
}
