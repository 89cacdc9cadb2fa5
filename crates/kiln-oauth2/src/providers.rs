//! The provider presets: endpoints, scopes, PKCE default and where each user field lives in
//! the provider's user info document.

/// Where the user's fields are in a user info document (dotted paths; `""` for none).
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    pub id: &'static str,
    pub name: &'static str,
    pub username: &'static str,
    pub email: &'static str,
    pub avatar: &'static str,
    /// A path that must be truthy for the email to be trusted (`""`: the provider only returns
    /// verified addresses).
    pub email_verified: &'static str,
}

/// How a provider delivers the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    /// GET the user info URL with the access token.
    UserInfo,
    /// GET the user info URL, or read the `id_token` when no URL is configured (OpenID Connect).
    UserInfoOrIdToken,
    /// Read the `id_token` of the token response (Apple).
    IdToken,
    /// GitHub and Gitea: the user, plus `<userInfoURL>/emails` for the primary verified address.
    WithEmailsEndpoint,
}

/// A preset.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub display_name: &'static str,
    pub auth_url: &'static str,
    pub token_url: &'static str,
    pub user_info_url: &'static str,
    pub scopes: &'static [&'static str],
    pub pkce: bool,
    pub source: UserSource,
    pub mapping: Mapping,
    /// Extra authorization parameters (Apple's `response_mode=form_post`).
    pub extra_auth_params: &'static [(&'static str, &'static str)],
}

const OIDC_MAPPING: Mapping =
    Mapping { id: "sub", name: "name", username: "preferred_username", email: "email", avatar: "picture", email_verified: "email_verified" };

const fn oidc(name: &'static str) -> Preset {
    Preset {
        name,
        display_name: "OIDC",
        auth_url: "",
        token_url: "",
        user_info_url: "",
        scopes: &["openid", "email", "profile"],
        pkce: true,
        source: UserSource::UserInfoOrIdToken,
        mapping: OIDC_MAPPING,
        extra_auth_params: &[],
    }
}

