//! What the clients read and write: pre-encoded, pre-masked client frames, a reader of the
//! server's unmasked frames, and a reader of HTTP/1.1 responses.

use std::borrow::Cow;

use corelay_core::wire::ws::{encode_client_frame, OpCode};

/// The mask of every client frame. RFC 6455 asks for a fresh mask per frame; servers can not
/// tell, and a fixed one lets a frame be encoded and masked once and sent many times.
pub const MASK: [u8; 4] = [0x9e, 0x3c, 0x51, 0xa7];

/// A masked text frame carrying `payload` (an Engine.IO packet).
pub fn text_frame(payload: &[u8]) -> Vec<u8> {
    encode_client_frame(OpCode::Text, true, payload, MASK)
}

/// A masked close frame with code 1000.
pub fn close_frame() -> Vec<u8> {
    encode_client_frame(OpCode::Close, true, &1000u16.to_be_bytes(), MASK)
}

/// A masked pong control frame echoing `payload`.
pub fn pong_frame(payload: &[u8]) -> Vec<u8> {
    encode_client_frame(OpCode::Pong, true, payload, MASK)
}

/// An Engine.IO message carrying a Socket.IO EVENT of namespace `/`: `42` + `["event",...]`,
/// with `ack` as its ack id when given.
pub fn event_packet(event: &str, string_arg: &str, ack: Option<u32>) -> Vec<u8> {
    let mut p = b"42".to_vec();
    if let Some(id) = ack {
        p.extend_from_slice(id.to_string().as_bytes());
    }
    p.extend_from_slice(
        serde_json::to_string(&(event, string_arg))
            .expect("strings serialize")
            .as_bytes(),
    );
    p
}

/// A payload of `n` ASCII bytes (no JSON escapes), so a packet's size is known exactly.
pub fn payload(n: usize) -> String {
    (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect()
}

/// One server frame at the start of a buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    /// Offset of the payload in the buffer.
    pub start: usize,
    /// Total length of the frame (header and payload).
    pub len: usize,
}

/// Reads the frame at the start of `buf`: `Ok(None)` while incomplete, `Err` for a masked or
/// oversized frame (servers never mask).
pub fn parse_frame(buf: &[u8]) -> Result<Option<Frame>, &'static str> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b1 & 0x80 != 0 {
        return Err("masked server frame");
    }
    let (start, len) = match b1 & 0x7f {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (4, u16::from_be_bytes([buf[2], buf[3]]) as u64)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (10, u64::from_be_bytes(b))
        }
        n => (2, n as u64),
    };
    if len > (1 << 30) {
        return Err("frame too large");
    }
    let total = start + len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0f,
        start,
        len: total,
    }))
}

/// One HTTP response at the start of a buffer.
#[derive(Debug)]
pub enum Response<'a> {
    /// Needs more bytes.
    Partial,
    /// Not a response this client understands (and why).
    #[allow(dead_code)]
    Bad(&'static str),
    /// A whole response of `len` bytes.
    Done {
        status: u16,
        body: Cow<'a, [u8]>,
        len: usize,
    },
}

/// Reads the response at the start of `buf` (Content-Length or chunked bodies; 101 has none).
pub fn parse_response(buf: &[u8]) -> Response<'_> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut headers);
    let head = match res.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Response::Partial,
        Err(_) => return Response::Bad("malformed response head"),
    };
    let status = res.code.unwrap_or(0);
    let mut length = None;
    let mut chunked = false;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = h
                .value
                .windows(7)
                .any(|w| w.eq_ignore_ascii_case(b"chunked"));
        }
    }
    if status == 101 || status == 204 || status == 304 {
        return Response::Done {
            status,
            body: Cow::Borrowed(&[]),
            len: head,
        };
    }
    if chunked {
        return match dechunk(&buf[head..]) {
            Ok(Some((body, used))) => Response::Done {
                status,
                body: Cow::Owned(body),
                len: head + used,
            },
            Ok(None) => Response::Partial,
            Err(e) => Response::Bad(e),
        };
    }
    let Some(length) = length else {
        return Response::Bad("response without a length");
    };
    if buf.len() < head + length {
        return Response::Partial;
    }
    Response::Done {
        status,
        body: Cow::Borrowed(&buf[head..head + length]),
        len: head + length,
    }
}

/// Decodes a chunked body: the body and the bytes used, `None` while incomplete.
fn dechunk(mut buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, &'static str> {
    let total = buf.len();
    let mut body = Vec::new();
    loop {
        let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[..eol]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        buf = &buf[eol + 2..];
        if size == 0 {
            // Trailers end with an empty line; none are expected.
            let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
                return Ok(None);
            };
            buf = &buf[end + 2..];
            return Ok(Some((body, total - buf.len())));
        }
        if buf.len() < size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[..size]);
        buf = &buf[size + 2..];
    }
}

/// The value of `"key":"..."` in a JSON object, found without parsing (the open packet's
/// `sid`).
pub fn json_str<'a>(json: &'a [u8], key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let at = json.windows(pat.len()).position(|w| w == pat.as_bytes())? + pat.len();
    let end = json[at..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&json[at..at + end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_every_length_form() {
        for n in [0usize, 5, 125, 126, 1000, 70_000] {
            let payload = vec![b'x'; n];
            let f = corelay_core::wire::ws::encode_frame(OpCode::Text, &payload);
            let frame = parse_frame(&f).unwrap().unwrap();
            assert_eq!(frame.len, f.len());
            assert_eq!(&f[frame.start..frame.len], &payload[..]);
            assert!(parse_frame(&f[..f.len() - 1]).unwrap().is_none() || n == 0);
        }
    }

    #[test]
    fn responses() {
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP";
        match parse_response(r) {
            Response::Done { status, body, len } => {
                assert_eq!((status, &body[..], len), (200, &b"ok"[..], r.len() - 4));
            }
            other => panic!("{other:?}"),
        }
        let c =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n1\r\n!\r\n0\r\n\r\n";
        match parse_response(c) {
            Response::Done { body, len, .. } => {
                assert_eq!((&body[..], len), (&b"ok!"[..], c.len()))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_response(&c[..c.len() - 1]),
            Response::Partial
        ));
        let u = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x01a";
        assert!(
            matches!(parse_response(u), Response::Done { status: 101, len, .. } if len == u.len() - 3)
        );
    }

    #[test]
    fn sid_without_parsing() {
        assert_eq!(
            json_str(br#"0{"sid":"abc","upgrades":[]}"#, "sid"),
            Some("abc")
        );
        assert_eq!(
            event_packet("echo", "hi", Some(1)),
            br#"421["echo","hi"]"#.to_vec()
        );
    }
}
