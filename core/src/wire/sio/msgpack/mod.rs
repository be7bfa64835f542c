//! The Socket.IO msgpack parser (npm `socket.io-msgpack-parser` 3.x, on `notepack.io` 2.x):
//! packets as msgpack maps, for servers and clients configured with
//! `parser: require("socket.io-msgpack-parser")`.
//!
//! # Wire format
//!
//! A packet is ONE binary Engine.IO message holding one msgpack map, the packet object
//! itself as `notepack.encode` writes it: the members in the order the JavaScript code set
//! them, `undefined` members as fixext 1 of type 0 (`d4 00 00`). The members:
//!
//! * `type`: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR. There is no
//!   BINARY_EVENT / BINARY_ACK: binary values travel inside `data` as msgpack bin, with no
//!   attachments and no placeholders.
//! * `data`: CONNECT `{sid, pid?}` from the server, the `auth` object (or nothing) from the
//!   client; CONNECT_ERROR `{message, data?}`; EVENT `[name, ...args]`; ACK `[...args]`;
//!   DISCONNECT none.
//! * `nsp`: the namespace, always present (`"/"` included).
//! * `id`: the ack id, when there is one.
//!
//! Orders seen on the wire (socket.io 4.8, socket.io-client 4.8):
//!
//! | packet | server | client |
//! | --- | --- | --- |
//! | EVENT | `type, data, nsp` (`socket.emit` with ack: `type, data, id, nsp`; `broadcastWithAck`: `type, data, nsp, id`) | `type, data, options, [id,] nsp` (`options: {compress}` rides along) |
//! | ACK | `id, type, data, nsp` | `type, id, data, nsp` |
//! | CONNECT | `type, data: {sid, pid}, nsp` (`pid: undefined` without recovery) | `type, data, nsp` (`data: undefined` without auth) |
//! | CONNECT_ERROR | `type, data: {message, data}, nsp` (unknown namespace: `type, nsp, data`) | – |
//! | DISCONNECT | `type, nsp` | `type, nsp` |
//!
//! notepack writes every number in the smallest msgpack form: integral numbers as
//! integers (fixint, uint 8..64, int 8..64), others as float 64 (never float 32); strings
//! as fixstr / str 8 / 16 / 32; `Buffer`s as bin 8 / 16 / 32; other `ArrayBuffer`s and
//! typed arrays as ext of type 0; `Date`s as fixext 8 of type 0 (milliseconds); arrays and
//! maps in their smallest header. It reads all of msgpack, float 32 included, and reads
//! any other ext as the array `[type, Buffer]`.
//!
//! # Decoding ([`decode`])
//!
//! The packet comes out in corelay's internal form, the one the JSON parser gives, so that
//! the socketio layer handles both alike: a [`Packet`](super::Packet) whose `data` is the
//! JSON text of the `data` member as `JSON.stringify` would write what notepack decodes,
//! with each binary value (bin, ext of type 0) replaced by the placeholder
//! `{"_placeholder":true,"num":N}`, plus the binary values in order ([`Decoded`]), as
//! zero-copy slices of the input. An EVENT / ACK holding binary values is typed
//! `BinaryEvent` / `BinaryAck` with `attachments` set, exactly as a JSON packet whose
//! attachments have all arrived.
//!
//! The checks are the parser's `checkPacket`, in its order: `type` an integer 0..=4
//! ([`MsgpackError::UnknownType`]); `nsp` a string ([`MsgpackError::InvalidNamespace`]);
//! `data` of the type's shape ([`MsgpackError::InvalidPayload`]: CONNECT nothing or a map,
//! DISCONNECT nothing, CONNECT_ERROR a string or a map, EVENT / ACK an array); `id` absent
//! or an integer ([`MsgpackError::InvalidId`]). Other members are ignored; of a repeated
//! member the last one counts. `undefined` is as good as absent. Integers may come as
//! integral floats (`type: 2.0`), as in JavaScript.
//!
//! Values become JSON as follows: integers exactly, in decimal; floats as JavaScript
//! prints them (`1.5`, `3` for an integral float, `1e+21`, `1.5e-7`), `NaN` and the
//! infinities as `null` (as `JSON.stringify` does); strings escaped as `JSON.stringify`
//! escapes them; `undefined` as `null` in an array and left out of a map; a `Date` as its
//! ISO string; any other ext as `[type, <placeholder>]`. Map keys become strings as
//! JavaScript turns them into property names: numbers, `nil`, booleans and `undefined`
//! spelled out (`1`, `1.5`, `null`, `true`); map members stay in their wire order
//! (duplicates included, as the JSON parser keeps them in the text).
//!
//! Where this differs from the JavaScript parser (each time to refuse or keep exact what
//! the JavaScript would silently change, or to keep the rules of the JSON parser):
//!
//! * An EVENT must also pass the JSON parser's rule: a first element that is a number or a
//!   string not in [`RESERVED_EVENTS`](super::RESERVED_EVENTS) (the msgpack parser accepts
//!   `[]` and `["disconnect"]`).
//! * An ack id must be within `0..=`[`MAX_ACK_ID`](super::MAX_ACK_ID), as with the JSON
//!   parser (JavaScript accepts negative and rounded ids).
//! * Integers past 2^53 are kept exact (JavaScript rounds them).
//! * A string or a string key that is not UTF-8 is refused ([`MsgpackError::InvalidUtf8`];
//!   Node substitutes U+FFFD).
//! * Map keys that are arrays, maps, binary or dates are refused
//!   ([`MsgpackError::InvalidKey`]; JavaScript would name the member `"1,2"`,
//!   `"[object Object]"`, the buffer's text...).
//! * Nesting deeper than [`MAX_DEPTH`] containers is refused ([`MsgpackError::TooDeep`]),
//!   and at most `max_attachments` binary values
//!   ([`MsgpackError::TooManyAttachments`]).
//! * Integer-like keys keep their wire order (JavaScript objects list them first; in
//!   msgpack written by JavaScript they come first anyway).
//! * Like the JSON path (and unlike the msgpack parser), a map that reads
//!   `{"_placeholder":true,"num":N}` is taken for binary value N by the argument
//!   deserializer.
//!
//! No input panics; no allocation is sized by a length read from the input (a container
//! announcing more elements than the bytes left could hold is refused at once); the JSON
//! text is at most a constant factor longer than the input.
//!
//! # Encoding
//!
//! [`write_event`], [`write_ack`], [`write_connect`], [`write_connect_error`] and
//! [`write_disconnect`] write a server packet's final bytes to a `BytesMut` in one pass,
//! straight from serde values (the arguments follow the convention of
//! [`payload::write_event`](crate::payload::write_event)), byte for byte what notepack
//! writes for the object socket.io builds (see the table above; `socket.emit`'s order for
//! an EVENT with an id). The serde data model maps as serde_json maps it, so a JavaScript
//! client sees the same values under both parsers: structs and maps as maps (never
//! arrays), keys as strings, enums externally tagged, `None` / `()` as nil, integral
//! floats as integers, `&RawValue` as the value its JSON text holds. Bytes
//! (`serialize_bytes`: [`Binary`](crate::payload::Binary), `serde_bytes`) are msgpack bin.
//! Differences from Node: no `pid: undefined` / `data: undefined` members, and integral
//! floats past 2^64 (or below -2^63) as float 64 where notepack garbles them.
//! [`write_renamed`] heads an encoded packet for another namespace.
//!
//! # Wiring the `parser` option in (left to the integration step)
//!
//! * Encode path (`socketio::encode`): `encode_event` / `encode_ack` call [`write_event`] /
//!   [`write_ack`] into a binary buffer and yield ONE `OutPacket::binary` (no
//!   attachments, no BINARY_* types); `encode_connected`, `encode_connect_error`,
//!   `encode_plain` (DISCONNECT) use [`write_connect`], [`write_connect_error`],
//!   [`write_disconnect`]; `with_namespace` uses [`write_renamed`]. A broadcast is still
//!   encoded once and shared.
//! * Engine.IO framing: a binary message (`OutPacket::binary`), i.e. a binary WebSocket
//!   frame, and on polling the `b<base64>` record of the payload.
//! * Decode path: a binary Engine.IO message is a whole packet: [`decode`] it (no pending
//!   attachments state), then hand `packet` and `attachments` to the code that today
//!   receives a BINARY_EVENT / BINARY_ACK once its attachments have all arrived. A TEXT
//!   message is an error under this parser (Node's decoder throws on it): close as for a
//!   parse error. CONNECT data may hold placeholders (binary in `auth`), which the JSON
//!   path never sees.
//! * Errors: every [`MsgpackError`] closes the connection, as a [`SioError`](super::SioError)
//!   does.
//! * The parser choice is per server (both ends must agree); the argument-listener value
//!   (`args_value`) is unchanged (it is JSON either way).

