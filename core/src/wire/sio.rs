//! Socket.IO protocol 5: packet codec with validation.
//!
//! Decoding mirrors `Decoder#decodeString` and `Decoder.isPayloadValid` of the
//! npm package `socket.io-parser` 4.2.x, including its quirks (see
//! [`decode`]); where the JavaScript would produce a value this codec can not
//! represent (a `NaN` ack id, a fractional attachment count...), the packet is
//! rejected instead, so a packet is never read differently from Node.
//!
//! Binary attachments are not handled here: a `BinaryEvent`/`BinaryAck` packet
//! announces how many follow (as separate Engine.IO binary messages), and
//! [`validate_placeholders`] checks the placeholders that refer to them.
//!
//! JSON is validated with `serde_json` without building a value tree; payloads
//! are zero-copy slices of the input.

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};
use serde::de::IgnoredAny;

use super::json::{self, member_key, skip_ws};
use super::Decimal;

/// Reserved event names a client can not send.
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The largest ack id [`decode`] accepts: `Number.MAX_SAFE_INTEGER` (2^53 - 1).
///
/// Node reads ids with `Number()`, which silently rounds larger ones, so the
/// Node server would acknowledge a different id than the one it received.
/// We reject such ids with [`SioError::InvalidId`] instead.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;

/// Socket.IO packet types (the digit on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: connect to a namespace (client), or connection accepted (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event.
    Event,
    /// `3`: acknowledgement of an event.
    Ack,
    /// `4`: connection to a namespace refused (server to client).
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck,
}

impl PacketType {
    /// Parses the type digit (`b'0'..=b'6'`).
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            b'0' => Self::Connect,
            b'1' => Self::Disconnect,
            b'2' => Self::Event,
            b'3' => Self::Ack,
            b'4' => Self::ConnectError,
            b'5' => Self::BinaryEvent,
            b'6' => Self::BinaryAck,
            _ => return None,
        })
    }

    /// The type digit written on the wire.
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Connect => b'0',
            Self::Disconnect => b'1',
            Self::Event => b'2',
            Self::Ack => b'3',
            Self::ConnectError => b'4',
            Self::BinaryEvent => b'5',
            Self::BinaryAck => b'6',
        }
    }

    /// Whether packets of this type carry an attachment count (`BinaryEvent`, `BinaryAck`).
    pub fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }
}

/// A decoded, validated Socket.IO packet (the text part; binary attachments arrive separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// Namespace, `/` when absent on the wire. Zero-copy slice of the input (valid UTF-8).
    pub nsp: Bytes,
    /// The ack id, at most [`MAX_ACK_ID`].
    pub id: Option<u64>,
    /// Number of binary attachments announced (`BinaryEvent`/`BinaryAck` only, else 0).
    pub attachments: usize,
    /// The raw JSON payload (zero-copy slice of the input, trailing JSON
    /// whitespace trimmed), already validated for this packet type; `None`
    /// when absent.
    pub data: Option<Bytes>,
}

impl Packet {
    /// The namespace as a string.
    ///
    /// Always the exact namespace for packets from [`decode`]; for a
    /// hand-built packet whose `nsp` is not UTF-8 this returns `/`.
    pub fn nsp_str(&self) -> &str {
        std::str::from_utf8(&self.nsp).unwrap_or("/")
    }
}

/// Errors decoding Socket.IO packets.
///
/// The Node server closes the underlying connection on any of them.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SioError {
    /// The input is empty or does not start with a type digit `0`..=`6`.
    #[error("unknown packet type")]
    UnknownType,
    /// A binary packet's attachment count is not a number followed by `-`, or
    /// a placeholder refers to a missing attachment.
    #[error("illegal attachments")]
    IllegalAttachments,
    /// A binary packet announces more attachments than allowed.
    #[error("too many attachments")]
    TooManyAttachments,
    /// The namespace is not valid. Not produced by [`decode`] at present:
    /// socket.io-parser accepts any namespace (it is checked later, when the
    /// server looks it up); kept for callers and future checks.
    #[error("invalid namespace")]
    InvalidNamespace,
    /// The payload is not JSON, not UTF-8, or not of the shape its packet type requires.
    #[error("invalid payload")]
    InvalidPayload,
    /// The ack id is not a number Node reads exactly.
    #[error("invalid ack id")]
    InvalidId,
}

