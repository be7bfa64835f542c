//! A bare Engine.IO session, as its handlers see it.

use crate::engine::{CloseReason, EngineMessage, OutPacket};
use crate::id::SessionId;
use crate::shard::Shard;
use crate::wire::eio::PacketType;

/// An Engine.IO session lent to a handler.
pub struct EngineSocket<'a> {
    shard: &'a mut Shard,
    session: SessionId,
}

impl std::fmt::Debug for EngineSocket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSocket")
            .field("id", &self.id())
            .finish()
    }
}

impl<'a> EngineSocket<'a> {
    pub(crate) fn new(shard: &'a mut Shard, session: SessionId) -> Self {
        EngineSocket { shard, session }
    }

    /// The session id.
    pub fn id(&self) -> &str {
        self.shard.engine.sid(self.session).unwrap_or("")
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
        if self.shard.engine.is_open(self.session) {
            self.shard.engine.send(self.session, packet);
        }
    }

    /// Closes the session.
    pub fn close(&mut self) {
        self.shard
            .engine
            .close_session(self.session, CloseReason::ForcedClose, true);
    }
}
