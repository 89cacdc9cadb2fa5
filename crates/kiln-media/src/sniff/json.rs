//! The lenient JSON scanner mimetype uses to recognise JSON from a file's first bytes.
//!
//! It is iterative (no recursion, so deep nesting cannot overflow the stack) but accepts exactly
//! what mimetype's `internal/json` parser accepts, quirks included: trailing commas, numbers like
//! `01`, `.5` or `1.`, raw control bytes inside strings. A parse that fails only because the input
//! ran out is told apart from one that met a bad byte, because a file cut at the read limit is
//! still JSON.

/// How a parse ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A complete value, followed by whitespace, ends at this offset.
    Complete(usize),
    /// The input ended inside a value that was valid so far.
    Truncated,
    /// A byte that JSON does not allow there.
    Invalid,
}

impl Outcome {
    /// Whether every byte of an input of length `len` was inspected (mimetype's test for a JSON
    /// file cut at the read limit).
    pub(crate) fn inspected_all(self, len: usize) -> bool {
        match self {
            Outcome::Complete(end) => end == len,
            Outcome::Truncated => true,
            Outcome::Invalid => false,
        }
    }
}

/// A key path and the values that satisfy it (mimetype's JSON "queries").
pub(crate) struct Query {
    pub(crate) path: &'static [&'static [u8]],
    pub(crate) values: &'static [&'static [u8]],
}

/// GeoJSON: a top-level `"type"` whose value is a geometry or feature type.
pub(crate) const GEO: &[Query] = &[Query {
    path: &[b"type"],
    values: &[
        b"\"Feature\"",
        b"\"FeatureCollection\"",
        b"\"Point\"",
        b"\"LineString\"",
        b"\"Polygon\"",
        b"\"MultiPoint\"",
        b"\"MultiLineString\"",
        b"\"MultiPolygon\"",
        b"\"GeometryCollection\"",
    ],
}];

/// HAR: an object with `log.version`, `log.creator` or `log.entries`, whatever the value.
pub(crate) const HAR: &[Query] = &[
    Query {
        path: &[b"log", b"version"],
        values: &[],
    },
    Query {
        path: &[b"log", b"creator"],
        values: &[],
    },
    Query {
        path: &[b"log", b"entries"],
        values: &[],
    },
];

/// glTF: `asset.version` of "1.0" or "2.0".
pub(crate) const GLTF: &[Query] = &[Query {
    path: &[b"asset", b"version"],
    values: &[b"\"1.0\"", b"\"2.0\""],
}];

/// CycloneDX: a top-level `"bomFormat": "CycloneDX"`.
pub(crate) const CDX: &[Query] = &[Query {
    path: &[b"bomFormat"],
    values: &[b"\"CycloneDX\""],
}];

const MAX_DEPTH: usize = 4096;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

enum Frame {
    Array,
    /// An object member's value is being parsed: which query its key path matched, and where
    /// the value starts.
    Object {
        matched: Option<usize>,
        value_start: usize,
    },
    /// Between members (before the first key, or after a comma).
    ObjectSlot,
}

enum State {
    Value,
    ArraySlot,
    ObjectSlot,
    AfterValue,
}

