use super::*;

// ---- basic decoding ----

#[test]
fn rfc_example_masked_hello() {
    // RFC 6455 section 5.7: a single-frame masked text message "Hello".
    let bytes = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(
        decode_one(&bytes),
        Ok(Some(Message::Text(Bytes::from_static(b"Hello"))))
    );
    assert_eq!(frame(OpCode::Text, true, b"Hello"), bytes);
}

#[test]
fn opcode_round_trip() {
    for bits in 0..16u8 {
        match OpCode::from_u8(bits) {
            Some(op) => assert_eq!(op.as_u8(), bits),
            None => assert!(matches!(bits, 3..=7 | 0xB..=0xF)),
        }
    }
    assert!(OpCode::Ping.is_control() && !OpCode::Continuation.is_control());
}

#[test]
fn each_kind_decodes() {
    let cases: Vec<(Vec<u8>, Message)> = vec![
        (frame(OpCode::Text, true, b"hi"), Message::Text("hi".into())),
        (
            frame(OpCode::Binary, true, &[0, 255]),
            Message::Binary(vec![0, 255].into()),
        ),
        (frame(OpCode::Ping, true, b"p"), Message::Ping("p".into())),
        (frame(OpCode::Pong, true, b"q"), Message::Pong("q".into())),
        (frame(OpCode::Close, true, b""), Message::Close(None)),
        (
            frame(OpCode::Close, true, &[0x03, 0xE8]),
            Message::Close(Some((1000, Bytes::new()))),
        ),
        (
            frame(OpCode::Close, true, &[0x0F, 0xA0, b'b', b'y', b'e']),
            Message::Close(Some((4000, "bye".into()))),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode_one(&bytes), Ok(Some(want)));
    }
}

#[test]
fn several_frames_in_one_buffer_one_per_call() {
    let bytes = concat(&[
        frame(OpCode::Text, true, b"a"),
        frame(OpCode::Binary, true, b"b"),
        frame(OpCode::Ping, true, b"c"),
    ]);
    let mut dec = Decoder::new(100);
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Text("a".into()))));
    assert_eq!(buf.len(), 14);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Binary("b".into()))));
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Ping("c".into()))));
    assert_eq!(dec.decode(&mut buf), Ok(None));
    assert!(buf.is_empty());
}

#[test]
fn partial_frames_leave_buffer_untouched() {
    let payloads: [&[u8]; 3] = [&[7u8; 5], &[8u8; 300], &[9u8; 70_000]];
    for payload in payloads {
        let bytes = frame(OpCode::Binary, true, payload);
        let cuts = [0, 1, 2, 3, 4, 5, 9, 10, 13, 14, bytes.len() - 1];
        for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
            let mut dec = Decoder::new(1 << 20);
            let mut buf = BytesMut::from(&bytes[..cut]);
            assert_eq!(dec.decode(&mut buf), Ok(None), "cut {cut}");
            assert_eq!(&buf[..], &bytes[..cut], "cut {cut}");
            buf.extend_from_slice(&bytes[cut..]);
            assert_eq!(
                dec.decode(&mut buf),
                Ok(Some(Message::Binary(payload.to_vec().into())))
            );
            assert!(buf.is_empty());
        }
    }
}

#[test]
fn every_prefix_of_a_fragmented_stream() {
    let bytes = concat(&[
        frame(OpCode::Text, false, "h\u{e9}".as_bytes()),
        frame(OpCode::Ping, true, b"x"),
        frame(OpCode::Continuation, true, b"llo"),
    ]);
    for cut in 0..=bytes.len() {
        let mut dec = Decoder::new(100);
        let mut buf = BytesMut::from(&bytes[..cut]);
        let mut got = Vec::new();
        while let Some(m) = dec.decode(&mut buf).unwrap() {
            got.push(m);
        }
        buf.extend_from_slice(&bytes[cut..]);
        while let Some(m) = dec.decode(&mut buf).unwrap() {
            got.push(m);
        }
        assert_eq!(
            got,
            vec![
                Message::Ping("x".into()),
                Message::Text("h\u{e9}llo".into())
            ],
            "cut {cut}"
        );
        assert!(buf.is_empty() && !dec.in_fragmented_message());
    }
}

