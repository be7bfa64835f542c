//! Properties: no input makes a decoder panic, and every message decodes to what was encoded.

use corelay_redis::classic::{BroadcastMessage, Request, Response};
use corelay_redis::sharded::{ClusterBody, ClusterMessage};
use corelay_redis::{BroadcastFlags, BroadcastOptions, FetchedSocket, Packet, Value};
use proptest::prelude::*;

fn decode_all(bytes: &[u8]) {
    let _ = BroadcastMessage::decode(bytes);
    let _ = Request::decode(bytes);
    let _ = Response::decode(bytes);
    let _ = ClusterMessage::decode(bytes);
}

/// The Node vectors, to mutate.
fn vectors() -> Vec<Vec<u8>> {
    ["classic.json", "sharded.json"]
        .iter()
        .flat_map(|file| {
            let path = format!("{}/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
            let list: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            list.into_iter()
                .map(|v| hex::decode(v["hex"].as_str().unwrap()).unwrap())
        })
        .collect()
}

/// Values JSON carries unchanged: no binary, floats with a short exact decimal form, and
/// integers (a float holding an integer is written as one, as JavaScript does).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::F64(n as f64 + 0.25)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}".prop_map(Value::from), inner), 0..4)
                .prop_map(Value::Map),
        ]
    })
}

/// Values msgpack carries unchanged: the JSON ones and binary.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        json_value(),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Value::Binary),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}".prop_map(Value::from), inner), 0..4)
                .prop_map(Value::Map),
        ]
    })
}

fn text() -> impl Strategy<Value = String> {
    ".{0,10}"
}

fn names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(text(), 0..4)
}

fn flags() -> impl Strategy<Value = BroadcastFlags> {
    let b = || proptest::option::of(any::<bool>());
    (
        b(),
        b(),
        b(),
        b(),
        b(),
        proptest::option::of(any::<u64>()),
        b(),
    )
        .prop_map(
            |(volatile, compress, local, broadcast, binary, timeout, expect_single_response)| {
                BroadcastFlags {
                    volatile,
                    compress,
                    local,
                    broadcast,
                    binary,
                    timeout,
                    expect_single_response,
                }
            },
        )
}

fn opts() -> impl Strategy<Value = BroadcastOptions> {
    (names(), names(), proptest::option::of(flags())).prop_map(|(rooms, except, flags)| {
        BroadcastOptions {
            rooms,
            except,
            flags,
        }
    })
}

fn packet(value: BoxedStrategy<Value>) -> impl Strategy<Value = Packet> {
    (
        any::<u8>(),
        proptest::option::of(value),
        proptest::option::of(text()),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(packet_type, data, nsp, id)| Packet {
            packet_type,
            data,
            nsp,
            id,
        })
}

fn fetched(value: BoxedStrategy<Value>) -> impl Strategy<Value = Vec<FetchedSocket>> {
    let socket = (text(), value.clone(), names(), proptest::option::of(value)).prop_map(
        |(id, handshake, rooms, data)| FetchedSocket {
            id,
            handshake,
            rooms,
            data,
        },
    );
    prop::collection::vec(socket, 0..3)
}

