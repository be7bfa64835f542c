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
