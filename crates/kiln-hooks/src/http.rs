//! `$http.send`: an HTTP request from a hook, as PocketBase's (redirects followed, the answer's
//! status, headers, cookies, body and JSON). Outside dev mode every address a request goes to —
//! redirects included — must be public: a hook cannot be turned against the server's own network.

use std::time::Duration;

use serde_json::{json, Map, Value};

/// The largest answer read (a hook holds it in memory).
const MAX_BODY: usize = 32 << 20;
const MAX_REDIRECTS: usize = 10;

/// What a hook asked for.
pub(crate) struct Request {
    pub method: String,
    pub url: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
}

/// Sends `req`; the answer as `$http.send` returns it.
pub(crate) async fn send(req: Request, allow_private: bool) -> Result<Value, String> {
    answer(fetch(req, allow_private).await?).await
}

/// The body of a GET of `url` (`$filesystem.fileFromURL`): an error for a status outside
/// 200–399, as PocketBase's.
pub(crate) async fn get_bytes(
    url: &str,
    timeout: Duration,
    allow_private: bool,
) -> Result<Vec<u8>, String> {
    let req = Request {
        method: "GET".into(),
        url: url.to_owned(),
        body: String::new(),
        headers: Vec::new(),
        timeout,
    };
    let mut res = fetch(req, allow_private).await?;
    let status = res.status().as_u16();
    if !(200..=399).contains(&status) {
        return Err(format!("failed to download url {url} ({status})"));
    }
    read_body(&mut res).await
}

/// `req` sent, redirects followed.
async fn fetch(req: Request, allow_private: bool) -> Result<reqwest::Response, String> {
    let mut url =
        reqwest::Url::parse(&req.url).map_err(|_| format!("invalid URL {:?}", req.url))?;
    let mut method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid method {:?}", req.method))?;
    let mut body = Some(req.body);
    for _ in 0..=MAX_REDIRECTS {
        let client = client_for(&url, allow_private, req.timeout).await?;
        let mut r = client.request(method.clone(), url.clone());
        for (k, v) in &req.headers {
            r = r.header(k, v);
        }
        if let Some(b) = body.as_ref().filter(|b| !b.is_empty()) {
            r = r.body(b.clone());
        }
        let res = r.send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        if status.is_redirection() {
            if let Some(next) = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
            {
                // as Go's client: 303, and 301/302 of a POST, go on as a GET without a body
                if status == reqwest::StatusCode::SEE_OTHER
                    || (method == reqwest::Method::POST && status.as_u16() <= 302)
                {
                    method = reqwest::Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
        }
        return Ok(res);
    }
    Err(format!("stopped after {MAX_REDIRECTS} redirects"))
}

/// A client that connects to an address of `url`'s host checked to be public (unless
/// `allow_private`): no second DNS answer can slip another one in.
async fn client_for(
    url: &reqwest::Url,
    allow_private: bool,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{url}: not an http(s) URL"));
    }
    // outside dev mode, public addresses only
    let (host, addr) = kiln_core::net::checked_address(url, allow_private).await?;
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .user_agent("Kiln")
        .build()
        .map_err(|e| e.to_string())
}

/// The answer's body, at most [`MAX_BODY`].
async fn read_body(res: &mut reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is larger than {} MiB", MAX_BODY >> 20));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn answer(mut res: reqwest::Response) -> Result<Value, String> {
    let status = res.status().as_u16();
    let mut headers = Map::new();
    let mut cookies = Map::new();
    for (name, value) in res.headers() {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == reqwest::header::SET_COOKIE {
            if let Some((k, rest)) = v.split_once('=') {
                let val = rest.split(';').next().unwrap_or_default();
                cookies.insert(
                    k.trim().to_owned(),
                    json!({ "name": k.trim(), "value": val }),
                );
            }
        }
        // Go's canonical header names (X-Custom-Header)
        let canonical = name
            .as_str()
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-");
        if let Value::Array(list) = headers
            .entry(canonical)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(Value::String(v));
        }
    }
    let body = read_body(&mut res).await?;
    let json = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let raw = String::from_utf8_lossy(&body).into_owned();
    Ok(json!({
        "statusCode": status, "headers": headers, "cookies": cookies,
        "json": json, "raw": raw, "body": body,
    }))
}
