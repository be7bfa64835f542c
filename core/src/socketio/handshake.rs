//! A socket's handshake, as Node's `socket.handshake` has it.

use serde::{Deserialize, Serialize};

use crate::pairs::Pairs;

/// The request that opened a socket's connection and the auth object of its CONNECT
/// (Node's `socket.handshake`), owned, to keep or send anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketHandshake {
    /// Headers of the request that opened the Engine.IO session (lower-case names).
    pub headers: Pairs,
    /// When the socket was made (its CONNECT came), as JavaScript's `Date.prototype.toString`
    /// writes it (UTC).
    pub time: String,
    /// The client's address (IP only, as Node's `remoteAddress`).
    pub address: String,
    /// Whether the request came from another origin (it had an `Origin` header).
    pub xdomain: bool,
    /// Whether the connection is TLS.
    pub secure: bool,
    /// When the socket was made, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The request target (path and query).
    pub url: String,
    /// Query parameters of that request.
    pub query: Pairs,
    /// The CONNECT packet's auth object (`{}` when the client sent none).
    pub auth: serde_json::Value,
}

pub(crate) use crate::date::js_date;

#[cfg(test)]
mod tests {
    use super::js_date;

    #[test]
    fn dates_as_javascript_writes_them() {
        assert_eq!(
            js_date(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // new Date(1796000705000).toString() with TZ=UTC
        assert_eq!(
            js_date(1_796_000_705_000),
            "Mon Nov 30 2026 01:05:05 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            js_date(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }
}
