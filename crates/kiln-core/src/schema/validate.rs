//! Validation of a collection definition against the rest of the schema.

use std::collections::HashSet;

use super::collection::{Collection, CollectionType};
use super::field::{Field, FieldKind};
use super::index::IndexDef;
use super::Schema;
use crate::error::{FieldError, FieldErrors};

/// Names a field may not take: they are record keys of their own.
const RESERVED_FIELD_NAMES: [&str; 3] = ["expand", "collectionId", "collectionName"];

fn err(code: &'static str, message: &str) -> FieldError {
    FieldError::new(code, message)
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks `c` (a new collection, or the new state of `old`) against `schema`; `schema` must
/// already contain `c` so that rules and relations may refer to it. Errors use dotted keys
/// (`fields.2.name`) which the HTTP layer nests.
pub fn validate(schema: &Schema, old: Option<&Collection>, c: &Collection) -> FieldErrors {
    let mut errors = FieldErrors::new();
    check_identity(schema, old, c, &mut errors);
    check_fields(schema, old, c, &mut errors);
    check_rules(schema, c, &mut errors);
    check_indexes(schema, old, c, &mut errors);
    if let Some(a) = &c.auth {
        let before = errors.len();
        check_auth_options(a, &mut errors);
        // as PocketBase: the checks across options only once each option is valid
        if errors.len() == before {
            validate_auth_methods(c, a, &mut errors);
        }
    }
    errors
}

/// The collection's name, type and id (against the other collections, and its old state).
fn check_identity(
    schema: &Schema,
    old: Option<&Collection>,
    c: &Collection,
    errors: &mut FieldErrors,
) {
    if c.name.is_empty() {
        errors.insert("name".into(), FieldError::required());
    } else if !is_name(&c.name) {
        errors.insert(
            "name".into(),
            err("validation_match_invalid", "Must be in a valid format."),
        );
    } else if c.name.starts_with("_kiln") || c.name.to_lowercase().starts_with("sqlite_") {
        errors.insert("name".into(), err("validation_invalid_name", "Invalid collection name - must contain only alphanumeric and underscore characters."));
    } else if schema
        .all()
        .iter()
        .any(|x| x.id != c.id && x.name.eq_ignore_ascii_case(&c.name))
        || c.name.eq_ignore_ascii_case("_collections")
    {
        errors.insert(
            "name".into(),
            err(
                "validation_collection_name_exists",
                "Collection name must be unique (case insensitive).",
            ),
        );
    }
    if let Some(old) = old {
        if old.kind != c.kind {
            errors.insert(
                "type".into(),
                err(
                    "validation_collection_type_change",
                    "Changing the collection type is not allowed.",
                ),
            );
        }
        if old.system && old.name != c.name {
            errors.insert(
                "name".into(),
                err(
                    "validation_collection_system_name_change",
                    "System collection name cannot be changed.",
                ),
            );
        }
    }
    if !c.id.is_empty()
        && (c.id.len() > 100
            || !c
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    {
        errors.insert(
            "id".into(),
            err("validation_invalid_id", "Invalid collection id."),
        );
    }
}

/// The fields of a table collection (a view's are derived from its query, which must be set).
fn check_fields(
    schema: &Schema,
    old: Option<&Collection>,
    c: &Collection,
    errors: &mut FieldErrors,
) {
    if c.kind == CollectionType::View {
        if c.view_query.trim().is_empty() {
            errors.insert("viewQuery".into(), FieldError::required());
        }
        return;
    }
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    for (i, f) in c.fields.iter().enumerate() {
        check_field(schema, old, c, i, f, &mut names, &mut ids, errors);
    }
    match c.fields.iter().find(|f| f.name == "id") {
        Some(f) if f.is_primary_key() => {}
        _ => {
            errors.insert(
                "fields".into(),
                err(
                    "validation_missing_primary_key",
                    "Missing or invalid \"id\" primary key field.",
                ),
            );
        }
    }
    if let Some(old) = old {
        for prev in old.fields.iter().filter(|p| p.system) {
            if !c.fields.iter().any(|f| f.id == prev.id) {
                errors.insert(
                    "fields".into(),
                    err(
                        "validation_system_field_remove",
                        "System fields cannot be removed.",
                    ),
                );
            }
        }
    }
}

/// One field: its name and id among the others, what may not change, its type's options.
#[allow(clippy::too_many_arguments)]
fn check_field(
    schema: &Schema,
    old: Option<&Collection>,
    c: &Collection,
    i: usize,
    f: &Field,
    names: &mut HashSet<String>,
    ids: &mut HashSet<String>,
    errors: &mut FieldErrors,
) {
    let key = |k: &str| format!("fields.{i}.{k}");
    if f.name.is_empty() {
        errors.insert(key("name"), FieldError::required());
    } else if !is_name(&f.name) {
        errors.insert(
            key("name"),
            err(
                "validation_invalid_field_name",
                "Invalid field name - must contain only alphanumeric and underscore characters.",
            ),
        );
    } else if RESERVED_FIELD_NAMES.contains(&f.name.as_str()) {
        errors.insert(
            key("name"),
            err(
                "validation_field_name_reserved",
                "The field name is reserved.",
            ),
        );
    } else if !names.insert(f.name.to_lowercase()) {
        errors.insert(
            key("name"),
            err(
                "validation_duplicated_field_name",
                "Duplicated or invalid field name.",
            ),
        );
    }
    if !ids.insert(f.id.clone()) {
        errors.insert(
            key("id"),
            err("validation_duplicated_field_id", "Duplicated field id."),
        );
    }
    if let Some(prev) = old.and_then(|o| o.fields.iter().find(|p| p.id == f.id)) {
        if prev.kind.type_name() != f.kind.type_name() {
            errors.insert(
                key("type"),
                err(
                    "validation_field_type_change",
                    "The type of an existing field cannot be changed.",
                ),
            );
        }
        if prev.system && (prev.name != f.name) {
            errors.insert(
                key("name"),
                err(
                    "validation_system_field_change",
                    "System fields cannot be renamed.",
                ),
            );
        }
    }
    match &f.kind {
        FieldKind::Relation { collection_id, .. } => match schema
            .by_id(collection_id)
            .or_else(|| schema.get(collection_id))
        {
            None => {
                errors.insert(
                    key("collectionId"),
                    err(
                        "validation_field_invalid_relation",
                        "The relation collection doesn't exist.",
                    ),
                );
            }
            Some(t) if t.is_view() && !c.is_view() => {
                errors.insert(
                    key("collectionId"),
                    err(
                        "validation_field_invalid_relation",
                        "Relations to view collections are not allowed.",
                    ),
                );
            }
            _ => {}
        },
        FieldKind::Select { values, .. } if values.is_empty() => {
            errors.insert(key("values"), FieldError::required());
        }
        FieldKind::Text { pattern, .. } | FieldKind::Password { pattern, .. }
            if !pattern.is_empty() && super::pattern::compile(pattern).is_err() =>
        {
            errors.insert(
                key("pattern"),
                err("validation_invalid_regex", "Invalid regular expression."),
            );
        }
        _ => {}
    }
}

/// Every rule compiles (and a view has no write rules).
fn check_rules(schema: &Schema, c: &Collection, errors: &mut FieldErrors) {
    let rules = [
        ("listRule", &c.list_rule),
        ("viewRule", &c.view_rule),
        ("createRule", &c.create_rule),
        ("updateRule", &c.update_rule),
        ("deleteRule", &c.delete_rule),
    ];
    let auth_rules = c.auth.as_ref().map(|a| {
        [
            ("authRule", a.auth_rule.clone()),
            ("manageRule", a.manage_rule.clone()),
        ]
    });
    let mut all_rules: Vec<(&str, Option<String>)> =
        rules.iter().map(|(k, r)| (*k, (*r).clone())).collect();
    if let Some(extra) = auth_rules {
        all_rules.extend(extra);
    }
    for (key, rule) in all_rules {
        let Some(rule) = rule else { continue };
        if rule.trim().is_empty() {
            continue;
        }
        if c.is_view() && matches!(key, "createRule" | "updateRule" | "deleteRule") {
            errors.insert(
                key.into(),
                err(
                    "validation_nil_rule",
                    "View collections cannot have create, update or delete rules.",
                ),
            );
            continue;
        }
        if let Err(e) = crate::rules::stmt::check_rule(schema, c, &rule) {
            errors.insert(
                key.into(),
                err(
                    "validation_invalid_rule",
                    &format!("Invalid rule. Raw error: {e}."),
                ),
            );
        }
    }
}

/// Every index parses, is on the collection's table and columns, and has a name of its own.
fn check_indexes(
    schema: &Schema,
    old: Option<&Collection>,
    c: &Collection,
    errors: &mut FieldErrors,
) {
    let mut index_names = HashSet::new();
    for (i, raw) in c.indexes.iter().enumerate() {
        let key = format!("indexes.{i}");
        let Some(idx) = IndexDef::parse(raw) else {
            errors.insert(
                key,
                err(
                    "validation_invalid_index_expression",
                    "Invalid CREATE INDEX expression.",
                ),
            );
            continue;
        };
        let table_ok = idx.table.eq_ignore_ascii_case(&c.name)
            || old
                .map(|o| idx.table.eq_ignore_ascii_case(&o.name))
                .unwrap_or(false);
        if !table_ok {
            errors.insert(
                key,
                err(
                    "validation_invalid_index_table",
                    "The index must be on the collection's own table.",
                ),
            );
        } else if !index_names.insert(idx.name.to_lowercase())
            || schema.all().iter().filter(|x| x.id != c.id).any(|x| {
                x.indexes
                    .iter()
                    .filter_map(|r| IndexDef::parse(r))
                    .any(|o| o.name.eq_ignore_ascii_case(&idx.name))
            })
        {
            errors.insert(
                key,
                err(
                    "validation_existing_index_name",
                    "Index name must be unique.",
                ),
            );
        } else if let Some(col) = idx.columns.iter().find(|col| c.field(&col.name).is_none()) {
            errors.insert(
                key,
                err(
                    "validation_invalid_index_column",
                    &format!("Unknown index column {:?}.", col.name),
                ),
            );
        }
    }
}

/// `Must be no less than {min}.` / `Must be no greater than {max}.`, or blank, for a required
/// number (ozzo-validation's wording, as PocketBase sends it).
fn check_range(key: &str, n: i64, min: i64, max: Option<i64>, errors: &mut FieldErrors) {
    let e = if n == 0 {
        FieldError::required()
    } else if n < min {
        FieldError::min(min)
    } else if let Some(max) = max.filter(|m| n > *m) {
        FieldError::max(max)
    } else {
        return;
    };
    errors.insert(key.into(), e);
}

/// Each auth option on its own, as PocketBase's option validators: token secrets and
/// durations, the email templates, OTP and MFA durations, password identity fields.
fn check_auth_options(a: &super::auth_options::AuthOptions, errors: &mut FieldErrors) {
    for (key, t) in [
        ("authToken", &a.auth_token),
        ("passwordResetToken", &a.password_reset_token),
        ("emailChangeToken", &a.email_change_token),
        ("verificationToken", &a.verification_token),
        ("fileToken", &a.file_token),
    ] {
        let len = t.secret.chars().count();
        if len == 0 {
            errors.insert(format!("{key}.secret"), FieldError::required());
        } else if !(30..=255).contains(&len) {
            errors.insert(
                format!("{key}.secret"),
                err(
                    "validation_length_out_of_range",
                    "The length must be between 30 and 255.",
                )
                .with_params(serde_json::json!({ "min": 30, "max": 255 })),
            );
        }
        check_range(
            &format!("{key}.duration"),
            t.duration,
            10,
            Some(94_670_856),
            errors,
        );
    }
    for (key, t) in [
        ("verificationTemplate", &a.verification_template),
        ("resetPasswordTemplate", &a.reset_password_template),
        (
            "confirmEmailChangeTemplate",
            &a.confirm_email_change_template,
        ),
        ("otp.emailTemplate", &a.otp.email_template),
        ("authAlert.emailTemplate", &a.auth_alert.email_template),
    ] {
        if t.subject.is_empty() {
            errors.insert(format!("{key}.subject"), FieldError::required());
        }
        if t.body.is_empty() {
            errors.insert(format!("{key}.body"), FieldError::required());
        }
    }
    if a.otp.enabled {
        check_range("otp.duration", a.otp.duration, 10, Some(86_400), errors);
        check_range("otp.length", a.otp.length, 4, None, errors);
    }
    if a.mfa.enabled {
        check_range("mfa.duration", a.mfa.duration, 10, Some(86_400), errors);
    }
    if a.password_auth.enabled && a.password_auth.identity_fields.is_empty() {
        errors.insert("passwordAuth.identityFields".into(), FieldError::required());
    }
}

/// OAuth2 providers (known names, credentials, no duplicates), MFA (needs two methods) and the
/// password identity fields (each a field with a one-column UNIQUE index).
fn validate_auth_methods(
    c: &Collection,
    a: &super::auth_options::AuthOptions,
    errors: &mut FieldErrors,
) {
    if a.password_auth.enabled {
        for name in &a.password_auth.identity_fields {
            let e = if c.field(name).is_none() {
                err(
                    "validation_missing_field",
                    &format!("Invalid or missing field {name}."),
                )
                .with_params(serde_json::json!({ "fieldName": name }))
            } else if !c
                .indexes
                .iter()
                .filter_map(|r| IndexDef::parse(r))
                .any(|i| {
                    i.unique && i.columns.len() == 1 && i.columns[0].name.eq_ignore_ascii_case(name)
                })
            {
                err(
                    "validation_missing_unique_constraint",
                    &format!("The field {name} doesn't have a UNIQUE constraint."),
                )
                .with_params(serde_json::json!({ "fieldName": name }))
            } else {
                continue;
            };
            errors.insert("passwordAuth.identityFields".into(), e);
            break;
        }
    }
    if a.oauth2.enabled {
        for (i, p) in a.oauth2.providers.iter().enumerate() {
            let key = |f: &str| format!("oauth2.providers.{i}.{f}");
            if kiln_oauth2::preset(&p.name).is_none() {
                errors.insert(
                    key("name"),
                    err(
                        "validation_missing_provider",
                        &format!("Invalid or missing provider with name {}.", p.name),
                    ),
                );
            } else if a.oauth2.providers[..i].iter().any(|o| o.name == p.name) {
                errors.insert(
                    key("name"),
                    err(
                        "validation_duplicated_provider",
                        &format!("The provider {} is already registered.", p.name),
                    ),
                );
            }
            if p.client_id.is_empty() {
                errors.insert(key("clientId"), FieldError::required());
            }
            if p.client_secret.is_empty() {
                errors.insert(key("clientSecret"), FieldError::required());
            }
        }
    }
    let methods = [a.password_auth.enabled, a.oauth2.enabled, a.otp.enabled]
        .iter()
        .filter(|on| **on)
        .count();
    if a.mfa.enabled && methods < 2 {
        errors.insert(
            "mfa.enabled".into(),
            err(
                "validation_mfa_not_enough_auths",
                "MFA requires at least 2 auth methods to be enabled.",
            ),
        );
    }
}
