//! `realtime` mode: S subscribers open `GET /api/realtime`, read `PB_CONNECT` (the client id),
//! subscribe with `POST /api/realtime {"clientId", "subscriptions": [topic]}`; then M records are
//! created at a steady rate, each carrying its send time (ns since the epoch) in a text field, and
//! every subscriber measures each event's delivery latency from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::http::{build_request, BodyKind, ChunkedDecoder, Conn};
use crate::sse::{self, Event};
use crate::stats::{self, summarize};
use crate::template::now_ns;
use crate::{headers, host_port, Args};

/// The name of Kiln's realtime dispatcher thread, which fans every event out.
const FANOUT_THREAD: &str = "kiln-realtime";

#[derive(Default)]
struct Counters {
    connected: AtomicU64,
    subscribed: AtomicU64,
    failed: AtomicU64,
    /// Streams that ended (or broke) after subscribing.
    dropped: AtomicU64,
    delivered: AtomicU64,
    /// Events on the stream that were not the expected topic, or without a parsable send time.
    unexpected: AtomicU64,
}

type SubscribeRequest = (String, oneshot::Sender<Result<(), String>>);

/// Extracts the client id from `PB_CONNECT`'s data (`{"clientId":"…"}`).
pub fn client_id(ev: &Event) -> Option<String> {
    if ev.event != "PB_CONNECT" {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(&ev.data)
        .ok()?
        .get("clientId")?
        .as_str()
        .map(str::to_owned)
}

/// The delivery latency (ns) of an event of `topic` carrying its send time in `field`.
pub fn latency_of(ev: &Event, topic: &str, field: &str, now: u64) -> Option<u64> {
    if ev.event != topic {
        return None;
    }
    let sent: u64 = sse::string_field(&ev.data, field)?.parse().ok()?;
    Some(now.saturating_sub(sent))
}

struct Sub {
    addr: String,
    host: String,
    topic: String,
    field: String,
    counters: Arc<Counters>,
    latencies: Arc<Mutex<Vec<u64>>>,
    permits: Arc<Semaphore>,
    subscribe: mpsc::Sender<SubscribeRequest>,
}

async fn subscriber(s: Arc<Sub>) {
    let mut permit = s.permits.clone().acquire_owned().await.ok();
    let setup = async {
        let mut conn = Conn::connect(&s.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let req = build_request(
            "GET",
            &s.host,
            "/api/realtime",
            &[
                ("Accept".into(), "text/event-stream".into()),
                ("Cache-Control".into(), "no-cache".into()),
            ],
            None,
        );
        conn.send(&req).await.map_err(|e| format!("send: {e}"))?;
        let head = conn.read_head().await.map_err(|e| format!("head: {e}"))?;
        if head.status != 200 {
            return Err(format!("GET /api/realtime → {}", head.status));
        }
        Ok::<_, String>((conn, head.body == BodyKind::Chunked))
    };
    let (mut conn, chunked) = match setup.await {
        Ok(v) => v,
        Err(_) => {
            s.counters.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    s.counters.connected.fetch_add(1, Ordering::Relaxed);
    let mut dec = ChunkedDecoder::new();
    let mut parser = sse::Parser::new();
    let mut raw = Vec::new();
    let mut pending = Vec::new();
    let mut body = Vec::new();
    let mut events = Vec::new();
    let mut subscribed = false;
    loop {
        raw.clear();
        match conn.read_raw(&mut raw).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let now = now_ns();
        body.clear();
        if chunked {
            pending.extend_from_slice(&raw);
            match dec.feed(&pending, &mut body) {
                Ok(used) => {
                    pending.drain(..used);
                }
                Err(_) => break,
            }
        } else {
            body.extend_from_slice(&raw);
        }
        parser.feed(&body, &mut events);
        let mut fresh = 0u64;
        for ev in events.drain(..) {
            if !subscribed {
                let Some(id) = client_id(&ev) else { continue };
                let (tx, rx) = oneshot::channel();
                if s.subscribe.send((id, tx)).await.is_err() || !matches!(rx.await, Ok(Ok(()))) {
                    s.counters.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                subscribed = true;
                permit = None;
                s.counters.subscribed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            match latency_of(&ev, &s.topic, &s.field, now) {
                Some(l) => {
                    s.latencies.lock().unwrap().push(l);
                    fresh += 1;
                }
                None => {
                    s.counters.unexpected.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if fresh > 0 {
            s.counters.delivered.fetch_add(fresh, Ordering::Relaxed);
        }
        if dec.is_done() {
            break;
        }
    }
    drop(permit);
    if subscribed {
        s.counters.dropped.fetch_add(1, Ordering::Relaxed);
    } else {
        s.counters.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves subscription requests over one keep-alive connection.
async fn subscribe_worker(
    addr: String,
    host: String,
    topic: String,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<SubscribeRequest>>>,
) {
    let mut conn: Option<Conn> = None;
    loop {
        let next = rx.lock().await.recv().await;
        let Some((client, reply)) = next else { return };
        let body = json!({"clientId": client, "subscriptions": [topic]}).to_string();
        let req = build_request("POST", &host, "/api/realtime", &[], Some(body.as_bytes()));
        let mut result = Err("no connection".to_string());
        for _attempt in 0..2 {
            if conn.is_none() {
                conn = Conn::connect(&addr).await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            match c.roundtrip(&req).await {
                Ok(r) => {
                    result = if (200..300).contains(&r.status) {
                        Ok(())
                    } else {
                        Err(format!(
                            "POST /api/realtime → {}: {}",
                            r.status,
                            String::from_utf8_lossy(&r.body)
                        ))
                    };
                    if !c.reusable() {
                        conn = None;
                    }
                    break;
                }
                Err(e) => {
                    result = Err(e.to_string());
                    conn = None;
                }
            }
        }
        if let Err(e) = &result {
            eprintln!("kiln-loadgen: subscribe failed: {e}");
        }
        let _ = reply.send(result);
    }
}

pub async fn run(args: &Args) -> Result<(), String> {
    args.only(&[
        "url",
        "collection",
        "topic",
        "field",
        "subscribers",
        "events",
        "rate",
        "header",
        "connect-parallel",
        "subscribe-conns",
        "drain-timeout",
        "setup-timeout",
        "server-pid",
        "label",
        "json",
    ])?;
    let url = args.get("url").ok_or("--url is required")?;
    let addr = host_port(&url)?;
    let collection = args.get("collection").ok_or("--collection is required")?;
    let topic = args.get("topic").unwrap_or_else(|| collection.clone());
    let field = args.get("field").unwrap_or_else(|| "sent_ns".into());
    let subscribers: usize = args.num("subscribers", 100)?;
    let events: u64 = args.num("events", 100)?;
    let rate: f64 = args.num("rate", 10.0)?;
    let hdrs = headers(args)?;
    let parallel: usize = args.num("connect-parallel", 128)?;
    let sub_conns: usize = args.num("subscribe-conns", 8)?;
    let drain = Duration::from_secs_f64(args.num("drain-timeout", 10.0)?);
    let setup_timeout = Duration::from_secs_f64(args.num("setup-timeout", 120.0)?);
    let pid = args.get("server-pid");
    let label = args.get("label").unwrap_or_default();
    if rate <= 0.0 || parallel == 0 || sub_conns == 0 {
        return Err("--rate, --connect-parallel and --subscribe-conns must be positive".into());
    }
    let me = std::process::id().to_string();
    let rss = |k: &str| pid.as_deref().and_then(|p| stats::status_kb(p, k));
    let rss_before = rss("VmRSS");

    let counters = Arc::new(Counters::default());
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(
        subscribers.saturating_mul(events as usize).min(50_000_000),
    )));
    let (tx, rx) = mpsc::channel::<SubscribeRequest>(1024);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let workers: Vec<_> = (0..sub_conns)
        .map(|_| {
            tokio::spawn(subscribe_worker(
                addr.clone(),
                addr.clone(),
                topic.clone(),
                rx.clone(),
            ))
        })
        .collect();
    let sub = Arc::new(Sub {
        addr: addr.clone(),
        host: addr.clone(),
        topic: topic.clone(),
        field: field.clone(),
        counters: counters.clone(),
        latencies: latencies.clone(),
        permits: Arc::new(Semaphore::new(parallel)),
        subscribe: tx,
    });
    let t_setup = Instant::now();
    let subs: Vec<_> = (0..subscribers)
        .map(|_| tokio::spawn(subscriber(sub.clone())))
        .collect();
    drop(sub);
    loop {
        let done =
            counters.subscribed.load(Ordering::Relaxed) + counters.failed.load(Ordering::Relaxed);
        if done >= subscribers as u64 || t_setup.elapsed() > setup_timeout {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let setup_s = t_setup.elapsed().as_secs_f64();
    for w in &workers {
        w.abort();
    }
    let subscribed = counters.subscribed.load(Ordering::Relaxed);
    // Let the server settle (allocations of the last subscriptions) before reading its memory.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_subscribed = rss("VmRSS");

    // The event phase: M creates, paced, on one keep-alive connection.
    let cpu0 = pid.as_deref().and_then(stats::cpu_split_us);
    // Kiln's fan-out thread alone (the rest of the server's CPU is mostly the creates themselves)
    let fanout = |pid: &Option<String>| {
        pid.as_deref()
            .and_then(|p| stats::thread_cpu_split_us(p, FANOUT_THREAD))
    };
    let fan0 = fanout(&pid);
    let own0 = stats::cpu_us(&me);
    let t0 = Instant::now();
    let mut conn = Conn::connect(&addr)
        .await
        .map_err(|e| format!("connect for creates: {e}"))?;
    let path = format!("/api/collections/{collection}/records");
    let mut created = 0u64;
    let mut create_errors = 0u64;
    let interval = Duration::from_secs_f64(1.0 / rate);
    for k in 0..events {
        tokio::time::sleep_until((t0 + interval * k as u32).into()).await;
        let body = format!("{{\"{field}\":\"{}\"}}", now_ns());
        let req = build_request("POST", &addr, &path, &hdrs, Some(body.as_bytes()));
        match conn.roundtrip(&req).await {
            Ok(r) if (200..300).contains(&r.status) => created += 1,
            Ok(r) => {
                create_errors += 1;
                if create_errors <= 3 {
                    eprintln!(
                        "kiln-loadgen: create → {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    );
                }
            }
            Err(e) => {
                create_errors += 1;
                eprintln!("kiln-loadgen: create failed: {e}");
                conn = Conn::connect(&addr)
                    .await
                    .map_err(|e| format!("reconnect for creates: {e}"))?;
            }
        }
        if !conn.reusable() {
            conn = Conn::connect(&addr)
                .await
                .map_err(|e| format!("reconnect for creates: {e}"))?;
        }
    }
    let sent_s = t0.elapsed().as_secs_f64();
    let expected = created * subscribed;
    let deadline = Instant::now() + drain;
    while counters.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let phase_s = t0.elapsed().as_secs_f64();
    let cpu1 = pid.as_deref().and_then(stats::cpu_split_us);
    let fan1 = fanout(&pid);
    let own1 = stats::cpu_us(&me);
    let rss_after = rss("VmRSS");
    let hwm = rss("VmHWM");
    for s in &subs {
        s.abort();
    }
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *latencies.lock().unwrap());
    let l = summarize(&mut lat);
    let per_event = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) if delivered > 0 => Some((b - a) as f64 / delivered as f64),
        _ => None,
    };
    let server_cpu = per_event(cpu0.map(|(u, k)| u + k), cpu1.map(|(u, k)| u + k));
    let server_user = per_event(cpu0.map(|c| c.0), cpu1.map(|c| c.0));
    let server_sys = per_event(cpu0.map(|c| c.1), cpu1.map(|c| c.1));
    let own_cpu = per_event(own0, own1);
    let fanout_cpu = per_event(fan0.map(|(u, k)| u + k), fan1.map(|(u, k)| u + k));
    let per_sub_kb = match (rss_before, rss_subscribed) {
        (Some(a), Some(b)) if subscribed > 0 => Some((b as f64 - a as f64) / subscribed as f64),
        _ => None,
    };
    let ms = |ns: u64| ns as f64 / 1e6;
    let out = json!({
        "mode": "realtime",
        "label": label,
        "subscribers": subscribers,
        "connected": counters.connected.load(Ordering::Relaxed),
        "subscribed": subscribed,
        "failed": counters.failed.load(Ordering::Relaxed),
        "dropped": counters.dropped.load(Ordering::Relaxed),
        "unexpected_events": counters.unexpected.load(Ordering::Relaxed),
        "setup_s": setup_s,
        "events": events,
        "created": created,
        "create_errors": create_errors,
        "rate": rate,
        "send_s": sent_s,
        "phase_s": phase_s,
        "expected": expected,
        "delivered": delivered,
        "latency_ms": {"p50": ms(l.p50), "p90": ms(l.p90), "p99": ms(l.p99), "max": ms(l.max), "mean": ms(l.mean)},
        "server_cpu_s": match (cpu0, cpu1) { (Some(a), Some(b)) => json!((b.0 + b.1 - a.0 - a.1) as f64 / 1e6), _ => json!(null) },
        "server_cpu_us_per_delivery": server_cpu,
        "server_user_us_per_delivery": server_user,
        "server_sys_us_per_delivery": server_sys,
        "loadgen_cpu_us_per_delivery": own_cpu,
        "fanout_thread_cpu_us_per_delivery": fanout_cpu,
        "rss_before_kb": rss_before,
        "rss_subscribed_kb": rss_subscribed,
        "rss_after_kb": rss_after,
        "hwm_kb": hwm,
        "rss_per_subscriber_kb": per_sub_kb,
    });
    if args.flag("json") {
        println!("{out}");
    } else {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "{label} {subscribed}/{subscribers} subscribed in {setup_s:.1}s; {created} events at {rate}/s: \
             delivered {delivered}/{expected}, latency p50 {:.2} ms p99 {:.2} ms max {:.2} ms; server CPU {} µs/delivery, \
             of which fan-out thread {} µs/delivery; loadgen CPU {} µs/delivery; RSS {} → {} kB ({} kB/subscriber)",
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            f(server_cpu),
            f(fanout_cpu),
            f(own_cpu),
            rss_before.map_or("-".into(), |v| v.to_string()),
            rss_subscribed.map_or("-".into(), |v| v.to_string()),
            f(per_sub_kb),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> Event {
        Event {
            id: "x".into(),
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn connect_event() {
        assert_eq!(
            client_id(&ev("PB_CONNECT", r#"{"clientId":"abc"}"#)).as_deref(),
            Some("abc")
        );
        assert_eq!(client_id(&ev("rt", r#"{"clientId":"abc"}"#)), None);
        assert_eq!(client_id(&ev("PB_CONNECT", "not json")), None);
    }

    #[test]
    fn latency_from_record() {
        let data =
            r#"{"action":"create","record":{"collectionName":"rt","id":"abc","sent_ns":"1000"}}"#;
        assert_eq!(
            latency_of(&ev("rt", data), "rt", "sent_ns", 1500),
            Some(500)
        );
        assert_eq!(latency_of(&ev("rt", data), "rt", "sent_ns", 900), Some(0));
        assert_eq!(latency_of(&ev("other", data), "rt", "sent_ns", 1500), None);
        assert_eq!(
            latency_of(&ev("rt", r#"{"record":{}}"#), "rt", "sent_ns", 1500),
            None
        );
    }
}
