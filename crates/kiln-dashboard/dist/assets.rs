// Written by ui/build.mjs: do not edit.
static ASSETS: &[Asset] = &[
    Asset { path: "assets/app-JIUBKLYG.js", content_type: "text/javascript; charset=utf-8", etag: "\"Yz3lq-TtsmwCkZizrYVPIe\"", immutable: true, body: include_bytes!("assets/app-JIUBKLYG.js"), gzip: include_bytes!("assets/app-JIUBKLYG.js.gz"), brotli: include_bytes!("assets/app-JIUBKLYG.js.br") },
    Asset { path: "assets/app-RLGVCLAQ.css", content_type: "text/css; charset=utf-8", etag: "\"9p-ZnJ6zUl4ych5reteGhn\"", immutable: true, body: include_bytes!("assets/app-RLGVCLAQ.css"), gzip: include_bytes!("assets/app-RLGVCLAQ.css.gz"), brotli: include_bytes!("assets/app-RLGVCLAQ.css.br") },
    Asset { path: "favicon.svg", content_type: "image/svg+xml", etag: "\"qdVmpkfq7PCzBOURsvpf10\"", immutable: false, body: include_bytes!("favicon.svg"), gzip: include_bytes!("favicon.svg.gz"), brotli: include_bytes!("favicon.svg.br") },
    Asset { path: "index.html", content_type: "text/html; charset=utf-8", etag: "\"LyJxhxDQ9J-ye3K1dphk9Y\"", immutable: false, body: include_bytes!("index.html"), gzip: include_bytes!("index.html.gz"), brotli: include_bytes!("index.html.br") },
];
