//! Against a real `redis-server` (Debian's package; `.ci/run` installs it) started on a free
//! loopback port per test: messages arrive in order and whole, a password is required when set,
//! and both ends carry on after the server restarts.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kiln_redis::{subscribe, Config, Notice, Publisher};

struct Server {
    child: Child,
    port: u16,
    args: Vec<String>,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // later options win; "PORT" stands for the chosen port (a TLS server: --port 0 --tls-port PORT)
        args.extend(extra.iter().map(|s| {
            if *s == "PORT" {
                port.to_string()
            } else {
                s.to_string()
            }
        }));
        let child = spawn(&args);
        let s = Server { child, port, args };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn(&self.args);
        self.wait_ready();
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[String]) -> Child {
    Command::new("redis-server")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (Debian package redis-server) must be installed")
}

enum Got {
    Message(String, String),
    Reconnected,
}

fn subscriber(url: &str, channels: &[&str]) -> mpsc::Receiver<Got> {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    subscribe(
        Config::parse(url).unwrap(),
        channels.iter().map(|c| c.to_string()).collect(),
        Box::new(move |n| {
            let got = match n {
                Notice::Message { channel, payload } => {
                    Got::Message(channel.to_owned(), payload.to_owned())
                }
                Notice::Reconnected => Got::Reconnected,
            };
            let _ = tx.lock().unwrap().send(got);
        }),
    )
    .expect("subscribe");
    rx
}

fn next_message(rx: &mpsc::Receiver<Got>) -> (String, String) {
    loop {
        match rx
            .recv_timeout(Duration::from_secs(10))
            .expect("a message within 10 s")
        {
            Got::Message(c, p) => return (c, p),
            Got::Reconnected => {}
        }
    }
}

#[test]
fn messages_arrive_in_order_and_whole() {
    let server = Server::start(&[]);
    let rx = subscriber(&server.url(), &["a", "b"]);
    let publisher = Publisher::start(Config::parse(&server.url()).unwrap()).unwrap();
    for i in 0..1000 {
        publisher.publish(if i % 2 == 0 { "a" } else { "b" }, &i.to_string());
    }
    publisher.publish("not subscribed", "x");
    let big = "é".repeat(300_000);
    publisher.publish("a", &big);
    for i in 0..1000 {
        assert_eq!(
            next_message(&rx),
            (if i % 2 == 0 { "a" } else { "b" }.to_owned(), i.to_string())
        );
    }
    assert_eq!(next_message(&rx), ("a".to_owned(), big));
}

#[test]
fn a_password_is_required_when_set() {
    let server = Server::start(&["--requirepass", "s3cret"]);
    let wrong = Config::parse(&format!("redis://:nope@127.0.0.1:{}", server.port)).unwrap();
    let e =
        subscribe(wrong, vec!["a".into()], Box::new(|_| {})).expect_err("a wrong password fails");
    assert!(e.to_string().contains("Redis refused"), "{e}");
    let none = subscribe(
        Config::parse(&server.url()).unwrap(),
        vec!["a".into()],
        Box::new(|_| {}),
    );
    assert!(none.is_err(), "no password fails too");
    let url = format!("redis://:s3cret@127.0.0.1:{}", server.port);
    let rx = subscriber(&url, &["a"]);
    Publisher::start(Config::parse(&url).unwrap())
        .unwrap()
        .publish("a", "signed in");
    assert_eq!(next_message(&rx).1, "signed in");
}

#[test]
fn both_ends_carry_on_after_a_server_restart() {
    let mut server = Server::start(&[]);
    let rx = subscriber(&server.url(), &["a"]);
    let publisher = Publisher::start(Config::parse(&server.url()).unwrap()).unwrap();
    publisher.publish("a", "before");
    assert_eq!(next_message(&rx).1, "before");
    server.restart();
    // the subscriber says it was cut off, then receives again
    match rx
        .recv_timeout(Duration::from_secs(15))
        .expect("told of the reconnection")
    {
        Got::Reconnected => {}
        Got::Message(c, p) => panic!("unexpected message {c} {p}"),
    }
    // the publisher notices its connection died while idle, and does not lose the next message
    publisher.publish("a", "after");
    assert_eq!(next_message(&rx).1, "after");
}

