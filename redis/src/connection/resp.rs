//! RESP2 framing: where a frame ends, what it holds, and how a command is written.
//!
//! The frames themselves are decoded and encoded by the `redis-protocol` crate (sans-IO, built
//! without its tokio `codec` feature). Its decoder re-parses the whole buffer on every call and
//! recurses once per nested array, so it is only ever handed one complete frame: [`Framer`]
//! first finds where that frame ends, resumably (each byte is scanned once however the reads are
//! split) and with bounds, refusing:
//!
//! - a header line (`+`, `-`, `:`, `$`, `*`) longer than [`MAX_LINE`];
//! - a bulk string longer than [`MAX_BULK`] (Redis' own `proto-max-bulk-len` default, 512 MiB);
//! - arrays nested deeper than [`MAX_DEPTH`];
//! - a frame, complete or not, larger than [`MAX_FRAME`];
//! - any type byte RESP2 does not define (RESP3 included: corelay never sends `HELLO 3`).

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame;

/// The longest header line (simple string, error, integer, length), CRLF excluded: 64 KiB.
pub const MAX_LINE: usize = 64 * 1024;
/// The longest bulk string: 512 MiB, Redis' default `proto-max-bulk-len`.
pub const MAX_BULK: usize = 512 * 1024 * 1024;
/// Arrays nested deeper than this are refused (Redis replies nest 3 or 4 deep at most).
pub const MAX_DEPTH: usize = 32;
/// The most bytes one frame may span, and so the bound on the read buffer: one bulk string of
/// [`MAX_BULK`] plus 1 MiB of framing around it.
pub const MAX_FRAME: usize = MAX_BULK + 1024 * 1024;

/// A value Redis replied with (RESP2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`: a simple string.
    Status(Bytes),
    /// `:42`.
    Integer(i64),
    /// `$3\r\nfoo`: a binary-safe string.
    Bulk(Bytes),
    /// `*N`: an array.
    Array(Vec<Reply>),
    /// `$-1` or `*-1`.
    Nil,
}

impl Reply {
    /// The bytes of a status or bulk string.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Reply::Status(b) | Reply::Bulk(b) => Some(b),
            _ => None,
        }
    }
}

/// One decoded frame: a reply value, or an error reply (`-ERR ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    Value(Reply),
    Error(String),
}

/// Why the bytes from Redis are not RESP2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A byte where a frame type (`+ - : $ *`) was expected.
    #[error("invalid RESP2 type byte 0x{0:02x}")]
    TypeByte(u8),
    /// A header line longer than [`MAX_LINE`].
    #[error("RESP2 header line longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// A length or integer that does not parse, or a negative length other than -1.
    #[error("invalid RESP2 length or integer {0:?}")]
    Number(String),
    /// A bulk string longer than [`MAX_BULK`].
    #[error("RESP2 bulk string of {0} bytes exceeds {MAX_BULK}")]
    BulkTooLong(i64),
    /// A bulk string not followed by CRLF.
    #[error("RESP2 bulk string not terminated by CRLF")]
    BulkTerminator,
    /// Arrays nested deeper than [`MAX_DEPTH`].
    #[error("RESP2 arrays nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A frame larger than [`MAX_FRAME`] (the read buffer's bound).
    #[error("RESP2 frame larger than {MAX_FRAME} bytes")]
    FrameTooLarge,
    /// `redis-protocol` refused a frame the framer accepted (e.g. an error that is not UTF-8).
    #[error("invalid RESP2 frame: {0}")]
    Decode(String),
}

/// Finds where the frame at the start of a buffer ends, resuming where the last call stopped.
///
/// The buffer handed to [`Framer::next`] must be the same one, grown at its end, until a frame
/// is returned; the caller then removes that frame's bytes and the framer starts afresh.
#[derive(Debug, Default)]
pub(crate) struct Framer {
    /// Start of the next element not yet scanned.
    pos: usize,
    /// Elements still expected in each open array, outermost first.
    open: Vec<u64>,
}

impl Framer {
    /// The length of the first frame of `buf`, `None` if it is incomplete.
    pub(crate) fn next(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        loop {
            let Some(&kind) = buf.get(self.pos) else {
                return Ok(None);
            };
            let start = self.pos + 1;
            let window = &buf[start..buf.len().min(start + MAX_LINE + 2)];
            let Some(line_len) = window.windows(2).position(|w| w == b"\r\n") else {
                if window.len() >= MAX_LINE + 2 {
                    return Err(ProtocolError::LineTooLong);
                }
                return Ok(None);
            };
            let line = &buf[start..start + line_len];
            let after = start + line_len + 2;
            match kind {
                b'+' | b'-' => self.pos = after,
                b':' => {
                    number(line)?;
                    self.pos = after;
                }
                b'$' => match number(line)? {
                    -1 => self.pos = after,
                    len if len < 0 => return Err(ProtocolError::Number(lossy(line))),
                    len if len as u64 > MAX_BULK as u64 => {
                        return Err(ProtocolError::BulkTooLong(len))
                    }
                    len => {
                        let end = after + len as usize;
                        if end > MAX_FRAME {
                            return Err(ProtocolError::FrameTooLarge);
                        }
                        match buf.get(end..end + 2) {
                            None => return Ok(None),
                            Some(b"\r\n") => self.pos = end + 2,
                            Some(_) => return Err(ProtocolError::BulkTerminator),
                        }
                    }
                },
                b'*' => match number(line)? {
                    -1 | 0 => self.pos = after,
                    n if n < 0 => return Err(ProtocolError::Number(lossy(line))),
                    n => {
                        if self.open.len() >= MAX_DEPTH {
                            return Err(ProtocolError::TooDeep);
                        }
                        self.open.push(n as u64);
                        self.pos = after;
                        continue;
                    }
                },
                other => return Err(ProtocolError::TypeByte(other)),
            }
            // One element complete: close every array it completes.
            loop {
                match self.open.last_mut() {
                    None => {
                        let end = self.pos;
                        self.pos = 0;
                        return Ok(Some(end));
                    }
                    Some(remaining) => {
                        *remaining -= 1;
                        if *remaining > 0 {
                            break;
                        }
                        self.open.pop();
                    }
                }
            }
        }
    }
}

