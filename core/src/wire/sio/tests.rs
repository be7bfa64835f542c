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
        (0usize..=MAX, proptest::option::of(event_data())).prop_map(|(n, d)| (BinaryEvent, n, d)),
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

#[test]
fn renamed_heads_keep_type_attachments_id_and_payload() {
    let cases = [
        (Event, 0, None, "^/tenant-[0-9]+$", "/tenant-1"),
        (Event, 0, Some(7), "^/t$", "/"),
        (Event, 0, Some(7), "/", "/admin"),
        (BinaryEvent, 2, Some(12), "^/a$", "/a"),
        (BinaryAck, 1, None, "/x", "/y"),
    ];
    for (kind, attachments, id, from, to) in cases {
        let mut packet = BytesMut::new();
        write_packet(&mut packet, kind, from, attachments, id, b"[\"e\",1]");
        let mut out = BytesMut::new();
        assert!(write_renamed(&mut out, &packet, from, to));
        let mut expected = BytesMut::new();
        write_packet(&mut expected, kind, to, attachments, id, b"[\"e\",1]");
        assert_eq!(out, expected, "{from} -> {to}");
    }
    // Not a head for `from`: nothing written.
    let mut out = BytesMut::new();
    assert!(!write_renamed(&mut out, b"2/other,[1]", "/x", "/y"));
    assert!(!write_renamed(&mut out, b"5x-[1]", "/", "/y"));
    assert!(!write_renamed(&mut out, b"", "/", "/y"));
    assert!(out.is_empty());
}
