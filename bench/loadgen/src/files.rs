//! `upload` and `download` modes: file transfer throughput.
//!
//! `upload`: N `multipart/form-data` POSTs, each carrying the same payload (read from `--payload`,
//! held in memory once and written from there, so the generator copies nothing per request) as one
//! file part named `--field`, over C keep-alive connections; every response must be 2xx with the
//! record's JSON, from which the stored file name is taken (`id/filename` in the report).
//! `download`: N GETs over C connections, cycling through `--path`s (or `--paths-file`); every body
//! is read and thrown away, its length checked against `--expect-bytes`.
//!
//! Both report throughput (MiB of payload per second of wall time), the server's CPU per MiB
//! (user/system, `/proc/PID/stat`), the generator's own CPU per MiB, and the server's memory: RSS at
//! the start and the end, the largest RSS sampled every `--sample-ms` during the run, and `VmHWM` at
//! the end (the caller resets it before the run through `/proc/PID/clear_refs`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{build_request, Conn};
use crate::stats::{self, summarize};
use crate::{headers, host_port, Args};

const BOUNDARY: &str = "kilnbench0b9e4c1f7a2d";
const MIB: f64 = 1024.0 * 1024.0;

/// The bytes before and after the file's content of a `multipart/form-data` request with one file
/// part: request head, part head, and the closing boundary. `Content-Length` covers `size` bytes of
/// content in between.
pub fn multipart_frame(
    host: &str,
    path: &str,
    headers: &[(String, String)],
    field: &str,
    filename: &str,
    size: usize,
) -> (Vec<u8>, Vec<u8>) {
    let part_head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n").into_bytes();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        part_head.len() + size + tail.len()
    ));
    head.push_str(&part_head);
    (head.into_bytes(), tail)
}

/// `id/filename` of the record a create answered with: the file field holds the stored name (a
/// string, or an array of them for a multi-file field).
pub fn stored_file(body: &[u8], field: &str) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = v.get("id")?.as_str()?;
    let name = match v.get(field)? {
        Value::String(s) => s.as_str(),
        Value::Array(a) => a.first()?.as_str()?,
        _ => return None,
    };
    (!name.is_empty()).then(|| format!("{id}/{name}"))
}

/// Transfers left to start, shared by the connections.
struct Plan {
    total: u64,
    left: AtomicU64,
    timeout: Duration,
    show_errors: AtomicU64,
}

impl Plan {
    fn take(&self) -> Option<u64> {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .ok()
    }

    fn complain(&self, what: &str) {
        if self
            .show_errors
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
        {
            eprintln!("kiln-loadgen: {what}");
        }
    }
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<u64>,
    status: BTreeMap<u16, u64>,
    ok: u64,
    io_errors: u64,
    /// Responses that were 2xx but wrong (no stored file name; a body of the wrong length).
    bad: u64,
    /// Payload bytes of the successful transfers.
    bytes: u64,
    files: Vec<String>,
}

impl Outcome {
    fn merge(&mut self, o: Outcome) {
        self.latencies.extend_from_slice(&o.latencies);
        for (k, v) in o.status {
            *self.status.entry(k).or_default() += v;
        }
        self.ok += o.ok;
        self.io_errors += o.io_errors;
        self.bad += o.bad;
        self.bytes += o.bytes;
        self.files.extend(o.files);
    }
}

struct Upload {
    addr: String,
    head: Vec<u8>,
    payload: Vec<u8>,
    tail: Vec<u8>,
    field: String,
}

