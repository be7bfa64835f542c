//! Emitting into a Socket.IO cluster from a process that serves no client, as
//! `@socket.io/redis-emitter` 5.x does.
//!
//! The servers of a cluster joined by the classic Redis adapter ([`classic`]) act on what is
//! published on their channels, whoever publishes it. [`Emitter`] builds those publications,
//! byte for byte as the Node emitter builds them for the same call, and leaves the publishing
//! to the caller (it is sans-IO: each call returns a [`Publish`], a channel and a payload).
//! [`BlockingEmitter`] publishes them itself over a blocking TCP connection to Redis.
//!
//! ```
//! use corelay_redis::classic::BroadcastMessage;
//! use corelay_redis::emitter::{Binary, Emitter};
//!
//! // emitter.of("/chat").to("room1").emit("hello", "world", 42, Buffer.from([1, 2]))
//! let publish = Emitter::new()
//!     .of("/chat")
//!     .to("room1")
//!     .emit("hello", ("world", 42, Binary::from(vec![1, 2])))?;
//! assert_eq!(publish.channel, "socket.io#/chat#room1#");
//! let message = BroadcastMessage::decode(&publish.payload)?;
//! assert_eq!(message.uid, "emitter");
//! assert_eq!(message.opts.rooms, ["room1"]);
//!
//! // The reserved event names are refused, as the Node emitter refuses them.
//! assert!(Emitter::new().emit("disconnect", ()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Wire format
//!
//! With `key` the prefix (`socket.io` unless [`Emitter::with_key`]) and `nsp` the namespace
//! (`/` unless [`Emitter::of`]):
//!
//! | call | channel | payload |
//! | --- | --- | --- |
//! | [`emit`](Emitter::emit) to all, or to two rooms or more | `<key>#<nsp>#` | msgpack `["emitter", packet, opts]` |
//! | [`emit`](Emitter::emit) to exactly one room | `<key>#<nsp>#<room>#` | the same |
//! | [`sockets_join`](Emitter::sockets_join) | `<key>-request#<nsp>#` | JSON `{"type":2,"opts":{"rooms":[..],"except":[..]},"rooms":[..]}` |
//! | [`sockets_leave`](Emitter::sockets_leave) | `<key>-request#<nsp>#` | JSON `{"type":3,"opts":{..},"rooms":[..]}` |
//! | [`disconnect_sockets`](Emitter::disconnect_sockets) | `<key>-request#<nsp>#` | JSON `{"type":4,"opts":{..},"close":bool}` |
//! | [`server_side_emit`](Emitter::server_side_emit) | `<key>-request#<nsp>#` | JSON `{"uid":"emitter","type":6,"data":[event, ...args]}` |
//!
//! `packet` is `{type: 2, data: [event, ...args], nsp}` (type 2, EVENT, binary arguments
//! included: they stay in place as msgpack bin) and `opts` is `{rooms, flags, except}`, with
//! `flags` `{}` or holding `volatile: true` and `compress: bool`, in the order they were
//! first chained. These are [`classic::BroadcastMessage`] and [`classic::Request`], and
//! decode as such. Where the emitter differs from a Node server's adapter:
//!
//! - its uid is always `"emitter"`, so no server takes a message for its own;
//! - a broadcast's `opts` are `{rooms, flags, except}` (the adapter writes `{rooms, except,
//!   flags}`); flags other than `volatile` and `compress` do not exist (no acknowledgements,
//!   no `local`, no `timeout`);
//! - join, leave and disconnect requests carry no `uid` (and no `requestId`): nobody answers;
//! - `serverSideEmit` carries no `requestId` (no acknowledgement).
//!
//! Rooms and excepted rooms are sets, as in Node: a room named twice counts once (so
//! `.to("a").to("a")` publishes on the room's channel).
//!
//! # Arguments
//!
//! The arguments of an event are any `serde::Serialize` value, following socket.io's
//! `emit(event, ...args)`: a tuple is the argument list (`("a", 1)` is two arguments, `(x,)`
//! one), `()` is none, [`Args`] a list made at run time, any other value is one argument. (serde serializes a fixed-size array
//! `[T; N]` as a tuple, so it too is an argument list; a `Vec` or a slice is one argument, an
//! array.) Values become the JavaScript values
//! serde_json's text would parse to (structs and maps are objects, `None` is `null`; see
//! [`Binary`] for bytes), written as `notepack.io` writes them: integers in their smallest
//! form, other numbers as float64. One known difference: an integral number of magnitude
//! 2^64 or more (`1e300`) is written here as the float64 it is, where notepack overflows and
//! writes it as a wrapped-around 64-bit integer.

