use bytes::BytesMut;

use crate::wire::http::*;

#[test]
fn reasons() {
    let table = [
        (101, "Switching Protocols"),
        (200, "OK"),
        (204, "No Content"),
        (400, "Bad Request"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (411, "Length Required"),
        (413, "Payload Too Large"),
        (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (503, "Service Unavailable"),
        (0, "Unknown"),
        (302, "Unknown"),
        (999, "Unknown"),
    ];
    for (code, text) in table {
        assert_eq!(reason(code), text, "{code}");
    }
}

#[test]
fn response_byte_exact() {
    let mut out = BytesMut::new();
    write_response(
        &mut out,
        200,
        &[
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("Access-Control-Allow-Origin", "http://a.example"),
        ],
        b"0{\"sid\":\"x\"}",
        true,
    );
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 200 OK\r\n\
        Content-Type: text/plain; charset=UTF-8\r\n\
        Access-Control-Allow-Origin: http://a.example\r\n\
        Content-Length: 12\r\n\
        Connection: keep-alive\r\n\
        \r\n\
        0{\"sid\":\"x\"}"[..]
    );
}

#[test]
fn response_appends_and_close() {
    let mut out = BytesMut::from(&b"previous"[..]);
    write_response(&mut out, 400, &[], b"", false);
    assert_eq!(
        &out[..],
        &b"previousHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..]
    );
}

#[test]
fn response_head_variants() {
    let mut out = BytesMut::new();
    write_response_head(&mut out, 200, &[("X-A", "1")], None, false);
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 200 OK\r\nX-A: 1\r\nConnection: close\r\n\r\n"[..]
    );

    let mut out = BytesMut::new();
    write_response_head(&mut out, 503, &[], Some(1234567), true);
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1234567\r\nConnection: keep-alive\r\n\r\n"[..]
    );

    let mut out = BytesMut::new();
    write_response_head(&mut out, 299, &[], Some(0), true);
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"[..]
    );
}

#[test]
fn response_no_length_for_204_and_1xx() {
    let mut out = BytesMut::new();
    write_response(
        &mut out,
        204,
        &[("Access-Control-Allow-Methods", "GET, POST")],
        b"",
        true,
    );
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Methods: GET, POST\r\nConnection: keep-alive\r\n\r\n"[..]
    );
}

#[test]
fn response_websocket_handshake() {
    let mut out = BytesMut::new();
    write_response_head(
        &mut out,
        101,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        ],
        None,
        true,
    );
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        \r\n"[..]
    );
}

#[test]
fn response_header_injection_is_neutralized() {
    let mut out = BytesMut::new();
    write_response_head(
        &mut out,
        200,
        &[
            ("X-Echo", "a\r\nSet-Cookie: evil=1\r\n\r\n<html>"),
            ("X\n-N", "v\0"),
        ],
        Some(0),
        false,
    );
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 200 OK\r\n\
        X-Echo: aSet-Cookie: evil=1<html>\r\n\
        X-N: v\r\n\
        Content-Length: 0\r\n\
        Connection: close\r\n\
        \r\n"[..]
    );
}

#[test]
fn header_names_are_tokens_and_values_have_no_controls() {
    for name in ["X-Powered-By", "set-cookie", "a", "!#$%&'*+-.^_`|~09az"] {
        assert!(is_valid_header_name(name), "{name:?}");
    }
    for name in ["", "X Y", "X:Y", "X\r\nY", "X\n", "é", "(x)", "x\0"] {
        assert!(!is_valid_header_name(name), "{name:?}");
    }
    for value in ["", "a b\tc", "\u{e9}t\u{e9}", "x=1; Path=/; HttpOnly"] {
        assert!(is_valid_header_value(value), "{value:?}");
    }
    for value in ["a\r\nb", "a\n", "\r", "a\0", "\x7f", "\x01"] {
        assert!(!is_valid_header_value(value), "{value:?}");
    }
}

#[test]
fn response_parses_back_as_http() {
    // The writer's output is a valid HTTP/1.1 response per httparse.
    let mut out = BytesMut::new();
    write_response(
        &mut out,
        404,
        &[("Content-Type", "text/plain")],
        b"nope",
        true,
    );
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut resp = httparse::Response::new(&mut headers);
    let n = match resp.parse(&out) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(resp.code, Some(404));
    assert_eq!(resp.reason, Some("Not Found"));
    assert_eq!(&out[n..], b"nope");
}
