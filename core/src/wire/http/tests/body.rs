use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use crate::wire::http::*;
use crate::wire::Decode;

use super::head::parse_ok;

/// Feeds `input` in pieces, as a connection would: unconsumed bytes stay
/// in the caller's buffer and more are appended. Returns the body and
/// the bytes left over after completion.
fn feed(
    dec: &mut BodyDecoder,
    input: &[u8],
    piece: usize,
) -> Result<(Vec<u8>, Vec<u8>), BodyError> {
    let mut buf = BytesMut::new();
    let mut rest = input;
    loop {
        let take = piece.min(rest.len());
        buf.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        if let Some(body) = dec.decode(&mut buf)? {
            buf.extend_from_slice(rest);
            return Ok((body.to_vec(), buf.to_vec()));
        }
        assert!(buf.is_empty(), "not done, yet input left unconsumed");
        if rest.is_empty() {
            return Err(BodyError::Malformed);
        }
    }
}

/// Decodes `input` at once with a chunked decoder: (body, bytes used,
/// done); the body is empty when not done.
fn decode_all(max: usize, input: &[u8]) -> Result<(Vec<u8>, usize, bool), BodyError> {
    let mut dec = BodyDecoder::chunked(max);
    let mut buf = BytesMut::from(input);
    let body = dec.decode(&mut buf)?;
    let used = input.len() - buf.len();
    match body {
        Some(body) => Ok((body.to_vec(), used, true)),
        None => {
            assert!(buf.is_empty(), "not done, yet input left unconsumed");
            Ok((Vec::new(), used, false))
        }
    }
}

#[test]
fn length_body_whole_is_zero_copy() {
    let head = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").0;
    let mut dec = BodyDecoder::new(&head, 5).unwrap();
    let mut buf = BytesMut::from(&b"helloGET / HTTP/1.1\r\n"[..]);
    let at = buf.as_ptr();
    let body = dec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(&body[..], b"hello");
    assert_eq!(body.as_ptr(), at, "split off the buffer, not copied");
    assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
    // Spent.
    assert_eq!(dec.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
}

#[test]
fn length_body_in_pieces() {
    for piece in [1, 2, 3, 7] {
        let mut dec = BodyDecoder::with_length(7, 100).unwrap();
        let (body, rest) = feed(&mut dec, b"abcdefgNEXT", piece).unwrap();
        assert_eq!(body, b"abcdefg", "{piece}");
        assert_eq!(rest, b"NEXT", "{piece}");
    }
}

#[test]
fn length_body_empty_and_limit() {
    // No body at all: complete at once, without input.
    let head = parse_ok(b"GET / HTTP/1.1\r\n\r\n").0;
    let mut dec = BodyDecoder::new(&head, 0).unwrap();
    let mut buf = BytesMut::from(&b"next"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Bytes::new())));
    assert_eq!(&buf[..], b"next");
    let mut dec = BodyDecoder::with_length(0, 0).unwrap();
    assert_eq!(dec.decode(&mut BytesMut::new()), Ok(Some(Bytes::new())));
    // Over the limit: refused before reading any of it.
    assert_eq!(
        BodyDecoder::with_length(11, 10).unwrap_err(),
        BodyError::TooLarge
    );
    assert!(BodyDecoder::with_length(10, 10).is_ok());
    assert_eq!(
        BodyDecoder::with_length(u64::MAX, 10).unwrap_err(),
        BodyError::TooLarge
    );
    let head = parse_ok(b"POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\n").0;
    assert_eq!(BodyDecoder::new(&head, 5).unwrap_err(), BodyError::TooLarge);
    // Chunked heads get a chunked decoder.
    let head = parse_ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").0;
    let mut dec = BodyDecoder::new(&head, 5).unwrap();
    let mut buf = BytesMut::from(&b"2\r\nab\r\n0\r\n\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Bytes::from_static(b"ab"))));
}

