//! What a handler holds: a [`Socket`], one client in one namespace.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;

use super::operator::{Local, Operator};
use super::Io;
use crate::engine::HandshakeData;
use crate::id::SocketId;
use crate::pairs::Pairs;
use crate::shard::Shard;
use crate::socketio::{
    check_name, encode_ack, encode_event, AckError, Args, DisconnectReason, EmitError, SocketState,
};

/// One client's socket in one namespace, lent to a handler.
pub struct Socket<'a> {
    shard: &'a mut Shard,
    id: SocketId,
}

impl std::fmt::Debug for Socket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id()).finish()
    }
}

impl<'a> Socket<'a> {
    pub(crate) fn new(shard: &'a mut Shard, id: SocketId) -> Self {
        Socket { shard, id }
    }

    fn state(&self) -> Option<&SocketState<crate::shard::AckCallback>> {
        self.shard.sio.socket(self.id)
    }

    fn live(&self) -> Result<&SocketState<crate::shard::AckCallback>, EmitError> {
        self.state()
            .filter(|s| s.connected)
            .ok_or(EmitError::Disconnected)
    }

    /// The socket id (its own room's name).
    pub fn id(&self) -> &str {
        self.state().map_or("", |s| &s.id)
    }

    /// The namespace name.
    pub fn namespace(&self) -> &str {
        self.state().map_or("", |s| self.shard.sio.name(s.ns))
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        self.live().is_ok()
    }

    /// The auth object the client sent with CONNECT, as raw JSON (`{}` when none).
    pub fn auth(&self) -> &str {
        self.state()
            .and_then(|s| std::str::from_utf8(&s.auth).ok())
            .unwrap_or("{}")
    }

    /// The auth object as a JSON value.
    pub fn auth_value(&self) -> serde_json::Value {
        serde_json::from_str(self.auth()).unwrap_or_default()
    }

    fn handshake(&self) -> Option<&HandshakeData> {
        self.shard.engine.handshake(self.state()?.session)
    }

    /// Headers of the request that opened the connection (lower-case names).
    pub fn headers(&self) -> &Pairs {
        static NONE: OnceLock<Pairs> = OnceLock::new();
        self.handshake()
            .map_or_else(|| NONE.get_or_init(Pairs::default), |h| &h.headers)
    }

    /// Query parameters of that request.
    pub fn query(&self) -> &Pairs {
        static NONE: OnceLock<Pairs> = OnceLock::new();
        self.handshake()
            .map_or_else(|| NONE.get_or_init(Pairs::default), |h| &h.query)
    }

    /// The client's address.
    pub fn address(&self) -> Option<SocketAddr> {
        self.handshake().map(|h| h.address)
    }

    /// Sends an event to this client. A tuple is several arguments, `()` none, anything else
    /// one; [`Args`] re-emits what was received; [`crate::Binary`] values travel as binary.
    pub fn emit<T: Serialize + ?Sized>(&mut self, event: &str, args: &T) -> Result<(), EmitError> {
        check_name(event)?;
        let packets = encode_event(self.namespace_of_live()?, event, None, args)?;
        self.shard
            .sio
            .send(&mut self.shard.engine, self.id, &packets);
        Ok(())
    }

    /// The namespace name of a connected socket.
    fn namespace_of_live(&self) -> Result<&str, EmitError> {
        let ns = self.live()?.ns;
        Ok(self.shard.sio.name(ns))
    }

    /// Sends an event and waits for the client's acknowledgement: `callback` gets its
    /// arguments, or [`AckError::Timeout`] after `timeout`.
    pub fn emit_with_ack<T, F>(
        &mut self,
        event: &str,
        args: &T,
        timeout: Duration,
        callback: F,
    ) -> Result<(), EmitError>
    where
        T: Serialize + ?Sized,
        F: FnOnce(&mut Socket<'_>, Result<Args, AckError>) + 'static,
    {
        check_name(event)?;
        let nsp = self.namespace_of_live()?;
        // The id is the socket's next one; it is taken only once the packet is encoded.
        let next = self
            .shard
            .sio
            .next_ack(self.id)
            .ok_or(EmitError::Disconnected)?;
        let packets = encode_event(nsp, event, Some(next), args)?;
        let callback = Box::new(move |shard: &mut Shard, id, result| {
            callback(&mut Socket::new(shard, id), result)
        });
        let now = self.shard.now;
        self.shard.sio.add_ack(now, self.id, timeout, callback);
        self.shard
            .sio
            .send(&mut self.shard.engine, self.id, &packets);
        Ok(())
    }

    /// Answers the client's acknowledgement request `id` (from [`crate::Event::ack`]).
    pub fn ack<T: Serialize + ?Sized>(&mut self, id: u64, args: &T) -> Result<(), EmitError> {
        let packets = encode_ack(self.namespace_of_live()?, id, args)?;
        self.shard
            .sio
            .send(&mut self.shard.engine, self.id, &packets);
        Ok(())
    }

    /// A handle to emit from any thread (e.g. after work on another thread is done), when
    /// the runtime provides one (every corelay runtime does).
    pub fn io(&self) -> Option<Io> {
        self.shard.post.clone().map(Io::new)
    }

    /// Joins a room.
    pub fn join(&mut self, room: &str) {
        if self.connected() {
            self.shard.sio.join(self.id, room);
        }
    }

    /// Leaves a room.
    pub fn leave(&mut self, room: &str) {
        if self.connected() {
            self.shard.sio.leave(self.id, room);
        }
    }

    /// The rooms the socket is in, its own id first.
    pub fn rooms(&self) -> Vec<String> {
        if self.connected() {
            self.shard.sio.rooms_of(self.id)
        } else {
            Vec::new()
        }
    }

    /// Broadcasts to a room, leaving this socket out (`socket.to(room)`).
    pub fn to(&mut self, room: &str) -> Operator<'_> {
        self.broadcast().to(room)
    }

    /// Broadcasts to every other socket of the namespace (`socket.broadcast`).
    pub fn broadcast(&mut self) -> Operator<'_> {
        let except = Some(self.id);
        self.operator(except)
    }

    /// Broadcasts within the namespace, this socket included (`io.of(nsp)`).
    pub fn within(&mut self) -> Operator<'_> {
        self.operator(None)
    }

    fn operator(&mut self, except_socket: Option<SocketId>) -> Operator<'_> {
        let ns = self.live().ok().map(|s| s.ns);
        Operator::new(Local {
            shard: self.shard,
            ns,
            except_socket,
        })
    }

    /// Leaves the namespace (the client sees "io server disconnect"); with `close`, the
    /// whole connection is closed too.
    pub fn disconnect(&mut self, close: bool) {
        let Some(si) = self.state().map(|s| s.session) else {
            return;
        };
        let sockets = if close {
            self.shard.sio.sockets_of(si)
        } else {
            std::iter::once(self.id).collect()
        };
        for sk in sockets {
            self.shard
                .disconnect_socket(sk, DisconnectReason::ServerNamespaceDisconnect, true);
        }
        if close {
            self.shard
                .close_client(si, DisconnectReason::ForcedServerClose);
        }
    }
}
