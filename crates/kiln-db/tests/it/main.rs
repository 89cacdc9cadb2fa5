//! kiln-db: transactions on the writer thread, read-only readers, error kinds.

use kiln_db::{Db, DbError, SqliteOptions, Value};

fn open() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_sqlite(&dir.path().join("t.db"), SqliteOptions::default()).unwrap();
    db.write_blocking(|c| c.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER)"))
        .unwrap();
    (dir, db)
}

fn count(db: &Db) -> i64 {
    db.read(|c| c.query_i64("SELECT COUNT(*) FROM t", &[]))
        .unwrap()
}

#[tokio::test]
async fn commits_are_visible_to_readers() {
    let (_d, db) = open();
    db.write(|c| {
        c.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            &["a".into(), Value::Int(1)],
        )
    })
    .await
    .unwrap();
    assert_eq!(count(&db), 1);
    let n = db
        .read(|c| {
            c.query_one("SELECT n FROM t WHERE id = ?1", &["a".into()], |r| {
                Ok(r.int(0))
            })
        })
        .unwrap();
    assert_eq!(n, Some(1));
}

#[tokio::test]
async fn an_error_rolls_the_whole_transaction_back() {
    let (_d, db) = open();
    let r: Result<(), DbError> = db
        .write(|c| {
            c.execute("INSERT INTO t VALUES ('a', 1)", &[])?;
            c.execute("INSERT INTO t VALUES ('a', 2)", &[])?;
            Ok(())
        })
        .await;
    assert!(matches!(r, Err(DbError::UniqueViolation(_))), "{r:?}");
    assert_eq!(count(&db), 0);
}

#[tokio::test]
async fn a_panic_rolls_back_and_the_writer_survives() {
    let (_d, db) = open();
    let r: Result<(), DbError> = db
        .write(|c| {
            c.execute("INSERT INTO t VALUES ('a', 1)", &[])?;
            panic!("boom");
        })
        .await;
    assert!(r.is_err());
    assert_eq!(count(&db), 0);
    db.write(|c| c.execute("INSERT INTO t VALUES ('b', 1)", &[]).map(|_| ()))
        .await
        .unwrap();
    assert_eq!(count(&db), 1);
}

#[tokio::test]
async fn trial_always_rolls_back_and_savepoint_only_on_error() {
    let (_d, db) = open();
    db.write(|c| {
        let seen = c.trial(|c| -> Result<i64, DbError> {
            c.execute("INSERT INTO t VALUES ('x', 1)", &[])?;
            c.query_i64("SELECT COUNT(*) FROM t", &[])
        })?;
        assert_eq!(seen, 1);
        assert_eq!(c.query_i64("SELECT COUNT(*) FROM t", &[])?, 0);
        let failed: Result<(), DbError> = c.savepoint(|c| {
            c.execute("INSERT INTO t VALUES ('y', 1)", &[])?;
            Err(DbError::Busy)
        });
        assert!(failed.is_err());
        c.savepoint(|c| c.execute("INSERT INTO t VALUES ('z', 1)", &[]).map(|_| ()))
    })
    .await
    .unwrap();
    assert_eq!(count(&db), 1);
}

#[tokio::test]
async fn readers_cannot_write() {
    let (_d, db) = open();
    let r = db.read(|c| c.execute("INSERT INTO t VALUES ('a', 1)", &[]));
    assert!(r.is_err());
}

#[tokio::test]
async fn writes_after_close_fail_cleanly() {
    let (_d, db) = open();
    db.close();
    let r: Result<(), DbError> = db.write(|_| Ok(())).await;
    assert!(matches!(r, Err(DbError::Closed)));
}

#[test]
fn a_non_database_file_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.db");
    std::fs::write(&p, vec![7u8; 4096]).unwrap();
    assert!(matches!(
        Db::open_sqlite(&p, SqliteOptions::default()),
        Err(DbError::Corrupt(_))
    ));
}

