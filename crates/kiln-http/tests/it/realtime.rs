//! Realtime over SSE: PocketBase's protocol (transcripts 30–34), rules per subscriber, options,
//! auth rules of subscription requests, events only after commit, and stalled readers.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::{Scenario, TestApp, Token};

/// An open event stream read frame by frame.
pub(crate) struct Sse {
    body: Body,
    buf: String,
    pub(crate) client_id: String,
}

impl Sse {
    pub(crate) async fn open(t: &TestApp) -> Sse {
        let req = Request::builder()
            .uri("/api/realtime")
            .body(Body::empty())
            .unwrap();
        let res = t.router().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        let mut s = Sse {
            body: res.into_body(),
            buf: String::new(),
            client_id: String::new(),
        };
        let (id, event, data) = s.next().await.expect("PB_CONNECT");
        assert_eq!(event, "PB_CONNECT");
        assert_eq!(data, json!({"clientId": id}));
        assert_eq!(id.len(), 40);
        s.client_id = id;
        s
    }

    /// The next event as (id, event name, data), or `None` after a quiet 700 ms.
    pub(crate) async fn next(&mut self) -> Option<(String, String, Value)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                return Some(parse_frame(&frame));
            }
            match tokio::time::timeout(Duration::from_millis(700), self.body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Ok(bytes) = f.into_data() {
                        self.buf.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                _ => return None,
            }
        }
    }

    /// Every event that arrives before a quiet period.
    pub(crate) async fn drain(&mut self) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        while let Some((_, e, d)) = self.next().await {
            out.push((e, d));
        }
        out
    }
}

/// One SSE frame's (id, event name, data).
pub(crate) fn parse_frame(frame: &str) -> (String, String, Value) {
    let mut id = String::new();
    let mut event = String::new();
    let mut data = Value::Null;
    for line in frame.lines() {
        if let Some(v) = line.strip_prefix("id:") {
            id = v.to_owned();
        } else if let Some(v) = line.strip_prefix("event:") {
            event = v.to_owned();
        } else if let Some(v) = line.strip_prefix("data:") {
            data = serde_json::from_str(v).expect("data is JSON");
        }
    }
    (id, event, data)
}

pub(crate) async fn subscribe(t: &TestApp, s: &Sse, topics: Value, token: Token) -> u16 {
    subscribe_id(t, &s.client_id, topics, token).await
}

pub(crate) async fn subscribe_id(t: &TestApp, client_id: &str, topics: Value, token: Token) -> u16 {
    t.send(
        "POST",
        "/api/realtime",
        Some(json!({"clientId": client_id, "subscriptions": topics})),
        &token,
    )
    .await
    .status
}

#[tokio::test]
async fn events_follow_rules_per_subscriber() {
    let t = TestApp::with_posts().await;
    let mut guest = Sse::open(&t).await;
    let mut alice = Sse::open(&t).await;
    assert_eq!(
        subscribe(&t, &guest, json!(["posts/*"]), Token::None).await,
        204
    );
    assert_eq!(
        subscribe(&t, &alice, json!(["posts"]), Token::User("alice")).await,
        204
    );

    let alice_id = t.id("alice");
    let draft = t
        .create_as(
            "alice",
            "posts",
            json!({"title":"RT draft","status":"draft","author":alice_id}),
        )
        .await;
    let published = t
        .create_as(
            "alice",
            "posts",
            json!({"title":"RT pub","status":"published","author":alice_id}),
        )
        .await;

    let g = guest.drain().await;
    assert_eq!(g.len(), 1, "a guest sees only the published post: {g:?}");
    assert_eq!(g[0].0, "posts/*");
    assert_eq!(g[0].1["action"], "create");
    assert_eq!(g[0].1["record"]["id"], json!(published));

    let a = alice.drain().await;
    let ids: Vec<&Value> = a.iter().map(|(_, d)| &d["record"]["id"]).collect();
    assert_eq!(
        ids,
        vec![&json!(draft), &json!(published)],
        "the author sees her draft too"
    );
    assert!(a.iter().all(|(e, _)| e == "posts"));
}

