//! kiln-core's own tests, through its API with no HTTP in between, on SQLite (or, with
//! KILN_TEST_DATABASE_URL set, on a fresh PostgreSQL schema each): the rule and filter resolver,
//! the write path and collection migrations, over kiln-test's blog scenario.

mod installer;
mod migrations;
mod resolver;
mod writes;
