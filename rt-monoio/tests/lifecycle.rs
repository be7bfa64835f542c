//! Start, serve and stop on each driver (the interop suite covers the protocol).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use corelay_monoio::{App, Driver, DriverExt, Server};

/// An Engine.IO handshake over a fresh connection: the response head and body.
fn handshake(addr: SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !got.ends_with(b"}") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn serves_then_shuts_down_from_another_thread() {
    for driver in [Driver::Legacy, Driver::Auto] {
        let server = Server::builder(App::builder().build())
            .bind("127.0.0.1:0".parse().unwrap())
            .shards(2)
            .driver(driver)
            .start()
            .unwrap();
        for _ in 0..4 {
            let answer = handshake(server.local_addr());
            assert!(answer.starts_with("HTTP/1.1 200"), "{driver:?}: {answer}");
            assert!(answer.contains("\"sid\":"), "{driver:?}: {answer}");
        }
        let _ = server.io().emit("nobody", &1);
        let handle = server.shutdown_handle();
        std::thread::spawn(move || handle.shutdown());
        let t = Instant::now();
        server.wait();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{driver:?}: slow shutdown"
        );
    }
}

#[test]
fn io_uring_starts_or_says_why() {
    // Where io_uring is missing, `start` fails instead of falling back.
    match Server::builder(App::builder().build())
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(1)
        .driver(Driver::IoUring)
        .start()
    {
        Ok(server) => {
            assert!(handshake(server.local_addr()).contains("\"sid\":"));
            server.shutdown();
            server.wait();
        }
        Err(e) => eprintln!("no io_uring here: {e}"),
    }
}
