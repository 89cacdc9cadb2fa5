//! Extractors: the request context (who is asking, for rules) and submitted bodies.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::{header, request::Parts, StatusCode};
use serde_json::{Map, Value};

use kiln_core::{App, RequestInfo};

use crate::error::{ApiError, MSG_GENERIC_400, MSG_TOO_LARGE};

/// The request as the core sees it, plus the decoded query string.
pub struct Ctx {
    pub req: RequestInfo,
}

impl Ctx {
    /// A JSON response with the `fields` parameter applied, as PocketBase applies it to every
    /// successful JSON response.
    pub fn json(&self, value: impl serde::Serialize) -> Result<crate::json::Json<Value>, ApiError> {
        let mut v = serde_json::to_value(value)
            .map_err(|e| crate::error::api(kiln_core::CoreError::Internal(e.to_string())))?;
        if let Some(fields) = self.fields()? {
            fields.apply(&mut v);
        }
        Ok(crate::json::Json(v))
    }

    /// A query parameter (the first value of a repeated one).
    pub fn query(&self, key: &str) -> Option<&str> {
        self.req.query.get(key).map(String::as_str)
    }

    /// An integer parameter; present but not an integer is a 400.
    pub fn query_int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.query(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(MSG_GENERIC_400)),
        }
    }

    /// A boolean parameter with Go's `strconv.ParseBool` spellings; anything else is a 400.
    pub fn query_flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.query(key) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(_) => Err(ApiError::bad_request(MSG_GENERIC_400)),
        }
    }

    /// The `fields` parameter: which keys of the response to keep (`None`: all). An unknown or
    /// malformed modifier is a 400, as in PocketBase.
    pub fn fields(&self) -> Result<Option<kiln_core::records::Fields>, ApiError> {
        match self.query("fields") {
            Some(f) => kiln_core::records::Fields::try_parse(f)
                .map_err(|e| crate::error::api(kiln_core::CoreError::BadQuery(e))),
            None => Ok(None),
        }
    }

    /// The paging, sort and filter parameters of a list request.
    pub fn list_params(&self) -> Result<kiln_core::records::ListParams, ApiError> {
        Ok(kiln_core::records::ListParams {
            page: self.query_int("page")?.unwrap_or(1),
            per_page: self.query_int("perPage")?.unwrap_or(0),
            sort: self.query("sort").unwrap_or("").to_owned(),
            filter: self.query("filter").unwrap_or("").to_owned(),
            skip_total: self.query_flag("skipTotal")?,
        })
    }
}

impl FromRequestParts<App> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        // The request log layer resolved the caller already (a router without it: here).
        let crate::caller::Caller { auth, ip } =
            match parts.extensions.get::<crate::caller::Caller>() {
                Some(c) => c.clone(),
                None => {
                    let remote = parts
                        .extensions
                        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                        .map(|c| c.0.ip());
                    crate::caller::Caller::resolve(app, &app.settings(), &parts.headers, remote)
                }
            };
        // Every API handler takes a Ctx, so this is where rate limits apply: after routing (the
        // route's tags are known) and before the body is read.
        crate::ratelimit::check(app, parts, auth.as_ref(), ip)?;
        if auth
            .as_ref()
            .is_some_and(|r| r.collection.name == kiln_core::schema::system::SUPERUSERS)
            && !app.superuser_ip_allowed(ip)
        {
            return Err(crate::error::api(kiln_core::CoreError::IpNotAllowed));
        }
        let query = parse_query(parts.uri.query());
        let headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((header_key(k.as_str()), v.to_str().ok()?.to_owned())))
            .collect();
        Ok(Ctx {
            req: RequestInfo {
                ip,
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

/// A query string's parameters; the first value of a repeated one wins, as in PocketBase (Go's
/// `url.Values.Get`). Decoded as forms are (`+` is a space, `%XX` a byte, invalid UTF-8 replaced);
/// a name or value with neither is copied as it is.
pub(crate) fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let decode = |s: &str| {
        if s.bytes().any(|b| b == b'%' || b == b'+') {
            kiln_core::request::percent_decode(s, true)
        } else {
            s.to_owned()
        }
    };
    let mut map = HashMap::new();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.entry(decode(k)).or_insert_with(|| decode(v));
    }
    map
}

/// A header name as rules read it (`@request.headers.x_token`): lowercase, `-` as `_`.
pub(crate) fn header_key(name: &str) -> String {
    let mut key = name.replace('-', "_");
    key.make_ascii_lowercase();
    key
}

fn too_large_or(status: StatusCode, other: ApiError) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE)
    } else {
        other
    }
}

