//! Responses: status line, headers and body, written to a caller-owned buffer.
//!
//! Nothing is refused, but nothing a caller passes can split a response: CR,
//! LF and NUL bytes are dropped from header names and values. No `Date`
//! header is written (the codec never reads the clock). Headers that come from
//! elsewhere (an application's hook) can be checked first with
//! [`is_valid_header_name`] and [`is_valid_header_value`].

use bytes::{BufMut, BytesMut};

use crate::wire::Decimal;

/// Reason phrase for a status code.
///
/// Known: 101, 200, 204, 400, 403, 404, 405, 411, 413, 431, 500, 501, 503;
/// anything else is `"Unknown"`.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a response head.
///
/// Writes `HTTP/1.1 <status> <reason>\r\n`, each header as
/// `Name: value\r\n`, then `Content-Length: <content_length>\r\n` (when
/// `Some`), then `Connection: keep-alive` or `Connection: close`, then the
/// blank line.
///
/// Exceptions, for correctness:
/// * For 1xx and 204 responses no `Content-Length` is written (RFC 9110
///   §8.6 forbids it), whatever `content_length` says.
/// * If `headers` has its own `Connection` header (e.g. `Connection: Upgrade`
///   on a 101), the automatic `Connection` header is not written.
/// * CR, LF and NUL bytes in header names and values are dropped, so a value
///   echoed from a request can never split the response.
pub fn write_response_head(
    out: &mut BytesMut,
    status: u16,
    headers: &[(&str, &str)],
    content_length: Option<usize>,
    keep_alive: bool,
) {
    let reason = reason(status);
    out.reserve(
        32 + reason.len()
            + headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>(),
    );
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(Decimal::new(u64::from(status)).as_bytes());
    out.put_u8(b' ');
    out.put_slice(reason.as_bytes());
    out.put_slice(b"\r\n");
    let mut own_connection = false;
    for (name, value) in headers {
        if name.trim().eq_ignore_ascii_case("connection") {
            own_connection = true;
        }
        put_sanitized(out, name);
        out.put_slice(b": ");
        put_sanitized(out, value);
        out.put_slice(b"\r\n");
    }
    let no_length = (100..200).contains(&status) || status == 204;
    if let (Some(len), false) = (content_length, no_length) {
        out.put_slice(b"Content-Length: ");
        out.put_slice(Decimal::new(len as u64).as_bytes());
        out.put_slice(b"\r\n");
    }
    if !own_connection {
        if keep_alive {
            out.put_slice(b"Connection: keep-alive\r\n");
        } else {
            out.put_slice(b"Connection: close\r\n");
        }
    }
    out.put_slice(b"\r\n");
}

/// Writes a whole response: the head as in [`write_response_head`] with
/// `Content-Length` = `body.len()`, then the body.
pub fn write_response(
    out: &mut BytesMut,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) {
    write_response_head(out, status, headers, Some(body.len()), keep_alive);
    out.extend_from_slice(body);
}

/// Whether `name` can be a header name: an RFC 9110 token (one or more letters, digits and
/// ``!#$%&'*+-.^_`|~``).
pub fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Whether `value` can be a header value: no control character but HTAB (so no CR, LF or
/// NUL), the rule of Node's `checkInvalidHeaderChar`.
pub fn is_valid_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (b >= 0x20 || b == b'\t') && b != 0x7f)
}

/// Appends `s` without CR, LF or NUL bytes.
fn put_sanitized(out: &mut BytesMut, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        out.put_slice(bytes);
        return;
    }
    for &b in bytes {
        if !matches!(b, b'\r' | b'\n' | 0) {
            out.put_u8(b);
        }
    }
}
