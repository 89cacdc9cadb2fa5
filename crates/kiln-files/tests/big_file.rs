//! A 50 MiB file goes through each store with bounded memory: the resident set of this process
//! is sampled while the file is uploaded and streamed back, and must stay far below the file's
//! size. Its own test binary, and one test at a time, so that no other test's memory counts.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use kiln_files::{S3Tuning, Storage};
use sha2::{Digest, Sha256};
use support::rss_bytes;

const SIZE: usize = 50 << 20;
/// Growth of the resident set allowed over the baseline (the file is 50 MiB).
const MAX_GROWTH: u64 = 20 << 20;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Writes a 50 MiB file of pseudo-random bytes, a chunk at a time; returns its SHA-256.
fn write_big_file(path: &Path) -> Vec<u8> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hash = Sha256::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..SIZE / chunk.len() {
        for b in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        hash.update(&chunk);
        file.write_all(&chunk).unwrap();
    }
    file.flush().unwrap();
    hash.finalize().to_vec()
}

/// Samples the resident set every 5 ms until dropped; `peak()` is the highest sample.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_bytes()));
        let thread = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Sampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn peak(&self) -> u64 {
        self.peak
            .fetch_max(rss_bytes(), Ordering::Relaxed)
            .max(rss_bytes())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn stream_hash(storage: &Storage, key: &str) -> (Vec<u8>, u64) {
    let mut object = storage.get(key, None).await.unwrap();
    let mut hash = Sha256::new();
    let mut total = 0u64;
    while let Some(chunk) = object.body.next().await {
        let chunk = chunk.unwrap();
        total += chunk.len() as u64;
        hash.update(&chunk);
    }
    (hash.finalize().to_vec(), total)
}

async fn round_trip(storage: &Storage, upload: &Path, expected: &[u8]) {
    let baseline = rss_bytes();
    let sampler = Sampler::start();
    storage
        .put_file("pbc_1/rec/big.bin", upload, "application/octet-stream")
        .await
        .unwrap();
    let after_upload = sampler.peak();
    let (hash, total) = stream_hash(storage, "pbc_1/rec/big.bin").await;
    let after_download = sampler.peak();
    drop(sampler);
    assert_eq!(total, SIZE as u64);
    assert!(hash == expected, "content differs");
    assert!(
        after_upload.saturating_sub(baseline) < MAX_GROWTH,
        "upload grew the resident set by {} MiB",
        (after_upload - baseline) >> 20
    );
    assert!(
        after_download.saturating_sub(baseline) < MAX_GROWTH,
        "download grew the resident set by {} MiB",
        (after_download - baseline) >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_big_file_with_bounded_memory() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("upload.bin");
    let expected = write_big_file(&upload);
    let storage = Storage::local(dir.path().join("storage"));
    round_trip(&storage, &upload, &expected).await;
    // The copy path too (another file system), reading 50 MiB through a 64 KiB window.
    let shm = tempfile::tempdir_in("/dev/shm").unwrap();
    let upload = shm.path().join("upload.bin");
    let expected = write_big_file(&upload);
    round_trip(&storage, &upload, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_big_file_with_bounded_memory() {
    let _one = ONE_AT_A_TIME.lock().await;
    let moto = support::Moto::start("kiln-big").await;
    let dir = tempfile::tempdir().unwrap();
    let upload = dir.path().join("upload.bin");
    let expected = write_big_file(&upload);
    round_trip(&moto.storage(S3Tuning::default()), &upload, &expected).await;
    // And as a multipart upload of 5 MiB parts.
    let tuning = S3Tuning {
        multipart_threshold: 16 << 20,
        part_size: 5 << 20,
        ..S3Tuning::default()
    };
    round_trip(&moto.storage(tuning), &upload, &expected).await;
}
