//! pb_hooks files in QuickJS: routes, the request event, errors as PocketBase sends them, the
//! middlewares, and the budgets that keep a runaway hook from taking the server down.

use std::time::{Duration, Instant};

use kiln_hooks::{HookRequest, HookResponse, Hooks, HooksError, Limits};
use serde_json::{json, Value};

fn load(files: &[(&str, &str)], limits: Limits) -> Result<(Hooks, tempfile::TempDir), HooksError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in files {
        std::fs::write(dir.path().join(name), src).unwrap();
    }
    Hooks::load(dir.path(), 2, limits, vec!["KILN_TEST_HIDDEN".into()]).map(|h| (h, dir))
}

async fn call(h: &Hooks, method: &str, path: &str, auth: Value, body: Value) -> HookResponse {
    let (i, params) = h.find_route(method, path).expect("a route");
    let req = HookRequest {
        method: method.into(),
        path: path.into(),
        auth,
        body,
        ..HookRequest::default()
    };
    h.call_route(i, params, req).await.expect("an answer")
}

fn body(r: &HookResponse) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

const APP: &str = r#"
routerAdd("GET", "/hello/{name}", (e) => {
  const name = e.request.pathValue("name");
  return e.json(200, { message: "Hello " + name });
});
routerAdd("POST", "/echo", (e) => e.json(201, e.requestInfo().body));
routerAdd("GET", "/text", (e) => e.string(200, "plain"));
routerAdd("GET", "/none", (e) => e.noContent(204));
routerAdd("GET", "/go", (e) => e.redirect(307, "/elsewhere"));
routerAdd("GET", "/bad", () => { throw new BadRequestError("wrong input", { title: new ValidationError("too_short", "too short") }); });
routerAdd("GET", "/boom", () => { null.x; });
routerAdd("GET", "/mine", (e) => e.json(200, { id: e.auth.id, email: e.auth.email() }), $apis.requireAuth("users"));
routerAdd("GET", "/admin", (e) => e.noContent(204), $apis.requireSuperuserAuth());
routerAdd("GET", "/env", (e) => e.json(200, { hidden: $os.getenv("KILN_TEST_HIDDEN"), path: $os.getenv("PATH") !== "" }));
routerAdd("GET", "/chain", (e) => e.string(200, e.trail.join(">")), (e) => { e.trail = ["a"]; return e.next(); }, { func: (e) => { e.trail.push("b"); return e.next(); } });
"#;

#[tokio::test]
async fn routes_answer_as_pocketbase() {
    std::env::set_var("KILN_TEST_HIDDEN", "a secret of Kiln's");
    let (h, _dir) = load(&[("main.pb.js", APP)], Limits::default()).unwrap();
    assert_eq!(h.files(), 1);
    assert_eq!(h.routes().len(), 11);

    let r = call(&h, "GET", "/hello/w%C3%B6rld", Value::Null, Value::Null).await;
    assert_eq!((r.status, r.content_type.as_str()), (200, "json"));
    assert_eq!(body(&r), json!({"message": "Hello wörld"}));
    let r = call(&h, "POST", "/echo", Value::Null, json!({"a": [1, 2]})).await;
    assert_eq!((r.status, body(&r)), (201, json!({"a": [1, 2]})));
    let r = call(&h, "GET", "/text", Value::Null, Value::Null).await;
    assert_eq!((r.status, r.body.as_str()), (200, "plain"));
    let r = call(&h, "GET", "/none", Value::Null, Value::Null).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = call(&h, "GET", "/go", Value::Null, Value::Null).await;
    assert_eq!((r.status, r.location.as_deref()), (307, Some("/elsewhere")));
    let r = call(&h, "GET", "/chain", Value::Null, Value::Null).await;
    assert_eq!(r.body, "a>b");
    // Kiln's own secrets are not the hooks' (the variable is set by the test runner below)
    let r = call(&h, "GET", "/env", Value::Null, Value::Null).await;
    assert_eq!(body(&r), json!({"hidden": "", "path": true}));
    assert!(h.find_route("GET", "/nothing").is_none());
}

#[tokio::test]
async fn thrown_errors_become_the_api_envelope() {
    let (h, _dir) = load(&[("main.pb.js", APP)], Limits::default()).unwrap();
    let r = call(&h, "GET", "/bad", Value::Null, Value::Null).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        body(&r),
        json!({"data": {"title": {"code": "too_short", "message": "Too short."}}, "message": "Wrong input.", "status": 400})
    );
    // any other error is PocketBase's generic 400
    let r = call(&h, "GET", "/boom", Value::Null, Value::Null).await;
    assert_eq!(
        body(&r),
        json!({"data": {}, "message": "Something went wrong while processing your request.", "status": 400})
    );
    // the middlewares
    let r = call(&h, "GET", "/mine", Value::Null, Value::Null).await;
    assert_eq!(
        (r.status, body(&r)["message"].clone()),
        (
            401,
            json!("The request requires valid record authorization token.")
        )
    );
    let user = json!({"id": "u1", "collectionName": "users", "email": "u@example.com"});
    let r = call(&h, "GET", "/mine", user.clone(), Value::Null).await;
    assert_eq!(body(&r), json!({"id": "u1", "email": "u@example.com"}));
    // requireSuperuserAuth is requireAuth("_superusers"), as in PocketBase
    let r = call(&h, "GET", "/admin", user, Value::Null).await;
    assert_eq!(r.status, 403);
    let su = json!({"id": "s1", "collectionName": "_superusers"});
    assert_eq!(call(&h, "GET", "/admin", su, Value::Null).await.status, 204);
}

#[tokio::test]
async fn a_broken_file_is_named_with_its_line() {
    let err = load(
        &[
            (
                "a.pb.js",
                "routerAdd('GET', '/x', (e) => e.noContent(204));",
            ),
            ("b.pb.js", "\n\nlet x = ;\n"),
        ],
        Limits::default(),
    )
    .err()
    .expect("an error");
    let text = err.to_string();
    assert!(text.starts_with("pb_hooks/b.pb.js: "), "{text}");
    assert!(text.contains("b.pb.js:3"), "{text}");
    let err = load(
        &[("c.pb.js", "\nthrow new Error('at load');\n")],
        Limits::default(),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("at load") && err.to_string().contains("c.pb.js:2"),
        "{err}"
    );
}

#[tokio::test]
async fn runaway_hooks_end_with_an_error_and_the_pool_lives_on() {
    let limits = Limits {
        call_timeout: Duration::from_millis(300),
        memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let src = r#"
routerAdd("GET", "/loop", () => { while (true) {} });
routerAdd("GET", "/hog", () => { const a = []; while (true) a.push("x".repeat(1000)); });
routerAdd("GET", "/nap", (e) => { sleep(10000); return e.noContent(204); });
routerAdd("GET", "/ok", (e) => e.noContent(204));
"#;
    let (h, _dir) = load(&[("main.pb.js", src)], limits).unwrap();
    for path in ["/loop", "/hog", "/nap"] {
        let t0 = Instant::now();
        let r = call(&h, "GET", path, Value::Null, Value::Null).await;
        assert_eq!(r.status, 500, "{path}: {r:?}");
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{path} took {:?}",
            t0.elapsed()
        );
        assert_eq!(
            call(&h, "GET", "/ok", Value::Null, Value::Null)
                .await
                .status,
            204,
            "after {path}"
        );
    }
}
