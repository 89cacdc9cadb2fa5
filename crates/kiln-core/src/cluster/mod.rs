//! Keeping the nodes that share one PostgreSQL database in step: record change events, schema
//! and settings changes travel as database notifications (LISTEN/NOTIFY, no other service), or
//! through Redis publish/subscribe when one is configured ([`Carrier`]).
//!
//! Every node delivers its own events to its own subscribers at once and notifies the others,
//! which deliver them to theirs. A schema or settings change is notified after commit; the other
//! nodes reload it from the database. After the listening connection was lost and came back,
//! a node reloads both (events sent meanwhile are lost to its subscribers, as they are to a
//! client that reconnects too late to resume).

pub(crate) mod carrier;
mod forward;
mod resume;
mod wire;

use std::sync::Arc;

use serde_json::Value;

use kiln_db::Notice;

use crate::app::App;
use crate::schema::{system, Schema};

use carrier::{EVENTS, REALTIME, SCHEMA, SETTINGS};

impl App {
    /// Starts following the other nodes (nothing on SQLite). Fails when the carrier cannot be
    /// reached.
    pub(crate) fn follow_cluster(&self) -> Result<(), String> {
        let Some(carrier) = self.inner().carrier.as_ref() else {
            return Ok(());
        };
        self.start_dispatcher();
        let weak = self.downgrade();
        carrier.listen(&[EVENTS, SCHEMA, SETTINGS, REALTIME], move |notice| {
            if let Some(app) = weak.upgrade() {
                app.on_notice(notice);
            }
        })
    }

    /// Tells the other nodes that the schema changed (after the change committed).
    pub(crate) fn announce_schema_change(&self) {
        if let Some(carrier) = &self.inner().carrier {
            carrier.send(SCHEMA, self.node_id());
        }
    }

    /// Tells the other nodes that the settings changed (after the change committed).
    pub(crate) fn announce_settings_change(&self) {
        if let Some(carrier) = &self.inner().carrier {
            carrier.send(SETTINGS, self.node_id());
        }
    }

    fn on_notice(&self, notice: Notice<'_>) {
        match notice {
            Notice::Message {
                channel: EVENTS,
                payload,
            } => self.deliver_remote_event(payload),
            Notice::Message {
                channel: REALTIME,
                payload,
            } => self.on_realtime_forward(payload),
            Notice::Message {
                channel: SCHEMA,
                payload,
            } if payload != self.node_id() => self.reload_schema(),
            Notice::Message {
                channel: SETTINGS,
                payload,
            } if payload != self.node_id() => self.reload_settings(),
            Notice::Message { .. } => {}
            Notice::Reconnected => {
                self.reload_schema();
                self.reload_settings();
                // events sent meanwhile are missing from the log: no resume may count on it
                self.realtime().lost_events();
            }
        }
    }

    fn deliver_remote_event(&self, payload: &str) {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(payload) else {
            return;
        };
        if m.get("n").and_then(Value::as_str) == Some(self.node_id()) {
            return;
        }
        if let Some(event) = wire::event_from_wire(&self.schema(), &m) {
            self.realtime().deliver(event);
        }
    }

    pub(crate) fn reload_schema(&self) {
        self.db().schema_changed_elsewhere();
        match self.db().read(system::load_all) {
            Ok(collections) => self.set_schema(Schema::new(collections)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the collections changed by another node")
            }
        }
    }

    fn reload_settings(&self) {
        let key = self.inner().settings_key.as_deref();
        match self
            .db()
            .read(|conn| crate::settings::store::load(conn, key))
        {
            Ok(s) => self.apply_settings(Arc::new(s)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the settings changed by another node")
            }
        }
    }
}
