//! HTTP/1.1 codec: request heads, query strings, request bodies and responses.
//!
//! Everything here is sans-IO. The decoders, [`HeadDecoder`] and [`BodyDecoder`],
//! follow the [`Decode`](super::Decode) convention on a caller-owned read
//! buffer; the writers append to a caller-owned [`BytesMut`](bytes::BytesMut).
//! Nothing here reads the clock (so no `Date` header is written), and no input
//! can make these functions panic.
//!
//! * Request heads (HTTP/1.0 and 1.1): [`HeadDecoder`], [`RequestHead`]. Refused:
//!   other versions, malformed syntax, heads over [`HeadLimits`], conflicting or
//!   non-numeric `Content-Length`, and `Transfer-Encoding` that is not `chunked`
//!   last or comes with a `Content-Length` ([`HeadError`]).
//! * Query strings: [`query_param`], [`query_pairs`] (never refused: invalid
//!   escapes are kept literally).
//! * Request bodies, of `Content-Length` or chunked: [`BodyDecoder`]. Refused:
//!   bodies over the limit and malformed or oversized chunked framing
//!   ([`BodyError`]).
//! * Responses: [`write_response_head`], [`write_response`], [`reason`]; header
//!   names and values checked with [`is_valid_header_name`], [`is_valid_header_value`].

mod body;
mod head;
mod query;
mod response;

pub use body::{BodyDecoder, BodyError, MAX_CHUNK_EXTENSIONS, MAX_CHUNK_LINE, MAX_TRAILER_BYTES};
pub use head::{
    HeadDecoder, HeadError, HeadLimits, Method, ParsedHead, RequestHead, MAX_HEADERS_CAP,
};
pub use query::{query_pairs, query_param};
pub use response::{
    is_valid_header_name, is_valid_header_value, reason, write_response, write_response_head,
};

/// The value of an ASCII hex digit (chunk sizes, percent escapes).
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
