//! The wire format of `@socket.io/redis-adapter` 8.3, both ways, without I/O.
//!
//! Node socket.io servers joined by the Redis adapter publish broadcasts, room operations and
//! requests on Redis channels; this crate names those channels and turns those messages into
//! typed values and back, byte for byte as Node writes them, so that a corelay server can take
//! part in a Node cluster. It opens no connection, reads no clock and draws no random number:
//! the caller brings the bytes received on a channel, the random bytes of a new uid, and
//! publishes what [`encode`](classic::BroadcastMessage::encode) returns.
//!
//! - [`classic`]: `createAdapter` (Redis pub/sub): [`classic::BroadcastMessage`] on the
//!   broadcast channels, [`classic::Request`] and [`classic::Response`] on the request and
//!   response channels.
//! - [`sharded`]: `createShardedAdapter` (Redis 7 sharded pub/sub): one envelope,
//!   [`sharded::ClusterMessage`].
//! - [`connection`]: the Redis connection that carries them, as a state machine a runtime drives
//!   ([`connection::Connection`]): RESP2, `AUTH`/`SELECT`, subscriptions kept across reconnects.
//!
//! Both adapters mix two encodings: msgpack as `notepack.io` writes it, and JSON; a receiver
//! tells them apart by the first byte ([`Format::detect`]). Values inside messages (event
//! arguments, `socket.data`, acknowledgements) are [`Value`]s (`rmpv`), binary included.
//! Decoding never panics: bad input is a [`DecodeError`]. The test vectors in `vectors/` were
//! made by the Node library itself (`vectors/generate.mjs`).
//!
//! ```
//! use corelay_redis::classic::{self, BroadcastMessage};
//! use corelay_redis::{BroadcastFlags, BroadcastOptions, Packet, Value};
//!
//! // io.to("room1").emit("hello", 1) on a Node server of the cluster arrives as:
//! let message = BroadcastMessage {
//!     uid: classic::uid([1, 2, 3, 4, 5, 6]),
//!     packet: Packet::event(Some("/"), "hello", [Value::from(1)]),
//!     opts: BroadcastOptions {
//!         rooms: vec!["room1".into()],
//!         except: vec![],
//!         flags: Some(BroadcastFlags::default()),
//!     },
//! };
//! let channel = classic::channel_for(classic::DEFAULT_KEY, "/", &message.opts);
//! assert_eq!(channel, "socket.io#/#room1#");
//! let bytes = message.encode();
//!
//! // The receiving server: which namespace and room, then the message.
//! let room = classic::parse_broadcast_channel(classic::DEFAULT_KEY, "/", &channel);
//! assert_eq!(room, Some(Some("room1")));
//! let received = BroadcastMessage::decode(&bytes)?;
//! assert_eq!(received, message);
//! assert!(BroadcastMessage::decode(b"\xc1").is_err());
//! # Ok::<(), corelay_redis::DecodeError>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod adapter;
mod bridge;
pub mod classic;
pub mod connection;
pub mod emitter;
pub mod sharded;
mod types;
mod value;

pub use rmpv::Value;
pub use types::{BroadcastFlags, BroadcastOptions, FetchedSocket, Packet};
pub use value::Format;

/// Why a message could not be decoded. Node drops such a message; so should the caller.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// Not valid msgpack (or nested deeper than 128).
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    /// Not valid JSON (or nested deeper than 128).
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Bytes left after one complete msgpack value.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// A member the message type requires is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A member holds a value of the wrong kind.
    #[error("field `{field}` is not {expected}")]
    WrongType {
        /// The member.
        field: &'static str,
        /// What it should hold.
        expected: &'static str,
    },
    /// A `type` this format does not define.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// A response with no `type` and neither `rooms` nor `sockets`.
    #[error("unrecognised response")]
    UnknownResponse,
}
