//! Parser: text → [`Expr`].
//!
//! Grammar (PocketBase/fexpr-compatible):
//!
//! ```text
//! expr    := and ( "||" and )*
//! and     := primary ( "&&" primary )*
//! primary := "(" expr ")" | operand SIGN operand
//! operand := identifier | number | text | function
//! function:= name "(" [ arg ( "," arg )* [","] ] ")"     (name directly followed by "(")
//! ```
//!
//! `&&` binds tighter than `||`: PocketBase joins the parsed comparisons with SQL `AND`/`OR` in
//! source order, so SQL precedence applies, and `a || b && c` means `a || (b && c)`.
//! Identifiers `null`, `true` and `false` (any case) become literals; the exact identifiers
//! `@now`, `@todayStart`, ... become [`Operand::Macro`].

use crate::ast::{Expr, Ident, Literal, Op, OpKind, Operand};
use crate::datetime::MACROS;
use crate::error::FilterError;
use crate::lexer::{Lexer, TokKind, Token};

/// PocketBase's limits on a filter.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum length in bytes (PocketBase's `search.MaxFilterLength` = 3500, compared with Go's
    /// byte length).
    pub max_len: usize,
    /// Maximum number of comparisons (PocketBase's `search.DefaultFilterExprLimit` = 200).
    pub max_exprs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_len: 3500,
            max_exprs: 200,
        }
    }
}

/// Maximum nesting of parentheses; deeper input is a syntax error (protects the stack).
pub const MAX_DEPTH: usize = 64;

/// Maximum nesting of function calls, as in fexpr (`a(b(c(1)))` is the deepest allowed).
pub const MAX_FUNC_DEPTH: usize = 3;

/// Parses a filter or rule. Limits are checked before and during parsing.
///
/// Errors: [`FilterError::TooLong`] if `text` is longer than `limits.max_len` bytes,
/// [`FilterError::TooManyExpressions`] beyond `limits.max_exprs` comparisons, and
/// [`FilterError::Syntax`] otherwise (including an empty or comment-only text, which is
/// `empty filter expression`).
pub fn parse(text: &str, limits: Limits) -> Result<Expr, FilterError> {
    if text.len() > limits.max_len {
        return Err(FilterError::TooLong {
            max: limits.max_len,
        });
    }
    let mut p = Parser {
        lx: Lexer::new(text),
        peeked: None,
        limits,
        count: 0,
    };
    let expr = p.expr(0)?;
    let t = p.next()?;
    match t.kind {
        TokKind::Eof => Ok(expr),
        // `expr` only stops at EOF or ")": a ")" here has no matching "(".
        _ => Err(syntax(format!("unexpected character {:?}", ')'))),
    }
}

fn syntax(msg: String) -> FilterError {
    FilterError::Syntax(msg)
}

fn incomplete() -> FilterError {
    syntax("invalid or incomplete filter expression".into())
}

/// fexpr's scanner error for `)` without a group and for `,` outside a function.
fn unexpected(t: &Token) -> FilterError {
    syntax(format!(
        "unexpected character {:?}",
        t.text.chars().next().unwrap_or(' ')
    ))
}

fn describe(t: &Token) -> String {
    format!("{:?} ({})", t.text, t.kind.name())
}

fn is_operand(k: TokKind) -> bool {
    matches!(
        k,
        TokKind::Ident | TokKind::Func | TokKind::Number | TokKind::Text
    )
}

fn op_from_sign(s: &str) -> Option<Op> {
    let (any, rest) = match s.strip_prefix('?') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let kind = match rest {
        "=" => OpKind::Eq,
        "!=" => OpKind::Neq,
        ">" => OpKind::Gt,
        ">=" => OpKind::Gte,
        "<" => OpKind::Lt,
        "<=" => OpKind::Lte,
        "~" => OpKind::Like,
        "!~" => OpKind::NotLike,
        _ => return None,
    };
    Some(Op { kind, any })
}

/// The operand an identifier token stands for.
fn ident_operand(raw: &str) -> Operand {
    if raw.eq_ignore_ascii_case("null") {
        return Operand::Literal(Literal::Null);
    }
    if raw.eq_ignore_ascii_case("true") {
        return Operand::Literal(Literal::Bool(true));
    }
    if raw.eq_ignore_ascii_case("false") {
        return Operand::Literal(Literal::Bool(false));
    }
    if let Some(name) = raw.strip_prefix('@') {
        if MACROS.contains(&name) {
            return Operand::Macro(name.to_string());
        }
    }
    Operand::Ident(Ident {
        raw: raw.to_string(),
    })
}

