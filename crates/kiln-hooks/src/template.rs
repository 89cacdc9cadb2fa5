//! `$template`: Go's html/template (contextual auto-escaping, as PocketBase's `$template`),
//! by the gotmpl crate. `loadFiles(...)` runs the first file with the others' `define`s beside
//! it, as Go's `ParseFiles`; `loadString(text)` one text. PocketBase's `raw` function marks
//! trusted HTML.

use std::rc::Rc;

use gotmpl::html::{Template, HTML};
use rquickjs::{Ctx, Function, Object};
use serde_json::Value;

use kiln_core::CoreError;

use crate::worker::{answer, Worker};

/// Renders `source` (`{"files": [...]}` or `{"text": "..."}`) with `data`.
fn render(source: &Value, data: &Value) -> Result<String, String> {
    let raw = |args: &[gotmpl::Value]| -> gotmpl::Result<gotmpl::Value> {
        let s = match args.first() {
            Some(gotmpl::Value::String(s)) => s.to_string(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        Ok(HTML::from(s).into())
    };
    let t = match (source["files"].as_array(), source["text"].as_str()) {
        (Some(files), _) => {
            let files: Vec<&str> = files.iter().filter_map(Value::as_str).collect();
            let first = files
                .first()
                .and_then(|f| std::path::Path::new(f).file_name())
                .and_then(|n| n.to_str())
                .ok_or("$template.loadFiles: no file")?;
            Template::new(first).func("raw", raw).parse_files(&files)
        }
        (None, Some(text)) => Template::new("").func("raw", raw).parse(text),
        (None, None) => return Err("$template: nothing to render".into()),
    }
    .map_err(|e| e.to_string())?;
    let data = gotmpl::to_value(data).map_err(|e| e.to_string())?;
    t.execute_to_string(&data).map_err(|e| e.to_string())
}

/// Installs `templateRender(source, data)`: `{ok: text}` or `{err}`.
pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    native: &Object<'js>,
    worker: &Rc<Worker>,
) -> rquickjs::Result<()> {
    let w = worker.clone();
    native.set(
        "templateRender",
        Function::new(ctx.clone(), move |source: String, data: String| {
            let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
            let r = render(&parse(&source), &parse(&data)).map(Value::String);
            answer(&w, r.map_err(CoreError::InvalidBody))
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_compose_and_values_are_escaped_for_their_context() {
        let dir = tempfile::tempdir().unwrap();
        let layout = dir.path().join("layout.html");
        let page = dir.path().join("page.html");
        std::fs::write(&layout, "<main>{{template \"content\" .}}</main>").unwrap();
        std::fs::write(
            &page,
            "{{define \"content\"}}<a href=\"{{.link}}\">{{.name}}</a>{{raw .trusted}}{{end}}",
        )
        .unwrap();
        let files = json!({ "files": [layout.to_str().unwrap(), page.to_str().unwrap()] });
        let data =
            json!({ "name": "<b>Ann</b>", "link": "javascript:alert(1)", "trusted": "<i>ok</i>" });
        assert_eq!(
            render(&files, &data).unwrap(),
            "<main><a href=\"#ZgotmplZ\">&lt;b&gt;Ann&lt;/b&gt;</a><i>ok</i></main>"
        );
        let text = json!({ "text": "{{range .items}}[{{.}}]{{end}} {{len .items}}" });
        assert_eq!(
            render(&text, &json!({ "items": [1, 2.5, "x"] })).unwrap(),
            "[1][2.5][x] 3"
        );
        assert!(render(&json!({ "text": "{{.broken" }), &json!({})).is_err());
    }
}
