//! TLS to PostgreSQL, against the throwaway server of `scripts/pg start --ssl` (scripts/test
//! starts it so and sets KILN_TEST_DATABASE_URL and KILN_TEST_PG_DIR; without them, or without
//! TLS on that server, there is nothing to test and each test returns). The server's certificate
//! names `localhost` only and is signed by `$KILN_TEST_PG_DIR/ca.crt`.

use kiln_db::{Db, DbError, PgOptions};

/// (URL of the server by IP, the same by the name `localhost`, the CA file).
fn server() -> Option<(String, String, String)> {
    let url = std::env::var("KILN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let ca = format!("{}/ca.crt", std::env::var("KILN_TEST_PG_DIR").ok()?);
    if !std::path::Path::new(&ca).exists() {
        return None;
    }
    let by_name = url.replacen("@127.0.0.1:", "@localhost:", 1);
    Some((url, by_name, ca))
}

fn open(url: &str, query: &str) -> Result<Db, DbError> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut opts = PgOptions::new(format!("{url}{sep}{query}"));
    opts.max_connections = 2;
    Db::open_postgres(&opts)
}

/// Whether this session is encrypted, as the server sees it.
fn encrypted(db: &Db) -> bool {
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    db.read(|c| c.query_one(sql, &[], |r| Ok(r.int(0))))
        .unwrap()
        == Some(1)
}

#[test]
fn verify_full_checks_the_chain_and_the_name() {
    let Some((by_ip, by_name, ca)) = server() else {
        return;
    };
    let db = open(&by_name, &format!("sslmode=verify-full&sslrootcert={ca}"))
        .expect("verify-full to localhost");
    assert!(encrypted(&db));
    db.close();
    // the certificate does not name 127.0.0.1
    let e = open(&by_ip, &format!("sslmode=verify-full&sslrootcert={ca}"))
        .err()
        .expect("wrong name refused");
    assert!(e.to_string().contains("certificate"), "{e}");
    // an unknown issuer: the built-in roots do not know the test CA
    let e = open(&by_name, "sslmode=verify-full")
        .err()
        .expect("unknown issuer refused");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn verify_ca_checks_the_chain_only() {
    let Some((by_ip, _, ca)) = server() else {
        return;
    };
    let db = open(&by_ip, &format!("sslmode=verify-ca&sslrootcert={ca}")).expect("verify-ca by IP");
    assert!(encrypted(&db));
    db.close();
    assert!(
        open(&by_ip, "sslmode=verify-ca&sslrootcert=system").is_err(),
        "unknown issuer"
    );
}

#[test]
fn require_and_prefer_encrypt_disable_does_not() {
    let Some((by_ip, _, _)) = server() else {
        return;
    };
    for (query, tls) in [
        ("sslmode=require", true),
        ("", true),
        ("sslmode=prefer", true),
        ("sslmode=disable", false),
    ] {
        let db = open(&by_ip, query).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(encrypted(&db), tls, "{query}");
        db.close();
    }
    let e = open(&by_ip, "sslmode=maybe")
        .err()
        .expect("unknown sslmode");
    assert!(matches!(e, DbError::Open(_)), "{e:?}");
}
