//! RESP2, the Redis protocol, as much as publishing and subscribing need: commands are arrays of
//! bulk strings; replies are simple strings, errors, integers, bulk strings and arrays.

use std::io::{self, BufRead, Write};

use crate::Error;

/// Longest bulk string accepted from the server (Redis's own limit is 512 MB).
const MAX_BULK: usize = 64 << 20;
/// Most elements of an array reply.
const MAX_ARRAY: usize = 1 << 16;
/// Deepest nesting of array replies (publish/subscribe replies nest one level): deeper ones are
/// refused before they overflow the stack.
const MAX_DEPTH: usize = 32;

/// A reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The bytes of a bulk or status reply.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(Some(b)) => Some(b),
            Reply::Status(s) => Some(s.as_bytes()),
            _ => None,
        }
    }
}

/// Appends a command to `out`.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    let _ = write!(out, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(out, "${}\r\n", a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads one reply.
pub fn read(r: &mut impl BufRead) -> Result<Reply, Error> {
    read_nested(r, 0)
}

/// Reads one reply inside `depth` arrays.
fn read_nested(r: &mut impl BufRead, depth: usize) -> Result<Reply, Error> {
    let line = read_line(r)?;
    let (kind, rest) = line.split_first().ok_or_else(|| protocol("empty line"))?;
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' => Ok(Reply::Status(text())),
        b'-' => Ok(Reply::Error(text())),
        b':' => Ok(Reply::Int(number(rest)?)),
        b'$' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Bulk(None));
            }
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= MAX_BULK)
                .ok_or_else(|| protocol("bulk string too long"))?;
            let mut buf = vec![0; n + 2];
            r.read_exact(&mut buf).map_err(Error::Io)?;
            if !buf.ends_with(b"\r\n") {
                return Err(protocol("bulk string not followed by CRLF"));
            }
            buf.truncate(n);
            Ok(Reply::Bulk(Some(buf)))
        }
        b'*' => {
            let n = number(rest)?;
            if n < 0 {
                return Ok(Reply::Array(None));
            }
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n <= MAX_ARRAY)
                .ok_or_else(|| protocol("array too long"))?;
            if n > 0 && depth >= MAX_DEPTH {
                return Err(protocol("arrays nested too deeply"));
            }
            let items = (0..n)
                .map(|_| read_nested(r, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(protocol("unknown reply type")),
    }
}

/// A line without its CRLF (at most 64 KiB: headers and numbers only).
fn read_line(r: &mut impl BufRead) -> Result<Vec<u8>, Error> {
    let mut line = Vec::new();
    let n = io::Read::take(&mut *r, 64 * 1024)
        .read_until(b'\n', &mut line)
        .map_err(Error::Io)?;
    if n == 0 {
        return Err(Error::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        )));
    }
    if !line.ends_with(b"\r\n") {
        return Err(protocol("line not ended by CRLF"));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(digits: &[u8]) -> Result<i64, Error> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| protocol("bad number"))
}

fn protocol(what: &str) -> Error {
    Error::Protocol(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Reply, Error> {
        read(&mut io::BufReader::new(bytes))
    }

    #[test]
    fn encodes_commands() {
        let mut out = Vec::new();
        encode(&mut out, &[b"PUBLISH", b"ch", b"a\r\nb"]);
        assert_eq!(out, b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\na\r\nb\r\n");
    }

    #[test]
    fn reads_every_reply_kind() {
        assert_eq!(parse(b"+OK\r\n").unwrap(), Reply::Status("OK".into()));
        assert_eq!(
            parse(b"-ERR no\r\n").unwrap(),
            Reply::Error("ERR no".into())
        );
        assert_eq!(parse(b":-12\r\n").unwrap(), Reply::Int(-12));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Reply::Bulk(None));
        assert_eq!(
            parse(b"$4\r\na\r\nb\r\n").unwrap(),
            Reply::Bulk(Some(b"a\r\nb".to_vec()))
        );
        let msg = parse(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n").unwrap();
        assert_eq!(
            msg,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"message".to_vec())),
                Reply::Bulk(Some(b"ch".to_vec())),
                Reply::Bulk(Some(Vec::new()))
            ]))
        );
    }

    #[test]
    fn refuses_broken_input() {
        for bad in [
            &b""[..],
            b"+OK\n",
            b"?x\r\n",
            b"$3\r\nabcd\r\n",
            b"$x\r\n",
            b"$99999999999\r\n",
            b"*2\r\n:1\r\n",
            b"$5\r\nab",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn refuses_arrays_nested_too_deeply() {
        // fuzz/fuzz_targets/redis_resp.rs: 16000 nested one-item arrays overflowed the stack.
        let nested = |levels: usize| {
            let mut bytes = b"*1\r\n".repeat(levels);
            bytes.extend_from_slice(b":1\r\n");
            bytes
        };
        assert!(parse(&nested(16_000)).is_err());
        assert!(parse(&nested(MAX_DEPTH + 1)).is_err());
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(parse(b"*0\r\n").unwrap(), Reply::Array(Some(Vec::new())));
    }
}
