//! What a task holds: a [`SocketRef`], valid across awaits.

use std::cell::RefCell;
use std::rc::Weak;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{AckFuture, AckSender, Io, Socket};
use crate::id::SocketId;
use crate::shard::Shard;
use crate::socketio::{Args, EmitError, Event, SocketHandshake};

/// A received event, owned, as an async handler gets it.
#[derive(Debug)]
pub struct OwnedEvent {
    /// The event name.
    pub name: Arc<str>,
    /// The arguments after the name.
    pub args: Args,
    /// The acknowledgement the client asked for, if it did.
    pub ack: Option<AckSender>,
}

impl OwnedEvent {
    /// The owned form of `e` for socket `sk`; `name` is the registered name, if known.
    pub(crate) fn new(
        shard: &mut Shard,
        sk: SocketId,
        name: Option<&Arc<str>>,
        e: Event<'_>,
    ) -> Self {
        let ack = e
            .ack
            .and_then(|id| Socket::new(shard, sk).ack_sender(id).ok());
        OwnedEvent {
            name: name.cloned().unwrap_or_else(|| e.name.into()),
            args: e.args,
            ack,
        }
    }
}

/// A socket, as the task of an async handler reaches it: cheap to clone, valid across
/// awaits, and answering [`EmitError::Disconnected`] once the socket is gone. It lives on the
/// shard's thread (`!Send`); to act from another thread use [`Io`] with the socket's id.
///
/// Each call borrows the shard for its length; what it sends is written when the runtime
/// drains the shard, right after the task's poll. Inside a synchronous handler use the
/// [`Socket`] that handler was given: there a `SocketRef` answers [`EmitError::InUse`].
#[derive(Clone)]
pub struct SocketRef {
    shard: Weak<RefCell<Shard>>,
    key: SocketId,
    id: Arc<str>,
}

impl std::fmt::Debug for SocketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketRef").field("id", &self.id).finish()
    }
}

impl SocketRef {
    pub(crate) fn new(shard: &Shard, key: SocketId) -> SocketRef {
        let id = shard
            .sio
            .socket(key)
            .map_or_else(|| "".into(), |s| s.id.clone());
        SocketRef {
            shard: shard.this(),
            key,
            id,
        }
    }

    /// The socket id (its own room's name).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs `f` on the socket: everything a [`Socket`] does, for the length of one call.
    pub fn with<T>(&self, f: impl FnOnce(&mut Socket<'_>) -> T) -> Result<T, EmitError> {
        self.lend(true, f)
    }

    /// Reads the socket: as [`SocketRef::with`], for what changes nothing (the shard is not
    /// settled afterwards).
    fn read<T>(&self, f: impl FnOnce(&mut Socket<'_>) -> T) -> Result<T, EmitError> {
        self.lend(false, f)
    }

    /// Lends the socket to `f`; with `settle`, the shard then settles what `f` did as a
    /// task's work.
    fn lend<T>(&self, settle: bool, f: impl FnOnce(&mut Socket<'_>) -> T) -> Result<T, EmitError> {
        let shard = self.shard.upgrade().ok_or(EmitError::Disconnected)?;
        let mut shard = shard.try_borrow_mut().map_err(|_| EmitError::InUse)?;
        if shard.sio.socket(self.key).is_none() {
            return Err(EmitError::Disconnected);
        }
        let key = self.key;
        Ok(match settle {
            true => shard.task_work(|shard| f(&mut Socket::new(shard, key))),
            false => f(&mut Socket::new(&mut shard, key)),
        })
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        self.read(|s| s.connected()).unwrap_or(false)
    }

    /// The namespace name.
    pub fn namespace(&self) -> Result<String, EmitError> {
        self.read(|s| s.namespace().to_owned())
    }

    /// Sends an event to this client ([`Socket::emit`]).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.with(|s| s.emit(event, args))?
    }

    /// Sends an event and returns the client's answer to await ([`Socket::emit_with_ack`]).
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
        timeout: Duration,
    ) -> Result<AckFuture, EmitError> {
        self.with(|s| s.emit_with_ack(event, args, timeout))?
    }

    /// Joins a room.
    pub fn join(&self, room: &str) -> Result<(), EmitError> {
        self.with(|s| s.join(room))
    }

    /// Leaves a room.
    pub fn leave(&self, room: &str) -> Result<(), EmitError> {
        self.with(|s| s.leave(room))
    }

    /// The rooms the socket is in, its own id first (none once it left).
    pub fn rooms(&self) -> Vec<String> {
        self.read(|s| s.rooms()).unwrap_or_default()
    }

    /// Leaves the namespace ([`Socket::disconnect`]).
    pub fn disconnect(&self, close: bool) -> Result<(), EmitError> {
        self.with(|s| s.disconnect(close))
    }

    /// A copy of the socket's data, when it is a `T`.
    pub fn data<T: Clone + 'static>(&self) -> Option<T> {
        self.read(|s| s.data::<T>().cloned()).ok().flatten()
    }

    /// Changes the socket's data in place, when it is a `T`: what `f` returns, or `None`.
    pub fn update_data<T: 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.with(|s| s.data_mut::<T>().map(f)).ok().flatten()
    }

    /// The auth object the client sent with CONNECT, as a JSON value.
    pub fn auth_value(&self) -> serde_json::Value {
        self.read(|s| s.auth_value()).unwrap_or_default()
    }

    /// Sets the socket's data.
    pub fn set_data<T: Serialize + 'static>(&self, value: T) -> Result<(), EmitError> {
        self.with(|s| s.set_data(value))
    }

    /// The socket's handshake.
    pub fn handshake(&self) -> Result<SocketHandshake, EmitError> {
        self.read(|s| s.handshake())
    }

    /// A handle to reach every shard from here or from any thread.
    pub fn io(&self) -> Option<Io> {
        self.read(|s| s.io()).ok().flatten()
    }
}
