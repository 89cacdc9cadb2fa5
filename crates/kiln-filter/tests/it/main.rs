//! Integration tests of kiln-filter: parsing, compilation and properties.

mod compile;
mod functions;
mod macros;
mod multi;
mod parse;
mod props;
mod support;
