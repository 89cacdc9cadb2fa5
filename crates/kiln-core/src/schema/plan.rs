//! What a collection's records need, computed once per collection definition: the column list,
//! the point-read statement and the order of keys in the JSON output.

use kiln_db::Dialect;

use super::field::{Field, FieldKind};

/// Where an output key's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutSource {
    Field(usize),
    CollectionId,
    CollectionName,
    Expand,
}

/// One key of a record's JSON output.
#[derive(Debug)]
pub struct OutKey {
    pub name: String,
    /// `"name":` as it is written, escaped once here: written for every key of every record.
    pub json: Box<[u8]>,
    pub source: OutSource,
    /// Only superusers see it (a hidden custom field).
    pub superuser_only: bool,
}

#[derive(Debug)]
pub struct Plan {
    /// The quoted table name.
    pub table: String,
    /// `"table"."col", …` in field order.
    pub columns: String,
    /// `SELECT columns FROM table WHERE "id" = ?1`.
    pub select_by_id: String,
    /// Output keys in alphabetical order (PocketBase sorts record keys). Passwords and hidden
    /// system fields (tokenKey) are never output.
    pub output: Vec<OutKey>,
    /// The collection's id and name as JSON strings, the values of `collectionId` and
    /// `collectionName` in every record.
    pub id_json: Box<[u8]>,
    pub name_json: Box<[u8]>,
    /// Index of the `id` field.
    pub id_index: usize,
    /// `INSERT INTO table (every column) VALUES (?1, …)`.
    pub insert: String,
    /// `UPDATE table SET every column = ?n WHERE "id" = ?(n+1)`.
    pub update: String,
}

impl Plan {
    /// The plan of the collection `id` named `name` with `fields`.
    pub fn new(id: &str, name: &str, fields: &[Field], d: Dialect) -> Plan {
        let table = d.quote(name);
        let columns = fields
            .iter()
            .map(|f| format!("{table}.{}", d.quote(&f.name)))
            .collect::<Vec<_>>()
            .join(", ");
        let select_by_id = format!("SELECT {columns} FROM {table} WHERE {table}.\"id\" = ?1");
        let json = |s: &str| serde_json::to_vec(s).unwrap_or_default();
        let key = |name: &str, source, superuser_only| {
            let mut k = json(name);
            k.push(b':');
            OutKey {
                name: name.to_owned(),
                json: k.into_boxed_slice(),
                source,
                superuser_only,
            }
        };
        let mut output: Vec<OutKey> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                !(matches!(f.kind, FieldKind::Password { .. }) || f.hidden && f.system)
            })
            .map(|(i, f)| key(&f.name, OutSource::Field(i), f.hidden))
            .collect();
        output.push(key("collectionId", OutSource::CollectionId, false));
        output.push(key("collectionName", OutSource::CollectionName, false));
        output.push(key("expand", OutSource::Expand, false));
        output.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<String> = fields.iter().map(|f| d.quote(&f.name)).collect();
        let placeholders: Vec<String> = (1..=names.len()).map(|n| d.placeholder(n)).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        let sets: Vec<String> = names
            .iter()
            .zip(&placeholders)
            .map(|(n, p)| format!("{n} = {p}"))
            .collect();
        let update = format!(
            "UPDATE {table} SET {} WHERE \"id\" = {}",
            sets.join(", "),
            d.placeholder(names.len() + 1)
        );
        Plan {
            table,
            columns,
            select_by_id,
            output,
            id_json: json(id).into_boxed_slice(),
            name_json: json(name).into_boxed_slice(),
            id_index: fields.iter().position(|f| f.name == "id").unwrap_or(0),
            insert,
            update,
        }
    }
}
