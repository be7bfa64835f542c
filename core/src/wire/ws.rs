//! Server side of the WebSocket protocol (RFC 6455), sans-IO.
//!
//! * Handshake: [`accept_key`] and [`write_handshake_response`]. Parsing the
//!   HTTP upgrade request itself is the job of the HTTP head parser.
//! * Receiving: [`Decoder`] ([`Decode`]) consumes masked client frames from a
//!   caller-owned [`BytesMut`], unmasks them in place and yields whole [`Message`]s.
//!   Unfragmented frames are handed out zero-copy (a `split_to(..).freeze()` of
//!   the caller's buffer); only fragmented messages are copied into an
//!   assembly buffer.
//! * Sending: [`frame_header`] is the one writer of server frame headers;
//!   [`header_len`], [`write_frame_header`], [`write_frame`], [`encode_frame`]
//!   and [`encode_close`] produce unmasked server frames with it.
//!
//! No extensions are ever negotiated, so all RSV bits must be clear.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::Decode;

/// The GUID of RFC 6455 section 1.3.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Largest payload of a control frame (RFC 6455 section 5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Largest close reason that fits a control frame next to the 2-byte code.
pub const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (base64 of SHA-1 of key + GUID).
///
/// Optional whitespace (SP / HTAB) around `key`, which is not part of the
/// header value, is ignored.
pub fn accept_key(key: &str) -> String {
    use base64::Engine as _;
    use sha1::{Digest as _, Sha1};

    let key = key.trim_matches(|c| c == ' ' || c == '\t');
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Writes the `HTTP/1.1 101 Switching Protocols` response with `Upgrade: websocket`,
/// `Connection: Upgrade`, `Sec-WebSocket-Accept`, plus `extra_headers`, and the blank line.
///
/// Header names and values are written verbatim: the caller must not pass
/// values containing CR or LF.
pub fn write_handshake_response(out: &mut BytesMut, accept: &str, extra_headers: &[(&str, &str)]) {
    const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Accept: ";
    let extra: usize = extra_headers
        .iter()
        .map(|(name, value)| name.len() + value.len() + 4)
        .sum();
    out.reserve(HEAD.len() + accept.len() + 2 + extra + 2);
    out.put_slice(HEAD);
    out.put_slice(accept.as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in extra_headers {
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"\r\n");
}

/// A frame opcode (RFC 6455 section 5.2). Reserved opcodes are not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    /// `0x0`: a non-first fragment of a data message.
    Continuation,
    /// `0x1`: the first (or only) frame of a UTF-8 text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: connection close.
    Close,
    /// `0x9`: ping.
    Ping,
    /// `0xA`: pong.
    Pong,
}

impl OpCode {
    /// The opcode for the low nibble `bits`, or `None` for a reserved value.
    pub const fn from_u8(bits: u8) -> Option<Self> {
        match bits {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (Close, Ping, Pong).
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// Close codes used by the server.
pub mod close_code {
    /// 1000: normal closure.
    pub const NORMAL: u16 = 1000;
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: u16 = 1001;
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: u16 = 1003;
    /// 1007: payload inconsistent with the message type (e.g. bad UTF-8).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// 1011: unexpected condition on the server.
    pub const INTERNAL_ERROR: u16 = 1011;

    /// Whether `code` may appear in a close frame on the wire: 1000-1003,
    /// 1007-1014 and 3000-4999.
    pub const fn is_allowed(code: u16) -> bool {
        matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// A complete message or control frame received from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message; the payload is validated UTF-8.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; the payload (at most 125 bytes) is to be echoed in a pong.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// Close frame: code and reason (reason validated UTF-8), or None for an empty close payload.
    Close(Option<(u16, Bytes)>),
}

/// Why the client's byte stream was refused. The connection is to be closed
/// with [`WsError::close_code`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsError {
    /// The client broke RFC 6455 framing rules.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// A text message or close reason is not valid UTF-8.
    #[error("invalid UTF-8 in text message")]
    InvalidUtf8,
    /// A frame or message is larger than the decoder's limit.
    #[error("message too big")]
    TooBig,
}

impl WsError {
    /// The close code to send: 1002, 1007, 1009.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::Protocol(_) => close_code::PROTOCOL_ERROR,
            Self::InvalidUtf8 => close_code::INVALID_PAYLOAD,
            Self::TooBig => close_code::MESSAGE_TOO_BIG,
        }
    }
}

/// XORs `buf` with the 4-byte WebSocket masking key, starting at mask index 0.
///
/// Works 8 bytes at a time (the compiler vectorizes the loop further).
/// Masking is an involution: applying it twice restores the input.
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let m = mask;
    let wide = u64::from_ne_bytes([m[0], m[1], m[2], m[3], m[0], m[1], m[2], m[3]]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // Full chunks are a multiple of 4 bytes, so the tail starts at mask index 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= m[i & 3];
    }
}

/// A fragmented data message being assembled.
struct Partial {
    /// Text (UTF-8 validated) rather than binary.
    text: bool,
    /// Payload received so far, unmasked.
    buf: BytesMut,
    /// `buf[..utf8_valid]` is known to be valid UTF-8; what follows is at most
    /// the first 3 bytes of a code point cut by a fragment boundary.
    utf8_valid: usize,
}

impl core::fmt::Debug for Partial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Partial")
            .field("text", &self.text)
            .field("len", &self.buf.len())
            .field("utf8_valid", &self.utf8_valid)
            .finish()
    }
}

