//! Reading the log: lists with PocketBase's filter language, sort and paging; one line; hourly
//! counts; clearing.

use serde_json::{json, Map, Value};

use kiln_db::{Conn, Dialect, Row, Value as DbValue};
use kiln_filter::{
    compile_text, CompileOptions, FilterError, Ident, Resolved, Resolver, SqlBuilder,
};

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::query::ListParams;
use crate::records::query::{DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_SORT_FIELDS};
use crate::rules::dialect::FilterDialect;
use crate::rules::resolver::to_db_params;

const TABLE: &str = "\"_logs\"";
const COLUMNS: &str = "\"id\", \"created\", \"data\", \"message\", \"level\"";

/// One page of log lines, each as the API shows it.
#[derive(Debug)]
pub struct LogPage {
    pub items: Vec<Value>,
    pub page: i64,
    pub per_page: i64,
    /// -1 when the total was skipped.
    pub total_items: i64,
    pub total_pages: i64,
}

/// What a filter or sort may name: PocketBase's `id`, `created`, `level`, `message`, `data`, and
/// paths into `data` (`data.status`, `data.auth`, `data.items.0`).
struct LogResolver {
    d: Dialect,
}

impl LogResolver {
    fn column(&self, raw: &str) -> Option<Resolved> {
        match raw {
            "level" => Some(Resolved {
                typed: true,
                ..Resolved::value(format!("{TABLE}.\"level\""), true)
            }),
            "id" | "created" | "message" | "data" => {
                Some(Resolved::value(format!("{TABLE}.\"{raw}\""), true))
            }
            _ => {
                let path = raw.strip_prefix("data.")?;
                let keys: Vec<&str> = path.split('.').collect();
                // Only word characters reach the SQL text (PocketBase columnifies the same way).
                if keys.iter().any(|k| {
                    k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                }) {
                    return None;
                }
                let column = format!("{TABLE}.\"data\"");
                Some(Resolved::value(self.d.json_extract(&column, &keys), false))
            }
        }
    }
}

impl Resolver for LogResolver {
    fn resolve(
        &mut self,
        ident: &Ident,
        _b: &mut SqlBuilder<'_>,
    ) -> std::result::Result<Resolved, FilterError> {
        self.column(&ident.raw)
            .ok_or_else(|| FilterError::UnknownField(ident.raw.clone()))
    }
}

/// `WHERE …` of a filter (empty for none), and its parameters.
fn where_clause(d: Dialect, filter: &str) -> Result<(String, Vec<DbValue>)> {
    if filter.trim().is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    let sql = compile_text(
        filter,
        kiln_filter::Limits::default(),
        &mut LogResolver { d },
        FilterDialect::of(d),
        &CompileOptions {
            now_ms: crate::datetime::now_ms(),
        },
    )?;
    Ok((format!(" WHERE {}", sql.sql), to_db_params(sql.params)))
}

fn order_by(d: Dialect, sort: &str) -> Result<String> {
    let resolver = LogResolver { d };
    let mut terms = Vec::new();
    let sort = sort.trim();
    for raw in sort.split(',').map(str::trim).filter(|_| !sort.is_empty()) {
        if terms.len() >= MAX_SORT_FIELDS {
            return Err(CoreError::BadQuery(format!(
                "at most {MAX_SORT_FIELDS} sort fields are allowed"
            )));
        }
        let (desc, name) = match raw.as_bytes().first() {
            Some(b'-') => (true, &raw[1..]),
            Some(b'+') => (false, &raw[1..]),
            _ => (false, raw),
        };
        let expr = match name {
            "@random" => d.random().to_owned(),
            "@rowid" => format!("{TABLE}.{}", d.rowid()),
            _ => {
                resolver
                    .column(name)
                    .ok_or_else(|| CoreError::BadQuery(format!("invalid sort field {name:?}")))?
                    .expr
            }
        };
        terms.push(format!("{expr} {}", d.order_dir(desc)));
    }
    if terms.is_empty() {
        return Ok(String::new());
    }
    Ok(format!(" ORDER BY {}", terms.join(", ")))
}

fn line(row: &Row<'_, '_>) -> Value {
    let data = serde_json::from_str::<Value>(&row.text(2))
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(Map::new()));
    json!({
        "id": row.text(0),
        "created": row.text(1),
        "data": data,
        "message": row.text(3),
        "level": row.int(4),
    })
}

