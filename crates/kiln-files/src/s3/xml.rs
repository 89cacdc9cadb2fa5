//! A tiny, tolerant reader for the few S3 XML answers this crate reads (ListObjectsV2, errors,
//! multipart uploads, DeleteObjects), and an escaper for the two documents it writes.
//!
//! It finds elements by local name (a namespace prefix is ignored), does not validate, and takes
//! the text of an element up to its closing tag. That is enough for S3's flat, machine-written
//! documents; it is not an XML parser.

/// The inner text (raw, still escaped) of every `<name>` element at any depth, in document order.
/// A self-closing `<name/>` gives `""`. Same-name elements nested in each other are not supported.
pub(crate) fn blocks<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(found) = find_open(xml, pos, name) {
        match found {
            Open::SelfClosing { end } => {
                out.push("");
                pos = end;
            }
            Open::Start {
                qname,
                content_start,
            } => {
                let Some((content_end, after)) = find_close(xml, content_start, qname) else {
                    break;
                };
                out.push(&xml[content_start..content_end]);
                pos = after;
            }
        }
    }
    out
}

/// The unescaped text of the first `<name>` element, if any.
pub(crate) fn text(xml: &str, name: &str) -> Option<String> {
    blocks(xml, name).first().map(|raw| unescape(raw))
}

enum Open<'a> {
    SelfClosing {
        end: usize,
    },
    Start {
        qname: &'a str,
        content_start: usize,
    },
}

fn find_open<'a>(xml: &'a str, mut pos: usize, name: &str) -> Option<Open<'a>> {
    let bytes = xml.as_bytes();
    while let Some(rel) = xml.get(pos..)?.find('<') {
        let lt = pos + rel;
        let start = lt + 1;
        pos = start;
        match bytes.get(start) {
            Some(b'/' | b'?' | b'!') | None => continue,
            _ => {}
        }
        let name_end = xml[start..]
            .find(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
            .map(|i| start + i)?;
        let qname = &xml[start..name_end];
        let local = qname.rsplit_once(':').map_or(qname, |(_, l)| l);
        if local != name {
            continue;
        }
        let gt = start + xml[start..].find('>')?;
        if bytes[gt - 1] == b'/' {
            return Some(Open::SelfClosing { end: gt + 1 });
        }
        return Some(Open::Start {
            qname,
            content_start: gt + 1,
        });
    }
    None
}

/// Finds `</qname>` (whitespace allowed before `>`) from `from`: (content end, position after).
fn find_close(xml: &str, from: usize, qname: &str) -> Option<(usize, usize)> {
    let mut pos = from;
    loop {
        let rel = xml.get(pos..)?.find("</")?;
        let lt = pos + rel;
        let after_name = lt + 2 + qname.len();
        if xml.get(lt + 2..after_name) == Some(qname) {
            let tail = &xml[after_name..];
            let trimmed = tail.trim_start();
            if trimmed.starts_with('>') {
                return Some((lt, after_name + (tail.len() - trimmed.len()) + 1));
            }
        }
        pos = lt + 2;
    }
}

/// Decodes the five predefined entities, numeric character references and CDATA sections.
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            out.push_str(&after[..end]);
            rest = after.get(end + 3..).unwrap_or("");
            continue;
        }
        let Some(amp) = rest.find(['&', '<']) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        if rest.starts_with('<') {
            if rest.starts_with("<![CDATA[") {
                continue;
            }
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        let entity_end = rest.find(';').filter(|&i| i <= 12);
        let decoded = entity_end.and_then(|end| {
            let ent = &rest[1..end];
            let ch = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = if let Some(hex) = ent.strip_prefix("#x").or(ent.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = ent.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    num.and_then(char::from_u32)
                }
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out
}

/// Escapes text for an XML element body.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>c/r1/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>c/r1/a&amp;b.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size></Contents>
  <Contents>
    <Key>c/r1/thumbs_x.png/100x100_x.png</Key><Size>1</Size>
  </Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
</ListBucketResult>"#;

    #[test]
    fn reads_a_list_objects_v2_page() {
        let keys: Vec<String> = blocks(LIST, "Contents")
            .into_iter()
            .filter_map(|c| text(c, "Key"))
            .collect();
        assert_eq!(keys, ["c/r1/a&b.txt", "c/r1/thumbs_x.png/100x100_x.png"]);
        assert_eq!(text(LIST, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(
            text(LIST, "NextContinuationToken").as_deref(),
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        );
        // <KeyCount> is not <Key>.
        assert_eq!(text(LIST, "KeyCount").as_deref(), Some("2"));
        assert_eq!(text(LIST, "Missing"), None);
    }

    #[test]
    fn reads_errors_prefixes_and_self_closing_tags() {
        let err = "<?xml version=\"1.0\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a/b</Key></Error>";
        assert_eq!(text(err, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(
            text(err, "Message").as_deref(),
            Some("The specified key does not exist.")
        );
        let ns = "<s3:Error xmlns:s3=\"x\"><s3:Code >Slow</s3:Code ><s3:Prefix/></s3:Error>";
        assert_eq!(text(ns, "Code").as_deref(), Some("Slow"));
        assert_eq!(text(ns, "Prefix").as_deref(), Some(""));
        let cdata = "<UploadId><![CDATA[a<b>&c]]></UploadId>";
        assert_eq!(text(cdata, "UploadId").as_deref(), Some("a<b>&c"));
        // Broken documents give nothing rather than panicking.
        for broken in [
            "<Code>",
            "<Code",
            "<",
            "</Code>",
            "<Code>x</Cod",
            "<Code/",
            "&#xZZ;",
        ] {
            let _ = text(broken, "Code");
            let _ = unescape(broken);
        }
    }

    #[test]
    fn unescapes_and_escapes() {
        assert_eq!(
            unescape("a&amp;b&lt;c&gt;&quot;&apos;&#65;&#x42;&bogus;&"),
            "a&b<c>\"'AB&bogus;&"
        );
        assert_eq!(escape("a&b<c>\"'ü"), "a&amp;b&lt;c&gt;&quot;&apos;ü");
        assert_eq!(unescape(&escape("x&<>\"'y")), "x&<>\"'y");
    }
}
