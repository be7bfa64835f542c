//! Request heads: the request line and header section of an HTTP/1.0 or 1.1
//! request, parsed with `httparse` into an owned [`RequestHead`] by
//! [`HeadDecoder`].
//!
//! Refused ([`HeadError`]): any other version, malformed syntax (obsolete line
//! folding included), a head over [`HeadLimits::max_head_bytes`] or with more
//! than [`HeadLimits::max_headers`] header lines, a conflicting or non-numeric
//! `Content-Length`, and a `Transfer-Encoding` whose last coding is not
//! `chunked` or that comes with a `Content-Length` (RFC 9112 §6.1, §6.3).

use bytes::BytesMut;

use crate::wire::Decode;

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
