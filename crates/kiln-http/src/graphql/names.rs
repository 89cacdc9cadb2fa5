//! GraphQL names of collections and fields, and what a caller's schema shows.
//!
//! Collection and field names are `\w+` (PocketBase's rule); GraphQL names must not start
//! with a digit or `__`. A name GraphQL cannot spell is left out of the schema (the REST API
//! still serves it). Type names are the collection name with its first letter upper-cased
//! and a suffix; collection names are unique regardless of case, and no suffix ends
//! another, so two collections never share a type name.

use kiln_core::schema::collection::Collection;

pub(super) use crate::openapi::open;

/// Whether GraphQL can spell `name` as it is.
pub(super) fn usable(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '_' || first.is_ascii_alphabetic())
        && !name.starts_with("__")
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `posts` → `Posts`: the base of a collection's type names.
pub(super) fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 11);
    let mut chars = name.chars();
    if let Some(c) = chars.next() {
        out.push(c.to_ascii_uppercase());
    }
    out.extend(chars);
    out
}

/// The names of one collection's types.
pub(super) struct TypeNames {
    pub record: String,
    pub expand: String,
    pub list: String,
    pub event: String,
    pub create: String,
    pub update: String,
}

impl TypeNames {
    pub(super) fn of(c: &Collection) -> TypeNames {
        let base = pascal(&c.name);
        TypeNames {
            record: format!("{base}Record"),
            expand: format!("{base}Expand"),
            list: format!("{base}List"),
            event: format!("{base}Event"),
            create: format!("{base}CreateInput"),
            update: format!("{base}UpdateInput"),
        }
    }
}

/// Whether `c` appears in the schema of a superuser (`superuser`) or of anyone else.
pub(super) fn shown(c: &Collection, superuser: bool) -> bool {
    usable(&c.name)
        && [
            &c.list_rule,
            &c.view_rule,
            &c.create_rule,
            &c.update_rule,
            &c.delete_rule,
        ]
        .iter()
        .any(|r| open(r, superuser))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellable_names() {
        assert!(usable("posts"));
        assert!(usable("_superusers"));
        assert!(usable("a1_b"));
        assert!(!usable("1posts"));
        assert!(!usable("__type"));
        assert!(!usable(""));
        assert_eq!(pascal("posts"), "Posts");
        assert_eq!(pascal("_superusers"), "_superusers");
    }
}
