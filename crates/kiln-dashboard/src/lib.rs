//! The dashboard's built files, embedded in the binary and served at `/_/` by kiln-http.
//!
//! The sources live in `ui/` (Preact, bundled by esbuild); `npm run build` there writes `dist/`:
//! the bundle under content-hashed names, each with its gzip and brotli forms, `index.html`, and
//! `dist/assets.rs`, the table this crate includes. `dist/` is checked in so that building Kiln
//! needs no Node; `scripts/test` rebuilds it and fails when it differs from the sources.

/// One built file.
#[derive(Debug)]
pub struct Asset {
    /// Its path under `/_/` (`index.html`, `assets/app-3F2A….js`).
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// A strong validator (a hash of the body, quoted).
    pub etag: &'static str,
    /// Whether the name carries the content's hash, so the file may be cached for good.
    pub immutable: bool,
    pub body: &'static [u8],
    pub gzip: &'static [u8],
    pub brotli: &'static [u8],
}

include!("../dist/assets.rs");

/// The built file at `path` (relative to `/_/`), if any.
pub fn asset(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// Every built file.
pub fn assets() -> &'static [Asset] {
    ASSETS
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_and_its_bundle_are_embedded() {
        let index = super::asset("index.html").expect("index.html");
        let html = std::str::from_utf8(index.body).unwrap();
        for a in super::assets() {
            assert!(!a.gzip.is_empty() && !a.brotli.is_empty(), "{}", a.path);
            // the entry's script and styles; other chunks (languages) are fetched by the script
            if a.path.starts_with("assets/app-") {
                assert!(html.contains(a.path), "index.html does not load {}", a.path);
            }
        }
        assert!(super::assets().iter().any(|a| a.path.ends_with(".js")));
    }
}
