use super::*;

#[test]
fn round_trip_typed() {
    let file = File {
        name: "f".into(),
        content: bin(b"content"),
        chunks: vec![bin(b"c1"), bin(b""), bin(b"c3")],
    };
    let user = User {
        name: "bob".into(),
        age: 3,
    };
    let args = received(&("s", 5u32, &file, vec![bin(b"v1"), bin(b"v2")], &user));
    assert_eq!(args.len(), 5);
    assert_eq!(args.attachments().len(), 6);
    let (s, n, f, v, u): (String, u32, File, Vec<Binary>, User) = args.parse().unwrap();
    assert_eq!((s.as_str(), n), ("s", 5));
    assert_eq!(f, file);
    assert_eq!(v, vec![bin(b"v1"), bin(b"v2")]);
    assert_eq!(u, user);
    assert_eq!(args.arg::<File>(2).unwrap(), file);
    assert_eq!(
        args.arg::<Vec<Binary>>(3).unwrap(),
        vec![bin(b"v1"), bin(b"v2")]
    );
    assert_eq!(args.arg::<u32>(1).unwrap(), 5);
    // Fewer elements: extra arguments are ignored.
    assert_eq!(args.parse::<(String,)>().unwrap().0, "s");
    // More elements: error.
    assert!(args
        .parse::<(String, u32, File, Vec<Binary>, User, u8)>()
        .is_err());
    // Untagged enums buffer their input: placeholders still resolve.
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Either {
        Num(u32),
        Bin(Binary),
    }
    let args = received(&(1, bin(b"x")));
    assert_eq!(
        args.parse::<Vec<Either>>().unwrap(),
        vec![Either::Num(1), Either::Bin(bin(b"x"))]
    );
}

#[test]
fn parse_forms() {
    let args = received(&(1, 2, 3));
    assert_eq!(args.parse::<Vec<u8>>().unwrap(), vec![1, 2, 3]);
    assert_eq!(args.parse::<[u8; 3]>().unwrap(), [1, 2, 3]);
    #[derive(Deserialize)]
    struct Three(u8, u8, u8);
    let Three(a, b, c) = args.parse().unwrap();
    assert_eq!((a, b, c), (1, 2, 3));
    #[derive(Deserialize)]
    struct Named {
        a: u8,
        b: u8,
    }
    let named: Named = args.parse().unwrap();
    assert_eq!((named.a, named.b), (1, 2));
    args.parse::<()>().unwrap();
    assert_eq!(args.parse::<Option<(u8,)>>().unwrap(), Some((1,)));
    assert_eq!(Args::default().parse::<Option<(u8,)>>().unwrap(), None);
    assert_eq!(
        Args::default().parse::<Vec<u8>>().unwrap(),
        Vec::<u8>::new()
    );
    Args::default().parse::<()>().unwrap();
    assert!(args.parse::<(String,)>().is_err());
    assert!(args.parse::<String>().is_err());
}

#[test]
fn ack_args() {
    let (text, atts) = ack("/", 3, &("ok", 1));
    let p = split_packet(text.as_bytes());
    assert_eq!((p.ty, p.id, p.nsp.as_str()), (b'3', Some(3), "/"));
    let args = Args::new(Some(p.json), false, atts);
    assert_eq!(args.parse::<(String, u8)>().unwrap(), ("ok".into(), 1));
}

#[test]
fn echo_is_byte_identical() {
    let cases: Vec<(String, Vec<Bytes>)> = vec![
        event("/", None, "ev", &()),
        event("/", None, "ev", &(1, "a,b]", json!({"k": [1, {"x": "]"}]}))),
        event("/", None, "ev", &(bin(b"abc"), json_map_with_binary())),
        event(
            "/",
            None,
            "ev",
            &(
                json!({"_placeholder": "text"}),
                bin(b"q"),
                "\u{1}_placeholder",
            ),
        ),
        event(
            "/",
            None,
            "ev",
            &(vec![bin(b"1"), bin(b"2")], (bin(b"3"), 4)),
        ),
    ];
    for (text, atts) in cases {
        let p = split_packet(text.as_bytes());
        let args = Args::new(Some(p.json), true, atts.clone());
        let (again, atts_again) = event("/", None, "ev", &args);
        assert_eq!(again, text);
        assert_eq!(atts_again, atts);
        // Also as the arguments of an ack.
        let (acked, acked_atts) = ack("/", 1, &args);
        let p = split_packet(acked.as_bytes());
        assert_eq!(p.attachments, atts.len());
        let acked = Args::new(Some(p.json), false, acked_atts);
        assert_eq!(
            acked.parse::<Vec<Value>>().unwrap(),
            args.parse::<Vec<Value>>().unwrap()
        );
    }
}

