//! The command line: help, version, and clear errors instead of panics.

use crate::support::{run, Server};

#[test]
fn version_and_help() {
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = run(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "superuser", "--dir", "--dev", "--config"] {
        assert!(text.contains(word), "help lacks {word}: {text}");
    }
    let out = run(&["serve", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--http"));
}

#[test]
fn superuser_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&[
        "superuser",
        "create",
        "a@example.com",
        "longpassword1",
        "--dir",
        d
    ])
    .status
    .success());
    let dup = run(&[
        "superuser",
        "create",
        "a@example.com",
        "longpassword1",
        "--dir",
        d,
    ]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("Error:"));
    assert!(run(&[
        "superuser",
        "update",
        "a@example.com",
        "otherpassword2",
        "--dir",
        d
    ])
    .status
    .success());
    let missing = run(&[
        "superuser",
        "update",
        "nobody@example.com",
        "otherpassword2",
        "--dir",
        d,
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    let short = run(&["superuser", "upsert", "b@example.com", "short", "--dir", d]);
    assert!(!short.status.success());
    assert!(run(&["superuser", "delete", "a@example.com", "--dir", d])
        .status
        .success());
}

#[test]
fn port_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let other = tempfile::tempdir().unwrap();
    let out = run(&[
        "serve",
        "--http",
        &format!("127.0.0.1:{}", server.port),
        "--dir",
        other.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unwritable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    std::fs::write(&file, b"x").unwrap();
    let out = run(&[
        "superuser",
        "upsert",
        "a@example.com",
        "longpassword1",
        "--dir",
        file.join("sub").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("data directory"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn corrupt_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.db"), vec![0x42u8; 8192]).unwrap();
    let out = run(&[
        "superuser",
        "upsert",
        "a@example.com",
        "longpassword1",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged or not a database"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kiln.toml");
    std::fs::write(&cfg, "htp = 1").unwrap();
    let out = run(&["serve", "--config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid config file"));
}
