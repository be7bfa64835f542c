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
//! JSON is validated with `serde_json` without building a value tree, then
//! scanned with the shared JSON scanner (`wire::json`); payloads are
//! zero-copy slices of the input. Heads are written by [`write_head`], the one
//! writer of Socket.IO packet heads (the argument serializer of
//! [`crate::payload`] uses it too).

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

/// Writes `packet`, whose head [`write_head`] wrote for namespace `from`, headed for
/// namespace `to` instead: the same type, attachment count, id and payload (a broadcast to
/// a dynamic namespace is encoded once for its name, then headed for each child). Writes
/// nothing and answers `false` when `packet` does not start with a head for `from`.
pub fn write_renamed(out: &mut BytesMut, packet: &[u8], from: &str, to: &str) -> bool {
    let Some(kind) = packet.first().copied().and_then(PacketType::from_byte) else {
        return false;
    };
    let mut rest = &packet[1..];
    let mut attachments = 0;
    if kind.is_binary() {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let count = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(parse_digits);
        match (count, rest.get(digits)) {
            (Some(n), Some(b'-')) if digits > 0 => attachments = n as usize,
            _ => return false,
        }
        rest = &rest[digits + 1..];
    }
    if !from.is_empty() && from != "/" {
        match rest
            .strip_prefix(from.as_bytes())
            .and_then(|r| r.strip_prefix(b","))
        {
            Some(r) => rest = r,
            None => return false,
        }
    }
    out.reserve(max_head_len(to) + rest.len());
    write_head(out, kind, to, attachments, None);
    out.extend_from_slice(rest);
    true
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
                // A literal (number, `true`...) runs to a delimiter or white space.
                while let Some(&c) = b.get(pos) {
                    if matches!(c, b',' | b']' | b'}') || json::is_ws(c) {
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

/// What the type of the top-level argument value of an EVENT / ACK says about its
/// shape: the one owner of the argument convention's type test, for the JSON writer
/// (`payload::write_event`) and the msgpack one ([`msgpack::write_event`]).
///
/// serde serializes `[T; N]` exactly like a tuple (`serialize_tuple`), and
/// `()` exactly like `serde_json::Value::Null` (`serialize_unit`), yet an
/// array or `Null` is ONE argument while a tuple spreads and `()` means none:
/// the type name is the only thing telling them apart. Should the format of
/// `type_name` ever change, arrays would spread and `()` would be written as
/// a `null` argument (tests cover this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgsShape {
    /// `()`: no argument.
    Unit,
    /// `[T; N]` (or a slice): one argument, although serialized as a tuple.
    Array,
    /// Anything else: serializer calls decide.
    Other,
}

impl ArgsShape {
    pub(crate) fn of<T: ?Sized>() -> Self {
        let mut name = std::any::type_name::<T>();
        while let Some(rest) = name.strip_prefix('&') {
            name = rest.strip_prefix("mut ").unwrap_or(rest);
        }
        if name == "()" {
            Self::Unit
        } else if name.starts_with('[') {
            Self::Array
        } else {
            Self::Other
        }
    }
}

pub mod msgpack;

#[cfg(test)]
mod tests;