fn request() -> impl Strategy<Value = Request> {
    let uid = || proptest::option::of(text());
    prop_oneof![
        (text(), text(), names()).prop_map(|(uid, request_id, rooms)| Request::Sockets {
            uid,
            request_id,
            rooms
        }),
        (text(), text()).prop_map(|(uid, request_id)| Request::AllRooms { uid, request_id }),
        (uid(), opts(), names()).prop_map(|(uid, opts, rooms)| Request::RemoteJoin {
            uid,
            opts,
            rooms
        }),
        (uid(), opts(), names()).prop_map(|(uid, opts, rooms)| Request::RemoteLeave {
            uid,
            opts,
            rooms
        }),
        (uid(), opts(), any::<bool>()).prop_map(|(uid, opts, close)| Request::RemoteDisconnect {
            uid,
            opts,
            close
        }),
        (text(), text(), opts()).prop_map(|(uid, request_id, opts)| Request::RemoteFetch {
            uid,
            request_id,
            opts
        }),
        (
            uid(),
            proptest::option::of(text()),
            prop::collection::vec(json_value(), 0..4)
        )
            .prop_map(|(uid, request_id, data)| Request::ServerSideEmit {
                uid,
                request_id,
                data
            }),
        (text(), text(), packet(any_value().boxed()), opts()).prop_map(
            |(uid, request_id, packet, opts)| Request::Broadcast {
                uid,
                request_id,
                packet,
                opts
            }
        ),
    ]
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        // An empty `sockets` list reads as a REMOTE_FETCH answer (see `Response`).
        (text(), prop::collection::vec(text(), 1..4)).prop_map(|(request_id, sockets)| {
            Response::Sockets {
                request_id,
                sockets,
            }
        }),
        (text(), names()).prop_map(|(request_id, rooms)| Response::AllRooms { request_id, rooms }),
        (text(), fetched(json_value().boxed())).prop_map(|(request_id, sockets)| {
            Response::RemoteFetch {
                request_id,
                sockets,
            }
        }),
        (text(), proptest::option::of(json_value()))
            .prop_map(|(request_id, data)| Response::ServerSideEmit { request_id, data }),
        (text(), any::<u64>()).prop_map(|(request_id, client_count)| {
            Response::BroadcastClientCount {
                request_id,
                client_count,
            }
        }),
        (text(), proptest::option::of(any_value()))
            .prop_map(|(request_id, packet)| Response::BroadcastAck { request_id, packet }),
    ]
}

