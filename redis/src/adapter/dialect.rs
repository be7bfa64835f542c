//! The two dialects of the Redis adapter, behind one shape: what servers tell each other
//! ([`Msg`]) and answer ([`Reply`]), written and read as the classic adapter
//! (`createAdapter`: `PUBLISH`, a request and a response channel per namespace) or the sharded
//! one (`createShardedAdapter`: `SPUBLISH`, one envelope type, a response channel per server).

use bytes::Bytes;
use rmpv::Value;

use crate::classic::{self, BroadcastMessage, Request as Wire, Response};
use crate::sharded::{self, ClusterBody, ClusterMessage, SubscriptionMode};
use crate::{BroadcastOptions, FetchedSocket, Packet};

/// Which adapter the cluster's Node servers run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Variant {
    /// `createAdapter` (Redis pub/sub), the default.
    #[default]
    Classic,
    /// `createShardedAdapter` (Redis 7 sharded pub/sub), with its `subscriptionMode`.
    Sharded(SubscriptionMode),
}

/// A message from one server to the others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Msg {
    /// A broadcast; with a request id, its acknowledgements are wanted.
    Broadcast {
        packet: Packet,
        opts: BroadcastOptions,
        request_id: Option<String>,
    },
    /// Socket ids of rooms (classic, from older servers).
    Sockets {
        request_id: String,
        rooms: Vec<String>,
    },
    /// Every room (classic).
    AllRooms {
        request_id: String,
    },
    Join {
        opts: BroadcastOptions,
        rooms: Vec<String>,
    },
    Leave {
        opts: BroadcastOptions,
        rooms: Vec<String>,
    },
    Disconnect {
        opts: BroadcastOptions,
        close: bool,
    },
    Fetch {
        request_id: String,
        opts: BroadcastOptions,
    },
    ServerEmit {
        request_id: Option<String>,
        data: Vec<Value>,
    },
}

/// An answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reply {
    Sockets(Vec<String>),
    Rooms(Vec<String>),
    Fetched(Vec<FetchedSocket>),
    ServerEmit(Option<Value>),
    ClientCount(u64),
    Ack(Option<Value>),
}

/// Something read from Redis.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A message of server `uid` (`None` when it does not say) in namespace `nsp`.
    Msg {
        uid: Option<String>,
        nsp: String,
        msg: Msg,
    },
    /// An answer to request `request_id`.
    Reply { request_id: String, reply: Reply },
}

/// How a message goes out: on which channel, sharded or not.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub channel: String,
    pub payload: Vec<u8>,
    pub sharded: bool,
}

/// What a channel carries (the classic adapter needs to know; the sharded one's envelope
/// says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carries {
    Broadcasts,
    Requests,
    Responses,
    /// A sharded channel: any envelope.
    Envelopes,
}

impl Variant {
    /// A new server uid or request id, from 8 random bytes, as Node makes them.
    pub(crate) fn id(self, random: [u8; 8]) -> String {
        match self {
            Variant::Classic => {
                let [a, b, c, d, e, f, ..] = random;
                classic::uid([a, b, c, d, e, f])
            }
            Variant::Sharded(_) => sharded::uid(random),
        }
    }

    /// The channels a server of namespace `nsp` listens on (and what they carry), and
    /// whether they are patterns.
    pub(crate) fn channels(self, key: &str, nsp: &str, uid: &str) -> Vec<(String, Carries, bool)> {
        match self {
            Variant::Classic => vec![
                (
                    format!("{}*", classic::broadcast_channel(key, nsp)),
                    Carries::Broadcasts,
                    true,
                ),
                (classic::request_channel(key, nsp), Carries::Requests, false),
                (
                    classic::response_channel(key, nsp),
                    Carries::Responses,
                    false,
                ),
                (
                    classic::specific_response_channel(key, nsp, uid),
                    Carries::Responses,
                    false,
                ),
            ],
            Variant::Sharded(_) => vec![
                (sharded::channel(key, nsp), Carries::Envelopes, false),
                (
                    sharded::response_channel(key, nsp, uid),
                    Carries::Envelopes,
                    false,
                ),
            ],
        }
    }

