//! View collections: the fields a view's query yields (named and typed from the tables it reads)
//! and the dry run of a query.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::app::App;
use crate::error::{Action, CoreError, FieldError, Result};
use crate::schema::collection::Collection;
use crate::schema::field::Field;

impl App {
    /// Fields of a view collection, read from its query's columns.
    pub(super) fn view_fields(&self, c: &Collection) -> Result<Vec<Field>> {
        let q = c.view_query.trim().trim_end_matches(';');
        if q.is_empty() {
            return Ok(vec![]);
        }
        if q.contains(';')
            || !q
                .get(..6)
                .map(|s| s.eq_ignore_ascii_case("select"))
                .unwrap_or(false)
        {
            return Err(CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_invalid_view_query",
                    "The view query must be a single SELECT statement.",
                ),
            ));
        }
        let cols = self.db().read(|conn| conn.columns_of(q)).map_err(|e| {
            CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_invalid_view_query",
                    format!("Invalid query - {e}"),
                ),
            )
        })?;
        if !cols.iter().any(|c| c == "id") {
            return Err(CoreError::validation(
                Action::CreateCollection,
                "viewQuery",
                FieldError::new(
                    "validation_missing_view_id",
                    "The view query must select an \"id\" column.",
                ),
            ));
        }
        let schema = self.schema();
        let exprs = select_exprs(q);
        let sources: Vec<Arc<Collection>> = from_tables(q)
            .iter()
            .filter_map(|t| schema.get(t).cloned())
            .collect();
        let mut fields = Vec::new();
        for (i, col) in cols.into_iter().enumerate() {
            if col == "id" {
                let mut f = Field::id_field();
                if let crate::schema::field::FieldKind::Text {
                    min,
                    max,
                    autogenerate_pattern,
                    ..
                } = &mut f.kind
                {
                    *min = 0;
                    *max = 0;
                    autogenerate_pattern.clear();
                }
                fields.push(f);
                continue;
            }
            let expr = exprs.get(i).map(String::as_str).unwrap_or(col.as_str());
            fields.push(view_field(&col, expr, &sources));
        }
        Ok(fields)
    }

    /// The fields a view collection with `query` would have, and its first 10 records
    /// (PocketBase's `POST /api/collections/meta/dry-run-view`, for superusers).
    pub fn dry_run_view(&self, query: &str) -> Result<Value> {
        crate::sql::check_query(query)?;
        // every failure is the query's, told in its own words
        let invalid = |e: CoreError| {
            CoreError::InvalidViewQuery(match e {
                CoreError::Validation { errors, .. } => errors
                    .into_values()
                    .next()
                    .map(|e| e.message)
                    .unwrap_or_default(),
                CoreError::Db(kiln_db::DbError::Query(m)) => m,
                other => other.to_string(),
            })
        };
        let name = format!("temp_view_{}", crate::ids::new_secret(5));
        let mut c =
            Collection::from_json(&json!({"name": name, "type": "view", "viewQuery": query}))
                .map_err(|e| CoreError::InvalidViewQuery(e.0))?;
        c.fields = self.view_fields(&c).map_err(invalid)?;
        let c = Arc::new(c);
        let d = self.dialect();
        let columns: Vec<String> = c.fields.iter().map(|f| d.quote(&f.name)).collect();
        let q = c.view_query.trim().trim_end_matches(';');
        // wrapped in a second SELECT, as PocketBase does, against inline extra statements
        let sql = format!(
            "SELECT {} FROM (SELECT * FROM ({q}) AS {}) AS {} LIMIT 10",
            columns.join(", "),
            d.quote("_kq"),
            d.quote(&name)
        );
        let mut sample = Vec::new();
        self.db()
            .read(|conn| {
                conn.query(&sql, &[], |row| {
                    sample.push(crate::records::model::Record::from_row(&c, row));
                    Ok(())
                })
            })
            .map_err(|e| invalid(CoreError::Db(e)))?;
        let mut ids = std::collections::HashSet::new();
        for r in &sample {
            if r.id().is_empty() {
                return Err(CoreError::InvalidViewQuery(
                    "the query could return records with empty or invalid ids".into(),
                ));
            }
            if !ids.insert(r.id().to_owned()) {
                return Err(CoreError::InvalidViewQuery(
                    "the query could return records with non-unique ids".into(),
                ));
            }
        }
        let viewer = crate::records::Viewer {
            superuser: true,
            auth: None,
        };
        let fields: Vec<Value> = c.fields.iter().map(Field::to_json).collect();
        let sample: Vec<Value> = sample.iter().map(|r| r.to_json(d, &viewer)).collect();
        Ok(json!({ "fields": fields, "sample": sample }))
    }
}

/// The expressions of a SELECT list (top-level commas), with any `AS alias` removed.
fn select_exprs(q: &str) -> Vec<String> {
    let lower = q.to_ascii_lowercase();
    let start = lower.find("select").map(|i| i + 6).unwrap_or(0);
    let mut depth = 0i32;
    let mut items = Vec::new();
    let mut cur = String::new();
    let bytes: Vec<char> = q[start..].chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let ch = bytes[i];
        if depth == 0 {
            let rest: String = bytes[i..bytes.len().min(i + 6)]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            if rest.starts_with("from")
                && bytes
                    .get(i + 4)
                    .map(|c| !c.is_alphanumeric() && *c != '_')
                    .unwrap_or(true)
                && (i == 0 || !bytes[i - 1].is_alphanumeric())
            {
                break;
            }
        }
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut cur));
                i += 1;
                continue;
            }
            _ => {}
        }
        cur.push(ch);
        i += 1;
    }
    items.push(cur);
    items
        .into_iter()
        .map(|it| {
            let t = it.trim();
            let l = t.to_ascii_lowercase();
            match l.rfind(" as ") {
                Some(p) => t[..p].trim().to_owned(),
                None => t.to_owned(),
            }
        })
        .collect()
}

/// Table names following FROM and JOIN.
fn from_tables(q: &str) -> Vec<String> {
    let words: Vec<&str> = q
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if pair[0].eq_ignore_ascii_case("from") || pair[0].eq_ignore_ascii_case("join") {
            out.push(
                pair[1]
                    .trim_matches(|c| c == '`' || c == '"' || c == '[' || c == ']')
                    .to_owned(),
            );
        }
    }
    out
}

/// The field of a view column: a clone of the source field for a plain column, an integer
/// number for `count(…)`, JSON otherwise (PocketBase's inference).
fn view_field(name: &str, expr: &str, sources: &[Arc<Collection>]) -> Field {
    use crate::schema::field::FieldKind;
    let bare = expr
        .rsplit('.')
        .next()
        .unwrap_or(expr)
        .trim_matches(|c| c == '`' || c == '"');
    let is_ident = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_ident {
        if let Some(src) = sources.iter().find_map(|c| c.field(bare)) {
            if !matches!(src.kind, FieldKind::Password { .. }) {
                let mut f = src.clone();
                f.name = name.to_owned();
                f.system = false;
                f.id = crate::schema::field::default_field_id(f.kind.type_name(), name);
                return f;
            }
        }
    }
    if expr.trim_start().to_ascii_lowercase().starts_with("count(") {
        return Field::new(
            name,
            FieldKind::Number {
                min: None,
                max: None,
                only_int: true,
            },
        );
    }
    Field::new(name, FieldKind::Json { max_size: 1 })
}
