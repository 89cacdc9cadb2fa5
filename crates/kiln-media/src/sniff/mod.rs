//! Content type detection from a file's first bytes, as PocketBase 0.40 does it.
//!
//! PocketBase stores the content type that `github.com/gabriel-vasile/mimetype` (v1.4.15, the
//! version PocketBase 0.40.6 is built with) detects from the first 4096 bytes of an upload, and validates a file field's `mimeTypes`
//! against it; the client's `Content-Type` and the file name play no part. This module is a port
//! of that detector: the same tree of formats, tried in the same order, with the same charset
//! rules for text. It reads nothing beyond the bytes it is given and cannot panic on any input.

mod charset;
mod csv;
mod json;
mod magic;
mod mp3;
mod office;
mod scan;
mod text;

use magic as m;
use office as o;
use text as t;

pub use scan::READ_LIMIT;

/// One format in the detection tree: its children refine it and are tried in order once it
/// matched.
struct Node {
    mime: &'static str,
    ext: &'static str,
    aliases: &'static [&'static str],
    detect: fn(&[u8]) -> bool,
    children: &'static [Node],
}

const fn n(mime: &'static str, ext: &'static str, detect: fn(&[u8]) -> bool) -> Node {
    Node {
        mime,
        ext,
        aliases: &[],
        detect,
        children: &[],
    }
}

impl Node {
    const fn kids(mut self, children: &'static [Node]) -> Node {
        self.children = children;
        self
    }
    const fn alias(mut self, aliases: &'static [&'static str]) -> Node {
        self.aliases = aliases;
        self
    }
}

static ROOT: Node = Node {
    mime: "application/octet-stream",
    ext: "",
    aliases: &[],
    detect: |_| true,
    children: ROOT_CHILDREN,
};

