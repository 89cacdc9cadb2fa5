//! OAuth2 / OpenID Connect sign-in: the providers of `auth-methods`, and `auth-with-oauth2`
//! (code exchange, user lookup through `_externalAuths`, the signed-in account or a verified
//! email, else a new record), PocketBase's linking rules included.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::flows::AuthResult;
use crate::app::App;
use crate::error::{Action, CoreError, Feature, FieldError, FieldErrors, Refusal, Result};
use crate::records::model::Record;
use crate::request::RequestInfo;
use crate::schema::auth_options::OAuth2Provider;
use crate::schema::collection::Collection;
use crate::schema::system::SUPERUSERS;

impl App {
    /// The OAuth2 providers an auth collection may use: (name, display name), in the order
    /// PocketBase lists its own (the generic OpenID Connect ones last).
    pub fn oauth2_presets(&self) -> Vec<(&'static str, &'static str)> {
        const ORDER: &[&str] = &[
            "apple",
            "google",
            "microsoft",
            "yandex",
            "facebook",
            "instagram2",
            "github",
            "gitlab",
            "bitbucket",
            "gitee",
            "gitea",
            "discord",
            "twitter",
            "kakao",
            "vk",
            "linear",
            "notion",
            "monday",
            "lark",
            "box",
            "spotify",
            "trakt",
            "twitch",
            "patreon",
            "strava",
            "wakatime",
            "livechat",
            "mailcow",
            "planningcenter",
            "oidc",
            "oidc2",
            "oidc3",
        ];
        let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
        let mut list: Vec<(&'static str, &'static str)> = kiln_oauth2::PRESETS
            .iter()
            .map(|p| (p.name, p.display_name))
            .collect();
        list.sort_by_key(|(name, _)| (rank(name), *name));
        list
    }

    /// Downloads an avatar into a temporary upload for `field` (at most the field's size).
    async fn fetch_avatar(
        &self,
        field: &str,
        url: &str,
        max_size: i64,
    ) -> std::result::Result<crate::files::uploads::Upload, String> {
        let max = if max_size > 0 {
            max_size as usize
        } else {
            crate::files::uploads::DEFAULT_MAX_SIZE as usize
        };
        let bytes = kiln_oauth2::fetch_public(url, max, self.inner().allow_private_fetch)
            .await
            .map_err(|e| e.to_string())?;
        self.upload_of(field, "avatar", &bytes)
            .await
            .map_err(|e| e.to_string())
    }
}

/// How long an issuer's discovery document is reused.
const DISCOVERY_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The system collection linking accounts to provider identities.
pub const EXTERNAL_AUTHS: &str = "_externalAuths";

/// A successful OAuth2 login: the auth result and PocketBase's `meta` document.
pub struct OAuth2Login {
    pub result: AuthResult,
    pub meta: Value,
}

/// The first half of `auth-with-oauth2` done: the provider's user known, and the account it
/// signs in to, if one exists. Between the halves PocketBase runs `onRecordAuthWithOAuth2Request`.
pub struct OAuth2Identified {
    provider: String,
    user: kiln_oauth2::AuthUser,
    token: kiln_oauth2::Token,
    now: i64,
    link: Option<Record>,
    signed_in: Option<String>,
    /// The account the user signs in to (`None`: a sign-up).
    pub existing: Option<Record>,
}

impl OAuth2Identified {
    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The provider's user as hooks see it (`e.oAuth2User`), and as `meta` shows it.
    pub fn user_json(&self) -> Value {
        let expiry = self
            .token
            .expires_in
            .map(|s| crate::datetime::format_ms((self.now + s) * 1000))
            .unwrap_or_default();
        let u = &self.user;
        json!({
            "id": u.id, "name": u.name, "username": u.username, "email": u.email,
            "avatarURL": u.avatar_url, "rawUser": u.raw_user, "accessToken": self.token.access_token,
            "refreshToken": self.token.refresh_token, "expiry": expiry,
        })
    }
}

/// What `auth-with-oauth2` receives.
pub struct OAuth2Request<'a> {
    pub provider: &'a str,
    pub code: &'a str,
    pub code_verifier: &'a str,
    pub redirect_url: &'a str,
    pub create_data: Map<String, Value>,
    pub mfa_id: Option<&'a str>,
}

