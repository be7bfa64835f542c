//! Engine.IO protocol 4: packets and long-polling payloads.
//!
//! Decoding follows the npm package `engine.io-parser` 5.2.x (`decodePacket`,
//! `decodePayload`); encoding produces the bytes the Node `engine.io` server
//! writes. Everything here is pure: no I/O, no clock, no panics on input.
//!
//! Text packets are `<type digit><data>`. A long-polling payload joins packets
//! with [`SEPARATOR`] (0x1e); a binary message inside a polling payload is sent
//! as `b<base64>`.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};

use super::{json, Decimal};

/// The record separator between packets of a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// Base64 decoder for `b…` packets.
///
/// Node decodes them with `Buffer.from(s, "base64")`, which never fails. We
/// accept what every official client sends (standard alphabet, padded) plus
/// the harmless leniencies of Node: missing padding and non-zero trailing
/// bits. Anything else (invalid characters, whitespace, a single dangling
/// character, padding in the middle) is rejected with
/// [`EioError::InvalidBase64`].
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Engine.IO packet types (the digit on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: handshake, sent by the server only.
    Open,
    /// `1`: the transport is closing.
    Close,
    /// `2`: heartbeat request (server to client), or an upgrade probe (client to server).
    Ping,
    /// `3`: heartbeat answer, or the answer to an upgrade probe.
    Pong,
    /// `4`: an application message.
    Message,
    /// `5`: the client completes a transport upgrade.
    Upgrade,
    /// `6`: no-op, used to flush a pending poll during an upgrade.
    Noop,
}

impl PacketType {
    /// Parses the type digit (`b'0'..=b'6'`).
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            b'0' => Self::Open,
            b'1' => Self::Close,
            b'2' => Self::Ping,
            b'3' => Self::Pong,
            b'4' => Self::Message,
            b'5' => Self::Upgrade,
            b'6' => Self::Noop,
            _ => return None,
        })
    }

    /// The type digit written on the wire.
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Open => b'0',
            Self::Close => b'1',
            Self::Ping => b'2',
            Self::Pong => b'3',
            Self::Message => b'4',
            Self::Upgrade => b'5',
            Self::Noop => b'6',
        }
    }
}

/// A decoded Engine.IO packet received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0` (clients never send it, but the codec accepts it; trailing data is ignored).
    Open,
    /// `1` (trailing data is ignored).
    Close,
    /// `2`: data after the type byte, e.g. `probe` (may be empty).
    Ping(Bytes),
    /// `3`: data after the type byte, e.g. `probe` (may be empty).
    Pong(Bytes),
    /// `4`: a text message, the bytes after `4` (zero-copy slice of the input).
    ///
    /// Valid UTF-8 is guaranteed by the caller for WebSocket text frames; for
    /// polling payloads [`decode_payload`] checks the whole body. An empty
    /// message (`"4"` alone) is returned as an empty slice; note that Node's
    /// `socket.io` treats such a message as a parse error (its data is
    /// `undefined`), which `sio::decode` reproduces by rejecting empty input.
    Message(Bytes),
    /// A binary message: a WebSocket binary frame (built by the caller), or a
    /// `b<base64>` packet (decoded, hence copied).
    BinaryMessage(Bytes),
    /// `5` (trailing data is ignored).
    Upgrade,
    /// `6` (trailing data is ignored).
    Noop,
}

impl Packet {
    /// The packet type; a [`Packet::BinaryMessage`] is a [`PacketType::Message`].
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Open => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping(_) => PacketType::Ping,
            Self::Pong(_) => PacketType::Pong,
            Self::Message(_) | Self::BinaryMessage(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }
}

/// Errors decoding Engine.IO packets and payloads.
///
/// Any of them is what `engine.io-parser` reports as an `error` packet, upon
/// which the Node server closes the session with reason `"parse error"`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EioError {
    /// A packet (or a polling body, or a segment between separators) is empty.
    #[error("empty packet")]
    Empty,
    /// The first byte is neither a type digit `0`..=`6` nor `b`.
    #[error("unknown packet type")]
    UnknownType,
    /// A `b…` packet does not hold valid base64.
    #[error("invalid base64 binary packet")]
    InvalidBase64,
    /// A polling body is not valid UTF-8.
    #[error("payload is not valid UTF-8")]
    InvalidUtf8,
    /// A polling body holds more packets than allowed.
    #[error("too many packets in payload")]
    TooManyPackets,
}

/// Decodes one text packet (a WebSocket text frame, or one segment of a
/// polling payload): the first byte is the type digit, the rest is data.
///
/// `Open`, `Close`, `Upgrade` and `Noop` ignore trailing data, like
/// `engine.io-parser`. As in `engine.io-parser`'s `decodePacket`, a packet
/// starting with `b` is a base64 binary message, whether it comes from a
/// polling payload or a WebSocket text frame.
pub fn decode_text(data: Bytes) -> Result<Packet, EioError> {
    let Some(&first) = data.first() else {
        return Err(EioError::Empty);
    };
    if first == b'b' {
        return decode_base64(&data[1..]).map(Packet::BinaryMessage);
    }
    let ty = PacketType::from_byte(first).ok_or(EioError::UnknownType)?;
    Ok(match ty {
        PacketType::Open => Packet::Open,
        PacketType::Close => Packet::Close,
        PacketType::Ping => Packet::Ping(data.slice(1..)),
        PacketType::Pong => Packet::Pong(data.slice(1..)),
        PacketType::Message => Packet::Message(data.slice(1..)),
        PacketType::Upgrade => Packet::Upgrade,
        PacketType::Noop => Packet::Noop,
    })
}

