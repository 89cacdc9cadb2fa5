//! Listing collections: PocketBase's filter and sort over `_collections`' columns.

use std::sync::Arc;

use kiln_filter::{FilterError, Ident, Resolved, Resolver, SqlBuilder};

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::query::{ListParams, DEFAULT_PER_PAGE, MAX_PER_PAGE};
use crate::rules::dialect::FilterDialect;
use crate::rules::resolver::to_db_params;
use crate::schema::collection::Collection;

/// One page of collections.
pub struct CollectionPage {
    pub items: Vec<Arc<Collection>>,
    pub page: i64,
    pub per_page: i64,
    pub total_items: i64,
    pub total_pages: i64,
}

/// Filters over `_collections` may use these columns.
const COLLECTION_COLUMNS: [&str; 11] = [
    "id",
    "name",
    "type",
    "system",
    "created",
    "updated",
    "listRule",
    "viewRule",
    "createRule",
    "updateRule",
    "deleteRule",
];

struct CollectionColumns;

impl Resolver for CollectionColumns {
    fn resolve(
        &mut self,
        ident: &Ident,
        _b: &mut SqlBuilder<'_>,
    ) -> std::result::Result<Resolved, FilterError> {
        if COLLECTION_COLUMNS.contains(&ident.raw.as_str()) {
            Ok(Resolved::value(
                format!("\"{}\"", ident.raw),
                ident.raw == "system",
            ))
        } else {
            Err(FilterError::UnknownField(ident.raw.clone()))
        }
    }
}

impl App {
    /// Lists collections with a filter and sort over their columns.
    pub fn list_collections(&self, p: &ListParams) -> Result<CollectionPage> {
        let d = self.dialect();
        let fd = FilterDialect(d);
        let mut b = SqlBuilder::new(&fd);
        let mut where_sql = String::new();
        if !p.filter.trim().is_empty() {
            let expr = kiln_filter::parse(&p.filter, kiln_filter::Limits::default())?;
            let cond = kiln_filter::compile(
                &expr,
                &mut CollectionColumns,
                &mut b,
                &kiln_filter::CompileOptions {
                    now_ms: crate::datetime::now_ms(),
                },
            )?;
            where_sql = format!(" WHERE {cond}");
        }
        let mut order = Vec::new();
        for term in p.sort.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (desc, name) = match term.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, term.trim_start_matches('+')),
            };
            if !COLLECTION_COLUMNS.contains(&name) {
                return Err(CoreError::BadQuery(format!("cannot sort by {name:?}")));
            }
            order.push(format!("\"{name}\" {}", if desc { "DESC" } else { "ASC" }));
        }
        order.push("\"created\" ASC".into());
        order.push("\"name\" ASC".into());
        let per_page = match p.per_page {
            n if n <= 0 => DEFAULT_PER_PAGE,
            n => n.min(MAX_PER_PAGE),
        };
        let page = p.page.max(1);
        let params = to_db_params(b.into_params());
        let mut sql = format!(
            "SELECT id FROM _collections{where_sql} ORDER BY {}",
            order.join(", ")
        );
        sql.push_str(&format!(
            " LIMIT {per_page} OFFSET {}",
            (page - 1).saturating_mul(per_page)
        ));
        let count_sql = format!("SELECT COUNT(*) FROM _collections{where_sql}");
        let schema = self.schema();
        let (ids, total) = self.db().read(|conn| -> Result<(Vec<String>, i64)> {
            let mut ids = Vec::new();
            conn.query(&sql, &params, |r| {
                ids.push(r.text(0));
                Ok(())
            })?;
            let total = if p.skip_total {
                -1
            } else {
                conn.query_i64(&count_sql, &params)?
            };
            Ok((ids, total))
        })?;
        let items = ids
            .iter()
            .filter_map(|id| schema.by_id(id).cloned())
            .collect();
        let total_pages = if total < 0 {
            -1
        } else {
            (total + per_page - 1) / per_page
        };
        Ok(CollectionPage {
            items,
            page,
            per_page,
            total_items: total,
            total_pages,
        })
    }

    /// Records count of a collection (used by tools and tests).
    pub fn count_records(&self, c: &Collection) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.dialect().quote(&c.name));
        self.db()
            .read(|conn| conn.query_i64(&sql, &[]).map_err(CoreError::from))
    }
}
