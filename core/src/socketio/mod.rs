//! The Socket.IO layer: clients (one per Engine.IO session), sockets (one per client and
//! namespace), rooms, acknowledgements, broadcasts, and the encoding of what they send.
//!
//! It sits on the Engine.IO layer ([`Engine`]): it decodes the messages of a session into
//! Socket.IO packets (binary attachments included) and sends through [`Engine::send`]. It
//! calls no handler: the shard above decides what a packet means for the application and
//! calls it. What a pending acknowledgement does when it comes is opaque here (`A`): the shard
//! stores its callbacks in it.

mod broadcast;
mod data;
mod encode;
mod handshake;
pub mod payload;
mod reason;
mod rooms;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use smallvec::SmallVec;

use crate::config::Config;
use crate::engine::Engine;
use crate::id::{NsId, SecondaryMap, SessionId, Slots, SocketId};
use crate::sid::IdGenerator;
use crate::timer::Timers;
use crate::wire::sio;

pub(crate) use broadcast::AckRelay;
pub use broadcast::{AckGather, Broadcast, BroadcastAckError, RoomNames};
pub(crate) use data::Data;
pub use encode::Encoded;
pub(crate) use encode::{
    check_name, encode_ack, encode_connect_error, encode_connected, encode_disconnect,
    encode_event, read_encoded, with_namespace,
};
pub(crate) use handshake::js_date;
pub use handshake::SocketHandshake;
pub use payload::{Args, Binary};
pub use reason::{AckError, DisconnectReason, EmitError};
pub use rooms::RoomEvent;
use rooms::{Members, Membership};

/// A received event, handed to the handler registered for its name.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The event name.
    pub name: &'a str,
    /// The arguments after the name.
    pub args: Args,
    /// The acknowledgement id when the client asked for an acknowledgement: answer it with
    /// [`Socket::ack`](crate::Socket::ack).
    pub ack: Option<u64>,
}

/// A refusal from a middleware: the client gets a CONNECT_ERROR with this message and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// `err.message` on the client.
    pub message: String,
    /// `err.data` on the client, as raw JSON.
    pub data: Option<String>,
}

impl ConnectError {
    /// A refusal with a message and no data.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `err.data`, serialized as JSON (none if it does not serialize).
    pub fn with_data<T: serde::Serialize + ?Sized>(mut self, data: &T) -> Self {
        self.data = serde_json::to_string(data).ok();
        self
    }
}

/// A client broke the Socket.IO protocol: its connection is closed.
#[derive(Debug)]
pub(crate) struct Invalid;

/// A packet waiting for its binary attachments.
struct PartialBinary {
    packet: sio::Packet,
    attachments: Vec<Bytes>,
}

/// The Socket.IO side of an Engine.IO session (Node's `Client`).
#[derive(Default)]
struct Client {
    /// Its sockets, one per namespace joined.
    sockets: SmallVec<[(NsId, SocketId); 2]>,
    partial: Option<Box<PartialBinary>>,
    /// Until a namespace is joined: when the session is closed.
    connect_deadline: Option<Instant>,
}

/// An acknowledgement the server waits for.
struct PendingAck<A> {
    id: u64,
    deadline: Instant,
    callback: A,
}

/// A namespace of this shard.
pub(crate) struct NsEntry {
    /// Its name (empty once removed).
    pub(crate) name: Arc<str>,
    /// What the layer above knows it by: the index of its handlers (for a child, its
    /// parent's).
    pub(crate) tag: u32,
    /// Whether it is the child of a dynamic namespace.
    pub(crate) child: bool,
    /// Sockets of it this shard knows (connecting, in it, or leaving).
    sockets: u32,
    /// Whether its room changes are logged ([`RoomEvent`]).
    pub(crate) log_rooms: bool,
}

/// A socket: one client in one namespace.
///
/// What a broadcast reads of every recipient (its stamp, whether it is connected, its
/// session) stays in the slab entry; the rest is boxed aside, so that a fan-out over many
/// sockets walks little memory.
pub(crate) struct SocketState<A> {
    pub(crate) id: Arc<str>,
    pub(crate) session: SessionId,
    pub(crate) ns: NsId,
    membership: Membership,
    /// The last broadcast that reached (or left out) the socket.
    stamp: u32,
    /// True once the middlewares let it in; false again once it left (it stays until no
    /// handler can see it).
    pub(crate) connected: bool,
    /// What the broadcast path never reads.
    pub(crate) extra: Box<SocketExtra<A>>,
}

