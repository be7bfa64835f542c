//! The shard driven in simulated time: no sockets, no sleeps; time jumps to each deadline.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::app::App;
use crate::wire::ws::{self, OpCode};

/// A shard and a clock.
struct Sim {
    shard: Shard,
    now: Instant,
    closed: Vec<ConnId>,
    shut: Vec<ConnId>,
    inbox: HashMap<ConnId, Vec<u8>>,
}

/// What a connection received.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

impl Sim {
    fn new(app: Arc<App>) -> Sim {
        let now = Instant::now();
        Sim {
            shard: Shard::with_seed(app, 0, 1, now, 7),
            now,
            closed: Vec::new(),
            shut: Vec::new(),
            inbox: HashMap::new(),
        }
    }

    fn connect(&mut self) -> ConnId {
        self.shard.accept(self.now, peer())
    }

    fn send(&mut self, c: ConnId, data: &[u8]) {
        self.shard.receive(self.now, c, data);
    }

    /// Everything queued for `c`, written in full; actions recorded.
    fn take(&mut self, c: ConnId) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.inbox);
        self.pump(&mut all);
        let out = all.remove(&c).unwrap_or_default();
        self.inbox = all;
        out
    }

    /// Writes every connection's queue; returns the bytes per connection.
    fn pump(&mut self, all: &mut HashMap<ConnId, Vec<u8>>) {
        loop {
            let mut progress = false;
            while let Some(id) = self.shard.poll_transmit() {
                progress = true;
                loop {
                    let mut slices = [IoSlice::new(&[]); 16];
                    let n = self.shard.send_queue(id, &mut slices);
                    if n == 0 {
                        break;
                    }
                    let mut written = 0;
                    let out = all.entry(id).or_default();
                    for s in &slices[..n] {
                        out.extend_from_slice(s);
                        written += s.len();
                    }
                    self.shard.advance(id, written);
                }
            }
            while let Some(a) = self.shard.poll_action() {
                progress = true;
                match a {
                    Action::Close(id) => self.closed.push(id),
                    Action::Shutdown(id) => self.shut.push(id),
                    Action::HandOver { .. } => panic!("one shard never hands over"),
                }
            }
            if !progress {
                return;
            }
        }
    }

    fn is_closed(&self, c: ConnId) -> bool {
        self.closed.contains(&c)
    }

    fn is_shut(&self, c: ConnId) -> bool {
        self.shut.contains(&c) || self.closed.contains(&c)
    }

    /// Jumps to `d` later, handling every deadline on the way in order.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.shard.poll_timeout() {
            if t > end {
                break;
            }
            self.now = self.now.max(t);
            self.shard.handle_timeout(self.now);
        }
        self.now = end;
        self.shard.handle_timeout(self.now);
    }

    /// Sends a request and parses the one response it gets (None when none yet).
    fn request(&mut self, c: ConnId, raw: &str) -> Option<Response> {
        self.send(c, raw.as_bytes());
        let bytes = self.take(c);
        parse_responses(&bytes).pop()
    }

    fn get(&mut self, c: ConnId, path: &str) -> Option<Response> {
        self.request(c, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
    }

    fn post(&mut self, c: ConnId, path: &str, body: &str) -> Option<Response> {
        self.request(
            c,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    /// A polling handshake; returns the sid.
    fn polling_open(&mut self) -> (ConnId, String) {
        let c = self.connect();
        let r = self.get(c, "/socket.io/?EIO=4&transport=polling").unwrap();
        assert_eq!(r.status, 200);
        let open: serde_json::Value = serde_json::from_str(&r.text()[1..]).unwrap();
        (c, open["sid"].as_str().unwrap().to_owned())
    }

    /// Opens a WebSocket (with `sid` for an upgrade probe); returns the connection.
    fn ws_open(&mut self, query: &str) -> (ConnId, Vec<u8>) {
        let c = self.connect();
        self.send(
            c,
            format!(
                "GET /socket.io/?{query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        );
        let bytes = self.take(c);
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert!(
            bytes.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        (c, bytes[end..].to_vec())
    }

    fn ws_send(&mut self, c: ConnId, op: OpCode, payload: &[u8]) {
        let frame = ws::encode_client_frame(op, true, payload, [1, 2, 3, 4]);
        self.send(c, &frame);
    }

    fn ws_text(&mut self, c: ConnId, text: &str) {
        self.ws_send(c, OpCode::Text, text.as_bytes());
    }

    /// Frames the server sent to `c` since the last look.
    fn ws_recv(&mut self, c: ConnId) -> Vec<(u8, Vec<u8>)> {
        let bytes = self.take(c);
        parse_frames(&bytes)
    }
}

fn parse_responses(mut bytes: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(n) = r.parse(bytes).unwrap() else {
            panic!("partial response: {}", String::from_utf8_lossy(bytes))
        };
        let headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        out.push(Response {
            status: r.code.unwrap(),
            headers,
            body: bytes[n..n + len].to_vec(),
        });
        bytes = &bytes[n + len..];
    }
    out
}

fn parse_frames(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while b.len() >= 2 {
        let op = b[0] & 0x0f;
        assert_eq!(b[1] & 0x80, 0, "server frames are unmasked");
        let (len, h) = match b[1] & 0x7f {
            126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        out.push((op, b[h..h + len].to_vec()));
        b = &b[h + len..];
    }
    assert!(b.is_empty());
    out
}

fn texts(frames: &[(u8, Vec<u8>)]) -> Vec<String> {
    frames
        .iter()
        .filter(|(op, _)| *op == 1)
        .map(|(_, p)| String::from_utf8(p.clone()).unwrap())
        .collect()
}

/// An app like the `echo` example, recording disconnect reasons.
fn echo_app(log: Arc<Mutex<Vec<String>>>, tweak: impl FnOnce(&mut crate::Config)) -> Arc<App> {
    let handlers = move |log: Arc<Mutex<Vec<String>>>| {
        move |ns: crate::Namespace| {
            let log2 = log.clone();
            ns.on_connection(|s| {
                let auth = serde_json::value::RawValue::from_string(s.auth().to_owned()).unwrap();
                s.emit("auth", &*auth).unwrap();
            })
            .on("message", |s, e| s.emit("message-back", &e.args).unwrap())
            .on("message-with-ack", |s, e| {
                if let Some(id) = e.ack {
                    s.ack(id, &e.args).unwrap();
                }
            })
            .on("join", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.join(&room);
            })
            .on("leave", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.leave(&room);
            })
            .on("to", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.within()
                    .to(&room)
                    .emit("tick", &e.args.raw(1).unwrap())
                    .unwrap();
            })
            .on("request-ack", |s, _| {
                s.emit_with_ack("ask", &(), Duration::from_secs(2), |s, r| {
                    let text = match r {
                        Ok(a) => format!("ok {}", a.len()),
                        Err(e) => e.to_string(),
                    };
                    s.emit("ack-result", &text).unwrap();
                })
                .unwrap();
            })
            .on("disconnect-me", |s, _| s.disconnect(false))
            .on("close-me", |s, _| s.disconnect(true))
            .on_disconnecting(move |s, reason| {
                log.lock().unwrap().push(format!(
                    "disconnecting {} rooms={}",
                    reason,
                    s.rooms().len()
                ));
            })
            .on_disconnect(move |_, reason| {
                log2.lock().unwrap().push(format!("disconnect {reason}"))
            })
        }
    };
    App::builder()
        .configure(tweak)
        .namespace("/", handlers(log.clone()))
        .namespace("/custom", handlers(log))
        .build()
}

fn app() -> Arc<App> {
    echo_app(Arc::default(), |_| {})
}

/// A Socket.IO client over WebSocket joined to `/`; returns (conn, socket id).
fn ws_client(sim: &mut Sim) -> (ConnId, String) {
    let (c, rest) = sim.ws_open("EIO=4&transport=websocket");
    let open = texts(&parse_frames(&rest));
    assert!(open[0].starts_with("0{"), "{open:?}");
    sim.ws_text(c, "40");
    let frames = texts(&sim.ws_recv(c));
    assert!(frames[0].starts_with("40{\"sid\":\""), "{frames:?}");
    let id = frames[0][10..30].to_owned();
    assert_eq!(frames[1], "42[\"auth\",{}]");
    (c, id)
}

mod engine;
mod mesh;
mod socketio;
