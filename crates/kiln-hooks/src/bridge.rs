//! The core's plug-in points answered by the pool: every email the core sends through the
//! mailer hooks ([`MailBridge`], the core's `MailHooks`), and the core's own writes through the
//! model hooks ([`WriteBridge`], its `WriteRunner`). Set on the app by [`crate::Hooks::set_app`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::json;

use kiln_core::mail::{Mail, MailHooks};
use kiln_core::records::model::Record;
use kiln_core::records::write::hooks::WriteEvent;
use kiln_core::records::write::{Prepared, WriteRunner};
use kiln_core::schema::collection::Collection;
use kiln_core::CoreError;
use kiln_mail::Message;

use crate::link::Watch;
use crate::mail::{hook_name, message_json, message_of};
use crate::payload::record_value;
use crate::pool::Pool;
use crate::read::json_call;

/// The core's mail hooks, answered by a runtime of the pool.
pub(crate) struct MailBridge {
    pub(crate) pool: Arc<Pool>,
    pub(crate) watch: Arc<Watch>,
}

impl MailBridge {
    /// Whether the files registered any mailer hook.
    pub(crate) fn wanted(watch: &Watch) -> bool {
        watch
            .entries
            .iter()
            .any(|(name, _)| name.starts_with("onMailer"))
    }
}

impl MailHooks for MailBridge {
    fn watches(&self, mail: &Mail) -> bool {
        let record_hook = match (hook_name(mail.kind), &mail.record) {
            (Some(name), Some(r)) => self.watch.has(name, &r.collection),
            _ => false,
        };
        record_hook || self.watch.has_name("onMailerSend")
    }

    fn around(
        &self,
        mail: Mail,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Message>, CoreError>> + Send + '_>> {
        let payload = json!({
            "message": message_json(&mail.message),
            "meta": mail.meta,
            "record": mail.record.as_ref().map(record_value),
        })
        .to_string();
        let name = hook_name(mail.kind).unwrap_or("onMailerSend");
        Box::pin(async move {
            let v = self
                .pool
                .run(move |rt| json_call(rt, "mailHook", (name, payload)))
                .await
                .map_err(CoreError::Internal)??;
            Ok(v.get("message").filter(|m| !m.is_null()).map(message_of))
        })
    }
}

/// The core's own writes (account flows, sign-ups, sign-in records) through the model hooks,
/// on a runtime of the pool.
pub(crate) struct WriteBridge {
    pub(crate) pool: Arc<Pool>,
    pub(crate) watch: Arc<Watch>,
}

impl WriteRunner for WriteBridge {
    fn wraps(&self, event: WriteEvent, c: &Collection) -> bool {
        self.watch.wraps_entry(event, c)
    }

    fn run(
        &self,
        prepared: Prepared,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Record>, CoreError>> + Send + '_>> {
        Box::pin(async move {
            self.pool
                .run(move |rt| rt.run(|ctx, w| w.write(ctx, prepared)))
                .await
                .map_err(CoreError::Internal)?
        })
    }
}
