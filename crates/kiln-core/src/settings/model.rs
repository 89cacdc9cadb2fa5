//! The app settings in PocketBase's JSON shape, with PocketBase's defaults except where Kiln
//! chooses a safer one (rate limiting of auth endpoints is on).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Smtp {
    pub enabled: bool,
    pub port: i64,
    pub host: String,
    pub username: String,
    /// Never shown by the API (see [`Settings::to_public_json`]).
    pub password: String,
    /// `PLAIN` (default when empty) or `LOGIN`.
    pub auth_method: String,
    /// Implicit TLS from the first byte (port 465). Otherwise STARTTLS is used when offered.
    pub tls: bool,
    /// The name sent in EHLO (default `localhost`).
    pub local_name: String,
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            enabled: false,
            port: 587,
            host: "smtp.example.com".into(),
            username: String::new(),
            password: String::new(),
            auth_method: String::new(),
            tls: false,
            local_name: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct S3 {
    pub enabled: bool,
    pub bucket: String,
    pub region: String,
    pub endpoint: String,
    pub access_key: String,
    /// Never shown by the API.
    pub secret: String,
    pub force_path_style: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Backups {
    pub cron: String,
    pub cron_max_keep: i64,
    pub s3: S3,
}

impl Default for Backups {
    fn default() -> Self {
        Backups {
            cron: String::new(),
            cron_max_keep: 3,
            s3: S3::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    pub accent_color: String,
    pub app_name: String,
    #[serde(rename = "appURL")]
    pub app_url: String,
    pub sender_name: String,
    pub sender_address: String,
    pub hide_controls: bool,
}

impl Default for Meta {
    fn default() -> Self {
        Meta {
            accent_color: "#1055c9".into(),
            app_name: "Acme".into(),
            app_url: "http://localhost:8090".into(),
            sender_name: "Support".into(),
            sender_address: "support@example.com".into(),
            hide_controls: false,
        }
    }
}

/// One rate limit rule: at most `max_requests` per `duration` seconds per client IP for the
/// requests its `label` matches (see [`crate::ratelimit`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RateLimitRule {
    pub label: String,
    /// `""` (everyone), `@guest` or `@auth`.
    pub audience: String,
    pub duration: i64,
    pub max_requests: i64,
}

impl RateLimitRule {
    fn new(label: &str, duration: i64, max_requests: i64) -> Self {
        RateLimitRule {
            label: label.into(),
            audience: String::new(),
            duration,
            max_requests,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RateLimits {
    pub rules: Vec<RateLimitRule>,
    #[serde(rename = "excludedIPs")]
    pub excluded_ips: Vec<String>,
    pub enabled: bool,
}

impl Default for RateLimits {
    /// PocketBase ships its rules switched off. Kiln ships one rule, switched on: sign-in
    /// attempts (`*:auth`) are limited to 20 a minute per IP, loose enough for a person retyping
    /// a password, tight enough to make guessing slow on top of argon2id's cost. Limits on every
    /// request are left for the operator to choose (they depend on the app and on proxies).
    fn default() -> Self {
        RateLimits {
            rules: vec![RateLimitRule::new("*:auth", 60, 20)],
            excluded_ips: vec![],
            enabled: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrustedProxy {
    pub headers: Vec<String>,
    #[serde(rename = "useLeftmostIP")]
    pub use_leftmost_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Batch {
    pub enabled: bool,
    pub max_requests: i64,
    pub timeout: i64,
    pub max_body_size: i64,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            enabled: false,
            max_requests: 50,
            timeout: 3,
            max_body_size: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Logs {
    pub max_data_size: i64,
    pub max_days: i64,
    pub min_level: i64,
    #[serde(rename = "logIP")]
    pub log_ip: bool,
    pub log_auth_id: bool,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            max_data_size: 0,
            max_days: 5,
            min_level: 0,
            log_ip: true,
            log_auth_id: false,
        }
    }
}

/// Passkeys (WebAuthn), a Kiln addition: the relying party. Empty values follow
/// `meta.appURL` (its host is the RP id, its origin the one allowed origin) and `meta.appName`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Passkeys {
    pub enabled: bool,
    pub rp_id: String,
    pub rp_name: String,
    pub origins: Vec<String>,
}

impl Default for Passkeys {
    fn default() -> Self {
        Passkeys {
            enabled: true,
            rp_id: String::new(),
            rp_name: String::new(),
            origins: vec![],
        }
    }
}

/// Webhooks (a Kiln addition): the endpoints other services call (`POST /api/webhooks/{name}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Webhooks {
    pub inbound: Vec<InboundWebhook>,
    pub outbound: Vec<OutboundWebhook>,
}

/// One outbound webhook: the record events of a collection posted to `url`, signed per
/// Standard Webhooks with each of `secrets` (`whsec_` + base64; several while one is rotated;
/// never shown by the API), delivered through the job queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OutboundWebhook {
    pub name: String,
    pub url: String,
    /// The collection's name or id.
    pub collection: String,
    /// Some of `create`, `update`, `delete`.
    pub events: Vec<String>,
    /// A condition in the rule language the record must meet to be delivered (empty: every
    /// record); it sees the record as written (a delete: as it was); `@request.*` is refused.
    pub filter: String,
    pub secrets: Vec<String>,
    pub enabled: bool,
}

impl Default for OutboundWebhook {
    fn default() -> Self {
        OutboundWebhook {
            name: String::new(),
            url: String::new(),
            collection: String::new(),
            events: vec!["create".into(), "update".into(), "delete".into()],
            filter: String::new(),
            secrets: vec![],
            enabled: true,
        }
    }
}

/// One inbound endpoint: whose signatures it checks, with which secrets (several while one is
/// rotated; never shown by the API), and which job handles its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InboundWebhook {
    pub name: String,
    /// `stripe` or `standard` (Standard Webhooks).
    pub scheme: String,
    pub secrets: Vec<String>,
    /// Seconds a delivery's timestamp may differ from now.
    pub tolerance: i64,
    /// The job each new event is queued for (`jobAdd` handles it); empty: events are only
    /// recorded.
    pub job: String,
}

impl Default for InboundWebhook {
    fn default() -> Self {
        InboundWebhook {
            name: String::new(),
            scheme: "standard".into(),
            secrets: vec![],
            tolerance: 300,
            job: String::new(),
        }
    }
}

/// Everything `GET/PATCH /api/settings` covers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Settings {
    #[serde(rename = "superuserIPs")]
    pub superuser_ips: Vec<String>,
    pub smtp: Smtp,
    pub backups: Backups,
    pub s3: S3,
    pub meta: Meta,
    pub rate_limits: RateLimits,
    pub trusted_proxy: TrustedProxy,
    pub batch: Batch,
    pub logs: Logs,
    /// Kiln's additions (after PocketBase's keys).
    pub passkeys: Passkeys,
    pub webhooks: Webhooks,
}

impl Settings {
    /// The settings as the API shows them: secrets (SMTP password, S3 secrets) left out.
    pub fn to_public_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        for path in [
            &["smtp", "password"][..],
            &["s3", "secret"],
            &["backups", "s3", "secret"],
        ] {
            let (last, parents) = path.split_last().expect("non-empty path");
            let mut node = &mut v;
            for p in parents {
                node = &mut node[*p];
            }
            if let Some(m) = node.as_object_mut() {
                m.shift_remove(*last);
            }
        }
        for way in ["inbound", "outbound"] {
            if let Some(list) = v["webhooks"][way].as_array_mut() {
                for w in list.iter_mut().filter_map(|w| w.as_object_mut()) {
                    w.shift_remove("secrets");
                }
            }
        }
        v
    }
}
