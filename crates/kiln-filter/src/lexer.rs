//! Tokenizer of the filter language, pulled one token at a time by the parser so that errors are
//! reported in the order PocketBase's scanner (fexpr) reports them.
//!
//! Lexical rules (PocketBase-compatible):
//! - whitespace: space, tab, `\n` (and `\r`, which PocketBase rejects, accepted here);
//! - `// comment` up to the end of the line; a lone `/` is an error;
//! - identifiers start with an ASCII letter, `@`, `_` or `#` and continue with ASCII letters,
//!   digits, `_`, `.` and `:`; they may not end with `.`/`:` nor be a lone `@`, `_` or `#`;
//! - an identifier immediately followed by `(` is a function call;
//! - numbers: optional leading `-`, digits, at most one `.`, not ending with `.`;
//! - text: `'...'` or `"..."`, where `\` + the quote character stands for the quote and `\\` for
//!   one backslash (as PocketBase reads them, and as its SDK's `pb.filter()` writes them); other
//!   backslashes are kept as they are;
//! - signs are maximal runs of `= ? ! > < ~`, joins maximal runs of `& |`, both validated.

use crate::error::FilterError;

/// The kind of a token, named as PocketBase names token types in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    Ident,
    /// A function name; the opening `(` has been consumed.
    Func,
    Number,
    Text,
    Sign,
    Join,
    LParen,
    RParen,
    Comma,
    Eof,
}

impl TokKind {
    /// The token type's name as used in PocketBase's error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            TokKind::Ident => "identifier",
            TokKind::Func => "function",
            TokKind::Number => "number",
            TokKind::Text => "text",
            TokKind::Sign => "sign",
            TokKind::Join => "join",
            TokKind::LParen | TokKind::RParen => "group",
            TokKind::Comma => "unexpected",
            TokKind::Eof => "eof",
        }
    }
}

/// One token: its kind and its text (unquoted and unescaped for [`TokKind::Text`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokKind,
    pub text: String,
}

impl Token {
    fn new(kind: TokKind, text: impl Into<String>) -> Self {
        Token {
            kind,
            text: text.into(),
        }
    }
}

/// A pull tokenizer over a filter text.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character; always on a char boundary.
    pos: usize,
}

fn syntax(msg: String) -> FilterError {
    FilterError::Syntax(msg)
}

pub(crate) fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_start(c: char) -> bool {
    is_letter(c) || matches!(c, '@' | '_' | '#')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':')
}

fn is_sign_char(c: char) -> bool {
    matches!(c, '=' | '?' | '!' | '>' | '<' | '~')
}

fn is_join_char(c: char) -> bool {
    matches!(c, '&' | '|')
}

/// The identifier rules shared by identifiers and function names.
fn is_valid_ident(s: &str) -> bool {
    match (s.chars().next(), s.chars().last()) {
        (Some(first), Some(last)) => {
            let ends_with_combiner = matches!(last, '.' | ':');
            let lone_special = s.len() == 1 && matches!(first, '@' | '_' | '#');
            !ends_with_combiner && !lone_special
        }
        _ => false,
    }
}

