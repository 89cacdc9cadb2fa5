//! The GraphQL schema one class of caller sees, built from the collections: per collection a
//! record type (with its relations under `expand`, as the REST API's `expand` shows them), a
//! page type, queries for a page and for one record, create/update/delete mutations, and a
//! subscription to its realtime events — each only where its rule is not superuser-only for
//! this class (a superuser's schema has everything).

use async_graphql::dynamic::{
    Field, FieldFuture, InputObject, InputValue, Object, Scalar, Schema, SchemaError, Subscription,
    SubscriptionField, Type, TypeRef,
};
use std::collections::HashSet;
use std::sync::Arc;

use kiln_core::schema::collection::Collection;
use kiln_core::schema::field::{Field as KField, FieldKind};
use kiln_core::schema::Schema as KSchema;

use super::names::{open, pascal, shown, usable, TypeNames};
use super::value::{object, object_list, scalar};

/// The deepest selection a query may make (six levels of `expand`, as REST allows, fit).
pub(super) const MAX_DEPTH: usize = 20;
/// The most fields a query may select, aliases and fragments counted.
pub(super) const MAX_COMPLEXITY: usize = 2000;

const JSON: &str = "JSON";
const GEO_POINT: &str = "GeoPoint";
const GEO_POINT_INPUT: &str = "GeoPointInput";

