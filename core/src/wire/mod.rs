//! Pure codecs: HTTP/1.1 heads, WebSocket frames, Engine.IO and Socket.IO packets.
pub mod eio;
pub mod http;
pub mod sio;
pub mod ws;