impl Partial {
    /// Validates the bytes appended since the last call, failing as soon as a
    /// byte sequence can no longer become valid UTF-8.
    fn check_utf8(&mut self) -> Result<(), WsError> {
        match core::str::from_utf8(&self.buf[self.utf8_valid..]) {
            Ok(_) => self.utf8_valid = self.buf.len(),
            // Cut code point at the end: may be completed by the next fragment.
            Err(e) if e.error_len().is_none() => self.utf8_valid += e.valid_up_to(),
            Err(_) => return Err(WsError::InvalidUtf8),
        }
        Ok(())
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy)]
struct Head {
    fin: bool,
    opcode: OpCode,
    mask: [u8; 4],
    /// Bytes of header, including the masking key.
    header_len: usize,
    payload_len: usize,
}

/// Decodes client frames and assembles messages. Bounded: a message (or a single frame)
/// whose declared/accumulated payload passes `max_message` is refused with TooBig as soon
/// as its header is read, without waiting for or buffering its payload.
///
/// The limit applies to data messages; control frames are bounded by the
/// protocol's own 125-byte limit.
#[derive(Debug)]
pub struct Decoder {
    max_message: usize,
    partial: Option<Partial>,
}

impl Decoder {
    /// A decoder refusing data messages longer than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Self {
            max_message,
            partial: None,
        }
    }

    /// The message size limit given to [`Decoder::new`].
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// Whether a fragmented message has been started but not finished.
    pub fn in_fragmented_message(&self) -> bool {
        self.partial.is_some()
    }

    /// Copies one complete fragment (first, middle or last) from `buf` into the
    /// assembly buffer; returns the message when this was the last fragment.
    fn fragment(&mut self, buf: &mut BytesMut, head: Head) -> Result<Option<Message>, WsError> {
        let payload = &buf[head.header_len..head.header_len + head.payload_len];
        // `parse_head` refuses a continuation without a message in progress and
        // a new data frame while one is in progress, so this starts a message
        // exactly when `head` is its first frame.
        let partial = self.partial.get_or_insert_with(|| Partial {
            text: head.opcode == OpCode::Text,
            buf: BytesMut::with_capacity(head.payload_len),
            utf8_valid: 0,
        });
        let start = partial.buf.len();
        partial.buf.extend_from_slice(payload);
        apply_mask(&mut partial.buf[start..], head.mask);
        buf.advance(head.header_len + head.payload_len);
        if partial.text {
            partial.check_utf8()?;
        }
        if !head.fin {
            return Ok(None);
        }
        let Some(partial) = self.partial.take() else {
            return Err(WsError::Protocol("internal: no fragmented message"));
        };
        if partial.text {
            if partial.utf8_valid != partial.buf.len() {
                // Ends in the middle of a code point.
                return Err(WsError::InvalidUtf8);
            }
            Ok(Some(Message::Text(partial.buf.freeze())))
        } else {
            Ok(Some(Message::Binary(partial.buf.freeze())))
        }
    }

    /// Parses and checks the frame header at the front of `buf` without
    /// consuming anything. `Ok(None)` if the header is incomplete. Every check
    /// that can be made from the bytes present is made, so a bad frame is
    /// refused before its payload arrives.
    fn parse_head(&self, buf: &[u8]) -> Result<Option<Head>, WsError> {
        let (b0, b1) = match buf {
            [b0, b1, ..] => (*b0, *b1),
            _ => return Ok(None),
        };
        let fin = b0 & 0x80 != 0;
        if b0 & 0x70 != 0 {
            return Err(WsError::Protocol("reserved bit set"));
        }
        let Some(opcode) = OpCode::from_u8(b0 & 0x0F) else {
            return Err(WsError::Protocol("reserved opcode"));
        };
        if b1 & 0x80 == 0 {
            return Err(WsError::Protocol("unmasked client frame"));
        }
        let len7 = b1 & 0x7F;
        if opcode.is_control() {
            if !fin {
                return Err(WsError::Protocol("fragmented control frame"));
            }
            if usize::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(WsError::Protocol("control frame payload over 125 bytes"));
            }
        } else {
            match (opcode, self.partial.is_some()) {
                (OpCode::Continuation, false) => {
                    return Err(WsError::Protocol("continuation frame without a message"));
                }
                (OpCode::Text | OpCode::Binary, true) => {
                    return Err(WsError::Protocol("new message inside a fragmented message"));
                }
                _ => {}
            }
        }
        let (len, len_end) = match len7 {
            126 => match buf {
                [_, _, a, b, ..] => (u64::from(u16::from_be_bytes([*a, *b])), 4),
                _ => return Ok(None),
            },
            127 => match buf {
                [_, _, a, b, c, d, e, f, g, h, ..] => {
                    let len = u64::from_be_bytes([*a, *b, *c, *d, *e, *f, *g, *h]);
                    if len >> 63 != 0 {
                        return Err(WsError::Protocol("64-bit length with high bit set"));
                    }
                    (len, 10)
                }
                _ => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        if !opcode.is_control() {
            let so_far = self.partial.as_ref().map_or(0, |p| p.buf.len());
            let room = self.max_message.saturating_sub(so_far);
            if len > room as u64 {
                return Err(WsError::TooBig);
            }
        }
        // Bounded above by `max_message` or 125, so it fits.
        let payload_len = usize::try_from(len).map_err(|_| WsError::TooBig)?;
        let mask = match buf.get(len_end..len_end + 4) {
            Some(&[a, b, c, d]) => [a, b, c, d],
            _ => return Ok(None),
        };
        Ok(Some(Head {
            fin,
            opcode,
            mask,
            header_len: len_end + 4,
            payload_len,
        }))
    }
}