/// Builds the schema of superusers (`superuser`) or of everyone else.
/// `subscriptions`: whether to offer them (not while realtime hooks are registered).
pub(super) fn build(
    ks: &KSchema,
    superuser: bool,
    subscriptions: bool,
) -> Result<Schema, SchemaError> {
    let mut collections: Vec<&Arc<Collection>> =
        ks.all().iter().filter(|c| shown(c, superuser)).collect();
    collections.sort_by(|a, b| a.name.cmp(&b.name));
    let mut types: Vec<Type> = vec![
        Scalar::new(JSON)
            .description("Any JSON value (a `json` field).")
            .into(),
        Object::new(GEO_POINT)
            .field(Field::new(
                "lon",
                TypeRef::named_nn(TypeRef::FLOAT),
                scalar("lon"),
            ))
            .field(Field::new(
                "lat",
                TypeRef::named_nn(TypeRef::FLOAT),
                scalar("lat"),
            ))
            .into(),
        InputObject::new(GEO_POINT_INPUT)
            .field(InputValue::new("lon", TypeRef::named_nn(TypeRef::FLOAT)))
            .field(InputValue::new("lat", TypeRef::named_nn(TypeRef::FLOAT)))
            .into(),
    ];
    let mut query = Object::new("Query").field(Field::new(
        "health",
        TypeRef::named_nn(TypeRef::STRING),
        |_| FieldFuture::from_value(Some("API is healthy.".into())),
    ));
    let mut mutation = Object::new("Mutation");
    let mut subscription = Subscription::new("Subscription");
    let mut roots = Roots::default();
    for c in &collections {
        let t = TypeNames::of(c);
        let mut record = Object::new(&t.record)
            .description(format!("A record of `{}`.", c.name))
            .field(Field::new(
                "collectionId",
                TypeRef::named_nn(TypeRef::STRING),
                scalar("collectionId"),
            ))
            .field(Field::new(
                "collectionName",
                TypeRef::named_nn(TypeRef::STRING),
                scalar("collectionName"),
            ));
        for f in c.fields.iter().filter(|f| answered(f, superuser)) {
            record = record.field(answer_field(f));
        }
        let links = links(ks, &collections, c, superuser);
        if !links.is_empty() {
            let mut expand = Object::new(&t.expand).description(format!(
                "The related records of a `{}` record a query selects (those the caller may view).",
                c.name
            ));
            for (name, target, multi) in links {
                let ty = TypeNames::of(target).record;
                expand = expand.field(match multi {
                    true => Field::new(&name, TypeRef::named_nn_list(ty), object_list(&name)),
                    false => Field::new(&name, TypeRef::named(ty), object(&name)),
                });
            }
            record = record.field(Field::new(
                "expand",
                TypeRef::named(&t.expand),
                object("expand"),
            ));
            types.push(expand.into());
        }
        types.push(record.into());
        types.push(
            Object::new(&t.list)
                .description(format!("A page of `{}` records.", c.name))
                .field(Field::new(
                    "items",
                    TypeRef::named_nn_list_nn(&t.record),
                    object_list("items"),
                ))
                .field(int_field("page"))
                .field(int_field("perPage"))
                .field(int_field("totalItems"))
                .field(int_field("totalPages"))
                .into(),
        );
        let name = c.name.as_str();
        if open(&c.list_rule, superuser) && roots.query.insert(name.to_owned()) {
            query = query.field(
                Field::new(name, TypeRef::named_nn(&t.list), super::read::list(name))
                    .description(format!(
                        "A page of `{name}` records (its list rule applies): `filter` and `sort` in the filter language, `page` from 1, `perPage` up to 1000 (30 by default); `skipTotal` leaves `totalItems` and `totalPages` at -1."
                    ))
                    .argument(InputValue::new("filter", TypeRef::named(TypeRef::STRING)))
                    .argument(InputValue::new("sort", TypeRef::named(TypeRef::STRING)))
                    .argument(InputValue::new("page", TypeRef::named(TypeRef::INT)))
                    .argument(InputValue::new("perPage", TypeRef::named(TypeRef::INT)))
                    .argument(InputValue::new("skipTotal", TypeRef::named(TypeRef::BOOLEAN))),
            );
        }
        let by_id = format!("{name}ById");
        if open(&c.view_rule, superuser) && roots.query.insert(by_id.clone()) {
            query = query.field(
                Field::new(&by_id, TypeRef::named(&t.record), super::read::view(name))
                    .description(format!(
                        "One `{name}` record by id (its view rule applies), or null."
                    ))
                    .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
            );
        }
        if subscriptions
            && (open(&c.list_rule, superuser) || open(&c.view_rule, superuser))
            && roots.subscription.insert(name.to_owned())
        {
            types.push(
                Object::new(&t.event)
                    .description(format!("A change to a `{name}` record."))
                    .field(Field::new(
                        "action",
                        TypeRef::named_nn(TypeRef::STRING),
                        scalar("action"),
                    ))
                    .field(Field::new(
                        "record",
                        TypeRef::named_nn(&t.record),
                        object("record"),
                    ))
                    .into(),
            );
            subscription = subscription.field(
                SubscriptionField::new(name, TypeRef::named_nn(&t.event), super::subscribe::events(name))
                    .description(format!(
                        "Creates, updates and deletes of `{name}` records (of the one record `id` when given), as realtime delivers them: each record only when the caller's list (or, with `id`, view) rule allows it."
                    ))
                    .argument(InputValue::new("id", TypeRef::named(TypeRef::ID))),
            );
        }
        if c.is_view() {
            continue;
        }
        let base = pascal(name);
        if open(&c.create_rule, superuser) && roots.mutation.insert(format!("create{base}")) {
            types.extend(input(c, &t.create, false, superuser).map(Type::from));
            mutation = mutation.field(
                Field::new(
                    format!("create{base}"),
                    TypeRef::named(&t.record),
                    super::write::create(name),
                )
                .description(format!("Creates a `{name}` record (its create rule applies); files upload as multipart parts."))
                .argument(InputValue::new("data", TypeRef::named_nn(&t.create))),
            );
        }
        let update = input(c, &t.update, true, superuser);
        if open(&c.update_rule, superuser)
            && update.is_some()
            && roots.mutation.insert(format!("update{base}"))
        {
            types.extend(update.map(Type::from));
            mutation = mutation.field(
                Field::new(
                    format!("update{base}"),
                    TypeRef::named(&t.record),
                    super::write::update(name),
                )
                .description(format!("Changes the given fields of a `{name}` record (its update rule applies); null clears a field."))
                .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
                .argument(InputValue::new("data", TypeRef::named_nn(&t.update))),
            );
        }
        if open(&c.delete_rule, superuser) && roots.mutation.insert(format!("delete{base}")) {
            mutation = mutation.field(
                Field::new(
                    format!("delete{base}"),
                    TypeRef::named_nn(TypeRef::BOOLEAN),
                    super::write::delete(name),
                )
                .description(format!(
                    "Deletes a `{name}` record (its delete rule applies)."
                ))
                .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
            );
        }
    }
    let mut builder = Schema::build(
        "Query",
        (!roots.mutation.is_empty()).then_some("Mutation"),
        (!roots.subscription.is_empty()).then_some("Subscription"),
    )
    .register(query)
    .enable_uploading()
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY);
    if !roots.mutation.is_empty() {
        builder = builder.register(mutation);
    }
    if !roots.subscription.is_empty() {
        builder = builder.register(subscription);
    }
    for t in types {
        builder = builder.register(t);
    }
    builder.finish()
}

