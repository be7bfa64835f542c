//! The sharded adapter (`createShardedAdapter`, Redis 7 sharded pub/sub: `SPUBLISH` /
//! `SSUBSCRIBE`), built on socket.io-adapter's `ClusterAdapter`.
//!
//! Every message is one envelope, [`ClusterMessage`] (`{type, data, uid, nsp}`), on:
//!
//! | channel | carries |
//! | --- | --- |
//! | `<prefix>#<nsp>#` | every message to all servers |
//! | `<prefix>#<nsp>#<room>#` | a broadcast without acks to exactly one room, in the dynamic subscription modes ([`channel_for`]) |
//! | `<prefix>#<nsp>#<uid>#` | the responses to server `uid` |
//!
//! `prefix` is the `channelPrefix` option (default `socket.io`). A message is JSON unless its
//! type may carry binary and its `data` holds some ([`ClusterMessage::format`]); then msgpack.
//! Note that a room channel and a response channel have the same shape: a room named like a
//! server uid shares its channel.

use rmpv::Value;

use crate::types::{
    fetched_sockets, fetched_sockets_value, BroadcastOptions, FetchedSocket, Packet,
};
use crate::value::{self, has_binary, map, strings, Fields, Format};
use crate::DecodeError;

/// The default channel prefix (the `channelPrefix` option).
pub const DEFAULT_CHANNEL_PREFIX: &str = "socket.io";

/// `<prefix>#<nsp>#`: the channel every server of the namespace subscribes to.
pub fn channel(prefix: &str, nsp: &str) -> String {
    format!("{prefix}#{nsp}#")
}

/// `<prefix>#<nsp>#<room>#`: a room's channel in the dynamic subscription modes.
pub fn room_channel(prefix: &str, nsp: &str, room: &str) -> String {
    format!("{prefix}#{nsp}#{room}#")
}

/// `<prefix>#<nsp>#<uid>#`: where the responses to server `uid` go.
pub fn response_channel(prefix: &str, nsp: &str, uid: &str) -> String {
    format!("{prefix}#{nsp}#{uid}#")
}

/// A server uid or request id as `ClusterAdapter` makes them: 8 random bytes in lowercase hex.
/// The caller brings the randomness.
pub fn uid(random: [u8; 8]) -> String {
    random.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `subscriptionMode` option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SubscriptionMode {
    /// `static`: one channel per namespace; every broadcast goes there.
    Static,
    /// `dynamic` (the default): one more channel per public room (a room that is not a socket
    /// id), subscribed while the room exists locally.
    #[default]
    Dynamic,
    /// `dynamic-private`: one more channel per room, socket ids' rooms included.
    DynamicPrivate,
}

/// Node's `looksLikeASocketId`: 20 UTF-16 code units.
fn looks_like_a_socket_id(room: &str) -> bool {
    room.encode_utf16().count() == 20
}

/// The channel Node publishes `message` on: a room's own channel for a broadcast without acks
/// to exactly one room when `mode` gives rooms channels, the namespace's otherwise.
/// Responses go to [`response_channel`] of the requester instead.
pub fn channel_for(prefix: &str, mode: SubscriptionMode, message: &ClusterMessage) -> String {
    if let ClusterBody::Broadcast {
        request_id: None,
        opts,
        ..
    } = &message.body
    {
        if let [room] = opts.rooms.as_slice() {
            let dynamic = match mode {
                SubscriptionMode::Static => false,
                SubscriptionMode::Dynamic => !looks_like_a_socket_id(room),
                SubscriptionMode::DynamicPrivate => true,
            };
            if dynamic {
                return room_channel(prefix, &message.nsp, room);
            }
        }
    }
    channel(prefix, &message.nsp)
}

/// socket.io-adapter's `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// 1: sent by a heartbeat-based cluster adapter when it starts (not by the Redis one).
    InitialHeartbeat = 1,
    /// 2: a heartbeat (not sent by the Redis adapter).
    Heartbeat = 2,
    /// 3: a broadcast, with acks when it has a `requestId`.
    Broadcast = 3,
    /// 4: make the selected sockets join rooms.
    SocketsJoin = 4,
    /// 5: make the selected sockets leave rooms.
    SocketsLeave = 5,
    /// 6: disconnect the selected sockets.
    DisconnectSockets = 6,
    /// 7: fetch the selected sockets.
    FetchSockets = 7,
    /// 8: the answer to FETCH_SOCKETS.
    FetchSocketsResponse = 8,
    /// 9: an event for the other servers.
    ServerSideEmit = 9,
    /// 10: one server's acknowledgement of SERVER_SIDE_EMIT.
    ServerSideEmitResponse = 10,
    /// 11: how many clients a broadcast with acks reached on one server.
    BroadcastClientCount = 11,
    /// 12: one client's acknowledgement of a broadcast.
    BroadcastAck = 12,
    /// 13: a heartbeat-based adapter leaving (not sent by the Redis adapter).
    AdapterClose = 13,
}

