//! API rules and client filters: compiling PocketBase expressions against a collection.

pub(crate) mod dialect;
pub(crate) mod joins;
pub(crate) mod path;
pub(crate) mod resolver;
pub(crate) mod stmt;

pub use dialect::FilterDialect;
pub use joins::Guards;
pub use resolver::db_param;
pub use stmt::{check_rule, Stmt};
