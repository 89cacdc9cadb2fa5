//! Where the settings live: one JSON document in `_params` (sealed with a key when PocketBase's
//! `--encryptionEnv` is used).

use kiln_db::Conn;

use super::model::Settings;
use super::sealed;
use crate::error::{CoreError, Result};

/// The `_params` row holding the settings.
const SETTINGS_KEY: &str = "settings";

/// Creates `_params` if missing.
pub(crate) fn ensure_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_params\" (
            \"id\" TEXT PRIMARY KEY NOT NULL,
            \"value\" JSON DEFAULT NULL,
            \"created\" TEXT DEFAULT '' NOT NULL,
            \"updated\" TEXT DEFAULT '' NOT NULL
        )",
    )?;
    Ok(())
}

/// The stored settings, or the defaults when none were saved yet. Settings PocketBase sealed
/// (`--encryptionEnv`) open with `key`.
pub(crate) fn load(conn: &Conn<'_>, key: Option<&str>) -> Result<Settings> {
    // PocketBase stores the JSON as a BLOB, Kiln as text: both read the same.
    let raw = conn.query_one(
        "SELECT value FROM _params WHERE id = ?1",
        &[SETTINGS_KEY.into()],
        |r| {
            Ok(match r.get(0) {
                kiln_db::ValueRef::Blob(b) => b.to_vec(),
                other => other.as_str().as_bytes().to_vec(),
            })
        },
    )?;
    let Some(raw) = raw else {
        return Ok(Settings::default());
    };
    let corrupt = |e: serde_json::Error| {
        CoreError::Db(kiln_db::DbError::Corrupt(format!("stored settings: {e}")))
    };
    match serde_json::from_slice(&raw) {
        Ok(s) => Ok(s),
        // Not JSON: sealed, as PocketBase tries it.
        Err(e) if !raw.trim_ascii_start().starts_with(b"{") => match key {
            None => Err(CoreError::SealedSettings),
            Some(k) => match sealed::open(k, &raw) {
                Some(json) => serde_json::from_slice(&json).map_err(corrupt),
                None => {
                    tracing::debug!(error = %e, "the stored settings do not open with the key");
                    Err(CoreError::SealedSettings)
                }
            },
        },
        Err(e) => Err(corrupt(e)),
    }
}

/// Stores `s` as the settings, sealed with `key` when there is one (as PocketBase does).
pub(crate) fn save(conn: &Conn<'_>, s: &Settings, key: Option<&str>) -> Result<()> {
    let now = crate::datetime::now_string();
    let mut json = serde_json::to_string(s).map_err(|e| CoreError::Internal(e.to_string()))?;
    if let Some(k) = key {
        json = sealed::seal(k, json.as_bytes()).ok_or_else(|| {
            CoreError::Internal("the settings key must be 16, 24 or 32 bytes long".into())
        })?;
    }
    conn.execute(
        "INSERT INTO _params (id, value, created, updated) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated = excluded.updated",
        &[SETTINGS_KEY.into(), json.into(), now.into()],
    )?;
    Ok(())
}
