//! The Socket.IO layer of a shard: namespaces, sockets, acknowledgements, rooms, broadcasts.

use bytes::Bytes;
use serde::Serialize;
use smallvec::SmallVec;

use super::engine::Sink;
use super::{PartialBinary, PendingAck, Room, Shard, SocketState};
use crate::app::{Event, Handshake};
use std::sync::Arc;

use crate::engine::OutPacket;
use crate::mesh::{Broadcast, MeshMessage, MeshTarget};
use crate::payload::{self, Args};
use crate::socket::{AckError, DisconnectReason, Socket};
use crate::timer::Target;
use crate::wire::eio::PacketType as EioType;
use crate::wire::sio::{self, PacketType};

/// The packets of one Socket.IO packet: the text, then its binary attachments.
pub(crate) type Encoded = SmallVec<[OutPacket; 1]>;

/// Encodes an EVENT (or BINARY_EVENT) once, framed for every transport.
pub(crate) fn encode_event<T: Serialize + ?Sized>(
    nsp: &str,
    event: &str,
    id: Option<u64>,
    args: &T,
) -> Result<Encoded, serde_json::Error> {
    let mut buf = OutPacket::text_buffer(EioType::Message, 64);
    let attachments = payload::write_event(&mut buf, nsp, id, event, args)?;
    Ok(frame(buf, attachments))
}