/// Whether `Number(c)` of this one-character string is 0 in JavaScript, i.e.
/// `c` is a `StrWhiteSpaceChar` (WhiteSpace or LineTerminator). Checked
/// against Node over every UTF-16 code unit.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// Parses a non-empty run of ASCII digits; `None` on overflow.
fn parse_digits(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// What `Number(s)` gives for a string of digits and JavaScript white space:
/// `Some(n)` for an integer (white space only is 0), `None` for `NaN` (white
/// space between digits) or an integer that does not fit in a `u64`.
fn js_number_of_digit_run(s: &str) -> Result<Option<u64>, ()> {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return Ok(Some(0));
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    Ok(parse_digits(t))
}

/// Decodes and validates a Socket.IO packet from the text of an Engine.IO
/// message, following socket.io-parser 4.2.x `decodeString` and
/// `isPayloadValid`.
///
/// Grammar: `<type>[<attachments>-][<nsp>,][<id>][<json>]`.
///
/// - **type**: a digit `0`..=`6`. Quirk mirrored: the parser reads it with
///   `Number(str.charAt(0))`, so a leading JavaScript white-space character
///   (space, tab, NBSP, U+3000...) means `Connect`. Empty input is
///   [`SioError::UnknownType`]: `decodeString("")` would yield a CONNECT, but
///   in Node an empty Engine.IO message has no data at all and the
///   `socket.io` decoder throws on it.
/// - **attachments** (`BinaryEvent`/`BinaryAck` only): everything up to the
///   first `-` (missing `-` is [`SioError::IllegalAttachments`]). Quirks
///   mirrored: the count may be empty (`5-[...]` has 0 attachments) and may be
///   surrounded by white space (`5 1 -`). Other strings `Number()` accepts
///   (`+1`, `1e0`, `0x1`, `1.5`, `Infinity`) are rejected with
///   `IllegalAttachments`, as is anything non-numeric; a count above
///   `max_attachments` is [`SioError::TooManyAttachments`].
/// - **namespace**: if the next byte is `/`, everything up to the next `,` or
///   to the end of the input. Quirk mirrored: without a `,` the namespace
///   swallows the rest, payload included (`2/admin["x"]` is an EVENT on
///   namespace `/admin["x"]` without payload).
/// - **id**: a run of digits and JavaScript white space, read with `Number()`.
///   Quirks mirrored: white space around digits is ignored (`21 ["x"]` has
///   id 1) and white space alone is id 0 (`2 ["x"]` has id 0). Leading zeros
///   are fine. White space between digits (`NaN` in Node) and ids above
///   [`MAX_ACK_ID`] are [`SioError::InvalidId`].
/// - **payload**: the rest, if any; it must be JSON (`JSON.parse`) with the
///   shape its type requires, else [`SioError::InvalidPayload`]: CONNECT an
///   object; DISCONNECT none at all; CONNECT_ERROR a string or an object;
///   EVENT/BINARY_EVENT an array whose first element is a number or a string
///   (after JSON unescaping) not in [`RESERVED_EVENTS`]; ACK/BINARY_ACK an
///   array. A missing payload is accepted for every type (as in the parser).
///   As with `JSON.parse`, there is no nesting limit (the syntax check is
///   iterative). Input that is not UTF-8 is rejected with `InvalidPayload`
///   (Node would have replaced bad bytes long before).
pub fn decode(text: Bytes, max_attachments: usize) -> Result<Packet, SioError> {
    let s = std::str::from_utf8(&text).map_err(|_| SioError::InvalidPayload)?;

    // Type.
    let first = s.chars().next().ok_or(SioError::UnknownType)?;
    let kind = match first {
        '0'..='6' => PacketType::from_byte(first as u8).ok_or(SioError::UnknownType)?,
        c if is_js_space(c) => PacketType::Connect,
        _ => return Err(SioError::UnknownType),
    };
    let mut pos = first.len_utf8();

    // Attachments.
    let mut attachments = 0;
    if kind.is_binary() {
        let dash = s[pos..]
            .find('-')
            .map(|p| pos + p)
            .ok_or(SioError::IllegalAttachments)?;
        let count =
            js_number_of_digit_run(&s[pos..dash]).map_err(|()| SioError::IllegalAttachments)?;
        attachments = match count.and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= max_attachments => n,
            _ => return Err(SioError::TooManyAttachments),
        };
        pos = dash + 1;
    }

    // Namespace.
    let nsp = if s.as_bytes().get(pos) == Some(&b'/') {
        let (end, next) = match s[pos..].find(',') {
            Some(p) => (pos + p, pos + p + 1),
            None => (s.len(), s.len()),
        };
        let nsp = text.slice(pos..end);
        pos = next;
        nsp
    } else {
        Bytes::from_static(b"/")
    };

    // Ack id.
    let run = s[pos..]
        .find(|c: char| !(c.is_ascii_digit() || is_js_space(c)))
        .map_or(s.len(), |p| pos + p);
    let id = if run > pos {
        let id = js_number_of_digit_run(&s[pos..run])
            .ok()
            .flatten()
            .filter(|&id| id <= MAX_ACK_ID)
            .ok_or(SioError::InvalidId)?;
        pos = run;
        Some(id)
    } else {
        None
    };

    // Payload.
    let data = if pos < s.len() {
        let json = &s[pos..];
        validate_payload(kind, json)?;
        Some(text.slice(pos..pos + json::trim_ws_end(json.as_bytes())))
    } else {
        None
    };

    Ok(Packet {
        kind,
        nsp,
        id,
        attachments,
        data,
    })
}

/// `Decoder.isPayloadValid` for a present payload (which is why DISCONNECT
/// always fails), after `JSON.parse` (`tryParse` turns a syntax error into
/// `false`, which no rule accepts).
fn validate_payload(kind: PacketType, json: &str) -> Result<(), SioError> {
    let b = json.as_bytes();
    let start = skip_ws(b, 0);
    let shape_ok = match (kind, b.get(start)) {
        (PacketType::Disconnect, _) => false,
        (PacketType::Connect, Some(b'{')) => true,
        (PacketType::ConnectError, Some(b'"' | b'{')) => true,
        (PacketType::Ack | PacketType::BinaryAck, Some(b'[')) => true,
        (PacketType::Event | PacketType::BinaryEvent, Some(b'[')) => true,
        _ => false,
    };
    if !shape_ok {
        return Err(SioError::InvalidPayload);
    }
    // Full syntax check (and trailing data), without building anything.
    serde_json::from_str::<IgnoredAny>(json).map_err(|_| SioError::InvalidPayload)?;
    if matches!(kind, PacketType::Event | PacketType::BinaryEvent) {
        // The document is valid JSON, so the first element is well-formed.
        let first = skip_ws(b, start + 1);
        match b.get(first) {
            Some(b'-' | b'0'..=b'9') => {}
            Some(b'"') => match event_name(b) {
                Some(name) if !RESERVED_EVENTS.contains(&name.as_ref()) => {}
                _ => return Err(SioError::InvalidPayload),
            },
            _ => return Err(SioError::InvalidPayload),
        }
    }
    Ok(())
}

/// Writes the packet head `<type>[<attachments>-][<nsp>,][<id>]`, like
/// socket.io-parser's `encodeAsString`: the one writer of packet heads. The
/// caller appends the JSON payload right after (or calls [`write_packet`]).
///
/// `attachments` is written for `BinaryEvent`/`BinaryAck` only and ignored
/// otherwise. The namespace is omitted when it is `/` (or empty); it must
/// start with `/` and not contain `,` to be read back as written.
pub fn write_head(
    out: &mut BytesMut,
    kind: PacketType,
    nsp: &str,
    attachments: usize,
    id: Option<u64>,
) {
    out.reserve(max_head_len(nsp));
    out.put_u8(kind.as_byte());
    if kind.is_binary() {
        out.put_slice(Decimal::new(attachments as u64).as_bytes());
        out.put_u8(b'-');
    }
    if !nsp.is_empty() && nsp != "/" {
        out.extend_from_slice(nsp.as_bytes());
        out.put_u8(b',');
    }
    if let Some(id) = id {
        out.put_slice(Decimal::new(id).as_bytes());
    }
}