    /// The channel whose subscribers are the servers of `nsp` (`PUBSUB NUMSUB` or
    /// `SHARDNUMSUB` of it counts them).
    pub(crate) fn census_channel(self, key: &str, nsp: &str) -> String {
        match self {
            Variant::Classic => classic::request_channel(key, nsp),
            Variant::Sharded(_) => sharded::channel(key, nsp),
        }
    }

    /// Whether the other servers answer `all_rooms` (the sharded adapter keeps it local).
    pub(crate) fn asks_rooms(self) -> bool {
        self == Variant::Classic
    }

    /// A room channel this server must listen on while it has the room, if any.
    pub(crate) fn room_channel(
        self,
        key: &str,
        nsp: &str,
        room: &str,
        private: bool,
    ) -> Option<String> {
        match self {
            Variant::Sharded(SubscriptionMode::Dynamic) if !private => {
                Some(sharded::room_channel(key, nsp, room))
            }
            Variant::Sharded(SubscriptionMode::DynamicPrivate) => {
                Some(sharded::room_channel(key, nsp, room))
            }
            _ => None,
        }
    }

    /// The message of server `uid`, written for Redis; `None` when this dialect has no such
    /// message.
    pub(crate) fn write(self, key: &str, uid: &str, nsp: &str, msg: Msg) -> Option<Outgoing> {
        match self {
            Variant::Classic => {
                let (channel, payload) = match msg {
                    Msg::Broadcast {
                        packet,
                        opts,
                        request_id: None,
                    } => {
                        let channel = classic::channel_for(key, nsp, &opts);
                        let message = BroadcastMessage {
                            uid: uid.to_owned(),
                            packet,
                            opts,
                        };
                        (channel, message.encode())
                    }
                    msg => {
                        let uid = uid.to_owned();
                        let request = match msg {
                            Msg::Broadcast {
                                packet,
                                opts,
                                request_id,
                            } => Wire::Broadcast {
                                uid,
                                request_id: request_id.unwrap_or_default(),
                                packet,
                                opts,
                            },
                            Msg::Sockets { request_id, rooms } => Wire::Sockets {
                                uid,
                                request_id,
                                rooms,
                            },
                            Msg::AllRooms { request_id } => Wire::AllRooms { uid, request_id },
                            Msg::Join { opts, rooms } => Wire::RemoteJoin {
                                uid: Some(uid),
                                opts,
                                rooms,
                            },
                            Msg::Leave { opts, rooms } => Wire::RemoteLeave {
                                uid: Some(uid),
                                opts,
                                rooms,
                            },
                            Msg::Disconnect { opts, close } => Wire::RemoteDisconnect {
                                uid: Some(uid),
                                opts,
                                close,
                            },
                            Msg::Fetch { request_id, opts } => Wire::RemoteFetch {
                                uid,
                                request_id,
                                opts,
                            },
                            Msg::ServerEmit { request_id, data } => Wire::ServerSideEmit {
                                uid: Some(uid),
                                request_id,
                                data,
                            },
                        };
                        (classic::request_channel(key, nsp), request.encode())
                    }
                };
                Some(Outgoing {
                    channel,
                    payload,
                    sharded: false,
                })
            }
            Variant::Sharded(mode) => {
                let body = match msg {
                    Msg::Broadcast {
                        mut packet,
                        opts,
                        request_id,
                    } => {
                        packet.nsp = None;
                        ClusterBody::Broadcast {
                            packet,
                            request_id,
                            opts,
                        }
                    }
                    Msg::Join { opts, rooms } => ClusterBody::SocketsJoin { opts, rooms },
                    Msg::Leave { opts, rooms } => ClusterBody::SocketsLeave { opts, rooms },
                    Msg::Disconnect { opts, close } => {
                        ClusterBody::DisconnectSockets { opts, close }
                    }
                    Msg::Fetch { request_id, opts } => {
                        ClusterBody::FetchSockets { opts, request_id }
                    }
                    Msg::ServerEmit { request_id, data } => ClusterBody::ServerSideEmit {
                        request_id,
                        packet: data,
                    },
                    Msg::Sockets { .. } | Msg::AllRooms { .. } => return None,
                };
                let message = ClusterMessage {
                    uid: uid.to_owned(),
                    nsp: nsp.to_owned(),
                    body,
                };
                Some(Outgoing {
                    channel: sharded::channel_for(key, mode, &message),
                    payload: message.encode(),
                    sharded: true,
                })
            }
        }
    }

