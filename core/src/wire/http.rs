//! HTTP/1.1 codec: request heads, query strings, chunked request bodies and
//! responses.
//!
//! Everything here is sans-IO: the parsers look at caller-owned buffers and
//! report how many bytes they used, the writers append to a caller-owned
//! [`BytesMut`]. Nothing here reads the clock (so no `Date` header is
//! written), and no input can make these functions panic.

use std::borrow::Cow;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::{Decimal, Decode};

/// The largest number of header lines [`HeadDecoder`] can accept,
/// whatever [`HeadLimits::max_headers`] says.
///
/// The header slots live in a fixed-size stack array of this length.
pub const MAX_HEADERS_CAP: usize = 128;

/// HTTP request methods the server distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET`.
    #[default]
    Get,
    /// `POST`.
    Post,
    /// `OPTIONS`.
    Options,
    /// `HEAD`.
    Head,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
    /// Any other (syntactically valid) method.
    Other,
}

impl Method {
    /// Maps a method token (case-sensitive, as RFC 9110 requires) to a
    /// [`Method`].
    pub fn from_token(token: &str) -> Self {
        match token {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "OPTIONS" => Method::Options,
            "HEAD" => Method::Head,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            _ => Method::Other,
        }
    }
}

/// An owned, validated request head.
///
/// Header names are compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// The request method.
    pub method: Method,
    /// Raw path of the request target, before `?` (not percent-decoded).
    pub path: String,
    /// Raw query, after `?` and without it (`""` if none).
    pub query: String,
    /// `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub version_minor: u8,
    /// Whether the connection may be reused after this request.
    ///
    /// HTTP/1.1: true unless a `Connection` header has the `close` token.
    /// HTTP/1.0: true only with the `keep-alive` token (and no `close`), and
    /// never when the request has a `Transfer-Encoding` (RFC 9112 §6.1).
    pub keep_alive: bool,
    /// The `Content-Length`, if any (duplicates agree; checked).
    pub content_length: Option<u64>,
    /// Whether `Transfer-Encoding`'s last coding is `chunked`.
    pub chunked: bool,
    /// The first `Content-Type` header.
    pub content_type: Option<String>,
    /// The first `Origin` header.
    pub origin: Option<String>,
    /// `Upgrade: websocket` (case-insensitive) and a `Connection` header
    /// whose comma-separated tokens include `upgrade`.
    pub upgrade_websocket: bool,
    /// The first `Sec-WebSocket-Key` header.
    pub ws_key: Option<String>,
    /// The first `Sec-WebSocket-Version` header.
    pub ws_version: Option<String>,
    /// The first `Accept-Encoding` header.
    pub accept_encoding: Option<String>,
    /// The `Cookie` header; several `Cookie` headers are joined with `"; "`.
    pub cookie: Option<String>,
    /// Every header as (lower-cased name, value), in order; values that are
    /// not valid UTF-8 are lossily converted. Values are trimmed.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// Value of the first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Iterates over the values of every header with this
    /// (case-insensitive) name, in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request head was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadError {
    /// The head is larger than the limit (HTTP 431).
    #[error("request head too large")]
    TooLarge,
    /// More header lines than the limit (HTTP 431).
    #[error("too many headers")]
    TooManyHeaders,
    /// Not a valid HTTP/1.x request head, or an invalid `Content-Length`
    /// (conflicting duplicates, not a number), or both `Content-Length` and
    /// `Transfer-Encoding`, or a `Transfer-Encoding` whose last coding is not
    /// `chunked` (HTTP 400).
    #[error("malformed request head")]
    Malformed,
}

impl HeadError {
    /// The HTTP status code to answer with: 431, 431 or 400.
    pub fn status(&self) -> u16 {
        match self {
            HeadError::TooLarge | HeadError::TooManyHeaders => 431,
            HeadError::Malformed => 400,
        }
    }
}

/// Limits for head parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Largest accepted head, request line and final blank line included.
    pub max_head_bytes: usize,
    /// Largest accepted number of header lines (capped at
    /// [`MAX_HEADERS_CAP`]).
    pub max_headers: usize,
}