fn body_rejection(r: axum::extract::rejection::BytesRejection) -> ApiError {
    too_large_or(r.status(), ApiError::bad_request(MSG_GENERIC_400))
}

/// Path parameters (a `String` or a tuple of them), percent-decoded leniently: bytes that are not
/// UTF-8 become U+FFFD, so such a name simply matches nothing and the route answers its own 404.
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(axum::extract::Path(v)) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await
        {
            return Ok(PathParams(v));
        }
        // Not UTF-8 once decoded: pair the matched route's `{param}` segments with the raw, still-encoded path.
        let template = axum::extract::MatchedPath::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let mut values: Vec<Value> = template
            .as_str()
            .split('/')
            .zip(parts.uri.path().split('/'))
            .filter(|(t, _)| t.starts_with('{'))
            .map(|(_, v)| Value::String(kiln_core::request::percent_decode(v, false)))
            .collect();
        let v = if values.len() == 1 {
            values.pop().unwrap_or(Value::Null)
        } else {
            Value::Array(values)
        };
        serde_json::from_value(v)
            .map(PathParams)
            .map_err(|_| ApiError::not_found())
    }
}

/// A submitted body as a JSON object: from JSON, a urlencoded form, or multipart form data
/// (with PocketBase's `@jsonPayload` part; repeated keys become lists). File parts are read and
/// discarded: only record writes take files ([`RecordBody`]).
pub struct BodyMap(pub Map<String, Value>);

/// A record write's body: the fields, and the uploaded files streamed to temporary files.
pub struct RecordBody {
    pub body: Map<String, Value>,
    pub uploads: Vec<kiln_core::files::Upload>,
}

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

/// What a multipart body may declare beyond its limit for boundaries and part headers.
const MULTIPART_FRAMING_BYTES: usize = 1 << 20;

/// Bytes of a file part kept for type sniffing.
const SNIFF_BYTES: usize = kiln_media::READ_LIMIT;

/// Reads a request body into fields (and, when `uploads` is given, files streamed to disk).
/// `limit` caps the whole body; everything that is not a file part (held in memory) is capped at
/// [`crate::MAX_BODY_BYTES`] whatever the limit; a file larger than `file_cap` is counted but not
/// kept, so the core reports it against its field's `maxSize`.
pub(crate) async fn read_body(
    req: Request,
    app: &App,
    limit: usize,
    file_cap: u64,
    mut uploads: Option<&mut Vec<kiln_core::files::Upload>>,
) -> Result<Map<String, Value>, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bad = || ApiError::bad_request(MSG_GENERIC_400);
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE);
    // A body declared larger than the limit is refused before a byte of it is awaited. The limit
    // counts field and file contents; a multipart body adds its boundaries and part headers.
    let multipart = ct.starts_with("multipart/form-data");
    let framing = if multipart {
        MULTIPART_FRAMING_BYTES
    } else {
        0
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > (limit.saturating_add(framing)) as u64) {
        return Err(too_large());
    }
    if multipart {
        let mut mp = Multipart::from_request(req, app).await.map_err(|_| bad())?;
        let mut map = Map::new();
        let mut total = 0usize;
        let mut in_memory = 0usize;
        while let Some(mut field) = mp
            .next_field()
            .await
            .map_err(|e| too_large_or(e.status(), bad()))?
        {
            let name = field.name().unwrap_or("").to_owned();
            if let Some(file_name) = field.file_name().map(str::to_owned) {
                let Some(list) = uploads.as_deref_mut() else {
                    while let Some(chunk) = field
                        .chunk()
                        .await
                        .map_err(|e| too_large_or(e.status(), bad()))?
                    {
                        total += chunk.len();
                        if total > limit {
                            return Err(too_large());
                        }
                    }
                    continue;
                };
                let upload = stream_upload(
                    app, &mut field, name, file_name, file_cap, &mut total, limit,
                )
                .await?;
                if upload.size > 0 || !upload.original_name.is_empty() {
                    list.push(upload);
                }
                continue;
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| too_large_or(e.status(), bad()))?
            {
                total += chunk.len();
                in_memory += chunk.len();
                if total > limit || in_memory > crate::MAX_BODY_BYTES {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(bytes).map_err(|_| bad())?;
            if name == "@jsonPayload" {
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(o)) => map.extend(o),
                    _ => return Err(bad()),
                }
            } else if !name.is_empty() {
                push(&mut map, name, Value::String(text));
            }
        }
        return Ok(map);
    }
    let bytes = axum::body::to_bytes(req.into_body(), limit.min(crate::MAX_BODY_BYTES))
        .await
        .map_err(|_| too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| bad())?;
        let mut map = Map::new();
        for (k, v) in pairs {
            push(&mut map, k, Value::String(v));
        }
        return Ok(map);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad()),
    }
}

