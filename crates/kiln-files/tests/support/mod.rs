//! A real S3-compatible server for the tests: moto (`pip install "moto[server]"`), started on
//! 127.0.0.1 with a free port, one per test, killed when the handle is dropped.
//!
//! moto runs with request authentication on: after the few setup requests below (an IAM user,
//! its policy and access key, the bucket), every request must carry a valid SigV4 signature,
//! which moto checks with botocore's own signer. So a signing mistake fails these tests.
//!
//! The server is `python3 tests/support/moto_server.py` (`$KILN_MOTO_PYTHON` instead of
//! `python3` if set): moto's own server with its signature check reading the raw request target,
//! as real S3 does. If it does not start, the test fails (it does not skip) and says how to
//! install moto.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kiln_files::{S3Config, S3Tuning, Storage};

/// A running moto server with a user, its keys, and one bucket.
pub struct Moto {
    child: Child,
    /// The port moto listens on (127.0.0.1).
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Access key of the IAM user allowed `s3:*`.
    pub access_key: String,
    /// Its secret.
    pub secret: String,
    /// The bucket created at start.
    pub bucket: String,
    _log_dir: tempfile::TempDir,
    log: PathBuf,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const INSTALL_HINT: &str =
    "the S3 tests need moto's server: `python3 -m pip install \"moto[server]\"` \
     (or set KILN_MOTO_PYTHON to a Python interpreter that has it)";

/// `python3 tests/support/moto_server.py` (moto with the raw-URI signature check, see there).
fn command() -> Vec<String> {
    let python = std::env::var("KILN_MOTO_PYTHON")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "python3".to_owned());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/moto_server.py");
    vec![python, script.to_owned()]
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts moto with a bucket named `bucket`; panics with a clear message if it cannot.
    pub async fn start(bucket: &str) -> Moto {
        let mut failures = Vec::new();
        // Two tries: a port picked free may be taken by someone else before moto binds it.
        for command in [command(), command()] {
            let log_dir = tempfile::tempdir().unwrap();
            let log = log_dir.path().join("moto.log");
            let port = free_port();
            let spawned = Command::new(&command[0])
                .args(&command[1..])
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("PYTHONUNBUFFERED", "1")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(log_dir.path().join("moto.err")).unwrap())
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(e) => {
                    failures.push(format!("`{}`: {e}", command.join(" ")));
                    break;
                }
            };
            let mut moto = Moto {
                child,
                port,
                endpoint: format!("http://127.0.0.1:{port}"),
                access_key: String::new(),
                secret: String::new(),
                bucket: bucket.to_owned(),
                _log_dir: log_dir,
                log,
            };
            match moto.wait_ready().await {
                Ok(()) => {
                    moto.set_up(bucket).await;
                    return moto;
                }
                Err(why) => {
                    let port_taken = why.contains("Address already in use");
                    failures.push(format!("`{}`: {why}", command.join(" ")));
                    if !port_taken {
                        break;
                    }
                }
            }
        }
        panic!(
            "could not start a moto S3 server: {}\n{INSTALL_HINT}",
            failures.join("; ")
        );
    }

    fn output(&self) -> String {
        let err = std::fs::read_to_string(self.log.with_file_name("moto.err")).unwrap_or_default();
        let out = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all = format!("{out}{err}");
        let tail: Vec<&str> = all.lines().rev().take(15).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        let url = format!("{}/moto-api/reset-auth", self.endpoint);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", self.output()));
            }
            // A GET of reset-auth answers 400 without side effects: any answer means ready.
            if client.get(&url).send().await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("not ready after 90 s:\n{}", self.output()))
    }

    /// Unauthenticated setup (the first 4 actions), then authentication for everything else.
    async fn set_up(&mut self, bucket: &str) {
        let client = reqwest::Client::new();
        let reset = client
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body("4")
            .send()
            .await
            .unwrap();
        assert!(
            reset.status().is_success(),
            "moto reset-auth: {}",
            reset.status()
        );

        let iam = |body: String| {
            let client = client.clone();
            let endpoint = self.endpoint.clone();
            async move {
                let response = client
                    .post(format!("{endpoint}/"))
                    // Routes the request to IAM; not checked during the setup actions.
                    .header(
                        "authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIASETUP/20240101/us-east-1/iam/aws4_request, \
                         SignedHeaders=host, Signature=0",
                    )
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let text = response.text().await.unwrap();
                assert!(
                    status.is_success(),
                    "moto IAM setup failed: {status} {text}"
                );
                text
            }
        };
        iam("Action=CreateUser&UserName=kiln&Version=2010-05-08".into()).await;
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        iam(format!(
            "Action=PutUserPolicy&UserName=kiln&PolicyName=s3&PolicyDocument={}&Version=2010-05-08",
            form_encode(policy)
        ))
        .await;
        let keys = iam("Action=CreateAccessKey&UserName=kiln&Version=2010-05-08".into()).await;
        self.access_key = between(&keys, "<AccessKeyId>", "</AccessKeyId>");
        self.secret = between(&keys, "<SecretAccessKey>", "</SecretAccessKey>");

        // The 4th and last unauthenticated action.
        let created = client
            .put(format!("{}/{bucket}", self.endpoint))
            .header("content-length", "0")
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "moto CreateBucket: {}",
            created.status()
        );
    }

    /// The configuration of the bucket, path style.
    pub fn config(&self) -> S3Config {
        S3Config {
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            endpoint: self.endpoint.clone(),
            access_key: self.access_key.clone(),
            secret: self.secret.clone(),
            force_path_style: true,
        }
    }

    /// A path-style store with these tuning knobs.
    pub fn storage(&self, tuning: S3Tuning) -> Storage {
        Storage::s3_tuned(self.config(), tuning).unwrap()
    }

    /// A virtual-host style store: endpoint `http://localhost:PORT`, the bucket's host name
    /// `BUCKET.localhost` pinned to 127.0.0.1 (moto reads the bucket from the Host header).
    pub fn virtual_host_storage(&self) -> Storage {
        let cfg = S3Config {
            endpoint: format!("http://localhost:{}", self.port),
            force_path_style: false,
            ..self.config()
        };
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let tuning = S3Tuning {
            resolve: vec![(format!("{}.localhost", self.bucket), addr)],
            ..S3Tuning::default()
        };
        Storage::s3_tuned(cfg, tuning).unwrap()
    }
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {text}"))
        + open.len();
    let end = start + text[start..].find(close).unwrap();
    text[start..end].to_owned()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Resident set size of this process, in bytes (Linux).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}
