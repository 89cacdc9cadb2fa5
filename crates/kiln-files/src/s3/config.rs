//! The configuration types of the S3 store.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use super::limits::{MAX_SINGLE_PUT, MIB};

/// Where and how to reach a bucket (PocketBase's S3 settings).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Region used in the signature scope (`us-east-1`, `auto` for R2, …). Required.
    pub region: String,
    /// Base URL of the S3 API, such as `https://s3.us-east-1.amazonaws.com` or
    /// `http://127.0.0.1:9000`. Without a scheme, `https://` is assumed. A path is kept as a
    /// prefix of every request path.
    pub endpoint: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key. Never printed by `Debug`.
    pub secret: String,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-host style
    /// (`bucket.endpoint-host/key`). MinIO and most self-hosted servers need `true`.
    pub force_path_style: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("secret", &"<redacted>")
            .field("force_path_style", &self.force_path_style)
            .finish()
    }
}

/// Knobs of the S3 client; [`S3Tuning::default`] suits production.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Tuning {
    /// Keys asked per ListObjectsV2 page (`max-keys`), 1..=1000. Default 1000.
    pub list_page_size: u32,
    /// Files larger than this are uploaded with a multipart upload. At most 5 GiB (S3's
    /// single-PUT limit), which is the default.
    pub multipart_threshold: u64,
    /// Part size of multipart uploads, at least 5 MiB (raised as needed to stay within 10,000
    /// parts). Default 64 MiB.
    pub part_size: u64,
    /// Idle timeout: for connecting, for an upload that stops moving, for waiting for a
    /// response after the request was sent, and between two chunks of a download. There is
    /// no total timeout. Default 30 s.
    pub idle_timeout: Duration,
    /// Fixed addresses for host names, bypassing DNS (like `curl --resolve`); for example a
    /// virtual-host bucket name on a server reached through a private address.
    pub resolve: Vec<(String, SocketAddr)>,
    /// How often a request that failed transiently (connection refused or reset, 429, 500,
    /// 502, 503, 504) is sent again, after `retry_delay`, then 4× it, and so on. Default 2.
    pub retries: u32,
    /// The first wait before a retry. Default 200 ms.
    pub retry_delay: Duration,
}

impl Default for S3Tuning {
    fn default() -> S3Tuning {
        S3Tuning {
            list_page_size: 1000,
            multipart_threshold: MAX_SINGLE_PUT,
            part_size: 64 * MIB,
            idle_timeout: Duration::from_secs(30),
            resolve: Vec::new(),
            retries: 2,
            retry_delay: Duration::from_millis(200),
        }
    }
}
