//! Fuzzes the `redis://` / `rediss://` URL parser. No input may panic; an accepted URL has a
//! non-empty host free of the URL's delimiters, TLS exactly for `rediss://`, and a `Debug`
//! form of scheme, host and port only (the password stays out of logs).
//!
//! URLs with `ssl_ca_certs` are skipped: that option reads the file it names.
//!
//! Run: `scripts/fuzz 60 redis_url`.

#![no_main]

use kiln_redis::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() > 4096 {
        return;
    }
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    if url.contains("ssl_ca_certs") {
        return;
    }
    let Ok(c) = Config::parse(url) else { return };
    assert!(!c.host.is_empty());
    assert!(!c.host.contains(['/', '?', '#', '@']), "host {:?}", c.host);
    assert_eq!(c.tls.is_some(), url.starts_with("rediss://"));
    let scheme = if c.tls.is_some() { "rediss" } else { "redis" };
    assert_eq!(
        format!("{c:?}"),
        format!("{scheme}://{}:{}", c.host, c.port)
    );
});
