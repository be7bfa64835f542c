use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::*;
use crate::payload::{Args, Binary, Spread};
use crate::wire::sio::{PacketType, MAX_ACK_ID};

const VECTORS: &str = include_str!("vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn unhex(s: &str) -> Bytes {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect::<Vec<u8>>()
        .into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JS value of the vectors (`{"$bin": hex}` for a Buffer), as a Rust value serializes it.
#[derive(Debug, Clone)]
enum Js {
    Leaf(Value),
    Bin(Binary),
    Arr(Vec<Js>),
    Obj(Vec<(String, Js)>),
}

impl Js {
    fn of(v: &Value) -> Js {
        match v {
            Value::Array(items) => Js::Arr(items.iter().map(Js::of).collect()),
            Value::Object(map) => match map.get("$bin") {
                Some(Value::String(h)) => Js::Bin(Binary(unhex(h))),
                _ => Js::Obj(map.iter().map(|(k, v)| (k.clone(), Js::of(v))).collect()),
            },
            v => Js::Leaf(v.clone()),
        }
    }
}

impl Serialize for Js {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Js::Leaf(v) => v.serialize(s),
            Js::Bin(b) => b.serialize(s),
            Js::Arr(items) => items.serialize(s),
            Js::Obj(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn kind_of(n: u64, binary: bool) -> PacketType {
    match (n, binary) {
        (0, _) => PacketType::Connect,
        (1, _) => PacketType::Disconnect,
        (2, false) => PacketType::Event,
        (2, true) => PacketType::BinaryEvent,
        (3, false) => PacketType::Ack,
        (3, true) => PacketType::BinaryAck,
        (4, _) => PacketType::ConnectError,
        _ => unreachable!(),
    }
}

#[test]
fn decodes_every_vector_as_the_js_parser() {
    let v = vectors();
    let mut checked = 0;
    for vector in v["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let got = decode(unhex(vector["hex"].as_str().unwrap()), 10);
        if name.contains("refused by corelay") {
            assert_eq!(got, Err(MsgpackError::InvalidPayload), "{name}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = &vector["decoded"];
        let attachments: Vec<String> = want["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let kind = kind_of(want["type"].as_u64().unwrap(), !attachments.is_empty());
        assert_eq!(got.packet.kind, kind, "{name}");
        assert_eq!(
            got.packet.nsp_str(),
            want["nsp"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(got.packet.id, want["id"].as_u64(), "{name}");
        let data = got
            .packet
            .data
            .as_ref()
            .map(|d| std::str::from_utf8(d).unwrap());
        assert_eq!(data, want["data"].as_str(), "{name}");
        assert_eq!(got.packet.attachments, attachments.len(), "{name}");
        let got_attachments: Vec<String> = got.attachments.iter().map(|a| hex(a)).collect();
        assert_eq!(got_attachments, attachments, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 46);
}

#[test]
fn refuses_what_the_js_parser_refuses() {
    let v = vectors();
    let invalid = v["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 15);
    for vector in invalid {
        let name = vector["name"].as_str().unwrap();
        let want = match vector["error"].as_str().unwrap() {
            "invalid packet type" => MsgpackError::UnknownType,
            "invalid namespace" => MsgpackError::InvalidNamespace,
            "invalid payload" => MsgpackError::InvalidPayload,
            "invalid packet id" => MsgpackError::InvalidId,
            _ => MsgpackError::Malformed,
        };
        assert_eq!(
            decode(unhex(vector["hex"].as_str().unwrap()), 10),
            Err(want),
            "{name}"
        );
    }
}

/// Writes a server vector's JS packet with this module's writers.
fn encode_js(packet: &Value) -> BytesMut {
    let mut out = BytesMut::new();
    let nsp = packet["nsp"].as_str().unwrap();
    let id = packet["id"].as_u64();
    let data = &packet["data"];
    match packet["type"].as_u64().unwrap() {
        0 => write_connect(
            &mut out,
            nsp,
            data["sid"].as_str().unwrap(),
            data["pid"].as_str(),
        ),
        1 => write_disconnect(&mut out, nsp),
        2 => {
            let items = data.as_array().unwrap();
            let args: Vec<Js> = items[1..].iter().map(Js::of).collect();
            write_event(
                &mut out,
                nsp,
                id,
                items[0].as_str().unwrap(),
                &Spread(&args),
            )
            .unwrap();
        }
        3 => {
            let args: Vec<Js> = data.as_array().unwrap().iter().map(Js::of).collect();
            write_ack(&mut out, nsp, id.unwrap(), &Spread(&args)).unwrap();
        }
        4 => {
            let extra = data.get("data").map(Js::of);
            write_connect_error(
                &mut out,
                nsp,
                data["message"].as_str().unwrap(),
                extra.as_ref(),
            )
            .unwrap();
        }
        _ => unreachable!(),
    }
    out
}

#[test]
fn encodes_every_server_vector_as_the_js_parser() {
    let v = vectors();
    let mut checked = 0;
    for vector in v["vectors"].as_array().unwrap() {
        if vector["from"] != "server" {
            continue;
        }
        let name = vector["name"].as_str().unwrap();
        let out = encode_js(&vector["packet"]);
        assert_eq!(hex(&out), vector["hex"].as_str().unwrap(), "{name}");
        // And it reads back.
        decode(out.freeze(), 10).unwrap_or_else(|e| panic!("{name}: {e}"));
        checked += 1;
    }
    assert_eq!(checked, 21);
}

#[test]
fn numbers_as_notepack_writes_them() {
    let v = vectors();
    for n in v["numbers"].as_array().unwrap() {
        let value: f64 = match n["value"].as_str().unwrap() {
            "-0" => -0.0,
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            s => s.parse().unwrap(),
        };
        let mut out = BytesMut::new();
        write_ack(&mut out, "/", 0, &(value,)).unwrap();
        // {id: 0, type: 3, data: [<value>], nsp: "/"}
        let start = b"\x84\xa2id\x00\xa4type\x03\xa4data\x91".len();
        let got = hex(&out[start..out.len() - 6]);
        if value == 1e20 {
            // notepack garbles integral numbers past 2^64; we write the float.
            assert_eq!(got, format!("cb{}", hex(&1e20f64.to_be_bytes())));
            continue;
        }
        assert_eq!(got, n["hex"].as_str().unwrap(), "{value}");
    }
}

fn ev<T: Serialize + ?Sized>(args: &T) -> String {
    let mut out = BytesMut::new();
    write_event(&mut out, "/", None, "e", args).unwrap();
    let d = decode(out.freeze(), 100).unwrap();
    String::from_utf8(d.packet.data.unwrap().to_vec()).unwrap()
}

#[test]
fn the_argument_convention_of_the_json_writer() {
    assert_eq!(ev(&()), r#"["e"]"#);
    assert_eq!(ev(&(1,)), r#"["e",1]"#);
    assert_eq!(ev(&(1, "a", [1, 2])), r#"["e",1,"a",[1,2]]"#);
    assert_eq!(ev(&[1, 2]), r#"["e",[1,2]]"#);
    assert_eq!(ev(&vec![1, 2]), r#"["e",[1,2]]"#);
    assert_eq!(ev(&Spread(&[1, 2])), r#"["e",1,2]"#);
    assert_eq!(ev(&Value::Null), r#"["e",null]"#);
    assert_eq!(ev(&((),)), r#"["e",null]"#);
    let many: Vec<u32> = (0..20).collect();
    assert_eq!(
        ev(&Spread(&many)),
        format!(
            "[\"e\",{}]",
            serde_json::to_string(&many)
                .unwrap()
                .trim_matches(|c| c == '[' || c == ']')
        )
    );
    assert_eq!(ev(&1.0f64), r#"["e",1]"#);
    assert_eq!(ev(&u64::MAX), r#"["e",18446744073709551615]"#);
    assert_eq!(ev(&i64::MIN), r#"["e",-9223372036854775808]"#);
}

#[test]
fn serde_shapes_as_serde_json_writes_them() {
    #[derive(serde::Serialize)]
    struct S {
        a: u8,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<u8>,
        c: Option<u8>,
        #[serde(flatten)]
        d: std::collections::BTreeMap<String, u8>,
    }
    #[derive(serde::Serialize)]
    enum E {
        U,
        N(u8),
        T(u8, u8),
        S { x: u8 },
    }
    let s = S {
        a: 1,
        b: None,
        c: None,
        d: [("z".to_owned(), 9)].into_iter().collect(),
    };
    for v in [
        serde_json::to_value(&s).unwrap(),
        serde_json::to_value((E::U, E::N(1), E::T(1, 2), E::S { x: 3 })).unwrap(),
        serde_json::to_value(std::collections::BTreeMap::from([(1, 'x'), (2, 'y')])).unwrap(),
    ] {
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(ev(&(v,)), format!("[\"e\",{text}]"));
    }
    assert_eq!(ev(&(&s,)), r#"["e",{"a":1,"c":null,"z":9}]"#);
    assert_eq!(
        ev(&(E::U, E::N(1), E::T(1, 2), E::S { x: 3 })),
        r#"["e","U",{"N":1},{"T":[1,2]},{"S":{"x":3}}]"#
    );
    // A large unknown-length sequence: the header is fixed up.
    struct Unknown(usize);
    impl Serialize for Unknown {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..self.0).map(|_| 0u8).filter(|_| true))
        }
    }
    for n in [0, 15, 16, 70_000] {
        let want = format!("[\"e\",[{}]]", vec!["0"; n].join(","));
        assert_eq!(ev(&(Unknown(n),)), want);
    }
    // Keys that are not strings become strings; others are refused.
    let mut out = BytesMut::new();
    let bad = std::collections::BTreeMap::from([(vec![1u8], 1)]);
    assert!(write_event(&mut out, "/", None, "e", &(bad,)).is_err());
    assert!(out.is_empty());
}

#[test]
fn received_args_are_emitted_again() {
    // `Args` spread: each argument's JSON text (RawValue) is written as msgpack, binary
    // placeholders as bin.
    let d = decode(
        {
            let mut out = BytesMut::new();
            write_event(
                &mut out,
                "/",
                None,
                "e",
                &(1.5, "x", Binary(Bytes::from_static(b"ab")), [true]),
            )
            .unwrap();
            out.freeze()
        },
        10,
    )
    .unwrap();
    let args = Args::new(d.packet.data.clone(), true, d.attachments.clone());
    let mut out = BytesMut::new();
    write_event(&mut out, "/", None, "e", &args).unwrap();
    let again = decode(out.freeze(), 10).unwrap();
    assert_eq!(again, d);
}

#[test]
fn rename() {
    let mut out = BytesMut::new();
    write_event(&mut out, "/a", Some(3), "e", &(1,)).unwrap();
    let mut renamed = BytesMut::new();
    assert!(write_renamed(&mut renamed, &out, "/a", "/bbb"));
    let d = decode(renamed.freeze(), 10).unwrap();
    assert_eq!(d.packet.nsp_str(), "/bbb");
    assert_eq!(d.packet.id, Some(3));
    let mut nothing = BytesMut::new();
    assert!(!write_renamed(&mut nothing, &out, "/b", "/c"));
    assert!(nothing.is_empty());
}

#[test]
fn limits() {
    // Nesting.
    let deep = |n: usize| {
        let mut v = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1e".to_vec();
        v.extend(std::iter::repeat_n(0x91, n));
        v.push(0xc0);
        Bytes::from(v)
    };
    assert!(decode(deep(MAX_DEPTH - 3), 10).is_ok());
    assert_eq!(decode(deep(MAX_DEPTH - 2), 10), Err(MsgpackError::TooDeep));
    assert_eq!(decode(deep(100_000), 10), Err(MsgpackError::TooDeep));
    // Attachments.
    let bins = |n: usize| {
        let mut out = BytesMut::new();
        let args: Vec<Binary> = (0..n).map(|_| Binary(Bytes::from_static(b"x"))).collect();
        write_event(&mut out, "/", None, "e", &Spread(&args)).unwrap();
        out.freeze()
    };
    assert_eq!(decode(bins(10), 10).unwrap().attachments.len(), 10);
    assert_eq!(decode(bins(11), 10), Err(MsgpackError::TooManyAttachments));
    // Lengths past the input.
    for input in [
        &b"\xdf\xff\xff\xff\xff"[..],
        b"\xdd\xff\xff\xff\xff",
        b"\x81\xa4data\xc6\xff\xff\xff\xff",
        b"\x81\xa4data\xdb\xff\xff\xff\xff",
        b"\x81\xa4data\xc9\xff\xff\xff\xff\x05",
    ] {
        assert_eq!(
            decode(Bytes::copy_from_slice(input), 10),
            Err(MsgpackError::Malformed)
        );
    }
    // UTF-8, keys, ids.
    let with_data = |data: &[u8]| {
        let mut v = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data".to_vec();
        v.extend_from_slice(data);
        Bytes::from(v)
    };
    assert_eq!(
        decode(with_data(b"\x92\xa1e\xa1\xff"), 10),
        Err(MsgpackError::InvalidUtf8)
    );
    assert_eq!(
        decode(with_data(b"\x92\xa1e\x81\x90\x01"), 10),
        Err(MsgpackError::InvalidKey)
    );
    let with_id = |id: &[u8]| {
        let mut v = b"\x84\xa4type\x03\xa3nsp\xa1/\xa4data\x90\xa2id".to_vec();
        v.extend_from_slice(id);
        Bytes::from(v)
    };
    assert_eq!(decode(with_id(b"\xff"), 10), Err(MsgpackError::InvalidId));
    assert_eq!(
        decode(
            with_id(&[&[0xcf][..], &(MAX_ACK_ID + 1).to_be_bytes()].concat()),
            10
        ),
        Err(MsgpackError::InvalidId)
    );
    assert_eq!(
        decode(
            with_id(&[&[0xcf][..], &MAX_ACK_ID.to_be_bytes()].concat()),
            10
        )
        .unwrap()
        .packet
        .id,
        Some(MAX_ACK_ID)
    );
}

#[test]
fn js_number_formatting() {
    let js = |f: f64| {
        let mut s = String::new();
        crate::wire::push_js_number(&mut s, f, "null", "null");
        s
    };
    for (f, want) in [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.25e-7, "1.25e-7"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::NAN, "null"),
        (f64::NEG_INFINITY, "null"),
    ] {
        assert_eq!(js(f), want, "{f}");
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Exactly representable floats (serde_json's default float parsing is not exact;
        // `floats_round_trip` checks the others).
        (-100_000i32..100_000).prop_map(|n| Value::from(f64::from(n) / 64.0)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..20)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// What JavaScript makes of the numbers of `v`: integral floats are integers (`-0` is `0`).
fn js_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.2e18 => Value::from(f as i64),
            Some(f) if n.is_f64() && f.fract() == 0.0 && (0.0..1.8e19).contains(&f) => {
                Value::from(f as u64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(js_numbers).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, js_numbers(v))).collect())
        }
        v => v,
    }
}

proptest! {
    #[test]
    fn never_panics(input in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(Bytes::from(input), 10);
    }

    #[test]
    fn never_panics_after_a_valid_head(tail in prop::collection::vec(any::<u8>(), 0..48)) {
        let mut v = b"\x84\xa4type\x02\xa3nsp\xa1/\xa2id\x01\xa4data".to_vec();
        v.extend_from_slice(&tail);
        let _ = decode(Bytes::from(v), 10);
    }

    #[test]
    fn mutated_packets_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut out = BytesMut::new();
        write_event(&mut out, "/x", Some(9), "e", &(1.5, "s", [1, 2], Binary(Bytes::from_static(b"ab")))).unwrap();
        let mut v = out.to_vec();
        for (i, b) in flips {
            let i = i.index(v.len());
            v[i] = b;
        }
        v.truncate(cut.index(v.len() + 1));
        let _ = decode(Bytes::from(v), 10);
    }

    #[test]
    fn json_values_round_trip(value in arb_json()) {
        let mut out = BytesMut::new();
        write_event(&mut out, "/", Some(1), "e", &(&value,)).unwrap();
        let d = decode(out.freeze(), 10).unwrap();
        let back: Value = serde_json::from_slice(d.packet.data.as_ref().unwrap()).unwrap();
        prop_assert_eq!(back, serde_json::json!(["e", js_numbers(value)]));
    }

    #[test]
    fn floats_round_trip(f in any::<f64>()) {
        let text = ev(&f);
        let number = &text[5..text.len() - 1];
        if f.is_finite() {
            prop_assert_eq!(number.parse::<f64>().unwrap(), if f == 0.0 { 0.0 } else { f });
        } else {
            prop_assert_eq!(number, "null");
        }
    }
}
