//! Request bodies: framed by `Content-Length` or by `Transfer-Encoding:
//! chunked`, decoded whole by [`BodyDecoder`].
//!
//! Refused ([`BodyError`]): a body over the configured limit (as soon as its
//! length or a chunk size says so), and chunked framing that is malformed or
//! whose overhead passes [`MAX_CHUNK_LINE`], [`MAX_CHUNK_EXTENSIONS`] or
//! [`MAX_TRAILER_BYTES`]. Chunk extensions and trailers are read and ignored.

use bytes::{Buf, Bytes, BytesMut};

use super::{hex_value, RequestHead};
use crate::wire::Decode;

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
///   removed from the front of `buf`; what follows is the next request. A
///   body of known length found whole in `buf` is split off it without
///   copying.
/// * `Ok(None)`: more bytes are needed; all of `buf` has been used, body
///   bytes moving into the decoder.
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

/// How the body is delimited, and how much of it is left.
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
