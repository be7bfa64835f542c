//! Who is in a namespace and in its rooms, on this shard.
//!
//! Each namespace keeps its members and its rooms in plain vectors, and each socket knows its
//! position in each, so that joining and leaving are O(1) (a swap-remove that fixes the
//! position of the member moved). Room membership never leaves the shard: broadcasts carry
//! room names, resolved here.

use std::collections::HashMap;
use std::sync::Arc;

use slab::Slab;
use smallvec::SmallVec;

use super::{SocketIo, SocketState};
use crate::id::{NsId, SocketId};

/// A change of the rooms of a namespace on this shard (the events of Node's adapter), logged
/// for namespaces that listen to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// A room was created (`create-room`).
    Create(Box<str>),
    /// A room was deleted, its last member gone (`delete-room`).
    Delete(Box<str>),
    /// A socket (by id) joined a room (`join-room`).
    Join(Box<str>, Arc<str>),
    /// A socket (by id) left a room (`leave-room`).
    Leave(Box<str>, Arc<str>),
}

/// A room of one namespace, by its slot in the namespace's room slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomKey(u32);

pub(crate) struct Room {
    name: Box<str>,
    pub(crate) members: Vec<SocketId>,
}

/// The sockets of one namespace on this shard, and its rooms.
#[derive(Default)]
pub(crate) struct Members {
    pub(crate) all: Vec<SocketId>,
    rooms: Slab<Room>,
    room_index: HashMap<Box<str>, RoomKey>,
}

impl Members {
    pub(crate) fn room(&self, key: RoomKey) -> Option<&Room> {
        self.rooms.get(key.0 as usize)
    }
}

/// A socket's memberships: its rooms (with its position in each) and its position among the
/// namespace's members.
#[derive(Debug, Default)]
pub(crate) struct Membership {
    pub(crate) rooms: SmallVec<[(RoomKey, u32); 2]>,
    pub(crate) ns_pos: u32,
}

impl<A> SocketIo<A> {
    /// Adds a socket to the members of its namespace.
    pub(crate) fn add_member(&mut self, ns: NsId, sk: SocketId) -> u32 {
        let all = &mut self.members[ns.index()].all;
        all.push(sk);
        (all.len() - 1) as u32
    }

    /// Adds a socket to a room of its namespace.
    pub(crate) fn join(&mut self, sk: SocketId, room: &str) {
        let Some(s) = self.sockets.get_mut(sk) else {
            return;
        };
        let m = &mut self.members[s.ns.index()];
        let key = match m.room_index.get(room) {
            Some(&key) => key,
            None => {
                let key = RoomKey(m.rooms.insert(Room {
                    name: room.into(),
                    members: Vec::new(),
                }) as u32);
                m.room_index.insert(room.into(), key);
                key
            }
        };
        if s.membership.rooms.iter().any(|&(r, _)| r == key) {
            return;
        }
        let members = &mut m.rooms[key.0 as usize].members;
        let created = members.is_empty();
        s.membership.rooms.push((key, members.len() as u32));
        members.push(sk);
        if self.namespaces[s.ns.index()].log_rooms {
            let (ns, id) = (s.ns, s.id.clone());
            if created {
                self.room_events.push((ns, RoomEvent::Create(room.into())));
            }
            self.room_events
                .push((ns, RoomEvent::Join(room.into(), id)));
        }
    }

    /// Removes a socket from a room.
    pub(crate) fn leave(&mut self, sk: SocketId, room: &str) {
        let Some(s) = self.sockets.get_mut(sk) else {
            return;
        };
        let ns = s.ns;
        let Some(&key) = self.members[ns.index()].room_index.get(room) else {
            return;
        };
        let Some(i) = s.membership.rooms.iter().position(|&(r, _)| r == key) else {
            return;
        };
        let (_, pos) = s.membership.rooms.swap_remove(i);
        self.remove_from_room(ns, key, pos, sk);
    }

    /// Takes a socket out of every room and out of its namespace's members.
    pub(crate) fn leave_all(&mut self, sk: SocketId) {
        let Some(s) = self.sockets.get_mut(sk) else {
            return;
        };
        let ns = s.ns;
        let Membership { rooms, ns_pos } = std::mem::take(&mut s.membership);
        for (key, pos) in rooms {
            self.remove_from_room(ns, key, pos, sk);
        }
        let all = &mut self.members[ns.index()].all;
        all.swap_remove(ns_pos as usize);
        if let Some(&moved) = all.get(ns_pos as usize) {
            self.sockets[moved].membership.ns_pos = ns_pos;
        }
    }

    /// Takes the member at `pos` out of room `key`, keeping the positions of the others right.
    fn remove_from_room(&mut self, ns: NsId, key: RoomKey, pos: u32, sk: SocketId) {
        let m = &mut self.members[ns.index()];
        let room = &mut m.rooms[key.0 as usize];
        room.members.swap_remove(pos as usize);
        if self.namespaces[ns.index()].log_rooms {
            let id = self.sockets[sk].id.clone();
            let event = RoomEvent::Leave(room.name.clone(), id);
            self.room_events.push((ns, event));
            if room.members.is_empty() {
                self.room_events
                    .push((ns, RoomEvent::Delete(room.name.clone())));
            }
        }
        if let Some(&moved) = room.members.get(pos as usize) {
            if let Some(entry) = self.sockets[moved]
                .membership
                .rooms
                .iter_mut()
                .find(|(r, _)| *r == key)
            {
                entry.1 = pos;
            }
        }
        if room.members.is_empty() {
            let room = m.rooms.remove(key.0 as usize);
            m.room_index.remove(&room.name);
        }
    }

    /// Names of the rooms of a namespace on this shard (socket ids are not rooms here).
    pub(crate) fn room_names(&self, ns: NsId) -> impl Iterator<Item = String> + '_ {
        self.members[ns.index()]
            .rooms
            .iter()
            .map(|(_, room)| room.name.to_string())
    }

    /// Names of the rooms a socket is in, its own id first.
    pub(crate) fn rooms_of(&self, sk: SocketId) -> Vec<String> {
        let Some(s) = self.sockets.get(sk) else {
            return Vec::new();
        };
        let m = &self.members[s.ns.index()];
        let mut out = Vec::with_capacity(s.membership.rooms.len() + 1);
        out.push(s.id.to_string());
        out.extend(
            s.membership
                .rooms
                .iter()
                .map(|&(key, _)| m.rooms[key.0 as usize].name.to_string()),
        );
        out
    }

    /// Resolves a room name of namespace `ns`: a room, a socket id, or nothing on this shard.
    pub(crate) fn resolve(
        &self,
        ns: NsId,
        name: &str,
        rooms: &mut SmallVec<[RoomKey; 2]>,
        sockets: &mut SmallVec<[SocketId; 1]>,
    ) {
        if let Some(&key) = self.members[ns.index()].room_index.get(name) {
            rooms.push(key);
        } else if let Some(&sk) = self.socket_ids.get(name) {
            if self
                .sockets
                .get(sk)
                .is_some_and(|s: &SocketState<A>| s.ns == ns)
            {
                sockets.push(sk);
            }
        }
    }
}