/// mimetype's root children, in its order (the order decides between overlapping signatures).
static ROOT_CHILDREN: &[Node] = &[
    n("image/x-xpixmap", ".xpm", m::xpm),
    n("application/x-7z-compressed", ".7z", m::seven_z),
    n("application/zip", ".zip", o::zip)
        .alias(&["application/x-zip", "application/x-zip-compressed"])
        .kids(ZIP),
    n("application/pdf", ".pdf", m::pdf).alias(&["application/x-pdf"]),
    n("application/vnd.fdf", ".fdf", m::fdf),
    n("application/x-ole-storage", "", o::ole).kids(OLE),
    n("application/postscript", ".ps", m::ps),
    n("image/vnd.adobe.photoshop", ".psd", m::psd).alias(&["image/x-psd", "application/photoshop"]),
    n("application/pkcs7-signature", ".p7s", m::p7s),
    n("application/ogg", ".ogg", m::ogg)
        .alias(&["application/x-ogg"])
        .kids(&[
            n("audio/ogg", ".oga", m::ogg_audio),
            n("video/ogg", ".ogv", m::ogg_video),
        ]),
    n("image/png", ".png", m::png)
        .kids(&[n("image/apng", ".apng", m::apng).alias(&["image/vnd.mozilla.apng"])]),
    n("image/jpeg", ".jpg", m::jpg),
    n("image/jxl", ".jxl", m::jxl),
    n("image/jp2", ".jp2", m::jp2),
    n("image/jpx", ".jpf", m::jpx),
    n("image/jpm", ".jpm", m::jpm).alias(&["video/jpm"]),
    n("image/jxs", ".jxs", m::jxs),
    n("image/gif", ".gif", m::gif),
    n("image/webp", ".webp", m::webp),
    n(
        "application/vnd.microsoft.portable-executable",
        ".exe",
        m::exe,
    ),
    n("application/x-elf", "", m::elf).kids(&[
        n("application/x-object", "", m::elf_obj),
        n("application/x-executable", "", m::elf_exe),
        n("application/x-sharedlib", ".so", m::elf_lib),
        n("application/x-coredump", "", m::elf_dump),
    ]),
    n("application/x-archive", ".a", m::ar)
        .alias(&["application/x-unix-archive"])
        .kids(&[n("application/vnd.debian.binary-package", ".deb", m::deb)]),
    n("application/x-tar", ".tar", m::tar),
    n("application/x-xar", ".xar", m::xar),
    n("application/x-bzip2", ".bz2", m::bz2),
    n("application/fits", ".fits", m::fits).alias(&["image/fits"]),
    n("image/tiff", ".tiff", m::tiff),
    n("image/bmp", ".bmp", m::bmp).alias(&["image/x-bmp", "image/x-ms-bmp"]),
    n("application/vnd.lotus-1-2-3", ".123", m::lotus123),
    n("image/x-icon", ".ico", m::ico),
    n("audio/flac", ".flac", m::flac),
    n("audio/midi", ".midi", m::midi).alias(&[
        "audio/mid",
        "audio/sp-midi",
        "audio/x-mid",
        "audio/x-midi",
    ]),
    n("audio/ape", ".ape", m::ape),
    n("audio/musepack", ".mpc", m::muse_pack),
    n("audio/amr", ".amr", m::amr).alias(&["audio/amr-nb"]),
    n("audio/wav", ".wav", m::wav).alias(&["audio/x-wav", "audio/vnd.wave", "audio/wave"]),
    n("audio/aiff", ".aiff", m::aiff).alias(&["audio/x-aiff"]),
    n("audio/basic", ".au", m::au),
    n("video/mpeg", ".mpeg", m::mpeg),
    n("video/quicktime", ".mov", m::quick_time),
    n("video/mp4", ".mp4", m::mp4).kids(MP4),
    n("video/webm", ".webm", m::webm).alias(&["audio/webm"]),
    n("video/x-msvideo", ".avi", m::avi).alias(&["video/avi", "video/msvideo"]),
    n("video/x-flv", ".flv", m::flv),
    n("video/matroska", ".mkv", m::mkv).alias(&["video/x-matroska"]),
    n("video/x-ms-asf", ".asf", m::asf).alias(&["video/asf", "video/x-ms-wmv"]),
    n("audio/aac", ".aac", m::aac),
    n("audio/x-unknown", ".voc", m::voc),
    n("application/vnd.apple.mpegurl", ".m3u", m::m3u)
        .alias(&["audio/mpegurl", "application/x-mpegurl"]),
    n("application/vnd.rn-realmedia-vbr", ".rmvb", m::rmvb),
    n("application/gzip", ".gz", m::gzip).alias(&[
        "application/x-gzip",
        "application/x-gunzip",
        "application/gzipped",
        "application/gzip-compressed",
        "application/x-gzip-compressed",
        "gzip/document",
    ]),
    n("application/x-java-applet", ".class", m::class),
    n("application/x-shockwave-flash", ".swf", m::swf),
    n("application/x-chrome-extension", ".crx", m::crx),
    n("font/ttf", ".ttf", m::ttf).alias(&[
        "font/sfnt",
        "application/x-font-ttf",
        "application/font-sfnt",
    ]),
    n("font/woff", ".woff", m::woff),
    n("font/woff2", ".woff2", m::woff2),
    n("font/otf", ".otf", m::otf),
    n("font/collection", ".ttc", m::ttc),
    n("application/vnd.ms-fontobject", ".eot", m::eot),
    n("application/wasm", ".wasm", m::wasm),
    n("application/vnd.shx", ".shx", m::shx).kids(&[n("application/vnd.shp", ".shp", m::shp)]),
    n("application/x-dbf", ".dbf", m::dbf),
    n("application/dicom", ".dcm", m::dcm),
    n("application/vnd.rar", ".rar", m::rar)
        .alias(&["application/x-rar-compressed", "application/x-rar"]),
    n("image/vnd.djvu", ".djvu", m::djvu),
    n("application/x-mobipocket-ebook", ".mobi", m::mobi),
    n("application/x-ms-reader", ".lit", m::lit),
    n("image/bpg", ".bpg", m::bpg),
    n("application/cbor", ".cbor", m::cbor),
    n("application/vnd.sqlite3", ".sqlite", m::sqlite).alias(&["application/x-sqlite3"]),
    n("image/vnd.dwg", ".dwg", m::dwg).alias(&[
        "image/x-dwg",
        "application/acad",
        "application/x-acad",
        "application/autocad_dwg",
        "application/dwg",
        "application/x-dwg",
        "application/x-autocad",
        "drawing/dwg",
    ]),
    n("application/vnd.nintendo.snes.rom", ".nes", m::nes),
    n("application/x-ms-shortcut", ".lnk", m::lnk),
    n("application/x-mach-binary", ".macho", m::macho),
    n("audio/qcelp", ".qcp", m::qcp),
    n("image/x-icns", ".icns", m::icns),
    n("image/vnd.radiance", ".hdr", m::hdr),
    n("application/marc", ".mrc", m::marc),
    n("application/x-msaccess", ".mdb", m::ms_access_mdb),
    n("application/x-msaccess", ".accdb", m::ms_access_ace),
    n("application/zstd", ".zst", m::zstd),
    n("application/vnd.ms-cab-compressed", ".cab", m::cab),
    n("application/x-rpm", ".rpm", m::rpm),
    n("application/x-xz", ".xz", m::xz),
    n("application/lzip", ".lz", m::lzip).alias(&["application/x-lzip"]),
    n("application/x-bittorrent", ".torrent", m::torrent),
    n("application/x-cpio", ".cpio", m::cpio),
    n("application/tzif", "", m::tzif),
    n("image/x-xcf", ".xcf", m::xcf),
    n("image/x-gimp-pat", ".pat", m::pat),
    n("image/x-gimp-gbr", ".gbr", m::gbr),
    n("model/gltf-binary", ".glb", m::glb),
    n("application/x-installshield", ".cab", m::install_shield_cab),
    n("image/jxr", ".jxr", m::jxr).alias(&["image/vnd.ms-photo"]),
    n("application/vnd.apache.parquet", ".parquet", m::parquet).alias(&["application/x-parquet"]),
    n("application/onenote", ".one", o::one_note),
    n("application/vnd.ms-htmlhelp", ".chm", m::chm),
    n("application/vnd.wordperfect", ".wpd", m::wpd),
    n("image/vnd.dxf", ".dxf", m::dxf),
    n("application/grib", ".grb", m::grib),
    n("application/zlib", "", m::zlib),
    n("application/x-os2-inf", ".inf", m::inf),
    n("application/x-os2-hlp", ".hlp", m::hlp),
    n("application/vnd.framemaker", ".fm", m::frame_maker),
    n("application/bufr", ".bufr", m::bufr),
    n("application/x-bytecode.python", ".pyc", m::pyc),
    n("application/vnd.tcpdump.pcap", ".pcap", m::pcap),
    // MP3 late: it searches the input for frames, which containers embedding MP3 also have.
    n("audio/mpeg", ".mp3", m::mp3).alias(&["audio/x-mpeg", "audio/mp3"]),
    // Text last: it is the slowest check.
    n("text/plain", ".txt", t::text).kids(TEXT),
];

