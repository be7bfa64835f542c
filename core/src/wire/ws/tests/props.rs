use super::*;

// ---- property tests ----

#[derive(Debug, Clone)]
enum Spec {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
}

/// One message plus how to send it: fragment cut points (fractions of the
/// length), which boundaries get a ping, and masks.
#[derive(Debug, Clone)]
struct Plan {
    spec: Spec,
    cuts: Vec<usize>,
    pings: Vec<Option<Vec<u8>>>,
    masks: Vec<[u8; 4]>,
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    prop_oneof![
        ".{0,40}".prop_map(Spec::Text),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Spec::Binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Spec::Ping),
    ]
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    (
        spec_strategy(),
        proptest::collection::vec(any::<usize>(), 0..5),
        proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..10)),
            5,
        ),
        proptest::collection::vec(any::<[u8; 4]>(), 12),
    )
        .prop_map(|(spec, cuts, pings, masks)| Plan {
            spec,
            cuts,
            pings,
            masks,
        })
}

/// Encodes the plans as a client byte stream and lists the messages a
/// decoder must yield, in order.
fn encode_plans(plans: &[Plan]) -> (Vec<u8>, Vec<Message>) {
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for plan in plans {
        let mut masks = plan.masks.iter().copied().cycle();
        let (opcode, payload, message) = match &plan.spec {
            Spec::Ping(p) => {
                bytes.extend(encode_client_frame(
                    OpCode::Ping,
                    true,
                    p,
                    masks.next().unwrap(),
                ));
                expected.push(Message::Ping(p.clone().into()));
                continue;
            }
            Spec::Text(s) => (OpCode::Text, s.as_bytes(), Message::Text(s.clone().into())),
            Spec::Binary(b) => (OpCode::Binary, &b[..], Message::Binary(b.clone().into())),
        };
        let mut cuts: Vec<usize> = plan.cuts.iter().map(|c| c % (payload.len() + 1)).collect();
        cuts.sort_unstable();
        let mut start = 0;
        for (i, &cut) in cuts.iter().chain([payload.len()].iter()).enumerate() {
            let last = i == cuts.len();
            let op = if i == 0 { opcode } else { OpCode::Continuation };
            bytes.extend(encode_client_frame(
                op,
                last,
                &payload[start..cut],
                masks.next().unwrap(),
            ));
            start = cut;
            if !last {
                if let Some(p) = &plan.pings[i % plan.pings.len()] {
                    bytes.extend(encode_client_frame(
                        OpCode::Ping,
                        true,
                        p,
                        masks.next().unwrap(),
                    ));
                    expected.push(Message::Ping(p.clone().into()));
                }
            }
        }
        expected.push(message);
    }
    (bytes, expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trip_any_fragmentation_and_split(
        plans in proptest::collection::vec(plan_strategy(), 0..8),
        splits in proptest::collection::vec(1usize..64, 0..40),
    ) {
        let (bytes, expected) = encode_plans(&plans);
        let mut dec = Decoder::new(300);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut rest = &bytes[..];
        let mut sizes = splits.iter().copied().chain(core::iter::repeat(usize::MAX));
        while !rest.is_empty() {
            let n = sizes.next().unwrap().min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Some(m) = dec.decode(&mut buf).unwrap() {
                got.push(m);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert!(!dec.in_fragmented_message());
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        splits in proptest::collection::vec(1usize..32, 0..20),
        max in 0usize..200,
    ) {
        let mut dec = Decoder::new(max);
        let mut buf = BytesMut::new();
        let mut rest = &bytes[..];
        let mut sizes = splits.iter().copied().chain(core::iter::repeat(usize::MAX));
        'feed: while !rest.is_empty() {
            let n = sizes.next().unwrap().min(rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            loop {
                match dec.decode(&mut buf) {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        prop_assert!(matches!(e.close_code(), 1002 | 1007 | 1009));
                        break 'feed;
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_valid_streams_never_panic(
        plans in proptest::collection::vec(plan_strategy(), 1..5),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        max in 0usize..400,
    ) {
        let (mut bytes, _) = encode_plans(&plans);
        for (at, x) in flips {
            let i = at % bytes.len();
            bytes[i] ^= x;
        }
        let mut dec = Decoder::new(max);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(m)) = dec.decode(&mut buf) {
            if let Message::Text(t) = m {
                prop_assert!(core::str::from_utf8(&t).is_ok());
            }
        }
    }
}
