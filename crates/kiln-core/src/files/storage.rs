//! Where blobs go: local disk under the data dir, or S3 per the settings.

/// The storage for S3 settings, or local disk under `<data dir>/storage`.
pub(crate) fn build_storage(
    data_dir: &std::path::Path,
    s3: &crate::settings::model::S3,
) -> Result<kiln_files::Storage, kiln_files::StorageError> {
    if s3.enabled {
        kiln_files::Storage::s3(kiln_files::S3Config {
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
            endpoint: s3.endpoint.clone(),
            access_key: s3.access_key.clone(),
            secret: s3.secret.clone(),
            force_path_style: s3.force_path_style,
        })
    } else {
        Ok(kiln_files::Storage::local(data_dir.join("storage")))
    }
}
