//! Kiln's application core: collections, fields, records, API rules, authentication and tokens.
//!
//! Nothing here knows HTTP: handlers in kiln-http translate requests into [`RequestInfo`] and
//! calls on [`App`], and map [`CoreError`] to PocketBase's envelope.

pub mod app;
pub mod auth;
pub mod backups;
pub mod certs;
pub(crate) mod cluster;
pub mod collections;
pub mod copy;
pub mod cron;
pub mod datetime;
pub mod error;
pub mod files;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod logs;
pub mod mail;
pub(crate) mod maintenance;
pub mod memory;
pub mod metrics;
pub mod migrations;
pub mod net;
pub(crate) mod onetime;
pub mod ratelimit;
pub mod realtime;
pub mod records;
pub mod request;
pub mod rules;
pub mod schema;
pub mod settings;
pub(crate) mod slots;
pub mod sql;
pub mod ttl;
pub mod webhooks;

pub use app::{App, AppConfig, OpenError};
pub use error::{Action, CoreError, Feature, FieldError, FieldErrors, Refusal};
pub use kiln_db::{DbError, PgOptions};
pub use request::RequestInfo;
