//! corelay-core: the runtime-free protocol core of corelay, a Socket.IO server.
//!
//! It speaks Engine.IO 4 (long-polling, WebSocket, the upgrade between them, heartbeats) and
//! Socket.IO 5 (namespaces, events, acknowledgements, binary attachments, rooms, broadcasts)
//! as the official clients expect, in a deterministic state machine: a [`Shard`] is fed bytes
//! and time, and hands back bytes, deadlines and actions. It never does I/O, never spawns,
//! and never calls `Instant::now()`: time is always an argument. A runtime (`corelay-rt` and
//! its tokio, monoio and glommio crates) drives one shard per core.
//!
//! # The drain loop
//!
//! After every input (bytes read, a connection accepted or closed, a deadline, a message from
//! another shard), drain the outputs until there are none, then sleep until the next deadline.
//! Here a WebSocket client joins `/`, and a handler answers its event:
//!
//! ```
//! use std::io::IoSlice;
//! use std::time::Instant;
//! use corelay_core::wire::ws::{encode_client_frame, OpCode};
//! use corelay_core::{Action, App, Shard};
//!
//! let app = App::builder()
//!     .namespace("/", |ns| {
//!         ns.on("hello", |socket, event| {
//!             let _ = socket.emit("world", &event.args);
//!         })
//!     })
//!     .build();
//! let mut now = Instant::now();
//! let mut shard = Shard::new(app, 0, 1, now);
//!
//! // A connection, and what it sent: a WebSocket handshake, then two frames.
//! let conn = shard.accept(now, "127.0.0.1:50000".parse().unwrap());
//! shard.receive(now, conn, b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n\
//!     Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//!     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
//! shard.receive(now, conn, &encode_client_frame(OpCode::Text, true, b"40", [1, 2, 3, 4]));
//! shard.receive(now, conn, &encode_client_frame(OpCode::Text, true, br#"42["hello",1]"#, [5, 6, 7, 8]));
//!
//! let mut written = Vec::new();
//! loop {
//!     // 1. Messages for other shards (none here: one shard).
//!     while let Some((_target, _message)) = shard.poll_mesh() {}
//!     // 2. One vectored write per connection with queued bytes.
//!     while let Some(id) = shard.poll_transmit() {
//!         loop {
//!             let mut slices = [IoSlice::new(&[]); 64];
//!             let n = shard.send_queue(id, &mut slices);
//!             if n == 0 {
//!                 break;
//!             }
//!             let len: usize = slices[..n].iter().map(|s| s.len()).sum();
//!             slices[..n].iter().for_each(|s| written.extend_from_slice(s)); // "writev"
//!             shard.advance(id, len);
//!         }
//!     }
//!     // 3. Connections to shut down, close or hand over.
//!     while let Some(action) = shard.poll_action() {
//!         assert!(!matches!(action, Action::HandOver { .. }));
//!     }
//!     // Then sleep until the next deadline; here, jump to it if it has come.
//!     match shard.poll_timeout() {
//!         Some(at) if at <= now => shard.handle_timeout(now),
//!         Some(at) => { now = at; shard.handle_timeout(now); if written.ends_with(b"]") { break } }
//!         None => break,
//!     }
//! }
//! let text = String::from_utf8_lossy(&written);
//! assert!(text.starts_with("HTTP/1.1 101 Switching Protocols"));
//! assert!(text.contains(r#"42["world",1]"#));
//! ```
//!
//! The `sim` module (feature `sim`) drives shards this way in simulated time, with clients
//! that speak HTTP and WebSocket, for tests of applications and of the core itself.
//!
//! # Layers
//!
//! Each layer imports only the ones below it; the only call that goes upward is the call of a
//! handler of the application.
//!
//! - [`wire`]: codecs (HTTP/1.1, WebSocket, Engine.IO, Socket.IO), no state;
//! - `engine`: Engine.IO sessions and their transports, heartbeat, close reasons;
//! - `socketio`: clients, sockets, rooms, acknowledgements, broadcasts, [`payload`];
//! - [`mesh`]: what shards send each other (encoded bytes and names);
//! - [`shard`]: owns the layers' state and dispatches inputs and events;
//! - the API: [`App`] and its builders, [`Socket`], [`Operator`], [`Io`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
pub mod config;
mod date;
mod engine;
mod id;
pub mod mesh;
pub mod pairs;
pub mod shard;
pub mod sid;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod socketio;
mod timer;
pub mod wire;

pub use api::{
    AckFuture, AckSender, AllRooms, AppBuilder, BroadcastAckFuture, BroadcastOperator,
    EngineBuilder, EngineMode, EngineSocket, FetchSockets, Inbound, Io, IoOperator, Local,
    Namespace, Operator, OwnedEvent, Reach, Remote, RemoteSocket, Selection, Socket, SocketIoMode,
    SocketRef,
};
pub use config::{
    Config, Cookie, CookiePriority, Cors, CorsOrigin, OriginFn, OriginMatch, Parser, SameSite,
    TransportKind,
};
pub use engine::{
    Action, CloseReason, ConnectionError, ConnectionErrorContext, EngineMessage, HttpResponse,
    OutPacket, ResponseHeaders,
};
pub use id::{ConnId, NsId, SessionId, SocketId};
pub use mesh::{
    Answer, ClusterEvent, ClusterPart, ClusterPort, Count, MeshMessage, MeshPost, MeshTarget,
    Request, RequestError, RequestKind, ServerAnswers, SocketInfo,
};
pub use pairs::Pairs;
pub use shard::{App, LocalTask, Shard, SharedShard, Stats};
pub use socketio::payload;
pub use socketio::{
    AckError, Args, Binary, Broadcast, BroadcastAckError, ConnectError, DisconnectReason,
    EmitError, Encoded, Event, RoomEvent, RoomNames, SocketHandshake,
};
