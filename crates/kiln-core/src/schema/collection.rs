//! Collection definitions and their JSON form.

use serde_json::{json, Map, Value};

use super::auth_options::AuthOptions;
use super::field::{Field, FieldKind, FormatError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionType {
    Base,
    Auth,
    View,
}

impl CollectionType {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionType::Base => "base",
            CollectionType::Auth => "auth",
            CollectionType::View => "view",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "base" | "" => Some(CollectionType::Base),
            "auth" => Some(CollectionType::Auth),
            "view" => Some(CollectionType::View),
            _ => None,
        }
    }
}

/// A collection: a table (or view) with typed fields, API rules and options.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub id: String,
    pub name: String,
    pub kind: CollectionType,
    pub system: bool,
    pub list_rule: Option<String>,
    pub view_rule: Option<String>,
    pub create_rule: Option<String>,
    pub update_rule: Option<String>,
    pub delete_rule: Option<String>,
    pub fields: Vec<Field>,
    pub indexes: Vec<String>,
    pub created: String,
    pub updated: String,
    /// The SELECT of a view collection.
    pub view_query: String,
    /// Present exactly for auth collections.
    pub auth: Option<AuthOptions>,
    /// Derived SQL and output order, computed on first use.
    pub plan: Lazy<super::plan::Plan>,
}

/// A value computed once from an immutable definition; ignored by equality and debug output.
/// A clone starts empty, so a modified copy of a collection never sees a stale value.
pub struct Lazy<T>(std::sync::OnceLock<std::sync::Arc<T>>);

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy(std::sync::OnceLock::new())
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy::default()
    }
}

impl<T> Lazy<T> {
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &std::sync::Arc<T> {
        self.0.get_or_init(|| std::sync::Arc::new(f()))
    }
}

impl<T> PartialEq for Lazy<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> std::fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lazy")
    }
}

/// The id PocketBase gives a new collection: `pbc_` and the CRC-32 of its type and name.
pub fn default_collection_id(kind: CollectionType, name: &str) -> String {
    format!(
        "pbc_{}",
        crc32fast::hash(format!("{}{}", kind.as_str(), name).as_bytes())
    )
}

fn rule(o: &Map<String, Value>, k: &str) -> Result<Option<String>, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(FormatError(format!("{k} must be a string or null"))),
    }
}

fn string(o: &Map<String, Value>, k: &str) -> Result<String, FormatError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(FormatError(format!("{k} must be a string"))),
    }
}

impl Collection {
    /// An empty collection of the given type (PocketBase's scaffold).
    pub fn scaffold(kind: CollectionType) -> Collection {
        let mut c = Collection {
            id: String::new(),
            name: String::new(),
            kind,
            system: false,
            list_rule: None,
            view_rule: None,
            create_rule: None,
            update_rule: None,
            delete_rule: None,
            fields: if kind == CollectionType::View {
                vec![]
            } else {
                vec![Field::id_field()]
            },
            indexes: vec![],
            created: String::new(),
            updated: String::new(),
            view_query: String::new(),
            auth: None,
            plan: Lazy::default(),
        };
        if kind == CollectionType::Auth {
            c.auth = Some(AuthOptions::default());
            c.ensure_auth_fields();
        }
        c
    }

    /// Reads a collection definition. Options of the other collection types are ignored.
    pub fn from_json(v: &Value) -> Result<Collection, FormatError> {
        let o = v
            .as_object()
            .ok_or_else(|| FormatError("a collection must be an object".into()))?;
        let kind = match o.get("type") {
            None | Some(Value::Null) => CollectionType::Base,
            Some(Value::String(s)) => CollectionType::parse(s)
                .ok_or_else(|| FormatError(format!("unknown collection type {s:?}")))?,
            Some(_) => return Err(FormatError("type must be a string".into())),
        };
        let fields = match o.get("fields") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items
                .iter()
                .map(Field::from_json)
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(FormatError("fields must be a list".into())),
        };
        let indexes = match o.get("indexes") {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| FormatError("indexes must be strings".into()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(FormatError("indexes must be a list".into())),
        };
        let auth = if kind == CollectionType::Auth {
            let mut auth: AuthOptions = serde_json::from_value(Value::Object(o.clone()))
                .map_err(|e| FormatError(format!("invalid auth options: {e}")))?;
            auth.ensure_secrets();
            Some(auth)
        } else {
            None
        };
        Ok(Collection {
            id: string(o, "id")?,
            name: string(o, "name")?,
            kind,
            system: matches!(o.get("system"), Some(Value::Bool(true))),
            list_rule: rule(o, "listRule")?,
            view_rule: rule(o, "viewRule")?,
            create_rule: rule(o, "createRule")?,
            update_rule: rule(o, "updateRule")?,
            delete_rule: rule(o, "deleteRule")?,
            fields,
            indexes,
            created: string(o, "created")?,
            updated: string(o, "updated")?,
            view_query: if kind == CollectionType::View {
                string(o, "viewQuery")?
            } else {
                String::new()
            },
            auth,
            plan: Lazy::default(),
        })
    }

