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
            FilterError::Forbidden(name) => write!(f, "{name:?} is not allowed here"),
            FilterError::InvalidFunction(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FilterError {}