/// All sign operators of the language.
pub(crate) const SIGNS: &[&str] = &[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
];

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Consumes characters while `pred` holds and returns them.
    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if !pred(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), FilterError> {
        loop {
            match self.peek_char() {
                Some(c) if is_ws(c) => {
                    self.take_while(is_ws);
                }
                Some('/') => {
                    self.pos += 1;
                    if self.peek_char() != Some('/') {
                        return Err(syntax("invalid comment".into()));
                    }
                    self.take_while(|c| c != '\n');
                }
                _ => return Ok(()),
            }
        }
    }

    /// Returns the next significant token ([`TokKind::Eof`] at the end, repeatedly).
    pub(crate) fn next_token(&mut self) -> Result<Token, FilterError> {
        self.skip_trivia()?;
        let Some(c) = self.peek_char() else {
            return Ok(Token::new(TokKind::Eof, ""));
        };
        if c == '(' {
            self.pos += 1;
            return Ok(Token::new(TokKind::LParen, "("));
        }
        if c == ')' {
            self.pos += 1;
            return Ok(Token::new(TokKind::RParen, ")"));
        }
        if c == ',' {
            self.pos += 1;
            return Ok(Token::new(TokKind::Comma, ","));
        }
        if is_ident_start(c) {
            return self.ident();
        }
        if c == '-' || c.is_ascii_digit() {
            return self.number();
        }
        if c == '\'' || c == '"' {
            return self.text();
        }
        if is_sign_char(c) {
            let s = self.take_while(is_sign_char);
            if !SIGNS.contains(&s) {
                return Err(syntax(format!("invalid sign operator {s:?}")));
            }
            return Ok(Token::new(TokKind::Sign, s));
        }
        if is_join_char(c) {
            let s = self.take_while(is_join_char);
            if s != "&&" && s != "||" {
                return Err(syntax(format!("invalid join operator {s:?}")));
            }
            return Ok(Token::new(TokKind::Join, s));
        }
        Err(syntax(format!("unexpected character {c:?}")))
    }

    fn ident(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        self.bump();
        self.take_while(is_ident_char);
        let lit = self.src.get(start..self.pos).unwrap_or("");
        if self.peek_char() == Some('(') {
            if !is_valid_ident(lit) {
                return Err(syntax(format!("invalid function name {lit:?}")));
            }
            self.pos += 1;
            return Ok(Token::new(TokKind::Func, lit));
        }
        if !is_valid_ident(lit) {
            return Err(syntax(format!("invalid identifier {lit:?}")));
        }
        Ok(Token::new(TokKind::Ident, lit))
    }

    fn number(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        let mut had_dot = false;
        while let Some(c) = self.peek_char() {
            let ok =
                c.is_ascii_digit() || (c == '-' && self.pos == start) || (c == '.' && !had_dot);
            if !ok {
                break;
            }
            had_dot |= c == '.';
            self.pos += 1;
        }
        let lit = self.src.get(start..self.pos).unwrap_or("");
        if lit == "-" || lit.starts_with('.') || lit.ends_with('.') || lit.is_empty() {
            return Err(syntax(format!("invalid number {lit:?}")));
        }
        Ok(Token::new(TokKind::Number, lit))
    }

    /// A quoted text: `\\` stands for a backslash and `\` + the quote for the quote, as in
    /// PocketBase (and as its SDK's `pb.filter()` writes them); any other backslash is itself.
    fn text(&mut self) -> Result<Token, FilterError> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(syntax("invalid quoted text \"\"".into()));
        };
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    let lit = self.src.get(start..).unwrap_or("");
                    return Err(syntax(format!("invalid quoted text {lit:?}")));
                }
                Some(c) if c == quote => return Ok(Token::new(TokKind::Text, out)),
                Some('\\') => match self.peek_char() {
                    Some(n) if n == quote || n == '\\' => {
                        out.push(n);
                        self.bump();
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }
}

