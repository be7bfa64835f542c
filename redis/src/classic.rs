//! The classic adapter (`createAdapter`): Redis pub/sub, `PUBLISH` / `PSUBSCRIBE`.
//!
//! Channels, with `key` the adapter's `key` option (default `socket.io`):
//!
//! | channel | carries | subscribed with |
//! | --- | --- | --- |
//! | `<key>#<nsp>#` | [`BroadcastMessage`] to several rooms or to all | `PSUBSCRIBE <key>#<nsp>#*` |
//! | `<key>#<nsp>#<room>#` | [`BroadcastMessage`] to exactly one room | the same pattern |
//! | `<key>-request#<nsp>#` | [`Request`] | `SUBSCRIBE` |
//! | `<key>-response#<nsp>#` | [`Response`] | `SUBSCRIBE` |
//! | `<key>-response#<nsp>#<uid>#` | [`Response`] when `publishOnSpecificResponseChannel` | `SUBSCRIBE` |
//!
//! Broadcasts are always msgpack. Requests and responses are JSON, except the BROADCAST
//! request (a broadcast with acks) and the BROADCAST_ACK response, which are msgpack; a
//! receiver tells them apart by the first byte ([`Format::detect`]). A receiver ignores
//! messages whose `uid` is its own.

use rmpv::Value;

use crate::types::{
    fetched_sockets, fetched_sockets_value, BroadcastOptions, FetchedSocket, Layout, Packet,
};
use crate::value::{self, map, strings, Fields, Format};
use crate::DecodeError;

/// The default channel prefix (the `key` option).
pub const DEFAULT_KEY: &str = "socket.io";

/// `<key>#<nsp>#`: broadcasts to all sockets or to several rooms; with `*` appended, the
/// pattern a server `PSUBSCRIBE`s to.
pub fn broadcast_channel(key: &str, nsp: &str) -> String {
    format!("{key}#{nsp}#")
}

/// `<key>#<nsp>#<room>#`: a broadcast to exactly one room.
pub fn room_channel(key: &str, nsp: &str, room: &str) -> String {
    format!("{key}#{nsp}#{room}#")
}

/// `<key>-request#<nsp>#`.
pub fn request_channel(key: &str, nsp: &str) -> String {
    format!("{key}-request#{nsp}#")
}

/// `<key>-response#<nsp>#`: where responses go, unless `publishOnSpecificResponseChannel`.
pub fn response_channel(key: &str, nsp: &str) -> String {
    format!("{key}-response#{nsp}#")
}

/// `<key>-response#<nsp>#<uid>#`: the requester's own response channel, used by servers
/// with `publishOnSpecificResponseChannel`; every server subscribes to its own.
pub fn specific_response_channel(key: &str, nsp: &str, uid: &str) -> String {
    format!("{key}-response#{nsp}#{uid}#")
}

/// The channel Node publishes a broadcast on: the room's channel when `opts` names exactly
/// one room, the namespace's otherwise.
pub fn channel_for(key: &str, nsp: &str, opts: &BroadcastOptions) -> String {
    match opts.rooms.as_slice() {
        [room] => room_channel(key, nsp, room),
        _ => broadcast_channel(key, nsp),
    }
}

/// For a message received on a broadcast channel of `nsp`: `Some(None)` for the namespace's
/// channel, `Some(Some(room))` for a room's, `None` for a channel of another namespace or
/// prefix. (Node then drops a room broadcast when it has no such room locally.)
pub fn parse_broadcast_channel<'a>(
    key: &str,
    nsp: &str,
    channel: &'a str,
) -> Option<Option<&'a str>> {
    let rest = channel
        .strip_prefix(key)?
        .strip_prefix('#')?
        .strip_prefix(nsp)?
        .strip_prefix('#')?;
    if rest.is_empty() {
        Some(None)
    } else {
        rest.strip_suffix('#').map(Some)
    }
}

/// The alphabet of `uid2`, which makes Node's server uids and request ids.
const UID_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A server uid or request id as the classic adapter makes them (`uid2(6)`): six characters
/// of the URL-safe base64 alphabet, one per random byte (`byte % 64`). The caller brings the
/// randomness; this crate has none.
pub fn uid(random: [u8; 6]) -> String {
    random
        .iter()
        .map(|b| char::from(UID_CHARS[usize::from(b % 64)]))
        .collect()
}

