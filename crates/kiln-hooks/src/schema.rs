//! Collections and raw SQL from JavaScript (`$app.save(collection)`, `$app.delete(collection)`,
//! `$app.importCollections`, `$app.db().newQuery(sql).execute()`): inside an open transaction
//! (a migration, a hook) on it, else each in a transaction of its own.

use std::sync::Arc;

use rquickjs::Ctx;
use serde_json::{Map, Value};

use kiln_core::schema::collection::Collection;
use kiln_core::CoreError;
use kiln_db::{Dialect, Value as DbValue};

use crate::worker::Worker;

pub(crate) fn save_collection(
    ctx: &Ctx<'_>,
    w: &Worker,
    body: Value,
) -> Result<Arc<Collection>, CoreError> {
    if w.in_tx() {
        w.schema_touched.set(true);
        return w.on_conn(ctx, move |app, conn| app.save_collection_on(conn, &body));
    }
    let app = w.app()?;
    let existing = body
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .or_else(|| body.get("name").and_then(Value::as_str))
        .and_then(|key| app.collection(key).ok());
    match existing {
        Some(c) => w.block_on(app.update_collection(&c.id, &body))?,
        None => w.block_on(app.create_collection(&body))?,
    }
}

pub(crate) fn delete_collection(ctx: &Ctx<'_>, w: &Worker, id: String) -> Result<(), CoreError> {
    if w.in_tx() {
        w.schema_touched.set(true);
        return w.on_conn(ctx, move |app, conn| app.delete_collection_on(conn, &id));
    }
    let app = w.app()?;
    w.block_on(app.delete_collection(&id))?
}

pub(crate) fn import_collections(
    ctx: &Ctx<'_>,
    w: &Worker,
    list: Vec<Value>,
    delete_missing: bool,
) -> Result<(), CoreError> {
    if w.in_tx() {
        w.schema_touched.set(true);
        return w.on_conn(ctx, move |app, conn| {
            app.import_collections_on(conn, &list, delete_missing)
        });
    }
    let app = w.app()?;
    w.block_on(app.import_collections(&list, delete_missing))?
}

/// Runs `sql` with its `{:name}` placeholders bound to `params`; the rows it changed.
pub(crate) fn execute(
    ctx: &Ctx<'_>,
    w: &Worker,
    sql: &str,
    params: Map<String, Value>,
) -> Result<i64, CoreError> {
    let (sql, bound) = bind(sql, &params, w.app()?.dialect())?;
    if w.in_tx() {
        return w.on_conn(ctx, move |_, conn| {
            conn.foreign(&sql);
            conn.execute(&sql, &bound)
                .map(|n| n as i64)
                .map_err(CoreError::from)
        });
    }
    let app = w.app()?;
    w.block_on(app.db().write(move |conn| {
        conn.foreign(&sql);
        conn.execute(&sql, &bound)
            .map(|n| n as i64)
            .map_err(CoreError::from)
    }))?
}

/// The rows of `sql` (a query) with its `{:name}` placeholders bound to `params`, each row an
/// object of its columns; at most `limit` rows.
pub(crate) fn query(
    ctx: &Ctx<'_>,
    w: &Worker,
    sql: &str,
    params: Map<String, Value>,
    limit: usize,
) -> Result<Vec<Value>, CoreError> {
    let (sql, bound) = bind(sql, &params, w.app()?.dialect())?;
    w.on_conn(ctx, move |_, conn| {
        conn.foreign(&sql);
        let mut rows = Vec::new();
        conn.query(&sql, &bound, |row| {
            if rows.len() < limit {
                let mut m = Map::new();
                for i in 0..row.len() {
                    let v = match row.get(i) {
                        kiln_db::ValueRef::Null => Value::Null,
                        kiln_db::ValueRef::Int(n) => Value::from(n),
                        kiln_db::ValueRef::Float(f) => Value::from(f),
                        kiln_db::ValueRef::Text(t) => Value::from(t),
                        kiln_db::ValueRef::Blob(b) => Value::from(String::from_utf8_lossy(b)),
                    };
                    m.insert(row.column_name(i).to_owned(), v);
                }
                rows.push(Value::Object(m));
            }
            Ok(())
        })?;
        Ok(rows)
    })
}

