//! The realtime hooks' part that is not a request: `onRealtimeMessageSend`, run for each message
//! to a client while a hook listens. (`onRealtimeConnectRequest` and
//! `onRealtimeSubscribeRequest` are request hooks: [`Hooks::around_request`].)

use serde_json::{json, Value};

use kiln_core::CoreError;

use crate::Hooks;

impl Hooks {
    /// Whether a hook named `name` is registered (the realtime hooks have no collection).
    pub fn watches_event(&self, name: &str) -> bool {
        self.watch.has_name(name)
    }

    /// `onRealtimeMessageSend` for message `name` with `data` to client `client` (with its
    /// `subscriptions`): the message as the hooks left it, `None` when they dropped it.
    pub async fn realtime_message(
        &self,
        client: &str,
        subscriptions: Vec<String>,
        name: &str,
        data: &[u8],
    ) -> Result<Option<(String, Vec<u8>)>, CoreError> {
        // the data crosses as text (Kiln's messages are JSON); the hooks see it as bytes
        let raw = json!({
            "client": { "id": client, "subscriptions": subscriptions },
            "name": name,
            "data": String::from_utf8_lossy(data),
        })
        .to_string();
        let v = self.call_json_queued("realtimeMessage", (raw,)).await?;
        let Some(m) = v.get("message").filter(|m| !m.is_null()) else {
            return Ok(None);
        };
        Ok(Some((
            m["name"].as_str().unwrap_or_default().to_owned(),
            m["data"].as_str().unwrap_or_default().as_bytes().to_vec(),
        )))
    }
}

/// The realtime client `id` with its `subscriptions`, as the request hooks' `e.client` shows it.
pub fn client_json(id: &str, subscriptions: &[String]) -> Value {
    json!({ "id": id, "subscriptions": subscriptions })
}
