//! The `charset` parameter of text types, as mimetype's `internal/charset` computes it.

use super::scan::{self, Flags};

const BOMS: [(&[u8], &str); 5] = [
    (&[0xEF, 0xBB, 0xBF], "utf-8"),
    (&[0x00, 0x00, 0xFE, 0xFF], "utf-32be"),
    (&[0xFF, 0xFE, 0x00, 0x00], "utf-32le"),
    (&[0xFE, 0xFF], "utf-16be"),
    (&[0xFF, 0xFE], "utf-16le"),
];

/// Byte classes from libmagic's encoding.c: never in text, ASCII text, ISO-8859 text, other.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    F,
    T,
    I,
    X,
}

fn class(b: u8) -> Class {
    match b {
        0x07..=0x0D | 0x1B | 0x20..=0x7E | 0x85 => Class::T,
        0x80..=0x9F => Class::X,
        0xA0..=0xFF => Class::I,
        _ => Class::F,
    }
}

/// The charset declared by a byte order mark, if any.
pub(crate) fn from_bom(content: &[u8]) -> Option<&'static str> {
    BOMS.iter()
        .find(|(bom, _)| content.starts_with(bom))
        .map(|(_, enc)| *enc)
}

/// Charset of plain text: BOM, else UTF-8 (including pure ASCII), else ISO-8859-1 or
/// windows-1252, else none.
pub(crate) fn from_plain(content: &[u8]) -> Option<String> {
    if content.is_empty() {
        return None;
    }
    if let Some(c) = from_bom(content) {
        return Some(c.to_owned());
    }
    let orig = content;
    let mut content = content;
    // Drop a (possibly partial) multi-byte rune at the end, as the original does.
    let mut i = content.len();
    while i > 0 && i + 3 > content.len() {
        i -= 1;
        let b = content[i];
        if b < 0x80 {
            break;
        }
        if b & 0xC0 != 0x80 {
            content = &content[..i];
            break;
        }
    }
    // ASCII is a subset of UTF-8: W3C recommends calling it UTF-8.
    if std::str::from_utf8(content).is_ok() {
        return Some("utf-8".into());
    }
    latin(orig).map(str::to_owned)
}

fn latin(content: &[u8]) -> Option<&'static str> {
    let mut control = false;
    for &b in content {
        let t = class(b);
        if t != Class::T && t != Class::I {
            return None;
        }
        if (0x80..=0x9F).contains(&b) {
            control = true;
        }
    }
    Some(if control {
        "windows-1252"
    } else {
        "iso-8859-1"
    })
}

/// Charset of an XML document: its declaration's `encoding`, else as plain text.
pub(crate) fn from_xml(content: &[u8]) -> Option<String> {
    if let Some(c) = from_xml_decl(content) {
        return Some(c);
    }
    from_plain(content)
}

fn from_xml_decl(mut s: &[u8]) -> Option<String> {
    const XML: &[u8] = b"<?xml";
    loop {
        scan::trim_lws(&mut s);
        if s.len() <= XML.len() {
            return None;
        }
        let i = scan::find(s, XML)?;
        scan::advance(&mut s, i + XML.len());
        loop {
            let (name, val, more) = scan::get_an_attribute(&mut s);
            if scan::match_at(name, b"encoding", Flags::NONE).is_some() && !val.is_empty() {
                return Some(String::from_utf8_lossy(val).into_owned());
            }
            if !more {
                break;
            }
        }
    }
}

/// Charset of an HTML document: BOM, else a `<meta>` declaration before `<body`, else as plain
/// text.
pub(crate) fn from_html(content: &[u8]) -> Option<String> {
    if let Some(c) = from_bom(content) {
        return Some(c.to_owned());
    }
    if let Some(c) = from_html_meta(content) {
        return Some(c);
    }
    from_plain(content)
}

#[derive(PartialEq, Eq)]
enum Pragma {
    DontKnow,
    Need,
    DontNeed,
}

