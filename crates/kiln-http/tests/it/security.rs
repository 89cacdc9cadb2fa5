//! The rule-bypass matrix (issue 13): what a guest, a record's owner, another user and a team
//! member can read, change and receive through rules that reach through relations — list, view,
//! update, delete, client filters, sorts, expand, fields, back-relations, realtime and protected
//! files — plus the regressions of the flaws found by probing Kiln as an attacker. PocketBase
//! 0.40.6 gives the outcomes asserted here (tools/rulefuzz compares the two at random).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::realtime::{subscribe, Sse};
use crate::support::*;

const DOC_RULE: &str = "owner = @request.auth.id || team.members.id ?= @request.auth.id";

/// Teams (listable by members), docs (owner or team member), privnotes (only through their
/// doc's owner), a public board pointing at docs, and counters whose body rules forbid `n` and
/// `tags`. Alice owns doc D1 (team T1 = [carol]) and note P1; Bob owns D2 (team T2 = [bob]).
async fn fixture() -> TestApp {
    let mut t = TestApp::new().await;
    for name in ["alice", "bob", "carol"] {
        t.create_user(
            name,
            &format!("{name}@example.com"),
            "password123",
            name,
            false,
        )
        .await;
    }
    let users = "_pb_users_auth_";
    let teams = t
        .su_ok("POST", "/api/collections", json!({"name":"teams","type":"base",
            "listRule":"members.id ?= @request.auth.id","viewRule":"members.id ?= @request.auth.id",
            "fields":[{"name":"name","type":"text"},{"name":"members","type":"relation","collectionId":users,"maxSelect":10}]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let docs = t
        .su_ok("POST", "/api/collections", json!({"name":"docs","type":"base",
            "listRule":DOC_RULE,"viewRule":DOC_RULE,"createRule":"@request.auth.id != \"\"","updateRule":DOC_RULE,"deleteRule":DOC_RULE,
            "fields":[{"name":"title","type":"text"},
                {"name":"owner","type":"relation","collectionId":users,"maxSelect":1},
                {"name":"team","type":"relation","collectionId":teams,"maxSelect":1},
                {"name":"secret","type":"text","hidden":true},
                {"name":"att","type":"file","maxSelect":1,"protected":true}]}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let note_rule = "p.owner = @request.auth.id";
    t.su_ok("POST", "/api/collections", json!({"name":"privnotes","type":"base",
        "listRule":note_rule,"viewRule":note_rule,"createRule":note_rule,"updateRule":note_rule,"deleteRule":note_rule,
        "fields":[{"name":"p","type":"relation","collectionId":docs,"maxSelect":1},{"name":"text","type":"text"}]}))
        .await;
    t.su_ok("POST", "/api/collections", json!({"name":"board","type":"base",
        "listRule":"","viewRule":"","createRule":"","updateRule":"","deleteRule":"",
        "fields":[{"name":"title","type":"text"},{"name":"doc","type":"relation","collectionId":docs,"maxSelect":1}]}))
        .await;
    t.su_ok("POST", "/api/collections", json!({"name":"counters","type":"base",
        "listRule":"","viewRule":"","createRule":"@request.body.n:isset = false",
        "updateRule":"@request.body.n:isset = false && @request.body.tags:isset = false",
        "fields":[{"name":"n","type":"number"},{"name":"tags","type":"select","values":["a","b","c"],"maxSelect":3}]}))
        .await;

    let (alice, bob, carol) = (t.id("alice"), t.id("bob"), t.id("carol"));
    let t1 = t
        .su_ok(
            "POST",
            "/api/collections/teams/records",
            json!({"name":"t1","members":[carol]}),
        )
        .await;
    let t2 = t
        .su_ok(
            "POST",
            "/api/collections/teams/records",
            json!({"name":"t2","members":[bob]}),
        )
        .await;
    let d1 = t
        .su_ok(
            "POST",
            "/api/collections/docs/records",
            json!({"title":"alice doc","owner":alice,"team":t1["id"],"secret":"s3cret"}),
        )
        .await;
    let d2 = t
        .su_ok(
            "POST",
            "/api/collections/docs/records",
            json!({"title":"bob doc","owner":bob,"team":t2["id"]}),
        )
        .await;
    let p1 = t
        .su_ok(
            "POST",
            "/api/collections/privnotes/records",
            json!({"p":d1["id"],"text":"alice note"}),
        )
        .await;
    let b1 = t
        .su_ok(
            "POST",
            "/api/collections/board/records",
            json!({"title":"b1","doc":d1["id"]}),
        )
        .await;
    let b2 = t
        .su_ok(
            "POST",
            "/api/collections/board/records",
            json!({"title":"b2","doc":d2["id"]}),
        )
        .await;
    let b3 = t
        .su_ok(
            "POST",
            "/api/collections/board/records",
            json!({"title":"b3"}),
        )
        .await;
    let c1 = t
        .su_ok(
            "POST",
            "/api/collections/counters/records",
            json!({"n":1,"tags":["a"]}),
        )
        .await;
    for (name, v) in [
        ("d1", d1),
        ("d2", d2),
        ("p1", p1),
        ("b1", b1),
        ("b2", b2),
        ("b3", b3),
        ("c1", c1),
    ] {
        t.set_id(name, v["id"].as_str().unwrap());
    }
    t
}

/// The four actors and whether each may see Alice's doc D1 (owner Alice, team member Carol).
const ACTORS: [(&str, bool); 4] = [
    ("guest", false),
    ("alice", true),
    ("bob", false),
    ("carol", true),
];

fn token(actor: &'static str) -> Token {
    if actor == "guest" {
        Token::None
    } else {
        Token::User(actor)
    }
}

fn field_set(v: &Value, field: &str) -> BTreeSet<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap_or("").to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn get(t: &TestApp, url: &str, actor: &'static str) -> Resp {
    t.send("GET", url, None, &token(actor)).await
}

/// `actor`'s PATCH of `field` and DELETE of record `id` are both 404, and the record keeps `value`.
async fn assert_writes_refused(
    t: &TestApp,
    actor: &'static str,
    collection: &str,
    id: &str,
    field: &str,
    value: &str,
) {
    let url = format!("/api/collections/{collection}/records/{id}");
    let r = t
        .send(
            "PATCH",
            &url,
            Some(json!({ field: "pwned" })),
            &token(actor),
        )
        .await;
    assert_eq!(
        r.status, 404,
        "{actor} updates {collection}/{id}: {}",
        r.text
    );
    let r = t.send("DELETE", &url, None, &token(actor)).await;
    assert_eq!(
        r.status, 404,
        "{actor} deletes {collection}/{id}: {}",
        r.text
    );
    assert_eq!(
        stored(t, collection, id).await[field],
        value,
        "{actor} changed nothing"
    );
}

/// Appends a field to a collection (a PATCH replaces the whole field list).
async fn add_field(t: &TestApp, collection: &str, field: Value) {
    let mut fields = t
        .su_ok(
            "GET",
            &format!("/api/collections/{collection}"),
            Value::Null,
        )
        .await["fields"]
        .clone();
    fields.as_array_mut().unwrap().push(field);
    t.su_ok(
        "PATCH",
        &format!("/api/collections/{collection}"),
        json!({ "fields": fields }),
    )
    .await;
}

async fn stored(t: &TestApp, collection: &str, id: &str) -> Value {
    t.su_ok(
        "GET",
        &format!("/api/collections/{collection}/records/{id}"),
        Value::Null,
    )
    .await
}

#[tokio::test]
async fn rules_through_relations_protect_list_view_update_and_delete() {
    let t = fixture().await;
    let (d1, p1) = (t.id("d1"), t.id("p1"));
    for (actor, sees_d1) in ACTORS {
        let list = get(&t, "/api/collections/docs/records", actor).await;
        assert_eq!(list.status, 200, "{actor}: {}", list.text);
        let titles = field_set(&list.json, "title");
        assert_eq!(
            titles.contains("alice doc"),
            sees_d1,
            "{actor} lists docs: {titles:?}"
        );
        assert_eq!(
            titles.contains("bob doc"),
            actor == "bob",
            "{actor} lists docs: {titles:?}"
        );
        let view = get(&t, &format!("/api/collections/docs/records/{d1}"), actor).await;
        assert_eq!(
            view.status,
            if sees_d1 { 200 } else { 404 },
            "{actor} views D1: {}",
            view.text
        );

        // Only Alice's own note: her doc's owner is the rule, Carol's team does not count.
        let sees_p1 = actor == "alice";
        let notes = get(&t, "/api/collections/privnotes/records", actor).await;
        assert_eq!(
            field_set(&notes.json, "text").contains("alice note"),
            sees_p1,
            "{actor} lists privnotes: {}",
            notes.text
        );
        let view = get(
            &t,
            &format!("/api/collections/privnotes/records/{p1}"),
            actor,
        )
        .await;
        assert_eq!(
            view.status,
            if sees_p1 { 200 } else { 404 },
            "{actor} views P1"
        );
        if !sees_p1 {
            assert_writes_refused(&t, actor, "privnotes", &p1, "text", "alice note").await;
        }
        if !sees_d1 {
            assert_writes_refused(&t, actor, "docs", &d1, "title", "alice doc").await;
        }
    }
    // The owner and the team member may write; the note's owner may delete it.
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/docs/records/{d1}"),
            Some(json!({"title":"carol edit"})),
            &Token::User("carol"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t
        .send(
            "DELETE",
            &format!("/api/collections/privnotes/records/{p1}"),
            None,
            &Token::User("alice"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn client_filters_sorts_expand_and_fields_see_only_listable_related_rows() {
    let t = fixture().await;
    for (actor, sees_d1) in ACTORS {
        let sees_d2 = actor == "bob";
        // A filter on a related field: rows whose related row is hidden drop out.
        let r = get(
            &t,
            &format!(
                "/api/collections/board/records?filter={}",
                enc("doc.title = 'alice doc'")
            ),
            actor,
        )
        .await;
        assert_eq!(r.status, 200, "{actor}: {}", r.text);
        assert_eq!(
            r.json["totalItems"],
            json!(sees_d1 as i64),
            "{actor} filters on doc.title"
        );
        let r = get(
            &t,
            &format!(
                "/api/collections/board/records?filter={}",
                enc("doc.title != 'zzz'")
            ),
            actor,
        )
        .await;
        let mut expected = vec!["b3"];
        if sees_d1 {
            expected.push("b1");
        }
        if sees_d2 {
            expected.push("b2");
        }
        assert_eq!(
            field_set(&r.json, "title"),
            set(&expected),
            "{actor}: a hidden related row removes the whole row (PocketBase)"
        );

        // Sorting by a related field guards the same way, with and without the total.
        for q in ["sort=doc.title", "sort=-doc.title&skipTotal=1"] {
            let r = get(&t, &format!("/api/collections/board/records?{q}"), actor).await;
            assert_eq!(r.status, 200, "{actor} {q}: {}", r.text);
            assert_eq!(field_set(&r.json, "title"), set(&expected), "{actor} {q}");
            if !q.contains("skipTotal") {
                assert_eq!(
                    r.json["totalItems"],
                    json!(expected.len()),
                    "{actor} {q}: the total counts the same rows"
                );
            }
        }

        // Expand and fields show a related record only when its viewRule allows.
        let r = get(
            &t,
            "/api/collections/board/records?expand=doc&fields=title,expand.doc.title&sort=title",
            actor,
        )
        .await;
        assert_eq!(r.status, 200, "{actor}: {}", r.text);
        assert_eq!(
            r.text.contains("alice doc"),
            sees_d1,
            "{actor} expands doc: {}",
            r.text
        );
        assert_eq!(
            r.text.contains("bob doc"),
            sees_d2,
            "{actor} expands doc: {}",
            r.text
        );

        // Back-relations: Alice's note through her doc, listable only by Alice.
        let r = get(
            &t,
            &format!(
                "/api/collections/board/records?filter={}",
                enc("doc.privnotes_via_p.text ?= 'alice note'")
            ),
            actor,
        )
        .await;
        assert_eq!(r.status, 200, "{actor}: {}", r.text);
        assert_eq!(
            r.json["totalItems"],
            json!((actor == "alice") as i64),
            "{actor} filters through privnotes_via_p"
        );
        let r = get(
            &t,
            &format!(
                "/api/collections/board/records/{}?expand=doc.privnotes_via_p",
                t.id("b1")
            ),
            actor,
        )
        .await;
        assert_eq!(
            r.text.contains("alice note"),
            actor == "alice",
            "{actor} expands privnotes_via_p: {}",
            r.text
        );

        // Hidden fields are not filterable by anyone but superusers, directly or through a relation.
        for f in ["doc.secret = 's3cret'", "doc.secret != ''"] {
            let r = get(
                &t,
                &format!("/api/collections/board/records?filter={}", enc(f)),
                actor,
            )
            .await;
            assert_eq!(
                r.status, 400,
                "{actor} filters on a hidden field: {}",
                r.text
            );
        }
    }
    // Superusers see every related row.
    let r = t
        .send(
            "GET",
            &format!(
                "/api/collections/board/records?filter={}",
                enc("doc.secret = 's3cret'")
            ),
            None,
            &Token::Superuser,
        )
        .await;
    assert_eq!(r.json["totalItems"], json!(1), "{}", r.text);
}

#[tokio::test]
async fn a_filter_into_a_superuser_only_collection_is_refused() {
    let t = fixture().await;
    t.su_ok("PATCH", "/api/collections/docs", json!({"listRule": null}))
        .await;
    for actor in ["guest", "alice"] {
        let r = get(
            &t,
            &format!(
                "/api/collections/board/records?filter={}",
                enc("doc.title != 'x'")
            ),
            actor,
        )
        .await;
        assert_eq!(r.status, 400, "{actor}: {}", r.text);
        check_envelope(&r).unwrap();
    }
    // API rules are not client filters: a rule through it still works.
    let r = get(
        &t,
        &format!("/api/collections/privnotes/records/{}", t.id("p1")),
        "alice",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn realtime_events_follow_relation_rules() {
    let t = fixture().await;
    let d1 = t.id("d1");
    let b1 = t.id("b1");
    let mut streams = Vec::new();
    for (actor, sees_d1) in ACTORS {
        let s = Sse::open(&t).await;
        let board = r#"board?options={"query":{"expand":"doc"}}"#;
        let topics = json!(["docs", "docs/*", format!("docs/{d1}"), board, "privnotes/*"]);
        assert_eq!(subscribe(&t, &s, topics, token(actor)).await, 204);
        streams.push((actor, sees_d1, s));
    }
    t.su_ok(
        "PATCH",
        &format!("/api/collections/docs/records/{d1}"),
        json!({"title":"alice doc v2"}),
    )
    .await;
    t.su_ok(
        "PATCH",
        &format!("/api/collections/board/records/{b1}"),
        json!({"title":"b1 v2"}),
    )
    .await;
    t.su_ok(
        "PATCH",
        &format!("/api/collections/privnotes/records/{}", t.id("p1")),
        json!({"text":"alice note v2"}),
    )
    .await;
    for (actor, sees_d1, mut s) in streams {
        let events = s.drain().await;
        let topics: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
        let docs_events = topics.iter().filter(|e| e.starts_with("docs")).count();
        assert_eq!(
            docs_events,
            if sees_d1 { 3 } else { 0 },
            "{actor}: {topics:?}"
        );
        let board = events
            .iter()
            .find(|(e, _)| e.starts_with("board"))
            .unwrap_or_else(|| panic!("{actor} gets the public board event"));
        assert_eq!(
            board.1["record"]["expand"].get("doc").is_some(),
            sees_d1,
            "{actor}: expand.doc in a board event: {}",
            board.1
        );
        let notes = topics.iter().filter(|e| e.starts_with("privnotes")).count();
        assert_eq!(notes, (actor == "alice") as usize, "{actor}: {topics:?}");
        let text = events
            .iter()
            .map(|(_, d)| d.to_string())
            .collect::<String>();
        if !sees_d1 {
            assert!(
                !text.contains("alice doc"),
                "{actor} received Alice's doc: {text}"
            );
        }
    }
}

#[tokio::test]
async fn realtime_resume_requires_the_auth_of_the_client() {
    let t = fixture().await;
    let d1 = t.id("d1");
    let mut alice = Sse::open(&t).await;
    assert_eq!(
        subscribe(&t, &alice, json!(["docs"]), Token::User("alice")).await,
        204
    );
    let alice_client = alice.client_id.clone();
    t.su_ok(
        "PATCH",
        &format!("/api/collections/docs/records/{d1}"),
        json!({"title":"one"}),
    )
    .await;
    let (last, _, _) = alice.next().await.expect("Alice's first event");
    drop(alice);

    // A guest presenting Alice's client id gets the id back but nothing of hers.
    for header in [alice_client.as_str(), last.as_str()] {
        let (mut guest, id) = Sse::resume_as(&t, header, None).await;
        assert_eq!(id, alice_client);
        t.su_ok(
            "PATCH",
            &format!("/api/collections/docs/records/{d1}"),
            json!({"title":"secret v2"}),
        )
        .await;
        assert_eq!(
            guest.drain().await,
            vec![],
            "no replay, no live event without Alice's auth"
        );
        let as_guest = t
            .send(
                "POST",
                "/api/realtime",
                Some(json!({"clientId": alice_client, "subscriptions": ["docs"]})),
                &Token::None,
            )
            .await;
        assert_eq!(as_guest.status, 403, "{}", as_guest.text);
        let as_bob = t
            .send(
                "POST",
                "/api/realtime",
                Some(json!({"clientId": alice_client, "subscriptions": ["docs"]})),
                &Token::User("bob"),
            )
            .await;
        assert_eq!(as_bob.status, 403, "{}", as_bob.text);
        assert_eq!(guest.drain().await, vec![]);
    }
    // Another user's token on the stream itself does not help either.
    let bob_token = t.user_token("bob");
    let (mut bob, _) = Sse::resume_as(&t, &last, Some(&bob_token)).await;
    assert_eq!(bob.drain().await, vec![]);

    // Alice herself resumes (a browser's EventSource carries no token) and proves her auth with
    // the SDK's subscription request: every missed event arrives, in order.
    let (mut again, id) = Sse::resume_as(&t, &last, None).await;
    assert_eq!(id, alice_client);
    assert_eq!(
        subscribe(&t, &again, json!(["docs"]), Token::User("alice")).await,
        204
    );
    let titles: Vec<Value> = again
        .drain()
        .await
        .into_iter()
        .map(|(_, d)| d["record"]["title"].clone())
        .collect();
    assert_eq!(
        titles,
        vec![json!("secret v2"), json!("secret v2")],
        "the two updates missed since `last`"
    );

    // With her token on the stream (a Node client), she resumes at once.
    drop(again);
    t.su_ok(
        "PATCH",
        &format!("/api/collections/docs/records/{d1}"),
        json!({"title":"three"}),
    )
    .await;
    let alice_token = t.user_token("alice");
    let (mut direct, _) = Sse::resume_as(&t, &alice_client, Some(&alice_token)).await;
    let events = direct.drain().await;
    assert!(
        events.iter().any(|(_, d)| d["record"]["title"] == "three"),
        "{events:?}"
    );
}

#[tokio::test]
async fn protected_files_follow_the_view_rule_through_relations() {
    let t = fixture().await;
    let d1 = t.id("d1");
    let boundary = "----kilnSecurityBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"att\"; filename=\"plan.txt\"\r\nContent-Type: text/plain\r\n\r\ntop secret plan\r\n--{boundary}--\r\n"
    );
    let r = t
        .send_raw(
            "PATCH",
            &format!("/api/collections/docs/records/{d1}"),
            body.into_bytes(),
            Some(&format!("multipart/form-data; boundary={boundary}")),
            &Token::Superuser,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let name = r.json["att"].as_str().unwrap().to_owned();
    let url = format!("/api/files/docs/{d1}/{name}");
    let plain = t.send("GET", &url, None, &Token::None).await;
    assert_ne!(plain.status, 200, "a protected file needs a file token");
    for (actor, sees_d1) in ACTORS {
        if actor == "guest" {
            continue;
        }
        let tok = t
            .send("POST", "/api/files/token", None, &Token::User(actor))
            .await;
        assert_eq!(tok.status, 200, "{}", tok.text);
        let file_token = tok.json["token"].as_str().unwrap();
        let r = t
            .send(
                "GET",
                &format!("{url}?token={file_token}"),
                None,
                &Token::None,
            )
            .await;
        assert_eq!(
            r.status == 200,
            sees_d1,
            "{actor} downloads D1's protected file: {} {}",
            r.status,
            r.text
        );
        assert_eq!(r.text.contains("top secret plan"), sees_d1);
    }
    // A superuser's file token opens any protected file, but only from `superuserIPs` when set.
    let tok = t
        .send("POST", "/api/files/token", None, &Token::Superuser)
        .await;
    let su_file_token = tok.json["token"].as_str().unwrap().to_owned();
    let r = t
        .send(
            "GET",
            &format!("{url}?token={su_file_token}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    t.su_ok(
        "PATCH",
        "/api/settings",
        json!({"superuserIPs": ["192.0.2.1"]}),
    )
    .await;
    let r = t
        .send(
            "GET",
            &format!("{url}?token={su_file_token}"),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(
        r.status, 404,
        "a superuser's file token from another address: {}",
        r.text
    );
}

/// `@request.body.n:isset = false` must hold whatever spelling of `n` the body uses: PocketBase
/// resolves `n+`, `n-`, `+tags`, `tags+`, `tags-` to their fields before the rule.
#[tokio::test]
async fn modifier_keys_cannot_get_past_body_rules() {
    let t = fixture().await;
    let c1 = t.id("c1");
    let url = format!("/api/collections/counters/records/{c1}");
    for body in [
        json!({"n+": 99}),
        json!({"n-": 1}),
        json!({"tags+": "b"}),
        json!({"+tags": "b"}),
        json!({"tags-": "a"}),
        json!({"n": 3}),
    ] {
        for actor in ["guest", "alice"] {
            let r = t
                .send("PATCH", &url, Some(body.clone()), &token(actor))
                .await;
            assert_eq!(r.status, 404, "{actor} PATCH {body}: {}", r.text);
        }
    }
    for key in ["n%2B", "n-", "%2Btags", "tags%2B", "tags-"] {
        let form = format!("{key}=b");
        let r = t
            .send_raw(
                "PATCH",
                &url,
                form.into_bytes(),
                Some("application/x-www-form-urlencoded"),
                &Token::None,
                &[],
            )
            .await;
        assert_eq!(r.status, 404, "urlencoded {key}: {}", r.text);
    }
    for key in ["n+", "n-", "+tags", "tags+", "tags-"] {
        let r = t
            .multipart("PATCH", &url, &[(key, "5")], &Token::None)
            .await;
        assert_eq!(r.status, 404, "multipart {key}: {}", r.text);
    }
    assert_eq!(
        stored(&t, "counters", &c1).await,
        stored(&t, "counters", &c1).await
    );
    let now = stored(&t, "counters", &c1).await;
    assert_eq!(
        (now["n"].clone(), now["tags"].clone()),
        (json!(1), json!(["a"])),
        "nothing changed"
    );
    // A body without them passes the rule.
    let r = t.send("PATCH", &url, Some(json!({})), &Token::None).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Creates too.
    let before = t.count("counters");
    for body in [json!({"n+": 5}), json!({"n-": 5}), json!({"n": 5})] {
        let r = t
            .send(
                "POST",
                "/api/collections/counters/records",
                Some(body.clone()),
                &Token::None,
            )
            .await;
        assert_eq!(r.status, 400, "create {body}: {}", r.text);
    }
    let r = t
        .multipart(
            "POST",
            "/api/collections/counters/records",
            &[("n+", "5")],
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(t.count("counters"), before);
    let r = t
        .send(
            "POST",
            "/api/collections/counters/records",
            Some(json!({"tags": ["c"]})),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A body rule sees the value a modifier produces: `n+` is the new `n`.
#[tokio::test]
async fn body_rules_see_the_value_a_modifier_produces() {
    let t = fixture().await;
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"updateRule": "@request.body.n != 6"}),
    )
    .await;
    let url = format!("/api/collections/counters/records/{}", t.id("c1"));
    let r = t
        .send("PATCH", &url, Some(json!({"n+": 5})), &Token::None)
        .await;
    assert_eq!(r.status, 404, "1 + 5 = 6: {}", r.text);
    let r = t
        .send("PATCH", &url, Some(json!({"n+": 4})), &Token::None)
        .await;
    assert_eq!(
        (r.status, r.json["n"].clone()),
        (200, json!(5)),
        "1 + 4 = 5: {}",
        r.text
    );
    let r = t
        .send("PATCH", &url, Some(json!({"n-": -1})), &Token::None)
        .await;
    assert_eq!(r.status, 404, "5 - -1 = 6: {}", r.text);
    // Ordering: two bound numbers compare as numbers on both engines (6 <= 10, not "6" > "10").
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"updateRule": "@request.body.n <= 10"}),
    )
    .await;
    let r = t
        .send("PATCH", &url, Some(json!({"n+": 1})), &Token::None)
        .await;
    assert_eq!(
        (r.status, r.json["n"].clone()),
        (200, json!(6)),
        "5 + 1 <= 10: {}",
        r.text
    );
    let r = t
        .send("PATCH", &url, Some(json!({"n+": 5})), &Token::None)
        .await;
    assert_eq!(r.status, 404, "6 + 5 > 10: {}", r.text);
    let r = t
        .send("PATCH", &url, Some(json!({"n": 9.5})), &Token::None)
        .await;
    assert_eq!(r.status, 200, "9.5 <= 10: {}", r.text);
    // `n` is set before `n+` adds to it, whatever the order of the keys.
    let r = t
        .send_raw(
            "PATCH",
            &url,
            br#"{"n+": 2, "n": 1}"#.to_vec(),
            Some("application/json"),
            &Token::Superuser,
            &[],
        )
        .await;
    assert_eq!(r.json["n"], json!(3), "{}", r.text);
}

#[tokio::test]
async fn numbers_that_are_not_finite_are_refused() {
    let t = fixture().await;
    let before = t.count("counters");
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"createRule": ""}),
    )
    .await;
    for body in [
        json!({"n": "NaN"}),
        json!({"n": "Infinity"}),
        json!({"n": "-inf"}),
    ] {
        let r = t
            .send(
                "POST",
                "/api/collections/counters/records",
                Some(body.clone()),
                &Token::None,
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(
            r.json["data"]["n"]["code"], "validation_not_a_number",
            "{}",
            r.text
        );
    }
    let r = t
        .send_raw(
            "POST",
            "/api/collections/counters/records",
            br#"{"n": 1e309}"#.to_vec(),
            Some("application/json"),
            &Token::None,
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    check_envelope(&r).unwrap();
    let r = t
        .multipart(
            "POST",
            "/api/collections/counters/records",
            &[("n", "NaN")],
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // `n+` overflowing to infinity is refused too.
    let c1 = t.id("c1");
    t.su_ok(
        "PATCH",
        &format!("/api/collections/counters/records/{c1}"),
        json!({"n": 1.7e308}),
    )
    .await;
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/counters/records/{c1}"),
            Some(json!({"n+": 1.7e308})),
            &Token::Superuser,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(t.count("counters"), before);
}

#[tokio::test]
async fn impersonate_duration_is_range_checked() {
    let t = fixture().await;
    let url = format!("/api/collections/users/impersonate/{}", t.id("alice"));
    for raw in [
        r#"{"duration": 1e300}"#,
        r#"{"duration": "abc"}"#,
        r#"{"duration": 1.5}"#,
        r#"{"duration": [1]}"#,
    ] {
        let r = t
            .send_raw(
                "POST",
                &url,
                raw.as_bytes().to_vec(),
                Some("application/json"),
                &Token::Superuser,
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{raw}: {}", r.text);
        assert_eq!(
            r.json["message"], "An error occurred while loading the submitted data.",
            "{raw}"
        );
    }
    for (raw, code) in [
        (
            r#"{"duration": -5}"#,
            "validation_min_greater_equal_than_required",
        ),
        (
            r#"{"duration": 9000000000000}"#,
            "validation_max_less_equal_than_required",
        ),
    ] {
        let r = t
            .send_raw(
                "POST",
                &url,
                raw.as_bytes().to_vec(),
                Some("application/json"),
                &Token::Superuser,
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{raw}: {}", r.text);
        assert_eq!(
            r.json["data"]["duration"]["code"], code,
            "{raw}: {}",
            r.text
        );
    }
    let r = t
        .send_raw(
            "POST",
            &url,
            br#"{"duration": 60}"#.to_vec(),
            Some("application/json"),
            &Token::Superuser,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t
        .send_raw(
            "POST",
            &url,
            b"duration=60".to_vec(),
            Some("application/x-www-form-urlencoded"),
            &Token::Superuser,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    let t = fixture().await;
    let huge = ("content-length".to_owned(), "99999999999".to_owned());
    for (url, ct) in [
        ("/api/collections/counters/records", "application/json"),
        (
            "/api/collections/counters/records",
            "multipart/form-data; boundary=x",
        ),
        (
            "/api/collections/users/auth-with-password",
            "application/json",
        ),
    ] {
        let r = t
            .send_raw(
                "POST",
                url,
                b"{}".to_vec(),
                Some(ct),
                &Token::None,
                std::slice::from_ref(&huge),
            )
            .await;
        assert_eq!(r.status, 413, "{url} {ct}: {}", r.text);
        check_envelope(&r).unwrap();
    }
}

#[tokio::test]
async fn superusers_update_hidden_fields() {
    let t = fixture().await;
    let d1 = t.id("d1");
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/docs/records/{d1}"),
            Some(json!({"secret":"new"})),
            &Token::Superuser,
        )
        .await;
    assert_eq!(
        (r.status, r.json["secret"].clone()),
        (200, json!("new")),
        "{}",
        r.text
    );
    assert_eq!(stored(&t, "docs", &d1).await["secret"], "new");
    // A user's hidden field write is ignored, as PocketBase ignores it.
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/docs/records/{d1}"),
            Some(json!({"secret":"user"})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(stored(&t, "docs", &d1).await["secret"], "new");
}

/// PocketBase's comparison semantics, kept for compatibility and documented in docs/SECURITY.md:
/// a guest's `@request.auth.id` is `""`, and a missing value compares equal to `""`, so a doc
/// with no owner and no team matches `owner = @request.auth.id || team.members.id ?=
/// @request.auth.id` for a guest — in PocketBase 0.40.6 as in Kiln. Rules that must exclude
/// guests say `@request.auth.id != "" && …`.
#[tokio::test]
async fn a_missing_relation_compares_as_empty_as_in_pocketbase() {
    let t = fixture().await;
    t.su_ok(
        "POST",
        "/api/collections/docs/records",
        json!({"title":"orphan doc"}),
    )
    .await;
    let r = get(&t, "/api/collections/docs/records", "guest").await;
    assert_eq!(
        field_set(&r.json, "title"),
        set(&["orphan doc"]),
        "{}",
        r.text
    );
    let r = get(&t, "/api/collections/docs/records", "bob").await;
    assert_eq!(field_set(&r.json, "title"), set(&["bob doc"]), "{}", r.text);
    t.su_ok(
        "PATCH",
        "/api/collections/docs",
        json!({"listRule": format!("@request.auth.id != \"\" && ({DOC_RULE})")}),
    )
    .await;
    let r = get(&t, "/api/collections/docs/records", "guest").await;
    assert_eq!(r.json["totalItems"], json!(0), "{}", r.text);
}

/// A subscription's `filter` option narrows its events as a list's filter narrows a list: related
/// rows must be listable by the subscriber, and `@request.*` is for superusers only.
#[tokio::test]
async fn realtime_filters_follow_the_rules_of_client_filters() {
    let t = fixture().await;
    let b1 = t.id("b1");
    let mut streams = Vec::new();
    for (actor, sees_d1) in ACTORS {
        let s = Sse::open(&t).await;
        let topics = json!([
            r#"board?options={"query":{"filter":"doc.title != 'zzz'"}}"#,
            r#"board/*?options={"query":{"filter":"title = 'nothing'"}}"#,
            r#"board/x?options={"query":{"filter":"@request.auth.id != ''"}}"#,
        ]);
        assert_eq!(subscribe(&t, &s, topics, token(actor)).await, 204);
        streams.push((actor, sees_d1, s));
    }
    t.su_ok(
        "PATCH",
        &format!("/api/collections/board/records/{b1}"),
        json!({"title":"b1 v2"}),
    )
    .await;
    t.su_ok(
        "PATCH",
        &format!("/api/collections/board/records/{}", t.id("b3")),
        json!({"title":"b3 v2"}),
    )
    .await;
    for (actor, sees_d1, mut s) in streams {
        let events = s.drain().await;
        let titles: BTreeSet<String> = events
            .iter()
            .map(|(_, d)| d["record"]["title"].as_str().unwrap().to_owned())
            .collect();
        let expected = if sees_d1 {
            set(&["b1 v2", "b3 v2"])
        } else {
            set(&["b3 v2"])
        };
        assert_eq!(titles, expected, "{actor}: {events:?}");
        assert!(
            events.iter().all(|(e, _)| e.starts_with("board?")),
            "{actor}: only the first topic's filter matches: {events:?}"
        );
    }
}

#[tokio::test]
async fn a_websocket_route_without_a_handshake_answers_in_the_envelope() {
    let t = TestApp::new().await;
    for headers in [
        vec![],
        vec![("connection".to_owned(), "upgrade".to_owned())],
    ] {
        let r = t
            .send_raw(
                "GET",
                "/api/realtime/ws",
                Vec::new(),
                None,
                &Token::None,
                &headers,
            )
            .await;
        assert!((400..500).contains(&r.status), "{} {}", r.status, r.text);
        check_envelope(&r).unwrap();
    }
}

/// Found by tools/rulefuzz: emails count in a non-superuser's filter only where visible, also
/// through a multiple relation (and no related row means no match).
#[tokio::test]
async fn hidden_emails_never_match_a_users_filter() {
    let t = fixture().await;
    // Only Carol shows her email.
    t.su_ok(
        "PATCH",
        &format!("/api/collections/users/records/{}", t.id("carol")),
        json!({"emailVisibility": true}),
    )
    .await;
    t.su_ok("PATCH", "/api/collections/users", json!({"listRule": ""}))
        .await;
    let r = get(
        &t,
        &format!(
            "/api/collections/users/records?filter={}",
            enc("email != 'nobody@example.com'")
        ),
        "alice",
    )
    .await;
    assert_eq!(field_set(&r.json, "name"), set(&["carol"]), "{}", r.text);
    let r = get(
        &t,
        &format!(
            "/api/collections/users/records?filter={}",
            enc("email = 'alice@example.com'")
        ),
        "alice",
    )
    .await;
    assert_eq!(
        r.json["totalItems"],
        json!(0),
        "her own hidden email is not filterable either: {}",
        r.text
    );
    // Through teams.members: T1 = [carol] (visible), T2 = [bob] (hidden); a team with no member.
    t.su_ok("PATCH", "/api/collections/teams", json!({"listRule": ""}))
        .await;
    t.su_ok(
        "POST",
        "/api/collections/teams/records",
        json!({"name":"empty"}),
    )
    .await;
    let r = get(
        &t,
        &format!(
            "/api/collections/teams/records?filter={}",
            enc("members.email != 'x@example.com'")
        ),
        "guest",
    )
    .await;
    assert_eq!(field_set(&r.json, "name"), set(&["t1"]), "{}", r.text);
    let r = t
        .send(
            "GET",
            &format!(
                "/api/collections/teams/records?filter={}",
                enc("members.email != 'x@example.com'")
            ),
            None,
            &Token::Superuser,
        )
        .await;
    assert_eq!(
        field_set(&r.json, "name"),
        set(&["t1", "t2", "empty"]),
        "superusers compare every email (no member: NULL != 'x'): {}",
        r.text
    );
}

/// Found by tools/rulefuzz: a guest's `@request.auth.<field>` is NULL, so ordering and `~`
/// against it never hold (the write used to be stored).
#[tokio::test]
async fn a_guests_auth_fields_are_null_in_rules() {
    let t = fixture().await;
    add_field(&t, "users", json!({"name": "age", "type": "number"})).await;
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"updateRule": "n <= @request.auth.age", "viewRule": "@request.auth.name ~ ''"}),
    )
    .await;
    let url = format!("/api/collections/counters/records/{}", t.id("c1"));
    let r = t
        .send("PATCH", &url, Some(json!({"tags": ["b"]})), &Token::None)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        stored(&t, "counters", &t.id("c1")).await["tags"],
        json!(["a"])
    );
    let r = t.send("GET", &url, None, &Token::None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    // `=` still reads a guest's NULL as "" (PocketBase).
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"viewRule": "@request.auth.id = ''"}),
    )
    .await;
    assert_eq!(t.send("GET", &url, None, &Token::None).await.status, 200);
}

/// Found by tools/rulefuzz: PocketBase checks a createRule against a stand-in collection, so a
/// back-relation from the new record never resolves and the create fails; the record being
/// created is never its own related row.
#[tokio::test]
async fn create_rules_do_not_see_the_record_being_created() {
    let t = fixture().await;
    t.su_ok(
        "PATCH",
        "/api/collections/docs",
        json!({"createRule": "board_via_doc.title ?= '' || title = 'x'"}),
    )
    .await;
    let before = t.count("docs");
    let r = t
        .send(
            "POST",
            "/api/collections/docs/records",
            Some(json!({"title": "x"})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(t.count("docs"), before);
    // Through a relation to another collection, a back-relation works as usual.
    t.su_ok(
        "PATCH",
        "/api/collections/board",
        json!({"createRule": "doc.board_via_doc.title ?= 'b1'"}),
    )
    .await;
    let ok = t
        .send(
            "POST",
            "/api/collections/board/records",
            Some(json!({"title": "new", "doc": t.id("d1")})),
            &Token::None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let no = t
        .send(
            "POST",
            "/api/collections/board/records",
            Some(json!({"title": "new", "doc": t.id("d2")})),
            &Token::None,
        )
        .await;
    assert_eq!(no.status, 400, "{}", no.text);
}

/// Found by tools/rulefuzz: a record's own multi-valued field compares as its stored JSON text,
/// as in PocketBase — with no item that is `[]`, never `""`, so `members ?= @request.auth.id` does
/// not let a guest into a record with no members.
#[tokio::test]
async fn an_empty_multi_valued_field_is_not_a_guests_empty_id() {
    let t = fixture().await;
    t.su_ok("PATCH", "/api/collections/teams", json!({"listRule": "members ?= @request.auth.id", "viewRule": "members ?= @request.auth.id"})).await;
    let empty = t
        .su_ok(
            "POST",
            "/api/collections/teams/records",
            json!({"name":"empty"}),
        )
        .await;
    let r = get(&t, "/api/collections/teams/records", "guest").await;
    assert_eq!(r.json["totalItems"], json!(0), "{}", r.text);
    let r = get(
        &t,
        &format!(
            "/api/collections/teams/records/{}",
            empty["id"].as_str().unwrap()
        ),
        "guest",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // PocketBase compares the field's stored text: a member does not match either; the rule
    // for membership is `members.id ?= @request.auth.id` (or `members:each ?= …`).
    let r = get(&t, "/api/collections/teams/records", "carol").await;
    assert_eq!(r.json["totalItems"], json!(0), "{}", r.text);
    t.su_ok(
        "PATCH",
        "/api/collections/teams",
        json!({"listRule": "members.id ?= @request.auth.id"}),
    )
    .await;
    let r = get(&t, "/api/collections/teams/records", "carol").await;
    assert_eq!(field_set(&r.json, "name"), set(&["t1"]), "{}", r.text);
    // …where, as in PocketBase, no related row compares as "" — a guest's id (see
    // a_missing_relation_compares_as_empty_as_in_pocketbase).
    let r = get(&t, "/api/collections/teams/records", "guest").await;
    assert_eq!(field_set(&r.json, "name"), set(&["empty"]), "{}", r.text);
}

/// Found by tools/rulefuzz: a record whose related rows (multiple relation) are all hidden from
/// the requester drops out of a filter on them, as every PocketBase join combination fails.
#[tokio::test]
async fn all_hidden_related_rows_drop_the_record_from_a_filter() {
    let t = fixture().await;
    let docs_id = t.app.collection("docs").unwrap().id.clone();
    add_field(
        &t,
        "board",
        json!({"name":"docs","type":"relation","collectionId":docs_id,"maxSelect":5}),
    )
    .await;
    t.su_ok(
        "PATCH",
        &format!("/api/collections/board/records/{}", t.id("b1")),
        json!({"docs": [t.id("d1")]}),
    )
    .await;
    t.su_ok(
        "PATCH",
        &format!("/api/collections/board/records/{}", t.id("b2")),
        json!({"docs": [t.id("d1"), t.id("d2")]}),
    )
    .await;
    let filter = enc("docs.title ?!= 'zzz' || title != ''");
    for (actor, expected) in [
        ("guest", vec!["b3"]),
        ("bob", vec!["b2", "b3"]),
        ("alice", vec!["b1", "b2", "b3"]),
    ] {
        let r = get(
            &t,
            &format!("/api/collections/board/records?filter={filter}"),
            actor,
        )
        .await;
        assert_eq!(
            field_set(&r.json, "title"),
            set(&expected),
            "{actor}: {}",
            r.text
        );
    }
}

/// Found by tools/rulefuzz: an expand path into a collection only superusers may view fails as
/// a whole, and without any successful path there is no `expand` key (PocketBase).
#[tokio::test]
async fn an_expand_into_a_superuser_only_collection_adds_no_expand_key() {
    let t = fixture().await;
    t.su_ok("PATCH", "/api/collections/docs", json!({"viewRule": null}))
        .await;
    let url = format!("/api/collections/board/records/{}", t.id("b1"));
    let r = get(&t, &format!("{url}?expand=doc"), "alice").await;
    assert!(r.json.get("expand").is_none(), "{}", r.text);
    let r = get(&t, &format!("{url}?expand=doc.team"), "alice").await;
    assert!(r.json.get("expand").is_none(), "{}", r.text);
    let r = t
        .send("GET", &format!("{url}?expand=doc"), None, &Token::Superuser)
        .await;
    assert_eq!(r.json["expand"]["doc"]["title"], "alice doc", "{}", r.text);
}

/// Found by tools/rulefuzz on PostgreSQL: a sort by a relation path puts records without the
/// related row first when ascending, last when descending, on both databases (SQLite's order).
#[tokio::test]
async fn a_sort_by_a_missing_relation_orders_alike_on_both_databases() {
    let t = fixture().await;
    let r = t
        .send(
            "GET",
            "/api/collections/board/records?sort=doc.title,title&fields=title",
            None,
            &Token::Superuser,
        )
        .await;
    let titles: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["b3", "b1", "b2"], "{}", r.text);
    let r = t
        .send(
            "GET",
            "/api/collections/board/records?sort=-doc.title,title&fields=title",
            None,
            &Token::Superuser,
        )
        .await;
    let titles: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["b2", "b1", "b3"], "{}", r.text);
}

/// Found by tools/rulefuzz: `@request.auth.<field>` naming a field the requester's auth
/// collection lacks is NULL (a rule may serve several auth collections), not an error.
#[tokio::test]
async fn an_auth_field_of_another_collection_is_null() {
    let t = fixture().await;
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"viewRule": "@request.auth.plan = 'pro' || n = 1"}),
    )
    .await;
    let url = format!("/api/collections/counters/records/{}", t.id("c1"));
    for actor in ["guest", "alice"] {
        let r = get(&t, &url, actor).await;
        assert_eq!(r.status, 200, "{actor}: {}", r.text);
    }
    t.su_ok(
        "PATCH",
        "/api/collections/counters",
        json!({"viewRule": "@request.auth.plan = 'pro'"}),
    )
    .await;
    assert_eq!(get(&t, &url, "alice").await.status, 404);
}

/// Found by tools/rulefuzz: PocketBase joins each relation path once per statement and tests
/// one combination of joined rows against the whole rule and filter, so two conditions on the
/// same path are about the same related row. Testing them separately let a user who is an
/// admin of one team and a member of another act as an admin of the second.
#[tokio::test]
async fn conditions_on_one_relation_path_are_about_the_same_row() {
    let t = fixture().await;
    let groups = t
        .su_ok(
            "POST",
            "/api/collections",
            json!({"name":"groups","type":"base",
            "listRule":"","viewRule":"",
            "fields":[{"name":"name","type":"text"},{"name":"role","type":"text"}]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    add_field(
        &t,
        "users",
        json!({"name":"groups","type":"relation","collectionId":groups,"maxSelect":5}),
    )
    .await;
    let admin_of_team = "@request.auth.groups.role ?= 'admin' && @request.auth.groups.id ?= group";
    t.su_ok("POST", "/api/collections", json!({"name":"projects","type":"base",
        "listRule":"","viewRule":admin_of_team,"updateRule":admin_of_team,"deleteRule":admin_of_team,
        "fields":[{"name":"title","type":"text"},
            {"name":"group","type":"relation","collectionId":groups,"maxSelect":1}]}))
        .await;
    let mut ids = Vec::new();
    for (name, role) in [("g1", "admin"), ("g2", "member")] {
        let g = t
            .su_ok(
                "POST",
                "/api/collections/groups/records",
                json!({"name": name, "role": role}),
            )
            .await;
        ids.push(g["id"].as_str().unwrap().to_owned());
    }
    t.su_ok(
        "PATCH",
        &format!("/api/collections/users/records/{}", t.id("alice")),
        json!({ "groups": ids }),
    )
    .await;
    let mut projects = Vec::new();
    for (title, g) in [("admin's", &ids[0]), ("member's", &ids[1])] {
        let p = t
            .su_ok(
                "POST",
                "/api/collections/projects/records",
                json!({"title": title, "group": g}),
            )
            .await;
        projects.push(p["id"].as_str().unwrap().to_owned());
    }
    let url = |id: &str| format!("/api/collections/projects/records/{id}");
    assert_eq!(get(&t, &url(&projects[0]), "alice").await.status, 200);
    assert_eq!(get(&t, &url(&projects[1]), "alice").await.status, 404);
    assert_writes_refused(&t, "alice", "projects", &projects[1], "title", "member's").await;

    // The same in a client filter: one group must be both.
    let filter = |f: &str| format!("/api/collections/users/records?filter={}", enc(f));
    let r = t
        .su_ok(
            "GET",
            &filter("groups.role ?= 'admin' && groups.name ?= 'g2'"),
            Value::Null,
        )
        .await;
    assert_eq!(r["totalItems"], 0, "{r}");
    let r = t
        .su_ok(
            "GET",
            &filter("groups.role ?= 'admin' && groups.name ?= 'g1'"),
            Value::Null,
        )
        .await;
    assert_eq!(field_set(&r, "id"), set(&[&t.id("alice")]));
}

/// Posts and their comments (`comments.post` a single relation to posts); returns their ids.
async fn posts_and_comments(t: &TestApp) -> (String, String) {
    let posts = t
        .su_ok(
            "POST",
            "/api/collections",
            json!({"name":"posts","type":"base","fields":[{"name":"title","type":"text"}]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.su_ok("POST", "/api/collections", json!({"name":"comments","type":"base",
        "fields":[{"name":"post","type":"relation","collectionId":posts,"maxSelect":1},{"name":"text","type":"text"}]}))
        .await;
    let quiet = t
        .su_ok(
            "POST",
            "/api/collections/posts/records",
            json!({"title":"quiet"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let talked = t
        .su_ok(
            "POST",
            "/api/collections/posts/records",
            json!({"title":"talked"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.su_ok(
        "POST",
        "/api/collections/comments/records",
        json!({"post": talked, "text": "hi"}),
    )
    .await;
    (quiet, talked)
}

/// A path ending in a back-relation (`comments_via_post:length`) is refused at save, with
/// PocketBase 0.40.6's envelope; the form it accepts for "no comments" holds for a post without
/// comments only.
#[tokio::test]
async fn a_rule_ending_in_a_back_relation_is_refused() {
    let t = TestApp::new().await;
    let (quiet, talked) = posts_and_comments(&t).await;
    for (rule, operand) in [
        (
            "comments_via_post:length = 0",
            r#"left operand \"comments_via_post:length\""#,
        ),
        (
            "comments_via_post = ''",
            r#"left operand \"comments_via_post\""#,
        ),
        (
            "0 = comments_via_post:length",
            r#"right operand \"comments_via_post:length\""#,
        ),
    ] {
        let r = t
            .send(
                "PATCH",
                "/api/collections/posts",
                Some(json!({ "deleteRule": rule })),
                &Token::Superuser,
            )
            .await;
        let want = format!(
            r#"{{"data":{{"deleteRule":{{"code":"validation_invalid_rule","message":"Invalid rule. Raw error: invalid {operand} - unknown field \"comments_via_post\"."}}}},"message":"Failed to update collection.","status":400}}"#
        );
        assert_eq!(
            (r.status, r.json),
            (400, serde_json::from_str::<Value>(&want).unwrap()),
            "{rule}"
        );
    }
    // as a client filter: 400
    let r = t
        .send(
            "GET",
            &format!(
                "/api/collections/posts/records?filter={}",
                enc("comments_via_post:length > 0")
            ),
            None,
            &Token::Superuser,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    t.su_ok(
        "PATCH",
        "/api/collections/posts",
        json!({"deleteRule": "comments_via_post.id = ''"}),
    )
    .await;
    let url = |id: &str| format!("/api/collections/posts/records/{id}");
    let r = t.send("DELETE", &url(&talked), None, &Token::None).await;
    assert_eq!(r.status, 404, "a post with a comment: {}", r.text);
    let r = t.send("DELETE", &url(&quiet), None, &Token::None).await;
    assert_eq!(r.status, 204, "a post without comments: {}", r.text);
}

/// `:lower` of a request value, as PocketBase 0.40.6 answers each case: a field's submitted
/// value is lowered as text ('' when missing or null), so `!~ "spam"` holds without it; any
/// other missing `@request.body.x` and `@request.query.x` is NULL, where `~`/`!~` never hold.
#[tokio::test]
async fn lower_of_a_request_value_as_pocketbase() {
    let t = TestApp::new().await;
    let (quiet, _) = posts_and_comments(&t).await;
    let url = format!("/api/collections/posts/records/{quiet}");
    let missing = json!({"other": 1});
    let nulls = json!({"title": null, "extra": null});
    let empty = json!({"title": "", "extra": ""});
    let spam = json!({"title": "Buy SPAM", "extra": "Buy SPAM"});
    // (updateRule, body, `?x=`, status)
    let cases: Vec<(&str, &Value, Option<&str>, u16)> = vec![
        (
            r#"@request.body.title:lower !~ "spam""#,
            &missing,
            None,
            200,
        ),
        (r#"@request.body.title:lower !~ "spam""#, &nulls, None, 200),
        (r#"@request.body.title:lower !~ "spam""#, &empty, None, 200),
        (r#"@request.body.title:lower !~ "spam""#, &spam, None, 404),
        (r#"@request.body.title:lower ~ "spam""#, &missing, None, 404),
        (r#"@request.body.title:lower ~ "spam""#, &spam, None, 200),
        (r#"@request.body.title:lower ~ """#, &missing, None, 200),
        (r#"@request.body.title:lower = "spam""#, &missing, None, 404),
        (
            r#"@request.body.title:lower != "spam""#,
            &missing,
            None,
            200,
        ),
        (r#"@request.body.title:lower = """#, &missing, None, 200),
        (r#"@request.body.title:lower != """#, &nulls, None, 404),
        (
            r#"@request.body.extra:lower !~ "spam""#,
            &missing,
            None,
            404,
        ),
        (r#"@request.body.extra:lower !~ "spam""#, &nulls, None, 404),
        (r#"@request.body.extra:lower !~ "spam""#, &empty, None, 200),
        (r#"@request.body.extra:lower ~ """#, &nulls, None, 404),
        (r#"@request.body.extra:lower = """#, &missing, None, 200),
        (r#"@request.body.extra:lower != "spam""#, &nulls, None, 200),
        (r#"@request.query.x:lower !~ "spam""#, &missing, None, 404),
        (
            r#"@request.query.x:lower !~ "spam""#,
            &missing,
            Some(""),
            200,
        ),
        (
            r#"@request.query.x:lower !~ "spam""#,
            &missing,
            Some("SPAM"),
            404,
        ),
        (
            r#"@request.query.x:lower ~ "spam""#,
            &missing,
            Some("SPAM"),
            200,
        ),
        (r#"@request.query.x:lower ~ """#, &missing, None, 404),
        (r#"@request.query.x:lower ~ """#, &missing, Some(""), 200),
        (r#"@request.query.x:lower = """#, &missing, None, 200),
        (r#"@request.query.x:lower != "spam""#, &missing, None, 200),
        (r#"@request.query.x:lower != """#, &missing, Some(""), 404),
    ];
    let mut failures = Vec::new();
    for (rule, body, x, status) in cases {
        t.su_ok(
            "PATCH",
            "/api/collections/posts",
            json!({ "updateRule": rule }),
        )
        .await;
        let url = match x {
            Some(x) => format!("{url}?x={}", enc(x)),
            None => url.clone(),
        };
        let r = t
            .send("PATCH", &url, Some(body.clone()), &Token::None)
            .await;
        if r.status != status {
            failures.push(format!(
                "{rule} body {body} x {x:?}: {} {}",
                r.status, r.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
