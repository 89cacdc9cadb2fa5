//! `GET /api/collections/meta/oauth2-providers`: the OAuth2 providers Kiln knows, for a
//! dashboard's provider picker (`name`, `displayName`, `logo`).
//!
//! PocketBase sends each provider's brand logo from its UI's assets; Kiln does not copy them and
//! draws a neutral badge with the name's first letter instead.

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::error::ApiResult;
use crate::extract::{require_superuser, Ctx};
use crate::json::Json;

pub async fn handler(State(app): State<App>, ctx: Ctx) -> ApiResult<Json<Value>> {
    require_superuser(&ctx)?;
    let list: Vec<Value> = app
        .oauth2_presets()
        .into_iter()
        .map(
            |(name, display)| json!({"name": name, "displayName": display, "logo": badge(display)}),
        )
        .collect();
    ctx.json(list)
}

/// A 64×64 SVG: a rounded square with the display name's first letter.
fn badge(display: &str) -> String {
    let letter = display
        .chars()
        .find(|c| c.is_alphanumeric())
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_default();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\" width=\"64\" height=\"64\">\
<rect width=\"64\" height=\"64\" rx=\"14\" fill=\"#5b6573\"/>\
<text x=\"32\" y=\"42\" font-family=\"sans-serif\" font-size=\"30\" font-weight=\"600\" \
text-anchor=\"middle\" fill=\"#fff\">{letter}</text></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::badge;

    #[test]
    fn badges_hold_only_the_letter() {
        let svg = badge("GitHub");
        assert!(svg.starts_with("<svg") && svg.contains(">G</text>"));
        assert!(badge("<script>").contains(">S</text>"));
    }
}
