//! A shard driven in memory, as a runtime shim drives it, with WebSocket clients.
//!
//! This is the benches' own copy of what the core's simulated-time tests do (those helpers
//! are `#[cfg(test)]` in the core): it uses the public shard contract only. Time never
//! moves, so no deadline fires while a benchmark runs.

use std::collections::HashMap;
use std::io::IoSlice;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use corelay_core::wire::ws::{self, OpCode};
use corelay_core::{App, ConnId, Shard};

use crate::fixtures;

/// Chunks lent by [`Shard::send_queue`] per vectored write (a typical `IOV_MAX` share).
const IOVECS: usize = 16;

/// A shard, a frozen clock and the connections opened so far.
#[derive(Debug)]
pub struct Sim {
    shard: Shard,
    now: Instant,
    opened: u32,
}

/// What one [`Sim::drain`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Bytes written, over every connection.
    pub bytes: usize,
    /// Vectored writes made (one per connection per [`Shard::poll_transmit`], more when a
    /// queue holds more than 16 chunks).
    pub writes: usize,
}

impl Sim {
    /// One shard of one, serving `app`, with reproducible session ids.
    pub fn new(app: Arc<App>) -> Sim {
        let now = Instant::now();
        Sim {
            shard: Shard::with_seed(app, 0, 1, now, 7),
            now,
            opened: 0,
        }
    }

    /// The shard.
    pub fn shard(&self) -> &Shard {
        &self.shard
    }

    /// Feeds bytes read from `conn`.
    pub fn receive(&mut self, conn: ConnId, data: &[u8]) {
        self.shard.receive(self.now, conn, data);
    }

    /// Writes every queued byte of every connection, as a shim's event loop turn does:
    /// `poll_transmit`, one vectored write of `send_queue`, `advance` by what was written.
    /// Each written slice goes through [`std::hint::black_box`], standing for the copy into
    /// the kernel. Panics on any [`corelay_core::Action`]: no connection closes in a benchmark.
    pub fn drain(&mut self) -> Drained {
        self.drain_with(|_, slice| {
            std::hint::black_box(slice);
        })
    }

    /// As [`Sim::drain`], handing each written slice to `sink` with its connection.
    pub fn drain_with(&mut self, mut sink: impl FnMut(ConnId, &[u8])) -> Drained {
        let mut out = Drained::default();
        loop {
            let mut progress = false;
            while let Some(id) = self.shard.poll_transmit() {
                progress = true;
                loop {
                    let mut slices = [IoSlice::new(&[]); IOVECS];
                    let n = self.shard.send_queue(id, &mut slices);
                    if n == 0 {
                        break;
                    }
                    let mut written = 0;
                    for slice in &slices[..n] {
                        sink(id, slice);
                        written += slice.len();
                    }
                    self.shard.advance(id, written);
                    out.bytes += written;
                    out.writes += 1;
                }
            }
            if let Some(action) = self.shard.poll_action() {
                panic!("unexpected action in a benchmark: {action:?}");
            }
            if !progress {
                return out;
            }
        }
    }

    /// Everything written to `conn` by one [`Sim::drain`] (other connections are drained too).
    pub fn take(&mut self, conn: ConnId) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.drain_with(|id, slice| {
            if id == conn {
                bytes.extend_from_slice(slice);
            }
        });
        bytes
    }

    /// Sends a masked text frame from `conn`.
    pub fn send_text(&mut self, conn: ConnId, text: &str) {
        let frame = fixtures::client_frame(OpCode::Text, text.as_bytes());
        self.receive(conn, &frame);
    }

    /// Opens a WebSocket-only Engine.IO session and joins the `/` namespace (`40`), checking
    /// the answers; everything queued is drained.
    pub fn open_ws_client(&mut self) -> ConnId {
        // Distinct peers, as a real listener sees them.
        self.opened += 1;
        let peer = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(
                10,
                0,
                (self.opened >> 16) as u8,
                (self.opened >> 8) as u8,
            )),
            (self.opened & 0xff) as u16 + 1024,
        );
        let conn = self.shard.accept(self.now, peer);
        self.receive(
            conn,
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: bench\r\n\
              Upgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
        let bytes = self.take(conn);
        assert!(
            bytes.starts_with(b"HTTP/1.1 101"),
            "no upgrade: {}",
            String::from_utf8_lossy(&bytes)
        );
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete response head")
            + 4;
        let open = server_frames(&bytes[end..]);
        assert!(
            matches!(open.first(), Some((1, p)) if p.starts_with(b"0{\"sid\"")),
            "no open packet"
        );
        self.send_text(conn, "40");
        let bytes = self.take(conn);
        let connect = server_frames(&bytes);
        assert!(
            matches!(connect.first(), Some((1, p)) if p.starts_with(b"40{\"sid\"")),
            "no CONNECT answer"
        );
        conn
    }
}

/// Splits server frames (unmasked, unfragmented) into (opcode, payload). Panics on anything
/// else: the input is what a shard wrote.
pub fn server_frames(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while !b.is_empty() {
        assert!(b.len() >= 2, "truncated frame header");
        assert_eq!(b[1] & 0x80, 0, "server frames are unmasked");
        let (len, head) = match b[1] & 0x7f {
            126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            n => (n as usize, 2),
        };
        out.push((b[0] & 0x0f, &b[head..head + len]));
        b = &b[head + len..];
    }
    out
}

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
    sender: ConnId,
    frame: Vec<u8>,
    /// The frame each recipient gets.
    tick: Vec<u8>,
    conns: Vec<ConnId>,
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
        let mut sim = Sim::new(broadcast_app());
        let conns: Vec<ConnId> = (0..recipients).map(|_| sim.open_ws_client()).collect();
        assert_eq!(sim.shard().stats().sockets, recipients);
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
        self.sim.receive(self.sender, &self.frame);
        let mut per_conn: HashMap<ConnId, Vec<u8>> = HashMap::with_capacity(self.conns.len());
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
        self.sim.receive(self.sender, &self.frame);
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

    #[test]
    fn server_frames_reads_extended_lengths() {
        let big = vec![b'x'; 70_000];
        let mid = vec![b'y'; 300];
        let mut wire = ws::encode_frame(OpCode::Binary, &big).to_vec();
        wire.extend_from_slice(&ws::encode_frame(OpCode::Text, &mid));
        let frames = server_frames(&wire);
        assert_eq!(frames, vec![(2, &big[..]), (1, &mid[..])]);
    }
}