/// The parts of a socket that a broadcast does not read.
pub(crate) struct SocketExtra<A> {
    /// The CONNECT auth object, as raw JSON.
    pub(crate) auth: Bytes,
    /// When the CONNECT made it (Node dates the handshake then).
    pub(crate) created: Instant,
    next_ack: u64,
    acks: Vec<PendingAck<A>>,
    /// The application's data (`socket.data`).
    pub(crate) data: Option<Data>,
    /// The `once` listeners that ran for it, by bit.
    pub(crate) once_fired: u64,
    /// Whether its `on_any` listeners were turned off (`off_any`).
    pub(crate) any_off: bool,
}

/// What a Socket.IO deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// A client that must join a namespace in time.
    Connect(SessionId),
    /// A socket's pending acknowledgements.
    Acks(SocketId),
}

/// What expired at a deadline.
#[derive(Default)]
pub(crate) struct Expired<A> {
    /// Clients that joined no namespace in time.
    pub(crate) clients: Vec<SessionId>,
    /// Acknowledgements that did not come in time.
    pub(crate) acks: Vec<(SocketId, A)>,
}

/// One shard's Socket.IO state.
pub(crate) struct SocketIo<A> {
    config: Arc<Config>,
    /// The namespaces, by [`NsId`].
    namespaces: Vec<NsEntry>,
    /// The namespaces by name.
    by_name: HashMap<Arc<str>, NsId>,
    /// Slots of removed namespaces, to reuse.
    free: Vec<NsId>,
    /// Children of dynamic namespaces whose last socket was forgotten.
    emptied: Vec<NsId>,
    /// Room changes of the namespaces that log them, not yet taken.
    room_events: Vec<(NsId, RoomEvent)>,
    ids: IdGenerator,
    clients: SecondaryMap<SessionId, Client>,
    sockets: Slots<SocketId, SocketState<A>>,
    socket_ids: HashMap<Arc<str>, SocketId>,
    members: Vec<Members>,
    timers: Timers<Timer>,
    stamp: u32,
    /// Sockets that left during this input, forgotten once no handler can see them.
    graveyard: Vec<SocketId>,
}

impl<A> SocketIo<A> {
    /// The layer for the namespaces `names`, each with its tag (see [`NsEntry::tag`]).
    pub(crate) fn new(
        config: Arc<Config>,
        names: impl IntoIterator<Item = (Arc<str>, u32)>,
        ids: IdGenerator,
    ) -> Self {
        let mut sio = SocketIo {
            members: Vec::new(),
            config,
            namespaces: Vec::new(),
            by_name: HashMap::new(),
            free: Vec::new(),
            emptied: Vec::new(),
            room_events: Vec::new(),
            ids,
            clients: SecondaryMap::default(),
            sockets: Slots::default(),
            socket_ids: HashMap::new(),
            timers: Timers::default(),
            stamp: 0,
            graveyard: Vec::new(),
        };
        for (name, tag) in names {
            sio.add_namespace(name, tag, false);
        }
        sio
    }

    /// Adds a namespace (a child of a dynamic one when `child`).
    pub(crate) fn add_namespace(&mut self, name: Arc<str>, tag: u32, child: bool) -> NsId {
        let entry = NsEntry {
            name: name.clone(),
            tag,
            child,
            sockets: 0,
            log_rooms: false,
        };
        let ns = match self.free.pop() {
            Some(ns) => {
                self.namespaces[ns.index()] = entry;
                self.members[ns.index()] = Members::default();
                ns
            }
            None => {
                self.namespaces.push(entry);
                self.members.push(Members::default());
                NsId(self.namespaces.len() as u32 - 1)
            }
        };
        self.by_name.insert(name, ns);
        ns
    }