/// Parses `b` as one JSON value (plus surrounding whitespace). With queries, also reports
/// whether one of them was satisfied; without, that is always true.
pub(crate) fn parse(b: &[u8], queries: &[Query]) -> (Outcome, bool) {
    let mut satisfied = queries.is_empty();
    let mut path: Vec<&[u8]> = Vec::new();
    let track = !queries.is_empty();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pos = 0usize;
    let mut state = State::Value;
    let len = b.len();
    let skip = |pos: &mut usize| {
        while *pos < len && is_space(b[*pos]) {
            *pos += 1;
        }
    };
    // Failing at `at`: was it the end of the input or a bad byte?
    let fail = |at: usize| {
        if at >= len {
            Outcome::Truncated
        } else {
            Outcome::Invalid
        }
    };

    loop {
        match state {
            State::Value => {
                if stack.len() > MAX_DEPTH {
                    return (Outcome::Invalid, satisfied);
                }
                skip(&mut pos);
                if pos >= len {
                    return (Outcome::Truncated, satisfied);
                }
                match b[pos] {
                    b'"' => {
                        pos += 1;
                        match string(b, pos) {
                            Ok(end) => pos = end,
                            Err(at) => return (fail(at), satisfied),
                        }
                    }
                    b'[' => {
                        pos += 1;
                        if track {
                            path.push(b"[");
                        }
                        stack.push(Frame::Array);
                        state = State::ArraySlot;
                        continue;
                    }
                    b'{' => {
                        pos += 1;
                        stack.push(Frame::ObjectSlot);
                        state = State::ObjectSlot;
                        continue;
                    }
                    b't' | b'f' | b'n' => {
                        let word: &[u8] = match b[pos] {
                            b't' => b"true",
                            b'f' => b"false",
                            _ => b"null",
                        };
                        for (i, &c) in word.iter().enumerate() {
                            if b.get(pos + i) != Some(&c) {
                                return (fail(pos + i), satisfied);
                            }
                        }
                        pos += word.len();
                    }
                    _ => match number(b, pos) {
                        Ok(end) => pos = end,
                        Err(at) => return (fail(at), satisfied),
                    },
                }
                skip(&mut pos);
                state = State::AfterValue;
            }
            State::ArraySlot => {
                skip(&mut pos);
                if pos >= len {
                    return (Outcome::Truncated, satisfied);
                }
                if b[pos] == b']' {
                    pos += 1;
                    if track {
                        path.pop();
                    }
                    stack.pop();
                    skip(&mut pos);
                    state = State::AfterValue;
                } else {
                    state = State::Value;
                }
            }
            State::ObjectSlot => {
                skip(&mut pos);
                if pos >= len {
                    return (Outcome::Truncated, satisfied);
                }
                if b[pos] == b'}' {
                    pos += 1;
                    stack.pop();
                    skip(&mut pos);
                    state = State::AfterValue;
                    continue;
                }
                if b[pos] != b'"' {
                    return (Outcome::Invalid, satisfied);
                }
                pos += 1;
                let key_start = pos;
                match string(b, pos) {
                    Ok(end) => pos = end,
                    Err(at) => return (fail(at), satisfied),
                }
                let mut matched = None;
                if track {
                    path.push(&b[key_start..pos - 1]);
                    if !satisfied {
                        matched = queries.iter().position(|q| q.path == path.as_slice());
                    }
                }
                skip(&mut pos);
                if pos >= len {
                    return (Outcome::Truncated, satisfied);
                }
                if b[pos] != b':' {
                    return (Outcome::Invalid, satisfied);
                }
                pos += 1;
                skip(&mut pos);
                if pos >= len {
                    return (Outcome::Truncated, satisfied);
                }
                if let Some(top) = stack.last_mut() {
                    *top = Frame::Object {
                        matched,
                        value_start: pos,
                    };
                }
                state = State::Value;
            }
            State::AfterValue => {
                let Some(top) = stack.last() else {
                    return (Outcome::Complete(pos), satisfied);
                };
                match *top {
                    Frame::Array => {
                        if pos >= len {
                            return (Outcome::Truncated, satisfied);
                        }
                        match b[pos] {
                            b',' => {
                                pos += 1;
                                state = State::ArraySlot;
                            }
                            b']' => {
                                // mimetype does not pop the "[" path element here; neither do we.
                                pos += 1;
                                stack.pop();
                                skip(&mut pos);
                            }
                            _ => return (Outcome::Invalid, satisfied),
                        }
                    }
                    Frame::Object {
                        matched,
                        value_start,
                    } => {
                        if let Some(q) = matched.map(|i| &queries[i]) {
                            let value = trim(&b[value_start..pos]);
                            if q.values.is_empty() || q.values.contains(&value) {
                                satisfied = true;
                            }
                        }
                        if pos >= len {
                            return (Outcome::Truncated, satisfied);
                        }
                        match b[pos] {
                            b',' => {
                                if track {
                                    path.pop();
                                }
                                pos += 1;
                                if let Some(top) = stack.last_mut() {
                                    *top = Frame::ObjectSlot;
                                }
                                state = State::ObjectSlot;
                            }
                            b'}' => {
                                if track {
                                    path.pop();
                                }
                                pos += 1;
                                stack.pop();
                                skip(&mut pos);
                            }
                            _ => return (Outcome::Invalid, satisfied),
                        }
                    }
                    // A value always completes inside a member, never between members.
                    Frame::ObjectSlot => return (Outcome::Invalid, satisfied),
                }
            }
        }
    }
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [rest @ .., last] = v {
        if last.is_ascii_whitespace() || *last == 0x0B {
            v = rest;
        } else {
            break;
        }
    }
    v
}