fn decode_base64(input: &[u8]) -> Result<Bytes, EioError> {
    BASE64_LENIENT
        .decode(input)
        .map(Bytes::from)
        .map_err(|_| EioError::InvalidBase64)
}

/// Decodes a long-polling payload (protocol 4).
///
/// Segments are separated by [`SEPARATOR`]; each is decoded with
/// [`decode_text`] (a segment starting with `b` is a base64 binary message).
/// Decoded packets are pushed into `out`.
///
/// Errors, checked in this order:
/// - an empty body is [`EioError::Empty`] (`engine.io-parser` yields an error
///   packet for it);
/// - a body that is not UTF-8 is [`EioError::InvalidUtf8`];
/// - more than `max_packets` segments is [`EioError::TooManyPackets`], detected
///   before anything is pushed;
/// - otherwise the first segment that fails to decode (an empty segment, as
///   produced by a doubled or trailing separator, is [`EioError::Empty`]) stops
///   decoding. The packets before it stay in `out`: `engine.io-parser` returns
///   them too, followed by an error packet, and the Node server handles them
///   before closing the session with `"parse error"`.
pub fn decode_payload(
    body: Bytes,
    max_packets: usize,
    out: &mut Vec<Packet>,
) -> Result<(), EioError> {
    if body.is_empty() {
        return Err(EioError::Empty);
    }
    if std::str::from_utf8(&body).is_err() {
        return Err(EioError::InvalidUtf8);
    }
    // Cannot overflow: there are fewer separators than bytes.
    let segments = body.iter().filter(|&&b| b == SEPARATOR).count() + 1;
    if segments > max_packets {
        return Err(EioError::TooManyPackets);
    }
    out.reserve(segments);
    let mut start = 0;
    loop {
        let end = body[start..]
            .iter()
            .position(|&b| b == SEPARATOR)
            .map_or(body.len(), |p| start + p);
        out.push(decode_text(body.slice(start..end))?);
        if end == body.len() {
            return Ok(());
        }
        start = end + 1;
    }
}

/// Appends `b` and the standard-alphabet, padded base64 of `data` (polling
/// form of a binary message, as `Buffer#toString("base64")` writes it).
pub fn write_base64_packet(out: &mut BytesMut, data: &[u8]) {
    out.put_u8(b'b');
    let Some(len) = base64::encoded_len(data.len(), true) else {
        return; // unreachable for an in-memory slice
    };
    let start = out.len();
    out.resize(start + len, 0);
    match STANDARD.encode_slice(data, &mut out[start..]) {
        Ok(written) => out.truncate(start + written),
        Err(_) => out.truncate(start), // unreachable: the buffer is exactly large enough
    }
}

/// Appends the type digit and `data` (text form of a packet).
pub fn write_text_packet(out: &mut BytesMut, ty: PacketType, data: &[u8]) {
    out.reserve(1 + data.len());
    out.put_u8(ty.as_byte());
    out.extend_from_slice(data);
}

/// The handshake (open packet) JSON body, without the leading `0`:
/// `{"sid":"…","upgrades":[…],"pingInterval":N,"pingTimeout":N,"maxPayload":N}`
/// exactly in that key order, as the Node server writes it (`JSON.stringify`).
pub fn open_json(
    sid: &str,
    upgrades: &[&str],
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_payload: u64,
) -> String {
    let mut s = String::with_capacity(96 + sid.len());
    s.push_str("{\"sid\":");
    json::push_string(&mut s, sid);
    s.push_str(",\"upgrades\":[");
    for (i, u) in upgrades.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        json::push_string(&mut s, u);
    }
    s.push_str("],\"pingInterval\":");
    s.push_str(Decimal::new(ping_interval_ms).as_str());
    s.push_str(",\"pingTimeout\":");
    s.push_str(Decimal::new(ping_timeout_ms).as_str());
    s.push_str(",\"maxPayload\":");
    s.push_str(Decimal::new(max_payload).as_str());
    s.push('}');
    s
}

/// The JSON body of an Engine.IO HTTP error: `{"code":N,"message":"…"}`.
pub fn error_json(code: u8, message: &str) -> String {
    let mut s = String::with_capacity(28 + message.len());
    s.push_str("{\"code\":");
    s.push_str(Decimal::new(u64::from(code)).as_str());
    s.push_str(",\"message\":");
    json::push_string(&mut s, message);
    s.push('}');
    s
}

#[cfg(test)]
mod tests;