impl App {
    /// A page of log lines, filtered and sorted with PocketBase's language.
    pub fn list_logs(&self, p: &ListParams) -> Result<LogPage> {
        let d = self.aux_db().dialect();
        let (where_sql, mut params) = where_clause(d, &p.filter)?;
        let order = order_by(d, &p.sort)?;
        let per_page = match p.per_page {
            n if n <= 0 => DEFAULT_PER_PAGE,
            n => n.min(MAX_PER_PAGE),
        };
        let page = p.page.max(1);
        let n = params.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM {TABLE}{where_sql}{order} LIMIT {} OFFSET {}",
            d.placeholder(n + 1),
            d.placeholder(n + 2)
        );
        let count_sql = format!("SELECT COUNT(*) FROM {TABLE}{where_sql}");
        self.flush_logs();
        self.aux_db().read(|conn: &Conn<'_>| {
            let (total_items, total_pages) = if p.skip_total {
                (-1, -1)
            } else {
                let total = conn.query_i64(&count_sql, &params)?;
                (total, (total + per_page - 1) / per_page)
            };
            params.push(DbValue::Int(per_page));
            params.push(DbValue::Int((page - 1).saturating_mul(per_page)));
            let mut items = Vec::new();
            conn.query(&sql, &params, |row| {
                items.push(line(row));
                Ok(())
            })?;
            Ok(LogPage {
                items,
                page,
                per_page,
                total_items,
                total_pages,
            })
        })
    }

    /// One log line by id.
    pub fn find_log(&self, id: &str) -> Result<Option<Value>> {
        let d = self.aux_db().dialect();
        let sql = format!(
            "SELECT {COLUMNS} FROM {TABLE} WHERE \"id\" = {} LIMIT 1",
            d.placeholder(1)
        );
        self.flush_logs();
        self.aux_db()
            .read(|conn| conn.query_one(&sql, &[id.into()], |row| Ok(line(row))))
            .map_err(CoreError::from)
    }

    /// Lines per hour (`{"date", "total"}`, oldest first) of those matching `filter`.
    pub fn log_stats(&self, filter: &str) -> Result<Vec<Value>> {
        let d = self.aux_db().dialect();
        let (where_sql, params) = where_clause(d, filter)?;
        let sql = format!(
            "SELECT substr(\"created\", 1, 13) || ':00:00.000Z' AS hour, COUNT(*) FROM {TABLE}{where_sql} GROUP BY hour ORDER BY hour"
        );
        self.flush_logs();
        self.aux_db().read(|conn| {
            let mut out = Vec::new();
            conn.query(&sql, &params, |row| {
                out.push(json!({"date": row.text(0), "total": row.int(1)}));
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Deletes every log line (and, on SQLite, gives the space back).
    pub async fn clear_logs(&self) -> Result<()> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || app.flush_logs())
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        self.aux_db()
            .write_long(|conn| conn.execute(&format!("DELETE FROM {TABLE}"), &[]))
            .await?;
        if self.aux_db().dialect() == Dialect::Sqlite {
            let db = self.aux_db().clone();
            tokio::task::spawn_blocking(move || db.vacuum())
                .await
                .map_err(|e| CoreError::Internal(e.to_string()))??;
        }
        Ok(())
    }

    /// Deletes lines older than the settings' `logs.maxDays` (all of them when it is 0), and
    /// those below `logs.minLevel`.
    pub(crate) async fn delete_old_logs(&self) -> Result<usize> {
        let (days, min_level) = {
            let s = self.settings();
            (s.logs.max_days, s.logs.min_level)
        };
        let before = crate::datetime::format_ms(
            crate::datetime::now_ms() - days.max(0).saturating_mul(86_400_000),
        );
        let d = self.aux_db().dialect();
        let sql = format!(
            "DELETE FROM {TABLE} WHERE \"created\" <= {} OR \"level\" < {}",
            d.placeholder(1),
            d.placeholder(2)
        );
        Ok(self
            .aux_db()
            .write_long(move |conn| conn.execute(&sql, &[before.into(), min_level.into()]))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_paths_stay_word_characters() {
        let r = LogResolver { d: Dialect::Sqlite };
        assert_eq!(
            r.column("data.items.0.name").unwrap().expr,
            "json_extract(\"_logs\".\"data\", '$.items[0].name')"
        );
        assert!(r.column("data.a'b").is_none());
        assert!(r.column("data.").is_none());
        assert!(r.column("data..a").is_none());
        assert!(r.column("other").is_none());
    }

    #[test]
    fn unknown_sort_fields_are_refused() {
        assert!(order_by(Dialect::Sqlite, "-created,data.status").is_ok());
        assert!(order_by(Dialect::Sqlite, "password").is_err());
    }
}
