//! Outgoing mail over SMTP. The caller (kiln-core) renders templates; this crate builds a
//! multipart message (HTML plus a plain-text rendering of it) and delivers it.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How to reach the SMTP server.
#[derive(Debug, Clone, Default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// Use `LOGIN` instead of `PLAIN` authentication.
    pub login_auth: bool,
    /// Implicit TLS from the first byte (usually port 465). Otherwise STARTTLS is used when the
    /// server offers it.
    pub tls: bool,
    /// The name sent with EHLO (`localhost` when empty).
    pub local_name: String,
}

/// An address with an optional display name.
#[derive(Debug, Clone)]
pub struct Address {
    pub name: String,
    pub email: String,
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct Message {
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub subject: String,
    pub html: String,
    /// The plain-text part; empty: made from `html`.
    pub text: String,
    /// Extra headers (name, value); line breaks in a value become spaces.
    pub headers: Vec<(String, String)>,
}

impl Message {
    /// A message from `from` to `to` with an HTML body (its text part made from it).
    pub fn html(from: Address, to: Address, subject: String, html: String) -> Message {
        Message {
            from,
            to: vec![to],
            cc: Vec::new(),
            bcc: Vec::new(),
            subject,
            html,
            text: String::new(),
            headers: Vec::new(),
        }
    }
}

/// Why a message could not be sent.
#[derive(Debug)]
pub enum MailError {
    /// An address is malformed.
    Address(String),
    /// The message could not be assembled.
    Build(String),
    /// Connecting, TLS, authentication or the SMTP dialogue failed.
    Transport(String),
}

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailError::Address(m) => write!(f, "invalid address: {m}"),
            MailError::Build(m) => write!(f, "cannot build the message: {m}"),
            MailError::Transport(m) => write!(f, "SMTP delivery failed: {m}"),
        }
    }
}

impl std::error::Error for MailError {}

fn mailbox(a: &Address) -> Result<Mailbox, MailError> {
    let email = a
        .email
        .parse()
        .map_err(|e| MailError::Address(format!("{}: {e}", a.email)))?;
    let name = a.name.trim();
    Ok(Mailbox::new(
        (!name.is_empty()).then(|| name.to_owned()),
        email,
    ))
}

/// A readable plain-text version of an HTML body: tags dropped, links kept as `text (url)`,
/// paragraphs and line breaks as new lines, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut href: Option<String> = None;
    // Source whitespace (new lines included) is one space in HTML; only tags break lines.
    let push_text = |out: &mut String, t: &str| {
        for (n, word) in t.split_whitespace().enumerate() {
            if n > 0 || t.starts_with(char::is_whitespace) {
                out.push(' ');
            }
            out.push_str(word);
        }
        if t.ends_with(char::is_whitespace) && !t.trim().is_empty() {
            out.push(' ');
        }
    };
    while let Some(i) = rest.find('<') {
        push_text(&mut out, &rest[..i]);
        let Some(j) = rest[i..].find('>') else {
            rest = &rest[i..];
            break;
        };
        let tag = &rest[i + 1..i + j];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match name.as_str() {
            "br" => out.push('\n'),
            "p" | "h1" | "h2" | "h3" if closing => out.push_str("\n\n"),
            "div" | "tr" | "li" if closing => out.push('\n'),
            "a" if !closing => {
                href = tag
                    .split("href=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .map(str::to_owned);
            }
            "a" => {
                if let Some(u) = href.take() {
                    out.push_str(&format!(" ({u})"));
                }
            }
            _ => {}
        }
        rest = &rest[i + j + 1..];
    }
    push_text(&mut out, rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    let mut text = String::with_capacity(decoded.len());
    let mut blank = false;
    for l in lines {
        if l.is_empty() {
            if !blank && !text.is_empty() {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(l);
            text.push('\n');
            blank = false;
        }
    }
    text.trim_end().to_owned()
}

/// Builds the MIME message (multipart/alternative: text then HTML).
pub fn build(msg: &Message) -> Result<lettre::Message, MailError> {
    let mut b = lettre::Message::builder()
        .from(mailbox(&msg.from)?)
        .subject(msg.subject.replace(['\r', '\n'], " "));
    if msg.to.is_empty() {
        return Err(MailError::Address("no recipient".into()));
    }
    for to in &msg.to {
        b = b.to(mailbox(to)?);
    }
    for cc in &msg.cc {
        b = b.cc(mailbox(cc)?);
    }
    for bcc in &msg.bcc {
        b = b.bcc(mailbox(bcc)?);
    }
    for (name, value) in &msg.headers {
        let name = HeaderName::new_from_ascii(name.trim().to_owned())
            .map_err(|e| MailError::Build(format!("header {name:?}: {e}")))?;
        b = b.raw_header(HeaderValue::new(name, value.replace(['\r', '\n'], " ")));
    }
    let text = match msg.text.is_empty() {
        true => html_to_text(&msg.html),
        false => msg.text.clone(),
    };
    let plain = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(text);
    let built = match msg.html.is_empty() {
        true => b.singlepart(plain),
        false => b.multipart(
            MultiPart::alternative().singlepart(plain).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(msg.html.clone()),
            ),
        ),
    };
    built.map_err(|e| MailError::Build(e.to_string()))
}

/// Sends `msg` through the SMTP server of `cfg` (one connection per message, 30 s timeout).
pub async fn send(cfg: &SmtpConfig, msg: &Message) -> Result<(), MailError> {
    let message = build(msg)?;
    let tls_params =
        TlsParameters::new(cfg.host.clone()).map_err(|e| MailError::Transport(e.to_string()))?;
    let tls = if cfg.tls {
        Tls::Wrapper(tls_params)
    } else {
        Tls::Opportunistic(tls_params)
    };
    let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(30)))
        .hello_name(ClientId::Domain(if cfg.local_name.is_empty() {
            "localhost".into()
        } else {
            cfg.local_name.clone()
        }));
    if !cfg.username.is_empty() {
        t = t
            .credentials(Credentials::new(cfg.username.clone(), cfg.password.clone()))
            .authentication(vec![if cfg.login_auth {
                Mechanism::Login
            } else {
                Mechanism::Plain
            }]);
    }
    t.build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| MailError::Transport(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_version_of_html() {
        let html = "<p>Hello,</p>\n<p>Click <a class=\"btn\" href=\"http://x/confirm/T\">Verify</a></p>\n<p>Thanks,<br/>\n  Acme &amp; co</p>";
        assert_eq!(
            html_to_text(html),
            "Hello,\n\nClick Verify (http://x/confirm/T)\n\nThanks,\nAcme & co"
        );
    }

    #[test]
    fn builds_a_multipart_message_and_refuses_header_injection() {
        let m = Message {
            from: Address {
                name: "Support".into(),
                email: "support@example.com".into(),
            },
            to: vec![Address {
                name: String::new(),
                email: "u@example.com".into(),
            }],
            cc: Vec::new(),
            bcc: Vec::new(),
            subject: "Hi\r\nBcc: evil@example.com".into(),
            html: "<p>x</p>".into(),
            text: String::new(),
            headers: vec![("X-Kind".into(), "a\r\nBcc: evil@example.com".into())],
        };
        let raw = String::from_utf8(build(&m).unwrap().formatted()).unwrap();
        assert!(raw.contains("From: Support <support@example.com>"), "{raw}");
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        assert!(raw.contains("multipart/alternative"));
        let bad = Message {
            to: vec![Address {
                name: String::new(),
                email: "not an address".into(),
            }],
            ..m
        };
        assert!(matches!(build(&bad), Err(MailError::Address(_))));
    }
}
