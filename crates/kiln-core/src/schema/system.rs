//! The collections every Kiln app starts with, and where collection definitions are stored.

use serde_json::{json, Map, Value};

use kiln_db::{Conn, Value as DbValue};

use super::collection::{default_collection_id, Collection, CollectionType};
use super::field::{Field, FieldKind};
use crate::error::Result;

/// Name of the table holding collection definitions.
pub const COLLECTIONS_TABLE: &str = "_collections";
/// Name of the passkeys collection (Kiln's addition to PocketBase's system collections).
pub const PASSKEYS: &str = "_passkeys";
/// Name of the built-in superusers collection.
pub const SUPERUSERS: &str = "_superusers";

/// Creates the `_collections` table if missing.
pub fn ensure_collections_table(conn: &Conn<'_>) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS \"_collections\" (
            \"id\" TEXT PRIMARY KEY NOT NULL,
            \"system\" BOOLEAN DEFAULT FALSE NOT NULL,
            \"type\" TEXT DEFAULT 'base' NOT NULL,
            \"name\" TEXT UNIQUE NOT NULL,
            \"fields\" JSON DEFAULT '[]' NOT NULL,
            \"indexes\" JSON DEFAULT '[]' NOT NULL,
            \"listRule\" TEXT DEFAULT NULL,
            \"viewRule\" TEXT DEFAULT NULL,
            \"createRule\" TEXT DEFAULT NULL,
            \"updateRule\" TEXT DEFAULT NULL,
            \"deleteRule\" TEXT DEFAULT NULL,
            \"options\" JSON DEFAULT '{}' NOT NULL,
            \"created\" TEXT DEFAULT '' NOT NULL,
            \"updated\" TEXT DEFAULT '' NOT NULL
        )",
    )?;
    Ok(())
}

