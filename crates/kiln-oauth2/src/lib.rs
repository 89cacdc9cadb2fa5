//! OAuth2 and OpenID Connect sign-in as PocketBase does it: provider presets (overridable per
//! collection), the authorization URL a client opens (state, PKCE S256), the code exchange
//! (client secret by HTTP Basic, then in the body if the provider refuses Basic) and the
//! provider's user mapped to id, name, username, email (only a verified one) and avatar.

pub mod apple;
mod providers;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use providers::{preset, Mapping, Preset, UserSource, PRESETS};

/// Largest provider response read (token or user document).
const MAX_RESPONSE: usize = 1 << 20;

/// A provider as configured on a collection (PocketBase's `oauth2.providers[]` entry).
#[derive(Debug, Clone, Default)]
pub struct ProviderConfig {
    pub name: String,
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: String,
    pub token_url: String,
    pub user_info_url: String,
    pub display_name: String,
    /// `None`: the preset's default.
    pub pkce: Option<bool>,
    pub extra: Map<String, Value>,
}

/// A configured provider: the preset with the collection's overrides applied.
#[derive(Debug, Clone)]
pub struct Provider {
    pub preset: &'static Preset,
    pub config: ProviderConfig,
    pub auth_url: String,
    pub token_url: String,
    pub user_info_url: String,
    pub display_name: String,
    pub pkce: bool,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Default)]
pub struct Token {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires, when the provider says.
    pub expires_in: Option<i64>,
    pub id_token: String,
}

/// The signed-in user as the provider describes them.
#[derive(Debug, Clone, Default)]
pub struct AuthUser {
    pub id: String,
    pub name: String,
    pub username: String,
    /// Empty unless the provider vouches that the address is verified.
    pub email: String,
    pub avatar_url: String,
    pub raw_user: Value,
}

/// Why a sign-in failed.
#[derive(Debug)]
pub enum OAuth2Error {
    /// No preset has this name.
    UnknownProvider(String),
    /// The provider needs an endpoint the configuration leaves empty.
    MissingEndpoint(&'static str),
    /// The code exchange failed.
    Token(String),
    /// Fetching or reading the user failed.
    User(String),
    /// The issuer's discovery document could not be used.
    Discovery(String),
}

impl std::fmt::Display for OAuth2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OAuth2Error::UnknownProvider(n) => write!(f, "unknown OAuth2 provider {n:?}"),
            OAuth2Error::MissingEndpoint(which) => {
                write!(f, "the provider has no {which} configured")
            }
            OAuth2Error::Token(m) => write!(f, "token exchange failed: {m}"),
            OAuth2Error::User(m) => write!(f, "cannot fetch the user: {m}"),
            OAuth2Error::Discovery(m) => write!(f, "OpenID discovery failed: {m}"),
        }
    }
}

impl std::error::Error for OAuth2Error {}

/// The S256 PKCE challenge of a verifier.
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An HTTP client for provider calls: 30 s timeout, no redirects followed.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Kiln")
        .build()
        .unwrap_or_default()
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or reserved space).
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8)
        }
    }
}

/// Where to connect for `url`: its host and one of its addresses, every address the host
/// resolves to being public unless `allow_private`. Connecting to exactly that address (reqwest's
/// `resolve`) leaves no room for a second DNS answer to point elsewhere.
pub async fn checked_address(
    url: &reqwest::Url,
    allow_private: bool,
) -> Result<(String, std::net::SocketAddr), String> {
    let host = url
        .host_str()
        .ok_or("no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| format!("cannot resolve {host}"))?
        .collect();
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("{host} has no address"))?;
    if !allow_private && !addrs.iter().all(|a| is_public(a.ip())) {
        return Err(format!("{host} resolves to a non-public address"));
    }
    Ok((host, addr))
}

