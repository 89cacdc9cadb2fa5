//! Random identifiers and secrets from the OS CSPRNG.

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `n` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    os_fill(&mut b);
    b
}

/// Fills `b` from the OS generator.
fn os_fill(b: &mut [u8]) {
    // The OS generator failing is unrecoverable for a server that issues secrets.
    getrandom::fill(b).expect("the operating system's random generator failed");
}

/// A random string of `len` characters from `alphabet`, without modulo bias, each byte straight
/// from the OS (codes and secrets).
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    pick(alphabet, len, os_fill)
}

/// `len` characters of `alphabet` (at most 256 of them), unbiased, from bytes `fill` gives.
fn pick(alphabet: &[u8], len: usize, mut fill: impl FnMut(&mut [u8])) -> String {
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 32];
    while out.len() < len {
        fill(&mut bytes);
        for byte in bytes {
            if (byte as usize) < limit {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
                if out.len() == len {
                    break;
                }
            }
        }
    }
    out
}

/// The id field's default pattern: what [`new_id`] makes.
pub const ID_PATTERN: &str = "[a-z0-9]{15}";

/// A record id: 15 characters of `[a-z0-9]`.
///
/// Ids are not secrets (they appear in URLs and lists) but must not be guessable either: they
/// come from the OS generator like everything random here, read 4 KiB at a time per thread
/// rather than once per id (a system call on every create and every log line otherwise).
pub fn new_id() -> String {
    pick(ID_ALPHABET, 15, pooled)
}

/// Fills `out` from this thread's store of bytes from the OS generator.
fn pooled(out: &mut [u8]) {
    struct Pool {
        bytes: [u8; 4096],
        used: usize,
    }
    thread_local! {
        static POOL: std::cell::RefCell<Pool> = const {
            std::cell::RefCell::new(Pool { bytes: [0; 4096], used: 4096 })
        };
    }
    POOL.with_borrow_mut(|p| {
        let mut done = 0;
        while done < out.len() {
            if p.used == p.bytes.len() {
                os_fill(&mut p.bytes);
                p.used = 0;
            }
            let n = (out.len() - done).min(p.bytes.len() - p.used);
            out[done..done + n].copy_from_slice(&p.bytes[p.used..p.used + n]);
            // what was handed out is not kept
            p.bytes[p.used..p.used + n].fill(0);
            p.used += n;
            done += n;
        }
    });
}

/// A secret of `len` characters of `[a-zA-Z0-9]` (token keys, signing secrets).
pub fn new_secret(len: usize) -> String {
    random_from(SECRET_ALPHABET, len)
}

/// Whether `id` is acceptable as a client-supplied record id.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A random string matching a simple regex such as `[a-z0-9]{15}` or `[a-zA-Z0-9]{50}`:
/// literal characters, character classes with ranges, and `{n}` / `{n,m}` quantifiers.
/// Returns `None` for patterns outside that subset.
pub fn from_pattern(pattern: &str) -> Option<String> {
    if pattern == ID_PATTERN {
        return Some(new_id()); // the id field's pattern, on every create
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let set: Vec<u8> = if chars[i] == '[' {
            let mut set = Vec::new();
            i += 1;
            while i < chars.len() && chars[i] != ']' {
                if i + 2 < chars.len() && chars[i + 1] == '-' && chars[i + 2] != ']' {
                    let (a, b) = (chars[i] as u32, chars[i + 2] as u32);
                    if a > b || b > 127 {
                        return None;
                    }
                    set.extend((a..=b).map(|c| c as u8));
                    i += 3;
                } else {
                    if !chars[i].is_ascii() {
                        return None;
                    }
                    set.push(chars[i] as u8);
                    i += 1;
                }
            }
            if i >= chars.len() || set.is_empty() {
                return None;
            }
            i += 1;
            set
        } else if chars[i].is_ascii_alphanumeric() || "_-".contains(chars[i]) {
            i += 1;
            vec![chars[i - 1] as u8]
        } else {
            return None;
        };
        let mut count = 1;
        if i < chars.len() && chars[i] == '{' {
            let end = chars[i..].iter().position(|&c| c == '}')? + i;
            let spec: String = chars[i + 1..end].iter().collect();
            let (lo, hi) = match spec.split_once(',') {
                Some((a, b)) => (
                    a.trim().parse::<usize>().ok()?,
                    b.trim().parse::<usize>().ok()?,
                ),
                None => {
                    let n = spec.trim().parse::<usize>().ok()?;
                    (n, n)
                }
            };
            if lo > hi || hi > 1000 {
                return None;
            }
            count = lo + (random_bytes::<1>()[0] as usize) % (hi - lo + 1);
            i = end + 1;
        }
        out.push_str(&random_from(&set, count));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_pocketbase_shape() {
        let id = new_id();
        assert_eq!(id.len(), 15);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_ne!(new_id(), new_id());
    }

    #[test]
    fn pooled_ids_stay_distinct_and_unbiased_across_refills() {
        // 2,000 ids take 64,000 bytes: the thread's pool is read again 15 times
        let ids: std::collections::HashSet<String> = (0..2000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 2000);
        let mut seen = [0usize; 256];
        for b in ids.iter().flat_map(|id| id.bytes()) {
            seen[b as usize] += 1;
        }
        // 30,000 characters over 36: ~833 each
        for &c in ID_ALPHABET {
            assert!(
                (600..1100).contains(&seen[c as usize]),
                "{} seen {}",
                c as char,
                seen[c as usize]
            );
        }
    }

    #[test]
    fn patterns_generate_matching_text() {
        let s = from_pattern("[a-z0-9]{15}").unwrap();
        assert_eq!(s.len(), 15);
        let s = from_pattern("[a-zA-Z0-9]{50}").unwrap();
        assert_eq!(s.len(), 50);
        let s = from_pattern("abc-[0-9]{3}").unwrap();
        assert!(s.starts_with("abc-") && s.len() == 7);
        assert!(from_pattern("(a|b)").is_none());
    }
}