#[test]
fn zero_copy_unfragmented_payload() {
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let bytes = concat(&[
        frame(OpCode::Binary, true, &payload),
        frame(OpCode::Ping, true, b"pp"),
    ]);
    let mut buf = BytesMut::from(&bytes[..]);
    let range = buf.as_ptr_range();
    let mut dec = Decoder::new(1 << 20);
    let Some(Message::Binary(got)) = dec.decode(&mut buf).unwrap() else {
        panic!("expected binary");
    };
    assert_eq!(&got[..], &payload[..]);
    let got_range = got.as_ptr_range();
    assert!(range.start <= got_range.start && got_range.end <= range.end);
    // 2-byte base header + 2-byte length + 4-byte mask.
    assert_eq!(got.as_ptr(), range.start.wrapping_add(8));
    let Some(Message::Ping(ping)) = dec.decode(&mut buf).unwrap() else {
        panic!("expected ping");
    };
    assert!(range.start <= ping.as_ptr() && ping.as_ptr_range().end <= range.end);

    let bytes = frame(OpCode::Close, true, &[0x03, 0xE8, b'o', b'k']);
    let mut buf = BytesMut::from(&bytes[..]);
    let start = buf.as_ptr();
    let Some(Message::Close(Some((1000, reason)))) = dec.decode(&mut buf).unwrap() else {
        panic!("expected close");
    };
    assert_eq!(reason.as_ptr(), start.wrapping_add(8));
}

#[test]
fn zero_length_frames_and_messages() {
    let mut dec = Decoder::new(0);
    let bytes = concat(&[
        frame(OpCode::Text, true, b""),
        frame(OpCode::Binary, true, b""),
        frame(OpCode::Ping, true, b""),
        frame(OpCode::Pong, true, b""),
        frame(OpCode::Text, false, b""),
        frame(OpCode::Continuation, false, b""),
        frame(OpCode::Continuation, true, b""),
        frame(OpCode::Binary, false, b""),
        frame(OpCode::Continuation, true, b""),
    ]);
    assert_eq!(
        decode_all(&mut dec, &bytes),
        Ok(vec![
            Message::Text(Bytes::new()),
            Message::Binary(Bytes::new()),
            Message::Ping(Bytes::new()),
            Message::Pong(Bytes::new()),
            Message::Text(Bytes::new()),
            Message::Binary(Bytes::new()),
        ])
    );
}

#[test]
fn non_minimal_lengths_accepted() {
    // 5-byte payload with a 16-bit length, then with a 64-bit length.
    let mut a = vec![0x82, 0x80 | 126, 0, 5];
    a.extend_from_slice(&[0; 4]);
    a.extend_from_slice(b"abcde");
    assert_eq!(decode_one(&a), Ok(Some(Message::Binary("abcde".into()))));
    let mut b = vec![0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5];
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(b"abcde");
    assert_eq!(decode_one(&b), Ok(Some(Message::Binary("abcde".into()))));
}

// ---- rules ----

#[test]
fn error_close_codes() {
    assert_eq!(WsError::Protocol("x").close_code(), 1002);
    assert_eq!(WsError::InvalidUtf8.close_code(), 1007);
    assert_eq!(WsError::TooBig.close_code(), 1009);
}

#[test]
fn unmasked_frame_refused() {
    let e = err_of(&[0x81, 0x02, b'h', b'i']);
    assert!(matches!(e, WsError::Protocol(_)));
    assert_eq!(e.close_code(), 1002);
    // Refused from the first two bytes alone.
    assert!(matches!(err_of(&[0x82, 0x7E]), WsError::Protocol(_)));
    // Control frames too.
    assert!(matches!(err_of(&[0x89, 0x00]), WsError::Protocol(_)));
}