impl MessageType {
    /// The type with this number.
    pub fn from_number(n: u64) -> Option<Self> {
        use MessageType::*;
        Some(match n {
            1 => InitialHeartbeat,
            2 => Heartbeat,
            3 => Broadcast,
            4 => SocketsJoin,
            5 => SocketsLeave,
            6 => DisconnectSockets,
            7 => FetchSockets,
            8 => FetchSocketsResponse,
            9 => ServerSideEmit,
            10 => ServerSideEmitResponse,
            11 => BroadcastClientCount,
            12 => BroadcastAck,
            13 => AdapterClose,
            _ => return None,
        })
    }

    /// Whether Node checks this type's `data` for binary (and then sends msgpack).
    fn may_contain_binary(self) -> bool {
        matches!(
            self,
            MessageType::Broadcast
                | MessageType::BroadcastAck
                | MessageType::FetchSocketsResponse
                | MessageType::ServerSideEmit
                | MessageType::ServerSideEmitResponse
        )
    }
}

/// A message of the sharded adapter: `{type, data, uid, nsp}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage {
    /// The sending server (`emitter` from `@socket.io/redis-emitter`).
    pub uid: String,
    /// The namespace.
    pub nsp: String,
    /// The type and its `data`.
    pub body: ClusterBody,
}

/// The `type` and `data` of a [`ClusterMessage`], in the `data` member order Node writes.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterBody {
    /// No `data`.
    InitialHeartbeat,
    /// No `data`.
    Heartbeat,
    /// `{packet, requestId?, opts}`; the packet has no `nsp`.
    Broadcast {
        /// The packet.
        packet: Packet,
        /// Present for a broadcast with acks.
        request_id: Option<String>,
        /// Rooms, except and flags.
        opts: BroadcastOptions,
    },
    /// `{opts, rooms}`.
    SocketsJoin {
        /// The sockets selected.
        opts: BroadcastOptions,
        /// The rooms they join.
        rooms: Vec<String>,
    },
    /// `{opts, rooms}`.
    SocketsLeave {
        /// The sockets selected.
        opts: BroadcastOptions,
        /// The rooms they leave.
        rooms: Vec<String>,
    },
    /// `{opts, close}`.
    DisconnectSockets {
        /// The sockets selected.
        opts: BroadcastOptions,
        /// Whether to close the underlying connection too.
        close: bool,
    },
    /// `{opts, requestId}`.
    FetchSockets {
        /// The sockets selected.
        opts: BroadcastOptions,
        /// Matches the answers.
        request_id: String,
    },
    /// `{requestId, sockets}`.
    FetchSocketsResponse {
        /// The request answered.
        request_id: String,
        /// The answering server's selected sockets.
        sockets: Vec<FetchedSocket>,
    },
    /// `{requestId?, packet}`; `packet` is `[event, ...args]`.
    ServerSideEmit {
        /// Present when an acknowledgement is wanted.
        request_id: Option<String>,
        /// `[event, ...args]`.
        packet: Vec<Value>,
    },
    /// `{requestId, packet}`.
    ServerSideEmitResponse {
        /// The request answered.
        request_id: String,
        /// The acknowledgement's argument; absent when `undefined`.
        packet: Option<Value>,
    },
    /// `{requestId, clientCount}`.
    BroadcastClientCount {
        /// The broadcast answered.
        request_id: String,
        /// How many clients the broadcast reached on the answering server.
        client_count: u64,
    },
    /// `{requestId, packet}`.
    BroadcastAck {
        /// The broadcast answered.
        request_id: String,
        /// The acknowledgement's argument; absent when `undefined`.
        packet: Option<Value>,
    },
    /// No `data`.
    AdapterClose,
}

