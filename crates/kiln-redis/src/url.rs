//! `redis://[[username]:password@]host[:port][/db]`: where the Redis server is and how to sign in;
//! `rediss://…` for TLS, with `?ssl_ca_certs=/path/ca.pem` (trusted certificates, PEM; default: the
//! Mozilla roots built in) and `?ssl_cert_reqs=none` (encrypt without checking the certificate),
//! as redis-py names them. The database number is accepted and ignored (publish/subscribe is the
//! same in every database).

use std::time::Duration;

use crate::Error;

/// A Redis server to connect to.
#[derive(Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// How long to wait for a connection (and for the answer to signing in).
    pub connect_timeout: Duration,
    /// TLS (`rediss://`).
    pub tls: Option<crate::stream::Tls>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the password stays out of logs
        write!(
            f,
            "{}://{}:{}",
            if self.tls.is_some() {
                "rediss"
            } else {
                "redis"
            },
            self.host,
            self.port
        )
    }
}

impl Config {
    /// Reads a `redis://` or `rediss://` URL (see the module). Unix sockets are not supported.
    pub fn parse(url: &str) -> Result<Config, Error> {
        let bad = |m: &str| Error::Url(m.to_owned());
        let (tls, rest) = match (url.strip_prefix("rediss://"), url.strip_prefix("redis://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => return Err(bad("expected redis://host:port or rediss://host:port")),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.split('#').next().unwrap_or("");
        let authority = rest.split('/').next().unwrap_or("");
        if let Some(db) = rest[authority.len()..].strip_prefix('/') {
            if !db.is_empty() && db.parse::<u32>().is_err() {
                return Err(bad("the path must be a database number"));
            }
        }
        let (mut ca, mut verify) = (None, true);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("ssl_ca_certs", v) => ca = Some(decode(v)?),
                ("ssl_cert_reqs", "none") => verify = false,
                ("ssl_cert_reqs", "required") => verify = true,
                (k, _) => {
                    return Err(Error::Url(format!(
                        "unknown option {k:?} (ssl_ca_certs, ssl_cert_reqs=none|required)"
                    )))
                }
            }
        }
        if !tls && (ca.is_some() || !verify) {
            return Err(bad("ssl_ca_certs and ssl_cert_reqs need rediss://"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (
                    Some(decode(user)?).filter(|u| !u.is_empty()),
                    Some(decode(pass)?),
                ),
                None => (None, Some(decode(u)?)),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let port = match port {
            None | Some("") => 6379,
            Some(p) => p.parse().map_err(|_| bad("the port must be a number"))?,
        };
        let tls = if tls {
            Some(crate::stream::Tls::new(host, ca.as_deref(), verify)?)
        } else {
            None
        };
        Ok(Config {
            host: host.to_owned(),
            port,
            username,
            password,
            connect_timeout: Duration::from_secs(5),
            tls,
        })
    }
}

/// Undoes percent-encoding (a password may hold `@`, `:` or `/`).
fn decode(s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits (from_str_radix alone would take a sign: `%+1`).
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| Error::Url("bad percent-encoding".into()))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Url("the user or password is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = Config::parse("redis://127.0.0.1:6380").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.username, c.password),
            ("127.0.0.1", 6380, None, None)
        );
        let c = Config::parse("redis://:p%40ss@localhost/2").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.username, c.password.as_deref()),
            ("localhost", 6379, None, Some("p@ss"))
        );
        let c = Config::parse("redis://kiln:secret@[::1]:7000/").unwrap();
        assert_eq!(
            (
                c.host.as_str(),
                c.port,
                c.username.as_deref(),
                c.password.as_deref()
            ),
            ("::1", 7000, Some("kiln"), Some("secret"))
        );
        assert!(
            !format!("{c:?}").contains("secret"),
            "the password stays out of Debug"
        );
        let c = Config::parse("rediss://cache.example.com:6380/0?ssl_cert_reqs=none").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.tls.is_some()),
            ("cache.example.com", 6380, true)
        );
        assert_eq!(format!("{c:?}"), "rediss://cache.example.com:6380");
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in [
            "http://h",
            "redis://",
            "redis://h:port",
            "redis://h/x",
            "redis://u:%zz@h",
            "redis://u:%+1@h",
            "redis://[::1",
            "redis://h?ssl_cert_reqs=none",
            "rediss://h?x=1",
            "rediss://h?ssl_ca_certs=/nonexistent.pem",
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }
}
