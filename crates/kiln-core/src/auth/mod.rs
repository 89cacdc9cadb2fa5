//! Authentication: password hashing, tokens, and the auth flows of auth collections.

pub mod flows;
pub mod password;
pub mod token;