impl ClusterBody {
    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            ClusterBody::InitialHeartbeat => MessageType::InitialHeartbeat,
            ClusterBody::Heartbeat => MessageType::Heartbeat,
            ClusterBody::Broadcast { .. } => MessageType::Broadcast,
            ClusterBody::SocketsJoin { .. } => MessageType::SocketsJoin,
            ClusterBody::SocketsLeave { .. } => MessageType::SocketsLeave,
            ClusterBody::DisconnectSockets { .. } => MessageType::DisconnectSockets,
            ClusterBody::FetchSockets { .. } => MessageType::FetchSockets,
            ClusterBody::FetchSocketsResponse { .. } => MessageType::FetchSocketsResponse,
            ClusterBody::ServerSideEmit { .. } => MessageType::ServerSideEmit,
            ClusterBody::ServerSideEmitResponse { .. } => MessageType::ServerSideEmitResponse,
            ClusterBody::BroadcastClientCount { .. } => MessageType::BroadcastClientCount,
            ClusterBody::BroadcastAck { .. } => MessageType::BroadcastAck,
            ClusterBody::AdapterClose => MessageType::AdapterClose,
        }
    }

    /// Whether this is an answer, published on the requester's [`response_channel`].
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            ClusterBody::FetchSocketsResponse { .. }
                | ClusterBody::ServerSideEmitResponse { .. }
                | ClusterBody::BroadcastClientCount { .. }
                | ClusterBody::BroadcastAck { .. }
        )
    }

    fn data(&self) -> Option<Value> {
        let text = |s: &str| Some(Value::from(s));
        let opt_text = |s: &Option<String>| s.as_deref().map(Value::from);
        Some(match self {
            ClusterBody::InitialHeartbeat | ClusterBody::Heartbeat | ClusterBody::AdapterClose => {
                return None
            }
            ClusterBody::Broadcast {
                packet,
                request_id,
                opts,
            } => map([
                ("packet", Some(packet.to_value())),
                ("requestId", opt_text(request_id)),
                ("opts", Some(opts.to_value())),
            ]),
            ClusterBody::SocketsJoin { opts, rooms }
            | ClusterBody::SocketsLeave { opts, rooms } => map([
                ("opts", Some(opts.to_value())),
                ("rooms", Some(strings(rooms))),
            ]),
            ClusterBody::DisconnectSockets { opts, close } => map([
                ("opts", Some(opts.to_value())),
                ("close", Some(Value::from(*close))),
            ]),
            ClusterBody::FetchSockets { opts, request_id } => map([
                ("opts", Some(opts.to_value())),
                ("requestId", text(request_id)),
            ]),
            ClusterBody::FetchSocketsResponse {
                request_id,
                sockets,
            } => map([
                ("requestId", text(request_id)),
                ("sockets", Some(fetched_sockets_value(sockets))),
            ]),
            ClusterBody::ServerSideEmit { request_id, packet } => map([
                ("requestId", opt_text(request_id)),
                ("packet", Some(Value::Array(packet.clone()))),
            ]),
            ClusterBody::ServerSideEmitResponse { request_id, packet }
            | ClusterBody::BroadcastAck { request_id, packet } => {
                map([("requestId", text(request_id)), ("packet", packet.clone())])
            }
            ClusterBody::BroadcastClientCount {
                request_id,
                client_count,
            } => map([
                ("requestId", text(request_id)),
                ("clientCount", Some(Value::from(*client_count))),
            ]),
        })
    }

    fn from_data(ty: MessageType, data: Option<&Value>) -> Result<Self, DecodeError> {
        let f = || Fields::of(data.ok_or(DecodeError::MissingField("data"))?, "data");
        let opts = |f: &Fields<'_>| BroadcastOptions::from_value(f.value("opts")?);
        Ok(match ty {
            MessageType::InitialHeartbeat => ClusterBody::InitialHeartbeat,
            MessageType::Heartbeat => ClusterBody::Heartbeat,
            MessageType::AdapterClose => ClusterBody::AdapterClose,
            MessageType::Broadcast => {
                let f = f()?;
                ClusterBody::Broadcast {
                    packet: Packet::from_value(f.value("packet")?)?,
                    request_id: f.opt_string("requestId")?,
                    opts: opts(&f)?,
                }
            }
            MessageType::SocketsJoin => {
                let f = f()?;
                ClusterBody::SocketsJoin {
                    opts: opts(&f)?,
                    rooms: f.rooms("rooms")?,
                }
            }
            MessageType::SocketsLeave => {
                let f = f()?;
                ClusterBody::SocketsLeave {
                    opts: opts(&f)?,
                    rooms: f.rooms("rooms")?,
                }
            }
            MessageType::DisconnectSockets => {
                let f = f()?;
                ClusterBody::DisconnectSockets {
                    opts: opts(&f)?,
                    close: f.opt_bool("close")?.unwrap_or(false),
                }
            }
            MessageType::FetchSockets => {
                let f = f()?;
                ClusterBody::FetchSockets {
                    opts: opts(&f)?,
                    request_id: f.string("requestId")?,
                }
            }
            MessageType::FetchSocketsResponse => {
                let f = f()?;
                ClusterBody::FetchSocketsResponse {
                    request_id: f.string("requestId")?,
                    sockets: fetched_sockets(f.array("sockets")?)?,
                }
            }
            MessageType::ServerSideEmit => {
                let f = f()?;
                ClusterBody::ServerSideEmit {
                    request_id: f.opt_string("requestId")?,
                    packet: f.array("packet")?.to_vec(),
                }
            }
            MessageType::ServerSideEmitResponse => {
                let f = f()?;
                ClusterBody::ServerSideEmitResponse {
                    request_id: f.string("requestId")?,
                    packet: f.get("packet").cloned(),
                }
            }
            MessageType::BroadcastClientCount => {
                let f = f()?;
                ClusterBody::BroadcastClientCount {
                    request_id: f.string("requestId")?,
                    client_count: f.uint("clientCount")?,
                }
            }
            MessageType::BroadcastAck => {
                let f = f()?;
                ClusterBody::BroadcastAck {
                    request_id: f.string("requestId")?,
                    packet: f.get("packet").cloned(),
                }
            }
        })
    }
}

