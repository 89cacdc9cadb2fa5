//! Byte scanning helpers with the exact semantics of the detector PocketBase uses
//! (gabriel-vasile/mimetype 1.4.15, `internal/scan` and `internal/markup`).
//!
//! A cursor is a `&[u8]` that shrinks from the front. `peek`/`pop` return 0 at the end of input,
//! so, as in the original, a NUL byte and the end of input look the same.

/// How many leading bytes the detection looks at (mimetype's default read limit). Callers
/// should pass at least this much of a file when they have it.
pub const READ_LIMIT: usize = 4096;

/// Whitespace as HTML/XML see it: tab, LF, FF, CR and space.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

pub(crate) fn peek(s: &[u8]) -> u8 {
    s.first().copied().unwrap_or(0)
}

pub(crate) fn pop(s: &mut &[u8]) -> u8 {
    match s.split_first() {
        Some((&b, rest)) => {
            *s = rest;
            b
        }
        None => 0,
    }
}

/// Advances by `n` bytes if there are that many; returns whether it did.
pub(crate) fn advance(s: &mut &[u8], n: usize) -> bool {
    if n > s.len() {
        return false;
    }
    *s = &s[n..];
    true
}

pub(crate) fn trim_lws(s: &mut &[u8]) {
    while is_ws(peek(s)) && !s.is_empty() {
        *s = &s[1..];
    }
}

pub(crate) fn first_non_ws(s: &[u8]) -> u8 {
    s.iter().copied().find(|&b| !is_ws(b)).unwrap_or(0)
}

/// Advances up to (not including) the first byte in `stop`, returning what it passed over.
pub(crate) fn pop_until<'a>(s: &mut &'a [u8], stop: &[u8]) -> &'a [u8] {
    let i = s.iter().position(|b| stop.contains(b)).unwrap_or(s.len());
    let (head, rest) = s.split_at(i);
    *s = rest;
    head
}

/// The next line without its `\n` (and one trailing `\r`); the cursor moves past the `\n`.
pub(crate) fn line<'a>(s: &mut &'a [u8]) -> &'a [u8] {
    let mut l = pop_until(s, b"\n");
    if let [head @ .., b'\r'] = l {
        l = head;
    }
    advance(s, 1);
    l
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// Pattern matching flags (`scan.Flags`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags(u8);

impl Flags {
    pub(crate) const NONE: Flags = Flags(0);
    /// One whitespace in the pattern matches one or more in the input.
    pub(crate) const COMPACT_WS: Flags = Flags(1);
    /// Upper case letters in the pattern match either case in the input.
    pub(crate) const IGNORE_CASE: Flags = Flags(2);
    /// The input must continue with whitespace (or end) after the pattern.
    pub(crate) const FULL_WORD: Flags = Flags(4);

    pub(crate) const fn or(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
    fn has(self, o: Flags) -> bool {
        self.0 & o.0 != 0
    }
}

/// How many bytes of `b` the pattern `p` matches at its start, or `None` (`Bytes.Match`).
pub(crate) fn match_at(b: &[u8], p: &[u8], flags: Flags) -> Option<usize> {
    let l = b.len();
    if p.is_empty() {
        return Some(0);
    }
    if l == 0 {
        return None;
    }
    let mut b = b;
    let mut p = p;
    if flags == Flags::NONE || flags == Flags::FULL_WORD {
        if !b.starts_with(p) {
            return None;
        }
        b = &b[p.len()..];
        p = &[];
    } else {
        while !b.is_empty() {
            let Some(&pc) = p.first() else { break };
            if flags.has(Flags::IGNORE_CASE) && pc.is_ascii_uppercase() {
                if b[0].to_ascii_uppercase() != pc {
                    return None;
                }
                b = &b[1..];
                p = &p[1..];
            } else if flags.has(Flags::COMPACT_WS) && is_ws(pc) {
                p = &p[1..];
                if !is_ws(b[0]) {
                    return None;
                }
                b = &b[1..];
                if p.first().is_some_and(|&c| !is_ws(c)) {
                    trim_lws(&mut b);
                }
            } else {
                if b[0] != pc {
                    return None;
                }
                b = &b[1..];
                p = &p[1..];
            }
        }
    }
    if !p.is_empty() {
        return None;
    }
    if flags.has(Flags::FULL_WORD) && !b.is_empty() && !is_ws(b[0]) {
        return None;
    }
    Some(l - b.len())
}

/// Where `p` first matches in `b` and how long the match is (`Bytes.Search`).
pub(crate) fn search(b: &[u8], p: &[u8], flags: Flags) -> Option<(usize, usize)> {
    if p.is_empty() {
        return Some((0, 0));
    }
    if b.is_empty() {
        return None;
    }
    if flags == Flags::NONE {
        return find(b, p).map(|i| (i, p.len()));
    }
    for i in 0..b.len() {
        if b.len() - i < p.len() {
            return None;
        }
        if let Some(l) = match_at(&b[i..], p, flags) {
            return Some((i, l));
        }
    }
    None
}

/// Skips one `<!-- ... -->` comment at the cursor; returns whether it did.
pub(crate) fn skip_a_comment(s: &mut &[u8]) -> bool {
    if s.starts_with(b"<!--") {
        if let Some(i) = find(&s[2..], b"-->") {
            advance(s, i + 2 + 3);
            return true;
        }
    }
    false
}

/// Extracts the next attribute of an SGML tag (`markup.GetAnAttribute`): name, value (empty when
/// absent) and whether more attributes may follow.
pub(crate) fn get_an_attribute<'a>(s: &mut &'a [u8]) -> (&'a [u8], &'a [u8], bool) {
    while is_ws(peek(s)) || peek(s) == b'/' {
        if !advance(s, 1) {
            break;
        }
    }
    if peek(s) == b'>' {
        return (&[], &[], false);
    }
    let orig: &'a [u8] = s;
    let mut end = 0;
    loop {
        let bap = pop(s);
        if bap == 0 {
            return (&[], &[], false);
        }
        if bap == b'=' && end > 0 {
            let (val, more) = get_a_value(s);
            return (&orig[..end], val, more);
        } else if is_ws(bap) {
            while is_ws(peek(s)) {
                advance(s, 1);
            }
            if peek(s) != b'=' {
                return (&orig[..end], &[], true);
            }
            advance(s, 1);
            while is_ws(peek(s)) {
                advance(s, 1);
            }
            let (val, more) = get_a_value(s);
            return (&orig[..end], val, more);
        } else if bap == b'/' || bap == b'>' {
            return (&orig[..end], &[], false);
        } else {
            end += 1;
        }
    }
}