/// Writes a whole packet: the head as [`write_head`] writes it, then `data`
/// (the JSON payload, written as it is; empty for none), with one reservation.
pub fn write_packet(
    out: &mut BytesMut,
    kind: PacketType,
    nsp: &str,
    attachments: usize,
    id: Option<u64>,
    data: &[u8],
) {
    out.reserve(max_head_len(nsp) + data.len());
    write_head(out, kind, nsp, attachments, id);
    out.extend_from_slice(data);
}

/// The longest head [`write_head`] writes for this namespace: type, up to 20
/// digits and `-`, namespace and `,`, up to 20 digits.
fn max_head_len(nsp: &str) -> usize {
    1 + 21 + nsp.len() + 1 + 20
}

/// Checks every `{"_placeholder":true,"num":N}` object anywhere in `data` (a
/// JSON document) has an integer N with 0 <= N < `attachments`, as
/// socket.io-parser's `reconstructPacket` requires; otherwise
/// [`SioError::IllegalAttachments`]. `data` that is not UTF-8 JSON is
/// [`SioError::InvalidPayload`].
///
/// Mirrors the reconstruction walk exactly: an object is a placeholder when its
/// (last) `_placeholder` member is the literal `true`; its `num` must then be a
/// JSON number in range, and its other members are not looked at (the whole
/// object is replaced by the buffer); other objects and arrays are walked
/// recursively, and of duplicated keys only the last value counts (as with
/// `JSON.parse`). Difference: Node accepts a fractional `num` in range (it
/// then yields `undefined`); we reject it.
///
/// Note that Node only runs the reconstruction once all attachments arrived,
/// so never for a packet announcing 0 attachments: callers mirroring that
/// skip this check when `attachments == 0`.
pub fn validate_placeholders(data: &[u8], attachments: usize) -> Result<(), SioError> {
    if std::str::from_utf8(data).is_err() {
        return Err(SioError::InvalidPayload);
    }
    serde_json::from_slice::<IgnoredAny>(data).map_err(|_| SioError::InvalidPayload)?;
    // The document is valid JSON; a structural surprise in the walk is still
    // an error rather than a panic.
    match reconstruction_throws(data, attachments) {
        Some(false) => Ok(()),
        Some(true) => Err(SioError::IllegalAttachments),
        None => Err(SioError::InvalidPayload),
    }
}

/// Which member of a candidate placeholder object a value belongs to.
#[derive(Clone, Copy)]
enum Key {
    Placeholder,
    Num,
    Other,
}

/// An open container in [`reconstruction_throws`].
enum Frame<'a> {
    Array {
        bad: bool,
    },
    Object {
        /// The last `_placeholder` member is the literal `true`.
        placeholder: bool,
        /// The last `num` member, when it is a number.
        num: Option<f64>,
        /// Keys whose (last) value would make the walk throw.
        bad_keys: Vec<Cow<'a, str>>,
        /// The member whose value is being read.
        key: Cow<'a, str>,
        kind: Key,
        value_start: usize,
    },
}

/// Walks valid JSON iteratively (no depth limit, no recursion) and tells
/// whether socket.io-parser's `_reconstructPacket` would throw on it. `None`
/// when `b` turns out not to be well-formed.
fn reconstruction_throws(b: &[u8], attachments: usize) -> Option<bool> {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut pos = 0;
    loop {
        // Read one value at `pos`; containers push a frame and read their
        // first member.
        pos = skip_ws(b, pos);
        let mut bad = false;
        match *b.get(pos)? {
            b'{' => {
                let after = skip_ws(b, pos + 1);
                if b.get(after) == Some(&b'}') {
                    pos = after + 1;
                } else {
                    let (key, value_start) = member_key(b, after)?;
                    stack.push(Frame::Object {
                        placeholder: false,
                        num: None,
                        bad_keys: Vec::new(),
                        kind: key_kind(&key),
                        key,
                        value_start,
                    });
                    pos = value_start;
                    continue;
                }
            }
            b'[' => {
                let after = skip_ws(b, pos + 1);
                if b.get(after) == Some(&b']') {
                    pos = after + 1;
                } else {
                    stack.push(Frame::Array { bad: false });
                    pos = after;
                    continue;
                }
            }
            b'"' => pos = json::string_end(b, pos)?,
            _ => {
                while let Some(c) = b.get(pos) {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    pos += 1;
                }
            }
        }
        // A value ended at `pos` with badness `bad`: hand it to the enclosing
        // containers, closing those that end here.
        loop {
            let Some(frame) = stack.last_mut() else {
                return Some(bad);
            };
            match frame {
                Frame::Array { bad: any_bad } => {
                    *any_bad |= bad;
                    let next = skip_ws(b, pos);
                    match b.get(next)? {
                        b',' => {
                            pos = next + 1;
                            break;
                        }
                        b']' => {
                            pos = next + 1;
                            bad = *any_bad;
                            stack.pop();
                        }
                        _ => return None,
                    }
                }
                Frame::Object {
                    placeholder,
                    num,
                    bad_keys,
                    key,
                    kind,
                    value_start,
                } => {
                    let value = b.get(*value_start..pos)?;
                    match kind {
                        Key::Placeholder => *placeholder = value == b"true",
                        Key::Num => {
                            *num = match value.first() {
                                Some(b'-' | b'0'..=b'9') => std::str::from_utf8(value)
                                    .ok()
                                    .and_then(|v| v.parse::<f64>().ok()),
                                _ => None,
                            }
                        }
                        Key::Other => {}
                    }
                    // Last value wins: forget an earlier bad value under this key.
                    if !bad_keys.is_empty() {
                        bad_keys.retain(|k| k != key);
                    }
                    if bad {
                        bad_keys.push(std::mem::take(key));
                    }
                    let next = skip_ws(b, pos);
                    match b.get(next)? {
                        b',' => {
                            let (k, start) = member_key(b, next + 1)?;
                            *kind = key_kind(&k);
                            *key = k;
                            *value_start = start;
                            pos = start;
                            break;
                        }
                        b'}' => {
                            pos = next + 1;
                            bad = if *placeholder {
                                !num.is_some_and(|n| {
                                    n >= 0.0 && n.fract() == 0.0 && n < attachments as f64
                                })
                            } else {
                                !bad_keys.is_empty()
                            };
                            stack.pop();
                        }
                        _ => return None,
                    }
                }
            }
        }
    }
}

