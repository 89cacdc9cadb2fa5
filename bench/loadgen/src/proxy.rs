//! `proxy`: a TCP relay that holds every chunk it forwards for a fixed delay, each way — a network
//! between Kiln and PostgreSQL that is not loopback-fast, without touching the machine's interfaces
//! (docs/BENCHMARKS.md, "PostgreSQL under concurrency").
//!
//! ```text
//! kiln-loadgen proxy --listen 127.0.0.1:0 --to 127.0.0.1:5432 [--delay-ms 1] [--duration 3600]
//! ```
//!
//! Prints `{"listening": "127.0.0.1:PORT"}` once bound, relays until `--duration` seconds have
//! passed (or it is killed), then prints how many connections and bytes it relayed. A chunk read at
//! time t is written at t + delay, in order, so a round trip through it costs twice the delay.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::Args;

#[derive(Default)]
struct Totals {
    connections: AtomicU64,
    bytes: AtomicU64,
}

pub async fn run(args: &Args) -> Result<(), String> {
    args.only(&["listen", "to", "delay-ms", "duration", "json"])?;
    let listen = args.get("listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let to = args.get("to").ok_or("--to HOST:PORT is required")?;
    let delay = Duration::from_secs_f64(args.num::<f64>("delay-ms", 1.0)?.max(0.0) / 1000.0);
    let duration = Duration::from_secs_f64(args.num("duration", 3600.0)?);
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("{}", json!({ "listening": addr.to_string() }));
    let totals = Arc::new(Totals::default());
    let end = tokio::time::sleep(duration);
    tokio::pin!(end);
    loop {
        tokio::select! {
            _ = &mut end => break,
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                let (to, totals) = (to.clone(), totals.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&to).await {
                        totals.connections.fetch_add(1, Ordering::Relaxed);
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let (cr, cw) = client.into_split();
                        let (sr, sw) = server.into_split();
                        let up = tokio::spawn(relay(cr, sw, delay, totals.clone()));
                        relay(sr, cw, delay, totals).await;
                        let _ = up.await;
                    }
                });
            }
        }
    }
    println!(
        "{}",
        json!({
            "connections": totals.connections.load(Ordering::Relaxed),
            "bytes": totals.bytes.load(Ordering::Relaxed),
        })
    );
    Ok(())
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
async fn relay(from: OwnedReadHalf, to: OwnedWriteHalf, delay: Duration, totals: Arc<Totals>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if write_all(&to, &bytes).await.is_err() {
                return;
            }
        }
        // dropping the write half shuts the socket's sending side: the peer sees the end
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if from.readable().await.is_err() {
            break;
        }
        match from.try_read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                totals.bytes.fetch_add(n as u64, Ordering::Relaxed);
                if tx
                    .send((Instant::now() + delay, buf[..n].to_vec()))
                    .is_err()
                {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn write_all(to: &OwnedWriteHalf, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        to.writable().await?;
        match to.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
