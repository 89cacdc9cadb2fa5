//! Requests about a realtime client that reach another node than the one holding its stream. A
//! balancer may send a client's subscription request (`POST /api/realtime`), or the browser coming
//! back from an OAuth2 provider (`/api/oauth2-redirect`), to any node; the node that received it
//! sends it on the carrier, the node holding the client carries it out and answers, and the sender
//! waits for that answer for [`WAIT`] (no answer: no node holds the client).
//!
//! The requester's auth travels as its record (collection and values, as events do): the holding
//! node judges the client's events by it, as if the request had come to it.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::carrier::REALTIME;
use crate::app::App;
use crate::realtime::hub::CLIENT_ID_LEN;
use crate::realtime::ClientError;
use crate::records::model::Record;

/// How long a node waits for the node holding a client to answer.
pub(super) const WAIT: Duration = Duration::from_millis(1500);

/// How an answer begins: the node it is for comes first, so that the others skip it unread.
const ANSWER_TO: &str = "{\"to\":\"";

/// The answer `answer` to request `id` of node `to`.
pub(super) fn answer_message(to: &str, id: u64, answer: &str) -> String {
    // `to` first (serde_json keeps the order here)
    json!({ "to": to, "k": "answer", "id": id, "answer": answer }).to_string()
}

/// Answers on the wire.
const OK: &str = "ok";
const AUTH_MISMATCH: &str = "auth_mismatch";
const NOT_WAITING: &str = "not_waiting";

impl App {
    /// Sets the subscriptions of client `id`, held by another node, as requested by `auth`.
    /// [`ClientError::UnknownClient`] when no node holds it (or this one is alone).
    pub async fn realtime_subscribe_elsewhere(
        &self,
        id: &str,
        auth: Option<&Arc<Record>>,
        topics: &[String],
    ) -> Result<(), ClientError> {
        let auth = auth.map(|r| super::wire::record_wire(r));
        let answer = self
            .forward(
                json!({ "k": "sub", "client": id, "auth": auth, "topics": topics }),
                WAIT,
            )
            .await;
        match answer.as_deref() {
            Some(OK) => Ok(()),
            Some(AUTH_MISMATCH) => Err(ClientError::AuthMismatch),
            _ => Err(ClientError::UnknownClient),
        }
    }

    /// Hands an OAuth2 redirect's `data` to client `id` held by another node; whether it was
    /// waiting for one.
    pub(crate) async fn oauth2_deliver_elsewhere(&self, id: &str, data: &str) -> bool {
        let answer = self
            .forward(json!({ "k": "oauth2", "client": id, "data": data }), WAIT)
            .await;
        answer.as_deref() == Some(OK)
    }

    /// Sends `request` to the other nodes and waits for the answer of the one holding its client.
    /// Nothing is sent for an id no node can have made (of another length or alphabet).
    pub(super) async fn forward(&self, mut request: Value, wait: Duration) -> Option<String> {
        let carrier = self.inner().carrier.as_ref()?;
        let client = request["client"].as_str().unwrap_or_default();
        if client.len() != CLIENT_ID_LEN || !client.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let forwards = &self.inner().forwards;
        let (id, answer) = forwards.open();
        // forgotten however the wait ends (an answer, the timeout, the request dropped)
        struct Waiting<'a>(&'a super::carrier::Forwards, u64);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.close(self.1);
            }
        }
        let _waiting = Waiting(forwards, id);
        request["from"] = json!(self.node_id());
        request["id"] = json!(id);
        carrier.send(REALTIME, &request.to_string());
        match tokio::time::timeout(wait, answer).await {
            Ok(Ok(answer)) => Some(answer),
            _ => None,
        }
    }

    /// A message on the realtime channel: an answer to this node, or a request about a client
    /// this node holds (the others ignore it).
    pub(super) fn on_realtime_forward(&self, payload: &str) {
        // an answer to another node is not read (a resume's answer may be large)
        if let Some(to) = payload.strip_prefix(ANSWER_TO) {
            let mine = to
                .strip_prefix(self.node_id())
                .is_some_and(|rest| rest.starts_with('"'));
            if !mine {
                return;
            }
        }
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(payload) else {
            return;
        };
        let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default();
        match text("k") {
            // this node's own parked clients too: it may resume them while it drains
            "parked" => return self.on_parked(&m),
            "taken" if text("from") != self.node_id() => {
                self.realtime().parked.take(text("client"));
                return;
            }
            _ => {}
        }
        let Some(id) = m.get("id").and_then(Value::as_u64) else {
            return;
        };
        if text("k") == "answer" {
            if text("to") == self.node_id() {
                self.inner().forwards.answer(id, text("answer").to_owned());
            }
            return;
        }
        let from = text("from");
        if from == self.node_id() {
            return;
        }
        if text("k") == "resume" {
            return self.answer_resume(text("client"), from, id);
        }
        let Some(client) = self.realtime().client(text("client")) else {
            return;
        };
        let answer = match text("k") {
            "sub" => self.subscribe_forwarded(&client, &m),
            "oauth2" => match client.deliver_oauth2(text("data").as_bytes().to_vec()) {
                true => OK,
                false => NOT_WAITING,
            },
            _ => return,
        };
        if let Some(carrier) = &self.inner().carrier {
            carrier.send(REALTIME, &answer_message(from, id, answer));
        }
    }

    fn subscribe_forwarded(
        &self,
        client: &Arc<crate::realtime::Client>,
        m: &Map<String, Value>,
    ) -> &'static str {
        let auth = match m.get("auth") {
            Some(Value::Object(a)) => match super::wire::record_from_wire(&self.schema(), a) {
                Some(r) => Some(Arc::new(r)),
                // a collection this node does not know yet: it cannot judge the auth
                None => return AUTH_MISMATCH,
            },
            _ => None,
        };
        let topics: Vec<String> = match m.get("topics") {
            Some(Value::Array(t)) => t
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        match self.realtime().set_subscriptions(client, auth, &topics) {
            Ok(()) => OK,
            Err(ClientError::AuthMismatch) => AUTH_MISMATCH,
            Err(ClientError::UnknownClient) => NOT_WAITING,
        }
    }
}
