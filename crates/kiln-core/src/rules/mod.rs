//! API rules and client filters: compiling PocketBase expressions against a collection.

mod dialect;
pub mod resolver;

pub use dialect::FilterDialect;
pub use resolver::{check_rule, db_param, Guards, Stmt};