/// Node's `encode`: msgpack only for a type that may carry binary whose `data` holds some.
fn format_of(ty: MessageType, data: Option<&Value>) -> Format {
    match data {
        Some(data) if ty.may_contain_binary() && has_binary(data) => Format::Msgpack,
        _ => Format::Json,
    }
}

impl ClusterMessage {
    /// The format Node picks: msgpack when the type may carry binary and `data` holds some,
    /// JSON otherwise.
    pub fn format(&self) -> Format {
        format_of(self.body.message_type(), self.body.data().as_ref())
    }

    /// The bytes Node publishes, member order included.
    pub fn encode(&self) -> Vec<u8> {
        let ty = self.body.message_type();
        let data = self.body.data();
        let format = format_of(ty, data.as_ref());
        let value = map([
            ("type", Some(Value::from(ty as u8))),
            ("data", data),
            ("uid", Some(Value::from(self.uid.as_str()))),
            ("nsp", Some(Value::from(self.nsp.as_str()))),
        ]);
        value::write(&value, format)
    }

    /// Decodes a message received on any channel of the sharded adapter, JSON or msgpack.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = value::read(bytes, Format::detect(bytes))?;
        let f = Fields::of(&value, "message")?;
        let n = f.uint("type")?;
        let ty = MessageType::from_number(n).ok_or(DecodeError::UnknownType(n))?;
        Ok(ClusterMessage {
            uid: f.string("uid")?,
            nsp: f.string("nsp")?,
            body: ClusterBody::from_data(ty, f.get("data"))?,
        })
    }
}
