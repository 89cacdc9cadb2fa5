//! Uploads into file fields: PocketBase's `f`, `f+`, `+f`, `f-` semantics, stored names, and
//! the size and type checks.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::error::{FieldError, FieldErrors};
use crate::records::model::Record;
use crate::records::values::{list_value, split_key, to_list, Modifier};
use crate::schema::field::FieldKind;

/// PocketBase's default `maxSize` of a file field (5 MiB) when it is 0.
pub const DEFAULT_MAX_SIZE: i64 = 5 << 20;

/// An uploaded file waiting in a temporary file (removed on drop unless stored).
#[derive(Debug)]
pub struct Upload {
    /// The body key it came with (`documents`, `documents+`, `+documents`).
    pub key: String,
    /// The client's file name (only used to derive the stored name).
    pub original_name: String,
    pub path: PathBuf,
    pub size: u64,
    /// The type sniffed from the content.
    pub mime: String,
    /// The sniffed type's usual extension (with its dot), for names without one.
    pub extension: String,
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What a write does to blobs.
#[derive(Debug, Default)]
pub(crate) struct FilePlan {
    /// New blobs: (storage key, upload).
    pub store: Vec<(String, Upload)>,
    /// Stored names the write drops (their blobs and thumbnails go after commit).
    pub removed: Vec<String>,
}

/// The storage key of a record's file.
pub fn file_key(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/{name}")
}

/// The storage key prefix of a file's thumbnails.
pub fn thumbs_prefix(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/thumbs_{name}/")
}

/// PocketBase's stored file name: the original name reduced to `[a-z0-9_]` (at most 100
/// characters, padded with 10 random characters when shorter than 3), `_`, 10 random
/// characters, and the extension as given (or `default_ext`, the sniffed type's, when there is
/// none).
pub fn stored_name(original: &str, default_ext: &str) -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, e),
        _ => (base, ""),
    };
    let mut clean = String::with_capacity(stem.len());
    for ch in stem.chars() {
        let c = ch.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            clean.push(c);
        } else if !clean.ends_with('_') {
            clean.push('_');
        }
    }
    let mut clean: String = clean.trim_matches('_').chars().take(100).collect();
    if clean.len() < 3 {
        clean.push_str(&crate::ids::random_from(ALNUM, 10));
    }
    let mut ext: String = ext
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect();
    if ext.is_empty() {
        ext = default_ext.trim_start_matches('.').to_owned();
    }
    let suffix = crate::ids::random_from(ALNUM, 10);
    if ext.is_empty() {
        format!("{clean}_{suffix}")
    } else {
        format!("{clean}_{suffix}.{ext}")
    }
}

