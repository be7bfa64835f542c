//! Tests of the WebSocket codec: decoding and its rules, encoding and masking, and
//! property tests of both.

use super::*;
use proptest::prelude::*;

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    encode_client_frame(opcode, fin, payload, MASK)
}

/// Decodes everything in `bytes` at once, collecting messages until `Ok(None)`.
fn decode_all(dec: &mut Decoder, bytes: &[u8]) -> Result<Vec<Message>, WsError> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(m) = dec.decode(&mut buf)? {
        out.push(m);
    }
    Ok(out)
}

fn decode_one(bytes: &[u8]) -> Result<Option<Message>, WsError> {
    Decoder::new(1 << 20).decode(&mut BytesMut::from(bytes))
}

fn err_of(bytes: &[u8]) -> WsError {
    decode_one(bytes).expect_err("frame should be refused")
}

fn concat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

mod decode;
mod encode;
mod props;
