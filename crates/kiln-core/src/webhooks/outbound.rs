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
use crate::error::{FieldError, FieldErrors, Result};
use crate::jobs::handlers::JobRun;
use crate::jobs::JobOptions;
use crate::realtime::event::EventAction;
use crate::records::model::Record;
use crate::records::query::snapshot_query;
use crate::request::RequestInfo;
use crate::rules::stmt::check_rule;
use crate::schema::Schema;
use crate::settings::model::Settings;

/// The job name of deliveries.
pub const JOB: &str = "__webhook";

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(15);
/// The longest filter (as a collection's rules).
const MAX_FILTER: usize = 10_000;

impl App {
    /// The settings a write queues its deliveries from, when an outbound webhook is enabled
    /// (read as the write is prepared: one write sees one version of them).
    pub(crate) fn outbound_watch(&self) -> Option<Arc<Settings>> {
        let s = self.settings();
        s.webhooks.outbound.iter().any(|w| w.enabled).then_some(s)
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

/// Queues, inside the write's transaction, a delivery of each of `records` (a delete's cascade
/// included) to every enabled webhook of `settings` that watches `action` on the record's
/// collection and whose filter the record meets: the deliveries commit with the write, or not
/// at all. Whether any was queued (the worker is woken once the transaction commits).
pub(crate) fn queue_deliveries(
    conn: &kiln_db::Conn<'_>,
    schema: &Schema,
    settings: &Settings,
    action: EventAction,
    records: &[Record],
) -> Result<bool> {
    let event = action.as_str();
    let d = conn.dialect();
    let guest = RequestInfo::default();
    let viewer = guest.viewer();
    let mut queued = false;
    for r in records {
        let c = &r.collection;
        let mut message = None;
        for w in settings.webhooks.outbound.iter().filter(|w| {
            w.enabled
                && (w.collection == c.name || w.collection == c.id)
                && w.events.iter().any(|e| e == event)
        }) {
            if !meets(conn, schema, r, &w.filter, &guest) {
                continue;
            }
            let message = message.get_or_insert_with(|| {
                json!({
                    "type": format!("record.{event}"),
                    "timestamp": crate::datetime::format_ms(crate::datetime::now_ms()),
                    "data": { "collection": c.name, "record": r.to_json(d, &viewer) },
                })
            });
            let payload = json!({
                "webhook": w.name,
                "id": format!("msg_{}", crate::ids::new_id()),
                "message": message,
            });
            crate::jobs::insert(conn, JOB, payload.to_string(), JobOptions::default())?;
            queued = true;
        }
    }
    Ok(queued)
}

/// Whether `record` meets a webhook's `filter` (a filter that no longer compiles, after a
/// schema change, delivers nothing and says so in the log).
fn meets(
    conn: &kiln_db::Conn<'_>,
    schema: &Schema,
    record: &Record,
    filter: &str,
    guest: &RequestInfo,
) -> bool {
    let c = &record.collection;
    let counted = snapshot_query(
        schema,
        conn.dialect(),
        c,
        record,
        Some(filter),
        None,
        guest,
        false,
    )
    .and_then(|q| match q {
        None => Ok(1),
        // in a savepoint: a statement that fails on PostgreSQL would abort the write's transaction
        Some((sql, params)) => conn.savepoint(|c| Ok(c.query_i64(&sql, &params)?)),
    });
    counted.unwrap_or_else(|e| {
        tracing::warn!(error = %e, collection = %c.name, "an outbound webhook's filter failed");
        0
    }) > 0
}

/// Errors of the outbound webhooks of `s` that need the schema: an unknown collection, a filter
/// that does not compile against it.
pub(crate) fn check_settings(schema: &Schema, s: &Settings, errors: &mut FieldErrors) {
    for (i, w) in s.webhooks.outbound.iter().enumerate() {
        let at = |k: &str| format!("webhooks.outbound.{i}.{k}");
        if w.collection.is_empty() || errors.contains_key(&at("collection")) {
            continue;
        }
        let Some(c) = schema.get(&w.collection) else {
            errors.insert(
                at("collection"),
                FieldError::new(
                    "validation_missing_collection",
                    "Missing or invalid collection.",
                ),
            );
            continue;
        };
        if c.is_view() {
            errors.insert(
                at("collection"),
                FieldError::new(
                    "validation_invalid_collection",
                    "A view collection has no writes to deliver.",
                ),
            );
            continue;
        }
        if w.filter.trim().is_empty() {
            continue;
        }
        if w.filter.len() > MAX_FILTER {
            errors.insert(
                at("filter"),
                FieldError::new(
                    "validation_length_too_long",
                    format!("The length must be no more than {MAX_FILTER}."),
                ),
            );
        } else if w.filter.contains("@request") {
            errors.insert(
                at("filter"),
                FieldError::new(
                    "validation_invalid_rule",
                    "A webhook's filter sees the record only: no @request.",
                ),
            );
        } else if let Err(m) = check_rule(schema, c, &w.filter) {
            errors.insert(
                at("filter"),
                FieldError::new(
                    "validation_invalid_rule",
                    format!("Invalid rule. Raw error: {m}."),
                ),
            );
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
