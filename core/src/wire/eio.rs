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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(s: &str) -> Result<Packet, EioError> {
        decode_text(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn payload(s: &[u8], max: usize) -> (Vec<Packet>, Result<(), EioError>) {
        let mut out = Vec::new();
        let r = decode_payload(Bytes::copy_from_slice(s), max, &mut out);
        (out, r)
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn packet_type_bytes_round_trip() {
        let all = [
            PacketType::Open,
            PacketType::Close,
            PacketType::Ping,
            PacketType::Pong,
            PacketType::Message,
            PacketType::Upgrade,
            PacketType::Noop,
        ];
        for (i, ty) in all.iter().enumerate() {
            assert_eq!(ty.as_byte(), b'0' + i as u8);
            assert_eq!(PacketType::from_byte(ty.as_byte()), Some(*ty));
        }
        for byte in (0..=255u8).filter(|b| !(b'0'..=b'6').contains(b)) {
            assert_eq!(PacketType::from_byte(byte), None);
        }
    }

    #[test]
    fn decode_every_text_type() {
        assert_eq!(text("0"), Ok(Packet::Open));
        assert_eq!(text("0{\"sid\":\"x\"}"), Ok(Packet::Open));
        assert_eq!(text("1"), Ok(Packet::Close));
        assert_eq!(text("2"), Ok(Packet::Ping(Bytes::new())));
        assert_eq!(text("2probe"), Ok(Packet::Ping(b("probe"))));
        assert_eq!(text("3"), Ok(Packet::Pong(Bytes::new())));
        assert_eq!(text("3probe"), Ok(Packet::Pong(b("probe"))));
        assert_eq!(text("4hello"), Ok(Packet::Message(b("hello"))));
        assert_eq!(text("4"), Ok(Packet::Message(Bytes::new())));
        assert_eq!(text("5"), Ok(Packet::Upgrade));
        assert_eq!(text("6"), Ok(Packet::Noop));
    }

    #[test]
    fn control_packets_ignore_trailing_data() {
        // engine.io-parser: "1junk" -> {type: "close", data: "junk"}, "6x" -> noop.
        assert_eq!(text("1junk"), Ok(Packet::Close));
        assert_eq!(text("5x"), Ok(Packet::Upgrade));
        assert_eq!(text("6x"), Ok(Packet::Noop));
    }

    #[test]
    fn decode_text_rejections() {
        assert_eq!(text(""), Err(EioError::Empty));
        assert_eq!(text("7"), Err(EioError::UnknownType));
        assert_eq!(text("x"), Err(EioError::UnknownType));
        assert_eq!(text(" 4a"), Err(EioError::UnknownType));
        assert_eq!(
            decode_text(Bytes::from_static(&[0xff, b'4'])),
            Err(EioError::UnknownType)
        );
    }

    #[test]
    fn message_is_zero_copy() {
        let input = Bytes::from_static(b"4hello");
        let Ok(Packet::Message(m)) = decode_text(input.clone()) else {
            panic!("not a message");
        };
        assert_eq!(m.as_ptr(), input[1..].as_ptr());
    }

    #[test]
    fn base64_text_packet() {
        // engine.io-parser's decodePacket treats a leading 'b' as base64 in
        // any text context, including WebSocket text frames.
        assert_eq!(
            text("bAQID"),
            Ok(Packet::BinaryMessage(Bytes::from_static(&[1, 2, 3])))
        );
        assert_eq!(text("b"), Ok(Packet::BinaryMessage(Bytes::new())));
    }

    #[test]
    fn base64_leniency_matches_node_where_accepted() {
        // Expectations recorded from engine.io-parser 5.2.3 on Node 20.
        assert_eq!(
            text("bAQI"),
            Ok(Packet::BinaryMessage(Bytes::from_static(&[1, 2])))
        );
        assert_eq!(
            text("bAQI="),
            Ok(Packet::BinaryMessage(Bytes::from_static(&[1, 2])))
        );
        assert_eq!(
            text("bAQ"),
            Ok(Packet::BinaryMessage(Bytes::from_static(&[1])))
        );
        assert_eq!(
            text("bAQ=="),
            Ok(Packet::BinaryMessage(Bytes::from_static(&[1])))
        );
        // Non-zero trailing bits: Node gives "a".
        assert_eq!(text("bYR=="), Ok(Packet::BinaryMessage(b("a"))));
    }

    #[test]
    fn invalid_base64_is_rejected() {
        // Node silently skips or truncates these; we refuse them.
        for s in [
            "bA",
            "bAQ ID",
            "bA-_",
            "bYQ==YQ==",
            "bAQID=",
            "b!!!!",
            "bAQ\u{1e}",
        ] {
            assert_eq!(text(s), Err(EioError::InvalidBase64), "{s:?}");
        }
    }

    #[test]
    fn payload_single_and_multiple_text_packets() {
        assert_eq!(
            payload(b"4hello", 16),
            (vec![Packet::Message(b("hello"))], Ok(()))
        );
        assert_eq!(
            payload(b"4a\x1e4b\x1e2probe\x1e3\x1e1", 16),
            (
                vec![
                    Packet::Message(b("a")),
                    Packet::Message(b("b")),
                    Packet::Ping(b("probe")),
                    Packet::Pong(Bytes::new()),
                    Packet::Close,
                ],
                Ok(())
            )
        );
    }

    #[test]
    fn payload_binary_and_mixed() {
        assert_eq!(
            payload(b"bAQID", 16),
            (
                vec![Packet::BinaryMessage(Bytes::from_static(&[1, 2, 3]))],
                Ok(())
            )
        );
        // engine.io-parser: "4x\x1ebAQID\x1e2probe" -> message "x", message <01 02 03>, ping "probe".
        assert_eq!(
            payload(b"4x\x1ebAQID\x1e2probe", 16),
            (
                vec![
                    Packet::Message(b("x")),
                    Packet::BinaryMessage(Bytes::from_static(&[1, 2, 3])),
                    Packet::Ping(b("probe")),
                ],
                Ok(())
            )
        );
    }

    #[test]
    fn payload_utf8_messages() {
        assert_eq!(
            payload("4é€😀\u{1e}4ü".as_bytes(), 16),
            (
                vec![Packet::Message(b("é€😀")), Packet::Message(b("ü"))],
                Ok(())
            )
        );
    }

    #[test]
    fn payload_slices_are_zero_copy() {
        let body = Bytes::from_static(b"4ab\x1e4cd");
        let mut out = Vec::new();
        decode_payload(body.clone(), 4, &mut out).unwrap();
        let Packet::Message(second) = &out[1] else {
            panic!("not a message");
        };
        assert_eq!(second.as_ptr(), body[5..].as_ptr());
    }

    #[test]
    fn payload_empty_body_and_empty_segments() {
        assert_eq!(payload(b"", 16), (vec![], Err(EioError::Empty)));
        // engine.io-parser: "4a\x1e\x1e4b" -> [message "a", error]; the packets
        // before the error are kept.
        assert_eq!(
            payload(b"4a\x1e\x1e4b", 16),
            (vec![Packet::Message(b("a"))], Err(EioError::Empty))
        );
        assert_eq!(
            payload(b"4a\x1e", 16),
            (vec![Packet::Message(b("a"))], Err(EioError::Empty))
        );
        assert_eq!(payload(b"\x1e4a", 16), (vec![], Err(EioError::Empty)));
        assert_eq!(payload(b"\x1e", 16), (vec![], Err(EioError::Empty)));
    }

    #[test]
    fn payload_stops_at_first_bad_segment() {
        // engine.io-parser: "4a\x1e7\x1e4b" -> [message "a", error].
        assert_eq!(
            payload(b"4a\x1e7\x1e4b", 16),
            (vec![Packet::Message(b("a"))], Err(EioError::UnknownType))
        );
        assert_eq!(
            payload(b"4a\x1eb!!\x1e4b", 16),
            (vec![Packet::Message(b("a"))], Err(EioError::InvalidBase64))
        );
    }

    #[test]
    fn payload_invalid_utf8() {
        assert_eq!(payload(b"4\xff", 16), (vec![], Err(EioError::InvalidUtf8)));
        assert_eq!(
            payload(b"4a\x1e4\xc3", 16),
            (vec![], Err(EioError::InvalidUtf8))
        );
    }

    #[test]
    fn payload_too_many_packets() {
        assert_eq!(payload(b"4a\x1e4b\x1e4c", 3).1, Ok(()));
        assert_eq!(
            payload(b"4a\x1e4b\x1e4c", 2),
            (vec![], Err(EioError::TooManyPackets))
        );
        assert_eq!(payload(b"4a", 0), (vec![], Err(EioError::TooManyPackets)));
    }

    #[test]
    fn payload_appends_to_out() {
        let mut out = vec![Packet::Noop];
        decode_payload(b("4a"), 1, &mut out).unwrap();
        assert_eq!(out, vec![Packet::Noop, Packet::Message(b("a"))]);
    }

    #[test]
    fn write_packets() {
        let mut out = BytesMut::new();
        write_text_packet(&mut out, PacketType::Message, b"2[\"hello\",\"world\"]");
        assert_eq!(&out[..], b"42[\"hello\",\"world\"]");
        out.clear();
        write_text_packet(&mut out, PacketType::Ping, b"");
        out.put_u8(SEPARATOR);
        write_text_packet(&mut out, PacketType::Pong, b"probe");
        out.put_u8(SEPARATOR);
        write_base64_packet(&mut out, &[1, 2, 3, 4]);
        out.put_u8(SEPARATOR);
        write_base64_packet(&mut out, b"");
        assert_eq!(&out[..], b"2\x1e3probe\x1ebAQIDBA==\x1eb");
        for ty in [
            PacketType::Open,
            PacketType::Close,
            PacketType::Upgrade,
            PacketType::Noop,
        ] {
            out.clear();
            write_text_packet(&mut out, ty, b"");
            assert_eq!(out.len(), 1);
            assert_eq!(out[0], ty.as_byte());
        }
    }

    #[test]
    fn open_json_exact() {
        assert_eq!(
            open_json("abc", &["websocket"], 25000, 20000, 1_000_000),
            r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
        assert_eq!(
            open_json("s", &[], 0, 1, u64::MAX),
            r#"{"sid":"s","upgrades":[],"pingInterval":0,"pingTimeout":1,"maxPayload":18446744073709551615}"#
        );
        assert_eq!(
            open_json("a", &["websocket", "webtransport"], 1, 2, 3),
            r#"{"sid":"a","upgrades":["websocket","webtransport"],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#
        );
    }

    #[test]
    fn error_json_exact() {
        assert_eq!(
            error_json(0, "Transport unknown"),
            r#"{"code":0,"message":"Transport unknown"}"#
        );
        assert_eq!(
            error_json(255, "Bad \"request\"\n\\\u{1}é"),
            r#"{"code":255,"message":"Bad \"request\"\n\\\u0001é"}"#
        );
    }

    fn packet_strategy() -> impl Strategy<Value = Packet> {
        let text_data = "[^\u{1e}]{0,12}".prop_map(|s| Bytes::from(s.into_bytes()));
        prop_oneof![
            Just(Packet::Open),
            Just(Packet::Close),
            Just(Packet::Upgrade),
            Just(Packet::Noop),
            text_data.clone().prop_map(Packet::Ping),
            text_data.clone().prop_map(Packet::Pong),
            text_data.prop_map(Packet::Message),
            proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|v| Packet::BinaryMessage(Bytes::from(v))),
        ]
    }

    fn encode(out: &mut BytesMut, p: &Packet) {
        match p {
            Packet::Ping(d) | Packet::Pong(d) | Packet::Message(d) => {
                write_text_packet(out, p.packet_type(), d)
            }
            Packet::BinaryMessage(d) => write_base64_packet(out, d),
            _ => write_text_packet(out, p.packet_type(), b""),
        }
    }

    proptest! {
        #[test]
        fn payload_round_trip(packets in proptest::collection::vec(packet_strategy(), 1..12)) {
            let mut body = BytesMut::new();
            for (i, p) in packets.iter().enumerate() {
                if i > 0 {
                    body.put_u8(SEPARATOR);
                }
                encode(&mut body, p);
            }
            let mut out = Vec::new();
            prop_assert_eq!(decode_payload(body.freeze(), packets.len(), &mut out), Ok(()));
            prop_assert_eq!(out, packets);
        }

        #[test]
        fn text_round_trip(p in packet_strategy()) {
            let mut buf = BytesMut::new();
            encode(&mut buf, &p);
            prop_assert_eq!(decode_text(buf.freeze()), Ok(p));
        }

        #[test]
        fn base64_round_trip(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut buf = BytesMut::new();
            write_base64_packet(&mut buf, &data);
            let expected = STANDARD.encode(&data);
            prop_assert_eq!(&buf[1..], expected.as_bytes());
            prop_assert_eq!(decode_text(buf.freeze()), Ok(Packet::BinaryMessage(Bytes::from(data))));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..8) {
            let _ = decode_text(Bytes::from(data.clone()));
            let mut out = Vec::new();
            let _ = decode_payload(Bytes::from(data), max, &mut out);
            prop_assert!(out.len() <= max);
        }

        #[test]
        fn structured_garbage_never_panics(s in "[0-6b\u{1e}A-Za-z0-9+/=é]{0,40}") {
            let mut out = Vec::new();
            let _ = decode_payload(Bytes::from(s.into_bytes()), 64, &mut out);
        }
    }
}
