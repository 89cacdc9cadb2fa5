//! Layered configuration: `kiln.toml` < `KILN_*` environment variables < command-line flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Settings read from `kiln.toml` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub http: Option<String>,
    pub dir: Option<PathBuf>,
    pub dev: Option<bool>,
    pub log: Option<String>,
    pub log_format: Option<String>,
    pub db: Option<String>,
    pub db_schema: Option<String>,
    pub redis: Option<String>,
    pub origins: Option<String>,
    pub encryption_env: Option<String>,
    pub metrics_token: Option<String>,
    pub metrics_allow: Option<String>,
    pub otlp: Option<String>,
    pub https: Option<String>,
    pub domains: Option<Vec<String>>,
    pub acme_directory: Option<String>,
    pub acme_ca_root: Option<PathBuf>,
    pub acme_email: Option<String>,
    pub acme_challenge: Option<String>,
}

/// The effective settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub http: String,
    pub dir: PathBuf,
    pub dev: bool,
    pub log: String,
    /// Log lines on stderr as JSON objects, one a line (`--log-format json`), instead of text.
    pub log_json: bool,
    /// PostgreSQL URL; `None`: SQLite in `dir`.
    pub db: Option<String>,
    /// PostgreSQL schema for Kiln's tables (`None`: the server's default).
    pub db_schema: Option<String>,
    /// Redis carrying messages between the nodes (`None`: LISTEN/NOTIFY on PostgreSQL).
    pub redis: Option<String>,
    /// Browser origins allowed to call the API (CORS); `*` is every origin.
    pub origins: Vec<String>,
    /// The environment variable holding the key that seals the stored settings.
    pub encryption_env: Option<String>,
    /// The bearer token that may read `/metrics`.
    pub metrics_token: Option<String>,
    /// Connection addresses (IPs, CIDR ranges) that may read `/metrics` without the token.
    pub metrics_allow: Vec<String>,
    /// HTTPS with certificates from an ACME CA, when domains are named.
    pub https: Option<Https>,
    /// Where traces go (an OTLP/HTTP collector's URL), if anywhere.
    pub otlp: Option<String>,
}

/// Automatic HTTPS (`kiln serve example.com`).
#[derive(Debug, Clone)]
pub struct Https {
    /// Where HTTPS listens.
    pub addr: String,
    /// The domains the certificate covers.
    pub domains: Vec<String>,
    /// The ACME CA's directory URL.
    pub directory: String,
    /// A PEM file of roots trusted for the directory's HTTPS (a private CA).
    pub ca_root: Option<PathBuf>,
    /// The account's contact address.
    pub email: Option<String>,
    /// The challenges to try, in order.
    pub challenges: Vec<kiln_acme::Challenge>,
}

pub const DEFAULT_HTTP: &str = "127.0.0.1:8090";
pub const DEFAULT_DIR: &str = "kiln_data";

/// Flags given on the command line (None = not given).
#[derive(Debug, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub http: Option<String>,
    pub dir: Option<PathBuf>,
    pub dev: bool,
    pub db: Option<String>,
    pub db_schema: Option<String>,
    pub redis: Option<String>,
    pub origins: Option<String>,
    pub encryption_env: Option<String>,
    pub metrics_token: Option<String>,
    pub metrics_allow: Option<String>,
    pub log_format: Option<String>,
    pub otlp: Option<String>,
    pub https: Option<String>,
    /// Positional arguments of `serve`: the domains of automatic HTTPS.
    pub domains: Vec<String>,
    pub acme_directory: Option<String>,
    pub acme_ca_root: Option<PathBuf>,
    pub acme_email: Option<String>,
    pub acme_challenge: Option<String>,
}

fn read_file(path: &Path, required: bool) -> Result<FileConfig, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| format!("invalid config file {}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok(FileConfig::default())
        }
        Err(e) => Err(format!("cannot read config file {}: {e}", path.display())),
    }
}

fn env_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(format!("KILN_DEV must be true or false, not {other:?}")),
    }
}

