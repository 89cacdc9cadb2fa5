//! Answers as JSON trees: each record is the JSON object the REST API would answer (rules,
//! hidden fields, email visibility, `expand` and hook changes applied once, where it is
//! loaded); the fields of a GraphQL type read their key out of their parent's tree.

use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext};
use async_graphql::{Name, Value as Gql};
use serde_json::Value;

/// A resolver answering the scalar at `key` of the parent object (null when absent).
pub(super) fn scalar(key: &str) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> {
    let key = key.to_owned();
    move |ctx| FieldFuture::Value(child(&ctx, &key).map(|v| FieldValue::value(to_gql(v))))
}

/// A resolver answering the object at `key` of the parent object, as the parent of its fields.
pub(super) fn object(key: &str) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> {
    let key = key.to_owned();
    move |ctx| FieldFuture::Value(child(&ctx, &key).map(|v| FieldValue::borrowed_any(v)))
}

/// A resolver answering the list of objects at `key` (a single object reads as a list of it).
pub(super) fn object_list(key: &str) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> {
    let key = key.to_owned();
    move |ctx| {
        FieldFuture::Value(child(&ctx, &key).map(|v| match v {
            Value::Array(items) => {
                FieldValue::list(items.iter().map(|v| FieldValue::borrowed_any(v)))
            }
            one => FieldValue::list([FieldValue::borrowed_any(one)]),
        }))
    }
}

fn child<'a>(ctx: &ResolverContext<'a>, key: &str) -> Option<&'a Value> {
    ctx.parent_value
        .downcast_ref::<Value>()
        .and_then(|v| v.get(key))
        .filter(|v| !v.is_null())
}

/// A JSON value as a GraphQL value.
pub(super) fn to_gql(v: &Value) -> Gql {
    match v {
        Value::Null => Gql::Null,
        Value::Bool(b) => Gql::Boolean(*b),
        Value::Number(n) => Gql::Number(n.clone()),
        Value::String(s) => Gql::String(s.clone()),
        Value::Array(items) => Gql::List(items.iter().map(to_gql).collect()),
        Value::Object(m) => Gql::Object(m.iter().map(|(k, v)| (Name::new(k), to_gql(v))).collect()),
    }
}

/// A GraphQL input value as JSON (uploads are taken apart before this).
pub(super) fn to_json(v: &Gql) -> Value {
    match v {
        Gql::Null => Value::Null,
        Gql::Boolean(b) => Value::Bool(*b),
        Gql::Number(n) => Value::Number(n.clone()),
        Gql::String(s) => Value::String(s.clone()),
        Gql::Enum(e) => Value::String(e.to_string()),
        Gql::Binary(_) => Value::Null,
        Gql::List(items) => Value::Array(items.iter().map(to_json).collect()),
        Gql::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect())
        }
    }
}
