//! Pure codecs: HTTP/1.1 heads, WebSocket frames, Engine.IO and Socket.IO packets.
pub mod eio;
pub mod http;
pub mod sio;
pub mod ws;

/// Formats `n` in decimal at the end of `buf`, returning the digits: the one integer
/// formatter of the codecs (ack ids, attachment counts, error codes, lengths).
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    // u64::MAX has 20 digits, so `i` never goes below 0.
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}