/// Encodes an ACK (or BINARY_ACK).
pub(crate) fn encode_ack<T: Serialize + ?Sized>(
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<Encoded, serde_json::Error> {
    let mut buf = OutPacket::text_buffer(EioType::Message, 32);
    let attachments = payload::write_ack(&mut buf, nsp, id, args)?;
    Ok(frame(buf, attachments))
}

/// A packet with no payload or a raw JSON one: CONNECT, CONNECT_ERROR, DISCONNECT.
fn encode_plain(kind: PacketType, nsp: &str, json: Option<&[u8]>) -> OutPacket {
    let mut buf = OutPacket::text_buffer(EioType::Message, 32 + json.map_or(0, <[u8]>::len));
    sio::write_head(&mut buf, kind, nsp, 0, None);
    if let Some(json) = json {
        buf.extend_from_slice(json);
    }
    OutPacket::finish_text(buf)
}

fn frame(buf: bytes::BytesMut, attachments: Vec<Bytes>) -> Encoded {
    let mut out = SmallVec::new();
    out.push(OutPacket::finish_text(buf));
    for a in attachments {
        out.push(OutPacket::binary(&a));
    }
    out
}

/// A broadcast's recipients.
#[derive(Debug, Default, Clone)]
struct Targets {
    /// Rooms (ids in the namespace's room slab); empty with `all` = every socket.
    rooms: SmallVec<[usize; 2]>,
    /// Single sockets named by id.
    sockets: SmallVec<[usize; 1]>,
    /// Whether any target was named at all (`to(...)`); false means the whole namespace.
    named: bool,
    except_rooms: SmallVec<[usize; 2]>,
    except_sockets: SmallVec<[usize; 1]>,
}

impl Shard {
    /// An Engine.IO message for the Socket.IO layer.
    pub(super) fn sio_message(&mut self, si: usize, data: Bytes, binary: bool) {
        let s = &mut self.st.sessions[si];
        if binary {
            let Some(partial) = s.partial.as_mut() else {
                // Binary data while no packet awaits attachments: the parser throws.
                self.close_session(si, DisconnectReason::ForcedClose, true);
                return;
            };
            partial.attachments.push(data);
            if partial.attachments.len() < partial.packet.attachments {
                return;
            }
            let Some(done) = s.partial.take() else { return };
            let PartialBinary {
                packet,
                attachments,
            } = *done;
            self.sio_packet(si, packet, attachments);
            return;
        }
        if s.partial.is_some() {
            self.close_session(si, DisconnectReason::ForcedClose, true);
            return;
        }
        let max = self.app.config.max_attachments;
        match sio::decode(data, max) {
            Ok(packet) if packet.attachments > 0 => {
                s.partial = Some(Box::new(PartialBinary {
                    attachments: Vec::with_capacity(packet.attachments),
                    packet,
                }));
            }
            Ok(packet) => self.sio_packet(si, packet, Vec::new()),
            Err(_) => self.close_session(si, DisconnectReason::ForcedClose, true),
        }
    }

    /// A complete Socket.IO packet with its attachments.
    fn sio_packet(&mut self, si: usize, packet: sio::Packet, attachments: Vec<Bytes>) {
        if !attachments.is_empty() {
            let data = packet.data.as_deref().unwrap_or(b"");
            if sio::validate_placeholders(data, attachments.len()).is_err() {
                self.close_session(si, DisconnectReason::ForcedClose, true);
                return;
            }
        }
        let nsp = packet.nsp_str();
        let joined = self.st.sessions[si]
            .sockets
            .iter()
            .find(|(ns, _)| self.app.namespace(*ns).name == nsp)
            .map(|&(_, sk)| sk);
        match (joined, packet.kind) {
            (None, PacketType::Connect) => self.connect(si, packet),
            (Some(sk), kind) if kind != PacketType::Connect && kind != PacketType::ConnectError => {
                self.socket_packet(sk, packet, attachments)
            }
            // A packet for a namespace not joined, a second CONNECT, a CONNECT_ERROR.
            _ => self.close_session(si, DisconnectReason::ForcedServerClose, true),
        }
    }

    /// A CONNECT to a namespace.
    fn connect(&mut self, si: usize, packet: sio::Packet) {
        let nsp = packet.nsp_str();
        let Some(ns) = self.app.namespace_index(nsp) else {
            let p = encode_plain(
                PacketType::ConnectError,
                nsp,
                Some(br#"{"message":"Invalid namespace"}"#),
            );
            self.send_packet(si, p);
            return;
        };
        // Copied: a view would keep the whole frame it came in alive for the socket's life.
        let auth = packet
            .data
            .as_deref()
            .map_or_else(|| Bytes::from_static(b"{}"), Bytes::copy_from_slice);
        let app = self.app.clone();
        let namespace = app.namespace(ns);
        for middleware in &namespace.middlewares {
            let s = &self.st.sessions[si];
            let hs = Handshake {
                auth: std::str::from_utf8(&auth).unwrap_or("{}"),
                headers: &s.handshake.headers,
                query: &s.handshake.query,
                address: s.handshake.address,
            };
            if let Err(e) = middleware(&hs) {
                let mut json = serde_json::to_vec(&serde_json::json!({ "message": e.message }))
                    .unwrap_or_default();
                if let Some(data) = &e.data {
                    // {"message":"…"} becomes {"message":"…","data":…}
                    json.pop();
                    json.extend_from_slice(b",\"data\":");
                    json.extend_from_slice(data.as_bytes());
                    json.push(b'}');
                }
                let p = encode_plain(PacketType::ConnectError, nsp, Some(&json));
                self.send_packet(si, p);
                return;
            }
        }
        let id: Box<str> = self.st.ids.next_id().into();
        let generation = self.st.next_generation;
        self.st.next_generation = generation.wrapping_add(1);
        let ns_pos = self.st.namespaces[ns].members.len() as u32;
        let sk = self.st.sockets.insert(SocketState {
            generation,
            id: id.clone(),
            session: si,
            ns,
            auth,
            rooms: SmallVec::new(),
            ns_pos,
            stamp: 0,
            next_ack: 0,
            acks: Vec::new(),
            connected: true,
        });
        self.st.namespaces[ns].members.push(sk);
        self.st.socket_ids.insert(id.clone(), sk);
        let s = &mut self.st.sessions[si];
        s.sockets.push((ns, sk));
        s.connect_deadline = None;
        let mut json = Vec::with_capacity(32);
        json.extend_from_slice(b"{\"sid\":\"");
        json.extend_from_slice(id.as_bytes());
        json.extend_from_slice(b"\"}");
        let p = encode_plain(PacketType::Connect, &namespace.name, Some(&json));
        self.send_packet(si, p);
        if let Some(h) = namespace.on_connection.clone() {
            h(&mut Socket::new(self, sk));
        }
    }

    /// A packet for a joined socket.
    fn socket_packet(&mut self, sk: usize, packet: sio::Packet, attachments: Vec<Bytes>) {
        match packet.kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let data = packet.data.clone().unwrap_or_default();
                let Some(name) = sio::event_name(&data) else {
                    // Numeric event names reach no handler.
                    return;
                };
                let ns = self.st.sockets[sk].ns;
                let app = self.app.clone();
                let namespace = app.namespace(ns);
                let handler = namespace
                    .events
                    .get(name.as_ref())
                    .or(namespace.on_any.as_ref());
                if let Some(h) = handler {
                    let event = Event {
                        name: &name,
                        args: Args::new(packet.data, true, attachments),
                        ack: packet.id,
                    };
                    h(&mut Socket::new(self, sk), event);
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(id) = packet.id else { return };
                let s = &mut self.st.sockets[sk];
                let Some(pos) = s.acks.iter().position(|a| a.id == id) else {
                    return;
                };
                let pending = s.acks.swap_remove(pos);
                let args = Args::new(packet.data, false, attachments);
                (pending.callback)(&mut Socket::new(self, sk), Ok(args));
            }
            PacketType::Disconnect => {
                self.disconnect_socket(sk, DisconnectReason::ClientNamespaceDisconnect, false)
            }
            PacketType::Connect | PacketType::ConnectError => {}
        }
    }

    /// A socket leaves its namespace: the hooks run, it leaves its rooms, and with `notify`
    /// the client is sent a DISCONNECT.
    pub(crate) fn disconnect_socket(&mut self, sk: usize, reason: DisconnectReason, notify: bool) {
        let Some(s) = self.st.sockets.get(sk) else {
            return;
        };
        if !s.connected {
            return;
        }
        let (ns, si) = (s.ns, s.session);
        let app = self.app.clone();
        let namespace = app.namespace(ns);
        if let Some(h) = namespace.on_disconnecting.clone() {
            h(&mut Socket::new(self, sk), reason);
        }
        let Some(s) = self.st.sockets.get_mut(sk) else {
            return;
        };
        if !s.connected {
            return;
        }
        s.connected = false;
        s.acks.clear();
        self.leave_all(sk);
        self.remove_member(sk);
        let s = &self.st.sockets[sk];
        self.st.socket_ids.remove(&s.id);
        if let Some(session) = self.st.sessions.get_mut(si) {
            session.sockets.retain(|&mut (_, k)| k != sk);
            if notify {
                let p = encode_plain(PacketType::Disconnect, &namespace.name, None);
                self.send_packet(si, p);
            }
        }
        if let Some(h) = namespace.on_disconnect.clone() {
            h(&mut Socket::new(self, sk), reason);
        }
        self.st.graveyard.push(sk);
    }

    /// The session ended: each of its sockets leaves with `reason`.
    pub(super) fn sio_session_closed(&mut self, si: usize, reason: DisconnectReason) {
        let sockets: SmallVec<[usize; 4]> = self.st.sessions[si]
            .sockets
            .iter()
            .map(|&(_, sk)| sk)
            .collect();
        for sk in sockets {
            self.disconnect_socket(sk, reason, false);
        }
    }

    /// Calls the callbacks of acknowledgements that timed out.
    pub(super) fn check_ack_timers(&mut self, sk: usize) {
        let now = self.st.now;
        loop {
            let Some(s) = self.st.sockets.get_mut(sk) else {
                return;
            };
            let Some(pos) = s.acks.iter().position(|a| a.deadline <= now) else {
                break;
            };
            let pending = s.acks.swap_remove(pos);
            (pending.callback)(&mut Socket::new(self, sk), Err(AckError::Timeout));
        }
    }

    /// Registers an acknowledgement callback; returns its id.
    pub(crate) fn add_ack(
        &mut self,
        sk: usize,
        timeout: std::time::Duration,
        callback: super::AckCallback,
    ) -> u64 {
        let deadline = self.st.now + timeout;
        let s = &mut self.st.sockets[sk];
        let id = s.next_ack;
        s.next_ack += 1;
        s.acks.push(PendingAck {
            id,
            deadline,
            callback,
        });
        self.st.timers.schedule(deadline, Target::Socket(sk));
        id
    }

    /// Sends encoded packets to one socket's session.
    pub(crate) fn send_encoded(&mut self, sk: usize, packets: &Encoded) {
        let si = self.st.sockets[sk].session;
        for p in packets {
            self.send_packet(si, p.clone());
        }
    }

    /// Adds a socket to a room of its namespace.
    pub(crate) fn join(&mut self, sk: usize, room: &str) {
        let ns = self.st.sockets[sk].ns;
        let nss = &mut self.st.namespaces[ns];
        let rid = match nss.room_index.get(room) {
            Some(&rid) => rid,
            None => {
                let rid = nss.rooms.insert(Room {
                    name: room.into(),
                    members: Vec::new(),
                });
                nss.room_index.insert(room.into(), rid);
                rid
            }
        };
        let s = &mut self.st.sockets[sk];
        if s.rooms.iter().any(|&(r, _)| r == rid) {
            return;
        }
        let members = &mut nss.rooms[rid].members;
        s.rooms.push((rid, members.len() as u32));
        members.push(sk);
    }

    /// Removes a socket from a room.
    pub(crate) fn leave(&mut self, sk: usize, room: &str) {
        let ns = self.st.sockets[sk].ns;
        let Some(&rid) = self.st.namespaces[ns].room_index.get(room) else {
            return;
        };
        let s = &mut self.st.sockets[sk];
        let Some(i) = s.rooms.iter().position(|&(r, _)| r == rid) else {
            return;
        };
        let (_, pos) = s.rooms.swap_remove(i);
        self.remove_from_room(ns, rid, pos);
    }

    fn leave_all(&mut self, sk: usize) {
        let ns = self.st.sockets[sk].ns;
        let rooms = std::mem::take(&mut self.st.sockets[sk].rooms);
        for (rid, pos) in rooms {
            self.remove_from_room(ns, rid, pos);
        }
    }

    /// Takes the member at `pos` out of room `rid`, keeping positions of the others right.
    fn remove_from_room(&mut self, ns: usize, rid: usize, pos: u32) {
        let nss = &mut self.st.namespaces[ns];
        let room = &mut nss.rooms[rid];
        room.members.swap_remove(pos as usize);
        if let Some(&moved) = room.members.get(pos as usize) {
            if let Some(entry) = self.st.sockets[moved]
                .rooms
                .iter_mut()
                .find(|(r, _)| *r == rid)
            {
                entry.1 = pos;
            }
        }
        if room.members.is_empty() {
            let room = nss.rooms.remove(rid);
            nss.room_index.remove(&room.name);
        }
    }

    fn remove_member(&mut self, sk: usize) {
        let (ns, pos) = {
            let s = &self.st.sockets[sk];
            (s.ns, s.ns_pos as usize)
        };
        let members = &mut self.st.namespaces[ns].members;
        members.swap_remove(pos);
        if let Some(&moved) = members.get(pos) {
            self.st.sockets[moved].ns_pos = pos as u32;
        }
    }

    /// Names of the rooms a socket is in, its own id first.
    pub(crate) fn rooms_of(&self, sk: usize) -> Vec<String> {
        let s = &self.st.sockets[sk];
        let nss = &self.st.namespaces[s.ns];
        let mut out = Vec::with_capacity(s.rooms.len() + 1);
        out.push(s.id.to_string());
        out.extend(
            s.rooms
                .iter()
                .map(|&(rid, _)| nss.rooms[rid].name.to_string()),
        );
        out
    }

    /// Resolves a room name of namespace `ns` into targets: a room, a socket id, or nothing
    /// on this shard.
    fn resolve_room(
        &self,
        ns: usize,
        name: &str,
        rooms: &mut SmallVec<[usize; 2]>,
        sockets: &mut SmallVec<[usize; 1]>,
    ) {
        if let Some(&rid) = self.st.namespaces[ns].room_index.get(name) {
            rooms.push(rid);
        } else if let Some(&sk) = self.st.socket_ids.get(name) {
            if self.st.sockets[sk].ns == ns {
                sockets.push(sk);
            }
        }
    }

    /// Delivers a broadcast to this shard's sockets of namespace `ns`, leaving out
    /// `except_socket` (the sender of `socket.broadcast`).
    pub(crate) fn broadcast_here(
        &mut self,
        ns: usize,
        b: &Broadcast,
        except_socket: Option<usize>,
    ) {
        let mut t = Targets {
            named: !b.rooms.is_empty(),
            ..Targets::default()
        };
        for room in &b.rooms {
            self.resolve_room(ns, room, &mut t.rooms, &mut t.sockets);
        }
        for room in &b.except {
            self.resolve_room(ns, room, &mut t.except_rooms, &mut t.except_sockets);
        }
        t.except_sockets.extend(except_socket);
        self.broadcast(ns, &t, &b.packets);
    }

    /// Hands a broadcast to the other shards (the same packets, by reference count).
    pub(crate) fn broadcast_elsewhere(&mut self, b: Broadcast) {
        if self.st.count > 1 {
            let message = MeshMessage::Broadcast(Arc::new(b));
            self.st.mesh_out.push_back((MeshTarget::Others, message));
        }
    }

    /// Sends encoded packets to every socket of `ns` the targets select, each once. The
    /// packets are shared: every recipient gets a clone of the same `Bytes`.
    fn broadcast(&mut self, ns: usize, targets: &Targets, packets: &Encoded) {
        let st = &mut self.st;
        st.stamp = st.stamp.wrapping_add(1);
        let stamp = st.stamp;
        let nss = &st.namespaces[ns];
        let sockets = &mut st.sockets;
        for &rid in &targets.except_rooms {
            if let Some(room) = nss.rooms.get(rid) {
                for &sk in &room.members {
                    sockets[sk].stamp = stamp;
                }
            }
        }
        for &sk in &targets.except_sockets {
            if let Some(s) = sockets.get_mut(sk) {
                s.stamp = stamp;
            }
        }
        let mut sink = Sink {
            sessions: &mut st.sessions,
            conns: &mut st.conns,
            ready: &mut st.ready,
            to_flush: &mut st.to_flush,
            to_close: &mut st.to_close,
            limit: self.app.config.max_send_buffer,
        };
        let mut deliver = |sk: usize| {
            let s = &mut sockets[sk];
            if s.stamp == stamp || !s.connected {
                return;
            }
            s.stamp = stamp;
            for p in packets {
                sink.send(s.session, p.clone());
            }
        };
        if !targets.named {
            for &sk in &nss.members {
                deliver(sk);
            }
        } else {
            for &rid in &targets.rooms {
                if let Some(room) = nss.rooms.get(rid) {
                    for &sk in &room.members {
                        deliver(sk);
                    }
                }
            }
            for &sk in &targets.sockets {
                deliver(sk);
            }
        }
    }

    /// Forgets sockets that left during the last input, now that no handler can see them.
    pub(crate) fn reap(&mut self) {
        while let Some(sk) = self.st.graveyard.pop() {
            if self.st.sockets.get(sk).is_some_and(|s| !s.connected) {
                self.st.sockets.remove(sk);
            }
        }
    }
}