/// Downloads a file a provider points at (the user's avatar): http(s) only, every address the
/// host resolves to must be public unless `allow_private`, the connection goes to the address
/// that was checked (no second DNS answer), no redirects, 10 s, at most `max` bytes.
pub async fn fetch_public(
    url: &str,
    max: usize,
    allow_private: bool,
) -> Result<Vec<u8>, OAuth2Error> {
    let err = |m: &str| OAuth2Error::User(format!("avatar: {m}"));
    let parsed = reqwest::Url::parse(url).map_err(|_| err("invalid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(err("not an http(s) URL"));
    }
    let (host, addr) = checked_address(&parsed, allow_private)
        .await
        .map_err(|m| err(&m))?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .build()
        .map_err(|e| err(&e.to_string()))?;
    let mut res = client
        .get(parsed)
        .send()
        .await
        .map_err(|e| err(&e.to_string()))?;
    if !res.status().is_success() {
        return Err(err(&format!("status {}", res.status())));
    }
    let mut out = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| err(&e.to_string()))? {
        if out.len() + chunk.len() > max {
            return Err(err("too large"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The value at a dotted path (`data.attributes.email`, `images.0.url`) as text.
fn text_at(v: &Value, path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => match m.get(part) {
                Some(x) => x,
                None => return String::new(),
            },
            Value::Array(a) => match part.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(x) => x,
                None => return String::new(),
            },
            _ => return String::new(),
        };
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn truthy(v: &Value, path: &str) -> bool {
    if path.is_empty() {
        return true;
    }
    let t = text_at(v, path);
    !(t.is_empty() || t == "false" || t == "0")
}

/// Maps a user document with a preset's paths.
pub fn map_user(m: &Mapping, raw: Value) -> AuthUser {
    let email = if truthy(&raw, m.email_verified) {
        text_at(&raw, m.email)
    } else {
        String::new()
    };
    AuthUser {
        id: text_at(&raw, m.id),
        name: text_at(&raw, m.name),
        username: text_at(&raw, m.username),
        email,
        avatar_url: text_at(&raw, m.avatar),
        raw_user: raw,
    }
}

/// Reads a response body of at most [`MAX_RESPONSE`] bytes as JSON (or a urlencoded form, as
/// some token endpoints answer).
async fn read_json(res: reqwest::Response) -> Result<Value, String> {
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| e.to_string())?;
    if bytes.len() > MAX_RESPONSE {
        return Err("response too large".into());
    }
    if !status.is_success() {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        ));
    }
    if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
        return Ok(v);
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())?;
    Ok(Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    ))
}

/// The claims of a JWT, unverified (the id_token comes straight from the token endpoint over
/// TLS, which OpenID Connect accepts in place of a signature check; audience, expiry and issuer
/// are still checked by the caller).
fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?).ok()
}

/// What an OpenID provider publishes at `<issuer>/.well-known/openid-configuration`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
}

/// Fetches an issuer's discovery document. The document's `issuer` must be the one asked for
/// (OpenID Connect Discovery 1.0, section 4.3).
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Discovery, OAuth2Error> {
    let issuer = issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let res = http
        .get(&url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| OAuth2Error::Discovery(e.to_string()))?;
    let v = read_json(res).await.map_err(OAuth2Error::Discovery)?;
    let d = Discovery {
        issuer: text_at(&v, "issuer"),
        authorization_endpoint: text_at(&v, "authorization_endpoint"),
        token_endpoint: text_at(&v, "token_endpoint"),
        userinfo_endpoint: text_at(&v, "userinfo_endpoint"),
    };
    if d.issuer.trim_end_matches('/') != issuer {
        return Err(OAuth2Error::Discovery(format!(
            "the document names issuer {:?}",
            d.issuer
        )));
    }
    if d.authorization_endpoint.is_empty() || d.token_endpoint.is_empty() {
        return Err(OAuth2Error::Discovery(
            "no authorization or token endpoint".into(),
        ));
    }
    Ok(d)
}

