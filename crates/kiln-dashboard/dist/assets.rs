// Written by ui/build.mjs: do not edit.
static ASSETS: &[Asset] = &[
    Asset { path: "assets/app-AUBCBKGO.js", content_type: "text/javascript; charset=utf-8", etag: "\"kdS2OrKr34pJ1fASkE7uG9\"", immutable: true, body: include_bytes!("assets/app-AUBCBKGO.js"), gzip: include_bytes!("assets/app-AUBCBKGO.js.gz"), brotli: include_bytes!("assets/app-AUBCBKGO.js.br") },
    Asset { path: "assets/app-NZVCA2YX.css", content_type: "text/css; charset=utf-8", etag: "\"4E7DYLUmax9xixCvpGrBad\"", immutable: true, body: include_bytes!("assets/app-NZVCA2YX.css"), gzip: include_bytes!("assets/app-NZVCA2YX.css.gz"), brotli: include_bytes!("assets/app-NZVCA2YX.css.br") },
    Asset { path: "favicon.svg", content_type: "image/svg+xml", etag: "\"qdVmpkfq7PCzBOURsvpf10\"", immutable: false, body: include_bytes!("favicon.svg"), gzip: include_bytes!("favicon.svg.gz"), brotli: include_bytes!("favicon.svg.br") },
    Asset { path: "index.html", content_type: "text/html; charset=utf-8", etag: "\"O-YzGsG4PlBNDuFaxP0I3A\"", immutable: false, body: include_bytes!("index.html"), gzip: include_bytes!("index.html.gz"), brotli: include_bytes!("index.html.br") },
];