async fn upload_worker(plan: Arc<Plan>, up: Arc<Upload>) -> Outcome {
    let mut out = Outcome::default();
    let mut conn: Option<Conn> = None;
    while plan.take().is_some() {
        if conn.is_none() {
            match Conn::connect(&up.addr).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    out.io_errors += 1;
                    plan.complain(&format!("connect: {e}"));
                    continue;
                }
            }
        }
        let c = conn.as_mut().unwrap();
        let t0 = Instant::now();
        let r = tokio::time::timeout(plan.timeout, async {
            let sent = async {
                c.send(&up.head).await?;
                c.send(&up.payload).await?;
                c.send(&up.tail).await
            }
            .await;
            match sent {
                Ok(()) => c.read_response().await,
                // The server may have answered (413, 400) and closed before reading everything.
                Err(e) => {
                    match tokio::time::timeout(Duration::from_secs(1), c.read_response()).await {
                        Ok(Ok(resp)) => Ok(resp),
                        _ => Err(e),
                    }
                }
            }
        })
        .await;
        let dt = t0.elapsed().as_nanos() as u64;
        match r {
            Ok(Ok(resp)) => {
                *out.status.entry(resp.status).or_default() += 1;
                if (200..300).contains(&resp.status) {
                    match stored_file(&resp.body, &up.field) {
                        Some(f) => {
                            out.ok += 1;
                            out.latencies.push(dt);
                            out.bytes += up.payload.len() as u64;
                            out.files.push(f);
                        }
                        None => {
                            out.bad += 1;
                            plan.complain(&format!(
                                "upload → {} without a stored file in {:?}: {}",
                                resp.status,
                                up.field,
                                String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)])
                            ));
                        }
                    }
                } else {
                    plan.complain(&format!(
                        "upload → {}: {}",
                        resp.status,
                        String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)])
                    ));
                }
                if !c.reusable() || !(200..300).contains(&resp.status) {
                    conn = None;
                }
            }
            Ok(Err(e)) => {
                out.io_errors += 1;
                plan.complain(&format!("upload: {e}"));
                conn = None;
            }
            Err(_) => {
                out.io_errors += 1;
                plan.complain(&format!("upload: no response within {:?}", plan.timeout));
                conn = None;
            }
        }
    }
    out
}

struct Download {
    addr: String,
    requests: Vec<Vec<u8>>,
    expect: Option<u64>,
}

async fn download_worker(plan: Arc<Plan>, dl: Arc<Download>) -> Outcome {
    let mut out = Outcome::default();
    let mut conn: Option<Conn> = None;
    while let Some(left) = plan.take() {
        // `left` counts down from the total: the first GETs go to the first paths, in order.
        let i = ((plan.total - left) % dl.requests.len() as u64) as usize;
        if conn.is_none() {
            match Conn::connect(&dl.addr).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    out.io_errors += 1;
                    plan.complain(&format!("connect: {e}"));
                    continue;
                }
            }
        }
        let c = conn.as_mut().unwrap();
        let t0 = Instant::now();
        let r = tokio::time::timeout(plan.timeout, async {
            c.send(&dl.requests[i]).await?;
            let head = c.read_head().await?;
            let n = c.discard_body(head.body).await?;
            Ok::<_, std::io::Error>((head.status, n))
        })
        .await;
        let dt = t0.elapsed().as_nanos() as u64;
        match r {
            Ok(Ok((status, n))) => {
                *out.status.entry(status).or_default() += 1;
                if !(200..300).contains(&status) {
                    plan.complain(&format!("download #{i} → {status} ({n} bytes)"));
                } else if dl.expect.is_some_and(|e| e != n) {
                    out.bad += 1;
                    plan.complain(&format!(
                        "download #{i}: {n} bytes, expected {}",
                        dl.expect.unwrap()
                    ));
                } else {
                    out.ok += 1;
                    out.latencies.push(dt);
                    out.bytes += n;
                }
                if !c.reusable() {
                    conn = None;
                }
            }
            Ok(Err(e)) => {
                out.io_errors += 1;
                plan.complain(&format!("download #{i}: {e}"));
                conn = None;
            }
            Err(_) => {
                out.io_errors += 1;
                plan.complain(&format!(
                    "download #{i}: no response within {:?}",
                    plan.timeout
                ));
                conn = None;
            }
        }
    }
    out
}

/// The server's largest RSS, sampled until `stop`.
async fn sample_rss(pid: String, every: Duration, max: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        if let Some(kb) = stats::status_kb(&pid, "VmRSS") {
            max.fetch_max(kb, Ordering::Relaxed);
        }
        tokio::time::sleep(every).await;
    }
}

const COMMON: &[&str] = &[
    "url",
    "header",
    "connections",
    "count",
    "server-pid",
    "label",
    "json",
    "show-errors",
    "timeout",
    "sample-ms",
];