mod blocking;
mod ser;

use std::time::Duration;

use bytes::Bytes;
use serde::{Serialize, Serializer};

use crate::classic::{self, BroadcastMessage, Request};
use crate::connection::{ConnectionError, Reply, UrlError};
use crate::types::Layout;
use crate::{BroadcastFlags, BroadcastOptions, Packet, Value};

pub use blocking::{BlockingEmitter, BlockingOperator};

/// The uid every emitter message carries.
pub const UID: &str = "emitter";

/// The event names [`Emitter::emit`] refuses (the Node emitter's `RESERVED_EVENTS`): the
/// events a Socket.IO client or server emits for itself, the ones a server refuses to emit.
pub use corelay_core::wire::sio::RESERVED_EVENTS;

/// The event names [`Emitter::server_side_emit`] refuses: a namespace's own events
/// (socket.io's `Namespace` `RESERVED_EVENTS`, which its `serverSideEmit` refuses). The Node
/// emitter sends them, and a receiving server would then call its `connection` listeners with
/// the arguments instead of a socket.
pub const RESERVED_SERVER_EVENTS: [&str; 3] = ["connect", "connection", "new_namespace"];

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The event name is reserved ([`RESERVED_EVENTS`], [`RESERVED_SERVER_EVENTS`]).
    #[error("\"{0}\" is a reserved event name")]
    ReservedEvent(String),
    /// The arguments could not be turned into JavaScript values (a map key that is not a
    /// string, an integer, a `char` or a `bool`; an error of a `Serialize` impl).
    #[error("the arguments can not be sent: {0}")]
    Serialize(String),
    /// The Redis URL is not one this crate can connect to.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// Connecting to, writing to or reading from Redis failed.
    #[error("Redis connection: {0}")]
    Io(#[from] std::io::Error),
    /// Redis refused `AUTH` or `SELECT`, or sent bytes that are not RESP2.
    #[error("Redis connection: {0}")]
    Connection(#[from] ConnectionError),
    /// Redis closed the connection.
    #[error("the Redis connection closed")]
    Closed,
    /// Redis answered with an error (`-ERR ...`, `-NOAUTH ...`); the text is Redis'.
    #[error("Redis: {0}")]
    Redis(String),
    /// No answer within the timeout.
    #[error("no answer from Redis within {0:?}")]
    Timeout(Duration),
    /// `PUBLISH` was answered with something else than a number of receivers.
    #[error("unexpected reply from Redis: {0:?}")]
    UnexpectedReply(Reply),
}

/// One message to publish: `PUBLISH channel payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The Redis channel.
    pub channel: Bytes,
    /// The message: msgpack for a broadcast, JSON for a request.
    pub payload: Bytes,
}

/// Bytes that travel as binary: a Node `Buffer` for the receiving servers, msgpack bin on the
/// wire, an attachment for the clients. (A `Vec<u8>` or `&[u8]` is an array of numbers,
/// as serde_json writes it; wrap it to send bytes.) In a JSON message
/// ([`Emitter::server_side_emit`]) binary is written as `JSON.stringify` writes a `Buffer`:
/// `{"type":"Buffer","data":[...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Binary(pub Bytes);

