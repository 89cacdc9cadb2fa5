//! PocketBase's JavaScript migrations (`pb_migrations/*.js`, each `migrate(up, down)`): applied
//! in name order, each inside one transaction with its row in `_migrations`, so that a file
//! applies whole or not at all and an app moved from PocketBase does not apply its files again.
//! `kiln migrate up|down|create|collections|history-sync` and automigrate build on this.

mod auto;
pub mod templates;

pub use auto::{export, Automigrate};

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kiln_core::{App, CoreError};

use crate::pool::Pool;
use crate::{HooksError, Limits, State};

/// How long one migration may run (data backfills take their time).
const MIGRATION_TIMEOUT: Duration = Duration::from_secs(3600);

/// Why migrating stopped.
#[derive(Debug)]
pub enum MigrateError {
    /// The files did not load (a syntax error names the file and line).
    Load(HooksError),
    /// `file` failed; nothing of it was applied.
    Failed { file: String, error: Box<CoreError> },
    /// The history could not be read or written.
    History(CoreError),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::Load(HooksError::Load { file, message }) => {
                write!(f, "pb_migrations/{file}: {message}")
            }
            MigrateError::Load(e) => write!(f, "{e}"),
            MigrateError::Failed { file, error } => {
                let message = match &**error {
                    CoreError::Hook { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                write!(f, "failed to apply migration {file}: {message}")
            }
            MigrateError::History(e) => write!(f, "the migrations history: {e}"),
        }
    }
}

impl std::error::Error for MigrateError {}

/// The migrations of a folder, loaded into a runtime of their own.
pub struct Migrations {
    app: App,
    files: Vec<String>,
    pool: Pool,
}

impl Migrations {
    /// Loads the `*.js` files of `dir` (none if it does not exist) for `app`. Called on the
    /// server's async runtime.
    pub fn load(dir: &Path, app: App) -> Result<Migrations, MigrateError> {
        let scripts = crate::runtime::read_dir(dir, ".js").map_err(MigrateError::Load)?;
        let files = scripts.iter().map(|s| s.name.clone()).collect();
        // PocketBase gives migrations its hooks folder too: here the default one, beside them
        let hooks_dir = dir.parent().unwrap_or(Path::new(".")).join("pb_hooks");
        let state = Arc::new(State {
            hooks_dir: std::path::absolute(&hooks_dir).unwrap_or(hooks_dir),
            ..State::default()
        });
        *state.app.write().unwrap_or_else(|p| p.into_inner()) = Some(app.clone());
        *state.handle.write().unwrap_or_else(|p| p.into_inner()) =
            tokio::runtime::Handle::try_current().ok();
        let limits = Limits {
            call_timeout: MIGRATION_TIMEOUT,
            load_timeout: Limits::default().load_timeout,
            memory_bytes: 512 << 20,
        };
        // checked here once, so that a broken file is reported before anything runs
        crate::runtime::Loaded::new(&scripts, limits, &state).map_err(MigrateError::Load)?;
        let pool = Pool::start(scripts, 1, limits, state).map_err(MigrateError::Load)?;
        Ok(Migrations { app, files, pool })
    }

    /// The files, in the order they apply.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Applies every file not applied yet, in order; the files applied.
    pub async fn up(&self) -> Result<Vec<String>, MigrateError> {
        let applied: HashSet<String> = self
            .app
            .applied_migrations()
            .await
            .map_err(MigrateError::History)?
            .into_iter()
            .collect();
        let mut done = Vec::new();
        for file in self.files.iter().filter(|f| !applied.contains(*f)) {
            self.run(file, "up").await?;
            done.push(file.clone());
        }
        Ok(done)
    }

    /// Reverts the last `n` applied files that are in the folder, the last first; the files
    /// reverted.
    pub async fn down(&self, n: usize) -> Result<Vec<String>, MigrateError> {
        let applied = self
            .app
            .applied_migrations()
            .await
            .map_err(MigrateError::History)?;
        let mut done = Vec::new();
        for file in applied.iter().filter(|f| self.files.contains(f)).take(n) {
            self.run(file, "down").await?;
            done.push(file.clone());
        }
        Ok(done)
    }

    /// Runs `file`'s `up` or `down` in one transaction with its history row.
    async fn run(&self, file: &str, direction: &'static str) -> Result<(), MigrateError> {
        let name = file.to_owned();
        let out = self
            .pool
            .run(move |rt| {
                rt.run(|ctx, w| {
                    let app = w.app()?;
                    w.outermost(ctx, move |link| async move {
                        app.db()
                            .write(move |conn| {
                                let arg =
                                    serde_json::json!({ "file": name, "direction": direction });
                                link.call(conn, "migrationRun", arg.to_string())?;
                                match direction {
                                    "up" => kiln_core::migrations::record(conn, &name),
                                    _ => kiln_core::migrations::forget(conn, &name),
                                }
                            })
                            .await
                    })
                })
            })
            .await
            .map_err(CoreError::Internal)
            .and_then(|r| r);
        out.map_err(|error| MigrateError::Failed {
            file: file.to_owned(),
            error: Box::new(error),
        })
    }

    /// Forgets the applied files that are no longer in the folder (PocketBase's
    /// `history-sync`); the files forgotten.
    pub async fn history_sync(&self) -> Result<Vec<String>, MigrateError> {
        let applied = self
            .app
            .applied_migrations()
            .await
            .map_err(MigrateError::History)?;
        let gone: Vec<String> = applied
            .into_iter()
            .filter(|f| !self.files.contains(f))
            .collect();
        let forget = gone.clone();
        self.app
            .db()
            .write(move |conn| {
                forget
                    .iter()
                    .try_for_each(|f| kiln_core::migrations::forget(conn, f))
            })
            .await
            .map_err(MigrateError::History)?;
        Ok(gone)
    }
}