fn number_operand(lit: &str) -> Result<Operand, FilterError> {
    if !lit.contains('.') {
        if let Ok(i) = lit.parse::<i64>() {
            return Ok(Operand::Literal(Literal::Int(i)));
        }
    }
    match lit.parse::<f64>() {
        Ok(f) => Ok(Operand::Literal(Literal::Float(f))),
        Err(_) => Err(syntax(format!("invalid number {lit:?}"))),
    }
}

struct Parser<'a> {
    lx: Lexer<'a>,
    peeked: Option<Token>,
    limits: Limits,
    count: usize,
}

impl Parser<'_> {
    fn peek(&mut self) -> Result<&Token, FilterError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lx.next_token()?);
        }
        match &self.peeked {
            Some(t) => Ok(t),
            None => Err(incomplete()),
        }
    }

    fn next(&mut self) -> Result<Token, FilterError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lx.next_token(),
        }
    }

    /// The error for a premature end: inside `depth` open groups the groups are unclosed.
    fn eof_error(depth: usize) -> FilterError {
        if depth > 0 {
            syntax(format!(
                "invalid formatted group - missing {depth} closing bracket(s)"
            ))
        } else {
            incomplete()
        }
    }

    /// `and ( "||" and )*`, stopping before EOF or ")".
    fn expr(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut ors: Vec<Expr> = Vec::new();
        let mut ands: Vec<Expr> = vec![self.primary(depth, true)?];
        loop {
            let t = self.peek()?;
            match t.kind {
                TokKind::Eof | TokKind::RParen => break,
                TokKind::Comma => {
                    let t = self.next()?;
                    return Err(unexpected(&t));
                }
                TokKind::Join => {
                    let is_or = t.text == "||";
                    self.next()?;
                    if is_or {
                        ors.push(join(std::mem::take(&mut ands), true));
                    }
                    ands.push(self.primary(depth, false)?);
                }
                _ => {
                    let t = self.next()?;
                    return Err(syntax(format!("expected && or ||, got {}", describe(&t))));
                }
            }
        }
        ors.push(join(ands, true));
        Ok(join(ors, false))
    }

    /// A parenthesised group or a comparison. `first`: nothing precedes it in its group.
    fn primary(&mut self, depth: usize, first: bool) -> Result<Expr, FilterError> {
        let t = self.next()?;
        match t.kind {
            TokKind::Eof if first && depth == 0 => Err(syntax("empty filter expression".into())),
            TokKind::Eof => Err(Self::eof_error(depth)),
            TokKind::RParen if depth == 0 => Err(unexpected(&t)),
            TokKind::RParen if first => Err(syntax("empty filter expression".into())),
            TokKind::RParen => Err(incomplete()),
            TokKind::LParen => {
                if depth >= MAX_DEPTH {
                    return Err(syntax(format!(
                        "max nested groups reached (max: {MAX_DEPTH})"
                    )));
                }
                let inner = self.expr(depth + 1)?;
                let close = self.next()?;
                match close.kind {
                    TokKind::RParen => Ok(inner),
                    _ => Err(Self::eof_error(depth + 1)),
                }
            }
            TokKind::Comma => Err(unexpected(&t)),
            k if is_operand(k) => self.comparison(t, depth),
            _ => Err(syntax(format!(
                "expected left operand (identifier, function, text or number), got {}",
                describe(&t)
            ))),
        }
    }

    fn comparison(&mut self, left_tok: Token, depth: usize) -> Result<Expr, FilterError> {
        let left = self.operand(left_tok, MAX_FUNC_DEPTH)?;
        let t = self.next()?;
        let op = match t.kind {
            TokKind::Sign => op_from_sign(&t.text)
                .ok_or_else(|| syntax(format!("invalid sign operator {:?}", t.text)))?,
            TokKind::Eof => return Err(Self::eof_error(depth)),
            TokKind::RParen if depth > 0 => return Err(incomplete()),
            TokKind::RParen | TokKind::Comma => return Err(unexpected(&t)),
            _ => {
                return Err(syntax(format!(
                    "expected a sign operator, got {}",
                    describe(&t)
                )))
            }
        };
        let t = self.next()?;
        let right = match t.kind {
            k if is_operand(k) => self.operand(t, MAX_FUNC_DEPTH)?,
            TokKind::Eof => return Err(Self::eof_error(depth)),
            TokKind::RParen if depth > 0 => return Err(incomplete()),
            TokKind::RParen | TokKind::Comma => return Err(unexpected(&t)),
            _ => {
                return Err(syntax(format!(
                    "expected right operand (identifier, function text or number), got {}",
                    describe(&t)
                )))
            }
        };
        self.count += 1;
        if self.count > self.limits.max_exprs {
            return Err(FilterError::TooManyExpressions {
                max: self.limits.max_exprs,
            });
        }
        Ok(Expr::Cmp { left, op, right })
    }

    /// Converts an operand token; for a function, parses its arguments.
    fn operand(&mut self, t: Token, func_depth: usize) -> Result<Operand, FilterError> {
        match t.kind {
            TokKind::Ident => Ok(ident_operand(&t.text)),
            TokKind::Number => number_operand(&t.text),
            TokKind::Text => Ok(Operand::Literal(Literal::Text(t.text))),
            TokKind::Func => self.func_args(t.text, func_depth),
            _ => Err(incomplete()),
        }
    }

    /// Parses the arguments of function `name` (its "(" already consumed).
    fn func_args(&mut self, name: String, func_depth: usize) -> Result<Operand, FilterError> {
        if func_depth == 0 {
            return Err(syntax(format!(
                "max nested function arguments reached (max: {MAX_FUNC_DEPTH})"
            )));
        }
        let mut args = Vec::new();
        let mut expect_comma = false;
        loop {
            let t = match self.next() {
                Ok(t) => t,
                Err(FilterError::Syntax(e)) => {
                    return Err(syntax(format!(
                        "invalid argument in function {name:?}: {e}"
                    )))
                }
                Err(e) => return Err(e),
            };
            match t.kind {
                TokKind::RParen => return Ok(Operand::Func { name, args }),
                TokKind::Eof => {
                    return Err(syntax(format!(
                        "invalid or incomplete function {name:?} (expected ')')"
                    )))
                }
                TokKind::Comma if expect_comma => expect_comma = false,
                TokKind::Comma => {
                    return Err(syntax(format!("unexpected comma in function {name:?}")))
                }
                _ if expect_comma => {
                    return Err(syntax(format!(
                        "expected comma after the last argument in function {name:?}"
                    )))
                }
                k if is_operand(k) => {
                    args.push(self.operand(t, func_depth - 1)?);
                    expect_comma = true;
                }
                _ => {
                    let c = t.text.chars().next().unwrap_or(' ');
                    return Err(syntax(format!(
                        "unsupported argument character {c:?} in function {name:?}"
                    )));
                }
            }
        }
    }
}

