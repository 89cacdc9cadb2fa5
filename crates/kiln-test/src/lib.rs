//! What the tests of Kiln's crates share: an [`App`] without sockets on a throwaway SQLite
//! data dir or PostgreSQL schema ([`TestCore`], [`test_config`]), the requesters rules are
//! checked for ([`TestCore::superuser`], [`TestCore::guest`], [`TestCore::as_user`]), and the
//! blog scenario ([`blog`]): a schema and records whose rules cover the shapes apps use most.
//!
//! `KILN_TEST_DATABASE_URL=postgres://…` runs every test on a fresh schema of that database
//! (scripts/test sets it for its PostgreSQL pass); without it, on SQLite.

pub mod blog;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_core::records::model::Record;
use kiln_core::records::ListParams;
use kiln_core::schema::Collection;
use kiln_core::{App, AppConfig, CoreError, RequestInfo};

/// The app configuration of a test: SQLite in `dir`, or — when `KILN_TEST_DATABASE_URL` is
/// set — a fresh schema of that PostgreSQL database (returned, to be dropped after the test).
pub fn test_config(dir: &std::path::Path) -> (AppConfig, Option<String>) {
    let mut cfg = AppConfig::new(dir);
    let Some(url) = std::env::var("KILN_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return (cfg, None);
    };
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!("kiln_test_{}_{n}_{nanos}", std::process::id());
    cfg.postgres = Some(kiln_core::PgOptions {
        schema: Some(schema.clone()),
        max_connections: 4,
        ..kiln_core::PgOptions::new(url)
    });
    (cfg, Some(schema))
}

/// Drops a test's PostgreSQL schema (nothing on SQLite) and closes the app.
pub fn close(app: &App, pg_schema: Option<&str>) {
    if let Some(schema) = pg_schema {
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
        let _ = app.db().write_blocking(move |c| c.execute_batch(&sql));
    }
    app.close();
}

/// An app of its own for one test, removed with it.
pub struct TestCore {
    pub app: App,
    superuser: Arc<Record>,
    pg_schema: Option<String>,
    _dir: tempfile::TempDir,
}

impl Drop for TestCore {
    fn drop(&mut self) {
        close(&self.app, self.pg_schema.as_deref());
    }
}

impl TestCore {
    /// A fresh app with its system collections and one superuser.
    pub async fn open() -> TestCore {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cfg, pg_schema) = test_config(dir.path());
        let app = App::open(&cfg).expect("open app");
        let superuser = app
            .superuser_save("root@example.com", "1234567890", true, true)
            .await
            .expect("create superuser");
        TestCore {
            app,
            superuser: Arc::new(superuser),
            pg_schema,
            _dir: dir,
        }
    }

    /// "sqlite" or "postgres".
    pub fn engine(&self) -> &'static str {
        match self.app.dialect() {
            kiln_db::Dialect::Sqlite => "sqlite",
            kiln_db::Dialect::Postgres => "postgres",
        }
    }

    /// A superuser's request.
    pub fn superuser(&self) -> RequestInfo {
        RequestInfo {
            auth: Some(self.superuser.clone()),
            ..RequestInfo::default()
        }
    }

    /// A request without auth.
    pub fn guest(&self) -> RequestInfo {
        RequestInfo::default()
    }

    /// A request authenticated as `record`.
    pub fn as_user(&self, record: &Record) -> RequestInfo {
        RequestInfo {
            auth: Some(Arc::new(record.clone())),
            ..RequestInfo::default()
        }
    }

    /// Creates a collection from its JSON definition (as `POST /api/collections` takes it).
    pub async fn collection(&self, def: Value) -> Arc<Collection> {
        self.app
            .create_collection(&def)
            .await
            .unwrap_or_else(|e| panic!("create collection {def}: {e:?}"))
    }

    /// The collection named `name`.
    pub fn get(&self, name: &str) -> Arc<Collection> {
        self.app.collection(name).expect("collection")
    }

    /// Creates a record as a superuser.
    pub async fn create(&self, collection: &str, body: Value) -> Record {
        self.create_as(collection, &self.superuser(), body)
            .await
            .unwrap_or_else(|e| panic!("create in {collection}: {e:?}"))
    }

    /// Creates a record as `req`'s requester.
    pub async fn create_as(
        &self,
        collection: &str,
        req: &RequestInfo,
        body: Value,
    ) -> Result<Record, CoreError> {
        let c = self.get(collection);
        self.app.create_record(&c, req, object(body)).await
    }

    /// Updates a record as `req`'s requester.
    pub async fn update_as(
        &self,
        collection: &str,
        id: &str,
        req: &RequestInfo,
        body: Value,
    ) -> Result<Record, CoreError> {
        let c = self.get(collection);
        self.app.update_record(&c, id, req, object(body)).await
    }

    /// Deletes a record as `req`'s requester.
    pub async fn delete_as(
        &self,
        collection: &str,
        id: &str,
        req: &RequestInfo,
    ) -> Result<(), CoreError> {
        let c = self.get(collection);
        self.app.delete_record(&c, id, req).await
    }

    /// The `field` values of the records `req` lists with `filter`, in `sort` order.
    pub fn list(
        &self,
        collection: &str,
        req: &RequestInfo,
        filter: &str,
        sort: &str,
        field: &str,
    ) -> Result<Vec<String>, CoreError> {
        let c = self.get(collection);
        let params = ListParams {
            page: 1,
            per_page: 500,
            sort: sort.into(),
            filter: filter.into(),
            skip_total: false,
        };
        let page = self.app.list_records(&c, req, &params)?;
        Ok(page
            .items
            .iter()
            .map(|r| r.get_str(field).to_owned())
            .collect())
    }
}

/// The object of a JSON value (a test's body).
pub fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("a body must be an object: {other}"),
    }
}
