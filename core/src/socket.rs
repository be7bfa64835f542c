//! What handlers hold: a [`Socket`] to act on one client, an [`Operator`] to broadcast.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use smallvec::SmallVec;

use crate::mesh::{Broadcast, RoomNames};
use crate::payload::Args;
use crate::shard::socketio::{encode_ack, encode_event};
use crate::shard::Shard;

/// Why a socket left, in the words of the Node server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server called `disconnect` on the socket.
    ServerNamespaceDisconnect,
    /// The client called `disconnect` on the socket.
    ClientNamespaceDisconnect,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The connection was closed.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client sent a packet that is not Engine.IO.
    ParseError,
    /// The server closed the connection after invalid Socket.IO input.
    ForcedClose,
    /// The server closed the connection (an invalid packet order, or a timeout).
    ForcedServerClose,
}

impl DisconnectReason {
    /// The reason string of the Node server.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ForcedServerClose => "forced server close",
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an acknowledgement did not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout.
    #[error("operation has timed out")]
    Timeout,
}

/// Why an emit was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments could not be serialized.
    #[error("arguments could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket has left.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The event name is reserved.
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
}

pub(crate) fn check_name(event: &str) -> Result<(), EmitError> {
    if crate::wire::sio::RESERVED_EVENTS.contains(&event) {
        return Err(EmitError::Reserved(event.to_owned()));
    }
    Ok(())
}

/// One client's socket in one namespace, lent to a handler.
pub struct Socket<'a> {
    shard: &'a mut Shard,
    key: usize,
    generation: u32,
}

impl std::fmt::Debug for Socket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id()).finish()
    }
}

impl<'a> Socket<'a> {
    pub(crate) fn new(shard: &'a mut Shard, key: usize) -> Self {
        let generation = shard.st.sockets[key].generation;
        Socket {
            shard,
            key,
            generation,
        }
    }

    fn state(&self) -> Option<&crate::shard::SocketState> {
        self.shard
            .st
            .sockets
            .get(self.key)
            .filter(|s| s.generation == self.generation)
    }

    fn live(&self) -> Result<(), EmitError> {
        match self.state() {
            Some(s) if s.connected => Ok(()),
            _ => Err(EmitError::Disconnected),
        }
    }

    /// The socket id (its own room's name).
    pub fn id(&self) -> &str {
        self.state().map_or("", |s| &s.id)
    }

