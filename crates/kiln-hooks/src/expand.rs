//! `$app.expandRecord(s)`: the relations of stored records expanded as the records API expands
//! them, with a superuser's view (PocketBase's app-level expansion applies no rule).

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object};
use serde_json::{Map, Value};

use kiln_core::records::expand::ExpandTree;

use crate::worker::{answer, Worker};

/// Installs `expandRecords(collection, ids, expand)`: `{ok: {id: expand object}}` for the
/// records of those ids that exist.
pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    worker: &Rc<Worker>,
) -> rquickjs::Result<()> {
    let w = worker.clone();
    native.set(
        "expandRecords",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'_>, collection: String, ids: String, expand: String| {
                let r = w.app().and_then(|app| {
                    let c = app.collection(&collection)?;
                    let ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
                    // read where the hook reads (inside its write, if any), expanded beside it
                    let mut records = w.on_conn(&ctx, move |app, conn| {
                        let mut out = Vec::with_capacity(ids.len());
                        for id in &ids {
                            if let Some(r) = app.find_record_on(conn, &c, id)? {
                                out.push(r);
                            }
                        }
                        Ok(out)
                    })?;
                    let req = app.system_request()?;
                    app.expand_records(&mut records, &ExpandTree::parse(&expand), &req)?;
                    Ok(Value::Object(
                        records
                            .into_iter()
                            .map(|r| {
                                let id = r.id().to_owned();
                                (id, Value::Object(r.expand.unwrap_or_default()))
                            })
                            .collect::<Map<_, _>>(),
                    ))
                });
                answer(&w, r)
            },
        )?,
    )?;
    Ok(())
}
