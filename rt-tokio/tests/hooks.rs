//! The engine's hooks (`connection_error`, `initial_headers`, `headers`) over real sockets on
//! tokio: plain blocking clients against a server of two shards on loopback, every wait
//! bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corelay_rt::conformance::{handshake, request};
use corelay_tokio::{App, ConnectionErrorContext, RunningServer, Server};

/// How long any single wait may take.
const WAIT: Duration = Duration::from_secs(5);

/// What the `connection_error` hook heard: code, message, context, query.
type Log = Arc<Mutex<Vec<(u8, &'static str, ConnectionErrorContext, String)>>>;

/// Two shards of an app whose `connection_error` hook records into `log`, and whose header
/// hooks add `X-Initial: yes` and `X-Every: <the request's method>`.
fn start(log: &Log) -> RunningServer {
    let log = log.clone();
    let app = App::builder()
        .on_connection_error(move |err| {
            let query = err.req.query.clone();
            let entry = (err.code, err.message, err.context.clone(), query);
            log.lock().unwrap().push(entry);
        })
        .on_initial_headers(|headers, _| {
            headers.set("X-Initial", "yes");
        })
        .on_headers(|headers, req| {
            headers.set("X-Every", format!("{:?}", req.method));
        })
        .namespace("/", |ns| ns)
        .build();
    Server::builder(app)
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(2)
        .start()
        .expect("start")
}

/// Sends a WebSocket upgrade for `query` and reads the answer: the head of a `101` (and
/// whatever came with it), or a whole refusal.
fn upgrade(addr: SocketAddr, query: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(WAIT)).expect("timeout");
    let head = format!(
        "GET /socket.io/?{query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    if !answer.starts_with(b"HTTP/1.1 101") {
        // A refusal: the body, then the server closes the connection.
        let _ = tcp.read_to_end(&mut answer);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn connection_error_hears_polling_and_websocket_refusals() {
    let log = Log::default();
    let server = start(&log);
    let addr = server.local_addr();
    let answer = request(
        addr,
        "GET",
        "/socket.io/?EIO=4&transport=carrier-pigeon",
        "",
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.ends_with(r#"{"code":0,"message":"Transport unknown"}"#),
        "{answer}"
    );
    // An upgrade for a session that does not exist: whichever shard the kernel picked, the
    // shard the id names (shard 1) refuses it, once.
    let unknown = "ABAAAAAAAAAAAAAAAAAA";
    let answer = upgrade(addr, &format!("EIO=4&transport=websocket&sid={unknown}"));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.ends_with("Session ID unknown"), "{answer}");
    // The hook ran before each answer was written.
    let heard = std::mem::take(&mut *log.lock().unwrap());
    assert_eq!(
        heard,
        [
            (
                0,
                "Transport unknown",
                ConnectionErrorContext::UnknownTransport {
                    transport: Some("carrier-pigeon".into())
                },
                "EIO=4&transport=carrier-pigeon".to_owned()
            ),
            (
                1,
                "Session ID unknown",
                ConnectionErrorContext::UnknownSid {
                    sid: unknown.into()
                },
                format!("EIO=4&transport=websocket&sid={unknown}")
            ),
        ]
    );
    server.shutdown();
    server.wait().expect("a clean stop");
}

#[test]
fn header_hooks_add_to_polling_answers_and_101s() {
    let log = Log::default();
    let server = start(&log);
    let addr = server.local_addr();
    // The polling handshake: both hooks.
    let answer = request(addr, "GET", "/socket.io/?EIO=4&transport=polling", "");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\r\nX-Initial: yes\r\n"), "{answer}");
    assert!(answer.contains("\r\nX-Every: Get\r\n"), "{answer}");
    // A POST and a GET of the session (on new connections: the kernel picks the shard, the
    // request moves to the owner): `headers` only.
    let sid = handshake(addr);
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let answer = request(addr, "POST", &path, "40");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    assert!(answer.contains("\r\nX-Every: Post\r\n"), "{answer}");
    assert!(!answer.contains("X-Initial"), "{answer}");
    let answer = request(addr, "GET", &path, "");
    assert!(answer.contains("40{\"sid\":"), "{answer}");
    assert!(answer.contains("\r\nX-Every: Get\r\n"), "{answer}");
    assert!(!answer.contains("X-Initial"), "{answer}");
    // The 101 of a WebSocket handshake (both) and of an upgrade (`headers` only).
    let answer = upgrade(addr, "EIO=4&transport=websocket");
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    assert!(answer.contains("\r\nX-Initial: yes\r\n"), "{answer}");
    assert!(answer.contains("\r\nX-Every: Get\r\n"), "{answer}");
    let answer = upgrade(addr, &format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    assert!(answer.contains("\r\nX-Every: Get\r\n"), "{answer}");
    assert!(!answer.contains("X-Initial"), "{answer}");
    assert!(log.lock().unwrap().is_empty(), "no refusal");
    server.shutdown();
    server.wait().expect("a clean stop");
}
