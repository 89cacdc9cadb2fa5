//! A minimal HTTP/1.1 client over one keep-alive TCP connection: requests are written whole, responses
//! are read with `Content-Length`, chunked transfer coding, or no body. No TLS, no redirects, no
//! compression (nothing asks for it). Enough for a load generator whose own cost must stay small.

use std::io;

use tokio::net::TcpStream;

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No body (1xx, 204, 304, or `Content-Length` absent on a response that cannot have one).
    Empty,
    /// Neither length nor chunked: the body runs until the server closes the connection.
    UntilClose,
}

/// The status line and the headers that matter to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Bytes of the head, including the blank line that ends it.
    pub len: usize,
    pub body: BodyKind,
    /// `Connection: close` was sent: the connection cannot be reused.
    pub close: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Parses a response head from the start of `buf`; `Ok(None)` until the blank line has arrived.
pub fn parse_head(buf: &[u8]) -> io::Result<Option<Head>> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            return Err(bad("response head larger than 64 KiB"));
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| bad("response head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(bad("not an HTTP/1.x response"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status code"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| bad("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .to_ascii_lowercase()
                .split(',')
                .any(|v| v.trim() == "chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let body = if (100..200).contains(&status) || status == 204 || status == 304 {
        BodyKind::Empty
    } else if chunked {
        BodyKind::Chunked
    } else if let Some(n) = length {
        if n == 0 {
            BodyKind::Empty
        } else {
            BodyKind::Length(n)
        }
    } else {
        BodyKind::UntilClose
    };
    Ok(Some(Head {
        status,
        len: end + 4,
        body,
        close,
    }))
}

/// Decodes a chunked body incrementally: feed it whatever bytes arrived, it appends the data it could
/// decode and says how many input bytes it used (a partial size line is left for the next feed).
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes from `input` into `out`; returns the number of input bytes consumed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<usize> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                ChunkState::Done => return Ok(pos),
                ChunkState::Size => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        if rest.len() > 1024 {
                            return Err(bad("chunk size line too long"));
                        }
                        return Ok(pos);
                    };
                    let line =
                        std::str::from_utf8(&rest[..eol]).map_err(|_| bad("bad chunk size"))?;
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16).map_err(|_| bad("bad chunk size"))?;
                    pos += eol + 2;
                    self.state = if size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let n = left.min(rest.len());
                    out.extend_from_slice(&rest[..n]);
                    pos += n;
                    self.state = if n == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - n)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(bad("chunk data not followed by CRLF"));
                    }
                    pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Trailer => {
                    let Some(eol) = find(rest, b"\r\n") else {
                        return Ok(pos);
                    };
                    pos += eol + 2;
                    if eol == 0 {
                        self.state = ChunkState::Done;
                    }
                }
            }
        }
    }
}