impl Decode for Decoder {
    type Item = Message;
    type Error = WsError;

    /// Consumes complete frames from the front of `buf` (advancing it) until one message or
    /// control frame is complete, and returns it. `Ok(None)`: `buf` holds no further complete
    /// frame (a partial frame stays in `buf`, untouched); call again when more bytes arrive.
    /// The fragments of a fragmented message are moved into the decoder as they arrive. After
    /// an `Err`, the connection is to be closed; the decoder need not be usable.
    ///
    /// Frames after the returned one are left in `buf`: call again until `Ok(None)`.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, WsError> {
        loop {
            let Some(head) = self.parse_head(buf)? else {
                return Ok(None);
            };
            // `parse_head` only returns once `buf` holds the whole header.
            if buf.len() - head.header_len < head.payload_len {
                return Ok(None);
            }
            match head.opcode {
                OpCode::Text | OpCode::Binary if head.fin => {
                    buf.advance(head.header_len);
                    let mut payload = buf.split_to(head.payload_len);
                    apply_mask(&mut payload, head.mask);
                    let payload = payload.freeze();
                    if head.opcode == OpCode::Binary {
                        return Ok(Some(Message::Binary(payload)));
                    }
                    if core::str::from_utf8(&payload).is_err() {
                        return Err(WsError::InvalidUtf8);
                    }
                    return Ok(Some(Message::Text(payload)));
                }
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    if let Some(message) = self.fragment(buf, head)? {
                        return Ok(Some(message));
                    }
                }
                OpCode::Close | OpCode::Ping | OpCode::Pong => {
                    buf.advance(head.header_len);
                    let mut payload = buf.split_to(head.payload_len);
                    apply_mask(&mut payload, head.mask);
                    let payload = payload.freeze();
                    return Ok(Some(match head.opcode {
                        OpCode::Ping => Message::Ping(payload),
                        OpCode::Pong => Message::Pong(payload),
                        _ => Message::Close(parse_close(payload)?),
                    }));
                }
            }
        }
    }
}