static ZIP: &[Node] = &[
    n(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
        o::docx,
    ),
    n(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
        o::pptx,
    ),
    n(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
        o::xlsx,
    ),
    n("application/epub+zip", ".epub", o::epub),
    n("application/vnd.android.package-archive", ".apk", o::apk),
    n("application/java-archive", ".jar", o::jar).alias(&[
        "application/jar",
        "application/jar-archive",
        "application/x-java-archive",
    ]),
    n("application/vnd.oasis.opendocument.text", ".odt", o::odt)
        .alias(&["application/x-vnd.oasis.opendocument.text"])
        .kids(&[n(
            "application/vnd.oasis.opendocument.text-template",
            ".ott",
            o::ott,
        )
        .alias(&["application/x-vnd.oasis.opendocument.text-template"])]),
    n(
        "application/vnd.oasis.opendocument.spreadsheet",
        ".ods",
        o::ods,
    )
    .alias(&["application/x-vnd.oasis.opendocument.spreadsheet"])
    .kids(&[n(
        "application/vnd.oasis.opendocument.spreadsheet-template",
        ".ots",
        o::ots,
    )
    .alias(&["application/x-vnd.oasis.opendocument.spreadsheet-template"])]),
    n(
        "application/vnd.oasis.opendocument.presentation",
        ".odp",
        o::odp,
    )
    .alias(&["application/x-vnd.oasis.opendocument.presentation"])
    .kids(&[n(
        "application/vnd.oasis.opendocument.presentation-template",
        ".otp",
        o::otp,
    )
    .alias(&["application/x-vnd.oasis.opendocument.presentation-template"])]),
    n(
        "application/vnd.oasis.opendocument.graphics",
        ".odg",
        o::odg,
    )
    .alias(&["application/x-vnd.oasis.opendocument.graphics"])
    .kids(&[n(
        "application/vnd.oasis.opendocument.graphics-template",
        ".otg",
        o::otg,
    )
    .alias(&["application/x-vnd.oasis.opendocument.graphics-template"])]),
    n("application/vnd.oasis.opendocument.formula", ".odf", o::odf)
        .alias(&["application/x-vnd.oasis.opendocument.formula"]),
    n("application/vnd.oasis.opendocument.chart", ".odc", o::odc)
        .alias(&["application/x-vnd.oasis.opendocument.chart"]),
    n("application/vnd.sun.xml.calc", ".sxc", o::sxc),
    n("application/vnd.google-earth.kmz", ".kmz", o::kmz),
    n(
        "application/vnd.ms-visio.drawing.main+xml",
        ".vsdx",
        o::visio,
    ),
];

