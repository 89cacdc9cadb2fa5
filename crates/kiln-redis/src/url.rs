//! `redis://[[username]:password@]host[:port][/db]`: where the Redis server is and how to sign in.
//! The database number is accepted and ignored (publish/subscribe is the same in every database).

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
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the password stays out of logs
        write!(f, "redis://{}:{}", self.host, self.port)
    }
}

impl Config {
    /// Reads a `redis://` URL. `rediss://` (TLS) and Unix sockets are refused with a reason.
    pub fn parse(url: &str) -> Result<Config, Error> {
        let bad = |m: &str| Error::Url(m.to_owned());
        if url.starts_with("rediss://") {
            return Err(bad("TLS (rediss://) is not supported; use redis:// on a private network"));
        }
        let rest = url.strip_prefix("redis://").ok_or_else(|| bad("expected redis://host:port"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some(path) = rest[authority.len()..].strip_prefix('/') {
            let db = path.split(['?', '#']).next().unwrap_or("");
            if !db.is_empty() && db.parse::<u32>().is_err() {
                return Err(bad("the path must be a database number"));
            }
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (Some(decode(user)?).filter(|u| !u.is_empty()), Some(decode(pass)?)),
                None => (None, Some(decode(u)?)),
            },
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in the host"))?;
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
        Ok(Config { host: host.to_owned(), port, username, password, connect_timeout: Duration::from_secs(5) })
    }
}

/// Undoes percent-encoding (a password may hold `@`, `:` or `/`).
fn decode(s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
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
        assert_eq!((c.host.as_str(), c.port, c.username, c.password), ("127.0.0.1", 6380, None, None));
        let c = Config::parse("redis://:p%40ss@localhost/2").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.username, c.password.as_deref()), ("localhost", 6379, None, Some("p@ss")));
        let c = Config::parse("redis://kiln:secret@[::1]:7000/").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.username.as_deref(), c.password.as_deref()), ("::1", 7000, Some("kiln"), Some("secret")));
        assert!(!format!("{c:?}").contains("secret"), "the password stays out of Debug");
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in ["rediss://h", "http://h", "redis://", "redis://h:port", "redis://h/x", "redis://u:%zz@h", "redis://[::1"] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }
}
