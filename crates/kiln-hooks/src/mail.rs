//! The mailer hooks' side of a message: every email Kiln sends passes through
//! `onMailerRecord…Send` (for an account email) and `onMailerSend` when the files registered them
//! (`bridge.rs` hands them over), as `e.message` shows it. Also the natives behind `$mails` and
//! `$app.newMailClient()`, whose chains run in the calling runtime.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object};
use serde_json::{json, Map, Value};

use kiln_core::mail::MailKind;
use kiln_core::CoreError;
use kiln_mail::{Address, Message};

use crate::worker::{answer, Worker};

/// The record hook of an account email.
pub(crate) fn hook_name(kind: MailKind) -> Option<&'static str> {
    Some(match kind {
        MailKind::Verification => "onMailerRecordVerificationSend",
        MailKind::PasswordReset => "onMailerRecordPasswordResetSend",
        MailKind::EmailChange => "onMailerRecordEmailChangeSend",
        MailKind::Otp => "onMailerRecordOTPSend",
        MailKind::AuthAlert => "onMailerRecordAuthAlertSend",
        MailKind::Other => return None,
    })
}

fn address_json(a: &Address) -> Value {
    json!({ "address": a.email, "name": a.name })
}

/// A message as the hooks' `e.message` shows it.
pub(crate) fn message_json(m: &Message) -> Value {
    json!({
        "from": address_json(&m.from),
        "to": m.to.iter().map(address_json).collect::<Vec<_>>(),
        "cc": m.cc.iter().map(address_json).collect::<Vec<_>>(),
        "bcc": m.bcc.iter().map(address_json).collect::<Vec<_>>(),
        "subject": m.subject, "html": m.html, "text": m.text,
        "headers": m.headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>(),
    })
}

/// A message the hooks left (`events.js` gives every key its type).
pub(crate) fn message_of(v: &Value) -> Message {
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let address = |a: &Value| Address {
        email: a["address"].as_str().unwrap_or_default().to_owned(),
        name: a["name"].as_str().unwrap_or_default().to_owned(),
    };
    let list = |k: &str| {
        v[k].as_array()
            .map(|l| l.iter().map(address).collect())
            .unwrap_or_default()
    };
    Message {
        from: address(&v["from"]),
        to: list("to"),
        cc: list("cc"),
        bcc: list("bcc"),
        subject: text("subject"),
        html: text("html"),
        text: text("text"),
        headers: v["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Installs `mailDeliver(message)` (sends it as it is) and `recordMail(kind, collection, id,
/// extra)` (an account email of a stored record, with its meta).
pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    worker: &Rc<Worker>,
) -> rquickjs::Result<()> {
    let w = worker.clone();
    native.set(
        "mailDeliver",
        Function::new(ctx.clone(), move |raw: String| {
            let message = message_of(&serde_json::from_str(&raw).unwrap_or(Value::Null));
            let r = w
                .app()
                .and_then(|app| w.block_on(async move { app.deliver(&message).await })?)
                .map(|()| Value::Null);
            answer(&w, r)
        })?,
    )?;
    let w = worker.clone();
    native.set(
        "recordMail",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, kind: String, collection: String, id: String, extra: String| {
                let r = w.app().and_then(|app| {
                    let c = app.collection(&collection)?;
                    let found =
                        w.on_conn(&ctx, move |app, conn| app.find_record_on(conn, &c, &id))?;
                    let record = found.ok_or(CoreError::NotFound)?;
                    let extra: Map<String, Value> =
                        serde_json::from_str(&extra).unwrap_or_default();
                    let arg = |k: &str| extra.get(k).and_then(Value::as_str).unwrap_or_default();
                    let mail = match kind.as_str() {
                        "verification" => app.verification_mail(&record)?,
                        "password-reset" => app.password_reset_mail(&record)?,
                        "email-change" => app.email_change_mail(&record, arg("newEmail"))?,
                        "otp" => app.otp_mail(&record, arg("otpId"), arg("password"))?,
                        _ => app.auth_alert_mail(&record, arg("info"))?,
                    };
                    Ok(json!({ "message": message_json(&mail.message), "meta": mail.meta }))
                });
                answer(&w, r)
            },
        )?,
    )?;
    Ok(())
}