mod decode;
mod encode;
mod key;

pub use decode::{decode, Decoded};
pub use encode::{
    write_ack, write_connect, write_connect_error, write_disconnect, write_event, write_renamed,
};

/// The deepest nesting of msgpack containers [`decode`] accepts, the packet's own map
/// counting as one.
pub const MAX_DEPTH: usize = 128;

/// Why [`decode`] refused a message. The Node server closes the connection on any of them.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MsgpackError {
    /// Not one msgpack value: truncated, trailing bytes, the unused marker `0xc1`, or a
    /// length longer than the input.
    #[error("malformed msgpack")]
    Malformed,
    /// Containers nested deeper than [`MAX_DEPTH`].
    #[error("msgpack nested too deeply")]
    TooDeep,
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 string")]
    InvalidUtf8,
    /// A map key that is an array, a map, binary or a date.
    #[error("invalid map key")]
    InvalidKey,
    /// No `type`, or not an integer from 0 to 4 (the message is not a map, for one).
    #[error("invalid packet type")]
    UnknownType,
    /// No `nsp`, or not a string.
    #[error("invalid namespace")]
    InvalidNamespace,
    /// `data` not of the shape the packet type requires.
    #[error("invalid payload")]
    InvalidPayload,
    /// `id` not an integer from 0 to [`MAX_ACK_ID`](super::MAX_ACK_ID).
    #[error("invalid packet id")]
    InvalidId,
    /// More binary values than allowed.
    #[error("too many attachments")]
    TooManyAttachments,
}

#[cfg(test)]
mod tests;
