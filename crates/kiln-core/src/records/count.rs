//! Which list totals the storage layer may answer from counts it keeps in memory
//! ([`kiln_db::Db::count`]): a collection's rows, or the rows whose one number field lies in a
//! range. Anything else — a rule, a relation, text, `||`, a modifier — is counted by SQL.

use kiln_db::{NumberCmp, NumberRange};
use kiln_filter::{Expr, Literal, OpKind, Operand};

use crate::schema::collection::Collection;
use crate::schema::field::FieldKind;

/// Integers beyond ±2^53 are not all exact as `f64`.
const EXACT_INT: i64 = 1 << 53;

/// The number field and range a client's filter `expr` on `c` amounts to, when it is comparisons
/// of one number field with number literals joined by `&&` (`n >= 10 && n < 20`, `n != 3`).
/// These compile to plain comparisons of a NOT NULL numeric column with a bound number, which
/// SQLite evaluates as numbers, as [`NumberRange`] does.
pub(crate) fn number_range<'c>(c: &'c Collection, expr: &Expr) -> Option<(&'c str, NumberRange)> {
    let mut terms = Vec::new();
    if !conjunction(expr, &mut terms) {
        return None;
    }
    let mut field: Option<&'c str> = None;
    let mut range = NumberRange::all();
    for term in terms {
        let Expr::Cmp { left, op, right } = term else {
            return None;
        };
        if op.any {
            return None;
        }
        let (name, cmp, x) = match (left, right) {
            (Operand::Ident(id), Operand::Literal(lit)) => {
                (&id.raw, cmp_of(op.kind)?, number(lit)?)
            }
            (Operand::Literal(lit), Operand::Ident(id)) => {
                (&id.raw, flip(cmp_of(op.kind)?), number(lit)?)
            }
            _ => return None,
        };
        let f = c.field(name)?;
        if !matches!(f.kind, FieldKind::Number { .. }) || field.is_some_and(|n| n != f.name) {
            return None;
        }
        field = Some(&f.name);
        range.and(cmp, x);
    }
    Some((field?, range))
}

/// Gathers the comparisons of `expr` into `out`: false if it has an `||`.
fn conjunction<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) -> bool {
    match expr {
        Expr::Cmp { .. } => {
            out.push(expr);
            true
        }
        Expr::And(terms) => terms.iter().all(|t| conjunction(t, out)),
        Expr::Or(_) => false,
    }
}

fn cmp_of(kind: OpKind) -> Option<NumberCmp> {
    Some(match kind {
        OpKind::Eq => NumberCmp::Eq,
        OpKind::Neq => NumberCmp::Ne,
        OpKind::Gt => NumberCmp::Gt,
        OpKind::Gte => NumberCmp::Ge,
        OpKind::Lt => NumberCmp::Lt,
        OpKind::Lte => NumberCmp::Le,
        OpKind::Like | OpKind::NotLike => return None,
    })
}

/// `x op field` as `field op' x`.
fn flip(cmp: NumberCmp) -> NumberCmp {
    match cmp {
        NumberCmp::Gt => NumberCmp::Lt,
        NumberCmp::Ge => NumberCmp::Le,
        NumberCmp::Lt => NumberCmp::Gt,
        NumberCmp::Le => NumberCmp::Ge,
        same => same,
    }
}

fn number(lit: &Literal) -> Option<f64> {
    match *lit {
        Literal::Int(i) if (-EXACT_INT..=EXACT_INT).contains(&i) => Some(i as f64),
        Literal::Float(f) if f.is_finite() => Some(f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Collection {
        let body = serde_json::json!({
            "name": "items",
            "type": "base",
            "fields": [
                {"name": "n", "type": "number"},
                {"name": "m", "type": "number"},
                {"name": "title", "type": "text"},
            ],
        });
        Collection::from_json(&body).expect("collection")
    }

    fn shape(filter: &str) -> Option<(String, NumberRange)> {
        let c = items();
        let expr = kiln_filter::parse(filter, kiln_filter::Limits::default()).expect("parses");
        number_range(&c, &expr).map(|(f, r)| (f.to_owned(), r))
    }

    #[test]
    fn ranges_of_one_number_field() {
        let mut r = NumberRange::all();
        r.and(NumberCmp::Ge, 10.0);
        r.and(NumberCmp::Lt, 20.0);
        assert_eq!(shape("n >= 10 && n < 20"), Some(("n".into(), r.clone())));
        assert_eq!(shape("(n >= 10 && 20 > n)"), Some(("n".into(), r.clone())));
        assert_eq!(
            shape("n >= 10 && (n < 20 && n < 30)"),
            Some(("n".into(), r))
        );
        let mut r = NumberRange::all();
        r.and(NumberCmp::Ne, 2.5);
        assert_eq!(shape("m != 2.5"), Some(("m".into(), r)));
    }

    #[test]
    fn anything_else_is_counted_by_sql() {
        for f in [
            "n >= 1 || n < 0",
            "n >= 1 && m < 3",
            "title = 'x'",
            "n ?= 1",
            "n ~ 1",
            "n = '1'",
            "n = null",
            "n = true",
            "n > 9007199254740993",
            "n = m",
            "missing > 1",
            "n:lower > 1",
            "n >= 1 && (n < 5 || n > 9)",
        ] {
            assert_eq!(shape(f), None, "{f}");
        }
    }
}
