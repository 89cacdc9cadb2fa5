//! Tables behind collections: create, migrate (keeping data) and drop.

use kiln_db::{ColumnKind, Conn, Dialect};

use super::collection::Collection;
use super::index::IndexDef;
use crate::error::{CoreError, Result};

fn column_defs(d: Dialect, c: &Collection) -> String {
    c.fields
        .iter()
        .map(|f| {
            let def = if f.is_primary_key() {
                d.id_column_def()
            } else {
                d.column_def(f.column_kind())
            };
            format!("{} {def}", d.quote(&f.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates the table (or view) of a new collection and its indexes.
pub fn create(conn: &Conn<'_>, c: &Collection) -> Result<()> {
    let d = conn.dialect();
    if c.is_view() {
        conn.execute_batch(&format!(
            "CREATE VIEW {} AS {}",
            d.quote(&c.name),
            c.view_query
        ))?;
        return Ok(());
    }
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({})",
        d.quote(&c.name),
        column_defs(d, c)
    ))?;
    create_indexes(conn, c, &c.indexes)
}

fn create_indexes(conn: &Conn<'_>, c: &Collection, indexes: &[String]) -> Result<()> {
    let d = conn.dialect();
    for raw in indexes {
        let idx = IndexDef::parse(raw)
            .ok_or_else(|| CoreError::Internal(format!("unparsable index {raw:?}")))?;
        conn.execute_batch(&idx.to_ddl(&c.name, d))?;
    }
    Ok(())
}

fn drop_indexes(conn: &Conn<'_>, indexes: &[String]) -> Result<()> {
    let d = conn.dialect();
    for raw in indexes {
        if let Some(idx) = IndexDef::parse(raw) {
            conn.execute_batch(&format!("DROP INDEX IF EXISTS {}", d.quote(&idx.name)))?;
        }
    }
    Ok(())
}

/// Whether two field lists need the table rebuilt: a column added, removed, renamed or stored
/// differently.
fn columns_differ(old: &Collection, new: &Collection) -> bool {
    old.fields.len() != new.fields.len()
        || old
            .fields
            .iter()
            .zip(&new.fields)
            .any(|(a, b)| a.id != b.id || a.name != b.name || a.column_kind() != b.column_kind())
}

/// Brings the table of `old` to the shape of `new`, keeping every row. Fields are matched by id,
/// so a renamed field keeps its data; a field that changes between single and multiple values is
/// converted (a single value becomes a one-item list; a list keeps its last item).
pub fn migrate(conn: &Conn<'_>, old: &Collection, new: &Collection) -> Result<()> {
    let d = conn.dialect();
    if new.is_view() {
        conn.execute_batch(&format!("DROP VIEW IF EXISTS {}", d.quote(&old.name)))?;
        return create(conn, new);
    }
    if columns_differ(old, new) {
        // Where views would block dropping the old table, they are set aside and recreated.
        let mut views: Vec<(String, String)> = Vec::new();
        if let Some(q) = d.dependent_views_query() {
            conn.query(q, &[old.name.as_str().into()], |r| {
                views.push((r.text(0), r.text(1)));
                Ok(())
            })?;
            for (name, _) in views.iter().rev() {
                conn.execute_batch(&format!("DROP VIEW IF EXISTS {}", d.quote(name)))?;
            }
        }
        let tmp = format!("_kiln_new_{}", new.name);
        conn.execute_batch(&format!(
            "CREATE TABLE {} ({})",
            d.quote(&tmp),
            column_defs(d, new)
        ))?;
        let mut targets = Vec::new();
        let mut sources = Vec::new();
        for f in &new.fields {
            let Some(prev) = old.fields.iter().find(|p| p.id == f.id) else {
                continue;
            };
            let col = d.quote(&prev.name);
            let expr = match (prev.column_kind(), f.column_kind()) {
                (a, b) if a == b => col,
                (ColumnKind::Text, ColumnKind::JsonArray) => d.to_json_array(&col),
                (ColumnKind::JsonArray, ColumnKind::Text) => d.last_of_json_array(&col),
                // Other storage changes are refused by validation; start such a column empty.
                _ => continue,
            };
            targets.push(d.quote(&f.name));
            sources.push(expr);
        }
        if !targets.is_empty() {
            conn.execute_batch(&format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                d.quote(&tmp),
                targets.join(", "),
                sources.join(", "),
                d.quote(&old.name)
            ))?;
        }
        conn.execute_batch(&format!("DROP TABLE {}", d.quote(&old.name)))?;
        // Views that read the table refer to it by name: with the legacy rename, SQLite neither
        // rewrites nor re-checks them, so they bind to the rebuilt table under the same name.
        conn.execute_batch(&d.rename_table_keeping_views(&tmp, &new.name))?;
        for (name, sql) in &views {
            // A view reading a column that is gone stays dropped: its collection then fails to
            // list, as a SQLite view left pointing at a missing column does.
            let recreated = conn
                .savepoint(|c| c.execute_batch(&format!("CREATE VIEW {} AS {sql}", d.quote(name))));
            if let Err(e) = recreated {
                tracing::warn!(view = %name, error = %e, "a view no longer matches the table it reads");
            }
        }
        return create_indexes(conn, new, &new.indexes);
    }
    if old.name != new.name {
        conn.execute_batch(&format!(
            "ALTER TABLE {} RENAME TO {}",
            d.quote(&old.name),
            d.quote(&new.name)
        ))?;
    }
    if old.indexes != new.indexes || old.name != new.name {
        drop_indexes(conn, &old.indexes)?;
        create_indexes(conn, new, &new.indexes)?;
    }
    Ok(())
}

/// Drops the table (or view) of a collection.
pub fn drop(conn: &Conn<'_>, c: &Collection) -> Result<()> {
    let d = conn.dialect();
    let what = if c.is_view() { "VIEW" } else { "TABLE" };
    conn.execute_batch(&format!("DROP {what} IF EXISTS {}", d.quote(&c.name)))?;
    Ok(())
}