/// A broadcast: `[uid, packet, opts]` in msgpack on a broadcast or room channel.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastMessage {
    /// The sending server's uid (`emitter` from `@socket.io/redis-emitter`).
    pub uid: String,
    /// The packet, with its `nsp`.
    pub packet: Packet,
    /// Rooms, except and flags.
    pub opts: BroadcastOptions,
}

impl BroadcastMessage {
    /// The msgpack bytes Node publishes.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_in(Layout::Adapter)
    }

    /// The msgpack bytes, `opts` laid out as `layout` says (the emitter's order differs).
    pub(crate) fn encode_in(&self, layout: Layout) -> Vec<u8> {
        let value = Value::Array(vec![
            Value::from(self.uid.as_str()),
            self.packet.to_value(),
            self.opts.to_value_in(layout),
        ]);
        value::write(&value, Format::Msgpack)
    }

    /// Decodes a message received on a broadcast channel.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = value::read(bytes, Format::Msgpack)?;
        match value {
            Value::Array(items) => match items.as_slice() {
                [uid, packet, opts, ..] => Ok(BroadcastMessage {
                    uid: value::string(uid, "uid")?,
                    packet: Packet::from_value(packet)?,
                    opts: BroadcastOptions::from_value(opts)?,
                }),
                _ => Err(DecodeError::MissingField("opts")),
            },
            _ => Err(DecodeError::WrongType {
                field: "broadcast",
                expected: "an array",
            }),
        }
    }
}

/// The `type` of a request (and of the responses that carry one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RequestType {
    /// 0: socket ids in rooms. Answered by 8.3, no longer sent by it.
    Sockets = 0,
    /// 1: every room of every server.
    AllRooms = 1,
    /// 2: make the selected sockets join rooms.
    RemoteJoin = 2,
    /// 3: make the selected sockets leave rooms.
    RemoteLeave = 3,
    /// 4: disconnect the selected sockets.
    RemoteDisconnect = 4,
    /// 5: fetch the selected sockets.
    RemoteFetch = 5,
    /// 6: an event for the other servers (and its acknowledgement).
    ServerSideEmit = 6,
    /// 7: a broadcast with acks.
    Broadcast = 7,
    /// 8: how many clients a broadcast with acks reached on one server.
    BroadcastClientCount = 8,
    /// 9: one client's acknowledgement of a broadcast.
    BroadcastAck = 9,
}

