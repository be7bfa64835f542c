//! Engine.IO packets as they leave the server: encoded once, shared by reference count.

use bytes::{BufMut, Bytes, BytesMut};

use crate::wire::eio::PacketType;
use crate::wire::ws::{self, OpCode};

/// Room left in front of a packet for its WebSocket frame header (the longest is 10 bytes).
pub(crate) const HEADROOM: usize = ws::MAX_HEADER_LEN;

/// An Engine.IO packet ready for either transport.
///
/// `frame` holds the whole server WebSocket frame; the text form used by long-polling is the
/// same allocation after the frame header, so one encoding serves every recipient on every
/// transport. Binary packets need base64 for polling, which is made when (rarely) needed.
#[derive(Debug, Clone)]
pub struct OutPacket {
    frame: Bytes,
    header: u8,
    binary: bool,
}

impl OutPacket {
    /// A buffer to write a text packet into: headroom for the frame header, then the type
    /// digit. Finish it with [`OutPacket::finish_text`].
    pub(crate) fn text_buffer(ty: PacketType, capacity: usize) -> BytesMut {
        let mut buf = BytesMut::with_capacity(HEADROOM + 1 + capacity);
        buf.put_bytes(0, HEADROOM);
        buf.put_u8(ty.as_byte());
        buf
    }

    /// Frames a buffer made by [`OutPacket::text_buffer`] and filled after the type digit.
    pub(crate) fn finish_text(buf: BytesMut) -> OutPacket {
        Self::finish(buf, OpCode::Text)
    }

    /// A text packet of type `ty` with `data` after the digit.
    pub(crate) fn text(ty: PacketType, data: &[u8]) -> OutPacket {
        let mut buf = Self::text_buffer(ty, data.len());
        buf.extend_from_slice(data);
        Self::finish_text(buf)
    }

    /// A buffer to write a binary message into (headroom for the frame header). Finish it
    /// with [`OutPacket::finish_binary`].
    pub(crate) fn binary_buffer(capacity: usize) -> BytesMut {
        let mut buf = BytesMut::with_capacity(HEADROOM + capacity);
        buf.put_bytes(0, HEADROOM);
        buf
    }

    /// Frames a buffer made by [`OutPacket::binary_buffer`] and filled.
    pub(crate) fn finish_binary(buf: BytesMut) -> OutPacket {
        Self::finish(buf, OpCode::Binary)
    }

    /// A binary message.
    pub(crate) fn binary(data: &[u8]) -> OutPacket {
        let mut buf = Self::binary_buffer(data.len());
        buf.extend_from_slice(data);
        Self::finish_binary(buf)
    }

    /// Writes the frame header in place, right before the payload, in the headroom.
    fn finish(mut buf: BytesMut, opcode: OpCode) -> OutPacket {
        let len = buf.len() - HEADROOM;
        let (header, n) = ws::frame_header(opcode, true, len);
        let start = HEADROOM - n;
        buf[start..HEADROOM].copy_from_slice(&header[..n]);
        let frame = buf.freeze().slice(start..);
        OutPacket {
            frame,
            header: n as u8,
            binary: opcode == OpCode::Binary,
        }
    }

    /// The server WebSocket frame of this packet.
    pub fn ws_frame(&self) -> &Bytes {
        &self.frame
    }

    /// The server WebSocket frame, taken out of the packet (no reference count is touched).
    pub(crate) fn into_ws_frame(self) -> Bytes {
        self.frame
    }

    /// The payload after the frame header: the text packet (`4…`) or the raw binary.
    pub fn payload(&self) -> Bytes {
        self.frame.slice(self.header as usize..)
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// Length of the payload.
    pub fn payload_len(&self) -> usize {
        self.frame.len() - self.header as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_share_one_allocation_with_the_polling_form() {
        for len in [0usize, 1, 124, 125, 126, 65535, 65536, 70000] {
            let data = vec![b'x'; len];
            let p = OutPacket::text(PacketType::Message, &data);
            let frame = p.ws_frame();
            assert_eq!(frame[0], 0x81);
            let payload = p.payload();
            assert_eq!(payload.len(), len + 1);
            assert_eq!(payload[0], b'4');
            assert_eq!(&payload[1..], &data[..]);
            // the payload is a view into the frame's allocation
            assert_eq!(
                payload.as_ptr(),
                frame[frame.len() - payload.len()..].as_ptr()
            );
            let expected_header = match len + 1 {
                n if n < 126 => 2,
                n if n <= 65535 => 4,
                _ => 10,
            };
            assert_eq!(frame.len(), expected_header + len + 1);
        }
        let b = OutPacket::binary(&[1, 2, 3]);
        assert_eq!(&b.ws_frame()[..], &[0x82, 3, 1, 2, 3]);
        assert!(b.is_binary());
    }
}