#[test]
fn an_unreachable_server_is_an_error_at_start() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = subscribe(
        Config::parse(&format!("redis://127.0.0.1:{port}")).unwrap(),
        vec!["a".into()],
        Box::new(|_| {}),
    )
    .expect_err("nothing listens there");
    assert!(e.to_string().contains("connection failed"), "{e}");
}

#[test]
fn a_stuck_server_never_blocks_the_publisher_s_callers() {
    // accepts connections (the kernel's backlog) but never reads: writes stall, the queue fills
    let stuck = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", stuck.local_addr().unwrap());
    let publisher = Publisher::start(Config::parse(&url).unwrap()).unwrap();
    let payload = "x".repeat(1000);
    let started = Instant::now();
    for _ in 0..200_000 {
        publisher.publish("a", &payload);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "publishing waited on the network: {:?}",
        started.elapsed()
    );
}

/// A throwaway CA and a server certificate naming `localhost` only (openssl, as scripts/pg does).
fn certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-days",
            "2",
            "-subj",
            "/CN=kiln-test-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
}

#[test]
fn rediss_encrypts_and_checks_the_certificate() {
    let dir = tempfile_dir();
    certificates(&dir);
    let file = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let server = Server::start(&[
        "--port",
        "0",
        "--tls-port",
        "PORT",
        "--tls-cert-file",
        &file("server.crt"),
        "--tls-key-file",
        &file("server.key"),
        "--tls-ca-cert-file",
        &file("ca.crt"),
        "--tls-auth-clients",
        "no",
    ]);
    let ca = file("ca.crt");
    // the name the certificate gives, and the CA that signed it
    let url = format!("rediss://localhost:{}?ssl_ca_certs={ca}", server.port);
    let rx = subscriber(&url, &["a"]);
    let publisher = Publisher::start(Config::parse(&url).unwrap()).unwrap();
    publisher.publish("a", "over TLS");
    assert_eq!(next_message(&rx).1, "over TLS");
    // an idle publisher keeps its connection (what the server sends after the handshake is not
    // mistaken for a closed connection)
    for i in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        publisher.publish("a", &i.to_string());
        assert_eq!(next_message(&rx).1, i.to_string());
    }
    let info = Command::new("redis-cli")
        .args([
            "--tls",
            "--cacert",
            &ca,
            "-h",
            "localhost",
            "-p",
            &server.port.to_string(),
            "info",
            "stats",
        ])
        .output()
        .expect("redis-cli");
    let info = String::from_utf8_lossy(&info.stdout);
    let connections: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connection count in {info:?}"));
    assert_eq!(
        connections, 3,
        "the subscriber, the publisher and redis-cli"
    );
    // refused: an issuer the built-in roots do not know; a name the certificate does not give
    for (url, what) in [
        (
            format!("rediss://localhost:{}", server.port),
            "unknown issuer",
        ),
        (
            format!("rediss://127.0.0.1:{}?ssl_ca_certs={ca}", server.port),
            "wrong name",
        ),
        (
            format!("redis://localhost:{}", server.port),
            "plain text to a TLS port",
        ),
    ] {
        assert!(
            subscribe(
                Config::parse(&url).unwrap(),
                vec!["a".into()],
                Box::new(|_| {})
            )
            .is_err(),
            "{what}"
        );
    }
    // ssl_cert_reqs=none: encrypted, whoever the server is
    let url = format!("rediss://127.0.0.1:{}?ssl_cert_reqs=none", server.port);
    let rx = subscriber(&url, &["b"]);
    Publisher::start(Config::parse(&url).unwrap())
        .unwrap()
        .publish("b", "unchecked");
    assert_eq!(next_message(&rx).1, "unchecked");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kiln-redis-tls-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
