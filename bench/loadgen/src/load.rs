//! `http` mode: N keep-alive connections, each sending its next request as soon as the previous
//! response is complete (closed loop), for D seconds or R requests; a weighted mix of request kinds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{build_request, Conn};
use crate::stats::{self, summarize};
use crate::template::{Rng, Template, Vars};
use crate::{headers, host_port, Args};

/// One kind of request of the mix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub weight: u32,
    pub method: String,
    pub path: Template,
    pub body: Option<Template>,
}

/// `[WEIGHT] METHOD PATH [BODY]`; the body is the rest of the line, spaces included.
pub fn parse_spec(s: &str) -> Result<Spec, String> {
    let s = s.trim();
    let (weight, s) = match s.split_once(' ') {
        Some((w, rest)) if w.chars().all(|c| c.is_ascii_digit()) => (
            w.parse::<u32>()
                .map_err(|_| format!("bad weight in {s:?}"))?,
            rest.trim_start(),
        ),
        _ => (1, s),
    };
    let mut it = s.splitn(3, ' ');
    let method = it.next().unwrap_or("").to_ascii_uppercase();
    if !matches!(
        method.as_str(),
        "GET" | "POST" | "PATCH" | "PUT" | "DELETE" | "HEAD"
    ) {
        return Err(format!("--req {s:?}: expected [WEIGHT] METHOD PATH [BODY]"));
    }
    let path = it
        .next()
        .filter(|p| p.starts_with('/'))
        .ok_or_else(|| format!("--req {s:?}: path must start with /"))?;
    let body = it.next().map(str::trim).filter(|b| !b.is_empty());
    if weight == 0 {
        return Err(format!("--req {s:?}: weight 0"));
    }
    Ok(Spec {
        weight,
        method,
        path: Template::parse(path)?,
        body: body.map(Template::parse).transpose()?,
    })
}

/// Picks a spec index by weight from a uniform draw in 0..total.
pub fn pick(specs: &[Spec], mut draw: u64) -> usize {
    for (i, s) in specs.iter().enumerate() {
        if draw < s.weight as u64 {
            return i;
        }
        draw -= s.weight as u64;
    }
    specs.len() - 1
}

struct Shared {
    host: String,
    headers: Vec<(String, String)>,
    /// Headers with placeholders (`Idempotency-Key: k${seq}`), rendered per request.
    header_templates: Vec<(String, Template)>,
    specs: Vec<Spec>,
    total_weight: u64,
    /// Prebuilt bytes of specs whose path and body have no placeholders.
    constant: Vec<Option<Vec<u8>>>,
    seq: AtomicU64,
    /// Requests left to start in the measured phase (u64::MAX: unlimited).
    budget: AtomicU64,
    measuring: AtomicBool,
    stop: AtomicBool,
    timeout: Duration,
    show_errors: AtomicU64,
}

#[derive(Default)]
struct TaskResult {
    latencies: Vec<u64>,
    status: BTreeMap<u16, u64>,
    io_errors: u64,
    per_spec: Vec<u64>,
}

fn take_budget(s: &Shared) -> bool {
    s.budget
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| match b {
            0 => None,
            u64::MAX => Some(u64::MAX),
            b => Some(b - 1),
        })
        .is_ok()
}

