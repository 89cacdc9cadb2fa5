//! List totals stay exact through every kind of write. On SQLite the totals of a public list of
//! all rows, or of a range of one number field, come from counts kept in memory once the writer
//! has read the column (`kiln-db/src/counts.rs`); every other total is SQL's `COUNT(*)`. Each
//! check below compares the two for the same rows (the SQL one through a filter term the kept
//! counts do not take, `id != ''`), after creates, updates, deletes, a create its rule rolls back,
//! a batch that fails half-way, a VACUUM, raw SQL (`INSERT OR REPLACE`: deletes SQLite does not
//! report), a schema change and a truncate — and, on PostgreSQL, writes from a second node.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

/// Filters whose totals the kept counts answer on SQLite, next to the first.
const RANGES: &[&str] = &[
    "",
    "n >= 500",
    "n > 500 && n <= 700",
    "n = 3",
    "n != 3 && n < 100",
    "n < -50",
    "250.5 < n && n != 600 && n != 601",
    "m >= 0.5",
];

async fn total(t: &TestApp, filter: &str) -> i64 {
    let url = format!(
        "/api/collections/nums/records?perPage=1&filter={}",
        enc(filter)
    );
    let r = t.send("GET", &url, None, &Token::None).await;
    assert_eq!(r.status, 200, "{url}: {}", r.text);
    r.json["totalItems"].as_i64().expect("totalItems")
}

/// Every range's total equals SQL's count of the same rows; `when` names the step.
async fn check(t: &TestApp, when: &str) {
    for f in RANGES {
        let sql_filter = if f.is_empty() {
            "id != ''".to_owned()
        } else {
            format!("({f}) && id != ''")
        };
        let (kept, counted) = (total(t, f).await, total(t, &sql_filter).await);
        assert_eq!(kept, counted, "after {when}: filter {f:?}");
    }
}