#[test]
fn echo_renumbers_attachments() {
    let args = received(&(1, bin(b"a"), json!([{"y": 2}]), vec![bin(b"b")]));
    // Nested in a tuple, the `Args` is one argument (an array).
    let (text, atts) = event("/", None, "echo", &(bin(b"first"), &args, bin(b"last")));
    assert_eq!(
        text,
        concat!(
            r#"54-["echo",{"_placeholder":true,"num":0},[1,{"_placeholder":true,"num":1},"#,
            r#"[{"y":2}],[{"_placeholder":true,"num":2}]],{"_placeholder":true,"num":3}]"#
        )
    );
    let expect: Vec<Bytes> = [&b"first"[..], b"a", b"b", b"last"]
        .iter()
        .map(|b| Bytes::copy_from_slice(b))
        .collect();
    assert_eq!(atts, expect);
    // The echoed attachments are the received buffers, not copies.
    assert_eq!(atts[1].as_ptr(), args.attachments()[0].as_ptr());
}

#[test]
fn echo_of_foreign_text() {
    // Whitespace, placeholders in any key order or with escapes.
    let json = br#" [ "ev" , { "a" : [ 1 , { "num" : 1 , "_placeholder" : true } ] } , {"\u005fplaceholder":true,"num":0}, 2 ] "#;
    let args = Args::new(
        Some(Bytes::from_static(json)),
        true,
        vec![Bytes::from_static(b"zero"), Bytes::from_static(b"one")],
    );
    assert_eq!(args.len(), 3);
    let (text, atts) = event("/", None, "ev", &args);
    assert_eq!(
        text,
        r#"52-["ev",{"a":[1,{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1},2]"#
    );
    assert_eq!(
        atts,
        vec![Bytes::from_static(b"one"), Bytes::from_static(b"zero")]
    );
    // A placeholder without its attachment is an error, `out` untouched.
    let args = Args::new(
        Some(Bytes::from_static(
            br#"["ev",{"_placeholder":true,"num":2}]"#,
        )),
        true,
        vec![Bytes::from_static(b"zero")],
    );
    let mut out = BytesMut::from(&b"keep"[..]);
    assert!(write_event(&mut out, "/", None, "ev", &args).is_err());
    assert_eq!(&out[..], b"keep");
    // Without attachments, it is plain JSON: written verbatim.
    let args = Args::new(
        Some(Bytes::from_static(
            br#"["ev", {"_placeholder":true,"num":2}]"#,
        )),
        true,
        vec![],
    );
    assert_eq!(
        event("/", None, "ev", &args).0,
        r#"2["ev",{"_placeholder":true,"num":2}]"#
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 1_000;
    let mut json = String::from("[\"ev\",");
    json.push_str(&"[".repeat(depth));
    json.push_str(r#"{"_placeholder":true,"num":0}"#);
    json.push_str(&"]".repeat(depth));
    json.push(']');
    let args = Args::new(Some(json.into()), true, vec![Bytes::from_static(b"x")]);
    assert_eq!(args.len(), 1);
    assert!(args.raw(0).is_some());
    assert!(args.parse::<Vec<Value>>().is_err());
    assert!(args.arg::<Value>(0).is_err());
    let mut out = BytesMut::new();
    assert!(write_event(&mut out, "/", None, "ev", &args).is_err());
    assert!(out.is_empty());
    // Within the limit, it works.
    let depth = 100;
    let mut json = String::from("[\"ev\",");
    json.push_str(&"[".repeat(depth));
    json.push_str(r#"{"_placeholder":true,"num":0}"#);
    json.push_str(&"]".repeat(depth));
    json.push(']');
    let args = Args::new(
        Some(json.clone().into()),
        true,
        vec![Bytes::from_static(b"x")],
    );
    let (text, atts) = event("/", None, "ev", &args);
    assert_eq!(text, format!("51-{json}"));
    assert_eq!(atts.len(), 1);
}

#[test]
fn len_and_raw() {
    let json =
        br#"["ev", [1, [2, "]"]], "a,b", {"k": "}\"[", "l": {"m": []}}, "\\", 3.5e1 , null,true]"#;
    let args = Args::new(Some(Bytes::from_static(json)), true, vec![]);
    assert_eq!(args.len(), 7);
    assert!(!args.is_empty());
    let raws: Vec<&str> = (0..7).map(|i| args.raw(i).unwrap().get()).collect();
    assert_eq!(
        raws,
        [
            r#"[1, [2, "]"]]"#,
            r#""a,b""#,
            r#"{"k": "}\"[", "l": {"m": []}}"#,
            r#""\\""#,
            "3.5e1",
            "null",
            "true"
        ]
    );
    assert!(args.raw(7).is_none());
    assert_eq!(args.arg::<String>(1).unwrap(), "a,b");
    assert_eq!(args.arg::<String>(3).unwrap(), "\\");
    assert_eq!(args.arg::<f64>(4).unwrap(), 35.0);
    let without_skip = Args::new(Some(Bytes::from_static(json)), false, vec![]);
    assert_eq!(without_skip.len(), 8);
    assert_eq!(without_skip.arg::<String>(0).unwrap(), "ev");

    for (text, skip, len) in [
        (&b"[]"[..], false, 0),
        (b"[]", true, 0),
        (b"[\"ev\"]", true, 0),
        (b" [ \"ev\" ] ", true, 0),
        (b"[ 1 ]", false, 1),
        (b"[[],{},\"\"]", false, 3),
    ] {
        let args = Args::new(Some(Bytes::copy_from_slice(text)), skip, vec![]);
        assert_eq!(args.len(), len, "{}", String::from_utf8_lossy(text));
    }
    assert!(Args::new(None, true, vec![]).is_empty());
    // Garbage never panics.
    for text in [
        &b""[..],
        b"{",
        b"[",
        b"[\"",
        b"[\"\\",
        b"[\"\\\"",
        b"[1,",
        b"[,]",
        b"]]][[[",
        b"[\xff\xfe]",
        b"[\"\xff\"]",
        b"[}}}]",
    ] {
        let args = Args::new(Some(Bytes::copy_from_slice(text)), true, vec![]);
        for i in 0..args.len() + 1 {
            let _ = args.raw(i);
            let _ = args.arg::<Value>(i);
        }
        let _ = args.parse::<Vec<Value>>();
        let _ = event("/", None, "ev", &args);
    }
}

#[test]
fn arg_out_of_range() {
    let args = received(&(1, 2));
    let err = args.arg::<u8>(2).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    assert!(Args::default().arg::<Value>(0).is_err());
}

#[test]
fn binary_placeholder_out_of_range() {
    let args = Args::new(
        Some(Bytes::from_static(
            br#"["ev",{"_placeholder":true,"num":1}]"#,
        )),
        true,
        vec![Bytes::from_static(b"only")],
    );
    let err = args.arg::<Binary>(0).unwrap_err();
    assert!(err.to_string().contains("attachment 1"), "{err}");
    assert!(args.parse::<(Binary,)>().is_err());
    // The placeholder stays visible as plain JSON.
    assert_eq!(
        args.arg::<Value>(0).unwrap(),
        json!({"_placeholder": true, "num": 1})
    );
    // No attachments at all.
    let args = Args::new(
        Some(Bytes::from_static(
            br#"["ev",{"_placeholder":true,"num":0}]"#,
        )),
        true,
        vec![],
    );
    assert!(args.arg::<Binary>(0).is_err());
    // Not a placeholder.
    let args = Args::new(
        Some(Bytes::from_static(
            br#"["ev",{"_placeholder":false,"num":0}]"#,
        )),
        true,
        vec![Bytes::from_static(b"x")],
    );
    assert!(args.arg::<Binary>(0).is_err());
}

#[test]
fn decode_scope_is_restored() {
    let args = received(&(bin(b"x"),));
    // Inside a nested parse, the inner attachments are visible; after it,
    // the outer ones again.
    struct Nested(Binary, Binary);
    impl<'de> Deserialize<'de> for Nested {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let inner = received(&(bin(b"inner"),));
            let inner: Binary = inner.arg(0).map_err(de::Error::custom)?;
            let outer = Binary::deserialize(d)?;
            Ok(Nested(inner, outer))
        }
    }
    let Nested(inner, outer) = args.arg(0).unwrap();
    assert_eq!((inner, outer), (bin(b"inner"), bin(b"x")));
    // A panic inside a parse does not leave the attachments set.
    struct Panics;
    impl<'de> Deserialize<'de> for Panics {
        fn deserialize<D: de::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            panic!("user code");
        }
    }
    let caught = std::panic::catch_unwind(|| args.arg::<Panics>(0).map(|_| ()));
    assert!(caught.is_err());
    assert!(serde_json::from_str::<Binary>(r#"{"_placeholder":true,"num":0}"#).is_err());
}
