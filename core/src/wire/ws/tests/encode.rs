use super::*;

// ---- handshake ----

#[test]
fn accept_key_rfc_example() {
    // RFC 6455 section 1.3 (and section 4.2.2 / 5.x examples).
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_eq!(
        accept_key(" dGhlIHNhbXBsZSBub25jZQ==\t"),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert_ne!(
        accept_key("dGhlIHNhbXBsZSBub25jZR=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn handshake_response_bytes() {
    let mut out = BytesMut::from(&b"prefix"[..]);
    write_handshake_response(&mut out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &[]);
    assert_eq!(
        &out[..],
        &b"prefixHTTP/1.1 101 Switching Protocols\r\n\
           Upgrade: websocket\r\n\
           Connection: Upgrade\r\n\
           Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
           \r\n"[..]
    );

    let mut out = BytesMut::new();
    write_handshake_response(
        &mut out,
        "abc=",
        &[("Sec-WebSocket-Protocol", "chat"), ("Set-Cookie", "io=x")],
    );
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 101 Switching Protocols\r\n\
           Upgrade: websocket\r\n\
           Connection: Upgrade\r\n\
           Sec-WebSocket-Accept: abc=\r\n\
           Sec-WebSocket-Protocol: chat\r\n\
           Set-Cookie: io=x\r\n\
           \r\n"[..]
    );
}

// ---- encoding ----

/// Parses a server frame: (fin, opcode bits, payload).
fn parse_server_frame(f: &[u8]) -> (bool, u8, &[u8]) {
    assert_eq!(f[0] & 0x70, 0, "RSV bits");
    assert_eq!(f[1] & 0x80, 0, "server frames are unmasked");
    let (len, at) = match f[1] & 0x7F {
        126 => (u16::from_be_bytes([f[2], f[3]]) as usize, 4),
        127 => (
            u64::from_be_bytes(f[2..10].try_into().unwrap()) as usize,
            10,
        ),
        n => (n as usize, 2),
    };
    assert_eq!(at, header_len(len));
    assert_eq!(f.len(), at + len);
    (f[0] & 0x80 != 0, f[0] & 0x0F, &f[at..])
}

#[test]
fn header_len_and_encoding_agree() {
    let lens = [0usize, 1, 124, 125, 126, 127, 65534, 65535, 65536, 65537];
    let want = [2usize, 2, 2, 2, 4, 4, 4, 4, 10, 10];
    for (&len, &want) in lens.iter().zip(&want) {
        assert_eq!(header_len(len), want, "len {len}");
        let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let f = encode_frame(OpCode::Binary, &payload);
        assert_eq!(f.len(), want + len);
        let (fin, op, p) = parse_server_frame(&f);
        assert!(fin);
        assert_eq!(op, 2);
        assert_eq!(p, &payload[..]);

        let mut out = BytesMut::new();
        write_frame_header(&mut out, OpCode::Text, false, len);
        assert_eq!(out.len(), want);
        assert_eq!(out[0], 0x01);

        // The client encoding decodes back.
        let mut dec = Decoder::new(1 << 20);
        let c = encode_client_frame(OpCode::Binary, true, &payload, [1, 2, 3, 4]);
        assert_eq!(c.len(), want + 4 + len);
        assert_eq!(
            decode_all(&mut dec, &c),
            Ok(vec![Message::Binary(payload.into())])
        );
    }
    assert_eq!(header_len(usize::MAX), 10);
}

#[test]
fn exact_server_frames() {
    assert_eq!(&encode_frame(OpCode::Text, b"Hello")[..], b"\x81\x05Hello");
    assert_eq!(&encode_frame(OpCode::Pong, b"")[..], b"\x8A\x00");
    let mut out = BytesMut::new();
    write_frame(&mut out, OpCode::Ping, b"x");
    write_frame_header(&mut out, OpCode::Continuation, true, 256);
    assert_eq!(&out[..], b"\x89\x01x\x80\x7E\x01\x00");
    let mut out = BytesMut::new();
    write_frame_header(&mut out, OpCode::Binary, true, 65536);
    assert_eq!(&out[..], b"\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00");
}

#[test]
fn close_encoding() {
    assert_eq!(&encode_close(1000, "")[..], b"\x88\x02\x03\xE8");
    assert_eq!(&encode_close(1009, "big")[..], b"\x88\x05\x03\xF1big");
    // ASCII: cut to exactly 123 bytes.
    let long = "x".repeat(200);
    let f = encode_close(1000, &long);
    let (_, op, p) = parse_server_frame(&f);
    assert_eq!(op, 8);
    assert_eq!(p.len(), 125);
    // Multibyte: 'é' is 2 bytes, so 123 bytes would split one; 122 are kept.
    let long = "\u{e9}".repeat(100);
    let f = encode_close(1001, &long);
    let (_, _, p) = parse_server_frame(&f);
    assert_eq!(p.len(), 2 + 122);
    assert_eq!(&p[..2], &1001u16.to_be_bytes());
    assert!(core::str::from_utf8(&p[2..]).is_ok());
    // 4-byte chars: 30 * 4 = 120 kept.
    let long = "\u{1F600}".repeat(40);
    let f = encode_close(1000, &long);
    let (_, _, p) = parse_server_frame(&f);
    assert_eq!(p.len(), 2 + 120);
    // Exactly 123 bytes is kept whole.
    let s = "y".repeat(123);
    let f = encode_close(1000, &s);
    let (_, _, p) = parse_server_frame(&f);
    assert_eq!(&p[2..], s.as_bytes());
}

// ---- masking ----

fn mask_reference(buf: &mut [u8], mask: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

#[test]
fn unmask_every_length_and_offset() {
    let masks = [[0xA1, 0x02, 0x5C, 0xFF], [0, 0, 0, 0], [1, 2, 3, 4]];
    let storage: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    for mask in masks {
        for len in 0..=40 {
            for offset in 0..16 {
                let mut fast = storage.clone();
                let mut slow = storage.clone();
                apply_mask(&mut fast[offset..offset + len], mask);
                mask_reference(&mut slow[offset..offset + len], mask);
                assert_eq!(fast, slow, "mask {mask:?} len {len} offset {offset}");
            }
        }
    }
}

proptest! {
    #[test]
    fn unmask_matches_reference(
        data in proptest::collection::vec(any::<u8>(), 0..=80),
        offset in 0usize..16,
        len in 0usize..=40,
        mask in any::<[u8; 4]>(),
    ) {
        let offset = offset.min(data.len());
        let len = len.min(data.len() - offset);
        let mut fast = data.clone();
        let mut slow = data.clone();
        apply_mask(&mut fast[offset..offset + len], mask);
        mask_reference(&mut slow[offset..offset + len], mask);
        prop_assert_eq!(&fast, &slow);
        apply_mask(&mut fast[offset..offset + len], mask);
        prop_assert_eq!(&fast, &data);
    }
}
