//! Multipart uploads, for files above [`super::S3Tuning::multipart_threshold`].

use std::path::Path;

use bytes::Bytes;
use reqwest::header::ETAG;
use reqwest::Method;

use super::limits::{MAX_PARTS, MAX_SINGLE_PUT};
use super::response::{expect_ok, header, s3_error_from_xml};
use super::sigv4::{sha256_hex, EMPTY_SHA256, UNSIGNED_PAYLOAD};
use super::{content_type_or_default, xml, Payload, S3Store};
use crate::StorageError;

impl S3Store {
    pub(super) async fn put_multipart(
        &self,
        key: &str,
        src: &Path,
        len: u64,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let part_size = self.tuning.part_size.max(len.div_ceil(MAX_PARTS));
        if part_size > MAX_SINGLE_PUT {
            return Err(StorageError::TooLarge {
                size: len,
                max: MAX_SINGLE_PUT * MAX_PARTS,
            });
        }
        let response = self
            .send(
                Method::POST,
                Some(key),
                &[("uploads", "")],
                &[("content-type", content_type_or_default(content_type))],
                EMPTY_SHA256,
                Payload::Bytes(Bytes::new()),
            )
            .await?;
        let text = expect_ok(response).await?;
        let upload_id = xml::text(&text, "UploadId")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| StorageError::S3 {
                status: 200,
                code: "InvalidResponse".into(),
                message: "CreateMultipartUpload answered without an UploadId".into(),
            })?;
        let result = self
            .upload_parts(key, src, len, part_size, &upload_id)
            .await;
        let result = match result {
            Ok(etags) => self.complete_multipart(key, &upload_id, &etags).await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            // Best effort: an abandoned upload keeps its parts (and costs) until aborted.
            let _ = self
                .send(
                    Method::DELETE,
                    Some(key),
                    &[("uploadId", &upload_id)],
                    &[],
                    EMPTY_SHA256,
                    Payload::Empty,
                )
                .await;
        }
        result
    }

    async fn upload_parts(
        &self,
        key: &str,
        src: &Path,
        len: u64,
        part_size: u64,
        upload_id: &str,
    ) -> Result<Vec<String>, StorageError> {
        let mut etags = Vec::new();
        let mut offset = 0;
        let mut number = 1u32;
        while offset < len {
            let part_len = part_size.min(len - offset);
            let number_text = number.to_string();
            let response = self
                .send(
                    Method::PUT,
                    Some(key),
                    &[("partNumber", &number_text), ("uploadId", upload_id)],
                    &[],
                    UNSIGNED_PAYLOAD,
                    Payload::File {
                        path: src,
                        offset,
                        len: part_len,
                    },
                )
                .await?;
            let etag = header(response.headers(), &ETAG);
            expect_ok(response).await?;
            if etag.is_empty() {
                return Err(StorageError::S3 {
                    status: 200,
                    code: "InvalidResponse".into(),
                    message: format!("UploadPart {number} answered without an ETag"),
                });
            }
            etags.push(etag);
            offset += part_len;
            number += 1;
        }
        Ok(etags)
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), StorageError> {
        let mut doc = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for (i, etag) in etags.iter().enumerate() {
            doc.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
                i + 1,
                xml::escape(etag)
            ));
        }
        doc.push_str("</CompleteMultipartUpload>");
        let hash = sha256_hex(doc.as_bytes());
        let response = self
            .send(
                Method::POST,
                Some(key),
                &[("uploadId", upload_id)],
                &[("content-type", "application/xml".to_owned())],
                &hash,
                Payload::Bytes(doc.into()),
            )
            .await?;
        // CompleteMultipartUpload may answer 200 and still fail, with an <Error> document.
        let text = expect_ok(response).await?;
        if let Some(block) = xml::blocks(&text, "Error").first() {
            return Err(s3_error_from_xml(200, block));
        }
        Ok(())
    }
}
