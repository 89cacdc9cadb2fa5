//! Field definitions: every PocketBase field type with its options, read from and written to JSON
//! exactly as PocketBase 0.40 does (keys in alphabetical order).

use serde_json::{json, Map, Value};

use kiln_db::ColumnKind;

/// One field of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub id: String,
    pub name: String,
    pub system: bool,
    pub hidden: bool,
    pub presentable: bool,
    pub required: bool,
    pub help: String,
    pub kind: FieldKind,
}

/// The type of a field and its type-specific options.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    Text {
        min: i64,
        max: i64,
        pattern: String,
        autogenerate_pattern: String,
        primary_key: bool,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        only_int: bool,
    },
    Bool,
    Email {
        except_domains: Vec<String>,
        only_domains: Vec<String>,
    },
    Url {
        except_domains: Vec<String>,
        only_domains: Vec<String>,
    },
    Editor {
        max_size: i64,
        convert_urls: bool,
    },
    Date {
        min: String,
        max: String,
    },
    Autodate {
        on_create: bool,
        on_update: bool,
    },
    Select {
        values: Vec<String>,
        max_select: i64,
    },
    File {
        max_select: i64,
        max_size: i64,
        mime_types: Vec<String>,
        thumbs: Vec<String>,
        protected: bool,
    },
    Relation {
        collection_id: String,
        cascade_delete: bool,
        min_select: i64,
        max_select: i64,
    },
    Json {
        max_size: i64,
    },
    GeoPoint,
    Password {
        min: i64,
        max: i64,
        pattern: String,
        cost: i64,
    },
}

/// Why a field definition could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatError(pub String);

fn opt_str(o: &Map<String, Value>, k: &str) -> Result<String, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(FormatError(format!("{k} must be a string"))),
    }
}

fn opt_bool(o: &Map<String, Value>, k: &str) -> Result<bool, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FormatError(format!("{k} must be a boolean"))),
    }
}

fn opt_int(o: &Map<String, Value>, k: &str) -> Result<i64, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(f as i64),
                _ => Err(FormatError(format!("{k} must be an integer"))),
            },
        },
        Some(_) => Err(FormatError(format!("{k} must be an integer"))),
    }
}

fn opt_float(o: &Map<String, Value>, k: &str) -> Result<Option<f64>, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(FormatError(format!("{k} must be a number or null"))),
    }
}

fn opt_strings(o: &Map<String, Value>, k: &str) -> Result<Vec<String>, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| FormatError(format!("{k} must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(FormatError(format!("{k} must be a list of strings"))),
    }
}

/// A number as Go's JSON encoder writes it: integers without a fraction.
pub fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// The deterministic id PocketBase gives a field: its type followed by the CRC-32 of its name.
pub fn default_field_id(type_name: &str, name: &str) -> String {
    format!("{type_name}{}", crc32fast::hash(name.as_bytes()))
}

