//! A record in memory: the values of its collection's fields, and its JSON form.

use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_db::{Dialect, Row, Value as DbValue, ValueRef};

use crate::schema::collection::Collection;
use crate::schema::field::num;
use crate::schema::field::{Field, FieldKind};
use crate::schema::plan::OutSource;
use kiln_db::ColumnKind;

/// One record: `values[i]` belongs to `collection.fields[i]`.
#[derive(Debug, Clone)]
pub struct Record {
    pub collection: Arc<Collection>,
    pub values: Vec<Value>,
    /// Expanded relations, keyed by relation (or back-relation) name.
    pub expand: Option<Map<String, Value>>,
}

/// Who is looking at a record, for the parts of its JSON that depend on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Viewer<'a> {
    pub superuser: bool,
    /// The authenticated record's collection id and id.
    pub auth: Option<(&'a str, &'a str)>,
}

/// Reads a stored column value as the field's JSON value.
pub fn column_to_json(f: &Field, v: ValueRef<'_>) -> Value {
    match f.column_kind() {
        ColumnKind::Number => num(v.as_f64()),
        ColumnKind::Bool => Value::Bool(v.as_bool()),
        ColumnKind::Json => match v {
            ValueRef::Null => Value::Null,
            ValueRef::Text(s) => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
            }
            ValueRef::Int(i) => Value::from(i),
            ValueRef::Float(x) => num(x),
            ValueRef::Blob(_) => Value::Null,
        },
        ColumnKind::JsonArray => match v {
            ValueRef::Text(s) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(a)) => Value::Array(a),
                _ if s.is_empty() => Value::Array(vec![]),
                _ => Value::Array(vec![Value::String(s.to_owned())]),
            },
            _ => Value::Array(vec![]),
        },
        ColumnKind::GeoPoint => {
            let parsed = match v {
                ValueRef::Text(s) => serde_json::from_str::<Value>(s).ok(),
                _ => None,
            };
            let (lon, lat) = match &parsed {
                Some(Value::Object(o)) => (
                    o.get("lon").and_then(Value::as_f64).unwrap_or(0.0),
                    o.get("lat").and_then(Value::as_f64).unwrap_or(0.0),
                ),
                _ => (0.0, 0.0),
            };
            geo_point(lon, lat)
        }
        ColumnKind::Text => match v {
            ValueRef::Text(s) => Value::String(s.to_owned()),
            ValueRef::Null => Value::String(String::new()),
            ValueRef::Int(i) => Value::String(i.to_string()),
            ValueRef::Float(x) => Value::String(x.to_string()),
            ValueRef::Blob(_) => Value::String(String::new()),
        },
    }
}

