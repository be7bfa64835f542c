//! Bare Engine.IO applications: messages without the Socket.IO layer.

use std::sync::Arc;

use bytes::Bytes;

use crate::engine::OutPacket;
use crate::shard::Shard;
use crate::socket::DisconnectReason;
use crate::wire::eio::PacketType;

/// A message received on a bare Engine.IO session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineMessage {
    /// A text message (valid UTF-8).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl EngineMessage {
    /// The text, for a text message.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            EngineMessage::Text(b) => std::str::from_utf8(b).ok(),
            EngineMessage::Binary(_) => None,
        }
    }
}

pub(crate) type EngineOpenHandler = Arc<dyn Fn(&mut EngineSocket<'_>) + Send + Sync>;
pub(crate) type EngineMessageHandler =
    Arc<dyn Fn(&mut EngineSocket<'_>, EngineMessage) + Send + Sync>;
pub(crate) type EngineCloseHandler = Arc<dyn Fn(&str, DisconnectReason) + Send + Sync>;

#[derive(Default)]
pub(crate) struct EngineHandlers {
    pub(crate) on_connection: Option<EngineOpenHandler>,
    pub(crate) on_message: Option<EngineMessageHandler>,
    pub(crate) on_close: Option<EngineCloseHandler>,
}

/// An Engine.IO session lent to a handler.
pub struct EngineSocket<'a> {
    shard: &'a mut Shard,
    session: usize,
}

impl std::fmt::Debug for EngineSocket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSocket")
            .field("id", &self.id())
            .finish()
    }
}

impl EngineSocket<'_> {
    /// The session id.
    pub fn id(&self) -> &str {
        self.shard
            .st
            .sessions
            .get(self.session)
            .map_or("", |s| &s.sid)
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) {
        self.send(OutPacket::text(PacketType::Message, text.as_bytes()));
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) {
        self.send(OutPacket::binary(data));
    }

    /// Sends a message as it came: text as text, binary as binary.
    pub fn send_message(&mut self, message: &EngineMessage) {
        match message {
            EngineMessage::Text(t) => self.send(OutPacket::text(PacketType::Message, t)),
            EngineMessage::Binary(b) => self.send_binary(b),
        }
    }

    fn send(&mut self, packet: OutPacket) {
        let open = self
            .shard
            .st
            .sessions
            .get(self.session)
            .is_some_and(|s| s.close_deadline.is_none());
        if open {
            self.shard.send_packet(self.session, packet);
        }
    }

    /// Closes the session.
    pub fn close(&mut self) {
        self.shard
            .close_session(self.session, DisconnectReason::ForcedClose, true);
    }
}

impl Shard {
    fn engine_handlers(&self) -> Option<&EngineHandlers> {
        match &self.app.mode {
            crate::app::Mode::Engine(h) => Some(h),
            crate::app::Mode::SocketIo { .. } => None,
        }
    }

    pub(crate) fn engine_app_open(&mut self, session: usize) {
        if let Some(h) = self.engine_handlers().and_then(|h| h.on_connection.clone()) {
            h(&mut EngineSocket {
                shard: self,
                session,
            });
        }
    }

    pub(crate) fn engine_app_message(&mut self, session: usize, data: Bytes, binary: bool) {
        let message = if binary {
            EngineMessage::Binary(data)
        } else {
            EngineMessage::Text(data)
        };
        if let Some(h) = self.engine_handlers().and_then(|h| h.on_message.clone()) {
            h(
                &mut EngineSocket {
                    shard: self,
                    session,
                },
                message,
            );
        }
    }

    pub(crate) fn engine_app_close(&mut self, session: usize, reason: DisconnectReason) {
        if let Some(h) = self.engine_handlers().and_then(|h| h.on_close.clone()) {
            let sid = self.st.sessions[session].sid.clone();
            h(&sid, reason);
        }
    }
}