fn cluster_body() -> impl Strategy<Value = ClusterBody> {
    let value = || any_value().boxed();
    prop_oneof![
        Just(ClusterBody::InitialHeartbeat),
        Just(ClusterBody::Heartbeat),
        Just(ClusterBody::AdapterClose),
        (packet(value()), proptest::option::of(text()), opts()).prop_map(
            |(packet, request_id, opts)| ClusterBody::Broadcast {
                packet,
                request_id,
                opts
            }
        ),
        (opts(), names()).prop_map(|(opts, rooms)| ClusterBody::SocketsJoin { opts, rooms }),
        (opts(), names()).prop_map(|(opts, rooms)| ClusterBody::SocketsLeave { opts, rooms }),
        (opts(), any::<bool>())
            .prop_map(|(opts, close)| ClusterBody::DisconnectSockets { opts, close }),
        (opts(), text())
            .prop_map(|(opts, request_id)| ClusterBody::FetchSockets { opts, request_id }),
        (text(), fetched(value())).prop_map(|(request_id, sockets)| {
            ClusterBody::FetchSocketsResponse {
                request_id,
                sockets,
            }
        }),
        (
            proptest::option::of(text()),
            prop::collection::vec(value(), 0..4)
        )
            .prop_map(|(request_id, packet)| ClusterBody::ServerSideEmit { request_id, packet }),
        (text(), proptest::option::of(value())).prop_map(|(request_id, packet)| {
            ClusterBody::ServerSideEmitResponse { request_id, packet }
        }),
        (text(), any::<u64>()).prop_map(|(request_id, client_count)| {
            ClusterBody::BroadcastClientCount {
                request_id,
                client_count,
            }
        }),
        (text(), proptest::option::of(value()))
            .prop_map(|(request_id, packet)| ClusterBody::BroadcastAck { request_id, packet }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        decode_all(&bytes);
        // The same bytes behind a JSON object's first byte and a msgpack map's.
        decode_all(&[b"{".as_slice(), &bytes].concat());
        decode_all(&[[0x85].as_slice(), &bytes].concat());
    }

    #[test]
    fn decoding_mutated_node_vectors_never_panics(
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let all = vectors();
        let mut bytes = all[pick.index(all.len())].clone();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= byte;
        }
        decode_all(&bytes);
        bytes.truncate(cut.index(bytes.len() + 1));
        decode_all(&bytes);
    }

    #[test]
    fn broadcast_round_trips(uid in text(), packet in packet(any_value().boxed()), opts in opts()) {
        let message = BroadcastMessage { uid, packet, opts };
        prop_assert_eq!(BroadcastMessage::decode(&message.encode()).unwrap(), message);
    }

    #[test]
    fn request_round_trips(request in request()) {
        prop_assert_eq!(Request::decode(&request.encode()).unwrap(), request);
    }

    #[test]
    fn response_round_trips(response in response()) {
        prop_assert_eq!(Response::decode(&response.encode()).unwrap(), response);
    }

    #[test]
    fn cluster_message_round_trips(uid in text(), nsp in text(), body in cluster_body()) {
        let message = ClusterMessage { uid, nsp, body };
        prop_assert_eq!(ClusterMessage::decode(&message.encode()).unwrap(), message);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep_json = [vec![b'{'], b"\"a\":".to_vec(), vec![b'['; 100_000]].concat();
    assert!(Request::decode(&deep_json).is_err());
    let deep_msgpack = vec![0x91; 100_000];
    assert!(BroadcastMessage::decode(&deep_msgpack).is_err());
    // A length prefix of 4 GiB with nothing behind it allocates nothing up front.
    assert!(BroadcastMessage::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
    assert!(Response::decode(&[0xc6, 0xff, 0xff, 0xff, 0xff]).is_err());
}

#[test]
fn errors_say_what_is_wrong() {
    let err = |bytes: &[u8]| Request::decode(bytes).unwrap_err().to_string();
    assert_eq!(err(b""), "empty message");
    assert_eq!(err(br#"{"uid":"a","type":42}"#), "unknown message type 42");
    assert_eq!(
        err(br#"{"uid":"a","type":5,"requestId":"r"}"#),
        "missing field `opts`"
    );
    assert_eq!(
        err(br#"{"uid":1,"type":1,"requestId":"r"}"#),
        "field `uid` is not a UTF-8 string"
    );
    assert!(err(b"{not json").starts_with("invalid JSON"));
    assert_eq!(err(&[0x80, 0x00]), "1 trailing bytes after the message");
    assert_eq!(
        Response::decode(br#"{"requestId":"r"}"#)
            .unwrap_err()
            .to_string(),
        "unrecognised response"
    );
}

mod connection {
    use corelay_redis::connection::{Connection, Event, RedisUrl};
    use proptest::prelude::*;

    fn subscribed() -> Connection {
        let mut c = Connection::new(RedisUrl::parse("redis://:pw@h/1").unwrap()).unwrap();
        c.subscribe(["a".into()]);
        c.psubscribe(["p*".into()]);
        c.handle_connected();
        c.handle_bytes(b"+OK\r\n+OK\r\n");
        c.publish("a".into(), "x".into());
        c
    }

    /// Bytes that are RESP2-shaped more often than uniform noise.
    fn resp_ish() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                any::<u8>().prop_map(|b| vec![b]),
                Just(b"\r\n".to_vec()),
                Just(b"*3\r\n".to_vec()),
                Just(b"$7\r\nmessage\r\n".to_vec()),
                Just(b"$9\r\nsubscribe\r\n".to_vec()),
                Just(b":1\r\n".to_vec()),
                Just(b"$-1\r\n".to_vec()),
                Just(b"-ERR x\r\n".to_vec()),
                Just(b"+OK\r\n".to_vec()),
            ],
            0..64,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), split in any::<prop::sample::Index>()) {
            let mut c = subscribed();
            let at = split.index(bytes.len() + 1);
            c.handle_bytes(&bytes[..at]);
            c.handle_bytes(&bytes[at..]);
            while c.poll_event().is_some() {}
            while c.poll_transmit().is_some() {}
        }

        #[test]
        fn resp_shaped_bytes_never_panic(bytes in resp_ish()) {
            let mut c = subscribed();
            c.handle_bytes(&bytes);
            let fatal = std::iter::from_fn(|| c.poll_event()).any(|e| matches!(e, Event::Fatal(_)));
            if fatal {
                c.handle_closed();
                c.handle_connected();
                prop_assert!(c.poll_transmit().is_some(), "reconnect sends AUTH again");
            }
        }
    }
}