/// Scans a string body starting after its opening quote; `Ok(end)` is just past the closing
/// quote, `Err(at)` the offset where it failed.
fn string(b: &[u8], mut pos: usize) -> Result<usize, usize> {
    while pos < b.len() {
        let c = b[pos];
        pos += 1;
        match c {
            b'\\' => {
                let Some(&e) = b.get(pos) else {
                    return Err(pos);
                };
                match e {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => pos += 1,
                    b'u' => {
                        pos += 1;
                        for _ in 0..4 {
                            match b.get(pos) {
                                None => break,
                                Some(h) if h.is_ascii_hexdigit() => pos += 1,
                                Some(_) => return Err(pos),
                            }
                        }
                    }
                    _ => return Err(pos),
                }
            }
            b'"' => return Ok(pos),
            _ => {}
        }
    }
    Err(pos)
}

/// Scans a number as leniently as mimetype: `-? digits* (. digits*)? ([eE] [+-]? digits*)?`
/// with at least one digit before any exponent, and at least one in the exponent if present.
fn number(b: &[u8], mut pos: usize) -> Result<usize, usize> {
    let digits = |pos: &mut usize| {
        let mut any = false;
        while *pos < b.len() && b[*pos].is_ascii_digit() {
            *pos += 1;
            any = true;
        }
        any
    };
    let mut got = false;
    'scan: {
        if b.get(pos) == Some(&b'-') {
            pos += 1;
        }
        got |= digits(&mut pos);
        if pos >= b.len() {
            break 'scan;
        }
        if b[pos] == b'.' {
            pos += 1;
        }
        got |= digits(&mut pos);
        if pos >= b.len() {
            break 'scan;
        }
        if got && (b[pos] == b'e' || b[pos] == b'E') {
            pos += 1;
            got = false;
            if pos >= b.len() {
                break 'scan;
            }
            if b[pos] == b'+' || b[pos] == b'-' {
                pos += 1;
            }
            got = digits(&mut pos);
        }
    }
    if got {
        Ok(pos)
    } else {
        Err(pos)
    }
}

/// The kind of the first token of a line, as far as NDJSON cares: an object or array?
pub(crate) fn starts_container(line: &[u8]) -> bool {
    matches!(
        line.iter().copied().find(|&c| !is_space(c)),
        Some(b'{' | b'[')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(s: &str) -> Outcome {
        parse(s.as_bytes(), &[]).0
    }

    #[test]
    fn accepts_what_mimetype_accepts() {
        let doc = r#" {"a": [1, 2.5, -3e4, true, false, null, "x\"y\u00e9"]} "#;
        assert_eq!(full(doc), Outcome::Complete(doc.len()));
        assert_eq!(full("[1,]"), Outcome::Complete(4));
        assert_eq!(full(r#"{"a":1,}"#), Outcome::Complete(8));
        assert_eq!(full("[01, .5, 1.]"), Outcome::Complete(12));
    }

    #[test]
    fn truncated_vs_invalid() {
        assert_eq!(full(r#"{"a": [1, 2"#), Outcome::Truncated);
        assert_eq!(full(r#"{"a": "unterminated"#), Outcome::Truncated);
        assert_eq!(full("[tr"), Outcome::Truncated);
        assert_eq!(full("[1e"), Outcome::Truncated);
        assert_eq!(full("[tx]"), Outcome::Invalid);
        assert_eq!(full("[1 2]"), Outcome::Invalid);
        assert_eq!(full("{a:1}"), Outcome::Invalid);
        assert_eq!(full(r#"["\x"]"#), Outcome::Invalid);
        assert_eq!(full("[,1]"), Outcome::Invalid);
        assert_eq!(full("{}{}"), Outcome::Complete(2));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = "[".repeat(100_000);
        assert_eq!(full(&deep), Outcome::Invalid);
        let ok = "[".repeat(3000) + &"]".repeat(3000);
        assert_eq!(full(&ok), Outcome::Complete(6000));
    }

    #[test]
    fn queries() {
        assert!(parse(br#"{"type": "Feature", "x": 1}"#, GEO).1);
        assert!(!parse(br#"{"type": "Nope"}"#, GEO).1);
        assert!(!parse(br#"{"a": {"type": "Feature"}}"#, GEO).1);
        // mimetype's path quirk: an array value before "type" leaves "[" on the path.
        assert!(!parse(br#"{"a": [1], "type": "Feature"}"#, GEO).1);
        assert!(parse(br#"{"a": [], "type": "Feature"}"#, GEO).1);
        assert!(parse(br#"{"asset": {"version": "2.0"}}"#, GLTF).1);
    }
}
