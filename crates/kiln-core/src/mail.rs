//! Account emails: templates rendered with PocketBase's placeholders and sent over the SMTP
//! server in the settings.

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::model::Record;
use crate::records::values::to_text;
use crate::schema::auth_options::EmailTemplate;

/// Escapes text for an HTML body.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A rendered email.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
}

/// Replaces `{APP_NAME}`, `{APP_URL}`, the given placeholders (`{TOKEN}`, `{OTP}`,
/// `{ALERT_INFO}`) and `{RECORD:field}` for the record's non-hidden fields. Values are
/// HTML-escaped in the body and used as plain text in the subject (the mailer strips line
/// breaks from it), so no value can inject markup or headers.
pub fn render(
    tpl: &EmailTemplate,
    app_name: &str,
    app_url: &str,
    vars: &[(&str, &str)],
    record: Option<&Record>,
) -> Rendered {
    let mut pairs: Vec<(String, String)> = vec![
        ("{APP_NAME}".into(), app_name.into()),
        ("{APP_URL}".into(), app_url.trim_end_matches('/').into()),
    ];
    for (k, v) in vars {
        pairs.push((format!("{{{k}}}"), (*v).to_owned()));
    }
    if let Some(r) = record {
        for f in r.collection.fields.iter().filter(|f| !f.hidden) {
            let v = r.get(&f.name).map(to_text).unwrap_or_default();
            pairs.push((format!("{{RECORD:{}}}", f.name), v));
        }
    }
    let apply = |text: &str, escape: bool| {
        let mut out = text.to_owned();
        for (k, v) in &pairs {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), &if escape { html_escape(v) } else { v.clone() });
            }
        }
        out
    };
    Rendered {
        subject: apply(&tpl.subject, false),
        html: apply(&tpl.body, true),
    }
}

/// Which email is going out: the account emails, or any other (a test email, one a hook sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Verification,
    PasswordReset,
    EmailChange,
    Otp,
    AuthAlert,
    Other,
}

/// An email about to go out: the message and, for an account email, the record it is for and
/// what it carries (`token`, `newEmail`, `otpId`/`password`, `info`), as PocketBase's mailer
/// events show them.
#[derive(Debug, Clone)]
pub struct Mail {
    pub kind: MailKind,
    pub record: Option<Record>,
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub message: kiln_mail::Message,
}

/// What may change or stop an email before it goes out (the hooks' mailer events). The core
/// calls it for every email it sends when [`MailHooks::watches`] says so.
pub trait MailHooks: Send + Sync {
    /// Whether anything listens for `mail`.
    fn watches(&self, mail: &Mail) -> bool;
    /// The message to send, as changed; `None`: not sent (and no error).
    fn around(
        &self,
        mail: Mail,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Option<kiln_mail::Message>>> + Send + '_>,
    >;
}

impl App {
    /// Renders `tpl` with the app's name and URL from the settings.
    pub fn render_mail(
        &self,
        tpl: &EmailTemplate,
        vars: &[(&str, &str)],
        record: Option<&Record>,
    ) -> Rendered {
        let s = self.settings();
        render(tpl, &s.meta.app_name, &s.meta.app_url, vars, record)
    }

    /// `rendered` as a message from the settings' sender to `to`.
    pub fn message_to(&self, to: &str, rendered: Rendered) -> kiln_mail::Message {
        let s = self.settings();
        kiln_mail::Message::html(
            kiln_mail::Address {
                name: s.meta.sender_name.clone(),
                email: s.meta.sender_address.clone(),
            },
            kiln_mail::Address {
                name: String::new(),
                email: to.to_owned(),
            },
            rendered.subject,
            rendered.html,
        )
    }

    /// Sets what may change or stop the emails this app sends (once; the hooks of the server).
    pub fn set_mail_hooks(&self, hooks: std::sync::Arc<dyn MailHooks>) {
        self.inner().mail_hooks.set(hooks);
    }

    /// Sends `mail` through the mail hooks, if any listen: they may change it, or stop it.
    pub async fn send_mail(&self, mail: Mail) -> Result<()> {
        let hooks = self
            .inner()
            .mail_hooks
            .get::<std::sync::Arc<dyn MailHooks>>();
        let message = match hooks {
            Some(h) if h.watches(&mail) => match h.around(mail).await? {
                Some(m) => m,
                None => return Ok(()),
            },
            _ => mail.message,
        };
        self.deliver(&message).await
    }

    /// Sends `message` as it is over the SMTP server of the settings. Fails with
    /// [`CoreError::MailNotConfigured`] when SMTP is off.
    pub async fn deliver(&self, message: &kiln_mail::Message) -> Result<()> {
        let s = self.settings();
        if !s.smtp.enabled {
            return Err(CoreError::MailNotConfigured);
        }
        let cfg = kiln_mail::SmtpConfig {
            host: s.smtp.host.clone(),
            port: u16::try_from(s.smtp.port).unwrap_or(587),
            username: s.smtp.username.clone(),
            password: s.smtp.password.clone(),
            login_auth: s.smtp.auth_method == "LOGIN",
            tls: s.smtp.tls,
            local_name: s.smtp.local_name.clone(),
        };
        let sent = kiln_mail::send(&cfg, message).await;
        let outcome = if sent.is_ok() { "sent" } else { "failed" };
        metrics::counter!(crate::metrics::MAILS, "outcome" => outcome).increment(1);
        sent.map_err(|e| CoreError::Mail(e.to_string()))
    }

    /// Sends in the background, logging a failure: for flows whose response must not reveal
    /// whether an email went out (or how long sending took).
    pub fn send_mail_detached(&self, mail: Mail) {
        let app = self.clone();
        tokio::spawn(crate::logs::request::follow_request(async move {
            let subject = mail.message.subject.clone();
            if let Err(e) = app.send_mail(mail).await {
                tracing::warn!(error = %e, %subject, "failed to send an email");
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_and_values_escaped_in_the_body() {
        let tpl = EmailTemplate {
            subject: "{APP_NAME}: {OTP}".into(),
            body: "<a href=\"{APP_URL}/x/{TOKEN}\">{APP_NAME}</a>".into(),
        };
        let r = render(
            &tpl,
            "A<b>&",
            "http://h/",
            &[("TOKEN", "t.o.k"), ("OTP", "123")],
            None,
        );
        assert_eq!(r.subject, "A<b>&: 123");
        assert_eq!(r.html, "<a href=\"http://h/x/t.o.k\">A&lt;b&gt;&amp;</a>");
    }
}
