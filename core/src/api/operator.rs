//! Broadcast operators: rooms to reach, rooms to leave out, then one emit, encoded once. The
//! same operator serves a handler ([`Operator`], on its shard, then the others through the
//! mesh) and any thread ([`IoOperator`], through the mesh to every shard).

use std::sync::Arc;

use serde::Serialize;

use super::Io;
use crate::id::{NsId, SocketId};
use crate::mesh::{MeshMessage, MeshTarget};
use crate::shard::Shard;
use crate::socketio::{check_name, encode_event, Broadcast, EmitError, RoomNames};

/// Where a broadcast goes once encoded: [`Local`] (from a handler) or [`Remote`] (from an
/// [`Io`] handle).
pub trait Reach: sealed::Sealed {
    /// The namespace's name; `None` when the broadcast can not be sent (its socket left).
    fn namespace(&self) -> Option<&str>;
    /// Sends the encoded broadcast on its way.
    fn deliver(self, broadcast: Broadcast);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Local<'_> {}
    impl Sealed for super::Remote<'_> {}
}

/// A broadcast under construction: rooms (or socket ids) to reach and to leave out.
#[derive(Debug)]
pub struct BroadcastOperator<R> {
    reach: R,
    rooms: RoomNames,
    except: RoomNames,
}

/// A broadcast from a handler: it reaches the sockets of every shard.
pub type Operator<'a> = BroadcastOperator<Local<'a>>;
/// A broadcast from an [`Io`] handle.
pub type IoOperator<'a> = BroadcastOperator<Remote<'a>>;

impl<R: Reach> BroadcastOperator<R> {
    pub(crate) fn new(reach: R) -> Self {
        BroadcastOperator {
            reach,
            rooms: RoomNames::new(),
            except: RoomNames::new(),
        }
    }

    /// Adds a room (or a socket id) to reach.
    pub fn to(mut self, room: &str) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Leaves out the members of a room (or a socket id).
    pub fn except(mut self, room: &str) -> Self {
        self.except.push(room.into());
        self
    }

    /// Sends the event to every selected socket on every shard; it is encoded once.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        check_name(event)?;
        let nsp = self.reach.namespace().ok_or(EmitError::Disconnected)?;
        let packets = encode_event(nsp, event, None, args)?;
        let broadcast = Broadcast {
            nsp: nsp.into(),
            rooms: self.rooms,
            except: self.except,
            packets,
        };
        self.reach.deliver(broadcast);
        Ok(())
    }
}

/// The reach of a handler's broadcast: its shard's sockets, then the other shards'.
#[derive(Debug)]
pub struct Local<'a> {
    pub(crate) shard: &'a mut Shard,
    pub(crate) ns: Option<NsId>,
    /// The sender, left out (`socket.broadcast`).
    pub(crate) except_socket: Option<SocketId>,
}

impl Reach for Local<'_> {
    fn namespace(&self) -> Option<&str> {
        self.ns.map(|ns| self.shard.sio.name(ns))
    }

    fn deliver(self, broadcast: Broadcast) {
        let Some(ns) = self.ns else {
            return;
        };
        let shard = self.shard;
        shard
            .sio
            .broadcast(&mut shard.engine, ns, &broadcast, self.except_socket);
        let message = MeshMessage::Broadcast(Arc::new(broadcast));
        shard.post_mesh(MeshTarget::Others, message);
    }
}

/// The reach of an [`Io`] handle's broadcast: every shard, through the mesh.
#[derive(Debug)]
pub struct Remote<'a> {
    pub(crate) io: &'a Io,
    pub(crate) nsp: Box<str>,
}

impl Reach for Remote<'_> {
    fn namespace(&self) -> Option<&str> {
        Some(&self.nsp)
    }

    fn deliver(self, broadcast: Broadcast) {
        let message = MeshMessage::Broadcast(Arc::new(broadcast));
        for shard in 0..self.io.post.shards() {
            self.io.post.post(shard, message.clone());
        }
    }
}
