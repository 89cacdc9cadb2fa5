//! kiln-loadgen: the load generator of Kiln's benchmark suite (bench/run.py drives it).
//!
//! ```text
//! kiln-loadgen http --url http://127.0.0.1:8090 --req 'GET /api/collections/items/records/b${rand:10000:14}' \
//!     [--req '10 PATCH /api/…/b${rand:10000:14} {"title":"x"}' …] [--header 'Authorization: TOKEN' …]
//!     (a header value may hold placeholders too: --header 'Idempotency-Key: k${seq}')
//!     [--connections 8] [--duration 5] [--requests N] [--warmup 1] [--seq-start 0]
//!     [--server-pid PID] [--label NAME] [--json] [--show-errors 3]
//! kiln-loadgen realtime --url http://127.0.0.1:8090 --collection rt --subscribers 1000 --events 100
//!     [--rate 10] [--field sent_ns] [--header 'Authorization: TOKEN'] [--server-pid PID] [--json]
//! kiln-loadgen upload --url http://127.0.0.1:8090 --path /api/collections/files/records --payload FILE
//!     [--field file] [--filename bench.bin] --count 100 [--connections 1] [--server-pid PID] [--json]
//! kiln-loadgen download --url http://127.0.0.1:8090 --path /api/files/files/ID/NAME … | --paths-file F
//!     [--expect-bytes N] --count 200 [--connections 1] [--server-pid PID] [--json]
//! kiln-loadgen floor --sockets 10000 --events 10 [--bytes 320] [--interval-ms 1000] [--writer-cpu 0] [--json]
//! kiln-loadgen proxy --listen 127.0.0.1:0 --to 127.0.0.1:5432 [--delay-ms 1] [--duration 3600]
//! ```
//!
//! One thread (a current-thread tokio runtime): pin it with `taskset -c 1`. Every run is bounded
//! in time. See docs/BENCHMARKS.md.
// The binary prints (a command-line tool: its results go to stdout).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod files;
mod floor;
mod http;
mod load;
mod proxy;
mod realtime;
mod sse;
mod stats;
mod template;

use std::process::ExitCode;

const USAGE: &str = "usage: kiln-loadgen http --url URL --req '[WEIGHT] METHOD PATH [BODY]' [options]
       kiln-loadgen realtime --url URL --collection NAME --subscribers S --events M [options]
       kiln-loadgen upload --url URL --path /api/collections/NAME/records --payload FILE --count N [options]
       kiln-loadgen download --url URL --path /api/files/… | --paths-file FILE --count N [options]
       kiln-loadgen floor --sockets S --events M [--bytes B] [--writer-cpu CPU] [options]
       kiln-loadgen proxy --to HOST:PORT [--listen ADDR] [--delay-ms 1] [--duration SECONDS]
see the top of bench/loadgen/src/main.rs and docs/BENCHMARKS.md";

/// `--key value` options (repeatable) and `--flag`s, in order.
pub struct Args {
    pairs: Vec<(String, Option<String>)>,
}

/// Options that take no value.
const FLAGS: &[&str] = &["json", "help"];

impl Args {
    pub fn parse(raw: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut pairs = Vec::new();
        let mut it = raw.peekable();
        while let Some(a) = it.next() {
            let Some(key) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument {a:?}"));
            };
            if let Some((k, v)) = key.split_once('=') {
                pairs.push((k.to_owned(), Some(v.to_owned())));
            } else if FLAGS.contains(&key) {
                pairs.push((key.to_owned(), None));
            } else {
                let v = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
                pairs.push((key.to_owned(), Some(v)));
            }
        }
        Ok(Args { pairs })
    }

    pub fn flag(&self, key: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == key)
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.all(key).pop()
    }

    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, String> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key}: bad number {v:?}")),
        }
    }

    /// Rejects options the mode does not know (typos would otherwise be silently ignored).
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            Some((k, _)) => Err(format!("unknown option --{k}")),
            None => Ok(()),
        }
    }
}

/// `http://host:port[/…]` → `host:port`.
pub fn host_port(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("only http:// URLs: {url:?}"))?;
    let hp = rest.split('/').next().unwrap_or("");
    if hp.is_empty() {
        return Err(format!("no host in {url:?}"));
    }
    Ok(if hp.contains(':') {
        hp.to_owned()
    } else {
        format!("{hp}:80")
    })
}

/// `Name: value` headers.
pub fn headers(args: &Args) -> Result<Vec<(String, String)>, String> {
    args.all("header")
        .iter()
        .map(|h| {
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| format!("--header {h:?}: expected 'Name: value'"))?;
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn main() -> ExitCode {
    let mut raw = std::env::args().skip(1);
    let mode = raw.next().unwrap_or_default();
    let args = match Args::parse(raw) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kiln-loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.flag("help") || mode == "--help" || mode == "-h" {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if mode == "floor-writer" {
        // the writing half of `floor`, started by it: plain blocking sockets, no runtime
        return match floor::writer(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kiln-loadgen floor-writer: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match mode.as_str() {
        "http" => rt.block_on(load::run(&args)),
        "realtime" => rt.block_on(realtime::run(&args)),
        "upload" => rt.block_on(files::upload(&args)),
        "download" => rt.block_on(files::download(&args)),
        "floor" => rt.block_on(floor::run(&args)),
        "proxy" => rt.block_on(proxy::run(&args)),
        _ => Err(format!("unknown mode {mode:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiln-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Args, String> {
        Args::parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn options_and_flags() {
        let a = args(&[
            "--url",
            "http://x:1",
            "--req",
            "GET /a",
            "--req=POST /b {}",
            "--json",
            "--connections",
            "4",
        ])
        .unwrap();
        assert_eq!(a.get("url").as_deref(), Some("http://x:1"));
        assert_eq!(a.all("req"), ["GET /a", "POST /b {}"]);
        assert!(a.flag("json"));
        assert_eq!(a.num("connections", 8).unwrap(), 4);
        assert_eq!(a.num("duration", 5.0).unwrap(), 5.0);
        assert!(a.num::<u32>("url", 0).is_err());
        assert!(a.only(&["url", "req", "json", "connections"]).is_ok());
        assert!(a.only(&["url"]).is_err());
        assert!(args(&["--url"]).is_err());
        assert!(args(&["stray"]).is_err());
    }

    #[test]
    fn urls_and_headers() {
        assert_eq!(
            host_port("http://127.0.0.1:8090").unwrap(),
            "127.0.0.1:8090"
        );
        assert_eq!(host_port("http://localhost/api").unwrap(), "localhost:80");
        assert!(host_port("https://x").is_err());
        let a = args(&["--header", "Authorization: abc.def", "--header", "X-A:b"]).unwrap();
        assert_eq!(
            headers(&a).unwrap(),
            [
                ("Authorization".to_string(), "abc.def".to_string()),
                ("X-A".to_string(), "b".to_string())
            ]
        );
        assert!(headers(&args(&["--header", "nocolon"]).unwrap()).is_err());
    }
}
