//! Server-sent events: an incremental parser of the `text/event-stream` format (the subset PocketBase
//! and Kiln send: `id:`, `event:`, `data:` lines, comments, a blank line ends a message), and a cheap
//! extraction of one string field from an event's JSON without parsing all of it.

/// One message of the stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub id: String,
    pub event: String,
    pub data: String,
}

/// Feed it the decoded body as it arrives; it returns the complete messages.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    cur: Event,
    has_data: bool,
    /// A `\r` ended the last line: a `\n` right after it belongs to the same line end.
    after_cr: bool,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(out),
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(out);
                }
                _ => self.line.push(b),
            }
        }
    }

    fn end_line(&mut self, out: &mut Vec<Event>) {
        if self.line.is_empty() {
            // Blank line: dispatch. A message with neither data nor event name is ignored.
            if self.has_data || !self.cur.event.is_empty() {
                out.push(std::mem::take(&mut self.cur));
            } else {
                self.cur = Event::default();
            }
            self.has_data = false;
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.starts_with(':') {
            return; // comment
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "id" => self.cur.id = value.to_owned(),
            "event" => self.cur.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.cur.data.push('\n');
                }
                self.cur.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

/// The value of the first `"key":"value"` string member named `key` anywhere in `json` (the value
/// must contain no escapes). Enough to pull a timestamp out of a record without a JSON parse.
pub fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = json[from..].find(key) {
        let start = from + i;
        from = start + key.len();
        if start == 0 || json.as_bytes()[start - 1] != b'"' {
            continue;
        }
        let value = json[from..]
            .strip_prefix('"')
            .and_then(|r| r.trim_start().strip_prefix(':'))
            .and_then(|r| r.trim_start().strip_prefix('"'));
        if let Some(v) = value {
            return v.find('"').map(|end| &v[..end]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pocketbase_stream() {
        // The bytes of /work/shared/reference/pocketbase-0.40.6/30_realtime_sse_stream.raw (shortened).
        let raw = "id:zMPb8\nevent:PB_CONNECT\ndata:{\"clientId\":\"zMPb8\"}\n\n\
                   id:zMPb8\nevent:posts/*\ndata:{\"record\":{\"id\":\"kd4s\",\"sent\":\"123\"},\"action\":\"create\"}\n\n";
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.feed(raw.as_bytes(), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0],
            Event {
                id: "zMPb8".into(),
                event: "PB_CONNECT".into(),
                data: "{\"clientId\":\"zMPb8\"}".into()
            }
        );
        assert_eq!(out[1].event, "posts/*");
        assert_eq!(string_field(&out[1].data, "sent"), Some("123"));
        assert_eq!(string_field(&out[1].data, "action"), Some("create"));
    }

    #[test]
    fn split_anywhere_crlf_comments_multiline() {
        let raw = ": keepalive\r\nid: a.1\r\nevent: x\r\ndata: one\r\ndata:two\r\n\r\nevent:y\rdata:z\r\r";
        for cut in 0..raw.len() {
            let mut p = Parser::new();
            let mut out = Vec::new();
            p.feed(&raw.as_bytes()[..cut], &mut out);
            p.feed(&raw.as_bytes()[cut..], &mut out);
            assert_eq!(out.len(), 2, "cut at {cut}");
            assert_eq!(
                out[0],
                Event {
                    id: "a.1".into(),
                    event: "x".into(),
                    data: "one\ntwo".into()
                }
            );
            assert_eq!(
                out[1],
                Event {
                    id: String::new(),
                    event: "y".into(),
                    data: "z".into()
                }
            );
        }
    }

    #[test]
    fn blank_lines_alone_emit_nothing() {
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.feed(b"\n\n: c\n\n", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn field_extraction() {
        let j = r#"{"record":{"title":"sent","sent_ns":"1700000000000000001","n":1},"x":"y"}"#;
        assert_eq!(string_field(j, "sent_ns"), Some("1700000000000000001"));
        assert_eq!(string_field(j, "sent"), None);
        assert_eq!(string_field(r#"{"a" : "b"}"#, "a"), Some("b"));
        assert_eq!(string_field(r#"{"a":1,"b":"a"}"#, "a"), None);
        assert_eq!(string_field(r#"{"xa":"1"}"#, "a"), None);
    }
}
