//! Pure codecs: HTTP/1.1 heads, WebSocket frames, Engine.IO and Socket.IO packets.
pub mod eio;
pub mod http;
pub(crate) mod json;
pub mod sio;
pub mod ws;

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