async fn worker(s: Arc<Shared>, addr: String, seed: u64) -> TaskResult {
    let mut rng = Rng::new(seed);
    let mut res = TaskResult {
        per_spec: vec![0; s.specs.len()],
        ..Default::default()
    };
    let mut conn: Option<Conn> = None;
    let mut path = String::new();
    let mut body = String::new();
    while !s.stop.load(Ordering::Relaxed) {
        let measured = s.measuring.load(Ordering::Relaxed);
        if measured && !take_budget(&s) {
            break;
        }
        let i = if s.specs.len() == 1 {
            0
        } else {
            pick(&s.specs, rng.below(s.total_weight))
        };
        let spec = &s.specs[i];
        let built;
        let bytes: &[u8] = match &s.constant[i] {
            Some(b) => b,
            None => {
                path.clear();
                body.clear();
                let mut vars = Vars {
                    seq: s.seq.fetch_add(1, Ordering::Relaxed),
                    rng: &mut rng,
                };
                spec.path.render(&mut vars, &mut path);
                if let Some(b) = &spec.body {
                    b.render(&mut vars, &mut body);
                }
                let mut rendered;
                let headers = match s.header_templates.is_empty() {
                    true => &s.headers,
                    false => {
                        rendered = s.headers.clone();
                        for (k, t) in &s.header_templates {
                            let mut v = String::new();
                            t.render(&mut vars, &mut v);
                            rendered.push((k.clone(), v));
                        }
                        &rendered
                    }
                };
                built = build_request(
                    &spec.method,
                    &s.host,
                    &path,
                    headers,
                    spec.body.as_ref().map(|_| body.as_bytes()),
                );
                &built
            }
        };
        if conn.is_none() {
            match Conn::connect(&addr).await {
                Ok(c) => conn = Some(c),
                Err(_) => {
                    if measured {
                        res.io_errors += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let c = conn.as_mut().unwrap();
        let t0 = Instant::now();
        let r = tokio::time::timeout(s.timeout, c.roundtrip(bytes)).await;
        let dt = t0.elapsed().as_nanos() as u64;
        match r {
            Ok(Ok(resp)) => {
                if measured {
                    res.latencies.push(dt);
                    *res.status.entry(resp.status).or_default() += 1;
                    res.per_spec[i] += 1;
                }
                if !(200..300).contains(&resp.status)
                    && s.show_errors
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                {
                    eprintln!(
                        "kiln-loadgen: {} {} → {}: {}",
                        spec.method,
                        if path.is_empty() {
                            "(constant path)"
                        } else {
                            &path
                        },
                        resp.status,
                        String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)])
                    );
                }
                if !c.reusable() {
                    conn = None;
                }
            }
            _ => {
                if measured {
                    res.io_errors += 1;
                }
                conn = None;
            }
        }
    }
    res
}

pub async fn run(args: &Args) -> Result<(), String> {
    args.only(&[
        "url",
        "req",
        "header",
        "connections",
        "duration",
        "requests",
        "warmup",
        "seq-start",
        "server-pid",
        "label",
        "json",
        "show-errors",
        "timeout",
        "seed",
    ])?;
    let url = args.get("url").ok_or("--url is required")?;
    let addr = host_port(&url)?;
    let specs: Vec<Spec> = args
        .all("req")
        .iter()
        .map(|r| parse_spec(r))
        .collect::<Result<_, _>>()?;
    if specs.is_empty() {
        return Err("at least one --req is required".into());
    }
    let (hdrs, header_templates): (Vec<_>, Vec<_>) = headers(args)?
        .into_iter()
        .partition(|(_, v)| !v.contains("${"));
    let header_templates = header_templates
        .into_iter()
        .map(|(k, v)| Ok((k, Template::parse(&v)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let connections: usize = args.num("connections", 8)?;
    let requests: Option<u64> = args
        .get("requests")
        .map(|v| v.parse().map_err(|_| "--requests: bad number"))
        .transpose()?;
    // Always bounded: without --requests the default is 10 s, with it at most 300 s.
    let duration: f64 = args.num("duration", if requests.is_some() { 300.0 } else { 10.0 })?;
    let warmup: f64 = args.num("warmup", 0.0)?;
    let pid = args.get("server-pid");
    let label = args.get("label").unwrap_or_default();
    let seed: u64 = args.num("seed", crate::template::now_ns())?;
    if connections == 0 || duration <= 0.0 || warmup < 0.0 {
        return Err("--connections and --duration must be positive".into());
    }
    let constant = specs
        .iter()
        .map(|s| {
            (header_templates.is_empty()
                && s.path.is_constant()
                && s.body.as_ref().is_none_or(|b| b.is_constant()))
            .then(|| {
                let mut empty = Rng::new(0);
                let mut vars = Vars {
                    seq: 0,
                    rng: &mut empty,
                };
                let mut p = String::new();
                s.path.render(&mut vars, &mut p);
                let mut b = String::new();
                if let Some(t) = &s.body {
                    t.render(&mut vars, &mut b);
                }
                build_request(
                    &s.method,
                    &addr,
                    &p,
                    &hdrs,
                    s.body.as_ref().map(|_| b.as_bytes()),
                )
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        host: addr.clone(),
        headers: hdrs,
        header_templates,
        total_weight: specs.iter().map(|s| s.weight as u64).sum(),
        specs,
        constant,
        seq: AtomicU64::new(args.num("seq-start", 0)?),
        budget: AtomicU64::new(requests.unwrap_or(u64::MAX)),
        measuring: AtomicBool::new(warmup == 0.0),
        stop: AtomicBool::new(false),
        timeout: Duration::from_secs_f64(args.num("timeout", 30.0)?),
        show_errors: AtomicU64::new(args.num("show-errors", 3)?),
    });
    let handles: Vec<_> = (0..connections)
        .map(|i| {
            tokio::spawn(worker(
                shared.clone(),
                addr.clone(),
                seed.wrapping_add(i as u64 * 7919),
            ))
        })
        .collect();
    if warmup > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    }
    let me = std::process::id().to_string();
    let cpu0 = pid.as_deref().and_then(stats::cpu_split_us);
    let own0 = stats::cpu_us(&me);
    let t0 = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    let stopper = {
        let s = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs_f64(duration)).await;
            s.stop.store(true, Ordering::Relaxed);
        })
    };
    let mut total = TaskResult::default();
    for h in handles {
        let r = h.await.map_err(|e| format!("worker panicked: {e}"))?;
        total.latencies.extend_from_slice(&r.latencies);
        for (k, v) in r.status {
            *total.status.entry(k).or_default() += v;
        }
        total.io_errors += r.io_errors;
        if total.per_spec.is_empty() {
            total.per_spec = r.per_spec;
        } else {
            for (a, b) in total.per_spec.iter_mut().zip(r.per_spec) {
                *a += b;
            }
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    stopper.abort();
    let cpu1 = pid.as_deref().and_then(stats::cpu_split_us);
    let own1 = stats::cpu_us(&me);
    let lat = summarize(&mut total.latencies);
    let n = lat.count as u64;
    let ok: u64 = total
        .status
        .iter()
        .filter(|(k, _)| (200..300).contains(*k))
        .map(|(_, v)| v)
        .sum();
    let errors = n - ok + total.io_errors;
    let per_req = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if n > 0 => Some((b - a) as f64 / n as f64),
        _ => None,
    };
    let server_cpu = per_req(cpu0.map(|(u, k)| u + k), cpu1.map(|(u, k)| u + k));
    let server_user = per_req(cpu0.map(|c| c.0), cpu1.map(|c| c.0));
    let server_sys = per_req(cpu0.map(|c| c.1), cpu1.map(|c| c.1));
    let own_cpu = per_req(own0, own1);
    let rss = pid.as_deref().and_then(|p| stats::status_kb(p, "VmRSS"));
    let hwm = pid.as_deref().and_then(|p| stats::status_kb(p, "VmHWM"));
    let us = |ns: u64| ns as f64 / 1000.0;
    let out = json!({
        "mode": "http",
        "label": label,
        "connections": connections,
        "requests": n,
        "ok": ok,
        "errors": errors,
        "io_errors": total.io_errors,
        "status": total.status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "per_request_kind": total.per_spec,
        "elapsed_s": elapsed,
        "rps": n as f64 / elapsed,
        "latency_us": {"p50": us(lat.p50), "p90": us(lat.p90), "p99": us(lat.p99), "max": us(lat.max), "mean": us(lat.mean)},
        "server_cpu_s": match (cpu0, cpu1) { (Some(a), Some(b)) => json!((b.0 + b.1 - a.0 - a.1) as f64 / 1e6), _ => json!(null) },
        "server_cpu_us_per_req": server_cpu,
        "server_user_us_per_req": server_user,
        "server_sys_us_per_req": server_sys,
        "server_rss_kb": rss,
        "server_hwm_kb": hwm,
        "loadgen_cpu_us_per_req": own_cpu,
    });
    if args.flag("json") {
        println!("{out}");
    } else {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        println!(
            "{label} {n} requests in {elapsed:.2}s: {:.0} req/s, latency p50 {:.0} µs p99 {:.0} µs max {:.0} µs, \
             errors {errors} (status {:?}, io {}), server CPU {} µs/req (user {} + system {}), loadgen CPU {} µs/req, server RSS {} kB (peak {} kB)",
            n as f64 / elapsed,
            us(lat.p50),
            us(lat.p99),
            us(lat.max),
            total.status,
            total.io_errors,
            f(server_cpu),
            f(server_user),
            f(server_sys),
            f(own_cpu),
            rss.map_or("-".into(), |v| v.to_string()),
            hwm.map_or("-".into(), |v| v.to_string()),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_spec("GET /api/x").unwrap();
        assert_eq!(
            (s.weight, s.method.as_str(), s.body.is_none()),
            (1, "GET", true)
        );
        let s = parse_spec(r#"10 patch /api/r/b${rand:5} {"title": "a b"}"#).unwrap();
        assert_eq!((s.weight, s.method.as_str()), (10, "PATCH"));
        assert_eq!(
            s.body.unwrap(),
            Template::parse(r#"{"title": "a b"}"#).unwrap()
        );
        assert!(parse_spec("FETCH /x").is_err());
        assert!(parse_spec("GET x").is_err());
        assert!(parse_spec("0 GET /x").is_err());
        assert!(parse_spec("").is_err());
    }

    #[test]
    fn weighted_pick() {
        let specs = vec![
            parse_spec("90 GET /a").unwrap(),
            parse_spec("10 GET /b").unwrap(),
        ];
        assert_eq!(pick(&specs, 0), 0);
        assert_eq!(pick(&specs, 89), 0);
        assert_eq!(pick(&specs, 90), 1);
        assert_eq!(pick(&specs, 99), 1);
        let mut rng = Rng::new(5);
        let b = (0..10_000)
            .filter(|_| pick(&specs, rng.below(100)) == 1)
            .count();
        assert!((800..1200).contains(&b), "{b}");
    }

    #[test]
    fn budget() {
        let s = Shared {
            host: String::new(),
            headers: vec![],
            header_templates: vec![],
            specs: vec![],
            total_weight: 0,
            constant: vec![],
            seq: AtomicU64::new(0),
            budget: AtomicU64::new(2),
            measuring: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            timeout: Duration::from_secs(1),
            show_errors: AtomicU64::new(0),
        };
        assert!(take_budget(&s) && take_budget(&s) && !take_budget(&s));
        s.budget.store(u64::MAX, Ordering::Relaxed);
        assert!(take_budget(&s) && take_budget(&s));
        assert_eq!(s.budget.load(Ordering::Relaxed), u64::MAX);
    }
}
