//! Outbound webhooks: each committed record write of a collection that a webhook of the settings
//! watches (`webhooks.outbound`) is queued as a `__webhook` job, whose handler posts it to the
//! webhook's URL signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64> …`, one signature per secret, so a receiver rotating its
//! secret accepts either). A delivery that fails (no answer in 15 s, or a status other than
//! 2xx) is retried with the queue's backoff; the job is the delivery's log (`GET
//! /api/jobs?name=__webhook`: attempts, last error, dead letters). Addresses that are not public
//! are refused outside `--dev`.
//!
//! The message: `{"type": "record.create", "timestamp": "…", "data": {"collection": "posts",
//! "record": {…}}}`, the record as a guest would see its fields (no hidden fields, no email that
//! is not visible). Its id is fixed when it is queued, so retries carry the same `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::app::App;
use crate::jobs::handlers::JobRun;
use crate::jobs::JobOptions;
use crate::realtime::event::EventAction;
use crate::records::model::{Record, Viewer};

/// The job name of deliveries.
pub const JOB: &str = "__webhook";

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);

impl App {
    /// Queues a delivery to every enabled outbound webhook that watches `action` on the
    /// collection of `records` (called once the write committed, on the node that wrote).
    pub(crate) async fn queue_deliveries(&self, action: EventAction, records: &[Record]) {
        let Some(first) = records.first() else { return };
        let settings = self.settings();
        let event = action.as_str();
        let c = &first.collection;
        let hooks: Vec<_> = settings
            .webhooks
            .outbound
            .iter()
            .filter(|w| w.enabled && (w.collection == c.name || w.collection == c.id))
            .filter(|w| w.events.iter().any(|e| e == event))
            .collect();
        if hooks.is_empty() {
            return;
        }
        let viewer = Viewer {
            superuser: false,
            auth: None,
        };
        let d = self.dialect();
        for r in records {
            let record = r.to_json(d, &viewer);
            for w in &hooks {
                let payload = json!({
                    "webhook": w.name,
                    "id": format!("msg_{}", crate::ids::new_id()),
                    "message": {
                        "type": format!("record.{event}"),
                        "timestamp": crate::datetime::format_ms(crate::datetime::now_ms()),
                        "data": { "collection": c.name, "record": record },
                    },
                });
                if let Err(e) = self.enqueue_job(JOB, payload, JobOptions::default()).await {
                    tracing::warn!(error = %e, webhook = %w.name, "cannot queue a webhook delivery");
                }
            }
        }
    }

    /// Registers the delivery handler (the server's worker runs it).
    pub(crate) fn add_webhook_handler(&self) {
        // weakly: the handler lives in the app it delivers for
        let weak = Arc::new(self.downgrade());
        self.add_job_handler(
            JOB,
            Arc::new(move |run: JobRun| {
                let weak = weak.clone();
                Box::pin(async move {
                    let app = weak.upgrade().ok_or("the app is closed")?;
                    app.deliver_webhook(&run).await
                })
            }),
        );
    }

    /// Posts one queued delivery to its webhook (as the settings have it now: a rotated
    /// secret or a changed URL applies to the retries).
    async fn deliver_webhook(&self, run: &JobRun) -> Result<(), String> {
        let name = run.payload["webhook"].as_str().unwrap_or_default();
        let settings = self.settings();
        let Some(w) = settings.webhooks.outbound.iter().find(|w| w.name == name) else {
            // the webhook was removed: nothing to deliver to
            return Ok(());
        };
        let id = run.payload["id"].as_str().unwrap_or_default();
        let body = run.payload["message"].to_string();
        let ts = (crate::datetime::now_ms() / 1000).to_string();
        let signature = sign(&w.secrets, id, &ts, body.as_bytes());
        let url = reqwest::Url::parse(&w.url).map_err(|_| "the webhook's URL is invalid")?;
        let (host, addr) = kiln_oauth2::checked_address(&url, self.allows_private_fetch()).await?;
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .user_agent("Kiln-Webhooks")
            .build()
            .map_err(|e| e.to_string())?;
        let res = client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", &ts)
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        match res.status().is_success() {
            true => Ok(()),
            false => Err(format!("the receiver answered {}", res.status().as_u16())),
        }
    }
}

/// `v1,<base64>` per secret, space-separated: HMAC-SHA256 of `<id>.<timestamp>.<body>` with the
/// secret's base64 bytes (after `whsec_`).
fn sign(secrets: &[String], id: &str, ts: &str, body: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    secrets
        .iter()
        .filter_map(|s| b64.decode(s.strip_prefix("whsec_").unwrap_or(s)).ok())
        .map(|key| {
            let mac = super::verify::hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            format!("v1,{}", b64.encode(mac))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::verify::{verify, Scheme, SignedHeaders};

    #[test]
    fn deliveries_verify_as_inbound_standard_webhooks() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let secrets = vec![
            format!("whsec_{}", b64.encode(b"old-secret-old-secret")),
            format!("whsec_{}", b64.encode(b"new-secret-new-secret")),
        ];
        let sig = sign(&secrets, "msg_1", "1000", b"{}");
        assert_eq!(sig.split(' ').count(), 2);
        let h = SignedHeaders {
            webhook_id: Some("msg_1"),
            webhook_timestamp: Some("1000"),
            webhook_signature: Some(&sig),
            ..Default::default()
        };
        // a receiver that knows either secret accepts it
        for s in &secrets {
            assert_eq!(
                verify(
                    Scheme::Standard,
                    std::slice::from_ref(s),
                    h,
                    b"{}",
                    1000,
                    300
                ),
                Ok(())
            );
        }
    }
}
