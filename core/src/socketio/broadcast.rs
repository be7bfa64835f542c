//! Broadcasts: one encoded packet to every socket selected by rooms, on this shard.
//!
//! The packets are shared: every recipient gets a clone of the same `Bytes` (a reference
//! count, no copy, no allocation). A socket in several selected rooms gets it once: a stamp
//! per broadcast marks the sockets already reached (and those left out).

use smallvec::SmallVec;

use super::rooms::RoomKey;
use super::{Encoded, SocketIo};
use crate::engine::Engine;
use crate::id::{NsId, SocketId};

/// Room names of a broadcast.
pub type RoomNames = SmallVec<[Box<str>; 2]>;

/// An event for the sockets of one namespace, encoded once; the same value (behind an `Arc`)
/// reaches every shard.
#[derive(Debug)]
pub struct Broadcast {
    /// The namespace.
    pub(crate) nsp: Box<str>,
    /// Rooms (or socket ids) to reach; empty for the whole namespace.
    pub(crate) rooms: RoomNames,
    /// Rooms (or socket ids) to leave out.
    pub(crate) except: RoomNames,
    /// The packets: the text packet, then its binary attachments.
    pub(crate) packets: Encoded,
}

impl Broadcast {
    /// A broadcast of `packets` in namespace `nsp`.
    pub(crate) fn new(
        nsp: Box<str>,
        rooms: RoomNames,
        except: RoomNames,
        packets: Encoded,
    ) -> Self {
        Broadcast {
            nsp,
            rooms,
            except,
            packets,
        }
    }
}

/// A broadcast's recipients, resolved on this shard.
#[derive(Debug, Default)]
struct Targets {
    /// Rooms to reach.
    rooms: SmallVec<[RoomKey; 2]>,
    /// Single sockets named by id.
    sockets: SmallVec<[SocketId; 1]>,
    /// Whether any target was named at all (`to(...)`); false means the whole namespace.
    named: bool,
    except_rooms: SmallVec<[RoomKey; 2]>,
    except_sockets: SmallVec<[SocketId; 1]>,
}

impl<A> SocketIo<A> {
    /// Delivers a broadcast to this shard's sockets of namespace `ns`, leaving out
    /// `except_socket` (the sender of `socket.broadcast`).
    pub(crate) fn broadcast(
        &mut self,
        engine: &mut Engine,
        ns: NsId,
        b: &Broadcast,
        except_socket: Option<SocketId>,
    ) {
        let mut t = Targets {
            named: !b.rooms.is_empty(),
            ..Targets::default()
        };
        for room in &b.rooms {
            self.resolve(ns, room, &mut t.rooms, &mut t.sockets);
        }
        for room in &b.except {
            self.resolve(ns, room, &mut t.except_rooms, &mut t.except_sockets);
        }
        t.except_sockets.extend(except_socket);
        self.fan_out(engine, ns, &t, b);
    }

    /// Sends the broadcast's packets to every socket the targets select, each once.
    fn fan_out(&mut self, engine: &mut Engine, ns: NsId, t: &Targets, b: &Broadcast) {
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        let members = &self.members[ns.index()];
        let sockets = &mut self.sockets;
        let mut mark = |sk: SocketId| {
            if let Some(s) = sockets.get_mut(sk) {
                s.stamp = stamp;
            }
        };
        for room in t.except_rooms.iter().filter_map(|&key| members.room(key)) {
            room.members.iter().for_each(|&sk| mark(sk));
        }
        t.except_sockets.iter().for_each(|&sk| mark(sk));
        let mut deliver = |sk: SocketId| {
            let Some(s) = sockets.get_mut(sk) else {
                return;
            };
            if s.stamp == stamp || !s.connected {
                return;
            }
            s.stamp = stamp;
            for p in &b.packets {
                engine.send(s.session, p.clone());
            }
        };
        if !t.named {
            members.all.iter().for_each(|&sk| deliver(sk));
            return;
        }
        for room in t.rooms.iter().filter_map(|&key| members.room(key)) {
            room.members.iter().for_each(|&sk| deliver(sk));
        }
        t.sockets.iter().for_each(|&sk| deliver(sk));
    }
}