#[test]
fn rsv_bits_refused() {
    for rsv in [0x40u8, 0x20, 0x10, 0x70] {
        let mut f = frame(OpCode::Text, true, b"x");
        f[0] |= rsv;
        assert_eq!(err_of(&f).close_code(), 1002, "rsv {rsv:#x}");
        let mut f = frame(OpCode::Ping, true, b"");
        f[0] |= rsv;
        assert_eq!(err_of(&f).close_code(), 1002, "rsv {rsv:#x}");
    }
}

#[test]
fn reserved_opcodes_refused() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let mut f = frame(OpCode::Binary, true, b"");
        f[0] = 0x80 | op;
        assert!(matches!(err_of(&f), WsError::Protocol(_)), "opcode {op:#x}");
        assert!(
            matches!(err_of(&f[..2]), WsError::Protocol(_)),
            "opcode {op:#x}"
        );
    }
}

#[test]
fn control_frame_rules() {
    for op in [OpCode::Ping, OpCode::Pong, OpCode::Close] {
        // Exactly 125 bytes is fine (close: valid code + ASCII reason).
        let mut max = vec![b'a'; 125];
        max[..2].copy_from_slice(&1000u16.to_be_bytes());
        assert!(
            decode_one(&frame(op, true, &max)).unwrap().is_some(),
            "{op:?}"
        );
        // 126 bytes via the 16-bit length form.
        let mut long = max.clone();
        long.push(b'a');
        let f = frame(op, true, &long);
        assert!(matches!(err_of(&f), WsError::Protocol(_)), "{op:?}");
        assert!(matches!(err_of(&f[..2]), WsError::Protocol(_)), "{op:?}");
        // 64-bit length form.
        assert!(matches!(
            err_of(&[0x80 | op.as_u8(), 0xFF]),
            WsError::Protocol(_)
        ));
        // FIN clear.
        let f = frame(op, false, &[0x03, 0xE8]);
        assert!(matches!(err_of(&f), WsError::Protocol(_)), "{op:?}");
    }
}

#[test]
fn max_message_does_not_apply_to_control_frames() {
    let mut dec = Decoder::new(4);
    assert_eq!(
        decode_all(&mut dec, &frame(OpCode::Ping, true, b"longer than four")),
        Ok(vec![Message::Ping("longer than four".into())])
    );
}

#[test]
fn continuation_without_message_refused() {
    assert!(matches!(
        err_of(&frame(OpCode::Continuation, true, b"x")),
        WsError::Protocol(_)
    ));
    assert!(matches!(
        err_of(&frame(OpCode::Continuation, false, b"")),
        WsError::Protocol(_)
    ));
    // After a completed fragmented message, too.
    let bytes = concat(&[
        frame(OpCode::Binary, false, b"a"),
        frame(OpCode::Continuation, true, b"b"),
        frame(OpCode::Continuation, true, b"c"),
    ]);
    let mut dec = Decoder::new(100);
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Binary("ab".into()))));
    assert!(matches!(dec.decode(&mut buf), Err(WsError::Protocol(_))));
}

#[test]
fn new_data_frame_inside_fragmented_message_refused() {
    for first in [OpCode::Text, OpCode::Binary] {
        for second in [OpCode::Text, OpCode::Binary] {
            for fin in [true, false] {
                let bytes = concat(&[frame(first, false, b"a"), frame(second, fin, b"b")]);
                let mut dec = Decoder::new(100);
                let r = decode_all(&mut dec, &bytes);
                assert!(
                    matches!(r, Err(WsError::Protocol(_))),
                    "{first:?} {second:?}"
                );
            }
        }
    }
}

#[test]
fn length_with_high_bit_refused() {
    let mut f = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(err_of(&f).close_code(), 1002);
    f[2] = 0xFF;
    assert_eq!(err_of(&f).close_code(), 1002);
    // Largest legal 64-bit length is only too big, not a protocol error.
    f[2] = 0x7F;
    assert_eq!(err_of(&f), WsError::TooBig);
}