/// Applies `uploads` and the body's file names to `rec` (whose file fields already hold the
/// body's values applied to `old`): names the record did not have are dropped, uploads replace
/// (`f`), append (`f+`) or prepend (`+f`); each upload is checked against the field's size and
/// types. Returns what to store and what to remove.
pub(crate) fn apply_uploads(
    rec: &mut Record,
    old: Option<&Record>,
    body: &Map<String, Value>,
    uploads: Vec<Upload>,
    errors: &mut FieldErrors,
) -> FilePlan {
    let c = rec.collection.clone();
    let mut plan = FilePlan::default();
    let mut uploads: Vec<Option<Upload>> = uploads.into_iter().map(Some).collect();
    for (i, f) in c.fields.iter().enumerate() {
        let FieldKind::File {
            max_size,
            mime_types,
            ..
        } = &f.kind
        else {
            continue;
        };
        let old_names = old
            .and_then(|o| o.get(&f.name))
            .map(to_list)
            .unwrap_or_default();
        let known: HashSet<&str> = old_names.iter().map(String::as_str).collect();
        let mut names: Vec<String> = to_list(&rec.values[i])
            .into_iter()
            .filter(|n| known.contains(n.as_str()))
            .collect();
        let body_sets = body.contains_key(&f.name);
        let touched = body.keys().any(|k| split_key(k).0 == f.name)
            || uploads
                .iter()
                .flatten()
                .any(|u| split_key(&u.key).0 == f.name);
        if !touched {
            continue;
        }
        let mut fresh: HashSet<String> = HashSet::new();
        let mut appended = Vec::new();
        let mut prepended = Vec::new();
        let mut replaced = Vec::new();
        for slot in uploads.iter_mut() {
            let Some(u) = slot.as_ref() else { continue };
            let (name, modifier) = split_key(&u.key);
            if name != f.name {
                continue;
            }
            let u = slot.take().expect("checked above");
            let limit = if *max_size > 0 {
                *max_size
            } else {
                DEFAULT_MAX_SIZE
            };
            if u.size as i64 > limit {
                errors.entry(f.name.clone()).or_insert_with(|| {
                    FieldError::new("validation_file_size_limit", format!("Failed to upload {:?} - the maximum allowed file size is {limit} bytes.", u.original_name))
                        .with_params(json!({"file": u.original_name, "maxSize": limit}))
                });
                continue;
            }
            if !mime_types.is_empty() && !mime_types.iter().any(|m| kiln_media::mime_is(&u.mime, m))
            {
                errors.entry(f.name.clone()).or_insert_with(|| {
                    FieldError::new(
                        "validation_invalid_mime_type",
                        format!(
                            "{:?} mime type must be one of: {}.",
                            u.original_name,
                            mime_types.join(", ")
                        ),
                    )
                    .with_params(json!({"file": u.original_name, "types": mime_types.join(", ")}))
                });
                continue;
            }
            let stored = stored_name(&u.original_name, &u.extension);
            fresh.insert(stored.clone());
            plan.store.push((file_key(&c.id, rec.id(), &stored), u));
            match modifier {
                Modifier::Append => appended.push(stored),
                Modifier::Prepend => prepended.push(stored),
                _ => replaced.push(stored),
            }
        }
        if !replaced.is_empty() && !body_sets {
            // New files under the plain key replace the old ones (PocketBase 0.23+).
            names.clear();
        }
        let names: Vec<String> = prepended
            .into_iter()
            .chain(names)
            .chain(replaced)
            .chain(appended)
            .collect();
        let value = list_value(f, names);
        let kept: HashSet<String> = to_list(&value).into_iter().collect();
        plan.removed
            .extend(old_names.into_iter().filter(|n| !kept.contains(n)));
        // A single-file field keeps the last upload only: the others are not stored at all.
        plan.store.retain(|(key, _)| {
            let prefix = format!("{}/{}/", c.id, rec.id());
            match key.strip_prefix(&prefix) {
                Some(name) if fresh.contains(name) => kept.contains(name),
                _ => true,
            }
        });
        rec.values[i] = value;
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_sanitized() {
        let n = stored_name("My Photo (1).PNG", ".png");
        assert!(
            n.starts_with("my_photo_1_")
                && n.ends_with(".PNG")
                && n.len() == "my_photo_1_".len() + 10 + 4,
            "{n}"
        );
        let n = stored_name("../../etc/passwd", ".txt");
        assert!(
            n.starts_with("passwd_") && n.ends_with(".txt") && !n.contains('/'),
            "{n}"
        );
        let n = stored_name("..\\..\\evil.exe\u{0}.txt", ".txt");
        assert!(!n.contains(['\\', '/', '\0']), "{n}");
        let n = stored_name(".htaccess", "");
        assert!(n.starts_with("htaccess_") && !n.contains('.'), "{n}");
        let n = stored_name("a.txt", ".txt");
        assert!(
            n.len() == 1 + 10 + 1 + 10 + 4 && n.starts_with('a'),
            "short names are padded: {n}"
        );
        assert_eq!(stored_name("", "").len(), 21);
    }
}
