//! Inbound webhooks: `POST /api/webhooks/{name}` endpoints defined in the settings. A delivery
//! is checked (the sender's signature, its timestamp within the tolerance), recorded once by its
//! event id (`_webhook_events`), and handed to the endpoint's job in the same transaction — so a
//! duplicate delivery, or a retry of one that was recorded, is acknowledged and not processed
//! again, and an event recorded is never without its job.

pub mod outbound;
pub(crate) mod table;
pub mod verify;

use serde_json::{json, Value};

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::jobs::JobOptions;
use verify::{Refused, Scheme, SignedHeaders};

/// Events are remembered this long (senders retry for up to three days).
const KEEP_MS: i64 = 30 * 86_400_000;

/// What became of a delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// New: recorded (and queued for the endpoint's job, when it has one).
    New { event_id: String },
    /// Seen before: acknowledged, nothing done.
    Duplicate { event_id: String },
}

/// Why a delivery was not taken.
#[derive(Debug)]
pub enum WebhookError {
    /// No endpoint of that name.
    Unknown,
    /// The signature check failed.
    Refused(Refused),
    /// The event has no id to record it by.
    NoEventId,
    Core(CoreError),
}

impl From<CoreError> for WebhookError {
    fn from(e: CoreError) -> Self {
        WebhookError::Core(e)
    }
}

impl App {
    /// Takes a delivery of `body` to endpoint `name`.
    pub async fn receive_webhook(
        &self,
        name: &str,
        headers: SignedHeaders<'_>,
        body: &[u8],
    ) -> std::result::Result<Received, WebhookError> {
        let settings = self.settings();
        let endpoint = settings
            .webhooks
            .inbound
            .iter()
            .find(|w| w.name == name)
            .ok_or(WebhookError::Unknown)?;
        let scheme = Scheme::parse(&endpoint.scheme).ok_or(WebhookError::Unknown)?;
        let now = crate::datetime::now_ms();
        verify::verify(
            scheme,
            &endpoint.secrets,
            headers,
            body,
            now / 1000,
            endpoint.tolerance,
        )
        .map_err(WebhookError::Refused)?;
        let event: Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
        let event_id = match scheme {
            Scheme::Stripe => event["id"].as_str().map(str::to_owned),
            Scheme::Standard => headers.webhook_id.map(str::to_owned),
        }
        .filter(|id| !id.is_empty() && id.len() <= 255)
        .ok_or(WebhookError::NoEventId)?;
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        let (endpoint_name, job) = (endpoint.name.clone(), endpoint.job.clone());
        let app = self.clone();
        let id = event_id.clone();
        let new = self
            .db()
            .write(move |conn| -> Result<bool> {
                let inserted = conn.execute(
                    "INSERT INTO \"_webhook_events\" (\"endpoint\", \"event_id\", \"type\", \"job\", \"received\") \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    &[
                        endpoint_name.clone().into(),
                        id.clone().into(),
                        kind.clone().into(),
                        job.clone().into(),
                        now.into(),
                    ],
                )?;
                if inserted > 0 && !job.is_empty() {
                    let payload = json!({
                        "webhook": endpoint_name,
                        "id": id,
                        "type": kind,
                        "event": event,
                    });
                    app.enqueue_job_on(conn, &job, &payload, JobOptions::default())?;
                }
                Ok(inserted > 0)
            })
            .await?;
        Ok(match new {
            true => Received::New { event_id },
            false => Received::Duplicate { event_id },
        })
    }

    /// Forgets the events older than [`KEEP_MS`] (the periodic clean-up).
    pub(crate) async fn purge_webhook_events(&self) -> Result<usize> {
        let before = crate::datetime::now_ms() - KEEP_MS;
        self.db()
            .write_long(move |conn| -> Result<usize> {
                Ok(conn.execute(
                    "DELETE FROM \"_webhook_events\" WHERE \"received\" < ?1",
                    &[before.into()],
                )?)
            })
            .await
    }
}