static OLE: &[Node] = &[
    n("application/x-ms-installer", ".msi", o::msi)
        .alias(&["application/x-windows-installer", "application/x-msi"]),
    n("application/vnd.ms-outlook", ".msg", o::msg),
    n("application/vnd.ms-excel", ".xls", o::xls).alias(&["application/msexcel"]),
    n("application/vnd.ms-publisher", ".pub", o::publisher),
    n("application/vnd.ms-powerpoint", ".ppt", o::ppt).alias(&["application/mspowerpoint"]),
    n("application/msword", ".doc", o::doc).alias(&["application/vnd.ms-word"]),
];

static MP4: &[Node] = &[
    n("image/avif", ".avif", m::avif),
    n("video/3gpp", ".3gp", m::three_gp).alias(&["video/3gp", "audio/3gpp"]),
    n("video/3gpp2", ".3g2", m::three_g2).alias(&["video/3g2", "audio/3gpp2"]),
    n("audio/mp4", ".mp4", m::audio_mp4).alias(&["audio/x-mp4a"]),
    n("video/quicktime", ".mqv", m::mqv),
    n("audio/x-m4a", ".m4a", m::m4a),
    n("video/x-m4v", ".m4v", m::m4v),
    n("image/heic", ".heic", m::heic),
    n("image/heic-sequence", ".heic", m::heic_sequence),
    n("image/heif", ".heif", m::heif),
    n("image/heif-sequence", ".heif", m::heif_sequence),
    n("video/mj2", ".mj2", m::mj2),
    n("video/vnd.dvb.file", ".dvb", m::dvb),
];

