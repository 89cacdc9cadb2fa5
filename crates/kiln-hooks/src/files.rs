//! `$filesystem`'s files (`fileFromPath`, `fileFromBytes`, `fileFromURL`) as uploads when a hook
//! saves a record with them in its file fields.

use std::time::Duration;

use serde_json::Value;

use kiln_core::files::Upload;
use kiln_core::CoreError;

use crate::worker::Worker;

/// The largest file read from a path or a URL (the field's own limit applies after).
const MAX_FILE: u64 = 32 << 20;

/// The uploads `raw` lists (`[{key, name, path | bytes | url, timeout}]`), each in a
/// temporary file until the write stores it.
pub(crate) fn uploads(w: &Worker, raw: &str) -> Result<Vec<Upload>, CoreError> {
    let list: Vec<Value> = serde_json::from_str(raw).unwrap_or_default();
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let app = w.app()?;
    let failed = |e: String| CoreError::InvalidBody(e);
    let mut out = Vec::with_capacity(list.len());
    for f in list {
        let key = f["key"].as_str().unwrap_or_default();
        let name = f["name"].as_str().unwrap_or_default();
        let bytes = if let Some(path) = f["path"].as_str() {
            let len = std::fs::metadata(path)
                .map_err(|e| failed(format!("{path}: {e}")))?
                .len();
            if len > MAX_FILE {
                return Err(failed(format!(
                    "{path}: larger than {} MiB",
                    MAX_FILE >> 20
                )));
            }
            std::fs::read(path).map_err(|e| failed(format!("{path}: {e}")))?
        } else if let Some(url) = f["url"].as_str() {
            // PocketBase's default, and never more than a call may last
            let secs = f["timeout"]
                .as_f64()
                .filter(|t| t.is_finite())
                .unwrap_or(120.0);
            let timeout = Duration::from_secs_f64(secs.clamp(0.001, 120.0));
            let allow = app.allows_private_fetch();
            w.block_on(crate::http::get_bytes(url, timeout, allow))?
                .map_err(failed)?
        } else {
            f["bytes"]
                .as_array()
                .map(|b| b.iter().map(|x| x.as_u64().unwrap_or(0) as u8).collect())
                .unwrap_or_default()
        };
        let upload = w
            .block_on(app.upload_of(key, name, &bytes))?
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        out.push(upload);
    }
    Ok(out)
}
