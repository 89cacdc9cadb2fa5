//! What crosses between Kiln and JavaScript as JSON: a request as the hooks' event reads it, a
//! record as a hook is handed it, and what `onRecordEnrich` changed of an answer's record.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use kiln_core::records::model::Record;
use kiln_core::RequestInfo;

/// Fields of an authenticated record hooks are not given.
const SECRET_FIELDS: [&str; 2] = ["password", "tokenKey"];

/// The rest of a request's handling, run by a middleware's last `e.next()` (`routerUse`, an
/// account flow's request hook). It is handed the event's fields as the hooks left them
/// (`subscriptions`, …; an empty object for a middleware), and answers what the event shows
/// after it: `{"record": …}` as the flow left the record, or null.
pub type Next = Box<
    dyn FnOnce(Value) -> std::pin::Pin<Box<dyn std::future::Future<Output = Value> + Send>> + Send,
>;

/// An authenticated record as hooks see it: every field but its password hash and token key.
pub fn auth_value(r: &Record) -> Value {
    let mut m = r.to_full_map();
    for f in SECRET_FIELDS {
        m.remove(f);
    }
    Value::Object(m)
}

/// The request as the hooks' event shows it.
pub(crate) fn request_json(req: &RequestInfo) -> Value {
    let auth = req.auth.as_deref().map(auth_value).unwrap_or(Value::Null);
    let list = |m: &HashMap<String, String>| -> Value {
        m.iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect::<Map<_, _>>()
            .into()
    };
    json!({
        "method": req.method, "path": "", "rawQuery": "", "query": list(&req.query),
        "headers": list(&req.headers), "body": req.body, "auth": auth, "ip": req.ip_text(),
        "params": {},
    })
}

/// A record as JavaScript is handed it (see [`record_value`]), with the record as stored before
/// the change (`original`) for an update.
pub(crate) fn record_payload(r: &Record, original: Option<&Record>) -> String {
    let mut v = record_value(r);
    if let Some(o) = original {
        v["original"] = Value::Object(o.to_full_map());
    }
    v.to_string()
}

/// A record for JavaScript: every field (`full`), and its collection's id and version (the
/// runtime keeps collections by both).
pub(crate) fn record_value(r: &Record) -> Value {
    json!({
        "full": Value::Object(r.to_full_map()),
        "collection": { "id": r.collection.id, "key": r.collection.updated },
    })
}

/// What the hooks changed of one record's answer.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Patch {
    /// Keys to leave out.
    pub hide: Vec<String>,
    /// Keys to show with these values (fields set or unhidden, custom data).
    pub set: Map<String, Value>,
}

impl Patch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.hide.is_empty() && self.set.is_empty()
    }

    /// Applies the patch to a record as rendered (keys stay in alphabetical order, as the API
    /// writes them).
    pub fn apply(&self, rendered: &mut Map<String, Value>) {
        for k in &self.hide {
            rendered.remove(k);
        }
        if self.set.is_empty() {
            return;
        }
        for (k, v) in &self.set {
            rendered.insert(k.clone(), v.clone());
        }
        let mut all: Vec<(String, Value)> = std::mem::take(rendered).into_iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        rendered.extend(all);
    }
}

pub(crate) fn patch_of(v: &Value) -> (String, Patch) {
    let hide = v["hide"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let set = v["set"].as_object().cloned().unwrap_or_default();
    (
        v["id"].as_str().unwrap_or_default().to_owned(),
        Patch { hide, set },
    )
}
