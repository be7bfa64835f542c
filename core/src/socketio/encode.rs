//! Socket.IO packets as they leave the server: encoded once, to the Engine.IO packets of every
//! transport (the text packet, then one binary message per attachment).

use bytes::{Bytes, BytesMut};
use serde::Serialize;
use smallvec::SmallVec;

use super::payload;
use super::EmitError;
use crate::config::Parser;
use crate::engine::OutPacket;
use crate::wire::eio::PacketType as EioType;
use crate::wire::sio::{self, msgpack, PacketType};

/// The packets of one Socket.IO packet: the text, then its binary attachments.
pub type Encoded = SmallVec<[OutPacket; 1]>;

/// Refuses the event names a client could not receive as events.
pub(crate) fn check_name(event: &str) -> Result<(), EmitError> {
    if sio::RESERVED_EVENTS.contains(&event) {
        return Err(EmitError::Reserved(event.to_owned()));
    }
    Ok(())
}

/// Encodes an EVENT (or BINARY_EVENT) once, framed for every transport, with `parser`.
pub(crate) fn encode_event<T: Serialize + ?Sized>(
    parser: Parser,
    nsp: &str,
    event: &str,
    id: Option<u64>,
    args: &T,
) -> Result<Encoded, serde_json::Error> {
    if parser == Parser::Msgpack {
        let mut buf = OutPacket::binary_buffer(64);
        msgpack::write_event(&mut buf, nsp, id, event, args)?;
        return Ok(smallvec::smallvec![OutPacket::finish_binary(buf)]);
    }
    let mut buf = OutPacket::text_buffer(EioType::Message, 64);
    let attachments = payload::write_event(&mut buf, nsp, id, event, args)?;
    Ok(frame(buf, attachments))
}

