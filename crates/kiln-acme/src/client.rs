//! The ACME client's HTTP transport: reqwest with rustls (already in Kiln's tree), trusting the
//! usual roots and the configured private ones, instead of instant-acme's own hyper stack.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

use crate::Error;

/// How long one request to the CA may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// reqwest behind instant-acme's [`HttpClient`].
pub(crate) struct Http(reqwest::Client);

impl Http {
    /// A client trusting the built-in roots and those of `ca_roots` (PEM).
    pub(crate) fn new(ca_roots: Option<&[u8]>) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_roots {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::Config(format!("the ACME CA roots: {e}")))?;
            if roots.is_empty() {
                return Err(Error::Config(
                    "the ACME CA roots file holds no certificate".into(),
                ));
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        builder
            .build()
            .map(Self)
            .map_err(|e| Error::Config(format!("the HTTP client: {e}")))
    }
}

impl HttpClient for Http {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let client = self.0.clone();
        Box::pin(async move {
            let other = |e: Box<dyn std::error::Error + Send + Sync>| instant_acme::Error::Other(e);
            let (parts, body) = req.into_parts();
            let body = match body.collect().await {
                Ok(b) => b.to_bytes(),
                Err(never) => match never {},
            };
            let rsp = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| other(Box::new(e)))?;
            Ok(BytesResponse::from(http::Response::<reqwest::Body>::from(
                rsp,
            )))
        })
    }
}