impl Provider {
    /// The issuer to discover endpoints from (`extra.issuer` of an OpenID Connect provider).
    pub fn discovery_issuer(&self) -> Option<&str> {
        let issuer = self
            .config
            .extra
            .get("issuer")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        (self.preset.source == UserSource::UserInfoOrIdToken).then_some(issuer)
    }

    /// Fills the endpoints the configuration leaves empty from a discovery document, and pins
    /// the id_token issuer to it.
    pub fn apply_discovery(&mut self, d: &Discovery) {
        if self.config.auth_url.is_empty() {
            self.auth_url = d.authorization_endpoint.clone();
        }
        if self.config.token_url.is_empty() {
            self.token_url = d.token_endpoint.clone();
        }
        if self.config.user_info_url.is_empty() {
            self.user_info_url = d.userinfo_endpoint.clone();
        }
        if !self.config.extra.contains_key("issuers") {
            self.config.extra.insert(
                "issuers".into(),
                Value::Array(vec![Value::String(d.issuer.clone())]),
            );
        }
    }

    /// Resolves a collection's provider entry against its preset.
    pub fn new(config: ProviderConfig) -> Result<Provider, OAuth2Error> {
        let preset = preset(&config.name)
            .ok_or_else(|| OAuth2Error::UnknownProvider(config.name.clone()))?;
        let pick = |own: &str, default: &str| {
            if own.is_empty() {
                default.to_owned()
            } else {
                own.to_owned()
            }
        };
        Ok(Provider {
            preset,
            auth_url: pick(&config.auth_url, preset.auth_url),
            token_url: pick(&config.token_url, preset.token_url),
            user_info_url: pick(&config.user_info_url, preset.user_info_url),
            display_name: pick(&config.display_name, preset.display_name),
            pkce: config.pkce.unwrap_or(preset.pkce),
            config,
        })
    }