    /// Removes a namespace that has no socket left; false when it has some.
    pub(crate) fn remove_namespace(&mut self, ns: NsId) -> bool {
        let entry = &self.namespaces[ns.index()];
        if entry.sockets > 0 || entry.name.is_empty() {
            return false;
        }
        let name = std::mem::replace(&mut self.namespaces[ns.index()].name, "".into());
        self.by_name.remove(&name);
        self.members[ns.index()] = Members::default();
        self.free.push(ns);
        true
    }

    /// Logs the room changes of a namespace from now on.
    pub(crate) fn log_rooms(&mut self, ns: NsId) {
        self.namespaces[ns.index()].log_rooms = true;
    }

    /// The room changes logged since the last call.
    pub(crate) fn take_room_events(&mut self) -> Vec<(NsId, RoomEvent)> {
        std::mem::take(&mut self.room_events)
    }

    /// The children of dynamic namespaces whose last socket was forgotten since the last
    /// call.
    pub(crate) fn take_emptied(&mut self) -> Vec<NsId> {
        std::mem::take(&mut self.emptied)
    }

    /// The namespace's entry.
    pub(crate) fn entry(&self, ns: NsId) -> &NsEntry {
        &self.namespaces[ns.index()]
    }

    /// Every namespace of this shard.
    pub(crate) fn namespaces(&self) -> impl Iterator<Item = NsId> + '_ {
        let all = self.namespaces.iter().enumerate();
        all.filter(|(_, e)| !e.name.is_empty())
            .map(|(i, _)| NsId(i as u32))
    }

    /// The children of the dynamic namespace tagged `tag`.
    pub(crate) fn children(&self, tag: u32) -> impl Iterator<Item = NsId> + '_ {
        self.namespaces
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.child && e.tag == tag && !e.name.is_empty())
            .map(|(i, _)| NsId(i as u32))
    }

    /// Number of sockets.
    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }

    /// A namespace by name.
    pub(crate) fn namespace(&self, name: &str) -> Option<NsId> {
        self.by_name.get(name).copied()
    }

    /// A namespace's name.
    pub(crate) fn name(&self, ns: NsId) -> &str {
        &self.namespaces[ns.index()].name
    }

    /// A namespace's name, shared.
    pub(crate) fn name_arc(&self, ns: NsId) -> Arc<str> {
        self.namespaces[ns.index()].name.clone()
    }

    /// A socket, to change it.
    pub(crate) fn socket_mut(&mut self, sk: SocketId) -> Option<&mut SocketState<A>> {
        self.sockets.get_mut(sk)
    }

    /// A connected socket by its id.
    pub(crate) fn socket_by_id(&self, id: &str) -> Option<SocketId> {
        self.socket_ids.get(id).copied()
    }

    /// A socket, while it is known (connected, or leaving during this input).
    pub(crate) fn socket(&self, sk: SocketId) -> Option<&SocketState<A>> {
        self.sockets.get(sk)
    }

    /// A session opened: it has `connect_timeout` to join a namespace.
    pub(crate) fn client_opened(&mut self, now: Instant, si: SessionId) {
        let at = now + self.config.connect_timeout;
        self.clients.insert(
            si,
            Client {
                connect_deadline: Some(at),
                ..Client::default()
            },
        );
        self.timers.schedule(at, Timer::Connect(si));
    }

    /// A session ended: its sockets, which the caller makes leave; the client is forgotten.
    pub(crate) fn client_closed(&mut self, si: SessionId) -> SmallVec<[SocketId; 2]> {
        self.clients
            .remove(si)
            .map(|c| c.sockets.iter().map(|&(_, sk)| sk).collect())
            .unwrap_or_default()
    }

    /// The sockets of a session.
    pub(crate) fn sockets_of(&self, si: SessionId) -> SmallVec<[SocketId; 2]> {
        self.clients
            .get(si)
            .map(|c| c.sockets.iter().map(|&(_, sk)| sk).collect())
            .unwrap_or_default()
    }

    /// A message of a session: a complete packet with its attachments, nothing yet (an
    /// attachment is awaited), or a breach of the protocol.
    pub(crate) fn decode(
        &mut self,
        si: SessionId,
        data: Bytes,
        binary: bool,
    ) -> Result<Option<(sio::Packet, Vec<Bytes>)>, Invalid> {
        let Some(c) = self.clients.get_mut(si) else {
            return Ok(None);
        };
        if self.config.parser == crate::config::Parser::Msgpack {
            // Every packet is one binary message; text is a breach, as in Node's decoder.
            if !binary {
                return Err(Invalid);
            }
            let decoded =
                sio::msgpack::decode(data, self.config.max_attachments).map_err(|_| Invalid)?;
            return Ok(Some((decoded.packet, decoded.attachments)));
        }
        if binary {
            // Binary data while no packet awaits attachments: the parser throws.
            let partial = c.partial.as_mut().ok_or(Invalid)?;
            partial.attachments.push(data);
            if partial.attachments.len() < partial.packet.attachments {
                return Ok(None);
            }
            let PartialBinary {
                packet,
                attachments,
            } = *c.partial.take().ok_or(Invalid)?;
            let json = packet.data.as_deref().unwrap_or(b"");
            sio::validate_placeholders(json, attachments.len()).map_err(|_| Invalid)?;
            return Ok(Some((packet, attachments)));
        }
        if c.partial.is_some() {
            return Err(Invalid);
        }
        let packet = sio::decode(data, self.config.max_attachments).map_err(|_| Invalid)?;
        if packet.attachments > 0 {
            c.partial = Some(Box::new(PartialBinary {
                attachments: Vec::with_capacity(packet.attachments),
                packet,
            }));
            return Ok(None);
        }
        Ok(Some((packet, Vec::new())))
    }

    /// The socket a session has in the namespace named `nsp`.
    pub(crate) fn joined(&self, si: SessionId, nsp: &str) -> Option<SocketId> {
        let c = self.clients.get(si)?;
        c.sockets
            .iter()
            .find(|&&(ns, _)| self.name(ns) == nsp)
            .map(|&(_, sk)| sk)
    }

    /// A socket of a session in a namespace, before the middlewares decide: it has its id
    /// and can hold data, but it is in no room, can not be reached by id, and gets nothing.
    pub(crate) fn create(
        &mut self,
        now: Instant,
        si: SessionId,
        ns: NsId,
        auth: Bytes,
    ) -> SocketId {
        let id: Arc<str> = self.ids.next_id().into();
        self.namespaces[ns.index()].sockets += 1;
        self.sockets.insert(SocketState {
            id,
            session: si,
            ns,
            membership: Membership::default(),
            stamp: 0,
            connected: false,
            extra: Box::new(SocketExtra {
                auth,
                created: now,
                next_ack: 0,
                acks: Vec::new(),
                data: None,
                once_fired: 0,
                any_off: false,
            }),
        })
    }

    /// A socket the middlewares let in joins its namespace; false when its client is gone
    /// (the socket is then forgotten).
    pub(crate) fn enter(&mut self, sk: SocketId) -> bool {
        let Some(s) = self.sockets.get(sk).filter(|s| !s.connected) else {
            return false;
        };
        let (si, ns, id) = (s.session, s.ns, s.id.clone());
        let Some(c) = self.clients.get_mut(si) else {
            self.forget(sk);
            return false;
        };
        c.sockets.push((ns, sk));
        c.connect_deadline = None;
        let pos = self.add_member(ns, sk);
        let s = &mut self.sockets[sk];
        s.membership.ns_pos = pos;
        s.connected = true;
        if self.namespaces[ns.index()].log_rooms {
            // Node's socket joins a room named by its id.
            let room: Box<str> = id.as_ref().into();
            self.room_events.push((ns, RoomEvent::Create(room.clone())));
            self.room_events
                .push((ns, RoomEvent::Join(room, id.clone())));
        }
        self.socket_ids.insert(id, sk);
        true
    }

    /// Forgets a socket the middlewares refused.
    pub(crate) fn discard(&mut self, sk: SocketId) {
        if self.sockets.get(sk).is_some_and(|s| !s.connected) {
            self.forget(sk);
        }
    }

    /// Drops a socket's state.
    fn forget(&mut self, sk: SocketId) {
        if let Some(s) = self.sockets.remove(sk) {
            let entry = &mut self.namespaces[s.ns.index()];
            entry.sockets -= 1;
            if entry.sockets == 0 && entry.child {
                self.emptied.push(s.ns);
            }
        }
    }

    /// A socket leaves: out of its rooms, its namespace and its client; its pending
    /// acknowledgements are dropped. It stays visible (not connected) until [`Self::reap`].
    /// Its session, or `None` when it had left already.
    pub(crate) fn remove(&mut self, sk: SocketId) -> Option<SessionId> {
        let s = self.sockets.get_mut(sk).filter(|s| s.connected)?;
        s.connected = false;
        s.extra.acks.clear();
        let (si, ns) = (s.session, s.ns);
        if self.namespaces[ns.index()].log_rooms {
            let id = s.id.clone();
            let room: Box<str> = id.as_ref().into();
            self.room_events
                .push((ns, RoomEvent::Leave(room.clone(), id)));
            self.room_events.push((ns, RoomEvent::Delete(room)));
        }
        self.leave_all(sk);
        self.socket_ids.remove(&self.sockets[sk].id);
        if let Some(c) = self.clients.get_mut(si) {
            c.sockets.retain(|&mut (_, k)| k != sk);
        }
        self.graveyard.push(sk);
        Some(si)
    }

    /// Forgets the sockets that left, now that no handler can see them.
    pub(crate) fn reap(&mut self) {
        while let Some(sk) = self.graveyard.pop() {
            self.forget(sk);
        }
    }

    /// Sends encoded packets to one socket's client.
    pub(crate) fn send(&self, engine: &mut Engine, sk: SocketId, packets: &Encoded) {
        if let Some(s) = self.sockets.get(sk) {
            for p in packets {
                engine.send(s.session, p.clone());
            }
        }
    }

    /// Registers an acknowledgement the server waits for; its id.
    pub(crate) fn add_ack(
        &mut self,
        now: Instant,
        sk: SocketId,
        timeout: Duration,
        callback: A,
    ) -> Option<u64> {
        let s = self.sockets.get_mut(sk)?;
        let (id, deadline) = (s.extra.next_ack, now + timeout);
        s.extra.next_ack += 1;
        s.extra.acks.push(PendingAck {
            id,
            deadline,
            callback,
        });
        self.timers.schedule(deadline, Timer::Acks(sk));
        Some(id)
    }

    /// Registers an acknowledgement with an id chosen elsewhere (a broadcast's, the same for
    /// every recipient).
    pub(crate) fn add_ack_with_id(
        &mut self,
        now: Instant,
        sk: SocketId,
        id: u64,
        timeout: Duration,
        callback: A,
    ) {
        let Some(s) = self.sockets.get_mut(sk) else {
            return;
        };
        let deadline = now + timeout;
        s.extra.acks.push(PendingAck {
            id,
            deadline,
            callback,
        });
        self.timers.schedule(deadline, Timer::Acks(sk));
    }

    /// The id the next acknowledgement of a socket will get.
    pub(crate) fn next_ack(&self, sk: SocketId) -> Option<u64> {
        self.sockets.get(sk).map(|s| s.extra.next_ack)
    }

    /// Takes the callback of acknowledgement `id`, when the client answers it.
    pub(crate) fn take_ack(&mut self, sk: SocketId, id: u64) -> Option<A> {
        let s = self.sockets.get_mut(sk)?;
        let pos = s.extra.acks.iter().position(|a| a.id == id)?;
        Some(s.extra.acks.swap_remove(pos).callback)
    }

    /// The earliest Socket.IO deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// What expired at or before `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Expired<A> {
        let mut expired = Expired {
            clients: Vec::new(),
            acks: Vec::new(),
        };
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Connect(si) => {
                    let Some(c) = self.clients.get_mut(si) else {
                        continue;
                    };
                    if c.connect_deadline.is_some_and(|t| t <= now) {
                        c.connect_deadline = None;
                        expired.clients.push(si);
                    }
                }
                Timer::Acks(sk) => {
                    let Some(s) = self.sockets.get_mut(sk) else {
                        continue;
                    };
                    let mut i = 0;
                    while i < s.extra.acks.len() {
                        if s.extra.acks[i].deadline <= now {
                            expired
                                .acks
                                .push((sk, s.extra.acks.swap_remove(i).callback));
                        } else {
                            i += 1;
                        }
                    }
                }
            }
        }
        expired
    }
}