impl Default for HeadLimits {
    /// 16 KiB, 64 headers.
    fn default() -> Self {
        HeadLimits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
        }
    }
}

/// A complete request head, as [`HeadDecoder`] yields it.
#[derive(Debug)]
pub struct ParsedHead {
    /// The parsed head.
    pub head: RequestHead,
    /// The bytes it was parsed from, request line to blank line, split off the
    /// front of the caller's buffer without copying. A caller that needs the
    /// request again from its first byte (to hand the connection over) puts
    /// them back with [`BytesMut::unsplit`], which joins contiguous halves
    /// without copying.
    pub raw: BytesMut,
}

/// Incremental decoder of request heads ([`Decode`]), bounded by
/// [`HeadLimits`].
///
/// Holds no state between calls but its limits: each call parses `buf` from
/// its start (as httparse does), and leaves it untouched until the head is
/// complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadDecoder {
    limits: HeadLimits,
}

impl HeadDecoder {
    /// A decoder refusing heads over `limits`.
    pub fn new(limits: HeadLimits) -> Self {
        HeadDecoder { limits }
    }

    /// The limits given to [`HeadDecoder::new`].
    pub fn limits(&self) -> HeadLimits {
        self.limits
    }
}

impl Decode for HeadDecoder {
    type Item = ParsedHead;
    type Error = HeadError;

    /// Decodes a request head from the front of `buf`.
    ///
    /// * `Ok(Some(parsed))`: complete; the head's bytes (at most
    ///   `max_head_bytes`) are split off `buf` into `parsed.raw`. Whatever
    ///   follows stays in `buf`: body, or the next request.
    /// * `Ok(None)`: incomplete and still within limits; `buf` is untouched.
    /// * `Err`: invalid, or incomplete but already over `max_head_bytes`
    ///   ([`HeadError::TooLarge`]), or more than `max_headers` header lines
    ///   ([`HeadError::TooManyHeaders`]).
    ///
    /// Only the first `max_head_bytes` bytes of `buf` are ever looked at.
    /// Allocates only in proportion to the (bounded) head.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<ParsedHead>, HeadError> {
        Ok(parse(buf, self.limits)?.map(|(head, n)| ParsedHead {
            head,
            raw: buf.split_to(n),
        }))
    }
}