#[test]
fn close_payload_rules() {
    assert!(matches!(
        err_of(&frame(OpCode::Close, true, &[0x03])),
        WsError::Protocol(_)
    ));
    let refused = [
        0u16, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ];
    for code in refused {
        let e = err_of(&frame(OpCode::Close, true, &code.to_be_bytes()));
        assert_eq!(e.close_code(), 1002, "code {code}");
    }
    let allowed = [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ];
    for code in allowed {
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice("r\u{e9}ason".as_bytes());
        assert_eq!(
            decode_one(&frame(OpCode::Close, true, &p)),
            Ok(Some(Message::Close(Some((code, "r\u{e9}ason".into()))))),
            "code {code}"
        );
    }
    let mut p = 1000u16.to_be_bytes().to_vec();
    p.extend_from_slice(&[b'o', 0xC3]);
    assert_eq!(
        err_of(&frame(OpCode::Close, true, &p)),
        WsError::InvalidUtf8
    );
    p.truncate(2);
    p.extend_from_slice(&[0xED, 0xA0, 0x80]); // UTF-16 surrogate
    assert_eq!(err_of(&frame(OpCode::Close, true, &p)).close_code(), 1007);
}

#[test]
fn text_utf8_single_frame() {
    assert_eq!(
        err_of(&frame(OpCode::Text, true, &[b'a', 0xFF])),
        WsError::InvalidUtf8
    );
    assert_eq!(
        err_of(&frame(OpCode::Text, true, &[0xC3])).close_code(),
        1007
    );
    assert_eq!(
        err_of(&frame(OpCode::Text, true, &[0xF4, 0x90, 0x80, 0x80])),
        WsError::InvalidUtf8
    );
    // Binary is not validated.
    assert_eq!(
        decode_one(&frame(OpCode::Binary, true, &[0xFF])),
        Ok(Some(Message::Binary(vec![0xFF].into())))
    );
    let s = "\u{1F600} \u{e9}\u{4e2d}";
    assert_eq!(
        decode_one(&frame(OpCode::Text, true, s.as_bytes())),
        Ok(Some(Message::Text(s.into())))
    );
}

#[test]
fn text_utf8_fragmented() {
    let s = "\u{1F600}\u{e9}";
    let b = s.as_bytes();
    // Code points cut at every possible place.
    for i in 0..=b.len() {
        for j in i..=b.len() {
            let bytes = concat(&[
                frame(OpCode::Text, false, &b[..i]),
                frame(OpCode::Ping, true, b""),
                frame(OpCode::Continuation, false, &b[i..j]),
                frame(OpCode::Continuation, true, &b[j..]),
            ]);
            let mut dec = Decoder::new(100);
            assert_eq!(
                decode_all(&mut dec, &bytes),
                Ok(vec![Message::Ping(Bytes::new()), Message::Text(s.into())])
            );
        }
    }
    // Message ending inside a code point.
    let bytes = concat(&[
        frame(OpCode::Text, false, b"a"),
        frame(OpCode::Continuation, true, &b[..2]),
    ]);
    assert_eq!(
        decode_all(&mut Decoder::new(100), &bytes),
        Err(WsError::InvalidUtf8)
    );
    // Fail fast: the first fragment is already invalid; no later frame is needed.
    let bytes = frame(OpCode::Text, false, &[b'a', 0xFF, b'b']);
    assert_eq!(
        decode_all(&mut Decoder::new(100), &bytes),
        Err(WsError::InvalidUtf8)
    );
    // Invalid continuation of a cut code point is caught in the next fragment.
    let bytes = concat(&[
        frame(OpCode::Text, false, &[0xE2, 0x82]),
        frame(OpCode::Continuation, false, b"x"),
    ]);
    assert_eq!(
        decode_all(&mut Decoder::new(100), &bytes),
        Err(WsError::InvalidUtf8)
    );
    // Fragmented binary is not validated.
    let bytes = concat(&[
        frame(OpCode::Binary, false, &[0xE2]),
        frame(OpCode::Continuation, true, &[0xFF]),
    ]);
    assert_eq!(
        decode_all(&mut Decoder::new(100), &bytes),
        Ok(vec![Message::Binary(vec![0xE2, 0xFF].into())])
    );
}

