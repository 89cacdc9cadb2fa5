//! Index definitions given as SQL strings: parsed, checked and rebuilt from their parts, so that
//! nothing but a validated shape reaches the database.

use kiln_db::Dialect;

/// A parsed `CREATE [UNIQUE] INDEX name ON table (columns) [WHERE expr]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub unique: bool,
    pub name: String,
    pub table: String,
    /// Column terms as written, e.g. `status`, `created DESC`, `title COLLATE NOCASE`.
    pub columns: Vec<IndexColumn>,
    pub where_clause: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexColumn {
    pub name: String,
    pub collate: String,
    pub order: String,
}

/// `a` → `"a"` outside string literals (SQLite accepts MySQL's quotes; PostgreSQL does not).
fn backquotes_to_double_quotes(sql: &str) -> String {
    let mut in_string = false;
    sql.chars()
        .map(|c| match c {
            '\'' => {
                in_string = !in_string;
                c
            }
            '`' if !in_string => '"',
            _ => c,
        })
        .collect()
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for (a, b) in [('`', '`'), ('"', '"'), ('[', ']'), ('\'', '\'')] {
        if s.len() >= 2 && s.starts_with(a) && s.ends_with(b) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Splits off the next whitespace-delimited word (keeping a quoted identifier whole).
fn next_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

impl IndexDef {
    /// Parses an index definition; `None` if it is not one Kiln accepts.
    pub fn parse(sql: &str) -> Option<IndexDef> {
        let sql = sql.trim().trim_end_matches(';').trim();
        if sql.contains(';') || sql.contains("--") || sql.contains("/*") {
            return None;
        }
        let (w, mut rest) = next_word(sql);
        if !w.eq_ignore_ascii_case("CREATE") {
            return None;
        }
        let (mut w, r) = next_word(rest);
        rest = r;
        let unique = w.eq_ignore_ascii_case("UNIQUE");
        if unique {
            (w, rest) = next_word(rest);
        }
        if !w.eq_ignore_ascii_case("INDEX") {
            return None;
        }
        let (mut name, r) = next_word(rest);
        rest = r;
        if name.eq_ignore_ascii_case("IF") {
            let (n, r) = next_word(rest);
            let (e, r) = next_word(r);
            if !n.eq_ignore_ascii_case("NOT") || !e.eq_ignore_ascii_case("EXISTS") {
                return None;
            }
            (name, rest) = next_word(r);
        }
        let (on, r) = next_word(rest);
        if !on.eq_ignore_ascii_case("ON") {
            return None;
        }
        let r = r.trim_start();
        let open = r.find('(')?;
        let table = unquote(&r[..open]).to_owned();
        let close = r.rfind(')')?;
        let after = r[close + 1..].trim();
        let where_clause = if after.is_empty() {
            String::new()
        } else {
            let (w, expr) = next_word(after);
            if !w.eq_ignore_ascii_case("WHERE") || expr.trim().is_empty() {
                return None;
            }
            expr.trim().to_owned()
        };
        let mut columns = Vec::new();
        for term in r[open + 1..close].split(',') {
            let mut words = term.split_whitespace();
            let col = unquote(words.next()?).to_owned();
            let mut c = IndexColumn {
                name: col,
                collate: String::new(),
                order: String::new(),
            };
            while let Some(w) = words.next() {
                if w.eq_ignore_ascii_case("COLLATE") {
                    c.collate = words.next()?.to_ascii_uppercase();
                    if !matches!(c.collate.as_str(), "NOCASE" | "BINARY" | "RTRIM") {
                        return None;
                    }
                } else if w.eq_ignore_ascii_case("ASC") || w.eq_ignore_ascii_case("DESC") {
                    c.order = w.to_ascii_uppercase();
                } else {
                    return None;
                }
            }
            if !is_ident(&c.name) {
                return None;
            }
            columns.push(c);
        }
        let name = unquote(name).to_owned();
        if !is_ident(&name) || !is_ident(&table) || columns.is_empty() {
            return None;
        }
        Some(IndexDef {
            unique,
            name,
            table,
            columns,
            where_clause,
        })
    }

    /// The statement that creates the index on `table` (the collection's current table name) in
    /// database `d`. On PostgreSQL, SQLite's collations become their equivalents (`NOCASE` an
    /// index on `lower(column)`, `BINARY` the "C" collation) and the WHERE clause's backquoted
    /// names double-quoted ones.
    pub fn to_ddl(&self, table: &str, d: Dialect) -> String {
        if d == Dialect::Sqlite {
            return self.to_sql(table, |s| d.quote(s));
        }
        let term = |c: &IndexColumn, col: String| match c.collate.as_str() {
            "NOCASE" => format!("(lower({col}))"),
            "BINARY" => format!("{col} COLLATE \"C\""),
            _ => col,
        };
        self.render(
            table,
            |s| d.quote(s),
            term,
            &backquotes_to_double_quotes(&self.where_clause),
        )
    }

    /// The definition as PocketBase writes it, with `quote` around names, for `table`.
    pub fn to_sql(&self, table: &str, quote: impl Fn(&str) -> String) -> String {
        let term = |c: &IndexColumn, col: String| {
            if c.collate.is_empty() {
                col
            } else {
                format!("{col} COLLATE {}", c.collate)
            }
        };
        self.render(table, quote, term, &self.where_clause)
    }

    /// `CREATE [UNIQUE] INDEX name ON table (terms) [WHERE …]`, each term being `term` of the
    /// quoted column, then its order.
    fn render(
        &self,
        table: &str,
        quote: impl Fn(&str) -> String,
        term: impl Fn(&IndexColumn, String) -> String,
        where_clause: &str,
    ) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let mut s = term(c, quote(&c.name));
                if !c.order.is_empty() {
                    s.push(' ');
                    s.push_str(&c.order);
                }
                s
            })
            .collect();
        let mut sql = format!(
            "CREATE {}INDEX {} ON {} ({})",
            if self.unique { "UNIQUE " } else { "" },
            quote(&self.name),
            quote(table),
            cols.join(", ")
        );
        if !where_clause.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(where_clause);
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pocketbase_index_forms() {
        let i = IndexDef::parse("CREATE INDEX idx_posts_status ON posts (status)").unwrap();
        assert_eq!(
            (i.unique, i.name.as_str(), i.table.as_str()),
            (false, "idx_posts_status", "posts")
        );
        let i = IndexDef::parse(
            "CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE `email` != ''",
        )
        .unwrap();
        assert!(i.unique);
        assert_eq!(i.where_clause, "`email` != ''");
        let i = IndexDef::parse("create index if not exists i1 on t (a COLLATE NOCASE, b DESC)")
            .unwrap();
        assert_eq!(i.columns.len(), 2);
        assert_eq!(
            i.to_sql("t", |s| format!("\"{s}\"")),
            "CREATE INDEX \"i1\" ON \"t\" (\"a\" COLLATE NOCASE, \"b\" DESC)"
        );
        assert_eq!(
            i.to_ddl("t", Dialect::Postgres),
            "CREATE INDEX \"i1\" ON \"t\" ((lower(\"a\")), \"b\" DESC)"
        );
        let e =
            IndexDef::parse("CREATE UNIQUE INDEX `x` ON `users` (`email`) WHERE `email` != '`'")
                .unwrap();
        assert_eq!(
            e.to_ddl("users", Dialect::Postgres),
            "CREATE UNIQUE INDEX \"x\" ON \"users\" (\"email\") WHERE \"email\" != '`'"
        );
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "DROP TABLE users",
            "CREATE INDEX i ON t (a); DROP TABLE t",
            "CREATE INDEX i ON t (a) -- x",
            "CREATE INDEX i ON t ()",
            "CREATE INDEX i ON t (a b)",
            "CREATE INDEX i ON t (lower(a))",
            "CREATE INDEX ON t (a)",
        ] {
            assert!(IndexDef::parse(bad).is_none(), "{bad}");
        }
    }
}
