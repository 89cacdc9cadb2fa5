//! The pieces a field path is built from: its join steps, what it ends with, and the rows it
//! walks through (see `resolver`).

use crate::schema::collection::Collection;

/// One join step of a field path, rendered for any pair of row aliases: once for the
/// statement's shared joins and once for the path's own rows (see [`PathState`]). Table and
/// column names are quoted; `id`/`ids` are placeholders.
#[derive(Clone, Copy)]
pub(super) enum Step<'s> {
    /// The first row of an `@request.auth.*` path: the auth record.
    Auth { table: &'s str, id: &'s str },
    /// The first rows of an `@request.body.rel.*` path: the submitted related records (`ids`
    /// holds their JSON array).
    Body { table: &'s str, ids: &'s str },
    /// Every row of a collection (`@collection.name`).
    Every { table: &'s str },
    /// The rows a relation field of the row points at.
    Forward {
        column: &'s str,
        multi: bool,
        table: &'s str,
    },
    /// The rows of `table` whose relation field `column` points at the row.
    Back {
        table: &'s str,
        column: &'s str,
        multi: bool,
    },
    /// The items of a multi-valued field of the row (`:each`), as `{alias}.value`.
    Each { column: &'s str },
}

/// What a field path ends with, rendered over the alias of its last row.
pub(super) enum Leaf {
    /// A column: as it is, lowercased, or the length of its JSON array.
    Column {
        column: String,
        lower: bool,
        length: bool,
    },
    /// A key path inside a JSON (or geo point) column.
    Json { column: String, keys: Vec<String> },
    /// The value of a `:each` item.
    Item,
}

/// A shared join a path needs that its statement does not have yet (see [`PathState`]).
pub(super) struct Pending {
    pub(super) key: String,
    pub(super) alias: String,
    pub(super) text: String,
}

/// The rows a field path walks through.
///
/// The path's own rows are kept in two renderings: inner joins (`from` + `wheres`), for a
/// path that stays single-valued (a correlated scalar subquery, at most one row), and `chain`,
/// every step LEFT JOINed after a one-row start as PocketBase joins it, for the items of a
/// multi-valued path (a missing related row is one item of NULL values, never a missing item).
/// A multi-valued path is also resolved over the statement's shared joins ([`Joins`]): `key`
/// and `shared` follow it there, and `pending` holds the joins to add when it turns out
/// multi-valued.
pub(super) struct PathState<'a> {
    pub(super) from: Vec<String>,
    pub(super) wheres: Vec<String>,
    pub(super) chain: String,
    /// Alias of the current row among the path's own rows.
    pub(super) alias: String,
    pub(super) multi: bool,
    /// Path key and alias of the current row among the statement's shared joins.
    pub(super) key: String,
    pub(super) shared: String,
    pub(super) pending: Vec<Pending>,
    /// Shared rows of this path whose collection's listRule every combination must pass
    /// (client filters of non-superusers), whether this path or another joined them first.
    pub(super) ruled: Vec<(String, &'a Collection)>,
    /// The path so far starts at the statement's base row and went only through single
    /// relations: a related row's listRule guards the whole row (see [`Guards`]). After a
    /// multi-valued step it is a condition on the join combinations instead.
    pub(super) guard_whole_row: bool,
}

impl<'a> PathState<'a> {
    /// A path starting at the row `alias` (empty for a path whose first step needs no row),
    /// known as `key` among the shared joins.
    pub(super) fn new(alias: &str, key: &str, guard_whole_row: bool) -> Self {
        PathState {
            from: Vec::new(),
            wheres: Vec::new(),
            chain: String::new(),
            alias: alias.to_owned(),
            multi: false,
            key: key.to_owned(),
            shared: alias.to_owned(),
            pending: Vec::new(),
            ruled: Vec::new(),
            guard_whole_row,
        }
    }

    /// Adds the rows of `item` (a table or a `json_each`) where `on` holds, to both renderings.
    pub(super) fn join(&mut self, item: String, on: Option<String>) {
        let cond = on.as_deref().unwrap_or("1=1");
        self.chain.push_str(&format!(" LEFT JOIN {item} ON {cond}"));
        self.from.push(item);
        self.wheres.extend(on);
    }

    /// The inner-join rendering: `FROM ... WHERE ...` text pieces.
    pub(super) fn inner(&self) -> (String, String) {
        let wheres = if self.wheres.is_empty() {
            "1=1".to_owned()
        } else {
            self.wheres.join(" AND ")
        };
        (self.from.join(", "), wheres)
    }
}
