//! Object key rules, the same for every backend.
//!
//! A key is a relative, `/`-separated path such as `pbc_123/abc123def456ghi/photo_k2j3h4g5f6.png`.
//! The rules make a key mean the same object on local disk and in S3, and make path traversal on
//! local disk impossible: no absolute path, no `.` / `..` / empty segment, no backslash, no control
//! character (NUL included), at most 1024 bytes (S3's own limit).

use crate::StorageError;

/// Longest accepted key, in bytes (S3's limit).
pub const MAX_KEY_LEN: usize = 1024;

/// Checks that `key` names one object; see the module rules. Every [`crate::Storage`] method
/// calls it, so callers need it only to reject a key early.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    check_common(key)?;
    for segment in key.split('/') {
        check_segment(segment)?;
    }
    Ok(())
}

/// Checks a prefix for [`crate::Storage::delete_prefix`]: the key rules, except that it may end
/// with `/` (a "folder"). An empty prefix is refused: it would mean the whole store.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), StorageError> {
    check_common(prefix)?;
    let body = prefix.strip_suffix('/').unwrap_or(prefix);
    if body.is_empty() {
        return Err(StorageError::InvalidKey("empty segment"));
    }
    for segment in body.split('/') {
        check_segment(segment)?;
    }
    Ok(())
}

fn check_common(key: &str) -> Result<(), StorageError> {
    if key.is_empty() {
        return Err(StorageError::InvalidKey("empty key"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(StorageError::InvalidKey("longer than 1024 bytes"));
    }
    if key.starts_with('/') {
        return Err(StorageError::InvalidKey("absolute path"));
    }
    if key.contains('\\') {
        return Err(StorageError::InvalidKey("backslash"));
    }
    if key.contains('\0') {
        return Err(StorageError::InvalidKey("NUL byte"));
    }
    if key.chars().any(char::is_control) {
        return Err(StorageError::InvalidKey("control character"));
    }
    Ok(())
}

fn check_segment(segment: &str) -> Result<(), StorageError> {
    match segment {
        "" => Err(StorageError::InvalidKey("empty segment")),
        "." => Err(StorageError::InvalidKey("'.' segment")),
        ".." => Err(StorageError::InvalidKey("'..' segment")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_pocketbase_keys() {
        for key in [
            "pbc_123/abc123def456ghi/photo_k2j3h4g5f6.png",
            "pbc_123/abc123def456ghi/thumbs_photo_k2j3h4g5f6.png/100x100_photo_k2j3h4g5f6.png",
            "a",
            ".hidden",
            "..dots..",
            "a/...",
            "ünïcödé/spaces and+plus$&=;@,(1).txt",
        ] {
            assert_eq!(validate_key(key), Ok(()), "{key}");
        }
        assert_eq!(validate_key(&"a".repeat(1024)), Ok(()));
    }

    #[test]
    fn refuses_traversal_and_oddities() {
        let cases = [
            ("", "empty key"),
            ("/etc/passwd", "absolute path"),
            ("../secret", "'..' segment"),
            ("a/../../b", "'..' segment"),
            ("a/..", "'..' segment"),
            ("..", "'..' segment"),
            ("a/./b", "'.' segment"),
            (".", "'.' segment"),
            ("a//b", "empty segment"),
            ("a/", "empty segment"),
            ("a\\..\\b", "backslash"),
            ("..\\windows", "backslash"),
            ("a\0b", "NUL byte"),
            ("a\nb", "control character"),
            ("a\u{7f}", "control character"),
        ];
        for (key, why) in cases {
            assert_eq!(
                validate_key(key),
                Err(StorageError::InvalidKey(why)),
                "{key:?}"
            );
        }
        assert_eq!(
            validate_key(&"a".repeat(1025)),
            Err(StorageError::InvalidKey("longer than 1024 bytes"))
        );
    }

    #[test]
    fn prefixes_may_end_with_a_slash() {
        assert_eq!(validate_prefix("pbc_1/rec/"), Ok(()));
        assert_eq!(validate_prefix("pbc_1/rec"), Ok(()));
        assert_eq!(validate_prefix("pbc_1/rec/photo_"), Ok(()));
        assert!(validate_prefix("").is_err());
        assert!(validate_prefix("/").is_err());
        assert!(validate_prefix("a//").is_err());
        assert!(validate_prefix("../").is_err());
        assert!(validate_prefix("a/../").is_err());
        assert!(validate_prefix("/a/").is_err());
    }
}
