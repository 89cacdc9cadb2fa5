//! The syntax tree of a filter or rule expression.

/// A whole expression: comparisons joined by `&&` / `||`, with parentheses already applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `left op right`.
    Cmp {
        left: Operand,
        op: Op,
        right: Operand,
    },
    /// All must hold (`a && b && c`).
    And(Vec<Expr>),
    /// Any may hold (`a || b`).
    Or(Vec<Expr>),
}

/// A comparison operator. `any` is true for the `?` forms (`?=`, `?~`, ...): with a multi-valued
/// operand, at least one item must match instead of all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub any: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    NotLike,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Literal),
    /// A field path or request/collection reference, resolved by the caller's [`crate::Resolver`].
    Ident(Ident),
    /// A datetime macro such as `@now` or `@todayStart` (name without the `@`).
    Macro(String),
    /// `geoDistance(...)` or `strftime(...)`.
    Func {
        name: String,
        args: Vec<Operand>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null` (and `""`, which the language treats as empty).
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// An identifier exactly as written, e.g. `author.email`, `title:lower`, `@request.auth.id`,
/// `@request.body.tags:each`, `@collection.users:u.name`, `posts_via_author.title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub raw: String,
}
