//! Settings validation with PocketBase's field error codes. Errors are keyed by dotted path
//! (`meta.appURL`, `rateLimits.rules.0.label`), which the API nests.

use super::model::*;
use crate::error::{FieldError, FieldErrors};
use crate::records::values::is_email;

fn required() -> FieldError {
    FieldError::required()
}

fn too_long(max: usize) -> FieldError {
    FieldError::new(
        "validation_length_too_long",
        format!("The length must be no more than {max}."),
    )
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.chars().any(char::is_whitespace))
}

fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        || s.parse::<std::net::IpAddr>().is_ok()
}

/// Whether a rate limit label has one of PocketBase's shapes: `/path/`, `METHOD /path`,
/// `collection:action` or `*:action`.
pub fn valid_rate_label(label: &str) -> bool {
    if label.is_empty()
        || label.len() > 255
        || label.chars().any(char::is_whitespace) && !label.contains(" /")
    {
        return false;
    }
    if let Some((method, path)) = label.split_once(' ') {
        return ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(&method)
            && path.starts_with('/');
    }
    if label.starts_with('/') {
        return true;
    }
    match label.split_once(':') {
        Some((c, tag)) => {
            !c.is_empty()
                && !tag.is_empty()
                && tag
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        }
        None => false,
    }
}

/// Every problem with `s`, empty when it is valid.
pub fn settings(s: &Settings) -> FieldErrors {
    let mut e = FieldErrors::new();
    let mut put = |k: String, err: FieldError| {
        e.entry(k).or_insert(err);
    };
    check_meta(s, &mut put);
    check_smtp(s, &mut put);
    check_storage(s, &mut put);
    check_backups(s, &mut put);
    check_rate_limits(s, &mut put);
    check_batch(s, &mut put);
    check_logs(s, &mut put);
    check_webhooks(s, &mut put);
    check_outbound(s, &mut put);
    e
}

fn check_webhooks(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    for (i, w) in s.webhooks.inbound.iter().enumerate() {
        let at = |k: &str| format!("webhooks.inbound.{i}.{k}");
        if let Some(e) = webhook_name(
            &w.name,
            s.webhooks.inbound[..i].iter().map(|o| o.name.as_str()),
        ) {
            put(at("name"), e);
        }
        if !["stripe", "standard"].contains(&w.scheme.as_str()) {
            put(
                at("scheme"),
                FieldError::new("validation_in_invalid", "Must be stripe or standard."),
            );
        }
        if w.secrets.is_empty() || w.secrets.iter().any(|x| x.is_empty() || x.len() > 500) {
            put(at("secrets"), required());
        } else if w.scheme == "standard" && w.secrets.iter().any(|x| !standard_secret(x)) {
            put(
                at("secrets"),
                FieldError::new(
                    "validation_invalid_value",
                    "A Standard Webhooks secret is base64, optionally after whsec_.",
                ),
            );
        }
        if !(1..=86_400).contains(&w.tolerance) {
            put(
                at("tolerance"),
                FieldError::new("validation_invalid_value", "Between 1 and 86400 seconds."),
            );
        }
        if !w.job.is_empty() && !crate::jobs::name::valid(&w.job) {
            put(
                at("job"),
                FieldError::new(
                    "validation_invalid_value",
                    "A job name is 1 to 100 letters, digits, _ - . or :.",
                ),
            );
        }
    }
}

/// What is wrong with a webhook's name, given the names before it in its list.
fn webhook_name<'a>(name: &str, mut before: impl Iterator<Item = &'a str>) -> Option<FieldError> {
    if name.is_empty()
        || name.len() > 100
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Some(FieldError::new(
            "validation_invalid_name",
            "1 to 100 letters, digits, _ or -.",
        ));
    }
    before
        .any(|o| o == name)
        .then(|| FieldError::new("validation_not_unique", "Must be unique."))
}

fn check_outbound(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    for (i, w) in s.webhooks.outbound.iter().enumerate() {
        let at = |k: &str| format!("webhooks.outbound.{i}.{k}");
        if let Some(e) = webhook_name(
            &w.name,
            s.webhooks.outbound[..i].iter().map(|o| o.name.as_str()),
        ) {
            put(at("name"), e);
        }
        if !is_url(&w.url) || w.url.len() > 2000 {
            put(
                at("url"),
                FieldError::new("validation_is_url", "Must be a valid url."),
            );
        }
        if w.collection.is_empty() {
            put(at("collection"), required());
        }
        if w.events.is_empty()
            || w.events
                .iter()
                .any(|e| !["create", "update", "delete"].contains(&e.as_str()))
        {
            put(
                at("events"),
                FieldError::new(
                    "validation_in_invalid",
                    "Some of create, update and delete.",
                ),
            );
        }
        if w.secrets.is_empty()
            || w.secrets
                .iter()
                .any(|x| x.len() > 500 || !standard_secret(x))
        {
            put(
                at("secrets"),
                FieldError::new(
                    "validation_invalid_value",
                    "One or more Standard Webhooks secrets (whsec_ and base64).",
                ),
            );
        }
    }
}

