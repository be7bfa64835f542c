//! Pure codecs: HTTP/1.1 heads and bodies, WebSocket frames, Engine.IO and Socket.IO packets.
//!
//! Every codec here works on caller-owned buffers: no I/O, no clock, no panic on any input.
//! The incremental decoders (of a byte stream that arrives in pieces) all follow one
//! convention, [`Decode`]: [`http::HeadDecoder`], [`http::BodyDecoder`] and [`ws::Decoder`].
//! Whole-message decoders ([`eio::decode_text`], [`eio::decode_payload`], [`sio::decode`])
//! take what their transport already delimited.

use bytes::BytesMut;

pub mod eio;
pub mod http;
pub(crate) mod json;
pub mod sio;
pub mod ws;

/// The "need more bytes" convention of every incremental decoder in [`wire`](self), the one
/// of `tokio_util::codec::Decoder`: the caller appends what it reads to a buffer it owns and
/// calls [`decode`](Decode::decode) until it returns `Ok(None)`.
///
/// * `Ok(Some(item))`: one item is complete and its bytes have been removed from the front
///   of `buf`; whatever follows it stays in `buf` (call again).
/// * `Ok(None)`: more bytes are needed. `buf` holds what the decoder has not used yet: a
///   decoder may have moved fully processed bytes from `buf` into its own state (a body
///   being assembled, a fragmented message), never the other way round.
/// * `Err(e)`: the input is malformed or over a limit, and the connection is to be refused
///   or closed; what the decoder does if called again is up to each decoder.
///
/// No input makes a decoder panic.
pub trait Decode {
    /// What one successful call yields.
    type Item;
    /// Why the input was refused.
    type Error;

    /// Decodes at most one item from the front of `buf`, as the [trait docs](Decode) say.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error>;
}

/// A `u64` written in decimal, held on the stack: the one integer formatter of the codecs
/// (status codes, lengths, ack ids, attachment counts, placeholder numbers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decimal {
    digits: [u8; 20],
    /// Where the digits start in `digits` (they end at its end).
    start: u8,
}

impl Decimal {
    /// `n` in decimal, without sign, leading zeros or separators.
    pub(crate) fn new(mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        // u64::MAX has 20 digits, so `i` never goes below 0.
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return Decimal {
                    digits,
                    start: i as u8,
                };
            }
        }
    }

    /// The ASCII digits.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.digits[usize::from(self.start)..]
    }

    /// The digits as a string.
    pub(crate) fn as_str(&self) -> &str {
        // ASCII digits only: always UTF-8.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn decimal_matches_display() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            12345,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(Decimal::new(n).as_str(), n.to_string());
            assert_eq!(Decimal::new(n).as_bytes(), n.to_string().as_bytes());
        }
    }
}