/// One request, already serialised except for nothing: `bytes` go on the wire as they are.
pub fn build_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + path.len() + body.map_or(0, |b| b.len()));
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(b) = body {
        out.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
        out.extend_from_slice(b.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(b);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Writes all of `data` (readiness + `try_write`, so tokio's io-util is not needed).
pub async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

thread_local! {
    /// Read scratch space shared by every connection of the thread: a read completes without an
    /// `.await` between `try_read` and the copy, so one buffer serves them all.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 64 * 1024]);
}

/// Appends at least one byte from the stream to `buf`; `Ok(0)` at end of stream.
pub async fn read_some(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        let got = SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let r = stream.try_read(&mut s[..]);
            if let Ok(n) = r {
                buf.extend_from_slice(&s[..n]);
            }
            r
        });
        match got {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

thread_local! {
    /// Where discarded bodies are read to: larger than SCRATCH, so that a download of 100 MiB
    /// costs fewer system calls.
    static SINK: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 * 1024]);
}

/// Reads at most `max` bytes from the stream and drops them; `Ok(0)` at end of stream.
pub async fn discard_some(stream: &TcpStream, max: usize) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        let got = SINK.with(|s| {
            let mut s = s.borrow_mut();
            let n = max.min(s.len());
            stream.try_read(&mut s[..n])
        });
        match got {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A response: status and decoded body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One keep-alive connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
}

impl Conn {
    pub async fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
            closed: false,
        })
    }

    /// False once the server said `Connection: close` or the stream ended.
    pub fn reusable(&self) -> bool {
        !self.closed
    }

    /// Sends a serialised request and reads its response.
    pub async fn roundtrip(&mut self, request: &[u8]) -> io::Result<Response> {
        self.send(request).await?;
        self.read_response().await
    }

    /// Sends bytes (a serialised request) without reading anything.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<()> {
        write_all(&self.stream, request).await
    }

    async fn fill(&mut self) -> io::Result<()> {
        if read_some(&self.stream, &mut self.buf).await? == 0 {
            self.closed = true;
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Reads the status line and headers, leaving the body's bytes in the buffer.
    pub async fn read_head(&mut self) -> io::Result<Head> {
        loop {
            if let Some(head) = parse_head(&self.buf)? {
                self.buf.drain(..head.len);
                if head.close {
                    self.closed = true;
                }
                return Ok(head);
            }
            self.fill().await?;
        }
    }

    pub async fn read_response(&mut self) -> io::Result<Response> {
        let head = self.read_head().await?;
        let body = match head.body {
            BodyKind::Empty => Vec::new(),
            BodyKind::Length(n) => {
                while self.buf.len() < n {
                    self.fill().await?;
                }
                self.buf.drain(..n).collect()
            }
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                let mut body = Vec::new();
                loop {
                    let used = dec.feed(&self.buf, &mut body)?;
                    self.buf.drain(..used);
                    if dec.is_done() {
                        break body;
                    }
                    self.fill().await?;
                }
            }
            BodyKind::UntilClose => {
                loop {
                    match read_some(&self.stream, &mut self.buf).await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                }
                self.closed = true;
                std::mem::take(&mut self.buf)
            }
        };
        Ok(Response {
            status: head.status,
            body,
        })
    }

    /// Reads a response body of the given kind and throws it away, returning its decoded length: for
    /// large downloads, which must not be collected in memory. Bytes past the body stay buffered.
    pub async fn discard_body(&mut self, kind: BodyKind) -> io::Result<u64> {
        match kind {
            BodyKind::Empty => Ok(0),
            BodyKind::Length(n) => {
                let mut got = self.buf.len().min(n);
                self.buf.drain(..got);
                while got < n {
                    let k = discard_some(&self.stream, n - got).await?;
                    if k == 0 {
                        self.closed = true;
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    got += k;
                }
                Ok(got as u64)
            }
            BodyKind::Chunked => {
                let mut dec = ChunkedDecoder::new();
                let mut out = Vec::new();
                let mut total = 0u64;
                loop {
                    let used = dec.feed(&self.buf, &mut out)?;
                    self.buf.drain(..used);
                    total += out.len() as u64;
                    out.clear();
                    if dec.is_done() {
                        return Ok(total);
                    }
                    self.fill().await?;
                }
            }
            BodyKind::UntilClose => {
                let mut total = std::mem::take(&mut self.buf).len() as u64;
                loop {
                    let k = discard_some(&self.stream, usize::MAX).await?;
                    if k == 0 {
                        self.closed = true;
                        return Ok(total);
                    }
                    total += k as u64;
                }
            }
        }
    }

    /// Reads whatever arrives next (for streamed bodies such as SSE): moves the buffered bytes into
    /// `out`, reading from the socket first if none are buffered. `Ok(0)` at end of stream.
    pub async fn read_raw(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        if self.buf.is_empty() && read_some(&self.stream, &mut self.buf).await? == 0 {
            self.closed = true;
            return Ok(0);
        }
        let n = self.buf.len();
        out.extend_from_slice(&self.buf);
        self.buf.clear();
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_with_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 12\r\n\r\n{\"a\":1}";
        let h = parse_head(raw).unwrap().unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(h.body, BodyKind::Length(12));
        assert_eq!(h.len, raw.len() - 7);
        assert!(!h.close);
    }

    #[test]
    fn head_incomplete_then_complete() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le").unwrap(), None);
        assert_eq!(
            parse_head(b"HTTP/1.1 204 No Content\r\n\r\n")
                .unwrap()
                .unwrap()
                .body,
            BodyKind::Empty
        );
    }

    #[test]
    fn head_chunked_close_and_errors() {
        let h = parse_head(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!((h.status, h.body, h.close), (404, BodyKind::Chunked, true));
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\n\r\n")
                .unwrap()
                .unwrap()
                .body,
            BodyKind::UntilClose
        );
        assert!(parse_head(b"SSH-2.0 hello\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
    }

    #[test]
    fn chunked_in_one_piece() {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let input = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\nNEXT";
        let used = d.feed(input, &mut out).unwrap();
        assert!(d.is_done());
        assert_eq!(out, b"hello, world");
        assert_eq!(&input[used..], b"NEXT");
    }

    #[test]
    fn chunked_byte_by_byte() {
        let input = b"a\r\n0123456789\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n";
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for &b in input.iter() {
            pending.push(b);
            let used = d.feed(&pending, &mut out).unwrap();
            pending.drain(..used);
        }
        assert!(d.is_done());
        assert!(pending.is_empty());
        assert_eq!(out, b"0123456789abc");
    }

    #[test]
    fn chunked_rejects_garbage() {
        let mut out = Vec::new();
        assert!(ChunkedDecoder::new().feed(b"zz\r\n", &mut out).is_err());
        assert!(ChunkedDecoder::new().feed(b"2\r\nabXX", &mut out).is_err());
    }

    #[test]
    fn request_serialisation() {
        let h = vec![("Authorization".to_string(), "tok".to_string())];
        let r = build_request("POST", "127.0.0.1:1", "/api/x", &h, Some(b"{}"));
        assert_eq!(
            String::from_utf8(r).unwrap(),
            "POST /api/x HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAuthorization: tok\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        let r = build_request("GET", "h", "/", &[], None);
        assert_eq!(r, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    }
}
