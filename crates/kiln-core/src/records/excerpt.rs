//! `:excerpt(max, ellipsis)`: the plain text of an HTML value, as PocketBase's excerpt modifier
//! makes it (`tools/picker/excerpt_modifier.go`).
//!
//! PocketBase parses the value into an HTML5 tree and walks it: text nodes give their text with
//! runs of ASCII whitespace made one space; block elements are set apart by a space, inline
//! ones are not; `<head>`, `<script>`, `<style>`, forms, media and a few more are left out with
//! everything inside them; the walk stops going deeper once the text passed `max + 2` bytes.
//! Here a spec-conforming tokenizer (html5gum, which also decodes every character reference)
//! stands in for the tree: elements nest as their tags do, and the elements an HTML parser puts
//! into `<head>` before any body content are left out as PocketBase leaves out the head.

use html5gum::{DefaultEmitter, Token, Tokenizer};

/// Elements left out with their content.
const EXCLUDED: &[&str] = &[
    "head", "style", "script", "iframe", "embed", "applet", "object", "svg", "img", "picture",
    "dialog", "template", "button", "form", "textarea", "input", "select", "option",
];

/// Elements not set apart by spaces.
const INLINE: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite", "code", "em", "i", "label",
    "q", "small", "span", "strong", "strike", "sub", "sup", "time",
];

/// Elements without content or end tag.
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// Elements an HTML parser puts into `<head>` when they come before any body content.
const HEAD_CONTENT: &[&str] = &[
    "base", "basefont", "bgsound", "link", "meta", "noframes", "script", "style", "template",
    "title",
];

/// The elements the document itself is made of: their tags add no element to the tree.
const DOCUMENT: &[&str] = &["html", "body"];

/// Plain text of `html`: tags removed, whitespace collapsed, cut to `max` characters (with
/// `...` when `ellipsis` and something was cut).
pub fn excerpt(html: &str, max: usize, ellipsis: bool) -> String {
    let mut walk = Walk {
        // The document's <html> is a block: PocketBase's text starts with its space.
        text: String::from(" "),
        prev_space: true,
        limit: max.saturating_add(2),
        skip: None,
        in_head: true,
    };
    let mut emitter = DefaultEmitter::default();
    // Script, style, title, textarea and the like hold raw text up to their end tag.
    emitter.naively_switch_states(true);
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        walk.token(token);
    }
    let text = walk.text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    match text.char_indices().nth(max) {
        // More than `max` characters: cut (PocketBase counts runes, after a byte test).
        Some((cut, _)) => {
            let mut out = text[..cut].trim().to_owned();
            if ellipsis {
                out.push_str("...");
            }
            out
        }
        None => text.to_owned(),
    }
}

/// The state of the walk over the tokens.
struct Walk {
    text: String,
    prev_space: bool,
    limit: usize,
    /// The element being left out: its name, how deep in same-named elements the walk is, and
    /// whether it was entered (cut for length: it still ends with a block's space) rather than
    /// excluded (no trace at all).
    skip: Option<(Vec<u8>, usize, bool)>,
    /// No body content yet: head elements and whitespace still belong to `<head>`.
    in_head: bool,
}

impl Walk {
    fn token(&mut self, token: Token) {
        if let Some((name, depth, entered)) = &mut self.skip {
            match token {
                Token::StartTag(t) if t.name.as_slice() == name.as_slice() && !t.self_closing => {
                    *depth += 1
                }
                Token::EndTag(t) if t.name.as_slice() == name.as_slice() => {
                    *depth -= 1;
                    if *depth == 0 {
                        let (name, entered) = (std::mem::take(name), *entered);
                        self.skip = None;
                        if entered {
                            self.block_space(&name);
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        match token {
            Token::String(s) => self.push_text(&String::from_utf8_lossy(&s)),
            Token::StartTag(t) => {
                let name = t.name.as_slice();
                if self.in_head && (name == b"head" || HEAD_CONTENT.contains(&as_str(name))) {
                    if !is_void(name) {
                        self.skip = Some((name.to_vec(), 1, false));
                    }
                    return;
                }
                if DOCUMENT.contains(&as_str(name)) {
                    return;
                }
                self.in_head = false;
                if EXCLUDED.contains(&as_str(name)) {
                    if !is_void(name) && !t.self_closing {
                        self.skip = Some((name.to_vec(), 1, false));
                    }
                    return;
                }
                self.block_space(name);
                if is_void(name) {
                    self.block_space(name);
                } else if self.text.len() > self.limit {
                    // PocketBase goes no deeper once the text is long enough.
                    self.skip = Some((name.to_vec(), 1, true));
                }
            }
            Token::EndTag(t) => {
                let name = t.name.as_slice();
                if !DOCUMENT.contains(&as_str(name)) && name != b"head" {
                    self.block_space(name);
                }
            }
            Token::Comment(_) | Token::Doctype(_) | Token::Error(_) => {}
        }
    }

    /// A text node: ASCII whitespace runs as one space, no space after a space.
    fn push_text(&mut self, raw: &str) {
        let mut raw = raw;
        if self.in_head {
            // Whitespace before any body content stays in <head>.
            raw = raw.trim_start_matches(is_ascii_ws);
            if raw.is_empty() {
                return;
            }
            self.in_head = false;
        }
        for ch in raw.chars() {
            if is_ascii_ws(ch) {
                if !self.prev_space {
                    self.text.push(' ');
                    self.prev_space = true;
                }
            } else {
                self.text.push(ch);
                self.prev_space = false;
            }
        }
    }

    /// The space that sets a block element apart (before and after it).
    fn block_space(&mut self, name: &[u8]) {
        if !INLINE.contains(&as_str(name)) && !self.prev_space {
            self.text.push(' ');
            self.prev_space = true;
        }
    }
}

/// Go's `\s`: ASCII whitespace (tab, newline, form feed, carriage return, space).
fn is_ascii_ws(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

fn is_void(name: &[u8]) -> bool {
    VOID.contains(&as_str(name))
}

fn as_str(name: &[u8]) -> &str {
    std::str::from_utf8(name).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn blocks_are_set_apart_and_inline_elements_are_not() {
        assert_eq!(
            excerpt("<p>Hello</p><p>world</p>", 100, false),
            "Hello world"
        );
        assert_eq!(
            excerpt("<p>He<b>ll</b>o <i>w</i>orld</p>", 100, false),
            "Hello world"
        );
        assert_eq!(excerpt("a<br>b<hr>c", 100, false), "ab c");
    }

    #[test]
    fn scripts_styles_forms_and_the_head_are_left_out() {
        let html = "<title>T</title><style>p{}</style><p>Text<script>x()</script> \
                    <button>no</button>here</p><select><option>o</option></select>";
        assert_eq!(excerpt(html, 100, false), "Text here");
        assert_eq!(
            excerpt("<textarea>t</textarea>x<form>f</form>y", 100, false),
            "xy"
        );
    }

    #[test]
    fn every_character_reference_is_decoded() {
        assert_eq!(
            excerpt(
                "<p>a &amp; b &#39;c&#x27; &hellip; &eacute;</p>",
                100,
                false
            ),
            "a & b 'c' … é"
        );
    }

    #[test]
    fn cuts_at_max_characters_with_an_ellipsis() {
        assert_eq!(excerpt("<p>Hello world</p>", 5, true), "Hello...");
        assert_eq!(excerpt("<p>Hello world</p>", 6, false), "Hello");
        assert_eq!(excerpt("<p>Hello</p>", 5, true), "Hello");
        assert_eq!(excerpt("<p>ééééé</p>", 5, true), "ééééé");
    }
}