/// Every preset Kiln knows, by name.
pub const PRESETS: &[Preset] = &[
    oidc("oidc"),
    oidc("oidc2"),
    oidc("oidc3"),
    Preset {
        name: "google",
        display_name: "Google",
        auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
        token_url: "https://oauth2.googleapis.com/token",
        user_info_url: "https://www.googleapis.com/oauth2/v3/userinfo",
        scopes: &["https://www.googleapis.com/auth/userinfo.profile", "https://www.googleapis.com/auth/userinfo.email"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "sub", name: "name", username: "", email: "email", avatar: "picture", email_verified: "email_verified" },
        extra_auth_params: &[],
    },
    Preset {
        name: "github",
        display_name: "GitHub",
        auth_url: "https://github.com/login/oauth/authorize",
        token_url: "https://github.com/login/oauth/access_token",
        user_info_url: "https://api.github.com/user",
        scopes: &["read:user", "user:email"],
        pkce: true,
        source: UserSource::WithEmailsEndpoint,
        mapping: Mapping { id: "id", name: "name", username: "login", email: "", avatar: "avatar_url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "gitlab",
        display_name: "GitLab",
        auth_url: "https://gitlab.com/oauth/authorize",
        token_url: "https://gitlab.com/oauth/token",
        user_info_url: "https://gitlab.com/api/v4/user",
        scopes: &["read_user"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "name", username: "username", email: "email", avatar: "avatar_url", email_verified: "confirmed_at" },
        extra_auth_params: &[],
    },
    Preset {
        name: "microsoft",
        display_name: "Microsoft",
        auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        user_info_url: "https://graph.microsoft.com/v1.0/me",
        scopes: &["User.Read"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "displayName", username: "", email: "mail", avatar: "", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "apple",
        display_name: "Apple",
        auth_url: "https://appleid.apple.com/auth/authorize",
        token_url: "https://appleid.apple.com/auth/token",
        user_info_url: "",
        scopes: &["name", "email"],
        pkce: true,
        source: UserSource::IdToken,
        mapping: Mapping { id: "sub", name: "", username: "", email: "email", avatar: "", email_verified: "email_verified" },
        extra_auth_params: &[("response_mode", "form_post")],
    },
    Preset {
        name: "discord",
        display_name: "Discord",
        auth_url: "https://discord.com/api/oauth2/authorize",
        token_url: "https://discord.com/api/oauth2/token",
        user_info_url: "https://discord.com/api/users/@me",
        scopes: &["identify", "email"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "global_name", username: "username", email: "email", avatar: "", email_verified: "verified" },
        extra_auth_params: &[],
    },
    Preset {
        name: "facebook",
        display_name: "Facebook",
        auth_url: "https://www.facebook.com/v3.2/dialog/oauth",
        token_url: "https://graph.facebook.com/v3.2/oauth/access_token",
        user_info_url: "https://graph.facebook.com/me?fields=name,email,picture.type(large)",
        scopes: &["email"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "name", username: "", email: "email", avatar: "picture.data.url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "gitea",
        display_name: "Gitea/Forgejo",
        auth_url: "https://gitea.com/login/oauth/authorize",
        token_url: "https://gitea.com/login/oauth/access_token",
        user_info_url: "https://gitea.com/api/v1/user",
        scopes: &["read:user", "user:email"],
        pkce: true,
        source: UserSource::WithEmailsEndpoint,
        mapping: Mapping { id: "id", name: "full_name", username: "login", email: "", avatar: "avatar_url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "gitee",
        display_name: "Gitee",
        auth_url: "https://gitee.com/oauth/authorize",
        token_url: "https://gitee.com/oauth/token",
        user_info_url: "https://gitee.com/api/v5/user",
        scopes: &["user_info", "emails"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "name", username: "login", email: "email", avatar: "avatar_url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "bitbucket",
        display_name: "Bitbucket",
        auth_url: "https://bitbucket.org/site/oauth2/authorize",
        token_url: "https://bitbucket.org/site/oauth2/access_token",
        user_info_url: "https://api.bitbucket.org/2.0/user",
        scopes: &["account"],
        pkce: false,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "uuid", name: "display_name", username: "username", email: "", avatar: "links.avatar.href", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "spotify",
        display_name: "Spotify",
        auth_url: "https://accounts.spotify.com/authorize",
        token_url: "https://accounts.spotify.com/api/token",
        user_info_url: "https://api.spotify.com/v1/me",
        scopes: &["user-read-private"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "display_name", username: "", email: "", avatar: "images.0.url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "twitter",
        display_name: "X/Twitter",
        auth_url: "https://x.com/i/oauth2/authorize",
        token_url: "https://api.x.com/2/oauth2/token",
        user_info_url: "https://api.x.com/2/users/me?user.fields=id,name,username,profile_image_url,confirmed_email",
        scopes: &["users.read", "users.email", "tweet.read"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "data.id", name: "data.name", username: "data.username", email: "data.confirmed_email", avatar: "data.profile_image_url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "kakao",
        display_name: "Kakao",
        auth_url: "https://kauth.kakao.com/oauth/authorize",
        token_url: "https://kauth.kakao.com/oauth/token",
        user_info_url: "https://kapi.kakao.com/v2/user/me",
        scopes: &["account_email", "profile_nickname", "profile_image"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping {
            id: "id",
            name: "properties.nickname",
            username: "",
            email: "kakao_account.email",
            avatar: "properties.profile_image",
            email_verified: "kakao_account.is_email_verified",
        },
        extra_auth_params: &[],
    },
    Preset {
        name: "patreon",
        display_name: "Patreon",
        auth_url: "https://www.patreon.com/oauth2/authorize",
        token_url: "https://www.patreon.com/api/oauth2/token",
        user_info_url: "https://www.patreon.com/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email,vanity,image_url,is_email_verified",
        scopes: &["identity", "identity[email]"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping {
            id: "data.id",
            name: "data.attributes.full_name",
            username: "data.attributes.vanity",
            email: "data.attributes.email",
            avatar: "data.attributes.image_url",
            email_verified: "data.attributes.is_email_verified",
        },
        extra_auth_params: &[],
    },
    Preset {
        name: "yandex",
        display_name: "Yandex",
        auth_url: "https://oauth.yandex.com/authorize",
        token_url: "https://oauth.yandex.com/token",
        user_info_url: "https://login.yandex.ru/info",
        scopes: &["login:email", "login:avatar", "login:info"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "real_name", username: "login", email: "default_email", avatar: "", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "strava",
        display_name: "Strava",
        auth_url: "https://www.strava.com/oauth/authorize",
        token_url: "https://www.strava.com/api/v3/oauth/token",
        user_info_url: "https://www.strava.com/api/v3/athlete",
        scopes: &["profile:read_all"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "firstname", username: "username", email: "", avatar: "profile", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "box",
        display_name: "Box",
        auth_url: "https://account.box.com/api/oauth2/authorize",
        token_url: "https://api.box.com/oauth2/token",
        user_info_url: "https://api.box.com/2.0/users/me",
        scopes: &["root_readonly"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping { id: "id", name: "name", username: "", email: "login", avatar: "avatar_url", email_verified: "" },
        extra_auth_params: &[],
    },
    Preset {
        name: "wakatime",
        display_name: "WakaTime",
        auth_url: "https://wakatime.com/oauth/authorize",
        token_url: "https://wakatime.com/oauth/token",
        user_info_url: "https://wakatime.com/api/v1/users/current",
        scopes: &["email"],
        pkce: true,
        source: UserSource::UserInfo,
        mapping: Mapping {
            id: "data.id",
            name: "data.display_name",
            username: "data.username",
            email: "data.email",
            avatar: "data.photo",
            email_verified: "data.is_email_confirmed",
        },
        extra_auth_params: &[],
    },
];

/// The preset named `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}
