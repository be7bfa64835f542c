//! Why a socket left, why an acknowledgement did not come, why an emit was refused.

use crate::engine::CloseReason;

/// Why a socket left, in the words of the Node server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server called `disconnect` on the socket.
    ServerNamespaceDisconnect,
    /// The client called `disconnect` on the socket.
    ClientNamespaceDisconnect,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The connection was closed.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// The client sent a packet that is not Engine.IO.
    ParseError,
    /// The server closed the connection after invalid Socket.IO input.
    ForcedClose,
    /// The server closed the connection (an invalid packet order, or a timeout).
    ForcedServerClose,
}

impl DisconnectReason {
    /// The reason string of the Node server.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::ForcedServerClose => "forced server close",
        }
    }
}

/// The sockets of a session that ends leave with the session's reason.
impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::ServerShuttingDown => DisconnectReason::ServerShuttingDown,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::ForcedClose => DisconnectReason::ForcedClose,
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an acknowledgement did not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout.
    #[error("operation has timed out")]
    Timeout,
    /// The socket left before it answered.
    #[error("socket has been disconnected")]
    Disconnected,
}

/// Why an emit was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments could not be serialized.
    #[error("arguments could not be serialized: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket has left.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The shard is lent to a handler (a [`SocketRef`](crate::SocketRef) used inside a
    /// synchronous handler): use the [`Socket`](crate::Socket) the handler was given.
    #[error("the shard is lent to a handler: use the Socket it was given")]
    InUse,
    /// The event name is reserved.
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
}
