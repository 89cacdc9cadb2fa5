//! Route patterns as PocketBase's router takes them (Go's ServeMux): literal segments,
//! `{name}` for one segment, `{name...}` for the rest, `{$}` for the exact end.

/// One registered route.
#[derive(Debug, Clone)]
pub struct Route {
    /// `GET`, `POST`, …, or `*` for any method.
    pub method: String,
    pub path: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Rest(String),
    End,
}

impl Route {
    pub(crate) fn new(method: &str, path: &str) -> Route {
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                if s == "{$}" {
                    Segment::End
                } else if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix("...}"))
                {
                    Segment::Rest(name.to_owned())
                } else if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Segment::Param(name.to_owned())
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        Route {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            segments,
        }
    }

    /// The path values if `method path` is this route's (`HEAD` is served by `GET` routes).
    pub fn matches(&self, method: &str, path: &str) -> Option<Vec<(String, String)>> {
        let method_ok = self.method == "*"
            || self.method == method
            || (method == "HEAD" && self.method == "GET");
        if !method_ok {
            return None;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut values = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Rest(name) => {
                    values.push((
                        name.clone(),
                        parts.get(i..).map(|p| p.join("/")).unwrap_or_default(),
                    ));
                    return Some(values);
                }
                Segment::End => {
                    return (i == parts.len() - 1 && parts[i].is_empty()).then_some(values)
                }
                Segment::Param(name) => {
                    let part = parts.get(i)?;
                    if part.is_empty() {
                        return None;
                    }
                    values.push((name.clone(), percent_decode(part)));
                }
                Segment::Literal(lit) => {
                    if parts.get(i)? != lit {
                        return None;
                    }
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(values)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn patterns() {
        let r = Route::new("GET", "/api/hello/{name}");
        assert_eq!(
            r.matches("GET", "/api/hello/w%20x"),
            Some(vec![("name".into(), "w x".into())])
        );
        assert_eq!(r.matches("HEAD", "/api/hello/x").map(|v| v.len()), Some(1));
        assert_eq!(r.matches("POST", "/api/hello/x"), None);
        assert_eq!(r.matches("GET", "/api/hello/"), None);
        assert_eq!(r.matches("GET", "/api/hello/x/y"), None);
        let rest = Route::new("*", "/files/{path...}");
        assert_eq!(
            rest.matches("DELETE", "/files/a/b"),
            Some(vec![("path".into(), "a/b".into())])
        );
        let end = Route::new("GET", "/{$}");
        assert!(end.matches("GET", "/").is_some());
        assert!(end.matches("GET", "/x").is_none());
    }
}
