use super::*;

/// A `Value`-like tree with binary leaves, for the echo property.
#[derive(Debug, Clone)]
enum Tree {
    Leaf(Value),
    Bin(Vec<u8>),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Leaf(v) => v.serialize(s),
            Tree::Bin(b) => Binary(Bytes::copy_from_slice(b)).serialize(s),
            Tree::Arr(items) => items.serialize(s),
            Tree::Obj(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,8}",
        "[\\[\\]{},:\"\\\\ _a-z\u{1}\n]{0,10}",
        Just("_placeholder".to_owned()),
        Just("\\u005f".to_owned()),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Exactly representable floats (serde_json's default float
        // parsing is not guaranteed to round-trip every f64).
        (-100_000i32..100_000).prop_map(|n| Value::from(f64::from(n) / 64.0)),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Whether `v` holds an object that would pass for a placeholder.
fn fake_placeholder(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(fake_placeholder),
        Value::Object(map) => {
            map.get("_placeholder") == Some(&Value::Bool(true))
                || map.values().any(fake_placeholder)
        }
        _ => false,
    }
}

fn arb_tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        3 => arb_value().prop_filter("fake placeholder", |v| !fake_placeholder(v)).prop_map(Tree::Leaf),
        1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Tree::Bin),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Tree::Arr),
            prop::collection::vec(("[a-z_\u{1}]{0,4}", inner), 0..5).prop_map(Tree::Obj),
        ]
    })
}

proptest! {
    #[test]
    fn values_round_trip(
        values in prop::collection::vec(arb_value(), 0..6),
        nsp in prop_oneof![Just("/"), Just("/admin")],
        id in proptest::option::of(any::<u64>()),
    ) {
        let mut out = BytesMut::new();
        let atts = write_event(&mut out, nsp, id, "ev", &Spread(&values)).unwrap();
        prop_assert!(atts.is_empty());
        let p = split_packet(&out);
        prop_assert_eq!((p.ty, p.nsp.as_str(), p.id), (b'2', nsp, id));
        // The whole packet JSON is valid.
        let whole: Vec<Value> = serde_json::from_slice(&p.json).unwrap();
        prop_assert_eq!(&whole[1..], &values[..]);
        // Accessors before and after the arguments are split.
        let fresh = Args::new(Some(p.json.clone()), true, vec![]);
        prop_assert_eq!(fresh.is_empty(), values.is_empty());
        for (i, v) in values.iter().enumerate().rev() {
            prop_assert_eq!(&fresh.arg::<Value>(i).unwrap(), v);
        }
        prop_assert!(fresh.raw(values.len()).is_none());
        let args = Args::new(Some(p.json), true, atts);
        prop_assert_eq!(args.len(), values.len());
        prop_assert_eq!(&args.parse::<Vec<Value>>().unwrap(), &values);
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(&args.arg::<Value>(i).unwrap(), v);
            let raw: Value = serde_json::from_str(args.raw(i).unwrap().get()).unwrap();
            prop_assert_eq!(&raw, v);
        }
        // As ONE argument.
        let mut out = BytesMut::new();
        write_ack(&mut out, nsp, 9, &values).unwrap();
        let p = split_packet(&out);
        let args = Args::new(Some(p.json), false, vec![]);
        prop_assert_eq!(args.len(), 1);
        prop_assert_eq!(&args.parse::<(Vec<Value>,)>().unwrap().0, &values);
    }

    #[test]
    fn binary_trees_echo(trees in prop::collection::vec(arb_tree(), 0..5)) {
        let mut out = BytesMut::new();
        let atts = write_event(&mut out, "/", None, "ev", &Spread(&trees)).unwrap();
        let p = split_packet(&out);
        prop_assert_eq!(p.attachments, atts.len());
        prop_assert_eq!(p.ty, if atts.is_empty() { b'2' } else { b'5' });
        let args = Args::new(Some(p.json), true, atts.clone());
        prop_assert_eq!(args.len(), trees.len());
        prop_assert_eq!(args.parse::<Vec<Value>>().unwrap().len(), trees.len());
        let mut again = BytesMut::new();
        let atts_again = write_event(&mut again, "/", None, "ev", &args).unwrap();
        prop_assert_eq!(&again[..], &out[..]);
        prop_assert_eq!(atts_again, atts);
    }
}
