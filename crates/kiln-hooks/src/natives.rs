//! The functions the prelude calls on `__kiln`. Each answers a string: plain text, or for the
//! app's data a JSON `{"ok": …}` / `{"err": "…"}` (the prelude throws the latter, keeping the
//! error itself here for when it comes out of the hook uncaught).

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::{Ctx, Function, Object};
use serde_json::{json, Map, Value};

use kiln_core::CoreError;

use crate::payload::record_value;
use crate::worker::{answer, Worker};

fn values(raw: &str) -> Map<String, Value> {
    serde_json::from_str(raw).unwrap_or_default()
}

/// Installs `__kiln` with the natives.
pub(crate) fn install(
    ctx: &Ctx<'_>,
    worker: Rc<Worker>,
    deadline: Arc<AtomicU64>,
    epoch: Instant,
) -> rquickjs::Result<()> {
    ctx.globals()
        .set("__hooks", worker.state.hooks_dir.to_string_lossy().as_ref())?;
    let native = Object::new(ctx.clone())?;
    native.set(
        "log",
        Function::new(ctx.clone(), |level: i32, msg: String| match level {
            l if l >= 8 => tracing::error!(target: "kiln_hooks", "{msg}"),
            l if l >= 4 => tracing::warn!(target: "kiln_hooks", "{msg}"),
            l if l < 0 => tracing::debug!(target: "kiln_hooks", "{msg}"),
            _ => tracing::info!(target: "kiln_hooks", "{msg}"),
        })?,
    )?;
    let w = worker.clone();
    native.set(
        "getenv",
        Function::new(ctx.clone(), move |name: String| {
            if w.state.hidden_env.iter().any(|h| h == &name) {
                return String::new();
            }
            std::env::var(name).unwrap_or_default()
        })?,
    )?;
    // sleep counts against the call's time budget: it never sleeps past the deadline
    let http_deadline = deadline.clone();
    native.set(
        "sleep",
        Function::new(ctx.clone(), move |ms: f64| -> bool {
            let now = epoch.elapsed().as_millis() as u64;
            let left = deadline.load(Ordering::Relaxed).saturating_sub(now);
            let wanted = ms.max(0.0) as u64;
            std::thread::sleep(Duration::from_millis(wanted.min(left)));
            wanted > left // true: the budget ran out while sleeping
        })?,
    )?;
    // a collection as the API shows it to a superuser, with `key` (its version); null if none
    let w = worker.clone();
    native.set(
        "collection",
        Function::new(ctx.clone(), move |name: String| -> Option<String> {
            let c = w.app().ok()?.collection(&name).ok()?;
            let mut v = c.to_json(false);
            v["key"] = json!(c.updated);
            Some(v.to_string())
        })?,
    )?;
    let w = worker.clone();
    native.set(
        "findRecordById",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, collection: String, id: String| {
                let r = w.app().and_then(|app| {
                    // an unknown collection is "no rows" too, as PocketBase's lookup of it
                    let Ok(c) = app.collection(&collection) else {
                        return Ok(Value::Null);
                    };
                    let found =
                        w.on_conn(&ctx, move |app, conn| app.find_record_on(conn, &c, &id))?;
                    Ok(found.map(|r| record_value(&r)).unwrap_or(Value::Null))
                });
                answer(&w, r)
            },
        )?,
    )?;
    let w = worker.clone();
    native.set(
        "findRecords",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>,
                  collection: String,
                  filter: String,
                  sort: String,
                  limit: f64,
                  offset: f64| {
                let r = w.app().and_then(|app| {
                    let c = app.collection(&collection)?;
                    let found = w.on_conn(&ctx, move |app, conn| {
                        app.records_where(conn, &c, &filter, &sort, limit as i64, offset as i64)
                    })?;
                    Ok(Value::Array(found.iter().map(record_value).collect()))
                });
                answer(&w, r)
            },
        )?,
    )?;
    // `$app.save`: a new record is created with every value it holds, an existing one updated
    // with those that changed; validation and the model hooks apply, the rules do not
    let w = worker.clone();
    native.set(
        "save",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>,
                  collection: String,
                  id: String,
                  is_new: bool,
                  raw: String,
                  files: String| {
                let r = crate::files::uploads(&w, &files).and_then(|uploads| {
                    save(&ctx, &w, &collection, &id, is_new, values(&raw), uploads)
                });
                answer(&w, r)
            },
        )?,
    )?;
    let w = worker.clone();
    native.set(
        "deleteRecord",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, collection: String, id: String| {
                let r = (|| {
                    let app = w.app()?;
                    let c = app.collection(&collection)?;
                    let req = app.system_request()?;
                    let prepared = app.prepare_delete(&c, &id, &req)?;
                    w.write(&ctx, prepared).map(|_| Value::Null)
                })();
                answer(&w, r)
            },
        )?,
    )?;
    // collections: saved (created or updated), deleted, imported; raw SQL
    let w = worker.clone();
    native.set(
        "saveCollection",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, raw: String| {
            let body: Value = serde_json::from_str(&raw).unwrap_or_default();
            let r = crate::schema::save_collection(&ctx, &w, body).map(|c| c.to_json(false));
            answer(&w, r)
        })?,
    )?;
    let w = worker.clone();
    native.set(
        "deleteCollection",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, id: String| {
            let r = crate::schema::delete_collection(&ctx, &w, id).map(|()| Value::Null);
            answer(&w, r)
        })?,
    )?;
    let w = worker.clone();
    native.set(
        "importCollections",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, raw: String, delete_missing: bool| {
                let list: Vec<Value> = serde_json::from_str(&raw).unwrap_or_default();
                let r = crate::schema::import_collections(&ctx, &w, list, delete_missing)
                    .map(|()| Value::Null);
                answer(&w, r)
            },
        )?,
    )?;
    let w = worker.clone();
    native.set(
        "sqlExec",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, sql: String, raw: String| {
                let r = crate::schema::execute(&ctx, &w, &sql, values(&raw)).map(Value::from);
                answer(&w, r)
            },
        )?,
    )?;
    // $app.runInTransaction: the callback (by its number) inside a transaction of its own
    let w = worker.clone();
    native.set(
        "inTransaction",
        Function::new(ctx.clone(), move || w.in_tx())?,
    )?;
    let w = worker.clone();
    native.set(
        "runInTransaction",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, id: String| {
            let r = w.app().and_then(|app| {
                w.outermost(&ctx, move |link| async move {
                    app.db()
                        .write(move |conn| link.call(conn, "txRun", id))
                        .await
                })
            });
            answer(&w, r.map(|()| Value::Null))
        })?,
    )?;
    // a `routerUse` chain's last `e.next()`: the rest of the request
    let w = worker.clone();
    native.set(
        "middlewareNext",
        Function::new(ctx.clone(), move |fields: String| {
            let next = w.middleware_next.borrow_mut().take();
            let fields = serde_json::from_str(&fields).unwrap_or(Value::Null);
            let r = match next {
                Some(go) => w.block_on(go(fields)),
                None => Ok(Value::Null), // already on its way
            };
            answer(&w, r)
        })?,
    )?;
    // $http.send, bounded by the call's time budget as well as its own timeout
    let w = worker.clone();
    native.set(
        "httpSend",
        Function::new(ctx.clone(), move |raw: String| {
            let v: Value = serde_json::from_str(&raw).unwrap_or_default();
            let now = epoch.elapsed().as_millis() as u64;
            let left = http_deadline.load(Ordering::Relaxed).saturating_sub(now);
            let asked = v["timeout"].as_f64().filter(|t| *t > 0.0).unwrap_or(120.0);
            let req = crate::http::Request {
                method: v["method"].as_str().unwrap_or("GET").to_owned(),
                url: v["url"].as_str().unwrap_or_default().to_owned(),
                body: v["body"].as_str().unwrap_or_default().to_owned(),
                headers: v["headers"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
                timeout: Duration::from_millis(((asked * 1000.0) as u64).min(left).max(1)),
            };
            let r = w.app().and_then(|app| {
                let allow = app.allows_private_fetch();
                w.block_on(crate::http::send(req, allow))?
                    .map_err(CoreError::InvalidBody)
            });
            match r {
                Ok(v) => json!({ "ok": v }).to_string(),
                Err(e) => json!({ "err": match e { CoreError::InvalidBody(m) => m, other => other.to_string() } }).to_string(),
            }
        })?,
    )?;
    // $security: one entry, the operation by name
    native.set(
        "security",
        Function::new(
            ctx.clone(),
            |op: String, a: String, b: String, n: f64| -> String {
                use crate::security as sec;
                let r: Result<Value, String> = match op.as_str() {
                    "randomString" => sec::random_string(n.max(0.0) as usize, &a).map(Value::from),
                    "md5" => Ok(sec::md5(&a).into()),
                    "sha256" => Ok(sec::sha256(&a).into()),
                    "sha512" => Ok(sec::sha512(&a).into()),
                    "hs256" => Ok(sec::hs256(&a, &b).into()),
                    "hs512" => Ok(sec::hs512(&a, &b).into()),
                    "equal" => Ok(sec::equal(&a, &b).into()),
                    "encrypt" => sec::encrypt(&a, &b).map(Value::from),
                    "decrypt" => sec::decrypt(&a, &b).map(Value::from),
                    "createJWT" => serde_json::from_str(&a)
                        .map_err(|e| e.to_string())
                        .and_then(|p| sec::create_jwt(&p, &b, n))
                        .map(Value::from),
                    "parseJWT" => sec::parse_jwt(&a, &b),
                    "parseUnverifiedJWT" => sec::parse_unverified(&a),
                    other => Err(format!("$security.{other} is not available")),
                };
                match r {
                    Ok(v) => json!({ "ok": v }).to_string(),
                    Err(e) => json!({ "err": e }).to_string(),
                }
            },
        )?,
    )?;
    let w = worker.clone();
    native.set(
        "sqlQuery",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, sql: String, raw: String, limit: f64| {
                let r = crate::schema::query(&ctx, &w, &sql, values(&raw), limit.max(1.0) as usize)
                    .map(Value::Array);
                answer(&w, r)
            },
        )?,
    )?;
    // the records of a collection matching `$dbx` conditions (or their count)
    let w = worker.clone();
    native.set(
        "recordsWhere",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, collection: String, cond: String, raw: String, count: bool| {
                let r =
                    crate::schema::records_where(&ctx, &w, &collection, &cond, values(&raw), count);
                answer(&w, r)
            },
        )?,
    )?;
    // the settings as stored (secrets included: the app's own code reads them, as PocketBase's)
    let w = worker.clone();
    native.set(
        "settings",
        Function::new(ctx.clone(), move || {
            let r = w.app().and_then(|app| {
                serde_json::to_value(&*app.settings())
                    .map_err(|e| CoreError::Internal(e.to_string()))
            });
            answer(&w, r)
        })?,
    )?;
    // why a cron expression does not parse ("" when it does)
    native.set(
        "cronCheck",
        Function::new(ctx.clone(), |expr: String| {
            kiln_core::cron::Schedule::parse(&expr)
                .err()
                .unwrap_or_default()
        })?,
    )?;
    // cronAdd / cronRemove while the server runs (at load the files' jobs are listed instead)
    let w = worker.clone();
    native.set(
        "cronAdd",
        Function::new(
            ctx.clone(),
            move |name: String, expression: String, source: String| {
                let Some(add) = w.state.cron_add.get() else {
                    return "the app is not ready".to_owned();
                };
                match w.app() {
                    Ok(app) => add(&app, name, expression, source)
                        .err()
                        .unwrap_or_default(),
                    Err(e) => e.to_string(),
                }
            },
        )?,
    )?;
    let w = worker.clone();
    native.set(
        "cronRemove",
        Function::new(ctx.clone(), move |name: String| {
            if let Ok(app) = w.app() {
                app.remove_cron_job(&name);
            }
        })?,
    )?;
    // jobAdd while the server runs (at load the files' handlers are listed instead)
    let w = worker.clone();
    native.set(
        "jobAdd",
        Function::new(ctx.clone(), move |name: String, source: String| {
            match (w.state.job_add.get(), w.app()) {
                (Some(add), Ok(app)) => {
                    add(&app, name, source);
                    String::new()
                }
                (None, _) => "the app is not ready".to_owned(),
                (_, Err(e)) => e.to_string(),
            }
        })?,
    )?;
    // $jobs.enqueue: in the hook's transaction when there is one (the job goes with its writes)
    let w = worker.clone();
    native.set(
        "jobEnqueue",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, name: String, payload: String, options: String| {
                let r =
                    crate::enqueue::enqueue(&ctx, &w, name, &payload, &options).map(Value::from);
                answer(&w, r)
            },
        )?,
    )?;
    // a model hook's last `e.next()`: the writer validates and writes the record
    let w = worker.clone();
    native.set(
        "writeNext",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, raw: String| {
            let r = w
                .write_next(&ctx, values(&raw))
                .map(|r| r.as_ref().map(record_value).unwrap_or(Value::Null));
            answer(&w, r)
        })?,
    )?;
    // a record request hook's last `e.next()`: the write the request asked for
    let w = worker.clone();
    native.set(
        "requestNext",
        Function::new(ctx.clone(), move |ctx: Ctx<'_>, raw: String| {
            let r = crate::records::request_next(&ctx, &w, values(&raw))
                .map(|r| r.map(|r| record_value(&r)).unwrap_or(Value::Null));
            answer(&w, r)
        })?,
    )?;
    crate::modules::install(ctx, &native)?;
    crate::mail::install(ctx, &native, &worker)?;
    crate::expand::install(ctx, &native, &worker)?;
    crate::template::install(ctx, &native, &worker)?;
    ctx.globals().set("__kiln", native)
}

fn save(
    ctx: &Ctx<'_>,
    w: &Worker,
    collection: &str,
    id: &str,
    is_new: bool,
    mut body: Map<String, Value>,
    uploads: Vec<kiln_core::files::Upload>,
) -> Result<Value, CoreError> {
    let app = w.app()?;
    let c = app.collection(collection)?;
    let req = app.system_request()?;
    // a plain password set by the hook is confirmed by itself
    if let Some(pw) = body.get("password").cloned() {
        body.insert("passwordConfirm".into(), pw);
    }
    let prepared = if is_new {
        if !id.is_empty() {
            body.insert("id".into(), Value::String(id.to_owned()));
        }
        w.block_on(app.prepare_create(&c, &req, body, uploads))??
    } else {
        w.block_on(app.prepare_update_of(&c, id, &req, body, uploads))??
    };
    let written = w.write(ctx, prepared)?;
    Ok(written.last().map(record_value).unwrap_or(Value::Null))
}
