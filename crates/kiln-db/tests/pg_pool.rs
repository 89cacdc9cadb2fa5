//! The PostgreSQL pool under trouble, against the server of KILN_TEST_DATABASE_URL (scripts/test
//! sets it; without it there is nothing to test and each test returns): a request waits a bounded
//! time for a busy pool, and a connection the server dropped while idle is replaced unseen.

use std::time::{Duration, Instant};

use kiln_db::{Db, DbError, PgOptions};

fn options() -> Option<PgOptions> {
    let url = std::env::var("KILN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let mut opts = PgOptions::new(url);
    opts.max_connections = 1;
    Some(opts)
}

fn backend_pid(db: &Db) -> i64 {
    db.read(|c| c.query_one("SELECT pg_backend_pid()", &[], |r| Ok(r.int(0))))
        .unwrap()
        .unwrap()
}

#[test]
fn a_busy_pool_fails_after_the_checkout_timeout() {
    let Some(mut opts) = options() else { return };
    opts.checkout_timeout = Duration::from_millis(300);
    let db = Db::open_postgres(&opts).unwrap();
    let holder = db.clone();
    let (held, taken) = std::sync::mpsc::channel();
    let busy = std::thread::spawn(move || {
        holder
            .read(|_| {
                held.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(1500));
                Ok::<_, DbError>(())
            })
            .unwrap();
    });
    taken.recv().unwrap();
    let start = Instant::now();
    let err = db.read(|c| c.query_i64("SELECT 1", &[])).unwrap_err();
    let waited = start.elapsed();
    busy.join().unwrap();
    assert!(matches!(err, DbError::Unavailable(_)), "{err:?}");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // Freed again, the pool serves.
    assert_eq!(db.read(|c| c.query_i64("SELECT 1", &[])).unwrap(), 1);
}

#[test]
fn a_connection_dropped_while_idle_is_replaced() {
    let Some(mut opts) = options() else { return };
    opts.check_after_idle = Duration::ZERO;
    let db = Db::open_postgres(&opts).unwrap();
    let first = backend_pid(&db);
    let admin = Db::open_postgres(&options().unwrap()).unwrap();
    let sql = format!("SELECT pg_terminate_backend({first})");
    admin.read(|c| c.query_i64(&sql, &[])).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // The idle connection fails its check and a new one answers: no error reaches the caller.
    let second = backend_pid(&db);
    assert_ne!(first, second);
}