static TEXT: &[Node] = &[
    n("image/svg+xml", ".svg", t::svg),
    n("text/html", ".html", t::html),
    n("text/xml", ".xml", t::xml)
        .alias(&["application/xml"])
        .kids(&[
            n("application/rss+xml", ".rss", t::rss).alias(&["text/rss"]),
            n("application/atom+xml", ".atom", t::atom),
            n("model/x3d+xml", ".x3d", t::x3d),
            n("application/vnd.google-earth.kml+xml", ".kml", t::kml),
            n("application/x-xliff+xml", ".xlf", t::xliff),
            n("model/vnd.collada+xml", ".dae", t::collada),
            n("application/gml+xml", ".gml", t::gml),
            n("application/gpx+xml", ".gpx", t::gpx),
            n("application/vnd.garmin.tcx+xml", ".tcx", t::tcx),
            n("application/x-amf", ".amf", t::amf),
            n(
                "application/vnd.ms-package.3dmanufacturing-3dmodel+xml",
                ".3mf",
                t::threemf,
            ),
            n("application/vnd.adobe.xfdf", ".xfdf", t::xfdf),
            n("application/owl+xml", ".owl", t::owl2),
            n("application/xhtml+xml", ".html", t::xhtml),
            n("application/vnd.cyclonedx+xml", ".xml", t::cdx_xml),
        ]),
    n("text/x-php", ".php", t::php),
    n("text/javascript", ".js", t::js)
        .alias(&["application/x-javascript", "application/javascript"]),
    n("text/x-lua", ".lua", t::lua),
    n("text/x-perl", ".pl", t::perl),
    n("text/x-python", ".py", t::python).alias(&["text/x-script.python", "application/x-python"]),
    n("text/x-ruby", ".rb", t::ruby).alias(&["application/x-ruby"]),
    n("application/json", ".json", t::json).kids(&[
        n("application/geo+json", ".geojson", t::geo_json),
        n("application/json", ".har", t::har),
        n("model/gltf+json", ".gltf", t::gltf),
        n("application/vnd.cyclonedx+json", ".json", t::cdx_json),
    ]),
    n("application/x-ndjson", ".ndjson", t::nd_json),
    n("text/rtf", ".rtf", t::rtf).alias(&["application/rtf"]),
    n("application/x-subrip", ".srt", t::srt).alias(&["application/x-srt", "text/x-srt"]),
    n("text/x-tcl", ".tcl", t::tcl).alias(&["application/x-tcl"]),
    n("text/csv", ".csv", t::csv),
    n("text/tab-separated-values", ".tsv", t::tsv),
    n("text/vcard", ".vcf", t::vcard),
    n("text/calendar", ".ics", t::icalendar),
    n("application/warc", ".warc", t::warc),
    n("text/vtt", ".vtt", t::vtt),
    n("text/x-shellscript", ".sh", t::shell).alias(&[
        "text/x-sh",
        "application/x-shellscript",
        "application/x-sh",
    ]),
    n("image/x-portable-bitmap", ".pbm", t::net_pbm),
    n("image/x-portable-graymap", ".pgm", t::net_pgm),
    n("image/x-portable-pixmap", ".ppm", t::net_ppm),
    n("image/x-portable-arbitrarymap", ".pam", t::net_pam),
    n("message/rfc822", ".eml", t::rfc822),
    n("text/vnd.familysearch.gedcom", ".ged", t::gedcom),
];

/// The outcome of [`detect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The content type PocketBase stores for the file, e.g. `image/png` or
    /// `text/plain; charset=utf-8`.
    pub mime: String,
    /// The extension (with its dot) PocketBase gives an upload whose name has none, e.g. `.png`;
    /// empty for formats without one (including unknown binary data).
    pub extension: &'static str,
}

/// Detects the content type of a file from its first bytes (only the first [`READ_LIMIT`] are
/// looked at), with the extension that goes with it.
pub fn detect(head: &[u8]) -> Detected {
    let input = &head[..head.len().min(READ_LIMIT)];
    let node = deepest(&ROOT, input);
    let charset = match node.mime {
        "text/plain" => charset::from_plain(&input[..input.len().min(1024)]),
        "text/html" => charset::from_html(&input[..input.len().min(1024)]),
        "text/xml" => charset::from_xml(&input[..input.len().min(1024)]),
        _ => None,
    };
    let mime = match charset {
        Some(cs) => format!("{}; charset={}", node.mime, cs),
        None => node.mime.to_owned(),
    };
    Detected {
        mime,
        extension: node.ext,
    }
}