/// Reads every stored collection definition.
pub fn load_all(conn: &Conn<'_>) -> Result<Vec<Collection>> {
    let mut out = Vec::new();
    conn.query(
        "SELECT id, system, type, name, fields, indexes, \"listRule\", \"viewRule\", \"createRule\", \"updateRule\", \"deleteRule\", options, created, updated FROM _collections",
        &[],
        |r| {
            let text_or_null = |i: usize| match r.get(i) {
                kiln_db::ValueRef::Null => Value::Null,
                v => Value::String(v.as_str().to_owned()),
            };
            let mut o: Map<String, Value> = match serde_json::from_str(r.get(11).as_str()) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            o.insert("id".into(), json!(r.text(0)));
            o.insert("system".into(), json!(r.get(1).as_bool()));
            o.insert("type".into(), json!(r.text(2)));
            o.insert("name".into(), json!(r.text(3)));
            o.insert("fields".into(), serde_json::from_str(r.get(4).as_str()).unwrap_or(json!([])));
            o.insert("indexes".into(), serde_json::from_str(r.get(5).as_str()).unwrap_or(json!([])));
            for (i, k) in [(6, "listRule"), (7, "viewRule"), (8, "createRule"), (9, "updateRule"), (10, "deleteRule")] {
                o.insert(k.into(), text_or_null(i));
            }
            o.insert("created".into(), json!(r.text(12)));
            o.insert("updated".into(), json!(r.text(13)));
            let c = Collection::from_json(&Value::Object(o))
                .map_err(|e| kiln_db::DbError::Corrupt(format!("collection {}: {}", r.text(3), e.0)))?;
            out.push(c);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Inserts or replaces a collection definition.
pub fn save(conn: &Conn<'_>, c: &Collection) -> Result<()> {
    let full = c.to_json(true);
    let mut options = Map::new();
    if let Value::Object(m) = &full {
        const BASE_KEYS: [&str; 13] = [
            "id",
            "listRule",
            "viewRule",
            "createRule",
            "updateRule",
            "deleteRule",
            "name",
            "type",
            "fields",
            "indexes",
            "created",
            "updated",
            "system",
        ];
        for (k, v) in m {
            if !BASE_KEYS.contains(&k.as_str()) {
                options.insert(k.clone(), v.clone());
            }
        }
    }
    let rule = |r: &Option<String>| r.clone().map(DbValue::Text).unwrap_or(DbValue::Null);
    conn.execute(
        "INSERT INTO _collections (id, system, type, name, fields, indexes, \"listRule\", \"viewRule\", \"createRule\", \"updateRule\", \"deleteRule\", options, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET system = excluded.system, type = excluded.type, name = excluded.name,
           fields = excluded.fields, indexes = excluded.indexes, \"listRule\" = excluded.\"listRule\",
           \"viewRule\" = excluded.\"viewRule\", \"createRule\" = excluded.\"createRule\",
           \"updateRule\" = excluded.\"updateRule\", \"deleteRule\" = excluded.\"deleteRule\",
           options = excluded.options, created = excluded.created, updated = excluded.updated",
        &[
            c.id.clone().into(),
            c.system.into(),
            c.kind.as_str().into(),
            c.name.clone().into(),
            full["fields"].to_string().into(),
            full["indexes"].to_string().into(),
            rule(&c.list_rule),
            rule(&c.view_rule),
            rule(&c.create_rule),
            rule(&c.update_rule),
            rule(&c.delete_rule),
            Value::Object(options).to_string().into(),
            c.created.clone().into(),
            c.updated.clone().into(),
        ],
    )?;
    Ok(())
}

/// Removes a collection definition.
pub fn remove(conn: &Conn<'_>, id: &str) -> Result<()> {
    conn.execute("DELETE FROM _collections WHERE id = ?1", &[id.into()])?;
    Ok(())
}

fn text(name: &str) -> Field {
    Field::new(
        name,
        FieldKind::Text {
            min: 0,
            max: 0,
            pattern: String::new(),
            autogenerate_pattern: String::new(),
            primary_key: false,
        },
    )
}

fn autodates(system: bool) -> [Field; 2] {
    let mut c = Field::new(
        "created",
        FieldKind::Autodate {
            on_create: true,
            on_update: false,
        },
    );
    let mut u = Field::new(
        "updated",
        FieldKind::Autodate {
            on_create: true,
            on_update: true,
        },
    );
    c.system = system;
    u.system = system;
    [c, u]
}

fn system_base(name: &str, extra: Vec<Field>, indexes: Vec<String>, deletable: bool) -> Collection {
    let owner = "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId";
    let mut c = Collection::scaffold(CollectionType::Base);
    c.name = name.into();
    c.id = default_collection_id(CollectionType::Base, name);
    c.system = true;
    c.list_rule = Some(owner.into());
    c.view_rule = Some(owner.into());
    if deletable {
        c.delete_rule = Some(owner.into());
    }
    c.fields.push(text("collectionRef").system().required());
    c.fields.push(text("recordRef").system().required());
    c.fields.extend(extra);
    c.fields.extend(autodates(true));
    c.indexes = indexes;
    c
}

/// The collections of a new app, in creation order.
pub fn initial_collections() -> Vec<Collection> {
    let mfas = system_base(
        "_mfas",
        vec![text("method").system().required()],
        vec![
            "CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (collectionRef,recordRef)"
                .into(),
        ],
        false,
    );
    let otps = system_base(
        "_otps",
        vec![
            Field::new(
                "password",
                FieldKind::Password {
                    min: 0,
                    max: 0,
                    pattern: String::new(),
                    cost: 8,
                },
            )
            .system()
            .hidden()
            .required(),
            text("sentTo").system().hidden(),
        ],
        vec![
            "CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (collectionRef, recordRef)"
                .into(),
        ],
        false,
    );
    let external = system_base(
        "_externalAuths",
        vec![text("provider").system().required(), text("providerId").system().required()],
        vec![
            "CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider)".into(),
            "CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId)".into(),
        ],
        true,
    );
    let origins = system_base(
        "_authOrigins",
        vec![text("fingerprint").system().required()],
        vec!["CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (collectionRef, recordRef, fingerprint)".into()],
        true,
    );

    // Kiln's addition: WebAuthn credentials. Owners list, view and delete their own through
    // the records API; only the passkey endpoints (as the system) create and update them.
    let mut credential_id = text("credentialId").system().required();
    let mut passkey_name = text("name").system();
    for f in [&mut credential_id, &mut passkey_name] {
        if let FieldKind::Text { max, .. } = &mut f.kind {
            *max = if f.name == "name" { 100 } else { 1400 };
        }
    }
    let number = |name: &str| {
        Field::new(
            name,
            FieldKind::Number {
                min: None,
                max: None,
                only_int: true,
            },
        )
        .system()
        .hidden()
    };
    let passkeys = system_base(
        PASSKEYS,
        vec![
            credential_id,
            text("publicKey").system().hidden().required(),
            number("algorithm"),
            number("signCount"),
            text("aaguid").system().hidden(),
            passkey_name,
        ],
        vec![
            "CREATE UNIQUE INDEX `idx_passkeys_credentialId` ON `_passkeys` (credentialId)".into(),
            "CREATE INDEX `idx_passkeys_collectionRef_recordRef` ON `_passkeys` (collectionRef, recordRef)".into(),
        ],
        true,
    );

    let mut su = Collection::scaffold(CollectionType::Auth);
    su.name = SUPERUSERS.into();
    su.id = default_collection_id(CollectionType::Auth, SUPERUSERS);
    su.system = true;
    su.fields.extend(autodates(true));
    if let Some(a) = su.auth.as_mut() {
        a.auth_token.duration = 86_400;
    }
    su.ensure_auth_indexes();

    let mut users = Collection::scaffold(CollectionType::Auth);
    users.name = "users".into();
    users.id = "_pb_users_auth_".into();
    let own = Some("id = @request.auth.id".to_string());
    users.list_rule = own.clone();
    users.view_rule = own.clone();
    users.create_rule = Some(String::new());
    users.update_rule = own.clone();
    users.delete_rule = own;
    let mut name = text("name");
    if let FieldKind::Text { max, .. } = &mut name.kind {
        *max = 255;
    }
    users.fields.push(name);
    users.fields.push(Field::new(
        "avatar",
        FieldKind::File {
            max_select: 1,
            max_size: 0,
            mime_types: [
                "image/jpeg",
                "image/png",
                "image/svg+xml",
                "image/gif",
                "image/webp",
            ]
            .map(String::from)
            .to_vec(),
            thumbs: vec![],
            protected: false,
        },
    ));
    users.fields.extend(autodates(false));
    if let Some(a) = users.auth.as_mut() {
        a.oauth2.mapped_fields.name = "name".into();
        a.oauth2.mapped_fields.avatar_url = "avatar".into();
    }
    users.ensure_auth_indexes();

    vec![mfas, otps, external, origins, passkeys, su, users]
}
