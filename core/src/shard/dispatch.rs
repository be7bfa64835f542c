//! What an input means for the application: the engine's events go to the Socket.IO layer
//! (or to a bare Engine.IO application), and Socket.IO packets to the handlers.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::{App, Middleware, Shard};
use crate::engine::{CloseReason, EngineMessage, Event as EngineEvent};
use crate::id::{ConnId, NsId, SessionId, SocketId};
use crate::socketio::{
    encode_connect_error, encode_connected, encode_disconnect, AckError, Args, ConnectError,
    DisconnectReason, Event,
};
use crate::wire::http::RequestHead;
use crate::wire::sio::{self, PacketType};

impl Shard {
    /// Hands every event of the last input to the layers above, then forgets the sockets that
    /// left (no handler can see them any more).
    pub(super) fn dispatch(&mut self) {
        loop {
            while let Some(event) = self.engine.poll_event() {
                match event {
                    EngineEvent::Opened(si) => self.opened(si),
                    EngineEvent::Message {
                        session,
                        data,
                        binary,
                    } => {
                        if self.engine.is_open(session) {
                            self.message(session, data, binary);
                        }
                    }
                    EngineEvent::Closed {
                        session,
                        sid,
                        reason,
                    } => self.session_closed(session, &sid, reason),
                    EngineEvent::Decide { conn, request } => self.decide(conn, *request),
                }
            }
            if !self.engine.settle() {
                break;
            }
        }
        self.flush_room_events();
        self.sio.reap();
        self.cleanup_namespaces();
    }

    /// A handshake waits for the async `allow_request`: it runs as a task, and its answer
    /// goes back to the engine.
    fn decide(&mut self, conn: ConnId, request: RequestHead) {
        let Some(hook) = self.app.allow_request_async.clone() else {
            return self.engine.decided(conn, Ok(()));
        };
        let decision = hook(request);
        let this = self.this();
        self.spawn(async move {
            let decision = decision.await;
            let Some(shard) = this.upgrade() else {
                return;
            };
            shard
                .borrow_mut()
                .task_work(|shard| shard.engine.decided(conn, decision));
        });
    }

    fn opened(&mut self, si: SessionId) {
        match self.app.engine_handlers() {
            None => self.sio.client_opened(self.now, si),
            Some(h) => {
                if let Some(h) = h.on_connection.clone() {
                    h(self, si);
                }
            }
        }
    }

    fn message(&mut self, si: SessionId, data: Bytes, binary: bool) {
        if let Some(h) = self.app.engine_handlers() {
            if let Some(h) = h.on_message.clone() {
                let message = match binary {
                    true => EngineMessage::Binary(data),
                    false => EngineMessage::Text(data),
                };
                h(self, si, message);
            }
            return;
        }
        match self.sio.decode(si, data, binary) {
            Ok(Some((packet, attachments))) => self.packet(si, packet, attachments),
            Ok(None) => {}
            // A packet the parser throws on: Node closes the connection ("forced close").
            Err(_) => self
                .engine
                .close_session(si, CloseReason::ForcedClose, true),
        }
    }

    fn session_closed(&mut self, si: SessionId, sid: &str, reason: CloseReason) {
        match self.app.engine_handlers() {
            None => {
                for sk in self.sio.client_closed(si) {
                    self.disconnect_socket(sk, reason.into(), false);
                }
            }
            Some(h) => {
                if let Some(h) = h.on_close.clone() {
                    h(sid, reason.into());
                }
            }
        }
    }

    /// A complete Socket.IO packet with its attachments.
    fn packet(&mut self, si: SessionId, packet: sio::Packet, attachments: Vec<Bytes>) {
        let joined = self.sio.joined(si, packet.nsp_str());
        match (joined, packet.kind) {
            (None, PacketType::Connect) => self.connect(si, packet),
            (Some(sk), kind) if kind != PacketType::Connect && kind != PacketType::ConnectError => {
                self.socket_packet(sk, packet, attachments)
            }
            // A packet for a namespace not joined, a second CONNECT, a CONNECT_ERROR.
            _ => self.close_client(si, DisconnectReason::ForcedServerClose),
        }
    }

