//! Subscription topics: `collection`, `collection/*`, `collection/RECORD_ID`, each optionally with
//! `?options={"query":{…},"headers":{…}}`.

use std::collections::HashMap;

use serde_json::Value;

/// One parsed subscription of a client.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The topic exactly as subscribed: the SSE event name of its messages.
    pub raw: std::sync::Arc<str>,
    /// Collection name or id.
    pub collection: String,
    /// A single record's id, or `None` for the whole collection.
    pub record_id: Option<String>,
    /// `options.query`: `expand`, `fields`, and values for `@request.query.*`.
    pub query: HashMap<String, String>,
    /// `options.headers`: values for `@request.headers.*`.
    pub headers: HashMap<String, String>,
    /// A key identifying the options, for caching per-context results.
    pub options_key: std::sync::Arc<str>,
    /// `query` has `expand`: the rendering depends on who looks (related records' rules).
    pub expands: bool,
    /// The hub's count of published events when this topic was subscribed: the events up to it
    /// were published before the subscription existed and are not its own, even when the
    /// dispatcher reaches them later (0: every event is).
    pub since: u64,
}

fn string_map(v: Option<&Value>) -> HashMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => HashMap::new(),
    }
}

impl Subscription {
    /// Parses a topic; `None` for topics Kiln does not deliver record events to (e.g. `@oauth2`).
    pub fn parse(raw: &str) -> Option<Subscription> {
        let (path, options) = match raw.split_once("?options=") {
            Some((p, o)) => (p, Some(o)),
            None => (raw, None),
        };
        if path.is_empty() || path.starts_with('@') {
            return None;
        }
        let (collection, record_id) = match path.split_once('/') {
            Some((c, "*")) => (c, None),
            Some((c, id)) if !id.is_empty() => (c, Some(id.to_owned())),
            Some(_) => return None,
            None => (path, None),
        };
        // The SDK URL-encodes the options JSON; curl users send it raw. Accept both.
        let parsed: Value = options
            .and_then(|o| {
                serde_json::from_str(o)
                    .ok()
                    .or_else(|| serde_json::from_str(&crate::request::percent_decode(o, true)).ok())
            })
            .unwrap_or(Value::Null);
        let query = string_map(parsed.get("query"));
        let headers = string_map(parsed.get("headers"))
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase().replace('-', "_"), v))
            .collect();
        Some(Subscription {
            expands: query.contains_key("expand"),
            raw: raw.into(),
            collection: collection.to_owned(),
            record_id,
            query,
            headers,
            options_key: options.unwrap_or("").into(),
            since: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pocketbase_topics() {
        let s = Subscription::parse("posts/*").unwrap();
        assert_eq!(
            (s.collection.as_str(), s.record_id.as_deref()),
            ("posts", None)
        );
        let s = Subscription::parse("posts").unwrap();
        assert!(s.record_id.is_none());
        let s = Subscription::parse(
            r#"posts/abc?options={"query":{"expand":"author"},"headers":{"X-Token":"t"}}"#,
        )
        .unwrap();
        assert_eq!(s.record_id.as_deref(), Some("abc"));
        assert_eq!(s.query["expand"], "author");
        assert_eq!(s.headers["x_token"], "t");
        let s = Subscription::parse(
            "posts/x?options=%7B%22query%22%3A%7B%22fields%22%3A%22id%22%7D%7D",
        )
        .unwrap();
        assert_eq!(s.query["fields"], "id");
        assert!(Subscription::parse("@oauth2").is_none());
        assert!(Subscription::parse("posts/").is_none());
    }
}
