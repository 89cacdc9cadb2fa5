//! Text formats, ported from mimetype 1.4.15's `internal/magic/text*.go`: what counts as text,
//! and the markup, script, data and subtitle formats recognised inside it.

use super::json::{self, Outcome};
use super::scan::READ_LIMIT;
use super::scan::{self, Flags};
use super::{charset, csv};

/// Text: a byte order mark, or no binary byte (WHATWG mime sniffing's definition) in the
/// first 4 KiB.
pub(crate) fn text(r: &[u8]) -> bool {
    if charset::from_bom(r).is_some() {
        return true;
    }
    !r[..r.len().min(4096)].iter().any(|&b| {
        b <= 0x08 || b == 0x0B || (0x0E..=0x1A).contains(&b) || (0x1C..=0x1F).contains(&b)
    })
}

/// Case-insensitive prefix (upper case in `sig`); the input must be longer than `sig`.
fn ci_prefix(r: &[u8], sigs: &[&[u8]]) -> bool {
    sigs.iter().any(|sig| {
        r.len() > sig.len()
            && sig
                .iter()
                .zip(r)
                .all(|(&s, &d)| s == if s.is_ascii_uppercase() { d & 0xDF } else { d })
    })
}

/// An HTML-ish tag at the start (after a UTF-8 BOM and whitespace): the signature, case
/// insensitively, then whitespace or `>`.
fn markup(r: &[u8], sigs: &[&[u8]]) -> bool {
    let mut b = r.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(r);
    scan::trim_lws(&mut b);
    if b.is_empty() {
        return false;
    }
    sigs.iter().any(|sig| {
        b.len() > sig.len()
            && sig
                .iter()
                .zip(b)
                .all(|(&s, &d)| s == if s.is_ascii_uppercase() { d & 0xDF } else { d })
            && (scan::is_ws(b[sig.len()]) || b[sig.len()] == b'>')
    })
}

pub(crate) fn html(r: &[u8]) -> bool {
    markup(
        r,
        &[
            b"<!DOCTYPE HTML",
            b"<HTML",
            b"<HEAD",
            b"<SCRIPT",
            b"<IFRAME",
            b"<H1",
            b"<DIV",
            b"<FONT",
            b"<TABLE",
            b"<A",
            b"<STYLE",
            b"<TITLE",
            b"<B",
            b"<BODY",
            b"<BR",
            b"<P",
            b"<!--",
        ],
    )
}

pub(crate) fn xml(r: &[u8]) -> bool {
    markup(r, &[b"<?XML"])
}

/// An XML root recognised by its local name and/or namespace within the first 512 bytes.
fn xml_sig(r: &[u8], sigs: &[(&[u8], &[u8])]) -> bool {
    let mut b = r;
    scan::trim_lws(&mut b);
    if b.is_empty() {
        return false;
    }
    let b = &b[..b.len().min(512)];
    let idx = |n: &[u8]| scan::find(b, n);
    sigs.iter().any(|&(local, ns)| {
        if local.is_empty() {
            idx(ns).is_some_and(|i| i > 0)
        } else if ns.is_empty() {
            idx(local).is_some_and(|i| i > 0)
        } else {
            match (idx(local), idx(ns)) {
                (Some(l), Some(n)) => l < n,
                _ => false,
            }
        }
    })
}

