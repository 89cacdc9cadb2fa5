//! The tables of the state every node shares ([`super::shared::Shared`]).

/// Created at open, with the rest of Kiln's own tables.
pub(crate) const SCHEMA: &str = "
CREATE UNLOGGED TABLE IF NOT EXISTS _kiln_windows (
    key TEXT PRIMARY KEY,
    started BIGINT NOT NULL,
    hits BIGINT NOT NULL
);
CREATE UNLOGGED TABLE IF NOT EXISTS _kiln_onetime (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE UNLOGGED TABLE IF NOT EXISTS _kiln_runs (
    name TEXT PRIMARY KEY,
    next BIGINT NOT NULL
)";
