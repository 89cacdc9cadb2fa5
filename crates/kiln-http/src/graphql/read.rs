//! The query resolvers: a page of records and one record, as the REST list and view answer
//! them (the same rules, hooks and `expand`), with the relations the query selects under
//! `expand` loaded one level at a time for the whole page.

use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext};
use async_graphql::SelectionField;
use serde_json::json;

use kiln_core::records::expand::{ExpandTree, MAX_EXPAND_DEPTH};
use kiln_core::records::{ListParams, RuleKind};
use kiln_core::CoreError;
use kiln_hooks::{Page, ReadOutcome};

use super::call::{core_error, Call, Resolver};

/// Records a page holds when `perPage` is not given (the REST API's default).
const DEFAULT_PER_PAGE: i64 = 30;
/// The most records a page holds.
const MAX_PER_PAGE: i64 = 1000;

/// `posts(filter, sort, page, perPage, skipTotal)`.
pub(super) fn list(name: &str) -> impl Resolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        FieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            let c = call.app.records_collection(&name).map_err(core_error)?;
            let text = |key: &str| -> async_graphql::Result<String> {
                Ok(match ctx.args.get(key) {
                    Some(v) if !v.is_null() => v.string()?.to_owned(),
                    _ => String::new(),
                })
            };
            let int = |key: &str| -> async_graphql::Result<i64> {
                Ok(match ctx.args.get(key) {
                    Some(v) if !v.is_null() => v.i64()?,
                    _ => 0,
                })
            };
            let params = ListParams {
                page: int("page")?.max(1),
                per_page: int("perPage")?,
                sort: text("sort")?,
                filter: text("filter")?,
                skip_total: matches!(ctx.args.get("skipTotal"), Some(v) if v.boolean().unwrap_or(false)),
            };
            let size = match params.per_page {
                n if n <= 0 => DEFAULT_PER_PAGE,
                n => n.min(MAX_PER_PAGE),
            };
            call.spend(size)?;
            let field = ctx.field();
            let tree = expand_of(field.selection_set().filter(|f| f.name() == "items"));
            let given = |key: &str| match ctx.args.get(key) {
                Some(v) if !v.is_null() => v.as_value().to_string(),
                _ => String::new(),
            };
            let req = call.rest_request(
                "GET",
                &[
                    ("page", given("page")),
                    ("perPage", given("perPage")),
                    ("sort", params.sort.clone()),
                    ("filter", params.filter.clone()),
                    ("skipTotal", given("skipTotal")),
                    (
                        "expand",
                        tree.as_ref().map(expand_param).unwrap_or_default(),
                    ),
                ],
            );
            let mut result = call
                .app
                .list_records(&c, &req, &params)
                .map_err(core_error)?;
            let patches = match call.hooks.as_ref().filter(|h| h.watches_reads(&c)) {
                None => Vec::new(),
                Some(h) => {
                    let page = Page {
                        page: result.page,
                        per_page: result.per_page,
                        total_items: result.total_items,
                        total_pages: result.total_pages,
                    };
                    read_patches(h.list_records(c.clone(), &result.items, &req, page).await)?
                }
            };
            let items = call.render(&req, &mut result.items, tree, &patches)?;
            Ok(Some(FieldValue::owned_any(json!({
                "items": items,
                "page": result.page,
                "perPage": result.per_page,
                "totalItems": result.total_items,
                "totalPages": result.total_pages,
            }))))
        })
    }
}

/// `postsById(id)`: null when there is no such record or its view rule hides it.
pub(super) fn view(name: &str) -> impl Resolver {
    let name = name.to_owned();
    move |ctx: ResolverContext<'_>| {
        let name = name.clone();
        FieldFuture::new(async move {
            let call = ctx.data::<Call>()?;
            let c = call.app.records_collection(&name).map_err(core_error)?;
            let id = ctx.args.try_get("id")?.string()?;
            call.spend(1)?;
            let tree = expand_of(std::iter::once(ctx.field()));
            let expand = tree.as_ref().map(expand_param).unwrap_or_default();
            let req = call.rest_request("GET", &[("expand", expand)]);
            let record = match call.app.find_record_with_rule(&c, id, &req, RuleKind::View) {
                Ok(r) => r,
                Err(CoreError::NotFound) => return Ok(None),
                Err(e) => return Err(core_error(e)),
            };
            let patches = match call.hooks.as_ref().filter(|h| h.watches_reads(&c)) {
                None => Vec::new(),
                Some(h) => read_patches(h.view_record(&record, &req).await)?,
            };
            let mut one = call.render(&req, &mut [record], tree, &patches)?;
            Ok(one.pop().map(FieldValue::owned_any))
        })
    }
}

/// What the read hooks changed of the answer; a hook that answered itself ends the field with
/// its answer's message.
fn read_patches(out: ReadOutcome) -> async_graphql::Result<Vec<(String, kiln_hooks::Patch)>> {
    match out {
        ReadOutcome::Render(patches) => Ok(patches),
        ReadOutcome::Answered(res) => Err(super::call::hook_answer(&res)),
        ReadOutcome::Failed(e) => Err(core_error(e)),
    }
}

/// The `expand` tree a selection of records asks for: `expand { author { name expand { … } } }`
/// is the path `author.…`, as deep as the REST API's `expand` goes.
pub(super) fn expand_of<'a>(
    records: impl Iterator<Item = SelectionField<'a>>,
) -> Option<ExpandTree> {
    let mut tree = ExpandTree::default();
    collect(records, &mut tree, 0);
    (!tree.is_empty()).then_some(tree)
}

fn collect<'a>(
    records: impl Iterator<Item = SelectionField<'a>>,
    node: &mut ExpandTree,
    depth: usize,
) {
    if depth >= MAX_EXPAND_DEPTH {
        return;
    }
    for r in records {
        for e in r.selection_set().filter(|f| f.name() == "expand") {
            for rel in e.selection_set().filter(|f| !f.name().starts_with("__")) {
                let child = node.0.entry(rel.name().to_owned()).or_default();
                collect(std::iter::once(rel), child, depth + 1);
            }
        }
    }
}

/// An expand tree as the `expand` parameter spells it (`a.b,c`).
pub(super) fn expand_param(tree: &ExpandTree) -> String {
    fn walk(node: &ExpandTree, prefix: &str, out: &mut Vec<String>) {
        for (name, sub) in &node.0 {
            let path = match prefix {
                "" => name.clone(),
                p => format!("{p}.{name}"),
            };
            if sub.is_empty() {
                out.push(path);
            } else {
                walk(sub, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(tree, "", &mut out);
    out.join(",")
}
