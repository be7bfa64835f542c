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

/// A float as JavaScript's `Number.prototype.toString` writes it (shortest round-trip
/// digits; exponent form below 1e-6 and from 1e21), `nan` / `inf` for those values (with
/// a `-` before `inf` when negative). `-0` is `0`, as in JavaScript.
pub(crate) fn push_js_number(out: &mut String, f: f64, nan: &str, inf: &str) {
    if f.is_nan() {
        out.push_str(nan);
        return;
    }
    if f.is_infinite() {
        if f < 0.0 && inf != "null" {
            out.push('-');
        }
        out.push_str(inf);
        return;
    }
    if f == 0.0 {
        out.push('0');
        return;
    }
    if f < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` writes the shortest digits that read back exactly: `d[.ddd]e<exp>`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    // The value is 0.d1d2...dk * 10^n.
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if n > 0 { '+' } else { '-' });
        out.push_str(Decimal::new((n - 1).unsigned_abs()).as_str());
    }
}

/// A number as JavaScript's `Number.prototype.toString` spells it (ECMA-262
/// Number::toString): the shortest digits that read back as `f`, in positional notation from
/// 1e-7 up to 1e21 and in exponent notation outside; `NaN`, `Infinity`, `-Infinity`.
pub fn js_number(f: f64) -> String {
    let mut out = String::with_capacity(24);
    push_js_number(&mut out, f, "NaN", "Infinity");
    out
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