impl RequestType {
    /// The type with this number.
    pub fn from_number(n: u64) -> Option<Self> {
        use RequestType::*;
        Some(match n {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// A message on the request channel.
///
/// `uid` is optional where `@socket.io/redis-emitter` leaves it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `{uid, requestId, type: 0, rooms}`: answered with [`Response::Sockets`].
    Sockets {
        /// The requester.
        uid: String,
        /// Matches the answers.
        request_id: String,
        /// The rooms whose sockets are wanted; empty for all.
        rooms: Vec<String>,
    },
    /// `{uid, requestId, type: 1}`: answered with [`Response::AllRooms`].
    AllRooms {
        /// The requester.
        uid: String,
        /// Matches the answers.
        request_id: String,
    },
    /// `{uid, type: 2, opts: {rooms, except}, rooms}`: no answer.
    RemoteJoin {
        /// The requester.
        uid: Option<String>,
        /// The sockets selected.
        opts: BroadcastOptions,
        /// The rooms they join.
        rooms: Vec<String>,
    },
    /// `{uid, type: 3, opts: {rooms, except}, rooms}`: no answer.
    RemoteLeave {
        /// The requester.
        uid: Option<String>,
        /// The sockets selected.
        opts: BroadcastOptions,
        /// The rooms they leave.
        rooms: Vec<String>,
    },
    /// `{uid, type: 4, opts: {rooms, except}, close}`: no answer.
    RemoteDisconnect {
        /// The requester.
        uid: Option<String>,
        /// The sockets selected.
        opts: BroadcastOptions,
        /// Whether to close the underlying connection too.
        close: bool,
    },
    /// `{uid, requestId, type: 5, opts: {rooms, except}}`: answered with
    /// [`Response::RemoteFetch`].
    RemoteFetch {
        /// The requester.
        uid: String,
        /// Matches the answers.
        request_id: String,
        /// The sockets selected.
        opts: BroadcastOptions,
    },
    /// `{uid, requestId?, type: 6, data}`: with a `requestId`, each server answers with
    /// [`Response::ServerSideEmit`].
    ServerSideEmit {
        /// The requester.
        uid: Option<String>,
        /// Present when an acknowledgement is wanted.
        request_id: Option<String>,
        /// `[event, ...args]`.
        data: Vec<Value>,
    },
    /// msgpack `{uid, requestId, type: 7, packet, opts}`: a broadcast with acks, answered with
    /// [`Response::BroadcastClientCount`] then one [`Response::BroadcastAck`] per client.
    Broadcast {
        /// The requester.
        uid: String,
        /// Matches the answers.
        request_id: String,
        /// The packet, with its `nsp`.
        packet: Packet,
        /// Rooms, except and flags (`timeout` among them).
        opts: BroadcastOptions,
    },
}

impl Request {
    /// The request's type.
    pub fn request_type(&self) -> RequestType {
        match self {
            Request::Sockets { .. } => RequestType::Sockets,
            Request::AllRooms { .. } => RequestType::AllRooms,
            Request::RemoteJoin { .. } => RequestType::RemoteJoin,
            Request::RemoteLeave { .. } => RequestType::RemoteLeave,
            Request::RemoteDisconnect { .. } => RequestType::RemoteDisconnect,
            Request::RemoteFetch { .. } => RequestType::RemoteFetch,
            Request::ServerSideEmit { .. } => RequestType::ServerSideEmit,
            Request::Broadcast { .. } => RequestType::Broadcast,
        }
    }

    /// The requesting server's uid, when the message names it.
    pub fn uid(&self) -> Option<&str> {
        match self {
            Request::Sockets { uid, .. }
            | Request::AllRooms { uid, .. }
            | Request::RemoteFetch { uid, .. }
            | Request::Broadcast { uid, .. } => Some(uid),
            Request::RemoteJoin { uid, .. }
            | Request::RemoteLeave { uid, .. }
            | Request::RemoteDisconnect { uid, .. }
            | Request::ServerSideEmit { uid, .. } => uid.as_deref(),
        }
    }

    /// The format Node uses for this request: msgpack for [`Request::Broadcast`], JSON for
    /// the others.
    pub fn format(&self) -> Format {
        match self {
            Request::Broadcast { .. } => Format::Msgpack,
            _ => Format::Json,
        }
    }

    /// The bytes Node publishes on the request channel, member order included.
    pub fn encode(&self) -> Vec<u8> {
        let ty = Some(Value::from(self.request_type() as u8));
        let text = |s: &str| Some(Value::from(s));
        let value = match self {
            Request::Sockets {
                uid,
                request_id,
                rooms,
            } => map([
                ("uid", text(uid)),
                ("requestId", text(request_id)),
                ("type", ty),
                ("rooms", Some(strings(rooms))),
            ]),
            Request::AllRooms { uid, request_id } => map([
                ("uid", text(uid)),
                ("requestId", text(request_id)),
                ("type", ty),
            ]),
            Request::RemoteJoin { uid, opts, rooms }
            | Request::RemoteLeave { uid, opts, rooms } => map([
                ("uid", uid.as_deref().and_then(text)),
                ("type", ty),
                ("opts", Some(opts.to_value())),
                ("rooms", Some(strings(rooms))),
            ]),
            Request::RemoteDisconnect { uid, opts, close } => map([
                ("uid", uid.as_deref().and_then(text)),
                ("type", ty),
                ("opts", Some(opts.to_value())),
                ("close", Some(Value::from(*close))),
            ]),
            Request::RemoteFetch {
                uid,
                request_id,
                opts,
            } => map([
                ("uid", text(uid)),
                ("requestId", text(request_id)),
                ("type", ty),
                ("opts", Some(opts.to_value())),
            ]),
            Request::ServerSideEmit {
                uid,
                request_id,
                data,
            } => map([
                ("uid", uid.as_deref().and_then(text)),
                ("requestId", request_id.as_deref().and_then(text)),
                ("type", ty),
                ("data", Some(Value::Array(data.clone()))),
            ]),
            Request::Broadcast {
                uid,
                request_id,
                packet,
                opts,
            } => map([
                ("uid", text(uid)),
                ("requestId", text(request_id)),
                ("type", ty),
                ("packet", Some(packet.to_value())),
                ("opts", Some(opts.to_value())),
            ]),
        };
        value::write(&value, self.format())
    }

    /// Decodes a message received on the request channel, JSON or msgpack.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = value::read(bytes, Format::detect(bytes))?;
        let f = Fields::of(&value, "request")?;
        let n = f.uint("type")?;
        let ty = RequestType::from_number(n).ok_or(DecodeError::UnknownType(n))?;
        Ok(match ty {
            RequestType::Sockets => Request::Sockets {
                uid: f.string("uid")?,
                request_id: f.string("requestId")?,
                rooms: if f.has("rooms") {
                    f.rooms("rooms")?
                } else {
                    Vec::new()
                },
            },
            RequestType::AllRooms => Request::AllRooms {
                uid: f.string("uid")?,
                request_id: f.string("requestId")?,
            },
            RequestType::RemoteJoin => Request::RemoteJoin {
                uid: f.opt_string("uid")?,
                opts: BroadcastOptions::from_value(f.value("opts")?)?,
                rooms: f.rooms("rooms")?,
            },
            RequestType::RemoteLeave => Request::RemoteLeave {
                uid: f.opt_string("uid")?,
                opts: BroadcastOptions::from_value(f.value("opts")?)?,
                rooms: f.rooms("rooms")?,
            },
            RequestType::RemoteDisconnect => Request::RemoteDisconnect {
                uid: f.opt_string("uid")?,
                opts: BroadcastOptions::from_value(f.value("opts")?)?,
                // Node passes `close` on as is; absent means false.
                close: f.opt_bool("close")?.unwrap_or(false),
            },
            RequestType::RemoteFetch => Request::RemoteFetch {
                uid: f.string("uid")?,
                request_id: f.string("requestId")?,
                opts: BroadcastOptions::from_value(f.value("opts")?)?,
            },
            RequestType::ServerSideEmit => Request::ServerSideEmit {
                uid: f.opt_string("uid")?,
                request_id: f.opt_string("requestId")?,
                data: f.array("data")?.to_vec(),
            },
            RequestType::Broadcast => Request::Broadcast {
                uid: f.string("uid")?,
                request_id: f.string("requestId")?,
                packet: Packet::from_value(f.value("packet")?)?,
                opts: BroadcastOptions::from_value(f.value("opts")?)?,
            },
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => {
                return Err(DecodeError::UnknownType(n))
            }
        })
    }
}

/// A message on a response channel.
///
/// The answers to SOCKETS, ALL_ROOMS and REMOTE_FETCH carry no `type`: Node matches them to
/// its request by `requestId`. Decoding tells them apart by shape: `rooms` is
/// [`Response::AllRooms`]; `sockets` holding only strings (at least one) is
/// [`Response::Sockets`]; any other `sockets`, an empty list included, is
/// [`Response::RemoteFetch`]. A requester that sent SOCKETS takes an empty `RemoteFetch`
/// as an empty answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// JSON `{requestId, sockets}`: socket ids.
    Sockets {
        /// The request answered.
        request_id: String,
        /// Socket ids.
        sockets: Vec<String>,
    },
    /// JSON `{requestId, rooms}`: every room of the answering server.
    AllRooms {
        /// The request answered.
        request_id: String,
        /// Room names (each socket's own room included).
        rooms: Vec<String>,
    },
    /// JSON `{requestId, sockets: [{id, handshake, rooms, data}]}`.
    RemoteFetch {
        /// The request answered.
        request_id: String,
        /// The answering server's selected sockets.
        sockets: Vec<FetchedSocket>,
    },
    /// JSON `{type: 6, requestId, data}`: one server's acknowledgement (its first argument).
    ServerSideEmit {
        /// The request answered.
        request_id: String,
        /// The acknowledgement's argument; absent when `undefined`.
        data: Option<Value>,
    },
    /// JSON `{type: 8, requestId, clientCount}`.
    BroadcastClientCount {
        /// The broadcast answered.
        request_id: String,
        /// How many clients the broadcast reached on the answering server.
        client_count: u64,
    },
    /// msgpack `{type: 9, requestId, packet}`: one client's acknowledgement (its first
    /// argument).
    BroadcastAck {
        /// The broadcast answered.
        request_id: String,
        /// The acknowledgement's argument; absent when `undefined`.
        packet: Option<Value>,
    },
}

impl Response {
    /// The request this response answers.
    pub fn request_id(&self) -> &str {
        match self {
            Response::Sockets { request_id, .. }
            | Response::AllRooms { request_id, .. }
            | Response::RemoteFetch { request_id, .. }
            | Response::ServerSideEmit { request_id, .. }
            | Response::BroadcastClientCount { request_id, .. }
            | Response::BroadcastAck { request_id, .. } => request_id,
        }
    }