/// Root field names taken so far (a collection whose name another's field took is left out).
#[derive(Default)]
struct Roots {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

fn int_field(name: &'static str) -> Field {
    Field::new(name, TypeRef::named_nn(TypeRef::INT), scalar(name))
}

/// Whether `f` shows in answers to this class of caller.
fn answered(f: &KField, superuser: bool) -> bool {
    usable(&f.name) && !matches!(f.kind, FieldKind::Password { .. }) && (superuser || !f.hidden)
}

/// A field of a record type. Only the id is non-null: a hook (`onRecordEnrich`) may hide any
/// other field, and an auth record's email shows only when visible to the caller.
fn answer_field(f: &KField) -> Field {
    let name = f.name.as_str();
    let ty = match &f.kind {
        FieldKind::Text {
            primary_key: true, ..
        } => TypeRef::named_nn(TypeRef::ID),
        FieldKind::Number { .. } => TypeRef::named(TypeRef::FLOAT),
        FieldKind::Bool => TypeRef::named(TypeRef::BOOLEAN),
        FieldKind::Json { .. } => TypeRef::named(JSON),
        FieldKind::GeoPoint => {
            return Field::new(name, TypeRef::named(GEO_POINT), object(name));
        }
        FieldKind::Select { .. } | FieldKind::File { .. } | FieldKind::Relation { .. }
            if f.is_multi() =>
        {
            TypeRef::named_nn_list(TypeRef::STRING)
        }
        _ => TypeRef::named(TypeRef::STRING),
    };
    let mut field = Field::new(name, ty, scalar(name));
    if !f.help.is_empty() {
        field = field.description(&f.help);
    }
    field
}

/// The relations of `c` a query may follow under `expand`: (name, target, many), forward
/// relations by field name and back-relations as `<collection>_via_<field>` (always many), into
/// collections this class of caller may view.
fn links<'s>(
    ks: &'s KSchema,
    shown_collections: &[&'s Arc<Collection>],
    c: &Collection,
    superuser: bool,
) -> Vec<(String, &'s Arc<Collection>, bool)> {
    let viewable = |t: &Collection| shown(t, superuser) && open(&t.view_rule, superuser);
    // as with REST's `expand`, a hidden relation field may be followed (its ids stay hidden)
    let linkable = |f: &&KField| usable(&f.name);
    let mut out = Vec::new();
    for f in c.fields.iter().filter(linkable) {
        if let FieldKind::Relation { collection_id, .. } = &f.kind {
            if let Some(target) = ks.by_id(collection_id).filter(|t| viewable(t)) {
                out.push((f.name.clone(), target, f.is_multi()));
            }
        }
    }
    for other in shown_collections.iter().filter(|o| viewable(o)) {
        for f in other.fields.iter().filter(linkable) {
            if matches!(&f.kind, FieldKind::Relation { collection_id, .. } if *collection_id == c.id)
            {
                out.push((format!("{}_via_{}", other.name, f.name), *other, true));
            }
        }
    }
    out
}

/// A create's (`update`: an update's) input type: every field a write may set, files as
/// uploads; for auth collections `passwordConfirm` (and for updates `oldPassword`). None when
/// no field may be set (GraphQL has no empty input types).
fn input(c: &Collection, name: &str, update: bool, superuser: bool) -> Option<InputObject> {
    let mut obj = InputObject::new(name);
    let mut any = false;
    for f in &c.fields {
        if !usable(&f.name) || (f.hidden && !superuser) {
            continue;
        }
        let ty = match &f.kind {
            FieldKind::Autodate { .. } => continue,
            FieldKind::Text {
                primary_key: true, ..
            } if update => continue,
            FieldKind::Number { .. } => TypeRef::named(TypeRef::FLOAT),
            FieldKind::Bool => TypeRef::named(TypeRef::BOOLEAN),
            FieldKind::Json { .. } => TypeRef::named(JSON),
            FieldKind::GeoPoint => TypeRef::named(GEO_POINT_INPUT),
            FieldKind::File { .. } if f.is_multi() => TypeRef::named_nn_list(TypeRef::UPLOAD),
            FieldKind::File { .. } => TypeRef::named(TypeRef::UPLOAD),
            FieldKind::Select { .. } | FieldKind::Relation { .. } if f.is_multi() => {
                TypeRef::named_nn_list(TypeRef::STRING)
            }
            _ => TypeRef::named(TypeRef::STRING),
        };
        obj = obj.field(InputValue::new(&f.name, ty));
        any = true;
    }
    if c.is_auth() {
        let extra: &[&str] = match update {
            true => &["passwordConfirm", "oldPassword"],
            false => &["passwordConfirm"],
        };
        for name in extra.iter().filter(|n| c.field(n).is_none()) {
            obj = obj.field(InputValue::new(*name, TypeRef::named(TypeRef::STRING)));
        }
    }
    any.then_some(obj)
}
