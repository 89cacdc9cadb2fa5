//! Listing and viewing records: transcripts 10–12, 14, 14b, 18, 22, 25, 97–99, 110–115; sorting,
//! every filter operator, relation paths and `@collection` / `@request` access.

use serde_json::{json, Value};

use crate::support::*;

const E404: &str = r#"{"data":{},"message":"The requested resource wasn't found.","status":404}"#;
const E400: &str =
    r#"{"data":{},"message":"Something went wrong while processing your request.","status":400}"#;

fn j(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn list(filter: &str) -> String {
    format!("/api/collections/posts/records?filter={}", enc(filter))
}

fn notes(filter: &str) -> String {
    format!("/api/collections/notes/records?filter={}", enc(filter))
}

#[tokio::test]
async fn transcripts() {
    let t = TestApp::with_posts().await;
    let (alice, bob) = (t.id("alice"), t.id("bob"));
    let (hello, draft, bob_post) = (t.id("hello"), t.id("draft"), t.id("bob_post"));
    let (a1, a2, a3, b1, b2) = (
        alice.clone(),
        alice.clone(),
        alice.clone(),
        bob.clone(),
        bob.clone(),
    );
    t.run(vec![
        Scenario::new("10 filter+sort+expand", "GET", "/api/collections/posts/records?page=1&perPage=2&sort=-views,created&filter=(views%3E%3D3%20%26%26%20title~%27o%27)&expand=author")
            .user("alice")
            .titles(&["Bob post", "Hello world"])
            .check(move |v| {
                assert_eq!((v["page"].clone(), v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(1), json!(2), json!(3), json!(2)));
                assert_shape(&v["items"][0], &bob_post_shape(&b1));
                assert_eq!(v["items"][0]["expand"], json!({}), "Bob is not viewable by Alice");
                assert_shape(&v["items"][1], &hello_shape(&a1));
                let author = &v["items"][1]["expand"]["author"];
                assert_shape(author, &alice_shape());
                assert_eq!(author["id"], json!(a1));
            }),
        Scenario::new("11 fields + excerpt + skipTotal", "GET", "/api/collections/posts/records?fields=id,title,expand.author.name,body:excerpt(5,true)&skipTotal=1&expand=author")
            .user("alice")
            .body_eq(json!({"items":[
                {"id":hello,"title":"Hello world","body":"","expand":{"author":{"name":"Alice"}}},
                {"id":draft,"title":"Draft post","body":"","expand":{"author":{"name":"Alice"}}},
                {"id":bob_post,"title":"Bob post","body":"","expand":{}}],
                "page":1,"perPage":30,"totalItems":-1,"totalPages":-1})),
        Scenario::new("12 anonymous list: listRule acts as a filter", "GET", "/api/collections/posts/records")
            .titles(&["Hello world", "Bob post"])
            .check(move |v| {
                assert_eq!((v["page"].clone(), v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(1), json!(30), json!(2), json!(1)));
                assert_shape(&v["items"][0], &hello_shape(&a2));
                assert!(v["items"][0].get("expand").is_none(), "no expand key without ?expand");
                assert_shape(&v["items"][1], &bob_post_shape(&b2));
            }),
        Scenario::new("14 missing record", "GET", "/api/collections/posts/records/doesnotexist123").user("alice").status(404).body_eq(j(E404)),
        Scenario::new("14b missing collection", "GET", "/api/collections/nope/records")
            .status(404)
            .body_eq(json!({"data":{},"message":"Missing collection context.","status":404})),
        Scenario::new("18 Bob views Alice's draft", "GET", format!("/api/collections/posts/records/{draft}")).user("bob").status(404).body_eq(j(E404)),
        Scenario::new("draft hidden from guests", "GET", format!("/api/collections/posts/records/{draft}")).status(404).body_eq(j(E404)),
        Scenario::new("draft visible to its author", "GET", format!("/api/collections/posts/records/{draft}"))
            .user("alice")
            .check(move |v| assert_shape(v, &draft_shape(&a3))),
        Scenario::new("draft visible to superusers", "GET", format!("/api/collections/posts/records/{draft}")).su().contains(&[r#""title":"Draft post""#]),
        Scenario::new("22 unknown filter field", "GET", "/api/collections/posts/records?filter=nosuchfield%3D1").user("alice").status(400).body_eq(j(E400)),
        Scenario::new("25 filter through a hidden relation", "GET", list("author.email='bob@example.com'"))
            .body_eq(json!({"items":[],"page":1,"perPage":30,"totalItems":0,"totalPages":0})),
        Scenario::new("97 perPage clamp, page 0 -> 1", "GET", "/api/collections/posts/records?perPage=5000&page=0")
            .su()
            .titles(&["Hello world", "Draft post", "Bob post"])
            .check(|v| assert_eq!((v["page"].clone(), v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(1), json!(1000), json!(3), json!(1)))),
        Scenario::new("98 getFirstListItem", "GET", "/api/collections/posts/records?filter=title%3D%22Bob%20post%22&perPage=1&skipTotal=1")
            .su()
            .titles(&["Bob post"])
            .check(|v| assert_eq!((v["perPage"].clone(), v["totalItems"].clone(), v["totalPages"].clone()), (json!(1), json!(-1), json!(-1)))),
        Scenario::new("99 random sort", "GET", "/api/collections/posts/records?sort=@random&fields=id").su().check({
            let all = vec![t.id("hello"), t.id("draft"), t.id("bob_post")];
            move |v| {
                let items = v["items"].as_array().unwrap();
                let mut ids: Vec<String> = items.iter().map(|i| {
                    assert_eq!(i.as_object().unwrap().len(), 1, "only id: {i}");
                    i["id"].as_str().unwrap().to_owned()
                }).collect();
                ids.sort();
                let mut want = all.clone();
                want.sort();
                assert_eq!(ids, want);
            }
        }),
        Scenario::new("110 back-relation expand", "GET", format!("/api/collections/users/records/{alice}?expand=posts_via_author&fields=id,expand.posts_via_author.title"))
            .user("alice")
            .body_eq(json!({"expand":{"posts_via_author":[{"title":"Hello world"},{"title":"Draft post"}]},"id":alice})),
        Scenario::new("back-relation expand applies the posts rules", "GET", format!("/api/collections/users/records/{bob}?expand=posts_via_author&fields=id,expand.posts_via_author.title"))
            .user("bob")
            .body_eq(json!({"expand":{"posts_via_author":[{"title":"Bob post"}]},"id":bob})),
        Scenario::new("users viewRule hides others", "GET", format!("/api/collections/users/records/{alice}")).user("bob").status(404),
        Scenario::new("111 @request in a client filter", "GET", "/api/collections/posts/records?filter=author%3D@request.auth.id")
            .user("alice")
            .status(403)
            .body_eq(json!({"data":{},"message":"Only superusers can filter by @request.","status":403})),
        Scenario::new("@request in a client sort", "GET", "/api/collections/posts/records?sort=@request.auth.id").user("alice").status(403),
        Scenario::new("@request as guest", "GET", list("@request.method = 'GET'")).status(403),
        Scenario::new("@collection as user", "GET", list("@collection.users.name = 'Bob'"))
            .user("alice")
            .status(403)
            .body_eq(json!({"data":{},"message":"Only superusers can filter by @collection.","status":403})),
        Scenario::new("@request allowed to superusers", "GET", list("author = @request.auth.id")).su().total(0),
        Scenario::new("112 @now macro and :lower", "GET", "/api/collections/posts/records?filter=created%3C@now%20%26%26%20title:lower~%22hello%22&fields=id,title")
            .user("alice")
            .body_eq(json!({"items":[{"id":t.id("hello"),"title":"Hello world"}],"page":1,"perPage":30,"totalItems":1,"totalPages":1})),
        Scenario::new("113 invalid token = guest", "GET", "/api/collections/posts/records?fields=id&perPage=1")
            .token(Token::Raw("invalid.token.value".into()))
            .body_eq(json!({"page":1,"perPage":1,"totalItems":2,"totalPages":2,"items":[{"id":t.id("hello")}]})),
        Scenario::new("114 method not allowed", "PUT", "/api/collections/posts/records").user("alice").json(json!({})).status(404).body_eq(j(E404)),
        Scenario::new("115 unknown api route", "GET", "/api/nope")
            .status(404)
            .body_eq(json!({"data":{},"message":"File not found.","status":404})),
        Scenario::new("expand of an unknown relation is ignored", "GET", "/api/collections/posts/records?expand=nosuch").su().total(3),
        Scenario::new("expand as guest: Alice not viewable", "GET", format!("/api/collections/posts/records/{}?expand=author", t.id("hello")))
            .check(|v| assert_eq!(v["expand"], json!({}))),
        Scenario::new("expand as superuser", "GET", format!("/api/collections/posts/records/{}?expand=author", t.id("bob_post")))
            .su()
            .check(|v| {
                assert_eq!(v["expand"]["author"]["name"], json!("Bob"));
                assert_eq!(v["expand"]["author"]["email"], json!("bob@example.com"), "superusers see hidden emails");
            }),
    ])
    .await;

    // :excerpt strips HTML and cuts on characters.
    t.su_ok(
        "PATCH",
        &format!("/api/collections/posts/records/{}", t.id("hello")),
        json!({"body":"<p>Hello <b>big</b>\n   world</p>"}),
    )
    .await;
    t.run(vec![
        Scenario::new(
            "excerpt with ellipsis",
            "GET",
            format!(
                "/api/collections/posts/records/{}?fields=body:excerpt(9,true)",
                t.id("hello")
            ),
        )
        .su()
        .body_eq(json!({"body":"Hello big..."})),
        Scenario::new(
            "excerpt without ellipsis",
            "GET",
            format!(
                "/api/collections/posts/records/{}?fields=body:excerpt(100)",
                t.id("hello")
            ),
        )
        .su()
        .body_eq(json!({"body":"Hello big world"})),
    ])
    .await;
}

#[tokio::test]
async fn sorting() {
    let t = TestApp::with_posts().await;
    let s = |name: &str, sort: &str| {
        Scenario::new(
            name,
            "GET",
            format!("/api/collections/posts/records?sort={}", enc(sort)),
        )
        .su()
    };
    t.run(vec![
        s("default order is insertion", "").titles(&["Hello world", "Draft post", "Bob post"]),
        s("two fields", "status,-views").titles(&["Draft post", "Bob post", "Hello world"]),
        s("two fields, reversed first", "-status,title").titles(&[
            "Bob post",
            "Hello world",
            "Draft post",
        ]),
        s("explicit +", "+title").titles(&["Bob post", "Draft post", "Hello world"]),
        s("number desc", "-views").titles(&["Bob post", "Hello world", "Draft post"]),
        s("@rowid", "@rowid").titles(&["Hello world", "Draft post", "Bob post"]),
        s("-@rowid", "-@rowid").titles(&["Bob post", "Draft post", "Hello world"]),
        s("relation path", "author.name,-views").titles(&["Hello world", "Draft post", "Bob post"]),
        s("relation path desc", "-author.name,views").titles(&[
            "Bob post",
            "Draft post",
            "Hello world",
        ]),
        s("unknown field", "nosuch").status(400).body_eq(j(E400)),
        Scenario::new(
            "sort under the list rule (guest)",
            "GET",
            "/api/collections/posts/records?sort=-views",
        )
        .titles(&["Bob post", "Hello world"]),
    ])
    .await;
}

#[tokio::test]
async fn filter_operators() {
    let mut t = TestApp::with_posts().await;
    t.add_notes().await;
    let f = |name: &str, filter: &str, titles: &[&str]| {
        Scenario::new(name, "GET", list(filter)).su().titles(titles)
    };
    let n = |name: &str, filter: &str, titles: &[&str]| {
        Scenario::new(name, "GET", notes(filter)).titles(titles)
    };
    let bad = |name: &str, filter: &str| {
        Scenario::new(name, "GET", list(filter))
            .su()
            .status(400)
            .body_eq(j(E400))
    };
    t.run(vec![
        f("=", "views = 10", &["Hello world"]),
        f("!=", "views != 10", &["Draft post", "Bob post"]),
        f(">", "views > 10", &["Bob post"]),
        f(">=", "views >= 10", &["Hello world", "Bob post"]),
        f("<", "views < 10", &["Draft post"]),
        f("<=", "views <= 10", &["Hello world", "Draft post"]),
        f(
            "~ wraps in %",
            "title ~ 'post'",
            &["Draft post", "Bob post"],
        ),
        f(
            "~ is case-insensitive",
            "title ~ 'POST'",
            &["Draft post", "Bob post"],
        ),
        f("!~", "title !~ 'post'", &["Hello world"]),
        f("~ with inner %", "title ~ 'Hel%world'", &["Hello world"]),
        f(
            "~ with leading %",
            "title ~ '%post'",
            &["Draft post", "Bob post"],
        ),
        f("~ with trailing %", "title ~ 'Draft%'", &["Draft post"]),
        f("= ''", "published_at = ''", &["Draft post", "Bob post"]),
        f("!= ''", "published_at != ''", &["Hello world"]),
        f(
            "= null on text",
            "published_at = null",
            &["Draft post", "Bob post"],
        ),
        f("= null on json", "tags = null", &["Draft post", "Bob post"]),
        f("!= null on json", "tags != null", &["Hello world"]),
        f(
            "date compare",
            "published_at > '2024-01-01 00:00:00.000Z'",
            &["Hello world"],
        ),
        f("bool true", "featured = true", &["Hello world"]),
        f(
            "bool false",
            "featured = false",
            &["Draft post", "Bob post"],
        ),
        f(
            "&& binds tighter than ||",
            "status = 'draft' || views > 50 && title ~ 'Bob'",
            &["Draft post", "Bob post"],
        ),
        f(
            "parentheses",
            "(views > 1 && views < 50) || title = 'Bob post'",
            &["Hello world", "Draft post", "Bob post"],
        ),
        f("double quotes", "title = \"Bob post\"", &["Bob post"]),
        // a number is never empty (and PostgreSQL must not read '' as a number)
        f("number = null", "views = null", &[]),
        f("number = ''", "views = ''", &[]),
        f(
            "number != ''",
            "views != ''",
            &["Hello world", "Draft post", "Bob post"],
        ),
        f(
            "or with a number = null",
            "author.name = 'x' || views = null",
            &[],
        ),
        f("geoPoint subfield", "loc.lat > 40", &["Hello world"]),
        f(
            "geoDistance",
            "geoDistance(loc.lon, loc.lat, 23.32, 42.70) < 5",
            &["Hello world"],
        ),
        f(
            "relation path",
            "author.name = 'Alice'",
            &["Hello world", "Draft post"],
        ),
        f("relation path !=", "author.name != 'Alice'", &["Bob post"]),
        f(
            "relation path to an email",
            "author.email ~ 'bob'",
            &["Bob post"],
        ),
        // `@collection` references of one name are one row of it, shared by the whole
        // expression; `?=` needs some row, `=` every row (PocketBase 0.40.6).
        f(
            "@collection join",
            "@collection.users.id ?= author && @collection.users.name ?= 'Bob'",
            &["Bob post"],
        ),
        f(
            "@collection with alias",
            "@collection.users:u.id ?= author && @collection.users:u.emailVisibility ?= true",
            &["Hello world", "Draft post"],
        ),
        f(
            "@collection all-of needs every row",
            "@collection.users.id = author && @collection.users.name = 'Bob'",
            &[],
        ),
        // A multi-valued field compares as its stored JSON text, as in PocketBase 0.40.6 (items
        // are reached with `:each`).
        n("multi ?= a compares the raw text", "cats ?= 'a'", &[]),
        n("multi ?= b compares the raw text", "cats ?= 'b'", &[]),
        n("multi = compares the raw text", "cats = 'b'", &[]),
        n(
            "multi != compares the raw text",
            "cats != 'a'",
            &["n1", "n2", "n3"],
        ),
        n(
            "multi ?!= compares the raw text",
            "cats ?!= 'b'",
            &["n1", "n2", "n3"],
        ),
        n("multi = '' is never true ([] is stored)", "cats = ''", &[]),
        n("multi ~ looks into the raw text", "cats ~ 'a'", &["n1"]),
        n(
            ":each ?= reaches the items",
            "cats:each ?= 'b'",
            &["n1", "n2"],
        ),
        n(":length 2", "cats:length = 2", &["n1"]),
        n(":length 0", "cats:length = 0", &["n3"]),
        n(":length >", "cats:length > 0", &["n1", "n2"]),
        n(":each", "cats:each = 'b'", &["n2"]),
        n(":each ~", "cats:each ~ 'b'", &["n2"]),
        n("json key", "meta.k = 'x'", &["n1"]),
        bad("syntax: missing operand", "title ="),
        bad("syntax: missing right operand", "views >"),
        bad("syntax: unclosed paren", "(views > 1"),
        bad("syntax: bad operator", "title ~~ 'a'"),
        bad("unknown path", "author.nosuch = 1"),
        bad("unknown function", "nosuchfn(title) = 1"),
        bad("modifier on a non-multi field", "title:length = 1"),
        Scenario::new(
            "guests: relation path hits the users listRule",
            "GET",
            list("author.name = 'Alice'"),
        )
        .total(0),
        Scenario::new(
            "owner: relation path to self",
            "GET",
            list("author.name = 'Alice'"),
        )
        .user("alice")
        .titles(&["Hello world", "Draft post"]),
        Scenario::new("list rule AND filter", "GET", list("views < 50")).titles(&["Hello world"]),
    ])
    .await;
}

/// PocketBase rejects any non-superuser `filter`/`sort` that merely contains `@request.` or
/// `@collection.` (apis/record_helpers.go checkForSuperuserOnlyRuleFields), even in a string.
#[tokio::test]
async fn superuser_only_fields_loose_check() {
    let t = TestApp::with_posts().await;
    t.run(vec![Scenario::new(
        "string containing @request.",
        "GET",
        list("title = '@request.auth.id'"),
    )
    .user("alice")
    .status(403)
    .body_eq(
        json!({"data":{},"message":"Only superusers can filter by @request.","status":403}),
    )])
    .await;
}

/// Rules see request headers as `@request.headers.*` (dashes become underscores, lower case).
#[tokio::test]
async fn request_headers_and_query_in_rules() {
    let t = TestApp::new().await;
    t.su_ok(
        "POST",
        "/api/collections",
        json!({"name":"vault","type":"base","listRule":"@request.headers.x_token = 'abc' || @request.query.key = 'k1'","viewRule":null,"fields":[{"name":"title","type":"text"}]}),
    )
    .await;
    t.su_ok(
        "POST",
        "/api/collections/vault/records",
        json!({"title":"gold"}),
    )
    .await;
    t.run(vec![
        Scenario::new("without the header", "GET", "/api/collections/vault/records").total(0),
        Scenario::new("with the header", "GET", "/api/collections/vault/records").header("X-Token", "abc").titles(&["gold"]),
        Scenario::new("with a wrong header", "GET", "/api/collections/vault/records").header("X-Token", "abd").total(0),
        Scenario::new("with the query key", "GET", "/api/collections/vault/records?key=k1").titles(&["gold"]),
        Scenario::new("viewRule null", "GET", "/api/collections/vault/records/abc").header("X-Token", "abc").status(403)
            .body_eq(json!({"data":{},"message":"Only superusers can perform this action.","status":403})),
    ])
    .await;
}

/// A list asked again reuses its compiled statement (`records/list_cache.rs`), yet answers what
/// the rows, the schema and the requester of the moment allow.
#[tokio::test]
async fn kept_list_statements_follow_rows_schema_and_requester() {
    let mut t = TestApp::with_posts().await;
    t.add_notes().await;
    let url = |page: u32| {
        format!(
            "/api/collections/notes/records?filter={}&sort=-title&perPage=1&page={page}",
            enc("title != 'n3'")
        )
    };
    let titles_of = |v: &Value| titles(v).join(",");
    let guest = |url: String| {
        let t = &t;
        async move { t.send("GET", &url, None, &Token::None).await }
    };
    for _ in 0..2 {
        let r = guest(url(1)).await;
        assert_eq!((r.status, titles_of(&r.json)), (200, "n2".into()));
        assert_eq!(r.json["totalItems"], json!(2));
    }
    assert_eq!(
        titles_of(&guest(url(2)).await.json),
        "n1",
        "the page is bound anew"
    );

    t.su_ok(
        "POST",
        "/api/collections/notes/records",
        json!({"title":"n9"}),
    )
    .await;
    let r = guest(url(1)).await;
    assert_eq!(
        (titles_of(&r.json), r.json["totalItems"].clone()),
        ("n9".into(), json!(3)),
        "new rows are seen"
    );

    t.su_ok(
        "PATCH",
        "/api/collections/notes",
        json!({"listRule":"title != \"n9\""}),
    )
    .await;
    let r = guest(url(1)).await;
    assert_eq!(
        (titles_of(&r.json), r.json["totalItems"].clone()),
        ("n2".into(), json!(2)),
        "the new rule applies"
    );
    let su = t.send("GET", &url(1), None, &Token::Superuser).await;
    assert_eq!(
        (titles_of(&su.json), su.json["totalItems"].clone()),
        ("n9".into(), json!(3)),
        "no rule for superusers"
    );

    t.su_ok("PATCH", "/api/collections/notes", json!({"listRule":null}))
        .await;
    assert_eq!(guest(url(1)).await.status, 403, "superusers only now");
    let su = t.send("GET", &url(1), None, &Token::Superuser).await;
    assert_eq!(titles_of(&su.json), "n9");
}
