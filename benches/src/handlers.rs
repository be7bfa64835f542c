//! One event with an acknowledgement, answered by a synchronous or an async handler, on one
//! shard driven in memory by the core's simulated-time harness.

use std::sync::Arc;

use corelay_core::sim::{Client, Sim};
use corelay_core::wire::ws::{self, OpCode};
use corelay_core::App;

use crate::fixtures;

/// An app whose `echo` event acks its arguments, synchronously or from a task.
pub fn echo_app(asynchronous: bool) -> Arc<App> {
    App::builder()
        .namespace("/", |ns| match asynchronous {
            false => ns.on("echo", |s, e| {
                if let Some(id) = e.ack {
                    let _ = s.ack(id, &e.args);
                }
            }),
            true => ns.on_async("echo", |_, e| async move {
                if let Some(ack) = e.ack {
                    let _ = ack.send(&e.args);
                }
            }),
        })
        .build()
}

/// One client that sends `421["echo","<16 B>"]` and gets `431["<16 B>"]`.
#[derive(Debug)]
pub struct Echo {
    sim: Sim,
    client: Client,
    frame: Vec<u8>,
    answer: Vec<u8>,
}

impl Echo {
    /// The shard and its client; one event is run and checked.
    pub fn new(asynchronous: bool) -> Echo {
        let mut sim = Sim::new(echo_app(asynchronous), std::time::Instant::now());
        let client = sim.ws_client();
        let payload = String::from_utf8(fixtures::ascii(16)).expect("ASCII");
        let frame = format!(r#"421["echo","{payload}"]"#);
        let answer = format!(r#"431["{payload}"]"#);
        let mut echo = Echo {
            sim,
            client,
            frame: fixtures::client_frame(OpCode::Text, frame.as_bytes()),
            answer: ws::encode_frame(OpCode::Text, answer.as_bytes()).to_vec(),
        };
        echo.sim.feed(echo.client, &echo.frame);
        assert_eq!(echo.sim.take(echo.client), echo.answer);
        echo
    }

    /// One event in, its answer written; the bytes written.
    pub fn run(&mut self) -> usize {
        self.sim.feed(self.client, &self.frame);
        let written = self.sim.drain().bytes;
        assert_eq!(written, self.answer.len());
        written
    }
}

/// As [`Echo`] with a synchronous handler, the shard driven through its own API only (no
/// harness between): the cost of the core's path for one event, comparable across versions.
#[derive(Debug)]
pub struct ShardEcho {
    shard: corelay_core::Shard,
    conn: corelay_core::ConnId,
    now: std::time::Instant,
    frame: Vec<u8>,
    answer: usize,
}

impl ShardEcho {
    /// One shard, one WebSocket client in `/`; one event is run and checked.
    pub fn new() -> ShardEcho {
        let now = std::time::Instant::now();
        let mut shard = corelay_core::Shard::new(echo_app(false), 0, 1, now);
        let conn = shard.accept(now, "127.0.0.1:50000".parse().expect("an address"));
        shard.receive(
            now,
            conn,
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n\
              Upgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
        shard.receive(now, conn, &fixtures::client_frame(OpCode::Text, b"40"));
        let payload = String::from_utf8(fixtures::ascii(16)).expect("ASCII");
        let frame = format!(r#"421["echo","{payload}"]"#);
        let answer = format!(r#"431["{payload}"]"#);
        let mut echo = ShardEcho {
            shard,
            conn,
            now,
            frame: fixtures::client_frame(OpCode::Text, frame.as_bytes()),
            answer: ws::encode_frame(OpCode::Text, answer.as_bytes()).len(),
        };
        // What the handshake queued, and the CONNECT answer's own write.
        echo.drain();
        echo.shard.handle_timeout(now);
        echo.drain();
        assert_eq!(echo.run(), echo.answer);
        echo
    }

    fn drain(&mut self) -> usize {
        let mut written = 0;
        while let Some(id) = self.shard.poll_transmit() {
            loop {
                let mut slices = [std::io::IoSlice::new(&[]); 16];
                let n = self.shard.send_queue(id, &mut slices);
                if n == 0 {
                    break;
                }
                let len: usize = slices[..n].iter().map(|s| s.len()).sum();
                std::hint::black_box(&slices[..n]);
                written += len;
                self.shard.advance(id, len);
            }
        }
        written
    }

    /// One event in, its answer written; the bytes written.
    pub fn run(&mut self) -> usize {
        self.shard.receive(self.now, self.conn, &self.frame);
        let written = self.drain();
        debug_assert_eq!(written, self.answer);
        written
    }
}

impl Default for ShardEcho {
    fn default() -> Self {
        ShardEcho::new()
    }
}
