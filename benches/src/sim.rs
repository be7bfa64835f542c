//! One broadcast to N WebSocket sockets of one shard, driven in memory by the core's
//! simulated-time harness ([`corelay_core::sim`]) as a runtime drives a shard. Time never
//! moves, so no deadline fires while a benchmark runs.

use std::collections::HashMap;
use std::sync::Arc;

use corelay_core::sim::{Client, Drained, Sim};
use corelay_core::wire::ws::{self, OpCode};
use corelay_core::App;

use crate::fixtures;

/// An app whose `b` event broadcasts its arguments as `tick` to every socket of `/`, the
/// sender included.
pub fn broadcast_app() -> Arc<App> {
    App::builder()
        .namespace("/", |ns| {
            ns.on("b", |s, e| {
                let _ = s.within().emit("tick", &e.args);
            })
        })
        .build()
}

/// The bytes of the payload string each broadcast carries.
pub const BROADCAST_PAYLOAD: usize = 64;

/// One shard with `recipients` WebSocket sockets in `/`, and the frame that makes one of them
/// broadcast to all: `42["b","<64 B>"]`, masked.
#[derive(Debug)]
pub struct Broadcast {
    sim: Sim,
    sender: Client,
    frame: Vec<u8>,
    /// The frame each recipient gets.
    tick: Vec<u8>,
    conns: Vec<Client>,
    expected: Drained,
}

impl Broadcast {
    /// Opens the sockets, then runs one broadcast through [`Broadcast::check`].
    pub fn new(recipients: usize) -> Broadcast {
        let mut b = Broadcast::open(recipients);
        b.check();
        b
    }

    /// Opens the sockets; no broadcast has run yet.
    pub fn open(recipients: usize) -> Broadcast {
        assert!(recipients > 0);
        let mut sim = Sim::new(broadcast_app(), std::time::Instant::now());
        let conns: Vec<Client> = (0..recipients).map(|_| sim.ws_client()).collect();
        assert_eq!(sim.shard(0).stats().sockets, recipients);
        let payload = String::from_utf8(fixtures::ascii(BROADCAST_PAYLOAD)).expect("ASCII");
        let frame =
            fixtures::client_frame(OpCode::Text, format!(r#"42["b","{payload}"]"#).as_bytes());
        let tick = ws::encode_frame(
            OpCode::Text,
            format!(r#"42["tick","{payload}"]"#).as_bytes(),
        );
        Broadcast {
            sim,
            sender: conns[0],
            frame,
            expected: Drained {
                bytes: recipients * tick.len(),
                writes: recipients,
            },
            tick: tick.to_vec(),
            conns,
        }
    }

    /// Runs one broadcast and checks that each socket got exactly the expected frame, in one
    /// write.
    pub fn check(&mut self) {
        self.sim.feed(self.sender, &self.frame);
        let mut per_conn: HashMap<Client, Vec<u8>> = HashMap::with_capacity(self.conns.len());
        let drained = self.sim.drain_with(|id, slice| {
            per_conn.entry(id).or_default().extend_from_slice(slice);
        });
        assert_eq!(drained, self.expected);
        assert_eq!(per_conn.len(), self.conns.len());
        for conn in &self.conns {
            assert_eq!(per_conn.get(conn), Some(&self.tick), "what {conn:?} got");
        }
    }

    /// Number of sockets reached by a broadcast.
    pub fn recipients(&self) -> usize {
        self.conns.len()
    }

    /// What a broadcast writes: one frame per recipient.
    pub fn expected(&self) -> Drained {
        self.expected
    }

    /// The sender's frame arrives; every queue is drained. Returns what was written.
    pub fn run(&mut self) -> Drained {
        self.sim.feed(self.sender, &self.frame);
        self.sim.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_reaches_every_socket_once() {
        let mut b = Broadcast::new(50);
        for _ in 0..3 {
            assert_eq!(b.run(), b.expected());
        }
        assert_eq!(b.expected().bytes, 50 * (2 + r#"42["tick",""]"#.len() + 64));
    }
}
