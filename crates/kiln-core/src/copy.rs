//! Copying an app's data into another database (SQLite data dir → PostgreSQL), then verifying
//! the copy record by record.

use std::sync::Arc;

use kiln_db::{Conn, Dialect, Value as DbValue};
use serde_json::Value;

use crate::app::App;
use crate::error::{CoreError, Result};
use crate::records::model::column_to_json;
use crate::schema::collection::Collection;
use crate::schema::{ddl, system, Schema};

/// Rows read from the source per query.
const BATCH: i64 = 500;

/// What was copied.
#[derive(Debug, Default)]
pub struct CopyReport {
    /// (collection name, records) in copy order; views have none of their own.
    pub collections: Vec<(String, usize)>,
}

impl CopyReport {
    pub fn records(&self) -> usize {
        self.collections.iter().map(|(_, n)| n).sum()
    }
}

impl App {
    /// Copies every collection definition, record and the settings of `self` into `target`,
    /// replacing the target's own (it must hold no records besides its initial ones), in one
    /// transaction; then reads both back and compares every record. Uploaded files are not
    /// copied: they stay in the storage the settings name (local `storage/` or S3).
    pub fn copy_into(&self, target: &App) -> Result<CopyReport> {
        let existing = target.schema();
        for c in existing.all().iter().filter(|c| !c.is_view()) {
            if c.name != system::SUPERUSERS && target.count_records(c)? > 0 {
                return Err(CoreError::Copy(format!(
                    "the target database is not empty: collection {} has records",
                    c.name
                )));
            }
        }
        let source_schema = self.schema();
        // tables first, then views (which read them), each in the source's order
        let order: Vec<Arc<Collection>> = source_schema
            .all()
            .iter()
            .filter(|c| !c.is_view())
            .chain(source_schema.all().iter().filter(|c| c.is_view()))
            .cloned()
            .collect();
        let settings = self.settings();
        let source = self.clone();
        // The copy keeps the settings sealed when the target seals them.
        let key = target.inner().settings_key.clone();
        let (report, schema) =
            target
                .db()
                .write_blocking(move |conn| -> Result<(CopyReport, Schema)> {
                    for c in existing.all().iter().rev() {
                        ddl::drop(conn, c)?;
                        system::remove(conn, &c.id)?;
                    }
                    let mut report = CopyReport::default();
                    for c in &order {
                        ddl::create(conn, c)?;
                        system::save(conn, c)?;
                        let n = if c.is_view() {
                            0
                        } else {
                            copy_rows(&source, c, conn)?
                        };
                        report.collections.push((c.name.clone(), n));
                    }
                    crate::settings::store::save(conn, &settings, key.as_deref())?;
                    Ok((
                        report,
                        Schema::new(order.iter().map(|c| (**c).clone()).collect()),
                    ))
                })?;
        target.set_schema(schema);
        target.apply_settings(Arc::new((*self.settings()).clone()));
        target.announce_schema_change();
        target.announce_settings_change();
        self.verify_copy(target)?;
        Ok(report)
    }

    /// Compares every record of every table collection of `self` with `target`'s.
    fn verify_copy(&self, target: &App) -> Result<()> {
        for c in self.schema().all().iter().filter(|c| !c.is_view()) {
            let mut after = String::new();
            loop {
                let mine = self.db().read(|conn| read_batch(conn, c, &after))?;
                let theirs = target.db().read(|conn| read_batch(conn, c, &after))?;
                let mismatch = mine.iter().zip(&theirs).find(|(a, b)| a != b);
                if mine.len() != theirs.len() || mismatch.is_some() {
                    let id = mismatch.map(|(a, _)| a[0].to_string()).unwrap_or_default();
                    return Err(CoreError::Copy(format!(
                        "verification failed: collection {} differs {id}",
                        c.name
                    )));
                }
                match mine.last() {
                    Some(last) if mine.len() as i64 == BATCH => {
                        after = last[0].as_str().unwrap_or_default().to_owned()
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }
}

/// Up to [`BATCH`] rows of `c` with ids after `after`, as the API shows their values (so that
/// 1 and 1.0, or 0 and false, read the same on both databases), in field order.
fn read_batch(conn: &Conn<'_>, c: &Collection, after: &str) -> Result<Vec<Vec<Value>>> {
    let d = conn.dialect();
    let sql = format!(
        "SELECT {} FROM {} WHERE \"id\" > ?1 ORDER BY \"id\" LIMIT {BATCH}",
        columns(d, c),
        d.quote(&c.name)
    );
    let mut rows = Vec::new();
    conn.query(&sql, &[after.into()], |r| {
        rows.push(
            c.fields
                .iter()
                .enumerate()
                .map(|(i, f)| column_to_json(f, r.get(i)))
                .collect(),
        );
        Ok(())
    })?;
    Ok(rows)
}

fn columns(d: Dialect, c: &Collection) -> String {
    c.fields
        .iter()
        .map(|f| d.quote(&f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Copies the rows of `c` from `source` into the table just created on `conn`.
fn copy_rows(source: &App, c: &Collection, conn: &Conn<'_>) -> Result<usize> {
    let d = conn.dialect();
    let placeholders: Vec<String> = (1..=c.fields.len()).map(|i| format!("?{i}")).collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        d.quote(&c.name),
        columns(d, c),
        placeholders.join(", ")
    );
    let select = format!(
        "SELECT {} FROM {} WHERE \"id\" > ?1 ORDER BY \"id\" LIMIT {BATCH}",
        columns(source.dialect(), c),
        source.dialect().quote(&c.name)
    );
    let mut after = String::new();
    let mut n = 0;
    loop {
        let rows: Vec<Vec<DbValue>> = source.db().read(|src| -> Result<_> {
            let mut rows = Vec::new();
            src.query(&select, &[after.as_str().into()], |r| {
                rows.push((0..r.len()).map(|i| r.get(i).to_owned()).collect());
                Ok(())
            })?;
            Ok(rows)
        })?;
        for row in &rows {
            conn.execute(&insert, row)?;
        }
        n += rows.len();
        match rows.last() {
            Some(last) if rows.len() as i64 == BATCH => {
                after = match &last[0] {
                    DbValue::Text(id) => id.clone(),
                    _ => break,
                }
            }
            _ => break,
        }
    }
    Ok(n)
}