fn get_a_value<'a>(s: &mut &'a [u8]) -> (&'a [u8], bool) {
    while is_ws(peek(s)) {
        advance(s, 1);
    }
    let orig: &'a [u8] = s;
    let mut end = 0;
    let bap = pop(s);
    if bap == 0 {
        return (&[], false);
    }
    end += 1;
    match bap {
        b'"' | b'\'' => {
            let val = pop_until(s, &[bap]);
            if pop(s) != bap {
                return (&[], false);
            }
            return (val, peek(s) != 0 && peek(s) != b'>');
        }
        b'>' => return (&[], false),
        _ => {}
    }
    loop {
        let bap = pop(s);
        if bap == 0 {
            return (&[], false);
        }
        if is_ws(bap) {
            return (&orig[..end], true);
        } else if bap == b'>' {
            return (&orig[..end], false);
        }
        end += 1;
    }
}

/// Big- and little-endian integers at the start of `b` (which must be long enough).
pub(crate) fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}
pub(crate) fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}
pub(crate) fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
pub(crate) fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// `sig` found at `off` (the input must be longer than `off`).
pub(crate) fn offset(raw: &[u8], sig: &[u8], off: usize) -> bool {
    raw.len() > off && raw[off..].starts_with(sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_ws_and_ignore_case() {
        let f = Flags::COMPACT_WS.or(Flags::IGNORE_CASE);
        assert_eq!(
            match_at(b"<!doctype   html>", b"<!DOCTYPE HTML", f),
            Some(16)
        );
        assert_eq!(match_at(b"<!doctypehtml>", b"<!DOCTYPE HTML", f), None);
        assert_eq!(
            search(b"xx <html xmlns=", b"<HTML XMLNS=", f),
            Some((3, 12))
        );
    }

    #[test]
    fn full_word() {
        assert!(match_at(b"/bin/sh -e", b"/bin/sh", Flags::FULL_WORD).is_some());
        assert!(match_at(b"/bin/shx", b"/bin/sh", Flags::FULL_WORD).is_none());
        let f = Flags::COMPACT_WS.or(Flags::FULL_WORD);
        assert_eq!(match_at(b"a  bc d", b"a bc", f), Some(5));
        assert_eq!(match_at(b"a  bcd", b"a bc", f), None);
        // A pattern ending in whitespace (panicked in mimetype 1.4.13).
        assert_eq!(match_at(b"a  ", b"a ", Flags::COMPACT_WS), Some(2));
    }

    #[test]
    fn attributes() {
        let mut s: &[u8] = b"<svg width=10 xmlns=\"http://www.w3.org/2000/svg\">";
        assert_eq!(get_an_attribute(&mut s), (&b"<svg"[..], &b""[..], true));
        assert_eq!(get_an_attribute(&mut s), (&b"width"[..], &b"10"[..], true));
        assert_eq!(
            get_an_attribute(&mut s),
            (&b"xmlns"[..], &b"http://www.w3.org/2000/svg"[..], false)
        );
    }
}
