//! The endpoints that are not a collection's: health, realtime, batch and files for everyone; the
//! superuser-only API (collections, settings, logs, backups, jobs, crons) for superusers.

use serde_json::{json, Map, Value};

use super::parts::{op, param_ref};

/// A JSON object answer.
fn object(what: &str) -> Value {
    json!({ "200": { "description": what, "content": { "application/json": { "schema": { "type": "object" } } } } })
}

/// A JSON body of any object.
fn any_body() -> Option<Value> {
    Some(
        json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } }),
    )
}

fn path_param(name: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
}

fn query_param(name: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" } })
}

/// Adds the shared endpoints (and, for a superuser, the superuser-only ones) and their tags.
pub(crate) fn add(superuser: bool, paths: &mut Map<String, Value>, tags: &mut Vec<Value>) {
    let mut put = |path: &str, method: &str, o: Value| {
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = o;
    };
    put(
        "/api/health",
        "get",
        op(
            "system",
            "health",
            "Whether the server is up",
            "",
            vec![],
            None,
            object("`{code, message, data}`; `data.canBackup` for superusers."),
            &[],
        ),
    );
    put(
        "/api/realtime",
        "get",
        op(
            "realtime",
            "realtime_connect",
            "Open the event stream (Server-Sent Events)",
            "The first event, `PB_CONNECT`, carries the client id; later events are named by the subscription they match (`posts/*`, `posts/RECORD_ID`) and carry `{action, record}`. A WebSocket at `/api/realtime/ws` carries the same events.",
            vec![],
            None,
            json!({ "200": { "description": "The stream.", "content": { "text/event-stream": { "schema": { "type": "string" } } } } }),
            &[],
        ),
    );
    put(
        "/api/realtime",
        "post",
        op(
            "realtime",
            "realtime_subscribe",
            "Set a client's subscriptions",
            "",
            vec![],
            Some(
                json!({ "required": true, "content": { "application/json": { "schema": {
                "type": "object",
                "properties": { "clientId": { "type": "string" }, "subscriptions": { "type": "array", "items": { "type": "string" } } },
                "required": ["clientId"],
            } } } }),
            ),
            json!({ "204": { "description": "Subscribed." } }),
            &["400", "403", "404"],
        ),
    );
    put(
        "/api/batch",
        "post",
        op(
            "batch",
            "batch",
            "Several record writes in one transaction",
            "Each request is `{method, url, body}` of a records API create, update, upsert (`PUT`) or delete; all are written or none.",
            vec![],
            Some(json!({ "required": true, "content": { "application/json": { "schema": {
                "type": "object",
                "properties": { "requests": { "type": "array", "items": {
                    "type": "object",
                    "properties": { "method": { "type": "string" }, "url": { "type": "string" }, "body": { "type": "object" }, "headers": { "type": "object" } },
                    "required": ["method", "url"],
                } } },
                "required": ["requests"],
            } } } })),
            json!({ "200": { "description": "Each write's status and answer.", "content": { "application/json": { "schema": {
                "type": "array", "items": { "type": "object", "properties": { "status": { "type": "integer" }, "body": {} } },
            } } } } }),
            &["400", "403"],
        ),
    );
    put(
        "/api/webhooks/{name}",
        "post",
        op(
            "webhooks",
            "webhook_receive",
            "A delivery to an inbound webhook endpoint",
            "The body as the sender signed it, with Stripe's `Stripe-Signature` or Standard Webhooks' `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (the endpoint's scheme, in the settings). A new event is recorded and handed to the endpoint's job; a duplicate is acknowledged with `duplicate: true`.",
            vec![path_param("name")],
            Some(json!({ "required": true, "content": { "application/json": { "schema": {} } } })),
            json!({ "200": { "description": "Received.", "content": { "application/json": { "schema": {
                "type": "object",
                "properties": { "received": { "type": "boolean" }, "id": { "type": "string" }, "duplicate": { "type": "boolean" } },
                "required": ["received", "id"],
            } } } } }),
            &["400", "404"],
        ),
    );
    put(
        "/api/files/token",
        "post",
        op(
            "files",
            "file_token",
            "A short-lived token for protected files",
            "",
            vec![],
            None,
            object("`{token}`."),
            &["401"],
        ),
    );
    put(
        "/api/files/{collection}/{recordId}/{filename}",
        "get",
        op(
            "files",
            "file_download",
            "Download a record's file",
            "`thumb=WxH` (a size of the field's `thumbs`) for an image's thumbnail, `download=1` to save it, `token=` for a protected file.",
            vec![
                path_param("collection"),
                param_ref("recordId"),
                path_param("filename"),
                json!({ "name": "thumb", "in": "query", "schema": { "type": "string" } }),
                json!({ "name": "token", "in": "query", "schema": { "type": "string" } }),
                json!({ "name": "download", "in": "query", "schema": { "type": "boolean" } }),
            ],
            None,
            json!({ "200": { "description": "The file.", "content": { "application/octet-stream": { "schema": { "type": "string", "contentMediaType": "application/octet-stream" } } } } }),
            &["400", "404"],
        ),
    );
    tags.push(json!({ "name": "system", "description": "The server." }));
    tags.push(json!({ "name": "realtime", "description": "Realtime subscriptions." }));
    tags.push(json!({ "name": "batch", "description": "Transactional batches." }));
    tags.push(json!({ "name": "files", "description": "Records' files." }));
    tags.push(json!({ "name": "webhooks", "description": "Inbound webhook endpoints (the settings define them)." }));
    if !superuser {
        return;
    }
    let su = "superusers";
    let id = || path_param("collection");
    for (path, method, name, summary, params, body) in [
        (
            "/api/collections",
            "get",
            "collections_list",
            "List the collections",
            vec![
                param_ref("page"),
                param_ref("perPage"),
                param_ref("sort"),
                param_ref("filter"),
                param_ref("fields"),
            ],
            None,
        ),
        (
            "/api/collections",
            "post",
            "collections_create",
            "Create a collection",
            vec![],
            any_body(),
        ),
        (
            "/api/collections/{collection}",
            "get",
            "collections_view",
            "View a collection",
            vec![id()],
            None,
        ),
        (
            "/api/collections/{collection}",
            "patch",
            "collections_update",
            "Update a collection (its table follows)",
            vec![id()],
            any_body(),
        ),
        (
            "/api/collections/{collection}",
            "delete",
            "collections_delete",
            "Delete a collection and its records",
            vec![id()],
            None,
        ),
        (
            "/api/collections/{collection}/truncate",
            "delete",
            "collections_truncate",
            "Delete every record of a collection",
            vec![id()],
            None,
        ),
        (
            "/api/collections/import",
            "put",
            "collections_import",
            "Import collections (optionally deleting the others)",
            vec![],
            any_body(),
        ),
        (
            "/api/collections/meta/scaffolds",
            "get",
            "collections_scaffolds",
            "The default collection of each type",
            vec![],
            None,
        ),
        (
            "/api/settings",
            "get",
            "settings_view",
            "The settings (secrets blanked)",
            vec![],
            None,
        ),
        (
            "/api/settings",
            "patch",
            "settings_update",
            "Change the settings",
            vec![],
            any_body(),
        ),
        (
            "/api/settings/test/s3",
            "post",
            "settings_test_s3",
            "Test the S3 settings",
            vec![],
            any_body(),
        ),
        (
            "/api/settings/test/email",
            "post",
            "settings_test_email",
            "Send a test email",
            vec![],
            any_body(),
        ),
        (
            "/api/logs",
            "get",
            "logs_list",
            "List the request and app logs",
            vec![
                param_ref("page"),
                param_ref("perPage"),
                param_ref("sort"),
                param_ref("filter"),
                param_ref("fields"),
            ],
            None,
        ),
        (
            "/api/logs/stats",
            "get",
            "logs_stats",
            "Log counts per hour",
            vec![param_ref("filter")],
            None,
        ),
        (
            "/api/logs/{id}",
            "get",
            "logs_view",
            "View a log entry",
            vec![path_param("id")],
            None,
        ),
        (
            "/api/backups",
            "get",
            "backups_list",
            "List the backups",
            vec![],
            None,
        ),
        (
            "/api/backups",
            "post",
            "backups_create",
            "Make a backup",
            vec![],
            any_body(),
        ),
        (
            "/api/backups/{key}",
            "delete",
            "backups_delete",
            "Delete a backup",
            vec![path_param("key")],
            None,
        ),
        (
            "/api/backups/{key}/restore",
            "post",
            "backups_restore",
            "Restore a backup (the server reopens its data)",
            vec![path_param("key")],
            None,
        ),
        (
            "/api/jobs",
            "get",
            "jobs_list",
            "List the jobs (by status and name), the newest first",
            vec![
                param_ref("page"),
                param_ref("perPage"),
                query_param("status"),
                query_param("name"),
            ],
            None,
        ),
        (
            "/api/jobs",
            "post",
            "jobs_create",
            "Queue a job: name, payload, runAt, uniqueKey, maxAttempts, backoff (ms)",
            vec![],
            any_body(),
        ),
        (
            "/api/jobs/{id}",
            "get",
            "jobs_view",
            "One job",
            vec![path_param("id")],
            None,
        ),
        (
            "/api/jobs/{id}",
            "delete",
            "jobs_delete",
            "Delete a job that is not running",
            vec![path_param("id")],
            None,
        ),
        (
            "/api/jobs/{id}/retry",
            "post",
            "jobs_retry",
            "Queue a failed or finished job again, its attempts reset",
            vec![path_param("id")],
            None,
        ),
        (
            "/api/crons",
            "get",
            "crons_list",
            "List the cron jobs",
            vec![],
            None,
        ),
        (
            "/api/crons/{id}",
            "post",
            "crons_run",
            "Run a cron job now",
            vec![path_param("id")],
            None,
        ),
    ] {
        let ok = match (method, name) {
            ("delete", _) => json!({ "204": { "description": "Done." } }),
            // lists that are no page
            (_, "backups_list" | "crons_list" | "logs_stats") => json!({ "200": {
                "description": "The list.",
                "content": { "application/json": { "schema": { "type": "array", "items": { "type": "object" } } } },
            } }),
            _ => object("The answer."),
        };
        put(
            path,
            method,
            op(
                su,
                name,
                summary,
                "",
                params,
                body,
                ok,
                &["400", "401", "403", "404"],
            ),
        );
    }
    tags.push(json!({ "name": su, "description": "The superuser-only API." }));
}
