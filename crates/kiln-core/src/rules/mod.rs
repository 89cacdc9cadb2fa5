//! API rules and client filters: compiling PocketBase expressions against a collection.

mod dialect;
mod joins;
mod path;
mod resolver;
mod stmt;

pub use dialect::FilterDialect;
pub use joins::Guards;
pub use resolver::db_param;
pub use stmt::{check_rule, Stmt};
