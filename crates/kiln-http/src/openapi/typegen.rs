//! TypeScript types of every collection, for the PocketBase JS SDK's generics
//! (`pb.collection<PostsResponse>('posts')`, or `TypedPocketBase`), as the community's
//! pocketbase-typegen writes them: `kiln typegen --out types.ts`.

use std::fmt::Write;

use kiln_core::schema::collection::Collection;
use kiln_core::schema::field::{Field, FieldKind};
use kiln_core::schema::Schema;

use super::parts::type_name;

/// The types of every collection of `schema`, as a TypeScript module.
pub fn typescript(schema: &Schema) -> String {
    let mut collections: Vec<&Collection> = schema.all().iter().map(|c| &**c).collect();
    collections.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::from(
        "// Written by `kiln typegen` from the collections as they were: regenerate it when they change.\n\
         import type PocketBase from 'pocketbase';\n\
         import type { RecordModel, RecordService } from 'pocketbase';\n\n\
         export type IsoDateString = string;\n\
         export type RecordIdString = string;\n\
         export type HTMLString = string;\n\n\
         /** What every record answer carries; `expand` holds the relations `expand` asked for. */\n\
         export type BaseSystemFields<TExpand = unknown> = {\n  id: RecordIdString;\n  collectionId: string;\n  collectionName: string;\n  expand?: TExpand;\n};\n\n",
    );
    out.push_str("export enum Collections {\n");
    for c in &collections {
        let _ = writeln!(out, "  {} = {},", type_name(&c.name), quote(&c.name));
    }
    out.push_str("}\n\n");
    for c in &collections {
        let name = type_name(&c.name);
        for f in c
            .fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::Select { .. }))
        {
            if let FieldKind::Select { values, .. } = &f.kind {
                let _ = writeln!(
                    out,
                    "export type {name}{}Options = {};",
                    type_name(&f.name),
                    values
                        .iter()
                        .map(|v| quote(v))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
        }
        let _ = writeln!(out, "/** A `{}` record's fields. */", c.name);
        let _ = writeln!(out, "export type {name}Record = {{");
        for f in c.fields.iter().filter(|f| !f.hidden && f.name != "id") {
            if let Some(t) = ts_type(f, &name, false) {
                let _ = writeln!(out, "  {}: {t};", key(&f.name));
            }
        }
        out.push_str("};\n");
        let _ = writeln!(
            out,
            "export type {name}Response<TExpand = unknown> = {name}Record & BaseSystemFields<TExpand>;"
        );
        if !c.is_view() {
            let _ = writeln!(
                out,
                "/** What a create of a `{}` record may send. */",
                c.name
            );
            let _ = writeln!(out, "export type {name}Create = {{");
            for f in &c.fields {
                if let Some(t) = ts_type(f, &name, true) {
                    let optional = !f.required || f.name == "id";
                    let _ = writeln!(
                        out,
                        "  {}{}: {t};",
                        key(&f.name),
                        if optional { "?" } else { "" }
                    );
                }
            }
            if c.is_auth() {
                out.push_str("  passwordConfirm: string;\n");
            }
            out.push_str("};\n");
            let old = match c.is_auth() {
                true => " & { oldPassword?: string }",
                false => "",
            };
            let _ = writeln!(
                out,
                "export type {name}Update = Partial<{name}Create>{old};"
            );
        }
        out.push('\n');
    }
    out.push_str(
        "/** The record types by collection name. */\nexport type CollectionRecords = {\n",
    );
    for c in &collections {
        let _ = writeln!(out, "  {}: {}Record;", key(&c.name), type_name(&c.name));
    }
    out.push_str(
        "};\n\n/** The answer types by collection name. */\nexport type CollectionResponses = {\n",
    );
    for c in &collections {
        let _ = writeln!(out, "  {}: {}Response;", key(&c.name), type_name(&c.name));
    }
    out.push_str(
        "};\n\n/** The SDK's client with each collection's service typed: `const pb = new PocketBase(url) as TypedPocketBase`. */\nexport interface TypedPocketBase extends PocketBase {\n",
    );
    for c in &collections {
        let _ = writeln!(
            out,
            "  collection(idOrName: {}): RecordService<{}Response>;",
            quote(&c.name),
            type_name(&c.name)
        );
    }
    out.push_str("  collection<M = RecordModel>(idOrName: string): RecordService<M>;\n}\n");
    out
}

/// The TypeScript type of field `f` of collection `owner` (a record's, or a body's when `input`).
fn ts_type(f: &Field, owner: &str, input: bool) -> Option<String> {
    let many = f.is_multi();
    let list = |t: &str| match many {
        true => format!("{t}[]"),
        false => t.to_owned(),
    };
    Some(match &f.kind {
        FieldKind::Text { .. } | FieldKind::Email { .. } | FieldKind::Url { .. } => {
            "string".to_owned()
        }
        FieldKind::Editor { .. } => "HTMLString".to_owned(),
        FieldKind::Date { .. } => "IsoDateString".to_owned(),
        FieldKind::Autodate { .. } if input => return None,
        FieldKind::Autodate { .. } => "IsoDateString".to_owned(),
        FieldKind::Number { .. } => "number".to_owned(),
        FieldKind::Bool => "boolean".to_owned(),
        FieldKind::Select { .. } => {
            let options = format!("{owner}{}Options", type_name(&f.name));
            match many {
                true => format!("{options}[]"),
                false => format!("{options} | ''"),
            }
        }
        FieldKind::File { .. } if input => match many {
            true => "(string | File | Blob)[]".to_owned(),
            false => "string | File | Blob".to_owned(),
        },
        FieldKind::File { .. } => list("string"),
        FieldKind::Relation { .. } => list("RecordIdString"),
        FieldKind::Json { .. } => "unknown".to_owned(),
        FieldKind::GeoPoint => "{ lon: number; lat: number }".to_owned(),
        FieldKind::Password { .. } if input => "string".to_owned(),
        FieldKind::Password { .. } => return None,
    })
}

/// `s` as a TypeScript string literal.
fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A property name: bare when it is an identifier, quoted otherwise.
fn key(name: &str) -> String {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    match ident {
        true => name.to_owned(),
        false => quote(name),
    }
}
