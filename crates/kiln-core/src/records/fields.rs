//! The `fields` query parameter: keep only the listed keys of a response, with nested paths
//! (`expand.author.name`), `*` wildcards and the `:excerpt(max, ellipsis)` modifier.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Default, Clone)]
struct Node {
    children: BTreeMap<String, Node>,
    excerpt: Option<(usize, bool)>,
    /// Listed as a leaf: keep the whole value.
    whole: bool,
}

/// A parsed `fields` list.
#[derive(Debug, Default, Clone)]
pub struct Fields(Node);

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Result<Vec<&str>, String> {
    // PocketBase's tokenizer: commas inside parentheses or quotes do not split, a `\\` escapes
    // the next character, and a token left inside either is an error.
    let mut out = Vec::new();
    let (mut depth, mut start, mut quote, mut prev) = (0u32, 0, None::<char>, '\0');
    let unbalanced = |t: &str| format!("unbalanced parenthesis or quoted expression: {t:?}");
    for (i, ch) in s.char_indices() {
        if prev != '\\' {
            match ch {
                '(' if quote.is_none() => depth += 1,
                ')' if quote.is_none() && depth > 0 => depth -= 1,
                '"' | '\'' | '`' if quote == Some(ch) => quote = None,
                '"' | '\'' | '`' if quote.is_none() => quote = Some(ch),
                _ => {}
            }
        }
        if ch == ',' && depth == 0 && quote.is_none() {
            out.push(&s[start..i]);
            start = i + 1;
        }
        prev = ch;
    }
    if depth > 0 || quote.is_some() {
        return Err(unbalanced(&s[start..]));
    }
    out.push(&s[start..]);
    Ok(out)
}

fn parse_excerpt(m: &str) -> Option<(usize, bool)> {
    let args = m.strip_prefix("excerpt(")?.strip_suffix(')')?;
    let mut parts = args.split(',').map(str::trim);
    let max: usize = parts.next()?.parse().ok()?;
    let ellipsis = matches!(parts.next(), Some("true") | Some("1"));
    Some((max.min(100_000), ellipsis))
}

impl Fields {
    /// Parses the parameter; `None` when it lists nothing or is malformed (see [`Fields::try_parse`]).
    pub fn parse(s: &str) -> Option<Fields> {
        Fields::try_parse(s).ok().flatten()
    }

    /// Parses the parameter: `Ok(None)` when it lists nothing, `Err` for an unknown or malformed
    /// modifier (PocketBase answers 400).
    pub fn try_parse(s: &str) -> Result<Option<Fields>, String> {
        let mut root = Node::default();
        for item in split_top(s)?
            .into_iter()
            .map(str::trim)
            .filter(|x| !x.is_empty())
        {
            let (path, modifier) = match item.split_once(':') {
                Some((p, m)) => (p, Some(m)),
                None => (item, None),
            };
            let mut node = &mut root;
            for part in path.split('.').map(str::trim).filter(|p| !p.is_empty()) {
                node = node.children.entry(part.to_owned()).or_default();
            }
            node.whole = node.children.is_empty();
            if let Some(m) = modifier {
                node.excerpt =
                    Some(parse_excerpt(m).ok_or_else(|| format!("invalid fields modifier {m:?}"))?);
            }
        }
        if root.children.is_empty() {
            Ok(None)
        } else {
            Ok(Some(Fields(root)))
        }
    }

    /// Applies the projection to a record (or any JSON object).
    pub fn apply(&self, v: &mut Value) {
        pick(&self.0, v);
    }
}

fn pick(node: &Node, v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|x| pick(node, x)),
        Value::Object(map) => {
            if node.children.is_empty() {
                return;
            }
            let star = node.children.get("*");
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let child = node.children.get(&k).or(star);
                match child {
                    None => {
                        map.remove(&k);
                    }
                    Some(c) => {
                        if let Some(x) = map.get_mut(&k) {
                            if let Some((max, ellipsis)) = c.excerpt {
                                if let Value::String(s) = x {
                                    *s = super::excerpt::excerpt(s, max, ellipsis);
                                }
                            } else if !c.children.is_empty() {
                                pick(c, x);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_nested_paths_and_excerpts() {
        let f = Fields::parse("id,title,expand.author.name,body:excerpt(5,true)").unwrap();
        let mut v = json!({"id":"1","title":"t","other":1,"body":"<p>Hello world</p>","expand":{"author":{"name":"A","email":"x"},"tags":[]}});
        f.apply(&mut v);
        assert_eq!(
            v,
            json!({"id":"1","title":"t","body":"Hello...","expand":{"author":{"name":"A"}}})
        );
    }

    #[test]
    fn wildcard_keeps_all() {
        let f = Fields::parse("*,expand.author.id").unwrap();
        let mut v = json!({"a":1,"b":2,"expand":{"author":{"id":"x","name":"y"}}});
        f.apply(&mut v);
        assert_eq!(v, json!({"a":1,"b":2,"expand":{"author":{"id":"x"}}}));
        assert!(Fields::parse(" , ").is_none());
        assert!(Fields::try_parse("name:excerpt").is_err());
        assert!(Fields::try_parse("name:excerpt(abc)").is_err());
    }
}
