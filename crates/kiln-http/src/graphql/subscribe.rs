//! Subscriptions: a record collection's realtime events, one realtime client per
//! subscription, so each event reaches the subscriber exactly when the REST realtime API would
//! send it (the list rule for all records, the view rule for one) and with the relations the
//! subscription selects expanded.

use async_graphql::dynamic::{FieldValue, ResolverContext, SubscriptionFieldFuture};
use serde_json::{json, Value};

use super::call::{core_error, Call};
use super::read::{expand_of, expand_param};
use crate::realtime::connect::Registration;

/// How often a quiet subscription checks that its realtime client is still served.
const ALIVE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// A subscription field's resolver.
pub(super) trait SubResolver:
    for<'a> Fn(ResolverContext<'a>) -> SubscriptionFieldFuture<'a> + Send + Sync + 'static
{
}

impl<F> SubResolver for F where
    F: for<'a> Fn(ResolverContext<'a>) -> SubscriptionFieldFuture<'a> + Send + Sync + 'static
{
}

/// `posts(id)`: the events of `posts/*`, or of `posts/<id>`.
pub(super) fn events(name: &str) -> impl SubResolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        SubscriptionFieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            call.app.records_collection(&name).map_err(core_error)?;
            let mut topic = match ctx.args.get("id").filter(|v| !v.is_null()) {
                Some(id) => format!("{name}/{}", id.string()?),
                None => format!("{name}/*"),
            };
            if topic.len() > kiln_core::realtime::MAX_TOPIC_LEN {
                return Err(async_graphql::Error::new("The id is too long."));
            }
            let field = ctx.field();
            if let Some(tree) = expand_of(field.selection_set().filter(|f| f.name() == "record")) {
                topic.push_str("?options=");
                topic.push_str(&json!({"query": {"expand": expand_param(&tree)}}).to_string());
            }
            let counted = call.count_subscription()?;
            let auth = call.req.auth.clone();
            let opened = call.app.realtime_open(None, auth.as_ref()).await;
            call.app
                .realtime()
                .set_subscriptions(&opened.client, auth, &[topic])
                .map_err(|_| async_graphql::Error::new("The subscription could not be made."))?;
            let reg = Registration {
                app: call.app.clone(),
                client: opened.client,
            };
            Ok(futures_util::stream::unfold(
                Some((reg, opened.messages, counted)),
                |state| async move {
                    let (reg, mut rx, counted) = state?;
                    loop {
                        let m = match tokio::time::timeout(ALIVE_CHECK, rx.recv()).await {
                            Ok(m) => m?,
                            // a client whose queue overflowed was let go by the dispatcher:
                            // end the subscription rather than wait for events that never come
                            Err(_) if reg.app.realtime().client(&reg.client.id).is_none() => {
                                return Some((
                                    Err(async_graphql::Error::new(
                                        "The subscription fell behind and was ended; subscribe again.",
                                    )),
                                    None,
                                ));
                            }
                            Err(_) => continue,
                        };
                        // control messages: a reset or a shutdown ends the subscription
                        if m.seq == 0 {
                            if m.event.is_empty() || &*m.event == "PB_RESET" {
                                return None;
                            }
                            continue;
                        }
                        let Ok(v) = serde_json::from_slice::<Value>(&m.data) else {
                            continue;
                        };
                        return Some((
                            Ok::<_, async_graphql::Error>(FieldValue::owned_any(v)),
                            Some((reg, rx, counted)),
                        ));
                    }
                },
            ))
        })
    }
}
