//! CSV/TSV recognition: a field-counting reader with the semantics of mimetype's
//! `internal/csv` (itself modelled on Go's encoding/csv) and its `sv` check.

use super::scan::READ_LIMIT;

struct Parser<'a> {
    comma: u8,
    comment: u8,
    s: &'a [u8],
}

impl<'a> Parser<'a> {
    /// The next line including its `\n`; a final `\r` is dropped, and a `\r\n` ending is cut
    /// (reported as `cut_short`).
    fn read_line(&mut self) -> (&'a [u8], bool) {
        let i = self
            .s
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.s.len(), |i| i + 1);
        let (line, rest) = self.s.split_at(i);
        self.s = rest;
        let n = line.len();
        if n > 0 && line[n - 1] == b'\r' {
            return (&line[..n - 1], false);
        }
        if n >= 2 && line[n - 2] == b'\r' && line[n - 1] == b'\n' {
            return (&line[..n - 2], true);
        }
        (line, false)
    }

    /// Counts the fields of the next record; also whether there was a record at all.
    fn count_fields(&mut self) -> (usize, bool) {
        let mut finished = false;
        let mut line: &[u8];
        let mut cut_short;
        loop {
            (line, cut_short) = self.read_line();
            if finished {
                return (0, false);
            }
            finished = self.s.is_empty() && line.is_empty();
            if line.len() == length_nl(line) {
                continue; // empty line
            }
            if line.first() == Some(&self.comment) {
                continue;
            }
            break;
        }
        let mut fields = 0;
        'field: loop {
            if line.first() != Some(&b'"') {
                // Unquoted field.
                fields += 1;
                match line.iter().position(|&b| b == self.comma) {
                    Some(i) => {
                        line = &line[i + 1..];
                        continue 'field;
                    }
                    None => break 'field,
                }
            }
            // Quoted field.
            line = &line[1..];
            loop {
                if let Some(i) = line.iter().position(|&b| b == b'"') {
                    line = &line[i + 1..];
                    match line.first() {
                        Some(&b'"') => line = &line[1..],
                        Some(&c) if c == self.comma => {
                            line = &line[1..];
                            fields += 1;
                            continue 'field;
                        }
                        _ if length_nl(line) == line.len() => {
                            fields += 1;
                            break 'field;
                        }
                        _ => {}
                    }
                } else if !line.is_empty() || cut_short {
                    (line, cut_short) = self.read_line();
                } else {
                    fields += 1;
                    break 'field;
                }
            }
        }
        (fields, fields != 0)
    }
}

fn length_nl(b: &[u8]) -> usize {
    usize::from(b.last() == Some(&b'\n'))
}

/// Whether `input` looks like a table separated by `comma`: at least two records with the same
/// number (at least two) of fields, judging at most ten. When the input was cut at the read
/// limit, a short last record is forgiven.
pub(crate) fn separated_values(input: &[u8], comma: u8) -> bool {
    let mut p = Parser {
        comma,
        comment: b'#',
        s: input,
    };
    let (header, more) = p.count_fields();
    if header < 2 || !more {
        return false;
    }
    let mut lines = 1;
    loop {
        let (fields, more) = p.count_fields();
        if !more && fields == 0 {
            break;
        }
        if fields == header {
            lines += 1;
        } else {
            let maybe_truncated = input.len() >= READ_LIMIT;
            if maybe_truncated && fields < header && p.s.is_empty() {
                break;
            }
            return false;
        }
        if lines >= 10 {
            return true;
        }
    }
    lines >= 2
}

#[cfg(test)]
mod tests {
    use super::separated_values;

    #[test]
    fn csv() {
        assert!(separated_values(b"a,b,c\n1,2,3\n4,5,6\n", b','));
        assert!(separated_values(
            b"name,\"quoted, with comma\"\r\nx,\"multi\nline\"\r\n",
            b','
        ));
        assert!(!separated_values(b"a,b\n1,2,3\n", b','));
        assert!(!separated_values(b"just one line, here\n", b','));
        assert!(!separated_values(b"no commas\nat all\n", b','));
        assert!(separated_values(b"a\tb\n1\t2\n", b'\t'));
        // A record cut short by the read limit is forgiven only at the limit.
        let mut cut = b"h1,h2,h3\n".to_vec();
        for _ in 0..5 {
            cut.extend_from_slice(&[b'a'; 1000]);
            cut.extend_from_slice(b",b,c\n");
        }
        cut.truncate(super::READ_LIMIT);
        assert!(separated_values(&cut, b','));
        cut.pop();
        assert!(!separated_values(&cut, b','));
        assert!(!separated_values(b"a,b,c\n1,2,3\n4,5\n", b','));
    }
}