fn number(line: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ProtocolError::Number(lossy(line)))
}

fn lossy(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(64)]).into_owned()
}

/// Decodes one complete frame, as delimited by [`Framer`].
pub(crate) fn decode(frame: Bytes) -> Result<Frame, ProtocolError> {
    match redis_protocol::resp2::decode::decode_bytes(&frame) {
        Ok(Some((frame, _))) => Ok(convert(frame)),
        Ok(None) => Err(ProtocolError::Decode("incomplete frame".into())),
        Err(e) => Err(ProtocolError::Decode(e.to_string())),
    }
}

fn convert(frame: BytesFrame) -> Frame {
    match frame {
        BytesFrame::Error(message) => Frame::Error(message.to_string()),
        frame => Frame::Value(reply(frame)),
    }
}

fn reply(frame: BytesFrame) -> Reply {
    match frame {
        BytesFrame::SimpleString(b) => Reply::Status(b),
        // An error nested in an array (EXEC, for example) is kept as its text.
        BytesFrame::Error(s) => Reply::Status(Bytes::copy_from_slice(s.as_bytes())),
        BytesFrame::Integer(i) => Reply::Integer(i),
        BytesFrame::BulkString(b) => Reply::Bulk(b),
        BytesFrame::Array(items) => Reply::Array(items.into_iter().map(reply).collect()),
        BytesFrame::Null => Reply::Nil,
    }
}

/// Appends a command (an array of bulk strings) to `out`.
pub(crate) fn encode_command(out: &mut BytesMut, args: &[Bytes]) {
    let frame = BytesFrame::Array(args.iter().cloned().map(BytesFrame::BulkString).collect());
    // `extend_encode` grows the buffer to the frame's length before writing, so it can not run
    // out of room; an array of bulk strings has no other way to fail.
    let written = redis_protocol::resp2::encode::extend_encode(out, &frame, false);
    debug_assert!(
        written.is_ok(),
        "encoding a RESP2 command failed: {written:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_len(bytes: &[u8]) -> Result<Option<usize>, ProtocolError> {
        Framer::default().next(bytes)
    }

    #[test]
    fn frames() {
        assert_eq!(frame_len(b"+OK\r\n+x"), Ok(Some(5)));
        assert_eq!(frame_len(b"$3\r\nfoo\r\n"), Ok(Some(9)));
        assert_eq!(frame_len(b"$-1\r\n"), Ok(Some(5)));
        assert_eq!(frame_len(b"*0\r\n"), Ok(Some(4)));
        assert_eq!(frame_len(b"*2\r\n*1\r\n:1\r\n$1\r\na\r\n:9"), Ok(Some(19)));
        assert_eq!(frame_len(b"*2\r\n:1\r\n"), Ok(None));
        assert_eq!(frame_len(b"$3\r\nfoo\r"), Ok(None));
    }

    #[test]
    fn refusals() {
        assert_eq!(frame_len(b"!3\r\n"), Err(ProtocolError::TypeByte(b'!')));
        assert_eq!(
            frame_len(b"$3\r\nfooXX"),
            Err(ProtocolError::BulkTerminator)
        );
        assert!(matches!(
            frame_len(b"$-2\r\n"),
            Err(ProtocolError::Number(_))
        ));
        assert!(matches!(
            frame_len(b":x\r\n"),
            Err(ProtocolError::Number(_))
        ));
        assert!(matches!(
            frame_len(b"$536870913\r\n"),
            Err(ProtocolError::BulkTooLong(_))
        ));
        assert_eq!(
            frame_len(&b"*1\r\n".repeat(40)),
            Err(ProtocolError::TooDeep)
        );
        let long = [b"+".as_slice(), &vec![b'a'; MAX_LINE + 2]].concat();
        assert_eq!(frame_len(&long), Err(ProtocolError::LineTooLong));
    }

    #[test]
    fn resumes_across_reads() {
        let bytes = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n";
        let mut framer = Framer::default();
        for end in 0..bytes.len() {
            assert_eq!(framer.next(&bytes[..end]), Ok(None), "at {end}");
        }
        assert_eq!(framer.next(bytes), Ok(Some(bytes.len())));
    }

    #[test]
    fn encodes_commands() {
        let mut out = BytesMut::new();
        encode_command(
            &mut out,
            &[Bytes::from_static(b"GET"), Bytes::from_static(b"k")],
        );
        assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }

    #[test]
    fn decodes() {
        let frame = decode(Bytes::from_static(b"*2\r\n:1\r\n$-1\r\n")).unwrap();
        assert_eq!(
            frame,
            Frame::Value(Reply::Array(vec![Reply::Integer(1), Reply::Nil]))
        );
        let frame = decode(Bytes::from_static(b"-ERR x\r\n")).unwrap();
        assert_eq!(frame, Frame::Error("ERR x".into()));
    }
}