impl<T: Into<Bytes>> From<T> for Binary {
    fn from(bytes: T) -> Self {
        Binary(bytes.into())
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

/// An argument list whose length is known at run time: `Args(vec![a, b])` is two arguments,
/// as the tuple `(a, b)` is (serde has tuples up to 16 elements; this has no bound). Nested
/// inside an argument it is an array.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args<T>(pub Vec<T>);

impl<T: Serialize> Serialize for Args<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

/// One room or several: `"room"`, `String`, `["a", "b"]`, `vec![..]`, `&[..]`, as Node's
/// `to(room | rooms)` takes them.
pub trait Rooms {
    /// The room names, in order.
    fn into_rooms(self) -> Vec<String>;
}

impl Rooms for &str {
    fn into_rooms(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl Rooms for String {
    fn into_rooms(self) -> Vec<String> {
        vec![self]
    }
}

impl Rooms for &String {
    fn into_rooms(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<T: Into<String>> Rooms for Vec<T> {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String>, const N: usize> Rooms for [T; N] {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Clone + Into<String>> Rooms for &[T] {
    fn into_rooms(self) -> Vec<String> {
        self.iter().cloned().map(Into::into).collect()
    }
}

/// Adds to a set kept in insertion order (a JavaScript `Set`).
fn add_all(set: &mut Vec<String>, rooms: impl Rooms) {
    for room in rooms.into_rooms() {
        if !set.contains(&room) {
            set.push(room);
        }
    }
}

/// The sans-IO emitter: which namespace, rooms and flags; then what to publish.
///
/// A builder: the selecting methods take and return it by value (clone one to reuse it as a
/// base), the final ones ([`emit`](Self::emit), [`sockets_join`](Self::sockets_join), ...)
/// borrow it and return the [`Publish`] to send. See the [module docs](self) for the bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitter {
    key: String,
    nsp: String,
    rooms: Vec<String>,
    except: Vec<String>,
    flags: BroadcastFlags,
    /// `compress` was chained before `volatile` (the flags' member order).
    compress_first: bool,
}

impl Default for Emitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Emitter {
    /// An emitter for the namespace `/`, prefix `socket.io`, to every socket.
    pub fn new() -> Self {
        Emitter {
            key: classic::DEFAULT_KEY.to_owned(),
            nsp: "/".to_owned(),
            rooms: Vec::new(),
            except: Vec::new(),
            flags: BroadcastFlags::default(),
            compress_first: false,
        }
    }

    /// The channel prefix: the `key` option of the servers' adapter.
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// The namespace; a leading `/` is added when missing, as Node's `of()` does.
    pub fn of(mut self, nsp: impl AsRef<str>) -> Self {
        let nsp = nsp.as_ref();
        self.nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        self
    }

    /// Selects the sockets in these rooms (in addition to those already selected). With no
    /// room selected, every socket of the namespace is.
    pub fn to(mut self, rooms: impl Rooms) -> Self {
        add_all(&mut self.rooms, rooms);
        self
    }

    /// The same as [`to`](Self::to) (`in` is a Rust keyword).
    pub fn in_(self, rooms: impl Rooms) -> Self {
        self.to(rooms)
    }

    /// Leaves out the sockets in these rooms.
    pub fn except(mut self, rooms: impl Rooms) -> Self {
        add_all(&mut self.except, rooms);
        self
    }

    /// The event may be dropped for a client that is not ready to receive it.
    pub fn volatile(mut self) -> Self {
        if self.flags.compress.is_none() {
            self.compress_first = false;
        }
        self.flags.volatile = Some(true);
        self
    }

    /// Whether the event is compressed (per-message deflate) for the clients.
    pub fn compress(mut self, compress: bool) -> Self {
        if self.flags.volatile.is_none() && self.flags.compress.is_none() {
            self.compress_first = true;
        }
        self.flags.compress = Some(compress);
        self
    }

    /// The channel prefix.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The rooms, excepted rooms and flags selected so far.
    pub fn options(&self) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            flags: Some(self.flags.clone()),
        }
    }

    /// `emit(event, ...args)`: an event for the selected clients, on the broadcast channel (a
    /// room's channel when exactly one room is selected). Refuses the [`RESERVED_EVENTS`].
    pub fn emit(&self, event: &str, args: impl Serialize) -> Result<Publish, Error> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        let args = ser::to_args(&args)?;
        let message = BroadcastMessage {
            uid: UID.to_owned(),
            packet: Packet::event(Some(&self.nsp), event, args),
            opts: self.options(),
        };
        let channel = classic::channel_for(&self.key, &self.nsp, &message.opts);
        let layout = Layout::Emitter {
            compress_first: self.compress_first,
        };
        Ok(Publish {
            channel: Bytes::from(channel),
            payload: Bytes::from(message.encode_in(layout)),
        })
    }

    /// `socketsJoin(rooms)`: the selected sockets join these rooms, on every server.
    pub fn sockets_join(&self, rooms: impl Rooms) -> Publish {
        self.request(Request::RemoteJoin {
            uid: None,
            opts: self.selection(),
            rooms: rooms.into_rooms(),
        })
    }

    /// `socketsLeave(rooms)`: the selected sockets leave these rooms, on every server.
    pub fn sockets_leave(&self, rooms: impl Rooms) -> Publish {
        self.request(Request::RemoteLeave {
            uid: None,
            opts: self.selection(),
            rooms: rooms.into_rooms(),
        })
    }

    /// `disconnectSockets(close)`: the selected sockets are disconnected; with `close`, their
    /// underlying connections are closed too.
    pub fn disconnect_sockets(&self, close: bool) -> Publish {
        self.request(Request::RemoteDisconnect {
            uid: None,
            opts: self.selection(),
            close,
        })
    }

    /// `serverSideEmit(event, ...args)`: an event for the servers themselves (their
    /// namespace's listeners), without acknowledgement. Rooms and flags play no part.
    /// Refuses the [`RESERVED_SERVER_EVENTS`].
    pub fn server_side_emit(&self, event: &str, args: impl Serialize) -> Result<Publish, Error> {
        if RESERVED_SERVER_EVENTS.contains(&event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        let mut data = vec![Value::from(event)];
        data.extend(ser::to_args(&args)?);
        Ok(self.request(Request::ServerSideEmit {
            uid: Some(UID.to_owned()),
            request_id: None,
            data,
        }))
    }

    /// The selection of a request: rooms and except, no flags.
    fn selection(&self) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            flags: None,
        }
    }

    fn request(&self, request: Request) -> Publish {
        Publish {
            channel: Bytes::from(classic::request_channel(&self.key, &self.nsp)),
            payload: Bytes::from(request.encode()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_are_refused_and_others_are_not() {
        for name in RESERVED_EVENTS {
            let error = Emitter::new().emit(name, ()).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("\"{name}\" is a reserved event name")
            );
        }
        for name in RESERVED_SERVER_EVENTS {
            assert!(matches!(
                Emitter::new().server_side_emit(name, ()),
                Err(Error::ReservedEvent(n)) if n == name
            ));
        }
        // As in Node, each list is checked by its own call only.
        assert!(Emitter::new().emit("connection", ()).is_ok());
        assert!(Emitter::new().server_side_emit("disconnect", ()).is_ok());
    }

    #[test]
    fn of_adds_the_leading_slash() {
        assert_eq!(Emitter::new().of("chat").nsp(), "/chat");
        assert_eq!(Emitter::new().of("/chat").nsp(), "/chat");
        assert_eq!(Emitter::new().of("").nsp(), "/");
    }

    #[test]
    fn rooms_are_sets() {
        let e = Emitter::new()
            .to("a")
            .in_(["b", "a"])
            .to(vec!["c".to_string()])
            .except("x")
            .except(&["x", "y"][..]);
        let opts = e.options();
        assert_eq!(opts.rooms, ["a", "b", "c"]);
        assert_eq!(opts.except, ["x", "y"]);
        let one = Emitter::new().to("a").to("a").emit("ev", ()).unwrap();
        assert_eq!(one.channel, "socket.io#/#a#");
    }

    #[test]
    fn flags_keep_the_order_they_were_first_chained_in() {
        let order = |e: Emitter| {
            let p = e.emit("ev", ()).unwrap();
            let text = String::from_utf8_lossy(&p.payload).into_owned();
            (text.find("volatile"), text.find("compress"))
        };
        let (v, c) = order(Emitter::new().volatile().compress(false));
        assert!(v < c);
        let (v, c) = order(Emitter::new().compress(true).volatile().compress(false));
        assert!(c < v);
        let (v, c) = order(Emitter::new().volatile().compress(true).volatile());
        assert!(v < c);
        let decoded = BroadcastMessage::decode(
            &Emitter::new()
                .compress(true)
                .volatile()
                .compress(false)
                .emit("ev", ())
                .unwrap()
                .payload,
        )
        .unwrap();
        assert_eq!(decoded.opts.flags.unwrap().compress, Some(false));
    }

    #[test]
    fn requests_decode_as_the_classic_requests() {
        let e = Emitter::new().with_key("k").of("/n").to("r").except("x");
        let p = e.sockets_join("j");
        assert_eq!(p.channel, "k-request#/n#");
        assert_eq!(
            Request::decode(&p.payload).unwrap(),
            Request::RemoteJoin {
                uid: None,
                opts: BroadcastOptions {
                    rooms: vec!["r".into()],
                    except: vec!["x".into()],
                    flags: None,
                },
                rooms: vec!["j".into()],
            }
        );
        let p = e
            .server_side_emit("hi", (1, Binary::from(vec![7])))
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&p.payload).unwrap(),
            r#"{"uid":"emitter","type":6,"data":["hi",1,{"type":"Buffer","data":[7]}]}"#
        );
    }

    #[test]
    fn a_bad_map_key_is_a_serialize_error() {
        let args = std::collections::BTreeMap::from([(vec![1], 2)]);
        assert!(matches!(
            Emitter::new().emit("ev", args),
            Err(Error::Serialize(_))
        ));
    }
}
