//! Login alerts: each successful login records where it came from (`_authOrigins`, a hash of
//! IP and user agent); a login from a new place emails the account, except the very first.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map};

use crate::app::App;
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::collection::Collection;

/// The system collection of known login origins.
pub const AUTH_ORIGINS: &str = "_authOrigins";

/// Origins kept per account (the oldest go first).
const KEEP: usize = 5;

/// The user agent as stored in alerts: at most 200 bytes, then `...`.
fn short_agent(ua: &str) -> String {
    if ua.len() <= 200 {
        return ua.to_owned();
    }
    let mut end = 200;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &ua[..end])
}

/// PocketBase's origin fingerprint: md5 of IP and user agent, hex.
pub fn fingerprint(ip: &str, ua: &str) -> String {
    use md5::Digest;
    let digest = md5::Md5::digest(format!("{ip}{ua}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl App {
    /// Records the login's origin and, for a new origin of an account that has logged in
    /// before, sends the collection's alert email (waiting up to 15 s; a failed email leaves
    /// the origin unrecorded so the next login alerts again). Failures are logged, never
    /// returned: the login itself has succeeded.
    pub(crate) async fn record_auth_origin(
        &self,
        c: &Arc<Collection>,
        record: &Record,
        req: &RequestInfo,
    ) {
        if !c.auth.as_ref().is_some_and(|a| a.auth_alert.enabled) {
            return;
        }
        if record.get_str("email").is_empty() {
            return;
        }
        let ua = short_agent(
            req.headers
                .get("user_agent")
                .map(String::as_str)
                .unwrap_or(""),
        );
        let ip = req.ip_text();
        let fp = fingerprint(&ip, &ua);
        let origins = match self.system_records(
            AUTH_ORIGINS,
            "\"collectionRef\" = ?1 AND \"recordRef\" = ?2",
            &[c.id.clone().into(), record.id().into()],
        ) {
            Ok(o) => o,
            Err(e) => return tracing::warn!(error = %e, "cannot read auth origins"),
        };
        if let Some(known) = origins.iter().find(|o| o.get_str("fingerprint") == fp) {
            if let Ok(oc) = self.collection(AUTH_ORIGINS) {
                // Touch it: the write path refreshes `updated`.
                let _ = self.system_update(&oc, known.id(), Map::new()).await;
            }
            return;
        }
        if !origins.is_empty() {
            let info = format!("{} - {} {}", crate::datetime::now_string(), ip, ua);
            let mail = match self.auth_alert_mail(record, &info) {
                Ok(m) => m,
                Err(e) => return tracing::warn!(error = %e, "cannot render a login alert"),
            };
            match tokio::time::timeout(Duration::from_secs(15), self.send_mail(mail)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return tracing::warn!(error = %e, "failed to send a login alert"),
                Err(_) => return tracing::warn!("sending a login alert timed out"),
            }
        }
        for old in origins.iter().skip(KEEP - 1) {
            if let Err(e) = self.system_delete(AUTH_ORIGINS, old.id()).await {
                tracing::warn!(error = %e, "cannot prune auth origins");
            }
        }
        let mut body = Map::new();
        body.insert("collectionRef".into(), json!(c.id));
        body.insert("recordRef".into(), json!(record.id()));
        body.insert("fingerprint".into(), json!(fp));
        if let Err(e) = self.system_create(AUTH_ORIGINS, body).await {
            tracing::warn!(error = %e, "cannot record an auth origin");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprint_is_pocketbases() {
        // md5("127.0.0.1MyAgent <x>/1.0"), as PocketBase 0.40.6 stores it.
        assert!(super::fingerprint("127.0.0.1", "MyAgent <x>/1.0").starts_with("b8d4c06c"));
        assert_eq!(super::short_agent(&"é".repeat(150)).len(), 200 + 3);
    }
}
