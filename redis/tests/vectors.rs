//! The bytes of the Node library (`vectors/*.json`, made by `vectors/generate.mjs`): each is
//! decoded and its fields checked, then the same values are encoded here and compared with
//! Node's bytes.
//!
//! Byte equality holds for every vector, member order included: the encoders write members in
//! the order Node's source builds its objects, and the flags in `vectors/` were chained in the
//! order `BroadcastFlags` writes them. (Where an application chains flags in another order,
//! Node's bytes differ from ours only by member order; decoding is unaffected.)

mod support;

use corelay_redis::classic::{self, BroadcastMessage, Request, Response};
use corelay_redis::sharded::{self, ClusterBody, ClusterMessage, SubscriptionMode};
use corelay_redis::{BroadcastFlags, BroadcastOptions, FetchedSocket, Format, Packet, Value};
use support::Vector;

fn load(file: &str) -> Vec<Vector> {
    support::load_vectors(file)
}

/// Finds a vector by name and checks that its format is the one `detect` reads.
fn get<'a>(vectors: &'a [Vector], name: &str) -> &'a Vector {
    let v = vectors
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let expected = match v.format.as_str() {
        "json" => Some(Format::Json),
        "msgpack" => Some(Format::Msgpack),
        _ => None,
    };
    if let Some(format) = expected {
        assert_eq!(Format::detect(&v.bytes), format, "{name}");
    }
    v
}

