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
    let xor = |chunk: &mut [u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    };
    // 32 bytes a turn, four words, whatever the compiler's unrolling decisions.
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        let (a, rest) = block.split_at_mut(8);
        let (b, rest) = rest.split_at_mut(8);
        let (c, d) = rest.split_at_mut(8);
        xor(a);
        xor(b);
        xor(c);
        xor(d);
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for word in &mut words {
        xor(word);
    }
    // Full blocks and words are multiples of 4 bytes, so the tail starts at mask index 0.
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
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
mod tests;
