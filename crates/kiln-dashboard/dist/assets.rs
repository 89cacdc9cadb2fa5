// Written by ui/build.mjs: do not edit.
static ASSETS: &[Asset] = &[
    Asset { path: "assets/app-CXDROOP2.css", content_type: "text/css; charset=utf-8", etag: "\"E16QLMWY3PGino21Z4SG-p\"", immutable: true, body: include_bytes!("assets/app-CXDROOP2.css"), gzip: include_bytes!("assets/app-CXDROOP2.css.gz"), brotli: include_bytes!("assets/app-CXDROOP2.css.br") },
    Asset { path: "assets/app-HAWOWIJI.js", content_type: "text/javascript; charset=utf-8", etag: "\"a6HOHgoJHrtYfbOjHu-DjS\"", immutable: true, body: include_bytes!("assets/app-HAWOWIJI.js"), gzip: include_bytes!("assets/app-HAWOWIJI.js.gz"), brotli: include_bytes!("assets/app-HAWOWIJI.js.br") },
    Asset { path: "assets/de-EXNCPW5I.js", content_type: "text/javascript; charset=utf-8", etag: "\"JCtn29G9v-5xhGWLznXZwu\"", immutable: true, body: include_bytes!("assets/de-EXNCPW5I.js"), gzip: include_bytes!("assets/de-EXNCPW5I.js.gz"), brotli: include_bytes!("assets/de-EXNCPW5I.js.br") },
    Asset { path: "favicon.svg", content_type: "image/svg+xml", etag: "\"qdVmpkfq7PCzBOURsvpf10\"", immutable: false, body: include_bytes!("favicon.svg"), gzip: include_bytes!("favicon.svg.gz"), brotli: include_bytes!("favicon.svg.br") },
    Asset { path: "index.html", content_type: "text/html; charset=utf-8", etag: "\"QRb_v1xOWyk50YJiJDgLhz\"", immutable: false, body: include_bytes!("index.html"), gzip: include_bytes!("index.html.gz"), brotli: include_bytes!("index.html.br") },
];