/// Resolves the configuration from the file (`--config`, `KILN_CONFIG` or `./kiln.toml`), the
/// environment (`env` lists `KILN_*` variables) and the flags.
pub fn resolve(flags: Flags, env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
    let (path, required) = match flags
        .config
        .clone()
        .or_else(|| env("KILN_CONFIG").map(PathBuf::from))
    {
        Some(p) => (p, true),
        None => (PathBuf::from("kiln.toml"), false),
    };
    let file = read_file(&path, required)?;
    let https = https(&flags, &file, &env)?;
    let dev = match env("KILN_DEV") {
        Some(v) => env_bool(&v)?,
        None => file.dev.unwrap_or(false),
    } || flags.dev;
    let db = flags
        .db
        .or_else(|| env("KILN_DATABASE_URL"))
        .or(file.db)
        .filter(|u| !u.is_empty());
    if let Some(url) = &db {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(format!("unsupported database URL {url:?}: expected postgres://… (omit it to use SQLite in the data directory)"));
        }
    }
    let redis = flags
        .redis
        .or_else(|| env("KILN_REDIS_URL"))
        .or(file.redis)
        .filter(|u| !u.is_empty());
    if redis.is_some() && db.is_none() {
        return Err("--redis (KILN_REDIS_URL) carries messages between nodes sharing a PostgreSQL database: give --db too".into());
    }
    let encryption_env = flags
        .encryption_env
        .or_else(|| env("KILN_ENCRYPTION_ENV"))
        .or(file.encryption_env)
        .filter(|s| !s.is_empty());
    let metrics_allow: Vec<String> = flags
        .metrics_allow
        .or_else(|| env("KILN_METRICS_ALLOW"))
        .or(file.metrics_allow)
        .map(|s| comma_list(&s))
        .unwrap_or_default();
    if let Some(bad) = metrics_allow
        .iter()
        .find(|a| kiln_core::net::parse_ip_or_cidr(a).is_none())
    {
        return Err(format!(
            "--metrics-allow (KILN_METRICS_ALLOW): {bad:?} is not an IP address or CIDR range"
        ));
    }
    let log_json = match flags
        .log_format
        .or_else(|| env("KILN_LOG_FORMAT"))
        .or(file.log_format)
        .as_deref()
    {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            return Err(format!(
                "--log-format (KILN_LOG_FORMAT) is text or json, not {other:?}"
            ))
        }
    };
    // PocketBase's defaults once domains are named: the standard ports on every interface
    let default_http = if https.is_some() {
        "0.0.0.0:80"
    } else {
        DEFAULT_HTTP
    };
    Ok(Config {
        https,
        otlp: flags
            .otlp
            .or_else(|| env("KILN_OTLP"))
            .or(file.otlp)
            .filter(|u| !u.is_empty()),
        db,
        redis,
        encryption_env,
        log_json,
        metrics_token: flags
            .metrics_token
            .or_else(|| env("KILN_METRICS_TOKEN"))
            .or(file.metrics_token)
            .filter(|t| !t.is_empty()),
        metrics_allow,
        db_schema: flags
            .db_schema
            .or_else(|| env("KILN_DATABASE_SCHEMA"))
            .or(file.db_schema)
            .filter(|s| !s.is_empty()),
        http: listen_address(
            flags
                .http
                .or_else(|| env("KILN_HTTP"))
                .or(file.http)
                .unwrap_or_else(|| default_http.to_owned()),
        ),
        dir: flags
            .dir
            .or_else(|| env("KILN_DIR").map(PathBuf::from))
            .or(file.dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR)),
        origins: comma_list(
            &flags
                .origins
                .or_else(|| env("KILN_ORIGINS"))
                .or(file.origins)
                .unwrap_or_else(|| "*".to_owned()),
        ),
        dev,
        log: env("KILN_LOG").or(file.log).unwrap_or_else(|| {
            if dev {
                "debug".into()
            } else {
                "info".into()
            }
        }),
    })
}

/// The non-empty items of a comma-separated list, trimmed.
fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

