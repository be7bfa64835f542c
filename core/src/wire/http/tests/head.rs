use bytes::BytesMut;
use proptest::prelude::*;

use crate::wire::http::*;
use crate::wire::Decode;

/// Decodes `buf` with a [`HeadDecoder`] and checks what the decoder left
/// in the buffer: `Ok(Some((head, n)))` when the head took the first `n`
/// bytes.
fn parse_with(buf: &[u8], limits: HeadLimits) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut bytes = BytesMut::from(buf);
    let result = HeadDecoder::new(limits).decode(&mut bytes);
    match &result {
        Ok(Some(parsed)) => {
            let n = parsed.raw.len();
            assert_eq!(&parsed.raw[..], &buf[..n]);
            assert_eq!(&bytes[..], &buf[n..]);
        }
        _ => assert_eq!(&bytes[..], buf, "the buffer is untouched until complete"),
    }
    result.map(|parsed| {
        parsed.map(|p| {
            let n = p.raw.len();
            (p.head, n)
        })
    })
}

fn parse(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    parse_with(buf, HeadLimits::default())
}

pub(super) fn parse_ok(buf: &[u8]) -> (RequestHead, usize) {
    match parse(buf) {
        Ok(Some(r)) => r,
        other => panic!("expected a complete head, got {other:?}"),
    }
}

fn parse_err(buf: &[u8]) -> HeadError {
    match parse(buf) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn typical_polling_get() {
    let raw = b"GET /socket.io/?EIO=4&transport=polling&t=OaBc HTTP/1.1\r\n\
        Host: example.com:3000\r\n\
        User-Agent: test\r\n\
        Accept: */*\r\n\
        Accept-Encoding: gzip, deflate, br\r\n\
        Origin: http://example.com\r\n\
        Cookie: io=abc\r\n\
        \r\n";
    let mut buf = raw.to_vec();
    buf.extend_from_slice(b"GET /next HTTP/1.1\r\n");
    let (h, n) = parse_ok(&buf);
    assert_eq!(n, raw.len());
    assert_eq!(h.method, Method::Get);
    assert_eq!(h.path, "/socket.io/");
    assert_eq!(h.query, "EIO=4&transport=polling&t=OaBc");
    assert_eq!(h.version_minor, 1);
    assert!(h.keep_alive);
    assert_eq!(h.content_length, None);
    assert!(!h.chunked);
    assert_eq!(h.content_type, None);
    assert_eq!(h.origin.as_deref(), Some("http://example.com"));
    assert!(!h.upgrade_websocket);
    assert_eq!(h.ws_key, None);
    assert_eq!(h.ws_version, None);
    assert_eq!(h.accept_encoding.as_deref(), Some("gzip, deflate, br"));
    assert_eq!(h.cookie.as_deref(), Some("io=abc"));
    let names: Vec<&str> = h.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "host",
            "user-agent",
            "accept",
            "accept-encoding",
            "origin",
            "cookie"
        ]
    );
    assert_eq!(h.header("HOST"), Some("example.com:3000"));
    assert_eq!(h.header("x-missing"), None);
}

#[test]
fn typical_post_with_body() {
    let raw = b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n\
        Host: x\r\n\
        Content-Type: text/plain;charset=UTF-8\r\n\
        Content-Length: 5\r\n\
        \r\n4hello";
    let (h, n) = parse_ok(raw);
    assert_eq!(h.method, Method::Post);
    assert_eq!(h.content_length, Some(5));
    assert_eq!(h.content_type.as_deref(), Some("text/plain;charset=UTF-8"));
    assert_eq!(&raw[n..], b"4hello");
    assert!(!h.chunked);
}

