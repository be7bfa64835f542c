//! The msgpack parser (`Config::parser`, `socket.io-msgpack-parser` on the client): every
//! packet is one binary message both ways, binary values travel inside it, and a broadcast is
//! encoded once for every recipient.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use crate::config::Parser;
use crate::sim::{parse_frames, Client, Frame, Sim};
use crate::wire::sio::{msgpack, PacketType};
use crate::wire::ws::OpCode;
use crate::{App, Binary};

fn app() -> Arc<App> {
    App::builder()
        .configure(|c| c.parser = Parser::Msgpack)
        .namespace("/", |ns| {
            ns.on("echo", |s, e| s.emit("echo", &e.args).unwrap())
                .on("ack", |s, e| {
                    if let Some(id) = e.ack {
                        s.ack(id, &e.args).unwrap();
                    }
                })
        })
        .build()
}

/// A client's packet: the msgpack map `{type, data?, nsp}`.
fn event(name: &str, args: &(impl serde::Serialize + ?Sized), id: Option<u64>) -> Vec<u8> {
    let mut out = BytesMut::new();
    msgpack::write_event(&mut out, "/", id, name, args).unwrap();
    out.to_vec()
}

/// `{type: 0, nsp: "/"}`: a CONNECT without auth.
const CONNECT: &[u8] = b"\x82\xa4type\x00\xa3nsp\xa1/";

/// The packet of a binary frame, decoded.
fn decode(frame: &Frame) -> msgpack::Decoded {
    assert_eq!(frame.0, OpCode::Binary as u8, "a binary frame");
    msgpack::decode(Bytes::from(frame.1.clone()), 10).unwrap()
}

/// A client joined to `/` over WebSocket on `shard`: its socket id.
fn join(sim: &mut Sim, shard: usize) -> (Client, String) {
    let (c, rest) = sim.ws_open_on(shard, "EIO=4&transport=websocket");
    assert!(
        parse_frames(&rest)[0].1.starts_with(b"0{"),
        "Engine.IO's open is text"
    );
    sim.ws_send(c, OpCode::Binary, CONNECT);
    let frames = sim.ws_recv(c);
    let connected = decode(&frames[0]);
    assert_eq!(connected.packet.kind, PacketType::Connect);
    let data: serde_json::Value = serde_json::from_slice(&connected.packet.data.unwrap()).unwrap();
    (c, data["sid"].as_str().unwrap().to_owned())
}

#[test]
fn events_and_acks_travel_as_msgpack_with_binary_inside() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, sid) = join(&mut sim, 0);
    assert_eq!(sid.len(), 20);
    let bin = Binary(Bytes::from_static(&[1, 2, 3]));
    sim.ws_send(c, OpCode::Binary, &event("echo", &("x", 1.5, &bin), None));
    let frames = sim.ws_recv(c);
    assert_eq!(frames.len(), 1, "one message: no attachments");
    assert_eq!(
        frames[0].1,
        event("echo", &("x", 1.5, &bin), None),
        "Node's bytes"
    );
    let echoed = decode(&frames[0]);
    assert_eq!(echoed.attachments, [Bytes::from_static(&[1, 2, 3])]);
    sim.ws_send(c, OpCode::Binary, &event("ack", &(7,), Some(4)));
    let ack = decode(&sim.ws_recv(c)[0]);
    assert_eq!(ack.packet.kind, PacketType::Ack);
    assert_eq!(ack.packet.id, Some(4));
    assert_eq!(ack.packet.data.as_deref(), Some(&b"[7]"[..]));
}

#[test]
fn a_text_packet_or_garbage_closes_the_session() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = join(&mut sim, 0);
    sim.ws_text(c, r#"42["echo",1]"#);
    assert!(
        sim.is_closed(c) || sim.is_shut(c),
        "text under the msgpack parser"
    );
    let (c, _) = join(&mut sim, 0);
    sim.ws_send(c, OpCode::Binary, b"\xc1");
    assert!(sim.is_closed(c) || sim.is_shut(c), "not msgpack");
}

#[test]
fn a_broadcast_is_encoded_once_for_every_shard() {
    let mut sim = Sim::with_shards(app(), 2, Instant::now());
    let (a, _) = join(&mut sim, 0);
    let (b, _) = join(&mut sim, 1);
    sim.io().emit("news", &(1, "two")).unwrap();
    sim.pump();
    let (fa, fb) = (sim.ws_recv(a), sim.ws_recv(b));
    assert_eq!(fa.len(), 1);
    assert_eq!(fa, fb);
    assert_eq!(fa[0].1, event("news", &(1, "two"), None));
}

#[test]
fn an_unknown_namespace_is_refused_in_msgpack() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, rest) = sim.ws_open("EIO=4&transport=websocket");
    assert!(!rest.is_empty());
    sim.ws_send(c, OpCode::Binary, b"\x82\xa4type\x00\xa3nsp\xa4/nop");
    let refused = decode(&sim.ws_recv(c)[0]);
    assert_eq!(refused.packet.kind, PacketType::ConnectError);
    assert_eq!(&refused.packet.nsp[..], b"/nop");
    let data: serde_json::Value = serde_json::from_slice(&refused.packet.data.unwrap()).unwrap();
    assert_eq!(data["message"], "Invalid namespace");
}