fn deepest(node: &'static Node, input: &[u8]) -> &'static Node {
    match node.children.iter().find(|c| (c.detect)(input)) {
        Some(child) => deepest(child, input),
        None => node,
    }
}

/// The MIME type of a file from its first bytes, like PocketBase's detection: images (png,
/// jpeg, gif, webp, bmp, tiff, ico, svg — SVG recognised as `image/svg+xml` from its text), pdf,
/// zip and office formats, audio and video containers, json, html
/// (`text/html; charset=utf-8`), plain text (`text/plain; charset=utf-8`) and about 170 other
/// formats, else `application/octet-stream`. Looks at most at the first [`READ_LIMIT`] (4096)
/// bytes, so callers should pass that much when the file is at least that long.
///
/// Never trusts the client's Content-Type, and, like PocketBase 0.40, does not let the file
/// name decide either: a PNG named `x.txt` is `image/png`, an HTML page named `x.png` is
/// `text/html; charset=utf-8`, and a CSS file is `text/plain; charset=utf-8` whatever its
/// extension. `filename` is accepted for callers' convenience and deliberately unused; the one
/// place PocketBase does look at a name is when serving, see [`served_content_type`].
pub fn sniff(head: &[u8], filename: &str) -> String {
    let _ = filename;
    detect(head).mime
}

/// The base type without parameters, e.g. `text/plain` for `text/plain; charset=utf-8`.
pub fn base_type(mime: &str) -> &str {
    mime.split(';').next().unwrap_or("").trim()
}

/// Whether a detected content type satisfies one entry of a file field's `mimeTypes`, exactly as
/// PocketBase checks it: parameters and surrounding whitespace ignored, case-insensitive, and
/// a format's known aliases accepted (`application/x-zip-compressed` allows a zip,
/// `audio/x-wav` a wav), but no parent formats (`application/zip` does not allow a docx, nor
/// `text/plain` an HTML file).
pub fn mime_is(detected: &str, allowed: &str) -> bool {
    let want = base_type(allowed).to_ascii_lowercase();
    let found = base_type(detected).to_ascii_lowercase();
    if want.is_empty() {
        return false;
    }
    if want == found {
        return true;
    }
    aliases_of(&found).iter().any(|a| *a == want)
}

fn aliases_of(mime: &str) -> &'static [&'static str] {
    fn find(node: &'static Node, mime: &str) -> Option<&'static [&'static str]> {
        if node.mime == mime && !node.aliases.is_empty() {
            return Some(node.aliases);
        }
        node.children.iter().find_map(|c| find(c, mime))
    }
    find(&ROOT, mime).unwrap_or(&[])
}

/// The `Content-Type` PocketBase sends when serving a stored file: the stored (detected) type,
/// except for a few extensions of the stored file name that browsers need to see with their
/// proper type (`.svg`, `.css`, `.js`, `.mjs`, `.xlsx`, `.docx`, `.pptx`; case-sensitive, as in
/// PocketBase).
pub fn served_content_type<'a>(stored: &'a str, file_name: &str) -> &'a str {
    let last = file_name.rsplit('/').next().unwrap_or(file_name);
    let ext = last.rfind('.').map_or("", |i| &last[i..]);
    match ext {
        ".svg" => "image/svg+xml",
        ".css" => "text/css",
        ".js" | ".mjs" => "text/javascript",
        ".xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => stored,
    }
}

/// Whether PocketBase serves a file of this stored content type inline (`Content-Disposition:
/// inline`) rather than as an attachment: common images (not SVG), audio, video and PDF. Exact
/// match on the stored type, so text types (which carry a charset) are attachments.
pub fn serves_inline(stored: &str) -> bool {
    const INLINE: &[&str] = &[
        "image/png",
        "image/jpg",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/x-icon",
        "image/bmp",
        "video/webm",
        "video/mp4",
        "video/3gpp",
        "video/quicktime",
        "video/x-ms-wmv",
        "audio/basic",
        "audio/aiff",
        "audio/mpeg",
        "audio/midi",
        "audio/mp3",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-mpeg",
        "audio/x-m4a",
        "audio/aac",
        "application/pdf",
        "application/x-pdf",
    ];
    INLINE.contains(&stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_signature_is_thirty_bytes() {
        assert!(magic::fits(b"SIMPLE  =                    T / conforms"));
        assert_eq!(b"SIMPLE  =                    T".len(), 30);
    }

    #[test]
    fn aliases() {
        assert!(mime_is("application/zip", "application/x-zip-compressed"));
        assert!(mime_is("audio/wav", "Audio/X-WAV"));
        assert!(mime_is("text/plain; charset=utf-8", " text/plain "));
        assert!(!mime_is("text/html; charset=utf-8", "text/plain"));
        assert!(!mime_is(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/zip"
        ));
        assert!(!mime_is("image/jpeg", "image/jpg"));
        assert!(!mime_is("image/png", ""));
    }

    #[test]
    fn serving_rules() {
        assert_eq!(
            served_content_type("text/plain; charset=utf-8", "style_abc.css"),
            "text/css"
        );
        assert_eq!(
            served_content_type("image/svg+xml", "a/b/logo_x.svg"),
            "image/svg+xml"
        );
        assert_eq!(
            served_content_type("text/plain; charset=utf-8", "LOGO.SVG"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(served_content_type("image/png", "noext"), "image/png");
        assert!(serves_inline("image/png"));
        assert!(!serves_inline("image/svg+xml"));
        assert!(!serves_inline("text/plain; charset=utf-8"));
    }
}
