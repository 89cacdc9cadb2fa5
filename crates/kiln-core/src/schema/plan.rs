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

#[derive(Debug)]
pub struct Plan {
    /// The quoted table name.
    pub table: String,
    /// `"table"."col", …` in field order.
    pub columns: String,
    /// `SELECT columns FROM table WHERE "id" = ?1`.
    pub select_by_id: String,
    /// Output keys in alphabetical order (PocketBase sorts record keys), with whether only
    /// superusers see them (hidden custom fields). Passwords and hidden system fields (tokenKey)
    /// are never output.
    pub output: Vec<(String, OutSource, bool)>,
    /// Each output key as it is written, `"key":` (in `output`'s order): written for every key
    /// of every record, escaped once here.
    pub output_keys: Vec<Box<[u8]>>,
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
        let mut output: Vec<(String, OutSource, bool)> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                !(matches!(f.kind, FieldKind::Password { .. }) || f.hidden && f.system)
            })
            .map(|(i, f)| (f.name.clone(), OutSource::Field(i), f.hidden))
            .collect();
        output.push(("collectionId".into(), OutSource::CollectionId, false));
        output.push(("collectionName".into(), OutSource::CollectionName, false));
        output.push(("expand".into(), OutSource::Expand, false));
        output.sort_by(|a, b| a.0.cmp(&b.0));
        let json = |s: &str| serde_json::to_vec(s).unwrap_or_default().into_boxed_slice();
        let output_keys = output
            .iter()
            .map(|(k, _, _)| {
                let mut key = json(k).into_vec();
                key.push(b':');
                key.into_boxed_slice()
            })
            .collect();
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
            output_keys,
            id_json: json(id),
            name_json: json(name),
            id_index: fields.iter().position(|f| f.name == "id").unwrap_or(0),
            insert,
            update,
        }
    }
}