#[tokio::test]
async fn concurrent_writers_are_serialized() {
    let (_d, db) = open();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |c| {
                c.execute(
                    "INSERT INTO t VALUES (?1, ?2)",
                    &[format!("k{i}").into(), Value::Int(i)],
                )
                .map(|_| ())
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(count(&db), 50);
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

/// A write after a pause runs on the caller's thread, a failure or panic there undoes it alike;
/// `write_long`, and a write that comes while another holds the connection, run on the writer
/// thread, in the order they were asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_after_a_pause_runs_at_once_and_others_queue_in_order() {
    let (_d, db) = open();
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(5));
    let insert = |id: &'static str| {
        move |c: &kiln_db::Conn<'_>| -> Result<String, DbError> {
            c.execute("INSERT INTO t (id) VALUES (?1)", &[id.into()])?;
            Ok(thread_name())
        }
    };
    pause().await;
    let here = thread_name();
    assert_eq!(
        db.write(insert("a")).await.unwrap(),
        here,
        "at once, on the caller's thread"
    );

    pause().await;
    let r: Result<(), DbError> = db
        .write(|c| {
            c.execute("INSERT INTO t (id) VALUES ('x')", &[])?;
            panic!("boom");
        })
        .await;
    assert!(r.is_err());
    pause().await;
    let r: Result<(), DbError> = db
        .write(|c| {
            c.execute("INSERT INTO t (id) VALUES ('y')", &[])?;
            Err(DbError::Busy)
        })
        .await;
    assert!(matches!(r, Err(DbError::Busy)));
    assert_eq!(
        count(&db),
        1,
        "the panic and the error each undid their write"
    );

    pause().await;
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let long = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_long(move |c| -> Result<String, DbError> {
                c.execute("INSERT INTO t (id) VALUES ('b')", &[])?;
                let _ = started_tx.send(());
                let _ = hold_rx.recv(); // holds the connection
                Ok(thread_name())
            })
            .await
        }
    });
    started_rx.await.unwrap();
    let queued = tokio::spawn({
        let db = db.clone();
        async move { db.write(insert("c")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert!(!queued.is_finished(), "waits for the connection");
    hold_tx.send(()).unwrap();
    assert_eq!(long.await.unwrap().unwrap(), "kiln-sqlite-writer");
    assert_eq!(queued.await.unwrap().unwrap(), "kiln-sqlite-writer");
    let mut order = Vec::new();
    db.read(|c| {
        c.query("SELECT id FROM t ORDER BY rowid", &[], |r| {
            order.push(r.text(0));
            Ok(())
        })
    })
    .unwrap();
    assert_eq!(order, ["a", "b", "c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_isolates_failing_jobs() {
    let (_d, db) = open();
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |c| {
                c.execute(
                    "INSERT INTO t VALUES (?1, ?2)",
                    &[format!("k{i}").into(), Value::Int(i)],
                )?;
                if i % 5 == 0 {
                    return Err(DbError::Busy); // undone, alone
                }
                if i == 7 {
                    panic!("boom"); // undone, alone
                }
                Ok(i)
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 31);
    assert_eq!(
        count(&db),
        31,
        "every acknowledged write is stored, no failed one is"
    );
}

/// The counts kept for a table of 80,000 rows with random ids (SQLite would scan the id index,
/// out of rowid order, if the build let it), through writes of every kind and a rollback.
#[tokio::test]
async fn counts_are_kept_for_a_large_table_and_follow_writes() {
    use kiln_db::{NumberCmp, NumberRange};
    let (_d, db) = open();
    db.write(|c| {
        c.execute_batch(
            "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 80000) \
             INSERT INTO t SELECT hex(randomblob(8)), x % 1000 FROM s",
        )
    })
    .await
    .unwrap();
    let mut range = NumberRange::all();
    range.and(NumberCmp::Ge, 990.0);
    let sql = |db: &Db| {
        db.read(|c| c.query_i64("SELECT COUNT(*) FROM t WHERE n >= 990", &[]))
            .unwrap()
    };
    let mut kept = None;
    for _ in 0..200 {
        kept = db.count("t", Some("n"), &range);
        if kept.is_some() {
            break;
        }
        // the build runs with the writer's next transaction
        db.write(|_| Ok::<_, DbError>(())).await.unwrap();
    }
    assert_eq!(kept, Some(800), "kept after a build");
    // an insert, an update across the bound, a delete, and a write rolled back
    db.write(|c| {
        c.execute("INSERT INTO t VALUES ('new', 995)", &[])?;
        c.execute(
            "UPDATE t SET n = 5 WHERE rowid = (SELECT min(rowid) FROM t WHERE n = 999)",
            &[],
        )?;
        c.execute(
            "DELETE FROM t WHERE rowid = (SELECT max(rowid) FROM t WHERE n = 990)",
            &[],
        )
    })
    .await
    .unwrap();
    let failed: Result<(), DbError> = db
        .write(|c| {
            c.execute("INSERT INTO t VALUES ('gone', 999)", &[])?;
            Err(DbError::Query("rolled back".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(db.count("t", Some("n"), &range), Some(sql(&db)));
    assert_eq!(sql(&db), 799);
    assert_eq!(
        db.count("t", None, &NumberRange::all()),
        None,
        "rows: asked for the first time"
    );
}