    /// The collection as the API shows it (`with_secrets = false`) or as it is stored.
    pub fn to_json(&self, with_secrets: bool) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("listRule".into(), json!(self.list_rule));
        m.insert("viewRule".into(), json!(self.view_rule));
        m.insert("createRule".into(), json!(self.create_rule));
        m.insert("updateRule".into(), json!(self.update_rule));
        m.insert("deleteRule".into(), json!(self.delete_rule));
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.kind.as_str()));
        m.insert(
            "fields".into(),
            Value::Array(self.fields.iter().map(Field::to_json).collect()),
        );
        m.insert("indexes".into(), json!(self.indexes));
        m.insert("created".into(), json!(self.created));
        m.insert("updated".into(), json!(self.updated));
        m.insert("system".into(), json!(self.system));
        if self.kind == CollectionType::View {
            m.insert("viewQuery".into(), json!(self.view_query));
        }
        if let Some(auth) = &self.auth {
            let mut a = auth.clone();
            if !with_secrets {
                for t in [
                    &mut a.auth_token,
                    &mut a.password_reset_token,
                    &mut a.email_change_token,
                    &mut a.verification_token,
                    &mut a.file_token,
                ] {
                    t.secret.clear();
                }
                for p in &mut a.oauth2.providers {
                    p.client_secret.clear();
                }
            }
            if let Ok(Value::Object(extra)) = serde_json::to_value(&a) {
                m.extend(extra);
            }
        }
        Value::Object(m)
    }

    pub fn is_auth(&self) -> bool {
        self.kind == CollectionType::Auth
    }

    pub fn is_view(&self) -> bool {
        self.kind == CollectionType::View
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Adds the system fields an auth collection must have, keeping any already defined.
    pub fn ensure_auth_fields(&mut self) {
        let required: [Field; 6] = [
            Field::id_field(),
            Field::new(
                "password",
                FieldKind::Password {
                    min: 8,
                    max: 0,
                    pattern: String::new(),
                    cost: 0,
                },
            )
            .system()
            .hidden()
            .required(),
            Field::new(
                "tokenKey",
                FieldKind::Text {
                    min: 30,
                    max: 60,
                    pattern: String::new(),
                    autogenerate_pattern: "[a-zA-Z0-9]{50}".into(),
                    primary_key: false,
                },
            )
            .system()
            .hidden()
            .required(),
            Field::new(
                "email",
                FieldKind::Email {
                    except_domains: vec![],
                    only_domains: vec![],
                },
            )
            .system()
            .required(),
            Field::new("emailVisibility", FieldKind::Bool).system(),
            Field::new("verified", FieldKind::Bool).system(),
        ];
        // PocketBase keeps the submitted order: the id first, missing system fields at the end.
        for f in required {
            if self.fields.iter().any(|x| x.name == f.name) {
                continue;
            }
            if f.name == "id" {
                self.fields.insert(0, f);
            } else {
                self.fields.push(f);
            }
        }
    }

    /// The indexes every auth collection has on `tokenKey` and `email`.
    pub fn ensure_auth_indexes(&mut self) {
        let token_idx = format!(
            "CREATE UNIQUE INDEX `idx_tokenKey_{}` ON `{}` (`tokenKey`)",
            self.id, self.name
        );
        let email_idx = format!(
            "CREATE UNIQUE INDEX `idx_email_{}` ON `{}` (`email`) WHERE `email` != ''",
            self.id, self.name
        );
        let has = |indexes: &[String], needle: &str| indexes.iter().any(|i| i.contains(needle));
        if !has(&self.indexes, &format!("idx_tokenKey_{}", self.id)) {
            self.indexes.push(token_idx);
        }
        if !has(&self.indexes, &format!("idx_email_{}", self.id)) {
            self.indexes.push(email_idx);
        }
    }
}

impl Collection {
    /// The derived plan of this collection for dialect `d`.
    pub fn plan(&self, d: kiln_db::Dialect) -> &std::sync::Arc<super::plan::Plan> {
        self.plan
            .get_or_init(|| super::plan::Plan::new(&self.id, &self.name, &self.fields, d))
    }
}