/// Writes a JSON string.
/// `s` as a JSON string, byte for byte as serde_json writes it. Most text has nothing to escape:
/// that is checked eight bytes at a time and copied whole, where serde_json looks up every byte
/// (13 % of a list page's instructions, callgrind).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        let _ = serde_json::to_writer(&mut *out, s);
        return;
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether `b` has a byte JSON escapes: a control character (below 0x20), `"` or `\`.
fn needs_escape(b: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // the high bit of a byte of the result is set for a byte of `x` under `n` (exact for
    // "some byte is": bytes of 0x80 and up never count)
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let hit = |word: [u8; 8]| {
        let x = u64::from_ne_bytes(word);
        below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            != 0
    };
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        if hit(word) {
            return true;
        }
    }
    let rest = chunks.remainder();
    // the tail padded with spaces, which need no escape
    let mut word = [b' '; 8];
    word[..rest.len()].copy_from_slice(rest);
    hit(word)
}

/// A geoPoint value with PocketBase's key order.
pub fn geo_point(lon: f64, lat: f64) -> Value {
    let mut m = Map::new();
    m.insert("lon".into(), num(lon));
    m.insert("lat".into(), num(lat));
    Value::Object(m)
}

/// Converts a field's JSON value to what is stored in its column.
pub fn json_to_column(f: &Field, v: &Value) -> DbValue {
    match f.column_kind() {
        ColumnKind::Number => {
            let x = v.as_f64().unwrap_or(0.0);
            if x.fract() == 0.0 && x.abs() < 9e15 {
                DbValue::Int(x as i64)
            } else {
                DbValue::Float(x)
            }
        }
        ColumnKind::Bool => DbValue::Int(v.as_bool().unwrap_or(false) as i64),
        ColumnKind::Json => match v {
            Value::Null => DbValue::Null,
            other => DbValue::Text(other.to_string()),
        },
        ColumnKind::JsonArray | ColumnKind::GeoPoint => DbValue::Text(v.to_string()),
        ColumnKind::Text => match v {
            Value::String(s) => DbValue::Text(s.clone()),
            Value::Null => DbValue::Text(String::new()),
            other => DbValue::Text(other.to_string()),
        },
    }
}

/// The empty value of a field, as a new record holds it.
pub fn zero_value(f: &Field) -> Value {
    match f.column_kind() {
        ColumnKind::Number => Value::from(0),
        ColumnKind::Bool => Value::Bool(false),
        ColumnKind::Json => Value::Null,
        ColumnKind::JsonArray => Value::Array(vec![]),
        ColumnKind::GeoPoint => geo_point(0.0, 0.0),
        ColumnKind::Text => Value::String(String::new()),
    }
}

impl Record {
    /// A new record with every field empty.
    pub fn new(collection: Arc<Collection>) -> Record {
        let values = collection.fields.iter().map(zero_value).collect();
        Record {
            collection,
            values,
            expand: None,
        }
    }

    /// Reads a row selected with the collection plan's column list.
    pub fn from_row(collection: &Arc<Collection>, row: &Row<'_, '_>) -> Record {
        let values = collection
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| column_to_json(f, row.get(i)))
            .collect();
        Record {
            collection: collection.clone(),
            values,
            expand: None,
        }
    }

    pub fn id(&self) -> &str {
        self.get_str("id")
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.collection.field_index(name).map(|i| &self.values[i])
    }

    pub fn get_str(&self, name: &str) -> &str {
        self.get(name).and_then(Value::as_str).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, v: Value) {
        if let Some(i) = self.collection.field_index(name) {
            self.values[i] = v;
        }
    }

    /// Column values for an INSERT or UPDATE, in field order.
    pub fn column_values(&self) -> Vec<DbValue> {
        self.collection
            .fields
            .iter()
            .zip(&self.values)
            .map(|(f, v)| json_to_column(f, v))
            .collect()
    }

    /// Every field's value, hidden ones included (for rules and hooks, never for output).
    pub fn to_full_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(
            "collectionId".into(),
            Value::String(self.collection.id.clone()),
        );
        m.insert(
            "collectionName".into(),
            Value::String(self.collection.name.clone()),
        );
        for (f, v) in self.collection.fields.iter().zip(&self.values) {
            m.insert(f.name.clone(), v.clone());
        }
        m
    }

    /// The record as the API shows it to `viewer`: keys in alphabetical order, hidden fields left
    /// out, `email` of an auth record only when visible to this viewer.
    pub fn to_json(&self, d: Dialect, viewer: &Viewer<'_>) -> Value {
        let c = &self.collection;
        let plan = c.plan(d);
        let hide_email = c.is_auth() && !self.email_visible_to(viewer);
        let mut m = Map::with_capacity(plan.output.len());
        for out in &plan.output {
            if out.superuser_only && !viewer.superuser {
                continue;
            }
            let v = match out.source {
                OutSource::Field(i) => {
                    if hide_email && out.name == "email" {
                        continue;
                    }
                    self.values[i].clone()
                }
                OutSource::CollectionId => Value::String(c.id.clone()),
                OutSource::CollectionName => Value::String(c.name.clone()),
                OutSource::Expand => match &self.expand {
                    Some(e) => Value::Object(e.clone()),
                    None => continue,
                },
            };
            m.insert(out.name.clone(), v);
        }
        Value::Object(m)
    }

    /// Writes [`Record::to_json`]'s output straight to `out`, without building a JSON tree (the
    /// hot path of every read).
    pub fn write_json(&self, out: &mut Vec<u8>, d: Dialect, viewer: &Viewer<'_>) {
        let c = &self.collection;
        let plan = c.plan(d);
        let hide_email = c.is_auth() && !self.email_visible_to(viewer);
        let mut first = true;
        let mut key = |out: &mut Vec<u8>, k: &[u8]| {
            out.push(if first { b'{' } else { b',' });
            first = false;
            out.extend_from_slice(k);
        };
        for o in &plan.output {
            if o.superuser_only && !viewer.superuser {
                continue;
            }
            let k = &o.json;
            match o.source {
                OutSource::Field(i) => {
                    if hide_email && o.name == "email" {
                        continue;
                    }
                    key(out, k);
                    match &self.values[i] {
                        Value::String(s) => write_str(out, s),
                        v => {
                            let _ = serde_json::to_writer(&mut *out, v);
                        }
                    }
                }
                OutSource::CollectionId => {
                    key(out, k);
                    out.extend_from_slice(&plan.id_json);
                }
                OutSource::CollectionName => {
                    key(out, k);
                    out.extend_from_slice(&plan.name_json);
                }
                OutSource::Expand => {
                    if let Some(e) = &self.expand {
                        key(out, k);
                        let _ = serde_json::to_writer(&mut *out, e);
                    }
                }
            }
        }
        if first {
            out.push(b'{');
        }
        out.push(b'}');
    }

    fn email_visible_to(&self, viewer: &Viewer<'_>) -> bool {
        if viewer.superuser
            || self
                .get("emailVisibility")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        {
            return true;
        }
        matches!(viewer.auth, Some((cid, id)) if cid == self.collection.id && id == self.id())
    }

    /// Whether the field `name` is a file, relation or select field with several values.
    pub fn is_multi(&self, name: &str) -> bool {
        self.collection
            .field(name)
            .map(|f| f.is_multi())
            .unwrap_or(false)
    }
}

/// Ids held by a relation field value (one string or a list).
pub fn relation_ids(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) if !s.is_empty() => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .collect(),
        _ => vec![],
    }
}

/// Whether a field is a relation.
pub fn is_relation(f: &Field) -> bool {
    matches!(f.kind, FieldKind::Relation { .. })
}

#[cfg(test)]
mod tests {

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "plain text of some length".into(),
            "quote \" inside".into(),
            "back\\slash at 9th".into(),
            "tab\there".into(),
            "\u{1}".into(),
            "\u{7f}\u{80}é漢字🙂 <b>&amp;</b>".into(),
            "\u{2028}\u{2029}".into(),
        ];
        // every byte that matters at every position of a 1..=17-byte string
        for len in 1..=17 {
            for at in 0..len {
                for c in ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '\u{7f}', 'é'] {
                    let mut t: Vec<char> = "abcdefghijklmnopq".chars().take(len).collect();
                    t[at] = c;
                    cases.push(t.into_iter().collect());
                }
            }
        }
        for s in cases {
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
        }
    }

    use super::*;
    use crate::schema::collection::{Collection, CollectionType};

    #[test]
    fn byte_writer_matches_the_json_tree() {
        let mut c = Collection::scaffold(CollectionType::Auth);
        c.id = "c1".into();
        c.name = "people".into();
        c.fields.push(Field::new(
            "score",
            FieldKind::Number {
                min: None,
                max: None,
                only_int: false,
            },
        ));
        c.fields.push(
            Field::new(
                "secret",
                FieldKind::Text {
                    min: 0,
                    max: 0,
                    pattern: String::new(),
                    autogenerate_pattern: String::new(),
                    primary_key: false,
                },
            )
            .hidden(),
        );
        let c = Arc::new(c);
        let mut r = Record::new(c);
        r.set("id", Value::from("abc"));
        r.set("email", Value::from("a\"b@example.com"));
        r.set("score", Value::from(1.5));
        r.set("secret", Value::from("hidden"));
        for viewer in [
            Viewer::default(),
            Viewer {
                superuser: true,
                auth: None,
            },
        ] {
            for expand in [
                None,
                Some(
                    serde_json::json!({"x": {"y": [1, 2]}})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            ] {
                r.expand = expand;
                let mut out = Vec::new();
                r.write_json(&mut out, Dialect::Sqlite, &viewer);
                assert_eq!(
                    out,
                    serde_json::to_vec(&r.to_json(Dialect::Sqlite, &viewer)).unwrap()
                );
                let text = String::from_utf8(out).unwrap();
                assert!(!text.contains("password") && !text.contains("tokenKey"));
                // Hidden custom fields are for superusers only (PocketBase 0.40).
                assert_eq!(text.contains("\"secret\":\"hidden\""), viewer.superuser);
                assert_eq!(text.contains("a\\\"b@example.com"), viewer.superuser);
            }
        }
    }
}