fn to_config(p: &OAuth2Provider) -> kiln_oauth2::ProviderConfig {
    kiln_oauth2::ProviderConfig {
        name: p.name.clone(),
        client_id: p.client_id.clone(),
        client_secret: p.client_secret.clone(),
        auth_url: p.auth_url.clone(),
        token_url: p.token_url.clone(),
        user_info_url: p.user_info_url.clone(),
        display_name: p.display_name.clone(),
        pkce: p.pkce,
        extra: p.extra.clone(),
    }
}

fn is_verified(r: &Record) -> bool {
    r.get("verified").and_then(Value::as_bool).unwrap_or(false)
}

impl App {
    /// The collection's enabled providers, resolved against their presets and, for OpenID
    /// Connect providers with an `extra.issuer`, the issuer's discovery document (cached for an
    /// hour; a provider whose discovery fails is left out).
    async fn oauth2_providers(&self, c: &Collection) -> Vec<kiln_oauth2::Provider> {
        let Some(o) = c.auth.as_ref().map(|a| &a.oauth2).filter(|o| o.enabled) else {
            return vec![];
        };
        let mut out = Vec::with_capacity(o.providers.len());
        for p in &o.providers {
            let Ok(mut provider) = kiln_oauth2::Provider::new(to_config(p)) else {
                continue;
            };
            if let Some(issuer) = provider.discovery_issuer().map(str::to_owned) {
                let cached = self.oidc_discovery().get(&issuer);
                let d = match cached {
                    Some(d) => d,
                    None => match kiln_oauth2::discover(&kiln_oauth2::http_client(), &issuer).await
                    {
                        Ok(d) => {
                            let _ = self.oidc_discovery().insert(
                                issuer.clone(),
                                d.clone(),
                                DISCOVERY_TTL,
                            );
                            d
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, provider = %p.name, "OpenID discovery failed");
                            continue;
                        }
                    },
                };
                provider.apply_discovery(&d);
            }
            out.push(provider);
        }
        out
    }

    /// `auth-methods`' `oauth2.providers`: each with a fresh state and PKCE pair.
    pub async fn oauth2_auth_methods(&self, c: &Collection) -> Vec<Value> {
        self.oauth2_providers(c)
            .await
            .into_iter()
            .map(|p| {
                let state = crate::ids::new_secret(30);
                let (verifier, challenge) = if p.pkce {
                    let v = crate::ids::new_secret(43);
                    let ch = kiln_oauth2::code_challenge(&v);
                    (v, ch)
                } else {
                    (String::new(), String::new())
                };
                let url = p.authorization_url(
                    &state,
                    Some(&challenge)
                        .filter(|c| !c.is_empty())
                        .map(String::as_str),
                );
                json!({
                    "name": p.config.name,
                    "displayName": p.display_name,
                    "logo": "",
                    "state": state,
                    "authURL": url,
                    "authUrl": url,
                    "codeVerifier": verifier,
                    "codeChallenge": challenge,
                    "codeChallengeMethod": if p.pkce { "S256" } else { "" },
                })
            })
            .collect()
    }

    /// `auth-with-oauth2`.
    pub async fn auth_with_oauth2(
        &self,
        c: &Arc<Collection>,
        r: OAuth2Request<'_>,
        req: &RequestInfo,
    ) -> Result<OAuth2Login> {
        let found = self.oauth2_identify(c, &r, req).await?;
        self.oauth2_sign_in(c, found, &r.create_data, r.mfa_id, req)
            .await
    }

    /// The first half of `auth-with-oauth2`: the form checked, the code exchanged, the
    /// provider's user fetched and the account it belongs to found (by its link, the session or
    /// the email).
    pub async fn oauth2_identify(
        &self,
        c: &Arc<Collection>,
        r: &OAuth2Request<'_>,
        req: &RequestInfo,
    ) -> Result<OAuth2Identified> {
        if !c.auth.as_ref().is_some_and(|a| a.oauth2.enabled) {
            return Err(CoreError::Disabled(Feature::OAuth2));
        }
        let mut errors = FieldErrors::new();
        let provider = self
            .oauth2_providers(c)
            .await
            .into_iter()
            .find(|p| p.config.name == r.provider);
        if r.provider.is_empty() {
            errors.insert("provider".into(), FieldError::required());
        } else if provider.is_none() {
            errors.insert(
                "provider".into(),
                FieldError::new(
                    "validation_invalid_provider",
                    format!(
                        "Provider with name {} is missing or is not enabled.",
                        r.provider
                    ),
                )
                .with_params(json!({"name": r.provider})),
            );
        }
        if r.code.is_empty() {
            errors.insert("code".into(), FieldError::required());
        }
        let Some(provider) = provider.filter(|_| errors.is_empty()) else {
            return Err(CoreError::Validation {
                action: Action::LoadForm,
                errors,
            });
        };
        let http = kiln_oauth2::http_client();
        let token = provider
            .exchange(&http, r.code, r.code_verifier, r.redirect_url)
            .await
            .map_err(|e| {
                tracing::debug!(error = %e, "OAuth2 code exchange failed");
                CoreError::Refused(Refusal::OAuth2TokenFailed)
            })?;
        let now = crate::datetime::now_ms() / 1000;
        let user = provider.user(&http, &token, now).await.map_err(|e| {
            tracing::debug!(error = %e, "OAuth2 user fetch failed");
            CoreError::Refused(Refusal::OAuth2UserFailed)
        })?;

        let link = self
            .system_records(
                EXTERNAL_AUTHS,
                "\"collectionRef\" = ?1 AND \"provider\" = ?2 AND \"providerId\" = ?3",
                &[
                    c.id.clone().into(),
                    r.provider.into(),
                    user.id.clone().into(),
                ],
            )?
            .into_iter()
            .next();
        let signed_in = req
            .auth
            .as_ref()
            .filter(|a| a.collection.id == c.id)
            .map(|a| a.id().to_owned());
        let mut existing = match &link {
            Some(l) => self.find_record(c, l.get_str("recordRef"))?,
            None => None,
        };
        if existing.is_none() {
            if let Some(id) = &signed_in {
                existing = self.find_record(c, id)?;
            }
        }
        if existing.is_none() && !user.email.is_empty() {
            existing = self.find_by_email(c, &user.email)?;
        }
        Ok(OAuth2Identified {
            provider: r.provider.to_owned(),
            user,
            token,
            now,
            link,
            signed_in,
            existing,
        })
    }

    /// The second half of `auth-with-oauth2`: the account found updated (or a new one created
    /// from `create_data` and the provider's user), linked to the provider, and signed in.
    pub async fn oauth2_sign_in(
        &self,
        c: &Arc<Collection>,
        found: OAuth2Identified,
        create_data: &Map<String, Value>,
        mfa_id: Option<&str>,
        req: &RequestInfo,
    ) -> Result<OAuth2Login> {
        let OAuth2Identified {
            provider,
            user,
            token,
            now,
            link,
            signed_in,
            existing,
        } = found;
        if let Some(rec) = &existing {
            // Refuse before the linking rules change anything on the account.
            self.check_login_allowed(c, rec, req)?;
        }
        let mut linked = link.is_some();
        let is_new = existing.is_none();
        let record = match existing {
            Some(rec) => {
                self.oauth2_update_existing(c, rec, &user, signed_in.as_deref(), &mut linked)
                    .await?
            }
            None => self.oauth2_create(c, create_data, &user, req).await?,
        };
        if !linked {
            let mut body = Map::new();
            body.insert("collectionRef".into(), json!(c.id));
            body.insert("recordRef".into(), json!(record.id()));
            body.insert("provider".into(), json!(provider));
            body.insert("providerId".into(), json!(user.id));
            self.system_create(EXTERNAL_AUTHS, body)
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "cannot link an external auth");
                    CoreError::Failed(Action::Authenticate)
                })?;
        }
        let expiry = token
            .expires_in
            .map(|s| crate::datetime::format_ms((now + s) * 1000))
            .unwrap_or_default();
        let meta = json!({
            "id": user.id,
            "name": user.name,
            "username": user.username,
            "email": user.email,
            "isNew": is_new,
            "avatarURL": user.avatar_url,
            "avatarUrl": user.avatar_url,
            "rawUser": user.raw_user,
            "accessToken": token.access_token,
            "refreshToken": token.refresh_token,
            "expiry": expiry,
        });
        let result = self.finish_auth(c, record, "oauth2", mfa_id, req).await?;
        Ok(OAuth2Login { result, meta })
    }

    /// PocketBase's rules for an account found by link, session or email: an unverified
    /// account someone else may have pre-registered loses its password and old links; the
    /// provider's (verified) email fills an empty one and verifies a matching one.
    async fn oauth2_update_existing(
        &self,
        c: &Arc<Collection>,
        rec: Record,
        user: &kiln_oauth2::AuthUser,
        signed_in: Option<&str>,
        linked: &mut bool,
    ) -> Result<Record> {
        let mut body = Map::new();
        let unverified = !is_verified(&rec);
        if unverified && signed_in != Some(rec.id()) {
            let random = crate::ids::new_secret(30);
            body.insert("password".into(), json!(random));
            body.insert("passwordConfirm".into(), json!(random));
        }
        if unverified {
            let links = self.system_records(
                EXTERNAL_AUTHS,
                "\"collectionRef\" = ?1 AND \"recordRef\" = ?2",
                &[c.id.clone().into(), rec.id().into()],
            )?;
            for l in links {
                self.system_delete(EXTERNAL_AUTHS, l.id()).await?;
            }
            *linked = false;
        }
        let email = rec.get_str("email").to_owned();
        if email.is_empty() && !user.email.is_empty() {
            body.insert("email".into(), json!(user.email));
        }
        if unverified && !user.email.is_empty() && (email.is_empty() || email == user.email) {
            body.insert("verified".into(), json!(true));
        }
        if body.is_empty() {
            return Ok(rec);
        }
        self.system_update(c, rec.id(), body).await
    }

    /// A new account from the provider's user and the client's `createData`, through the
    /// collection's createRule and validation like any sign-up.
    async fn oauth2_create(
        &self,
        c: &Arc<Collection>,
        create_data: &Map<String, Value>,
        user: &kiln_oauth2::AuthUser,
        req: &RequestInfo,
    ) -> Result<Record> {
        if c.name == SUPERUSERS {
            return Err(CoreError::Failed(Action::Authenticate));
        }
        let mut body = create_data.clone();
        let empty = |b: &Map<String, Value>, k: &str| {
            b.get(k)
                .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
        };
        if empty(&body, "email") && !user.email.is_empty() {
            body.insert("email".into(), json!(user.email));
        }
        let mut uploads = Vec::new();
        if let Some(m) = c.auth.as_ref().map(|a| &a.oauth2.mapped_fields) {
            for (field, value) in [
                (&m.id, &user.id),
                (&m.name, &user.name),
                (&m.username, &user.username),
                (&m.avatar_url, &user.avatar_url),
            ] {
                let Some(f) = c
                    .field(field)
                    .filter(|_| !field.is_empty() && !value.is_empty())
                else {
                    continue;
                };
                if !empty(&body, field) {
                    continue;
                }
                if let crate::schema::field::FieldKind::File {
                    max_size,
                    mime_types,
                    ..
                } = &f.kind
                {
                    // The avatar is downloaded into the file field (public addresses only); a
                    // failure or a type the field refuses leaves it empty, never the sign-up.
                    match self.fetch_avatar(field, value, *max_size).await {
                        Ok(u)
                            if mime_types.is_empty()
                                || mime_types.iter().any(|m| kiln_media::mime_is(&u.mime, m)) =>
                        {
                            uploads.push(u)
                        }
                        Ok(u) => {
                            tracing::debug!(mime = %u.mime, "OAuth2 avatar of a type the field refuses")
                        }
                        Err(e) => tracing::debug!(error = %e, "OAuth2 avatar not fetched"),
                    }
                    continue;
                }
                body.insert(field.clone(), json!(value));
            }
        }
        if empty(&body, "password") {
            let random = crate::ids::new_secret(30);
            body.insert("password".into(), json!(random));
            body.insert("passwordConfirm".into(), json!(random));
        }
        let guest = RequestInfo {
            body: Map::new(),
            ..req.clone()
        };
        let created = self
            .create_record_with_files(c, &guest, body, uploads)
            .await?;
        if !user.email.is_empty()
            && created.get_str("email") == user.email
            && !is_verified(&created)
        {
            let mut body = Map::new();
            body.insert("verified".into(), json!(true));
            return self.system_update(c, created.id(), body).await;
        }
        Ok(created)
    }
}

impl App {
    /// `/api/oauth2-redirect`: hands the provider's `code` (or `error`) to the realtime client
    /// whose id is the `state`, if it waits on `@oauth2`. Returns whether the flow can go on
    /// (delivered, with a code and no error).
    /// The client may be held by another node of a cluster (the provider sends the browser back
    /// to whichever node the balancer picks): the request is forwarded to it.
    pub async fn oauth2_redirect(&self, state: &str, code: &str, error: &str) -> bool {
        if state.is_empty() {
            return false;
        }
        let mut data = json!({"state": state, "code": code});
        if !error.is_empty() {
            data["error"] = json!(error);
        }
        let delivered = match self.realtime().client(state) {
            Some(client) => client.deliver_oauth2(data.to_string().into_bytes()),
            None => {
                self.oauth2_deliver_elsewhere(state, &data.to_string())
                    .await
            }
        };
        delivered && error.is_empty() && !code.is_empty()
    }
}