/// A value from JSON text, member order kept.
fn v(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

fn s(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn opts(rooms: &[&str], except: &[&str], flags: Option<BroadcastFlags>) -> BroadcastOptions {
    BroadcastOptions {
        rooms: s(rooms),
        except: s(except),
        flags,
    }
}

fn no_flags() -> Option<BroadcastFlags> {
    Some(BroadcastFlags::default())
}

fn packet(nsp: Option<&str>, data: Value) -> Packet {
    Packet {
        packet_type: 2,
        data: Some(data),
        nsp: nsp.map(str::to_owned),
        id: None,
    }
}

fn fetched() -> FetchedSocket {
    FetchedSocket {
        id: "AAAAAAAAAAAAAAAAAAAA".into(),
        handshake: v(r#"{"headers":{"host":"localhost:3000","user-agent":"node"},
            "time":"Mon Jan 01 2024 00:00:00 GMT+0000 (Coordinated Universal Time)",
            "address":"::1","xdomain":false,"secure":false,"issued":1704067200000,
            "url":"/socket.io/?EIO=4&transport=websocket",
            "query":{"EIO":"4","transport":"websocket"},"auth":{"token":"abc"}}"#),
        rooms: s(&["AAAAAAAAAAAAAAAAAAAA", "room1"]),
        data: Some(v(r#"{"user":"ann","level":3}"#)),
    }
}

// ------------------------------------------------------------------------------ classic

const UID: &str = "LwV6fE";

fn classic_broadcast(vectors: &[Vector], name: &str, channel: &str, expected: BroadcastMessage) {
    let vector = get(vectors, name);
    assert_eq!(vector.channel, channel, "{name}");
    assert_eq!(
        classic::channel_for(
            "socket.io",
            expected.packet.nsp.as_deref().unwrap(),
            &expected.opts
        ),
        channel
    );
    assert_eq!(
        BroadcastMessage::decode(&vector.bytes).unwrap(),
        expected,
        "{name}"
    );
    assert_eq!(
        hex::encode(expected.encode()),
        hex::encode(&vector.bytes),
        "{name}"
    );
}

fn classic_request(vectors: &[Vector], name: &str, expected: Request) {
    let vector = get(vectors, name);
    assert_eq!(
        vector.channel,
        classic::request_channel("socket.io", "/"),
        "{name}"
    );
    assert_eq!(Request::decode(&vector.bytes).unwrap(), expected, "{name}");
    assert_eq!(Format::detect(&vector.bytes), expected.format(), "{name}");
    assert_eq!(
        String::from_utf8_lossy(&expected.encode()),
        String::from_utf8_lossy(&vector.bytes),
        "{name}"
    );
    assert_eq!(expected.encode(), vector.bytes, "{name}");
}

fn classic_response(vectors: &[Vector], name: &str, expected: Response) {
    let vector = get(vectors, name);
    assert_eq!(
        vector.channel,
        classic::response_channel("socket.io", "/"),
        "{name}"
    );
    assert_eq!(Response::decode(&vector.bytes).unwrap(), expected, "{name}");
    assert_eq!(Format::detect(&vector.bytes), expected.format(), "{name}");
    assert_eq!(expected.encode(), vector.bytes, "{name}");
}

#[test]
fn classic_uid_is_uid2_of_six_bytes() {
    let vectors = load("classic.json");
    // generate.mjs replaces crypto.randomBytes: byte i of the run is (i * 37 + 11) & 0xff.
    let first: [u8; 6] = std::array::from_fn(|i| ((i * 37 + 11) & 0xff) as u8);
    assert_eq!(get(&vectors, "uid").bytes, UID.as_bytes());
    assert_eq!(classic::uid(first), UID);
}

#[test]
fn classic_broadcasts() {
    let vectors = load("classic.json");
    let b = |nsp: &str, data: &str, opts| BroadcastMessage {
        uid: UID.into(),
        packet: packet(Some(nsp), v(data)),
        opts,
    };
    classic_broadcast(
        &vectors,
        "broadcast",
        "socket.io#/#",
        b(
            "/",
            r#"["hello",1,"two",{"three":[3.5,true,null]}]"#,
            opts(&[], &[], no_flags()),
        ),
    );
    let binary = Value::Array(vec![
        Value::from("bin"),
        Value::Binary(vec![1, 2, 3]),
        Value::Map(vec![(Value::from("nested"), Value::Binary(vec![0xff]))]),
    ]);
    classic_broadcast(
        &vectors,
        "broadcast_binary",
        "socket.io#/#",
        BroadcastMessage {
            uid: UID.into(),
            packet: packet(Some("/"), binary),
            opts: opts(&[], &[], no_flags()),
        },
    );
    let flags = BroadcastFlags {
        volatile: Some(true),
        compress: Some(false),
        ..Default::default()
    };
    classic_broadcast(
        &vectors,
        "broadcast_room",
        "socket.io#/#room1#",
        b("/", r#"["ev"]"#, opts(&["room1"], &["room2"], Some(flags))),
    );
    classic_broadcast(
        &vectors,
        "broadcast_rooms",
        "socket.io#/#",
        b(
            "/",
            r#"["two rooms"]"#,
            opts(&["room1", "room3"], &["a", "b"], no_flags()),
        ),
    );
    // Each namespace has its own adapter, hence its own uid.
    let admin = get(&vectors, "broadcast_admin");
    assert_eq!(admin.channel, "socket.io#/admin#");
    let decoded = BroadcastMessage::decode(&admin.bytes).unwrap();
    assert_eq!(
        decoded.packet,
        packet(Some("/admin"), v(r#"["in admin","x"]"#))
    );
    assert_eq!(decoded.encode(), admin.bytes);
}

#[test]
fn classic_requests() {
    let vectors = load("classic.json");
    let uid = Some(UID.to_owned());
    classic_request(
        &vectors,
        "request_broadcast_ack",
        Request::Broadcast {
            uid: UID.into(),
            request_id: "HsR2bA".into(),
            packet: packet(Some("/"), v(r#"["question",42]"#)),
            opts: opts(
                &[],
                &[],
                Some(BroadcastFlags {
                    timeout: Some(1000),
                    ..Default::default()
                }),
            ),
        },
    );
    classic_request(
        &vectors,
        "request_remote_join",
        Request::RemoteJoin {
            uid: uid.clone(),
            opts: opts(&["room1"], &[], None),
            rooms: s(&["room4", "room5"]),
        },
    );
    classic_request(
        &vectors,
        "request_remote_leave",
        Request::RemoteLeave {
            uid: uid.clone(),
            opts: opts(&[], &["room1"], None),
            rooms: s(&["room4"]),
        },
    );
    classic_request(
        &vectors,
        "request_remote_disconnect",
        Request::RemoteDisconnect {
            uid: uid.clone(),
            opts: opts(&["room2"], &[], None),
            close: true,
        },
    );
    classic_request(
        &vectors,
        "request_remote_fetch",
        Request::RemoteFetch {
            uid: UID.into(),
            request_id: "lKvU5e".into(),
            opts: opts(&["room1"], &[], None),
        },
    );
    classic_request(
        &vectors,
        "request_server_side_emit",
        Request::ServerSideEmit {
            uid: uid.clone(),
            request_id: None,
            data: vec!["hello".into(), "world".into(), 1.into()],
        },
    );
    classic_request(
        &vectors,
        "request_server_side_emit_ack",
        Request::ServerSideEmit {
            uid,
            request_id: Some("DoNyX8".into()),
            data: vec!["ping".into()],
        },
    );
    classic_request(
        &vectors,
        "request_all_rooms",
        Request::AllRooms {
            uid: UID.into(),
            request_id: "hGrQ1a".into(),
        },
    );
    classic_request(
        &vectors,
        "request_sockets",
        Request::Sockets {
            uid: UID.into(),
            request_id: "req001".into(),
            rooms: s(&["room1"]),
        },
    );
}

#[test]
fn classic_responses() {
    let vectors = load("classic.json");
    classic_response(
        &vectors,
        "response_sockets",
        Response::Sockets {
            request_id: "req002".into(),
            sockets: s(&["AAAAAAAAAAAAAAAAAAAA"]),
        },
    );
    classic_response(
        &vectors,
        "response_all_rooms",
        Response::AllRooms {
            request_id: "req003".into(),
            rooms: s(&["AAAAAAAAAAAAAAAAAAAA", "room1"]),
        },
    );
    classic_response(
        &vectors,
        "response_remote_fetch",
        Response::RemoteFetch {
            request_id: "req004".into(),
            sockets: vec![fetched()],
        },
    );
    classic_response(
        &vectors,
        "response_server_side_emit",
        Response::ServerSideEmit {
            request_id: "req005".into(),
            data: Some(v(r#"{"pong":7}"#)),
        },
    );
    classic_response(
        &vectors,
        "response_broadcast_client_count",
        Response::BroadcastClientCount {
            request_id: "req006".into(),
            client_count: 1,
        },
    );
    classic_response(
        &vectors,
        "response_broadcast_ack",
        Response::BroadcastAck {
            request_id: "req006".into(),
            packet: Some(Value::Map(vec![(
                Value::from("answer"),
                Value::Binary(vec![9, 8]),
            )])),
        },
    );
}

#[test]
fn classic_key_prefix_and_specific_response_channel() {
    let vectors = load("classic.json");
    let uid = String::from_utf8(get(&vectors, "uid_prefixed").bytes.clone()).unwrap();
    let room = get(&vectors, "prefixed_broadcast_room");
    assert_eq!(room.channel, classic::room_channel("myapp", "/chat", "r"));
    assert_eq!(
        classic::parse_broadcast_channel("myapp", "/chat", &room.channel),
        Some(Some("r"))
    );
    assert_eq!(
        classic::parse_broadcast_channel("myapp", "/chat", "myapp#/chat#"),
        Some(None)
    );
    assert_eq!(
        classic::parse_broadcast_channel("socket.io", "/chat", &room.channel),
        None
    );
    assert_eq!(
        classic::parse_broadcast_channel("myapp", "/", &room.channel),
        None
    );
    let expected = BroadcastMessage {
        uid: uid.clone(),
        packet: packet(Some("/chat"), v(r#"["prefixed"]"#)),
        opts: opts(&["r"], &[], no_flags()),
    };
    assert_eq!(BroadcastMessage::decode(&room.bytes).unwrap(), expected);
    assert_eq!(expected.encode(), room.bytes);

    let join = get(&vectors, "prefixed_request_remote_join");
    assert_eq!(join.channel, classic::request_channel("myapp", "/chat"));
    let expected = Request::RemoteJoin {
        uid: Some(uid),
        opts: opts(&[], &[], None),
        rooms: s(&["r2"]),
    };
    assert_eq!(Request::decode(&join.bytes).unwrap(), expected);
    assert_eq!(expected.encode(), join.bytes);

    // publishOnSpecificResponseChannel: the answer goes to the requester's own channel.
    let rooms = get(&vectors, "prefixed_response_all_rooms");
    assert_eq!(
        rooms.channel,
        classic::specific_response_channel("myapp", "/chat", "other1")
    );
    let expected = Response::AllRooms {
        request_id: "req007".into(),
        rooms: vec![],
    };
    assert_eq!(Response::decode(&rooms.bytes).unwrap(), expected);
    assert_eq!(expected.encode(), rooms.bytes);
}

// ------------------------------------------------------------------------------ sharded

fn sharded_check(vectors: &[Vector], name: &str, mode: SubscriptionMode, expected: ClusterMessage) {
    let vector = get(vectors, name);
    assert_eq!(
        ClusterMessage::decode(&vector.bytes).unwrap(),
        expected,
        "{name}"
    );
    assert_eq!(Format::detect(&vector.bytes), expected.format(), "{name}");
    let channel = if expected.body.is_response() {
        // The answering side published to the requester's channel (uid of the fake peer).
        sharded::response_channel("socket.io", &expected.nsp, "0123456789abcdef")
    } else {
        sharded::channel_for("socket.io", mode, &expected)
    };
    assert_eq!(vector.channel, channel, "{name}");
    assert_eq!(
        String::from_utf8_lossy(&expected.encode()),
        String::from_utf8_lossy(&vector.bytes),
        "{name}"
    );
    assert_eq!(expected.encode(), vector.bytes, "{name}");
}

#[test]
fn sharded_messages() {
    let vectors = load("sharded.json");
    let uid = String::from_utf8(get(&vectors, "uid").bytes.clone()).unwrap();
    assert_eq!(uid.len(), 16);
    assert!(uid
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(
        sharded::uid([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
        "0123456789abcdef"
    );
    let m = |body| ClusterMessage {
        uid: uid.clone(),
        nsp: "/".into(),
        body,
    };
    let dynamic = SubscriptionMode::Dynamic;
    let bcast = |data: Value, request_id: Option<&str>, opts| ClusterBody::Broadcast {
        packet: packet(None, data),
        request_id: request_id.map(str::to_owned),
        opts,
    };

    sharded_check(
        &vectors,
        "broadcast",
        dynamic,
        m(bcast(
            v(r#"["hello",1,"two",{"three":[3.5,true,null]}]"#),
            None,
            opts(&[], &[], no_flags()),
        )),
    );
    let binary = Value::Array(vec![Value::from("bin"), Value::Binary(vec![1, 2, 3])]);
    sharded_check(
        &vectors,
        "broadcast_binary",
        dynamic,
        m(bcast(binary, None, opts(&[], &[], no_flags()))),
    );
    let volatile = Some(BroadcastFlags {
        volatile: Some(true),
        ..Default::default()
    });
    sharded_check(
        &vectors,
        "broadcast_room",
        dynamic,
        m(bcast(
            v(r#"["ev"]"#),
            None,
            opts(&["room1"], &["room2"], volatile),
        )),
    );
    // A room that looks like a socket id stays on the namespace's channel in "dynamic" mode.
    sharded_check(
        &vectors,
        "broadcast_socket_id",
        dynamic,
        m(bcast(
            v(r#"["to a socket id"]"#),
            None,
            opts(&["AAAAAAAAAAAAAAAAAAAB"], &[], no_flags()),
        )),
    );
    let timeout = Some(BroadcastFlags {
        timeout: Some(1000),
        ..Default::default()
    });
    sharded_check(
        &vectors,
        "broadcast_ack",
        dynamic,
        m(bcast(
            v(r#"["question",42]"#),
            Some("23486d92b7dc0126"),
            opts(&[], &[], timeout),
        )),
    );
    sharded_check(
        &vectors,
        "sockets_join",
        dynamic,
        m(ClusterBody::SocketsJoin {
            opts: opts(&["room1"], &[], no_flags()),
            rooms: s(&["room4", "room5"]),
        }),
    );
    sharded_check(
        &vectors,
        "sockets_leave",
        dynamic,
        m(ClusterBody::SocketsLeave {
            opts: opts(&[], &["room1"], no_flags()),
            rooms: s(&["room4"]),
        }),
    );
    sharded_check(
        &vectors,
        "disconnect_sockets",
        dynamic,
        m(ClusterBody::DisconnectSockets {
            opts: opts(&["room2"], &[], no_flags()),
            close: true,
        }),
    );
    sharded_check(
        &vectors,
        "fetch_sockets",
        dynamic,
        m(ClusterBody::FetchSockets {
            opts: opts(&["room1"], &[], no_flags()),
            request_id: "4b7095badf04294e".into(),
        }),
    );
    sharded_check(
        &vectors,
        "server_side_emit",
        dynamic,
        m(ClusterBody::ServerSideEmit {
            request_id: None,
            packet: vec!["hello".into(), "world".into(), 1.into()],
        }),
    );
    sharded_check(
        &vectors,
        "server_side_emit_ack",
        dynamic,
        m(ClusterBody::ServerSideEmit {
            request_id: Some("7398bde2072c5176".into()),
            packet: vec!["ping".into()],
        }),
    );
    sharded_check(
        &vectors,
        "fetch_sockets_response",
        dynamic,
        m(ClusterBody::FetchSocketsResponse {
            request_id: "r1".into(),
            sockets: vec![fetched()],
        }),
    );
    let pong = Value::Map(vec![
        (Value::from("pong"), Value::from(7)),
        (Value::from("bin"), Value::Binary(vec![1])),
    ]);
    sharded_check(
        &vectors,
        "server_side_emit_response_binary",
        dynamic,
        m(ClusterBody::ServerSideEmitResponse {
            request_id: "r2".into(),
            packet: Some(pong),
        }),
    );
    sharded_check(
        &vectors,
        "server_side_emit_response",
        dynamic,
        m(ClusterBody::ServerSideEmitResponse {
            request_id: "r4".into(),
            packet: Some("pong".into()),
        }),
    );
    sharded_check(
        &vectors,
        "broadcast_client_count",
        dynamic,
        m(ClusterBody::BroadcastClientCount {
            request_id: "r5".into(),
            client_count: 1,
        }),
    );
    sharded_check(
        &vectors,
        "broadcast_ack_response",
        dynamic,
        m(ClusterBody::BroadcastAck {
            request_id: "r5".into(),
            packet: Some("yes".into()),
        }),
    );

    // channelPrefix and the static mode: a one-room broadcast stays on the namespace channel.
    let vector = get(&vectors, "prefixed_static_broadcast_room");
    let decoded = ClusterMessage::decode(&vector.bytes).unwrap();
    assert_eq!(decoded.nsp, "/chat");
    assert_eq!(
        vector.channel,
        sharded::channel_for("myapp", SubscriptionMode::Static, &decoded)
    );
    assert_eq!(
        sharded::channel_for("myapp", SubscriptionMode::Dynamic, &decoded),
        "myapp#/chat#r#"
    );
    assert_eq!(decoded.encode(), vector.bytes);
}

#[test]
fn every_vector_is_checked() {
    // A vector added to generate.mjs without a test here fails this list.
    let classic_names: Vec<_> = load("classic.json").into_iter().map(|v| v.name).collect();
    let sharded_names: Vec<_> = load("sharded.json").into_iter().map(|v| v.name).collect();
    assert_eq!(classic_names.len(), 25, "{classic_names:?}");
    assert_eq!(sharded_names.len(), 18, "{sharded_names:?}");
}