/// Runs the workers with the server's CPU and memory read around them, and prints the report.
async fn measure<F, Fut>(args: &Args, mode: &str, count: u64, spawn: F) -> Result<(), String>
where
    F: Fn(Arc<Plan>) -> Fut,
    Fut: std::future::Future<Output = Outcome> + Send + 'static,
{
    let connections: u64 = args.num("connections", 1)?;
    if connections == 0 || count == 0 {
        return Err("--connections and --count must be positive".into());
    }
    let plan = Arc::new(Plan {
        total: count,
        left: AtomicU64::new(count),
        timeout: Duration::from_secs_f64(args.num("timeout", 300.0)?),
        show_errors: AtomicU64::new(args.num("show-errors", 3)?),
    });
    let pid = args.get("server-pid");
    let label = args.get("label").unwrap_or_default();
    let me = std::process::id().to_string();
    let rss0 = pid.as_deref().and_then(|p| stats::status_kb(p, "VmRSS"));
    let max_rss = Arc::new(AtomicU64::new(rss0.unwrap_or(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = pid.clone().map(|p| {
        let every = Duration::from_secs_f64(args.num("sample-ms", 10.0).unwrap_or(10.0) / 1000.0);
        tokio::spawn(sample_rss(p, every, max_rss.clone(), stop.clone()))
    });
    let cpu0 = pid.as_deref().and_then(stats::cpu_split_us);
    let own0 = stats::cpu_us(&me);
    let t0 = Instant::now();
    let handles: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(spawn(plan.clone())))
        .collect();
    let mut total = Outcome::default();
    for h in handles {
        total.merge(h.await.map_err(|e| format!("worker panicked: {e}"))?);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = pid.as_deref().and_then(stats::cpu_split_us);
    let own1 = stats::cpu_us(&me);
    stop.store(true, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.await;
    }
    let rss1 = pid.as_deref().and_then(|p| stats::status_kb(p, "VmRSS"));
    let hwm = pid.as_deref().and_then(|p| stats::status_kb(p, "VmHWM"));
    let sampled = pid
        .as_ref()
        .map(|_| max_rss.load(Ordering::Relaxed).max(rss1.unwrap_or(0)));
    let lat = summarize(&mut total.latencies);
    let mib = total.bytes as f64 / MIB;
    let per_mib = |us: Option<u64>| us.filter(|_| mib > 0.0).map(|v| v as f64 / 1000.0 / mib);
    let diff = |f: fn((u64, u64)) -> u64| match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(f(b) - f(a)),
        _ => None,
    };
    let (cpu, usr, sys) = (diff(|c| c.0 + c.1), diff(|c| c.0), diff(|c| c.1));
    let own = match (own0, own1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let errors = count - total.ok;
    let ms = |ns: u64| ns as f64 / 1e6;
    let out = json!({
        "mode": mode,
        "label": label,
        "connections": connections,
        "count": count,
        "ok": total.ok,
        "errors": errors,
        "io_errors": total.io_errors,
        "bad": total.bad,
        "status": total.status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "bytes": total.bytes,
        "elapsed_s": elapsed,
        "mib_per_s": mib / elapsed,
        "latency_ms": {"p50": ms(lat.p50), "p99": ms(lat.p99), "max": ms(lat.max), "mean": ms(lat.mean)},
        "server_cpu_s": cpu.map(|v| v as f64 / 1e6),
        "server_cpu_ms_per_mib": per_mib(cpu),
        "server_user_ms_per_mib": per_mib(usr),
        "server_sys_ms_per_mib": per_mib(sys),
        "loadgen_cpu_s": own.map(|v| v as f64 / 1e6),
        "loadgen_cpu_ms_per_mib": per_mib(own),
        "server_rss_start_kb": rss0,
        "server_rss_end_kb": rss1,
        "server_rss_max_sampled_kb": sampled,
        "server_hwm_kb": hwm,
        "files": total.files,
    });
    if args.flag("json") {
        println!("{out}");
    } else {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        let kb = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
        println!(
            "{label} {mode}: {}/{count} ok in {elapsed:.2}s, {:.1} MiB/s, latency p50 {:.1} ms p99 {:.1} ms, \
             errors {errors} (status {:?}, io {}, bad {}), server CPU {} ms/MiB (user {} + system {}), \
             loadgen CPU {} ms/MiB, server RSS {} → {} kB (sampled max {}, VmHWM {})",
            total.ok,
            mib / elapsed,
            ms(lat.p50),
            ms(lat.p99),
            total.status,
            total.io_errors,
            total.bad,
            f(per_mib(cpu)),
            f(per_mib(usr)),
            f(per_mib(sys)),
            f(per_mib(own)),
            kb(rss0),
            kb(rss1),
            kb(sampled),
            kb(hwm),
        );
        for file in &total.files {
            println!("  {file}");
        }
    }
    Ok(())
}

/// `upload --url URL --path /api/collections/C/records --payload FILE [--field file] [--filename NAME]
/// --count N [--connections C]`.
pub async fn upload(args: &Args) -> Result<(), String> {
    let mut known = COMMON.to_vec();
    known.extend(["path", "payload", "field", "filename"]);
    args.only(&known)?;
    let url = args.get("url").ok_or("--url is required")?;
    let addr = host_port(&url)?;
    let path = args
        .get("path")
        .filter(|p| p.starts_with('/'))
        .ok_or("--path /api/collections/NAME/records is required")?;
    let file = args.get("payload").ok_or("--payload FILE is required")?;
    let payload = std::fs::read(&file).map_err(|e| format!("--payload {file}: {e}"))?;
    let field = args.get("field").unwrap_or_else(|| "file".into());
    let filename = args.get("filename").unwrap_or_else(|| "bench.bin".into());
    let count: u64 = args.num("count", 1)?;
    let (head, tail) = multipart_frame(
        &addr,
        &path,
        &headers(args)?,
        &field,
        &filename,
        payload.len(),
    );
    let up = Arc::new(Upload {
        addr,
        head,
        payload,
        tail,
        field,
    });
    measure(args, "upload", count, move |plan| {
        upload_worker(plan, up.clone())
    })
    .await
}

/// `download --url URL --path /api/files/C/ID/NAME … | --paths-file FILE [--expect-bytes N] --count N
/// [--connections C]`.
pub async fn download(args: &Args) -> Result<(), String> {
    let mut known = COMMON.to_vec();
    known.extend(["path", "paths-file", "expect-bytes"]);
    args.only(&known)?;
    let url = args.get("url").ok_or("--url is required")?;
    let addr = host_port(&url)?;
    let mut paths = args.all("path");
    if let Some(f) = args.get("paths-file") {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("--paths-file {f}: {e}"))?;
        paths.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    if paths.is_empty() || paths.iter().any(|p| !p.starts_with('/')) {
        return Err(
            "--path /api/files/… (or --paths-file) is required, each starting with /".into(),
        );
    }
    let expect = args
        .get("expect-bytes")
        .map(|v| v.parse::<u64>().map_err(|_| "--expect-bytes: bad number"))
        .transpose()?;
    let hdrs = headers(args)?;
    let requests = paths
        .iter()
        .map(|p| build_request("GET", &addr, p, &hdrs, None))
        .collect();
    let count: u64 = args.num("count", paths.len() as u64)?;
    let dl = Arc::new(Download {
        addr,
        requests,
        expect,
    });
    measure(args, "download", count, move |plan| {
        download_worker(plan, dl.clone())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_is_a_multipart_body_of_the_declared_length() {
        let h = vec![("Authorization".to_string(), "tok".to_string())];
        let (head, tail) = multipart_frame(
            "127.0.0.1:1",
            "/api/collections/f/records",
            &h,
            "file",
            "a.bin",
            5,
        );
        let mut req = head.clone();
        req.extend_from_slice(b"\x00\x01\x02\x03\x04");
        req.extend_from_slice(&tail);
        let text = String::from_utf8_lossy(&req).into_owned();
        let (hdr, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(hdr.starts_with("POST /api/collections/f/records HTTP/1.1\r\nHost: 127.0.0.1:1\r\nAuthorization: tok\r\n"));
        assert!(hdr.contains(&format!(
            "Content-Type: multipart/form-data; boundary={BOUNDARY}"
        )));
        let len: usize = hdr
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, req.len() - hdr.len() - 4);
        assert!(body.starts_with(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
        )));
        assert!(body.ends_with(&format!("\x04\r\n--{BOUNDARY}--\r\n")));
    }

    #[test]
    fn stored_file_name() {
        assert_eq!(
            stored_file(br#"{"id":"abc","file":"a_x1.bin"}"#, "file").as_deref(),
            Some("abc/a_x1.bin")
        );
        assert_eq!(
            stored_file(br#"{"id":"abc","file":["a.bin","b.bin"]}"#, "file").as_deref(),
            Some("abc/a.bin")
        );
        assert_eq!(stored_file(br#"{"id":"abc","file":""}"#, "file"), None);
        assert_eq!(stored_file(br#"{"id":"abc"}"#, "file"), None);
        assert_eq!(stored_file(b"not json", "file"), None);
    }
}