/// Writes `text` as a quoted literal of the filter language that parses back to exactly `text`
/// (backslashes and quotes escaped).
///
/// Useful to build filters programmatically (e.g. PocketBase's `{:param}` replacements).
pub fn quote_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &str) -> Result<Vec<(TokKind, String)>, FilterError> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token()?;
            if t.kind == TokKind::Eof {
                return Ok(out);
            }
            out.push((t.kind, t.text));
        }
    }

    fn kinds(src: &str) -> Vec<TokKind> {
        all(src).unwrap().into_iter().map(|(k, _)| k).collect()
    }

    fn err(src: &str) -> String {
        match all(src) {
            Err(FilterError::Syntax(m)) => m,
            other => panic!("expected a syntax error for {src:?}, got {other:?}"),
        }
    }

    #[test]
    fn tokens_of_a_simple_expression() {
        use TokKind::*;
        assert_eq!(
            kinds("a.b:lower >= -1.5 && 'x' || \"y\""),
            vec![Ident, Sign, Number, Join, Text, Join, Text]
        );
        assert_eq!(
            kinds("f(a, 1,)"),
            vec![Func, Ident, Comma, Number, Comma, RParen]
        );
        assert_eq!(kinds("(a=1)"), vec![LParen, Ident, Sign, Number, RParen]);
    }

    #[test]
    fn comments_and_whitespace_are_skipped() {
        assert_eq!(
            kinds("a // x = 1 ( \n = \r\n\t1 // end"),
            vec![TokKind::Ident, TokKind::Sign, TokKind::Number]
        );
        assert_eq!(err("a / b"), "invalid comment");
    }

    #[test]
    fn numbers() {
        assert_eq!(
            all("-12.5").unwrap(),
            vec![(TokKind::Number, "-12.5".to_string())]
        );
        assert_eq!(
            all("-.5").unwrap(),
            vec![(TokKind::Number, "-.5".to_string())]
        );
        assert_eq!(err("1."), "invalid number \"1.\"");
        assert_eq!(err("- 1"), "invalid number \"-\"");
        assert_eq!(err("--1"), "invalid number \"-\"");
        // a second dot ends the number; the dot itself is then unexpected
        assert_eq!(err("1.2.3"), "unexpected character '.'");
    }

    #[test]
    fn text_escapes() {
        assert_eq!(all(r#"'te\'st'"#).unwrap()[0].1, "te'st");
        assert_eq!(all(r#""te\'st""#).unwrap()[0].1, r"te\'st");
        assert_eq!(all(r#""te\"st""#).unwrap()[0].1, "te\"st");
        assert_eq!(all(r#"'a\nb'"#).unwrap()[0].1, r"a\nb");
        assert_eq!(all("'ünï😀'").unwrap()[0].1, "ünï😀");
        assert_eq!(all("''").unwrap()[0].1, "");
        assert_eq!(err(r#"'demo""#), r#"invalid quoted text "'demo\"""#);
        // a backslash before the closing quote escapes it, unless it is escaped itself
        assert!(all(r"'abc\'").is_err());
        assert_eq!(all(r"'abc\\'").unwrap()[0].1, r"abc\");
        assert_eq!(all(r#""a\\d""#).unwrap()[0].1, r"a\d");
        assert_eq!(all(r#""a\d""#).unwrap()[0].1, r"a\d");
        assert_eq!(all(r#""a\\\"b""#).unwrap()[0].1, r#"a\"b"#);
        assert_eq!(all(r#""a\\\\d""#).unwrap()[0].1, r"a\\d");
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            all("@request.body.tags:each").unwrap()[0].1,
            "@request.body.tags:each"
        );
        assert_eq!(err("a."), "invalid identifier \"a.\"");
        assert_eq!(err("_ = 1"), "invalid identifier \"_\"");
        assert_eq!(err("@"), "invalid identifier \"@\"");
        assert_eq!(err("a:("), "invalid function name \"a:\"");
    }

    #[test]
    fn signs_and_joins() {
        for s in SIGNS {
            assert_eq!(
                all(&format!("a{s}b")).unwrap()[1],
                (TokKind::Sign, s.to_string())
            );
        }
        assert_eq!(err("a == b"), "invalid sign operator \"==\"");
        assert_eq!(err("a <> b"), "invalid sign operator \"<>\"");
        assert_eq!(err("a=1 & b=2"), "invalid join operator \"&\"");
        assert_eq!(err("a=1 &| b=2"), "invalid join operator \"&|\"");
        assert_eq!(err("a + 1"), "unexpected character '+'");
        assert_eq!(err("a = `x`"), "unexpected character '`'");
    }

    #[test]
    fn quote_text_round_trips() {
        for s in [
            "", "a", "it's", r"a\'b", "\"", r"\\x", "😀'", "ends\\", "\\'\\\\",
        ] {
            let q = quote_text(s);
            assert_eq!(
                all(&q).unwrap(),
                vec![(TokKind::Text, s.to_string())],
                "{q}"
            );
        }
    }
}
