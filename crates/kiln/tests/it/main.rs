//! End-to-end tests of the `kiln` binary: CLI behaviour and crash durability.

mod cli;
mod durability;
mod support;
