//! Kiln's filter and rule language (PocketBase-compatible).
//!
//! Text → [`parse`] → [`Expr`] → [`compile`] → [`Sql`] (SQL text with numbered placeholders plus the
//! list of bound values). User-supplied text never becomes SQL text: literals always become bound
//! parameters and identifiers are resolved by a [`Resolver`] supplied by the caller (kiln-core), which
//! knows the collections. This crate knows nothing about collections, HTTP or any database driver.

pub mod ast;
mod compile;
pub mod datetime;
mod dialect;
pub mod error;
mod lexer;
mod parser;
mod sqlgen;

pub use ast::{Expr, Ident, Literal, Op, OpKind, Operand};
pub use compile::{
    compile, compile_text, CompileOptions, Multi, Resolved, Resolver, Sql, SqlBuilder,
};
pub use dialect::SqlDialect;
pub use error::FilterError;
pub use lexer::quote_text;
pub use parser::{parse, Limits, MAX_DEPTH, MAX_FUNC_DEPTH};
pub use sqlgen::like_pattern;

/// A value bound to a placeholder. Converted to the driver's type by the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}