    /// A CONNECT to a namespace: the middlewares decide, then the socket joins.
    fn connect(&mut self, si: SessionId, packet: sio::Packet) {
        let nsp = packet.nsp_str();
        // Copied: a view would keep the whole frame it came in alive for the socket's life.
        let auth = packet
            .data
            .as_deref()
            .map_or_else(|| Bytes::from_static(b"{}"), Bytes::copy_from_slice);
        let ns = match self.sio.namespace(nsp) {
            Some(ns) => ns,
            None => match self.app.match_dynamic(nsp, &auth) {
                Some(tag) => {
                    let ns = self.sio.add_namespace(nsp.into(), tag, true);
                    self.namespace_added(ns);
                    ns
                }
                None => {
                    let parser = self.app.config.parser;
                    let refusal = encode_connect_error(parser, nsp, "Invalid namespace", None);
                    self.engine.send(si, refusal);
                    return;
                }
            },
        };
        let sk = self.sio.create(self.now, si, ns, auth);
        self.run_middlewares(sk, 0);
    }

    /// A namespace is there: its room changes are logged if it has adapter listeners.
    pub(crate) fn namespace_added(&mut self, ns: NsId) {
        let tag = self.sio.entry(ns).tag;
        if self.cluster_wants_rooms() {
            self.sio.log_rooms(ns);
        }
        if self.sio.entry(ns).child {
            if let Some(cluster) = self.post.as_ref().and_then(|p| p.cluster()) {
                cluster.send(crate::mesh::ClusterEvent::Namespace {
                    name: self.sio.name(ns).into(),
                    parent: self.app.name_of(tag).into(),
                });
            }
        }
        if self
            .app
            .handlers(tag)
            .is_some_and(|h| !h.adapter_events.is_empty())
        {
            self.sio.log_rooms(ns);
        }
    }

    /// Whether the cluster adapter wants to hear of rooms.
    pub(crate) fn cluster_wants_rooms(&self) -> bool {
        let cluster = self.post.as_ref().and_then(|p| p.cluster());
        cluster.is_some_and(|c| c.wants_rooms())
    }

    /// Hands the logged room changes to the adapter listeners of their namespaces (and to the
    /// cluster adapter, when it wants them).
    pub(crate) fn flush_room_events(&mut self) {
        let events = self.sio.take_room_events();
        if events.is_empty() {
            return;
        }
        let app = self.app.clone();
        let cluster = self.post.clone();
        let cluster = cluster
            .as_ref()
            .and_then(|p| p.cluster())
            .filter(|c| c.wants_rooms());
        for (ns, event) in events {
            if let Some(cluster) = cluster {
                let made = match &event {
                    crate::socketio::RoomEvent::Create(room) => Some((room, true)),
                    crate::socketio::RoomEvent::Delete(room) => Some((room, false)),
                    _ => None,
                };
                if let Some((room, made)) = made {
                    cluster.send(crate::mesh::ClusterEvent::Room {
                        nsp: self.sio.name(ns).into(),
                        room: room.clone(),
                        made,
                        private: made && self.sio.socket_by_id(room).is_some(),
                    });
                }
            }
            let Some(h) = app.handlers(self.sio.entry(ns).tag) else {
                continue;
            };
            for listener in &h.adapter_events {
                listener(&event);
            }
        }
    }

    /// The handlers of a namespace (a child's are its parent's).
    pub(crate) fn handlers_of(&self, ns: NsId) -> Option<(Arc<App>, u32)> {
        let tag = self.sio.entry(ns).tag;
        self.app.handlers(tag)?;
        Some((self.app.clone(), tag))
    }