/// Parses a request head from the front of `buf`: [`HeadDecoder`] on a
/// borrowed buffer.
///
/// `Ok(Some((head, n)))` when complete, the head taking the first `n` bytes
/// (`n <= limits.max_head_bytes`); `Ok(None)` when incomplete and still
/// within limits; `Err` as [`HeadDecoder`] says. Never panics.
fn parse(buf: &[u8], limits: HeadLimits) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let window = &buf[..buf.len().min(limits.max_head_bytes)];
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS_CAP];
    let slot_count = limits.max_headers.min(MAX_HEADERS_CAP);
    let mut req = httparse::Request::new(&mut slots[..slot_count]);
    let len = match req.parse(window) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() > limits.max_head_bytes {
                Err(HeadError::TooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Malformed),
    };
    // `parse` only returns `Complete` once method, path and version are set;
    // treat their absence as malformed rather than unwrapping.
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HeadError::Malformed);
    };
    if version > 1 {
        return Err(HeadError::Malformed);
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };

    let mut head = RequestHead {
        method: Method::from_token(method),
        path: path.to_owned(),
        query: query.to_owned(),
        version_minor: version,
        headers: Vec::with_capacity(req.headers.len()),
        ..RequestHead::default()
    };

    let mut conn_close = false;
    let mut conn_keep_alive = false;
    let mut conn_upgrade = false;
    let mut upgrade_ws = false;
    let mut has_transfer_encoding = false;
    // Last transfer coding seen so far, across all Transfer-Encoding lines.
    let mut te_last_chunked = false;

    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).trim().to_owned();
        match name.as_str() {
            "connection" => {
                for token in tokens(&value) {
                    if token.eq_ignore_ascii_case("close") {
                        conn_close = true;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        conn_keep_alive = true;
                    } else if token.eq_ignore_ascii_case("upgrade") {
                        conn_upgrade = true;
                    }
                }
            }
            "upgrade" => {
                upgrade_ws |= tokens(&value).any(|t| t.eq_ignore_ascii_case("websocket"));
            }
            "content-length" => {
                let n = parse_content_length(&value).ok_or(HeadError::Malformed)?;
                match head.content_length {
                    Some(prev) if prev != n => return Err(HeadError::Malformed),
                    _ => head.content_length = Some(n),
                }
            }
            "transfer-encoding" => {
                has_transfer_encoding = true;
                for coding in value.split(',').map(|c| c.trim()) {
                    if coding.is_empty() {
                        continue;
                    }
                    // `chunked` must be the final coding and applied once
                    // (RFC 9112 §6.1); anything after it is an error.
                    if te_last_chunked {
                        return Err(HeadError::Malformed);
                    }
                    te_last_chunked = coding_is_chunked(coding);
                }
            }
            "content-type" => set_first(&mut head.content_type, &value),
            "origin" => set_first(&mut head.origin, &value),
            "sec-websocket-key" => set_first(&mut head.ws_key, &value),
            "sec-websocket-version" => set_first(&mut head.ws_version, &value),
            "accept-encoding" => set_first(&mut head.accept_encoding, &value),
            "cookie" => match &mut head.cookie {
                Some(c) => {
                    c.push_str("; ");
                    c.push_str(&value);
                }
                None => head.cookie = Some(value.clone()),
            },
            _ => {}
        }
        head.headers.push((name, value));
    }

    if has_transfer_encoding {
        // RFC 9112 §6.3: a request whose final coding is not `chunked` has
        // no determinable length, and Transfer-Encoding with Content-Length
        // is a smuggling vector; both are answered with 400.
        if !te_last_chunked || head.content_length.is_some() {
            return Err(HeadError::Malformed);
        }
        head.chunked = true;
    }

    head.keep_alive = if conn_close {
        false
    } else if version == 1 {
        true
    } else {
        conn_keep_alive && !has_transfer_encoding
    };
    head.upgrade_websocket = upgrade_ws && conn_upgrade;

    Ok(Some((head, len)))
}

/// Non-empty, trimmed, comma-separated tokens of a header value.
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// Whether a transfer coding (possibly with parameters) is `chunked`.
fn coding_is_chunked(coding: &str) -> bool {
    let name = coding.split(';').next().unwrap_or("").trim();
    name.eq_ignore_ascii_case("chunked")
}

fn set_first(slot: &mut Option<String>, value: &str) {
    if slot.is_none() {
        *slot = Some(value.to_owned());
    }
}

/// A `Content-Length` value: one or more ASCII digits, fitting in a `u64`.
fn parse_content_length(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// First value of `key` in a raw query string (`a=1&b=2`), percent-decoded
/// with `+` as space.
///
/// Keys are compared after decoding. Invalid percent escapes are kept
/// literally; escapes that decode to invalid UTF-8 are lossily converted. A
/// key with no `=` has value `""`. Empty segments (`a=1&&b=2`) are skipped.
/// The result borrows from `query` when no decoding was needed.
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    query_segments(query)
        .find(|(k, _)| decode_component(k) == key)
        .map(|(_, v)| decode_component(v))
}

/// All pairs of a raw query string, in order, decoded as in
/// [`query_param`].
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query_segments(query)
        .map(|(k, v)| {
            (
                decode_component(k).into_owned(),
                decode_component(v).into_owned(),
            )
        })
        .collect()
}

/// Raw (key, value) segments of a query string, empty segments skipped.
fn query_segments(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|s| s.split_once('=').unwrap_or((s, "")))
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode_component(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Why a request body was rejected.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// The decoded body would be larger than the limit (HTTP 413).
    #[error("request body too large")]
    TooLarge,
    /// Not a valid chunked body, or its framing overhead (size line,
    /// extensions, trailers) is over the decoder's bounds (HTTP 400).
    #[error("malformed chunked body")]
    Malformed,
}

impl BodyError {
    /// The HTTP status code to answer with: 413 or 400.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::TooLarge => 413,
            BodyError::Malformed => 400,
        }
    }
}

