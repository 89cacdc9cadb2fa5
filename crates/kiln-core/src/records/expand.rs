//! Relation expansion: `expand=author,comments_via_post.author` (nested up to 6 levels). Related
//! records the requester may not view are silently left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use kiln_filter::Param;

use super::model::{relation_ids, Record};
use super::query::{rule_for, RuleKind};
use crate::app::App;
use crate::error::{CoreError, Result};
use crate::request::RequestInfo;
use crate::rules::stmt::Stmt;
use crate::schema::collection::Collection;
use crate::schema::field::FieldKind;

/// Maximum nesting of an expand path.
pub const MAX_EXPAND_DEPTH: usize = 6;
/// Maximum records loaded for one back-relation.
const MAX_BACK_RELATION: i64 = 1000;

/// An expand request as a tree: relation name → nested expands. As PocketBase merges a path
/// into a longer one that contains it (`a,a.b` is `a.b`), a node with children stands for its
/// children's paths only.
#[derive(Debug, Default, Clone)]
pub struct ExpandTree(pub BTreeMap<String, ExpandTree>);

impl ExpandTree {
    /// Parses `a,b.c,d.e.f`; paths deeper than [`MAX_EXPAND_DEPTH`] are cut there.
    pub fn parse(s: &str) -> ExpandTree {
        let mut root = ExpandTree::default();
        for path in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut node = &mut root;
            for part in path.split('.').take(MAX_EXPAND_DEPTH) {
                let part = part.trim();
                if part.is_empty() {
                    break;
                }
                node = node.0.entry(part.to_owned()).or_default();
            }
        }
        root
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

enum Link<'c> {
    Forward { field: &'c str, multi: bool },
    Back { field: &'c str, multi: bool },
}

impl App {
    /// Fills `expand` of every record for `tree`; each record gets an (empty if nothing is
    /// visible) `expand` object, unless no requested path could be expanded at all.
    pub fn expand_records(
        &self,
        records: &mut [Record],
        tree: &ExpandTree,
        req: &RequestInfo,
    ) -> Result<()> {
        self.expand_level(records, tree, req).map(|_| ())
    }

    /// Expands `tree` on `records`; whether some requested path through this level could be
    /// expanded. As in PocketBase, each requested path succeeds or fails as a whole: a path
    /// fails at a relation into a collection only superusers may view (or an unknown name), and
    /// only paths that succeed give the records of their levels an `expand` object. Paths end
    /// trivially where there are no records left to expand.
    fn expand_level(
        &self,
        records: &mut [Record],
        tree: &ExpandTree,
        req: &RequestInfo,
    ) -> Result<bool> {
        if tree.is_empty() || records.is_empty() {
            return Ok(true);
        }
        let mut any = false;
        let schema = self.schema();
        let base = records[0].collection.clone();
        for (name, sub) in &tree.0 {
            let (target, link) = if let Some((cname, fname)) = name.split_once("_via_") {
                let Some(target) = schema.get(cname).cloned() else {
                    continue;
                };
                let Some(f) = target.field(fname) else {
                    continue;
                };
                let FieldKind::Relation { collection_id, .. } = &f.kind else {
                    continue;
                };
                if collection_id != &base.id {
                    continue;
                }
                let multi = f.is_multi();
                (
                    target.clone(),
                    Link::Back {
                        field: fname,
                        multi,
                    },
                )
            } else {
                let Some(f) = base.field(name) else { continue };
                let FieldKind::Relation { collection_id, .. } = &f.kind else {
                    continue;
                };
                let Some(target) = schema.by_id(collection_id).cloned() else {
                    continue;
                };
                (
                    target,
                    Link::Forward {
                        field: &f.name,
                        multi: f.is_multi(),
                    },
                )
            };
            if matches!(
                rule_for(&target, RuleKind::View, req),
                Err(CoreError::SuperuserOnly)
            ) {
                continue;
            }
            let mut related = match &link {
                Link::Forward { field, .. } => {
                    let mut ids: Vec<String> = Vec::new();
                    for r in records.iter() {
                        for id in relation_ids(r.get(field).unwrap_or(&Value::Null)) {
                            if !ids.iter().any(|x| x == id) {
                                ids.push(id.to_owned());
                            }
                        }
                    }
                    self.load_related(&target, req, "id", false, &ids)?
                }
                Link::Back { field, multi } => {
                    let ids: Vec<String> = records.iter().map(|r| r.id().to_owned()).collect();
                    self.load_related(&target, req, field, *multi, &ids)?
                }
            };
            // This node's records get an `expand` object when its path succeeds: a leaf once its
            // records are fetched, an inner node when one of its deeper paths does.
            if !sub.is_empty() && !self.expand_level(&mut related, sub, req)? {
                continue;
            }
            any = true;
            for r in records.iter_mut() {
                r.expand.get_or_insert_with(Map::new);
            }
            if related.is_empty() {
                continue;
            }
            let viewer = req.viewer();
            let d = self.dialect();
            for r in records.iter_mut() {
                let value = match &link {
                    Link::Forward { field, multi } => {
                        let ids = relation_ids(r.get(field).unwrap_or(&Value::Null))
                            .into_iter()
                            .map(str::to_owned)
                            .collect::<Vec<_>>();
                        let found: Vec<Value> = ids
                            .iter()
                            .filter_map(|id| related.iter().find(|x| x.id() == id))
                            .map(|x| x.to_json(d, &viewer))
                            .collect();
                        if found.is_empty() {
                            continue;
                        }
                        if *multi {
                            Value::Array(found)
                        } else {
                            found.into_iter().next().unwrap_or(Value::Null)
                        }
                    }
                    Link::Back { field, .. } => {
                        let id = r.id().to_owned();
                        let found: Vec<Value> = related
                            .iter()
                            .filter(|x| {
                                relation_ids(x.get(field).unwrap_or(&Value::Null))
                                    .contains(&id.as_str())
                            })
                            .map(|x| x.to_json(d, &viewer))
                            .collect();
                        if found.is_empty() {
                            continue;
                        }
                        Value::Array(found)
                    }
                };
                r.expand
                    .get_or_insert_with(Map::new)
                    .insert(name.clone(), value);
            }
        }
        Ok(any)
    }

    /// Loads records of `target` whose `column` holds one of `ids` and which the requester may
    /// view (its viewRule).
    fn load_related(
        &self,
        target: &Arc<Collection>,
        req: &RequestInfo,
        column: &str,
        multi: bool,
        ids: &[String],
    ) -> Result<Vec<Record>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let rule = match rule_for(target, RuleKind::View, req) {
            Ok(r) => r,
            Err(CoreError::SuperuserOnly) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let d = self.dialect();
        let plan = target.plan(d);
        let schema = self.schema();
        let mut stmt = Stmt::new(&schema, d, req);
        let list = stmt.push(Param::Text(Value::from(ids.to_vec()).to_string()));
        let col = format!("{}.{}", plan.table, d.quote(column));
        let cond = if multi {
            format!(
                "EXISTS (SELECT 1 FROM {}, {} WHERE _ke.value = _kl.value)",
                d.json_each_from(&col, "_ke"),
                d.json_each_from(&list, "_kl")
            )
        } else {
            format!(
                "{col} IN (SELECT _kl.value FROM {})",
                d.json_each_from(&list, "_kl")
            )
        };
        let mut sql = format!("SELECT {} FROM {} WHERE {cond}", plan.columns, plan.table);
        if let Some(rule) = rule {
            let cond = stmt.rule_condition(target, &plan.table, rule)?;
            sql.push_str(" AND ");
            sql.push_str(&cond);
        }
        if column != "id" {
            sql.push_str(&format!(
                " ORDER BY {}.{} LIMIT {MAX_BACK_RELATION}",
                plan.table,
                d.rowid()
            ));
        }
        let params = stmt.params();
        self.db().read(|conn| {
            let mut out = Vec::new();
            conn.query(&sql, &params, |row| {
                out.push(Record::from_row(target, row));
                Ok(())
            })?;
            Ok(out)
        })
    }
}