/// The records of `collection` matching `cond` (SQL with `{:name}` placeholders: `$dbx`'s
/// conditions; empty: all), in storage order, or their count when `count`.
pub(crate) fn records_where(
    ctx: &Ctx<'_>,
    w: &Worker,
    collection: &str,
    cond: &str,
    params: Map<String, Value>,
    count: bool,
) -> Result<Value, CoreError> {
    let app = w.app()?;
    let c = app.collection(collection)?;
    let d = app.dialect();
    let plan = c.plan(d);
    let what = if count {
        "COUNT(*)"
    } else {
        plan.columns.as_str()
    };
    let mut sql = format!("SELECT {what} FROM {}", plan.table);
    if !cond.trim().is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(cond);
    }
    if !count {
        sql.push_str(&format!(" ORDER BY {}.{}", plan.table, d.rowid()));
    }
    let (sql, bound) = bind(&sql, &params, d)?;
    w.on_conn(ctx, move |_, conn| {
        let mut out = Vec::new();
        conn.query(&sql, &bound, |row| {
            out.push(match count {
                true => match row.get(0) {
                    kiln_db::ValueRef::Int(n) => Value::from(n),
                    _ => Value::from(0),
                },
                false => crate::payload::record_value(
                    &kiln_core::records::model::Record::from_row(&c, row),
                ),
            });
            Ok(())
        })?;
        Ok(match count {
            true => out.pop().unwrap_or(Value::from(0)),
            false => Value::Array(out),
        })
    })
}

/// dbx's `{:name}` placeholders as numbered parameters with their values, its `{{table}}` and
/// `[[column]]` (or `[[table.column]]`) quoted, and `$dbx.like`'s `{:!like:column:name}` as the
/// dialect's case-insensitive LIKE.
pub(crate) fn bind(
    sql: &str,
    params: &Map<String, Value>,
    d: Dialect,
) -> Result<(String, Vec<DbValue>), CoreError> {
    let sql = quote_names(sql, d);
    let mut out = String::with_capacity(sql.len());
    let mut values = Vec::new();
    let mut rest = sql.as_str();
    let value_of = |name: &str, values: &mut Vec<DbValue>| -> Result<String, CoreError> {
        let v = params.get(name).ok_or_else(|| {
            CoreError::InvalidBody(format!("no value is bound to the placeholder {{:{name}}}"))
        })?;
        values.push(match v {
            Value::Null => DbValue::Null,
            Value::Bool(b) => DbValue::Int(i64::from(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => DbValue::Int(i),
                None => DbValue::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => DbValue::Text(s.clone()),
            other => DbValue::Text(other.to_string()),
        });
        Ok(format!("?{}", values.len()))
    };
    while let Some(at) = rest.find("{:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        match name.split(':').collect::<Vec<_>>()[..] {
            [op @ ("!like" | "!notlike"), column, value] => {
                let p = value_of(value, &mut values)?;
                out.push_str(&d.like(&quote_path(column, d), &p, op == "!notlike"));
            }
            _ => out.push_str(&value_of(name, &mut values)?),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok((out, values))
}

/// `{{name}}` and `[[name]]` quoted as identifiers (dbx's quoting).
fn quote_names(sql: &str, d: Dialect) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    loop {
        let next = [("{{", "}}"), ("[[", "]]")]
            .into_iter()
            .filter_map(|(open, close)| rest.find(open).map(|at| (at, close)))
            .min_by_key(|(at, _)| *at);
        let Some((at, close)) = next else {
            break;
        };
        let Some(len) = rest[at + 2..].find(close) else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&quote_path(&rest[at + 2..at + 2 + len], d));
        rest = &rest[at + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

/// `a.b` as `"a"."b"`.
fn quote_path(name: &str, d: Dialect) -> String {
    name.split('.')
        .map(|part| d.quote(part.trim()))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_parameters() {
        let params: Map<String, Value> =
            serde_json::from_str(r#"{"a": "x", "b": 2, "c": true}"#).unwrap();
        let (sql, values) = bind(
            "UPDATE t SET a = {:a}, b = {:b} WHERE c = {:c} OR a = {:a}",
            &params,
            Dialect::Sqlite,
        )
        .unwrap();
        assert_eq!(sql, "UPDATE t SET a = ?1, b = ?2 WHERE c = ?3 OR a = ?4");
        assert_eq!(values.len(), 4);
        assert!(bind("SELECT {:missing}", &params, Dialect::Sqlite).is_err());
    }

    #[test]
    fn dbx_names_are_quoted_and_like_is_the_dialects() {
        let params: Map<String, Value> = serde_json::from_str(r#"{"v": "%x%"}"#).unwrap();
        let (sql, values) = bind(
            "SELECT [[p.id]] FROM {{posts}} p WHERE {:!like:title:v} AND {:!notlike:p.body:v}",
            &params,
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT \"p\".\"id\" FROM \"posts\" p WHERE (\"title\")::text ILIKE ?1 ESCAPE '\\' AND (\"p\".\"body\")::text NOT ILIKE ?2 ESCAPE '\\'"
        );
        assert_eq!(values.len(), 2);
    }
}