#[test]
fn chunked_post() {
    let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    let (h, _) = parse_ok(raw);
    assert!(h.chunked);
    assert_eq!(h.content_length, None);
    let (h, _) = parse_ok(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n");
    assert!(h.chunked);
    // Codings spread over several header lines are one list.
    let (h, _) = parse_ok(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert!(h.chunked);
}

#[test]
fn websocket_upgrade() {
    let raw = b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n\
        Host: server.example.com\r\n\
        Upgrade: websocket\r\n\
        Connection: keep-alive, Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\
        Origin: http://example.com\r\n\
        \r\n";
    let (h, n) = parse_ok(raw);
    assert_eq!(n, raw.len());
    assert!(h.upgrade_websocket);
    assert!(h.keep_alive);
    assert_eq!(h.ws_key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(h.ws_version.as_deref(), Some("13"));
}

#[test]
fn websocket_upgrade_needs_both_headers() {
    let cases: &[(&[u8], bool)] = &[
        (b"GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: UPGRADE\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", false),
        (b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", false),
        (b"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n", false),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrades\r\n\r\n", false),
        (b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n\r\n", true),
    ];
    for (raw, expected) in cases {
        let (h, _) = parse_ok(raw);
        assert_eq!(
            h.upgrade_websocket,
            *expected,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

#[test]
fn keep_alive_rules() {
    let cases: &[(&[u8], bool)] = &[
        (b"GET / HTTP/1.1\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        (
            b"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n",
            false,
        ),
        (b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true),
        (b"GET / HTTP/1.0\r\n\r\n", false),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
        (b"GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n", false),
        (
            b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
            false,
        ),
    ];
    for (raw, expected) in cases {
        let (h, _) = parse_ok(raw);
        assert_eq!(h.keep_alive, *expected, "{}", String::from_utf8_lossy(raw));
    }
    assert_eq!(parse_ok(b"GET / HTTP/1.0\r\n\r\n").0.version_minor, 0);
}

#[test]
fn methods() {
    let cases = [
        ("GET", Method::Get),
        ("POST", Method::Post),
        ("OPTIONS", Method::Options),
        ("HEAD", Method::Head),
        ("PUT", Method::Put),
        ("DELETE", Method::Delete),
        ("PATCH", Method::Patch),
        ("PROPFIND", Method::Other),
        ("get", Method::Other),
    ];
    for (token, method) in cases {
        let raw = format!("{token} / HTTP/1.1\r\n\r\n");
        assert_eq!(parse_ok(raw.as_bytes()).0.method, method, "{token}");
    }
}

#[test]
fn path_and_query_split() {
    let (h, _) = parse_ok(b"GET /a/b?x=1?y=2 HTTP/1.1\r\n\r\n");
    assert_eq!((h.path.as_str(), h.query.as_str()), ("/a/b", "x=1?y=2"));
    let (h, _) = parse_ok(b"GET /a? HTTP/1.1\r\n\r\n");
    assert_eq!((h.path.as_str(), h.query.as_str()), ("/a", ""));
    let (h, _) = parse_ok(b"GET /%20a HTTP/1.1\r\n\r\n");
    assert_eq!((h.path.as_str(), h.query.as_str()), ("/%20a", ""));
    let (h, _) = parse_ok(b"OPTIONS * HTTP/1.1\r\n\r\n");
    assert_eq!((h.method, h.path.as_str()), (Method::Options, "*"));
}

#[test]
fn header_values_trimmed_lossy_and_first_wins() {
    let raw = b"GET / HTTP/1.1\r\n\
        X-A:   spaced \t \r\n\
        X-Bin: a\xffb\r\n\
        Origin: first\r\n\
        origin: second\r\n\
        Cookie: a=1\r\n\
        Cookie: b=2\r\n\
        \r\n";
    let (h, _) = parse_ok(raw);
    assert_eq!(h.header("x-a"), Some("spaced"));
    assert_eq!(h.header("X-BIN"), Some("a\u{fffd}b"));
    assert_eq!(h.origin.as_deref(), Some("first"));
    assert_eq!(h.header("Origin"), Some("first"));
    assert_eq!(
        h.header_all("ORIGIN").collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(h.cookie.as_deref(), Some("a=1; b=2"));
    assert_eq!(h.headers[3], ("origin".to_owned(), "second".to_owned()));
}

#[test]
fn every_prefix_is_partial() {
    let raw = b"POST /socket.io/?EIO=4 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
    for i in 0..raw.len() {
        assert_eq!(parse(&raw[..i]), Ok(None), "prefix {i}");
    }
    assert_eq!(parse_ok(raw).1, raw.len());
}

#[test]
fn raw_head_goes_back_in_front_without_copy() {
    // A connection handed over carries the head followed by the rest.
    let raw = b"GET /socket.io/?EIO=4&sid=x HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut input = raw.to_vec();
    input.extend_from_slice(b"GET /next HTTP/1.1\r\n");
    let mut buf = BytesMut::from(&input[..]);
    let at = buf.as_ptr();
    let mut parsed = HeadDecoder::new(HeadLimits::default())
        .decode(&mut buf)
        .unwrap()
        .unwrap();
    assert_eq!(&parsed.raw[..], &raw[..]);
    assert_eq!(parsed.head.query, "EIO=4&sid=x");
    parsed.raw.unsplit(buf);
    assert_eq!(&parsed.raw[..], &input[..]);
    assert_eq!(parsed.raw.as_ptr(), at);
    let limits = HeadLimits {
        max_head_bytes: 100,
        max_headers: 3,
    };
    assert_eq!(HeadDecoder::new(limits).limits(), limits);
}

#[test]
fn leading_empty_lines_are_skipped() {
    let raw = b"\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    let (h, n) = parse_ok(raw);
    assert_eq!(n, raw.len());
    assert_eq!(h.path, "/");
    // A flood of empty lines is still bounded by the size limit.
    let flood = b"\r\n".repeat(9000);
    assert_eq!(parse_err(&flood), HeadError::TooLarge);
}

#[test]
fn size_limit() {
    let raw = b"GET / HTTP/1.1\r\nHost: abc\r\n\r\n";
    let exact = HeadLimits {
        max_head_bytes: raw.len(),
        max_headers: 8,
    };
    assert_eq!(parse_with(raw, exact).unwrap().unwrap().1, raw.len());
    // Extra bytes after a head that fits do not matter.
    let mut more = raw.to_vec();
    more.extend_from_slice(&[b'x'; 100]);
    assert_eq!(parse_with(&more, exact).unwrap().unwrap().1, raw.len());

    let short = HeadLimits {
        max_head_bytes: raw.len() - 1,
        max_headers: 8,
    };
    assert_eq!(parse_with(raw, short), Err(HeadError::TooLarge));
    // Incomplete: fine up to the limit, too large past it.
    assert_eq!(parse_with(&raw[..raw.len() - 1], short), Ok(None));
    assert_eq!(parse_with(&raw[..raw.len() - 1], exact), Ok(None));

    let mut huge = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    assert_eq!(parse_err(&huge), HeadError::TooLarge);
    assert_eq!(HeadError::TooLarge.status(), 431);
}

#[test]
fn header_count_limit() {
    fn head_with(n: usize) -> Vec<u8> {
        let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            raw.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"\r\n");
        raw
    }
    let limits = HeadLimits {
        max_head_bytes: 64 * 1024,
        max_headers: 3,
    };
    assert_eq!(
        parse_with(&head_with(3), limits)
            .unwrap()
            .unwrap()
            .0
            .headers
            .len(),
        3
    );
    assert_eq!(
        parse_with(&head_with(4), limits),
        Err(HeadError::TooManyHeaders)
    );
    assert_eq!(HeadError::TooManyHeaders.status(), 431);

    // Default limit: 64.
    assert!(matches!(parse(&head_with(64)), Ok(Some(_))));
    assert_eq!(parse_err(&head_with(65)), HeadError::TooManyHeaders);

    // Asking for more than the cap gets the cap.
    let big = HeadLimits {
        max_head_bytes: 64 * 1024,
        max_headers: 10_000,
    };
    assert!(matches!(
        parse_with(&head_with(MAX_HEADERS_CAP), big),
        Ok(Some(_))
    ));
    assert_eq!(
        parse_with(&head_with(MAX_HEADERS_CAP + 1), big),
        Err(HeadError::TooManyHeaders)
    );

    let none = HeadLimits {
        max_head_bytes: 1024,
        max_headers: 0,
    };
    assert!(matches!(parse_with(&head_with(0), none), Ok(Some(_))));
    assert_eq!(
        parse_with(&head_with(1), none),
        Err(HeadError::TooManyHeaders)
    );
}

#[test]
fn head_limits_default() {
    let d = HeadLimits::default();
    assert_eq!((d.max_head_bytes, d.max_headers), (16 * 1024, 64));
}

#[test]
fn malformed_heads() {
    let cases: &[&[u8]] = &[
        b"\x00\x01\x02\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET  HTTP/1.1\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nName : x\r\n\r\n",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"SSH-2.0-OpenSSH\r\n\r\n",
    ];
    for raw in cases {
        assert_eq!(
            parse_err(raw),
            HeadError::Malformed,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
    assert_eq!(HeadError::Malformed.status(), 400);
    // Garbage is rejected before the head is complete.
    assert_eq!(parse_err(b"\x16\x03\x01"), HeadError::Malformed);
}

#[test]
fn content_length_validation() {
    let cl = |v: &str| {
        let raw = format!("POST / HTTP/1.1\r\nContent-Length: {v}\r\n\r\n");
        parse(raw.as_bytes()).map(|r| r.map(|(h, _)| h.content_length))
    };
    assert_eq!(cl("0"), Ok(Some(Some(0))));
    assert_eq!(cl("42"), Ok(Some(Some(42))));
    assert_eq!(cl("007"), Ok(Some(Some(7))));
    assert_eq!(cl("18446744073709551615"), Ok(Some(Some(u64::MAX))));
    for bad in [
        "",
        "abc",
        "-1",
        "+5",
        "1 2",
        "0x10",
        "5,5",
        "1.0",
        "18446744073709551616",
    ] {
        assert_eq!(cl(bad), Err(HeadError::Malformed), "{bad:?}");
    }

    let two = |a: &str, b: &str| {
        let raw = format!("POST / HTTP/1.1\r\nContent-Length: {a}\r\ncontent-length: {b}\r\n\r\n");
        parse(raw.as_bytes()).map(|r| r.map(|(h, _)| h.content_length))
    };
    assert_eq!(two("5", "5"), Ok(Some(Some(5))));
    assert_eq!(two("5", "05"), Ok(Some(Some(5))));
    assert_eq!(two("5", "6"), Err(HeadError::Malformed));
    assert_eq!(two("5", "x"), Err(HeadError::Malformed));
}

#[test]
fn transfer_encoding_validation() {
    let bad: &[&[u8]] = &[
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n",
        b"POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
    ];
    for raw in bad {
        assert_eq!(
            parse_err(raw),
            HeadError::Malformed,
            "{}",
            String::from_utf8_lossy(raw)
        );
    }
}

fn arb_token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn arb_head() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec!["GET", "POST", "OPTIONS", "HEAD", "PURGE"]);
    let target = "/[A-Za-z0-9/._%-]{0,20}(\\?[A-Za-z0-9=&%+._-]{0,20})?";
    let version = prop::sample::select(vec!["1.0", "1.1"]);
    let headers = prop::collection::vec((arb_token(), "[ -~]{0,20}"), 0..10);
    let extra = prop::sample::select(vec![
        "",
        "Content-Length: 12\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Connection: close\r\n",
        "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n",
    ]);
    (method, target, version, headers, extra).prop_map(|(m, t, v, hs, extra)| {
        let mut s = format!("{m} {t} HTTP/{v}\r\n");
        for (n, val) in hs {
            s.push_str(&format!("{n}: {val}\r\n"));
        }
        s.push_str(extra);
        s.push_str("\r\n");
        s.into_bytes()
    })
}

proptest! {
    #[test]
    fn prop_split_head_partial_then_complete(
        head in arb_head(),
        trailing in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let (full, n) = parse_ok(&head);
        prop_assert_eq!(n, head.len());
        for i in 0..head.len() {
            prop_assert_eq!(parse(&head[..i]), Ok(None), "prefix {}", i);
        }
        let mut buf = head.clone();
        buf.extend_from_slice(&trailing);
        let (again, n2) = parse_ok(&buf);
        prop_assert_eq!(n2, head.len());
        prop_assert_eq!(again, full);
    }

    #[test]
    fn prop_head_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        max_head_bytes in 0usize..700,
        max_headers in 0usize..200,
    ) {
        let limits = HeadLimits { max_head_bytes, max_headers };
        if let Ok(Some((_, n))) = parse_with(&bytes, limits) {
            prop_assert!(n <= bytes.len());
            prop_assert!(n <= max_head_bytes);
        }
    }

    #[test]
    fn prop_head_arbitrary_header_bytes_never_panic(
        bytes in prop::collection::vec(
            prop::sample::select(b": \r\n\taZ09,;=-\x80\xff\x00".to_vec()),
            0..300,
        ),
    ) {
        let mut buf = b"POST /x?y HTTP/1.1\r\nContent-Length: 1\r\n".to_vec();
        buf.extend_from_slice(&bytes);
        if let Ok(Some((h, n))) = parse(&buf) {
            prop_assert!(n <= buf.len());
            prop_assert!(h.headers.len() <= 64);
        }
    }
}
