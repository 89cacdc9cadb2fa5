//! Request templates: text with placeholders filled in per request.
//!
//! `${seq}` a counter shared by all connections (from `--seq-start`; one value per request, so every
//! `${seq}` of a request's path and body is the same number), `${rand:N}` a uniform random integer in
//! 0..N, `${rand:LO..HI}` one in LO..HI, `${now_ns}` the wall clock in nanoseconds since the Unix
//! epoch. A width pads with zeros: `${seq:14}`, `${rand:10000:14}`. `$` not followed by `{` is
//! literal, so JSON bodies need no escaping.

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(String),
    Seq { width: usize },
    Rand { lo: u64, n: u64, width: usize },
    NowNs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// What a template needs from its caller when it is rendered.
pub struct Vars<'a> {
    pub seq: u64,
    pub rng: &'a mut Rng,
}

/// `N` → (0, N); `LO..HI` → (LO, HI - LO).
fn range(x: &str, whole: &str) -> Result<(u64, u64), String> {
    let num = |v: &str| {
        v.parse::<u64>()
            .map_err(|_| format!("bad number {v:?} in {whole:?}"))
    };
    let (lo, n) = match x.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            (a, b.saturating_sub(a))
        }
        None => (0, num(x)?),
    };
    if n == 0 {
        return Err(format!("empty random range {x:?} in {whole:?}"));
    }
    Ok((lo, n))
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${") {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in {s:?}"))?;
            let spec: Vec<&str> = after[..end].split(':').collect();
            let num = |x: &str| {
                x.parse::<u64>()
                    .map_err(|_| format!("bad number {x:?} in {s:?}"))
            };
            let part = match spec.as_slice() {
                ["seq"] => Part::Seq { width: 0 },
                ["seq", w] => Part::Seq {
                    width: num(w)? as usize,
                },
                ["rand", r] => {
                    let (lo, n) = range(r, s)?;
                    Part::Rand { lo, n, width: 0 }
                }
                ["rand", r, w] => {
                    let (lo, n) = range(r, s)?;
                    Part::Rand {
                        lo,
                        n,
                        width: num(w)? as usize,
                    }
                }
                ["now_ns"] => Part::NowNs,
                _ => {
                    return Err(format!(
                        "unknown placeholder ${{{}}} in {s:?}",
                        &after[..end]
                    ))
                }
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            parts.push(part);
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// Whether rendering gives the same text every time.
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    pub fn render(&self, vars: &mut Vars<'_>, out: &mut String) {
        use std::fmt::Write;
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Seq { width } => {
                    let _ = write!(out, "{:0width$}", vars.seq, width = *width);
                }
                Part::Rand { lo, n, width } => {
                    let _ = write!(out, "{:0width$}", lo + vars.rng.below(*n), width = *width);
                }
                Part::NowNs => {
                    let _ = write!(out, "{}", now_ns());
                }
            }
        }
    }
}

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// xorshift64*: enough randomness to spread ids over a table, and cheap.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that nearby seeds give unrelated streams; never zero.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in 0..n (n > 0), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &Template, seq: u64, rng: &mut Rng) -> String {
        let mut out = String::new();
        t.render(&mut Vars { seq, rng }, &mut out);
        out
    }

    #[test]
    fn literal_json_is_untouched() {
        let t = Template::parse(r#"{"title":"a $5 {x}","n":7}"#).unwrap();
        assert!(t.is_constant());
        assert_eq!(
            render(&t, 0, &mut Rng::new(1)),
            r#"{"title":"a $5 {x}","n":7}"#
        );
    }

    #[test]
    fn placeholders() {
        let t = Template::parse(r#"{"id":"b${seq:14}","n":${seq},"r":${rand:10}}"#).unwrap();
        assert_eq!(t.parts[3], Part::Seq { width: 0 });
        assert!(!t.is_constant());
        let out = render(&t, 42, &mut Rng::new(7));
        assert!(
            out.starts_with(r#"{"id":"b00000000000042","n":42,"r":"#),
            "{out}"
        );
        let r: u64 = out
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('}')
            .parse()
            .unwrap();
        assert!(r < 10);
        let t = Template::parse("/r/b${rand:5:3}").unwrap();
        let out = render(&t, 0, &mut Rng::new(3));
        assert_eq!(out.len(), "/r/b000".len());
        let t = Template::parse("p=${rand:1..6}").unwrap();
        let mut rng = Rng::new(9);
        let pages: std::collections::BTreeSet<String> =
            (0..200).map(|_| render(&t, 0, &mut rng)).collect();
        assert_eq!(
            pages.into_iter().collect::<Vec<_>>(),
            ["p=1", "p=2", "p=3", "p=4", "p=5"]
        );
        let t = Template::parse("${now_ns}").unwrap();
        let v: u64 = render(&t, 0, &mut Rng::new(3)).parse().unwrap();
        assert!(v > 1_600_000_000_000_000_000);
    }

    #[test]
    fn bad_placeholders() {
        assert!(Template::parse("${seq").is_err());
        assert!(Template::parse("${nope}").is_err());
        assert!(Template::parse("${rand:x}").is_err());
        assert!(Template::parse("${rand:0}").is_err());
        assert!(Template::parse("${rand:5..5}").is_err());
        assert!(Template::parse("${rand:6..5}").is_err());
        assert!(Template::parse("${rand:1..x}").is_err());
    }

    #[test]
    fn rng_is_spread_and_bounded() {
        let mut r = Rng::new(0);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[r.below(10) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| (800..1200).contains(&c)), "{seen:?}");
    }
}
