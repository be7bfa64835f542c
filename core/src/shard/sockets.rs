//! What the shard tells of its sockets (their handshake, what `fetch_sockets` carries), and
//! the server's disconnect, for the API and for requests from the mesh alike.

use super::Shard;
use crate::id::SocketId;
use crate::mesh::SocketInfo;
use crate::socketio::{js_date, DisconnectReason, SocketHandshake};

impl Shard {
    /// A socket's handshake, as Node's `socket.handshake` (`None` once it is forgotten).
    pub(crate) fn socket_handshake(&self, sk: SocketId) -> Option<SocketHandshake> {
        let s = self.sio.socket(sk)?;
        let hs = self.engine.handshake(s.session);
        let issued = self.wall_ms(s.extra.created);
        let headers = hs.map(|h| h.headers.clone()).unwrap_or_default();
        Some(SocketHandshake {
            time: js_date(issued),
            address: hs.map_or_else(String::new, |h| h.address.ip().to_string()),
            xdomain: headers.get("origin").is_some(),
            headers,
            secure: false,
            issued,
            url: hs.map_or_else(String::new, |h| h.url.to_string()),
            query: hs.map(|h| h.query.clone()).unwrap_or_default(),
            auth: serde_json::from_slice(&s.extra.auth).unwrap_or_default(),
        })
    }

    /// What `fetch_sockets` tells of a socket.
    pub(crate) fn socket_info(&self, sk: SocketId) -> Option<SocketInfo> {
        let s = self.sio.socket(sk)?;
        Some(SocketInfo {
            id: s.id.to_string(),
            nsp: self.sio.name(s.ns).to_owned(),
            handshake: self.socket_handshake(sk)?,
            rooms: self.sio.rooms_of(sk),
            data: (s.extra.data.as_ref()).map_or(serde_json::Value::Null, |d| d.to_json()),
        })
    }

    /// The server disconnects a socket (the client sees "io server disconnect"); with
    /// `close`, every socket of its connection, and the connection.
    pub(crate) fn disconnect_by_server(&mut self, sk: SocketId, close: bool) {
        let Some(si) = self.sio.socket(sk).map(|s| s.session) else {
            return;
        };
        let sockets = match close {
            true => self.sio.sockets_of(si),
            false => std::iter::once(sk).collect(),
        };
        for sk in sockets {
            self.disconnect_socket(sk, DisconnectReason::ServerNamespaceDisconnect, true);
        }
        if close {
            self.close_client(si, DisconnectReason::ForcedServerClose);
        }
    }
}