/// Longest accepted chunk size line (size digits, extensions, CRLF).
pub const MAX_CHUNK_LINE: usize = 1024;
/// Most chunk-extension bytes accepted over a whole body.
///
/// Bounds how much input can be consumed per decoded byte (tiny chunks with
/// long extensions).
pub const MAX_CHUNK_EXTENSIONS: usize = 16 * 1024;
/// Most trailer-section bytes accepted (trailers are ignored).
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading the hex digits of a chunk size.
    Size,
    /// After the size digits: optional whitespace, then `;` or CR.
    SizeWs,
    /// Inside chunk extensions, up to CR.
    SizeExt,
    /// Size line seen CR; expect LF.
    SizeLf,
    /// Copying chunk data.
    Data,
    /// After chunk data; expect CR.
    DataCr,
    /// After chunk data and CR; expect LF.
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    /// Inside a trailer line, up to CR.
    TrailerLine,
    /// A trailer line saw CR; expect LF.
    TrailerLf,
    /// The final empty line saw CR; expect LF.
    EndLf,
    /// The body is complete.
    Done,
}

/// Incremental decoder of a request body ([`Decode`]), framed by
/// `Content-Length` or by `Transfer-Encoding: chunked`, and bounded by a
/// maximum body size. Yields the whole body as one [`Bytes`] once complete.
///
/// * `Ok(Some(body))`: the body is complete and its bytes (and framing) are
///   removed from the front of `buf`; what follows is the next request.
/// * `Ok(None)`: more bytes are needed; all of `buf` has been used, body
///   bytes moving into the decoder. A body of known length found whole in
///   `buf` is split off it without copying instead.
/// * `Err`: [`BodyError::TooLarge`] (as soon as a `Content-Length` or a chunk
///   size shows the body would pass the limit, before any of it is read) or
///   [`BodyError::Malformed`] chunked framing. Once an error has been
///   returned, every later call returns the same error.
///
/// Chunked bodies: chunk extensions and trailers are ignored, and any split
/// of the input across calls is fine (even one byte at a time). Line endings
/// must be CRLF. A chunk size line longer than [`MAX_CHUNK_LINE`], more than
/// [`MAX_CHUNK_EXTENSIONS`] extension bytes in total, more than
/// [`MAX_TRAILER_BYTES`] of trailers, or a size that overflows `u64` is
/// [`BodyError::Malformed`].
///
/// After its body, a decoder is spent: it returns `Ok(None)` and leaves
/// `buf` alone.
#[derive(Debug)]
pub struct BodyDecoder {
    framing: Framing,
    /// The body so far, when it arrives in pieces.
    body: BytesMut,
}

#[derive(Debug)]
enum Framing {
    /// `Content-Length`: body bytes still to come.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// The body has been yielded.
    Done,
}

impl BodyDecoder {
    /// The decoder of the body of a request with this head: chunked when
    /// [`RequestHead::chunked`], else of [`RequestHead::content_length`] bytes
    /// (none without one). [`BodyError::TooLarge`] when the length is over
    /// `max_body`.
    pub fn new(head: &RequestHead, max_body: usize) -> Result<Self, BodyError> {
        if head.chunked {
            return Ok(Self::chunked(max_body));
        }
        Self::with_length(head.content_length.unwrap_or(0), max_body)
    }

    /// A decoder of a body of `len` bytes; [`BodyError::TooLarge`] when `len`
    /// is over `max_body`.
    pub fn with_length(len: u64, max_body: usize) -> Result<Self, BodyError> {
        match usize::try_from(len) {
            Ok(len) if len <= max_body => Ok(BodyDecoder {
                framing: Framing::Length(len),
                body: BytesMut::new(),
            }),
            _ => Err(BodyError::TooLarge),
        }
    }

    /// A decoder of a chunked body of at most `max_body` decoded bytes.
    pub fn chunked(max_body: usize) -> Self {
        BodyDecoder {
            framing: Framing::Chunked(Chunked::new(max_body)),
            body: BytesMut::new(),
        }
    }
}

impl Decode for BodyDecoder {
    type Item = Bytes;
    type Error = BodyError;