    /// The format Node uses: msgpack for [`Response::BroadcastAck`], JSON for the others.
    pub fn format(&self) -> Format {
        match self {
            Response::BroadcastAck { .. } => Format::Msgpack,
            _ => Format::Json,
        }
    }

    /// The bytes Node publishes on the response channel, member order included.
    pub fn encode(&self) -> Vec<u8> {
        let id = |s: &str| Some(Value::from(s));
        let ty = |t: RequestType| Some(Value::from(t as u8));
        let value = match self {
            Response::Sockets {
                request_id,
                sockets,
            } => map([
                ("requestId", id(request_id)),
                ("sockets", Some(strings(sockets))),
            ]),
            Response::AllRooms { request_id, rooms } => map([
                ("requestId", id(request_id)),
                ("rooms", Some(strings(rooms))),
            ]),
            Response::RemoteFetch {
                request_id,
                sockets,
            } => map([
                ("requestId", id(request_id)),
                ("sockets", Some(fetched_sockets_value(sockets))),
            ]),
            Response::ServerSideEmit { request_id, data } => map([
                ("type", ty(RequestType::ServerSideEmit)),
                ("requestId", id(request_id)),
                ("data", data.clone()),
            ]),
            Response::BroadcastClientCount {
                request_id,
                client_count,
            } => map([
                ("type", ty(RequestType::BroadcastClientCount)),
                ("requestId", id(request_id)),
                ("clientCount", Some(Value::from(*client_count))),
            ]),
            Response::BroadcastAck { request_id, packet } => map([
                ("type", ty(RequestType::BroadcastAck)),
                ("requestId", id(request_id)),
                ("packet", packet.clone()),
            ]),
        };
        value::write(&value, self.format())
    }

