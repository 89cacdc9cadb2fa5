//! `GET /api/openapi.json`: an OpenAPI 3.1 document of the API, made from the live schema at each
//! request (a collection changed is described at once). A guest or a signed-in record sees the
//! collections and operations whose rules are not superuser-only, and the sign-in endpoints of
//! each auth collection; a superuser sees everything, the superuser-only API included.
//! `GET /api/docs` shows it in Swagger UI (embedded with the dashboard's files).

mod accounts;
mod docs;
mod fields;
mod parts;
mod records;

pub(crate) use records::open;
mod system;
mod typegen;

pub use typegen::typescript;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use kiln_core::App;

use crate::extract::Ctx;
use crate::json::Json;
use parts::schema_ref;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/openapi.json", get(handler))
        .route("/api/docs", get(docs::page))
        .route("/api/docs/{*asset}", get(docs::asset))
}

async fn handler(State(app): State<App>, ctx: Ctx) -> Json<Value> {
    Json(document(&app, ctx.req.is_superuser()))
}

/// The document as a caller sees it (`superuser`: everything).
pub fn document(app: &App, superuser: bool) -> Value {
    let schema = app.schema();
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    let mut collections: Vec<_> = schema.all().iter().collect();
    // the app's collections first, then the system's (`_superusers`, …)
    collections.sort_by(|a, b| (a.system, &a.name).cmp(&(b.system, &b.name)));
    for c in collections {
        let before = paths.len();
        records::add(c, &schema, superuser, &mut paths, &mut schemas);
        if c.is_auth() {
            accounts::add(c, &mut paths);
        }
        if paths.len() > before {
            tags.push(json!({ "name": c.name, "description": format!("The `{}` collection ({}).", c.name, c.kind.as_str()) }));
        }
    }
    system::add(superuser, &mut paths, &mut tags);
    schemas.insert("Error".into(), error_schema());
    let s = app.settings();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": if s.meta.app_name.is_empty() { "Kiln" } else { s.meta.app_name.as_str() },
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The REST API of this Kiln server (wire-compatible with PocketBase 0.40), made from its collections as they are now. Errors share one envelope (`Error`); a record's fields follow its collection's schema.",
        },
        "servers": [{ "url": "/" }],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": parameters(),
            "responses": responses(),
            "securitySchemes": {
                "token": {
                    "type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "The token of a sign-in (`token` of an auth answer), as it is or after `Bearer `.",
                },
            },
        },
        "security": [{}, { "token": [] }],
    })
}

/// The error envelope every failure answers with.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "status": { "type": "integer" },
            "message": { "type": "string" },
            "data": {
                "type": "object",
                "description": "per field (nested for nested values): `{code, message}`",
                "additionalProperties": true,
            },
        },
        "required": ["status", "message", "data"],
    })
}

/// The error answers operations refer to (`E400`, …).
fn responses() -> Value {
    let mut out = Map::new();
    for (status, what) in [
        ("400", "The request is invalid (`data` names the fields)."),
        (
            "401",
            "A valid token is required (or a second factor: `mfaId` in `data`).",
        ),
        ("403", "The rules do not allow it."),
        ("404", "Not found, or not visible to the caller."),
        ("413", "The body is too large."),
        ("429", "Too many requests; try again later."),
    ] {
        out.insert(
            format!("E{status}"),
            json!({ "description": what, "content": { "application/json": { "schema": schema_ref("Error") } } }),
        );
    }
    Value::Object(out)
}

/// The query and path parameters operations share.
fn parameters() -> Value {
    let q = |name: &str, schema: Value, what: &str| json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": what });
    json!({
        "page": q("page", json!({ "type": "integer", "default": 1 }), "The page (from 1; less is the first)."),
        "perPage": q("perPage", json!({ "type": "integer", "default": 30 }), "Records per page (at most 1000 are answered; 0 or less is the default)."),
        "sort": q("sort", json!({ "type": "string" }), "Fields to sort by, `-` for descending (`-created,title`; `@random`)."),
        "filter": q("filter", json!({ "type": "string" }), "A filter expression (`title ~ 'kiln' && created > '2024-01-01'`)."),
        "expand": q("expand", json!({ "type": "string" }), "Relations to expand (`author,comments_via_post.author`)."),
        "fields": q("fields", json!({ "type": "string" }), "The fields to answer with (`id,title,expand.author.name`, `*`, `:excerpt(200)`)."),
        "skipTotal": q("skipTotal", json!({ "type": "boolean" }), "Skip counting `totalItems` and `totalPages` (answered as -1)."),
        "recordId": { "name": "recordId", "in": "path", "required": true, "schema": { "type": "string" } },
    })
}
