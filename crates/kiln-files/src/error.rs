//! The one error type of this crate.

use std::fmt;

/// Why a storage operation failed.
///
/// Each variant is a distinct situation that a caller may want to answer differently (for
/// example 404 for [`StorageError::NotFound`], 416 for [`StorageError::InvalidRange`], 400 for
/// [`StorageError::InvalidKey`], 500 for the rest). Messages may name paths, hosts or server
/// messages: log them, do not send them to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The object does not exist (local: no such file; S3: 404 / `NoSuchKey`).
    NotFound,
    /// The key (or prefix) was refused before touching the store; the text says which rule it
    /// broke (`"absolute path"`, `"'..' segment"`, …).
    InvalidKey(&'static str),
    /// The requested byte range starts at or past the end of the object, or ends before it
    /// starts. `size` is the object's total size (for `Content-Range: bytes */size`).
    InvalidRange {
        /// Total size of the object in bytes.
        size: u64,
    },
    /// A file is larger than the store accepts (S3: 5 TiB, or more than 10,000 parts).
    TooLarge {
        /// Size of the file in bytes.
        size: u64,
        /// The largest accepted size in bytes.
        max: u64,
    },
    /// A local file system operation failed (the text names the operation and the OS error),
    /// or a response body could not be read.
    Io(String),
    /// An S3 request could not be completed: connection refused, TLS failure, timeout, a
    /// connection closed in the middle of a body.
    Network(String),
    /// The S3 server answered with an error: the HTTP status and the `<Code>` and `<Message>`
    /// of its XML error document (empty when it sent none, as for `HEAD`).
    S3 {
        /// HTTP status code of the response.
        status: u16,
        /// S3 error code such as `AccessDenied`, `NoSuchBucket`, `SignatureDoesNotMatch`.
        code: String,
        /// Human-readable message from the server.
        message: String,
    },
    /// The storage configuration is unusable (bad endpoint URL, empty bucket or region, …).
    Config(String),
    /// [`crate::Storage::check`] wrote a test object but read back something else.
    CheckFailed(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::NotFound => f.write_str("object not found"),
            StorageError::InvalidKey(why) => write!(f, "invalid storage key: {why}"),
            StorageError::InvalidRange { size } => {
                write!(f, "range not satisfiable (object size {size})")
            }
            StorageError::TooLarge { size, max } => {
                write!(f, "file too large: {size} bytes (at most {max})")
            }
            StorageError::Io(msg) => write!(f, "storage i/o error: {msg}"),
            StorageError::Network(msg) => write!(f, "S3 request failed: {msg}"),
            StorageError::S3 {
                status,
                code,
                message,
            } => {
                write!(f, "S3 error (HTTP {status})")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            StorageError::Config(msg) => write!(f, "invalid storage configuration: {msg}"),
            StorageError::CheckFailed(msg) => write!(f, "storage check failed: {msg}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// `Io` with the operation and path named: `"create /x/y: Permission denied (os error 13)"`.
pub(crate) fn io(op: &str, path: &std::path::Path, e: &std::io::Error) -> StorageError {
    StorageError::Io(format!("{op} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_precise() {
        assert_eq!(StorageError::NotFound.to_string(), "object not found");
        assert_eq!(
            StorageError::InvalidKey("'..' segment").to_string(),
            "invalid storage key: '..' segment"
        );
        assert_eq!(
            StorageError::InvalidRange { size: 10 }.to_string(),
            "range not satisfiable (object size 10)"
        );
        assert_eq!(
            StorageError::S3 {
                status: 403,
                code: "AccessDenied".into(),
                message: "no".into()
            }
            .to_string(),
            "S3 error (HTTP 403) AccessDenied: no"
        );
        assert_eq!(
            StorageError::S3 {
                status: 403,
                code: String::new(),
                message: String::new()
            }
            .to_string(),
            "S3 error (HTTP 403)"
        );
        assert_eq!(
            StorageError::TooLarge { size: 7, max: 5 }.to_string(),
            "file too large: 7 bytes (at most 5)"
        );
    }
}