    /// The namespace name.
    pub fn namespace(&self) -> &str {
        match self.state() {
            Some(s) => &self.shard.app.namespace(s.ns).name,
            None => "",
        }
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        self.state().is_some_and(|s| s.connected)
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

    fn handshake(&self) -> Option<&crate::shard::HandshakeData> {
        let s = self.state()?;
        Some(&self.shard.st.sessions.get(s.session)?.handshake)
    }

    /// Headers of the request that opened the connection (lower-case names).
    pub fn headers(&self) -> &crate::pairs::Pairs {
        static NONE: std::sync::OnceLock<crate::pairs::Pairs> = std::sync::OnceLock::new();
        self.handshake()
            .map_or_else(|| NONE.get_or_init(Default::default), |h| &h.headers)
    }

    /// Query parameters of that request.
    pub fn query(&self) -> &crate::pairs::Pairs {
        static NONE: std::sync::OnceLock<crate::pairs::Pairs> = std::sync::OnceLock::new();
        self.handshake()
            .map_or_else(|| NONE.get_or_init(Default::default), |h| &h.query)
    }

    /// The client's address.
    pub fn address(&self) -> Option<SocketAddr> {
        self.handshake().map(|h| h.address)
    }

    /// Sends an event to this client. A tuple is several arguments, `()` none, anything else
    /// one; [`Args`] re-emits what was received; [`crate::Binary`] values travel as binary.
    pub fn emit<T: Serialize + ?Sized>(&mut self, event: &str, args: &T) -> Result<(), EmitError> {
        check_name(event)?;
        self.live()?;
        let packets = encode_event(self.namespace(), event, None, args)?;
        self.shard.send_encoded(self.key, &packets);
        Ok(())
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
        self.live()?;
        let id = self.shard.add_ack(self.key, timeout, Box::new(callback));
        match encode_event(self.namespace(), event, Some(id), args) {
            Ok(packets) => {
                self.shard.send_encoded(self.key, &packets);
                Ok(())
            }
            Err(e) => {
                let s = &mut self.shard.st.sockets[self.key];
                s.acks.retain(|a| a.id != id);
                Err(e.into())
            }
        }
    }

    /// Answers the client's acknowledgement request `id` (from [`crate::Event::ack`]).
    pub fn ack<T: Serialize + ?Sized>(&mut self, id: u64, args: &T) -> Result<(), EmitError> {
        self.live()?;
        let packets = encode_ack(self.namespace(), id, args)?;
        self.shard.send_encoded(self.key, &packets);
        Ok(())
    }

    /// A handle to emit from any thread (e.g. after work on another thread is done), when
    /// the runtime provides one (every corelay runtime does).
    pub fn io(&self) -> Option<crate::mesh::Io> {
        self.shard.io.clone()
    }

    /// Joins a room.
    pub fn join(&mut self, room: &str) {
        if self.connected() {
            self.shard.join(self.key, room);
        }
    }

    /// Leaves a room.
    pub fn leave(&mut self, room: &str) {
        if self.connected() {
            self.shard.leave(self.key, room);
        }
    }

    /// The rooms the socket is in, its own id first.
    pub fn rooms(&self) -> Vec<String> {
        if self.connected() {
            self.shard.rooms_of(self.key)
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
        let ns = self.state().map_or(usize::MAX, |s| s.ns);
        let mut op = Operator::new(self.shard, ns);
        op.except_socket = Some(self.key);
        op
    }

    /// Broadcasts within the namespace, this socket included (`io.of(nsp)`).
    pub fn within(&mut self) -> Operator<'_> {
        let ns = self.state().map_or(usize::MAX, |s| s.ns);
        Operator::new(self.shard, ns)
    }

    /// Leaves the namespace (the client sees "io server disconnect"); with `close`, the
    /// whole connection is closed too.
    pub fn disconnect(&mut self, close: bool) {
        let Some(s) = self.state() else { return };
        let session = s.session;
        if close {
            let sockets: SmallVec<[usize; 4]> = self
                .shard
                .st
                .sessions
                .get(session)
                .map(|s| s.sockets.iter().map(|&(_, sk)| sk).collect())
                .unwrap_or_default();
            for sk in sockets {
                self.shard
                    .disconnect_socket(sk, DisconnectReason::ServerNamespaceDisconnect, true);
            }
            self.shard
                .close_session(session, DisconnectReason::ForcedServerClose, true);
        } else {
            self.shard.disconnect_socket(
                self.key,
                DisconnectReason::ServerNamespaceDisconnect,
                true,
            );
        }
    }
}

/// A broadcast under construction: rooms to reach and rooms to leave out. It reaches the
/// sockets of every shard.
pub struct Operator<'a> {
    shard: &'a mut Shard,
    ns: usize,
    rooms: RoomNames,
    except: RoomNames,
    except_socket: Option<usize>,
}

impl std::fmt::Debug for Operator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .finish()
    }
}

impl<'a> Operator<'a> {
    pub(crate) fn new(shard: &'a mut Shard, ns: usize) -> Self {
        Operator {
            shard,
            ns,
            rooms: RoomNames::new(),
            except: RoomNames::new(),
            except_socket: None,
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
        if self.ns == usize::MAX {
            return Err(EmitError::Disconnected);
        }
        let name = &self.shard.app.namespace(self.ns).name;
        let packets = encode_event(name, event, None, args)?;
        let broadcast = Broadcast {
            nsp: name.as_str().into(),
            rooms: self.rooms,
            except: self.except,
            packets,
        };
        self.shard
            .broadcast_here(self.ns, &broadcast, self.except_socket);
        self.shard.broadcast_elsewhere(broadcast);
        Ok(())
    }
}