impl FieldKind {
    /// The `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Number { .. } => "number",
            FieldKind::Bool => "bool",
            FieldKind::Email { .. } => "email",
            FieldKind::Url { .. } => "url",
            FieldKind::Editor { .. } => "editor",
            FieldKind::Date { .. } => "date",
            FieldKind::Autodate { .. } => "autodate",
            FieldKind::Select { .. } => "select",
            FieldKind::File { .. } => "file",
            FieldKind::Relation { .. } => "relation",
            FieldKind::Json { .. } => "json",
            FieldKind::GeoPoint => "geoPoint",
            FieldKind::Password { .. } => "password",
        }
    }

    fn from_json(type_name: &str, o: &Map<String, Value>) -> Result<FieldKind, FormatError> {
        Ok(match type_name {
            "text" => FieldKind::Text {
                min: opt_int(o, "min")?,
                max: opt_int(o, "max")?,
                pattern: opt_str(o, "pattern")?,
                autogenerate_pattern: opt_str(o, "autogeneratePattern")?,
                primary_key: opt_bool(o, "primaryKey")?,
            },
            "number" => FieldKind::Number {
                min: opt_float(o, "min")?,
                max: opt_float(o, "max")?,
                only_int: opt_bool(o, "onlyInt")?,
            },
            "bool" => FieldKind::Bool,
            "email" => FieldKind::Email {
                except_domains: opt_strings(o, "exceptDomains")?,
                only_domains: opt_strings(o, "onlyDomains")?,
            },
            "url" => FieldKind::Url {
                except_domains: opt_strings(o, "exceptDomains")?,
                only_domains: opt_strings(o, "onlyDomains")?,
            },
            "editor" => FieldKind::Editor {
                max_size: opt_int(o, "maxSize")?,
                convert_urls: opt_bool(o, "convertURLs")?,
            },
            "date" => FieldKind::Date {
                min: opt_str(o, "min")?,
                max: opt_str(o, "max")?,
            },
            "autodate" => FieldKind::Autodate {
                on_create: opt_bool(o, "onCreate")?,
                on_update: opt_bool(o, "onUpdate")?,
            },
            "select" => FieldKind::Select {
                values: opt_strings(o, "values")?,
                max_select: opt_int(o, "maxSelect")?,
            },
            "file" => FieldKind::File {
                max_select: opt_int(o, "maxSelect")?,
                max_size: opt_int(o, "maxSize")?,
                mime_types: opt_strings(o, "mimeTypes")?,
                thumbs: opt_strings(o, "thumbs")?,
                protected: opt_bool(o, "protected")?,
            },
            "relation" => FieldKind::Relation {
                collection_id: opt_str(o, "collectionId")?,
                cascade_delete: opt_bool(o, "cascadeDelete")?,
                min_select: opt_int(o, "minSelect")?,
                max_select: opt_int(o, "maxSelect")?,
            },
            "json" => FieldKind::Json {
                max_size: opt_int(o, "maxSize")?,
            },
            "geoPoint" => FieldKind::GeoPoint,
            "password" => FieldKind::Password {
                min: opt_int(o, "min")?,
                max: opt_int(o, "max")?,
                pattern: opt_str(o, "pattern")?,
                cost: opt_int(o, "cost")?,
            },
            other => return Err(FormatError(format!("unknown field type {other:?}"))),
        })
    }

    fn write_options(&self, m: &mut Map<String, Value>) {
        match self {
            FieldKind::Text {
                min,
                max,
                pattern,
                autogenerate_pattern,
                primary_key,
            } => {
                m.insert("autogeneratePattern".into(), json!(autogenerate_pattern));
                m.insert("max".into(), json!(max));
                m.insert("min".into(), json!(min));
                m.insert("pattern".into(), json!(pattern));
                m.insert("primaryKey".into(), json!(primary_key));
            }
            FieldKind::Number { min, max, only_int } => {
                m.insert("max".into(), max.map(num).unwrap_or(Value::Null));
                m.insert("min".into(), min.map(num).unwrap_or(Value::Null));
                m.insert("onlyInt".into(), json!(only_int));
            }
            FieldKind::Bool | FieldKind::GeoPoint => {}
            FieldKind::Email {
                except_domains,
                only_domains,
            }
            | FieldKind::Url {
                except_domains,
                only_domains,
            } => {
                m.insert("exceptDomains".into(), json!(except_domains));
                m.insert("onlyDomains".into(), json!(only_domains));
            }
            FieldKind::Editor {
                max_size,
                convert_urls,
            } => {
                m.insert("convertURLs".into(), json!(convert_urls));
                m.insert("maxSize".into(), json!(max_size));
            }
            FieldKind::Date { min, max } => {
                m.insert("max".into(), json!(max));
                m.insert("min".into(), json!(min));
            }
            FieldKind::Autodate {
                on_create,
                on_update,
            } => {
                m.insert("onCreate".into(), json!(on_create));
                m.insert("onUpdate".into(), json!(on_update));
            }
            FieldKind::Select { values, max_select } => {
                m.insert("maxSelect".into(), json!(max_select));
                m.insert("values".into(), json!(values));
            }
            FieldKind::File {
                max_select,
                max_size,
                mime_types,
                thumbs,
                protected,
            } => {
                m.insert("maxSelect".into(), json!(max_select));
                m.insert("maxSize".into(), json!(max_size));
                m.insert("mimeTypes".into(), json!(mime_types));
                m.insert("protected".into(), json!(protected));
                m.insert("thumbs".into(), json!(thumbs));
            }
            FieldKind::Relation {
                collection_id,
                cascade_delete,
                min_select,
                max_select,
            } => {
                m.insert("cascadeDelete".into(), json!(cascade_delete));
                m.insert("collectionId".into(), json!(collection_id));
                m.insert("maxSelect".into(), json!(max_select));
                m.insert("minSelect".into(), json!(min_select));
            }
            FieldKind::Json { max_size } => {
                m.insert("maxSize".into(), json!(max_size));
            }
            FieldKind::Password {
                min,
                max,
                pattern,
                cost,
            } => {
                m.insert("cost".into(), json!(cost));
                m.insert("max".into(), json!(max));
                m.insert("min".into(), json!(min));
                m.insert("pattern".into(), json!(pattern));
            }
        }
    }
}

