//! The emitter against the bytes of `@socket.io/redis-emitter` (`vectors/emitter.json`, made
//! by `vectors/generate-emitter.mjs`): for each vector, the same call made with
//! `corelay_redis::emitter` publishes the same bytes on the same channel. Every vector is
//! checked (the test fails on one left out), and each decodes as the classic adapter's
//! message it is.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use support::Vector;

use corelay_redis::classic::{BroadcastMessage, Request};
use corelay_redis::emitter::{Args, Binary, Emitter, Publish};
use corelay_redis::{Format, Value};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

fn load() -> Vec<Vector> {
    support::load_vectors("emitter.json")
}

/// An object whose members keep the order given (a JavaScript object literal).
struct Ordered(Vec<(&'static str, i32)>);

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Numbers of every Rust type, as one list.
#[derive(Serialize)]
#[serde(untagged)]
enum Num {
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
}

#[derive(Serialize)]
struct Three {
    three: (f64, bool, ()),
}

#[derive(Serialize)]
struct Nested {
    nested: Binary,
}

#[derive(Serialize)]
struct Address {
    city: &'static str,
    zip: Option<u32>,
}

#[derive(Serialize)]
struct Person {
    name: &'static str,
    age: u8,
    tags: Vec<&'static str>,
    address: Address,
    admin: bool,
}

#[derive(Serialize)]
struct F {
    f: f64,
}

/// The call each vector was made with (see `generate-emitter.mjs`), made here.
fn rust_call(name: &str) -> Option<Publish> {
    use Num::*;
    let io = Emitter::new();
    let publish = match name {
        "emit_all" => io.emit(
            "hello",
            (
                1,
                "two",
                Three {
                    three: (3.5, true, ()),
                },
            ),
        ),
        "emit_no_args" => io.emit("ping", ()),
        "emit_room" => io.to("room1").emit("ev", "a"),
        "emit_room_twice" => io.to("room1").in_("room1").emit("ev", ()),
        "emit_two_rooms" => io.to("room1").to("room2").emit("ev", "b"),
        "emit_except" => io.except("room2").emit("ev", ()),
        "emit_room_except" => io.in_("room1").except("a").except("b").emit("ev", ()),
        "emit_custom_nsp" => io.of("/custom").emit("in custom", "x"),
        "emit_nsp_without_slash" => io.of("custom").to("r").emit("ev", ()),
        "emit_volatile" => io.volatile().emit("ev", 1),
        "emit_compress_false" => io.compress(false).emit("ev", 1),
        "emit_volatile_compress" => io.to("room1").volatile().compress(false).emit("ev", ()),
        "emit_compress_volatile" => io.compress(true).volatile().compress(false).emit("ev", ()),
        "emit_binary" => io.emit(
            "bin",
            (
                Binary::from(vec![1u8, 2, 3]),
                Nested {
                    nested: Binary::from(vec![0xffu8]),
                },
            ),
        ),
        "emit_binary_large" => io.emit("bin", Binary::from(vec![7u8; 300])),
        "emit_several_args" => io.emit(
            "args",
            (
                "a",
                2,
                false,
                None::<u8>,
                (1, "x"),
                BTreeMap::from([("k", "v")]),
            ),
        ),
        "emit_numbers" => io.emit(
            "numbers",
            Args(vec![
                U8(0),
                I8(127),
                U8(128),
                U8(255),
                U16(256),
                U16(65535),
                U32(65536),
                U32(4294967295),
                U64(4294967296),
                I64(9007199254740991),
                I8(-1),
                I8(-32),
                I16(-33),
                I8(-128),
                I16(-129),
                I16(-32768),
                I32(-32769),
                I32(-2147483648),
                I64(-2147483649),
                I64(-9007199254740991),
                F32(1.5),
                F64(-0.25),
                F64(2.0),
                F64(-0.0),
                F64(0.1),
                F64(2f64.powi(60)),
                F64(f64::NAN),
                F32(f32::INFINITY),
                F64(f64::NEG_INFINITY),
            ]),
        ),
        "emit_strings" => io.emit(
            "strings",
            (
                "",
                "é",
                "x".repeat(31),
                "y".repeat(32),
                "z".repeat(256),
                "日本",
            ),
        ),
        "emit_object" => io.emit(
            "object",
            Person {
                name: "ann",
                age: 42,
                tags: vec!["a", "b"],
                address: Address {
                    city: "Paris",
                    zip: None,
                },
                admin: false,
            },
        ),
        "emit_numeric_keys" => io.emit(
            "keys",
            Ordered(vec![
                ("b", 1),
                ("10", 2),
                ("a", 3),
                ("2", 4),
                ("01", 5),
                ("-1", 6),
            ]),
        ),
        "emit_long_array" => io.emit("array", (0..20).collect::<Vec<u8>>()),
        "emit_custom_key" => io
            .with_key("myapp")
            .of("/chat")
            .to("r")
            .emit("prefixed", ()),
        "sockets_join" => Ok(io.to("room1").sockets_join(["room4", "room5"])),
        "sockets_join_one" => Ok(io.sockets_join("room4")),
        "sockets_leave" => Ok(io.except("room1").sockets_leave("room4")),
        "disconnect_sockets_close" => Ok(io.in_("room2").disconnect_sockets(true)),
        "disconnect_sockets" => Ok(io.disconnect_sockets(false)),
        "server_side_emit" => io.server_side_emit("hello", ("world", 1)),
        "server_side_emit_binary" => {
            io.server_side_emit("bin", (Binary::from(vec![1u8, 2]), F { f: 1.5 }))
        }
        "server_side_emit_numbers" => io.server_side_emit(
            "numbers",
            Args(vec![
                0.1,
                -2.5,
                1e21,
                1.5e21,
                1e20,
                2f64.powi(60),
                9007199254740993.0,
                1e-7,
                1.5e-7,
                0.000001,
                123e-20,
                -1e300,
                5e-324,
                f64::MAX,
                -0.0,
                f64::NAN,
                f64::INFINITY,
                42.0,
            ]),
        ),
        "server_side_emit_custom" => io
            .with_key("myapp")
            .of("/chat")
            .server_side_emit("ping", ()),
        _ => return None,
    };
    Some(publish.unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// Known differences, each checked by its own test below.
const DIFFERENT: &[&str] = &["emit_huge_integral_float"];

#[test]
fn every_vector_is_published_byte_for_byte() {
    let vectors = load();
    let mut checked = BTreeSet::new();
    for v in &vectors {
        if v.format == "text" || DIFFERENT.contains(&v.name.as_str()) {
            continue;
        }
        let publish =
            rust_call(&v.name).unwrap_or_else(|| panic!("no Rust call for vector {}", v.name));
        assert_eq!(
            String::from_utf8_lossy(&publish.channel),
            v.channel,
            "{}",
            v.name
        );
        assert_eq!(
            hex::encode(&publish.payload),
            hex::encode(&v.bytes),
            "{}: {}",
            v.name,
            String::from_utf8_lossy(&v.bytes)
        );
        checked.insert(v.name.as_str());
    }
    assert!(checked.len() >= 30, "{checked:?}");
}

#[test]
fn every_vector_decodes_as_a_classic_message() {
    for v in load() {
        match v.format.as_str() {
            "msgpack" => {
                assert_eq!(Format::detect(&v.bytes), Format::Msgpack, "{}", v.name);
                let message = BroadcastMessage::decode(&v.bytes).unwrap();
                assert_eq!(message.uid, "emitter", "{}", v.name);
                assert_eq!(message.packet.packet_type, 2, "{}", v.name);
                assert!(message.opts.flags.is_some(), "{}", v.name);
            }
            "json" => {
                assert_eq!(Format::detect(&v.bytes), Format::Json, "{}", v.name);
                let request = Request::decode(&v.bytes).unwrap();
                let expected_uid = match &request {
                    Request::ServerSideEmit { request_id, .. } => {
                        assert_eq!(*request_id, None);
                        Some("emitter")
                    }
                    Request::RemoteJoin { .. }
                    | Request::RemoteLeave { .. }
                    | Request::RemoteDisconnect { .. } => None,
                    other => panic!("{}: {other:?}", v.name),
                };
                assert_eq!(request.uid(), expected_uid, "{}", v.name);
            }
            _ => assert_eq!(v.name, "version"),
        }
    }
}

#[test]
fn emitter_messages_decode_to_what_was_emitted() {
    let publish = Emitter::new()
        .of("/chat")
        .to("room1")
        .to("room2")
        .except("x")
        .volatile()
        .emit("hello", ("world", Binary::from(vec![1u8, 2])))
        .unwrap();
    assert_eq!(publish.channel, "socket.io#/chat#");
    let message = BroadcastMessage::decode(&publish.payload).unwrap();
    assert_eq!(message.packet.nsp.as_deref(), Some("/chat"));
    assert_eq!(
        message.packet.data,
        Some(Value::Array(vec![
            Value::from("hello"),
            Value::from("world"),
            Value::Binary(vec![1, 2])
        ]))
    );
    assert_eq!(message.opts.rooms, ["room1", "room2"]);
    assert_eq!(message.opts.except, ["x"]);
    let flags = message.opts.flags.unwrap();
    assert_eq!((flags.volatile, flags.compress), (Some(true), None));
}

/// notepack writes an integral number of magnitude 2^64 or more through its 64-bit integer
/// path, wrapped around (1e300 becomes 0); corelay keeps the float64.
#[test]
fn a_huge_integral_float_stays_a_float() {
    let vectors = load();
    let v = vectors
        .iter()
        .find(|v| v.name == "emit_huge_integral_float")
        .unwrap();
    let node = BroadcastMessage::decode(&v.bytes).unwrap();
    let node_args = node.packet.data.unwrap();
    assert_eq!(node_args[1], Value::from(0u64));

    let ours = Emitter::new().emit("big", 1e300).unwrap();
    assert_eq!(ours.channel, v.channel);
    let node_hex = hex::encode(&v.bytes);
    let expected = node_hex.replace(
        "cf0000000000000000",
        &format!("cb{}", hex::encode(1e300f64.to_be_bytes())),
    );
    assert_ne!(expected, node_hex);
    assert_eq!(hex::encode(&ours.payload), expected);
}