#[test]
fn chunked_simple() {
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    let mut input = body.to_vec();
    input.extend_from_slice(b"GET / HTTP/1.1\r\n");
    let (out, used, done) = decode_all(1024, &input).unwrap();
    assert_eq!(out, b"hello world");
    assert_eq!(used, body.len());
    assert!(done);
}

#[test]
fn chunked_empty_body() {
    assert_eq!(decode_all(0, b"0\r\n\r\n").unwrap(), (vec![], 5, true));
    assert_eq!(decode_all(10, b"000\r\n\r\nX").unwrap(), (vec![], 7, true));
}

#[test]
fn chunked_hex_sizes() {
    let mut input = b"a\r\n0123456789\r\nB\r\n0123456789A\r\n010\r\n".to_vec();
    input.extend_from_slice(&[b'z'; 16]);
    input.extend_from_slice(b"\r\n0\r\n\r\n");
    let (out, used, done) = decode_all(1024, &input).unwrap();
    assert_eq!(out.len(), 10 + 11 + 16);
    assert_eq!((used, done), (input.len(), true));
}

#[test]
fn chunked_extensions_and_trailers() {
    let input = b"5;name=value\r\nhello\r\n\
        3 ;a;b=\"q;uoted\"\r\nabc\r\n\
        2\t\r\nde\r\n\
        0;last\r\n\
        X-Trailer: 1\r\n\
        Other: two words\r\n\
        \r\nNEXT";
    let (out, used, done) = decode_all(1024, input).unwrap();
    assert_eq!(out, b"helloabcde");
    assert!(done);
    assert_eq!(&input[used..], b"NEXT");
}

#[test]
fn chunked_one_byte_at_a_time() {
    let input = b"4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\nnext";
    let mut dec = BodyDecoder::chunked(100);
    let (out, rest) = feed(&mut dec, input, 1).unwrap();
    assert_eq!(out, b"wikipedia");
    assert_eq!(rest, b"next");
}