    /// Decodes a message received on a response channel, JSON or msgpack.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = value::read(bytes, Format::detect(bytes))?;
        let f = Fields::of(&value, "response")?;
        let request_id = f.string("requestId")?;
        if let Some(n) = f.opt_uint("type")? {
            return match RequestType::from_number(n) {
                Some(RequestType::ServerSideEmit) => Ok(Response::ServerSideEmit {
                    request_id,
                    data: f.get("data").cloned(),
                }),
                Some(RequestType::BroadcastClientCount) => Ok(Response::BroadcastClientCount {
                    request_id,
                    client_count: f.uint("clientCount")?,
                }),
                Some(RequestType::BroadcastAck) => Ok(Response::BroadcastAck {
                    request_id,
                    packet: f.get("packet").cloned(),
                }),
                _ => Err(DecodeError::UnknownType(n)),
            };
        }
        if f.has("rooms") {
            return Ok(Response::AllRooms {
                request_id,
                rooms: f.rooms("rooms")?,
            });
        }
        if f.has("sockets") {
            let items = f.array("sockets")?;
            if !items.is_empty() && items.iter().all(|s| s.is_str()) {
                return Ok(Response::Sockets {
                    request_id,
                    sockets: f.rooms("sockets")?,
                });
            }
            return Ok(Response::RemoteFetch {
                request_id,
                sockets: fetched_sockets(items)?,
            });
        }
        Err(DecodeError::UnknownResponse)
    }
}
