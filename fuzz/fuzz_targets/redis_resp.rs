//! Fuzzes the RESP2 reply reader (what a Redis server sends): replies are read one after the
//! other until the input runs out or is refused. No input may panic; the reader never consumes
//! more than the input; every reply read, written back in RESP, reads back to itself using all
//! of those bytes; and an array of bulk strings written back is exactly what `resp::encode`
//! writes for a command with those arguments.
//!
//! Run: `scripts/fuzz 60 redis_resp`.

#![no_main]

use std::io::{BufRead, BufReader};

use kiln_redis::resp::{encode, read, Reply};
use libfuzzer_sys::fuzz_target;

/// The longest line the reader accepts, CRLF included.
const MAX_LINE: usize = 64 * 1024;

/// Writes `reply` in RESP2; `false` when a line would be longer than the reader accepts (a
/// status whose invalid UTF-8 became U+FFFD can grow past it).
fn write(out: &mut Vec<u8>, reply: &Reply) -> bool {
    let line = |out: &mut Vec<u8>, kind: u8, text: &[u8]| {
        out.push(kind);
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
        text.len() + 3 <= MAX_LINE
    };
    match reply {
        Reply::Status(s) => line(out, b'+', s.as_bytes()),
        Reply::Error(s) => line(out, b'-', s.as_bytes()),
        Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
        Reply::Bulk(None) => line(out, b'$', b"-1"),
        Reply::Bulk(Some(b)) => {
            line(out, b'$', b.len().to_string().as_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
            true
        }
        Reply::Array(None) => line(out, b'*', b"-1"),
        Reply::Array(Some(items)) => {
            line(out, b'*', items.len().to_string().as_bytes());
            items.iter().all(|item| write(out, item))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > kiln_fuzz::MAX_INPUT {
        return;
    }
    // A small buffer, so that replies straddle refills.
    let mut reader = BufReader::with_capacity(16, data);
    let mut consumed = 0;
    for _ in 0..64 {
        let Ok(reply) = read(&mut reader) else { break };
        // Every reply takes at least a type byte and a CRLF.
        let now = data.len() - reader.get_ref().len() - reader.buffer().len();
        assert!(
            now >= consumed + 3,
            "a reply read from {} bytes",
            now - consumed
        );
        consumed = now;

        let mut bytes = Vec::new();
        if write(&mut bytes, &reply) {
            let mut again = &bytes[..];
            let back = read(&mut again).expect("a reply written back reads back");
            assert_eq!(back, reply);
            assert!(again.is_empty(), "{} bytes left over", again.len());
        }
        if let Reply::Array(Some(items)) = &reply {
            let args: Option<Vec<&[u8]>> = items
                .iter()
                .map(|i| match i {
                    Reply::Bulk(Some(b)) => Some(b.as_slice()),
                    _ => None,
                })
                .collect();
            if let Some(args) = args {
                let mut command = Vec::new();
                encode(&mut command, &args);
                assert_eq!(command, bytes);
            }
        }
        if reader.fill_buf().map_or(true, |b| b.is_empty()) {
            break;
        }
    }
});
