//! What a handler holds: a [`Socket`], one client in one namespace.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Serialize;

use super::operator::{Local, Operator};
use super::{AckFuture, AckSender, Io, SocketRef};
use crate::engine::HandshakeData;
use crate::id::SocketId;
use crate::pairs::Pairs;
use crate::shard::Shard;
use crate::socketio::{
    check_name, encode_ack, encode_event, js_date, AckError, Args, Data, EmitError,
    SocketHandshake, SocketState,
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
            .and_then(|s| std::str::from_utf8(&s.extra.auth).ok())
            .unwrap_or("{}")
    }

    /// The auth object as a JSON value.
    pub fn auth_value(&self) -> serde_json::Value {
        serde_json::from_str(self.auth()).unwrap_or_default()
    }

    fn handshake_data(&self) -> Option<&HandshakeData> {
        self.shard.engine.handshake(self.state()?.session)
    }

    /// Headers of the request that opened the connection (lower-case names).
    pub fn headers(&self) -> &Pairs {
        static NONE: OnceLock<Pairs> = OnceLock::new();
        self.handshake_data()
            .map_or_else(|| NONE.get_or_init(Pairs::default), |h| &h.headers)
    }

    /// Query parameters of that request.
    pub fn query(&self) -> &Pairs {
        static NONE: OnceLock<Pairs> = OnceLock::new();
        self.handshake_data()
            .map_or_else(|| NONE.get_or_init(Pairs::default), |h| &h.query)
    }

    /// The client's address.
    pub fn address(&self) -> Option<SocketAddr> {
        self.handshake_data().map(|h| h.address)
    }

    /// Sends an event to this client. A tuple is several arguments, `()` none, anything else
    /// one; [`Args`] re-emits what was received; [`crate::Binary`] values travel as binary.
    pub fn emit<T: Serialize + ?Sized>(&mut self, event: &str, args: &T) -> Result<(), EmitError> {
        check_name(event)?;
        let parser = self.shard.app.config.parser;
        let packets = encode_event(parser, self.namespace_of_live()?, event, None, args)?;
        self.outgoing(event, args);
        self.shard
            .sio
            .send(&mut self.shard.engine, self.id, &packets);
        Ok(())
    }

    /// Calls the `on_any_outgoing` listeners, if any, with the event about to be sent.
    fn outgoing<T: Serialize + ?Sized>(&mut self, event: &str, args: &T) {
        let Some(ns) = self.state().map(|s| s.ns) else {
            return;
        };
        let Some((app, tag)) = self.shard.handlers_of(ns) else {
            return;
        };
        let listeners = &app
            .handlers(tag)
            .expect("checked by handlers_of")
            .any_outgoing;
        if listeners.is_empty() {
            return;
        }
        let value = crate::socketio::payload::args_value(args);
        for listener in listeners {
            listener(self.shard, self.id, event, &value);
        }
    }

    /// The namespace name of a connected socket.
    fn namespace_of_live(&self) -> Result<&str, EmitError> {
        let ns = self.live()?.ns;
        Ok(self.shard.sio.name(ns))
    }

    /// Sends an event and returns the client's answer to await: its arguments, or
    /// [`AckError::Timeout`] after `timeout`, or [`AckError::Disconnected`] if the socket
    /// leaves first (Node's `socket.timeout(t).emitWithAck(...)`). The future is `Send`.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &mut self,
        event: &str,
        args: &T,
        timeout: Duration,
    ) -> Result<AckFuture, EmitError> {
        let (future, complete) = AckFuture::new();
        self.emit_with_ack_callback(event, args, timeout, move |_, result| complete(result))?;
        Ok(future)
    }

    /// As [`Socket::emit_with_ack`], with a callback that runs on this shard when the answer
    /// comes (or times out), given the socket (Node's `socket.timeout(t).emit(..., callback)`).
    /// Dropped if the socket leaves first.
    pub fn emit_with_ack_callback<T, F>(
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
        let packets = encode_event(self.shard.app.config.parser, nsp, event, Some(next), args)?;
        self.outgoing(event, args);
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

    /// The sender of acknowledgement `id` (from [`crate::Event::ack`]), to answer later or
    /// from elsewhere.
    pub fn ack_sender(&self, id: u64) -> Result<AckSender, EmitError> {
        let s = self.live()?;
        let nsp = self.shard.sio.name_arc(s.ns);
        Ok(AckSender::new(self.shard, nsp, s.id.clone(), id))
    }

    /// A handle to this socket that a task can keep across awaits.
    pub fn handle(&self) -> SocketRef {
        SocketRef::new(self.shard, self.id)
    }

    /// Runs `task` on this shard's thread (a local task of the runtime: it need not be
    /// `Send`); what it does through a [`SocketRef`] reaches the wire after each of its polls.
    pub fn spawn(&mut self, task: impl std::future::Future<Output = ()> + 'static) {
        self.shard.spawn(task);
    }

    /// The socket's data (Node's `socket.data`), when it is a `T`.
    pub fn data<T: 'static>(&self) -> Option<&T> {
        self.state()?.extra.data.as_ref()?.get()
    }

    /// The socket's data, when it is a `T`, to change in place.
    pub fn data_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.shard
            .sio
            .socket_mut(self.id)?
            .extra
            .data
            .as_mut()?
            .get_mut()
    }

    /// Sets the socket's data. It must serialize: `fetch_sockets` carries it to other shards
    /// (as JSON).
    pub fn set_data<T: Serialize + 'static>(&mut self, value: T) {
        if let Some(s) = self.shard.sio.socket_mut(self.id) {
            s.extra.data = Some(Data::new(value));
        }
    }

    /// The handshake (Node's `socket.handshake`).
    pub fn handshake(&self) -> SocketHandshake {
        let none = || SocketHandshake {
            headers: Pairs::default(),
            time: js_date(0),
            address: String::new(),
            xdomain: false,
            secure: false,
            issued: 0,
            url: String::new(),
            query: Pairs::default(),
            auth: serde_json::json!({}),
        };
        self.shard.socket_handshake(self.id).unwrap_or_else(none)
    }

    /// Answers the client's acknowledgement request `id` (from [`crate::Event::ack`]).
    pub fn ack<T: Serialize + ?Sized>(&mut self, id: u64, args: &T) -> Result<(), EmitError> {
        let parser = self.shard.app.config.parser;
        let packets = encode_ack(parser, self.namespace_of_live()?, id, args)?;
        self.shard
            .sio
            .send(&mut self.shard.engine, self.id, &packets);
        Ok(())
    }

    /// A handle to emit from any thread (e.g. after work on another thread is done), when
    /// the runtime provides one (every corelay runtime does).
    pub fn io(&self) -> Option<Io> {
        Io::of_shard(self.shard)
    }

    /// Turns this socket's `on_any` listeners off (Node's `socket.offAny()`); the event
    /// listeners keep running.
    pub fn off_any(&mut self) {
        if let Some(s) = self.shard.sio.socket_mut(self.id) {
            s.extra.any_off = true;
        }
    }

    /// Joins a room.
    pub fn join(&mut self, room: &str) {
        if self.connected() {
            self.shard.sio.join(self.id, room);
            self.shard.flush_room_events();
        }
    }

    /// Leaves a room.
    pub fn leave(&mut self, room: &str) {
        if self.connected() {
            self.shard.sio.leave(self.id, room);
            self.shard.flush_room_events();
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
        self.shard.disconnect_by_server(self.id, close);
    }
}
