//! What a statement adds around the expressions compiled into it: the relation rows it joins
//! once for all of them ([`Joins`]) and the list-rule guards of client filters ([`Guards`]).

/// Conditions a statement's WHERE must also hold because a client filter or sort reached into
/// related collections through single relations: PocketBase applies each joined collection's
/// listRule to the *whole row* (`rel.id = '' || (listRule)`), so a record whose related row the
/// requester may not list drops out of the result instead of comparing as if the relation were
/// empty. Keyed by the relation path, so `doc.a = 1 || doc.b = 2` adds one guard.
#[derive(Debug, Default)]
pub struct Guards {
    items: Vec<(String, String)>,
}

impl Guards {
    /// The guard conditions, each a self-contained boolean SQL expression.
    pub fn conditions(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(_, sql)| sql.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.items.iter().any(|(k, _)| k == key)
    }

    pub(super) fn add(&mut self, key: String, sql: String) {
        self.items.push((key, sql));
    }
}

/// The related rows a statement reaches through multi-valued steps (multiple relations,
/// back-relations, `:each`, `@collection`), LEFT JOINed once per path and shared by every rule
/// and filter of the statement, as PocketBase joins them: a record matches when one
/// *combination* of its joined rows satisfies the whole condition, so `tags.name ?= "a" &&
/// tags.color ?= "red"` needs one tag that is both, and a rule and a client filter that reach
/// the same path test the same row.
#[derive(Debug, Default)]
pub struct Joins {
    /// (path key, row alias, `LEFT JOIN ... ON ...` text), in join order.
    items: Vec<(String, String, String)>,
    /// Conditions every combination must hold: the listRules of the collections a client
    /// filter joined (`alias.id IS NULL OR (listRule)`: a missing row passes).
    conds: Vec<String>,
    /// Aliases of the joined rows whose collection's listRule is already required.
    ruled: Vec<String>,
    /// Placeholders of values that start paths (the auth record's id, a body field's ids),
    /// bound once per statement: a path that reuses a joined row must not bind a value that
    /// nothing references.
    params: Vec<(String, String)>,
}

impl Joins {
    /// The alias of the row joined for `key`, if it is joined.
    pub(super) fn alias_of(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, a, _)| a.as_str())
    }

    /// Joins a row for `key` as `alias` with `text` (` LEFT JOIN ... ON ...`, referencing only
    /// rows joined before it and the statement's base row).
    pub(super) fn add(&mut self, key: String, alias: String, text: String) {
        self.items.push((key, alias, text));
    }

    /// The placeholder bound for `key`, binding it with `bind` the first time.
    pub(super) fn param(&mut self, key: &str, bind: impl FnOnce() -> String) -> String {
        if let Some((_, p)) = self.params.iter().find(|(k, _)| k == key) {
            return p.clone();
        }
        let p = bind();
        self.params.push((key.to_owned(), p.clone()));
        p
    }

    /// A condition every combination must hold.
    pub(super) fn require(&mut self, cond: String) {
        self.conds.push(cond);
    }

    /// Marks the row `alias` as guarded by its collection's listRule; false if it already was.
    pub(super) fn rule_once(&mut self, alias: &str) -> bool {
        if self.ruled.iter().any(|a| a == alias) {
            return false;
        }
        self.ruled.push(alias.to_owned());
        true
    }

    /// `cond` as a condition on the base row: some combination of the joined rows holds it
    /// (and every [`Joins::require`]d condition). `unit` is a fresh alias for the one-row start
    /// of the joins. Without joins, `cond` as it is.
    pub fn wrap(&self, cond: &str, unit: &str) -> String {
        if self.items.is_empty() {
            return cond.to_owned();
        }
        let mut sql = format!("EXISTS (SELECT 1 FROM (SELECT 1) {unit}");
        for (_, _, text) in &self.items {
            sql.push_str(text);
        }
        sql.push_str(" WHERE ");
        sql.push_str(cond);
        for c in &self.conds {
            sql.push_str(" AND ");
            sql.push_str(c);
        }
        sql.push(')');
        sql
    }
}