fn key_kind(key: &str) -> Key {
    match key {
        "_placeholder" => Key::Placeholder,
        "num" => Key::Num,
        _ => Key::Other,
    }
}

/// Event name of a validated EVENT/BINARY_EVENT payload: `Some(name)` when the
/// first element is a string (JSON-unescaped; borrowed when it has no escape),
/// `None` when it is a number (or `data` is not such a payload).
///
/// A lone surrogate escape in the name (which `JSON.parse` accepts) becomes
/// U+FFFD.
pub fn event_name(data: &[u8]) -> Option<Cow<'_, str>> {
    let open = skip_ws(data, 0);
    if data.get(open) != Some(&b'[') {
        return None;
    }
    json::string(data, skip_ws(data, open + 1)).map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 10;

    fn dec(s: &str) -> Result<Packet, SioError> {
        decode(Bytes::copy_from_slice(s.as_bytes()), MAX)
    }

    /// (kind, nsp, id, attachments, data) of a successful decode.
    fn fields(s: &str) -> (PacketType, String, Option<u64>, usize, Option<String>) {
        let p = dec(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        (
            p.kind,
            p.nsp_str().to_owned(),
            p.id,
            p.attachments,
            p.data.map(|d| String::from_utf8(d.to_vec()).unwrap()),
        )
    }

    fn head(kind: PacketType, nsp: &str, attachments: usize, id: Option<u64>) -> Vec<u8> {
        let mut out = BytesMut::new();
        write_head(&mut out, kind, nsp, attachments, id);
        out.to_vec()
    }

    use PacketType::*;

    #[test]
    fn packet_type_bytes_round_trip() {
        let all = [
            Connect,
            Disconnect,
            Event,
            Ack,
            ConnectError,
            BinaryEvent,
            BinaryAck,
        ];
        for (i, ty) in all.iter().enumerate() {
            assert_eq!(ty.as_byte(), b'0' + i as u8);
            assert_eq!(PacketType::from_byte(ty.as_byte()), Some(*ty));
            assert_eq!(ty.is_binary(), i >= 5);
        }
        for byte in (0..=255u8).filter(|b| !(b'0'..=b'6').contains(b)) {
            assert_eq!(PacketType::from_byte(byte), None);
        }
    }

    #[test]
    fn protocol_examples_encode_byte_exact() {
        // 42["hello","world"]: Engine.IO message '4' + Socket.IO EVENT.
        let mut out = BytesMut::new();
        out.put_u8(b'4');
        write_head(&mut out, Event, "/", 0, None);
        out.extend_from_slice(br#"["hello","world"]"#);
        assert_eq!(&out[..], br#"42["hello","world"]"#);

        let mut out = BytesMut::new();
        write_head(&mut out, Event, "/admin", 0, Some(13));
        out.extend_from_slice(br#"["x"]"#);
        assert_eq!(&out[..], br#"2/admin,13["x"]"#);

        let mut out = BytesMut::new();
        out.put_u8(b'4');
        write_head(&mut out, BinaryEvent, "/admin", 1, Some(1));
        out.extend_from_slice(br#"[{"_placeholder":true,"num":0}]"#);
        assert_eq!(&out[..], br#"451-/admin,1[{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn protocol_examples_decode() {
        assert_eq!(
            fields(r#"2["hello","world"]"#),
            (
                Event,
                "/".into(),
                None,
                0,
                Some(r#"["hello","world"]"#.into())
            )
        );
        assert_eq!(
            fields(r#"2/admin,13["x"]"#),
            (Event, "/admin".into(), Some(13), 0, Some(r#"["x"]"#.into()))
        );
        // The binary example with an object as first element is not a valid
        // BINARY_EVENT for socket.io-parser 4.2.4 ("invalid payload"), but is a
        // valid BINARY_ACK.
        assert_eq!(
            dec(r#"51-/admin,1[{"_placeholder":true,"num":0}]"#),
            Err(SioError::InvalidPayload)
        );
        assert_eq!(
            fields(r#"61-/admin,1[{"_placeholder":true,"num":0}]"#),
            (
                BinaryAck,
                "/admin".into(),
                Some(1),
                1,
                Some(r#"[{"_placeholder":true,"num":0}]"#.into())
            )
        );
        assert_eq!(
            fields(r#"51-["hello",{"_placeholder":true,"num":0}]"#),
            (
                BinaryEvent,
                "/".into(),
                None,
                1,
                Some(r#"["hello",{"_placeholder":true,"num":0}]"#.into())
            )
        );
    }

    #[test]
    fn write_head_every_type() {
        assert_eq!(head(Connect, "/", 0, None), b"0");
        assert_eq!(head(Connect, "/admin", 0, None), b"0/admin,");
        assert_eq!(head(Disconnect, "/admin", 0, None), b"1/admin,");
        assert_eq!(head(Event, "", 0, Some(0)), b"20");
        assert_eq!(head(Ack, "/", 7, Some(12)), b"312"); // attachments ignored
        assert_eq!(head(ConnectError, "/x", 0, None), b"4/x,");
        assert_eq!(head(BinaryEvent, "/", 0, None), b"50-");
        assert_eq!(
            head(BinaryAck, "/a", 12, Some(u64::MAX)),
            b"612-/a,18446744073709551615"
        );
        let mut out = BytesMut::from(&b"x"[..]);
        write_packet(&mut out, BinaryEvent, "/a", 2, Some(3), br#"["e"]"#);
        assert_eq!(&out[..], br#"x52-/a,3["e"]"#);
    }

    #[test]
    fn decode_every_type() {
        assert_eq!(fields("0"), (Connect, "/".into(), None, 0, None));
        assert_eq!(
            fields("0{}"),
            (Connect, "/".into(), None, 0, Some("{}".into()))
        );
        assert_eq!(
            fields(r#"0/admin,{"token":"t"}"#),
            (
                Connect,
                "/admin".into(),
                None,
                0,
                Some(r#"{"token":"t"}"#.into())
            )
        );
        assert_eq!(fields("1"), (Disconnect, "/".into(), None, 0, None));
        assert_eq!(
            fields("1/admin,"),
            (Disconnect, "/admin".into(), None, 0, None)
        );
        assert_eq!(
            fields("2[1]"),
            (Event, "/".into(), None, 0, Some("[1]".into()))
        );
        assert_eq!(
            fields("2[-1.5e3,2]"),
            (Event, "/".into(), None, 0, Some("[-1.5e3,2]".into()))
        );
        assert_eq!(fields("3[]"), (Ack, "/".into(), None, 0, Some("[]".into())));
        assert_eq!(
            fields("3/a,5[]"),
            (Ack, "/a".into(), Some(5), 0, Some("[]".into()))
        );
        assert_eq!(
            fields(r#"4"err""#),
            (ConnectError, "/".into(), None, 0, Some(r#""err""#.into()))
        );
        assert_eq!(
            fields(r#"4/x,{"message":"no"}"#),
            (
                ConnectError,
                "/x".into(),
                None,
                0,
                Some(r#"{"message":"no"}"#.into())
            )
        );
        assert_eq!(
            fields(r#"52-["a"]"#),
            (BinaryEvent, "/".into(), None, 2, Some(r#"["a"]"#.into()))
        );
        assert_eq!(
            fields("61-/x,3[1]"),
            (BinaryAck, "/x".into(), Some(3), 1, Some("[1]".into()))
        );
    }

    #[test]
    fn absent_payload_is_accepted_for_every_type() {
        // socket.io-parser only validates a payload that is present.
        for s in ["0", "1", "2", "3", "4", "5-", "6-", "2/a,", "3/a,9"] {
            assert!(dec(s).is_ok(), "{s:?}");
            assert_eq!(dec(s).unwrap().data, None);
        }
    }

    #[test]
    fn zero_copy_slices() {
        let input = Bytes::from_static(br#"2/admin,13["x"]"#);
        let p = decode(input.clone(), 0).unwrap();
        assert_eq!(p.nsp.as_ptr(), input[1..].as_ptr());
        assert_eq!(p.data.unwrap().as_ptr(), input[10..].as_ptr());
    }

    #[test]
    fn unknown_type() {
        for s in ["", "7", "9", "a", "-", "/", "[", "\u{1f600}", "\u{0663}"] {
            assert_eq!(dec(s), Err(SioError::UnknownType), "{s:?}");
        }
    }

    #[test]
    fn js_space_matches_node() {
        // Every UTF-16 code unit c with `Number(c) == c` in Node 20, less the digits.
        let node: Vec<u32> = [
            0x9, 0xa, 0xb, 0xc, 0xd, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
            0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
            0xfeff,
        ]
        .to_vec();
        let ours: Vec<u32> = (0..0x10000u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_js_space(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, node);
    }

    #[test]
    fn leading_js_whitespace_is_connect() {
        // Node: Number(" ") === 0, so " {}" is a CONNECT with data {}.
        assert_eq!(fields(" "), (Connect, "/".into(), None, 0, None));
        assert_eq!(
            fields(" {}"),
            (Connect, "/".into(), None, 0, Some("{}".into()))
        );
        assert_eq!(
            fields("\t{\"a\":1}"),
            (Connect, "/".into(), None, 0, Some("{\"a\":1}".into()))
        );
        assert_eq!(
            fields("\u{3000}/a,{}"),
            (Connect, "/a".into(), None, 0, Some("{}".into()))
        );
        assert_eq!(dec(" []"), Err(SioError::InvalidPayload));
    }

    #[test]
    fn attachment_count_rules() {
        // Expectations from socket.io-parser 4.2.4.
        assert_eq!(dec(r#"5["x"]"#), Err(SioError::IllegalAttachments)); // missing '-'
        assert_eq!(dec("5"), Err(SioError::IllegalAttachments));
        assert_eq!(dec("51"), Err(SioError::IllegalAttachments));
        assert_eq!(dec(r#"5a-["x"]"#), Err(SioError::IllegalAttachments));
        assert_eq!(dec(r#"6x-[]"#), Err(SioError::IllegalAttachments));
        // Node accepts these via Number(); we refuse them.
        for s in [
            r#"5+1-["x"]"#,
            r#"51e0-["x"]"#,
            r#"50x1-["x"]"#,
            r#"51.5-["x"]"#,
            r#"5Infinity-["x"]"#,
        ] {
            assert_eq!(dec(s), Err(SioError::IllegalAttachments), "{s:?}");
        }
        // "negative": the count ends at the first '-', so "5-1-" has 0
        // attachments followed by id 1 and a payload "-[" that is not JSON.
        assert_eq!(dec(r#"5-1-["x"]"#), Err(SioError::InvalidPayload));
        assert_eq!(dec(r#"5 1 1-["x"]"#), Err(SioError::IllegalAttachments));
    }

    #[test]
    fn attachment_count_quirks() {
        // Node: "5-[\"x\"]" -> attachments 0; "5 1-" and "51 -" -> 1; "5-" -> 0 without data.
        assert_eq!(
            fields(r#"5-["x"]"#),
            (BinaryEvent, "/".into(), None, 0, Some(r#"["x"]"#.into()))
        );
        assert_eq!(fields(r#"5 1-["x"]"#).3, 1);
        assert_eq!(fields(r#"51 -["x"]"#).3, 1);
        assert_eq!(fields(r#"5 -["x"]"#).3, 0);
        assert_eq!(fields("5-"), (BinaryEvent, "/".into(), None, 0, None));
        assert_eq!(fields("51-"), (BinaryEvent, "/".into(), None, 1, None));
        assert_eq!(
            fields("6-[]"),
            (BinaryAck, "/".into(), None, 0, Some("[]".into()))
        );
        assert_eq!(fields(r#"5007-["x"]"#).3, 7);
    }

    #[test]
    fn too_many_attachments() {
        assert_eq!(fields(r#"510-["x"]"#).3, 10);
        assert_eq!(dec(r#"511-["x"]"#), Err(SioError::TooManyAttachments));
        assert_eq!(
            dec(r#"599999999999999999999999-["x"]"#),
            Err(SioError::TooManyAttachments)
        );
        assert_eq!(
            decode(Bytes::from_static(br#"51-["x"]"#), 0),
            Err(SioError::TooManyAttachments)
        );
    }

    #[test]
    fn namespace_quirks() {
        // Node: "2/admin[\"x\"]" -> nsp '/admin["x"]', no data.
        assert_eq!(
            fields(r#"2/admin["x"]"#),
            (Event, r#"/admin["x"]"#.into(), None, 0, None)
        );
        assert_eq!(fields("2/admin"), (Event, "/admin".into(), None, 0, None));
        assert_eq!(fields("2/admin,"), (Event, "/admin".into(), None, 0, None));
        assert_eq!(
            fields(r#"2/,["x"]"#),
            (Event, "/".into(), None, 0, Some(r#"["x"]"#.into()))
        );
        assert_eq!(
            fields("0/é ü,{}"),
            (Connect, "/é ü".into(), None, 0, Some("{}".into()))
        );
        // A namespace must directly follow the type (or the '-').
        assert_eq!(dec(r#"2,["x"]"#), Err(SioError::InvalidPayload));
        assert_eq!(
            fields(r#"51-/b,["x"]"#),
            (BinaryEvent, "/b".into(), None, 1, Some(r#"["x"]"#.into()))
        );
    }

    #[test]
    fn id_quirks() {
        // Expectations from socket.io-parser 4.2.4.
        assert_eq!(fields(r#"2 ["x"]"#).2, Some(0));
        assert_eq!(fields(r#"21 ["x"]"#).2, Some(1));
        assert_eq!(fields(r#"2 1["x"]"#).2, Some(1));
        assert_eq!(fields(r#"2 "#), (Event, "/".into(), Some(0), 0, None));
        assert_eq!(fields(r#"21 "#), (Event, "/".into(), Some(1), 0, None));
        assert_eq!(fields("2\u{3000}[\"x\"]").2, Some(0));
        assert_eq!(fields(r#"2007["x"]"#).2, Some(7));
        assert_eq!(fields("4 1"), (ConnectError, "/".into(), Some(1), 0, None));
        assert_eq!(
            fields(r#"0/admin,1{}"#),
            (Connect, "/admin".into(), Some(1), 0, Some("{}".into()))
        );
        assert_eq!(fields("29007199254740991[1]").2, Some(MAX_ACK_ID));
    }

    #[test]
    fn invalid_ids() {
        // Node: NaN.
        assert_eq!(dec(r#"21 1["x"]"#), Err(SioError::InvalidId));
        // Node rounds these (to 9007199254740992 and 1e20).
        assert_eq!(dec(r#"29007199254740992["x"]"#), Err(SioError::InvalidId));
        assert_eq!(
            dec(r#"299999999999999999999["x"]"#),
            Err(SioError::InvalidId)
        );
        assert_eq!(
            dec(r#"2/a,18446744073709551616["x"]"#),
            Err(SioError::InvalidId)
        );
    }

    #[test]
    fn invalid_json() {
        for s in [
            "0{",
            "0{a:1}",
            r#"2["x"]x"#,
            r#"2["x",]"#,
            "2[01]",
            "2['x']",
            "3[1,]",
            "4\"abc",
            "2[\"\u{1}\"]",
            r#"2["\x"]"#,
            "2[NaN]",
        ] {
            assert_eq!(dec(s), Err(SioError::InvalidPayload), "{s:?}");
        }
        // Trailing JSON whitespace is fine (and trimmed from `data`).
        assert_eq!(fields("2[\"x\"] \n").4, Some(r#"["x"]"#.into()));
    }

    #[test]
    fn connect_payload_rules() {
        assert_eq!(dec("0[]"), Err(SioError::InvalidPayload));
        assert_eq!(dec(r#"0"s""#), Err(SioError::InvalidPayload));
        assert_eq!(dec("0null"), Err(SioError::InvalidPayload));
        assert_eq!(dec("0/a,true"), Err(SioError::InvalidPayload));
        assert!(dec(r#"0{"a":[1,{"b":null}]}"#).is_ok());
    }

    #[test]
    fn disconnect_payload_rules() {
        assert_eq!(dec("1{}"), Err(SioError::InvalidPayload));
        assert_eq!(dec("1null"), Err(SioError::InvalidPayload));
        assert_eq!(dec("1/admin,[]"), Err(SioError::InvalidPayload));
        assert_eq!(dec("1\"x\""), Err(SioError::InvalidPayload));
    }

    #[test]
    fn connect_error_payload_rules() {
        assert!(dec(r#"4"err""#).is_ok());
        assert!(dec("4{}").is_ok());
        assert_eq!(dec("4[]"), Err(SioError::InvalidPayload));
        assert_eq!(dec("4null"), Err(SioError::InvalidPayload));
        assert_eq!(dec("4true"), Err(SioError::InvalidPayload));
    }

    #[test]
    fn event_payload_rules() {
        for s in [
            "2{}",
            r#"2"x""#,
            "2[]",
            "2[ ]",
            "2[{}]",
            "2[[]]",
            "2[null]",
            "2[true]",
            r#"2["connect"]"#,
            r#"2["conn\u0065ct"]"#,
            r#"2["connect_error",1]"#,
            r#"2["disconnect"]"#,
            r#"2["disconnecting",1]"#,
            r#"2["newListener"]"#,
            r#"2["removeListener"]"#,
            r#"51-[{"_placeholder":true,"num":0}]"#,
            r#"50-["connect"]"#,
        ] {
            assert_eq!(dec(s), Err(SioError::InvalidPayload), "{s:?}");
        }
        for s in [
            r#"2["Connect"]"#,
            r#"2["connect "]"#,
            r#"2[""]"#,
            "2[0]",
            "2[-1]",
            "2[1e400]",
            r#"2["\ud800"]"#,
            r#"2[ "x" ]"#,
            r#"2["a\"b",{"c":[1]}]"#,
        ] {
            assert!(dec(s).is_ok(), "{s:?}");
        }
    }

    #[test]
    fn ack_payload_rules() {
        assert!(dec("3[]").is_ok());
        assert!(dec(r#"3["connect"]"#).is_ok());
        assert!(dec("61-[{\"_placeholder\":true,\"num\":0}]").is_ok());
        assert_eq!(dec("3{}"), Err(SioError::InvalidPayload));
        assert_eq!(dec(r#"3"x""#), Err(SioError::InvalidPayload));
        assert_eq!(dec("3null"), Err(SioError::InvalidPayload));
        // "60-1": 0 attachments, id 1, no payload.
        assert_eq!(fields("60-1"), (BinaryAck, "/".into(), Some(1), 0, None));
    }

    #[test]
    fn non_utf8_is_rejected() {
        assert_eq!(
            decode(Bytes::from_static(b"2[\"\xff\"]"), 0),
            Err(SioError::InvalidPayload)
        );
        assert_eq!(
            decode(Bytes::from_static(b"0/\xc3,{}"), 0),
            Err(SioError::InvalidPayload)
        );
    }

    #[test]
    fn deep_nesting_is_accepted_without_recursion() {
        // Like JSON.parse; serde_json's IgnoredAny walk is iterative.
        let deep = format!("2[1,{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert!(dec(&deep).is_ok());
        let unbalanced = format!("2[1,{}{}]", "[".repeat(100_000), "]".repeat(99_999));
        assert_eq!(dec(&unbalanced), Err(SioError::InvalidPayload));
        let objects = format!("[{}1{}]", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        assert_eq!(validate_placeholders(objects.as_bytes(), 0), Ok(()));
        let bad = format!(
            "[{}{{\"_placeholder\":true,\"num\":1}}{}]",
            "{\"a\":[".repeat(50_000),
            "]}".repeat(50_000)
        );
        assert_eq!(
            validate_placeholders(bad.as_bytes(), 1),
            Err(SioError::IllegalAttachments)
        );
    }

    #[test]
    fn event_names() {
        assert_eq!(
            event_name(br#"["hello","world"]"#).as_deref(),
            Some("hello")
        );
        assert!(matches!(
            event_name(br#"["hello"]"#),
            Some(Cow::Borrowed("hello"))
        ));
        assert_eq!(
            event_name(br#"[ "a\"b\\c\/\n\u00e9\ud83d\ude00" ]"#).as_deref(),
            Some("a\"b\\c/\né😀")
        );
        assert_eq!(event_name(br#"["\ud800x"]"#).as_deref(), Some("\u{fffd}x"));
        assert_eq!(
            event_name(br#"["\udc00\ud800\ud800\ude00"]"#).as_deref(),
            Some("\u{fffd}\u{fffd}\u{10200}")
        );
        assert_eq!(
            event_name(br#"["\ud800\n"]"#).as_deref(),
            Some("\u{fffd}\n")
        );
        assert_eq!(event_name(br#"[1,"x"]"#), None);
        assert_eq!(event_name(br#"[-1]"#), None);
        assert_eq!(event_name(b"[]"), None);
        assert_eq!(event_name(b""), None);
        assert_eq!(event_name(br#"["\q"]"#), None);
        assert_eq!(event_name(br#"["\u12"]"#), None);
        assert_eq!(event_name(br#"["abc"#), None);
    }

    #[test]
    fn placeholders_valid() {
        let v = |s: &str, n| validate_placeholders(s.as_bytes(), n);
        assert_eq!(v(r#"["a",{"_placeholder":true,"num":0}]"#, 1), Ok(()));
        assert_eq!(
            v(
                r#"["a",{"x":[{"_placeholder":true,"num":1}],"y":{"_placeholder":true,"num":0}}]"#,
                2
            ),
            Ok(())
        );
        assert_eq!(v(r#"[{"num":0,"_placeholder":true}]"#, 1), Ok(()));
        assert_eq!(v(r#"[{"_placeholder":true,"num":0.0}]"#, 1), Ok(()));
        assert_eq!(v(r#"[{"_placeholder":true,"num":1e0}]"#, 2), Ok(()));
        assert_eq!(v(r#"[{"_placeholder":true,"num":-0}]"#, 1), Ok(()));
        // Not placeholders: `_placeholder` must be the literal true.
        assert_eq!(v(r#"[{"_placeholder":false,"num":9}]"#, 0), Ok(()));
        assert_eq!(v(r#"[{"_placeholder":"true","num":9}]"#, 0), Ok(()));
        assert_eq!(v(r#"[{"_placeholder":1,"num":9}]"#, 0), Ok(()));
        assert_eq!(
            v(r#"[{"_placeholder":true,"_placeholder":false}]"#, 0),
            Ok(())
        );
        // A placeholder object is replaced whole: its other members are not walked.
        assert_eq!(
            v(
                r#"[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]"#,
                1
            ),
            Ok(())
        );
        // Duplicate keys: only the last value is walked.
        assert_eq!(
            v(r#"[{"a":{"_placeholder":true,"num":9},"a":1}]"#, 1),
            Ok(())
        );
        assert_eq!(
            v(r#"[{"\u0061":{"_placeholder":true,"num":9},"a":1}]"#, 1),
            Ok(())
        );
        assert_eq!(v(r#"[1,"x",null,true,{},[]]"#, 0), Ok(()));
    }

    #[test]
    fn placeholders_invalid() {
        let v = |s: &str, n| validate_placeholders(s.as_bytes(), n);
        let bad = Err(SioError::IllegalAttachments);
        assert_eq!(v(r#"[{"_placeholder":true,"num":1}]"#, 1), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":0}]"#, 0), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":-1}]"#, 3), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":0.5}]"#, 3), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":1e400}]"#, 3), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":"0"}]"#, 3), bad);
        assert_eq!(v(r#"[{"_placeholder":true,"num":null}]"#, 3), bad);
        assert_eq!(v(r#"[{"_placeholder":true}]"#, 3), bad);
        assert_eq!(
            v(r#"[{"_placeholder":false,"_placeholder":true,"num":5}]"#, 3),
            bad
        );
        assert_eq!(v(r#"[{"\u005fplaceholder":true,"num":5}]"#, 3), bad);
        assert_eq!(v(r#"{"_placeholder":true,"num":5}"#, 3), bad);
        assert_eq!(
            v(r#"[{"a":1,"a":{"b":[{"_placeholder":true,"num":7}]}}]"#, 3),
            bad
        );
        assert_eq!(v(r#"[[[{"_placeholder":true,"num":3}]]]"#, 3), bad);
        assert_eq!(
            v(
                r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":3}]"#,
                3
            ),
            bad
        );
        assert_eq!(v("[", 3), Err(SioError::InvalidPayload));
        assert_eq!(v("", 3), Err(SioError::InvalidPayload));
        assert_eq!(
            validate_placeholders(b"[\"\xff\"]", 3),
            Err(SioError::InvalidPayload)
        );
    }

    /// Reference implementation of `_reconstructPacket`'s throwing rule on a `Value`.
    fn reference_bad(v: &serde_json::Value, attachments: usize) -> bool {
        use serde_json::Value;
        match v {
            Value::Object(m) if m.get("_placeholder") == Some(&Value::Bool(true)) => !m
                .get("num")
                .and_then(Value::as_f64)
                .is_some_and(|n| n >= 0.0 && n.fract() == 0.0 && n < attachments as f64),
            Value::Object(m) => m.values().any(|v| reference_bad(v, attachments)),
            Value::Array(a) => a.iter().any(|v| reference_bad(v, attachments)),
            _ => false,
        }
    }

    fn json_value() -> BoxedStrategy<serde_json::Value> {
        use serde_json::{json, Value};
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-3i64..5).prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-z\"\\\\é\u{1}😀]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z_]{0,4}", inner.clone(), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                (
                    prop_oneof![Just(json!(true)), Just(json!(false)), Just(json!(1))],
                    inner.clone(),
                    any::<bool>()
                )
                    .prop_map(|(flag, num, extra)| {
                        let mut m = serde_json::Map::new();
                        m.insert("_placeholder".into(), flag);
                        m.insert("num".into(), num);
                        if extra {
                            m.insert("x".into(), json!({"_placeholder": true, "num": 99}));
                        }
                        Value::Object(m)
                    }),
            ]
        })
        .boxed()
    }

    fn event_data() -> impl Strategy<Value = String> {
        let first = prop_oneof![
            "[a-zA-Z0-9 _\"\\\\é\u{1}😀]{0,8}"
                .prop_filter("reserved", |s| !RESERVED_EVENTS.contains(&s.as_str()))
                .prop_map(serde_json::Value::String),
            (-1000i64..1000).prop_map(|n| serde_json::json!(n)),
            (-1e9f64..1e9).prop_map(|f| serde_json::json!(f)),
        ];
        (first, proptest::collection::vec(json_value(), 0..4)).prop_map(|(f, rest)| {
            let mut v = vec![f];
            v.extend(rest);
            serde_json::Value::Array(v).to_string()
        })
    }

    fn packet_parts() -> impl Strategy<Value = (PacketType, usize, Option<String>)> {
        use serde_json::Value;
        let object = proptest::collection::btree_map("[a-z]{0,4}", json_value(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()).to_string());
        let array =
            proptest::collection::vec(json_value(), 0..4).prop_map(|v| Value::Array(v).to_string());
        prop_oneof![
            proptest::option::of(object.clone()).prop_map(|d| (Connect, 0, d)),
            Just((Disconnect, 0, None)),
            proptest::option::of(event_data()).prop_map(|d| (Event, 0, d)),
            proptest::option::of(array.clone()).prop_map(|d| (Ack, 0, d)),
            proptest::option::of(prop_oneof![
                object,
                "[a-z \"é]{0,8}".prop_map(|s| Value::String(s).to_string())
            ])
            .prop_map(|d| (ConnectError, 0, d)),
            (0usize..=MAX, proptest::option::of(event_data())).prop_map(|(n, d)| (
                BinaryEvent,
                n,
                d
            )),
            (0usize..=MAX, proptest::option::of(array)).prop_map(|(n, d)| (BinaryAck, n, d)),
        ]
    }

    proptest! {
        #[test]
        fn head_and_payload_round_trip(
            (kind, attachments, data) in packet_parts(),
            nsp in prop_oneof![Just(String::from("/")), Just(String::new()), "/[^,]{0,10}"],
            id in proptest::option::of(0..=MAX_ACK_ID),
        ) {
            let mut out = BytesMut::new();
            write_head(&mut out, kind, &nsp, attachments, id);
            if let Some(d) = &data {
                out.extend_from_slice(d.as_bytes());
            }
            let p = decode(out.freeze(), MAX).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(p.kind, kind);
            prop_assert_eq!(p.nsp_str(), if nsp.is_empty() { "/" } else { nsp.as_str() });
            prop_assert_eq!(p.id, id);
            prop_assert_eq!(p.attachments, attachments);
            prop_assert_eq!(p.data.as_deref(), data.as_deref().map(str::as_bytes));
            if let (Event | BinaryEvent, Some(d)) = (kind, &data) {
                let parsed: Vec<serde_json::Value> = serde_json::from_str(d).unwrap();
                let name = event_name(d.as_bytes());
                prop_assert_eq!(name.as_deref(), parsed[0].as_str());
            }
        }

        #[test]
        fn placeholders_match_reference(v in json_value(), attachments in 0usize..3) {
            let text = v.to_string();
            let expected = if reference_bad(&v, attachments) {
                Err(SioError::IllegalAttachments)
            } else {
                Ok(())
            };
            prop_assert_eq!(validate_placeholders(text.as_bytes(), attachments), expected.clone());
            // Same with whitespace everywhere.
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            prop_assert_eq!(validate_placeholders(pretty.as_bytes(), attachments), expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..4) {
            let _ = decode(Bytes::from(data.clone()), max);
            let _ = validate_placeholders(&data, max);
            let _ = event_name(&data);
            let _ = json::unescape(&data);
        }

        #[test]
        fn structured_garbage_never_panics(s in "[0-6 \u{3000}\\-/,a-z0-9\\[\\]{}\":\\\\_.é]{0,40}", max in 0usize..4) {
            let _ = decode(Bytes::from(s.clone().into_bytes()), max);
            let _ = validate_placeholders(s.as_bytes(), max);
            let _ = event_name(s.as_bytes());
            let _ = json::unescape(s.as_bytes());
        }
    }
}
