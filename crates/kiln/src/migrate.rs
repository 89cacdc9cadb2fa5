//! `kiln migrate …` (PocketBase's command of that name) and the migrations `kiln serve` applies
//! before it serves.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use kiln_core::App;
use kiln_hooks::migrate::Migrations;

use crate::fail;

#[derive(Subcommand, Debug)]
pub(crate) enum MigrateAction {
    /// Applies the migrations not applied yet, in name order.
    Up,
    /// Reverts the last N applied migrations (default 1).
    Down { n: Option<usize> },
    /// Writes a new blank migration file NAME (prefixed with the time).
    Create { name: String },
    /// Writes a migration file with a snapshot of every collection.
    Collections,
    /// Forgets applied migrations whose files are gone.
    HistorySync,
}

/// Runs `action` on `app` with the migrations of `dir`.
pub(crate) async fn run(app: &App, dir: &Path, action: MigrateAction) -> ExitCode {
    match action {
        MigrateAction::Create { name } => write_file(
            dir,
            &snake_case(&name),
            &kiln_hooks::migrate::templates::blank(),
        ),
        MigrateAction::Collections => {
            // every collection, system ones too, the oldest first (PocketBase's snapshot)
            let schema = app.schema();
            let mut all: Vec<_> = schema.all().iter().collect();
            all.sort_by(|a, b| a.created.cmp(&b.created));
            let collections: Vec<serde_json::Value> = all
                .into_iter()
                .map(|c| kiln_hooks::migrate::export(c))
                .collect();
            let body = kiln_hooks::migrate::templates::snapshot(&collections);
            write_file(dir, "collections_snapshot", &body)
        }
        MigrateAction::Up => match load(dir, app) {
            Ok(m) => match m.up().await {
                Ok(done) if done.is_empty() => {
                    println!("No new migrations to apply.");
                    ExitCode::SUCCESS
                }
                Ok(done) => {
                    done.iter().for_each(|f| println!("Applied {f}"));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            },
            Err(code) => code,
        },
        MigrateAction::Down { n } => match load(dir, app) {
            Ok(m) => match m.down(n.unwrap_or(1)).await {
                Ok(done) => {
                    done.iter().for_each(|f| println!("Reverted {f}"));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            },
            Err(code) => code,
        },
        MigrateAction::HistorySync => match load(dir, app) {
            Ok(m) => match m.history_sync().await {
                Ok(gone) => {
                    gone.iter()
                        .for_each(|f| println!("Removed {f} from the history"));
                    println!("Successfully synced migrations history.");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e.to_string()),
            },
            Err(code) => code,
        },
    }
}

/// Applies the pending migrations of `dir` before the server starts (none if it does not exist).
pub(crate) async fn apply_pending(app: &App, dir: &Path) -> Result<(), ExitCode> {
    if !dir.is_dir() {
        return Ok(());
    }
    let m = load(dir, app)?;
    match m.up().await {
        Ok(done) => {
            done.iter().for_each(|f| eprintln!("Applied migration {f}"));
            Ok(())
        }
        Err(e) => Err(fail(&e.to_string())),
    }
}

fn load(dir: &Path, app: &App) -> Result<Migrations, ExitCode> {
    Migrations::load(dir, app.clone()).map_err(|e| fail(&e.to_string()))
}

/// PocketBase's inflector.Snakecase: words (split at non-alphanumerics and at a capital after a
/// small letter or digit) lower-cased and joined by `_`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev: Option<char> = None;
    for ch in name.chars() {
        if ch.is_alphanumeric() {
            let boundary =
                ch.is_uppercase() && prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(ch);
    }
    out.trim_end_matches('_').to_owned()
}

/// Writes `{unix time}_{name}.js` into `dir`.
fn write_file(dir: &Path, name: &str, body: &str) -> ExitCode {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let path = dir.join(format!("{secs}_{name}.js"));
    let written = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, body));
    match written {
        Ok(()) => {
            println!("Successfully created file {:?}", path.display().to_string());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
    }
}