pub(crate) fn rss(r: &[u8]) -> bool {
    xml_sig(r, &[(b"<rss", b"")])
}
pub(crate) fn atom(r: &[u8]) -> bool {
    xml_sig(r, &[(b"<feed", b"xmlns=\"http://www.w3.org/2005/Atom\"")])
}
pub(crate) fn x3d(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(
            b"<X3D",
            b"xmlns:xsd=\"http://www.w3.org/2001/XMLSchema-instance\"",
        )],
    )
}
pub(crate) fn kml(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[
            (b"<kml", b"xmlns=\"http://www.opengis.net/kml/2.2\""),
            (b"<kml", b"xmlns=\"http://earth.google.com/kml/2.0\""),
            (b"<kml", b"xmlns=\"http://earth.google.com/kml/2.1\""),
            (b"<kml", b"xmlns=\"http://earth.google.com/kml/2.2\""),
        ],
    )
}
pub(crate) fn xliff(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(
            b"<xliff",
            b"xmlns=\"urn:oasis:names:tc:xliff:document:1.2\"",
        )],
    )
}
pub(crate) fn collada(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(
            b"<COLLADA",
            b"xmlns=\"http://www.collada.org/2005/11/COLLADASchema\"",
        )],
    )
}
pub(crate) fn gml(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[
            (b"", b"xmlns:gml=\"http://www.opengis.net/gml\""),
            (b"", b"xmlns:gml=\"http://www.opengis.net/gml/3.2\""),
            (b"", b"xmlns:gml=\"http://www.opengis.net/gml/3.3/exr\""),
        ],
    )
}
pub(crate) fn gpx(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(b"<gpx", b"xmlns=\"http://www.topografix.com/GPX/1/1\"")],
    )
}
pub(crate) fn tcx(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(
            b"<TrainingCenterDatabase",
            b"xmlns=\"http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2\"",
        )],
    )
}
pub(crate) fn amf(r: &[u8]) -> bool {
    xml_sig(r, &[(b"<amf", b"")])
}
pub(crate) fn threemf(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(
            b"<model",
            b"xmlns=\"http://schemas.microsoft.com/3dmanufacturing/core/2015/02\"",
        )],
    )
}
pub(crate) fn xfdf(r: &[u8]) -> bool {
    xml_sig(r, &[(b"<xfdf", b"xmlns=\"http://ns.adobe.com/xfdf/\"")])
}
pub(crate) fn owl2(r: &[u8]) -> bool {
    xml_sig(
        r,
        &[(b"<Ontology", b"xmlns=\"http://www.w3.org/2002/07/owl#\"")],
    )
}
pub(crate) fn cdx_xml(r: &[u8]) -> bool {
    xml_sig(r, &[(b"<bom", b"xmlns=\"http://cyclonedx.org/schema/bom/")])
}
pub(crate) fn xhtml(r: &[u8]) -> bool {
    let b = &r[..r.len().min(1024)];
    let f = Flags::COMPACT_WS.or(Flags::IGNORE_CASE);
    scan::search(b, b"<!DOCTYPE HTML", f).is_some() || scan::search(b, b"<HTML XMLNS=", f).is_some()
}

/// SVG: an `<svg>` root with the SVG namespace (after comments), or an XML declaration with a
/// version followed by `<svg` in the first 4 KiB. Scripts inside do not matter.
pub(crate) fn svg(r: &[u8]) -> bool {
    svg_without_decl(r) || svg_with_decl(r)
}

fn svg_without_decl(mut s: &[u8]) -> bool {
    while scan::is_ws(scan::peek(s)) {
        scan::advance(&mut s, 1);
    }
    while scan::skip_a_comment(&mut s) {}
    if !s.starts_with(b"<svg") {
        return false;
    }
    loop {
        let (name, val, more) = scan::get_an_attribute(&mut s);
        if name == b"xmlns" && val == b"http://www.w3.org/2000/svg" {
            return true;
        }
        if !more {
            return false;
        }
    }
}

fn svg_with_decl(mut s: &[u8]) -> bool {
    while scan::is_ws(scan::peek(s)) {
        scan::advance(&mut s, 1);
    }
    if !s.starts_with(b"<?xml") {
        return false;
    }
    let mut has_version = false;
    loop {
        let (name, _, more) = scan::get_an_attribute(&mut s);
        if name == b"version" {
            has_version = true;
            break;
        }
        if !more {
            break;
        }
    }
    has_version && scan::contains(&s[..s.len().min(4096)], b"<svg")
}

/// `#!` then one of the interpreters, on the first line. A path alone must match exactly; one
/// with `env` allows runs of spaces. For some languages the name must end there (`FULL_WORD`).
fn shebang(r: &[u8], full_word: bool, sigs: &[&[u8]]) -> bool {
    let mut b = r;
    let line = scan::line(&mut b);
    let Some(mut rest) = line.strip_prefix(b"#!") else {
        return false;
    };
    scan::trim_lws(&mut rest);
    sigs.iter().any(|s| {
        let mut flags = if s.contains(&b' ') {
            Flags::COMPACT_WS
        } else {
            Flags::NONE
        };
        if full_word {
            flags = flags.or(Flags::FULL_WORD);
        }
        scan::match_at(rest, s, flags).is_some()
    })
}