    /// Decodes the body from the front of `buf`, as the [type docs](BodyDecoder) say.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, BodyError> {
        let done = match &mut self.framing {
            Framing::Done => return Ok(None),
            Framing::Length(0) => true,
            Framing::Length(remaining) => {
                let remaining_now = *remaining;
                if self.body.is_empty() && buf.len() >= remaining_now {
                    self.framing = Framing::Done;
                    return Ok(Some(buf.split_to(remaining_now).freeze()));
                }
                let take = remaining_now.min(buf.len());
                if self.body.is_empty() {
                    self.body.reserve(remaining_now);
                }
                self.body.extend_from_slice(&buf[..take]);
                buf.advance(take);
                *remaining -= take;
                *remaining == 0
            }
            Framing::Chunked(chunked) => {
                let (used, done) = chunked.decode(buf, &mut self.body)?;
                buf.advance(used);
                done
            }
        };
        if !done {
            return Ok(None);
        }
        self.framing = Framing::Done;
        Ok(Some(std::mem::take(&mut self.body).freeze()))
    }
}

/// The state machine of chunked framing, bounded by a maximum decoded size.
#[derive(Debug)]
struct Chunked {
    max_body: usize,
    state: ChunkState,
    /// The error returned earlier, if any; the decoder is then poisoned.
    error: Option<BodyError>,
    /// Total body bytes decoded so far (`<= max_body`).
    decoded: u64,
    /// Chunk size being parsed, or data bytes left in the current chunk.
    size: u64,
    /// Whether the current size line has at least one digit.
    saw_digit: bool,
    /// Bytes of the current size line so far.
    line_len: usize,
    /// Extension bytes over the whole body so far.
    ext_total: usize,
    /// Trailer bytes so far.
    trailer_total: usize,
}

impl Chunked {
    /// A decoder that accepts at most `max_body` decoded body bytes.
    fn new(max_body: usize) -> Self {
        Chunked {
            max_body,
            state: ChunkState::Size,
            error: None,
            decoded: 0,
            size: 0,
            saw_digit: false,
            line_len: 0,
            ext_total: 0,
            trailer_total: 0,
        }
    }

