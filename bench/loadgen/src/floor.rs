//! `floor` mode: what one socket write per subscriber costs by itself on this machine — the floor
//! under any server's realtime fan-out. This process (pin it like the load generator) accepts S
//! loopback connections and reads everything; a child process, `floor-writer` (pinned to
//! `--writer-cpu`, like the server), connects them and, M times, writes one B-byte message to each,
//! measuring its own CPU (user + system, /proc/self/stat) around the writes only. No HTTP, no
//! framing, no queues: a server's CPU per delivery minus this is what its own code costs.

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use crate::stats;
use crate::Args;

/// The reading side; spawns the writer and reports its figures.
pub async fn run(args: &Args) -> Result<(), String> {
    args.only(&[
        "sockets",
        "events",
        "bytes",
        "interval-ms",
        "writer-cpu",
        "json",
    ])?;
    let sockets: usize = args.num("sockets", 1000)?;
    let events: usize = args.num("events", 10)?;
    let bytes: usize = args.num("bytes", 320)?;
    let interval: u64 = args.num("interval-ms", 1000)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener
        .local_addr()
        .map_err(|e| e.to_string())?
        .to_string();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = match args.get("writer-cpu") {
        Some(cpu) => {
            let mut c = std::process::Command::new("taskset");
            c.args(["-c", &cpu]).arg(&exe);
            c
        }
        None => std::process::Command::new(&exe),
    };
    let child = cmd
        .args(["floor-writer", "--addr", &addr])
        .args([
            "--sockets",
            &sockets.to_string(),
            "--events",
            &events.to_string(),
        ])
        .args([
            "--bytes",
            &bytes.to_string(),
            "--interval-ms",
            &interval.to_string(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the writer: {e}"))?;
    let received = Rc::new(Cell::new(0u64));
    let local = tokio::task::LocalSet::new();
    let accepted = local
        .run_until(async {
            for _ in 0..sockets {
                let (s, _) = tokio::time::timeout(Duration::from_secs(60), listener.accept())
                    .await
                    .map_err(|_| "the writer did not connect in time".to_owned())?
                    .map_err(|e| e.to_string())?;
                let received = received.clone();
                tokio::task::spawn_local(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    // readiness + try_read: the crate builds tokio without io-util
                    while s.readable().await.is_ok() {
                        match s.try_read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => received.set(received.get() + n as u64),
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(_) => break,
                        }
                    }
                });
            }
            let expected = (sockets * events * bytes) as u64;
            let deadline = tokio::time::Instant::now()
                + Duration::from_secs(events as u64 * (interval / 1000 + 1) + 120);
            while received.get() < expected && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok::<u64, String>(expected)
        })
        .await?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() {
        return Err(format!("the writer failed: {report}"));
    }
    let v: serde_json::Value =
        serde_json::from_str(&report).map_err(|e| format!("writer report {report:?}: {e}"))?;
    let complete = received.get() == accepted;
    if args.flag("json") {
        let mut v = v;
        v["received_bytes"] = received.get().into();
        v["expected_bytes"] = accepted.into();
        println!("{v}");
    } else {
        println!(
            "{sockets} sockets × {events} events × {bytes} B: writer CPU {} µs per write ({} usr + {} sys); all received: {}",
            v["cpu_us_per_write"], v["usr_us_per_write"], v["sys_us_per_write"], if complete { "yes" } else { "NO" }
        );
    }
    if complete {
        Ok(())
    } else {
        Err(format!("received {} of {accepted} bytes", received.get()))
    }
}

/// The writing side (a process of its own, so that its CPU is its own).
pub fn writer(args: &Args) -> Result<(), String> {
    args.only(&["addr", "sockets", "events", "bytes", "interval-ms"])?;
    let addr = args.get("addr").ok_or("--addr is required")?;
    let sockets: usize = args.num("sockets", 1000)?;
    let events: usize = args.num("events", 10)?;
    let bytes: usize = args.num("bytes", 320)?;
    let interval = Duration::from_millis(args.num("interval-ms", 1000)?);
    let mut streams = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let s = std::net::TcpStream::connect(&addr).map_err(|e| format!("connect {addr}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        streams.push(s);
    }
    std::thread::sleep(interval);
    let message = vec![b'x'; bytes];
    let me = std::process::id().to_string();
    let (mut usr, mut sys) = (0u64, 0u64);
    for _ in 0..events {
        let (u0, s0) = stats::cpu_split_us(&me).ok_or("cannot read /proc/self/stat")?;
        for s in &mut streams {
            s.write_all(&message).map_err(|e| e.to_string())?;
        }
        let (u1, s1) = stats::cpu_split_us(&me).ok_or("cannot read /proc/self/stat")?;
        usr += u1 - u0;
        sys += s1 - s0;
        std::thread::sleep(interval);
    }
    let writes = (sockets * events) as f64;
    let per = |us: u64| (us as f64 / writes * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({"writes": sockets * events, "cpu_us_per_write": per(usr + sys), "usr_us_per_write": per(usr), "sys_us_per_write": per(sys)})
    );
    Ok(())
}