/// The app's name, URL and sender.
fn check_meta(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    let m = &s.meta;
    if m.app_name.trim().is_empty() {
        put("meta.appName".into(), required());
    } else if m.app_name.len() > 255 {
        put("meta.appName".into(), too_long(255));
    }
    if m.app_url.is_empty() {
        put("meta.appURL".into(), required());
    } else if !is_url(&m.app_url) {
        put(
            "meta.appURL".into(),
            FieldError::new("validation_is_url", "Must be a valid URL."),
        );
    }
    if m.sender_name.trim().is_empty() {
        put("meta.senderName".into(), required());
    } else if m.sender_name.len() > 255 {
        put("meta.senderName".into(), too_long(255));
    }
    if m.sender_address.is_empty() {
        put("meta.senderAddress".into(), required());
    } else if !is_email(&m.sender_address) {
        put(
            "meta.senderAddress".into(),
            FieldError::new("validation_is_email", "Must be a valid email address."),
        );
    }
}

/// SMTP, when it is on.
fn check_smtp(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    let smtp = &s.smtp;
    if smtp.enabled {
        if smtp.host.is_empty() {
            put("smtp.host".into(), required());
        } else if !is_host(&smtp.host) {
            put(
                "smtp.host".into(),
                FieldError::new("validation_is_host", "Must be a valid host."),
            );
        }
        if smtp.port == 0 {
            put("smtp.port".into(), required());
        }
    }
    if !(0..=65535).contains(&smtp.port) {
        put(
            "smtp.port".into(),
            FieldError::new(
                "validation_max_less_equal_than_required",
                "Must be no greater than 65535.",
            ),
        );
    }
    if !["", "PLAIN", "LOGIN"].contains(&smtp.auth_method.as_str()) {
        put(
            "smtp.authMethod".into(),
            FieldError::new("validation_in_invalid", "Must be a valid value."),
        );
    }
    if !smtp.local_name.is_empty() && !is_host(&smtp.local_name) {
        put(
            "smtp.localName".into(),
            FieldError::new("validation_is_host", "Must be a valid host."),
        );
    }
}

/// The two S3 configurations (files and backups).
fn check_storage(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    for (prefix, s3) in [("s3", &s.s3), ("backups.s3", &s.backups.s3)] {
        if !s3.enabled {
            continue;
        }
        for (k, v) in [
            ("bucket", &s3.bucket),
            ("region", &s3.region),
            ("endpoint", &s3.endpoint),
            ("accessKey", &s3.access_key),
            ("secret", &s3.secret),
        ] {
            if v.is_empty() {
                put(format!("{prefix}.{k}"), required());
            }
        }
        if !s3.endpoint.is_empty() && !is_url(&s3.endpoint) {
            put(
                format!("{prefix}.endpoint"),
                FieldError::new("validation_is_url", "Must be a valid URL."),
            );
        }
    }
}

/// The backups' schedule.
fn check_backups(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    if !s.backups.cron.is_empty() {
        if let Err(e) = crate::cron::schedule::Schedule::parse(&s.backups.cron) {
            // Shown as PocketBase shows Go's error text: capitalised, with a full stop.
            let mut chars = e.chars();
            let message = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".")
                .unwrap_or_default();
            put(
                "backups.cron".into(),
                FieldError::new("validation_invalid_cron", message),
            );
        }
    }
    if s.backups.cron_max_keep == 0 && !s.backups.cron.is_empty() {
        put("backups.cronMaxKeep".into(), required());
    } else if s.backups.cron_max_keep < 0 {
        put(
            "backups.cronMaxKeep".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 1.",
            ),
        );
    }
}

