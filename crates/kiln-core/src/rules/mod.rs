//! API rules and client filters: compiling PocketBase expressions against a collection.

mod dialect;
mod joins;
pub mod resolver;

pub use dialect::FilterDialect;
pub use joins::Guards;
pub use resolver::{check_rule, db_param, Stmt};