    /// Runs a connecting socket's middlewares from the `from`-th on: the first refusal
    /// answers CONNECT_ERROR; an async one is awaited in a task, which goes on with the rest;
    /// once all agree, the socket joins.
    pub(crate) fn run_middlewares(&mut self, sk: SocketId, from: usize) {
        let Some(ns) = self.sio.socket(sk).map(|s| s.ns) else {
            return;
        };
        let Some((app, tag)) = self.handlers_of(ns) else {
            return;
        };
        let namespace = &app
            .handlers(tag)
            .expect("checked by handlers_of")
            .middlewares;
        for (i, middleware) in namespace.iter().enumerate().skip(from) {
            match middleware {
                Middleware::Sync(f) => {
                    if let Err(e) = f(self, sk) {
                        return self.refuse(sk, e);
                    }
                }
                Middleware::Async(f) => {
                    let future = f(self, sk);
                    let this = self.this();
                    self.spawn(async move {
                        let result = future.await;
                        let Some(shard) = this.upgrade() else {
                            return;
                        };
                        shard.borrow_mut().task_work(|shard| match result {
                            Ok(()) => shard.run_middlewares(sk, i + 1),
                            Err(e) => shard.refuse(sk, e),
                        });
                    });
                    return;
                }
            }
        }
        self.admit(sk);
    }

    /// A middleware refused a connecting socket.
    fn refuse(&mut self, sk: SocketId, e: ConnectError) {
        let Some(s) = self.sio.socket(sk).filter(|s| !s.connected) else {
            return;
        };
        let (si, ns) = (s.session, s.ns);
        let parser = self.app.config.parser;
        let refusal =
            encode_connect_error(parser, self.sio.name(ns), &e.message, e.data.as_deref());
        if self.engine.is_open(si) {
            self.engine.send(si, refusal);
        }
        self.sio.discard(sk);
        self.cleanup_namespaces();
    }

    /// The middlewares let a socket in: it joins its namespace, the client is told, and
    /// the connection handlers run.
    fn admit(&mut self, sk: SocketId) {
        if !self.sio.enter(sk) {
            return self.cleanup_namespaces();
        }
        let Some(s) = self.sio.socket(sk) else {
            return;
        };
        let (si, ns) = (s.session, s.ns);
        let Some((app, tag)) = self.handlers_of(ns) else {
            return;
        };
        let connected = encode_connected(self.app.config.parser, self.sio.name(ns), &s.id);
        // Node writes the answer on its own; what the handler sends follows in later writes.
        self.engine.send_alone(si, connected);
        self.flush_room_events();
        for h in &app
            .handlers(tag)
            .expect("checked by handlers_of")
            .on_connection
        {
            h(self, sk);
        }
    }

    /// Forgets the children of dynamic namespaces left without sockets, when the app says
    /// so (`cleanup_empty_child_namespaces`).
    pub(crate) fn cleanup_namespaces(&mut self) {
        let emptied = self.sio.take_emptied();
        if self.app.config.cleanup_empty_child_namespaces {
            for ns in emptied {
                self.sio.remove_namespace(ns);
            }
        }
    }

    /// A packet for a joined socket.
    fn socket_packet(&mut self, sk: SocketId, packet: sio::Packet, attachments: Vec<Bytes>) {
        match packet.kind {
            PacketType::Event | PacketType::BinaryEvent => {
                let data = packet.data.clone().unwrap_or_default();
                // Numeric event names reach no handler.
                let Some(name) = sio::event_name(&data) else {
                    return;
                };
                let event = Event {
                    name: &name,
                    args: Args::new(packet.data, true, attachments),
                    ack: packet.id,
                };
                self.event(sk, event);
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let Some(callback) = packet.id.and_then(|id| self.sio.take_ack(sk, id)) else {
                    return;
                };
                callback(self, sk, Ok(Args::new(packet.data, false, attachments)));
            }
            PacketType::Disconnect => {
                self.disconnect_socket(sk, DisconnectReason::ClientNamespaceDisconnect, false)
            }
            PacketType::Connect | PacketType::ConnectError => {}
        }
    }