/// Rate limit rules and excluded addresses, and the superusers' addresses.
fn check_rate_limits(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    let rl = &s.rate_limits;
    for (i, r) in rl.rules.iter().enumerate() {
        if r.label.is_empty() {
            put(format!("rateLimits.rules.{i}.label"), required());
        } else if !valid_rate_label(&r.label) {
            put(
                format!("rateLimits.rules.{i}.label"),
                FieldError::new(
                    "validation_invalid_rate_limit_label",
                    "Invalid label format.",
                ),
            );
        } else if rl.rules[..i]
            .iter()
            .any(|o| o.label == r.label && o.audience == r.audience)
        {
            put(
                format!("rateLimits.rules.{i}.label"),
                FieldError::new(
                    "validation_duplicated_rate_limit_tag",
                    "Rate limit tag with label and audience must be unique.",
                ),
            );
        }
        if !["", "@guest", "@auth"].contains(&r.audience.as_str()) {
            put(
                format!("rateLimits.rules.{i}.audience"),
                FieldError::new("validation_in_invalid", "Must be a valid value."),
            );
        }
        if r.duration < 1 {
            put(
                format!("rateLimits.rules.{i}.duration"),
                FieldError::new(
                    "validation_min_greater_equal_than_required",
                    "Must be no less than 1.",
                ),
            );
        }
        if r.max_requests < 1 {
            put(
                format!("rateLimits.rules.{i}.maxRequests"),
                FieldError::new(
                    "validation_min_greater_equal_than_required",
                    "Must be no less than 1.",
                ),
            );
        }
    }
    if rl.enabled && rl.rules.is_empty() {
        put("rateLimits.rules".into(), required());
    }
    for (i, ip) in rl.excluded_ips.iter().enumerate() {
        if crate::net::parse_ip_or_cidr(ip).is_none() {
            put(
                format!("rateLimits.excludedIPs.{i}"),
                FieldError::new(
                    "validation_invalid_ip",
                    "Must be a valid IP address or CIDR.",
                ),
            );
        }
    }
    for (i, ip) in s.superuser_ips.iter().enumerate() {
        if crate::net::parse_ip_or_cidr(ip).is_none() {
            put(
                format!("superuserIPs.{i}"),
                FieldError::new(
                    "validation_invalid_ip",
                    "Must be a valid IP address or CIDR.",
                ),
            );
        }
    }
}

/// Batch requests.
fn check_batch(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    let b = &s.batch;
    if b.enabled && b.max_requests < 1 {
        put(
            "batch.maxRequests".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 1.",
            ),
        );
    }
    if b.enabled && b.timeout < 1 {
        put(
            "batch.timeout".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 1.",
            ),
        );
    }
    if b.max_body_size < 0 {
        put(
            "batch.maxBodySize".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 0.",
            ),
        );
    }
}

/// The log's retention.
fn check_logs(s: &Settings, put: &mut impl FnMut(String, FieldError)) {
    if s.logs.max_days < 0 {
        put(
            "logs.maxDays".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 0.",
            ),
        );
    }
    if s.logs.max_data_size < 0 {
        put(
            "logs.maxDataSize".into(),
            FieldError::new(
                "validation_min_greater_equal_than_required",
                "Must be no less than 0.",
            ),
        );
    }
}

/// Whether `secret` is a Standard Webhooks secret: base64 (after an optional `whsec_`).
fn standard_secret(secret: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .is_ok_and(|k| !k.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(settings(&Settings::default()).is_empty());
    }

    #[test]
    fn reports_each_bad_field_by_path() {
        let mut s = Settings::default();
        s.meta.app_url = "not a url".into();
        s.meta.sender_address = "nope".into();
        s.smtp.enabled = true;
        s.smtp.host = String::new();
        s.rate_limits.rules.push(RateLimitRule {
            label: "bad label".into(),
            audience: "@x".into(),
            duration: 0,
            max_requests: 0,
        });
        let e = settings(&s);
        let keys: Vec<&str> = e.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "meta.appURL",
                "meta.senderAddress",
                "rateLimits.rules.1.audience",
                "rateLimits.rules.1.duration",
                "rateLimits.rules.1.label",
                "rateLimits.rules.1.maxRequests",
                "smtp.host"
            ]
        );
    }

    #[test]
    fn rate_labels() {
        for ok in [
            "*:auth",
            "users:create",
            "/api/",
            "/api/batch",
            "POST /api/collections/users/records",
        ] {
            assert!(valid_rate_label(ok), "{ok}");
        }
        for bad in ["", "auth", "users:", ":auth", "FOO /x", "POST x", "a b:c"] {
            assert!(!valid_rate_label(bad), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@"));
        assert!(!is_email("a b@c.d"));
        assert!(!is_email("<a@b.c>"));
    }
}
