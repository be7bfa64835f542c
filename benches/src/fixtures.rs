//! Inputs of the codec benchmarks, shaped like what the official clients send.

use bytes::Bytes;
use corelay_core::wire::ws::{self, OpCode};

/// A long-polling GET of an open session, as a browser's `socket.io-client` sends it.
pub const POLLING_GET: &str = "GET /socket.io/?EIO=4&transport=polling&t=PHxk3b1&sid=Hs3bH0tjBqQmN9xYz2Wd HTTP/1.1\r\n\
Host: chat.example.com\r\n\
Connection: keep-alive\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Accept: */*\r\n\
Origin: https://chat.example.com\r\n\
Referer: https://chat.example.com/room/42\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: io=Hs3bH0tjBqQmN9xYz2Wd; theme=dark\r\n\
\r\n";

/// A WebSocket upgrade request, as a browser's `socket.io-client` sends it.
pub const WS_UPGRADE: &str = "GET /socket.io/?EIO=4&transport=websocket&sid=Hs3bH0tjBqQmN9xYz2Wd HTTP/1.1\r\n\
Host: chat.example.com\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: https://chat.example.com\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: io=Hs3bH0tjBqQmN9xYz2Wd; theme=dark\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// The masking key of every client frame built here.
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// `len` bytes of printable ASCII (valid UTF-8, no JSON escapes).
pub fn ascii(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// `len` bytes of every value.
pub fn binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// A masked client frame carrying `payload` whole (FIN set).
pub fn client_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    ws::encode_client_frame(opcode, true, payload, MASK)
}

/// A Socket.IO EVENT as a client sends it: `2["chat message",{...}]`.
pub fn event_text() -> Bytes {
    Bytes::from_static(
        br#"2["chat message",{"user":"ada","room":"general","text":"hello everyone, how is the benchmark going?","ts":1718000000000}]"#,
    )
}

/// A Socket.IO BINARY_EVENT with one attachment, as a client sends it (the attachment
/// follows in a binary frame).
pub fn binary_event_text() -> Bytes {
    Bytes::from_static(
        br#"51-["upload",{"name":"avatar.png","size":1024},{"_placeholder":true,"num":0}]"#,
    )
}

/// A polling POST body: `count` Engine.IO message packets joined by the record separator.
pub fn polling_body(count: usize) -> Bytes {
    let mut body = Vec::new();
    for i in 0..count {
        if i > 0 {
            body.push(corelay_core::wire::eio::SEPARATOR);
        }
        body.extend_from_slice(b"4");
        body.extend_from_slice(&event_text());
    }
    body.into()
}
