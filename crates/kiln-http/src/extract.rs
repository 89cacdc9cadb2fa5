//! Extractors: the request context (who is asking, for rules) and submitted bodies.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::{header, request::Parts};
use serde_json::{Map, Value};

use kiln_core::{App, RequestInfo};

use crate::error::{ApiError, MSG_GENERIC_400};

/// The request as the core sees it, plus the decoded query string.
pub struct Ctx {
    pub req: RequestInfo,
}

impl Ctx {
    /// A query parameter (last value wins).
    pub fn query(&self, key: &str) -> Option<&str> {
        self.req.query.get(key).map(String::as_str)
    }

    pub fn query_i64(&self, key: &str) -> Option<i64> {
        self.query(key).and_then(|v| v.trim().parse::<f64>().ok()).map(|f| f as i64)
    }

    pub fn query_bool(&self, key: &str) -> bool {
        matches!(self.query(key), Some("1") | Some("true") | Some("TRUE") | Some("True"))
    }
}

impl FromRequestParts<App> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let auth = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| app.auth_from_token(t));
        let query: HashMap<String, String> = match parts.uri.query() {
            Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .map_err(|_| ApiError::bad_request(MSG_GENERIC_400))?
                .into_iter()
                .collect(),
            None => HashMap::new(),
        };
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().replace('-', "_"), v.to_str().ok()?.to_owned())))
            .collect();
        Ok(Ctx {
            req: RequestInfo {
                auth,
                method: parts.method.as_str().to_owned(),
                context: "default",
                query,
                headers,
                body: Map::new(),
            },
        })
    }
}

/// A submitted body as a JSON object: from JSON, a urlencoded form, or multipart form data
/// (with PocketBase's `@jsonPayload` part; repeated keys become lists).
pub struct BodyMap(pub Map<String, Value>);

fn push(map: &mut Map<String, Value>, key: String, v: Value) {
    match map.get_mut(&key) {
        Some(Value::Array(items)) => items.push(v),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            map.insert(key, v);
        }
    }
}

impl FromRequest<App> for BodyMap {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
        let bad = || ApiError::bad_request(MSG_GENERIC_400);
        if ct.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, app).await.map_err(|_| bad())?;
            let mut map = Map::new();
            while let Some(field) = mp.next_field().await.map_err(|_| bad())? {
                let name = field.name().unwrap_or("").to_owned();
                if field.file_name().is_some() {
                    return Err(ApiError::bad_request("File uploads are not available on this server yet."));
                }
                let text = field.text().await.map_err(|_| bad())?;
                if name == "@jsonPayload" {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(Value::Object(o)) => map.extend(o),
                        _ => return Err(bad()),
                    }
                } else if !name.is_empty() {
                    push(&mut map, name, Value::String(text));
                }
            }
            return Ok(BodyMap(map));
        }
        let bytes = Bytes::from_request(req, app).await.map_err(|_| bad())?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(BodyMap(Map::new()));
        }
        if ct.starts_with("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| bad())?;
            let mut map = Map::new();
            for (k, v) in pairs {
                push(&mut map, k, Value::String(v));
            }
            return Ok(BodyMap(map));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(o)) => Ok(BodyMap(o)),
            _ => Err(bad()),
        }
    }
}

/// A submitted body as any JSON value (collection definitions).
pub struct JsonBody(pub Value);

impl FromRequest<App> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, app).await.map_err(|_| ApiError::bad_request(MSG_GENERIC_400))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Map::new())));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|_| ApiError::bad_request(crate::error::MSG_INVALID_FORMAT))
    }
}

/// Only superusers pass.
pub fn require_superuser(ctx: &Ctx) -> Result<(), ApiError> {
    match &ctx.req.auth {
        None => Err(crate::error::api(kiln_core::CoreError::AuthRequired)),
        Some(_) if ctx.req.is_superuser() => Ok(()),
        Some(_) => Err(crate::error::api(kiln_core::CoreError::NotAllowed)),
    }
}
