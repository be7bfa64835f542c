//! Server settings, named and defaulted as in the Node `socket.io` / `engine.io` servers.

use std::time::Duration;

mod cookie;
mod cors;

pub use cookie::{Cookie, CookiePriority, SameSite};
pub use cors::{Cors, CorsOrigin, OriginFn, OriginMatch};

/// How Socket.IO packets are written on the wire (Node's `parser` option): every client of
/// the server must use the same one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Parser {
    /// The default parser (`socket.io-parser`): JSON text, binary values as attachments.
    #[default]
    Json,
    /// `socket.io-msgpack-parser`: one msgpack binary message per packet, binary values
    /// inside it.
    Msgpack,
}

/// The two Engine.IO transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::Websocket => "websocket",
        }
    }

    /// Parses the `transport` query parameter.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::Websocket),
            _ => None,
        }
    }
}

/// Settings of a server. Field names are the snake_case forms of the Node server's options,
/// and the defaults are its defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Path the server answers under (`/socket.io/`; a bare Engine.IO server uses `/engine.io/`).
    pub path: String,
    /// Interval between server pings (25 s).
    pub ping_interval: Duration,
    /// How long to wait for the pong after a ping (20 s).
    pub ping_timeout: Duration,
    /// How long an upgrade to WebSocket may take (10 s).
    pub upgrade_timeout: Duration,
    /// Largest message or polling body accepted, in bytes (1e6); sent to clients as `maxPayload`.
    pub max_http_buffer_size: usize,
    /// Allowed transports (polling and websocket).
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions may upgrade to WebSocket (true).
    pub allow_upgrades: bool,
    /// How long a client may stay without joining a namespace (45 s).
    pub connect_timeout: Duration,
    /// CORS answers; `None` sends no CORS headers (the default).
    pub cors: Option<Cors>,
    /// A cookie with the session id, set by the handshake; `None` (the default) sets none.
    pub cookie: Option<Cookie>,
    /// How long a server-closed polling session waits for the GET that carries the close
    /// packet (30 s, the `closeTimeout` of the Node polling transport).
    pub close_timeout: Duration,
    /// Largest request head accepted, in bytes (16 KiB, Node's `maxHeaderSize`).
    pub max_header_size: usize,
    /// Most header lines in a request head (Node allows 2000; 100 here).
    pub max_headers: usize,
    /// Most binary attachments in one Socket.IO packet (10).
    pub max_attachments: usize,
    /// The Socket.IO parser (`parser`): [`Parser::Json`] by default.
    pub parser: Parser,
    /// Bytes that may wait in one connection's send queue before the session is closed as a
    /// slow reader (16 MiB). Node has no limit; this bound keeps memory finite.
    pub max_send_buffer: usize,
    /// Most packets accepted in one polling POST body (1000).
    pub max_packets_per_payload: usize,
    /// Whether a child of a dynamic namespace is forgotten once its last socket left
    /// (false).
    pub cleanup_empty_child_namespaces: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: "/socket.io/".to_owned(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_http_buffer_size: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::Websocket],
            allow_upgrades: true,
            connect_timeout: Duration::from_millis(45_000),
            cors: None,
            cookie: None,
            close_timeout: Duration::from_millis(30_000),
            max_header_size: 16 * 1024,
            max_headers: 100,
            max_attachments: 10,
            parser: Parser::Json,
            max_send_buffer: 16 * 1024 * 1024,
            max_packets_per_payload: 1000,
            cleanup_empty_child_namespaces: false,
        }
    }
}

impl Config {
    /// The path with exactly one trailing slash, as the Node server normalises it.
    pub(crate) fn normalized_path(&self) -> String {
        let trimmed = self.path.trim_end_matches('/');
        format!("{trimmed}/")
    }
}
