//! `GET /api/health`

use axum::extract::State;
use serde_json::{json, Value};

use kiln_core::App;

use crate::extract::Ctx;
use crate::json::Json;

pub async fn handler(State(_app): State<App>, ctx: Ctx) -> Json<Value> {
    let mut data = serde_json::Map::new();
    if ctx.req.is_superuser() {
        data.insert("canBackup".into(), json!(false));
    }
    Json(json!({"message": "API is healthy.", "code": 200, "data": data}))
}
