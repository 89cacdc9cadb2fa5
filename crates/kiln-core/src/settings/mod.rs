//! App settings: stored as one JSON document in `_params`, held in memory as an immutable
//! snapshot that every request reads without a lock held across work.

pub(crate) mod apple;
pub(crate) mod model;
pub mod sealed;
pub(crate) mod store;
pub(crate) mod validate;

use std::sync::Arc;

use serde_json::{Map, Value};

pub use apple::apple_client_secret;
pub use model::*;
pub(crate) use store::save;

use crate::app::App;
use crate::error::{Action, CoreError, Result};

/// Merges `patch` into `base` the way PocketBase decodes a settings body over the current
/// settings: objects merge key by key, anything else (arrays included) replaces.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

impl App {
    /// The current settings snapshot.
    pub fn settings(&self) -> Arc<Settings> {
        self.inner()
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `PATCH /api/settings`: merges `patch` into the current settings, validates, stores and
    /// publishes the result. Nothing changes when validation fails.
    pub async fn update_settings(&self, patch: Map<String, Value>) -> Result<Arc<Settings>> {
        let _guard = self.inner().settings_change.lock().await;
        let mut merged = serde_json::to_value(&*self.settings())
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut patch = patch;
        // a webhook sent with the name of an existing one changes only the keys it sends (the
        // API never shows the secrets, so a list sent back as read keeps them)
        let current = self.settings();
        for way in ["inbound", "outbound"] {
            let Some(Value::Array(items)) = patch.get_mut("webhooks").and_then(|w| w.get_mut(way))
            else {
                continue;
            };
            let existing = serde_json::to_value(&current.webhooks)
                .map_err(|e| CoreError::Internal(e.to_string()))?;
            for item in items.iter_mut() {
                let Some(old) = item.get("name").and_then(Value::as_str).and_then(|n| {
                    existing[way]
                        .as_array()
                        .and_then(|l| l.iter().find(|o| o["name"] == n))
                }) else {
                    continue;
                };
                let mut base = old.clone();
                merge(&mut base, item.take());
                *item = base;
            }
        }
        merge(&mut merged, Value::Object(patch));
        let next: Settings =
            serde_json::from_value(merged).map_err(|e| CoreError::InvalidBody(e.to_string()))?;
        let mut errors = validate::settings(&next);
        crate::webhooks::outbound::check_settings(&self.schema(), &next, &mut errors);
        if !errors.is_empty() {
            return Err(CoreError::Validation {
                action: Action::SaveSettings,
                errors,
            });
        }
        let stored = next.clone();
        let key = self.inner().settings_key.clone();
        self.db()
            .write(move |conn| save(conn, &stored, key.as_deref()))
            .await?;
        let next = Arc::new(next);
        let logs_changed = self.settings().logs != next.logs;
        let backups_changed = self.settings().backups != next.backups;
        self.apply_settings(next.clone());
        self.announce_settings_change();
        if backups_changed {
            self.schedule_auto_backup();
        }
        if logs_changed {
            // As PocketBase does: lines the new settings would not keep go now.
            let app = self.clone();
            tokio::spawn(async move {
                if let Err(e) = app.delete_old_logs().await {
                    tracing::warn!(error = %e, "cannot delete old logs");
                }
            });
        }
        Ok(next)
    }

    /// Makes `next` the settings every request sees (after it was stored).
    pub(crate) fn apply_settings(&self, next: Arc<Settings>) {
        let s3_changed = self.settings().s3 != next.s3;
        *self
            .inner()
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner()) = next;
        self.rate_limiter().reset();
        if s3_changed {
            self.reload_storage();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_is_deep_for_objects_and_replaces_arrays() {
        let mut base = json!({"smtp": {"host": "a", "port": 1}, "rateLimits": {"rules": [1, 2], "enabled": false}});
        merge(
            &mut base,
            json!({"smtp": {"host": "b"}, "rateLimits": {"rules": [3]}}),
        );
        assert_eq!(
            base,
            json!({"smtp": {"host": "b", "port": 1}, "rateLimits": {"rules": [3], "enabled": false}})
        );
    }

    #[test]
    fn public_json_hides_secrets() {
        let mut s = Settings::default();
        s.smtp.password = "p".into();
        s.s3.secret = "s".into();
        s.backups.s3.secret = "b".into();
        let text = s.to_public_json().to_string();
        assert!(
            !text.contains("\"password\"") && !text.contains("\"secret\""),
            "{text}"
        );
        assert!(
            text.contains("\"smtp\":{\"enabled\":false,\"port\":587,\"host\":\"smtp.example.com\"")
        );
    }
}
