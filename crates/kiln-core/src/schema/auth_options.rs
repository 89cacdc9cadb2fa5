//! The options of auth collections, in PocketBase's JSON shape.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailTemplate {
    pub subject: String,
    pub body: String,
}

impl EmailTemplate {
    fn new(subject: &str, body: &str) -> Self {
        EmailTemplate {
            subject: subject.into(),
            body: body.into(),
        }
    }
}

impl Default for EmailTemplate {
    fn default() -> Self {
        EmailTemplate::new("", "")
    }
}

/// A token type's lifetime (seconds) and signing secret. The secret never leaves the server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenConfig {
    pub duration: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub secret: String,
}

impl TokenConfig {
    fn new(duration: i64) -> Self {
        TokenConfig {
            duration,
            secret: crate::ids::new_secret(50),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthAlert {
    pub enabled: bool,
    pub email_template: EmailTemplate,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MappedFields {
    pub id: String,
    pub name: String,
    pub username: String,
    #[serde(rename = "avatarURL")]
    pub avatar_url: String,
}

/// One OAuth2 provider of a collection. Empty values fall back to the provider's preset; the
/// client secret is write-only (never shown by the API).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OAuth2Provider {
    pub pkce: Option<bool>,
    pub name: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_secret: String,
    #[serde(rename = "authURL")]
    pub auth_url: String,
    #[serde(rename = "tokenURL")]
    pub token_url: String,
    #[serde(rename = "userInfoURL")]
    pub user_info_url: String,
    pub display_name: String,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OAuth2Options {
    pub providers: Vec<OAuth2Provider>,
    pub mapped_fields: MappedFields,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PasswordAuth {
    pub enabled: bool,
    pub identity_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mfa {
    pub enabled: bool,
    pub duration: i64,
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Otp {
    pub enabled: bool,
    pub duration: i64,
    pub length: i64,
    pub email_template: EmailTemplate,
}

/// Everything an auth collection has beyond a base collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthOptions {
    pub auth_rule: Option<String>,
    pub manage_rule: Option<String>,
    pub auth_alert: AuthAlert,
    pub oauth2: OAuth2Options,
    pub password_auth: PasswordAuth,
    pub mfa: Mfa,
    pub otp: Otp,
    pub auth_token: TokenConfig,
    pub password_reset_token: TokenConfig,
    pub email_change_token: TokenConfig,
    pub verification_token: TokenConfig,
    pub file_token: TokenConfig,
    pub verification_template: EmailTemplate,
    pub reset_password_template: EmailTemplate,
    pub confirm_email_change_template: EmailTemplate,
}

const SIGNATURE: &str = "<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>";

fn tpl(subject: &str, body: &str) -> EmailTemplate {
    EmailTemplate::new(subject, &format!("{body}\n{SIGNATURE}"))
}

// Defaults of the nested options: a partial object in a request (`{"passwordAuth":{"enabled":false}}`)
// keeps PocketBase's defaults for the keys it leaves out.

impl Default for AuthAlert {
    fn default() -> Self {
        AuthAlert {
            enabled: true,
            email_template: tpl(
                "Login from a new location",
                "<p>Hello,</p>\n<p>We noticed a login to your {APP_NAME} account from a new location:</p>\n<p><em>{ALERT_INFO}</em></p>\n<p><strong>If this wasn't you, you should immediately change your {APP_NAME} account password to revoke access from all other locations.</strong></p>\n<p>If this was you, you may disregard this email.</p>",
            ),
        }
    }
}

impl Default for PasswordAuth {
    fn default() -> Self {
        PasswordAuth {
            enabled: true,
            identity_fields: vec!["email".into()],
        }
    }
}

impl Default for Mfa {
    fn default() -> Self {
        Mfa {
            enabled: false,
            duration: 600,
            rule: String::new(),
        }
    }
}

impl Default for Otp {
    fn default() -> Self {
        Otp {
            enabled: false,
            duration: 180,
            length: 8,
            email_template: tpl(
                "OTP for {APP_NAME}",
                "<p>Hello,</p>\n<p>Your one-time password is: <strong>{OTP}</strong></p>\n<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>",
            ),
        }
    }
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            auth_rule: Some(String::new()),
            manage_rule: None,
            auth_alert: AuthAlert::default(),
            oauth2: OAuth2Options::default(),
            password_auth: PasswordAuth::default(),
            mfa: Mfa::default(),
            otp: Otp::default(),
            auth_token: TokenConfig::new(432_000),
            password_reset_token: TokenConfig::new(1800),
            email_change_token: TokenConfig::new(1800),
            verification_token: TokenConfig::new(86_400),
            file_token: TokenConfig::new(180),
            verification_template: tpl(
                "Verify your {APP_NAME} email",
                "<p>Hello,</p>\n<p>Thank you for joining us at {APP_NAME}.</p>\n<p>Click on the button below to verify your email address.</p>\n<p>\n  <a class=\"btn\" href=\"{APP_URL}/_/#/auth/confirm-verification/{TOKEN}\" target=\"_blank\" rel=\"noopener\">Verify</a>\n</p>\n<p><i>If you didn't recently register, please ignore this email.</i></p>",
            ),
            reset_password_template: tpl(
                "Reset your {APP_NAME} password",
                "<p>Hello,</p>\n<p>Click on the button below to reset your password.</p>\n<p>\n  <a class=\"btn\" href=\"{APP_URL}/_/#/auth/confirm-password-reset/{TOKEN}\" target=\"_blank\" rel=\"noopener\">Reset password</a>\n</p>\n<p><i>If you didn't ask to reset your password, please ignore this email.</i></p>",
            ),
            confirm_email_change_template: tpl(
                "Confirm your {APP_NAME} new email address",
                "<p>Hello,</p>\n<p>Click on the button below to confirm your new email address.</p>\n<p>\n  <a class=\"btn\" href=\"{APP_URL}/_/#/auth/confirm-email-change/{TOKEN}\" target=\"_blank\" rel=\"noopener\">Confirm new email</a>\n</p>\n<p><i>If you didn't ask to change your email address, please ignore this email.</i></p>",
            ),
        }
    }
}

impl AuthOptions {
    /// Gives every token type a secret if it has none (new collections, imports).
    pub fn ensure_secrets(&mut self) {
        for t in [
            &mut self.auth_token,
            &mut self.password_reset_token,
            &mut self.email_change_token,
            &mut self.verification_token,
            &mut self.file_token,
        ] {
            if t.secret.is_empty() {
                t.secret = crate::ids::new_secret(50);
            }
        }
    }
}
