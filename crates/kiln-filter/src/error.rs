//! Errors of parsing and compiling.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum FilterError {
    /// The text is not a valid expression; the message follows PocketBase's wording where one exists.
    Syntax(String),
    /// The text is longer than [`crate::Limits::max_len`].
    TooLong { max: usize },
    /// More comparisons than [`crate::Limits::max_exprs`].
    TooManyExpressions { max: usize },
    /// An identifier the resolver does not know (unknown field, collection, alias ...).
    UnknownField(String),
    /// An identifier the resolver cannot resolve, with the reason in PocketBase's words
    /// (`unknown field "title"`), shown as it is.
    Unresolved(String),
    /// An operand of a comparison that did not compile, as PocketBase reports it:
    /// `invalid left operand "x" - <cause>` (`literal` is the identifier, or a function's name).
    Operand {
        right: bool,
        literal: String,
        cause: Box<FilterError>,
    },
    /// An identifier the caller may not use here (e.g. `@request.*` in a client filter).
    Forbidden(String),
    /// A function called with the wrong name or arguments.
    InvalidFunction(String),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Syntax(m) => f.write_str(m),
            FilterError::TooLong { max } => {
                write!(f, "the expression is longer than {max} characters")
            }
            FilterError::TooManyExpressions { max } => {
                write!(f, "the expression has more than {max} comparisons")
            }
            FilterError::UnknownField(name) => write!(f, "unknown or invalid field {name:?}"),
            FilterError::Unresolved(reason) => f.write_str(reason),
            FilterError::Operand {
                right,
                literal,
                cause,
            } => {
                let side = if *right { "right" } else { "left" };
                write!(f, "invalid {side} operand {literal:?} - {cause}")
            }
            FilterError::Forbidden(name) => write!(f, "{name:?} is not allowed here"),
            FilterError::InvalidFunction(m) => f.write_str(m),
        }
    }
}

impl FilterError {
    /// The error itself, without the [`FilterError::Operand`] that names where it occurred.
    pub fn cause(&self) -> &FilterError {
        match self {
            FilterError::Operand { cause, .. } => cause.cause(),
            other => other,
        }
    }
}

impl std::error::Error for FilterError {}
