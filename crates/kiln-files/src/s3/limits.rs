//! S3's limits, and how much of an answer this crate reads.

pub(crate) const MIB: u64 = 1024 * 1024;
pub(crate) const GIB: u64 = 1024 * MIB;
/// S3's largest single PUT.
pub(crate) const MAX_SINGLE_PUT: u64 = 5 * GIB;
/// S3's smallest part (all but the last).
pub(crate) const MIN_PART: u64 = 5 * MIB;
/// S3's largest object.
pub(crate) const MAX_OBJECT: u64 = 5 * 1024 * GIB;
/// S3's most parts in one upload.
pub(crate) const MAX_PARTS: u64 = 10_000;
/// S3's most keys in one DeleteObjects request.
pub(crate) const DELETE_BATCH: usize = 1000;
/// Error and XML documents are read up to this size.
pub(crate) const MAX_XML: usize = 16 * 1024 * 1024;