#[test]
fn chunked_after_done() {
    let mut dec = BodyDecoder::chunked(100);
    let mut buf = BytesMut::from(&b"1\r\na\r\n0\r\n\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(Some(Bytes::from_static(b"a"))));
    assert!(buf.is_empty());
    // Spent: what follows is left alone.
    buf.extend_from_slice(b"1\r\nb\r\n");
    assert_eq!(dec.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"1\r\nb\r\n");
    buf.clear();
    assert_eq!(dec.decode(&mut buf), Ok(None));
}

#[test]
fn chunked_empty_input_not_done() {
    let mut dec = BodyDecoder::chunked(100);
    let mut buf = BytesMut::new();
    assert_eq!(dec.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"3\r\nab");
    assert_eq!(dec.decode(&mut buf), Ok(None));
    // The body bytes moved into the decoder.
    assert!(buf.is_empty());
    buf.extend_from_slice(b"c\r\n0\r\n\r\n");
    assert_eq!(dec.decode(&mut buf), Ok(Some(Bytes::from_static(b"abc"))));
}

#[test]
fn chunked_limit() {
    // Exactly at the limit is fine.
    assert!(
        decode_all(5, b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n")
            .unwrap()
            .2
    );
    // One over fails, and fails as soon as the size line is known,
    // before any of that chunk's data is read.
    let mut dec = BodyDecoder::chunked(5);
    let mut buf = BytesMut::from(&b"2\r\nab\r\n"[..]);
    assert_eq!(dec.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"4");
    assert_eq!(dec.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"\r");
    assert_eq!(dec.decode(&mut buf), Err(BodyError::TooLarge));
    // A single huge chunk fails without waiting for data.
    assert_eq!(decode_all(1024, b"ffffffff\r\n"), Err(BodyError::TooLarge));
    assert_eq!(decode_all(0, b"1;x\r\n"), Err(BodyError::TooLarge));
    assert_eq!(BodyError::TooLarge.status(), 413);
    assert_eq!(BodyError::Malformed.status(), 400);
}

#[test]
fn chunked_poisoned_after_error() {
    let decode = |dec: &mut BodyDecoder, input: &[u8]| dec.decode(&mut BytesMut::from(input));
    let mut dec = BodyDecoder::chunked(5);
    assert_eq!(decode(&mut dec, b"9\r\n"), Err(BodyError::TooLarge));
    assert_eq!(decode(&mut dec, b"0\r\n\r\n"), Err(BodyError::TooLarge));
    assert_eq!(decode(&mut dec, b""), Err(BodyError::TooLarge));
    let mut dec = BodyDecoder::chunked(5);
    assert_eq!(decode(&mut dec, b"x"), Err(BodyError::Malformed));
    assert_eq!(decode(&mut dec, b"0\r\n\r\n"), Err(BodyError::Malformed));
}

#[test]
fn chunked_malformed() {
    let cases: &[&[u8]] = &[
        b"\r\n",
        b";ext\r\n",
        b"x\r\n",
        b"-5\r\n",
        b"0x5\r\n",
        b" 5\r\n",
        b"5 5\r\nhello\r\n",
        b"5\nhello\r\n0\r\n\r\n",
        b"5\r\rhello",
        b"5\r\nhelloX\r\n",
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhello\r\r",
        b"5;a\nb\r\nhello\r\n",
        b"5;a\x00\r\nhello\r\n",
        b"5;a\rb\nhello\r\n",
        b"0\r\n\n",
        b"0\r\nX: 1\n\r\n",
        b"0\r\nX: 1\r\r\n",
        b"0\r\nX: 1\rY: 2\r\n\r\n",
        b"0\r\nX:\x01\r\n\r\n",
        b"0\r\n\rx",
        // 2^64 overflows u64.
        b"10000000000000000\r\n",
    ];
    for input in cases {
        assert_eq!(
            decode_all(usize::MAX, input),
            Err(BodyError::Malformed),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    // The largest u64 does not overflow (it is just too large).
    assert_eq!(
        decode_all(10, b"ffffffffffffffff\r\n"),
        Err(BodyError::TooLarge)
    );
}

#[test]
fn chunked_size_line_bound() {
    let mut line = b"1;".to_vec();
    line.extend(std::iter::repeat_n(b'e', MAX_CHUNK_LINE - 4));
    line.extend_from_slice(b"\r\n");
    assert_eq!(line.len(), MAX_CHUNK_LINE);
    let mut ok = line.clone();
    ok.extend_from_slice(b"a\r\n0\r\n\r\n");
    assert_eq!(decode_all(10, &ok).unwrap().0, b"a");

    let mut too_long = b"1;e".to_vec();
    too_long.extend_from_slice(&line[2..]);
    assert_eq!(decode_all(10, &too_long), Err(BodyError::Malformed));

    // Leading zeros count against the line bound too.
    let zeros = vec![b'0'; MAX_CHUNK_LINE + 1];
    assert_eq!(decode_all(10, &zeros), Err(BodyError::Malformed));
}

#[test]
fn chunked_extension_budget() {
    // Many tiny chunks with long extensions: bounded over the body.
    let per = b"1;xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\na\r\n";
    let ext_len = per.len() - 6;
    let fits = MAX_CHUNK_EXTENSIONS / ext_len;
    let mut input = per.repeat(fits);
    input.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(decode_all(1 << 20, &input).unwrap().0.len(), fits);
    let mut input = per.repeat(fits + 1);
    input.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(decode_all(1 << 20, &input), Err(BodyError::Malformed));
    // Plain tiny chunks are not limited by the extension budget.
    let mut input = b"1\r\na\r\n".repeat(MAX_CHUNK_EXTENSIONS + 10);
    input.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(
        decode_all(1 << 20, &input).unwrap().0.len(),
        MAX_CHUNK_EXTENSIONS + 10
    );
}

#[test]
fn chunked_trailer_budget() {
    let line = b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut input = b"0\r\n".to_vec();
    input.extend_from_slice(&line.repeat(MAX_TRAILER_BYTES / line.len()));
    input.extend_from_slice(b"\r\n");
    assert!(decode_all(10, &input).unwrap().2);
    let mut input = b"0\r\n".to_vec();
    input.extend_from_slice(&line.repeat(MAX_TRAILER_BYTES / line.len() + 1));
    input.extend_from_slice(b"\r\n");
    assert_eq!(decode_all(10, &input), Err(BodyError::Malformed));
}

fn encode_chunked(body: &[u8], sizes: &[usize], ext: bool, trailers: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(7)
            .max(1);
        let n = n.min(rest.len());
        out.extend_from_slice(format!("{n:x}").as_bytes());
        if ext && i % 2 == 0 {
            out.extend_from_slice(b" ; k=v;flag");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        i += 1;
    }
    out.extend_from_slice(b"0\r\n");
    if trailers {
        out.extend_from_slice(b"Expires: never\r\nX-Sum: 1\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

proptest! {
    #[test]
    fn prop_chunked_roundtrip_any_split(
        body in prop::collection::vec(any::<u8>(), 0..3000),
        sizes in prop::collection::vec(1usize..600, 1..8),
        ext in any::<bool>(),
        trailers in any::<bool>(),
        next in prop::collection::vec(any::<u8>(), 0..50),
        mut cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let encoded = encode_chunked(&body, &sizes, ext, trailers);
        let mut input = encoded.clone();
        input.extend_from_slice(&next);

        // Split points anywhere in the whole input.
        let mut points: Vec<usize> =
            cuts.drain(..).map(|ix| ix.index(input.len() + 1)).collect();
        points.push(0);
        points.push(input.len());
        points.sort_unstable();
        points.dedup();

        let mut dec = BodyDecoder::chunked(body.len());
        let mut buf = BytesMut::new();
        let mut total_used = 0;
        let mut finished = None;
        for w in points.windows(2) {
            buf.extend_from_slice(&input[w[0]..w[1]]);
            let before = buf.len();
            let decoded = dec.decode(&mut buf).unwrap();
            total_used += before - buf.len();
            if let Some(out) = decoded {
                let mut left = buf.to_vec();
                left.extend_from_slice(&input[w[1]..]);
                prop_assert_eq!(left, next.clone());
                finished = Some(out);
                break;
            }
            prop_assert!(buf.is_empty());
        }
        let out = finished.expect("the body completes");
        prop_assert_eq!(total_used, encoded.len());
        prop_assert_eq!(&out[..], &body[..]);

        // One byte less of room: too large.
        if !body.is_empty() {
            let mut dec = BodyDecoder::chunked(body.len() - 1);
            prop_assert_eq!(feed(&mut dec, &input, 64), Err(BodyError::TooLarge));
        }
    }

    #[test]
    fn prop_chunked_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        piece in 1usize..50,
        max in 0usize..200,
    ) {
        let mut dec = BodyDecoder::chunked(max);
        let mut buf = BytesMut::new();
        for chunk in bytes.chunks(piece) {
            buf.extend_from_slice(chunk);
            match dec.decode(&mut buf) {
                Ok(Some(body)) => {
                    prop_assert!(body.len() <= max);
                    break;
                }
                Ok(None) => prop_assert!(buf.is_empty()),
                Err(_) => break,
            }
        }
    }

    #[test]
    fn prop_chunked_framing_bytes_never_panic(
        bytes in prop::collection::vec(
            prop::sample::select(b"0123456789abcdefABCDEF\r\n; =\t\"xg\x00\xff".to_vec()),
            0..400,
        ),
        piece in 1usize..20,
    ) {
        let mut dec = BodyDecoder::chunked(64);
        let mut buf = BytesMut::new();
        for chunk in bytes.chunks(piece) {
            buf.extend_from_slice(chunk);
            match dec.decode(&mut buf) {
                Ok(Some(body)) => {
                    prop_assert!(body.len() <= 64);
                    break;
                }
                Ok(None) => {}
                Err(_) => break,
            }
        }
    }
}