    /// Decodes from `input`, appending body bytes to `out`.
    ///
    /// Returns (bytes of input consumed, done). While not done, all of
    /// `input` is consumed. After `done == true`, the bytes of input past the
    /// consumed count belong to the next request. `Err(TooLarge)` as soon as
    /// a chunk size shows the decoded size would pass `max_body` (before any
    /// of that chunk is appended); an error is returned again on every later
    /// call.
    fn decode(&mut self, input: &[u8], out: &mut BytesMut) -> Result<(usize, bool), BodyError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.decode_inner(input, out);
        if let Err(e) = &result {
            self.error = Some(e.clone());
        }
        result
    }

    fn decode_inner(
        &mut self,
        input: &[u8],
        out: &mut BytesMut,
    ) -> Result<(usize, bool), BodyError> {
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                ChunkState::Done => return Ok((pos, true)),
                ChunkState::Data => {
                    let avail = input.len() - pos;
                    // `size` may exceed usize on 32-bit targets; clamp first.
                    let take = usize::try_from(self.size).unwrap_or(usize::MAX).min(avail);
                    out.extend_from_slice(&input[pos..pos + take]);
                    pos += take;
                    self.size -= take as u64;
                    if self.size == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    continue;
                }
                _ => {}
            }
            let b = input[pos];
            pos += 1;
            self.step(b)?;
        }
        Ok((pos, self.state == ChunkState::Done))
    }

    fn enter(&mut self, state: ChunkState) -> Result<(), BodyError> {
        self.state = state;
        Ok(())
    }

    /// Advances the framing state machine by one byte (not in `Data`).
    fn step(&mut self, b: u8) -> Result<(), BodyError> {
        match self.state {
            ChunkState::Size | ChunkState::SizeWs | ChunkState::SizeExt => {
                self.line_len += 1;
                if self.line_len > MAX_CHUNK_LINE {
                    return Err(BodyError::Malformed);
                }
                if self.state == ChunkState::Size {
                    if let Some(d) = hex_value(b) {
                        self.size = self
                            .size
                            .checked_mul(16)
                            .and_then(|s| s.checked_add(u64::from(d)))
                            .ok_or(BodyError::Malformed)?;
                        self.saw_digit = true;
                        return Ok(());
                    }
                    if !self.saw_digit {
                        return Err(BodyError::Malformed);
                    }
                    // First byte after the digits: the size is final.
                    let room = (self.max_body as u64).saturating_sub(self.decoded);
                    if self.size > room {
                        return Err(BodyError::TooLarge);
                    }
                    self.state = ChunkState::SizeWs;
                }
                self.state = match (self.state, b) {
                    (_, b'\r') => return self.enter(ChunkState::SizeLf),
                    (ChunkState::SizeWs, b' ' | b'\t') => ChunkState::SizeWs,
                    (ChunkState::SizeWs, b';') => ChunkState::SizeExt,
                    (ChunkState::SizeExt, b) if ext_byte_ok(b) => ChunkState::SizeExt,
                    _ => return Err(BodyError::Malformed),
                };
                // Whitespace and extension bytes count against the budget.
                self.ext_total += 1;
                if self.ext_total > MAX_CHUNK_EXTENSIONS {
                    return Err(BodyError::Malformed);
                }
                Ok(())
            }
            ChunkState::SizeLf => {
                // The bound counts the whole line, CRLF included: the LF
                // needs one more byte of room after the CR.
                if b != b'\n' || self.line_len >= MAX_CHUNK_LINE {
                    return Err(BodyError::Malformed);
                }
                self.line_len = 0;
                self.saw_digit = false;
                if self.size == 0 {
                    self.state = ChunkState::TrailerStart;
                } else {
                    self.decoded += self.size;
                    self.state = ChunkState::Data;
                }
                Ok(())
            }
            ChunkState::DataCr => {
                if b != b'\r' {
                    return Err(BodyError::Malformed);
                }
                self.state = ChunkState::DataLf;
                Ok(())
            }
            ChunkState::DataLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                self.size = 0;
                self.state = ChunkState::Size;
                Ok(())
            }
            ChunkState::TrailerStart | ChunkState::TrailerLine | ChunkState::TrailerLf => {
                self.trailer_total += 1;
                if self.trailer_total > MAX_TRAILER_BYTES {
                    return Err(BodyError::Malformed);
                }
                self.state = match (self.state, b) {
                    (ChunkState::TrailerStart, b'\r') => ChunkState::EndLf,
                    (ChunkState::TrailerLf, b'\n') => ChunkState::TrailerStart,
                    (ChunkState::TrailerLf, _) => return Err(BodyError::Malformed),
                    (_, b'\r') => ChunkState::TrailerLf,
                    (_, b) if trailer_byte_ok(b) => ChunkState::TrailerLine,
                    _ => return Err(BodyError::Malformed),
                };
                Ok(())
            }
            ChunkState::EndLf => {
                if b != b'\n' {
                    return Err(BodyError::Malformed);
                }
                self.state = ChunkState::Done;
                Ok(())
            }
            // Handled by the caller; never stepped.
            ChunkState::Data | ChunkState::Done => Ok(()),
        }
    }
}

