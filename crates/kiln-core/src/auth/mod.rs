//! Authentication: password hashing, tokens, and the auth flows of auth collections.

pub mod account;
pub mod cleanup;
pub mod flows;
pub mod installer;
pub mod mails;
pub mod mfa;
pub mod oauth2;
pub mod origins;
pub mod otp;
pub mod passkeys;
pub mod password;
pub mod record_token;
pub(crate) mod system_writes;
pub mod token;

pub use record_token::TokenKind;
