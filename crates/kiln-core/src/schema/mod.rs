//! Collections and fields: definitions, validation, the in-memory registry and table DDL.

pub mod auth_options;
pub mod collection;
pub mod ddl;
pub mod field;
pub mod index;
pub mod pattern;
pub mod plan;
pub mod system;
pub mod validate;

use std::collections::HashMap;
use std::sync::Arc;

pub use auth_options::AuthOptions;
pub use collection::{default_collection_id, Collection, CollectionType};
pub use field::{Field, FieldKind, FormatError};

/// An immutable snapshot of all collections, swapped whole on every schema change so that a
/// request sees one consistent schema without holding a lock.
#[derive(Debug, Default)]
pub struct Schema {
    list: Vec<Arc<Collection>>,
    by_name: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
}

impl Schema {
    pub fn new(mut collections: Vec<Collection>) -> Schema {
        collections.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
        let list: Vec<Arc<Collection>> = collections.into_iter().map(Arc::new).collect();
        let by_name = list
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.to_lowercase(), i))
            .collect();
        let by_id = list
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        Schema {
            list,
            by_name,
            by_id,
        }
    }

    /// Finds a collection by id, or by name (case-insensitive).
    pub fn get(&self, name_or_id: &str) -> Option<&Arc<Collection>> {
        if let Some(&i) = self.by_id.get(name_or_id) {
            return Some(&self.list[i]);
        }
        if let Some(&i) = self.by_name.get(name_or_id) {
            return Some(&self.list[i]);
        }
        // Names are matched case-insensitively; only allocate when the exact form missed.
        self.by_name
            .get(&name_or_id.to_lowercase())
            .map(|&i| &self.list[i])
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<Collection>> {
        self.by_id.get(id).map(|&i| &self.list[i])
    }

    pub fn all(&self) -> &[Arc<Collection>] {
        &self.list
    }

    /// A copy of this schema with `c` added or replaced (matched by id).
    pub fn with(&self, c: Collection) -> Schema {
        let mut all: Vec<Collection> = self
            .list
            .iter()
            .filter(|x| x.id != c.id)
            .map(|x| (**x).clone())
            .collect();
        all.push(c);
        Schema::new(all)
    }

    /// A copy of this schema without the collection `id`.
    pub fn without(&self, id: &str) -> Schema {
        Schema::new(
            self.list
                .iter()
                .filter(|x| x.id != id)
                .map(|x| (**x).clone())
                .collect(),
        )
    }
}
