//! Automigrate (PocketBase's, on with `--automigrate`): every collection created, changed or
//! deleted through the API writes the migration file that makes the same change, noted as
//! applied, so that the schema lives in the app's repository and the next deploy applies it.

use std::path::PathBuf;

use kiln_core::schema::collection::Collection;
use kiln_core::App;
use serde_json::Value;

use super::templates;

/// Where the files go.
pub struct Automigrate {
    dir: PathBuf,
}

impl Automigrate {
    pub fn new(dir: PathBuf) -> Automigrate {
        Automigrate { dir }
    }

    /// Writes the file for a change of a collection from `old` to `new` (`None`: it did not
    /// exist before, or no longer does) and notes it applied. A change that changes nothing
    /// writes nothing.
    pub async fn changed(
        &self,
        app: &App,
        old: Option<&Collection>,
        new: Option<&Collection>,
    ) -> Result<(), String> {
        let (old_json, new_json) = (old.map(export), new.map(export));
        let Some(body) = templates::diff(new_json.as_ref(), old_json.as_ref()) else {
            return Ok(());
        };
        let action = match (old, new) {
            (_, None) => format!("deleted_{}", file_name(old.map(|c| c.name.as_str()))),
            (None, _) => format!("created_{}", file_name(new.map(|c| c.name.as_str()))),
            _ => format!("updated_{}", file_name(old.map(|c| c.name.as_str()))),
        };
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let name = format!("{secs}_{action}.js");
        let path = self.dir.join(&name);
        let file = name.clone();
        app.db()
            .write(move |conn| kiln_core::migrations::record(conn, &file))
            .await
            .map_err(|e| e.to_string())?;
        std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&path, body))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// A collection as its migration shows it: as the API shows it to a superuser (no secrets: a
/// migration's collection gets its own).
pub fn export(c: &Collection) -> Value {
    c.to_json(false)
}

/// PocketBase's normalizeCollectionName: a name ending in "test" gets a `_` (no `_test.js`).
fn file_name(name: Option<&str>) -> String {
    let name = name.unwrap_or_default();
    match name.to_ascii_lowercase().ends_with("test") {
        true => format!("{name}_"),
        false => name.to_owned(),
    }
}
