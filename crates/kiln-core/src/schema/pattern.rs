//! Text field patterns, written in Go's regular expression syntax (RE2, which PocketBase compiles
//! them with) and run by the regex crate.
//!
//! The two syntaxes agree on almost everything (`\p{L}`, POSIX classes, named groups, the `imsU`
//! flags, case folding); where they differ the pattern is rewritten so that it means what it
//! means in Go: `\d \w \s \b` and their negations are ASCII-only in Go and Unicode-aware in Rust,
//! so they become ASCII classes; `\Q…\E` (Go's quoting) becomes escaped text; inside a class,
//! `[`, `&` and `~` are plain characters in Go but set operators in Rust, so they are escaped.
//! Flags Go does not know (`x`, `u`, `R`) are refused, as Go refuses them.

use regex::Regex;

/// Compiles a Go pattern; the error says why it is not one Kiln can run as Go would.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    regex::RegexBuilder::new(&translated)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// `pattern` in the regex crate's syntax, with Go's meaning.
fn translate(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err("trailing backslash at end of expression".into());
                };
                if let Some((negated, set)) = ascii_class(e) {
                    match (in_class, negated) {
                        (true, false) => out.push_str(set),
                        (true, true) | (false, true) => {
                            out.push_str("[^");
                            out.push_str(set);
                            out.push(']');
                        }
                        (false, false) => {
                            out.push('[');
                            out.push_str(set);
                            out.push(']');
                        }
                    }
                } else if e == 'b' && !in_class {
                    out.push_str(r"(?-u:\b)");
                } else if e == 'B' && !in_class {
                    out.push_str(r"(?-u:\B)");
                } else if e == 'Q' {
                    let mut quoted = String::new();
                    while let Some(q) = chars.next() {
                        if q == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        quoted.push(q);
                    }
                    out.push_str(&regex::escape(&quoted));
                } else {
                    out.push('\\');
                    out.push(e);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` first in a class is a plain character.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str(r"\]");
                }
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class, `[:alpha:]`, copied whole.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            '[' | '&' | '~' if in_class => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                out.push('(');
                check_flags(chars.clone().skip(1))?;
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Go's ASCII classes by escape letter: (negated, the class's members in class syntax).
fn ascii_class(e: char) -> Option<(bool, &'static str)> {
    Some(match e {
        'd' => (false, "0-9"),
        'D' => (true, "0-9"),
        'w' => (false, "0-9A-Za-z_"),
        'W' => (true, "0-9A-Za-z_"),
        's' => (false, r"\t\n\f\r "),
        'S' => (true, r"\t\n\f\r "),
        _ => return None,
    })
}

/// Refuses a flag group (`(?flags)` or `(?flags:…)`) with a flag Go does not have.
fn check_flags(rest: impl Iterator<Item = char>) -> Result<(), String> {
    for f in rest {
        match f {
            'i' | 'm' | 's' | 'U' | '-' => {}
            ')' | ':' => return Ok(()),
            // A group name (`(?P<name>`, `(?<name>`) or anything else is the regex parser's.
            'P' | '<' => return Ok(()),
            other => return Err(format!("invalid or unsupported Perl syntax: `(?{other}`")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::compile;

    fn ok(p: &str, text: &str) -> bool {
        compile(p).unwrap().is_match(text)
    }

    #[test]
    fn perl_classes_and_word_boundaries_are_ascii_as_in_go() {
        assert!(ok(r"^\d+$", "123") && !ok(r"^\d+$", "١٢٣"));
        assert!(ok(r"^\w+$", "abc_1") && !ok(r"^\w+$", "héllo"));
        assert!(ok(r"^a\sb$", "a b") && !ok(r"^a\sb$", "a\u{a0}b"));
        assert!(ok(r"\bcat\b", "a cat here") && ok(r"\bcat\b", "écat"));
        assert!(ok(r"^[\d\s]+$", "1 2") && !ok(r"^[\d]+$", "١"));
        assert!(ok(r"^[^\D]+$", "12") && !ok(r"^\D$", "1"));
    }

    #[test]
    fn unicode_properties_folding_and_quoting_work() {
        assert!(ok(r"^\p{L}+$", "héllo日本") && !ok(r"^\p{L}+$", "abc1"));
        assert!(ok(r"^\pL+$", "abc"));
        assert!(ok("(?i)^straße$", "STRAßE") && !ok("(?i)^straße$", "STRASSE"));
        assert!(ok(r"^\Qa.b\E$", "a.b") && !ok(r"^\Qa.b\E$", "axb"));
        assert!(ok("^[[:alpha:]]+$", "abc"));
        assert!(ok("^[a&&b]+$", "&") && ok("^[a~~b]$", "~") && ok("^[[]$", "["));
    }

    #[test]
    fn what_go_refuses_is_refused() {
        assert!(compile("(?x)a b").is_err());
        assert!(compile("(?u)a").is_err());
        assert!(compile("a{2,1}").is_err());
        assert!(compile("(?=x)").is_err());
        assert!(compile("(?i:a)").is_ok() && compile("(?P<n>a)").is_ok());
        assert!(compile("(?<n>a)").is_ok());
    }
}
