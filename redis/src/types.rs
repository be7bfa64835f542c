//! The pieces both adapters carry: a Socket.IO packet, broadcast options, a fetched socket.

use rmpv::Value;

use crate::value::{self, map, strings, Fields};
use crate::DecodeError;

/// A Socket.IO packet as the Node server holds it (`{type, data, nsp, id}`), not encoded: the
/// receiving server encodes it for its own clients. Binary attachments stay in place inside
/// `data` as [`Value::Binary`] (msgpack bin), never as placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The Socket.IO packet type: 2 (EVENT) for every broadcast Node 4.8 sends, binary
    /// arguments included (the type becomes BINARY_EVENT only when encoded for a client).
    pub packet_type: u8,
    /// The packet data: for an event, `[name, ...args]`.
    pub data: Option<Value>,
    /// The namespace. The classic adapter sets it; the sharded one leaves it out (the
    /// namespace is on the envelope). A classic receiver reads an absent one as `/`.
    pub nsp: Option<String>,
    /// The ack id. Node never sends one over Redis (the id is set after publishing).
    pub id: Option<u64>,
}

impl Packet {
    /// An EVENT packet (`type` 2) with `data` = `[event, ...args]`.
    pub fn event(nsp: Option<&str>, event: &str, args: impl IntoIterator<Item = Value>) -> Self {
        let mut data = vec![Value::from(event)];
        data.extend(args);
        Packet {
            packet_type: 2,
            data: Some(Value::Array(data)),
            nsp: nsp.map(str::to_owned),
            id: None,
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        map([
            ("type", Some(Value::from(self.packet_type))),
            ("data", self.data.clone()),
            ("nsp", self.nsp.as_deref().map(Value::from)),
            ("id", self.id.map(Value::from)),
        ])
    }

    pub(crate) fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value, "packet")?;
        let packet_type = u8::try_from(f.uint("type")?).map_err(|_| DecodeError::WrongType {
            field: "type",
            expected: "a packet type",
        })?;
        Ok(Packet {
            packet_type,
            data: f.get("data").cloned(),
            nsp: f.opt_string("nsp")?,
            id: f.opt_uint("id")?,
        })
    }
}

/// Which sockets an operation selects: those in any of `rooms` (all sockets when empty) and
/// in none of `except`. Node's `BroadcastOptions`, with its sets sent as arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BroadcastOptions {
    /// Rooms to reach (a socket's id is also a room); empty means every socket.
    pub rooms: Vec<String>,
    /// Rooms whose sockets are left out.
    pub except: Vec<String>,
    /// Broadcast flags. Present on broadcasts (`{}` when none is set), absent on the classic
    /// adapter's join, leave, disconnect and fetch requests.
    pub flags: Option<BroadcastFlags>,
}

/// The order in which a sender writes the members of a broadcast's `opts` and of its `flags`.
/// Decoding reads any order; only byte equality with a Node sender depends on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `@socket.io/redis-adapter`: `{rooms, except, flags}`, the flags in the order of the
    /// fields of [`BroadcastFlags`].
    #[default]
    Adapter,
    /// `@socket.io/redis-emitter`: `{rooms, flags, except}`; its flags (only `volatile` and
    /// `compress`) in the order they were first chained: `compress` first when `compress_first`.
    Emitter {
        /// `compress(..)` was chained before `volatile`.
        compress_first: bool,
    },
}

impl BroadcastOptions {
    pub(crate) fn to_value(&self) -> Value {
        self.to_value_in(Layout::Adapter)
    }

    pub(crate) fn to_value_in(&self, layout: Layout) -> Value {
        let rooms = Some(strings(&self.rooms));
        let except = Some(strings(&self.except));
        let flags = self.flags.as_ref().map(|f| f.to_value_in(layout));
        match layout {
            Layout::Adapter => map([("rooms", rooms), ("except", except), ("flags", flags)]),
            Layout::Emitter { .. } => map([("rooms", rooms), ("flags", flags), ("except", except)]),
        }
    }

