//! `require()` of CommonJS modules, as PocketBase's goja_nodejs `require`: a path starting with
//! `/`, `./` or `../` is a file (tried as is, with `.js` and `.json`, or as a folder with its
//! `package.json` `main` or `index.js`); any other name is looked for in the `node_modules`
//! folders from the requiring module's folder up. The top level resolves from the process's
//! working directory, as PocketBase's does; `__hooks` gives the hooks folder.

use std::path::{Path, PathBuf};

use rquickjs::{Ctx, Function, Object};
use serde_json::json;

/// The largest module file read (a hook's dependency, not a data file).
const MAX_MODULE_BYTES: u64 = 16 << 20;

/// Installs `resolveModule(dir, id)` (`{ok: absolute path}` / `{err}`), `readModule(path)`
/// (`{ok: source}` / `{err}`) and `evalModule(path, source)` (the module's wrapper function,
/// compiled under its own file name so that errors name it).
pub(crate) fn install<'js>(ctx: &Ctx<'js>, native: &Object<'js>) -> rquickjs::Result<()> {
    native.set(
        "resolveModule",
        Function::new(ctx.clone(), |dir: String, id: String| {
            match resolve(Path::new(&dir), &id) {
                Some(p) => json!({ "ok": p.to_string_lossy() }),
                None => json!({ "err": format!("Cannot find module '{id}'") }),
            }
            .to_string()
        })?,
    )?;
    native.set(
        "readModule",
        Function::new(ctx.clone(), |path: String| {
            match read(Path::new(&path)) {
                Ok(source) => json!({ "ok": source }),
                Err(e) => json!({ "err": format!("Cannot read module '{path}': {e}") }),
            }
            .to_string()
        })?,
    )?;
    native.set("evalModule", Function::new(ctx.clone(), eval_module)?)?;
    Ok(())
}

/// The module's source inside Node's wrapper; the wrapper's head shares the first line, so the
/// line numbers of errors are the file's own.
fn eval_module<'js>(
    ctx: Ctx<'js>,
    path: String,
    source: String,
) -> rquickjs::Result<rquickjs::Value<'js>> {
    let wrapped =
        format!("(function (exports, require, module, __filename, __dirname) {{{source}\n}})");
    let mut opts = rquickjs::context::EvalOptions::default();
    opts.filename = Some(path);
    opts.strict = false;
    ctx.eval_with_options(wrapped, opts)
}

fn read(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > MAX_MODULE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_MODULE_BYTES >> 20
        )));
    }
    std::fs::read_to_string(path)
}

/// The file `id` names, required from a module in `dir`.
fn resolve(dir: &Path, id: &str) -> Option<PathBuf> {
    if id.is_empty() {
        return None;
    }
    let relative = id == "." || id == ".." || id.starts_with("./") || id.starts_with("../");
    let found = if relative || id.starts_with('/') {
        file_or_folder(&dir.join(id))
    } else {
        let start = std::path::absolute(dir).ok()?;
        start
            .ancestors()
            .filter(|d| d.file_name().is_none_or(|n| n != "node_modules"))
            .find_map(|d| file_or_folder(&d.join("node_modules").join(id)))
    }?;
    std::fs::canonicalize(found).ok()
}

fn file_or_folder(p: &Path) -> Option<PathBuf> {
    file(p).or_else(|| folder(p))
}

fn file(p: &Path) -> Option<PathBuf> {
    if p.is_file() {
        return Some(p.to_owned());
    }
    ["js", "json"].iter().find_map(|ext| {
        let mut with = p.as_os_str().to_owned();
        with.push(".");
        with.push(ext);
        let with = PathBuf::from(with);
        with.is_file().then_some(with)
    })
}

fn folder(p: &Path) -> Option<PathBuf> {
    if !p.is_dir() {
        return None;
    }
    let main = std::fs::read_to_string(p.join("package.json"))
        .ok()
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(&raw).ok())
        .and_then(|v| v["main"].as_str().map(str::to_owned));
    if let Some(found) = main.and_then(|m| {
        let m = p.join(m);
        file(&m).or_else(|| file(&m.join("index")))
    }) {
        return Some(found);
    }
    file(&p.join("index"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_folders_and_node_modules_resolve_as_node_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("utils.js"), "").unwrap();
        std::fs::write(root.join("data.json"), "{}").unwrap();
        std::fs::create_dir_all(root.join("lib/sub")).unwrap();
        std::fs::write(root.join("lib/index.js"), "").unwrap();
        std::fs::create_dir_all(root.join("node_modules/pkg/dist")).unwrap();
        std::fs::write(
            root.join("node_modules/pkg/package.json"),
            r#"{"main": "dist/main.js"}"#,
        )
        .unwrap();
        std::fs::write(root.join("node_modules/pkg/dist/main.js"), "").unwrap();
        let canon = |p: &str| std::fs::canonicalize(root.join(p)).unwrap();
        assert_eq!(resolve(root, "./utils"), Some(canon("utils.js")));
        assert_eq!(resolve(root, "./utils.js"), Some(canon("utils.js")));
        assert_eq!(resolve(root, "./data"), Some(canon("data.json")));
        assert_eq!(resolve(root, "./lib"), Some(canon("lib/index.js")));
        assert_eq!(
            resolve(&root.join("lib/sub"), "../../utils"),
            Some(canon("utils.js"))
        );
        let abs = root.join("utils.js");
        assert_eq!(
            resolve(root, abs.to_str().unwrap()),
            Some(canon("utils.js"))
        );
        assert_eq!(
            resolve(&root.join("lib/sub"), "pkg"),
            Some(canon("node_modules/pkg/dist/main.js"))
        );
        assert_eq!(resolve(root, "./missing"), None);
        assert_eq!(resolve(root, "missing-pkg"), None);
        assert_eq!(resolve(root, ""), None);
    }
}