/// The automatic HTTPS settings: `None` without domains (an HTTPS address without them is an error).
fn https(
    flags: &Flags,
    file: &FileConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<Https>, String> {
    let domains = if !flags.domains.is_empty() {
        flags.domains.clone()
    } else if let Some(d) = env("KILN_DOMAINS") {
        comma_list(&d)
    } else {
        file.domains.clone().unwrap_or_default()
    };
    let addr = flags
        .https
        .clone()
        .or_else(|| env("KILN_HTTPS"))
        .or(file.https.clone())
        .filter(|a| !a.is_empty());
    if domains.is_empty() {
        return match addr {
            Some(_) => Err("--https (KILN_HTTPS) needs the domains to get a certificate for: kiln serve example.com www.example.com".into()),
            None => Ok(None),
        };
    }
    let challenges = match flags
        .acme_challenge
        .clone()
        .or_else(|| env("KILN_ACME_CHALLENGE"))
        .or(file.acme_challenge.clone())
    {
        None => vec![kiln_acme::Challenge::TlsAlpn01, kiln_acme::Challenge::Http01],
        Some(s) => comma_list(&s)
            .iter()
            .map(|c| {
                kiln_acme::Challenge::parse(c).ok_or_else(|| {
                    format!("--acme-challenge (KILN_ACME_CHALLENGE): {c:?} is not tls-alpn-01 or http-01")
                })
            })
            .collect::<Result<_, _>>()?,
    };
    if challenges.is_empty() {
        return Err("--acme-challenge (KILN_ACME_CHALLENGE) names no challenge".into());
    }
    Ok(Some(Https {
        addr: listen_address(addr.unwrap_or_else(|| "0.0.0.0:443".to_owned())),
        domains,
        directory: flags
            .acme_directory
            .clone()
            .or_else(|| env("KILN_ACME_DIRECTORY"))
            .or(file.acme_directory.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| kiln_acme::LETS_ENCRYPT.to_owned()),
        ca_root: flags
            .acme_ca_root
            .clone()
            .or_else(|| env("KILN_ACME_CA_ROOT").map(PathBuf::from))
            .or(file.acme_ca_root.clone()),
        email: flags
            .acme_email
            .clone()
            .or_else(|| env("KILN_ACME_EMAIL"))
            .or(file.acme_email.clone())
            .filter(|e| !e.is_empty()),
        challenges,
    }))
}

/// `:8090` (PocketBase's and Go's form, no host) listens on every interface.
fn listen_address(http: String) -> String {
    if http.starts_with(':') {
        format!("0.0.0.0{http}")
    } else {
        http
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn flags_beat_env_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "http = \"127.0.0.1:1\"\ndir = \"/from/file\"\n").unwrap();
        let env: HashMap<&str, &str> = [("KILN_DIR", "/from/env")].into();
        let get = |k: &str| env.get(k).map(|v| v.to_string());
        let cfg = resolve(
            Flags {
                config: Some(file.clone()),
                ..Default::default()
            },
            get,
        )
        .unwrap();
        assert_eq!(cfg.http, "127.0.0.1:1");
        assert_eq!(cfg.dir, PathBuf::from("/from/env"));
        let cfg = resolve(
            Flags {
                config: Some(file),
                dir: Some("/flag".into()),
                ..Default::default()
            },
            get,
        )
        .unwrap();
        assert_eq!(cfg.dir, PathBuf::from("/flag"));
    }

    #[test]
    fn defaults_and_errors() {
        let cfg = resolve(
            Flags {
                config: None,
                ..Default::default()
            },
            |_| None,
        )
        .unwrap();
        assert_eq!(cfg.http, DEFAULT_HTTP);
        let port_only = |k: &str| (k == "KILN_HTTP").then(|| ":8090".to_owned());
        let cfg = resolve(Flags::default(), port_only).unwrap();
        assert_eq!(cfg.http, "0.0.0.0:8090");
        assert_eq!(cfg.origins, vec!["*".to_owned()]);
        let two = |k: &str| (k == "KILN_ORIGINS").then(|| "https://a.io, https://b.io".to_owned());
        let cfg = resolve(Flags::default(), two).unwrap();
        assert_eq!(
            cfg.origins,
            vec!["https://a.io".to_owned(), "https://b.io".to_owned()]
        );
        assert!(resolve(
            Flags {
                config: Some("/nonexistent/k.toml".into()),
                ..Default::default()
            },
            |_| None
        )
        .is_err());
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "nope = 1").unwrap();
        assert!(resolve(
            Flags {
                config: Some(bad),
                ..Default::default()
            },
            |_| None
        )
        .is_err());
    }

    #[test]
    fn domains_turn_https_on_with_the_standard_ports() {
        let cfg = resolve(Flags::default(), |_| None).unwrap();
        assert!(cfg.https.is_none());
        let cfg = resolve(
            Flags {
                domains: vec!["example.com".into()],
                ..Default::default()
            },
            |_| None,
        )
        .unwrap();
        let https = cfg.https.unwrap();
        assert_eq!(
            (cfg.http.as_str(), https.addr.as_str()),
            ("0.0.0.0:80", "0.0.0.0:443")
        );
        assert_eq!(https.directory, kiln_acme::LETS_ENCRYPT);
        assert_eq!(
            https.challenges,
            [
                kiln_acme::Challenge::TlsAlpn01,
                kiln_acme::Challenge::Http01
            ]
        );
        let env = |k: &str| match k {
            "KILN_DOMAINS" => Some("a.example.com, b.example.com".to_owned()),
            "KILN_HTTPS" => Some(":8443".to_owned()),
            "KILN_HTTP" => Some("127.0.0.1:8080".to_owned()),
            "KILN_ACME_CHALLENGE" => Some("http-01".to_owned()),
            _ => None,
        };
        let cfg = resolve(Flags::default(), env).unwrap();
        let https = cfg.https.unwrap();
        assert_eq!(https.domains, ["a.example.com", "b.example.com"]);
        assert_eq!(
            (cfg.http.as_str(), https.addr.as_str()),
            ("127.0.0.1:8080", "0.0.0.0:8443")
        );
        assert_eq!(https.challenges, [kiln_acme::Challenge::Http01]);
        let no_domain = |k: &str| (k == "KILN_HTTPS").then(|| ":443".to_owned());
        assert!(resolve(Flags::default(), no_domain)
            .unwrap_err()
            .contains("domains"));
        let bad = Flags {
            domains: vec!["example.com".into()],
            acme_challenge: Some("dns-01".into()),
            ..Default::default()
        };
        assert!(resolve(bad, |_| None).unwrap_err().contains("dns-01"));
    }

    #[test]
    fn redis_needs_postgres() {
        let redis = |k: &str| (k == "KILN_REDIS_URL").then(|| "redis://127.0.0.1:6379".to_owned());
        let e = resolve(Flags::default(), redis).unwrap_err();
        assert!(e.contains("--db"), "{e}");
        let cfg = resolve(
            Flags {
                db: Some("postgres://h/db".into()),
                ..Default::default()
            },
            redis,
        )
        .unwrap();
        assert_eq!(cfg.redis.as_deref(), Some("redis://127.0.0.1:6379"));
    }
}