    pub(crate) fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value, "opts")?;
        Ok(BroadcastOptions {
            rooms: if f.has("rooms") {
                f.rooms("rooms")?
            } else {
                Vec::new()
            },
            except: if f.has("except") {
                f.rooms("except")?
            } else {
                Vec::new()
            },
            flags: match f.get("flags") {
                None | Some(Value::Nil) => None,
                Some(flags) => Some(BroadcastFlags::from_value(flags)?),
            },
        })
    }
}

/// socket.io's `BroadcastFlags`. Only the flags that are set are on the wire; Node writes them
/// in the order the application chained them, this crate in the order of the fields below
/// (unknown flags are dropped when decoding).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// `volatile`: the packet may be dropped when a client is not ready.
    pub volatile: Option<bool>,
    /// `compress(bool)`.
    pub compress: Option<bool>,
    /// `local`: this server only (Node never publishes a local broadcast).
    pub local: Option<bool>,
    /// `broadcast`: set by `socket.broadcast`.
    pub broadcast: Option<bool>,
    /// `binary` (socket.io 2 leftover).
    pub binary: Option<bool>,
    /// `timeout(ms)`: the ack timeout of a broadcast with acks, in milliseconds.
    pub timeout: Option<u64>,
    /// `expectSingleResponse`: set by a `to(socketId).emitWithAck`.
    pub expect_single_response: Option<bool>,
}

impl BroadcastFlags {
    pub(crate) fn to_value_in(&self, layout: Layout) -> Value {
        let mut first = [
            ("volatile", self.volatile.map(Value::from)),
            ("compress", self.compress.map(Value::from)),
        ];
        if let Layout::Emitter {
            compress_first: true,
        } = layout
        {
            first.swap(0, 1);
        }
        let [a, b] = first;
        map([
            a,
            b,
            ("local", self.local.map(Value::from)),
            ("broadcast", self.broadcast.map(Value::from)),
            ("binary", self.binary.map(Value::from)),
            ("timeout", self.timeout.map(Value::from)),
            (
                "expectSingleResponse",
                self.expect_single_response.map(Value::from),
            ),
        ])
    }

    pub(crate) fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value, "flags")?;
        // A flag set to `undefined` is absent on the wire; `null` is read the same way.
        let flag = |key| match f.get(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(_) => f.opt_bool(key),
        };
        Ok(BroadcastFlags {
            volatile: flag("volatile")?,
            compress: flag("compress")?,
            local: flag("local")?,
            broadcast: flag("broadcast")?,
            binary: flag("binary")?,
            timeout: match f.get("timeout") {
                None | Some(Value::Nil) => None,
                Some(v) => Some(value::uint(v, "timeout")?),
            },
            expect_single_response: flag("expectSingleResponse")?,
        })
    }
}

/// One socket in a fetch-sockets answer: what Node's `RemoteSocket` is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedSocket {
    /// The socket id.
    pub id: String,
    /// The handshake (`headers`, `time`, `address`, `xdomain`, `secure`, `issued`, `url`,
    /// `query`, `auth`), as an object.
    pub handshake: Value,
    /// The rooms the socket is in, its own id included.
    pub rooms: Vec<String>,
    /// `socket.data`; absent when it is `undefined`.
    pub data: Option<Value>,
}

impl FetchedSocket {
    pub(crate) fn to_value(&self) -> Value {
        map([
            ("id", Some(Value::from(self.id.as_str()))),
            ("handshake", Some(self.handshake.clone())),
            ("rooms", Some(strings(&self.rooms))),
            ("data", self.data.clone()),
        ])
    }

    pub(crate) fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let f = Fields::of(value, "sockets")?;
        Ok(FetchedSocket {
            id: f.string("id")?,
            handshake: f
                .get("handshake")
                .cloned()
                .unwrap_or(Value::Map(Vec::new())),
            rooms: if f.has("rooms") {
                f.rooms("rooms")?
            } else {
                Vec::new()
            },
            data: f.get("data").cloned(),
        })
    }
}

pub(crate) fn fetched_sockets(items: &[Value]) -> Result<Vec<FetchedSocket>, DecodeError> {
    items.iter().map(FetchedSocket::from_value).collect()
}

pub(crate) fn fetched_sockets_value(sockets: &[FetchedSocket]) -> Value {
    Value::Array(sockets.iter().map(FetchedSocket::to_value).collect())
}
