//! The mesh: what shards send each other, and the [`Io`] handle any thread may emit with.
//!
//! A broadcast is encoded once, by whoever emits it; every shard gets the same
//! `Arc<Broadcast>`, whose packets are the same `Bytes`, and fans it out to its own sockets.
//! Room membership never leaves a shard: rooms travel by name and each shard resolves them
//! against its own members.

use std::sync::Arc;

use serde::Serialize;
use smallvec::SmallVec;

use crate::shard::socketio::{encode_event, Encoded};
use crate::socket::EmitError;

/// Room names of a broadcast.
pub type RoomNames = SmallVec<[Box<str>; 2]>;

/// An event for the sockets of one namespace on every shard, encoded once.
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

/// A message from one shard (or an [`Io`] handle) to a shard.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MeshMessage {
    /// Deliver a broadcast to this shard's sockets.
    Broadcast(Arc<Broadcast>),
}

/// Where a shard's outgoing mesh message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshTarget {
    /// Every shard but the sender.
    Others,
    /// One shard.
    Shard(usize),
}

/// Carries mesh messages to shards: implemented by each runtime shim with its own channel
/// and wake-up mechanism.
pub trait MeshPost: Send + Sync + 'static {
    /// Number of shards.
    fn shards(&self) -> usize;
    /// Delivers `message` to shard `shard` and wakes it.
    fn post(&self, shard: usize, message: MeshMessage);
}

/// Emits to the sockets of every shard from any thread: a tokio task of another runtime, a
/// plain thread. Cheap to clone.
#[derive(Clone)]
pub struct Io {
    post: Arc<dyn MeshPost>,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("shards", &self.post.shards())
            .finish()
    }
}

impl Io {
    /// A handle posting through `post` (made by the runtime shim).
    pub fn new(post: Arc<dyn MeshPost>) -> Io {
        Io { post }
    }

    /// Broadcasts in namespace `nsp` (`io.of(nsp)`).
    pub fn of(&self, nsp: &str) -> IoOperator<'_> {
        IoOperator {
            io: self,
            nsp: nsp.into(),
            rooms: RoomNames::new(),
            except: RoomNames::new(),
        }
    }

    /// Broadcasts in `/` to a room or socket id (`io.to(room)`).
    pub fn to(&self, room: &str) -> IoOperator<'_> {
        self.of("/").to(room)
    }

    /// Emits to every socket of `/` (`io.emit`).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.of("/").emit(event, args)
    }
}

/// A broadcast from an [`Io`] handle under construction.
#[derive(Debug)]
pub struct IoOperator<'a> {
    io: &'a Io,
    nsp: Box<str>,
    rooms: RoomNames,
    except: RoomNames,
}

impl IoOperator<'_> {
    /// Adds a room (or socket id) to reach.
    pub fn to(mut self, room: &str) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// Leaves out a room (or socket id).
    pub fn except(mut self, room: &str) -> Self {
        self.except.push(room.into());
        self
    }

    /// Encodes the event once and posts it to every shard.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        crate::socket::check_name(event)?;
        let packets = encode_event(&self.nsp, event, None, args)?;
        let message = MeshMessage::Broadcast(Arc::new(Broadcast {
            nsp: self.nsp,
            rooms: self.rooms,
            except: self.except,
            packets,
        }));
        for shard in 0..self.io.post.shards() {
            self.io.post.post(shard, message.clone());
        }
        Ok(())
    }
}
