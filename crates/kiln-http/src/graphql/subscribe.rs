//! Subscriptions: a record collection's realtime events, one realtime client per
//! subscription, so each event reaches the subscriber exactly when the REST realtime API would
//! send it (the list rule for all records, the view rule for one) and with the relations the
//! subscription selects expanded.

use async_graphql::dynamic::{FieldValue, ResolverContext, SubscriptionFieldFuture};
use serde_json::{json, Value};

use super::call::{core_error, Call};
use super::read::{expand_of, expand_param};
use crate::realtime::connect::Registration;

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
            let field = ctx.field();
            if let Some(tree) = expand_of(field.selection_set().filter(|f| f.name() == "record")) {
                topic.push_str("?options=");
                topic.push_str(&json!({"query": {"expand": expand_param(&tree)}}).to_string());
            }
            let auth = call.req.auth.clone();
            let opened = call.app.realtime_open(None, auth.as_ref());
            call.app
                .realtime()
                .set_subscriptions(&opened.client, auth, &[topic])
                .map_err(|_| async_graphql::Error::new("The subscription could not be made."))?;
            let reg = Registration {
                app: call.app.clone(),
                client: opened.client,
            };
            Ok(futures_util::stream::unfold(
                (reg, opened.messages),
                |(reg, mut rx)| async move {
                    loop {
                        let m = rx.recv().await?;
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
                            (reg, rx),
                        ));
                    }
                },
            ))
        })
    }
}