#[tokio::test]
async fn single_record_topics_options_and_delete_snapshots() {
    let t = TestApp::with_posts().await;
    let mut s = Sse::open(&t).await;
    let hello = t.id("hello");
    let topic = format!(
        r#"posts/{hello}?options={{"query":{{"expand":"author","fields":"id,views,expand.author.name"}}}}"#
    );
    assert_eq!(
        subscribe(&t, &s, json!([topic.clone()]), Token::User("alice")).await,
        204
    );
    let r = t
        .send(
            "PATCH",
            &format!("/api/collections/posts/records/{hello}"),
            Some(json!({"views": 11})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(r.status, 200);
    // Another record of the collection does not reach a single-record subscription.
    let bob_post = t.id("bob_post");
    t.send(
        "PATCH",
        &format!("/api/collections/posts/records/{bob_post}"),
        Some(json!({"views": 1})),
        &Token::Superuser,
    )
    .await;
    t.send(
        "DELETE",
        &format!("/api/collections/posts/records/{hello}"),
        None,
        &Token::Superuser,
    )
    .await;
    let events = s.drain().await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, topic);
    assert_eq!(
        events[0].1,
        json!({"record":{"id":hello,"views":11,"expand":{"author":{"name":"Alice"}}},"action":"update"})
    );
    assert_eq!(events[1].1["action"], "delete");
    assert_eq!(
        events[1].1["record"]["id"],
        json!(hello),
        "a deleted record is checked and sent as it was"
    );
}

#[tokio::test]
async fn no_event_for_failed_writes_or_hidden_collections() {
    let t = TestApp::with_posts().await;
    let mut s = Sse::open(&t).await;
    assert_eq!(
        subscribe(
            &t,
            &s,
            json!(["posts", "users", "_superusers"]),
            Token::None
        )
        .await,
        204
    );
    let alice_id = t.id("alice");
    // Validation failure and rule failure: rolled back, nothing published.
    let r = t
        .send(
            "POST",
            "/api/collections/posts/records",
            Some(json!({"title":"","author":alice_id})),
            &Token::User("alice"),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = t
        .send(
            "POST",
            "/api/collections/posts/records",
            Some(json!({"title":"x"})),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400);
    // users' listRule is `id = @request.auth.id`: a guest sees no user events; _superusers is null.
    t.send(
        "PATCH",
        &format!("/api/collections/users/records/{alice_id}"),
        Some(json!({"name":"A2"})),
        &Token::User("alice"),
    )
    .await;
    t.app
        .superuser_save("second@example.com", "Passw0rd!2345", true, true)
        .await
        .unwrap();
    assert_eq!(s.drain().await, vec![]);
}

#[tokio::test]
async fn subscription_requests_are_validated() {
    let t = TestApp::with_posts().await;
    let s = Sse::open(&t).await;
    let too_many: Vec<String> = (0..1001).map(|i| format!("posts/{i}")).collect();
    t.run(vec![
        Scenario::new("unknown client", "POST", "/api/realtime")
            .json(json!({"clientId":"nope","subscriptions":["posts"]}))
            .status(404)
            .body_eq(json!({"data":{},"message":"Missing or invalid client id.","status":404})),
        Scenario::new("missing client id", "POST", "/api/realtime").json(json!({})).status(400).contains(&[r#""clientId":{"code":"validation_required""#]),
        Scenario::new("too many subscriptions", "POST", "/api/realtime")
            .json(json!({"clientId": s.client_id, "subscriptions": too_many}))
            .status(400),
        Scenario::new("first subscription fixes the auth", "POST", "/api/realtime")
            .json(json!({"clientId": s.client_id, "subscriptions": ["posts"]}))
            .user("alice")
            .status(204),
        Scenario::new("another user may not take the client over", "POST", "/api/realtime")
            .json(json!({"clientId": s.client_id, "subscriptions": ["posts"]}))
            .user("bob")
            .status(403)
            .body_eq(json!({"data":{},"message":"The current and the previous request authorization don't match.","status":403})),
        Scenario::new("the same user may change subscriptions", "POST", "/api/realtime")
            .json(json!({"clientId": s.client_id, "subscriptions": []}))
            .user("alice")
            .status(204),
    ])
    .await;
}

// Two worker threads: the live reader drains its queue while the writes go on, as a client on
// its own connection would, however busy the machine is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_never_blocks_writers() {
    let mut t = TestApp::new().await;
    t.add_notes().await;
    // Subscribed, never read: its queue fills, it is dropped, and writes go on.
    let stalled = Sse::open(&t).await;
    assert_eq!(
        subscribe(&t, &stalled, json!(["notes"]), Token::None).await,
        204
    );
    let mut live = Sse::open(&t).await;
    assert_eq!(
        subscribe(&t, &live, json!(["notes"]), Token::None).await,
        204
    );
    let total = kiln_core::realtime::CLIENT_QUEUE + 300;
    // The live reader's progress: the writes wait for it now and then, so that it stays well
    // within its queue however the machine schedules it (a client that keeps up), while the
    // stalled one falls a whole queue behind.
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen_by_reader = seen.clone();
    let reader = tokio::spawn(async move {
        let mut n = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while n < total && std::time::Instant::now() < deadline {
            match live.next().await {
                Some((_, _, d)) if d["action"] == "create" => {
                    n += 1;
                    seen_by_reader.store(n, std::sync::atomic::Ordering::Relaxed);
                }
                Some(_) => {}
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        n
    });
    let start = std::time::Instant::now();
    let mut waited = Duration::ZERO;
    for i in 0..total {
        let r = t
            .send(
                "POST",
                "/api/collections/notes/records",
                Some(json!({"title": format!("n{i}")})),
                &Token::None,
            )
            .await;
        assert_eq!(r.status, 200);
        if i % 64 == 63 {
            let pause = std::time::Instant::now();
            while seen.load(std::sync::atomic::Ordering::Relaxed) + 128 < i
                && pause.elapsed() < Duration::from_secs(20)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            waited += pause.elapsed();
        }
    }
    let start = start + waited; // the time spent waiting for the live reader is not the writes'
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "writes were slowed down: {:?}",
        start.elapsed()
    );
    assert_eq!(
        reader.await.unwrap(),
        total,
        "the live reader got every event"
    );
    assert!(
        t.app.realtime().client(&stalled.client_id).is_none(),
        "the stalled client was dropped"
    );
}

impl Sse {
    /// Opens a stream resuming from `last_event_id`.
    pub(crate) async fn resume(t: &TestApp, last_event_id: &str) -> (Sse, String) {
        Sse::resume_as(t, last_event_id, None).await
    }

    /// Opens a stream resuming from `last_event_id`, with an Authorization header when given.
    pub(crate) async fn resume_as(
        t: &TestApp,
        last_event_id: &str,
        authorization: Option<&str>,
    ) -> (Sse, String) {
        let mut b = Request::builder()
            .uri("/api/realtime")
            .header("Last-Event-ID", last_event_id);
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        let req = b.body(Body::empty()).unwrap();
        let res = t.router().oneshot(req).await.unwrap();
        let mut s = Sse {
            body: res.into_body(),
            buf: String::new(),
            client_id: String::new(),
        };
        let (id, event, _) = s.next().await.expect("PB_CONNECT");
        assert_eq!(event, "PB_CONNECT");
        s.client_id = id.clone();
        (s, id)
    }
}

/// Creates a note as a guest.
pub(crate) async fn create_note(t: &TestApp, title: &str) {
    let r = t
        .send(
            "POST",
            "/api/collections/notes/records",
            Some(json!({ "title": title })),
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn resume_delivers_exactly_the_missed_events_in_order() {
    let mut t = TestApp::new().await;
    t.add_notes().await;
    let mut s = Sse::open(&t).await;
    assert_eq!(subscribe(&t, &s, json!(["notes"]), Token::None).await, 204);
    create_note(&t, "one").await;
    let (last_id, _, d) = s.next().await.expect("first event");
    assert_eq!(d["record"]["title"], "one");
    assert!(
        last_id.starts_with(&format!("{}.", s.client_id)),
        "event ids are <clientId>.<seq>: {last_id}"
    );
    let client_id = s.client_id.clone();
    drop(s); // the connection drops

    create_note(&t, "two").await;
    create_note(&t, "three").await;
    let (mut r, id) = Sse::resume(&t, &last_id).await;
    assert_eq!(
        id, client_id,
        "a resumed client keeps its id (and subscriptions)"
    );
    create_note(&t, "four").await;
    let events = r.drain().await;
    let titles: Vec<&str> = events
        .iter()
        .map(|(_, d)| d["record"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec!["two", "three", "four"],
        "missed events once, in order, then live ones"
    );
}

/// The dispatcher reaches an event after the write returned, sometimes after a later subscription:
/// that subscription must not get it, while a topic a client keeps misses nothing.
#[tokio::test]
async fn a_subscription_gets_only_the_events_published_after_it() {
    let mut t = TestApp::new().await;
    t.add_notes().await;
    // Keeps the dispatcher busy: a thousand filters to check per event, none of which matches.
    let busy = Sse::open(&t).await;
    let filters: Vec<String> = (0..1000)
        .map(|i| format!(r#"notes?options={{"query":{{"filter":"title='none{i}'"}}}}"#))
        .collect();
    assert_eq!(subscribe(&t, &busy, json!(filters), Token::None).await, 204);
    for i in 0..20 {
        create_note(&t, &format!("before{i}")).await;
    }
    let mut s = Sse::open(&t).await;
    assert_eq!(subscribe(&t, &s, json!(["notes"]), Token::None).await, 204);
    create_note(&t, "kept").await;
    // a topic added beside "notes" keeps what "notes" is owed
    assert_eq!(
        subscribe(&t, &s, json!(["notes", "notes/nosuchid"]), Token::None).await,
        204
    );
    create_note(&t, "after").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut titles = Vec::new();
    while titles.last().map(String::as_str) != Some("after") {
        assert!(
            std::time::Instant::now() < deadline,
            "the last event never came: {titles:?}"
        );
        if let Some((_, event, d)) = s.next().await {
            assert_eq!(event, "notes");
            titles.push(d["record"]["title"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(titles, ["kept", "after"]);
}

#[tokio::test]
async fn resume_of_an_unknown_client_is_an_explicit_reset() {
    let mut t = TestApp::new().await;
    t.add_notes().await;
    let _other = Sse::open(&t).await;
    let (mut r, id) = Sse::resume(&t, "nosuchclient.42").await;
    assert_ne!(id, "nosuchclient");
    let (_, event, data) = r.next().await.expect("reset");
    assert_eq!(event, "PB_RESET");
    assert!(data["reason"].as_str().unwrap().contains("subscribe again"));
}

#[tokio::test]
async fn websocket_transport() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;

    let mut t = TestApp::with_posts().await;
    t.add_notes().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = t.router();
    let server = tokio::spawn(async move {
        axum::serve(listener, axum::ServiceExt::into_make_service(router)).await
    });
    let token = t.user_token("alice");
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/api/realtime/ws?token={token}"))
            .await
            .expect("ws connect");
    let next = |v: Option<Result<Ws, _>>| -> Value {
        match v {
            Some(Ok(Ws::Text(t))) => serde_json::from_str(t.as_str()).unwrap(),
            other => panic!("unexpected frame {other:?}"),
        }
    };
    let hello = next(ws.next().await);
    assert_eq!(hello["event"], "PB_CONNECT");
    let client_id = hello["data"]["clientId"].as_str().unwrap().to_owned();
    assert_eq!(hello["id"], json!(client_id));

    ws.send(Ws::Text(
        json!({"action":"subscribe","subscriptions":["notes", "posts"]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let ack = next(ws.next().await);
    assert_eq!(
        ack,
        json!({"event":"PB_SUBSCRIBED","data":{"subscriptions":["notes","posts"]}})
    );
    ws.send(Ws::Text("not json".into())).await.unwrap();
    assert_eq!(next(ws.next().await)["event"], "PB_ERROR");

    create_note(&t, "over ws").await;
    let alice = t.id("alice");
    // Alice's own draft passes posts' listRule for her (the token's auth applies).
    t.create_as(
        "alice",
        "posts",
        json!({"title":"ws draft","status":"draft","author":alice}),
    )
    .await;
    let e1 = next(ws.next().await);
    assert_eq!(e1["event"], "notes");
    assert_eq!(e1["data"]["record"]["title"], "over ws");
    assert!(e1["id"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{client_id}.")));
    let e2 = next(ws.next().await);
    assert_eq!(
        (e2["event"].as_str(), e2["data"]["record"]["title"].as_str()),
        (Some("posts"), Some("ws draft"))
    );
    ws.close(None).await.unwrap();
    server.abort();
}

#[tokio::test]
async fn oauth2_redirect_reaches_the_waiting_client_once() {
    let t = TestApp::new().await;
    let mut s = Sse::open(&t).await;
    // Not subscribed yet: nothing is delivered.
    let r = t
        .send(
            "GET",
            &format!("/api/oauth2-redirect?state={}&code=C1", s.client_id),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        subscribe(&t, &s, json!(["@oauth2"]), Token::None).await,
        204
    );
    let r = t
        .send(
            "GET",
            &format!("/api/oauth2-redirect?state={}&code=C2", s.client_id),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Auth completed"));
    let (id, event, data) = s.next().await.expect("the @oauth2 message");
    assert_eq!(
        (id.as_str(), event.as_str()),
        (s.client_id.as_str(), "@oauth2")
    );
    assert_eq!(data, json!({"state": s.client_id, "code": "C2"}));
    // The subscription ends with the first message.
    let r = t
        .send(
            "GET",
            &format!("/api/oauth2-redirect?state={}&code=C3", s.client_id),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(s.next().await.is_none());
    // Unknown clients and provider errors fail.
    let r = t
        .send(
            "GET",
            "/api/oauth2-redirect?state=nosuchclient&code=C",
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        subscribe(&t, &s, json!(["@oauth2"]), Token::None).await,
        204
    );
    let r = t
        .send(
            "GET",
            &format!(
                "/api/oauth2-redirect?state={}&error=access_denied",
                s.client_id
            ),
            None,
            &Token::None,
        )
        .await;
    assert_eq!(r.status, 400);
    let (_, _, data) = s.next().await.expect("the error still reaches the client");
    assert_eq!(data["error"], json!("access_denied"));
}
