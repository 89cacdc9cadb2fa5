//! Every SQL difference between the supported databases lives here.

/// The SQL dialect of a [`crate::Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Storage class of a collection field's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text, `''` when empty (text, email, url, editor, date, password, single select/relation/file).
    Text,
    /// A number, `0` when empty.
    Number,
    /// A boolean, false when empty.
    Bool,
    /// A JSON document or NULL (json field).
    Json,
    /// A JSON array, `[]` when empty (multi select/relation/file).
    JsonArray,
    /// A JSON object with lon/lat (geoPoint).
    GeoPoint,
}

impl Dialect {
    /// Quotes an identifier. Names are validated before they get here; quoting is a second fence.
    pub fn quote(self, name: &str) -> String {
        let mut s = String::with_capacity(name.len() + 2);
        s.push('"');
        for c in name.chars() {
            if c == '"' {
                s.push('"');
            }
            s.push(c);
        }
        s.push('"');
        s
    }

    /// Placeholder for the `n`-th (1-based) bound parameter.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// Column definition (type, default, constraint) for a field column. Text compares byte by
    /// byte on both databases (SQLite's BINARY, PostgreSQL's "C"), so sorting agrees.
    pub fn column_def(self, kind: ColumnKind) -> &'static str {
        match (self, kind) {
            (Dialect::Sqlite, ColumnKind::Text) => "TEXT DEFAULT '' NOT NULL",
            (Dialect::Sqlite, ColumnKind::Number) => "NUMERIC DEFAULT 0 NOT NULL",
            (Dialect::Sqlite, ColumnKind::Bool) => "BOOLEAN DEFAULT FALSE NOT NULL",
            (Dialect::Sqlite, ColumnKind::Json) => "JSON DEFAULT NULL",
            (Dialect::Sqlite, ColumnKind::JsonArray) => "JSON DEFAULT '[]' NOT NULL",
            (Dialect::Sqlite, ColumnKind::GeoPoint) => {
                "JSON DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL"
            }
            (Dialect::Postgres, ColumnKind::Text) => "TEXT COLLATE \"C\" DEFAULT '' NOT NULL",
            (Dialect::Postgres, ColumnKind::Number) => "DOUBLE PRECISION DEFAULT 0 NOT NULL",
            (Dialect::Postgres, ColumnKind::Bool) => "BOOLEAN DEFAULT FALSE NOT NULL",
            (Dialect::Postgres, ColumnKind::Json) => "TEXT COLLATE \"C\" DEFAULT NULL",
            (Dialect::Postgres, ColumnKind::JsonArray) => {
                "TEXT COLLATE \"C\" DEFAULT '[]' NOT NULL"
            }
            (Dialect::Postgres, ColumnKind::GeoPoint) => {
                "TEXT DEFAULT '{\"lon\":0,\"lat\":0}' NOT NULL"
            }
        }
    }

    /// The primary-key column definition of every collection table.
    pub fn id_column_def(self) -> &'static str {
        match self {
            Dialect::Sqlite => "TEXT PRIMARY KEY DEFAULT ('r' || lower(hex(randomblob(7)))) NOT NULL",
            Dialect::Postgres => "TEXT COLLATE \"C\" PRIMARY KEY DEFAULT ('r' || substr(md5(random()::text), 1, 14)) NOT NULL",
        }
    }

    /// Case-insensitive LIKE with `\` as escape character.
    pub fn like(self, lhs: &str, rhs: &str, negate: bool) -> String {
        let not = if negate { "NOT " } else { "" };
        match self {
            Dialect::Sqlite => format!("{lhs} {not}LIKE {rhs} ESCAPE '\\'"),
            Dialect::Postgres => format!("({lhs})::text {not}ILIKE {rhs} ESCAPE '\\'"),
        }
    }

    /// Lower-cased text of `expr` (whatever its type: PostgreSQL's `lower` takes text only).
    pub fn lower(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("LOWER({expr})"),
            Dialect::Postgres => format!("LOWER(CAST({expr} AS text))"),
        }
    }

    /// `expr` (a bound parameter) read as a column of `kind` would be: PostgreSQL types an
    /// unknown parameter as text, so a number compared with a number would compare as text.
    pub fn typed(self, expr: &str, kind: ColumnKind) -> String {
        match (self, kind) {
            (Dialect::Postgres, ColumnKind::Number) => format!("CAST({expr} AS double precision)"),
            (Dialect::Postgres, ColumnKind::Bool) => format!("CAST({expr} AS boolean)"),
            (Dialect::Postgres, _) => format!("CAST({expr} AS text)"),
            (Dialect::Sqlite, _) => expr.to_owned(),
        }
    }

    /// `lhs` and `rhs` are the same value, NULLs included (SQLite's `IS`).
    pub fn is(self, lhs: &str, rhs: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{lhs} IS {rhs}"),
            Dialect::Postgres => format!("{lhs} IS NOT DISTINCT FROM {rhs}"),
        }
    }

    /// `lhs = rhs`, ignoring ASCII case.
    pub fn eq_nocase(self, lhs: &str, rhs: &str) -> String {
        match self {
            Dialect::Sqlite => format!("{lhs} = {rhs} COLLATE NOCASE"),
            Dialect::Postgres => format!("lower({lhs}) = lower({rhs})"),
        }
    }

    /// A FROM item enumerating the items of a JSON array column as `{alias}.value`; a non-array
    /// value is treated as a one-item array, so data written before a single→multi change reads.
    pub fn json_each_from(self, column: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "json_each(CASE WHEN {column} IS NULL OR {column} = '' THEN '[]' WHEN json_valid({column}) THEN (CASE WHEN json_type({column}) = 'array' THEN {column} ELSE json_array({column}) END) ELSE json_array({column}) END) {alias}"
            ),
            Dialect::Postgres => format!(
                "jsonb_array_elements_text(CASE WHEN jsonb_typeof({column}::jsonb) = 'array' THEN {column}::jsonb ELSE '[]'::jsonb END) {alias}(value)"
            ),
        }
    }

    /// Number of items of a JSON array column (0 for anything else).
    pub fn json_array_length(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(CASE WHEN json_valid({column}) THEN (CASE WHEN json_type({column}) = 'array' THEN json_array_length({column}) ELSE 0 END) ELSE 0 END)"
            ),
            Dialect::Postgres => format!(
                "(CASE WHEN jsonb_typeof({column}::jsonb) = 'array' THEN jsonb_array_length({column}::jsonb) ELSE 0 END)"
            ),
        }
    }

    /// Reads a JSON path (keys already validated as identifiers; a numeric one is an array index,
    /// as in PocketBase) from a JSON column.
    pub fn json_extract(self, column: &str, keys: &[&str]) -> String {
        match self {
            Dialect::Sqlite => {
                let path = json_path("$", keys, |p, k| {
                    p.push('.');
                    p.push_str(k);
                });
                format!("json_extract({column}, '{path}')")
            }
            // `#>>` would read a numeric key of an object too: a path with an index is a strict
            // SQL/JSON path instead, whose `[n]` matches arrays only (NULL otherwise).
            Dialect::Postgres if keys.iter().any(|k| is_index(k)) => {
                let path = json_path("strict $", keys, |p, k| {
                    p.push_str(".\"");
                    p.push_str(k);
                    p.push('"');
                });
                format!(
                    "(jsonb_path_query_first({column}::jsonb, '{path}', '{{}}', true) #>> '{{}}')"
                )
            }
            Dialect::Postgres => format!("({column}::jsonb #>> '{{{}}}')", keys.join(",")),
        }
    }

    /// Great-circle distance in kilometres (haversine) between two points.
    pub fn geo_distance(self, lon_a: &str, lat_a: &str, lon_b: &str, lat_b: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(6371 * acos(min(1.0, max(-1.0, cos(radians({lat_a})) * cos(radians({lat_b})) * cos(radians({lon_b}) - radians({lon_a})) + sin(radians({lat_a})) * sin(radians({lat_b}))))))"
            ),
            // JSON paths read as text there: every argument is cast to a number.
            Dialect::Postgres => {
                let n = |x: &str| format!("CAST({x} AS double precision)");
                let (lon_a, lat_a, lon_b, lat_b) = (n(lon_a), n(lat_a), n(lon_b), n(lat_b));
                format!(
                    "(6371 * acos(LEAST(1.0, GREATEST(-1.0, cos(radians({lat_a})) * cos(radians({lat_b})) * cos(radians({lon_b}) - radians({lon_a})) + sin(radians({lat_a})) * sin(radians({lat_b}))))))"
                )
            }
        }
    }

    /// SQLite's `strftime(format, value, modifiers…)`.
    pub fn strftime(self, format: &str, value: &str, modifiers: &[String]) -> String {
        match self {
            Dialect::Sqlite => {
                let mut s = format!("strftime({format}, {value}");
                for m in modifiers {
                    s.push_str(", ");
                    s.push_str(m);
                }
                s.push(')');
                s
            }
            // PostgreSQL gets a compatible function installed by the PostgreSQL backend.
            Dialect::Postgres => {
                let mut s = format!("kiln_strftime({format}, {value}");
                for m in modifiers {
                    s.push_str(", ");
                    s.push_str(m);
                }
                s.push(')');
                s
            }
        }
    }

    /// String concatenation.
    pub fn concat(self, parts: &[&str]) -> String {
        parts.join(" || ")
    }

    /// Converts a single value column to a JSON array (`''` → `[]`), for a field that became multi.
    pub fn to_json_array(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(CASE WHEN {column} IS NULL OR {column} = '' THEN '[]' WHEN json_valid({column}) THEN (CASE WHEN json_type({column}) = 'array' THEN {column} ELSE json_array({column}) END) ELSE json_array({column}) END)"
            ),
            Dialect::Postgres => format!(
                "(CASE WHEN {column} IS NULL OR {column}::text = '' THEN '[]'::jsonb ELSE jsonb_build_array({column}) END)"
            ),
        }
    }

    /// Keeps the last item of a JSON array column, for a field that became single.
    pub fn last_of_json_array(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(CASE WHEN json_valid({column}) THEN (CASE WHEN json_type({column}) = 'array' THEN COALESCE(json_extract({column}, '$[#-1]'), '') ELSE {column} END) ELSE COALESCE({column}, '') END)"
            ),
            Dialect::Postgres => format!("COALESCE({column}::jsonb ->> -1, '')"),
        }
    }

    /// Renames a freshly built table to the name that views already refer to, without SQLite
    /// re-checking those views while the old table is gone.
    pub fn rename_table_keeping_views(self, from: &str, to: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "PRAGMA legacy_alter_table = ON; ALTER TABLE {} RENAME TO {}; PRAGMA legacy_alter_table = OFF;",
                self.quote(from),
                self.quote(to)
            ),
            Dialect::Postgres => format!("ALTER TABLE {} RENAME TO {}", self.quote(from), self.quote(to)),
        }
    }

    /// A query listing the views that read table `?1`, directly or through other views, as
    /// (name, definition) in an order they can be created in; `None` where rebuilding a table
    /// leaves its views in place (SQLite's legacy rename).
    pub fn dependent_views_query(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(
                "WITH RECURSIVE deps(oid, depth) AS (
                    SELECT DISTINCT r.ev_class, 1 FROM pg_depend d
                      JOIN pg_rewrite r ON r.oid = d.objid
                      WHERE d.refobjid = to_regclass(quote_ident(?1)) AND r.ev_class <> d.refobjid
                    UNION
                    SELECT r.ev_class, deps.depth + 1 FROM deps
                      JOIN pg_depend d ON d.refobjid = deps.oid
                      JOIN pg_rewrite r ON r.oid = d.objid
                      WHERE r.ev_class <> d.refobjid AND deps.depth < 32
                 )
                 SELECT c.relname::text, pg_get_viewdef(c.oid)
                   FROM (SELECT oid, max(depth) AS depth FROM deps GROUP BY oid) v
                   JOIN pg_class c ON c.oid = v.oid
                  ORDER BY v.depth",
            ),
        }
    }

    /// An ORDER BY direction in which NULL sorts as the smallest value, as SQLite sorts it
    /// (PostgreSQL puts NULL last when ascending): a sort by a relation path whose related row
    /// is missing orders alike on both databases.
    pub fn order_dir(self, desc: bool) -> &'static str {
        match (self, desc) {
            (Dialect::Sqlite, false) => "ASC",
            (Dialect::Sqlite, true) => "DESC",
            (Dialect::Postgres, false) => "ASC NULLS FIRST",
            (Dialect::Postgres, true) => "DESC NULLS LAST",
        }
    }

    /// Expression ordering rows randomly.
    pub fn random(self) -> &'static str {
        "RANDOM()"
    }

    /// What ends a `SELECT` that claims rows for this transaction while others claim theirs:
    /// PostgreSQL locks the rows and skips those another transaction locked (a job queue's
    /// workers on several nodes); SQLite's writes are serialised, so nothing.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Expression ordering rows by insertion.
    pub fn rowid(self) -> &'static str {
        match self {
            Dialect::Sqlite => "_rowid_",
            Dialect::Postgres => "ctid",
        }
    }
}

/// A JSON path from `root`: an index segment as `[n]`, any other as `key` writes it.
fn json_path(root: &str, keys: &[&str], key: impl Fn(&mut String, &str)) -> String {
    let mut path = String::from(root);
    for k in keys {
        if is_index(k) {
            path.push('[');
            path.push_str(k);
            path.push(']');
        } else {
            key(&mut path, k);
        }
    }
    path
}

/// A JSON path segment that is an array index (all digits), as PocketBase reads it.
fn is_index(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn json_paths_index_arrays_only() {
        let keys = ["items", "0", "name"];
        assert_eq!(
            Dialect::Sqlite.json_extract("t.m", &keys),
            "json_extract(t.m, '$.items[0].name')"
        );
        assert_eq!(
            Dialect::Postgres.json_extract("t.m", &keys),
            "(jsonb_path_query_first(t.m::jsonb, 'strict $.\"items\"[0].\"name\"', '{}', true) #>> '{}')"
        );
        assert_eq!(
            Dialect::Postgres.json_extract("t.m", &["a", "b"]),
            "(t.m::jsonb #>> '{a,b}')"
        );
    }
}