/// Streams one file part to a temporary file under `<data dir>/.tmp`, keeping its first bytes
/// for sniffing; bytes past `file_cap` are counted, not written.
async fn stream_upload(
    app: &App,
    field: &mut axum::extract::multipart::Field<'_>,
    key: String,
    original_name: String,
    file_cap: u64,
    total: &mut usize,
    limit: usize,
) -> Result<kiln_core::files::Upload, ApiError> {
    use tokio::io::AsyncWriteExt;
    let bad = || ApiError::bad_request(MSG_GENERIC_400);
    let dir = app.data_dir().join(".tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| crate::error::api(kiln_core::CoreError::Storage(e.to_string())))?;
    let path = dir.join(format!("upload_{}", kiln_core::ids::new_secret(24)));
    let mut upload = kiln_core::files::Upload {
        key,
        original_name,
        path,
        size: 0,
        mime: String::new(),
        extension: String::new(),
    };
    let mut file = tokio::fs::File::create(&upload.path)
        .await
        .map_err(|e| crate::error::api(kiln_core::CoreError::Storage(e.to_string())))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| too_large_or(e.status(), bad()))?
    {
        *total += chunk.len();
        if *total > limit {
            return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, MSG_TOO_LARGE));
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        if upload.size <= file_cap {
            file.write_all(&chunk)
                .await
                .map_err(|e| crate::error::api(kiln_core::CoreError::Storage(e.to_string())))?;
        }
        upload.size += chunk.len() as u64;
    }
    file.flush()
        .await
        .map_err(|e| crate::error::api(kiln_core::CoreError::Storage(e.to_string())))?;
    let detected = kiln_media::detect(&head);
    upload.mime = detected.mime;
    upload.extension = detected.extension.to_owned();
    Ok(upload)
}

impl FromRequest<App> for BodyMap {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        read_body(req, app, crate::MAX_BODY_BYTES, 0, None)
            .await
            .map(BodyMap)
    }
}

impl FromRequest<App> for RecordBody {
    type Rejection = ApiError;

    /// The body limit follows the collection's file fields (`maxSize` × `maxSelect` each, at
    /// least the default 32 MiB); file parts stream to disk, never to memory.
    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let collection = req
            .uri()
            .path()
            .split('/')
            .nth(3)
            .map(|c| kiln_core::request::percent_decode(c, false))
            .unwrap_or_default();
        let (limit, file_cap) = app.upload_limits(&collection);
        let mut uploads = Vec::new();
        let body = read_body(req, app, limit, file_cap, Some(&mut uploads)).await?;
        Ok(RecordBody { body, uploads })
    }
}

/// A submitted body as any JSON value (collection definitions).
pub struct JsonBody(pub Value);

impl FromRequest<App> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, app)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Map::new())));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|_| ApiError::bad_request(crate::error::MSG_INVALID_FORMAT))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The query is decoded as `serde_urlencoded` (the form decoder) decodes it, first value
    /// winning.
    #[test]
    fn query_strings_decode_as_forms_do() {
        let cases = [
            "",
            "a=1",
            "filter=(n%3E%3D5000)&sort=-n&page=2&perPage=20",
            "a=1&a=2&b",
            "&&a=&=x&b=c=d",
            "q=a+b%20c&%E2%9C%93=%E2%9C%93",
            "bad=%zz%4&odd=%e2%9c&plus=%2B+",
            "k%3D=v%26w",
        ];
        for q in cases {
            let mut want: HashMap<String, String> = HashMap::new();
            for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap() {
                want.entry(k).or_insert(v);
            }
            assert_eq!(parse_query(Some(q)), want, "{q:?}");
        }
        assert!(parse_query(None).is_empty());
    }
}