pub(crate) fn php(r: &[u8]) -> bool {
    ci_prefix(r, &[b"<?PHP", b"<?\n", b"<?\r", b"<? "])
        || shebang(
            r,
            false,
            &[
                b"/usr/local/bin/php",
                b"/usr/bin/php",
                b"/usr/bin/env php",
                b"/usr/bin/env -S php",
            ],
        )
}
pub(crate) fn js(r: &[u8]) -> bool {
    shebang(
        r,
        false,
        &[
            b"/bin/node",
            b"/usr/bin/node",
            b"/bin/nodejs",
            b"/usr/bin/nodejs",
            b"/usr/bin/env node",
            b"/usr/bin/env -S node",
            b"/usr/bin/env nodejs",
            b"/usr/bin/env -S nodejs",
        ],
    )
}
pub(crate) fn lua(r: &[u8]) -> bool {
    shebang(
        r,
        true,
        &[
            b"/usr/bin/lua",
            b"/usr/local/bin/lua",
            b"/usr/bin/env lua",
            b"/usr/bin/env -S lua",
        ],
    )
}
pub(crate) fn perl(r: &[u8]) -> bool {
    shebang(
        r,
        true,
        &[
            b"/usr/bin/perl",
            b"/usr/bin/env perl",
            b"/usr/bin/env -S perl",
        ],
    )
}
pub(crate) fn python(r: &[u8]) -> bool {
    shebang(
        r,
        false,
        &[
            b"/usr/bin/python",
            b"/usr/local/bin/python",
            b"/usr/bin/env python",
            b"/usr/bin/env -S python",
            b"/usr/bin/python2",
            b"/usr/local/bin/python2",
            b"/usr/bin/env python2",
            b"/usr/bin/env -S python2",
            b"/usr/bin/python3",
            b"/usr/local/bin/python3",
            b"/usr/bin/env python3",
            b"/usr/bin/env -S python3",
        ],
    )
}
pub(crate) fn ruby(r: &[u8]) -> bool {
    shebang(
        r,
        false,
        &[
            b"/usr/bin/ruby",
            b"/usr/local/bin/ruby",
            b"/usr/bin/env ruby",
            b"/usr/bin/env -S ruby",
        ],
    )
}
pub(crate) fn tcl(r: &[u8]) -> bool {
    shebang(
        r,
        false,
        &[
            b"/usr/bin/tcl",
            b"/usr/local/bin/tcl",
            b"/usr/bin/env tcl",
            b"/usr/bin/env -S tcl",
            b"/usr/bin/tclsh",
            b"/usr/local/bin/tclsh",
            b"/usr/bin/env tclsh",
            b"/usr/bin/env -S tclsh",
            b"/usr/bin/wish",
            b"/usr/local/bin/wish",
            b"/usr/bin/env wish",
            b"/usr/bin/env -S wish",
        ],
    )
}
pub(crate) fn shell(r: &[u8]) -> bool {
    shebang(
        r,
        true,
        &[
            b"/bin/sh",
            b"/bin/bash",
            b"/usr/local/bin/bash",
            b"/usr/bin/env bash",
            b"/usr/bin/env -S bash",
            b"/bin/csh",
            b"/usr/local/bin/csh",
            b"/usr/bin/env csh",
            b"/usr/bin/env -S csh",
            b"/bin/dash",
            b"/usr/local/bin/dash",
            b"/usr/bin/env dash",
            b"/usr/bin/env -S dash",
            b"/bin/ksh",
            b"/usr/local/bin/ksh",
            b"/usr/bin/env ksh",
            b"/usr/bin/env -S ksh",
            b"/bin/tcsh",
            b"/usr/local/bin/tcsh",
            b"/usr/bin/env tcsh",
            b"/usr/bin/env -S tcsh",
            b"/bin/zsh",
            b"/usr/local/bin/zsh",
            b"/usr/bin/env zsh",
            b"/usr/bin/env -S zsh",
        ],
    )
}

pub(crate) fn rtf(r: &[u8]) -> bool {
    r.starts_with(b"{\\rtf")
}

/// The input is the whole file (shorter than the read limit) rather than its head.
fn whole(r: &[u8]) -> bool {
    r.len() < READ_LIMIT
}

/// A JSON object or array (not a lone string, number or literal).
fn json_with(r: &[u8], queries: &[json::Query], object_only: bool) -> bool {
    match scan::first_non_ws(r) {
        b'{' => {}
        b'[' if !object_only => {}
        _ => return false,
    }
    let (outcome, satisfied) = json::parse(r, queries);
    if !satisfied {
        return false;
    }
    if whole(r) {
        matches!(outcome, Outcome::Complete(end) if end == r.len())
    } else {
        outcome.inspected_all(r.len()) && !r.is_empty()
    }
}

