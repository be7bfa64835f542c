//! A socket found by `fetch_sockets`, on any shard.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Io;
use crate::mesh::{Count, SocketInfo};
use crate::socketio::{EmitError, SocketHandshake};

/// A socket of any shard, as [`fetch_sockets`](crate::BroadcastOperator::fetch_sockets)
/// found it: what it was then (id, handshake, rooms, data), and a handle to act on it
/// through the mesh (Node's `RemoteSocket`). `Send`.
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    info: SocketInfo,
    io: Io,
}

impl RemoteSocket {
    pub(crate) fn new(info: SocketInfo, io: Io) -> Self {
        RemoteSocket { info, io }
    }

    /// The socket id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Its namespace.
    pub fn namespace(&self) -> &str {
        &self.info.nsp
    }

    /// Its rooms when it was fetched, its own id first.
    pub fn rooms(&self) -> &[String] {
        &self.info.rooms
    }

    /// Its handshake.
    pub fn handshake(&self) -> &SocketHandshake {
        &self.info.handshake
    }

    /// Its data when it was fetched, as a `T` (`None` when it has none or it is not a `T`).
    pub fn data<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.info.data.clone()).ok()
    }

    /// Its data as JSON (`null` when none).
    pub fn data_value(&self) -> &serde_json::Value {
        &self.info.data
    }

    /// What was fetched.
    pub fn info(&self) -> &SocketInfo {
        &self.info
    }

    /// Sends it an event.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.io
            .of(&self.info.nsp)
            .to(&self.info.id)
            .emit(event, args)
    }

    /// Makes it join a room.
    pub fn join(&self, room: &str) -> Count {
        self.io
            .of(&self.info.nsp)
            .to(&self.info.id)
            .sockets_join(room)
    }

    /// Makes it leave a room.
    pub fn leave(&self, room: &str) -> Count {
        self.io
            .of(&self.info.nsp)
            .to(&self.info.id)
            .sockets_leave(room)
    }

    /// Disconnects it (and its connection with `close`).
    pub fn disconnect(&self, close: bool) -> Count {
        self.io
            .of(&self.info.nsp)
            .to(&self.info.id)
            .disconnect_sockets(close)
    }
}
