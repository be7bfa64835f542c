//! What an input means for the application: the engine's events go to the Socket.IO layer
//! (or to a bare Engine.IO application), and Socket.IO packets to the handlers.

use std::time::Instant;

use bytes::Bytes;

use super::Shard;
use crate::engine::{CloseReason, EngineMessage, Event as EngineEvent};
use crate::id::{SessionId, SocketId};
use crate::socketio::{
    encode_connect_error, encode_connected, encode_plain, AckError, Args, DisconnectReason, Event,
    Handshake,
};
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
                }
            }
            if !self.engine.settle() {
                break;
            }
        }
        self.sio.reap();
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
        let Some(ns) = self.sio.namespace(nsp) else {
            let refusal = encode_connect_error(nsp, "Invalid namespace", None);
            self.engine.send(si, refusal);
            return;
        };
        // Copied: a view would keep the whole frame it came in alive for the socket's life.
        let auth = packet
            .data
            .as_deref()
            .map_or_else(|| Bytes::from_static(b"{}"), Bytes::copy_from_slice);
        let app = self.app.clone();
        let Some(namespace) = app.namespace(ns) else {
            return;
        };
        if let Some(hs) = self.engine.handshake(si) {
            let handshake = Handshake {
                auth: std::str::from_utf8(&auth).unwrap_or("{}"),
                headers: &hs.headers,
                query: &hs.query,
                address: hs.address,
            };
            for middleware in &namespace.middlewares {
                if let Err(e) = middleware(&handshake) {
                    let refusal = encode_connect_error(nsp, &e.message, e.data.as_deref());
                    self.engine.send(si, refusal);
                    return;
                }
            }
        }
        let sk = self.sio.connect(si, ns, auth);
        let id = &self.sio.socket(sk).map_or("", |s| &*s.id);
        // Node writes the answer on its own; what the handler sends follows in later writes.
        self.engine
            .send_alone(si, encode_connected(&namespace.name, id));
        if let Some(h) = namespace.on_connection.clone() {
            h(self, sk);
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
                let app = self.app.clone();
                let Some(namespace) = self.sio.socket(sk).and_then(|s| app.namespace(s.ns)) else {
                    return;
                };
                let handler = namespace
                    .events
                    .get(name.as_ref())
                    .or(namespace.on_any.as_ref());
                if let Some(h) = handler {
                    let event = Event {
                        name: &name,
                        args: Args::new(packet.data, true, attachments),
                        ack: packet.id,
                    };
                    h(self, sk, event);
                }
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
        let app = self.app.clone();
        let Some(namespace) = app.namespace(s.ns) else {
            return;
        };
        if let Some(h) = namespace.on_disconnecting.clone() {
            h(self, sk, reason);
        }
        let Some(si) = self.sio.remove(sk) else {
            return;
        };
        if notify {
            let packet = encode_plain(PacketType::Disconnect, &namespace.name, None);
            self.engine.send(si, packet);
        }
        if let Some(h) = namespace.on_disconnect.clone() {
            h(self, sk, reason);
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
