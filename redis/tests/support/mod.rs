//! A `redis-server` for the tests that need a real one: each test starts its own on a free
//! loopback port and kills it when done. Without `redis-server` on PATH, [`redis_available`]
//! prints "redis-server not found: skipped" and the test returns early (passes), unless
//! `CORELAY_REQUIRE_REDIS=1`, which makes it fail.
//!
//! Used as `mod support;` by more than one test crate: each uses a part of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use corelay_redis::connection::RedisUrl;

/// How long any one wait may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the tests can run: `false` (skip) without `redis-server`, a panic if it is required.
pub fn redis_available() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CORELAY_REQUIRE_REDIS").as_deref() == Ok("1") {
            panic!("redis-server not found, and CORELAY_REQUIRE_REDIS=1 requires it");
        }
        eprintln!("redis-server not found: skipped");
    }
    found
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// A `redis-server` child process, killed on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    password: Option<String>,
}

impl Server {
    pub fn start(password: Option<&str>) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            password: password.map(str::to_owned),
        };
        server.restart();
        server
    }

    /// Starts (again) on the same port; waits (bounded) until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let mut child = command.spawn().expect("spawn redis-server");
        let addr = self.addr();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server on port {} exited: {status}", self.port);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "redis-server on port {} did not accept within 5 s",
                    self.port
                );
            }
            sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    pub fn url(&self, password: Option<&str>, db: u32) -> RedisUrl {
        let credentials = password.map(|p| format!(":{p}@")).unwrap_or_default();
        RedisUrl::parse(&format!(
            "redis://{credentials}127.0.0.1:{}/{db}",
            self.port
        ))
        .expect("url")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A message captured from the Node library (`vectors/*.json`): its name, its channel, its
/// format (`json` or `msgpack`) and its bytes.
pub struct Vector {
    pub name: String,
    pub channel: String,
    pub format: String,
    pub bytes: Vec<u8>,
}

/// The vectors of `vectors/<file>`.
pub fn load_vectors(file: &str) -> Vec<Vector> {
    let path = format!("{}/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("vector file");
    let list: Vec<serde_json::Value> = serde_json::from_str(&text).expect("vector JSON");
    list.into_iter()
        .map(|v| Vector {
            name: v["name"].as_str().unwrap().to_owned(),
            channel: v["channel"].as_str().unwrap().to_owned(),
            format: v["format"].as_str().unwrap().to_owned(),
            bytes: hex::decode(v["hex"].as_str().unwrap()).unwrap(),
        })
        .collect()
}