/// The WHATWG prescan for a `<meta charset>` / `<meta http-equiv content>` declaration.
fn from_html_meta(mut s: &[u8]) -> Option<String> {
    const META: &[u8] = b"<META";
    const BODY: &[u8] = b"<BODY";
    loop {
        if scan::skip_a_comment(&mut s) {
            continue;
        }
        if s.len() <= META.len() {
            return None;
        }
        if scan::match_at(s, BODY, Flags::IGNORE_CASE).is_some() {
            return None;
        }
        if scan::match_at(s, META, Flags::IGNORE_CASE).is_none() {
            s = &s[1..];
            continue;
        }
        s = &s[META.len()..];
        let c = scan::pop(&mut s);
        if c == 0 || (!scan::is_ws(c) && c != b'/') {
            return None;
        }
        let mut seen: Vec<String> = Vec::new();
        let mut got_pragma = false;
        let mut need = Pragma::DontKnow;
        let mut charset = String::new();
        loop {
            let (name_b, val, more) = scan::get_an_attribute(&mut s);
            let name = String::from_utf8_lossy(name_b).to_lowercase();
            let skip = seen.contains(&name)
                || (name.is_empty()
                    && val.is_empty()
                    && (need == Pragma::DontKnow || (need == Pragma::Need && !got_pragma)));
            if !skip {
                match name.as_str() {
                    "http-equiv"
                        if scan::match_at(val, b"CONTENT-TYPE", Flags::IGNORE_CASE).is_some() =>
                    {
                        got_pragma = true;
                    }
                    "content" => {
                        charset =
                            String::from_utf8_lossy(extract_charset_from_meta(val)).into_owned();
                        if !charset.is_empty() {
                            need = Pragma::Need;
                        }
                    }
                    "charset" => {
                        charset = String::from_utf8_lossy(val).into_owned();
                        need = Pragma::DontNeed;
                    }
                    _ => {}
                }
                seen.push(name);
            }
            if !more {
                break;
            }
        }
        if need == Pragma::DontKnow || (need == Pragma::Need && !got_pragma) {
            continue;
        }
        return Some(charset).filter(|c| !c.is_empty());
    }
}

fn trim_space(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() || *first == 0x0B {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() || *last == 0x0B {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// The charset inside a `content="text/html; charset=..."` value.
fn extract_charset_from_meta(mut s: &[u8]) -> &[u8] {
    loop {
        let Some(i) = scan::find(s, b"charset") else {
            return &[];
        };
        scan::advance(&mut s, i + b"charset".len());
        while scan::is_ws(scan::peek(s)) {
            scan::advance(&mut s, 1);
        }
        if scan::pop(&mut s) != b'=' {
            continue;
        }
        while scan::is_ws(scan::peek(s)) {
            scan::advance(&mut s, 1);
        }
        let quote = scan::peek(s);
        if quote == 0 {
            return &[];
        }
        if quote == b'"' || quote == b'\'' {
            scan::advance(&mut s, 1);
            return trim_space(scan::pop_until(&mut s, &[quote]));
        }
        return trim_space(scan::pop_until(&mut s, b";\t\n\x0c\r "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        assert_eq!(from_plain(b"hello").as_deref(), Some("utf-8"));
        assert_eq!(
            from_plain("héllo wörld".as_bytes()).as_deref(),
            Some("utf-8")
        );
        assert_eq!(from_plain(b"caf\xe9 ok").as_deref(), Some("iso-8859-1"));
        assert_eq!(
            from_plain(b"caf\xe9\x85 ok").as_deref(),
            Some("windows-1252")
        );
        // C1 bytes other than NEL are neither UTF-8 nor Latin: no charset.
        assert_eq!(from_plain(b"\x93quoted\x94 "), None);
        // Control bytes that text allows (ESC) are still UTF-8.
        assert_eq!(from_plain(b"a\x1bb").as_deref(), Some("utf-8"));
        assert_eq!(from_plain(b"\xff\xfeh\0i\0").as_deref(), Some("utf-16le"));
        // A trailing multi-byte rune is dropped before the UTF-8 check, as in the original.
        assert_eq!(from_plain("é".as_bytes()).as_deref(), Some("utf-8"));
        assert_eq!(from_plain(b"ok\xc3").as_deref(), Some("utf-8"));
        assert_eq!(from_plain(b""), None);
    }

    #[test]
    fn html_meta() {
        assert_eq!(
            from_html(b"<html><head><meta charset=\"UTF-8\"></head>").as_deref(),
            Some("UTF-8")
        );
        assert_eq!(
            from_html(b"<html><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\">").as_deref(),
            Some("iso-8859-2")
        );
        // content= without the http-equiv pragma does not count.
        assert_eq!(
            from_html(b"<html><meta content=\"text/html; charset=koi8-r\">").as_deref(),
            Some("utf-8")
        );
        // After <body nothing counts.
        assert_eq!(
            from_html(b"<html><body><meta charset=\"koi8-r\">").as_deref(),
            Some("utf-8")
        );
    }

    #[test]
    fn xml_decl() {
        assert_eq!(
            from_xml(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(
            from_xml(b"<?xml version=\"1.0\"?><a/>").as_deref(),
            Some("utf-8")
        );
    }
}