    /// An answer of server `uid` to request `request_id` of server `asker`, written for
    /// Redis. The classic adapter answers on the namespace's response channel, or the
    /// asker's own with `specific` (a server-side event's answer always on the namespace's,
    /// as Node sends it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_reply(
        self,
        key: &str,
        uid: &str,
        nsp: &str,
        asker: &str,
        specific: bool,
        request_id: String,
        reply: Reply,
    ) -> Option<Outgoing> {
        match self {
            Variant::Classic => {
                let specific =
                    specific && !asker.is_empty() && !matches!(reply, Reply::ServerEmit(_));
                let response = match reply {
                    Reply::Sockets(sockets) => Response::Sockets {
                        request_id,
                        sockets,
                    },
                    Reply::Rooms(rooms) => Response::AllRooms { request_id, rooms },
                    Reply::Fetched(sockets) => Response::RemoteFetch {
                        request_id,
                        sockets,
                    },
                    Reply::ServerEmit(data) => Response::ServerSideEmit { request_id, data },
                    Reply::ClientCount(client_count) => Response::BroadcastClientCount {
                        request_id,
                        client_count,
                    },
                    Reply::Ack(packet) => Response::BroadcastAck { request_id, packet },
                };
                let channel = if specific {
                    classic::specific_response_channel(key, nsp, asker)
                } else {
                    classic::response_channel(key, nsp)
                };
                Some(Outgoing {
                    channel,
                    payload: response.encode(),
                    sharded: false,
                })
            }
            Variant::Sharded(_) => {
                let body = match reply {
                    Reply::Fetched(sockets) => ClusterBody::FetchSocketsResponse {
                        request_id,
                        sockets,
                    },
                    Reply::ServerEmit(packet) => {
                        ClusterBody::ServerSideEmitResponse { request_id, packet }
                    }
                    Reply::ClientCount(client_count) => ClusterBody::BroadcastClientCount {
                        request_id,
                        client_count,
                    },
                    Reply::Ack(packet) => ClusterBody::BroadcastAck { request_id, packet },
                    Reply::Sockets(_) | Reply::Rooms(_) => return None,
                };
                let message = ClusterMessage {
                    uid: uid.to_owned(),
                    nsp: nsp.to_owned(),
                    body,
                };
                Some(Outgoing {
                    channel: sharded::response_channel(key, nsp, asker),
                    payload: message.encode(),
                    sharded: true,
                })
            }
        }
    }

    /// Reads a message received on a channel of namespace `nsp` that carries `carries`;
    /// `None` when it is malformed (Node drops it too).
    pub(crate) fn read(self, nsp: &str, carries: Carries, payload: &Bytes) -> Option<Incoming> {
        match carries {
            Carries::Broadcasts => {
                let m = BroadcastMessage::decode(payload).ok()?;
                let nsp = m.packet.nsp.clone().unwrap_or_else(|| "/".to_owned());
                Some(Incoming::Msg {
                    uid: Some(m.uid),
                    nsp,
                    msg: Msg::Broadcast {
                        packet: m.packet,
                        opts: m.opts,
                        request_id: None,
                    },
                })
            }
            Carries::Requests => {
                let request = Wire::decode(payload).ok()?;
                let uid = request.uid().map(str::to_owned);
                let msg = match request {
                    Wire::Sockets {
                        request_id, rooms, ..
                    } => Msg::Sockets { request_id, rooms },
                    Wire::AllRooms { request_id, .. } => Msg::AllRooms { request_id },
                    Wire::RemoteJoin { opts, rooms, .. } => Msg::Join { opts, rooms },
                    Wire::RemoteLeave { opts, rooms, .. } => Msg::Leave { opts, rooms },
                    Wire::RemoteDisconnect { opts, close, .. } => Msg::Disconnect { opts, close },
                    Wire::RemoteFetch {
                        request_id, opts, ..
                    } => Msg::Fetch { request_id, opts },
                    Wire::ServerSideEmit {
                        request_id, data, ..
                    } => Msg::ServerEmit { request_id, data },
                    Wire::Broadcast {
                        request_id,
                        packet,
                        opts,
                        ..
                    } => Msg::Broadcast {
                        packet,
                        opts,
                        request_id: Some(request_id),
                    },
                };
                Some(Incoming::Msg {
                    uid,
                    nsp: nsp.to_owned(),
                    msg,
                })
            }
            Carries::Responses => {
                let response = Response::decode(payload).ok()?;
                let request_id = response.request_id().to_owned();
                let reply = match response {
                    Response::Sockets { sockets, .. } => Reply::Sockets(sockets),
                    Response::AllRooms { rooms, .. } => Reply::Rooms(rooms),
                    Response::RemoteFetch { sockets, .. } => Reply::Fetched(sockets),
                    Response::ServerSideEmit { data, .. } => Reply::ServerEmit(data),
                    Response::BroadcastClientCount { client_count, .. } => {
                        Reply::ClientCount(client_count)
                    }
                    Response::BroadcastAck { packet, .. } => Reply::Ack(packet),
                };
                Some(Incoming::Reply { request_id, reply })
            }
            Carries::Envelopes => {
                let m = ClusterMessage::decode(payload).ok()?;
                let uid = Some(m.uid);
                let (msg, reply) = match m.body {
                    ClusterBody::Broadcast {
                        mut packet,
                        request_id,
                        opts,
                    } => {
                        packet.nsp = Some(m.nsp.clone());
                        let msg = Msg::Broadcast {
                            packet,
                            opts,
                            request_id,
                        };
                        (Some(msg), None)
                    }
                    ClusterBody::SocketsJoin { opts, rooms } => {
                        (Some(Msg::Join { opts, rooms }), None)
                    }
                    ClusterBody::SocketsLeave { opts, rooms } => {
                        (Some(Msg::Leave { opts, rooms }), None)
                    }
                    ClusterBody::DisconnectSockets { opts, close } => {
                        (Some(Msg::Disconnect { opts, close }), None)
                    }
                    ClusterBody::FetchSockets { opts, request_id } => {
                        (Some(Msg::Fetch { request_id, opts }), None)
                    }
                    ClusterBody::ServerSideEmit { request_id, packet } => (
                        Some(Msg::ServerEmit {
                            request_id,
                            data: packet,
                        }),
                        None,
                    ),
                    ClusterBody::FetchSocketsResponse {
                        request_id,
                        sockets,
                    } => (None, Some((request_id, Reply::Fetched(sockets)))),
                    ClusterBody::ServerSideEmitResponse { request_id, packet } => {
                        (None, Some((request_id, Reply::ServerEmit(packet))))
                    }
                    ClusterBody::BroadcastClientCount {
                        request_id,
                        client_count,
                    } => (None, Some((request_id, Reply::ClientCount(client_count)))),
                    ClusterBody::BroadcastAck { request_id, packet } => {
                        (None, Some((request_id, Reply::Ack(packet))))
                    }
                    _ => (None, None),
                };
                if let Some((request_id, reply)) = reply {
                    return Some(Incoming::Reply { request_id, reply });
                }
                Some(Incoming::Msg {
                    uid,
                    nsp: m.nsp,
                    msg: msg?,
                })
            }
        }
    }
}