pub(crate) fn json(r: &[u8]) -> bool {
    json_with(r, &[], false)
}
pub(crate) fn geo_json(r: &[u8]) -> bool {
    json_with(r, json::GEO, true)
}
pub(crate) fn har(r: &[u8]) -> bool {
    json_with(r, json::HAR, true)
}
pub(crate) fn gltf(r: &[u8]) -> bool {
    json_with(r, json::GLTF, true)
}
pub(crate) fn cdx_json(r: &[u8]) -> bool {
    json_with(r, json::CDX, true)
}

/// Newline-delimited JSON: at least two lines, each a complete JSON value (only the last may be
/// cut short), one of them an object or array.
pub(crate) fn nd_json(r: &[u8]) -> bool {
    let (mut lines, mut containers) = (0, 0);
    let mut s = r;
    while !s.is_empty() {
        let l = scan::line(&mut s);
        let outcome = json::parse(l, &[]).0;
        let ok = if s.is_empty() {
            outcome.inspected_all(l.len())
        } else {
            // mimetype's "parsed" length: a complete value, or a blank line.
            matches!(outcome, Outcome::Complete(end) if end == l.len())
                || l.iter().all(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        };
        if !ok {
            return false;
        }
        if json::starts_container(l) {
            containers += 1;
        }
        lines += 1;
    }
    lines > 1 && containers > 0
}

pub(crate) fn csv(r: &[u8]) -> bool {
    csv::separated_values(r, b',')
}
pub(crate) fn tsv(r: &[u8]) -> bool {
    csv::separated_values(r, b'\t')
}

pub(crate) fn vcard(r: &[u8]) -> bool {
    ci_prefix(r, &[b"BEGIN:VCARD\n", b"BEGIN:VCARD\r\n"])
}
pub(crate) fn icalendar(r: &[u8]) -> bool {
    ci_prefix(r, &[b"BEGIN:VCALENDAR\n", b"BEGIN:VCALENDAR\r\n"])
}
pub(crate) fn warc(r: &[u8]) -> bool {
    r.starts_with(b"WARC/1.0") || r.starts_with(b"WARC/1.1")
}
pub(crate) fn vtt(r: &[u8]) -> bool {
    let body = r.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(r);
    body == b"WEBVTT"
        || (body.starts_with(b"WEBVTT")
            && matches!(body.get(6), Some(b'\n' | b'\r' | b' ' | b'\t')))
}

/// SubRip: "1", then a `HH:MM:SS,mmm --> HH:MM:SS,mmm` line going forward in time, then text.
pub(crate) fn srt(r: &[u8]) -> bool {
    let mut s = r;
    if scan::line(&mut s) != b"1" {
        return false;
    }
    let l = scan::line(&mut s);
    if l.len() != 29 || l.contains(&b'.') {
        return false;
    }
    let Some(i) = scan::find(l, b" --> ") else {
        return false;
    };
    let (Some(t0), Some(t1)) = (srt_time(&l[..i]), srt_time(&l[i + 5..])) else {
        return false;
    };
    t0 <= t1 && !scan::line(&mut s).is_empty()
}

/// Milliseconds of `HH:MM:SS,mmm`.
fn srt_time(t: &[u8]) -> Option<u32> {
    let [h1, h2, b':', m1, m2, b':', s1, s2, b',', f1, f2, f3] = *t else {
        return None;
    };
    let num = |ds: &[u8]| -> Option<u32> {
        ds.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (h, m, s, f) = (
        num(&[h1, h2])?,
        num(&[m1, m2])?,
        num(&[s1, s2])?,
        num(&[f1, f2, f3])?,
    );
    (h < 24 && m < 60 && s < 60).then_some(((h * 60 + m) * 60 + s) * 1000 + f)
}

fn netp(r: &[u8], prefixes: [&[u8]; 2]) -> bool {
    let Some(p) = prefixes.iter().rev().find(|p| r.starts_with(p)) else {
        return false;
    };
    let mut s = &r[p.len()..];
    let mut l: &[u8] = &[];
    for _ in 0..128 {
        l = scan::line(&mut s);
        if scan::peek(l) == b'#' {
            continue;
        }
        while scan::is_ws(scan::peek(l)) {
            scan::advance(&mut l, 1);
        }
        if s.is_empty() || !l.is_empty() {
            break;
        }
    }
    let width = scan::pop_until(&mut l, b" \r\n\x0c\t");
    while scan::is_ws(scan::peek(l)) {
        scan::advance(&mut l, 1);
    }
    let height = scan::pop_until(&mut l, b" \r\n\x0c\t");
    matches!((parse_int(width), parse_int(height)), (Some(w), Some(h)) if w > 0 && h > 0)
}

/// Go's `strconv.ParseInt(s, 10, 64)`.
fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = std::str::from_utf8(digits).ok()?.parse::<i64>();
    match v {
        Ok(v) => Some(if neg { -v } else { v }),
        // i64::MIN has no positive counterpart.
        Err(_) if neg && digits == b"9223372036854775808" => Some(i64::MIN),
        Err(_) => None,
    }
}

pub(crate) fn net_pbm(r: &[u8]) -> bool {
    netp(r, [b"P1\n", b"P4\n"])
}
pub(crate) fn net_pgm(r: &[u8]) -> bool {
    netp(r, [b"P2\n", b"P5\n"])
}
pub(crate) fn net_ppm(r: &[u8]) -> bool {
    netp(r, [b"P3\n", b"P6\n"])
}
pub(crate) fn net_pam(r: &[u8]) -> bool {
    if !r.starts_with(b"P7\n") {
        return false;
    }
    let (mut w, mut h, mut d, mut m) = (false, false, false, false);
    let mut s = r;
    for _ in 0..128 {
        let l = scan::line(&mut s);
        if l.is_empty() || l[0] == b'#' {
            if s.is_empty() {
                return false;
            }
            continue;
        }
        if l.starts_with(b"TUPLTYPE") {
            continue;
        } else if l.starts_with(b"WIDTH ") {
            w = true;
        } else if l.starts_with(b"HEIGHT ") {
            h = true;
        } else if l.starts_with(b"DEPTH ") {
            d = true;
        } else if l.starts_with(b"MAXVAL ") {
            m = true;
        } else if l.starts_with(b"ENDHDR") {
            return w && h && d && m;
        }
    }
    false
}

/// An e-mail message: a header-like first line and another within the next 20 lines.
pub(crate) fn rfc822(r: &[u8]) -> bool {
    const HINTS: [(&[u8], Flags); 16] = [
        (b"Message-ID: ", Flags::IGNORE_CASE),
        (b"From: ", Flags::NONE),
        (b"To: ", Flags::NONE),
        (b"CC: ", Flags::IGNORE_CASE),
        (b"Date: ", Flags::NONE),
        (b"Subject: ", Flags::NONE),
        (b"Received: ", Flags::NONE),
        (b"Relay-Version: ", Flags::NONE),
        (b"#! rnews", Flags::NONE),
        (b"N#! rnews", Flags::NONE),
        (b"Forward to", Flags::NONE),
        (b"Pipe to", Flags::NONE),
        (b"DELIVERED-TO: ", Flags::IGNORE_CASE),
        (b"RETURN-PATH: ", Flags::IGNORE_CASE),
        (b"Content-Type: ", Flags::NONE),
        (b"Content-Transfer-Encoding: ", Flags::NONE),
    ];
    let hint = |l: &[u8]| {
        HINTS
            .iter()
            .any(|&(h, f)| scan::match_at(l, h, f).is_some())
    };
    let mut s = r;
    if !hint(scan::line(&mut s)) {
        return false;
    }
    (0..20).any(|_| hint(scan::line(&mut s)))
}

/// GEDCOM genealogy data: a `0 HEAD` line, then `1 GEDC` within ten lines.
pub(crate) fn gedcom(r: &[u8]) -> bool {
    if r.is_empty() {
        return false;
    }
    let mut b = &r[..r.len().min(4096)];
    for bom in [&[0xEF, 0xBB, 0xBF][..], &[0xFE, 0xFF], &[0xFF, 0xFE]] {
        if let Some(rest) = b.strip_prefix(bom) {
            b = rest;
            break;
        }
    }
    scan::trim_lws(&mut b);
    if scan::line(&mut b) != b"0 HEAD" {
        return false;
    }
    (0..10).any(|_| scan::line(&mut b) == b"1 GEDC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_times() {
        assert_eq!(srt_time(b"00:02:16,612"), Some(136_612));
        assert_eq!(srt_time(b"24:00:00,000"), None);
        assert_eq!(srt_time(b"00:60:00,000"), None);
        assert!(srt(b"1\n00:02:16,612 --> 00:02:19,376\nHello\n"));
        assert!(!srt(b"1\n00:02:19,376 --> 00:02:16,612\nBackwards\n"));
    }

    #[test]
    fn go_parse_int() {
        assert_eq!(parse_int(b"+5"), Some(5));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808"), None);
        assert_eq!(parse_int(b"1_0"), None);
    }
}