#[test]
fn too_big_single_frame_from_header_alone() {
    let mut dec = Decoder::new(10);
    assert_eq!(
        decode_all(&mut dec, &frame(OpCode::Binary, true, &[1; 10])).map(|v| v.len()),
        Ok(1)
    );
    // Only the 2-byte header of an 11-byte frame has arrived.
    let f = frame(OpCode::Binary, true, &[1; 11]);
    let e = Decoder::new(10)
        .decode(&mut BytesMut::from(&f[..2]))
        .unwrap_err();
    assert_eq!(e, WsError::TooBig);
    assert_eq!(e.close_code(), 1009);
    // Header of a 1 MiB text frame (64-bit form), without its mask or payload.
    let mut dec = Decoder::new(1000);
    let mut buf = BytesMut::from(&[0x81u8, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 0][..]);
    assert_eq!(dec.decode(&mut buf), Err(WsError::TooBig));
    // 16-bit form.
    let mut buf = BytesMut::from(&[0x82u8, 0xFE, 0x03, 0xE9][..]);
    assert_eq!(Decoder::new(1000).decode(&mut buf), Err(WsError::TooBig));
    let mut buf = BytesMut::from(&[0x82u8, 0xFE, 0x03, 0xE8][..]);
    assert_eq!(Decoder::new(1000).decode(&mut buf), Ok(None));
}

#[test]
fn too_big_accumulated_from_header_alone() {
    let mut dec = Decoder::new(10);
    let first = concat(&[
        frame(OpCode::Text, false, b"12345"),
        frame(OpCode::Continuation, false, b"678"),
    ]);
    assert_eq!(decode_all(&mut dec, &first), Ok(vec![]));
    // A 2-byte continuation fits exactly; check a 3-byte one from its header only.
    let next = frame(OpCode::Continuation, true, b"9ab");
    assert_eq!(
        dec.decode(&mut BytesMut::from(&next[..2])),
        Err(WsError::TooBig)
    );

    let mut dec = Decoder::new(10);
    let bytes = concat(&[
        frame(OpCode::Binary, false, b"12345"),
        frame(OpCode::Ping, true, b"ping payload does not count"),
        frame(OpCode::Continuation, true, b"67890"),
    ]);
    assert_eq!(
        decode_all(&mut dec, &bytes),
        Ok(vec![
            Message::Ping("ping payload does not count".into()),
            Message::Binary("1234567890".into())
        ])
    );
    // The limit applies per message: the next one starts from zero.
    assert_eq!(
        decode_all(&mut dec, &frame(OpCode::Binary, true, &[0; 10])).map(|v| v.len()),
        Ok(1)
    );
}

#[test]
fn control_frames_between_fragments() {
    let bytes = concat(&[
        frame(OpCode::Binary, false, b"ab"),
        frame(OpCode::Ping, true, b"1"),
        frame(OpCode::Continuation, false, b"cd"),
        frame(OpCode::Pong, true, b"2"),
        frame(OpCode::Close, true, &[0x03, 0xE9]),
        frame(OpCode::Continuation, true, b"ef"),
        frame(OpCode::Text, true, b"next"),
    ]);
    let mut dec = Decoder::new(100);
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Ping("1".into()))));
    assert!(dec.in_fragmented_message());
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Pong("2".into()))));
    assert_eq!(
        dec.decode(&mut buf),
        Ok(Some(Message::Close(Some((1001, Bytes::new())))))
    );
    assert!(dec.in_fragmented_message());
    assert_eq!(
        dec.decode(&mut buf),
        Ok(Some(Message::Binary("abcdef".into())))
    );
    assert!(!dec.in_fragmented_message());
    assert_eq!(dec.decode(&mut buf), Ok(Some(Message::Text("next".into()))));
    assert_eq!(dec.decode(&mut buf), Ok(None));
}