    /// An event for a socket, as Node's socket dispatches it: the `on_any` listeners, then
    /// the per-packet middlewares (a refusal goes to the "error" listeners and drops the
    /// event), then the event's listeners in order (`once` ones once per socket).
    fn event(&mut self, sk: SocketId, event: Event<'_>) {
        let Some(ns) = self.sio.socket(sk).map(|s| s.ns) else {
            return;
        };
        let Some((app, tag)) = self.handlers_of(ns) else {
            return;
        };
        let h = app.handlers(tag).expect("checked by handlers_of");
        if !h.any.is_empty() && !self.sio.socket(sk).is_some_and(|s| s.extra.any_off) {
            for any in &h.any {
                any(self, sk, event.clone());
            }
        }
        for middleware in &h.packet_middlewares {
            if let Err(message) = middleware(self, sk, &event) {
                for on_error in &h.on_error {
                    on_error(self, sk, &message);
                }
                return;
            }
        }
        let Some(listeners) = h.events.get(event.name) else {
            return;
        };
        // Checked once, as Node's `dispatch` does: every listener of an event that is
        // dispatched runs, even when an earlier one disconnected the socket.
        if !self.sio.socket(sk).is_some_and(|s| s.connected) {
            return;
        }
        let last = listeners.len() - 1;
        let mut event = Some(event);
        for (i, listener) in listeners.iter().enumerate() {
            if let Some(bit) = listener.once {
                let Some(s) = self.sio.socket_mut(sk) else {
                    return;
                };
                if s.extra.once_fired & (1 << bit) != 0 {
                    continue;
                }
                s.extra.once_fired |= 1 << bit;
            }
            let e = match i == last {
                true => event.take(),
                false => event.clone(),
            };
            if let Some(e) = e {
                (listener.handler)(self, sk, e);
            }
        }
    }

    /// A socket leaves its namespace: "disconnecting" runs while its rooms are visible, then
    /// it leaves them, with `notify` the client is sent a DISCONNECT, and "disconnect" runs.
    pub(crate) fn disconnect_socket(
        &mut self,
        sk: SocketId,
        reason: DisconnectReason,
        notify: bool,
    ) {
        let Some(s) = self.sio.socket(sk).filter(|s| s.connected) else {
            return;
        };
        let ns = s.ns;
        let Some((app, tag)) = self.handlers_of(ns) else {
            return;
        };
        let h = app.handlers(tag).expect("checked by handlers_of");
        for on_disconnecting in &h.on_disconnecting {
            on_disconnecting(self, sk, reason);
        }
        let name = self.sio.name_arc(ns);
        let Some(si) = self.sio.remove(sk) else {
            return;
        };
        self.flush_room_events();
        if notify {
            let packet = encode_disconnect(self.app.config.parser, &name);
            self.engine.send(si, packet);
        }
        for on_disconnect in &h.on_disconnect {
            on_disconnect(self, sk, reason);
        }
    }

    /// The server closes a client: its sockets leave with `reason`, then its session closes
    /// (the Node server's `client.close()`).
    pub(crate) fn close_client(&mut self, si: SessionId, reason: DisconnectReason) {
        for sk in self.sio.sockets_of(si) {
            self.disconnect_socket(sk, reason, false);
        }
        self.engine
            .close_session(si, CloseReason::ForcedClose, true);
    }

    /// The Socket.IO deadlines that passed: clients that joined no namespace in time are
    /// closed, acknowledgements that did not come are reported.
    pub(super) fn socketio_timeouts(&mut self, now: Instant) {
        let expired = self.sio.handle_timeout(now);
        for si in expired.clients {
            // No namespace joined in time: the Node server closes the connection.
            self.close_client(si, DisconnectReason::ForcedServerClose);
        }
        for (sk, callback) in expired.acks {
            callback(self, sk, Err(AckError::Timeout));
        }
    }
}