/// One item stays itself; several become an `And` (`is_and`) or an `Or`, flattening nested
/// groups of the same kind.
fn join(mut items: Vec<Expr>, is_and: bool) -> Expr {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    let mut flat = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Expr::And(inner) if is_and => flat.extend(inner),
            Expr::Or(inner) if !is_and => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if is_and {
        Expr::And(flat)
    } else {
        Expr::Or(flat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse(s, Limits::default()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn e(s: &str) -> String {
        match parse(s, Limits::default()) {
            Err(FilterError::Syntax(m)) => m,
            other => panic!("expected a syntax error for {s:?}, got {other:?}"),
        }
    }

    fn id(s: &str) -> Operand {
        Operand::Ident(Ident { raw: s.into() })
    }

    fn cmp(l: &str, r: i64) -> Expr {
        Expr::Cmp {
            left: id(l),
            op: Op {
                kind: OpKind::Eq,
                any: false,
            },
            right: Operand::Literal(Literal::Int(r)),
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            p("a=1 || b=2 && c=3"),
            Expr::Or(vec![cmp("a", 1), Expr::And(vec![cmp("b", 2), cmp("c", 3)])])
        );
        assert_eq!(
            p("a=1 && b=2 || c=3"),
            Expr::Or(vec![Expr::And(vec![cmp("a", 1), cmp("b", 2)]), cmp("c", 3)])
        );
        assert_eq!(
            p("(a=1 || b=2) && c=3"),
            Expr::And(vec![Expr::Or(vec![cmp("a", 1), cmp("b", 2)]), cmp("c", 3)])
        );
        assert_eq!(p("((a=1))"), cmp("a", 1));
        assert_eq!(
            p("a=1 && (b=2 && c=3)"),
            Expr::And(vec![cmp("a", 1), cmp("b", 2), cmp("c", 3)])
        );
    }

    #[test]
    fn literals_and_macros() {
        let right = |s: &str| match p(&format!("a = {s}")) {
            Expr::Cmp { right, .. } => right,
            other => panic!("{other:?}"),
        };
        assert_eq!(right("NULL"), Operand::Literal(Literal::Null));
        assert_eq!(right("True"), Operand::Literal(Literal::Bool(true)));
        assert_eq!(right("false"), Operand::Literal(Literal::Bool(false)));
        assert_eq!(right("-7"), Operand::Literal(Literal::Int(-7)));
        assert_eq!(right("1.25"), Operand::Literal(Literal::Float(1.25)));
        assert_eq!(right("-.5"), Operand::Literal(Literal::Float(-0.5)));
        assert_eq!(
            right("99999999999999999999"),
            Operand::Literal(Literal::Float(1e20))
        );
        assert_eq!(right("@todayStart"), Operand::Macro("todayStart".into()));
        assert_eq!(right("@nowx"), id("@nowx"));
        assert_eq!(right("@now:lower"), id("@now:lower"));
        assert_eq!(
            right("\"\""),
            Operand::Literal(Literal::Text(String::new()))
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            e("status = = 1"),
            r#"expected right operand (identifier, function text or number), got "=" (sign)"#
        );
        assert_eq!(
            e("> 1"),
            r#"expected left operand (identifier, function, text or number), got ">" (sign)"#
        );
        assert_eq!(e("a 1"), r#"expected a sign operator, got "1" (number)"#);
        assert_eq!(
            e("a = 1 b = 2"),
            r#"expected && or ||, got "b" (identifier)"#
        );
        assert_eq!(e(""), "empty filter expression");
        assert_eq!(e(" \n// only a comment"), "empty filter expression");
        assert_eq!(e("()"), "empty filter expression");
        assert_eq!(e("a = 1 &&"), "invalid or incomplete filter expression");
        assert_eq!(e("a ="), "invalid or incomplete filter expression");
        assert_eq!(
            e("(a = 1"),
            "invalid formatted group - missing 1 closing bracket(s)"
        );
        assert_eq!(
            e("((a = 1)"),
            "invalid formatted group - missing 1 closing bracket(s)"
        );
        assert_eq!(
            e("((a = 1"),
            "invalid formatted group - missing 2 closing bracket(s)"
        );
        assert_eq!(e("a = 1)"), "unexpected character ')'");
        assert_eq!(e("(a = 1 &&)"), "invalid or incomplete filter expression");
        assert_eq!(e("a = 1, b"), "unexpected character ','");
        assert_eq!(e("a )"), "unexpected character ')'");
        assert_eq!(e("a = )"), "unexpected character ')'");
    }

    #[test]
    fn functions() {
        match p("geoDistance(a.lon, a.lat, -1.5, 2,) < 25") {
            Expr::Cmp {
                left: Operand::Func { name, args },
                ..
            } => {
                assert_eq!(name, "geoDistance");
                assert_eq!(args.len(), 4);
                assert_eq!(args[2], Operand::Literal(Literal::Float(-1.5)));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("f() = 1", Limits::default()).is_ok());
        assert!(parse("a(b(c(1))) = 1", Limits::default()).is_ok());
        assert_eq!(
            e("a(b(c(d(1)))) = 1"),
            "max nested function arguments reached (max: 3)"
        );
        assert_eq!(
            e("f(1 2) = 1"),
            r#"expected comma after the last argument in function "f""#
        );
        assert_eq!(e("f(,1) = 1"), r#"unexpected comma in function "f""#);
        assert_eq!(
            e("f(= 1"),
            r#"unsupported argument character '=' in function "f""#
        );
        assert_eq!(
            e("f(1"),
            r#"invalid or incomplete function "f" (expected ')')"#
        );
    }

    #[test]
    fn nesting_is_capped() {
        let ok = format!("{}a=1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(p(&ok), cmp("a", 1));
        let deep = format!(
            "{}a=1{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            e(&deep),
            format!("max nested groups reached (max: {MAX_DEPTH})")
        );
        let huge = "(".repeat(100_000);
        let lim = Limits {
            max_len: usize::MAX,
            max_exprs: usize::MAX,
        };
        assert!(matches!(parse(&huge, lim), Err(FilterError::Syntax(_))));
    }

    #[test]
    fn limits() {
        let lim = Limits {
            max_len: 20,
            max_exprs: 2,
        };
        assert_eq!(
            parse("a = 1234567890 && b=1", lim),
            Err(FilterError::TooLong { max: 20 })
        );
        // bytes, not chars (as PocketBase's Go `len`)
        assert_eq!(
            parse("a = 'ééééééééé'", lim),
            Err(FilterError::TooLong { max: 20 })
        );
        assert!(parse("a=1||b=2", lim).is_ok());
        assert_eq!(
            parse("a=1||b=2||c=3", lim),
            Err(FilterError::TooManyExpressions { max: 2 })
        );
        let d = Limits::default();
        assert_eq!((d.max_len, d.max_exprs), (3500, 200));
    }
}