/// Parses and checks a close frame payload.
fn parse_close(payload: Bytes) -> Result<Option<(u16, Bytes)>, WsError> {
    match payload.len() {
        0 => Ok(None),
        1 => Err(WsError::Protocol("close payload of 1 byte")),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !close_code::is_allowed(code) {
                return Err(WsError::Protocol("close code not allowed on the wire"));
            }
            if core::str::from_utf8(&payload[2..]).is_err() {
                return Err(WsError::InvalidUtf8);
            }
            Ok(Some((code, payload.slice(2..))))
        }
    }
}

/// Length of a server (unmasked) frame header for this payload length: 2, 4 or 10.
pub const fn header_len(payload_len: usize) -> usize {
    if payload_len < 126 {
        2
    } else if payload_len <= 0xFFFF {
        4
    } else {
        10
    }
}

/// Longest server frame header: 2 bytes, then 8 of extended payload length (no masking key).
pub const MAX_HEADER_LEN: usize = 10;

/// The header of a server (unmasked) frame: FIN as given, no RSV bit, `opcode`, and the
/// shortest encoding of `payload_len`. Returns the bytes and how many of them are the header
/// (2, 4 or 10, as [`header_len`] says): the one writer of frame headers, used by every
/// encoder here and by the server's pre-framed packets.
pub fn frame_header(
    opcode: OpCode,
    fin: bool,
    payload_len: usize,
) -> ([u8; MAX_HEADER_LEN], usize) {
    let mut head = [0u8; MAX_HEADER_LEN];
    head[0] = (u8::from(fin) << 7) | opcode.as_u8();
    let n = header_len(payload_len);
    match n {
        2 => head[1] = payload_len as u8,
        4 => {
            head[1] = 126;
            head[2..4].copy_from_slice(&(payload_len as u16).to_be_bytes());
        }
        _ => {
            head[1] = 127;
            head[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
        }
    }
    (head, n)
}

/// Appends a server frame header (FIN as given, no mask, no RSV) for `payload_len` bytes.
pub fn write_frame_header(out: &mut BytesMut, opcode: OpCode, fin: bool, payload_len: usize) {
    let (head, n) = frame_header(opcode, fin, payload_len);
    out.put_slice(&head[..n]);
}

/// Appends a complete unfragmented server frame to `out`.
///
/// The caller keeps control payloads within 125 bytes.
pub fn write_frame(out: &mut BytesMut, opcode: OpCode, payload: &[u8]) {
    out.reserve(header_len(payload.len()) + payload.len());
    write_frame_header(out, opcode, true, payload.len());
    out.put_slice(payload);
}

/// A complete unfragmented server frame.
///
/// The caller keeps control payloads within 125 bytes.
pub fn encode_frame(opcode: OpCode, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(header_len(payload.len()) + payload.len());
    write_frame(&mut out, opcode, payload);
    out.freeze()
}

/// A server close frame with code and reason (reason truncated to fit 123 bytes at a char boundary).
pub fn encode_close(code: u16, reason: &str) -> Bytes {
    let mut cut = reason.len().min(MAX_CLOSE_REASON);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let reason = &reason.as_bytes()[..cut];
    let mut out = BytesMut::with_capacity(2 + 2 + reason.len());
    write_frame_header(&mut out, OpCode::Close, true, 2 + reason.len());
    out.put_u16(code);
    out.put_slice(reason);
    out.freeze()
}

/// A masked client frame, for tests and clients.
pub fn encode_client_frame(opcode: OpCode, fin: bool, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let (mut head, n) = frame_header(opcode, fin, payload.len());
    // The MASK bit: a masking key follows the length.
    head[1] |= 0x80;
    let mut out = Vec::with_capacity(n + 4 + payload.len());
    out.extend_from_slice(&head[..n]);
    out.extend_from_slice(&mask);
    out.extend_from_slice(payload);
    apply_mask(&mut out[n + 4..], mask);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
        encode_client_frame(opcode, fin, payload, MASK)
    }

    /// Decodes everything in `bytes` at once, collecting messages until `Ok(None)`.
    fn decode_all(dec: &mut Decoder, bytes: &[u8]) -> Result<Vec<Message>, WsError> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(m) = dec.decode(&mut buf)? {
            out.push(m);
        }
        Ok(out)
    }

    fn decode_one(bytes: &[u8]) -> Result<Option<Message>, WsError> {
        Decoder::new(1 << 20).decode(&mut BytesMut::from(bytes))
    }

    fn err_of(bytes: &[u8]) -> WsError {
        decode_one(bytes).expect_err("frame should be refused")
    }

    fn concat(frames: &[Vec<u8>]) -> Vec<u8> {
        frames.concat()
    }

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
}
