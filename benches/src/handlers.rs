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
