use super::*;
use crate::socketio::payload::write::{Shape, SCRATCH, SCRATCH_RETAINED};

#[test]
fn no_args() {
    assert_eq!(event("/", None, "ev", &()).0, r#"2["ev"]"#);
    assert_eq!(event("/", None, "ev", &Spread::<u8>(&[])).0, r#"2["ev"]"#);
    assert_eq!(event("/", None, "ev", &Args::default()).0, r#"2["ev"]"#);
    let (text, atts) = event("/", None, "ev", &());
    assert_eq!(text, r#"2["ev"]"#);
    assert_eq!(atts.capacity(), 0);
}

#[test]
fn one_string() {
    assert_eq!(event("/", None, "msg", "hello").0, r#"2["msg","hello"]"#);
    assert_eq!(
        event("/", None, "msg", &("hello",)).0,
        r#"2["msg","hello"]"#
    );
    assert_eq!(
        event("/", None, "m\"s\ng", "a\"b").0,
        r#"2["m\"s\ng","a\"b"]"#
    );
}

#[test]
fn tuple_of_three() {
    let (text, atts) = event(
        "/",
        None,
        "ev",
        &(1, "two", json!({"three": [3.5, null, true]})),
    );
    assert_eq!(text, r#"2["ev",1,"two",{"three":[3.5,null,true]}]"#);
    assert!(atts.is_empty());
}

#[test]
fn one_argument_values() {
    assert_eq!(
        event("/", None, "ev", &vec![1, 2, 3]).0,
        r#"2["ev",[1,2,3]]"#
    );
    assert_eq!(event("/", None, "ev", &[1, 2, 3]).0, r#"2["ev",[1,2,3]]"#);
    assert_eq!(event("/", None, "ev", &&[1u8, 2][..]).0, r#"2["ev",[1,2]]"#);
    let empty: [u8; 0] = [];
    assert_eq!(event("/", None, "ev", &empty).0, r#"2["ev",[]]"#);
    assert_eq!(event("/", None, "ev", &Vec::<u8>::new()).0, r#"2["ev",[]]"#);
    assert_eq!(event("/", None, "ev", &json!([1, 2])).0, r#"2["ev",[1,2]]"#);
    assert_eq!(event("/", None, "ev", &Value::Null).0, r#"2["ev",null]"#);
    assert_eq!(event("/", None, "ev", &None::<u8>).0, r#"2["ev",null]"#);
    assert_eq!(event("/", None, "ev", &Some((1, 2))).0, r#"2["ev",[1,2]]"#);
    assert_eq!(event("/", None, "ev", &42u64).0, r#"2["ev",42]"#);
    let raw = RawValue::from_string("[1, 2]".to_owned()).unwrap();
    assert_eq!(event("/", None, "ev", &*raw).0, r#"2["ev",[1, 2]]"#);
    assert_eq!(event("/", None, "ev", &raw).0, r#"2["ev",[1, 2]]"#);
    let mut map = std::collections::BTreeMap::new();
    map.insert(1, "a");
    assert_eq!(event("/", None, "ev", &map).0, r#"2["ev",{"1":"a"}]"#);
    // Nested tuples are one argument each.
    assert_eq!(
        event("/", None, "ev", &((1, 2), (3,))).0,
        r#"2["ev",[1,2],[3]]"#
    );
}

#[test]
fn a_struct() {
    let user = User {
        name: "ann".into(),
        age: 7,
    };
    assert_eq!(
        event("/", None, "ev", &user).0,
        r#"2["ev",{"name":"ann","age":7}]"#
    );
    assert_eq!(
        event("/", None, "ev", &(&user, &user)).0,
        r#"2["ev",{"name":"ann","age":7},{"name":"ann","age":7}]"#
    );
}

#[test]
fn namespace_and_id() {
    assert_eq!(
        event("/admin", Some(12), "ev", &(1,)).0,
        r#"2/admin,12["ev",1]"#
    );
    assert_eq!(event("/admin", None, "ev", &()).0, r#"2/admin,["ev"]"#);
    assert_eq!(event("/", Some(0), "ev", &()).0, r#"20["ev"]"#);
    assert_eq!(
        event("", Some(u64::MAX), "ev", &()).0,
        r#"218446744073709551615["ev"]"#
    );
}

#[test]
fn acks() {
    assert_eq!(ack("/admin", 12, "ok").0, r#"3/admin,12["ok"]"#);
    assert_eq!(ack("/", 1, &()).0, "31[]");
    assert_eq!(ack("/", 1, &(1, "a")).0, r#"31[1,"a"]"#);
    assert_eq!(ack("/", 1, &vec![1]).0, "31[[1]]");
    assert_eq!(ack("/", 1, &Spread::<u8>(&[])).0, "31[]");
}

#[test]
fn appends_to_existing_buffer() {
    let mut out = BytesMut::from(&b"xyz"[..]);
    write_event(&mut out, "/", None, "ev", &(1,)).unwrap();
    write_event(&mut out, "/", None, "ev", &(bin(b"a"),)).unwrap();
    assert_eq!(
        &out[..],
        br#"xyz2["ev",1]51-["ev",{"_placeholder":true,"num":0}]"#
    );
}

#[test]
fn binary_event() {
    let (text, atts) = event("/", None, "ev", &(bin(b"abc"), json_map_with_binary()));
    assert_eq!(
        text,
        r#"52-["ev",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#
    );
    assert_eq!(
        atts,
        vec![Bytes::from_static(b"abc"), Bytes::from_static(b"def")]
    );
    // The attachment is the same buffer, not a copy.
    let data = Bytes::from_static(b"zero-copy");
    let (_, atts) = event("/", None, "ev", &Binary(data.clone()));
    assert_eq!(atts[0].as_ptr(), data.as_ptr());
}

#[test]
fn binary_with_namespace_id_and_many_attachments() {
    let many: Vec<Binary> = (0..12u8).map(|i| Binary(vec![i].into())).collect();
    let (text, atts) = event("/admin", Some(7), "ev", &many);
    assert!(
        text.starts_with(r#"512-/admin,7["ev",[{"_placeholder":true,"num":0},"#),
        "{text}"
    );
    assert!(
        text.ends_with(r#"{"_placeholder":true,"num":11}]]"#),
        "{text}"
    );
    assert_eq!(atts.len(), 12);
    assert_eq!(atts[11][..], [11]);
}

#[test]
fn binary_ack() {
    let (text, atts) = ack("/", 4, &(1, bin(b"abc")));
    assert_eq!(text, r#"61-4[1,{"_placeholder":true,"num":0}]"#);
    assert_eq!(atts, vec![Bytes::from_static(b"abc")]);
    let (text, _) = ack("/nsp", 4, &bin(b""));
    assert_eq!(text, r#"61-/nsp,4[{"_placeholder":true,"num":0}]"#);
}

#[test]
fn binary_outside_packets_is_a_byte_array() {
    assert_eq!(serde_json::to_string(&bin(b"\x01\x02")).unwrap(), "[1,2]");
    let back: Binary = serde_json::from_str("[1,2]").unwrap();
    assert_eq!(back, bin(b"\x01\x02"));
    let err = serde_json::from_str::<Binary>(r#"{"_placeholder":true,"num":0}"#).unwrap_err();
    assert!(err.to_string().contains("no attachment"), "{err}");
    assert!(serde_json::from_str::<Binary>(r#"{"num":0}"#).is_err());
    assert!(serde_json::from_str::<Binary>(r#""abc""#).is_err());
    // An `Args` with attachments, outside of a packet writer.
    let args = received(&(bin(b"\x05"), 1));
    assert_eq!(serde_json::to_string(&args).unwrap(), "[[5],1]");
}

#[test]
fn errors_leave_out_unchanged() {
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("nope"))
        }
    }
    let mut map = std::collections::HashMap::new();
    map.insert(vec![1u8], 1); // non-string keys fail in JSON
    for nsp in ["/", "/admin"] {
        let mut out = BytesMut::from(&b"prefix"[..]);
        assert!(write_event(&mut out, nsp, Some(3), "ev", &Fails).is_err());
        assert!(write_event(&mut out, nsp, Some(3), "ev", &(1, bin(b"a"), Fails)).is_err());
        assert!(write_event(&mut out, nsp, None, "ev", &map).is_err());
        assert!(write_ack(&mut out, nsp, 3, &(bin(b"a"), Fails)).is_err());
        assert!(write_ack(&mut out, nsp, 3, &vec![Fails]).is_err());
        assert_eq!(&out[..], b"prefix");
    }
}

#[test]
fn nested_writes_are_independent() {
    // A `Serialize` impl writing another packet (scratch buffer and
    // attachment lists are per call).
    struct Nested;
    impl Serialize for Nested {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let (inner, atts) = event("/", Some(1), "inner", &(bin(b"in"), 2));
            assert_eq!(inner, r#"51-1["inner",{"_placeholder":true,"num":0},2]"#);
            assert_eq!(atts, vec![Bytes::from_static(b"in")]);
            let mut seq = s.serialize_seq(Some(2))?;
            seq.serialize_element(&bin(b"out"))?;
            seq.serialize_element(&inner)?;
            seq.end()
        }
    }
    let (text, atts) = event("/", None, "outer", &(bin(b"first"), Nested));
    assert_eq!(
        text,
        r#"52-["outer",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1},"51-1[\"inner\",{\"_placeholder\":true,\"num\":0},2]"]]"#
    );
    assert_eq!(
        atts,
        vec![Bytes::from_static(b"first"), Bytes::from_static(b"out")]
    );
}

#[test]
fn big_payloads() {
    let big = "x".repeat(200_000);
    let (text, _) = event("/", None, "ev", &(&big,));
    assert_eq!(text.len(), big.len() + r#"2["ev",""]"#.len());
    assert_eq!(event("/", None, "ev", &(1,)).0, r#"2["ev",1]"#);
    let scratch = SCRATCH.with(|c| c.take());
    assert!(scratch.capacity() <= SCRATCH_RETAINED);
}

#[test]
fn args_is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Args>();
    check::<Binary>();
}

#[test]
fn bytes_serializers_become_attachments() {
    struct RawBytes<'a>(&'a [u8]);
    impl Serialize for RawBytes<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    let (text, atts) = event("/", None, "ev", &(RawBytes(b"copied"),));
    assert_eq!(text, r#"51-["ev",{"_placeholder":true,"num":0}]"#);
    assert_eq!(atts, vec![Bytes::from_static(b"copied")]);
}

#[test]
fn shape_detection() {
    assert_eq!(Shape::of::<[u8; 3]>(), Shape::Array);
    assert_eq!(Shape::of::<&[u8; 3]>(), Shape::Array);
    assert_eq!(Shape::of::<&mut &[u8; 0]>(), Shape::Array);
    assert_eq!(Shape::of::<[Value]>(), Shape::Array);
    assert_eq!(Shape::of::<()>(), Shape::Unit);
    assert_eq!(Shape::of::<&()>(), Shape::Unit);
    assert_eq!(Shape::of::<((),)>(), Shape::Other);
    assert_eq!(Shape::of::<(u8, u8)>(), Shape::Other);
    assert_eq!(Shape::of::<Args>(), Shape::Other);
    assert_eq!(Shape::of::<Vec<u8>>(), Shape::Other);
    assert_eq!(Shape::of::<Value>(), Shape::Other);
    assert_eq!(event("/", None, "ev", &&()).0, r#"2["ev"]"#);
    assert_eq!(event("/", None, "ev", &((),)).0, r#"2["ev",null]"#);
    assert_eq!(ack("/", 1, &Value::Null).0, "31[null]");
}
