//! The fan-out of one event: rules per subscriber context, one rendering per viewer context.

use std::collections::HashMap;
use std::sync::Arc;

use super::hub::Message;
use super::Event;
use crate::app::App;
use crate::error::CoreError;
use crate::records::query::{rule_for, RuleKind};
use crate::records::RenderOptions;
use crate::request::RequestInfo;

/// Delivers `event` to every client subscribed to it whose rules allow it.
pub(crate) fn fan_out(app: &App, event: &Event) {
    let record = &event.record;
    let c = &record.collection;
    let hub = app.realtime();
    let mut allowed_cache: HashMap<(String, bool, String), bool> = HashMap::new();
    let mut render_cache: HashMap<(String, String), Arc<[u8]>> = HashMap::new();
    let mut stalled = Vec::new();
    for client in hub.snapshot() {
        let st = client.state.lock().unwrap_or_else(|p| p.into_inner());
        for sub in &st.subscriptions {
            if !(sub.collection.eq_ignore_ascii_case(&c.name) || sub.collection == c.id) {
                continue;
            }
            if sub.record_id.as_deref().is_some_and(|id| id != record.id()) {
                continue;
            }
            let req = RequestInfo {
                auth: st.auth.clone(),
                method: "GET".into(),
                context: "realtime",
                query: sub.query.clone(),
                headers: sub.headers.clone(),
                body: Default::default(),
            };
            let auth_key = req.auth_ids().map(|(c, id)| format!("{c}/{id}")).unwrap_or_default();
            let single = sub.record_id.is_some();
            let allowed = *allowed_cache.entry((auth_key.clone(), single, sub.options_key.clone())).or_insert_with(|| {
                let kind = if single { RuleKind::View } else { RuleKind::List };
                match rule_for(c, kind, &req) {
                    Ok(None) => true,
                    Ok(Some(rule)) => app.snapshot_matches(c, record, rule, &req).unwrap_or_else(|e| {
                        tracing::warn!(error = %e, collection = %c.name, "realtime rule check failed");
                        false
                    }),
                    Err(CoreError::SuperuserOnly) => false,
                    Err(e) => {
                        tracing::warn!(error = %e, "realtime rule check failed");
                        false
                    }
                }
            });
            if !allowed {
                continue;
            }
            let opts = RenderOptions::new(sub.query.get("expand").map(String::as_str), sub.query.get("fields").map(String::as_str));
            // Only auth records (email visibility) and expansions (related rules) depend on who looks.
            let viewer_key = if c.is_auth() || opts.expand.is_some() { auth_key.clone() } else { String::new() };
            let data = match render_cache.get(&(viewer_key.clone(), sub.options_key.clone())) {
                Some(d) => d.clone(),
                None => {
                    let mut out = Vec::with_capacity(512);
                    out.extend_from_slice(b"{\"record\":");
                    let mut one = [(**record).clone()];
                    if let Err(e) = app.write_records(&mut one, &req, &opts, &mut out) {
                        tracing::warn!(error = %e, "realtime render failed");
                        continue;
                    }
                    out.extend_from_slice(b",\"action\":\"");
                    out.extend_from_slice(event.action.as_str().as_bytes());
                    out.extend_from_slice(b"\"}");
                    let d: Arc<[u8]> = out.into();
                    render_cache.insert((viewer_key, sub.options_key.clone()), d.clone());
                    d
                }
            };
            if !client.offer(Message { event: sub.raw.clone(), data }) {
                stalled.push(client.id.clone());
                break;
            }
        }
    }
    for id in stalled {
        tracing::info!(client = %id, "realtime client stalled (queue full): disconnected");
        hub.disconnect(&id);
    }
}