/// Encodes an ACK (or BINARY_ACK) with `parser`.
pub(crate) fn encode_ack<T: Serialize + ?Sized>(
    parser: Parser,
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<Encoded, serde_json::Error> {
    if parser == Parser::Msgpack {
        let mut buf = OutPacket::binary_buffer(32);
        msgpack::write_ack(&mut buf, nsp, id, args)?;
        return Ok(smallvec::smallvec![OutPacket::finish_binary(buf)]);
    }
    let mut buf = OutPacket::text_buffer(EioType::Message, 32);
    let attachments = payload::write_ack(&mut buf, nsp, id, args)?;
    Ok(frame(buf, attachments))
}

/// A DISCONNECT for namespace `nsp`.
pub(crate) fn encode_disconnect(parser: Parser, nsp: &str) -> OutPacket {
    if parser == Parser::Msgpack {
        let mut buf = OutPacket::binary_buffer(16 + nsp.len());
        msgpack::write_disconnect(&mut buf, nsp);
        return OutPacket::finish_binary(buf);
    }
    encode_plain(PacketType::Disconnect, nsp, None)
}

/// A packet with no payload or a raw JSON one: CONNECT, CONNECT_ERROR, DISCONNECT (JSON).
pub(crate) fn encode_plain(kind: PacketType, nsp: &str, json: Option<&[u8]>) -> OutPacket {
    let json = json.unwrap_or_default();
    let mut buf = OutPacket::text_buffer(EioType::Message, 32 + json.len());
    sio::write_packet(&mut buf, kind, nsp, 0, None, json);
    OutPacket::finish_text(buf)
}

/// The CONNECT answer: `0[<nsp>,]{"sid":"<id>"}` (or its msgpack form).
pub(crate) fn encode_connected(parser: Parser, nsp: &str, id: &str) -> OutPacket {
    if parser == Parser::Msgpack {
        let mut buf = OutPacket::binary_buffer(48 + nsp.len());
        msgpack::write_connect(&mut buf, nsp, id, None);
        return OutPacket::finish_binary(buf);
    }
    let mut json = Vec::with_capacity(32);
    json.extend_from_slice(b"{\"sid\":\"");
    json.extend_from_slice(id.as_bytes());
    json.extend_from_slice(b"\"}");
    encode_plain(PacketType::Connect, nsp, Some(&json))
}

/// A CONNECT_ERROR: `4[<nsp>,]{"message":"…"[,"data":…]}`, `data` being raw JSON (or its
/// msgpack form).
pub(crate) fn encode_connect_error(
    parser: Parser,
    nsp: &str,
    message: &str,
    data: Option<&str>,
) -> OutPacket {
    if parser == Parser::Msgpack {
        let data = data.and_then(|d| serde_json::from_str::<&serde_json::value::RawValue>(d).ok());
        let mut buf = OutPacket::binary_buffer(48 + nsp.len() + message.len());
        if msgpack::write_connect_error(&mut buf, nsp, message, data).is_err() {
            // The writer left `buf` as it was: the error without its data.
            let _ = msgpack::write_connect_error::<()>(&mut buf, nsp, message, None);
        }
        return OutPacket::finish_binary(buf);
    }
    let mut json =
        serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
    if let Some(data) = data {
        // {"message":"…"} becomes {"message":"…","data":…}
        json.pop();
        json.extend_from_slice(b",\"data\":");
        json.extend_from_slice(data.as_bytes());
        json.push(b'}');
    }
    encode_plain(PacketType::ConnectError, nsp, Some(&json))
}

/// Packets encoded for namespace `from`, for namespace `to`: the text packet is written again
/// with `to` in its head ([`sio::write_renamed`]), the rest of it and the attachments are
/// shared (a msgpack packet, one binary message, is written again with `to` as its `nsp`). A broadcast to a dynamic namespace is encoded with the parent's name; each child's
/// sockets need the child's. Packets not headed for `from` stay as they are.
pub(crate) fn with_namespace(packets: &Encoded, from: &str, to: &str) -> Encoded {
    let mut out = packets.clone();
    if let [only] = out.as_mut_slice() {
        if only.is_binary() {
            // A msgpack packet (a JSON one starts with text): its `nsp` is its last member.
            let packet = only.payload();
            let mut buf = OutPacket::binary_buffer(packet.len() + to.len());
            if msgpack::write_renamed(&mut buf, &packet, from, to) {
                *only = OutPacket::finish_binary(buf);
            }
            return out;
        }
    }
    if let Some(text) = out.first_mut().filter(|p| !p.is_binary()) {
        let payload = text.payload();
        // After the Engine.IO type digit, the Socket.IO packet.
        let packet = payload.get(1..).unwrap_or_default();
        let mut buf = OutPacket::text_buffer(EioType::Message, packet.len() + to.len());
        if sio::write_renamed(&mut buf, packet, from, to) {
            *text = OutPacket::finish_text(buf);
        }
    }
    out
}

/// Reads back what was encoded: the Socket.IO packet (its data as JSON text, binary values as
/// placeholders) and its binary values, whichever parser wrote it (a msgpack packet is one
/// binary message; a JSON one starts with text).
pub(crate) fn read_encoded(packets: &Encoded) -> Option<(sio::Packet, Vec<Bytes>)> {
    let (first, rest) = packets.split_first()?;
    if first.is_binary() {
        let decoded = msgpack::decode(first.payload(), usize::MAX).ok()?;
        return Some((decoded.packet, decoded.attachments));
    }
    let payload = first.payload();
    let packet = sio::decode(payload.slice(1..), usize::MAX).ok()?;
    Some((packet, rest.iter().map(OutPacket::payload).collect()))
}

fn frame(buf: BytesMut, attachments: Vec<Bytes>) -> Encoded {
    let mut out = SmallVec::new();
    out.push(OutPacket::finish_text(buf));
    for a in attachments {
        out.push(OutPacket::binary(&a));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::Binary;

    fn text(packets: &Encoded) -> String {
        String::from_utf8(packets[0].payload().to_vec()).unwrap()
    }

    #[test]
    fn a_packet_encoded_again_for_another_namespace() {
        let parent = r"^/dyn-\d+$";
        let p = encode_event(Parser::Json, parent, "e", Some(7), &(1, "a")).unwrap();
        let child = with_namespace(&p, parent, "/dyn-1");
        assert_eq!(text(&child), r#"42/dyn-1,7["e",1,"a"]"#);
        assert_eq!(text(&with_namespace(&p, parent, "/")), r#"427["e",1,"a"]"#);
        let p = encode_event(Parser::Json, "/", "e", None, &()).unwrap();
        assert_eq!(text(&with_namespace(&p, "/", "/x")), r#"42/x,["e"]"#);
        // A binary event: the attachment count stays, the attachments are shared.
        let bin = Binary(Bytes::from_static(&[1, 2]));
        let p = encode_event(Parser::Json, "/a", "e", None, &(bin, 3)).unwrap();
        let child = with_namespace(&p, "/a", "/bb");
        assert_eq!(
            text(&child),
            r#"451-/bb,["e",{"_placeholder":true,"num":0},3]"#
        );
        assert_eq!(child[1].ws_frame().as_ptr(), p[1].ws_frame().as_ptr());
    }
}