    /// The URL a browser opens, parameters sorted by key as PocketBase writes them, ending in
    /// `&redirect_uri=` for the client to complete.
    pub fn authorization_url(&self, state: &str, code_challenge: Option<&str>) -> String {
        let scope = self.preset.scopes.join(" ");
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", &self.config.client_id),
            ("response_type", "code"),
            ("scope", &scope),
            ("state", state),
        ];
        if let Some(ch) = code_challenge.filter(|_| self.pkce) {
            params.push(("code_challenge", ch));
            params.push(("code_challenge_method", "S256"));
        }
        params.extend(self.preset.extra_auth_params.iter().copied());
        params.sort_by(|a, b| a.0.cmp(b.0));
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let sep = if self.auth_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{query}&redirect_uri=", self.auth_url)
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
        redirect_url: &str,
    ) -> Result<Token, OAuth2Error> {
        if self.token_url.is_empty() {
            return Err(OAuth2Error::MissingEndpoint("token URL"));
        }
        let mut form: Vec<(&str, &str)> = vec![
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_url),
        ];
        if self.pkce && !verifier.is_empty() {
            form.push(("code_verifier", verifier));
        }
        let body =
            serde_urlencoded::to_string(&form).map_err(|e| OAuth2Error::Token(e.to_string()))?;
        let basic = http
            .post(&self.token_url)
            .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| OAuth2Error::Token(e.to_string()))?;
        let v = match read_json(basic).await {
            Ok(v) if v.get("access_token").is_some() => v,
            first => {
                // Some providers take the client credentials only in the body.
                let mut with_creds = form.clone();
                with_creds.push(("client_id", &self.config.client_id));
                with_creds.push(("client_secret", &self.config.client_secret));
                let body = serde_urlencoded::to_string(&with_creds)
                    .map_err(|e| OAuth2Error::Token(e.to_string()))?;
                let res = http
                    .post(&self.token_url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| OAuth2Error::Token(e.to_string()))?;
                match read_json(res).await {
                    Ok(v) if v.get("access_token").is_some() => v,
                    Ok(_) => {
                        return Err(OAuth2Error::Token(format!(
                            "no access_token (first try: {first:?})"
                        )))
                    }
                    Err(e) => return Err(OAuth2Error::Token(e)),
                }
            }
        };
        Ok(Token {
            access_token: text_at(&v, "access_token"),
            refresh_token: text_at(&v, "refresh_token"),
            expires_in: text_at(&v, "expires_in").parse().ok(),
            id_token: text_at(&v, "id_token"),
        })
    }

    /// Fetches and maps the user for an access token.
    pub async fn user(
        &self,
        http: &reqwest::Client,
        token: &Token,
        now_unix: i64,
    ) -> Result<AuthUser, OAuth2Error> {
        let use_id_token = match self.preset.source {
            UserSource::IdToken => true,
            UserSource::UserInfoOrIdToken => self.user_info_url.is_empty(),
            _ => false,
        };
        if use_id_token {
            let claims = self.checked_id_token(&token.id_token, now_unix)?;
            return Ok(map_user(&self.preset.mapping, claims));
        }
        if self.user_info_url.is_empty() {
            return Err(OAuth2Error::MissingEndpoint("user info URL"));
        }
        let raw = self
            .get_json(http, &self.user_info_url, &token.access_token)
            .await?;
        let mut user = map_user(&self.preset.mapping, raw);
        if self.preset.source == UserSource::WithEmailsEndpoint {
            let url = format!("{}/emails", self.user_info_url.trim_end_matches('/'));
            if let Ok(Value::Array(list)) = self.get_json(http, &url, &token.access_token).await {
                let primary = list
                    .iter()
                    .find(|e| truthy(e, "primary") && truthy(e, "verified"));
                user.email = primary.map(|e| text_at(e, "email")).unwrap_or_default();
            }
        }
        if self.preset.name == "discord" {
            let avatar = text_at(&user.raw_user, "avatar");
            if !avatar.is_empty() {
                user.avatar_url = format!(
                    "https://cdn.discordapp.com/avatars/{}/{avatar}.png",
                    user.id
                );
            }
        }
        if user.id.is_empty() {
            return Err(OAuth2Error::User("the provider returned no user id".into()));
        }
        Ok(user)
    }

    async fn get_json(
        &self,
        http: &reqwest::Client,
        url: &str,
        access_token: &str,
    ) -> Result<Value, OAuth2Error> {
        let res = http
            .get(url)
            .bearer_auth(access_token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| OAuth2Error::User(e.to_string()))?;
        read_json(res).await.map_err(OAuth2Error::User)
    }

    /// The id_token's claims after checking expiry, audience (the client id) and, when
    /// configured (`extra.issuers`, or Apple's), the issuer.
    fn checked_id_token(&self, id_token: &str, now_unix: i64) -> Result<Value, OAuth2Error> {
        let claims = jwt_claims(id_token)
            .ok_or_else(|| OAuth2Error::User("missing or malformed id_token".into()))?;
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        if exp <= now_unix {
            return Err(OAuth2Error::User("the id_token has expired".into()));
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => *a == self.config.client_id,
            Some(Value::Array(list)) => list
                .iter()
                .any(|a| a.as_str() == Some(self.config.client_id.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err(OAuth2Error::User(
                "the id_token is for another audience".into(),
            ));
        }
        let mut issuers: Vec<String> = match self.config.extra.get("issuers") {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => vec![],
        };
        if self.preset.name == "apple" {
            issuers = vec!["https://appleid.apple.com".into()];
        }
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !issuers.is_empty() && !issuers.iter().any(|i| i == iss) {
            return Err(OAuth2Error::User(
                "the id_token has an unexpected issuer".into(),
            ));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn google() -> Provider {
        Provider::new(ProviderConfig {
            name: "google".into(),
            client_id: "gcid".into(),
            client_secret: "s".into(),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn authorization_url_matches_pocketbase() {
        let url = google().authorization_url("STATE", Some("CH"));
        assert_eq!(
            url,
            "https://accounts.google.com/o/oauth2/v2/auth?client_id=gcid&code_challenge=CH&code_challenge_method=S256&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.profile+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email&state=STATE&redirect_uri="
        );
        let mut no_pkce = google();
        no_pkce.pkce = false;
        assert!(!no_pkce
            .authorization_url("S", Some("CH"))
            .contains("code_challenge"));
        assert!(matches!(
            Provider::new(ProviderConfig {
                name: "nope".into(),
                ..Default::default()
            }),
            Err(OAuth2Error::UnknownProvider(_))
        ));
    }

    #[test]
    fn pkce_challenge_is_rfc7636() {
        // base64url(sha256(verifier)) without padding, computed independently with Python's hashlib.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mJ92K1uGf3X5pGXRRnTvhs4tQXc9Ko"),
            "i-ocZZrDjnTspac-2_MGJHs4_52Bi_SQgjhBr3wx2L0"
        );
    }

    #[test]
    fn only_verified_emails_are_kept() {
        let m = &preset("oidc").unwrap().mapping;
        let u = map_user(
            m,
            json!({"sub": "1", "email": "a@b.c", "email_verified": false, "name": "A"}),
        );
        assert_eq!(
            (u.id.as_str(), u.email.as_str(), u.name.as_str()),
            ("1", "", "A")
        );
        let u = map_user(
            m,
            json!({"sub": 2, "email": "a@b.c", "email_verified": "true"}),
        );
        assert_eq!((u.id.as_str(), u.email.as_str()), ("2", "a@b.c"));
        let p = &preset("patreon").unwrap().mapping;
        let u = map_user(
            p,
            json!({"data": {"id": "9", "attributes": {"email": "p@q.r", "is_email_verified": true, "vanity": "pv"}}}),
        );
        assert_eq!(
            (u.id.as_str(), u.email.as_str(), u.username.as_str()),
            ("9", "p@q.r", "pv")
        );
    }

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn fetching_refuses_private_hosts_and_other_schemes() {
        assert!(fetch_public("http://127.0.0.1:9/x.png", 1024, false)
            .await
            .is_err());
        assert!(fetch_public("http://localhost:9/x.png", 1024, false)
            .await
            .is_err());
        assert!(fetch_public("file:///etc/passwd", 1024, true)
            .await
            .is_err());
        assert!(fetch_public("http://[::1]:9/", 1024, false).await.is_err());
    }

    #[tokio::test]
    async fn fetching_reads_at_most_max_bytes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let body = vec![b'a'; 100];
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            }
        });
        let url = format!("http://127.0.0.1:{port}/a.png");
        assert_eq!(fetch_public(&url, 1000, true).await.unwrap().len(), 100);
        assert!(
            fetch_public(&url, 50, true).await.is_err(),
            "over the limit"
        );
    }

    #[test]
    fn id_token_checks() {
        let mut p = Provider::new(ProviderConfig {
            name: "oidc".into(),
            client_id: "cid".into(),
            ..Default::default()
        })
        .unwrap();
        let tok = |claims: Value| format!("h.{}.s", URL_SAFE_NO_PAD.encode(claims.to_string()));
        let good = tok(
            json!({"sub": "u1", "aud": "cid", "exp": 2000, "iss": "https://idp", "email": "x@y.z", "email_verified": true}),
        );
        assert_eq!(p.checked_id_token(&good, 1000).unwrap()["sub"], "u1");
        assert!(p.checked_id_token(&good, 2000).is_err(), "expired");
        assert!(
            p.checked_id_token(&tok(json!({"aud": ["other"], "exp": 2000})), 1000)
                .is_err(),
            "audience"
        );
        p.config
            .extra
            .insert("issuers".into(), json!(["https://other"]));
        assert!(p.checked_id_token(&good, 1000).is_err(), "issuer");
        assert!(p.checked_id_token("garbage", 1000).is_err());
    }
}