/// Bytes allowed in chunk extensions, before CR: HTAB, SP, visible ASCII
/// and obs-text. No bare LF or other controls.
fn ext_byte_ok(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// Bytes allowed inside a trailer line (before its CR).
fn trailer_byte_ok(b: u8) -> bool {
    ext_byte_ok(b)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `buf` with a [`HeadDecoder`] and checks what the decoder left
    /// in the buffer: `Ok(Some((head, n)))` when the head took the first `n`
    /// bytes.
    fn parse_with(
        buf: &[u8],
        limits: HeadLimits,
    ) -> Result<Option<(RequestHead, usize)>, HeadError> {
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

    fn parse_ok(buf: &[u8]) -> (RequestHead, usize) {
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

    // ---------------------------------------------------------------
    // Request heads
    // ---------------------------------------------------------------

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
            let raw =
                format!("POST / HTTP/1.1\r\nContent-Length: {a}\r\ncontent-length: {b}\r\n\r\n");
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

    // ---------------------------------------------------------------
    // Query strings
    // ---------------------------------------------------------------

    #[test]
    fn query_basic() {
        let q = "EIO=4&transport=polling&sid=abc";
        assert_eq!(query_param(q, "EIO").as_deref(), Some("4"));
        assert_eq!(query_param(q, "transport").as_deref(), Some("polling"));
        assert_eq!(query_param(q, "sid").as_deref(), Some("abc"));
        assert_eq!(query_param(q, "eio"), None);
        assert_eq!(query_param(q, "t"), None);
        assert_eq!(query_param("", "a"), None);
        assert!(matches!(query_param(q, "sid"), Some(Cow::Borrowed("abc"))));
    }

    #[test]
    fn query_decoding() {
        let q = "a=hello+world&b=%41%62%2B&c=caf%C3%A9&d=a=b=c";
        assert_eq!(query_param(q, "a").as_deref(), Some("hello world"));
        assert_eq!(query_param(q, "b").as_deref(), Some("Ab+"));
        assert_eq!(query_param(q, "c").as_deref(), Some("café"));
        assert_eq!(query_param(q, "d").as_deref(), Some("a=b=c"));
        // Keys are compared after decoding.
        assert_eq!(query_param("%65io=4&my+key=v", "eio").as_deref(), Some("4"));
        assert_eq!(
            query_param("%65io=4&my+key=v", "my key").as_deref(),
            Some("v")
        );
        assert_eq!(query_param("%65io=4", "%65io"), None);
    }

    #[test]
    fn query_missing_equals_and_empty_segments() {
        let q = "flag&&a=1&=anon&b=";
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "a").as_deref(), Some("1"));
        assert_eq!(query_param(q, "").as_deref(), Some("anon"));
        assert_eq!(query_param(q, "b").as_deref(), Some(""));
        assert_eq!(
            query_pairs(q),
            [("flag", ""), ("a", "1"), ("", "anon"), ("b", "")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn query_repeated_keys() {
        let q = "a=1&b=2&a=3";
        assert_eq!(query_param(q, "a").as_deref(), Some("1"));
        assert_eq!(
            query_pairs(q),
            [("a", "1"), ("b", "2"), ("a", "3")].map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn query_invalid_escapes_kept() {
        assert_eq!(query_param("a=%zz", "a").as_deref(), Some("%zz"));
        assert_eq!(query_param("a=%4", "a").as_deref(), Some("%4"));
        assert_eq!(query_param("a=%", "a").as_deref(), Some("%"));
        assert_eq!(query_param("a=100%25%", "a").as_deref(), Some("100%%"));
        assert_eq!(query_param("a=%%41", "a").as_deref(), Some("%A"));
        assert_eq!(query_param("a=%4g+", "a").as_deref(), Some("%4g "));
    }

    #[test]
    fn query_non_utf8_is_lossy() {
        assert_eq!(
            query_param("a=%ff%fe", "a").as_deref(),
            Some("\u{fffd}\u{fffd}")
        );
        assert_eq!(query_param("a=x%C3", "a").as_deref(), Some("x\u{fffd}"));
        assert_eq!(
            query_pairs("%ff=1"),
            [("\u{fffd}".to_owned(), "1".to_owned())]
        );
    }

    fn form_encode(s: &str) -> String {
        let mut out = String::new();
        for &b in s.as_bytes() {
            match b {
                b' ' => out.push('+'),
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }

    proptest! {
        #[test]
        fn prop_query_roundtrip(pairs in prop::collection::vec((".{0,8}", ".{0,8}"), 0..6)) {
            let q = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            // Pairs that encode to an empty segment ("=" is never empty, so
            // all of them survive).
            prop_assert_eq!(query_pairs(&q), pairs.clone());
            for (k, _) in &pairs {
                let first = pairs.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v.as_str());
                let got = query_param(&q, k);
                prop_assert_eq!(got.as_deref(), first);
            }
        }

        #[test]
        fn prop_query_arbitrary_never_panics(q in ".{0,40}", key in ".{0,4}") {
            let _ = query_param(&q, &key);
            let _ = query_pairs(&q);
        }
    }

    // ---------------------------------------------------------------
    // Chunked bodies
    // ---------------------------------------------------------------

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

    // ---------------------------------------------------------------
    // Responses
    // ---------------------------------------------------------------

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
            &b"previousHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                [..]
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
}