impl Field {
    /// Reads a field definition. A missing id gets [`default_field_id`]; a missing name is
    /// reported by collection validation, not here.
    pub fn from_json(v: &Value) -> Result<Field, FormatError> {
        let o = v
            .as_object()
            .ok_or_else(|| FormatError("a field must be an object".into()))?;
        let type_name = match o.get("type") {
            Some(Value::String(t)) => t.as_str(),
            _ => return Err(FormatError("a field needs a type".into())),
        };
        let kind = FieldKind::from_json(type_name, o)?;
        let name = opt_str(o, "name")?;
        let mut id = opt_str(o, "id")?;
        if id.is_empty() {
            id = default_field_id(type_name, &name);
        }
        Ok(Field {
            id,
            name,
            system: opt_bool(o, "system")?,
            hidden: opt_bool(o, "hidden")?,
            presentable: opt_bool(o, "presentable")?,
            required: opt_bool(o, "required")?,
            help: opt_str(o, "help")?,
            kind,
        })
    }

    /// The definition as PocketBase writes it.
    pub fn to_json(&self) -> Value {
        // Collect in a sorted map, then move into the order-preserving map in key order.
        let mut m = Map::new();
        self.kind.write_options(&mut m);
        if !matches!(self.kind, FieldKind::Autodate { .. }) {
            m.insert("help".into(), json!(self.help));
            m.insert("required".into(), json!(self.required));
        }
        m.insert("hidden".into(), json!(self.hidden));
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        m.insert("presentable".into(), json!(self.presentable));
        m.insert("system".into(), json!(self.system));
        m.insert("type".into(), json!(self.kind.type_name()));
        let mut entries: Vec<(String, Value)> = m.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(entries.into_iter().collect())
    }

    /// Whether the field holds several values (multi select, relation or file).
    pub fn is_multi(&self) -> bool {
        match &self.kind {
            FieldKind::Select { max_select, .. }
            | FieldKind::File { max_select, .. }
            | FieldKind::Relation { max_select, .. } => *max_select > 1,
            _ => false,
        }
    }

    /// How the field is stored.
    pub fn column_kind(&self) -> ColumnKind {
        match &self.kind {
            FieldKind::Number { .. } => ColumnKind::Number,
            FieldKind::Bool => ColumnKind::Bool,
            FieldKind::Json { .. } => ColumnKind::Json,
            FieldKind::GeoPoint => ColumnKind::GeoPoint,
            FieldKind::Select { .. } | FieldKind::File { .. } | FieldKind::Relation { .. }
                if self.is_multi() =>
            {
                ColumnKind::JsonArray
            }
            _ => ColumnKind::Text,
        }
    }

    /// A text field with the primary key flag: the record id.
    pub fn is_primary_key(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Text {
                primary_key: true,
                ..
            }
        )
    }

    /// The record id field every collection starts with.
    pub fn id_field() -> Field {
        Field {
            id: default_field_id("text", "id"),
            name: "id".into(),
            system: true,
            hidden: false,
            presentable: false,
            required: true,
            help: String::new(),
            kind: FieldKind::Text {
                min: 15,
                max: 15,
                pattern: "^[a-z0-9]+$".into(),
                autogenerate_pattern: "[a-z0-9]{15}".into(),
                primary_key: true,
            },
        }
    }

    /// A plain field with default flags.
    pub fn new(name: &str, kind: FieldKind) -> Field {
        Field {
            id: default_field_id(kind.type_name(), name),
            name: name.into(),
            system: false,
            hidden: false,
            presentable: false,
            required: false,
            help: String::new(),
            kind,
        }
    }

    pub fn system(mut self) -> Self {
        self.system = true;
        self
    }
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_field_serializes_like_pocketbase() {
        let got = serde_json::to_string(&Field::id_field().to_json()).unwrap();
        assert_eq!(
            got,
            r#"{"autogeneratePattern":"[a-z0-9]{15}","help":"","hidden":false,"id":"text3208210256","max":15,"min":15,"name":"id","pattern":"^[a-z0-9]+$","presentable":false,"primaryKey":true,"required":true,"system":true,"type":"text"}"#
        );
    }

    #[test]
    fn number_and_autodate_shapes() {
        let f = Field::from_json(&json!({"name":"views","type":"number","onlyInt":true,"min":0}))
            .unwrap();
        assert_eq!(
            serde_json::to_string(&f.to_json()).unwrap(),
            r#"{"help":"","hidden":false,"id":"number300981383","max":null,"min":0,"name":"views","onlyInt":true,"presentable":false,"required":false,"system":false,"type":"number"}"#
        );
        let f =
            Field::from_json(&json!({"name":"created","type":"autodate","onCreate":true})).unwrap();
        assert_eq!(
            serde_json::to_string(&f.to_json()).unwrap(),
            r#"{"hidden":false,"id":"autodate2990389176","name":"created","onCreate":true,"onUpdate":false,"presentable":false,"system":false,"type":"autodate"}"#
        );
    }

    #[test]
    fn unknown_type_and_bad_options_are_format_errors() {
        assert!(Field::from_json(&json!({"name":"x","type":"nosuchtype"})).is_err());
        assert!(Field::from_json(&json!({"name":"x","type":"text","max":"big"})).is_err());
        assert!(Field::from_json(&json!("x")).is_err());
    }
}
