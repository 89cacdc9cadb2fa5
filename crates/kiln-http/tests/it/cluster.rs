//! Two nodes on one PostgreSQL database (two `App`s on the same schema, as two `kiln serve`
//! processes would be): single-use state and periodic work are the cluster's, not a node's.
//! On SQLite (one process owns the database) there is no second node: the tests check that the
//! state is then kept in memory.

use std::time::Duration;

use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_use_state_is_shared_by_the_nodes() {
    let t = TestApp::new().await;
    let Some(b) = t.another_node() else {
        assert!(t.app.db().shared().is_none());
        return;
    };
    let a = &t.app;
    let ttl = Duration::from_secs(60);
    assert!(a.onetime_put("throttle", String::new(), ttl, true).unwrap());
    assert!(
        !b.onetime_put("throttle", String::new(), ttl, true).unwrap(),
        "set on A: refused on B"
    );
    assert!(a
        .onetime_put("challenge", "issued on A".into(), ttl, false)
        .unwrap());
    assert_eq!(
        b.onetime_take("challenge").unwrap().as_deref(),
        Some("issued on A"),
        "answered on B"
    );
    assert_eq!(
        a.onetime_take("challenge").unwrap(),
        None,
        "single use across nodes"
    );
    // racing for one absent key: exactly one node wins
    let (ra, rb) = tokio::join!(
        tokio::task::spawn_blocking({
            let a = a.clone();
            move || a.onetime_put("race", "a".into(), ttl, true).unwrap()
        }),
        tokio::task::spawn_blocking({
            let b = b.clone();
            move || b.onetime_put("race", "b".into(), ttl, true).unwrap()
        }),
    );
    assert!(ra.unwrap() ^ rb.unwrap(), "exactly one node stored the key");
    // expired keys are swept
    assert!(a
        .onetime_put("short", String::new(), Duration::from_millis(1), false)
        .unwrap());
    std::thread::sleep(Duration::from_millis(5));
    let swept = b
        .db()
        .shared()
        .unwrap()
        .sweep(kiln_core::datetime::now_ms())
        .unwrap();
    assert_eq!(swept, 1);
    b.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_work_runs_on_one_node_per_period() {
    let t = TestApp::new().await;
    let Some(b) = t.another_node() else { return };
    let (sa, sb) = (t.app.db().shared().unwrap(), b.db().shared().unwrap());
    let now = kiln_core::datetime::now_ms();
    assert!(
        sa.claim_run("job", now, 60_000).unwrap(),
        "the first node claims the round"
    );
    assert!(
        !sb.claim_run("job", now + 1, 60_000).unwrap(),
        "the other node skips it"
    );
    assert!(
        !sa.claim_run("job", now + 30_000, 60_000).unwrap(),
        "not again within the period"
    );
    // the next round, whoever ticks first (a tick a little early still counts)
    assert!(sb.claim_run("job", now + 59_000, 60_000).unwrap());
    assert!(!sa.claim_run("job", now + 60_000, 60_000).unwrap());
    assert!(
        sa.claim_run("other", now, 60_000).unwrap(),
        "each task has its own rounds"
    );
    b.close();
}