/// Asks for every range until the writer has read the columns (SQLite), so that the following
/// checks go through the kept counts.
async fn warm(t: &TestApp) {
    let db = t.app.db();
    if db.dialect() != kiln_db::Dialect::Sqlite {
        return;
    }
    for _ in 0..200 {
        for f in RANGES {
            total(t, f).await;
        }
        let all = kiln_db::NumberRange::all();
        if db.count("nums", None, &all).is_some()
            && db.count("nums", Some("n"), &all).is_some()
            && db.count("nums", Some("m"), &all).is_some()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the counts of nums were never kept");
}

async fn sql(t: &TestApp, query: &str) {
    t.su_ok("POST", "/api/sql", json!({ "query": query })).await;
}

/// `rows` rows with ids `s000000000000001`…, `n` spread over -100…899 with repeats, `m` halves.
fn seed_sql(t: &TestApp, first: i64, rows: i64) -> String {
    let id = match t.app.db().dialect() {
        kiln_db::Dialect::Sqlite => "'s' || printf('%014d', x)",
        kiln_db::Dialect::Postgres => "'s' || lpad(x::text, 14, '0')",
    };
    format!(
        "INSERT INTO nums (id, n, m, t) \
         WITH RECURSIVE s(x) AS (SELECT {first} UNION ALL SELECT x + 1 FROM s WHERE x < {last}) \
         SELECT {id}, (x * 7919) % 1000 - 100, (x % 7) * 0.5, 'row' FROM s",
        last = first + rows - 1
    )
}

async fn create(t: &TestApp, body: Value) -> String {
    let r = t
        .send(
            "POST",
            "/api/collections/nums/records",
            Some(body),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["id"].as_str().unwrap().to_owned()
}

/// Sets `n` of record `id` through the API.
async fn set_n(t: &TestApp, id: &str, n: i64) {
    let url = format!("/api/collections/nums/records/{id}");
    let r = t
        .send("PATCH", &url, Some(json!({ "n": n })), &Token::None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Deletes the `k` records with the largest `n` through the API.
async fn delete_top(t: &TestApp, k: usize) {
    let page = t
        .send(
            "GET",
            &format!("/api/collections/nums/records?perPage={k}&sort=-n&skipTotal=1"),
            None,
            &Token::None,
        )
        .await;
    for r in page.json["items"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let url = format!("/api/collections/nums/records/{id}");
        let r = t.send("DELETE", &url, None, &Token::None).await;
        assert_eq!(r.status, 204, "{}", r.text);
    }
}

#[tokio::test]
async fn totals_stay_exact_through_every_kind_of_write() {
    let t = TestApp::new().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({
            "name": "nums", "type": "base",
            "listRule": "", "viewRule": "", "createRule": "n >= -1000", "updateRule": "", "deleteRule": "",
            "fields": [
                {"name": "n", "type": "number"},
                {"name": "m", "type": "number"},
                {"name": "t", "type": "text"},
            ],
            "indexes": ["CREATE INDEX idx_nums_n ON nums (n)"],
        }),
    )
    .await;
    sql(&t, &seed_sql(&t, 1, 3000)).await;
    warm(&t).await;
    check(&t, "seeding").await;

    // creates, one of them a value already present, one new
    let a = create(&t, json!({"n": 3, "m": 0.5})).await;
    let b = create(&t, json!({"n": 123456.25})).await;
    check(&t, "creates").await;

    // updates: across the range bounds, to and from repeated values
    for (id, n) in [(&a, 700), (&b, 3), (&a, -51)] {
        set_n(&t, id, n).await;
    }
    check(&t, "updates").await;

    // a create its rule refuses: inserted in a savepoint, then rolled back
    let r = t
        .send(
            "POST",
            "/api/collections/nums/records",
            Some(json!({"n": -5000})),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    check(&t, "a refused create").await;

    // deletes
    let r = t
        .send(
            "DELETE",
            &format!("/api/collections/nums/records/{a}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    sql(&t, "DELETE FROM nums WHERE n BETWEEN 600 AND 650").await;
    check(&t, "deletes").await;

    // VACUUM renumbers the rows (the deletes left holes); writes follow it
    t.app.db().vacuum().expect("vacuum");
    warm(&t).await;
    set_n(&t, &b, 640).await;
    delete_top(&t, 2).await;
    check(&t, "a VACUUM").await;

    // a batch whose last request fails: nothing of it stays
    t.su_ok(
        "PATCH",
        "/api/settings",
        json!({"batch": {"enabled": true, "maxRequests": 50}}),
    )
    .await;
    let r = t
        .send(
            "POST",
            "/api/batch",
            Some(json!({"requests": [
                {"method": "POST", "url": "/api/collections/nums/records", "body": {"n": 10}},
                {"method": "PATCH", "url": format!("/api/collections/nums/records/{b}"), "body": {"n": 900}},
                {"method": "POST", "url": "/api/collections/nums/records", "body": {"n": -5000}},
            ]})),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    check(&t, "a failed batch").await;

    // SQL written by the app: REPLACE deletes the conflicting rows without SQLite's update hook
    let replace = match t.app.db().dialect() {
        kiln_db::Dialect::Sqlite => {
            "INSERT OR REPLACE INTO nums (id, n, m, t) VALUES ('s00000000000010', 5000, 0, 'r')"
        }
        kiln_db::Dialect::Postgres => {
            "INSERT INTO nums (id, n, m, t) VALUES ('s00000000000010', 5000, 0, 'r') \
             ON CONFLICT (id) DO UPDATE SET n = excluded.n"
        }
    };
    sql(&t, replace).await;
    check(&t, "INSERT OR REPLACE").await;
    warm(&t).await;
    check(&t, "INSERT OR REPLACE, counts read again").await;

    // a schema change: a field added (the table may be rebuilt)
    t.su_ok(
        "PATCH",
        "/api/collections/nums",
        json!({"fields": [
            {"name": "n", "type": "number"},
            {"name": "m", "type": "number"},
            {"name": "t", "type": "text"},
            {"name": "extra", "type": "bool"},
        ]}),
    )
    .await;
    check(&t, "a schema change").await;
    // the rebuilt table numbered its rows afresh (the deletes above left holes): writes now name
    // other rowids than before
    set_n(&t, &b, 650).await;
    delete_top(&t, 3).await;
    check(&t, "writes after the schema change").await;
    warm(&t).await;
    create(&t, json!({"n": 501})).await;
    check(&t, "a create after the schema change").await;

    // a second node writes (PostgreSQL): this node's totals follow at once
    if let Some(other) = t.another_node() {
        let c = other.collection("nums").expect("nums on the second node");
        let sys = other.system_request().expect("system request");
        for n in [1.0, 502.0, 3.0] {
            let body = json!({ "n": n }).as_object().cloned().unwrap();
            other
                .create_record(&c, &sys, body)
                .await
                .expect("create on the second node");
        }
        check(&t, "writes from a second node").await;
        kiln_test::close(&other, None);
    }

    // truncate: SQLite empties the table without reporting its rows
    let r = t
        .send(
            "DELETE",
            "/api/collections/nums/truncate",
            None,
            &Token::Superuser,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    check(&t, "truncate").await;
    assert_eq!(total(&t, "").await, 0);
    sql(&t, &seed_sql(&t, 5001, 2500)).await;
    warm(&t).await;
    create(&t, json!({"n": 4})).await;
    check(&t, "seeding again").await;
}

/// A public list sorted through a relation whose collection hides some rows: for guests the WHERE
/// clause also requires the related rows to be listable, so its total is not the range's.
#[tokio::test]
async fn a_sort_through_a_relation_keeps_its_guard() {
    let t = TestApp::new().await;
    let owners = t
        .su_ok(
            "POST",
            "/api/collections",
            json!({"name": "owners", "type": "base", "listRule": "name = 'shown'", "viewRule": "",
                   "fields": [{"name": "name", "type": "text"}]}),
        )
        .await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name": "nums", "type": "base", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "n", "type": "number"},
            {"name": "m", "type": "number"},
            {"name": "t", "type": "text"},
            {"name": "owner", "type": "relation", "collectionId": owners["id"], "maxSelect": 1},
        ]}),
    )
    .await;
    sql(&t, "INSERT INTO owners (id, name) VALUES ('shown0000000000', 'shown'), ('hidden000000000', 'hidden')").await;
    sql(&t, &seed_sql(&t, 1, 3000)).await;
    sql(&t, "UPDATE nums SET owner = CASE WHEN n < 400 THEN 'shown0000000000' ELSE 'hidden000000000' END").await;
    warm(&t).await;
    for f in ["", "n >= 500"] {
        let url = |filter: &str| {
            format!(
                "/api/collections/nums/records?perPage=1&sort=owner.name&filter={}",
                enc(filter)
            )
        };
        let sql_filter = if f.is_empty() {
            "id != ''".to_owned()
        } else {
            format!("({f}) && id != ''")
        };
        let kept = t.send("GET", &url(f), None, &Token::None).await;
        let counted = t.send("GET", &url(&sql_filter), None, &Token::None).await;
        assert_eq!(kept.status, 200, "{}", kept.text);
        assert_eq!(
            kept.json["totalItems"], counted.json["totalItems"],
            "sorted through owner, filter {f:?}"
        );
        assert!(kept.json["totalItems"].as_i64().unwrap() < total(&t, f).await);
    }
}
